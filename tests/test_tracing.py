"""Flow tracing: textbook cases by hand, and conservation over random payment graphs.

The hand-checked cases are the ones worked through in docs/regulator.md.
The properties drive a real ledger with random payments, fundings and
defundings (Hypothesis), then check that every trace conserves money, that
forward traces with no hop limit agree fen for fen with a naive replay of
the whole journal, and that poison reaches every holder haircut reaches.
"""

from __future__ import annotations

import collections
import json
import sys
from collections.abc import Iterator

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dcep
import dcep.regulator
import dcep.sim
from dcep import RegulatorView, trace_backward, trace_forward
from dcep.regulator import AllocationRule, FlowGraph, PartyRole, TraceDirection
from dcep.regulator._tracing import _Backward, apportion

from .strategies import picks

RULES = list(AllocationRule)


@attrs.define
class Town:
    """A ledger with one bank, category-1 wallets and a regulator view attached."""

    ledger: dcep.Ledger
    clock: dcep.ManualClock
    bank: dcep.Bank
    wallets: list[dcep.Wallet]
    view: RegulatorView
    issue_entry: int

    @classmethod
    def build(cls, wallets: int, *, seed: int = 1) -> Town:
        clock = dcep.ManualClock()
        ledger = dcep.Ledger(clock=clock)
        view = RegulatorView.attach(ledger)
        pboc = dcep.CentralBank(ledger, seed=seed)
        bank = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=dcep.cny("9000000"))
        issue_entry = pboc.issue(bank, dcep.cny("9000000")).entry_number
        town = cls(ledger, clock, bank, [], view, issue_entry)
        for index in range(wallets):
            account = f"6222-{index:04d}"
            bank.pay_in(account, dcep.cny("400000"))
            town.wallets.append(
                bank.open_wallet(
                    category=1,
                    phone=f"1380000{index:04d}",
                    id_number=f"1101{index:014d}",
                    linked_account=account,
                    in_person=True,
                )
            )
        return town

    def fund(self, index: int, yuan: str) -> int:
        return self.bank.fund(self.wallets[index], dcep.cny(yuan)).entry_number

    def pay(self, payer: int, payee: int, yuan: str) -> int:
        return self.wallets[payer].pay(self.wallets[payee], dcep.cny(yuan)).entry_number

    def address(self, index: int) -> dcep.Address:
        return self.wallets[index].address


def _edges(graph: FlowGraph) -> dict[int, int]:
    return {edge.entry_number: edge.amount_fen for edge in graph.edges}


@pytest.fixture(scope="module")
def textbook() -> tuple[Town, dict[str, int]]:
    """A pays W 100, B pays W 300, then W pays C 200 and D 200 (W was empty)."""
    town = Town.build(5)  # 0 A, 1 B, 2 W, 3 C, 4 D
    town.fund(0, "1000")
    town.fund(1, "1000")
    entries = {
        "a": town.pay(0, 2, "100"),
        "b": town.pay(1, 2, "300"),
        "c": town.pay(2, 3, "200"),
        "d": town.pay(2, 4, "200"),
    }
    return town, entries


@pytest.mark.parametrize(
    ("rule", "to_c", "to_d"),
    [
        (AllocationRule.FIFO, 10_000, None),  # A's 100 is the first money out: all to C
        (AllocationRule.HAIRCUT, 5_000, 5_000),  # 1/4 of each payment
        (AllocationRule.POISON, 20_000, 20_000),  # both payments, in full
    ],
)
def test_forward_textbook(
    textbook: tuple[Town, dict[str, int]], rule: AllocationRule, to_c: int, to_d: int | None
) -> None:
    town, entry = textbook
    graph = trace_forward(town.view, entry["a"], rule=rule)
    graph.check()
    expected = {entry["a"]: 10_000, entry["c"]: to_c}
    if to_d is not None:
        expected[entry["d"]] = to_d
    assert _edges(graph) == expected
    w = graph.node(town.address(2))
    assert (w.in_fen, w.out_fen) == (10_000, to_c + (to_d or 0))
    # Poison marks B's 300 as well: the clean money it absorbed at W.
    assert w.absorbed_fen == (30_000 if rule is AllocationRule.POISON else 0)


@pytest.mark.parametrize(
    ("rule", "from_a", "from_b"),
    [
        (AllocationRule.FIFO, None, 20_000),  # D's 200 is the last in: all B's
        (AllocationRule.HAIRCUT, 5_000, 15_000),  # W held A 50 + B 150 after paying C
        (AllocationRule.POISON, 10_000, 30_000),  # every inflow before, in full
    ],
)
def test_backward_textbook(
    textbook: tuple[Town, dict[str, int]], rule: AllocationRule, from_a: int | None, from_b: int
) -> None:
    town, entry = textbook
    graph = trace_backward(town.view, entry["d"], rule=rule, max_hops=2)
    graph.check()
    expected = {entry["d"]: 20_000, entry["b"]: from_b}
    if from_a is not None:
        expected[entry["a"]] = from_a
    assert _edges(graph) == expected
    origin = graph.node(town.address(4))
    assert (origin.hop, origin.seeded_fen) == (0, 20_000)


def test_haircut_rounds_by_largest_remainder() -> None:
    """W holds 1.00 traced of 3.00; it pays 1.00, 1.00, 1.00: 33, 34, 33 fen traced."""
    town = Town.build(4)
    town.fund(0, "10")
    town.fund(1, "10")
    seed = town.pay(0, 2, "1")
    town.pay(1, 2, "2")
    payments = [town.pay(2, 3, "1") for _ in range(3)]
    graph = trace_forward(town.view, seed, rule=AllocationRule.HAIRCUT)
    graph.check()
    # 1/3 of 100 = 33.3 -> 33 (W keeps 67 of 200); 67/200 of 100 = 33.5 -> 34 (a tie, to
    # the traced part); W keeps 33 of 100, so the last payment takes all 33.
    assert [_edges(graph)[number] for number in payments] == [33, 34, 33]
    assert graph.node(town.address(3)).in_fen == 100


def test_fifo_follows_queue_positions_across_hops() -> None:
    """W's queue is [old 50 | traced 100]; W pays X 80 then 70: X gets 30 then 70 traced."""
    town = Town.build(4)
    town.fund(2, "50")  # W's own money, first in the queue
    town.fund(0, "100")
    seed = town.pay(0, 2, "100")
    first = town.pay(2, 3, "80")
    second = town.pay(2, 3, "70")
    # X's queue is [clean 50 | traced 30 | traced 70]: paying 100 passes on 50 traced.
    onward = town.pay(3, 1, "100")
    graph = trace_forward(town.view, seed, rule=AllocationRule.FIFO)
    graph.check()
    assert _edges(graph) == {seed: 10_000, first: 3_000, second: 7_000, onward: 5_000}
    assert graph.node(town.address(3)).hop == 2
    assert graph.node(town.address(1)).hop == 3
    assert trace_forward(town.view, seed, max_hops=2).node(town.address(3)).untraced_fen == 10_000


def test_tracing_from_an_issuance_follows_the_vault() -> None:
    town = Town.build(3)
    funding = town.fund(0, "700")
    town.fund(1, "300")
    for rule in RULES:
        graph = trace_forward(town.view, town.issue_entry, rule=rule)
        graph.check()
        assert _edges(graph)[funding] == 70_000
        assert graph.node(town.bank.address).role is PartyRole.BANK
        # Backward from the funding reaches the issuance, and stops at the central bank.
        back = trace_backward(town.view, funding, rule=rule)
        back.check()
        assert _edges(back)[town.issue_entry] >= 70_000


def test_a_wallet_origin_traces_all_its_flows_in_the_window() -> None:
    town = Town.build(3)
    town.fund(0, "100")
    town.clock.advance(hours=1)
    start = town.clock.now_us()
    pays = [town.pay(0, 1, "10"), town.pay(0, 2, "20")]
    back_in = town.pay(1, 0, "5")
    forward = trace_forward(town.view, town.address(0), start_us=start)
    forward.check()
    assert _edges(forward) == {pays[0]: 1_000, pays[1]: 2_000, back_in: 500}
    assert forward.node(town.address(0)).untraced_fen == 500  # came back: not followed again
    backward = trace_backward(town.view, town.address(0), start_us=start)
    backward.check()
    assert _edges(backward) == {back_in: 500, pays[0]: 500}


def test_money_from_before_the_window_is_untraced() -> None:
    town = Town.build(2)
    funding = town.fund(0, "100")
    town.clock.advance(days=1)
    payment = town.pay(0, 1, "60")
    for rule in RULES:
        graph = trace_backward(town.view, payment, rule=rule, start_us=town.clock.now_us())
        graph.check()
        assert funding not in _edges(graph)
        # Poison marks all 100 the wallet held as a possible source; the others only 60.
        poison = rule is AllocationRule.POISON
        assert graph.node(town.address(0)).untraced_fen == (10_000 if poison else 6_000)


def test_json_and_errors() -> None:
    town = Town.build(2)
    town.fund(0, "100")
    payment = town.pay(0, 1, "60")
    graph = trace_forward(town.view, payment)
    data = json.loads(json.dumps(graph.to_dict()))
    assert data["rule"] == "fifo"
    assert data["edges"] == [
        {
            "entry_number": payment,
            "time_us": graph.edges[0].time_us,
            "kind": "transfer",
            "payer": str(town.address(0)),
            "payee": str(town.address(1)),
            "amount_fen": 6_000,
            "flow_fen": 6_000,
        }
    ]
    with pytest.raises(dcep.InvalidFieldError):
        trace_forward(town.view, payment, max_hops=0)
    with pytest.raises(dcep.InvalidFieldError):
        trace_forward(town.view, payment, end_us=graph.edges[0].time_us)
    with pytest.raises(dcep.InvalidFieldError):
        trace_forward(town.view, 0)  # the genesis entry moved no money
    with pytest.raises(dcep.InvalidFieldError):
        graph.edge(0)
    with pytest.raises(dcep.UnknownPartyError):
        graph.node(town.bank.address)


@pytest.mark.parametrize("trace", [trace_forward, trace_backward])
@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"rule": "lifo"}, "rule"),
        ({"start_us": 10, "end_us": 5}, "start_us"),
        ({"start_us": -1}, "start_us"),
        ({"end_us": 1.5}, "end_us"),
    ],
)
def test_nonsense_settings_are_refused_with_the_field_named(
    trace: object, settings: dict[str, object], field: str
) -> None:
    town = Town.build(2)
    town.fund(0, "100")
    town.pay(0, 1, "60")
    assert callable(trace)
    with pytest.raises(dcep.InvalidFieldError) as caught:
        trace(town.view, town.address(0), **settings)
    assert caught.value.reason is dcep.Reason.FIELD_INVALID
    assert caught.value.field == field


@pytest.mark.parametrize("trace", [trace_forward, trace_backward])
def test_a_trace_from_an_address_the_view_never_saw_is_refused(trace: object) -> None:
    town = Town.build(2)
    town.fund(0, "100")
    assert callable(trace)
    stranger = dcep.Address(bytes(range(20)))
    with pytest.raises(dcep.UnknownPartyError) as caught:
        trace(town.view, stranger)
    assert caught.value.reason is dcep.Reason.UNKNOWN_WALLET


def test_to_networkx_without_networkx_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    town = Town.build(2)
    town.fund(0, "100")
    graph = trace_forward(town.view, town.pay(0, 1, "60"))
    monkeypatch.setitem(sys.modules, "networkx", None)  # import networkx now fails
    with pytest.raises(ImportError, match=r"dcep\[viz\]"):
        graph.to_networkx()


def test_to_networkx() -> None:
    pytest.importorskip("networkx")
    town = Town.build(3)
    town.fund(0, "100")
    first = town.pay(0, 1, "60")
    second = town.pay(1, 2, "50")
    nx_graph = trace_forward(town.view, first).to_networkx()
    assert nx_graph.number_of_nodes() == 3
    key = str(town.address(1)), str(town.address(2)), second
    assert nx_graph.edges[key]["amount_fen"] == 5_000


def test_apportion_small_cases() -> None:
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert apportion(0, [5, 7]) == [0, 0]
    assert apportion(7, [0, 3]) == [0, 7]


@given(
    st.integers(0, 10**9),
    st.lists(st.integers(0, 10**9), min_size=1, max_size=8).filter(lambda ws: sum(ws) > 0),
)
def test_apportion_is_exact_and_within_a_unit_of_the_quota(total: int, weights: list[int]) -> None:
    parts = apportion(total, weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        assert part * sum(weights) - total * weight in range(-sum(weights), sum(weights))


# -- random payment graphs ------------------------------------------------------------


Step = tuple[str, int, int, int, int]
#: A flow of the graph, by its index modulo how many there are.
flow_picks = picks(10**6)


@st.composite
def payment_graphs(draw: st.DrawFn) -> tuple[int, list[int], list[Step]]:
    """A number of wallets, their opening fundings (fen) and steps (op, a, b, fen, seconds)."""
    wallets = draw(st.integers(3, 6))
    fundings = draw(st.lists(st.integers(1, 50_000), min_size=wallets, max_size=wallets))
    step = st.tuples(
        st.sampled_from(["pay"] * 6 + ["fund", "defund"]),
        st.integers(0, wallets - 1),
        st.integers(0, wallets - 1),
        st.integers(1, 40_000),
        st.sampled_from([0, 0, 1, 60, 3600]),
    )
    return wallets, fundings, draw(st.lists(step, min_size=1, max_size=24))


def _run(wallets: int, fundings: list[int], steps: list[Step]) -> Town:
    town = Town.build(wallets)
    for index, fen in enumerate(fundings):
        town.bank.fund(town.wallets[index], dcep.Amount(fen))
    for op, a, b, fen, seconds in steps:
        town.clock.advance(seconds=seconds)
        wallet = town.wallets[a]
        amount = min(fen, wallet.balance.fen)
        if op == "fund":
            town.bank.fund(wallet, dcep.Amount(fen))
        elif amount and op == "defund":
            wallet.defund(dcep.Amount(amount))
        elif amount and a != b:
            wallet.pay(town.wallets[b], dcep.Amount(amount))
    return town


def _reference_forward(
    view: RegulatorView, seed: int, rule: AllocationRule, through_banks: bool
) -> dict[int, int]:
    """A naive forward trace: replay every flow in order, whole queues, no hop limit."""
    queues: dict[dcep.Address, collections.deque[list[int]]] = collections.defaultdict(
        collections.deque
    )  # FIFO: [fen, traced (0/1)] chunks
    held: dict[dcep.Address, int] = collections.defaultdict(int)  # haircut: traced fen
    poisoned: set[dcep.Address] = set()
    first = view.flow(seed)
    follows = {first.payee} if view.role(first.payee) is PartyRole.BANK else set()
    edges: dict[int, int] = {}
    for flow in view.flows():
        payer, payee, amount = flow.payer, flow.payee, flow.amount_fen
        role = view.role(payer)
        live = role is PartyRole.WALLET or payer in follows
        live = live or (through_banks and role is PartyRole.BANK)
        balance = view._account(payer).balance_before(flow.time_us, flow.entry_number)
        chunks: list[list[int]] = []
        left = amount
        while role is not PartyRole.CENTRAL_BANK and left:
            chunk = queues[payer][0]
            take = min(left, chunk[0])
            chunks.append([take, chunk[1]])
            chunk[0] -= take
            left -= take
            if not chunk[0]:
                queues[payer].popleft()
        if role is PartyRole.CENTRAL_BANK:
            chunks = [[amount, 0]]
        if flow.entry_number == seed:
            traced = amount
            chunks = [[amount, 1]]
        elif not live:
            traced = 0
            chunks = [[amount, 0]]
        elif rule is AllocationRule.FIFO:
            traced = sum(fen for fen, mark in chunks if mark)
        elif rule is AllocationRule.HAIRCUT:
            traced = apportion(amount, [held[payer], balance - held[payer]])[0]
            held[payer] -= traced
        else:
            traced = amount if payer in poisoned else 0
        queues[payee].extend(chunks)
        if traced:
            edges[flow.entry_number] = traced
            held[payee] += traced
            poisoned.add(payee)
    return edges


def _origins(town: Town, pick: int) -> Iterator[int | dcep.Address]:
    flows = list(town.view.flows())
    yield flows[pick % len(flows)].entry_number
    yield town.address(pick % len(town.wallets))


@given(payment_graphs(), flow_picks, st.integers(1, 6), st.booleans(), st.booleans())
def test_every_trace_conserves_money(
    graph_spec: tuple[int, list[int], list[Step]],
    pick: int,
    hops: int,
    windowed: bool,
    through_banks: bool,
) -> None:
    town = _run(*graph_spec)
    town.view._check()
    times = sorted({flow.time_us for flow in town.view.flows()})
    start = times[pick % len(times)] if windowed else None
    for origin in _origins(town, pick):
        if isinstance(origin, int) and start is not None:
            start = min(start, town.view.flow(origin).time_us)
        reached: dict[tuple[TraceDirection, AllocationRule], frozenset[dcep.Address]] = {}
        for rule in RULES:
            for trace in (trace_forward, trace_backward):
                graph = trace(
                    town.view,
                    origin,
                    rule=rule,
                    max_hops=hops,
                    start_us=start,
                    through_banks=through_banks,
                )
                graph.check()
                reached[graph.direction, rule] = graph.addresses()
                untraced = sum(node.untraced_fen for node in graph.nodes)
                created = sum(node.seeded_fen + node.absorbed_fen for node in graph.nodes)
                assert untraced == created
        for direction in TraceDirection:
            poison = reached[direction, AllocationRule.POISON]
            assert reached[direction, AllocationRule.HAIRCUT] <= poison
            assert reached[direction, AllocationRule.FIFO] <= poison


@given(payment_graphs(), flow_picks, st.booleans())
def test_forward_traces_agree_with_a_naive_replay(
    graph_spec: tuple[int, list[int], list[Step]], pick: int, through_banks: bool
) -> None:
    town = _run(*graph_spec)
    flows = [flow for flow in town.view.flows() if flow.payer != town.view.central_bank]
    seed = flows[pick % len(flows)].entry_number
    for rule in RULES:
        graph = trace_forward(
            town.view, seed, rule=rule, max_hops=1000, through_banks=through_banks
        )
        assert _edges(graph) == _reference_forward(town.view, seed, rule, through_banks)


def _reference_backward_fifo(view: RegulatorView, seed: int) -> dict[int, int]:
    """A naive backward FIFO trace: every fen carries the entries it came through."""
    first = view.flow(seed)
    forced = first.payer if view.role(first.payer) is PartyRole.BANK else None
    queues: dict[dcep.Address, collections.deque[tuple[int, tuple[int, ...]]]] = (
        collections.defaultdict(collections.deque)
    )
    for flow in view.flows():
        role = view.role(flow.payer)
        chunks: list[tuple[int, tuple[int, ...]]] = []
        left = flow.amount_fen
        while role is not PartyRole.CENTRAL_BANK and left:
            fen, history = queues[flow.payer].popleft()
            if fen > left:
                queues[flow.payer].appendleft((fen - left, history))
                fen = left
            chunks.append((fen, history))
            left -= fen
        if role is PartyRole.CENTRAL_BANK:
            chunks = [(flow.amount_fen, ())]
        # Money paid by a holder a trace does not go through forgets where it came from.
        live = role is PartyRole.WALLET or flow.payer == forced
        moved = [
            (fen, (history if live else ()) + (flow.entry_number,)) for fen, history in chunks
        ]
        if flow.entry_number == seed:
            edges: collections.Counter[int] = collections.Counter()
            for fen, history in moved:
                for number in history:
                    edges[number] += fen
            return dict(edges)
        queues[flow.payee].extend(moved)
    raise AssertionError("the seed is not a flow")


@given(payment_graphs(), flow_picks)
def test_backward_fifo_agrees_with_a_naive_replay(
    graph_spec: tuple[int, list[int], list[Step]], pick: int
) -> None:
    town = _run(*graph_spec)
    flows = list(town.view.flows())
    seed = flows[pick % len(flows)].entry_number
    graph = trace_backward(town.view, seed, rule=AllocationRule.FIFO, max_hops=1000)
    assert _edges(graph) == _reference_backward_fifo(town.view, seed)


@given(payment_graphs(), flow_picks, st.booleans())
def test_backward_haircut_from_the_last_empty_moment_is_the_whole_history(
    graph_spec: tuple[int, list[int], list[Step]], pick: int, windowed: bool
) -> None:
    """Decomposing from where a holder last held nothing changes no fen of the trace."""
    town = _run(*graph_spec)
    flows = list(town.view.flows())
    seed = flows[pick % len(flows)]
    start = flows[pick % (flows.index(seed) + 1)].time_us if windowed else None
    bounded = trace_backward(
        town.view, seed.entry_number, rule=AllocationRule.HAIRCUT, max_hops=6, start_us=start
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_Backward, "emptied", lambda self, index, until: (self.start, 0))
        whole = trace_backward(
            town.view, seed.entry_number, rule=AllocationRule.HAIRCUT, max_hops=6, start_us=start
        )
    assert bounded == whole


@pytest.fixture(scope="module")
def planted() -> tuple[RegulatorView, tuple[dcep.sim.Case, ...]]:
    """A small simulated city with every typology planted once."""
    ledger = dcep.Ledger()
    view = RegulatorView.attach(ledger)
    economy = dcep.sim.Economy(seed=5, wallets=200, payments=1_500, days=3, cases_per_pattern=1)
    result = dcep.sim.simulate(economy, ledger)
    return view, result.cases


@pytest.mark.parametrize("rule", list(AllocationRule))
def test_a_trace_from_a_case_follows_its_entries_and_keeps_every_holder_balanced(
    planted: tuple[RegulatorView, tuple[dcep.sim.Case, ...]], rule: AllocationRule
) -> None:
    view, cases = planted
    for case in cases:
        hops = len(case.entries) + 1
        forward = trace_forward(view, case.entries, rule=rule, max_hops=hops)
        forward.check()  # money conserved at every node
        assert forward.origin_entries == tuple(sorted(set(case.entries)))
        assert forward.origin_entry is None
        assert set(case.entries) <= {edge.entry_number for edge in forward.edges}
        # Backward, from where the money left the set: FIFO may explain it by other,
        # earlier money, so only the balance of every holder is a property here.
        backward = trace_backward(view, list(case.entries), rule=rule, max_hops=hops)
        backward.check()
        assert backward.edges
        # From its own entries, a forward trace reaches the case's wallets.
        assert set(case.members) <= forward.addresses() | backward.addresses()


def test_a_trace_from_no_entries_or_from_other_things_is_refused(
    planted: tuple[RegulatorView, tuple[dcep.sim.Case, ...]],
) -> None:
    view, _ = planted
    for origin in ([], (1.5,), ["7"]):
        with pytest.raises(dcep.InvalidFieldError) as caught:
            trace_forward(view, origin)  # type: ignore[arg-type]
        assert caught.value.field == "origin"
