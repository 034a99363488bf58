"""The waterfall and the reverse waterfall (issue 24, part 4).

A category with ``waterfall`` lets a payment that would take its wallet over
the balance cap settle, the excess going on to the wallet's linked deposit
account; one with ``reverse_waterfall`` tops up a payment larger than the
payer's balance from its linked deposit.  Both are off by default.  The
figures are worked out in the comments; the Hypothesis test at the end
checks the rules for any balance, cap, deposit and amount.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
import dcep.journal
from dcep import Reason, cny
from dcep.core import AccountKind
from dcep.export import flow_rows
from dcep.regulator import RegulatorView

SHOP_ACCOUNT = "6222-0001"
ALICE_ACCOUNT = "6222-0002"


def waterfall_policy(*, on: bool = True, reverse: bool = True) -> dcep.Policy:
    """CCB's caps, with the waterfalls of category 2 (¥10,000 balance cap) as asked."""
    policy = dcep.Policy()
    limits = attrs.evolve(policy.limits(2), waterfall=on, reverse_waterfall=reverse)
    return policy.with_limits(2, limits).with_limits(
        4, attrs.evolve(policy.limits(4), waterfall=on, reverse_waterfall=reverse)
    )


@attrs.define
class Town:
    ledger: dcep.Ledger
    clock: dcep.ManualClock
    bank: dcep.Bank
    view: RegulatorView
    #: Category 2, linked to 6222-0001 (¥5,000 deposit), holding ¥9,000.
    shop: dcep.Wallet
    #: Category 2, linked to 6222-0002 (¥2,000 deposit), holding ¥1,000.
    alice: dcep.Wallet
    #: Category 4, no linked account, holding ¥900.
    anon: dcep.Wallet


def make_town(policy: dcep.Policy) -> Town:
    clock = dcep.ManualClock()
    ledger = dcep.Ledger(clock=clock, policy=policy)
    view = RegulatorView.attach(ledger)
    pboc = dcep.CentralBank(ledger, seed=24)
    bank = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("1000000"))
    pboc.issue(bank, cny("500000"))
    bank.pay_in(SHOP_ACCOUNT, cny("14000"))
    bank.pay_in(ALICE_ACCOUNT, cny("3000"))
    shop = bank.open_wallet(category=2, linked_account=SHOP_ACCOUNT, phone="1", id_number="2")
    alice = bank.open_wallet(category=2, linked_account=ALICE_ACCOUNT, phone="3", id_number="4")
    anon = bank.open_wallet(category=4, phone="138")
    bank.fund(shop, cny("9000"))
    bank.fund(alice, cny("1000"))
    bank.fund(anon, cny("900"))
    return Town(ledger, clock, bank, view, shop, alice, anon)


@pytest.fixture
def town() -> Town:
    return make_town(waterfall_policy())


def deposit_fen(town: Town, account: str) -> int:
    return town.ledger.account_balance_fen(AccountKind.DEPOSIT, town.bank.address, account)


def refused(town: Town, reason: Reason, act: Callable[[], object]) -> dcep.DcepError:
    ledger = town.ledger
    before = (ledger.entry_count, ledger.wallets(), ledger.banks(), ledger.supply())
    with pytest.raises(dcep.DcepError) as info:
        act()
    assert info.value.reason is reason, info.value
    assert (ledger.entry_count, ledger.wallets(), ledger.banks(), ledger.supply()) == before
    ledger.check_invariants()
    return info.value


def test_a_payment_over_the_payee_s_cap_settles_and_the_excess_goes_to_its_deposit(
    town: Town,
) -> None:
    town.bank.fund(town.alice, cny("1000"))  # ¥2,000: no top-up needed
    supply = town.ledger.supply()
    # The shop holds ¥9,000 of its ¥10,000 cap: ¥1,000 stays, ¥200 goes on to 6222-0001.
    receipt = town.alice.pay(town.shop, cny("1200"))
    assert [(p.kind, p.owner, p.delta_fen, p.account_id) for p in receipt.postings] == [
        (AccountKind.WALLET, town.alice.address, -120000, ""),
        (AccountKind.WALLET, town.shop.address, 120000, ""),
        (AccountKind.WALLET, town.shop.address, -20000, ""),
        (AccountKind.VAULT, town.bank.address, 20000, ""),
        (AccountKind.DEPOSIT, town.bank.address, 20000, SHOP_ACCOUNT),
    ]
    # ¥14,000 paid in, ¥9,000 funded: ¥5,000, and now ¥200 more.
    assert deposit_fen(town, SHOP_ACCOUNT) == 520000
    assert town.shop.balance == cny("10000")
    after = town.ledger.supply()
    # The excess left circulation for the bank's deposit books, like a defund.
    assert (after.in_wallets, after.in_vaults) == (
        supply.in_wallets - cny("200"),
        supply.in_vaults + cny("200"),
    )
    # The payer's caps count the whole payment; the sweep counts toward none of the shop's.
    assert town.ledger.wallet(town.alice.address).spent_today == cny("1200")
    assert town.ledger.wallet(town.shop.address).spent_today == cny("0")
    town.ledger.check_invariants()


def test_with_the_waterfall_off_the_payment_is_refused_as_before() -> None:
    town = make_town(waterfall_policy(on=False, reverse=False))
    town.bank.fund(town.alice, cny("1000"))  # ¥2,000, and ¥1,000 at the bank
    refused(town, Reason.BALANCE_CAP_EXCEEDED, lambda: town.alice.pay(town.shop, cny("1000.01")))
    refused(town, Reason.INSUFFICIENT_BALANCE, lambda: town.alice.pay(town.shop, cny("2000.01")))


def test_without_a_linked_account_the_payment_is_refused_as_before(town: Town) -> None:
    # Category 4 has the waterfalls here, but the anonymous wallet names no account.
    refused(town, Reason.BALANCE_CAP_EXCEEDED, lambda: town.alice.pay(town.anon, cny("100.01")))
    refused(town, Reason.INSUFFICIENT_BALANCE, lambda: town.anon.pay(town.alice, cny("900.01")))


def test_a_payment_larger_than_the_balance_is_topped_up_from_the_payer_s_deposit(
    town: Town,
) -> None:
    town.shop.defund(cny("5000"))  # the shop holds ¥4,000: room for ¥6,000
    supply = town.ledger.supply()
    # Alice holds ¥1,000 and has ¥2,000 at the bank: a payment of ¥2,500 draws ¥1,500.
    receipt = town.alice.pay(town.shop, cny("2500"))
    assert [(p.kind, p.owner, p.delta_fen, p.account_id) for p in receipt.postings] == [
        (AccountKind.DEPOSIT, town.bank.address, -150000, ALICE_ACCOUNT),
        (AccountKind.VAULT, town.bank.address, -150000, ""),
        (AccountKind.WALLET, town.alice.address, 150000, ""),
        (AccountKind.WALLET, town.alice.address, -250000, ""),
        (AccountKind.WALLET, town.shop.address, 250000, ""),
    ]
    assert (town.alice.balance, town.shop.balance) == (cny("0"), cny("6500"))
    assert deposit_fen(town, ALICE_ACCOUNT) == 50000
    after = town.ledger.supply()
    # The top-up entered circulation from the bank's deposit books, like a fund.
    assert after.in_wallets == supply.in_wallets + cny("1500")
    assert town.ledger.wallet(town.alice.address).spent_today == cny("2500")
    # ¥500 left at the bank: ¥1,500.01 is more than balance and deposit together.
    town.bank.fund(town.alice, cny("1000"), from_account=SHOP_ACCOUNT)
    refused(town, Reason.INSUFFICIENT_BALANCE, lambda: town.alice.pay(town.shop, cny("1500.01")))
    town.alice.pay(town.shop, cny("1500"))
    town.ledger.check_invariants()


def test_both_at_once_and_the_regulator_view_reads_them(town: Town) -> None:
    # Alice pays ¥2,500 of which ¥1,500 she draws; the shop keeps ¥1,000 and sweeps ¥1,500.
    receipt = town.alice.pay(town.shop, cny("2500"))
    assert [p.delta_fen for p in receipt.postings] == [
        -150000,
        -150000,
        150000,
        -250000,
        250000,
        -150000,
        150000,
        150000,
    ]
    assert (town.alice.balance, town.shop.balance) == (cny("0"), cny("10000"))
    flow = town.view.flow(receipt.entry_number)
    assert (flow.payer, flow.payee, flow.amount_fen) == (
        town.alice.address,
        town.shop.address,
        250000,
    )
    assert (flow.topped_up_fen, flow.swept_fen) == (150000, 150000)
    for wallet in (town.alice, town.shop, town.anon):
        assert town.view.balance_fen(wallet.address) == wallet.balance.fen
    assert town.view.balance_fen(town.bank.address) == town.ledger.bank("ICBC").vault.fen
    town.view._check()


def test_the_flow_rows_carry_the_split(town: Town) -> None:
    # A plain payment first, then one drawn from the payer's deposit and swept
    # to the payee's: the export keeps what the view read of each.
    plain = town.anon.pay(town.alice, cny("1"))
    split = town.alice.pay(town.shop, cny("2500"))
    rows = {row["entry_number"]: row for row in flow_rows(town.view)}
    assert (rows[plain.entry_number]["topped_up_fen"], rows[plain.entry_number]["swept_fen"]) == (
        0,
        0,
    )
    flow = town.view.flow(split.entry_number)
    row = rows[split.entry_number]
    assert (row["amount_fen"], row["topped_up_fen"], row["swept_fen"]) == (
        flow.amount_fen,
        flow.topped_up_fen,
        flow.swept_fen,
    )
    assert 0 < flow.topped_up_fen < flow.amount_fen
    assert 0 < flow.swept_fen < flow.amount_fen


def test_a_waterfall_does_not_lift_the_payer_s_caps(town: Town) -> None:
    # Category 2 pays ¥5,000 at once and ¥10,000 a day; the top-up is no way round them.
    town.bank.pay_in(ALICE_ACCOUNT, cny("20000"))
    refused(
        town,
        Reason.SINGLE_PAYMENT_CAP_EXCEEDED,
        lambda: town.alice.pay(town.shop, cny("5000.01")),
    )
    town.alice.pay(town.shop, cny("5000"))
    town.alice.pay(town.shop, cny("5000"))  # ¥10,000 today: ¥9,000 of it swept on
    error = refused(
        town, Reason.DAILY_CAP_EXCEEDED, lambda: town.alice.pay(town.shop, cny("0.01"))
    )
    assert error.field == "daily_cap"
    # The shop's sweeps are no payments of its own: it still pays its full daily cap.
    town.shop.pay(town.alice, cny("5000"))
    town.shop.pay(town.alice, cny("5000"))
    town.clock.advance(days=1)
    town.alice.pay(town.shop, cny("0.01"))
    town.ledger.check_invariants()


def test_a_sub_wallet_has_no_waterfall_of_its_own(town: Town) -> None:
    till = town.shop.open_sub_wallet(balance_cap=cny("100"), seed=1)
    refused(town, Reason.BALANCE_CAP_EXCEEDED, lambda: town.alice.pay(till, cny("100.01")))
    refused(town, Reason.INSUFFICIENT_BALANCE, lambda: till.pay(town.alice, cny("0.01")))
    # A parent's family cap sweeps what would take the family over it.
    town.shop.top_up(till, cny("100"))
    town.alice.pay(town.shop, cny("1000.01"))
    assert (town.shop.balance, till.balance) == (cny("9900"), cny("100"))
    town.ledger.check_invariants()


@settings(max_examples=60, deadline=None)  # about 5 ms each
@given(
    balance=st.integers(0, 1_000_000),
    held=st.integers(0, 1_000_000),
    deposit=st.integers(0, 1_000_000),
    amount=st.integers(1, 500_000),
    on=st.booleans(),
    reverse=st.booleans(),
)
def test_any_payment_settles_within_the_caps_or_changes_nothing(
    balance: int, held: int, deposit: int, amount: int, on: bool, reverse: bool
) -> None:
    ledger = dcep.Ledger(policy=waterfall_policy(on=on, reverse=reverse))
    view = RegulatorView.attach(ledger)
    pboc = dcep.CentralBank(ledger, seed=24)
    bank = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("100000"))
    pboc.issue(bank, cny("50000"))
    accounts = {"alice": balance + deposit, "shop": held}
    for account, fen in accounts.items():
        bank.pay_in(account, dcep.Amount(fen or 1))  # an account is opened by a pay-in
    deposit += balance + deposit == 0
    alice = bank.open_wallet(category=2, linked_account="alice", phone="1", id_number="2")
    shop = bank.open_wallet(category=2, linked_account="shop", phone="3", id_number="4")
    for wallet, fen in ((alice, balance), (shop, held)):
        if fen:
            bank.fund(wallet, dcep.Amount(fen))

    def money_fen() -> int:
        deposits = sum(
            ledger.account_balance_fen(AccountKind.DEPOSIT, bank.address, account)
            for account in accounts
        )
        return alice.balance.fen + shop.balance.fen + deposits

    before = money_fen()
    cap = 1_000_000  # category 2's ¥10,000
    try:
        alice.pay(shop, dcep.Amount(amount))
    except dcep.DcepError:
        short = amount > balance + (deposit if reverse else 0)
        over = held + amount > cap and not on
        assert short or over
        assert (alice.balance.fen, shop.balance.fen) == (balance, held)
    else:
        assert not amount > balance + (deposit if reverse else 0)
        # The wallets and their deposits hold what they held together.
        assert money_fen() == before
        assert shop.balance.fen == min(held + amount, cap)
        assert alice.balance.fen == max(balance - amount, 0)
    ledger.check_invariants()
    view._check()
    for wallet in (alice, shop):
        assert view.balance_fen(wallet.address) == wallet.balance.fen


@given(st.sets(st.integers(1, 4)), st.sets(st.integers(1, 4)))
def test_the_policy_text_keeps_the_waterfalls(on: set[int], reverse: set[int]) -> None:
    policy = dcep.Policy()
    for category in range(1, 5):
        limits = attrs.evolve(
            policy.limits(category),
            waterfall=category in on,
            reverse_waterfall=category in reverse,
        )
        policy = policy.with_limits(category, limits)
    text = policy.to_text()
    assert dcep.Policy.from_text(text) == policy
    # Off everywhere, the line is the one earlier versions wrote and read.
    assert ("waterfall" in text) is bool(on or reverse)


@pytest.mark.parametrize("flag", [1, "yes", None])
def test_a_waterfall_flag_is_true_or_false(flag: object) -> None:
    with pytest.raises(dcep.InvalidFieldError) as caught:
        attrs.evolve(dcep.Policy().limits(2), waterfall=flag)  # type: ignore[arg-type]
    assert caught.value.field == "waterfall"


def test_a_stored_ledger_with_waterfalls_verifies_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    ledger = dcep.Ledger.open(path, policy=waterfall_policy(), block_size=3)
    pboc = dcep.CentralBank(ledger, seed=24)
    bank = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("100000"))
    pboc.issue(bank, cny("50000"))
    bank.pay_in(SHOP_ACCOUNT, cny("20000"))
    bank.pay_in(ALICE_ACCOUNT, cny("5000"))
    shop = bank.open_wallet(category=2, linked_account=SHOP_ACCOUNT, phone="1", id_number="2")
    alice = bank.open_wallet(category=2, linked_account=ALICE_ACCOUNT, phone="3", id_number="4")
    bank.fund(shop, cny("9900"))
    alice.pay(shop, cny("2500"))  # all of it drawn from Alice's deposit; ¥2,400 swept on
    shop.pay(alice, cny("100"))
    expected = (ledger.wallets(), ledger.banks(), ledger.supply())
    ledger.close()
    reopened = dcep.Ledger.open(path)
    try:
        assert (reopened.wallets(), reopened.banks(), reopened.supply()) == expected
        journal = reopened.journal
        assert journal is not None
        store = journal.store
        assert isinstance(store, dcep.journal.SqliteStore)
        # The policy the file records, as ``dcep verify`` reads it: the waterfalls are in it.
        policy = store.stored_policy()
        assert policy == waterfall_policy()
        report = dcep.Replica(store, policy=policy).catch_up()
        assert report.entry_count == reopened.entry_count
        view = RegulatorView.from_store(store)
        view._check()
        assert view.balance_fen(shop.address) == shop.balance.fen == 990_000  # ¥10,000 - ¥100
    finally:
        reopened.close()


def test_nothing_is_swept_out_of_a_frozen_wallet(town: Town) -> None:
    # A frozen wallet may not defund; a sweep would be one, so the payment is refused.
    pboc = dcep.CentralBank.restore(town.ledger, seed=24)
    regulator = pboc.appoint_regulator("AML", seed=7)
    regulator.freeze(town.shop.address, "case 24")
    town.bank.fund(town.alice, cny("1000"))
    refused(town, Reason.BALANCE_CAP_EXCEEDED, lambda: town.alice.pay(town.shop, cny("1000.01")))
    town.alice.pay(town.shop, cny("1000"))  # what fits still settles
    regulator.unfreeze(town.shop.address, "case closed")
    town.alice.pay(town.shop, cny("0.01"))  # swept again
    assert town.shop.balance == cny("10000")
