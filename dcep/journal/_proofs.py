"""Proof that one entry is in the journal, checkable with nothing but the proof.

An :class:`EntryProof` carries the entry's bytes, the hash it chains to, its
Merkle path and the signed header of its block.  :func:`verify_entry_proof`
checks all of it against the one thing a verifier must already trust: the
central bank's public key (and the network id it signs for).
"""

from __future__ import annotations

import itertools
from typing import final

import attrs

from dcep.errors import DcepError, JournalError, Reason
from dcep.journal._entries import BlockHeader, JournalEntry, SealedBlock, chain_hash
from dcep.journal._store import Store
from dcep.values._crypto import VerifyKey
from dcep.values._merkle import InclusionProof, inclusion_proof, verify_inclusion

__all__ = ["EntryProof", "prove_entry", "verify_entry_proof"]


@final
@attrs.frozen
class EntryProof:
    """Everything needed to show entry ``body`` is in a signed block."""

    body: bytes = attrs.field(repr=False)
    previous_hash: bytes = attrs.field(repr=False)
    path: InclusionProof
    block: SealedBlock

    @property
    def entry(self) -> JournalEntry:
        """The entry the proof is about, decoded."""
        return JournalEntry.decode(self.body, self.previous_hash)


def prove_entry(store: Store, number: int) -> EntryProof:
    """The proof for entry ``number``; it must be in a sealed block of ``store``."""
    blocks = ((BlockHeader.decode(raw), signature) for _, raw, signature in store.read_blocks())
    found = next(
        (
            (header, signature)
            for header, signature in blocks
            if header.first_entry <= number < header.first_entry + header.entry_count
        ),
        None,
    )
    if found is None:
        raise JournalError(
            Reason.JOURNAL_BLOCK_MISMATCH, "the entry is in no sealed block yet", entry=number
        )
    header, signature = found
    start = header.first_entry
    stored = list(itertools.islice(store.read_entries(max(start - 1, 0)), header.entry_count + 1))
    if start > 0:
        previous_block_tail, stored = stored[0], stored[1:]
        previous_hash_of_block = previous_block_tail[2]
    else:
        previous_hash_of_block = bytes(32)
    hashes = [entry_hash for _, _, entry_hash in stored[: header.entry_count]]
    index = number - start
    previous_hash = hashes[index - 1] if index > 0 else previous_hash_of_block
    return EntryProof(
        body=stored[index][1],
        previous_hash=previous_hash,
        path=inclusion_proof(hashes, index),
        block=SealedBlock(header, signature),
    )


def verify_entry_proof(proof: EntryProof, central_bank_key: VerifyKey, network_id: bytes) -> bool:
    """Whether the proof shows its entry is in a block the central bank signed."""
    header = proof.block.header
    try:
        proof.block.verify(central_bank_key, network_id)
        entry = proof.entry
    except DcepError:
        return False
    if not header.first_entry <= entry.number < header.first_entry + header.entry_count:
        return False
    if proof.path.index != entry.number - header.first_entry:
        return False
    if proof.path.size != header.entry_count:
        return False
    return verify_inclusion(
        chain_hash(proof.previous_hash, proof.body), proof.path, header.entries_root
    )
