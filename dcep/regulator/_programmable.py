"""What the regulator reads of programmable money: pending payments and voucher campaigns.

A :class:`ProgrammableView` follows a ledger or reads a store, as
:class:`~dcep.regulator.RegulatorView` does, and never the ledger's state.
A pending payment is open from its ``PayPending`` entry until a ``RESERVED``
posting with its id brings its account back to zero (posted, voided or
expired: the journal says which entry, whatever the cause); a voucher's
spends are its ``SpendVoucher`` entries, placed by the region of the
merchant's bank (the first three parts of the bank's institution code).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, final

from dcep.core._records import AccountKind, LedgerEntry, PendingPayment, Posting
from dcep.errors import JournalError, Reason
from dcep.instructions._encoding import SignedInstruction
from dcep.instructions._kinds import (
    AuthoriseBank,
    OpenCorporateWallet,
    OpenSubWallet,
    OpenWallet,
    PayPending,
    SpendVoucher,
)
from dcep.journal._entries import GENESIS_HASH, JournalEntry, chain_hash
from dcep.journal._store import Store
from dcep.values._codes import InstitutionCode
from dcep.values._crypto import Address

__all__ = ["ProgrammableView"]


class _EntrySource(Protocol):
    @property
    def entry_count(self) -> int: ...
    def subscribe(self, on_entry: Callable[[LedgerEntry], None]) -> Callable[[], None]: ...


@final
class ProgrammableView:
    """Pending payments outstanding and voucher spend by region, from the journal alone.

    >>> import dcep
    >>> view = dcep.regulator.ProgrammableView()
    >>> view.pending_outstanding()
    []
    """

    __slots__ = ("_bank_codes", "_entry_count", "_operators", "_pending", "_spends")

    def __init__(self) -> None:
        self._entry_count = 0
        self._bank_codes: dict[Address, InstitutionCode] = {}
        self._operators: dict[Address, Address] = {}
        #: payer ‖ id -> the pending payment, while its reserved account is not zero.
        self._pending: dict[tuple[Address, int], PendingPayment] = {}
        #: (issuer, voucher id, region) -> fen spent there.
        self._spends: dict[tuple[Address, int, str], int] = {}

    @classmethod
    def from_store(cls, store: Store) -> ProgrammableView:
        """A view of every entry in ``store``, checking the hash chain as it reads."""
        view = cls()
        previous_hash = GENESIS_HASH
        for number, body, stored_hash in store.read_entries(0):
            if chain_hash(previous_hash, body) != stored_hash:
                raise JournalError(
                    Reason.JOURNAL_CHAIN_BROKEN, "stored hash does not match", entry=number
                )
            entry = JournalEntry.decode(body, previous_hash)
            signed = SignedInstruction.from_bytes(entry.envelope)
            view._ingest(number, entry.accepted_at_us, signed, entry.postings)
            previous_hash = stored_hash
        return view

    def follow(self, ledger: _EntrySource) -> Callable[[], None]:
        """Subscribe to ``ledger``, which must hold exactly the entries the view has read."""
        if ledger.entry_count != self._entry_count:
            raise JournalError(
                Reason.JOURNAL_CHAIN_BROKEN,
                f"the view holds {self._entry_count} entries and the ledger "
                f"{ledger.entry_count}: read its store first",
                entry=min(ledger.entry_count, self._entry_count),
            )
        return ledger.subscribe(self.add_entry)

    def add_entry(self, entry: LedgerEntry) -> None:
        """Take one entry from a ledger (the subscriber callback)."""
        receipt = entry.receipt
        self._ingest(receipt.entry_number, receipt.accepted_at_us, entry.signed, receipt.postings)

    def _ingest(
        self, number: int, time_us: int, signed: SignedInstruction, postings: tuple[Posting, ...]
    ) -> None:
        if number != self._entry_count:
            raise JournalError(
                Reason.JOURNAL_CHAIN_BROKEN, "an entry is out of order", entry=number
            )
        instruction = signed.instruction
        signer = signed.signer.address
        if isinstance(instruction, AuthoriseBank):
            self._bank_codes[instruction.bank_key.address] = instruction.code
        elif isinstance(instruction, OpenWallet | OpenCorporateWallet):
            self._operators[instruction.wallet_key.address] = signer
        elif isinstance(instruction, OpenSubWallet):
            parent_operator = self._operators.get(instruction.parent)
            if parent_operator is not None:
                self._operators[instruction.sub_wallet_key.address] = parent_operator
        elif isinstance(instruction, SpendVoucher):
            operator = self._operators.get(instruction.payee)
            code = self._bank_codes.get(operator) if operator is not None else None
            region = f"{code.agency}.{code.country}.{code.region}" if code else "unknown"
            key = (instruction.issuer, instruction.voucher_id, region)
            self._spends[key] = self._spends.get(key, 0) + instruction.amount.fen
        for posting in postings:
            if posting.kind is not AccountKind.RESERVED:
                continue
            held = (posting.owner, int(posting.account_id))
            if posting.delta_fen > 0 and isinstance(instruction, PayPending):
                self._pending[held] = PendingPayment(
                    payer=instruction.payer,
                    id=instruction.id,
                    payee=instruction.payee,
                    amount=instruction.amount,
                    expires_at_us=instruction.expires_at_us,
                    conditions=instruction.conditions,
                    memo=instruction.memo,
                    created_entry=number,
                    created_at_us=time_us,
                )
            elif posting.delta_fen < 0:
                self._pending.pop(held, None)
        self._entry_count += 1

    @property
    def entry_count(self) -> int:
        """How many journal entries the view has read."""
        return self._entry_count

    def pending_outstanding(self, now_us: int | None = None) -> list[PendingPayment]:
        """Pending payments no entry has resolved yet, oldest first.

        With ``now_us``, those that have expired by then are left out: the
        ledger journals an expiry with its next entry, which may not exist yet.
        """
        return sorted(
            (p for p in self._pending.values() if now_us is None or p.expires_at_us > now_us),
            key=lambda pending: pending.created_entry,
        )

    def voucher_spend_by_region(self, issuer: Address | None = None) -> dict[str, int]:
        """Fen spent with vouchers (of ``issuer``, or every issuer), by the merchant's region."""
        totals: dict[str, int] = {}
        for (voucher_issuer, _, region), fen in self._spends.items():
            if issuer is None or voucher_issuer == issuer:
                totals[region] = totals.get(region, 0) + fen
        return dict(sorted(totals.items()))
