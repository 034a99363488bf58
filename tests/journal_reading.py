"""Reading a stored journal the way an outside auditor would: entry by entry, no ledger."""

from __future__ import annotations

import dcep
import dcep.instructions
import dcep.journal


def committed_kyc_digests(store: dcep.journal.Store) -> dict[dcep.Address, bytes]:
    """What each ``OpenWallet`` in ``store`` committed to, read from the journal alone."""
    digests: dict[dcep.Address, bytes] = {}
    previous = bytes(32)
    for _number, body, stored_hash in store.read_entries():
        entry = dcep.journal.JournalEntry.decode(body, previous)
        previous = stored_hash
        instruction = dcep.instructions.SignedInstruction.from_bytes(entry.envelope).instruction
        if isinstance(instruction, dcep.instructions.OpenWallet):
            digests[instruction.wallet_key.address] = instruction.kyc_digest
    return digests
