"""Latency: how long one call waits, and what the slow calls had in them.

Throughput says how many transfers a second a ledger sustains; a payer waits
for one call.  A stall of a second in a round of fifty batches costs 2% of
the round's rate and the whole of that payer's wait, so the rate alone hides
it (issue 26, part 4).  Each timed call is therefore kept with what happened
inside it: the garbage collector's time, the blocks the journal sealed, and
whether it took a snapshot, so that a slow call can be put down to the
collector or to the journal.  Percentiles are by nearest rank, so that every
figure is a latency some call really had.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import dcep.journal

#: The percentiles reported for every set of calls: the median, p99 and the maximum.
PERCENTS: Final = (50, 99, 100)


def nearest_rank(values: Sequence[float], percent: int) -> float:
    """The ``percent``-th percentile of ``values`` by nearest rank.

    That is the smallest value with at least ``percent``% of the values at
    or below it, so ``100`` is the maximum and, with fewer than a hundred
    values, ``99`` is the maximum too.  Unlike an interpolating quantile it
    is always one of the values, and it needs no minimum count.  Raises
    ``ValueError`` for no values, or a percent that is not a whole number
    from 1 to 100.
    """
    if type(percent) is not int or not 1 <= percent <= 100:
        raise ValueError(f"percent is a whole number from 1 to 100, not {percent!r}")
    if not values:
        raise ValueError("no values to take a percentile of")
    ordered = sorted(values)
    rank = -(-percent * len(ordered) // 100)  # ceil(percent * n / 100), exact
    return ordered[rank - 1]


def duration(seconds: float) -> str:
    """``seconds`` printed in µs below a millisecond, else in ms, to about three digits."""
    micro = seconds * 1e6
    # 999.5 µs and up would print as "1,000 µs": milliseconds read better.
    value, unit = (micro, "µs") if abs(micro) < 999.5 else (seconds * 1e3, "ms")
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    if abs(value) >= 10:
        return f"{value:.1f} {unit}"
    return f"{value:.2f} {unit}"


class GcClock:
    """Wall time the cyclic garbage collector spends, by ``gc.callbacks``.

    ``total`` grows with every collection, so reading it before and after a
    call gives the collector's share of that call.
    """

    def __init__(self) -> None:
        self.total = 0.0
        self.longest = 0.0
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            pause = time.perf_counter() - self._started
            self.total += pause
            self.longest = max(self.longest, pause)


@dataclass(frozen=True)
class Call:
    """One timed call: wall seconds, the collector's seconds in it, what the journal did in it."""

    seconds: float
    gc_seconds: float = 0.0
    #: Blocks the journal sealed during the call; ``None`` for a ledger without a journal.
    blocks_sealed: int | None = None
    #: Whether the call did snapshot work: it finished one (a new signed state
    #: root), or wrote a slice of one in progress (hashed and written a slice
    #: at each write after its boundary).
    snapshot: bool = False


class Watch:
    """Reads, outside the timing, what happened during each timed call.

    Call :meth:`mark` just before starting the clock and :meth:`call` just
    after stopping it.  The journal's public ``height`` counts sealed blocks,
    its ``state_root`` is a new object at each finished snapshot, and its
    ``snapshot_pending`` names one still being written; a ledger without a
    journal seals and snapshots nothing.
    """

    def __init__(self, journal: dcep.journal.Journal | None, collector: GcClock) -> None:
        self._journal = journal
        self._collector = collector
        self._gc = 0.0
        self._height = 0
        self._root: object = None
        self._pending: int | None = None

    def mark(self) -> None:
        """Note where the collector and the journal stand before the call."""
        self._gc = self._collector.total
        if self._journal is not None:
            self._height = self._journal.height
            self._root = self._journal.state_root
            self._pending = self._journal.snapshot_pending

    def call(self, seconds: float) -> Call:
        """The call just timed, ``seconds`` long, with what happened since :meth:`mark`."""
        gc_seconds = self._collector.total - self._gc
        journal = self._journal
        if journal is None:
            return Call(seconds, gc_seconds)  # nothing to seal, nothing to snapshot
        return Call(
            seconds,
            gc_seconds,
            journal.height - self._height,
            # Finished one, or wrote a slice of one taken before or during the call.
            journal.state_root is not self._root
            or self._pending is not None
            or journal.snapshot_pending is not None,
        )


@dataclass(frozen=True)
class Spread:
    """The median, p99 and maximum of some calls' seconds, by nearest rank."""

    count: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Spread:
        """The spread of ``seconds``; ``ValueError`` if there are none."""
        p50, p99, top = (nearest_rank(seconds, percent) for percent in PERCENTS)
        return cls(len(seconds), p50, p99, top)

    def text(self) -> str:
        """``p50 … p99 … max …``, each in a readable unit."""
        return f"p50 {duration(self.p50)}  p99 {duration(self.p99)}  max {duration(self.max)}"

    def to_dict(self) -> dict[str, object]:
        """The spread in milliseconds, for the results file."""
        return {
            "count": self.count,
            "p50_ms": self.p50 * 1e3,
            "p99_ms": self.p99 * 1e3,
            "max_ms": self.max * 1e3,
        }


@dataclass(frozen=True)
class Latency:
    """Every call of one kind on one ledger, pooled over the rounds, and how to report them.

    ``per`` names a call in the printed line ("batches of 1,000", "submits");
    ``gc_longest`` is the collector's longest single pause over the turns
    the calls were made in (the collector also runs between calls).
    """

    label: str
    per: str
    calls: tuple[Call, ...]
    gc_longest: float

    def __post_init__(self) -> None:
        if not self.calls:
            raise ValueError(f"{self.label}: no calls to report")

    @property
    def spread(self) -> Spread:
        """All the calls."""
        return Spread.of([call.seconds for call in self.calls])

    @property
    def worst(self) -> Call:
        """The slowest call (the first of equals)."""
        return max(self.calls, key=lambda call: call.seconds)

    def split(self) -> tuple[Spread | None, Spread | None]:
        """The calls with a snapshot in them and those without, ``None`` where there are none."""
        with_snapshot = [call.seconds for call in self.calls if call.snapshot]
        without = [call.seconds for call in self.calls if not call.snapshot]
        return (
            Spread.of(with_snapshot) if with_snapshot else None,
            Spread.of(without) if without else None,
        )

    def line(self) -> str:
        """One printed line: the spread, then what the worst call held, and the split."""
        worst = self.worst
        held = []
        if worst.blocks_sealed is not None:
            held.append(f"{worst.blocks_sealed} block{'s' * (worst.blocks_sealed != 1)} sealed")
        if worst.snapshot:
            held.append("a snapshot")
        held.append(f"{duration(worst.gc_seconds)} in GC" if worst.gc_seconds else "no GC")
        notes = [f"{len(self.calls):,} {self.per}", f"worst: {', '.join(held)}"]
        with_snapshot, without = self.split()
        if with_snapshot is not None:
            notes.append(
                f"{with_snapshot.count} with a snapshot, max {duration(with_snapshot.max)}"
            )
            if without is not None:
                notes.append(f"without: p99 {duration(without.p99)}, max {duration(without.max)}")
        notes.append(
            f"longest GC pause {duration(self.gc_longest)}" if self.gc_longest else "no GC pause"
        )
        return f"  {self.label:<52} {self.spread.text()}  [{'; '.join(notes)}]"

    def to_dict(self) -> dict[str, object]:
        """The figures, and every call (in ms), for the results file."""
        with_snapshot, without = self.split()
        worst = self.worst
        return {
            "per": self.per,
            **self.spread.to_dict(),
            "with_snapshot": None if with_snapshot is None else with_snapshot.to_dict(),
            "without_snapshot": None if without is None else without.to_dict(),
            "worst": {
                "ms": worst.seconds * 1e3,
                "gc_ms": worst.gc_seconds * 1e3,
                "blocks_sealed": worst.blocks_sealed,
                "snapshot": worst.snapshot,
            },
            "gc_longest_pause_ms": self.gc_longest * 1e3,
            # Every call, in order, so a later reading can plot or re-split them.
            "calls_ms": [round(call.seconds * 1e3, 4) for call in self.calls],
            "gc_ms_by_call": {
                str(index): round(call.gc_seconds * 1e3, 4)
                for index, call in enumerate(self.calls)
                if call.gc_seconds
            },
            "sealing_calls": [
                index for index, call in enumerate(self.calls) if call.blocks_sealed
            ],
            "snapshot_calls": [index for index, call in enumerate(self.calls) if call.snapshot],
        }
