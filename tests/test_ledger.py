"""Example-based tests of the ledger's behaviour, every figure worked out by hand.

Most tests drive the ledger through the parties (:class:`dcep.CentralBank`,
:class:`dcep.Bank`, :class:`dcep.Wallet`), as a user would.  Where a test
must choose ids and sequence numbers itself (idempotency, ordering), it signs
raw instructions with keys it holds (:class:`Party`).
"""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
from collections.abc import Callable
from typing import TypedDict

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcep import (
    Address,
    Amount,
    Bank,
    CategoryLimits,
    CentralBank,
    DcepError,
    DuplicateError,
    InstitutionCode,
    InsufficientFundsError,
    InvalidFieldError,
    Ledger,
    LimitExceededError,
    ManualClock,
    NotAuthorisedError,
    Policy,
    Reason,
    Receipt,
    SequenceError,
    SignatureError,
    UnknownPartyError,
    Wallet,
    WalletCategory,
    cny,
)
from dcep.core import AccountKind, LedgerEntry, Posting, Rejection
from dcep.instructions import (
    AuthoriseBank,
    Fund,
    Genesis,
    Instruction,
    InstructionKind,
    Issue,
    OpenWallet,
    SignedInstruction,
    Transfer,
)
from dcep.values import KycField, SigningKey, VerifyKey
from dcep.values._policy import year_of_day

from .strategies import int_seeds

BEIJING = dt.timezone(dt.timedelta(hours=8))
_SEED = b"dcep tests: ledger"


def fen(text: str) -> int:
    return cny(text).fen


# --- Building economies -------------------------------------------------------------


@attrs.frozen
class Economy:
    """A ledger with a central bank and ICBC: ¥1,000,000 pledged, ¥500,000 issued."""

    ledger: Ledger
    pboc: CentralBank
    icbc: Bank


def _economy(
    *, policy: Policy | None = None, clock: ManualClock | None = None, network_id: str = "dcep-sim"
) -> Economy:
    ledger = Ledger(network_id=network_id, policy=policy, clock=clock)
    pboc = CentralBank(ledger, seed="test_ledger")
    icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("1000000"))
    pboc.issue(icbc, cny("500000"))
    return Economy(ledger, pboc, icbc)


def _anonymous(bank: Bank, phone: str = "13800000000") -> Wallet:
    return bank.open_wallet(category=4, phone=phone)


def _in_person(bank: Bank, account: str) -> Wallet:
    """A category 1 wallet, linked to ``account`` (paid in with ¥1 if new)."""
    bank.pay_in(account, cny("1"))
    return bank.open_wallet(
        category=1,
        phone="13700000000",
        id_number="110101199001011234",
        name="Zhang San",
        linked_account=account,
        in_person=True,
    )


def _state_of(ledger: Ledger) -> tuple[object, ...]:
    return (ledger.supply(), ledger.banks(), list(ledger.wallets()), ledger.entry_count)


Build = Callable[[int, int], Instruction]


@attrs.define
class Party:
    """A key the test holds; ``sign`` numbers ids and sequences from 1 unless told."""

    ledger: Ledger
    key: SigningKey
    next_number: int = 1

    @property
    def address(self) -> Address:
        return self.key.address

    @property
    def verify_key(self) -> VerifyKey:
        return self.key.verify_key

    def sign(self, build: Build) -> SignedInstruction:
        number = self.next_number
        self.next_number += 1
        return SignedInstruction.sign(build(number, number), self.key, self.ledger.network_id)

    def sign_as(self, instruction: Instruction) -> SignedInstruction:
        return SignedInstruction.sign(instruction, self.key, self.ledger.network_id)

    def submit(self, build: Build) -> Receipt:
        return self.ledger.submit(self.sign(build))


@attrs.frozen
class RawWorld:
    """A ledger built from test-held keys: Alice (category 4) holds ¥800, Bob nothing."""

    ledger: Ledger
    bank: Party
    alice: Party
    bob: Party

    def transfer(
        self, instruction_id: int, sequence: int, amount: str, *, memo: str = ""
    ) -> SignedInstruction:
        """Alice pays Bob, with the id and sequence the test chooses."""
        return self.alice.sign_as(
            Transfer(
                instruction_id,
                sequence,
                payer=self.alice.address,
                payee=self.bob.address,
                amount=cny(amount),
                memo=memo,
            )
        )


def _open_anonymous(key: VerifyKey) -> Build:
    return lambda i, s: OpenWallet(
        i, s, wallet_key=key, category=4, linked_account="", kyc_digest=bytes(32)
    )


def _raw_world(policy: Policy | None = None) -> RawWorld:
    ledger = Ledger(policy=policy)
    central, bank, alice, bob = (
        Party(ledger, SigningKey.derive(_SEED, label))
        for label in ("central", "bank", "alice", "bob")
    )
    central.submit(
        lambda i, s: Genesis(i, s, name="PBOC", code=InstitutionCode.parse("MA.156.1100.00"))
    )
    central.submit(
        lambda i, s: AuthoriseBank(
            i,
            s,
            bank_key=bank.verify_key,
            name="ICBC",
            code=InstitutionCode.parse("MA.156.1100.01"),
            reserves=cny("10000"),
        )
    )
    central.submit(lambda i, s: Issue(i, s, bank=bank.address, amount=cny("10000")))
    for wallet in (alice, bob):
        bank.submit(_open_anonymous(wallet.verify_key))
    bank.submit(lambda i, s: Fund(i, s, wallet=alice.address, amount=cny("800"), from_account=""))
    return RawWorld(ledger, bank, alice, bob)


# --- The walkthrough ------------------------------------------------------------------


def test_walkthrough() -> None:
    ledger = Ledger()
    pboc = CentralBank(ledger, seed="walkthrough")
    assert ledger.central_bank is not None
    assert ledger.central_bank.name == "People's Bank of China"
    assert str(ledger.central_bank.code) == "MA.156.1100.00"
    assert ledger.central_bank.address == pboc.address

    icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("1000000"))
    ccb = pboc.authorise_bank(
        "China Construction Bank", code="MA.156.1100.02", reserves=cny("600000")
    )
    pboc.issue(icbc, cny("500000"))
    pboc.issue(ccb, cny("200000"))

    icbc.pay_in("6222-0001", cny("20000"))
    icbc.pay_in("6222-0002", cny("8000"))
    ccb.pay_in("6217-0001", cny("5000"))

    w1 = icbc.open_wallet(
        category=1,
        phone="13700000000",
        id_number="110101199001011234",
        name="Wang",
        linked_account="6222-0001",
        in_person=True,
    )
    w2 = icbc.open_wallet(
        category=2, phone="13800000000", id_number="110101199202022345", linked_account="6222-0002"
    )
    w3 = ccb.open_wallet(category=3, phone="13900000000", id_number="110101199303033456")
    w4 = ccb.open_wallet(category=4, phone="13600000000")
    assert [w.category for w in (w1, w2, w3, w4)] == list(WalletCategory)

    fund_w1 = icbc.fund(w1, cny("15000"))  # from the linked 6222-0001: 20,000 -> 5,000
    icbc.fund(w2, cny("3000"))  # from the linked 6222-0002: 8,000 -> 5,000
    ccb.fund(w3, cny("1500"))  # no linked account: over the counter
    ccb.fund(w4, cny("900"))  # over the counter
    assert fund_w1.postings == (
        Posting(AccountKind.DEPOSIT, icbc.address, -fen("15000"), "6222-0001"),
        Posting(AccountKind.VAULT, icbc.address, -fen("15000")),
        Posting(AccountKind.WALLET, w1.address, fen("15000")),
    )

    w1.pay(w3, cny("400"))  # w1 14,600; w3 1,900 (cap 2,000)
    w4.pay(w2, cny("500"), memo="rent")  # exactly the category 4 single-payment cap
    w3.pay(w4, cny("12.50"), memo="noodles")  # w3 1,887.50; w4 412.50
    w2.defund(cny("1000"))  # back into 6222-0002: 5,000 -> 6,000
    w1.defund(cny("600"))  # back into 6222-0001: 5,000 -> 5,600
    redeemed = icbc.redeem(cny("100000"))
    assert redeemed.kind is InstructionKind.REDEEM
    assert redeemed.postings == (
        Posting(AccountKind.VAULT, icbc.address, -fen("100000")),
        Posting(AccountKind.RESERVES, icbc.address, fen("100000")),
    )

    assert [w.balance for w in (w1, w2, w3, w4)] == [
        cny("14000"),
        cny("2500"),
        cny("1887.50"),
        cny("412.50"),
    ]
    # ICBC: vault 500,000 - 15,000 - 3,000 + 1,000 + 600 - 100,000 = 383,600;
    # cash is the 28,000 paid in; deposits 5,600 + 6,000.
    assert ledger.bank("ICBC") == ledger.bank(icbc.address)
    info = ledger.bank("ICBC")
    assert info.reserves_pledged == cny("1000000")
    assert info.outstanding_issuance == cny("400000")
    assert info.reserves_available == cny("600000")
    assert info.vault == cny("383600")
    assert info.cash == cny("28000")
    assert info.customer_deposits == cny("11600")
    assert info.wallet_count == 2
    # CCB: vault 200,000 - 1,500 - 900; cash 5,000 + 1,500 + 900; deposits 5,000.
    info = ledger.bank("MA.156.1100.02")
    assert info.outstanding_issuance == cny("200000")
    assert info.reserves_available == cny("400000")
    assert info.vault == cny("197600")
    assert info.cash == cny("7400")
    assert info.customer_deposits == cny("5000")
    assert info.wallet_count == 2
    # Books balance at each bank: vault + cash - outstanding == deposits.
    for bank in ledger.banks():
        assert bank.vault + bank.cash - bank.outstanding_issuance == bank.customer_deposits

    supply = ledger.check_invariants()
    assert supply.issued == cny("700000")
    assert supply.redeemed == cny("100000")
    assert supply.outstanding == cny("600000")
    assert supply.in_vaults == cny("581200")
    assert supply.in_wallets == cny("18800")
    assert supply == ledger.supply()
    # 1 genesis, 2 banks, 2 issues, 3 pay-ins, 4 wallets, 4 fundings, 3 payments,
    # 2 defunds, 1 redemption.
    assert ledger.entry_count == 22

    snapshot = ledger.wallet(w4.address)
    assert snapshot.category is WalletCategory.ANONYMOUS
    assert snapshot.operator == ccb.address
    assert snapshot.linked_account == ""
    assert snapshot.spent_today == cny("500")
    assert snapshot.spent_this_year == cny("500")
    # Defunding to one's own account is not a payment.
    assert ledger.wallet(w2.address).spent_today == Amount(0)
    assert ledger.wallet(w1.address).spent_today == cny("400")
    assert ledger.wallet(w1.address).linked_account == "6222-0001"


def test_central_bank_installs_once() -> None:
    economy = _economy()
    ledger = economy.ledger
    count = ledger.entry_count
    # The same seed is the same key: already installed, nothing is submitted.
    again = CentralBank(ledger, seed="test_ledger")
    assert again.address == economy.pboc.address
    assert ledger.entry_count == count
    with pytest.raises(DuplicateError) as info:
        CentralBank(ledger, seed="somebody else")
    assert info.value.reason is Reason.LEDGER_ALREADY_INITIALISED
    assert ledger.entry_count == count


@pytest.mark.parametrize("seed", [1.5, [1], object()])
def test_a_seed_is_an_int_a_str_or_bytes(seed: object) -> None:
    ledger = Ledger()
    with pytest.raises(InvalidFieldError) as info:
        CentralBank(ledger, seed=seed)  # type: ignore[arg-type]
    assert info.value.field == "seed"
    assert ledger.entry_count == 0


# --- Idempotency and ordering -----------------------------------------------------------


def test_the_same_instruction_twice_gives_the_same_receipt() -> None:
    economy = _economy()
    ledger = economy.ledger
    alice = _anonymous(economy.icbc)
    bob = _anonymous(economy.icbc, phone="13900000000")
    economy.icbc.fund(alice, cny("500"))
    seen: list[LedgerEntry] = []
    ledger.subscribe(seen.append)
    count = ledger.entry_count

    signed = alice.sign_payment(bob, cny("12.50"))
    first = ledger.submit(signed)
    assert ledger.submit(signed) == first
    assert ledger.submit(signed.to_bytes()) == first
    assert ledger.entry_count == count + 1
    assert [entry.receipt for entry in seen] == [first]
    assert alice.balance == cny("487.50")
    assert bob.balance == cny("12.50")
    assert ledger.wallet(alice.address).spent_today == cny("12.50")


def test_the_same_id_with_other_content_is_refused() -> None:
    world = _raw_world()
    ledger = world.ledger
    first = ledger.submit(world.transfer(5, 1, "1"))
    before = _state_of(ledger)
    for other in (
        world.transfer(5, 2, "2"),  # another amount
        world.transfer(5, 2, "1", memo="again"),  # only the memo differs
        world.transfer(5, 1, "1", memo="x"),  # even with the same sequence
    ):
        with pytest.raises(DuplicateError) as info:
            ledger.submit(other)
        assert info.value.reason is Reason.ID_REUSED
        assert info.value.instruction_id == 5
        assert _state_of(ledger) == before
    # The original is still recognised, and another signer may use the same id.
    assert ledger.submit(world.transfer(5, 1, "1")) == first
    back = world.bob.sign_as(
        Transfer(5, 1, payer=world.bob.address, payee=world.alice.address, amount=cny("1"))
    )
    assert ledger.submit(back).instruction_id == 5


def test_a_retry_is_recognised_after_later_instructions() -> None:
    world = _raw_world()
    ledger = world.ledger
    first = ledger.submit(world.transfer(1, 1, "1"))
    ledger.submit(world.transfer(2, 2, "2"))
    # Idempotency comes before the sequence check: a late retry is not a replay.
    assert ledger.submit(world.transfer(1, 1, "1")) == first
    assert ledger.balance(world.alice.address) == cny("797")
    assert ledger.last_sequence(world.alice.address) == 2


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 4),
    st.lists(st.tuples(st.integers(1, 5), st.integers(0, 2), st.integers(1, 3)), max_size=30),
)
def test_retries_get_their_receipt_for_exactly_the_window_of_latest_entries(
    window: int, steps: list[tuple[int, int, int]]
) -> None:
    """Ids come from a small pool, so they are retried and reused in and out of the window.

    The model: the latest ``window`` entries are remembered by (signer, id);
    a retry of one gets its receipt, other bytes under its id are
    ``ID_REUSED``; anything else needs a sequence above the signer's last.
    An id forgotten may be used again.  Snapshots hold the window exactly.
    """
    world = _raw_world(attrs.evolve(Policy(), idempotency_window=window))
    ledger = world.ledger
    alice = world.alice.address
    latest: list[tuple[int, SignedInstruction, Receipt]] = []  # Alice's entries, in order
    last = 0
    for instruction_id, bump, fen in steps:
        sequence = max(1, last + bump)
        signed = world.transfer(instruction_id, sequence, f"0.0{fen}")
        oldest = ledger.entry_count - window
        remembered = {
            i: (prior, receipt) for i, prior, receipt in latest if receipt.entry_number >= oldest
        }
        before, next_entry = _state_of(ledger), ledger.entry_count
        if instruction_id in remembered:
            prior, receipt = remembered[instruction_id]
            if prior.to_bytes() == signed.to_bytes():
                assert ledger.submit(signed) == receipt
            else:
                with pytest.raises(DuplicateError) as refused:
                    ledger.submit(signed)
                assert refused.value.reason is Reason.ID_REUSED
            assert _state_of(ledger) == before
        elif sequence <= last:
            with pytest.raises(SequenceError) as replayed:
                ledger.submit(signed)
            assert replayed.value.reason is Reason.SEQUENCE_REPLAYED
            assert _state_of(ledger) == before
        else:
            receipt = ledger.submit(signed)
            assert receipt.entry_number == next_entry
            latest.append((instruction_id, signed, receipt))
            last = sequence
        ledger.check_invariants()
        rows = ledger.snapshot().receipts
        count = ledger.entry_count
        assert sorted(row[3] for row in rows) == list(range(count - min(window, count), count))
        assert sorted((row[3], row[1]) for row in rows if row[0] == bytes(alice)) == [
            (receipt.entry_number, i)
            for i, _, receipt in latest
            if receipt.entry_number >= count - window
        ]


def test_sequence_numbers_may_skip_but_never_go_back() -> None:
    world = _raw_world()
    ledger = world.ledger
    alice = world.alice.address
    assert ledger.last_sequence(alice) == 0
    ledger.submit(world.transfer(1, 1, "1"))
    ledger.submit(world.transfer(2, 5, "1"))  # skips 2, 3 and 4
    assert ledger.last_sequence(alice) == 5
    for instruction_id, sequence in ((3, 3), (4, 5), (5, 1)):
        before = _state_of(ledger)
        with pytest.raises(SequenceError) as info:
            ledger.submit(world.transfer(instruction_id, sequence, "1"))
        assert info.value.reason is Reason.SEQUENCE_REPLAYED
        assert info.value.field == "sequence"
        assert _state_of(ledger) == before
        assert ledger.last_sequence(alice) == 5
    ledger.submit(world.transfer(6, 6, "1"))
    assert ledger.last_sequence(alice) == 6
    assert ledger.balance(alice) == cny("797")


def test_refused_instructions_are_not_remembered() -> None:
    world = _raw_world()
    ledger = world.ledger
    with pytest.raises(InsufficientFundsError):
        ledger.submit(world.transfer(1, 1, "800.01"))
    # Neither the id nor the sequence was used up: correct it and send it again.
    assert ledger.last_sequence(world.alice.address) == 0
    receipt = ledger.submit(world.transfer(1, 1, "500"))
    assert receipt.instruction_id == 1
    assert ledger.balance(world.alice.address) == cny("300")
    assert ledger.balance(world.bob.address) == cny("500")


def test_the_last_sequence_number_is_final() -> None:
    world = _raw_world()
    world.ledger.submit(world.transfer(1, 2**64 - 1, "1"))
    with pytest.raises(SequenceError):
        world.ledger.submit(world.transfer(2, 2**64 - 1, "1"))


def test_payments_signed_in_one_order_cannot_be_applied_in_another() -> None:
    economy = _economy()
    alice = _anonymous(economy.icbc)
    bob = _anonymous(economy.icbc, phone="13900000000")
    economy.icbc.fund(alice, cny("100"))
    first = alice.sign_payment(bob, cny("1"))
    second = alice.sign_payment(bob, cny("2"))
    economy.ledger.submit(second)
    with pytest.raises(SequenceError) as info:
        economy.ledger.submit(first)
    assert info.value.reason is Reason.SEQUENCE_REPLAYED
    assert bob.balance == cny("2")


# --- Batches and subscribers ------------------------------------------------------------


_FLAWS = ("none", "forged", "garbage", "overdraft", "replay")


@settings(max_examples=25, deadline=None)
@given(
    # The length drawn first, so that long batches are as likely as short ones.
    st.integers(0, 90).flatmap(
        lambda n: st.lists(st.sampled_from(_FLAWS), min_size=n, max_size=n)
    ),
    int_seeds,
)
def test_a_batch_gives_what_submitting_one_by_one_gives(flaws: list[str], seed: int) -> None:
    """Whatever the batch's length (across the ledger's check-ahead chunks) and refusals."""
    rng = random.Random(seed)
    batch: list[SignedInstruction | bytes] = []
    world = _raw_world()
    sequence = 0
    for number, flaw in enumerate(flaws, start=1):
        if flaw == "garbage":
            batch.append(rng.randbytes(rng.randrange(200)))
            continue
        if flaw != "replay":
            sequence += 1
        amount = "900" if flaw == "overdraft" else f"0.0{rng.randrange(1, 10)}"
        signed = world.transfer(number, max(sequence, 1), amount)
        if flaw == "forged":
            signed = SignedInstruction(signed.signer, bytes(64), signed.body)
        batch.append(signed)
    together, one_by_one = world.ledger, _raw_world().ledger
    seen: list[LedgerEntry] = []
    one_by_one.subscribe(seen.append)

    def alone(item: SignedInstruction | bytes) -> Receipt | tuple[int | None, Reason]:
        try:
            return one_by_one.submit(item)
        except DcepError as error:
            return error.instruction_id, error.reason

    expected = [alone(item) for item in batch]
    got = [
        (result.instruction_id, result.reason) if isinstance(result, Rejection) else result
        for result in together.submit_many(batch)
    ]
    assert got == expected
    assert _state_of(together) == _state_of(one_by_one)
    assert [e.receipt for e in seen] == [r for r in got if isinstance(r, Receipt)]


def test_a_rejection_in_a_batch_does_not_stop_the_rest() -> None:
    economy = _economy()
    ledger = economy.ledger
    alice = _anonymous(economy.icbc)
    bob = _anonymous(economy.icbc, phone="13900000000")
    economy.icbc.fund(alice, cny("1000"))
    count = ledger.entry_count

    batch: list[SignedInstruction | bytes] = [
        alice.sign_payment(bob, cny("100")),  # fine: Alice 900, Bob 100
        alice.sign_payment(bob, cny("600")),  # above the ¥500 single-payment cap
        bob.sign_payment(alice, cny("50")),  # fine: Alice 950, Bob 50
        b"\x00not an envelope",
        alice.sign_payment(bob, cny("999")),  # Alice has only 950
        alice.sign_payment(bob, cny("0.01")).to_bytes(),  # fine, as bytes
    ]
    results = ledger.submit_many(batch)

    assert [type(result) for result in results] == [
        Receipt,
        Rejection,
        Receipt,
        Rejection,
        Rejection,
        Receipt,
    ]
    receipts = [result for result in results if isinstance(result, Receipt)]
    assert [receipt.entry_number for receipt in receipts] == [count, count + 1, count + 2]
    assert [receipt.signer for receipt in receipts] == [alice.address, bob.address, alice.address]
    rejections = [result for result in results if isinstance(result, Rejection)]
    assert [rejection.reason for rejection in rejections] == [
        Reason.SINGLE_PAYMENT_CAP_EXCEEDED,
        Reason.ENCODING_MALFORMED,
        Reason.INSUFFICIENT_BALANCE,
    ]
    # Alice signed 100 (id 1), 600 (id 2), 999 (id 3) and 0.01 (id 4).
    assert [rejection.instruction_id for rejection in rejections] == [2, None, 3]
    assert all(isinstance(rejection.error, DcepError) for rejection in rejections)
    assert ledger.entry_count == count + 3
    assert alice.balance == cny("949.99")
    assert bob.balance == cny("50.01")
    assert ledger.submit_many([]) == []
    ledger.check_invariants()


def test_subscribers_see_accepted_entries_in_order() -> None:
    economy = _economy()
    ledger = economy.ledger
    alice = _anonymous(economy.icbc)
    bob = _anonymous(economy.icbc, phone="13900000000")
    economy.icbc.fund(alice, cny("300"))
    seen: list[LedgerEntry] = []
    also_seen: list[int] = []
    unsubscribe = ledger.subscribe(seen.append)
    ledger.subscribe(lambda entry: also_seen.append(entry.number))

    one = alice.sign_payment(bob, cny("10"))
    receipt_one = ledger.submit(one)
    with pytest.raises(InsufficientFundsError):
        alice.pay(bob, cny("1000"))
    two = bob.sign_payment(alice, cny("3"))
    receipt_two = ledger.submit(two)

    assert [entry.receipt for entry in seen] == [receipt_one, receipt_two]
    assert [entry.signed for entry in seen] == [one, two]
    assert [entry.number for entry in seen] == [
        receipt_one.entry_number,
        receipt_one.entry_number + 1,
    ]
    assert also_seen == [entry.number for entry in seen]

    unsubscribe()
    unsubscribe()  # a second call is harmless
    receipt_three = alice.pay(bob, cny("1"))
    assert len(seen) == 2
    assert also_seen[-1] == receipt_three.entry_number


def test_a_subscriber_reads_the_ledger_as_of_its_entry() -> None:
    economy = _economy()
    ledger = economy.ledger
    alice = _anonymous(economy.icbc)
    balances: list[Amount] = []
    ledger.subscribe(lambda entry: balances.append(ledger.balance(alice.address)))
    economy.icbc.fund(alice, cny("10"))
    economy.icbc.fund(alice, cny("5"))
    assert balances == [cny("10"), cny("15")]


# --- Caps and the calendar ---------------------------------------------------------------


def test_the_daily_cap_resets_at_beijing_midnight() -> None:
    clock = ManualClock.at(dt.datetime(2026, 3, 10, 23, 0, tzinfo=BEIJING))
    economy = _economy(clock=clock)
    payer = _anonymous(economy.icbc)
    payee = _in_person(economy.icbc, "6222-0001")
    # Category 4: ¥500 a payment, ¥1,000 a day, ¥1,000 held.
    economy.icbc.fund(payer, cny("1000"))
    payer.pay(payee, cny("500"))
    payer.pay(payee, cny("500"))
    economy.icbc.fund(payer, cny("1000"))
    with pytest.raises(LimitExceededError) as info:
        payer.pay(payee, cny("0.01"))
    assert info.value.reason is Reason.DAILY_CAP_EXCEEDED
    assert info.value.field == "daily_cap"

    clock.advance(seconds=59 * 60 + 59)  # 23:59:59 in Beijing: still the same day
    with pytest.raises(LimitExceededError) as info:
        payer.pay(payee, cny("0.01"))
    assert info.value.reason is Reason.DAILY_CAP_EXCEEDED

    clock.advance(seconds=1)  # 00:00:00 on the 11th in Beijing
    receipt = payer.pay(payee, cny("0.01"))
    assert receipt.accepted_at_us == clock.now_us()
    snapshot = economy.ledger.wallet(payer.address)
    assert snapshot.spent_today == cny("0.01")
    assert snapshot.spent_this_year == cny("1000.01")
    assert snapshot.balance == cny("999.99")


def test_the_daily_cap_does_not_reset_at_utc_midnight() -> None:
    # 07:30 in Beijing is 23:30 UTC the day before.
    clock = ManualClock.at(dt.datetime(2026, 3, 10, 7, 30, tzinfo=BEIJING))
    economy = _economy(clock=clock)
    payer = _anonymous(economy.icbc)
    payee = _in_person(economy.icbc, "6222-0001")
    economy.icbc.fund(payer, cny("1000"))
    payer.pay(payee, cny("500"))
    payer.pay(payee, cny("500"))
    economy.icbc.fund(payer, cny("1000"))
    clock.advance(hours=1)  # 00:30 UTC, a new UTC day; 08:30 in Beijing, the same day
    with pytest.raises(LimitExceededError) as info:
        payer.pay(payee, cny("0.01"))
    assert info.value.reason is Reason.DAILY_CAP_EXCEEDED
    # Up to 23:59:59.999999 in Beijing: 15 h 29 min 59.999999 s later.
    clock.advance(hours=15, seconds=29 * 60 + 59, microseconds=999_999)
    with pytest.raises(LimitExceededError):
        payer.pay(payee, cny("0.01"))
    clock.advance(microseconds=1)
    payer.pay(payee, cny("0.01"))


def test_the_annual_cap_resets_at_the_beijing_new_year() -> None:
    clock = ManualClock.at(dt.datetime(2026, 12, 21, 12, 0, tzinfo=BEIJING))
    economy = _economy(clock=clock)
    payer = _anonymous(economy.icbc)
    payee = _in_person(economy.icbc, "6222-0001")
    # Category 4: ¥10,000 a year = ¥1,000 a day on the ten days 21 to 30 December.
    for _ in range(10):
        economy.icbc.fund(payer, cny("1000"))
        payer.pay(payee, cny("500"))
        payer.pay(payee, cny("500"))
        clock.advance(days=1)
    assert economy.ledger.wallet(payer.address).spent_this_year == cny("10000")
    economy.icbc.fund(payer, cny("1000"))
    # 31 December, noon: a new day, but the year's allowance is used up.
    with pytest.raises(LimitExceededError) as info:
        payer.pay(payee, cny("0.01"))
    assert info.value.reason is Reason.ANNUAL_CAP_EXCEEDED
    assert info.value.field == "annual_cap"

    clock.advance(hours=11, seconds=59 * 60 + 59)  # 23:59:59 on 31 December in Beijing
    with pytest.raises(LimitExceededError) as info:
        payer.pay(payee, cny("0.01"))
    assert info.value.reason is Reason.ANNUAL_CAP_EXCEEDED

    # 00:00 on 1 January 2027 in Beijing, still 2026 in UTC (16:00 on 31 December).
    clock.advance(seconds=1)
    assert dt.datetime.fromtimestamp(clock.now_us() // 1_000_000, dt.UTC).year == 2026
    payer.pay(payee, cny("0.01"))
    snapshot = economy.ledger.wallet(payer.address)
    assert snapshot.spent_this_year == cny("0.01")
    assert snapshot.spent_today == cny("0.01")
    assert payee.balance == cny("10000.01")  # the ¥1 paid in went to a deposit, not here


def test_a_wallet_snapshot_counts_only_todays_spending() -> None:
    clock = ManualClock.at(dt.datetime(2026, 12, 31, 20, 0, tzinfo=BEIJING))
    economy = _economy(clock=clock)
    payer = _anonymous(economy.icbc)
    payee = _anonymous(economy.icbc, phone="13900000000")
    economy.icbc.fund(payer, cny("300"))
    payer.pay(payee, cny("120"))
    assert economy.ledger.wallet(payer.address).spent_today == cny("120")
    assert economy.ledger.wallet(payer.address).spent_this_year == cny("120")
    # Past midnight in Beijing, and into a new year: nothing spent yet today or this year.
    clock.advance(hours=5)
    snapshot = economy.ledger.wallet(payer.address)
    assert snapshot.spent_today == Amount(0)
    assert snapshot.spent_this_year == Amount(0)
    assert [w.spent_today for w in economy.ledger.wallets()] == [Amount(0), Amount(0)]


_FIRST_DATETIME_DAY = (dt.date.min - dt.date(1970, 1, 1)).days
_LAST_DATETIME_DAY = (dt.date.max - dt.date(1970, 1, 1)).days


@given(st.integers(_FIRST_DATETIME_DAY, _LAST_DATETIME_DAY))
def test_the_calendar_year_is_datetimes_where_datetime_reaches(day: int) -> None:
    assert year_of_day(day) == (dt.date(1970, 1, 1) + dt.timedelta(days=day)).year


@given(st.integers(-(10**9), 10**9))
def test_the_calendar_year_goes_on_past_datetime(day: int) -> None:
    # The Gregorian calendar repeats every 400 years (146,097 days), and a
    # year changes by one at most from one day to the next.
    assert year_of_day(day + 146_097) == year_of_day(day) + 400
    assert year_of_day(day + 1) - year_of_day(day) in (0, 1)


def test_payments_keep_their_caps_after_the_year_9999() -> None:
    # Journals hold times to year 294,000; the calendar must too.
    clock = ManualClock.at(dt.datetime(9999, 12, 31, 12, 0, tzinfo=dt.UTC))
    economy = _economy(clock=clock)
    payer = _anonymous(economy.icbc)
    payee = _anonymous(economy.icbc, phone="13900000000")
    economy.icbc.fund(payer, cny("300"))
    clock.advance(days=1)  # the year 10000 in Beijing and in UTC
    payer.pay(payee, cny("120"))
    snapshot = economy.ledger.wallet(payer.address)
    assert snapshot.spent_today == cny("120")
    assert snapshot.spent_this_year == cny("120")
    clock.advance(days=366)  # 10000 is a leap year: this is 10001
    assert economy.ledger.wallet(payer.address).spent_this_year == Amount(0)


@pytest.mark.parametrize(
    "fields",
    [
        {"utc_offset_minutes": 0.5},
        {"utc_offset_minutes": True},
        {"utc_offset_minutes": 24 * 60},
        {"utc_offset_minutes": -(10**12)},
        {"reserve_mode": "full"},
        {"categories": [1]},
        {"categories": {1: "nonsense", 2: None, 3: None, 4: None}},
    ],
)
def test_a_policy_refuses_what_it_cannot_hold(fields: dict[str, object]) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        Policy(**fields)  # type: ignore[arg-type]
    assert caught.value.reason is Reason.FIELD_INVALID
    assert isinstance(caught.value, ValueError)


def test_a_policy_refuses_limits_that_are_not_limits() -> None:
    with pytest.raises(InvalidFieldError) as caught:
        Policy().with_limits(4, "nonsense")  # type: ignore[arg-type]
    assert caught.value.field == "categories"
    with pytest.raises(InvalidFieldError):
        Policy.from_text(None)  # type: ignore[arg-type]


def test_the_payee_balance_cap() -> None:
    economy = _economy()
    payer = _in_person(economy.icbc, "6222-0001")
    payee = _anonymous(economy.icbc)
    economy.icbc.fund(payer, cny("5000"), from_account="")
    economy.icbc.fund(payee, cny("900"))
    before = _state_of(economy.ledger)
    with pytest.raises(LimitExceededError) as info:
        payer.pay(payee, cny("100.01"))
    error = info.value
    assert error.reason is Reason.BALANCE_CAP_EXCEEDED
    assert error.field == "balance_cap"
    assert error.party == str(payee.address)
    assert _state_of(economy.ledger) == before
    assert economy.ledger.wallet(payer.address).spent_today == Amount(0)
    payer.pay(payee, cny("100"))  # exactly the ¥1,000 cap
    assert payee.balance == cny("1000")
    assert payer.balance == cny("4900")


# --- Funding and defunding ----------------------------------------------------------------


def test_funding_over_the_counter_and_from_deposits() -> None:
    economy = _economy()
    ledger, icbc = economy.ledger, economy.icbc
    icbc.pay_in("6222-0001", cny("3000"))
    icbc.pay_in("6222-0002", cny("1000"))
    anonymous = _anonymous(icbc)
    linked = icbc.open_wallet(
        category=2, phone="13900000000", id_number="110101199001011234", linked_account="6222-0001"
    )

    def books() -> tuple[Amount, Amount, Amount]:
        info = ledger.bank("ICBC")
        assert info.vault + info.cash - info.outstanding_issuance == info.customer_deposits
        return info.vault, info.cash, info.customer_deposits

    assert books() == (cny("500000"), cny("4000"), cny("4000"))

    counter = icbc.fund(anonymous, cny("300"))  # no linked account: cash at the counter
    assert counter.postings == (
        Posting(AccountKind.CASH, icbc.address, fen("300")),
        Posting(AccountKind.VAULT, icbc.address, -fen("300")),
        Posting(AccountKind.WALLET, anonymous.address, fen("300")),
    )
    assert books() == (cny("499700"), cny("4300"), cny("4000"))

    icbc.fund(linked, cny("2000"))  # the linked account: 6222-0001 3,000 -> 1,000
    assert books() == (cny("497700"), cny("4300"), cny("2000"))
    icbc.fund(linked, cny("500"), from_account="6222-0002")  # 1,000 -> 500
    assert books() == (cny("497200"), cny("4300"), cny("1500"))
    icbc.fund(linked, cny("100"), from_account="")  # the counter, though it has a link
    assert books() == (cny("497100"), cny("4400"), cny("1500"))
    icbc.fund(anonymous, cny("10"), from_account="6222-0002")  # 500 -> 490
    assert books() == (cny("497090"), cny("4400"), cny("1490"))

    before = _state_of(ledger)
    with pytest.raises(InsufficientFundsError) as info:
        icbc.fund(linked, cny("1000.01"))  # 6222-0001 holds 1,000
    assert info.value.reason is Reason.INSUFFICIENT_DEPOSIT
    with pytest.raises(UnknownPartyError) as unknown:
        icbc.fund(linked, cny("1"), from_account="6222-9999")
    assert unknown.value.reason is Reason.UNKNOWN_ACCOUNT
    assert _state_of(ledger) == before
    icbc.fund(linked, cny("1000"))  # exactly what is left
    assert books() == (cny("496090"), cny("4400"), cny("490"))

    assert linked.balance == cny("3600")
    assert anonymous.balance == cny("310")
    supply = ledger.check_invariants()
    assert supply.in_wallets == cny("3910")
    assert supply.in_vaults == cny("496090")


def test_defunding_to_the_linked_or_a_named_account() -> None:
    economy = _economy()
    ledger, icbc = economy.ledger, economy.icbc
    icbc.pay_in("6222-0001", cny("3000"))
    icbc.pay_in("6222-0002", cny("1000"))
    anonymous = _anonymous(icbc)
    linked = icbc.open_wallet(
        category=2, phone="13900000000", id_number="110101199001011234", linked_account="6222-0001"
    )
    icbc.fund(anonymous, cny("300"))
    icbc.fund(linked, cny("2000"))  # 6222-0001: 1,000 left; deposits 2,000

    receipt = linked.defund(cny("600"))  # into 6222-0001: 1,600
    assert receipt.postings == (
        Posting(AccountKind.WALLET, linked.address, -fen("600")),
        Posting(AccountKind.VAULT, icbc.address, fen("600")),
        Posting(AccountKind.DEPOSIT, icbc.address, fen("600"), "6222-0001"),
    )
    with pytest.raises(UnknownPartyError) as info:
        anonymous.defund(cny("10"))  # no linked account and none named
    assert info.value.reason is Reason.UNKNOWN_ACCOUNT
    assert info.value.field == "to_account"
    anonymous.defund(cny("10"), to_account="6222-0002")  # 1,000 -> 1,010
    with pytest.raises(InsufficientFundsError) as short:
        anonymous.defund(cny("290.01"), to_account="6222-0002")
    assert short.value.reason is Reason.INSUFFICIENT_BALANCE

    info_bank = ledger.bank("ICBC")
    # Vault 500,000 - 300 - 2,000 + 600 + 10; deposits 1,600 + 1,010.
    assert info_bank.vault == cny("498310")
    assert info_bank.customer_deposits == cny("2610")
    assert info_bank.cash == cny("4300")
    # 6222-0001 now holds 1,600: funding that much works, a fen more does not.
    with pytest.raises(InsufficientFundsError):
        icbc.fund(linked, cny("1600.01"))
    icbc.fund(linked, cny("1600"))
    # Defunding is not a payment: no cap counted it.
    assert ledger.wallet(linked.address).spent_today == Amount(0)
    assert ledger.wallet(anonymous.address).spent_today == Amount(0)
    ledger.check_invariants()


def test_a_bank_funds_only_its_own_wallets() -> None:
    economy = _economy()
    ccb = economy.pboc.authorise_bank("CCB", code="MA.156.1100.02", reserves=cny("1000"))
    economy.pboc.issue(ccb, cny("1000"))
    theirs = _anonymous(ccb)
    with pytest.raises(NotAuthorisedError) as info:
        economy.icbc.fund(theirs, cny("1"))
    assert info.value.reason is Reason.SIGNER_NOT_AUTHORISED
    assert info.value.field == "wallet"


def test_redemption_is_limited_by_what_the_bank_was_issued() -> None:
    economy = _economy()
    pboc, icbc = economy.pboc, economy.icbc
    ccb = pboc.authorise_bank("CCB", code="MA.156.1100.02", reserves=cny("1000"))
    pboc.issue(ccb, cny("1000"))
    ccb.pay_in("6217-0001", cny("1"))
    alice = _anonymous(icbc)
    carol = _anonymous(ccb, phone="13900000000")
    icbc.fund(alice, cny("500"))
    alice.pay(carol, cny("500"))
    carol.defund(cny("500"), to_account="6217-0001")
    # CCB's vault: 1,000 issued + 500 from ICBC's e-CNY; only 1,000 is redeemable.
    assert economy.ledger.bank("CCB").vault == cny("1500")
    with pytest.raises(InsufficientFundsError) as info:
        ccb.redeem(cny("1000.01"))
    assert info.value.reason is Reason.INSUFFICIENT_RESERVES
    with pytest.raises(InsufficientFundsError) as info:
        ccb.redeem(cny("1500.01"))
    assert info.value.reason is Reason.INSUFFICIENT_VAULT
    ccb.redeem(cny("1000"))
    books = economy.ledger.bank("CCB")
    assert books.vault == cny("500")
    assert books.outstanding_issuance == Amount(0)
    assert books.reserves_available == cny("1000")
    assert books.customer_deposits == cny("501")
    supply = economy.ledger.check_invariants()
    assert supply.outstanding == cny("500000")
    assert supply.in_vaults == cny("500000")


# --- Policy ---------------------------------------------------------------------------------


def test_a_custom_policy_changes_the_caps() -> None:
    small = CategoryLimits(cny("50"), cny("20"), cny("30"), cny("40"), [KycField.PHONE])
    policy = Policy().with_limits(4, small)
    assert policy.limits(4) == small
    for category in (1, 2, 3):
        assert policy.limits(category) == Policy().limits(category)
    assert Policy().limits(4).balance_cap == cny("1000")  # the default is untouched

    clock = ManualClock.at(dt.datetime(2026, 5, 1, 9, 0, tzinfo=BEIJING))
    economy = _economy(policy=policy, clock=clock)
    assert economy.ledger.policy is policy
    payer = _anonymous(economy.icbc)
    payee = _in_person(economy.icbc, "6222-0001")

    def refused(reason: Reason, action: Callable[[], object]) -> None:
        with pytest.raises(LimitExceededError) as info:
            action()
        assert info.value.reason is reason

    refused(Reason.BALANCE_CAP_EXCEEDED, lambda: economy.icbc.fund(payer, cny("50.01")))
    economy.icbc.fund(payer, cny("50"))
    refused(Reason.SINGLE_PAYMENT_CAP_EXCEEDED, lambda: payer.pay(payee, cny("20.01")))
    payer.pay(payee, cny("20"))
    payer.pay(payee, cny("10"))  # ¥30 today: the daily cap
    refused(Reason.DAILY_CAP_EXCEEDED, lambda: payer.pay(payee, cny("0.01")))
    clock.advance(days=1)
    payer.pay(payee, cny("10"))  # ¥40 this year: the annual cap
    refused(Reason.ANNUAL_CAP_EXCEEDED, lambda: payer.pay(payee, cny("0.01")))
    assert payer.balance == cny("10")


def test_no_cap_means_no_cap() -> None:
    policy = Policy().with_limits(4, CategoryLimits(None, None, None, None, [KycField.PHONE]))
    economy = _economy(policy=policy)
    payer = _anonymous(economy.icbc)
    payee = _anonymous(economy.icbc, phone="13900000000")
    economy.icbc.fund(payer, cny("200000"))
    payer.pay(payee, cny("150000"))
    assert payee.balance == cny("150000")
    economy.ledger.check_invariants()


def test_the_policy_decides_what_kyc_a_category_needs() -> None:
    relaxed = Policy().with_limits(
        3, attrs.evolve(Policy().limits(3), required_kyc=[KycField.PHONE])
    )
    strict = _economy()
    with pytest.raises(NotAuthorisedError):
        strict.icbc.open_wallet(category=3, phone="13800000000")
    wallet = _economy(policy=relaxed).icbc.open_wallet(category=3, phone="13800000000")
    assert wallet.category is WalletCategory.REMOTE_NO_ACCOUNT


# --- Networks -------------------------------------------------------------------------------


def test_ledgers_with_different_network_ids_are_separate() -> None:
    # The same seeds on both: the same keys, so only the network id differs.
    east = _economy(network_id="dcep-east")
    west = _economy(network_id="dcep-west")
    assert east.ledger.network_id == b"dcep-east"
    assert Ledger().network_id == b"dcep-sim"
    assert east.pboc.address == west.pboc.address
    alice_east, bob_east = _anonymous(east.icbc), _anonymous(east.icbc, "13900000000")
    alice_west, bob_west = _anonymous(west.icbc), _anonymous(west.icbc, "13900000000")
    assert alice_east.address == alice_west.address
    east.icbc.fund(alice_east, cny("100"))
    west.icbc.fund(alice_west, cny("100"))

    on_east = alice_east.sign_payment(bob_east, cny("1"))
    on_west = alice_west.sign_payment(bob_west, cny("1"))
    assert on_east.body == on_west.body
    assert on_east.signature != on_west.signature
    before = _state_of(west.ledger)
    with pytest.raises(SignatureError) as info:
        west.ledger.submit(on_east)
    assert info.value.reason is Reason.SIGNATURE_INVALID
    assert _state_of(west.ledger) == before
    west.ledger.submit(on_west)
    east.ledger.submit(on_east)
    assert bob_east.balance == bob_west.balance == cny("1")


@pytest.mark.parametrize("network_id", ["x" * 64, "数" * 21, "a"])
def test_network_ids_up_to_64_bytes(network_id: str) -> None:
    assert Ledger(network_id=network_id).network_id == network_id.encode("utf-8")


@pytest.mark.parametrize("network_id", ["", "x" * 65, "数" * 22, "\ud800"])
def test_network_ids_are_1_to_64_bytes_of_utf8(network_id: str) -> None:
    with pytest.raises(InvalidFieldError) as info:
        Ledger(network_id=network_id)
    assert info.value.reason is Reason.FIELD_INVALID
    assert info.value.field == "network_id"


# --- Snapshots -------------------------------------------------------------------------------


def test_an_empty_ledger() -> None:
    ledger = Ledger()
    assert ledger.central_bank is None
    assert ledger.entry_count == 0
    assert ledger.banks() == []
    assert list(ledger.wallets()) == []
    supply = ledger.check_invariants()
    assert supply.issued == supply.redeemed == supply.in_vaults == supply.in_wallets == Amount(0)


def test_wallet_and_bank_snapshots() -> None:
    economy = _economy()
    ledger, icbc = economy.ledger, economy.icbc
    ccb = economy.pboc.authorise_bank("CCB", code="MA.156.1100.02", reserves=cny("2000"))
    first = _anonymous(icbc)
    second = _in_person(ccb, "6217-0001")
    assert [w.address for w in ledger.wallets()] == [first.address, second.address]
    assert [b.name for b in ledger.banks()] == ["ICBC", "CCB"]

    wallet = ledger.wallet(second.address)
    assert wallet.address == second.address
    assert wallet.category is WalletCategory.IN_PERSON
    assert wallet.operator == ccb.address
    assert wallet.linked_account == "6217-0001"
    assert wallet.balance == Amount(0)

    by_code = ledger.bank(InstitutionCode.parse("MA.156.1100.02"))
    assert by_code == ledger.bank("MA.156.1100.02") == ledger.bank("CCB")
    assert by_code == ledger.bank(ccb.address)
    assert by_code.code == ccb.code
    assert by_code.reserves_pledged == by_code.reserves_available == cny("2000")
    assert by_code.vault == Amount(0)
    assert by_code.cash == by_code.customer_deposits == cny("1")
    assert by_code.wallet_count == 1

    # Snapshots are values: frozen, and unmoved by later activity.
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        wallet.balance = cny("1")  # type: ignore[misc]
    icbc.fund(first, cny("5"))
    assert ledger.wallet(first.address).balance == cny("5")
    icbc_before = ledger.bank("ICBC")
    icbc.fund(first, cny("5"))
    assert icbc_before.vault == cny("499995")
    assert ledger.bank("ICBC").vault == cny("499990")


def test_unknown_parties() -> None:
    economy = _economy()
    stranger = SigningKey.derive(_SEED, "stranger").address
    with pytest.raises(UnknownPartyError) as info:
        economy.ledger.bank("Nobody Bank")
    assert info.value.reason is Reason.UNKNOWN_BANK
    assert isinstance(info.value, LookupError)
    with pytest.raises(UnknownPartyError):
        economy.ledger.bank(stranger)
    for read in (economy.ledger.balance, economy.ledger.wallet):
        with pytest.raises(UnknownPartyError) as info:
            read(stranger)
        assert info.value.reason is Reason.UNKNOWN_WALLET
        assert info.value.party == str(stranger)
    # A bank's address is not a wallet.
    with pytest.raises(UnknownPartyError):
        economy.ledger.balance(economy.icbc.address)


# --- KYC when a bank opens a wallet -------------------------------------------------------------


class Kyc(TypedDict, total=False):
    """What a customer shows the bank, as keyword arguments of ``Bank.open_wallet``."""

    phone: str
    id_number: str
    linked_account: str


PHONE: Kyc = {"phone": "13800000000"}
ID: Kyc = {"id_number": "110101199001011234"}
LINK: Kyc = {"linked_account": "6222-0001"}


@pytest.mark.parametrize(
    ("category", "details", "missing"),
    [
        (4, {}, "phone"),
        (4, {"phone": ""}, "phone"),
        (4, ID, "phone"),
        (3, PHONE, "id_number"),
        (3, ID, "phone"),
        (2, PHONE | ID, "linked_account"),
        (2, PHONE | LINK, "id_number"),
        (1, PHONE | ID | LINK, "in_person"),
        (1, {}, "id_number"),  # the first missing, in alphabetical order
    ],
)
def test_kyc_refusals_name_what_is_missing(category: int, details: Kyc, missing: str) -> None:
    economy = _economy()
    economy.icbc.pay_in("6222-0001", cny("1"))
    before = _state_of(economy.ledger)
    with pytest.raises(NotAuthorisedError) as info:
        economy.icbc.open_wallet(category=category, **details)
    error = info.value
    assert error.reason is Reason.KYC_INSUFFICIENT
    assert isinstance(error, PermissionError)
    assert error.field == missing
    assert error.party == "ICBC"
    assert missing in str(error)
    assert _state_of(economy.ledger) == before


@pytest.mark.parametrize(
    ("category", "details", "in_person"),
    [
        (4, PHONE, False),
        (3, PHONE | ID, False),
        (2, PHONE | ID | LINK, False),
        (1, PHONE | ID | LINK, True),
        (4, PHONE | ID | LINK, True),  # more than needed is fine
    ],
)
def test_kyc_that_suffices_opens_the_wallet(category: int, details: Kyc, in_person: bool) -> None:
    economy = _economy()
    economy.icbc.pay_in("6222-0001", cny("1"))
    wallet = economy.icbc.open_wallet(category=category, in_person=in_person, **details)
    assert wallet.category == category
    assert wallet.operator is economy.icbc
    snapshot = economy.ledger.wallet(wallet.address)
    assert snapshot.category == category
    assert snapshot.operator == economy.icbc.address
    assert snapshot.linked_account == details.get("linked_account", "")
    assert economy.ledger.bank("ICBC").wallet_count == 1


def test_a_linked_account_must_exist_at_the_bank() -> None:
    economy = _economy()
    before = _state_of(economy.ledger)
    with pytest.raises(UnknownPartyError) as info:
        economy.icbc.open_wallet(
            category=2,
            phone="13800000000",
            id_number="110101199001011234",
            linked_account="6222-0404",
        )
    assert info.value.reason is Reason.UNKNOWN_ACCOUNT
    assert info.value.field == "linked_account"
    assert _state_of(economy.ledger) == before


@pytest.mark.parametrize("category", [0, 5, -1, 4.0, True, "4"])
def test_there_are_four_categories(category: int) -> None:
    economy = _economy()
    before = _state_of(economy.ledger)
    with pytest.raises(InvalidFieldError) as info:
        economy.icbc.open_wallet(category=category, **PHONE)
    assert info.value.field == "category"
    assert _state_of(economy.ledger) == before


def test_the_ledger_never_sees_who_holds_a_wallet() -> None:
    economy = _economy()
    seen: list[LedgerEntry] = []
    economy.ledger.subscribe(seen.append)
    economy.icbc.pay_in("6222-0001", cny("1"))
    economy.icbc.open_wallet(
        category=1,
        phone="13812345678",
        id_number="110101199001011234",
        name="Li Si",
        linked_account="6222-0001",
        in_person=True,
    )
    opened = seen[-1].signed
    assert isinstance(opened.instruction, OpenWallet)
    envelope = opened.to_bytes()
    for secret in ("13812345678", "110101199001011234", "Li Si"):
        assert secret.encode("utf-8") not in envelope
    # The account number is the ledger's business; the identity is only committed to.
    assert b"6222-0001" in envelope
    assert len(opened.instruction.kyc_digest) == 32


_LOOKUPS_UNDER_BB = """
import dcep
import dcep.values
from dcep import cny

ledger = dcep.Ledger()
pboc = dcep.CentralBank(ledger, seed=1)
icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("1000000"))
ccb = pboc.authorise_bank("CCB", code="MA.156.1100.02", reserves=cny("1000000"))
pboc.issue(ccb, cny("1000"))
holder = ccb.open_wallet(category=4, phone="13800000000")
ccb.fund(holder, cny("9"))
for which in ("CCB", "MA.156.1100.02", ccb.code, ccb.address, bytes(ccb.address)):
    info = ledger.bank(which)
    assert info.name == "CCB" and type(info.address) is dcep.Address, which
for which in (holder.address, bytes(holder.address)):
    info = ledger.wallet(which)
    assert type(info.address) is dcep.Address and str(info.address).startswith("dcep1")
    assert ledger.balance(which) == cny("9")
stranger = dcep.Address(bytes(20))
bank, wallet = (ledger.bank, dcep.Reason.UNKNOWN_BANK), (ledger.wallet, dcep.Reason.UNKNOWN_WALLET)
unknown = [(*bank, w) for w in ("BOC", stranger, bytes(20), 7)]
unknown += [(*wallet, w) for w in (stranger, bytes(20), b"short")]
for look, reason, which in unknown:
    try:
        look(which)
    except dcep.UnknownPartyError as error:
        assert error.reason is reason
    else:
        raise AssertionError(which)
print("ok")
"""


def test_lookups_by_address_code_name_or_raw_bytes_under_bytes_warnings() -> None:
    # An Address is bytes: comparing one with a bank's name would be a
    # bytes-with-str comparison, an error under -bb.  Run where it is one.
    completed = subprocess.run(
        [sys.executable, "-bb", "-c", _LOOKUPS_UNDER_BB],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "ok"
