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
    "LedgerEntry",
    "Posting",
    "Receipt",
    "Rejection",
    "SupplyReport",
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
    """A snapshot of one wallet as the ledger knows it: by key, never by holder.

    ``parent`` is the wallet a sub-wallet belongs to (``None`` for a wallet
    of its own), a fact of the ledger like the operator; ``closed`` says the
    wallet was closed and holds, receives and signs nothing.
    """

    address: Address
    key: VerifyKey
    category: WalletCategory
    operator: Address
    linked_account: str
    balance: Amount
    spent_today: Amount
    spent_this_year: Amount
    parent: Address | None = None
    closed: bool = False


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

    @property
    def outstanding(self) -> Amount:
        """e-CNY issued and not yet redeemed."""
        return self.issued - self.redeemed
