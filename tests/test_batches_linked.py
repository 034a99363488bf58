"""Linked batches (issue #25, part 4): all members accepted, or none, and the refusal named.

A linked batch is a signed header (:class:`~dcep.instructions.LinkBatch`)
and its members, applied as consecutive entries at one time.  The
properties: a batch with a member that would be refused changes nothing
and names that member; one without is exactly the members applied one by
one; a block never splits a batch, a replica verifies it, and a replay that
does not hold exactly the members the header names is refused.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
import dcep.journal
from dcep import Reason, cny
from dcep.instructions import LinkBatch, SignedInstruction, linked_digest

ACCOUNT = "6222-0001"


@attrs.define
class Office:
    ledger: dcep.Ledger
    clock: dcep.ManualClock
    bank: dcep.Bank
    #: Category 2 holding ¥4,000 (single payment cap ¥5,000).
    employer: dcep.Wallet
    #: Category 4, each holding ¥100 (balance cap ¥1,000).
    staff: list[dcep.Wallet]


def _office(block_size: int | None = None) -> Office:
    clock = dcep.ManualClock()
    ledger = (
        dcep.Ledger(clock=clock)
        if block_size is None
        else dcep.Ledger.with_journal(clock=clock, block_size=block_size)
    )
    pboc = dcep.CentralBank(ledger, seed=26)
    bank = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("1000000"))
    pboc.issue(bank, cny("500000"))
    bank.pay_in(ACCOUNT, cny("20000"))
    employer = bank.open_wallet(
        category=2, phone="137", id_number="110101199001011234", linked_account=ACCOUNT
    )
    bank.fund(employer, cny("4000"))
    staff = [bank.open_wallet(category=4, phone=f"13{n}") for n in range(4)]
    for person in staff:
        bank.fund(person, cny("100"))
    return Office(ledger, clock, bank, employer, staff)


def _state(ledger: dcep.Ledger) -> tuple[object, ...]:
    return (ledger.entry_count, ledger.wallets(), ledger.supply(), ledger.pending_payments())


#: (payer index, payee index, yuan): index 0 is the employer, 1..4 the staff.
Payment = tuple[int, int, int]
payments = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(1, 1200)).filter(
        lambda p: p[0] != p[1]
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=30, deadline=None)
@given(payments)
def test_a_linked_batch_is_all_or_nothing(batch: list[Payment]) -> None:
    office = _office()
    ledger = office.ledger
    wallets = [office.employer, *office.staff]
    # The header is numbered first, so that the employer's own members follow it.
    linked = office.employer.linked()
    signed = [wallets[a].sign_payment(wallets[b], cny(str(y))) for a, b, y in batch]
    # What applying them one by one would do, on a copy of the ledger.
    alone = dcep.Ledger(clock=dcep.ManualClock(office.clock.now_us()))
    alone.restore(ledger.snapshot())
    outcomes = [alone.submit_many([member])[0] for member in signed]
    first_refused = next(
        (n for n, o in enumerate(outcomes) if isinstance(o, dcep.core.Rejection)), None
    )
    before = _state(ledger)
    count = ledger.entry_count
    linked.add(*signed)
    if first_refused is None:
        receipts = linked.submit()
        assert [r.postings for r in receipts] == [
            o.postings for o in outcomes if isinstance(o, dcep.Receipt)
        ]
        # The header, then the members, as consecutive entries.
        assert [r.entry_number for r in receipts] == list(
            range(count + 1, count + 1 + len(signed))
        )
        assert ledger.wallets() == alone.wallets()
    else:
        with pytest.raises(dcep.DcepError) as info:
            linked.submit()
        rejection = outcomes[first_refused]
        assert isinstance(rejection, dcep.core.Rejection)
        # The first refused member, named, for the reason it is refused alone
        # (members after it may have been refused too: it is the first).
        assert info.value.reason is rejection.reason
        assert f"member {first_refused + 1} of {len(signed)}" in str(info.value)
        assert _state(ledger) == before
    ledger.check_invariants()


def test_an_atomic_swap_between_two_wallets() -> None:
    office = _office()
    alice, bob = office.staff[:2]
    swap = alice.linked()
    swap.add(alice.sign_payment(bob, cny("30")), bob.sign_payment(alice, cny("70")))
    swap.submit()
    assert (alice.balance, bob.balance) == (cny("140"), cny("60"))
    # Bob cannot pay ¥200: so Alice's half does not happen either.
    again = bob.linked()
    again.add(alice.sign_payment(bob, cny("30")), bob.sign_payment(alice, cny("200")))
    before = _state(office.ledger)
    with pytest.raises(dcep.DcepError) as info:
        again.submit()
    assert info.value.reason is Reason.INSUFFICIENT_BALANCE
    assert "member 2 of 2" in str(info.value)
    assert _state(office.ledger) == before


def test_a_batch_may_mix_kinds_and_pending_payments() -> None:
    office = _office()
    payroll = office.employer.linked()
    expires_at_us = office.clock.now_us() + 60_000_000
    payroll.add(
        office.employer.sign_payment(office.staff[0], cny("500")),
        office.employer.sign_pending(office.staff[1], cny("500"), expires_at_us=expires_at_us),
    )
    payroll.submit()
    assert len(office.ledger.pending_payments()) == 1
    office.ledger.check_invariants()


def test_resubmitting_a_batch_returns_its_receipts() -> None:
    office = _office()
    header_and_members = _signed_batch(office)
    first = office.ledger.submit_linked(*header_and_members)
    entries = office.ledger.entry_count
    assert office.ledger.submit_linked(*header_and_members) == first
    assert office.ledger.entry_count == entries


def _signed_batch(office: Office) -> tuple[SignedInstruction, list[SignedInstruction]]:
    linked = office.employer.linked()
    linked.add(*(office.employer.sign_payment(p, cny("10")) for p in office.staff))
    members = list(linked.members)
    header = SignedInstruction.sign(
        LinkBatch(1000, 1000, members=len(members), digest=linked_digest(members)),
        dcep.values.SigningKey.derive(b"not the employer" * 2, "x"),
        office.ledger.network_id,
    )
    # Signed by the employer instead: a stranger may not submit a batch.
    with pytest.raises(dcep.DcepError) as info:
        office.ledger.submit_linked(header, members)
    assert info.value.reason is Reason.SIGNER_NOT_AUTHORISED
    return linked.signed_header(), members


def test_a_header_alone_or_for_other_members_is_refused() -> None:
    office = _office()
    header, members = _signed_batch(office)
    before = _state(office.ledger)
    for attempt in (
        lambda: office.ledger.submit(header),
        lambda: office.ledger.submit_linked(header, members[:-1]),
        lambda: office.ledger.submit_linked(header, members[::-1]),
    ):
        with pytest.raises(dcep.DcepError) as info:
            attempt()
        assert info.value.reason is Reason.LINKED_BATCH_INVALID
        assert _state(office.ledger) == before
    (rejection,) = office.ledger.submit_many([header])
    assert isinstance(rejection, dcep.core.Rejection)
    assert rejection.reason is Reason.LINKED_BATCH_INVALID


def test_a_member_already_accepted_cannot_join_a_batch() -> None:
    office = _office()
    payment = office.employer.sign_payment(office.staff[0], cny("1"))
    office.ledger.submit(payment)
    linked = office.staff[0].linked()
    linked.add(office.staff[0].sign_payment(office.staff[1], cny("1")), payment)
    before = _state(office.ledger)
    with pytest.raises(dcep.DcepError) as info:
        linked.submit()
    assert info.value.reason is Reason.LINKED_BATCH_INVALID
    assert _state(office.ledger) == before


def test_blocks_never_split_a_batch_and_a_replica_verifies() -> None:
    office = _office(block_size=2)
    linked = office.employer.linked()
    linked.add(*(office.employer.sign_payment(p, cny("10")) for p in office.staff))
    receipts = linked.submit()
    journal = office.ledger.journal
    assert journal is not None
    header_entry = receipts[0].entry_number - 1
    for _, raw, _ in journal.store.read_blocks():
        block = dcep.journal.BlockHeader.decode(raw)
        first, last = block.first_entry, block.first_entry + block.entry_count - 1
        # No block ends inside the batch: after its header and before its last member.
        assert not header_entry <= last < receipts[-1].entry_number
        assert first >= 0
    report = dcep.Replica(journal.store).catch_up()
    assert report.entries_verified == office.ledger.entry_count


def test_a_replay_refuses_other_members_than_the_header_names() -> None:
    office = _office()
    header, members = _signed_batch(office)
    replay = dcep.Ledger(clock=dcep.ManualClock(office.clock.now_us()))
    replay.restore(office.ledger.snapshot())
    at_us = office.clock.now_us()
    replay.reapply(header, at_us)
    for member in members[:-1]:
        replay.reapply(member, at_us)
    stranger = office.staff[3].sign_payment(office.staff[0], cny("1"))
    with pytest.raises(dcep.DcepError) as info:
        replay.reapply(stranger, at_us)
    assert info.value.reason is Reason.LINKED_BATCH_INVALID
