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
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final, final

import attrs

from dcep.regulator._alerts import Alert, AmlRule
from dcep.regulator._records import FundsFlow, PartyRole
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
    rule: str, subject: Address, flows: Sequence[FundsFlow], detail: str, *others: Address
) -> Alert:
    wallets = dict.fromkeys((subject, *others))  # ordered and without repeats
    return Alert(
        rule,
        subject,
        tuple(wallets),
        tuple(f.entry_number for f in flows),
        tuple(f.amount_fen for f in flows),
        max(f.time_us for f in flows),
        detail,
    )


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
    threshold_fen: int = _cny(500_000)
    cash_threshold_fen: int | None = _cny(50_000)
    utc_offset_minutes: int = BEIJING_UTC_OFFSET_MINUTES

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
                if limit is not None and sum(f.amount_fen for f in group) >= limit:
                    yield _alert(self.rule_id, wallet, group, f"{side} on {day.isoformat()}")


@final
@attrs.frozen
class StructuringRule:
    """Structuring: ``min_count`` flows just below ``threshold`` within ``window_us``.

    "Just below" is within ``band_percent`` of the threshold (default 10%
    of 50,000 CNY, the cash report threshold).  Inflows and outflows of a
    wallet are counted separately, so many payers smurfing into one wallet
    are caught as well as one wallet splitting its payments.
    """

    rule_id: str = "structuring"
    threshold_fen: int = _cny(50_000)
    band_percent: int = 10
    min_count: int = 3
    window_us: int = 7 * DAY_US

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
                    yield _alert(self.rule_id, wallet, run, f"{len(run)} {side} just below")


@final
@attrs.frozen
class FanRule:
    """Fan-in (many payers, few payees) or fan-out (few payers, many payees) in a window.

    A wallet fans in when, within ``window_us``, at least ``many``
    distinct counterparties paid it, it paid between 1 and ``few``, and it
    passed on at least ``passed_percent`` of what came in, and at least
    ``min_passed_fen``; fan-out is the mirror image.  Bank counterparties
    (funding, defunding) count.
    """

    rule_id: str = "fan-in"
    fan_in: bool = True
    many: int = 8
    few: int = 2
    passed_percent: int = 50
    min_passed_fen: int = _cny(5_000)
    window_us: int = DAY_US

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterator[Alert]:
        """One alert per wallet and episode."""
        for wallet, flows in _by_wallet(view, start_us, end_us).items():
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
                wide, narrow = (sources, sinks) if self.fan_in else (sinks, sources)
                if (
                    len(wide) >= self.many
                    and 1 <= len(narrow) <= self.few
                    and totals[1] * 100 >= totals[0] * self.passed_percent
                    and totals[1] >= self.min_passed_fen
                ):
                    detail = f"{len(sources)} payers, {len(sinks)} payees"
                    episode = flows[first : last + 1]
                    yield _alert(self.rule_id, wallet, episode, detail, *sources, *sinks)
                    sides[0].clear()
                    sides[1].clear()
                    totals[:] = [0, 0]
                    first = last + 1


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
    """Pass-through (layering): most of an inflow leaves within ``window_us`` of arriving.

    An inflow of at least ``min_amount_fen`` into a wallet that held at most
    ``prior_percent`` of it before, followed by outflows of at least
    ``passed_percent`` of it within ``window_us``.
    """

    rule_id: str = "pass-through"
    min_amount_fen: int = _cny(10_000)
    passed_percent: int = 90
    prior_percent: int = 10
    window_us: int = DAY_US

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterator[Alert]:
        """One alert per qualifying inflow; outflows are not reused by a later alert."""
        for wallet, flows in _by_wallet(view, start_us, end_us).items():
            used_until = -1
            for inflow in flows:
                amount = inflow.amount_fen
                if inflow.payee != wallet or amount < self.min_amount_fen:
                    continue
                if inflow.entry_number <= used_until:
                    continue
                prior = view._account(wallet).balance_before(inflow.time_us, inflow.entry_number)
                if prior * 100 > amount * self.prior_percent:
                    continue
                later = [
                    f
                    for f in view.flows_out(
                        wallet, inflow.time_us, inflow.time_us + self.window_us
                    )
                    if f.entry_number > inflow.entry_number
                ]
                sent, taken = 0, []
                for flow in later:
                    sent += flow.amount_fen
                    taken.append(flow)
                    if sent * 100 >= amount * self.passed_percent:
                        used_until = flow.entry_number
                        payees = (f.payee for f in taken)
                        yield _alert(
                            self.rule_id,
                            wallet,
                            [inflow, *taken],
                            "passed on",
                            inflow.payer,
                            *payees,
                        )
                        break


@final
@attrs.frozen
class DormancyRule:
    """A wallet idle for ``dormant_us`` that suddenly moves ``min_amount_fen`` within ``burst_us``.

    Idle is counted from the wallet's last flow, or its opening if it never had one.
    """

    rule_id: str = "dormant"
    dormant_us: int = 180 * DAY_US
    burst_us: int = 7 * DAY_US
    min_amount_fen: int = _cny(10_000)

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
                if sum(f.amount_fen for f in burst) >= self.min_amount_fen:
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
    min_mules: int = 3
    passed_percent: int = 80
    forward_us: int = DAY_US
    window_us: int = 2 * DAY_US

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
    """One of each built-in rule with its defaults (fan-in and fan-out both)."""
    return (
        LargeValueRule(),
        StructuringRule(),
        FanRule(),
        FanRule(rule_id="fan-out", fan_in=False),
        PassThroughRule(),
        DormancyRule(),
        MuleRule(),
    )


def screen(
    view: RegulatorView,
    rules: Iterable[AmlRule] | None = None,
    *,
    start_us: int | None = None,
    end_us: int | None = None,
) -> tuple[Alert, ...]:
    """Run ``rules`` (default: :func:`default_rules`) over a window; alerts in time order."""
    start = 0 if start_us is None else start_us
    end = 2**63 if end_us is None else end_us
    alerts = [
        alert
        for rule in (default_rules() if rules is None else rules)
        for alert in rule.evaluate(view, start, end)
    ]
    return tuple(sorted(alerts, key=lambda a: (a.time_us, a.rule, a.entries)))
