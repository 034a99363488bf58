"""Rows as a pandas DataFrame or a Parquet file; pandas and pyarrow are imported only here.

Both keep every column of the rows with a fixed type: integers as 64-bit
integers (never floats), text as text, ``cash`` as a boolean.  Each
microsecond column ``x_us`` is followed by ``x``, the same instant as a UTC
timestamp (``time_us`` gives ``time``, ``accepted_at_us`` gives ``accepted_at``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from dcep.errors import InvalidFieldError, Reason
from dcep.export._rows import COLUMN_TYPES, Row

__all__ = ["to_dataframe", "write_parquet"]


def _optional(module: str, needed_by: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{needed_by} needs {module}, from the optional extra: pip install 'dcep[data]'"
        ) from error


def _columns(rows: Sequence[Row], columns: Sequence[str] | None) -> tuple[str, ...]:
    if columns is None:
        columns = tuple(rows[0]) if rows else ()
    for name in columns:
        if name not in COLUMN_TYPES:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, f"{name!r} is not a column dcep exports", field="columns"
            )
    for number, row in enumerate(rows):
        if tuple(row) != tuple(columns):
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"row {number} has columns {tuple(row)}, not {tuple(columns)}",
                field="rows",
            )
    return tuple(columns)


def _timestamp_name(column: str) -> str | None:
    return column.removesuffix("_us") if column.endswith("_us") else None


def to_dataframe(rows: Sequence[Row], columns: Sequence[str] | None = None) -> Any:
    """The rows as a ``pandas.DataFrame``, one column per key, in order.

    Integer columns are ``int64``, or pandas' nullable ``Int64`` when a
    value is missing (``amount_fen`` of entries that are not transfers);
    text columns are ``string``; ``cash`` is ``bool``; after each ``x_us``
    column comes ``x`` as ``datetime64[us, UTC]``.  ``columns`` names the
    columns of an empty table (``ALERT_COLUMNS`` when no alert fired); by
    default they are the keys of the first row.  Needs the optional extra
    ``dcep[data]``; without it raises ``ImportError`` saying so.
    """
    pandas = _optional("pandas", "to_dataframe")
    names = _columns(rows, columns)
    data: dict[str, Any] = {}
    for name in names:
        values = [row[name] for row in rows]
        kind = COLUMN_TYPES[name]
        if kind is int:
            dtype = "Int64" if None in values else "int64"
        elif kind is float:
            dtype = "float64"
        else:
            dtype = "bool" if kind is bool else pandas.StringDtype()
        data[name] = pandas.array(values, dtype=dtype)
        if (stamp := _timestamp_name(name)) is not None:
            data[stamp] = pandas.to_datetime(data[name], unit="us", utc=True)
    return pandas.DataFrame(data, columns=list(data))


def write_parquet(
    rows: Sequence[Row], path: str | os.PathLike[str], columns: Sequence[str] | None = None
) -> str:
    """Write the rows to a Parquet file at ``path`` and return the path, as text.

    The schema is explicit: ``int64`` for integers (fen, microseconds,
    entry numbers), ``string`` for text, ``bool`` for ``cash``, and after
    each ``x_us`` column, ``x`` as ``timestamp[us, tz=UTC]``; any value may
    be null.  DuckDB reads the file directly: ``SELECT ... FROM 'path'``.
    ``columns`` is as for :func:`to_dataframe`; an empty table needs it.
    Needs the optional extra ``dcep[data]``; without it raises
    ``ImportError`` saying so.
    """
    pyarrow = _optional("pyarrow", "write_parquet")
    parquet = _optional("pyarrow.parquet", "write_parquet")
    names = _columns(rows, columns)
    if not names:
        raise InvalidFieldError(
            Reason.FIELD_INVALID, "no rows: name the table's columns", field="columns"
        )
    types = {
        int: pyarrow.int64(),
        str: pyarrow.string(),
        bool: pyarrow.bool_(),
        float: pyarrow.float64(),
    }
    fields: list[Any] = []
    arrays: list[Any] = []
    for name in names:
        arrow_type = types[COLUMN_TYPES[name]]
        array = pyarrow.array([row[name] for row in rows], type=arrow_type)
        fields.append(pyarrow.field(name, arrow_type))
        arrays.append(array)
        if (stamp := _timestamp_name(name)) is not None:
            stamp_type = pyarrow.timestamp("us", tz="UTC")
            fields.append(pyarrow.field(stamp, stamp_type))
            arrays.append(array.cast(stamp_type))
    table = pyarrow.Table.from_arrays(arrays, schema=pyarrow.schema(fields))
    target = os.fspath(path)
    parquet.write_table(table, target)
    return target
