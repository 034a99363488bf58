"""Running a seeded economy on a ledger: banks, households, merchants, employers, cases.

What :func:`simulate` builds, from one ``random.Random(seed)`` and keys derived
from the same seed (through ``CentralBank(ledger, seed=...)``):

* several banks with pledged reserves and e-CNY issued against them, topped
  up when a vault runs low;
* households of the four KYC categories in the configured mix, each with a
  bank, an activity weight (Pareto, so a few are busy) and a balance it
  keeps its wallet near: it funds from its linked deposit account (or over
  the counter, without one) when the wallet runs low, and defunds the
  surplus when it is well above;
* merchants (category 1) whose popularity is Zipf-distributed, sweeping
  their takings to their deposit accounts several times a day;
* employers (category 1) that pay part of each employee's salary in e-CNY
  on salary day, and the rest into the employee's deposit account;
* payments spread over the day by an hourly profile, busier at weekends,
  with amounts drawn as whole fen that fit the payer's caps and balance and
  the payee's balance cap (a shadow of the ledger's counters, kept here);
* planted laundering cases (:class:`~dcep.sim.Typology`) among wallets
  opened for them, and a bank run among one bank's households, each
  recorded as a :class:`~dcep.sim.Case`.

Payments are signed ahead and submitted with ``Ledger.submit_many`` in
batches; a subscriber moves the ``ManualClock`` to each payment's planned
time as the one before it is applied, so entry times follow the plan.
Fundings, defundings and deposits are submitted one at a time through the
parties at "checkpoints" a few times a day.

Over 400 lines, knowingly: one run is one event loop over a shadow of the
ledger's counters (balances, daily and annual spending, caps) that every
step reads and updates, so that amounts fit and refusals stay near zero;
split apart, each piece would reach into the others' state.
"""

from __future__ import annotations

import bisect
import collections
import datetime as dt
import random
from collections.abc import Callable
from typing import Final

import attrs

from dcep.core import LedgerEntry, Rejection, SentinelPool
from dcep.errors import DcepError, InvalidFieldError, Reason
from dcep.instructions import SignedInstruction
from dcep.ledger import Ledger
from dcep.parties import Bank, CentralBank, Wallet
from dcep.regulator import StructuringRule
from dcep.sim._cases import Case, Typology
from dcep.sim._economy import BANKS, Economy, Role, SimulationResult
from dcep.values import Address, Amount, ManualClock, Policy, WalletCategory

__all__ = ["simulate"]

_HOUR: Final = 3_600_000_000
_MINUTE: Final = 60_000_000
_DAY: Final = 24 * _HOUR
_YUAN: Final = 100
#: Larger than any cap or balance: stands for "no cap" in the shadow counters.
_UNCAPPED: Final = 1 << 62
_EPOCH: Final = dt.date(1970, 1, 1)

#: Relative payment activity in each local hour, weekdays and weekends.
_WEEKDAY_HOURS: Final = (
    *(2, 1, 1, 1, 1, 2, 5, 14, 20, 14, 12, 16),  # 00:00 to 11:59
    *(26, 18, 12, 12, 13, 17, 24, 26, 20, 14, 9, 4),  # 12:00 to 23:59
)
_WEEKEND_HOURS: Final = (
    *(4, 2, 1, 1, 1, 1, 2, 5, 9, 14, 18, 20),
    *(26, 22, 18, 18, 18, 20, 26, 28, 24, 18, 12, 7),
)
#: Relative payment activity of Monday .. Sunday.
_WEEKDAYS: Final = (100, 100, 100, 100, 108, 130, 118)
#: Merchant tickets: (weight, least, most) in fen.
_TICKETS: Final = (
    (55, 100, 3_000),
    (30, 3_000, 15_000),
    (12, 15_000, 60_000),
    (3, 60_000, 300_000),
)
#: Payments between people: (weight, least, most) in fen.
_TRANSFERS: Final = ((60, 500, 10_000), (30, 10_000, 50_000), (10, 50_000, 200_000))
#: Minutes past midnight of the checkpoints: fundings, defundings, sweeps, issuance.
_CHECKPOINTS: Final = (7 * 60 + 30, 12 * 60 + 30, 17 * 60 + 30, 22 * 60 + 30)
#: What a merchant keeps in its wallet after a sweep, and the balance that triggers one.
_MERCHANT_FLOAT: Final = 2_000 * _YUAN
_MERCHANT_SWEEP_AT: Final = 20_000 * _YUAN
#: Contacts each household pays person to person.
_CONTACTS: Final = 5
#: Shares of the wallets that are merchants and employers, in per mille.
_MERCHANTS_PER_MILLE: Final = 30
_EMPLOYERS_PER_MILLE: Final = 12

# Event kinds, in the order they run when they fall on the same microsecond.
_CHECKPOINT, _SALARY_PREP, _CASE_PREP, _RUN_DEFUND, _CASE_PAY, _SALARY, _PAYMENT = range(7)


def simulate(
    economy: Economy | None = None,
    ledger: Ledger | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    sentinels: SentinelPool | None = None,
) -> SimulationResult:
    """Run ``economy`` on ``ledger`` (a new in-memory one if none); the same seed, the same bytes.

    The ledger must be empty and run on a :class:`~dcep.ManualClock`, which
    the simulation moves; a durable ledger is best opened with
    ``Durability.DEFERRED``, since fundings and defundings are submitted one
    at a time.  ``progress(done, total)`` is called as wallets open and
    payments settle, ending with ``done == total``.  ``sentinels`` checks the
    payments' signatures in worker processes.
    """
    economy = economy if economy is not None else Economy()
    if ledger is None:
        ledger = Ledger()
    clock = ledger.clock
    if not isinstance(clock, ManualClock):
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            "a simulation moves the ledger's clock: give the ledger a ManualClock",
            field="clock",
        )
    if ledger.entry_count:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"a simulation starts from an empty ledger, not one of {ledger.entry_count} entries",
            field="ledger",
        )
    return _Run(economy, ledger, clock, progress, sentinels).run()


@attrs.define
class _Plan:
    """A planted case before it runs: its wallets and what they will do."""

    number: int
    typology: Typology
    members: list[int]
    #: (time, wallet, amount): deposits paid in and funded into wallets before the case.
    funding: list[tuple[int, int, int]] = attrs.field(factory=list)
    #: (time, payer, payee, amount) transfers.
    steps: list[tuple[int, int, int, int]] = attrs.field(factory=list)
    #: (time, bank) defund slots of a bank run, filled with households when they come.
    run_slots: list[tuple[int, int]] = attrs.field(factory=list)
    entries: list[tuple[int, int]] = attrs.field(factory=list)
    used: list[int] = attrs.field(factory=list)
    #: A bank run's customers, in the order they may join it.
    candidates: list[int] | None = None


class _Run:
    """One simulation: the population, its shadow of the ledger's counters, the event loop."""

    def __init__(
        self,
        economy: Economy,
        ledger: Ledger,
        clock: ManualClock,
        progress: Callable[[int, int], None] | None,
        sentinels: SentinelPool | None,
    ) -> None:
        self.economy = economy
        self.ledger = ledger
        self.clock = clock
        self.policy: Policy = ledger.policy
        self.progress = progress
        self.sentinels = sentinels
        self.rng = random.Random(economy.seed)
        self.offset_us = self.policy.utc_offset_minutes * _MINUTE
        caps = [self.policy.limits(category) for category in WalletCategory]
        self.cap_balance = [0] + [_fen(c.balance_cap) for c in caps]
        self.cap_single = [0] + [_fen(c.single_payment_cap) for c in caps]
        self.cap_daily = [0] + [_fen(c.daily_cap) for c in caps]
        self.cap_annual = [0] + [_fen(c.annual_cap) for c in caps]
        # Per wallet, by index: the wallet, its category, bank, account, and shadow counters.
        self.wallets: list[Wallet] = []
        self.addresses: list[Address] = []
        self.category: list[int] = []
        self.bank_of: list[int] = []
        self.account: list[str] = []
        self.balance: list[int] = []
        self.spent_day: list[int] = []
        self.spent_today: list[int] = []
        self.spent_year: list[int] = []
        self.spent_this_year: list[int] = []
        self.target: list[int] = []
        self.roles: dict[Address, Role] = {}
        self.deposits: dict[str, int] = {}
        self.vault: list[int] = []
        self.unissued: list[int] = []
        self.issue_step: list[int] = []
        self.households: list[int] = []
        self.merchants: list[int] = []
        self.employers: list[int] = []
        self.household_weights: list[float] = []
        self.merchant_weights: list[float] = []
        self.contacts: list[int] = []
        self.employees: dict[int, list[int]] = collections.defaultdict(list)
        self.salary: dict[int, tuple[int, int]] = {}
        self.pending_topup: dict[int, None] = {}
        self.pending_defund: dict[int, None] = {}
        self.plans: list[_Plan] = []
        # The batch being signed: envelopes, planned times, payer, payee, amount, case.
        self.batch: list[SignedInstruction] = []
        self.times: list[int] = []
        self.moves: list[tuple[int, int, int, int]] = []
        self.positions: dict[int, int] = {}
        self.times_in_flight: list[int] = []
        self.first_day = 0
        self.banks: list[Bank] = []
        self.bank_weights = [weight for _, _, weight in BANKS[: economy.banks]]
        self.settled = 0
        self.refused = 0
        self.skipped = 0
        self.rejections: collections.Counter[Reason] = collections.Counter()
        self.done = 0
        self.total = 0

    # -- the whole run ---------------------------------------------------------

    def run(self) -> SimulationResult:
        economy = self.economy
        start_us = self.clock.now_us()
        first_day = self.first_day = self.policy.calendar_day(start_us) + 1
        # Planned first, so that an economy with too few payments leaves the ledger untouched.
        self._plan_cases(first_day)
        case_transfers = sum(len(plan.steps) for plan in self.plans)
        if case_transfers > economy.payments:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"the planted cases need {case_transfers} transfers, more than the "
                f"{economy.payments} payments asked for",
                field="payments",
            )
        self.central = CentralBank(self.ledger, seed=economy.seed)
        self._open_banks()
        members = sum(len(plan.members) for plan in self.plans)
        self.total = economy.wallets + members + economy.payments
        self._open_population()
        for plan in self.plans:
            for index, category in enumerate(plan.members):
                plan.members[index] = self._open(category, Role.CASE_MEMBER)
        self._report()
        unsubscribe = self.ledger.subscribe(self._on_entry)
        try:
            self._run_days(first_day, economy.payments - case_transfers)
        finally:
            unsubscribe()
        self.done = self.total
        self._report()
        cases = tuple(self._case(plan) for plan in self.plans if plan.entries)
        return SimulationResult(
            economy=economy,
            ledger=self.ledger,
            central_bank=self.central,
            banks=tuple(self.banks),
            wallets=tuple(self.wallets),
            roles=dict(self.roles),
            cases=cases,
            payments_settled=self.settled,
            payments_refused=self.refused,
            payments_skipped=self.skipped,
            rejections=self.rejections,
            start_us=start_us,
            end_us=max(self.clock.now_us(), self.ledger.last_entry_time_us),
        )

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)

    # -- setting up ------------------------------------------------------------

    def _open_banks(self) -> None:
        chosen = BANKS[: self.economy.banks]
        shares = sum(weight for _, _, weight in chosen)
        for name, code, weight in chosen:
            wallets = self.economy.wallets * weight // shares + 1
            pledged = wallets * 40_000 * _YUAN + 5_000_000 * _YUAN
            bank = self.central.authorise_bank(name, code=code, reserves=Amount(pledged))
            self.banks.append(bank)
            self.vault.append(0)
            self.unissued.append(pledged)
            self.issue_step.append(pledged // 4)
            self._issue(len(self.banks) - 1, pledged // 4)

    def _issue(self, bank: int, amount: int) -> bool:
        amount = min(amount, self.unissued[bank])
        if amount <= 0:
            return False
        try:
            self.central.issue(self.banks[bank], Amount(amount))
        except DcepError as error:
            self.rejections[error.reason] += 1
            return False
        self.unissued[bank] -= amount
        self.vault[bank] += amount
        return True

    def _open_population(self) -> None:
        rng = self.rng
        economy = self.economy
        count = economy.wallets
        merchants = max(1, count * _MERCHANTS_PER_MILLE // 1000)
        employers = max(1, count * _EMPLOYERS_PER_MILLE // 1000)
        households = count - merchants - employers
        # Households take the mix the corporate wallets (all category 1) leave.
        weights = economy.category_weights
        total_weight = sum(weights)
        wanted = [count * weight / total_weight for weight in weights]
        wanted[0] = max(0.0, wanted[0] - merchants - employers)
        categories = rng.choices((1, 2, 3, 4), weights=wanted, k=households)
        roles = [Role.MERCHANT] * merchants + [Role.EMPLOYER] * employers
        roles += [Role.HOUSEHOLD] * households
        plan = [1] * (merchants + employers) + categories
        order = list(range(count))
        rng.shuffle(order)  # corporate and private wallets open interleaved
        for done, position in enumerate(order):
            index = self._open(plan[position], roles[position])
            role = roles[position]
            if role is Role.MERCHANT:
                self.merchants.append(index)
            elif role is Role.EMPLOYER:
                self.employers.append(index)
            else:
                self.households.append(index)
            if done % 1000 == 999:
                self._report()
        s = float(economy.merchant_zipf)
        ranks = list(range(1, len(self.merchants) + 1))
        rng.shuffle(ranks)
        self.merchant_weights = _cumulative([rank**-s for rank in ranks])
        self.household_weights = _cumulative(
            [min(rng.paretovariate(1.6), 40.0) for _ in self.households]
        )
        people = self.households
        for _ in people:
            self.contacts.extend(rng.randrange(len(people)) for _ in range(_CONTACTS))
        for index in people:
            if rng.randrange(100) < 80:
                employer = rng.choice(self.employers)
                self.employees[employer].append(index)
                # The e-CNY part of a monthly salary, and the part paid into the deposit account.
                target = self.target[index]
                self.salary[index] = (
                    target * rng.randint(25, 50) // 100,
                    rng.randint(3_000, 12_000) * _YUAN,
                )

    def _open(self, category: int, role: Role) -> int:
        rng = self.rng
        index = len(self.wallets)
        bank_index = rng.choices(range(len(self.banks)), weights=self.bank_weights)[0]
        bank = self.banks[bank_index]
        phone = f"1{3 + index % 7}{index:09d}"
        id_number = f"1101{index:014d}"
        account = ""
        if category <= 2:
            account = f"6222-{bank_index:02d}-{index:09d}"
            savings = {
                Role.HOUSEHOLD: rng.randint(2_000, 80_000) * _YUAN,
                Role.MERCHANT: rng.randint(5_000, 50_000) * _YUAN,
                Role.EMPLOYER: rng.randint(10_000, 100_000) * _YUAN,
                Role.CASE_MEMBER: 100 * _YUAN,
            }[role]
            bank.pay_in(account, Amount(savings))
            self.deposits[account] = savings
        wallet = bank.open_wallet(
            category=category,
            phone=phone,
            id_number=id_number if category <= 3 else None,
            linked_account=account or None,
            in_person=category == 1,
        )
        self.wallets.append(wallet)
        self.addresses.append(wallet.address)
        self.category.append(category)
        self.bank_of.append(bank_index)
        self.account.append(account)
        self.balance.append(0)
        self.spent_day.append(-1)
        self.spent_today.append(0)
        self.spent_year.append(-1)
        self.spent_this_year.append(0)
        self.roles[wallet.address] = role
        cap = self.cap_balance[category]
        if role is Role.HOUSEHOLD:
            target = {
                1: rng.randint(3_000, 30_000) * _YUAN,
                2: rng.randint(1_000, 6_000) * _YUAN,
                3: cap * rng.randint(30, 80) // 100,
                4: cap * rng.randint(40, 90) // 100,
            }[category]
        else:
            target = 0
        target = min(target, cap)
        self.target.append(target)
        if target:
            self._fund(index, target * rng.randint(50, 100) // 100)
        self.done += 1
        return index

    # -- money in and out of wallets -----------------------------------------------

    def _fund(self, index: int, amount: int) -> bool:
        """Fund a wallet from its deposit account (or over the counter), issuing if needed."""
        amount = min(amount, self.cap_balance[self.category[index]] - self.balance[index])
        if amount <= 0:
            return False
        bank = self.bank_of[index]
        while self.vault[bank] < amount:
            if not self._issue(bank, max(self.issue_step[bank], amount)):
                return False
        account = self.account[index]
        source = account if account and self.deposits.get(account, 0) >= amount else ""
        try:
            self.banks[bank].fund(self.wallets[index], Amount(amount), from_account=source)
        except DcepError as error:
            self.rejections[error.reason] += 1
            return False
        if source:
            self.deposits[source] -= amount
        self.vault[bank] -= amount
        self.balance[index] += amount
        return True

    def _defund(self, index: int, amount: int) -> int | None:
        """Defund to the linked account; the entry number, or None if refused."""
        account = self.account[index]
        if amount <= 0 or not account or amount > self.balance[index]:
            return None
        try:
            receipt = self.wallets[index].defund(Amount(amount))
        except DcepError as error:
            self.rejections[error.reason] += 1
            return None
        self.deposits[account] = self.deposits.get(account, 0) + amount
        self.vault[self.bank_of[index]] += amount
        self.balance[index] -= amount
        return receipt.entry_number

    def _pay_in(self, index: int, amount: int) -> None:
        account = self.account[index]
        if not account or amount <= 0:
            return
        try:
            self.banks[self.bank_of[index]].pay_in(account, Amount(amount))
        except DcepError as error:
            self.rejections[error.reason] += 1
            return
        self.deposits[account] = self.deposits.get(account, 0) + amount

    def _checkpoint(self) -> None:
        """Households top up or bank their surplus; merchants sweep their takings."""
        topups, self.pending_topup = self.pending_topup, {}
        for index in topups:
            if self.balance[index] * 5 < self.target[index]:
                self._fund(index, self.target[index] - self.balance[index])
        surplus, self.pending_defund = self.pending_defund, {}
        for index in surplus:
            if self.account[index]:
                keep = self.target[index] if self.target[index] else _MERCHANT_FLOAT
                if self.balance[index] > keep:
                    self._defund(index, self.balance[index] - keep)

    # -- the planted cases -----------------------------------------------------

    def _plan_cases(self, first_day: int) -> None:
        rng = self.rng
        economy = self.economy
        number = 0
        for typology in economy.patterns:
            for _ in range(economy.cases_per_pattern):
                span = 3 if typology is Typology.STRUCTURING else 1
                day = first_day + rng.randrange(max(1, economy.days - span + 1))
                start = self._midnight(day) + rng.randint(9 * 60, 15 * 60) * _MINUTE
                start += rng.randrange(_MINUTE)
                plan = _Plan(number, typology, [])
                self._plan_one(plan, start, day)
                self.plans.append(plan)
                number += 1

    def _plan_one(self, plan: _Plan, start: int, day: int) -> None:
        rng = self.rng
        size = self.economy.case_size
        typology = plan.typology

        def member(category: int) -> int:
            plan.members.append(category)
            return len(plan.members) - 1  # a slot, replaced by a wallet index later

        def pay(at: int, payer: int, payee: int, amount: int) -> None:
            plan.steps.append((at, payer, payee, amount))

        def spread(begin: int, hours: int, count: int) -> list[int]:
            return sorted(begin + rng.randrange(hours * _HOUR) for _ in range(count))

        yuan = _YUAN
        if typology is Typology.STRUCTURING:
            rule = StructuringRule()
            low = rule.threshold_fen * (100 - rule.band_percent) // 100
            source = member(1)
            payees = [member(1) for _ in range(rng.randint(2, 3))]
            days_left = self.first_day + self.economy.days - day
            count = min(5, 2 * max(1, days_left))
            for k in range(count):
                at = self._midnight(day + k // 2) + (10 + 5 * (k % 2)) * _HOUR
                at += rng.randrange(2 * _HOUR)
                pay(at, source, payees[k % len(payees)], rng.randint(low, rule.threshold_fen - 1))
            first = min(step[0] for step in plan.steps)
            total = sum(step[3] for step in plan.steps)
            plan.funding.append((first - 20 * _MINUTE, source, total))
        elif typology is Typology.FAN_IN:
            payers = [member(2) for _ in range(size)]
            hub, sink = member(1), member(1)
            total = 0
            for at, payer in zip(spread(start, 6, size), payers, strict=True):
                amount = rng.randint(2_000, 4_900) * yuan
                total += amount
                plan.funding.append((start - 20 * _MINUTE, payer, amount))
                pay(at, payer, hub, amount)
            last = plan.steps[-1][0]
            onward = min(total * rng.randint(60, 95) // 100, self.cap_single[1])
            pay(last + rng.randint(10, 60) * _MINUTE, hub, sink, onward)
        elif typology is Typology.FAN_OUT:
            hub = member(1)
            payees = [member(2) for _ in range(size)]
            amounts = [rng.randint(1_000, 4_900) * yuan for _ in payees]
            plan.funding.append((start - 20 * _MINUTE, hub, sum(amounts)))
            for at, payee, amount in zip(spread(start, 6, size), payees, amounts, strict=True):
                pay(at, hub, payee, amount)
        elif typology is Typology.CYCLE:
            ring = [member(2) for _ in range(min(size, rng.randint(3, 6)))]
            amount = rng.randint(3_000, 4_900) * yuan
            plan.funding.append((start - 20 * _MINUTE, ring[0], amount))
            at = start
            for k, payer in enumerate(ring):
                pay(at, payer, ring[(k + 1) % len(ring)], amount)
                amount = amount * rng.randint(97, 100) // 100
                at += rng.randint(20, 120) * _MINUTE
        elif typology is Typology.SCATTER_GATHER:
            source = member(1)
            middle = [member(2) for _ in range(size)]
            sink = member(1)
            amounts = [rng.randint(2_000, 4_900) * yuan for _ in middle]
            plan.funding.append((start - 20 * _MINUTE, source, sum(amounts)))
            for at, hop, amount in zip(spread(start, 3, size), middle, amounts, strict=True):
                pay(at, source, hop, amount)
            gather = start + 3 * _HOUR
            for at, hop, amount in zip(spread(gather, 6, size), middle, amounts, strict=True):
                pay(at, hop, sink, amount * rng.randint(97, 100) // 100)
        elif typology is Typology.GATHER_SCATTER:
            payers = [member(2) for _ in range(size)]
            hub = member(1)
            payees = [member(2) for _ in range(size)]
            total = 0
            for at, payer in zip(spread(start, 4, size), payers, strict=True):
                amount = rng.randint(2_000, 4_900) * yuan
                total += amount
                plan.funding.append((start - 20 * _MINUTE, payer, amount))
                pay(at, payer, hub, amount)
            out = total * rng.randint(90, 98) // 100
            scatter = start + 4 * _HOUR
            for at, payee in zip(spread(scatter, 4, size), payees, strict=True):
                pay(at, hub, payee, min(out // size, self.cap_single[2]))
        elif typology is Typology.PASS_THROUGH:
            source, relay, sink = member(1), member(1), member(1)
            at = start
            amounts = [rng.randint(10_000, 30_000) * yuan for _ in range(3)]
            plan.funding.append((start - 20 * _MINUTE, source, sum(amounts)))
            for amount in amounts:
                pay(at, source, relay, amount)
                at += rng.randint(3, 30) * _MINUTE
                pay(at, relay, sink, amount * rng.randint(95, 99) // 100)
                at += rng.randint(60, 180) * _MINUTE
        else:  # a bank run: households of one bank, chosen when the run comes
            bank = rng.choices(range(len(self.bank_weights)), weights=self.bank_weights)[0]
            people = self.economy.wallets // (20 * len(self.bank_weights))
            slots = max(10, min(400, people))
            plan.run_slots = [(at, bank) for at in spread(start, 2, slots)]

    # -- the days --------------------------------------------------------------

    def _run_days(self, first_day: int, budget: int) -> None:
        rng = self.rng
        economy = self.economy
        day_weights = [_WEEKDAYS[self._weekday(first_day + d)] for d in range(economy.days)]
        weight_left = sum(day_weights)
        cases_by_day: dict[int, list[tuple[int, int, int, int, int, int]]] = (
            collections.defaultdict(list)
        )
        for plan in self.plans:
            for at, slot, amount in plan.funding:
                cases_by_day[self._day_of(at)].append(
                    (at, _CASE_PREP, plan.number, slot, 0, amount)
                )
            for at, payer, payee, amount in plan.steps:
                cases_by_day[self._day_of(at)].append(
                    (at, _CASE_PAY, plan.number, payer, payee, amount)
                )
            for at, bank in plan.run_slots:
                cases_by_day[self._day_of(at)].append((at, _RUN_DEFUND, plan.number, bank, 0, 0))
        for offset in range(economy.days):
            day = first_day + offset
            midnight = self._midnight(day)
            events: list[tuple[int, int, int, int, int, int]] = []
            events += [(midnight + m * _MINUTE, _CHECKPOINT, 0, 0, 0, 0) for m in _CHECKPOINTS]
            events += cases_by_day.pop(day, [])
            salaries = 0
            if self._date(day).day == economy.salary_day:
                salaries = self._plan_salaries(midnight, events, budget)
            if offset == economy.days - 1:
                background = budget - salaries
            else:
                share = (budget * day_weights[offset] + weight_left // 2) // weight_left
                background = max(0, min(budget, share) - salaries)
            weight_left -= day_weights[offset]
            budget -= salaries + background
            profile = _WEEKEND_HOURS if self._weekday(day) >= 5 else _WEEKDAY_HOURS
            hours = rng.choices(range(24), weights=profile, k=background)
            events += [
                (midnight + hour * _HOUR + rng.randrange(_HOUR), _PAYMENT, 0, 0, 0, 0)
                for hour in hours
            ]
            events.sort()
            self._run_events(events, day)
        # What cases still have to do after the last day (a run that started late) runs too.
        for day in sorted(cases_by_day):
            self._run_events(sorted(cases_by_day[day]), day)
        self._flush()

    def _plan_salaries(
        self, midnight: int, events: list[tuple[int, int, int, int, int, int]], budget: int
    ) -> int:
        rng = self.rng
        planned = 0
        for employer in self.employers:
            staff = self.employees.get(employer, [])
            if not staff:
                continue
            events.append((midnight + 8 * _HOUR + 30 * _MINUTE, _SALARY_PREP, employer, 0, 0, 0))
            for employee in staff:
                if planned == budget:
                    return planned
                at = midnight + 9 * _HOUR + rng.randrange(2 * _HOUR)
                events.append((at, _SALARY, employer, employee, 0, self.salary[employee][0]))
                planned += 1
        return planned

    def _run_events(self, events: list[tuple[int, int, int, int, int, int]], day: int) -> None:
        year = self.policy.calendar_year(day)
        batch_size = self.economy.batch_size
        for at, kind, a, b, c, amount in events:
            if kind == _PAYMENT:
                self._background(at, day, year)
            elif kind == _SALARY:
                self._transfer(at, day, year, a, b, amount, -1, skip_if_short=True)
            elif kind == _CASE_PAY:
                plan = self.plans[a]
                payer, payee = plan.members[b], plan.members[c]
                self._transfer(at, day, year, payer, payee, amount, a, skip_if_short=False)
            else:
                self._flush()
                self.clock.move_to(max(at, self.clock.now_us()))
                if kind == _CHECKPOINT:
                    self._checkpoint()
                elif kind == _SALARY_PREP:
                    self._salary_prep(a)
                elif kind == _CASE_PREP:
                    index = self.plans[a].members[b]
                    self._pay_in(index, amount)
                    self._fund(index, amount)
                else:
                    self._bank_run_defund(self.plans[a], b)
                continue
            if len(self.batch) >= batch_size:
                self._flush()

    def _salary_prep(self, employer: int) -> None:
        total = sum(self.salary[e][0] for e in self.employees[employer])
        total = min(total, self.cap_daily[1], self.cap_balance[1] - self.balance[employer])
        self._pay_in(employer, total)
        self._fund(employer, total)
        for employee in self.employees[employer]:
            self._pay_in(employee, self.salary[employee][1])

    def _bank_run_defund(self, plan: _Plan, bank: int) -> None:
        rng = self.rng
        if plan.candidates is None:
            # The bank's customers who could run, in the order they may join the run.
            plan.candidates = [
                index
                for index in self.households
                if self.bank_of[index] == bank and self.account[index]
            ]
            rng.shuffle(plan.candidates)
        while plan.candidates:
            index = plan.candidates.pop()
            if self.balance[index] >= 100 * _YUAN:
                break
        else:
            return
        entry = self._defund(index, self.balance[index] * rng.randint(80, 100) // 100)
        if entry is not None:
            plan.used.append(index)
            plan.entries.append((entry, self.ledger.last_entry_time_us))

    # -- payments ----------------------------------------------------------------

    def _room(self, index: int, day: int, year: int) -> int:
        """What ``index`` may pay now: its balance within its payment caps."""
        category = self.category[index]
        room = self.balance[index]
        single = self.cap_single[category]
        if single < room:
            room = single
        today = self.spent_today[index] if self.spent_day[index] == day else 0
        daily = self.cap_daily[category] - today
        if daily < room:
            room = daily
        this_year = self.spent_this_year[index] if self.spent_year[index] == year else 0
        annual = self.cap_annual[category] - this_year
        return annual if annual < room else room

    def _background(self, at: int, day: int, year: int) -> None:
        rng = self.rng
        households = self.households
        balance = self.balance
        bands: tuple[tuple[int, int, int], ...]
        for _ in range(8):
            position = _pick(rng, self.household_weights)
            payer = households[position]
            room = self._room(payer, day, year)
            if room < _YUAN:
                self.pending_topup[payer] = None
                continue
            if rng.randrange(100) < self.economy.p2p_percent:
                payee = households[self.contacts[position * _CONTACTS + rng.randrange(_CONTACTS)]]
                bands = _TRANSFERS
            else:
                payee = self.merchants[_pick(rng, self.merchant_weights)]
                bands = _TICKETS
            if payee == payer:
                continue
            limit = min(room, self.cap_balance[self.category[payee]] - balance[payee])
            if limit < _YUAN:
                continue
            band = bands[_pick_band(rng, bands)]
            amount = rng.randint(band[1], band[2])
            if amount > limit:
                amount = rng.randint(_YUAN, limit)
            self._sign(at, day, year, payer, payee, amount, -1)
            return
        self.skipped += 1
        self.done += 1

    def _transfer(
        self,
        at: int,
        day: int,
        year: int,
        payer: int,
        payee: int,
        amount: int,
        case: int,
        *,
        skip_if_short: bool,
    ) -> None:
        limit = min(
            self._room(payer, day, year),
            self.cap_balance[self.category[payee]] - self.balance[payee],
        )
        if skip_if_short:
            amount = min(amount, limit)
        if amount < 1 or amount > limit:
            self.skipped += 1
            self.done += 1
            return
        self._sign(at, day, year, payer, payee, amount, case)

    def _sign(
        self, at: int, day: int, year: int, payer: int, payee: int, amount: int, case: int
    ) -> None:
        signed = self.wallets[payer].sign_payment(self.addresses[payee], Amount(amount))
        self.batch.append(signed)
        self.times.append(at)
        self.moves.append((payer, payee, amount, case))
        # The shadow of the ledger's counters, as the ledger will apply them.
        if self.spent_day[payer] != day:
            self.spent_day[payer] = day
            self.spent_today[payer] = 0
        if self.spent_year[payer] != year:
            self.spent_year[payer] = year
            self.spent_this_year[payer] = 0
        self.spent_today[payer] += amount
        self.spent_this_year[payer] += amount
        self.balance[payer] -= amount
        self.balance[payee] += amount
        if self.balance[payer] * 5 < self.target[payer]:
            self.pending_topup[payer] = None
        role = self.roles[self.addresses[payee]]
        if role is Role.MERCHANT:
            if self.balance[payee] >= _MERCHANT_SWEEP_AT:
                self.pending_defund[payee] = None
        elif role is Role.HOUSEHOLD and self.balance[payee] > 2 * self.target[payee]:
            self.pending_defund[payee] = None

    def _flush(self) -> None:
        if not self.batch:
            return
        batch, times, moves = self.batch, self.times, self.moves
        self.batch, self.times, self.moves = [], [], []
        self.times_in_flight = times
        self.positions = {id(signed): k for k, signed in enumerate(batch)}
        self.clock.move_to(max(times[0], self.clock.now_us()))
        try:
            results = self.ledger.submit_many(batch, sentinels=self.sentinels)
        finally:
            self.positions = {}
        for result, (payer, payee, amount, case) in zip(results, moves, strict=True):
            if isinstance(result, Rejection):
                self.refused += 1
                self.rejections[result.reason] += 1
                self.balance[payer] += amount
                self.balance[payee] -= amount
                continue
            self.settled += 1
            if case >= 0:
                self.plans[case].entries.append((result.entry_number, result.accepted_at_us))
        self.done += len(batch)
        self._report()

    def _on_entry(self, entry: LedgerEntry) -> None:
        # Move the clock to the next payment's time once this one is applied.
        position = self.positions.get(id(entry.signed))
        if position is not None and position + 1 < len(self.times_in_flight):
            self.clock.move_to(max(self.times_in_flight[position + 1], self.clock.now_us()))

    # -- results -----------------------------------------------------------------

    def _case(self, plan: _Plan) -> Case:
        if plan.typology is Typology.BANK_RUN:
            members = tuple(self.addresses[index] for index in plan.used)
        else:
            members = tuple(self.addresses[index] for index in plan.members)
        entries = sorted(plan.entries)
        return Case(
            number=plan.number,
            typology=plan.typology,
            members=members,
            entries=tuple(number for number, _ in entries),
            start_us=entries[0][1],
            end_us=entries[-1][1],
        )

    # -- calendar ------------------------------------------------------------------

    def _midnight(self, day: int) -> int:
        return day * _DAY - self.offset_us

    def _day_of(self, at: int) -> int:
        return self.policy.calendar_day(at)

    @staticmethod
    def _date(day: int) -> dt.date:
        return _EPOCH + dt.timedelta(days=day)

    def _weekday(self, day: int) -> int:
        return self._date(day).weekday()


def _fen(cap: Amount | None) -> int:
    return _UNCAPPED if cap is None else cap.fen


def _cumulative(weights: list[float]) -> list[float]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    """An index drawn with the given cumulative weights (``random.choices``' own bisection)."""
    return bisect.bisect(cumulative, rng.random() * cumulative[-1], 0, len(cumulative) - 1)


def _pick_band(rng: random.Random, bands: tuple[tuple[int, int, int], ...]) -> int:
    draw = rng.randrange(sum(band[0] for band in bands))
    for index, band in enumerate(bands):
        draw -= band[0]
        if draw < 0:
            return index
    return len(bands) - 1
