"""The regulator's view: flows, tracing and AML screening, read from the journal.

A :class:`RegulatorView` follows a ledger or a store, never the ledger's
state: it sees pseudonymous flows (:class:`FundsFlow`), wallet and bank
profiles, freezes and warrants.  :func:`trace_forward` and
:func:`trace_backward` follow money into a :class:`FlowGraph`; :func:`screen`
runs AML rules (:class:`AmlRule`) into :class:`Alert` records;
:class:`ProgrammableView` lists pending payments outstanding and a voucher
campaign's spend by region;
:class:`Screener` keeps screening a view that follows a live ledger;
:func:`daily_report` writes the large-value and suspicious-transaction
reports.
"""

from dcep._exports import claim as _claim
from dcep.regulator._alerts import Alert as Alert
from dcep.regulator._alerts import AmlRule as AmlRule
from dcep.regulator._aml import DormancyRule as DormancyRule
from dcep.regulator._aml import LargeValueRule as LargeValueRule
from dcep.regulator._aml import MuleRule as MuleRule
from dcep.regulator._aml import StructuringRule as StructuringRule
from dcep.regulator._aml import default_rules as default_rules
from dcep.regulator._flowgraph import AllocationRule as AllocationRule
from dcep.regulator._flowgraph import FlowGraph as FlowGraph
from dcep.regulator._flowgraph import TraceDirection as TraceDirection
from dcep.regulator._flowgraph import TraceEdge as TraceEdge
from dcep.regulator._flowgraph import TraceNode as TraceNode
from dcep.regulator._log import FreezeRecord as FreezeRecord
from dcep.regulator._log import RegulatorProfile as RegulatorProfile
from dcep.regulator._log import WarrantRecord as WarrantRecord
from dcep.regulator._passing import FanRule as FanRule
from dcep.regulator._passing import PassThroughRule as PassThroughRule
from dcep.regulator._programmable import ProgrammableView as ProgrammableView
from dcep.regulator._records import BankProfile as BankProfile
from dcep.regulator._records import FundsFlow as FundsFlow
from dcep.regulator._records import PartyRole as PartyRole
from dcep.regulator._records import WalletProfile as WalletProfile
from dcep.regulator._reports import BankDayReport as BankDayReport
from dcep.regulator._reports import DailyReport as DailyReport
from dcep.regulator._reports import daily_report as daily_report
from dcep.regulator._screening import Screener as Screener
from dcep.regulator._screening import calibrate as calibrate
from dcep.regulator._screening import screen as screen
from dcep.regulator._tracing import trace_backward as trace_backward
from dcep.regulator._tracing import trace_forward as trace_forward
from dcep.regulator._typologies import BankRunRule as BankRunRule
from dcep.regulator._typologies import CycleRule as CycleRule
from dcep.regulator._typologies import GatherScatterRule as GatherScatterRule
from dcep.regulator._typologies import ScatterGatherRule as ScatterGatherRule
from dcep.regulator._view import RegulatorView as RegulatorView
from dcep.regulator._window import FlowWindow as FlowWindow
from dcep.regulator._window import WindowRule as WindowRule

__all__ = [
    "Alert",
    "AllocationRule",
    "AmlRule",
    "BankDayReport",
    "BankProfile",
    "BankRunRule",
    "CycleRule",
    "DailyReport",
    "DormancyRule",
    "FanRule",
    "FlowGraph",
    "FlowWindow",
    "FreezeRecord",
    "FundsFlow",
    "GatherScatterRule",
    "LargeValueRule",
    "MuleRule",
    "PartyRole",
    "PassThroughRule",
    "ProgrammableView",
    "RegulatorProfile",
    "RegulatorView",
    "ScatterGatherRule",
    "Screener",
    "StructuringRule",
    "TraceDirection",
    "TraceEdge",
    "TraceNode",
    "WalletProfile",
    "WarrantRecord",
    "WindowRule",
    "calibrate",
    "daily_report",
    "default_rules",
    "screen",
    "trace_backward",
    "trace_forward",
]

_claim(__name__, globals(), __all__)
