"""Handlers of supervision: freeze orders, warrants and disclosures.

All checks first, then mutations that cannot fail (see :mod:`dcep.core._handlers`).
"""

from __future__ import annotations

from dcep.core._checks import (
    require_operator,
    require_regulator,
    signing_bank,
    wallet_of,
)
from dcep.core._records import Posting
from dcep.core._state import LedgerState, accepted_key
from dcep.errors import (
    DuplicateError,
    InvalidFieldError,
    NotAuthorisedError,
    Reason,
    UnknownPartyError,
)
from dcep.instructions._kinds import (
    Disclosure,
    Freeze,
    Unfreeze,
    Warrant,
)
from dcep.values._crypto import VerifyKey
from dcep.values._policy import Policy

__all__ = ["disclosure", "freeze", "unfreeze", "warrant"]


def freeze(
    state: LedgerState, _policy: Policy, instruction: Freeze, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Stop a wallet paying out; incoming payments still settle."""
    require_regulator(state, signer, instruction.id)
    wallet_of(state, instruction.wallet, instruction.id, "wallet")
    already = state.frozen.get(instruction.wallet)
    if already is not None:
        raise NotAuthorisedError(
            Reason.WALLET_FROZEN,
            f"wallet {instruction.wallet} is already frozen, by regulator {already}",
            instruction_id=instruction.id,
            party=str(instruction.wallet),
        )
    state.frozen[instruction.wallet] = signer.address
    return ()


def unfreeze(
    state: LedgerState, _policy: Policy, instruction: Unfreeze, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Lift a freeze; any appointed regulator may."""
    require_regulator(state, signer, instruction.id)
    wallet_of(state, instruction.wallet, instruction.id, "wallet")
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
    require_regulator(state, signer, instruction.id)
    wallet_of(state, instruction.wallet, instruction.id, "wallet")
    state.warrants[accepted_key(signer.address, instruction.id)] = (instruction.wallet, False)
    return ()


def disclosure(
    state: LedgerState, _policy: Policy, instruction: Disclosure, signer: VerifyKey, _now_us: int
) -> tuple[Posting, ...]:
    """Record the operating bank's sealed answer to a warrant, exactly once."""
    bank = signing_bank(state, signer, instruction.id)
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
    require_operator(bank, signer.address, wallet, instruction.wallet, instruction.id)
    state.warrants[key] = (instruction.wallet, True)
    return ()
