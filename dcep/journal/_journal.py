"""The journal: follows a ledger, chains its entries, seals signed blocks.

A :class:`Journal` subscribes to a ledger.  Every accepted entry is hashed
onto the chain and held until the ledger's commit point, where the journal
hands the store one write: in :attr:`Durability.SYNC` mode that happens
before ``submit``/``submit_many`` returns, so a receipt is never returned for
something a crash can lose.  Every ``block_size`` entries the journal seals a
block: the Merkle root of the block's entry hashes, the state commitment
after it (updated only for the accounts the block touched), the supply, and
the central bank's signature.

:meth:`Journal.replay` runs a stored journal back through a ledger — with every
signature checked (replicas, ``dcep verify``) or trusted (recovery of one's
own file) — and stops at the first entry or block that does not come out
the same, naming it.

Over 400 lines, knowingly: appending, sealing and replay share one chain
head, one open block and one deferred commitment, and replay must seal
exactly as appending does.  The issue on the journal's cost (a cheaper
state commitment) rewrites the sealing half; this module is split along the
new commitment's seams then, not twice.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable, Iterator
from typing import Final, final

import attrs

from dcep.core._reader import ReplayableLedger
from dcep.core._records import AccountKind, LedgerEntry
from dcep.core._sentinels import PendingChange, SentinelPool
from dcep.core._snapshot import Snapshot
from dcep.errors import DcepError, InvalidFieldError, JournalError, NotAuthorisedError, Reason
from dcep.instructions._encoding import SignedInstruction
from dcep.journal._entries import GENESIS_HASH, BlockHeader, JournalEntry, SealedBlock, chain_hash
from dcep.journal._store import Store, StoredBlock, StoredEntry
from dcep.values._commitment import StateCommitment, account_leaf
from dcep.values._crypto import Address, SigningKey
from dcep.values._merkle import merkle_root

__all__ = ["DEFAULT_BLOCK_SIZE", "Durability", "Journal", "RecoveryReport"]

DEFAULT_BLOCK_SIZE: Final = 1024
#: A crash replays at most this many blocks after the latest snapshot: with
#: 1,024 entries a block, about six seconds at 100,000 wallets on these
#: machines, against about a second to write each snapshot (doubling the
#: interval halves that cost and doubles the worst replay).
DEFAULT_SNAPSHOT_EVERY_BLOCKS: Final = 128
#: Replay reports progress in steps this large (the argument is entries just done).
_PROGRESS_STEP: Final = 1024
#: Blocks whose commitment a replica leaves with the workers before waiting.
_MAX_OFFLOADED: Final = 4

AccountKey = tuple[AccountKind, Address, str]


@enum.unique
class Durability(enum.StrEnum):
    """When an accepted instruction reaches the store."""

    #: Before ``submit`` / ``submit_many`` returns: one store write per call.
    SYNC = "sync"
    #: When a block is sealed or :meth:`Journal.flush` is called; a crash can
    #: lose receipts already returned since the last of those.
    DEFERRED = "deferred"


@final
@attrs.frozen
class RecoveryReport:
    """What opening a stored journal found and did."""

    #: Entries restored from the snapshot, without re-execution.
    from_snapshot: int
    #: Entries re-executed after the snapshot.
    replayed: int
    #: Blocks sealed in the store.
    blocks: int
    #: Entries after the last sealed block (kept; sealed when the next block is).
    unsealed: int
    #: Bytes of a torn final write that the store dropped (0 if none).
    torn_bytes_dropped: int


@final
class Journal:
    """The hash-chained, block-sealed record of one ledger, written to a store."""

    __slots__ = (
        "_block_entry_hashes",
        "_block_first_entry",
        "_block_size",
        "_commitment",
        "_deferred",
        "_dirty",
        "_durability",
        "_expected_blocks",
        "_head_hash",
        "_height",
        "_last_block_hash",
        "_ledger",
        "_offload",
        "_offloaded",
        "_peeked",
        "_pending_blocks",
        "_pending_entries",
        "_pending_snapshot",
        "_replaying",
        "_settle_at",
        "_signer",
        "_snapshot_every",
        "_store",
        "_verify_blocks",
        "recovery",
    )

    def __init__(
        self,
        ledger: ReplayableLedger,
        store: Store,
        *,
        block_size: int = DEFAULT_BLOCK_SIZE,
        durability: Durability = Durability.SYNC,
        snapshot_every_blocks: int = DEFAULT_SNAPSHOT_EVERY_BLOCKS,
        resume_from: Snapshot | None = None,
    ) -> None:
        if block_size < 1 or snapshot_every_blocks < 1:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                "block_size and snapshot_every_blocks must be at least 1",
                field="block_size",
            )
        self._ledger = ledger
        self._store = store
        self._block_size = block_size
        self._durability = durability
        self._snapshot_every = snapshot_every_blocks
        self._signer: SigningKey | None = None
        self._pending_entries: list[JournalEntry] = []
        self._pending_blocks: list[SealedBlock] = []
        self._pending_snapshot: Snapshot | None = None
        self._block_entry_hashes: list[bytes] = []
        self._dirty: dict[AccountKey, int] = {}
        #: While recovery defers the state commitment: every balance change
        #: since the last block checked, and that block's (height, digest).
        self._deferred: dict[AccountKey, int] | None = None
        self._settle_at: SealedBlock | None = None
        #: While a replica replays with sentinels: the pool that expands each
        #: block's leaves, and the blocks whose commitment it is still expanding.
        self._offload: SentinelPool | None = None
        self._offloaded: deque[tuple[PendingChange, BlockHeader]] = deque()
        self._replaying = False
        self._verify_blocks = False
        self._expected_blocks: Iterator[StoredBlock] | None = None
        self._peeked: StoredBlock | None = None
        #: What opening the store found (zeros for a new store); ``None`` until then.
        self.recovery: RecoveryReport | None = None
        if resume_from is None:
            self._head_hash = GENESIS_HASH
            self._last_block_hash = GENESIS_HASH
            self._height = 0
            self._commitment = StateCommitment()
            self._block_first_entry = 0
        else:
            self._head_hash = resume_from.head_hash
            self._last_block_hash = resume_from.last_block_hash
            self._height = resume_from.block_height
            self._commitment = StateCommitment.from_bytes(resume_from.commitment)
            self._block_first_entry = resume_from.entry_count
        ledger.subscribe(self._on_entry, self._on_commit)

    # -- what users see ---------------------------------------------------------

    @property
    def store(self) -> Store:
        """Where the journal is written."""
        return self._store

    @property
    def durability(self) -> Durability:
        """When accepted entries reach the store."""
        return self._durability

    @property
    def head_hash(self) -> bytes:
        """The hash of the last entry: it commits to the whole history."""
        return self._head_hash

    @property
    def height(self) -> int:
        """How many blocks have been sealed."""
        return self._height

    @property
    def last_block_hash(self) -> bytes:
        """The hash of the last sealed block's header (zeros before the first)."""
        return self._last_block_hash

    @property
    def sealed_entry_count(self) -> int:
        """How many entries are in sealed blocks."""
        return self._block_first_entry

    @property
    def commitment(self) -> StateCommitment:
        """The state commitment as of the last sealed block (a copy)."""
        return self._commitment.copy()

    @property
    def can_seal(self) -> bool:
        """Whether the central bank's key is attached, so blocks can be signed."""
        return self._signer is not None

    def attach_signer(self, key: SigningKey) -> None:
        """Give the journal the central bank's key, with which it signs blocks."""
        self._signer = key

    def seal(self) -> SealedBlock | None:
        """Seal the open block now, if it has entries; it is stored at the next flush."""
        if not self._block_entry_hashes or self._signer is None:
            return None
        return self._seal(self._signer)

    def flush(self) -> None:
        """Write everything pending to the store in one atomic step."""
        if not (self._pending_entries or self._pending_blocks):
            return
        self._store.write(self._pending_entries, self._pending_blocks, self._pending_snapshot)
        self._pending_entries = []
        self._pending_blocks = []
        self._pending_snapshot = None

    def snapshot(self) -> Snapshot:
        """Seal the open block, then write a snapshot of the whole state now."""
        self.seal()
        snapshot = self._snapshot_if_at_boundary()
        if snapshot is None:  # no signer yet: entries stay in an open block
            raise NotAuthorisedError(
                Reason.SIGNER_NOT_AUTHORISED,
                "a snapshot needs every entry sealed: attach the central bank's key first",
            )
        self._store.write(self._pending_entries, self._pending_blocks, snapshot)
        self._pending_entries = []
        self._pending_blocks = []
        self._pending_snapshot = None
        return snapshot

    # -- following the ledger ---------------------------------------------------

    def _on_entry(self, entry: LedgerEntry) -> None:
        journal_entry = JournalEntry.from_ledger_entry(entry, self._head_hash)
        self._head_hash = journal_entry.hash
        self._block_entry_hashes.append(journal_entry.hash)
        dirty = self._dirty
        for posting in entry.receipt.postings:
            key = (posting.kind, posting.owner, posting.account_id)
            dirty[key] = dirty.get(key, 0) + posting.delta_fen
        if self._replaying:
            self._seal_if_stored_block_ends()
            return
        self._pending_entries.append(journal_entry)
        if (
            len(self._block_entry_hashes) >= self._block_size
            and self._signer is not None
            # A linked batch is never split by a block (nor so by a write or a snapshot).
            and not self._ledger.linked_members_due
        ):
            self._seal(self._signer)

    def _on_commit(self) -> None:
        if self._durability is Durability.SYNC or self._pending_blocks:
            self.flush()

    def _seal(self, key: SigningKey) -> SealedBlock:
        block = SealedBlock.sign(self._next_header(), key, self._ledger.network_id)
        self._adopt(block)
        self._pending_blocks.append(block)
        if block.header.height % self._snapshot_every == self._snapshot_every - 1:
            # Captured now, at the block boundary, whatever the batch does next;
            # written with the entries at the next commit point.
            self._pending_snapshot = self._snapshot_if_at_boundary()
        return block

    def _fold_into_commitment(
        self, changes: dict[AccountKey, int], since: dict[AccountKey, int] | None = None
    ) -> None:
        removed, added = self._leaf_changes(changes, since)
        commitment = self._commitment
        for leaf in removed:
            commitment.remove(leaf)
        for leaf in added:
            commitment.add(leaf)

    def _leaf_changes(
        self, changes: dict[AccountKey, int], since: dict[AccountKey, int] | None = None
    ) -> tuple[list[bytes], list[bytes]]:
        # Each changed account: its old leaf out, its new leaf in.  ``since``
        # holds changes made after the moment being committed to.
        ledger = self._ledger
        removed: list[bytes] = []
        added: list[bytes] = []
        for key, delta_fen in changes.items():
            kind, owner, account_id = key
            new_fen = ledger.account_balance_fen(kind, owner, account_id)
            if since:
                new_fen -= since.get(key, 0)
            old_fen = new_fen - delta_fen
            if old_fen == new_fen:
                continue
            # The kind is a StrEnum: it encodes as its value, without the enum's property.
            if old_fen:
                removed.append(account_leaf(kind, owner, account_id, old_fen))
            if new_fen:
                added.append(account_leaf(kind, owner, account_id, new_fen))
        return removed, added

    def _next_header(self, deferred_commitment: bytes | None = None) -> BlockHeader:
        ledger = self._ledger
        if deferred_commitment is None:
            self._fold_into_commitment(self._dirty)
            state_commitment = self._commitment.digest()
        else:
            # The stored digest stands in while the commitment is checked
            # later: in recovery at the end of the replay, when every account
            # changed since is folded in at once; in a replica with sentinels
            # when a worker has expanded the block's leaves.
            deferred = self._deferred
            if deferred is not None:
                for key, delta_fen in self._dirty.items():
                    deferred[key] = deferred.get(key, 0) + delta_fen
            state_commitment = deferred_commitment
        issued_fen, redeemed_fen = ledger.lifetime_totals_fen()
        return BlockHeader(
            height=self._height,
            previous_block_hash=self._last_block_hash,
            first_entry=self._block_first_entry,
            entry_count=len(self._block_entry_hashes),
            last_entry_hash=self._head_hash,
            entries_root=merkle_root(self._block_entry_hashes),
            state_commitment=state_commitment,
            issued_fen=issued_fen,
            redeemed_fen=redeemed_fen,
            sealed_at_us=ledger.last_entry_time_us,
        )

    def _adopt(self, block: SealedBlock) -> None:
        header = block.header
        self._height = header.height + 1
        self._last_block_hash = header.hash
        self._block_first_entry = header.first_entry + header.entry_count
        self._block_entry_hashes = []
        self._dirty = {}

    def _snapshot_if_at_boundary(self) -> Snapshot | None:
        if self._block_entry_hashes:
            return None
        return Snapshot(
            ledger=self._ledger.snapshot(),
            block_height=self._height,
            head_hash=self._head_hash,
            last_block_hash=self._last_block_hash,
            commitment=self._commitment.to_bytes(),
        )

    # -- replay -----------------------------------------------------------------

    def _peek_stored_block(self) -> StoredBlock | None:
        if self._peeked is None and self._expected_blocks is not None:
            self._peeked = next(self._expected_blocks, None)
        return self._peeked

    def _seal_if_stored_block_ends(self) -> None:
        stored = self._peek_stored_block()
        if stored is None:
            return
        height, header_raw, signature = stored
        try:
            stored_header = BlockHeader.decode(header_raw)
        except (DcepError, TypeError, ValueError) as error:
            raise JournalError(
                Reason.JOURNAL_BLOCK_MISMATCH, f"unreadable block header: {error}", block=height
            ) from None
        if len(self._block_entry_hashes) < stored_header.entry_count:
            return
        self._peeked = None
        deferring = self._deferred is not None
        change = None
        if self._offload is not None:
            change = self._offload.commitment_change(*self._leaf_changes(self._dirty))
        later = deferring or change is not None
        computed = self._next_header(stored_header.state_commitment if later else None)
        if deferring:
            self._settle_at = SealedBlock(stored_header, signature)
        if computed != stored_header:
            if change is not None:
                # Name every differing field, as a replica without workers does.
                self._check_offloaded(wait=True)
                self._commitment.merge(change.result())
                computed = attrs.evolve(computed, state_commitment=self._commitment.digest())
            raise JournalError(
                Reason.JOURNAL_BLOCK_MISMATCH,
                "the stored header is not what re-executing its entries gives: "
                + _header_difference(computed, stored_header),
                block=height,
                entry=stored_header.first_entry + stored_header.entry_count - 1,
            )
        if change is not None:
            # Queued before the signature check: should that fail, replay
            # settles this commitment first, the check a lone replica makes first.
            self._offloaded.append((change, stored_header))
        block = SealedBlock(stored_header, signature)
        if self._verify_blocks:
            self._require_central_signature(block)
        self._adopt(block)
        self._check_offloaded(wait=False)

    def _yield_to_earlier_faults(
        self, number: int, body: bytes, stored_hash: bytes, previous_hash: bytes, height: int
    ) -> None:
        # A fault found at this entry is reported only if nothing a replica
        # without workers checks first is wrong: the blocks before this
        # entry's block, the stored entry itself, then the block it sealed.
        self._check_offloaded(wait=True, below=height)
        try:
            _check_stored_entry(number, body, stored_hash, previous_hash, height)
        except JournalError:
            self._offloaded.clear()  # only the block this entry sealed: it comes after
            raise
        self._check_offloaded(wait=True)

    def _check_offloaded(self, *, wait: bool, below: int | None = None) -> None:
        # Fold the workers' changes in block order, comparing each digest;
        # without ``wait``, only those already done (and the oldest, past a
        # few); with ``below``, only the blocks under that height.
        pending = self._offloaded
        while (
            pending
            and (below is None or pending[0][1].height < below)
            and (wait or pending[0][0].done() or len(pending) > _MAX_OFFLOADED)
        ):
            change, header = pending.popleft()
            self._commitment.merge(change.result())
            if self._commitment.digest() != header.state_commitment:
                pending.clear()  # the first fault is the one reported
                raise JournalError(
                    Reason.JOURNAL_BLOCK_MISMATCH,
                    "the stored header is not what re-executing its entries gives: "
                    "differs in state_commitment",
                    block=header.height,
                    entry=header.first_entry + header.entry_count - 1,
                )

    def _require_central_signature(self, block: SealedBlock, entry: int | None = None) -> None:
        central = self._ledger.central_bank
        height = block.header.height
        if central is None:
            raise JournalError(
                Reason.JOURNAL_BLOCK_MISMATCH, "a block before any genesis", block=height
            )
        try:
            block.verify(central.key, self._ledger.network_id)
        except DcepError:
            raise JournalError(
                Reason.JOURNAL_BLOCK_MISMATCH,
                "the block is not signed by the central bank's key",
                block=height,
                entry=entry,
            ) from None

    def _settle_deferred(self) -> None:
        # Fold what recovery deferred into the commitment, as of the last
        # block replayed (later entries' changes are still in ``_dirty``).
        deferred, block = self._deferred, self._settle_at
        self._deferred = None
        self._settle_at = None
        if deferred is None or block is None:
            return
        self._fold_into_commitment(deferred, since=self._dirty)
        header = block.header
        last_entry = header.first_entry + header.entry_count - 1
        if self._commitment.digest() != header.state_commitment:
            raise JournalError(
                Reason.JOURNAL_BLOCK_MISMATCH,
                "the stored header is not what re-executing its entries gives: "
                "differs in state_commitment",
                block=header.height,
                entry=last_entry,
            )
        # The headers before it took their commitments from the store; the
        # central bank's signature on this one covers them all, through the
        # chain of previous-block hashes.
        self._require_central_signature(block, last_entry)

    def replay(
        self,
        entries: Iterator[StoredEntry],
        blocks: Iterator[StoredBlock],
        *,
        verify_signatures: bool,
        progress: Callable[[int], None] | None = None,
        final: bool = True,
        sentinels: SentinelPool | None = None,
        check_every_commitment: bool = True,
        verify_unsealed: bool = False,
    ) -> int:
        """Re-execute stored entries through the journal's ledger; return how many.

        Raises :class:`~dcep.JournalError` naming the first entry or block that
        does not come out exactly as stored.  ``final`` says these are all the
        entries there are, so a stored block beyond them is a fault.  With
        ``sentinels``, signatures are checked in their worker processes, a
        chunk of entries ahead of re-execution; any they find bad is checked
        again here so that the error is the one a lone replica raises.

        With ``sentinels`` and every commitment checked (a replica), a worker
        also expands each block's leaves while the next block re-executes;
        the digests are compared in block order, and before any later fault
        is reported, so the first fault named is the same as without.

        ``check_every_commitment=False`` (recovery, reading its own store)
        checks every other field of every block header but folds the balance
        changes into the state commitment once, at the end, and checks it
        against the last block replayed: a touched account costs two leaf
        expansions per replay instead of two per block.

        ``verify_unsealed`` (recovery) checks the signature of every entry
        after the last stored block, even without ``verify_signatures``: no
        central bank's signature covers those yet, and sealing them later
        would.  The entries in stored blocks are covered by the signature on
        the last block replayed (see above).
        """
        self._replaying = True
        self._verify_blocks = verify_signatures
        self._expected_blocks = blocks
        self._deferred = None if check_every_commitment else {}
        self._offload = sentinels if check_every_commitment else None
        count = 0
        try:
            count = self._replay_entries(
                entries, verify_signatures, progress, sentinels, verify_unsealed
            )
            self._check_offloaded(wait=True)
            self._settle_deferred()
            leftover = self._peek_stored_block() if final else None
            if leftover is not None:
                raise JournalError(
                    Reason.JOURNAL_BLOCK_MISMATCH,
                    "a stored block covers entries that are not stored",
                    block=leftover[0],
                )
        except BaseException:
            # A block before the fault (or the interruption) may still have its
            # commitment out with a worker: if that is wrong, it is the first
            # fault; and a block adopted is never left unchecked.
            self._check_offloaded(wait=True)
            raise
        finally:
            self._deferred = None
            self._settle_at = None
            self._offload = None
            self._offloaded.clear()
            self._peeked = None
            self._replaying = False
            self._verify_blocks = False
            self._expected_blocks = None
        return count

    def _replay_entries(
        self,
        entries: Iterator[StoredEntry],
        verify_signatures: bool,
        progress: Callable[[int], None] | None,
        sentinels: SentinelPool | None,
        verify_unsealed: bool = False,
    ) -> int:
        ledger = self._ledger
        network_id = ledger.network_id
        count = 0
        checked: Iterator[tuple[StoredEntry, bool | None]] = (
            _with_verdicts(entries, sentinels)
            if sentinels is not None and verify_signatures
            else ((stored, None) for stored in entries)
        )
        for (number, body, stored_hash), verdict in checked:
            expected_number = ledger.entry_count
            if number != expected_number:
                raise JournalError(
                    Reason.JOURNAL_CHAIN_BROKEN,
                    f"expected entry {expected_number} next, found {number}",
                    entry=number,
                    block=self._height,
                )
            previous_hash, height = self._head_hash, self._height
            if type(body) is not bytes or type(stored_hash) is not bytes:
                self._yield_to_earlier_faults(number, body, stored_hash, previous_hash, height)
            try:
                # Only what re-executing needs: the re-executed entry's hash,
                # compared below, covers every byte of the stored one.
                envelope = body[21 : 21 + int.from_bytes(body[17:21], "big")]
                signed = SignedInstruction.from_bytes(envelope)
                if verify_signatures and not verdict:
                    signed.verify(network_id)
                elif verify_unsealed and self._peek_stored_block() is None:
                    # Past the last stored block: no central bank's signature covers it.
                    signed.verify(network_id)
                ledger.reapply(signed, int.from_bytes(body[9:17], "big"))
            except JournalError as error:
                if error.block is not None and error.block < height:
                    raise  # a worker's verdict on an earlier block: the first fault
                # A block sealed by this entry disagreed: already named,
                # unless the entry itself is what is wrong.
                self._yield_to_earlier_faults(number, body, stored_hash, previous_hash, height)
                raise
            except DcepError as error:
                self._yield_to_earlier_faults(number, body, stored_hash, previous_hash, height)
                raise JournalError(
                    Reason.JOURNAL_REPLAY_DIVERGED,
                    f"re-executing the entry was refused: {error}",
                    entry=number,
                    block=self._height,
                ) from None
            # Re-execution rebuilt this entry; the stored bytes must be the same.
            if self._head_hash != stored_hash or chain_hash(previous_hash, body) != stored_hash:
                self._yield_to_earlier_faults(number, body, stored_hash, previous_hash, height)
                raise JournalError(
                    Reason.JOURNAL_REPLAY_DIVERGED,
                    "re-executing the entry gave another outcome than the one stored",
                    entry=number,
                    block=self._height,
                )
            count += 1
            if progress is not None and count % _PROGRESS_STEP == 0:
                progress(_PROGRESS_STEP)
        if progress is not None and count % _PROGRESS_STEP:
            progress(count % _PROGRESS_STEP)
        return count


def _check_stored_entry(
    number: int, body: bytes, stored_hash: bytes, previous_hash: bytes, height: int
) -> None:
    """Raise ``JOURNAL_CHAIN_BROKEN`` if the stored entry is unreadable or does not chain.

    Replay reads only what it needs to re-execute an entry; when the outcome
    differs, this says whether the stored entry itself is what is wrong.
    """
    if type(body) is not bytes or type(stored_hash) is not bytes:
        raise JournalError(
            Reason.JOURNAL_CHAIN_BROKEN,
            f"unreadable entry: a {type(body).__name__} body and a "
            f"{type(stored_hash).__name__} hash, where bytes belong",
            entry=number,
            block=height,
        )
    try:
        stored = JournalEntry.decode(body, previous_hash)
    except DcepError as error:
        raise JournalError(
            Reason.JOURNAL_CHAIN_BROKEN, f"unreadable entry: {error}", entry=number
        ) from None
    if stored.hash != stored_hash or stored.number != number:
        raise JournalError(
            Reason.JOURNAL_CHAIN_BROKEN,
            "the entry does not chain to the one before it",
            entry=number,
            block=height,
        )


def _with_verdicts(
    entries: Iterator[StoredEntry], sentinels: SentinelPool
) -> Iterator[tuple[StoredEntry, bool]]:
    # The envelope sits at a fixed place in an entry's body (see JournalEntry);
    # a body too damaged to slice gets a "bad" verdict and is diagnosed in order.
    # The sentinels read ahead only as far as the chunks they hold in flight, so
    # reading, verifying and re-executing overlap.
    return sentinels.paired(
        entries, lambda stored: stored[1][21 : 21 + int.from_bytes(stored[1][17:21], "big")]
    )


def _header_difference(computed: BlockHeader, stored: BlockHeader) -> str:
    differing = [
        name
        for name in (
            "height",
            "previous_block_hash",
            "first_entry",
            "entry_count",
            "last_entry_hash",
            "entries_root",
            "state_commitment",
            "issued_fen",
            "redeemed_fen",
            "sealed_at_us",
        )
        if getattr(computed, name) != getattr(stored, name)
    ]
    return "differs in " + ", ".join(differing)
