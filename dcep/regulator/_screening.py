"""Screening: every rule over one shared window, scores made comparable, and a live screener.

:func:`screen` reads a window of the view once (a
:class:`~dcep.regulator.FlowWindow`), runs every rule over it, and
calibrates the scores across rules: each alert's own strength (how far past
its rule's thresholds it went, counted up to three times) times its rule's
**rarity** in the window, ``ln(active / subjects) / ln(active)``, where
``subjects`` are the wallets the rule flags and ``active`` the wallets with a
flow: 1.0 for a rule that flags one wallet, 0.0 for one that flags them all.
A rule that fires on a payroll in every firm says less about each alert than
one that fires on three wallets in ten thousand, whatever its thresholds; so
a budget ("at most 2% of active wallets") takes the strong and the rare
first, at any scale of money and population.

A :class:`Screener` follows a view that follows a ledger: each
:meth:`Screener.update` screens the flows that arrived since the last one,
in one window that reaches back ``lookback_us`` before the first of them
(as far as the rules' own windows reach, and at least a week, for the
population figures rules weigh against), and returns only the alerts that
are new: with a new entry, and sharing no entry with an alert its rule
reported before.  An update costs the lookback's flows, whatever the length
of the history behind it.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable, Sequence
from typing import Final, final

import attrs

from dcep.errors import InvalidFieldError, Reason
from dcep.regulator._alerts import Alert, AmlRule
from dcep.regulator._aml import default_rules
from dcep.regulator._index import END_US
from dcep.regulator._typologies import DAY_US
from dcep.regulator._view import RegulatorView
from dcep.regulator._window import FlowWindow, WindowRule
from dcep.values._crypto import Address

__all__ = ["Screener", "calibrate", "screen"]

#: How many times past its thresholds an alert counts at most.
STRENGTH_MAX: Final = 3.0
#: The least an update looks back: a week, for the population figures rules weigh against.
BASELINE_US: Final = 7 * DAY_US
#: The fields of the built-in rules that say how far a pattern spans.
_SPANS: Final = ("window_us", "episodes_us", "forward_us", "burst_us")


def _run(rules: Iterable[AmlRule], window: FlowWindow) -> list[tuple[AmlRule, list[Alert]]]:
    return [
        (
            rule,
            list(
                rule.evaluate_window(window)
                if isinstance(rule, WindowRule)
                else rule.evaluate(window.view, window.start_us, window.end_us)
            ),
        )
        for rule in rules
    ]


def calibrate(alerts: Sequence[Alert], active: int) -> list[Alert]:
    """``alerts`` with scores comparable across rules: strength times the rule's rarity.

    Strength is the alert's own score, counted up to ``STRENGTH_MAX``;
    rarity is ``ln(active / subjects) / ln(active)`` for the distinct
    subjects of the alert's rule among ``alerts``, so that a rule flagging
    many of the ``active`` wallets ranks each of its alerts lower.
    """
    subjects: dict[str, set[Address]] = collections.defaultdict(set)
    for alert in alerts:
        subjects[alert.rule].add(alert.subject)
    scale = math.log(max(active, 2))
    rarity = {
        rule: max(0.0, math.log(max(active, len(found)) / len(found))) / scale
        for rule, found in subjects.items()
    }
    return [
        attrs.evolve(alert, score=round(min(alert.score, STRENGTH_MAX) * rarity[alert.rule], 4))
        for alert in alerts
    ]


def screen(
    view: RegulatorView,
    rules: Iterable[AmlRule] | None = None,
    *,
    start_us: int | None = None,
    end_us: int | None = None,
    budget: float | None = None,
) -> tuple[Alert, ...]:
    """Run ``rules`` (default: :func:`~dcep.regulator.default_rules`) over a window, in one read.

    Scores are calibrated across rules (:func:`calibrate`).  Without a
    ``budget``, every alert, in time order.  With one (a share of the
    wallets active in the window, from 0 to 1: ``0.02`` for "at most 2%"),
    the top of the ranking: alerts by score, highest first, as long as the
    distinct subjects they name stay within ``budget`` times the active
    wallets.  ``FIELD_INVALID`` for a window that ends before it starts or a
    budget outside ``(0, 1]``.
    """
    start = 0 if start_us is None else start_us
    end = END_US if end_us is None else end_us
    if type(start) is not int or type(end) is not int or start > end:
        raise InvalidFieldError(
            Reason.FIELD_INVALID, "the window is whole microseconds, start <= end", field="window"
        )
    given: object = budget
    if budget is not None and (type(given) not in (int, float) or not 0 < budget <= 1):
        raise InvalidFieldError(
            Reason.FIELD_INVALID, "budget is a share of active wallets in (0, 1]", field="budget"
        )
    window = FlowWindow(view, start, end)
    found = [
        a
        for _, alerts in _run(default_rules() if rules is None else rules, window)
        for a in alerts
    ]
    active = window.active_wallets()
    alerts = calibrate(found, len(active))
    if budget is None:
        return tuple(sorted(alerts, key=lambda a: (a.time_us, a.rule, a.entries)))
    allowed = int(budget * len(active))
    chosen: list[Alert] = []
    subjects: set[Address] = set()
    for alert in sorted(alerts, key=lambda a: (-a.score, a.time_us, a.rule, a.entries)):
        if alert.subject not in subjects and len(subjects) >= allowed:
            continue
        subjects.add(alert.subject)
        chosen.append(alert)
    return tuple(chosen)


def reach_us(rule: AmlRule) -> int:
    """How far back of a new flow ``rule`` may need to look: the sum of its spans, or a day."""
    spans = [getattr(rule, name, 0) for name in _SPANS]
    return sum(span for span in spans if type(span) is int) or DAY_US


@final
class Screener:
    """AML screening that keeps up with a view as it grows: call :meth:`update` after new entries.

    ``rules`` default to :func:`~dcep.regulator.default_rules`; ``lookback_us``
    to the longest reach of a rule (its windows added up), and at least a
    week.  Every alert is reported once: :meth:`update` returns those not
    reported before, with scores calibrated over its window, and
    :attr:`alerts` all of them so far.  ``FIELD_INVALID`` for a lookback
    that is not a positive whole number of microseconds.
    """

    __slots__ = ("_alerts", "_reported", "_screened", "lookback_us", "rules", "view")

    def __init__(
        self,
        view: RegulatorView,
        rules: Iterable[AmlRule] | None = None,
        *,
        lookback_us: int | None = None,
    ) -> None:
        self.view = view
        self.rules: tuple[AmlRule, ...] = tuple(default_rules() if rules is None else rules)
        if lookback_us is None:
            lookback_us = max([BASELINE_US, *(reach_us(rule) for rule in self.rules)])
        if type(lookback_us) is not int or lookback_us < 1:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"lookback_us is a whole number of microseconds, not {lookback_us!r}",
                field="lookback_us",
            )
        self.lookback_us = lookback_us
        self._screened = 0  # flows of the view already screened
        self._reported: dict[str, set[int]] = {}  # per rule, the entries of its alerts
        self._alerts: list[Alert] = []

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """Every alert reported so far, in the order reported."""
        return tuple(self._alerts)

    def update(self) -> tuple[Alert, ...]:
        """Screen the flows that arrived since the last update; return the new alerts, by time."""
        view = self.view
        rows = view._by_time
        if self._screened == len(rows):
            return ()
        first_time, first_entry = rows[self._screened]
        self._screened = len(rows)
        window = FlowWindow(view, max(0, first_time - self.lookback_us), END_US)
        everything = [a for _, alerts in _run(self.rules, window) for a in alerts]
        found: list[Alert] = []
        for alert in calibrate(everything, len(window.active_wallets())):
            if max(alert.entries) < first_entry:
                continue  # all of it was there at the last update
            reported = self._reported.setdefault(alert.rule, set())
            if reported.intersection(alert.entries):
                continue  # the same case, reported already
            reported.update(alert.entries)
            found.append(alert)
        found.sort(key=lambda a: (a.time_us, a.rule, a.entries))
        self._alerts.extend(found)
        return tuple(found)

    def __repr__(self) -> str:
        return f"<Screener {len(self.rules)} rules, {len(self._alerts)} alerts so far>"
