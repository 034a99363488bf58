"""The ledger's mutable state: the only place in dcep where balances change.

Three holders, named for what they hold: :class:`WalletTable` (every
wallet's balance and cap counters, in columns, each seen through a
:class:`WalletAccount`; see :mod:`dcep.core._wallet_table`),
:class:`BankBooks` (one operator's reserves, vault, cash and customer
deposits) and :class:`LedgerState` (all of them, plus sequence numbers and
receipts).  Everything outside the core sees frozen snapshots from
:mod:`dcep.core._records`.

Balances are plain ints in fen here, validated on the way in, because this is
the hot path of every transfer.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import Final, final

import attrs

from dcep.core._posting_codec import decode_postings
from dcep.core._records import CentralBankInfo, DailySweep, PendingPayment, Receipt, Voucher
from dcep.core._wallet_table import WalletTable
from dcep.instructions._kinds import InstructionKind
from dcep.values._codes import CodeRegistry, InstitutionCode
from dcep.values._crypto import Address, VerifyKey
from dcep.values._policy import Policy

__all__ = [
    "EXPIRED",
    "POSTED",
    "SPENT",
    "VOIDED",
    "BankBooks",
    "LedgerState",
    "OfflineDevice",
    "accepted_key",
    "device_account",
    "pack_record",
    "receipt_from_record",
    "record_matches",
    "unpack_record",
    "voucher_key",
]

#: What the ledger remembers of each accepted instruction, for idempotent
#: retries, as one bytes object: digest of its bytes (32), entry number (8),
#: time (8, signed), kind (1), then its postings in their journal encoding.
#: One object per entry, not six: a window of 100,000 entries costs about
#: 25 MB instead of 40, and nothing in it is walked by the garbage collector.
AcceptedRecord = bytes

_RECORD_HEAD: Final = struct.Struct(">32sQqB")


def accepted_key(signer: Address, instruction_id: int) -> bytes:
    """The idempotency key: signer address and client-chosen id, as one bytes."""
    return signer + instruction_id.to_bytes(16, "big")


def pack_record(
    body_digest: bytes, entry_number: int, accepted_at_us: int, kind: int, postings: bytes
) -> AcceptedRecord:
    """The compact record of one accepted instruction (see :data:`AcceptedRecord`)."""
    return _RECORD_HEAD.pack(body_digest, entry_number, accepted_at_us, kind) + postings


def unpack_record(record: AcceptedRecord) -> tuple[bytes, int, int, int, bytes]:
    """(body digest, entry number, time, kind, encoded postings) of a record."""
    body_digest, entry_number, accepted_at_us, kind = _RECORD_HEAD.unpack_from(record)
    return body_digest, entry_number, accepted_at_us, kind, record[_RECORD_HEAD.size :]


def record_matches(record: AcceptedRecord, body_digest: bytes) -> bool:
    """Whether the record is of an instruction with exactly these bytes."""
    return record.startswith(body_digest)


def receipt_from_record(key: bytes, record: AcceptedRecord) -> Receipt:
    """Rebuild the receipt an :data:`AcceptedRecord` stands for."""
    _, entry_number, accepted_at_us, kind, postings = unpack_record(record)
    return Receipt(
        entry_number=entry_number,
        instruction_id=int.from_bytes(key[20:], "big"),
        kind=InstructionKind(kind),
        signer=Address(key[:20]),
        accepted_at_us=accepted_at_us,
        postings=decode_postings(postings, 0)[0],
    )


@final
@attrs.define(slots=True, eq=False, weakref_slot=False)
class OfflineDevice:
    """One hardware wallet: its wallet, its allowance, and what its tokens did.

    ``allowance_fen`` is what its tokens may still spend; ``loaded_fen``,
    ``unloaded_fen`` and ``paid_fen`` are its history (so
    ``allowance == loaded - unloaded - paid`` always), ``loss_fen`` what
    payees accepted beyond it.  ``settled`` maps each settled counter to the
    digest of its token's contents: the same token again is nothing new, a
    different one is a clone.  A ``blocked`` device is loaded and unloaded
    no more; its tokens still settle, from what is left.
    """

    wallet: Address
    public_key: bytes
    allowance_fen: int = 0
    loaded_fen: int = 0
    unloaded_fen: int = 0
    paid_fen: int = 0
    loss_fen: int = 0
    blocked: bool = False
    #: The highest counter the ledger settles: the last load's counter plus
    #: the policy's offline payment count.
    counter_limit: int = 0
    settled: dict[int, bytes] = attrs.field(factory=dict)


def device_account(device: Address) -> str:
    """The account id of a device's ``OFFLINE`` and ``OFFLINE_LOSS`` postings: its hex address."""
    return bytes(device).hex()


@final
@attrs.define(slots=True, eq=False)
class BankBooks:
    """An operator's books, balanced at every step.

    Its e-CNY books balance in every reserve mode: what it took in for
    e-CNY (cash, and deposits paid out of) equals what it holds of it and
    what it gave out, less the interest it paid its wallets from its own
    funds, ``vault + cash - outstanding + interest_paid == deposits``.  The
    reserves that back its issuance depend on the mode
    (:meth:`reserves_held_fen`): all of it in 2021, so that reserves left,
    vault and cash equal deposits and pledged capital; the policy's ratio of
    it for a bank in 2026, the rest being the bank's own deposit liability
    to its wallets' holders.  The three cumulative counters let the
    invariants check the deposits against their history.
    """

    key: VerifyKey
    name: str
    code: InstitutionCode
    reserves_pledged_fen: int
    outstanding_fen: int = 0
    vault_fen: int = 0
    cash_fen: int = 0
    deposits: dict[str, int] = attrs.field(factory=dict)
    #: Each deposit account's name, as one shared string object: the wallets
    #: linked to an account refer to it rather than each keep a copy.
    account_names: dict[str, str] = attrs.field(factory=dict, repr=False)
    deposits_total_fen: int = 0
    paid_in_fen: int = 0
    funded_from_deposits_fen: int = 0
    defunded_to_deposits_fen: int = 0
    wallet_count: int = 0
    #: Interest paid to wallets (2026 reserve mode): e-CNY out of the vault
    #: against the bank's own funds, not against any deposit.
    interest_paid_fen: int = 0

    def reserves_held_fen(self, policy: Policy) -> int:
        """Reserves that back the e-CNY issued to this operator, under ``policy``'s mode.

        All of it in the 2021 mode and for a payment institution; the
        policy's ratio of it, rounded up to the fen, for a bank in 2026.
        """
        return policy.reserves_required_fen(self.code, self.outstanding_fen)

    def reserves_available_fen(self, policy: Policy) -> int:
        """Pledged reserves not yet holding e-CNY issuance up: what more issuance may use."""
        return self.reserves_pledged_fen - self.reserves_held_fen(policy)


@final
@attrs.define(slots=True, eq=False)
class LedgerState:
    """Everything the ledger knows, in one place."""

    central_bank: CentralBankInfo | None = None
    banks: dict[Address, BankBooks] = attrs.field(factory=dict)
    #: Every wallet, in columns (see :mod:`dcep.core._wallet_table`).
    wallets: WalletTable = attrs.field(factory=WalletTable)
    #: The last sequence number accepted from each signer.
    sequences: dict[Address, int] = attrs.field(factory=dict)
    #: signer ‖ id -> what was accepted, for idempotency (see :data:`AcceptedRecord`),
    #: for the policy's window of latest entries only.
    accepted: dict[bytes, AcceptedRecord] = attrs.field(factory=dict)
    #: The keys of ``accepted`` oldest first: the next to forget is on the left.
    accepted_order: deque[bytes] = attrs.field(factory=deque)
    codes: CodeRegistry = attrs.field(factory=CodeRegistry)
    #: Appointed regulators: address -> (key, name).
    regulators: dict[Address, tuple[VerifyKey, str]] = attrs.field(factory=dict)
    #: Wallets that may not pay out, with the regulator that froze each.
    frozen: dict[Address, Address] = attrs.field(factory=dict)
    #: regulator ‖ warrant id -> (wallet, answered by a disclosure yet).
    warrants: dict[bytes, tuple[Address, bool]] = attrs.field(factory=dict)
    issued_fen: int = 0
    redeemed_fen: int = 0
    entry_count: int = 0
    #: When the last entry was accepted: the next may not be earlier.
    last_time_us: int = 0
    #: Pending payments outstanding, by payer ‖ id (see :func:`accepted_key`).
    pending: dict[bytes, PendingPayment] = attrs.field(factory=dict)
    #: A heap of (expires at, created entry, key): the next pending payment to
    #: expire is first.  Posted and voided ones are dropped when they surface.
    pending_expiries: list[tuple[int, int, bytes]] = attrs.field(factory=list)
    #: How each resolved pending payment ended (:data:`POSTED`, :data:`VOIDED`,
    #: :data:`EXPIRED`), kept for good: a second attempt is told so.
    pending_resolved: dict[bytes, int] = attrs.field(factory=dict)
    #: Inside a linked batch: members still due, the digest they must fold
    #: to, and the fold so far.  Never nonzero between two submissions.
    linked_due: int = 0
    linked_digest: bytes = b""
    linked_running: bytes = b""
    #: The ledger's network id, which approvals of a release are signed for.
    network_id: bytes = b""
    #: Vouchers outstanding, by "V" ‖ issuer ‖ id (see :func:`voucher_key`);
    #: their expiries share ``pending_expiries``, their ends ``pending_resolved``.
    vouchers: dict[bytes, Voucher] = attrs.field(factory=dict)
    #: Hardware wallets, by device address, in the order they were registered.
    devices: dict[Address, OfflineDevice] = attrs.field(factory=dict)
    #: Corporate wallets' standing daily sweeps, by wallet (issue #24).
    daily_sweeps: dict[Address, DailySweep] = attrs.field(factory=dict)


#: How a pending payment was resolved, as :attr:`LedgerState.pending_resolved` keeps it.
POSTED: Final = 1
VOIDED: Final = 2
EXPIRED: Final = 3
#: A voucher spent to its last fen.
SPENT: Final = 4


def voucher_key(issuer: Address, voucher_id: int) -> bytes:
    """A voucher's key: 37 bytes, so never a pending payment's (36)."""
    return b"V" + accepted_key(issuer, voucher_id)
