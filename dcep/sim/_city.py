"""The smart city (issue 25, part 5): what to simulate and what a run returns.

Innova City runs a month on programmable money: residents pay transport
fares and shop, the city pays green-waste rewards, a fare subsidy and its
staff's payroll (a linked batch), runs a stimulus voucher campaign that can
be spent only at merchants of some districts before an expiry, and residents
order deliveries paid in escrow (two-phase payments released by the
courier's signature or a parcel locker's code).  :class:`CitySettings` says
how much of each; :func:`~dcep.sim.simulate_city` (in ``_city_run``) runs it
and returns a :class:`CityResult` with its :class:`~dcep.sim.CityReport`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Final, final

import attrs

from dcep.errors import InvalidFieldError, Reason
from dcep.ledger import Ledger
from dcep.parties import Bank, CentralBank, Wallet
from dcep.regulator import ProgrammableView
from dcep.sim._city_report import CityReport
from dcep.values import Address, InstitutionCode, cny

__all__ = ["DISTRICTS", "OUTSIDE", "CityResult", "CityRole", "CitySettings"]

#: (district, its bank, the bank's institution code): a region each (``MA.156.37xx``).
DISTRICTS: Final = (
    ("Old Town", "Bank of Innova City", "MA.156.3701.01"),
    ("Riverside", "Riverside Rural Commercial Bank", "MA.156.3702.01"),
    ("Tech Park", "Tech Park Bank", "MA.156.3703.01"),
    ("Harbour", "Harbour Bank", "MA.156.3704.01"),
)
#: The bank outside the city where online shops and some residents bank.
OUTSIDE: Final = ("Outside", "Industrial and Commercial Bank of China", "MA.156.1100.01")
#: What a campaign may set aside in the treasury wallet: its category-1 balance cap
#: (¥500,000 by default) less the float of up to ¥100,000 it keeps for payments.
_CITY_HOLDING_LIMIT: Final = cny("400000").fen


def _whole(
    least: int, most: int | None = None
) -> Callable[[object, attrs.Attribute[int], int], None]:
    def check(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if type(value) is not int or value < least or (most is not None and value > most):
            bound = f"from {least} to {most}" if most is not None else f"at least {least}"
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"{attribute.name} is a whole number {bound}, not {value!r}",
                field=attribute.name,
            )

    return check


def _regions(value: object) -> tuple[InstitutionCode, ...]:
    if isinstance(value, str | InstitutionCode):
        value = (value,)
    if not isinstance(value, list | tuple) or not value:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"voucher_regions is a non-empty sequence of institution codes, not {value!r}",
            field="voucher_regions",
        )
    return tuple(
        code if isinstance(code, InstitutionCode) else InstitutionCode.parse(str(code))
        for code in value
    )


@final
@attrs.frozen
class CitySettings:
    """What to simulate in Innova City over ``days`` days, under a seed.

    Counts (``rides``, ``purchases``, ``drop_offs``, ``deliveries``) are what
    residents attempt; one that does not fit a wallet's balance or caps is
    skipped and counted, never forced.  The campaign gives
    ``voucher_percent`` of residents a voucher of ``voucher_fen`` on day
    ``campaign_day``, spendable only at merchants banking in
    ``voucher_regions`` for ``voucher_days`` days; ``misuse_percent`` of
    spend attempts try another merchant and ``late_percent`` of holders try
    after the expiry (the ledger refuses both).  Of the deliveries,
    ``locker_percent`` are locked by a parcel locker's code (a hash lock), the
    rest by the courier's signature; ``cancelled_percent`` are voided by the
    merchant, ``lost_percent`` never confirmed (they expire after
    ``escrow_days``), ``partial_percent`` posted in part.  Raises
    ``FIELD_INVALID`` for settings that do not fit a month or the city's
    treasury.
    """

    seed: int = attrs.field(default=25, validator=_whole(0))
    residents: int = attrs.field(default=2_000, validator=_whole(20, 100_000))
    days: int = attrs.field(default=30, validator=_whole(10, 366))
    merchants: int = attrs.field(default=60, validator=_whole(10, 10_000))
    couriers: int = attrs.field(default=6, validator=_whole(1, 1_000))
    rides: int = attrs.field(default=10_000, validator=_whole(0))
    purchases: int = attrs.field(default=2_000, validator=_whole(0))
    drop_offs: int = attrs.field(default=2_000, validator=_whole(0))
    deliveries: int = attrs.field(default=500, validator=_whole(0))
    campaign_day: int = attrs.field(default=2, validator=_whole(0))
    voucher_days: int = attrs.field(default=21, validator=_whole(2))
    voucher_percent: int = attrs.field(default=60, validator=_whole(0, 100))
    voucher_fen: int = attrs.field(default=10_000, validator=_whole(1))
    voucher_regions: tuple[InstitutionCode, ...] = attrs.field(
        default=("MA.156.3701", "MA.156.3702", "MA.156.3704"), converter=_regions
    )
    misuse_percent: int = attrs.field(default=3, validator=_whole(0, 100))
    late_percent: int = attrs.field(default=2, validator=_whole(0, 100))
    escrow_days: int = attrs.field(default=4, validator=_whole(1))
    locker_percent: int = attrs.field(default=25, validator=_whole(0, 100))
    cancelled_percent: int = attrs.field(default=6, validator=_whole(0, 100))
    lost_percent: int = attrs.field(default=5, validator=_whole(0, 100))
    partial_percent: int = attrs.field(default=5, validator=_whole(0, 100))
    #: City staff per thousand residents, paid on ``salary_day`` in one linked batch.
    staff_per_mille: int = attrs.field(default=20, validator=_whole(0, 200))
    salary_day: int = attrs.field(default=15, validator=_whole(0))
    #: What the city adds to each fare, paid to the operator weekly.
    fare_subsidy_fen: int = attrs.field(default=50, validator=_whole(0, 10_000))

    def __attrs_post_init__(self) -> None:
        def refuse(field: str, message: str) -> None:
            raise InvalidFieldError(Reason.FIELD_INVALID, message, field=field)

        if self.campaign_day + self.voucher_days > self.days - 2:
            refuse(
                "voucher_days",
                f"the campaign (day {self.campaign_day}, {self.voucher_days} days) must end "
                f"two days before the month's {self.days} days do, so its return is seen",
            )
        if self.escrow_days > self.days - 4:
            refuse("escrow_days", f"escrow of {self.escrow_days} days does not fit {self.days}")
        if self.salary_day >= self.days:
            refuse("salary_day", f"salary day {self.salary_day} is after the last day")
        if (
            self.cancelled_percent + self.lost_percent + self.partial_percent > 100
            or self.misuse_percent + self.late_percent > 100
        ):
            refuse("lost_percent", "the outcome percentages add up to more than 100")
        budget = self.residents * self.voucher_percent // 100 * self.voucher_fen
        if budget > _CITY_HOLDING_LIMIT:
            refuse(
                "voucher_fen",
                f"the campaign needs {budget} fen, more than the treasury wallet may hold "
                f"({_CITY_HOLDING_LIMIT} fen)",
            )


@final
class CityRole(enum.StrEnum):
    """Who a wallet of the city belongs to; known to the simulation, never to the ledger."""

    RESIDENT = "resident"
    MERCHANT = "merchant"
    TRANSPORT = "transport"
    CITY = "city"
    COURIER = "courier"


@final
@attrs.frozen
class CityResult:
    """The ledger after a month in Innova City, the parties that ran it, and the report.

    ``roles`` maps each wallet to its :class:`CityRole`; ``districts`` each
    wallet to its bank's district (``"Outside"`` for the bank outside the
    city); ``merchant_categories`` each merchant to what it sells; ``staff``
    the residents the city employs.  ``programmable`` is the regulator's
    :class:`~dcep.regulator.ProgrammableView`, following the ledger since its
    first entry.
    """

    settings: CitySettings
    ledger: Ledger
    central_bank: CentralBank
    banks: tuple[Bank, ...]
    city: Wallet
    transport: Wallet
    wallets: tuple[Wallet, ...]
    roles: Mapping[Address, CityRole]
    districts: Mapping[Address, str]
    merchant_categories: Mapping[Address, str]
    staff: frozenset[Address]
    programmable: ProgrammableView
    report: CityReport
    start_us: int
    end_us: int
