"""A table of transfers, read and checked whole before anything is replayed.

Rows come from a CSV file (:func:`read_csv`, the standard library's ``csv``),
a pandas ``DataFrame`` (recognised by its ``columns`` and read column by
column with ``tolist()``, so pandas is never imported here) or any iterable
of mappings.  :func:`parse_table` turns them into plain lists (external ids
as text, amounts as integer fen, times as integer microseconds) or raises the
first problem, naming the row: a replay never starts on a table it would
have to stop half-way through.

A little over 400 lines: one exact parser per kind of cell (ids, amounts as
text or numbers, times in five units), which a user's table may mix.
"""

from __future__ import annotations

import csv
import datetime as dt
import numbers
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Final, Literal, final

import attrs

from dcep.errors import AmountError, InvalidFieldError, Reason
from dcep.values import FEN_PER_YUAN, MAX_AMOUNT_FEN, cny
from dcep.values._clock import microseconds

__all__ = [
    "AmountUnit",
    "ParsedTable",
    "TimeUnit",
    "TransferColumns",
    "parse_table",
    "read_csv",
]

AmountUnit = Literal["yuan", "fen"]
TimeUnit = Literal["h", "s", "ms", "us"]

#: Microseconds in one unit of an integer time.
_TIME_UNIT_US: Final[Mapping[str, int]] = {
    "h": 3_600_000_000,
    "s": 1_000_000,
    "ms": 1_000,
    "us": 1,
}
_FEN_PER_UNIT: Final[Mapping[str, int]] = {"yuan": FEN_PER_YUAN, "fen": 1}
#: The longest external id, in bytes of UTF-8: it is the holder's name in the
#: bank's customer record, which a disclosure seals whole.
MAX_EXTERNAL_ID_BYTES: Final = 200
#: The longest memo a transfer carries (the wire format's limit).
_MAX_MEMO_BYTES: Final = 140
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")
_DIGITS: Final = re.compile(r"[0-9]+")


def _column_name(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"the {attribute.name} column is named by non-empty text, not {value!r}",
            field=attribute.name,
        )


def _optional_column_name(
    instance: object, attribute: attrs.Attribute[str | None], value: object
) -> None:
    if value is not None:
        _column_name(instance, attribute, value)  # type: ignore[arg-type]


@final
@attrs.frozen
class TransferColumns:
    """Which columns of a table hold a transfer's sender, receiver, amount and time.

    ``memo``, if named, is a text column copied into each transfer's memo
    (at most 140 bytes of UTF-8), for example PaySim's ``type``:

    >>> paysim = TransferColumns(sender="nameOrig", receiver="nameDest", time="step", memo="type")
    >>> paysim.names()
    ('nameOrig', 'nameDest', 'amount', 'step', 'type')
    """

    sender: str = attrs.field(default="src", validator=_column_name)
    receiver: str = attrs.field(default="dst", validator=_column_name)
    amount: str = attrs.field(default="amount", validator=_column_name)
    time: str = attrs.field(default="timestamp", validator=_column_name)
    memo: str | None = attrs.field(default=None, validator=_optional_column_name)

    def names(self) -> tuple[str, ...]:
        """The columns a table must have: sender, receiver, amount, time and memo if named."""
        required = (self.sender, self.receiver, self.amount, self.time)
        return required if self.memo is None else (*required, self.memo)


@final
@attrs.frozen
class ParsedTable:
    """A table that passed every check: one list per column, in the input's row order."""

    senders: list[str]
    receivers: list[str]
    fens: list[int]
    times_us: list[int]
    memos: list[str]

    def __len__(self) -> int:
        return len(self.fens)


def read_csv(
    path: str | os.PathLike[str], *, delimiter: str = ",", encoding: str = "utf-8-sig"
) -> list[dict[str, str]]:
    """Read a CSV file with a header line into a list of rows, every value as text.

    Text keeps amounts exact (``"9839.64"`` parses to 983,964 fen, where a
    float would not).  A header that names a column twice is refused
    (``FIELD_INVALID``): rename one, since a row could keep only one of the
    two values.  ``utf-8-sig`` reads UTF-8 with or without a byte-order mark.
    """
    with open(path, newline="", encoding=encoding) as file:
        reader = csv.reader(file, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            return []
        seen: set[str] = set()
        for name in header:
            if name in seen:
                raise InvalidFieldError(
                    Reason.FIELD_INVALID,
                    f"{os.fspath(path)!s}: the header names column {name!r} twice",
                    field=name,
                )
            seen.add(name)
        rows: list[dict[str, str]] = []
        for values in reader:
            if not values:
                continue  # a blank line
            if len(values) != len(header):
                raise InvalidFieldError(
                    Reason.FIELD_INVALID,
                    f"row {len(rows)}: {len(values)} values under a header of "
                    f"{len(header)} columns",
                    field="row",
                )
            rows.append(dict(zip(header, values, strict=True)))
        return rows


def parse_table(
    rows: object,
    columns: TransferColumns,
    *,
    amount_unit: AmountUnit,
    time_unit: TimeUnit,
    time_format: str | None,
    timezone: dt.tzinfo | None,
) -> ParsedTable:
    """Read and check every row; raise the first problem, naming its row (from 0)."""
    if amount_unit not in _FEN_PER_UNIT:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"amount_unit is 'yuan' or 'fen', not {amount_unit!r}",
            field="amount_unit",
        )
    if time_unit not in _TIME_UNIT_US:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"time_unit is 'h', 's', 'ms' or 'us', not {time_unit!r}",
            field="time_unit",
        )
    values = _column_values(rows, columns)
    senders_raw, receivers_raw, amounts_raw, times_raw = values[:4]
    fen_per_unit = _FEN_PER_UNIT[amount_unit]
    unit_us = _TIME_UNIT_US[time_unit]
    table = ParsedTable([], [], [], [], [])
    for row in range(len(amounts_raw)):
        table.senders.append(_external_id(senders_raw[row], row, columns.sender))
        table.receivers.append(_external_id(receivers_raw[row], row, columns.receiver))
        table.fens.append(_fen(amounts_raw[row], row, columns.amount, fen_per_unit))
        table.times_us.append(
            _time_us(times_raw[row], row, columns.time, unit_us, time_format, timezone)
        )
        memo = "" if columns.memo is None else _memo(values[4][row], row, columns.memo)
        table.memos.append(memo)
    return table


def _column_values(rows: object, columns: TransferColumns) -> list[Sequence[object]]:
    """One list of raw values per needed column, from a DataFrame or an iterable of mappings."""
    names = columns.names()
    if isinstance(rows, str | bytes | os.PathLike):
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            "rows are a DataFrame or an iterable of mappings; for a file, pass read_csv(path)",
            field="rows",
        )
    frame_columns = getattr(rows, "columns", None)
    if frame_columns is not None and hasattr(rows, "__getitem__"):
        present = {str(name) for name in frame_columns}
        for name in names:
            if name not in present:
                raise InvalidFieldError(
                    Reason.FIELD_INVALID,
                    f"the table has no column {name!r}; it has {sorted(present)}",
                    field=name,
                )
        # Column by column: tolist() gives Python ints, floats, str and Timestamps.
        return [list(rows[name].tolist()) for name in names]
    if not isinstance(rows, Iterable):
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"rows are a DataFrame or an iterable of mappings, not {type(rows).__name__}",
            field="rows",
        )
    lists: list[list[object]] = [[] for _ in names]
    for row, mapping in enumerate(rows):
        if not isinstance(mapping, Mapping):
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"row {row}: a row is a mapping of column to value, not {type(mapping).__name__}",
                field="rows",
            )
        for values, name in zip(lists, names, strict=True):
            try:
                values.append(mapping[name])
            except KeyError:
                raise InvalidFieldError(
                    Reason.FIELD_INVALID,
                    f"row {row}: no column {name!r}; the row has {sorted(map(str, mapping))}",
                    field=name,
                ) from None
    return list(lists)


def _is_missing(value: object) -> bool:
    # None, NaN, pandas' NaT and NA (whose comparisons are not booleans).
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return True


def _external_id(value: object, row: int, column: str) -> str:
    if isinstance(value, str):
        text = value
    elif not isinstance(value, bool) and isinstance(value, numbers.Integral):
        text = str(int(value))
    else:
        shown = "missing" if _is_missing(value) else f"{type(value).__name__} {value!r}"
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"row {row}: an account id is text or a whole number, not {shown}",
            field=column,
        )
    if not text or len(text.encode("utf-8")) > MAX_EXTERNAL_ID_BYTES:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"row {row}: an account id is 1 to {MAX_EXTERNAL_ID_BYTES} bytes of UTF-8, "
            f"not {text[:40]!r}",
            field=column,
        )
    return text


def _amount_error(reason: Reason, row: int, column: str, detail: str) -> AmountError:
    return AmountError(reason, f"row {row}: {detail}", field=column)


def _fen(value: object, row: int, column: str, fen_per_unit: int) -> int:
    """The amount as whole fen: exactly, or an ``AmountError`` naming the row."""
    unit = "yuan" if fen_per_unit == FEN_PER_YUAN else "fen"
    if isinstance(value, bool) or _is_missing(value):
        raise _amount_error(
            Reason.AMOUNT_MALFORMED, row, column, f"{value!r} is not an amount in {unit}"
        )
    if isinstance(value, str):
        fen = _fen_of_text(value.strip(), row, column, fen_per_unit)
    elif isinstance(value, numbers.Integral):
        fen = int(value) * fen_per_unit
    elif isinstance(value, Decimal | numbers.Real):
        fen = _fen_of_number(value, row, column, fen_per_unit)
    else:
        raise _amount_error(
            Reason.AMOUNT_MALFORMED,
            row,
            column,
            f"an amount is text, a number or a Decimal, not {type(value).__name__} {value!r}",
        )
    if fen < 0:
        raise _amount_error(Reason.AMOUNT_NEGATIVE, row, column, f"{value!r} {unit} is negative")
    if fen == 0:
        raise _amount_error(
            Reason.AMOUNT_NOT_POSITIVE, row, column, f"{value!r} {unit}: a transfer moves money"
        )
    if fen > MAX_AMOUNT_FEN:
        raise _amount_error(
            Reason.AMOUNT_TOO_LARGE,
            row,
            column,
            f"{value!r} {unit} is above the maximum of {MAX_AMOUNT_FEN} fen",
        )
    return fen


def _fen_of_text(text: str, row: int, column: str, fen_per_unit: int) -> int:
    if text.startswith("-") and len(text) > 1:
        raise _amount_error(Reason.AMOUNT_NEGATIVE, row, column, f"{text!r} is negative")
    if fen_per_unit == 1:
        if _DIGITS.fullmatch(text) is None:
            raise _amount_error(
                Reason.AMOUNT_MALFORMED, row, column, f"{text!r} is not a whole number of fen"
            )
        return int(text)
    try:
        return cny(text).fen
    except AmountError as error:
        raise _amount_error(error.reason, row, column, error.message) from None


def _exact(value: object) -> Fraction | None:
    """A number as an exact fraction; ``None`` for NaN, infinities and non-numbers."""
    try:
        if isinstance(value, float | Decimal | numbers.Rational):
            return Fraction(value)
        if isinstance(value, numbers.Real):
            return Fraction(float(value))  # numpy's float32 and the like: exact as a float
    except (ValueError, OverflowError, TypeError):
        return None
    return None


def _fen_of_number(value: numbers.Real | Decimal, row: int, column: str, fen_per_unit: int) -> int:
    exact = _exact(value)
    if exact is None:
        raise _amount_error(
            Reason.AMOUNT_MALFORMED, row, column, f"{value!r} is not a finite amount"
        )
    fen = exact * fen_per_unit
    if fen.denominator != 1:
        raise _amount_error(
            Reason.AMOUNT_NOT_INTEGER,
            row,
            column,
            f"{value!r} is not a whole number of fen (it is exactly {_decimal_text(exact)}); "
            "give amounts as text, e.g. read_csv() or pandas' dtype=str, to keep them exact",
        )
    return int(fen)


def _decimal_text(exact: Fraction) -> str:
    # A binary fraction has a finite decimal expansion: show it, to say why it is refused.
    quotient = Decimal(exact.numerator) / Decimal(exact.denominator)
    return f"{quotient:f}"


def _time_us(
    value: object,
    row: int,
    column: str,
    unit_us: int,
    time_format: str | None,
    timezone: dt.tzinfo | None,
) -> int:
    """The time as microseconds since 1970 UTC, or an ``InvalidFieldError`` naming the row."""

    def refuse(detail: str) -> InvalidFieldError:
        return InvalidFieldError(Reason.FIELD_INVALID, f"row {row}: {detail}", field=column)

    if isinstance(value, bool) or _is_missing(value):
        raise refuse(f"{value!r} is not a time")
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text) * unit_us
        try:
            if time_format is not None:
                moment = dt.datetime.strptime(text, time_format)
            else:
                moment = dt.datetime.fromisoformat(text)
        except ValueError:
            expected = repr(time_format) if time_format is not None else "ISO 8601"
            raise refuse(f"{text!r} is not a time in {expected}") from None
    elif isinstance(value, dt.datetime):
        if getattr(value, "nanosecond", 0):
            raise refuse(f"{value!r} has nanoseconds; the ledger keeps microseconds")
        moment = value
    elif isinstance(value, numbers.Integral):
        return int(value) * unit_us
    elif isinstance(value, Decimal | numbers.Real):
        exact = _exact(value)
        if exact is None or (exact * unit_us).denominator != 1:
            raise refuse(f"{value!r} is not a whole number of microseconds")
        return int(exact * unit_us)
    else:
        raise refuse(
            "a time is ISO 8601 text, an aware datetime or a whole number, "
            f"not {type(value).__name__} {value!r}"
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        if timezone is None:
            raise refuse(
                f"{moment.isoformat()} has no time zone; give one in the data "
                "or pass timezone= to say which"
            )
        moment = moment.replace(tzinfo=timezone)
    return microseconds(moment)


def _memo(value: object, row: int, column: str) -> str:
    if _is_missing(value):
        return ""
    if not isinstance(value, str) or len(value.encode("utf-8")) > _MAX_MEMO_BYTES:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"row {row}: a memo is text of at most {_MAX_MEMO_BYTES} bytes, not {value!r:.60}",
            field=column,
        )
    return value
