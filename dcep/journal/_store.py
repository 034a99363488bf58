"""Where the journal lives: a small storage protocol and its in-memory form.

A store keeps three things: journal entries (body and hash, by number),
signed block headers (by height) and the latest snapshot.  The journal hands
it one :meth:`Store.write` per commit point; when ``write`` returns, what it
was given is as durable as the store can make it (for the in-memory store:
as durable as the process).  A periodic snapshot reaches the store in
slices (:class:`SnapshotPart`), one with each write, and replaces the latest
snapshot only with its last slice, so that no commit point pays for writing
a whole state.  The SQLite store is in :mod:`dcep.journal._sqlite_store`;
a server database can implement the same protocol later without touching
the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, final

import attrs

from dcep.core._snapshot import Snapshot
from dcep.journal._entries import SealedBlock

__all__ = ["MemoryStore", "SnapshotPart", "StagedRow", "Store", "StoredBlock", "StoredEntry"]

#: (number, body, hash) of an entry as stored.
StoredEntry = tuple[int, bytes, bytes]
#: (height, header bytes, signature) of a block as stored.
StoredBlock = tuple[int, bytes, bytes]
#: (table, position in the table, values) of a snapshot row being staged; the
#: table is the ``LedgerSnapshot`` field the row comes from.
StagedRow = tuple[str, int, tuple[object, ...]]


@final
@attrs.frozen
class SnapshotPart:
    """A slice of the rows of a snapshot that is written over several commit points.

    The journal hashes and hands over a bounded number of rows at each
    write, in the snapshot's row order (the order of its state root's leaves;
    rows that are not table rows, such as the entry count, are the
    snapshot's header, which comes with the last slice).  A store keeps the
    slices aside, where recovery does not look, until the write that also
    carries the finished snapshot: only then do they
    replace the latest snapshot, in that write's one atomic step.  A crash
    before it leaves the previous snapshot the latest.
    """

    #: The first slice of a new snapshot: whatever was staged before is dropped.
    first: bool
    rows: tuple[StagedRow, ...]


class Store(Protocol):
    """What the journal needs from storage."""

    def write(
        self,
        entries: Sequence[StoredEntry],
        blocks: Sequence[SealedBlock],
        snapshot: Snapshot | None = None,
        part: SnapshotPart | None = None,
    ) -> None:
        """Append entries and blocks (and replace the snapshot) in one atomic step.

        With ``part``, its rows are staged for a snapshot in progress; if
        ``snapshot`` is given too, it is that snapshot finished: the staged
        rows (with these) become the latest snapshot under its header, and
        its own rows need not be read.  Without ``part``, ``snapshot`` is
        written whole.
        """
        ...

    def read_entries(self, start: int = 0) -> Iterator[StoredEntry]:
        """Entries from number ``start`` on, in order."""
        ...

    def read_blocks(self, start: int = 0) -> Iterator[StoredBlock]:
        """Blocks from height ``start`` on, in order."""
        ...

    def latest_snapshot(self) -> Snapshot | None:
        """The last snapshot written, if any."""
        ...

    def entry_count(self) -> int:
        """How many entries are stored."""
        ...

    def block_count(self) -> int:
        """How many blocks are stored."""
        ...

    def close(self) -> None:
        """Release the store; writing after this is an error."""
        ...


@final
class MemoryStore:
    """A store in process memory: for tests, notebooks and replicas in one process."""

    __slots__ = ("_blocks", "_entries", "_snapshot")

    def __init__(self) -> None:
        self._entries: list[StoredEntry] = []
        self._blocks: list[StoredBlock] = []
        self._snapshot: Snapshot | None = None

    def write(
        self,
        entries: Sequence[StoredEntry],
        blocks: Sequence[SealedBlock],
        snapshot: Snapshot | None = None,
        part: SnapshotPart | None = None,
    ) -> None:
        """Append in memory; nothing can half-happen in one process.

        A snapshot's slices need no staging here: the finished snapshot holds
        its rows already, and is kept whole when it comes.
        """
        self._entries.extend(entries)
        self._blocks.extend(
            (block.header.height, block.header.encode(), block.signature) for block in blocks
        )
        if snapshot is not None:
            self._snapshot = snapshot

    def read_entries(self, start: int = 0) -> Iterator[StoredEntry]:
        """Entries from ``start`` on."""
        return iter(self._entries[start:])

    def read_blocks(self, start: int = 0) -> Iterator[StoredBlock]:
        """Blocks from ``start`` on."""
        return iter(self._blocks[start:])

    def latest_snapshot(self) -> Snapshot | None:
        """The last snapshot written."""
        return self._snapshot

    def entry_count(self) -> int:
        """How many entries are held."""
        return len(self._entries)

    def block_count(self) -> int:
        """How many blocks are held."""
        return len(self._blocks)

    def close(self) -> None:
        """Nothing to release."""
