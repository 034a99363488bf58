"""Tests of the canonical instruction encoding and signed envelopes.

Strategies for every instruction kind are built here from the public names
in :mod:`dcep` and the field strategies of tests/strategies.py; the
known-answer bytes are written out by hand from the layout in
``dcep/_encoding.py`` (``version ‖ kind ‖ id ‖ sequence ‖ fields``) and the
field codecs in ``dcep/_wire.py`` (big-endian integers, one length byte then
UTF-8 for text), never copied from a run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import attrs
import nacl.bindings
import nacl.exceptions
import nacl.signing
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import dcep
import dcep.instructions
import dcep.values
from dcep import (
    Address,
    Amount,
    AmountError,
    DcepError,
    InstitutionCode,
    InvalidFieldError,
    Reason,
    SignatureError,
    WalletCategory,
)
from dcep.core._sentinels import _new_keys, _signature_is_good
from dcep.errors import EncodingError
from dcep.instructions import (
    Instruction,
    InstructionKind,
    SignedInstruction,
    decode_instruction,
    encode_instruction,
)
from dcep.instructions._encoding import SignerKeys, domain_tag
from dcep.instructions._kinds import KIND_RECORDS, NEW_KEY_FIELDS
from dcep.values import MAX_AMOUNT_FEN, SigningKey, VerifyKey
from dcep.values._crypto import domain_message, note_valid_points

from .strategies import (
    addresses,
    amounts,
    institution_codes,
    instruction_ids,
    mutated,
    network_ids,
    positive_amounts,
    sequences,
    signing_keys,
    wallet_categories,
)

HEADER_SIZE = 1 + 1 + 16 + 8  # version, kind, id, sequence
ENVELOPE_HEADER_SIZE = 32 + 64  # signer public key, signature
NETWORK_ID = b"dcep-test"

# --- Strategies ---------------------------------------------------------------

# Ids, sequences, amounts, addresses, categories, signing keys, codes: tests/strategies.py.
#: Public keys of real signing keys: the ledger binds no key that is not a valid point.
verify_keys = st.binary(min_size=32, max_size=32).map(lambda seed: SigningKey(seed).verify_key)
digests = st.binary(min_size=32, max_size=32)
accounts = st.from_regex(r"[A-Za-z0-9-]{0,34}", fullmatch=True)
#: Non-empty, like a ledger's (tests/test_crypto.py draws the empty id too).
envelope_network_ids = network_ids(min_size=1)


def utf8_text(min_bytes: int, max_bytes: int) -> st.SearchStrategy[str]:
    """Text whose UTF-8 form is ``min_bytes`` to ``max_bytes`` long, boundaries included."""
    short = st.text(st.characters(codec="utf-8"), min_size=min_bytes, max_size=16).filter(
        lambda text: min_bytes <= len(text.encode("utf-8")) <= max_bytes
    )
    # Exactly the maximum, which a short draw would rarely reach.
    longest = st.text(st.characters(codec="ascii"), min_size=max_bytes, max_size=max_bytes)
    return st.one_of(short, longest)


names = utf8_text(1, 64)
memos = utf8_text(0, 140)


@st.composite
def transfers(draw: st.DrawFn) -> dcep.instructions.Transfer:
    payer, payee = draw(st.lists(addresses, min_size=2, max_size=2, unique=True))
    return dcep.instructions.Transfer(
        draw(instruction_ids),
        draw(sequences),
        payer=payer,
        payee=payee,
        amount=draw(positive_amounts),
        memo=draw(memos),
    )


KIND_STRATEGIES: dict[InstructionKind, st.SearchStrategy[Instruction]] = {
    InstructionKind.GENESIS: st.builds(
        dcep.instructions.Genesis,
        id=instruction_ids,
        sequence=sequences,
        name=names,
        code=institution_codes(),
    ),
    InstructionKind.AUTHORISE_BANK: st.builds(
        dcep.instructions.AuthoriseBank,
        id=instruction_ids,
        sequence=sequences,
        bank_key=verify_keys,
        name=names,
        code=institution_codes(),
        reserves=positive_amounts,
    ),
    InstructionKind.ISSUE: st.builds(
        dcep.instructions.Issue,
        id=instruction_ids,
        sequence=sequences,
        bank=addresses,
        amount=positive_amounts,
    ),
    InstructionKind.REDEEM: st.builds(
        dcep.instructions.Redeem, id=instruction_ids, sequence=sequences, amount=positive_amounts
    ),
    InstructionKind.PAY_IN: st.builds(
        dcep.instructions.PayIn,
        id=instruction_ids,
        sequence=sequences,
        account=accounts,
        amount=positive_amounts,
    ),
    InstructionKind.OPEN_WALLET: st.builds(
        dcep.instructions.OpenWallet,
        id=instruction_ids,
        sequence=sequences,
        wallet_key=verify_keys,
        category=wallet_categories,
        linked_account=accounts,
        kyc_digest=digests,
    ),
    InstructionKind.FUND: st.builds(
        dcep.instructions.Fund,
        id=instruction_ids,
        sequence=sequences,
        wallet=addresses,
        amount=positive_amounts,
        from_account=accounts,
    ),
    InstructionKind.DEFUND: st.builds(
        dcep.instructions.Defund,
        id=instruction_ids,
        sequence=sequences,
        wallet=addresses,
        amount=positive_amounts,
        to_account=accounts,
    ),
    InstructionKind.TRANSFER: transfers(),
    InstructionKind.APPOINT_REGULATOR: st.builds(
        dcep.instructions.AppointRegulator,
        id=instruction_ids,
        sequence=sequences,
        regulator_key=verify_keys,
        name=names,
    ),
    InstructionKind.FREEZE: st.builds(
        dcep.instructions.Freeze,
        id=instruction_ids,
        sequence=sequences,
        wallet=addresses,
        reason=names,
    ),
    InstructionKind.UNFREEZE: st.builds(
        dcep.instructions.Unfreeze,
        id=instruction_ids,
        sequence=sequences,
        wallet=addresses,
        reason=names,
    ),
    InstructionKind.WARRANT: st.builds(
        dcep.instructions.Warrant,
        id=instruction_ids,
        sequence=sequences,
        wallet=addresses,
        reason=names,
    ),
    InstructionKind.DISCLOSURE: st.builds(
        dcep.instructions.Disclosure,
        id=instruction_ids,
        sequence=sequences,
        regulator=addresses,
        warrant_id=instruction_ids,
        wallet=addresses,
        sealed=st.binary(min_size=1, max_size=300),
    ),
    InstructionKind.OPEN_SUB_WALLET: st.builds(
        dcep.instructions.OpenSubWallet,
        id=instruction_ids,
        sequence=sequences,
        parent=addresses,
        sub_wallet_key=verify_keys,
        balance_cap=st.builds(dcep.Amount, st.integers(0, MAX_AMOUNT_FEN)),
        single_payment_cap=st.builds(dcep.Amount, st.integers(0, MAX_AMOUNT_FEN)),
        daily_cap=st.builds(dcep.Amount, st.integers(0, MAX_AMOUNT_FEN)),
        annual_cap=st.builds(dcep.Amount, st.integers(0, MAX_AMOUNT_FEN)),
    ),
    InstructionKind.TOP_UP_SUB_WALLET: st.builds(
        dcep.instructions.TopUpSubWallet,
        id=instruction_ids,
        sequence=sequences,
        parent=addresses,
        sub_wallet=addresses,
        amount=positive_amounts,
    ),
    InstructionKind.COLLECT_FROM_SUB_WALLET: st.builds(
        dcep.instructions.CollectFromSubWallet,
        id=instruction_ids,
        sequence=sequences,
        parent=addresses,
        sub_wallet=addresses,
        amount=positive_amounts,
    ),
    InstructionKind.CLOSE_SUB_WALLET: st.builds(
        dcep.instructions.CloseSubWallet,
        id=instruction_ids,
        sequence=sequences,
        parent=addresses,
        sub_wallet=addresses,
    ),
    InstructionKind.CHANGE_CATEGORY: st.builds(
        dcep.instructions.ChangeCategory,
        id=instruction_ids,
        sequence=sequences,
        wallet=addresses,
        category=wallet_categories,
        linked_account=accounts,
        kyc_digest=digests,
    ),
    InstructionKind.CLOSE_WALLET: st.builds(
        dcep.instructions.CloseWallet,
        id=instruction_ids,
        sequence=sequences,
        wallet=addresses,
        to_account=accounts,
    ),
    InstructionKind.ACCRUE_INTEREST: st.builds(
        dcep.instructions.AccrueInterest, id=instruction_ids, sequence=sequences, wallet=addresses
    ),
    InstructionKind.OPEN_CORPORATE_WALLET: st.builds(
        dcep.instructions.OpenCorporateWallet,
        id=instruction_ids,
        sequence=sequences,
        wallet_key=verify_keys,
        linked_account=accounts,
        kyc_digest=digests,
    ),
    InstructionKind.SET_DAILY_SWEEP: st.builds(
        dcep.instructions.SetDailySweep,
        id=instruction_ids,
        sequence=sequences,
        wallet=addresses,
        at_minute=st.integers(0, dcep.instructions.SWEEP_OFF),
        keep=amounts(min_fen=0),
    ),
}


def _conditions() -> st.SearchStrategy[tuple[object, ...]]:
    not_before = st.builds(dcep.instructions.NotBefore, st.integers(0, 2**63 - 1))
    approved = st.lists(verify_keys, min_size=1, max_size=4, unique=True).flatmap(
        lambda keys: st.builds(
            dcep.instructions.ApprovedBy, st.just(tuple(keys)), st.integers(1, len(keys))
        )
    )
    locks = st.builds(
        dcep.instructions.HashLock, digests, st.sampled_from(dcep.instructions.HashAlgorithm)
    )
    return st.lists(st.one_of(not_before, approved, locks), max_size=4).map(tuple)


@st.composite
def pending_payments(draw: st.DrawFn) -> dcep.instructions.PayPending:
    payer, payee = draw(st.lists(addresses, min_size=2, max_size=2, unique=True))
    return dcep.instructions.PayPending(
        draw(instruction_ids),
        draw(sequences),
        payer=payer,
        payee=payee,
        amount=draw(positive_amounts),
        expires_at_us=draw(st.integers(1, 2**63 - 1)),
        conditions=draw(_conditions()),
        memo=draw(memos),
    )


approvals = st.builds(dcep.instructions.Approval, verify_keys, st.binary(min_size=64, max_size=64))
KIND_STRATEGIES[InstructionKind.PAY_PENDING] = pending_payments()
KIND_STRATEGIES[InstructionKind.POST_PENDING] = st.builds(
    dcep.instructions.PostPending,
    id=instruction_ids,
    sequence=sequences,
    payer=addresses,
    pending_id=instruction_ids,
    amount=positive_amounts,
    preimage=st.binary(max_size=256),
    approvals=st.lists(approvals, max_size=3).map(tuple),
)
KIND_STRATEGIES[InstructionKind.VOID_PENDING] = st.builds(
    dcep.instructions.VoidPending,
    id=instruction_ids,
    sequence=sequences,
    payer=addresses,
    pending_id=instruction_ids,
)
KIND_STRATEGIES[InstructionKind.LINK_BATCH] = st.builds(
    dcep.instructions.LinkBatch,
    id=instruction_ids,
    sequence=sequences,
    members=st.integers(1, 1000),
    digest=digests,
)


@st.composite
def vouchers(draw: st.DrawFn) -> dcep.instructions.IssueVoucher:
    issuer, holder = draw(st.lists(addresses, min_size=2, max_size=2, unique=True))
    regions = draw(st.lists(institution_codes(), max_size=3).map(tuple))
    merchants = draw(st.lists(addresses, min_size=0 if regions else 1, max_size=3).map(tuple))
    return dcep.instructions.IssueVoucher(
        draw(instruction_ids),
        draw(sequences),
        issuer=issuer,
        holder=holder,
        amount=draw(positive_amounts),
        expires_at_us=draw(st.integers(1, 2**63 - 1)),
        regions=regions,
        merchants=merchants,
        memo=draw(memos),
    )


@st.composite
def voucher_spends(draw: st.DrawFn) -> dcep.instructions.SpendVoucher:
    issuer, payee = draw(st.lists(addresses, min_size=2, max_size=2, unique=True))
    return dcep.instructions.SpendVoucher(
        draw(instruction_ids),
        draw(sequences),
        issuer=issuer,
        voucher_id=draw(instruction_ids),
        payee=payee,
        amount=draw(positive_amounts),
    )


KIND_STRATEGIES[InstructionKind.ISSUE_VOUCHER] = vouchers()
KIND_STRATEGIES[InstructionKind.SPEND_VOUCHER] = voucher_spends()

counters = st.integers(0, 2**63 - 1)
offline_tokens = st.builds(
    dcep.instructions.OfflineToken,
    device=verify_keys,
    counter=st.integers(1, 2**63 - 1),
    payee=addresses,
    amount=positive_amounts,
    time_us=st.integers(0, 2**63 - 1),
    signature=st.binary(min_size=64, max_size=64),
)
KIND_STRATEGIES[InstructionKind.REGISTER_DEVICE] = st.builds(
    dcep.instructions.RegisterDevice,
    id=instruction_ids,
    sequence=sequences,
    wallet=addresses,
    device_key=verify_keys,
)
KIND_STRATEGIES[InstructionKind.LOAD_OFFLINE] = st.builds(
    dcep.instructions.LoadOffline,
    id=instruction_ids,
    sequence=sequences,
    wallet=addresses,
    device=addresses,
    amount=positive_amounts,
    counter=counters,
)
KIND_STRATEGIES[InstructionKind.SETTLE_OFFLINE] = st.builds(
    dcep.instructions.SettleOffline, id=instruction_ids, sequence=sequences, token=offline_tokens
)
KIND_STRATEGIES[InstructionKind.UNLOAD_OFFLINE] = st.builds(
    dcep.instructions.UnloadOffline,
    id=instruction_ids,
    sequence=sequences,
    wallet=addresses,
    device=addresses,
    amount=positive_amounts,
    counter=counters,
)

instructions: st.SearchStrategy[Instruction] = st.one_of(*KIND_STRATEGIES.values())

# Every error decoding may raise: the encoding's own, and the records' field checks.
DECODE_REASONS = frozenset(
    {
        Reason.ENCODING_MALFORMED,
        Reason.ENCODING_UNSUPPORTED_VERSION,
        Reason.ENCODING_UNKNOWN_KIND,
        Reason.FIELD_INVALID,
        Reason.SELF_PAYMENT,
        Reason.AMOUNT_NOT_POSITIVE,
    }
)


# --- Hand-written layout helpers ------------------------------------------------
# An independent writer of the documented layout, for building malformed inputs.


def u128(value: int) -> bytes:
    return value.to_bytes(16, "big")


def u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def text(raw: bytes) -> bytes:
    return bytes((len(raw),)) + raw


def header(kind: int, instruction_id: int = 7, sequence: int = 9, *, version: int = 1) -> bytes:
    return bytes((version, kind)) + u128(instruction_id) + u64(sequence)


PAYER = Address(b"\x11" * 20)
PAYEE = Address(b"\x22" * 20)


def transfer_bytes(
    *,
    instruction_id: int = 7,
    sequence: int = 9,
    payer: bytes = b"\x11" * 20,
    payee: bytes = b"\x22" * 20,
    amount: bytes = u64(1250),
    memo: bytes = text(b"noodles"),
) -> bytes:
    return header(9, instruction_id, sequence) + payer + payee + amount + memo


def _key(n: int) -> VerifyKey:
    """A fixed public key that is a valid point (the ledger binds no other)."""
    return SigningKey(bytes([n]) * 32).verify_key


#: One hand-built instruction of every kind, for the cases that need a fixed value.
EXAMPLES: dict[InstructionKind, Instruction] = {
    InstructionKind.GENESIS: dcep.instructions.Genesis(
        1, 1, name="People's Bank of China", code=InstitutionCode.parse("MA.156.1100.00")
    ),
    InstructionKind.AUTHORISE_BANK: dcep.instructions.AuthoriseBank(
        2,
        2,
        bank_key=_key(1),
        name="ICBC",
        code=InstitutionCode.parse("MA.156.1100.01"),
        reserves=dcep.cny("1000000"),
    ),
    InstructionKind.ISSUE: dcep.instructions.Issue(
        3, 3, bank=Address(b"\x33" * 20), amount=dcep.cny("500000")
    ),
    InstructionKind.REDEEM: dcep.instructions.Redeem(4, 4, amount=dcep.cny("100")),
    InstructionKind.PAY_IN: dcep.instructions.PayIn(
        5, 5, account="6222-0001", amount=dcep.cny("8000")
    ),
    InstructionKind.OPEN_WALLET: dcep.instructions.OpenWallet(
        6,
        6,
        wallet_key=_key(2),
        category=WalletCategory.REMOTE_WITH_ACCOUNT,
        linked_account="6222-0001",
        kyc_digest=b"\xab" * 32,
    ),
    InstructionKind.FUND: dcep.instructions.Fund(
        7, 7, wallet=PAYER, amount=dcep.cny("200"), from_account=""
    ),
    InstructionKind.DEFUND: dcep.instructions.Defund(
        8, 8, wallet=PAYER, amount=dcep.cny("50"), to_account="6222-0001"
    ),
    InstructionKind.TRANSFER: dcep.instructions.Transfer(
        9, 9, payer=PAYER, payee=PAYEE, amount=dcep.cny("12.50"), memo="面条"
    ),
    InstructionKind.APPOINT_REGULATOR: dcep.instructions.AppointRegulator(
        10, 10, regulator_key=dcep.values.SigningKey(b"\x07" * 32).verify_key, name="AML bureau"
    ),
    InstructionKind.FREEZE: dcep.instructions.Freeze(11, 11, wallet=PAYER, reason="case 1"),
    InstructionKind.UNFREEZE: dcep.instructions.Unfreeze(12, 12, wallet=PAYER, reason="cleared"),
    InstructionKind.WARRANT: dcep.instructions.Warrant(13, 13, wallet=PAYER, reason="case 2"),
    InstructionKind.DISCLOSURE: dcep.instructions.Disclosure(
        14, 14, regulator=PAYEE, warrant_id=13, wallet=PAYER, sealed=b"\x01\x02"
    ),
    InstructionKind.OPEN_SUB_WALLET: dcep.instructions.OpenSubWallet(
        15,
        15,
        parent=PAYER,
        sub_wallet_key=_key(3),
        balance_cap=dcep.cny("200"),
        single_payment_cap=dcep.Amount(0),
        daily_cap=dcep.cny("50"),
        annual_cap=dcep.Amount(0),
    ),
    InstructionKind.TOP_UP_SUB_WALLET: dcep.instructions.TopUpSubWallet(
        16, 16, parent=PAYER, sub_wallet=PAYEE, amount=dcep.cny("20")
    ),
    InstructionKind.COLLECT_FROM_SUB_WALLET: dcep.instructions.CollectFromSubWallet(
        17, 17, parent=PAYER, sub_wallet=PAYEE, amount=dcep.cny("5")
    ),
    InstructionKind.CLOSE_SUB_WALLET: dcep.instructions.CloseSubWallet(
        18, 18, parent=PAYER, sub_wallet=PAYEE
    ),
    InstructionKind.CHANGE_CATEGORY: dcep.instructions.ChangeCategory(
        19,
        19,
        wallet=PAYER,
        category=WalletCategory.REMOTE_WITH_ACCOUNT,
        linked_account="6222-0001",
        kyc_digest=b"\xcd" * 32,
    ),
    InstructionKind.CLOSE_WALLET: dcep.instructions.CloseWallet(
        20, 20, wallet=PAYER, to_account=""
    ),
    InstructionKind.PAY_PENDING: dcep.instructions.PayPending(
        21,
        21,
        payer=PAYER,
        payee=PAYEE,
        amount=dcep.cny("30"),
        expires_at_us=10**15,
        conditions=(
            dcep.instructions.NotBefore(5),
            dcep.instructions.ApprovedBy((VerifyKey(b"\x05" * 32),)),
            dcep.instructions.HashLock(b"\x06" * 32),
        ),
        memo="deposit",
    ),
    InstructionKind.POST_PENDING: dcep.instructions.PostPending(
        22,
        22,
        payer=PAYER,
        pending_id=21,
        amount=dcep.cny("20"),
        preimage=b"open",
        approvals=(dcep.instructions.Approval(VerifyKey(b"\x05" * 32), b"\x09" * 64),),
    ),
    InstructionKind.VOID_PENDING: dcep.instructions.VoidPending(
        23, 23, payer=PAYER, pending_id=21
    ),
    InstructionKind.LINK_BATCH: dcep.instructions.LinkBatch(
        24, 24, members=2, digest=b"\x0a" * 32
    ),
    InstructionKind.ISSUE_VOUCHER: dcep.instructions.IssueVoucher(
        25,
        25,
        issuer=PAYER,
        holder=PAYEE,
        amount=dcep.cny("100"),
        expires_at_us=10**15,
        regions=(InstitutionCode.parse("MA.156.1301"),),
        merchants=(Address(b"\x44" * 20),),
        memo="stimulus",
    ),
    InstructionKind.SPEND_VOUCHER: dcep.instructions.SpendVoucher(
        26, 26, issuer=PAYER, voucher_id=25, payee=Address(b"\x44" * 20), amount=dcep.cny("30")
    ),
    InstructionKind.ACCRUE_INTEREST: dcep.instructions.AccrueInterest(21, 21, wallet=PAYER),
    InstructionKind.REGISTER_DEVICE: dcep.instructions.RegisterDevice(
        30, 30, wallet=PAYER, device_key=_key(7)
    ),
    InstructionKind.LOAD_OFFLINE: dcep.instructions.LoadOffline(
        31, 31, wallet=PAYER, device=Address(b"\x45" * 20), amount=dcep.cny("500"), counter=0
    ),
    InstructionKind.SETTLE_OFFLINE: dcep.instructions.SettleOffline(
        32,
        32,
        token=dcep.instructions.OfflineToken(
            _key(7), 1, PAYEE, dcep.cny("28"), 10**15, b"\x0b" * 64
        ),
    ),
    InstructionKind.UNLOAD_OFFLINE: dcep.instructions.UnloadOffline(
        33, 33, wallet=PAYER, device=Address(b"\x45" * 20), amount=dcep.cny("472"), counter=1
    ),
    InstructionKind.OPEN_CORPORATE_WALLET: dcep.instructions.OpenCorporateWallet(
        22,
        22,
        wallet_key=_key(3),
        linked_account="BIZ-0001",
        kyc_digest=b"\xcd" * 32,
    ),
    InstructionKind.SET_DAILY_SWEEP: dcep.instructions.SetDailySweep(
        23, 23, wallet=PAYER, at_minute=18 * 60, keep=dcep.cny("500")
    ),
}


def refusal(data: bytes) -> DcepError:
    """The error ``decode_instruction(data)`` raises; fails the test if it decodes."""
    with pytest.raises(DcepError) as info:
        decode_instruction(data)
    return info.value


def decoded_or_none(data: bytes) -> Instruction | None:
    """Decode, or ``None`` for a DcepError; anything else propagates and fails the test."""
    try:
        return decode_instruction(data)
    except DcepError as error:
        refused = error
    assert refused.reason in DECODE_REASONS, refused
    assert isinstance(refused, ValueError)
    return None


def envelope_or_none(data: bytes) -> SignedInstruction | None:
    try:
        return SignedInstruction.from_bytes(data)
    except DcepError as error:
        refused = error
    assert refused.reason in DECODE_REASONS, refused
    assert isinstance(refused, ValueError)
    return None


# --- The strategies themselves ------------------------------------------------


def test_every_kind_has_a_strategy_and_an_example() -> None:
    assert set(KIND_RECORDS) == set(InstructionKind)
    assert set(KIND_STRATEGIES) == set(KIND_RECORDS)
    assert set(EXAMPLES) == set(KIND_RECORDS)
    for kind, instruction in EXAMPLES.items():
        assert type(instruction) is KIND_RECORDS[kind]


# --- Round trips ----------------------------------------------------------------


@pytest.mark.parametrize("kind", list(InstructionKind))
@settings(max_examples=50)  # per kind: 33 kinds, 1,650 instructions in all
@given(data=st.data())
def test_round_trip(kind: InstructionKind, data: st.DataObject) -> None:
    instruction = data.draw(KIND_STRATEGIES[kind])
    # The strategy draws its own kind (so every kind's round trip is tested).
    assert type(instruction) is KIND_RECORDS[kind]
    assert instruction.KIND is kind
    encoded = encode_instruction(instruction)
    decoded = decode_instruction(encoded)
    assert decoded == instruction
    assert type(decoded) is type(instruction)
    # Field by field, the same types too: an Address also equals plain bytes.
    for field in attrs.fields(type(instruction)):
        assert type(getattr(decoded, field.name)) is type(getattr(instruction, field.name))
    # The careful path (bytearray) builds the same values as the fast one (bytes).
    careful = decode_instruction(bytearray(encoded))
    for field in attrs.fields(type(instruction)):
        assert type(getattr(careful, field.name)) is type(getattr(decoded, field.name))
    assert encode_instruction(decoded) == encoded
    # The fixed header, from the documented layout.
    assert encoded[0] == 1
    assert encoded[1] == int(kind)
    assert encoded[2:18] == u128(instruction.id)
    assert encoded[18:26] == u64(instruction.sequence)
    assert decode_instruction(bytearray(encoded)) == instruction
    assert decode_instruction(memoryview(encoded)) == instruction


@given(instruction=instructions)
def test_encoding_is_deterministic(instruction: Instruction) -> None:
    copy = attrs.evolve(instruction)
    assert copy is not instruction
    assert encode_instruction(copy) == encode_instruction(instruction)


@given(instruction=instructions, key=signing_keys, network_id=envelope_network_ids)
def test_signed_round_trip(instruction: Instruction, key: SigningKey, network_id: bytes) -> None:
    signed = SignedInstruction.sign(instruction, key, network_id)
    raw = signed.to_bytes()
    parsed = SignedInstruction.from_bytes(raw)
    assert parsed == signed
    assert parsed.instruction == instruction
    assert parsed.to_bytes() == raw
    assert SignedInstruction.from_bytes(bytearray(raw)) == signed
    # The envelope layout: key, signature, then the instruction's own bytes.
    assert raw[:32] == bytes(key.verify_key)
    assert raw[32:96] == signed.signature
    assert raw[96:] == signed.body == encode_instruction(instruction)
    assert signed.signer == key.verify_key
    # Ed25519 is deterministic: signing again gives the same envelope.
    assert SignedInstruction.sign(instruction, key, network_id).to_bytes() == raw
    parsed.verify(network_id)


@given(instruction=instructions, key=signing_keys, network_id=envelope_network_ids)
def test_signature_covers_the_documented_domain_message(
    instruction: Instruction, key: SigningKey, network_id: bytes
) -> None:
    signed = SignedInstruction.sign(instruction, key, network_id)
    tag = b"dcep/v1/" + instruction.KIND.name.lower().encode("ascii")
    message = tag + b"\x00" + bytes((len(network_id),)) + network_id + signed.body
    # Checked with PyNaCl directly, not through dcep's own wrapper.
    nacl.signing.VerifyKey(bytes(key.verify_key)).verify(message, signed.signature)


# --- Hostile input --------------------------------------------------------------


@given(data=st.binary(max_size=300))
@example(data=b"")
@example(data=b"\x01")
@example(data=b"\x01\x09")
def test_random_bytes_decode_or_raise_dcep_error(data: bytes) -> None:
    decoded = decoded_or_none(data)
    if decoded is not None:
        # There is exactly one encoding of every value.
        assert encode_instruction(decoded) == data


@given(data=st.data(), instruction=instructions)
def test_mutated_encodings_decode_canonically_or_raise(
    data: st.DataObject, instruction: Instruction
) -> None:
    bad = data.draw(mutated(encode_instruction(instruction)))
    decoded = decoded_or_none(bad)
    if decoded is not None:
        assert encode_instruction(decoded) == bad


@given(data=st.binary(max_size=400), network_id=envelope_network_ids)
@example(data=b"", network_id=NETWORK_ID)
@example(data=bytes(95), network_id=NETWORK_ID)
@example(data=bytes(96), network_id=NETWORK_ID)
def test_random_envelopes_parse_or_raise_dcep_error(data: bytes, network_id: bytes) -> None:
    signed = envelope_or_none(data)
    if signed is None:
        return
    assert signed.to_bytes() == data
    # Random keys are often not curve points at all: still only a SignatureError.
    with pytest.raises(SignatureError) as info:
        signed.verify(network_id)
    assert info.value.reason is Reason.SIGNATURE_INVALID


@given(data=st.data(), instruction=instructions, key=signing_keys)
def test_mutated_envelopes_never_verify(
    data: st.DataObject, instruction: Instruction, key: SigningKey
) -> None:
    original = SignedInstruction.sign(instruction, key, NETWORK_ID).to_bytes()
    bad = data.draw(mutated(original))
    signed = envelope_or_none(bad)
    if signed is None or bad == original:
        return
    with pytest.raises(SignatureError) as info:
        signed.verify(NETWORK_ID)
    assert info.value.reason is Reason.SIGNATURE_INVALID


def _read_or_error(read: Callable[[bytes], SignedInstruction], data: bytes) -> object:
    try:
        signed = read(data)
    except DcepError as error:
        return (type(error), error.reason, error.message)
    return (signed, signed.to_bytes(), signed.signer.address, signed.instruction)


@settings(max_examples=60)
@given(
    data=st.data(),
    instruction=instructions,
    keys=st.lists(signing_keys, min_size=1, max_size=4),
    remembered=st.integers(min_value=1, max_value=3),
)
def test_signer_keys_read_every_envelope_as_from_bytes_does(
    data: st.DataObject,
    instruction: Instruction,
    keys: list[SigningKey],
    remembered: int,
) -> None:
    """Reading through remembered keys changes no envelope, error or address, only speed."""
    originals = [SignedInstruction.sign(instruction, key, NETWORK_ID).to_bytes() for key in keys]
    envelopes = data.draw(
        st.lists(
            st.one_of(
                st.sampled_from(originals),
                st.sampled_from(originals).flatmap(mutated),
                st.binary(max_size=120),
            ),
            max_size=12,
        )
    )
    reader = SignerKeys(remembered)
    for envelope in envelopes:
        assert _read_or_error(reader.read, envelope) == _read_or_error(
            SignedInstruction.from_bytes, envelope
        )
        assert len(reader) <= remembered
    # A signer read again while it is remembered is the very key made the first time.
    fresh = SignerKeys(remembered)
    first = fresh.read(originals[0]).signer
    for envelope in originals[1:]:
        fresh.read(envelope)
    again = fresh.read(originals[0]).signer
    assert again == first
    assert again.address == first.address == Address.for_key(first)
    if len({envelope[:32] for envelope in originals}) <= remembered:
        assert again is first


@pytest.mark.parametrize("value", ["\x01\x09", 1, None, ["\x01"]])
def test_non_bytes_are_refused(value: object) -> None:
    with pytest.raises(EncodingError) as info:
        decode_instruction(value)  # type: ignore[arg-type]
    assert info.value.reason is Reason.ENCODING_MALFORMED
    with pytest.raises(EncodingError) as info:
        SignedInstruction.from_bytes(value)  # type: ignore[arg-type]
    assert info.value.reason is Reason.ENCODING_MALFORMED


# --- Specific malformed inputs ----------------------------------------------------


@pytest.mark.parametrize("version", [0, 2, 3, 0x7F, 0xFF])
@pytest.mark.parametrize("kind", list(InstructionKind))
def test_unsupported_version(version: int, kind: InstructionKind) -> None:
    encoded = encode_instruction(EXAMPLES[kind])
    error = refusal(bytes((version,)) + encoded[1:])
    assert isinstance(error, EncodingError)
    assert error.reason is Reason.ENCODING_UNSUPPORTED_VERSION
    assert error.field == "version"
    assert f"version {version}" in str(error)


@pytest.mark.parametrize(
    "kind_byte", [0, max(InstructionKind) + 1, max(InstructionKind) + 2, 0x80, 0xFF]
)
def test_unknown_kind(kind_byte: int) -> None:
    encoded = encode_instruction(EXAMPLES[InstructionKind.TRANSFER])
    error = refusal(encoded[:1] + bytes((kind_byte,)) + encoded[2:])
    assert isinstance(error, EncodingError)
    assert error.reason is Reason.ENCODING_UNKNOWN_KIND
    assert error.field == "kind"
    assert f"kind {kind_byte}" in str(error)


@pytest.mark.parametrize("kind", list(InstructionKind))
def test_every_truncation_is_malformed(kind: InstructionKind) -> None:
    encoded = encode_instruction(EXAMPLES[kind])
    for size in range(len(encoded)):
        error = refusal(encoded[:size])
        assert isinstance(error, EncodingError), size
        assert error.reason is Reason.ENCODING_MALFORMED, size


@pytest.mark.parametrize("kind", list(InstructionKind))
@pytest.mark.parametrize("extra", [b"\x00", b"\x01", b"\xff" * 3, bytes(64)])
def test_trailing_bytes_are_malformed(kind: InstructionKind, extra: bytes) -> None:
    instruction = EXAMPLES[kind]
    error = refusal(encode_instruction(instruction) + extra)
    assert isinstance(error, EncodingError)
    assert error.reason is Reason.ENCODING_MALFORMED
    assert error.instruction_id == instruction.id
    assert f"instruction {instruction.id}" in str(error)
    assert f"{len(extra)} bytes left over" in str(error)


BAD_UTF8 = [
    pytest.param(b"\xff", id="invalid-byte"),
    pytest.param(b"\x80", id="lone-continuation"),
    pytest.param(b"\xc3\x28", id="bad-continuation"),
    pytest.param(b"\xc0\xaf", id="overlong-slash"),
    pytest.param(b"\xed\xa0\x80", id="utf16-surrogate"),
    pytest.param(b"\xe9\x9d", id="cut-short"),
    pytest.param(b"\xf4\x90\x80\x80", id="above-max-code-point"),
]


@pytest.mark.parametrize("raw", BAD_UTF8)
def test_bad_utf8_in_a_memo_is_malformed(raw: bytes) -> None:
    # The same bytes with a good memo decode, so the memo alone is to blame.
    good = decode_instruction(transfer_bytes(memo=text(b"ok")))
    assert isinstance(good, dcep.instructions.Transfer)
    assert good.memo == "ok"
    error = refusal(transfer_bytes(memo=text(b"good " + raw)))
    assert isinstance(error, EncodingError)
    assert error.reason is Reason.ENCODING_MALFORMED
    assert error.field is not None
    assert f"field {error.field}" in str(error)
    assert "UTF-8" in str(error)


@pytest.mark.parametrize("raw", BAD_UTF8)
def test_bad_utf8_in_a_name_is_malformed(raw: bytes) -> None:
    data = header(1) + text(b"PBOC" + raw) + text(b"MA.156.1100.00")
    error = refusal(data)
    assert error.reason is Reason.ENCODING_MALFORMED


@pytest.mark.parametrize("category", [0, 5, 6, 0x80, 0xFF])
def test_bad_category_byte_is_malformed(category: int) -> None:
    good = header(6) + bytes(_key(2)) + bytes((1,)) + text(b"") + b"\xab" * 32
    decoded = decode_instruction(good)
    assert isinstance(decoded, dcep.instructions.OpenWallet)
    assert decoded.category is WalletCategory.IN_PERSON
    bad = header(6) + bytes(_key(2)) + bytes((category,)) + text(b"") + b"\xab" * 32
    error = refusal(bad)
    assert isinstance(error, EncodingError)
    assert error.reason is Reason.ENCODING_MALFORMED
    assert error.field == "category"
    assert str(category) in str(error)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(transfer_bytes(amount=u64(0)), id="transfer"),
        pytest.param(header(4) + u64(0), id="redeem"),
        pytest.param(header(5) + text(b"6222-0001") + u64(0), id="pay-in"),
        pytest.param(header(3) + b"\x33" * 20 + u64(0), id="issue"),
    ],
)
def test_zero_amount_is_not_positive(data: bytes) -> None:
    error = refusal(data)
    assert isinstance(error, AmountError)
    assert error.reason is Reason.AMOUNT_NOT_POSITIVE
    assert error.field == "amount"


@pytest.mark.parametrize("fen", [MAX_AMOUNT_FEN + 1, 2**64 - 1])
def test_amount_above_the_maximum_is_malformed(fen: int) -> None:
    assert decode_instruction(header(4) + u64(MAX_AMOUNT_FEN)) == dcep.instructions.Redeem(
        7, 9, amount=Amount(MAX_AMOUNT_FEN)
    )
    error = refusal(header(4) + u64(fen))
    assert error.reason is Reason.ENCODING_MALFORMED
    assert error.field == "amount"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param(header(4, instruction_id=0) + u64(100), "id", id="id-zero"),
        pytest.param(header(4, sequence=0) + u64(100), "sequence", id="sequence-zero"),
        pytest.param(header(1) + text(b"") + text(b"MA.156.1100.00"), "name", id="empty-name"),
        pytest.param(
            header(1) + text(b"x" * 65) + text(b"MA.156.1100.00"), "name", id="long-name"
        ),
        pytest.param(header(5) + text(b"6222 0001") + u64(100), "account", id="space-in-account"),
        pytest.param(header(5) + text(b"1" * 35) + u64(100), "account", id="long-account"),
        pytest.param(transfer_bytes(memo=text(b"m" * 141)), "memo", id="long-memo"),
    ],
)
def test_out_of_range_fields_are_invalid(data: bytes, field: str) -> None:
    error = refusal(data)
    assert isinstance(error, InvalidFieldError)
    assert error.reason is Reason.FIELD_INVALID
    assert error.field == field


def test_self_payment_bytes_are_refused() -> None:
    error = refusal(transfer_bytes(payer=b"\x11" * 20, payee=b"\x11" * 20))
    assert error.reason is Reason.SELF_PAYMENT
    assert error.field == "payee"


@pytest.mark.parametrize("code", [b"ma.156.1100", b"MA.000.1100", b"MA.156", b"MA.156.11"])
def test_bad_institution_code_is_malformed(code: bytes) -> None:
    error = refusal(header(1) + text(b"PBOC") + text(code))
    assert isinstance(error, EncodingError)
    assert error.reason is Reason.ENCODING_MALFORMED
    assert error.field == "code"


def test_short_envelopes_are_malformed() -> None:
    for size in (0, 1, 32, 95):
        with pytest.raises(EncodingError) as info:
            SignedInstruction.from_bytes(bytes(size))
        assert info.value.reason is Reason.ENCODING_MALFORMED
    # 96 bytes is a whole header with an empty instruction: the body is to blame.
    with pytest.raises(EncodingError) as info:
        SignedInstruction.from_bytes(bytes(96))
    assert info.value.reason is Reason.ENCODING_MALFORMED


# --- Known answers, computed by hand from the documented layout -------------------


def test_known_transfer_bytes() -> None:
    instruction = dcep.instructions.Transfer(
        1, 2, payer=PAYER, payee=PAYEE, amount=dcep.cny("12.50"), memo="noodles"
    )
    expected = bytes.fromhex(
        "01"  # encoding version
        "09"  # Kind.TRANSFER
        "00000000000000000000000000000001"  # id 1, 16 bytes big-endian
        "0000000000000002"  # sequence 2, 8 bytes
        "1111111111111111111111111111111111111111"  # payer, 20 bytes
        "2222222222222222222222222222222222222222"  # payee, 20 bytes
        "00000000000004e2"  # 1250 fen = 4 * 256 + 226
        "07"  # memo length
        "6e6f6f646c6573"  # "noodles"
    )
    assert len(expected) == 82
    assert encode_instruction(instruction) == expected
    assert decode_instruction(expected) == instruction


def test_known_transfer_with_a_chinese_memo() -> None:
    # U+9762 = 1001 011101 100010 -> 1110_1001 10_011101 10_100010 = e9 9d a2.
    # U+6761 = 0110 011101 100001 -> 1110_0110 10_011101 10_100001 = e6 9d a1.
    expected = bytes.fromhex(
        "0109"
        "00000000000000000000000000000009"
        "0000000000000009"
        "1111111111111111111111111111111111111111"
        "2222222222222222222222222222222222222222"
        "00000000000004e2"
        "06e99da2e69da1"
    )
    assert encode_instruction(EXAMPLES[InstructionKind.TRANSFER]) == expected
    assert decode_instruction(expected) == EXAMPLES[InstructionKind.TRANSFER]


def test_known_redeem_bytes_at_the_extremes() -> None:
    instruction = dcep.instructions.Redeem(2**128 - 1, 2**64 - 1, amount=Amount(MAX_AMOUNT_FEN))
    expected = bytes.fromhex("0104" + "ff" * 16 + "ff" * 8 + "7fffffffffffffff")
    assert encode_instruction(instruction) == expected
    assert decode_instruction(expected) == instruction


def test_known_genesis_bytes() -> None:
    instruction = dcep.instructions.Genesis(
        1, 1, name="PBOC", code=InstitutionCode.parse("MA.156.1100.00")
    )
    expected = bytes.fromhex(
        "0101"
        "00000000000000000000000000000001"
        "0000000000000001"
        "04" + "50424f43"  # "PBOC"
        "0e" + "4d412e3135362e313130302e3030"  # "MA.156.1100.00", 14 characters
    )
    assert encode_instruction(instruction) == expected
    assert decode_instruction(expected) == instruction


def test_known_open_wallet_bytes() -> None:
    expected = bytes.fromhex(
        "0106"
        "00000000000000000000000000000006"
        "0000000000000006"
        + bytes(_key(2)).hex()  # wallet key
        + "02"  # category 2
        + "09"
        + "363232322d30303031"  # "6222-0001"
        + "ab" * 32  # KYC digest
    )
    assert encode_instruction(EXAMPLES[InstructionKind.OPEN_WALLET]) == expected
    assert decode_instruction(expected) == EXAMPLES[InstructionKind.OPEN_WALLET]


def test_known_envelope_layout() -> None:
    key = SigningKey(bytes(range(1, 33)))
    instruction = EXAMPLES[InstructionKind.REDEEM]
    signed = SignedInstruction.sign(instruction, key, b"net")
    body = header(4, 4, 4) + u64(10000)
    message = b"dcep/v1/redeem\x00\x03net" + body
    assert signed.body == body
    assert signed.to_bytes() == bytes(key.verify_key) + key.sign(message) + body
    assert len(signed.to_bytes()) == ENVELOPE_HEADER_SIZE + HEADER_SIZE + 8


# --- Domain separation ------------------------------------------------------------


def test_domain_tags_are_distinct_and_documented() -> None:
    tags = {kind: domain_tag(kind) for kind in InstructionKind}
    assert len(set(tags.values())) == len(InstructionKind)
    assert tags[InstructionKind.TRANSFER] == b"dcep/v1/transfer"
    assert tags[InstructionKind.AUTHORISE_BANK] == b"dcep/v1/authorise_bank"
    assert tags[InstructionKind.PAY_IN] == b"dcep/v1/pay_in"


def _signed_under(
    instruction: Instruction, key: SigningKey, tag: bytes, network_id: bytes
) -> SignedInstruction:
    body = encode_instruction(instruction)
    return SignedInstruction(key.verify_key, key.sign(domain_message(tag, network_id, body)), body)


@pytest.mark.parametrize(
    ("signed_as", "kind"),
    list(itertools.permutations(InstructionKind, 2)),
)
def test_a_signature_for_one_kind_does_not_verify_for_another(
    signed_as: InstructionKind, kind: InstructionKind
) -> None:
    key = SigningKey(b"\x42" * 32)
    instruction = EXAMPLES[kind]
    # Signed under its own kind's tag it verifies, so the refusal below is the tag's doing.
    _signed_under(instruction, key, domain_tag(kind), NETWORK_ID).verify(NETWORK_ID)
    wrong = _signed_under(instruction, key, domain_tag(signed_as), NETWORK_ID)
    with pytest.raises(SignatureError) as info:
        wrong.verify(NETWORK_ID)
    assert info.value.reason is Reason.SIGNATURE_INVALID
    assert info.value.instruction_id == instruction.id
    assert info.value.party == str(key.address)


@given(
    instruction=instructions,
    key=signing_keys,
    networks=st.lists(envelope_network_ids, min_size=2, max_size=2, unique=True),
)
@example(
    instruction=EXAMPLES[InstructionKind.TRANSFER],
    key=SigningKey(b"\x01" * 32),
    networks=[b"dcep", b"dcep-sim"],
)
@example(
    instruction=EXAMPLES[InstructionKind.TRANSFER],
    key=SigningKey(b"\x01" * 32),
    networks=[b"a", b"a\x00"],
)
def test_a_signature_for_one_network_does_not_verify_on_another(
    instruction: Instruction, key: SigningKey, networks: list[bytes]
) -> None:
    ours, theirs = networks
    signed = SignedInstruction.sign(instruction, key, ours)
    signed.verify(ours)
    with pytest.raises(SignatureError) as info:
        signed.verify(theirs)
    assert info.value.reason is Reason.SIGNATURE_INVALID
    assert info.value.instruction_id == instruction.id


@given(instruction=instructions, key=signing_keys, other=signing_keys)
def test_a_signature_by_one_key_does_not_verify_for_another(
    instruction: Instruction, key: SigningKey, other: SigningKey
) -> None:
    signed = SignedInstruction.sign(instruction, key, NETWORK_ID)
    forged = SignedInstruction(other.verify_key, signed.signature, signed.body)
    if other.verify_key == key.verify_key:
        forged.verify(NETWORK_ID)
        return
    with pytest.raises(SignatureError):
        forged.verify(NETWORK_ID)


@pytest.mark.parametrize("size", [0, 63, 65, 128])
def test_a_signature_of_the_wrong_length_does_not_verify(size: int) -> None:
    instruction = EXAMPLES[InstructionKind.FUND]
    signed = SignedInstruction(
        SigningKey(b"\x07" * 32).verify_key, b"\x00" * size, encode_instruction(instruction)
    )
    with pytest.raises(SignatureError) as info:
        signed.verify(NETWORK_ID)
    assert info.value.reason is Reason.SIGNATURE_INVALID
    assert info.value.instruction_id == instruction.id
    assert isinstance(info.value, PermissionError)


def test_body_and_instruction_cannot_disagree() -> None:
    signed = SignedInstruction.sign(
        EXAMPLES[InstructionKind.ISSUE], SigningKey(b"\x09" * 32), NETWORK_ID
    )
    assert signed.instruction == decode_instruction(signed.body)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        signed.body = b""  # type: ignore[misc]


def test_pynacl_refuses_a_wrong_message() -> None:
    # The direct PyNaCl check above can fail: a message other than the signed one is refused.
    key = SigningKey(b"\x05" * 32)
    signature = key.sign(b"one message")
    with pytest.raises(nacl.exceptions.BadSignatureError):
        nacl.signing.VerifyKey(bytes(key.verify_key)).verify(b"another", signature)


#: Public keys that verify no signature: the identity, a point of small order,
#: a non-canonical encoding and a string that is no point at all.
NOT_POINTS = (
    bytes([1]) + bytes(31),
    bytes(32),
    bytes([0xEC]) + b"\xff" * 30 + bytes([0x7F]),
    b"\xff" * 32,
)


#: Every kind that binds a new key, and the field that holds it.
KEY_FIELDS = [
    (InstructionKind.AUTHORISE_BANK, "bank_key"),
    (InstructionKind.OPEN_WALLET, "wallet_key"),
    (InstructionKind.APPOINT_REGULATOR, "regulator_key"),
    (InstructionKind.OPEN_SUB_WALLET, "sub_wallet_key"),
    (InstructionKind.REGISTER_DEVICE, "device_key"),
    (InstructionKind.OPEN_CORPORATE_WALLET, "wallet_key"),
]


@pytest.mark.parametrize("raw", NOT_POINTS, ids=["identity", "order-4", "non-canonical", "none"])
@pytest.mark.parametrize(("kind", "field"), KEY_FIELDS)
def test_a_key_that_can_sign_nothing_is_never_bound(
    kind: InstructionKind, field: str, raw: bytes
) -> None:
    assert not VerifyKey(raw).is_valid_point()
    with pytest.raises(dcep.InvalidFieldError) as caught:
        attrs.evolve(EXAMPLES[kind], **{field: VerifyKey(raw)})  # type: ignore[arg-type]
    assert (caught.value.reason, caught.value.field) == (Reason.FIELD_INVALID, field)
    # Nor from the wire: the example's bytes with the key swapped are refused alike.
    good = bytes(getattr(EXAMPLES[kind], field))
    encoded = encode_instruction(EXAMPLES[kind])
    assert encoded.count(good) == 1
    with pytest.raises(dcep.InvalidFieldError):
        decode_instruction(encoded.replace(good, raw))


def test_the_kinds_said_to_bind_keys_are_those_whose_records_check_one() -> None:
    assert {kind: (field,) for kind, field in KEY_FIELDS} == NEW_KEY_FIELDS


@given(data=st.data(), kind_field=st.sampled_from(KEY_FIELDS), key=signing_keys)
def test_workers_name_only_keys_that_are_valid_points(
    data: st.DataObject, kind_field: tuple[InstructionKind, str], key: SigningKey
) -> None:
    """What a sentinel worker hands the sequencer as checked keys really are valid points."""
    kind, field = kind_field
    instruction = data.draw(KIND_STRATEGIES[kind])
    envelope = SignedInstruction.sign(instruction, key, NETWORK_ID).to_bytes()
    bound = bytes(getattr(instruction, field))
    assert _new_keys(envelope) == [bound]
    swapped = envelope[:96] + envelope[96:].replace(bound, data.draw(st.sampled_from(NOT_POINTS)))
    assert _new_keys(swapped) == []
    for damaged in (data.draw(mutated(envelope)), data.draw(st.binary(max_size=200))):
        for raw in _new_keys(damaged):
            assert nacl.bindings.crypto_core_ed25519_is_valid_point(raw)


@given(raw=st.one_of(st.binary(min_size=32, max_size=32), st.sampled_from(NOT_POINTS)))
def test_a_key_noted_as_checked_elsewhere_is_taken_once_then_checked_again(raw: bytes) -> None:
    key = VerifyKey(raw)
    checked = bool(nacl.bindings.crypto_core_ed25519_is_valid_point(raw))
    assert key.is_valid_point() is checked
    note_valid_points([raw])
    assert key.is_valid_point()
    assert key.is_valid_point() is checked


def _verifies(envelope: bytes, network_id: bytes) -> bool:
    try:
        SignedInstruction.from_bytes(envelope).verify(network_id)
    except DcepError:
        return False
    return True


@given(
    data=st.data(),
    instruction=instructions,
    key=signing_keys,
    network_id=st.one_of(envelope_network_ids, st.binary(min_size=65, max_size=80)),
)
def test_a_workers_verdict_is_whether_the_envelope_verifies(
    data: st.DataObject, instruction: Instruction, key: SigningKey, network_id: bytes
) -> None:
    """A sentinel worker's check, from a table of prefixes, agrees with the sequencer's own."""
    signed_for = data.draw(st.sampled_from([network_id, NETWORK_ID]))
    envelope = SignedInstruction.sign(instruction, key, signed_for[:64]).to_bytes()
    for candidate in (envelope, data.draw(mutated(envelope)), data.draw(st.binary(max_size=200))):
        assert _signature_is_good(candidate, network_id) is _verifies(candidate, network_id)
