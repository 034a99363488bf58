"""Key files: secrets at rest, encrypted under a passphrase, readable by their owner only.

Every test but one uses libsodium's cheapest Argon2id limits, which protect
nothing and keep the suite fast; one checks that the default is the
interactive limits.  The refusals (wrong passphrase, any flipped or missing
byte, a group- or world-accessible file, a file that exists) are typed and
leave the file exactly as it was.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Final

import nacl.pwhash.argon2id
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
from dcep.errors import DuplicateError, KeyAccessError, KeyFileError
from dcep.values import KeyFile

OPS: Final = nacl.pwhash.argon2id.OPSLIMIT_MIN
MEM: Final = nacl.pwhash.argon2id.MEMLIMIT_MIN
PASSPHRASE: Final = "correct horse battery staple"


def _made(
    directory: Path, labels: tuple[str, ...] = ("central-bank", "bank:MA.156.1100.01")
) -> Path:
    path = directory / "party.keys"
    keys = KeyFile.create(path, PASSPHRASE, opslimit=OPS, memlimit=MEM)
    for label in labels:
        keys.secret(label, create=True)
    return path


def test_secrets_are_saved_before_use_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "party.keys"
    keys = KeyFile.create(path, PASSPHRASE, opslimit=OPS, memlimit=MEM)
    assert keys.labels() == ()
    first = keys.secret("central-bank", create=True)
    assert len(first) == 32
    assert keys.secret("central-bank", create=True) == first  # generated once
    second = keys.secret("bank:MA.156.1100.01", create=True)
    assert first != second
    reopened = KeyFile.open(path, PASSPHRASE)
    assert reopened.labels() == ("bank:MA.156.1100.01", "central-bank")
    assert reopened.secret("central-bank") == first
    assert reopened.secret("bank:MA.156.1100.01") == second
    assert "central-bank" in reopened
    assert len(reopened) == 2
    assert first.hex() not in repr(reopened)
    with pytest.raises(KeyAccessError) as caught:
        reopened.secret("regulator:AML")
    assert caught.value.reason is dcep.Reason.KEY_NOT_HELD
    assert [p.name for p in tmp_path.iterdir()] == ["party.keys"]  # no temporary left behind


def test_files_are_the_owners_only_after_every_write(tmp_path: Path) -> None:
    path = tmp_path / "party.keys"
    keys = KeyFile.create(path, PASSPHRASE, opslimit=OPS, memlimit=MEM)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys.secret("central-bank", create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_two_files_never_share_a_secret(tmp_path: Path) -> None:
    a = KeyFile.create(tmp_path / "a.keys", PASSPHRASE, opslimit=OPS, memlimit=MEM)
    b = KeyFile.create(tmp_path / "b.keys", PASSPHRASE, opslimit=OPS, memlimit=MEM)
    assert a.secret("central-bank", create=True) != b.secret("central-bank", create=True)
    assert (tmp_path / "a.keys").read_bytes() != (tmp_path / "b.keys").read_bytes()


def test_a_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    path = _made(tmp_path)
    before = path.read_bytes()
    for wrong in ("correct horse battery stapler", "", b"correct horse battery staple\x00"):
        with pytest.raises((KeyAccessError, dcep.InvalidFieldError)) as caught:
            KeyFile.open(path, wrong)
        assert caught.value.reason in (dcep.Reason.PASSPHRASE_WRONG, dcep.Reason.FIELD_INVALID)
    with pytest.raises(KeyAccessError) as wrong_passphrase:
        KeyFile.open(path, "Correct horse battery staple")
    assert wrong_passphrase.value.reason is dcep.Reason.PASSPHRASE_WRONG
    assert isinstance(wrong_passphrase.value, PermissionError)
    assert path.read_bytes() == before
    assert KeyFile.open(path, PASSPHRASE.encode()).labels()  # bytes are the UTF-8 of the text


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_flipped_byte_is_refused_as_damage(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    path = _made(tmp_path_factory.mktemp("flip"))
    raw = bytearray(path.read_bytes())
    position = data.draw(st.integers(0, len(raw) - 1), label="position")
    bit = data.draw(st.integers(0, 7), label="bit")
    raw[position] ^= 1 << bit
    path.write_bytes(bytes(raw))
    with pytest.raises(KeyFileError) as caught:
        KeyFile.open(path, PASSPHRASE)
    assert caught.value.reason is dcep.Reason.KEY_FILE_UNREADABLE
    assert isinstance(caught.value, ValueError)
    assert path.read_bytes() == bytes(raw)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_a_file_cut_short_or_lengthened_is_refused(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    path = _made(tmp_path_factory.mktemp("cut"))
    raw = path.read_bytes()
    cut = data.draw(st.integers(0, len(raw) - 1), label="kept")
    extra = data.draw(st.binary(min_size=0, max_size=8), label="appended")
    path.write_bytes(raw[:cut] + extra)
    with pytest.raises(KeyFileError) as caught:
        KeyFile.open(path, PASSPHRASE)
    assert caught.value.reason is dcep.Reason.KEY_FILE_UNREADABLE


@pytest.mark.parametrize("mode", [0o640, 0o620, 0o610, 0o604, 0o602, 0o644, 0o660, 0o666])
def test_a_file_others_may_access_is_refused(tmp_path: Path, mode: int) -> None:
    path = _made(tmp_path)
    path.chmod(mode)
    with pytest.raises(KeyAccessError) as caught:
        KeyFile.open(path, PASSPHRASE)
    assert caught.value.reason is dcep.Reason.KEY_FILE_EXPOSED
    assert stat.S_IMODE(path.stat().st_mode) == mode
    path.chmod(0o400)  # owner-only, even read-only, is fine
    assert KeyFile.open(path, PASSPHRASE).labels()


def test_creating_over_a_file_and_opening_nothing_are_refused(tmp_path: Path) -> None:
    path = _made(tmp_path)
    before = path.read_bytes()
    with pytest.raises(DuplicateError) as exists:
        KeyFile.create(path, "another", opslimit=OPS, memlimit=MEM)
    assert exists.value.reason is dcep.Reason.KEY_FILE_EXISTS
    assert path.read_bytes() == before
    with pytest.raises(KeyFileError) as missing:
        KeyFile.open(tmp_path / "nowhere.keys", PASSPHRASE)
    assert missing.value.reason is dcep.Reason.KEY_FILE_UNREADABLE
    not_keys = tmp_path / "notes.txt"
    not_keys.write_text("hello\n")
    not_keys.chmod(0o600)
    with pytest.raises(KeyFileError):
        KeyFile.open(not_keys, PASSPHRASE)


def test_limits_default_to_interactive_and_are_recorded(tmp_path: Path) -> None:
    KeyFile.create(tmp_path / "default.keys", PASSPHRASE)
    raw = (tmp_path / "default.keys").read_bytes()
    assert raw[:9] == b"DCEPKEYS\x01"
    assert int.from_bytes(raw[9:13], "big") == nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
    assert int.from_bytes(raw[13:21], "big") == nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
    with pytest.raises(dcep.InvalidFieldError):
        KeyFile.create(tmp_path / "absurd.keys", PASSPHRASE, opslimit=0, memlimit=MEM)
    assert not (tmp_path / "absurd.keys").exists()


def test_a_central_bank_in_a_key_file_comes_back(tmp_path: Path) -> None:
    keys = KeyFile.create(tmp_path / "pboc.keys", PASSPHRASE, opslimit=OPS, memlimit=MEM)
    ledger = dcep.Ledger.open(tmp_path / "city.db")
    pboc = dcep.CentralBank(ledger, keys=keys)
    assert keys.labels() == ("central-bank",)
    ledger.close()
    reopened = dcep.Ledger.open(tmp_path / "city.db")
    again = dcep.CentralBank(reopened, keys=KeyFile.open(tmp_path / "pboc.keys", PASSPHRASE))
    assert again.address == pboc.address
    assert reopened.entry_count == 1  # reattached: no second genesis
    reopened.close()
