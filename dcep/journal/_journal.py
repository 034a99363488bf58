"""The journal: follows a ledger, chains its entries, seals signed blocks.

A :class:`Journal` subscribes to a ledger.  Every accepted entry is hashed
onto the chain and held until the ledger's commit point, where the journal
hands the store one write: in :attr:`Durability.SYNC` mode that happens
before ``submit``/``submit_many`` returns, so a receipt is never returned for
something a crash can lose.  Every ``block_size`` entries the journal seals a
block: the Merkle root of the block's entry hashes, the Merkle root of the
new balance of every account the block touched (a hash per account), the
settings digest, the supply, and the central bank's signature.  With each
snapshot it signs a root over the whole state (:mod:`._state_root`).  A
periodic snapshot is captured at its block boundary and hashed and written
a slice of rows at each later write (:mod:`._staging`), so that no batch
pays for the whole state; :meth:`Journal.snapshot` still does it at once.

:meth:`Journal.replay` runs a stored journal back through a ledger — with every
signature checked (replicas, ``dcep verify``) or trusted (recovery of one's
own file) — and stops at the first entry or block that does not come out
the same, naming it.

Over 400 lines, knowingly: appending, sealing and replay share one chain
head and one open block, and replay must seal exactly as appending does.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Iterator
from typing import Final, final

import attrs

from dcep.core._reader import ReplayableLedger
from dcep.core._records import AccountKind, LedgerEntry
from dcep.core._sentinels import SentinelPool
from dcep.core._snapshot import Snapshot
from dcep.errors import DcepError, InvalidFieldError, JournalError, NotAuthorisedError, Reason
from dcep.instructions._encoding import SignedInstruction, SignerKeys
from dcep.journal._entries import (
    GENESIS_HASH,
    BlockHeader,
    JournalEntry,
    SealedBlock,
    chain_hash,
    entry_body,
    entry_envelope,
    entry_matches,
    entry_time_us,
)
from dcep.journal._staging import SnapshotInProgress
from dcep.journal._state_root import SignedStateRoot, StateRoot, settings_digest, state_root_of
from dcep.journal._store import SnapshotPart, Store, StoredBlock, StoredEntry
from dcep.values._commitment import account_leaf, changes_root
from dcep.values._crypto import Address, SigningKey
from dcep.values._merkle import merkle_root

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_SNAPSHOT_EVERY_BLOCKS",
    "DEFAULT_SNAPSHOT_STEP_ROWS",
    "Durability",
    "Journal",
    "RecoveryReport",
]

DEFAULT_BLOCK_SIZE: Final = 1024
#: A crash replays at most this many blocks after the latest finished
#: snapshot (and those written while the next one is in progress): with
#: 1,024 entries a block, about three seconds at 100,000 wallets on these
#: machines.  Each snapshot is about a second of work at that size, spread
#: over the batches after its boundary: halving the interval doubles that
#: cost and halves the worst replay (docs/performance.md measures both).
DEFAULT_SNAPSHOT_EVERY_BLOCKS: Final = 128
#: Rows of a periodic snapshot hashed and written at each write (commit
#: point) until it is finished: a few milliseconds' work, so that a batch is
#: not stopped for the whole state (about a second at 100,000 wallets).
DEFAULT_SNAPSHOT_STEP_ROWS: Final = 8192
#: Replay reports progress in steps this large (the argument is entries just done).
_PROGRESS_STEP: Final = 1024

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
    #: Why the stored snapshot was refused, if it was (recovery then replayed
    #: from the genesis instead); ``None`` if it was used or there was none.
    snapshot_refused: str | None = None


@final
class Journal:
    """The hash-chained, block-sealed record of one ledger, written to a store."""

    __slots__ = (
        "_block_entry_hashes",
        "_block_first_entry",
        "_block_size",
        "_dirty",
        "_durability",
        "_expected_blocks",
        "_head_hash",
        "_height",
        "_last_block_hash",
        "_last_body",
        "_ledger",
        "_peeked",
        "_peeked_header",
        "_pending_blocks",
        "_pending_entries",
        "_replay_body",
        "_replay_signed",
        "_replaying",
        "_settings",
        "_signer",
        "_snapshot_captured_now",
        "_snapshot_every",
        "_snapshot_in_progress",
        "_snapshot_step_rows",
        "_state_root",
        "_store",
        "_unchecked_block",
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
        snapshot_step_rows: int = DEFAULT_SNAPSHOT_STEP_ROWS,
    ) -> None:
        if block_size < 1 or snapshot_every_blocks < 1 or snapshot_step_rows < 1:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                "block_size, snapshot_every_blocks and snapshot_step_rows must be at least 1",
                field="block_size",
            )
        self._ledger = ledger
        self._store = store
        self._block_size = block_size
        self._durability = durability
        self._snapshot_every = snapshot_every_blocks
        self._snapshot_step_rows = snapshot_step_rows
        self._signer: SigningKey | None = None
        self._pending_entries: list[StoredEntry] = []
        self._pending_blocks: list[SealedBlock] = []
        #: The periodic snapshot being hashed and written, a slice at each write.
        self._snapshot_in_progress: SnapshotInProgress | None = None
        #: Captured since the last write: that write's batch paid for the
        #: capture, so the first slice waits for the next write.
        self._snapshot_captured_now = False
        self._block_entry_hashes: list[bytes] = []
        #: The accounts the open block's postings touched, in first-touched
        #: order, each with its balance after the last entry that touched it.
        self._dirty: dict[AccountKey, int] = {}
        self._settings = settings_digest(ledger.network_id, ledger.policy.to_text())
        #: While recovery replays without checking signatures: the last block
        #: adopted, whose signature covers every header before it.
        self._unchecked_block: SealedBlock | None = None
        self._replaying = False
        self._verify_blocks = False
        self._expected_blocks: Iterator[StoredBlock] | None = None
        self._peeked: StoredBlock | None = None
        #: The peeked block's header, decoded once (not at every entry of its block).
        self._peeked_header: BlockHeader | None = None
        #: While replaying: the body of the entry re-execution just rebuilt.
        self._last_body = b""
        #: While replaying: the stored entry being re-executed, and the
        #: instruction read from its envelope.
        self._replay_body = b""
        self._replay_signed: SignedInstruction | None = None
        #: What opening the store found (zeros for a new store); ``None`` until then.
        self.recovery: RecoveryReport | None = None
        #: The signed root of the latest snapshot taken or restored.
        self._state_root: SignedStateRoot | None = None
        if resume_from is None:
            self._head_hash = GENESIS_HASH
            self._last_block_hash = GENESIS_HASH
            self._height = 0
            self._block_first_entry = 0
        else:
            self._head_hash = resume_from.head_hash
            self._last_block_hash = resume_from.last_block_hash
            self._height = resume_from.block_height
            self._block_first_entry = resume_from.entry_count
            self._state_root = SignedStateRoot.decode(resume_from.certificate)
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
    def settings_digest(self) -> bytes:
        """The digest of the network id and policy that every header carries."""
        return self._settings

    @property
    def state_root(self) -> SignedStateRoot | None:
        """The central bank's signed root over the state of the latest finished snapshot, if any.

        A periodic snapshot still being written (see :attr:`snapshot_pending`)
        is not the latest until its last rows are.
        """
        return self._state_root

    @property
    def snapshot_pending(self) -> int | None:
        """The entry count of a periodic snapshot still being written, if one is."""
        in_progress = self._snapshot_in_progress
        return None if in_progress is None else in_progress.entry_count

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
        """Write everything pending to the store in one atomic step.

        A periodic snapshot in progress moves on by ``snapshot_step_rows``
        rows with each write that carries entries or blocks, from the write
        after the one whose batch captured it (that batch paid for the
        capture), and is finished (signed, and made the store's latest) by
        the write that hashes its last row.
        """
        if not (self._pending_entries or self._pending_blocks):
            return
        part: SnapshotPart | None = None
        finished: tuple[Snapshot, SignedStateRoot] | None = None
        in_progress = self._snapshot_in_progress
        if self._snapshot_captured_now:
            self._snapshot_captured_now = False
        elif in_progress is not None and self._signer is not None:
            part = in_progress.step(self._snapshot_step_rows)
            if in_progress.done:
                finished = in_progress.finish(self._signer, self._ledger.network_id)
        try:
            self._store.write(
                self._pending_entries,
                self._pending_blocks,
                None if finished is None else finished[0],
                part,
            )
        except BaseException:
            # The slice is lost with the write: the snapshot cannot be
            # finished, and the next boundary starts another.
            self._snapshot_in_progress = None
            raise
        self._pending_entries = []
        self._pending_blocks = []
        if finished is not None:
            self._snapshot_in_progress = None
            self._state_root = finished[1]

    def snapshot(self) -> Snapshot:
        """Seal the open block, then write a snapshot of the whole state now, in one step.

        A periodic snapshot still in progress is given up: this one is newer.
        """
        self.seal()
        snapshot = self._snapshot_if_at_boundary()
        if snapshot is None:  # no signer yet: entries stay in an open block
            raise NotAuthorisedError(
                Reason.SIGNER_NOT_AUTHORISED,
                "a snapshot needs every entry sealed: attach the central bank's key first",
            )
        self._snapshot_in_progress = None
        self._store.write(self._pending_entries, self._pending_blocks, snapshot)
        self._pending_entries = []
        self._pending_blocks = []
        return snapshot

    # -- following the ledger ---------------------------------------------------

    def _on_entry(self, entry: LedgerEntry) -> None:
        if self._replaying:
            self._on_replayed_entry(entry)
            return
        body = entry_body(entry)
        self._head_hash = head = chain_hash(self._head_hash, body)
        self._block_entry_hashes.append(head)
        self._note_balances(entry)
        self._pending_entries.append((entry.receipt.entry_number, body, head))
        if (
            len(self._block_entry_hashes) >= self._block_size
            and self._signer is not None
            # A linked batch is never split by a block (nor so by a write or a snapshot).
            and not self._ledger.linked_members_due
        ):
            self._seal(self._signer)

    def _on_replayed_entry(self, entry: LedgerEntry) -> None:
        # The entry re-execution just rebuilt, against the stored one being
        # replayed: when the two bodies are the same bytes, the stored body's
        # hash is the rebuilt one's, so it is hashed without being rebuilt.
        body = self._replay_body
        if not entry_matches(body, entry, self._replay_signed):
            body = entry_body(entry)
        self._head_hash = head = chain_hash(self._head_hash, body)
        self._block_entry_hashes.append(head)
        self._note_balances(entry)
        self._last_body = body
        self._seal_if_stored_block_ends()

    def _note_balances(self, entry: LedgerEntry) -> None:
        # Each balance the entry changed, read now, while its accounts are
        # fresh in the cache, not at the seal: every change to a balance is a
        # posting, so the last entry that touched an account leaves it as the
        # block does.  One rule for the live ledger and for replay, whose
        # changes roots must agree.
        dirty, balance = self._dirty, self._ledger.account_balance_fen
        for posting in entry.receipt.postings:
            kind, owner, account_id = posting.kind, posting.owner, posting.account_id
            dirty[kind, owner, account_id] = balance(kind, owner, account_id)

    def _on_commit(self) -> None:
        if self._durability is Durability.SYNC or self._pending_blocks:
            self.flush()

    def _seal(self, key: SigningKey) -> SealedBlock:
        block = SealedBlock.sign(self._next_header(), key, self._ledger.network_id)
        self._adopt(block)
        self._pending_blocks.append(block)
        if (
            block.header.height % self._snapshot_every == self._snapshot_every - 1
            and self._snapshot_in_progress is None
        ):
            # Captured now, at the block boundary, whatever the batch does next;
            # hashed and written a slice at each write from the next commit
            # point on.  A boundary reached while the previous snapshot is
            # still being written is skipped: that one finishes first.
            self._snapshot_captured_now = True
            self._snapshot_in_progress = SnapshotInProgress(
                self._ledger.snapshot(),
                block_height=self._height,
                head_hash=self._head_hash,
                last_block_hash=self._last_block_hash,
                settings=self._settings,
            )
        return block

    def _changed_leaves(self) -> list[bytes]:
        # Every account the open block touched, at its balance at the block's
        # end; zero balances too, so that the tree's size is the number of
        # accounts touched.  The kind is a StrEnum: it encodes as its value.
        return [
            account_leaf(kind, owner, account_id, fen)
            for (kind, owner, account_id), fen in self._dirty.items()
        ]

    def _next_header(self) -> BlockHeader:
        ledger = self._ledger
        leaves = self._changed_leaves()
        issued_fen, redeemed_fen = ledger.lifetime_totals_fen()
        return BlockHeader(
            height=self._height,
            previous_block_hash=self._last_block_hash,
            first_entry=self._block_first_entry,
            entry_count=len(self._block_entry_hashes),
            last_entry_hash=self._head_hash,
            entries_root=merkle_root(self._block_entry_hashes),
            changes_root=changes_root(leaves),
            changed_accounts=len(leaves),
            settings_digest=self._settings,
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
        if self._block_entry_hashes or self._signer is None:
            return None
        rows = self._ledger.snapshot()
        root, row_count = state_root_of(rows)
        state = StateRoot(
            block_height=self._height,
            last_block_hash=self._last_block_hash,
            entry_count=rows.entry_count,
            head_hash=self._head_hash,
            settings_digest=self._settings,
            row_count=row_count,
            root=root,
        )
        self._state_root = SignedStateRoot.sign(state, self._signer, self._ledger.network_id)
        return Snapshot(
            ledger=rows,
            block_height=self._height,
            head_hash=self._head_hash,
            last_block_hash=self._last_block_hash,
            certificate=self._state_root.encode(),
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
        stored_header = self._peeked_header
        if stored_header is None:
            try:
                stored_header = self._peeked_header = BlockHeader.decode(header_raw)
            except (DcepError, TypeError, ValueError) as error:
                raise JournalError(
                    Reason.JOURNAL_BLOCK_MISMATCH,
                    f"unreadable block header: {error}",
                    block=height,
                ) from None
        if len(self._block_entry_hashes) < stored_header.entry_count:
            return
        self._peeked = None
        self._peeked_header = None
        computed = self._next_header()
        if computed != stored_header:
            raise JournalError(
                Reason.JOURNAL_BLOCK_MISMATCH,
                "the stored header is not what re-executing its entries gives: "
                + _header_difference(computed, stored_header),
                block=height,
                entry=stored_header.first_entry + stored_header.entry_count - 1,
            )
        block = SealedBlock(stored_header, signature)
        if self._verify_blocks:
            self._require_central_signature(block)
        else:
            self._unchecked_block = block
        self._adopt(block)

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

    def _check_last_signature(self) -> None:
        # Recovery checked every field of every header it replayed; the
        # central bank's signature on the last one covers the others through
        # the chain of previous-block hashes (and so the entries under them).
        block, self._unchecked_block = self._unchecked_block, None
        if block is not None:
            header = block.header
            self._require_central_signature(block, header.first_entry + header.entry_count - 1)

    def replay(
        self,
        entries: Iterator[StoredEntry],
        blocks: Iterator[StoredBlock],
        *,
        verify_signatures: bool,
        progress: Callable[[int], None] | None = None,
        final: bool = True,
        sentinels: SentinelPool | None = None,
        verify_unsealed: bool = False,
    ) -> int:
        """Re-execute stored entries through the journal's ledger; return how many.

        Raises :class:`~dcep.JournalError` naming the first entry or block that
        does not come out exactly as stored: every field of every block
        header is recomputed where the block ends, the changes root too, so
        a balance that differs from the one the central bank signed is named
        at that block.  ``final`` says these are all the entries there are, so
        a stored block beyond them is a fault.  With ``sentinels``, signatures
        are checked in their worker processes, a chunk of entries ahead of
        re-execution; any they find bad is checked again here so that the
        error is the one a lone replica raises.

        Without ``verify_signatures`` (recovery, reading its own store), the
        central bank's signature is checked on the last block replayed only:
        it covers every header before it through the chain of block hashes.
        ``verify_unsealed`` (recovery) checks the signature of every entry
        after the last stored block, even without ``verify_signatures``: no
        central bank's signature covers those yet, and sealing them later
        would.
        """
        self._replaying = True
        self._verify_blocks = verify_signatures
        self._expected_blocks = blocks
        count = 0
        try:
            count = self._replay_entries(
                entries, verify_signatures, progress, sentinels, verify_unsealed
            )
            self._check_last_signature()
            leftover = self._peek_stored_block() if final else None
            if leftover is not None:
                raise JournalError(
                    Reason.JOURNAL_BLOCK_MISMATCH,
                    "a stored block covers entries that are not stored",
                    block=leftover[0],
                )
        finally:
            self._unchecked_block = None
            self._peeked = None
            self._peeked_header = None
            self._last_body = b""
            self._replay_body = b""
            self._replay_signed = None
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
        read_envelope = SignerKeys().read
        count = 0
        checked: Iterator[tuple[StoredEntry, bytes | None, bool | None]] = (
            _with_verdicts(entries, sentinels)
            if sentinels is not None and verify_signatures
            else ((stored, None, None) for stored in entries)
        )
        for (number, body, stored_hash), envelope, verdict in checked:
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
                _check_stored_entry(number, body, stored_hash, previous_hash, height)
            try:
                # Only what re-executing needs: the re-executed entry's hash,
                # compared below, covers every byte of the stored one.
                if envelope is None:
                    envelope = entry_envelope(body)
                signed = read_envelope(envelope)
                if verify_signatures and not verdict:
                    signed.verify(network_id)
                elif verify_unsealed and self._peek_stored_block() is None:
                    # Past the last stored block: no central bank's signature covers it.
                    signed.verify(network_id)
                self._replay_body, self._replay_signed = body, signed
                ledger.reapply(signed, entry_time_us(body))
            except JournalError:
                # A block sealed by this entry disagreed: already named,
                # unless the entry itself is what is wrong.
                _check_stored_entry(number, body, stored_hash, previous_hash, height)
                raise
            except DcepError as error:
                _check_stored_entry(number, body, stored_hash, previous_hash, height)
                raise JournalError(
                    Reason.JOURNAL_REPLAY_DIVERGED,
                    f"re-executing the entry was refused: {error}",
                    entry=number,
                    block=self._height,
                ) from None
            # Re-execution rebuilt this entry (an instruction already accepted
            # rebuilds none: the head stays put); the stored bytes must be the
            # same, and then so is their hash: comparing bytes spares hashing.
            head = self._head_hash
            if head == previous_hash or head != stored_hash or self._last_body != body:
                _check_stored_entry(number, body, stored_hash, previous_hash, height)
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


def _envelopes(chunk: list[StoredEntry]) -> list[bytes]:
    # A body that is not bytes gets no envelope (a "bad" verdict): the replay
    # names it in order.
    return [entry_envelope(body) if type(body) is bytes else b"" for _, body, _ in chunk]


def _with_verdicts(
    entries: Iterator[StoredEntry], sentinels: SentinelPool
) -> Iterator[tuple[StoredEntry, bytes, bool]]:
    # Each entry, the envelope the workers checked (decoded next, not sliced
    # again) and their verdict.  The sentinels read ahead only as far as the
    # chunks they hold in flight, so reading, verifying and re-executing
    # overlap; a chunk at a time, so that pairing costs a zip per entry.
    return itertools.chain.from_iterable(
        itertools.starmap(zip, sentinels.paired_chunks(entries, _envelopes, new_keys=True))
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
            "changes_root",
            "changed_accounts",
            "settings_digest",
            "issued_fen",
            "redeemed_fen",
            "sealed_at_us",
        )
        if getattr(computed, name) != getattr(stored, name)
    ]
    return "differs in " + ", ".join(differing)
