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
  pass over the view's flows;
* **a live screener**: a :class:`dcep.regulator.Screener` following the
  ledger while it is simulated, updated once a simulated day (median and
  worst update, and its recall);
* **traces**: p50, p95 and max of 3-hop forward and backward traces from
  the entries of up to 150 alerts spread over the ranking, under each rule.

Run ``python -m benchmarks aml [--quick]`` (quick: 1,000 wallets, 10,000
payments, 3 days; full: 20,000 wallets, 200,000 payments, 14 days); figures
go to ``benchmarks/results/aml.json``.  ``python -m benchmarks.aml
--million`` runs 100,000 wallets and 1,000,000 payments (about 1,300,000
entries; several minutes, most of it simulating) into ``aml-million.json``.
"""

from __future__ import annotations

import datetime as dt
import gc
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
#: (wallets, payments, days, cases per typology) of each size.
SIZES: Final = {
    "quick": (1_000, 10_000, 3, 4),
    "full": (20_000, 200_000, 14, 10),
    "million": (100_000, 1_000_000, 14, 10),
}
BUDGETS: Final = (0.0025, 0.005, 0.01, 0.02, 0.05)
#: How many alerts, spread over the ranking, are traced from their entries.
TRACED_ALERTS: Final = 150
DAY_US: Final = 86_400_000_000


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


def traces(view: dcep.RegulatorView, alerts: tuple[dcep.regulator.Alert, ...]) -> dict[str, float]:
    """p50, p95 and max (ms) of 3-hop traces from alert entries, per direction and rule."""
    sample = alerts[:: max(1, len(alerts) // TRACED_ALERTS)]
    figures: dict[str, float] = {"traced_alerts": len(sample)}
    for trace in (dcep.trace_forward, dcep.trace_backward):
        direction = trace.__name__.removeprefix("trace_")
        every: list[float] = []
        for rule in dcep.regulator.AllocationRule:
            times: list[float] = []
            for alert in sample:
                began = time.perf_counter()
                trace(view, alert.entries, rule=rule, max_hops=3)
                times.append(1000 * (time.perf_counter() - began))
            every += times
            p50, p95, top = _percentiles(times)
            figures.update(
                {
                    f"trace_{direction}_{rule.value}_p50_ms": p50,
                    f"trace_{direction}_{rule.value}_p95_ms": p95,
                    f"trace_{direction}_{rule.value}_max_ms": top,
                }
            )
            say(
                f"trace {direction:8} {rule.value:8} 3 hops: p50 {p50:6.1f} ms, "
                f"p95 {p95:6.1f} ms, max {top:7.1f} ms ({len(times)} alerts)"
            )
        figures[f"trace_{direction}_p95_ms"] = _percentiles(every)[1]
    return figures


def _percentiles(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times) or [0.0]

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return at(0.5), at(0.95), ordered[-1]


def main(
    quick: bool, results_dir: Path | None = None, *, million: bool = False
) -> dict[str, float]:
    """Run the evaluation at the quick, full or million size; return the figures (also JSON)."""
    size = "million" if million else "quick" if quick else "full"
    results = RESULTS if results_dir is None else results_dir / RESULTS.name
    if million:
        results = results.with_name("aml-million.json")
    wallets, payments, days, per = SIZES[size]
    started = time.perf_counter()
    load_at_start = [round(value, 2) for value in os.getloadavg()]
    print(f"== {NAME} ({size})", flush=True)
    economy = dcep.sim.Economy(
        seed=2026, wallets=wallets, payments=payments, days=days, cases_per_pattern=per
    )
    say(f"simulating {wallets:,} wallets, {payments:,} payments, {days} days (not timed)")
    ledger = dcep.Ledger()
    view = dcep.RegulatorView.attach(ledger)
    # A regulator following the ledger live screens once a simulated day.
    screener = dcep.regulator.Screener(view)
    updates: list[float] = []
    last_day = [-1]

    def follow(_done: int, _total: int) -> None:
        if not ledger.entry_count:
            return
        day = ledger.last_entry_time_us // DAY_US
        if day != last_day[0]:
            last_day[0] = day
            began = time.perf_counter()
            screener.update()
            updates.append(time.perf_counter() - began)

    outcome = dcep.sim.simulate(economy, ledger, progress=follow)
    began = time.perf_counter()
    screener.update()
    updates.append(time.perf_counter() - began)
    # As docs/ledger.md advises a long-running process once its state is loaded:
    # the collector need not walk the view's millions of objects again.
    gc.collect()
    gc.freeze()
    began = time.perf_counter()
    baseline = sum(1 for flow in view.flows() if flow.amount_fen)
    baseline_s = time.perf_counter() - began
    began, cpu = time.perf_counter(), time.process_time()
    alerts = dcep.screen(view)
    screen_s, screen_cpu_s = time.perf_counter() - began, time.process_time() - cpu
    recall, flagged = score(view, outcome.cases, alerts)
    live_recall, _ = score(view, outcome.cases, screener.alerts)
    figures: dict[str, float] = {
        "entries": view.entry_count,
        "flows": baseline,
        "cases": len(outcome.cases),
        "alerts": len(alerts),
        "screen_s": screen_s,
        "screen_cpu_s": screen_cpu_s,
        "screen_us_per_entry": 1e6 * screen_s / view.entry_count,
        "baseline_pass_s": baseline_s,
        "flagged_share": flagged,
        "live_updates": len(updates),
        "live_update_median_s": sorted(updates)[len(updates) // 2],
        "live_update_max_s": max(updates),
        "live_recall_min": min(live_recall.values()),
    }
    say(
        f"screen(): {len(alerts):,} alerts over {view.entry_count:,} entries in {screen_s:.2f} s "
        f"({screen_cpu_s:.2f} s of CPU) "
        f"({screen_s / max(baseline_s, 1e-9):.0f}x one plain pass over the flows, "
        f"{baseline_s:.3f} s; {figures['screen_us_per_entry']:.1f} us an entry)"
    )
    say(
        f"Screener, once a simulated day: {len(updates)} updates, median "
        f"{figures['live_update_median_s']:.2f} s, max {figures['live_update_max_s']:.2f} s; "
        f"min recall {figures['live_recall_min']:.0%}"
    )
    for typology, share in recall.items():
        figures[f"recall_{typology}"] = share
        say(f"recall {typology:15} {share:7.1%}")
    say(f"flagged: {flagged:.2%} of active normal wallets (alert subjects)")
    active = {a for flow in view.flows() for a in (flow.payer, flow.payee)}
    active &= {profile.address for profile in view.wallets()}
    figures["cases_per_active_wallet"] = len(outcome.cases) / max(1, len(active))
    say(
        f"{len(outcome.cases)} cases for {len(active):,} active wallets "
        f"({figures['cases_per_active_wallet']:.2%}): a budget below that cannot hold them all"
    )
    curve: list[dict[str, object]] = []
    for budget in BUDGETS:
        top = dcep.screen(view, budget=budget)
        shares, flagged_b = score(view, outcome.cases, top)
        overall = sum(shares.values()) / len(shares)
        figures[f"budget_{budget}_recall"] = overall
        figures[f"budget_{budget}_recall_min"] = min(shares.values())
        figures[f"budget_{budget}_flagged"] = flagged_b
        curve.append({"budget": budget, "flagged_share": flagged_b, "recall": shares})
        say(
            f"budget {budget:6.2%}: mean recall {overall:6.1%}, min "
            f"{min(shares.values()):6.1%} ({min(shares, key=shares.__getitem__)}), "
            f"flagged {flagged_b:.2%}"
        )
    figures.update(traces(view, alerts))
    elapsed = time.perf_counter() - started
    results.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": NAME,
        "size": size,
        "quick": quick,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 3),
        "environment": {**environment(), "load_average_at_start": load_at_start},
        "parameters": {"wallets": wallets, "payments": payments, "days": days, "per": per},
        "figures": figures,
        "curve": curve,
    }
    results.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"  ({elapsed:.1f} s; {results})", flush=True)
    return figures


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:], million="--million" in sys.argv[1:])
