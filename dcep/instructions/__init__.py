"""The closed set of signed instructions and their one canonical encoding.

Every change to the ledger is one of these frozen records
(:class:`Transfer`, :class:`Issue`, :class:`OpenWallet`, ...), numbered by
:class:`InstructionKind`, encoded by :func:`encode_instruction` and signed
into a :class:`SignedInstruction` envelope bound to one network.  Parties
build them for you; this module is for those who sign offline, decode
journals, or add a kind.
"""

from dcep._exports import claim as _claim
from dcep.instructions._encoding import SignedInstruction as SignedInstruction
from dcep.instructions._encoding import decode_instruction as decode_instruction
from dcep.instructions._encoding import encode_instruction as encode_instruction
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
from dcep.instructions._kinds import OpenSubWallet as OpenSubWallet
from dcep.instructions._kinds import OpenWallet as OpenWallet
from dcep.instructions._kinds import PayIn as PayIn
from dcep.instructions._kinds import Redeem as Redeem
from dcep.instructions._kinds import TopUpSubWallet as TopUpSubWallet
from dcep.instructions._kinds import Transfer as Transfer
from dcep.instructions._kinds import Unfreeze as Unfreeze
from dcep.instructions._kinds import Warrant as Warrant

__all__ = [
    "AccrueInterest",
    "AppointRegulator",
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
    "Instruction",
    "InstructionKind",
    "Issue",
    "OpenSubWallet",
    "OpenWallet",
    "PayIn",
    "Redeem",
    "SignedInstruction",
    "TopUpSubWallet",
    "Transfer",
    "Unfreeze",
    "Warrant",
    "decode_instruction",
    "encode_instruction",
]

_claim(__name__, globals(), __all__)
