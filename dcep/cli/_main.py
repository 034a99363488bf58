"""The ``dcep`` command line: ``dcep demo``, ``dcep verify PATH``, ``dcep inspect PATH``.

Also ``python -m dcep ...``.  tqdm, for progress bars on long runs, is
imported only here, and only when a command needs it.

argparse, not a home-made parser; output is plain text meant to be read.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dcep.core._sentinels import SentinelPool
from dcep.errors import DcepError
from dcep.journal._sqlite_store import SqliteStore
from dcep.ledger._ledger import Ledger
from dcep.ledger._replica import Replica
from dcep.sim._scenario import Scenario, ScenarioResult, run_scenario
from dcep.values._money import Amount
from dcep.values._policy import Policy, WalletCategory

__all__ = ["main"]

#: Entries from which `dcep verify` checks signatures in worker processes.
_PARALLEL_FROM = 5_000


def _row(label: str, value: object, width: int = 28) -> str:
    return f"  {label:<{width}}{value!s:>22}"


def format_report(result: ScenarioResult, elapsed_s: float) -> str:
    """The demo's report: supply by tier, banks, wallets, rejections, invariants."""
    ledger = result.ledger
    scenario = result.scenario
    supply = ledger.supply()
    lines = [
        f"dcep demo (seed {scenario.seed}): 1 central bank, {len(result.banks)} banks, "
        f"{len(result.wallets)} wallets, {scenario.payments} payments attempted",
        "",
        "Supply by tier",
        _row("issued by the central bank", supply.issued),
        _row("redeemed", supply.redeemed),
        _row("in bank vaults", supply.in_vaults),
        _row("in user wallets", supply.in_wallets),
        "",
        "Banks (reserves available / vault / customer deposits / wallets)",
    ]
    for bank in ledger.banks():
        lines.append(
            f"  {bank.name:<26}{bank.code!s:<16}{bank.reserves_available!s:>18}"
            f"{bank.vault!s:>18}{bank.customer_deposits!s:>18}{bank.wallet_count:>6}"
        )
    counts: collections.Counter[WalletCategory] = collections.Counter()
    held: dict[WalletCategory, int] = collections.defaultdict(int)
    for wallet in ledger.wallets():
        counts[wallet.category] += 1
        held[wallet.category] += wallet.balance.fen
    lines += ["", "Wallets by category (count / e-CNY held)"]
    for category in WalletCategory:
        lines.append(
            f"  {int(category)} {category.name.lower().replace('_', ' '):<24}"
            f"{counts[category]:>6}{Amount(held[category])!s:>22}"
        )
    refused = scenario.payments - result.payments_accepted
    lines += [
        "",
        f"Payments: {result.payments_accepted} settled, {refused} refused",
        "Rejections by reason (fundings and payments)",
    ]
    for reason, count in sorted(result.rejections.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {reason.value:<36}{count:>8}")
    if not result.rejections:
        lines.append("  (none)")
    try:
        ledger.check_invariants()
        verdict = "verified: issued - redeemed = vaults + wallets; reserves, books, caps hold"
    except DcepError as error:
        verdict = f"VIOLATED: {error}"
    lines += ["", f"Invariants {verdict}", f"({ledger.entry_count} entries in {elapsed_s:.2f} s)"]
    return "\n".join(lines)


def _at_least(smallest: int) -> Callable[[str], int]:
    # An argparse type: a bad count is a usage error, not a traceback.
    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < smallest:
            raise argparse.ArgumentTypeError(f"must be at least {smallest}, not {value}")
        return value

    return whole_number


def _demo(args: argparse.Namespace) -> int:
    scenario = Scenario(seed=args.seed, wallets=args.wallets, payments=args.payments)
    started = time.perf_counter()
    result = run_scenario(scenario)
    print(format_report(result, time.perf_counter() - started))
    try:
        result.ledger.check_invariants()
    except DcepError:
        return 1
    return 0


def _progress_bar(
    total: int, description: str
) -> tuple[Callable[[int], None], Callable[[], None]]:
    """A tqdm bar on long runs; tqdm is imported here only, never by the library."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=description, unit="entry", disable=total < 50_000)

    def update(done: int) -> None:
        bar.update(done)

    return update, bar.close


def _verify(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.exists():
        print(f"dcep verify: {path}: no such file", file=sys.stderr)
        return 2
    try:
        store = SqliteStore(path, create=False)
        try:
            update, close = _progress_bar(store.entry_count(), "verifying")
            try:
                stored_policy = store.meta("policy")
                policy = Policy.from_text(stored_policy) if stored_policy else None
                replica = Replica(store, network_id=store.network_id, policy=policy)
                # Signatures in a worker per core; below a few thousand entries
                # starting the workers costs more than it saves.
                workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
                if workers > 1 and store.entry_count() >= _PARALLEL_FROM:
                    with SentinelPool(store.network_id.encode(), workers) as pool:
                        report = replica.catch_up(progress=update, sentinels=pool)
                else:
                    report = replica.catch_up(progress=update)
            finally:
                close()
        finally:
            store.close()
    except DcepError as error:
        print(f"dcep verify: FAULT in {path}: {error}", file=sys.stderr)
        return 1
    print(
        f"{path}: OK: {report.entry_count} entries in {report.block_height} blocks; "
        "hash chain, signatures, Merkle roots, state commitments"
        f"{', snapshot' if report.snapshot_checked else ''} and invariants verified"
    )
    return 0


def _inspect(args: argparse.Namespace) -> int:
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, exposed for the tests and for ``--help``."""
    parser = argparse.ArgumentParser(
        prog="dcep", description="A two-tier e-CNY style CBDC ledger model."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a seeded two-tier scenario and report on it")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument(
        "--wallets", type=_at_least(2), default=300, help="wallets to open (default 300)"
    )
    demo.add_argument(
        "--payments", type=_at_least(0), default=3000, help="payments to attempt (default 3000)"
    )
    demo.set_defaults(handler=_demo)
    verify = commands.add_parser(
        "verify",
        help="re-verify a ledger database: chain, signatures, Merkle roots, commitments, "
        "invariants; exit status 1 naming the first fault",
    )
    verify.add_argument("path", help="the SQLite database")
    verify.add_argument(
        "--workers",
        type=_at_least(1),
        default=None,
        help="processes checking signatures (default: one per core; 1: none)",
    )
    verify.set_defaults(handler=_verify)
    inspect = commands.add_parser("inspect", help="summarise a ledger database")
    inspect.add_argument("path", help="the SQLite database")
    inspect.set_defaults(handler=_inspect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dcep`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
