"""The ledger researchers use: the state machine with batches, workers and a journal.

:class:`~dcep.core.LedgerCore` applies one instruction at a time and knows
nothing of storage.  This module sits above it and above the journal, and
composes them: a :class:`Ledger` in memory, one that journals to a store and
recovers what the store holds, and one opened from a SQLite file.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Generator, Iterable
from typing import final

from dcep.core._batches import DEFAULT_COMMIT_EVERY
from dcep.core._batches import submit_many as _submit_many
from dcep.core._batches import submit_stream as _submit_stream
from dcep.core._machine import LedgerCore
from dcep.core._records import Receipt, Rejection
from dcep.core._sentinels import SentinelPool
from dcep.core._snapshot import Snapshot
from dcep.errors import DcepError, InvalidFieldError, JournalError, Reason
from dcep.instructions._encoding import SignedInstruction
from dcep.journal._journal import (
    DEFAULT_BLOCK_SIZE,
    DEFAULT_SNAPSHOT_EVERY_BLOCKS,
    DEFAULT_SNAPSHOT_STEP_ROWS,
    Durability,
    Journal,
    RecoveryReport,
)
from dcep.journal._recovery import (
    check_network,
    check_settings,
    check_snapshot,
    check_snapshot_anchors,
)
from dcep.journal._sqlite_store import SqliteStore
from dcep.journal._state_root import settings_digest
from dcep.journal._store import MemoryStore, Store
from dcep.values._clock import Clock
from dcep.values._crypto import DEFAULT_NETWORK_ID, VerifyKey
from dcep.values._policy import Policy

__all__ = ["Ledger"]


@final
class Ledger(LedgerCore):
    """The registration centre's ledger of e-CNY: in memory, or journalled to a store.

    ``network_id`` names this ledger in every signature, so instructions
    signed for one ledger are refused by every other.  ``policy`` fixes the
    wallet caps and reserve mode; ``clock`` is the only source of time
    (a :class:`~dcep.ManualClock` by default, so runs repeat exactly).
    :meth:`open` keeps it in a SQLite file; :meth:`with_journal` in any
    :class:`~dcep.journal.Store`.

    >>> import dcep
    >>> ledger = dcep.Ledger()
    >>> pboc = dcep.CentralBank(ledger, seed=b"doctest")
    >>> ledger.supply().outstanding
    Amount(fen=0)
    """

    __slots__ = ("_journal",)

    def __init__(
        self,
        *,
        network_id: str = DEFAULT_NETWORK_ID,
        policy: Policy | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(network_id=network_id, policy=policy, clock=clock)
        self._journal: Journal | None = None

    @property
    def journal(self) -> Journal | None:
        """The journal recording this ledger, if it was opened with one."""
        return self._journal

    @classmethod
    def with_journal(
        cls,
        store: Store | None = None,
        *,
        network_id: str = DEFAULT_NETWORK_ID,
        policy: Policy | None = None,
        clock: Clock | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        durability: Durability = Durability.SYNC,
        snapshot_every_blocks: int = DEFAULT_SNAPSHOT_EVERY_BLOCKS,
        snapshot_step_rows: int = DEFAULT_SNAPSHOT_STEP_ROWS,
    ) -> Ledger:
        """A ledger that journals to ``store`` (in memory if none), recovering what is there.

        Recovery loads the store's latest snapshot and re-executes the entries
        after it, checking that every entry and block comes out exactly as
        stored; :class:`~dcep.JournalError` names the first that does not.  A
        snapshot whose rows are not those the central bank signed (a wallet's
        key, a frozen wallet or a balance edited in the file) is not used:
        recovery replays from the genesis instead, and
        :attr:`~dcep.journal.RecoveryReport.snapshot_refused` says why.  A
        network id or policy other than the one the central bank signed is
        ``STORE_CORRUPT``.  It trusts nothing unsigned: the genesis must be
        signed for ``network_id``, every entry after the last stored block
        (the unsealed tail, which no block signature covers yet) has its
        signature checked, and the central bank's signature on the last block
        replayed covers the entries before it.  Entries inside sealed blocks
        are not re-verified one by one.

        A snapshot is taken every ``snapshot_every_blocks`` blocks and
        written ``snapshot_step_rows`` rows at each commit point after its
        boundary, so that no batch stops for the whole state; until its last
        rows are written the previous snapshot is the one recovery uses.
        """
        ledger = cls(network_id=network_id, policy=policy, clock=clock)
        store = store if store is not None else MemoryStore()
        central_bank_key = check_network(store, ledger.network_id)
        snapshot, refused = _trusted_snapshot(ledger, store, central_bank_key)
        journal = Journal(
            ledger,
            store,
            block_size=block_size,
            durability=durability,
            snapshot_every_blocks=snapshot_every_blocks,
            resume_from=snapshot,
            snapshot_step_rows=snapshot_step_rows,
        )
        start_entry = snapshot.entry_count if snapshot is not None else 0
        start_block = snapshot.block_height if snapshot is not None else 0
        replayed = journal.replay(
            store.read_entries(start_entry),
            store.read_blocks(start_block),
            verify_signatures=False,
            verify_unsealed=True,
        )
        problems = ledger.violations()
        if problems:
            raise JournalError(
                Reason.STORE_CORRUPT, f"the recovered state breaks invariants: {problems[0]}"
            )
        journal.recovery = RecoveryReport(
            from_snapshot=start_entry,
            replayed=replayed,
            blocks=journal.height,
            unsealed=ledger.entry_count - journal.sealed_entry_count,
            torn_bytes_dropped=getattr(store, "torn_wal_bytes", 0),
            snapshot_refused=refused,
        )
        ledger._journal = journal
        return ledger

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        network_id: str | None = None,
        policy: Policy | None = None,
        clock: Clock | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        durability: Durability = Durability.SYNC,
        snapshot_every_blocks: int = DEFAULT_SNAPSHOT_EVERY_BLOCKS,
        snapshot_step_rows: int = DEFAULT_SNAPSHOT_STEP_ROWS,
    ) -> Ledger:
        """Open (or create) a ledger kept in the SQLite database at ``path``.

        ``network_id`` and ``policy`` default to those stored in the file (or
        ``"dcep-sim"`` and the default policy for a new file); a policy other
        than the stored one is refused, since replaying under other caps
        would give another ledger.  See :meth:`with_journal` for
        recovery and :class:`~dcep.journal.Durability` for when a receipt means the
        instruction is on disk.  A file that is not a dcep database, or is
        from a newer format, raises :class:`~dcep.JournalError` and is not
        written to.  An existing file first passes SQLite's ``PRAGMA
        quick_check``, and a ledger whose policy line is missing or unreadable
        is refused (``STORE_CORRUPT``), never opened under the default.  A
        refused open leaves the file as it was.
        """
        store = SqliteStore(path, network_id=network_id)
        try:
            store.quick_check()
            stored = store.stored_policy()
            if stored is None:
                policy = policy if policy is not None else Policy()
                store.set_meta("policy", policy.to_text())
            elif policy is None:
                policy = stored
            elif policy != stored:
                raise InvalidFieldError(
                    Reason.FIELD_INVALID,
                    f"{path} was written under another policy; open it without one to use its own",
                    field="policy",
                )
            return cls.with_journal(
                store,
                network_id=store.network_id,
                policy=policy,
                clock=clock,
                block_size=block_size,
                durability=durability,
                snapshot_every_blocks=snapshot_every_blocks,
                snapshot_step_rows=snapshot_step_rows,
            )
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        """Seal the open block and snapshot (if the central bank's key is attached), close.

        Without the key the open block cannot be signed: what is pending is
        written and the unsealed tail is replayed on the next open.
        """
        if self._journal is not None:
            if self._journal.can_seal:
                self._journal.snapshot()
            else:
                self._journal.flush()
            self._journal.store.close()

    def submit_many(
        self,
        instructions: Iterable[SignedInstruction | bytes],
        *,
        sentinels: SentinelPool | None = None,
    ) -> list[Receipt | Rejection]:
        """Submit each instruction in order; one result per instruction.

        A refused instruction yields a :class:`~dcep.core.Rejection` and does
        not stop the ones after it (sequence numbers may skip, so they still
        fit).  The whole batch reaches the subscribers' commit point once, at
        the end: with durable storage, one transaction for the batch.  With
        ``sentinels``, signatures are checked in their worker processes a few
        chunks ahead of applying, so both run at once; the results and the
        journal are exactly those without.
        """
        return _submit_many(self, instructions, sentinels=sentinels)

    def submit_stream(
        self,
        instructions: Iterable[SignedInstruction | bytes],
        *,
        sentinels: SentinelPool | None = None,
        commit_every: int = DEFAULT_COMMIT_EVERY,
    ) -> Generator[Receipt | Rejection, None, None]:
        """Submit a stream of instructions, committing every ``commit_every``; lazily.

        The results and the journal are those of :meth:`submit_many` on
        consecutive groups of ``commit_every``, and each group's results are
        yielded only after its commit point (so, with durable storage, after
        it is durable).  With sentinels, the workers check ahead across group
        boundaries.  Stopping early (closing the generator) commits what was
        applied; resubmitting the instructions whose results were not yet
        yielded is safe (ids are idempotent).
        """
        return _submit_stream(self, instructions, sentinels=sentinels, commit_every=commit_every)


def _trusted_snapshot(
    ledger: Ledger, store: Store, central_bank_key: VerifyKey | None
) -> tuple[Snapshot | None, str | None]:
    """The store's snapshot, restored into ``ledger`` if the central bank signed it.

    Returns the snapshot (``None`` if there is none, or it was refused) and
    why it was refused.  A snapshot that does not end where the journal says
    is ``STORE_CORRUPT`` (the journal under it was cut or edited: replaying
    from the genesis would not reach the same place); one whose rows or
    signed root do not check is set aside, and recovery replays from the
    genesis, which every stored entry and block still allows.
    """
    snapshot = store.latest_snapshot()
    if snapshot is None:
        return None, None
    check_snapshot_anchors(store, snapshot)
    settings = settings_digest(ledger.network_id, ledger.policy.to_text())
    check_settings(snapshot, central_bank_key, ledger.network_id, settings)
    try:
        check_snapshot(snapshot, central_bank_key, ledger.network_id, settings)
    except JournalError as error:
        return None, str(error)
    try:
        ledger.restore(snapshot.ledger)
    except (DcepError, ValueError, KeyError, struct.error) as error:
        # Signed rows that do not restore: a fault of this code, not of the file.
        raise JournalError(
            Reason.STORE_CORRUPT, f"the snapshot does not restore: {error}"
        ) from None
    return snapshot, None
