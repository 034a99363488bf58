"""The central bank's signed root over a whole state, taken with each snapshot.

A block header commits to the balances its block changed; a snapshot needs
more, since recovery restores it without re-executing what it covers, and
whoever can write the file can rewrite its rows (a wallet's key, a frozen
row, a balance).  So each snapshot carries a :class:`SignedStateRoot`: the
Merkle root over every one of its rows (:func:`state_root_of`), bound to the
block and entry it ends on and to the ledger's settings, signed by the
central bank under its own domain tag.  A restored snapshot whose rows give
another root is refused; an inclusion path under the root is a balance
proof (:mod:`dcep.journal._balance_proofs`).
"""

from __future__ import annotations

import struct
from typing import Final, final

import attrs

from dcep.core._snapshot import LedgerSnapshot, state_rows
from dcep.errors import EncodingError, Reason, SignatureError
from dcep.values._commitment import row_leaf, rows_root
from dcep.values._crypto import SIGNATURE_SIZE, SigningKey, VerifyKey, digest, domain_message

__all__ = ["SignedStateRoot", "StateRoot", "settings_digest", "state_leaves", "state_root_of"]

STATE_ROOT_VERSION: Final = 1
_STATE_TAG: Final = b"dcep/v2/state"
_STATE_PERSON: Final = b"dcep.state"
_SETTINGS_PERSON: Final = b"dcep.settings"
_STATE: Final = struct.Struct(">BQ32sQ32s32sQ32s")


def settings_digest(network_id: bytes, policy_text: str) -> bytes:
    """What every header and state root says the ledger runs under: network id and policy."""
    raw = policy_text.encode()
    return digest(len(network_id).to_bytes(4, "big") + network_id + raw, person=_SETTINGS_PERSON)


def state_leaves(snapshot: LedgerSnapshot) -> list[bytes]:
    """The leaves of the state tree: every row of ``snapshot``, in its fixed order."""
    return [row_leaf(table, row) for table, row in state_rows(snapshot)]


def state_root_of(snapshot: LedgerSnapshot) -> tuple[bytes, int]:
    """The Merkle root over every row of ``snapshot``, and how many rows it covers."""
    leaves = state_leaves(snapshot)
    return rows_root(leaves), len(leaves)


def _malformed(message: str) -> EncodingError:
    return EncodingError(Reason.ENCODING_MALFORMED, message)


@final
@attrs.frozen
class StateRoot:
    """What the central bank signs for a snapshot: where it is, and the root of its rows."""

    #: Blocks sealed when the snapshot was taken (it ends on block ``block_height - 1``).
    block_height: int
    last_block_hash: bytes = attrs.field(repr=False)
    #: Entries the state includes (it ends on entry ``entry_count - 1``).
    entry_count: int
    head_hash: bytes = attrs.field(repr=False)
    settings_digest: bytes = attrs.field(repr=False)
    #: How many rows the tree covers (its size, for inclusion proofs).
    row_count: int
    root: bytes = attrs.field(repr=lambda r: r.hex()[:16] + "...")

    def encode(self) -> bytes:
        """The canonical bytes (what is signed)."""
        return _STATE.pack(
            STATE_ROOT_VERSION,
            self.block_height,
            self.last_block_hash,
            self.entry_count,
            self.head_hash,
            self.settings_digest,
            self.row_count,
            self.root,
        )

    @property
    def hash(self) -> bytes:
        """The state root's identity."""
        return digest(self.encode(), person=_STATE_PERSON)

    @classmethod
    def decode(cls, raw: bytes) -> StateRoot:
        """Read what :meth:`encode` wrote; ``ENCODING_MALFORMED`` for anything else."""
        if type(raw) is not bytes or len(raw) != _STATE.size:
            raise _malformed(f"a state root is {_STATE.size} bytes")
        version, *fields = _STATE.unpack(raw)
        if version != STATE_ROOT_VERSION:
            raise EncodingError(
                Reason.ENCODING_UNSUPPORTED_VERSION, f"state root version {version}"
            )
        return cls(*fields)


@final
@attrs.frozen
class SignedStateRoot:
    """A :class:`StateRoot` with the central bank's signature over it."""

    state: StateRoot
    signature: bytes = attrs.field(repr=False)

    @classmethod
    def sign(cls, state: StateRoot, key: SigningKey, network_id: bytes) -> SignedStateRoot:
        """Sign ``state`` for the ledger ``network_id``."""
        return cls(state, key.sign(domain_message(_STATE_TAG, network_id, state.encode())))

    def verify(self, key: VerifyKey, network_id: bytes) -> None:
        """Raise :class:`~dcep.SignatureError` unless ``key`` signed this state root."""
        if len(self.signature) != SIGNATURE_SIZE:
            raise SignatureError(Reason.SIGNATURE_INVALID, "a state root signature is 64 bytes")
        key.verify(domain_message(_STATE_TAG, network_id, self.state.encode()), self.signature)

    def encode(self) -> bytes:
        """The state root's bytes, then the signature: how a snapshot stores it."""
        return self.state.encode() + self.signature

    @classmethod
    def decode(cls, raw: bytes) -> SignedStateRoot:
        """Read what :meth:`encode` wrote."""
        if type(raw) is not bytes or len(raw) != _STATE.size + SIGNATURE_SIZE:
            raise _malformed(f"a signed state root is {_STATE.size + SIGNATURE_SIZE} bytes")
        return cls(StateRoot.decode(raw[: _STATE.size]), raw[_STATE.size :])
