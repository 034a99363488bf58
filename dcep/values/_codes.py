"""Hierarchical institution codes in the form of China's City IDcode system.

A code such as ``MA.156.1301.01.003`` reads left to right from the widest
authority to the narrowest: the issuing agency (``MA``), the ISO 3166-1
numeric country (``156``, China), the administrative region (``1301``, a
4- or 6-digit GB/T 2260 prefix), then any number of sub-levels, each handed
out by the level above it (``01`` a bank, ``003`` one of its branches).

dcep names institutions this way, rather than with flat identifiers, because
the e-CNY is two-tier: the central bank admits operating banks, and each bank
admits its own branches and merchants.  A hierarchical code lets a parent
assign codes to its children without asking anyone else, and lets a reader
tell from the code alone who stands under whom (``is_under``), which is what
region- or institution-bound rules need.
"""

from __future__ import annotations

import re
import reprlib
from typing import Final, final

import attrs

from dcep.errors import CodeError, Reason

__all__ = ["CodeRegistry", "InstitutionCode"]

MAX_LEVELS: Final = 12
MAX_CODE_LENGTH: Final = 64

# Explicit ASCII classes with fullmatch: ``\d`` would accept Arabic-Indic
# digits and ``$`` would accept a trailing newline.
_AGENCY: Final = re.compile(r"[A-Z]{2,4}")
_COUNTRY: Final = re.compile(r"[0-9]{3}")
_REGION: Final = re.compile(r"[0-9]{4}(?:[0-9]{2})?")
_LEVEL: Final = re.compile(r"[A-Z0-9]{1,8}")

_FIXED_PARTS: Final = ("agency", "country", "region")


def _malformed(message: str, field: str) -> CodeError:
    return CodeError(Reason.CODE_MALFORMED, message, field=field)


def _check_part(value: object, field: str, pattern: re.Pattern[str], rule: str) -> str:
    if not isinstance(value, str):
        raise _malformed(
            f"{field} must be a str, not {type(value).__name__} {reprlib.repr(value)}", field
        )
    if pattern.fullmatch(value) is None:
        raise _malformed(f"{field} {value!r} must be {rule}", field)
    return value


def _check_agency(_instance: object, _attribute: object, value: str) -> None:
    _check_part(value, "agency", _AGENCY, "2-4 uppercase ASCII letters")


def _check_country(_instance: object, _attribute: object, value: str) -> None:
    country = _check_part(value, "country", _COUNTRY, "exactly 3 ASCII digits (ISO 3166-1)")
    if country == "000":
        raise _malformed("country '000' is not an ISO 3166-1 numeric code", "country")


def _check_region(_instance: object, _attribute: object, value: str) -> None:
    _check_part(value, "region", _REGION, "4 or 6 ASCII digits")


def _check_levels(_instance: object, _attribute: object, value: tuple[str, ...]) -> None:
    _check_level_tuple(value)


def _check_level_tuple(value: object) -> None:
    # Typed ``object``: callers may pass anything at run time, whatever the annotation says.
    if not isinstance(value, tuple):
        raise _malformed(f"levels must be a tuple of str, not {type(value).__name__}", "levels")
    if len(value) > MAX_LEVELS:
        raise _malformed(
            f"there are {len(value)} levels, more than the {MAX_LEVELS} allowed", "levels"
        )
    for position, level in enumerate(value, start=1):
        _check_part(level, f"level {position}", _LEVEL, "1-8 uppercase ASCII letters or digits")


@final
@attrs.frozen(order=True)
class InstitutionCode:
    """One institution's place in the hierarchy, such as ``MA.156.1301.01``.

    Every instance is valid: the constructor checks each part, so a code
    built directly, parsed, or derived with :meth:`child` obeys one rule set.

    >>> code = InstitutionCode.parse("MA.156.1301.01")
    >>> code.levels, code.depth, str(code.parent)
    (('01',), 4, 'MA.156.1301')
    >>> code.child("003").is_under(code)
    True

    Raises :class:`~dcep.errors.CodeError` (a ``ValueError``) with
    ``CODE_MALFORMED`` and ``field`` naming the bad part: ``"agency"``,
    ``"country"``, ``"region"``, ``"level N"`` (counted from 1), ``"levels"``
    (not a tuple, or more than 12) or ``"code"`` (over 64 characters).
    """

    agency: str = attrs.field(validator=_check_agency)
    country: str = attrs.field(validator=_check_country)
    region: str = attrs.field(validator=_check_region)
    levels: tuple[str, ...] = attrs.field(default=(), validator=_check_levels)

    def __attrs_post_init__(self) -> None:
        # A bound on the whole keeps every code short: one length byte on the wire, one log column.
        text = str(self)
        if len(text) > MAX_CODE_LENGTH:
            raise _malformed(
                f"code {text!r} is {len(text)} characters, more than {MAX_CODE_LENGTH}", "code"
            )

    @classmethod
    def parse(cls, text: str) -> InstitutionCode:
        """Parse the dotted form, ``AGENCY.COUNTRY.REGION[.LEVEL...]``.

        Nothing is trimmed or case-folded: the text must already be the
        canonical form, so that ``str(parse(text)) == text`` always.
        """
        checked = _check_text(text)
        parts = checked.split(".")
        try:
            if len(parts) < len(_FIXED_PARTS):
                # Blame a bad part that is present before the first missing one.
                for check, part in zip(_FIXED_CHECKS, parts, strict=False):
                    check(None, None, part)
                missing = _FIXED_PARTS[len(parts)]
                raise _malformed(f"there is no {missing}", missing)
            return cls(parts[0], parts[1], parts[2], tuple(parts[3:]))
        except CodeError as error:
            # Repeat the whole text: the part alone may not say which code failed.
            raise CodeError(
                error.reason, f"in {checked!r}: {error.message}", field=error.field
            ) from None

    def __str__(self) -> str:
        return ".".join((self.agency, self.country, self.region, *self.levels))

    @property
    def depth(self) -> int:
        """How many dot-separated parts the code has; ``MA.156.1301`` is 3."""
        return len(_FIXED_PARTS) + len(self.levels)

    @property
    def parent(self) -> InstitutionCode | None:
        """The code one level up, or ``None`` for a region code (depth 3).

        Regions have no parent code: the agency assigns them directly.
        """
        if not self.levels:
            return None
        return InstitutionCode(self.agency, self.country, self.region, self.levels[:-1])

    def child(self, segment: str) -> InstitutionCode:
        """The code one level down, ending in ``segment``.

        Raises :class:`~dcep.errors.CodeError` if ``segment`` is not a valid
        sub-level, or if the result would have too many levels or characters.
        """
        return InstitutionCode(self.agency, self.country, self.region, (*self.levels, segment))

    def is_under(self, other: InstitutionCode) -> bool:
        """Whether ``self`` is a strict descendant of ``other`` (never itself)."""
        prefix = len(other.levels)
        return (
            len(self.levels) > prefix
            and (self.agency, self.country, self.region)
            == (other.agency, other.country, other.region)
            and self.levels[:prefix] == other.levels
        )


def _check_text(value: object) -> str:
    if not isinstance(value, str):
        raise _malformed(
            f"an institution code must be a str, not {type(value).__name__} {reprlib.repr(value)}",
            "code",
        )
    # Check the length first so that no work is proportional to hostile input.
    if len(value) > MAX_CODE_LENGTH:
        raise _malformed(
            f"code {value[:MAX_CODE_LENGTH]!r}... is {len(value)} characters, "
            f"more than {MAX_CODE_LENGTH}",
            "code",
        )
    return value


_FIXED_CHECKS: Final = (_check_agency, _check_country, _check_region)


@final
class CodeRegistry:
    """The codes assigned so far, each with the name of its owner.

    Every refusal happens before any change, so a refused :meth:`assign`
    leaves the registry exactly as it was.
    """

    __slots__ = ("_owners",)

    def __init__(self) -> None:
        self._owners: dict[InstitutionCode, str] = {}

    def assign(
        self, code: InstitutionCode, owner: str, *, parent: InstitutionCode | None = None
    ) -> None:
        """Record that ``owner`` holds ``code``.

        ``parent`` is the code of the institution handing ``code`` out; it
        may only hand out codes beneath its own.  Raises
        :class:`~dcep.errors.CodeError` with ``CODE_OUTSIDE_PARENT`` if ``code`` is
        not strictly under ``parent``, or ``CODE_DUPLICATE`` if ``code`` is
        already assigned.
        """
        if parent is not None and not code.is_under(parent):
            raise CodeError(
                Reason.CODE_OUTSIDE_PARENT,
                f"{str(code)!r} is not under its parent {str(parent)!r}",
                field="code",
            )
        current = self._owners.get(code)
        if current is not None:
            raise CodeError(
                Reason.CODE_DUPLICATE,
                f"{str(code)!r} is already assigned to {current!r}",
                field="code",
            )
        self._owners[code] = owner

    def owner_of(self, code: InstitutionCode) -> str | None:
        """The owner of ``code``, or ``None`` if it is not assigned."""
        return self._owners.get(code)

    def children_of(self, code: InstitutionCode) -> list[InstitutionCode]:
        """The assigned codes exactly one level below ``code``, sorted."""
        # A linear scan: registries hold institutions, not wallets, so they stay small.
        return sorted(child for child in self._owners if child.parent == code)

    def items(self) -> list[tuple[InstitutionCode, str]]:
        """Every (code, owner) pair, in the order they were assigned."""
        return list(self._owners.items())

    def __contains__(self, code: object) -> bool:
        return isinstance(code, InstitutionCode) and code in self._owners

    def __len__(self) -> int:
        return len(self._owners)
