"""The fast encodings of wallet and receipt rows are the general encoding, byte for byte.

A state root hashes every row of a snapshot, a million wallets and the
idempotency window's receipts among them, so those two tables have an
encoder of their own; a leaf that differed from the general one would
change every state root (and refuse every snapshot written before).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcep.errors import EncodingError
from dcep.values import _commitment
from dcep.values._commitment import row_leaf
from dcep.values._crypto import Address

# Mostly the shapes the ledger writes, sometimes anything a tampered file could hold.
ints = st.integers(-(2**63), 2**63 - 1) | st.integers(-(2**70), 2**70) | st.booleans()
values = ints | st.binary(max_size=40) | st.text(max_size=5) | st.none()
keys = st.binary(min_size=32, max_size=32) | values
addresses = (
    st.binary(min_size=20, max_size=20) | st.binary(min_size=20, max_size=20).map(Address) | values
)
wallet_rows = st.tuples(
    addresses, ints, addresses, st.text(max_size=20) | values, ints, ints, ints, ints, ints, ints
)
receipt_rows = st.tuples(
    addresses, st.integers(0, 2**128 - 1) | values, keys, ints, ints, ints, st.binary() | values
)


def _general(table: str, row: tuple[object, ...]) -> bytes | EncodingError:
    fast = _commitment._FAST_ROWS.pop(table)
    try:
        return row_leaf(table, row)
    except EncodingError as error:
        return error
    finally:
        _commitment._FAST_ROWS[table] = fast


def _fast(table: str, row: tuple[object, ...]) -> bytes | EncodingError:
    try:
        return row_leaf(table, row)
    except EncodingError as error:
        return error


@pytest.mark.parametrize(("table", "rows"), [("wallets", wallet_rows), ("receipts", receipt_rows)])
@settings(max_examples=40)
@given(data=st.data())
def test_a_fast_row_leaf_is_the_general_one(
    table: str, rows: st.SearchStrategy[tuple[object, ...]], data: st.DataObject
) -> None:
    row = data.draw(rows | st.lists(values, max_size=10).map(tuple))
    general, fast = _general(table, row), _fast(table, row)
    if isinstance(general, EncodingError):
        assert isinstance(fast, EncodingError)
    else:
        assert fast == general
