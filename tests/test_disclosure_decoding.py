"""Whatever a bank seals to the regulator, reading it gives a record or a typed refusal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dcep
from dcep.values import CustomerRecord

texts = st.none() | st.text(max_size=20)
records = st.builds(CustomerRecord, texts, texts, texts, texts, st.booleans())


def _field(part: bytes) -> bytes:
    return len(part).to_bytes(2, "big") + part


def _decoded(raw: bytes) -> CustomerRecord | dcep.InvalidFieldError:
    try:
        return CustomerRecord.decode(raw)
    except dcep.InvalidFieldError as error:
        return error


@given(records)
def test_every_record_decodes_to_itself(record: CustomerRecord) -> None:
    assert CustomerRecord.decode(record.encode()) == record


@given(st.binary(max_size=64))
def test_any_bytes_decode_to_a_canonical_record_or_a_typed_refusal(raw: bytes) -> None:
    result = _decoded(raw)
    if isinstance(result, CustomerRecord):
        assert result.encode() == raw  # one record, one encoding
    else:
        assert result.reason is dcep.Reason.FIELD_INVALID


@pytest.mark.parametrize(
    "first_field",
    [b"\x01\xff\xfe", b"\x02abc", b"", b"\x00extra"],
    ids=["not-utf8", "unknown-tag", "empty", "absent-with-bytes"],
)
def test_a_field_encode_never_writes_is_refused(first_field: bytes) -> None:
    raw = _field(first_field) + _field(b"\x00") * 3 + _field(b"\x00")
    with pytest.raises(dcep.InvalidFieldError) as caught:
        CustomerRecord.decode(raw)
    assert caught.value.reason is dcep.Reason.FIELD_INVALID


def test_a_flag_other_than_zero_or_one_is_refused() -> None:
    raw = _field(b"\x00") * 4 + _field(b"\x02")
    with pytest.raises(dcep.InvalidFieldError):
        CustomerRecord.decode(raw)
