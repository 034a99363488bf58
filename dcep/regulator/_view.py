"""The regulator's view: pseudonymous indexes over the journal, and nothing else.

A :class:`RegulatorView` is built only from journal entries: live, as a
subscriber of a ledger (:meth:`RegulatorView.attach`), or from a store
(:meth:`RegulatorView.from_store`); both feed one ``_ingest``.  It never
reads ledger state, so it could run in another process.

What it keeps is what the registration centre may see without a warrant:
wallets by address (a pseudonym), their category and operating bank, banks
by address and institution code, every movement of e-CNY as a
:class:`~dcep.regulator.FundsFlow`, and every act of supervision (freezes, warrants and
their answers; see :mod:`dcep.regulator._log`).  It keeps no identity at
all: the KYC commitment, linked deposit accounts, memos and sealed
disclosures of the instructions it reads are dropped on ingest, so no query
can return them.

Indexes (all ``sortedcontainers``, keyed by ``(time_us, entry number)``):
flows by time; per holder, flows in and flows out with running totals (so a
balance at any moment is one bisection); per bank, the flows of the bank and
of the wallets it operates.  Queries touch only the window they ask for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final, Protocol, TypeVar, final

from dcep.core._records import LedgerEntry, Posting
from dcep.errors import InvalidFieldError, JournalError, Reason, UnknownPartyError
from dcep.instructions._encoding import SignedInstruction
from dcep.instructions._kinds import (
    AuthoriseBank,
    Genesis,
    OpenCorporateWallet,
    OpenSubWallet,
    OpenWallet,
)
from dcep.journal._entries import GENESIS_HASH, JournalEntry, chain_hash
from dcep.journal._store import Store
from dcep.regulator._index import (
    EMPTY_INDEX,
    END_US,
    AccountIndex,
    SortedRows,
    check_totals,
    rows_between,
    sorted_rows,
)
from dcep.regulator._log import FreezeRecord, RegulatorProfile, SupervisionLog, WarrantRecord
from dcep.regulator._records import BankProfile, FundsFlow, PartyRole, WalletProfile, flow_of
from dcep.values._crypto import Address
from dcep.values._policy import WalletCategory

__all__ = ["RegulatorView"]

_RowT = TypeVar("_RowT", tuple[int, int], tuple[int, int, int])
#: The sides of a holder's index a flow adds to, as ``check_totals`` numbers them.
_IN: Final = 0
_OUT: Final = 1
_NO_ROWS: Final[SortedRows[tuple[int, int]]] = sorted_rows()


class _EntrySource(Protocol):
    @property
    def entry_count(self) -> int: ...
    def subscribe(self, on_entry: Callable[[LedgerEntry], None]) -> Callable[[], None]: ...


def _bound(time_us: int | None, default: int) -> tuple[int, int]:
    return (default if time_us is None else time_us, 0)


@final
class RegulatorView:
    """What the regulator sees: pseudonymous flows, indexed, read from the journal only.

    Build it with :meth:`attach` (live) or :meth:`from_store`; both may be
    combined (:meth:`catch_up` a store, then :meth:`follow` its ledger).
    Time windows are half-open, ``[start_us, end_us)``; ``None`` is open.

    Raises :class:`~dcep.JournalError` if entries arrive with a gap or a
    stored hash does not match; lookups of unknown wallets, banks,
    regulators or warrants raise :class:`~dcep.UnknownPartyError`.
    """

    __slots__ = (
        "_accounts",
        "_bank_index",
        "_banks",
        "_by_time",
        "_central_bank",
        "_children",
        "_entry_count",
        "_flows",
        "_parents",
        "_supervision",
        "_wallets",
    )

    def __init__(self) -> None:
        self._entry_count = 0
        self._central_bank: Address | None = None
        self._banks: dict[Address, BankProfile] = {}
        self._wallets: dict[Address, WalletProfile] = {}
        self._flows: dict[int, FundsFlow] = {}
        self._by_time: SortedRows[tuple[int, int]] = sorted_rows()
        self._accounts: dict[Address, AccountIndex] = {}
        self._bank_index: dict[Address, SortedRows[tuple[int, int]]] = {}
        self._supervision = SupervisionLog()
        # Sub-wallet links, both ways: child -> parent, parent -> children in order.
        self._parents: dict[Address, Address] = {}
        self._children: dict[Address, list[Address]] = {}

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

    def add_entry(self, entry: LedgerEntry) -> None:
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
        # These kinds say who is who, by address; the rest of each is dropped here.
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
        elif isinstance(instruction, OpenSubWallet):
            self._open_sub_wallet(number, time_us, instruction)
        elif isinstance(instruction, OpenCorporateWallet):
            # A business's wallet: the ledger records it as category 1 and corporate.
            wallet = instruction.wallet_key.address
            self._wallets[wallet] = WalletProfile(
                wallet, WalletCategory.IN_PERSON, signer, number, time_us, corporate=True
            )
        else:
            self._supervision.read(number, time_us, signer, instruction, self._wallets)
        flow = flow_of(
            number,
            time_us,
            instruction.KIND,
            postings,
            self._central_bank,
            self._banks,
            self._canonical,
        )
        if flow is not None:
            self._index(flow)
        self._entry_count += 1

    def _open_sub_wallet(self, number: int, time_us: int, instruction: OpenSubWallet) -> None:
        parent = self._wallets.get(instruction.parent)
        if parent is None or parent.parent is not None:
            raise JournalError(
                Reason.JOURNAL_REPLAY_DIVERGED,
                "a sub-wallet opened by no wallet, or by a sub-wallet",
                entry=number,
            )
        child = instruction.sub_wallet_key.address
        self._wallets[child] = WalletProfile(
            child,
            parent.category,
            parent.operator,
            number,
            time_us,
            parent.address,
            corporate=parent.corporate,
        )
        self._parents[child] = parent.address
        self._children.setdefault(parent.address, []).append(child)

    def _index(self, flow: FundsFlow) -> None:
        key = (flow.time_us, flow.entry_number)
        self._flows[flow.entry_number] = flow
        self._by_time.add(key)
        for holder, side, amount_fen in self._moves(flow):
            index = self._index_of(holder)
            rows = index.incoming if side == _IN else index.outgoing
            total = rows[len(rows) - 1][2] if len(rows) else 0
            rows.add((*key, total + amount_fen))
        for bank in {flow.bank, self._operator(flow.payer), self._operator(flow.payee)}:
            if bank is None:
                continue
            if (bank_rows := self._bank_index.get(bank)) is None:
                bank_rows = self._bank_index[bank] = sorted_rows()
            bank_rows.add(key)

    def _moves(self, flow: FundsFlow) -> list[tuple[Address, int, int]]:
        # (holder, in or out, fen) of each balance a flow changes: a waterfall's
        # top-up and sweep are the payer's and payee's own, against their banks' vaults.
        moves = [
            (flow.payer, _OUT, flow.amount_fen - flow.topped_up_fen),
            (flow.payee, _IN, flow.amount_fen - flow.swept_fen),
        ]
        payer_bank, payee_bank = self._operator(flow.payer), self._operator(flow.payee)
        # A payment's own rows stay even when all of it was swept on: it was paid.
        if flow.topped_up_fen and payer_bank is not None:
            moves.append((self._canonical(payer_bank), _OUT, flow.topped_up_fen))
        if flow.swept_fen and payee_bank is not None:
            moves.append((self._canonical(payee_bank), _IN, flow.swept_fen))
        return moves

    def _index_of(self, address: Address) -> AccountIndex:
        index = self._accounts.get(address)
        if index is None:
            index = self._accounts[address] = AccountIndex(address)
        return index

    def _canonical(self, address: Address) -> Address:
        return self._index_of(address).address

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
        """Whether ``address`` is the central bank, a bank, a wallet, a regulator or unknown."""
        if address == self._central_bank:
            return PartyRole.CENTRAL_BANK
        if address in self._banks:
            return PartyRole.BANK
        if address in self._wallets:
            return PartyRole.WALLET
        regulator = address in self._supervision.regulators
        return PartyRole.REGULATOR if regulator else PartyRole.UNKNOWN

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

    def parent_of(self, address: Address) -> Address | None:
        """The wallet whose sub-wallet ``address`` is; ``None`` for a wallet of its own.

        Raises ``UNKNOWN_WALLET`` if ``address`` is no wallet of the view.
        """
        return self.wallet(address).parent

    def sub_wallets(self, address: Address) -> tuple[WalletProfile, ...]:
        """The sub-wallets ``address`` opened, in order (closed ones too); ``UNKNOWN_WALLET``."""
        self.wallet(address)
        return tuple(self._wallets[child] for child in self._children.get(address, ()))

    def family(self, address: Address) -> Address:
        """The head of ``address``'s family: its parent if it is a sub-wallet, else itself.

        Moves between members of one family are internal: the AML rules
        count none of them as a counterparty.  ``UNKNOWN_WALLET`` if unknown.
        """
        return self.wallet(address).parent or address

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

    def flow(self, entry_number: int) -> FundsFlow:
        """The flow of entry ``entry_number``; ``FIELD_INVALID`` if it moved no e-CNY."""
        try:
            return self._flows[entry_number]
        except KeyError:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"entry {entry_number} moved no e-CNY (or is not in the view)",
                field="entry",
            ) from None

    def flows(self, start_us: int | None = None, end_us: int | None = None) -> Iterator[FundsFlow]:
        """Every flow in ``[start_us, end_us)``, in journal order."""
        return self._read(self._by_time, start_us, end_us)

    def flows_in(
        self, address: Address, start_us: int | None = None, end_us: int | None = None
    ) -> Iterator[FundsFlow]:
        """Flows into ``address`` in the window, oldest first."""
        return self._read(self._account(address).incoming, start_us, end_us)

    def flows_out(
        self, address: Address, start_us: int | None = None, end_us: int | None = None
    ) -> Iterator[FundsFlow]:
        """Flows out of ``address`` in the window, oldest first."""
        return self._read(self._account(address).outgoing, start_us, end_us)

    def bank_flows(
        self, bank: Address, start_us: int | None = None, end_us: int | None = None
    ) -> Iterator[FundsFlow]:
        """Flows of ``bank`` and of the wallets it operates, in the window, in order."""
        return self._read(self._bank_index.get(bank, _NO_ROWS), start_us, end_us)

    def count_flows(
        self, address: Address, start_us: int | None = None, end_us: int | None = None
    ) -> int:
        """How many flows went into or out of ``address`` in the window: four bisections.

        What a rule asks of a counterparty's history (a wallet with hardly a
        flow before it took part is a fresh or quiet one) without reading it.
        """
        index = self._account(address)
        start, end = _bound(start_us, 0), _bound(end_us, END_US)
        return sum(rows.bisect_left(end) - rows.bisect_left(start) for rows in index.sides())

    def _read(
        self, rows: SortedRows[_RowT], start_us: int | None, end_us: int | None
    ) -> Iterator[FundsFlow]:
        for row in rows_between(rows, _bound(start_us, 0), _bound(end_us, END_US)):
            yield self._flows[row[1]]

    def balance_fen(
        self, address: Address, at_us: int | None = None, *, before_entry: int | None = None
    ) -> int:
        """What ``address`` held just before ``at_us`` (now, if ``None``), in fen.

        With ``before_entry``, what it held just before that entry was applied
        (``at_us`` is then ignored): what a rule weighs a flow against.  The
        central bank's "balance" is minus the e-CNY outstanding.
        """
        if before_entry is not None:
            flow = self.flow(before_entry)
            return self._account(address).balance_before(flow.time_us, before_entry)
        return self._account(address).balance_before(*_bound(at_us, END_US))

    # -- supervision: freezes, warrants, disclosures ---------------------------------

    def regulators(self) -> tuple[RegulatorProfile, ...]:
        """Every regulator the central bank appointed, in order."""
        return tuple(self._supervision.regulators.values())

    @property
    def freeze_count(self) -> int:
        """How many freeze orders the view has read."""
        return self._supervision.freeze_count

    @property
    def unfreeze_count(self) -> int:
        """How many unfreeze orders the view has read."""
        return self._supervision.unfreeze_count

    @property
    def warrant_count(self) -> int:
        """How many warrants the view has read."""
        return self._supervision.warrant_count

    @property
    def disclosure_count(self) -> int:
        """How many warrants were answered: every unmasking, counted."""
        return self._supervision.disclosure_count

    def freezes(
        self, start_us: int | None = None, end_us: int | None = None
    ) -> tuple[FreezeRecord, ...]:
        """Freezes ordered in the window, in journal order, each saying if it was lifted."""
        return self._supervision.freezes(start_us, end_us)

    def frozen_wallets(self) -> tuple[FreezeRecord, ...]:
        """The freezes in force now, one per frozen wallet: by whom, since when and why."""
        return self._supervision.frozen()

    def is_frozen(self, address: Address) -> bool:
        """Whether a freeze of ``address`` is in force."""
        return self._supervision.is_frozen(address)

    def warrants(
        self, start_us: int | None = None, end_us: int | None = None
    ) -> tuple[WarrantRecord, ...]:
        """Warrants issued in the window, in journal order, each saying if it was answered."""
        return self._supervision.warrants(start_us, end_us)

    def disclosures(
        self, start_us: int | None = None, end_us: int | None = None
    ) -> tuple[WarrantRecord, ...]:
        """Warrants answered in the window, in the order of the answers."""
        return self._supervision.disclosures(start_us, end_us)

    def warrant(self, regulator: Address, warrant_id: int) -> WarrantRecord:
        """Warrant ``warrant_id`` of ``regulator``; raises ``UNKNOWN_WARRANT`` if there is none."""
        return self._supervision.warrant(regulator, warrant_id)

    def _account(self, address: Address) -> AccountIndex:
        # For the tracer and the rules, which live in sibling modules.
        return self._accounts.get(address, EMPTY_INDEX)

    def _check(self) -> None:
        """Assert that the indexes agree with the flows and with each other (for tests)."""
        assert len(self._by_time) == len(self._flows)
        for child, parent in self._parents.items():
            assert self._wallets[child].parent == parent
            assert self._wallets[parent].parent is None
            assert child in self._children[parent]
        assert sum(map(len, self._children.values())) == len(self._parents)
        moved = {
            (bytes(holder), side, number): (flow.time_us, amount_fen)
            for number, flow in self._flows.items()
            for holder, side, amount_fen in self._moves(flow)
        }
        check_totals(self._accounts.values(), moved)

    def __repr__(self) -> str:
        return (
            f"<RegulatorView {self._entry_count} entries, {len(self._flows)} flows, "
            f"{len(self._wallets)} wallets, {len(self._banks)} banks>"
        )
