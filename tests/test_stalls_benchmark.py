"""The stall benchmark's percentile is the nearest rank, whatever the values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.stalls import nearest_rank


@given(
    values=st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=50),
    fraction=st.floats(0.001, 1),
)
def test_the_nearest_rank_has_its_share_at_or_below_it(
    values: list[float], fraction: float
) -> None:
    picked = nearest_rank(values, fraction)
    assert picked in values
    rank = math.ceil(len(values) * fraction)
    assert sum(1 for v in values if v <= picked) >= rank
    assert sum(1 for v in values if v < picked) < rank


@pytest.mark.parametrize(("values", "fraction"), [([], 0.5), ([1.0], 0.0), ([1.0], 1.5)])
def test_a_percentile_needs_values_and_a_fraction(values: list[float], fraction: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        nearest_rank(values, fraction)
