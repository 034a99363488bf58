"""The transfers benchmark's latency helpers report what the calls really took.

The benchmark prints p50, p99 and the maximum of every ``submit_many`` batch
and ``submit`` call, and puts each slow call down to the collector or to the
journal (issue 26, part 4).  Those figures are only as good as the helpers in
``benchmarks/_latency.py``: the percentile must be the nearest-rank one, the
printed durations must read back as the measured ones, and the watch must
see exactly the blocks sealed and snapshots taken during a call, by the
journal's own rule (a snapshot after every ``snapshot_every_blocks``-th block).
"""

from __future__ import annotations

import gc
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
from benchmarks._fixtures import NETWORK_ID, Population, count_refused
from benchmarks._latency import (
    Call,
    GcClock,
    Latency,
    Spread,
    Watch,
    duration,
    nearest_rank,
)

seconds_lists = st.lists(
    st.floats(min_value=0, max_value=1e4, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=300,
)
percents = st.integers(min_value=1, max_value=100)


@given(seconds_lists, percents)
def test_nearest_rank_is_the_smallest_value_covering_the_percent(
    values: list[float], percent: int
) -> None:
    result = nearest_rank(values, percent)
    assert result in values

    def covered(value: float) -> int:
        return sum(1 for other in values if other <= value)

    # At least percent% of the values are at or below it ...
    assert covered(result) * 100 >= percent * len(values)
    # ... and no smaller value has that many.
    assert all(covered(value) * 100 < percent * len(values) for value in values if value < result)


@given(seconds_lists, percents, percents)
def test_nearest_rank_rises_with_the_percent_up_to_the_maximum(
    values: list[float], first: int, second: int
) -> None:
    low, high = sorted((first, second))
    assert nearest_rank(values, low) <= nearest_rank(values, high) <= max(values)
    assert nearest_rank(values, 100) == max(values)


@pytest.mark.parametrize("percent", [0, 101, -1, 50.0, True])
def test_nearest_rank_refuses_a_percent_out_of_range(percent: object) -> None:
    with pytest.raises(ValueError, match="percent"):
        nearest_rank([1.0, 2.0], percent)  # type: ignore[arg-type]


def test_nearest_rank_refuses_no_values() -> None:
    with pytest.raises(ValueError, match="no values"):
        nearest_rank([], 50)


DURATION = re.compile(r"^(?P<number>[0-9,.]+) (?P<unit>µs|ms)$")


@given(st.floats(min_value=1e-6, max_value=1e4))
def test_a_duration_reads_back_within_half_a_percent(seconds: float) -> None:
    text = duration(seconds)
    parsed = DURATION.match(text)
    assert parsed is not None, text
    scale = 1e-6 if parsed["unit"] == "µs" else 1e-3
    value = float(parsed["number"].replace(",", "")) * scale
    assert abs(value - seconds) <= 0.005 * seconds
    # Microseconds only below a millisecond, so that no line says "1,000 µs".
    assert (parsed["unit"] == "µs") == (seconds < 999.5e-6)


calls = st.builds(
    Call,
    st.floats(min_value=0, max_value=10, allow_nan=False),
    st.floats(min_value=0, max_value=1, allow_nan=False),
    st.one_of(st.none(), st.integers(min_value=0, max_value=3)),
    st.booleans(),
)


@given(st.lists(calls, min_size=1, max_size=200), st.floats(min_value=0, max_value=1))
def test_a_latency_report_splits_and_summarises_every_call(
    made: list[Call], gc_longest: float
) -> None:
    latency = Latency("label", "batches of 1,000", tuple(made), gc_longest)
    seconds = [call.seconds for call in made]
    spread = latency.spread
    assert spread == Spread(
        len(made),
        nearest_rank(seconds, 50),
        nearest_rank(seconds, 99),
        max(seconds),
    )
    assert latency.worst.seconds == spread.max
    with_snapshot, without = latency.split()
    snapshots = [call.seconds for call in made if call.snapshot]
    others = [call.seconds for call in made if not call.snapshot]
    assert (with_snapshot is None) == (not snapshots)
    assert (without is None) == (not others)
    if with_snapshot is not None:
        assert with_snapshot == Spread.of(snapshots)
    if without is not None:
        assert without == Spread.of(others)
    line = latency.line()
    assert line.lstrip().startswith("label ")
    for value in (spread.p50, spread.p99, spread.max):
        assert duration(value) in line
    table = latency.to_dict()
    assert table["count"] == len(made)
    assert table["max_ms"] == spread.max * 1e3
    assert table["calls_ms"] == [round(value * 1e3, 4) for value in seconds]
    assert table["snapshot_calls"] == [i for i, call in enumerate(made) if call.snapshot]
    assert table["sealing_calls"] == [i for i, call in enumerate(made) if call.blocks_sealed]


def test_a_latency_report_needs_a_call() -> None:
    with pytest.raises(ValueError, match="no calls"):
        Latency("label", "submits", (), 0.0)


def test_the_watch_gives_a_call_the_collections_made_during_it() -> None:
    collector = GcClock()
    watch = Watch(None, collector)
    was_enabled = gc.isenabled()
    gc.disable()  # only the explicit collection below runs
    gc.callbacks.append(collector)
    try:
        watch.mark()
        gc.collect()
        collected = watch.call(1.0)
        watch.mark()
        quiet = watch.call(2.0)
    finally:
        gc.callbacks.remove(collector)
        if was_enabled:
            gc.enable()
    assert 0 < collected.gc_seconds == collector.total
    assert collector.longest == collector.total
    assert quiet == Call(2.0, 0.0, None, False)


BLOCK_SIZE = 3
SNAPSHOT_EVERY = 2


# Each example builds and journals a ledger: 25 of them keep this test near 0.1 s.
@settings(max_examples=25)
@given(st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=4), st.randoms())
def test_the_watch_sees_each_seal_and_snapshot_in_the_call_that_made_it(
    batch_sizes: list[int], rng: random.Random
) -> None:
    population = Population(3, seed=11)
    ledger = dcep.Ledger.with_journal(
        network_id=NETWORK_ID, block_size=BLOCK_SIZE, snapshot_every_blocks=SNAPSHOT_EVERY
    )
    journal = ledger.journal
    assert journal is not None
    journal.attach_signer(population.central)
    watch = Watch(journal, GcClock())
    made = []
    height = journal.height
    pending_before: list[bool] = []
    for batch in [list(population.setup_envelopes())] + [
        list(population.transfers(size, rng)) for size in batch_sizes
    ]:
        watch.mark()
        pending_before.append(journal.snapshot_pending is not None)
        outcome = ledger.submit_many(batch)
        made.append(watch.call(0.0))
        assert count_refused(outcome) == 0
    assert all(call.blocks_sealed is not None for call in made)
    assert sum(call.blocks_sealed or 0 for call in made) == journal.height - height
    # Which calls sealed a block whose height ends a snapshot interval (the
    # journal's rule), or wrote a snapshot captured before them.
    for call, pending in zip(made, pending_before, strict=True):
        sealed = range(height, height + (call.blocks_sealed or 0))
        height = sealed.stop
        boundary = any(h % SNAPSHOT_EVERY == SNAPSHOT_EVERY - 1 for h in sealed)
        assert call.snapshot == (boundary or pending)
    assert any(call.snapshot for call in made)  # the setup alone seals three blocks


def test_a_ledger_without_a_journal_seals_nothing() -> None:
    population = Population(2, seed=12)
    ledger = dcep.Ledger(network_id=NETWORK_ID)
    watch = Watch(ledger.journal, GcClock())
    watch.mark()
    assert count_refused(ledger.submit_many(list(population.setup_envelopes()))) == 0
    call = watch.call(0.5)
    assert (call.blocks_sealed, call.snapshot) == (None, False)
