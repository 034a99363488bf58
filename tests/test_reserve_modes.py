"""The two reserve modes (issue 24, part 6): 2021's 100% reserves and 2026's partial ones.

In the 2021 mode every fen issued to an operator is a fen less in its
reserves.  In the 2026 mode a bank backs its issuance at the policy's
reserve ratio (rounded up to the fen): the rest is its own deposit liability
to its wallets' holders.  A non-bank payment institution backs every fen in
either mode.  The supply invariants of each mode hold after every step here
and in the stateful test, which runs under both.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
import dcep.instructions
import dcep.journal
from dcep import Reason, cny
from dcep.core import AccountKind
from dcep.regulator import RegulatorView

BANK_CODE = "MA.156.1100.01"
PAYMENT_INSTITUTION_CODE = "MA.156.1100.09"


def policy_2026(ratio_bp: int = 700, interest_bp: int = 0) -> dcep.Policy:
    return dcep.Policy(
        reserve_mode=dcep.ReserveMode.DEPOSIT,
        reserve_ratio_bp=ratio_bp,
        interest_rate_bp=interest_bp,
        payment_institutions=[PAYMENT_INSTITUTION_CODE],
    )


def ceil_ratio(fen: int, ratio_bp: int) -> int:
    """The reserves ``fen`` of issuance needs at ``ratio_bp``, worked out apart from dcep."""
    whole, part = divmod(fen * ratio_bp, 10_000)
    return whole + (part > 0)


def test_in_2021_every_fen_issued_is_a_fen_of_reserves() -> None:
    ledger = dcep.Ledger()
    pboc = dcep.CentralBank(ledger, seed=26)
    bank = pboc.authorise_bank("ICBC", code=BANK_CODE, reserves=cny("1000"))
    pboc.issue(bank, cny("1000"))
    with pytest.raises(dcep.InsufficientFundsError) as caught:
        pboc.issue(bank, cny("0.01"))
    assert caught.value.reason is Reason.INSUFFICIENT_RESERVES
    supply = ledger.check_invariants()
    assert supply.backed_by_reserves == supply.outstanding == cny("1000")
    assert ledger.bank("ICBC").reserves_available == cny("0")


def test_in_2026_a_bank_backs_its_issuance_at_the_ratio_and_a_payment_institution_fully() -> None:
    ledger = dcep.Ledger(policy=policy_2026(ratio_bp=700))
    pboc = dcep.CentralBank(ledger, seed=26)
    bank = pboc.authorise_bank("ICBC", code=BANK_CODE, reserves=cny("700"))
    institution = pboc.authorise_bank("Pay Co", code=PAYMENT_INSTITUTION_CODE, reserves=cny("700"))
    # 7% of ¥10,000 is ¥700: all the bank pledged.
    receipt = pboc.issue(bank, cny("10000"))
    assert [(p.kind, p.delta_fen) for p in receipt.postings] == [
        (AccountKind.RESERVES, -70000),
        (AccountKind.VAULT, 1000000),
    ]
    with pytest.raises(dcep.InsufficientFundsError) as caught:
        pboc.issue(bank, cny("0.01"))  # 7% of a fen, rounded up, is a fen more
    assert (caught.value.reason, caught.value.field) == (Reason.INSUFFICIENT_RESERVES, "reserves")
    pboc.issue(institution, cny("700"))
    with pytest.raises(dcep.InsufficientFundsError):
        pboc.issue(institution, cny("0.01"))
    supply = ledger.check_invariants()
    assert supply.outstanding == cny("10700")
    assert supply.backed_by_reserves == cny("1400")
    # Redeeming releases the reserves behind what is redeemed.
    released = bank.redeem(cny("5000")).postings[1]
    assert (released.kind, released.delta_fen) == (AccountKind.RESERVES, 35000)
    assert ledger.bank("ICBC").reserves_available == cny("350")
    ledger.check_invariants()


@settings(max_examples=40, deadline=None)
@given(
    ratio_bp=st.integers(0, 10_000),
    pledged=st.integers(1, 10**7),
    steps=st.lists(st.tuples(st.booleans(), st.integers(1, 10**8)), max_size=8),
    institution=st.booleans(),
)
def test_reserves_held_are_the_ratio_of_what_is_outstanding_rounded_up(
    ratio_bp: int, pledged: int, steps: list[tuple[bool, int]], institution: bool
) -> None:
    ledger = dcep.Ledger(policy=policy_2026(ratio_bp=ratio_bp))
    pboc = dcep.CentralBank(ledger, seed=26)
    code = PAYMENT_INSTITUTION_CODE if institution else BANK_CODE
    bank = pboc.authorise_bank("B", code=code, reserves=dcep.Amount(pledged))
    outstanding = 0
    available = pledged
    effective_bp = 10_000 if institution else ratio_bp
    for redeeming, amount in steps:
        before = ledger.supply()
        act: Callable[[], dcep.Receipt]
        if redeeming:
            act = lambda: bank.redeem(dcep.Amount(amount))  # noqa: E731, B023
            # Nothing was funded: the vault holds everything outstanding.
            refusal = Reason.INSUFFICIENT_VAULT if amount > outstanding else None
        else:
            act = lambda: pboc.issue(bank, dcep.Amount(amount))  # noqa: E731, B023
            too_much = ceil_ratio(outstanding + amount, effective_bp) > pledged
            refusal = Reason.INSUFFICIENT_RESERVES if too_much else None
        if refusal is not None:
            with pytest.raises(dcep.InsufficientFundsError) as caught:
                act()
            assert caught.value.reason is refusal
            assert ledger.supply() == before
            continue
        receipt = act()
        outstanding += -amount if redeeming else amount
        reserves = sum(p.delta_fen for p in receipt.postings if p.kind is AccountKind.RESERVES)
        available += reserves
        assert available == pledged - ceil_ratio(outstanding, effective_bp)
        assert ledger.bank("B").reserves_available == dcep.Amount(available)
        supply = ledger.check_invariants()
        assert supply.backed_by_reserves.fen == ceil_ratio(outstanding, effective_bp)


@pytest.mark.parametrize(
    "fields",
    [
        {"reserve_ratio_bp": 700},  # a ratio means nothing in the 2021 mode
        {"interest_rate_bp": 150},
        {"reserve_mode": dcep.ReserveMode.DEPOSIT, "reserve_ratio_bp": 10_001},
        {"reserve_mode": dcep.ReserveMode.DEPOSIT, "reserve_ratio_bp": -1},
        {"reserve_mode": dcep.ReserveMode.DEPOSIT, "interest_rate_bp": 1.5},
        {"payment_institutions": ["not a code"]},
        {"payment_institutions": [7]},
    ],
)
def test_a_policy_refuses_reserve_settings_it_cannot_honour(fields: dict[str, object]) -> None:
    with pytest.raises(dcep.InvalidFieldError) as caught:
        dcep.Policy(**fields)  # type: ignore[arg-type]
    assert caught.value.reason is Reason.FIELD_INVALID


@given(
    ratio_bp=st.integers(0, 10_000),
    interest_bp=st.integers(0, 10_000),
    codes=st.sets(st.sampled_from([BANK_CODE, PAYMENT_INSTITUTION_CODE, "MA.156.3100.02"])),
)
def test_the_policy_text_keeps_the_reserve_mode(
    ratio_bp: int, interest_bp: int, codes: set[str]
) -> None:
    policy = dcep.Policy(
        reserve_mode=dcep.ReserveMode.DEPOSIT,
        reserve_ratio_bp=ratio_bp,
        interest_rate_bp=interest_bp,
        payment_institutions=codes,
    )
    assert dcep.Policy.from_text(policy.to_text()) == policy
    assert attrs.evolve(policy, payment_institutions=()).payment_institutions == frozenset()


# --- Interest (2026) --------------------------------------------------------------------

YEAR_US = 365 * 24 * 3600 * 1_000_000


@attrs.define
class Bank2026:
    ledger: dcep.Ledger
    clock: dcep.ManualClock
    bank: dcep.Bank
    view: RegulatorView
    #: Category 1 (cap ¥500,000), holding ¥10,000.
    saver: dcep.Wallet


def bank_2026(interest_bp: int = 150, path: Path | None = None) -> Bank2026:
    clock = dcep.ManualClock()
    policy = policy_2026(interest_bp=interest_bp)
    ledger = (
        dcep.Ledger(policy=policy, clock=clock)
        if path is None
        else dcep.Ledger.open(
            path, policy=policy, clock=clock, block_size=2, snapshot_every_blocks=1
        )
    )
    view = RegulatorView.attach(ledger)
    pboc = dcep.CentralBank(ledger, seed=26)
    bank = pboc.authorise_bank("ICBC", code=BANK_CODE, reserves=cny("42000"))
    pboc.issue(bank, cny("600000"))  # 7% of it: all ICBC pledged
    bank.pay_in("6222-0001", cny("10000"))
    kyc = {"id_number": "110101199001011234", "linked_account": "6222-0001"}
    saver = bank.open_wallet(category=1, phone="137", in_person=True, **kyc)
    bank.fund(saver, cny("10000"))
    return Bank2026(ledger, clock, bank, view, saver)


def test_a_year_at_one_and_a_half_percent() -> None:
    world = bank_2026(interest_bp=150)
    assert world.bank.accrue_interest(world.saver).postings == ()  # starts the period
    supply = world.ledger.supply()
    world.clock.advance(days=365)
    receipt = world.bank.accrue_interest(world.saver)
    # ¥10,000 at 1.5% for a year of 365 days: ¥150, out of the bank's vault.
    assert [(p.kind, p.delta_fen) for p in receipt.postings] == [
        (AccountKind.VAULT, -15000),
        (AccountKind.WALLET, 15000),
    ]
    assert world.saver.balance == cny("10150")
    assert world.ledger.supply().outstanding == supply.outstanding  # moved, not made
    world.ledger.check_invariants()
    # The regulator sees a flow from the bank to the wallet, and the same balances.
    flow = world.view.flow(receipt.entry_number)
    assert (flow.kind, flow.payer, flow.payee, flow.amount_fen) == (
        dcep.instructions.InstructionKind.ACCRUE_INTEREST,
        world.bank.address,
        world.saver.address,
        15000,
    )
    assert world.view.balance_fen(world.saver.address) == world.saver.balance.fen
    world.view._check()


@settings(max_examples=40, deadline=None)
@given(
    rate_bp=st.integers(1, 10_000),
    steps=st.lists(st.integers(0, 40 * 24 * 3600 * 1_000_000), min_size=1, max_size=6),
    fund=st.lists(st.integers(0, 100_000), min_size=6, max_size=6),
)
def test_carrying_the_fraction_pays_the_exact_interest_rounded_down(
    rate_bp: int, steps: list[int], fund: list[int]
) -> None:
    """However often it accrues, a wallet is paid the floor of its exact interest."""
    world = bank_2026(interest_bp=rate_bp)
    world.bank.accrue_interest(world.saver)
    exact = Fraction(0)
    paid = 0
    for elapsed_us, more in zip(steps, fund, strict=False):
        balance = world.saver.balance.fen
        world.clock.advance(microseconds=elapsed_us)
        exact += Fraction(balance * rate_bp * elapsed_us, 10_000 * YEAR_US)
        receipt = world.bank.accrue_interest(world.saver)
        paid += sum(p.delta_fen for p in receipt.postings if p.kind is AccountKind.WALLET)
        assert paid == math.floor(exact)
        if more:
            world.bank.fund(world.saver, dcep.Amount(more), from_account="")
    world.ledger.check_invariants()


def test_interest_is_refused_where_the_policy_pays_none() -> None:
    for ledger, bank, wallet in (
        _a_wallet(dcep.Policy()),
        _a_wallet(policy_2026(interest_bp=0)),
        _a_wallet(policy_2026(interest_bp=150), code=PAYMENT_INSTITUTION_CODE),
    ):
        with pytest.raises(dcep.NotAuthorisedError) as caught:
            bank.accrue_interest(wallet)
        assert caught.value.reason is Reason.INTEREST_NOT_PAYABLE
        ledger.check_invariants()


def _a_wallet(
    policy: dcep.Policy, code: str = BANK_CODE
) -> tuple[dcep.Ledger, dcep.Bank, dcep.Wallet]:
    ledger = dcep.Ledger(policy=policy)
    pboc = dcep.CentralBank(ledger, seed=26)
    bank = pboc.authorise_bank("B", code=code, reserves=cny("100"))
    return ledger, bank, bank.open_wallet(category=4, phone="1")


def test_interest_stops_at_the_balance_cap_and_a_sub_wallet_earns_through_its_parent() -> None:
    world = bank_2026(interest_bp=10_000)  # 100% a year
    world.bank.accrue_interest(world.saver)
    till = world.saver.open_sub_wallet(seed=1)
    world.saver.top_up(till, cny("5000"))
    with pytest.raises(dcep.NotAuthorisedError) as caught:
        world.bank.accrue_interest(till.address)
    assert caught.value.reason is Reason.WALLET_IS_SUB_WALLET
    world.clock.advance(days=365)
    world.bank.accrue_interest(world.saver)  # on the family's ¥10,000
    assert (world.saver.balance, till.balance) == (cny("15000"), cny("5000"))
    world.clock.advance(days=365 * 30)  # ¥20,000 x 30 is far over the ¥500,000 cap
    world.bank.accrue_interest(world.saver)
    assert world.saver.balance + till.balance == cny("500000")
    world.ledger.check_invariants()


def test_interest_survives_a_restart(tmp_path: Path) -> None:
    stored = bank_2026(interest_bp=333, path=tmp_path / "ledger.db")
    twin = bank_2026(interest_bp=333)
    for world in (stored, twin):
        world.bank.accrue_interest(world.saver)
        world.clock.advance(days=100, microseconds=7)
        world.bank.accrue_interest(world.saver)  # leaves a fraction of a fen carried
    rows = stored.ledger.snapshot()
    assert rows.interest_wallets
    assert rows.interest_banks
    assert rows == twin.ledger.snapshot()
    now = stored.clock.now_us()
    stored.ledger.close()
    # Closing wrote a snapshot, interest rows included, which reopening restores.
    with contextlib.closing(sqlite3.connect(tmp_path / "ledger.db")) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert {"snapshot_interest_wallets", "snapshot_interest_banks"} <= tables
    reopened = dcep.Ledger.open(tmp_path / "ledger.db", clock=dcep.ManualClock(now))
    assert reopened.snapshot() == rows
    reopened.check_invariants()
    # And a replica re-executing every entry under the recorded policy pays the same fen.
    store = reopened.journal.store if reopened.journal is not None else None
    assert isinstance(store, dcep.journal.SqliteStore)
    report = dcep.Replica(store, policy=store.stored_policy()).catch_up()
    assert report.entry_count == reopened.entry_count
    reopened.close()
