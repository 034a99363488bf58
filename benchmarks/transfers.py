"""``transfers``: end-to-end signed wallet-to-wallet payments through ``submit_many``.

Three ledgers start from the same funded wallets: plain in memory,
journalled to a :class:`dcep.journal.MemoryStore`, and journalled to SQLite
(``Ledger.open``, default ``SYNC`` durability: one transaction per batch).
A fourth, in memory, is fed the same transfers as wire bytes, so that
decoding is timed too.  Each round pre-signs ``M`` new transfers (not timed)
and submits them to every ledger in batches, taking turns; the verify
ceiling is re-measured on each round's own envelopes, in the same turn.
Two variants: payers drawn uniformly, and a hot spot where 20% of the
wallets make 80% of the payments.  Last, uniform transfers go to the
in-memory and SQLite ledgers with their signatures checked by a
``SentinelPool`` of all cores, in batches through ``submit_many`` and as one
stream through ``submit_stream`` (committing every batch), fed wire bytes
and, to the in-memory ledger, decoded envelopes too, against that pool's own
rate on the same envelopes (the all-core ceiling).  Before each ledger's turn the
harness runs a full collection and freezes what is left, untimed, so that no
ledger's figure includes the collector walking the other ledgers' objects.
Every batch (and every stream group) is timed on its own too, and, after
all the throughput rounds, single ``submit`` calls: p50, p99 and the maximum
per ledger, with what the slowest call held (``benchmarks/_latency.py``).
"""

from __future__ import annotations

import cProfile
import gc
import io
import os
import pstats
import random
import statistics
import time
from collections.abc import Sequence
from typing import Final

import dcep
import dcep.core
import dcep.instructions
import dcep.journal
from benchmarks._ceiling import verify_messages
from benchmarks._common import (
    Context,
    CpuReading,
    Figure,
    Result,
    Timing,
    cpu_note,
    cpu_split,
    rate_figure,
)
from benchmarks._fixtures import (
    Population,
    batches,
    count_refused,
    funded_ledger,
    signed_message,
)
from benchmarks._latency import Call, GcClock, Latency, Watch

NAME = "transfers"
LABELS: Final = {
    "memory": "Ledger() in memory",
    "journal": "Ledger.with_journal() MemoryStore",
    "sqlite": "Ledger.open(db) SQLite SYNC",
    "memory_bytes": "Ledger() in memory, from bytes",
}
CEILING: Final = "1-process verify ceiling"
UNIT: Final = "transfers/s"

Batch = Sequence[dcep.instructions.SignedInstruction | bytes]


def settle_collector() -> None:
    """Untimed, before a turn: collect, then freeze whatever is left.

    The turn's own collections then walk only the objects made during the
    turn, not what the other ledgers and the harness in this process hold
    (each ledger would have a process of its own in a deployment, with its
    loaded state frozen as docs/ledger.md advises).  ``run`` unfreezes at the
    end.
    """
    gc.collect()
    gc.freeze()


def timed_submit(ledger: dcep.Ledger, work: list[Batch]) -> tuple[list[Call], int, GcClock]:
    """Submit ``work`` batch by batch: each batch's call, refusals, GC time.

    Each batch's results are counted and dropped, outside the timing, as a
    server hands receipts back and forgets them (keeping them all would only
    time the collector walking the harness's own objects).  What the
    collector and the journal did in each batch is read outside the timing
    too, so the round's time is the sum of the batches' times.
    """
    perf = time.perf_counter
    calls: list[Call] = []
    refused = 0
    settle_collector()
    collector = GcClock()
    watch = Watch(ledger.journal, collector)
    gc.callbacks.append(collector)
    try:
        for batch in work:
            watch.mark()
            begun = perf()
            outcome = ledger.submit_many(batch)
            calls.append(watch.call(perf() - begun))
            refused += count_refused(outcome)
    finally:
        gc.callbacks.remove(collector)
    return calls, refused, collector


def report_latency(result: Result, latency: Latency) -> None:
    """Print ``latency``'s line and keep its figures under ``details["latency"]``, by label."""
    print(latency.line(), flush=True)
    table = result.details.get("latency")
    if not isinstance(table, dict):
        table = result.details["latency"] = {}
    table[latency.label] = latency.to_dict()


def run(context: Context) -> Result:
    """Time ``submit_many`` on each kind of ledger against the verify ceiling."""
    sizes = context.sizes
    count = sizes.transfers_per_round
    result = Result(
        NAME,
        {
            "wallets": sizes.transfer_wallets,
            "transfers_per_round": count,
            "rounds": context.repeats,
            "batch": sizes.batch,
            "ceiling_sample": min(count, sizes.ceiling_sample),
            "wallet_category": 1,
            "amounts_fen": [1, 100],
        },
    )
    context.say(f"keys for {sizes.transfer_wallets:,} wallets, signing their setup")
    population = Population(sizes.transfer_wallets, seed=5)
    setup = list(population.setup_envelopes())
    ledgers: dict[str, dcep.Ledger] = {}
    setup_seconds: dict[str, float] = {}
    for kind in LABELS:
        context.say(f"setting up {LABELS[kind]}")
        started = time.perf_counter()
        ledgers[kind] = funded_ledger(
            kind.removesuffix("_bytes"), population, setup, context.scratch / "transfers.db"
        )
        setup_seconds[kind] = time.perf_counter() - started
    result.details["setup_seconds"] = setup_seconds
    result.details["setup_entries"] = len(setup)
    del setup
    # What a long-running ledger process does once its state is loaded (see
    # docs/ledger.md): the collector stops walking the loaded state every time.
    gc.collect()
    gc.freeze()
    result.note(
        "gc.freeze() after setup, as docs/ledger.md advises for a loaded ledger, "
        "and gc.collect(); gc.freeze() before each ledger's turn"
    )
    rng = random.Random(3)
    try:
        for variant in ("uniform", "hot-spot"):
            _measure_variant(context, result, population, ledgers, rng, variant)
        _measure_workers(context, result, population, ledgers, rng)
        _measure_submit(context, result, population, ledgers, rng)
        if context.profile:
            _profile(context, result, population, ledgers, rng)
    finally:
        for ledger in ledgers.values():
            ledger.close()
        gc.unfreeze()
    return result


def _measure_workers(
    context: Context,
    result: Result,
    population: Population,
    ledgers: dict[str, dcep.Ledger],
    rng: random.Random,
) -> None:
    """Uniform transfers with signatures checked by a SentinelPool of all cores.

    The baseline is that pool's own rate on the same envelopes: the all-core
    ceiling a sequencer fed by it could reach.
    """
    sizes = context.sizes
    count = sizes.transfers_per_round
    modes = ("submit_many", "submit_stream")
    # (ledger, mode, fed as): every ledger is fed wire bytes, which the
    # sequencer decodes; the in-memory one is also fed decoded envelopes, as
    # the one-process headline figure is, so the two compare like for like.
    runs = [
        *((kind, mode, "bytes") for kind in ("memory", "sqlite") for mode in modes),
        *(("memory", mode, "objects") for mode in modes),
    ]
    seconds: dict[tuple[str, str, str], list[float]] = {run: [] for run in runs}
    # CPU time of this process (the sequencer and the pool's helper threads)
    # and of the workers, to show whether the cores were busy and on what.
    cpu: dict[tuple[str, str, str], list[CpuReading]] = {run: [] for run in runs}
    # Each submit_many batch, or each stream group up to its results, for the latency report.
    calls: dict[tuple[str, str, str], list[Call]] = {run: [] for run in runs}
    gc_longest: dict[tuple[str, str, str], float] = dict.fromkeys(runs, 0.0)
    ceiling: list[float] = []
    network_id = ledgers["memory"].network_id
    context.say("starting a sentinel pool of all cores")
    with dcep.core.SentinelPool(network_id) as pool:
        pool.check([e.to_bytes() for e in population.transfers(200, rng, hot_spot=False)])
        for round_number in range(context.repeats):
            context.say(f"workers: round {round_number + 1}, signing {4 * count:,} transfers")
            # One set per mode and feed, signed in the order the runs use them
            # (bytes first), so that each ledger applies every payer's
            # sequence numbers in order.
            wire = {
                mode: [e.to_bytes() for e in population.transfers(count, rng, hot_spot=False)]
                for mode in modes
            }
            decoded = {
                mode: list(population.transfers(count, rng, hot_spot=False)) for mode in modes
            }
            inputs: dict[tuple[str, str], Batch] = {
                **{(mode, "bytes"): envelopes for mode, envelopes in wire.items()},
                **{(mode, "objects"): envelopes for mode, envelopes in decoded.items()},
            }
            started = time.perf_counter()
            pool.check(wire["submit_many"])
            ceiling.append(time.perf_counter() - started)
            for kind, mode, feed in runs:
                ledger = ledgers[kind]
                envelopes = inputs[mode, feed]
                settle_collector()
                collector = GcClock()
                watch = Watch(ledger.journal, collector)
                gc.callbacks.append(collector)
                cpu_started = CpuReading.now()
                started = time.perf_counter()
                try:
                    if mode == "submit_many":
                        refused = _many_with_pool(
                            ledger,
                            batches(envelopes, sizes.batch),
                            pool,
                            watch,
                            calls[kind, mode, feed],
                        )
                    else:
                        refused = _stream_with_pool(
                            ledger, envelopes, sizes.batch, pool, watch, calls[kind, mode, feed]
                        )
                    seconds[kind, mode, feed].append(time.perf_counter() - started)
                    cpu[kind, mode, feed].append(CpuReading.now().since(cpu_started))
                finally:
                    gc.callbacks.remove(collector)
                gc_longest[kind, mode, feed] = max(gc_longest[kind, mode, feed], collector.longest)
                if refused:
                    raise AssertionError(f"{LABELS[kind]} refused a transfer")
        workers = pool.workers
        if pool.restarts:
            result.note(f"the sentinel pool restarted {pool.restarts} times: a worker died")
    cores = os.cpu_count() or workers
    cpu_used: dict[str, dict[str, float | None]] = {}
    for kind, mode, feed in runs:
        label = LABELS[kind] + (", from bytes" if feed == "bytes" else "")
        timing = Timing(tuple(seconds[kind, mode, feed]))
        used = cpu_split(cpu[kind, mode, feed], timing, count, cores)
        cpu_used["/".join((kind, mode, feed))] = used
        result.add(
            rate_figure(
                f"workers ({workers}), {mode}: {label}",
                UNIT,
                timing,
                count,
                f"sentinel pool of {workers}, signatures only",
                "signatures/s",
                Timing(tuple(ceiling)),
                count,
                note=cpu_note(used, "a transfer"),
            )
        )
    result.details["workers_cpu_median"] = cpu_used
    for kind, mode, feed in runs:
        label = LABELS[kind] + (", from bytes" if feed == "bytes" else "")
        report_latency(
            result,
            Latency(
                f"workers, {mode}: latency, {label}",
                f"batches of {sizes.batch:,}"
                if mode == "submit_many"
                else f"groups of {sizes.batch:,}, each until its results",
                tuple(calls[kind, mode, feed]),
                gc_longest[kind, mode, feed],
            ),
        )


def _many_with_pool(
    ledger: dcep.Ledger,
    work: list[Batch],
    pool: dcep.core.SentinelPool,
    watch: Watch,
    calls: list[Call],
) -> int:
    """``submit_many`` each batch with the pool, timing each; return the refusals."""
    perf = time.perf_counter
    refused = 0
    for batch in work:
        watch.mark()
        begun = perf()
        outcome = ledger.submit_many(batch, sentinels=pool)
        calls.append(watch.call(perf() - begun))
        refused += count_refused(outcome)
    return refused


def _stream_with_pool(
    ledger: dcep.Ledger,
    envelopes: Batch,
    group: int,
    pool: dcep.core.SentinelPool,
    watch: Watch,
    calls: list[Call],
) -> int:
    """``submit_stream`` with the pool; time from one group's results to the next's.

    A group's results are yielded together after its commit point, so the
    time from the first result of one group to the first of the next is
    how long that group kept its payers waiting once the stream was
    flowing (the first group's time runs from the call).  Every result is
    accepted in this benchmark, so groups are exactly ``group`` results
    apart.  The clock is read once a group, in the loop the throughput
    figure times anyway.
    """
    perf = time.perf_counter
    refused = 0
    watch.mark()
    begun = perf()
    for index, outcome in enumerate(
        ledger.submit_stream(envelopes, sentinels=pool, commit_every=group)
    ):
        if index % group == 0:
            now = perf()
            calls.append(watch.call(now - begun))
            watch.mark()
            begun = now
        if isinstance(outcome, dcep.core.Rejection):
            refused += 1
    return refused


def _measure_submit(
    context: Context,
    result: Result,
    population: Population,
    ledgers: dict[str, dcep.Ledger],
    rng: random.Random,
) -> None:
    """Single ``submit`` calls, one transfer each, on every ledger: their latency only.

    Run after the throughput rounds, on envelopes of their own, so that no
    rate or ratio includes them.  With SQLite ``SYNC`` each call is a
    transaction of its own, so its latency is mostly the disk's.
    """
    count = context.sizes.submit_sample
    context.say(f"single submits: signing {count:,} transfers")
    envelopes = list(population.transfers(count, rng, hot_spot=False))
    wire = [envelope.to_bytes() for envelope in envelopes]
    perf = time.perf_counter
    for kind, ledger in ledgers.items():
        context.say(f"single submits: {LABELS[kind]}")
        settle_collector()
        collector = GcClock()
        watch = Watch(ledger.journal, collector)
        calls: list[Call] = []
        submit = ledger.submit
        gc.callbacks.append(collector)
        try:
            # A refusal raises: every transfer here is valid, so it would be a bug.
            for envelope in wire if kind == "memory_bytes" else envelopes:
                watch.mark()
                begun = perf()
                submit(envelope)
                calls.append(watch.call(perf() - begun))
        finally:
            gc.callbacks.remove(collector)
        report_latency(
            result,
            Latency(f"submit latency, {LABELS[kind]}", "submits", tuple(calls), collector.longest),
        )


def _measure_variant(
    context: Context,
    result: Result,
    population: Population,
    ledgers: dict[str, dcep.Ledger],
    rng: random.Random,
    variant: str,
) -> None:
    sizes = context.sizes
    count = sizes.transfers_per_round
    kinds = [kind for kind in LABELS if variant == "uniform" or kind != "memory_bytes"]
    seconds: dict[str, list[float]] = {kind: [] for kind in [*kinds, "ceiling"]}
    worst_batch: dict[str, list[float]] = {kind: [] for kind in kinds}
    median_batch: dict[str, list[float]] = {kind: [] for kind in kinds}
    gc_seconds: dict[str, list[float]] = {kind: [] for kind in kinds}
    gc_longest: dict[str, list[float]] = {kind: [] for kind in kinds}
    # Every batch of every round, in order, for the latency report.
    calls: dict[str, list[Call]] = {kind: [] for kind in kinds}
    ceiling_count = min(count, sizes.ceiling_sample)
    for round_number in range(context.repeats):
        context.say(f"{variant}: round {round_number + 1}, signing {count:,} transfers")
        envelopes = list(population.transfers(count, rng, hot_spot=variant == "hot-spot"))
        work: list[Batch] = batches(envelopes, sizes.batch)
        wire: list[Batch] = batches([e.to_bytes() for e in envelopes], sizes.batch)
        messages = [signed_message(envelope) for envelope in envelopes[:ceiling_count]]
        # Take turns, starting with a different ledger each round.
        order = ["ceiling", *kinds]
        shift = round_number % len(order)
        for kind in order[shift:] + order[:shift]:
            if kind == "ceiling":
                started = time.perf_counter()
                verify_messages(messages)
                seconds[kind].append(time.perf_counter() - started)
                continue
            turn, refused, collector = timed_submit(
                ledgers[kind], wire if kind == "memory_bytes" else work
            )
            calls[kind].extend(turn)
            latencies = [call.seconds for call in turn]
            total = sum(latencies)
            gc_seconds[kind].append(collector.total)
            gc_longest[kind].append(collector.longest)
            if refused:
                raise AssertionError(f"{LABELS[kind]} refused {refused} of {count} transfers")
            seconds[kind].append(total)
            worst_batch[kind].append(max(latencies))
            median_batch[kind].append(statistics.median(latencies))
    timings = {kind: Timing(tuple(values)) for kind, values in seconds.items()}
    ceiling = timings["ceiling"]
    ceiling_unit = "signatures/s"
    for kind in kinds:
        result.add(
            rate_figure(
                f"{variant}: {LABELS[kind]}",
                UNIT,
                timings[kind],
                count,
                CEILING,
                ceiling_unit,
                ceiling,
                ceiling_count,
            )
        )
    result.add(
        rate_figure(
            f"{variant}: with_journal / in-memory",
            UNIT,
            timings["journal"],
            count,
            LABELS["memory"],
            UNIT,
            timings["memory"],
            count,
        )
    )
    result.add(
        rate_figure(
            f"{variant}: SQLite / in-memory journal",
            UNIT,
            timings["sqlite"],
            count,
            LABELS["journal"],
            UNIT,
            timings["journal"],
            count,
        )
    )
    for kind in ("journal", "sqlite"):
        result.add(
            Figure(
                label=f"{variant}: worst batch, {kind}",
                unit="ms",
                samples=tuple(s * 1000 for s in worst_batch[kind]),
                baseline_label="its median batch",
                baseline_unit="ms",
                baseline_samples=tuple(s * 1000 for s in median_batch[kind]),
                higher_is_better=False,
                note=f"batches of {sizes.batch:,}; worst of all rounds "
                f"{max(worst_batch[kind]) * 1000:,.0f} ms",
            )
        )
    for kind in ("memory", "journal", "sqlite"):
        result.add(
            Figure(
                label=f"{variant}: in the garbage collector, {kind}",
                unit="s",
                samples=tuple(gc_seconds[kind]),
                baseline_label="the round",
                baseline_unit="s",
                baseline_samples=tuple(seconds[kind]),
                higher_is_better=False,
                note=f"longest pause {max(gc_longest[kind]) * 1000:,.0f} ms",
            )
        )
    for kind in kinds:
        report_latency(
            result,
            Latency(
                f"{variant}: latency, {LABELS[kind]}",
                f"batches of {sizes.batch:,}",
                tuple(calls[kind]),
                max(gc_longest[kind]),
            ),
        )
    result.details[variant] = {
        "gc_seconds": gc_seconds,
        "gc_longest_pause_seconds": gc_longest,
        "seconds": {kind: list(t.seconds) for kind, t in timings.items()},
        "worst_batch_seconds": worst_batch,
        "median_batch_seconds": median_batch,
        "entries_after": {kind: ledgers[kind].entry_count for kind in kinds},
    }


PROFILE_ROWS: Final = 10
PROFILE_FILE_ROWS: Final = 40


def _profile(
    context: Context,
    result: Result,
    population: Population,
    ledgers: dict[str, dcep.Ledger],
    rng: random.Random,
) -> None:
    """cProfile one more round on the in-memory and the journalled ledger (same envelopes)."""
    count = context.sizes.transfers_per_round
    work = batches(list(population.transfers(count, rng)), context.sizes.batch)
    context.results.mkdir(parents=True, exist_ok=True)
    path = context.results / f"{NAME}.profile.txt"
    sections = []
    for kind in ("memory", "journal"):
        context.say(f"profiling {count:,} transfers on {LABELS[kind]}")
        profiler = cProfile.Profile()
        profiler.enable()
        for batch in work:
            ledger_results = ledgers[kind].submit_many(batch)
            if count_refused(ledger_results):
                raise AssertionError(f"{LABELS[kind]} refused a profiled transfer")
        profiler.disable()
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats(pstats.SortKey.TIME).print_stats(PROFILE_FILE_ROWS)
        report = text.getvalue()
        sections.append(f"== {LABELS[kind]}: {count:,} transfers\n{report}")
        rows = report[report.find("   ncalls") :].rstrip().splitlines()
        header, body = rows[0], rows[1 : 1 + PROFILE_ROWS]
        total = report[: report.find("   ncalls")].strip().splitlines()[0].strip()
        print(f"  profile, {LABELS[kind]}: {total}; top {PROFILE_ROWS} by own time:")
        print("\n".join("    " + line for line in [header, *body]))
        result.details[f"profile_{kind}"] = [total, header, *body]
    path.write_text("\n".join(sections), encoding="utf-8")
    print(f"  (profiles, top {PROFILE_FILE_ROWS}: {path})")
