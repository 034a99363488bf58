"""Commitments to balances and state as Merkle roots: a hash per changed account.

Two kinds of leaf, each canonical bytes hashed under the RFC 9162 leaf
prefix of :mod:`dcep.values._merkle`:

- an **account leaf**, ``kind ‖ owner ‖ account id ‖ balance``: what one
  balance is after a block.  A block's *changes root* is the Merkle root of
  the leaves of every account the block's postings touched, sorted, so it
  costs one leaf hash per touched account and about one inner hash more,
  never work in proportion to the whole ledger;
- a **row leaf**, ``table ‖ values``: one row of a snapshot, every value
  typed and length-prefixed.  The Merkle root over every row of a snapshot
  (its *state root*) stands for the whole state, and an inclusion path under
  it is a short proof of one wallet's balance and category.

Both replaced a lattice multiset hash (LtHash16, 2,048 bytes expanded per
leaf in and out) that cost about four times as much per transfer and gave
no short proofs; see ``docs/journal.md`` for what each root commits to.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Iterable, Sequence
from typing import Final

from dcep.errors import EncodingError, Reason
from dcep.values._merkle import leaf_hash, merkle_root

__all__ = [
    "RowValue",
    "account_leaf",
    "changes_root",
    "decode_row_leaf",
    "row_leaf",
    "rows_root",
]

#: What a snapshot row may hold: ints, text, bytes, or nothing.
RowValue = int | str | bytes | None

_INT: Final = b"i"
_TEXT: Final = b"s"
_BYTES: Final = b"b"
_NONE: Final = b"n"
_LENGTH: Final = struct.Struct(">I").pack
_INT64: Final = _INT + (8).to_bytes(4, "big")
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_NOTHING: Final = _NONE + bytes(4)


def account_leaf(kind: str, owner: bytes, account_id: str, balance_fen: int) -> bytes:
    """The canonical bytes of one account's balance, as a leaf of a block's changes root."""
    head, middle = _leaf_frame(kind, account_id)
    return head + owner + middle + balance_fen.to_bytes(8, "big", signed=True)


@functools.lru_cache(maxsize=256)
def _leaf_frame(kind: str, account_id: str) -> tuple[bytes, bytes]:
    # Length-prefixed kind, and length-prefixed account id: the same few
    # pairs for every leaf (a wallet's id is empty), so built once each.
    kind_raw = kind.encode("ascii")
    account_raw = account_id.encode("ascii")
    return bytes((len(kind_raw),)) + kind_raw, bytes((len(account_raw),)) + account_raw


def changes_root(leaves: Iterable[bytes]) -> bytes:
    """The Merkle root of account leaves, in sorted order (each account once).

    Sorting makes the root a function of the set of accounts and their
    balances, not of the order the block touched them in.
    """
    return merkle_root([leaf_hash(leaf) for leaf in sorted(leaves)])


def row_leaf(table: str, row: Sequence[object]) -> bytes:
    """The canonical bytes of one snapshot row of ``table``.

    The table's name, then each value: its type (``i``, ``s``, ``b``,
    ``n``), its length in four bytes, and its bytes — an int as 8 bytes
    signed big-endian if it fits, otherwise the fewest signed bytes that hold
    it (more than 8), text as UTF-8 — so that no two rows share an
    encoding.  Any other type is ``ENCODING_MALFORMED``: a snapshot holds
    only these.  Every row of a state is encoded at each snapshot and each
    recovery, so this is written for speed.
    """
    fast = _FAST_ROWS.get(table)
    if fast is not None:
        leaf = fast(row)
        if leaf is not None:
            return leaf
    raw_table = table.encode()
    parts = [_TEXT, _LENGTH(len(raw_table)), raw_table]
    append = parts.append
    for value in row:
        kind = type(value)
        if kind is int:
            number: int = value  # type: ignore[assignment]
            if _INT64_MIN <= number <= _INT64_MAX:
                append(_INT64)
                append(number.to_bytes(8, "big", signed=True))
            else:
                raw = number.to_bytes((number.bit_length() + 8) // 8, "big", signed=True)
                append(_INT)
                append(_LENGTH(len(raw)))
                append(raw)
        elif kind is bytes:
            append(_BYTES)
            append(_LENGTH(len(value)))  # type: ignore[arg-type]
            append(value)  # type: ignore[arg-type]
        elif kind is str:
            raw = value.encode()  # type: ignore[attr-defined]
            append(_TEXT)
            append(_LENGTH(len(raw)))
            append(raw)
        elif value is None:
            append(_NOTHING)
        else:
            # A subclass (an Address is bytes) encodes as its base type; a
            # bool is not a number here, and anything else is no row value.
            plain: object
            if isinstance(value, bytes):
                plain = bytes(value)
            elif isinstance(value, str):
                plain = str(value)
            elif isinstance(value, int) and kind is not bool:
                plain = int(value)
            else:
                raise EncodingError(
                    Reason.ENCODING_MALFORMED, f"a snapshot row holds a {kind.__name__}"
                )
            append(row_leaf("", (plain,))[_EMPTY_TABLE_SIZE:])
    return b"".join(parts)


#: The bytes of an empty table name, which a single re-encoded value follows.
_EMPTY_TABLE_SIZE: Final = 5

# The two tables with a row per wallet or per remembered entry, a million of
# them in a big state, encoded in one struct call each: byte for byte what
# the general loop above writes (a test holds them to it), or ``None`` for a
# row of any other shape, which the loop then encodes (or refuses).
_WALLET_ROW: Final = struct.Struct(">12s5s20s5sq5s20s")
_SIX_INTS: Final = struct.Struct(">" + "5sq" * 6)
_WALLETS_HEAD: Final = _TEXT + _LENGTH(7) + b"wallets"
_ADDRESS_HEAD: Final = _BYTES + _LENGTH(20)
_DIGEST_HEAD: Final = _BYTES + _LENGTH(32)
_RECEIPT_ROW: Final = struct.Struct(">13s5s20s5sq5s32s5sq5sq5sq1sI")
_RECEIPTS_HEAD: Final = _TEXT + _LENGTH(8) + b"receipts"


def _wallet_leaf(row: Sequence[object]) -> bytes | None:
    if len(row) != 10:
        return None
    address, category, operator, linked, balance, day, today, year, this_year, sequence = row
    if (
        type(address) is not bytes
        or len(address) != 20
        or type(operator) is not bytes
        or len(operator) != 20
        or type(linked) is not str
        or type(category) is not int
        or type(balance) is not int
        or type(day) is not int
        or type(today) is not int
        or type(year) is not int
        or type(this_year) is not int
        or type(sequence) is not int
    ):
        return None
    raw = linked.encode()
    try:
        return b"".join(
            (
                _WALLET_ROW.pack(
                    _WALLETS_HEAD,
                    _ADDRESS_HEAD,
                    address,
                    _INT64,
                    category,
                    _ADDRESS_HEAD,
                    operator,
                ),
                _TEXT,
                _LENGTH(len(raw)),
                raw,
                _SIX_INTS.pack(
                    _INT64,
                    balance,
                    _INT64,
                    day,
                    _INT64,
                    today,
                    _INT64,
                    year,
                    _INT64,
                    this_year,
                    _INT64,
                    sequence,
                ),
            )
        )
    except struct.error:  # an int past 64 bits: the general encoding
        return None


def _receipt_leaf(row: Sequence[object]) -> bytes | None:
    if len(row) != 7:
        return None
    signer, instruction_id, body_digest, number, kind, at_us, postings = row
    if (
        type(signer) is not bytes
        or len(signer) != 20
        or type(instruction_id) is not int
        or type(body_digest) is not bytes
        or len(body_digest) != 32
        or type(number) is not int
        or type(kind) is not int
        or type(at_us) is not int
        or type(postings) is not bytes
    ):
        return None
    try:
        head = _RECEIPT_ROW.pack(
            _RECEIPTS_HEAD,
            _ADDRESS_HEAD,
            signer,
            _INT64,
            instruction_id,
            _DIGEST_HEAD,
            body_digest,
            _INT64,
            number,
            _INT64,
            kind,
            _INT64,
            at_us,
            _BYTES,
            len(postings),
        )
    except struct.error:  # an id or a number past 64 bits: the general encoding
        return None
    return head + postings


_FAST_ROWS: Final = {"wallets": _wallet_leaf, "receipts": _receipt_leaf}


def rows_root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle root of row leaves, in the order given (a snapshot's own order)."""
    return merkle_root([leaf_hash(leaf) for leaf in leaves])


def decode_row_leaf(leaf: bytes) -> tuple[str, tuple[int | str | bytes | None, ...]]:
    """The (table, values) a :func:`row_leaf` encodes; ``ENCODING_MALFORMED`` otherwise.

    For readers of a balance proof, who hold a leaf and want the row back.
    """
    values: list[int | str | bytes | None] = []
    offset = 0
    try:
        while offset < len(leaf):
            kind = leaf[offset : offset + 1]
            size = int.from_bytes(leaf[offset + 1 : offset + 5], "big")
            raw = leaf[offset + 5 : offset + 5 + size]
            if len(raw) != size or offset + 5 > len(leaf):
                raise ValueError("a value runs past the end of the leaf")
            offset += 5 + size
            if kind == _INT:
                values.append(int.from_bytes(raw, "big", signed=True))
            elif kind == _BYTES:
                values.append(raw)
            elif kind == _TEXT:
                values.append(raw.decode())
            elif kind == _NONE and not raw:
                values.append(None)
            else:
                raise ValueError(f"no value of type {kind!r}")
    except ValueError as error:  # UnicodeDecodeError among them
        raise EncodingError(Reason.ENCODING_MALFORMED, f"not a row leaf: {error}") from None
    table = values[0] if values else None
    if not isinstance(table, str):
        raise EncodingError(Reason.ENCODING_MALFORMED, "not a row leaf: no table name first")
    if row_leaf(table, values[1:]) != leaf:
        raise EncodingError(Reason.ENCODING_MALFORMED, "not a row leaf in its canonical form")
    return table, tuple(values[1:])
