"""The regulator's view: pseudonymous indexes over the journal, and nothing else.

A :class:`RegulatorView` is built only from journal entries: live, as a
subscriber of a ledger (:meth:`RegulatorView.attach`), or from a store
(:meth:`RegulatorView.from_store`); both feed one ``_ingest``.  It never
reads ledger state, so it could run in another process.

What it keeps is what the registration centre may see without a warrant:
wallets by address (a pseudonym), their category and operating bank, banks
by address and institution code, and every movement of e-CNY as a
:class:`Flow`.  It keeps no identity at all: the KYC commitment, linked
deposit accounts and memos of the instructions it reads are dropped on
ingest, so no query can return them.

Indexes (all ``sortedcontainers``, keyed by ``(time_us, entry number)``):
flows by time; per holder, flows in and flows out with running totals (so a
balance at any moment is one bisection); per bank, the flows of the bank and
of the wallets it operates.  Queries touch only the window they ask for.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from typing import Final, Protocol, TypeVar, cast, final

import attrs
from sortedcontainers import SortedList  # type: ignore[import-untyped]

from dcep._codes import InstitutionCode
from dcep._crypto import Address
from dcep._encoding import SignedInstruction
from dcep._errors import InvalidFieldError, JournalError, Reason, UnknownPartyError
from dcep._instructions import AuthoriseBank, Genesis, Kind, OpenWallet
from dcep._journal_records import GENESIS_HASH, JournalEntry, chain_hash
from dcep._policy import WalletCategory
from dcep._records import AccountKind, Entry, Posting
from dcep._storage import Store

__all__ = ["BankProfile", "Flow", "PartyRole", "RegulatorView", "WalletProfile"]

#: Posting kinds that hold e-CNY; the rest (reserves, deposits, cash) are outside its supply.
_ECNY_ACCOUNTS: Final = frozenset({AccountKind.VAULT, AccountKind.WALLET})
#: Larger than any entry number or time, to close a ``(time, number)`` range.
_END: Final = 2**63

_T = TypeVar("_T")
#: ``(time_us, entry number, running total in fen after the entry)``.
_Row = tuple[int, int, int]


class _Sorted(Protocol[_T]):
    """The part of ``sortedcontainers.SortedList`` the view uses, typed."""

    def add(self, value: _T) -> None: ...
    def bisect_left(self, value: object) -> int: ...
    def __getitem__(self, index: int) -> _T: ...
    def __len__(self) -> int: ...


def _sorted_list() -> _Sorted[_T]:
    return cast("_Sorted[_T]", SortedList())


_RowT = TypeVar("_RowT", tuple[int, int], _Row)


def rows_between(
    rows: _Sorted[_RowT], start: tuple[int, int], end: tuple[int, int]
) -> Iterator[_RowT]:
    """Index rows from ``start`` (inclusive) to ``end`` (exclusive), by ``(time_us, number)``."""
    index = rows.bisect_left(start)
    while index < len(rows) and rows[index][:2] < end:
        yield rows[index]
        index += 1


@enum.unique
class PartyRole(enum.StrEnum):
    """What an address is on the ledger, as far as the journal says."""

    CENTRAL_BANK = "central_bank"
    BANK = "bank"
    WALLET = "wallet"
    UNKNOWN = "unknown"


@final
@attrs.frozen
class Flow:
    """One movement of e-CNY from one holder to another, read from one entry.

    ``kind`` is the instruction's: ``TRANSFER`` (wallet to wallet), ``FUND``
    (bank vault to wallet: money enters circulation from a deposit or cash),
    ``DEFUND`` (wallet to bank: money leaves for a deposit), ``ISSUE``
    (central bank to vault) and ``REDEEM`` (vault to central bank).  ``bank``
    is the bank on one side, where there is one; ``cash`` marks a funding
    paid in cash at the counter.
    """

    entry_number: int
    time_us: int
    kind: Kind
    payer: Address
    payee: Address
    amount_fen: int
    bank: Address | None = None
    cash: bool = False


@final
@attrs.frozen
class WalletProfile:
    """A wallet as the regulator sees it without a warrant: a pseudonym and its class."""

    address: Address
    category: WalletCategory
    operator: Address
    opened_entry: int
    opened_at_us: int


@final
@attrs.frozen
class BankProfile:
    """An authorised operator: its address and public institution code."""

    address: Address
    code: InstitutionCode
    authorised_entry: int
    authorised_at_us: int


class _EntrySource(Protocol):
    @property
    def entry_count(self) -> int: ...
    def subscribe(self, on_entry: Callable[[Entry], None]) -> Callable[[], None]: ...


@final
class AccountIndex:
    """Flows in and out of one holder, each with the running total after it.

    Shared by the view, the tracer and the rules; not part of the public API.
    """

    __slots__ = ("incoming", "outgoing")

    def __init__(self) -> None:
        self.incoming: _Sorted[_Row] = _sorted_list()
        self.outgoing: _Sorted[_Row] = _sorted_list()

    @staticmethod
    def _total_before(rows: _Sorted[_Row], time_us: int, number: int) -> int:
        index = rows.bisect_left((time_us, number))
        return rows[index - 1][2] if index else 0

    def totals_before(self, time_us: int, number: int = 0) -> tuple[int, int]:
        """(total in, total out) over the entries before ``(time_us, number)``."""
        return (
            self._total_before(self.incoming, time_us, number),
            self._total_before(self.outgoing, time_us, number),
        )

    def balance_before(self, time_us: int, number: int = 0) -> int:
        """The holder's balance just before ``(time_us, number)``."""
        total_in, total_out = self.totals_before(time_us, number)
        return total_in - total_out

    @staticmethod
    def before(rows: _Sorted[_Row], end: tuple[int, int], start_us: int) -> Iterator[_Row]:
        """Rows before ``end`` and at or after ``start_us``, newest first."""
        index = rows.bisect_left(end) - 1
        while index >= 0 and rows[index][0] >= start_us:
            yield rows[index]
            index -= 1

    def last_activity_before(self, time_us: int, number: int) -> int | None:
        """When the holder last received or paid before ``(time_us, number)``."""
        times = [
            rows[index - 1][0]
            for rows in (self.incoming, self.outgoing)
            if (index := rows.bisect_left((time_us, number)))
        ]
        return max(times) if times else None


_EMPTY: Final = AccountIndex()
_NO_ROWS: Final[_Sorted[tuple[int, int]]] = _sorted_list()


def _bound(time_us: int | None, default: int) -> tuple[int, int]:
    return (default if time_us is None else time_us, 0)


@final
class RegulatorView:
    """What the regulator sees: pseudonymous flows, indexed, read from the journal only.

    Build it with :meth:`attach` (live) or :meth:`from_store`; both may be
    combined (:meth:`catch_up` a store, then :meth:`follow` its ledger).
    Time windows are half-open, ``[start_us, end_us)``; ``None`` is open.

    Raises :class:`~dcep.JournalError` if entries arrive with a gap or a
    stored hash does not match; lookups of unknown wallets or banks raise
    :class:`~dcep.UnknownPartyError`.
    """

    __slots__ = (
        "_accounts",
        "_bank_index",
        "_banks",
        "_by_time",
        "_central_bank",
        "_entry_count",
        "_flows",
        "_wallets",
    )

    def __init__(self) -> None:
        self._entry_count = 0
        self._central_bank: Address | None = None
        self._banks: dict[Address, BankProfile] = {}
        self._wallets: dict[Address, WalletProfile] = {}
        self._flows: dict[int, Flow] = {}
        self._by_time: _Sorted[tuple[int, int]] = _sorted_list()
        self._accounts: dict[Address, AccountIndex] = {}
        self._bank_index: dict[Address, _Sorted[tuple[int, int]]] = {}

    # -- building ----------------------------------------------------------------

    @classmethod
    def attach(cls, ledger: _EntrySource) -> RegulatorView:
        """A view that follows ``ledger`` from its first entry; the ledger must have none yet.

        For a ledger with history, :meth:`from_store` its store, then :meth:`follow` it.
        """
        view = cls()
        view.follow(ledger)
        return view

    def follow(self, ledger: _EntrySource) -> Callable[[], None]:
        """Subscribe to ``ledger``, which must have exactly the entries the view holds.

        Returns the function that ends the subscription; the view keeps no
        reference to the ledger.
        """
        if ledger.entry_count != self._entry_count:
            raise JournalError(
                Reason.JOURNAL_CHAIN_BROKEN,
                f"the view holds {self._entry_count} entries and the ledger "
                f"{ledger.entry_count}: catch up from its store first",
                entry=min(ledger.entry_count, self._entry_count),
            )
        return ledger.subscribe(self.add_entry)

    @classmethod
    def from_store(cls, store: Store) -> RegulatorView:
        """A view of every entry in ``store``, checking the hash chain as it reads."""
        view = cls()
        view.catch_up(store)
        return view

    def catch_up(self, store: Store) -> int:
        """Read the entries of ``store`` the view does not hold yet; return how many."""
        start = self._entry_count
        rows = store.read_entries(max(start - 1, 0))
        previous_hash = GENESIS_HASH
        if start:
            before = next(rows, None)
            if before is None or before[0] != start - 1:
                raise JournalError(
                    Reason.JOURNAL_CHAIN_BROKEN, "the store is behind the view", entry=start - 1
                )
            previous_hash = before[2]
        read = 0
        for number, body, stored_hash in rows:
            # The chain is checked before the body is parsed: a changed byte is named as such.
            if chain_hash(previous_hash, body) != stored_hash:
                raise JournalError(
                    Reason.JOURNAL_CHAIN_BROKEN, "stored hash does not match", entry=number
                )
            entry = JournalEntry.decode(body, previous_hash)
            if entry.number != number:
                raise JournalError(Reason.JOURNAL_CHAIN_BROKEN, "out of order", entry=number)
            signed = SignedInstruction.from_bytes(entry.envelope)
            self._ingest(number, entry.accepted_at_us, signed, entry.postings)
            previous_hash = stored_hash
            read += 1
        return read

    def add_entry(self, entry: Entry) -> None:
        """Take one entry from a ledger (the subscriber callback)."""
        receipt = entry.receipt
        self._ingest(receipt.entry_number, receipt.accepted_at_us, entry.signed, receipt.postings)

    def _ingest(
        self, number: int, time_us: int, signed: SignedInstruction, postings: tuple[Posting, ...]
    ) -> None:
        if number < self._entry_count:
            return  # already read, from a store that overlapped a live feed
        if number > self._entry_count:
            raise JournalError(
                Reason.JOURNAL_CHAIN_BROKEN, "an entry is missing", entry=self._entry_count
            )
        instruction = signed.instruction
        signer = signed.signer.address
        # Only these three kinds say who is who; the rest of each is dropped here.
        if isinstance(instruction, Genesis):
            self._central_bank = signer
        elif isinstance(instruction, AuthoriseBank):
            bank = instruction.bank_key.address
            self._banks[bank] = BankProfile(bank, instruction.code, number, time_us)
        elif isinstance(instruction, OpenWallet):
            wallet = instruction.wallet_key.address
            self._wallets[wallet] = WalletProfile(
                wallet, instruction.category, signer, number, time_us
            )
        flow = self._flow_of(number, time_us, instruction.KIND, postings)
        if flow is not None:
            self._index(flow)
        self._entry_count += 1

    def _flow_of(
        self, number: int, time_us: int, kind: Kind, postings: tuple[Posting, ...]
    ) -> Flow | None:
        moves = [p for p in postings if p.kind in _ECNY_ACCOUNTS]
        if not moves:
            return None
        debits = [p for p in moves if p.delta_fen < 0]
        credits = [p for p in moves if p.delta_fen > 0]
        central = self._central_bank
        amounts = {-p.delta_fen for p in debits} | {p.delta_fen for p in credits}
        if len(debits) > 1 or len(credits) > 1 or len(amounts) != 1 or central is None:
            raise JournalError(
                Reason.JOURNAL_REPLAY_DIVERGED,
                "entry moves e-CNY in a shape the regulator view cannot read",
                entry=number,
            )
        payer = debits[0].owner if debits else central
        payee = credits[0].owner if credits else central
        bank = payer if payer in self._banks else payee if payee in self._banks else None
        cash = kind is Kind.FUND and any(p.kind is AccountKind.CASH for p in postings)
        return Flow(number, time_us, kind, payer, payee, amounts.pop(), bank, cash)

    def _index(self, flow: Flow) -> None:
        key = (flow.time_us, flow.entry_number)
        self._flows[flow.entry_number] = flow
        self._by_time.add(key)
        for rows in (self._index_of(flow.payer).outgoing, self._index_of(flow.payee).incoming):
            total = rows[len(rows) - 1][2] if len(rows) else 0
            rows.add((*key, total + flow.amount_fen))
        for bank in {flow.bank, self._operator(flow.payer), self._operator(flow.payee)}:
            if bank is None:
                continue
            if (bank_rows := self._bank_index.get(bank)) is None:
                bank_rows = self._bank_index[bank] = _sorted_list()
            bank_rows.add(key)

    def _index_of(self, address: Address) -> AccountIndex:
        index = self._accounts.get(address)
        if index is None:
            index = self._accounts[address] = AccountIndex()
        return index

    def _operator(self, address: Address) -> Address | None:
        profile = self._wallets.get(address)
        return profile.operator if profile is not None else None

    # -- reading -------------------------------------------------------------------

    @property
    def entry_count(self) -> int:
        """How many journal entries the view has read (of every kind)."""
        return self._entry_count

    @property
    def flow_count(self) -> int:
        """How many of them moved e-CNY."""
        return len(self._flows)

    @property
    def central_bank(self) -> Address | None:
        """The issuer's address, once the genesis entry has been read."""
        return self._central_bank

    def role(self, address: Address) -> PartyRole:
        """Whether ``address`` is the central bank, a bank, a wallet or unknown."""
        if address == self._central_bank:
            return PartyRole.CENTRAL_BANK
        if address in self._banks:
            return PartyRole.BANK
        return PartyRole.WALLET if address in self._wallets else PartyRole.UNKNOWN

    def wallet(self, address: Address) -> WalletProfile:
        """The wallet at ``address``; raises ``UNKNOWN_WALLET`` if none was opened."""
        try:
            return self._wallets[address]
        except KeyError:
            raise UnknownPartyError(
                Reason.UNKNOWN_WALLET, "no such wallet in the journal", party=str(address)
            ) from None

    def wallets(self) -> tuple[WalletProfile, ...]:
        """Every wallet, in the order they were opened."""
        return tuple(self._wallets.values())

    def bank(self, address: Address) -> BankProfile:
        """The bank at ``address``; raises ``UNKNOWN_BANK`` if none was authorised."""
        try:
            return self._banks[address]
        except KeyError:
            raise UnknownPartyError(
                Reason.UNKNOWN_BANK, "no such bank in the journal", party=str(address)
            ) from None

    def banks(self) -> tuple[BankProfile, ...]:
        """Every bank, in the order they were authorised."""
        return tuple(self._banks.values())

    def flow(self, entry_number: int) -> Flow:
        """The flow of entry ``entry_number``; ``FIELD_INVALID`` if it moved no e-CNY."""
        try:
            return self._flows[entry_number]
        except KeyError:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"entry {entry_number} moved no e-CNY (or is not in the view)",
                field="entry",
            ) from None

    def flows(self, start_us: int | None = None, end_us: int | None = None) -> Iterator[Flow]:
        """Every flow in ``[start_us, end_us)``, in journal order."""
        return self._read(self._by_time, start_us, end_us)

    def flows_in(
        self, address: Address, start_us: int | None = None, end_us: int | None = None
    ) -> Iterator[Flow]:
        """Flows into ``address`` in the window, oldest first."""
        return self._read(self._account(address).incoming, start_us, end_us)

    def flows_out(
        self, address: Address, start_us: int | None = None, end_us: int | None = None
    ) -> Iterator[Flow]:
        """Flows out of ``address`` in the window, oldest first."""
        return self._read(self._account(address).outgoing, start_us, end_us)

    def bank_flows(
        self, bank: Address, start_us: int | None = None, end_us: int | None = None
    ) -> Iterator[Flow]:
        """Flows of ``bank`` and of the wallets it operates, in the window, in order."""
        return self._read(self._bank_index.get(bank, _NO_ROWS), start_us, end_us)

    def _read(
        self, rows: _Sorted[_RowT], start_us: int | None, end_us: int | None
    ) -> Iterator[Flow]:
        for row in rows_between(rows, _bound(start_us, 0), _bound(end_us, _END)):
            yield self._flows[row[1]]

    def balance_fen(self, address: Address, at_us: int | None = None) -> int:
        """What ``address`` held just before ``at_us`` (now, if ``None``), in fen.

        The central bank's "balance" is minus the e-CNY outstanding.
        """
        return self._account(address).balance_before(*_bound(at_us, _END))

    def _account(self, address: Address) -> AccountIndex:
        # For the tracer and the rules, which live in sibling modules.
        return self._accounts.get(address, _EMPTY)

    def _check(self) -> None:
        """Assert that the indexes agree with the flows and with each other (for tests)."""
        assert len(self._by_time) == len(self._flows)
        totals = [0, 0]
        for index in self._accounts.values():
            for side, rows in enumerate((index.incoming, index.outgoing)):
                previous = 0
                for time_us, number, total in rows_between(rows, (0, 0), (_END, 0)):
                    assert (time_us, total) == (
                        self._flows[number].time_us,
                        previous + self._flows[number].amount_fen,
                    )
                    previous = total
                totals[side] += previous
        assert totals[0] == totals[1] == sum(flow.amount_fen for flow in self._flows.values())

    def __repr__(self) -> str:
        return (
            f"<RegulatorView {self._entry_count} entries, {len(self._flows)} flows, "
            f"{len(self._wallets)} wallets, {len(self._banks)} banks>"
        )
