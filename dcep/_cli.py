"""The ``dcep`` command line: ``dcep demo`` (also ``python -m dcep demo``).

argparse, not a home-made parser; output is plain text meant to be read.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from collections.abc import Sequence

from dcep._errors import DcepError
from dcep._money import Amount
from dcep._policy import WalletCategory
from dcep._sim import Scenario, ScenarioResult, run_scenario

__all__ = ["main"]


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, exposed for the tests and for ``--help``."""
    parser = argparse.ArgumentParser(
        prog="dcep", description="A two-tier e-CNY style CBDC ledger model."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a seeded two-tier scenario and report on it")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--wallets", type=int, default=300, help="wallets to open (default 300)")
    demo.add_argument(
        "--payments", type=int, default=3000, help="payments to attempt (default 3000)"
    )
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dcep`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
