"""Replicas with sentinel workers: the same blocks, the same faults.

With a :class:`~dcep.core.SentinelPool`, a replica has each entry's signature
checked in a worker a few chunks ahead of re-execution.  Until format 3 the
workers also expanded each block's LtHash leaves; a block's changes root now
costs a hash per account touched and is computed where the block ends.
Either way, the first fault a replica with workers names must be the one a
replica without workers names: the same reason, block, entry and message.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Iterator

import attrs
import pytest

import dcep
import dcep.core
import dcep.journal
import dcep.values
from dcep import cny
from dcep.journal._journal import Journal

BLOCK_SIZE = 16


def _writer(corrupt: dict[int, dict[str, object]]) -> dcep.journal.MemoryStore:
    """A journal of a couple of hundred entries whose listed headers were written wrong.

    ``corrupt`` maps a block height to header fields to overwrite before the
    central bank signs it: a validly signed block that re-execution disagrees with.
    """
    original = Journal._next_header

    def wrong_header(journal: Journal) -> dcep.journal.BlockHeader:
        header = original(journal)
        fields = corrupt.get(header.height)
        return header if fields is None else attrs.evolve(header, **fields)  # type: ignore[arg-type]

    ledger = dcep.Ledger.with_journal(block_size=BLOCK_SIZE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Journal, "_next_header", wrong_header)
        pboc = dcep.CentralBank(ledger, seed=3)
        bank = pboc.authorise_bank("B", code="MA.156.1100.01", reserves=cny("100000"))
        pboc.issue(bank, cny("100000"))
        holders = [bank.open_wallet(category=4, phone=f"{i}", seed=i) for i in range(12)]
        for holder in holders:
            bank.fund(holder, cny("50"))
        rng = random.Random(8)
        for _ in range(200):
            payer, payee = rng.sample(holders, 2)
            payer.pay(payee, dcep.Amount(rng.randint(1, 300)))
        assert ledger.journal is not None
        ledger.journal.seal()
        ledger.journal.flush()
    store = ledger.journal.store
    assert isinstance(store, dcep.journal.MemoryStore)
    return store


def _rebuilt(
    store: dcep.journal.MemoryStore,
    *,
    forge_entry: int | None = None,
    forge_block_signature: int | None = None,
    damage_hash: int | None = None,
) -> dcep.journal.MemoryStore:
    """A copy of ``store``: one entry's or block's signature forged, one stored hash damaged."""
    entries = []
    previous = bytes(32)
    for number, body, _ in store.read_entries():
        if number == forge_entry:  # a byte of the envelope's signature
            body = body[:80] + bytes([body[80] ^ 1]) + body[81:]
        entry = dcep.journal.JournalEntry.decode(body, previous)
        previous = entry.hash
        stored_hash = entry.hash
        if number == damage_hash:  # the chain after it still links to the true hash
            stored_hash = bytes(32)
        entries.append((entry.number, entry.body, stored_hash))
    blocks = []
    for height, header_raw, signature in store.read_blocks():
        if height == forge_block_signature:
            signature = bytes([signature[0] ^ 1]) + signature[1:]
        blocks.append(
            dcep.journal.SealedBlock(dcep.journal.BlockHeader.decode(header_raw), signature)
        )
    copy = dcep.journal.MemoryStore()
    copy.write(entries, blocks)
    return copy


def _fault(
    store: dcep.journal.MemoryStore, pool: dcep.core.SentinelPool | None
) -> tuple[object, ...]:
    with pytest.raises(dcep.JournalError) as caught:
        dcep.Replica(store).catch_up(sentinels=pool)
    error = caught.value
    return error.reason, error.block, error.entry, str(error)


@pytest.fixture(scope="module")
def pool() -> Iterator[dcep.core.SentinelPool]:
    with dcep.core.SentinelPool(dcep.Ledger().network_id, 2) as sentinels:
        yield sentinels


@pytest.fixture(scope="module")
def sound() -> dcep.journal.MemoryStore:
    return _writer({})


def test_a_sound_journal_verifies_the_same_with_workers(
    sound: dcep.journal.MemoryStore, pool: dcep.core.SentinelPool
) -> None:
    alone_replica = dcep.Replica(sound)
    alone = alone_replica.catch_up()
    pooled_replica = dcep.Replica(sound)
    pooled = pooled_replica.catch_up(sentinels=pool)
    assert pooled == alone
    assert pooled.blocks_verified > 2 * 4  # more blocks than the workers may hold
    assert pooled_replica.ledger.snapshot() == alone_replica.ledger.snapshot()


@pytest.mark.parametrize("height", [0, 1, 5, 9, -1])
def test_a_wrong_changes_root_is_named_at_its_block_as_without_workers(
    pool: dcep.core.SentinelPool, height: int
) -> None:
    blocks = len(list(_writer({}).read_blocks()))
    height = height % blocks
    store = _writer({height: {"changes_root": bytes(32)}})
    alone = _fault(store, None)
    assert alone[0] is dcep.Reason.JOURNAL_BLOCK_MISMATCH
    assert alone[1] == height
    assert "changes_root" in str(alone[3])
    assert _fault(store, pool) == alone


def test_a_wrong_changes_root_comes_before_a_later_forged_entry(
    pool: dcep.core.SentinelPool, sound: dcep.journal.MemoryStore
) -> None:
    store = _writer({3: {"changes_root": bytes(32)}})
    first_after = (3 + 1) * BLOCK_SIZE + 2  # an entry in block 4
    forged = _rebuilt(store, forge_entry=first_after)
    alone = _fault(forged, None)
    assert alone[1] == 3
    assert _fault(forged, pool) == alone
    # Without the wrong commitment, the forged entry is the fault, in both.
    only_entry = _rebuilt(sound, forge_entry=first_after)
    alone_entry = _fault(only_entry, None)
    assert alone_entry[2] == first_after
    assert _fault(only_entry, pool) == alone_entry


@pytest.mark.slow  # a sweep: 16 random mixes of faults, each verified twice
@pytest.mark.parametrize("slow", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_any_mix_of_faults_is_named_as_without_workers(
    pool: dcep.core.SentinelPool, seed: int, slow: bool
) -> None:
    rng = random.Random(seed)
    blocks = len(list(_writer({}).read_blocks()))
    entries = blocks * BLOCK_SIZE

    def maybe(count: int) -> int | None:
        return rng.randrange(count) if rng.random() < 0.6 else None

    def maybe_entry() -> int | None:
        # Often the last entry of a block: the entry that seals it.
        pick = maybe(entries)
        return pick if pick is None or rng.random() < 0.5 else pick | (BLOCK_SIZE - 1)

    wrong = maybe(blocks)
    store = _rebuilt(
        _writer({} if wrong is None else {wrong: {"changes_root": bytes(32)}}),
        forge_entry=maybe_entry(),
        forge_block_signature=maybe(blocks),
        damage_hash=maybe_entry(),
    )
    pause_at = rng.randrange(entries)

    def outcome(sentinels: dcep.core.SentinelPool | None) -> object:
        replica = dcep.Replica(store)
        if slow:  # a busy moment: the workers' results are back before the next block
            replica.ledger.subscribe(
                lambda e: time.sleep(0.05) if e.receipt.entry_number == pause_at else None
            )
        try:
            return replica.catch_up(sentinels=sentinels)
        except dcep.JournalError as error:
            return error.reason, error.block, error.entry, str(error)

    assert outcome(pool) == outcome(None)


def test_a_wrong_changes_root_found_while_a_damaged_entry_seals_a_later_block(
    pool: dcep.core.SentinelPool,
) -> None:
    # Block 3's change is back (the pause) by the time the last entry of
    # block 4, whose stored hash is damaged, seals it: block 3 is still first.
    last_of_4 = 5 * BLOCK_SIZE - 1
    store = _rebuilt(_writer({3: {"changes_root": bytes(32)}}), damage_hash=last_of_4)
    expected = _fault(store, None)
    assert expected[1] == 3
    replica = dcep.Replica(store)
    replica.ledger.subscribe(
        lambda e: time.sleep(0.05) if e.receipt.entry_number == last_of_4 - 9 else None
    )
    with pytest.raises(dcep.JournalError) as caught:
        replica.catch_up(sentinels=pool)
    error = caught.value
    assert (error.reason, error.block, error.entry, str(error)) == expected


@pytest.mark.parametrize("bad_signature_too", [False, True])
def test_a_damaged_entry_that_seals_a_block_comes_before_that_blocks_changes_root(
    pool: dcep.core.SentinelPool, bad_signature_too: bool
) -> None:
    # Entry 31 seals block 1; a lone replica checks the stored entry before
    # the block it sealed, so the entry is the fault named, with workers too.
    store = _rebuilt(
        _writer({1: {"changes_root": bytes(32)}}),
        damage_hash=2 * BLOCK_SIZE - 1,
        forge_block_signature=1 if bad_signature_too else None,
    )
    alone = _fault(store, None)
    assert alone[0] is dcep.Reason.JOURNAL_CHAIN_BROKEN
    assert alone[2] == 2 * BLOCK_SIZE - 1
    for _ in range(3):
        assert _fault(store, pool) == alone


def test_a_wrong_changes_root_comes_before_its_own_bad_signature(
    pool: dcep.core.SentinelPool,
) -> None:
    store = _rebuilt(_writer({4: {"changes_root": bytes(32)}}), forge_block_signature=4)
    alone = _fault(store, None)
    assert alone[1] == 4
    assert "changes_root" in str(alone[3])
    assert _fault(store, pool) == alone


def test_every_wrong_field_is_named_as_without_workers(pool: dcep.core.SentinelPool) -> None:
    store = _writer({2: {"changes_root": bytes(32), "issued_fen": 1}})
    alone = _fault(store, None)
    assert "issued_fen" in str(alone[3])
    assert "changes_root" in str(alone[3])
    assert _fault(store, pool) == alone
    # A header that is wrong only outside the changes root names only that field.
    other = _writer({2: {"issued_fen": 1}})
    alone_other = _fault(other, None)
    assert "changes_root" not in str(alone_other[3])
    assert _fault(other, pool) == alone_other


@pytest.mark.slow  # starts a pool of its own and kills its workers
def test_workers_killed_before_a_replay_leave_the_verification_whole(
    sound: dcep.journal.MemoryStore,
) -> None:
    # The workers only check signatures now, a chunk of 512 entries ahead of
    # the replay: this journal is one chunk, checked before its first entry is
    # applied, so a kill in the middle of the replay would find nothing left
    # to do.  Killed before it starts, the pool must restart its workers.
    lone = dcep.Replica(sound)
    alone = lone.catch_up()
    before = {child.pid for child in multiprocessing.active_children()}
    with dcep.core.SentinelPool(dcep.Ledger().network_id, 2) as own:
        victims = [c.pid for c in multiprocessing.active_children() if c.pid not in before]
        assert len(victims) == 2
        for pid in victims:
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
        replica = dcep.Replica(sound)
        assert replica.catch_up(sentinels=own) == alone
        assert own.restarts == 1
        assert replica.ledger.snapshot() == lone.ledger.snapshot()
