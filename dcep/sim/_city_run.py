"""Running a month in Innova City: every payment signed by the party that makes it.

What :func:`simulate_city` builds, from one ``random.Random(seed)`` and keys
derived from the same seed (through ``CentralBank(ledger, seed=...)``):

* a bank in each district (its institution code a region, ``MA.156.37xx``)
  and one outside the city, with reserves and e-CNY issued against them;
* the city's treasury wallet, the transport operator, couriers, merchants
  by kind (groceries, restaurants, ... in the districts; online shops bank
  outside) and residents of categories 2 to 4, each with a level it keeps
  its wallet near, topped up at night;
* each day, events at planned times by the clock: fares, purchases,
  green-waste drop-offs rewarded by the city, delivery orders paid in escrow
  (``pay_pending`` released by the courier's ``ApprovedBy`` or a parcel
  locker's ``HashLock``) and what became of them (posted whole or in part,
  voided, or left to expire), voucher spends; the campaign on its day, the
  staff payroll as one linked batch on salary day, the fare subsidy weekly,
  and a checkpoint at 22:30 (top-ups, takings swept to deposit accounts).

Amounts are whole fen, fitted to what the ledger reports of the payer's
spendable balance and caps and the payee's balance cap; what does not fit is
skipped and counted.  The month ends with the treasury's sweep an hour after
the last day, so that every expiry due by then is journalled.

Over 400 lines, knowingly: one event loop whose steps share the parties,
their levels and the plans made on the way (a voucher's spends, an order's
outcome); split apart, each piece would reach into the others' state.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Callable
from typing import Final

import attrs

from dcep.core import SupplyReport
from dcep.errors import DcepError, InvalidFieldError, Reason
from dcep.instructions import ApprovedBy, HashLock
from dcep.ledger import Ledger
from dcep.parties import Bank, CentralBank, Wallet
from dcep.regulator import ProgrammableView
from dcep.sim._city import DISTRICTS, OUTSIDE, CityResult, CityRole, CitySettings
from dcep.sim._city_report import (
    FARE,
    PURCHASE,
    REWARD,
    SALARY,
    SUBSIDY,
    CityReport,
    CityTally,
)
from dcep.values import Address, Amount, ManualClock

__all__ = ["simulate_city"]

_MINUTE: Final = 60_000_000
_HOUR: Final = 60 * _MINUTE
_DAY: Final = 24 * _HOUR
_YUAN: Final = 100
#: Larger than any cap or balance: "no cap".
_UNCAPPED: Final = 1 << 62
#: (kind of shop, weight, least and most ticket in fen); online shops bank outside the city.
_SHOPS: Final = (
    ("grocery", 35, 500, 12_000),
    ("restaurant", 30, 1_500, 20_000),
    ("pharmacy", 10, 800, 15_000),
    ("hardware", 10, 1_000, 30_000),
    ("online", 15, 2_000, 40_000),
)
_TICKETS: Final = {kind: (least, most) for kind, _, least, most in _SHOPS}
#: Relative activity in each local hour: fares (commuting peaks) and the rest (daytime).
_RIDE_HOURS: Final = (
    *(0, 0, 0, 0, 0, 2, 8, 20, 24, 10, 5, 5),
    *(7, 6, 5, 6, 10, 22, 24, 12, 7, 5, 3, 1),
)
_DAY_HOURS: Final = (
    *(0, 0, 0, 0, 0, 0, 1, 2, 5, 8, 10, 12),
    *(14, 12, 10, 10, 11, 12, 14, 12, 9, 6, 3, 1),
)
#: Event kinds, in the order they run when they fall on the same microsecond.
_CAMPAIGN, _PAYROLL, _RIDE, _BUY, _DROP, _ORDER, _RESOLVE, _SPEND, _SUBSIDY, _CHECKPOINT = range(
    10
)
#: What the treasury keeps spendable: topped up to twice this at a checkpoint below it.
_CITY_FLOAT: Final = 50_000 * _YUAN
#: What a merchant or the operator keeps after a sweep, and the spendable that asks for one.
_TILL: Final = 1_000 * _YUAN
_SWEEP_AT: Final = 5_000 * _YUAN
#: Each corporate and category-2 wallet's linked deposit account, paid in when it opens.
_DEPOSIT: Final = 100_000 * _YUAN
#: The treasury's deposit account, at the bank of Old Town, that funds the city's wallet.
_TREASURY: Final = 20_000_000 * _YUAN
#: Of the city's daily cap, what the payroll may take (the day's rewards need the rest).
_PAYROLL_PERCENT: Final = 85
#: Share of residents who sort green waste, in percent.
_SORTERS_PERCENT: Final = 40


def simulate_city(
    settings: CitySettings | None = None, ledger: Ledger | None = None
) -> CityResult:
    """Run a month in Innova City on ``ledger`` (a new in-memory one if none).

    The same settings give the same journal, byte for byte.  The ledger must
    be empty and run on a :class:`~dcep.ManualClock`, which the run moves
    (``FIELD_INVALID`` otherwise); pass ``Ledger.with_journal(...)`` or
    ``Ledger.open(...)`` to keep the journal.  Returns the parties, the
    regulator's :class:`~dcep.regulator.ProgrammableView` and the
    :class:`~dcep.sim.CityReport`, after the ledger's own invariant check
    (``INVARIANT_VIOLATED`` if it failed, which would be a bug).
    """
    settings = settings if settings is not None else CitySettings()
    ledger = ledger if ledger is not None else Ledger()
    clock = ledger.clock
    if not isinstance(clock, ManualClock):
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            "the city moves the ledger's clock: give the ledger a ManualClock",
            field="clock",
        )
    if ledger.entry_count:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"the city starts from an empty ledger, not one of {ledger.entry_count} entries",
            field="ledger",
        )
    return _CityRun(settings, ledger, clock).run()


@attrs.define
class _Order:
    """A delivery paid in escrow, from its order to what becomes of it."""

    buyer: int
    merchant: int
    courier: int
    amount: int
    outcome: str
    locker_code: bytes
    pending_id: int = 0


@attrs.define
class _Spend:
    """A planned use of a voucher: at an eligible merchant, another one, or too late."""

    holder: int
    voucher_id: int
    merchant: int
    amount: int


def _spread(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights``, in whole numbers that add up to it."""
    out, given, seen, whole = [], 0, 0, sum(weights)
    for weight in weights:
        seen += weight
        share = total * seen // whole - given
        out.append(share)
        given += share
    return out


class _CityRun:
    """One month: the parties, their plans, and the event loop over the days."""

    def __init__(self, settings: CitySettings, ledger: Ledger, clock: ManualClock) -> None:
        self.settings = settings
        self.ledger = ledger
        self.clock = clock
        self.policy = ledger.policy
        self.rng = random.Random(settings.seed)
        self.banks: list[Bank] = []
        self.issue_step: list[int] = []
        self.wallets: list[Wallet] = []
        self.bank_of: list[int] = []
        self.target: list[int] = []
        self.roles: dict[Address, CityRole] = {}
        self.districts: dict[Address, str] = {}
        self.categories: dict[Address, str] = {}
        self.residents: list[int] = []
        self.merchants: list[int] = []
        self.couriers: list[int] = []
        self.staff: list[int] = []
        self.orders: list[_Order] = []
        self.spends: list[_Spend] = []
        self.later: dict[int, list[tuple[int, int, int]]] = collections.defaultdict(list)
        self.touched: dict[int, None] = {}
        self.rides_this_week = 0
        self.skipped: collections.Counter[str] = collections.Counter()
        self.rejections: collections.Counter[Reason] = collections.Counter()
        self.voucher_refusals: collections.Counter[Reason] = collections.Counter()
        self.tally = CityTally(self.categories)
        self.view = ProgrammableView()
        self.first_day = 0

    # -- the whole run ---------------------------------------------------------

    def run(self) -> CityResult:
        settings, ledger = self.settings, self.ledger
        self.view.follow(ledger)
        unsubscribe = ledger.subscribe(self.tally.add_entry)
        start_us = self.clock.now_us()
        self.first_day = self.policy.calendar_day(start_us) + 1
        try:
            self._open_parties()
            self._plan_month()
            for offset in range(settings.days):
                self._run_day(offset)
            self.clock.move_to(self._midnight(settings.days) + _HOUR)
            self._sweep(self.city, keep_fen=_CITY_FLOAT)
        finally:
            unsubscribe()
        supply = ledger.check_invariants()
        return CityResult(
            settings=settings,
            ledger=ledger,
            central_bank=self.central,
            banks=tuple(self.banks),
            city=self.wallets[self.city],
            transport=self.wallets[self.transport],
            wallets=tuple(self.wallets),
            roles=dict(self.roles),
            districts=dict(self.districts),
            merchant_categories=dict(self.categories),
            staff=frozenset(self.wallets[index].address for index in self.staff),
            programmable=self.view,
            report=self._report(supply),
            start_us=start_us,
            end_us=max(self.clock.now_us(), ledger.last_entry_time_us),
        )

    def _midnight(self, offset: int) -> int:
        return (self.first_day + offset) * _DAY - self.policy.utc_offset_minutes * _MINUTE

    def _at(self, offset: int, hours: tuple[int, ...]) -> int:
        hour = self.rng.choices(range(24), weights=hours)[0]
        return self._midnight(offset) + hour * _HOUR + self.rng.randrange(_HOUR)

    # -- the parties -------------------------------------------------------------

    def _open_parties(self) -> None:
        settings, rng = self.settings, self.rng
        self.central = CentralBank(self.ledger, seed=settings.seed)
        people = settings.residents + settings.merchants + settings.couriers
        for _, name, code in (*DISTRICTS, OUTSIDE):
            # Ample reserves; e-CNY is issued against them as the vault runs low.
            pledged = (people * 10_000 + 2_000_000) * _YUAN
            bank = self.central.authorise_bank(name, code=code, reserves=Amount(pledged))
            self.banks.append(bank)
            self.issue_step.append(people * 100 * _YUAN)
        self.city = self._open(0, CityRole.CITY, 1, 2 * _CITY_FLOAT)
        self.transport = self._open(1, CityRole.TRANSPORT, 1, 0)
        for number in range(settings.couriers):
            self.couriers.append(self._open(number % len(DISTRICTS), CityRole.COURIER, 4, 0))
        kinds = [shop[0] for shop in _SHOPS]
        drawn = rng.choices(kinds, weights=[shop[1] for shop in _SHOPS], k=settings.merchants)
        drawn[: len(kinds)] = kinds  # every kind of shop at least once
        for kind in drawn:
            home = len(DISTRICTS) if kind == "online" else rng.randrange(len(DISTRICTS))
            index = self._open(home, CityRole.MERCHANT, 1, 0)
            self.categories[self.wallets[index].address] = kind
            self.merchants.append(index)
        staff = settings.residents * settings.staff_per_mille // 1000
        staff = max(staff, 1) if settings.staff_per_mille else 0
        for number in range(settings.residents):
            home = rng.randrange(len(DISTRICTS)) if rng.randrange(10) else len(DISTRICTS)
            category = 2 if number < staff else rng.choice((2, 3, 4, 4))
            target = self._cap(category, "balance_cap") * rng.randint(10, 40) // 100
            index = self._open(home, CityRole.RESIDENT, category, target)
            self.residents.append(index)
            if number < staff:
                self.staff.append(index)
        regions = settings.voucher_regions
        self.eligible = [
            m
            for m in self.merchants
            if any(
                self.banks[self.bank_of[m]].code.is_under(region)
                or self.banks[self.bank_of[m]].code == region
                for region in regions
            )
        ]
        self.ineligible = [m for m in self.merchants if m not in set(self.eligible)]

    def _cap(self, category: int, which: str) -> int:
        limits = self.policy.limits(category)
        cap: Amount | None = getattr(limits, which)
        return _UNCAPPED if cap is None else cap.fen

    def _open(self, bank_index: int, role: CityRole, category: int, target: int) -> int:
        index = len(self.wallets)
        bank = self.banks[bank_index]
        account = ""
        if category <= 2:
            account = f"6222-{bank_index:02d}-{index:09d}"
            deposit = _TREASURY if role is CityRole.CITY else _DEPOSIT
            bank.pay_in(account, Amount(deposit))
        wallet = bank.open_wallet(
            category=category,
            phone=f"1{3 + index % 7}{index:09d}",
            id_number=f"3701{index:014d}" if category <= 3 else None,
            linked_account=account or None,
            in_person=category == 1,
        )
        self.wallets.append(wallet)
        self.bank_of.append(bank_index)
        self.target.append(target)
        self.roles[wallet.address] = role
        self.districts[wallet.address] = (*DISTRICTS, OUTSIDE)[bank_index][0]
        if target:
            self._fund(index, target)
        return index

    # -- the plan ------------------------------------------------------------------

    def _plan_month(self) -> None:
        settings, rng = self.settings, self.rng
        days = settings.days
        weekday = [self._weekday(offset) < 5 for offset in range(days)]
        self.rides = _spread(settings.rides, [100 if w else 60 for w in weekday])
        self.purchases = _spread(settings.purchases, [100 if w else 140 for w in weekday])
        self.drops = _spread(settings.drop_offs, [1] * days)
        order_days = days - settings.escrow_days - 2
        self.deliveries = _spread(settings.deliveries, [1] * order_days) + [0] * (
            days - order_days
        )
        ranks = list(range(1, len(self.merchants) + 1))
        rng.shuffle(ranks)
        self.merchant_weights = [rank**-1.1 for rank in ranks]
        self.resident_weights = [min(rng.paretovariate(1.8), 20.0) for _ in self.residents]
        count = len(self.residents) * _SORTERS_PERCENT // 100
        self.sorters = rng.sample(self.residents, max(1, count))

    def _weekday(self, offset: int) -> int:
        return (self.first_day + offset + 3) % 7  # 1970-01-01 was a Thursday

    def _run_day(self, offset: int) -> None:
        settings, rng = self.settings, self.rng
        midnight = self._midnight(offset)
        events = self.later.pop(offset, [])
        riders = rng.choices(self.residents, weights=self.resident_weights, k=self.rides[offset])
        events += [(self._at(offset, _RIDE_HOURS), _RIDE, r) for r in riders]
        buyers = rng.choices(
            self.residents, weights=self.resident_weights, k=self.purchases[offset]
        )
        events += [(self._at(offset, _DAY_HOURS), _BUY, b) for b in buyers]
        events += [
            (self._at(offset, _DAY_HOURS), _DROP, rng.choice(self.sorters))
            for _ in range(self.drops[offset])
        ]
        for _ in range(self.deliveries[offset]):
            events.append((self._at(offset, _DAY_HOURS), _ORDER, self._plan_order()))
        if offset == settings.campaign_day:
            events.append((midnight + 10 * _HOUR, _CAMPAIGN, 0))
        if offset == settings.salary_day:
            events.append((midnight + 9 * _HOUR, _PAYROLL, 0))
        if self._weekday(offset) == 6:
            events.append((midnight + 21 * _HOUR, _SUBSIDY, 0))
        events.append((midnight + 22 * _HOUR + 30 * _MINUTE, _CHECKPOINT, 0))
        events.sort()
        for at, kind, ref in events:
            self.clock.move_to(max(at, self.clock.now_us()))
            if kind == _RIDE:
                self._ride(ref)
            elif kind == _BUY:
                self._buy(ref)
            elif kind == _DROP:
                self._drop(ref)
            elif kind == _ORDER:
                self._order(ref, offset)
            elif kind == _RESOLVE:
                self._resolve(self.orders[ref])
            elif kind == _SPEND:
                self._spend(self.spends[ref])
            elif kind == _CAMPAIGN:
                self._campaign(offset)
            elif kind == _PAYROLL:
                self._payroll()
            elif kind == _SUBSIDY:
                self._subsidy()
            else:
                self._checkpoint()

    # -- what the ledger says a wallet may do ----------------------------------------

    def _room(self, index: int) -> int:
        """What wallet ``index`` may pay now: its spendable balance, within its caps."""
        info = self.ledger.wallet(self.wallets[index].address)
        category = int(info.category)
        return min(
            info.balance.fen - info.reserved.fen,
            self._cap(category, "single_payment_cap"),
            self._cap(category, "daily_cap") - info.spent_today.fen,
            self._cap(category, "annual_cap") - info.spent_this_year.fen,
        )

    def _capacity(self, index: int) -> int:
        """What wallet ``index`` may still receive under its balance cap."""
        info = self.ledger.wallet(self.wallets[index].address)
        return self._cap(int(info.category), "balance_cap") - info.balance.fen

    def _submit(self, what: str, step: Callable[[], object]) -> bool:
        """Run one party's call; a refusal is counted by reason (it changed nothing)."""
        try:
            step()
        except DcepError as error:
            self.rejections[error.reason] += 1
            if what == "voucher":
                self.voucher_refusals[error.reason] += 1
            return False
        return True

    def _pay(self, payer: int, payee: int, amount: int, memo: str) -> bool:
        if amount < 1 or amount > min(self._room(payer), self._capacity(payee)):
            self.skipped[memo] += 1
            self.touched[payer] = None
            return False
        self.touched[payer] = None
        self.touched[payee] = None
        wallet, to = self.wallets[payer], self.wallets[payee].address
        return self._submit(memo, lambda: wallet.pay(to, Amount(amount), memo=memo))

    def _fund(self, index: int, amount: int) -> None:
        amount = min(amount, self._capacity(index))
        if amount > 0:
            bank, wallet = self.banks[self.bank_of[index]], self.wallets[index]
            vault = self.ledger.bank(bank.address).vault.fen
            if vault < amount:
                step = max(amount - vault, self.issue_step[self.bank_of[index]])
                self._submit("issue", lambda: self.central.issue(bank, Amount(step)))
            self._submit("fund", lambda: bank.fund(wallet, Amount(amount)))

    def _sweep(self, index: int, *, keep_fen: int) -> None:
        info = self.ledger.wallet(self.wallets[index].address)
        surplus = info.balance.fen - info.reserved.fen - keep_fen
        if surplus > 0:
            wallet = self.wallets[index]
            self._submit("sweep", lambda: wallet.defund(Amount(surplus)))

    # -- the day's events ------------------------------------------------------------

    def _ride(self, rider: int) -> None:
        rng = self.rng
        fare = 2 * _YUAN if rng.randrange(10) < 6 else rng.randint(3, 6) * _YUAN
        if self._pay(rider, self.transport, fare, FARE):
            self.rides_this_week += 1

    def _buy(self, buyer: int) -> None:
        rng = self.rng
        shop = rng.choices(self.merchants, weights=self.merchant_weights)[0]
        least, most = _TICKETS[self.categories[self.wallets[shop].address]]
        amount = min(rng.randint(least, most), self._room(buyer))
        self._pay(buyer, shop, amount if amount >= least else 0, PURCHASE)

    def _drop(self, sorter: int) -> None:
        self._pay(self.city, sorter, self.rng.randint(100, 500), REWARD)

    def _plan_order(self) -> int:
        settings, rng = self.settings, self.rng
        draw = rng.randrange(100)
        outcome = "delivered"
        if draw < settings.cancelled_percent:
            outcome = "cancelled"
        elif draw < settings.cancelled_percent + settings.lost_percent:
            outcome = "lost"
        elif draw < settings.cancelled_percent + settings.lost_percent + settings.partial_percent:
            outcome = "partial"
        locker = rng.randrange(100) < settings.locker_percent and outcome != "partial"
        self.orders.append(
            _Order(
                buyer=rng.choices(self.residents, weights=self.resident_weights)[0],
                merchant=rng.choices(self.merchants, weights=self.merchant_weights)[0],
                courier=rng.choice(self.couriers),
                amount=rng.randint(30, 300) * _YUAN,
                outcome=outcome,
                locker_code=rng.randbytes(16) if locker else b"",
            )
        )
        return len(self.orders) - 1

    def _order(self, number: int, offset: int) -> None:
        order = self.orders[number]
        amount = min(order.amount, self._room(order.buyer))
        self.touched[order.buyer] = None
        if amount < 10 * _YUAN:
            self.skipped["delivery"] += 1
            return
        order.amount = amount
        conditions: tuple[HashLock | ApprovedBy, ...] = (
            (HashLock.of(order.locker_code),)
            if order.locker_code
            else (ApprovedBy((self.wallets[order.courier].verify_key,)),)
        )
        now = self.clock.now_us()
        buyer, shop = self.wallets[order.buyer], self.wallets[order.merchant]
        try:
            receipt = buyer.pay_pending(
                shop,
                Amount(amount),
                expires_at_us=now + self.settings.escrow_days * _DAY,
                conditions=conditions,
                memo="delivery",
            )
        except DcepError as error:
            self.rejections[error.reason] += 1
            return
        order.pending_id = receipt.instruction_id
        # Lost parcels: the shop tries a day later, without the courier's word.
        hours = (
            24
            if order.outcome == "lost"
            else self.rng.randint(4, self.settings.escrow_days * 24 - 4)
        )
        at = now + hours * _HOUR
        self.later[offset + (at - self._midnight(offset)) // _DAY].append((at, _RESOLVE, number))

    def _resolve(self, order: _Order) -> None:
        shop, buyer = self.wallets[order.merchant], self.wallets[order.buyer].address
        pending, amount = order.pending_id, order.amount
        if order.outcome == "cancelled":
            self._submit("escrow", lambda: shop.void(buyer, pending))
        elif order.outcome == "lost":
            self._submit("escrow", lambda: shop.post(buyer, pending))  # refused: not confirmed
        elif order.locker_code:
            code = order.locker_code  # the buyer opened the locker with it
            self._submit("escrow", lambda: shop.post(buyer, pending, preimage=code))
        else:
            if order.outcome == "partial":
                amount = amount * self.rng.randint(40, 90) // 100
            courier = self.wallets[order.courier]
            delivered = courier.approve_release(buyer, pending, Amount(amount))
            self._submit(
                "escrow",
                lambda: shop.post(buyer, pending, Amount(amount), approvals=(delivered,)),
            )
        self.touched[order.merchant] = None

    def _campaign(self, offset: int) -> None:
        settings, rng = self.settings, self.rng
        winners = rng.sample(self.residents, len(self.residents) * settings.voucher_percent // 100)
        budget = len(winners) * settings.voucher_fen
        room = self._room(self.city)
        if budget > room:
            self._fund(self.city, budget - room)
        city = self.wallets[self.city]
        expiry_offset = offset + settings.voucher_days
        expires_at_us = self._midnight(expiry_offset)
        for holder in winners:
            wallet = self.wallets[holder]
            try:
                receipt = city.issue_voucher(
                    wallet,
                    Amount(settings.voucher_fen),
                    expires_at_us=expires_at_us,
                    regions=settings.voucher_regions,
                    memo="stimulus",
                )
            except DcepError as error:
                self.rejections[error.reason] += 1
                continue
            self._plan_spends(holder, receipt.instruction_id, offset, expiry_offset)

    def _plan_spends(self, holder: int, voucher_id: int, first: int, expiry: int) -> None:
        settings, rng = self.settings, self.rng
        parts = 0 if rng.randrange(100) < 12 else rng.randint(1, 4)
        use = 100 if rng.randrange(100) < 45 else rng.randint(40, 95)
        total = settings.voucher_fen * use // 100
        cuts = sorted(rng.randint(0, total) for _ in range(parts - 1)) if parts else []
        amounts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)] if parts else []
        for amount in amounts:
            merchant = rng.choice(self.eligible) if self.eligible else -1
            if self.ineligible and rng.randrange(100) < settings.misuse_percent:
                merchant = rng.choice(self.ineligible)  # refused: not where the voucher is for
            if merchant >= 0 and amount > 0:
                self._schedule_spend(holder, voucher_id, merchant, amount, first + 1, expiry)
        if (
            (use < 100 or not parts)
            and rng.randrange(100) < settings.late_percent
            and self.eligible
        ):
            # Too late: the remainder is the city's again.
            merchant = rng.choice(self.eligible)
            self._schedule_spend(holder, voucher_id, merchant, _YUAN, expiry, settings.days)

    def _schedule_spend(
        self, holder: int, voucher_id: int, merchant: int, amount: int, first: int, end: int
    ) -> None:
        offset = self.rng.randrange(first, end)
        self.spends.append(_Spend(holder, voucher_id, merchant, amount))
        self.later[offset].append((self._at(offset, _DAY_HOURS), _SPEND, len(self.spends) - 1))

    def _spend(self, spend: _Spend) -> None:
        city = self.wallets[self.city].address
        left = self.ledger.voucher(city, spend.voucher_id)
        amount = spend.amount if left is None else min(spend.amount, left.amount.fen)
        if amount < 1:
            return
        holder, shop = self.wallets[spend.holder], self.wallets[spend.merchant].address
        self.touched[spend.merchant] = None
        self._submit(
            "voucher",
            lambda: holder.spend_voucher(city, spend.voucher_id, shop, Amount(amount)),
        )

    def _payroll(self) -> None:
        rng = self.rng
        if not self.staff:
            return
        salaries = [rng.randint(600, 1_400) * _YUAN for _ in self.staff]
        info = self.ledger.wallet(self.wallets[self.city].address)
        limit = self._cap(1, "daily_cap") * _PAYROLL_PERCENT // 100 - info.spent_today.fen
        total = sum(salaries)
        if total > limit:
            salaries = [salary * limit // total for salary in salaries]
        salaries = [
            min(salary, self._capacity(member))
            for salary, member in zip(salaries, self.staff, strict=True)
        ]
        room = self._room(self.city)
        if sum(salaries) > room:
            self._fund(self.city, sum(salaries) - room)
        city = self.wallets[self.city]
        batch = city.linked()
        batch.add(
            *(
                city.sign_payment(self.wallets[member], Amount(salary), memo=SALARY)
                for salary, member in zip(salaries, self.staff, strict=True)
                if salary > 0
            )
        )
        self._submit("payroll", batch.submit)

    def _subsidy(self) -> None:
        amount = self.rides_this_week * self.settings.fare_subsidy_fen
        if self._pay(self.city, self.transport, amount, SUBSIDY):
            self.rides_this_week = 0

    def _checkpoint(self) -> None:
        touched, self.touched = self.touched, {}
        for index in touched:
            role = self.roles[self.wallets[index].address]
            if role is CityRole.RESIDENT:
                info = self.ledger.wallet(self.wallets[index].address)
                spendable = info.balance.fen - info.reserved.fen
                if spendable * 3 < self.target[index]:
                    self._fund(index, self.target[index] - spendable)
            elif role in (CityRole.MERCHANT, CityRole.TRANSPORT) and (
                self._room(index) >= _SWEEP_AT
            ):
                self._sweep(index, keep_fen=_TILL)
        if self._room(self.city) < _CITY_FLOAT:
            self._fund(self.city, 2 * _CITY_FLOAT - self._room(self.city))

    # -- the report ----------------------------------------------------------------

    def _report(self, supply: SupplyReport) -> CityReport:
        return self.tally.report(
            self.ledger,
            self.view,
            city=self.wallets[self.city].address,
            holders={address: role.value for address, role in self.roles.items()},
            groups=[role.value for role in CityRole],
            districts=self.districts,
            district_names=[name for name, _, _ in (*DISTRICTS, OUTSIDE)],
            supply=supply,
            rejections=self.rejections,
            voucher_refusals=self.voucher_refusals,
            skipped=self.skipped,
        )
