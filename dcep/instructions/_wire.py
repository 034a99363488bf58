"""Field codecs of the canonical instruction encoding.

Each codec turns one field value into bytes and reads it back from a buffer
at an offset, refusing anything short, long or out of range with an
:class:`~dcep.errors.EncodingError`.  Fixed-width integers are big-endian; text is a
one-byte length and UTF-8.  There is exactly one encoding of every value, so
equal instructions have equal bytes and equal digests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Generic, Protocol, SupportsBytes, TypeVar, final

from dcep.errors import DcepError, EncodingError, Reason
from dcep.values._codes import InstitutionCode
from dcep.values._crypto import ADDRESS_SIZE, PUBLIC_KEY_SIZE, Address, VerifyKey
from dcep.values._money import MAX_AMOUNT_FEN, Amount
from dcep.values._policy import WalletCategory

__all__ = [
    "ADDRESS",
    "AMOUNT",
    "BLOB",
    "CATEGORY",
    "CODE",
    "DIGEST",
    "KEY",
    "TEXT",
    "U64",
    "U128",
    "Codec",
]

T = TypeVar("T")
B = TypeVar("B", bound=SupportsBytes)


class Codec(Protocol, Generic[T]):
    """Writes one field and reads it back; ``read`` returns the next offset."""

    name: str

    def write(self, value: T) -> bytes: ...

    def read(self, data: bytes, offset: int) -> tuple[T, int]: ...


def _take(data: bytes, offset: int, size: int, what: str) -> bytes:
    end = offset + size
    if end > len(data):
        raise EncodingError(
            Reason.ENCODING_MALFORMED,
            f"{what} needs {size} bytes at offset {offset}, only {len(data) - offset} left",
            field=what,
        )
    return data[offset:end]


@final
class _Unsigned:
    __slots__ = ("_size", "name")

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self._size = size

    def write(self, value: int) -> bytes:
        return value.to_bytes(self._size, "big")

    def read(self, data: bytes, offset: int) -> tuple[int, int]:
        raw = _take(data, offset, self._size, self.name)
        return int.from_bytes(raw, "big"), offset + self._size


@final
class _Amount:
    __slots__ = ("name",)

    def __init__(self) -> None:
        self.name = "amount"

    def write(self, value: Amount) -> bytes:
        return value.fen.to_bytes(8, "big")

    def read(self, data: bytes, offset: int) -> tuple[Amount, int]:
        fen = int.from_bytes(_take(data, offset, 8, "amount"), "big")
        if fen > MAX_AMOUNT_FEN:
            raise EncodingError(
                Reason.ENCODING_MALFORMED, f"amount {fen} is above the maximum", field="amount"
            )
        return Amount(fen), offset + 8


@final
class _FixedBytes(Generic[B]):
    __slots__ = ("_make", "_size", "name")

    def __init__(self, name: str, size: int, make: Callable[[bytes], B]) -> None:
        self.name = name
        self._size = size
        self._make = make

    def write(self, value: B) -> bytes:
        return bytes(value)

    def read(self, data: bytes, offset: int) -> tuple[B, int]:
        raw = _take(data, offset, self._size, self.name)
        return self._make(raw), offset + self._size


@final
class _Text:
    """UTF-8 with a one-byte length: names, memos and account numbers are short."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, value: str) -> bytes:
        raw = value.encode("utf-8")
        return bytes((len(raw),)) + raw

    def read(self, data: bytes, offset: int) -> tuple[str, int]:
        size = _take(data, offset, 1, self.name)[0]
        raw = _take(data, offset + 1, size, self.name)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise EncodingError(
                Reason.ENCODING_MALFORMED, f"{self.name} is not valid UTF-8", field=self.name
            ) from None
        return text, offset + 1 + size


@final
class _Code:
    __slots__ = ("_text", "name")

    def __init__(self) -> None:
        self.name = "code"
        self._text = _Text("code")

    def write(self, value: InstitutionCode) -> bytes:
        return self._text.write(str(value))

    def read(self, data: bytes, offset: int) -> tuple[InstitutionCode, int]:
        text, end = self._text.read(data, offset)
        try:
            return InstitutionCode.parse(text), end
        except DcepError as error:
            raise EncodingError(
                Reason.ENCODING_MALFORMED, f"bad institution code: {error}", field="code"
            ) from None


@final
class _Category:
    __slots__ = ("name",)

    def __init__(self) -> None:
        self.name = "category"

    def write(self, value: WalletCategory) -> bytes:
        return bytes((int(value),))

    def read(self, data: bytes, offset: int) -> tuple[WalletCategory, int]:
        raw = _take(data, offset, 1, self.name)[0]
        try:
            return WalletCategory(raw), offset + 1
        except ValueError:
            raise EncodingError(
                Reason.ENCODING_MALFORMED, f"no wallet category {raw}", field="category"
            ) from None


@final
class _Blob:
    """Bytes with a two-byte length: sealed disclosures and other opaque payloads."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, value: bytes) -> bytes:
        return len(value).to_bytes(2, "big") + value

    def read(self, data: bytes, offset: int) -> tuple[bytes, int]:
        size = int.from_bytes(_take(data, offset, 2, self.name), "big")
        return _take(data, offset + 2, size, self.name), offset + 2 + size


U64: Final = _Unsigned("u64", 8)
U128: Final = _Unsigned("u128", 16)
AMOUNT: Final = _Amount()
ADDRESS: Final = _FixedBytes("address", ADDRESS_SIZE, Address)
KEY: Final = _FixedBytes("key", PUBLIC_KEY_SIZE, VerifyKey)
DIGEST: Final = _FixedBytes("digest", 32, bytes)
TEXT: Final = _Text("text")
CODE: Final = _Code()
CATEGORY: Final = _Category()
BLOB: Final = _Blob("blob")
