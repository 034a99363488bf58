"""dcep: a two-tier central-bank digital currency ledger, modelled on China's e-CNY.

The central bank issues e-CNY to authorised banks against their reserves;
banks open and fund user wallets of four KYC categories; wallets pay each
other with Ed25519-signed transfers; and the ledger proves at any moment that
no money was created or lost.  Everything public is re-exported here; the
modules behind it are private and may move.

>>> import dcep
>>> ledger = dcep.Ledger()
>>> pboc = dcep.CentralBank(ledger)
>>> icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=dcep.cny("1000000"))
>>> _ = pboc.issue(icbc, dcep.cny("500000"))
>>> alice = icbc.open_wallet(category=4, phone="13800000000")
>>> _ = icbc.fund(alice, dcep.cny("200"))
>>> bob = icbc.open_wallet(category=4, phone="13900000000")
>>> _ = alice.pay(bob, dcep.cny("12.50"), memo="noodles")
>>> print(ledger.balance(alice.address), ledger.balance(bob.address))
¥187.50 ¥12.50
>>> ledger.check_invariants().outstanding
Amount(fen=50000000)
"""

from dcep._alerts import Alert as Alert
from dcep._alerts import Rule as Rule
from dcep._aml import DormancyRule as DormancyRule
from dcep._aml import FanRule as FanRule
from dcep._aml import LargeValueRule as LargeValueRule
from dcep._aml import MuleRule as MuleRule
from dcep._aml import PassThroughRule as PassThroughRule
from dcep._aml import StructuringRule as StructuringRule
from dcep._aml import default_rules as default_rules
from dcep._aml import screen as screen
from dcep._aml_reports import BankDayReport as BankDayReport
from dcep._aml_reports import DailyReport as DailyReport
from dcep._aml_reports import daily_report as daily_report
from dcep._clock import Clock as Clock
from dcep._clock import ManualClock as ManualClock
from dcep._clock import SystemClock as SystemClock
from dcep._codes import CodeRegistry as CodeRegistry
from dcep._codes import InstitutionCode as InstitutionCode
from dcep._crypto import Address as Address
from dcep._crypto import SigningKey as SigningKey
from dcep._crypto import VerifyKey as VerifyKey
from dcep._disclosure import CustomerRecord as CustomerRecord
from dcep._encoding import SignedInstruction as SignedInstruction
from dcep._encoding import decode_instruction as decode_instruction
from dcep._encoding import encode_instruction as encode_instruction
from dcep._errors import AmountError as AmountError
from dcep._errors import CodeError as CodeError
from dcep._errors import DcepError as DcepError
from dcep._errors import DuplicateError as DuplicateError
from dcep._errors import EncodingError as EncodingError
from dcep._errors import InsufficientFundsError as InsufficientFundsError
from dcep._errors import InvalidFieldError as InvalidFieldError
from dcep._errors import InvariantError as InvariantError
from dcep._errors import JournalError as JournalError
from dcep._errors import LimitExceededError as LimitExceededError
from dcep._errors import NotAuthorisedError as NotAuthorisedError
from dcep._errors import Reason as Reason
from dcep._errors import SequenceError as SequenceError
from dcep._errors import SignatureError as SignatureError
from dcep._errors import UnknownPartyError as UnknownPartyError
from dcep._flowgraph import AllocationRule as AllocationRule
from dcep._flowgraph import Direction as Direction
from dcep._flowgraph import FlowGraph as FlowGraph
from dcep._flowgraph import TraceEdge as TraceEdge
from dcep._flowgraph import TraceNode as TraceNode
from dcep._instructions import AppointRegulator as AppointRegulator
from dcep._instructions import AuthoriseBank as AuthoriseBank
from dcep._instructions import Defund as Defund
from dcep._instructions import Disclosure as Disclosure
from dcep._instructions import Freeze as Freeze
from dcep._instructions import Fund as Fund
from dcep._instructions import Genesis as Genesis
from dcep._instructions import Instruction as Instruction
from dcep._instructions import Issue as Issue
from dcep._instructions import Kind as Kind
from dcep._instructions import OpenWallet as OpenWallet
from dcep._instructions import PayIn as PayIn
from dcep._instructions import Redeem as Redeem
from dcep._instructions import Transfer as Transfer
from dcep._instructions import Unfreeze as Unfreeze
from dcep._instructions import Warrant as Warrant
from dcep._journal import Durability as Durability
from dcep._journal import Journal as Journal
from dcep._journal import RecoveryReport as RecoveryReport
from dcep._journal_records import Block as Block
from dcep._journal_records import BlockHeader as BlockHeader
from dcep._journal_records import JournalEntry as JournalEntry
from dcep._ledger import Ledger as Ledger
from dcep._money import MAX_AMOUNT_FEN as MAX_AMOUNT_FEN
from dcep._money import Amount as Amount
from dcep._money import cny as cny
from dcep._policy import CategoryLimits as CategoryLimits
from dcep._policy import KycField as KycField
from dcep._policy import Policy as Policy
from dcep._policy import ReserveMode as ReserveMode
from dcep._policy import WalletCategory as WalletCategory
from dcep._proofs import EntryProof as EntryProof
from dcep._proofs import prove_entry as prove_entry
from dcep._proofs import verify_entry_proof as verify_entry_proof
from dcep._records import AccountKind as AccountKind
from dcep._records import BankInfo as BankInfo
from dcep._records import CentralBankInfo as CentralBankInfo
from dcep._records import Entry as Entry
from dcep._records import Posting as Posting
from dcep._records import Receipt as Receipt
from dcep._records import Rejection as Rejection
from dcep._records import SupplyReport as SupplyReport
from dcep._records import WalletInfo as WalletInfo
from dcep._regulator import RegulatorView as RegulatorView
from dcep._regulator_records import BankProfile as BankProfile
from dcep._regulator_records import Flow as Flow
from dcep._regulator_records import PartyRole as PartyRole
from dcep._regulator_records import WalletProfile as WalletProfile
from dcep._replica import Replica as Replica
from dcep._replica import VerificationReport as VerificationReport
from dcep._roles import Bank as Bank
from dcep._roles import CentralBank as CentralBank
from dcep._roles import Regulator as Regulator
from dcep._roles import Wallet as Wallet
from dcep._sentinels import SentinelPool as SentinelPool
from dcep._sqlite_store import SqliteStore as SqliteStore
from dcep._storage import MemoryStore as MemoryStore
from dcep._storage import Store as Store
from dcep._supervision_log import FreezeRecord as FreezeRecord
from dcep._supervision_log import RegulatorProfile as RegulatorProfile
from dcep._supervision_log import WarrantRecord as WarrantRecord
from dcep._tracing import trace_backward as trace_backward
from dcep._tracing import trace_forward as trace_forward

__version__ = "0.1.0.dev0"

__all__ = [
    "MAX_AMOUNT_FEN",
    "AccountKind",
    "Address",
    "Alert",
    "AllocationRule",
    "Amount",
    "AmountError",
    "AppointRegulator",
    "AuthoriseBank",
    "Bank",
    "BankDayReport",
    "BankInfo",
    "BankProfile",
    "Block",
    "BlockHeader",
    "CategoryLimits",
    "CentralBank",
    "CentralBankInfo",
    "Clock",
    "CodeError",
    "CodeRegistry",
    "CustomerRecord",
    "DailyReport",
    "DcepError",
    "Defund",
    "Direction",
    "Disclosure",
    "DormancyRule",
    "DuplicateError",
    "Durability",
    "EncodingError",
    "Entry",
    "EntryProof",
    "FanRule",
    "Flow",
    "FlowGraph",
    "Freeze",
    "FreezeRecord",
    "Fund",
    "Genesis",
    "InstitutionCode",
    "Instruction",
    "InsufficientFundsError",
    "InvalidFieldError",
    "InvariantError",
    "Issue",
    "Journal",
    "JournalEntry",
    "JournalError",
    "Kind",
    "KycField",
    "LargeValueRule",
    "Ledger",
    "LimitExceededError",
    "ManualClock",
    "MemoryStore",
    "MuleRule",
    "NotAuthorisedError",
    "OpenWallet",
    "PartyRole",
    "PassThroughRule",
    "PayIn",
    "Policy",
    "Posting",
    "Reason",
    "Receipt",
    "RecoveryReport",
    "Redeem",
    "Regulator",
    "RegulatorProfile",
    "RegulatorView",
    "Rejection",
    "Replica",
    "ReserveMode",
    "Rule",
    "SentinelPool",
    "SequenceError",
    "SignatureError",
    "SignedInstruction",
    "SigningKey",
    "SqliteStore",
    "Store",
    "StructuringRule",
    "SupplyReport",
    "SystemClock",
    "TraceEdge",
    "TraceNode",
    "Transfer",
    "Unfreeze",
    "UnknownPartyError",
    "VerificationReport",
    "VerifyKey",
    "Wallet",
    "WalletCategory",
    "WalletInfo",
    "WalletProfile",
    "Warrant",
    "WarrantRecord",
    "cny",
    "daily_report",
    "decode_instruction",
    "default_rules",
    "encode_instruction",
    "prove_entry",
    "screen",
    "trace_backward",
    "trace_forward",
    "verify_entry_proof",
]
