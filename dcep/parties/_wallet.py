"""A wallet holder: pays other wallets, defunds to its linked bank account, keeps sub-wallets."""

from __future__ import annotations

from typing import TYPE_CHECKING, final

from dcep.core._records import Receipt
from dcep.errors import DcepError
from dcep.instructions._encoding import SignedInstruction
from dcep.instructions._kinds import (
    CloseSubWallet,
    CollectFromSubWallet,
    Defund,
    OpenSubWallet,
    TopUpSubWallet,
    Transfer,
)
from dcep.ledger._ledger import Ledger
from dcep.parties._signer import Seed, Signer, master_seed
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
        """The wallet's e-CNY category, 1 to 4, as the ledger has it now."""
        try:
            return self._ledger.wallet(self.address).category
        except DcepError:
            return self._category  # signed for, but not (yet) on the ledger

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

    @property
    def parent(self) -> Address | None:
        """The wallet this sub-wallet belongs to, or ``None`` for a wallet of its own."""
        return self._ledger.wallet(self.address).parent

    @property
    def closed(self) -> bool:
        """Whether the wallet was closed: it then holds, receives and signs nothing."""
        return self._ledger.wallet(self.address).closed

    def open_sub_wallet(
        self,
        *,
        balance_cap: Amount | None = None,
        single_payment_cap: Amount | None = None,
        daily_cap: Amount | None = None,
        annual_cap: Amount | None = None,
        seed: Seed = None,
    ) -> Wallet:
        """Open a sub-wallet (a till, a subscription, an allowance) with its own key.

        Each cap left ``None`` is this wallet's; one given must not be above
        it (``SUB_WALLET_CAP_ABOVE_PARENT``).  The sub-wallet's payments also
        count toward this wallet's daily and annual caps, and the two hold
        together no more than this wallet's balance cap.  Its key derives
        from ``seed`` (for simulations), else from fresh randomness; keep the
        returned wallet, or its seed, to sign for it again.
        """
        key = SigningKey.derive(master_seed(seed), "wallet")
        none = Amount(0)
        self._submit(
            lambda id_, seq: OpenSubWallet(
                id_,
                seq,
                parent=self.address,
                sub_wallet_key=key.verify_key,
                balance_cap=none if balance_cap is None else balance_cap,
                single_payment_cap=none if single_payment_cap is None else single_payment_cap,
                daily_cap=none if daily_cap is None else daily_cap,
                annual_cap=none if annual_cap is None else annual_cap,
            )
        )
        return Wallet(self._ledger, key, category=self.category, operator=self._operator)

    def top_up(self, sub_wallet: Wallet | Address, amount: Amount) -> Receipt:
        """Move ``amount`` into one of this wallet's sub-wallets (not a payment)."""
        to = sub_wallet.address if isinstance(sub_wallet, Wallet) else sub_wallet
        return self._submit(
            lambda id_, seq: TopUpSubWallet(
                id_, seq, parent=self.address, sub_wallet=to, amount=amount
            )
        )

    def collect(self, sub_wallet: Wallet | Address, amount: Amount) -> Receipt:
        """Take ``amount`` back from one of this wallet's sub-wallets."""
        source = sub_wallet.address if isinstance(sub_wallet, Wallet) else sub_wallet
        return self._submit(
            lambda id_, seq: CollectFromSubWallet(
                id_, seq, parent=self.address, sub_wallet=source, amount=amount
            )
        )

    def close_sub_wallet(self, sub_wallet: Wallet | Address) -> Receipt:
        """Close one of this wallet's sub-wallets; what it holds comes back here."""
        closing = sub_wallet.address if isinstance(sub_wallet, Wallet) else sub_wallet
        return self._submit(
            lambda id_, seq: CloseSubWallet(id_, seq, parent=self.address, sub_wallet=closing)
        )

    def __repr__(self) -> str:
        return f"<Wallet {self.address} category {int(self._category)}>"
