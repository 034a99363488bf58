"""The ``dcep`` command line: ``dcep demo``, ``simulate PATH``, ``verify PATH``, ``inspect PATH``.

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
from typing import Final

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
from dcep.journal._journal import Durability
from dcep.journal._sqlite_store import SqliteStore
from dcep.ledger._ledger import Ledger
from dcep.ledger._replica import Replica
from dcep.regulator._view import RegulatorView
from dcep.sim._cases import Typology, save_cases
from dcep.sim._economy import Economy, SimulationResult, simulate
from dcep.sim._scenario import Scenario, ScenarioResult, run_scenario
from dcep.values._crypto import VerifyKey
from dcep.values._money import Amount
from dcep.values._policy import WalletCategory

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


def _patterns(text: str) -> tuple[Typology, ...]:
    # An argparse type: "all", "none", or typologies separated by commas.
    if text == "all":
        return tuple(Typology)
    if text == "none":
        return ()
    try:
        return tuple(Typology(name.strip()) for name in text.split(",") if name.strip())
    except ValueError:
        known = ", ".join(typology.value for typology in Typology)
        raise argparse.ArgumentTypeError(
            f"not a typology list: {text!r} (all, none, or some of {known})"
        ) from None


def cases_path(path: Path) -> Path:
    """Where ``dcep simulate`` writes the planted cases of the database at ``path``."""
    return path.with_name(path.name + ".cases.json")


def format_simulation(result: SimulationResult, path: Path, elapsed_s: float) -> str:
    """``dcep simulate``'s summary: what was built, what settled, what was planted."""
    economy = result.economy
    ledger = result.ledger
    supply = ledger.supply()
    attempted = economy.payments
    rate = result.payments_settled / elapsed_s if elapsed_s > 0 else 0.0
    by_typology = collections.Counter(case.typology for case in result.cases)
    lines = [
        f"dcep simulate (seed {economy.seed}): {len(result.banks)} banks, "
        f"{len(result.wallets):,} wallets, {economy.days} days -> {path}",
        f"  entries        {ledger.entry_count:,}",
        f"  payments       {result.payments_settled:,} settled, {result.payments_refused:,} "
        f"refused, {result.payments_skipped:,} skipped, of {attempted:,}",
        f"  in wallets     {supply.in_wallets}  (issued {supply.issued})",
        f"  cases planted  {len(result.cases)}"
        + (
            "  (" + ", ".join(f"{t.value} {n}" for t, n in sorted(by_typology.items())) + ")"
            if by_typology
            else ""
        ),
    ]
    if result.rejections:
        lines.append(
            "  refusals       "
            + ", ".join(f"{r.value} {n}" for r, n in result.rejections.most_common())
        )
    key = bytes(result.central_bank.verify_key).hex()
    lines += [
        f"  central bank   {key}",
        f"  ({elapsed_s:.1f} s, {rate:,.0f} payments/s)",
        f"  check it with: dcep verify {path} --central-bank-key {key}",
    ]
    return "\n".join(lines)


def _simulate(args: argparse.Namespace) -> int:
    path = Path(args.path)
    sidecar = cases_path(path)
    if not path.parent.is_dir():
        print(f"dcep simulate: {path.parent}: no such directory", file=sys.stderr)
        return 2
    if path.exists() and path.stat().st_size > 0:
        if not args.force:
            print(
                f"dcep simulate: {path} exists and is not empty; pass --force to replace it",
                file=sys.stderr,
            )
            return 2
        for old in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), sidecar):
            old.unlink(missing_ok=True)
    try:
        economy = Economy(
            seed=args.seed,
            wallets=args.wallets,
            payments=args.payments,
            days=args.days,
            banks=args.banks,
            patterns=args.patterns,
            cases_per_pattern=args.cases_per_pattern,
        )
    except DcepError as error:
        print(f"dcep simulate: {error}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        ledger = Ledger.open(path, durability=Durability.DEFERRED)
    except DcepError as error:
        print(f"dcep simulate: {path}: {error}", file=sys.stderr)
        return 1
    try:
        workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
        from tqdm import tqdm

        total = economy.wallets + economy.payments
        with tqdm(total=total, desc="simulating", unit="step", disable=total < 50_000) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            if workers > 1:
                with SentinelPool(ledger.network_id, workers) as pool:
                    result = simulate(economy, ledger, progress=progress, sentinels=pool)
            else:
                result = simulate(economy, ledger, progress=progress)
        result.ledger.check_invariants()
    except DcepError as error:
        ledger.close()
        print(f"dcep simulate: {error}", file=sys.stderr)
        return 1
    ledger.close()  # seals the open block and snapshots
    elapsed = time.perf_counter() - started
    if not args.no_cases:
        save_cases(sidecar, result.cases, seed=economy.seed)
    print(format_simulation(result, path, elapsed))
    if not args.no_cases:
        print(f"  cases written to {sidecar}")
    return 0


#: ``dcep verify``'s exit status when the file verifies but no trust anchor was given.
EXIT_UNANCHORED = 3


def _central_bank_key(text: str) -> VerifyKey:
    # An argparse type: 64 hex digits, the expected central bank's public key.
    try:
        return VerifyKey(bytes.fromhex(text))
    except (ValueError, DcepError):
        raise argparse.ArgumentTypeError(
            f"not a public key: {text!r} (64 hex digits, 32 bytes)"
        ) from None


def _verify(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.exists():
        print(f"dcep verify: {path}: no such file", file=sys.stderr)
        return 2
    anchor: VerifyKey | None = args.central_bank_key
    try:
        store = SqliteStore(path, create=False)
        try:
            store.quick_check()
            update, close = _progress_bar(store.entry_count(), "verifying")
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
        + (" against the trusted central bank key" if report.anchored else "")
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


def _export(args: argparse.Namespace) -> int:
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
    sim = commands.add_parser(
        "simulate",
        help="run a seeded economy (households, merchants, employers, planted cases) "
        "into a new ledger database",
    )
    sim.add_argument("path", help="the SQLite database to create")
    sim.add_argument("--seed", type=_at_least(0), default=7, help="random seed (default 7)")
    sim.add_argument(
        "--wallets", type=_at_least(20), default=5_000, help="wallets to open (default 5,000)"
    )
    sim.add_argument(
        "--payments",
        type=_at_least(0),
        default=50_000,
        help="payments to attempt (default 50,000)",
    )
    sim.add_argument("--days", type=_at_least(1), default=14, help="days to run (default 14)")
    sim.add_argument("--banks", type=_at_least(1), default=4, help="banks, 1 to 6 (default 4)")
    sim.add_argument(
        "--patterns",
        type=_patterns,
        default=tuple(Typology),
        help="typologies to plant, separated by commas, or all (default) or none: "
        + ", ".join(typology.value for typology in Typology),
    )
    sim.add_argument(
        "--cases-per-pattern",
        type=_at_least(0),
        default=2,
        help="cases of each typology (default 2)",
    )
    sim.add_argument(
        "--workers",
        type=_at_least(1),
        default=None,
        help="processes checking signatures (default: one per core; 1: none)",
    )
    sim.add_argument(
        "--force", action="store_true", help="replace PATH if it exists and is not empty"
    )
    sim.add_argument(
        "--no-cases",
        action="store_true",
        help="do not write the planted cases to PATH.cases.json",
    )
    sim.set_defaults(handler=_simulate)
    verify = commands.add_parser(
        "verify",
        help="re-verify a ledger database: chain, signatures, Merkle roots, commitments, "
        "invariants; exit status 0 if it verifies against --central-bank-key, "
        f"{EXIT_UNANCHORED} if it verifies but no key was given, 1 naming the first fault, "
        "2 if the file is missing",
    )
    verify.add_argument("path", help="the SQLite database")
    verify.add_argument(
        "--central-bank-key",
        type=_central_bank_key,
        default=None,
        metavar="HEX",
        help="the trust anchor: the central bank's public key (64 hex digits), obtained "
        "out of band; a journal under any other key is refused",
    )
    verify.add_argument(
        "--workers",
        type=_at_least(1),
        default=None,
        help="processes checking signatures (default: one per core; 1: none)",
    )
    verify.set_defaults(handler=_verify)
    export = commands.add_parser(
        "export",
        help="write a ledger database's entries, postings, balances and flows as Parquet",
    )
    export.add_argument("path", help="the SQLite database")
    export.add_argument("folder", help="where the Parquet files go (created if need be)")
    export.set_defaults(handler=_export)
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
