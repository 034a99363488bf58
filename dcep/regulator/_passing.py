"""Money passing through a wallet: fan-in, fan-out and rapid pass-through.

The three rules AML typologies name for a wallet that money crosses rather
than stays in, each relative to the wallet's own balance and to the
population in the view, never to an amount of money.  Only wallet-to-wallet
transfers count; fundings, defunds and bank flows are not counterparties.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import final

import attrs

from dcep.regulator._alerts import Alert
from dcep.regulator._records import FundsFlow
from dcep.regulator._typologies import (
    DAY_US,
    HOUR_US,
    at_least,
    make_alert,
    percent,
    quiet_share,
)
from dcep.regulator._view import RegulatorView
from dcep.regulator._window import FlowWindow
from dcep.values._crypto import Address

__all__ = ["FanRule", "PassThroughRule"]


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
        return self.evaluate_window(FlowWindow(view, start_us, end_us))

    def evaluate_window(self, window: FlowWindow) -> Iterator[Alert]:
        """As :meth:`evaluate`, over a window already read."""
        view = window.view
        groups = window.transfers_by_wallet()
        hubs = window.hubs(self.hub_multiple)
        key = ("fan-threshold", self.fan_in, self.window_us, self.hub_multiple)
        median = window.shared(key, lambda: self._population_median(groups, hubs))
        many = max(self.many, math.ceil(self.population_multiple * median))
        for wallet, flows in groups.items():
            # Fewer flows on the wide side than ``many``: never that many counterparties.
            if sum(1 for f in flows if (f.payee == wallet) is self.fan_in) < many:
                continue
            if hubs:
                flows = [f for f in flows if f.payer not in hubs and f.payee not in hubs]
            if not flows:
                continue
            first = 0
            # Counterparties (with their flows) and fen, in then out, over flows[first:last+1].
            sources: dict[Address, int] = {}
            sinks: dict[Address, int] = {}
            totals = [0, 0]
            for last, flow in enumerate(flows):
                while flow.time_us - flows[first].time_us >= self.window_us:
                    _count(flows[first], wallet, (sources, sinks), totals, -1)
                    first += 1
                _count(flow, wallet, (sources, sinks), totals, 1)
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
                # How much of the money passed, weighed by how quiet the wide side
                # is: a payroll of a hundred staff is wider than a mule ring, not
                # more suspicious; staff have lives of their own, mules do not.
                quiet = quiet_share(view, wide, flows[first].time_us)
                score = min(1.0, passed / base) * (0.5 + quiet)
                yield make_alert(
                    self.rule_id, wallet, episode, detail, *sources, *sinks, score=score
                )
                sources.clear()
                sinks.clear()
                totals[:] = [0, 0]
                first = last + 1

    def _population_median(
        self, groups: dict[Address, list[FundsFlow]], hubs: frozenset[Address]
    ) -> float:
        # What the median active wallet reaches in one window (its distinct
        # counterparties on the wide side, spread evenly over the span).
        if not groups:
            return 0
        times = [flows[0].time_us for flows in groups.values()]
        times += [flows[-1].time_us for flows in groups.values()]
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
        return per_window[len(per_window) // 2]


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
    sides: tuple[dict[Address, int], dict[Address, int]],
    totals: list[int],
    step: int,
) -> None:
    side = 0 if flow.payee == wallet else 1
    counts = sides[side]
    other = flow.payer if side == 0 else flow.payee
    left = counts.get(other, 0) + step
    if left:
        counts[other] = left
    else:
        del counts[other]
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
        return self.evaluate_window(FlowWindow(view, start_us, end_us))

    def evaluate_window(self, window: FlowWindow) -> Iterator[Alert]:
        """As :meth:`evaluate`, over a window already read."""
        view = window.view
        for wallet, flows in window.transfers_by_wallet().items():
            episodes: list[list[FundsFlow]] = []
            used_until = -1
            for inflow in flows:
                amount = inflow.amount_fen
                if inflow.payee != wallet or inflow.entry_number <= used_until:
                    continue
                # What left soon after first (two bisections of a plain list),
                # the balance before only then (two of the view's sorted index).
                sent, taken = 0, []
                for flow in window.transfers_out(
                    wallet, inflow.time_us, inflow.time_us + self.window_us
                ):
                    if flow.entry_number <= inflow.entry_number:
                        continue
                    sent += flow.amount_fen
                    taken.append(flow)
                    if sent * 100 >= amount * self.passed_percent:
                        break
                else:
                    continue
                prior = view.balance_fen(wallet, before_entry=inflow.entry_number)
                if prior * 100 > amount * self.prior_percent:
                    continue
                used_until = taken[-1].entry_number
                episodes.append([inflow, *taken])
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
                yield make_alert(self.rule_id, wallet, flows, detail, *others, score=score)
                first = last + 1
