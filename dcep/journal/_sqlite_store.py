"""The journal in SQLite: the standard library's embedded database, in WAL mode.

One database file holds the entries, the signed block headers and the
latest snapshot (in tables of its own, row per wallet, bank, deposit,
sequence and receipt).  Every :meth:`SqliteStore.write` is one transaction;
with ``synchronous=FULL`` (the default) it is on disk when ``write``
returns, so a receipt handed out after it survives a crash or power loss.

A periodic snapshot arrives in slices (:class:`~dcep.journal.SnapshotPart`):
they go to ``staging_snapshot_*`` tables, which nothing reads, and the write
that finishes the snapshot renames them over the ``snapshot_*`` tables in
its transaction (a rename costs a schema change, not a copy).  The replaced
tables are renamed ``retired_N_*`` and emptied a bounded number of rows at
each write after (dropping a table of a million rows at once costs about
half a second), then dropped.  A crash at any point leaves the last
finished snapshot in the ``snapshot_*`` tables.  A snapshot written whole
(``Journal.snapshot``, at close) drops whatever is staged or retired.

The file is marked as dcep's (``PRAGMA application_id``) and versioned
(``PRAGMA user_version``); a file that is not dcep's, or is newer than this
code or from an older format, is refused before anything is written to it.

Over 400 lines, knowingly: the schema, its version checks, the write
transaction and the snapshot tables are one contract with the file format;
split apart they would each restate the format's version.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final, final

from dcep.core._snapshot import LedgerSnapshot, Snapshot, state_rows
from dcep.errors import DcepError, InvalidFieldError, JournalError, Reason
from dcep.journal._entries import SealedBlock
from dcep.journal._inserts import insert_many
from dcep.journal._store import SnapshotPart, StoredBlock, StoredEntry
from dcep.values._crypto import DEFAULT_NETWORK_ID
from dcep.values._policy import Policy

__all__ = ["FORMAT_VERSION", "SqliteStore", "read_identity"]

#: "DCEP" in ASCII: marks the file as ours for `file` and for this code.
APPLICATION_ID: Final = 0x44434550
FORMAT_VERSION: Final = 4
_SQLITE_MAGIC: Final = b"SQLite format 3\x00"
#: The page size of a new file (SQLite's default is 4,096).
_PAGE_SIZE: Final = 16384
_READ_CHUNK: Final = 4096
#: Bytes of write-ahead log after which a commit copies it into the file
#: (SQLite's automatic checkpoint, and its fsync, in the committing batch):
#: SQLite's default of 1,000 pages, in 4 KiB pages.  Counted in pages, the
#: default would be 16 MiB in 16 KiB pages, and the batch that met it paid
#: 40 to 70 ms more at a million wallets; four times as often at a quarter of
#: the size, no batch pays much.
_CHECKPOINT_BYTES: Final = 4 * 1024 * 1024
_WAL_HEADER_SIZE: Final = 32
_WAL_FRAME_HEADER_SIZE: Final = 24
_WAL_MAGIC_LITTLE: Final = 0x377F0682
_WAL_MAGIC_BIG: Final = 0x377F0683

_SCHEMA: Final = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (number INTEGER PRIMARY KEY, body BLOB NOT NULL, hash BLOB NOT NULL);
CREATE TABLE blocks (height INTEGER PRIMARY KEY, header BLOB NOT NULL, signature BLOB NOT NULL);
CREATE TABLE snapshot (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    block_height INTEGER NOT NULL, head_hash BLOB NOT NULL, last_block_hash BLOB NOT NULL,
    certificate BLOB NOT NULL, central_name TEXT, central_code TEXT, central_key BLOB,
    issued_fen INTEGER NOT NULL, redeemed_fen INTEGER NOT NULL,
    entry_count INTEGER NOT NULL, last_time_us INTEGER NOT NULL
);
CREATE TABLE snapshot_banks (
    key BLOB NOT NULL, name TEXT NOT NULL, code TEXT NOT NULL,
    reserves_pledged_fen INTEGER NOT NULL, outstanding_fen INTEGER NOT NULL,
    vault_fen INTEGER NOT NULL, cash_fen INTEGER NOT NULL, paid_in_fen INTEGER NOT NULL,
    funded_from_deposits_fen INTEGER NOT NULL, defunded_to_deposits_fen INTEGER NOT NULL,
    wallet_count INTEGER NOT NULL, position INTEGER PRIMARY KEY
);
CREATE TABLE snapshot_deposits (
    bank BLOB NOT NULL, account TEXT NOT NULL, balance_fen INTEGER NOT NULL,
    position INTEGER PRIMARY KEY
);
CREATE TABLE snapshot_wallets (
    address BLOB NOT NULL, category INTEGER NOT NULL, operator BLOB NOT NULL,
    linked_account TEXT NOT NULL, balance_fen INTEGER NOT NULL, day INTEGER NOT NULL,
    spent_today_fen INTEGER NOT NULL, year INTEGER NOT NULL,
    spent_this_year_fen INTEGER NOT NULL, sequence INTEGER NOT NULL,
    position INTEGER PRIMARY KEY
);
CREATE TABLE snapshot_sequences (signer BLOB NOT NULL, last INTEGER NOT NULL,
    position INTEGER PRIMARY KEY);
CREATE TABLE snapshot_receipts (
    signer BLOB NOT NULL, instruction_id TEXT NOT NULL, body_digest BLOB NOT NULL,
    entry_number INTEGER PRIMARY KEY, kind INTEGER NOT NULL, accepted_at_us INTEGER NOT NULL,
    postings BLOB NOT NULL
);
CREATE TABLE snapshot_codes (code TEXT NOT NULL, owner TEXT NOT NULL,
    position INTEGER PRIMARY KEY);
CREATE TABLE snapshot_regulators (key BLOB NOT NULL, name TEXT NOT NULL,
    position INTEGER PRIMARY KEY);
CREATE TABLE snapshot_frozen (wallet BLOB NOT NULL, regulator BLOB NOT NULL,
    position INTEGER PRIMARY KEY);
CREATE TABLE snapshot_warrants (warrant BLOB NOT NULL, wallet BLOB NOT NULL,
    answered INTEGER NOT NULL, position INTEGER PRIMARY KEY);
"""
#: Snapshot tables that exist only once a snapshot has rows for them, so that a
#: database that never held a sub-wallet or closed a wallet keeps the schema it
#: always had (tests/test_format_stability.py compares whole dumps).
_LATER_SNAPSHOT_TABLES: Final = {
    "snapshot_sub_wallets": (
        "CREATE TABLE IF NOT EXISTS snapshot_sub_wallets (wallet BLOB NOT NULL, "
        "parent BLOB NOT NULL, balance_cap INTEGER NOT NULL, "
        "single_payment_cap INTEGER NOT NULL, daily_cap INTEGER NOT NULL, "
        "annual_cap INTEGER NOT NULL, position INTEGER PRIMARY KEY)"
    ),
    "snapshot_closed": (
        "CREATE TABLE IF NOT EXISTS snapshot_closed (wallet BLOB NOT NULL, "
        "position INTEGER PRIMARY KEY)"
    ),
    "snapshot_pending": (
        "CREATE TABLE IF NOT EXISTS snapshot_pending (payment BLOB NOT NULL, "
        "payee BLOB NOT NULL, amount INTEGER NOT NULL, expires_at_us INTEGER NOT NULL, "
        "conditions BLOB NOT NULL, memo TEXT NOT NULL, created_entry INTEGER NOT NULL, "
        "created_at_us INTEGER NOT NULL, position INTEGER PRIMARY KEY)"
    ),
    "snapshot_pending_resolved": (
        "CREATE TABLE IF NOT EXISTS snapshot_pending_resolved (payment BLOB NOT NULL, "
        "outcome INTEGER NOT NULL, position INTEGER PRIMARY KEY)"
    ),
    "snapshot_vouchers": (
        "CREATE TABLE IF NOT EXISTS snapshot_vouchers (voucher BLOB NOT NULL, "
        "holder BLOB NOT NULL, amount INTEGER NOT NULL, expires_at_us INTEGER NOT NULL, "
        "regions TEXT NOT NULL, merchants BLOB NOT NULL, memo TEXT NOT NULL, "
        "created_entry INTEGER NOT NULL, created_at_us INTEGER NOT NULL, "
        "position INTEGER PRIMARY KEY)"
    ),
    # Interest in the 2026 reserve mode (issue #24).
    "snapshot_interest_wallets": (
        "CREATE TABLE IF NOT EXISTS snapshot_interest_wallets (wallet BLOB NOT NULL, "
        "from_us INTEGER NOT NULL, carry INTEGER NOT NULL, position INTEGER PRIMARY KEY)"
    ),
    "snapshot_interest_banks": (
        "CREATE TABLE IF NOT EXISTS snapshot_interest_banks (bank BLOB NOT NULL, "
        "paid INTEGER NOT NULL, position INTEGER PRIMARY KEY)"
    ),
    # Hardware wallets and their settled counters (issue #24, part 5).
    "snapshot_devices": (
        "CREATE TABLE IF NOT EXISTS snapshot_devices (device BLOB NOT NULL, "
        "wallet BLOB NOT NULL, allowance INTEGER NOT NULL, loaded INTEGER NOT NULL, "
        "unloaded INTEGER NOT NULL, paid INTEGER NOT NULL, lost INTEGER NOT NULL, "
        "blocked INTEGER NOT NULL, counter_limit INTEGER NOT NULL, "
        "position INTEGER PRIMARY KEY)"
    ),
    "snapshot_settled": (
        "CREATE TABLE IF NOT EXISTS snapshot_settled (device BLOB NOT NULL, "
        "counter INTEGER NOT NULL, digests BLOB NOT NULL, position INTEGER PRIMARY KEY)"
    ),
    # Corporate wallets and their daily sweeps (issue #24).
    "snapshot_corporate": (
        "CREATE TABLE IF NOT EXISTS snapshot_corporate (wallet BLOB NOT NULL, "
        "position INTEGER PRIMARY KEY)"
    ),
    "snapshot_daily_sweeps": (
        "CREATE TABLE IF NOT EXISTS snapshot_daily_sweeps (wallet BLOB NOT NULL, "
        "at_minute INTEGER NOT NULL, keep INTEGER NOT NULL, last_day INTEGER NOT NULL, "
        "position INTEGER PRIMARY KEY)"
    ),
}
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
#: Every snapshot table of rows (all but the header), in a fixed order; each
#: is ``snapshot_`` and the name of the ``LedgerSnapshot`` field it holds.
_ROW_TABLES: Final = (*_SNAPSHOT_TABLES[1:], *_LATER_SNAPSHOT_TABLES)
_ROW_TABLE_SET: Final = frozenset(_ROW_TABLES)
#: Where the slices of a snapshot in progress wait: the row table's name after it.
_STAGING: Final = "staging_"
#: Replaced snapshot tables, emptied in steps then dropped: ``retired_N_`` and the name.
_RETIRED: Final = "retired_"
#: Rows of retired tables deleted at each write: a few milliseconds.
_RETIRED_ROWS_PER_WRITE: Final = 16384


def _refuse(reason: Reason, path: Path, why: str) -> JournalError:
    return JournalError(reason, f"{path}: {why}")


def _mistyped(path: Path, what: str, row: tuple[object, ...]) -> JournalError:
    types = ", ".join(type(value).__name__ for value in row)
    where = {what: row[0]} if type(row[0]) is int else {}
    return JournalError(
        Reason.STORE_CORRUPT,
        f"{path}: a stored {what} holds ({types}), not (int, bytes, bytes)",
        **where,
    )


def _check_not_cut_short(path: Path) -> None:
    """Refuse a database file shorter than its own header says (a torn copy or write).

    SQLite reads missing pages as zeros without complaint, so this is checked
    here: the size must be whole pages, and at least the page count the
    header records when that count is valid (file format, section 1.3).
    """
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > _WAL_HEADER_SIZE:
        # A crash during a checkpoint can leave the header's new page count
        # written before all the pages: the write-ahead log still holds them,
        # and SQLite reads them from there.  Only a file without a log must be whole.
        return
    with path.open("rb") as handle:
        header = handle.read(100)
    size = path.stat().st_size
    if len(header) < 100:
        raise _refuse(Reason.STORE_CORRUPT, path, "cut short inside its header")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    count_is_valid = header[24:28] == header[92:96] and pages > 0
    if page_size < 512 or size % page_size or (count_is_valid and size < pages * page_size):
        raise _refuse(
            Reason.STORE_CORRUPT,
            path,
            f"{size} bytes, but its header describes {pages} pages of {page_size} bytes: "
            "the file was cut short",
        )


def read_identity(path: Path) -> tuple[int, int, int]:
    """A SQLite file's application id, user version and table count, without touching it.

    Read-only, so that a file that is not ours is never written; without a
    write-ahead log beside it the file is complete, and "immutable" keeps
    SQLite from creating -wal and -shm files next to someone else's file.
    Raises what ``sqlite3`` raises for a file it cannot read.
    """
    has_wal = path.with_name(path.name + "-wal").exists()
    mode = "mode=ro" if has_wal else "mode=ro&immutable=1"
    probe = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
    try:
        application_id: int = probe.execute("PRAGMA application_id").fetchone()[0]
        version: int = probe.execute("PRAGMA user_version").fetchone()[0]
        tables: int = probe.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    finally:
        probe.close()
    return application_id, version, tables


def _check_file(path: Path) -> bool:
    """Whether ``path`` is an existing dcep database we can use; raise if it is not ours."""
    if path.is_dir():
        raise _refuse(Reason.STORE_NOT_DCEP, path, "a directory, not a database file")
    if not path.exists() or path.stat().st_size == 0:
        return False
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(_SQLITE_MAGIC))
    except OSError as error:
        raise _refuse(Reason.STORE_CORRUPT, path, f"unreadable: {error}") from None
    if magic != _SQLITE_MAGIC:
        raise _refuse(Reason.STORE_NOT_DCEP, path, "not an SQLite database, so not dcep's")
    _check_not_cut_short(path)
    try:
        application_id, version, tables = read_identity(path)
    except (sqlite3.DatabaseError, UnicodeDecodeError) as error:
        # A corrupted schema can fail as text before SQLite reports it.
        raise _refuse(Reason.STORE_CORRUPT, path, f"unreadable: {error}") from None
    if application_id == 0 and version == 0 and tables == 0:
        # Nothing in it: a database whose creation a crash cut short (switching
        # to WAL writes the header before the schema's transaction commits).
        return False
    if application_id != APPLICATION_ID:
        raise _refuse(Reason.STORE_NOT_DCEP, path, "an SQLite database, but not a dcep ledger")
    if version != FORMAT_VERSION:
        # Formats 1 and 2 committed to balances with LtHash (SHAKE-256, then
        # ChaCha20 leaves) and signed no state root with their snapshots: their
        # blocks would not verify here, so they are refused like a newer one.
        # Format 3's snapshots kept each wallet's public key where 4 keeps its
        # address (and its last sequence number, in a table of its own in 3),
        # so its signed state roots are of other rows.
        raise _refuse(
            Reason.STORE_VERSION_UNSUPPORTED,
            path,
            f"format version {version}; this dcep reads format {FORMAT_VERSION} only",
        )
    return True


@final
class SqliteStore:
    """A :class:`~dcep.journal._store.Store` in one SQLite file.

    ``synchronous`` is SQLite's setting: ``"FULL"`` (default) survives power
    loss; ``"NORMAL"`` survives a process crash but may lose the last
    transactions on power loss, and is faster.  ``create=False`` refuses a
    missing or empty file instead of starting a ledger in it (for readers
    such as ``dcep verify``).
    """

    __slots__ = (
        "_connection",
        "_network_id",
        "_path",
        "_retired",
        "_retired_serial",
        "_staged",
        "torn_wal_bytes",
    )

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        network_id: str | None = None,
        synchronous: str = "FULL",
        create: bool = True,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise InvalidFieldError(
                Reason.FIELD_INVALID, "synchronous is 'FULL' or 'NORMAL'", field="synchronous"
            )
        self._path = Path(path)
        existing = _check_file(self._path)
        if not existing and not create:
            raise _refuse(Reason.STORE_NOT_DCEP, self._path, "empty or missing, not a ledger")
        if not existing and not self._path.parent.is_dir():
            # SQLite would say "unable to open database file": name the real cause.
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"{self._path.parent}: no such directory for a new ledger",
                field="path",
            )
        #: Bytes at the end of the write-ahead log that do not make a whole
        #: frame: a write torn by a crash, which SQLite drops on opening.
        self.torn_wal_bytes = _torn_wal_bytes(self._path) if existing else 0
        connection: sqlite3.Connection | None = None
        try:
            connection = self._connection = sqlite3.connect(self._path, isolation_level=None)
            if not existing:
                # Set before the file has a page: appending a batch's entries
                # costs about 15% less CPU in 16 KiB pages than in 4 KiB ones.
                connection.execute(f"PRAGMA page_size={_PAGE_SIZE}")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA synchronous={synchronous}")
            page_size: int = connection.execute("PRAGMA page_size").fetchone()[0]
            connection.execute(
                f"PRAGMA wal_autocheckpoint={max(1, _CHECKPOINT_BYTES // page_size)}"
            )
            if existing:
                stored = dict(
                    connection.execute(
                        "SELECT key, value FROM meta WHERE key = 'network_id'"
                    ).fetchall()
                )
            else:
                self._create(network_id or DEFAULT_NETWORK_ID)
                stored = {"network_id": network_id or DEFAULT_NETWORK_ID}
            if type(stored.get("network_id")) is not str:
                raise _refuse(Reason.STORE_CORRUPT, self._path, "no network id is recorded")
        except (sqlite3.DatabaseError, UnicodeDecodeError, JournalError) as error:
            # Closed at once: a refused file keeps no -wal or -shm beside it.
            if connection is not None:
                connection.close()
            if isinstance(error, JournalError):
                raise
            raise _refuse(Reason.STORE_CORRUPT, self._path, f"unreadable: {error}") from None
        self._network_id: str = stored["network_id"]
        if network_id is not None and self._network_id != network_id:
            self._connection.close()
            raise _refuse(
                Reason.STORE_NOT_DCEP,
                self._path,
                f"the ledger of network {stored.get('network_id')!r}, not {network_id!r}",
            )
        #: Row tables with a staging table (slices of a snapshot in progress).
        self._staged: set[str] = set()
        #: Retired tables still to empty and drop, oldest first.
        self._retired: list[str] = []
        self._retired_serial = 0
        try:
            self._load_housekeeping()
        except sqlite3.DatabaseError as error:
            self._connection.close()
            raise _refuse(Reason.STORE_CORRUPT, self._path, f"unreadable: {error}") from None

    def _load_housekeeping(self) -> None:
        # What a previous process left staged or retired, as the file says.
        names = [
            str(name)
            for (name,) in self._connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND (name LIKE 'staging!_%' ESCAPE '!' OR name LIKE 'retired!_%' ESCAPE '!')"
            )
        ]
        self._staged = {
            name[len(_STAGING) :]
            for name in names
            if name.startswith(_STAGING) and name[len(_STAGING) :] in _ROW_TABLE_SET
        }
        retired = sorted(
            (int(serial), name)
            for name in names
            if name.startswith(_RETIRED)
            and (serial := name[len(_RETIRED) :].partition("_")[0]).isdigit()
        )
        self._retired = [name for _, name in retired]
        self._retired_serial = retired[-1][0] + 1 if retired else 0

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
        try:
            row = self._connection.execute(
                "SELECT value FROM meta WHERE key = ?", (key,)
            ).fetchone()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as error:
            raise _refuse(
                Reason.STORE_CORRUPT, self._path, f"the {key} setting is unreadable: {error}"
            ) from None
        if row is not None and type(row[0]) is not str:
            raise _refuse(
                Reason.STORE_CORRUPT,
                self._path,
                f"the {key} setting is a {type(row[0]).__name__}, not text",
            )
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Record a setting, once: a setting a ledger was written under never changes."""
        try:
            self._connection.execute("INSERT INTO meta VALUES (?, ?)", (key, value))
        except sqlite3.DatabaseError as error:
            raise _refuse(Reason.STORE_CORRUPT, self._path, f"unwritable: {error}") from None

    def is_blank(self) -> bool:
        """Whether nothing was ever stored: no entry, block or snapshot."""
        return (
            self._count("entries") == 0
            and self._count("blocks") == 0
            and (self._count("snapshot") == 0)
        )

    def stored_policy(self) -> Policy | None:
        """The policy the ledger was written under; ``None`` only in a blank store.

        A ledger that holds anything was written under a policy, so a missing
        or unreadable policy line is ``STORE_CORRUPT``, never the default.
        """
        text = self.meta("policy")
        if text is None:
            if self.is_blank():
                return None
            raise _refuse(
                Reason.STORE_CORRUPT,
                self._path,
                "no policy is recorded, yet the ledger holds entries: the setting was removed",
            )
        try:
            return Policy.from_text(text)
        except DcepError as error:
            raise _refuse(
                Reason.STORE_CORRUPT, self._path, f"the recorded policy is unreadable: {error}"
            ) from None

    def quick_check(self) -> None:
        """Run SQLite's ``PRAGMA quick_check``; ``STORE_CORRUPT`` with its first finding.

        It reads every page of the file (b-tree structure, record formats,
        NOT NULL constraints; not index contents), so a damaged page is
        refused up front instead of failing some query later.
        """
        try:
            findings = [str(row[0]) for row in self._connection.execute("PRAGMA quick_check(5)")]
        except (sqlite3.DatabaseError, UnicodeDecodeError) as error:
            raise _refuse(Reason.STORE_CORRUPT, self._path, f"unreadable: {error}") from None
        if findings != ["ok"]:
            raise _refuse(
                Reason.STORE_CORRUPT,
                self._path,
                "SQLite's quick_check finds the file damaged: " + "; ".join(findings),
            )

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
        entries: Sequence[StoredEntry],
        blocks: Sequence[SealedBlock],
        snapshot: Snapshot | None = None,
        part: SnapshotPart | None = None,
    ) -> None:
        """Append entries and blocks, and replace the snapshot, in one transaction.

        ``part`` is staged; with ``snapshot`` too, the staged rows become the
        latest snapshot (see :class:`~dcep.journal.SnapshotPart`).  Each write
        also empties up to 16,384 rows of tables that older snapshots left.
        """
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            insert_many(connection, "entries", entries)
            connection.executemany(
                "INSERT INTO blocks VALUES (?, ?, ?)",
                [(b.header.height, b.header.encode(), b.signature) for b in blocks],
            )
            if part is not None:
                self._stage(part)
                if snapshot is not None:
                    self._publish_staged(snapshot)
            elif snapshot is not None:
                self._write_snapshot(snapshot)
            if self._retired:
                self._empty_retired()
        except BaseException:
            connection.execute("ROLLBACK")
            # What was staged or retired is what the file says again.
            with contextlib.suppress(sqlite3.Error):
                self._load_housekeeping()
            raise
        connection.execute("COMMIT")

    def _retire(self, table: str) -> None:
        # Out of the way at the cost of a schema change; emptied and dropped later.
        name = f"{_RETIRED}{self._retired_serial}_{table}"
        self._retired_serial += 1
        self._connection.execute(f'ALTER TABLE "{table}" RENAME TO "{name}"')
        self._retired.append(name)

    def _empty_retired(self) -> None:
        connection = self._connection
        budget = _RETIRED_ROWS_PER_WRITE
        while self._retired and budget > 0:
            name = self._retired[0]
            deleted = connection.execute(
                f'DELETE FROM "{name}" WHERE rowid IN '
                f'(SELECT rowid FROM "{name}" ORDER BY rowid LIMIT ?)',
                (budget,),
            ).rowcount
            budget -= deleted
            if budget > 0:  # fewer than asked for: the table is empty
                connection.execute(f'DROP TABLE "{name}"')
                self._retired.pop(0)

    def _stage(self, part: SnapshotPart) -> None:
        connection = self._connection
        if part.first:
            # A snapshot given up (or cut short by a crash) left these behind.
            for table in sorted(self._staged):
                self._retire(_STAGING + table)
            self._staged = set()
            # Every table the new snapshot replaces gets a staging table, rows or not.
            existing = self._later_tables()
            for table in _ROW_TABLES:
                if table in _SNAPSHOT_TABLES or table in existing:
                    self._create_staging(table)
        by_table: dict[str, list[tuple[object, ...]]] = {}
        for field, position, row in part.rows:
            table = "snapshot_" + field
            if table not in _ROW_TABLE_SET:
                continue  # a header value (a count, the central bank): written when finished
            rows = by_table.get(table)
            if rows is None:
                rows = by_table[table] = []
                if table not in self._staged:
                    self._create_staging(table)
            if table == "snapshot_receipts":
                # Ids are up to 128 bits, wider than an SQLite INTEGER: stored as text.
                rows.append((row[0], str(row[1]), *row[2:]))
            else:
                rows.append((*row, position))
        for table, rows in by_table.items():
            insert_many(connection, f'"{_STAGING}{table}"', rows)

    def _create_staging(self, table: str) -> None:
        # The row table's own definition (from the file, or the one it will
        # have), under the staging name.
        found = self._connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        definition = str(found[0]) if found is not None else _LATER_SNAPSHOT_TABLES[table]
        columns = definition[definition.index("(") :]
        self._connection.execute(f'CREATE TABLE "{_STAGING}{table}" {columns}')
        self._staged.add(table)

    def _publish_staged(self, snapshot: Snapshot) -> None:
        # Every staged table replaces its row table, in this transaction.
        connection = self._connection
        existing = self._later_tables()
        for table in _ROW_TABLES:
            if table not in self._staged:
                continue
            if table in _SNAPSHOT_TABLES or table in existing:
                self._retire(table)
            connection.execute(f'ALTER TABLE "{_STAGING}{table}" RENAME TO "{table}"')
        self._staged = set()
        connection.execute("DELETE FROM snapshot")
        self._write_header(snapshot)

    def _write_snapshot(self, snapshot: Snapshot) -> None:
        # Rows are keyed by their position (SQLite's rowid), written in order:
        # appends, not inserts into an index of random keys.  Uniqueness is the
        # ledger's own, checked again when a snapshot is restored.
        connection = self._connection
        # A snapshot in progress, given up for this one, and tables not yet
        # emptied: dropped at once, since this write stops for a whole state anyway.
        for name in [*(_STAGING + table for table in sorted(self._staged)), *self._retired]:
            connection.execute(f'DROP TABLE "{name}"')
        self._staged = set()
        self._retired = []
        existing = self._later_tables()
        for table in (*_SNAPSHOT_TABLES, *sorted(existing)):
            connection.execute(f"DELETE FROM {table}")
        self._write_header(snapshot)
        # Table by table, as the rows come (never all of them in a list);
        # a later table is created only once a snapshot has rows for it.
        for field, grouped in itertools.groupby(state_rows(snapshot.ledger), key=lambda r: r[0]):
            table = "snapshot_" + field
            if table not in _ROW_TABLE_SET:
                continue  # a header value: written above
            rows = (row for _, row in grouped)
            first = next(rows)
            if table in _LATER_SNAPSHOT_TABLES:
                connection.execute(_LATER_SNAPSHOT_TABLES[table])
            values = itertools.chain((first,), rows)
            if table == "snapshot_receipts":
                connection.executemany(
                    "INSERT INTO snapshot_receipts VALUES (?, ?, ?, ?, ?, ?, ?)",
                    ((r[0], str(r[1]), *r[2:]) for r in values),
                )
            else:
                _insert_rows(connection, table, values, len(first) + 1)

    def _write_header(self, snapshot: Snapshot) -> None:
        state = snapshot.ledger
        central = state.central_bank or (None, None, None)
        self._connection.execute(
            "INSERT INTO snapshot VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                snapshot.block_height,
                snapshot.head_hash,
                snapshot.last_block_hash,
                snapshot.certificate,
                *central,
                state.issued_fen,
                state.redeemed_fen,
                state.entry_count,
                state.last_time_us,
            ),
        )

    def read_entries(self, start: int = 0) -> Iterator[StoredEntry]:
        """Entries from number ``start`` on, in order."""
        return _guarded(
            self._connection,
            "SELECT number, body, hash FROM entries WHERE number >= ? ORDER BY number",
            start,
            self._path,
            "entry",
        )

    def read_blocks(self, start: int = 0) -> Iterator[StoredBlock]:
        """Blocks from height ``start`` on, in order."""
        return _guarded(
            self._connection,
            "SELECT height, header, signature FROM blocks WHERE height >= ? ORDER BY height",
            start,
            self._path,
            "block",
        )

    def latest_snapshot(self) -> Snapshot | None:
        """The snapshot stored last, rebuilt from its tables.

        Every value is checked for its type and range on the way in, so a
        damaged snapshot is refused as ``STORE_CORRUPT`` rather than loaded.
        """
        try:
            return self._read_snapshot()
        except (sqlite3.DatabaseError, ValueError, TypeError) as error:
            raise _refuse(
                Reason.STORE_CORRUPT, self._path, f"snapshot unreadable: {error}"
            ) from None

    def _read_snapshot(self) -> Snapshot | None:
        connection = self._connection
        row = connection.execute("SELECT * FROM snapshot WHERE id = 1").fetchone()
        if row is None:
            return None
        (_, height, head, last_block, certificate, c_name, c_code, c_key, issued, redeemed,
         entry_count, last_time_us) = row  # fmt: skip
        _typed(
            (height, head, last_block, certificate, issued, redeemed, entry_count, last_time_us),
            "ibbbiiii",
        )
        if c_key is not None:
            central = _typed((c_name, c_code, c_key), "ssb")
        elif c_name is None and c_code is None:
            central = None
        else:
            raise ValueError("a central bank row is half empty")
        if min(height, issued, redeemed, entry_count, last_time_us) < 0:
            raise ValueError("a count in the snapshot is negative")
        if len(head) != 32 or len(last_block) != 32:
            raise ValueError("a hash in the snapshot is not 32 bytes")

        def rows(table: str, types: str) -> tuple[Any, ...]:
            return tuple(_typed_rows(connection, table, types))

        receipts = tuple(
            (signer, int(instruction_id), *rest)
            for signer, instruction_id, *rest in _typed_rows(
                connection, "snapshot_receipts", "bsbiiib", order="entry_number"
            )
        )
        later = self._later_tables()
        ledger = LedgerSnapshot(
            sub_wallets=(
                rows("snapshot_sub_wallets", "bbiiii") if "snapshot_sub_wallets" in later else ()
            ),
            closed=(
                tuple(row[0] for row in rows("snapshot_closed", "b"))
                if "snapshot_closed" in later
                else ()
            ),
            pending=(rows("snapshot_pending", "bbiibsii") if "snapshot_pending" in later else ()),
            pending_resolved=(
                rows("snapshot_pending_resolved", "bi")
                if "snapshot_pending_resolved" in later
                else ()
            ),
            vouchers=(
                rows("snapshot_vouchers", "bbiisbsii") if "snapshot_vouchers" in later else ()
            ),
            interest_wallets=(
                rows("snapshot_interest_wallets", "bii")
                if "snapshot_interest_wallets" in later
                else ()
            ),
            interest_banks=(
                rows("snapshot_interest_banks", "bi") if "snapshot_interest_banks" in later else ()
            ),
            devices=(rows("snapshot_devices", "bbiiiiiii") if "snapshot_devices" in later else ()),
            settled=rows("snapshot_settled", "bib") if "snapshot_settled" in later else (),
            corporate=(
                tuple(row[0] for row in rows("snapshot_corporate", "b"))
                if "snapshot_corporate" in later
                else ()
            ),
            daily_sweeps=(
                rows("snapshot_daily_sweeps", "biii") if "snapshot_daily_sweeps" in later else ()
            ),
            central_bank=central,
            banks=rows("snapshot_banks", "bssiiiiiiii"),
            deposits=rows("snapshot_deposits", "bsi"),
            wallets=rows("snapshot_wallets", "bibsiiiiii"),
            sequences=rows("snapshot_sequences", "bi"),
            receipts=receipts,
            codes=rows("snapshot_codes", "ss"),
            regulators=rows("snapshot_regulators", "bs"),
            frozen=rows("snapshot_frozen", "bb"),
            warrants=rows("snapshot_warrants", "bbi"),
            issued_fen=issued,
            redeemed_fen=redeemed,
            entry_count=entry_count,
            last_time_us=last_time_us,
        )
        return Snapshot(ledger, height, head, last_block, certificate)

    def _later_tables(self) -> set[str]:
        listed = self._connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
            f"({', '.join('?' for _ in _LATER_SNAPSHOT_TABLES)})",
            tuple(_LATER_SNAPSHOT_TABLES),
        )
        return {name for (name,) in listed}

    def entry_count(self) -> int:
        """How many entries are stored."""
        return self._count("entries")

    def block_count(self) -> int:
        """How many blocks are stored."""
        return self._count("blocks")

    def _count(self, table: str) -> int:
        try:
            return int(self._connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        except sqlite3.DatabaseError as error:
            raise _refuse(Reason.STORE_CORRUPT, self._path, f"unreadable: {error}") from None

    def close(self) -> None:
        """Close the connection (SQLite checkpoints the WAL)."""
        self._connection.close()


_COLUMN_TYPES: Final[dict[str, type]] = {"b": bytes, "s": str, "i": int}


def _typed(row: tuple[Any, ...], types: str) -> tuple[Any, ...]:
    """``row`` if each value has the type its letter names (b bytes, s str, i int)."""
    if len(row) != len(types):
        raise ValueError(f"a row of {len(row)} values where {len(types)} belong")
    for value, letter in zip(row, types, strict=True):
        if type(value) is not _COLUMN_TYPES[letter]:
            raise TypeError(f"a {type(value).__name__} where a {letter} belongs")
    return row


_SQL_TYPES: Final = {"b": "blob", "s": "text", "i": "integer"}


def _typed_rows(
    connection: sqlite3.Connection, table: str, types: str, *, order: str = "position"
) -> list[tuple[Any, ...]]:
    """The rows of a snapshot table (all but a last ``position`` column), in order, typed.

    SQLite checks every value's type in one pass (``typeof``) and the rows
    come back as they are: the same refusal as :func:`_typed` on each row,
    without a Python call per value (a million wallets are nine million values).
    """
    columns = [str(column[1]) for column in connection.execute(f"PRAGMA table_info({table})")]
    positioned = order == "position"
    width = len(types) + positioned
    if len(columns) != width or (positioned and columns[-1] != "position"):
        raise ValueError(f"{table} has {len(columns)} columns where {width} belong")
    names = ", ".join(f'"{name}"' for name in columns[: len(types)])
    wrong = " OR ".join(
        f"typeof(\"{name}\") != '{_SQL_TYPES[letter]}'"
        for name, letter in zip(columns, types, strict=False)
    )
    mistyped = connection.execute(f"SELECT {names} FROM {table} WHERE {wrong} LIMIT 1").fetchone()
    if mistyped is not None:
        _typed(mistyped, types)  # raises, naming the type
    return connection.execute(f"SELECT {names} FROM {table} ORDER BY {order}").fetchall()


def _torn_wal_bytes(path: Path) -> int:
    """Bytes of the write-ahead log that SQLite will drop on opening: a torn write.

    Walks the log as SQLite does (its header checksum, then each frame's
    salts and running checksum) to the last frame that completes a
    transaction; what follows with the log's current salts, and any partial
    frame at the end, is what a crash tore and recovery drops.  Frames with
    older salts are left over from before a checkpoint and were never due.
    """
    wal = path.with_name(path.name + "-wal")
    try:
        raw = wal.read_bytes()
    except OSError:
        return 0
    if len(raw) < _WAL_HEADER_SIZE:
        return len(raw)
    magic, _, page_size, _, salt1, salt2 = struct.unpack(">IIIIII", raw[:24])
    if magic not in (_WAL_MAGIC_LITTLE, _WAL_MAGIC_BIG) or page_size < 512:
        return len(raw)
    words = "<II" if magic == _WAL_MAGIC_LITTLE else ">II"
    checksum = _wal_checksum(raw[:24], words, (0, 0))
    if checksum != struct.unpack(">II", raw[24:32]):
        return len(raw) - _WAL_HEADER_SIZE
    frame_size = _WAL_FRAME_HEADER_SIZE + page_size
    committed_end = _WAL_HEADER_SIZE
    offset = _WAL_HEADER_SIZE
    torn_end = offset
    while offset + frame_size <= len(raw):
        header = raw[offset : offset + _WAL_FRAME_HEADER_SIZE]
        _, commit_size, frame_salt1, frame_salt2 = struct.unpack(">IIII", header[:16])
        if (frame_salt1, frame_salt2) != (salt1, salt2):
            break
        checksum = _wal_checksum(
            header[:8] + raw[offset + _WAL_FRAME_HEADER_SIZE : offset + frame_size],
            words,
            checksum,
        )
        if checksum != struct.unpack(">II", header[16:24]):
            torn_end = offset + frame_size
            break
        offset += frame_size
        torn_end = offset
        if commit_size:
            committed_end = offset
    else:
        torn_end = len(raw) if offset < len(raw) else torn_end
    return torn_end - committed_end


def _wal_checksum(data: bytes, words: str, start: tuple[int, int]) -> tuple[int, int]:
    # SQLite's WAL checksum (file-format documentation, section 4.1).
    first, second = start
    for x0, x1 in struct.iter_unpack(words, data):
        first = (first + x0 + second) & 0xFFFFFFFF
        second = (second + x1 + first) & 0xFFFFFFFF
    return first, second


def _insert_rows(
    connection: sqlite3.Connection, table: str, rows: Iterable[tuple[object, ...]], width: int
) -> None:
    # Each row gets its position, so that restoring keeps insertion order.
    marks = ", ".join("?" * width)
    connection.executemany(
        f"INSERT INTO {table} VALUES ({marks})",
        ((*row, position) for position, row in enumerate(rows)),
    )


def _guarded(
    connection: sqlite3.Connection, query: str, start: int, path: Path, what: str
) -> Iterator[tuple[int, bytes, bytes]]:
    # Rows in chunks; a read error is the store's fault, reported as such; an
    # abandoned iterator closes its cursor rather than waiting for the collector.
    # SQLite keeps whatever type was written into a BLOB column: a row that is
    # not (integer, bytes, bytes) is refused here, naming it, for every reader.
    # The query runs at the first read, so that its errors are reported the same way.
    try:
        cursor = connection.execute(query, (start,))
    except sqlite3.DatabaseError as error:
        raise _refuse(Reason.STORE_CORRUPT, path, f"unreadable: {error}") from None
    try:
        while True:
            try:
                rows = cursor.fetchmany(_READ_CHUNK)
            except (sqlite3.DatabaseError, UnicodeDecodeError) as error:
                raise _refuse(Reason.STORE_CORRUPT, path, f"unreadable: {error}") from None
            if not rows:
                return
            for row in rows:
                if (
                    type(row[0]) is not int
                    or type(row[1]) is not bytes
                    or (type(row[2]) is not bytes)
                ):
                    raise _mistyped(path, what, row)
            yield from rows
    finally:
        with contextlib.suppress(sqlite3.Error):
            cursor.close()
