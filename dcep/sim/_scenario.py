"""Seeded scenarios: a small two-tier economy that runs the same every time.

The generator draws everything (categories, fundings, payers, payees,
amounts, time between payments) from one ``random.Random(seed)``, and the
parties' keys from the same seed, so a scenario is a pure function of its
configuration.  Amounts are drawn as whole fen (a share of the payer's
single-payment cap), never through floats.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Callable
from typing import Final, final

import attrs

from dcep.errors import DcepError, Reason
from dcep.ledger._ledger import Ledger
from dcep.parties import Bank, CentralBank, Wallet
from dcep.values._clock import ManualClock
from dcep.values._money import Amount, cny
from dcep.values._policy import Policy, WalletCategory

__all__ = ["Scenario", "ScenarioResult", "run_scenario"]

#: (name, institution code, reserves) of the demo's operators.
_BANKS: Final = (
    ("ICBC", "MA.156.1100.01", "80000000"),
    ("China Construction Bank", "MA.156.1100.02", "60000000"),
    ("Bank of Hebei", "MA.156.1301.01", "20000000"),
)
#: How often each wallet category is opened, in percent (category 4 is the most common).
_CATEGORY_WEIGHTS: Final = {
    WalletCategory.IN_PERSON: 5,
    WalletCategory.REMOTE_WITH_ACCOUNT: 25,
    WalletCategory.REMOTE_NO_ACCOUNT: 20,
    WalletCategory.ANONYMOUS: 50,
}


@final
@attrs.frozen
class Scenario:
    """What to simulate: how many wallets and payments, under which seed."""

    seed: int = 7
    wallets: int = attrs.field(default=300, validator=attrs.validators.ge(2))
    payments: int = attrs.field(default=3000, validator=attrs.validators.ge(0))
    policy: Policy = attrs.field(factory=Policy)


@final
@attrs.frozen
class ScenarioResult:
    """The ledger after the run and what happened on the way."""

    scenario: Scenario
    ledger: Ledger
    central_bank: CentralBank
    banks: tuple[Bank, ...]
    wallets: tuple[Wallet, ...]
    payments_accepted: int
    rejections: collections.Counter[Reason]


def _random_amount(rng: random.Random, policy: Policy, payer: Wallet) -> Amount:
    # A share of the payer's single-payment cap, in percent: mostly everyday
    # sums, now and then the whole cap, and one in ten above it (refused).
    cap = policy.limits(payer.category).single_payment_cap
    cap_fen = cap.fen if cap is not None else cny("50000").fen
    percent = rng.choice((1, 1, 2, 2, 3, 5, 5, 10, 20, 50, 100, 130))
    return Amount(max(1, cap_fen * percent // 100 - rng.randint(0, 99)))


def _open_wallet(bank: Bank, index: int, category: WalletCategory) -> Wallet:
    phone = f"138{index:08d}"
    if category is WalletCategory.ANONYMOUS:
        return bank.open_wallet(category=category, phone=phone)
    id_number = f"1101{index:014d}"
    if category is WalletCategory.REMOTE_NO_ACCOUNT:
        return bank.open_wallet(category=category, phone=phone, id_number=id_number)
    account = f"6222-{index:08d}"
    bank.pay_in(account, cny("600000"))
    return bank.open_wallet(
        category=category,
        phone=phone,
        id_number=id_number,
        linked_account=account,
        in_person=category is WalletCategory.IN_PERSON,
    )


def run_scenario(
    scenario: Scenario,
    *,
    progress: Callable[[int], None] | None = None,
    subscribe: Callable[[Ledger], None] | None = None,
) -> ScenarioResult:
    """Run ``scenario`` from nothing; ``progress`` is told how many payments are done.

    ``subscribe`` is called with the new ledger before its first entry, so
    that a reader (``RegulatorView.attach``, say) sees the run from the start.
    """
    rng = random.Random(scenario.seed)
    clock = ManualClock()
    ledger = Ledger(policy=scenario.policy, clock=clock)
    if subscribe is not None:
        subscribe(ledger)
    pboc = CentralBank(ledger, seed=scenario.seed)
    banks = tuple(
        pboc.authorise_bank(name, code=code, reserves=cny(reserves))
        for name, code, reserves in _BANKS
    )
    for bank in banks:
        pboc.issue(bank, bank_reserves_to_issue(ledger, bank))
    categories = list(_CATEGORY_WEIGHTS)
    weights = list(_CATEGORY_WEIGHTS.values())
    rejections: collections.Counter[Reason] = collections.Counter()
    wallets = []
    for index in range(scenario.wallets):
        category = rng.choices(categories, weights)[0]
        bank = rng.choice(banks)
        wallet = _open_wallet(bank, index, category)
        wallets.append(wallet)
        cap = scenario.policy.limits(category).balance_cap
        ceiling_fen = cap.fen if cap is not None else cny("100000").fen
        # Mostly within the cap; one funding in ten asks for too much and is refused.
        target_fen = rng.randint(ceiling_fen // 10, ceiling_fen * 11 // 10)
        try:
            bank.fund(wallet, Amount(max(target_fen, 1)))
        except DcepError as error:
            rejections[error.reason] += 1
    accepted = 0
    for done in range(scenario.payments):
        clock.advance(seconds=rng.randint(1, 120))
        payer, payee = rng.sample(wallets, 2)
        try:
            payer.pay(payee, _random_amount(rng, scenario.policy, payer), memo="demo")
            accepted += 1
        except DcepError as error:
            rejections[error.reason] += 1
        if progress is not None:
            progress(done + 1)
    return ScenarioResult(
        scenario=scenario,
        ledger=ledger,
        central_bank=pboc,
        banks=banks,
        wallets=tuple(wallets),
        payments_accepted=accepted,
        rejections=rejections,
    )


def bank_reserves_to_issue(ledger: Ledger, bank: Bank) -> Amount:
    """Half of a bank's pledged reserves: the demo's opening issuance."""
    pledged = ledger.bank(bank.address).reserves_pledged
    return Amount(pledged.fen // 2)
