"""Rows appended several to a statement read back as executemany would have written them."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from dcep.journal._inserts import ROWS_PER_STATEMENT, insert_many

_VALUES = st.one_of(st.integers(-(2**63), 2**63 - 1), st.binary(max_size=40), st.text(max_size=8))


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
        connection.execute(f"CREATE TABLE t (position INTEGER PRIMARY KEY, {columns})")
        numbered = [(position, *row) for position, row in enumerate(rows)]
        connection.execute("BEGIN")
        insert_many(connection, "t", numbered)
        connection.execute("COMMIT")
        assert connection.execute("SELECT * FROM t ORDER BY position").fetchall() == numbered
    finally:
        connection.close()
