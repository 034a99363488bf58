"""Hardware wallets and dual-offline payments (issue #24, part 5).

A wallet loads an allowance onto a device; offline the device signs tokens
with a counter of its own; either side settles them when it comes online.
The properties here: whatever the order, and whichever side settles each
token how many times, every genuine token is paid exactly once; a cloned
device that spends its allowance twice never pays out more than the
allowance, what payees were not paid is booked as a loss to the fen, and
the supply is unchanged; the state survives a snapshot, a reopened
database and a replica's replay.  The stateful test runs them among
everything else.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
from dcep import Reason, cny
from dcep.core import AccountKind
from dcep.instructions import InstructionKind, OfflineToken, SettleOffline, encode_instruction


@attrs.define
class Shop:
    ledger: dcep.Ledger
    bank: dcep.Bank
    #: Category 2, holding ¥3,000, with a device.
    buyer: dcep.Wallet
    device: dcep.parties.Device
    #: Category 4 merchants, holding nothing.
    first: dcep.Wallet
    second: dcep.Wallet


def _shop(block_size: int | None = None, *, path: Path | None = None) -> Shop:
    clock = dcep.ManualClock()
    if path is not None:
        ledger = dcep.Ledger.open(path, clock=clock, block_size=2, snapshot_every_blocks=1)
    elif block_size is None:
        ledger = dcep.Ledger(clock=clock)
    else:
        ledger = dcep.Ledger.with_journal(clock=clock, block_size=block_size)
    pboc = dcep.CentralBank(ledger, seed=24)
    bank = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("1000000"))
    pboc.issue(bank, cny("500000"))
    bank.pay_in("6222-0001", cny("5000"))
    buyer = bank.open_wallet(
        category=2,
        phone="137",
        id_number="110101199001011234",
        linked_account="6222-0001",
        seed=1,
    )
    first = bank.open_wallet(category=4, phone="138", seed=2)
    second = bank.open_wallet(category=4, phone="139", seed=3)
    bank.fund(buyer, cny("3000"))
    device = buyer.register_device(seed="card")
    return Shop(ledger, bank, buyer, device, first, second)


def _holdings(shop: Shop) -> int:
    return sum(w.balance.fen for w in shop.ledger.wallets())


def _paid(receipts: list[dcep.Receipt], payee: dcep.Wallet) -> int:
    return sum(
        p.delta_fen
        for r in receipts
        for p in r.postings
        if p.kind is AccountKind.WALLET and p.owner == payee.address
    )


def test_a_device_pays_offline_and_either_side_settles_it_once() -> None:
    shop = _shop()
    shop.buyer.load_offline(shop.device, cny("800"))
    assert shop.ledger.balance(shop.buyer.address) == cny("3000")  # still its holdings
    assert shop.ledger.wallet(shop.buyer.address).reserved == cny("800")
    till = shop.first.register_device(seed="till")
    token = shop.device.pay_offline(till, cny("120"))
    assert till.received == [token] == shop.device.issued
    first = shop.first.settle_offline(till.received)
    again = shop.buyer.settle_offline(shop.device.issued)
    assert [p.kind for p in first[0].postings] == [
        AccountKind.WALLET,
        AccountKind.WALLET,
        AccountKind.OFFLINE,
    ]
    assert again[0].postings == ()  # the same token: nothing new
    assert shop.ledger.balance(shop.first.address) == cny("120")
    assert shop.ledger.balance(shop.buyer.address) == cny("2880")
    assert shop.ledger.supply().lost_offline == cny("0")
    shop.ledger.check_invariants()


@settings(max_examples=25, deadline=None)
@given(
    amounts=st.lists(st.integers(1, 10_000), min_size=1, max_size=10),
    order=st.randoms(use_true_random=False),
    repeats=st.lists(st.booleans(), min_size=20, max_size=20),
)
def test_every_genuine_token_is_paid_exactly_once_whatever_the_order(
    amounts: list[int], order: object, repeats: list[bool]
) -> None:
    shop = _shop()
    supply = shop.ledger.supply()
    shop.buyer.load_offline(shop.device, cny("1000"))
    payees = [shop.first, shop.second]
    tokens = [
        shop.device.pay_offline(payees[i % 2].address, dcep.Amount(fen))
        for i, fen in enumerate(amounts)
    ]
    # Each token is settled by its payer, its payee or both, in any order.
    attempts = [(token, shop.buyer) for token in tokens]
    attempts += [(t, payees[i % 2]) for i, t in enumerate(tokens) if repeats[i]]
    order.shuffle(attempts)  # type: ignore[attr-defined]
    receipts = [wallet.settle_offline([token])[0] for token, wallet in attempts]
    for i, payee in enumerate(payees):
        expected = sum(amounts[i::2])
        assert shop.ledger.balance(payee.address).fen == expected == _paid(receipts, payee)
    assert shop.ledger.balance(shop.buyer.address) == cny("3000") - dcep.Amount(sum(amounts))
    assert shop.ledger.supply() == supply
    shop.ledger.check_invariants()
    shop.buyer.unload_offline(shop.device, shop.device.allowance)
    assert shop.ledger.wallet(shop.buyer.address).reserved == cny("0")


@settings(max_examples=25, deadline=None)
@given(
    loaded=st.integers(1, 100_000),
    genuine=st.lists(st.integers(1, 50_000), max_size=5),
    cloned=st.lists(st.integers(1, 50_000), min_size=1, max_size=5),
    order=st.randoms(use_true_random=False),
)
def test_a_cloned_device_never_pays_out_more_than_its_allowance(
    loaded: int, genuine: list[int], cloned: list[int], order: object
) -> None:
    shop = _shop()
    supply = shop.ledger.supply()
    shop.buyer.load_offline(shop.device, dcep.Amount(loaded))
    twin = shop.device.clone()
    twin.loaded(dcep.Amount(100_000))  # a clone ignores what it holds
    shop.device.loaded(dcep.Amount(100_000))
    tokens = [shop.device.pay_offline(shop.first.address, dcep.Amount(f)) for f in genuine]
    tokens += [twin.pay_offline(shop.second.address, dcep.Amount(f)) for f in cloned]
    order.shuffle(tokens)  # type: ignore[attr-defined]
    for token in tokens:
        settler = shop.first if token.payee == shop.first.address else shop.second
        settler.settle_offline([token])
    paid = shop.ledger.balance(shop.first.address).fen
    paid += shop.ledger.balance(shop.second.address).fen
    lost = shop.ledger.supply().lost_offline.fen
    accepted = sum(genuine) + sum(cloned)
    assert paid <= loaded
    assert paid + lost == accepted
    assert shop.ledger.supply() == attrs.evolve(supply, lost_offline=dcep.Amount(lost))
    blocked = bool(genuine) or accepted > loaded  # a counter used twice, or a short allowance
    if blocked:
        with pytest.raises(dcep.DcepError) as refused:
            shop.buyer.load_offline(shop.device, cny("1"))
        assert refused.value.reason is Reason.OFFLINE_DEVICE_BLOCKED
    shop.ledger.check_invariants()


def test_a_clone_spending_twice_at_two_merchants_is_paid_from_the_allowance_then_lost() -> None:
    shop = _shop()
    shop.buyer.load_offline(shop.device, cny("500"))
    twin = shop.device.clone()
    original = shop.device.pay_offline(shop.first.address, cny("400"))
    duplicate = twin.pay_offline(shop.second.address, cny("300"))
    assert original.counter == duplicate.counter == 1
    shop.first.settle_offline([original])
    (receipt,) = shop.second.settle_offline([duplicate])
    assert shop.ledger.balance(shop.second.address) == cny("100")  # what was left
    assert [(p.kind, p.delta_fen) for p in receipt.postings][-1] == (
        AccountKind.OFFLINE_LOSS,
        20_000,
    )
    assert shop.ledger.supply().lost_offline == cny("200")
    # The same duplicate again is not a second loss.
    assert shop.second.settle_offline([duplicate])[0].postings == ()
    assert shop.ledger.supply().lost_offline == cny("200")
    shop.ledger.check_invariants()


def _refusal(action: object) -> Reason:
    with pytest.raises(dcep.DcepError) as refused:
        action()  # type: ignore[operator]
    return refused.value.reason


def test_offline_refusals_change_nothing() -> None:
    shop = _shop()
    buyer, device = shop.buyer, shop.device
    before = shop.ledger.snapshot()
    assert _refusal(lambda: buyer.load_offline(device, cny("1000.01"))) is (
        Reason.OFFLINE_CAP_EXCEEDED
    )
    assert shop.ledger.snapshot().wallets == before.wallets
    buyer.load_offline(device, cny("600"))
    token = device.pay_offline(shop.first.address, cny("10"))
    assert _refusal(lambda: buyer.unload_offline(device, cny("1"))) is (
        Reason.OFFLINE_TOKENS_UNSETTLED
    )
    assert _refusal(lambda: shop.bank.close_wallet(buyer)) is (
        Reason.OFFLINE_ALLOWANCE_OUTSTANDING
    )
    assert _refusal(lambda: shop.second.settle_offline([token])) is (Reason.SIGNER_NOT_AUTHORISED)
    stranger = shop.first.register_device(seed="stranger")
    assert _refusal(lambda: buyer.load_offline(stranger, cny("1"))) is (
        Reason.OFFLINE_DEVICE_UNKNOWN
    )
    forged = attrs.evolve(token, amount=cny("11"))
    assert _refusal(lambda: shop.first.settle_offline([forged])) is Reason.SIGNATURE_INVALID
    # Beyond the per-payment cap: a payee's device refuses it offline, the ledger too.
    big = device.clone()
    big.loaded(cny("1000"))
    with pytest.raises(dcep.DcepError):
        big.pay_offline(shop.first.address, cny("500.01"))
    assert _refusal(lambda: buyer.unload_offline(device, cny("1000"))) is (
        Reason.OFFLINE_TOKENS_UNSETTLED
    )
    shop.first.settle_offline([token])
    buyer.unload_offline(device, cny("590"))
    shop.bank.close_wallet(buyer)
    assert shop.ledger.wallet(buyer.address).closed
    shop.ledger.check_invariants()


def test_a_token_travels_in_an_instruction_as_data() -> None:
    shop = _shop()
    shop.buyer.load_offline(shop.device, cny("50"))
    token = shop.device.pay_offline(shop.first.address, cny("5"))
    signed = shop.first.sign_settlement(token)
    assert isinstance(signed.instruction, SettleOffline)
    assert signed.instruction.token == token
    decoded = dcep.instructions.decode_instruction(encode_instruction(signed.instruction))
    assert decoded == signed.instruction
    assert decoded.KIND is InstructionKind.SETTLE_OFFLINE
    assert isinstance(token, OfflineToken)
    # A device counts its payments since the last load: the 11th waits for a sync.
    for _ in range(9):
        shop.device.pay_offline(shop.first.address, cny("1"))
    assert _refusal(lambda: shop.device.pay_offline(shop.first.address, cny("1"))) is (
        Reason.OFFLINE_CAP_EXCEEDED
    )


def _busy(shop: Shop) -> None:
    shop.buyer.load_offline(shop.device, cny("900"))
    twin = shop.device.clone()
    tokens = [shop.device.pay_offline(shop.first.address, cny("100")) for _ in range(3)]
    shop.first.settle_offline(tokens[:2])
    shop.second.settle_offline([twin.pay_offline(shop.second.address, cny("50"))])
    shop.buyer.settle_offline(tokens)


def test_a_replica_verifies_a_journal_of_offline_payments() -> None:
    shop = _shop(block_size=3)
    _busy(shop)
    journal = shop.ledger.journal
    assert journal is not None
    report = dcep.Replica(journal.store).catch_up()
    assert report.entries_verified == shop.ledger.entry_count
    view = dcep.RegulatorView.from_store(journal.store)
    flows = [f for f in view.flows() if f.kind is InstructionKind.SETTLE_OFFLINE]
    assert sum(f.amount_fen for f in flows) == 35_000
    assert {f.payer for f in flows} == {shop.buyer.address}


def test_a_snapshot_keeps_devices_and_their_counters() -> None:
    shop = _shop()
    _busy(shop)
    rows = shop.ledger.snapshot()
    assert len(rows.devices) == 1
    assert len(rows.settled) == 3
    copy = dcep.Ledger()
    copy.restore(rows)
    assert copy.wallets() == shop.ledger.wallets()
    assert copy.supply() == shop.ledger.supply()
    assert copy.violations() == []
    assert copy.snapshot() == rows
    lossy = dcep.Ledger()
    lossy.restore(attrs.evolve(rows, devices=(), settled=()))
    assert lossy.violations()


@pytest.mark.parametrize("close_first", [True, False])
def test_a_database_reopens_with_allowances_outstanding(tmp_path: Path, close_first: bool) -> None:
    path = tmp_path / "ledger.db"
    shop = _shop(path=path)
    _busy(shop)
    expected = (shop.ledger.wallets(), shop.ledger.supply(), shop.ledger.snapshot().devices)
    if close_first:
        shop.ledger.close()
    again = dcep.Ledger.open(path, clock=dcep.ManualClock())
    try:
        assert (again.wallets(), again.supply(), again.snapshot().devices) == expected
        again.check_invariants()
        journal = again.journal
        assert journal is not None
        assert dcep.Replica(journal.store).catch_up().entries_verified == again.entry_count
    finally:
        again.close()
        if not close_first:
            shop.ledger.close()


def test_a_sub_wallet_s_money_held_aside_survives_a_snapshot() -> None:
    """A sub-wallet's pending payment, voucher and device allowance are in its parent's
    sum of what its sub-wallets hold after a restore, as before it."""
    clock = dcep.ManualClock()
    ledger = dcep.Ledger(clock=clock)
    pboc = dcep.CentralBank(ledger, seed=24)
    bank = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("1000"))
    pboc.issue(bank, cny("1000"))
    parent = bank.open_wallet(category=4, phone="138", seed=1)
    other = bank.open_wallet(category=4, phone="139", seed=2)
    bank.fund(parent, cny("100"))
    child = parent.open_sub_wallet(seed=3)
    parent.top_up(child, cny("60"))
    child.pay_pending(other, cny("10"), expires_at_us=clock.now_us() + 10**9)
    child.issue_voucher(other, cny("7"), expires_at_us=clock.now_us() + 10**9, merchants=(parent,))
    child.load_offline(child.register_device(seed=4), cny("5"))
    copy = dcep.Ledger(clock=clock)
    copy.restore(ledger.snapshot())
    assert copy.violations() == []
    assert copy.wallets() == ledger.wallets()


@pytest.mark.parametrize("last_fails", [True, False])
def test_settling_in_a_linked_batch_is_all_or_nothing(last_fails: bool) -> None:
    """A batch settling a clone's two tokens: tried on an overlay, so a refused member
    leaves the device, its counters and its block exactly as they were."""
    shop = _shop()
    shop.buyer.load_offline(shop.device, cny("100"))
    twin = shop.device.clone()
    tokens = [
        shop.device.pay_offline(shop.first.address, cny("60")),
        twin.pay_offline(shop.first.address, cny("70")),
    ]
    before = (shop.ledger.devices(), shop.ledger.wallets(), shop.ledger.supply())
    batch = shop.first.linked()
    batch.add(*(shop.first.sign_settlement(token) for token in tokens))
    if last_fails:
        batch.add(shop.first.sign_payment(shop.second, cny("1000")))  # more than it holds
        assert _refusal(batch.submit) is Reason.INSUFFICIENT_BALANCE
        assert (shop.ledger.devices(), shop.ledger.wallets(), shop.ledger.supply()) == before
    else:
        batch.submit()
    (device,) = shop.ledger.devices()
    assert device.blocked is not last_fails
    assert device.settled == (0 if last_fails else 1)
    assert device.lost == (cny("0") if last_fails else cny("30"))
    shop.ledger.check_invariants()


@settings(max_examples=10, deadline=None)
@given(order=st.permutations(range(4)))
def test_a_wallet_settles_each_device_s_tokens_in_counter_order(order: list[int]) -> None:
    shop = _shop()
    shop.buyer.load_offline(shop.device, cny("100"))
    card = shop.second.register_device(seed="second card")
    shop.bank.fund(shop.second, cny("50"))
    shop.second.load_offline(card, cny("50"))
    tokens = [shop.device.pay_offline(shop.first.address, cny("1")) for _ in range(2)]
    tokens += [card.pay_offline(shop.first.address, cny("2")) for _ in range(2)]
    settled: list[tuple[bytes, int]] = []

    def record(entry: dcep.core.LedgerEntry) -> None:
        instruction = entry.signed.instruction
        assert isinstance(instruction, SettleOffline)
        settled.append((bytes(instruction.token.device), instruction.token.counter))

    shop.ledger.subscribe(record)
    shop.first.settle_offline([tokens[i] for i in order])
    for device in (shop.device, card):
        counters = [c for key, c in settled if key == bytes(device.verify_key)]
        assert counters == [1, 2]
    assert shop.ledger.balance(shop.first.address) == cny("6")
