"""The write-ahead log is copied into the file every 4 MiB, whatever the page size.

SQLite counts its automatic checkpoint in pages (1,000 by default); in the
16 KiB pages of a new ledger file that is 16 MiB, and the batch whose commit
meets it pays for copying and syncing all of it.  The store sets the
threshold in bytes instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import dcep.journal._sqlite_store as sqlite_store
from dcep.journal import SqliteStore


def _checkpoint_bytes(store: SqliteStore) -> int:
    connection = store._connection
    pages: int = connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    page_size: int = connection.execute("PRAGMA page_size").fetchone()[0]
    return pages * page_size


def test_a_new_file_checkpoints_every_4_mib(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ledger.db")
    try:
        assert _checkpoint_bytes(store) == 4 * 1024 * 1024
    finally:
        store.close()


def test_a_file_of_smaller_pages_checkpoints_every_4_mib_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.db"
    monkeypatch.setattr(sqlite_store, "_PAGE_SIZE", 4096)
    SqliteStore(path).close()
    monkeypatch.undo()
    store = SqliteStore(path)  # an existing file keeps its 4 KiB pages
    try:
        assert store._connection.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert _checkpoint_bytes(store) == 4 * 1024 * 1024
    finally:
        store.close()


def test_the_log_stays_near_4_mib_while_20_mib_is_written(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    store = SqliteStore(path)
    body, digest = bytes(1000), bytes(32)
    try:
        for batch in range(20):  # 1,000 entries of about 1 KB a write
            store.write([(batch * 1000 + i, body, digest) for i in range(1000)], [])
        log = os.path.getsize(f"{path}-wal")
    finally:
        store.close()
    # At most the threshold and one write past it; SQLite's default would let it reach 16 MiB.
    assert log < 4 * 1024 * 1024 + 2 * 1024 * 1024
