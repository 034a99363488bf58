"""The parties who hold keys: the central bank, banks, wallets and regulators.

Each numbers, signs and submits its own instructions to a
:class:`~dcep.Ledger`: the :class:`CentralBank` issues to a :class:`Bank`
against its reserves; the bank opens and funds each :class:`Wallet`; a
:class:`Regulator` freezes wallets and, under a journalled warrant, learns
who holds one.  Each bank keeps its customers' records in a
:class:`CustomerStore` of its own (:class:`SqliteCustomerStore` for a bank
that outlives its process), never in the ledger.
"""

from dcep._exports import claim as _claim
from dcep.parties._bank import Bank as Bank
from dcep.parties._central_bank import CentralBank as CentralBank
from dcep.parties._customers import CustomerRecovery as CustomerRecovery
from dcep.parties._customers import CustomerStore as CustomerStore
from dcep.parties._customers import KeptCustomer as KeptCustomer
from dcep.parties._customers import MemoryCustomerStore as MemoryCustomerStore
from dcep.parties._customers import PendingUpdate as PendingUpdate
from dcep.parties._customers import SqliteCustomerStore as SqliteCustomerStore
from dcep.parties._device import Device as Device
from dcep.parties._regulator import Regulator as Regulator
from dcep.parties._signer import LinkedBatch as LinkedBatch
from dcep.parties._wallet import Wallet as Wallet

__all__ = [
    "Bank",
    "CentralBank",
    "CustomerRecovery",
    "CustomerStore",
    "Device",
    "KeptCustomer",
    "LinkedBatch",
    "MemoryCustomerStore",
    "PendingUpdate",
    "Regulator",
    "SqliteCustomerStore",
    "Wallet",
]

_claim(__name__, globals(), __all__)
