"""Purpose-bound vouchers (issue #25, part 3).

An issuer's wallet sets money aside for a holder, who may pay it only to the
merchants the voucher names (by address, or by region: their bank's
institution code) and only before it expires; the remainder is then the
issuer's again, with no caller.  The properties: no voucher money is spent
outside its purpose or after its expiry; it is never ordinary money in the
holder's hands; every expired voucher's remainder is back with its issuer;
the supply counts it once; journals, snapshots and reopened files keep it.
"""

from __future__ import annotations

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

SECOND_US = 1_000_000
BEIJING = "MA.156.1100"
HEBEI = "MA.156.1301"


@attrs.define
class City:
    ledger: dcep.Ledger
    clock: dcep.ManualClock
    #: Category 2 at a Beijing bank, holding ¥5,000: the city's campaign wallet.
    city: dcep.Wallet
    #: Category 4 at the Beijing bank, holding ¥50.
    resident: dcep.Wallet
    #: Category 4 merchants: two in Hebei (MA.156.1301.01), one in Beijing.
    hebei_shops: list[dcep.Wallet]
    beijing_shop: dcep.Wallet


def _city(block_size: int | None = None) -> City:
    clock = dcep.ManualClock()
    ledger = (
        dcep.Ledger(clock=clock)
        if block_size is None
        else dcep.Ledger.with_journal(clock=clock, block_size=block_size)
    )
    pboc = dcep.CentralBank(ledger, seed=27)
    beijing = pboc.authorise_bank("ICBC", code=f"{BEIJING}.01", reserves=cny("100000"))
    hebei = pboc.authorise_bank("HEBEI", code=f"{HEBEI}.01", reserves=cny("100000"))
    pboc.issue(beijing, cny("50000"))
    pboc.issue(hebei, cny("50000"))
    beijing.pay_in("6222-0001", cny("10000"))
    city = beijing.open_wallet(
        category=2, phone="137", id_number="110101199001011234", linked_account="6222-0001"
    )
    beijing.fund(city, cny("5000"))
    resident = beijing.open_wallet(category=4, phone="138")
    beijing.fund(resident, cny("50"))
    shops = [hebei.open_wallet(category=4, phone=f"13{n}") for n in range(2)]
    beijing_shop = beijing.open_wallet(category=4, phone="130")
    return City(ledger, clock, city, resident, shops, beijing_shop)


def _later(city: City, seconds: int) -> int:
    return city.clock.now_us() + seconds * SECOND_US


def _state(ledger: dcep.Ledger) -> tuple[object, ...]:
    return (ledger.entry_count, ledger.wallets(), ledger.supply(), ledger.vouchers())


def _reason(act: Callable[[], object]) -> Reason | None:
    """Why ``act`` was refused, or ``None`` if it was accepted."""
    try:
        act()
    except dcep.DcepError as error:
        return error.reason
    return None


def refused(ledger: dcep.Ledger, reason: Reason, act: Callable[[], object]) -> None:
    """Run ``act``, which must be refused for ``reason`` and change nothing."""
    before = _state(ledger)
    with pytest.raises(dcep.DcepError) as info:
        act()
    assert info.value.reason is reason, info.value
    assert _state(ledger) == before
    ledger.check_invariants()


def test_voucher_money_stays_the_issuers_until_spent() -> None:
    town = _city()
    supply = town.ledger.supply()
    receipt = town.city.issue_voucher(
        town.resident, cny("100"), expires_at_us=_later(town, 60), regions=(HEBEI,)
    )
    voucher_id = receipt.instruction_id
    assert receipt.postings == (
        dcep.core.Posting(AccountKind.VOUCHER, town.city.address, 10000, str(voucher_id)),
    )
    # Never ordinary money in the resident's hands: its balance is as it was.
    assert town.resident.balance == cny("50")
    assert town.city.balance == cny("5000")
    assert town.ledger.wallet(town.city.address).reserved == cny("100")
    assert town.ledger.supply() == supply
    (voucher,) = town.ledger.vouchers(town.resident.address)
    assert (voucher.issuer, voucher.id, voucher.amount) == (
        town.city.address,
        voucher_id,
        cny("100"),
    )
    refused(
        town.ledger,
        Reason.INSUFFICIENT_BALANCE,
        lambda: town.resident.pay(town.beijing_shop, cny("50.01")),
    )
    # The city cannot spend what it set aside, nor close while it is out.
    refused(
        town.ledger,
        Reason.INSUFFICIENT_BALANCE,
        lambda: town.city.pay(town.resident, cny("4900.01")),
    )


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(1, 60)), min_size=1, max_size=6))
def test_a_voucher_pays_only_its_merchants_and_only_what_is_left(
    spends: list[tuple[int, int]],
) -> None:
    town = _city()
    payees = [*town.hebei_shops, town.beijing_shop]
    voucher_id = town.city.issue_voucher(
        town.resident,
        cny("100"),
        expires_at_us=_later(town, 60),
        regions=(HEBEI,),
        merchants=(town.hebei_shops[0],),
    ).instruction_id
    left = 10000
    received = {shop.address: 0 for shop in payees}
    for pick, yuan in spends:
        payee = payees[pick]
        fen = yuan * 100
        in_scope = payee is not town.beijing_shop
        before = _state(town.ledger)

        def spend(payee: dcep.Wallet = payee, fen: int = fen) -> object:
            return town.resident.spend_voucher(town.city, voucher_id, payee, dcep.Amount(fen))

        reason = _reason(spend)
        expected = (
            Reason.VOUCHER_WRONG_MERCHANT
            if not in_scope
            else Reason.INSUFFICIENT_BALANCE
            if fen > left
            else None
        )
        assert reason is expected
        if reason is not None:
            assert _state(town.ledger) == before
            continue
        assert in_scope
        assert fen <= left
        left -= fen
        received[payee.address] += fen
    for shop in payees:
        assert shop.balance.fen == received[shop.address]  # ordinary money for the merchant
    assert town.city.balance.fen == 500000 - sum(received.values())
    assert town.ledger.wallet(town.city.address).reserved.fen == left
    town.ledger.check_invariants()


def test_the_remainder_returns_to_the_issuer_at_expiry_with_no_caller() -> None:
    town = _city()
    voucher_id = town.city.issue_voucher(
        town.resident, cny("100"), expires_at_us=_later(town, 30), regions=(HEBEI,)
    ).instruction_id
    town.resident.spend_voucher(town.city, voucher_id, town.hebei_shops[1], cny("35"))
    town.clock.advance(seconds=30)
    # Anyone's next entry carries the expiry first.
    receipt = town.resident.pay(town.beijing_shop, cny("1"))
    assert receipt.postings[0] == dcep.core.Posting(
        AccountKind.VOUCHER, town.city.address, -6500, str(voucher_id)
    )
    assert town.ledger.vouchers() == []
    assert town.ledger.wallet(town.city.address).reserved == cny("0")
    assert town.city.balance == cny("4965")
    refused(
        town.ledger,
        Reason.VOUCHER_EXPIRED,
        lambda: town.resident.spend_voucher(town.city, voucher_id, town.hebei_shops[1], cny("1")),
    )
    town.city.defund(cny("4965"))  # all of it spendable again


def test_a_voucher_never_pays_its_holder_nor_a_frozen_issuers_money() -> None:
    town = _city()
    # The resident banks in Beijing, where this voucher may be spent...
    voucher_id = town.city.issue_voucher(
        town.resident, cny("10"), expires_at_us=_later(town, 30), regions=(BEIJING,)
    ).instruction_id
    # ...but not on itself: that would be ordinary money in its hands.
    refused(
        town.ledger,
        Reason.VOUCHER_WRONG_MERCHANT,
        lambda: town.resident.spend_voucher(town.city, voucher_id, town.resident, cny("1")),
    )
    regulator = dcep.CentralBank.restore(town.ledger, seed=27).appoint_regulator("AML", seed=4)
    regulator.freeze(town.city.address, reason="case 5")
    refused(
        town.ledger,
        Reason.WALLET_FROZEN,
        lambda: town.resident.spend_voucher(town.city, voucher_id, town.beijing_shop, cny("1")),
    )


def test_only_the_holder_spends() -> None:
    town = _city()
    voucher_id = town.city.issue_voucher(
        town.resident, cny("10"), expires_at_us=_later(town, 30), regions=(HEBEI,)
    ).instruction_id
    refused(
        town.ledger,
        Reason.SIGNER_NOT_AUTHORISED,
        lambda: town.beijing_shop.spend_voucher(
            town.city, voucher_id, town.hebei_shops[0], cny("1")
        ),
    )
    refused(
        town.ledger,
        Reason.VOUCHER_UNKNOWN,
        lambda: town.resident.spend_voucher(town.city, 999, town.hebei_shops[0], cny("1")),
    )


def test_an_issuer_with_vouchers_out_cannot_close() -> None:
    town = _city()
    town.city.issue_voucher(
        town.resident, cny("10"), expires_at_us=_later(town, 30), regions=(HEBEI,)
    )
    bank = town.city.operator
    refused(town.ledger, Reason.PENDING_OUTSTANDING, lambda: bank.close_wallet(town.city))


def test_the_regulator_sees_a_spend_as_a_payment_from_the_issuer() -> None:
    town = _city(block_size=4)
    journal = town.ledger.journal
    assert journal is not None
    view = dcep.RegulatorView.from_store(journal.store)
    view.follow(town.ledger)
    flows = view.flow_count
    voucher_id = town.city.issue_voucher(
        town.resident, cny("100"), expires_at_us=_later(town, 60), regions=(HEBEI,)
    ).instruction_id
    assert view.flow_count == flows
    receipt = town.resident.spend_voucher(town.city, voucher_id, town.hebei_shops[0], cny("25"))
    flow = view.flow(receipt.entry_number)
    assert (flow.payer, flow.payee, flow.amount_fen) == (
        town.city.address,
        town.hebei_shops[0].address,
        2500,
    )


def test_the_regulator_reads_a_campaigns_spend_by_region() -> None:
    town = _city(block_size=4)
    voucher_id = town.city.issue_voucher(
        town.resident,
        cny("100"),
        expires_at_us=_later(town, 60),
        regions=(HEBEI,),
        merchants=(town.beijing_shop,),
    ).instruction_id
    spends = [(town.hebei_shops[0], "12"), (town.hebei_shops[1], "3"), (town.beijing_shop, "40")]
    for shop, yuan in spends:
        town.resident.spend_voucher(town.city, voucher_id, shop, cny(yuan))
    journal = town.ledger.journal
    assert journal is not None
    view = dcep.regulator.ProgrammableView.from_store(journal.store)
    assert view.voucher_spend_by_region(town.city.address) == {BEIJING: 4000, HEBEI: 1500}
    assert view.voucher_spend_by_region(town.resident.address) == {}
    # What the campaign spent is what the merchants received.
    assert sum(view.voucher_spend_by_region().values()) == sum(
        shop.balance.fen for shop in (*town.hebei_shops, town.beijing_shop)
    )


def test_a_snapshot_and_a_reopened_file_keep_vouchers(tmp_path: Path) -> None:
    town = _city()
    town.city.issue_voucher(
        town.resident,
        cny("100"),
        expires_at_us=_later(town, 60),
        regions=(HEBEI, BEIJING),
        merchants=(town.hebei_shops[0],),
        memo="stimulus",
    )
    rows = town.ledger.snapshot()
    assert len(rows.vouchers) == 1
    copy = dcep.Ledger()
    copy.restore(rows)
    assert copy.vouchers() == town.ledger.vouchers()
    assert copy.violations() == []
    assert copy.snapshot() == rows
    lossy = dcep.Ledger()
    lossy.restore(attrs.evolve(rows, vouchers=()))
    assert lossy.violations()

    path = tmp_path / "ledger.db"
    clock = dcep.ManualClock()
    ledger = dcep.Ledger.open(path, clock=clock, block_size=2, snapshot_every_blocks=1)
    pboc = dcep.CentralBank(ledger, seed=27)
    bank = pboc.authorise_bank("HEBEI", code=f"{HEBEI}.01", reserves=cny("10000"))
    pboc.issue(bank, cny("5000"))
    city = bank.open_wallet(category=4, phone="137", seed=1)
    resident = bank.open_wallet(category=4, phone="138", seed=2)
    shop = bank.open_wallet(category=4, phone="139")
    bank.fund(city, cny("900"))
    voucher_id = city.issue_voucher(
        resident, cny("70"), expires_at_us=clock.now_us() + 60 * SECOND_US, regions=(HEBEI,)
    ).instruction_id
    expected = ledger.vouchers()
    ledger.close()
    again = dcep.Ledger.open(path, clock=clock)
    try:
        assert again.vouchers() == expected
        holder = (
            dcep.CentralBank.restore(again, seed=27).bank("HEBEI").wallet(resident.address, seed=2)
        )
        holder.spend_voucher(city.address, voucher_id, shop.address, cny("70"))
        assert again.balance(shop.address) == cny("70")
        assert again.vouchers() == []
        journal = again.journal
        assert journal is not None
        assert dcep.Replica(journal.store).catch_up().entries_verified == again.entry_count
    finally:
        again.close()
