"""dcep: a two-tier central-bank digital currency ledger, modelled on China's e-CNY.

The central bank issues e-CNY to authorised banks against their reserves;
banks open and fund user wallets of four KYC categories; wallets pay each
other with Ed25519-signed transfers; and the ledger proves at any moment that
no money was created or lost.

The names a researcher types every day are here.  The rest is in public
submodules, one per layer and audience: :mod:`dcep.errors`,
:mod:`dcep.values`, :mod:`dcep.instructions`, :mod:`dcep.core` (the state
machine), :mod:`dcep.journal` (entries, blocks, stores, proofs),
:mod:`dcep.ledger`, :mod:`dcep.parties`, :mod:`dcep.regulator`
(flows, tracing, AML) and :mod:`dcep.sim`.

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

from __future__ import annotations

import warnings as _warnings

from dcep.core import Receipt as Receipt
from dcep.errors import AmountError as AmountError
from dcep.errors import DcepError as DcepError
from dcep.errors import DuplicateError as DuplicateError
from dcep.errors import InsufficientFundsError as InsufficientFundsError
from dcep.errors import InvalidFieldError as InvalidFieldError
from dcep.errors import JournalError as JournalError
from dcep.errors import LimitExceededError as LimitExceededError
from dcep.errors import NotAuthorisedError as NotAuthorisedError
from dcep.errors import Reason as Reason
from dcep.errors import SequenceError as SequenceError
from dcep.errors import SignatureError as SignatureError
from dcep.errors import UnknownPartyError as UnknownPartyError
from dcep.ledger import Ledger as Ledger
from dcep.ledger import Replica as Replica
from dcep.parties import Bank as Bank
from dcep.parties import CentralBank as CentralBank
from dcep.parties import Regulator as Regulator
from dcep.parties import Wallet as Wallet
from dcep.regulator import RegulatorView as RegulatorView
from dcep.regulator import screen as screen
from dcep.regulator import trace_backward as trace_backward
from dcep.regulator import trace_forward as trace_forward
from dcep.values import Address as Address
from dcep.values import Amount as Amount
from dcep.values import CategoryLimits as CategoryLimits
from dcep.values import InstitutionCode as InstitutionCode
from dcep.values import ManualClock as ManualClock
from dcep.values import Policy as Policy
from dcep.values import ReserveMode as ReserveMode
from dcep.values import SystemClock as SystemClock
from dcep.values import WalletCategory as WalletCategory
from dcep.values import cny as cny

__version__ = "0.1.0.dev0"

#: Names that left the top level in 0.1: where each lives now.  They still
#: import, with a DeprecationWarning, until the next release.
_MOVED: dict[str, tuple[str, str]] = {
    "AccountKind": ("dcep.core", "AccountKind"),
    "Alert": ("dcep.regulator", "Alert"),
    "AllocationRule": ("dcep.regulator", "AllocationRule"),
    "AppointRegulator": ("dcep.instructions", "AppointRegulator"),
    "AuthoriseBank": ("dcep.instructions", "AuthoriseBank"),
    "BankDayReport": ("dcep.regulator", "BankDayReport"),
    "BankInfo": ("dcep.core", "BankInfo"),
    "BankProfile": ("dcep.regulator", "BankProfile"),
    "Block": ("dcep.journal", "SealedBlock"),
    "BlockHeader": ("dcep.journal", "BlockHeader"),
    "CentralBankInfo": ("dcep.core", "CentralBankInfo"),
    "Clock": ("dcep.values", "Clock"),
    "CodeError": ("dcep.errors", "CodeError"),
    "CodeRegistry": ("dcep.values", "CodeRegistry"),
    "CustomerRecord": ("dcep.values", "CustomerRecord"),
    "DailyReport": ("dcep.regulator", "DailyReport"),
    "Defund": ("dcep.instructions", "Defund"),
    "Direction": ("dcep.regulator", "TraceDirection"),
    "Disclosure": ("dcep.instructions", "Disclosure"),
    "DormancyRule": ("dcep.regulator", "DormancyRule"),
    "Durability": ("dcep.journal", "Durability"),
    "EncodingError": ("dcep.errors", "EncodingError"),
    "Entry": ("dcep.core", "LedgerEntry"),
    "EntryProof": ("dcep.journal", "EntryProof"),
    "FanRule": ("dcep.regulator", "FanRule"),
    "Flow": ("dcep.regulator", "FundsFlow"),
    "FlowGraph": ("dcep.regulator", "FlowGraph"),
    "Freeze": ("dcep.instructions", "Freeze"),
    "FreezeRecord": ("dcep.regulator", "FreezeRecord"),
    "Fund": ("dcep.instructions", "Fund"),
    "Genesis": ("dcep.instructions", "Genesis"),
    "Instruction": ("dcep.instructions", "Instruction"),
    "InvariantError": ("dcep.errors", "InvariantError"),
    "Issue": ("dcep.instructions", "Issue"),
    "Journal": ("dcep.journal", "Journal"),
    "JournalEntry": ("dcep.journal", "JournalEntry"),
    "Kind": ("dcep.instructions", "InstructionKind"),
    "KycField": ("dcep.values", "KycField"),
    "LargeValueRule": ("dcep.regulator", "LargeValueRule"),
    "MAX_AMOUNT_FEN": ("dcep.values", "MAX_AMOUNT_FEN"),
    "MemoryStore": ("dcep.journal", "MemoryStore"),
    "MuleRule": ("dcep.regulator", "MuleRule"),
    "OpenWallet": ("dcep.instructions", "OpenWallet"),
    "PartyRole": ("dcep.regulator", "PartyRole"),
    "PassThroughRule": ("dcep.regulator", "PassThroughRule"),
    "PayIn": ("dcep.instructions", "PayIn"),
    "Posting": ("dcep.core", "Posting"),
    "RecoveryReport": ("dcep.journal", "RecoveryReport"),
    "Redeem": ("dcep.instructions", "Redeem"),
    "RegulatorProfile": ("dcep.regulator", "RegulatorProfile"),
    "Rejection": ("dcep.core", "Rejection"),
    "Rule": ("dcep.regulator", "AmlRule"),
    "SentinelPool": ("dcep.core", "SentinelPool"),
    "SignedInstruction": ("dcep.instructions", "SignedInstruction"),
    "SigningKey": ("dcep.values", "SigningKey"),
    "SqliteStore": ("dcep.journal", "SqliteStore"),
    "Store": ("dcep.journal", "Store"),
    "StructuringRule": ("dcep.regulator", "StructuringRule"),
    "SupplyReport": ("dcep.core", "SupplyReport"),
    "TraceEdge": ("dcep.regulator", "TraceEdge"),
    "TraceNode": ("dcep.regulator", "TraceNode"),
    "Transfer": ("dcep.instructions", "Transfer"),
    "Unfreeze": ("dcep.instructions", "Unfreeze"),
    "VerificationReport": ("dcep.ledger", "VerificationReport"),
    "VerifyKey": ("dcep.values", "VerifyKey"),
    "WalletInfo": ("dcep.core", "WalletInfo"),
    "WalletProfile": ("dcep.regulator", "WalletProfile"),
    "Warrant": ("dcep.instructions", "Warrant"),
    "WarrantRecord": ("dcep.regulator", "WarrantRecord"),
    "daily_report": ("dcep.regulator", "daily_report"),
    "decode_instruction": ("dcep.instructions", "decode_instruction"),
    "default_rules": ("dcep.regulator", "default_rules"),
    "encode_instruction": ("dcep.instructions", "encode_instruction"),
    "prove_entry": ("dcep.journal", "prove_entry"),
    "verify_entry_proof": ("dcep.journal", "verify_entry_proof"),
}


def __getattr__(name: str) -> object:
    moved = _MOVED.get(name)
    if moved is None:
        raise AttributeError(f"module 'dcep' has no attribute {name!r}")
    module_name, new_name = moved
    _warnings.warn(
        f"dcep.{name} is now {module_name}.{new_name}; the old name goes in the next release",
        DeprecationWarning,
        stacklevel=2,
    )
    import importlib

    return getattr(importlib.import_module(module_name), new_name)


__all__ = [
    "Address",
    "Amount",
    "AmountError",
    "Bank",
    "CategoryLimits",
    "CentralBank",
    "DcepError",
    "DuplicateError",
    "InstitutionCode",
    "InsufficientFundsError",
    "InvalidFieldError",
    "JournalError",
    "Ledger",
    "LimitExceededError",
    "ManualClock",
    "NotAuthorisedError",
    "Policy",
    "Reason",
    "Receipt",
    "Regulator",
    "RegulatorView",
    "Replica",
    "ReserveMode",
    "SequenceError",
    "SignatureError",
    "SystemClock",
    "UnknownPartyError",
    "Wallet",
    "WalletCategory",
    "cny",
    "screen",
    "trace_backward",
    "trace_forward",
]
