"""The first process of the restart test: it sets up a city, pays, and exits without closing.

Run as ``python restart_first_process.py DIRECTORY``.  It opens the ledger
``DIRECTORY/city.db``, creates the central bank's and ICBC's key files
(cheap Argon2id limits: a test), authorises ICBC (its key in its own key
file) and BOC (its key derived from the central bank's secret), opens
wallets at both, funds them, pays, assigns a branch code, appoints a
regulator who issues a warrant, and prints one JSON object with the
addresses and figures the second process needs.  Then it exits with
``os._exit``: no ``close()``, no snapshot, no clean shutdown, so the second
process relies on what each call made durable.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Final

import nacl.pwhash.argon2id

import dcep
from dcep.values import KeyFile

CHEAP: Final = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
PBOC_PASSPHRASE: Final = "the central bank's passphrase"
ICBC_PASSPHRASE: Final = "ICBC's passphrase"
ICBC_CODE: Final = "MA.156.1100.01"
BOC_CODE: Final = "MA.156.1100.02"
DAVE_SEED: Final = "dave holds his own key"


def run(directory: Path) -> dict[str, object]:
    """Everything the first process does; returns what it prints."""
    ledger = dcep.Ledger.open(directory / "city.db", block_size=4)
    pboc_keys = KeyFile.create(directory / "pboc.keys", PBOC_PASSPHRASE, **CHEAP)
    pboc = dcep.CentralBank(ledger, keys=pboc_keys)
    icbc_keys = KeyFile.create(directory / "icbc.keys", ICBC_PASSPHRASE, **CHEAP)
    icbc = pboc.authorise_bank(
        "ICBC", code=ICBC_CODE, reserves=dcep.cny("1000000"), keys=icbc_keys
    )
    boc = pboc.authorise_bank("BOC", code=BOC_CODE, reserves=dcep.cny("500000"))
    pboc.issue(icbc, dcep.cny("100000"))
    pboc.issue(boc, dcep.cny("50000"))
    icbc.pay_in("6222-0001", dcep.cny("8000"))
    alice = icbc.open_wallet(
        category=2,
        phone="13900000000",
        id_number="110101199001011234",
        linked_account="6222-0001",
    )
    bob = icbc.open_wallet(category=4, phone="13800000000")
    with contextlib.suppress(dcep.NotAuthorisedError):
        icbc.open_wallet(category=3, phone="13700000000")  # no ID number: refused
    carol = boc.open_wallet(category=3, phone="13600000000", id_number="130101198001010000")
    dave = boc.open_wallet(category=4, phone="13500000000", seed=DAVE_SEED)
    icbc.fund(alice, dcep.cny("3000"))
    icbc.fund(bob, dcep.cny("200"))
    boc.fund(carol, dcep.cny("1500"))
    alice.pay(bob, dcep.cny("12.50"), memo="noodles")
    carol.pay(dave, dcep.cny("30"))
    icbc.assign_branch_code("003", "ICBC Beijing Xidan")
    aml = pboc.appoint_regulator("AML bureau")
    warrant = aml.issue_warrant(bob.address, "case 17")
    return {
        "central_bank": str(pboc.address),
        "icbc": str(icbc.address),
        "boc": str(boc.address),
        "alice": str(alice.address),
        "bob": str(bob.address),
        "carol": str(carol.address),
        "dave": str(dave.address),
        "regulator": str(aml.address),
        "warrant": warrant,
        "entries": ledger.entry_count,
        "balances_fen": {
            name: ledger.balance(wallet.address).fen
            for name, wallet in (("alice", alice), ("bob", bob), ("carol", carol), ("dave", dave))
        },
    }


def main() -> None:
    """Run, print, and leave without closing anything."""
    facts = run(Path(sys.argv[1]))
    sys.stdout.write(json.dumps(facts) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
