"""The regulator's view: built from the journal only, and blind to identity.

The view must come out the same whether it followed the ledger live or read
a store afterwards; its indexes must agree with the ledger's balances; and
no identity a bank collected (phone, ID number, name, linked account, the
KYC commitment, memos) may be reachable from it, from its records, from
traces, alerts or reports — checked by the names of every public attribute
and export, and by walking every object the view holds, private ones too.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import enum
import importlib
import inspect
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import dcep
import dcep.instructions
import dcep.journal
import dcep.regulator
import dcep.values
from dcep import RegulatorView, screen, trace_backward, trace_forward
from dcep.instructions import InstructionKind
from dcep.regulator import AllocationRule, FundsFlow, PartyRole, daily_report
from dcep.regulator._aml import day_of

#: The regulator side's modules with public names, whose exports must carry no identity.
#: (``_account_index`` and ``_trace_walk`` export nothing public: the walk below reaches
#: every object they hold through the view's own slots.)
MODULES = (
    "dcep.regulator._records",
    "dcep.regulator._log",
    "dcep.regulator._view",
    "dcep.regulator._flowgraph",
    "dcep.regulator._tracing",
    "dcep.regulator._alerts",
    "dcep.regulator._aml",
    "dcep.regulator._reports",
)
#: Parts of attribute names that would mean identity is being held.
IDENTITY_WORDS = ("phone", "id_number", "kyc", "customer", "account", "memo", "holder", "person")


@attrs.define
class City:
    """A small economy whose every identity string is remembered, to search for later."""

    ledger: dcep.Ledger
    clock: dcep.ManualClock
    pboc: dcep.CentralBank
    banks: tuple[dcep.Bank, ...]
    wallets: list[dcep.Wallet] = attrs.Factory(list)
    secrets: list[str] = attrs.Factory(list)
    regulators: list[dcep.Regulator] = attrs.Factory(list)
    #: What the banks disclosed, sealed to the regulator: the view must not keep it.
    sealed: list[bytes] = attrs.Factory(list)

    @classmethod
    def build(cls, ledger: dcep.Ledger, clock: dcep.ManualClock) -> City:
        pboc = dcep.CentralBank(ledger, seed=99)
        banks = (
            pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=dcep.cny("5000000")),
            pboc.authorise_bank("Bank of Hebei", code="MA.156.1301.01", reserves=dcep.cny("5000")),
        )
        pboc.issue(banks[0], dcep.cny("5000000"))
        pboc.issue(banks[1], dcep.cny("5000"))
        return cls(ledger, clock, pboc, banks)

    def open(self, category: int, bank: int = 0) -> dcep.Wallet:
        index = len(self.wallets)
        phone, id_number = f"1370000{index:04d}", f"4401{index:014d}"
        name, account = f"Zhang Wei {index}", f"9558-{index:06d}"
        self.secrets += [phone, id_number, name, account]
        operator = self.banks[bank]
        if category == 4:
            wallet = operator.open_wallet(category=4, phone=phone, name=name)
        else:
            operator.pay_in(account, dcep.cny("90000"))
            wallet = operator.open_wallet(
                category=category,
                phone=phone,
                id_number=id_number,
                name=name,
                linked_account=account,
                in_person=category == 1,
            )
        self.wallets.append(wallet)
        return wallet

    def run(self) -> None:
        """Fund, pay (with memos naming people), defund and fund at the counter."""
        a, b, c = self.open(1), self.open(2), self.open(4, bank=1)
        self.banks[0].fund(a, dcep.cny("5000"))
        self.banks[0].fund(b, dcep.cny("800"))
        self.banks[1].fund(c, dcep.cny("300"))  # no linked account: cash at the counter
        self.secrets.append("rent for Zhang Wei 0")
        for day in range(3):
            self.clock.advance(hours=5)
            a.pay(b, dcep.cny("120"), memo="rent for Zhang Wei 0")
            b.pay(c, dcep.cny(f"{day + 1}0"), memo="13700000001")
            c.pay(a, dcep.cny("5"))
        b.defund(dcep.cny("100"))

    def supervise(self) -> None:
        """Two regulators freeze and lift; each asks who holds a wallet; ICBC answers.

        With the first three wallets (two at ICBC, the anonymous one at Hebei), all on
        the first day when run after :meth:`run`.
        """
        a, b, c = self.wallets[:3]
        police = self.pboc.appoint_regulator("AML bureau")
        court = self.pboc.appoint_regulator("People's court")
        self.regulators += [police, court]
        self.clock.advance(hours=1)
        police.freeze(a.address, "case 1: layering")
        self.clock.advance(seconds=600)
        court.freeze(c.address, "order 7")
        self.clock.advance(hours=1)
        court.unfreeze(a.address, "case 1 closed")
        first = police.issue_warrant(b.address, "case 1")
        court.issue_warrant(c.address, "order 7")
        self.clock.advance(hours=1)
        disclosure = self.banks[0].answer_warrant(police.address, first, b.address)
        self.sealed.append(disclosure.sealed)


def _city(ledger: dcep.Ledger | None = None) -> tuple[City, RegulatorView]:
    clock = dcep.ManualClock()
    ledger = ledger if ledger is not None else dcep.Ledger(clock=clock)
    view = RegulatorView.attach(ledger)
    city = City.build(ledger, clock)
    city.run()
    city.supervise()
    return city, view


def _supervision(view: RegulatorView) -> tuple[object, ...]:
    return (
        view.regulators(),
        (view.freeze_count, view.unfreeze_count, view.warrant_count, view.disclosure_count),
        view.freezes(),
        view.frozen_wallets(),
        view.warrants(),
        view.disclosures(),
    )


def _summary(view: RegulatorView) -> tuple[object, ...]:
    return (
        view.entry_count,
        view.central_bank,
        view.banks(),
        view.wallets(),
        tuple(view.flows()),
        {w.address: view.balance_fen(w.address) for w in view.wallets()},
        _supervision(view),
    )


def test_live_and_stored_views_agree(tmp_path: Path) -> None:
    clock = dcep.ManualClock()
    path = tmp_path / "city.db"
    ledger = dcep.Ledger.open(path, clock=clock)
    city, live = _city(ledger)
    for wallet in city.wallets:
        assert live.balance_fen(wallet.address) == ledger.balance(wallet.address).fen
    ledger.close()
    stored = RegulatorView.from_store(dcep.journal.SqliteStore(path))
    assert _summary(stored) == _summary(live)
    live._check()
    stored._check()


def test_a_view_catches_up_from_a_store_then_follows_the_ledger() -> None:
    clock = dcep.ManualClock()
    ledger = dcep.Ledger.with_journal(clock=clock)
    city = City.build(ledger, clock)
    city.run()
    journal = ledger.journal
    assert journal is not None
    view = RegulatorView.from_store(journal.store)
    unsubscribe = view.follow(ledger)
    city.supervise()
    city.run()
    assert view.freeze_count == 2
    assert _summary(view) == _summary(RegulatorView.from_store(journal.store))
    assert view.catch_up(journal.store) == 0  # nothing new, and overlap is harmless
    unsubscribe()
    city.wallets[0].pay(city.wallets[1], dcep.cny("1"))
    assert view.entry_count == ledger.entry_count - 1
    assert view.catch_up(journal.store) == 1


def test_following_a_ledger_with_history_is_refused() -> None:
    city, _ = _city()
    with pytest.raises(dcep.JournalError) as caught:
        RegulatorView.attach(city.ledger)
    assert caught.value.reason is dcep.Reason.JOURNAL_CHAIN_BROKEN


def test_a_tampered_store_is_refused() -> None:
    ledger = dcep.Ledger.with_journal()
    City.build(ledger, dcep.ManualClock()).run()
    assert ledger.journal is not None
    store = ledger.journal.store
    assert isinstance(store, dcep.journal.MemoryStore)
    number, body, digest = store._entries[5]
    store._entries[5] = (number, body[:-1] + bytes([body[-1] ^ 1]), digest)
    with pytest.raises(dcep.JournalError) as caught:
        RegulatorView.from_store(store)
    assert caught.value.entry == 5


def test_flows_say_who_paid_whom_and_through_which_bank() -> None:
    city, view = _city()
    a, b, c = city.wallets
    icbc, hebei = city.banks
    assert view.role(icbc.address) is PartyRole.BANK
    assert view.role(a.address) is PartyRole.WALLET
    assert view.role(view.central_bank or a.address) is PartyRole.CENTRAL_BANK
    assert view.bank(hebei.address).code == hebei.code
    assert view.wallet(c.address).category is dcep.WalletCategory.ANONYMOUS
    assert view.wallet(c.address).operator == hebei.address
    kinds = collections.Counter(flow.kind for flow in view.flows())
    assert kinds == {
        InstructionKind.ISSUE: 2,
        InstructionKind.FUND: 3,
        InstructionKind.TRANSFER: 9,
        InstructionKind.DEFUND: 1,
    }
    issue = next(view.flows())
    assert (issue.payer, issue.payee) == (view.central_bank, icbc.address)
    assert issue.bank == icbc.address
    fundings = [f for f in view.flows() if f.kind is dcep.instructions.InstructionKind.FUND]
    assert [f.cash for f in fundings] == [False, False, True]
    defund = next(f for f in view.flows() if f.kind is dcep.instructions.InstructionKind.DEFUND)
    assert (defund.payer, defund.payee, defund.amount_fen) == (b.address, icbc.address, 10_000)
    # ICBC's index holds its own flows and its wallets' payments, Hebei's the anonymous wallet's.
    for flow in view.bank_flows(icbc.address):
        assert (
            icbc.address in (flow.bank, flow.payer, flow.payee)
            or flow.kind is InstructionKind.TRANSFER
        )
    assert {f.entry_number for f in view.bank_flows(hebei.address)} >= {
        f.entry_number for f in view.flows_in(c.address)
    }


def test_windows_and_balances_use_the_indexes() -> None:
    city, view = _city()
    a, b, _ = city.wallets
    payments = list(view.flows_out(a.address))
    assert [f.amount_fen for f in payments] == [12_000] * 3
    second = payments[1].time_us
    assert list(view.flows_out(a.address, second, second + 1)) == [payments[1]]
    assert list(view.flows_out(a.address, end_us=second)) == [payments[0]]
    assert view.balance_fen(a.address, second) == 500_000 - 12_000 + 500
    assert view.balance_fen(b.address) == city.ledger.balance(b.address).fen
    assert list(view.flows(second, second)) == []
    assert view.flow_count == sum(1 for _ in view.flows())
    with pytest.raises(dcep.UnknownPartyError):
        view.wallet(city.banks[0].address)
    with pytest.raises(dcep.UnknownPartyError):
        view.bank(a.address)
    with pytest.raises(dcep.InvalidFieldError):
        view.flow(0)  # genesis moved no money
    assert "RegulatorView" in repr(view)


# -- supervision: freezes, warrants, disclosures -------------------------------------


def _kinds_in(store: dcep.journal.Store) -> dict[int, dcep.instructions.InstructionKind]:
    """Each stored entry's instruction kind, by entry number."""
    kinds = {}
    for number, body, _ in store.read_entries():
        envelope = dcep.journal.JournalEntry.decode(body, bytes(32)).envelope
        kinds[number] = dcep.instructions.SignedInstruction.from_bytes(envelope).instruction.KIND
    return kinds


def test_freezes_warrants_and_disclosures_are_counted_and_listed() -> None:
    clock = dcep.ManualClock()
    ledger = dcep.Ledger.with_journal(clock=clock)
    live = RegulatorView.attach(ledger)
    city = City.build(ledger, clock)
    city.run()
    city.supervise()
    a, b, c = (wallet.address for wallet in city.wallets)
    icbc, hebei = (bank.address for bank in city.banks)
    police, court = (regulator.address for regulator in city.regulators)
    assert [profile.address for profile in live.regulators()] == [police, court]
    assert live.role(court) is PartyRole.REGULATOR
    counts = (live.freeze_count, live.unfreeze_count, live.warrant_count, live.disclosure_count)
    assert counts == (2, 1, 2, 1)
    # Which wallets are frozen now, by whom, since when and why; and what was lifted.
    lifted, held = live.freezes()
    assert (lifted.wallet, lifted.operator, lifted.regulator) == (a, icbc, police)
    assert (lifted.reason, lifted.in_force) == ("case 1: layering", False)
    assert (lifted.lifted_by, lifted.lift_reason) == (court, "case 1 closed")
    assert (held.wallet, held.operator, held.regulator, held.reason) == (
        c,
        hebei,
        court,
        "order 7",
    )
    assert held.in_force
    assert (held.lifted_by, held.lifted_entry, held.lift_reason) == (None, None, None)
    assert live.frozen_wallets() == (held,)
    assert [live.is_frozen(w.address) for w in city.wallets] == [False, False, True]
    assert [ledger.is_frozen(w.address) for w in city.wallets] == [False, False, True]
    # Every warrant: who asked, about which wallet, why; whether and by which entry answered.
    asked, pending = live.warrants()
    assert (asked.regulator, asked.wallet, asked.operator) == (police, b, icbc)
    assert (asked.reason, asked.answered) == ("case 1", True)
    assert (pending.regulator, pending.wallet, pending.operator) == (court, c, hebei)
    assert (pending.answered, pending.answer_entry, pending.answered_at_us) == (False, None, None)
    assert live.disclosures() == (asked,)
    assert live.warrant(police, asked.warrant_id) is asked
    with pytest.raises(dcep.UnknownPartyError) as caught:
        live.warrant(court, asked.warrant_id)  # ids are per regulator
    assert caught.value.reason is dcep.Reason.UNKNOWN_WARRANT
    # Each record names the entries it was read from.
    assert ledger.journal is not None
    kinds = _kinds_in(ledger.journal.store)
    assert [kinds[f.entry_number] for f in (lifted, held)] == [InstructionKind.FREEZE] * 2
    assert kinds[lifted.lifted_entry or 0] is InstructionKind.UNFREEZE
    assert [kinds[w.entry_number] for w in (asked, pending)] == [InstructionKind.WARRANT] * 2
    assert kinds[asked.answer_entry or 0] is InstructionKind.DISCLOSURE
    assert lifted.time_us < held.time_us < (lifted.lifted_at_us or 0)
    assert asked.time_us < (asked.answered_at_us or 0)
    # Hebei answers the next day; windows select by the time of the order or the answer.
    clock.advance(days=1)
    city.banks[1].answer_warrant(court, pending.warrant_id, c)
    answered = live.warrant(court, pending.warrant_id)
    assert answered.answer_entry == ledger.entry_count - 1
    assert live.disclosures() == (asked, answered)
    assert live.disclosures(start_us=(asked.answered_at_us or 0) + 1) == (answered,)
    assert live.warrants(start_us=(asked.answered_at_us or 0) + 1) == ()
    assert live.freezes(end_us=held.time_us) == (lifted,)
    assert live.freezes(start_us=held.time_us) == (live.frozen_wallets()[0],)
    # Rebuilt from the store, the view counts and lists the same.
    stored = RegulatorView.from_store(ledger.journal.store)
    assert _supervision(stored) == _supervision(live)
    assert stored.disclosure_count == 2
    assert _summary(stored) == _summary(live)


def test_daily_reports_count_freezes_and_answered_warrants() -> None:
    city, view = _city()
    city.clock.advance(days=1)
    city.banks[1].answer_warrant(
        city.regulators[1].address, view.warrants()[1].warrant_id, city.wallets[2].address
    )
    first = day_of(view.freezes()[0].time_us)
    times = [record.time_us for record in view.freezes()] + [w.time_us for w in view.warrants()]
    assert {day_of(time_us) for time_us in times} == {first}
    second = first + dt.timedelta(days=1)
    supervision: dict[tuple[dt.date, str], tuple[int, int]] = {}
    for day in (first, second):
        for bank in daily_report(view, day, rules=()).banks:
            supervision[day, bank.code] = (bank.freezes_ordered, bank.warrants_answered)
    icbc, hebei = (str(bank.code) for bank in city.banks)
    assert supervision == {
        (first, icbc): (1, 1),
        (first, hebei): (1, 0),
        (second, icbc): (0, 0),
        (second, hebei): (0, 1),
    }
    report = daily_report(view, first, rules=())
    assert "freezes ordered: 1  warrants answered: 1" in report.to_text()
    data = json.loads(json.dumps(report.to_dict()))
    assert [bank["freezes_ordered"] for bank in data["banks"]] == [1, 1]


def test_a_supervision_entry_the_ledger_could_not_have_accepted_is_refused() -> None:
    city, view = _city()
    before = view.entry_count
    wallet = city.wallets[0].address  # its freeze was lifted: it is not frozen
    for instruction in (
        dcep.instructions.Unfreeze(900, 900, wallet=wallet, reason="again"),
        dcep.instructions.Freeze(
            901, 901, wallet=city.banks[0].address, reason="a bank, not a wallet"
        ),
    ):
        signed = dcep.instructions.SignedInstruction.sign(
            instruction, dcep.values.SigningKey(bytes(32)), city.ledger.network_id
        )
        with pytest.raises(dcep.JournalError) as caught:
            view._ingest(view.entry_count, city.clock.now_us(), signed, ())
        assert caught.value.reason is dcep.Reason.JOURNAL_REPLAY_DIVERGED
        assert caught.value.entry == before
    assert view.entry_count == before
    assert (view.freeze_count, view.unfreeze_count) == (2, 1)


# -- no identity without a warrant ---------------------------------------------------


def _identity_word(name: str) -> str | None:
    lowered = name.lower()
    if lowered == "name" or lowered.endswith("_name") or lowered.startswith("name_"):
        return name
    return next((word for word in IDENTITY_WORDS if word in lowered), None)


def _public_names(value: object) -> Iterator[str]:
    fields: tuple[Any, ...] = getattr(type(value), "__attrs_attrs__", ())
    yield from (field.name for field in fields)
    yield from (name for name in dir(value) if not name.startswith("_"))


def _exports() -> Iterator[tuple[str, object]]:
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            yield name, getattr(module, name)


@pytest.mark.parametrize(("name", "export"), list(_exports()), ids=[n for n, _ in _exports()])
def test_no_export_has_an_identity_field(name: str, export: object) -> None:
    assert _identity_word(name) is None
    if isinstance(export, type) and not issubclass(export, enum.Enum):
        assert [n for n in _public_names(export) if _identity_word(n)] == []
        assert inspect.getdoc(export)
        if not inspect.isabstract(export) and getattr(export, "_is_protocol", False) is False:
            assert getattr(export, "__final__", False) is True, name
    if inspect.isfunction(export):
        assert inspect.getdoc(export)
        assert [p for p in inspect.signature(export).parameters if _identity_word(p)] == []


def _call_every_public_method(view: RegulatorView, city: City) -> Iterator[object]:
    """Every public attribute of the view, and what every public method returns."""
    addresses = [w.address for w in city.wallets] + [b.address for b in city.banks]
    for name in dir(view):
        if name.startswith("_"):
            continue
        value = getattr(view, name)
        if not callable(value):
            yield value
            continue
        if name in {"attach", "follow", "from_store", "catch_up", "add_entry"}:
            continue  # builders: they take a ledger, a store or an entry, and return no data
        required = [
            p for p in inspect.signature(value).parameters.values() if p.default is p.empty
        ]
        if not required:
            yield value()
        elif [p.name for p in required] == ["entry_number"]:
            yield from (value(f.entry_number) for f in view.flows())
        elif [p.name for p in required] == ["regulator", "warrant_id"]:
            yield from (value(w.regulator, w.warrant_id) for w in view.warrants())
        else:
            for address in addresses:
                with contextlib.suppress(dcep.UnknownPartyError):
                    yield value(address)


def _walk(value: object, seen: set[int] | None = None) -> Iterator[object]:
    """Every object reachable from ``value``, through containers, slots and ``__dict__``."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    yield value
    if isinstance(value, str | bytes | int | float | bool | type(None) | enum.Enum):
        return
    if isinstance(value, type | type(_walk)):
        return
    children: list[object] = []
    if isinstance(value, dict):
        children += [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset | collections.deque | Iterator):
        children += list(value)
    for cls in type(value).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if hasattr(value, slot):
                children.append(getattr(value, slot))
    children += list(getattr(value, "__dict__", {}).values())
    for child in children:
        yield from _walk(child, seen)


def _assert_blind(root: object, city: City) -> None:
    secrets = city.secrets
    for item in _walk(root):
        assert not isinstance(
            item, dcep.values.CustomerRecord | dcep.Ledger | dcep.Bank | dcep.Wallet
        )
        assert not isinstance(
            item,
            dcep.instructions.SignedInstruction | dcep.instructions.Instruction | dcep.Regulator,
        )
        if isinstance(item, str):
            assert not [secret for secret in secrets if secret in item], item
        if isinstance(item, bytes):
            assert not [s for s in secrets if s.encode() in item], item
            # Nor any part of a sealed disclosure (its first 32 bytes are an ephemeral key).
            assert not [seal for seal in city.sealed if seal[32:64] in item], item
        if attrs.has(type(item)):
            assert [n for n in _public_names(item) if _identity_word(n)] == [], item


def test_the_view_holds_no_identity() -> None:
    city, view = _city()
    assert city.secrets
    # Supervision too: a freeze in force, one lifted, a warrant answered, one not.
    assert (view.freeze_count, view.unfreeze_count, view.disclosure_count) == (2, 1, 1)
    assert len(city.sealed) == 1
    _assert_blind(view, city)  # everything it holds, private indexes included
    _assert_blind(list(_call_every_public_method(view, city)), city)
    assert not [secret for secret in city.secrets if secret in repr(view)]


def test_traces_alerts_and_reports_hold_no_identity() -> None:
    city, view = _city()
    results: list[object] = []
    for rule in AllocationRule:
        for trace in (trace_forward, trace_backward):
            graph = trace(view, city.wallets[1].address, rule=rule)
            results += [graph, graph.to_dict(), json.dumps(graph.to_dict())]
    alerts = screen(view)
    day = day_of(next(view.flows()).time_us)
    report = daily_report(view, day)
    results += [alerts, [a.to_dict() for a in alerts], report, report.to_dict(), report.to_text()]
    _assert_blind(results, city)


def test_flow_records_are_frozen() -> None:
    flow = FundsFlow(
        1,
        2,
        dcep.instructions.InstructionKind.TRANSFER,
        dcep.Address(bytes(20)),
        dcep.Address(bytes(20)),
        5,
    )
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        flow.amount_fen = 6  # type: ignore[misc]
    assert dt.date(2026, 1, 1) == day_of(dcep.ManualClock().now_us())
