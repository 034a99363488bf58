"""The commands that read a ledger database: ``verify``, ``export`` and ``inspect``.

None of them writes to the file it reads; ``export`` writes Parquet files
beside it, through :mod:`dcep.export`.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
from pathlib import Path
from typing import Final

from dcep.cli._reports import progress_bar
from dcep.core._sentinels import SentinelPool
from dcep.errors import DcepError
from dcep.export._frames import write_parquet
from dcep.export._rows import (
    BALANCE_COLUMNS,
    ENTRY_COLUMNS,
    FLOW_COLUMNS,
    POSTING_COLUMNS,
    Row,
    balance_rows,
    entry_rows,
    flow_rows,
    posting_rows,
)
from dcep.journal._checkpoint import Checkpoint
from dcep.journal._sqlite_store import SqliteStore
from dcep.ledger._ledger import Ledger
from dcep.ledger._replica import Replica
from dcep.regulator._view import RegulatorView
from dcep.values._crypto import VerifyKey
from dcep.values._policy import WalletCategory

__all__ = [
    "EXIT_UNANCHORED",
    "central_bank_key",
    "checkpoint_argument",
    "export_command",
    "inspect_command",
    "verify_command",
]

#: Entries from which `dcep verify` checks signatures in worker processes.
_PARALLEL_FROM = 5_000


#: ``dcep verify``'s exit status when the file verifies but no trust anchor was given.
EXIT_UNANCHORED = 3


def central_bank_key(text: str) -> VerifyKey:
    # An argparse type: 64 hex digits, the expected central bank's public key.
    try:
        return VerifyKey(bytes.fromhex(text))
    except (ValueError, DcepError):
        raise argparse.ArgumentTypeError(
            f"not a public key: {text!r} (64 hex digits, 32 bytes)"
        ) from None


def checkpoint_argument(text: str) -> Checkpoint:
    # An argparse type: HEIGHT:HASH, as an earlier ``dcep verify`` printed it.
    try:
        return Checkpoint.parse(text)
    except DcepError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def verify_command(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.exists():
        print(f"dcep verify: {path}: no such file", file=sys.stderr)
        return 2
    anchor: VerifyKey | None = args.central_bank_key
    try:
        store = SqliteStore(path, create=False)
        try:
            store.quick_check()
            update, close = progress_bar(store.entry_count(), "verifying")
            try:
                policy = store.stored_policy()
                replica = Replica(
                    store, network_id=store.network_id, policy=policy, central_bank_key=anchor
                )
                # Signatures in a worker per core; below a few thousand entries
                # starting the workers costs more than it saves.
                workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
                if workers > 1 and store.entry_count() >= _PARALLEL_FROM:
                    with SentinelPool(store.network_id.encode(), workers) as pool:
                        report = replica.catch_up(
                            progress=update, sentinels=pool, since=args.since
                        )
                else:
                    report = replica.catch_up(progress=update, since=args.since)
            finally:
                close()
        finally:
            store.close()
    except DcepError as error:
        print(f"dcep verify: FAULT in {path}: {error}", file=sys.stderr)
        return 1
    print(
        f"{path}: OK: {report.entry_count} entries in {report.block_height} blocks; "
        "hash chain, signatures, Merkle roots of entries and changed balances, settings"
        f"{', snapshot and its signed state root' if report.snapshot_checked else ''}"
        " and invariants verified"
        + (" against the trusted central bank key" if report.anchored else "")
        + (f"; it extends block {args.since.height} seen before" if args.since else "")
    )
    if report.checkpoint is not None:
        print(
            f"{path}: checkpoint {report.checkpoint.to_text()} "
            "(keep it: --since with it refuses a copy cut back later)"
        )
    if report.anchored:
        return 0
    named = report.central_bank_key
    print(
        f"{path}: UNANCHORED: verified against no trust anchor. The file is consistent "
        "with itself, but anyone who can write it could have rebuilt it under a key of "
        "their own. Pass --central-bank-key with the central bank's public key, obtained "
        "out of band"
        + (f" (this file names {bytes(named).hex()})" if named is not None else "")
        + f"; exit status {EXIT_UNANCHORED}.",
        file=sys.stderr,
    )
    return EXIT_UNANCHORED


_NOT_AN_ANCHOR = (
    "                 (as the file states it: a trust anchor only if confirmed out of band)"
)


#: What ``dcep export`` writes, one Parquet file a table.
_EXPORTED_TABLES: Final = ("entries", "postings", "balances", "flows")


def _exported_table(name: str, store: SqliteStore) -> tuple[list[Row], tuple[str, ...]]:
    if name == "entries":
        return entry_rows(store), ENTRY_COLUMNS
    if name == "postings":
        return posting_rows(store), POSTING_COLUMNS
    if name == "balances":
        return balance_rows(store), BALANCE_COLUMNS
    return flow_rows(RegulatorView.from_store(store)), FLOW_COLUMNS


def export_command(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.exists():
        print(f"dcep export: {path}: no such file", file=sys.stderr)
        return 2
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        store = SqliteStore(path, create=False)
    except DcepError as error:
        print(f"dcep export: {path}: {error}", file=sys.stderr)
        return 1
    try:
        for name in _EXPORTED_TABLES:
            # One table at a time: a million-entry run's rows are large.
            rows, columns = _exported_table(name, store)
            target = write_parquet(rows, folder / f"{name}.parquet", columns=columns)
            print(f"  {name:9} {len(rows):>12,} rows  {target}")
            del rows
    except DcepError as error:
        print(f"dcep export: {path}: {error}", file=sys.stderr)
        return 1
    except ImportError as error:
        print(f"dcep export: {error}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0


def inspect_command(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.exists():
        print(f"dcep inspect: {path}: no such file", file=sys.stderr)
        return 2
    if path.stat().st_size == 0:
        print(f"dcep inspect: {path}: an empty file, not a ledger", file=sys.stderr)
        return 1
    try:
        ledger = Ledger.open(path)
    except DcepError as error:
        print(f"dcep inspect: {path}: {error}", file=sys.stderr)
        return 1
    try:
        journal = ledger.journal
        assert journal is not None
        supply = ledger.supply()
        central = ledger.central_bank
        lines = [
            f"{path} ({path.stat().st_size:,} bytes), network {ledger.network_id.decode()!r}",
            f"  central bank   {central.name} {central.code}" if central else "  (no genesis)",
            *([f"  its key        {bytes(central.key).hex()}", _NOT_AN_ANCHOR] if central else []),
            f"  entries        {ledger.entry_count:,}",
            f"  blocks         {journal.height:,} sealed",
            f"  issued         {supply.issued}",
            f"  redeemed       {supply.redeemed}",
            f"  in vaults      {supply.in_vaults}",
            f"  in wallets     {supply.in_wallets}",
            f"  banks          {len(ledger.banks())}",
        ]
        lines += [
            f"    {bank.name:<24}{bank.code!s:<18}{bank.wallet_count:>8} wallets"
            for bank in ledger.banks()
        ]
        counts = collections.Counter(wallet.category for wallet in ledger.wallets())
        lines.append(f"  wallets        {sum(counts.values()):,}")
        lines += [f"    category {int(c)}     {counts[c]:>8,}" for c in WalletCategory]
        print("\n".join(lines))
    finally:
        ledger.close()
    return 0
