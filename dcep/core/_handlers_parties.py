"""Handlers that admit parties: the central bank, banks, wallets, regulators.

All checks first, then mutations that cannot fail (see :mod:`dcep.core._handlers`).
"""

from __future__ import annotations

from typing import Final

from dcep.core._checks import (
    central_bank_of,
    require_central_bank,
    require_new_party,
    signing_bank,
)
from dcep.core._records import AccountKind, CentralBankInfo, Posting
from dcep.core._state import BankBooks, LedgerState
from dcep.errors import (
    CodeError,
    DuplicateError,
    NotAuthorisedError,
    Reason,
    UnknownPartyError,
)
from dcep.instructions._kinds import (
    AppointRegulator,
    AuthoriseBank,
    Genesis,
    OpenWallet,
)
from dcep.values._codes import InstitutionCode
from dcep.values._crypto import VerifyKey
from dcep.values._policy import Policy

_BANK_CODE_MIN_DEPTH: Final = 4

__all__ = ["appoint_regulator", "authorise_bank", "genesis", "open_wallet"]


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
    require_central_bank(state, signer, instruction.id)
    central = central_bank_of(state, instruction.id)
    address = instruction.bank_key.address
    require_new_party(state, address, Reason.BANK_EXISTS, instruction.id)
    _check_bank_code(state, central, instruction.code, instruction.id)
    state.codes.assign(instruction.code, instruction.name)
    state.banks[address] = BankBooks(
        key=instruction.bank_key,
        name=instruction.name,
        code=instruction.code,
        reserves_pledged_fen=instruction.reserves.fen,
    )
    return (Posting(AccountKind.RESERVES, address, instruction.reserves.fen),)


def open_wallet(
    state: LedgerState, policy: Policy, instruction: OpenWallet, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Register a wallet's key and category under the bank that operates it."""
    bank = signing_bank(state, signer, instruction.id)
    address = instruction.wallet_key.address
    require_new_party(state, address, Reason.WALLET_EXISTS, instruction.id)
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
    state.wallets.open(
        address,
        category=instruction.category,
        # The bank's own address object, shared by all its wallets.
        operator=bank.key.address,
        linked_account=bank.account_names.get(
            instruction.linked_account, instruction.linked_account
        ),
    )
    bank.wallet_count += 1
    return ()


def appoint_regulator(
    state: LedgerState,
    _policy: Policy,
    instruction: AppointRegulator,
    signer: VerifyKey,
    _now: int,
) -> tuple[Posting, ...]:
    """Give a supervisor's key the right to freeze wallets and issue warrants."""
    require_central_bank(state, signer, instruction.id)
    address = instruction.regulator_key.address
    require_new_party(state, address, Reason.REGULATOR_EXISTS, instruction.id)
    state.regulators[address] = (instruction.regulator_key, instruction.name)
    return ()
