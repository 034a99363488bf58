"""The seeded economy (``dcep.sim.simulate``): properties of a run, not copied outputs.

One module-wide run of a few thousand wallets is read by most tests through
the regulator's view of its journal: money is conserved, the planted cases
have the shape their typology says, the population and the rhythm of
payments look like the configuration, and the same seed gives the same
journal bytes.  The command line writes a database ``dcep verify`` accepts.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Final

import pytest

import dcep
import dcep.journal
import dcep.regulator
import dcep.sim
from dcep.cli._main import main
from dcep.instructions import InstructionKind
from dcep.regulator import FundsFlow, RegulatorView
from dcep.sim import Case, Economy, Role, SimulationResult, Typology

# Whole simulated economies, and a command-line run: seconds each.
pytestmark = pytest.mark.slow

ECONOMY: Final = Economy(seed=3, wallets=3_000, payments=30_000, days=14)
BEIJING: Final = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="module")
def run() -> tuple[SimulationResult, RegulatorView]:
    result = dcep.sim.simulate(ECONOMY, dcep.Ledger.with_journal())
    journal = result.ledger.journal
    assert journal is not None
    return result, RegulatorView.from_store(journal.store)


def _local(time_us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(time_us / 1e6, tz=BEIJING)


def _transfers(view: RegulatorView) -> list[FundsFlow]:
    return [flow for flow in view.flows() if flow.kind is InstructionKind.TRANSFER]


def _journal_bytes(result: SimulationResult) -> list[object]:
    journal = result.ledger.journal
    assert journal is not None
    return [*journal.store.read_entries(), *journal.store.read_blocks()]


def test_invariants_hold_and_money_is_conserved(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, view = run
    supply = result.ledger.check_invariants()
    wallets = result.ledger.wallets()
    assert sum(wallet.balance.fen for wallet in wallets) == supply.in_wallets.fen
    assert supply.issued.fen - supply.redeemed.fen == supply.in_vaults.fen + supply.in_wallets.fen
    # The regulator's view, built from the journal alone, holds the same balances.
    for wallet in wallets[:200]:
        assert view.balance_fen(wallet.address) == wallet.balance.fen


def test_every_payment_is_accounted_for_and_refusals_are_rare(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, view = run
    accounted = result.payments_settled + result.payments_refused + result.payments_skipped
    assert accounted == ECONOMY.payments
    assert len(_transfers(view)) == result.payments_settled
    assert result.payments_refused + result.payments_skipped <= ECONOMY.payments // 100
    assert sum(result.rejections.values()) <= ECONOMY.payments // 100


def test_entry_times_never_go_backwards_and_cover_the_days(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, view = run
    times = [flow.time_us for flow in view.flows()]
    assert times == sorted(times)
    days = {_local(flow.time_us).date() for flow in _transfers(view)}
    assert len(days) == ECONOMY.days
    assert result.start_us <= times[0] <= times[-1] <= result.end_us


def test_the_category_mix_follows_the_weights(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, _ = run
    population = [w for w in result.wallets if result.roles[w.address] is not Role.CASE_MEMBER]
    assert len(population) == ECONOMY.wallets
    counts = collections.Counter(int(wallet.category) for wallet in population)
    total_weight = sum(ECONOMY.category_weights)
    for category, weight in zip((1, 2, 3, 4), ECONOMY.category_weights, strict=True):
        share = counts[category] / len(population)
        assert abs(share - weight / total_weight) < 0.03, (category, share)
    # Corporate wallets hold category 1, with its higher caps.
    corporate = [w for w in population if result.roles[w.address] is not Role.HOUSEHOLD]
    assert corporate
    assert {int(w.category) for w in corporate} == {1}


def test_merchant_popularity_is_heavy_tailed(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, view = run
    merchants = {a for a, role in result.roles.items() if role is Role.MERCHANT}
    paid = collections.Counter(f.payee for f in _transfers(view) if f.payee in merchants)
    ranked = sorted((paid[m] for m in merchants), reverse=True)
    top = ranked[: max(1, len(ranked) // 10)]
    assert sum(top) * 2 > sum(ranked)
    # Most payments go to merchants; some go between people.
    household_payees = sum(
        1 for f in _transfers(view) if result.roles.get(f.payee) is Role.HOUSEHOLD
    )
    assert sum(ranked) > household_payees > 0


def test_payments_follow_the_day_and_the_week(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    _, view = run
    local = [_local(flow.time_us) for flow in _transfers(view)]
    hours = collections.Counter(moment.hour for moment in local)
    assert len(hours) == 24
    assert hours[12] + hours[19] > 5 * (hours[3] + hours[4])
    per_day = collections.Counter(moment.date() for moment in local)
    weekend = [n for day, n in per_day.items() if day.weekday() >= 5]
    weekdays = [n for day, n in per_day.items() if day.weekday() < 5]
    assert weekend
    assert weekdays
    assert sum(weekend) / len(weekend) > sum(weekdays) / len(weekdays)


def test_salaries_come_from_employers_on_salary_day(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, view = run
    employers = {a for a, role in result.roles.items() if role is Role.EMPLOYER}
    salaries = [f for f in _transfers(view) if f.payer in employers]
    assert salaries
    assert {_local(f.time_us).day for f in salaries} == {ECONOMY.salary_day}


def test_households_fund_and_defund_through_their_banks(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, view = run
    kinds = collections.Counter(flow.kind for flow in view.flows())
    assert kinds[InstructionKind.FUND] > ECONOMY.wallets // 2
    assert kinds[InstructionKind.DEFUND] > 0
    fundings = [f for f in view.flows() if f.kind is InstructionKind.FUND]
    assert any(f.cash for f in fundings)
    assert any(not f.cash for f in fundings)
    assert len(result.banks) == ECONOMY.banks
    assert str(result.banks[0].code) == "MA.156.1100.01"


def _case_flows(view: RegulatorView, case: Case) -> list[FundsFlow]:
    flows = [view.flow(number) for number in case.entries]
    assert [f.entry_number for f in flows] == list(case.entries)
    assert flows[0].time_us == case.start_us
    assert flows[-1].time_us == case.end_us
    return flows


def test_every_typology_is_planted_with_its_entries(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, view = run
    planted = collections.Counter(case.typology for case in result.cases)
    assert planted == dict.fromkeys(Typology, ECONOMY.cases_per_pattern)
    assert [case.number for case in result.cases] == list(range(len(result.cases)))
    for case in result.cases:
        members = set(case.members)
        assert len(members) == len(case.members)
        for flow in _case_flows(view, case):
            if case.typology is Typology.BANK_RUN:
                assert flow.kind is InstructionKind.DEFUND
                assert flow.payer in members
            else:
                assert flow.kind is InstructionKind.TRANSFER
                assert {flow.payer, flow.payee} <= members
        if case.typology is not Typology.BANK_RUN:
            # The members are wallets opened for the case, and nothing else moved them.
            assert all(result.roles[m] is Role.CASE_MEMBER for m in members)
            used = {a for f in _case_flows(view, case) for a in (f.payer, f.payee)}
            assert used == members


def _by(result: SimulationResult, typology: Typology) -> list[Case]:
    cases = [case for case in result.cases if case.typology is typology]
    assert cases
    return cases


def test_cycles_return_to_their_origin_in_time_order(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, view = run
    for case in _by(result, Typology.CYCLE):
        flows = _case_flows(view, case)
        assert flows[0].payer == case.members[0] == flows[-1].payee
        for before, after in itertools.pairwise(flows):
            assert after.payer == before.payee
            assert after.time_us > before.time_us
            assert after.amount_fen <= before.amount_fen


def test_fans_have_many_counterparties_within_a_day(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, view = run
    day = 24 * 3_600_000_000
    for case in _by(result, Typology.FAN_IN):
        flows = _case_flows(view, case)
        hubs = collections.Counter(f.payee for f in flows)
        hub, inflows = hubs.most_common(1)[0]
        assert len({f.payer for f in flows if f.payee == hub}) == inflows >= ECONOMY.case_size
        assert case.end_us - case.start_us < day
    for case in _by(result, Typology.FAN_OUT):
        flows = _case_flows(view, case)
        assert len({f.payer for f in flows}) == 1
        assert len({f.payee for f in flows}) == ECONOMY.case_size
        assert case.end_us - case.start_us < day


def test_scatter_gather_and_gather_scatter_pass_through_a_middle(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, view = run
    for case in _by(result, Typology.SCATTER_GATHER):
        flows = _case_flows(view, case)
        (source,) = {f.payer for f in flows[: ECONOMY.case_size]}
        middle = {f.payee for f in flows if f.payer == source}
        (sink,) = {f.payee for f in flows if f.payer in middle}
        assert len(middle) == ECONOMY.case_size
        assert source != sink
        assert max(f.time_us for f in flows if f.payer == source) < min(
            f.time_us for f in flows if f.payee == sink
        )
    for case in _by(result, Typology.GATHER_SCATTER):
        flows = _case_flows(view, case)
        (hub,) = [a for a, n in collections.Counter(f.payee for f in flows).items() if n > 1]
        payers = {f.payer for f in flows if f.payee == hub}
        payees = {f.payee for f in flows if f.payer == hub}
        assert len(payers) == len(payees) == ECONOMY.case_size
        assert not payers & payees


def test_structuring_stays_just_below_the_threshold(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, view = run
    rule = dcep.regulator.StructuringRule()
    low = rule.threshold_fen * (100 - rule.band_percent) // 100
    for case in _by(result, Typology.STRUCTURING):
        flows = _case_flows(view, case)
        assert len(flows) >= rule.min_count
        assert len({f.payer for f in flows}) == 1
        assert all(low <= f.amount_fen < rule.threshold_fen for f in flows)
        assert case.end_us - case.start_us < rule.window_us


def test_bank_runs_defund_at_one_bank_within_hours(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, view = run
    for case in _by(result, Typology.BANK_RUN):
        flows = _case_flows(view, case)
        assert len(flows) == len(case.members) >= 10
        assert {f.payer for f in flows} == set(case.members)
        assert len({f.bank for f in flows}) == 1
        assert case.end_us - case.start_us <= 2 * 3_600_000_000


def test_the_default_rules_find_planted_cases(
    run: tuple[SimulationResult, RegulatorView],
) -> None:
    result, view = run
    rules: dict[Typology, dcep.regulator.AmlRule] = {
        Typology.STRUCTURING: dcep.regulator.StructuringRule(),
        Typology.FAN_IN: dcep.regulator.FanRule(),
        Typology.FAN_OUT: dcep.regulator.FanRule(rule_id="fan-out", fan_in=False),
        Typology.PASS_THROUGH: dcep.regulator.PassThroughRule(),
    }
    for typology, rule in rules.items():
        subjects = {alert.subject for alert in rule.evaluate(view, 0, 2**62)}
        for case in _by(result, typology):
            assert subjects & set(case.members), (typology, case.number)


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    small = Economy(seed=11, wallets=200, payments=1_500, days=3, cases_per_pattern=1)
    first = dcep.sim.simulate(small, dcep.Ledger.with_journal())
    second = dcep.sim.simulate(small, dcep.Ledger.with_journal())
    other = dcep.sim.simulate(
        Economy(seed=12, wallets=200, payments=1_500, days=3, cases_per_pattern=1),
        dcep.Ledger.with_journal(),
    )
    assert _journal_bytes(first) == _journal_bytes(second)
    assert first.cases == second.cases
    assert _journal_bytes(first) != _journal_bytes(other)
    assert first.central_bank.address == second.central_bank.address


def test_progress_is_monotonic_and_ends_at_the_total() -> None:
    calls: list[tuple[int, int]] = []
    economy = Economy(seed=5, wallets=1_200, payments=3_000, days=2, patterns=())
    dcep.sim.simulate(economy, progress=lambda done, total: calls.append((done, total)))
    assert len(calls) > 3
    totals = {total for _, total in calls}
    assert totals == {economy.wallets + economy.payments}
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert done[-1] == economy.wallets + economy.payments


def test_cases_file_round_trips(
    run: tuple[SimulationResult, RegulatorView], tmp_path: Path
) -> None:
    result, _ = run
    path = tmp_path / "cases.json"
    dcep.sim.save_cases(path, result.cases, seed=ECONOMY.seed)
    assert dcep.sim.load_cases(path) == result.cases
    assert json.loads(path.read_text())["format"] == dcep.sim.CASES_FORMAT
    path.write_text('{"format": "something else"}')
    with pytest.raises(dcep.InvalidFieldError) as caught:
        dcep.sim.load_cases(path)
    assert caught.value.reason is dcep.Reason.FIELD_INVALID


def test_a_ledger_it_cannot_drive_is_refused() -> None:
    with pytest.raises(dcep.InvalidFieldError) as caught:
        dcep.sim.simulate(Economy(wallets=20), dcep.Ledger(clock=dcep.SystemClock()))
    assert caught.value.field == "clock"
    used = dcep.Ledger()
    dcep.CentralBank(used)
    with pytest.raises(dcep.InvalidFieldError) as caught:
        dcep.sim.simulate(Economy(wallets=20), used)
    assert caught.value.field == "ledger"
    with pytest.raises(dcep.InvalidFieldError) as caught:
        dcep.sim.simulate(Economy(wallets=20, payments=10), fresh := dcep.Ledger())
    assert caught.value.field == "payments"  # the cases need more
    assert fresh.entry_count == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("wallets", 5),
        ("days", 0),
        ("banks", 7),
        ("patterns", ("no-such-pattern",)),
        ("category_weights", (0, 0, 0, 0)),
        ("merchant_zipf", -1.0),
        ("seed", 1.5),
    ],
)
def test_economy_refuses_bad_settings(field: str, value: object) -> None:
    with pytest.raises(dcep.InvalidFieldError) as caught:
        Economy(**{field: value})  # type: ignore[arg-type]
    assert caught.value.reason is dcep.Reason.FIELD_INVALID


def test_a_durable_run_reopens_and_verifies(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    ledger = dcep.Ledger.open(path, durability=dcep.journal.Durability.DEFERRED)
    economy = Economy(seed=2, wallets=150, payments=1_200, days=3, cases_per_pattern=1)
    result = dcep.sim.simulate(economy, ledger)
    entries = ledger.entry_count
    ledger.close()
    report = dcep.Replica(dcep.journal.SqliteStore(path, create=False)).catch_up()
    assert report.entry_count == entries
    assert result.payments_settled > 1_000


def test_cli_simulate_writes_a_database_that_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run.db"
    argv = ["simulate", "--wallets", "120", "--payments", "1500", "--days", "3", str(path)]
    assert main([*argv, "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "1,500" in out
    assert "cases planted  16" in out
    cases = dcep.sim.load_cases(tmp_path / "run.db.cases.json")
    assert {case.typology for case in cases} == set(Typology)
    # The summary names the central bank's key, the trust anchor to verify against.
    key = bytes(dcep.CentralBank(dcep.Ledger(), seed=7).verify_key).hex()
    assert f"--central-bank-key {key}" in out
    assert main(["verify", str(path), "--central-bank-key", key]) == 0
    assert "OK" in capsys.readouterr().out
    # An existing database is kept unless --force.
    assert main(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert main([*argv, "--force", "--patterns", "cycle,fan-in", "--seed", "4"]) == 0
    cases = dcep.sim.load_cases(tmp_path / "run.db.cases.json")
    assert {case.typology for case in cases} == {Typology.CYCLE, Typology.FAN_IN}
    key = bytes(dcep.CentralBank(dcep.Ledger(), seed=4).verify_key).hex()
    assert main(["verify", str(path), "--central-bank-key", key]) == 0
    with pytest.raises(SystemExit):
        main([*argv, "--force", "--patterns", "nonsense"])
