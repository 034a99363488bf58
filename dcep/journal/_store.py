"""Where the journal lives: a small storage protocol and its in-memory form.

A store keeps three things: journal entries (body and hash, by number),
signed block headers (by height) and the latest snapshot.  The journal hands
it one :meth:`Store.write` per commit point; when ``write`` returns, what it
was given is as durable as the store can make it (for the in-memory store:
as durable as the process).  The SQLite store is in :mod:`dcep.journal._sqlite_store`;
a server database can implement the same protocol later without touching
the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, final

from dcep.core._snapshot import Snapshot
from dcep.journal._entries import JournalEntry, SealedBlock

__all__ = ["MemoryStore", "Store", "StoredBlock", "StoredEntry"]

#: (number, body, hash) of an entry as stored.
StoredEntry = tuple[int, bytes, bytes]
#: (height, header bytes, signature) of a block as stored.
StoredBlock = tuple[int, bytes, bytes]


class Store(Protocol):
    """What the journal needs from storage."""

    def write(
        self,
        entries: Sequence[JournalEntry],
        blocks: Sequence[SealedBlock],
        snapshot: Snapshot | None = None,
    ) -> None:
        """Append entries and blocks (and replace the snapshot) in one atomic step."""
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
        entries: Sequence[JournalEntry],
        blocks: Sequence[SealedBlock],
        snapshot: Snapshot | None = None,
    ) -> None:
        """Append in memory; nothing can half-happen in one process."""
        self._entries.extend((entry.number, entry.body, entry.hash) for entry in entries)
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
