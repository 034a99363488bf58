"""The manual clock moves forward by steps or to a time, and never backwards."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dcep
from dcep.values._clock import microseconds

BEIJING = dt.timezone(dt.timedelta(hours=8))


@given(st.lists(st.integers(min_value=-(10**12), max_value=10**12), max_size=30))
def test_move_to_never_goes_backwards_and_a_refusal_changes_nothing(offsets: list[int]) -> None:
    clock = dcep.ManualClock()
    start = clock.now_us()
    for offset in offsets:
        before = clock.now_us()
        target = start + offset
        if target < before:
            with pytest.raises(dcep.InvalidFieldError) as caught:
                clock.move_to(target)
            assert caught.value.reason is dcep.Reason.FIELD_INVALID
            assert clock.now_us() == before
        else:
            clock.move_to(target)
            assert clock.now_us() == target


@given(st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2030, 1, 1)))
def test_move_to_a_datetime_is_exact(moment: dt.datetime) -> None:
    aware = moment.replace(tzinfo=BEIJING)
    clock = dcep.ManualClock(0)
    clock.move_to(aware)
    assert clock.now_us() == microseconds(aware)
    back = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=clock.now_us())
    assert back == aware


@pytest.mark.parametrize("moment", [1.5, "2026-01-01", None, True, dt.datetime(2026, 1, 1)])
def test_move_to_refuses_what_is_not_a_time(moment: object) -> None:
    clock = dcep.ManualClock()
    before = clock.now_us()
    with pytest.raises(dcep.InvalidFieldError):
        clock.move_to(moment)  # type: ignore[arg-type]
    assert clock.now_us() == before


def test_payments_spread_over_a_day_carry_their_times() -> None:
    opening = dt.datetime(2026, 3, 2, 8, 0, tzinfo=BEIJING)
    clock = dcep.ManualClock.at(opening)
    ledger = dcep.Ledger(clock=clock)
    pboc = dcep.CentralBank(ledger, seed=1)
    icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=dcep.cny("10000"))
    pboc.issue(icbc, dcep.cny("10000"))
    alice = icbc.open_wallet(category=4, phone="13800000000")
    bob = icbc.open_wallet(category=4, phone="13900000000")
    icbc.fund(alice, dcep.cny("500"))
    times = [opening + dt.timedelta(hours=hour, minutes=17) for hour in (1, 4, 9, 13)]
    receipts = []
    for moment in times:
        clock.move_to(moment)
        receipts.append(alice.pay(bob, dcep.cny("10")))
    assert [receipt.accepted_at_us for receipt in receipts] == [microseconds(t) for t in times]
    # One Beijing day: the daily cap counts all four.
    assert ledger.wallet(alice.address).spent_today == dcep.cny("40")
