"""``recover``: how long ``Ledger.open(path)`` takes to bring a database back.

Two files: the database after ``Ledger.close()`` (which seals the open block
and writes a snapshot), and a copy taken just before ``close()``, which is
what a crash would have left (every batch committed, only the periodic
snapshots in it).

Recovery loads the latest finished snapshot (a periodic one is written a
slice of rows at each batch after its boundary, so the newest may still be
in progress when the copy is taken) and re-executes every entry after it
(trusting the signatures: the file is the ledger's own), checking each
entry's hash and each block header on the way.  Baselines from the same
run: a bare SQLite scan of the same entries (the floor for reading them)
and the one-process verify ceiling over the database's own envelopes.
Also the database's size per entry, against the entry bytes it must hold.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import dcep
import dcep.journal
from benchmarks._ceiling import verify_messages
from benchmarks._common import Context, Figure, Result, interleaved, rate_figure
from benchmarks._fixtures import NETWORK_ID, database, database_messages
from dcep.journal._journal import DEFAULT_BLOCK_SIZE, DEFAULT_SNAPSHOT_EVERY_BLOCKS

NAME = "recover"


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def file_bytes(path: Path) -> int:
    """The database's size on disk, with its write-ahead log and shared-memory file if any."""
    return sum(
        candidate.stat().st_size
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
        if candidate.exists()
    )


def table_bytes(path: Path) -> dict[str, int]:
    """Bytes of pages per table and index (SQLite's ``dbstat``), if this SQLite has it."""
    connection = _read_only(path)
    try:
        rows = connection.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
        ).fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        connection.close()
    return {str(name): int(size) for name, size in rows}


def scan_entries(path: Path) -> int:
    """Read every entry row, as recovery's reader does, and do nothing with it."""
    connection = _read_only(path)
    try:
        cursor = connection.execute("SELECT number, body, hash FROM entries ORDER BY number")
        count = 0
        while rows := cursor.fetchmany(4096):
            count += len(rows)
        return count
    finally:
        connection.close()


def _opener(path: Path, entries: int) -> Callable[[], None]:
    """Recover the ledger in ``path``, check it has every entry, close only the file.

    ``Ledger.close()`` would seal and snapshot when it can, changing the file
    between repeats; closing the store leaves it as it was.
    """

    def recover() -> None:
        ledger = dcep.Ledger.open(path, network_id=NETWORK_ID)
        journal = ledger.journal
        assert journal is not None
        try:
            if ledger.entry_count != entries:
                raise AssertionError(f"recovered {ledger.entry_count} of {entries} entries")
        finally:
            journal.store.close()

    return recover


def run(context: Context) -> Result:
    """Time recovery of the run's database, after a clean close and after a crash."""
    db = database(context)
    sample = min(context.sizes.ceiling_sample, db.entries)
    messages = database_messages(db.path, sample)
    on_disk = file_bytes(db.path)
    connection = _read_only(db.path)
    try:
        payload = connection.execute(
            "SELECT sum(length(body) + length(hash)) FROM entries"
        ).fetchone()[0]
    finally:
        connection.close()
    result = Result(
        NAME,
        {
            "entries": db.entries,
            "wallets": db.wallets,
            "blocks": db.blocks,
            "snapshot_entries_after_close": db.snapshot_entries,
            "snapshot_entries_after_crash": db.crash_snapshot_entries,
            "ceiling_sample": sample,
        },
    )
    result.details["build_seconds"] = db.build_seconds
    result.details["file_bytes"] = on_disk
    result.details["crash_file_bytes"] = file_bytes(db.crash_path)
    result.details["table_bytes"] = table_bytes(db.path)

    def load_snapshot() -> None:
        store = dcep.journal.SqliteStore(db.path, network_id=NETWORK_ID)
        try:
            store.latest_snapshot()
        finally:
            store.close()

    interval = DEFAULT_BLOCK_SIZE * DEFAULT_SNAPSHOT_EVERY_BLOCKS
    expected = db.entries // interval * interval
    result.details["periodic_snapshot_expected_at"] = expected
    if db.crash_snapshot_entries < expected:
        result.note(
            f"before close, the newest snapshot covered {db.crash_snapshot_entries:,} entries, "
            f"though one is due every {interval:,} (at {expected:,} here; it may still have "
            "been being written, a slice a batch): crash recovery replays the difference"
        )
    context.say(f"recovering {db.entries:,} entries, after close and after a crash")
    actions: dict[str, Callable[[], object]] = {
        "open": _opener(db.path, db.entries),
        "open_after_crash": _opener(db.crash_path, db.entries),
        "scan": lambda: scan_entries(db.path),
        "ceiling": lambda: verify_messages(messages),
    }
    if db.snapshot_entries:
        actions["snapshot"] = load_snapshot
    timings = interleaved(actions, context.repeats)
    for key, label, snapshot_entries in (
        ("open", "after close", db.snapshot_entries),
        ("open_after_crash", "after a crash", db.crash_snapshot_entries),
    ):
        opened = timings[key]
        replayed = db.entries - snapshot_entries
        where = f"snapshot at {snapshot_entries:,}" if snapshot_entries else "no snapshot"
        result.add(
            rate_figure(
                f"Ledger.open {label}: entries recovered",
                "entries/s",
                opened,
                db.entries,
                "bare SQLite scan of the entries",
                "rows/s",
                timings["scan"],
                db.entries,
                note=f"{opened.best:.2f} s; {where}, {replayed:,} replayed",
            )
        )
        result.add(
            rate_figure(
                f"Ledger.open {label}: entries recovered",
                "entries/s",
                opened,
                db.entries,
                "1-process verify ceiling",
                "signatures/s",
                timings["ceiling"],
                sample,
                note="recovery checks no signatures",
            )
        )
    if db.snapshot_entries:
        result.add(
            Figure(
                label="of which: loading the snapshot",
                unit="s",
                samples=timings["snapshot"].seconds,
                baseline_label="Ledger.open after close",
                baseline_unit="s",
                baseline_samples=timings["open"].seconds,
                higher_is_better=False,
            )
        )
    result.add(
        Figure(
            label="database bytes per entry (incl. -wal)",
            unit="B/entry",
            samples=(on_disk / db.entries,),
            baseline_label="entry body + hash",
            baseline_unit="B/entry",
            baseline_samples=(payload / db.entries,),
            higher_is_better=False,
            note=f"{on_disk:,} bytes in all, after close",
        )
    )
    result.details["seconds"] = {name: list(t.seconds) for name, t in timings.items()}
    return result
