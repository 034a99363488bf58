"""What the commands print: the reports of a demo and a simulation, and progress bars.

tqdm, for the progress bars, is imported here and only when a bar is shown.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from pathlib import Path

from dcep.errors import DcepError
from dcep.sim._economy import SimulationResult
from dcep.sim._scenario import ScenarioResult
from dcep.values._money import Amount
from dcep.values._policy import WalletCategory

__all__ = ["cases_path", "format_report", "format_simulation", "progress_bar"]


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


def progress_bar(total: int, description: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    """A tqdm bar on long runs; tqdm is imported here only, never by the library."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=description, unit="entry", disable=total < 50_000)

    def update(done: int) -> None:
        bar.update(done)

    return update, bar.close
