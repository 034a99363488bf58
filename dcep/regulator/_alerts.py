"""What an AML rule is, and what it finds: the :class:`AmlRule` protocol and :class:`Alert`.

A rule is any object with a ``rule_id`` and ``evaluate(view, start_us,
end_us)`` that yields alerts; the built-in rules are in :mod:`dcep.regulator._aml`,
and a supervisor's own rule needs nothing from dcep beyond these two names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, final

import attrs

from dcep.regulator._view import RegulatorView
from dcep.values._crypto import Address

__all__ = ["Alert", "AmlRule"]


@final
@attrs.frozen
class Alert:
    """One finding of one rule: the wallets, entries and amounts (fen) that raised it.

    ``subject`` is the wallet the alert is about (for a bank run, the bank)
    and comes first in ``wallets``, the case's members; ``amounts_fen[i]`` is
    the amount of ``entries[i]``; ``time_us`` is when the pattern was
    complete and ``start_us`` when it began (the window ``[start_us,
    time_us]``, both included).  ``typology`` names the pattern (by default
    the rule's id) and ``score`` ranks alerts for triage: from a rule, how
    far past its thresholds the case went (1.0 is just at them; higher is
    stronger); from :func:`~dcep.regulator.screen`, that strength times the
    rule's rarity in the window (:func:`~dcep.regulator.calibrate`), so
    that scores compare across rules.
    """

    rule: str
    subject: Address
    wallets: tuple[Address, ...]
    entries: tuple[int, ...]
    amounts_fen: tuple[int, ...]
    time_us: int
    detail: str = ""
    score: float = 1.0
    typology: str = attrs.field(default=attrs.Factory(lambda alert: alert.rule, takes_self=True))
    start_us: int = attrs.field(
        default=attrs.Factory(lambda alert: alert.time_us, takes_self=True)
    )

    @property
    def total_fen(self) -> int:
        """The sum of ``amounts_fen``."""
        return sum(self.amounts_fen)

    def to_dict(self) -> dict[str, object]:
        """The alert as plain data."""
        return attrs.asdict(self, value_serializer=_plain)


def _plain(_instance: object, _field: object, value: object) -> object:
    if isinstance(value, Address):
        return str(value)
    return value


class AmlRule(Protocol):
    """What :func:`~dcep.screen` needs of a rule: an id and a way to find alerts in a window."""

    @property
    def rule_id(self) -> str:
        """A short stable name, used in alerts and reports."""
        ...

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterable[Alert]:
        """Alerts for patterns found among the flows of ``[start_us, end_us)``.

        A rule may read before the window (a dormant wallet's last flow) or
        after it (what followed an inflow), as far as its own periods reach.
        """
        ...
