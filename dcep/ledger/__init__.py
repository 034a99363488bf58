"""The ledger as researchers use it: the state machine, its batches and its journal.

:class:`Ledger` is :class:`~dcep.core.LedgerCore` with batches, worker
processes and, when opened from a file or a store, a journal that it
recovers from.  :class:`Replica` re-executes a stored journal and checks
every signature, entry and block, as a node of the Blockchain Service
Network would.
"""

from dcep._exports import claim as _claim
from dcep.ledger._ledger import Ledger as Ledger
from dcep.ledger._replica import Replica as Replica
from dcep.ledger._replica import VerificationReport as VerificationReport

__all__ = [
    "Ledger",
    "Replica",
    "VerificationReport",
]

_claim(__name__, globals(), __all__)
