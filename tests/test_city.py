"""The smart city (``dcep.sim.simulate_city``): properties of a month, not copied outputs.

A small city, run once for the module on a journalled ledger with a
subscriber that keeps every entry, is read by most tests: the same seed gives
the same journal bytes and report; money is conserved (the ledger's own
check, and the report's holdings add up to the supply); voucher money is
spent only at merchants of the campaign's regions and before its expiry, and
what was left came back to the city; every escrowed delivery resolved exactly
once; each flow of the city happened.  The default city, and Hypothesis over
small settings, run in the slow tests.
"""

from __future__ import annotations

import collections
from typing import Final

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dcep
import dcep.sim
from dcep.core import AccountKind, LedgerEntry
from dcep.instructions import (
    IssueVoucher,
    LinkBatch,
    PayPending,
    PostPending,
    SpendVoucher,
    Transfer,
    VoidPending,
)
from dcep.regulator import ProgrammableView
from dcep.sim import CityResult, CityRole, CitySettings

SMALL: Final = CitySettings(
    seed=5,
    residents=60,
    merchants=12,
    couriers=2,
    rides=300,
    purchases=80,
    drop_offs=60,
    deliveries=40,
    days=12,
    campaign_day=1,
    voucher_days=8,
    escrow_days=3,
    salary_day=5,
    staff_per_mille=100,
    cancelled_percent=10,
    lost_percent=10,
    partial_percent=10,
    misuse_percent=10,
    late_percent=30,
)
#: The refusals the city provokes on purpose; any other would be a planning bug.
DELIBERATE: Final = frozenset(
    {
        dcep.Reason.VOUCHER_WRONG_MERCHANT,
        dcep.Reason.VOUCHER_EXPIRED,
        dcep.Reason.CONDITION_NOT_MET,
    }
)

Run = tuple[CityResult, list[LedgerEntry]]


def _run(city: CitySettings) -> Run:
    ledger = dcep.Ledger.with_journal()
    entries: list[LedgerEntry] = []
    ledger.subscribe(entries.append)
    return dcep.sim.simulate_city(city, ledger), entries


@pytest.fixture(scope="module")
def run() -> Run:
    return _run(SMALL)


def _journal_bytes(result: CityResult) -> list[object]:
    journal = result.ledger.journal
    assert journal is not None
    return [*journal.store.read_entries(), *journal.store.read_blocks()]


# -- the properties, on any run ------------------------------------------------------


def check_conservation(result: CityResult) -> None:
    supply = result.ledger.check_invariants()
    report = result.report
    assert report.supply == supply
    assert sum(report.holdings_fen.values()) == supply.issued.fen - supply.redeemed.fen
    assert sum(report.holdings_by_district_fen.values()) == supply.in_wallets.fen
    assert report.holdings_fen["bank vaults"] == supply.in_vaults.fen


def check_vouchers(result: CityResult, entries: list[LedgerEntry]) -> None:
    city = result.city.address
    regions = result.settings.voucher_regions
    codes = {bank.address: bank.code for bank in result.banks}
    expiry: dict[int, int] = {}
    spent = 0
    for entry in entries:
        instruction = entry.signed.instruction
        if isinstance(instruction, IssueVoucher):
            assert instruction.issuer == city
            assert instruction.regions == regions
            expiry[instruction.id] = instruction.expires_at_us
        elif isinstance(instruction, SpendVoucher):
            # Only at a merchant banking in one of the campaign's regions, before its expiry.
            assert result.roles[instruction.payee] is CityRole.MERCHANT
            code = codes[result.ledger.wallet(instruction.payee).operator]
            assert any(code == r or code.is_under(r) for r in regions), code
            assert entry.receipt.accepted_at_us < expiry[instruction.voucher_id]
            spent += instruction.amount.fen
    campaign = result.report.vouchers
    assert campaign.vouchers == len(expiry)
    assert campaign.spent_fen == spent
    # Every fen set aside was spent or came back to the city at expiry, and nothing is left.
    assert campaign.spent_fen + campaign.returned_fen == campaign.issued_fen
    assert campaign.outstanding_fen == 0
    assert result.ledger.vouchers() == []
    assert result.ledger.wallet(city).reserved == dcep.Amount(0)
    # The regulator's reading by region agrees, and names only the campaign's regions.
    assert sum(campaign.spent_by_region.values()) == campaign.spent_fen
    assert set(campaign.spent_by_region) <= {str(region) for region in regions}
    assert sum(campaign.spent_by_category.values()) == campaign.spent_fen
    assert set(campaign.refused) <= {
        dcep.Reason.VOUCHER_WRONG_MERCHANT,
        dcep.Reason.VOUCHER_EXPIRED,
    }


def check_escrow(result: CityResult, entries: list[LedgerEntry]) -> None:
    opened: dict[tuple[dcep.Address, str], int] = {}
    closings: collections.Counter[tuple[dcep.Address, str]] = collections.Counter()
    for entry in entries:
        instruction = entry.signed.instruction
        if isinstance(instruction, PayPending):
            opened[(instruction.payer, str(instruction.id))] = instruction.expires_at_us
            assert instruction.conditions  # a courier's signature or a locker's code
        if isinstance(instruction, PostPending):
            assert instruction.approvals or instruction.preimage
        for posting in entry.receipt.postings:
            if posting.kind is AccountKind.RESERVED and posting.delta_fen < 0:
                key = (posting.owner, posting.account_id)
                closings[key] += 1
                if not isinstance(instruction, PostPending | VoidPending):
                    assert entry.receipt.accepted_at_us >= opened[key]  # expired on time
    # Every pending payment closed exactly once, and nothing else was closed.
    assert set(closings) == set(opened)
    assert set(closings.values()) == {1}
    escrow = result.report.escrow
    assert escrow.payments == len(opened)
    assert escrow.posted + escrow.voided + escrow.expired == escrow.payments
    assert escrow.reserved_fen == (
        escrow.posted_fen + escrow.returned_on_post_fen + escrow.voided_fen + escrow.expired_fen
    )
    assert escrow.outstanding == 0
    assert result.ledger.pending_payments() == []
    assert result.programmable.pending_outstanding() == []


def check_refusals(result: CityResult) -> None:
    assert set(result.report.rejections) <= DELIBERATE


# -- the small city ------------------------------------------------------------------


def test_same_seed_same_journal_and_report(run: Run) -> None:
    result, _ = run
    again, _ = _run(SMALL)
    assert _journal_bytes(again) == _journal_bytes(result)
    assert again.report == result.report
    other, _ = _run(attrs.evolve(SMALL, seed=SMALL.seed + 1))
    assert _journal_bytes(other) != _journal_bytes(result)


def test_money_is_conserved(run: Run) -> None:
    check_conservation(run[0])


def test_voucher_money_stays_within_its_purpose_and_time(run: Run) -> None:
    check_vouchers(*run)


def test_every_escrow_resolves_exactly_once(run: Run) -> None:
    check_escrow(*run)


def test_only_the_deliberate_refusals_happen(run: Run) -> None:
    check_refusals(run[0])


def test_each_flow_of_the_city_happens(run: Run) -> None:
    report = run[0].report
    for flow in (report.fares, report.purchases, report.rewards, report.subsidies):
        assert flow.count > 0
        assert flow.fen > 0
    assert report.payroll.count == len(run[0].staff) > 0
    assert report.payroll_batches == 1
    campaign = report.vouchers
    assert campaign.spends > 0
    assert campaign.expired > 0
    assert campaign.returned_fen > 0
    assert campaign.refused  # some tried the wrong shop, or too late
    escrow = report.escrow
    assert escrow.posted > 0
    assert escrow.voided > 0
    assert escrow.expired > 0


def test_the_payroll_is_one_linked_batch_of_consecutive_entries(run: Run) -> None:
    result, entries = run
    (header,) = [e for e in entries if isinstance(e.signed.instruction, LinkBatch)]
    batch = header.signed.instruction
    assert isinstance(batch, LinkBatch)
    assert header.signed.signer.address == result.city.address
    first = header.receipt.entry_number + 1
    members = [e for e in entries if first <= e.receipt.entry_number < first + batch.members]
    payees = set()
    for member in members:
        instruction = member.signed.instruction
        assert isinstance(instruction, Transfer)
        assert instruction.payer == result.city.address
        assert instruction.memo == "salary"
        payees.add(instruction.payee)
    assert payees == result.staff


def test_the_regulator_reads_the_same_from_the_stored_journal(run: Run) -> None:
    result, _ = run
    journal = result.ledger.journal
    assert journal is not None
    view = ProgrammableView.from_store(journal.store)
    campaign = result.report.vouchers
    assert view.voucher_spend_by_region(result.city.address) == campaign.spent_by_region
    assert view.pending_outstanding() == []


def test_settings_that_do_not_fit_are_refused() -> None:
    for bad in (
        {"voucher_days": 40},
        {"escrow_days": 29},
        {"salary_day": 30},
        {"residents": 5},
        {"voucher_regions": ()},
        {"lost_percent": 60, "cancelled_percent": 50},
        {"residents": 10_000, "voucher_fen": 100_000},
    ):
        with pytest.raises(dcep.DcepError) as raised:
            CitySettings(**bad)
        assert raised.value.reason is dcep.Reason.FIELD_INVALID, bad
    with pytest.raises(dcep.DcepError):
        CitySettings(voucher_regions=("not a code",))


def test_a_ledger_in_use_or_with_a_real_clock_is_refused() -> None:
    ledger = dcep.Ledger()
    dcep.CentralBank(ledger, seed=1)
    with pytest.raises(dcep.DcepError) as raised:
        dcep.sim.simulate_city(SMALL, ledger)
    assert raised.value.reason is dcep.Reason.FIELD_INVALID
    with pytest.raises(dcep.DcepError):
        dcep.sim.simulate_city(SMALL, dcep.Ledger(clock=dcep.SystemClock()))


# -- the default city, and many small ones ---------------------------------------------


@pytest.mark.slow
def test_the_default_city_keeps_every_promise() -> None:
    result, entries = _run(CitySettings())
    check_conservation(result)
    check_vouchers(result, entries)
    check_escrow(result, entries)
    check_refusals(result)
    assert len([r for r in result.roles.values() if r is CityRole.RESIDENT]) == 2_000
    assert result.end_us - result.start_us >= 30 * 86_400_000_000


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    residents=st.integers(20, 50),
    days=st.integers(10, 16),
    voucher_percent=st.integers(0, 100),
    misuse_percent=st.integers(0, 50),
    lost_percent=st.integers(0, 40),
)
def test_small_cities_keep_every_promise(
    seed: int,
    residents: int,
    days: int,
    voucher_percent: int,
    misuse_percent: int,
    lost_percent: int,
) -> None:
    city = CitySettings(
        seed=seed,
        residents=residents,
        merchants=10,
        couriers=2,
        rides=residents * 3,
        purchases=residents,
        drop_offs=residents,
        deliveries=residents // 2,
        days=days,
        campaign_day=1,
        voucher_days=days - 4,
        escrow_days=3,
        salary_day=days // 2,
        voucher_percent=voucher_percent,
        misuse_percent=misuse_percent,
        lost_percent=lost_percent,
    )
    result, entries = _run(city)
    check_conservation(result)
    check_vouchers(result, entries)
    check_escrow(result, entries)
    check_refusals(result)
