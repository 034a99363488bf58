"""What every party shares: a key bound to a ledger, numbering what it signs.

Keys come from seeds: in a simulation one seed gives every key, so a run
repeats byte for byte; ``None`` draws fresh randomness from the operating
system.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from dcep.core._records import Receipt
from dcep.errors import InvalidFieldError, Reason
from dcep.instructions._encoding import SignedInstruction
from dcep.instructions._kinds import (
    Instruction,
)
from dcep.ledger._ledger import Ledger
from dcep.values._crypto import Address, SigningKey, VerifyKey, digest
from dcep.values._disclosure import CustomerRecord
from dcep.values._policy import KycField

__all__ = ["Seed", "Signer", "has_kyc_field", "master_seed"]

Seed = bytes | str | int | None


def master_seed(seed: Seed) -> bytes:
    """Turn any seed a user passes into 32 bytes; ``None`` draws fresh randomness.

    The type is part of the input, so ``65``, ``"A"`` and ``b"A"`` differ.
    """
    if seed is None:
        return secrets.token_bytes(32)
    if isinstance(seed, int):
        raw = b"int:" + seed.to_bytes((seed.bit_length() + 8) // 8, "big", signed=True)
    elif isinstance(seed, str):
        raw = b"str:" + seed.encode("utf-8")
    elif isinstance(seed, (bytes, bytearray, memoryview)):
        raw = b"bytes:" + bytes(seed)
    else:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"a seed is an int, str or bytes (or None), not {seed!r}",
            field="seed",
        )
    return digest(raw, person=b"dcep.master")


def has_kyc_field(record: CustomerRecord, field: KycField) -> bool:
    value = {
        KycField.PHONE: record.phone,
        KycField.ID_NUMBER: record.id_number,
        KycField.LINKED_ACCOUNT: record.linked_account,
        KycField.IN_PERSON: record.in_person or None,
    }[field]
    return bool(value)


class Signer:
    """A key bound to a ledger, numbering and submitting what it signs."""

    __slots__ = ("_key", "_last_id", "_last_sequence", "_ledger")

    def __init__(self, ledger: Ledger, key: SigningKey) -> None:
        self._ledger = ledger
        self._key = key
        # Start after anything this key already did on the ledger, e.g. after recovery.
        self._last_sequence = ledger.last_sequence(key.address)
        self._last_id = self._last_sequence

    @property
    def address(self) -> Address:
        """Where this party is known on the ledger."""
        return self._key.address

    @property
    def verify_key(self) -> VerifyKey:
        """This party's public key."""
        return self._key.verify_key

    @property
    def ledger(self) -> Ledger:
        """The ledger this party signs for."""
        return self._ledger

    def _sign(self, build: Callable[[int, int], Instruction]) -> SignedInstruction:
        # Sequence numbers may skip (a refused instruction consumes one here but
        # none on the ledger), so signing ahead of submitting is always safe.
        instruction = build(self._last_id + 1, self._last_sequence + 1)
        self._last_id += 1
        self._last_sequence += 1
        return SignedInstruction.sign(instruction, self._key, self._ledger.network_id)

    def _submit(self, build: Callable[[int, int], Instruction]) -> Receipt:
        return self._ledger.submit(self._sign(build))
