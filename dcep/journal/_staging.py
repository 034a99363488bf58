"""A periodic snapshot taken in one step and written over many commit points.

At a snapshot boundary the sequencer only captures the state
(``ledger.snapshot()``).  Hashing every row into the state root and writing
every row would stop it for about a second at 100,000 wallets, so a
:class:`SnapshotInProgress` does that work a bounded slice at a time: each
of the journal's writes hashes the next ``step_rows`` rows (in the order of
the state root's leaves) into a :class:`~dcep.values._merkle.RootBuilder`
and hands them to the store as a :class:`~dcep.journal.SnapshotPart`.  The
last slice comes with the finished, signed snapshot, which the store then
makes the latest in one atomic step.  Slices are cut by row count, never by
time, so the same inputs give the same writes and the same file.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import final

from dcep.core._snapshot import LedgerSnapshot, Snapshot, state_rows
from dcep.journal._state_root import SignedStateRoot, StateRoot
from dcep.journal._store import SnapshotPart, StagedRow
from dcep.values._commitment import row_leaf
from dcep.values._crypto import SigningKey
from dcep.values._merkle import RootBuilder, leaf_hash

__all__ = ["SnapshotInProgress"]


@final
class SnapshotInProgress:
    """One snapshot's rows, hashed and handed to the store a slice at a time."""

    __slots__ = (
        "_block_height",
        "_builder",
        "_head_hash",
        "_last_block_hash",
        "_positions",
        "_rows",
        "_settings",
        "_started",
        "_unread",
        "done",
    )

    def __init__(
        self,
        rows: LedgerSnapshot,
        *,
        block_height: int,
        head_hash: bytes,
        last_block_hash: bytes,
        settings: bytes,
    ) -> None:
        self._rows = rows
        self._block_height = block_height
        self._head_hash = head_hash
        self._last_block_hash = last_block_hash
        self._settings = settings
        # Rows are read once, in order, as they are needed: never all at once.
        self._unread: Iterator[tuple[str, tuple[object, ...]]] = state_rows(rows)
        self._positions: dict[str, int] = {}
        self._builder = RootBuilder()
        self._started = False
        #: Every row is hashed and handed over: :meth:`finish` may be called.
        self.done = False

    @property
    def entry_count(self) -> int:
        """The entries the snapshot includes."""
        return self._rows.entry_count

    def step(self, step_rows: int) -> SnapshotPart:
        """Hash the next ``step_rows`` rows (fewer at the end) and stage them."""
        staged: list[StagedRow] = []
        hashes: list[bytes] = []
        positions = self._positions
        for table, row in itertools.islice(self._unread, step_rows):
            hashes.append(leaf_hash(row_leaf(table, row)))
            position = positions.get(table, 0)
            positions[table] = position + 1
            staged.append((table, position, row))
        self._builder.add(hashes)
        if len(hashes) < step_rows:
            self.done = True
        first, self._started = not self._started, True
        return SnapshotPart(first=first, rows=tuple(staged))

    def finish(self, key: SigningKey, network_id: bytes) -> tuple[Snapshot, SignedStateRoot]:
        """The snapshot and its state root, signed; once :attr:`done`."""
        if not self.done:
            raise RuntimeError("the snapshot still has rows to hash")
        state = StateRoot(
            block_height=self._block_height,
            last_block_hash=self._last_block_hash,
            entry_count=self._rows.entry_count,
            head_hash=self._head_hash,
            settings_digest=self._settings,
            row_count=self._builder.size,
            root=self._builder.root(),
        )
        signed = SignedStateRoot.sign(state, key, network_id)
        snapshot = Snapshot(
            ledger=self._rows,
            block_height=self._block_height,
            head_hash=self._head_hash,
            last_block_hash=self._last_block_hash,
            certificate=signed.encode(),
        )
        return snapshot, signed
