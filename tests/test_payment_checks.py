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
from dcep.core._handlers_money import _check_payment_caps, _within_caps
from dcep.core._state import LedgerState, WalletAccount
from dcep.values._money import MAX_AMOUNT_FEN
from dcep.values._policy import WalletCategory

from .strategies import wallet_categories

# Small numbers, so that caps, balances and amounts often meet at the edges
# (on purpose not tests/strategies.py's fens(): its draws would rarely meet a cap).
edge_fens = st.integers(0, 6) | st.sampled_from([MAX_AMOUNT_FEN - 1, MAX_AMOUNT_FEN])
caps = st.none() | st.integers(1, 6).map(Amount)
limits = st.builds(CategoryLimits, caps, caps, caps, caps)
days = st.integers(19_000, 19_002)


@st.composite
def wallets(draw: st.DrawFn) -> WalletAccount:
    return WalletAccount(
        public_key=bytes(32),
        category=draw(wallet_categories),
        operator=Address(bytes(20)),
        linked_account="",
        balance_fen=draw(edge_fens),
        day=draw(days),
        spent_today_fen=draw(edge_fens),
        year=draw(st.integers(2022, 2023)),
        spent_this_year_fen=draw(edge_fens),
    )


@pytest.mark.slow  # 1000 examples, on purpose: over a second
@settings(max_examples=1000)
@given(
    payer=wallets(),
    payee=wallets(),
    amount_fen=st.integers(1, 7),
    table=st.dictionaries(wallet_categories, limits),
    day=days,
    year=st.integers(2022, 2023),
)
def test_the_fast_test_of_caps_is_exactly_the_named_checks(
    payer: WalletAccount,
    payee: WalletAccount,
    amount_fen: int,
    table: dict[WalletCategory, CategoryLimits],
    day: int,
    year: int,
) -> None:
    policy = Policy()
    for category, category_limits in table.items():
        policy = policy.with_limits(category, category_limits)
    try:
        # Wallets of their own (no sub-wallets): the only ones the fast test decides.
        state = LedgerState()
        _check_payment_caps(state, payer, Address(bytes(20)), amount_fen, policy, day, year, 1)
        require_under_cap(state, payee, Address(bytes(20)), amount_fen, policy, 1)
    except DcepError:
        refused = True
    else:
        refused = False
    assert _within_caps(payer, payee, amount_fen, policy, day, year) is not refused
