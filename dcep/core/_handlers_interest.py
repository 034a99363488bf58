"""Interest on bank wallets in the 2026 reserve mode: one accrual per instruction.

Since 1 January 2026 e-CNY in a commercial bank's wallets is a deposit
liability of the bank and may bear interest (``docs/FACTS.md``).  The ledger
works the amount out from its own clock, so that every replica pays the same
fen: the wallet's balance (with its sub-wallets', for a parent) times the
policy's yearly rate times the time since its last accrual, over a year of
365 days.  The fraction of a fen left over is carried to the next accrual,
never lost and never rounded up, so accruing often pays what accruing once
would for the same balance.  The bank pays it from its vault: e-CNY moves,
none is made, and the bank's books count it as an expense
(``BankBooks.interest_paid_fen``).

All checks first, then mutations that cannot fail (see :mod:`dcep.core._handlers`).
"""

from __future__ import annotations

from typing import Final

from dcep.core._checks import (
    caps_fen,
    require_funds,
    require_open,
    require_operator,
    require_room,
    signing_bank,
    wallet_of,
)
from dcep.core._records import AccountKind, Posting
from dcep.core._state import BankBooks, LedgerState
from dcep.core._wallet_table import WalletAccount
from dcep.errors import NotAuthorisedError, Reason
from dcep.instructions._kinds import AccrueInterest
from dcep.values._clock import MICROSECONDS_PER_DAY
from dcep.values._crypto import VerifyKey
from dcep.values._money import MAX_AMOUNT_FEN, Amount
from dcep.values._policy import BASIS_POINTS, Policy, ReserveMode

__all__ = ["INTEREST_DENOMINATOR", "accrue_interest", "interest_due"]

#: Basis points times the microseconds of a 365-day year: the unit interest
#: is reckoned in before it is whole fen.
INTEREST_DENOMINATOR: Final = BASIS_POINTS * 365 * MICROSECONDS_PER_DAY


def interest_due(balance_fen: int, rate_bp: int, elapsed_us: int, carried: int) -> tuple[int, int]:
    """(fen due, fraction carried on), rounding down to the fen and carrying the rest.

    ``carried`` is what the last accrual left, in units of
    1 / :data:`INTEREST_DENOMINATOR` fen.
    """
    return divmod(balance_fen * rate_bp * elapsed_us + carried, INTEREST_DENOMINATOR)


def _require_interest(policy: Policy, bank: BankBooks, instruction_id: int) -> None:
    if policy.reserve_mode is not ReserveMode.DEPOSIT or not policy.interest_rate_bp:
        why = "the policy pays no interest (2026 reserve mode with a rate only)"
    elif policy.is_payment_institution(bank.code):
        why = f"{bank.name} is a payment institution: its wallets are no deposits"
    else:
        return
    raise NotAuthorisedError(
        Reason.INTEREST_NOT_PAYABLE, why, instruction_id=instruction_id, party=bank.name
    )


def accrue_interest(
    state: LedgerState, policy: Policy, instruction: AccrueInterest, signer: VerifyKey, now_us: int
) -> tuple[Posting, ...]:
    """Pay a wallet its interest since its last accrual, from its bank's vault.

    Interest the wallet (or its family) could not hold under its balance cap
    is not paid: a cap bounds what a wallet holds, interest included.
    """
    bank = signing_bank(state, signer, instruction.id)
    wallet = wallet_of(state, instruction.wallet, instruction.id, "wallet")
    require_operator(bank, signer.address, wallet, instruction.wallet, instruction.id)
    require_open(wallet, instruction.wallet, instruction.id, "wallet")
    _require_interest(policy, bank, instruction.id)
    if wallet.parent is not None:
        raise NotAuthorisedError(
            Reason.WALLET_IS_SUB_WALLET,
            f"wallet {instruction.wallet} is a sub-wallet: interest is its parent's",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
            field="wallet",
        )
    if wallet.interest_from_us < 0:
        wallet.interest_from_us = now_us
        return ()
    held_fen = wallet.holdings_fen() + wallet.sub_wallets_fen
    due_fen, carried = interest_due(
        held_fen, policy.interest_rate_bp, now_us - wallet.interest_from_us, wallet.interest_carry
    )
    paid_fen = min(due_fen, _room(wallet, held_fen, policy))
    if paid_fen:
        require_funds(
            bank.vault_fen,
            Amount(paid_fen),
            Reason.INSUFFICIENT_VAULT,
            instruction_id=instruction.id,
            party=bank.name,
            field="vault",
        )
        require_room(bank.interest_paid_fen, paid_fen, "lifetime interest", instruction.id)
    wallet.interest_from_us = now_us
    wallet.interest_carry = carried
    if not paid_fen:
        return ()
    bank.vault_fen -= paid_fen
    bank.interest_paid_fen += paid_fen
    wallet.balance_fen += paid_fen
    return (
        Posting(AccountKind.VAULT, signer.address, -paid_fen),
        Posting(AccountKind.WALLET, instruction.wallet, paid_fen),
    )


def _room(wallet: WalletAccount, held_fen: int, policy: Policy) -> int:
    cap = caps_fen(wallet, policy)[0]
    return max(0, (MAX_AMOUNT_FEN if cap is None else cap) - held_fen)
