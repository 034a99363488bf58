"""Bring your own transactions: replay a table of transfers into a ledger.

Public synthetic data sets of payments (PaySim, AMLSim, IBM's AMLworld)
are tables of sender, receiver, amount and time.  :func:`replay_transfers`
turns such a table into a :class:`~dcep.Ledger` whose wallets paid each
other with signed transfers, so that the regulator's tracing and AML rules
(:mod:`dcep.regulator`) and the exports (:mod:`dcep.export`) can study it.

* :class:`TransferColumns` names the table's columns; :func:`read_csv`
  reads a CSV file's rows as text (pandas DataFrames are read directly,
  and pandas is never imported here).
* :func:`replay_transfers` checks every row first, then replays them in
  time order: one wallet per account id, opened when the id first appears,
  topped up from its bank just before a payment it could not make.
* :class:`ReplayResult` holds the ledger, the map from account ids to
  addresses (as rows, or a CSV file :func:`read_id_map` reads back), the
  journal entry of each row and the reason for each refused one, and the
  top-ups (:class:`Funding`) apart from the data set's own transfers.
* :func:`uncapped_policy` is the policy the replay's ledger runs under
  unless told otherwise: no category caps refuse a data set's payments.

See ``docs/replay.md``.
"""

from dcep._exports import claim as _claim
from dcep.datasets._replay import replay_transfers as replay_transfers
from dcep.datasets._replay import uncapped_policy as uncapped_policy
from dcep.datasets._results import FUNDING_COLUMNS as FUNDING_COLUMNS
from dcep.datasets._results import ID_MAP_COLUMNS as ID_MAP_COLUMNS
from dcep.datasets._results import POOL_ACCOUNT as POOL_ACCOUNT
from dcep.datasets._results import Funding as Funding
from dcep.datasets._results import ReplayResult as ReplayResult
from dcep.datasets._results import read_id_map as read_id_map
from dcep.datasets._table import TransferColumns as TransferColumns
from dcep.datasets._table import read_csv as read_csv

__all__ = [
    "FUNDING_COLUMNS",
    "ID_MAP_COLUMNS",
    "POOL_ACCOUNT",
    "Funding",
    "ReplayResult",
    "TransferColumns",
    "read_csv",
    "read_id_map",
    "replay_transfers",
    "uncapped_policy",
]

_claim(__name__, globals(), __all__)
