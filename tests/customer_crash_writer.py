"""A bank that opens wallets until it is killed, for the customer-store crash test.

Run as ``python customer_crash_writer.py DIRECTORY [--die-at begin|confirm]``.
It opens (or creates) the ledger ``DIRECTORY/city.db`` and the central
bank's key file (cheap Argon2id limits: a test), installs or restores the
central bank, authorises or restores one bank (whose customer store is the
default SQLite file beside the ledger), prints ``READY`` and then opens
category 4 wallets forever, printing ``OPENED <address>`` after each
``open_wallet`` returns.

``--die-at begin`` kills the process with SIGKILL right after the pending
record is written, before the ``OpenWallet`` is signed; ``--die-at confirm``
right after the ledger accepted it, before the record is confirmed: the two
windows the write-ahead protocol exists for.  Without it the test kills the
writer at a random moment.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import nacl.pwhash.argon2id

import dcep
from dcep.parties import SqliteCustomerStore
from dcep.values import Address, KeyFile

PASSPHRASE: Final = "crash test"
BANK_CODE: Final = "MA.156.1100.01"


def _die_after(method_name: str) -> None:
    original = getattr(SqliteCustomerStore, method_name)

    def then_die(store: SqliteCustomerStore, *args: object) -> None:
        original(store, *args)
        os.kill(os.getpid(), signal.SIGKILL)

    setattr(SqliteCustomerStore, method_name, then_die)


def _die_before_confirming() -> None:
    def die(_store: SqliteCustomerStore, _wallet: Address) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    SqliteCustomerStore.confirm = die  # type: ignore[method-assign,assignment]


def run(directory: Path, die_at: str | None) -> None:
    """Open everything, then open wallets until killed."""
    ledger = dcep.Ledger.open(directory / "city.db", block_size=16)
    key_path = directory / "pboc.keys"
    if key_path.exists():
        keys = KeyFile.open(key_path, PASSPHRASE)
    else:
        keys = KeyFile.create(
            key_path,
            PASSPHRASE,
            opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN,
            memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN,
        )
    pboc = dcep.CentralBank(ledger, keys=keys)
    if ledger.banks():
        bank = pboc.bank(BANK_CODE)
    else:
        bank = pboc.authorise_bank("Crash Bank", code=BANK_CODE, reserves=dcep.cny("1000"))
    sys.stdout.write(f"READY {bank.recovery.rolled_forward} {bank.recovery.rolled_back}\n")
    sys.stdout.flush()
    if die_at == "begin":
        _die_after("begin")
    elif die_at == "confirm":
        _die_before_confirming()
    number = 0
    while True:
        number += 1
        wallet = bank.open_wallet(category=4, phone=f"138{os.getpid() % 10**4:04d}{number:04d}")
        sys.stdout.write(f"OPENED {wallet.address}\n")
        sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--die-at", choices=("begin", "confirm"))
    args = parser.parse_args(argv)
    run(args.directory, args.die_at)


if __name__ == "__main__":
    main()
