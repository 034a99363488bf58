"""What the ledger hands back: receipts, journal entries and read-only views.

All frozen.  Postings are the money movements an accepted instruction made,
named by account, so that readers of the journal (the regulator view, a
replica, a report) learn who paid whom without reaching into the ledger.
"""

from __future__ import annotations

import enum
from typing import final

import attrs

from dcep.errors import DcepError, Reason
from dcep.instructions._conditions import Condition
from dcep.instructions._encoding import SignedInstruction
from dcep.instructions._kinds import InstructionKind
from dcep.values._codes import InstitutionCode
from dcep.values._crypto import Address, VerifyKey
from dcep.values._money import Amount
from dcep.values._policy import WalletCategory

__all__ = [
    "AccountKind",
    "BankInfo",
    "CentralBankInfo",
    "DailySweep",
    "DeviceInfo",
    "LedgerEntry",
    "PendingPayment",
    "Posting",
    "Receipt",
    "Rejection",
    "SupplyReport",
    "Voucher",
    "WalletInfo",
]


@enum.unique
class AccountKind(enum.StrEnum):
    """The balances a posting can change."""

    #: A bank's reserves at the central bank (central-bank money, not e-CNY).
    RESERVES = "reserves"
    #: e-CNY held in a bank's vault, between issuance and wallets.
    VAULT = "vault"
    #: e-CNY held in a user wallet.
    WALLET = "wallet"
    #: A customer's deposit at a bank (commercial-bank money, outside the e-CNY supply).
    DEPOSIT = "deposit"
    #: Cash a bank took in at the counter in exchange for e-CNY.
    CASH = "cash"
    #: e-CNY of a wallet held for one pending payment (``account_id``: its id),
    #: part of the wallet's holdings (its ``WALLET`` balance), which no one can
    #: spend until the payment is posted, voided or expires.  A lien on the
    #: wallet, not a second place money is: the supply counts it once.
    RESERVED = "reserved"
    #: e-CNY an issuer's wallet set aside for one voucher (``account_id``: its
    #: id): in the issuer's holdings until the holder spends it at a merchant,
    #: or it expires and is the issuer's to spend again.
    VOUCHER = "voucher"
    #: e-CNY of a wallet loaded onto one of its hardware wallets (``account_id``:
    #: the device's address, in hex) for offline payments: in the wallet's
    #: holdings, spent only by the device's tokens as they settle.
    OFFLINE = "offline"
    #: What payees of a cloned device accepted offline and its allowance could
    #: not pay (``account_id``: the device's address, in hex), by wallet: a
    #: named loss, counted and never money: no e-CNY holds it up.
    OFFLINE_LOSS = "offline_loss"


@final
@attrs.frozen
class Posting:
    """One balance change: ``delta_fen`` on the ``kind`` account of ``owner``.

    ``account_id`` names the deposit account for :attr:`AccountKind.DEPOSIT`
    postings and is empty otherwise.
    """

    kind: AccountKind
    owner: Address
    delta_fen: int
    account_id: str = ""


@final
@attrs.frozen
class Receipt:
    """Proof of acceptance: which entry, when, and what moved."""

    entry_number: int
    instruction_id: int
    kind: InstructionKind
    signer: Address
    accepted_at_us: int
    postings: tuple[Posting, ...]


@final
@attrs.frozen
class LedgerEntry:
    """An accepted instruction as readers of the journal see it."""

    receipt: Receipt
    signed: SignedInstruction
    #: The receipt's postings in their journal encoding, computed once by the
    #: ledger (which keeps them for idempotency) and reused by the journal.
    postings_encoded: bytes = attrs.field(repr=False)

    @property
    def number(self) -> int:
        """The entry's position in the ledger's history, from 0."""
        return self.receipt.entry_number


@final
@attrs.frozen
class Rejection:
    """A refused instruction in a batch: the error, as data."""

    instruction_id: int | None
    error: DcepError

    @property
    def reason(self) -> Reason:
        """The machine-readable reason the instruction was refused."""
        return self.error.reason


@final
@attrs.frozen
class CentralBankInfo:
    """The ledger's issuer, fixed by the genesis instruction."""

    name: str
    code: InstitutionCode
    key: VerifyKey
    address: Address


@final
@attrs.frozen
class BankInfo:
    """A snapshot of an authorised operator's books."""

    name: str
    code: InstitutionCode
    address: Address
    reserves_pledged: Amount
    reserves_available: Amount
    outstanding_issuance: Amount
    vault: Amount
    cash: Amount
    customer_deposits: Amount
    wallet_count: int


@final
@attrs.frozen
class WalletInfo:
    """A snapshot of one wallet as the ledger knows it: by address, never by holder.

    The ledger keeps no wallet's public key: the address is the key's hash,
    and each instruction the wallet signs carries the key, checked against it.
    ``parent`` is the wallet a sub-wallet belongs to (``None`` for a wallet
    of its own), a fact of the ledger like the operator; ``closed`` says the
    wallet was closed and holds, receives and signs nothing.  A ``corporate``
    wallet (and its sub-wallets) is owned by a business; its ``category`` is
    then :attr:`~dcep.WalletCategory.IN_PERSON` and decides nothing.
    """

    address: Address
    category: WalletCategory
    operator: Address
    linked_account: str
    balance: Amount
    spent_today: Amount
    spent_this_year: Amount
    parent: Address | None = None
    closed: bool = False
    #: Of ``balance``, what is held for pending payments, vouchers the wallet
    #: issued and its hardware wallets' offline allowances: its, but not
    #: spendable online (``balance - reserved`` is).
    reserved: Amount = attrs.field(factory=lambda: Amount(0))
    #: Owned by a business: the policy's corporate limits bind it, whatever ``category`` says.
    corporate: bool = False


@final
@attrs.frozen
class SupplyReport:
    """Where all e-CNY is: ``issued - redeemed == in_vaults + in_wallets``.

    ``backed_by_reserves`` is how much of what is outstanding the operators'
    reserves at the central bank hold up: all of it in the 2021 reserve
    mode; in 2026 the reserve ratio of each bank's (the rest is the bank's
    own deposit liability) and all of each payment institution's.
    """

    issued: Amount
    redeemed: Amount
    in_vaults: Amount
    in_wallets: Amount
    backed_by_reserves: Amount
    #: What payees of cloned hardware wallets accepted offline and were not
    #: paid: a loss, outside the supply (no e-CNY was made to cover it).
    lost_offline: Amount = attrs.field(factory=lambda: Amount(0))

    @property
    def outstanding(self) -> Amount:
        """e-CNY issued and not yet redeemed."""
        return self.issued - self.redeemed


@final
@attrs.frozen
class PendingPayment:
    """A payment in its first phase: reserved by ``payer``, not yet posted, voided or expired.

    ``payer`` and ``id`` (the id of the :class:`~dcep.instructions.PayPending`
    that made it) name it; ``amount`` is held in the payer's wallet until
    ``expires_at_us`` at the latest; posting needs every one of
    ``conditions``.
    """

    payer: Address
    id: int
    payee: Address
    amount: Amount
    expires_at_us: int
    conditions: tuple[Condition, ...]
    memo: str
    created_entry: int
    created_at_us: int


@final
@attrs.frozen
class Voucher:
    """Money an issuer set aside for ``holder`` to spend only for a purpose, until it expires.

    ``issuer`` and ``id`` (of the :class:`~dcep.instructions.IssueVoucher`)
    name it.  ``amount`` is what is left.  The holder may pay it only to a
    wallet in ``merchants`` or operated by a bank whose institution code is
    one of ``regions`` or under one; what is left at ``expires_at_us`` is the
    issuer's to spend again.  Until spent it is the issuer's money, never
    the holder's: a merchant paid with it holds ordinary money.
    """

    issuer: Address
    id: int
    holder: Address
    amount: Amount
    expires_at_us: int
    regions: tuple[InstitutionCode, ...]
    merchants: tuple[Address, ...]
    memo: str
    created_entry: int
    created_at_us: int


@final
@attrs.frozen
class DeviceInfo:
    """A hardware wallet as the ledger knows it: its wallet, allowance and record.

    ``allowance`` is what its offline tokens may still spend, ``paid`` what
    they paid payees, ``lost`` what payees accepted from a clone of it and
    its allowance could not pay; ``blocked`` says a clone was found;
    ``settled`` counts the counters settled, ``counter_limit`` is the
    highest counter the ledger settles before the device is loaded again.
    """

    address: Address
    key: VerifyKey
    wallet: Address
    allowance: Amount
    paid: Amount
    lost: Amount
    blocked: bool
    settled: int
    counter_limit: int


@final
@attrs.frozen
class DailySweep:
    """A corporate wallet's standing sweep to its linked deposit account.

    Due each local day (the policy's time zone) from minute ``at_minute``
    on; each sweep moves everything above ``keep``.  ``last_swept_day`` is
    the local day number of the last sweep (``None``: none yet), so that a
    second sweep that day is refused.
    """

    wallet: Address
    at_minute: int
    keep: Amount
    last_swept_day: int | None = None

    def due_from_us(self, day: int, utc_offset_minutes: int) -> int:
        """When the sweep of local day ``day`` becomes due, in microseconds from 1970."""
        return (day * 24 * 60 + self.at_minute - utc_offset_minutes) * 60_000_000
