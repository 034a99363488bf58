"""The promises the ledger keeps, checked from its state alone.

:func:`find_violations` lists every broken promise in words; the ledger's
public ``check_invariants()`` raises on any, and its private ``_check()``
asserts none, in the manner of sortedcontainers' ``_check()``, so that the
stateful tests can call it after every step.
"""

from __future__ import annotations

from dcep.core._state import BankBooks, LedgerState, unpack_record
from dcep.values._crypto import Address
from dcep.values._policy import Policy

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
    for address, bank in state.banks.items():
        problems.extend(f"bank {bank.name} ({address}): {p}" for p in _bank_violations(bank))
    wallets_per_bank: dict[Address, int] = {}
    for address, wallet in state.wallets.items():
        # Recovery checks every wallet: the text of a problem is built only if there is one.
        if wallet.operator not in state.banks:
            problems.append(f"wallet {address}: operated by unknown bank {wallet.operator}")
        wallets_per_bank[wallet.operator] = wallets_per_bank.get(wallet.operator, 0) + 1
        for name in ("balance_fen", "spent_today_fen", "spent_this_year_fen"):
            if getattr(wallet, name) < 0:
                problems.append(f"wallet {address}: negative {name}")
        limits = policy.categories[wallet.category]
        for cap, value, name in (
            (limits.balance_cap, wallet.holdings_fen(), "balance cap"),
            (limits.daily_cap, wallet.spent_today_fen, "daily cap"),
            (limits.annual_cap, wallet.spent_this_year_fen, "annual cap"),
        ):
            if cap is not None and value > cap.fen:
                problems.append(
                    f"wallet {address}: {value} fen is over the {name} of {cap.fen} fen"
                )
    for address, bank in state.banks.items():
        if bank.wallet_count != wallets_per_bank.get(address, 0):
            problems.append(f"bank {bank.name}: wallet count {bank.wallet_count} is wrong")
    accepted_per_signer: dict[bytes, int] = {}
    for key in state.accepted:
        signer_raw = key[:20]
        accepted_per_signer[signer_raw] = accepted_per_signer.get(signer_raw, 0) + 1
    last_by_signer = {bytes(signer): last for signer, last in state.sequences.items()}
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


def _bank_violations(bank: BankBooks) -> list[str]:
    problems: list[str] = []
    for name in ("outstanding_fen", "vault_fen", "cash_fen", "deposits_total_fen"):
        if getattr(bank, name) < 0:
            problems.append(f"negative {name}")
    if bank.outstanding_fen > bank.reserves_pledged_fen:
        problems.append(
            f"outstanding issuance {bank.outstanding_fen} fen exceeds pledged reserves "
            f"{bank.reserves_pledged_fen} fen"
        )
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
    if bank.vault_fen + bank.cash_fen - bank.outstanding_fen != bank.deposits_total_fen:
        problems.append(
            "books do not balance: reserves left + vault + cash != deposits + pledged capital"
        )
    return problems
