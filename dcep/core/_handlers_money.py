"""Handlers that move money: issue, redeem, pay in, fund, defund, transfer.

All checks first, then mutations that cannot fail (see :mod:`dcep.core._handlers`).
"""

from __future__ import annotations

from dcep.core._checks import (
    caps_fen,
    central_bank_of,
    deposit_account,
    fen,
    require_central_bank,
    require_funds,
    require_not_frozen,
    require_open,
    require_operator,
    require_room,
    require_signer_is,
    require_under_cap,
    signing_bank,
    wallet_kind,
    wallet_of,
)
from dcep.core._handlers_corporate import check_sweep
from dcep.core._records import AccountKind, Posting
from dcep.core._state import LedgerState
from dcep.core._wallet_table import WalletAccount
from dcep.core._waterfall import NO_WATERFALL, Waterfall, sweep, top_up, waterfall
from dcep.errors import (
    InsufficientFundsError,
    InvalidFieldError,
    LimitExceededError,
    Reason,
    UnknownPartyError,
)
from dcep.instructions._kinds import (
    Defund,
    Fund,
    Issue,
    PayIn,
    Redeem,
    Transfer,
)
from dcep.values._crypto import Address, VerifyKey
from dcep.values._money import MAX_AMOUNT_FEN
from dcep.values._policy import Policy, year_of_day

__all__ = ["defund", "fund", "issue", "pay_in", "redeem", "transfer"]


def issue(
    state: LedgerState, policy: Policy, instruction: Issue, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Exchange a bank's reserves for e-CNY in its vault: fen for fen in 2021, at the
    policy's reserve ratio for a bank in 2026."""
    require_central_bank(state, signer, instruction.id)
    bank = state.banks.get(instruction.bank)
    if bank is None:
        raise UnknownPartyError(
            Reason.UNKNOWN_BANK,
            f"no authorised bank {instruction.bank}",
            instruction_id=instruction.id,
            party=str(instruction.bank),
            field="bank",
        )
    amount_fen = instruction.amount.fen
    held_fen = bank.reserves_held_fen(policy)
    needed_fen = policy.reserves_required_fen(bank.code, bank.outstanding_fen + amount_fen)
    if needed_fen > bank.reserves_pledged_fen:
        available_fen = bank.reserves_pledged_fen - held_fen
        raise InsufficientFundsError(
            Reason.INSUFFICIENT_RESERVES,
            f"{bank.name}: issuing {fen(amount_fen)} needs {fen(needed_fen - held_fen)} more "
            f"reserves; {fen(available_fen)} available",
            instruction_id=instruction.id,
            party=bank.name,
            field="reserves",
        )
    # Outstanding issuance is at most what was issued: room for the total is room for it.
    require_room(state.issued_fen, amount_fen, "lifetime issuance", instruction.id)
    require_room(bank.vault_fen, amount_fen, "the bank's vault", instruction.id)
    bank.outstanding_fen += amount_fen
    bank.vault_fen += amount_fen
    state.issued_fen += amount_fen
    return (
        Posting(AccountKind.RESERVES, instruction.bank, held_fen - needed_fen),
        Posting(AccountKind.VAULT, instruction.bank, amount_fen),
    )


def redeem(
    state: LedgerState, policy: Policy, instruction: Redeem, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Return e-CNY from a bank's vault to the central bank, releasing the reserves behind it."""
    bank = signing_bank(state, signer, instruction.id)
    amount_fen = instruction.amount.fen
    require_funds(
        bank.vault_fen,
        instruction.amount,
        Reason.INSUFFICIENT_VAULT,
        instruction_id=instruction.id,
        party=bank.name,
        field="vault",
    )
    # e-CNY that came from wallets of other banks can be redeemed only up to
    # what this bank was issued: its reserves are all it can get back.
    require_funds(
        bank.outstanding_fen,
        instruction.amount,
        Reason.INSUFFICIENT_RESERVES,
        instruction_id=instruction.id,
        party=bank.name,
        field="outstanding",
    )
    require_room(state.redeemed_fen, amount_fen, "lifetime redemption", instruction.id)
    held_fen = bank.reserves_held_fen(policy)
    bank.vault_fen -= amount_fen
    bank.outstanding_fen -= amount_fen
    state.redeemed_fen += amount_fen
    return (
        Posting(AccountKind.VAULT, signer.address, -amount_fen),
        Posting(AccountKind.RESERVES, signer.address, held_fen - bank.reserves_held_fen(policy)),
    )


def pay_in(
    state: LedgerState, _policy: Policy, instruction: PayIn, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Credit a customer's deposit account with money paid in at the bank."""
    bank = signing_bank(state, signer, instruction.id)
    if not instruction.account:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            "a pay-in names the deposit account it credits",
            instruction_id=instruction.id,
            field="account",
        )
    amount_fen = instruction.amount.fen
    current_fen = bank.deposits.get(instruction.account, 0)
    require_room(current_fen, amount_fen, "the deposit account", instruction.id)
    require_room(bank.cash_fen, amount_fen, "the bank's cash", instruction.id)
    require_room(bank.paid_in_fen, amount_fen, "lifetime pay-ins", instruction.id)
    require_room(bank.deposits_total_fen, amount_fen, "the bank's deposits", instruction.id)
    bank.deposits[instruction.account] = current_fen + amount_fen
    bank.account_names.setdefault(instruction.account, instruction.account)
    bank.deposits_total_fen += amount_fen
    bank.paid_in_fen += amount_fen
    bank.cash_fen += amount_fen
    return (
        Posting(AccountKind.DEPOSIT, signer.address, amount_fen, instruction.account),
        Posting(AccountKind.CASH, signer.address, amount_fen),
    )


def fund(
    state: LedgerState, policy: Policy, instruction: Fund, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Move e-CNY from the bank's vault into a wallet it operates."""
    bank = signing_bank(state, signer, instruction.id)
    wallet = wallet_of(state, instruction.wallet, instruction.id, "wallet")
    require_operator(bank, signer.address, wallet, instruction.wallet, instruction.id)
    require_open(wallet, instruction.wallet, instruction.id, "wallet")
    amount_fen = instruction.amount.fen
    account = instruction.from_account
    if account:
        deposit_fen = deposit_account(bank, account, instruction.id, "from_account")
        require_funds(
            deposit_fen,
            instruction.amount,
            Reason.INSUFFICIENT_DEPOSIT,
            instruction_id=instruction.id,
            party=bank.name,
            field="from_account",
        )
        require_room(
            bank.funded_from_deposits_fen, amount_fen, "lifetime fundings", instruction.id
        )
    else:
        require_room(bank.cash_fen, amount_fen, "the bank's cash", instruction.id)
    require_funds(
        bank.vault_fen,
        instruction.amount,
        Reason.INSUFFICIENT_VAULT,
        instruction_id=instruction.id,
        party=bank.name,
        field="vault",
    )
    require_under_cap(state, wallet, instruction.wallet, amount_fen, policy, instruction.id)
    bank.vault_fen -= amount_fen
    wallet.balance_fen += amount_fen
    if wallet.parent is not None:
        state.wallets[wallet.parent].sub_wallets_fen += amount_fen
    vault = Posting(AccountKind.VAULT, signer.address, -amount_fen)
    credit = Posting(AccountKind.WALLET, instruction.wallet, amount_fen)
    if account:
        bank.deposits[account] -= amount_fen
        bank.deposits_total_fen -= amount_fen
        bank.funded_from_deposits_fen += amount_fen
        return (Posting(AccountKind.DEPOSIT, signer.address, -amount_fen, account), vault, credit)
    bank.cash_fen += amount_fen
    return (Posting(AccountKind.CASH, signer.address, amount_fen), vault, credit)


def defund(
    state: LedgerState, policy: Policy, instruction: Defund, signer: VerifyKey, now_us: int
) -> tuple[Posting, ...]:
    """Return a wallet's e-CNY to its bank, credited to a deposit account.

    Signed by the wallet's operating bank, it is the day's sweep of a
    corporate wallet, checked against its schedule (:func:`check_sweep`).
    """
    central_bank_of(state, instruction.id)
    wallet = wallet_of(state, instruction.wallet, instruction.id, "wallet")
    swept = None
    if signer.address == wallet.operator:
        swept = check_sweep(state, policy, instruction, signer, now_us, wallet)
    else:
        require_signer_is(signer, instruction.wallet, instruction.id, "wallet")
    require_open(wallet, instruction.wallet, instruction.id, "wallet")
    require_not_frozen(state, instruction.wallet, instruction.id)
    bank = state.banks[wallet.operator]
    account = instruction.to_account or wallet.linked_account
    if not account:
        raise UnknownPartyError(
            Reason.UNKNOWN_ACCOUNT,
            f"wallet {instruction.wallet} has no linked account; name one to defund into",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
            field="to_account",
        )
    deposit_fen = deposit_account(bank, account, instruction.id, "to_account")
    amount_fen = instruction.amount.fen
    require_funds(
        wallet.balance_fen,
        instruction.amount,
        Reason.INSUFFICIENT_BALANCE,
        instruction_id=instruction.id,
        party=instruction.wallet,
        field="amount",
    )
    require_room(deposit_fen, amount_fen, "the deposit account", instruction.id)
    require_room(bank.vault_fen, amount_fen, "the bank's vault", instruction.id)
    require_room(bank.defunded_to_deposits_fen, amount_fen, "lifetime defunds", instruction.id)
    require_room(bank.deposits_total_fen, amount_fen, "the bank's deposits", instruction.id)
    wallet.balance_fen -= amount_fen
    if wallet.parent is not None:
        state.wallets[wallet.parent].sub_wallets_fen -= amount_fen
    bank.vault_fen += amount_fen
    bank.deposits[account] = deposit_fen + amount_fen
    bank.deposits_total_fen += amount_fen
    bank.defunded_to_deposits_fen += amount_fen
    if swept is not None:
        state.daily_sweeps[instruction.wallet] = swept
    return (
        Posting(AccountKind.WALLET, instruction.wallet, -amount_fen),
        Posting(AccountKind.VAULT, wallet.operator, amount_fen),
        Posting(AccountKind.DEPOSIT, wallet.operator, amount_fen, account),
    )


def _check_payment_caps(
    state: LedgerState,
    wallet: WalletAccount,
    payer: Address,
    amount_fen: int,
    policy: Policy,
    day: int,
    year: int,
    instruction_id: int,
) -> None:
    _, single, daily, annual = caps_fen(wallet, policy)
    whose = wallet_kind(wallet)
    spent_today_fen = wallet.spent_today_fen if wallet.day == day else 0
    spent_this_year_fen = wallet.spent_this_year_fen if wallet.year == year else 0
    # Only reached when transfer's one-test fast path said no: the usual
    # case is decided there (WalletTable.pay_if_plain), so this one just names the cap.
    for cap, used_fen, field, reason in (
        (single, 0, "single_payment_cap", Reason.SINGLE_PAYMENT_CAP_EXCEEDED),
        (daily, spent_today_fen, "daily_cap", Reason.DAILY_CAP_EXCEEDED),
        (annual, spent_this_year_fen, "annual_cap", Reason.ANNUAL_CAP_EXCEEDED),
    ):
        if cap is not None and used_fen + amount_fen > cap:
            so_far = (
                f" ({fen(used_fen)} already paid, {fen(used_fen + amount_fen)} in all)"
                if field != "single_payment_cap"
                else ""
            )
            raise LimitExceededError(
                reason,
                f"a payment of {fen(amount_fen)} breaks the {whose} "
                f"{field.replace('_', ' ')} of {fen(cap)}{so_far}",
                instruction_id=instruction_id,
                party=str(payer),
                field=field,
            )
    if wallet.parent is not None:
        # A sub-wallet's payments are its parent's too: they count toward the
        # parent's caps (the parent is the one with KYC), which name the parent.
        _check_payment_caps(
            state,
            state.wallets[wallet.parent],
            wallet.parent,
            amount_fen,
            policy,
            day,
            year,
            instruction_id,
        )


def transfer(
    state: LedgerState, policy: Policy, instruction: Transfer, signer: VerifyKey, now_us: int
) -> tuple[Posting, ...]:
    """Pay from one wallet to another, within both wallets' category caps.

    With the waterfall of the payee's category, the part that would take it
    over its balance cap goes on to its linked deposit account; with the
    reverse waterfall of the payer's, what its balance lacks is first drawn
    from its linked deposit account (see :mod:`dcep.core._waterfall`).
    """
    amount_fen = instruction.amount.fen
    day = policy.calendar_day(now_us)
    year = year_of_day(day)
    payer_address = instruction.payer
    # Nearly every payment passes every check: one cheap test for that case
    # (the table's, over its columns), and the named checks below (which also
    # pick the error) only otherwise.
    if (
        state.central_bank is not None
        and signer.address == payer_address
        and not state.frozen
        and state.wallets.pay_if_plain(
            payer_address, instruction.payee, amount_fen, policy, day, year
        )
    ):
        return (
            Posting(AccountKind.WALLET, payer_address, -amount_fen),
            Posting(AccountKind.WALLET, instruction.payee, amount_fen),
        )
    payer, payee, falls = _checked_transfer(state, policy, instruction, signer, day, year)
    drawn = () if falls is NO_WATERFALL else top_up(state, payer, payer_address, falls)
    _count_payment(payer, amount_fen, day, year)
    payer.balance_fen -= amount_fen
    payee.balance_fen += amount_fen
    if payer.parent is not None:
        parent = state.wallets[payer.parent]
        _count_payment(parent, amount_fen, day, year)
        parent.sub_wallets_fen -= amount_fen
    if payee.parent is not None:
        state.wallets[payee.parent].sub_wallets_fen += amount_fen
    paid = (
        Posting(AccountKind.WALLET, payer_address, -amount_fen),
        Posting(AccountKind.WALLET, instruction.payee, amount_fen),
    )
    if falls is NO_WATERFALL:
        return paid  # the usual case: no waterfall, nothing else to post
    return (*drawn, *paid, *sweep(state, payee, instruction.payee, falls))


def _count_payment(payer: WalletAccount, amount_fen: int, day: int, year: int) -> None:
    if payer.day != day:
        if payer.year != year:  # the counters' year is their day's
            payer.spent_this_year_fen = 0
        payer.day = day
        payer.spent_today_fen = 0
    # Saturating: without a cap the counters only inform, and every cap is below the maximum.
    payer.spent_today_fen = min(payer.spent_today_fen + amount_fen, MAX_AMOUNT_FEN)
    payer.spent_this_year_fen = min(payer.spent_this_year_fen + amount_fen, MAX_AMOUNT_FEN)


def _checked_transfer(
    state: LedgerState,
    policy: Policy,
    instruction: Transfer,
    signer: VerifyKey,
    day: int,
    year: int,
) -> tuple[WalletAccount, WalletAccount, Waterfall]:
    # Every check of a payment, in order: raise the first that fails, else
    # return the payer's and payee's accounts and what the waterfall moves.
    central_bank_of(state, instruction.id)
    payer = wallet_of(state, instruction.payer, instruction.id, "payer")
    require_signer_is(signer, instruction.payer, instruction.id, "wallet")
    require_open(payer, instruction.payer, instruction.id, "payer")
    if state.frozen:
        require_not_frozen(state, instruction.payer, instruction.id)
    payee = wallet_of(state, instruction.payee, instruction.id, "payee")
    require_open(payee, instruction.payee, instruction.id, "payee")
    amount_fen = instruction.amount.fen
    # A payment inside one family (parent and sub-wallets) leaves its total as it was.
    family = (payer.parent or instruction.payer) == (payee.parent or instruction.payee)
    falls = waterfall(state, policy, instruction, payer, payee, family)
    require_funds(
        payer.balance_fen + falls.top_up_fen,
        instruction.amount,
        Reason.INSUFFICIENT_BALANCE,
        instruction_id=instruction.id,
        party=instruction.payer,
        field="amount",
    )
    _check_payment_caps(
        state, payer, instruction.payer, amount_fen, policy, day, year, instruction.id
    )
    require_under_cap(
        state,
        payee,
        instruction.payee,
        amount_fen - falls.sweep_fen,
        policy,
        instruction.id,
        within_family=family,
    )
    return payer, payee, falls
