"""Checks shared by the instruction handlers: parties, roles, room, caps, freezes.

Each raises the one typed error that says what is wrong and changes nothing,
so a handler can call any number of them before its first mutation.
"""

from __future__ import annotations

from dcep.core._records import CentralBankInfo
from dcep.core._state import BankBooks, LedgerState
from dcep.core._wallet_table import WalletAccount
from dcep.errors import (
    AmountError,
    DuplicateError,
    InsufficientFundsError,
    InvalidFieldError,
    LimitExceededError,
    NotAuthorisedError,
    Reason,
    UnknownPartyError,
)
from dcep.values._crypto import Address, VerifyKey
from dcep.values._money import MAX_AMOUNT_FEN, Amount
from dcep.values._policy import CategoryLimits, Policy

__all__ = [
    "Caps",
    "caps_fen",
    "central_bank_of",
    "deposit_account",
    "fen",
    "limits_of",
    "require_after_now",
    "require_central_bank",
    "require_funds",
    "require_new_party",
    "require_not_frozen",
    "require_open",
    "require_operator",
    "require_regulator",
    "require_room",
    "require_signer_is",
    "require_under_cap",
    "signing_bank",
    "signing_wallet",
    "wallet_kind",
    "wallet_of",
]


def fen(value: int) -> str:
    return str(Amount(value))


def central_bank_of(state: LedgerState, instruction_id: int) -> CentralBankInfo:
    if state.central_bank is None:
        raise UnknownPartyError(
            Reason.LEDGER_NOT_INITIALISED,
            "the ledger has no central bank yet: submit a genesis instruction first",
            instruction_id=instruction_id,
        )
    return state.central_bank


def require_central_bank(state: LedgerState, signer: VerifyKey, instruction_id: int) -> None:
    central_bank = central_bank_of(state, instruction_id)
    if signer != central_bank.key:
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            "only the central bank's key may sign this",
            instruction_id=instruction_id,
            party=str(signer.address),
        )


def signing_bank(state: LedgerState, signer: VerifyKey, instruction_id: int) -> BankBooks:
    central_bank_of(state, instruction_id)
    bank = state.banks.get(signer.address)
    if bank is None:
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            "only an authorised bank's key may sign this",
            instruction_id=instruction_id,
            party=str(signer.address),
        )
    return bank


def wallet_of(
    state: LedgerState, address: Address, instruction_id: int, field: str
) -> WalletAccount:
    wallet = state.wallets.get(address)
    if wallet is None:
        raise UnknownPartyError(
            Reason.UNKNOWN_WALLET,
            f"no wallet {address} on this ledger",
            instruction_id=instruction_id,
            party=str(address),
            field=field,
        )
    return wallet


def require_signer_is(signer: VerifyKey, address: Address, instruction_id: int, role: str) -> None:
    if signer.address != address:
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            f"only {role} {address}'s own key may move its money; signed by {signer.address}",
            instruction_id=instruction_id,
            party=str(address),
        )


def signing_wallet(
    state: LedgerState, address: Address, signer: VerifyKey, instruction_id: int, field: str
) -> WalletAccount:
    """The wallet at ``address``, which must exist, have signed, and be open."""
    wallet = wallet_of(state, address, instruction_id, field)
    require_signer_is(signer, address, instruction_id, "wallet")
    require_open(wallet, address, instruction_id, field)
    return wallet


def require_after_now(
    expires_at_us: int, now_us: int, reason: Reason, instruction_id: int
) -> None:
    """Refuse a pending payment or voucher that would be expired as soon as it is made."""
    if expires_at_us <= now_us:
        raise InvalidFieldError(
            reason,
            f"it would expire at {expires_at_us} µs, not after now, {now_us}",
            instruction_id=instruction_id,
            field="expires_at_us",
        )


def require_room(current_fen: int, amount_fen: int, what: str, instruction_id: int) -> None:
    if current_fen + amount_fen > MAX_AMOUNT_FEN:
        raise AmountError(
            Reason.AMOUNT_TOO_LARGE,
            f"{what} would exceed the largest representable amount",
            instruction_id=instruction_id,
            field="amount",
        )


#: A wallet's four caps in fen (balance, single payment, daily, annual); ``None``: no cap.
Caps = tuple[int | None, int | None, int | None, int | None]


def limits_of(wallet: WalletAccount, policy: Policy) -> CategoryLimits:
    """The limits of the kind of wallet ``wallet`` is: corporate, or its personal category's."""
    return policy.corporate if wallet.corporate else policy.categories[wallet.category]


def wallet_kind(wallet: WalletAccount) -> str:
    """How an error names the limits that bind ``wallet``."""
    if wallet.parent is not None:
        return "sub-wallet"
    return "corporate" if wallet.corporate else f"category {int(wallet.category)}"


def caps_fen(wallet: WalletAccount, policy: Policy) -> Caps:
    """The caps that bind ``wallet``: its category's (or the corporate ones), or a
    sub-wallet's own where it has one."""
    limits = limits_of(wallet, policy)
    category: Caps = (
        None if limits.balance_cap is None else limits.balance_cap.fen,
        None if limits.single_payment_cap is None else limits.single_payment_cap.fen,
        None if limits.daily_cap is None else limits.daily_cap.fen,
        None if limits.annual_cap is None else limits.annual_cap.fen,
    )
    own = wallet.own_caps
    if own is None:
        return category
    return (
        category[0] if own[0] is None else own[0],
        category[1] if own[1] is None else own[1],
        category[2] if own[2] is None else own[2],
        category[3] if own[3] is None else own[3],
    )


def require_under_cap(
    state: LedgerState,
    wallet: WalletAccount,
    address: Address,
    incoming_fen: int,
    policy: Policy,
    instruction_id: int,
    *,
    within_family: bool = False,
) -> None:
    """Refuse unless the wallet, and the family it belongs to, stay within the balance cap.

    A parent's balance cap bounds what it and its sub-wallets hold together;
    money that comes from the same family (``within_family``) leaves that
    total as it was, so only a sub-wallet's own cap applies to it.
    """
    held_fen = wallet.holdings_fen() + wallet.sub_wallets_fen
    if within_family and wallet.parent is None:
        require_room(held_fen, incoming_fen, "the wallet balance", instruction_id)
        return
    cap = caps_fen(wallet, policy)[0]
    after_fen = held_fen + incoming_fen
    if cap is not None and after_fen > cap:
        whose = wallet_kind(wallet)
        family = " (with its sub-wallets)" if wallet.sub_wallets_fen else ""
        raise LimitExceededError(
            Reason.BALANCE_CAP_EXCEEDED,
            f"{whose} balance cap {fen(cap)} would be exceeded: {fen(after_fen)}{family} "
            "after this",
            instruction_id=instruction_id,
            party=str(address),
            field="balance_cap",
        )
    if wallet.parent is not None and not within_family:
        require_under_cap(
            state,
            state.wallets[wallet.parent],
            wallet.parent,
            incoming_fen,
            policy,
            instruction_id,
        )
    require_room(held_fen, incoming_fen, "the wallet balance", instruction_id)


def require_open(wallet: WalletAccount, address: Address, instruction_id: int, field: str) -> None:
    """Refuse anything that would pay into, out of, or on behalf of a closed wallet."""
    if wallet.closed:
        raise NotAuthorisedError(
            Reason.WALLET_CLOSED,
            f"wallet {address} is closed: it holds, receives and signs nothing",
            instruction_id=instruction_id,
            party=str(address),
            field=field,
        )


def deposit_account(bank: BankBooks, account: str, instruction_id: int, field: str) -> int:
    balance_fen = bank.deposits.get(account)
    if balance_fen is None:
        raise UnknownPartyError(
            Reason.UNKNOWN_ACCOUNT,
            f"{bank.name} has no deposit account {account!r}",
            instruction_id=instruction_id,
            party=bank.name,
            field=field,
        )
    return balance_fen


def require_not_frozen(state: LedgerState, wallet: Address, instruction_id: int) -> None:
    regulator = state.frozen.get(wallet)
    if regulator is not None:
        raise NotAuthorisedError(
            Reason.WALLET_FROZEN,
            f"wallet {wallet} is frozen by regulator {regulator}: it cannot pay out",
            instruction_id=instruction_id,
            party=str(wallet),
        )


def require_regulator(state: LedgerState, signer: VerifyKey, instruction_id: int) -> None:
    central_bank_of(state, instruction_id)
    if signer.address not in state.regulators:
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            "only an appointed regulator's key may sign this",
            instruction_id=instruction_id,
            party=str(signer.address),
        )


#: What a shortfall is of, by the field an error names.
_FUNDS_LABELS = {
    "amount": "the wallet's balance",
    "vault": "the vault",
    "reserves": "available reserves",
    "outstanding": "outstanding issuance",
    "from_account": "the deposit account",
}


def require_funds(
    available_fen: int,
    amount: Amount,
    reason: Reason,
    *,
    instruction_id: int,
    party: object,
    field: str,
) -> None:
    """Refuse with ``reason`` unless ``available_fen`` covers ``amount``.

    ``party`` is turned into text only on refusal: an address's text form
    costs more than the check itself.
    """
    if amount.fen > available_fen:
        what = _FUNDS_LABELS.get(field, field)
        raise InsufficientFundsError(
            reason,
            f"{party}: {what} is {fen(available_fen)}, less than {amount}",
            instruction_id=instruction_id,
            party=str(party),
            field=field,
        )


def require_new_party(
    state: LedgerState, address: Address, reason: Reason, instruction_id: int
) -> None:
    """Refuse a key that already belongs to any party: one key, one role."""
    central = state.central_bank
    if (
        address in state.wallets
        or address in state.banks
        or address in state.regulators
        or (central is not None and address == central.address)
    ):
        raise DuplicateError(
            reason,
            f"key {address} already belongs to a party on this ledger",
            instruction_id=instruction_id,
            party=str(address),
        )


def require_operator(
    bank: BankBooks,
    bank_address: Address,
    wallet: WalletAccount,
    address: Address,
    instruction_id: int,
) -> None:
    """Refuse unless ``bank`` operates ``wallet``: only its own bank funds or unmasks it."""
    if wallet.operator != bank_address:
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            f"{bank.name} does not operate wallet {address}",
            instruction_id=instruction_id,
            party=bank.name,
            field="wallet",
        )
