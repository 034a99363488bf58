"""Screening a live ledger: each update screens what arrived, and only as far back as needed.

A :class:`Screener` follows a :class:`~dcep.regulator.RegulatorView` that
follows a ledger.  :meth:`Screener.update` screens the flows that arrived
since the last update, in one :class:`~dcep.regulator.FlowWindow` that
reaches back ``lookback_us`` before the first of them (as far as the rules'
own windows reach, and at least a baseline for the population figures the
rules weigh against: medians, a bank's usual rate of drains), and returns
only the alerts that are new: an alert with a new entry that shares no entry
with an alert its rule already reported.  The cost of an update is the
lookback's flows, whatever the length of the history behind it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, final

from dcep.errors import InvalidFieldError, Reason
from dcep.regulator._alerts import Alert, AmlRule
from dcep.regulator._aml import default_rules
from dcep.regulator._index import END_US
from dcep.regulator._typologies import DAY_US
from dcep.regulator._view import RegulatorView
from dcep.regulator._window import FlowWindow, WindowRule

__all__ = ["Screener"]

#: The least an update looks back: a week, for the population figures rules weigh against.
BASELINE_US: Final = 7 * DAY_US
#: The fields of the built-in rules that say how far a pattern spans.
_SPANS: Final = ("window_us", "episodes_us", "forward_us", "burst_us")


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
    reported before, and :attr:`alerts` all of them so far.
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
        found: list[Alert] = []
        for rule in self.rules:
            alerts = (
                rule.evaluate_window(window)
                if isinstance(rule, WindowRule)
                else rule.evaluate(view, window.start_us, window.end_us)
            )
            reported = self._reported.setdefault(rule.rule_id, set())
            for alert in sorted(alerts, key=lambda a: (a.time_us, a.entries)):
                if max(alert.entries) < first_entry:
                    continue  # all of it was there at the last update
                if reported.intersection(alert.entries):
                    continue  # the same case, reported already
                reported.update(alert.entries)
                found.append(alert)
        found.sort(key=lambda a: (a.time_us, a.rule, a.entries))
        self._alerts.extend(found)
        return tuple(found)

    def __repr__(self) -> str:
        return f"<Screener {len(self.rules)} rules, {len(self._alerts)} alerts so far>"
