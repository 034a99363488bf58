"""dcep.datasets: a table of transfers replays into a ledger that agrees with the table.

The properties, not copied outputs: each account's wallet ends with what the
table says it received, less what it sent, plus the top-ups, and the top-ups
are the least that let every payment go through in time order; every row
becomes one transfer at the row's own time; the invariants hold; the same
table and seed give the same journal bytes, from a list of dicts, a CSV file
or a DataFrame alike; a bad row refuses the whole replay and changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dcep
import dcep.journal
from dcep.datasets import (
    FUNDING_COLUMNS,
    ID_MAP_COLUMNS,
    POOL_ACCOUNT,
    ReplayResult,
    TransferColumns,
    read_csv,
    read_id_map,
    replay_transfers,
    uncapped_policy,
)
from dcep.export import entry_rows

START = 1_700_000_000  # 2023-11-14, in seconds
Row = dict[str, object]


@st.composite
def tables(draw: st.DrawFn, *, max_rows: int = 25) -> list[Row]:
    """Transfers among 2 to 6 accounts, at few distinct times (so ties and disorder happen)."""
    accounts = [f"acct-{n}" for n in range(draw(st.integers(2, 6)))]
    pairs = st.tuples(st.sampled_from(accounts), st.sampled_from(accounts)).filter(
        lambda pair: pair[0] != pair[1]
    )
    rows = draw(
        st.lists(
            st.tuples(pairs, st.integers(1, 10**9), st.integers(0, 8)),
            min_size=1,
            max_size=max_rows,
        )
    )
    return [
        {
            "src": src,
            "dst": dst,
            "amount": f"{fen // 100}.{fen % 100:02d}",
            "timestamp": START + 3600 * hour,
        }
        for (src, dst), fen, hour in rows
    ]


def fen_of(row: Row) -> int:
    return int(Decimal(str(row["amount"])) * 100)


def time_order(table: Sequence[Row]) -> list[int]:
    """Row positions by time, equal times in table order."""
    return sorted(
        range(len(table)), key=lambda index: (int(str(table[index]["timestamp"])), index)
    )


def least_top_ups(table: Sequence[Row]) -> dict[str, int]:
    """Per account, the least money it must be given so that no payment overdraws it.

    The balance after each payment is given + received - sent so far, so
    what must have been given is the largest (sent - received) over the
    prefixes of the time-ordered table, or nothing.
    """
    running: dict[str, int] = {}
    needed: dict[str, int] = {}
    for index in time_order(table):
        row = table[index]
        src, dst, fen = str(row["src"]), str(row["dst"]), fen_of(row)
        running[src] = running.get(src, 0) + fen
        needed[src] = max(needed.get(src, 0), running[src])
        running[dst] = running.get(dst, 0) - fen
    return {account: needed.get(account, 0) for account in running}


def journal_of(
    table: object, seed: int = 7, **options: object
) -> tuple[list[tuple[int, bytes]], ReplayResult]:
    """Replay into a fresh ledger; each accepted entry's time and envelope, and the result."""
    ledger = dcep.Ledger(policy=uncapped_policy(), clock=dcep.ManualClock(0))
    envelopes: list[tuple[int, bytes]] = []
    ledger.subscribe(
        lambda entry: envelopes.append((entry.receipt.accepted_at_us, entry.signed.to_bytes()))
    )
    result = replay_transfers(table, ledger=ledger, seed=seed, **options)  # type: ignore[arg-type]
    return envelopes, result


@given(tables())
def test_balances_are_top_ups_less_sent_plus_received(table: list[Row]) -> None:
    result = replay_transfers(table, seed=1)
    ledger = result.ledger
    assert result.accepted == len(table) == result.rows
    assert result.refused == {}
    funded: dict[str, int] = {}
    for funding in result.fundings:
        funded[funding.external_id] = funded.get(funding.external_id, 0) + funding.amount.fen
    assert funded == {k: v for k, v in least_top_ups(table).items() if v}
    flows: dict[str, int] = {}
    for row in table:
        flows[str(row["src"])] = flows.get(str(row["src"]), 0) - fen_of(row)
        flows[str(row["dst"])] = flows.get(str(row["dst"]), 0) + fen_of(row)
    assert set(result.addresses) == set(flows)
    for account, net in flows.items():
        balance = ledger.balance(result.addresses[account]).fen
        assert balance == funded.get(account, 0) + net
    supply = ledger.check_invariants()
    assert supply.in_wallets.fen == sum(funded.values())
    assert supply.in_vaults.fen == 0  # issued exactly what the top-ups took


@given(tables())
def test_every_row_is_one_transfer_at_its_own_time(table: list[Row]) -> None:
    result = replay_transfers(table, seed=2)
    journal = result.ledger.journal
    assert journal is not None
    by_number = {row["entry_number"]: row for row in entry_rows(journal.store)}
    assert sorted(result.entries) == list(range(len(table)))
    for index, number in result.entries.items():
        entry, row = by_number[number], table[index]
        assert entry["kind"] == "transfer"
        assert entry["payer"] == str(result.addresses[str(row["src"])])
        assert entry["payee"] == str(result.addresses[str(row["dst"])])
        assert entry["amount_fen"] == fen_of(row)
        assert entry["accepted_at_us"] == int(str(row["timestamp"])) * 1_000_000
    # Replayed in time order, equal times in table order.
    numbers = [result.entries[index] for index in time_order(table)]
    assert numbers == sorted(numbers)
    transfers = sum(1 for entry in by_number.values() if entry["kind"] == "transfer")
    assert transfers == len(table)
    for funding in result.fundings:
        assert by_number[funding.entry]["kind"] == "fund"
        assert funding.entry < result.entries[funding.row]


@settings(max_examples=25)
@given(tables(max_rows=12))
def test_the_same_table_and_seed_give_the_same_journal(table: list[Row]) -> None:
    first, result = journal_of(table)
    second, _ = journal_of([dict(row) for row in table])
    assert first == second
    other_seed, _ = journal_of(table, seed=8)
    assert other_seed != first
    assert result.external_ids == {address: key for key, address in result.addresses.items()}


def test_the_id_map_round_trips_through_csv(tmp_path: Path) -> None:
    table = [
        {"src": "C1231006815", "dst": "M1979787155", "amount": "9839.64", "timestamp": 1},
        {"src": "M1979787155", "dst": "客户-7", "amount": "100", "timestamp": 2},
        {"src": "客户-7", "dst": 'a,b "quoted"', "amount": "0.01", "timestamp": 3},
    ]
    result = replay_transfers(table)
    rows = result.id_map_rows()
    assert [tuple(row) for row in rows] == [ID_MAP_COLUMNS] * 4
    # In the order the wallets opened: the order the ids first appear in.
    assert [row["external_id"] for row in rows] == [
        "C1231006815",
        "M1979787155",
        "客户-7",
        'a,b "quoted"',
    ]
    path = result.write_id_map(tmp_path / "ids.csv")
    assert read_id_map(path) == dict(result.addresses)
    assert [tuple(row) for row in result.funding_rows()] == [FUNDING_COLUMNS] * len(
        result.fundings
    )


def test_custom_column_names_and_units() -> None:
    # PaySim's names: the hour of the simulation as the time, the type as a memo.
    paysim = [
        {"step": 1, "type": "TRANSFER", "amount": 181, "nameOrig": "C1", "nameDest": "C2"},
        {"step": 1, "type": "CASH_OUT", "amount": 50, "nameOrig": "C2", "nameDest": "C3"},
        {"step": 2, "type": "PAYMENT", "amount": 31, "nameOrig": "C3", "nameDest": "M1"},
    ]
    columns = TransferColumns(
        sender="nameOrig", receiver="nameDest", amount="amount", time="step", memo="type"
    )
    envelopes, result = journal_of(paysim, columns=columns, time_unit="h")
    plain = [
        {"src": r["nameOrig"], "dst": r["nameDest"], "amount": r["amount"], "timestamp": r["step"]}
        for r in paysim
    ]
    plain_envelopes, plain_result = journal_of(plain, time_unit="h")
    assert result.accepted == 3
    assert len(envelopes) == len(plain_envelopes)
    for account, address in result.addresses.items():
        assert result.ledger.balance(address) == plain_result.ledger.balance(
            plain_result.addresses[account]
        )
    memos = [
        dcep.instructions.SignedInstruction.from_bytes(envelope).instruction
        for _, envelope in envelopes
    ]
    assert [m.memo for m in memos if isinstance(m, dcep.instructions.Transfer)] == [
        "TRANSFER",
        "CASH_OUT",
        "PAYMENT",
    ]
    assert [time for time, _ in envelopes][-1] == 2 * 3_600_000_000  # hours since 1970


def _store(result: ReplayResult) -> dcep.journal.Store:
    journal = result.ledger.journal
    assert journal is not None
    return journal.store


def _entry_times(result: ReplayResult) -> dict[int, int]:
    """Entry number to the time it was accepted, from the journal."""
    return {
        int(str(entry["entry_number"])): int(str(entry["accepted_at_us"]))
        for entry in entry_rows(_store(result))
    }


def _write_csv(path: Path, table: Sequence[Mapping[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    return path


def test_a_csv_file_and_a_dataframe_give_the_same_journal(tmp_path: Path) -> None:
    table = [
        {"from": "A", "to": "B", "yuan": "120.50", "when": "2024-03-01T09:00:00+08:00"},
        {"from": "B", "to": "C", "yuan": "20.25", "when": "2024-03-01T08:30:00+08:00"},
        {"from": "C", "to": "A", "yuan": "99.99", "when": "2024-03-01T09:00:00+08:00"},
        {"from": "A", "to": "C", "yuan": "0.01", "when": "2024-03-02T00:00:00Z"},
    ]
    columns = TransferColumns(sender="from", receiver="to", amount="yuan", time="when")
    path = _write_csv(tmp_path / "transfers.csv", table)
    from_rows, _ = journal_of(table, columns=columns)
    from_csv, _ = journal_of(read_csv(path), columns=columns)
    frame = pd.read_csv(path, dtype=str)
    from_frame, _ = journal_of(frame, columns=columns)
    # The same data in pandas' own types: integer fen and aware timestamps.
    typed = pd.DataFrame(
        {
            "from": frame["from"],
            "to": frame["to"],
            "fen": [12050, 2025, 9999, 1],
            "when": pd.to_datetime(frame["when"], utc=True, format="ISO8601"),
        }
    )
    typed_columns = TransferColumns(sender="from", receiver="to", amount="fen", time="when")
    from_typed, _ = journal_of(typed, columns=typed_columns, amount_unit="fen")
    assert from_rows == from_csv == from_frame == from_typed
    assert len(from_rows) > 4


BAD_AMOUNTS: list[tuple[object, dcep.Reason]] = [
    ("-5.00", dcep.Reason.AMOUNT_NEGATIVE),
    (-5, dcep.Reason.AMOUNT_NEGATIVE),
    ("0", dcep.Reason.AMOUNT_NOT_POSITIVE),
    (0.0, dcep.Reason.AMOUNT_NOT_POSITIVE),
    (0.1, dcep.Reason.AMOUNT_NOT_INTEGER),  # 0.1000000000000000055... yuan
    (12.345, dcep.Reason.AMOUNT_NOT_INTEGER),
    (Decimal("1.005"), dcep.Reason.AMOUNT_NOT_INTEGER),
    ("1.005", dcep.Reason.AMOUNT_MALFORMED),
    ("twelve", dcep.Reason.AMOUNT_MALFORMED),
    ("", dcep.Reason.AMOUNT_MALFORMED),
    (None, dcep.Reason.AMOUNT_MALFORMED),
    (float("nan"), dcep.Reason.AMOUNT_MALFORMED),
    (True, dcep.Reason.AMOUNT_MALFORMED),
    ("92233720368547758.08", dcep.Reason.AMOUNT_TOO_LARGE),
]


@pytest.mark.parametrize(("amount", "reason"), BAD_AMOUNTS, ids=repr)
def test_a_bad_amount_refuses_the_replay_naming_the_row(
    amount: object, reason: dcep.Reason
) -> None:
    table: list[Row] = [
        {"src": "A", "dst": "B", "amount": "10", "timestamp": START},
        {"src": "B", "dst": "C", "amount": "2.5", "timestamp": START + 1},
        {"src": "C", "dst": "A", "amount": amount, "timestamp": START + 2},
    ]
    ledger = dcep.Ledger.with_journal(policy=uncapped_policy())
    clock_before = ledger.clock.now_us()
    with pytest.raises(dcep.AmountError) as caught:
        replay_transfers(table, ledger=ledger)
    assert caught.value.reason is reason
    assert "row 2:" in str(caught.value)
    assert caught.value.field == "amount"
    # Checked before anything happened: no central bank, no entry, the clock unmoved.
    assert ledger.entry_count == 0
    assert ledger.central_bank is None
    assert ledger.clock.now_us() == clock_before


def test_exact_numbers_are_accepted_in_either_unit() -> None:
    table: list[Row] = [
        {"src": "A", "dst": "B", "amount": 12.5, "timestamp": 1},  # a float that is whole fen
        {"src": "A", "dst": "B", "amount": Decimal("0.10"), "timestamp": 2},
        {"src": "A", "dst": "B", "amount": 3, "timestamp": 3},
        {"src": "A", "dst": "B", "amount": " 7.01 ", "timestamp": 4},
    ]
    result = replay_transfers(table)
    assert result.ledger.balance(result.addresses["B"]).fen == 1250 + 10 + 300 + 701
    in_fen = [
        {**row, "amount": fen} for row, fen in zip(table, [1250, 10, "300", 701.0], strict=True)
    ]
    fen_result = replay_transfers(in_fen, amount_unit="fen")
    assert fen_result.ledger.balance(fen_result.addresses["B"]).fen == 2261
    with pytest.raises(dcep.AmountError, match=r"row 0: .*whole number of fen"):
        replay_transfers([{**table[0], "amount": "12.5"}], amount_unit="fen")


BAD_ROWS: list[tuple[Row, str, str]] = [
    (
        {"src": "A", "dst": "B", "amount": "1", "timestamp": "2024-03-01T09:00"},
        "timestamp",
        "zone",
    ),
    ({"src": "A", "dst": "B", "amount": "1", "timestamp": "yesterday"}, "timestamp", "ISO 8601"),
    ({"src": "A", "dst": "B", "amount": "1", "timestamp": 1.5e-7}, "timestamp", "microsecond"),
    ({"src": "A", "dst": "B", "amount": "1", "timestamp": None}, "timestamp", "not a time"),
    ({"src": "", "dst": "B", "amount": "1", "timestamp": 1}, "src", "account id"),
    ({"src": 1.5, "dst": "B", "amount": "1", "timestamp": 1}, "src", "account id"),
    ({"src": "A", "amount": "1", "timestamp": 1}, "dst", "no column"),
]


@pytest.mark.parametrize(("bad", "field", "words"), BAD_ROWS, ids=repr)
def test_a_bad_time_or_id_refuses_the_replay_naming_the_row(
    bad: Row, field: str, words: str
) -> None:
    good: Row = {"src": "A", "dst": "B", "amount": "1", "timestamp": 1}
    ledger = dcep.Ledger()
    with pytest.raises(dcep.InvalidFieldError, match=f"row 1: .*{words}") as caught:
        replay_transfers([good, bad], ledger=ledger)
    assert caught.value.field == field
    assert ledger.entry_count == 0


def test_naive_times_are_read_in_the_zone_given() -> None:
    beijing = dt.timezone(dt.timedelta(hours=8))
    table: list[Row] = [
        {"src": "A", "dst": "B", "amount": "1", "timestamp": "2022/09/01 00:20"},  # AMLworld's
        {"src": "B", "dst": "A", "amount": "1", "timestamp": dt.datetime(2022, 9, 1, 0, 21)},
    ]
    result = replay_transfers(table, time_format="%Y/%m/%d %H:%M", timezone=beijing)
    times = list(_entry_times(result).values())
    expected = dt.datetime(2022, 9, 1, 0, 20, tzinfo=beijing)
    assert times[-2] == int(expected.timestamp()) * 1_000_000
    assert times[-1] - times[-2] == 60_000_000


def test_a_clock_past_the_data_shifts_every_time_by_one_offset() -> None:
    ledger = dcep.Ledger.with_journal(policy=uncapped_policy())  # its clock starts in 2026
    table: list[Row] = [
        {"src": "A", "dst": "B", "amount": "5", "timestamp": "2020-01-01T00:00:00Z"},
        {"src": "B", "dst": "A", "amount": "5", "timestamp": "2020-01-01T00:00:07Z"},
    ]
    result = replay_transfers(table, ledger=ledger)
    first = int(dt.datetime(2020, 1, 1, tzinfo=dt.UTC).timestamp()) * 1_000_000
    assert result.time_offset_us == ledger.clock.now_us() - 7_000_000 - first
    times = _entry_times(result)
    assert [times[result.entries[row]] - result.time_offset_us for row in (0, 1)] == [
        first,
        first + 7_000_000,
    ]


def test_self_payments_and_caps_are_refused_by_reason_and_counted() -> None:
    table: list[Row] = [
        {"src": "A", "dst": "B", "amount": "400", "timestamp": 1},
        {"src": "A", "dst": "A", "amount": "1", "timestamp": 2},
        {"src": "B", "dst": "C", "amount": "600", "timestamp": 3},  # above category 4's ¥500
        {"src": "B", "dst": "C", "amount": "300", "timestamp": 4},
        {"src": "C", "dst": "A", "amount": "300", "timestamp": 5},
    ]
    result = replay_transfers(table, policy=dcep.Policy(), category=4)
    assert result.refused == {
        1: dcep.Reason.SELF_PAYMENT,
        2: dcep.Reason.SINGLE_PAYMENT_CAP_EXCEEDED,
    }
    assert result.refused_by_reason() == {
        dcep.Reason.SELF_PAYMENT: 1,
        dcep.Reason.SINGLE_PAYMENT_CAP_EXCEEDED: 1,
    }
    assert sorted(result.entries) == [0, 3, 4]
    # The refused payment's top-up stays in B's wallet, and is still a funding.
    funded = {f.row: (f.external_id, f.amount.fen) for f in result.fundings}
    assert funded == {0: ("A", 40000), 2: ("B", 20000)}
    balances = {k: result.ledger.balance(a).fen for k, a in result.addresses.items()}
    assert balances == {"A": 30000, "B": 30000, "C": 0}
    result.ledger.check_invariants()


def test_categories_banks_and_progress() -> None:
    table: list[Row] = [
        {"src": f"acct-{n % 7}", "dst": f"acct-{(n * 3 + 1) % 7}", "amount": "10", "timestamp": n}
        for n in range(40)
        if n % 7 != (n * 3 + 1) % 7
    ]
    seen: list[tuple[int, int]] = []

    def category(account: str) -> int:
        return 4 if account.endswith(("1", "2")) else 2

    result = replay_transfers(
        table, banks=3, category=category, batch_size=4, progress=lambda *p: seen.append(p)
    )
    assert len(result.banks) == 3
    assert seen[-1] == (len(table), len(table))
    assert [done for done, _ in seen] == sorted({done for done, _ in seen})
    operators = {result.ledger.wallet(a).operator for a in result.addresses.values()}
    assert operators == {bank.address for bank in result.banks}
    for account, wallet in result.wallets.items():
        assert int(wallet.category) == category(account)
    for bank in result.banks:
        books = result.ledger.bank(bank.address)
        assert books.vault.fen == 0
        # Deposits are what the wallets sent in all, less what the top-ups took.
        assert 0 < books.customer_deposits.fen <= books.reserves_pledged.fen
    for account, address in result.addresses.items():
        linked = result.ledger.wallet(address).linked_account
        assert linked == ("" if category(account) == 4 else POOL_ACCOUNT)
    result.ledger.check_invariants()


def test_tracing_follows_the_data_sets_money() -> None:
    ledger = dcep.Ledger(policy=uncapped_policy(), clock=dcep.ManualClock(0))
    view = dcep.RegulatorView.attach(ledger)
    table: list[Row] = [
        {"src": "mule-in", "dst": "layer-1", "amount": "9000", "timestamp": 100},
        {"src": "layer-1", "dst": "layer-2", "amount": "8900", "timestamp": 200},
        {"src": "layer-2", "dst": "cash-out", "amount": "8800", "timestamp": 300},
        {"src": "bystander", "dst": "shop", "amount": "12", "timestamp": 250},
    ]
    result = replay_transfers(table, ledger=ledger)
    ids = result.addresses
    graph = dcep.trace_forward(view, ids["mule-in"], max_hops=3)
    graph.check()
    assert {ids["layer-1"], ids["layer-2"], ids["cash-out"]} <= graph.addresses()
    assert ids["shop"] not in graph.addresses()
    assert graph.node(ids["cash-out"]).in_fen == 880000
    back = dcep.trace_backward(view, ids["cash-out"], max_hops=3)
    assert ids["mule-in"] in back.addresses()


def test_rows_are_mappings_or_a_frame_not_a_path(tmp_path: Path) -> None:
    with pytest.raises(dcep.InvalidFieldError, match="read_csv"):
        replay_transfers(str(tmp_path / "x.csv"))
    with pytest.raises(dcep.InvalidFieldError, match="mapping"):
        replay_transfers([("A", "B", "1", 1)])
    with pytest.raises(dcep.InvalidFieldError, match="no column 'dst'"):
        replay_transfers(pd.DataFrame({"src": ["A"], "amount": ["1"], "timestamp": [1]}))


def test_read_csv_refuses_a_header_naming_a_column_twice(tmp_path: Path) -> None:
    # IBM's AMLworld files name "Account" twice: rename one before replaying.
    path = tmp_path / "aml.csv"
    path.write_text("Timestamp,Account,Account,Amount\n2022/09/01 00:20,1,2,3.00\n", "utf-8")
    with pytest.raises(dcep.InvalidFieldError, match="'Account' twice"):
        read_csv(path)
    path.write_text("\ufeffa,b\n1,2\n\n3,4\n", "utf-8")
    assert read_csv(path) == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]


def test_an_empty_table_gives_a_ledger_with_no_wallets() -> None:
    result = replay_transfers([])
    assert result.rows == result.accepted == 0
    assert result.banks == ()
    assert result.addresses == {}
    result.ledger.check_invariants()


def test_read_csv_names_a_short_row(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("src,dst,amount,timestamp\nA,B,1,1\n\nB,A,1\n", "utf-8")
    with pytest.raises(dcep.InvalidFieldError, match="row 1: 3 values"):
        read_csv(path)


def test_import_does_not_import_pandas() -> None:
    script = "import sys, dcep.datasets; print('pandas' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
