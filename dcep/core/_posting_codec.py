"""The canonical bytes of a receipt's postings.

Every accepted instruction's postings are encoded once, as it is applied:
the ledger keeps them for idempotent retries, and the journal hashes them
into the entry.  The codec sits here, beside :class:`~dcep.core.Posting`,
so that the ledger needs nothing from the journal to encode its own records.
"""

from __future__ import annotations

import struct
from typing import Final

from dcep.core._records import AccountKind, Posting
from dcep.errors import EncodingError, Reason
from dcep.values._crypto import ADDRESS_SIZE, Address

__all__ = ["decode_postings", "encode_postings", "take_bytes"]

_KIND_CODES: Final = {kind: index for index, kind in enumerate(AccountKind, start=1)}
_KINDS_BY_CODE: Final = {index: kind for kind, index in _KIND_CODES.items()}


def _malformed(message: str) -> EncodingError:
    return EncodingError(Reason.ENCODING_MALFORMED, message)


def take_bytes(data: bytes, offset: int, size: int, what: str) -> tuple[bytes, int]:
    """``size`` bytes from ``offset`` and the offset after them, or ``ENCODING_MALFORMED``."""
    end = offset + size
    if end > len(data):
        raise _malformed(f"{what} runs past the end of the record")
    return data[offset:end], end


_POSTING_HEAD: Final = struct.Struct(">B20sqB")
#: Two postings on accounts without an id (a payment's): count and both heads.
_TWO_PLAIN_POSTINGS: Final = struct.Struct(">HB20sqBB20sqB")


def encode_postings(postings: tuple[Posting, ...]) -> bytes:
    """Postings as bytes: count, then kind, owner, signed delta, account id each."""
    # Every accepted instruction comes through here once: a payment's two
    # postings in one struct call, others one call per posting.
    codes = _KIND_CODES
    if len(postings) == 2:
        first, second = postings
        if not first.account_id and not second.account_id:
            return _TWO_PLAIN_POSTINGS.pack(
                2,
                codes[first.kind],
                first.owner,
                first.delta_fen,
                0,
                codes[second.kind],
                second.owner,
                second.delta_fen,
                0,
            )
    pack = _POSTING_HEAD.pack
    parts = [len(postings).to_bytes(2, "big")]
    for posting in postings:
        account = posting.account_id.encode("ascii")
        parts.append(pack(codes[posting.kind], posting.owner, posting.delta_fen, len(account)))
        parts.append(account)
    return b"".join(parts)


def decode_postings(data: bytes, offset: int) -> tuple[tuple[Posting, ...], int]:
    """Read postings written by :func:`encode_postings`; return them and the next offset."""
    raw, offset = take_bytes(data, offset, 2, "posting count")
    postings = []
    for _ in range(int.from_bytes(raw, "big")):
        raw, offset = take_bytes(data, offset, 1 + ADDRESS_SIZE + 8 + 1, "posting")
        kind = _KINDS_BY_CODE.get(raw[0])
        if kind is None:
            raise _malformed(f"no account kind {raw[0]}")
        owner = Address(raw[1 : 1 + ADDRESS_SIZE])
        delta = int.from_bytes(raw[1 + ADDRESS_SIZE : 9 + ADDRESS_SIZE], "big", signed=True)
        account_raw, offset = take_bytes(data, offset, raw[-1], "account id")
        try:
            account = account_raw.decode("ascii")
        except UnicodeDecodeError:
            raise _malformed("an account id is ASCII") from None
        postings.append(Posting(kind, owner, delta, account))
    return tuple(postings), offset
