"""Flow tracing: where money went, or where it came from, under three allocation rules.

A trace starts from an entry (a payment, a funding, an issuance) or from a
holder (all its outflows, forward; all its inflows, backward), runs over a
half-open time window ``[start_us, end_us)`` and follows up to ``max_hops``
edges.  When traced money mixes with other money in a wallet, the rule says
which later payments carry it (see docs/regulator.md for worked cases):

* ``FIFO`` (Clayton's Case): a holder's money is a queue; a payment takes
  the oldest fen first.  Exact intervals of fen, no rounding.
* ``HAIRCUT``: every payment carries traced money in proportion to the
  traced share of the balance.  Shares are exact fractions, rounded to whole
  fen by largest remainder (ties to the first part), and the holder's traced
  money is reduced by what was actually sent, so amounts stay whole and
  conserve exactly.
* ``POISON``: once touched, everything the holder pays after is traced in
  full; the clean money so marked is the node's ``absorbed_fen``.

A node's hop is the fewest edges by which traced money has reached it so
far; its payments are followed while that is below ``max_hops``.  Bank
vaults are end points (every wallet of a bank is funded from one vault)
unless ``through_banks``, or unless the trace starts at the bank's own entry.
"""

from __future__ import annotations

import collections
import heapq
import math
from collections.abc import Collection, Sequence
from fractions import Fraction

import attrs

from dcep.regulator._flowgraph import AllocationRule, FlowGraph, TraceDirection
from dcep.regulator._index import AccountIndex, rows_between
from dcep.regulator._records import FundsFlow
from dcep.regulator._view import RegulatorView
from dcep.regulator._walk import Tally, Trace
from dcep.values._crypto import Address

__all__ = ["apportion", "trace_backward", "trace_forward"]

_Key = tuple[int, int]
#: ``[start, end)`` offsets of traced fen within one flow.
_Carried = list[tuple[int, int]]


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` into integers, by largest remainder.

    Each part gets the floor of its exact quota (a :class:`~fractions.Fraction`);
    the units left go to the largest remainders, ties to the earlier part.
    The parts always sum to ``total``, and none exceeds its weight when
    ``total <= sum(weights)``.

    >>> apportion(100, [1, 2])
    [33, 67]
    >>> apportion(1, [1, 1])
    [1, 0]
    """
    whole = sum(weights)
    quotas = [Fraction(total * weight, whole) for weight in weights]
    parts = [math.floor(quota) for quota in quotas]
    order = sorted(range(len(quotas)), key=lambda i: (parts[i] - quotas[i], i))
    for index in order[: total - sum(parts)]:
        parts[index] += 1
    return parts


@attrs.define
class _Taint:
    """Forward: the traced money a node holds, in the form its rule needs."""

    contact: _Key
    intervals: collections.deque[tuple[int, int]] = attrs.field(factory=collections.deque)
    held: int = 0  # haircut: whole fen of traced money held
    left: int = 0  # traced money that left by payments not followed
    pending: list[tuple[_Key, int]] = attrs.field(factory=list)  # haircut, while not followed


class _Forward(Trace):
    taints: dict[Address, _Taint]

    def run(self, origin: int | Address | Collection[int]) -> FlowGraph:
        self.taints = {}
        seeds = {flow.entry_number for flow in self.seeds(origin, outgoing=True)}
        for number in seeds:
            self.push(number, 1)
        while self.heap:
            flow = self.view.flow(heapq.heappop(self.heap))
            self.queued.discard(flow.entry_number)
            if flow.entry_number in seeds:
                self.nodes[flow.payer].seeded_fen += flow.amount_fen
                carried: _Carried = [(0, flow.amount_fen)]
            else:
                carried = self.take(flow)
                self.schedule(flow.payer, (flow.time_us, flow.entry_number))
            amount = sum(b - a for a, b in carried)
            if amount:
                self.edges[flow.entry_number] = amount
                self.nodes[flow.payer].out_fen += amount
                self.arrive(flow, carried, amount)
        self.close()
        return self.graph(TraceDirection.FORWARD, origin)

    def take(self, flow: FundsFlow) -> _Carried:
        """What of ``flow`` is traced, by the payer's rule; updates the payer's taint."""
        taint = self.taints[flow.payer]
        index = self.account(flow.payer)
        amount = flow.amount_fen
        if self.rule is AllocationRule.POISON:
            return [(0, amount)]
        if self.rule is AllocationRule.HAIRCUT:
            balance = index.balance_before(flow.time_us, flow.entry_number)
            share = apportion(amount, [taint.held, balance - taint.held])[0]
            taint.held -= share
            return [(0, share)] if share else []
        low = index.totals_before(flow.time_us, flow.entry_number)[1]
        return [(a - low, b - low) for a, b in self.consume(taint, low, low + amount)]

    @staticmethod
    def consume(taint: _Taint, low: int, high: int) -> _Carried:
        """FIFO: remove queue positions below ``high``; return those in ``[low, high)``."""
        carried, queue = [], taint.intervals
        while queue and queue[0][0] < high:
            a, b = queue.popleft()
            if b > high:
                queue.appendleft((high, b))
                b = high
            taint.left += max(0, min(b, low) - a)  # consumed earlier, by a payment not followed
            if b > low:
                carried.append((max(a, low), b))
        return carried

    def arrive(self, flow: FundsFlow, carried: _Carried, amount: int) -> None:
        payee = flow.payee
        tally = self.tally(payee, self.nodes[flow.payer].hop + 1)
        tally.in_fen += amount
        if payee in self.terminal:
            return
        key = (flow.time_us, flow.entry_number)
        taint = self.taints.setdefault(payee, _Taint(key))
        if not tally.expanded and self.expandable(payee, tally):
            tally.expanded = True
            self.replay(payee, taint, key)
        if self.rule is AllocationRule.FIFO:
            base = self.account(payee).totals_before(*key)[0]
            taint.intervals.extend((base + a, base + b) for a, b in carried)
        elif tally.expanded:
            taint.held += amount
        else:
            taint.pending.append((key, amount))
        if tally.expanded:
            self.schedule(payee, key)

    def replay(self, address: Address, taint: _Taint, until: _Key) -> None:
        """Haircut: catch a node up on payments it made before its payments were followed."""
        if self.rule is not AllocationRule.HAIRCUT or not taint.pending:
            return
        index = self.account(address)
        after = (taint.contact[0], taint.contact[1] + 1)
        payments = [(row[:2], -1) for row in rows_between(index.outgoing, after, until)]
        for key, amount in heapq.merge(taint.pending, payments):
            if amount > 0:
                taint.held += amount
                continue
            payment = self.view.flow(key[1]).amount_fen
            balance = index.balance_before(*key)
            share = apportion(payment, [taint.held, balance - taint.held])[0]
            taint.held -= share
            taint.left += share
        taint.pending.clear()

    def schedule(self, address: Address, after: _Key) -> None:
        taint = self.taints[address]
        if self.rule is AllocationRule.FIFO and not taint.intervals:
            return
        if self.rule is AllocationRule.HAIRCUT and not taint.held:
            return
        rows = self.account(address).outgoing
        index = rows.bisect_left((after[0], after[1] + 1))
        if index < len(rows) and rows[index][0] < self.end:
            self.push(rows[index][1], 1)

    def close(self) -> None:
        for address, tally in self.nodes.items():
            taint = self.taints.get(address)
            if taint is None or not tally.expanded:
                tally.untraced_fen = tally.seeded_fen + tally.in_fen - tally.out_fen
                continue
            index = self.account(address)
            if self.rule is AllocationRule.FIFO:
                paid_out = index.totals_before(self.end)[1]
                self.consume(taint, paid_out, paid_out)
                tally.untraced_fen = taint.left + sum(b - a for a, b in taint.intervals)
            elif self.rule is AllocationRule.HAIRCUT:
                tally.untraced_fen = taint.left + taint.held
            else:
                received_before = index.totals_before(*taint.contact)[0]
                marked = index.balance_before(*taint.contact) + (
                    index.totals_before(self.end)[0] - received_before
                )
                tally.untraced_fen = marked - (tally.out_fen - tally.seeded_fen)
                tally.absorbed_fen = marked - tally.in_fen


class _Backward(Trace):
    demands: dict[int, _Carried]  # FIFO: offsets; other rules: one (0, amount) interval
    decompositions: dict[Address, dict[int, list[tuple[int | None, int]]]]

    def run(self, origin: int | Address | Collection[int]) -> FlowGraph:
        self.demands, self.decompositions = {}, {}
        poisoned: set[Address] = set()
        for flow in self.seeds(origin, outgoing=False):
            self.nodes[flow.payee].seeded_fen += flow.amount_fen
            self.nodes[flow.payee].in_fen += flow.amount_fen
            self.demand(flow, [(0, flow.amount_fen)], hop=1)
        while self.heap:
            flow = self.view.flow(-heapq.heappop(self.heap))
            payer, demanded = flow.payer, self.demands[flow.entry_number]
            tally = self.nodes[payer]
            if not self.expandable(payer, tally):
                tally.untraced_fen += sum(b - a for a, b in demanded)
                continue
            tally.expanded = True
            if self.rule is AllocationRule.FIFO:
                self.explain_fifo(flow, demanded, tally)
            elif self.rule is AllocationRule.HAIRCUT:
                self.explain_haircut(flow, sum(b - a for a, b in demanded), tally)
            elif payer not in poisoned:
                poisoned.add(payer)
                index = self.account(payer)
                tally.untraced_fen += index.balance_before(self.start)
                for _, number, _ in rows_between(
                    index.incoming, (self.start, 0), (flow.time_us, flow.entry_number)
                ):
                    source = self.view.flow(number)
                    self.add_in(tally, source, [(0, source.amount_fen)])
        for address in poisoned:
            t = self.nodes[address]
            t.absorbed_fen = t.in_fen + t.untraced_fen - t.seeded_fen - t.out_fen
        return self.graph(TraceDirection.BACKWARD, origin)

    def demand(self, flow: FundsFlow, offsets: _Carried, hop: int) -> None:
        amount = sum(b - a for a, b in offsets)
        if not amount:
            return
        self.edges[flow.entry_number] = self.edges.get(flow.entry_number, 0) + amount
        self.demands.setdefault(flow.entry_number, []).extend(offsets)
        self.tally(flow.payer, hop).out_fen += amount
        if flow.entry_number not in self.queued:
            self.push(flow.entry_number, -1)

    def explain_fifo(self, flow: FundsFlow, demanded: _Carried, tally: Tally) -> None:
        index = self.account(flow.payer)
        base = index.totals_before(flow.time_us, flow.entry_number)[1]
        wanted = sorted((base + a, base + b) for a, b in demanded)
        explained = 0
        lowest = wanted[0][0]
        for _, number, received in AccountIndex.before(
            index.incoming, (flow.time_us, flow.entry_number), self.start
        ):
            if received <= lowest:
                break
            source = self.view.flow(number)
            first = received - source.amount_fen
            parts = [
                (max(a, first) - first, min(b, received) - first)
                for a, b in wanted
                if a < received and b > first
            ]
            self.add_in(tally, source, parts)
            explained += sum(b - a for a, b in parts)
        tally.untraced_fen += sum(b - a for a, b in wanted) - explained

    def explain_haircut(self, flow: FundsFlow, amount: int, tally: Tally) -> None:
        parts = self.decomposition(flow)[flow.entry_number]
        weights = [part for _, part in parts]
        shares = weights if amount == flow.amount_fen else apportion(amount, weights)
        for (source, _), share in zip(parts, shares, strict=True):
            if source is None:
                tally.untraced_fen += share
            else:
                self.add_in(tally, self.view.flow(source), [(0, share)])

    def add_in(self, tally: Tally, source: FundsFlow, parts: _Carried) -> None:
        amount = sum(b - a for a, b in parts)
        if amount:
            tally.in_fen += amount
            self.demand(source, parts, tally.hop + 1)

    def decomposition(self, flow: FundsFlow) -> dict[int, list[tuple[int | None, int]]]:
        """Haircut: each payment of the payer, up to ``flow``, as parts of what it held."""
        known = self.decompositions.get(flow.payer)
        if known is not None and flow.entry_number in known:
            return known
        index = self.account(flow.payer)
        held: dict[int | None, int] = {}
        until = (flow.time_us, flow.entry_number + 1)
        since = self.emptied(index, until)
        if since == (self.start, 0) and (opening := index.balance_before(self.start)):
            held[None] = opening  # money from before the window: not traced further
        rows = heapq.merge(
            ((*row[:2], 1) for row in rows_between(index.incoming, since, until)),
            ((*row[:2], -1) for row in rows_between(index.outgoing, since, until)),
        )
        result: dict[int, list[tuple[int | None, int]]] = {}
        for _, number, sign in rows:
            amount = self.view.flow(number).amount_fen
            if sign > 0:
                held[number] = amount
                continue
            keys = list(held)
            parts = apportion(amount, [held[key] for key in keys])
            result[number] = [(key, part) for key, part in zip(keys, parts, strict=True) if part]
            for key, part in zip(keys, parts, strict=True):
                held[key] -= part
                if not held[key]:
                    del held[key]
        self.decompositions[flow.payer] = result
        return result

    def emptied(self, index: AccountIndex, until: _Key) -> _Key:
        """Where a haircut decomposition up to ``until`` may start: the holder's last empty moment.

        Money received before the holder last held nothing has all left, so
        no later payment carries any of it: the decomposition starts there
        (a shop that banks its takings every night is decomposed from last
        night, not from its opening), or at the window's start if the holder
        was never empty since.  The walk back is bounded by what the
        decomposition would read anyway.
        """
        start = (self.start, 0)
        newest_in = AccountIndex.before(index.incoming, until, self.start)
        newest_out = AccountIndex.before(index.outgoing, until, self.start)
        rows = heapq.merge(
            (row[:2] for row in newest_in),
            (row[:2] for row in newest_out),
            key=lambda key: (-key[0], -key[1]),
        )
        for key in rows:
            # From the running totals, not the flows: a waterfall moves a row
            # less than its flow, and a vault has rows of other holders' flows.
            if not index.balance_before(*key):
                return key  # empty just before this row: start at it
        return start


def trace_forward(
    view: RegulatorView,
    origin: int | Address | Collection[int],
    *,
    rule: AllocationRule = AllocationRule.FIFO,
    start_us: int | None = None,
    end_us: int | None = None,
    max_hops: int = 3,
    through_banks: bool = False,
) -> FlowGraph:
    """Where did the money go?  From entry ``origin``, or all payments of holder ``origin``.

    ``origin`` may also be several entry numbers (an alert's ``entries``), so
    that the trace follows the suspect money rather than the wallet's whole
    life.  An issuance or a funding is traced by its entry number.  Raises
    ``FIELD_INVALID`` for an entry that moved no e-CNY or lies outside the
    window, or ``max_hops`` below 1.
    """
    return _Forward(view, rule, start_us, end_us, max_hops, through_banks).run(origin)


def trace_backward(
    view: RegulatorView,
    origin: int | Address | Collection[int],
    *,
    rule: AllocationRule = AllocationRule.FIFO,
    start_us: int | None = None,
    end_us: int | None = None,
    max_hops: int = 3,
    through_banks: bool = False,
) -> FlowGraph:
    """Where did the money come from?  For entry ``origin``, or all receipts of holder ``origin``.

    Money from before ``start_us`` is not followed (it is the node's
    ``untraced_fen``).  Raises as :func:`trace_forward` does.
    """
    return _Backward(view, rule, start_us, end_us, max_hops, through_banks).run(origin)
