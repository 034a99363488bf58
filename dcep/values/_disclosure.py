"""Identity under warrant: sealed to the regulator, checkable against the ledger.

When a bank opens a wallet it keeps the holder's :class:`CustomerRecord` and
puts only ``H(salt ‖ record)`` on the ledger.  Answering a warrant, it seals
``salt ‖ record`` to the regulator's key (X25519 from its Ed25519 key, with
PyNaCl's ``Box``), so the journal holds a disclosure that anyone can count
and only the regulator can read, and the regulator can check what it read
against the digest committed when the wallet was opened.

The ephemeral key and nonce derive from the bank's seed and the warrant, so
the same run gives the same journal, byte for byte, as everything in dcep.
"""

from __future__ import annotations

from typing import Final, final

import attrs
import nacl.exceptions
import nacl.public

from dcep.errors import InvalidFieldError, Reason
from dcep.values._crypto import SigningKey, VerifyKey, derive_seed, digest

__all__ = ["CustomerRecord", "kyc_digest", "open_identity", "seal_identity"]

_KYC_PERSON: Final = b"dcep.kyc"
_NONCE_PERSON: Final = b"dcep.seal"
_SALT_SIZE: Final = 32


def _field(raw: bytes, offset: int) -> tuple[bytes, int]:
    if offset + 2 > len(raw):
        raise InvalidFieldError(Reason.FIELD_INVALID, "a customer record is cut short")
    size = int.from_bytes(raw[offset : offset + 2], "big")
    end = offset + 2 + size
    if end > len(raw):
        raise InvalidFieldError(Reason.FIELD_INVALID, "a customer record is cut short")
    return raw[offset + 2 : end], end


@final
@attrs.frozen
class CustomerRecord:
    """What a bank knows about a wallet's holder: never sent to the ledger in clear."""

    phone: str | None
    id_number: str | None
    name: str | None
    linked_account: str | None
    in_person: bool

    def encode(self) -> bytes:
        """A canonical form, to commit to in the ledger without revealing it."""
        fields = (self.phone, self.id_number, self.name, self.linked_account)
        parts = [b"\x01" + f.encode("utf-8") if f is not None else b"\x00" for f in fields]
        parts.append(b"\x01" if self.in_person else b"\x00")
        return b"".join(len(p).to_bytes(2, "big") + p for p in parts)

    @classmethod
    def decode(cls, raw: bytes) -> CustomerRecord:
        """Read back what :meth:`encode` wrote; ``FIELD_INVALID`` for any other bytes.

        A disclosure is whatever a bank sealed to the regulator's key, so
        nothing here is trusted: every field must be absent (``00``) or
        present UTF-8 text (``01`` then the text), as :meth:`encode` writes it.
        """
        values: list[str | None] = []
        offset = 0
        for _ in range(4):
            part, offset = _field(raw, offset)
            if part == b"\x00":
                values.append(None)
                continue
            if part[:1] != b"\x01":
                raise InvalidFieldError(
                    Reason.FIELD_INVALID, "a customer record field is neither absent nor text"
                )
            try:
                values.append(part[1:].decode("utf-8"))
            except UnicodeDecodeError:
                raise InvalidFieldError(
                    Reason.FIELD_INVALID, "a customer record field is not UTF-8"
                ) from None
        flag, offset = _field(raw, offset)
        if flag not in (b"\x00", b"\x01"):
            raise InvalidFieldError(Reason.FIELD_INVALID, "a customer record's flag is not 0 or 1")
        if offset != len(raw):
            raise InvalidFieldError(Reason.FIELD_INVALID, "bytes left over in a customer record")
        phone, id_number, name, linked_account = values
        return cls(phone, id_number, name, linked_account, flag == b"\x01")


def kyc_digest(salt: bytes, record: CustomerRecord) -> bytes:
    """The commitment to a holder's identity that the ledger keeps."""
    return digest(salt + record.encode(), person=_KYC_PERSON)


def seal_identity(
    record: CustomerRecord, salt: bytes, regulator: VerifyKey, ephemeral_seed: bytes
) -> bytes:
    """``salt ‖ record`` encrypted so that only ``regulator`` can read it."""
    ephemeral = nacl.public.PrivateKey(derive_seed(ephemeral_seed, "disclosure"))
    ephemeral_public = bytes(ephemeral.public_key)
    nonce = digest(ephemeral_public + bytes(regulator), person=_NONCE_PERSON)[:24]
    box = nacl.public.Box(ephemeral, regulator.to_curve25519())
    return ephemeral_public + box.encrypt(salt + record.encode(), nonce).ciphertext


def open_identity(
    sealed: bytes, regulator: SigningKey, committed_digest: bytes | None = None
) -> CustomerRecord:
    """Read a sealed identity; with ``committed_digest``, also check it is the one committed.

    Raises :class:`~dcep.InvalidFieldError` if the box does not open for this
    key or the record does not match the ledger's commitment.
    """
    try:
        ephemeral_public = nacl.public.PublicKey(sealed[:32])
        nonce = digest(sealed[:32] + bytes(regulator.verify_key), person=_NONCE_PERSON)[:24]
        box = nacl.public.Box(regulator.to_curve25519(), ephemeral_public)
        opened = box.decrypt(sealed[32:], nonce)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise InvalidFieldError(
            Reason.FIELD_INVALID, "the disclosure does not open with this regulator's key"
        ) from None
    salt, record = opened[:_SALT_SIZE], CustomerRecord.decode(opened[_SALT_SIZE:])
    if committed_digest is not None and kyc_digest(salt, record) != committed_digest:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            "the disclosed identity is not the one committed when the wallet was opened",
        )
    return record
