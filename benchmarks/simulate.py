"""``simulate``: how fast ``dcep.sim.simulate`` builds an economy, against the verify ceiling.

Each repeat runs the same seeded economy from nothing, twice: on
``Ledger()`` in memory without workers, and on ``Ledger.open(db)`` with
``Durability.DEFERRED`` and a ``SentinelPool`` of all cores, which is what
``dcep simulate`` does.  The whole run is timed (opening the wallets,
funding, the payments, the checkpoints, and closing the database), and the
rate is payments attempted per second.  The baseline, measured in the same
turn, is the one-process verify ceiling over a sample of the run's own
payment envelopes: every payment is signed and verified once, so a
simulation can at best match it, and in fact also signs (about as costly as
verifying) and applies and journals.
"""

from __future__ import annotations

import gc
import os
from typing import Final

import dcep
import dcep.core
import dcep.instructions
import dcep.journal
import dcep.sim
from benchmarks._ceiling import verify_messages
from benchmarks._common import Context, CpuReading, Result, Timing, interleaved, rate_figure
from benchmarks._fixtures import SignedMessage, signed_message

NAME = "simulate"
#: (wallets, payments, days) of the quick and the full economy.
QUICK: Final = (1_000, 10_000, 3)
FULL: Final = (20_000, 200_000, 14)
CEILING: Final = "1-process verify ceiling"


def _economy(context: Context) -> dcep.sim.Economy:
    wallets, payments, days = QUICK if context.quick else FULL
    return dcep.sim.Economy(seed=2026, wallets=wallets, payments=payments, days=days)


def _sample(economy: dcep.sim.Economy, size: int) -> list[SignedMessage]:
    """The first ``size`` payment envelopes of the economy, as the verifier takes them."""
    ledger = dcep.Ledger()
    messages: list[SignedMessage] = []

    def keep(entry: dcep.core.LedgerEntry) -> None:
        kind = entry.signed.instruction.KIND
        if kind is dcep.instructions.InstructionKind.TRANSFER and len(messages) < size:
            messages.append(signed_message(entry.signed))

    ledger.subscribe(keep)
    dcep.sim.simulate(economy, ledger)
    return messages


def run(context: Context) -> Result:
    """Time whole simulations in memory and into SQLite, against the verify ceiling."""
    economy = _economy(context)
    sample_size = min(context.sizes.ceiling_sample, economy.payments)
    result = Result(
        NAME,
        {
            "wallets": economy.wallets,
            "payments": economy.payments,
            "days": economy.days,
            "ceiling_sample": sample_size,
        },
    )
    context.say(f"sampling {sample_size:,} payment envelopes")
    messages = _sample(economy, sample_size)
    outcomes: dict[str, dcep.sim.SimulationResult] = {}
    round_number = [0]

    def in_memory() -> None:
        gc.collect()
        outcomes["memory"] = dcep.sim.simulate(economy, dcep.Ledger())

    def into_sqlite(pool: dcep.core.SentinelPool) -> None:
        gc.collect()
        round_number[0] += 1
        path = context.scratch / f"simulate-{round_number[0]}.db"
        ledger = dcep.Ledger.open(path, durability=dcep.journal.Durability.DEFERRED)
        outcomes["sqlite"] = dcep.sim.simulate(economy, ledger, sentinels=pool)
        ledger.close()
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    cpu: dict[str, list[CpuReading]] = {"sqlite": []}
    workers = os.cpu_count() or 1
    context.say(f"{economy.wallets:,} wallets, {economy.payments:,} payments, {context.repeats}x")
    with dcep.core.SentinelPool(b"dcep-sim", workers) as pool:
        timings = interleaved(
            {
                "memory": in_memory,
                "sqlite": lambda: into_sqlite(pool),
                "ceiling": lambda: verify_messages(messages),
            },
            context.repeats,
            cpu,
        )
    ceiling: Timing = timings["ceiling"]
    for name, label in (
        ("memory", "simulate(): Ledger() in memory"),
        ("sqlite", f"simulate(): SQLite DEFERRED, {workers} workers"),
    ):
        outcome = outcomes[name]
        refused = outcome.payments_refused + outcome.payments_skipped
        result.add(
            rate_figure(
                label,
                "payments/s",
                timings[name],
                economy.payments,
                CEILING,
                "signatures/s",
                ceiling,
                len(messages),
                note=f"{outcome.ledger.entry_count:,} entries, {refused} refused or skipped",
            )
        )
        result.details[f"{name}_entries"] = outcome.ledger.entry_count
        result.details[f"{name}_seconds"] = list(timings[name].seconds)
    readings = cpu["sqlite"]
    result.details["sqlite_cpu_own_s"] = [reading.own for reading in readings]
    result.details["sqlite_cpu_workers_s"] = [reading.children for reading in readings]
    return result
