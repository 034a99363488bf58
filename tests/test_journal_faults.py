"""Faults in a stored journal: tampering, files that are not dcep's, torn writes.

Every case works on a copy of one database and changes it with plain
``sqlite3``, as an attacker or a failing disk would, never through dcep.
A tampered file must be refused by a :class:`dcep.Replica` with a
:class:`dcep.JournalError` (naming the block and/or entry where the fault is
in the journal itself) and by ``python -m dcep verify`` with exit status 1.
A file that is not dcep's is refused, typed, and left exactly as it was.  A
torn file either gives a typed error or recovers a prefix of what was
written that still verifies.

Positions are drawn from seeded ``random.Random`` instances, so every run
checks the same several hundred cases and a failure names the one to repeat.
"""

from __future__ import annotations

import itertools
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, NamedTuple

import pytest

import dcep
import dcep.journal
import dcep.values
from dcep import cny
from dcep.journal._sqlite_store import FORMAT_VERSION

REPO: Final = Path(__file__).resolve().parents[1]
BLOCK_SIZE: Final = 8
SNAPSHOT_EVERY: Final = 2
CENTRAL_SEED: Final = 11

#: (number, body, hash) of an entry, or (height, header, signature) of a block, as stored.
Row = tuple[int, bytes, bytes]

#: Every column of the snapshot tables that holds state.  ``position`` only
#: orders rows (see the swap test) and ``snapshot.id`` is fixed at 1 by a CHECK.
SNAPSHOT_COLUMNS: Final = {
    "snapshot": (
        "block_height",
        "head_hash",
        "last_block_hash",
        "certificate",
        "central_name",
        "central_code",
        "central_key",
        "issued_fen",
        "redeemed_fen",
        "entry_count",
        "last_time_us",
    ),
    "snapshot_banks": (
        "key",
        "name",
        "code",
        "reserves_pledged_fen",
        "outstanding_fen",
        "vault_fen",
        "cash_fen",
        "paid_in_fen",
        "funded_from_deposits_fen",
        "defunded_to_deposits_fen",
        "wallet_count",
    ),
    "snapshot_deposits": ("bank", "account", "balance_fen"),
    "snapshot_wallets": (
        "address",
        "category",
        "operator",
        "linked_account",
        "balance_fen",
        "day",
        "spent_today_fen",
        "year",
        "spent_this_year_fen",
        "sequence",
    ),
    "snapshot_sequences": ("signer", "last"),
    "snapshot_receipts": (
        "signer",
        "instruction_id",
        "body_digest",
        "entry_number",
        "kind",
        "accepted_at_us",
        "postings",
    ),
    "snapshot_codes": ("code", "owner"),
    "snapshot_regulators": ("key", "name"),
    "snapshot_frozen": ("wallet", "regulator"),
    "snapshot_warrants": ("warrant", "wallet", "answered"),
}
#: Random single-bit flips per snapshot column (a few hundred in all).
CASES_PER_SNAPSHOT_COLUMN: Final = 8


# -- the database every tampering case starts from --------------------------------------


class Pristine(NamedTuple):
    """A closed, snapshotted database and what it holds."""

    path: Path
    entries: list[Row]
    blocks: list[Row]


def _populate(ledger: dcep.Ledger, central_seed: int = CENTRAL_SEED) -> None:
    """A few dozen instructions of every kind, touching every snapshot table."""
    pboc = dcep.CentralBank(ledger, seed=central_seed)
    icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("1000000"))
    ccb = pboc.authorise_bank("CCB", code="MA.156.1100.02", reserves=cny("500000"))
    pboc.issue(icbc, cny("500000"))
    pboc.issue(ccb, cny("200000"))
    icbc.pay_in("6222-0001", cny("5000"))
    ccb.pay_in("6222-0002", cny("3000"))
    wallets = [icbc.open_wallet(category=4, phone=f"138{i:08d}") for i in range(4)]
    for number, bank in enumerate((icbc, ccb), start=1):
        wallets.append(
            bank.open_wallet(
                category=2,
                phone=f"1390000000{number}",
                id_number=f"11010119900101123{number}",
                linked_account=f"6222-000{number}",
            )
        )
    wallets.append(ccb.open_wallet(category=3, phone="13900000003", id_number="1101011990010"))
    for wallet in wallets:
        wallet.operator.fund(wallet, cny("300"))
    for i in range(20):
        payer, payee = wallets[i % len(wallets)], wallets[(i * 3 + 1) % len(wallets)]
        if payer is not payee:
            payer.pay(payee, dcep.Amount(101 + 7 * i), memo=f"m{i}")
    wallets[4].defund(cny("20"))
    ccb.redeem(cny("1000"))
    police = pboc.appoint_regulator("Anti-money-laundering bureau")
    court = pboc.appoint_regulator("People's court")
    police.freeze(wallets[0].address, "suspicious pattern")
    court.freeze(wallets[6].address, "court order")
    answered = police.issue_warrant(wallets[1].address, "investigation 17")
    icbc.answer_warrant(police.address, answered, wallets[1].address)
    court.issue_warrant(wallets[6].address, "case 2025-3")


def _fast_first(cases: list[Any]) -> list[Any]:
    """The first case in the fast loop, the others marked slow: each builds and
    verifies a database of its own, and CI runs them all."""
    return [cases[0], *(pytest.param(case, marks=pytest.mark.slow) for case in cases[1:])]


def _read_store(path: Path) -> tuple[list[Row], list[Row]]:
    store = dcep.journal.SqliteStore(path)
    try:
        return list(store.read_entries()), list(store.read_blocks())
    finally:
        store.close()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Pristine:
    path = tmp_path_factory.mktemp("pristine") / "city.db"
    ledger = dcep.Ledger.open(path, block_size=BLOCK_SIZE, snapshot_every_blocks=SNAPSHOT_EVERY)
    _populate(ledger)
    assert ledger.journal is not None
    ledger.journal.snapshot()
    ledger.close()
    # Closed cleanly: SQLite checkpointed the WAL into the file and removed it.
    assert sorted(p.name for p in path.parent.iterdir()) == ["city.db"]
    entries, blocks = _read_store(path)
    assert 30 <= len(entries) <= 60
    assert len(blocks) == -(-len(entries) // BLOCK_SIZE)
    assert _verdict(path) is None, "the untouched database must verify"
    return Pristine(path, entries, blocks)


# -- tampering helpers ------------------------------------------------------------------


def _copy(source: Path, directory: Path, name: str = "city.db") -> Path:
    target = directory / name
    shutil.copyfile(source, target)
    return target


def _execute(path: Path, statement: str, parameters: tuple[object, ...] = ()) -> None:
    """One statement in its own transaction, with the standard library only."""
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute(statement, parameters)
    finally:
        connection.close()


def _columns(path: Path, table: str) -> list[str]:
    """The column names of ``table``, in order."""
    connection = sqlite3.connect(path)
    try:
        return [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
    finally:
        connection.close()


def _column(path: Path, table: str, column: str) -> list[tuple[int, object]]:
    """(rowid, value) of every row of ``table``, in rowid order."""
    connection = sqlite3.connect(path)
    try:
        rows: list[tuple[int, object]] = connection.execute(
            f"SELECT rowid, {column} FROM {table} ORDER BY rowid"
        ).fetchall()
    finally:
        connection.close()
    return rows


def _flip_byte(raw: bytes, rng: random.Random, bits: range = range(8)) -> tuple[bytes, str]:
    """``raw`` with one bit of one random byte flipped, and where."""
    flipped = bytearray(raw)
    index, bit = rng.randrange(len(raw)), rng.choice(bits)
    flipped[index] ^= 1 << bit
    return bytes(flipped), f"byte {index} bit {bit}"


def _flip_integer(value: int, bit: int) -> int:
    """``value`` with one bit of its 64-bit two's complement form flipped."""
    flipped = (value & (2**64 - 1)) ^ (1 << bit)
    return flipped - 2**64 if flipped >= 2**63 else flipped


def _verdict(path: Path) -> Exception | None:
    """What a replica verifying ``path`` raised, or None if it found nothing."""
    try:
        store = dcep.journal.SqliteStore(path)
        try:
            dcep.Replica(store, network_id=store.network_id).catch_up()
        finally:
            store.close()
    except Exception as error:
        return error
    return None


def _problem(verdict: Exception | None, *, must_name: bool) -> str | None:
    """Why ``verdict`` is not an acceptable detection, or None if it is."""
    if verdict is None:
        return "not detected: the replica verified the file"
    if not isinstance(verdict, dcep.JournalError):
        return f"{type(verdict).__name__}: {verdict} (not a JournalError)"
    if must_name and verdict.entry is None and verdict.block is None:
        return f"names neither block nor entry: {verdict}"
    return None


def _assert_detected(path: Path, *, must_name: bool) -> dcep.JournalError:
    verdict = _verdict(path)
    problem = _problem(verdict, must_name=must_name)
    assert problem is None, problem
    assert isinstance(verdict, dcep.JournalError)
    return verdict


def _cli_verify(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dcep", "verify", str(path), *options],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=REPO,
    )


def _cli_problem(path: Path, *, must_name: bool) -> str | None:
    """Why ``python -m dcep verify`` does not refuse ``path`` properly, or None."""
    completed = _cli_verify(path)
    if completed.returncode != 1:
        return f"dcep verify exited {completed.returncode}: {completed.stdout.strip()}"
    if "dcep verify: FAULT in" not in completed.stderr or "Traceback" in completed.stderr:
        return f"dcep verify did not report the fault cleanly: {completed.stderr[-400:]}"
    if must_name and "(at block" not in completed.stderr and "(at entry" not in completed.stderr:
        return f"dcep verify did not name a block or entry: {completed.stderr.strip()}"
    return None


def _assert_cli_refuses(path: Path, *, must_name: bool) -> None:
    problem = _cli_problem(path, must_name=must_name)
    assert problem is None, problem


def _tamper_cases(
    pristine: Path,
    directory: Path,
    table: str,
    column: str,
    cases: int,
    *,
    must_name: bool,
    text_bits: range = range(7),
) -> list[str]:
    """Flip one bit of ``table.column`` in ``cases`` copies; return the undetected ones.

    Blobs get one random bit of one random byte flipped, integers one random
    bit of their 64-bit form (always including the sign bit and bit 0), text
    one random bit of one byte of its UTF-8 (bits 0-6 by default, so that it
    stays text; see the UTF-8 test for the high bit).  A change SQLite's own
    constraints refuse (a primary key collision) is drawn again.
    """
    rng = random.Random(f"{table}.{column}")
    rows = [
        (rowid, value)
        for rowid, value in _column(pristine, table, column)
        if value is not None and not (isinstance(value, bytes | str) and len(value) == 0)
    ]
    assert rows, f"{table}.{column} holds nothing to tamper with"
    problems: list[str] = []
    done = 0
    attempts = 0
    while done < cases:
        attempts += 1
        assert attempts < cases * 10, "SQLite refused too many of the changes"
        rowid, value = rng.choice(rows)
        expression = "?"
        new: object
        if isinstance(value, bytes):
            new, where = _flip_byte(value, rng)
        elif isinstance(value, int):
            bit = (63, 0)[done] if done < 2 else rng.randrange(64)
            new, where = _flip_integer(value, bit), f"bit {bit}"
        else:
            assert isinstance(value, str)
            new, where = _flip_byte(value.encode("utf-8"), rng, text_bits)
            expression = "CAST(? AS TEXT)"  # the bytes as they are, valid UTF-8 or not
        path = _copy(pristine, directory, f"{table}.{column}.{done}.db")
        try:
            _execute(
                path, f"UPDATE {table} SET {column} = {expression} WHERE rowid = ?", (new, rowid)
            )
        except sqlite3.IntegrityError:
            path.unlink()
            continue
        case = f"{table}.{column} row {rowid} {where}"
        problem = _problem(_verdict(path), must_name=must_name)
        if problem is not None:
            problems.append(f"{case}: {problem}")
        if done == 0:
            # The command line is slower: checked on the first case of each column.
            cli_problem = _cli_problem(path, must_name=must_name)
            if cli_problem is not None:
                problems.append(f"{case}: {cli_problem}")
        path.unlink()
        done += 1
    return problems


# -- tampering: one flipped bit ---------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column", "cases"),
    [
        ("entries", "body", 120),
        ("entries", "hash", 60),
        ("blocks", "header", 80),
        ("blocks", "signature", 40),
    ],
)
@pytest.mark.slow  # 300 tampered copies of the database, each verified
def test_one_flipped_bit_in_an_entry_or_block_is_detected_and_named(
    pristine: Pristine, tmp_path: Path, table: str, column: str, cases: int
) -> None:
    problems = _tamper_cases(pristine.path, tmp_path, table, column, cases, must_name=True)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("table", "column"),
    [(table, column) for table, columns in SNAPSHOT_COLUMNS.items() for column in columns],
)
@pytest.mark.slow  # a sweep over every snapshot column, several tampered copies each
def test_one_flipped_bit_in_a_snapshot_value_is_detected(
    pristine: Pristine, tmp_path: Path, table: str, column: str
) -> None:
    problems = _tamper_cases(
        pristine.path, tmp_path, table, column, CASES_PER_SNAPSHOT_COLUMN, must_name=False
    )
    assert not problems, "\n".join(problems)


def test_the_tampering_cases_cover_every_snapshot_column(pristine: Pristine) -> None:
    connection = sqlite3.connect(pristine.path)
    try:
        tables = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'snapshot%'"
        ).fetchall()
        assert sorted(name for (name,) in tables) == sorted(SNAPSHOT_COLUMNS)
        for table, columns in SNAPSHOT_COLUMNS.items():
            stored = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            ordering = {"snapshot": ["id"], "snapshot_receipts": []}.get(table, ["position"])
            assert sorted(stored) == sorted([*columns, *ordering]), table
            assert connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= 1
    finally:
        connection.close()


def test_a_snapshot_text_value_that_is_no_longer_utf8_is_detected(
    pristine: Pristine, tmp_path: Path
) -> None:
    # Flipping the high bit of an ASCII byte leaves bytes that are not UTF-8:
    # SQLite stores them as they are; Python cannot decode them when reading.
    problems = []
    for table, columns in SNAPSHOT_COLUMNS.items():
        for column in columns:
            rows = _column(pristine.path, table, column)
            text = [(rowid, value) for rowid, value in rows if isinstance(value, str) and value]
            if not text:
                continue
            rowid, value = text[0]
            raw = bytearray(value.encode("utf-8"))
            raw[0] ^= 0x80
            path = _copy(pristine.path, tmp_path, f"{table}.{column}.db")
            _execute(
                path,
                f"UPDATE {table} SET {column} = CAST(? AS TEXT) WHERE rowid = ?",
                (bytes(raw), rowid),
            )
            problem = _problem(_verdict(path), must_name=False)
            if problem is not None:
                problems.append(f"{table}.{column} row {rowid}: {problem}")
    assert len(problems) == 0, "\n".join(problems)


@pytest.mark.parametrize(
    "table",
    [
        "snapshot_banks",
        "snapshot_deposits",
        "snapshot_wallets",
        "snapshot_sequences",
        "snapshot_codes",
        "snapshot_regulators",
        "snapshot_frozen",
        "snapshot_warrants",
    ],
)
def test_reordering_snapshot_rows_is_detected(
    pristine: Pristine, tmp_path: Path, table: str
) -> None:
    path = _copy(pristine.path, tmp_path)
    rows = _column(path, table, "position")
    assert len(rows) >= 2
    # The position is the row's key (its rowid): swap two through a free one.
    first_position, last_position = rows[0][0], rows[-1][0]
    spare = last_position + 1
    update = f"UPDATE {table} SET position = ? WHERE position = ?"
    _execute(path, update, (spare, first_position))
    _execute(path, update, (first_position, last_position))
    _execute(path, update, (last_position, spare))
    _assert_detected(path, must_name=False)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("snapshot_banks", "position"),
        ("snapshot_deposits", "position"),
        ("snapshot_wallets", "position"),
        ("snapshot_sequences", "position"),
        ("snapshot_receipts", "entry_number"),
    ],
)
def test_a_snapshot_row_written_twice_is_set_aside(
    pristine: Pristine, tmp_path: Path, table: str, key: str
) -> None:
    """Nothing in the file keeps snapshot keys unique: the signed state root notices."""
    path = _copy(pristine.path, tmp_path)
    rows = _column(path, table, key)
    assert rows
    spare = rows[-1][0] + 1
    columns = [name for name in _columns(path, table) if name != key]
    listed = ", ".join(columns)
    _execute(
        path,
        f"INSERT INTO {table} ({listed}, {key}) SELECT {listed}, ? FROM {table} WHERE rowid = ?",
        (spare, rows[-1][0]),
    )
    _assert_detected(path, must_name=False)
    _assert_open_sets_the_snapshot_aside(path, pristine)


# -- tampering: whole rows --------------------------------------------------------------


@pytest.mark.parametrize("which", _fast_first(["first", "middle", "last"]))
def test_a_deleted_entry_is_detected_and_named(
    pristine: Pristine, tmp_path: Path, which: str
) -> None:
    count = len(pristine.entries)
    number = {"first": 0, "middle": count // 2, "last": count - 1}[which]
    path = _copy(pristine.path, tmp_path)
    _execute(path, "DELETE FROM entries WHERE number = ?", (number,))
    error = _assert_detected(path, must_name=True)
    assert error.entry is not None
    # The missing number, or the one found in its place ("expected 20 next, found 21").
    assert number <= error.entry <= number + 1
    _assert_cli_refuses(path, must_name=True)


@pytest.mark.parametrize("columns", ["body", "body, hash"])
def test_swapped_entries_are_detected_and_named(
    pristine: Pristine, tmp_path: Path, columns: str
) -> None:
    rng = random.Random(columns)
    for case in range(6):
        first, second = sorted(rng.sample(range(len(pristine.entries)), 2))
        path = _copy(pristine.path, tmp_path, f"swap{case}.db")
        for number, other in ((first, second), (second, first)):
            _, body, entry_hash = pristine.entries[other]
            values = (body,) if columns == "body" else (body, entry_hash)
            assignments = ", ".join(f"{name} = ?" for name in columns.split(", "))
            _execute(path, f"UPDATE entries SET {assignments} WHERE number = ?", (*values, number))
        error = _assert_detected(path, must_name=True)
        assert error.entry == first, (first, second, error)
        if case == 0:
            _assert_cli_refuses(path, must_name=True)


def test_an_extra_entry_at_the_end_is_detected_and_named(
    pristine: Pristine, tmp_path: Path
) -> None:
    count = len(pristine.entries)
    _, body, entry_hash = pristine.entries[count // 2]
    path = _copy(pristine.path, tmp_path)
    _execute(path, "INSERT INTO entries VALUES (?, ?, ?)", (count, body, entry_hash))
    error = _assert_detected(path, must_name=True)
    assert error.entry == count
    _assert_cli_refuses(path, must_name=True)


def test_an_extra_entry_in_the_middle_is_detected_and_named(
    pristine: Pristine, tmp_path: Path
) -> None:
    count = len(pristine.entries)
    at = count // 3
    _, body, entry_hash = pristine.entries[at]
    path = _copy(pristine.path, tmp_path)
    # Make room at ``at`` (in two steps, so that no number collides on the way).
    _execute(path, "UPDATE entries SET number = number + 1000000 WHERE number >= ?", (at,))
    _execute(path, "UPDATE entries SET number = number - 999999 WHERE number >= 1000000")
    _execute(path, "INSERT INTO entries VALUES (?, ?, ?)", (at, body, entry_hash))
    error = _assert_detected(path, must_name=True)
    assert error.entry is not None
    assert error.entry <= at + 1
    _assert_cli_refuses(path, must_name=True)


def test_a_well_formed_extra_entry_replaying_an_instruction_is_detected(
    pristine: Pristine, tmp_path: Path
) -> None:
    # A forger who can compute hashes: the extra entry chains to the head
    # correctly and repeats an instruction the ledger accepted earlier.
    count = len(pristine.entries)
    number, body, _ = pristine.entries[count // 2]
    earlier = dcep.journal.JournalEntry.decode(body, pristine.entries[number - 1][2])
    forged = dcep.journal.JournalEntry.create(
        count,
        earlier.accepted_at_us + 10**9,
        earlier.envelope,
        earlier.postings,
        pristine.entries[-1][2],
    )
    path = _copy(pristine.path, tmp_path)
    _execute(path, "INSERT INTO entries VALUES (?, ?, ?)", (count, forged.body, forged.hash))
    error = _assert_detected(path, must_name=True)
    assert error.entry == count


@pytest.mark.parametrize("which", _fast_first(["first", "middle", "last"]))
def test_a_deleted_block_is_detected_and_named(
    pristine: Pristine, tmp_path: Path, which: str
) -> None:
    count = len(pristine.blocks)
    height = {"first": 0, "middle": count // 2, "last": count - 1}[which]
    path = _copy(pristine.path, tmp_path)
    _execute(path, "DELETE FROM blocks WHERE height = ?", (height,))
    error = _assert_detected(path, must_name=True)
    assert error.block is not None
    _assert_cli_refuses(path, must_name=True)


def test_a_block_signed_by_another_key_is_detected_and_named(
    pristine: Pristine, tmp_path: Path
) -> None:
    forger = dcep.values.SigningKey(bytes(range(32)))
    for height, header_raw, _ in pristine.blocks:
        header = dcep.journal.BlockHeader.decode(header_raw)
        forged = dcep.journal.SealedBlock.sign(
            header, forger, b"dcep-sim"
        )  # the pristine file's network
        path = _copy(pristine.path, tmp_path, f"resigned{height}.db")
        _execute(
            path, "UPDATE blocks SET signature = ? WHERE height = ?", (forged.signature, height)
        )
        error = _assert_detected(path, must_name=True)
        assert error.reason is dcep.Reason.JOURNAL_BLOCK_MISMATCH
        assert error.block == height
        if height == 0:
            _assert_cli_refuses(path, must_name=True)


# -- files that are not dcep's ----------------------------------------------------------


def _text_file(path: Path) -> None:
    path.write_text("height,hash\n0,deadbeef\n" * 200, encoding="utf-8")


def _random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(3).randbytes(3 * 4096 + 17))


def _foreign_sqlite(path: Path, *, wal: bool = False) -> None:
    connection = sqlite3.connect(path)
    try:
        if wal:
            connection.execute("PRAGMA journal_mode=WAL")
        with connection:
            connection.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)")
            connection.execute("INSERT INTO orders (item) VALUES ('noodles')")
    finally:
        connection.close()


def _sqlite_header_only(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + bytes(84))


def _newer_dcep(path: Path) -> None:
    ledger = dcep.Ledger.open(path)
    dcep.CentralBank(ledger, seed=CENTRAL_SEED)
    ledger.close()
    _execute(path, f"PRAGMA user_version = {FORMAT_VERSION + 1}")


def _older_dcep(path: Path) -> None:
    ledger = dcep.Ledger.open(path)
    dcep.CentralBank(ledger, seed=CENTRAL_SEED)
    ledger.close()
    _execute(path, f"PRAGMA user_version = {FORMAT_VERSION - 1}")


def _schema_not_utf8(path: Path) -> None:
    # One byte of the schema's text, as a bad sector or a bad copy might leave it.
    ledger = dcep.Ledger.open(path)
    dcep.CentralBank(ledger, seed=CENTRAL_SEED)
    ledger.close()
    raw = bytearray(path.read_bytes())
    key = b"CREATE TABLE meta (key TEXT PRIMARY KEY"
    raw[raw.index(key) + len(key) - 2] = 0xF8  # the E of KEY
    path.write_bytes(bytes(raw))


BAD_FILES: Final[dict[str, tuple[Callable[[Path], None], dcep.Reason]]] = {
    "text": (_text_file, dcep.Reason.STORE_NOT_DCEP),
    "random bytes": (_random_bytes, dcep.Reason.STORE_NOT_DCEP),
    "another SQLite database": (_foreign_sqlite, dcep.Reason.STORE_NOT_DCEP),
    "another SQLite database in WAL mode": (
        lambda path: _foreign_sqlite(path, wal=True),
        dcep.Reason.STORE_NOT_DCEP,
    ),
    "an SQLite header and nothing else": (_sqlite_header_only, dcep.Reason.STORE_CORRUPT),
    "a newer dcep format": (_newer_dcep, dcep.Reason.STORE_VERSION_UNSUPPORTED),
    "an older dcep format": (_older_dcep, dcep.Reason.STORE_VERSION_UNSUPPORTED),
    "a dcep file whose schema is not UTF-8": (_schema_not_utf8, dcep.Reason.STORE_CORRUPT),
}


def _listing(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_file_that_is_not_a_usable_dcep_ledger_is_refused_untouched(
    tmp_path: Path, kind: str
) -> None:
    write, reason = BAD_FILES[kind]
    path = tmp_path / "ledger.db"
    write(path)
    content, listing = path.read_bytes(), _listing(tmp_path)
    assert listing == ["ledger.db"]  # no -wal or -shm to begin with
    with pytest.raises(dcep.JournalError) as caught:
        dcep.Ledger.open(path)
    assert caught.value.reason is reason
    assert str(path) in str(caught.value)
    with pytest.raises(dcep.JournalError) as again:
        dcep.journal.SqliteStore(path)
    assert again.value.reason is reason
    assert path.read_bytes() == content
    assert _listing(tmp_path) == listing


def test_a_directory_is_refused_as_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(dcep.JournalError) as caught:
        dcep.Ledger.open(tmp_path)
    assert caught.value.reason is dcep.Reason.STORE_NOT_DCEP
    with pytest.raises(dcep.JournalError):
        dcep.journal.SqliteStore(tmp_path, create=False)
    assert list(tmp_path.iterdir()) == []


def test_a_ledger_of_another_network_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    ledger = dcep.Ledger.open(path, network_id="shenzhen-pilot")
    dcep.CentralBank(ledger, seed=CENTRAL_SEED)
    ledger.close()
    content, listing = path.read_bytes(), _listing(tmp_path)
    with pytest.raises(dcep.JournalError) as caught:
        dcep.Ledger.open(path, network_id="dcep-sim")
    assert caught.value.reason is dcep.Reason.STORE_NOT_DCEP
    assert "shenzhen-pilot" in str(caught.value)
    assert path.read_bytes() == content
    assert _listing(tmp_path) == listing
    reopened = dcep.Ledger.open(path, network_id="shenzhen-pilot")
    assert reopened.entry_count == 1
    reopened.close()


# -- torn writes ------------------------------------------------------------------------


def _clean_error_or_valid_prefix(path: Path, original: list[Row]) -> str:
    """Open ``path``: a typed refusal, or a prefix of ``original`` that verifies.

    Returns what happened, for the record; raises AssertionError on anything else.
    """
    try:
        ledger = dcep.Ledger.open(path)
    except dcep.JournalError as error:
        return f"refused: {error.reason.value}"
    except Exception as error:
        raise AssertionError(
            f"opening raised {type(error).__name__}: {error}, not a JournalError"
        ) from error
    try:
        journal = ledger.journal
        assert journal is not None
        kept = list(journal.store.read_entries())
        wrong = [
            number
            for number, row in enumerate(kept)
            if number >= len(original) or row != original[number]
        ]
        assert not wrong, (
            f"opened, but stored entries {wrong} are not those written "
            f"(entry {wrong[0]} reads {kept[wrong[0]]!r:.60}...); "
            f"the recovery report says {journal.recovery}"
        )
        assert len(kept) <= len(original)
        assert ledger.entry_count == len(kept)
        assert journal.head_hash == (kept[-1][2] if kept else bytes(32))
        ledger.check_invariants()
    finally:
        ledger.close()
    verdict = _verdict(path)
    assert verdict is None, f"opened, but a replica refuses the file: {verdict!r}"
    return f"kept {len(kept)} of {len(original)} entries"


def _page_size(path: Path) -> int:
    with path.open("rb") as handle:
        header = handle.read(100)
    size = int.from_bytes(header[16:18], "big")
    return 65536 if size == 1 else size


def _truncate(path: Path, size: int) -> None:
    with path.open("r+b") as handle:
        handle.truncate(size)


#: Where to cut a closed database, from its size and page size, and what
#: SQLite 3.40 did with this test's 30-page file.  A cleanly closed file has no
#: journal to repair it from: SQLite reports the pages past the end as
#: corruption ("database disk image is malformed": STORE_CORRUPT) when a query
#: reaches them, but a cut inside the last page is a short read, which SQLite
#: pads with zeros and does not report, so the rows on that page come back
#: mangled (NULL bodies, number 0) instead.
FILE_CUTS: Final[dict[str, Callable[[int, int], int]]] = {
    # Pages past the cut are missing: STORE_CORRUPT.
    "half": lambda size, page: size // 2,
    # The same, cut inside a page: STORE_CORRUPT.
    "half, inside a page": lambda size, page: size // 2 + 1234,
    # Only the first page (the header, application_id, user_version) and a bit
    # of the second: STORE_CORRUPT.
    "inside the second page": lambda size, page: page + 100,
    # Inside the 100-byte header: the application_id at offset 68 is gone, so
    # the file reads as "an SQLite database, but not a dcep ledger":
    # STORE_NOT_DCEP, typed but misleading.
    "inside the file header": lambda size, page: 50,
    # The last page held the last entries (42-46): they come back as number 0
    # with NULL bodies.  Ledger.open, which trusts the snapshot and never reads
    # the entries it covers, opened the file and reported nothing dropped;
    # only a replica noticed.  (When the last page held snapshot_receipts rows,
    # the NULLs reached SqliteStore.latest_snapshot: TypeError from int(None).)
    "half of the last page": lambda size, page: size - page // 2,
    # One byte short: entry 42, whose cell ends the page, lost its last byte to
    # the zero padding; Ledger.open accepted the file the same way.
    "all but the last byte": lambda size, page: size - 1,
}


@pytest.mark.parametrize("where", list(FILE_CUTS))
def test_a_truncated_database_is_refused_or_keeps_a_valid_prefix(
    pristine: Pristine, tmp_path: Path, where: str
) -> None:
    path = _copy(pristine.path, tmp_path)
    size = path.stat().st_size
    _truncate(path, FILE_CUTS[where](size, _page_size(path)))
    _clean_error_or_valid_prefix(path, pristine.entries)


@pytest.mark.slow  # the truncation sweep: a copy cut every 509 bytes, each opened
def test_every_truncation_point_is_refused_or_keeps_a_valid_prefix(
    pristine: Pristine, tmp_path: Path
) -> None:
    # Every 509 bytes (prime, so the cuts fall at every offset within pages).
    size = pristine.path.stat().st_size
    problems = []
    for cut in range(1, size, 509):
        path = _copy(pristine.path, tmp_path, f"cut{cut}.db")
        _truncate(path, cut)
        try:
            _clean_error_or_valid_prefix(path, pristine.entries)
        except AssertionError as error:
            problems.append(f"cut at {cut} of {size}: {str(error).splitlines()[0]}")
    assert not problems, "\n".join(problems)


class LiveCopy(NamedTuple):
    """A database and its WAL, copied while the ledger writing them was open."""

    directory: Path
    entries: list[Row]
    wal_size: int
    frame_size: int
    #: Indexes of the WAL's commit frames (the last frame of each transaction).
    commits: list[int]

    @property
    def last_spanning_commit(self) -> int:
        """The commit frame of the last transaction written in more than one frame."""
        return [b for a, b in itertools.pairwise(self.commits) if b - a >= 2][-1]

    def kept_bytes(self, cut: int) -> int:
        """How much of a WAL cut at ``cut`` is whole transactions: what SQLite keeps."""
        if cut < WAL_HEADER:
            return 0
        whole_frames = (cut - WAL_HEADER) // self.frame_size
        committed = [index for index in self.commits if index < whole_frames]
        return WAL_HEADER + (committed[-1] + 1) * self.frame_size if committed else 0


WAL_HEADER: Final = 32


@pytest.fixture(scope="module")
def live_copy(tmp_path_factory: pytest.TempPathFactory) -> LiveCopy:
    live = tmp_path_factory.mktemp("live") / "city.db"
    ledger = dcep.Ledger.open(live, block_size=BLOCK_SIZE)  # Durability.SYNC, the default
    _populate(ledger)
    wal = live.with_name("city.db-wal")
    # Every submit was committed to the WAL, none checkpointed into the file yet.
    assert wal.stat().st_size > 0
    copy = tmp_path_factory.mktemp("copy")
    shutil.copyfile(live, copy / "city.db")
    shutil.copyfile(wal, copy / "city.db-wal")
    assert ledger.journal is not None
    entries = list(ledger.journal.store.read_entries())
    ledger.close()
    log = (copy / "city.db-wal").read_bytes()
    magic, _, page_size = struct.unpack(">III", log[:12])
    assert magic in (0x377F0682, 0x377F0683)
    frame_size = 24 + page_size
    assert (len(log) - WAL_HEADER) % frame_size == 0
    frames = (len(log) - WAL_HEADER) // frame_size
    # A frame header's second word is the database size after a commit, 0 otherwise.
    commits = [
        index
        for index in range(frames)
        if struct.unpack_from(">I", log, WAL_HEADER + index * frame_size + 4)[0]
    ]
    assert commits[-1] == frames - 1
    return LiveCopy(copy, entries, len(log), frame_size, commits)


#: Where to cut the copied WAL (32-byte header, then frames of 24 + page bytes),
#: and what SQLite 3.40 did.  On opening, SQLite rebuilds its WAL index from
#: the WAL: it accepts frames while their salts and running checksums are good
#: and keeps everything up to the last commit frame among them; the torn frame
#: and the other frames of the transaction it belonged to are dropped.
#: Here the main file held only its first page (WAL mode, no tables yet): the
#: schema with dcep's marks (frames 0-23, one transaction) and every entry (one
#: transaction each, 47 in all) lived in the WAL's 83 frames.
WAL_CUTS: Final[dict[str, Callable[[LiveCopy], int]]] = {
    # The WAL header is torn, so SQLite ignores the whole WAL: what is left has
    # no dcep marks and is refused as STORE_NOT_DCEP ("not a dcep ledger").
    "inside the WAL header": lambda live: 16,
    # The schema's transaction is incomplete: likewise STORE_NOT_DCEP.
    "inside the first frame": lambda live: WAL_HEADER + live.frame_size // 2,
    "a quarter in, mid-frame": lambda live: (
        WAL_HEADER + (live.wal_size - WAL_HEADER) // live.frame_size // 4 * live.frame_size + 7
    ),
    # SQLite kept the transactions before the torn frame: 15 of 47 entries.
    "half way, mid-frame": lambda live: (
        WAL_HEADER + (live.wal_size - WAL_HEADER) // live.frame_size // 2 * live.frame_size + 1001
    ),
    # Cut just before the commit frame of a transaction of several frames: no
    # frame is torn, but the transaction is unfinished, so SQLite drops its
    # first frames too: 42 of 47 entries kept.
    "at a frame boundary inside a transaction": lambda live: (
        WAL_HEADER + live.last_spanning_commit * live.frame_size
    ),
    # The last transaction (the last entry) dropped: 46 of 47 entries kept.
    "inside the last frame": lambda live: live.wal_size - live.frame_size // 2,
    # Likewise 46 of 47 kept: one missing byte and the last frame is incomplete.
    "all but the last byte": lambda live: live.wal_size - 1,
    # Not torn: all 47 entries kept.
    "nothing": lambda live: live.wal_size,
}


def _torn_copy(live_copy: LiveCopy, directory: Path, where: str) -> tuple[Path, int]:
    """A copy of the live database with its WAL cut ``where``; and the cut."""
    path = _copy(live_copy.directory / "city.db", directory)
    wal = _copy(live_copy.directory / "city.db-wal", directory, "city.db-wal")
    cut = WAL_CUTS[where](live_copy)
    _truncate(wal, cut)
    return path, cut


@pytest.mark.parametrize("where", list(WAL_CUTS))
def test_a_torn_wal_is_refused_or_keeps_a_valid_prefix(
    live_copy: LiveCopy, tmp_path: Path, where: str
) -> None:
    path, _ = _torn_copy(live_copy, tmp_path, where)
    outcome = _clean_error_or_valid_prefix(path, live_copy.entries)
    if where == "nothing":
        assert outcome == f"kept {len(live_copy.entries)} of {len(live_copy.entries)} entries"


@pytest.mark.parametrize(
    "where",
    [
        "half way, mid-frame",
        "at a frame boundary inside a transaction",
        "inside the last frame",
        "all but the last byte",
        "nothing",
    ],
)
def test_recovery_from_a_torn_wal_reports_what_was_dropped(
    live_copy: LiveCopy, tmp_path: Path, where: str
) -> None:
    # The requirement: recovery keeps the valid prefix *and reports what was
    # dropped*.  What SQLite dropped is everything after the last whole
    # transaction: the torn frame and the whole frames of its transaction.
    path, cut = _torn_copy(live_copy, tmp_path, where)
    dropped = cut - live_copy.kept_bytes(cut)
    ledger = dcep.Ledger.open(path)
    try:
        assert ledger.journal is not None
        recovery = ledger.journal.recovery
        assert recovery is not None
        assert 0 < ledger.entry_count <= len(live_copy.entries)
        assert recovery.torn_bytes_dropped == dropped, (
            f"SQLite dropped {dropped} bytes; the recovery report says {recovery}"
        )
    finally:
        ledger.close()


def test_a_recovered_prefix_can_be_written_to_and_still_verifies(
    live_copy: LiveCopy, tmp_path: Path
) -> None:
    path, _ = _torn_copy(live_copy, tmp_path, "half way, mid-frame")
    ledger = dcep.Ledger.open(path, block_size=BLOCK_SIZE)
    kept = ledger.entry_count
    assert 0 < kept < len(live_copy.entries)
    pboc = dcep.CentralBank(ledger, seed=CENTRAL_SEED)  # the same key: no second genesis
    pboc.authorise_bank("Late Bank", code="MA.156.1100.09", reserves=cny("100"))
    assert ledger.journal is not None
    ledger.journal.snapshot()
    ledger.close()
    assert _verdict(path) is None
    entries, _ = _read_store(path)
    assert entries[:kept] == live_copy.entries[:kept]
    assert len(entries) == kept + 1


# -- trust nothing unsigned (issue #27) --------------------------------------------------
#
# Each edit the issue lists, made with plain ``sqlite3``: every one ends in a
# typed, named refusal, by ``Ledger.open`` where it reads the damaged part,
# by a replica and by ``dcep verify``; a refused open leaves the files as they were.


def _central_key(seed: int = CENTRAL_SEED) -> dcep.values.VerifyKey:
    return dcep.CentralBank(dcep.Ledger(), seed=seed).verify_key


def _assert_open_refused(
    path: Path, reason: dcep.Reason, *, entry: int | None = None, block: int | None = None
) -> dcep.JournalError:
    """``Ledger.open`` refuses ``path`` with ``reason`` (naming ``entry``/``block``), untouched."""
    content, listing = path.read_bytes(), _listing(path.parent)
    with pytest.raises(dcep.JournalError) as caught:
        dcep.Ledger.open(path)
    error = caught.value
    assert error.reason is reason, error
    if entry is not None:
        assert error.entry == entry, error
    if block is not None:
        assert error.block == block, error
    assert path.read_bytes() == content
    assert _listing(path.parent) == listing
    return error


@pytest.fixture(scope="module")
def tailed(tmp_path_factory: pytest.TempPathFactory) -> Pristine:
    """A database whose last entries are in no block: written, never sealed (a crash)."""
    path = tmp_path_factory.mktemp("tailed") / "city.db"
    ledger = dcep.Ledger.open(path, block_size=BLOCK_SIZE, snapshot_every_blocks=SNAPSHOT_EVERY)
    _populate(ledger)
    assert ledger.journal is not None
    ledger.journal.flush()
    ledger.journal.store.close()  # not ledger.close(): that would seal the open block
    entries, blocks = _read_store(path)
    assert len(entries) % BLOCK_SIZE != 0
    assert len(blocks) == len(entries) // BLOCK_SIZE
    return Pristine(path, entries, blocks)


def _opening_key(ledger: dcep.Ledger, wallet: dcep.Address) -> dcep.values.VerifyKey:
    """The key ``wallet`` was opened with: the ledger keeps none, its journal does."""
    assert ledger.journal is not None
    for _, body, _ in ledger.journal.store.read_entries():
        envelope = dcep.journal.JournalEntry.decode(body, bytes(32)).envelope
        instruction = dcep.instructions.SignedInstruction.from_bytes(envelope).instruction
        for field in ("wallet_key", "sub_wallet_key"):
            key = getattr(instruction, field, None)
            if isinstance(key, dcep.values.VerifyKey) and key.address == wallet:
                return key
    raise AssertionError(f"no entry opened {wallet}")


def _forged_payment(path: Path, scratch: Path) -> tuple[dcep.journal.JournalEntry, int]:
    """A well-formed entry appended to ``path``'s journal: a payment no one signed.

    It chains to the head and carries exactly the postings re-executing it
    gives; only its signature (64 zero bytes) is wrong.  Returns the entry and
    the fen it takes from its victim.
    """
    shutil.copyfile(path, scratch)
    ledger = dcep.Ledger.open(scratch)
    try:
        wallets = [w for w in ledger.wallets() if not ledger.is_frozen(w.address)]
        victim = max(wallets, key=lambda wallet: wallet.balance.fen)
        thief = next(w for w in wallets if w.category == 2 and w.address != victim.address)
        amount = dcep.Amount(min(victim.balance.fen, 100_000))  # up to ¥1,000
        instruction = dcep.instructions.Transfer(
            2**100,
            ledger.last_sequence(victim.address) + 1,
            payer=victim.address,
            payee=thief.address,
            amount=amount,
            memo="never signed",
        )
        signed = dcep.instructions.SignedInstruction(
            _opening_key(ledger, victim.address),
            bytes(64),
            dcep.instructions.encode_instruction(instruction),
        )
        captured: list[dcep.core.LedgerEntry] = []
        ledger.subscribe(captured.append)
        assert ledger.journal is not None
        head = ledger.journal.head_hash
        ledger.reapply(signed, ledger.last_entry_time_us + 1)  # what recovery used to do
        assert ledger.balance(victim.address).fen == victim.balance.fen - amount.fen
        return dcep.journal.JournalEntry.from_ledger_entry(captured[0], head), amount.fen
    finally:
        assert ledger.journal is not None
        ledger.journal.store.close()  # nothing of the forgery is written to the scratch file


@pytest.mark.parametrize("start", ["sealed", "tailed"])
def test_a_forged_entry_in_the_unsealed_tail_is_refused_on_open(
    pristine: Pristine, tailed: Pristine, tmp_path: Path, start: str
) -> None:
    # Before issue #27 recovery re-executed it without checking its signature,
    # and the next close sealed it into a block the central bank signed.
    source = pristine if start == "sealed" else tailed
    path = _copy(source.path, tmp_path)
    forged, taken = _forged_payment(path, tmp_path / "scratch.db")
    assert taken > 0
    number = len(source.entries)
    assert forged.number == number
    assert forged.previous_hash == source.entries[-1][2]
    _execute(path, "INSERT INTO entries VALUES (?, ?, ?)", (number, forged.body, forged.hash))
    error = _assert_open_refused(path, dcep.Reason.JOURNAL_REPLAY_DIVERGED, entry=number)
    assert error.block == len(source.blocks)
    assert "[signature_invalid]" in str(error)
    assert _assert_detected(path, must_name=True).entry == number
    _assert_cli_refuses(path, must_name=True)


def test_a_tail_entry_with_a_good_signature_still_opens(tailed: Pristine, tmp_path: Path) -> None:
    path = _copy(tailed.path, tmp_path)
    ledger = dcep.Ledger.open(path)
    try:
        assert ledger.journal is not None
        assert ledger.journal.recovery is not None
        assert ledger.journal.recovery.unsealed == len(tailed.entries) % BLOCK_SIZE
        ledger.check_invariants()
    finally:
        assert ledger.journal is not None
        ledger.journal.store.close()


def test_a_journal_rebuilt_under_another_central_bank_is_refused_against_the_anchor(
    pristine: Pristine, tmp_path: Path
) -> None:
    # The whole history again, every entry and block signed under another
    # "central bank": nothing in the file can tell, so it verifies on its own.
    rebuilt = tmp_path / "rebuilt.db"
    ledger = dcep.Ledger.open(rebuilt, block_size=BLOCK_SIZE, snapshot_every_blocks=SNAPSHOT_EVERY)
    _populate(ledger, central_seed=CENTRAL_SEED + 1)
    ledger.close()
    assert _verdict(rebuilt) is None
    store = dcep.journal.SqliteStore(rebuilt)
    try:
        report = dcep.Replica(store, network_id=store.network_id).catch_up()
        assert not report.anchored
        assert report.central_bank_key == _central_key(CENTRAL_SEED + 1)
        with pytest.raises(dcep.JournalError) as caught:
            dcep.Replica(store, central_bank_key=_central_key()).catch_up()
        anchored = dcep.Replica(store, central_bank_key=report.central_bank_key).catch_up()
        assert anchored.anchored
    finally:
        store.close()
    assert caught.value.reason is dcep.Reason.JOURNAL_UNTRUSTED_KEY
    assert (caught.value.entry, caught.value.block) == (0, 0)
    completed = _cli_verify(rebuilt, "--central-bank-key", bytes(_central_key()).hex())
    assert completed.returncode == 1, completed.stdout
    assert "[journal_untrusted_key]" in completed.stderr
    assert "(at block 0, entry 0)" in completed.stderr
    assert "Traceback" not in completed.stderr
    # The genuine file verifies against the genuine key.
    store = dcep.journal.SqliteStore(pristine.path)
    try:
        assert dcep.Replica(store, central_bank_key=_central_key()).catch_up().anchored
    finally:
        store.close()


def _corrupt_entries_page(path: Path) -> None:
    """Overwrite the b-tree page header of the entries table's root page, as a bad sector."""
    connection = sqlite3.connect(path)
    try:
        (root,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'entries'"
        ).fetchone()
    finally:
        connection.close()
    raw = bytearray(path.read_bytes())
    offset = (root - 1) * _page_size(path) + (100 if root == 1 else 0)
    raw[offset : offset + 8] = b"\xff" * 8  # page type, freeblock, cell count, content start
    path.write_bytes(bytes(raw))


def test_a_damaged_entries_page_is_refused_typed(pristine: Pristine, tmp_path: Path) -> None:
    # Before: an uncaught sqlite3.DatabaseError from SqliteStore.entry_count().
    path = _copy(pristine.path, tmp_path)
    _corrupt_entries_page(path)
    error = _assert_open_refused(path, dcep.Reason.STORE_CORRUPT)
    assert "quick_check" in str(error) or "malformed" in str(error)
    _assert_detected(path, must_name=False)
    _assert_cli_refuses(path, must_name=False)


#: Values SQLite keeps as they are in a BLOB column: text, an integer, a real.
WRONG_TYPES: Final = {"text": "x", "integer": 7, "real": 2.5}
ROW_COLUMNS: Final = [
    ("entries", "body"),
    ("entries", "hash"),
    ("blocks", "header"),
    ("blocks", "signature"),
]


@pytest.mark.parametrize("kind", _fast_first(list(WRONG_TYPES)))
@pytest.mark.parametrize(("table", "column"), ROW_COLUMNS)
def test_a_row_of_the_wrong_type_is_refused_naming_it(
    pristine: Pristine, tmp_path: Path, table: str, column: str, kind: str
) -> None:
    # Before: ``UPDATE entries SET body = 'x' WHERE number = 5`` ended in a TypeError.
    key, number = ("number", 5) if table == "entries" else ("height", 0)
    path = _copy(pristine.path, tmp_path)
    _execute(path, f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (WRONG_TYPES[kind], number))
    error = _assert_detected(path, must_name=True)
    assert (error.entry if table == "entries" else error.block) == number, error
    if kind == "text":
        _assert_cli_refuses(path, must_name=True)


@pytest.mark.parametrize("kind", _fast_first(list(WRONG_TYPES)))
@pytest.mark.parametrize(("table", "column"), ROW_COLUMNS)
def test_a_row_of_the_wrong_type_that_recovery_reads_is_refused_on_open(
    tailed: Pristine, tmp_path: Path, table: str, column: str, kind: str
) -> None:
    # The last entry is in the unsealed tail and the last block after the
    # snapshot: recovery reads both.
    key, number = ("number", len(tailed.entries) - 1)
    if table == "blocks":
        key, number = ("height", len(tailed.blocks) - 1)
    path = _copy(tailed.path, tmp_path)
    _execute(path, f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (WRONG_TYPES[kind], number))
    where = {"entry": number} if table == "entries" else {"block": number}
    _assert_open_refused(path, dcep.Reason.STORE_CORRUPT, **where)


POLICY_EDITS: Final = {
    "deleted": ("DELETE FROM meta WHERE key = 'policy'", ()),
    "not a policy": ("UPDATE meta SET value = 'policy/1 nonsense' WHERE key = 'policy'", ()),
    "empty": ("UPDATE meta SET value = '' WHERE key = 'policy'", ()),
    "a blob": ("UPDATE meta SET value = x'00ff' WHERE key = 'policy'", ()),
    "not UTF-8": ("UPDATE meta SET value = CAST(x'ff70' AS TEXT) WHERE key = 'policy'", ()),
}


@pytest.mark.parametrize("edit", _fast_first(list(POLICY_EDITS)))
def test_a_missing_or_unreadable_policy_is_refused_never_defaulted(
    pristine: Pristine, tmp_path: Path, edit: str
) -> None:
    path = _copy(pristine.path, tmp_path)
    _execute(path, *POLICY_EDITS[edit])
    error = _assert_open_refused(path, dcep.Reason.STORE_CORRUPT)
    assert "policy" in str(error)
    completed = _cli_verify(path)
    assert completed.returncode == 1, completed.stdout
    assert "[store_corrupt]" in completed.stderr
    assert "Traceback" not in completed.stderr


# -- edits an attacker without the central bank's key would make (issue #27) -----------


def _state_of(path: Path) -> object:
    ledger = dcep.Ledger.open(path)
    try:
        return ledger.snapshot()
    finally:
        ledger.close()


def _assert_open_sets_the_snapshot_aside(path: Path, pristine: Pristine) -> dcep.Ledger:
    """``Ledger.open`` refuses the snapshot, replays from the genesis, says so, and
    reaches the state the untouched file holds; the ledger is returned open."""
    ledger = dcep.Ledger.open(path)
    assert ledger.journal is not None
    report = ledger.journal.recovery
    assert report is not None
    assert report.snapshot_refused is not None
    assert "[store_corrupt]" in report.snapshot_refused
    assert report.from_snapshot == 0
    assert report.replayed == len(pristine.entries)
    scratch = path.with_name("pristine-copy.db")
    shutil.copyfile(pristine.path, scratch)
    assert ledger.snapshot() == _state_of(scratch)
    return ledger


def _first_snapshot_row(path: Path, table: str) -> tuple[object, ...]:
    connection = sqlite3.connect(path)
    try:
        row: tuple[object, ...] = connection.execute(
            f"SELECT * FROM {table} ORDER BY position LIMIT 1"
        ).fetchone()
    finally:
        connection.close()
    return row


def test_a_wallet_address_replaced_by_a_thiefs_is_set_aside_and_named(
    pristine: Pristine, tmp_path: Path
) -> None:
    # Before: the thief's address held the victim's balance after reopening.
    path = _copy(pristine.path, tmp_path)
    victim = _first_snapshot_row(path, "snapshot_wallets")[0]
    assert isinstance(victim, bytes)
    thief = dcep.values.SigningKey(b"thief".ljust(32, b"\0")).address
    _execute(
        path,
        "UPDATE snapshot_wallets SET address = ? WHERE address = ?",
        (bytes(thief), victim),
    )
    ledger = _assert_open_sets_the_snapshot_aside(path, pristine)
    try:
        with pytest.raises(dcep.UnknownPartyError):
            ledger.wallet(thief)
        assert ledger.balance(dcep.Address(victim)).fen > 0
    finally:
        ledger.close()
    _assert_detected(path, must_name=False)
    _assert_cli_refuses(path, must_name=False)


def test_a_deleted_frozen_row_is_set_aside_and_named(pristine: Pristine, tmp_path: Path) -> None:
    # Before: the frozen wallet paid again after reopening.
    path = _copy(pristine.path, tmp_path)
    frozen = _first_snapshot_row(path, "snapshot_frozen")[0]
    assert isinstance(frozen, bytes)
    _execute(path, "DELETE FROM snapshot_frozen WHERE wallet = ?", (frozen,))
    ledger = _assert_open_sets_the_snapshot_aside(path, pristine)
    try:
        assert ledger.is_frozen(dcep.values.Address(frozen))
    finally:
        ledger.close()
    _assert_detected(path, must_name=False)
    _assert_cli_refuses(path, must_name=False)


@pytest.mark.parametrize(
    ("table", "column", "change"),
    [
        ("snapshot_wallets", "balance_fen", 100_00),
        ("snapshot_wallets", "category", -3),
        ("snapshot_banks", "vault_fen", -100_00),
        ("snapshot_sequences", "last", -1),
    ],
)
def test_a_changed_snapshot_number_is_set_aside_and_named(
    pristine: Pristine, tmp_path: Path, table: str, column: str, change: int
) -> None:
    path = _copy(pristine.path, tmp_path)
    _execute(
        path,
        f"UPDATE {table} SET {column} = {column} + ? WHERE position = "
        f"(SELECT max(position) FROM {table})",
        (change,),
    )
    _assert_open_sets_the_snapshot_aside(path, pristine).close()
    _assert_detected(path, must_name=False)


def test_a_snapshot_whose_root_is_not_signed_is_set_aside(
    pristine: Pristine, tmp_path: Path
) -> None:
    path = _copy(pristine.path, tmp_path)
    ((_, certificate),) = _column(path, "snapshot", "certificate")
    assert isinstance(certificate, bytes)
    forged = certificate[:-1] + bytes([certificate[-1] ^ 1])  # the signature's last byte
    _execute(path, "UPDATE snapshot SET certificate = ?", (forged,))
    _assert_open_sets_the_snapshot_aside(path, pristine).close()
    _assert_detected(path, must_name=False)


@pytest.mark.parametrize("start", ["sealed", "tailed"])
def test_a_changed_but_readable_policy_is_refused_and_named(
    pristine: Pristine, tailed: Pristine, tmp_path: Path, start: str
) -> None:
    # Before: raising the category-4 caps passed verify, and a payment over the
    # signed cap was accepted after reopening.  The state root (sealed) and
    # every header (tailed: recovery replays blocks) carry the policy's digest.
    path = _copy((pristine if start == "sealed" else tailed).path, tmp_path)
    _execute(
        path,
        "UPDATE meta SET value = replace(value, ' 4=100000,50000,', ' 4=100000,90000,') "
        "WHERE key = 'policy'",
    )
    store = dcep.journal.SqliteStore(path)
    try:
        assert "4=100000,90000," in str(store.meta("policy"))
    finally:
        store.close()
    error = _assert_open_refused(path, dcep.Reason.STORE_CORRUPT)
    assert "policy" in str(error) or "settings_digest" in str(error)
    verdict = _assert_detected(path, must_name=True)
    assert verdict.block == 0, verdict
    assert "settings_digest" in str(verdict)
    _assert_cli_refuses(path, must_name=True)


@pytest.mark.parametrize("start", ["sealed", "tailed"])
def test_a_changed_network_id_is_refused_on_open(
    pristine: Pristine, tailed: Pristine, tmp_path: Path, start: str
) -> None:
    # The network id is not signed; the genesis signature covers it.  The
    # sealed file is all snapshot: recovery re-executes nothing at all.
    path = _copy((pristine if start == "sealed" else tailed).path, tmp_path)
    _execute(path, "UPDATE meta SET value = 'shenzhen-pilot' WHERE key = 'network_id'")
    error = _assert_open_refused(path, dcep.Reason.STORE_CORRUPT, entry=0)
    assert "'shenzhen-pilot'" in str(error)
    _assert_detected(path, must_name=True)
    _assert_cli_refuses(path, must_name=True)


def test_a_signed_instruction_of_wrong_field_types_is_a_typed_error() -> None:
    key = dcep.values.SigningKey(bytes(32)).verify_key
    body = dcep.instructions.encode_instruction(
        dcep.instructions.Genesis(
            1, 1, name="PBOC", code=dcep.InstitutionCode.parse("MA.156.1100.00")
        )
    )
    for arguments, field in [
        (("not a key", bytes(64), body), "signer"),
        ((key, "not bytes", body), "signature"),
        ((key, bytes(64), 7), "body"),
    ]:
        with pytest.raises(dcep.InvalidFieldError) as caught:
            dcep.instructions.SignedInstruction(*arguments)  # type: ignore[arg-type]
        assert caught.value.reason is dcep.Reason.FIELD_INVALID
        assert caught.value.field == field


def test_a_new_ledger_in_a_missing_directory_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no such folder"
    with pytest.raises(dcep.InvalidFieldError) as caught:
        dcep.Ledger.open(missing / "city.db")
    assert caught.value.reason is dcep.Reason.FIELD_INVALID
    assert caught.value.field == "path"
    assert str(missing) in str(caught.value)
    assert not missing.exists()
