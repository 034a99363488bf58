"""A bank's own records of its customers, kept apart from the ledger.

Identity must never enter the central journal, so each bank keeps its
:class:`~dcep.values.CustomerRecord` s, with the salt of each ``kyc_digest``
and the number its wallet key was derived from, in a store of its own:
:class:`MemoryCustomerStore` for simulations, :class:`SqliteCustomerStore`
(a separate SQLite file) for a bank that must answer a warrant after a
restart.  The store also keeps the bank's wallet counter and branch codes:
the role state that the journal does not hold.

Opening a wallet touches two databases, the bank's and the ledger's, with
no transaction spanning both, so :class:`~dcep.parties.Bank` writes ahead:

1. the record is stored as *pending*, with its wallet number, and the
   counter advanced, in one transaction, before the ``OpenWallet`` is signed
   and submitted;
2. the ledger accepts (with ``Durability.SYNC``, on disk) or refuses;
3. the record is marked *confirmed* (or deleted if the ledger refused), and
   only then does ``open_wallet`` return.

After a crash, attaching the bank again settles every pending record
against the recovered ledger: confirmed if its wallet is there, deleted if
not.  So no wallet is left without its record and no record without its
wallet, and the counter never hands out a number twice.

A category change writes ahead the same way: the new record is stored as a
*pending update*, with the bank's sequence number of the ``ChangeCategory``,
before that is signed; it replaces the kept record once the ledger accepts,
and is dropped if the ledger refuses.  A crash in between is settled on
attaching again: the ledger's last sequence number of the bank says whether
that instruction was accepted (the bank signs nothing else before it
settles).  So a disclosure always seals the record whose digest the ledger
committed last.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Final, Protocol, final

import attrs

from dcep.errors import InvalidFieldError, JournalError, Reason
from dcep.journal._sqlite_store import read_identity
from dcep.values._crypto import Address
from dcep.values._disclosure import CustomerRecord

__all__ = [
    "CustomerRecovery",
    "CustomerStore",
    "KeptCustomer",
    "MemoryCustomerStore",
    "PendingUpdate",
    "SqliteCustomerStore",
]

#: "DCEC" in ASCII: marks a file as a dcep bank's customer store.
CUSTOMER_STORE_APPLICATION_ID: Final = 0x44434543
CUSTOMER_STORE_VERSION: Final = 1

_SCHEMA: Final = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE customers (
    wallet BLOB PRIMARY KEY, wallet_number INTEGER, record BLOB NOT NULL, salt BLOB NOT NULL,
    confirmed INTEGER NOT NULL, position INTEGER NOT NULL UNIQUE
);
CREATE TABLE branches (code TEXT PRIMARY KEY, name TEXT NOT NULL, position INTEGER NOT NULL);
"""

#: Pending category changes.  Created on first use, not in the schema above,
#: so that a store written before updates existed is read (and kept at
#: format 1) as it is.
_UPDATES: Final = (
    "CREATE TABLE IF NOT EXISTS updates "
    "(wallet BLOB PRIMARY KEY, record BLOB NOT NULL, salt BLOB NOT NULL, "
    "sequence INTEGER NOT NULL)"
)


@final
@attrs.frozen
class KeptCustomer:
    """What a bank keeps about one wallet it opened.

    ``wallet_number`` is the counter value its key was derived from (``None``
    for a wallet opened with a key of its own); ``salt`` is the salt of the
    ``kyc_digest`` on the ledger; ``confirmed`` is false while the
    ``OpenWallet`` is in flight.
    """

    wallet: Address
    record: CustomerRecord
    salt: bytes = attrs.field(repr=False)
    wallet_number: int | None
    confirmed: bool


@final
@attrs.frozen
class CustomerRecovery:
    """What attaching a bank to its ledger found in the bank's customer store.

    ``rolled_forward``: pending records whose wallet the ledger holds, now
    confirmed.  ``rolled_back``: records whose wallet the ledger does not
    hold (the ``OpenWallet`` never became durable), now deleted.
    ``wallets_without_record``: wallets the ledger says this bank operates
    that the store has no record of (a store in memory, or another one).
    """

    rolled_forward: int
    rolled_back: int
    wallets_without_record: int
    #: Pending category changes the ledger accepted, now the kept records.
    updates_applied: int = 0
    #: Pending category changes the ledger never accepted, now dropped.
    updates_dropped: int = 0


@final
@attrs.frozen
class PendingUpdate:
    """A category change in flight: the record to keep once the ledger accepts it.

    ``sequence`` is the bank's sequence number of the ``ChangeCategory``:
    the ledger accepted it if its last sequence number of the bank is at
    least that.
    """

    wallet: Address
    record: CustomerRecord
    salt: bytes = attrs.field(repr=False)
    sequence: int


class CustomerStore(Protocol):
    """Where a :class:`~dcep.parties.Bank` keeps its customers, counter and branches.

    Every method that writes is atomic; a durable store has it on disk when
    the method returns.
    """

    def bind(self, bank: Address, network_id: bytes) -> None:
        """Mark the store as this bank's on this network; refuse another bank's store."""

    def wallets_numbered(self) -> int:
        """The highest wallet number handed out (0 for none)."""

    def begin(self, kept: KeptCustomer, number: int) -> None:
        """Store ``kept`` as pending and advance the counter to ``number``, together."""

    def confirm(self, wallet: Address) -> None:
        """Mark the record of ``wallet`` confirmed."""

    def discard(self, wallet: Address) -> None:
        """Delete the record of ``wallet`` (its ``OpenWallet`` never took effect)."""

    def get(self, wallet: Address) -> KeptCustomer | None:
        """The record of ``wallet``, pending or confirmed, if there is one."""

    def wallets(self, *, confirmed: bool) -> list[Address]:
        """The wallets with a confirmed (or a pending) record, in the order they were opened."""

    def begin_update(self, update: PendingUpdate) -> None:
        """Store ``update`` as pending (replacing any earlier pending one of its wallet)."""

    def settle_update(self, wallet: Address, *, applied: bool) -> None:
        """Make the pending update of ``wallet`` its kept record (``applied``), or drop it."""

    def pending_updates(self) -> list[PendingUpdate]:
        """Every pending update, by wallet."""

    def add_branch(self, code: str, name: str) -> None:
        """Record a branch code the bank assigned."""

    def branches(self) -> list[tuple[str, str]]:
        """Every branch code and name, in the order assigned."""

    def close(self) -> None:
        """Release the store's file, if any."""


@final
class MemoryCustomerStore:
    """A :class:`CustomerStore` in memory: gone with the process, as in a simulation."""

    __slots__ = ("_bank", "_branches", "_kept", "_numbered", "_updates")

    def __init__(self) -> None:
        self._bank: tuple[Address, bytes] | None = None
        self._kept: dict[Address, KeptCustomer] = {}
        self._updates: dict[Address, PendingUpdate] = {}
        self._numbered = 0
        self._branches: list[tuple[str, str]] = []

    def bind(self, bank: Address, network_id: bytes) -> None:
        """Mark the store as this bank's on this network; refuse another bank's store."""
        if self._bank is not None and self._bank != (bank, network_id):
            raise _another_bank(str(bank))
        self._bank = (bank, network_id)

    def wallets_numbered(self) -> int:
        """The highest wallet number handed out (0 for none)."""
        return self._numbered

    def begin(self, kept: KeptCustomer, number: int) -> None:
        """Store ``kept`` as pending and advance the counter to ``number``, together."""
        self._kept[kept.wallet] = kept
        self._numbered = max(self._numbered, number)

    def confirm(self, wallet: Address) -> None:
        """Mark the record of ``wallet`` confirmed."""
        self._kept[wallet] = attrs.evolve(self._kept[wallet], confirmed=True)

    def discard(self, wallet: Address) -> None:
        """Delete the record of ``wallet`` (its ``OpenWallet`` never took effect)."""
        self._kept.pop(wallet, None)

    def get(self, wallet: Address) -> KeptCustomer | None:
        """The record of ``wallet``, pending or confirmed, if there is one."""
        return self._kept.get(wallet)

    def wallets(self, *, confirmed: bool) -> list[Address]:
        """The wallets with a confirmed (or a pending) record, in the order they were opened."""
        return [w for w, kept in self._kept.items() if kept.confirmed is confirmed]

    def begin_update(self, update: PendingUpdate) -> None:
        """Store ``update`` as pending (replacing any earlier pending one of its wallet)."""
        self._updates[update.wallet] = update

    def settle_update(self, wallet: Address, *, applied: bool) -> None:
        """Make the pending update of ``wallet`` its kept record (``applied``), or drop it."""
        update = self._updates.pop(wallet, None)
        if update is None or not applied:
            return
        kept = self._kept.get(wallet)
        self._kept[wallet] = (
            KeptCustomer(wallet, update.record, update.salt, None, confirmed=True)
            if kept is None
            else attrs.evolve(kept, record=update.record, salt=update.salt)
        )

    def pending_updates(self) -> list[PendingUpdate]:
        """Every pending update, by wallet."""
        return [self._updates[wallet] for wallet in sorted(self._updates)]

    def add_branch(self, code: str, name: str) -> None:
        """Record a branch code the bank assigned."""
        self._branches.append((code, name))

    def branches(self) -> list[tuple[str, str]]:
        """Every branch code and name, in the order assigned."""
        return list(self._branches)

    def close(self) -> None:
        """Nothing to release."""


def _another_bank(party: str) -> InvalidFieldError:
    return InvalidFieldError(
        Reason.FIELD_INVALID,
        "this customer store belongs to another bank or network",
        party=party,
        field="customers",
    )


def _refuse(reason: Reason, path: Path, why: str) -> JournalError:
    return JournalError(reason, f"{path}: {why}")


@final
class SqliteCustomerStore:
    """A :class:`CustomerStore` in its own SQLite file (WAL, ``synchronous=FULL``).

    Each write is one transaction, on disk when the method returns.  The
    file is marked as a dcep customer store (``PRAGMA application_id``) and
    versioned; a file that is not one is refused with
    :class:`~dcep.JournalError` (``STORE_NOT_DCEP``,
    ``STORE_VERSION_UNSUPPORTED`` or ``STORE_CORRUPT``) and not written to.
    A new file is created readable by its owner only (mode 0600).  Keep it
    where the bank keeps its own data, never inside the ledger's file.
    """

    __slots__ = ("_connection", "_path")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        existing = self._path.exists() and self._path.stat().st_size > 0
        if not self._path.exists():
            # Identity is in here: readable by the bank's own user only (SQLite
            # gives its -wal and -shm files the database file's permissions).
            os.close(os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            if existing:
                self._check_existing()
            self._connection = sqlite3.connect(self._path, isolation_level=None)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=FULL")
            tables = self._connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables == 0:
                self._create()
        except sqlite3.DatabaseError as error:
            raise _refuse(Reason.STORE_CORRUPT, self._path, f"unreadable: {error}") from None

    def _check_existing(self) -> None:
        with self._path.open("rb") as handle:
            magic = handle.read(16)
        if magic != b"SQLite format 3\x00":
            raise _refuse(Reason.STORE_NOT_DCEP, self._path, "not an SQLite database")
        application_id, version, tables = read_identity(self._path)
        if application_id == 0 and version == 0 and tables == 0:
            return  # a creation cut short: nothing in it yet
        if application_id != CUSTOMER_STORE_APPLICATION_ID:
            raise _refuse(
                Reason.STORE_NOT_DCEP, self._path, "an SQLite database, not a customer store"
            )
        if version != CUSTOMER_STORE_VERSION:
            raise _refuse(
                Reason.STORE_VERSION_UNSUPPORTED,
                self._path,
                f"customer store format {version}; this dcep reads {CUSTOMER_STORE_VERSION}",
            )

    def _create(self) -> None:
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(f"PRAGMA application_id={CUSTOMER_STORE_APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version={CUSTOMER_STORE_VERSION}")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                connection.execute(statement)
        connection.execute(
            "INSERT INTO meta VALUES ('format', 'dcep-customers'), ('wallets_numbered', '0')"
        )
        connection.execute("COMMIT")

    @property
    def path(self) -> Path:
        """Where the file is."""
        return self._path

    def _meta(self, key: str) -> str | None:
        row = self._connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _write(self, statements: Sequence[tuple[str, tuple[object, ...]]]) -> None:
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            for sql, parameters in statements:
                connection.execute(sql, parameters)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def bind(self, bank: Address, network_id: bytes) -> None:
        """Mark the store as this bank's on this network; refuse another bank's store."""
        stored_bank, stored_network = self._meta("bank"), self._meta("network_id")
        if stored_bank is None:
            self._write(
                [
                    ("INSERT INTO meta VALUES ('bank', ?)", (str(bank),)),
                    ("INSERT INTO meta VALUES ('network_id', ?)", (network_id.hex(),)),
                ]
            )
        elif (stored_bank, stored_network) != (str(bank), network_id.hex()):
            raise _another_bank(str(bank))

    def wallets_numbered(self) -> int:
        """The highest wallet number handed out (0 for none)."""
        return int(self._meta("wallets_numbered") or 0)

    def begin(self, kept: KeptCustomer, number: int) -> None:
        """Store ``kept`` as pending and advance the counter to ``number``, together."""
        self._write(
            [
                (
                    "INSERT INTO customers VALUES (?, ?, ?, ?, ?, "
                    "(SELECT coalesce(max(position), 0) + 1 FROM customers))",
                    (
                        bytes(kept.wallet),
                        kept.wallet_number,
                        kept.record.encode(),
                        kept.salt,
                        int(kept.confirmed),
                    ),
                ),
                (
                    "UPDATE meta SET value = max(CAST(value AS INTEGER), ?) "
                    "WHERE key = 'wallets_numbered'",
                    (number,),
                ),
            ]
        )

    def confirm(self, wallet: Address) -> None:
        """Mark the record of ``wallet`` confirmed."""
        self._write([("UPDATE customers SET confirmed = 1 WHERE wallet = ?", (bytes(wallet),))])

    def discard(self, wallet: Address) -> None:
        """Delete the record of ``wallet`` (its ``OpenWallet`` never took effect)."""
        self._write([("DELETE FROM customers WHERE wallet = ?", (bytes(wallet),))])

    def get(self, wallet: Address) -> KeptCustomer | None:
        """The record of ``wallet``, pending or confirmed, if there is one."""
        row = self._connection.execute(
            "SELECT wallet_number, record, salt, confirmed FROM customers WHERE wallet = ?",
            (bytes(wallet),),
        ).fetchone()
        if row is None:
            return None
        number, record, salt, confirmed = row
        return KeptCustomer(
            Address(bytes(wallet)),
            CustomerRecord.decode(bytes(record)),
            bytes(salt),
            None if number is None else int(number),
            bool(confirmed),
        )

    def wallets(self, *, confirmed: bool) -> list[Address]:
        """The wallets with a confirmed (or a pending) record, in the order they were opened."""
        rows = self._connection.execute(
            "SELECT wallet FROM customers WHERE confirmed = ? ORDER BY position",
            (int(confirmed),),
        ).fetchall()
        return [Address(bytes(row[0])) for row in rows]

    def begin_update(self, update: PendingUpdate) -> None:
        """Store ``update`` as pending (replacing any earlier pending one of its wallet)."""
        self._write(
            [
                (_UPDATES, ()),
                (
                    "INSERT OR REPLACE INTO updates VALUES (?, ?, ?, ?)",
                    (
                        bytes(update.wallet),
                        update.record.encode(),
                        update.salt,
                        update.sequence,
                    ),
                ),
            ]
        )

    def settle_update(self, wallet: Address, *, applied: bool) -> None:
        """Make the pending update of ``wallet`` its kept record (``applied``), or drop it."""
        update = next((u for u in self.pending_updates() if u.wallet == wallet), None)
        if update is None:
            return
        key = bytes(wallet)
        statements: list[tuple[str, tuple[object, ...]]] = []
        if applied:
            # A wallet the store had no record of (a store in memory before) gets one.
            statements += [
                (
                    "INSERT OR IGNORE INTO customers VALUES (?, NULL, ?, ?, 1, "
                    "(SELECT coalesce(max(position), 0) + 1 FROM customers))",
                    (key, update.record.encode(), update.salt),
                ),
                (
                    "UPDATE customers SET record = ?, salt = ? WHERE wallet = ?",
                    (update.record.encode(), update.salt, key),
                ),
            ]
        statements.append(("DELETE FROM updates WHERE wallet = ?", (key,)))
        self._write(statements)

    def pending_updates(self) -> list[PendingUpdate]:
        """Every pending update, by wallet."""
        exists = self._connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'updates'"
        ).fetchone()[0]
        if not exists:
            return []
        rows = self._connection.execute(
            "SELECT wallet, record, salt, sequence FROM updates ORDER BY wallet"
        ).fetchall()
        return [
            PendingUpdate(
                Address(bytes(wallet)),
                CustomerRecord.decode(bytes(record)),
                bytes(salt),
                int(sequence),
            )
            for wallet, record, salt, sequence in rows
        ]

    def add_branch(self, code: str, name: str) -> None:
        """Record a branch code the bank assigned."""
        self._write(
            [
                (
                    "INSERT INTO branches VALUES "
                    "(?, ?, (SELECT coalesce(max(position), 0) + 1 FROM branches))",
                    (code, name),
                )
            ]
        )

    def branches(self) -> list[tuple[str, str]]:
        """Every branch code and name, in the order assigned."""
        rows = self._connection.execute(
            "SELECT code, name FROM branches ORDER BY position"
        ).fetchall()
        return [(str(code), str(name)) for code, name in rows]

    def close(self) -> None:
        """Close the connection; the file stays."""
        self._connection.close()

    def __repr__(self) -> str:
        return f"SqliteCustomerStore({str(self._path)!r})"
