"""What each kind of instruction checks and does to the ledger's state.

One handler per kind, registered in :data:`HANDLERS`.  Every handler follows
the same discipline: *all* checks first, then mutations that cannot fail, so
a refused instruction leaves the state exactly as it was.  A handler returns
the postings it made, which become part of the receipt and the journal.

These are the stateful checks (roles, balances, limits); the stateless ones
(encoding, amounts, signature) happened before, in :mod:`dcep._validation`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from dcep._codes import InstitutionCode
from dcep._crypto import Address, VerifyKey
from dcep._errors import (
    AmountError,
    CodeError,
    DuplicateError,
    InsufficientFundsError,
    InvalidFieldError,
    LimitExceededError,
    NotAuthorisedError,
    Reason,
    UnknownPartyError,
)
from dcep._instructions import (
    AppointRegulator,
    AuthoriseBank,
    Defund,
    Disclosure,
    Freeze,
    Fund,
    Genesis,
    Issue,
    Kind,
    OpenWallet,
    PayIn,
    Redeem,
    Transfer,
    Unfreeze,
    Warrant,
)
from dcep._money import MAX_AMOUNT_FEN, Amount
from dcep._policy import Policy, year_of_day
from dcep._records import AccountKind, CentralBankInfo, Posting
from dcep._state import BankBooks, LedgerState, WalletAccount, accepted_key

__all__ = ["HANDLERS", "Handler"]

#: A handler: (state, policy, instruction, signer, now_us) -> postings.
Handler = Callable[[LedgerState, Policy, Any, VerifyKey, int], tuple[Posting, ...]]

_BANK_CODE_MIN_DEPTH: Final = 4


def _fen(value: int) -> str:
    return str(Amount(value))


def _central_bank(state: LedgerState, instruction_id: int) -> CentralBankInfo:
    if state.central_bank is None:
        raise UnknownPartyError(
            Reason.LEDGER_NOT_INITIALISED,
            "the ledger has no central bank yet: submit a genesis instruction first",
            instruction_id=instruction_id,
        )
    return state.central_bank


def _require_central_bank(state: LedgerState, signer: VerifyKey, instruction_id: int) -> None:
    central_bank = _central_bank(state, instruction_id)
    if signer != central_bank.key:
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            "only the central bank's key may sign this",
            instruction_id=instruction_id,
            party=str(signer.address),
        )


def _signing_bank(state: LedgerState, signer: VerifyKey, instruction_id: int) -> BankBooks:
    _central_bank(state, instruction_id)
    bank = state.banks.get(signer.address)
    if bank is None:
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            "only an authorised bank's key may sign this",
            instruction_id=instruction_id,
            party=str(signer.address),
        )
    return bank


def _wallet(
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


def _require_signer_is(
    signer: VerifyKey, address: Address, instruction_id: int, role: str
) -> None:
    if signer.address != address:
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            f"only {role} {address}'s own key may move its money; signed by {signer.address}",
            instruction_id=instruction_id,
            party=str(address),
        )


def _require_room(current_fen: int, amount_fen: int, what: str, instruction_id: int) -> None:
    if current_fen + amount_fen > MAX_AMOUNT_FEN:
        raise AmountError(
            Reason.AMOUNT_TOO_LARGE,
            f"{what} would exceed the largest representable amount",
            instruction_id=instruction_id,
            field="amount",
        )


def _require_under_cap(
    wallet: WalletAccount,
    address: Address,
    incoming_fen: int,
    policy: Policy,
    instruction_id: int,
) -> None:
    cap = policy.categories[wallet.category].balance_cap
    after_fen = wallet.holdings_fen() + incoming_fen
    if cap is not None and after_fen > cap.fen:
        raise LimitExceededError(
            Reason.BALANCE_CAP_EXCEEDED,
            f"category {int(wallet.category)} balance cap {cap} would be exceeded: "
            f"{_fen(after_fen)} after this",
            instruction_id=instruction_id,
            party=str(address),
            field="balance_cap",
        )
    _require_room(wallet.holdings_fen(), incoming_fen, "the wallet balance", instruction_id)


def genesis(
    state: LedgerState, _policy: Policy, instruction: Genesis, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Install the signer as the central bank; only ever the first instruction."""
    if state.central_bank is not None:
        raise DuplicateError(
            Reason.LEDGER_ALREADY_INITIALISED,
            f"the ledger already has a central bank, {state.central_bank.name}",
            instruction_id=instruction.id,
            party=str(signer.address),
        )
    state.codes.assign(instruction.code, instruction.name)
    state.central_bank = CentralBankInfo(
        name=instruction.name, code=instruction.code, key=signer, address=signer.address
    )
    return ()


def _check_bank_code(
    state: LedgerState, central: CentralBankInfo, code: InstitutionCode, instruction_id: int
) -> None:
    if (code.agency, code.country) != (central.code.agency, central.code.country):
        raise CodeError(
            Reason.CODE_OUTSIDE_PARENT,
            f"bank code {code} is outside the central bank's jurisdiction "
            f"{central.code.agency}.{central.code.country}",
            instruction_id=instruction_id,
            field="code",
        )
    if code.depth < _BANK_CODE_MIN_DEPTH:
        raise CodeError(
            Reason.CODE_MALFORMED,
            f"bank code {code} needs a department level below its region",
            instruction_id=instruction_id,
            field="level 1",
        )
    owner = state.codes.owner_of(code)
    if owner is not None:
        raise CodeError(
            Reason.CODE_DUPLICATE,
            f"code {code} is already assigned to {owner}",
            instruction_id=instruction_id,
            field="code",
        )


def authorise_bank(
    state: LedgerState, _policy: Policy, instruction: AuthoriseBank, signer: VerifyKey, _now: int
) -> tuple[Posting, ...]:
    """Admit an operator with its pledged reserves and its institution code."""
    _require_central_bank(state, signer, instruction.id)
    central = _central_bank(state, instruction.id)
    address = instruction.bank_key.address
    if (
        address in state.banks
        or address in state.wallets
        or address in state.regulators
        or address == central.address
    ):
        raise DuplicateError(
            Reason.BANK_EXISTS,
            f"key {address} already belongs to a party on this ledger",
            instruction_id=instruction.id,
            party=str(address),
        )
    _check_bank_code(state, central, instruction.code, instruction.id)
    state.codes.assign(instruction.code, instruction.name)
    state.banks[address] = BankBooks(
        key=instruction.bank_key,
        name=instruction.name,
        code=instruction.code,
        reserves_pledged_fen=instruction.reserves.fen,
    )
    return (Posting(AccountKind.RESERVES, address, instruction.reserves.fen),)


def issue(
    state: LedgerState, _policy: Policy, instruction: Issue, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Exchange a bank's reserves for e-CNY in its vault, fen for fen."""
    _require_central_bank(state, signer, instruction.id)
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
    if amount_fen > bank.reserves_available_fen:
        raise InsufficientFundsError(
            Reason.INSUFFICIENT_RESERVES,
            f"{bank.name} has {_fen(bank.reserves_available_fen)} of reserves available, "
            f"cannot be issued {instruction.amount}",
            instruction_id=instruction.id,
            party=bank.name,
            field="reserves",
        )
    _require_room(state.issued_fen, amount_fen, "lifetime issuance", instruction.id)
    _require_room(bank.vault_fen, amount_fen, "the bank's vault", instruction.id)
    bank.outstanding_fen += amount_fen
    bank.vault_fen += amount_fen
    state.issued_fen += amount_fen
    return (
        Posting(AccountKind.RESERVES, instruction.bank, -amount_fen),
        Posting(AccountKind.VAULT, instruction.bank, amount_fen),
    )


def redeem(
    state: LedgerState, _policy: Policy, instruction: Redeem, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Return e-CNY from a bank's vault to the central bank for reserves."""
    bank = _signing_bank(state, signer, instruction.id)
    amount_fen = instruction.amount.fen
    if amount_fen > bank.vault_fen:
        raise InsufficientFundsError(
            Reason.INSUFFICIENT_VAULT,
            f"{bank.name}'s vault holds {_fen(bank.vault_fen)}, "
            f"cannot redeem {instruction.amount}",
            instruction_id=instruction.id,
            party=bank.name,
            field="vault",
        )
    if amount_fen > bank.outstanding_fen:
        # e-CNY that came from wallets of other banks can be redeemed only up to
        # what this bank was issued: its reserves are all it can get back.
        raise InsufficientFundsError(
            Reason.INSUFFICIENT_RESERVES,
            f"{bank.name} has {_fen(bank.outstanding_fen)} outstanding, "
            f"cannot redeem {instruction.amount}",
            instruction_id=instruction.id,
            party=bank.name,
            field="outstanding",
        )
    _require_room(state.redeemed_fen, amount_fen, "lifetime redemption", instruction.id)
    bank.vault_fen -= amount_fen
    bank.outstanding_fen -= amount_fen
    state.redeemed_fen += amount_fen
    return (
        Posting(AccountKind.VAULT, signer.address, -amount_fen),
        Posting(AccountKind.RESERVES, signer.address, amount_fen),
    )


def pay_in(
    state: LedgerState, _policy: Policy, instruction: PayIn, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Credit a customer's deposit account with money paid in at the bank."""
    bank = _signing_bank(state, signer, instruction.id)
    if not instruction.account:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            "a pay-in names the deposit account it credits",
            instruction_id=instruction.id,
            field="account",
        )
    amount_fen = instruction.amount.fen
    current_fen = bank.deposits.get(instruction.account, 0)
    _require_room(current_fen, amount_fen, "the deposit account", instruction.id)
    _require_room(bank.cash_fen, amount_fen, "the bank's cash", instruction.id)
    _require_room(bank.paid_in_fen, amount_fen, "lifetime pay-ins", instruction.id)
    bank.deposits[instruction.account] = current_fen + amount_fen
    bank.deposits_total_fen += amount_fen
    bank.paid_in_fen += amount_fen
    bank.cash_fen += amount_fen
    return (
        Posting(AccountKind.DEPOSIT, signer.address, amount_fen, instruction.account),
        Posting(AccountKind.CASH, signer.address, amount_fen),
    )


def open_wallet(
    state: LedgerState, policy: Policy, instruction: OpenWallet, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Register a wallet's key and category under the bank that operates it."""
    bank = _signing_bank(state, signer, instruction.id)
    address = instruction.wallet_key.address
    central = _central_bank(state, instruction.id)
    if (
        address in state.wallets
        or address in state.banks
        or address in state.regulators
        or address == central.address
    ):
        raise DuplicateError(
            Reason.WALLET_EXISTS,
            f"key {address} already belongs to a party on this ledger",
            instruction_id=instruction.id,
            party=str(address),
        )
    limits = policy.limits(instruction.category)
    if limits.requires_linked_account and not instruction.linked_account:
        raise NotAuthorisedError(
            Reason.KYC_INSUFFICIENT,
            f"a category {int(instruction.category)} wallet must be linked to a deposit account",
            instruction_id=instruction.id,
            party=str(address),
            field="linked_account",
        )
    if instruction.linked_account and instruction.linked_account not in bank.deposits:
        raise UnknownPartyError(
            Reason.UNKNOWN_ACCOUNT,
            f"{bank.name} has no deposit account {instruction.linked_account!r}",
            instruction_id=instruction.id,
            party=bank.name,
            field="linked_account",
        )
    state.wallets[address] = WalletAccount(
        key=instruction.wallet_key,
        category=instruction.category,
        operator=signer.address,
        linked_account=instruction.linked_account,
    )
    bank.wallet_count += 1
    return ()


def _deposit_account(bank: BankBooks, account: str, instruction_id: int, field: str) -> int:
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


def fund(
    state: LedgerState, policy: Policy, instruction: Fund, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Move e-CNY from the bank's vault into a wallet it operates."""
    bank = _signing_bank(state, signer, instruction.id)
    wallet = _wallet(state, instruction.wallet, instruction.id, "wallet")
    if wallet.operator != signer.address:
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            f"{bank.name} does not operate wallet {instruction.wallet}",
            instruction_id=instruction.id,
            party=bank.name,
            field="wallet",
        )
    amount_fen = instruction.amount.fen
    account = instruction.from_account
    if account:
        deposit_fen = _deposit_account(bank, account, instruction.id, "from_account")
        if deposit_fen < amount_fen:
            raise InsufficientFundsError(
                Reason.INSUFFICIENT_DEPOSIT,
                f"deposit account {account!r} holds {_fen(deposit_fen)}, "
                f"cannot fund {instruction.amount}",
                instruction_id=instruction.id,
                party=bank.name,
                field="from_account",
            )
    else:
        _require_room(bank.cash_fen, amount_fen, "the bank's cash", instruction.id)
    if amount_fen > bank.vault_fen:
        raise InsufficientFundsError(
            Reason.INSUFFICIENT_VAULT,
            f"{bank.name}'s vault holds {_fen(bank.vault_fen)}, cannot fund {instruction.amount}",
            instruction_id=instruction.id,
            party=bank.name,
            field="vault",
        )
    _require_under_cap(wallet, instruction.wallet, amount_fen, policy, instruction.id)
    bank.vault_fen -= amount_fen
    wallet.balance_fen += amount_fen
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
    state: LedgerState, _policy: Policy, instruction: Defund, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Return a wallet's e-CNY to its bank, credited to a deposit account."""
    _central_bank(state, instruction.id)
    wallet = _wallet(state, instruction.wallet, instruction.id, "wallet")
    _require_signer_is(signer, instruction.wallet, instruction.id, "wallet")
    _require_not_frozen(state, instruction.wallet, instruction.id)
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
    deposit_fen = _deposit_account(bank, account, instruction.id, "to_account")
    amount_fen = instruction.amount.fen
    if amount_fen > wallet.balance_fen:
        raise InsufficientFundsError(
            Reason.INSUFFICIENT_BALANCE,
            f"wallet holds {_fen(wallet.balance_fen)}, cannot defund {instruction.amount}",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
            field="amount",
        )
    _require_room(deposit_fen, amount_fen, "the deposit account", instruction.id)
    _require_room(bank.vault_fen, amount_fen, "the bank's vault", instruction.id)
    _require_room(bank.defunded_to_deposits_fen, amount_fen, "lifetime defunds", instruction.id)
    wallet.balance_fen -= amount_fen
    bank.vault_fen += amount_fen
    bank.deposits[account] = deposit_fen + amount_fen
    bank.deposits_total_fen += amount_fen
    bank.defunded_to_deposits_fen += amount_fen
    return (
        Posting(AccountKind.WALLET, instruction.wallet, -amount_fen),
        Posting(AccountKind.VAULT, wallet.operator, amount_fen),
        Posting(AccountKind.DEPOSIT, wallet.operator, amount_fen, account),
    )


def _check_payment_caps(
    wallet: WalletAccount,
    payer: Address,
    amount_fen: int,
    policy: Policy,
    day: int,
    year: int,
    instruction_id: int,
) -> None:
    limits = policy.categories[wallet.category]
    spent_today_fen = wallet.spent_today_fen if wallet.day == day else 0
    spent_this_year_fen = wallet.spent_this_year_fen if wallet.year == year else 0
    for cap, used_fen, field, reason in (
        (limits.single_payment_cap, 0, "single_payment_cap", Reason.SINGLE_PAYMENT_CAP_EXCEEDED),
        (limits.daily_cap, spent_today_fen, "daily_cap", Reason.DAILY_CAP_EXCEEDED),
        (limits.annual_cap, spent_this_year_fen, "annual_cap", Reason.ANNUAL_CAP_EXCEEDED),
    ):
        if cap is not None and used_fen + amount_fen > cap.fen:
            so_far = (
                f" ({_fen(used_fen)} already paid, {_fen(used_fen + amount_fen)} in all)"
                if field != "single_payment_cap"
                else ""
            )
            raise LimitExceededError(
                reason,
                f"a payment of {_fen(amount_fen)} breaks the category {int(wallet.category)} "
                f"{field.replace('_', ' ')} of {cap}{so_far}",
                instruction_id=instruction_id,
                party=str(payer),
                field=field,
            )


def transfer(
    state: LedgerState, policy: Policy, instruction: Transfer, signer: VerifyKey, now_us: int
) -> tuple[Posting, ...]:
    """Pay from one wallet to another, within both wallets' category caps."""
    _central_bank(state, instruction.id)
    payer = _wallet(state, instruction.payer, instruction.id, "payer")
    _require_signer_is(signer, instruction.payer, instruction.id, "wallet")
    if state.frozen:
        _require_not_frozen(state, instruction.payer, instruction.id)
    payee = _wallet(state, instruction.payee, instruction.id, "payee")
    amount_fen = instruction.amount.fen
    if amount_fen > payer.balance_fen:
        raise InsufficientFundsError(
            Reason.INSUFFICIENT_BALANCE,
            f"wallet holds {_fen(payer.balance_fen)}, cannot pay {instruction.amount}",
            instruction_id=instruction.id,
            party=str(instruction.payer),
            field="amount",
        )
    day = policy.calendar_day(now_us)
    year = year_of_day(day)
    _check_payment_caps(payer, instruction.payer, amount_fen, policy, day, year, instruction.id)
    _require_under_cap(payee, instruction.payee, amount_fen, policy, instruction.id)
    if payer.day != day:
        payer.day = day
        payer.spent_today_fen = 0
    if payer.year != year:
        payer.year = year
        payer.spent_this_year_fen = 0
    payer.spent_today_fen += amount_fen
    payer.spent_this_year_fen += amount_fen
    payer.balance_fen -= amount_fen
    payee.balance_fen += amount_fen
    return (
        Posting(AccountKind.WALLET, instruction.payer, -amount_fen),
        Posting(AccountKind.WALLET, instruction.payee, amount_fen),
    )


def _require_not_frozen(state: LedgerState, wallet: Address, instruction_id: int) -> None:
    regulator = state.frozen.get(wallet)
    if regulator is not None:
        raise NotAuthorisedError(
            Reason.WALLET_FROZEN,
            f"wallet {wallet} is frozen by regulator {regulator}: it cannot pay out",
            instruction_id=instruction_id,
            party=str(wallet),
        )


def _require_regulator(state: LedgerState, signer: VerifyKey, instruction_id: int) -> None:
    _central_bank(state, instruction_id)
    if signer.address not in state.regulators:
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            "only an appointed regulator's key may sign this",
            instruction_id=instruction_id,
            party=str(signer.address),
        )


def appoint_regulator(
    state: LedgerState,
    _policy: Policy,
    instruction: AppointRegulator,
    signer: VerifyKey,
    _now: int,
) -> tuple[Posting, ...]:
    """Give a supervisor's key the right to freeze wallets and issue warrants."""
    _require_central_bank(state, signer, instruction.id)
    address = instruction.regulator_key.address
    central = _central_bank(state, instruction.id)
    if (
        address in state.regulators
        or address in state.banks
        or address in state.wallets
        or address == central.address
    ):
        raise DuplicateError(
            Reason.REGULATOR_EXISTS,
            f"key {address} already belongs to a party on this ledger",
            instruction_id=instruction.id,
            party=str(address),
        )
    state.regulators[address] = (instruction.regulator_key, instruction.name)
    return ()


def freeze(
    state: LedgerState, _policy: Policy, instruction: Freeze, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Stop a wallet paying out; incoming payments still settle."""
    _require_regulator(state, signer, instruction.id)
    _wallet(state, instruction.wallet, instruction.id, "wallet")
    _require_not_frozen(state, instruction.wallet, instruction.id)
    state.frozen[instruction.wallet] = signer.address
    return ()


def unfreeze(
    state: LedgerState, _policy: Policy, instruction: Unfreeze, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Lift a freeze; any appointed regulator may."""
    _require_regulator(state, signer, instruction.id)
    _wallet(state, instruction.wallet, instruction.id, "wallet")
    if instruction.wallet not in state.frozen:
        raise InvalidFieldError(
            Reason.WALLET_NOT_FROZEN,
            f"wallet {instruction.wallet} is not frozen",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
            field="wallet",
        )
    del state.frozen[instruction.wallet]
    return ()


def warrant(
    state: LedgerState, _policy: Policy, instruction: Warrant, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Record a regulator's demand to learn who holds a wallet."""
    _require_regulator(state, signer, instruction.id)
    _wallet(state, instruction.wallet, instruction.id, "wallet")
    state.warrants[accepted_key(signer.address, instruction.id)] = (instruction.wallet, False)
    return ()


def disclosure(
    state: LedgerState, _policy: Policy, instruction: Disclosure, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Record the operating bank's sealed answer to a warrant, exactly once."""
    bank = _signing_bank(state, signer, instruction.id)
    key = accepted_key(instruction.regulator, instruction.warrant_id)
    found = state.warrants.get(key)
    if found is None or found[0] != instruction.wallet:
        raise UnknownPartyError(
            Reason.UNKNOWN_WARRANT,
            f"no warrant {instruction.warrant_id} from regulator {instruction.regulator} "
            f"for wallet {instruction.wallet}",
            instruction_id=instruction.id,
            party=bank.name,
            field="warrant_id",
        )
    if found[1]:
        raise DuplicateError(
            Reason.WARRANT_ANSWERED,
            f"warrant {instruction.warrant_id} has already been answered",
            instruction_id=instruction.id,
            party=bank.name,
            field="warrant_id",
        )
    wallet = state.wallets[instruction.wallet]
    if wallet.operator != signer.address:
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            f"{bank.name} does not operate wallet {instruction.wallet}",
            instruction_id=instruction.id,
            party=bank.name,
            field="wallet",
        )
    state.warrants[key] = (instruction.wallet, True)
    return ()


#: The closed table of handlers; the ledger refuses a kind it has no handler for.
HANDLERS: Final[dict[Kind, Handler]] = {
    Kind.GENESIS: genesis,
    Kind.AUTHORISE_BANK: authorise_bank,
    Kind.ISSUE: issue,
    Kind.REDEEM: redeem,
    Kind.PAY_IN: pay_in,
    Kind.OPEN_WALLET: open_wallet,
    Kind.FUND: fund,
    Kind.DEFUND: defund,
    Kind.TRANSFER: transfer,
    Kind.APPOINT_REGULATOR: appoint_regulator,
    Kind.FREEZE: freeze,
    Kind.UNFREEZE: unfreeze,
    Kind.WARRANT: warrant,
    Kind.DISCLOSURE: disclosure,
}
