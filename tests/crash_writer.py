"""A ledger writer for the crash tests: it writes payments until it is killed.

Run as ``python crash_writer.py PATH SEED [--durability sync|deferred]``.  It
opens (or creates) the SQLite ledger at ``PATH``, finishes the setup if it is
not complete (genesis, one bank, its wallets and their funding: a fixed list
of signed instructions, so that resubmitting it after a crash is idempotent),
then submits payments forever, in single calls and in batches.  After each
call returns it writes one line per accepted receipt to stdout and flushes:

``READY <entry count>``
    the ledger is open and set up; payments follow.
``ACK <entry number> <accepted at, us> <envelope hex>``
    a receipt it was handed back: with ``Durability.SYNC``, a promise that
    the instruction is on disk.
``DURABLE <entry count>``
    a block was sealed during the call, so (whatever the durability) every
    entry below this number was written before the call returned.

All lines of one call go out in one write, and the reader ignores a last
line without its newline, so a kill can only lose acknowledgements, never
fake one.  ``--die-creating`` instead kills the process with SIGKILL at the
moment the store starts creating a new file's schema.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import signal
import sys
from collections.abc import Sequence
from typing import Final

import dcep
import dcep.core
import dcep.instructions
import dcep.journal
import dcep.values

BLOCK_SIZE: Final = 16
SNAPSHOT_EVERY_BLOCKS: Final = 2
WALLETS: Final = 6
CENTRAL_CODE: Final = "MA.156.1100.00"
BANK_CODE: Final = "MA.156.1100.01"
#: Enough for every payment the suite can make: a category 1 wallet's daily cap
#: (100 000 yuan) is far above what the payments below can move in one run.
FUNDING: Final = dcep.cny("20000")
MAX_PAYMENT_FEN: Final = 99
MAX_BATCH: Final = 24
#: Genesis, bank, issue, then a pay-in, an opening and a funding per wallet.
SETUP_ENTRIES: Final = 3 + 3 * WALLETS


def key(label: str) -> dcep.values.SigningKey:
    """The key of one party, the same in every run."""
    return dcep.values.SigningKey(hashlib.sha256(f"dcep crash test {label}".encode()).digest())


CENTRAL_KEY: Final = key("central bank")
BANK_KEY: Final = key("bank")
WALLET_KEYS: Final = tuple(key(f"wallet {i}") for i in range(WALLETS))


def account(index: int) -> str:
    """The deposit account wallet ``index`` is linked to."""
    return f"ACCT-{index}"


def setup_instructions(network_id: bytes) -> list[dcep.instructions.SignedInstruction]:
    """Everything before the first payment, signed deterministically (Ed25519 is)."""
    central: list[dcep.instructions.Instruction] = [
        dcep.instructions.Genesis(
            1, 1, name="People's Bank of China", code=dcep.InstitutionCode.parse(CENTRAL_CODE)
        ),
        dcep.instructions.AuthoriseBank(
            2,
            2,
            bank_key=BANK_KEY.verify_key,
            name="Crash Bank",
            code=dcep.InstitutionCode.parse(BANK_CODE),
            reserves=dcep.cny("10000000"),
        ),
        dcep.instructions.Issue(3, 3, bank=BANK_KEY.address, amount=dcep.cny("1000000")),
    ]
    bank: list[dcep.instructions.Instruction] = []
    for index, wallet in enumerate(WALLET_KEYS):
        step = 3 * index
        bank += [
            dcep.instructions.PayIn(step + 1, step + 1, account=account(index), amount=FUNDING),
            dcep.instructions.OpenWallet(
                step + 2,
                step + 2,
                wallet_key=wallet.verify_key,
                category=dcep.WalletCategory.IN_PERSON,
                linked_account=account(index),
                kyc_digest=hashlib.sha256(f"kyc {index}".encode()).digest(),
            ),
            dcep.instructions.Fund(
                step + 3,
                step + 3,
                wallet=wallet.address,
                amount=FUNDING,
                from_account=account(index),
            ),
        ]
    return [
        dcep.instructions.SignedInstruction.sign(i, CENTRAL_KEY, network_id) for i in central
    ] + [dcep.instructions.SignedInstruction.sign(i, BANK_KEY, network_id) for i in bank]


def ack_lines(
    signed: Sequence[dcep.instructions.SignedInstruction],
    results: Sequence[dcep.Receipt | dcep.core.Rejection],
) -> list[str]:
    """One ``ACK`` line per accepted instruction."""
    return [
        f"ACK {result.entry_number} {result.accepted_at_us} {envelope.to_bytes().hex()}\n"
        for envelope, result in zip(signed, results, strict=True)
        if isinstance(result, dcep.Receipt)
    ]


def emit(lines: Sequence[str]) -> None:
    """Write ``lines`` in one go and flush: only then are they acknowledged."""
    if lines:
        sys.stdout.write("".join(lines))
        sys.stdout.flush()


class Payer:
    """Signs payments for the wallets, numbering them after what the ledger holds."""

    def __init__(self, ledger: dcep.Ledger, rng: random.Random) -> None:
        self._ledger = ledger
        self._rng = rng
        self._next = [ledger.last_sequence(k.address) + 1 for k in WALLET_KEYS]

    def payment(self) -> dcep.instructions.SignedInstruction:
        """A random payment between two different wallets; its id is its sequence."""
        payer, payee = self._rng.sample(range(WALLETS), 2)
        sequence = self._next[payer]
        self._next[payer] += 1  # a refused one is skipped: sequences may skip
        memo = "" if self._rng.random() < 0.5 else f"crash {self._rng.randrange(10**6)}"
        transfer = dcep.instructions.Transfer(
            sequence,
            sequence,
            payer=WALLET_KEYS[payer].address,
            payee=WALLET_KEYS[payee].address,
            amount=dcep.Amount(self._rng.randint(1, MAX_PAYMENT_FEN)),
            memo=memo,
        )
        return dcep.instructions.SignedInstruction.sign(
            transfer, WALLET_KEYS[payer], self._ledger.network_id
        )


def run(path: str, seed: int, durability: dcep.journal.Durability) -> None:
    """Open, finish the setup, then pay forever."""
    ledger = dcep.Ledger.open(
        path,
        block_size=BLOCK_SIZE,
        snapshot_every_blocks=SNAPSHOT_EVERY_BLOCKS,
        durability=durability,
    )
    journal = ledger.journal
    assert journal is not None
    # The registration centre signs the blocks with the central bank's key.
    journal.attach_signer(CENTRAL_KEY)
    setup = setup_instructions(ledger.network_id)
    assert len(setup) == SETUP_ENTRIES
    results = ledger.submit_many(setup)
    rejected = [r for r in results if isinstance(r, dcep.core.Rejection)]
    if rejected:
        raise SystemExit(f"setup refused: {rejected}")
    emit([*ack_lines(setup, results), f"DURABLE {ledger.entry_count}\n"])
    emit([f"READY {ledger.entry_count}\n"])
    rng = random.Random(seed)
    payer = Payer(ledger, rng)
    while True:
        height = journal.height
        batch = [payer.payment() for _ in range(rng.choice((1, 1, 1, rng.randint(2, MAX_BATCH))))]
        if len(batch) == 1:
            try:
                outcome: list[dcep.Receipt | dcep.core.Rejection] = [ledger.submit(batch[0])]
            except dcep.DcepError as error:
                outcome = [dcep.core.Rejection(error.instruction_id, error)]
        else:
            outcome = ledger.submit_many(batch)
        lines = ack_lines(batch, outcome)
        if journal.height != height:
            lines.append(f"DURABLE {ledger.entry_count}\n")
        emit(lines)


def die_creating(path: str) -> None:
    """Open a new file and be killed as the store starts creating its schema."""

    def killed(_store: dcep.journal.SqliteStore, _network_id: str) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    dcep.journal.SqliteStore._create = killed  # type: ignore[method-assign,assignment]
    dcep.Ledger.open(path)
    raise SystemExit("the store did not create a new file")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("seed", type=int)
    parser.add_argument(
        "--durability",
        type=dcep.journal.Durability,
        default=dcep.journal.Durability.SYNC,
        choices=dcep.journal.Durability,
    )
    parser.add_argument("--die-creating", action="store_true")
    args = parser.parse_args(argv)
    if args.die_creating:
        die_creating(args.path)
    else:
        run(args.path, args.seed, args.durability)


if __name__ == "__main__":
    main()
