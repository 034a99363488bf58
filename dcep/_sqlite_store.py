"""The journal in SQLite: the standard library's embedded database, in WAL mode.

One database file holds the entries, the signed block headers and the
latest snapshot (in tables of its own, row per wallet, bank, deposit,
sequence and receipt).  Every :meth:`SqliteStore.write` is one transaction;
with ``synchronous=FULL`` (the default) it is on disk when ``write``
returns, so a receipt handed out after it survives a crash or power loss.

The file is marked as dcep's (``PRAGMA application_id``) and versioned
(``PRAGMA user_version``); a file that is not dcep's, or is newer than this
code, is refused before anything is written to it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final, final

from dcep._errors import JournalError, Reason
from dcep._journal_records import Block, JournalEntry
from dcep._snapshot import LedgerSnapshot, Snapshot
from dcep._storage import StoredBlock, StoredEntry

__all__ = ["DEFAULT_NETWORK_ID", "FORMAT_VERSION", "SqliteStore"]

#: The network id of a ledger created without one (the same as the ledger's default).
DEFAULT_NETWORK_ID: Final = "dcep-sim"

#: "DCEP" in ASCII: marks the file as ours for `file` and for this code.
APPLICATION_ID: Final = 0x44434550
FORMAT_VERSION: Final = 1
_SQLITE_MAGIC: Final = b"SQLite format 3\x00"
_READ_CHUNK: Final = 4096
_WAL_HEADER_SIZE: Final = 32
_WAL_FRAME_HEADER_SIZE: Final = 24

_SCHEMA: Final = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (number INTEGER PRIMARY KEY, body BLOB NOT NULL, hash BLOB NOT NULL);
CREATE TABLE blocks (height INTEGER PRIMARY KEY, header BLOB NOT NULL, signature BLOB NOT NULL);
CREATE TABLE snapshot (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    block_height INTEGER NOT NULL, head_hash BLOB NOT NULL, last_block_hash BLOB NOT NULL,
    commitment BLOB NOT NULL, central_name TEXT, central_code TEXT, central_key BLOB,
    issued_fen INTEGER NOT NULL, redeemed_fen INTEGER NOT NULL,
    entry_count INTEGER NOT NULL, last_time_us INTEGER NOT NULL
);
CREATE TABLE snapshot_banks (
    key BLOB PRIMARY KEY, name TEXT NOT NULL, code TEXT NOT NULL,
    reserves_pledged_fen INTEGER NOT NULL, outstanding_fen INTEGER NOT NULL,
    vault_fen INTEGER NOT NULL, cash_fen INTEGER NOT NULL, paid_in_fen INTEGER NOT NULL,
    funded_from_deposits_fen INTEGER NOT NULL, defunded_to_deposits_fen INTEGER NOT NULL,
    wallet_count INTEGER NOT NULL, position INTEGER NOT NULL
);
CREATE TABLE snapshot_deposits (
    bank BLOB NOT NULL, account TEXT NOT NULL, balance_fen INTEGER NOT NULL,
    position INTEGER NOT NULL, PRIMARY KEY (bank, account)
);
CREATE TABLE snapshot_wallets (
    key BLOB PRIMARY KEY, category INTEGER NOT NULL, operator BLOB NOT NULL,
    linked_account TEXT NOT NULL, balance_fen INTEGER NOT NULL, day INTEGER NOT NULL,
    spent_today_fen INTEGER NOT NULL, year INTEGER NOT NULL,
    spent_this_year_fen INTEGER NOT NULL, position INTEGER NOT NULL
);
CREATE TABLE snapshot_sequences (signer BLOB PRIMARY KEY, last INTEGER NOT NULL,
    position INTEGER NOT NULL);
CREATE TABLE snapshot_receipts (
    signer BLOB NOT NULL, instruction_id TEXT NOT NULL, body_digest BLOB NOT NULL,
    entry_number INTEGER NOT NULL, kind INTEGER NOT NULL, accepted_at_us INTEGER NOT NULL,
    postings BLOB NOT NULL, PRIMARY KEY (signer, instruction_id)
);
CREATE TABLE snapshot_codes (code TEXT PRIMARY KEY, owner TEXT NOT NULL,
    position INTEGER NOT NULL);
CREATE TABLE snapshot_regulators (key BLOB PRIMARY KEY, name TEXT NOT NULL,
    position INTEGER NOT NULL);
CREATE TABLE snapshot_frozen (wallet BLOB PRIMARY KEY, regulator BLOB NOT NULL,
    position INTEGER NOT NULL);
CREATE TABLE snapshot_warrants (warrant BLOB PRIMARY KEY, wallet BLOB NOT NULL,
    answered INTEGER NOT NULL, position INTEGER NOT NULL);
"""
_SNAPSHOT_TABLES: Final = (
    "snapshot",
    "snapshot_banks",
    "snapshot_deposits",
    "snapshot_wallets",
    "snapshot_sequences",
    "snapshot_receipts",
    "snapshot_codes",
    "snapshot_regulators",
    "snapshot_frozen",
    "snapshot_warrants",
)


def _refuse(reason: Reason, path: Path, why: str) -> JournalError:
    return JournalError(reason, f"{path}: {why}")


def _check_file(path: Path) -> bool:
    """Whether ``path`` is an existing dcep database we can use; raise if it is not ours."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb") as handle:
        magic = handle.read(len(_SQLITE_MAGIC))
    if magic != _SQLITE_MAGIC:
        raise _refuse(Reason.STORE_NOT_DCEP, path, "not an SQLite database, so not dcep's")
    try:
        # Read-only, so that a file that is not ours is never touched; without a
        # write-ahead log beside it the file is complete, and "immutable" keeps
        # SQLite from creating -wal and -shm files next to someone else's file.
        has_wal = path.with_name(path.name + "-wal").exists()
        mode = "mode=ro" if has_wal else "mode=ro&immutable=1"
        probe = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
        try:
            application_id = probe.execute("PRAGMA application_id").fetchone()[0]
            version = probe.execute("PRAGMA user_version").fetchone()[0]
        finally:
            probe.close()
    except sqlite3.DatabaseError as error:
        raise _refuse(Reason.STORE_CORRUPT, path, f"unreadable: {error}") from None
    if application_id != APPLICATION_ID:
        raise _refuse(Reason.STORE_NOT_DCEP, path, "an SQLite database, but not a dcep ledger")
    if version > FORMAT_VERSION:
        raise _refuse(
            Reason.STORE_VERSION_UNSUPPORTED,
            path,
            f"format version {version}; this dcep reads up to {FORMAT_VERSION}",
        )
    return True


@final
class SqliteStore:
    """A :class:`~dcep._storage.Store` in one SQLite file.

    ``synchronous`` is SQLite's setting: ``"FULL"`` (default) survives power
    loss; ``"NORMAL"`` survives a process crash but may lose the last
    transactions on power loss, and is faster.
    """

    __slots__ = ("_connection", "_network_id", "_path", "torn_wal_bytes")

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        network_id: str | None = None,
        synchronous: str = "FULL",
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous is 'FULL' or 'NORMAL'")
        self._path = Path(path)
        existing = _check_file(self._path)
        #: Bytes at the end of the write-ahead log that do not make a whole
        #: frame: a write torn by a crash, which SQLite drops on opening.
        self.torn_wal_bytes = _torn_wal_bytes(self._path) if existing else 0
        try:
            self._connection = sqlite3.connect(self._path, isolation_level=None)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute(f"PRAGMA synchronous={synchronous}")
            if existing:
                stored = dict(self._connection.execute("SELECT key, value FROM meta").fetchall())
            else:
                self._create(network_id or DEFAULT_NETWORK_ID)
                stored = {"network_id": network_id or DEFAULT_NETWORK_ID}
        except sqlite3.DatabaseError as error:
            raise _refuse(Reason.STORE_CORRUPT, self._path, f"unreadable: {error}") from None
        self._network_id: str = stored.get("network_id", "")
        if network_id is not None and self._network_id != network_id:
            self._connection.close()
            raise _refuse(
                Reason.STORE_NOT_DCEP,
                self._path,
                f"the ledger of network {stored.get('network_id')!r}, not {network_id!r}",
            )

    def _create(self, network_id: str) -> None:
        # One transaction: the marks in the header and the tables appear together or not at all.
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(f"PRAGMA application_id={APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version={FORMAT_VERSION}")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                connection.execute(statement)
        connection.execute(
            "INSERT INTO meta VALUES ('format', 'dcep-ledger'), ('network_id', ?)", (network_id,)
        )
        connection.execute("COMMIT")

    def meta(self, key: str) -> str | None:
        """A setting recorded with the ledger (``network_id``, ``policy``)."""
        row = self._connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Record a setting, once: a setting a ledger was written under never changes."""
        self._connection.execute("INSERT INTO meta VALUES (?, ?)", (key, value))

    @property
    def network_id(self) -> str:
        """The network id the ledger in this file signs for."""
        return self._network_id

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def write(
        self,
        entries: Sequence[JournalEntry],
        blocks: Sequence[Block],
        snapshot: Snapshot | None = None,
    ) -> None:
        """Append entries and blocks, and replace the snapshot, in one transaction."""
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(
                "INSERT INTO entries VALUES (?, ?, ?)",
                [(entry.number, entry.body, entry.hash) for entry in entries],
            )
            connection.executemany(
                "INSERT INTO blocks VALUES (?, ?, ?)",
                [(b.header.height, b.header.encode(), b.signature) for b in blocks],
            )
            if snapshot is not None:
                self._write_snapshot(snapshot)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _write_snapshot(self, snapshot: Snapshot) -> None:
        connection = self._connection
        for table in _SNAPSHOT_TABLES:
            connection.execute(f"DELETE FROM {table}")
        state = snapshot.ledger
        central = state.central_bank or (None, None, None)
        connection.execute(
            "INSERT INTO snapshot VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                snapshot.block_height,
                snapshot.head_hash,
                snapshot.last_block_hash,
                snapshot.commitment,
                *central,
                state.issued_fen,
                state.redeemed_fen,
                state.entry_count,
                state.last_time_us,
            ),
        )
        _insert_rows(connection, "snapshot_banks", state.banks, 12)
        _insert_rows(connection, "snapshot_deposits", state.deposits, 4)
        _insert_rows(connection, "snapshot_wallets", state.wallets, 10)
        _insert_rows(connection, "snapshot_sequences", state.sequences, 3)
        connection.executemany(
            "INSERT INTO snapshot_receipts VALUES (?, ?, ?, ?, ?, ?, ?)",
            # Ids are up to 128 bits, wider than an SQLite INTEGER: stored as text.
            [(r[0], str(r[1]), *r[2:]) for r in state.receipts],
        )
        _insert_rows(connection, "snapshot_codes", state.codes, 3)
        _insert_rows(connection, "snapshot_regulators", state.regulators, 3)
        _insert_rows(connection, "snapshot_frozen", state.frozen, 3)
        _insert_rows(connection, "snapshot_warrants", state.warrants, 4)

    def read_entries(self, start: int = 0) -> Iterator[StoredEntry]:
        """Entries from number ``start`` on, in order."""
        cursor = self._connection.execute(
            "SELECT number, body, hash FROM entries WHERE number >= ? ORDER BY number", (start,)
        )
        return _guarded(cursor, self._path)

    def read_blocks(self, start: int = 0) -> Iterator[StoredBlock]:
        """Blocks from height ``start`` on, in order."""
        cursor = self._connection.execute(
            "SELECT height, header, signature FROM blocks WHERE height >= ? ORDER BY height",
            (start,),
        )
        return _guarded(cursor, self._path)

    def latest_snapshot(self) -> Snapshot | None:
        """The snapshot stored last, rebuilt from its tables."""
        connection = self._connection
        try:
            row = connection.execute("SELECT * FROM snapshot WHERE id = 1").fetchone()
            if row is None:
                return None
            (_, height, head, last_block, commitment, c_name, c_code, c_key, issued, redeemed,
             entry_count, last_time_us) = row  # fmt: skip

            def rows(table: str) -> list[tuple[object, ...]]:
                query = f"SELECT * FROM {table} ORDER BY position"
                return [tuple(r[:-1]) for r in connection.execute(query)]

            receipts = [
                (r[0], int(r[1]), *r[2:])
                for r in connection.execute(
                    "SELECT * FROM snapshot_receipts ORDER BY entry_number"
                )
            ]
        except sqlite3.DatabaseError as error:
            raise _refuse(
                Reason.STORE_CORRUPT, self._path, f"snapshot unreadable: {error}"
            ) from None
        ledger = LedgerSnapshot(
            central_bank=(c_name, c_code, c_key) if c_key is not None else None,
            banks=tuple(rows("snapshot_banks")),  # type: ignore[arg-type]
            deposits=tuple(rows("snapshot_deposits")),  # type: ignore[arg-type]
            wallets=tuple(rows("snapshot_wallets")),  # type: ignore[arg-type]
            sequences=tuple(rows("snapshot_sequences")),  # type: ignore[arg-type]
            receipts=tuple(receipts),
            codes=tuple(rows("snapshot_codes")),  # type: ignore[arg-type]
            regulators=tuple(rows("snapshot_regulators")),  # type: ignore[arg-type]
            frozen=tuple(rows("snapshot_frozen")),  # type: ignore[arg-type]
            warrants=tuple(rows("snapshot_warrants")),  # type: ignore[arg-type]
            issued_fen=issued,
            redeemed_fen=redeemed,
            entry_count=entry_count,
            last_time_us=last_time_us,
        )
        return Snapshot(ledger, height, head, last_block, commitment)

    def entry_count(self) -> int:
        """How many entries are stored."""
        return int(self._connection.execute("SELECT count(*) FROM entries").fetchone()[0])

    def block_count(self) -> int:
        """How many blocks are stored."""
        return int(self._connection.execute("SELECT count(*) FROM blocks").fetchone()[0])

    def close(self) -> None:
        """Close the connection (SQLite checkpoints the WAL)."""
        self._connection.close()


def _torn_wal_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    try:
        size = wal.stat().st_size
        with wal.open("rb") as handle:
            header = handle.read(_WAL_HEADER_SIZE)
    except OSError:
        return 0
    if size <= _WAL_HEADER_SIZE or len(header) < _WAL_HEADER_SIZE:
        return max(size, 0) if 0 < size < _WAL_HEADER_SIZE else 0
    page_size = int.from_bytes(header[8:12], "big")
    if page_size < 512:
        return 0
    return (size - _WAL_HEADER_SIZE) % (_WAL_FRAME_HEADER_SIZE + page_size)


def _insert_rows(
    connection: sqlite3.Connection, table: str, rows: Sequence[tuple[object, ...]], width: int
) -> None:
    # Each row gets its position, so that restoring keeps insertion order.
    marks = ", ".join("?" * width)
    connection.executemany(
        f"INSERT INTO {table} VALUES ({marks})",
        [(*row, position) for position, row in enumerate(rows)],
    )


def _guarded(cursor: sqlite3.Cursor, path: Path) -> Iterator[tuple[int, bytes, bytes]]:
    # Rows in chunks; a read error is the store's fault, reported as such; an
    # abandoned iterator closes its cursor rather than waiting for the collector.
    try:
        while True:
            try:
                rows = cursor.fetchmany(_READ_CHUNK)
            except sqlite3.DatabaseError as error:
                raise _refuse(Reason.STORE_CORRUPT, path, f"unreadable: {error}") from None
            if not rows:
                return
            yield from rows
    finally:
        with contextlib.suppress(sqlite3.Error):
            cursor.close()
