"""dcep.export: rows agree with the ledger, and DataFrames and Parquet agree with the rows.

The properties, not copied outputs: every journal entry has one row; the
postings of a transfer sum to zero and no entry but issuance or redemption
changes the e-CNY supply; each wallet's postings add up to its balance, as
does the last of its balance rows; frames and Parquet files (read back by
pyarrow and by DuckDB) hold the same integers as the rows.
"""

from __future__ import annotations

import collections
import contextlib
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
from dcep.core import AccountKind
from dcep.export import (
    ALERT_COLUMNS,
    alert_rows,
    balance_rows,
    entry_rows,
    flow_rows,
    posting_rows,
    to_dataframe,
    write_parquet,
)
from dcep.journal import Store
from dcep.regulator import LargeValueRule

WALLETS = 3
ECNY = frozenset({AccountKind.WALLET.value, AccountKind.VAULT.value})
#: Entries that change the e-CNY supply; every other entry moves e-CNY between holders.
SUPPLY_KINDS = frozenset({"issue", "redeem"})

Payment = tuple[int, int, int]


def fen(cell: object) -> int:
    """A cell that must hold an integer amount."""
    assert isinstance(cell, int)
    return cell


def sql(query: str) -> list[tuple[object, ...]]:
    """What DuckDB answers to ``query``, as tuples."""
    relation = duckdb.sql(query)
    assert relation is not None
    return [tuple(row) for row in relation.fetchall()]


def build(
    payments: Sequence[Payment] = ((0, 1, 1250),),
    block_size: int | None = None,
) -> tuple[dcep.Ledger, Store, list[dcep.Wallet]]:
    """A bank, three funded wallets and ``payments`` (payer, payee, fen); refused ones skipped."""
    if block_size is None:
        ledger = dcep.Ledger.with_journal()
    else:
        ledger = dcep.Ledger.with_journal(block_size=block_size)
    pboc = dcep.CentralBank(ledger, seed=7)
    icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=dcep.cny("100000"))
    pboc.issue(icbc, dcep.cny("50000"))
    wallets = [icbc.open_wallet(category=4, phone=f"1380000000{i}") for i in range(WALLETS)]
    for wallet in wallets:
        icbc.fund(wallet, dcep.cny("900"))
    for payer, payee, fen in payments:
        with contextlib.suppress(dcep.InsufficientFundsError, dcep.LimitExceededError):
            wallets[payer].pay(wallets[payee], dcep.Amount(fen))
    journal = ledger.journal
    assert journal is not None
    return ledger, journal.store, wallets


def check_rows_agree_with_ledger(ledger: dcep.Ledger, store: Store) -> None:
    entries = entry_rows(store)
    postings = posting_rows(store)
    assert len(entries) == ledger.entry_count
    assert [row["entry_number"] for row in entries] == list(range(ledger.entry_count))

    by_entry: dict[object, list[int]] = collections.defaultdict(list)
    ecny_by_entry: dict[object, int] = collections.defaultdict(int)
    by_wallet: dict[object, int] = collections.defaultdict(int)
    for row in postings:
        delta = row["delta_fen"]
        assert isinstance(delta, int)
        by_entry[row["entry_number"]].append(delta)
        if row["account_kind"] in ECNY:
            ecny_by_entry[row["entry_number"]] += delta
        if row["account_kind"] == AccountKind.WALLET.value:
            by_wallet[row["owner"]] += delta
    for entry in entries:
        number = entry["entry_number"]
        if entry["kind"] == "transfer":
            assert sum(by_entry[number]) == 0
            amount = fen(entry["amount_fen"])
            assert by_entry[number] == [-amount, amount]
        if entry["kind"] not in SUPPLY_KINDS:
            assert ecny_by_entry[number] == 0, entry
        else:
            assert entry["amount_fen"] is None
    assert sum(ecny_by_entry.values()) == ledger.supply().outstanding.fen

    wallets = ledger.wallets()
    assert wallets
    for info in wallets:
        assert by_wallet[str(info.address)] == ledger.balance(info.address).fen

    last: dict[object, object] = {}
    running: dict[object, int] = collections.defaultdict(int)
    for row in balance_rows(store):
        delta = row["delta_fen"]
        assert isinstance(delta, int)
        running[row["owner"]] += delta
        assert row["balance_fen"] == running[row["owner"]]
        last[row["owner"]] = row["balance_fen"]
    for info in wallets:
        assert last.get(str(info.address), 0) == ledger.balance(info.address).fen

    vaults = {row["owner"]: row["balance_fen"] for row in balance_rows(store, AccountKind.VAULT)}
    for bank in ledger.banks():
        assert vaults[str(bank.address)] == bank.vault.fen

    view = dcep.RegulatorView.from_store(store)
    flows = flow_rows(view)
    assert len(flows) == view.flow_count
    transfers = [row for row in flows if row["kind"] == "transfer"]
    paid = [row for row in entries if row["kind"] == "transfer"]
    assert [(r["entry_number"], r["payer"], r["payee"], r["amount_fen"]) for r in transfers] == [
        (r["entry_number"], r["payer"], r["payee"], r["amount_fen"]) for r in paid
    ]


def test_rows_agree_with_the_ledger() -> None:
    ledger, store, _ = build()
    check_rows_agree_with_ledger(ledger, store)


@settings(max_examples=25)
@given(
    st.lists(
        st.tuples(
            st.integers(0, WALLETS - 1),
            st.integers(0, WALLETS - 1),
            st.integers(1, 100_000),
        ).filter(lambda payment: payment[0] != payment[1]),
        max_size=12,
    )
)
def test_rows_agree_with_the_ledger_after_any_payments(payments: list[Payment]) -> None:
    ledger, store, _ = build(payments)
    check_rows_agree_with_ledger(ledger, store)


def test_rows_are_deterministic_and_in_column_order() -> None:
    _, first, _ = build()
    _, second, _ = build()
    assert entry_rows(first) == entry_rows(second)
    assert posting_rows(first) == posting_rows(second)
    for row in entry_rows(first):
        assert list(row) == list(dcep.export.ENTRY_COLUMNS)
    for row in posting_rows(first):
        assert list(row) == list(dcep.export.POSTING_COLUMNS)


def test_sealed_entries_name_their_block() -> None:
    ledger, store, _ = build(block_size=2)
    assert store.block_count() > 0
    heights = [row["block_height"] for row in entry_rows(store)]
    sealed = [height for height in heights if height is not None]
    journal = ledger.journal
    assert journal is not None
    assert len(sealed) == journal.sealed_entry_count
    assert heights[: len(sealed)] == sealed  # sealed entries come first
    assert sealed == sorted(sealed)
    assert set(sealed) == set(range(store.block_count()))


def test_alert_rows() -> None:
    _, store, wallets = build()
    view = dcep.RegulatorView.from_store(store)
    alerts = dcep.screen(view, [LargeValueRule(threshold_fen=1000, cash_threshold_fen=None)])
    rows = alert_rows(alerts)
    assert len(rows) == len(alerts) > 0
    for row, alert in zip(rows, alerts, strict=True):
        assert list(row) == list(ALERT_COLUMNS)
        assert row["total_fen"] == alert.total_fen
        assert row["entries"] == " ".join(map(str, alert.entries))
    assert str(wallets[0].address) in {row["subject"] for row in rows}


def test_dataframes_keep_integers() -> None:
    ledger, store, _ = build([(0, 1, 1250), (1, 2, 99)])
    postings = posting_rows(store)
    frame = to_dataframe(postings)
    assert frame["delta_fen"].dtype == "int64"
    assert frame["entry_number"].dtype == "int64"
    assert frame["accepted_at_us"].dtype == "int64"
    assert int(frame["delta_fen"].sum()) == sum(fen(row["delta_fen"]) for row in postings)
    assert str(frame["accepted_at"].dt.tz) == "UTC"
    stamps = frame["accepted_at"].astype("int64").tolist()
    assert stamps == frame["accepted_at_us"].tolist()

    balances = to_dataframe(balance_rows(store))
    assert balances["balance_fen"].dtype == "int64"
    assert balances["delta_fen"].dtype == "int64"
    flows = to_dataframe(flow_rows(dcep.RegulatorView.from_store(store)))
    assert flows["amount_fen"].dtype == "int64"
    assert flows["cash"].dtype == "bool"
    entries = to_dataframe(entry_rows(store))
    assert len(entries) == ledger.entry_count
    # Only transfers have an amount: pandas' nullable integer, never a float.
    assert entries["amount_fen"].dtype == pd.Int64Dtype()
    assert int(entries["amount_fen"].sum()) == 1250 + 99


def test_an_empty_table_keeps_its_columns(tmp_path: Path) -> None:
    frame = to_dataframe([], columns=ALERT_COLUMNS)
    assert len(frame) == 0
    # Each column in order, and after each x_us its timestamp x.
    expected = [
        c for name in ALERT_COLUMNS for c in (name, name[:-3]) if c == name or name.endswith("_us")
    ]
    assert list(frame.columns) == expected
    path = write_parquet([], tmp_path / "alerts.parquet", columns=ALERT_COLUMNS)
    assert pq.read_table(path).num_rows == 0
    with pytest.raises(dcep.InvalidFieldError, match="columns"):
        write_parquet([], tmp_path / "nothing.parquet")
    with pytest.raises(dcep.InvalidFieldError, match="not a column"):
        to_dataframe([{"colour": "red"}])


def test_parquet_round_trip_through_pyarrow_and_duckdb(tmp_path: Path) -> None:
    ledger, store, _ = build([(0, 1, 1250), (1, 2, 99), (2, 0, 7)])
    entries = entry_rows(store)
    view = dcep.RegulatorView.from_store(store)
    flows = flow_rows(view)
    postings = posting_rows(store)
    entries_path = write_parquet(entries, tmp_path / "entries.parquet")
    flows_path = write_parquet(flows, tmp_path / "flows.parquet")
    postings_path = write_parquet(postings, tmp_path / "postings.parquet")
    assert flows_path == str(tmp_path / "flows.parquet")

    table = pq.read_table(flows_path)
    assert table.schema.field("amount_fen").type == pa.int64()
    assert table.schema.field("time_us").type == pa.int64()
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert table.column("amount_fen").to_pylist() == [row["amount_fen"] for row in flows]
    entry_table = pq.read_table(entries_path)
    assert entry_table.num_rows == ledger.entry_count
    assert entry_table.drop_columns(["accepted_at"]).to_pylist() == entries

    flow_totals: dict[str, int] = collections.defaultdict(int)
    for row in flows:
        flow_totals[str(row["kind"])] += fen(row["amount_fen"])
    query = f"SELECT kind, sum(amount_fen) FROM '{flows_path}' GROUP BY kind ORDER BY kind"
    assert sql(query) == sorted(flow_totals.items())

    paid = sum(fen(row["amount_fen"]) for row in entries if row["kind"] == "transfer")
    query = f"SELECT sum(amount_fen), count(*) FROM '{entries_path}' WHERE kind = 'transfer'"
    assert sql(query) == [(paid, 3)]
    query = (
        f"SELECT sum(delta_fen) FROM '{postings_path}' WHERE account_kind IN ('vault', 'wallet')"
    )
    assert sql(query) == [(ledger.supply().outstanding.fen,)]


def test_a_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _, store, _ = build()
    monkeypatch.setitem(sys.modules, "pandas", None)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"pip install 'dcep\[data\]'"):
        to_dataframe(posting_rows(store))
    with pytest.raises(ImportError, match=r"pip install 'dcep\[data\]'"):
        write_parquet(posting_rows(store), tmp_path / "postings.parquet")


def test_import_dcep_export_imports_neither_pandas_nor_pyarrow() -> None:
    script = (
        "import json, sys\n"
        "import dcep\n"
        "import dcep.export\n"
        "heavy = ('pandas', 'pyarrow', 'numpy', 'duckdb')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == []


def test_trace_rows_keep_each_holder_balanced() -> None:
    from dcep.export import (
        TRACE_EDGE_COLUMNS,
        TRACE_NODE_COLUMNS,
        trace_edge_rows,
        trace_node_rows,
    )

    ledger = dcep.Ledger()
    view = dcep.RegulatorView.attach(ledger)
    pboc = dcep.CentralBank(ledger, seed=5)
    icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=dcep.cny("100000"))
    pboc.issue(icbc, dcep.cny("100000"))
    wallets = [icbc.open_wallet(category=4, phone=f"1380000{i:04d}") for i in range(4)]
    icbc.fund(wallets[0], dcep.cny("900"))
    icbc.fund(wallets[1], dcep.cny("500"))
    wallets[0].pay(wallets[1], dcep.cny("300"))
    wallets[1].pay(wallets[2], dcep.cny("450"))
    wallets[2].pay(wallets[3], dcep.cny("100"))
    for rule in dcep.regulator.AllocationRule:
        graph = dcep.trace_forward(view, wallets[0].address, rule=rule)
        edges, nodes = trace_edge_rows(graph), trace_node_rows(graph)
        assert [tuple(row) for row in edges] == [TRACE_EDGE_COLUMNS] * len(graph.edges)
        assert [tuple(row) for row in nodes] == [TRACE_NODE_COLUMNS] * len(graph.nodes)
        assert {row["entry_number"] for row in edges} == {e.entry_number for e in graph.edges}
        for row in nodes:  # forward: seeded + in + absorbed == out + untraced
            assert isinstance(row["seeded_fen"], int)
            assert isinstance(row["in_fen"], int)
            assert isinstance(row["absorbed_fen"], int)
            assert isinstance(row["out_fen"], int)
            assert isinstance(row["untraced_fen"], int)
            assert (
                row["seeded_fen"] + row["in_fen"] + row["absorbed_fen"]
                == row["out_fen"] + row["untraced_fen"]
            )
        for row in edges:
            assert isinstance(row["amount_fen"], int)
            assert isinstance(row["flow_fen"], int)
            assert 0 <= row["amount_fen"] <= row["flow_fen"]


def test_the_export_command_refuses_what_is_not_a_ledger(tmp_path: Path) -> None:
    from dcep.cli import main

    assert main(["export", str(tmp_path / "missing.db"), str(tmp_path / "out")]) == 2
    not_a_ledger = tmp_path / "notes.db"
    not_a_ledger.write_bytes(b"not a database at all, just some bytes" * 100)
    assert main(["export", str(not_a_ledger), str(tmp_path / "out")]) == 1
    assert not any((tmp_path / "out").glob("*.parquet"))


def test_the_export_command_writes_four_tables_that_add_up(tmp_path: Path) -> None:
    from dcep.cli import main

    path = tmp_path / "city.db"
    ledger = dcep.Ledger.open(path, block_size=4)
    pboc = dcep.CentralBank(ledger, seed=11)
    icbc = pboc.authorise_bank("ICBC", code="MA.156.1100.01", reserves=dcep.cny("100000"))
    pboc.issue(icbc, dcep.cny("5000"))
    alice = icbc.open_wallet(category=4, phone="13800000000")
    bob = icbc.open_wallet(category=4, phone="13900000000")
    icbc.fund(alice, dcep.cny("900"))
    alice.pay(bob, dcep.cny("12.50"))
    balances = {str(w.address): ledger.balance(w.address).fen for w in (alice, bob)}
    ledger.close()
    assert main(["export", str(path), str(tmp_path / "out")]) == 0
    tables = {p.stem for p in (tmp_path / "out").glob("*.parquet")}
    assert tables == {"entries", "postings", "balances", "flows"}
    postings = tmp_path / "out" / "postings.parquet"
    per_wallet = sql(
        f"SELECT owner, sum(delta_fen) FROM '{postings}' WHERE account_kind = 'wallet' "
        "GROUP BY owner"
    )
    assert {str(owner): total for owner, total in per_wallet} == balances
