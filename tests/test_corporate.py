"""Corporate wallets and their daily sweeps (issue #24, part 3).

A corporate wallet is owned by a business: the policy's corporate limits
bind it, not a personal category's.  Its bank may sweep it to its linked
deposit account once a local day, from a set time on, as one journalled
``Defund`` the bank signs.  The properties here: a sweep moves exactly the
balance above what it keeps, at most once a local day, never before its
time, in any time zone the policy names; the caps are the corporate ones;
every refusal changes nothing; the schedule and the corporate flag survive
a restart and a replay.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
import dcep.instructions
import dcep.journal
import dcep.values
from dcep import Reason, cny
from dcep.core import AccountKind
from dcep.regulator import RegulatorView

ACCOUNT = "BIZ-0001"
REGISTRATION = "91110000600037341L"  # an 18-character unified social credit code
MINUTE_US = 60_000_000


@attrs.define
class Market:
    ledger: dcep.Ledger
    clock: dcep.ManualClock
    bank: dcep.Bank
    #: Corporate, linked to BIZ-0001, empty.
    shop: dcep.Wallet
    #: Category 1 (caps ¥500,000 / 50,000 / 100,000 / 500,000), holding ¥400,000.
    customer: dcep.Wallet
    #: Every entry accepted, from the genesis on.
    entries: list[dcep.core.LedgerEntry]


def market(policy: dcep.Policy | None = None, path: Path | None = None) -> Market:
    # Midnight in Beijing, 1 January 2026.
    clock = dcep.ManualClock()
    ledger = (
        dcep.Ledger(policy=policy, clock=clock)
        if path is None
        else dcep.Ledger.open(path, policy=policy, clock=clock)
    )
    entries: list[dcep.core.LedgerEntry] = []
    ledger.subscribe(entries.append)
    pboc = dcep.CentralBank(ledger, seed=3)
    bank = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("10000000"))
    pboc.issue(bank, cny("10000000"))
    bank.pay_in(ACCOUNT, cny("1"))
    bank.pay_in("6222-0001", cny("400000"))
    shop = bank.open_corporate_wallet(
        registration=REGISTRATION, name="Shop Co", phone="010-1234", linked_account=ACCOUNT
    )
    customer = bank.open_wallet(
        category=1,
        phone="138",
        id_number="110101199001011234",
        linked_account="6222-0001",
        in_person=True,
    )
    bank.fund(customer, cny("400000"))
    return Market(ledger, clock, bank, shop, customer, entries)


def refused(ledger: dcep.Ledger, reason: Reason, act: Callable[[], object]) -> dcep.DcepError:
    """Run ``act``, which must be refused for ``reason`` and change nothing."""
    before = (ledger.entry_count, ledger.wallets(), ledger.banks(), ledger.snapshot())
    with pytest.raises(dcep.DcepError) as info:
        act()
    assert info.value.reason is reason, info.value
    assert (ledger.entry_count, ledger.wallets(), ledger.banks(), ledger.snapshot()) == before
    ledger.check_invariants()
    return info.value


def sweep_by_hand(m: Market, amount: dcep.Amount) -> Callable[[], object]:
    return lambda: m.bank.sweep(m.shop, amount)


def test_the_ledger_sees_that_a_wallet_is_corporate_and_only_a_digest_of_its_registration() -> (
    None
):
    m = market()
    entries: list[dcep.core.LedgerEntry] = []
    m.ledger.subscribe(entries.append)
    other = m.bank.open_corporate_wallet(
        registration="91310000MA1FL0000X", phone="021-1", linked_account=ACCOUNT
    )
    opened = entries[-1].signed.instruction
    assert isinstance(opened, dcep.instructions.OpenCorporateWallet)
    assert b"91310000MA1FL0000X" not in entries[-1].signed.to_bytes()
    info = m.ledger.wallet(other.address)
    assert info.corporate
    assert not m.ledger.wallet(m.customer.address).corporate
    kept = m.bank.customers.get(m.shop.address)
    assert kept is not None
    assert kept.record.id_number == REGISTRATION
    # The digest on the ledger commits to the bank's record, registration included.
    assert opened.kyc_digest not in (bytes(32), REGISTRATION.encode())


def test_the_regulator_view_sees_corporate_wallets_and_their_sub_wallets() -> None:
    m = market()
    till = m.shop.open_sub_wallet(balance_cap=cny("100"), seed=8)
    view = RegulatorView()
    for entry in m.entries:
        view.add_entry(entry)
    assert view.wallet(m.shop.address).corporate
    assert not view.wallet(m.customer.address).corporate
    assert view.wallet(till.address).corporate
    assert view.wallet(till.address).parent == m.shop.address


def test_a_corporate_wallet_needs_its_registration_and_the_policys_kyc() -> None:
    m = market()
    with pytest.raises(dcep.InvalidFieldError) as info:
        m.bank.open_corporate_wallet(registration=" ", phone="1", linked_account=ACCOUNT)
    assert info.value.field == "registration"
    refused(
        m.ledger,
        Reason.KYC_INSUFFICIENT,
        lambda: m.bank.open_corporate_wallet(registration=REGISTRATION, phone="1"),
    )


@settings(max_examples=25, deadline=None)
@given(
    balance_cap=st.integers(1, 10**9),
    single=st.integers(1, 10**9),
    amount=st.integers(1, 2 * 10**9),
)
def test_the_corporate_caps_bind_a_corporate_wallet_not_its_category(
    balance_cap: int, single: int, amount: int
) -> None:
    # Category 1's caps are left as they are: ¥500,000 balance, ¥50,000 a payment.
    policy = dcep.Policy(
        corporate=dcep.CategoryLimits(dcep.Amount(balance_cap), dcep.Amount(single), None, None)
    )
    m = market(policy)
    amount = min(amount, 5_000_000)  # the customer's category 1 single-payment cap

    def pay() -> object:
        return m.customer.pay(m.shop, dcep.Amount(amount))

    if amount > balance_cap:
        refused(m.ledger, Reason.BALANCE_CAP_EXCEEDED, pay)
        return
    pay()
    assert m.ledger.balance(m.shop.address) == dcep.Amount(amount)

    def paid_on() -> object:
        return m.shop.pay(m.customer, dcep.Amount(amount))

    if amount > single:
        error = refused(m.ledger, Reason.SINGLE_PAYMENT_CAP_EXCEEDED, paid_on)
        assert "corporate" in str(error)
    else:
        paid_on()
    m.ledger.check_invariants()


def test_a_corporate_sub_wallet_is_corporate_and_a_category_change_is_refused() -> None:
    m = market()
    # Above what category 1 would allow (¥500,000 held, ¥50,000 a payment),
    # within the default corporate caps (¥10,000,000, ¥2,000,000).
    m.bank.fund(m.shop, cny("600000"), from_account="")
    m.shop.pay(m.customer, cny("60000"))
    refused(
        m.ledger,
        Reason.FIELD_INVALID,
        lambda: m.bank.change_category(
            m.shop, 2, phone="1", id_number="2", linked_account=ACCOUNT
        ),
    )
    till = m.shop.open_sub_wallet(balance_cap=cny("1000"), seed=5)
    assert m.ledger.wallet(till.address).corporate


def local_minute_and_date(now_us: int, offset_minutes: int) -> tuple[int, dt.date]:
    """The local time of day and date of a moment, by the standard library's calendar."""
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=now_us)
    local = moment.astimezone(zone)
    return local.hour * 60 + local.minute, local.date()


@settings(max_examples=30, deadline=None)
@given(
    offset=st.integers(-23 * 60 - 59, 23 * 60 + 59),
    at_minute=st.integers(0, 24 * 60 - 1),
    keep_fen=st.integers(0, 5_000),
    steps=st.lists(
        st.tuples(st.integers(1, 20 * 60), st.integers(0, 10_000), st.booleans()),
        min_size=1,
        max_size=12,
    ),
)
def test_a_sweep_moves_the_balance_above_keep_once_a_local_day_never_before_its_time(
    offset: int, at_minute: int, keep_fen: int, steps: list[tuple[int, int, bool]]
) -> None:
    m = market(dcep.Policy(utc_offset_minutes=offset))
    m.bank.set_daily_sweep(
        m.shop, at=f"{at_minute // 60:02d}:{at_minute % 60:02d}", keep=dcep.Amount(keep_fen)
    )
    swept_on: set[dt.date] = set()
    for minutes, paid_fen, by_hand in steps:
        m.clock.advance(seconds=minutes * 60)
        if paid_fen:
            m.customer.pay(m.shop, dcep.Amount(paid_fen))
        minute, date = local_minute_and_date(m.clock.now_us(), offset)
        balance_fen = m.ledger.balance(m.shop.address).fen
        deposit_before = m.ledger.account_balance_fen(AccountKind.DEPOSIT, m.bank.address, ACCOUNT)
        due = minute >= at_minute and date not in swept_on
        if by_hand:
            # The bank signs a sweep of what it sees, whether it is due or not.
            amount = dcep.Amount(max(balance_fen - keep_fen, 1))
            if date in swept_on:
                refused(m.ledger, Reason.SWEEP_ALREADY_DONE, sweep_by_hand(m, amount))
                continue
            if minute < at_minute:
                refused(m.ledger, Reason.SWEEP_NOT_DUE, sweep_by_hand(m, amount))
                continue
            if balance_fen <= keep_fen:
                refused(m.ledger, Reason.SWEEP_AMOUNT_WRONG, sweep_by_hand(m, amount))
                continue
            receipts: list[dcep.Receipt | dcep.core.Rejection] = [m.bank.sweep(m.shop, amount)]
        else:
            receipts = m.bank.run_sweeps()
        assert len(receipts) == (1 if due and balance_fen > keep_fen else 0)
        if receipts:
            swept_on.add(date)
            moved = balance_fen - keep_fen
            assert m.ledger.balance(m.shop.address).fen == keep_fen
            assert (
                m.ledger.account_balance_fen(AccountKind.DEPOSIT, m.bank.address, ACCOUNT)
                == deposit_before + moved
            )
            assert isinstance(receipts[0], dcep.Receipt)
            assert receipts[0].kind is dcep.instructions.InstructionKind.DEFUND
            assert receipts[0].signer == m.bank.address
            sweep = m.ledger.daily_sweep(m.shop.address)
            assert sweep is not None
            assert sweep.last_swept_day is not None
            # Once swept, the same local day sees no second sweep.
            assert m.bank.run_sweeps() == []
        m.ledger.check_invariants()


def test_refusals_of_a_sweep_change_nothing() -> None:
    m = market()
    m.customer.pay(m.shop, cny("100"))
    refused(m.ledger, Reason.SWEEP_NOT_SET, sweep_by_hand(m, cny("100")))
    refused(
        m.ledger,
        Reason.WALLET_NOT_CORPORATE,
        lambda: m.bank.set_daily_sweep(m.customer, at="18:00"),
    )
    with pytest.raises(dcep.InvalidFieldError):
        m.bank.set_daily_sweep(m.shop, at="24:00")
    m.shop.set_daily_sweep(at="18:00", keep=cny("30"))  # the wallet may set its own
    refused(m.ledger, Reason.SWEEP_NOT_DUE, sweep_by_hand(m, cny("70")))
    m.clock.advance(hours=18)  # 18:00 in Beijing
    refused(m.ledger, Reason.SWEEP_AMOUNT_WRONG, sweep_by_hand(m, cny("100")))
    (receipt,) = m.bank.run_sweeps()
    assert isinstance(receipt, dcep.Receipt)
    assert [(p.kind, p.delta_fen) for p in receipt.postings] == [
        (AccountKind.WALLET, -7000),
        (AccountKind.VAULT, 7000),
        (AccountKind.DEPOSIT, 7000),
    ]
    m.customer.pay(m.shop, cny("50"))
    refused(m.ledger, Reason.SWEEP_ALREADY_DONE, sweep_by_hand(m, cny("50")))
    # Moving the time does not allow a second sweep the same day.
    m.bank.set_daily_sweep(m.shop, at="19:00")
    m.clock.advance(hours=1)
    assert m.bank.run_sweeps() == []
    m.clock.advance(hours=5)  # 00:00 the next day: not yet 19:00
    assert m.bank.run_sweeps() == []
    m.clock.advance(hours=19)
    (receipt,) = m.bank.run_sweeps()
    assert m.ledger.balance(m.shop.address) == cny("0")
    m.bank.set_daily_sweep(m.shop, at=None)
    assert m.ledger.daily_sweep(m.shop.address) is None
    m.ledger.check_invariants()


def test_sweeps_and_corporate_wallets_survive_a_restart_and_a_replay(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    m = market(path=path)
    m.customer.pay(m.shop, cny("100"))
    m.bank.set_daily_sweep(m.shop, at="09:30", keep=cny("1"))
    m.clock.advance(hours=10)
    (_receipt,) = m.bank.run_sweeps()
    rows = m.ledger.snapshot()
    assert rows.corporate == (bytes(m.shop.address),)
    assert len(rows.daily_sweeps) == 1
    now = m.clock.now_us()
    m.ledger.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert {"snapshot_corporate", "snapshot_daily_sweeps"} <= tables
    reopened = dcep.Ledger.open(path, clock=dcep.ManualClock(now))
    assert reopened.snapshot() == rows
    assert reopened.wallet(m.shop.address).corporate
    sweep = reopened.daily_sweep(m.shop.address)
    assert sweep is not None
    assert sweep.keep == cny("1")
    store = reopened.journal.store if reopened.journal is not None else None
    assert isinstance(store, dcep.journal.SqliteStore)
    report = dcep.Replica(store, policy=store.stored_policy()).catch_up()
    assert report.entry_count == reopened.entry_count
    reopened.close()


def test_a_database_without_corporate_wallets_has_no_new_tables(tmp_path: Path) -> None:
    ledger = dcep.Ledger.open(tmp_path / "plain.db", clock=dcep.ManualClock())
    pboc = dcep.CentralBank(ledger, seed=1)
    pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("1"))
    ledger.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "plain.db")) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert not {"snapshot_corporate", "snapshot_daily_sweeps"} & tables


@settings(max_examples=40, deadline=None)
@given(
    caps=st.lists(st.none() | st.integers(0, 10**12).map(dcep.Amount), min_size=4, max_size=4),
    kyc=st.sets(st.sampled_from(dcep.values.KycField)),
    waterfall=st.booleans(),
    reverse=st.booleans(),
)
def test_corporate_limits_survive_the_policys_text_and_the_default_adds_nothing(
    caps: list[dcep.Amount | None], kyc: set[dcep.values.KycField], waterfall: bool, reverse: bool
) -> None:
    balance, single, daily, annual = caps
    limits = dcep.CategoryLimits(
        balance, single, daily, annual, kyc, waterfall=waterfall, reverse_waterfall=reverse
    )
    policy = dcep.Policy(corporate=limits)
    assert dcep.Policy.from_text(policy.to_text()) == policy
    default_text = dcep.Policy().to_text()
    assert "corporate" not in default_text
    assert dcep.Policy.from_text(default_text).corporate == dcep.Policy().corporate
