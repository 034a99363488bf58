"""Values every other layer is made of: money, keys, institution codes, clocks, policy.

Nothing here knows what a ledger is.  Amounts are whole fen
(:class:`Amount`, :func:`cny`); keys and addresses wrap PyNaCl's Ed25519;
institution codes follow China's City IDcode (``MA.156.1301.01``); time
comes only from a :class:`Clock`; secrets at rest live in a
passphrase-encrypted :class:`KeyFile`; the :class:`Policy` holds the wallet
categories' caps and the reserve mode.  The everyday names are also at the
top of :mod:`dcep`.
"""

from dcep._exports import claim as _claim
from dcep.values._clock import Clock as Clock
from dcep.values._clock import ManualClock as ManualClock
from dcep.values._clock import SystemClock as SystemClock
from dcep.values._codes import CodeRegistry as CodeRegistry
from dcep.values._codes import InstitutionCode as InstitutionCode
from dcep.values._crypto import Address as Address
from dcep.values._crypto import SigningKey as SigningKey
from dcep.values._crypto import VerifyKey as VerifyKey
from dcep.values._disclosure import CustomerRecord as CustomerRecord
from dcep.values._keyfile import KeyFile as KeyFile
from dcep.values._money import FEN_PER_YUAN as FEN_PER_YUAN
from dcep.values._money import MAX_AMOUNT_FEN as MAX_AMOUNT_FEN
from dcep.values._money import Amount as Amount
from dcep.values._money import cny as cny
from dcep.values._policy import CategoryLimits as CategoryLimits
from dcep.values._policy import KycField as KycField
from dcep.values._policy import Policy as Policy
from dcep.values._policy import ReserveMode as ReserveMode
from dcep.values._policy import WalletCategory as WalletCategory

__all__ = [
    "FEN_PER_YUAN",
    "MAX_AMOUNT_FEN",
    "Address",
    "Amount",
    "CategoryLimits",
    "Clock",
    "CodeRegistry",
    "CustomerRecord",
    "InstitutionCode",
    "KeyFile",
    "KycField",
    "ManualClock",
    "Policy",
    "ReserveMode",
    "SigningKey",
    "SystemClock",
    "VerifyKey",
    "WalletCategory",
    "cny",
]

_claim(__name__, globals(), __all__)
