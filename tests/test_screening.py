"""Screening in one pass: the shared window, the live screener and sub-wallet families.

``screen`` reads the window once (a ``FlowWindow``) and hands it to every
rule; the alerts must be exactly those of each rule reading the view on its
own.  The gather-scatter detector slides its window instead of re-reading
it from each inflow; it must agree with the quadratic reading over random
payment graphs.  A ``Screener`` fed a simulation in slices must report every
case a full screen finds, each once.  A wallet and its sub-wallets are one
family: the view says who opened whom, and no rule takes a move inside a
family for a counterparty.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from hypothesis import given

import dcep
import dcep.core
import dcep.journal
import dcep.regulator
import dcep.sim
from dcep import RegulatorView, screen
from dcep.regulator import (
    Alert,
    FanRule,
    FlowWindow,
    FundsFlow,
    GatherScatterRule,
    Screener,
    WindowRule,
    calibrate,
    default_rules,
)
from dcep.regulator._typologies import DAY_US, HOUR_US

from .test_tracing import Step, _run, payment_graphs


@pytest.fixture(scope="module")
def simulated() -> tuple[dcep.sim.SimulationResult, list[dcep.core.LedgerEntry]]:
    """A small simulated city with every typology planted, and its entries in order."""
    ledger = dcep.Ledger()
    entries: list[dcep.core.LedgerEntry] = []
    ledger.subscribe(entries.append)
    economy = dcep.sim.Economy(seed=3, wallets=300, payments=3_000, days=3, cases_per_pattern=2)
    return dcep.sim.simulate(economy, ledger), entries


def _view(entries: list[dcep.core.LedgerEntry]) -> RegulatorView:
    view = RegulatorView()
    for entry in entries:
        view.add_entry(entry)
    return view


def _key(alert: Alert) -> tuple[object, ...]:
    return (alert.rule, alert.subject, alert.entries, alert.start_us, alert.time_us)


def test_one_shared_window_finds_what_each_rule_finds_alone(
    simulated: tuple[dcep.sim.SimulationResult, list[dcep.core.LedgerEntry]],
) -> None:
    result, entries = simulated
    view = _view(entries)
    middle = (result.start_us + result.end_us) // 2
    for start, end in ((0, 2**63), (result.start_us, middle), (middle, result.end_us)):
        shared = screen(view, start_us=start, end_us=end)
        alone = [a for rule in default_rules() for a in rule.evaluate(view, start, end)]
        assert sorted(map(_key, shared)) == sorted(map(_key, alone))
        # The same alerts; screen's scores are calibrated across rules, in order within each.
        active = len(FlowWindow(view, start, end).active_wallets())
        assert sorted(map(_key, calibrate(alone, active))) == sorted(map(_key, shared))
        assert all(isinstance(rule, WindowRule) for rule in default_rules())
    window = FlowWindow(view, result.start_us, middle)
    assert all(result.start_us <= f.time_us < middle for f in window.flows)
    assert len(window.flows) == sum(1 for _ in view.flows(result.start_us, middle))
    assert set(window.transfers) <= set(window.flows)
    assert window.shared("k", lambda: 1) == window.shared("k", lambda: 2) == 1


def _gather_scatter_by_rereading(
    rule: GatherScatterRule, view: RegulatorView, flows: list[FundsFlow], hub: dcep.Address
) -> Iterator[tuple[int, ...]]:
    """The detector as first written: each inflow re-reads the window after it."""
    first = 0
    while first < len(flows):
        if flows[first].payee != hub:
            first += 1
            continue
        began = flows[first].time_us
        episode = [f for f in flows[first:] if f.time_us - began < rule.window_us]
        gathered = [f for f in episode if f.payee == hub]
        scattered = [f for f in episode if f.payee != hub]
        total_in = sum(f.amount_fen for f in gathered)
        if (
            len({f.payer for f in gathered}) >= rule.many
            and len({f.payee for f in scattered}) >= rule.many
            and sum(f.amount_fen for f in scattered) * 100 >= total_in * rule.passed_percent
            and view.balance_fen(hub, before_entry=flows[first].entry_number) * 100
            <= total_in * rule.prior_percent
        ):
            yield tuple(f.entry_number for f in episode)
            first += len(episode)
        else:
            first += 1


@given(payment_graphs())
def test_the_sliding_gather_scatter_agrees_with_rereading_the_window(
    graph: tuple[int, list[int], list[Step]],
) -> None:
    town = _run(*graph)
    rule = GatherScatterRule(many=2, passed_percent=10, prior_percent=10_000, window_us=HOUR_US)
    window = FlowWindow(town.view)
    expected = sorted(
        entries
        for hub, flows in window.transfers_by_wallet().items()
        for entries in _gather_scatter_by_rereading(rule, town.view, flows, hub)
    )
    assert sorted(alert.entries for alert in rule.evaluate(town.view, 0, 2**63)) == expected


def test_a_screener_fed_slice_by_slice_reports_every_case_once(
    simulated: tuple[dcep.sim.SimulationResult, list[dcep.core.LedgerEntry]],
) -> None:
    _, entries = simulated
    view = RegulatorView()
    screener = Screener(view)
    reported: list[Alert] = []
    for index, entry in enumerate(entries):
        view.add_entry(entry)
        if index % 2_000 == 1_999:
            reported += screener.update()
    reported += screener.update()
    assert screener.update() == ()  # nothing new, nothing reported
    assert tuple(reported) == screener.alerts
    full = screen(view)
    for alert in full:  # every case a full screen finds, the screener found
        assert any(a.rule == alert.rule and set(a.entries) & set(alert.entries) for a in reported)
    for alert in reported:  # and found nothing a full screen would not
        assert any(a.rule == alert.rule and set(a.entries) & set(alert.entries) for a in full)
    seen: dict[str, set[int]] = collections.defaultdict(set)
    for alert in reported:  # each case once: no entry in two alerts of one rule
        assert not seen[alert.rule] & set(alert.entries)
        seen[alert.rule] |= set(alert.entries)


def test_screener_settings_are_checked() -> None:
    view = RegulatorView()
    assert Screener(view).lookback_us == 7 * DAY_US  # the longest rule reach, a week
    assert Screener(view, [GatherScatterRule(window_us=9 * DAY_US)]).lookback_us == 9 * DAY_US
    assert Screener(view).update() == ()
    for bad in (0, 1.5, "7"):
        with pytest.raises(dcep.InvalidFieldError) as caught:
            Screener(view, lookback_us=bad)  # type: ignore[arg-type]
        assert caught.value.field == "lookback_us"


@attrs.define
class Families:
    """One bank, a parent that spreads money over its sub-wallets, and one that pays people."""

    ledger: dcep.Ledger
    view: RegulatorView
    parent: dcep.Wallet
    children: list[dcep.Wallet]
    payer: dcep.Wallet
    payees: list[dcep.Wallet]


def _families(size: int, path: Path | None = None) -> Families:
    clock = dcep.ManualClock()
    ledger = dcep.Ledger(clock=clock) if path is None else dcep.Ledger.open(path, clock=clock)
    view = RegulatorView.attach(ledger)
    pboc = dcep.CentralBank(ledger, seed=8)
    bank = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=dcep.cny("900000"))
    pboc.issue(bank, dcep.cny("900000"))
    wallets = []
    for index in range(2 + size):
        bank.pay_in(f"6222-{index:04d}", dcep.cny("90000"))
        wallets.append(
            bank.open_wallet(
                category=1,
                phone=f"1390000{index:04d}",
                id_number=f"1101{index:014d}",
                name=f"Li Na {index}",
                linked_account=f"6222-{index:04d}",
                in_person=True,
            )
        )
    parent, payer, payees = wallets[0], wallets[1], wallets[2:]
    for wallet in (parent, payer):
        bank.fund(wallet, dcep.cny("20000"))
    children = [parent.open_sub_wallet(seed=100 + index) for index in range(size)]
    for index in range(size):  # the same shape of money, inside a family and outside it
        clock.advance(seconds=300)
        parent.top_up(children[index], dcep.cny("1000"))
        payer.pay(payees[index], dcep.cny("1000"))
    clock.advance(seconds=300)
    children[0].pay(payees[0], dcep.cny("300"))  # a sub-wallet paying out is a transfer
    parent.collect(children[1], dcep.cny("500"))
    parent.close_sub_wallet(children[2])
    return Families(ledger, view, parent, children, payer, payees)


def test_the_view_links_sub_wallets_to_their_parent(tmp_path: Path) -> None:
    families = _families(6, tmp_path / "families.db")
    view, parent = families.view, families.parent.address
    assert [p.address for p in view.sub_wallets(parent)] == [c.address for c in families.children]
    for child in families.children:
        profile = view.wallet(child.address)
        assert profile.parent == view.parent_of(child.address) == parent
        assert view.family(child.address) == parent
        assert (profile.category, profile.operator) == (
            view.wallet(parent).category,
            view.wallet(parent).operator,
        )
        assert view.role(child.address) is dcep.regulator.PartyRole.WALLET
        assert view.balance_fen(child.address) == families.ledger.balance(child.address).fen
    assert view.parent_of(parent) is None
    assert view.family(parent) == parent
    assert view.sub_wallets(families.payer.address) == ()
    with pytest.raises(dcep.UnknownPartyError):
        view.sub_wallets(dcep.Address(bytes(20)))
    view._check()
    # A view read from the journal's store holds the same links.
    families.ledger.close()
    stored = RegulatorView.from_store(dcep.journal.SqliteStore(tmp_path / "families.db"))
    assert stored.wallets() == view.wallets()
    assert stored.sub_wallets(parent) == view.sub_wallets(parent)


def test_moves_inside_a_family_are_not_counterparties() -> None:
    families = _families(6)
    view = families.view
    window = FlowWindow(view)
    family = {families.parent.address, *(c.address for c in families.children)}
    internal = [f for f in window.flows if {f.payer, f.payee} <= family]
    assert len(internal) >= 6 + 2  # top-ups, a collection and a closing
    assert all(window.internal(f) and not window.is_transfer(f) for f in internal)
    assert not set(internal) & set(window.transfers)
    assert not any(set(internal) & set(flows) for flows in window.by_wallet().values())
    # The sub-wallet's own payment to an outsider is a counterparty relation.
    assert any(f.payer == families.children[0].address for f in window.transfers)
    # The same six payments of 1,000 CNY are a fan-out when they go to other people,
    # and nothing when they go to the parent's own sub-wallets.
    fan_out = FanRule(fan_in=False, many=5, passed_percent=20, population_multiple=1)
    subjects = {alert.subject for alert in fan_out.evaluate(view, 0, 2**63)}
    assert families.payer.address in subjects
    assert families.parent.address not in subjects
    for alert in screen(view):
        members = set(alert.wallets)
        assert not (alert.subject in family and members - {alert.subject} <= family)


def _alert(rule: str, subject: int, score: float) -> Alert:
    address = dcep.Address(subject.to_bytes(20, "big"))
    return Alert(rule, address, (address,), (subject,), (100,), 0, score=score)


def test_calibration_ranks_a_rare_rule_above_a_common_one_and_keeps_each_rules_order() -> None:
    rare = [_alert("rare", 1, 1.0)]
    common = [_alert("common", n, 1.0 + n / 1000) for n in range(2, 200)]
    everything = [_alert("all", n, 5.0) for n in range(1, 1001)]
    calibrated = calibrate([*rare, *common, *everything], active=1000)
    by_rule = collections.defaultdict(list)
    for alert in calibrated:
        by_rule[alert.rule].append(alert.score)
    assert by_rule["rare"] == [1.0]  # one wallet in a thousand: the full strength
    assert all(0 < score < 1.0 for score in by_rule["common"])
    assert by_rule["common"] == sorted(by_rule["common"])  # the order within a rule stays
    assert set(by_rule["all"]) == {0.0}  # a rule that flags everybody says nothing
    strong = calibrate([_alert("rare", 1, 99.0)], active=1000)
    assert strong[0].score == 3.0  # strength counts up to three times


def test_a_fan_to_quiet_wallets_scores_above_the_same_fan_to_busy_ones() -> None:
    families = _families(6)
    busy = families.payees
    view = families.view
    rule = FanRule(fan_in=False, many=5, passed_percent=20, population_multiple=1)
    (quiet_alert,) = [
        a for a in rule.evaluate(view, 0, 2**63) if a.subject == families.payer.address
    ]
    # The same payer, the same payments, after each payee has a life of its own.
    clock = families.ledger.clock
    assert isinstance(clock, dcep.ManualClock)
    for payee in busy:
        for other in busy:
            if other is not payee:
                clock.advance(seconds=60)
                payee.pay(other, dcep.cny("1"))
    clock.advance(seconds=2 * 86_400)
    start = clock.now_us()
    for payee in busy:
        clock.advance(seconds=300)
        families.payer.pay(payee, dcep.cny("1000"))
    (busy_alert,) = [
        a for a in rule.evaluate(view, start, 2**63) if a.subject == families.payer.address
    ]
    assert quiet_alert.score > busy_alert.score > 0


def _fan_out_by(how: str) -> tuple[RegulatorView, dcep.Address]:
    """One wallet paying six strangers ¥150 each: by payment, pending payment or offline token."""
    clock = dcep.ManualClock()
    ledger = dcep.Ledger(clock=clock)
    view = RegulatorView.attach(ledger)
    pboc = dcep.CentralBank(ledger, seed=9)
    bank = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=dcep.cny("90000"))
    pboc.issue(bank, dcep.cny("90000"))
    bank.pay_in("6222-0000", dcep.cny("9000"))
    payer = bank.open_wallet(
        category=1,
        phone="13900000000",
        id_number="110100000000000000",
        name="Li Na",
        linked_account="6222-0000",
        in_person=True,
    )
    payees = [bank.open_wallet(category=4, phone=f"1390000{n:04d}") for n in range(1, 7)]
    bank.fund(payer, dcep.cny("1200"))  # most of it goes out again: a fan, not spending
    device = payer.register_device(seed=1) if how == "offline" else None
    if device is not None:
        payer.load_offline(device, dcep.cny("1000"))
    tokens = []
    for payee in payees:
        clock.advance(seconds=300)
        if how == "transfer":
            payer.pay(payee, dcep.cny("150"))
        elif how == "pending":
            receipt = payer.pay_pending(
                payee, dcep.cny("150"), expires_at_us=clock.now_us() + 3_600_000_000
            )
            payee.post(payer, receipt.instruction_id)
        else:
            assert device is not None
            tokens.append(device.pay_offline(payee.address, dcep.cny("150")))
    if tokens:
        payer.settle_offline(tokens)
    return view, payer.address


@pytest.mark.parametrize("how", ["transfer", "pending", "offline"])
def test_a_fan_out_is_seen_however_the_wallets_pay(how: str) -> None:
    view, payer = _fan_out_by(how)
    window = FlowWindow(view)
    assert {f.payer for f in window.transfers} == {payer}
    assert len(window.transfers) == 6
    fan_out = FanRule(fan_in=False, many=5, passed_percent=20, population_multiple=1)
    assert payer in {alert.subject for alert in fan_out.evaluate(view, 0, 2**63)}
