"""Freeze orders, warrants and sealed disclosures: controllable anonymity in the core."""

from __future__ import annotations

from pathlib import Path

import pytest

import dcep
import dcep.instructions
import dcep.journal
import dcep.values
from dcep import cny


def _world(ledger: dcep.Ledger) -> tuple[dcep.Bank, dcep.Wallet, dcep.Wallet, dcep.Regulator]:
    pboc = dcep.CentralBank(ledger, seed=99)
    bank = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=cny("10000"))
    pboc.issue(bank, cny("10000"))
    alice = bank.open_wallet(category=3, phone="13800000001", id_number="110101199001011234")
    bob = bank.open_wallet(category=4, phone="13800000002")
    bank.fund(alice, cny("500"))
    regulator = pboc.appoint_regulator("AML bureau")
    return bank, alice, bob, regulator


def test_a_frozen_wallet_cannot_pay_but_can_be_paid() -> None:
    ledger = dcep.Ledger()
    bank, alice, bob, regulator = _world(ledger)
    bank.fund(bob, cny("50"))
    regulator.freeze(alice.address, "case 1")
    assert ledger.is_frozen(alice.address)
    with pytest.raises(dcep.NotAuthorisedError) as caught:
        alice.pay(bob, cny("1"))
    assert caught.value.reason is dcep.Reason.WALLET_FROZEN
    with pytest.raises(dcep.NotAuthorisedError):
        alice.defund(cny("1"), to_account="")
    bob.pay(alice, cny("10"))  # incoming payments still settle
    assert alice.balance == cny("510")
    regulator.unfreeze(alice.address, "cleared")
    alice.pay(bob, cny("1"))
    assert alice.balance == cny("509")
    ledger.check_invariants()


def test_only_a_regulator_may_freeze() -> None:
    ledger = dcep.Ledger()
    _, alice, _, _ = _world(ledger)
    outsider = dcep.values.SigningKey(bytes(range(32)))
    order = dcep.instructions.SignedInstruction.sign(
        dcep.instructions.Freeze(1, 1, wallet=alice.address, reason="no"),
        outsider,
        ledger.network_id,
    )
    with pytest.raises(dcep.NotAuthorisedError) as caught:
        ledger.submit(order)
    assert caught.value.reason is dcep.Reason.SIGNER_NOT_AUTHORISED
    assert not ledger.is_frozen(alice.address)


def test_a_warrant_unmasks_exactly_one_wallet_for_the_regulator_only() -> None:
    ledger = dcep.Ledger.with_journal(block_size=4)
    bank, alice, _, regulator = _world(ledger)
    opened = []
    assert ledger.journal is not None
    for _, body, _ in ledger.journal.store.read_entries():
        envelope = dcep.journal.JournalEntry.decode(body, bytes(32)).envelope
        instruction = dcep.instructions.SignedInstruction.from_bytes(envelope).instruction
        if isinstance(instruction, dcep.instructions.OpenWallet):
            opened.append(instruction)
    committed = {o.wallet_key.address: o.kyc_digest for o in opened}
    warrant_id = regulator.issue_warrant(alice.address, "case 7")
    disclosure = bank.answer_warrant(regulator.address, warrant_id, alice.address)
    record = regulator.read_disclosure(disclosure, committed[alice.address])
    assert record.phone == "13800000001"
    assert record.id_number == "110101199001011234"
    # The journal carries the sealed record, never the clear one.
    assert b"13800000001" not in disclosure.sealed
    # Another key cannot open it, and a record that is not the committed one is refused.
    impostor = dcep.CentralBank(dcep.Ledger(), seed=1).appoint_regulator("impostor")
    with pytest.raises(dcep.InvalidFieldError):
        impostor.read_disclosure(disclosure)
    with pytest.raises(dcep.InvalidFieldError):
        regulator.read_disclosure(disclosure, bytes(32))
    with pytest.raises(dcep.DuplicateError):
        bank.answer_warrant(regulator.address, warrant_id, alice.address)
    assert dcep.Replica(ledger.journal.store).catch_up().entry_count == ledger.entry_count


def test_supervision_survives_recovery(tmp_path: Path) -> None:
    path = tmp_path / "city.db"
    ledger = dcep.Ledger.open(path, block_size=3, snapshot_every_blocks=1)
    _, alice, _, regulator = _world(ledger)
    regulator.freeze(alice.address, "case 9")
    warrant_id = regulator.issue_warrant(alice.address, "case 9")
    assert ledger.journal is not None
    ledger.journal.snapshot()
    ledger.close()
    reopened = dcep.Ledger.open(path)
    assert reopened.is_frozen(alice.address)
    assert reopened.regulator_key(regulator.address) == regulator.verify_key
    assert warrant_id > 0
    reopened.check_invariants()
    reopened.close()
