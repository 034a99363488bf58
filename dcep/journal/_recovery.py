"""Checks that reopening a stored journal is sound, before it is trusted.

Recovery restores the latest snapshot without re-executing what it covers,
so it first checks that the snapshot still fits the journal it came from
(the entry it ends on must carry its head hash, and the block it ends on
must hash to its last block hash) and that its rows are what the central
bank signed: their Merkle root must be the one in the snapshot's signed
state root (:mod:`._state_root`), which covers every wallet's key,
category, balance and counters, every frozen wallet, every sequence number,
every bank's books and everything else the snapshot holds.

It also checks that the genesis was signed for the network id the store
records, and that the settings the file records (network id and policy)
are those the central bank signed into its state root.
"""

from __future__ import annotations

import itertools

from dcep.core._snapshot import Snapshot
from dcep.errors import DcepError, JournalError, Reason
from dcep.instructions._encoding import SignedInstruction
from dcep.journal._entries import GENESIS_HASH, BlockHeader, JournalEntry
from dcep.journal._state_root import SignedStateRoot, state_root_of
from dcep.journal._store import Store
from dcep.values._crypto import VerifyKey

__all__ = ["check_network", "check_settings", "check_snapshot", "check_snapshot_anchors"]


def check_network(store: Store, network_id: bytes) -> VerifyKey | None:
    """The genesis's signer, once its signature for ``network_id`` is checked (``None``: no entry).

    ``JOURNAL_CHAIN_BROKEN`` if the entry cannot be read; ``STORE_CORRUPT``
    if its signature does not verify for this network: the recorded network
    id was changed, or the entry was.
    """
    first = next(store.read_entries(0), None)
    if first is None:
        return None
    number, body, _ = first
    try:
        if number != 0:
            raise ValueError(f"the first stored entry is number {number}")
        entry = JournalEntry.decode(body, GENESIS_HASH)
        signed = SignedInstruction.from_bytes(entry.envelope)
    except (DcepError, ValueError) as error:
        raise JournalError(
            Reason.JOURNAL_CHAIN_BROKEN, f"unreadable genesis entry: {error}", entry=0
        ) from None
    try:
        signed.verify(network_id)
    except DcepError:
        raise JournalError(
            Reason.STORE_CORRUPT,
            f"the genesis is not signed for network {network_id.decode(errors='replace')!r}, "
            "the one the file records: the network id, or the genesis, was changed",
            entry=0,
        ) from None
    return signed.signer


def check_snapshot_anchors(store: Store, snapshot: Snapshot) -> None:
    """Raise ``STORE_CORRUPT`` unless the snapshot's last entry and block are as it says."""
    if snapshot.entry_count:
        last_entry = next(store.read_entries(snapshot.entry_count - 1), None)
        if (
            last_entry is None
            or last_entry[0] != snapshot.entry_count - 1
            or last_entry[2] != snapshot.head_hash
        ):
            raise JournalError(
                Reason.STORE_CORRUPT,
                "the snapshot does not end on the entry the journal holds there",
                entry=snapshot.entry_count - 1,
            )
    if snapshot.block_height:
        stored = next(itertools.islice(store.read_blocks(snapshot.block_height - 1), 1), None)
        try:
            header = BlockHeader.decode(stored[1]) if stored is not None else None
        except DcepError:
            header = None
        if header is None or header.hash != snapshot.last_block_hash:
            raise JournalError(
                Reason.STORE_CORRUPT,
                "the snapshot does not end on the block the journal holds there",
                block=snapshot.block_height - 1,
            )


def check_snapshot(
    snapshot: Snapshot, central_bank_key: VerifyKey | None, network_id: bytes, settings: bytes
) -> None:
    """Raise ``STORE_CORRUPT`` unless the central bank signed exactly this snapshot.

    The signed state root must verify under ``central_bank_key`` (the
    genesis's signer), name the snapshot's block, entry and chain heads and
    the ``settings`` digest, and its root must be the Merkle root over the
    snapshot's rows: a row edited, added or deleted (a wallet's key, a
    frozen wallet, a balance) gives another root.  Costs a hash per row.
    """
    where = _where(snapshot)
    if central_bank_key is None:
        raise JournalError(
            Reason.STORE_CORRUPT, "a snapshot, but no genesis to say whose key signs it", **where
        )
    try:
        signed = SignedStateRoot.decode(snapshot.certificate)
        signed.verify(central_bank_key, network_id)
    except DcepError as error:
        raise JournalError(
            Reason.STORE_CORRUPT,
            f"the snapshot's state root is not signed by the central bank: {error}",
            **where,
        ) from None
    state = signed.state
    if state.settings_digest != settings:
        raise _settings_changed(snapshot)
    if (state.block_height, state.last_block_hash, state.entry_count, state.head_hash) != (
        snapshot.block_height,
        snapshot.last_block_hash,
        snapshot.entry_count,
        snapshot.head_hash,
    ):
        raise JournalError(
            Reason.STORE_CORRUPT,
            "the snapshot's signed state root is for another block or entry",
            **where,
        )
    if state_root_of(snapshot.ledger) != (state.root, state.row_count):
        raise JournalError(
            Reason.STORE_CORRUPT,
            "the snapshot's rows are not those the central bank signed: a row was "
            "changed, added or removed",
            **where,
        )


def check_settings(
    snapshot: Snapshot, central_bank_key: VerifyKey | None, network_id: bytes, settings: bytes
) -> None:
    """Raise ``STORE_CORRUPT`` if the central bank signed this snapshot under other settings.

    The network id and policy the file records are not signed where they
    are stored; the state root carries their digest.  Unlike a snapshot
    whose rows were edited, which recovery can do without, a policy changed
    in the file would change every block replayed after it: nothing to fall
    back to, so it is refused.  A state root that does not verify is left
    to :func:`check_snapshot`.
    """
    if central_bank_key is None:
        return
    try:
        signed = SignedStateRoot.decode(snapshot.certificate)
        signed.verify(central_bank_key, network_id)
    except DcepError:
        return
    if signed.state.settings_digest != settings:
        raise _settings_changed(snapshot)


def _settings_changed(snapshot: Snapshot) -> JournalError:
    return JournalError(
        Reason.STORE_CORRUPT,
        "the network id or policy the file records is not what the central bank signed "
        "with its state: the setting was changed",
        **_where(snapshot),
    )


def _where(snapshot: Snapshot) -> dict[str, int]:
    # The snapshot's last entry and block, where it has them.
    where = {"entry": snapshot.entry_count - 1, "block": snapshot.block_height - 1}
    return {name: value for name, value in where.items() if value >= 0}
