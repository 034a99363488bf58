"""The waterfall and the reverse waterfall of a payment (issue 24): what moves, and how.

A payee's category with ``waterfall`` sends the part of a payment that would
take it over its balance cap on to its linked deposit account; a payer's with
``reverse_waterfall`` draws what its balance lacks from its linked deposit
account first.  Both are the holder's own defund and fund, made in the same
entry as the payment: :func:`waterfall` decides (and refuses what cannot be
moved), :func:`top_up` and :func:`sweep` apply, as ``fund`` and ``defund`` do.
Sub-wallets have none of their own: their parent's family cap rules them.
"""

from __future__ import annotations

from typing import Final, final

import attrs

from dcep.core._checks import caps_fen, limits_of, require_funds, require_room
from dcep.core._records import AccountKind, Posting
from dcep.core._state import LedgerState
from dcep.core._wallet_table import WalletAccount
from dcep.errors import Reason
from dcep.instructions._kinds import Transfer
from dcep.values._crypto import Address
from dcep.values._money import Amount
from dcep.values._policy import Policy

__all__ = ["NO_WATERFALL", "Waterfall", "sweep", "top_up", "waterfall"]


@final
@attrs.frozen
class Waterfall:
    """What a payment draws from the payer's deposit and sweeps to the payee's."""

    top_up_fen: int = 0
    top_up_account: str = ""
    sweep_fen: int = 0
    sweep_account: str = ""


NO_WATERFALL: Final = Waterfall()


def top_up(
    state: LedgerState, payer: WalletAccount, address: Address, falls: Waterfall
) -> tuple[Posting, ...]:
    # A funding from the payer's own linked deposit, as ``fund`` does it.
    amount_fen, account = falls.top_up_fen, falls.top_up_account
    if not amount_fen:
        return ()
    bank = state.banks[payer.operator]
    bank.deposits[account] -= amount_fen
    bank.deposits_total_fen -= amount_fen
    bank.funded_from_deposits_fen += amount_fen
    bank.vault_fen -= amount_fen
    payer.balance_fen += amount_fen
    return (
        Posting(AccountKind.DEPOSIT, payer.operator, -amount_fen, account),
        Posting(AccountKind.VAULT, payer.operator, -amount_fen),
        Posting(AccountKind.WALLET, address, amount_fen),
    )


def sweep(
    state: LedgerState, payee: WalletAccount, address: Address, falls: Waterfall
) -> tuple[Posting, ...]:
    # A defund into the payee's own linked deposit, as ``defund`` does it.
    amount_fen, account = falls.sweep_fen, falls.sweep_account
    if not amount_fen:
        return ()
    bank = state.banks[payee.operator]
    payee.balance_fen -= amount_fen
    bank.vault_fen += amount_fen
    bank.deposits[account] += amount_fen
    bank.deposits_total_fen += amount_fen
    bank.defunded_to_deposits_fen += amount_fen
    return (
        Posting(AccountKind.WALLET, address, -amount_fen),
        Posting(AccountKind.VAULT, payee.operator, amount_fen),
        Posting(AccountKind.DEPOSIT, payee.operator, amount_fen, account),
    )


def _linked_deposit(state: LedgerState, wallet: WalletAccount) -> int | None:
    # The balance of a wallet of its own's linked deposit account; None if it
    # has none (sub-wallets have no waterfall: their parent's family cap rules).
    if wallet.parent is not None or not wallet.linked_account:
        return None
    return state.banks[wallet.operator].deposits.get(wallet.linked_account)


def waterfall(
    state: LedgerState,
    policy: Policy,
    instruction: Transfer,
    payer: WalletAccount,
    payee: WalletAccount,
    family: bool,
) -> Waterfall:
    # What the policy lets this payment draw and sweep; nothing where a check
    # below will refuse it as before.
    amount_fen = instruction.amount.fen
    top_up_fen = sweep_fen = 0
    shortfall_fen = amount_fen - payer.balance_fen
    if shortfall_fen > 0 and limits_of(payer, policy).reverse_waterfall:
        deposit_fen = _linked_deposit(state, payer)
        bank = state.banks[payer.operator]
        if deposit_fen is not None and deposit_fen >= shortfall_fen:
            require_funds(
                bank.vault_fen,
                Amount(shortfall_fen),
                Reason.INSUFFICIENT_VAULT,
                instruction_id=instruction.id,
                party=bank.name,
                field="vault",
            )
            require_room(
                bank.funded_from_deposits_fen, shortfall_fen, "lifetime fundings", instruction.id
            )
            top_up_fen = shortfall_fen
    cap = caps_fen(payee, policy)[0]
    over_fen = (
        0
        if cap is None or family
        else payee.holdings_fen() + payee.sub_wallets_fen + amount_fen - cap
    )
    # A frozen wallet may not defund, so nothing is swept out of it either: a
    # payment that would take it over its cap is refused, as without a waterfall.
    if (
        over_fen > 0
        and limits_of(payee, policy).waterfall
        and instruction.payee not in state.frozen
    ):
        deposit_fen = _linked_deposit(state, payee)
        if deposit_fen is not None:
            bank = state.banks[payee.operator]
            require_room(deposit_fen, over_fen, "the deposit account", instruction.id)
            require_room(bank.deposits_total_fen, over_fen, "the bank's deposits", instruction.id)
            require_room(
                bank.defunded_to_deposits_fen, over_fen, "lifetime defunds", instruction.id
            )
            # The payer's own top-up left the vault first, so there is room for it.
            require_room(bank.vault_fen, over_fen, "the bank's vault", instruction.id)
            sweep_fen = over_fen
    if not top_up_fen and not sweep_fen:
        return NO_WATERFALL
    return Waterfall(top_up_fen, payer.linked_account, sweep_fen, payee.linked_account)
