"""A database of this format still opens, verifies and matches, byte for byte.

``tests/data/journal_v4_reference.db`` was written with
:func:`write_reference_ledger` when format 4 (a snapshot keeps each
wallet's address, no longer its public key; issue #26) was introduced.
Moving code between modules must change nothing that a journal stores: the
same script today must write the same rows, and the file must open and
verify as it is.

``tests/data/journal_v2_reference.db`` is the same script's file in format 2
(LtHash16 commitments, written by the flat-module layout, commit a630aab),
and ``journal_v3_reference.db`` in format 3 (changes roots and signed state
roots over snapshots that kept wallets' public keys, commit b7bf8d1): each
must be refused with a typed error naming its format version.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

import dcep

REFERENCE = Path(__file__).parent / "data" / "journal_v4_reference.db"
OLD_FORMATS = {
    version: Path(__file__).parent / "data" / f"journal_v{version}_reference.db"
    for version in (2, 3)
}


def write_reference_ledger(path: Path) -> None:
    """Two banks, ten wallets, thirty payments, blocks of 8: what the reference file holds."""
    ledger = dcep.Ledger.open(path, block_size=8)
    pboc = dcep.CentralBank(ledger, seed=2026)
    icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=dcep.cny("100000"))
    boc = pboc.authorise_bank("BOC", code="MA.156.3100.02", reserves=dcep.cny("50000"))
    pboc.issue(icbc, dcep.cny("60000"))
    pboc.issue(boc, dcep.cny("20000"))
    wallets = [icbc.open_wallet(category=4, phone=f"1380000{i:04d}") for i in range(6)]
    wallets += [
        boc.open_wallet(category=3, phone=f"1390000{i:04d}", id_number=f"11010119900101{i:04d}")
        for i in range(4)
    ]
    for wallet in wallets[:6]:
        icbc.fund(wallet, dcep.cny("500"))
    for wallet in wallets[6:]:
        boc.fund(wallet, dcep.cny("900"))
    for i in range(30):
        wallets[i % 10].pay(wallets[(i * 3 + 1) % 10], dcep.cny(f"{i + 1}.25"), memo=f"p{i}")
    ledger.close()


def _dump(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def test_the_same_script_writes_the_same_rows(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    write_reference_ledger(fresh)
    assert _dump(fresh) == _dump(REFERENCE)


def test_the_reference_file_opens_and_verifies(tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    shutil.copyfile(REFERENCE, copy)
    ledger = dcep.Ledger.open(copy)
    try:
        assert ledger.entry_count == 55
        assert ledger.check_invariants().outstanding == dcep.cny("80000")
        journal = ledger.journal
        assert journal is not None
        verified = dcep.Replica(journal.store).catch_up()
        assert verified.entries_verified == 55
        assert verified.blocks_verified == journal.height == 7
    finally:
        ledger.close()


@pytest.mark.parametrize("version", sorted(OLD_FORMATS))
def test_an_older_format_is_refused_naming_its_version(tmp_path: Path, version: int) -> None:
    copy = tmp_path / "old.db"
    shutil.copyfile(OLD_FORMATS[version], copy)
    before = copy.read_bytes()
    with pytest.raises(dcep.JournalError) as caught:
        dcep.Ledger.open(copy)
    assert caught.value.reason is dcep.Reason.STORE_VERSION_UNSUPPORTED
    assert f"format version {version}" in str(caught.value)
    assert copy.read_bytes() == before
