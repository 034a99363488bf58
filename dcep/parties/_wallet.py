"""A wallet holder: pays other wallets and defunds to its linked bank account."""

from __future__ import annotations

from typing import TYPE_CHECKING, final

from dcep.core._records import Receipt
from dcep.instructions._encoding import SignedInstruction
from dcep.instructions._kinds import (
    Defund,
    Transfer,
)
from dcep.ledger._ledger import Ledger
from dcep.parties._signer import Signer
from dcep.values._crypto import Address, SigningKey
from dcep.values._money import Amount
from dcep.values._policy import WalletCategory

if TYPE_CHECKING:
    from dcep.parties._bank import Bank

__all__ = ["Wallet"]


@final
class Wallet(Signer):
    """A user's wallet: holds its own key, so only it can move its money."""

    # A bank hands out the wallet it already has (weakly referenced) rather than a
    # second object numbering the same key's instructions.
    __slots__ = ("__weakref__", "_category", "_operator")

    def __init__(
        self, ledger: Ledger, key: SigningKey, *, category: WalletCategory, operator: Bank
    ) -> None:
        super().__init__(ledger, key)
        self._category = category
        self._operator = operator

    @property
    def category(self) -> WalletCategory:
        """The wallet's e-CNY category, 1 to 4."""
        return self._category

    @property
    def operator(self) -> Bank:
        """The bank that opened and operates this wallet."""
        return self._operator

    @property
    def balance(self) -> Amount:
        """What the ledger says this wallet holds now."""
        return self._ledger.balance(self.address)

    def sign_payment(
        self, payee: Wallet | Address, amount: Amount, *, memo: str = ""
    ) -> SignedInstruction:
        """Sign a payment without submitting it, for batches and offline hand-over."""
        to = payee.address if isinstance(payee, Wallet) else payee
        return self._sign(
            lambda id_, seq: Transfer(
                id_, seq, payer=self.address, payee=to, amount=amount, memo=memo
            )
        )

    def pay(self, payee: Wallet | Address, amount: Amount, *, memo: str = "") -> Receipt:
        """Pay ``amount`` to ``payee``; returns the receipt or raises why not."""
        return self._ledger.submit(self.sign_payment(payee, amount, memo=memo))

    def defund(self, amount: Amount, *, to_account: str | None = None) -> Receipt:
        """Return ``amount`` to the bank, into the linked (or named) deposit account."""
        target = to_account or ""
        return self._submit(
            lambda id_, seq: Defund(
                id_, seq, wallet=self.address, amount=amount, to_account=target
            )
        )

    def __repr__(self) -> str:
        return f"<Wallet {self.address} category {int(self._category)}>"
