"""The result of a trace: a graph of holders and entries, with traced amounts in fen.

A :class:`FlowGraph` says which rule and window it was traced under, holds a
:class:`TraceNode` per holder reached and a :class:`TraceEdge` per journal
entry that carried traced money, checks that every node conserves money
(:meth:`FlowGraph.check`), and exports itself as plain JSON data or as a
``networkx`` graph (the optional extra ``dcep[viz]``, imported only then).
"""

from __future__ import annotations

import enum
import importlib
from typing import Any, final

import attrs

from dcep.errors import InvalidFieldError, InvariantError, Reason, UnknownPartyError
from dcep.instructions._kinds import InstructionKind
from dcep.regulator._records import PartyRole
from dcep.values._crypto import Address
from dcep.values._policy import WalletCategory

__all__ = ["AllocationRule", "FlowGraph", "TraceDirection", "TraceEdge", "TraceNode"]


@enum.unique
class AllocationRule(enum.StrEnum):
    """How traced money is told apart from other money once they mix in a wallet."""

    POISON = "poison"
    HAIRCUT = "haircut"
    FIFO = "fifo"


@enum.unique
class TraceDirection(enum.StrEnum):
    """Forward: where money went.  Backward: where it came from."""

    FORWARD = "forward"
    BACKWARD = "backward"


@final
@attrs.frozen
class TraceNode:
    """A holder in a trace, with what was traced through it (all in fen).

    Forward: ``seeded + in + absorbed == out + untraced``.  Backward:
    ``seeded + out + absorbed == in + untraced``.  ``untraced`` is traced
    money not followed further: still held at the window's end, paid on by a
    node beyond the hop limit (forward), or from before the window or beyond
    the limit (backward).  ``absorbed`` is non-zero only under ``POISON``.
    """

    address: Address
    role: PartyRole
    category: WalletCategory | None
    hop: int
    seeded_fen: int
    in_fen: int
    out_fen: int
    absorbed_fen: int
    untraced_fen: int


@final
@attrs.frozen
class TraceEdge:
    """One journal entry on a trace: ``amount_fen`` of its ``flow_fen`` is traced."""

    entry_number: int
    time_us: int
    kind: InstructionKind
    payer: Address
    payee: Address
    amount_fen: int
    flow_fen: int


@final
@attrs.frozen
class FlowGraph:
    """The result of a trace: holders and the entries between them, amounts in fen."""

    direction: TraceDirection
    rule: AllocationRule
    origin_entry: int | None
    origin_address: Address | None
    start_us: int | None
    end_us: int | None
    max_hops: int
    nodes: tuple[TraceNode, ...]
    edges: tuple[TraceEdge, ...]
    #: The entries a trace started from, when it started from several (an alert's).
    origin_entries: tuple[int, ...] = ()

    def node(self, address: Address) -> TraceNode:
        """The node of ``address``; ``UNKNOWN_WALLET`` if the trace did not reach it."""
        for node in self.nodes:
            if node.address == address:
                return node
        raise UnknownPartyError(Reason.UNKNOWN_WALLET, "not on this trace", party=str(address))

    def edge(self, entry_number: int) -> TraceEdge:
        """The edge of entry ``entry_number``; ``FIELD_INVALID`` if it carries nothing traced."""
        for edge in self.edges:
            if edge.entry_number == entry_number:
                return edge
        raise InvalidFieldError(Reason.FIELD_INVALID, f"entry {entry_number} is not on this trace")

    def addresses(self) -> frozenset[Address]:
        """Every holder the trace reached with a non-zero amount, and its origin."""
        return frozenset(node.address for node in self.nodes)

    def check(self) -> None:
        """Raise :class:`~dcep.errors.InvariantError` unless every node conserves money."""
        forward = self.direction is TraceDirection.FORWARD
        totals: dict[Address, list[int]] = {node.address: [0, 0] for node in self.nodes}
        for edge in self.edges:
            totals[edge.payee][0] += edge.amount_fen
            totals[edge.payer][1] += edge.amount_fen
            if not 0 < edge.amount_fen <= edge.flow_fen:
                raise InvariantError(Reason.INVARIANT_VIOLATED, f"edge {edge.entry_number}")
        for node in self.nodes:
            arrived = node.seeded_fen + (node.in_fen if forward else node.out_fen)
            left = (node.out_fen if forward else node.in_fen) + node.untraced_fen
            if (
                arrived + node.absorbed_fen != left
                or totals[node.address] != [node.in_fen, node.out_fen]
                or min(node.untraced_fen, node.absorbed_fen) < 0
                or (node.absorbed_fen and self.rule is not AllocationRule.POISON)
            ):
                raise InvariantError(Reason.INVARIANT_VIOLATED, f"money not conserved at {node}")

    def to_dict(self) -> dict[str, object]:
        """The graph as plain data (str, int, None, lists, dicts): ``json.dumps`` takes it."""
        return attrs.asdict(self, value_serializer=_plain)

    def to_networkx(self) -> Any:
        """The graph as a ``networkx.MultiDiGraph``: nodes by address text, edges keyed by entry.

        Needs the optional extra ``dcep[viz]``; without it raises ``ImportError`` saying so.
        """
        try:
            networkx = importlib.import_module("networkx")
        except ImportError as error:
            raise ImportError(
                "FlowGraph.to_networkx needs networkx, the optional extra: pip install 'dcep[viz]'"
            ) from error
        graph = networkx.MultiDiGraph(direction=self.direction.value, rule=self.rule.value)
        for node in self.nodes:
            graph.add_node(str(node.address), **attrs.asdict(node, value_serializer=_plain))
        for edge in self.edges:
            data = attrs.asdict(edge, value_serializer=_plain)
            graph.add_edge(data["payer"], data["payee"], key=edge.entry_number, **data)
        return graph


def _plain(_instance: object, _field: object, value: object) -> object:
    if isinstance(value, Address):
        return str(value)
    if isinstance(value, InstructionKind):
        return value.name.lower()
    return int(value) if isinstance(value, enum.IntEnum) else value
