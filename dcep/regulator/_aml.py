"""Anti-money-laundering rules over the regulator's view: reports, structuring, dormancy, mules.

A rule is any object with a ``rule_id`` and ``evaluate(view, start_us,
end_us)`` that yields :class:`~dcep.regulator.Alert` records (the :class:`~dcep.regulator.AmlRule`
protocol, in :mod:`dcep.regulator._alerts`); the built-in ones are frozen records
whose defaults follow PBOC Order [2016] No. 3 and the PBOC's lists of
suspicious patterns (FACTS.md).  Every threshold is a field, so a
supervisor can tune one with ``attrs.evolve`` or add a rule of their own to
the tuple passed to :func:`~dcep.regulator.screen` (in
:mod:`dcep.regulator._screening`).  Daily reports are in
:mod:`dcep.regulator._reports`.

Rules see wallets only by address and category.  "Per customer" totals are
therefore per wallet: joining a customer's wallets needs the operator's
identity records, which the view does not hold.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Final, final

import attrs

from dcep.regulator._alerts import Alert, AmlRule
from dcep.regulator._passing import FanRule, PassThroughRule
from dcep.regulator._records import FundsFlow
from dcep.regulator._typologies import (
    DAY_US,
    BankRunRule,
    CycleRule,
    GatherScatterRule,
    ScatterGatherRule,
    at_least,
    make_alert,
    percent,
    quiet_share,
)
from dcep.regulator._view import RegulatorView
from dcep.regulator._window import FlowWindow
from dcep.values._crypto import Address
from dcep.values._policy import WalletCategory

__all__ = [
    "DormancyRule",
    "LargeValueRule",
    "MuleRule",
    "StructuringRule",
    "default_rules",
]

#: Beijing time, in which the PBOC's "per day" totals are reckoned.
BEIJING_UTC_OFFSET_MINUTES: Final = 480
_EPOCH: Final = dt.date(1970, 1, 1)


def _cny(yuan: int) -> int:
    return yuan * 100


def _alert(
    rule: str,
    subject: Address,
    flows: Sequence[FundsFlow],
    detail: str,
    *others: Address,
    score: float = 1.0,
) -> Alert:
    return make_alert(rule, subject, flows, detail, *others, score=score)


def _runs(
    flows: Sequence[FundsFlow], window_us: int, enough: Callable[[Sequence[FundsFlow]], bool]
) -> Iterator[Sequence[FundsFlow]]:
    """Runs of ``flows`` within ``window_us`` that are ``enough``; a flow is in one run at most."""
    first = 0
    for last, flow in enumerate(flows):
        while flow.time_us - flows[first].time_us >= window_us:
            first += 1
        if enough(run := flows[first : last + 1]):
            yield run
            first = last + 1


def day_of(time_us: int, utc_offset_minutes: int = BEIJING_UTC_OFFSET_MINUTES) -> dt.date:
    """The local calendar day of ``time_us``."""
    return _EPOCH + dt.timedelta(days=(time_us + utc_offset_minutes * 60_000_000) // DAY_US)


def day_start_us(day: dt.date, utc_offset_minutes: int = BEIJING_UTC_OFFSET_MINUTES) -> int:
    """When local day ``day`` begins, in microseconds since the epoch."""
    return (day - _EPOCH).days * DAY_US - utc_offset_minutes * 60_000_000


@final
@attrs.frozen
class LargeValueRule:
    """Large-value reports: a wallet's inflows, or outflows, totalling ``threshold`` in a day.

    Defaults: 500,000 CNY for a person's wallet (domestic transfers by
    natural persons), 2,000,000 CNY for a corporate wallet (by non-natural
    persons; ``None``: the same as a person's), and 50,000 CNY of cash
    fundings a day.
    """

    rule_id: str = "large-value"
    threshold_fen: int = attrs.field(default=_cny(500_000), validator=at_least(1))
    cash_threshold_fen: int | None = attrs.field(
        default=_cny(50_000), validator=at_least(1, optional=True)
    )
    corporate_threshold_fen: int | None = attrs.field(
        default=_cny(2_000_000), validator=at_least(1, optional=True)
    )
    utc_offset_minutes: int = attrs.field(
        default=BEIJING_UTC_OFFSET_MINUTES, validator=at_least(-14 * 60)
    )

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterator[Alert]:
        """Per wallet, day and direction (``in``, ``out``, ``cash``) over the threshold."""
        return self.evaluate_window(FlowWindow(view, start_us, end_us))

    def evaluate_window(self, window: FlowWindow) -> Iterator[Alert]:
        """As :meth:`evaluate`, over a window already read."""
        least = min(self.threshold_fen, self.cash_threshold_fen or self.threshold_fen)
        offset_us = self.utc_offset_minutes * 60_000_000
        profiles = window.view._wallets
        for wallet, flows in window.by_wallet().items():
            profile = profiles.get(wallet)
            transfers_limit = (
                self.corporate_threshold_fen
                if profile is not None and profile.corporate and self.corporate_threshold_fen
                else self.threshold_fen
            )
            # No day can reach a threshold that the whole window does not.
            if sum(flow.amount_fen for flow in flows) < least:
                continue
            groups: dict[tuple[int, str], list[FundsFlow]] = collections.defaultdict(list)
            for flow in flows:
                day = (flow.time_us + offset_us) // DAY_US
                groups[day, "in" if flow.payee == wallet else "out"].append(flow)
                if flow.cash and flow.payee == wallet:
                    groups[day, "cash"].append(flow)
            for (day, side), group in groups.items():
                limit = self.cash_threshold_fen if side == "cash" else transfers_limit
                total = sum(f.amount_fen for f in group)
                if limit is not None and total >= limit:
                    date = _EPOCH + dt.timedelta(days=day)
                    detail = f"{side} on {date.isoformat()}"
                    yield _alert(self.rule_id, wallet, group, detail, score=total / limit)


@final
@attrs.frozen
class StructuringRule:
    """Structuring: ``min_count`` flows just below ``threshold`` within ``window_us``.

    "Just below" is within ``band_percent`` of the threshold (default 10%
    of 50,000 CNY, the cash report threshold; two such flows in a week).  Inflows and outflows of a
    wallet are counted separately, so many payers smurfing into one wallet
    are caught as well as one wallet splitting its payments.
    """

    rule_id: str = "structuring"
    threshold_fen: int = attrs.field(default=_cny(50_000), validator=at_least(1))
    band_percent: int = attrs.field(default=10, validator=percent(99))
    min_count: int = attrs.field(default=2, validator=at_least(1))
    window_us: int = attrs.field(default=7 * DAY_US, validator=at_least(1))

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterator[Alert]:
        """One alert per wallet, direction and run of near-threshold flows."""
        return self.evaluate_window(FlowWindow(view, start_us, end_us))

    def evaluate_window(self, window: FlowWindow) -> Iterator[Alert]:
        """As :meth:`evaluate`, over a window already read."""
        low = self.threshold_fen * (100 - self.band_percent) // 100
        high = self.threshold_fen
        # The band first: few flows are in it, so only those are grouped.
        near: dict[tuple[Address, str], list[FundsFlow]] = collections.defaultdict(list)
        for flow in window.flows:
            if low <= flow.amount_fen < high and not window.internal(flow):
                if window.is_wallet(flow.payer):
                    near[flow.payer, "out"].append(flow)
                if window.is_wallet(flow.payee):
                    near[flow.payee, "in"].append(flow)
        for (wallet, side), flows in near.items():
            for run in _runs(flows, self.window_us, lambda r: len(r) >= self.min_count):
                detail = f"{len(run)} {side} just below"
                score = len(run) / self.min_count
                yield _alert(self.rule_id, wallet, run, detail, score=score)


@final
@attrs.frozen
class DormancyRule:
    """A wallet idle for ``dormant_us`` that suddenly moves money within ``burst_us``.

    Idle is counted from the wallet's last flow, or its opening if it never
    had one.  ``min_amount_fen`` (default ``None``: any amount) sets a floor
    on what the burst moves.
    """

    rule_id: str = "dormant"
    dormant_us: int = attrs.field(default=180 * DAY_US, validator=at_least(1))
    burst_us: int = attrs.field(default=7 * DAY_US, validator=at_least(1))
    min_amount_fen: int | None = attrs.field(default=None, validator=at_least(1, optional=True))

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterator[Alert]:
        """One alert per wallet and awakening."""
        return self.evaluate_window(FlowWindow(view, start_us, end_us))

    def evaluate_window(self, window: FlowWindow) -> Iterator[Alert]:
        """As :meth:`evaluate`, over a window already read."""
        view = window.view
        for wallet, flows in window.by_wallet().items():
            previous: FundsFlow | None = None
            for flow in flows:
                # The flow before in the group is activity: most flows end here.
                if previous is not None and flow.time_us - previous.time_us < self.dormant_us:
                    previous = flow
                    continue
                previous = flow
                index = view._account(wallet)
                last = index.last_activity_before(flow.time_us, flow.entry_number)
                idle_since = view.wallet(wallet).opened_at_us if last is None else last
                if flow.time_us - idle_since < self.dormant_us:
                    continue
                burst = [
                    f
                    for f in (
                        *view.flows_in(wallet, flow.time_us, flow.time_us + self.burst_us),
                        *view.flows_out(wallet, flow.time_us, flow.time_us + self.burst_us),
                    )
                    if f.entry_number >= flow.entry_number
                ]
                if sum(f.amount_fen for f in burst) >= (self.min_amount_fen or 1):
                    burst.sort(key=lambda f: f.entry_number)
                    days = (flow.time_us - idle_since) // DAY_US
                    yield _alert(self.rule_id, wallet, burst, f"idle {days} days")


@final
@attrs.frozen
class MuleRule:
    """Category-4 wallets used as mules: ``min_mules`` of them forward money to one collector.

    A category-4 (phone-only) wallet acts as a mule when a payment it makes
    is between ``passed_percent`` and 100% of what it received in the
    ``forward_us`` before; the collector is alerted when ``min_mules``
    distinct mules pay it within ``window_us``.
    """

    rule_id: str = "category-4-mules"
    min_mules: int = attrs.field(default=3, validator=at_least(2))
    passed_percent: int = attrs.field(default=80, validator=percent())
    forward_us: int = attrs.field(default=DAY_US, validator=at_least(1))
    window_us: int = attrs.field(default=2 * DAY_US, validator=at_least(1))

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterator[Alert]:
        """One alert per collector and episode; the entries are the mules' payments to it."""
        return self.evaluate_window(FlowWindow(view, start_us, end_us))

    def evaluate_window(self, window: FlowWindow) -> Iterator[Alert]:
        """As :meth:`evaluate`, over a window already read."""
        view = window.view
        anonymous = WalletCategory.ANONYMOUS
        hops: dict[Address, list[FundsFlow]] = collections.defaultdict(list)
        for flow in window.transfers:
            if view.wallet(flow.payer).category is anonymous and self._forwards(view, flow):
                hops[flow.payee].append(flow)
        for collector, found in hops.items():
            for run in _runs(found, self.window_us, lambda r: self._mules(r) >= self.min_mules):
                mules = dict.fromkeys(f.payer for f in run)
                detail = f"{len(mules)} category-4 mules"
                breadth = min(2.0, len(mules) / self.min_mules)
                quiet = quiet_share(view, mules, run[0].time_us)
                score = breadth * (0.5 + quiet)
                yield _alert(self.rule_id, collector, run, detail, *mules, score=score)

    @staticmethod
    def _mules(run: Sequence[FundsFlow]) -> int:
        return len({f.payer for f in run})

    def _forwards(self, view: RegulatorView, payment: FundsFlow) -> bool:
        # The mule's inflows in the ``forward_us`` before the payment: their
        # running totals first (two bisections), the flows themselves only
        # when the total could cover the payment.
        rows = view._account(payment.payer).incoming
        low = rows.bisect_left((payment.time_us - self.forward_us, 0))
        high = rows.bisect_left((payment.time_us, payment.entry_number))
        paid = payment.amount_fen
        if high == low or rows[high - 1][2] - (rows[low - 1][2] if low else 0) < paid:
            return False
        received = 0  # what stayed in the mule, row by row (a waterfall sweeps the rest on)
        before = rows[low - 1][2] if low else 0
        for _, number, total in rows.islice(low, high):
            if view.flow(number).payer != payment.payee:
                received += total - before
            before = total
        return received * self.passed_percent <= paid * 100 <= received * 100


def default_rules() -> tuple[AmlRule, ...]:
    """One of each built-in rule with its defaults (fan-out: ``many=8, passed_percent=60``)."""
    return (
        LargeValueRule(),
        StructuringRule(),
        FanRule(),
        FanRule(rule_id="fan-out", fan_in=False, many=8, passed_percent=60),
        CycleRule(),
        ScatterGatherRule(),
        GatherScatterRule(),
        PassThroughRule(),
        BankRunRule(),
        DormancyRule(),
        MuleRule(),
    )
