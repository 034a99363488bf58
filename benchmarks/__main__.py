"""Run the benchmarks: ``python -m benchmarks [names...] [--quick] [--repeats N] [--profile]``."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from benchmarks import (
    aml,
    memory,
    recover,
    regulator,
    simulate,
    stalls,
    transfers,
    verify_db,
    verify_only,
)
from benchmarks._common import FULL, QUICK, RESULTS_DIR, Context, Result, write_result

#: Every benchmark, in the order a full run takes them.
BENCHMARKS: Final[dict[str, Callable[[Context], Result]]] = {
    verify_only.NAME: verify_only.run,
    transfers.NAME: transfers.run,
    recover.NAME: recover.run,
    verify_db.NAME: verify_db.run,
    memory.NAME: memory.run,
    stalls.NAME: stalls.run,
    simulate.NAME: simulate.run,
}

#: Benchmarks that set themselves up and write their own JSON (``main(quick)``).
STANDALONE: Final[dict[str, Callable[[bool, Path], dict[str, float]]]] = {
    regulator.NAME: regulator.main,
    aml.NAME: aml.main,
}


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="dcep's benchmarks; each figure is printed with a same-run baseline ratio.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default: all): {', '.join([*BENCHMARKS, *STANDALONE])}",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, for CI (well under a minute in all)"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="repeats of each measurement (default 3)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the in-memory transfer hot path (transfers) with cProfile",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS_DIR,
        help=f"where the JSON results go (default {RESULTS_DIR})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    known = [*BENCHMARKS, *STANDALONE]
    names = list(dict.fromkeys(args.names)) or known
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; there are {', '.join(known)}")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dcep-bench-") as scratch:
        context = Context(
            quick=args.quick,
            sizes=QUICK if args.quick else FULL,
            repeats=args.repeats,
            scratch=Path(scratch),
            profile=args.profile,
            results=args.results,
        )
        for name in names:
            if name in STANDALONE:
                STANDALONE[name](args.quick, args.results)
                continue
            print(f"== {name}{' (quick)' if args.quick else ''}", flush=True)
            began = time.perf_counter()
            load = [round(value, 2) for value in os.getloadavg()]
            result = BENCHMARKS[name](context)
            result.details["load_average_at_start"] = load
            elapsed = time.perf_counter() - began
            path = write_result(result, context, elapsed)
            print(f"  ({elapsed:.1f} s; {path})", flush=True)
    print(f"== done in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
