"""Offline payment tokens: what a hardware wallet hands a payee with no network.

A device (a card, a SIM, a wearable) has an Ed25519 key of its own, bound
to a wallet on the ledger (:class:`~dcep.instructions.RegisterDevice`).
Offline it pays by signing an :class:`OfflineToken`: its key, its next
counter, the payee's address, the amount and its own clock's time, signed
under the token's own domain tag and the ledger's network id, so a token
can be neither replayed as an instruction nor moved to another network.
The payee's device checks the signature and the per-payment cap offline
(:meth:`OfflineToken.verify`); the ledger settles the token when either side
comes online.  A token is data in an instruction: nothing in it runs.
"""

from __future__ import annotations

from typing import Final, final

import attrs

from dcep.errors import DcepError, EncodingError, InvalidFieldError, Reason
from dcep.values._crypto import (
    ADDRESS_SIZE,
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    Address,
    SigningKey,
    VerifyKey,
    digest,
    domain_message,
)
from dcep.values._money import MAX_AMOUNT_FEN, Amount

__all__ = ["MAX_COUNTER", "TOKEN", "TOKEN_SIZE", "OfflineToken", "sign_token"]

_TOKEN_TAG: Final = b"dcep/v1/offline_token"
_TOKEN_PERSON: Final = b"dcep.offline"
#: Counters and times are 64-bit on the wire, and at most 2^63 - 1, so that
#: a store's signed 64-bit integers keep them.
MAX_COUNTER: Final = 2**63 - 1
_BODY_SIZE: Final = PUBLIC_KEY_SIZE + 8 + ADDRESS_SIZE + 8 + 8
#: A token on the wire: its body, then the device's signature.
TOKEN_SIZE: Final = _BODY_SIZE + SIGNATURE_SIZE


def _invalid(field: str, message: str) -> InvalidFieldError:
    return InvalidFieldError(Reason.FIELD_INVALID, message, field=field)


def _check_u64(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    low = 1 if attribute.name == "counter" else 0
    if type(value) is not int or not low <= value <= MAX_COUNTER:
        raise _invalid(attribute.name, f"{attribute.name} is an int from {low} to 2**63-1")


def _check_amount(_instance: object, _attribute: object, value: Amount) -> None:
    if not isinstance(value, Amount):
        raise _invalid("amount", f"amount must be an Amount, not {value!r}")
    value.require_positive(field="amount")


def _check_key(_instance: object, _attribute: object, value: VerifyKey) -> None:
    if not isinstance(value, VerifyKey):
        raise _invalid("device", "device must be a VerifyKey")


def _check_payee(_instance: object, _attribute: object, value: Address) -> None:
    if not isinstance(value, Address):
        raise _invalid("payee", "payee must be an Address")


def _check_signature(_instance: object, _attribute: object, value: bytes) -> None:
    if type(value) is not bytes or len(value) != SIGNATURE_SIZE:
        raise _invalid("signature", f"a token's signature is {SIGNATURE_SIZE} bytes")


@final
@attrs.frozen
class OfflineToken:
    """One offline payment: device ``device`` pays ``amount`` to wallet ``payee``.

    ``counter`` is the device's own, one more for every token it signs, so
    that a counter seen twice with different contents proves the device was
    cloned.  ``time_us`` is the device's clock, for the record only: the
    ledger settles by its own clock.  Build one with :func:`sign_token` (or
    :meth:`dcep.parties.Device.pay_offline`).
    """

    device: VerifyKey = attrs.field(validator=_check_key)
    counter: int = attrs.field(validator=_check_u64)
    payee: Address = attrs.field(validator=_check_payee)
    amount: Amount = attrs.field(validator=_check_amount)
    time_us: int = attrs.field(validator=_check_u64)
    signature: bytes = attrs.field(validator=_check_signature, repr=False)

    def body(self) -> bytes:
        """The bytes the device signs: every field but the signature."""
        return (
            bytes(self.device)
            + self.counter.to_bytes(8, "big")
            + self.payee
            + self.amount.fen.to_bytes(8, "big")
            + self.time_us.to_bytes(8, "big")
        )

    def content_digest(self) -> bytes:
        """What the ledger remembers of a settled counter: equal contents, equal digest."""
        return digest(self.body(), person=_TOKEN_PERSON)

    def verify(self, network_id: bytes, *, payment_cap: Amount | None = None) -> None:
        """Raise unless the device signed this token for ``network_id`` (and within the cap).

        What a payee's device checks offline before it hands over the goods:
        ``SIGNATURE_INVALID`` for a bad signature, ``OFFLINE_CAP_EXCEEDED``
        for an amount above ``payment_cap`` (the policy's per-payment cap).
        """
        if payment_cap is not None and self.amount > payment_cap:
            raise InvalidFieldError(
                Reason.OFFLINE_CAP_EXCEEDED,
                f"an offline payment is at most {payment_cap}, not {self.amount}",
                field="amount",
            )
        self.device.verify(domain_message(_TOKEN_TAG, network_id, self.body()), self.signature)

    def to_bytes(self) -> bytes:
        """The token's wire form: its body, then its signature."""
        return self.body() + self.signature


def sign_token(
    key: SigningKey,
    network_id: bytes,
    *,
    counter: int,
    payee: Address,
    amount: Amount,
    time_us: int,
) -> OfflineToken:
    """A token signed by the device key ``key`` for the ledger named ``network_id``."""
    unsigned = OfflineToken(key.verify_key, counter, payee, amount, time_us, bytes(SIGNATURE_SIZE))
    signature = key.sign(domain_message(_TOKEN_TAG, network_id, unsigned.body()))
    return attrs.evolve(unsigned, signature=signature)


@final
class _TokenCodec:
    """A token's fixed-size wire form, read back field by field."""

    __slots__ = ("name",)

    def __init__(self) -> None:
        self.name = "token"

    def write(self, value: OfflineToken) -> bytes:
        return value.to_bytes()

    def read(self, data: bytes, offset: int) -> tuple[OfflineToken, int]:
        end = offset + TOKEN_SIZE
        if end > len(data):
            raise EncodingError(
                Reason.ENCODING_MALFORMED, f"a token is {TOKEN_SIZE} bytes", field="token"
            )
        raw = data[offset:end]
        at = PUBLIC_KEY_SIZE
        counter = int.from_bytes(raw[at : at + 8], "big")
        payee = Address(raw[at + 8 : at + 8 + ADDRESS_SIZE])
        at += 8 + ADDRESS_SIZE
        amount_fen = int.from_bytes(raw[at : at + 8], "big")
        time_us = int.from_bytes(raw[at + 8 : at + 16], "big")
        if amount_fen > MAX_AMOUNT_FEN:
            raise EncodingError(
                Reason.ENCODING_MALFORMED, "a token's amount is above the maximum", field="token"
            )
        try:
            token = OfflineToken(
                VerifyKey(raw[:PUBLIC_KEY_SIZE]),
                counter,
                payee,
                Amount(amount_fen),
                time_us,
                raw[_BODY_SIZE:],
            )
        except DcepError as error:
            raise EncodingError(Reason.ENCODING_MALFORMED, error.message, field="token") from None
        return token, end


#: The codec of one token in an instruction.
TOKEN: Final = _TokenCodec()
