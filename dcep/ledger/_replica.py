"""Replicas: independent nodes that re-verify a journal from its bytes alone.

In the spirit of the Blockchain Service Network, where many institutions run
nodes over one shared infrastructure, a :class:`Replica` trusts nothing it
reads: it checks every signature, re-executes every instruction in a ledger
of its own, recomputes every block header (chain, Merkle roots of the
entries and of the balances changed, settings, supply) and checks the
central bank's signature on it, and compares the stored snapshot with the
state it reached itself and its signed state root with the root of that state.  The first
difference stops it with a :class:`~dcep.JournalError` naming the block and
entry.  It can follow a store that is still being written (another process
on the same SQLite file, or a :class:`~dcep.journal.MemoryStore`) by calling
:meth:`Replica.catch_up` again.

Everything a replica checks is relative to the central bank the genesis
names, and whoever can write the file can write a genesis of their own.  So
a replica takes a **trust anchor**, ``central_bank_key``: the public key the
journal must have been written under, obtained out of band.  Without one it
still verifies, and says so (:attr:`VerificationReport.anchored` is false).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import final

import attrs

from dcep.core._sentinels import SentinelPool
from dcep.core._snapshot import Snapshot
from dcep.errors import DcepError, InvalidFieldError, JournalError, Reason
from dcep.instructions._encoding import SignedInstruction
from dcep.journal._checkpoint import Checkpoint
from dcep.journal._entries import GENESIS_HASH, BlockHeader, JournalEntry
from dcep.journal._journal import Journal
from dcep.journal._recovery import check_snapshot
from dcep.journal._sqlite_store import SqliteStore
from dcep.journal._store import MemoryStore, Store
from dcep.ledger._ledger import Ledger
from dcep.values._crypto import DEFAULT_NETWORK_ID, VerifyKey
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
    #: Whether the journal was checked against a trust anchor (the expected
    #: central bank's key); if not, it is only self-consistent.
    anchored: bool = False
    #: The central bank's key the journal's genesis names (``None`` before a genesis).
    central_bank_key: VerifyKey | None = None
    #: The verified journal's height and last block hash, to hold a later copy to
    #: (``catch_up(since=...)``); ``None`` while no block is sealed.
    checkpoint: Checkpoint | None = None


@final
class Replica:
    """A node that re-executes and re-verifies another ledger's journal.

    ``policy`` is the one the journal must have been written under: by
    default the one a :class:`~dcep.journal.SqliteStore` records, or the
    default policy.  Every block header carries the digest of the network id
    and policy, so a journal written under other settings is named at its
    first block.
    """

    __slots__ = ("_anchor", "_journal", "_ledger", "_store")

    def __init__(
        self,
        store: Store,
        *,
        network_id: str = DEFAULT_NETWORK_ID,
        policy: Policy | None = None,
        central_bank_key: VerifyKey | None = None,
    ) -> None:
        if central_bank_key is not None and not isinstance(central_bank_key, VerifyKey):
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"a trust anchor is a VerifyKey, not {type(central_bank_key).__name__}",
                field="central_bank_key",
            )
        self._store = store
        self._anchor = central_bank_key
        if policy is None and isinstance(store, SqliteStore):
            # The policy the file records: every header signs its digest, so
            # a policy edited in the file is named at the first block.
            policy = store.stored_policy()
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

    @property
    def central_bank_key(self) -> VerifyKey | None:
        """The trust anchor: the central bank's key the journal must be under, if given."""
        return self._anchor

    def catch_up(
        self,
        *,
        progress: Callable[[int], None] | None = None,
        sentinels: SentinelPool | None = None,
        since: Checkpoint | None = None,
    ) -> VerificationReport:
        """Verify everything stored since the last catch-up; raise at the first fault.

        With ``sentinels`` (a :class:`~dcep.core.SentinelPool` for this network),
        signatures are checked in its worker processes, in parallel.

        With a trust anchor, a genesis signed by any other key is refused
        first, as ``JOURNAL_UNTRUSTED_KEY`` at entry 0 of block 0, before
        anything else is read.

        With ``since`` (a :class:`~dcep.journal.Checkpoint` from an earlier
        verification, or published by the central bank), a store that holds
        fewer blocks, or another block at that height, is refused as
        ``JOURNAL_ROLLED_BACK``: it was cut back or rewritten.  A file alone
        cannot prove that it is whole (see ``docs/journal.md``).
        """
        store = self._store
        if self._ledger.entry_count == 0:
            self._check_anchor()
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
        if since is not None:
            self._check_extends(since)
        central = self._ledger.central_bank
        if self._anchor is not None and central is not None and central.key != self._anchor:
            self._refuse_key(central.key)  # pragma: no cover - the genesis check comes first
        return VerificationReport(
            entries_verified=self._ledger.entry_count - start_entries,
            blocks_verified=self._journal.height - start_height,
            entry_count=self._ledger.entry_count,
            block_height=self._journal.height,
            snapshot_checked=checked,
            anchored=self._anchor is not None,
            central_bank_key=central.key if central is not None else None,
            checkpoint=(
                Checkpoint(self._journal.height, self._journal.last_block_hash)
                if self._journal.height
                else None
            ),
        )

    def _check_extends(self, since: Checkpoint) -> None:
        # Every stored block has just been verified, and headers chain by hash:
        # the block at the checkpoint's height is the one seen, or the file is
        # not the journal that was seen, extended.
        height = self._journal.height
        if height < since.height:
            raise JournalError(
                Reason.JOURNAL_ROLLED_BACK,
                f"the journal holds {height} blocks, but block {since.height} was seen "
                "before: it was cut back",
                block=height,
            )
        stored = next(iter(self._store.read_blocks(since.height - 1)), None)
        header = BlockHeader.decode(stored[1]) if stored is not None else None
        if header is None or header.hash != since.block_hash:
            raise JournalError(
                Reason.JOURNAL_ROLLED_BACK,
                f"block {since.height} is not the block seen before: the journal was rewritten",
                block=since.height,
            )

    def _check_anchor(self) -> None:
        # The genesis's signer, read straight from the first stored entry; an
        # entry too damaged to read is left for the replay to name.
        if self._anchor is None:
            return
        first = next(self._store.read_entries(0), None)
        if first is None or first[0] != 0:
            return
        try:
            signer = SignedInstruction.from_bytes(
                JournalEntry.decode(first[1], GENESIS_HASH).envelope
            ).signer
        except (DcepError, TypeError, ValueError):
            return
        if signer != self._anchor:
            self._refuse_key(signer)

    def _refuse_key(self, found: VerifyKey) -> None:
        assert self._anchor is not None
        raise JournalError(
            Reason.JOURNAL_UNTRUSTED_KEY,
            f"the journal's genesis names central bank key {bytes(found).hex()}, "
            f"not the trusted {bytes(self._anchor).hex()}: "
            "every block after it is signed under a key nobody vouched for",
            entry=0,
            block=0,
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
        ):
            raise JournalError(
                Reason.JOURNAL_REPLAY_DIVERGED,
                "the stored snapshot's chain head or last block is wrong",
                **where,
            )
        central = self._ledger.central_bank
        settings = self._journal.settings_digest
        try:
            # The rows are the replica's own by now: their root is the one to sign.
            check_snapshot(
                snapshot, central.key if central else None, self._ledger.network_id, settings
            )
        except JournalError as error:
            raise JournalError(
                Reason.JOURNAL_REPLAY_DIVERGED,
                f"the stored snapshot's signed state root is wrong: {error}",
                **where,
            ) from None
