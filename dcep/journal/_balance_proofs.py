"""Proof of one wallet's balance, checkable with the central bank's public key alone.

Each snapshot carries a state root that the central bank signs: the Merkle
root over every row of the state (:mod:`._state_root`).  A wallet's row is
one leaf of that tree, holding its address, category, operator and balance, so a
:class:`BalanceProof` is that row, its Merkle path and the signed state
root; :func:`verify_balance_proof` needs nothing else but the central bank's
key and the network id.  The balance is the one at the snapshot's entry
(:attr:`BalanceProof.as_of`), not a later one.
"""

from __future__ import annotations

from typing import final

import attrs

from dcep.core._snapshot import state_rows
from dcep.errors import DcepError, EncodingError, JournalError, Reason, UnknownPartyError
from dcep.journal._state_root import SignedStateRoot, StateRoot, state_leaves
from dcep.journal._store import Store
from dcep.values._commitment import decode_row_leaf
from dcep.values._crypto import ADDRESS_SIZE, Address, VerifyKey
from dcep.values._merkle import InclusionProof, inclusion_proof, leaf_hash, verify_inclusion
from dcep.values._money import Amount

__all__ = ["BalanceProof", "prove_balance", "verify_balance_proof"]

#: The state tree's table of wallets, and where a wallet row keeps address and balance.
_WALLETS = "wallets"
_ADDRESS = 0
_BALANCE = 4


@final
@attrs.frozen
class BalanceProof:
    """That a wallet's row, with its balance, is in a state the central bank signed."""

    #: The wallet's row, as the state tree's leaf (see ``dcep.values._commitment.row_leaf``).
    leaf: bytes = attrs.field(repr=False)
    path: InclusionProof
    state_root: SignedStateRoot

    @property
    def address(self) -> Address:
        """The wallet the proof is about (the address in its row)."""
        address = self._row()[_ADDRESS]
        if not isinstance(address, bytes) or len(address) != ADDRESS_SIZE:
            raise _not_a_wallet_row("its address is not 20 bytes")
        return Address(address)

    @property
    def balance(self) -> Amount:
        """What the wallet held in the signed state."""
        balance = self._row()[_BALANCE]
        if not isinstance(balance, int):
            raise _not_a_wallet_row("its balance is not a number")
        return Amount(balance)

    @property
    def as_of(self) -> StateRoot:
        """The signed state: its entry count and block height say when the balance held."""
        return self.state_root.state

    def _row(self) -> tuple[int | str | bytes | None, ...]:
        table, row = decode_row_leaf(self.leaf)
        if table != _WALLETS or len(row) <= _BALANCE:
            raise _not_a_wallet_row(f"a row of {table!r}")
        return row


def _not_a_wallet_row(why: str) -> EncodingError:
    return EncodingError(
        Reason.ENCODING_MALFORMED, f"the proof's leaf is not a wallet's row: {why}"
    )


def prove_balance(store: Store, wallet: Address) -> BalanceProof:
    """The proof of ``wallet``'s balance in the state of ``store``'s latest snapshot.

    ``JOURNAL_BLOCK_MISMATCH`` if no snapshot is stored yet (take one with
    ``journal.snapshot()``); ``UNKNOWN_WALLET`` if the wallet is not in it.
    Costs a hash per row of the state (the prover's side).
    """
    snapshot = store.latest_snapshot()
    if snapshot is None:
        raise JournalError(
            Reason.JOURNAL_BLOCK_MISMATCH, "no signed state yet: take a snapshot first"
        )
    for index, (table, row) in enumerate(state_rows(snapshot.ledger)):
        if table == _WALLETS and row[_ADDRESS] == wallet:
            leaves = state_leaves(snapshot.ledger)
            return BalanceProof(
                leaf=leaves[index],
                path=inclusion_proof([leaf_hash(leaf) for leaf in leaves], index),
                state_root=SignedStateRoot.decode(snapshot.certificate),
            )
    raise UnknownPartyError(
        Reason.UNKNOWN_WALLET,
        f"{wallet} is not in the latest signed state",
        party=str(wallet),
    )


def verify_balance_proof(
    proof: BalanceProof, central_bank_key: VerifyKey, network_id: bytes
) -> bool:
    """Whether the proof shows its wallet's row in a state the central bank signed.

    Checks the central bank's signature on the state root, that the leaf is
    a wallet's row, and its Merkle path to the root, with nothing but the
    proof, the key and the network id.
    """
    state = proof.state_root.state
    try:
        proof.state_root.verify(central_bank_key, network_id)
        proof.address  # noqa: B018 - decodes the row: a wallet's, or refused
    except DcepError:
        return False
    if proof.path.size != state.row_count:
        return False
    return verify_inclusion(leaf_hash(proof.leaf), proof.path, state.root)
