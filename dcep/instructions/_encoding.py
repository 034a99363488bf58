"""The one canonical byte form of instructions, and signed envelopes.

Layout of an instruction: ``version (1) ‖ kind (1) ‖ id (16) ‖ sequence (8)
‖ fields``, each field as its codec in :mod:`dcep.instructions._wire` writes it, nothing
after.  A signed envelope is ``signer public key (32) ‖ signature (64) ‖
instruction``; the signature covers :func:`~dcep.values._crypto.domain_message` of
the instruction under the kind's tag and the ledger's network id.

Decoding never trusts its input: short, long, unknown-kind, bad-version and
out-of-range bytes all raise a :class:`~dcep.DcepError`, never an
``IndexError`` or a ``UnicodeDecodeError``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any, Final, final

import attrs

from dcep.errors import EncodingError, Reason, SignatureError
from dcep.instructions import _wire as wire
from dcep.instructions._kinds import (
    KIND_RECORDS,
    NEW_KEY_FIELDS,
    Instruction,
    InstructionKind,
    _check_type,
)
from dcep.values._crypto import (
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    Address,
    SigningKey,
    VerifyKey,
    digest,
    domain_message,
)
from dcep.values._money import MAX_AMOUNT_FEN, Amount
from dcep.values._policy import WalletCategory

__all__ = [
    "ENCODING_VERSION",
    "NEW_KEY_OFFSETS",
    "SIGNERS_REMEMBERED",
    "SignedInstruction",
    "SignerKeys",
    "decode_instruction",
    "domain_tag",
    "encode_instruction",
    "linked_digest",
    "member_digest",
]

#: Bumped whenever any layout changes; old versions stay decodable or are refused by name.
ENCODING_VERSION: Final = 1
_ENVELOPE_HEADER: Final = PUBLIC_KEY_SIZE + SIGNATURE_SIZE
_DOMAIN_TAGS: Final = {
    kind: f"dcep/v{ENCODING_VERSION}/{kind.name.lower()}".encode() for kind in InstructionKind
}


def domain_tag(kind: InstructionKind) -> bytes:
    """The domain tag a signature of ``kind`` is made under."""
    return _DOMAIN_TAGS[kind]


def encode_instruction(instruction: Instruction) -> bytes:
    """The canonical bytes of ``instruction``: equal records, equal bytes."""
    parts = [
        bytes((ENCODING_VERSION, instruction.KIND)),
        wire.U128.write(instruction.id),
        wire.U64.write(instruction.sequence),
    ]
    parts.extend(codec.write(getattr(instruction, name)) for name, codec in instruction.WIRE)
    return b"".join(parts)


def decode_instruction(data: bytes | bytearray | memoryview) -> Instruction:
    """Read one instruction from exactly ``data``; raise a typed error on anything else."""
    if type(data) is bytes and len(data) > 1 and data[0] == ENCODING_VERSION:
        layout = _LAYOUTS.get(data[1])
        if layout is not None:
            fast = layout.decode(data)
            if fast is not None:
                return fast
    return _decode_checked(data)


def _decode_checked(data: bytes | bytearray | memoryview) -> Instruction:
    # The careful path: every field read by its codec, every fault named.  The
    # fast path below hands anything it cannot read straight back to this one.
    if not isinstance(data, bytes | bytearray | memoryview):
        raise EncodingError(Reason.ENCODING_MALFORMED, "an instruction is decoded from bytes")
    data = bytes(data)
    if len(data) < 2:
        raise EncodingError(Reason.ENCODING_MALFORMED, "too short to hold a version and kind")
    if data[0] != ENCODING_VERSION:
        raise EncodingError(
            Reason.ENCODING_UNSUPPORTED_VERSION,
            f"encoding version {data[0]}; this dcep reads version {ENCODING_VERSION}",
            field="version",
        )
    try:
        record = KIND_RECORDS[InstructionKind(data[1])]
    except ValueError:
        raise EncodingError(
            Reason.ENCODING_UNKNOWN_KIND, f"no instruction kind {data[1]}", field="kind"
        ) from None
    instruction_id, offset = wire.U128.read(data, 2)
    sequence, offset = wire.U64.read(data, offset)
    values: dict[str, object] = {}
    try:
        for name, codec in record.WIRE:
            values[name], offset = codec.read(data, offset)
    except EncodingError as error:
        # Name the record's field (payer, memo), not the codec's (address, text).
        raise EncodingError(
            error.reason, error.message, instruction_id=instruction_id, field=name
        ) from None
    if offset != len(data):
        raise EncodingError(
            Reason.ENCODING_MALFORMED,
            f"{len(data) - offset} bytes left over after a {record.KIND.name} instruction",
            instruction_id=instruction_id,
        )
    # The record's validators check ranges, so decoded and built values obey one rule.
    return record(instruction_id, sequence, **values)


def _u128(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


def _address(raw: bytes) -> Address:
    # A struct "20s" field is always 20 bytes: skip Address's own size check.
    return bytes.__new__(Address, raw)


def _amount(fen: int) -> Amount:
    if fen > MAX_AMOUNT_FEN:
        raise ValueError("out of range")
    return Amount(fen)


#: How each fixed-width codec appears in a struct format, and what builds its value.
_FIXED: Final[dict[object, tuple[str, Callable[[Any], object] | None]]] = {
    wire.U64: ("Q", None),
    wire.U128: ("16s", _u128),
    wire.AMOUNT: ("Q", _amount),
    wire.ADDRESS: ("20s", _address),
    wire.KEY: ("32s", VerifyKey),
    wire.DIGEST: ("32s", None),
    wire.CATEGORY: ("B", WalletCategory),
}


@final
class _Layout:
    """One struct read for a record's fixed-width head, codecs for the rest.

    The hot path of every transfer: several times faster than reading field
    by field, and it falls back to :func:`_decode_checked` on anything
    unusual so that errors are always the careful path's.
    """

    __slots__ = ("_builders", "_head", "_record", "_tail")

    def __init__(self, record: type[Instruction]) -> None:
        codes = [">BB16sQ"]
        builders: list[Callable[[Any], object] | None] = []
        fields = list(record.WIRE)
        while fields and fields[0][1] in _FIXED:
            code, builder = _FIXED[fields.pop(0)[1]]
            codes.append(code)
            builders.append(builder)
        self._record = record
        self._head = struct.Struct("".join(codes))
        self._builders = tuple(builders)
        self._tail = tuple(codec for _, codec in fields)

    def decode(self, data: bytes) -> Instruction | None:
        try:
            _, _, raw_id, sequence, *raw = self._head.unpack_from(data)
            values = [
                value if builder is None else builder(value)
                for builder, value in zip(self._builders, raw, strict=True)
            ]
            offset = self._head.size
            for codec in self._tail:
                value, offset = codec.read(data, offset)
                values.append(value)
            if offset != len(data):
                return None
            return self._record(int.from_bytes(raw_id, "big"), sequence, *values)
        except (struct.error, ValueError, TypeError):
            return None


_LAYOUTS: Final = {int(kind): _Layout(record) for kind, record in KIND_RECORDS.items()}


def _key_offsets(record: type[Instruction], names: tuple[str, ...]) -> tuple[int, ...]:
    # Where in an instruction's bytes each of ``names`` (KEY fields) starts,
    # for those that only fixed-width fields precede.
    offsets = []
    offset = struct.calcsize(">BB16sQ")
    for name, codec in record.WIRE:
        if name in names:
            offsets.append(offset)
        fixed = _FIXED.get(codec)
        if fixed is None:
            break
        offset += struct.calcsize(">" + fixed[0])
    return tuple(offsets)


#: For each kind that binds new keys, by its byte: where those keys start in
#: its instruction's bytes (see ``NEW_KEY_FIELDS``), so that a sentinel worker
#: can check them without decoding the instruction.
NEW_KEY_OFFSETS: Final = {
    int(kind): _key_offsets(KIND_RECORDS[kind], names) for kind, names in NEW_KEY_FIELDS.items()
}


@final
@attrs.frozen
class SignedInstruction:
    """An instruction with its signer's public key and signature.

    Build one with :meth:`sign`, or parse one with :meth:`from_bytes`.  The
    ``instruction`` is always decoded from ``body``, the bytes the signature
    covers, so the two can never disagree.  Whether the signature is good is
    checked by :meth:`verify`, which the ledger calls for you, so that parsing
    stays cheap and verification can run in another process.
    """

    # A wrong type is FIELD_INVALID naming the field, as for the instruction records.
    signer: VerifyKey = attrs.field(validator=_check_type(VerifyKey))
    signature: bytes = attrs.field(
        validator=_check_type(bytes), repr=lambda sig: sig.hex()[:16] + "..."
    )
    #: The canonical bytes of the instruction: what is signed and journalled.
    body: bytes = attrs.field(validator=_check_type(bytes), repr=False)
    instruction: Instruction = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "instruction", decode_instruction(self.body))

    @classmethod
    def sign(
        cls, instruction: Instruction, key: SigningKey, network_id: bytes
    ) -> SignedInstruction:
        """Sign ``instruction`` with ``key`` for the ledger named ``network_id``."""
        body = encode_instruction(instruction)
        signature = key.sign(domain_message(_DOMAIN_TAGS[instruction.KIND], network_id, body))
        return cls(key.verify_key, signature, body)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> SignedInstruction:
        """Parse an envelope; the signature is not checked here (see :meth:`verify`)."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise EncodingError(Reason.ENCODING_MALFORMED, "an envelope is decoded from bytes")
        data = bytes(data)
        if len(data) < _ENVELOPE_HEADER:
            raise EncodingError(
                Reason.ENCODING_MALFORMED,
                f"an envelope is at least {_ENVELOPE_HEADER} bytes, not {len(data)}",
            )
        return cls(
            VerifyKey(data[:PUBLIC_KEY_SIZE]),
            data[PUBLIC_KEY_SIZE:_ENVELOPE_HEADER],
            data[_ENVELOPE_HEADER:],
        )

    def to_bytes(self) -> bytes:
        """The envelope's canonical bytes."""
        return bytes(self.signer) + self.signature + self.body

    def verify(self, network_id: bytes) -> None:
        """Raise :class:`~dcep.SignatureError` unless the signature is good on ``network_id``."""
        if len(self.signature) != SIGNATURE_SIZE:
            raise SignatureError(
                Reason.SIGNATURE_INVALID,
                "a signature is 64 bytes",
                instruction_id=self.instruction.id,
            )
        try:
            self.signer.verify(
                domain_message(_DOMAIN_TAGS[self.instruction.KIND], network_id, self.body),
                self.signature,
            )
        except SignatureError as error:
            raise SignatureError(
                Reason.SIGNATURE_INVALID,
                error.message,
                instruction_id=self.instruction.id,
                party=str(self.signer.address),
            ) from None


#: Signers a :class:`SignerKeys` remembers before it starts afresh: about
#: 30 MB of keys and addresses, more than the wallets of the benchmarks'
#: journals (100,000), so that a replay of those derives each address once.
SIGNERS_REMEMBERED: Final = 1 << 17


@final
class SignerKeys:
    """Reads envelopes as :meth:`SignedInstruction.from_bytes` does, reusing signers' keys.

    A journal holds millions of envelopes from far fewer signers, and a
    fresh :class:`~dcep.values.VerifyKey` derives its address (a BLAKE2b
    hash) again for every one.  A replay reads them through one of these,
    so that each signer's key, and its address, is made once while it is
    remembered (at most ``remembered``, :data:`SIGNERS_REMEMBERED` by default;
    then all are forgotten at once).
    """

    __slots__ = ("_keys", "_remembered")

    def __init__(self, remembered: int = SIGNERS_REMEMBERED) -> None:
        self._keys: dict[bytes, VerifyKey] = {}
        self._remembered = remembered

    def __len__(self) -> int:
        """How many signers' keys are remembered now."""
        return len(self._keys)

    def read(self, data: bytes) -> SignedInstruction:
        """The envelope ``data``, as :meth:`SignedInstruction.from_bytes` reads it."""
        if type(data) is not bytes or len(data) < _ENVELOPE_HEADER:
            return SignedInstruction.from_bytes(data)  # and its errors
        raw = data[:PUBLIC_KEY_SIZE]
        keys = self._keys
        key = keys.get(raw)
        if key is None:
            if len(keys) >= self._remembered:
                keys.clear()
            key = keys[raw] = VerifyKey(raw)
        return SignedInstruction(
            key, data[PUBLIC_KEY_SIZE:_ENVELOPE_HEADER], data[_ENVELOPE_HEADER:]
        )


_LINKED_PERSON: Final = b"dcep.linked"
#: Where the fold of a linked batch's member digests starts.
LINKED_START: Final = bytes(32)


def member_digest(running: bytes, member: SignedInstruction) -> bytes:
    """Fold one member's envelope into a linked batch's running digest."""
    return digest(running + member.to_bytes(), person=_LINKED_PERSON)


def linked_digest(members: Sequence[SignedInstruction]) -> bytes:
    """What a :class:`~dcep.instructions.LinkBatch` commits to: its members, in order."""
    running = LINKED_START
    for member in members:
        running = member_digest(running, member)
    return running
