"""A hardware wallet: a card, SIM or wearable that pays with no network.

A :class:`Device` holds its own key and keeps, on the device, what the
ledger cannot see while it is offline: its counter, the allowance it has
left and how many payments it made since it was last loaded.  Paying
(:meth:`Device.pay_offline`) and accepting (:meth:`Device.accept`) touch no
ledger; the tokens either side keeps are settled when it comes online
(:meth:`dcep.parties.Wallet.settle_offline`).
"""

from __future__ import annotations

from typing import final

from dcep.errors import InsufficientFundsError, LimitExceededError, Reason
from dcep.instructions._offline import OfflineToken, sign_token
from dcep.values._crypto import Address, SigningKey, VerifyKey
from dcep.values._money import Amount
from dcep.values._policy import Policy

__all__ = ["Device"]


@final
class Device:
    """One hardware wallet bound to a wallet: signs offline tokens from its allowance.

    Built by :meth:`dcep.parties.Wallet.register_device`.  ``issued`` and
    ``received`` are the tokens it signed and accepted, oldest first: what
    it hands over for settlement when it is next online.
    """

    __slots__ = (
        "_allowance_fen",
        "_count_since_load",
        "_counter",
        "_key",
        "_network_id",
        "_policy",
        "_wallet",
        "issued",
        "received",
    )

    def __init__(
        self, key: SigningKey, wallet: Address, *, network_id: bytes, policy: Policy
    ) -> None:
        self._key = key
        self._wallet = wallet
        self._network_id = network_id
        self._policy = policy
        self._counter = 0
        self._allowance_fen = 0
        self._count_since_load = 0
        self.issued: list[OfflineToken] = []
        self.received: list[OfflineToken] = []

    @property
    def address(self) -> Address:
        """The device's address: its allowance's account on the ledger."""
        return self._key.address

    @property
    def verify_key(self) -> VerifyKey:
        """The device's public key, which its tokens are checked against."""
        return self._key.verify_key

    @property
    def wallet(self) -> Address:
        """The wallet the device belongs to, which its tokens pay from."""
        return self._wallet

    @property
    def counter(self) -> int:
        """The counter of the last token the device signed (0: none yet)."""
        return self._counter

    @property
    def allowance(self) -> Amount:
        """What the device believes it may still spend offline."""
        return Amount(self._allowance_fen)

    def loaded(self, amount: Amount) -> None:
        """Record, on the device, that ``amount`` was loaded (the ledger accepted it)."""
        self._allowance_fen += amount.fen
        self._count_since_load = 0

    def unloaded(self, amount: Amount) -> None:
        """Record, on the device, that ``amount`` went back to its wallet."""
        self._allowance_fen -= amount.fen

    def pay_offline(
        self, payee: Device | Address, amount: Amount, *, time_us: int = 0
    ) -> OfflineToken:
        """Sign a token paying ``amount`` to ``payee`` (a device, or a wallet's address).

        No ledger is involved.  Refused with ``OFFLINE_CAP_EXCEEDED`` beyond
        the policy's per-payment cap or count since the last load, and with
        ``INSUFFICIENT_BALANCE`` beyond the allowance left: a genuine device
        never signs what its allowance cannot pay.
        """
        to = payee.wallet if isinstance(payee, Device) else payee
        policy = self._policy
        if amount > policy.offline_payment_cap or (
            self._count_since_load >= policy.offline_payment_count
        ):
            raise LimitExceededError(
                Reason.OFFLINE_CAP_EXCEEDED,
                f"offline payments are at most {policy.offline_payment_cap} each and "
                f"{policy.offline_payment_count} between two loads",
                party=str(self.address),
                field="amount",
            )
        if amount.fen > self._allowance_fen:
            raise InsufficientFundsError(
                Reason.INSUFFICIENT_BALANCE,
                f"device {self.address} has {self.allowance} left offline, less than {amount}",
                party=str(self.address),
                field="amount",
            )
        token = sign_token(
            self._key,
            self._network_id,
            counter=self._counter + 1,
            payee=to,
            amount=amount,
            time_us=time_us,
        )
        self._counter += 1
        self._count_since_load += 1
        self._allowance_fen -= amount.fen
        self.issued.append(token)
        if isinstance(payee, Device):
            payee.accept(token)
        return token

    def accept(self, token: OfflineToken) -> None:
        """Check a token offline, as a payee's device does, and keep it for settlement.

        Raises ``SIGNATURE_INVALID`` for a token not signed by its device on
        this network and ``OFFLINE_CAP_EXCEEDED`` above the per-payment cap.
        Whether the payer's device was cloned cannot be known offline: that
        is the ledger's to find, and the allowance bounds what it costs.
        """
        token.verify(self._network_id, payment_cap=self._policy.offline_payment_cap)
        self.received.append(token)

    def clone(self) -> Device:
        """A copy of this device, key, counter, allowance and all: what an attacker makes.

        For simulations and tests of what the ledger does with a cloned device.
        """
        twin = Device(self._key, self._wallet, network_id=self._network_id, policy=self._policy)
        twin._counter = self._counter
        twin._allowance_fen = self._allowance_fen
        twin._count_since_load = self._count_since_load
        return twin

    def __repr__(self) -> str:
        return f"Device({str(self.address)!r}, wallet={str(self._wallet)!r})"
