"""What to simulate, and what a simulation returns: :class:`Economy`, :class:`Role`, results.

The economy is a frozen record of settings (population, days, banks, the
category mix, merchant popularity, salary day, planted cases), checked when
it is built; :func:`~dcep.sim.simulate` (in ``_simulate``) runs it.
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Callable, Mapping
from typing import Final, final

import attrs

from dcep.errors import InvalidFieldError, Reason
from dcep.ledger import Ledger
from dcep.parties import Bank, CentralBank, Wallet
from dcep.sim._cases import Case, Typology
from dcep.values import Address, WalletCategory

__all__ = ["BANKS", "Economy", "Role", "SimulationResult"]

#: (name, institution code, market-share weight) of the banks, in order.
BANKS: Final = (
    ("Industrial and Commercial Bank of China", "MA.156.1100.01", 30),
    ("China Construction Bank", "MA.156.1100.02", 25),
    ("Agricultural Bank of China", "MA.156.1100.03", 20),
    ("Bank of China", "MA.156.1100.04", 15),
    ("Bank of Hebei", "MA.156.1301.01", 6),
    ("Bank of Shanghai", "MA.156.3100.01", 4),
)


def _typologies(value: object) -> tuple[Typology, ...]:
    if isinstance(value, str | Typology):
        value = (value,)
    if not isinstance(value, list | tuple | set | frozenset):
        raise InvalidFieldError(
            Reason.FIELD_INVALID, f"patterns is a sequence of typologies, not {value!r}"
        )
    try:
        chosen = {Typology(item) for item in value}
    except ValueError as error:
        raise InvalidFieldError(Reason.FIELD_INVALID, str(error), field="patterns") from None
    return tuple(typology for typology in Typology if typology in chosen)


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


def _check_weights(_instance: object, _attribute: object, value: tuple[int, ...]) -> None:
    if (
        len(value) != len(WalletCategory)
        or not all(type(weight) is int and weight >= 0 for weight in value)
        or not sum(value)
    ):
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"category_weights is four whole numbers, not all zero, not {value!r}",
            field="category_weights",
        )


def _check_zipf(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, int | float) or not 0 <= value <= 4:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"merchant_zipf is an exponent from 0 to 4, not {value!r}",
            field="merchant_zipf",
        )


@final
@attrs.frozen
class Economy:
    """What to simulate: population, payments, days, banks and planted cases, under a seed.

    ``payments`` counts every transfer attempted: background payments,
    salaries and the planted cases' transfers (a salary with no room left
    under the caps is skipped and reported, not retried).  ``patterns`` are
    the typologies to plant, ``cases_per_pattern`` cases of each;
    ``case_size`` is how many counterparties a fan, scatter or gather case
    has.  The wallets opened for the cases come on top of ``wallets``.
    """

    seed: int = attrs.field(default=7, validator=_whole(0))
    wallets: int = attrs.field(default=5_000, validator=_whole(20))
    payments: int = attrs.field(default=50_000, validator=_whole(0))
    days: int = attrs.field(default=14, validator=_whole(1, 3_650))
    banks: int = attrs.field(default=4, validator=_whole(1, len(BANKS)))
    patterns: tuple[Typology, ...] = attrs.field(default=tuple(Typology), converter=_typologies)
    cases_per_pattern: int = attrs.field(default=2, validator=_whole(0, 1_000))
    case_size: int = attrs.field(default=10, validator=_whole(3, 20))
    #: Percent of wallets in categories 1 .. 4 (``_scenario._CATEGORY_WEIGHTS``'s mix).
    category_weights: tuple[int, ...] = attrs.field(
        default=(5, 25, 20, 50), converter=tuple, validator=_check_weights
    )
    #: Zipf exponent of merchant popularity: the merchant of rank r gets weight r**-s.
    merchant_zipf: float = attrs.field(default=1.2, validator=_check_zipf)
    #: Percent of background payments between people rather than to merchants.
    p2p_percent: int = attrs.field(default=15, validator=_whole(0, 100))
    #: Day of the month on which employers pay salaries.
    salary_day: int = attrs.field(default=10, validator=_whole(1, 28))
    #: Payments signed ahead and submitted together with ``submit_many``.
    batch_size: int = attrs.field(default=1_000, validator=_whole(1))


@final
class Role(enum.StrEnum):
    """What a simulated wallet is for; known to the simulation, never to the ledger."""

    HOUSEHOLD = "household"
    MERCHANT = "merchant"
    EMPLOYER = "employer"
    #: Opened for a planted case (:class:`~dcep.sim.Case`).
    CASE_MEMBER = "case-member"


@final
@attrs.frozen
class SimulationResult:
    """The ledger after a run, the parties that drove it, and the ground truth.

    ``roles`` maps every simulated wallet to its :class:`Role`; ``cases`` are
    the planted cases that produced entries.  ``payments_skipped`` counts
    transfers the plan had no room for (a salary to a full wallet, say);
    ``rejections`` counts refusals by reason, of payments and of the
    fundings and defundings around them.
    """

    economy: Economy
    ledger: Ledger
    central_bank: CentralBank
    banks: tuple[Bank, ...]
    wallets: tuple[Wallet, ...]
    roles: Mapping[Address, Role]
    cases: tuple[Case, ...]
    payments_settled: int
    payments_refused: int
    payments_skipped: int
    rejections: collections.Counter[Reason]
    start_us: int
    end_us: int
