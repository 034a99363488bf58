"""What every benchmark shares: sizes, timing, figures with their baselines, JSON output.

Machines are shared and noisy, so no figure stands alone: each is printed
and stored with a baseline measured in the same run, and the ratio between
the two is the number to compare across runs.  Every measurement is repeated
and both the best and the median are kept.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final, TypeVar

import nacl

import dcep

RESULTS_DIR: Final = Path(__file__).resolve().parent / "results"
T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark is; ``--quick`` picks the small set."""

    #: Transfer envelopes the verify ceiling is measured over (``verify_only``).
    verify_messages: int
    #: Funded wallets the ``transfers`` ledgers start with.
    transfer_wallets: int
    #: Transfers per timed round (one round per repeat, per variant).
    transfers_per_round: int
    #: Instructions per ``submit_many`` call.
    batch: int
    #: Entries in the database that ``recover`` and ``verify_db`` read.
    database_entries: int
    #: Funded wallets ``memory`` builds.
    memory_wallets: int
    #: Transfers ``memory`` applies to measure growth per entry.
    memory_transfers: int
    #: Envelopes the verify ceiling is re-measured over inside other benchmarks.
    ceiling_sample: int
    #: Single ``submit`` calls timed on each ``transfers`` ledger, for their latency.
    submit_sample: int


FULL: Final = Sizes(
    verify_messages=40_000,
    transfer_wallets=100_000,
    transfers_per_round=50_000,
    batch=1_000,
    database_entries=1_000_000,
    memory_wallets=1_000_000,
    memory_transfers=100_000,
    ceiling_sample=20_000,
    submit_sample=5_000,
)
QUICK: Final = Sizes(
    verify_messages=4_000,
    transfer_wallets=2_000,
    transfers_per_round=2_000,
    batch=1_000,
    database_entries=20_000,
    memory_wallets=20_000,
    memory_transfers=5_000,
    ceiling_sample=3_000,
    submit_sample=500,
)


@dataclass
class Context:
    """One run of the suite: its sizes and a scratch folder shared by the benchmarks."""

    quick: bool
    sizes: Sizes
    repeats: int
    scratch: Path
    profile: bool = False
    #: Where results (and profiles) are written.
    results: Path = RESULTS_DIR
    #: Databases built in this run, by entry count, so ``recover`` and ``verify_db`` share one.
    databases: dict[int, object] = field(default_factory=dict)

    def say(self, message: str) -> None:
        """Progress on stderr, so that stdout holds only results."""
        print(f"  .. {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of each repeat of one measurement."""

    seconds: tuple[float, ...]

    @property
    def best(self) -> float:
        """The fastest repeat: the least disturbed by other load."""
        return min(self.seconds)

    @property
    def median(self) -> float:
        """The middle repeat."""
        return statistics.median(self.seconds)

    def rates(self, count: int) -> tuple[float, ...]:
        """``count`` items per second, for each repeat."""
        return tuple(count / s for s in self.seconds)


def time_call(action: Callable[[], object]) -> float:
    """Seconds one call of ``action`` takes, by ``time.perf_counter``."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@dataclass(frozen=True)
class CpuReading:
    """CPU seconds used so far by this process and by its live child processes.

    ``children`` is ``None`` where ``/proc`` cannot tell (not Linux); the
    standard library only counts children once they have exited, and
    sentinel workers live as long as their pool.
    """

    own: float
    children: float | None

    @classmethod
    def now(cls) -> CpuReading:
        """Read both clocks."""
        return cls(time.process_time(), _live_children_cpu())

    def since(self, earlier: CpuReading) -> CpuReading:
        """CPU seconds used between ``earlier`` and this reading."""
        children = (
            None
            if self.children is None or earlier.children is None
            else self.children - earlier.children
        )
        return CpuReading(self.own - earlier.own, children)


def _live_children_cpu() -> float | None:
    # utime + stime of every process whose parent is this one, from /proc/<pid>/stat.
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    me = os.getpid()
    ticks = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # it exited while we looked
            continue
        if int(fields[1]) == me:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def repeat(action: Callable[[], object], repeats: int) -> Timing:
    """Time ``action`` ``repeats`` times."""
    return Timing(tuple(time_call(action) for _ in range(repeats)))


def interleaved(
    actions: dict[str, Callable[[], object]],
    repeats: int,
    cpu: dict[str, list[CpuReading]] | None = None,
) -> dict[str, Timing]:
    """Time each action ``repeats`` times, taking turns, so that drift hits all alike.

    With ``cpu``, the CPU each call of an action named there used is appended
    to its list, read outside the timed call.
    """
    seconds: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeats):
        for name, action in actions.items():
            if cpu is None or name not in cpu:
                seconds[name].append(time_call(action))
                continue
            started = CpuReading.now()
            seconds[name].append(time_call(action))
            cpu[name].append(CpuReading.now().since(started))
    return {name: Timing(tuple(values)) for name, values in seconds.items()}


@dataclass(frozen=True)
class Figure:
    """One measured value, its baseline from the same run, and their ratio.

    ``samples`` are the per-repeat values (rates, sizes); ``best`` is the
    largest for a rate and the smallest for a cost (``higher_is_better``).
    """

    label: str
    unit: str
    samples: tuple[float, ...]
    baseline_label: str
    baseline_unit: str
    baseline_samples: tuple[float, ...]
    higher_is_better: bool = True
    note: str = ""

    @property
    def best(self) -> float:
        """The best repeat."""
        return max(self.samples) if self.higher_is_better else min(self.samples)

    @property
    def median(self) -> float:
        """The median repeat."""
        return statistics.median(self.samples)

    @property
    def baseline_best(self) -> float:
        """The best repeat of the baseline."""
        chooser = max if self.higher_is_better else min
        return chooser(self.baseline_samples)

    @property
    def baseline_median(self) -> float:
        """The median repeat of the baseline."""
        return statistics.median(self.baseline_samples)

    @property
    def ratio_best(self) -> float:
        """Best over the baseline's best."""
        return self.best / self.baseline_best

    @property
    def ratio_median(self) -> float:
        """Median over the baseline's median."""
        return self.median / self.baseline_median

    def to_dict(self) -> dict[str, object]:
        """The figure with its derived values, for the results file."""
        data = asdict(self)
        data.update(
            best=self.best,
            median=self.median,
            baseline_best=self.baseline_best,
            baseline_median=self.baseline_median,
            ratio_best=self.ratio_best,
            ratio_median=self.ratio_median,
        )
        return data

    def line(self) -> str:
        """One printed line: value (best, median), ratio, baseline."""
        return (
            f"  {self.label:<46}{_number(self.best):>12} {self.unit:<12}"
            f" median {_number(self.median):>11}"
            f"  {self.ratio_best:>7.3f}x (median {self.ratio_median:.3f}x)"
            f" of {self.baseline_label} = {_number(self.baseline_best)} {self.baseline_unit}"
            + (f"  [{self.note}]" if self.note else "")
        )


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.4g}"


@dataclass
class Result:
    """What one benchmark measured."""

    name: str
    parameters: dict[str, object]
    figures: list[Figure] = field(default_factory=list)
    #: Other measurements worth keeping (latencies, build times, breakdowns).
    details: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        """Record ``figure`` and print it at once."""
        self.figures.append(figure)
        print(figure.line(), flush=True)
        return figure

    def note(self, text: str) -> None:
        """Record and print a remark."""
        self.notes.append(text)
        print(f"  note: {text}", flush=True)


def environment() -> dict[str, object]:
    """Where the figures were measured."""
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        # Other work on a shared machine shows here: read it before trusting a pool figure.
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "pynacl": nacl.__version__,
        "dcep": dcep.__version__,
    }


def write_result(result: Result, context: Context, elapsed_s: float) -> Path:
    """Write ``result`` to ``<context.results>/<name>.json``; return the path."""
    directory = context.results
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{result.name}.json"
    document = {
        "benchmark": result.name,
        "quick": context.quick,
        "repeats": context.repeats,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed_s, 3),
        "environment": environment(),
        "parameters": result.parameters,
        "figures": [figure.to_dict() for figure in result.figures],
        "details": result.details,
        "notes": result.notes,
    }
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def chunked(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """``items`` cut into consecutive slices of at most ``size``."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def rate_figure(
    label: str,
    unit: str,
    timing: Timing,
    count: int,
    baseline_label: str,
    baseline_unit: str,
    baseline: Timing,
    baseline_count: int,
    note: str = "",
) -> Figure:
    """A throughput figure (items per second) against a throughput baseline."""
    return Figure(
        label=label,
        unit=unit,
        samples=timing.rates(count),
        baseline_label=baseline_label,
        baseline_unit=baseline_unit,
        baseline_samples=baseline.rates(baseline_count),
        note=note,
    )


def cpu_split(
    readings: Sequence[CpuReading], timing: Timing, count: int, cores: int, *, workers: bool = True
) -> dict[str, float | None]:
    """Median CPU µs an item, in this process and in its workers; cores kept busy.

    ``cores_busy`` is the share of all cores' time over the median run that
    the two used: below 1, the cores waited on something (a pipeline stall,
    the disk, other load), not only on work.  The workers' clock counts in
    ticks (10 ms on Linux), so short runs read it coarsely.  Without
    ``workers`` (or without ``/proc``) only this process's figure is given.
    """
    own = statistics.median(reading.own for reading in readings) / count * 1e6
    children = [reading.children for reading in readings]
    if not workers or any(value is None for value in children):
        return {"sequencer_us": own, "workers_us": None, "cores_busy": None}
    workers_us = statistics.median(value for value in children if value is not None) / count * 1e6
    per_second = count / timing.median
    return {
        "sequencer_us": own,
        "workers_us": workers_us,
        "cores_busy": (own + workers_us) * 1e-6 * per_second / cores,
    }


def cpu_note(split: dict[str, float | None], per: str) -> str:
    """The printed form of :func:`cpu_split`, ``per`` naming the item ("a transfer")."""
    text = f"CPU {per}: sequencer {split['sequencer_us']:.1f} µs"
    workers, busy = split["workers_us"], split["cores_busy"]
    if workers is not None and busy is not None:
        text += f", workers {workers:.1f} µs; cores {busy:.0%} busy"
    return text
