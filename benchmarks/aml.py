"""``aml``: do the default AML rules find planted laundering, and how much else do they flag?

A seeded :class:`dcep.sim.Economy` (households, Zipf-popular merchants that
sweep their takings, employers paying salaries, quiet nights and busy
weekends, payments that overlap the laundering amounts) is simulated with
cases of every :class:`dcep.sim.Typology` planted in it, into a ledger a
:class:`~dcep.RegulatorView` follows.  Then, timed, :func:`dcep.screen` with
the default rules over the whole view, and scored against the cases:

* **recall per typology**: the share of planted cases with at least one
  alert sharing an entry with the case;
* **flagged share**: the normal wallets (active, in no case) that are the
  subject of an alert, as a share of all active normal wallets;
* **the curve**: recall and flagged share of ``screen(..., budget=b)`` for
  several budgets ``b`` (the top of the ranking by score);
* **time to screen**, against a baseline measured in the same run: one plain
  pass over the view's flows.

Run ``python -m benchmarks aml [--quick]`` (quick: 1,000 wallets, 10,000
payments, 3 days; full: 20,000 wallets, 200,000 payments, 14 days); figures
go to ``benchmarks/results/aml.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Final

import dcep
import dcep.regulator
import dcep.sim
from benchmarks._common import RESULTS_DIR, environment

NAME: Final = "aml"
RESULTS: Final = RESULTS_DIR / "aml.json"
#: (wallets, payments, days, cases per typology) of the quick and the full economy.
QUICK: Final = (1_000, 10_000, 3, 4)
FULL: Final = (20_000, 200_000, 14, 10)
BUDGETS: Final = (0.0025, 0.005, 0.01, 0.02, 0.05)


def say(text: str) -> None:
    """One progress line."""
    print(f"  {text}", flush=True)


def score(
    view: dcep.RegulatorView,
    cases: tuple[dcep.sim.Case, ...],
    alerts: tuple[dcep.regulator.Alert, ...],
) -> tuple[dict[str, float], float]:
    """Recall per typology, and the share of active normal wallets that are alert subjects."""
    wallets = {profile.address for profile in view.wallets()}
    planted = {member for case in cases for member in case.members}
    active = {a for flow in view.flows() for a in (flow.payer, flow.payee)} & wallets
    normal = active - planted
    alerted = set[int]()
    for alert in alerts:
        alerted.update(alert.entries)
    recall: dict[str, float] = {}
    for typology in dcep.sim.Typology:
        mine = [case for case in cases if case.typology is typology]
        if mine:
            caught = sum(1 for case in mine if alerted & set(case.entries))
            recall[typology.value] = caught / len(mine)
    flagged = {alert.subject for alert in alerts} & normal
    return recall, len(flagged) / max(1, len(normal))


def main(quick: bool, results_dir: Path | None = None) -> dict[str, float]:
    """Run the evaluation at the quick or full size; return the figures (also written as JSON)."""
    results = RESULTS if results_dir is None else results_dir / RESULTS.name
    wallets, payments, days, per = QUICK if quick else FULL
    started = time.perf_counter()
    load_at_start = [round(value, 2) for value in os.getloadavg()]
    print(f"== {NAME}{' (quick)' if quick else ''}", flush=True)
    economy = dcep.sim.Economy(
        seed=2026, wallets=wallets, payments=payments, days=days, cases_per_pattern=per
    )
    say(f"simulating {wallets:,} wallets, {payments:,} payments, {days} days (not timed)")
    ledger = dcep.Ledger()
    view = dcep.RegulatorView.attach(ledger)
    outcome = dcep.sim.simulate(economy, ledger)
    began = time.perf_counter()
    baseline = sum(1 for flow in view.flows() if flow.amount_fen)
    baseline_s = time.perf_counter() - began
    began = time.perf_counter()
    alerts = dcep.screen(view)
    screen_s = time.perf_counter() - began
    recall, flagged = score(view, outcome.cases, alerts)
    figures: dict[str, float] = {
        "entries": view.entry_count,
        "flows": baseline,
        "cases": len(outcome.cases),
        "alerts": len(alerts),
        "screen_s": screen_s,
        "baseline_pass_s": baseline_s,
        "flagged_share": flagged,
    }
    say(
        f"screen(): {len(alerts):,} alerts over {view.entry_count:,} entries in {screen_s:.2f} s "
        f"({screen_s / max(baseline_s, 1e-9):.0f}x one plain pass over the flows, "
        f"{baseline_s:.3f} s)"
    )
    for typology, share in recall.items():
        figures[f"recall_{typology}"] = share
        say(f"recall {typology:15} {share:7.1%}")
    say(f"flagged: {flagged:.2%} of active normal wallets (alert subjects)")
    for budget in BUDGETS:
        top = dcep.screen(view, budget=budget)
        shares, flagged_b = score(view, outcome.cases, top)
        overall = sum(shares.values()) / len(shares)
        figures[f"budget_{budget}_recall"] = overall
        figures[f"budget_{budget}_flagged"] = flagged_b
        say(
            f"budget {budget:6.2%}: mean recall {overall:6.1%}, min "
            f"{min(shares.values()):6.1%}, flagged {flagged_b:.2%}"
        )
    elapsed = time.perf_counter() - started
    results.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": NAME,
        "quick": quick,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 3),
        "environment": {**environment(), "load_average_at_start": load_at_start},
        "parameters": {"wallets": wallets, "payments": payments, "days": days, "per": per},
        "figures": figures,
    }
    results.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"  ({elapsed:.1f} s; {results})", flush=True)
    return figures


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
