"""Checks that reopening a stored journal is sound, before it is trusted.

Recovery restores the latest snapshot without re-executing what it covers,
so it first checks that the snapshot still fits the journal it came from:
the entry it ends on must carry its head hash, and the block it ends on must
hash to its last block hash.  A store cut short or edited under the snapshot
is refused as ``STORE_CORRUPT``; a full re-verification is ``dcep verify``'s
job (a :class:`~dcep.Replica`).

It also checks that the genesis was signed for the network id the store
records: the id is not signed itself, and recovery trusts the signatures of
what the central bank sealed, so a changed id would otherwise go unnoticed
until the next instruction was refused.
"""

from __future__ import annotations

import itertools

from dcep.core._snapshot import Snapshot
from dcep.errors import DcepError, JournalError, Reason
from dcep.instructions._encoding import SignedInstruction
from dcep.journal._entries import GENESIS_HASH, BlockHeader, JournalEntry
from dcep.journal._store import Store

__all__ = ["check_network", "check_snapshot_anchors"]


def check_network(store: Store, network_id: bytes) -> None:
    """Raise unless the first stored entry is signed for ``network_id`` (one signature check).

    ``JOURNAL_CHAIN_BROKEN`` if the entry cannot be read; ``STORE_CORRUPT``
    if its signature does not verify for this network: the recorded network
    id was changed, or the entry was.
    """
    first = next(store.read_entries(0), None)
    if first is None:
        return
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
