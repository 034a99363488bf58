"""Handlers of purpose-bound vouchers: issuing one, and spending it at a merchant.

A voucher is money its issuer sets aside for a holder: it stays in the
issuer's holdings (``vouchers_fen``; one ``VOUCHER`` posting on the issuer,
the voucher's id as account) until the holder pays it to a merchant the
voucher names, who receives ordinary money, the payment read as one from
issuer to merchant.  What is left at its expiry is the issuer's to spend
again (see :func:`dcep.core._handlers_pending.expire_due`), so no voucher
money is ever ordinary money in the holder's hands, spent outside its
purpose or after its expiry.
"""

from __future__ import annotations

import heapq

from dcep.core._checks import (
    central_bank_of,
    require_after_now,
    require_funds,
    require_not_frozen,
    require_open,
    require_signer_is,
    require_under_cap,
    signing_wallet,
    wallet_of,
)
from dcep.core._records import AccountKind, Posting, Voucher
from dcep.core._state import EXPIRED, SPENT, LedgerState, voucher_key
from dcep.errors import (
    DuplicateError,
    InsufficientFundsError,
    InvalidFieldError,
    NotAuthorisedError,
    Reason,
    UnknownPartyError,
)
from dcep.instructions._kinds import IssueVoucher, SpendVoucher
from dcep.values._crypto import VerifyKey
from dcep.values._money import Amount
from dcep.values._policy import Policy

__all__ = ["issue_voucher", "spend_voucher"]


def issue_voucher(
    state: LedgerState, _policy: Policy, instruction: IssueVoucher, signer: VerifyKey, now_us: int
) -> tuple[Posting, ...]:
    """Set money aside for a holder to spend only at the voucher's merchants."""
    central_bank_of(state, instruction.id)
    issuer_address = instruction.issuer
    issuer = signing_wallet(state, issuer_address, signer, instruction.id, "issuer")
    require_not_frozen(state, issuer_address, instruction.id)
    holder = wallet_of(state, instruction.holder, instruction.id, "holder")
    require_open(holder, instruction.holder, instruction.id, "holder")
    require_after_now(instruction.expires_at_us, now_us, Reason.VOUCHER_EXPIRED, instruction.id)
    require_funds(
        issuer.balance_fen,
        instruction.amount,
        Reason.INSUFFICIENT_BALANCE,
        instruction_id=instruction.id,
        party=issuer_address,
        field="amount",
    )
    key = voucher_key(issuer_address, instruction.id)
    if key in state.vouchers or key in state.pending_resolved:
        raise DuplicateError(
            Reason.ID_REUSED,
            f"wallet {issuer_address} already issued voucher {instruction.id}",
            instruction_id=instruction.id,
            party=str(issuer_address),
            field="id",
        )
    amount_fen = instruction.amount.fen
    issuer.balance_fen -= amount_fen
    issuer.vouchers_fen += amount_fen
    state.vouchers[key] = Voucher(
        issuer=issuer_address,
        id=instruction.id,
        holder=instruction.holder,
        amount=instruction.amount,
        expires_at_us=instruction.expires_at_us,
        regions=instruction.regions,
        merchants=instruction.merchants,
        memo=instruction.memo,
        created_entry=state.entry_count,
        created_at_us=now_us,
    )
    heapq.heappush(state.pending_expiries, (instruction.expires_at_us, state.entry_count, key))
    return (Posting(AccountKind.VOUCHER, issuer_address, amount_fen, str(instruction.id)),)


def spend_voucher(
    state: LedgerState, policy: Policy, instruction: SpendVoucher, signer: VerifyKey, _now: int
) -> tuple[Posting, ...]:
    """Pay part of a voucher to a merchant it names: ordinary money for the merchant."""
    central_bank_of(state, instruction.id)
    key = voucher_key(instruction.issuer, instruction.voucher_id)
    voucher = state.vouchers.get(key)
    if voucher is None:
        outcome = state.pending_resolved.get(key)
        if outcome == EXPIRED:
            raise InvalidFieldError(
                Reason.VOUCHER_EXPIRED,
                f"voucher {instruction.voucher_id} of {instruction.issuer} has expired",
                instruction_id=instruction.id,
                party=str(instruction.issuer),
                field="voucher_id",
            )
        if outcome == SPENT:
            raise InsufficientFundsError(
                Reason.INSUFFICIENT_BALANCE,
                f"voucher {instruction.voucher_id} of {instruction.issuer} is spent",
                instruction_id=instruction.id,
                party=str(instruction.issuer),
                field="amount",
            )
        raise UnknownPartyError(
            Reason.VOUCHER_UNKNOWN,
            f"wallet {instruction.issuer} issued no voucher {instruction.voucher_id}",
            instruction_id=instruction.id,
            party=str(instruction.issuer),
            field="voucher_id",
        )
    require_signer_is(signer, voucher.holder, instruction.id, "the holder of voucher")
    holder = state.wallets[voucher.holder]
    require_open(holder, voucher.holder, instruction.id, "holder")
    require_not_frozen(state, voucher.holder, instruction.id)
    # The money paid out is the issuer's: a freeze on it stops its vouchers too.
    require_not_frozen(state, voucher.issuer, instruction.id)
    payee_address = instruction.payee
    payee = wallet_of(state, payee_address, instruction.id, "payee")
    require_open(payee, payee_address, instruction.id, "payee")
    region = state.banks[payee.operator].code
    # Never to the holder's own family: that would make it ordinary money in its hands.
    own = (payee.parent or payee_address) == (holder.parent or voucher.holder)
    if own or (
        payee_address not in voucher.merchants
        and not any(region == allowed or region.is_under(allowed) for allowed in voucher.regions)
    ):
        raise NotAuthorisedError(
            Reason.VOUCHER_WRONG_MERCHANT,
            f"voucher {voucher.id} of {voucher.issuer} may not pay {payee_address} "
            f"(operated in {region})",
            instruction_id=instruction.id,
            party=str(payee_address),
            field="payee",
        )
    require_funds(
        voucher.amount.fen,
        instruction.amount,
        Reason.INSUFFICIENT_BALANCE,
        instruction_id=instruction.id,
        party=f"voucher {voucher.id} of {voucher.issuer}",
        field="amount",
    )
    issuer = state.wallets[voucher.issuer]
    family = (issuer.parent or voucher.issuer) == (payee.parent or payee_address)
    amount_fen = instruction.amount.fen
    require_under_cap(
        state, payee, payee_address, amount_fen, policy, instruction.id, within_family=family
    )
    left_fen = voucher.amount.fen - amount_fen
    if left_fen:
        state.vouchers[key] = Voucher(
            voucher.issuer,
            voucher.id,
            voucher.holder,
            Amount(left_fen),
            voucher.expires_at_us,
            voucher.regions,
            voucher.merchants,
            voucher.memo,
            voucher.created_entry,
            voucher.created_at_us,
        )
    else:
        del state.vouchers[key]
        state.pending_resolved[key] = SPENT
    issuer.vouchers_fen -= amount_fen
    payee.balance_fen += amount_fen
    if issuer.parent is not None:
        state.wallets[issuer.parent].sub_wallets_fen -= amount_fen
    if payee.parent is not None:
        state.wallets[payee.parent].sub_wallets_fen += amount_fen
    return (
        Posting(AccountKind.WALLET, voucher.issuer, -amount_fen),
        Posting(AccountKind.WALLET, payee_address, amount_fen),
        Posting(AccountKind.VOUCHER, voucher.issuer, -amount_fen, str(voucher.id)),
    )
