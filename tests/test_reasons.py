"""Every :class:`dcep.Reason` is reachable, raised by the right error, and harmless.

One scenario per reason, kept in a dict that must cover the whole enum, so a
new reason without a scenario fails here.  Most scenarios build a small
ledger from keys the test holds (so that ids, sequences and signers are
exact); the journal's and the store's build a journal or a file.  Each names
one action that must be refused.  The test checks the reason, the error's
class and builtin family, the context it carries (and repeats in its
message), and that the ledger, store or file is exactly as it was.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import final

import attrs
import nacl.pwhash.argon2id
import pytest

import dcep
import dcep.core
import dcep.errors
import dcep.journal
from dcep import (
    Address,
    Amount,
    AmountError,
    CategoryLimits,
    CentralBank,
    DcepError,
    DuplicateError,
    InstitutionCode,
    InsufficientFundsError,
    InvalidFieldError,
    JournalError,
    Ledger,
    LimitExceededError,
    ManualClock,
    NotAuthorisedError,
    Policy,
    Reason,
    Receipt,
    SequenceError,
    SignatureError,
    UnknownPartyError,
    cny,
)
from dcep.core._snapshot import Snapshot
from dcep.errors import CodeError, EncodingError, InvariantError, KeyAccessError, KeyFileError
from dcep.instructions import (
    AccrueInterest,
    AppointRegulator,
    AuthoriseBank,
    CloseWallet,
    Defund,
    Disclosure,
    Freeze,
    Fund,
    Genesis,
    HashLock,
    Instruction,
    Issue,
    IssueVoucher,
    LinkBatch,
    LoadOffline,
    OpenCorporateWallet,
    OpenSubWallet,
    OpenWallet,
    PayIn,
    PayPending,
    PostPending,
    RegisterDevice,
    SetDailySweep,
    SettleOffline,
    SignedInstruction,
    SpendVoucher,
    TopUpSubWallet,
    Transfer,
    Unfreeze,
    UnloadOffline,
    Warrant,
    sign_token,
)
from dcep.journal import MemoryStore, SealedBlock, SnapshotPart, prove_entry
from dcep.journal._store import StoredBlock, StoredEntry
from dcep.values import MAX_AMOUNT_FEN, KeyFile, KycField, SigningKey, VerifyKey

_SEED = b"dcep tests: reasons"
CENTRAL_CODE = "MA.156.1100.00"
BANK_CODE = "MA.156.1100.01"
ACCOUNT = "6222-0001"
KYC_DIGEST = b"\x5a" * 32

#: The builtin each error class promises to be, so callers can catch it naturally.
FAMILY: dict[type[DcepError], type[Exception]] = {
    AmountError: ValueError,
    CodeError: ValueError,
    EncodingError: ValueError,
    InvalidFieldError: ValueError,
    DuplicateError: ValueError,
    SequenceError: ValueError,
    InsufficientFundsError: ValueError,
    LimitExceededError: ValueError,
    SignatureError: PermissionError,
    NotAuthorisedError: PermissionError,
    UnknownPartyError: LookupError,
    JournalError: ValueError,
    InvariantError: AssertionError,
    KeyFileError: ValueError,
    KeyAccessError: PermissionError,
}


def _key(label: str) -> SigningKey:
    return SigningKey.derive(_SEED, label)


Build = Callable[[int, int], Instruction]


@attrs.define
class Party:
    """A key the test holds, numbering what it signs: id and sequence both count from 1."""

    ledger: Ledger
    key: SigningKey
    next_number: int = 1

    @property
    def address(self) -> Address:
        return self.key.address

    @property
    def verify_key(self) -> VerifyKey:
        return self.key.verify_key

    def sign(self, build: Build) -> SignedInstruction:
        number = self.next_number
        self.next_number += 1
        return SignedInstruction.sign(build(number, number), self.key, self.ledger.network_id)

    def submit(self, build: Build) -> Receipt:
        return self.ledger.submit(self.sign(build))


@attrs.frozen
class World:
    """A central bank, one bank with ¥4,000 left in deposit 6222-0001, and two wallets.

    ``alice`` is category 4 (anonymous) holding ¥800, funded over the counter;
    ``bob`` is category 2, linked to 6222-0001, holding ¥1,000 funded from it.
    The bank was issued ¥600,000 of its ¥1,000,000 reserves, so its vault
    holds ¥600,000 - ¥800 - ¥1,000 = ¥598,200.  The central bank has signed
    3 instructions, the bank 5, the wallets none.
    """

    ledger: Ledger
    clock: ManualClock
    central: Party
    bank: Party
    alice: Party
    bob: Party

    @property
    def parties(self) -> tuple[Party, ...]:
        return (self.central, self.bank, self.alice, self.bob)


def _world(policy: Policy | None = None) -> World:
    clock = ManualClock()
    ledger = Ledger(policy=policy, clock=clock)
    central = Party(ledger, _key("central"))
    bank = Party(ledger, _key("bank"))
    alice = Party(ledger, _key("alice"))
    bob = Party(ledger, _key("bob"))
    central.submit(
        lambda i, s: Genesis(i, s, name="PBOC", code=InstitutionCode.parse(CENTRAL_CODE))
    )
    central.submit(
        lambda i, s: AuthoriseBank(
            i,
            s,
            bank_key=bank.verify_key,
            name="ICBC",
            code=InstitutionCode.parse(BANK_CODE),
            reserves=cny("1000000"),
        )
    )
    central.submit(lambda i, s: Issue(i, s, bank=bank.address, amount=cny("600000")))
    bank.submit(lambda i, s: PayIn(i, s, account=ACCOUNT, amount=cny("5000")))
    bank.submit(_open(alice, 4, ""))
    bank.submit(_open(bob, 2, ACCOUNT))
    bank.submit(_fund(alice, cny("800"), ""))
    bank.submit(_fund(bob, cny("1000"), ACCOUNT))
    return World(ledger, clock, central, bank, alice, bob)


def _open(wallet: Party, category: int, linked_account: str) -> Build:
    return lambda i, s: OpenWallet(
        i,
        s,
        wallet_key=wallet.verify_key,
        category=category,
        linked_account=linked_account,
        kyc_digest=KYC_DIGEST,
    )


def _fund(wallet: Party, amount: Amount, from_account: str) -> Build:
    return lambda i, s: Fund(i, s, wallet=wallet.address, amount=amount, from_account=from_account)


def _pay(payer: Party, payee: Address, amount: Amount) -> Build:
    return lambda i, s: Transfer(i, s, payer=payer.address, payee=payee, amount=amount)


@attrs.frozen
class Attempt:
    """One action that must be refused, the context its error must carry, and a witness.

    ``observe`` reads everything the refusal must leave as it was (a ledger's
    state, a store's contents, a file's bytes); it is called before and after.
    ``entry`` and ``block`` are checked for :class:`~dcep.JournalError` only.
    """

    action: Callable[[], object]
    error_class: type[DcepError]
    observe: Callable[[], object]
    instruction_id: int | None = None
    party: str | None = None
    field: str | None = None
    entry: int | None = None
    block: int | None = None


def _ledger_state(ledger: Ledger, signers: tuple[Address, ...]) -> tuple[object, ...]:
    return (
        ledger.supply(),
        ledger.banks(),
        list(ledger.wallets()),
        ledger.entry_count,
        ledger.central_bank,
        [ledger.last_sequence(signer) for signer in signers],
        ledger.pending_payments(),
        ledger.vouchers(),
        ledger.devices(),
    )


def _attempt(
    world: World,
    action: Callable[[], object],
    error_class: type[DcepError],
    *,
    instruction_id: int | None = None,
    party: str | None = None,
    field: str | None = None,
) -> Attempt:
    signers = tuple(p.address for p in world.parties)
    return Attempt(
        action,
        error_class,
        lambda: _ledger_state(world.ledger, signers),
        instruction_id=instruction_id,
        party=party,
        field=field,
    )


# --- Scenarios, one per reason ----------------------------------------------------
# Each returns an Attempt; the world is built (and any setup submitted) first.


def amount_not_integer() -> Attempt:
    world = _world()
    return _attempt(world, lambda: Amount(12.5), AmountError)  # type: ignore[arg-type]


def amount_malformed() -> Attempt:
    world = _world()
    return _attempt(world, lambda: cny("12.345"), AmountError)


def amount_not_positive() -> Attempt:
    world = _world()
    envelope = bytearray(
        world.alice.sign(_pay(world.alice, world.bob.address, Amount(1))).to_bytes()
    )
    # Envelope header 96, instruction header 26, payer 20, payee 20: the amount starts at 162.
    assert envelope[162:170] == (1).to_bytes(8, "big")
    envelope[162:170] = bytes(8)
    return _attempt(
        world, lambda: world.ledger.submit(bytes(envelope)), AmountError, field="amount"
    )


def amount_negative() -> Attempt:
    world = _world()
    return _attempt(
        world, lambda: world.ledger.balance(world.alice.address) - cny("800.01"), AmountError
    )


def amount_too_large() -> Attempt:
    world = _world()
    # 6222-0001 holds ¥4,000; adding the largest amount would overflow it.
    pay_in = world.bank.sign(
        lambda i, s: PayIn(i, s, account=ACCOUNT, amount=Amount(MAX_AMOUNT_FEN))
    )
    return _attempt(
        world, lambda: world.ledger.submit(pay_in), AmountError, instruction_id=6, field="amount"
    )


def _authorise(world: World, key: VerifyKey, code: str) -> SignedInstruction:
    return world.central.sign(
        lambda i, s: AuthoriseBank(
            i,
            s,
            bank_key=key,
            name="Another Bank",
            code=InstitutionCode.parse(code),
            reserves=cny("1000"),
        )
    )


def code_malformed() -> Attempt:
    world = _world()
    # A valid code, but a region alone: a bank needs a level below it.
    signed = _authorise(world, _key("other bank").verify_key, "MA.156.1100")
    return _attempt(
        world, lambda: world.ledger.submit(signed), CodeError, instruction_id=4, field="level 1"
    )


def code_duplicate() -> Attempt:
    world = _world()
    signed = _authorise(world, _key("other bank").verify_key, BANK_CODE)
    return _attempt(
        world, lambda: world.ledger.submit(signed), CodeError, instruction_id=4, field="code"
    )


def code_outside_parent() -> Attempt:
    world = _world()
    signed = _authorise(world, _key("other bank").verify_key, "MA.840.1100.01")
    return _attempt(
        world, lambda: world.ledger.submit(signed), CodeError, instruction_id=4, field="code"
    )


def _envelope(world: World) -> bytearray:
    return bytearray(world.alice.sign(_pay(world.alice, world.bob.address, cny("1"))).to_bytes())


def encoding_malformed() -> Attempt:
    world = _world()
    envelope = _envelope(world)
    # The memo (the last field) is cut short: the error names the record's field.
    return _attempt(
        world,
        lambda: world.ledger.submit(bytes(envelope[:-1])),
        EncodingError,
        instruction_id=1,
        field="memo",
    )


def encoding_unsupported_version() -> Attempt:
    world = _world()
    envelope = _envelope(world)
    envelope[96] = 2
    return _attempt(
        world, lambda: world.ledger.submit(bytes(envelope)), EncodingError, field="version"
    )


def encoding_unknown_kind() -> Attempt:
    world = _world()
    envelope = _envelope(world)
    envelope[97] = 42
    return _attempt(
        world, lambda: world.ledger.submit(bytes(envelope)), EncodingError, field="kind"
    )


def field_invalid() -> Attempt:
    world = _world()
    # An empty account is a valid field shape (it means "none") but a pay-in needs one.
    pay_in = world.bank.sign(lambda i, s: PayIn(i, s, account="", amount=cny("10")))
    return _attempt(
        world,
        lambda: world.ledger.submit(pay_in),
        InvalidFieldError,
        instruction_id=6,
        field="account",
    )


def signature_invalid() -> Attempt:
    world = _world()
    good = world.alice.sign(_pay(world.alice, world.bob.address, cny("1")))
    bad = SignedInstruction(
        good.signer, bytes((good.signature[0] ^ 1,)) + good.signature[1:], good.body
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(bad),
        SignatureError,
        instruction_id=1,
        party=str(world.alice.address),
    )


def signer_not_authorised() -> Attempt:
    world = _world()
    # Bob signs a payment out of Alice's wallet.
    signed = world.bob.sign(_pay(world.alice, world.bob.address, cny("1")))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        NotAuthorisedError,
        instruction_id=1,
        party=str(world.alice.address),
    )


def kyc_insufficient() -> Attempt:
    world = _world()
    carol = Party(world.ledger, _key("carol"))
    # Category 2 must be linked to a deposit account; the ledger checks, not only the bank.
    signed = world.bank.sign(_open(carol, 2, ""))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        NotAuthorisedError,
        instruction_id=6,
        party=str(carol.address),
        field="linked_account",
    )


def ledger_not_initialised() -> Attempt:
    ledger = Ledger()
    central = Party(ledger, _key("central"))
    signed = central.sign(lambda i, s: Issue(i, s, bank=_key("bank").address, amount=cny("1")))
    return Attempt(
        lambda: ledger.submit(signed),
        UnknownPartyError,
        lambda: _ledger_state(ledger, (central.address,)),
        instruction_id=1,
    )


def ledger_already_initialised() -> Attempt:
    world = _world()
    usurper = Party(world.ledger, _key("usurper"))
    signed = usurper.sign(
        lambda i, s: Genesis(i, s, name="Usurper", code=InstitutionCode.parse("MA.156.1100.99"))
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        DuplicateError,
        instruction_id=1,
        party=str(usurper.address),
    )


def unknown_bank() -> Attempt:
    world = _world()
    # Alice's address is a wallet, not a bank.
    signed = world.central.sign(
        lambda i, s: Issue(i, s, bank=world.alice.address, amount=cny("1"))
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        UnknownPartyError,
        instruction_id=4,
        party=str(world.alice.address),
        field="bank",
    )


def unknown_wallet() -> Attempt:
    world = _world()
    stranger = _key("stranger").address
    signed = world.alice.sign(_pay(world.alice, stranger, cny("1")))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        UnknownPartyError,
        instruction_id=1,
        party=str(stranger),
        field="payee",
    )


def unknown_account() -> Attempt:
    world = _world()
    signed = world.bank.sign(_fund(world.alice, cny("1"), "9999-0000"))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        UnknownPartyError,
        instruction_id=6,
        party="ICBC",
        field="from_account",
    )


def bank_exists() -> Attempt:
    world = _world()
    signed = _authorise(world, world.bank.verify_key, "MA.156.1100.02")
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        DuplicateError,
        instruction_id=4,
        party=str(world.bank.address),
    )


def wallet_exists() -> Attempt:
    world = _world()
    signed = world.bank.sign(_open(world.alice, 3, ""))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        DuplicateError,
        instruction_id=6,
        party=str(world.alice.address),
    )


def self_payment() -> Attempt:
    world = _world()
    return _attempt(
        world,
        lambda: world.alice.sign(_pay(world.alice, world.alice.address, cny("1"))),
        InvalidFieldError,
        field="payee",
    )


def id_reused() -> Attempt:
    world = _world()
    alice, bob = world.alice, world.bob
    world.ledger.submit(alice.sign(_pay(alice, bob.address, cny("1"))))  # id 1, sequence 1
    again = SignedInstruction.sign(
        Transfer(1, 2, payer=alice.address, payee=bob.address, amount=cny("2")),
        alice.key,
        world.ledger.network_id,
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(again),
        DuplicateError,
        instruction_id=1,
        party=str(alice.address),
        field="id",
    )


def sequence_replayed() -> Attempt:
    world = _world()
    alice, bob = world.alice, world.bob
    first = Transfer(1, 5, payer=alice.address, payee=bob.address, amount=cny("1"))
    world.ledger.submit(SignedInstruction.sign(first, alice.key, world.ledger.network_id))
    late = Transfer(2, 4, payer=alice.address, payee=bob.address, amount=cny("1"))
    signed = SignedInstruction.sign(late, alice.key, world.ledger.network_id)
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        SequenceError,
        instruction_id=2,
        party=str(alice.address),
        field="sequence",
    )


def insufficient_balance() -> Attempt:
    world = _world()
    signed = world.alice.sign(_pay(world.alice, world.bob.address, cny("800.01")))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        InsufficientFundsError,
        instruction_id=1,
        party=str(world.alice.address),
        field="amount",
    )


def insufficient_vault() -> Attempt:
    world = _world()
    # The vault holds ¥598,200; the vault is checked before the wallet's balance cap.
    signed = world.bank.sign(_fund(world.alice, cny("598200.01"), ""))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        InsufficientFundsError,
        instruction_id=6,
        party="ICBC",
        field="vault",
    )


def insufficient_reserves() -> Attempt:
    world = _world()
    # ¥1,000,000 pledged, ¥600,000 already issued: ¥400,000 available.
    signed = world.central.sign(
        lambda i, s: Issue(i, s, bank=world.bank.address, amount=cny("400000.01"))
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        InsufficientFundsError,
        instruction_id=4,
        party="ICBC",
        field="reserves",
    )


def insufficient_deposit() -> Attempt:
    world = _world()
    # 6222-0001: ¥5,000 paid in, ¥1,000 funded to Bob: ¥4,000 left.
    signed = world.bank.sign(_fund(world.bob, cny("4000.01"), ACCOUNT))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        InsufficientFundsError,
        instruction_id=6,
        party="ICBC",
        field="from_account",
    )


def balance_cap_exceeded() -> Attempt:
    world = _world()
    # Category 4 holds at most ¥1,000; Alice has ¥800.
    signed = world.bank.sign(_fund(world.alice, cny("200.01"), ""))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        LimitExceededError,
        instruction_id=6,
        party=str(world.alice.address),
        field="balance_cap",
    )


def single_payment_cap_exceeded() -> Attempt:
    world = _world()
    # Category 4 pays at most ¥500 at once; Alice has ¥800.
    signed = world.alice.sign(_pay(world.alice, world.bob.address, cny("500.01")))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        LimitExceededError,
        instruction_id=1,
        party=str(world.alice.address),
        field="single_payment_cap",
    )


def daily_cap_exceeded() -> Attempt:
    world = _world()
    alice, bob = world.alice, world.bob
    # Category 4: ¥1,000 a day.  ¥800 - ¥500 = ¥300, + ¥700 funded = ¥1,000, - ¥500 = ¥500.
    alice.submit(_pay(alice, bob.address, cny("500")))  # id 1
    world.bank.submit(_fund(alice, cny("700"), ""))  # bank id 6
    alice.submit(_pay(alice, bob.address, cny("500")))  # id 2
    signed = alice.sign(_pay(alice, bob.address, cny("0.01")))  # id 3
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        LimitExceededError,
        instruction_id=3,
        party=str(alice.address),
        field="daily_cap",
    )


def annual_cap_exceeded() -> Attempt:
    # Category 4 with only a balance cap and a ¥1,000 annual cap.
    policy = Policy().with_limits(
        4, CategoryLimits(cny("1000"), None, None, cny("1000"), [KycField.PHONE])
    )
    world = _world(policy)
    alice, bob = world.alice, world.bob
    alice.submit(_pay(alice, bob.address, cny("600")))  # id 1: ¥200 left, ¥600 spent
    world.bank.submit(_fund(alice, cny("800"), ""))  # ¥1,000
    signed = alice.sign(_pay(alice, bob.address, cny("400.01")))  # id 2: ¥1,000.01 in the year
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        LimitExceededError,
        instruction_id=2,
        party=str(alice.address),
        field="annual_cap",
    )


def invariant_violated() -> Attempt:
    world = _world()
    # Money from nowhere: the books say more was issued than vaults and wallets hold.
    world.ledger._state.issued_fen += 1
    return _attempt(world, world.ledger.check_invariants, InvariantError)


# --- The journal and its store ------------------------------------------------------


@final
class GappyStore:
    """A store that loses one entry on the way out, as a damaged file might."""

    def __init__(self, inner: MemoryStore, lost: int) -> None:
        self._inner = inner
        self._lost = lost

    def write(
        self,
        entries: Sequence[StoredEntry],
        blocks: Sequence[SealedBlock],
        snapshot: Snapshot | None = None,
        part: SnapshotPart | None = None,
    ) -> None:
        self._inner.write(entries, blocks, snapshot, part)

    def read_entries(self, start: int = 0) -> Iterator[StoredEntry]:
        return (entry for entry in self._inner.read_entries(start) if entry[0] != self._lost)

    def read_blocks(self, start: int = 0) -> Iterator[StoredBlock]:
        return self._inner.read_blocks(start)

    def latest_snapshot(self) -> Snapshot | None:
        return self._inner.latest_snapshot()

    def entry_count(self) -> int:
        return self._inner.entry_count() - 1

    def block_count(self) -> int:
        return self._inner.block_count()

    def close(self) -> None:
        self._inner.close()


def _journalled() -> MemoryStore:
    """A store holding 7 entries: genesis 0, a bank 1, issuance 2, wallets 3 and 4,
    funding 5 and a ¥12.50 payment 6; no block is sealed (no key was attached)."""
    store = MemoryStore()
    ledger = Ledger.with_journal(store)
    pboc = CentralBank(ledger, seed="reasons")
    icbc = pboc.authorise_bank("ICBC", code=BANK_CODE, reserves=cny("1000"))
    pboc.issue(icbc, cny("1000"))
    alice = icbc.open_wallet(category=4, phone="13800000000")
    bob = icbc.open_wallet(category=4, phone="13900000000")
    icbc.fund(alice, cny("200"))
    alice.pay(bob, cny("12.50"))
    assert store.entry_count() == 7
    assert store.block_count() == 0
    return store


def _contents(store: MemoryStore) -> tuple[object, ...]:
    return (
        list(store.read_entries()),
        list(store.read_blocks()),
        store.latest_snapshot(),
    )


def journal_chain_broken(_tmp_path: Path) -> Attempt:
    store = _journalled()
    damaged = GappyStore(store, lost=4)
    # Recovery expects entry 4 after entry 3 and finds entry 5, in the open block 0.
    return Attempt(
        lambda: Ledger.with_journal(damaged),
        JournalError,
        lambda: _contents(store),
        entry=5,
        block=0,
    )


def journal_block_mismatch(_tmp_path: Path) -> Attempt:
    store = _journalled()
    # Entry 0 is journalled but in no sealed block, so no proof can be made.
    return Attempt(lambda: prove_entry(store, 0), JournalError, lambda: _contents(store), entry=0)


def journal_replay_diverged(_tmp_path: Path) -> Attempt:
    store = _journalled()
    # Replayed under a ¥10 single-payment cap, entry 6's ¥12.50 payment is refused.
    strict = Policy().with_limits(
        4, CategoryLimits(cny("1000"), cny("10"), cny("1000"), cny("10000"), [KycField.PHONE])
    )
    return Attempt(
        lambda: Ledger.with_journal(store, policy=strict),
        JournalError,
        lambda: _contents(store),
        entry=6,
        block=0,
    )


def journal_untrusted_key(_tmp_path: Path) -> Attempt:
    store = _journalled()
    # The replica is told to trust another central bank than the genesis names.
    trusted = CentralBank(Ledger(), seed="another central bank").verify_key
    replica = dcep.Replica(store, central_bank_key=trusted)
    return Attempt(
        replica.catch_up,
        JournalError,
        lambda: (_contents(store), replica.ledger.entry_count),
        entry=0,
        block=0,
    )


def journal_rolled_back(_tmp_path: Path) -> Attempt:
    store = _journalled()
    # A checkpoint from a copy that had sealed a block: this store has none.
    seen = dcep.journal.Checkpoint(1, bytes(32))
    replica = dcep.Replica(store)
    return Attempt(
        lambda: replica.catch_up(since=seen),
        JournalError,
        lambda: _contents(store),
        block=0,
    )


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def store_not_dcep(tmp_path: Path) -> Attempt:
    path = tmp_path / "notes.txt"
    path.write_text("not a ledger\n", encoding="utf-8")
    return Attempt(lambda: Ledger.open(path), JournalError, lambda: _files(tmp_path))


def store_version_unsupported(tmp_path: Path) -> Attempt:
    path = tmp_path / "future.db"
    ledger = Ledger.open(path)
    CentralBank(ledger, seed="reasons")
    ledger.close()
    # As if a later dcep had written it.
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA user_version = 99")
        connection.commit()
    # Only the database itself: SQLite's read-only probe may leave empty -wal/-shm files.
    return Attempt(lambda: Ledger.open(path), JournalError, path.read_bytes)


def store_corrupt(tmp_path: Path) -> Attempt:
    path = tmp_path / "damaged.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\x07" * 4080)
    return Attempt(lambda: Ledger.open(path), JournalError, lambda: _files(tmp_path))


# --- Keys and key files ----------------------------------------------------------


def _key_file(tmp_path: Path) -> Path:
    path = tmp_path / "bank.keys"
    keys = KeyFile.create(
        path,
        "correct horse",
        opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN,
        memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN,
    )
    keys.secret("central-bank", create=True)
    return path


def _files_and_modes(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mode) for p in sorted(directory.iterdir())}


def key_file_exists(tmp_path: Path) -> Attempt:
    path = _key_file(tmp_path)
    return Attempt(
        lambda: KeyFile.create(path, "another"), DuplicateError, lambda: _files_and_modes(tmp_path)
    )


def key_file_unreadable(tmp_path: Path) -> Attempt:
    path = _key_file(tmp_path)
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    path.write_bytes(bytes(damaged))
    return Attempt(
        lambda: KeyFile.open(path, "correct horse"),
        KeyFileError,
        lambda: _files_and_modes(tmp_path),
    )


def key_file_exposed(tmp_path: Path) -> Attempt:
    path = _key_file(tmp_path)
    path.chmod(0o640)
    return Attempt(
        lambda: KeyFile.open(path, "correct horse"),
        KeyAccessError,
        lambda: _files_and_modes(tmp_path),
    )


def passphrase_wrong(tmp_path: Path) -> Attempt:
    path = _key_file(tmp_path)
    return Attempt(
        lambda: KeyFile.open(path, "correct horse battery"),
        KeyAccessError,
        lambda: _files_and_modes(tmp_path),
    )


def key_not_held() -> Attempt:
    world = _world()
    central = world.ledger.central_bank
    assert central is not None
    return _attempt(
        world,
        lambda: CentralBank.restore(world.ledger, seed="not the central bank's seed"),
        KeyAccessError,
        party=str(central.address),
        field="keys",
    )


# --- Supervision --------------------------------------------------------------------


def _supervised() -> tuple[World, Party]:
    world = _world()
    regulator = Party(world.ledger, _key("regulator"))
    world.central.submit(
        lambda i, s: AppointRegulator(i, s, regulator_key=regulator.verify_key, name="AML")
    )
    return world, regulator


def regulator_exists() -> Attempt:
    world, _ = _supervised()
    signed = world.central.sign(
        lambda i, s: AppointRegulator(i, s, regulator_key=world.bob.verify_key, name="Bob")
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        DuplicateError,
        instruction_id=5,
        party=str(world.bob.address),
    )


def wallet_frozen() -> Attempt:
    world, regulator = _supervised()
    regulator.submit(lambda i, s: Freeze(i, s, wallet=world.alice.address, reason="case 1"))
    signed = world.alice.sign(_pay(world.alice, world.bob.address, cny("1")))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        NotAuthorisedError,
        instruction_id=1,
        party=str(world.alice.address),
    )


def wallet_not_frozen() -> Attempt:
    world, regulator = _supervised()
    signed = regulator.sign(lambda i, s: Unfreeze(i, s, wallet=world.alice.address, reason="x"))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        InvalidFieldError,
        instruction_id=1,
        party=str(world.alice.address),
        field="wallet",
    )


def unknown_regulator() -> Attempt:
    world, _ = _supervised()
    return _attempt(
        world,
        lambda: world.ledger.regulator_key(world.bob.address),
        UnknownPartyError,
        party=str(world.bob.address),
    )


def _disclose(world: World, regulator: Party, warrant_id: int) -> SignedInstruction:
    return world.bank.sign(
        lambda i, s: Disclosure(
            i,
            s,
            regulator=regulator.address,
            warrant_id=warrant_id,
            wallet=world.alice.address,
            sealed=b"sealed identity",
        )
    )


def unknown_warrant() -> Attempt:
    world, regulator = _supervised()
    signed = _disclose(world, regulator, 7)
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        UnknownPartyError,
        instruction_id=6,
        party="ICBC",
        field="warrant_id",
    )


def warrant_answered() -> Attempt:
    world, regulator = _supervised()
    regulator.submit(lambda i, s: Warrant(i, s, wallet=world.alice.address, reason="case 2"))
    world.ledger.submit(_disclose(world, regulator, 1))
    again = _disclose(world, regulator, 1)
    return _attempt(
        world,
        lambda: world.ledger.submit(again),
        DuplicateError,
        instruction_id=7,
        party="ICBC",
        field="warrant_id",
    )


# --- Sub-wallets, category changes and closure (issue #24) ---------------------------


def _open_sub(parent: Party, sub: Party, daily_cap: Amount | None = None) -> Build:
    none = Amount(0)  # no cap of its own: the parent's
    return lambda i, s: OpenSubWallet(
        i,
        s,
        parent=parent.address,
        sub_wallet_key=sub.verify_key,
        balance_cap=none,
        single_payment_cap=none,
        daily_cap=none if daily_cap is None else daily_cap,
        annual_cap=none,
    )


def wallet_closed() -> Attempt:
    world = _world()
    # The bank closes Bob: his ¥1,000 goes back to 6222-0001.
    world.bank.submit(lambda i, s: CloseWallet(i, s, wallet=world.bob.address, to_account=""))
    signed = world.alice.sign(_pay(world.alice, world.bob.address, cny("1")))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        NotAuthorisedError,
        instruction_id=1,
        party=str(world.bob.address),
        field="payee",
    )


def interest_not_payable() -> Attempt:
    world = _world()
    # The world's policy is the 2021 reserve mode: e-CNY bears no interest.
    signed = world.bank.sign(lambda i, s: AccrueInterest(i, s, wallet=world.alice.address))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        NotAuthorisedError,
        instruction_id=6,
        party="ICBC",
    )


def _corporate(world: World, at_minute: int) -> Party:
    # A business's wallet linked to 6222-0001, holding ¥100, swept from at_minute
    # (local time; the world's clock starts at midnight in Beijing), keeping ¥10.
    shop = Party(world.ledger, _key("shop"))
    world.bank.submit(
        lambda i, s: OpenCorporateWallet(
            i, s, wallet_key=shop.verify_key, linked_account=ACCOUNT, kyc_digest=KYC_DIGEST
        )
    )
    world.bank.submit(_fund(shop, cny("100"), ACCOUNT))
    world.bank.submit(
        lambda i, s: SetDailySweep(i, s, wallet=shop.address, at_minute=at_minute, keep=cny("10"))
    )
    return shop


def _sweep(world: World, shop: Party, amount: Amount) -> SignedInstruction:
    return world.bank.sign(
        lambda i, s: Defund(i, s, wallet=shop.address, amount=amount, to_account="")
    )


def wallet_not_corporate() -> Attempt:
    world = _world()
    signed = world.bank.sign(
        lambda i, s: SetDailySweep(i, s, wallet=world.bob.address, at_minute=0, keep=cny("0"))
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        InvalidFieldError,
        instruction_id=6,
        party=str(world.bob.address),
        field="wallet",
    )


def sweep_not_set() -> Attempt:
    world = _world()
    # Only bob's own key may defund him: his bank may only sweep a corporate wallet.
    signed = world.bank.sign(
        lambda i, s: Defund(i, s, wallet=world.bob.address, amount=cny("1"), to_account="")
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        NotAuthorisedError,
        instruction_id=6,
        party=str(world.bob.address),
        field="wallet",
    )


def sweep_not_due() -> Attempt:
    world = _world()
    shop = _corporate(world, 18 * 60)
    signed = _sweep(world, shop, cny("90"))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        NotAuthorisedError,
        instruction_id=9,
        party=str(shop.address),
        field="wallet",
    )


def sweep_already_done() -> Attempt:
    world = _world()
    shop = _corporate(world, 0)
    world.ledger.submit(_sweep(world, shop, cny("90")))
    world.bank.submit(_fund(shop, cny("5"), ACCOUNT))
    signed = _sweep(world, shop, cny("5"))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        NotAuthorisedError,
        instruction_id=11,
        party=str(shop.address),
        field="wallet",
    )


def sweep_amount_wrong() -> Attempt:
    world = _world()
    shop = _corporate(world, 0)
    signed = _sweep(world, shop, cny("100"))  # ¥90 is above the ¥10 it keeps
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        LimitExceededError,
        instruction_id=9,
        party=str(shop.address),
        field="amount",
    )


def wallet_has_sub_wallets() -> Attempt:
    world = _world()
    world.alice.submit(_open_sub(world.alice, Party(world.ledger, _key("till"))))
    signed = world.bank.sign(
        lambda i, s: CloseWallet(i, s, wallet=world.alice.address, to_account=ACCOUNT)
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        InvalidFieldError,
        instruction_id=6,
        party=str(world.alice.address),
        field="wallet",
    )


def wallet_is_sub_wallet() -> Attempt:
    world = _world()
    till = Party(world.ledger, _key("till"))
    world.alice.submit(_open_sub(world.alice, till))
    # A sub-wallet cannot open sub-wallets of its own.
    signed = till.sign(_open_sub(till, Party(world.ledger, _key("till's till"))))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        NotAuthorisedError,
        instruction_id=1,
        party=str(till.address),
        field="parent",
    )


def not_a_sub_wallet() -> Attempt:
    world = _world()
    signed = world.alice.sign(
        lambda i, s: TopUpSubWallet(
            i, s, parent=world.alice.address, sub_wallet=world.bob.address, amount=cny("1")
        )
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        NotAuthorisedError,
        instruction_id=1,
        party=str(world.bob.address),
        field="sub_wallet",
    )


def sub_wallet_cap_above_parent() -> Attempt:
    world = _world()
    till = Party(world.ledger, _key("till"))
    # Category 4 pays at most ¥1,000 a day; a sub-wallet may not allow more.
    signed = world.alice.sign(_open_sub(world.alice, till, daily_cap=cny("1000.01")))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        LimitExceededError,
        instruction_id=1,
        party=str(till.address),
        field="daily_cap",
    )


def _pending(world: World, *, seconds: int = 60, conditions: tuple[object, ...] = ()) -> Build:
    expires_at_us = world.clock.now_us() + seconds * 1_000_000
    return lambda i, s: PayPending(
        i,
        s,
        payer=world.alice.address,
        payee=world.bob.address,
        amount=cny("30"),
        expires_at_us=expires_at_us,
        conditions=conditions,
    )


def _post(world: World, pending_id: int) -> Build:
    return lambda i, s: PostPending(
        i, s, payer=world.alice.address, pending_id=pending_id, amount=cny("30")
    )


def pending_unknown() -> Attempt:
    world = _world()
    signed = world.bob.sign(_post(world, 99))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        UnknownPartyError,
        instruction_id=1,
        party=str(world.alice.address),
        field="pending_id",
    )


def pending_already_resolved() -> Attempt:
    world = _world()
    world.alice.submit(_pending(world))
    world.bob.submit(_post(world, 1))
    signed = world.bob.sign(_post(world, 1))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        DuplicateError,
        instruction_id=2,
        party=str(world.alice.address),
        field="pending_id",
    )


def pending_expired() -> Attempt:
    world = _world()
    world.alice.submit(_pending(world, seconds=1))
    world.clock.advance(seconds=2)
    # The post's own time expires the payment first; refused, it is put back.
    signed = world.bob.sign(_post(world, 1))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        InvalidFieldError,
        instruction_id=1,
        party=str(world.alice.address),
        field="pending_id",
    )


def pending_outstanding() -> Attempt:
    world = _world()
    world.alice.submit(_pending(world))
    signed = world.bank.sign(
        lambda i, s: CloseWallet(i, s, wallet=world.alice.address, to_account=ACCOUNT)
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        InvalidFieldError,
        instruction_id=6,
        party=str(world.alice.address),
        field="wallet",
    )


def condition_not_met() -> Attempt:
    world = _world()
    lock = HashLock.of(b"the secret")
    world.alice.submit(_pending(world, conditions=(lock,)))
    signed = world.bob.sign(
        lambda i, s: PostPending(
            i,
            s,
            payer=world.alice.address,
            pending_id=1,
            amount=cny("30"),
            preimage=b"a guess",
        )
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        NotAuthorisedError,
        instruction_id=1,
        party=str(world.alice.address),
        field="conditions",
    )


def linked_batch_invalid() -> Attempt:
    world = _world()
    member = world.alice.sign(_pay(world.alice, world.bob.address, cny("1")))
    # The header names another batch (its digest is of no members at all).
    header = world.alice.sign(lambda i, s: LinkBatch(i, s, members=1, digest=bytes(32)))
    return _attempt(
        world,
        lambda: world.ledger.submit_linked(header, [member]),
        InvalidFieldError,
        instruction_id=2,
    )


def _voucher(world: World, region: str, *, seconds: int = 60) -> Build:
    expires_at_us = world.clock.now_us() + seconds * 1_000_000
    return lambda i, s: IssueVoucher(
        i,
        s,
        issuer=world.bob.address,
        holder=world.alice.address,
        amount=cny("50"),
        expires_at_us=expires_at_us,
        regions=(InstitutionCode.parse(region),),
    )


def _spend(world: World, voucher_id: int) -> Build:
    # Alice pays herself: only the voucher's regions decide whether she may.
    return lambda i, s: SpendVoucher(
        i,
        s,
        issuer=world.bob.address,
        voucher_id=voucher_id,
        payee=world.alice.address,
        amount=cny("1"),
    )


def voucher_unknown() -> Attempt:
    world = _world()
    signed = world.alice.sign(_spend(world, 99))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        UnknownPartyError,
        instruction_id=1,
        party=str(world.bob.address),
        field="voucher_id",
    )


def voucher_expired() -> Attempt:
    world = _world()
    world.bob.submit(_voucher(world, "MA.156.1100", seconds=1))
    world.clock.advance(seconds=2)
    signed = world.alice.sign(_spend(world, 1))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        InvalidFieldError,
        instruction_id=1,
        party=str(world.bob.address),
        field="voucher_id",
    )


def voucher_wrong_merchant() -> Attempt:
    world = _world()
    # Alice's bank is MA.156.1100.01, in Beijing; the voucher is for Shijiazhuang.
    world.bob.submit(_voucher(world, "MA.156.1301"))
    signed = world.alice.sign(_spend(world, 1))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        NotAuthorisedError,
        instruction_id=1,
        party=str(world.alice.address),
        field="payee",
    )


def _card(world: World) -> SigningKey:
    """Alice's hardware wallet, registered (her instruction 1) and loaded with ¥600 (2)."""
    card = _key("card")
    world.alice.submit(
        lambda i, s: RegisterDevice(i, s, wallet=world.alice.address, device_key=card.verify_key)
    )
    world.alice.submit(
        lambda i, s: LoadOffline(
            i, s, wallet=world.alice.address, device=card.address, amount=cny("600"), counter=0
        )
    )
    return card


def _token(world: World, card: SigningKey, amount: Amount, counter: int = 1) -> Build:
    token = sign_token(
        card,
        world.ledger.network_id,
        counter=counter,
        payee=world.bob.address,
        amount=amount,
        time_us=0,
    )
    return lambda i, s: SettleOffline(i, s, token=token)


def offline_device_unknown() -> Attempt:
    world = _world()
    card = _key("card")
    signed = world.alice.sign(
        lambda i, s: LoadOffline(
            i, s, wallet=world.alice.address, device=card.address, amount=cny("1"), counter=0
        )
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        UnknownPartyError,
        instruction_id=1,
        party=str(card.address),
        field="device",
    )


def offline_device_blocked() -> Attempt:
    world = _world()
    card = _card(world)
    # Two tokens with counter 1: the second proves a clone.
    world.bob.submit(_token(world, card, cny("10")))
    world.bob.submit(_token(world, card, cny("20")))
    signed = world.alice.sign(
        lambda i, s: LoadOffline(
            i, s, wallet=world.alice.address, device=card.address, amount=cny("1"), counter=1
        )
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        NotAuthorisedError,
        instruction_id=3,
        party=str(card.address),
        field="device",
    )


def offline_cap_exceeded() -> Attempt:
    world = _world()
    card = _card(world)
    signed = world.bob.sign(_token(world, card, cny("500.01")))
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        LimitExceededError,
        instruction_id=1,
        party=str(card.address),
        field="token",
    )


def offline_tokens_unsettled() -> Attempt:
    world = _world()
    card = _card(world)
    # Token 1 was handed over offline and is not settled yet.
    signed = world.alice.sign(
        lambda i, s: UnloadOffline(
            i, s, wallet=world.alice.address, device=card.address, amount=cny("1"), counter=1
        )
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        InvalidFieldError,
        instruction_id=3,
        party=str(card.address),
        field="counter",
    )


def offline_allowance_outstanding() -> Attempt:
    world = _world()
    _card(world)
    signed = world.bank.sign(
        lambda i, s: CloseWallet(i, s, wallet=world.alice.address, to_account=ACCOUNT)
    )
    return _attempt(
        world,
        lambda: world.ledger.submit(signed),
        InvalidFieldError,
        instruction_id=6,
        party=str(world.alice.address),
        field="wallet",
    )


def _in_memory(scenario: Callable[[], Attempt]) -> Scenario:
    return lambda _tmp_path: scenario()


Scenario = Callable[[Path], Attempt]

SCENARIOS: dict[Reason, Scenario] = {
    Reason.AMOUNT_NOT_INTEGER: _in_memory(amount_not_integer),
    Reason.AMOUNT_MALFORMED: _in_memory(amount_malformed),
    Reason.AMOUNT_NOT_POSITIVE: _in_memory(amount_not_positive),
    Reason.AMOUNT_NEGATIVE: _in_memory(amount_negative),
    Reason.AMOUNT_TOO_LARGE: _in_memory(amount_too_large),
    Reason.CODE_MALFORMED: _in_memory(code_malformed),
    Reason.CODE_DUPLICATE: _in_memory(code_duplicate),
    Reason.CODE_OUTSIDE_PARENT: _in_memory(code_outside_parent),
    Reason.ENCODING_MALFORMED: _in_memory(encoding_malformed),
    Reason.ENCODING_UNSUPPORTED_VERSION: _in_memory(encoding_unsupported_version),
    Reason.ENCODING_UNKNOWN_KIND: _in_memory(encoding_unknown_kind),
    Reason.FIELD_INVALID: _in_memory(field_invalid),
    Reason.SIGNATURE_INVALID: _in_memory(signature_invalid),
    Reason.SIGNER_NOT_AUTHORISED: _in_memory(signer_not_authorised),
    Reason.KYC_INSUFFICIENT: _in_memory(kyc_insufficient),
    Reason.LEDGER_NOT_INITIALISED: _in_memory(ledger_not_initialised),
    Reason.LEDGER_ALREADY_INITIALISED: _in_memory(ledger_already_initialised),
    Reason.UNKNOWN_BANK: _in_memory(unknown_bank),
    Reason.UNKNOWN_WALLET: _in_memory(unknown_wallet),
    Reason.UNKNOWN_ACCOUNT: _in_memory(unknown_account),
    Reason.BANK_EXISTS: _in_memory(bank_exists),
    Reason.WALLET_EXISTS: _in_memory(wallet_exists),
    Reason.SELF_PAYMENT: _in_memory(self_payment),
    Reason.ID_REUSED: _in_memory(id_reused),
    Reason.SEQUENCE_REPLAYED: _in_memory(sequence_replayed),
    Reason.INSUFFICIENT_BALANCE: _in_memory(insufficient_balance),
    Reason.INSUFFICIENT_VAULT: _in_memory(insufficient_vault),
    Reason.INSUFFICIENT_RESERVES: _in_memory(insufficient_reserves),
    Reason.INSUFFICIENT_DEPOSIT: _in_memory(insufficient_deposit),
    Reason.BALANCE_CAP_EXCEEDED: _in_memory(balance_cap_exceeded),
    Reason.SINGLE_PAYMENT_CAP_EXCEEDED: _in_memory(single_payment_cap_exceeded),
    Reason.DAILY_CAP_EXCEEDED: _in_memory(daily_cap_exceeded),
    Reason.ANNUAL_CAP_EXCEEDED: _in_memory(annual_cap_exceeded),
    Reason.JOURNAL_CHAIN_BROKEN: journal_chain_broken,
    Reason.JOURNAL_BLOCK_MISMATCH: journal_block_mismatch,
    Reason.JOURNAL_REPLAY_DIVERGED: journal_replay_diverged,
    Reason.JOURNAL_UNTRUSTED_KEY: journal_untrusted_key,
    Reason.JOURNAL_ROLLED_BACK: journal_rolled_back,
    Reason.STORE_NOT_DCEP: store_not_dcep,
    Reason.STORE_VERSION_UNSUPPORTED: store_version_unsupported,
    Reason.STORE_CORRUPT: store_corrupt,
    Reason.INVARIANT_VIOLATED: _in_memory(invariant_violated),
    Reason.KEY_FILE_EXISTS: key_file_exists,
    Reason.KEY_FILE_UNREADABLE: key_file_unreadable,
    Reason.KEY_FILE_EXPOSED: key_file_exposed,
    Reason.PASSPHRASE_WRONG: passphrase_wrong,
    Reason.KEY_NOT_HELD: _in_memory(key_not_held),
    Reason.REGULATOR_EXISTS: _in_memory(regulator_exists),
    Reason.WALLET_FROZEN: _in_memory(wallet_frozen),
    Reason.WALLET_NOT_FROZEN: _in_memory(wallet_not_frozen),
    Reason.UNKNOWN_REGULATOR: _in_memory(unknown_regulator),
    Reason.UNKNOWN_WARRANT: _in_memory(unknown_warrant),
    Reason.WARRANT_ANSWERED: _in_memory(warrant_answered),
    Reason.WALLET_CLOSED: _in_memory(wallet_closed),
    Reason.WALLET_HAS_SUB_WALLETS: _in_memory(wallet_has_sub_wallets),
    Reason.WALLET_IS_SUB_WALLET: _in_memory(wallet_is_sub_wallet),
    Reason.NOT_A_SUB_WALLET: _in_memory(not_a_sub_wallet),
    Reason.SUB_WALLET_CAP_ABOVE_PARENT: _in_memory(sub_wallet_cap_above_parent),
    Reason.PENDING_UNKNOWN: _in_memory(pending_unknown),
    Reason.PENDING_ALREADY_RESOLVED: _in_memory(pending_already_resolved),
    Reason.PENDING_EXPIRED: _in_memory(pending_expired),
    Reason.PENDING_OUTSTANDING: _in_memory(pending_outstanding),
    Reason.CONDITION_NOT_MET: _in_memory(condition_not_met),
    Reason.LINKED_BATCH_INVALID: _in_memory(linked_batch_invalid),
    Reason.VOUCHER_UNKNOWN: _in_memory(voucher_unknown),
    Reason.VOUCHER_EXPIRED: _in_memory(voucher_expired),
    Reason.VOUCHER_WRONG_MERCHANT: _in_memory(voucher_wrong_merchant),
    Reason.INTEREST_NOT_PAYABLE: _in_memory(interest_not_payable),
    Reason.OFFLINE_DEVICE_UNKNOWN: _in_memory(offline_device_unknown),
    Reason.OFFLINE_DEVICE_BLOCKED: _in_memory(offline_device_blocked),
    Reason.OFFLINE_CAP_EXCEEDED: _in_memory(offline_cap_exceeded),
    Reason.OFFLINE_TOKENS_UNSETTLED: _in_memory(offline_tokens_unsettled),
    Reason.OFFLINE_ALLOWANCE_OUTSTANDING: _in_memory(offline_allowance_outstanding),
    Reason.WALLET_NOT_CORPORATE: _in_memory(wallet_not_corporate),
    Reason.SWEEP_NOT_SET: _in_memory(sweep_not_set),
    Reason.SWEEP_NOT_DUE: _in_memory(sweep_not_due),
    Reason.SWEEP_ALREADY_DONE: _in_memory(sweep_already_done),
    Reason.SWEEP_AMOUNT_WRONG: _in_memory(sweep_amount_wrong),
}


def test_every_reason_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(Reason)


def test_the_world_is_as_documented() -> None:
    # The figures every scenario above relies on, worked out in World's docstring.
    world = _world()
    ledger = world.ledger
    assert ledger.balance(world.alice.address) == cny("800")
    assert ledger.balance(world.bob.address) == cny("1000")
    bank = ledger.bank("ICBC")
    assert bank.vault == cny("598200")
    assert bank.reserves_available == cny("400000")
    assert bank.customer_deposits == cny("4000")
    assert [p.next_number - 1 for p in world.parties] == [3, 5, 0, 0]
    assert [ledger.last_sequence(p.address) for p in world.parties] == [3, 5, 0, 0]
    ledger.check_invariants()


@pytest.mark.parametrize("reason", list(Reason))
def test_reason_is_raised_and_changes_nothing(reason: Reason, tmp_path: Path) -> None:
    attempt = SCENARIOS[reason](tmp_path)
    before = attempt.observe()
    with pytest.raises(DcepError) as info:
        attempt.action()
    error = info.value
    assert error.reason is reason
    assert type(error) is attempt.error_class
    assert isinstance(error, FAMILY[attempt.error_class])
    assert (error.instruction_id, error.party, error.field) == (
        attempt.instruction_id,
        attempt.party,
        attempt.field,
    )
    message = str(error)
    assert message.startswith(f"[{reason.value}] ")
    if error.instruction_id is not None:
        assert f"instruction {error.instruction_id}" in message
    if error.party is not None:
        assert f"party {error.party}" in message
    if error.field is not None:
        assert f"field {error.field}" in message
    if isinstance(error, JournalError):
        assert (error.entry, error.block) == (attempt.entry, attempt.block)
        if error.block is not None:
            assert f"block {error.block}" in message
        if error.entry is not None:
            assert f"entry {error.entry}" in message
    else:
        assert (attempt.entry, attempt.block) == (None, None)
    assert attempt.observe() == before


@pytest.mark.parametrize(("error_class", "family"), list(FAMILY.items()))
def test_error_classes_are_the_builtin_a_caller_would_catch(
    error_class: type[DcepError], family: type[Exception]
) -> None:
    assert issubclass(error_class, DcepError)
    assert issubclass(error_class, family)


def test_every_public_error_class_has_a_family() -> None:
    public = {
        value
        for value in (getattr(dcep.errors, name) for name in dcep.errors.__all__)
        if isinstance(value, type) and issubclass(value, DcepError)
    }
    assert public - {DcepError} == set(FAMILY)
