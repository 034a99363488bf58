"""What every trace keeps while it walks the regulator's view: window, hops, queue, tallies.

Forward and backward traces (:mod:`dcep.regulator._tracing`) share this bookkeeping:
the window and hop limit, a running :class:`Tally` per holder reached, the
amount traced along each entry, the queue of entries still to visit, which
holders are end points, and how the result becomes a :class:`~dcep.regulator.FlowGraph`.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterator

import attrs

from dcep.errors import InvalidFieldError, Reason, UnknownPartyError
from dcep.regulator._flowgraph import (
    AllocationRule,
    FlowGraph,
    TraceDirection,
    TraceEdge,
    TraceNode,
)
from dcep.regulator._index import END_US, AccountIndex, rows_between
from dcep.regulator._records import FundsFlow, PartyRole
from dcep.regulator._view import RegulatorView
from dcep.values._crypto import Address

__all__ = ["Tally", "Trace"]


@attrs.define
class Tally:
    """One node's running totals while a trace is being built."""

    hop: int
    seeded_fen: int = 0
    in_fen: int = 0
    out_fen: int = 0
    absorbed_fen: int = 0
    untraced_fen: int = 0
    expanded: bool = attrs.field(default=False, metadata={"private": True})


class Trace:
    """One trace under way; :mod:`dcep.regulator._tracing` runs it forward or backward."""

    def __init__(
        self,
        view: RegulatorView,
        rule: AllocationRule,
        start_us: int | None,
        end_us: int | None,
        max_hops: int,
        through_banks: bool,
    ) -> None:
        if type(max_hops) is not int or max_hops < 1:
            raise InvalidFieldError(Reason.FIELD_INVALID, "max_hops is at least 1", field="hops")
        try:
            self.rule = AllocationRule(rule)
        except ValueError:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"a trace follows money under {', '.join(r.value for r in AllocationRule)}, "
                f"not {rule!r}",
                field="rule",
            ) from None
        for name, value in (("start_us", start_us), ("end_us", end_us)):
            if value is not None and (type(value) is not int or value < 0):
                raise InvalidFieldError(
                    Reason.FIELD_INVALID,
                    f"{name} is whole microseconds since 1970, not {value!r}",
                    field=name,
                )
        if start_us is not None and end_us is not None and start_us > end_us:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"the window starts at {start_us}, after it ends at {end_us}",
                field="start_us",
            )
        self.view = view
        self.window = (start_us, end_us)
        self.start = 0 if start_us is None else start_us
        self.end = END_US if end_us is None else end_us
        self.max_hops = max_hops
        self.through_banks = through_banks
        self.nodes: dict[Address, Tally] = {}
        self.edges: dict[int, int] = {}
        self.terminal: set[Address] = set()  # an origin holder, all of whose flows are seeds
        self.forced: set[Address] = set()  # a bank reached by the seed entry itself
        self.heap: list[int] = []
        self.queued: set[int] = set()

    def account(self, address: Address) -> AccountIndex:
        return self.view._account(address)

    def tally(self, address: Address, hop: int) -> Tally:
        tally = self.nodes.get(address)
        if tally is None:
            tally = self.nodes[address] = Tally(hop)
        tally.hop = min(tally.hop, hop)
        return tally

    def expandable(self, address: Address, tally: Tally) -> bool:
        if address in self.terminal or tally.hop >= self.max_hops:
            return False
        role = self.view.role(address)
        bank_ok = self.through_banks or address in self.forced
        return role is PartyRole.WALLET or (role is PartyRole.BANK and bank_ok)

    def push(self, number: int, sign: int) -> None:
        if number not in self.queued:
            self.queued.add(number)
            heapq.heappush(self.heap, sign * number)

    def seeds(
        self, origin: int | Address | Collection[int], *, outgoing: bool
    ) -> Iterator[FundsFlow]:
        if isinstance(origin, Address):
            yield from self._holder_seeds(origin, outgoing=outgoing)
        elif isinstance(origin, int):
            yield self._entry_seed(origin, outgoing=outgoing)
        else:
            numbers = sorted(set(origin))
            if not numbers or any(type(number) is not int for number in numbers):
                raise InvalidFieldError(
                    Reason.FIELD_INVALID,
                    "a trace starts from an address, an entry number, or entry numbers",
                    field="origin",
                )
            # In entry order, so in time order: the first receipt is the earliest.
            flows = [self.view.flow(number) for number in numbers]
            # Start where the money entered the set (forward: no earlier entry of
            # the set paid the payer; backward: no later one left the payee):
            # the rest of the set is reached by following it, and counted once.
            if outgoing:
                first_in: dict[Address, int] = {}
                for flow in flows:
                    first_in.setdefault(flow.payee, flow.time_us)
                starts = [f for f in flows if first_in.get(f.payer, f.time_us + 1) > f.time_us]
            else:
                last_out: dict[Address, int] = {}
                for flow in flows:
                    last_out[flow.payer] = flow.time_us
                starts = [f for f in flows if last_out.get(f.payee, f.time_us - 1) < f.time_us]
            for flow in starts:
                yield self._entry_seed(flow.entry_number, outgoing=outgoing)

    def _holder_seeds(self, origin: Address, *, outgoing: bool) -> Iterator[FundsFlow]:
        if self.view.role(origin) is PartyRole.UNKNOWN:
            raise UnknownPartyError(
                Reason.UNKNOWN_WALLET,
                f"{origin} has no flow in the view: nothing to trace",
                party=str(origin),
            )
        self.terminal.add(origin)
        self.nodes[origin] = Tally(0)
        index = self.account(origin)
        rows = index.outgoing if outgoing else index.incoming
        for _, number, _ in rows_between(rows, (self.start, 0), (self.end, 0)):
            yield self.view.flow(number)

    def _entry_seed(self, number: int, *, outgoing: bool) -> FundsFlow:
        flow = self.view.flow(number)
        if not self.start <= flow.time_us < self.end:
            raise InvalidFieldError(Reason.FIELD_INVALID, "the entry is outside the window")
        self.nodes.setdefault(flow.payer if outgoing else flow.payee, Tally(0))
        self.forced.add(flow.payee if outgoing else flow.payer)
        return flow

    def graph(
        self, direction: TraceDirection, origin: int | Address | Collection[int]
    ) -> FlowGraph:
        nodes = []
        for address, tally in sorted(self.nodes.items(), key=lambda item: (item[1].hop, item[0])):
            role = self.view.role(address)
            category = self.view.wallet(address).category if role is PartyRole.WALLET else None
            totals = attrs.asdict(tally, filter=lambda field, _: "private" not in field.metadata)
            nodes.append(TraceNode(address, role, category, **totals))
        edges = []
        for number in sorted(self.edges):
            f = self.view.flow(number)
            amount = self.edges[number]
            edges.append(
                TraceEdge(number, f.time_us, f.kind, f.payer, f.payee, amount, f.amount_fen)
            )
        return FlowGraph(
            direction,
            self.rule,
            origin if isinstance(origin, int) else None,
            origin if isinstance(origin, Address) else None,
            *self.window,
            self.max_hops,
            tuple(nodes),
            tuple(edges),
            () if isinstance(origin, int | Address) else tuple(sorted(set(origin))),
        )
