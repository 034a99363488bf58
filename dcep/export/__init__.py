"""The journal, the regulator's flows and AML alerts as tables: rows, DataFrames, Parquet.

Row functions read a journal :class:`~dcep.journal.Store`, a
:class:`~dcep.regulator.RegulatorView` or alerts, and return plain Python:
a list of dicts of ``str``, ``int`` and ``None``, one dict per record, in
journal order, keys in the fixed order of the table's ``*_COLUMNS``.
Money is integer fen (``..._fen``), times integer microseconds since 1970
UTC (``..._us``), addresses their text form.

* :func:`entry_rows`: one row per journal entry: kind, signer, instruction
  id, and payer, payee and amount for transfers.
* :func:`posting_rows`: one row per posting: which account changed by how much.
* :func:`balance_rows`: each wallet's balance after every entry that changed it.
* :func:`flow_rows`: one row per :class:`~dcep.regulator.FundsFlow` a view holds.
* :func:`alert_rows`: one row per :class:`~dcep.regulator.Alert`.
* :func:`trace_edge_rows` and :func:`trace_node_rows`: a trace's
  :class:`~dcep.regulator.FlowGraph` as its entries and its holders.

:func:`to_dataframe` turns rows into a ``pandas.DataFrame`` and
:func:`write_parquet` writes them to a Parquet file with an explicit schema
(``int64`` fen and microseconds) that DuckDB queries directly.  Those two
need the optional extra ``pip install 'dcep[data]'`` (pandas, pyarrow) and
import it only when called: ``import dcep.export`` imports neither.
"""

from dcep._exports import claim as _claim
from dcep.export._frames import to_dataframe as to_dataframe
from dcep.export._frames import write_parquet as write_parquet
from dcep.export._rows import ALERT_COLUMNS as ALERT_COLUMNS
from dcep.export._rows import BALANCE_COLUMNS as BALANCE_COLUMNS
from dcep.export._rows import ENTRY_COLUMNS as ENTRY_COLUMNS
from dcep.export._rows import FLOW_COLUMNS as FLOW_COLUMNS
from dcep.export._rows import POSTING_COLUMNS as POSTING_COLUMNS
from dcep.export._rows import TRACE_EDGE_COLUMNS as TRACE_EDGE_COLUMNS
from dcep.export._rows import TRACE_NODE_COLUMNS as TRACE_NODE_COLUMNS
from dcep.export._rows import alert_rows as alert_rows
from dcep.export._rows import balance_rows as balance_rows
from dcep.export._rows import entry_rows as entry_rows
from dcep.export._rows import flow_rows as flow_rows
from dcep.export._rows import posting_rows as posting_rows
from dcep.export._rows import trace_edge_rows as trace_edge_rows
from dcep.export._rows import trace_node_rows as trace_node_rows

__all__ = [
    "ALERT_COLUMNS",
    "BALANCE_COLUMNS",
    "ENTRY_COLUMNS",
    "FLOW_COLUMNS",
    "POSTING_COLUMNS",
    "TRACE_EDGE_COLUMNS",
    "TRACE_NODE_COLUMNS",
    "alert_rows",
    "balance_rows",
    "entry_rows",
    "flow_rows",
    "posting_rows",
    "to_dataframe",
    "trace_edge_rows",
    "trace_node_rows",
    "write_parquet",
]

_claim(__name__, globals(), __all__)
