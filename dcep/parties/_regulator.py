"""A supervisor: freezes wallets and, under a journalled warrant, learns who holds one."""

from __future__ import annotations

from typing import final

from dcep.core._records import Receipt
from dcep.instructions._kinds import (
    Disclosure,
    Freeze,
    Unfreeze,
    Warrant,
)
from dcep.ledger._ledger import Ledger
from dcep.parties._signer import Signer
from dcep.values._crypto import Address, SigningKey
from dcep.values._disclosure import CustomerRecord, open_identity

__all__ = ["Regulator"]


@final
class Regulator(Signer):
    """A supervisor: freezes wallets and, under a journalled warrant, learns who holds one.

    Get one from :meth:`CentralBank.appoint_regulator`.
    """

    __slots__ = ("_name",)

    def __init__(self, ledger: Ledger, key: SigningKey, *, name: str) -> None:
        super().__init__(ledger, key)
        self._name = name

    @property
    def name(self) -> str:
        """The regulator's name."""
        return self._name

    def freeze(self, wallet: Address, reason: str) -> Receipt:
        """Stop ``wallet`` paying out; payments to it still settle."""
        return self._submit(lambda id_, seq: Freeze(id_, seq, wallet=wallet, reason=reason))

    def unfreeze(self, wallet: Address, reason: str) -> Receipt:
        """Lift a freeze of ``wallet``."""
        return self._submit(lambda id_, seq: Unfreeze(id_, seq, wallet=wallet, reason=reason))

    def issue_warrant(self, wallet: Address, reason: str) -> int:
        """Ask the operator of ``wallet`` who holds it; returns the warrant's id."""
        receipt = self._submit(lambda id_, seq: Warrant(id_, seq, wallet=wallet, reason=reason))
        return receipt.instruction_id

    def read_disclosure(
        self, disclosure: Disclosure, committed_digest: bytes | None = None
    ) -> CustomerRecord:
        """Open a bank's answer to one of this regulator's warrants.

        With ``committed_digest`` (the ``kyc_digest`` of the wallet's
        OpenWallet instruction, from the journal) the record is also checked
        against what the bank committed to when it opened the wallet.
        """
        return open_identity(disclosure.sealed, self._key, committed_digest)

    def __repr__(self) -> str:
        return f"<Regulator {self._name}>"
