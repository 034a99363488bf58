"""Replicas: independent nodes that re-verify a journal from its bytes alone.

In the spirit of the Blockchain Service Network, where many institutions run
nodes over one shared infrastructure, a :class:`Replica` trusts nothing it
reads: it checks every signature, re-executes every instruction in a ledger
of its own, recomputes every block header (chain, Merkle root, state
commitment, supply) and checks the central bank's signature on it, and
compares the stored snapshot with the state it reached itself.  The first
difference stops it with a :class:`~dcep.JournalError` naming the block and
entry.  It can follow a store that is still being written (another process
on the same SQLite file, or a :class:`~dcep.journal.MemoryStore`) by calling
:meth:`Replica.catch_up` again.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import final

import attrs

from dcep.core._sentinels import SentinelPool
from dcep.core._snapshot import Snapshot
from dcep.errors import JournalError, Reason
from dcep.journal._journal import Journal
from dcep.journal._store import MemoryStore, Store
from dcep.ledger._ledger import Ledger
from dcep.values._crypto import DEFAULT_NETWORK_ID
from dcep.values._policy import Policy

__all__ = ["Replica", "VerificationReport"]


@final
@attrs.frozen
class VerificationReport:
    """What a replica checked in one catch-up."""

    entries_verified: int
    blocks_verified: int
    entry_count: int
    block_height: int
    snapshot_checked: bool


@final
class Replica:
    """A node that re-executes and re-verifies another ledger's journal."""

    __slots__ = ("_journal", "_ledger", "_store")

    def __init__(
        self,
        store: Store,
        *,
        network_id: str = DEFAULT_NETWORK_ID,
        policy: Policy | None = None,
    ) -> None:
        self._store = store
        self._ledger = Ledger(network_id=network_id, policy=policy)
        # The replica's own journal only recomputes; it never writes anywhere real.
        self._journal = Journal(self._ledger, MemoryStore())

    @property
    def ledger(self) -> Ledger:
        """The replica's own ledger, rebuilt from the journal."""
        return self._ledger

    @property
    def block_height(self) -> int:
        """How many blocks the replica has verified."""
        return self._journal.height

    def catch_up(
        self,
        *,
        progress: Callable[[int], None] | None = None,
        sentinels: SentinelPool | None = None,
    ) -> VerificationReport:
        """Verify everything stored since the last catch-up; raise at the first fault.

        With ``sentinels`` (a :class:`~dcep.core.SentinelPool` for this network),
        signatures are checked in its worker processes, in parallel.
        """
        store = self._store
        start_entries = self._ledger.entry_count
        start_height = self._journal.height
        snapshot = store.latest_snapshot()
        checked = False
        if snapshot is not None and start_entries <= snapshot.entry_count:
            self._replay(snapshot.entry_count - start_entries, progress, sentinels, final=False)
            self._compare(snapshot)
            checked = True
        self._replay(None, progress, sentinels, final=True)
        self._ledger.check_invariants()
        return VerificationReport(
            entries_verified=self._ledger.entry_count - start_entries,
            blocks_verified=self._journal.height - start_height,
            entry_count=self._ledger.entry_count,
            block_height=self._journal.height,
            snapshot_checked=checked,
        )

    def _replay(
        self,
        limit: int | None,
        progress: Callable[[int], None] | None,
        sentinels: SentinelPool | None,
        *,
        final: bool,
    ) -> None:
        entries = self._store.read_entries(self._ledger.entry_count)
        if limit is not None:
            entries = itertools.islice(entries, limit)
        self._journal.replay(
            entries,
            self._store.read_blocks(self._journal.height),
            verify_signatures=True,
            progress=progress,
            final=final,
            sentinels=sentinels,
        )

    def _compare(self, snapshot: Snapshot) -> None:
        ours = self._ledger.snapshot()
        where = {"entry": snapshot.entry_count - 1, "block": snapshot.block_height - 1}
        if self._journal.height != snapshot.block_height or ours != snapshot.ledger:
            differing = [
                field.name
                for field in attrs.fields(type(ours))
                if getattr(ours, field.name) != getattr(snapshot.ledger, field.name)
            ]
            raise JournalError(
                Reason.JOURNAL_REPLAY_DIVERGED,
                "the stored snapshot is not the state re-executing the journal reaches: "
                f"{', '.join(differing) or 'block height'} differ",
                **where,
            )
        if (
            self._journal.head_hash != snapshot.head_hash
            or self._journal.last_block_hash != snapshot.last_block_hash
            or self._journal.commitment.to_bytes() != snapshot.commitment
        ):
            raise JournalError(
                Reason.JOURNAL_REPLAY_DIVERGED,
                "the stored snapshot's chain head, last block or state commitment is wrong",
                **where,
            )
