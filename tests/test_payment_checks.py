"""A payment's one-test fast path agrees with its named checks.

``transfer`` first asks one cheap question, "does every check pass?", and
runs the named checks (which pick the error) only when the answer is no.
The fast answer must never say yes when a named check would refuse; and it
should say yes whenever they all pass, or the fast path is not taken.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcep import Address, Amount, CategoryLimits, DcepError, Policy
from dcep.core._checks import require_under_cap
from dcep.core._handlers_money import _check_payment_caps
from dcep.core._state import LedgerState
from dcep.core._wallet_table import WalletAccount, WalletTable
from dcep.values._money import MAX_AMOUNT_FEN
from dcep.values._policy import WalletCategory, year_of_day

from .strategies import wallet_categories

# Small numbers, so that caps, balances and amounts often meet at the edges
# (on purpose not tests/strategies.py's fens(): its draws would rarely meet a cap).
edge_fens = st.integers(0, 6) | st.sampled_from([MAX_AMOUNT_FEN - 1, MAX_AMOUNT_FEN])
caps = st.none() | st.integers(1, 6).map(Amount)
limits = st.builds(CategoryLimits, caps, caps, caps, caps)
# 2022-12-31, 2023-01-01 and 2023-01-02: counters of the same day, of the same
# year only, and of another year.
days = st.integers(19_357, 19_359)

PAYER = Address(bytes(19) + b"\x01")
PAYEE = Address(bytes(19) + b"\x02")


@st.composite
def wallets(draw: st.DrawFn) -> tuple[WalletCategory, int, int, int, int]:
    """A wallet's category, balance, counters' day, spent that day and that year."""
    return (
        draw(wallet_categories),
        draw(edge_fens),
        draw(days),
        draw(edge_fens),
        draw(edge_fens),
    )


def _open(
    table: WalletTable, address: Address, fields: tuple[WalletCategory, int, int, int, int]
) -> WalletAccount:
    category, balance_fen, day, today_fen, year_fen = fields
    wallet = table.open(
        address,
        category=category,
        operator=Address(bytes(20)),
        linked_account="",
    )
    wallet.balance_fen = balance_fen
    wallet.day = day
    wallet.spent_today_fen = today_fen
    wallet.spent_this_year_fen = year_fen
    return wallet


@pytest.mark.slow  # 1000 examples, on purpose: over a second
@settings(max_examples=1000)
@given(
    payer_fields=wallets(),
    payee_fields=wallets(),
    amount_fen=st.integers(1, 7),
    limit_table=st.dictionaries(wallet_categories, limits),
    day=days,
)
def test_the_fast_test_of_caps_is_exactly_the_named_checks(
    payer_fields: tuple[WalletCategory, int, int, int, int],
    payee_fields: tuple[WalletCategory, int, int, int, int],
    amount_fen: int,
    limit_table: dict[WalletCategory, CategoryLimits],
    day: int,
) -> None:
    policy = Policy()
    for category, category_limits in limit_table.items():
        policy = policy.with_limits(category, category_limits)
    year = year_of_day(day)
    state = LedgerState()
    payer = _open(state.wallets, PAYER, payer_fields)
    payee = _open(state.wallets, PAYEE, payee_fields)
    before = (payer.balance_fen, payee.balance_fen, payer.spent_today_fen, payer.day)
    try:
        # Wallets of their own (no sub-wallets): the only ones the fast test decides.
        _check_payment_caps(state, payer, PAYER, amount_fen, policy, day, year, 1)
        require_under_cap(state, payee, PAYEE, amount_fen, policy, 1)
    except DcepError:
        refused = True
    else:
        refused = amount_fen > payer.balance_fen
    paid = state.wallets.pay_if_plain(PAYER, PAYEE, amount_fen, policy, day, year)
    assert paid is not refused
    if not paid:
        after = (payer.balance_fen, payee.balance_fen, payer.spent_today_fen, payer.day)
        assert after == before
        return
    assert (payer.balance_fen, payee.balance_fen) == (
        before[0] - amount_fen,
        before[1] + amount_fen,
    )
    assert payer.day == day
    assert payer.spent_today_fen == min(
        (before[2] if before[3] == day else 0) + amount_fen, MAX_AMOUNT_FEN
    )
