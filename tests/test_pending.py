"""Two-phase payments and their conditions (issue #25, parts 1 and 2).

A pending payment reserves money in the payer's wallet; it is then posted
(whole or part), voided by the payee, or it expires by the ledger's clock,
exactly once.  The properties here: whatever the order of attempts, one of
them resolves it and the rest are refused, and the money ends where that
one says; reserved money is in the payer's holdings and the supply once,
and cannot be spent; each condition admits exactly what it names; the
journal replays, a replica verifies and a database reopens with pending
payments outstanding.  The stateful test runs them among everything else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
import dcep.regulator
from dcep import Reason, cny
from dcep.core import AccountKind
from dcep.instructions import (
    ApprovedBy,
    HashAlgorithm,
    HashLock,
    NotBefore,
    PayPending,
    encode_instruction,
)
from dcep.values import SigningKey, VerifyKey

ACCOUNT = "6222-0001"
SECOND_US = 1_000_000


@attrs.define
class Deal:
    ledger: dcep.Ledger
    clock: dcep.ManualClock
    bank: dcep.Bank
    #: Category 2, linked to 6222-0001, holding ¥3,000 (caps ¥10,000 / 5,000 / 10,000 / 300,000).
    buyer: dcep.Wallet
    #: Category 4, holding ¥100 (balance cap ¥1,000).
    seller: dcep.Wallet
    #: Category 4, holding nothing: an escrow agent with a wallet.
    agent: dcep.Wallet


def _deal(block_size: int | None = None) -> Deal:
    clock = dcep.ManualClock()
    ledger = (
        dcep.Ledger(clock=clock)
        if block_size is None
        else dcep.Ledger.with_journal(clock=clock, block_size=block_size)
    )
    pboc = dcep.CentralBank(ledger, seed=25)
    bank = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("1000000"))
    pboc.issue(bank, cny("500000"))
    bank.pay_in(ACCOUNT, cny("20000"))
    buyer = bank.open_wallet(
        category=2, phone="137", id_number="110101199001011234", linked_account=ACCOUNT
    )
    seller = bank.open_wallet(category=4, phone="138")
    agent = bank.open_wallet(category=4, phone="139")
    bank.fund(buyer, cny("3000"))
    bank.fund(seller, cny("100"))
    return Deal(ledger, clock, bank, buyer, seller, agent)


@pytest.fixture
def deal() -> Deal:
    return _deal()


def _later(deal: Deal, seconds: int) -> int:
    return deal.clock.now_us() + seconds * SECOND_US


def refused(ledger: dcep.Ledger, reason: Reason, act: Callable[[], object]) -> dcep.DcepError:
    """Run ``act``, which must be refused for ``reason`` and change nothing."""
    before = (ledger.entry_count, ledger.wallets(), ledger.supply(), ledger.pending_payments())
    with pytest.raises(dcep.DcepError) as info:
        act()
    assert info.value.reason is reason, info.value
    after = (ledger.entry_count, ledger.wallets(), ledger.supply(), ledger.pending_payments())
    assert after == before
    ledger.check_invariants()
    return info.value


def _reason(act: Callable[[], object]) -> Reason | None:
    """Why ``act`` was refused, or ``None`` if it was accepted."""
    try:
        act()
    except dcep.DcepError as error:
        return error.reason
    return None


# --- Reserving ---------------------------------------------------------------------------


def test_reserved_money_is_held_but_cannot_be_spent(deal: Deal) -> None:
    supply = deal.ledger.supply()
    receipt = deal.buyer.pay_pending(deal.seller, cny("2500"), expires_at_us=_later(deal, 60))
    # One posting: ¥2,500 onto the buyer's reserved account for this payment.
    assert receipt.postings == (
        dcep.core.Posting(
            AccountKind.RESERVED, deal.buyer.address, 250000, str(receipt.instruction_id)
        ),
    )
    assert deal.buyer.balance == cny("3000")  # still the buyer's: in its holdings
    assert deal.ledger.supply() == supply  # counted once
    assert deal.ledger.account_balance_fen(
        AccountKind.RESERVED, deal.buyer.address, str(receipt.instruction_id)
    ) == (250000)
    # ¥500 is spendable: ¥500.01 is not.
    refused(
        deal.ledger,
        Reason.INSUFFICIENT_BALANCE,
        lambda: deal.buyer.pay(deal.seller, cny("500.01")),
    )
    refused(deal.ledger, Reason.INSUFFICIENT_BALANCE, lambda: deal.buyer.defund(cny("500.01")))
    deal.buyer.pay(deal.seller, cny("500"))
    # Nor can the payee spend it before it is posted.
    refused(
        deal.ledger,
        Reason.INSUFFICIENT_BALANCE,
        lambda: deal.seller.pay(deal.agent, cny("600.01")),
    )


def test_reserving_counts_toward_the_payers_payment_caps(deal: Deal) -> None:
    # Category 2's single payment cap is ¥5,000 and its daily cap ¥10,000.
    deal.bank.fund(deal.buyer, cny("6000"))
    refused(
        deal.ledger,
        Reason.SINGLE_PAYMENT_CAP_EXCEEDED,
        lambda: deal.buyer.pay_pending(deal.agent, cny("5000.01"), expires_at_us=_later(deal, 9)),
    )
    deal.buyer.pay_pending(deal.agent, cny("5000"), expires_at_us=_later(deal, 9))
    assert deal.ledger.wallet(deal.buyer.address).spent_today == cny("5000")


def test_an_expiry_not_after_now_is_refused(deal: Deal) -> None:
    now = deal.clock.now_us()
    refused(
        deal.ledger,
        Reason.PENDING_EXPIRED,
        lambda: deal.buyer.pay_pending(deal.seller, cny("1"), expires_at_us=now),
    )


def test_a_wallet_holding_pending_money_cannot_be_closed(deal: Deal) -> None:
    deal.buyer.pay_pending(deal.seller, cny("1"), expires_at_us=_later(deal, 9))
    refused(deal.ledger, Reason.PENDING_OUTSTANDING, lambda: deal.bank.close_wallet(deal.buyer))


# --- Resolving exactly once -------------------------------------------------------------

#: One attempt on a pending payment: post part of it, void it, or let time pass.
Attempt = tuple[str, int]
attempts = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.integers(1, 1200)),
        st.tuples(st.just("post_by_payer"), st.integers(1, 1200)),
        st.tuples(st.just("void"), st.just(0)),
        st.tuples(st.just("wait"), st.integers(1, 40)),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None)
@given(attempts)
def test_every_pending_payment_resolves_exactly_once(steps: list[Attempt]) -> None:
    deal = _deal()
    start = {w.address: w.balance for w in (deal.buyer, deal.seller)}
    expires_at_us = _later(deal, 60)
    pending_id = deal.buyer.pay_pending(
        deal.seller, cny("800"), expires_at_us=expires_at_us
    ).instruction_id
    outcome: str | None = None
    posted_fen = 0
    for action, value in steps:
        if action == "wait":
            deal.clock.advance(seconds=value)
            continue
        late = deal.clock.now_us() >= expires_at_us
        if action == "void":
            reason = _reason(lambda: deal.seller.void(deal.buyer, pending_id))
        else:
            who = deal.seller if action == "post" else deal.buyer
            amount = dcep.Amount(value * 100)

            def post(who: dcep.Wallet = who, amount: dcep.Amount = amount) -> object:
                return who.post(deal.buyer, pending_id, amount)

            reason = _reason(post)
        if outcome is None and late:
            outcome = "expired"
        if outcome == "expired":
            assert reason is Reason.PENDING_EXPIRED
        elif outcome is not None:
            assert reason is Reason.PENDING_ALREADY_RESOLVED
        elif value > 800 and action != "void":
            assert reason is Reason.AMOUNT_TOO_LARGE
        else:
            # The first attempt that may resolve it does; a second would release it twice.
            assert reason is None
            outcome = "voided" if action == "void" else "posted"
            posted_fen = 0 if action == "void" else value * 100
    deal.ledger.check_invariants()
    if outcome in ("posted", "voided"):
        assert deal.ledger.pending_payment(deal.buyer.address, pending_id) is None
    # However it went, the payee has what was posted and the payer the rest.
    assert deal.seller.balance == start[deal.seller.address] + dcep.Amount(posted_fen)
    assert deal.buyer.balance == start[deal.buyer.address] - dcep.Amount(posted_fen)


def test_posting_part_returns_the_rest(deal: Deal) -> None:
    pending_id = deal.buyer.pay_pending(
        deal.seller, cny("300"), expires_at_us=_later(deal, 60)
    ).instruction_id
    receipt = deal.seller.post(deal.buyer, pending_id, cny("120"))
    assert receipt.postings == (
        dcep.core.Posting(AccountKind.WALLET, deal.buyer.address, -12000),
        dcep.core.Posting(AccountKind.WALLET, deal.seller.address, 12000),
        dcep.core.Posting(AccountKind.RESERVED, deal.buyer.address, -30000, str(pending_id)),
    )
    assert deal.buyer.balance == cny("2880")
    assert deal.seller.balance == cny("220")
    assert deal.ledger.pending_payments() == []
    refused(
        deal.ledger,
        Reason.PENDING_ALREADY_RESOLVED,
        lambda: deal.seller.void(deal.buyer, pending_id),
    )


def test_only_the_payee_voids_and_only_the_parties_post(deal: Deal) -> None:
    pending_id = deal.buyer.pay_pending(
        deal.seller, cny("10"), expires_at_us=_later(deal, 60)
    ).instruction_id
    refused(
        deal.ledger, Reason.SIGNER_NOT_AUTHORISED, lambda: deal.buyer.void(deal.buyer, pending_id)
    )
    refused(
        deal.ledger, Reason.SIGNER_NOT_AUTHORISED, lambda: deal.agent.post(deal.buyer, pending_id)
    )
    refused(deal.ledger, Reason.PENDING_UNKNOWN, lambda: deal.seller.void(deal.buyer, 999))
    deal.seller.void(deal.buyer, pending_id)
    assert deal.buyer.balance == cny("3000")


def test_the_payees_balance_cap_is_checked_when_posting(deal: Deal) -> None:
    # The seller (category 4) holds ¥100 of its ¥1,000 cap; ¥950 would break it.
    pending_id = deal.buyer.pay_pending(
        deal.seller, cny("950"), expires_at_us=_later(deal, 60)
    ).instruction_id
    refused(
        deal.ledger, Reason.BALANCE_CAP_EXCEEDED, lambda: deal.seller.post(deal.buyer, pending_id)
    )
    deal.seller.post(deal.buyer, pending_id, cny("900"))
    assert deal.seller.balance == cny("1000")


def test_a_frozen_payer_cannot_post_but_its_payee_can_void() -> None:
    deal = _deal()
    regulator = dcep.CentralBank.restore(deal.ledger, seed=25).appoint_regulator("AML", seed=3)
    pending_id = deal.buyer.pay_pending(
        deal.seller, cny("10"), expires_at_us=_later(deal, 60)
    ).instruction_id
    regulator.freeze(deal.buyer.address, reason="case 9")
    refused(deal.ledger, Reason.WALLET_FROZEN, lambda: deal.seller.post(deal.buyer, pending_id))
    deal.seller.void(deal.buyer, pending_id)


# --- Expiry with no caller ----------------------------------------------------------------


def test_expiry_needs_no_caller_and_opens_the_next_entry(deal: Deal) -> None:
    pending_id = deal.buyer.pay_pending(
        deal.seller, cny("40"), expires_at_us=_later(deal, 30)
    ).instruction_id
    deal.clock.advance(seconds=30)
    # Anyone's next entry carries the expiry first; here the seller pays the agent.
    receipt = deal.seller.pay(deal.agent, cny("1"))
    assert receipt.postings[0] == dcep.core.Posting(
        AccountKind.RESERVED, deal.buyer.address, -4000, str(pending_id)
    )
    assert deal.ledger.pending_payments() == []
    refused(deal.ledger, Reason.PENDING_EXPIRED, lambda: deal.seller.post(deal.buyer, pending_id))
    # The money came back: all ¥3,000 is spendable again.
    deal.buyer.defund(cny("3000"))


def test_a_refused_instruction_leaves_due_expiries_undone(deal: Deal) -> None:
    pending_id = deal.buyer.pay_pending(
        deal.seller, cny("40"), expires_at_us=_later(deal, 1)
    ).instruction_id
    deal.clock.advance(seconds=5)
    # Readers go by the clock: it has expired, and its money is spendable.
    assert deal.ledger.pending_payments() == []
    assert deal.ledger.wallet(deal.buyer.address).reserved == cny("0")
    # Refused after the expiry ran, so the expiry is put back with it: the
    # journal's next entry carries it.
    held = (AccountKind.RESERVED, deal.buyer.address, str(pending_id))
    refused(
        deal.ledger, Reason.INSUFFICIENT_BALANCE, lambda: deal.seller.pay(deal.agent, cny("1000"))
    )
    assert deal.ledger.account_balance_fen(*held) == 4000
    receipt = deal.buyer.defund(cny("3000"))
    assert receipt.postings[0].kind is AccountKind.RESERVED
    assert deal.ledger.account_balance_fen(*held) == 0


def test_payments_expire_in_order_of_expiry_then_creation(deal: Deal) -> None:
    ids = [
        deal.buyer.pay_pending(
            deal.seller, cny(str(n)), expires_at_us=_later(deal, seconds)
        ).instruction_id
        for n, seconds in ((1, 20), (2, 10), (3, 20))
    ]
    deal.clock.advance(seconds=20)
    receipt = deal.seller.pay(deal.agent, cny("1"))
    expired = [p.account_id for p in receipt.postings if p.kind is AccountKind.RESERVED]
    assert expired == [str(ids[1]), str(ids[0]), str(ids[2])]


# --- Conditions ---------------------------------------------------------------------------


def test_not_before_a_time(deal: Deal) -> None:
    opens_at = _later(deal, 10)
    pending_id = deal.buyer.pay_pending(
        deal.seller, cny("5"), expires_at_us=_later(deal, 60), conditions=(NotBefore(opens_at),)
    ).instruction_id
    deal.clock.advance(seconds=9)
    refused(
        deal.ledger, Reason.CONDITION_NOT_MET, lambda: deal.seller.post(deal.buyer, pending_id)
    )
    deal.clock.advance(seconds=1)
    deal.seller.post(deal.buyer, pending_id)


@settings(max_examples=10, deadline=None)
@given(
    st.sampled_from(HashAlgorithm),
    st.binary(max_size=64),
    st.binary(max_size=64),
)
def test_a_hash_lock_opens_with_its_preimage_only(
    algorithm: HashAlgorithm, secret: bytes, guess: bytes
) -> None:
    deal = _deal()
    lock = HashLock.of(secret, algorithm)
    expected = (
        hashlib.sha256(secret).digest()
        if algorithm is HashAlgorithm.SHA256
        else hashlib.blake2b(secret, digest_size=32).digest()
    )
    assert lock.digest == expected
    pending_id = deal.buyer.pay_pending(
        deal.seller, cny("5"), expires_at_us=_later(deal, 60), conditions=(lock,)
    ).instruction_id
    if guess != secret:
        refused(
            deal.ledger,
            Reason.CONDITION_NOT_MET,
            lambda: deal.seller.post(deal.buyer, pending_id, preimage=guess),
        )
    deal.seller.post(deal.buyer, pending_id, preimage=secret)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 4), st.sets(st.integers(0, 3)), st.sets(st.integers(0, 3)))
def test_m_of_n_approvals(threshold: int, signing: set[int], for_other_amount: set[int]) -> None:
    deal = _deal()
    agents = [SigningKey.derive(b"agents" * 6, f"agent {n}") for n in range(4)]
    rule = ApprovedBy(tuple(agent.verify_key for agent in agents), threshold)
    pending_id = deal.buyer.pay_pending(
        deal.seller, cny("50"), expires_at_us=_later(deal, 60), conditions=(rule,)
    ).instruction_id
    network = deal.ledger.network_id
    good = tuple(
        dcep.instructions.approve_release(
            agents[n], network, deal.buyer.address, pending_id, cny("50")
        )
        for n in sorted(signing)
    )
    # Approvals of another amount, another payment or from a stranger never count.
    stale = [
        dcep.instructions.approve_release(
            agents[n], network, deal.buyer.address, pending_id, cny("49")
        )
        for n in sorted(for_other_amount)
    ]
    stale.append(
        dcep.instructions.approve_release(
            agents[0], network, deal.buyer.address, pending_id + 1, cny("50")
        )
    )
    stranger = SigningKey.derive(b"stranger" * 4, "x")
    stale.append(
        dcep.instructions.approve_release(
            stranger, network, deal.buyer.address, pending_id, cny("50")
        )
    )
    if len(signing) < threshold:
        refused(
            deal.ledger,
            Reason.CONDITION_NOT_MET,
            lambda: deal.seller.post(deal.buyer, pending_id, approvals=(*good, *stale)),
        )
    else:
        deal.seller.post(deal.buyer, pending_id, approvals=(*stale, *good))
        assert deal.seller.balance == cny("150")


def test_an_escrow_agent_with_a_wallet_approves(deal: Deal) -> None:
    rule = ApprovedBy((deal.agent.verify_key,))
    pending_id = deal.buyer.pay_pending(
        deal.seller, cny("80"), expires_at_us=_later(deal, 60), conditions=(rule,)
    ).instruction_id
    approval = deal.agent.approve_release(deal.buyer.address, pending_id, cny("80"))
    deal.seller.post(deal.buyer, pending_id, approvals=(approval,))
    assert deal.seller.balance == cny("180")


def test_conditions_have_the_documented_bytes() -> None:
    # Written out by hand from dcep/instructions/_conditions.py's layout.
    key = VerifyKey(b"\x05" * 32)
    payment = PayPending(
        7,
        9,
        payer=dcep.Address(b"\x11" * 20),
        payee=dcep.Address(b"\x22" * 20),
        amount=dcep.Amount(1250),
        expires_at_us=2**40,
        conditions=(NotBefore(3), ApprovedBy((key,), 1), HashLock(b"\x06" * 32)),
        memo="",
    )
    head = bytes((1, 21)) + (7).to_bytes(16, "big") + (9).to_bytes(8, "big")
    fields = b"\x11" * 20 + b"\x22" * 20 + (1250).to_bytes(8, "big") + (2**40).to_bytes(8, "big")
    conditions = (
        b"\x03"
        + b"\x01" + (3).to_bytes(8, "big")
        + b"\x02\x01\x01" + b"\x05" * 32
        + b"\x03\x01" + b"\x06" * 32
    )  # fmt: skip
    assert encode_instruction(payment) == head + fields + conditions + b"\x00"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: ApprovedBy((), 1), "keys"),
        (lambda: ApprovedBy((VerifyKey(b"\x01" * 32),), 2), "threshold"),
        (lambda: ApprovedBy((VerifyKey(b"\x01" * 32),) * 2, 1), "keys"),
        (lambda: HashLock(b"short"), "digest"),
        (lambda: NotBefore(-1), "time_us"),
    ],
)
def test_malformed_conditions_are_refused(build: Callable[[], object], field: str) -> None:
    with pytest.raises(dcep.InvalidFieldError) as info:
        build()
    assert info.value.field == field


# --- Journal, replicas, snapshots and recovery ----------------------------------------


def _busy(deal: Deal) -> int:
    """Pending payments in every state; returns the id of one still outstanding."""
    ids = [
        deal.buyer.pay_pending(
            deal.seller, cny("10"), expires_at_us=_later(deal, s)
        ).instruction_id
        for s in (5, 50, 500, 5000)
    ]
    deal.seller.post(deal.buyer, ids[1], cny("4"))
    deal.seller.void(deal.buyer, ids[2])
    deal.clock.advance(seconds=6)
    deal.seller.pay(deal.agent, cny("1"))  # expires ids[0]
    return ids[3]


def test_a_replica_verifies_a_journal_of_pending_payments() -> None:
    deal = _deal(block_size=3)
    _busy(deal)
    journal = deal.ledger.journal
    assert journal is not None
    report = dcep.Replica(journal.store).catch_up()
    assert report.entries_verified == deal.ledger.entry_count


def test_the_same_run_gives_the_same_journal() -> None:
    def run() -> list[bytes]:
        deal = _deal(block_size=3)
        _busy(deal)
        journal = deal.ledger.journal
        assert journal is not None
        return [entry[2] for entry in journal.store.read_entries()]

    assert run() == run()


def test_a_snapshot_keeps_pending_payments(deal: Deal) -> None:
    outstanding = _busy(deal)
    rows = deal.ledger.snapshot()
    assert [row[0][20:] for row in rows.pending] == [outstanding.to_bytes(16, "big")]
    assert len(rows.pending_resolved) == 3
    copy = dcep.Ledger()
    copy.restore(rows)
    assert copy.pending_payments() == deal.ledger.pending_payments()
    assert copy.wallets() == deal.ledger.wallets()
    assert copy.violations() == []
    assert copy.snapshot() == rows
    # Losing the rows restores a state the invariants refuse.
    lossy = dcep.Ledger()
    lossy.restore(attrs.evolve(rows, pending=()))
    assert lossy.violations()


@pytest.mark.parametrize("close_first", [True, False])
def test_a_database_reopens_with_pending_payments_outstanding(
    tmp_path: Path, close_first: bool
) -> None:
    path = tmp_path / "ledger.db"
    clock = dcep.ManualClock()
    ledger = dcep.Ledger.open(path, clock=clock, block_size=2, snapshot_every_blocks=1)
    pboc = dcep.CentralBank(ledger, seed=25)
    bank = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("10000"))
    pboc.issue(bank, cny("5000"))
    payer = bank.open_wallet(category=4, phone="138")
    payee = bank.open_wallet(category=4, phone="139", seed=5)
    bank.fund(payer, cny("900"))
    lock = HashLock.of(b"open sesame")
    pending_id = payer.pay_pending(
        payee, cny("70"), expires_at_us=clock.now_us() + 60 * SECOND_US, conditions=(lock,)
    ).instruction_id
    payer.pay_pending(payee, cny("5"), expires_at_us=clock.now_us() + 10 * SECOND_US)
    expected = ledger.pending_payments()
    if close_first:
        ledger.close()  # a snapshot at the block boundary
    # Otherwise, as after a crash: the file holds what was committed, replayed on opening.
    again = dcep.Ledger.open(path, clock=clock)
    try:
        assert again.pending_payments() == expected
        again.check_invariants()
        bank_again = dcep.CentralBank.restore(again, seed=25).bank("ICBC")
        payee_again = bank_again.wallet(payee.address, seed=5)
        clock.advance(seconds=20)  # the ¥5 one expires with the next entry
        payee_again.post(payer.address, pending_id, preimage=b"open sesame")
        assert again.balance(payee.address) == cny("70")
        assert again.balance(payer.address) == cny("830")
        assert again.pending_payments() == []
        journal = again.journal
        assert journal is not None
        assert dcep.Replica(journal.store).catch_up().entries_verified == again.entry_count
    finally:
        again.close()
        if not close_first:
            ledger.close()


def test_the_regulator_lists_pending_payments_from_the_journal_alone() -> None:
    deal = _deal(block_size=3)
    journal = deal.ledger.journal
    assert journal is not None
    # One view follows the ledger from here on, one reads the store at the end.
    follower = dcep.regulator.ProgrammableView.from_store(journal.store)
    follower.follow(deal.ledger)
    _busy(deal)
    deal.buyer.pay_pending(deal.seller, cny("3"), expires_at_us=_later(deal, 5))
    read = dcep.regulator.ProgrammableView.from_store(journal.store)
    assert read.entry_count == follower.entry_count == deal.ledger.entry_count
    for view in (read, follower):
        assert view.pending_outstanding() == deal.ledger.pending_payments()
    # Past an expiry the journal has not recorded yet, as the ledger reads it.
    deal.clock.advance(seconds=10)
    now_us = deal.clock.now_us()
    assert read.pending_outstanding(now_us) == deal.ledger.pending_payments()
    assert len(read.pending_outstanding()) == len(read.pending_outstanding(now_us)) + 1


def test_the_regulator_sees_a_posting_as_one_payment() -> None:
    deal = _deal(block_size=4)
    journal = deal.ledger.journal
    assert journal is not None
    view = dcep.RegulatorView.from_store(journal.store)
    view.follow(deal.ledger)
    flows = view.flow_count
    pending_id = deal.buyer.pay_pending(
        deal.seller, cny("30"), expires_at_us=_later(deal, 60)
    ).instruction_id
    assert view.flow_count == flows  # reserving moves no money between holders
    receipt = deal.seller.post(deal.buyer, pending_id, cny("25"))
    flow = view.flow(receipt.entry_number)
    assert (flow.payer, flow.payee, flow.amount_fen) == (
        deal.buyer.address,
        deal.seller.address,
        2500,
    )
    assert view.balance_fen(deal.buyer.address) == deal.buyer.balance.fen
