"""Secret keys at rest: a file encrypted under a passphrase, readable by its owner only.

A :class:`KeyFile` holds named 32-byte secrets (the seeds that Ed25519 keys
and their derived keys come from), each generated from the operating
system's randomness.  The file is encrypted with libsodium's ``secretbox``
(XSalsa20-Poly1305) under a key stretched from the passphrase by Argon2id,
both through PyNaCl.  The layout, all integers big-endian::

    magic "DCEPKEYS" (8) | version 1 (1) | Argon2id opslimit (4) | memlimit (8)
    | salt (16) | nonce (24) | secretbox ciphertext with its MAC (16 + n)
    | BLAKE2b-256 of everything before (32)

and the plaintext is one ``label length (1) | label (UTF-8) | secret (32)``
per secret, in label order.  The trailing checksum tells a damaged file
(``KEY_FILE_UNREADABLE``) from a wrong passphrase (``PASSPHRASE_WRONG``):
both make the MAC fail, but only damage changes the checksum.  The Argon2id
limits and salt are in the clear and covered by the MAC indirectly (other
limits give another key), so a file says how to open itself.

Every change rewrites the file whole: to a temporary file created with mode
0600 beside it, flushed to disk, then renamed over it, so a crash leaves the
old file or the new one, never half of either.  A file that its group or
others may read or write is refused (``KEY_FILE_EXPOSED``), as ssh refuses
such a private key.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final, final

import nacl.exceptions
import nacl.pwhash.argon2id
import nacl.secret

from dcep.errors import DuplicateError, InvalidFieldError, KeyAccessError, KeyFileError, Reason
from dcep.values._crypto import SEED_SIZE, digest

__all__ = ["KeyFile"]

_MAGIC: Final = b"DCEPKEYS"
_VERSION: Final = 1
_PERSON: Final = b"dcep.keyfile"
_SALT_SIZE: Final = nacl.pwhash.argon2id.SALTBYTES
_NONCE_SIZE: Final = nacl.secret.SecretBox.NONCE_SIZE
_HEADER_SIZE: Final = len(_MAGIC) + 1 + 4 + 8 + _SALT_SIZE + _NONCE_SIZE
_CHECKSUM_SIZE: Final = 32
_MAX_LABEL_SIZE: Final = 255
#: The most work a key file may ask of Argon2id when it is opened: libsodium's
#: "sensitive" limits.  A file asking for more is taken as damaged rather than
#: obeyed, so that a flipped byte cannot make opening it take hours or all memory.
_MAX_OPSLIMIT: Final = nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE
_MAX_MEMLIMIT: Final = nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE
#: Permission bits a key file must not have: any access by its group or others.
_EXPOSED_BITS: Final = stat.S_IRWXG | stat.S_IRWXO


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    raw = passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)
    if not raw:
        raise InvalidFieldError(
            Reason.FIELD_INVALID, "a key file needs a non-empty passphrase", field="passphrase"
        )
    return raw


def _limits_ok(opslimit: int, memlimit: int) -> bool:
    ops_ok = nacl.pwhash.argon2id.OPSLIMIT_MIN <= opslimit <= _MAX_OPSLIMIT
    return ops_ok and nacl.pwhash.argon2id.MEMLIMIT_MIN <= memlimit <= _MAX_MEMLIMIT


def _check_limits(opslimit: int, memlimit: int, path: Path) -> None:
    if not _limits_ok(opslimit, memlimit):
        raise KeyFileError(
            Reason.KEY_FILE_UNREADABLE,
            f"{path}: Argon2id limits {opslimit}, {memlimit} are outside what dcep uses",
        )


def _stretch(passphrase: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, passphrase, salt, opslimit=opslimit, memlimit=memlimit
    )


def _encode_secrets(secrets_by_label: dict[str, bytes]) -> bytes:
    parts = []
    for label in sorted(secrets_by_label):
        raw = label.encode("utf-8")
        parts.append(bytes((len(raw),)) + raw + secrets_by_label[label])
    return b"".join(parts)


def _decode_secrets(plain: bytes, path: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    offset = 0
    while offset < len(plain):
        size = plain[offset]
        end = offset + 1 + size + SEED_SIZE
        if size == 0 or end > len(plain):
            raise KeyFileError(Reason.KEY_FILE_UNREADABLE, f"{path}: a secret is cut short")
        try:
            label = plain[offset + 1 : offset + 1 + size].decode("utf-8")
        except UnicodeDecodeError:
            raise KeyFileError(
                Reason.KEY_FILE_UNREADABLE, f"{path}: a label is not UTF-8"
            ) from None
        found[label] = plain[offset + 1 + size : end]
        offset = end
    return found


def _check_label(label: str) -> bytes:
    # Labels come from callers' code: check the type at run time too.
    raw = label.encode("utf-8") if isinstance(label, str) else b""  # type: ignore[redundant-expr]
    if not 1 <= len(raw) <= _MAX_LABEL_SIZE:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"a key label is 1 to {_MAX_LABEL_SIZE} bytes of UTF-8, not {label!r:.80}",
            field="label",
        )
    return raw


def _fsync_directory(directory: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - no directory handles to sync
        return
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _write_private(path: Path, data: bytes, *, replace: bool) -> None:
    """Write ``data`` to ``path`` whole or not at all, readable by the owner only."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            # A link fails if the name exists: creating never overwrites a key file.
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise DuplicateError(
                    Reason.KEY_FILE_EXISTS, f"{path} exists; open it, or choose another name"
                ) from None
            finally:
                temporary.unlink()
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


@final
class KeyFile:
    """Named secrets in a file encrypted under a passphrase; see the module's docstring.

    :meth:`create` a new one or :meth:`open` an existing one; then
    :meth:`secret` reads a secret, generating and saving it first when
    asked.  Parties take a key file as ``keys=``
    (``CentralBank(ledger, keys=...)``); they store their secrets under
    labels such as ``central-bank`` and ``bank:MA.156.1100.01``.

    Argon2id's ``opslimit`` and ``memlimit`` default to libsodium's
    interactive limits (about 0.1 s and 64 MiB to open); tests and examples
    pass ``nacl.pwhash.argon2id.OPSLIMIT_MIN`` and ``MEMLIMIT_MIN``, which
    protect nothing and are fast.  The file records its limits.
    """

    __slots__ = ("_box_key", "_memlimit", "_opslimit", "_path", "_salt", "_secrets")

    def __init__(
        self,
        path: Path,
        box_key: bytes,
        salt: bytes,
        opslimit: int,
        memlimit: int,
        secrets_by_label: dict[str, bytes],
    ) -> None:
        """Use :meth:`create` or :meth:`open`: this takes an already stretched key."""
        self._path = path
        self._box_key = box_key
        self._salt = salt
        self._opslimit = opslimit
        self._memlimit = memlimit
        self._secrets = secrets_by_label

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        passphrase: str | bytes,
        *,
        opslimit: int = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE,
        memlimit: int = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE,
    ) -> KeyFile:
        """A new, empty key file at ``path`` (mode 0600); ``KEY_FILE_EXISTS`` if there is one."""
        target = Path(path)
        raw_passphrase = _passphrase_bytes(passphrase)
        if not _limits_ok(opslimit, memlimit):
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                "Argon2id limits run from libsodium's MIN to its SENSITIVE limits",
                field="opslimit",
            )
        if target.exists():
            raise DuplicateError(
                Reason.KEY_FILE_EXISTS, f"{target} exists; open it, or choose another name"
            )
        salt = secrets.token_bytes(_SALT_SIZE)
        keys = cls(
            target,
            _stretch(raw_passphrase, salt, opslimit, memlimit),
            salt,
            opslimit,
            memlimit,
            {},
        )
        _write_private(target, keys._file_bytes(), replace=False)
        return keys

    @classmethod
    def open(cls, path: str | os.PathLike[str], passphrase: str | bytes) -> KeyFile:
        """Read the key file at ``path``.

        Raises :class:`~dcep.errors.KeyAccessError` with ``KEY_FILE_EXPOSED``
        if its group or others may access it, or ``PASSPHRASE_WRONG``;
        :class:`~dcep.errors.KeyFileError` (``KEY_FILE_UNREADABLE``) if it is
        missing, damaged or not a key file.  Nothing is written.
        """
        target = Path(path)
        raw_passphrase = _passphrase_bytes(passphrase)
        try:
            mode = target.stat().st_mode
            data = target.read_bytes()
        except OSError as error:
            raise KeyFileError(
                Reason.KEY_FILE_UNREADABLE, f"{target}: cannot read: {error.strerror}"
            ) from None
        if os.name == "posix" and mode & _EXPOSED_BITS:
            raise KeyAccessError(
                Reason.KEY_FILE_EXPOSED,
                f"{target} has mode {stat.S_IMODE(mode):04o}: a key file must be readable "
                "by its owner only (chmod 600)",
            )
        body, checksum = data[:-_CHECKSUM_SIZE], data[-_CHECKSUM_SIZE:]
        minimum = _HEADER_SIZE + nacl.secret.SecretBox.MACBYTES
        if len(body) < minimum or not body.startswith(_MAGIC):
            raise KeyFileError(Reason.KEY_FILE_UNREADABLE, f"{target} is not a dcep key file")
        if digest(body, person=_PERSON) != checksum:
            raise KeyFileError(
                Reason.KEY_FILE_UNREADABLE, f"{target} is damaged: its checksum does not match"
            )
        offset = len(_MAGIC)
        version = body[offset]
        if version != _VERSION:
            raise KeyFileError(
                Reason.KEY_FILE_UNREADABLE,
                f"{target} is key file format {version}; this dcep reads format {_VERSION}",
            )
        opslimit = int.from_bytes(body[offset + 1 : offset + 5], "big")
        memlimit = int.from_bytes(body[offset + 5 : offset + 13], "big")
        salt = body[offset + 13 : offset + 13 + _SALT_SIZE]
        nonce = body[offset + 13 + _SALT_SIZE : _HEADER_SIZE]
        _check_limits(opslimit, memlimit, target)
        box_key = _stretch(raw_passphrase, salt, opslimit, memlimit)
        try:
            plain = nacl.secret.SecretBox(box_key).decrypt(body[_HEADER_SIZE:], nonce)
        except nacl.exceptions.CryptoError:
            raise KeyAccessError(
                Reason.PASSPHRASE_WRONG, f"{target} does not open with this passphrase"
            ) from None
        return cls(target, box_key, salt, opslimit, memlimit, _decode_secrets(plain, target))

    @property
    def path(self) -> Path:
        """Where the file is."""
        return self._path

    def labels(self) -> tuple[str, ...]:
        """The labels of the secrets held, in order."""
        return tuple(sorted(self._secrets))

    def __contains__(self, label: object) -> bool:
        return label in self._secrets

    def __iter__(self) -> Iterator[str]:
        return iter(self.labels())

    def __len__(self) -> int:
        return len(self._secrets)

    def secret(self, label: str, *, create: bool = False) -> bytes:
        """The 32-byte secret under ``label``.

        With ``create=True`` a missing one is drawn from the operating
        system's randomness and the file rewritten before it is returned, so
        a key is never used before it is saved.  Otherwise a missing label
        raises :class:`~dcep.errors.KeyAccessError` (``KEY_NOT_HELD``).
        """
        _check_label(label)
        found = self._secrets.get(label)
        if found is not None:
            return found
        if not create:
            raise KeyAccessError(
                Reason.KEY_NOT_HELD, f"{self._path} holds no secret {label!r}", field="keys"
            )
        fresh = secrets.token_bytes(SEED_SIZE)
        updated = {**self._secrets, label: fresh}
        _write_private(self._path, self._file_bytes(updated), replace=True)
        self._secrets = updated
        return fresh

    def _file_bytes(self, secrets_by_label: dict[str, bytes] | None = None) -> bytes:
        plain = _encode_secrets(self._secrets if secrets_by_label is None else secrets_by_label)
        nonce = secrets.token_bytes(_NONCE_SIZE)
        sealed = nacl.secret.SecretBox(self._box_key).encrypt(plain, nonce).ciphertext
        body = b"".join(
            (
                _MAGIC,
                bytes((_VERSION,)),
                self._opslimit.to_bytes(4, "big"),
                self._memlimit.to_bytes(8, "big"),
                self._salt,
                nonce,
                sealed,
            )
        )
        return body + digest(body, person=_PERSON)

    def __repr__(self) -> str:
        return f"KeyFile({str(self._path)!r}, labels={list(self.labels())!r})"
