"""Ed25519 keys, addresses and domain-separated signatures over PyNaCl.

Keys are value objects in the manner of PyNaCl's own: ``bytes()`` gives
their raw form, they hash, and equality is constant-time.  Nothing here
implements a primitive: signing and verification are libsodium's, hashing is
BLAKE2b from the standard library.

Every signature dcep makes covers ``domain tag ‖ network id ‖ message``
(see :func:`domain_message`), so a signature made for one kind of instruction,
or on one ledger, verifies for no other.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Iterable
from typing import Final, final

import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.signing

from dcep.errors import InvalidFieldError, Reason, SignatureError

__all__ = [
    "ADDRESS_SIZE",
    "DEFAULT_NETWORK_ID",
    "PUBLIC_KEY_SIZE",
    "SEED_SIZE",
    "SIGNATURE_SIZE",
    "Address",
    "SigningKey",
    "VerifyKey",
    "derive_seed",
    "digest",
    "domain_message",
    "note_valid_points",
]

SEED_SIZE: Final = 32
PUBLIC_KEY_SIZE: Final = 32
SIGNATURE_SIZE: Final = 64
ADDRESS_SIZE: Final = 20
_ADDRESS_PREFIX: Final = "dcep1"
_ADDRESS_PERSON: Final = b"dcep.address"
_SEED_PERSON: Final = b"dcep.seed"
#: BLAKE2b's longest key.
_MAX_PARENT_SEED_SIZE: Final = 64
MAX_NETWORK_ID_SIZE: Final = 64
#: The network id of a ledger created without one.
DEFAULT_NETWORK_ID: Final = "dcep-sim"


def digest(data: bytes, *, person: bytes = b"") -> bytes:
    """BLAKE2b-256 of ``data``, personalised so that uses never collide."""
    # Copying a hasher already set up for ``person`` costs about a third less
    # than setting one up, and the journal hashes several times per entry.
    hasher = _personalised(person).copy()
    hasher.update(data)
    return hasher.digest()


@functools.lru_cache(maxsize=64)
def _personalised(person: bytes) -> hashlib.blake2b:
    # Never updated itself: only its copies are.
    return hashlib.blake2b(digest_size=32, person=person)


def derive_seed(parent: bytes, label: str) -> bytes:
    """A 32-byte seed for ``label``, derived from ``parent`` by keyed BLAKE2b.

    Simulations get every key from one seed, so a run repeats byte for byte;
    distinct labels give independent keys.
    """
    if len(parent) > _MAX_PARENT_SEED_SIZE:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"a parent seed is at most {_MAX_PARENT_SEED_SIZE} bytes, not {parent!r:.40}",
            field="seed",
        )
    return hashlib.blake2b(
        label.encode("utf-8"), digest_size=SEED_SIZE, key=parent, person=_SEED_PERSON
    ).digest()


def domain_message(tag: bytes, network_id: bytes, message: bytes) -> bytes:
    """The bytes actually signed: ``tag ‖ len ‖ network id ‖ message``.

    The tag names the kind of message and ends in a NUL, and the network id is
    length-prefixed, so no choice of message can make two domains overlap.
    """
    return _domain_prefix(tag, network_id) + message


@functools.lru_cache(maxsize=256)
def _domain_prefix(tag: bytes, network_id: bytes) -> bytes:
    # Checked and built once per (kind, network): every signature check asks.
    if b"\x00" in tag:
        raise InvalidFieldError(Reason.FIELD_INVALID, "a domain tag cannot contain NUL")
    if len(network_id) > MAX_NETWORK_ID_SIZE:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"a network id is at most {MAX_NETWORK_ID_SIZE} bytes",
            field="network_id",
        )
    return b"".join((tag, b"\x00", bytes((len(network_id),)), network_id))


def _require_bytes(value: object, size: int, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != size:
        raise InvalidFieldError(
            Reason.FIELD_INVALID, f"{what} must be exactly {size} bytes", field=what
        )
    return value


#: Public keys that this same check passed in another process (a sentinel
#: worker, see ``note_valid_points``), each taken on its word once.  At most
#: this many are held: more than a replay's workers have in flight.
_POINTS_CHECKED_ELSEWHERE_MAX: Final = 1 << 14
_POINTS_CHECKED_ELSEWHERE: set[bytes] = set()


def note_valid_points(keys: Iterable[bytes]) -> None:
    """Let :meth:`VerifyKey.is_valid_point` take ``keys`` as checked, once each.

    For keys that libsodium's point check passed in another process of this
    program (a :class:`~dcep.core.SentinelPool` worker decoding a replayed
    entry ahead of the sequencer): the sequencer, decoding the same entry,
    then spares the check, about 40 µs a key.  Nothing else may call it:
    a key noted here is accepted as a valid point without being checked.
    """
    known = _POINTS_CHECKED_ELSEWHERE
    noted = list(keys)
    if len(known) + len(noted) > _POINTS_CHECKED_ELSEWHERE_MAX:
        known.clear()  # noted for a replay that stopped early: checked again if met
    known.update(noted[:_POINTS_CHECKED_ELSEWHERE_MAX])


@final
class Address(bytes):
    """Where e-CNY can be held: 20 bytes of BLAKE2b over a public key.

    Text form is ``dcep1`` followed by 32 lowercase base32 characters.

    An address *is* its 20 bytes: a ``bytes`` subclass that hashes, compares
    and orders as them (so it also equals the plain ``bytes`` of the same
    value).  Every payment looks up two or three wallets by address, and
    ``bytes``'s own hash and equality, done in C and cached, keep those
    lookups cheap; a million wallets are keyed by addresses.
    """

    __slots__ = ()

    def __new__(cls, raw: bytes) -> Address:
        """The address with these 20 raw bytes."""
        return super().__new__(cls, _require_bytes(raw, ADDRESS_SIZE, "address"))

    @classmethod
    def for_key(cls, key: VerifyKey) -> Address:
        """The address that belongs to ``key``."""
        return cls(digest(bytes(key), person=_ADDRESS_PERSON)[:ADDRESS_SIZE])

    @classmethod
    def parse(cls, text: str) -> Address:
        """Read the ``dcep1...`` text form back; only the lowercase form is canonical."""
        # Callers pass what they read from files; check the type at run time too.
        is_text = isinstance(text, str)
        if not is_text or text != text.lower() or not text.startswith(_ADDRESS_PREFIX):
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"{text!r} is not a lowercase address starting with {_ADDRESS_PREFIX!r}",
            )
        try:
            raw = base64.b32decode(text[len(_ADDRESS_PREFIX) :].upper())
        except ValueError:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, f"{text!r} is not a dcep address"
            ) from None
        return cls(raw)

    def __str__(self) -> str:
        return _ADDRESS_PREFIX + base64.b32encode(self).decode("ascii").lower()

    def __repr__(self) -> str:
        return f"Address({str(self)!r})"


@final
class VerifyKey:
    """An Ed25519 public key: checks signatures, names an address."""

    __slots__ = ("_address", "_bytes")

    _bytes: bytes
    _address: Address | None

    def __init__(self, raw: bytes) -> None:
        self._bytes = _require_bytes(raw, PUBLIC_KEY_SIZE, "public key")
        self._address = None

    @property
    def address(self) -> Address:
        """The address derived from this key (computed once)."""
        if self._address is None:
            self._address = Address.for_key(self)
        return self._address

    def is_valid_point(self) -> bool:
        """Whether the key is a canonical point of Ed25519's prime-order group.

        The identity, a point of small order or a string that is no point at
        all verifies no signature: money sent to a wallet with such a key could
        never move again, so the ledger refuses one wherever a key is bound.
        (libsodium's check: about 30 µs, so not on every signature.)
        """
        raw = self._bytes
        if raw in _POINTS_CHECKED_ELSEWHERE:
            _POINTS_CHECKED_ELSEWHERE.discard(raw)
            return True
        return bool(nacl.bindings.crypto_core_ed25519_is_valid_point(raw))

    def verify(self, message: bytes, signature: bytes) -> None:
        """Return if ``signature`` is this key's over ``message``; else raise.

        Raises :class:`~dcep.SignatureError` (a ``PermissionError``).  The
        accept rule is libsodium's, the same for the ledger and every replica.
        """
        if len(signature) != SIGNATURE_SIZE:
            raise SignatureError(Reason.SIGNATURE_INVALID, "a signature is 64 bytes")
        try:
            nacl.bindings.crypto_sign_open(signature + message, self._bytes)
        except nacl.exceptions.BadSignatureError:
            raise SignatureError(
                Reason.SIGNATURE_INVALID,
                "the signature does not verify for this key, network and kind",
                party=str(self.address),
            ) from None
        except (ValueError, TypeError, nacl.exceptions.CryptoError):
            # libsodium refuses some byte strings as keys outright.
            raise SignatureError(
                Reason.SIGNATURE_INVALID, "the public key is not a valid Ed25519 point"
            ) from None

    def to_curve25519(self) -> nacl.public.PublicKey:
        """The matching X25519 public key, to encrypt to this key's holder."""
        return nacl.signing.VerifyKey(self._bytes).to_curve25519_public_key()

    def __bytes__(self) -> bytes:
        return self._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerifyKey):
            return NotImplemented
        return hmac.compare_digest(self._bytes, other._bytes)

    def __repr__(self) -> str:
        return f"VerifyKey({self._bytes.hex()!r})"


@final
class SigningKey:
    """An Ed25519 private key.  Its ``repr`` never shows the seed."""

    __slots__ = ("_nacl", "_seed", "_verify_key")

    _seed: bytes
    _nacl: nacl.signing.SigningKey
    _verify_key: VerifyKey

    def __init__(self, seed: bytes) -> None:
        self._seed = _require_bytes(seed, SEED_SIZE, "seed")
        self._nacl = nacl.signing.SigningKey(seed)
        self._verify_key = VerifyKey(bytes(self._nacl.verify_key))

    @classmethod
    def derive(cls, parent_seed: bytes, label: str) -> SigningKey:
        """A key for ``label`` derived from ``parent_seed``; see :func:`derive_seed`."""
        return cls(derive_seed(parent_seed, label))

    @property
    def verify_key(self) -> VerifyKey:
        """The matching public key."""
        return self._verify_key

    @property
    def address(self) -> Address:
        """The address of the matching public key."""
        return self._verify_key.address

    def to_curve25519(self) -> nacl.public.PrivateKey:
        """The matching X25519 private key, to read what was encrypted to this key."""
        return self._nacl.to_curve25519_private_key()

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message`` (RFC 8032, pure)."""
        return self._nacl.sign(message).signature

    def __bytes__(self) -> bytes:
        return self._seed

    def __hash__(self) -> int:
        return hash(self._verify_key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SigningKey):
            return NotImplemented
        return hmac.compare_digest(self._seed, other._seed)

    def __repr__(self) -> str:
        return f"SigningKey(<secret>, verify_key={self._verify_key!r})"
