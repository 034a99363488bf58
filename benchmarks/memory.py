"""``memory``: what a funded wallet, and an accepted transfer, cost the ledger in memory.

``tracemalloc`` counts what is allocated and still held.  One traced session
builds ``W`` funded wallets through the roles (``CentralBank``,
``Bank.open_wallet``, ``Bank.fund``, keeping the ``Wallet`` objects, as an
application would), then drops the role objects to leave the ledger alone,
then applies ``T`` transfers (signed in the session, submitted as bytes so
that the ledger's own decoded objects are the ones counted) for the growth
per accepted entry, then empties the idempotency index to see its share.

The baseline, measured in the same run: a plain ``dict`` of 20-byte address
to (32-byte key, balance) for the same ``W`` wallets, the least Python
needs to hold the same facts.
"""

from __future__ import annotations

import gc
import hashlib
import random
import time
import tracemalloc
from collections.abc import Callable

import dcep
from benchmarks._common import Context, Figure, Result
from benchmarks._fixtures import FUNDING, LINKED_ACCOUNT, NETWORK_ID, submit_all

NAME = "memory"


def traced(build: Callable[[], object]) -> int:
    """Bytes still allocated after ``build()`` returns (its result is dropped)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        del kept
    finally:
        tracemalloc.stop()
    return after - before


def reading() -> int:
    """Bytes allocated since tracing started and not yet freed, after a collection."""
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def floor(wallets: int) -> dict[bytes, tuple[bytes, int]]:
    """The same facts, address to (key, balance), in the plainest Python."""
    table: dict[bytes, tuple[bytes, int]] = {}
    for index in range(wallets):
        seed = index.to_bytes(8, "big")
        key = hashlib.blake2b(seed, digest_size=32).digest()
        address = hashlib.blake2b(key, digest_size=20).digest()
        table[address] = (key, FUNDING.fen + index)  # a distinct int, as balances are
    return table


def with_roles(wallets: int) -> tuple[dcep.Ledger, list[dcep.Wallet]]:
    """A ledger built through the parties' own objects, which are kept."""
    ledger = dcep.Ledger(network_id=NETWORK_ID)
    pboc = dcep.CentralBank(ledger, seed=2026)
    needed = dcep.Amount(FUNDING.fen * wallets)
    bank = pboc.authorise_bank("Benchmark Bank", code="MA.156.1100.01", reserves=needed)
    pboc.issue(bank, needed)
    bank.pay_in(LINKED_ACCOUNT, dcep.cny("1"))
    kept: list[dcep.Wallet] = []
    for index in range(wallets):
        wallet = bank.open_wallet(
            category=1,
            phone=f"138{index:08d}",
            id_number=f"1101{index:014d}",
            name=f"holder {index}",
            linked_account=LINKED_ACCOUNT,
            in_person=True,
        )
        bank.fund(wallet, FUNDING, from_account="")
        kept.append(wallet)
    return ledger, kept


def run(context: Context) -> Result:
    """Measure bytes per funded wallet and per accepted transfer."""
    wallets = context.sizes.memory_wallets
    transfers = context.sizes.memory_transfers
    result = Result(NAME, {"wallets": wallets, "transfers": transfers, "wallet_category": 1})

    context.say(f"floor: a dict of {wallets:,} wallets")
    per_floor = traced(lambda: floor(wallets)) / wallets

    context.say(f"{wallets:,} Bank.open_wallet + Bank.fund, traced")
    gc.collect()
    tracemalloc.start()
    try:
        start = reading()
        started = time.perf_counter()
        ledger, kept = with_roles(wallets)
        build_seconds = time.perf_counter() - started
        with_role_objects = reading() - start
        # Pay from a random wallet to the next, as bytes, so that what the ledger keeps
        # is decoded by it; what the list itself holds is measured and taken off.
        rng = random.Random(5)
        before_signing = reading()
        payments = []
        for _ in range(transfers):
            payer = rng.randrange(wallets)
            payee = kept[(payer + 1 + rng.randrange(wallets - 1)) % wallets]
            signed = kept[payer].sign_payment(payee, dcep.Amount(rng.randint(1, 100)))
            payments.append(signed.to_bytes())
        held_by_list = reading() - before_signing
        envelope_size = sum(len(p) for p in payments) / len(payments)
        del kept, signed, payer, payee
        ledger_alone = reading() - start - held_by_list
        entries_at_build = ledger.entry_count
        context.say(f"{transfers:,} transfers")
        if submit_all(ledger, payments, 1_000):
            raise AssertionError("transfers refused")
        del payments
        after_transfers = reading() - start
        # The idempotency index, one record per accepted entry in the window: a
        # breakdown through a private attribute, so looked up defensively.
        state = getattr(ledger, "_state", None)
        index = getattr(state, "accepted", getattr(state, "receipts", None))
        index_entries = len(index) if isinstance(index, dict) else 0
        if isinstance(index, dict):
            index.clear()
            order = getattr(state, "accepted_order", None)
            if order is not None:
                order.clear()
        index_bytes = after_transfers - (reading() - start)
        entries = ledger.entry_count
        del ledger, state, index
    finally:
        tracemalloc.stop()
    growth = after_transfers - ledger_alone

    result.add(
        Figure(
            label="funded wallet, with role objects",
            unit="B/wallet",
            samples=(with_role_objects / wallets,),
            baseline_label="plain dict floor",
            baseline_unit="B/wallet",
            baseline_samples=(per_floor,),
            higher_is_better=False,
            note=f"{with_role_objects / 2**20:,.1f} MiB for {wallets:,}",
        )
    )
    result.add(
        Figure(
            label="funded wallet, ledger alone",
            unit="B/wallet",
            samples=(ledger_alone / wallets,),
            baseline_label="plain dict floor",
            baseline_unit="B/wallet",
            baseline_samples=(per_floor,),
            higher_is_better=False,
            note=f"{ledger_alone / 2**20:,.1f} MiB; role objects dropped",
        )
    )
    result.add(
        Figure(
            label="accepted transfer, ledger growth",
            unit="B/transfer",
            samples=(growth / transfers,),
            baseline_label="its wire envelope",
            baseline_unit="B",
            baseline_samples=(envelope_size,),
            higher_is_better=False,
        )
    )
    if index_entries:
        # The window is a fixed cost (the policy's latest entries), not a
        # wallet's: what the ledger holds per wallet beyond it, at build time.
        per_entry = index_bytes / index_entries
        window_at_build = per_entry * min(entries_at_build, index_entries)
        result.add(
            Figure(
                label="funded wallet, ledger alone, less the idempotency window",
                unit="B/wallet",
                samples=((ledger_alone - window_at_build) / wallets,),
                baseline_label="plain dict floor",
                baseline_unit="B/wallet",
                baseline_samples=(per_floor,),
                higher_is_better=False,
                note=f"the window held {window_at_build / 2**20:,.1f} MiB then",
            )
        )
        result.add(
            Figure(
                label="idempotency index, per accepted entry",
                unit="B/entry",
                samples=(index_bytes / index_entries,),
                baseline_label="a wire envelope",
                baseline_unit="B",
                baseline_samples=(envelope_size,),
                higher_is_better=False,
                note=f"{index_bytes / 2**20:,.1f} MiB for {index_entries:,} in the window",
            )
        )
    else:
        result.note("no idempotency index found on the ledger's state: no breakdown")
    result.details.update(
        floor_bytes_per_wallet=per_floor,
        with_role_objects_bytes=with_role_objects,
        ledger_alone_bytes=ledger_alone,
        transfer_growth_bytes=growth,
        index_bytes=index_bytes,
        index_entries=index_entries,
        entries=entries,
        build_seconds_traced=build_seconds,
    )
    return result
