"""A stored ledger you can come back to: parties, customer records and keys survive a restart.

The headline test runs in two processes: ``restart_first_process.py`` opens
a ledger, authorises two banks, opens wallets and pays, then exits without
closing anything; this process reopens the files, gets every party back
through the public API, opens another wallet (with a key never used
before), pays from an old wallet, and answers a warrant for a wallet the
first process opened.  The other tests pin down the refusals and the
properties around it: no two ledgers made without a seed share a key, and a
seeded run is exactly what it was.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
import dcep.instructions
import dcep.journal
from dcep.parties import CustomerRecovery, SqliteCustomerStore
from dcep.values import CustomerRecord, KeyFile

from .journal_reading import committed_kyc_digests
from .restart_first_process import (
    BOC_CODE,
    CHEAP,
    DAVE_SEED,
    ICBC_CODE,
    ICBC_PASSPHRASE,
    PBOC_PASSPHRASE,
)

FIRST: Final = Path(__file__).with_name("restart_first_process.py")


def _first_process(directory: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(FIRST), str(directory)],
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    facts: dict[str, object] = json.loads(done.stdout)
    return facts


def _address(facts: dict[str, object], name: str) -> dcep.Address:
    value = facts[name]
    assert isinstance(value, str)
    return dcep.Address.parse(value)


def test_parties_records_and_keys_come_back_in_a_new_process(tmp_path: Path) -> None:
    facts = _first_process(tmp_path)
    ledger = dcep.Ledger.open(tmp_path / "city.db")
    assert ledger.entry_count == facts["entries"]

    pboc = dcep.CentralBank.restore(
        ledger, keys=KeyFile.open(tmp_path / "pboc.keys", PBOC_PASSPHRASE)
    )
    assert pboc.address == _address(facts, "central_bank")
    icbc_keys = KeyFile.open(tmp_path / "icbc.keys", ICBC_PASSPHRASE)
    icbc = pboc.bank(ICBC_CODE, keys=icbc_keys)
    boc = pboc.bank("BOC")  # derived from the central bank's secret: no keys to give
    assert (icbc.address, boc.address) == (_address(facts, "icbc"), _address(facts, "boc"))
    assert pboc.bank(ICBC_CODE) is icbc
    assert pboc.bank(BOC_CODE) is boc
    assert icbc.recovery == boc.recovery == CustomerRecovery(0, 0, 0)
    assert isinstance(icbc.customers, SqliteCustomerStore)

    alice = icbc.wallet(_address(facts, "alice"))
    bob = icbc.wallet(_address(facts, "bob"))
    carol = boc.wallet(_address(facts, "carol"))
    with pytest.raises(dcep.errors.KeyAccessError) as caught:
        boc.wallet(_address(facts, "dave"))  # opened with a key of its own
    assert caught.value.reason is dcep.Reason.KEY_NOT_HELD
    dave = boc.wallet(_address(facts, "dave"), seed=DAVE_SEED)
    assert icbc.wallet(alice.address) is alice
    balances = facts["balances_fen"]
    assert isinstance(balances, dict)
    for name, wallet in (("alice", alice), ("bob", bob), ("carol", carol), ("dave", dave)):
        assert wallet.balance.fen == balances[name]

    # A new wallet gets a new key: the counter went on from the refused attempt too.
    old = {_address(facts, name) for name in ("alice", "bob", "carol", "dave")}
    erin = icbc.open_wallet(category=4, phone="13400000000")
    assert erin.address not in old
    alice.pay(erin, dcep.cny("20"), memo="after the restart")
    carol.pay(alice, dcep.cny("5"))
    dave.pay(bob, dcep.cny("1"))
    icbc.fund(alice, dcep.cny("10"))  # from the linked account the bank remembers
    assert ledger.bank(ICBC_CODE).customer_deposits == dcep.cny("4990")
    assert erin.balance == dcep.cny("20")

    # The warrant issued before the restart is answered after it.
    aml = pboc.regulator("AML bureau")
    assert aml.address == _address(facts, "regulator")
    warrant = facts["warrant"]
    assert isinstance(warrant, int)
    disclosure = icbc.answer_warrant(aml.address, warrant, bob.address)
    assert ledger.journal is not None
    committed = committed_kyc_digests(ledger.journal.store)[bob.address]
    assert aml.read_disclosure(disclosure, committed) == CustomerRecord(
        "13800000000", None, None, None, False
    )

    # Branch codes came back too.
    with pytest.raises(dcep.errors.CodeError):
        icbc.assign_branch_code("003", "ICBC Beijing Xidan again")
    ledger.check_invariants()
    icbc.customers.close()
    boc.customers.close()
    ledger.close()


def _cheap_keys(path: Path) -> KeyFile:
    return KeyFile.create(path, "passphrase", **CHEAP)


def test_a_ledger_in_a_file_needs_keys_that_outlive_the_process(tmp_path: Path) -> None:
    ledger = dcep.Ledger.open(tmp_path / "city.db")
    with pytest.raises(dcep.InvalidFieldError) as caught:
        dcep.CentralBank(ledger)
    assert caught.value.field == "keys"
    assert ledger.central_bank is None
    with pytest.raises(dcep.InvalidFieldError):
        dcep.CentralBank(ledger, seed=1, keys=_cheap_keys(tmp_path / "a.keys"))
    assert ledger.central_bank is None
    ledger.close()


def test_restore_refuses_what_is_not_the_party(tmp_path: Path) -> None:
    ledger = dcep.Ledger()
    with pytest.raises(dcep.UnknownPartyError) as missing:
        dcep.CentralBank.restore(ledger, seed=1)
    assert missing.value.reason is dcep.Reason.LEDGER_NOT_INITIALISED
    keys = _cheap_keys(tmp_path / "pboc.keys")
    pboc = dcep.CentralBank(ledger, keys=keys)
    icbc = pboc.authorise_bank("ICBC", code=ICBC_CODE, reserves=dcep.cny("100"))
    before = ledger.entry_count
    other = _cheap_keys(tmp_path / "other.keys")
    for attempt in (
        lambda: dcep.CentralBank.restore(ledger),
        lambda: dcep.CentralBank.restore(ledger, keys=other),
        lambda: dcep.CentralBank.restore(ledger, seed=0),
        lambda: dcep.CentralBank(ledger, keys=other),
        lambda: pboc.bank(ICBC_CODE, seed="not ICBC's"),
        lambda: pboc.bank(ICBC_CODE, keys=other),
        lambda: pboc.regulator("nobody"),
    ):
        with pytest.raises(dcep.errors.KeyAccessError) as caught:
            attempt()
        assert caught.value.reason is dcep.Reason.KEY_NOT_HELD
    assert other.labels() == ()  # refusing never wrote a secret
    assert ledger.entry_count == before
    with pytest.raises(dcep.UnknownPartyError) as unknown:
        icbc.wallet(icbc.address)
    assert unknown.value.reason is dcep.Reason.UNKNOWN_WALLET
    assert dcep.CentralBank.restore(ledger, keys=keys).address == pboc.address


def test_a_bank_with_wallets_does_not_start_an_empty_customer_store(tmp_path: Path) -> None:
    ledger = dcep.Ledger.open(tmp_path / "city.db")
    pboc = dcep.CentralBank(ledger, keys=_cheap_keys(tmp_path / "pboc.keys"))
    icbc = pboc.authorise_bank("ICBC", code=ICBC_CODE, reserves=dcep.cny("100"))
    icbc.open_wallet(category=4, phone="13800000000")
    icbc.customers.close()
    ledger.close()
    default = tmp_path / f"city.{ICBC_CODE}.customers.db"
    assert default.stat().st_mode & 0o077 == 0  # identity: the owner's only
    moved = tmp_path / "moved.db"
    default.rename(moved)

    reopened = dcep.Ledger.open(tmp_path / "city.db")
    pboc = dcep.CentralBank.restore(
        reopened, keys=KeyFile.open(tmp_path / "pboc.keys", "passphrase")
    )
    with pytest.raises(dcep.InvalidFieldError) as caught:
        pboc.bank(ICBC_CODE)
    assert caught.value.field == "customers"
    assert not default.exists()
    icbc = pboc.bank(ICBC_CODE, customers=moved)
    assert icbc.recovery == CustomerRecovery(0, 0, 0)
    icbc.customers.close()
    boc_store = SqliteCustomerStore(tmp_path / "boc.db")
    boc_store.bind(dcep.Address(bytes(20)), reopened.network_id)
    boc_store.close()
    with pytest.raises(dcep.InvalidFieldError) as another:
        pboc.bank(ICBC_CODE, customers=tmp_path / "boc.db")  # not the store it has
    assert another.value.field == "customers"
    other_pboc = dcep.CentralBank.restore(
        reopened, keys=KeyFile.open(tmp_path / "pboc.keys", "passphrase")
    )
    with pytest.raises(dcep.InvalidFieldError) as another:
        other_pboc.bank(ICBC_CODE, customers=tmp_path / "boc.db")  # another bank's store
    assert another.value.field == "customers"
    reopened.close()


def test_a_refused_opening_leaves_no_record_and_uses_up_its_number() -> None:
    ledger = dcep.Ledger()
    pboc = dcep.CentralBank(ledger, seed=5)
    icbc = pboc.authorise_bank("ICBC", code=ICBC_CODE, reserves=dcep.cny("100"))
    first = icbc.open_wallet(category=4, phone="13800000000")  # number 1
    second = icbc.open_wallet(category=4, phone="13900000000", seed=b"same")  # number 2
    with pytest.raises(dcep.DuplicateError) as caught:
        icbc.open_wallet(category=4, phone="13900000001", seed=b"same")  # number 3, refused
    assert caught.value.reason is dcep.Reason.WALLET_EXISTS
    assert icbc.customers.wallets(confirmed=True) == [first.address, second.address]
    assert icbc.customers.wallets(confirmed=False) == []
    # The refused attempt derived no key from the counter: the store need not remember it.
    assert icbc.customers.wallets_numbered() == 2
    # Another CentralBank object on the same ledger gets a second Bank object
    # with an empty store in memory: it starts after every wallet on the
    # ledger, and (derived or not) never hands out a key already there.
    again = dcep.CentralBank.restore(ledger, seed=5).bank(ICBC_CODE)
    assert again.recovery == CustomerRecovery(0, 0, 2)
    fresh = again.open_wallet(category=4, phone="13700000000")
    assert fresh.address not in {first.address, second.address}


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=2, max_value=4))
def test_ledgers_created_without_a_seed_never_share_a_key(count: int) -> None:
    addresses: list[set[dcep.Address]] = []
    for _ in range(count):
        ledger = dcep.Ledger()
        pboc = dcep.CentralBank(ledger)
        icbc = pboc.authorise_bank("ICBC", code=ICBC_CODE, reserves=dcep.cny("100"))
        wallet = icbc.open_wallet(category=4, phone="13800000000")
        aml = pboc.appoint_regulator("AML")
        addresses.append({pboc.address, icbc.address, wallet.address, aml.address})
    seen: set[dcep.Address] = set()
    for found in addresses:
        assert len(found) == 4
        assert not found & seen
        seen |= found


def test_a_seed_gives_the_keys_it_always_gave() -> None:
    # Seed 0 was the default: journals written without a seed
    # (tests/data/journal_v2_reference.db among them) must still be signed by
    # these keys when the seed is now given.
    ledger = dcep.Ledger()
    pboc = dcep.CentralBank(ledger, seed=0)
    icbc = pboc.authorise_bank("ICBC", code=ICBC_CODE, reserves=dcep.cny("100"))
    wallet = icbc.open_wallet(category=4, phone="13800000000")
    assert [str(pboc.address), str(icbc.address), str(wallet.address)] == [
        "dcep1dwlfvysgybr4tpivgalrzfzml6zjyq3d",
        "dcep1c4c4fg3ta6i3gy4h3zqw2vzg446a4l3m",
        "dcep1zbut44gn7gaeeky2xmbrj3qsjd6cjlip",
    ]
