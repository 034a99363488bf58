"""What every party shares: a key bound to a ledger, numbering what it signs.

Keys come from seeds: in a simulation one seed gives every key, so a run
repeats byte for byte; ``None`` draws fresh randomness from the operating
system.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import final

from dcep.core._records import Receipt
from dcep.errors import InvalidFieldError, Reason
from dcep.instructions._conditions import Approval, approve_release
from dcep.instructions._encoding import SignedInstruction, linked_digest
from dcep.instructions._kinds import (
    Instruction,
    LinkBatch,
)
from dcep.ledger._ledger import Ledger
from dcep.values._crypto import Address, SigningKey, VerifyKey, digest
from dcep.values._disclosure import CustomerRecord
from dcep.values._money import Amount
from dcep.values._policy import KycField

__all__ = ["LinkedBatch", "Seed", "Signer", "has_kyc_field", "master_seed"]

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


@final
class LinkedBatch:
    """Signed instructions to submit together: all are accepted, or none (payroll, swaps).

    Made by a party's :meth:`Signer.linked`; :meth:`add` members signed by
    anyone (``wallet.sign_payment(...)``, ``wallet.sign_pending(...)``), then
    :meth:`submit` once.  A refused member raises its own error, the message
    naming which member, and nothing at all changes.
    """

    __slots__ = ("_ledger", "_members", "_sign_header")

    def __init__(
        self,
        ledger: Ledger,
        sign_header: Callable[[Sequence[SignedInstruction]], SignedInstruction],
    ) -> None:
        self._ledger = ledger
        self._sign_header = sign_header
        self._members: list[SignedInstruction] = []

    def add(self, *members: SignedInstruction) -> None:
        """Append members, in the order they are to be applied."""
        self._members.extend(members)

    @property
    def members(self) -> tuple[SignedInstruction, ...]:
        """The members so far, in order."""
        return tuple(self._members)

    def signed_header(self) -> SignedInstruction:
        """The header naming the members so far, signed: for ``ledger.submit_linked``."""
        if not self._members:
            raise InvalidFieldError(
                Reason.LINKED_BATCH_INVALID, "a linked batch has members", field="members"
            )
        return self._sign_header(self._members)

    def submit(self) -> list[Receipt]:
        """Submit the header and the members as one unit; the members' receipts."""
        return self._ledger.submit_linked(self.signed_header(), list(self._members))


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

    def linked(self) -> LinkedBatch:
        """Start a linked batch that this party submits: all its members are accepted, or none.

        The batch's header (a :class:`~dcep.instructions.LinkBatch`, signed by
        this party) takes its number now, before the members are signed, so
        that this party's own members follow it in sequence.
        """
        self._last_id += 1
        self._last_sequence += 1
        id_, sequence = self._last_id, self._last_sequence
        key, network_id = self._key, self._ledger.network_id

        def sign_header(members: Sequence[SignedInstruction]) -> SignedInstruction:
            header = LinkBatch(id_, sequence, members=len(members), digest=linked_digest(members))
            return SignedInstruction.sign(header, key, network_id)

        return LinkedBatch(self._ledger, sign_header)

    def approve_release(self, payer: Address, pending_id: int, amount: Amount) -> Approval:
        """Approve posting ``amount`` of pending payment ``pending_id`` of ``payer``.

        What an escrow agent, a delivery service or one of ``m`` of ``n``
        signatories hands the payee, who posts it with the approval.  Signs
        nothing the ledger numbers.
        """
        return approve_release(self._key, self._ledger.network_id, payer, pending_id, amount)
