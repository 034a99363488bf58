"""Tests of dcep.values._crypto: RFC 8032 vectors, key value semantics, addresses, domains."""

from __future__ import annotations

import hashlib
import hmac
import json
import pickle
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dcep.errors import DcepError, InvalidFieldError, Reason, SignatureError
from dcep.values._crypto import (
    ADDRESS_SIZE,
    MAX_NETWORK_ID_SIZE,
    Address,
    SigningKey,
    VerifyKey,
    derive_seed,
    digest,
    domain_message,
)

from .strategies import address_bytes, key_seeds, network_ids

DATA_FILE = Path(__file__).parent / "data" / "rfc8032_ed25519.json"

# The order of the Ed25519 base point, RFC 8032 section 5.1.
ED25519_L = 2**252 + 27742317777372353535851937790883648493


class Vector(NamedTuple):
    name: str
    seed: bytes
    public_key: bytes
    message: bytes
    signature: bytes


def _hex_field(entry: dict[object, object], key: str, size: int | None) -> bytes:
    value = entry.get(key)
    if not isinstance(value, str):
        raise TypeError(f"{key!r} must be a hex string, not {value!r}")
    data = bytes.fromhex(value)
    if size is not None and len(data) != size:
        raise ValueError(f"{key!r} must be {size} bytes, not {len(data)}")
    return data


def _load_vectors(path: Path) -> list[Vector]:
    document: object = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise TypeError("the vector file must hold a JSON object")
    entries: object = document.get("vectors")
    if not isinstance(entries, list):
        raise TypeError("'vectors' must be a JSON array")
    vectors: list[Vector] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise TypeError("each vector must be a JSON object")
        name: object = entry.get("name")
        if not isinstance(name, str):
            raise TypeError("each vector needs a string 'name'")
        vectors.append(
            Vector(
                name=name,
                seed=_hex_field(entry, "secret_key", 32),
                public_key=_hex_field(entry, "public_key", 32),
                message=_hex_field(entry, "message", None),
                signature=_hex_field(entry, "signature", 64),
            )
        )
    return vectors


VECTORS = _load_vectors(DATA_FILE)


def _vector_id(vector: Vector) -> str:
    return vector.name


def _flip_bit(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


def _assert_signature_invalid(key: VerifyKey, message: bytes, signature: bytes) -> None:
    with pytest.raises(PermissionError) as info:
        key.verify(message, signature)
    assert isinstance(info.value, SignatureError)
    assert info.value.reason is Reason.SIGNATURE_INVALID


# Bytes without NUL, as domain tags must be.
tags = st.lists(st.integers(min_value=1, max_value=255), max_size=12).map(bytes)
# Seeds, addresses and network ids (the empty one included): tests/strategies.py.


# --- The vector file itself -------------------------------------------------


def test_vector_file_holds_the_five_rfc_tests_with_their_message_lengths() -> None:
    # Lengths as stated in RFC 8032 section 7.1.
    assert [(v.name, len(v.message)) for v in VECTORS] == [
        ("TEST 1", 0),
        ("TEST 2", 1),
        ("TEST 3", 2),
        ("TEST 1024", 1023),
        ("TEST SHA(abc)", 64),
    ]


def test_sha_abc_vector_message_is_sha512_of_abc() -> None:
    (vector,) = [v for v in VECTORS if v.name == "TEST SHA(abc)"]
    assert vector.message == hashlib.sha512(b"abc").digest()


# --- RFC 8032 through dcep's wrapper ----------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=_vector_id)
def test_rfc8032_public_key(vector: Vector) -> None:
    assert bytes(SigningKey(vector.seed).verify_key) == vector.public_key


@pytest.mark.parametrize("vector", VECTORS, ids=_vector_id)
def test_rfc8032_signature(vector: Vector) -> None:
    assert SigningKey(vector.seed).sign(vector.message) == vector.signature


@pytest.mark.parametrize("vector", VECTORS, ids=_vector_id)
def test_rfc8032_signature_verifies(vector: Vector) -> None:
    VerifyKey(vector.public_key).verify(vector.message, vector.signature)


@pytest.mark.parametrize("vector", VECTORS, ids=_vector_id)
def test_every_flipped_signature_bit_is_refused(vector: Vector) -> None:
    key = VerifyKey(vector.public_key)
    for bit in range(len(vector.signature) * 8):
        _assert_signature_invalid(key, vector.message, _flip_bit(vector.signature, bit))


@pytest.mark.parametrize("vector", [v for v in VECTORS if v.message], ids=_vector_id)
def test_every_flipped_message_bit_is_refused(vector: Vector) -> None:
    key = VerifyKey(vector.public_key)
    for bit in range(len(vector.message) * 8):
        _assert_signature_invalid(key, _flip_bit(vector.message, bit), vector.signature)


@pytest.mark.parametrize("vector", VECTORS, ids=_vector_id)
def test_extended_or_truncated_message_is_refused(vector: Vector) -> None:
    key = VerifyKey(vector.public_key)
    _assert_signature_invalid(key, vector.message + b"\x00", vector.signature)
    if vector.message:
        _assert_signature_invalid(key, vector.message[:-1], vector.signature)


@pytest.mark.parametrize("vector", VECTORS, ids=_vector_id)
def test_signature_under_any_other_key_is_refused(vector: Vector) -> None:
    for other in VECTORS:
        if other.public_key != vector.public_key:
            _assert_signature_invalid(
                VerifyKey(other.public_key), vector.message, vector.signature
            )


def test_malleated_signature_with_s_plus_l_is_refused() -> None:
    # (R, S + L) satisfies the group equation but is not canonical (RFC 8032 5.1.7).
    vector = VECTORS[0]
    s = int.from_bytes(vector.signature[32:], "little")
    assert s < ED25519_L
    malleated = vector.signature[:32] + (s + ED25519_L).to_bytes(32, "little")
    _assert_signature_invalid(VerifyKey(vector.public_key), vector.message, malleated)


def test_small_order_public_key_is_refused() -> None:
    # The encoding of y = 0 is a point of order 4; no signature may verify for it.
    vector = VECTORS[0]
    _assert_signature_invalid(VerifyKey(bytes(32)), vector.message, vector.signature)


@settings(deadline=None)
@given(seed=key_seeds, message=st.binary(max_size=256))
def test_sign_then_verify_round_trip(seed: bytes, message: bytes) -> None:
    key = SigningKey(seed)
    key.verify_key.verify(message, key.sign(message))


# --- Key value semantics ----------------------------------------------------


@given(seed=key_seeds)
def test_equal_seeds_give_equal_keys_with_equal_hashes(seed: bytes) -> None:
    first, second = SigningKey(seed), SigningKey(bytes(bytearray(seed)))
    assert first is not second
    assert first == second
    assert hash(first) == hash(second)
    assert first.verify_key == second.verify_key
    assert hash(first.verify_key) == hash(second.verify_key)
    assert len({first, second}) == 1
    assert len({first.verify_key, second.verify_key}) == 1


@given(seed_a=key_seeds, seed_b=key_seeds)
def test_distinct_seeds_give_distinct_keys(seed_a: bytes, seed_b: bytes) -> None:
    if seed_a == seed_b:
        return
    key_a, key_b = SigningKey(seed_a), SigningKey(seed_b)
    assert key_a != key_b
    assert key_a.verify_key != key_b.verify_key
    assert key_a.address != key_b.address
    assert len({key_a, key_b}) == 2


def test_verify_key_from_raw_bytes_equals_derived_one() -> None:
    for vector in VECTORS:
        raw = VerifyKey(vector.public_key)
        derived = SigningKey(vector.seed).verify_key
        assert raw == derived
        assert hash(raw) == hash(derived)
        assert {raw: vector.name}[derived] == vector.name
        assert bytes(raw) == vector.public_key


def test_keys_are_not_equal_to_their_raw_bytes_or_each_other() -> None:
    vector = VECTORS[0]
    signing_key = SigningKey(vector.seed)
    seed: object = vector.seed
    public: object = vector.public_key
    verify_key: object = signing_key.verify_key
    assert signing_key != seed
    assert signing_key.verify_key != public
    assert signing_key != verify_key


def test_key_equality_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real_compare = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    vector = VECTORS[0]
    assert SigningKey(vector.seed) == SigningKey(vector.seed)
    assert (vector.seed, vector.seed) in compared
    compared.clear()
    assert VerifyKey(vector.public_key) == VerifyKey(vector.public_key)
    assert (vector.public_key, vector.public_key) in compared


@pytest.mark.parametrize("vector", VECTORS, ids=_vector_id)
def test_signing_key_repr_and_str_hide_the_seed(vector: Vector) -> None:
    key = SigningKey(vector.seed)
    for text in (repr(key), str(key)):
        assert vector.seed.hex() not in text
        assert vector.seed.hex().upper() not in text
        assert repr(vector.seed) not in text
    assert vector.public_key.hex() in repr(key)


def test_signing_key_derive_matches_derive_seed() -> None:
    parent = bytes(range(32))
    assert SigningKey.derive(parent, "bank:A") == SigningKey(derive_seed(parent, "bank:A"))


# --- derive_seed --------------------------------------------------------------


def test_derive_seed_takes_parents_up_to_blake2bs_longest_key() -> None:
    assert len(derive_seed(bytes(64), "wallet:1")) == 32
    with pytest.raises(InvalidFieldError) as info:
        SigningKey.derive(bytes(65), "wallet:1")
    assert info.value.reason is Reason.FIELD_INVALID
    assert isinstance(info.value, ValueError)


@given(parent=key_seeds, label=st.text())
def test_derive_seed_is_deterministic_and_32_bytes(parent: bytes, label: str) -> None:
    seed = derive_seed(parent, label)
    assert len(seed) == 32
    assert derive_seed(bytes(bytearray(parent)), str(label)) == seed


@given(parent=key_seeds, label_a=st.text(), label_b=st.text())
@example(parent=bytes(32), label_a="wallet:1", label_b="wallet:10")
@example(parent=bytes(32), label_a="", label_b="\x00")
def test_derive_seed_separates_labels(parent: bytes, label_a: str, label_b: str) -> None:
    if label_a == label_b:
        return
    assert derive_seed(parent, label_a) != derive_seed(parent, label_b)


@given(parent_a=key_seeds, parent_b=key_seeds, label=st.text())
def test_derive_seed_separates_parents(parent_a: bytes, parent_b: bytes, label: str) -> None:
    if parent_a == parent_b:
        return
    assert derive_seed(parent_a, label) != derive_seed(parent_b, label)


def test_derived_seed_is_not_the_parent() -> None:
    parent = bytes(32)
    assert derive_seed(parent, "") != parent


@given(
    first=st.binary(max_size=300),
    second=st.binary(max_size=300),
    person=st.binary(max_size=16),
)
def test_digest_is_personalised_blake2b_256(first: bytes, second: bytes, person: bytes) -> None:
    # The ledger copies one hasher per personalisation: copies must not leak
    # into each other or into the next call.
    def reference(data: bytes) -> bytes:
        return hashlib.blake2b(data, digest_size=32, person=person).digest()

    assert digest(first, person=person) == reference(first)
    assert digest(second, person=person) == reference(second)
    assert digest(first, person=person) == reference(first)
    assert digest(first) == hashlib.blake2b(first, digest_size=32).digest()


# --- Addresses --------------------------------------------------------------


def test_address_text_of_hand_worked_bytes() -> None:
    # 20 zero bytes are 160 zero bits: 32 base32 'a's; 0xff bytes are 32 '7's.
    assert str(Address(bytes(20))) == "dcep1" + "a" * 32
    assert str(Address(b"\xff" * 20)) == "dcep1" + "7" * 32
    assert Address.parse("dcep1" + "a" * 32) == Address(bytes(20))
    assert Address.parse("dcep1" + "7" * 32) == Address(b"\xff" * 20)


@given(seed=key_seeds)
def test_address_for_key(seed: bytes) -> None:
    key = SigningKey(seed)
    address = Address.for_key(key.verify_key)
    assert len(bytes(address)) == ADDRESS_SIZE
    assert address == key.address == key.verify_key.address
    assert hash(address) == hash(Address.for_key(VerifyKey(bytes(key.verify_key))))


@given(raw=address_bytes)
def test_address_text_round_trip(raw: bytes) -> None:
    address = Address(raw)
    text = str(address)
    assert text.startswith("dcep1")
    assert len(text) == len("dcep1") + 32
    assert set(text[5:]) <= set("abcdefghijklmnopqrstuvwxyz234567")
    parsed = Address.parse(text)
    assert parsed == address
    assert bytes(parsed) == raw
    assert hash(parsed) == hash(address)
    assert repr(address) == f"Address({text!r})"


@given(
    raw=address_bytes,
    other=address_bytes,
)
def test_address_is_its_bytes(raw: bytes, other: bytes) -> None:
    # Hashes, compares and orders as its 20 bytes, so dict lookups stay in C.
    address = Address(raw)
    assert isinstance(address, bytes)
    assert address == raw
    assert hash(address) == hash(raw)
    assert (address == Address(other)) is (raw == other)
    assert (address < Address(other)) is (raw < other)
    assert type(bytes(address)) is bytes
    assert bytes(address) == raw
    assert Address(address) == address
    assert {address: 1}.get(Address(raw)) == 1
    copied = pickle.loads(pickle.dumps(address))
    assert type(copied) is Address
    assert copied == address
    assert str(copied) == str(address)
    assert f"{address}" == str(address)


def test_address_has_no_instance_dict() -> None:
    # A million wallets are keyed by addresses: no per-address __dict__.
    with pytest.raises(AttributeError):
        Address(bytes(20)).note = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "dcep1",
        "dcep",
        "a" * 37,
        "DCEP1" + "a" * 32,
        "dcep2" + "a" * 32,
        " dcep1" + "a" * 32,
        "dcep1" + "a" * 32 + " ",
        "dcep1" + "a" * 31,
        "dcep1" + "a" * 33,
        "dcep1" + "a" * 40,
        "dcep1" + "a" * 24 + "=" * 8,
        "dcep1" + "1" * 32,
        "dcep1" + "0" * 32,
        "dcep1" + "8" * 32,
        "dcep1" + "a" * 31 + "!",
        "dcep1" + "é" * 32,
    ],
)
def test_malformed_address_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidFieldError) as info:
        Address.parse(text)
    assert isinstance(info.value, ValueError)
    assert info.value.reason is Reason.FIELD_INVALID


# --- Domain separation ------------------------------------------------------


def test_domain_message_layout() -> None:
    assert domain_message(b"pay", b"net", b"m") == b"pay\x00\x03netm"
    assert domain_message(b"", b"", b"") == b"\x00\x00"
    assert domain_message(b"t", b"n" * 64, b"xy") == b"t\x00\x40" + b"n" * 64 + b"xy"


@settings(deadline=None)
@given(
    seed=key_seeds,
    tag_a=tags,
    tag_b=tags,
    network_a=network_ids(),
    network_b=network_ids(),
    message_a=st.binary(max_size=64),
    message_b=st.binary(max_size=64),
)
# Without the length prefix, these two would sign the same bytes.
@example(
    seed=bytes(32),
    tag_a=b"t",
    tag_b=b"t",
    network_a=b"x",
    network_b=b"xy",
    message_a=b"y",
    message_b=b"",
)
# Without the NUL terminator, these two would sign the same bytes.
@example(
    seed=bytes(32),
    tag_a=b"ab",
    tag_b=b"a",
    network_a=b"",
    network_b=b"",
    message_a=b"",
    message_b=b"b",
)
def test_signature_does_not_cross_domains(
    seed: bytes,
    tag_a: bytes,
    tag_b: bytes,
    network_a: bytes,
    network_b: bytes,
    message_a: bytes,
    message_b: bytes,
) -> None:
    if (tag_a, network_a) == (tag_b, network_b):
        return
    key = SigningKey(seed)
    signature = key.sign(domain_message(tag_a, network_a, message_a))
    key.verify_key.verify(domain_message(tag_a, network_a, message_a), signature)
    _assert_signature_invalid(
        key.verify_key, domain_message(tag_b, network_b, message_b), signature
    )


@given(
    tag_a=tags,
    tag_b=tags,
    network_a=network_ids(),
    network_b=network_ids(),
    message_a=st.binary(max_size=16),
    message_b=st.binary(max_size=16),
)
@example(tag_a=b"t", tag_b=b"t", network_a=b"x", network_b=b"xy", message_a=b"y", message_b=b"")
@example(tag_a=b"ab", tag_b=b"a", network_a=b"", network_b=b"", message_a=b"", message_b=b"b")
def test_domain_message_is_injective(
    tag_a: bytes,
    tag_b: bytes,
    network_a: bytes,
    network_b: bytes,
    message_a: bytes,
    message_b: bytes,
) -> None:
    signed_a = domain_message(tag_a, network_a, message_a)
    signed_b = domain_message(tag_b, network_b, message_b)
    same_inputs = (tag_a, network_a, message_a) == (tag_b, network_b, message_b)
    assert (signed_a == signed_b) == same_inputs


@given(prefix=st.binary(max_size=8), suffix=st.binary(max_size=8), network=network_ids())
def test_domain_tag_with_nul_is_refused(prefix: bytes, suffix: bytes, network: bytes) -> None:
    with pytest.raises(InvalidFieldError) as info:
        domain_message(prefix + b"\x00" + suffix, network, b"message")
    assert info.value.reason is Reason.FIELD_INVALID


@given(network=st.binary(min_size=MAX_NETWORK_ID_SIZE + 1, max_size=300))
def test_over_long_network_id_is_refused(network: bytes) -> None:
    with pytest.raises(InvalidFieldError) as info:
        domain_message(b"tag", network, b"message")
    assert info.value.reason is Reason.FIELD_INVALID
    assert info.value.field == "network_id"


def test_network_id_at_the_limit_is_accepted() -> None:
    assert MAX_NETWORK_ID_SIZE == 64
    signed = domain_message(b"tag", b"\xff" * 64, b"")
    assert signed == b"tag\x00\x40" + b"\xff" * 64


# --- Wrong sizes and types --------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 31, 33, 64])
def test_seed_of_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(InvalidFieldError) as info:
        SigningKey(b"\x01" * size)
    assert info.value.reason is Reason.FIELD_INVALID
    assert info.value.field == "seed"


@pytest.mark.parametrize("size", [0, 1, 31, 33, 64])
def test_public_key_of_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(InvalidFieldError) as info:
        VerifyKey(b"\x01" * size)
    assert info.value.reason is Reason.FIELD_INVALID
    assert info.value.field == "public key"


@pytest.mark.parametrize("size", [0, 19, 21, 32])
def test_address_of_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(InvalidFieldError) as info:
        Address(b"\x01" * size)
    assert info.value.reason is Reason.FIELD_INVALID
    assert info.value.field == "address"


def test_raw_key_material_must_be_bytes() -> None:
    with pytest.raises(InvalidFieldError):
        SigningKey("k" * 32)  # type: ignore[arg-type]
    with pytest.raises(InvalidFieldError):
        SigningKey(bytearray(32))  # type: ignore[arg-type]
    with pytest.raises(InvalidFieldError):
        VerifyKey(list(range(32)))  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, 1, 63, 65, 128])
def test_signature_of_wrong_size_is_refused(size: int) -> None:
    vector = VECTORS[0]
    signature = (vector.signature * 2)[:size]
    _assert_signature_invalid(VerifyKey(vector.public_key), vector.message, signature)


def test_errors_are_dcep_errors_and_builtins() -> None:
    assert issubclass(SignatureError, DcepError)
    assert issubclass(SignatureError, PermissionError)
    assert issubclass(InvalidFieldError, DcepError)
    assert issubclass(InvalidFieldError, ValueError)
