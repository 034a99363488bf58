"""Where accepted instructions are kept: hash-chained entries, signed blocks, stores.

A :class:`Journal` subscribes to a ledger, chains each entry
(:class:`JournalEntry`), seals blocks whose :class:`BlockHeader` the central
bank signs (:class:`SealedBlock`), and writes them to a :class:`Store`:
:class:`MemoryStore` or :class:`SqliteStore`.  Each snapshot carries a
:class:`SignedStateRoot` over the whole state.  :func:`prove_entry` and
:func:`verify_entry_proof` show one entry is in a signed block;
:func:`prove_balance` and :func:`verify_balance_proof` show one wallet's
balance in a signed state.
"""

from dcep._exports import claim as _claim
from dcep.journal._balance_proofs import BalanceProof as BalanceProof
from dcep.journal._balance_proofs import prove_balance as prove_balance
from dcep.journal._balance_proofs import verify_balance_proof as verify_balance_proof
from dcep.journal._checkpoint import Checkpoint as Checkpoint
from dcep.journal._entries import BlockHeader as BlockHeader
from dcep.journal._entries import JournalEntry as JournalEntry
from dcep.journal._entries import SealedBlock as SealedBlock
from dcep.journal._journal import Durability as Durability
from dcep.journal._journal import Journal as Journal
from dcep.journal._journal import RecoveryReport as RecoveryReport
from dcep.journal._proofs import EntryProof as EntryProof
from dcep.journal._proofs import prove_entry as prove_entry
from dcep.journal._proofs import verify_entry_proof as verify_entry_proof
from dcep.journal._sqlite_store import SqliteStore as SqliteStore
from dcep.journal._state_root import SignedStateRoot as SignedStateRoot
from dcep.journal._state_root import StateRoot as StateRoot
from dcep.journal._store import MemoryStore as MemoryStore
from dcep.journal._store import SnapshotPart as SnapshotPart
from dcep.journal._store import StagedRow as StagedRow
from dcep.journal._store import Store as Store
from dcep.journal._store import StoredBlock as StoredBlock
from dcep.journal._store import StoredEntry as StoredEntry

__all__ = [
    "BalanceProof",
    "BlockHeader",
    "Checkpoint",
    "Durability",
    "EntryProof",
    "Journal",
    "JournalEntry",
    "MemoryStore",
    "RecoveryReport",
    "SealedBlock",
    "SignedStateRoot",
    "SnapshotPart",
    "SqliteStore",
    "StagedRow",
    "StateRoot",
    "Store",
    "StoredBlock",
    "StoredEntry",
    "prove_balance",
    "prove_entry",
    "verify_balance_proof",
    "verify_entry_proof",
]

_claim(__name__, globals(), __all__)
