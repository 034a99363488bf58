"""Signature checks in worker processes give exactly the in-process results."""

from __future__ import annotations

import random

import pytest

import dcep
from dcep import cny


def _world(wallets: int) -> tuple[dcep.Ledger, list[dcep.Wallet]]:
    ledger = dcep.Ledger.with_journal(block_size=64)
    pboc = dcep.CentralBank(ledger, seed=21)
    bank = pboc.authorise_bank("B", code="MA.156.1100.01", reserves=cny("100000"))
    pboc.issue(bank, cny("100000"))
    holders = [bank.open_wallet(category=4, phone=f"{i}", seed=i) for i in range(wallets)]
    for holder in holders:
        bank.fund(holder, cny("20"))
    return ledger, holders


def _batch(holders: list[dcep.Wallet], size: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    batch = []
    for _ in range(size):
        payer, payee = rng.sample(holders, 2)
        envelope = payer.sign_payment(payee, dcep.Amount(rng.randint(1, 900))).to_bytes()
        roll = rng.random()
        if roll < 0.05:  # a forged signature
            envelope = envelope[:40] + bytes([envelope[40] ^ 1]) + envelope[41:]
        elif roll < 0.08:  # garbage that does not decode
            envelope = envelope[: rng.randint(0, len(envelope) - 1)]
        batch.append(envelope)
    return batch


def _outcome(results: list[dcep.Receipt | dcep.Rejection]) -> list[object]:
    return [r if isinstance(r, dcep.Receipt) else (r.reason, str(r.error)) for r in results]


@pytest.mark.parametrize("workers", [1, 2])
def test_the_journal_is_the_same_with_and_without_workers(workers: int) -> None:
    alone, alone_wallets = _world(12)
    pooled, pooled_wallets = _world(12)
    batch_alone = _batch(alone_wallets, 400, seed=workers)
    batch_pooled = _batch(pooled_wallets, 400, seed=workers)
    assert batch_alone == batch_pooled
    expected = alone.submit_many(batch_alone)
    with dcep.SentinelPool(pooled.network_id, workers) as pool:
        got = pooled.submit_many(batch_pooled, sentinels=pool)
    assert _outcome(got) == _outcome(expected)
    assert any(isinstance(r, dcep.Rejection) for r in got)
    assert alone.journal is not None
    assert pooled.journal is not None
    assert alone.journal.head_hash == pooled.journal.head_hash
    pooled.check_invariants()


def test_a_pool_for_another_network_is_refused() -> None:
    ledger, _ = _world(2)
    with dcep.SentinelPool(b"elsewhere", 1) as pool, pytest.raises(dcep.InvalidFieldError):
        ledger.submit_many([], sentinels=pool)


def test_a_replica_with_sentinels_verifies_and_faults_exactly_as_alone() -> None:
    ledger, holders = _world(10)
    ledger.submit_many(_batch(holders, 300, seed=7))
    assert ledger.journal is not None
    store = ledger.journal.store
    assert isinstance(store, dcep.MemoryStore)
    with dcep.SentinelPool(ledger.network_id, 2) as pool:
        alone = dcep.Replica(store).catch_up()
        pooled = dcep.Replica(store).catch_up(sentinels=pool)
        assert pooled == alone
        # Forge one entry's signature (and its chain, so only the signature is wrong).
        entries = list(store.read_entries())
        number, body, _ = entries[40]
        forged_body = body[:60] + bytes([body[60] ^ 1]) + body[61:]
        forged = dcep.MemoryStore()
        previous = entries[39][2]
        rewritten = []
        for n, b, _ in entries[40:]:
            b = forged_body if n == number else b
            entry = dcep.JournalEntry.decode(b, previous)
            rewritten.append(entry)
            previous = entry.hash
        forged.write(
            [
                dcep.JournalEntry.decode(b, p)
                for (_, b, _), p in zip(
                    entries[:40], [bytes(32)] + [h for _, _, h in entries[:39]], strict=True
                )
            ]
            + rewritten,
            [],
        )
        errors = []
        for sentinels in (None, pool):
            with pytest.raises(dcep.JournalError) as caught:
                dcep.Replica(forged).catch_up(sentinels=sentinels)
            errors.append((caught.value.reason, caught.value.entry, str(caught.value)))
        assert errors[0] == errors[1]
        assert errors[0][1] == number
