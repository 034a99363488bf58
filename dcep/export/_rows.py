"""Journal, flows and alerts as plain rows: lists of dicts of ``str``, ``int`` and ``None``.

Each function returns one row per record, in journal order, every row a dict
with the same keys in the order of its ``*_COLUMNS`` tuple.  Money is integer
fen (columns ending ``_fen``), times integer microseconds since 1970 UTC
(columns ending ``_us``), addresses their text form.  Nothing here needs
an optional library.

Tables and their columns:

``entry_rows`` (:data:`ENTRY_COLUMNS`), one row per journal entry
    ``entry_number``, ``accepted_at_us``, ``kind`` (the instruction kind,
    lower case: ``"transfer"``), ``signer``, ``instruction_id`` (decimal
    text: ids are 128 bits), ``payer``, ``payee`` and ``amount_fen`` (for
    transfers; ``None`` otherwise), ``block_height`` (``None`` until sealed).
``posting_rows`` (:data:`POSTING_COLUMNS`), one row per posting
    ``entry_number``, ``accepted_at_us``, ``account_kind`` (``"wallet"``,
    ``"vault"``, ``"reserves"``, ``"deposit"``, ``"cash"``), ``owner``,
    ``account_id`` (the deposit account, else ``""``), ``delta_fen``.
``balance_rows`` (:data:`BALANCE_COLUMNS`), balances over time
    for each account of one kind (wallets by default), one row per entry that
    changed it: the posting columns without ``account_kind``, then
    ``balance_fen``, the running sum after that entry.
``flow_rows`` (:data:`FLOW_COLUMNS`), one row per :class:`~dcep.regulator.FundsFlow`
    ``entry_number``, ``time_us``, ``kind``, ``payer``, ``payee``,
    ``amount_fen``, ``bank`` (or ``None``), ``cash`` (a ``bool``), and of a
    waterfall payment's amount ``topped_up_fen`` from the payer's linked deposit
    and ``swept_fen`` to the payee's (0 for every other flow).
``alert_rows`` (:data:`ALERT_COLUMNS`), one row per :class:`~dcep.regulator.Alert`
    ``rule``, ``subject``, ``time_us``, ``total_fen``, ``entry_count``,
    ``wallets`` and ``entries`` (space-separated text, in the alert's order),
    ``detail``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Final

from dcep.core._records import AccountKind
from dcep.errors import JournalError, Reason
from dcep.instructions._encoding import SignedInstruction
from dcep.instructions._kinds import Transfer
from dcep.journal._entries import GENESIS_HASH, BlockHeader, JournalEntry, chain_hash
from dcep.journal._store import Store
from dcep.regulator._alerts import Alert
from dcep.regulator._flowgraph import FlowGraph
from dcep.regulator._view import RegulatorView

__all__ = [
    "ALERT_COLUMNS",
    "BALANCE_COLUMNS",
    "COLUMN_TYPES",
    "ENTRY_COLUMNS",
    "FLOW_COLUMNS",
    "POSTING_COLUMNS",
    "TRACE_EDGE_COLUMNS",
    "TRACE_NODE_COLUMNS",
    "Cell",
    "Row",
    "alert_rows",
    "balance_rows",
    "entry_rows",
    "flow_rows",
    "posting_rows",
    "trace_edge_rows",
    "trace_node_rows",
]

#: One value of a row.  (``bool`` is an ``int``: only the ``cash`` column holds one;
#: only an alert's ``score``, a ranking and never money, is a ``float``.)
Cell = str | int | float | None
#: One row: column name to value, keys in the order of the table's ``*_COLUMNS``.
Row = dict[str, Cell]

ENTRY_COLUMNS: Final = (
    "entry_number",
    "accepted_at_us",
    "kind",
    "signer",
    "instruction_id",
    "payer",
    "payee",
    "amount_fen",
    "block_height",
)
POSTING_COLUMNS: Final = (
    "entry_number",
    "accepted_at_us",
    "account_kind",
    "owner",
    "account_id",
    "delta_fen",
)
BALANCE_COLUMNS: Final = (
    "entry_number",
    "accepted_at_us",
    "owner",
    "account_id",
    "delta_fen",
    "balance_fen",
)
FLOW_COLUMNS: Final = (
    "entry_number",
    "time_us",
    "kind",
    "payer",
    "payee",
    "amount_fen",
    "bank",
    "cash",
    "topped_up_fen",
    "swept_fen",
)
ALERT_COLUMNS: Final = (
    "rule",
    "typology",
    "score",
    "subject",
    "start_us",
    "time_us",
    "total_fen",
    "entry_count",
    "wallets",
    "entries",
    "detail",
)

TRACE_EDGE_COLUMNS: Final = (
    "entry_number",
    "time_us",
    "kind",
    "payer",
    "payee",
    "amount_fen",
    "flow_fen",
)
TRACE_NODE_COLUMNS: Final = (
    "address",
    "role",
    "hop",
    "seeded_fen",
    "in_fen",
    "out_fen",
    "absorbed_fen",
    "untraced_fen",
)

#: The Python type of every column of every table; a column name means one thing everywhere.
COLUMN_TYPES: Final[Mapping[str, type]] = {
    "entry_number": int,
    "accepted_at_us": int,
    "time_us": int,
    "kind": str,
    "signer": str,
    "instruction_id": str,
    "payer": str,
    "payee": str,
    "amount_fen": int,
    "block_height": int,
    "account_kind": str,
    "owner": str,
    "account_id": str,
    "delta_fen": int,
    "balance_fen": int,
    "bank": str,
    "cash": bool,
    "topped_up_fen": int,
    "swept_fen": int,
    "rule": str,
    "typology": str,
    "score": float,
    "start_us": int,
    "subject": str,
    "total_fen": int,
    "entry_count": int,
    "wallets": str,
    "entries": str,
    "flow_fen": int,
    "address": str,
    "role": str,
    "hop": int,
    "seeded_fen": int,
    "in_fen": int,
    "out_fen": int,
    "absorbed_fen": int,
    "untraced_fen": int,
    "detail": str,
}


def _entries(store: Store) -> Iterator[JournalEntry]:
    """Every entry of ``store`` in order, its hash chain checked as it is read."""
    previous_hash = GENESIS_HASH
    for expected, (number, body, stored_hash) in enumerate(store.read_entries()):
        if chain_hash(previous_hash, body) != stored_hash:
            raise JournalError(
                Reason.JOURNAL_CHAIN_BROKEN, "stored hash does not match", entry=number
            )
        entry = JournalEntry.decode(body, previous_hash)
        if entry.number != number or number != expected:
            raise JournalError(Reason.JOURNAL_CHAIN_BROKEN, "out of order", entry=number)
        yield entry
        previous_hash = stored_hash


def _block_heights(store: Store) -> dict[int, int]:
    """The block height of each sealed entry, by entry number."""
    heights: dict[int, int] = {}
    for height, raw, _signature in store.read_blocks():
        header = BlockHeader.decode(raw)
        for number in range(header.first_entry, header.first_entry + header.entry_count):
            heights[number] = height
    return heights


def entry_rows(store: Store) -> list[Row]:
    """One row per journal entry of ``store`` (:data:`ENTRY_COLUMNS`), in order.

    Raises :class:`~dcep.JournalError` if the stored hash chain is broken.
    """
    heights = _block_heights(store)
    rows: list[Row] = []
    for entry in _entries(store):
        signed = SignedInstruction.from_bytes(entry.envelope)
        instruction = signed.instruction
        payment = instruction if isinstance(instruction, Transfer) else None
        rows.append(
            {
                "entry_number": entry.number,
                "accepted_at_us": entry.accepted_at_us,
                "kind": instruction.KIND.name.lower(),
                "signer": str(signed.signer.address),
                "instruction_id": str(instruction.id),
                "payer": None if payment is None else str(payment.payer),
                "payee": None if payment is None else str(payment.payee),
                "amount_fen": None if payment is None else payment.amount.fen,
                "block_height": heights.get(entry.number),
            }
        )
    return rows


def posting_rows(store: Store) -> list[Row]:
    """One row per posting of every entry of ``store`` (:data:`POSTING_COLUMNS`), in order.

    Raises :class:`~dcep.JournalError` if the stored hash chain is broken.
    """
    return [
        {
            "entry_number": entry.number,
            "accepted_at_us": entry.accepted_at_us,
            "account_kind": posting.kind.value,
            "owner": str(posting.owner),
            "account_id": posting.account_id,
            "delta_fen": posting.delta_fen,
        }
        for entry in _entries(store)
        for posting in entry.postings
    ]


def balance_rows(store: Store, kind: AccountKind = AccountKind.WALLET) -> list[Row]:
    """Balances over time (:data:`BALANCE_COLUMNS`) of every ``kind`` account, in fen.

    One row for each entry that changed an account, with the entry's net
    change and the balance after it (the running sum of the account's
    postings from the first entry).  The last row of each ``owner`` (and
    ``account_id``) is that account's balance now; for wallets, what
    ``ledger.balance(address)`` says.  Rows are in journal order, and by
    first posting within an entry.
    """
    balances: dict[tuple[str, str], int] = {}
    rows: list[Row] = []
    for entry in _entries(store):
        changes: dict[tuple[str, str], int] = {}
        for posting in entry.postings:
            if posting.kind is kind:
                account = (str(posting.owner), posting.account_id)
                changes[account] = changes.get(account, 0) + posting.delta_fen
        for (owner, account_id), delta in changes.items():
            balance = balances[owner, account_id] = balances.get((owner, account_id), 0) + delta
            rows.append(
                {
                    "entry_number": entry.number,
                    "accepted_at_us": entry.accepted_at_us,
                    "owner": owner,
                    "account_id": account_id,
                    "delta_fen": delta,
                    "balance_fen": balance,
                }
            )
    return rows


def flow_rows(view: RegulatorView) -> list[Row]:
    """One row per flow the regulator's ``view`` holds (:data:`FLOW_COLUMNS`), in journal order."""
    return [
        {
            "entry_number": flow.entry_number,
            "time_us": flow.time_us,
            "kind": flow.kind.name.lower(),
            "payer": str(flow.payer),
            "payee": str(flow.payee),
            "amount_fen": flow.amount_fen,
            "bank": None if flow.bank is None else str(flow.bank),
            "cash": flow.cash,
            "topped_up_fen": flow.topped_up_fen,
            "swept_fen": flow.swept_fen,
        }
        for flow in sorted(view.flows(), key=lambda flow: flow.entry_number)
    ]


def alert_rows(alerts: Iterable[Alert]) -> list[Row]:
    """One row per alert (:data:`ALERT_COLUMNS`), in the order given."""
    return [
        {
            "rule": alert.rule,
            "typology": alert.typology,
            "score": alert.score,
            "subject": str(alert.subject),
            "start_us": alert.start_us,
            "time_us": alert.time_us,
            "total_fen": alert.total_fen,
            "entry_count": len(alert.entries),
            "wallets": " ".join(str(wallet) for wallet in alert.wallets),
            "entries": " ".join(str(number) for number in alert.entries),
            "detail": alert.detail,
        }
        for alert in alerts
    ]


def trace_edge_rows(graph: FlowGraph) -> list[Row]:
    """One row per entry on a trace (:data:`TRACE_EDGE_COLUMNS`), in the graph's order.

    ``amount_fen`` is the traced part of the entry's ``flow_fen``: all of it
    under poison, the suspect share under haircut and FIFO.
    """
    return [
        {
            "entry_number": edge.entry_number,
            "time_us": edge.time_us,
            "kind": edge.kind.name.lower(),
            "payer": str(edge.payer),
            "payee": str(edge.payee),
            "amount_fen": edge.amount_fen,
            "flow_fen": edge.flow_fen,
        }
        for edge in graph.edges
    ]


def trace_node_rows(graph: FlowGraph) -> list[Row]:
    """One row per holder on a trace (:data:`TRACE_NODE_COLUMNS`), in the graph's order.

    The amounts keep the node's balance of the trace: forward,
    ``seeded + in + absorbed == out + untraced``.
    """
    return [
        {
            "address": str(node.address),
            "role": node.role.value,
            "hop": node.hop,
            "seeded_fen": node.seeded_fen,
            "in_fen": node.in_fen,
            "out_fen": node.out_fen,
            "absorbed_fen": node.absorbed_fen,
            "untraced_fen": node.untraced_fen,
        }
        for node in graph.nodes
    ]
