"""Every wallet's state in flat columns, one row per wallet, found by address.

A million wallets as a million Python objects cost about 350 bytes each,
and the garbage collector walks every one of them.  Here a wallet is a row
number: the address-to-row dict is the only per-wallet Python structure,
and each field is a column (an :mod:`array` of machine integers), none of
which the collector tracks.  What few wallets have beyond the common fields
(a parent, own caps, money held for pending payments, vouchers or hardware
wallets, interest) lives in a small side record made on first use.

Handlers see a wallet through :class:`WalletAccount`, a view of one row
whose attributes read and write the columns; every payment's fast path
reads the columns directly (:meth:`WalletTable.pay_if_plain`).

No public key is kept.  A wallet's address is the hash of its key, and
every instruction it signs carries the key, which the ledger checks
against the address; a million keys would be 32 MB held for nothing.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Final, final

import attrs

from dcep.values._crypto import Address
from dcep.values._money import MAX_AMOUNT_FEN
from dcep.values._policy import Policy, WalletCategory, year_of_day

__all__ = ["OwnCaps", "WalletAccount", "WalletOverlay", "WalletRow", "WalletTable"]

#: A sub-wallet's own caps in fen: balance, single payment, daily, annual (None: its category's).
OwnCaps = tuple[int | None, int | None, int | None, int | None]

#: A wallet as a snapshot keeps it: address, category, operator, linked account,
#: balance, the counters' day, spent that day, their year, spent that year,
#: and the last sequence number it signed (0: none).
WalletRow = tuple[bytes, int, bytes, str, int, int, int, int, int, int]

#: The integer columns a new row fills, in the order ``_append`` takes their values.
_COUNTER_COLUMNS: Final = (
    "_operator",
    "_balance",
    "_day",
    "_spent_today",
    "_spent_year",
    "_sequence",
)
#: Columns start narrow and are widened, once, when a value outgrows them.
_WIDER: Final = {"h": "i", "i": "q", "H": "I", "I": "Q"}
#: One byte a wallet: its category in the low three bits, flags above them.
_CATEGORY: Final = 0x07
#: Category by number (0 is never stored).
_CATEGORY_OF: Final = (WalletCategory.IN_PERSON, *WalletCategory)
#: Closed: holds, receives and signs nothing.
_CLOSED: Final = 0x08
#: Owned by a business: the policy's corporate caps bind it.
_CORPORATE: Final = 0x10
#: A sub-wallet: it names a parent.
_SUB: Final = 0x20
#: A parent with open sub-wallets.
_PARENT: Final = 0x40
#: Holds money outside its balance: reserved, in vouchers, or offline.
_HELD: Final = 0x80
#: For each flag, a byte table marking the flags bytes that have it (see with_flag).
_MARKS: Final = {
    bit: bytes(1 if value & bit else 0 for value in range(256)) for bit in (_CLOSED, _CORPORATE)
}
#: Flags that send a payee to the named checks (a payer: only ``_SUB``, see pay_if_plain).
_PAYEE_SLOW: Final = _CLOSED | _SUB | _PARENT | _HELD


@final
@attrs.define(slots=True, eq=False, weakref_slot=False)
class _Extras:
    """What a wallet has beyond the common columns, made the first time it has any."""

    parent: Address | None = None
    own_caps: OwnCaps | None = None
    open_sub_wallets: int = 0
    sub_wallets_fen: int = 0
    reserved_fen: int = 0
    vouchers_fen: int = 0
    offline_fen: int = 0
    interest_from_us: int = -1
    interest_carry: int = 0


_NO_EXTRAS: Final = _Extras()


class WalletTable:  # not final: WalletOverlay reads through one
    """All wallets, by address, in columns; see the module's docstring.

    Rows are never removed (a closed wallet keeps its row), so a row number
    names the same wallet for the table's life, and rows are in the order
    the wallets were opened.
    """

    __slots__ = (
        "_addresses",
        "_balance",
        "_day",
        "_extras",
        "_flags",
        "_linked",
        "_operator",
        "_operator_rows",
        "_operators",
        "_rows",
        "_sequence",
        "_spent_today",
        "_spent_year",
    )

    def __init__(self) -> None:
        #: Address (as plain bytes: no collector header) -> row.
        self._rows: dict[bytes, int] = {}
        #: A copy without the index keeps its addresses here, in row order.
        self._addresses: list[bytes] | None = None
        self._flags = bytearray()
        self._operator: array[int] = array("H")
        self._operators: list[Address] = []
        self._operator_rows: dict[bytes, int] = {}
        self._linked: list[str] = []
        self._balance: array[int] = array("q")
        #: The local day of the spending counters (-1: none yet); their year follows from it.
        #: Two bytes hold the days to 2059; a later day widens the column.
        self._day: array[int] = array("h")
        self._spent_today: array[int] = array("q")
        self._spent_year: array[int] = array("q")
        #: The last sequence number the wallet signed (0: none), widened if one outgrows it.
        self._sequence: array[int] = array("H")
        self._extras: dict[int, _Extras] = {}

    # -- the mapping -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, address: object) -> bool:
        return address in self._rows

    def get(self, address: bytes) -> WalletAccount | None:
        """The wallet at ``address``, or ``None``."""
        row = self._rows.get(address)
        return None if row is None else WalletAccount(self, row)

    def __getitem__(self, address: bytes) -> WalletAccount:
        return WalletAccount(self, self._rows[address])

    def holdings_of(self, address: bytes) -> int:
        """All e-CNY the wallet at ``address`` holds (0: no such wallet), without a view."""
        # Every changed wallet at every block seal: the dict itself (an overlay overrides this).
        row = self._rows.get(address)
        if row is None:
            return 0
        extras = self._extras.get(row)
        if extras is None:
            return self._balance[row]
        return self._balance[row] + extras.reserved_fen + extras.vouchers_fen + extras.offline_fen

    def row_of(self, address: bytes) -> int | None:
        """The row of the wallet at ``address``, or ``None``."""
        return self._rows.get(address)

    def __iter__(self) -> Iterator[Address]:
        return (Address(address) for address in self._rows)

    def keys(self) -> Iterator[Address]:
        """Every wallet's address, in the order they were opened."""
        return iter(self)

    def values(self) -> Iterator[WalletAccount]:
        """Every wallet, in the order they were opened."""
        return (WalletAccount(self, row) for row in range(len(self._rows)))

    def items(self) -> Iterator[tuple[Address, WalletAccount]]:
        """(address, wallet) for every wallet, in the order they were opened."""
        return (
            (Address(address), WalletAccount(self, row)) for address, row in self._rows.items()
        )

    def open(
        self,
        address: Address,
        *,
        category: WalletCategory,
        operator: Address,
        linked_account: str,
        parent: Address | None = None,
        own_caps: OwnCaps | None = None,
        corporate: bool = False,
    ) -> WalletAccount:
        """Add a wallet with nothing in it and nothing spent; the caller checked it is new."""
        row = self._append(address, int(category), operator, linked_account)
        wallet = WalletAccount(self, row)
        if parent is not None or own_caps is not None:
            wallet.parent = parent
            wallet.own_caps = own_caps
        if corporate:
            wallet.corporate = True
        return wallet

    def restore(
        self,
        address: Address,
        row: WalletRow,
        operator: Address,
        linked_account: str,
    ) -> None:
        """Add a wallet from its snapshot row (the counters' year is their day's)."""
        _, category, _, _, balance_fen, day, today_fen, _, year_fen, sequence = row
        if sequence < 0:
            raise ValueError(f"a sequence number of {sequence}")
        self._append(
            address,
            int(WalletCategory(category)),
            operator,
            linked_account,
            (balance_fen, day, today_fen, year_fen, sequence),
        )

    def _append(
        self,
        address: Address,
        flags: int,
        operator: Address,
        linked_account: str,
        counters: tuple[int, int, int, int, int] = (0, -1, 0, 0, 0),
    ) -> int:
        # A new row, every column: ``counters`` are its balance, the counters'
        # day, spent that day and that year, and its sequence.  Rows are
        # counted by a column, not the dict, so that a repeated address (a
        # tampered snapshot) leaves the columns aligned and is caught by counting.
        row = len(self._flags)
        operator_row = self._operator_rows.get(operator)
        if operator_row is None:
            operator_row = self._operator_rows[bytes(operator)] = len(self._operators)
            self._operators.append(operator)
        self._flags.append(flags)
        self._linked.append(linked_account)
        for name, value in zip(_COUNTER_COLUMNS, (operator_row, *counters), strict=True):
            column: array[int] = getattr(self, name)
            column.append(0)
            self._put(name, row, value)
        self._rows[bytes(address)] = row
        return row

    def _put(self, column_name: str, row: int, value: int) -> None:
        # Store, widening the column (a copy, once) if the value outgrows it.
        column: array[int] = getattr(self, column_name)
        try:
            column[row] = value
        except OverflowError:
            while True:
                column = array(_WIDER[column.typecode], column)
                try:
                    column[row] = value
                except OverflowError:
                    continue
                setattr(self, column_name, column)
                return

    def _extras_of(self, row: int) -> _Extras:
        extras = self._extras.get(row)
        if extras is None:
            extras = self._extras[row] = _Extras()
        return extras

    def _set_flag(self, row: int, flag: int, on: bool) -> None:
        if on:
            self._flags[row] |= flag
        else:
            self._flags[row] &= ~flag & 0xFF

    # -- sequence numbers ----------------------------------------------------------

    def last_sequence(self, address: bytes) -> int | None:
        """The last sequence number the wallet at ``address`` signed, or ``None``: no wallet."""
        # Every instruction's path: the dict itself, not row_of (an overlay overrides this).
        row = self._rows.get(address)
        return None if row is None else self._sequence[row]

    def set_sequence(self, address: bytes, sequence: int) -> bool:
        """Record the wallet's last sequence number; ``False`` (and nothing done): no wallet."""
        row = self._rows.get(address)
        if row is None:
            return False
        try:
            self._sequence[row] = sequence
        except OverflowError:
            self._put("_sequence", row, sequence)
        return True

    def row_count(self) -> int:
        """How many rows: every wallet ever opened (also in a copy without the index)."""
        return len(self._flags)

    def sequence_rows(self) -> Iterator[tuple[bytes, int]]:
        """(address, last sequence) of every wallet that has signed, in the order opened."""
        addresses = self._by_row()
        return (
            (addresses[row], sequence) for row, sequence in enumerate(self._sequence) if sequence
        )

    # -- every payment's path ------------------------------------------------------

    def pay_if_plain(
        self, payer: bytes, payee: bytes, amount_fen: int, policy: Policy, day: int, year: int
    ) -> bool:
        """Make the payment and return ``True`` if it is the usual case, else change nothing.

        The usual case: both wallets exist, the payer is not a sub-wallet, the
        payee is open, not in a family and holds nothing outside its balance,
        and every cap allows the payment.  ``False`` sends the payment to the
        named checks, which also pick the error (or accept the unusual case).
        """
        rows = self._rows
        i = rows.get(payer)
        j = rows.get(payee)
        if i is None or j is None:
            return False
        flags = self._flags
        payer_flags = flags[i]
        payee_flags = flags[j]
        balance = self._balance
        payer_fen = balance[i]
        # A closed payer holds nothing, so the balance test sends it to the checks.
        if payer_flags & _SUB or payee_flags & _PAYEE_SLOW or amount_fen > payer_fen:
            return False
        categories = policy.categories
        limits = (
            policy.corporate
            if payer_flags & _CORPORATE
            else categories[_CATEGORY_OF[payer_flags & _CATEGORY]]
        )
        balance_cap = (
            policy.corporate
            if payee_flags & _CORPORATE
            else categories[_CATEGORY_OF[payee_flags & _CATEGORY]]
        ).balance_cap
        after_fen = balance[j] + amount_fen
        if after_fen > MAX_AMOUNT_FEN or (balance_cap is not None and after_fen > balance_cap.fen):
            return False
        single, daily, annual = limits.single_payment_cap, limits.daily_cap, limits.annual_cap
        if single is not None and amount_fen > single.fen:
            return False
        days = self._day
        last_day = days[i]
        if last_day == day:
            today_fen = self._spent_today[i]
            year_fen = self._spent_year[i]
        else:  # -1: never paid (its counters are 0 whatever the year)
            today_fen = 0
            year_fen = (
                self._spent_year[i] if last_day >= 0 and year_of_day(last_day) == year else 0
            )
        if (daily is not None and today_fen + amount_fen > daily.fen) or (
            annual is not None and year_fen + amount_fen > annual.fen
        ):
            return False
        if last_day != day:
            try:
                days[i] = day
            except OverflowError:
                self._put("_day", i, day)
        # Saturating: without a cap the counters only inform, and every cap is below the maximum.
        self._spent_today[i] = min(today_fen + amount_fen, MAX_AMOUNT_FEN)
        self._spent_year[i] = min(year_fen + amount_fen, MAX_AMOUNT_FEN)
        balance[i] = payer_fen - amount_fen
        balance[j] = after_fen
        return True

    # -- rows, for snapshots ----------------------------------------------------------

    def wallet_rows(self) -> Iterator[WalletRow]:
        """Every wallet's common fields as a snapshot row, in the order they were opened."""
        addresses, flags, linked = self._by_row(), self._flags, self._linked
        operators, operator = [bytes(o) for o in self._operators], self._operator
        balance, days = self._balance, self._day
        spent_today, spent_year, sequences = self._spent_today, self._spent_year, self._sequence
        for row in range(len(self._flags)):
            day = days[row]
            yield (
                addresses[row],
                flags[row] & _CATEGORY,
                operators[operator[row]],
                linked[row],
                balance[row],
                day,
                spent_today[row],
                -1 if day == -1 else year_of_day(day),
                spent_year[row],
                sequences[row],
            )

    def _by_row(self) -> list[bytes]:
        # Every address in row order: the index's keys, in the order inserted.
        return list(self._rows) if self._addresses is None else self._addresses

    def with_flag(self, flag: str) -> Iterator[Address]:
        """The addresses of the ``"closed"`` or ``"corporate"`` wallets, in the order opened."""
        marks = _MARKS[{"closed": _CLOSED, "corporate": _CORPORATE}[flag]]
        # One byte a row, 1 where the flag is set: found by C-level searches,
        # not a Python loop over a million rows of which a few are flagged.
        marked = self._flags.translate(marks)
        row = marked.find(1)
        addresses = self._by_row() if row >= 0 else []
        while row >= 0:
            yield Address(addresses[row])
            row = marked.find(1, row + 1)

    def with_extras(self) -> Iterator[tuple[Address, WalletAccount]]:
        """The wallets with a side record (a parent, held money, interest), in the order opened."""
        addresses = self._by_row() if self._extras else []
        for row in sorted(self._extras):
            yield Address(addresses[row]), WalletAccount(self, row)

    # -- copies --------------------------------------------------------------------

    def copy(self, *, with_index: bool = True) -> WalletTable:
        """An independent copy in one step: columns copied whole, side records one by one.

        Without the index (``with_index=False``) it only gives rows
        (:meth:`wallet_rows` and the others), for a snapshot: a list of the
        addresses costs a fraction of copying the address-to-row dict.
        """
        clone = WalletTable.__new__(WalletTable)
        clone._rows = self._rows.copy() if with_index else {}
        clone._addresses = None if with_index else self._by_row()
        clone._flags = self._flags[:]
        clone._operator = self._operator[:]
        clone._operators = self._operators[:]
        clone._operator_rows = self._operator_rows.copy()
        clone._linked = self._linked[:]
        clone._balance = self._balance[:]
        clone._day = self._day[:]
        clone._spent_today = self._spent_today[:]
        clone._spent_year = self._spent_year[:]
        clone._sequence = self._sequence[:]
        clone._extras = {row: attrs.evolve(extras) for row, extras in self._extras.items()}
        return clone

    def copy_row_from(self, other: WalletTable, address: bytes) -> WalletAccount:
        """Add the wallet at ``address`` in ``other`` to this table, as it is there."""
        source = other._rows[address]
        row = self._append(
            Address(address),
            other._flags[source],
            other._operators[other._operator[source]],
            other._linked[source],
            (
                other._balance[source],
                other._day[source],
                other._spent_today[source],
                other._spent_year[source],
                other._sequence[source],
            ),
        )
        extras = other._extras.get(source)
        if extras is not None:
            self._extras[row] = attrs.evolve(extras)
        return WalletAccount(self, row)


@final
class WalletOverlay(WalletTable):
    """A table over another that reads through to it and takes every write itself.

    A wallet of the base is copied here the first time it is read, so that
    changes to it stay here (see :mod:`dcep.core._overlay`); a wallet opened
    here is only here.  No payment takes the fast path: it would write the base.
    """

    __slots__ = ("_base",)

    def __init__(self, base: WalletTable) -> None:
        super().__init__()
        self._base = base

    def row_of(self, address: bytes) -> int | None:
        row = self._rows.get(address)
        if row is None and address in self._base._rows:
            row = self.copy_row_from(self._base, address).row
        return row

    def get(self, address: bytes) -> WalletAccount | None:
        row = self.row_of(address)
        return None if row is None else WalletAccount(self, row)

    def last_sequence(self, address: bytes) -> int | None:
        row = self.row_of(address)
        return None if row is None else self._sequence[row]

    def holdings_of(self, address: bytes) -> int:
        wallet = self.get(address)
        return 0 if wallet is None else wallet.holdings_fen()

    def set_sequence(self, address: bytes, sequence: int) -> bool:
        row = self.row_of(address)
        if row is None:
            return False
        self._put("_sequence", row, sequence)
        return True

    def __getitem__(self, address: bytes) -> WalletAccount:
        row = self.row_of(address)
        if row is None:
            raise KeyError(address)
        return WalletAccount(self, row)

    def __contains__(self, address: object) -> bool:
        return address in self._rows or address in self._base._rows

    def _all_addresses(self) -> list[bytes]:
        base = self._base._rows
        return [*base, *(address for address in self._rows if address not in base)]

    def __len__(self) -> int:
        return len(self._all_addresses())

    def __iter__(self) -> Iterator[Address]:
        return (Address(address) for address in self._all_addresses())

    def values(self) -> Iterator[WalletAccount]:
        return (self[address] for address in self._all_addresses())

    def items(self) -> Iterator[tuple[Address, WalletAccount]]:
        return ((Address(address), self[address]) for address in self._all_addresses())

    def pay_if_plain(
        self, payer: bytes, payee: bytes, amount_fen: int, policy: Policy, day: int, year: int
    ) -> bool:
        return False


@final
class WalletAccount:
    """One wallet: a view of its row in a :class:`WalletTable`.

    Attributes read and write the table.  ``day`` and ``year`` say which
    local day and year the ``spent_*`` counters belong to; a payment on a
    later day starts them from zero.  Other kinds of money are fields here
    and :meth:`holdings_fen` adds them up, so the balance cap keeps one
    meaning: ``reserved_fen`` for the wallet's pending payments,
    ``vouchers_fen`` for vouchers it issued, ``offline_fen`` for its
    hardware wallets.  ``balance_fen`` is what it may spend.

    A sub-wallet names its ``parent`` and keeps its ``own_caps`` (balance,
    single payment, daily, annual, in fen; ``None``: the category's); a
    parent counts its open sub-wallets and what they hold
    (``sub_wallets_fen``), so that the family stays within its balance cap
    without a walk over every wallet.  A ``closed`` wallet holds nothing.
    """

    __slots__ = ("_table", "row")

    def __init__(self, table: WalletTable, row: int) -> None:
        self._table = table
        self.row = row

    def __repr__(self) -> str:
        return f"<WalletAccount row {self.row}: {self.balance_fen} fen>"

    def _get(self) -> _Extras:
        return self._table._extras.get(self.row, _NO_EXTRAS)

    @property
    def category(self) -> WalletCategory:
        """The wallet's KYC category."""
        return WalletCategory(self._table._flags[self.row] & _CATEGORY)

    @category.setter
    def category(self, value: WalletCategory) -> None:
        flags = self._table._flags
        flags[self.row] = (flags[self.row] & ~_CATEGORY & 0xFF) | int(value)

    @property
    def operator(self) -> Address:
        """The operating bank's address."""
        table = self._table
        return table._operators[table._operator[self.row]]

    @property
    def linked_account(self) -> str:
        """The holder's deposit account at the operator (empty: none)."""
        return self._table._linked[self.row]

    @linked_account.setter
    def linked_account(self, value: str) -> None:
        self._table._linked[self.row] = value

    @property
    def balance_fen(self) -> int:
        """What the wallet may spend."""
        return self._table._balance[self.row]

    @balance_fen.setter
    def balance_fen(self, value: int) -> None:
        self._table._balance[self.row] = value

    @property
    def day(self) -> int:
        """The local day the spending counters belong to (-1: none yet)."""
        return self._table._day[self.row]

    @day.setter
    def day(self, value: int) -> None:
        self._table._put("_day", self.row, value)

    @property
    def year(self) -> int:
        """The year of the annual counter: the year of :attr:`day` (-1: none yet)."""
        day = self._table._day[self.row]
        return -1 if day == -1 else year_of_day(day)

    @property
    def spent_today_fen(self) -> int:
        """Paid on :attr:`day`."""
        return self._table._spent_today[self.row]

    @spent_today_fen.setter
    def spent_today_fen(self, value: int) -> None:
        self._table._spent_today[self.row] = value

    @property
    def spent_this_year_fen(self) -> int:
        """Paid in :attr:`year`."""
        return self._table._spent_year[self.row]

    @spent_this_year_fen.setter
    def spent_this_year_fen(self, value: int) -> None:
        self._table._spent_year[self.row] = value

    @property
    def closed(self) -> bool:
        """Closed: holds, receives and signs nothing."""
        return bool(self._table._flags[self.row] & _CLOSED)

    @closed.setter
    def closed(self, value: bool) -> None:
        self._table._set_flag(self.row, _CLOSED, value)

    @property
    def corporate(self) -> bool:
        """Owned by a business: the policy's corporate caps bind it, not its category's."""
        return bool(self._table._flags[self.row] & _CORPORATE)

    @corporate.setter
    def corporate(self, value: bool) -> None:
        self._table._set_flag(self.row, _CORPORATE, value)

    @property
    def parent(self) -> Address | None:
        """The wallet a sub-wallet belongs to (``None``: a wallet of its own)."""
        return self._get().parent

    @parent.setter
    def parent(self, value: Address | None) -> None:
        self._table._extras_of(self.row).parent = value
        self._table._set_flag(self.row, _SUB, value is not None)

    @property
    def own_caps(self) -> OwnCaps | None:
        """A sub-wallet's own caps, in fen."""
        return self._get().own_caps

    @own_caps.setter
    def own_caps(self, value: OwnCaps | None) -> None:
        self._table._extras_of(self.row).own_caps = value

    @property
    def open_sub_wallets(self) -> int:
        """How many open sub-wallets the wallet has."""
        return self._get().open_sub_wallets

    @open_sub_wallets.setter
    def open_sub_wallets(self, value: int) -> None:
        self._table._extras_of(self.row).open_sub_wallets = value
        self._table._set_flag(self.row, _PARENT, value > 0)

    @property
    def sub_wallets_fen(self) -> int:
        """What the wallet's sub-wallets hold, all of it."""
        return self._get().sub_wallets_fen

    @sub_wallets_fen.setter
    def sub_wallets_fen(self, value: int) -> None:
        self._table._extras_of(self.row).sub_wallets_fen = value

    def _set_held(self, extras: _Extras) -> None:
        held = bool(extras.reserved_fen or extras.vouchers_fen or extras.offline_fen)
        self._table._set_flag(self.row, _HELD, held)

    @property
    def reserved_fen(self) -> int:
        """Held for this wallet's pending payments as payer: in its holdings, not spendable."""
        return self._get().reserved_fen

    @reserved_fen.setter
    def reserved_fen(self, value: int) -> None:
        extras = self._table._extras_of(self.row)
        extras.reserved_fen = value
        self._set_held(extras)

    @property
    def vouchers_fen(self) -> int:
        """Set aside for vouchers this wallet issued: in its holdings, not spendable."""
        return self._get().vouchers_fen

    @vouchers_fen.setter
    def vouchers_fen(self, value: int) -> None:
        extras = self._table._extras_of(self.row)
        extras.vouchers_fen = value
        self._set_held(extras)

    @property
    def offline_fen(self) -> int:
        """Loaded onto this wallet's hardware wallets: in its holdings, spent offline only."""
        return self._get().offline_fen

    @offline_fen.setter
    def offline_fen(self, value: int) -> None:
        extras = self._table._extras_of(self.row)
        extras.offline_fen = value
        self._set_held(extras)

    @property
    def interest_from_us(self) -> int:
        """2026 reserve mode: when the wallet's current interest period began (-1: none yet)."""
        return self._get().interest_from_us

    @interest_from_us.setter
    def interest_from_us(self, value: int) -> None:
        self._table._extras_of(self.row).interest_from_us = value

    @property
    def interest_carry(self) -> int:
        """2026 reserve mode: the fraction of a fen carried from the wallet's last accrual."""
        return self._get().interest_carry

    @interest_carry.setter
    def interest_carry(self, value: int) -> None:
        self._table._extras_of(self.row).interest_carry = value

    def holdings_fen(self) -> int:
        """All e-CNY the wallet holds, of every kind."""
        balance_fen = self._table._balance[self.row]
        extras = self._table._extras.get(self.row)
        if extras is None:
            return balance_fen
        return balance_fen + extras.reserved_fen + extras.vouchers_fen + extras.offline_fen
