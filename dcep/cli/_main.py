"""The ``dcep`` command line: ``demo``, ``simulate``, ``verify``, ``export``, ``inspect``.

Also ``python -m dcep ...``.  The commands on a database file are in
``_files``, what they print in ``_reports``; tqdm, for progress bars on long
runs, is imported only in this package, and only when a command needs it.

argparse, not a home-made parser; output is plain text meant to be read.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dcep.cli._files import (
    EXIT_UNANCHORED,
    central_bank_key,
    checkpoint_argument,
    export_command,
    inspect_command,
    verify_command,
)
from dcep.cli._reports import cases_path, format_report, format_simulation
from dcep.core._sentinels import SentinelPool
from dcep.errors import DcepError
from dcep.journal._journal import Durability
from dcep.ledger._ledger import Ledger
from dcep.sim._cases import Typology, save_cases
from dcep.sim._economy import Economy
from dcep.sim._scenario import Scenario, run_scenario
from dcep.sim._simulate import simulate

__all__ = ["main"]


def at_least(smallest: int) -> Callable[[str], int]:
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


def _simulate(args: argparse.Namespace) -> int:
    path = Path(args.path)
    sidecar = cases_path(path)
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, exposed for the tests and for ``--help``."""
    parser = argparse.ArgumentParser(
        prog="dcep", description="A two-tier e-CNY style CBDC ledger model."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a seeded two-tier scenario and report on it")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument(
        "--wallets", type=at_least(2), default=300, help="wallets to open (default 300)"
    )
    demo.add_argument(
        "--payments", type=at_least(0), default=3000, help="payments to attempt (default 3000)"
    )
    demo.set_defaults(handler=_demo)
    sim = commands.add_parser(
        "simulate",
        help="run a seeded economy (households, merchants, employers, planted cases) "
        "into a new ledger database",
    )
    sim.add_argument("path", help="the SQLite database to create")
    sim.add_argument("--seed", type=at_least(0), default=7, help="random seed (default 7)")
    sim.add_argument(
        "--wallets", type=at_least(20), default=5_000, help="wallets to open (default 5,000)"
    )
    sim.add_argument(
        "--payments",
        type=at_least(0),
        default=50_000,
        help="payments to attempt (default 50,000)",
    )
    sim.add_argument("--days", type=at_least(1), default=14, help="days to run (default 14)")
    sim.add_argument("--banks", type=at_least(1), default=4, help="banks, 1 to 6 (default 4)")
    sim.add_argument(
        "--patterns",
        type=_patterns,
        default=tuple(Typology),
        help="typologies to plant, separated by commas, or all (default) or none: "
        + ", ".join(typology.value for typology in Typology),
    )
    sim.add_argument(
        "--cases-per-pattern",
        type=at_least(0),
        default=2,
        help="cases of each typology (default 2)",
    )
    sim.add_argument(
        "--workers",
        type=at_least(1),
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
        help="re-verify a ledger database: chain, signatures, Merkle roots, state roots, "
        "invariants; exit status 0 if it verifies against --central-bank-key, "
        f"{EXIT_UNANCHORED} if it verifies but no key was given, 1 naming the first fault, "
        "2 if the file is missing",
    )
    verify.add_argument("path", help="the SQLite database")
    verify.add_argument(
        "--central-bank-key",
        type=central_bank_key,
        default=None,
        metavar="HEX",
        help="the trust anchor: the central bank's public key (64 hex digits), obtained "
        "out of band; a journal under any other key is refused",
    )
    verify.add_argument(
        "--since",
        type=checkpoint_argument,
        default=None,
        metavar="HEIGHT:HASH",
        help="a checkpoint an earlier verify printed: refuse a file cut back or rewritten since",
    )
    verify.add_argument(
        "--workers",
        type=at_least(1),
        default=None,
        help="processes checking signatures (default: one per core; 1: none)",
    )
    verify.set_defaults(handler=verify_command)
    export = commands.add_parser(
        "export",
        help="write a ledger database's entries, postings, balances and flows as Parquet",
    )
    export.add_argument("path", help="the SQLite database")
    export.add_argument("folder", help="where the Parquet files go (created if need be)")
    export.set_defaults(handler=export_command)
    inspect = commands.add_parser("inspect", help="summarise a ledger database")
    inspect.add_argument("path", help="the SQLite database")
    inspect.set_defaults(handler=inspect_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dcep`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
