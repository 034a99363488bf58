"""A checkpoint seen before holds a later copy of the journal to it: no cutting back."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

import dcep
import dcep.journal
import dcep.ledger
from dcep.cli import main

BLOCK_SIZE = 4


def _write(path: Path, payments: int) -> dcep.CentralBank:
    ledger = dcep.Ledger.open(path, block_size=BLOCK_SIZE)
    if ledger.central_bank is None:
        pboc = dcep.CentralBank(ledger, seed=31)
        icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=dcep.cny("10000"))
        pboc.issue(icbc, dcep.cny("10000"))
        for number, phone in enumerate(("13800000000", "13900000000")):
            wallet = icbc.open_wallet(category=4, phone=phone, seed=f"wallet {number}")
            icbc.fund(wallet, dcep.cny("500"))
    else:
        pboc = dcep.CentralBank.restore(ledger, seed=31)
    icbc = pboc.bank("ICBC")  # its key derives from the central bank's seed
    alice, bob = (
        icbc.wallet(w.address, seed=f"wallet {number}")
        for number, w in enumerate(ledger.wallets())
    )
    for _ in range(payments):
        alice.pay(bob, dcep.cny("1"))
    ledger.close()
    return pboc


def _verify(
    path: Path, since: dcep.journal.Checkpoint | None = None
) -> dcep.ledger.VerificationReport:
    store = dcep.journal.SqliteStore(path, create=False)
    try:
        replica = dcep.Replica(store, network_id=store.network_id)
        return replica.catch_up(since=since)
    finally:
        store.close()


def _cut_back(path: Path, blocks: int) -> None:
    """What an attacker with write access does: drop the last blocks, their entries, snapshots."""
    connection = sqlite3.connect(path)
    try:
        (height,) = connection.execute("SELECT count(*) FROM blocks").fetchone()
        keep = height - blocks
        (first_dropped,) = connection.execute(
            "SELECT min(number) FROM entries WHERE number >= ?", (keep * BLOCK_SIZE,)
        ).fetchone()
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        connection.execute("DELETE FROM blocks WHERE height >= ?", (keep,))
        connection.execute("DELETE FROM entries WHERE number >= ?", (first_dropped,))
        for table in tables:
            if table.startswith("snapshot"):
                connection.execute(f"DELETE FROM {table}")
        connection.commit()
    finally:
        connection.close()


def test_a_file_that_extends_the_checkpoint_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "city.db"
    _write(path, payments=6)
    first = _verify(path)
    assert first.checkpoint is not None
    _write(path, payments=9)  # the ledger goes on
    later = _verify(path, since=first.checkpoint)
    assert later.checkpoint is not None
    assert later.checkpoint.height > first.checkpoint.height


def test_a_file_cut_back_is_refused_though_it_verifies_alone(tmp_path: Path) -> None:
    path = tmp_path / "city.db"
    _write(path, payments=14)
    seen = _verify(path).checkpoint
    assert seen is not None
    cut = tmp_path / "cut.db"
    shutil.copyfile(path, cut)
    _cut_back(cut, blocks=1)
    alone = _verify(cut)  # consistent with itself: a file cannot prove it is whole
    assert alone.checkpoint is not None
    assert alone.checkpoint.height == seen.height - 1
    with pytest.raises(dcep.JournalError) as caught:
        _verify(cut, since=seen)
    assert caught.value.reason is dcep.Reason.JOURNAL_ROLLED_BACK


def test_another_block_at_the_checkpoint_height_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "city.db"
    _write(path, payments=6)
    seen = _verify(path).checkpoint
    assert seen is not None
    other = dcep.journal.Checkpoint(seen.height, bytes(32))
    with pytest.raises(dcep.JournalError) as caught:
        _verify(path, since=other)
    assert caught.value.reason is dcep.Reason.JOURNAL_ROLLED_BACK


def test_verify_prints_a_checkpoint_and_since_refuses_a_cut_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "city.db"
    pboc = _write(path, payments=14)
    key = bytes(pboc.verify_key).hex()
    assert main(["verify", str(path), "--central-bank-key", key]) == 0
    printed = capsys.readouterr().out
    (line,) = [line for line in printed.splitlines() if " checkpoint " in line]
    checkpoint = line.split(" checkpoint ")[1].split()[0]
    cut = tmp_path / "cut.db"
    shutil.copyfile(path, cut)
    _cut_back(cut, blocks=1)
    assert main(["verify", str(cut), "--central-bank-key", key]) == 0
    capsys.readouterr()
    assert main(["verify", str(cut), "--central-bank-key", key, "--since", checkpoint]) == 1
    assert "journal_rolled_back" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["", "7", "7:", "x:" + "00" * 32, "0:" + "00" * 32, "7:00"])
def test_a_checkpoint_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(dcep.InvalidFieldError):
        dcep.journal.Checkpoint.parse(text)
