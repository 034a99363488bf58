"""Handlers for corporate wallets: opening one, its daily sweep, and the sweep itself.

A corporate wallet is owned by a business: the policy's corporate limits
bind it instead of a personal category's (see
``docs/concepts/wallet-categories.md`` for why this is a flag beside the
category, not a fifth category).  Its operating bank may sweep it to its
linked deposit account once a local day, from a set minute on: the sweep is
a :class:`~dcep.instructions.Defund` the bank signs, which books exactly as
a defund, so the supply and the bank's books stay as they were.

All checks first, then mutations that cannot fail (see :mod:`dcep.core._handlers`).
"""

from __future__ import annotations

import attrs

from dcep.core._checks import (
    fen,
    require_new_party,
    require_not_frozen,
    require_open,
    require_operator,
    signing_bank,
    wallet_of,
)
from dcep.core._records import DailySweep, Posting
from dcep.core._state import LedgerState
from dcep.core._wallet_table import WalletAccount
from dcep.errors import (
    InvalidFieldError,
    LimitExceededError,
    NotAuthorisedError,
    Reason,
    UnknownPartyError,
)
from dcep.instructions._kinds import SWEEP_OFF, Defund, OpenCorporateWallet, SetDailySweep
from dcep.values._crypto import VerifyKey
from dcep.values._policy import Policy, WalletCategory

__all__ = ["check_sweep", "open_corporate_wallet", "set_daily_sweep", "sweep_amount_fen"]

_MINUTE_US = 60_000_000


def open_corporate_wallet(
    state: LedgerState,
    policy: Policy,
    instruction: OpenCorporateWallet,
    signer: VerifyKey,
    _now_us: int,
) -> tuple[Posting, ...]:
    """Register a business's wallet under the bank that operates it."""
    bank = signing_bank(state, signer, instruction.id)
    address = instruction.wallet_key.address
    require_new_party(state, address, Reason.WALLET_EXISTS, instruction.id)
    account = instruction.linked_account
    if policy.corporate.requires_linked_account and not account:
        raise NotAuthorisedError(
            Reason.KYC_INSUFFICIENT,
            "a corporate wallet must be linked to the business's deposit account",
            instruction_id=instruction.id,
            party=str(address),
            field="linked_account",
        )
    if account and account not in bank.deposits:
        raise UnknownPartyError(
            Reason.UNKNOWN_ACCOUNT,
            f"{bank.name} has no deposit account {account!r}",
            instruction_id=instruction.id,
            party=bank.name,
            field="linked_account",
        )
    state.wallets.open(
        address,
        # A business has no personal category; the corporate flag decides its caps.
        category=WalletCategory.IN_PERSON,
        operator=bank.key.address,
        linked_account=bank.account_names.get(account, account),
        corporate=True,
    )
    bank.wallet_count += 1
    return ()


def set_daily_sweep(
    state: LedgerState, _policy: Policy, instruction: SetDailySweep, signer: VerifyKey, _now: int
) -> tuple[Posting, ...]:
    """Set, move or stop a corporate wallet's daily sweep; signed by it or its bank."""
    wallet = wallet_of(state, instruction.wallet, instruction.id, "wallet")
    if signer.address != instruction.wallet:
        bank = signing_bank(state, signer, instruction.id)
        require_operator(bank, signer.address, wallet, instruction.wallet, instruction.id)
    require_open(wallet, instruction.wallet, instruction.id, "wallet")
    if not wallet.corporate:
        raise InvalidFieldError(
            Reason.WALLET_NOT_CORPORATE,
            f"wallet {instruction.wallet} is a personal wallet: only a business's is swept",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
            field="wallet",
        )
    if not wallet.linked_account:
        raise UnknownPartyError(
            Reason.UNKNOWN_ACCOUNT,
            f"wallet {instruction.wallet} has no linked deposit account to sweep to",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
            field="wallet",
        )
    earlier = state.daily_sweeps.get(instruction.wallet)
    if instruction.at_minute == SWEEP_OFF:
        if earlier is not None:
            del state.daily_sweeps[instruction.wallet]
        return ()
    # The day of the last sweep stays with the wallet: moving the time never
    # allows a second sweep the same day.
    state.daily_sweeps[instruction.wallet] = DailySweep(
        wallet=instruction.wallet,
        at_minute=instruction.at_minute,
        keep=instruction.keep,
        last_swept_day=None if earlier is None else earlier.last_swept_day,
    )
    return ()


def check_sweep(
    state: LedgerState,
    policy: Policy,
    instruction: Defund,
    signer: VerifyKey,
    now_us: int,
    wallet: WalletAccount,
) -> DailySweep:
    """Refuse a bank's defund unless it is the day's due sweep; return the sweep, updated.

    The caller books the defund itself, and stores the returned record only
    once nothing can fail.
    """
    bank = signing_bank(state, signer, instruction.id)
    require_operator(bank, signer.address, wallet, instruction.wallet, instruction.id)
    require_open(wallet, instruction.wallet, instruction.id, "wallet")
    require_not_frozen(state, instruction.wallet, instruction.id)
    sweep = state.daily_sweeps.get(instruction.wallet)
    if sweep is None:
        raise NotAuthorisedError(
            Reason.SWEEP_NOT_SET,
            f"wallet {instruction.wallet} has no daily sweep: only its own key may defund it",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
            field="wallet",
        )
    day = policy.calendar_day(now_us)
    if sweep.last_swept_day == day:
        raise NotAuthorisedError(
            Reason.SWEEP_ALREADY_DONE,
            f"wallet {instruction.wallet} was already swept today (local day {day})",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
            field="wallet",
        )
    due_us = sweep.due_from_us(day, policy.utc_offset_minutes)
    if now_us < due_us:
        minutes = (due_us - now_us + _MINUTE_US - 1) // _MINUTE_US
        raise NotAuthorisedError(
            Reason.SWEEP_NOT_DUE,
            f"wallet {instruction.wallet}'s sweep is due at {sweep.at_minute // 60:02d}:"
            f"{sweep.at_minute % 60:02d} local time, in {minutes} minutes",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
            field="wallet",
        )
    if instruction.to_account not in ("", wallet.linked_account):
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"a sweep goes to the wallet's linked account {wallet.linked_account!r}",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
            field="to_account",
        )
    above_fen = wallet.balance_fen - sweep.keep.fen
    if instruction.amount.fen != above_fen:
        raise LimitExceededError(
            Reason.SWEEP_AMOUNT_WRONG,
            f"the sweep of wallet {instruction.wallet} is {fen(max(above_fen, 0))}, "
            f"its balance above the {sweep.keep} it keeps, not {instruction.amount}",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
            field="amount",
        )
    return attrs.evolve(sweep, last_swept_day=day)


def sweep_amount_fen(wallet: WalletAccount, sweep: DailySweep) -> int:
    """What a sweep of ``wallet`` would move now: its spendable balance above ``keep``."""
    return max(wallet.balance_fen - sweep.keep.fen, 0)
