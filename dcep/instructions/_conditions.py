"""Conditions on releasing a pending payment: frozen data, checked by the ledger.

A pending payment (:class:`~dcep.instructions.PayPending`) may carry up to
:data:`MAX_CONDITIONS` conditions, all of which must hold for it to be
posted: a time (:class:`NotBefore`), approvals by named keys, one or ``m`` of
``n`` (:class:`ApprovedBy`), and the preimage of a hash (:class:`HashLock`).
They are records, never code: the journal holds data that this module reads
with one fixed rule each, so replaying a journal runs nothing it carries.

An approval is a signature over :func:`release_message` (the pending
payment and the amount released) under its own domain tag, so it can be
neither replayed as an instruction nor moved to another payment, amount or
network.  Checking conditions is a pure function (:func:`unmet_condition`).
"""

from __future__ import annotations

import enum
import hashlib
from typing import Final, final

import attrs

from dcep.errors import EncodingError, InvalidFieldError, Reason, SignatureError
from dcep.values._crypto import (
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    Address,
    SigningKey,
    VerifyKey,
    domain_message,
)
from dcep.values._money import Amount

__all__ = [
    "APPROVALS",
    "CONDITIONS",
    "MAX_APPROVALS",
    "MAX_CONDITIONS",
    "MAX_PREIMAGE_BYTES",
    "Approval",
    "ApprovedBy",
    "Condition",
    "HashAlgorithm",
    "HashLock",
    "NotBefore",
    "approve_release",
    "release_message",
    "unmet_condition",
]

#: At most this many conditions on one pending payment, and keys in one approval rule.
MAX_CONDITIONS: Final = 4
MAX_APPROVALS: Final = 16
#: A hash lock's secret is at most this long.
MAX_PREIMAGE_BYTES: Final = 256
#: The latest time an instruction can name: 2^63 - 1 microseconds since 1970.
LATEST_TIME_US: Final = 2**63 - 1
_APPROVAL_TAG: Final = b"dcep/v1/approve_release"


def _invalid(field: str, message: str) -> InvalidFieldError:
    return InvalidFieldError(Reason.FIELD_INVALID, message, field=field)


def _check_time(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if type(value) is not int or not 0 <= value <= LATEST_TIME_US:
        raise _invalid(
            attribute.name, f"{attribute.name} is microseconds from 1970, not {value!r}"
        )


@final
@attrs.frozen
class NotBefore:
    """Released no earlier than ``time_us`` by the ledger's clock."""

    time_us: int = attrs.field(validator=_check_time)


def _to_keys(value: object) -> tuple[VerifyKey, ...]:
    if not isinstance(value, tuple | list) or not all(isinstance(k, VerifyKey) for k in value):
        raise _invalid("keys", "keys are a tuple of VerifyKeys")
    return tuple(value)


@final
@attrs.frozen
class ApprovedBy:
    """Released only with approvals by at least ``threshold`` of ``keys``.

    One key is an escrow agent or a delivery confirmation; several with a
    threshold are ``m`` of ``n``.  A key need not belong to any party on the
    ledger: approving signs nothing the ledger numbers.
    """

    keys: tuple[VerifyKey, ...] = attrs.field(converter=_to_keys)
    threshold: int = attrs.field(default=1)

    def __attrs_post_init__(self) -> None:
        if not 1 <= len(self.keys) <= MAX_APPROVALS or len(set(self.keys)) != len(self.keys):
            raise _invalid("keys", f"1 to {MAX_APPROVALS} different keys, not {len(self.keys)}")
        if type(self.threshold) is not int or not 1 <= self.threshold <= len(self.keys):
            raise _invalid(
                "threshold", f"a threshold is 1 to {len(self.keys)}, not {self.threshold!r}"
            )


def _check_digest(_instance: object, _attribute: attrs.Attribute[bytes], value: object) -> None:
    if not isinstance(value, bytes) or len(value) != 32:
        raise _invalid("digest", "a hash lock's digest is 32 bytes")


def _check_algorithm(
    _i: object, _attribute: attrs.Attribute[HashAlgorithm], value: object
) -> None:
    if not isinstance(value, HashAlgorithm):
        raise _invalid("algorithm", f"no hash algorithm {value!r}")


def _check_approval_key(_i: object, _attribute: attrs.Attribute[VerifyKey], value: object) -> None:
    if not isinstance(value, VerifyKey):
        raise _invalid("approvals", "an approval's key is a VerifyKey")


def _check_signature(_instance: object, _attribute: attrs.Attribute[bytes], value: object) -> None:
    if not isinstance(value, bytes) or len(value) != SIGNATURE_SIZE:
        raise _invalid("approvals", "an approval's signature is 64 bytes")


@enum.unique
class HashAlgorithm(enum.IntEnum):
    """The hashes a :class:`HashLock` may use; the number is its wire tag."""

    SHA256 = 1
    BLAKE2B = 2  # BLAKE2b with a 32-byte digest, no key, no personalisation

    def of(self, data: bytes) -> bytes:
        """The 32-byte digest of ``data``."""
        if self is HashAlgorithm.SHA256:
            return hashlib.sha256(data).digest()
        return hashlib.blake2b(data, digest_size=32).digest()


@final
@attrs.frozen
class HashLock:
    """Released only by whoever shows a preimage of ``digest`` (an atomic swap's lock)."""

    digest: bytes = attrs.field(validator=_check_digest)
    algorithm: HashAlgorithm = attrs.field(
        default=HashAlgorithm.SHA256, validator=_check_algorithm
    )

    @classmethod
    def of(cls, secret: bytes, algorithm: HashAlgorithm = HashAlgorithm.SHA256) -> HashLock:
        """The lock that ``secret`` opens."""
        return cls(algorithm.of(secret), algorithm)


Condition = NotBefore | ApprovedBy | HashLock


@final
@attrs.frozen
class Approval:
    """One key's signature over a release (see :func:`release_message`)."""

    key: VerifyKey = attrs.field(validator=_check_approval_key)
    signature: bytes = attrs.field(
        validator=_check_signature, repr=lambda sig: sig.hex()[:16] + "..."
    )


def release_message(payer: Address, pending_id: int, amount: Amount) -> bytes:
    """What an approval signs: the pending payment (payer, id) and the amount released."""
    return bytes(payer) + pending_id.to_bytes(16, "big") + amount.fen.to_bytes(8, "big")


def approve_release(
    key: SigningKey, network_id: bytes, payer: Address, pending_id: int, amount: Amount
) -> Approval:
    """Approve releasing ``amount`` of the pending payment ``pending_id`` of ``payer``."""
    message = domain_message(_APPROVAL_TAG, network_id, release_message(payer, pending_id, amount))
    return Approval(key.verify_key, key.sign(message))


def unmet_condition(
    conditions: tuple[Condition, ...],
    *,
    now_us: int,
    preimage: bytes,
    approvals: tuple[Approval, ...],
    network_id: bytes,
    payer: Address,
    pending_id: int,
    amount: Amount,
) -> str | None:
    """Why the first unmet condition fails, in words; ``None`` when all hold."""
    message: bytes | None = None
    for condition in conditions:
        if isinstance(condition, NotBefore):
            if now_us < condition.time_us:
                return f"not before {condition.time_us} µs; it is {now_us}"
        elif isinstance(condition, HashLock):
            if condition.algorithm.of(preimage) != condition.digest:
                return f"no preimage of the {condition.algorithm.name} lock"
        else:
            if message is None:
                message = domain_message(
                    _APPROVAL_TAG, network_id, release_message(payer, pending_id, amount)
                )
            good = 0
            for approval in approvals:
                if approval.key not in condition.keys:
                    continue
                try:
                    approval.key.verify(message, approval.signature)
                except SignatureError:
                    continue
                good += 1
            if good < condition.threshold:
                return f"{good} of the {condition.threshold} approvals it needs"
    return None


def _malformed(what: str) -> EncodingError:
    return EncodingError(Reason.ENCODING_MALFORMED, what, field="conditions")


def _take(data: bytes, offset: int, size: int) -> bytes:
    if offset + size > len(data):
        raise _malformed("a condition runs past the end of the instruction")
    return data[offset : offset + size]


@final
class _Conditions:
    """Count (1), then each: tag (1) and its fields.

    ``NotBefore`` 1 ‖ time (8); ``ApprovedBy`` 2 ‖ threshold (1) ‖ n (1) ‖ n keys;
    ``HashLock`` 3 ‖ algorithm (1) ‖ digest (32).
    """

    __slots__ = ("name",)

    def __init__(self) -> None:
        self.name = "conditions"

    def write(self, value: tuple[Condition, ...]) -> bytes:
        parts = [bytes((len(value),))]
        for condition in value:
            if isinstance(condition, NotBefore):
                parts.append(b"\x01" + condition.time_us.to_bytes(8, "big"))
            elif isinstance(condition, ApprovedBy):
                parts.append(bytes((2, condition.threshold, len(condition.keys))))
                parts.extend(bytes(key) for key in condition.keys)
            else:
                parts.append(bytes((3, condition.algorithm)) + condition.digest)
        return b"".join(parts)

    def read(self, data: bytes, offset: int) -> tuple[tuple[Condition, ...], int]:
        count = _take(data, offset, 1)[0]
        offset += 1
        conditions: list[Condition] = []
        try:
            for _ in range(count):
                tag = _take(data, offset, 1)[0]
                offset += 1
                if tag == 1:
                    raw = _take(data, offset, 8)
                    conditions.append(NotBefore(int.from_bytes(raw, "big")))
                    offset += 8
                elif tag == 2:
                    threshold, size = _take(data, offset, 2)
                    offset += 2
                    raw = _take(data, offset, size * PUBLIC_KEY_SIZE)
                    keys = tuple(
                        VerifyKey(raw[i : i + PUBLIC_KEY_SIZE])
                        for i in range(0, len(raw), PUBLIC_KEY_SIZE)
                    )
                    conditions.append(ApprovedBy(keys, threshold))
                    offset += len(raw)
                elif tag == 3:
                    algorithm = _take(data, offset, 1)[0]
                    digest = _take(data, offset + 1, 32)
                    conditions.append(HashLock(digest, HashAlgorithm(algorithm)))
                    offset += 33
                else:
                    raise _malformed(f"no condition {tag}")
        except InvalidFieldError as error:
            raise _malformed(f"a condition out of range: {error.message}") from None
        except ValueError:
            raise _malformed("a condition out of range") from None
        return tuple(conditions), offset


@final
class _Approvals:
    """Count (1), then each: key (32) ‖ signature (64)."""

    __slots__ = ("name",)

    def __init__(self) -> None:
        self.name = "approvals"

    def write(self, value: tuple[Approval, ...]) -> bytes:
        return bytes((len(value),)) + b"".join(bytes(a.key) + a.signature for a in value)

    def read(self, data: bytes, offset: int) -> tuple[tuple[Approval, ...], int]:
        if offset >= len(data):
            raise EncodingError(
                Reason.ENCODING_MALFORMED, "approvals run past the end", field="approvals"
            )
        count = data[offset]
        offset += 1
        size = PUBLIC_KEY_SIZE + SIGNATURE_SIZE
        if offset + count * size > len(data):
            raise EncodingError(
                Reason.ENCODING_MALFORMED, "approvals run past the end", field="approvals"
            )
        approvals = tuple(
            Approval(
                VerifyKey(data[at : at + PUBLIC_KEY_SIZE]),
                data[at + PUBLIC_KEY_SIZE : at + size],
            )
            for at in range(offset, offset + count * size, size)
        )
        return approvals, offset + count * size


CONDITIONS: Final = _Conditions()
APPROVALS: Final = _Approvals()
