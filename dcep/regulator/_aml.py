"""Anti-money-laundering rules over the regulator's view, and screening a window with them.

A rule is any object with a ``rule_id`` and ``evaluate(view, start_us,
end_us)`` that yields :class:`~dcep.regulator.Alert` records (the :class:`~dcep.regulator.AmlRule`
protocol, in :mod:`dcep.regulator._alerts`); the built-in ones are frozen records
whose defaults follow PBOC Order [2016] No. 3 and the PBOC's lists of
suspicious patterns (FACTS.md).  Every threshold is a field, so a
supervisor can tune one with ``attrs.evolve`` or add a rule of their own to
the tuple passed to :func:`screen`.  Daily reports are in
:mod:`dcep.regulator._reports`.

Rules see wallets only by address and category.  "Per customer" totals are
therefore per wallet: joining a customer's wallets needs the operator's
identity records, which the view does not hold.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final, final

import attrs

from dcep.errors import InvalidFieldError, Reason
from dcep.instructions._kinds import InstructionKind
from dcep.regulator._alerts import Alert, AmlRule
from dcep.regulator._records import FundsFlow, PartyRole
from dcep.regulator._typologies import (
    BankRunRule,
    CycleRule,
    GatherScatterRule,
    ScatterGatherRule,
    at_least,
    make_alert,
    percent,
    transfers_by_wallet,
)
from dcep.regulator._view import RegulatorView
from dcep.values._crypto import Address
from dcep.values._policy import WalletCategory

__all__ = [
    "DormancyRule",
    "FanRule",
    "LargeValueRule",
    "MuleRule",
    "PassThroughRule",
    "StructuringRule",
    "default_rules",
    "screen",
]

HOUR_US: Final = 3_600_000_000
DAY_US: Final = 24 * HOUR_US
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


def _by_wallet(view: RegulatorView, start_us: int, end_us: int) -> dict[Address, list[FundsFlow]]:
    """The window's flows per wallet on either side, oldest first: one scan of the window."""
    groups: dict[Address, list[FundsFlow]] = collections.defaultdict(list)
    for flow in view.flows(start_us, end_us):
        for address in (flow.payer, flow.payee):
            if view.role(address) is PartyRole.WALLET:
                groups[address].append(flow)
    return groups


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

    Defaults: 500,000 CNY (domestic transfers by natural persons; use
    2,000,000 for corporate wallets), and 50,000 CNY of cash fundings a day.
    """

    rule_id: str = "large-value"
    threshold_fen: int = attrs.field(default=_cny(500_000), validator=at_least(1))
    cash_threshold_fen: int | None = attrs.field(
        default=_cny(50_000), validator=at_least(1, optional=True)
    )
    utc_offset_minutes: int = attrs.field(
        default=BEIJING_UTC_OFFSET_MINUTES, validator=at_least(-14 * 60)
    )

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterator[Alert]:
        """Per wallet, day and direction (``in``, ``out``, ``cash``) over the threshold."""
        for wallet, flows in _by_wallet(view, start_us, end_us).items():
            groups: dict[tuple[dt.date, str], list[FundsFlow]] = collections.defaultdict(list)
            for flow in flows:
                day = day_of(flow.time_us, self.utc_offset_minutes)
                groups[day, "in" if flow.payee == wallet else "out"].append(flow)
                if flow.cash and flow.payee == wallet:
                    groups[day, "cash"].append(flow)
            for (day, side), group in groups.items():
                limit = self.cash_threshold_fen if side == "cash" else self.threshold_fen
                total = sum(f.amount_fen for f in group)
                if limit is not None and total >= limit:
                    detail = f"{side} on {day.isoformat()}"
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
        low = self.threshold_fen * (100 - self.band_percent) // 100
        for wallet, flows in _by_wallet(view, start_us, end_us).items():
            for side in ("in", "out"):
                near = [
                    f
                    for f in flows
                    if low <= f.amount_fen < self.threshold_fen
                    and (f.payee == wallet) == (side == "in")
                ]
                for run in _runs(near, self.window_us, lambda r: len(r) >= self.min_count):
                    detail = f"{len(run)} {side} just below"
                    score = len(run) / self.min_count
                    yield _alert(self.rule_id, wallet, run, detail, score=score)


@final
@attrs.frozen
class FanRule:
    """Fan-in (many payers) or fan-out (many payees) within a window, as money passing through.

    A wallet fans in when, within ``window_us``, at least ``many`` distinct
    wallets paid it and it paid on, to wallets, at least ``passed_percent``
    of what they paid; it fans out when it paid at least ``many`` distinct
    wallets at least ``passed_percent`` of what it held at the start of
    the window and received during it.  Flows with busy hubs (wallets paid by
    more than ``hub_multiple`` times as many distinct payers as the median
    wallet in the window: shops) are left out.  A fan-in wallet held at most
    ``prior_percent`` of what came in before the window (a float is not a
    pass-through).  Fundings and defunds are not
    counterparties.  Nothing is required of the narrow side.

    ``many`` is a floor, not the threshold: the threshold is also at least
    ``population_multiple`` times what the median active wallet of the view
    reaches in a window (its distinct counterparties on that side, spread
    evenly over the screened span), so that a population where everyone
    pays many people, at any scale, does not make everyone a fan.
    """

    rule_id: str = "fan-in"
    fan_in: bool = True
    many: int = attrs.field(default=5, validator=at_least(2))
    passed_percent: int = attrs.field(default=50, validator=percent())
    prior_percent: int = attrs.field(default=25, validator=percent(10_000))
    window_us: int = attrs.field(default=DAY_US, validator=at_least(1))
    hub_multiple: int = attrs.field(default=10, validator=at_least(1))
    population_multiple: int = attrs.field(default=3, validator=at_least(1))

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterator[Alert]:
        """One alert per wallet and episode."""
        groups = transfers_by_wallet(view, start_us, end_us)
        hubs = _hubs(groups, self.hub_multiple)
        many = max(self.many, self._population_threshold(groups, hubs))
        for wallet, flows in groups.items():
            if hubs:
                flows = [f for f in flows if f.payer not in hubs and f.payee not in hubs]
            if not flows:
                continue
            first = 0
            # Counterparties and fen, in then out, over flows[first : last + 1].
            sides = (collections.Counter[Address](), collections.Counter[Address]())
            totals = [0, 0]
            for last, flow in enumerate(flows):
                while flow.time_us - flows[first].time_us >= self.window_us:
                    _count(flows[first], wallet, sides, totals, -1)
                    first += 1
                _count(flow, wallet, sides, totals, 1)
                sources, sinks = +sides[0], +sides[1]
                wide = sources if self.fan_in else sinks
                if len(wide) < many:
                    continue
                held = view.balance_fen(wallet, before_entry=flows[first].entry_number)
                if self.fan_in:
                    base, passed = totals[0], totals[1]
                else:
                    base, passed = held + _received(view, wallet, flows[first], flow), totals[1]
                if passed * 100 < base * self.passed_percent or base <= 0:
                    continue
                if self.fan_in and held * 100 > totals[0] * self.prior_percent:
                    continue
                detail = f"{len(sources)} payers, {len(sinks)} payees"
                episode = flows[first : last + 1]
                score = len(wide) / many * min(1.0, passed / base)
                yield _alert(self.rule_id, wallet, episode, detail, *sources, *sinks, score=score)
                sides[0].clear()
                sides[1].clear()
                totals[:] = [0, 0]
                first = last + 1

    def _population_threshold(
        self, groups: dict[Address, list[FundsFlow]], hubs: set[Address]
    ) -> int:
        # What the median active wallet reaches in one window, times the multiple.
        times = [flow.time_us for flows in groups.values() for flow in flows]
        if not times:
            return 0
        span_us = max(self.window_us, max(times) - min(times))
        per_window: list[float] = []
        for wallet, flows in groups.items():
            if wallet in hubs:
                continue
            if self.fan_in:
                wide = {f.payer for f in flows if f.payee == wallet and f.payer not in hubs}
            else:
                wide = {f.payee for f in flows if f.payer == wallet and f.payee not in hubs}
            if wide:
                per_window.append(len(wide) * self.window_us / span_us)
        if not per_window:
            return 0
        per_window.sort()
        return math.ceil(self.population_multiple * per_window[len(per_window) // 2])


def _hubs(groups: dict[Address, list[FundsFlow]], multiple: int) -> set[Address]:
    """Busy hubs: wallets paid by ``multiple`` times the median wallet's distinct payers."""
    degrees = {
        wallet: len({f.payer for f in flows if f.payee == wallet})
        for wallet, flows in groups.items()
    }
    paid = sorted(d for d in degrees.values() if d)
    if not paid:
        return set()
    limit = multiple * paid[len(paid) // 2]
    return {wallet for wallet, degree in degrees.items() if degree > limit}


def _received(view: RegulatorView, wallet: Address, first: FundsFlow, last: FundsFlow) -> int:
    """What ``wallet`` received (of every kind) from ``first`` to ``last``, both included."""
    return sum(
        f.amount_fen
        for f in view.flows_in(wallet, first.time_us, last.time_us + 1)
        if f.entry_number <= last.entry_number
    )


def _count(
    flow: FundsFlow,
    wallet: Address,
    sides: tuple[collections.Counter[Address], collections.Counter[Address]],
    totals: list[int],
    step: int,
) -> None:
    side = 0 if flow.payee == wallet else 1
    sides[side][flow.payer if side == 0 else flow.payee] += step
    totals[side] += step * flow.amount_fen


@final
@attrs.frozen
class PassThroughRule:
    """Rapid pass-through (layering): an inflow large for the wallet leaves almost at once.

    A transfer into a wallet that held at most ``prior_percent`` of it just
    before, followed within ``window_us`` by transfers out of at least
    ``passed_percent`` of it, in at least ``min_episodes`` separate
    episodes within ``episodes_us``.  Relative to the wallet's own balance:
    no amount at all.
    """

    rule_id: str = "pass-through"
    passed_percent: int = attrs.field(default=90, validator=percent())
    prior_percent: int = attrs.field(default=10, validator=percent(10_000))
    window_us: int = attrs.field(default=6 * HOUR_US, validator=at_least(1))
    min_episodes: int = attrs.field(default=2, validator=at_least(1))
    episodes_us: int = attrs.field(default=DAY_US, validator=at_least(1))

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterator[Alert]:
        """One alert per wallet and run of episodes; outflows are not reused."""
        for wallet, flows in transfers_by_wallet(view, start_us, end_us).items():
            episodes: list[list[FundsFlow]] = []
            used_until = -1
            for inflow in flows:
                amount = inflow.amount_fen
                if inflow.payee != wallet or inflow.entry_number <= used_until:
                    continue
                prior = view.balance_fen(wallet, before_entry=inflow.entry_number)
                if prior * 100 > amount * self.prior_percent:
                    continue
                sent, taken = 0, []
                for flow in view.flows_out(
                    wallet, inflow.time_us, inflow.time_us + self.window_us
                ):
                    if flow.entry_number <= inflow.entry_number or flow.kind is not (
                        InstructionKind.TRANSFER
                    ):
                        continue
                    sent += flow.amount_fen
                    taken.append(flow)
                    if sent * 100 >= amount * self.passed_percent:
                        used_until = flow.entry_number
                        episodes.append([inflow, *taken])
                        break
            yield from self._runs(wallet, episodes)

    def _runs(self, wallet: Address, episodes: list[list[FundsFlow]]) -> Iterator[Alert]:
        first = 0
        for last in range(len(episodes)):
            while episodes[last][0].time_us - episodes[first][0].time_us >= self.episodes_us:
                first += 1
            if last + 1 - first >= self.min_episodes:
                run = episodes[first : last + 1]
                flows = [f for episode in run for f in episode]
                others = [f.payer if f.payee == wallet else f.payee for f in flows]
                score = len(run) / self.min_episodes
                detail = f"{len(run)} inflows passed on"
                yield _alert(self.rule_id, wallet, flows, detail, *others, score=score)
                first = last + 1


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
        for wallet, flows in _by_wallet(view, start_us, end_us).items():
            for flow in flows:
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
        for collector, flows in _by_wallet(view, start_us, end_us).items():
            hops = [f for f in flows if f.payee == collector and self._forwards(view, f)]
            for run in _runs(hops, self.window_us, lambda r: self._mules(r) >= self.min_mules):
                mules = dict.fromkeys(f.payer for f in run)
                detail = f"{len(mules)} category-4 mules"
                yield _alert(self.rule_id, collector, run, detail, *mules)

    @staticmethod
    def _mules(run: Sequence[FundsFlow]) -> int:
        return len({f.payer for f in run})

    def _forwards(self, view: RegulatorView, payment: FundsFlow) -> bool:
        mule = payment.payer
        if view.role(mule) is not PartyRole.WALLET:
            return False
        if view.wallet(mule).category is not WalletCategory.ANONYMOUS:
            return False
        received = sum(
            f.amount_fen
            for f in view.flows_in(mule, payment.time_us - self.forward_us, payment.time_us + 1)
            if f.entry_number < payment.entry_number and f.payer != payment.payee
        )
        paid = payment.amount_fen
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


def screen(
    view: RegulatorView,
    rules: Iterable[AmlRule] | None = None,
    *,
    start_us: int | None = None,
    end_us: int | None = None,
    budget: float | None = None,
) -> tuple[Alert, ...]:
    """Run ``rules`` (default: :func:`default_rules`) over a window.

    Without a ``budget``, every alert, in time order.  With one (a share of
    the wallets active in the window, from 0 to 1: ``0.02`` for "at most 2%"),
    the top of the ranking: alerts by score, highest first, as long as the
    distinct subjects they name stay within ``budget`` times the active
    wallets.  ``FIELD_INVALID`` for a window that ends before it starts or a
    budget outside ``(0, 1]``.
    """
    start = 0 if start_us is None else start_us
    end = 2**63 if end_us is None else end_us
    if type(start) is not int or type(end) is not int or start > end:
        raise InvalidFieldError(
            Reason.FIELD_INVALID, "the window is whole microseconds, start <= end", field="window"
        )
    alerts = [
        alert
        for rule in (default_rules() if rules is None else rules)
        for alert in rule.evaluate(view, start, end)
    ]
    if budget is None:
        return tuple(sorted(alerts, key=lambda a: (a.time_us, a.rule, a.entries)))
    given: object = budget
    if type(given) not in (int, float) or not 0 < budget <= 1:
        raise InvalidFieldError(
            Reason.FIELD_INVALID, "budget is a share of active wallets in (0, 1]", field="budget"
        )
    active = {
        address
        for flow in view.flows(start, end)
        for address in (flow.payer, flow.payee)
        if view.role(address) is PartyRole.WALLET
    }
    allowed = int(budget * len(active))
    chosen: list[Alert] = []
    subjects: set[Address] = set()
    for alert in sorted(alerts, key=lambda a: (-a.score, a.time_us, a.rule, a.entries)):
        if alert.subject not in subjects and len(subjects) >= allowed:
            continue
        subjects.add(alert.subject)
        chosen.append(alert)
    return tuple(chosen)
