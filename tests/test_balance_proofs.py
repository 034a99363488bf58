"""Balance proofs and state roots: a wallet's balance, checked with the central bank's key alone.

A snapshot's signed state root is the Merkle root over every row of the
state; a balance proof is one wallet's row, its path and the signed root.
The properties: every wallet of a signed state has a proof that verifies and
says what the ledger said; any change to the proof, or another key or
network, makes it fail; and the state root tells apart states that differ
in any one value of any one row.
"""

from __future__ import annotations

import functools

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
import dcep.core
import dcep.journal
import dcep.values
from dcep import cny
from dcep.core._snapshot import LazyRows, LedgerSnapshot, state_rows
from dcep.journal._state_root import state_root_of
from dcep.values._commitment import decode_row_leaf, row_leaf
from dcep.values._merkle import InclusionProof


@attrs.frozen
class Signed:
    """A ledger with a signed state, and what it said of each wallet then."""

    store: dcep.journal.MemoryStore
    central_bank_key: dcep.values.VerifyKey
    network_id: bytes
    balances: dict[dcep.Address, dcep.Amount]
    state: LedgerSnapshot


@functools.cache
def _signed() -> Signed:
    ledger = dcep.Ledger.with_journal(block_size=4)
    pboc = dcep.CentralBank(ledger, seed=26)
    icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("100000"))
    pboc.issue(icbc, cny("50000"))
    icbc.pay_in("6222-0001", cny("500"))
    wallets = [icbc.open_wallet(category=4, phone=f"1380000{i:04d}") for i in range(5)]
    for number, wallet in enumerate(wallets):
        icbc.fund(wallet, dcep.Amount(10_000 + 37 * number))
    wallets[0].pay(wallets[1], cny("12.34"))
    police = pboc.appoint_regulator("AML")
    police.freeze(wallets[2].address, "a test")
    police.issue_warrant(wallets[1].address, "case 26")
    assert ledger.journal is not None
    ledger.journal.snapshot()
    balances = {wallet.address: ledger.balance(wallet.address) for wallet in wallets}
    wallets[3].pay(wallets[4], cny("1"))  # after the snapshot: not in the signed state
    store = ledger.journal.store
    assert isinstance(store, dcep.journal.MemoryStore)
    latest = store.latest_snapshot()
    assert latest is not None
    return Signed(store, pboc.verify_key, ledger.network_id, balances, latest.ledger)


def test_every_wallet_has_a_proof_of_the_balance_the_ledger_gave() -> None:
    signed = _signed()
    for address, balance in signed.balances.items():
        proof = dcep.journal.prove_balance(signed.store, address)
        assert dcep.journal.verify_balance_proof(proof, signed.central_bank_key, signed.network_id)
        assert proof.address == address
        assert proof.balance == balance
        assert proof.as_of.entry_count == signed.state.entry_count


def test_a_proof_under_another_key_or_network_fails() -> None:
    signed = _signed()
    proof = dcep.journal.prove_balance(signed.store, next(iter(signed.balances)))
    other = dcep.values.SigningKey(bytes(range(32))).verify_key
    assert not dcep.journal.verify_balance_proof(proof, other, signed.network_id)
    assert not dcep.journal.verify_balance_proof(proof, signed.central_bank_key, b"elsewhere")


@settings(max_examples=60, deadline=None)
@given(which=st.integers(0, 4), position=st.integers(0, 2**16), bit=st.integers(0, 7))
def test_a_proof_with_any_bit_of_its_leaf_or_path_changed_fails(
    which: int, position: int, bit: int
) -> None:
    signed = _signed()
    proof = dcep.journal.prove_balance(signed.store, list(signed.balances)[which])
    parts = [proof.leaf, *proof.path.siblings]
    part = position % len(parts)
    raw = bytearray(parts[part])
    raw[(position // len(parts)) % len(raw)] ^= 1 << bit
    parts[part] = bytes(raw)
    forged = attrs.evolve(
        proof, leaf=parts[0], path=attrs.evolve(proof.path, siblings=tuple(parts[1:]))
    )
    assert not dcep.journal.verify_balance_proof(
        forged, signed.central_bank_key, signed.network_id
    )


def test_a_proof_with_a_changed_balance_or_index_fails() -> None:
    signed = _signed()
    proof = dcep.journal.prove_balance(signed.store, next(iter(signed.balances)))
    table, row = decode_row_leaf(proof.leaf)
    richer = row_leaf(table, (*row[:4], int(row[4] or 0) + 1, *row[5:]))
    assert attrs.evolve(proof, leaf=richer).balance == proof.balance + dcep.Amount(1)
    for forged in (
        attrs.evolve(proof, leaf=richer),
        attrs.evolve(proof, path=attrs.evolve(proof.path, index=proof.path.index + 1)),
        attrs.evolve(proof, path=attrs.evolve(proof.path, size=proof.path.size + 1)),
    ):
        assert not dcep.journal.verify_balance_proof(
            forged, signed.central_bank_key, signed.network_id
        )


def test_a_row_of_another_table_is_no_balance_proof() -> None:
    """A bank's row is in the same signed tree: its path checks, but it is no wallet's."""
    signed = _signed()
    proof = dcep.journal.prove_balance(signed.store, next(iter(signed.balances)))
    rows = list(state_rows(signed.state))
    index = next(i for i, (table, _) in enumerate(rows) if table == "banks")
    leaves = [row_leaf(table, row) for table, row in rows]
    hashes = [dcep.values._merkle.leaf_hash(leaf) for leaf in leaves]
    bank = attrs.evolve(
        proof, leaf=leaves[index], path=dcep.values._merkle.inclusion_proof(hashes, index)
    )
    assert dcep.values._merkle.verify_inclusion(
        hashes[index], bank.path, proof.state_root.state.root
    )
    assert not dcep.journal.verify_balance_proof(bank, signed.central_bank_key, signed.network_id)
    with pytest.raises(dcep.errors.EncodingError):
        _ = bank.balance


def test_proving_needs_a_signed_state_holding_the_wallet() -> None:
    signed = _signed()
    stranger = dcep.values.SigningKey(bytes(32)).verify_key.address
    with pytest.raises(dcep.UnknownPartyError) as unknown:
        dcep.journal.prove_balance(signed.store, stranger)
    assert unknown.value.reason is dcep.Reason.UNKNOWN_WALLET
    with pytest.raises(dcep.JournalError) as none:
        dcep.journal.prove_balance(dcep.journal.MemoryStore(), stranger)
    assert none.value.reason is dcep.Reason.JOURNAL_BLOCK_MISMATCH


def test_the_state_tree_covers_every_field_of_a_snapshot() -> None:
    """Generic over the snapshot's fields: a table added later is covered unchanged."""
    state = _signed().state
    rows = list(state_rows(state))
    names = [field.name for field in attrs.fields(LedgerSnapshot)]
    tables = {name for name in names if getattr(state, name) != ()}
    assert {"wallets", "frozen", "deposits", "warrants", "receipts"} <= tables
    assert {table for table, _ in rows} == tables
    # A row per element of each table, one row for each other field.
    for name in names:
        value = getattr(state, name)
        is_table = isinstance(value, tuple | LazyRows) and name != "central_bank"
        expected = len(value) if is_table else 1
        assert sum(1 for table, _ in rows if table == name) == (expected if value != () else 0)


def _with(state: LedgerSnapshot, name: str, value: object) -> LedgerSnapshot:
    # One field replaced, whatever its type: the test builds values of each.
    return attrs.evolve(state, **{name: value})  # type: ignore[arg-type]


def _perturbed(value: object) -> object:
    if isinstance(value, bytes):
        return bytes([value[0] ^ 1]) + value[1:] if value else b"\x00"
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, int):
        return value + 1
    return 0  # None


@settings(max_examples=80, deadline=None)
@given(position=st.integers(0, 2**20), column=st.integers(0, 20))
def test_states_that_differ_in_one_value_have_different_roots(position: int, column: int) -> None:
    """Any value of any row (a key, a frozen wallet, a fen of a balance) moves the root."""
    state = _signed().state
    field = attrs.fields(LedgerSnapshot)[position % len(attrs.fields(LedgerSnapshot))]
    value = getattr(state, field.name)
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        rows = list(value)
        index = (position // 32) % len(rows)
        row = list(rows[index])
        row[column % len(row)] = _perturbed(row[column % len(row)])
        rows[index] = tuple(row)
        changed = _with(state, field.name, tuple(rows))
    elif isinstance(value, tuple) and value and not isinstance(value[0], str):
        changed = _with(state, field.name, value[1:])
    elif isinstance(value, tuple) and value:  # the central bank's record
        changed = _with(state, field.name, (value[0] + "x", *value[1:]))
    elif isinstance(value, tuple):
        return  # an empty table: nothing to change
    else:
        changed = _with(state, field.name, _perturbed(value))
    assert state_root_of(changed) != state_root_of(state)


def test_a_leaf_that_is_not_a_row_is_refused() -> None:
    for raw in (
        b"",
        b"x",
        b"s\x00\x00\x00\x05ab",
        b"i\x00\x00\x00\x02\x00\x01",
        b"z\x00\x00\x00\x00",
    ):
        with pytest.raises(dcep.errors.EncodingError):
            decode_row_leaf(raw)
    # An int with a needless leading byte is not the canonical form.
    padded = row_leaf("t", ()) + b"i\x00\x00\x00\x02\x00\x01"
    with pytest.raises(dcep.errors.EncodingError):
        decode_row_leaf(padded)
    assert decode_row_leaf(row_leaf("t", (1, "a", b"b", None, -5))) == (
        "t",
        (1, "a", b"b", None, -5),
    )


def test_an_inclusion_path_is_needed_for_each_proof() -> None:
    signed = _signed()
    proof = dcep.journal.prove_balance(signed.store, next(iter(signed.balances)))
    bare = attrs.evolve(proof, path=InclusionProof(proof.path.index, proof.path.size, ()))
    assert not dcep.journal.verify_balance_proof(bare, signed.central_bank_key, signed.network_id)
