"""A wallet holder: pays other wallets, defunds to its linked bank account, keeps
sub-wallets and hardware wallets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, final

from dcep.core._records import Receipt
from dcep.errors import DcepError, InvalidFieldError, Reason
from dcep.instructions._conditions import Approval, Condition
from dcep.instructions._encoding import SignedInstruction
from dcep.instructions._kinds import (
    SWEEP_OFF,
    CloseSubWallet,
    CollectFromSubWallet,
    Defund,
    IssueVoucher,
    LoadOffline,
    OpenSubWallet,
    PayPending,
    PostPending,
    RegisterDevice,
    SetDailySweep,
    SettleOffline,
    SpendVoucher,
    TopUpSubWallet,
    Transfer,
    UnloadOffline,
    VoidPending,
)
from dcep.instructions._offline import OfflineToken
from dcep.ledger._ledger import Ledger
from dcep.parties._device import Device
from dcep.parties._signer import Seed, Signer, master_seed
from dcep.values._codes import InstitutionCode
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

    def set_daily_sweep(self, *, at: str | None, keep: Amount | None = None) -> Receipt:
        """Sweep this corporate wallet to its linked account each day at ``at`` (``"HH:MM"``).

        As :meth:`Bank.set_daily_sweep`, signed by the wallet itself: the
        business sets its own sweep; its bank runs it.
        """
        minute = SWEEP_OFF if at is None else minute_of_day(at)
        kept = Amount(0) if keep is None else keep
        return self._submit(
            lambda id_, seq: SetDailySweep(
                id_, seq, wallet=self.address, at_minute=minute, keep=kept
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

    def sign_pending(
        self,
        payee: Wallet | Address,
        amount: Amount,
        *,
        expires_at_us: int,
        conditions: tuple[Condition, ...] = (),
        memo: str = "",
    ) -> SignedInstruction:
        """Sign a pending payment without submitting it (for a linked batch)."""
        to = payee.address if isinstance(payee, Wallet) else payee
        return self._sign(
            lambda id_, seq: PayPending(
                id_,
                seq,
                payer=self.address,
                payee=to,
                amount=amount,
                expires_at_us=expires_at_us,
                conditions=conditions,
                memo=memo,
            )
        )

    def pay_pending(
        self,
        payee: Wallet | Address,
        amount: Amount,
        *,
        expires_at_us: int,
        conditions: tuple[Condition, ...] = (),
        memo: str = "",
    ) -> Receipt:
        """Reserve ``amount`` for ``payee`` until ``expires_at_us``: a two-phase payment.

        The receipt's ``instruction_id`` names the pending payment (with this
        wallet's address).  The payee or this wallet posts it
        (:meth:`post`), the payee may void it (:meth:`void`), or it expires
        and the money comes back.  Raises why not, as :meth:`pay` does, and
        ``PENDING_EXPIRED`` for an expiry not after now.
        """
        return self._ledger.submit(
            self.sign_pending(
                payee, amount, expires_at_us=expires_at_us, conditions=conditions, memo=memo
            )
        )

    def sign_post(
        self,
        payer: Wallet | Address,
        pending_id: int,
        amount: Amount | None = None,
        *,
        preimage: bytes = b"",
        approvals: tuple[Approval, ...] = (),
    ) -> SignedInstruction:
        """Sign the posting of a pending payment without submitting it."""
        source = payer.address if isinstance(payer, Wallet) else payer
        if amount is None:
            pending = self._ledger.pending_payment(source, pending_id)
            # Nothing outstanding: the ledger will say why, whatever the amount.
            amount = pending.amount if pending is not None else Amount(1)
        posted = amount
        return self._sign(
            lambda id_, seq: PostPending(
                id_,
                seq,
                payer=source,
                pending_id=pending_id,
                amount=posted,
                preimage=preimage,
                approvals=approvals,
            )
        )

    def post(
        self,
        payer: Wallet | Address,
        pending_id: int,
        amount: Amount | None = None,
        *,
        preimage: bytes = b"",
        approvals: tuple[Approval, ...] = (),
    ) -> Receipt:
        """Post pending payment ``pending_id`` of ``payer``: ``amount`` of it (all if ``None``).

        Signed by this wallet, its payer or its payee.  The rest returns to
        the payer.  ``preimage`` and ``approvals`` meet its conditions;
        ``CONDITION_NOT_MET`` if they do not, ``PENDING_EXPIRED`` or
        ``PENDING_ALREADY_RESOLVED`` if it is no longer outstanding.
        """
        return self._ledger.submit(
            self.sign_post(payer, pending_id, amount, preimage=preimage, approvals=approvals)
        )

    def void(self, payer: Wallet | Address, pending_id: int) -> Receipt:
        """Decline pending payment ``pending_id`` of ``payer`` as its payee: all of it returns."""
        source = payer.address if isinstance(payer, Wallet) else payer
        return self._submit(
            lambda id_, seq: VoidPending(id_, seq, payer=source, pending_id=pending_id)
        )

    def issue_voucher(
        self,
        holder: Wallet | Address,
        amount: Amount,
        *,
        expires_at_us: int,
        regions: tuple[InstitutionCode | str, ...] = (),
        merchants: tuple[Wallet | Address, ...] = (),
        memo: str = "",
    ) -> Receipt:
        """Set ``amount`` aside for ``holder`` to spend only at ``merchants`` or in ``regions``.

        ``regions`` are institution codes: a merchant operated by a bank with
        that code, or one under it, may be paid.  What is left at
        ``expires_at_us`` is this wallet's to spend again, with no one asking.
        The receipt's ``instruction_id`` names the voucher (with this wallet).
        """
        to = holder.address if isinstance(holder, Wallet) else holder
        codes = tuple(
            code if isinstance(code, InstitutionCode) else InstitutionCode.parse(code)
            for code in regions
        )
        shops = tuple(m.address if isinstance(m, Wallet) else m for m in merchants)
        return self._submit(
            lambda id_, seq: IssueVoucher(
                id_,
                seq,
                issuer=self.address,
                holder=to,
                amount=amount,
                expires_at_us=expires_at_us,
                regions=codes,
                merchants=shops,
                memo=memo,
            )
        )

    def spend_voucher(
        self, issuer: Wallet | Address, voucher_id: int, payee: Wallet | Address, amount: Amount
    ) -> Receipt:
        """Pay ``amount`` of a voucher this wallet holds to ``payee``, a merchant it names."""
        source = issuer.address if isinstance(issuer, Wallet) else issuer
        to = payee.address if isinstance(payee, Wallet) else payee
        return self._submit(
            lambda id_, seq: SpendVoucher(
                id_, seq, issuer=source, voucher_id=voucher_id, payee=to, amount=amount
            )
        )

    def register_device(self, *, seed: Seed = None) -> Device:
        """Bind a new hardware wallet (card, SIM, wearable) with a key of its own to this wallet.

        The device's key derives from ``seed`` (for simulations), else from
        fresh randomness.  Load it with :meth:`load_offline` before it pays.
        """
        key = SigningKey.derive(master_seed(seed), "device")
        self._submit(
            lambda id_, seq: RegisterDevice(
                id_, seq, wallet=self.address, device_key=key.verify_key
            )
        )
        return Device(
            key, self.address, network_id=self._ledger.network_id, policy=self._ledger.policy
        )

    def load_offline(self, device: Device, amount: Amount) -> Receipt:
        """Move ``amount`` of this wallet's balance onto ``device``, to spend offline.

        The device must be at hand (online): its counter goes with the load,
        and its next ``Policy.offline_payment_count`` payments will settle.
        """
        receipt = self._submit(
            lambda id_, seq: LoadOffline(
                id_,
                seq,
                wallet=self.address,
                device=device.address,
                amount=amount,
                counter=device.counter,
            )
        )
        device.loaded(amount)
        return receipt

    def unload_offline(self, device: Device, amount: Amount) -> Receipt:
        """Take ``amount`` of ``device``'s allowance back into this wallet's balance.

        Refused (``OFFLINE_TOKENS_UNSETTLED``) until every token the device
        signed is settled: settle ``device.issued`` first.
        """
        receipt = self._submit(
            lambda id_, seq: UnloadOffline(
                id_,
                seq,
                wallet=self.address,
                device=device.address,
                amount=amount,
                counter=device.counter,
            )
        )
        device.unloaded(amount)
        return receipt

    def sign_settlement(self, token: OfflineToken) -> SignedInstruction:
        """Sign the settlement of one offline token this wallet paid or received."""
        return self._sign(lambda id_, seq: SettleOffline(id_, seq, token=token))

    def settle_offline(self, tokens: Iterable[OfflineToken]) -> list[Receipt]:
        """Settle offline tokens this wallet paid or was paid, each device's in counter order.

        One instruction a token; a token the other side settled already
        settles nothing again (its receipt has no postings).  Raises the
        first refusal; the tokens before it stay settled.
        """
        ordered = sorted(tokens, key=lambda token: (bytes(token.device), token.counter))
        return [self._ledger.submit(self.sign_settlement(token)) for token in ordered]

    def __repr__(self) -> str:
        return f"<Wallet {self.address} category {int(self._category)}>"


def minute_of_day(at: str) -> int:
    """The local minute of ``"HH:MM"`` (00:00 to 23:59) that a daily sweep is due from."""
    # Checked, not trusted: the annotation does not stop a caller passing 1800.
    text: object = at
    hours, _, minutes = text.partition(":") if isinstance(text, str) else ("", "", "")
    if (
        len(hours) == len(minutes) == 2
        and (hours + minutes).isascii()
        and hours.isdigit()
        and minutes.isdigit()
        and int(hours) < 24
        and int(minutes) < 60
    ):
        return int(hours) * 60 + int(minutes)
    raise InvalidFieldError(
        Reason.FIELD_INVALID, f"a time of day is 'HH:MM', 00:00 to 23:59, not {at!r}", field="at"
    )
