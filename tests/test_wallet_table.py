"""The wallet columns hold exactly what a plain record per wallet would.

A shadow model keeps each wallet as a dict of its fields; random writes go
to both, through :class:`WalletAccount` views; after every step every field
of every wallet reads back the same, a copy taken earlier is untouched by
later writes, and an overlay's writes never reach its base.
"""

from __future__ import annotations

import pickle
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
from dcep.core._snapshot import LazyRows
from dcep.core._wallet_table import WalletAccount, WalletOverlay, WalletTable
from dcep.values._crypto import Address, VerifyKey
from dcep.values._money import MAX_AMOUNT_FEN
from dcep.values._policy import WalletCategory, year_of_day

from .strategies import wallet_categories

#: Field -> values a write may set (sequences past 2**32 widen their column).
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "balance_fen": st.integers(0, MAX_AMOUNT_FEN),
    "day": st.integers(-1, 200_000),
    "spent_today_fen": st.integers(0, MAX_AMOUNT_FEN),
    "spent_this_year_fen": st.integers(0, MAX_AMOUNT_FEN),
    "category": wallet_categories,
    "linked_account": st.sampled_from(["", "acct-1", "acct-2"]),
    "closed": st.booleans(),
    "corporate": st.booleans(),
    "parent": st.none() | st.binary(min_size=20, max_size=20).map(Address),
    "own_caps": st.none() | st.tuples(*[st.none() | st.integers(1, 10**6)] * 4),
    "open_sub_wallets": st.integers(0, 5),
    "sub_wallets_fen": st.integers(0, MAX_AMOUNT_FEN),
    "reserved_fen": st.integers(0, 10**9),
    "vouchers_fen": st.integers(0, 10**9),
    "offline_fen": st.integers(0, 10**9),
    "interest_from_us": st.integers(-1, 2**62),
    "interest_carry": st.integers(0, 10**30),
}
SEQUENCES = st.integers(1, 2**64 - 1)
Model = dict[Address, dict[str, Any]]
Sequences = dict[Address, int]


def _fresh(category: WalletCategory, operator: Address, linked: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "balance_fen": 0,
        "day": -1,
        "spent_today_fen": 0,
        "spent_this_year_fen": 0,
        "category": category,
        "linked_account": linked,
        "closed": False,
        "corporate": False,
        "parent": None,
        "own_caps": None,
        "open_sub_wallets": 0,
        "sub_wallets_fen": 0,
        "reserved_fen": 0,
        "vouchers_fen": 0,
        "offline_fen": 0,
        "interest_from_us": -1,
        "interest_carry": 0,
    }
    fields["operator"] = operator
    return fields


def _read(wallet: WalletAccount) -> dict[str, Any]:
    fields = {name: getattr(wallet, name) for name in FIELDS}
    fields["operator"] = wallet.operator
    return fields


steps = st.lists(
    st.one_of(
        st.tuples(st.just("open"), wallet_categories, st.integers(0, 2), st.text(max_size=3)),
        st.tuples(
            st.just("write"),
            st.integers(0, 50),
            st.sampled_from(sorted(FIELDS)).flatmap(
                lambda name: st.tuples(st.just(name), FIELDS[name])
            ),
        ),
        st.tuples(st.just("sequence"), st.integers(0, 50), SEQUENCES),
        st.tuples(st.just("copy")),
    ),
    max_size=40,
)


@settings(max_examples=25, deadline=None)
@given(steps=steps, overlay_steps=steps)
def test_columns_read_back_what_was_written(
    steps: list[tuple[Any, ...]], overlay_steps: list[tuple[Any, ...]]
) -> None:
    table = WalletTable()
    shadow: dict[Address, dict[str, Any]] = {}
    sequences: dict[Address, int] = {}
    copies: list[tuple[WalletTable, dict[Address, dict[str, Any]], dict[Address, int]]] = []
    operators = [Address(bytes([n]) * 20) for n in range(3)]

    def run(
        target: WalletTable,
        model: dict[Address, dict[str, Any]],
        seqs: dict[Address, int],
        step: tuple[Any, ...],
    ) -> None:
        kind = step[0]
        if kind == "open":
            _, category, operator, linked = step
            key = len(model).to_bytes(32, "big")
            address = VerifyKey(key).address
            target.open(
                address,
                category=category,
                operator=operators[operator],
                linked_account=linked,
            )
            model[address] = _fresh(category, operators[operator], linked)
        elif kind == "write" and model:
            _, which, (name, value) = step
            address = list(model)[which % len(model)]
            setattr(target[address], name, value)
            model[address][name] = value
        elif kind == "sequence" and model:
            _, which, sequence = step
            address = list(model)[which % len(model)]
            assert target.set_sequence(address, sequence)
            seqs[address] = sequence

    def check(
        target: WalletTable, model: dict[Address, dict[str, Any]], seqs: dict[Address, int]
    ) -> None:
        assert list(target) == list(model)
        assert len(target) == len(model)
        for address, fields in model.items():
            wallet = target[address]
            assert _read(wallet) == fields
            assert wallet.year == (-1 if fields["day"] == -1 else year_of_day(fields["day"]))
            assert wallet.holdings_fen() == (
                fields["balance_fen"]
                + fields["reserved_fen"]
                + fields["vouchers_fen"]
                + fields["offline_fen"]
            )
            assert target.holdings_of(address) == wallet.holdings_fen()
            assert target.last_sequence(address) == seqs.get(address, 0)
        rows = list(target.wallet_rows())
        assert [row[4] for row in rows] == [f["balance_fen"] for f in model.values()]
        assert [row[0] for row in rows] == [bytes(a) for a in model]
        assert [row[9] for row in rows] == [seqs.get(a, 0) for a in model]
        assert list(target.with_flag("closed")) == [a for a, f in model.items() if f["closed"]]
        assert list(target.sequence_rows()) == [(bytes(a), seqs[a]) for a in model if seqs.get(a)]
        rows_only = target.copy(with_index=False)
        assert list(rows_only.wallet_rows()) == rows
        assert list(rows_only.sequence_rows()) == list(target.sequence_rows())
        assert target.last_sequence(Address(b"\xff" * 20)) is None
        assert target.holdings_of(Address(b"\xff" * 20)) == 0

    for step in steps:
        if step[0] == "copy":
            copies.append(
                (
                    table.copy(),
                    {a: dict(f) for a, f in shadow.items()},
                    dict(sequences),
                )
            )
        else:
            run(table, shadow, sequences, step)
        check(table, shadow, sequences)
    for copied, model, seqs in copies:
        check(copied, model, seqs)

    # An overlay reads as its base and takes every write without touching it.
    before = ({a: dict(f) for a, f in shadow.items()}, dict(sequences))
    overlay = WalletOverlay(table)
    overlay_model = {a: dict(f) for a, f in shadow.items()}
    overlay_sequences = dict(sequences)
    for step in overlay_steps:
        if step[0] != "copy":
            run(overlay, overlay_model, overlay_sequences, step)
    for address, fields in overlay_model.items():
        assert _read(overlay[address]) == fields
        assert overlay.holdings_of(address) == overlay[address].holdings_fen()
        assert overlay.last_sequence(address) == overlay_sequences.get(address, 0)
    assert len(overlay) == len(overlay_model)
    check(table, *before)


def test_a_snapshot_pickles_as_its_rows() -> None:
    """LazyRows travel (to a worker, a file) as the rows they make, and compare equal."""
    ledger = dcep.Ledger(network_id="pickle-test")
    pboc = dcep.CentralBank(ledger, seed=7)
    bank = pboc.authorise_bank("Bank", code="MA.156.1100.01", reserves=dcep.cny("100"))
    pboc.issue(bank, dcep.cny("100"))
    bank.pay_in("acct", dcep.cny("1"))
    wallet = bank.open_wallet(
        category=1,
        phone="13800000000",
        id_number="110101199001011234",
        name="A",
        linked_account="acct",
        in_person=True,
    )
    bank.fund(wallet, dcep.cny("5"), from_account="")
    snapshot = ledger.snapshot()
    assert isinstance(snapshot.wallets, LazyRows)
    copy = pickle.loads(pickle.dumps(snapshot))
    assert copy == snapshot
    assert type(copy.wallets) is tuple
    assert len(copy.wallets) == 1
