"""Where a voucher may be spent: regions (institution codes) and named merchants.

A voucher names the merchants it may pay as data: institution codes (a
merchant's operating bank's code, or a code above it: a region) and
merchant wallets by address.  These codecs give the two lists their one
byte form: a count (1), then each code as one-byte-length text, or each
address as its 20 bytes.
"""

from __future__ import annotations

from typing import Final, final

from dcep.errors import DcepError, EncodingError, Reason
from dcep.values._codes import InstitutionCode
from dcep.values._crypto import ADDRESS_SIZE, Address

__all__ = ["MAX_SCOPE", "MERCHANTS", "REGIONS"]

#: At most this many regions, and this many merchants, on one voucher.
MAX_SCOPE: Final = 16


def _malformed(field: str, message: str) -> EncodingError:
    return EncodingError(Reason.ENCODING_MALFORMED, message, field=field)


@final
class _Regions:
    __slots__ = ("name",)

    def __init__(self) -> None:
        self.name = "regions"

    def write(self, value: tuple[InstitutionCode, ...]) -> bytes:
        parts = [bytes((len(value),))]
        for code in value:
            raw = str(code).encode("ascii")
            parts.append(bytes((len(raw),)) + raw)
        return b"".join(parts)

    def read(self, data: bytes, offset: int) -> tuple[tuple[InstitutionCode, ...], int]:
        if offset >= len(data):
            raise _malformed(self.name, "regions run past the end")
        count = data[offset]
        offset += 1
        codes = []
        for _ in range(count):
            if offset >= len(data):
                raise _malformed(self.name, "regions run past the end")
            size = data[offset]
            raw = data[offset + 1 : offset + 1 + size]
            if len(raw) != size:
                raise _malformed(self.name, "regions run past the end")
            try:
                codes.append(InstitutionCode.parse(raw.decode("ascii")))
            except (DcepError, UnicodeDecodeError):
                raise _malformed(self.name, "a region is not an institution code") from None
            offset += 1 + size
        return tuple(codes), offset


@final
class _Merchants:
    __slots__ = ("name",)

    def __init__(self) -> None:
        self.name = "merchants"

    def write(self, value: tuple[Address, ...]) -> bytes:
        return bytes((len(value),)) + b"".join(bytes(address) for address in value)

    def read(self, data: bytes, offset: int) -> tuple[tuple[Address, ...], int]:
        if offset >= len(data):
            raise _malformed(self.name, "merchants run past the end")
        count = data[offset]
        end = offset + 1 + count * ADDRESS_SIZE
        if end > len(data):
            raise _malformed(self.name, "merchants run past the end")
        merchants = tuple(
            Address(data[at : at + ADDRESS_SIZE]) for at in range(offset + 1, end, ADDRESS_SIZE)
        )
        return merchants, end


REGIONS: Final = _Regions()
MERCHANTS: Final = _Merchants()
