"""The rules a ledger runs under: wallet categories, caps, reserves, time zone.

Everything that differs between operators, dates or research scenarios lives
here, in one frozen :class:`Policy`, so that a new rule is a new field rather
than an edit to the ledger.  Defaults follow the public figures collected in
``docs/FACTS.md`` (China Construction Bank's terms of 2020 for the four
wallet categories; 100% reserves, as in the 2021 design).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from typing import Final, final

import attrs

from dcep.errors import DcepError, InvalidFieldError, Reason
from dcep.values._clock import MICROSECONDS_PER_DAY
from dcep.values._codes import InstitutionCode
from dcep.values._money import Amount, cny

__all__ = [
    "CategoryLimits",
    "KycField",
    "Policy",
    "ReserveMode",
    "WalletCategory",
    "year_of_day",
]


@enum.unique
class WalletCategory(enum.IntEnum):
    """The four e-CNY wallet categories, from most to least identified."""

    #: In person: ID, phone and the holder's own bank account.
    IN_PERSON = 1
    #: Remote: ID, phone and a bank account.
    REMOTE_WITH_ACCOUNT = 2
    #: Remote: ID and phone, no bank account.
    REMOTE_NO_ACCOUNT = 3
    #: Phone number only, the "anonymous" wallet.
    ANONYMOUS = 4

    @classmethod
    def of(cls, value: int) -> WalletCategory:
        """Accept ``1``..``4`` or a member; refuse anything else by name."""
        try:
            if type(value) is not int and not isinstance(value, WalletCategory):
                # Not 1.0 or True, which the enum would take for 1.
                raise ValueError(value)
            return cls(value)
        except ValueError:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"wallet category must be 1, 2, 3 or 4, not {value!r}",
                field="category",
            ) from None


@enum.unique
class KycField(enum.StrEnum):
    """What an operator must have seen before opening a wallet of a category."""

    PHONE = "phone"
    ID_NUMBER = "id_number"
    LINKED_ACCOUNT = "linked_account"
    IN_PERSON = "in_person"


@enum.unique
class ReserveMode(enum.StrEnum):
    """How issuance is backed: the 2021 design or the reform of 1 January 2026.

    See ``docs/concepts/reserves.md`` for the invariants of each mode.
    """

    #: 2021: each fen issued to an operator is a fen less in its reserves.
    FULL = "full"
    #: 2026: e-CNY in a bank's wallets is a deposit liability of the bank,
    #: backed by reserves at :attr:`Policy.reserve_ratio_bp` (rounded up to
    #: the fen); a non-bank payment institution
    #: (:attr:`Policy.payment_institutions`) still backs every fen.
    DEPOSIT = "deposit"


def _check_cap(
    _instance: object, attribute: attrs.Attribute[Amount | None], value: Amount | None
) -> None:
    if value is not None and not isinstance(value, Amount):
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"{attribute.name} must be an Amount or None (no cap), not {value!r}",
            field=attribute.name,
        )


def _check_flag(_instance: object, attribute: attrs.Attribute[bool], value: bool) -> None:
    if type(value) is not bool:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"{attribute.name} is True or False, not {value!r}",
            field=attribute.name,
        )


def _to_kyc_set(value: Iterable[KycField]) -> frozenset[KycField]:
    return frozenset(KycField(field) for field in value)


@final
@attrs.frozen
class CategoryLimits:
    """The four caps of one wallet category; ``None`` means no cap.

    Payments out of a wallet count toward the single-payment, daily and
    annual caps; the balance cap bounds what a wallet may hold after any
    funding or incoming payment.  Defunding to one's own bank account is not
    a payment and counts toward none of them.

    ``waterfall`` (the digital euro's term): a payment that would take a
    wallet of this category over its balance cap settles, and the excess
    goes on to the wallet's linked deposit account.  ``reverse_waterfall``:
    a payment larger than the payer's balance is topped up from its linked
    deposit account.  Both are off by default, so a payment is refused as
    before; without a linked account it is refused either way.  The sweep
    and the top-up are a defund and a fund of the holder's own: they count
    toward none of the caps, and the payer's caps count the whole payment.
    """

    balance_cap: Amount | None = attrs.field(validator=_check_cap)
    single_payment_cap: Amount | None = attrs.field(validator=_check_cap)
    daily_cap: Amount | None = attrs.field(validator=_check_cap)
    annual_cap: Amount | None = attrs.field(validator=_check_cap)
    required_kyc: frozenset[KycField] = attrs.field(factory=frozenset, converter=_to_kyc_set)
    waterfall: bool = attrs.field(default=False, validator=_check_flag, kw_only=True)
    reverse_waterfall: bool = attrs.field(default=False, validator=_check_flag, kw_only=True)

    @property
    def requires_linked_account(self) -> bool:
        """Whether a wallet of this category must name a deposit account."""
        return KycField.LINKED_ACCOUNT in self.required_kyc


_CCB_2020: Final = {
    WalletCategory.IN_PERSON: CategoryLimits(
        cny("500000"),
        cny("50000"),
        cny("100000"),
        cny("500000"),
        frozenset(KycField),
    ),
    WalletCategory.REMOTE_WITH_ACCOUNT: CategoryLimits(
        cny("10000"),
        cny("5000"),
        cny("10000"),
        cny("300000"),
        [KycField.PHONE, KycField.ID_NUMBER, KycField.LINKED_ACCOUNT],
    ),
    WalletCategory.REMOTE_NO_ACCOUNT: CategoryLimits(
        cny("2000"),
        cny("2000"),
        cny("2000"),
        cny("50000"),
        [KycField.PHONE, KycField.ID_NUMBER],
    ),
    WalletCategory.ANONYMOUS: CategoryLimits(
        cny("1000"),
        cny("500"),
        cny("1000"),
        cny("10000"),
        [KycField.PHONE],
    ),
}

#: Corporate wallets' caps.  No public figure exists (an operator agrees them
#: with each business); these are dcep's own, documented in
#: ``docs/concepts/wallet-categories.md``: a payment of ¥2,000,000 is the PBOC's
#: large-value reporting line for non-natural persons, so the single-payment
#: cap sits there, and the annual cap is left open, as for a business account.
_CORPORATE_DEFAULT: Final = CategoryLimits(
    cny("10000000"),
    cny("2000000"),
    cny("5000000"),
    None,
    [KycField.PHONE, KycField.ID_NUMBER, KycField.LINKED_ACCOUNT],
)

#: Beijing time, in which e-CNY's "daily" and "annual" caps are reckoned.
BEIJING_UTC_OFFSET_MINUTES: Final = 8 * 60


def _check_categories(
    _instance: object, _attribute: object, value: Mapping[WalletCategory, CategoryLimits]
) -> None:
    missing = set(WalletCategory) - set(value)
    if missing:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"the policy has no limits for categories {sorted(int(c) for c in missing)}",
            field="categories",
        )


def _freeze_categories(
    value: Mapping[WalletCategory, CategoryLimits] | Mapping[int, CategoryLimits],
) -> Mapping[WalletCategory, CategoryLimits]:
    # A mappingproxy would not hash; a sorted tuple-backed dict copy keeps the
    # policy immutable in practice and deterministic in iteration order.
    if not isinstance(value, Mapping):
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"the categories are a mapping of category to limits, not {value!r}",
            field="categories",
        )
    pairs = sorted((WalletCategory.of(key), limits) for key, limits in value.items())
    for _, limits in pairs:
        if not isinstance(limits, CategoryLimits):
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"a category's limits are CategoryLimits, not {limits!r}",
                field="categories",
            )
    return dict(pairs)


def _check_corporate(_instance: object, _attribute: object, value: CategoryLimits) -> None:
    if not isinstance(value, CategoryLimits):
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"corporate wallets' limits are CategoryLimits, not {value!r}",
            field="corporate",
        )


def _check_window(_instance: object, _attribute: object, value: int) -> None:
    if type(value) is not int or value < 1:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"the idempotency window is a whole number of entries, at least 1, not {value!r}",
            field="idempotency_window",
        )


_MINUTES_PER_DAY: Final = 24 * 60


def _check_utc_offset(_instance: object, _attribute: object, value: int) -> None:
    # Every zone in use is within a day of UTC; a wider offset would move
    # payments' days out of the calendar.
    if type(value) is not int or not -_MINUTES_PER_DAY < value < _MINUTES_PER_DAY:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"the UTC offset is a whole number of minutes within a day, not {value!r}",
            field="utc_offset_minutes",
        )


def _check_reserve_mode(_instance: object, _attribute: object, value: ReserveMode) -> None:
    if not isinstance(value, ReserveMode):
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"the reserve mode is a ReserveMode, not {value!r}",
            field="reserve_mode",
        )


#: Latest accepted instructions a resubmission gets its first receipt for.
DEFAULT_IDEMPOTENCY_WINDOW: Final = 100_000
#: Basis points in a whole: a ratio of 10,000 bp is 100%.
BASIS_POINTS: Final = 10_000


def _check_basis_points(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or not 0 <= value <= BASIS_POINTS:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"{attribute.name} is a whole number of basis points from 0 to 10000, not {value!r}",
            field=attribute.name,
        )


def _check_positive_amount(
    _instance: object, attribute: attrs.Attribute[Amount], value: object
) -> None:
    if not isinstance(value, Amount) or not value.fen:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"{attribute.name} must be a positive Amount, not {value!r}",
            field=attribute.name,
        )


def _check_offline_count(_instance: object, _attribute: object, value: int) -> None:
    if type(value) is not int or not 1 <= value <= 1_000_000:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"offline_payment_count is an int from 1 to 1,000,000, not {value!r}",
            field="offline_payment_count",
        )


def _to_code_set(value: Iterable[InstitutionCode | str]) -> frozenset[InstitutionCode]:
    if isinstance(value, str):
        value = [value]  # one code, not its characters
    try:
        return frozenset(
            code if isinstance(code, InstitutionCode) else InstitutionCode.parse(code)
            for code in value
        )
    except (DcepError, TypeError):
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"payment institutions are institution codes, not {value!r}",
            field="payment_institutions",
        ) from None


#: The offline caps' defaults, in fen and payments: ¥500 a payment, 10, ¥1,000 loaded.
_OFFLINE_DEFAULTS: Final = (50_000, 10, 100_000)


@final
@attrs.frozen
class Policy:
    """Everything configurable about a ledger, fixed for its lifetime.

    >>> Policy().limits(4).single_payment_cap
    Amount(fen=50000)

    Offline payments from a hardware wallet are capped at
    ``offline_payment_cap`` each and ``offline_payment_count`` between two
    loads, from an allowance of at most ``offline_total_cap`` (the defaults
    are e-CNY's tap-to-pay: ¥500, 10 payments, ¥1,000).

    In :attr:`ReserveMode.DEPOSIT` (2026) a bank backs the e-CNY it was
    issued with reserves at ``reserve_ratio_bp`` and its wallets may earn
    interest at ``interest_rate_bp`` a year; the operators whose codes are in
    ``payment_institutions`` are non-bank payment institutions, which back
    every fen in either mode.  In :attr:`ReserveMode.FULL` (2021) the ratio
    is 100% and there is no interest: a policy that says otherwise is
    refused, so that a setting is never silently ignored.
    """

    categories: Mapping[WalletCategory, CategoryLimits] = attrs.field(
        factory=lambda: dict(_CCB_2020),
        converter=_freeze_categories,
        validator=_check_categories,
        hash=False,
    )
    reserve_mode: ReserveMode = attrs.field(
        default=ReserveMode.FULL, validator=_check_reserve_mode
    )
    utc_offset_minutes: int = attrs.field(
        default=BEIJING_UTC_OFFSET_MINUTES, validator=_check_utc_offset
    )
    #: How many of the latest accepted instructions the ledger remembers by
    #: (signer, id), so that a resubmission gets its first receipt back.  An
    #: older one is refused by the signer's sequence number instead
    #: (``SEQUENCE_REPLAYED``): still never applied twice, and memory stays
    #: bounded however long the history.
    idempotency_window: int = attrs.field(
        default=DEFAULT_IDEMPOTENCY_WINDOW, validator=_check_window
    )
    #: 2026 mode: reserves a bank holds per fen it was issued, in basis points
    #: (``docs/FACTS.md`` gives no figure: set the one you study).
    reserve_ratio_bp: int = attrs.field(
        default=BASIS_POINTS, validator=_check_basis_points, kw_only=True
    )
    #: 2026 mode: the yearly interest on a bank wallet's balance, in basis points.
    interest_rate_bp: int = attrs.field(default=0, validator=_check_basis_points, kw_only=True)
    #: Operators that are non-bank payment institutions: 100% reserves in every mode.
    payment_institutions: frozenset[InstitutionCode] = attrs.field(
        factory=frozenset, converter=_to_code_set, kw_only=True
    )
    #: Offline payments (e-CNY's tap-to-pay, 2023): at most this much a payment,
    #: this many payments and this much loaded on a hardware wallet at once.
    offline_payment_cap: Amount = attrs.field(
        factory=lambda: Amount(50_000), validator=_check_positive_amount, kw_only=True
    )
    offline_payment_count: int = attrs.field(
        default=10, validator=_check_offline_count, kw_only=True
    )
    offline_total_cap: Amount = attrs.field(
        factory=lambda: Amount(100_000), validator=_check_positive_amount, kw_only=True
    )
    #: The caps, KYC and waterfall of corporate wallets, which a business owns:
    #: a dimension of their own, beside the four personal categories.
    corporate: CategoryLimits = attrs.field(
        default=_CORPORATE_DEFAULT, validator=_check_corporate, kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        if self.reserve_mode is ReserveMode.FULL and (
            self.reserve_ratio_bp != BASIS_POINTS or self.interest_rate_bp
        ):
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                "the 2021 reserve mode backs every fen and pays no interest: "
                "a reserve ratio or interest rate needs reserve_mode=ReserveMode.DEPOSIT",
                field="reserve_mode",
            )

    def is_payment_institution(self, code: InstitutionCode) -> bool:
        """Whether the operator with ``code`` is a non-bank payment institution."""
        return code in self.payment_institutions

    def reserves_required_fen(self, code: InstitutionCode, outstanding_fen: int) -> int:
        """Reserves an operator must hold against ``outstanding_fen`` of e-CNY it was issued.

        All of it in the 2021 mode and for a payment institution; else the
        ratio of it, rounded up to the fen (a bank never holds less than the
        ratio says).
        """
        if self.reserve_mode is ReserveMode.FULL or code in self.payment_institutions:
            return outstanding_fen
        return -(-outstanding_fen * self.reserve_ratio_bp // BASIS_POINTS)

    def limits(self, category: int) -> CategoryLimits:
        """The caps of ``category`` (``1``..``4``)."""
        return self.categories[WalletCategory.of(category)]

    def with_limits(self, category: int, limits: CategoryLimits) -> Policy:
        """A copy of this policy with one category's caps replaced."""
        categories = dict(self.categories)
        categories[WalletCategory.of(category)] = limits
        return attrs.evolve(self, categories=categories)

    def to_text(self) -> str:
        """One line that :meth:`from_text` reads back: how a database records its policy.

        ``policy/2 reserve=full utc=480 ids=100000 1=cap,cap,cap,cap,kyc|kyc ...``
        with caps in fen (``-`` for none), then only the settings that differ
        from their defaults (``waterfall=1|2``, ``reverse_waterfall=2``,
        ``ratio=700``, ``interest=150``, ``pi=CODE|CODE``,
        ``offline=cap,count,total``, corporate wallets' limits
        ``corporate=cap,cap,cap,cap,kyc`` with ``c`` in the waterfall lists),
        so that a policy without them reads as it always did.
        """
        parts = [
            f"policy/{_POLICY_TEXT_VERSION}",
            f"reserve={self.reserve_mode.value}",
            f"utc={self.utc_offset_minutes}",
            f"ids={self.idempotency_window}",
        ]
        for category, limits in self.categories.items():
            parts.append(f"{int(category)}={_limits_text(limits)}")
        for name in ("waterfall", "reverse_waterfall"):
            on = [str(int(c)) for c, limits in self.categories.items() if getattr(limits, name)]
            if getattr(self.corporate, name):
                on.append(_CORPORATE_TOKEN)
            if on:
                parts.append(f"{name}={'|'.join(on)}")
        if self.reserve_ratio_bp != BASIS_POINTS:
            parts.append(f"ratio={self.reserve_ratio_bp}")
        if self.interest_rate_bp:
            parts.append(f"interest={self.interest_rate_bp}")
        if self.payment_institutions:
            parts.append(f"pi={'|'.join(sorted(map(str, self.payment_institutions)))}")
        offline = (
            self.offline_payment_cap.fen,
            self.offline_payment_count,
            self.offline_total_cap.fen,
        )
        if offline != _OFFLINE_DEFAULTS:
            parts.append(f"offline={','.join(map(str, offline))}")
        corporate = self.corporate
        if attrs.evolve(corporate, waterfall=False, reverse_waterfall=False) != _CORPORATE_DEFAULT:
            parts.append(f"corporate={_limits_text(corporate)}")
        return " ".join(parts)

    @classmethod
    def from_text(cls, text: str) -> Policy:
        """Read what :meth:`to_text` wrote; ``FIELD_INVALID`` for anything else."""
        if not isinstance(text, str):
            raise InvalidFieldError(
                Reason.FIELD_INVALID, f"a policy line is text, not {text!r}", field="policy"
            )
        try:
            head, reserve, utc, window, *categories = text.split(" ")
            if head != f"policy/{_POLICY_TEXT_VERSION}":
                raise ValueError(head)
            limits: dict[WalletCategory, CategoryLimits] = {}
            options: dict[str, str] = {}
            for item in categories:
                number, values = item.split("=")
                if not number.isdigit():
                    options[number] = values
                    continue
                limits[WalletCategory.of(int(number))] = _limits_from_text(values)
            corporate_text = options.pop("corporate", None)
            corporate = (
                _CORPORATE_DEFAULT if corporate_text is None else _limits_from_text(corporate_text)
            )
            for number in filter(None, options.pop("waterfall", "").split("|")):
                if number == _CORPORATE_TOKEN:
                    corporate = attrs.evolve(corporate, waterfall=True)
                    continue
                category = WalletCategory.of(int(number))
                limits[category] = attrs.evolve(limits[category], waterfall=True)
            for number in filter(None, options.pop("reverse_waterfall", "").split("|")):
                if number == _CORPORATE_TOKEN:
                    corporate = attrs.evolve(corporate, reverse_waterfall=True)
                    continue
                category = WalletCategory.of(int(number))
                limits[category] = attrs.evolve(limits[category], reverse_waterfall=True)
            ratio, interest = options.pop("ratio", None), options.pop("interest", None)
            codes = options.pop("pi", "")
            cap, count, total = (
                int(n)
                for n in options.pop("offline", ",".join(map(str, _OFFLINE_DEFAULTS))).split(",")
            )
            if options:
                raise ValueError(f"unknown settings {sorted(options)}")
            return cls(
                categories=limits,
                reserve_mode=ReserveMode(reserve.removeprefix("reserve=")),
                utc_offset_minutes=int(utc.removeprefix("utc=")),
                idempotency_window=int(window.removeprefix("ids=")),
                reserve_ratio_bp=BASIS_POINTS if ratio is None else int(ratio),
                interest_rate_bp=0 if interest is None else int(interest),
                payment_institutions=[code for code in codes.split("|") if code],
                offline_payment_cap=Amount(cap),
                offline_payment_count=count,
                offline_total_cap=Amount(total),
                corporate=corporate,
            )
        except (ValueError, TypeError, KeyError) as error:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, f"not a policy line: {text[:60]!r} ({error})", field="policy"
            ) from None

    def calendar_day(self, now_us: int) -> int:
        """The local day number of ``now_us``: the key of the daily cap."""
        return (now_us + self.utc_offset_minutes * 60_000_000) // MICROSECONDS_PER_DAY

    def calendar_year(self, day: int) -> int:
        """The local calendar year of a day number from :meth:`calendar_day`."""
        return year_of_day(day)


def _limits_text(limits: CategoryLimits) -> str:
    caps = (limits.balance_cap, limits.single_payment_cap, limits.daily_cap, limits.annual_cap)
    fields = [str(cap.fen) if cap is not None else "-" for cap in caps]
    fields.append("|".join(sorted(field.value for field in limits.required_kyc)))
    return ",".join(fields)


def _limits_from_text(values: str) -> CategoryLimits:
    *caps, kyc = values.split(",")
    balance, single, daily, annual = (None if cap == "-" else Amount(int(cap)) for cap in caps)
    required = [KycField(field) for field in kyc.split("|") if field]
    return CategoryLimits(balance, single, daily, annual, required)


#: How the waterfall lists name corporate wallets beside the category numbers.
_CORPORATE_TOKEN: Final = "c"

#: Days from 0000-03-01 to 1970-01-01, and days in 400 Gregorian years.
_DAYS_FROM_0000_03_01: Final = 719_468
_DAYS_PER_ERA: Final = 146_097
_POLICY_TEXT_VERSION: Final = 2


@functools.lru_cache(maxsize=64)
def year_of_day(day: int) -> int:
    """The calendar year of a local day number (days since 1970-01-01).

    It does not depend on the time zone: the zone only decides which day
    number a moment falls on.  Cached, because every payment asks.
    """
    # The proleptic Gregorian calendar in whole numbers (``datetime`` stops at
    # year 9999; the journal's times go to year 294,000).  Counted from
    # 1 March 0000, so that a leap day ends its year: 146,097 days a 400-year
    # era, then the year of the era, then the month, as in Hinnant's
    # ``civil_from_days``.
    era, day_of_era = divmod(day + _DAYS_FROM_0000_03_01, _DAYS_PER_ERA)
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    # Months from March: 10 and 11 are January and February of the next year.
    month_from_march = (5 * day_of_year + 2) // 153
    return era * 400 + year_of_era + (1 if month_from_march >= 10 else 0)
