"""Crashes while a bank opens wallets: no wallet without its record, no record without its wallet.

``customer_crash_writer.py`` opens wallets in a loop, writing each holder's
record to the bank's own SQLite store ahead of the ``OpenWallet`` and
confirming it after.  Each round here kills it with SIGKILL, at a random
moment or at one of the two windows the protocol is for (after the pending
record, before the ledger; after the ledger, before the confirmation), then
reopens the ledger in this process, restores the bank through the public
API (which settles what the crash left pending) and checks that

* the wallets the ledger says the bank operates and the bank's confirmed
  records are the same set, and nothing is left pending;
* every wallet the writer reported opened is there, with its record;
* each record's salt and identity give the ``kyc_digest`` the ledger
  committed to, and each wallet's key comes back from the bank's secret;
* every wallet number was handed out once;
* the invariants hold.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

import pytest

import dcep
import dcep.instructions
import dcep.journal
from dcep.values import KeyFile
from dcep.values._disclosure import kyc_digest

from .customer_crash_writer import BANK_CODE, PASSPHRASE
from .journal_reading import committed_kyc_digests

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
    pytest.mark.slow,
]

WRITER: Final = Path(__file__).with_name("customer_crash_writer.py")
SEED: Final = 20_260_601
ROUNDS: Final = 14
STARTUP_TIMEOUT_S: Final = 60.0


def _run_and_kill(directory: Path, round_number: int, die_at: str | None, delay_s: float) -> str:
    output = directory / f"writer-{round_number}.out"
    errors = directory / f"writer-{round_number}.err"
    command = [sys.executable, str(WRITER), str(directory)]
    if die_at is not None:
        command += ["--die-at", die_at]
    with output.open("wb") as out, errors.open("wb") as err:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while b"READY" not in output.read_bytes() and process.poll() is None:
            assert time.monotonic() < deadline, "the writer was not ready in time"
            time.sleep(0.005)
        if die_at is None:
            time.sleep(delay_s)
            assert process.poll() is None, errors.read_text(errors="replace")
        else:
            process.wait(timeout=STARTUP_TIMEOUT_S)  # it kills itself
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, errors.read_text(errors="replace")
    return output.read_text()


def test_every_wallet_has_its_record_and_every_record_its_wallet(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    plan: list[str | None] = ["begin", "confirm"] * 3 + [None] * (ROUNDS - 6)
    rng.shuffle(plan)
    reported: set[dcep.Address] = set()
    rolled = {"forward": 0, "back": 0}
    for round_number, die_at in enumerate(plan):
        printed = _run_and_kill(tmp_path, round_number, die_at, rng.uniform(0.05, 0.35))
        reported |= {
            dcep.Address.parse(line.split()[1])
            for line in printed.splitlines()
            if line.startswith("OPENED ")
        }
        ledger = dcep.Ledger.open(tmp_path / "city.db")
        try:
            pboc = dcep.CentralBank.restore(
                ledger, keys=KeyFile.open(tmp_path / "pboc.keys", PASSPHRASE)
            )
            bank = pboc.bank(BANK_CODE)
            try:
                recovery = bank.recovery
                rolled["forward"] += recovery.rolled_forward
                rolled["back"] += recovery.rolled_back
                if die_at == "confirm":
                    assert recovery.rolled_forward == 1, recovery
                if die_at == "begin":
                    assert recovery.rolled_back == 1, recovery
                assert recovery.wallets_without_record == 0
                on_ledger = {w.address for w in ledger.wallets() if w.operator == bank.address}
                records = bank.customers.wallets(confirmed=True)
                assert set(records) == on_ledger
                assert len(records) == len(on_ledger)
                assert bank.customers.wallets(confirmed=False) == []
                assert reported <= on_ledger
                assert ledger.journal is not None
                digests = committed_kyc_digests(ledger.journal.store)
                numbers = []
                for address in records:
                    kept = bank.customers.get(address)
                    assert kept is not None
                    assert dcep.values.CustomerRecord.decode(kept.record.encode()) == kept.record
                    assert kyc_digest(kept.salt, kept.record) == digests[address]
                    assert bank.wallet(address).address == address
                    assert kept.wallet_number is not None
                    numbers.append(kept.wallet_number)
                assert len(numbers) == len(set(numbers))
                assert bank.customers.wallets_numbered() >= max(numbers, default=0)
                ledger.check_invariants()
            finally:
                bank.customers.close()
        finally:
            ledger.close()
    # The planned kills exercised both directions of recovery.
    assert rolled["forward"] >= 3
    assert rolled["back"] >= 3
    assert len(reported) > ROUNDS
