"""Handlers of two-phase payments and linked batches, and the expiry of pending payments.

A pending payment moves money from the payer's spendable balance to its
reserved balance (both in its holdings, so the supply and the balance cap
count it once), posted as one ``RESERVED`` posting on the payer with the
payment's id as account.  Posting it moves the posted part to the payee and
the rest back; voiding or expiring moves all of it back.  Each removes the
payment from the outstanding table and records how it ended, so every
pending payment resolves exactly once, whatever the order of attempts.

Expiry needs no caller: before applying any instruction, the ledger expires
every pending payment whose time has come by that instruction's time
(:func:`expire_due`), in order of expiry and then of creation, and the
expiries' postings open that instruction's entry.  Replaying the journal
with its times expires the same payments at the same entries.  If the
instruction is refused, :func:`undo_expiry` puts them back: a refusal
changes nothing.
"""

from __future__ import annotations

import heapq

from dcep.core._checks import (
    central_bank_of,
    require_after_now,
    require_funds,
    require_not_frozen,
    require_open,
    require_under_cap,
    signing_wallet,
    wallet_of,
)
from dcep.core._handlers_money import _check_payment_caps, _count_payment
from dcep.core._records import AccountKind, PendingPayment, Posting, Voucher
from dcep.core._state import EXPIRED, POSTED, VOIDED, LedgerState, accepted_key
from dcep.errors import (
    AmountError,
    DuplicateError,
    InvalidFieldError,
    NotAuthorisedError,
    Reason,
    UnknownPartyError,
)
from dcep.instructions._conditions import unmet_condition
from dcep.instructions._encoding import LINKED_START
from dcep.instructions._kinds import LinkBatch, PayPending, PostPending, VoidPending
from dcep.values._crypto import Address, VerifyKey
from dcep.values._policy import Policy, year_of_day

__all__ = [
    "Expired",
    "expire_due",
    "link_batch",
    "pay_pending",
    "post_pending",
    "undo_expiry",
    "void_pending",
]

#: What expiring took off the heap: each item, and what it expired (None if stale).
Expired = list[tuple[tuple[int, int, bytes], PendingPayment | Voucher | None]]


def pay_pending(
    state: LedgerState, policy: Policy, instruction: PayPending, signer: VerifyKey, now_us: int
) -> tuple[Posting, ...]:
    """Reserve money for a payee: the first phase of a payment."""
    central_bank_of(state, instruction.id)
    payer_address = instruction.payer
    payer = signing_wallet(state, payer_address, signer, instruction.id, "payer")
    require_not_frozen(state, payer_address, instruction.id)
    payee = wallet_of(state, instruction.payee, instruction.id, "payee")
    require_open(payee, instruction.payee, instruction.id, "payee")
    require_after_now(instruction.expires_at_us, now_us, Reason.PENDING_EXPIRED, instruction.id)
    amount_fen = instruction.amount.fen
    require_funds(
        payer.balance_fen,
        instruction.amount,
        Reason.INSUFFICIENT_BALANCE,
        instruction_id=instruction.id,
        party=payer_address,
        field="amount",
    )
    day = policy.calendar_day(now_us)
    year = year_of_day(day)
    _check_payment_caps(state, payer, payer_address, amount_fen, policy, day, year, instruction.id)
    key = accepted_key(payer_address, instruction.id)
    if key in state.pending or key in state.pending_resolved:
        # Possible only once the idempotency window forgot the first: the id
        # names a pending payment for good.
        raise DuplicateError(
            Reason.ID_REUSED,
            f"wallet {payer_address} already made pending payment {instruction.id}",
            instruction_id=instruction.id,
            party=str(payer_address),
            field="id",
        )
    _count_payment(payer, amount_fen, day, year)
    if payer.parent is not None:
        _count_payment(state.wallets[payer.parent], amount_fen, day, year)
    payer.balance_fen -= amount_fen
    payer.reserved_fen += amount_fen
    state.pending[key] = PendingPayment(
        payer=payer_address,
        id=instruction.id,
        payee=instruction.payee,
        amount=instruction.amount,
        expires_at_us=instruction.expires_at_us,
        conditions=instruction.conditions,
        memo=instruction.memo,
        created_entry=state.entry_count,
        created_at_us=now_us,
    )
    heapq.heappush(state.pending_expiries, (instruction.expires_at_us, state.entry_count, key))
    return (Posting(AccountKind.RESERVED, payer_address, amount_fen, str(instruction.id)),)


def _outstanding(
    state: LedgerState, payer: Address, pending_id: int, instruction_id: int
) -> PendingPayment:
    key = accepted_key(payer, pending_id)
    pending = state.pending.get(key)
    if pending is not None:
        return pending
    outcome = state.pending_resolved.get(key)
    if outcome is None:
        raise UnknownPartyError(
            Reason.PENDING_UNKNOWN,
            f"wallet {payer} made no pending payment {pending_id}",
            instruction_id=instruction_id,
            party=str(payer),
            field="pending_id",
        )
    if outcome == EXPIRED:
        raise InvalidFieldError(
            Reason.PENDING_EXPIRED,
            f"pending payment {pending_id} of {payer} has expired: its money is back",
            instruction_id=instruction_id,
            party=str(payer),
            field="pending_id",
        )
    raise DuplicateError(
        Reason.PENDING_ALREADY_RESOLVED,
        f"pending payment {pending_id} of {payer} was already "
        f"{'posted' if outcome == POSTED else 'voided'}",
        instruction_id=instruction_id,
        party=str(payer),
        field="pending_id",
    )


def _resolve(state: LedgerState, pending: PendingPayment, outcome: int) -> None:
    # The heap's item stays until it surfaces (lazy deletion): finding it costs more.
    key = accepted_key(pending.payer, pending.id)
    del state.pending[key]
    state.pending_resolved[key] = outcome


def post_pending(
    state: LedgerState, policy: Policy, instruction: PostPending, signer: VerifyKey, now_us: int
) -> tuple[Posting, ...]:
    """Release a pending payment to its payee, whole or in part, if its conditions hold."""
    central_bank_of(state, instruction.id)
    pending = _outstanding(state, instruction.payer, instruction.pending_id, instruction.id)
    if signer.address not in (pending.payer, pending.payee):
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            "only the payer or the payee of a pending payment may post it",
            instruction_id=instruction.id,
            party=str(signer.address),
        )
    signing = state.wallets[signer.address]
    role = "payer" if signer.address == pending.payer else "payee"
    require_open(signing, signer.address, instruction.id, role)
    posted_fen = instruction.amount.fen
    if posted_fen > pending.amount.fen:
        raise AmountError(
            Reason.AMOUNT_TOO_LARGE,
            f"{instruction.amount} is more than the {pending.amount} pending",
            instruction_id=instruction.id,
            field="amount",
        )
    require_not_frozen(state, pending.payer, instruction.id)
    payee = state.wallets[pending.payee]
    require_open(payee, pending.payee, instruction.id, "payee")
    unmet = unmet_condition(
        pending.conditions,
        now_us=now_us,
        preimage=instruction.preimage,
        approvals=instruction.approvals,
        network_id=state.network_id,
        payer=pending.payer,
        pending_id=pending.id,
        amount=instruction.amount,
    )
    if unmet is not None:
        raise NotAuthorisedError(
            Reason.CONDITION_NOT_MET,
            f"pending payment {pending.id} of {pending.payer} cannot be posted: {unmet}",
            instruction_id=instruction.id,
            party=str(pending.payer),
            field="conditions",
        )
    payer = state.wallets[pending.payer]
    family = (payer.parent or pending.payer) == (payee.parent or pending.payee)
    require_under_cap(
        state, payee, pending.payee, posted_fen, policy, instruction.id, within_family=family
    )
    _resolve(state, pending, POSTED)
    reserved_fen = pending.amount.fen
    payer.reserved_fen -= reserved_fen
    payer.balance_fen += reserved_fen - posted_fen
    payee.balance_fen += posted_fen
    if payer.parent is not None:
        state.wallets[payer.parent].sub_wallets_fen -= posted_fen
    if payee.parent is not None:
        state.wallets[payee.parent].sub_wallets_fen += posted_fen
    return (
        Posting(AccountKind.WALLET, pending.payer, -posted_fen),
        Posting(AccountKind.WALLET, pending.payee, posted_fen),
        Posting(AccountKind.RESERVED, pending.payer, -reserved_fen, str(pending.id)),
    )


def void_pending(
    state: LedgerState, _policy: Policy, instruction: VoidPending, signer: VerifyKey, _now: int
) -> tuple[Posting, ...]:
    """The payee declines a pending payment: all of it returns to the payer."""
    central_bank_of(state, instruction.id)
    pending = _outstanding(state, instruction.payer, instruction.pending_id, instruction.id)
    if signer.address != pending.payee:
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            "only the payee of a pending payment may void it; the payer waits for its expiry",
            instruction_id=instruction.id,
            party=str(signer.address),
        )
    require_open(state.wallets[pending.payee], pending.payee, instruction.id, "payee")
    _resolve(state, pending, VOIDED)
    payer = state.wallets[pending.payer]
    reserved_fen = pending.amount.fen
    payer.reserved_fen -= reserved_fen
    payer.balance_fen += reserved_fen
    return (Posting(AccountKind.RESERVED, pending.payer, -reserved_fen, str(pending.id)),)


def expire_due(state: LedgerState, now_us: int) -> tuple[Expired, tuple[Posting, ...]]:
    """Expire every pending payment and voucher due by ``now_us``; what was done, and its postings.

    A pending payment's money returns to its payer, a voucher's remainder to
    its issuer: both to what the wallet may spend, from what it held aside.
    """
    heap = state.pending_expiries
    done: Expired = []
    postings: list[Posting] = []
    while heap and heap[0][0] <= now_us:
        item = heapq.heappop(heap)
        key = item[2]
        record: PendingPayment | Voucher | None = state.pending.get(key) or state.vouchers.get(key)
        done.append((item, record))
        if record is None:
            continue  # posted, voided or spent before it was due
        state.pending_resolved[key] = EXPIRED
        if isinstance(record, PendingPayment):
            del state.pending[key]
            wallet = state.wallets[record.payer]
            wallet.reserved_fen -= record.amount.fen
            kind, owner = AccountKind.RESERVED, record.payer
        else:
            del state.vouchers[key]
            wallet = state.wallets[record.issuer]
            wallet.vouchers_fen -= record.amount.fen
            kind, owner = AccountKind.VOUCHER, record.issuer
        wallet.balance_fen += record.amount.fen
        postings.append(Posting(kind, owner, -record.amount.fen, str(record.id)))
    return done, tuple(postings)


def undo_expiry(state: LedgerState, done: Expired) -> None:
    """Put back what :func:`expire_due` did, latest first: the instruction was refused."""
    for item, record in reversed(done):
        heapq.heappush(state.pending_expiries, item)
        if record is None:
            continue
        key = item[2]
        del state.pending_resolved[key]
        if isinstance(record, PendingPayment):
            state.pending[key] = record
            wallet = state.wallets[record.payer]
            wallet.reserved_fen += record.amount.fen
        else:
            state.vouchers[key] = record
            wallet = state.wallets[record.issuer]
            wallet.vouchers_fen += record.amount.fen
        wallet.balance_fen -= record.amount.fen


def link_batch(
    state: LedgerState, _policy: Policy, instruction: LinkBatch, signer: VerifyKey, _now: int
) -> tuple[Posting, ...]:
    """Open a linked batch: the next ``members`` entries must fold to ``digest``."""
    central = central_bank_of(state, instruction.id)
    address = signer.address
    wallet = state.wallets.get(address)
    known = (
        address == central.address
        or address in state.banks
        or address in state.regulators
        or (wallet is not None and not wallet.closed)
    )
    if not known:
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            "only a party of this ledger may submit a linked batch",
            instruction_id=instruction.id,
            party=str(address),
        )
    if state.linked_due:
        raise InvalidFieldError(
            Reason.LINKED_BATCH_INVALID,
            "a linked batch cannot hold another",
            instruction_id=instruction.id,
            field="members",
        )
    state.linked_due = instruction.members
    state.linked_digest = instruction.digest
    state.linked_running = LINKED_START
    return ()
