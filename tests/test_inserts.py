"""Rows appended several to a statement read back as executemany would have written them."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from dcep.journal._inserts import ROWS_PER_STATEMENT, insert_many
from dcep.values import Address


class _Tagged(bytes):
    """A bytes subclass, as an :class:`Address` is: stored as its bytes."""


_VALUES = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.binary(max_size=40),
    st.binary(max_size=40).map(_Tagged),
    st.binary(min_size=20, max_size=20).map(Address),
    st.text(max_size=8),
    st.none(),
)


@given(
    width=st.integers(1, 5),
    data=st.data(),
)
def test_every_row_lands_in_order_whatever_the_count(width: int, data: st.DataObject) -> None:
    rows = data.draw(
        st.lists(
            st.tuples(*[_VALUES] * width),
            max_size=3 * ROWS_PER_STATEMENT + 5,
        )
    )
    connection = sqlite3.connect(":memory:", isolation_level=None)
    try:
        columns = ", ".join(f"c{i}" for i in range(width))
        numbered = [(position, *row) for position, row in enumerate(rows)]
        for table in ("many", "one_by_one"):
            connection.execute(f"CREATE TABLE {table} (position INTEGER PRIMARY KEY, {columns})")
        connection.execute("BEGIN")
        insert_many(connection, "many", numbered)
        connection.executemany(
            f"INSERT INTO one_by_one VALUES ({', '.join('?' * (width + 1))})", numbered
        )
        connection.execute("COMMIT")
        # The same values and the same storage classes (a BLOB stays a BLOB).
        read = f"SELECT *, {', '.join(f'typeof(c{i})' for i in range(width))} FROM "
        many = connection.execute(read + "many ORDER BY position").fetchall()
        assert many == connection.execute(read + "one_by_one ORDER BY position").fetchall()
        assert [row[: width + 1] for row in many] == [
            tuple(bytes(v) if isinstance(v, bytes) else v for v in row) for row in numbered
        ]
    finally:
        connection.close()
