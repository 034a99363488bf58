"""Tests of institution codes and the registry that hands them out.

The strategies (in tests/strategies.py, shared with tests/test_encoding.py)
are written from the rules in the brief (agency 2-4 letters, country 3 digits
not 000, region 4 or 6 digits, up to 12 sub-levels of 1-8 letters or digits,
64 characters in all), not from the module's own regular expressions, so
that a wrong pattern in the module cannot agree with itself.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dcep.errors import CodeError, DcepError, Reason
from dcep.values._codes import CodeRegistry, InstitutionCode

from .strategies import agencies, code_levels, countries, institution_codes, regions

# A small family of codes, so that ancestry between two draws is common.
family = st.builds(
    InstitutionCode,
    agency=st.sampled_from(["MA", "MB"]),
    country=st.just("156"),
    region=st.sampled_from(["1301", "130100"]),
    levels=st.lists(st.sampled_from(["1", "2"]), max_size=4).map(tuple),
)


def test_example_from_the_city_idcode_form() -> None:
    code = InstitutionCode.parse("MA.156.1301.01.003")
    assert (code.agency, code.country, code.region) == ("MA", "156", "1301")
    assert code.levels == ("01", "003")
    assert code.depth == 5
    assert str(code) == "MA.156.1301.01.003"


@given(institution_codes())
def test_str_then_parse_gives_the_same_code(code: InstitutionCode) -> None:
    assert InstitutionCode.parse(str(code)) == code


@given(agencies, countries, regions, st.lists(code_levels, max_size=3))
def test_parse_then_str_gives_the_same_text(
    agency: str, country: str, region: str, levels: list[str]
) -> None:
    text = ".".join([agency, country, region, *levels])
    assert str(InstitutionCode.parse(text)) == text


@given(institution_codes())
def test_depth_counts_the_dotted_parts(code: InstitutionCode) -> None:
    assert code.depth == str(code).count(".") + 1


def test_region_code_has_no_parent() -> None:
    code = InstitutionCode.parse("MA.156.130100")
    assert code.depth == 3
    assert code.parent is None


@given(institution_codes())
def test_parent_drops_the_last_part(code: InstitutionCode) -> None:
    parent = code.parent
    if parent is None:
        assert code.levels == ()
    else:
        assert str(code).startswith(str(parent) + ".")
        assert parent.depth == code.depth - 1


@given(institution_codes(), code_levels)
def test_child_then_parent_is_the_code(code: InstitutionCode, segment: str) -> None:
    if len(code.levels) == 12 or len(str(code)) + 1 + len(segment) > 64:
        with pytest.raises(CodeError):
            code.child(segment)
        return
    child = code.child(segment)
    assert child.parent == code
    assert child.levels[-1] == segment
    assert child.is_under(code)
    assert not code.is_under(child)


@given(institution_codes())
def test_no_code_is_under_itself(code: InstitutionCode) -> None:
    assert not code.is_under(code)


@given(family, family)
def test_is_under_means_a_strict_dotted_prefix(a: InstitutionCode, b: InstitutionCode) -> None:
    assert a.is_under(b) == str(a).startswith(str(b) + ".")


@given(family, family, family)
def test_is_under_is_transitive_and_antisymmetric(
    a: InstitutionCode, b: InstitutionCode, c: InstitutionCode
) -> None:
    if a.is_under(b) and b.is_under(c):
        assert a.is_under(c)
    assert not (a.is_under(b) and b.is_under(a))


def test_is_under_needs_the_same_agency_country_and_region() -> None:
    branch = InstitutionCode.parse("MA.156.1301.01.003")
    for other in ("MB.156.1301.01", "MA.344.1301.01", "MA.156.1302.01", "MA.156.1301.02"):
        assert not branch.is_under(InstitutionCode.parse(other)), other
    assert branch.is_under(InstitutionCode.parse("MA.156.1301"))


def test_parents_sort_before_their_children() -> None:
    parent = InstitutionCode.parse("MA.156.1301.01")
    assert sorted([parent.child("2"), parent, parent.child("1")]) == [
        parent,
        parent.child("1"),
        parent.child("2"),
    ]


def test_bounds_are_inclusive() -> None:
    twelve = InstitutionCode.parse("MA.156.1301" + ".1" * 12)
    assert twelve.depth == 15
    longest = "MA.156.1301" + ".ABCDEFGH" * 5 + ".1234567"
    assert len(longest) == 64
    assert str(InstitutionCode.parse(longest)) == longest
    assert InstitutionCode.parse("ABCD.999.999999.Z").agency == "ABCD"


TOO_MANY_LEVELS = "MA.156.1301" + ".1" * 13
TOO_LONG = "MA.156.1301" + ".ABCDEFGH" * 6

MALFORMED: list[tuple[str, str, str | None]] = [
    # (text, field named, text quoted in the message or None if absent)
    ("", "agency", "''"),
    ("M.156.1301", "agency", "'M'"),
    ("MAXXX.156.1301", "agency", "'MAXXX'"),
    ("ma.156.1301", "agency", "'ma'"),
    ("MÄ.156.1301", "agency", "'MÄ'"),
    (" MA.156.1301", "agency", "' MA'"),
    ("MA", "country", None),
    ("MA.156", "region", None),
    ("M.156", "agency", "'M'"),
    ("MA..1301", "country", "''"),
    ("MA.000.1301", "country", "'000'"),
    ("MA.15.1301", "country", "'15'"),
    ("MA.1560.1301", "country", "'1560'"),
    ("MA.١٥٦.1301", "country", "'١٥٦'"),
    ("MA.156.130", "region", "'130'"),
    ("MA.156.13011", "region", "'13011'"),
    ("MA.156.1301234", "region", "'1301234'"),
    ("MA.156.1301\n", "region", "'1301\\n'"),
    ("MA.156.", "region", "''"),
    ("MA.156.1301.", "level 1", "''"),
    ("MA.156.1301.01..3", "level 2", "''"),
    ("MA.156.1301.ab", "level 1", "'ab'"),
    ("MA.156.1301.123456789", "level 1", "'123456789'"),
    ("MA.156.1301.01.0-3", "level 2", "'0-3'"),
    ("MA.156.1301.01 ", "level 1", "'01 '"),
    (TOO_MANY_LEVELS, "levels", None),
    (TOO_LONG, "code", None),
]


@pytest.mark.parametrize(("text", "field", "quoted"), MALFORMED)
def test_malformed_text_is_refused_naming_the_part(
    text: str, field: str, quoted: str | None
) -> None:
    with pytest.raises(CodeError) as caught:
        InstitutionCode.parse(text)
    error = caught.value
    assert error.reason is Reason.CODE_MALFORMED
    assert error.field == field
    assert field in error.message
    if quoted is not None:
        assert quoted in error.message
    assert isinstance(error, ValueError)
    assert isinstance(error, DcepError)


@pytest.mark.parametrize("value", [None, b"MA.156.1301", 156, ["MA", "156", "1301"]])
def test_parse_refuses_what_is_not_a_str(value: object) -> None:
    with pytest.raises(CodeError) as caught:
        InstitutionCode.parse(value)  # type: ignore[arg-type]
    assert caught.value.reason is Reason.CODE_MALFORMED
    assert caught.value.field == "code"
    assert type(value).__name__ in caught.value.message


CONSTRUCTED: list[tuple[tuple[object, ...], str]] = [
    (("MA", 156, "1301"), "country"),
    (("MA", "156", "1301", ["01"]), "levels"),
    (("MA", "156", "1301", ("1",) * 13), "levels"),
    (("MA", "156", "1301", ("01", "x")), "level 2"),
    (("MA", "156", "1301", ("01", 3)), "level 2"),
    ((b"MA", "156", "1301"), "agency"),
    (("MA", "156", "1301", ("ABCDEFGH",) * 7), "code"),
]


@pytest.mark.parametrize(("args", "field"), CONSTRUCTED)
def test_constructor_refuses_what_parse_would(args: tuple[object, ...], field: str) -> None:
    with pytest.raises(CodeError) as caught:
        InstitutionCode(*args)  # type: ignore[arg-type]
    assert caught.value.reason is Reason.CODE_MALFORMED
    assert caught.value.field == field


def test_child_validates_the_segment() -> None:
    code = InstitutionCode.parse("MA.156.1301.01")
    with pytest.raises(CodeError) as caught:
        code.child("b1")
    assert caught.value.reason is Reason.CODE_MALFORMED
    assert caught.value.field == "level 2"
    assert "'b1'" in caught.value.message


def test_child_refuses_a_thirteenth_level() -> None:
    code = InstitutionCode.parse("MA.156.1301" + ".1" * 12)
    with pytest.raises(CodeError) as caught:
        code.child("1")
    assert caught.value.field == "levels"


@given(st.one_of(st.text(max_size=80), st.text(alphabet="MA156.0Zb -", max_size=70)))
def test_any_text_parses_back_to_itself_or_is_refused_cleanly(text: str) -> None:
    try:
        code = InstitutionCode.parse(text)
    except CodeError as error:
        refused = error
    else:
        assert str(code) == text
        return
    assert isinstance(refused, ValueError)
    assert refused.reason is Reason.CODE_MALFORMED
    assert refused.field is not None
    assert refused.field in {"agency", "country", "region", "levels", "code"} or (
        refused.field.startswith("level ")
    )


def test_codes_are_frozen_and_hashable() -> None:
    code = InstitutionCode.parse("MA.156.1301.01")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        code.region = "1302"  # type: ignore[misc]
    assert not hasattr(code, "__dict__")
    assert {code: 1}[InstitutionCode("MA", "156", "1301", ("01",))] == 1


BANK = InstitutionCode.parse("MA.156.1301.01")
BRANCH = BANK.child("003")


def test_registry_records_owners() -> None:
    registry = CodeRegistry()
    assert len(registry) == 0
    assert BANK not in registry
    registry.assign(BANK, "Bank A")
    registry.assign(BRANCH, "Bank A, branch 3", parent=BANK)
    assert len(registry) == 2
    assert BANK in registry
    assert registry.owner_of(BANK) == "Bank A"
    assert registry.owner_of(BRANCH) == "Bank A, branch 3"
    assert registry.owner_of(BANK.child("004")) is None
    assert str(BANK) not in registry


def test_registry_refuses_a_duplicate_and_keeps_the_first_owner() -> None:
    registry = CodeRegistry()
    registry.assign(BANK, "Bank A")
    with pytest.raises(CodeError) as caught:
        registry.assign(BANK, "Bank B")
    assert caught.value.reason is Reason.CODE_DUPLICATE
    assert "'Bank A'" in caught.value.message
    assert isinstance(caught.value, ValueError)
    assert registry.owner_of(BANK) == "Bank A"
    assert len(registry) == 1


@pytest.mark.parametrize(
    "code",
    [
        BANK,  # the parent itself is not under the parent
        BANK.parent,
        InstitutionCode.parse("MA.156.1301.02.003"),
        InstitutionCode.parse("MA.156.1302.01.003"),
        InstitutionCode.parse("MB.156.1301.01.003"),
    ],
    ids=str,
)
def test_registry_refuses_a_code_outside_its_parent(code: InstitutionCode) -> None:
    registry = CodeRegistry()
    registry.assign(BANK, "Bank A")
    with pytest.raises(CodeError) as caught:
        registry.assign(code, "Intruder", parent=BANK)
    assert caught.value.reason is Reason.CODE_OUTSIDE_PARENT
    assert str(code) in caught.value.message
    assert isinstance(caught.value, ValueError)
    assert registry.owner_of(BANK) == "Bank A"
    assert len(registry) == 1


def test_registry_accepts_a_grandchild_of_the_parent() -> None:
    registry = CodeRegistry()
    registry.assign(BRANCH.child("7"), "Counter 7", parent=BANK)
    assert registry.owner_of(BRANCH.child("7")) == "Counter 7"


def test_children_of_lists_direct_children_sorted() -> None:
    registry = CodeRegistry()
    for code in (BANK.child("2"), BANK, BANK.child("1"), BANK.child("1").child("9")):
        registry.assign(code, str(code))
    registry.assign(InstitutionCode.parse("MA.156.1301.02"), "other bank")
    assert registry.children_of(BANK) == [BANK.child("1"), BANK.child("2")]
    assert registry.children_of(BANK.child("2")) == []
    assert registry.children_of(InstitutionCode.parse("MA.156.1301")) == [
        BANK,
        InstitutionCode.parse("MA.156.1301.02"),
    ]


@given(st.lists(st.tuples(family, st.sampled_from(["A", "B"]), st.none() | family)))
def test_registry_matches_a_model_and_refusals_change_nothing(
    attempts: list[tuple[InstitutionCode, str, InstitutionCode | None]],
) -> None:
    registry = CodeRegistry()
    model: dict[InstitutionCode, str] = {}
    for code, owner, parent in attempts:
        outside = parent is not None and not str(code).startswith(str(parent) + ".")
        refused: Reason | None = None
        try:
            registry.assign(code, owner, parent=parent)
        except CodeError as error:
            refused = error.reason
        if outside:
            assert refused is Reason.CODE_OUTSIDE_PARENT
        elif code in model:
            assert refused is Reason.CODE_DUPLICATE
        else:
            assert refused is None
            model[code] = owner
        assert len(registry) == len(model)
        for known, known_owner in model.items():
            assert registry.owner_of(known) == known_owner
        assert registry.owner_of(code) == model.get(code)
