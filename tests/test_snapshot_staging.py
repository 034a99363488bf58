"""Periodic snapshots written a slice at a time: same snapshot, no stall, crash-safe.

A periodic snapshot is captured at its block boundary and then hashed and
written ``snapshot_step_rows`` rows at each later write.  What must hold:
the finished snapshot is the one a one-step snapshot at the same boundary
gives (rows, root and signature); until it is finished the previous one is
the latest, so a crash in the middle recovers from that; the same inputs
write the same file.
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
import dcep.journal
from dcep import cny
from dcep.core._snapshot import Snapshot
from dcep.journal._state_root import SignedStateRoot, state_root_of
from dcep.values._merkle import RootBuilder, leaf_hash, merkle_root

BLOCK_SIZE = 4


def _world(ledger: dcep.Ledger, wallets: int = 6) -> list[dcep.Wallet]:
    pboc = dcep.CentralBank(ledger, seed=26)
    icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("1000000"))
    pboc.issue(icbc, cny("500000"))
    holders = [icbc.open_wallet(category=4, phone=f"138{i:08d}") for i in range(wallets)]
    for holder in holders:
        icbc.fund(holder, cny("400"))
    return holders


def _pay(holders: list[dcep.Wallet], i: int) -> None:
    payer, payee = holders[i % len(holders)], holders[(i * 5 + 1) % len(holders)]
    if payer is payee:
        payee = holders[(i + 1) % len(holders)]
    payer.pay(payee, dcep.Amount(101 + i))


def _journal(ledger: dcep.Ledger) -> dcep.journal.Journal:
    journal = ledger.journal
    assert journal is not None
    return journal


def _state(ledger: dcep.Ledger) -> object:
    return (ledger.supply(), ledger.banks(), list(ledger.wallets()), ledger.entry_count)


def _tables(path: Path) -> set[str]:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    finally:
        connection.close()


def _crash_image(path: Path, directory: Path) -> Path:
    """The files as a crash now would leave them: every committed write, in the WAL."""
    directory.mkdir()
    for suffix in ("", "-wal"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            shutil.copyfile(source, directory / f"{path.name}{suffix}")
    return directory / path.name


@settings(max_examples=40)
@given(
    sizes=st.lists(st.integers(0, 40), max_size=8),
    chunk_power=st.integers(0, 3),
)
def test_a_root_built_a_slice_at_a_time_is_the_merkle_root(
    sizes: list[int], chunk_power: int
) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(sum(sizes))]
    builder = RootBuilder(chunk_leaves=1 << chunk_power)
    start = 0
    for size in sizes:
        builder.add(leaves[start : start + size])
        start += size
        # Any prefix is a tree of its own, at any point.
        assert builder.root() == merkle_root(leaves[:start])
    assert builder.size == len(leaves)


def test_a_root_builder_needs_a_power_of_two() -> None:
    with pytest.raises(ValueError, match="power of two"):
        RootBuilder(chunk_leaves=3)


@pytest.mark.parametrize("step_rows", [7])
def test_a_snapshot_in_slices_is_the_one_step_snapshot_at_its_boundary(step_rows: int) -> None:
    _check_slices_against_one_step(step_rows, payments=24)


@pytest.mark.slow
@settings(max_examples=30)
@given(step_rows=st.integers(1, 60), payments=st.integers(20, 40))
def test_any_slicing_gives_the_one_step_snapshot(step_rows: int, payments: int) -> None:
    _check_slices_against_one_step(step_rows, payments)


def _check_slices_against_one_step(step_rows: int, payments: int) -> None:
    # The ledger in slices; each time one of its snapshots finishes, a second
    # ledger fed the same instructions up to that snapshot's entry takes a
    # one-step snapshot there.  Same rows, same signed root, byte for byte.
    sliced = dcep.Ledger.with_journal(
        block_size=BLOCK_SIZE, snapshot_every_blocks=2, snapshot_step_rows=step_rows
    )
    envelopes: list[dcep.instructions.SignedInstruction] = []
    sliced.subscribe(lambda entry: envelopes.append(entry.signed))
    journal = _journal(sliced)
    holders = _world(sliced)
    finished: list[Snapshot] = []
    pending_seen = False
    for i in range(payments):
        before = journal.state_root
        _pay(holders, i)
        pending_seen = pending_seen or journal.snapshot_pending is not None
        if journal.state_root is not before:
            latest = journal.store.latest_snapshot()
            assert latest is not None
            finished.append(latest)
    assert finished, "a periodic snapshot finished"
    if step_rows < 40:  # fewer rows than a snapshot has: it took more than one write
        assert pending_seen
    for snapshot in finished:
        one_step = dcep.Ledger.with_journal(block_size=BLOCK_SIZE, snapshot_every_blocks=10**6)
        assert snapshot.entry_count % BLOCK_SIZE == 0
        one_step.submit(envelopes[0])  # the genesis; then its key seals the blocks
        dcep.CentralBank.restore(one_step, seed=26)
        for envelope in envelopes[1 : snapshot.entry_count]:
            one_step.submit(envelope)
        assert _journal(one_step).snapshot() == snapshot
        certificate = SignedStateRoot.decode(snapshot.certificate)
        assert state_root_of(snapshot.ledger) == (
            certificate.state.root,
            certificate.state.row_count,
        )


def test_the_state_root_is_the_previous_one_until_the_slices_are_done() -> None:
    ledger = dcep.Ledger.with_journal(
        block_size=BLOCK_SIZE, snapshot_every_blocks=2, snapshot_step_rows=3
    )
    journal = _journal(ledger)
    holders = _world(ledger)
    roots: list[SignedStateRoot | None] = []
    pendings: list[int | None] = []
    entries: list[int] = []
    for i in range(120):
        _pay(holders, i)
        roots.append(journal.state_root)
        pendings.append(journal.snapshot_pending)
        entries.append(ledger.entry_count)
    # A root changes only at the write that finishes a snapshot in progress,
    # to the root of that snapshot's entry count.
    changes = [i for i in range(1, len(roots)) if roots[i] is not roots[i - 1]]
    assert len(changes) >= 2
    for i in changes:
        root = roots[i]
        assert root is not None
        assert pendings[i - 1] == root.state.entry_count
        pending = pendings[i]
        assert pending is None or pending > root.state.entry_count
    # Each is taken at a boundary; while one is in progress, boundaries pass
    # it by: the next is taken no earlier than the entry it finished at.
    finished = [(entries[i], roots[i]) for i in changes]
    for (finished_at, _), (_, later) in itertools.pairwise(finished):
        assert later is not None
        assert later.state.entry_count % (2 * BLOCK_SIZE) == 0
        assert later.state.entry_count >= finished_at


@pytest.mark.parametrize(
    "wanted", [pytest.param(1, id="one crash"), pytest.param(2, id="two", marks=pytest.mark.slow)]
)
def test_a_crash_in_the_middle_of_a_snapshot_recovers_from_the_previous_one(
    tmp_path: Path, wanted: int
) -> None:
    path = tmp_path / "city.db"
    ledger = dcep.Ledger.open(
        path, block_size=BLOCK_SIZE, snapshot_every_blocks=2, snapshot_step_rows=4
    )
    journal = _journal(ledger)
    envelopes: list[dcep.instructions.SignedInstruction] = []
    ledger.subscribe(lambda entry: envelopes.append(entry.signed))
    holders = _world(ledger)
    crashes: list[tuple[Path, object, int]] = []
    i = 0
    pending_for = 0  # writes since the snapshot in progress was captured
    while len(crashes) < wanted:
        _pay(holders, i)
        i += 1
        previous = journal.state_root
        pending_for = pending_for + 1 if journal.snapshot_pending is not None else 0
        # The batch that captures a snapshot writes none of it; the next writes a slice.
        if pending_for >= 2 and previous is not None:
            image = _crash_image(path, tmp_path / f"crash-{len(crashes)}")
            crashes.append((image, _state(ledger), previous.state.entry_count))
            for _ in range(40):  # to the middle of the next snapshot
                _pay(holders, i)
                i += 1
    ledger.close()
    for image, state, previous_entries in crashes:
        # Slices were written (a staging table exists), and are not what recovery reads.
        assert "staging_snapshot_wallets" in _tables(image)
        recovered = dcep.Ledger.open(
            image, block_size=BLOCK_SIZE, snapshot_every_blocks=2, snapshot_step_rows=4
        )
        report = _journal(recovered).recovery
        assert report is not None
        assert report.snapshot_refused is None
        assert report.from_snapshot == previous_entries
        assert _state(recovered) == state
        assert dcep.Replica(_journal(recovered).store).catch_up().snapshot_checked
        # Carrying on from the crash: the leftover slices are dropped, and the
        # next snapshot is written in slices and checks against its signed root.
        dcep.CentralBank.restore(recovered, seed=26)
        journal = _journal(recovered)
        for envelope in envelopes[recovered.entry_count :]:
            recovered.submit(envelope)
            root = journal.state_root
            if root is not None and root.state.entry_count > previous_entries:
                break
        root = journal.state_root
        assert root is not None
        assert root.state.entry_count > previous_entries
        second = _crash_image(image, image.parent / "again")
        recovered.close()
        again = dcep.Ledger.open(second, block_size=BLOCK_SIZE, snapshot_every_blocks=2)
        report = _journal(again).recovery
        assert report is not None
        assert (report.from_snapshot, report.snapshot_refused) == (root.state.entry_count, None)
        assert dcep.Replica(_journal(again).store).catch_up().snapshot_checked
        again.close()


def test_closing_in_the_middle_of_a_snapshot_writes_one_whole_and_drops_the_slices(
    tmp_path: Path,
) -> None:
    path = tmp_path / "city.db"
    ledger = dcep.Ledger.open(
        path, block_size=BLOCK_SIZE, snapshot_every_blocks=2, snapshot_step_rows=4
    )
    journal = _journal(ledger)
    holders = _world(ledger)
    i = 0
    # Until a slice is written: from the write after the capture's.
    while (
        journal.snapshot_pending is None
        or journal.state_root is None
        or not any(name.startswith("staging_") for name in _tables(path))
    ):
        _pay(holders, i)
        i += 1
    state = _state(ledger)
    ledger.close()
    assert not any(name.startswith(("staging_", "retired_")) for name in _tables(path))
    reopened = dcep.Ledger.open(path, block_size=BLOCK_SIZE, snapshot_every_blocks=2)
    report = _journal(reopened).recovery
    assert report is not None
    assert (report.from_snapshot, report.replayed, report.snapshot_refused) == (
        reopened.entry_count,
        0,
        None,
    )
    assert _state(reopened) == state
    reopened.close()


@pytest.mark.slow
def test_replaced_tables_are_emptied_a_bounded_number_of_rows_a_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Twenty rows a write, so that the retired tables outlive the write that
    # replaced them (at the real budget a small ledger's go in that write).
    monkeypatch.setattr(dcep.journal._sqlite_store, "_RETIRED_ROWS_PER_WRITE", 20)
    path = tmp_path / "city.db"
    ledger = dcep.Ledger.open(
        path, block_size=BLOCK_SIZE, snapshot_every_blocks=4, snapshot_step_rows=50
    )
    journal = _journal(ledger)
    holders = _world(ledger)
    history: list[tuple[bool, bool]] = []
    for i in range(60):
        _pay(holders, i)
        tables = _tables(path)
        history.append(
            (
                any(name.startswith("retired_") for name in tables),
                journal.snapshot_pending is not None,
            )
        )
    assert (True, False) in history  # retired tables outlive the snapshot that retired them
    assert history[-1] == (False, False), "and are gone once emptied"
    snapshot = journal.store.latest_snapshot()
    assert snapshot is not None
    image = _crash_image(path, tmp_path / "image")
    state = _state(ledger)
    ledger.close()
    reopened = dcep.Ledger.open(image, block_size=BLOCK_SIZE, snapshot_every_blocks=4)
    report = _journal(reopened).recovery
    assert report is not None
    assert (report.from_snapshot, report.snapshot_refused) == (snapshot.entry_count, None)
    assert _state(reopened) == state
    reopened.close()


def _dump(path: Path) -> list[str]:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def _write_run(directory: Path) -> Path:
    """Pay, copy the files as a crash would leave them in a snapshot's middle, pay on, close."""
    directory.mkdir()
    path = directory / "city.db"
    ledger = dcep.Ledger.open(
        path, block_size=BLOCK_SIZE, snapshot_every_blocks=2, snapshot_step_rows=5
    )
    journal = _journal(ledger)
    holders = _world(ledger)
    image: Path | None = None
    for i in range(40):
        _pay(holders, i)
        if image is None and i >= 10 and journal.snapshot_pending is not None:
            image = _crash_image(path, directory / "image")
    ledger.close()
    assert image is not None
    return image


@pytest.mark.slow
def test_the_same_payments_write_the_same_file(tmp_path: Path) -> None:
    first = _write_run(tmp_path / "first")
    second = _write_run(tmp_path / "second")
    assert any(line.startswith('CREATE TABLE "staging_') for line in _dump(first))
    assert _dump(first) == _dump(second)
    assert (tmp_path / "first" / "city.db").read_bytes() == (
        tmp_path / "second" / "city.db"
    ).read_bytes()
