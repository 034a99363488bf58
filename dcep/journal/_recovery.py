"""Checks that reopening a stored journal is sound, before it is trusted.

Recovery restores the latest snapshot without re-executing what it covers,
so it first checks that the snapshot still fits the journal it came from:
the entry it ends on must carry its head hash, and the block it ends on must
hash to its last block hash.  A store cut short or edited under the snapshot
is refused as ``STORE_CORRUPT``; a full re-verification is ``dcep verify``'s
job (a :class:`~dcep.Replica`).
"""

from __future__ import annotations

import itertools

from dcep.core._snapshot import Snapshot
from dcep.errors import JournalError, Reason
from dcep.journal._entries import BlockHeader
from dcep.journal._store import Store

__all__ = ["check_snapshot_anchors"]


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
        except JournalError:
            header = None
        if header is None or header.hash != snapshot.last_block_hash:
            raise JournalError(
                Reason.STORE_CORRUPT,
                "the snapshot does not end on the block the journal holds there",
                block=snapshot.block_height - 1,
            )
