"""The closed set of signed instructions and their one canonical encoding.

Every change to the ledger is one of these frozen records
(:class:`Transfer`, :class:`Issue`, :class:`OpenWallet`, ...), numbered by
:class:`InstructionKind`, encoded by :func:`encode_instruction` and signed
into a :class:`SignedInstruction` envelope bound to one network.  Parties
build them for you; this module is for those who sign offline, decode
journals, or add a kind.
"""

from dcep._exports import claim as _claim
from dcep.instructions._conditions import Approval as Approval
from dcep.instructions._conditions import ApprovedBy as ApprovedBy
from dcep.instructions._conditions import HashAlgorithm as HashAlgorithm
from dcep.instructions._conditions import HashLock as HashLock
from dcep.instructions._conditions import NotBefore as NotBefore
from dcep.instructions._conditions import approve_release as approve_release
from dcep.instructions._encoding import SignedInstruction as SignedInstruction
from dcep.instructions._encoding import decode_instruction as decode_instruction
from dcep.instructions._encoding import encode_instruction as encode_instruction
from dcep.instructions._encoding import linked_digest as linked_digest
from dcep.instructions._kinds import SWEEP_OFF as SWEEP_OFF
from dcep.instructions._kinds import AccrueInterest as AccrueInterest
from dcep.instructions._kinds import AppointRegulator as AppointRegulator
from dcep.instructions._kinds import AuthoriseBank as AuthoriseBank
from dcep.instructions._kinds import ChangeCategory as ChangeCategory
from dcep.instructions._kinds import CloseSubWallet as CloseSubWallet
from dcep.instructions._kinds import CloseWallet as CloseWallet
from dcep.instructions._kinds import CollectFromSubWallet as CollectFromSubWallet
from dcep.instructions._kinds import Defund as Defund
from dcep.instructions._kinds import Disclosure as Disclosure
from dcep.instructions._kinds import Freeze as Freeze
from dcep.instructions._kinds import Fund as Fund
from dcep.instructions._kinds import Genesis as Genesis
from dcep.instructions._kinds import Instruction as Instruction
from dcep.instructions._kinds import InstructionKind as InstructionKind
from dcep.instructions._kinds import Issue as Issue
from dcep.instructions._kinds import IssueVoucher as IssueVoucher
from dcep.instructions._kinds import LinkBatch as LinkBatch
from dcep.instructions._kinds import LoadOffline as LoadOffline
from dcep.instructions._kinds import OpenCorporateWallet as OpenCorporateWallet
from dcep.instructions._kinds import OpenSubWallet as OpenSubWallet
from dcep.instructions._kinds import OpenWallet as OpenWallet
from dcep.instructions._kinds import PayIn as PayIn
from dcep.instructions._kinds import PayPending as PayPending
from dcep.instructions._kinds import PostPending as PostPending
from dcep.instructions._kinds import Redeem as Redeem
from dcep.instructions._kinds import RegisterDevice as RegisterDevice
from dcep.instructions._kinds import SetDailySweep as SetDailySweep
from dcep.instructions._kinds import SettleOffline as SettleOffline
from dcep.instructions._kinds import SpendVoucher as SpendVoucher
from dcep.instructions._kinds import TopUpSubWallet as TopUpSubWallet
from dcep.instructions._kinds import Transfer as Transfer
from dcep.instructions._kinds import Unfreeze as Unfreeze
from dcep.instructions._kinds import UnloadOffline as UnloadOffline
from dcep.instructions._kinds import VoidPending as VoidPending
from dcep.instructions._kinds import Warrant as Warrant
from dcep.instructions._offline import OfflineToken as OfflineToken
from dcep.instructions._offline import sign_token as sign_token

__all__ = [
    "SWEEP_OFF",
    "AccrueInterest",
    "AppointRegulator",
    "Approval",
    "ApprovedBy",
    "AuthoriseBank",
    "ChangeCategory",
    "CloseSubWallet",
    "CloseWallet",
    "CollectFromSubWallet",
    "Defund",
    "Disclosure",
    "Freeze",
    "Fund",
    "Genesis",
    "HashAlgorithm",
    "HashLock",
    "Instruction",
    "InstructionKind",
    "Issue",
    "IssueVoucher",
    "LinkBatch",
    "LoadOffline",
    "NotBefore",
    "OfflineToken",
    "OpenCorporateWallet",
    "OpenSubWallet",
    "OpenWallet",
    "PayIn",
    "PayPending",
    "PostPending",
    "Redeem",
    "RegisterDevice",
    "SetDailySweep",
    "SettleOffline",
    "SignedInstruction",
    "SpendVoucher",
    "TopUpSubWallet",
    "Transfer",
    "Unfreeze",
    "UnloadOffline",
    "VoidPending",
    "Warrant",
    "approve_release",
    "decode_instruction",
    "encode_instruction",
    "linked_digest",
    "sign_token",
]

_claim(__name__, globals(), __all__)
