"""The journal: chained entries, signed blocks, storage, recovery, replicas, proofs."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dcep
import dcep.core
import dcep.errors
import dcep.journal
import dcep.values
from dcep import cny
from dcep.core._posting_codec import decode_postings, encode_postings
from dcep.journal._entries import GENESIS_HASH, JournalEntry, entry_body, entry_matches
from dcep.values._commitment import account_leaf, changes_root, row_leaf
from dcep.values._merkle import _node, inclusion_proof, leaf_hash, merkle_root, verify_inclusion

from .strategies import address_bytes, addresses, category_numbers, fens, mutated


def _populate(ledger: dcep.Ledger, wallets: int = 12, payments: int = 60) -> dcep.CentralBank:
    pboc = dcep.CentralBank(ledger, seed=11)
    icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("1000000"))
    pboc.issue(icbc, cny("500000"))
    holders = [icbc.open_wallet(category=4, phone=f"138{i:08d}") for i in range(wallets)]
    for holder in holders:
        icbc.fund(holder, cny("400"))
    for i in range(payments):
        payer, payee = holders[i % wallets], holders[(i * 5 + 1) % wallets]
        if payer is not payee:
            payer.pay(payee, dcep.Amount(101 + i))
    return pboc


def _state(ledger: dcep.Ledger) -> object:
    return (ledger.supply(), ledger.banks(), list(ledger.wallets()), ledger.entry_count)


def _ledger_entries() -> list[dcep.core.LedgerEntry]:
    ledger = dcep.Ledger()
    entries: list[dcep.core.LedgerEntry] = []
    ledger.subscribe(entries.append)
    _populate(ledger, wallets=3, payments=4)
    return entries


_ENTRIES = _ledger_entries()


@given(data=st.data())
def test_a_stored_body_matches_a_rebuilt_entry_exactly_when_its_bytes_do(
    data: st.DataObject,
) -> None:
    """Replay hashes a stored body without rebuilding it only if the rebuilt one is the same."""
    entry = data.draw(st.sampled_from(_ENTRIES))
    body = JournalEntry.from_ledger_entry(entry, GENESIS_HASH).body
    stored = data.draw(st.one_of(st.just(body), mutated(body)))
    # As replay does: the instruction is read from the stored body's own envelope.
    envelope = stored[21 : 21 + int.from_bytes(stored[17:21], "big")]
    try:
        signed = dcep.instructions.SignedInstruction.from_bytes(envelope)
    except dcep.DcepError:
        return
    replayed = attrs.evolve(entry, signed=signed)
    rebuilt = JournalEntry.from_ledger_entry(replayed, GENESIS_HASH).body
    assert entry_matches(stored, replayed, signed) == (stored == rebuilt)
    assert entry_matches(body, entry, entry.signed)
    # Never on trust: another instruction object, or none, does not match.
    assert not entry_matches(body, entry, attrs.evolve(entry.signed))
    assert not entry_matches(body, entry, None)


@given(entry=st.sampled_from(_ENTRIES), previous=st.binary(min_size=32, max_size=32))
def test_the_body_a_store_is_handed_reads_back_as_the_entry(
    entry: dcep.core.LedgerEntry, previous: bytes
) -> None:
    """The journal hands a store ``entry_body``; read back, it is the whole entry."""
    body = entry_body(entry)
    built = JournalEntry.from_ledger_entry(entry, previous)
    assert built == JournalEntry.decode(body, previous)
    assert (built.number, built.body) == (entry.receipt.entry_number, body)
    assert built.envelope == entry.signed.to_bytes()
    assert built.postings == entry.receipt.postings


def test_reopening_a_database_recovers_the_same_state(tmp_path: Path) -> None:
    path = tmp_path / "city.db"
    ledger = dcep.Ledger.open(path, block_size=8, snapshot_every_blocks=3)
    _populate(ledger)
    before, head = _state(ledger), ledger.journal.head_hash if ledger.journal else b""
    ledger.close()
    reopened = dcep.Ledger.open(path, block_size=8, snapshot_every_blocks=3)
    assert _state(reopened) == before
    assert reopened.journal is not None
    assert reopened.journal.head_hash == head
    reopened.check_invariants()
    reopened.close()


def test_a_commitment_leaf_is_kind_owner_account_and_balance_length_prefixed() -> None:
    owner = bytes(range(20))
    assert account_leaf(dcep.core.AccountKind.DEPOSIT, owner, "acct-7", 0x0102) == (
        b"\x07deposit" + owner + b"\x06acct-7" + b"\x00\x00\x00\x00\x00\x00\x01\x02"
    )
    # A wallet's account id is empty: a zero length and nothing after it.
    assert account_leaf(dcep.core.AccountKind.WALLET, owner, "", 5) == (
        b"\x06wallet" + owner + b"\x00" + (5).to_bytes(8, "big")
    )


@given(
    kind=st.sampled_from(list(dcep.core.AccountKind)),
    owner=address_bytes,
    account_id=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", max_size=40),
    balance_fen=fens(),
)
def test_every_commitment_leaf_is_built_field_by_field(
    kind: dcep.core.AccountKind, owner: bytes, account_id: str, balance_fen: int
) -> None:
    """Built from cached parts, the leaf is still exactly its fields, each in order."""
    kind_raw, account_raw = kind.value.encode(), account_id.encode()
    assert account_leaf(kind, owner, account_id, balance_fen) == b"".join(
        (
            len(kind_raw).to_bytes(1, "big"),
            kind_raw,
            owner,
            len(account_raw).to_bytes(1, "big"),
            account_raw,
            balance_fen.to_bytes(8, "big"),
        )
    )


@pytest.mark.parametrize("snapshot_every_blocks", [1, 4, 1000])
def test_recovery_seals_the_blocks_a_ledger_that_never_stopped_would_have_sealed(
    snapshot_every_blocks: int,
) -> None:
    """The blocks sealed after recovery must be exactly those of a ledger that never
    stopped, whatever the snapshot it started from and the unsealed tail it found."""
    store = dcep.journal.MemoryStore()
    ledger = dcep.Ledger.with_journal(
        store, block_size=5, snapshot_every_blocks=snapshot_every_blocks
    )
    _populate(ledger, wallets=9, payments=37)  # ends mid-block: an unsealed tail
    assert ledger.journal is not None
    assert ledger.journal.sealed_entry_count < ledger.entry_count
    reopened = dcep.Ledger.with_journal(
        store, block_size=5, snapshot_every_blocks=snapshot_every_blocks
    )
    assert reopened.journal is not None
    assert reopened.journal.recovery is not None
    replayed = reopened.journal.recovery.replayed
    assert replayed == ledger.entry_count - reopened.journal.recovery.from_snapshot
    if snapshot_every_blocks == 1000:
        assert replayed == ledger.entry_count  # no snapshot: every block replayed
    assert reopened.journal.settings_digest == ledger.journal.settings_digest
    dcep.CentralBank(reopened, seed=11)  # the same key again: it can seal
    ours, theirs = reopened.journal.seal(), ledger.journal.seal()
    assert ours is not None
    assert theirs is not None
    assert ours.header == theirs.header


def test_recovery_refuses_a_last_block_whose_changes_root_is_not_the_state() -> None:
    store = dcep.journal.MemoryStore()
    ledger = dcep.Ledger.with_journal(store, block_size=5, snapshot_every_blocks=1000)
    _populate(ledger, wallets=6, payments=20)
    blocks = store._blocks
    height, header_raw, signature = blocks[-1]
    header = dcep.journal.BlockHeader.decode(header_raw)
    forged = attrs.evolve(header, changes_root=bytes(32))
    blocks[-1] = (height, forged.encode(), signature)
    with pytest.raises(dcep.JournalError) as caught:
        dcep.Ledger.with_journal(store, block_size=5)
    assert caught.value.reason is dcep.Reason.JOURNAL_BLOCK_MISMATCH
    assert caught.value.block == height
    assert "changes_root" in str(caught.value)


def test_recovery_checks_the_changes_root_even_of_blocks_that_moved_no_money() -> None:
    store = dcep.journal.MemoryStore()
    ledger = dcep.Ledger.with_journal(store, block_size=1, snapshot_every_blocks=1000)
    dcep.CentralBank(ledger, seed=3)  # one genesis entry, sealed alone in block 0
    height, header_raw, signature = store._blocks[0]
    forged = attrs.evolve(dcep.journal.BlockHeader.decode(header_raw), changes_root=bytes(32))
    store._blocks[0] = (height, forged.encode(), signature)
    with pytest.raises(dcep.JournalError) as caught:
        dcep.Ledger.with_journal(store, block_size=1)
    assert caught.value.reason is dcep.Reason.JOURNAL_BLOCK_MISMATCH
    assert caught.value.block == 0


def test_recovery_checks_the_central_banks_signature_on_the_last_block() -> None:
    """Recovery recomputes every header; the signature on the last one covers the
    others through the chain of previous-block hashes."""
    store = dcep.journal.MemoryStore()
    ledger = dcep.Ledger.with_journal(store, block_size=5, snapshot_every_blocks=1000)
    _populate(ledger, wallets=4, payments=10)
    height, header_raw, signature = store._blocks[-1]
    store._blocks[-1] = (height, header_raw, bytes([signature[0] ^ 1]) + signature[1:])
    with pytest.raises(dcep.JournalError) as caught:
        dcep.Ledger.with_journal(store, block_size=5)
    assert caught.value.reason is dcep.Reason.JOURNAL_BLOCK_MISMATCH
    assert caught.value.block == height


def test_a_clock_past_what_a_journal_can_hold_is_refused_and_changes_nothing() -> None:
    clock = dcep.ManualClock()
    ledger = dcep.Ledger(clock=clock)
    pboc = dcep.CentralBank(ledger, seed=5)
    bank = pboc.authorise_bank("B", code="MA.156.1100.01", reserves=cny("10"))
    before = ledger.snapshot()
    clock.advance(microseconds=2**63)
    with pytest.raises(dcep.InvalidFieldError) as caught:
        pboc.issue(bank, cny("1"))
    assert caught.value.reason is dcep.Reason.FIELD_INVALID
    assert caught.value.field == "accepted_at_us"
    assert ledger.snapshot() == before


class _SwitchableClock:
    """A caller's clock that can be told to read a fraction of a microsecond."""

    def __init__(self) -> None:
        self.manual = dcep.ManualClock()
        self.fractional = False

    def now_us(self) -> int:
        now_us = self.manual.now_us()
        return now_us + 0.5 if self.fractional else now_us  # type: ignore[return-value]


def test_a_clock_that_reads_a_fraction_is_refused_and_changes_nothing() -> None:
    clock = _SwitchableClock()
    ledger = dcep.Ledger.with_journal(clock=clock, block_size=2)
    pboc = dcep.CentralBank(ledger, seed=5)
    bank = pboc.authorise_bank("B", code="MA.156.1100.01", reserves=cny("10"))
    before = ledger.snapshot()
    clock.fractional = True
    with pytest.raises(dcep.InvalidFieldError) as caught:
        pboc.issue(bank, cny("1"))
    assert caught.value.reason is dcep.Reason.FIELD_INVALID
    assert caught.value.field == "accepted_at_us"
    assert ledger.snapshot() == before
    # And the ledger goes on as if it had never been asked.
    clock.fractional = False
    pboc.issue(bank, cny("1"))
    assert ledger.supply().issued == cny("1")


@pytest.mark.parametrize("unit", ["days", "hours", "seconds", "microseconds"])
@pytest.mark.parametrize("step", [0.5, 1.0, True, "1", None])
def test_a_manual_clock_moves_by_whole_units_only(unit: str, step: object) -> None:
    clock = dcep.ManualClock()
    start = clock.now_us()
    with pytest.raises(dcep.InvalidFieldError) as caught:
        clock.advance(**{unit: step})  # type: ignore[arg-type]
    assert caught.value.reason is dcep.Reason.FIELD_INVALID
    assert caught.value.field == unit
    assert isinstance(caught.value, ValueError)
    assert clock.now_us() == start


def test_a_refused_second_central_bank_leaves_the_journal_signed_by_the_first(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.db"
    ledger = dcep.Ledger.open(path, block_size=2)
    pboc = dcep.CentralBank(ledger, seed=1)
    bank = pboc.authorise_bank("B", code="MA.156.1100.01", reserves=cny("100"))
    with pytest.raises(dcep.DuplicateError) as caught:
        dcep.CentralBank(ledger, seed=666)
    assert caught.value.reason is dcep.Reason.LEDGER_ALREADY_INITIALISED
    for _ in range(3):
        pboc.issue(bank, cny("1"))
    ledger.close()
    report = dcep.Replica(dcep.journal.SqliteStore(path, create=False)).catch_up()
    assert report.entries_verified == 5
    assert report.blocks_verified == 3  # two full, and the last sealed at close


def test_a_replica_verifies_a_database_and_its_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "city.db"
    ledger = dcep.Ledger.open(path, block_size=8, snapshot_every_blocks=2)
    _populate(ledger)
    assert ledger.journal is not None
    ledger.journal.snapshot()
    expected = _state(ledger)
    ledger.close()
    store = dcep.journal.SqliteStore(path)
    report = dcep.Replica(store).catch_up()
    store.close()
    assert report.snapshot_checked
    assert report.entry_count == expected[3]  # type: ignore[index]


def test_a_replica_follows_a_live_memory_ledger() -> None:
    ledger = dcep.Ledger.with_journal(block_size=5)
    assert ledger.journal is not None
    replica = dcep.Replica(ledger.journal.store)
    pboc = dcep.CentralBank(ledger, seed=3)
    bank = pboc.authorise_bank("B", code="MA.156.1100.07", reserves=cny("100"))
    first = replica.catch_up()
    pboc.issue(bank, cny("10"))
    second = replica.catch_up()
    assert first.entries_verified + second.entries_verified == ledger.entry_count
    assert replica.ledger.supply() == ledger.supply()


def test_a_block_signed_by_another_key_is_rejected() -> None:
    ledger = dcep.Ledger.with_journal(block_size=4)
    assert ledger.journal is not None
    _populate(ledger, wallets=3, payments=3)
    forger = dcep.values.SigningKey(bytes(range(32)))
    store = ledger.journal.store
    assert isinstance(store, dcep.journal.MemoryStore)
    forged = dcep.journal.MemoryStore()
    entries = list(store.read_entries())
    blocks = list(store.read_blocks())
    header = dcep.journal.BlockHeader.decode(blocks[0][1])
    resigned = dcep.journal.SealedBlock.sign(header, forger, ledger.network_id)
    forged_blocks = [(blocks[0][0], blocks[0][1], resigned.signature), *blocks[1:]]
    forged._entries.extend(entries)
    forged._blocks.extend(forged_blocks)
    with pytest.raises(dcep.JournalError) as caught:
        dcep.Replica(forged).catch_up()
    assert caught.value.reason is dcep.Reason.JOURNAL_BLOCK_MISMATCH
    assert caught.value.block == 0


def test_entry_proofs_verify_and_tampered_ones_do_not() -> None:
    ledger = dcep.Ledger.with_journal(block_size=7)
    assert ledger.journal is not None
    pboc = _populate(ledger, wallets=5, payments=20)
    ledger.journal.seal()
    ledger.journal.flush()
    store = ledger.journal.store
    for number in range(ledger.entry_count):
        proof = dcep.journal.prove_entry(store, number)
        assert proof.entry.number == number
        assert dcep.journal.verify_entry_proof(proof, pboc.verify_key, ledger.network_id)
    flipped = bytearray(proof.body)
    flipped[-1] ^= 1
    assert not dcep.journal.verify_entry_proof(
        attrs.evolve(proof, body=bytes(flipped)), pboc.verify_key, ledger.network_id
    )
    assert not dcep.journal.verify_entry_proof(proof, pboc.verify_key, b"another-network")
    outsider = dcep.values.SigningKey(bytes(32)).verify_key
    assert not dcep.journal.verify_entry_proof(proof, outsider, ledger.network_id)


def _reference_root(hashes: list[bytes]) -> bytes:
    # RFC 9162 section 2.1.1, recursively: split at the largest power of two below n.
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    return _node(_reference_root(hashes[:split]), _reference_root(hashes[split:]))


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=40), st.data())
def test_merkle_root_matches_the_rfc_and_every_leaf_has_a_proof(
    leaves: list[bytes], data: st.DataObject
) -> None:
    hashes = [leaf_hash(leaf) for leaf in leaves]
    root = merkle_root(hashes)
    assert root == _reference_root(hashes)
    index = data.draw(st.integers(0, len(hashes) - 1))
    proof = inclusion_proof(hashes, index)
    assert verify_inclusion(hashes[index], proof, root)
    other = data.draw(st.integers(0, len(hashes) - 1))
    if hashes[other] != hashes[index]:
        assert not verify_inclusion(hashes[other], proof, root)


@given(
    st.lists(st.binary(max_size=16), max_size=12, unique=True), st.randoms(use_true_random=False)
)
def test_a_changes_root_is_a_function_of_the_set_of_leaves(
    leaves: list[bytes], rng: random.Random
) -> None:
    """Sorted first: the order a block touched its accounts in does not matter."""
    shuffled = list(leaves)
    rng.shuffle(shuffled)
    assert changes_root(shuffled) == changes_root(leaves)
    assert changes_root(leaves) == merkle_root([leaf_hash(leaf) for leaf in sorted(leaves)])
    if leaves:
        assert changes_root(leaves[1:]) != changes_root(leaves)


row_values = st.one_of(
    st.none(), st.integers(-(2**70), 2**70), st.binary(max_size=8), st.text(max_size=8)
)


@given(
    st.tuples(st.text(max_size=6), st.lists(row_values, max_size=5)),
    st.tuples(st.text(max_size=6), st.lists(row_values, max_size=5)),
)
def test_two_different_rows_never_share_a_leaf(
    first: tuple[str, list[object]], second: tuple[str, list[object]]
) -> None:
    """Typed and length-prefixed: no value can pass for another, or run into the next."""

    def typed(row: tuple[str, list[object]]) -> object:
        # Types first, so that bytes are never compared with ints (python -bb).
        return row[0], [(type(value).__name__, value) for value in row[1]]

    if typed(first) != typed(second):
        assert row_leaf(first[0], first[1]) != row_leaf(second[0], second[1])


def test_a_row_leaf_refuses_a_value_a_snapshot_does_not_hold() -> None:
    with pytest.raises(dcep.errors.EncodingError):
        row_leaf("wallets", (1.5,))
    with pytest.raises(dcep.errors.EncodingError):
        row_leaf("wallets", (True,))


postings_strategy = st.lists(
    st.builds(
        dcep.core.Posting,
        st.sampled_from(dcep.core.AccountKind),
        addresses,
        st.integers(-(2**63), 2**63 - 1),
        st.text("abcXYZ019-_.", max_size=20),
    ),
    max_size=5,
).map(tuple)


@given(postings_strategy)
def test_postings_encoding_round_trips(postings: tuple[dcep.core.Posting, ...]) -> None:
    # Two postings without account ids (every payment) take a shorter path.
    encoded = encode_postings(postings)
    assert len(encoded) == 2 + sum(30 + len(p.account_id) for p in postings)
    assert decode_postings(b"prefix" + encoded, 6) == (postings, 6 + len(encoded))


def test_a_payments_postings_in_the_documented_layout() -> None:
    # count (2 bytes), then per posting: kind code (wallet is the 3rd kind),
    # owner (20), signed 64-bit delta, account id length, account id.
    payer, payee = dcep.Address(b"\x01" * 20), dcep.Address(b"\x02" * 20)
    payment = (
        dcep.core.Posting(dcep.core.AccountKind.WALLET, payer, -5),
        dcep.core.Posting(dcep.core.AccountKind.WALLET, payee, 5),
    )
    expected = (
        b"\x00\x02"
        + b"\x03" + b"\x01" * 20 + b"\xff" * 7 + b"\xfb" + b"\x00"
        + b"\x03" + b"\x02" * 20 + b"\x00" * 7 + b"\x05" + b"\x00"
    )  # fmt: skip
    assert encode_postings(payment) == expected
    with_account = (payment[0], dcep.core.Posting(dcep.core.AccountKind.DEPOSIT, payee, 5, "a1"))
    assert encode_postings(with_account) == (
        expected[:32] + b"\x04" + b"\x02" * 20 + b"\x00" * 7 + b"\x05" + b"\x02a1"
    )


def test_deferred_durability_writes_at_block_boundaries_only() -> None:
    ledger = dcep.Ledger.with_journal(block_size=1000, durability=dcep.journal.Durability.DEFERRED)
    assert ledger.journal is not None
    _populate(ledger, wallets=3, payments=2)
    assert ledger.journal.store.entry_count() == 0
    ledger.journal.flush()
    assert ledger.journal.store.entry_count() == ledger.entry_count


def test_sync_durability_stores_every_entry_before_submit_returns() -> None:
    ledger = dcep.Ledger.with_journal(block_size=1000)
    assert ledger.journal is not None
    counts = []
    pboc = dcep.CentralBank(ledger, seed=5)
    for i in range(3):
        pboc.authorise_bank(f"B{i}", code=f"MA.156.1100.{i + 10}", reserves=cny("1"))
        counts.append(ledger.journal.store.entry_count())
    assert counts == [2, 3, 4]


def test_blocks_chain_and_cover_every_entry_once() -> None:
    ledger = dcep.Ledger.with_journal(block_size=6)
    assert ledger.journal is not None
    _populate(ledger, wallets=4, payments=10)
    headers = [
        dcep.journal.BlockHeader.decode(raw) for _, raw, _ in ledger.journal.store.read_blocks()
    ]
    assert [h.height for h in headers] == list(range(len(headers)))
    for previous, current in itertools.pairwise(headers):
        assert current.previous_block_hash == previous.hash
        assert current.first_entry == previous.first_entry + previous.entry_count
    assert all(h.entry_count == 6 for h in headers)


def test_a_database_keeps_the_policy_it_was_written_under(tmp_path: Path) -> None:
    path = tmp_path / "city.db"
    generous = dcep.Policy().with_limits(
        4, dcep.CategoryLimits(cny("5000"), cny("5000"), None, None, [dcep.values.KycField.PHONE])
    )
    ledger = dcep.Ledger.open(path, policy=generous, block_size=4)
    pboc = dcep.CentralBank(ledger, seed=8)
    bank = pboc.authorise_bank("B", code="MA.156.1100.01", reserves=cny("10000"))
    pboc.issue(bank, cny("10000"))
    holder = bank.open_wallet(category=4, phone="1")
    bank.fund(holder, cny("3000"))  # over the default category-4 cap of ¥1,000
    ledger.close()
    with pytest.raises(dcep.InvalidFieldError) as caught:
        dcep.Ledger.open(path, policy=dcep.Policy())
    assert caught.value.field == "policy"
    reopened = dcep.Ledger.open(path)
    assert reopened.policy == generous
    assert reopened.balance(holder.address) == cny("3000")
    reopened.close()


@given(
    st.dictionaries(
        category_numbers,
        st.tuples(*[st.one_of(st.none(), st.integers(0, 10**12))] * 4),
        min_size=1,
    ),
    st.integers(1, 10**9),
)
def test_policy_text_round_trips(changes: dict[int, tuple[int | None, ...]], window: int) -> None:
    policy = attrs.evolve(dcep.Policy(), idempotency_window=window)
    for category, caps in changes.items():
        balance, single, daily, annual = (None if c is None else dcep.Amount(c) for c in caps)
        limits = dcep.CategoryLimits(balance, single, daily, annual)
        policy = policy.with_limits(category, limits)
    assert dcep.Policy.from_text(policy.to_text()) == policy


@pytest.mark.parametrize("window", [0, -1, True, 2.0, "5", None])
def test_the_idempotency_window_is_a_positive_whole_number(window: object) -> None:
    with pytest.raises(dcep.InvalidFieldError) as caught:
        attrs.evolve(dcep.Policy(), idempotency_window=window)  # type: ignore[arg-type]
    assert caught.value.field == "idempotency_window"
    assert caught.value.reason is dcep.Reason.FIELD_INVALID


@pytest.mark.parametrize("reopen_at", [3, 4, 5])
def test_a_reopened_ledger_forgets_exactly_what_it_would_have_forgotten(
    tmp_path: Path, reopen_at: int
) -> None:
    """The window is the latest entries, oldest forgotten first, across a snapshot too."""
    path = tmp_path / "short-memory.db"
    policy = attrs.evolve(dcep.Policy(), idempotency_window=4)
    ledger = dcep.Ledger.open(path, policy=policy, block_size=2)
    pboc = dcep.CentralBank(ledger, seed=9)
    bank = pboc.authorise_bank("B", code="MA.156.1100.01", reserves=cny("100"))
    pboc.issue(bank, cny("100"))
    holder, payee = (bank.open_wallet(category=4, phone=f"{i}") for i in range(2))
    bank.fund(holder, cny("50"))
    payments = [holder.sign_payment(payee, dcep.Amount(1 + i)) for i in range(8)]
    receipts = [ledger.submit(p) for p in payments[:reopen_at]]
    ledger.close()
    ledger = dcep.Ledger.open(path)
    receipts += [ledger.submit(p) for p in payments[reopen_at:]]
    # The last four entries are the last four payments: resubmitted, their receipts.
    for payment, receipt in zip(payments[4:], receipts[4:], strict=True):
        assert ledger.submit(payment) == receipt
    # Older ones are forgotten; their sequence numbers still refuse them.
    before = ledger.snapshot()
    for payment in payments[:4]:
        with pytest.raises(dcep.SequenceError) as caught:
            ledger.submit(payment)
        assert caught.value.reason is dcep.Reason.SEQUENCE_REPLAYED
    assert ledger.snapshot() == before
    ledger.check_invariants()


def test_snapshots_are_taken_every_few_blocks_whatever_the_batches() -> None:
    ledger = dcep.Ledger.with_journal(block_size=5, snapshot_every_blocks=3)
    assert ledger.journal is not None
    pboc = dcep.CentralBank(ledger, seed=4)
    bank = pboc.authorise_bank("B", code="MA.156.1100.01", reserves=cny("1000"))
    pboc.issue(bank, cny("1000"))
    holders = [bank.open_wallet(category=4, phone=f"{i}") for i in range(4)]
    for holder in holders:
        bank.fund(holder, cny("100"))
    payments = [
        holders[i % 4].sign_payment(holders[(i + 1) % 4], dcep.Amount(1)) for i in range(24)
    ]
    # Batches of 7 never end on a block boundary of 5; snapshots must still be taken.
    # Each is written by the batch after the one that captured it (the last, of three).
    for start in range(0, len(payments), 7):
        ledger.submit_many(payments[start : start + 7])
    snapshot = ledger.journal.store.latest_snapshot()
    assert snapshot is not None
    # Every third block: the last boundary at or before the 35 entries is block 6 (30 entries).
    assert snapshot.block_height == 6
    assert snapshot.entry_count == 30
