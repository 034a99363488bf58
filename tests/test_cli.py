"""The command line: ``dcep demo``, ``dcep verify PATH``, ``dcep inspect PATH``.

The commands run in-process through :func:`dcep.cli._main.main` (output captured
with ``capsys``), and once as ``python -m dcep`` in a subprocess.  The
figures ``inspect`` must print are worked out by hand from the instructions
the test submits, not read back from the ledger.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Final, NamedTuple

import pytest

import dcep
import dcep.cli
import dcep.journal
import dcep.values
from dcep import cny
from dcep.cli._main import main

REPO: Final = Path(__file__).resolve().parents[1]
BLOCK_SIZE: Final = 5


class Built(NamedTuple):
    """A closed ledger database and what the test put in it, counted by hand."""

    path: Path
    entries: int
    blocks: int


def _central_key(seed: int = 5) -> str:
    """The hex public key of the central bank ``_build`` uses: the trust anchor."""
    return bytes(dcep.CentralBank(dcep.Ledger(), seed=seed).verify_key).hex()


def _build(path: Path, *, snapshot: bool = False, central_seed: int = 5) -> Built:
    """Two banks, seven wallets of three categories, payments, a defund, a redemption."""
    ledger = dcep.Ledger.open(path, block_size=BLOCK_SIZE)
    pboc = dcep.CentralBank(ledger, seed=central_seed)  # 1 entry: genesis
    icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("600000"))
    hebei = pboc.authorise_bank("Bank of Hebei", code="MA.156.1301.01", reserves=cny("200000"))
    pboc.issue(icbc, cny("300000"))
    pboc.issue(hebei, cny("100000"))  # 5 entries so far
    icbc.pay_in("6222-0001", cny("10000"))  # 6
    wallets = [icbc.open_wallet(category=4, phone=f"1380000000{i}") for i in range(3)]
    salaried = icbc.open_wallet(
        category=2, phone="13900000001", id_number="110101199001011234", linked_account="6222-0001"
    )
    wallets.append(salaried)
    wallets += [
        hebei.open_wallet(category=3, phone=f"1370000000{i}", id_number=f"13010119900101{i:04d}")
        for i in range(2)
    ]
    wallets.append(hebei.open_wallet(category=4, phone="13600000000"))  # 13
    for wallet in wallets:
        wallet.operator.fund(wallet, cny("500"))  # 20
    for i in range(6):
        wallets[i].pay(wallets[i + 1], cny("1"))  # 26
    salaried.defund(cny("50"))  # 27
    hebei.redeem(cny("2000"))  # 28
    assert ledger.journal is not None
    if snapshot:
        ledger.close()  # seals the open block and snapshots
    else:
        # Leave the last block open and no snapshot: write and close the store only.
        ledger.journal.flush()
        ledger.journal.store.close()
    entries = 28
    return Built(path, entries, -(-entries // BLOCK_SIZE) if snapshot else entries // BLOCK_SIZE)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("cli") / "city.db")


def _fresh_copy(built: Built, directory: Path) -> Path:
    target = directory / "copy.db"
    shutil.copyfile(built.path, target)
    return target


def _execute(path: Path, statement: str, parameters: tuple[object, ...] = ()) -> None:
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute(statement, parameters)
    finally:
        connection.close()


# -- demo -------------------------------------------------------------------------------


def test_demo_prints_every_section_and_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--wallets", "12", "--payments", "40", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "dcep demo (seed 3): 1 central bank, 3 banks, 12 wallets, 40 payments attempted"
    )
    for section in (
        "Supply by tier",
        "Banks (reserves available / vault / customer deposits / wallets)",
        "Wallets by category (count / e-CNY held)",
        "Rejections by reason (fundings and payments)",
        "Invariants verified: issued - redeemed = vaults + wallets",
    ):
        assert f"\n{section}" in out, section
    payments = re.search(r"^Payments: (\d+) settled, (\d+) refused$", out, re.M)
    assert payments is not None
    assert int(payments.group(1)) + int(payments.group(2)) == 40
    # The wallet table adds up to the wallets asked for and to the supply's wallet tier.
    rows = re.findall(r"^  ([1-4]) [a-z ]+?\s+(\d+)\s+(¥[\d,]+\.\d\d)$", out, re.M)
    assert [category for category, _, _ in rows] == ["1", "2", "3", "4"]
    assert sum(int(count) for _, count, _ in rows) == 12
    held = sum(dcep.cny(amount.lstrip("¥").replace(",", "")).fen for _, _, amount in rows)
    in_wallets = re.search(r"^  in user wallets\s+¥([\d,]+\.\d\d)$", out, re.M)
    assert in_wallets is not None
    assert held == dcep.cny(in_wallets.group(1).replace(",", "")).fen
    assert re.search(r"^\(\d+ entries in \d+\.\d\d s\)$", out, re.M)


def test_demo_is_the_same_every_time_for_a_seed(capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    for _ in range(2):
        assert main(["demo", "--wallets", "8", "--payments", "20", "--seed", "9"]) == 0
        out = capsys.readouterr().out
        outputs.append(out[: out.rindex("\n(")])  # all but the timing line
    assert outputs[0] == outputs[1]


# -- verify -----------------------------------------------------------------------------


def test_verify_a_good_file(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(built.path), "--central-bank-key", _central_key()]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.startswith(
        f"{built.path}: OK: {built.entries} entries in {built.blocks} blocks; "
    )
    verdict, checkpoint = captured.out.splitlines()
    assert verdict.endswith("verified against the trusted central bank key")
    assert checkpoint.startswith(f"{built.path}: checkpoint {built.blocks}:")
    assert "snapshot" not in captured.out  # none was taken (block 5 is still open)


def test_verify_without_a_trust_anchor_exits_3_and_says_so(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(built.path)]) == 3
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{built.path}: OK: {built.entries} entries")
    assert "trusted" not in captured.out
    assert captured.err.startswith(f"{built.path}: UNANCHORED: verified against no trust anchor")
    assert "--central-bank-key" in captured.err
    assert _central_key() in captured.err  # what the file names, to check out of band


def test_verify_a_journal_rebuilt_under_another_key_exits_1_naming_the_genesis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same history, every entry and block re-signed by another "central
    # bank": self-consistent, so it verifies without an anchor ...
    forged = _build(tmp_path / "forged.db", snapshot=True, central_seed=6)
    assert main(["verify", str(forged.path)]) == 3
    capsys.readouterr()
    # ... and is refused against the expected key, at the genesis.
    assert main(["verify", str(forged.path), "--central-bank-key", _central_key()]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"dcep verify: FAULT in {forged.path}: [journal_untrusted_key]")
    assert "(at block 0, entry 0)" in captured.err
    assert _central_key(6) in captured.err


def test_verify_says_it_checked_the_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshotted = _build(tmp_path / "city.db", snapshot=True)
    assert main(["verify", str(snapshotted.path), "--central-bank-key", _central_key()]) == 0
    out = capsys.readouterr().out
    assert f"OK: {snapshotted.entries} entries in {snapshotted.blocks} blocks" in out
    assert "snapshot and its signed state root and invariants verified" in out


def test_verify_a_tampered_entry_exits_1_naming_it(
    built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _fresh_copy(built, tmp_path)
    _execute(path, "UPDATE entries SET body = ? WHERE number = 7", (_flipped_body(path, 7),))
    assert main(["verify", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"dcep verify: FAULT in {path}: [journal_chain_broken]")
    assert "entry 7" in captured.err


def _flipped_body(path: Path, number: int) -> bytes:
    connection = sqlite3.connect(path)
    try:
        (body,) = connection.execute(
            "SELECT body FROM entries WHERE number = ?", (number,)
        ).fetchone()
    finally:
        connection.close()
    flipped = bytearray(body)
    flipped[29] ^= 0x01  # inside the signed envelope
    return bytes(flipped)


def test_verify_a_block_signed_by_another_key_exits_1_naming_it(
    built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _fresh_copy(built, tmp_path)
    connection = sqlite3.connect(path)
    try:
        (header,) = connection.execute("SELECT header FROM blocks WHERE height = 2").fetchone()
    finally:
        connection.close()
    forged = dcep.journal.SealedBlock.sign(
        dcep.journal.BlockHeader.decode(header), dcep.values.SigningKey(bytes(32)), b"dcep-sim"
    )
    _execute(path, "UPDATE blocks SET signature = ? WHERE height = 2", (forged.signature,))
    assert main(["verify", str(path)]) == 1
    err = capsys.readouterr().err
    assert "FAULT" in err
    assert "[journal_block_mismatch]" in err
    assert "block 2" in err


def test_verify_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.db"
    assert main(["verify", str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"dcep verify: {missing}: no such file\n"
    assert captured.out == ""
    assert not missing.exists()


def test_verify_a_file_that_is_not_a_ledger_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a ledger\n", encoding="utf-8")
    assert main(["verify", str(path)]) == 1
    assert "[store_not_dcep]" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "not a ledger\n"


@pytest.mark.parametrize("command", ["verify", "inspect"])
def test_a_directory_is_not_a_ledger_exits_1(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, str(tmp_path)]) == 1
    assert "[store_not_dcep]" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["demo", "--wallets", "1"], "--wallets: must be at least 2, not 1"),
        (["demo", "--payments", "-1"], "--payments: must be at least 0, not -1"),
        (["demo", "--wallets", "many"], "--wallets: not a whole number: 'many'"),
        (["verify", "x.db", "--workers", "0"], "--workers: must be at least 1, not 0"),
        (
            ["verify", "x.db", "--central-bank-key", "abc"],
            "--central-bank-key: not a public key: 'abc' (64 hex digits, 32 bytes)",
        ),
        (
            ["verify", "x.db", "--central-bank-key", "zz" * 32],
            "--central-bank-key: not a public key",
        ),
    ],
)
def test_a_bad_count_is_a_usage_error(
    arguments: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(arguments)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: dcep ")
    assert complaint in err


# -- inspect ----------------------------------------------------------------------------


def test_inspect_prints_the_figures_worked_out_by_hand(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(built.path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{built.path} (")
    assert lines[0].endswith("bytes), network 'dcep-sim'")
    summary = {
        match.group(1): match.group(2)
        for line in lines
        if (match := re.match(r"^  (\w[\w ]*?)\s{2,}(.+)$", line))
    }
    issued, redeemed = cny("300000") + cny("100000"), cny("2000")
    in_wallets = cny("500") * 7 - cny("50")  # payments between wallets move nothing out
    assert summary == {
        "central bank": "People's Bank of China MA.156.1100.00",
        "its key": _central_key(),
        "entries": str(built.entries),
        "blocks": f"{built.blocks} sealed",
        "issued": "¥400,000.00",
        "redeemed": "¥2,000.00",
        "in vaults": str(issued - redeemed - in_wallets),  # ¥394,550.00
        "in wallets": "¥3,450.00",
        "banks": "2",
        "wallets": "7",
    }
    banks = [
        match.groups()
        for line in lines
        if (match := re.match(r"^    (\S.*?)\s+(MA\.[\d.]+)\s+(\d+) wallets$", line))
    ]
    assert banks == [("ICBC", "MA.156.1100.01", "4"), ("Bank of Hebei", "MA.156.1301.01", "3")]
    categories = [
        match.groups()
        for line in lines
        if (match := re.match(r"^    category (\d)\s+(\d+)$", line))
    ]
    assert categories == [("1", "0"), ("2", "1"), ("3", "2"), ("4", "4")]


def test_inspect_a_missing_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.db"
    assert main(["inspect", str(missing)]) == 2
    assert capsys.readouterr().err == f"dcep inspect: {missing}: no such file\n"
    assert not missing.exists()


def test_inspect_a_file_that_is_not_a_ledger_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a ledger\n", encoding="utf-8")
    assert main(["inspect", str(path)]) == 1
    assert "[store_not_dcep]" in capsys.readouterr().err


# -- the command itself -----------------------------------------------------------------


def _run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dcep", *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=REPO,
    )


def test_python_m_dcep_help() -> None:
    completed = _run("--help")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: dcep ")
    for command in ("demo", "verify", "inspect"):
        assert command in completed.stdout
    assert completed.stderr == ""


def test_python_m_dcep_without_a_command_is_a_usage_error() -> None:
    completed = _run()
    assert completed.returncode == 2
    assert completed.stderr.startswith("usage: dcep ")
    assert "required" in completed.stderr


def test_python_m_dcep_verify_in_a_subprocess(built: Built) -> None:
    completed = _run("verify", str(built.path), "--central-bank-key", _central_key())
    assert completed.returncode == 0, completed.stderr
    assert f"OK: {built.entries} entries in {built.blocks} blocks" in completed.stdout
    unanchored = _run("verify", str(built.path))
    assert unanchored.returncode == 3, unanchored.stderr
    assert "UNANCHORED" in unanchored.stderr
