"""The journal's records: hash-chained entries and signed block headers.

An entry is an accepted instruction's signed bytes with its outcome (time
and postings); its hash covers the previous entry's hash, so changing,
dropping, inserting or reordering any entry changes every hash after it.
Entries are grouped into blocks whose header holds the Merkle root of the
block's entry hashes, the Merkle root of the balances the block changed,
a digest of the ledger's settings (network id and policy), the supply, and
the central bank's signature over all of it.

Both have one canonical byte form, decoded defensively like instructions.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Final, final

import attrs

from dcep.core._posting_codec import decode_postings, encode_postings, take_bytes
from dcep.core._records import LedgerEntry, Posting
from dcep.errors import EncodingError, Reason, SignatureError
from dcep.instructions._encoding import SignedInstruction
from dcep.values._crypto import (
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    SigningKey,
    VerifyKey,
    digest,
)
from dcep.values._crypto import domain_message as _domain_message

__all__ = [
    "GENESIS_HASH",
    "BlockHeader",
    "JournalEntry",
    "SealedBlock",
    "entry_body",
    "entry_envelope",
    "entry_matches",
    "entry_time_us",
]

JOURNAL_VERSION: Final = 1
#: Block headers of format 3: a changes root where format 2 had LtHash16.
HEADER_VERSION: Final = 2
#: The "previous hash" of the first entry and of the first block.
GENESIS_HASH: Final = bytes(32)
_ENTRY_PERSON: Final = b"dcep.entry"
_ENTRY_HASHER: Final = hashlib.blake2b(digest_size=32, person=_ENTRY_PERSON)
#: version, number, time and envelope length: what precedes an entry's envelope.
_ENTRY_HEAD: Final = struct.Struct(">BQQI")
_BLOCK_PERSON: Final = b"dcep.block"
_BLOCK_TAG: Final = b"dcep/v2/block"


def _malformed(message: str) -> EncodingError:
    return EncodingError(Reason.ENCODING_MALFORMED, message)


@final
@attrs.frozen
class JournalEntry:
    """One accepted instruction, chained to the one before it.

    ``body`` is the canonical bytes (number, time, signed envelope,
    postings); ``hash`` is ``H(previous_hash ‖ body)``.
    """

    number: int
    accepted_at_us: int
    envelope: bytes = attrs.field(repr=False)
    postings: tuple[Posting, ...] = attrs.field(repr=False)
    previous_hash: bytes = attrs.field(repr=False)
    body: bytes = attrs.field(repr=False)
    hash: bytes = attrs.field(repr=lambda h: h.hex()[:16] + "...")

    @classmethod
    def create(
        cls,
        number: int,
        accepted_at_us: int,
        envelope: bytes,
        postings: tuple[Posting, ...],
        previous_hash: bytes,
    ) -> JournalEntry:
        """Build an entry and compute its body and hash."""
        return cls._build(
            number, accepted_at_us, envelope, postings, encode_postings(postings), previous_hash
        )

    @classmethod
    def from_ledger_entry(cls, entry: LedgerEntry, previous_hash: bytes) -> JournalEntry:
        """The journal form of an entry the ledger just accepted (postings encoded once)."""
        receipt = entry.receipt
        body = entry_body(entry)
        return cls(
            receipt.entry_number,
            receipt.accepted_at_us,
            body[_ENTRY_HEAD.size : len(body) - len(entry.postings_encoded)],
            receipt.postings,
            previous_hash,
            body,
            chain_hash(previous_hash, body),
        )

    @classmethod
    def _build(
        cls,
        number: int,
        accepted_at_us: int,
        envelope: bytes,
        postings: tuple[Posting, ...],
        postings_encoded: bytes,
        previous_hash: bytes,
    ) -> JournalEntry:
        body = b"".join(
            (
                _ENTRY_HEAD.pack(JOURNAL_VERSION, number, accepted_at_us, len(envelope)),
                envelope,
                postings_encoded,
            )
        )
        return cls(
            number,
            accepted_at_us,
            envelope,
            postings,
            previous_hash,
            body,
            chain_hash(previous_hash, body),
        )

    @classmethod
    def decode(cls, body: bytes, previous_hash: bytes) -> JournalEntry:
        """Read an entry from its body; the hash is recomputed, never trusted."""
        if len(body) < 21 or body[0] != JOURNAL_VERSION:
            raise EncodingError(
                Reason.ENCODING_UNSUPPORTED_VERSION
                if body[:1] and body[0] != JOURNAL_VERSION
                else Reason.ENCODING_MALFORMED,
                "not a journal entry of a version this dcep reads",
            )
        number = int.from_bytes(body[1:9], "big")
        accepted_at_us = entry_time_us(body)
        envelope, offset = take_bytes(body, 21, int.from_bytes(body[17:21], "big"), "envelope")
        postings, offset = decode_postings(body, offset)
        if offset != len(body):
            raise _malformed(f"{len(body) - offset} bytes left over after entry {number}")
        return cls(
            number,
            accepted_at_us,
            envelope,
            postings,
            previous_hash,
            body,
            chain_hash(previous_hash, body),
        )


def entry_body(entry: LedgerEntry) -> bytes:
    """The body of the journal entry for ``entry``, which the ledger just accepted.

    What the journal appends for every accepted instruction, so it is built
    in one join, with no :class:`JournalEntry` around it: a store keeps the
    number, this body and its chain hash, nothing else.
    """
    signed = entry.signed
    receipt = entry.receipt
    signature = signed.signature
    instruction = signed.body
    return b"".join(
        (
            _ENTRY_HEAD.pack(
                JOURNAL_VERSION,
                receipt.entry_number,
                receipt.accepted_at_us,
                PUBLIC_KEY_SIZE + len(signature) + len(instruction),
            ),
            bytes(signed.signer),
            signature,
            instruction,
            entry.postings_encoded,
        )
    )


def entry_envelope(body: bytes) -> bytes:
    """The signed envelope inside a stored entry's body, sliced, not decoded.

    It sits at a fixed place (after the version, number, time and its own
    length); a body too short for it gives a short envelope, which decoding
    then refuses.
    """
    head = _ENTRY_HEAD.size
    return body[head : head + int.from_bytes(body[head - 4 : head], "big")]


def entry_time_us(body: bytes) -> int:
    """When a stored entry was accepted, read from its body's head."""
    return int.from_bytes(body[9:17], "big")


def entry_matches(body: bytes, entry: LedgerEntry, signed: SignedInstruction | None) -> bool:
    """Whether ``body`` is exactly the journal form of ``entry``, without building that.

    For replay, where ``signed`` was read from ``body``'s own envelope and
    re-executed into ``entry``: the envelope is then those very bytes, so
    the head (version, number, time, envelope length), the total length and
    the postings at the end decide it, and the stored body's hash is the
    rebuilt one's.  Any other ``signed`` (``None``) is never taken on trust.
    """
    if signed is None or entry.signed is not signed:
        return False
    receipt = entry.receipt
    postings = entry.postings_encoded
    envelope_size = PUBLIC_KEY_SIZE + len(signed.signature) + len(signed.body)
    return (
        len(body) == _ENTRY_HEAD.size + envelope_size + len(postings)
        and body.endswith(postings)
        and body.startswith(
            _ENTRY_HEAD.pack(
                JOURNAL_VERSION, receipt.entry_number, receipt.accepted_at_us, envelope_size
            )
        )
    )


def chain_hash(previous_hash: bytes, body: bytes) -> bytes:
    """The hash chain's step: ``H(previous ‖ body)``."""
    # A copy of a hasher set up once: once per entry, on the hot path.
    hasher = _ENTRY_HASHER.copy()
    hasher.update(previous_hash)
    hasher.update(body)
    return hasher.digest()


_HEADER: Final = struct.Struct(">BQ32sQI32s32s32sI32sQQQ")


@final
@attrs.frozen
class BlockHeader:
    """What the central bank signs for each block of entries."""

    height: int
    previous_block_hash: bytes = attrs.field(repr=False)
    first_entry: int
    entry_count: int
    last_entry_hash: bytes = attrs.field(repr=False)
    entries_root: bytes = attrs.field(repr=False)
    #: The Merkle root of the new balance of every account the block's
    #: postings touched, sorted (:func:`dcep.values._commitment.changes_root`).
    changes_root: bytes = attrs.field(repr=False)
    #: How many accounts that is (the changes tree's size).
    changed_accounts: int
    #: The digest of the network id and policy the ledger runs under.
    settings_digest: bytes = attrs.field(repr=False)
    issued_fen: int
    redeemed_fen: int
    sealed_at_us: int

    def encode(self) -> bytes:
        """The header's canonical bytes (what is hashed and signed)."""
        return _HEADER.pack(
            HEADER_VERSION,
            self.height,
            self.previous_block_hash,
            self.first_entry,
            self.entry_count,
            self.last_entry_hash,
            self.entries_root,
            self.changes_root,
            self.changed_accounts,
            self.settings_digest,
            self.issued_fen,
            self.redeemed_fen,
            self.sealed_at_us,
        )

    @property
    def hash(self) -> bytes:
        """The block's identity, which the next header chains to."""
        return digest(self.encode(), person=_BLOCK_PERSON)

    @classmethod
    def decode(cls, raw: bytes) -> BlockHeader:
        """Read a header written by :meth:`encode`."""
        if len(raw) != _HEADER.size:
            raise _malformed(f"a block header is {_HEADER.size} bytes, not {len(raw)}")
        version, *fields = _HEADER.unpack(raw)
        if version != HEADER_VERSION:
            raise EncodingError(
                Reason.ENCODING_UNSUPPORTED_VERSION, f"block header version {version}"
            )
        return cls(*fields)


@final
@attrs.frozen
class SealedBlock:
    """A header with the central bank's signature over it."""

    header: BlockHeader
    signature: bytes = attrs.field(repr=False)

    @classmethod
    def sign(cls, header: BlockHeader, key: SigningKey, network_id: bytes) -> SealedBlock:
        """Sign ``header`` for the ledger ``network_id``."""
        return cls(header, key.sign(_domain_message(_BLOCK_TAG, network_id, header.encode())))

    def verify(self, key: VerifyKey, network_id: bytes) -> None:
        """Raise :class:`~dcep.SignatureError` unless ``key`` signed this header."""
        if len(self.signature) != SIGNATURE_SIZE:
            raise SignatureError(Reason.SIGNATURE_INVALID, "a block signature is 64 bytes")
        key.verify(_domain_message(_BLOCK_TAG, network_id, self.header.encode()), self.signature)
