"""The promises the ledger keeps, checked from its state alone.

:func:`find_violations` lists every broken promise in words; the ledger's
public ``check_invariants()`` raises on any, and its private ``_check()``
asserts none, in the manner of sortedcontainers' ``_check()``, so that the
stateful tests can call it after every step.
"""

from __future__ import annotations

from dcep.core._checks import caps_fen
from dcep.core._handlers_interest import INTEREST_DENOMINATOR
from dcep.core._state import BankBooks, LedgerState, unpack_record
from dcep.core._wallet_table import WalletAccount
from dcep.instructions._kinds import SWEEP_OFF
from dcep.values._crypto import Address
from dcep.values._policy import Policy, ReserveMode

__all__ = ["find_violations"]


def find_violations(state: LedgerState, policy: Policy) -> list[str]:
    """Every invariant the state breaks, described; empty when all hold."""
    problems: list[str] = []
    in_vaults_fen = sum(bank.vault_fen for bank in state.banks.values())
    in_wallets_fen = sum(wallet.holdings_fen() for wallet in state.wallets.values())
    outstanding_fen = state.issued_fen - state.redeemed_fen
    if outstanding_fen != in_vaults_fen + in_wallets_fen:
        problems.append(
            f"supply: issued - redeemed = {outstanding_fen} fen, but vaults + wallets hold "
            f"{in_vaults_fen} + {in_wallets_fen} fen"
        )
    if outstanding_fen != sum(bank.outstanding_fen for bank in state.banks.values()):
        problems.append("supply: outstanding issuance per bank does not add up to the total")
    backed_fen = sum(bank.reserves_held_fen(policy) for bank in state.banks.values())
    # 2021: every fen outstanding is backed by a fen of reserves.  2026: at
    # least the ratio of each bank's, and all of each payment institution's.
    if backed_fen > outstanding_fen or (
        policy.reserve_mode is ReserveMode.FULL and backed_fen != outstanding_fen
    ):
        problems.append(
            f"supply: {backed_fen} fen backed by reserves of {outstanding_fen} fen outstanding "
            f"in the {policy.reserve_mode.value} mode"
        )
    for address, bank in state.banks.items():
        problems.extend(
            f"bank {bank.name} ({address}): {p}" for p in _bank_violations(bank, policy)
        )
    wallets_per_bank: dict[Address, int] = {}
    for address, wallet in state.wallets.items():
        # Recovery checks every wallet: the text of a problem is built only if there is one.
        if wallet.operator not in state.banks:
            problems.append(f"wallet {address}: operated by unknown bank {wallet.operator}")
        if wallet.parent is None and not wallet.closed:
            # A bank counts its customers' open wallets: sub-wallets have no customer
            # record of their own.  (A store that lost the sub-wallet or closed rows
            # of a snapshot restores a state that breaks this, and is refused.)
            wallets_per_bank[wallet.operator] = wallets_per_bank.get(wallet.operator, 0) + 1
        for name in (
            "balance_fen",
            "spent_today_fen",
            "spent_this_year_fen",
            "sub_wallets_fen",
            "reserved_fen",
            "vouchers_fen",
            "offline_fen",
        ):
            if getattr(wallet, name) < 0:
                problems.append(f"wallet {address}: negative {name}")
        if not 0 <= wallet.interest_carry < INTEREST_DENOMINATOR or (
            wallet.interest_carry and wallet.interest_from_us < 0
        ):
            problems.append(f"wallet {address}: carries {wallet.interest_carry} of a fen")
        balance_cap, _, daily_cap, annual_cap = caps_fen(wallet, policy)
        for cap_fen, value, name in (
            # A parent's balance cap bounds it and its sub-wallets together.
            (balance_cap, wallet.holdings_fen() + wallet.sub_wallets_fen, "balance cap"),
            (daily_cap, wallet.spent_today_fen, "daily cap"),
            (annual_cap, wallet.spent_this_year_fen, "annual cap"),
        ):
            if cap_fen is not None and value > cap_fen:
                problems.append(
                    f"wallet {address}: {value} fen is over the {name} of {cap_fen} fen"
                )
        if wallet.closed and (
            wallet.holdings_fen() or wallet.open_sub_wallets or wallet.sub_wallets_fen
        ):
            problems.append(f"wallet {address}: closed, yet it holds money or open sub-wallets")
    problems.extend(_family_violations(state, policy))
    problems.extend(_pending_violations(state))
    problems.extend(_offline_violations(state, policy))
    problems.extend(_sweep_violations(state, policy))
    for address, bank in state.banks.items():
        if bank.wallet_count != wallets_per_bank.get(address, 0):
            problems.append(f"bank {bank.name}: wallet count {bank.wallet_count} is wrong")
    accepted_per_signer: dict[bytes, int] = {}
    for key in state.accepted:
        signer_raw = key[:20]
        accepted_per_signer[signer_raw] = accepted_per_signer.get(signer_raw, 0) + 1
    last_by_signer = {bytes(signer): last for signer, last in state.sequences.items()}
    for signer_raw, last in state.wallets.sequence_rows():
        if signer_raw in last_by_signer:
            problems.append(f"signer {Address(signer_raw)}: a sequence in its row and apart")
        last_by_signer[signer_raw] = last
    for signer_raw, count in accepted_per_signer.items():
        # Strictly increasing from 1 means n acceptances leave the last at n or more.
        if last_by_signer.get(signer_raw, 0) < count:
            problems.append(
                f"signer {Address(signer_raw)}: {count} accepted but last sequence is lower"
            )
    remembered = min(state.entry_count, policy.idempotency_window)
    oldest = state.accepted_order[0] if state.accepted_order else None
    if (
        len(state.accepted) != remembered
        or list(state.accepted) != list(state.accepted_order)
        # The latest entries, so the oldest remembered is this far back.
        or (
            oldest is not None
            and unpack_record(state.accepted[oldest])[1] != state.entry_count - remembered
        )
    ):
        problems.append(
            f"{len(state.accepted)} receipts recorded, oldest first, for the latest "
            f"{remembered} of {state.entry_count} accepted entries"
        )
    return problems


def _sweep_violations(state: LedgerState, policy: Policy) -> list[str]:
    """Daily sweeps: only of corporate wallets, at a minute of the day, never ahead of time."""
    problems: list[str] = []
    today = policy.calendar_day(state.last_time_us)
    for address, sweep in state.daily_sweeps.items():
        wallet = state.wallets.get(address)
        if wallet is None or not wallet.corporate or sweep.wallet != address:
            problems.append(f"daily sweep of {address}: not a corporate wallet")
        if not 0 <= sweep.at_minute < SWEEP_OFF or sweep.keep.fen < 0:
            problems.append(f"daily sweep of {address}: at minute {sweep.at_minute}")
        # Not "after its minute": a sweep moved later the same day keeps that day.
        if sweep.last_swept_day is not None and sweep.last_swept_day > today:
            problems.append(f"daily sweep of {address}: swept on day {sweep.last_swept_day}")
    return problems


def _pending_violations(state: LedgerState) -> list[str]:
    """Money reserved is exactly what pending payments hold; each resolves once; none is lost."""
    problems: list[str] = []
    reserved: dict[Address, int] = {}
    for key, pending in state.pending.items():
        reserved[pending.payer] = reserved.get(pending.payer, 0) + pending.amount.fen
        if key in state.pending_resolved:
            problems.append(f"pending payment {pending.id} of {pending.payer}: also resolved")
        if pending.payee not in state.wallets or pending.payer not in state.wallets:
            problems.append(f"pending payment {pending.id} of {pending.payer}: unknown wallet")
        if pending.expires_at_us <= state.last_time_us:
            problems.append(f"pending payment {pending.id} of {pending.payer}: past its expiry")
    for address, wallet in state.wallets.items():
        if wallet.reserved_fen != reserved.get(address, 0):
            problems.append(
                f"wallet {address}: reserves {wallet.reserved_fen} fen, but its pending "
                f"payments hold {reserved.get(address, 0)} fen"
            )
    set_aside: dict[Address, int] = {}
    for key, voucher in state.vouchers.items():
        set_aside[voucher.issuer] = set_aside.get(voucher.issuer, 0) + voucher.amount.fen
        if key in state.pending_resolved or voucher.amount.fen <= 0:
            problems.append(f"voucher {voucher.id} of {voucher.issuer}: resolved or empty")
        if voucher.holder not in state.wallets or voucher.issuer not in state.wallets:
            problems.append(f"voucher {voucher.id} of {voucher.issuer}: unknown wallet")
        if voucher.expires_at_us <= state.last_time_us:
            problems.append(f"voucher {voucher.id} of {voucher.issuer}: past its expiry")
    for address, wallet in state.wallets.items():
        if wallet.vouchers_fen != set_aside.get(address, 0):
            problems.append(
                f"wallet {address}: sets {wallet.vouchers_fen} fen aside, but its vouchers "
                f"hold {set_aside.get(address, 0)} fen"
            )
    due = {key for _, _, key in state.pending_expiries}
    if not due.issuperset(state.pending) or not due.issuperset(state.vouchers):
        problems.append("a pending payment or voucher outstanding is not due to expire")
    if state.linked_due:
        problems.append(f"a linked batch is open with {state.linked_due} members due")
    return problems


def _offline_violations(state: LedgerState, policy: Policy) -> list[str]:
    """Allowances add up to what wallets set aside for them, each is its history,
    within the cap, and a device that lost money or settled a counter twice is blocked."""
    problems: list[str] = []
    loaded: dict[Address, int] = {}
    for address, device in state.devices.items():
        loaded[device.wallet] = loaded.get(device.wallet, 0) + device.allowance_fen
        if device.wallet not in state.wallets:
            problems.append(f"device {address}: of unknown wallet {device.wallet}")
        history_fen = device.loaded_fen - device.unloaded_fen - device.paid_fen
        if not 0 <= device.allowance_fen == history_fen:
            problems.append(
                f"device {address}: allowance {device.allowance_fen} fen, but loaded - "
                f"unloaded - paid = {history_fen} fen"
            )
        if device.allowance_fen > policy.offline_total_cap.fen:
            problems.append(f"device {address}: allowance above the offline total cap")
        if min(device.loaded_fen, device.unloaded_fen, device.paid_fen, device.loss_fen) < 0:
            problems.append(f"device {address}: a negative total")
        twice = any(len(seen) != 32 for seen in device.settled.values())
        if (device.loss_fen or twice) and not device.blocked:
            problems.append(f"device {address}: cloned or short, yet not blocked")
        if any(len(seen) % 32 or not seen for seen in device.settled.values()):
            problems.append(f"device {address}: a settled counter without a token digest")
    for address, wallet in state.wallets.items():
        if wallet.offline_fen != loaded.get(address, 0):
            problems.append(
                f"wallet {address}: sets {wallet.offline_fen} fen aside offline, but its "
                f"devices hold {loaded.get(address, 0)} fen"
            )
    return problems


def _family_violations(state: LedgerState, policy: Policy) -> list[str]:
    """Sub-wallets: under an open wallet of their own, within their parent's caps,
    counted and summed by the parent, and paying no more than the parent counts."""
    problems: list[str] = []
    open_count: dict[Address, int] = {}
    held_fen: dict[Address, int] = {}
    for address, wallet in state.wallets.items():
        if wallet.parent is None:
            if wallet.own_caps is not None:
                problems.append(f"wallet {address}: caps of its own but no parent")
            continue
        parent = state.wallets.get(wallet.parent)
        if parent is None or parent.parent is not None:
            problems.append(
                f"sub-wallet {address}: parent {wallet.parent} is not a wallet of its own"
            )
            continue
        held_fen[wallet.parent] = held_fen.get(wallet.parent, 0) + wallet.holdings_fen()
        if wallet.closed:
            # Inert for good: it keeps the category it closed with, whatever
            # its parent's becomes later.
            continue
        if (wallet.category, wallet.operator, wallet.corporate) != (
            parent.category,
            parent.operator,
            parent.corporate,
        ):
            problems.append(
                f"sub-wallet {address}: not of its parent's category, operator and kind"
            )
        open_count[wallet.parent] = open_count.get(wallet.parent, 0) + 1
        if parent.closed:
            problems.append(f"sub-wallet {address}: open under a closed parent")
        problems.extend(_tighter_than_parent(address, wallet, parent, policy))
    for address, wallet in state.wallets.items():
        if wallet.open_sub_wallets != open_count.get(address, 0):
            problems.append(f"wallet {address}: counts {wallet.open_sub_wallets} open sub-wallets")
        if wallet.sub_wallets_fen != held_fen.get(address, 0):
            problems.append(
                f"wallet {address}: its sub-wallets hold {held_fen.get(address, 0)} fen, "
                f"not {wallet.sub_wallets_fen}"
            )
    return problems


def _tighter_than_parent(
    address: Address, wallet: WalletAccount, parent: WalletAccount, policy: Policy
) -> list[str]:
    problems: list[str] = []
    for own, theirs, name in zip(
        caps_fen(wallet, policy),
        caps_fen(parent, policy),
        ("balance", "single", "daily", "annual"),
        strict=True,
    ):
        if theirs is not None and (own is None or own > theirs):
            problems.append(f"sub-wallet {address}: {name} cap above its parent's")
    # A sub-wallet's payments count toward its parent's too, on the same day and year.
    if wallet.day == parent.day and wallet.spent_today_fen > parent.spent_today_fen:
        problems.append(f"sub-wallet {address}: paid more today than its parent counts")
    if wallet.year == parent.year and wallet.spent_this_year_fen > parent.spent_this_year_fen:
        problems.append(f"sub-wallet {address}: paid more this year than its parent counts")
    return problems


def _bank_violations(bank: BankBooks, policy: Policy) -> list[str]:
    problems: list[str] = []
    for name in ("outstanding_fen", "vault_fen", "cash_fen", "deposits_total_fen"):
        if getattr(bank, name) < 0:
            problems.append(f"negative {name}")
    # The reserve invariant of each mode: all issuance backed (2021, and a payment
    # institution's in 2026), or the policy's ratio of it, rounded up (a bank in 2026).
    held_fen = bank.reserves_held_fen(policy)
    if held_fen > bank.reserves_pledged_fen:
        problems.append(
            f"outstanding issuance {bank.outstanding_fen} fen needs {held_fen} fen of reserves "
            f"({policy.reserve_mode.value} mode), more than the {bank.reserves_pledged_fen} "
            "fen pledged"
        )
    if not bank.outstanding_fen >= held_fen >= 0:
        problems.append(f"reserves held {held_fen} fen are not within the issuance they back")
    negative = [account for account, fen in bank.deposits.items() if fen < 0]
    if negative:
        problems.append(f"negative deposit accounts {sorted(negative)}")
    if sum(bank.deposits.values()) != bank.deposits_total_fen:
        problems.append("deposit accounts do not add up to the deposit total")
    expected_fen = bank.paid_in_fen + bank.defunded_to_deposits_fen - bank.funded_from_deposits_fen
    if bank.deposits_total_fen != expected_fen:
        problems.append(
            f"deposits {bank.deposits_total_fen} fen, but paid in + defunded - funded "
            f"= {expected_fen} fen"
        )
    if bank.interest_paid_fen < 0:
        problems.append("negative interest_paid_fen")
    # Interest came out of the vault against the bank's own funds (2026 mode; else 0).
    if (
        bank.vault_fen + bank.cash_fen - bank.outstanding_fen + bank.interest_paid_fen
        != bank.deposits_total_fen
    ):
        problems.append(
            "books do not balance: vault + cash - outstanding + interest paid != deposits"
        )
    return problems
