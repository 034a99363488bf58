"""``stalls``: the slowest ``submit_many`` batch of a big SQLite ledger, snapshots included.

A payer sees the worst batch, not the mean: a block seal, a snapshot or a
collector pause that stops the sequencer is a payment that hangs.  This
builds one ``Ledger.open(db)`` (SQLite, ``SYNC``, the central bank's key
attached, so that it seals blocks and takes snapshots as a real one does)
with ``W`` funded wallets (untimed), then submits uniform transfers in
batches of 1,000, each signed before its batch is timed, until a periodic
snapshot has been taken inside the measured run, finished (it is hashed and
written a slice at each batch after its boundary) and 20 more batches have
followed.  Each batch's wall time is recorded with whether a block was
sealed in it and whether it crossed a snapshot boundary.

Figures: the worst batch, the 99th percentile and the worst batch at a
snapshot boundary, each against the median batch of the same run (the
baseline).  Full size is 1,000,000 wallets with the default snapshot
cadence (every 128 blocks of 1,024 entries); the quick size is 20,000
wallets with a snapshot every 8 blocks, so that one falls in a short run.
"""

from __future__ import annotations

import gc
import random
import statistics
import time

import dcep
from benchmarks._common import Context, Figure, Result
from benchmarks._fixtures import NETWORK_ID, Population, count_refused, submit_all
from benchmarks._latency import nearest_rank
from dcep.journal._journal import DEFAULT_BLOCK_SIZE, DEFAULT_SNAPSHOT_EVERY_BLOCKS

NAME = "stalls"

#: Batches measured after the snapshot, and the most the run may take in all.
AFTER_SNAPSHOT = 20
MAX_BATCHES = 1_000
BATCH = 1_000


def _started_in(journal: dcep.journal.Journal, entries_before: int) -> bool:
    """Whether the batch that began at ``entries_before`` took a snapshot.

    A boundary reached while an older snapshot is still being written is
    skipped; a small snapshot is finished by its boundary's own batch.
    """
    pending = journal.snapshot_pending
    root = journal.state_root
    return (pending is not None and pending >= entries_before) or (
        root is not None and root.state.entry_count >= entries_before
    )


def run(context: Context) -> Result:
    """Build the big ledger, then time every batch until a snapshot is behind us."""
    wallets = 20_000 if context.quick else 1_000_000
    snapshot_every = 8 if context.quick else DEFAULT_SNAPSHOT_EVERY_BLOCKS
    result = Result(
        NAME,
        {
            "wallets": wallets,
            "batch": BATCH,
            "block_size": DEFAULT_BLOCK_SIZE,
            "snapshot_every_blocks": snapshot_every,
        },
    )
    population = Population(wallets)
    path = context.scratch / "stalls.db"
    context.say(f"building a SQLite ledger of {wallets:,} funded wallets (untimed)")
    started = time.perf_counter()
    ledger = dcep.Ledger.open(path, network_id=NETWORK_ID, snapshot_every_blocks=snapshot_every)
    journal = ledger.journal
    assert journal is not None
    journal.attach_signer(population.central)
    if submit_all(ledger, population.setup_envelopes(), BATCH):
        raise AssertionError("setup instructions were refused")
    build_seconds = time.perf_counter() - started
    gc.collect()
    gc.freeze()

    rng = random.Random(11)
    seconds: list[float] = []
    sealed: list[bool] = []
    at_boundary: list[bool] = []
    after = None
    #: The entry count of the first snapshot taken in the run, while it is being written.
    first_snapshot: int | None = None
    context.say("timing batches until a snapshot is behind us")
    while len(seconds) < MAX_BATCHES and (after is None or len(seconds) < after):
        envelopes = list(population.transfers(BATCH, rng))
        height = journal.height
        entries_before = ledger.entry_count
        took = time.perf_counter()
        refused = count_refused(ledger.submit_many(envelopes))
        seconds.append(time.perf_counter() - took)
        if refused:
            raise AssertionError(f"{refused} transfers refused")
        sealed.append(journal.height != height)
        crossed = journal.height // snapshot_every != height // snapshot_every
        at_boundary.append(crossed)
        if crossed and after is None and _started_in(journal, entries_before):
            after = len(seconds) + AFTER_SNAPSHOT
            first_snapshot = journal.snapshot_pending
        elif after is not None and first_snapshot is not None:
            # It is written a slice at each batch after its boundary: on to
            # the batch that finishes it, then 20 more.
            if journal.snapshot_pending == first_snapshot:
                after = len(seconds) + AFTER_SNAPSHOT
            else:
                first_snapshot = None
    ledger.close()
    gc.unfreeze()

    median = statistics.median(seconds)
    boundary = [s for s, b in zip(seconds, at_boundary, strict=True) if b]
    other = [s for s, b in zip(seconds, at_boundary, strict=True) if not b]
    sealing = [s for s, b, c in zip(seconds, sealed, at_boundary, strict=True) if b and not c]

    def against_median(label: str, value: float, note: str) -> None:
        result.add(
            Figure(
                label=label,
                unit="ms",
                samples=(value * 1e3,),
                baseline_label="the median batch",
                baseline_unit="ms",
                baseline_samples=(median * 1e3,),
                higher_is_better=False,
                note=note,
            )
        )

    against_median(
        "worst batch of 1,000, SQLite",
        max(seconds),
        f"{wallets:,} wallets; {len(seconds)} batches",
    )
    against_median("99th percentile batch", nearest_rank(seconds, 99), "nearest rank")
    if boundary:
        against_median(
            "worst batch at a snapshot boundary", max(boundary), f"{len(boundary)} such"
        )
    else:
        result.note("no snapshot boundary fell in the measured run")
    if sealing:
        against_median("worst batch that sealed a block", max(sealing), f"{len(sealing)} such")
    result.details.update(
        batch_seconds=seconds,
        sealed=sealed,
        at_snapshot_boundary=at_boundary,
        worst_other_seconds=max(other) if other else None,
        build_seconds=build_seconds,
    )
    return result
