"""The ledger's state machine: where every instruction is checked and applied.

:class:`LedgerCore` runs the checks (``_checks``, one handler per kind in
``_handlers_*``), applies atomically, keeps the invariants
(``_invariants``) and hands each accepted :class:`LedgerEntry` to its
subscribers through the narrow :class:`LedgerReader` interface.  Batches and
worker processes (:class:`SentinelPool`) feed it many instructions at once.
It knows nothing of journals or files: :class:`dcep.Ledger` adds those.
"""

from dcep._exports import claim as _claim
from dcep.core._machine import LedgerCore as LedgerCore
from dcep.core._reader import LedgerReader as LedgerReader
from dcep.core._reader import ReplayableLedger as ReplayableLedger
from dcep.core._records import AccountKind as AccountKind
from dcep.core._records import BankInfo as BankInfo
from dcep.core._records import CentralBankInfo as CentralBankInfo
from dcep.core._records import DailySweep as DailySweep
from dcep.core._records import DeviceInfo as DeviceInfo
from dcep.core._records import LedgerEntry as LedgerEntry
from dcep.core._records import PendingPayment as PendingPayment
from dcep.core._records import Posting as Posting
from dcep.core._records import Receipt as Receipt
from dcep.core._records import Rejection as Rejection
from dcep.core._records import SupplyReport as SupplyReport
from dcep.core._records import Voucher as Voucher
from dcep.core._records import WalletInfo as WalletInfo
from dcep.core._sentinels import SentinelPool as SentinelPool

__all__ = [
    "AccountKind",
    "BankInfo",
    "CentralBankInfo",
    "DailySweep",
    "DeviceInfo",
    "LedgerCore",
    "LedgerEntry",
    "LedgerReader",
    "PendingPayment",
    "Posting",
    "Receipt",
    "Rejection",
    "ReplayableLedger",
    "SentinelPool",
    "SupplyReport",
    "Voucher",
    "WalletInfo",
]

_claim(__name__, globals(), __all__)
