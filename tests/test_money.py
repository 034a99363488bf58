"""Tests of dcep.values._money: exact integer-fen amounts and their text forms."""

from __future__ import annotations

import doctest
from decimal import Decimal

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import dcep.values
import dcep.values._money
from dcep.errors import AmountError, DcepError, Reason
from dcep.values._money import FEN_PER_YUAN, MAX_AMOUNT_FEN, Amount, cny

from . import strategies

#: Every amount, zero and the maximum included.
amounts = strategies.amounts()


def _refused(reason: Reason, value: object) -> None:
    """Assert that building ``Amount(value)`` is refused for ``reason``."""
    with pytest.raises(AmountError) as info:
        Amount(value)  # type: ignore[arg-type]
    assert info.value.reason is reason


def test_constants() -> None:
    assert FEN_PER_YUAN == 100
    assert MAX_AMOUNT_FEN == 9_223_372_036_854_775_807


# --- Parsing and formatting -------------------------------------------------


@given(amount=amounts)
@example(amount=Amount(0))
@example(amount=Amount(MAX_AMOUNT_FEN))
def test_yuan_text_round_trip(amount: Amount) -> None:
    assert cny(amount.yuan_text) == amount
    assert Amount.parse(amount.yuan_text) == amount


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("0", 0),
        ("0.0", 0),
        ("0.00", 0),
        ("0.05", 5),
        ("0.5", 50),
        ("0.50", 50),
        ("1", 100),
        ("12.5", 1250),
        ("12.50", 1250),
        ("12.05", 1205),
        ("1234.5", 123450),
        ("1000000", 100_000_000),
        ("92233720368547758.07", MAX_AMOUNT_FEN),
    ],
)
def test_parse_hand_worked(text: str, fen: int) -> None:
    assert cny(text) == Amount(fen)
    assert cny(text).fen == fen


@pytest.mark.parametrize(
    ("fen", "text", "yuan_text"),
    [
        (0, "¥0.00", "0.00"),
        (5, "¥0.05", "0.05"),
        (99, "¥0.99", "0.99"),
        (100, "¥1.00", "1.00"),
        (1250, "¥12.50", "12.50"),
        (123450, "¥1,234.50", "1234.50"),
        (99_999_999, "¥999,999.99", "999999.99"),
        (100_000_000, "¥1,000,000.00", "1000000.00"),
        (MAX_AMOUNT_FEN, "¥92,233,720,368,547,758.07", "92233720368547758.07"),
    ],
)
def test_str_and_yuan_text_hand_worked(fen: int, text: str, yuan_text: str) -> None:
    amount = Amount(fen)
    assert str(amount) == text
    assert f"{amount}" == text
    assert amount.yuan_text == yuan_text


def test_format_spec_applies_to_the_text() -> None:
    assert f"{Amount(1250):>8}" == "  ¥12.50"
    assert f"{Amount(1250):<8}|" == "¥12.50  |"


def test_repr() -> None:
    assert repr(Amount(1300)) == "Amount(fen=1300)"


@pytest.mark.parametrize(
    "text",
    [
        "",
        " 1",
        "1 ",
        "1\n",
        "1.234",
        "1.",
        ".5",
        "-1",
        "+1",
        "1e3",
        "1E3",
        "1,000",
        "1_000",
        "1.2.3",
        "¥1",
        "0x10",
        "nan",
        "inf",
        "\uff11\uff12",  # fullwidth digits
        "\u0661\u0662",  # Arabic-Indic digits
    ],
)
def test_malformed_text_is_refused(text: str) -> None:
    with pytest.raises(AmountError) as info:
        cny(text)
    assert info.value.reason is Reason.AMOUNT_MALFORMED
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", [1.5, 12.0, Decimal("12.50"), 1250, b"12.50"])
def test_parse_refuses_non_strings(value: object) -> None:
    with pytest.raises(AmountError) as info:
        cny(value)  # type: ignore[arg-type]
    assert info.value.reason is Reason.AMOUNT_NOT_INTEGER
    assert isinstance(info.value, ValueError)
    assert not isinstance(info.value, TypeError)


def test_parse_refuses_text_above_the_maximum() -> None:
    with pytest.raises(AmountError) as info:
        cny("92233720368547758.08")
    assert info.value.reason is Reason.AMOUNT_TOO_LARGE


def test_parse_refuses_very_long_digit_strings_as_too_large() -> None:
    with pytest.raises(AmountError) as info:
        cny("9" * 5000)
    assert info.value.reason is Reason.AMOUNT_TOO_LARGE


def test_parse_ignores_leading_zeros_however_many() -> None:
    assert cny("0" * 5000 + "1.05") == Amount(105)


# --- Construction -----------------------------------------------------------


@pytest.mark.parametrize("value", [True, False, 1.0, 0.0, "1", Decimal(1), None])
def test_non_int_fen_is_refused(value: object) -> None:
    _refused(Reason.AMOUNT_NOT_INTEGER, value)


@pytest.mark.parametrize("value", [-1, -MAX_AMOUNT_FEN])
def test_negative_fen_is_refused(value: int) -> None:
    _refused(Reason.AMOUNT_NEGATIVE, value)


@pytest.mark.parametrize("value", [MAX_AMOUNT_FEN + 1, 2**64, 10**30])
def test_fen_above_maximum_is_refused(value: int) -> None:
    _refused(Reason.AMOUNT_TOO_LARGE, value)


def test_amount_errors_are_value_errors() -> None:
    assert issubclass(AmountError, DcepError)
    assert issubclass(AmountError, ValueError)


def test_zero_bool_and_int() -> None:
    assert Amount.zero() == Amount(0)
    assert not Amount.zero()
    assert Amount(1)
    assert int(Amount(1250)) == 1250


def test_amounts_are_frozen() -> None:
    amount = Amount(5)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        amount.fen = 6  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del amount.fen
    assert amount.fen == 5


@given(amount=amounts)
def test_equal_amounts_hash_equal(amount: Amount) -> None:
    twin = Amount(int(str(amount.fen)))
    assert twin == amount
    assert hash(twin) == hash(amount)
    assert len({twin, amount}) == 1


# --- Arithmetic -------------------------------------------------------------


def test_arithmetic_hand_worked() -> None:
    assert cny("12.50") + Amount(50) == Amount(1300)
    assert cny("12.50") - cny("0.55") == Amount(1195)
    assert cny("0.10") + cny("0.20") == cny("0.30")
    assert Amount(MAX_AMOUNT_FEN - 1) + Amount(1) == Amount(MAX_AMOUNT_FEN)


@given(a=amounts, b=amounts)
def test_addition_matches_fen_or_is_refused(a: Amount, b: Amount) -> None:
    total = a.fen + b.fen
    if total <= MAX_AMOUNT_FEN:
        assert (a + b).fen == total
    else:
        with pytest.raises(AmountError) as info:
            a + b
        assert info.value.reason is Reason.AMOUNT_TOO_LARGE


def test_sum_above_maximum_is_refused() -> None:
    with pytest.raises(AmountError) as info:
        Amount(MAX_AMOUNT_FEN) + Amount(1)
    assert info.value.reason is Reason.AMOUNT_TOO_LARGE


@given(a=amounts, b=amounts)
def test_subtraction_matches_fen_or_is_refused(a: Amount, b: Amount) -> None:
    if a.fen >= b.fen:
        assert (a - b).fen == a.fen - b.fen
    else:
        with pytest.raises(AmountError) as info:
            a - b
        assert info.value.reason is Reason.AMOUNT_NEGATIVE


def test_negative_difference_is_refused() -> None:
    with pytest.raises(AmountError) as info:
        cny("1") - cny("2")
    assert info.value.reason is Reason.AMOUNT_NEGATIVE


# Small enough that two (three) of them add up to an amount.
halves = strategies.amounts(max_fen=MAX_AMOUNT_FEN // 2)
thirds = strategies.amounts(max_fen=MAX_AMOUNT_FEN // 3)


@given(a=halves, b=halves)
def test_addition_is_commutative(a: Amount, b: Amount) -> None:
    assert a + b == b + a


@given(a=thirds, b=thirds, c=thirds)
def test_addition_is_associative(a: Amount, b: Amount, c: Amount) -> None:
    assert (a + b) + c == a + (b + c)


@given(a=amounts)
def test_zero_is_the_identity(a: Amount) -> None:
    assert a + Amount.zero() == a
    assert Amount.zero() + a == a
    assert a - Amount.zero() == a
    assert a - a == Amount.zero()


def test_multiplication_by_int() -> None:
    assert Amount(250) * 3 == Amount(750)
    assert 3 * Amount(250) == Amount(750)
    assert Amount(250) * 0 == Amount(0)
    assert Amount(250) * 1 == Amount(250)


@pytest.mark.parametrize("factor", [1.5, 2.0, Decimal(2), True, "2"])
def test_multiplication_by_non_int_is_refused(factor: object) -> None:
    with pytest.raises(AmountError) as info:
        Amount(250) * factor  # type: ignore[operator]
    assert info.value.reason is Reason.AMOUNT_NOT_INTEGER
    with pytest.raises(AmountError) as info:
        factor * Amount(250)  # type: ignore[arg-type]
    assert info.value.reason is Reason.AMOUNT_NOT_INTEGER


def test_multiplication_out_of_range_is_refused() -> None:
    with pytest.raises(AmountError) as info:
        Amount(250) * -1
    assert info.value.reason is Reason.AMOUNT_NEGATIVE
    with pytest.raises(AmountError) as info:
        Amount(MAX_AMOUNT_FEN) * 2
    assert info.value.reason is Reason.AMOUNT_TOO_LARGE


def test_addition_with_plain_int_is_a_type_error() -> None:
    assert Amount(1).__add__(1) is NotImplemented  # type: ignore[operator]
    assert Amount(1).__sub__(1) is NotImplemented  # type: ignore[operator]
    with pytest.raises(TypeError):
        Amount(1) + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        1 + Amount(1)  # type: ignore[operator]
    with pytest.raises(TypeError):
        Amount(1) - 1  # type: ignore[operator]


def test_require_positive() -> None:
    one = Amount(1)
    assert one.require_positive() is one
    with pytest.raises(AmountError) as info:
        Amount(0).require_positive()
    assert info.value.reason is Reason.AMOUNT_NOT_POSITIVE
    assert info.value.field == "amount"
    with pytest.raises(AmountError) as info:
        Amount.zero().require_positive(field="fee")
    assert info.value.field == "fee"


# --- Ordering -----------------------------------------------------------------


@given(a=amounts, b=amounts)
def test_ordering_matches_fen(a: Amount, b: Amount) -> None:
    assert (a < b) == (a.fen < b.fen)
    assert (a <= b) == (a.fen <= b.fen)
    assert (a > b) == (a.fen > b.fen)
    assert (a >= b) == (a.fen >= b.fen)
    assert (a == b) == (a.fen == b.fen)


@given(values=st.lists(amounts, max_size=20))
def test_sorting_matches_fen(values: list[Amount]) -> None:
    assert [a.fen for a in sorted(values)] == sorted(a.fen for a in values)


def test_ordering_hand_worked() -> None:
    assert cny("0.99") < cny("1")
    assert cny("10") > cny("9.99")
    assert max(cny("2"), cny("10"), cny("9.5")) == cny("10")


# --- Doctests -----------------------------------------------------------------


def test_module_doctests() -> None:
    failed, attempted = doctest.testmod(dcep.values)
    assert attempted > 0
    assert failed == 0
