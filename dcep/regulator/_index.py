"""The regulator view's index of one holder: flows in and out, each with a running total.

Rows are ``(time_us, entry number, running total in fen after the entry)``
in ``sortedcontainers`` lists, so a balance at any moment is one bisection
and a window is read without scanning the history before it.  Shared by the
view, the tracer and the rules; nothing here is public.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Final, Protocol, TypeVar, cast, final

from sortedcontainers import SortedList  # type: ignore[import-untyped]

from dcep.values._crypto import Address

__all__ = [
    "EMPTY_INDEX",
    "END_US",
    "AccountIndex",
    "SortedRows",
    "check_totals",
    "rows_between",
    "sorted_rows",
]

#: Larger than any entry number or time, to close a ``(time, number)`` range.
END_US: Final = 2**63

_T = TypeVar("_T")
#: ``(time_us, entry number, running total in fen after the entry)``.
Row = tuple[int, int, int]
#: ``(time_us, entry number)``: the key every index of the view is sorted by.
Key = tuple[int, int]


class SortedRows(Protocol[_T]):
    """The part of ``sortedcontainers.SortedList`` the view uses, typed."""

    def add(self, value: _T) -> None: ...
    def bisect_left(self, value: object) -> int: ...
    def islice(self, start: int | None = None, stop: int | None = None) -> Iterator[_T]: ...
    def __getitem__(self, index: int) -> _T: ...
    def __len__(self) -> int: ...


def sorted_rows() -> SortedRows[_T]:
    """An empty ``SortedList``, typed as :class:`SortedRows`."""
    return cast("SortedRows[_T]", SortedList())


_RowT = TypeVar("_RowT", Key, Row)


def rows_between(rows: SortedRows[_RowT], start: Key, end: Key) -> Iterator[_RowT]:
    """Index rows from ``start`` (inclusive) to ``end`` (exclusive), by ``(time_us, number)``.

    Two bisections and one slice: a row ``(t, n, total)`` sorts after the
    key ``(t, n)``, so ``bisect_left`` of a key finds the first row at or
    after it whether rows carry a running total or not.  (Indexing a
    ``SortedList`` row by row costs a bisection of its own per row.)
    """
    return rows.islice(rows.bisect_left(start), rows.bisect_left(end))


@final
class AccountIndex:
    """Flows in and out of one holder, each with the running total after it.

    ``address`` is the holder's, the one object every flow of the view shares
    for it (a million flows need not hold two million copies of addresses).
    """

    __slots__ = ("address", "incoming", "outgoing")

    def __init__(self, address: Address) -> None:
        self.address = address
        self.incoming: SortedRows[Row] = sorted_rows()
        self.outgoing: SortedRows[Row] = sorted_rows()

    def sides(self) -> tuple[SortedRows[Row], SortedRows[Row]]:
        """The rows in, then the rows out."""
        return (self.incoming, self.outgoing)

    @staticmethod
    def _total_before(rows: SortedRows[Row], time_us: int, number: int) -> int:
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
    def before(rows: SortedRows[Row], end: Key, start_us: int) -> Iterator[Row]:
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


def check_totals(
    indexes: Iterable[AccountIndex], moved: Mapping[tuple[bytes, int, int], tuple[int, int]]
) -> None:
    """Assert each row's time and running total, and that all money in is all money out.

    ``moved`` maps (holder, side: 0 in and 1 out, entry number) to the
    ``(time_us, amount_fen)`` that entry moved on that side; for tests.
    """
    totals = [0, 0]
    for index in indexes:
        for side, rows in enumerate((index.incoming, index.outgoing)):
            previous = 0
            for time_us, number, total in rows_between(rows, (0, 0), (END_US, 0)):
                expected = moved[(bytes(index.address), side, number)]
                assert (time_us, total) == (expected[0], previous + expected[1])
                previous = total
            totals[side] += previous
    assert totals[0] == totals[1]
    for side in (0, 1):
        assert totals[side] == sum(v[1] for k, v in moved.items() if k[1] == side)


#: The index of a holder with no flows, shared: never add to it.
EMPTY_INDEX: Final = AccountIndex(Address(bytes(20)))
