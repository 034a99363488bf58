"""Crashes: a writer process is killed with SIGKILL at random moments, again and again.

``crash_writer.py`` (next to this file) opens a SQLite ledger and writes
payments, printing each receipt it is handed back.  Each round here starts
it, lets it run for a random while, kills it with SIGKILL (no handler, no
``finally``, no flush: what a power cut is to the process), then reopens the
file in this process and checks that

* with ``Durability.SYNC``, every acknowledged instruction is in the journal,
  as acknowledged (same envelope, same entry number and time), and the
  reopened ledger remembers it (resubmitting its bytes returns its receipt);
* what was stored before a crash is stored unchanged after it (the journal
  only ever grows at its end), and the writer reopens to exactly that;
* a :class:`~dcep.Replica` following the file re-verifies every new entry
  and block (signatures, chain, Merkle roots, state commitment, snapshot)
  and reaches the same state as recovery; a fresh one re-verifies the whole
  file at the end;
* the invariants hold.

The rounds (writer seeds, kill delays, which rounds kill early) follow a
:class:`random.Random` seeded from ``SEED``; the delays are wall-clock, so
where in the writer each kill lands still varies from run to run, which is
the point.  Every failure names the entries concerned.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest

import dcep
import dcep.journal
import dcep.ledger

from .crash_writer import BLOCK_SIZE, SETUP_ENTRIES, SNAPSHOT_EVERY_BLOCKS

pytestmark = [
    pytest.mark.skipif(
        sys.platform == "win32", reason="SIGKILL is POSIX; the crash tests need it"
    ),
    # Writer processes killed 72 times: the largest share of the suite's time.
    pytest.mark.slow,
]

WRITER: Final = Path(__file__).with_name("crash_writer.py")
SEED: Final = 20_260_525
SYNC_FILES: Final = 3
SYNC_KILLS_PER_FILE: Final = 20
DEFERRED_KILLS: Final = 12
#: How long a writer may take to open and set up before the test gives up on it.
STARTUP_TIMEOUT_S: Final = 60.0
#: Of the rounds, this share kills the writer at a random moment from its
#: start (often while it imports, recovers or resumes the setup); the rest
#: kill it at a random moment after it is ready, while it writes payments.
EARLY_KILL_SHARE: Final = 0.3
GENESIS_HASH: Final = bytes(32)


@dataclass(frozen=True)
class Ack:
    """A receipt the writer was handed back, as it printed it."""

    number: int
    accepted_at_us: int
    envelope: bytes


@dataclass(frozen=True)
class WriterOutput:
    """What one killed writer printed before it died."""

    ready_at: int | None
    acks: tuple[Ack, ...]
    durable_below: int

    @classmethod
    def parse(cls, raw: bytes) -> WriterOutput:
        """Read the complete lines; a last line cut by the kill was not acknowledged."""
        ready_at = None
        acks: list[Ack] = []
        durable_below = 0
        for line in raw.split(b"\n")[:-1]:
            word, *rest = line.decode("ascii").split()
            if word == "ACK":
                number, at, envelope = rest
                acks.append(Ack(int(number), int(at), bytes.fromhex(envelope)))
            elif word == "DURABLE":
                durable_below = max(durable_below, int(rest[0]))
            elif word == "READY":
                ready_at = int(rest[0])
            else:  # pragma: no cover - the writer prints nothing else
                raise AssertionError(f"unexpected writer output {line!r}")
        return cls(ready_at, tuple(acks), durable_below)


@dataclass
class History:
    """What the test knows about one database file across its crashes."""

    path: Path
    durability: dcep.journal.Durability
    replica_store: dcep.journal.SqliteStore | None = None
    replica: dcep.Replica | None = None
    #: The hash of every entry stored at the last check, by number.
    hashes: list[bytes] = field(default_factory=list)
    #: Acknowledged and still required to be stored, by entry number.
    acks: dict[int, Ack] = field(default_factory=dict)
    kills: int = 0
    #: Kills that landed before the writer was ready (importing, recovering, setting up).
    kills_before_ready: int = 0
    acks_checked: int = 0
    lost: int = 0

    def close(self) -> None:
        """Release the replica's connection."""
        if self.replica_store is not None:
            self.replica_store.close()
            self.replica_store = None
            self.replica = None


@pytest.fixture
def histories() -> Iterator[list[History]]:
    """Histories the test fills; their connections are closed whatever happens."""
    made: list[History] = []
    yield made
    for history in made:
        history.close()


def _open(history: History) -> dcep.Ledger:
    return dcep.Ledger.open(
        history.path,
        block_size=BLOCK_SIZE,
        snapshot_every_blocks=SNAPSHOT_EVERY_BLOCKS,
        durability=history.durability,
    )


def _wait_until_ready(process: subprocess.Popen[bytes], output: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while b"READY" not in output.read_bytes():
        if process.poll() is not None:
            return  # it died on its own: the caller reports it
        if time.monotonic() > deadline:
            raise AssertionError(f"the writer was not ready after {STARTUP_TIMEOUT_S} s")
        time.sleep(0.005)


def _run_and_kill(
    history: History, rng: random.Random, workdir: Path, *, early: bool
) -> WriterOutput:
    """Start the writer on ``history``'s file, kill it with SIGKILL, return what it printed."""
    output = workdir / f"writer-{history.kills}.out"
    errors = workdir / f"writer-{history.kills}.err"
    command = [
        sys.executable,
        str(WRITER),
        str(history.path),
        str(rng.randrange(2**32)),
        "--durability",
        history.durability.value,
    ]
    with output.open("wb") as out, errors.open("wb") as err:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    try:
        if early:
            time.sleep(rng.uniform(0.02, 0.4))
        else:
            _wait_until_ready(process, output)
            time.sleep(rng.uniform(0.0, 0.4))
        died = process.poll()
        assert died is None, (
            f"the writer exited by itself ({died}):\n{errors.read_text(errors='replace')}"
        )
    finally:
        process.kill()  # SIGKILL on POSIX
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    history.kills += 1
    printed = WriterOutput.parse(output.read_bytes())
    history.kills_before_ready += printed.ready_at is None
    return printed


def _check_recovery(history: History, printed: WriterOutput) -> None:
    """Reopen the file after a crash and check everything the module docstring promises."""
    sync = history.durability is dcep.journal.Durability.SYNC
    if printed.ready_at is not None and len(history.hashes) >= SETUP_ENTRIES:
        # The writer reopened to exactly what the last check found.
        assert printed.ready_at == len(history.hashes)
    new = {ack.number: ack for ack in printed.acks}
    if sync:
        for number, ack in new.items():
            earlier = history.acks.get(number)
            assert earlier is None or earlier == ack, f"entry {number} acknowledged twice"
    ledger = _open(history)
    try:
        journal = ledger.journal
        assert journal is not None
        stored = list(journal.store.read_entries())
        assert [number for number, _, _ in stored] == list(range(len(stored)))
        assert ledger.entry_count == len(stored)
        hashes = [entry_hash for _, _, entry_hash in stored]
        # The journal only grows at its end: nothing stored before is changed or gone.
        assert hashes[: len(history.hashes)] == history.hashes
        assert journal.head_hash == (hashes[-1] if hashes else GENESIS_HASH)

        def stored_as(ack: Ack) -> bool:
            if ack.number >= len(stored):
                return False
            previous = hashes[ack.number - 1] if ack.number else GENESIS_HASH
            entry = dcep.journal.JournalEntry.decode(stored[ack.number][1], previous)
            assert entry.hash == hashes[ack.number]
            return (entry.envelope, entry.accepted_at_us) == (ack.envelope, ack.accepted_at_us)

        if sync:
            history.acks.update(new)
            required = history.acks
        else:
            # Deferred: only what a sealed block forced out is promised to be on disk.
            required = {n: ack for n, ack in new.items() if n < printed.durable_below}
            history.lost += sum(not stored_as(ack) for ack in new.values())
        missing = sorted(n for n, ack in required.items() if not stored_as(ack))
        assert not missing, f"acknowledged entries lost or changed: {missing[:20]}"
        history.acks_checked += len(required)
        # The reopened ledger remembers them: resubmitting gives back the first receipt.
        for ack in new.values():
            if ack.number in required:
                receipt = ledger.submit(ack.envelope)
                assert (receipt.entry_number, receipt.accepted_at_us) == (
                    ack.number,
                    ack.accepted_at_us,
                )
        assert ledger.entry_count == len(stored), "a resubmission was taken as new"
        ledger.check_invariants()
        # A replica following the file verifies everything new since the last crash.
        if history.replica is None:
            history.replica_store = dcep.journal.SqliteStore(history.path)
            history.replica = dcep.Replica(history.replica_store)
        report = history.replica.catch_up()
        assert report.entry_count == ledger.entry_count
        assert report.block_height == journal.height
        assert history.replica.ledger.snapshot() == ledger.snapshot()
        history.hashes = hashes
    finally:
        ledger.close()


def _verify_from_scratch(history: History) -> dcep.ledger.VerificationReport:
    """A fresh replica re-verifies the whole file, then the file is still usable."""
    store = dcep.journal.SqliteStore(history.path)
    try:
        replica = dcep.Replica(store)
        report = replica.catch_up()
    finally:
        store.close()
    assert report.entry_count == len(history.hashes)
    ledger = _open(history)
    try:
        assert replica.ledger.snapshot() == ledger.snapshot()
        ledger.check_invariants()
    finally:
        ledger.close()
    return report


def _crash_repeatedly(
    history: History, rounds: int, rng: random.Random, workdir: Path
) -> dcep.ledger.VerificationReport:
    for round_ in range(rounds):
        # The first run creates the file; a kill while it does is another test's.
        early = round_ > 0 and rng.random() < EARLY_KILL_SHARE
        printed = _run_and_kill(history, rng, workdir, early=early)
        _check_recovery(history, printed)
    return _verify_from_scratch(history)


@pytest.mark.parametrize("file_index", range(SYNC_FILES))
def test_sync_crashes_lose_no_acknowledged_instruction(
    file_index: int, tmp_path: Path, histories: list[History]
) -> None:
    seed = SEED + file_index
    history = History(tmp_path / "ledger.db", dcep.journal.Durability.SYNC)
    histories.append(history)
    report = _crash_repeatedly(history, SYNC_KILLS_PER_FILE, random.Random(seed), tmp_path)
    assert history.kills == SYNC_KILLS_PER_FILE
    assert history.lost == 0
    # The writer got well past its setup and sealed blocks.
    assert len(history.acks) > SETUP_ENTRIES * 4
    assert report.block_height > SNAPSHOT_EVERY_BLOCKS * 2
    assert report.snapshot_checked
    print(
        f"seed {seed}: {history.kills} kills ({history.kills_before_ready} before ready), "
        f"{history.acks_checked} acknowledgement checks, "
        f"{len(history.acks)} acknowledged entries of {report.entry_count}"
    )


def test_deferred_crashes_keep_a_verifiable_prefix(
    tmp_path: Path, histories: list[History]
) -> None:
    """With DEFERRED, a crash may lose receipts returned since the last sealed block.

    Only the entries a sealed block forced out must survive; the rest may be
    lost (that is the documented trade), but what survives is always a prefix
    of the history that verifies, and the writer carries on from it.
    """
    seed = SEED - 1
    history = History(tmp_path / "deferred.db", dcep.journal.Durability.DEFERRED)
    histories.append(history)
    report = _crash_repeatedly(history, DEFERRED_KILLS, random.Random(seed), tmp_path)
    assert history.kills == DEFERRED_KILLS
    assert report.entry_count == len(history.hashes)
    print(
        f"seed {seed}: {history.kills} kills ({history.kills_before_ready} before ready), "
        f"{history.acks_checked} required acknowledgements "
        f"kept, {history.lost} acknowledged receipts lost (allowed with DEFERRED)"
    )


def test_a_crash_while_creating_a_new_file_leaves_it_openable(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    command = [sys.executable, str(WRITER), str(path), "0", "--die-creating"]
    completed = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert completed.returncode == -signal.SIGKILL, completed.stderr.decode(errors="replace")
    assert path.exists()
    assert os.path.getsize(path) > 0  # SQLite wrote its header before the kill
    ledger = dcep.Ledger.open(path)  # raises JournalError(STORE_NOT_DCEP) today
    try:
        assert ledger.entry_count == 0
    finally:
        ledger.close()
