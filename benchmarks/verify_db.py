"""``verify_db``: a replica re-verifying a whole database from its bytes.

``dcep.Replica(dcep.journal.SqliteStore(path)).catch_up()`` checks every signature,
re-executes every entry, recomputes every block header and checks the
central bank's signature on it, and compares the stored snapshot.  Its rate
is set against the verify ceiling over the database's own envelopes, on one
core and across a pool of all cores, both measured in the same run.
"""

from __future__ import annotations

import os

import dcep
import dcep.core
import dcep.journal
from benchmarks._ceiling import VerifyPool, check_points, verify_messages
from benchmarks._common import (
    Context,
    CpuReading,
    Result,
    cpu_note,
    cpu_split,
    interleaved,
    rate_figure,
)
from benchmarks._fixtures import NETWORK_ID, database, database_bound_keys, database_messages

NAME = "verify_db"


def run(context: Context) -> Result:
    """Time a full replica catch-up against the one-core and all-core ceilings."""
    db = database(context)
    sample = min(context.sizes.ceiling_sample, db.entries)
    messages = database_messages(db.path, sample)
    bound, keys = database_bound_keys(db.path)
    key_sample = keys[:sample]
    result = Result(
        NAME,
        {
            "entries": db.entries,
            "wallets": db.wallets,
            "blocks": db.blocks,
            "snapshot_entries": db.snapshot_entries,
            "ceiling_sample": sample,
            "entries_binding_keys": bound,
            "keys_bound": len(keys),
        },
    )

    def catch_up(sentinels: dcep.core.SentinelPool | None = None) -> None:
        store = dcep.journal.SqliteStore(db.path, network_id=NETWORK_ID)
        try:
            replica = dcep.Replica(store, network_id=NETWORK_ID)
            report = replica.catch_up(sentinels=sentinels)
        finally:
            store.close()
        if report.entry_count != db.entries or report.block_height != db.blocks:
            raise AssertionError(f"the replica verified {report}")

    # CPU time per catch-up, of this process (re-executing) and of the workers.
    cpu: dict[str, list[CpuReading]] = {"replica": [], "replica_sentinels": []}
    context.say("starting the verify pool")
    with (
        VerifyPool(messages) as pool,
        dcep.core.SentinelPool(NETWORK_ID.encode(), pool.processes) as sentinels,
    ):
        result.parameters["processes"] = pool.processes
        context.say(f"verifying {db.entries:,} entries, {context.repeats} times")
        timings = interleaved(
            {
                "replica": catch_up,
                "replica_sentinels": lambda: catch_up(sentinels),
                "one_core": lambda: verify_messages(messages),
                "all_cores": pool.run,
                "key_checks": lambda: check_points(key_sample),
            },
            context.repeats,
            cpu,
        )
    replica = timings["replica"]
    cores = os.cpu_count() or pool.processes
    cpu_used = {
        name: cpu_split(
            readings, timings[name], db.entries, cores, workers=name == "replica_sentinels"
        )
        for name, readings in cpu.items()
    }
    label = "Replica.catch_up(): entries verified"
    result.add(
        rate_figure(
            label,
            "entries/s",
            replica,
            db.entries,
            "1-process verify ceiling",
            "signatures/s",
            timings["one_core"],
            sample,
            note=f"{replica.best:.2f} s for {db.entries:,} entries; "
            + cpu_note(cpu_used["replica"], "an entry"),
        )
    )
    result.add(
        rate_figure(
            label,
            "entries/s",
            replica,
            db.entries,
            f"verify ceiling, pool of {pool.processes}",
            "signatures/s",
            timings["all_cores"],
            sample,
        )
    )
    with_sentinels = timings["replica_sentinels"]
    result.add(
        rate_figure(
            "Replica.catch_up(sentinels=pool): entries verified",
            "entries/s",
            with_sentinels,
            db.entries,
            f"verify ceiling, pool of {pool.processes}",
            "signatures/s",
            timings["all_cores"],
            sample,
            note=f"{with_sentinels.best:.2f} s, what `dcep verify` does by default; "
            + cpu_note(cpu_used["replica_sentinels"], "an entry"),
        )
    )
    if key_sample:
        # What the ceiling, over signatures alone, leaves out: each key an
        # entry binds costs a replica a point check on top of the signature.
        keys_figure = result.add(
            rate_figure(
                "key checks of the keys the entries bind",
                "keys/s",
                timings["key_checks"],
                len(key_sample),
                "1-process verify ceiling",
                "signatures/s",
                timings["one_core"],
                sample,
            )
        )
        worth = 1 + len(keys) / db.entries * keys_figure.baseline_best / keys_figure.best
        result.details["curve_work_per_entry_in_signatures"] = worth
        result.note(
            f"{bound:,} of {db.entries:,} entries bind {len(keys):,} keys: checking an entry "
            f"takes {worth:.3f} signature checks' worth of curve arithmetic, against the "
            "ceilings' 1"
        )
    result.details["seconds"] = {name: list(t.seconds) for name, t in timings.items()}
    result.details["cpu_median"] = cpu_used
    return result
