"""Laundering typologies over time windows: cycles, scatter-gather, gather-scatter, bank runs.

The detectors here, like the ones in :mod:`dcep.regulator._aml`, read only the
public :class:`~dcep.regulator.RegulatorView` (flows, roles, and
:meth:`~dcep.regulator.RegulatorView.balance_fen` with ``before_entry``), so a supervisor's
own rule can be written the same way.  Counterparties are wallets paying
wallets (``TRANSFER``): fundings, defunds and bank flows never count as one.

No default is an amount: each is a count, a share of the case's own money, a
share of the wallet's own balance, or a multiple of the bank's own history,
so the same defaults hold for ¥10 payments and for ¥10,000 ones.  Fields
are validated when a rule is made: a window that is not a positive whole
number of microseconds, a percentage outside its range or an ``Amount``
where fen are expected raise :class:`~dcep.InvalidFieldError`.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, final

import attrs

from dcep.errors import InvalidFieldError, Reason
from dcep.instructions._kinds import InstructionKind
from dcep.regulator._alerts import Alert
from dcep.regulator._records import FundsFlow, PartyRole
from dcep.regulator._view import RegulatorView
from dcep.values._crypto import Address

__all__ = [
    "BankRunRule",
    "CycleRule",
    "GatherScatterRule",
    "ScatterGatherRule",
    "at_least",
    "make_alert",
    "percent",
    "transfers_by_wallet",
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


def is_transfer(view: RegulatorView, flow: FundsFlow) -> bool:
    """Whether ``flow`` is one wallet paying another (a counterparty relation)."""
    return (
        flow.kind is InstructionKind.TRANSFER
        and view.role(flow.payer) is PartyRole.WALLET
        and view.role(flow.payee) is PartyRole.WALLET
    )


def transfers_by_wallet(
    view: RegulatorView, start_us: int, end_us: int
) -> dict[Address, list[FundsFlow]]:
    """The window's wallet-to-wallet transfers per wallet on either side, oldest first."""
    groups: dict[Address, list[FundsFlow]] = collections.defaultdict(list)
    for flow in view.flows(start_us, end_us):
        if is_transfer(view, flow):
            groups[flow.payer].append(flow)
            groups[flow.payee].append(flow)
    return groups


def _transfers_out(view: RegulatorView, wallet: Address, start: int, end: int) -> list[FundsFlow]:
    return [f for f in view.flows_out(wallet, start, end) if is_transfer(view, f)]


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
        used: set[int] = set()
        for first in view.flows(start_us, end_us):
            if first.entry_number in used or not is_transfer(view, first):
                continue
            path = self._close(view, first, [first], first.time_us + self.window_us)
            if path is not None:
                used.update(f.entry_number for f in path)
                members = [f.payer for f in path]
                kept = path[-1].amount_fen / first.amount_fen
                score = kept * len(path) / self.min_length
                yield make_alert(
                    self.rule_id, first.payer, path, f"{len(path)} hops", *members, score=score
                )

    def _close(
        self, view: RegulatorView, first: FundsFlow, path: list[FundsFlow], deadline: int
    ) -> list[FundsFlow] | None:
        last = path[-1]
        if len(path) >= self.max_length:
            return None
        seen = {f.payer for f in path}
        low = last.amount_fen * self.kept_percent // 100
        high = last.amount_fen * 100 // self.kept_percent
        for hop in _transfers_out(view, last.payee, last.time_us, deadline):
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
            found = self._close(view, first, [*path, hop], deadline)
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
        paths: dict[tuple[Address, Address], list[tuple[FundsFlow, FundsFlow]]]
        paths = collections.defaultdict(list)
        for leg in view.flows(start_us, end_us):
            if not is_transfer(view, leg):
                continue
            low = leg.amount_fen * self.kept_percent // 100
            for onward in _transfers_out(
                view, leg.payee, leg.time_us, leg.time_us + self.window_us
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
        for hub, flows in transfers_by_wallet(view, start_us, end_us).items():
            if view.role(hub) is not PartyRole.WALLET:
                continue
            first = 0
            while first < len(flows):
                while first < len(flows) and flows[first].payee != hub:
                    first += 1
                if first == len(flows):
                    break
                began = flows[first].time_us
                gathered: list[FundsFlow] = []
                scattered: list[FundsFlow] = []
                for flow in flows[first:]:
                    if flow.time_us - began >= self.window_us:
                        break
                    (gathered if flow.payee == hub else scattered).append(flow)
                payers = {f.payer for f in gathered}
                payees = {f.payee for f in scattered}
                total_in = sum(f.amount_fen for f in gathered)
                total_out = sum(f.amount_fen for f in scattered)
                if (
                    len(payers) >= self.many
                    and len(payees) >= self.many
                    and total_out * 100 >= total_in * self.passed_percent
                    and view.balance_fen(hub, before_entry=flows[first].entry_number) * 100
                    <= total_in * self.prior_percent
                ):
                    score = min(len(payers), len(payees)) / self.many
                    yield make_alert(
                        self.rule_id,
                        hub,
                        [*gathered, *scattered],
                        f"{len(payers)} payers, then {len(payees)} payees",
                        *payers,
                        *payees,
                        score=score,
                    )
                    last = max(f.entry_number for f in [*gathered, *scattered])
                    while first < len(flows) and flows[first].entry_number <= last:
                        first += 1
                else:
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
        drains: dict[Address, list[FundsFlow]] = collections.defaultdict(list)
        drained_before: set[Address] = set()
        times = [0, 0]
        for flow in view.flows(None, end_us):
            if flow.kind is not InstructionKind.DEFUND or flow.bank is None:
                continue
            held = view.balance_fen(flow.payer, before_entry=flow.entry_number)
            if flow.amount_fen * 100 < held * self.drained_percent:
                continue
            if flow.payer in drained_before:
                continue
            drained_before.add(flow.payer)
            if flow.time_us >= start_us:
                drains[flow.bank].append(flow)
        flows = list(view.flows(start_us, end_us))
        if flows:
            times = [flows[0].time_us, flows[-1].time_us]
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
