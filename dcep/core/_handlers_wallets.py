"""Handlers of a wallet's life after opening: sub-wallets, category changes, closure.

All checks first, then mutations that cannot fail (see :mod:`dcep.core._handlers`).
A sub-wallet's postings name it and its parent, so readers of the journal see
the link; the instruction that opened it names both too.
"""

from __future__ import annotations

from dcep.core._checks import (
    caps_fen,
    central_bank_of,
    deposit_account,
    fen,
    require_funds,
    require_new_party,
    require_not_frozen,
    require_open,
    require_operator,
    require_room,
    require_under_cap,
    signing_bank,
    signing_wallet,
    wallet_of,
)
from dcep.core._records import AccountKind, Posting
from dcep.core._state import LedgerState
from dcep.core._wallet_table import WalletAccount
from dcep.errors import (
    InvalidFieldError,
    LimitExceededError,
    NotAuthorisedError,
    Reason,
    UnknownPartyError,
)
from dcep.instructions._kinds import (
    ChangeCategory,
    CloseSubWallet,
    CloseWallet,
    CollectFromSubWallet,
    OpenSubWallet,
    TopUpSubWallet,
)
from dcep.values._crypto import Address, VerifyKey
from dcep.values._policy import Policy, year_of_day

__all__ = [
    "change_category",
    "close_sub_wallet",
    "close_wallet",
    "collect_from_sub_wallet",
    "open_sub_wallet",
    "top_up_sub_wallet",
]

_CAP_FIELDS = ("balance_cap", "single_payment_cap", "daily_cap", "annual_cap")


def _signing_parent(
    state: LedgerState, parent_address: Address, signer: VerifyKey, instruction_id: int
) -> WalletAccount:
    central_bank_of(state, instruction_id)
    return signing_wallet(state, parent_address, signer, instruction_id, "parent")


def _not_a_sub_wallet(
    parent: WalletAccount, address: Address, instruction_id: int, field: str
) -> None:
    # A sub-wallet cannot have sub-wallets: one level, as e-CNY's sub-wallets are.
    if parent.parent is not None:
        raise NotAuthorisedError(
            Reason.WALLET_IS_SUB_WALLET,
            f"wallet {address} is a sub-wallet of {parent.parent}: only a wallet of its "
            "own may do this",
            instruction_id=instruction_id,
            party=str(address),
            field=field,
        )


def _sub_wallet_of(
    state: LedgerState, parent_address: Address, address: Address, instruction_id: int
) -> WalletAccount:
    child = wallet_of(state, address, instruction_id, "sub_wallet")
    if child.parent != parent_address:
        raise NotAuthorisedError(
            Reason.NOT_A_SUB_WALLET,
            f"wallet {address} is not a sub-wallet of {parent_address}",
            instruction_id=instruction_id,
            party=str(address),
            field="sub_wallet",
        )
    require_open(child, address, instruction_id, "sub_wallet")
    return child


def _no_sub_wallets(wallet: WalletAccount, address: Address, instruction_id: int) -> None:
    if wallet.open_sub_wallets:
        raise InvalidFieldError(
            Reason.WALLET_HAS_SUB_WALLETS,
            f"wallet {address} has {wallet.open_sub_wallets} open sub-wallets: close them first",
            instruction_id=instruction_id,
            party=str(address),
            field="wallet",
        )


def _no_pending(wallet: WalletAccount, address: Address, instruction_id: int, field: str) -> None:
    # Money held for a pending payment is promised to its payee until it resolves.
    if wallet.reserved_fen or wallet.vouchers_fen:
        raise InvalidFieldError(
            Reason.PENDING_OUTSTANDING,
            f"wallet {address} holds {fen(wallet.reserved_fen + wallet.vouchers_fen)} for "
            "pending payments or vouchers: they must be resolved, spent or expire first",
            instruction_id=instruction_id,
            party=str(address),
            field=field,
        )
    # An allowance may still owe payees tokens they took offline (docs/offline.md).
    if wallet.offline_fen:
        raise InvalidFieldError(
            Reason.OFFLINE_ALLOWANCE_OUTSTANDING,
            f"wallet {address} has {fen(wallet.offline_fen)} loaded on hardware wallets: "
            "settle their tokens and unload them first",
            instruction_id=instruction_id,
            party=str(address),
            field=field,
        )


def open_sub_wallet(
    state: LedgerState, policy: Policy, instruction: OpenSubWallet, signer: VerifyKey, _now: int
) -> tuple[Posting, ...]:
    """Open a sub-wallet under the signing wallet, with caps at most the parent's."""
    parent = _signing_parent(state, instruction.parent, signer, instruction.id)
    _not_a_sub_wallet(parent, instruction.parent, instruction.id, "parent")
    address = instruction.sub_wallet_key.address
    require_new_party(state, address, Reason.WALLET_EXISTS, instruction.id)
    parent_caps = caps_fen(parent, policy)
    wanted = (
        instruction.balance_cap.fen,
        instruction.single_payment_cap.fen,
        instruction.daily_cap.fen,
        instruction.annual_cap.fen,
    )
    for field, own_fen, parent_fen in zip(_CAP_FIELDS, wanted, parent_caps, strict=True):
        if own_fen and parent_fen is not None and own_fen > parent_fen:
            raise LimitExceededError(
                Reason.SUB_WALLET_CAP_ABOVE_PARENT,
                f"a sub-wallet's {field.replace('_', ' ')} of {fen(own_fen)} is above its "
                f"parent's, {fen(parent_fen)}",
                instruction_id=instruction.id,
                party=str(address),
                field=field,
            )
    state.wallets.open(
        address,
        category=parent.category,
        operator=parent.operator,
        linked_account=parent.linked_account,
        parent=instruction.parent,
        corporate=parent.corporate,
        own_caps=(
            wanted[0] or None,
            wanted[1] or None,
            wanted[2] or None,
            wanted[3] or None,
        ),
    )
    parent.open_sub_wallets += 1
    return ()


def top_up_sub_wallet(
    state: LedgerState, policy: Policy, instruction: TopUpSubWallet, signer: VerifyKey, _now: int
) -> tuple[Posting, ...]:
    """Move e-CNY from a parent wallet into its sub-wallet, within the sub-wallet's cap."""
    parent = _signing_parent(state, instruction.parent, signer, instruction.id)
    child = _sub_wallet_of(state, instruction.parent, instruction.sub_wallet, instruction.id)
    require_not_frozen(state, instruction.parent, instruction.id)
    amount_fen = instruction.amount.fen
    require_funds(
        parent.balance_fen,
        instruction.amount,
        Reason.INSUFFICIENT_BALANCE,
        instruction_id=instruction.id,
        party=instruction.parent,
        field="amount",
    )
    require_under_cap(
        state,
        child,
        instruction.sub_wallet,
        amount_fen,
        policy,
        instruction.id,
        within_family=True,
    )
    parent.balance_fen -= amount_fen
    parent.sub_wallets_fen += amount_fen
    child.balance_fen += amount_fen
    return (
        Posting(AccountKind.WALLET, instruction.parent, -amount_fen),
        Posting(AccountKind.WALLET, instruction.sub_wallet, amount_fen),
    )


def collect_from_sub_wallet(
    state: LedgerState,
    _policy: Policy,
    instruction: CollectFromSubWallet,
    signer: VerifyKey,
    _now: int,
) -> tuple[Posting, ...]:
    """Move e-CNY from a sub-wallet back to its parent; signed by the parent."""
    parent = _signing_parent(state, instruction.parent, signer, instruction.id)
    child = _sub_wallet_of(state, instruction.parent, instruction.sub_wallet, instruction.id)
    require_not_frozen(state, instruction.sub_wallet, instruction.id)
    amount_fen = instruction.amount.fen
    require_funds(
        child.balance_fen,
        instruction.amount,
        Reason.INSUFFICIENT_BALANCE,
        instruction_id=instruction.id,
        party=instruction.sub_wallet,
        field="amount",
    )
    child.balance_fen -= amount_fen
    parent.sub_wallets_fen -= amount_fen
    parent.balance_fen += amount_fen
    return (
        Posting(AccountKind.WALLET, instruction.sub_wallet, -amount_fen),
        Posting(AccountKind.WALLET, instruction.parent, amount_fen),
    )


def close_sub_wallet(
    state: LedgerState, _policy: Policy, instruction: CloseSubWallet, signer: VerifyKey, _now: int
) -> tuple[Posting, ...]:
    """Close a sub-wallet; what it holds returns to its parent."""
    parent = _signing_parent(state, instruction.parent, signer, instruction.id)
    child = _sub_wallet_of(state, instruction.parent, instruction.sub_wallet, instruction.id)
    require_not_frozen(state, instruction.sub_wallet, instruction.id)
    _no_pending(child, instruction.sub_wallet, instruction.id, "sub_wallet")
    held_fen = child.balance_fen
    child.balance_fen = 0
    child.closed = True
    parent.sub_wallets_fen -= held_fen
    parent.open_sub_wallets -= 1
    parent.balance_fen += held_fen
    if not held_fen:
        return ()
    return (
        Posting(AccountKind.WALLET, instruction.sub_wallet, -held_fen),
        Posting(AccountKind.WALLET, instruction.parent, held_fen),
    )


def _operated_wallet(
    state: LedgerState, address: Address, signer: VerifyKey, instruction_id: int
) -> WalletAccount:
    bank = signing_bank(state, signer, instruction_id)
    wallet = wallet_of(state, address, instruction_id, "wallet")
    require_operator(bank, signer.address, wallet, address, instruction_id)
    require_open(wallet, address, instruction_id, "wallet")
    _not_a_sub_wallet(wallet, address, instruction_id, "wallet")
    _no_sub_wallets(wallet, address, instruction_id)
    return wallet


def change_category(
    state: LedgerState, policy: Policy, instruction: ChangeCategory, signer: VerifyKey, now_us: int
) -> tuple[Posting, ...]:
    """Move a wallet to another category, if what it holds and has paid fits the new caps."""
    wallet = _operated_wallet(state, instruction.wallet, signer, instruction.id)
    if wallet.corporate:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"wallet {instruction.wallet} is corporate: the corporate limits bind it, "
            "not a personal category",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
            field="category",
        )
    bank = state.banks[signer.address]
    limits = policy.limits(instruction.category)
    account = instruction.linked_account
    if limits.requires_linked_account and not account:
        raise NotAuthorisedError(
            Reason.KYC_INSUFFICIENT,
            f"a category {int(instruction.category)} wallet must be linked to a deposit account",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
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
    day = policy.calendar_day(now_us)
    year = year_of_day(day)
    today_fen = wallet.spent_today_fen if wallet.day == day else 0
    this_year_fen = wallet.spent_this_year_fen if wallet.year == year else 0
    for cap, used_fen, field, reason in (
        (limits.balance_cap, wallet.holdings_fen(), "balance_cap", Reason.BALANCE_CAP_EXCEEDED),
        (limits.daily_cap, today_fen, "daily_cap", Reason.DAILY_CAP_EXCEEDED),
        (limits.annual_cap, this_year_fen, "annual_cap", Reason.ANNUAL_CAP_EXCEEDED),
    ):
        if cap is not None and used_fen > cap.fen:
            what = "holds" if field == "balance_cap" else "has paid"
            raise LimitExceededError(
                reason,
                f"wallet {instruction.wallet} {what} {fen(used_fen)}, over the category "
                f"{int(instruction.category)} {field.replace('_', ' ')} of {cap}",
                instruction_id=instruction.id,
                party=str(instruction.wallet),
                field=field,
            )
    # The counters are brought to today, so that they are checked against the
    # new caps from now on.
    wallet.day, wallet.spent_today_fen = day, today_fen
    wallet.spent_this_year_fen = this_year_fen  # the counters' year is their day's
    wallet.category = instruction.category
    wallet.linked_account = bank.account_names.get(account, account)
    return ()


def close_wallet(
    state: LedgerState, _policy: Policy, instruction: CloseWallet, signer: VerifyKey, _now: int
) -> tuple[Posting, ...]:
    """Close a wallet: its balance goes to a deposit account, and it is never used again."""
    wallet = _operated_wallet(state, instruction.wallet, signer, instruction.id)
    require_not_frozen(state, instruction.wallet, instruction.id)
    _no_pending(wallet, instruction.wallet, instruction.id, "wallet")
    bank = state.banks[signer.address]
    account = instruction.to_account or wallet.linked_account
    held_fen = wallet.balance_fen
    deposit_fen = 0
    if account:
        deposit_fen = deposit_account(bank, account, instruction.id, "to_account")
    elif held_fen:
        raise UnknownPartyError(
            Reason.UNKNOWN_ACCOUNT,
            f"wallet {instruction.wallet} holds {fen(held_fen)} and has no linked account; "
            "name one to close into",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
            field="to_account",
        )
    require_room(deposit_fen, held_fen, "the deposit account", instruction.id)
    require_room(bank.vault_fen, held_fen, "the bank's vault", instruction.id)
    require_room(bank.defunded_to_deposits_fen, held_fen, "lifetime defunds", instruction.id)
    require_room(bank.deposits_total_fen, held_fen, "the bank's deposits", instruction.id)
    wallet.closed = True
    bank.wallet_count -= 1
    if not held_fen:
        return ()
    wallet.balance_fen = 0
    bank.vault_fen += held_fen
    bank.deposits[account] = deposit_fen + held_fen
    bank.deposits_total_fen += held_fen
    bank.defunded_to_deposits_fen += held_fen
    return (
        Posting(AccountKind.WALLET, instruction.wallet, -held_fen),
        Posting(AccountKind.VAULT, signer.address, held_fen),
        Posting(AccountKind.DEPOSIT, signer.address, held_fen, account),
    )
