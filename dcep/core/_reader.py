"""What a subscriber may read of the ledger it follows.

The journal, the state commitment and replicas follow a ledger as
subscribers; they read a handful of facts back from it at block boundaries
and drive it during replay.  This narrow interface is all they are given, so
that the ledger's state holders stay private to the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from dcep.core._records import AccountKind, CentralBankInfo, LedgerEntry, Receipt
from dcep.core._snapshot import LedgerSnapshot
from dcep.instructions._encoding import SignedInstruction
from dcep.values._crypto import Address
from dcep.values._policy import Policy

__all__ = ["LedgerReader", "ReplayableLedger"]


class LedgerReader(Protocol):
    """The reads a subscriber may make, in constant time except :meth:`snapshot`."""

    @property
    def network_id(self) -> bytes:
        """The bytes every signature on the ledger is bound to."""

    @property
    def policy(self) -> Policy:
        """The caps and settings the ledger runs under (the journal signs their digest)."""

    @property
    def central_bank(self) -> CentralBankInfo | None:
        """The issuer, once the genesis instruction has been accepted."""

    @property
    def entry_count(self) -> int:
        """How many instructions have been accepted."""

    @property
    def last_entry_time_us(self) -> int:
        """When the last entry was accepted (0 before any)."""

    @property
    def linked_members_due(self) -> int:
        """Members of a linked batch still to come: no block may end before them."""

    def account_balance_fen(self, kind: AccountKind, owner: Address, account_id: str = "") -> int:
        """The balance a posting of ``kind`` on ``owner`` changes; 0 for an unknown account."""

    def lifetime_totals_fen(self) -> tuple[int, int]:
        """(issued, redeemed) in fen."""

    def snapshot(self) -> LedgerSnapshot:
        """The whole state as plain rows."""

    def subscribe(
        self,
        on_entry: Callable[[LedgerEntry], None],
        on_commit: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        """Call ``on_entry`` with every entry accepted from now on; returns an unsubscribe."""


class ReplayableLedger(LedgerReader, Protocol):
    """A ledger a journal may also drive: re-executing stored entries on recovery."""

    def reapply(self, signed: SignedInstruction, accepted_at_us: int) -> Receipt:
        """Apply an instruction a journal says was accepted at ``accepted_at_us``."""
