"""Laundering typologies over time windows: cycles, scatter-gather, gather-scatter, bank runs.

The detectors here, like the ones in :mod:`dcep.regulator._aml`, read only
public data: a :class:`~dcep.regulator.FlowWindow` (the window's flows,
read once and grouped per wallet for every rule of a screen) and the
:class:`~dcep.regulator.RegulatorView` behind it (flows, roles, and
:meth:`~dcep.regulator.RegulatorView.balance_fen` with ``before_entry``), so
a supervisor's own rule can be written the same way.  Counterparties are
wallets paying wallets (``TRANSFER``, a posted ``POST_PENDING``, a settled
``SETTLE_OFFLINE``) outside their own family: fundings,
defunds, bank flows and moves between a wallet and its sub-wallets never
count as one.

No default is an amount: each is a count, a share of the case's own money, a
share of the wallet's own balance, or a multiple of the bank's own history,
so the same defaults hold for ¥10 payments and for ¥10,000 ones.  Fields
are validated when a rule is made: a window that is not a positive whole
number of microseconds, a percentage outside its range or an ``Amount``
where fen are expected raise :class:`~dcep.InvalidFieldError`.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final, final

import attrs

from dcep.errors import InvalidFieldError, Reason
from dcep.instructions._kinds import InstructionKind
from dcep.regulator._alerts import Alert
from dcep.regulator._records import FundsFlow
from dcep.regulator._view import RegulatorView
from dcep.regulator._window import FlowWindow
from dcep.values._crypto import Address

__all__ = [
    "BankRunRule",
    "CycleRule",
    "GatherScatterRule",
    "ScatterGatherRule",
    "at_least",
    "make_alert",
    "percent",
    "quiet_share",
]

HOUR_US: Final = 3_600_000_000
DAY_US: Final = 24 * HOUR_US


#: An attrs validator.
Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def at_least(least: int, *, optional: bool = False) -> Validator:
    """An attrs validator: a whole number (not a bool, not an ``Amount``) of at least ``least``."""

    def check(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if optional and value is None:
            return
        if type(value) is not int or value < least:
            hint = " (an Amount's .fen)" if attribute.name.endswith("_fen") else ""
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"{attribute.name} must be a whole number{hint} of at least {least}, "
                f"not {value!r}",
                field=attribute.name,
            )

    return check


def percent(most: int = 100) -> Validator:
    """An attrs validator: a whole percentage from 1 to ``most``."""

    def check(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is not int or not 1 <= value <= most:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"{attribute.name} must be a whole percentage from 1 to {most}, not {value!r}",
                field=attribute.name,
            )

    return check


#: How far back a counterparty's history is read, and how few flows make it quiet.
QUIET_HISTORY_US: Final = 30 * DAY_US
QUIET_FLOWS: Final = 2


def quiet_share(view: RegulatorView, counterparties: Iterable[Address], before_us: int) -> float:
    """The share of ``counterparties`` with at most two flows in the 30 days before ``before_us``.

    Mules are fresh or dormant wallets (FATF's red flags: new accounts that
    receive, or send, many payments at once); a payroll's or a shop's
    counterparties are wallets with a life of their own.  Fan rules weigh
    their score by it: ``0.5 + share``, so a case at its thresholds whose
    counterparties are all quiet scores 1.5, and one whose counterparties
    are all busy 0.5.
    """
    found = list(dict.fromkeys(counterparties))
    if not found:
        return 0.0
    start = before_us - QUIET_HISTORY_US
    quiet = sum(1 for c in found if view.count_flows(c, start, before_us) <= QUIET_FLOWS)
    return quiet / len(found)


def make_alert(
    rule: str,
    subject: Address,
    flows: Sequence[FundsFlow],
    detail: str,
    *others: Address,
    score: float = 1.0,
    typology: str | None = None,
) -> Alert:
    """An alert on ``flows`` (any order): members ``subject`` then ``others``, the window."""
    ordered = sorted(flows, key=lambda f: (f.time_us, f.entry_number))
    wallets = dict.fromkeys((subject, *others))  # ordered and without repeats
    return Alert(
        rule,
        subject,
        tuple(wallets),
        tuple(f.entry_number for f in ordered),
        tuple(f.amount_fen for f in ordered),
        ordered[-1].time_us,
        detail,
        round(score, 4),
        rule if typology is None else typology,
        ordered[0].time_us,
    )


@final
@attrs.frozen
class CycleRule:
    """Temporal cycles: money leaves a wallet and comes back through ``min_length - 1`` or more.

    A cycle is ``min_length`` to ``max_length`` transfers ``w0 → w1 → … →
    w0``, each later than the one before, all within ``window_us``, each
    carrying between ``kept_percent`` and ``100 / kept_percent`` of the
    hop before (the same money, less fees).  One alert per cycle, on its
    origin; a transfer is in one cycle at most.
    """

    rule_id: str = "cycle"
    min_length: int = attrs.field(default=3, validator=at_least(2))
    max_length: int = attrs.field(default=6, validator=at_least(2))
    kept_percent: int = attrs.field(default=90, validator=percent())
    window_us: int = attrs.field(default=DAY_US, validator=at_least(1))

    def __attrs_post_init__(self) -> None:
        if self.max_length < self.min_length:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, "max_length is below min_length", field="max_length"
            )

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterator[Alert]:
        """Depth-first from each transfer in the window, forward in time."""
        return self.evaluate_window(FlowWindow(view, start_us, end_us))

    def evaluate_window(self, window: FlowWindow) -> Iterator[Alert]:
        """As :meth:`evaluate`, over a window already read."""
        used: set[int] = set()
        for first in window.transfers:
            if first.entry_number in used:
                continue
            path = self._close(window, first, [first], first.time_us + self.window_us)
            if path is not None:
                used.update(f.entry_number for f in path)
                members = [f.payer for f in path]
                kept = path[-1].amount_fen / first.amount_fen
                score = kept * len(path) / self.min_length
                yield make_alert(
                    self.rule_id, first.payer, path, f"{len(path)} hops", *members, score=score
                )

    def _close(
        self, window: FlowWindow, first: FundsFlow, path: list[FundsFlow], deadline: int
    ) -> list[FundsFlow] | None:
        last = path[-1]
        if len(path) >= self.max_length:
            return None
        seen = {f.payer for f in path}
        low = last.amount_fen * self.kept_percent // 100
        high = last.amount_fen * 100 // self.kept_percent
        for hop in window.transfers_out(last.payee, last.time_us, deadline):
            if hop.entry_number <= last.entry_number and hop.time_us == last.time_us:
                continue
            if not low <= hop.amount_fen <= high:
                continue
            if hop.payee == first.payer:
                if len(path) + 1 >= self.min_length:
                    return [*path, hop]
                continue
            if hop.payee in seen:
                continue
            found = self._close(window, first, [*path, hop], deadline)
            if found is not None:
                return found
        return None


@final
@attrs.frozen
class ScatterGatherRule:
    """Scatter-gather: one source pays several intermediates, which each pay one sink after.

    At least ``min_paths`` distinct intermediates each received a transfer
    from the source and, later and within ``window_us`` of it, paid the
    same sink (not the source) between ``kept_percent`` and 100% of it; the
    scatter legs fall within ``window_us`` of each other.
    """

    rule_id: str = "scatter-gather"
    min_paths: int = attrs.field(default=3, validator=at_least(2))
    kept_percent: int = attrs.field(default=90, validator=percent())
    window_us: int = attrs.field(default=DAY_US, validator=at_least(1))

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterator[Alert]:
        """One alert per source, sink and episode."""
        return self.evaluate_window(FlowWindow(view, start_us, end_us))

    def evaluate_window(self, window: FlowWindow) -> Iterator[Alert]:
        """As :meth:`evaluate`, over a window already read."""
        paths: dict[tuple[Address, Address], list[tuple[FundsFlow, FundsFlow]]]
        paths = collections.defaultdict(list)
        for leg in window.transfers:
            low = leg.amount_fen * self.kept_percent // 100
            for onward in window.transfers_out(
                leg.payee, leg.time_us, leg.time_us + self.window_us
            ):
                if (
                    onward.entry_number > leg.entry_number
                    and onward.payee != leg.payer
                    and low <= onward.amount_fen <= leg.amount_fen
                ):
                    paths[leg.payer, onward.payee].append((leg, onward))
                    break
        for (source, sink), found in paths.items():
            first = 0
            for last in range(len(found)):
                while found[last][0].time_us - found[first][0].time_us >= self.window_us:
                    first += 1
                run = found[first : last + 1]
                middle = dict.fromkeys(leg.payee for leg, _ in run)
                if len(middle) >= self.min_paths:
                    flows = [f for pair in run for f in pair]
                    yield make_alert(
                        self.rule_id,
                        source,
                        flows,
                        f"{len(middle)} intermediates",
                        *middle,
                        sink,
                        score=len(middle) / self.min_paths,
                    )
                    first = last + 1


@final
@attrs.frozen
class GatherScatterRule:
    """Gather-scatter: many payers pay a hub, which then pays many payees, within a window.

    Within ``window_us`` a wallet receives from at least ``many`` distinct
    payers and then pays at least ``many`` distinct payees, the scatter
    beginning after the gather did, passing on at least ``passed_percent``
    of what it gathered, having held at most ``prior_percent`` of it before.
    """

    rule_id: str = "gather-scatter"
    many: int = attrs.field(default=5, validator=at_least(2))
    passed_percent: int = attrs.field(default=50, validator=percent())
    prior_percent: int = attrs.field(default=100, validator=percent(10_000))
    window_us: int = attrs.field(default=DAY_US, validator=at_least(1))

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterator[Alert]:
        """One alert per hub and episode."""
        return self.evaluate_window(FlowWindow(view, start_us, end_us))

    def evaluate_window(self, window: FlowWindow) -> Iterator[Alert]:
        """As :meth:`evaluate`, over a window already read.

        Each inflow starts a candidate episode: the hub's transfers from it
        to ``window_us`` later.  The episodes slide, so counts are kept as
        the window moves (each transfer enters and leaves once): linear in
        a hub's transfers, even for a shop with thousands a day.
        """
        many = self.many
        for hub, flows in window.transfers_by_wallet().items():
            # Fewer than ``many`` flows in, or out: never that many payers, or payees.
            inflows = sum(1 for f in flows if f.payee == hub)
            if inflows >= many and len(flows) - inflows >= many:
                yield from self._episodes(window.view, hub, flows)

    def _episodes(
        self, view: RegulatorView, hub: Address, flows: list[FundsFlow]
    ) -> Iterator[Alert]:
        payers = collections.Counter[Address]()
        payees = collections.Counter[Address]()
        totals = [0, 0]  # fen in, fen out, over flows[first:end]

        def move(flow: FundsFlow, step: int) -> None:
            side, other = (payers, flow.payer) if flow.payee == hub else (payees, flow.payee)
            side[other] += step
            if not side[other]:
                del side[other]
            totals[side is payees] += step * flow.amount_fen

        first = end = 0
        while first < len(flows):
            if flows[first].payee != hub:  # an episode begins with an inflow
                if first < end:
                    move(flows[first], -1)
                first += 1
                continue
            began = flows[first].time_us
            end = max(end, first)
            while end < len(flows) and flows[end].time_us - began < self.window_us:
                move(flows[end], 1)
                end += 1
            total_in, total_out = totals
            if (
                len(payers) >= self.many
                and len(payees) >= self.many
                and total_out * 100 >= total_in * self.passed_percent
                and view.balance_fen(hub, before_entry=flows[first].entry_number) * 100
                <= total_in * self.prior_percent
            ):
                episode = flows[first:end]
                gathered = dict.fromkeys(f.payer for f in episode if f.payee == hub)
                scattered = dict.fromkeys(f.payee for f in episode if f.payee != hub)
                yield make_alert(
                    self.rule_id,
                    hub,
                    episode,
                    f"{len(payers)} payers, then {len(payees)} payees",
                    *gathered,
                    *scattered,
                    score=min(len(payers), len(payees)) / self.many,
                )
                payers.clear()
                payees.clear()
                totals[:] = [0, 0]
                first = end  # a transfer is in one episode at most
            else:
                move(flows[first], -1)
                first += 1


@final
@attrs.frozen
class BankRunRule:
    """A run on a bank: many of its wallets empty themselves into deposits within a window.

    A defund drains a wallet when it takes at least ``drained_percent`` of
    what the wallet held just before, and the wallet never drained itself
    before in the view (a merchant sweeping its takings daily is not a run).
    A bank is alerted when at least ``min_wallets`` of its wallets, and
    ``surge`` times its own average per window over the view, drain within
    ``window_us``.  The alert's subject is the bank; its members, the wallets.
    """

    rule_id: str = "bank-run"
    drained_percent: int = attrs.field(default=80, validator=percent())
    min_wallets: int = attrs.field(default=10, validator=at_least(2))
    surge: int = attrs.field(default=5, validator=at_least(1))
    window_us: int = attrs.field(default=2 * HOUR_US, validator=at_least(1))

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterator[Alert]:
        """One alert per bank and run."""
        return self.evaluate_window(FlowWindow(view, start_us, end_us))

    def evaluate_window(self, window: FlowWindow) -> Iterator[Alert]:
        """As :meth:`evaluate`, over a window already read."""
        view = window.view
        drains: dict[Address, list[FundsFlow]] = collections.defaultdict(list)
        drained: set[Address] = set()
        for flow in window.flows:
            if flow.kind is not InstructionKind.DEFUND or flow.bank is None:
                continue
            if flow.payer in drained or not self._drains(view, flow):
                continue
            drained.add(flow.payer)
            if not self._drained_before(view, flow.payer, window.start_us):
                drains[flow.bank].append(flow)
        flows = window.flows
        times = [flows[0].time_us, flows[-1].time_us] if flows else [0, 0]
        windows = max(1, (times[1] - times[0]) // self.window_us + 1)
        for bank, found in drains.items():
            need = max(self.min_wallets, self.surge * len(found) / windows)
            first = last = 0
            while last < len(found):
                while found[last].time_us - found[first].time_us >= self.window_us:
                    first += 1
                if last + 1 - first < need:
                    last += 1
                    continue
                # Extend the run to every drain within the window of its start.
                end = last + 1
                while (
                    end < len(found) and found[end].time_us - found[first].time_us < self.window_us
                ):
                    end += 1
                run = found[first:end]
                yield make_alert(
                    self.rule_id,
                    bank,
                    run,
                    f"{len(run)} wallets drained",
                    *(f.payer for f in run),
                    score=len(run) / need,
                )
                first = last = end

    def _drains(self, view: RegulatorView, flow: FundsFlow) -> bool:
        held = view.balance_fen(flow.payer, before_entry=flow.entry_number)
        return flow.amount_fen * 100 >= held * self.drained_percent

    def _drained_before(self, view: RegulatorView, wallet: Address, start_us: int) -> bool:
        """Whether ``wallet`` drained itself into a deposit before the window began."""
        return start_us > 0 and any(
            flow.kind is InstructionKind.DEFUND and self._drains(view, flow)
            for flow in view.flows_out(wallet, None, start_us)
        )
