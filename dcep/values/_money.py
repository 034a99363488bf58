"""Amounts of e-CNY in integer fen.

Money is never a float: an :class:`Amount` holds a whole number of fen
(1 yuan = 100 fen), parses decimal strings exactly, and refuses arithmetic
that would leave the range ``0 .. MAX_AMOUNT_FEN``.  The maximum is the
largest signed 64-bit integer, so that every amount fits one SQLite INTEGER
and one fixed-width field of the wire encoding.
"""

from __future__ import annotations

import re
from typing import Final, final

import attrs

from dcep.errors import AmountError, Reason

__all__ = ["FEN_PER_YUAN", "MAX_AMOUNT_FEN", "Amount", "cny"]

#: Fen in one yuan.
FEN_PER_YUAN: Final = 100
#: The largest amount, in fen: a signed 64-bit integer, so it fits SQLite and the wire.
MAX_AMOUNT_FEN: Final = 2**63 - 1

_MAX_YUAN_DIGITS: Final = len(str(MAX_AMOUNT_FEN // FEN_PER_YUAN))
_DECIMAL = re.compile(r"(?P<yuan>[0-9]+)(?:\.(?P<fen>[0-9]{1,2}))?")


def _check_fen(value: object) -> int:
    # bool is an int subclass; True yuan is a bug, not an amount.
    if type(value) is not int:
        raise AmountError(
            Reason.AMOUNT_NOT_INTEGER,
            f"an amount must be an int number of fen, not {type(value).__name__} {value!r}",
        )
    if value < 0:
        raise AmountError(Reason.AMOUNT_NEGATIVE, f"an amount cannot be negative: {value} fen")
    if value > MAX_AMOUNT_FEN:
        raise AmountError(
            Reason.AMOUNT_TOO_LARGE,
            f"{value} fen is above the maximum of {MAX_AMOUNT_FEN} fen",
        )
    return value


def _validate_fen(_instance: object, _attribute: object, value: int) -> None:
    _check_fen(value)


@final
@attrs.frozen(order=True)
class Amount:
    """A non-negative whole number of fen, at most :data:`MAX_AMOUNT_FEN`.

    >>> cny("12.50") + Amount(50)
    Amount(fen=1300)
    >>> str(cny("1234.5"))
    '¥1,234.50'
    >>> cny("1") - cny("2")
    Traceback (most recent call last):
    ...
    dcep.errors.AmountError: [amount_negative] an amount cannot be negative: -100 fen

    Raises :class:`~dcep.AmountError` (a ``ValueError``) for a value out of
    range and for a float or other non-int (``AMOUNT_NOT_INTEGER``).
    """

    fen: int = attrs.field(validator=_validate_fen)

    @classmethod
    def zero(cls) -> Amount:
        """The amount of nothing, for sums and starting balances."""
        return _ZERO

    @classmethod
    def parse(cls, text: str) -> Amount:
        """Parse a decimal yuan string such as ``"12.50"`` exactly.

        At most two decimal places; no sign, exponent, grouping or spaces.
        """
        if not isinstance(text, str):
            raise AmountError(
                Reason.AMOUNT_NOT_INTEGER,
                f"cny() takes a decimal string such as '12.50', not {type(text).__name__}",
            )
        match = _DECIMAL.fullmatch(text)
        if match is None:
            raise AmountError(
                Reason.AMOUNT_MALFORMED,
                f"{text!r} is not a decimal yuan amount such as '12.50'",
            )
        # Bound the digits before int(): Python refuses to convert over 4300 of them.
        yuan_digits = match["yuan"].lstrip("0") or "0"
        if len(yuan_digits) > _MAX_YUAN_DIGITS:
            raise AmountError(
                Reason.AMOUNT_TOO_LARGE,
                f"{text[:40]!r}... is above the maximum of {MAX_AMOUNT_FEN} fen",
            )
        fen_text = (match["fen"] or "").ljust(2, "0")
        return cls(int(yuan_digits) * FEN_PER_YUAN + int(fen_text))

    def require_positive(self, *, field: str = "amount") -> Amount:
        """Return ``self`` if above zero; instructions never move nothing."""
        if self.fen == 0:
            raise AmountError(
                Reason.AMOUNT_NOT_POSITIVE, "an amount must be above zero", field=field
            )
        return self

    def __add__(self, other: Amount) -> Amount:
        if not isinstance(other, Amount):
            return NotImplemented
        return Amount(self.fen + other.fen)

    def __sub__(self, other: Amount) -> Amount:
        if not isinstance(other, Amount):
            return NotImplemented
        return Amount(self.fen - other.fen)

    def __mul__(self, factor: int) -> Amount:
        # Only whole multiples: a fractional factor would need a rounding rule.
        return Amount(self.fen * _check_factor(factor))

    __rmul__ = __mul__

    def __bool__(self) -> bool:
        return self.fen != 0

    def __int__(self) -> int:
        return self.fen

    def __str__(self) -> str:
        yuan, fen = divmod(self.fen, FEN_PER_YUAN)
        return f"¥{yuan:,}.{fen:02d}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    @property
    def yuan_text(self) -> str:
        """The amount as a plain decimal string, ``"1234.50"``, for files and tables."""
        yuan, fen = divmod(self.fen, FEN_PER_YUAN)
        return f"{yuan}.{fen:02d}"


def _check_factor(factor: object) -> int:
    if type(factor) is not int:
        raise AmountError(
            Reason.AMOUNT_NOT_INTEGER,
            f"an amount can only be multiplied by an int, not {type(factor).__name__}",
        )
    return factor


_ZERO: Final = Amount(0)


def cny(text: str) -> Amount:
    """Parse a decimal yuan string into an :class:`Amount`: ``cny("12.50")``.

    A string, never a float, because ``0.1 + 0.2`` is not ``0.3`` in binary.
    """
    return Amount.parse(text)
