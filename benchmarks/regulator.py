"""``regulator``: the regulator's view on a long journal: building it, tracing, memory.

One journal of ``E`` entries (20,000 quick, 1,000,000 full) is built, not
timed: ``Ledger.with_journal(block_size=1024)`` in memory, one bank, ``E /
10`` category-1 wallets opened and funded with ¥10 each through the roles,
then transfers between random wallets, pre-signed with
``Wallet.sign_payment`` and submitted with ``Ledger.submit_many`` in
batches.  Each transfer is 1 fen to 60% of what the payer holds (tracked
as they are signed), so money circulates and FIFO and haircut traces have
something to follow: with small payments out of large balances, traced
money would never leave the first wallet.  The ledger's clock moves one
second per reading, so entries have distinct times.  Then:

* **build**: ``RegulatorView.from_store`` over the whole store.  Baseline,
  interleaved with it: merely reading and decoding the same entries (the
  chain-hashed ``JournalEntry`` and its ``SignedInstruction``, as the view
  must), so the ratio is what indexing costs on top of reading.
* **trace**: median and 95th-percentile latency of ``trace_forward`` and
  ``trace_backward`` from the same sample of transfer entries, at 3 and 6
  hops, under each allocation rule, with the median size of the graphs.
  Baseline: the time to read and decode one entry, from the build baseline;
  the ratio says how many entry reads a trace costs.
* **memory**: ``tracemalloc`` bytes the view holds per journal entry, after
  ``from_store``.  Baseline: the plainest Python holding the same flows, a
  list of ``(entry, time, payer id, payee id, fen)`` tuples with addresses
  numbered by a dict, built from the same store under the same tracing.

Run ``python -m benchmarks.regulator [--quick]``; :func:`main` returns the
headline figures and writes them, with all samples, to
``benchmarks/results/regulator.json``.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import math
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import dcep
import dcep.core
import dcep.instructions
import dcep.journal
import dcep.regulator

NAME: Final = "regulator"
RESULTS: Final = Path(__file__).resolve().parent / "results" / f"{NAME}.json"
FUNDING: Final = dcep.cny("10")
#: The most of its balance a payer sends at once, in percent.
SHARE_PERCENT: Final = 60
ACCOUNT: Final = "6222-0000-0001"
BATCH: Final = 1_000
HOPS: Final = (3, 6)


@dataclass(frozen=True)
class Size:
    """How big one run is."""

    entries: int
    wallets: int
    #: Interleaved repeats of building the view and of its baseline.
    build_repeats: int
    #: Origins traced, the same for every direction, rule and hop limit.
    origins: int


QUICK: Final = Size(entries=20_000, wallets=2_000, build_repeats=3, origins=40)
FULL: Final = Size(entries=1_000_000, wallets=100_000, build_repeats=2, origins=25)


class TickingClock:
    """A clock one second later at each reading: distinct, increasing entry times."""

    def __init__(self) -> None:
        self._now_us = dcep.ManualClock().now_us()

    def now_us(self) -> int:
        """One second after the last reading."""
        self._now_us += 1_000_000
        return self._now_us


def say(message: str) -> None:
    """Progress on stderr, so that stdout holds only results."""
    print(f"  .. {message}", file=sys.stderr, flush=True)


def submit(ledger: dcep.Ledger, batch: list[dcep.instructions.SignedInstruction]) -> None:
    """Submit a batch; any refusal is a bug in the benchmark."""
    refused = [r for r in ledger.submit_many(batch) if isinstance(r, dcep.core.Rejection)]
    if refused:
        raise AssertionError(f"{len(refused)} of a batch refused: {refused[0]}")


def build_journal(size: Size) -> dcep.journal.Store:
    """The journal of ``size.entries`` entries (see the module docstring); its store."""
    ledger = dcep.Ledger.with_journal(clock=TickingClock(), block_size=1024)
    pboc = dcep.CentralBank(ledger, seed=2026)
    needed = dcep.Amount(FUNDING.fen * size.wallets)
    bank = pboc.authorise_bank("Benchmark Bank", code="MA.156.1100.01", reserves=needed)
    pboc.issue(bank, needed)
    bank.pay_in(ACCOUNT, dcep.cny("1"))
    wallets: list[dcep.Wallet] = []
    for index in range(size.wallets):
        wallet = bank.open_wallet(
            category=1,
            phone=f"138{index:08d}",
            id_number=f"1101{index:014d}",
            linked_account=ACCOUNT,
            in_person=True,
        )
        bank.fund(wallet, FUNDING, from_account="")
        wallets.append(wallet)
    transfers = size.entries - ledger.entry_count
    if transfers < 0:
        raise ValueError(f"{size.entries} entries cannot hold {size.wallets} funded wallets")
    say(f"{size.wallets:,} wallets funded; signing and submitting {transfers:,} transfers")
    rng = random.Random(7)
    balances_fen = [FUNDING.fen] * size.wallets
    batch: list[dcep.instructions.SignedInstruction] = []
    for _ in range(transfers):
        payer = rng.randrange(size.wallets)
        while not balances_fen[payer]:  # bounded: the wallets hold all the money issued
            payer = rng.randrange(size.wallets)
        payee = (payer + 1 + rng.randrange(size.wallets - 1)) % size.wallets
        fen = rng.randint(1, max(1, balances_fen[payer] * SHARE_PERCENT // 100))
        balances_fen[payer] -= fen
        balances_fen[payee] += fen
        batch.append(wallets[payer].sign_payment(wallets[payee], dcep.Amount(fen)))
        if len(batch) == BATCH:
            submit(ledger, batch)
            batch = []
    if batch:
        submit(ledger, batch)
    if ledger.entry_count != size.entries or ledger.journal is None:
        raise AssertionError(f"built {ledger.entry_count} entries, not {size.entries}")
    return ledger.journal.store


def decoded(
    store: dcep.journal.Store,
) -> Iterator[tuple[dcep.journal.JournalEntry, dcep.instructions.Instruction]]:
    """Every stored entry read and decoded as the view must: hash chain, envelope, body."""
    previous = bytes(32)
    for _, body, stored_hash in store.read_entries():
        entry = dcep.journal.JournalEntry.decode(body, previous)
        signed = dcep.instructions.SignedInstruction.from_bytes(entry.envelope)
        yield entry, signed.instruction
        previous = stored_hash


def read_and_decode(store: dcep.journal.Store) -> int:
    """The build baseline: read and decode every entry, keep nothing; how many."""
    return sum(1 for _ in decoded(store))


def plain_flows(
    store: dcep.journal.Store,
) -> tuple[list[tuple[int, int, int, int, int]], dict[bytes, int]]:
    """The memory baseline: each e-CNY movement as a tuple, addresses numbered by a dict."""
    ids: dict[bytes, int] = {}
    flows: list[tuple[int, int, int, int, int]] = []
    held = (dcep.core.AccountKind.VAULT, dcep.core.AccountKind.WALLET)
    for entry, _ in decoded(store):
        moves = [p for p in entry.postings if p.kind in held]
        if not moves:
            continue
        payer = next((p.owner for p in moves if p.delta_fen < 0), None)
        payee = next((p.owner for p in moves if p.delta_fen > 0), None)
        payer_id = ids.setdefault(bytes(payer), len(ids)) if payer is not None else -1
        payee_id = ids.setdefault(bytes(payee), len(ids)) if payee is not None else -1
        amount = max(abs(p.delta_fen) for p in moves)
        flows.append((entry.number, entry.accepted_at_us, payer_id, payee_id, amount))
    return flows, ids


def timed(action: Callable[[], object]) -> float:
    """Seconds one call of ``action`` takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def traced_bytes(build: Callable[[], object]) -> int:
    """Bytes still allocated after ``build()`` returns, its result kept until measured."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        del kept
    finally:
        tracemalloc.stop()
    return after - before


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile of ``values`` by the nearest-rank method."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * share)) - 1]


def line(label: str, value: str, baseline: str, ratio: float) -> None:
    """One printed result: the value, the ratio to its baseline, and the baseline."""
    print(f"  {label:<44}{value:>16}  {ratio:>8.2f}x of {baseline}", flush=True)


def measure_build(store: dcep.journal.Store, size: Size, figures: dict[str, float]) -> None:
    """Build the view from the store, interleaved with the read-and-decode baseline."""
    view_s: list[float] = []
    base_s: list[float] = []
    for repeat in range(size.build_repeats):
        say(f"build, repeat {repeat + 1} of {size.build_repeats}")
        base_s.append(timed(lambda: read_and_decode(store)))
        view_s.append(timed(lambda: dcep.RegulatorView.from_store(store)))
    figures["view_build_s_best"] = min(view_s)
    figures["view_build_s_median"] = statistics.median(view_s)
    figures["read_decode_s_best"] = min(base_s)
    figures["read_decode_s_median"] = statistics.median(base_s)
    figures["view_build_ratio"] = min(view_s) / min(base_s)
    figures["view_build_entries_per_s"] = size.entries / min(view_s)
    figures["read_decode_us_per_entry"] = min(base_s) / size.entries * 1e6
    line(
        f"RegulatorView.from_store, {size.entries:,} entries",
        f"{min(view_s):.2f} s",
        f"read + decode {min(base_s):.2f} s",
        min(view_s) / min(base_s),
    )


def measure_traces(view: dcep.RegulatorView, size: Size, figures: dict[str, float]) -> None:
    """Trace from the same sampled transfers in each direction, rule and hop limit."""
    transfers = [
        f.entry_number
        for f in view.flows()
        if f.kind is dcep.instructions.InstructionKind.TRANSFER
    ]
    origins = random.Random(11).sample(transfers, size.origins)
    entry_us = figures["read_decode_us_per_entry"]
    tracers = {"forward": dcep.trace_forward, "backward": dcep.trace_backward}
    for direction, trace in tracers.items():
        for rule in dcep.regulator.AllocationRule:
            for hops in HOPS:
                latencies_ms: list[float] = []
                edges: list[int] = []
                for origin in origins:
                    started = time.perf_counter()
                    graph = trace(view, origin, rule=rule, max_hops=hops)
                    latencies_ms.append((time.perf_counter() - started) * 1e3)
                    edges.append(len(graph.edges))
                key = f"trace_{direction}_{rule.value}_{hops}_hops"
                median_ms = statistics.median(latencies_ms)
                figures[f"{key}_median_ms"] = median_ms
                figures[f"{key}_p95_ms"] = percentile(latencies_ms, 0.95)
                figures[f"{key}_median_edges"] = statistics.median(edges)
                figures[f"{key}_ratio"] = median_ms * 1e3 / entry_us
                line(
                    f"{direction} {rule.value}, {hops} hops (median edges "
                    f"{statistics.median(edges):,.0f})",
                    f"{median_ms:,.2f} ms p95 {figures[f'{key}_p95_ms']:,.1f}",
                    f"one entry read + decoded ({entry_us:.1f} us)",
                    median_ms * 1e3 / entry_us,
                )


def measure_memory(store: dcep.journal.Store, size: Size, figures: dict[str, float]) -> None:
    """Bytes per entry of the view, and of the plainest list of the same flows."""
    say("memory: the view, under tracemalloc")
    view_bytes = traced_bytes(lambda: dcep.RegulatorView.from_store(store))
    say("memory: the plain flows, under tracemalloc")
    plain_bytes = traced_bytes(lambda: plain_flows(store))
    figures["memory_bytes_per_entry"] = view_bytes / size.entries
    figures["memory_baseline_bytes_per_entry"] = plain_bytes / size.entries
    figures["memory_ratio"] = view_bytes / plain_bytes
    line(
        "view memory per journal entry",
        f"{view_bytes / size.entries:,.0f} B",
        f"plain tuples {plain_bytes / size.entries:,.0f} B",
        view_bytes / plain_bytes,
    )


def environment() -> dict[str, object]:
    """Where the figures were measured."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "dcep": dcep.__version__,
    }


def main(quick: bool, results_dir: Path | None = None) -> dict[str, float]:
    """Run the benchmark at the quick or full size; return the figures (also written as JSON).

    The JSON goes to ``results_dir`` (``benchmarks/results/`` if not given).
    """
    results = RESULTS if results_dir is None else results_dir / RESULTS.name
    size = QUICK if quick else FULL
    started = time.perf_counter()
    load_at_start = [round(value, 2) for value in os.getloadavg()]
    print(f"== {NAME}{' (quick)' if quick else ''}", flush=True)
    say(f"building a journal of {size.entries:,} entries (not timed)")
    began = time.perf_counter()
    store = build_journal(size)
    build_s = time.perf_counter() - began
    figures: dict[str, float] = {"entries": size.entries, "wallets": size.wallets}
    figures["journal_build_s"] = build_s
    measure_build(store, size, figures)
    view = dcep.RegulatorView.from_store(store)
    figures["flows"] = view.flow_count
    measure_traces(view, size, figures)
    del view
    measure_memory(store, size, figures)
    elapsed = time.perf_counter() - started
    results.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": NAME,
        "quick": quick,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 3),
        "environment": {**environment(), "load_average_at_start": load_at_start},
        "parameters": {"hops": list(HOPS), "batch": BATCH, **size.__dict__},
        "figures": figures,
    }
    results.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"  ({elapsed:.1f} s; {results})", flush=True)
    return figures


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
