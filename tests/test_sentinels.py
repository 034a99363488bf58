"""Signature checks in worker processes give exactly the in-process results."""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import random
import signal
from collections.abc import Iterable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
import dcep.core
import dcep.journal
from dcep import cny
from dcep.core._sentinels import (
    _CHUNK,
    _IN_FLIGHT_PER_WORKER,
    _MIN_PARALLEL_BATCH,
    SentinelPool,
    _signature_is_good,
)

# Every test here starts or shares a pool of worker processes: the fast loop
# (pytest -m "not slow") leaves them to the full run.
pytestmark = pytest.mark.slow


def _world(wallets: int) -> tuple[dcep.Ledger, list[dcep.Wallet]]:
    ledger = dcep.Ledger.with_journal(block_size=64)
    pboc = dcep.CentralBank(ledger, seed=21)
    bank = pboc.authorise_bank("B", code="MA.156.1100.01", reserves=cny("100000"))
    pboc.issue(bank, cny("100000"))
    holders = [bank.open_wallet(category=4, phone=f"{i}", seed=i) for i in range(wallets)]
    for holder in holders:
        bank.fund(holder, cny("20"))
    return ledger, holders


def _batch(holders: list[dcep.Wallet], size: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    batch = []
    for _ in range(size):
        payer, payee = rng.sample(holders, 2)
        envelope = payer.sign_payment(payee, dcep.Amount(rng.randint(1, 900))).to_bytes()
        roll = rng.random()
        if roll < 0.05:  # a forged signature
            envelope = envelope[:40] + bytes([envelope[40] ^ 1]) + envelope[41:]
        elif roll < 0.08:  # garbage that does not decode
            envelope = envelope[: rng.randint(0, len(envelope) - 1)]
        batch.append(envelope)
    return batch


def _twins(wallets: int, size: int, seed: int) -> tuple[dcep.Ledger, dcep.Ledger, list[bytes]]:
    """Two identical worlds and one batch that is valid in both (same keys, same bytes)."""
    alone, alone_wallets = _world(wallets)
    other, other_wallets = _world(wallets)
    batch = _batch(alone_wallets, size, seed)
    assert batch == _batch(other_wallets, size, seed)
    return alone, other, batch


def _assert_same_journal(alone: dcep.Ledger, other: dcep.Ledger) -> None:
    assert alone.journal is not None
    assert other.journal is not None
    assert other.journal.head_hash == alone.journal.head_hash
    other.check_invariants()


def _outcome(results: list[dcep.Receipt | dcep.core.Rejection]) -> list[object]:
    return [r if isinstance(r, dcep.Receipt) else (r.reason, str(r.error)) for r in results]


@pytest.mark.parametrize("workers", [1, 2])
def test_the_journal_is_the_same_with_and_without_workers(workers: int) -> None:
    alone, pooled, batch = _twins(12, 400, seed=workers)
    expected = alone.submit_many(batch)
    with dcep.core.SentinelPool(pooled.network_id, workers) as pool:
        got = pooled.submit_many(batch, sentinels=pool)
    assert _outcome(got) == _outcome(expected)
    assert any(isinstance(r, dcep.core.Rejection) for r in got)
    _assert_same_journal(alone, pooled)


def test_a_pool_for_another_network_is_refused() -> None:
    ledger, _ = _world(2)
    with dcep.core.SentinelPool(b"elsewhere", 1) as pool, pytest.raises(dcep.InvalidFieldError):
        ledger.submit_many([], sentinels=pool)


def test_a_replica_with_sentinels_verifies_and_faults_exactly_as_alone() -> None:
    ledger, holders = _world(10)
    ledger.submit_many(_batch(holders, 300, seed=7))
    assert ledger.journal is not None
    store = ledger.journal.store
    assert isinstance(store, dcep.journal.MemoryStore)
    with dcep.core.SentinelPool(ledger.network_id, 2) as pool:
        alone = dcep.Replica(store).catch_up()
        pooled = dcep.Replica(store).catch_up(sentinels=pool)
        assert pooled == alone
        # Forge one entry's signature (and its chain, so only the signature is wrong).
        entries = list(store.read_entries())
        number, body, _ = entries[40]
        forged_body = body[:60] + bytes([body[60] ^ 1]) + body[61:]
        forged = dcep.journal.MemoryStore()
        previous = entries[39][2]
        rewritten = []
        for n, b, _ in entries[40:]:
            b = forged_body if n == number else b
            entry = dcep.journal.JournalEntry.decode(b, previous)
            rewritten.append(entry)
            previous = entry.hash
        forged.write(
            entries[:40] + [(entry.number, entry.body, entry.hash) for entry in rewritten], []
        )
        errors = []
        for sentinels in (None, pool):
            with pytest.raises(dcep.JournalError) as caught:
                dcep.Replica(forged).catch_up(sentinels=sentinels)
            errors.append((caught.value.reason, caught.value.entry, str(caught.value)))
        assert errors[0] == errors[1]
        assert errors[0][1] == number


# Streaming verdicts: workers check later chunks while the caller works on earlier ones.


@pytest.fixture(scope="module")
def stream_world() -> tuple[bytes, list[bytes]]:
    """Envelopes to stream (good, forged and truncated), signed once per module."""
    ledger, holders = _world(8)
    envelopes = _batch(holders, 300, seed=99)
    good = envelopes[0]
    envelopes += [good[:40] + bytes([good[40] ^ 1]) + good[41:], good[:10], b""]
    return ledger.network_id, envelopes


@pytest.fixture(scope="module", params=[1, 2])
def stream_pool(
    stream_world: tuple[bytes, list[bytes]], request: pytest.FixtureRequest
) -> Iterator[SentinelPool]:
    """One pool per worker count for the module: worker pools are slow to start."""
    with SentinelPool(stream_world[0], request.param) as pool:
        yield pool


def _in_process(network_id: bytes, envelopes: Iterable[bytes]) -> list[bool]:
    return [_signature_is_good(envelope, network_id) for envelope in envelopes]


@pytest.mark.parametrize(
    "length",
    [
        0,
        1,
        _MIN_PARALLEL_BATCH - 1,
        _MIN_PARALLEL_BATCH,
        300,
        _CHUNK,
        2 * _CHUNK,
        2 * _CHUNK + 1,
        # Half a second a pool; 2 * _CHUNK + 1 already crosses chunks in the fast loop.
        pytest.param(7 * _CHUNK + 3, marks=pytest.mark.slow),
    ],
)
def test_streamed_verdicts_are_the_in_process_ones(
    stream_world: tuple[bytes, list[bytes]], stream_pool: SentinelPool, length: int
) -> None:
    network_id, base = stream_world
    envelopes = list(itertools.islice(itertools.cycle(base), length))
    expected = _in_process(network_id, envelopes)
    assert list(stream_pool.verdicts(iter(envelopes))) == expected
    assert stream_pool.check(envelopes) == expected
    if length >= len(base):
        assert True in expected
        assert False in expected


@settings(max_examples=15, deadline=None)
@given(picks=st.lists(st.integers(min_value=0), max_size=3 * _CHUNK))
def test_streamed_verdicts_match_wherever_the_bad_ones_fall(
    stream_world: tuple[bytes, list[bytes]], stream_pool: SentinelPool, picks: list[int]
) -> None:
    network_id, base = stream_world
    envelopes = [base[pick % len(base)] for pick in picks]
    assert list(stream_pool.verdicts(iter(envelopes))) == _in_process(network_id, envelopes)


class _UnreadableError(Exception):
    """What a failing input raises in the paired tests."""


@settings(max_examples=12, deadline=None)
@given(
    length=st.integers(min_value=0, max_value=3 * _CHUNK),
    fail_at=st.none() | st.integers(min_value=0, max_value=3 * _CHUNK),
)
def test_paired_chunks_keep_every_item_in_order_and_an_input_error_last(
    stream_world: tuple[bytes, list[bytes]],
    stream_pool: SentinelPool,
    length: int,
    fail_at: int | None,
) -> None:
    network_id, base = stream_world
    items = [(index, base[index % len(base)]) for index in range(length)]
    failing = fail_at is not None and fail_at < length

    def source() -> Iterator[tuple[int, bytes]]:
        for index, item in enumerate(items):
            if index == fail_at:
                raise _UnreadableError
            yield item

    got: list[tuple[int, bytes]] = []
    envelopes: list[bytes] = []
    verdicts: list[bool] = []
    stream = stream_pool.paired_chunks(source(), lambda chunk: [e for _, e in chunk])
    with pytest.raises(_UnreadableError) if failing else contextlib.nullcontext():
        for chunk, chunk_envelopes, chunk_verdicts in stream:
            assert len(chunk) == len(chunk_envelopes) == len(chunk_verdicts) > 0
            got += chunk
            envelopes += chunk_envelopes
            verdicts += chunk_verdicts
    # Every item read before the error, in order, each with its own verdict.
    read = items[:fail_at] if failing else items
    assert got == read
    assert envelopes == [envelope for _, envelope in read]
    assert verdicts == _in_process(network_id, envelopes)
    paired: list[tuple[tuple[int, bytes], bool]] = []
    with pytest.raises(_UnreadableError) if failing else contextlib.nullcontext():
        paired.extend(stream_pool.paired(source(), lambda item: item[1]))
    assert paired == list(zip(read, verdicts, strict=True))


def test_the_stream_reads_only_as_far_ahead_as_it_has_in_flight(
    stream_world: tuple[bytes, list[bytes]], stream_pool: SentinelPool
) -> None:
    network_id, base = stream_world
    bound = stream_pool.workers * _IN_FLIGHT_PER_WORKER * _CHUNK
    total = bound + 4 * _CHUNK
    pulled = 0

    def source() -> Iterator[bytes]:
        nonlocal pulled
        for envelope in itertools.islice(itertools.cycle(base), total):
            pulled += 1
            yield envelope

    verdicts = stream_pool.verdicts(source())
    assert pulled == 0  # nothing is read before the first verdict is asked for
    first = next(verdicts)
    assert first == _signature_is_good(base[0], network_id)
    assert 0 < pulled <= bound
    # Taking a chunk's worth more reads at most one more chunk.
    taken = list(itertools.islice(verdicts, _CHUNK))
    assert pulled <= bound + _CHUNK
    rest = list(verdicts)
    assert pulled == total
    expected = itertools.cycle(_in_process(network_id, base))
    assert [first, *taken, *rest] == list(itertools.islice(expected, total))


def test_a_stream_closed_early_leaves_the_pool_usable(
    stream_world: tuple[bytes, list[bytes]], stream_pool: SentinelPool
) -> None:
    network_id, base = stream_world
    envelopes = base * 12
    verdicts = stream_pool.verdicts(envelopes)
    assert list(itertools.islice(verdicts, 5)) == _in_process(network_id, envelopes[:5])
    verdicts.close()
    abandoned = stream_pool.verdicts(envelopes)
    next(abandoned)
    del abandoned
    assert list(stream_pool.verdicts(envelopes)) == _in_process(network_id, envelopes)


def test_a_closed_pool_refuses_to_stream(stream_world: tuple[bytes, list[bytes]]) -> None:
    pool = SentinelPool(stream_world[0], 1)
    pool.close()
    with pytest.raises(dcep.InvalidFieldError, match="closed"):
        pool.verdicts([])  # refused at once, not on the first verdict
    with pytest.raises(dcep.InvalidFieldError, match="closed"):
        pool.check([])


def test_a_batch_of_bytes_like_and_junk_items_gets_the_same_results_with_workers() -> None:
    alone, pooled, items = _twins(6, 120, seed=7)

    def mixed(envelopes: list[bytes]) -> list[object]:
        out: list[object] = []
        for index, envelope in enumerate(envelopes):
            form = index % 4
            out.append(
                bytearray(envelope)
                if form == 1
                else memoryview(envelope)
                if form == 2
                else envelope
            )
        out.insert(5, 12345)  # not an envelope at all
        out.insert(70, None)
        return out

    expected = alone.submit_many(mixed(items))  # type: ignore[arg-type]
    with dcep.core.SentinelPool(pooled.network_id, 2) as pool:
        got = pooled.submit_many(mixed(items), sentinels=pool)  # type: ignore[arg-type]
    assert _outcome(got) == _outcome(expected)
    assert isinstance(got[5], dcep.core.Rejection)
    assert sum(isinstance(r, dcep.Receipt) for r in got) > 60
    pooled.check_invariants()


# A dead worker costs time, never an answer or a hang.


def _start_pool(network_id: bytes, workers: int) -> tuple[SentinelPool, list[int]]:
    """A new pool and the pids of its workers (and of no other pool's)."""
    before = {child.pid for child in multiprocessing.active_children()}
    pool = SentinelPool(network_id, workers)
    pids = [c.pid for c in multiprocessing.active_children() if c.pid not in before]
    assert len(pids) == workers
    return pool, [pid for pid in pids if pid is not None]


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


@pytest.mark.slow  # starts a pool of its own and kills a worker
def test_a_worker_killed_while_idle_is_replaced_and_the_verdicts_are_right(
    stream_world: tuple[bytes, list[bytes]],
) -> None:
    network_id, base = stream_world
    envelopes = base * 4
    expected = _in_process(network_id, envelopes)
    pool, pids = _start_pool(network_id, 2)
    with pool:
        _kill(pids[0])
        assert pool.check(envelopes) == expected
        assert pool.restarts == 1
        # The fresh workers carry on, and the killed one is gone for good.
        assert pool.check(envelopes) == expected
        assert pool.restarts == 1
        assert pids[0] not in {child.pid for child in multiprocessing.active_children()}


@pytest.mark.slow  # a pool of its own per case, every worker killed
@pytest.mark.parametrize("taken_before_the_kill", [1, 150, 700])
def test_workers_killed_mid_stream_leave_the_stream_whole(
    stream_world: tuple[bytes, list[bytes]], taken_before_the_kill: int
) -> None:
    network_id, base = stream_world
    envelopes = base * 5
    expected = _in_process(network_id, envelopes)
    pool, pids = _start_pool(network_id, 2)
    with pool:
        verdicts = pool.verdicts(envelopes)
        got = list(itertools.islice(verdicts, taken_before_the_kill))
        for pid in pids:
            _kill(pid)
        got += verdicts
        assert got == expected
        assert pool.restarts == 1


@pytest.mark.slow  # two ledgers of 500 payments, a pool of its own, a worker killed
def test_a_worker_killed_before_a_batch_changes_no_result() -> None:
    # Killed before the batch, not after its first entry: since the workers
    # check signatures only, a worker could finish its chunk before the first
    # entry was applied, and whether it restarted was left to timing.  (The
    # stream test above kills workers with verdicts still to come.)
    alone, pooled, items = _twins(10, 500, seed=11)
    expected = alone.submit_many(items)
    pool, pids = _start_pool(pooled.network_id, 2)
    with pool:
        _kill(pids[1])
        got = pooled.submit_many(items, sentinels=pool)
        assert pool.restarts == 1
    assert _outcome(got) == _outcome(expected)
    _assert_same_journal(alone, pooled)


# submit_stream: the results of submit_many, committed in groups, workers checking ahead.


def _committed_counts(ledger: dcep.Ledger) -> list[int]:
    """The ledger's entry count at each of its commit points from now on."""
    counts: list[int] = []
    ledger.subscribe(lambda _entry: None, lambda: counts.append(ledger.entry_count))
    return counts


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("commit_every", [1, 7, 150, 1000])
def test_a_stream_gives_the_batch_results_each_group_committed_before_it_is_seen(
    workers: int, commit_every: int
) -> None:
    alone, streamed, items = _twins(10, 400, seed=commit_every)
    expected = alone.submit_many(items)
    commits = _committed_counts(streamed)
    got: list[dcep.Receipt | dcep.core.Rejection] = []
    pool = dcep.core.SentinelPool(streamed.network_id, workers) if workers else None
    try:
        for result in streamed.submit_stream(
            iter(items), sentinels=pool, commit_every=commit_every
        ):
            if isinstance(result, dcep.Receipt):
                assert commits, "a receipt arrived before any commit point"
                assert result.entry_number < commits[-1]
            got.append(result)
    finally:
        if pool is not None:
            pool.close()
    assert _outcome(got) == _outcome(expected)
    assert len(commits) == -(-len(items) // commit_every)
    _assert_same_journal(alone, streamed)


def test_a_stream_is_lazy_and_stopping_it_commits_what_was_applied() -> None:
    ledger, holders = _world(8)
    items = _batch(holders, 2500, seed=5)
    before = ledger.entry_count
    pulled = 0

    def source() -> Iterator[bytes]:
        nonlocal pulled
        for item in items:
            pulled += 1
            yield item

    with dcep.core.SentinelPool(ledger.network_id, 2) as pool:
        stream = ledger.submit_stream(source(), sentinels=pool, commit_every=50)
        assert pulled == 0
        assert ledger.entry_count == before
        first = list(itertools.islice(stream, 60))
        assert pulled < len(items)
        stream.close()
    applied = ledger.entry_count - before
    assert applied >= sum(isinstance(r, dcep.Receipt) for r in first)
    assert ledger.journal is not None
    store = ledger.journal.store
    assert isinstance(store, dcep.journal.MemoryStore)
    # Everything applied reached the store: nothing sits uncommitted.
    assert len(list(store.read_entries())) == ledger.entry_count


@pytest.mark.parametrize("commit_every", [0, -1, True, 1.5, "10"])
def test_a_stream_refuses_a_bad_group_size_before_reading_anything(commit_every: object) -> None:
    ledger, _ = _world(2)
    with pytest.raises(dcep.InvalidFieldError) as caught:
        ledger.submit_stream([], commit_every=commit_every)  # type: ignore[arg-type]
    assert caught.value.reason is dcep.Reason.FIELD_INVALID
    assert caught.value.field == "commit_every"


def test_a_stream_refuses_a_pool_for_another_network_at_once() -> None:
    ledger, _ = _world(2)
    with dcep.core.SentinelPool(b"elsewhere", 1) as pool, pytest.raises(dcep.InvalidFieldError):
        ledger.submit_stream([], sentinels=pool)


def _failing_at(items: list[bytes], position: int) -> Iterator[bytes]:
    """``items``, until reading the one at ``position`` fails."""
    for index, item in enumerate(items):
        if index == position:
            raise OSError("the connection dropped")
        yield item


@pytest.mark.slow  # 2000 payments signed and streamed three times per case
@pytest.mark.parametrize("commit_every", [1000, 333])
def test_a_stream_whose_input_fails_applies_and_reports_all_before_it_alike(
    commit_every: int,
) -> None:
    outcomes = []
    for workers in (0, 1, 2):
        ledger, holders = _world(10)
        source = _failing_at(_batch(holders, 2000, seed=5), 1500)
        pool = dcep.core.SentinelPool(ledger.network_id, workers) if workers else None
        seen: list[dcep.Receipt | dcep.core.Rejection] = []
        stream = ledger.submit_stream(source, sentinels=pool, commit_every=commit_every)
        try:
            with pytest.raises(OSError, match="dropped"):
                seen.extend(stream)
        finally:
            if pool is not None:
                pool.close()
        assert ledger.journal is not None
        outcomes.append((_outcome(seen), ledger.entry_count, ledger.journal.head_hash))
    assert len(outcomes[0][0]) == 1500  # every instruction read was applied and reported
    assert outcomes[1] == outcomes[0]
    assert outcomes[2] == outcomes[0]


def test_a_closed_pool_is_refused_before_anything_is_read() -> None:
    ledger, _ = _world(2)
    pool = dcep.core.SentinelPool(ledger.network_id, 1)
    pool.close()
    assert pool.closed
    with pytest.raises(dcep.InvalidFieldError, match="closed"):
        ledger.submit_stream([], sentinels=pool)
    with pytest.raises(dcep.InvalidFieldError, match="closed"):
        ledger.submit_many([], sentinels=pool)


@pytest.mark.parametrize("workers", [0, 2])
def test_a_stream_whose_commit_fails_reports_only_what_was_committed(workers: int) -> None:
    ledger, holders = _world(10)
    items = _batch(holders, 1000, seed=6)
    calls: list[int] = []

    def fail_second_commit() -> None:
        calls.append(ledger.entry_count)
        if len(calls) == 2:
            raise OSError("the replication link is down")

    ledger.subscribe(lambda _entry: None, fail_second_commit)
    pool = dcep.core.SentinelPool(ledger.network_id, workers) if workers else None
    seen: list[dcep.Receipt | dcep.core.Rejection] = []
    stream = ledger.submit_stream(iter(items), sentinels=pool, commit_every=333)
    try:
        with pytest.raises(OSError, match="replication"):
            seen.extend(stream)
    finally:
        if pool is not None:
            pool.close()
    assert len(seen) == 333  # the first group only: the second's commit failed
    assert len(calls) == 2  # and a failed commit is not retried behind the caller's back


@pytest.mark.parametrize("workers", [0, 2])
def test_stopping_a_stream_leaves_the_callers_source_open(workers: int) -> None:
    ledger, holders = _world(8)
    source = iter(_batch(holders, 1500, seed=9))
    pool = dcep.core.SentinelPool(ledger.network_id, workers) if workers else None
    try:
        stream = ledger.submit_stream(source, sentinels=pool, commit_every=100)
        assert len(list(itertools.islice(stream, 100))) == 100
        stream.close()
    finally:
        if pool is not None:
            pool.close()
    assert next(source, None) is not None  # still readable: the stream did not close it
