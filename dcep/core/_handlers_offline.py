"""Handlers of hardware wallets: registering one, loading and unloading its
allowance, and settling the tokens it signed offline.

An allowance is money a wallet set aside for one device (``offline_fen``;
one ``OFFLINE`` posting on the wallet, the device's address in hex as
account): in the wallet's holdings, spent only by the device's tokens as
either side brings them online.  Each settled counter is remembered with
the digest of its token's contents, so the same token twice settles once
and another token with a counter already settled is a clone: the device is
blocked, the payee is paid what is left of the allowance, and whatever it
cannot pay is booked as the device's loss (an ``OFFLINE_LOSS`` posting),
never paid out of new money.  See ``docs/offline.md``.
"""

from __future__ import annotations

from dcep.core._checks import (
    central_bank_of,
    fen,
    require_funds,
    require_not_frozen,
    require_open,
    require_under_cap,
    signing_wallet,
    wallet_of,
)
from dcep.core._records import AccountKind, Posting
from dcep.core._state import LedgerState, OfflineDevice, device_account
from dcep.core._wallet_table import WalletAccount
from dcep.errors import (
    DuplicateError,
    InvalidFieldError,
    LimitExceededError,
    NotAuthorisedError,
    Reason,
    UnknownPartyError,
)
from dcep.instructions._kinds import LoadOffline, RegisterDevice, SettleOffline, UnloadOffline
from dcep.instructions._offline import MAX_COUNTER
from dcep.values._crypto import Address, VerifyKey
from dcep.values._policy import Policy

__all__ = ["load_offline", "register_device", "settle_offline", "unload_offline"]

_DIGEST_SIZE = 32


def register_device(
    state: LedgerState, _policy: Policy, instruction: RegisterDevice, signer: VerifyKey, _now: int
) -> tuple[Posting, ...]:
    """Bind a device key to the signing wallet."""
    central = central_bank_of(state, instruction.id)
    signing_wallet(state, instruction.wallet, signer, instruction.id, "wallet")
    address = instruction.device_key.address
    if (
        address in state.devices
        or address in state.wallets
        or address in state.banks
        or address in state.regulators
        or address == central.address
    ):
        raise DuplicateError(
            Reason.WALLET_EXISTS,
            f"key {address} already belongs to a party or device on this ledger",
            instruction_id=instruction.id,
            party=str(address),
            field="device_key",
        )
    state.devices[address] = OfflineDevice(
        wallet=instruction.wallet, public_key=bytes(instruction.device_key)
    )
    return ()


def load_offline(
    state: LedgerState, policy: Policy, instruction: LoadOffline, signer: VerifyKey, _now: int
) -> tuple[Posting, ...]:
    """Move money from a wallet's balance into one of its devices' allowance."""
    central_bank_of(state, instruction.id)
    wallet = signing_wallet(state, instruction.wallet, signer, instruction.id, "wallet")
    require_not_frozen(state, instruction.wallet, instruction.id)
    device = _device_of(state, instruction.wallet, instruction.device, instruction.id)
    amount_fen = instruction.amount.fen
    require_funds(
        wallet.balance_fen,
        instruction.amount,
        Reason.INSUFFICIENT_BALANCE,
        instruction_id=instruction.id,
        party=instruction.wallet,
        field="amount",
    )
    total_cap_fen = policy.offline_total_cap.fen
    if device.allowance_fen + amount_fen > total_cap_fen:
        raise LimitExceededError(
            Reason.OFFLINE_CAP_EXCEEDED,
            f"device {instruction.device} would hold {fen(device.allowance_fen + amount_fen)}, "
            f"above the offline cap of {fen(total_cap_fen)}",
            instruction_id=instruction.id,
            party=str(instruction.device),
            field="amount",
        )
    if device.settled and instruction.counter < max(device.settled):
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"device {instruction.device} has settled counter {max(device.settled)}, "
            f"after the {instruction.counter} it reports",
            instruction_id=instruction.id,
            party=str(instruction.device),
            field="counter",
        )
    wallet.balance_fen -= amount_fen
    wallet.offline_fen += amount_fen
    device.allowance_fen += amount_fen
    device.loaded_fen += amount_fen
    # Never lower: a token the ledger would have settled before stays settleable.
    device.counter_limit = max(
        device.counter_limit,
        min(instruction.counter + policy.offline_payment_count, MAX_COUNTER),
    )
    account = device_account(instruction.device)
    return (Posting(AccountKind.OFFLINE, instruction.wallet, amount_fen, account),)


def unload_offline(
    state: LedgerState, _policy: Policy, instruction: UnloadOffline, signer: VerifyKey, _now: int
) -> tuple[Posting, ...]:
    """Take part of a device's allowance back into its wallet's balance."""
    central_bank_of(state, instruction.id)
    wallet = signing_wallet(state, instruction.wallet, signer, instruction.id, "wallet")
    device = _device_of(state, instruction.wallet, instruction.device, instruction.id)
    settled = device.settled
    # Counters start at 1 and are settled once each: all of 1..counter, and
    # nothing after, is exactly len == counter == the largest.
    if len(settled) != instruction.counter or (settled and max(settled) != instruction.counter):
        raise InvalidFieldError(
            Reason.OFFLINE_TOKENS_UNSETTLED,
            f"device {instruction.device} reports counter {instruction.counter}, but "
            f"{len(settled)} of its tokens are settled: settle them all first",
            instruction_id=instruction.id,
            party=str(instruction.device),
            field="counter",
        )
    require_funds(
        device.allowance_fen,
        instruction.amount,
        Reason.INSUFFICIENT_BALANCE,
        instruction_id=instruction.id,
        party=instruction.device,
        field="amount",
    )
    amount_fen = instruction.amount.fen
    device.allowance_fen -= amount_fen
    device.unloaded_fen += amount_fen
    wallet.offline_fen -= amount_fen
    wallet.balance_fen += amount_fen
    account = device_account(instruction.device)
    return (Posting(AccountKind.OFFLINE, instruction.wallet, -amount_fen, account),)


def settle_offline(
    state: LedgerState, policy: Policy, instruction: SettleOffline, signer: VerifyKey, _now: int
) -> tuple[Posting, ...]:
    """Pay one offline token from its device's allowance; detect a clone; book any loss."""
    central_bank_of(state, instruction.id)
    token = instruction.token
    device_address = token.device.address
    device = state.devices.get(device_address)
    if device is None:
        raise UnknownPartyError(
            Reason.OFFLINE_DEVICE_UNKNOWN,
            f"no device {device_address} is registered on this ledger",
            instruction_id=instruction.id,
            party=str(device_address),
            field="token",
        )
    payer_address = device.wallet
    if signer.address not in (payer_address, token.payee):
        raise NotAuthorisedError(
            Reason.SIGNER_NOT_AUTHORISED,
            f"only the payer {payer_address} or the payee {token.payee} settles this token",
            instruction_id=instruction.id,
            party=str(signer.address),
        )
    settler = state.wallets.get(signer.address)
    if settler is not None:
        require_open(settler, signer.address, instruction.id, "wallet")
    token.verify(state.network_id)
    content = token.content_digest()
    seen = device.settled.get(token.counter, b"")
    if any(seen[at : at + _DIGEST_SIZE] == content for at in range(0, len(seen), _DIGEST_SIZE)):
        return ()  # settled before, by this side or the other: nothing new
    if token.amount > policy.offline_payment_cap or token.counter > device.counter_limit:
        raise LimitExceededError(
            Reason.OFFLINE_CAP_EXCEEDED,
            f"token {token.counter} of device {device_address} is beyond the offline caps "
            f"({policy.offline_payment_cap} a payment, counters up to {device.counter_limit})",
            instruction_id=instruction.id,
            party=str(device_address),
            field="token",
        )
    if token.payee == payer_address:
        raise InvalidFieldError(
            Reason.SELF_PAYMENT,
            "a device cannot pay its own wallet",
            instruction_id=instruction.id,
            field="token",
        )
    payee = wallet_of(state, token.payee, instruction.id, "payee")
    require_open(payee, token.payee, instruction.id, "payee")
    payer = state.wallets[payer_address]
    paid_fen = min(token.amount.fen, device.allowance_fen)
    loss_fen = token.amount.fen - paid_fen
    if paid_fen:
        family = (payer.parent or payer_address) == (payee.parent or token.payee)
        require_under_cap(
            state, payee, token.payee, paid_fen, policy, instruction.id, within_family=family
        )
    # A second token on a settled counter, or one the allowance cannot pay,
    # proves the device signed more than it held: a clone.
    if seen or loss_fen:
        device.blocked = True
    device.settled[token.counter] = seen + content
    account = device_account(device_address)
    postings: list[Posting] = []
    if paid_fen:
        _pay(state, payer, payee, paid_fen)
        device.allowance_fen -= paid_fen
        device.paid_fen += paid_fen
        postings += (
            Posting(AccountKind.WALLET, payer_address, -paid_fen),
            Posting(AccountKind.WALLET, token.payee, paid_fen),
            Posting(AccountKind.OFFLINE, payer_address, -paid_fen, account),
        )
    if loss_fen:
        device.loss_fen += loss_fen
        postings.append(Posting(AccountKind.OFFLINE_LOSS, payer_address, loss_fen, account))
    return tuple(postings)


def _pay(state: LedgerState, payer: WalletAccount, payee: WalletAccount, amount_fen: int) -> None:
    payer.offline_fen -= amount_fen
    payee.balance_fen += amount_fen
    if payer.parent is not None:
        state.wallets[payer.parent].sub_wallets_fen -= amount_fen
    if payee.parent is not None:
        state.wallets[payee.parent].sub_wallets_fen += amount_fen


def _device_of(
    state: LedgerState, wallet: Address, address: Address, instruction_id: int
) -> OfflineDevice:
    device = state.devices.get(address)
    if device is None or device.wallet != wallet:
        raise UnknownPartyError(
            Reason.OFFLINE_DEVICE_UNKNOWN,
            f"wallet {wallet} has no device {address}",
            instruction_id=instruction_id,
            party=str(address),
            field="device",
        )
    if device.blocked:
        raise NotAuthorisedError(
            Reason.OFFLINE_DEVICE_BLOCKED,
            f"device {address} is blocked: a cloned device spent its allowance twice",
            instruction_id=instruction_id,
            party=str(address),
            field="device",
        )
    return device
