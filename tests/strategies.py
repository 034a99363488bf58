"""Hypothesis strategies that several test modules draw from.

Amounts, wallet categories, seeds, addresses, instruction ids and sequence
numbers, network ids, institution codes and picks were each written out in
two to four modules, with bounds that had drifted apart.  They live here
now, each with the rule its bounds come from.  Where modules draw the same
kind of value with different bounds on purpose, the difference is a
parameter or a second name, so that it stays visible where the strategy is
used (``fens(min_fen=1)``, ``wide_int_seeds``, ``picks(2**16)``).

Sizes and limits from the README and the wire format are written out here
rather than imported from dcep's own constants, so that a wrong constant in
the library cannot agree with itself (``MAX_AMOUNT_FEN`` is the exception:
its value is checked in tests/test_money.py).

Strategies that one module alone draws (the stateful test's plans, memos and
openings, the near-the-edge amounts of tests/test_payment_checks.py, the
small code family of tests/test_codes.py) stay in that module.  Phone
numbers are not drawn at all: the tests write them out as literals.
"""

from __future__ import annotations

import string

from hypothesis import strategies as st

from dcep import Address, Amount, InstitutionCode, WalletCategory
from dcep.values import MAX_AMOUNT_FEN, SigningKey

__all__ = [
    "address_bytes",
    "addresses",
    "agencies",
    "amounts",
    "category_numbers",
    "code_levels",
    "countries",
    "fens",
    "institution_codes",
    "instruction_ids",
    "int_seeds",
    "key_seeds",
    "mutated",
    "network_ids",
    "picks",
    "positive_amounts",
    "regions",
    "sequences",
    "signing_keys",
    "wallet_categories",
    "wide_int_seeds",
]

# --- Amounts in fen -------------------------------------------------------------------


def fens(min_fen: int = 0, max_fen: int = MAX_AMOUNT_FEN) -> st.SearchStrategy[int]:
    """Whole amounts in fen, from ``min_fen`` to ``max_fen``, both included.

    The defaults are every amount an account can hold: zero (an empty
    wallet) up to ``MAX_AMOUNT_FEN``, 2**63-1 fen, the README's limit.
    Callers narrow them for a reason of their own: ``min_fen=1`` where an
    instruction carries the amount (zero is refused as AMOUNT_NOT_POSITIVE),
    ``max_fen=MAX_AMOUNT_FEN // 2`` where two amounts are added and the sum
    must still be an amount.
    """
    return st.integers(min_value=min_fen, max_value=max_fen)


def amounts(min_fen: int = 0, max_fen: int = MAX_AMOUNT_FEN) -> st.SearchStrategy[Amount]:
    """:func:`fens` as :class:`dcep.Amount` values, with the same bounds."""
    return fens(min_fen, max_fen).map(Amount)


#: The amounts an instruction may carry: at least one fen, up to the maximum.
positive_amounts: st.SearchStrategy[Amount] = amounts(min_fen=1)

# --- Wallet categories ----------------------------------------------------------------

#: The four wallet categories as the enum (1 opened in person ... 4 anonymous).
wallet_categories: st.SearchStrategy[WalletCategory] = st.sampled_from(WalletCategory)

#: The same four categories as the plain numbers the public API takes
#: (``open_wallet(category=3)``, ``Policy.with_limits(2, ...)``): 1 to 4.
category_numbers: st.SearchStrategy[int] = st.integers(min_value=1, max_value=4)

# --- Seeds and keys -------------------------------------------------------------------

#: Ed25519 key seeds: any 32 bytes (RFC 8032 section 5.1.5).
key_seeds: st.SearchStrategy[bytes] = st.binary(min_size=32, max_size=32)

#: Signing keys from :data:`key_seeds`.
signing_keys: st.SearchStrategy[SigningKey] = key_seeds.map(SigningKey)

#: Seeds as whole numbers, 0 to 2**32 included: for ``random.Random`` and for a
#: party's ``seed=`` (its keys derive from it).  Any int is a seed; 2**32 is
#: only plenty of distinct ones.
int_seeds: st.SearchStrategy[int] = st.integers(min_value=0, max_value=2**32)

#: Seeds as whole numbers, 0 to 2**64 included, for the determinism tests of
#: tests/test_ledger_stateful.py: a party turns an int seed into as many bytes
#: as it needs, and this bound reaches nine of them (2**64 itself, and the
#: ``seed + 1`` those tests also run).
wide_int_seeds: st.SearchStrategy[int] = st.integers(min_value=0, max_value=2**64)

# --- Addresses, ids and sequence numbers ----------------------------------------------

#: An address's raw bytes: 20 of them, any (``dcep.values._crypto.ADDRESS_SIZE``).
address_bytes: st.SearchStrategy[bytes] = st.binary(min_size=20, max_size=20)

#: Addresses from :data:`address_bytes`; most are no wallet, bank or party's.
addresses: st.SearchStrategy[Address] = address_bytes.map(Address)

#: Instruction ids: 16 bytes on the wire, and 0 is not an id, so 1 to 2**128-1.
instruction_ids: st.SearchStrategy[int] = st.integers(min_value=1, max_value=2**128 - 1)

#: Sequence numbers: 8 bytes on the wire, a signer's first is 1, so 1 to 2**64-1.
sequences: st.SearchStrategy[int] = st.integers(min_value=1, max_value=2**64 - 1)


def network_ids(min_size: int = 0) -> st.SearchStrategy[bytes]:
    """Network ids: any bytes, at most 64 of them (``MAX_NETWORK_ID_SIZE``).

    The domain-separated message takes the empty id too, and
    tests/test_crypto.py draws from 0 bytes; the envelope tests of
    tests/test_encoding.py draw ``min_size=1``, ids like a ledger's.
    """
    return st.binary(min_size=min_size, max_size=64)


def picks(max_value: int) -> st.SearchStrategy[int]:
    """A whole number from 0 to ``max_value``, used as ``items[pick % len(items)]``.

    The bound is the caller's: 255 for the few banks and wallets of a
    stateful run, 2**16 for its journal entries and bytes, 10**6 for the
    flows of a traced payment graph.  A bound well above the lengths keeps
    the remainders close to uniform.
    """
    return st.integers(min_value=0, max_value=max_value)


# --- Institution codes ----------------------------------------------------------------
# Written from the rules (agency 2-4 letters, country 3 digits not 000,
# region 4 or 6 digits, up to 12 sub-levels of 1-8 letters or digits, 64
# characters in all), not from dcep.values._codes's regular expressions, so
# that a wrong pattern in the module cannot agree with itself.

_UPPER = string.ascii_uppercase
_DIGITS = string.digits

#: The issuing agency: 2 to 4 capital letters.
agencies: st.SearchStrategy[str] = st.text(alphabet=_UPPER, min_size=2, max_size=4)

#: The country: 3 digits (ISO 3166 numeric), never 000.
countries: st.SearchStrategy[str] = st.text(alphabet=_DIGITS, min_size=3, max_size=3).filter(
    lambda text: text != "000"
)

#: The region: 4 or 6 digits.
regions: st.SearchStrategy[str] = st.one_of(
    st.text(alphabet=_DIGITS, min_size=4, max_size=4),
    st.text(alphabet=_DIGITS, min_size=6, max_size=6),
)

#: One sub-level: 1 to 8 capital letters or digits.
code_levels: st.SearchStrategy[str] = st.text(alphabet=_UPPER + _DIGITS, min_size=1, max_size=8)


@st.composite
def institution_codes(draw: st.DrawFn) -> InstitutionCode:
    """Any valid code: up to 12 sub-levels, as many as fit the 64-character bound."""
    agency, country, region = draw(agencies), draw(countries), draw(regions)
    room = 64 - len(f"{agency}.{country}.{region}")
    levels: list[str] = []
    for level in draw(st.lists(code_levels, max_size=12)):
        if len(level) + 1 > room:
            break
        levels.append(level)
        room -= len(level) + 1
    return InstitutionCode(agency, country, region, tuple(levels))


# --- Damaged bytes -------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` after one to three random edits: flip, set, cut, extend, insert, delete."""
    data = bytearray(original)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        edit = draw(st.sampled_from(["flip", "set", "truncate", "extend", "insert", "delete"]))
        if edit in {"flip", "set", "delete"} and not data:
            continue
        if edit == "flip":
            index = draw(st.integers(min_value=0, max_value=len(data) - 1))
            data[index] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif edit == "set":
            index = draw(st.integers(min_value=0, max_value=len(data) - 1))
            data[index] = draw(st.integers(min_value=0, max_value=255))
        elif edit == "truncate":
            del data[draw(st.integers(min_value=0, max_value=len(data))) :]
        elif edit == "extend":
            data.extend(draw(st.binary(min_size=1, max_size=40)))
        elif edit == "insert":
            index = draw(st.integers(min_value=0, max_value=len(data)))
            data[index:index] = draw(st.binary(min_size=1, max_size=8))
        else:
            index = draw(st.integers(min_value=0, max_value=len(data) - 1))
            del data[index : index + draw(st.integers(min_value=1, max_value=8))]
    return bytes(data)
