"""The regulator's daily report per bank: volumes, counts, alerts, supervision.

:func:`daily_report` gives one :class:`BankDayReport` per bank for a local
(Beijing) day: wallets opened; volume and count of issuance, redemption,
funding, defunding and its wallets' transfers out and in; alerts by rule
(by the subject wallet's operator) and the large-value reports themselves;
and the freezes of its wallets ordered that day and the warrants it
answered that day.  As data (``to_dict``) and as printable text.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Final, final

import attrs

from dcep.instructions._kinds import InstructionKind
from dcep.regulator._alerts import Alert, AmlRule
from dcep.regulator._aml import (
    BEIJING_UTC_OFFSET_MINUTES,
    LargeValueRule,
    day_start_us,
    default_rules,
)
from dcep.regulator._records import FundsFlow, PartyRole
from dcep.regulator._screening import screen
from dcep.regulator._typologies import DAY_US
from dcep.regulator._view import RegulatorView
from dcep.values._crypto import Address

__all__ = ["BankDayReport", "DailyReport", "daily_report"]


def _yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


@final
@attrs.frozen
class BankDayReport:
    """One bank's day: volumes (fen) and counts, alerts by rule, large-value reports.

    ``freezes_ordered`` counts the freeze orders that day on wallets the bank
    operates; ``warrants_answered``, the disclosures the bank made that day.
    """

    bank: Address
    code: str
    day: dt.date
    wallets_opened: int
    freezes_ordered: int
    warrants_answered: int
    volumes_fen: tuple[tuple[str, int], ...]
    counts: tuple[tuple[str, int], ...]
    alerts_by_rule: tuple[tuple[str, int], ...]
    large_value: tuple[Alert, ...]

    def to_dict(self) -> dict[str, object]:
        """The report as plain data."""
        return {
            "bank": str(self.bank),
            "code": self.code,
            "day": self.day.isoformat(),
            "wallets_opened": self.wallets_opened,
            "freezes_ordered": self.freezes_ordered,
            "warrants_answered": self.warrants_answered,
            "volumes_fen": dict(self.volumes_fen),
            "counts": dict(self.counts),
            "alerts_by_rule": dict(self.alerts_by_rule),
            "large_value": [alert.to_dict() for alert in self.large_value],
        }


@final
@attrs.frozen
class DailyReport:
    """The regulator's daily report: one :class:`BankDayReport` per bank."""

    day: dt.date
    banks: tuple[BankDayReport, ...]

    def to_dict(self) -> dict[str, object]:
        """The report as plain data."""
        return {"day": self.day.isoformat(), "banks": [bank.to_dict() for bank in self.banks]}

    def to_text(self) -> str:
        """The report as printable text, one block per bank."""
        lines = [f"Daily report {self.day.isoformat()}"]
        for bank in self.banks:
            lines.append(f"\n{bank.code}  ({bank.bank})  wallets opened: {bank.wallets_opened}")
            for (flow, fen), (_, count) in zip(bank.volumes_fen, bank.counts, strict=True):
                lines.append(f"  {flow:<14}{count:>8}  {_yuan(fen):>20}")
            rules = ", ".join(f"{rule} {count}" for rule, count in bank.alerts_by_rule)
            lines.append(f"  alerts: {rules or 'none'}")
            lines.append(
                f"  freezes ordered: {bank.freezes_ordered}  "
                f"warrants answered: {bank.warrants_answered}"
            )
            for alert in bank.large_value:
                total = _yuan(alert.total_fen)
                lines.append(f"  {alert.rule} {alert.subject} {alert.detail} {total}")
        return "\n".join(lines) + "\n"


_VOLUMES: Final = ("issued", "redeemed", "funded", "defunded", "transfers out", "transfers in")


def daily_report(
    view: RegulatorView,
    day: dt.date,
    *,
    rules: Iterable[AmlRule] | None = None,
    utc_offset_minutes: int = BEIJING_UTC_OFFSET_MINUTES,
) -> DailyReport:
    """Each bank's volumes, counts, alerts and supervision on local ``day``.

    Alerts count for the subject wallet's operator, freezes for the frozen
    wallet's operator, answered warrants for the bank that answered.
    """
    start = day_start_us(day, utc_offset_minutes)
    end = start + DAY_US
    chosen = default_rules() if rules is None else tuple(rules)
    alerts = screen(view, chosen, start_us=start, end_us=end)
    large = {rule.rule_id for rule in chosen if isinstance(rule, LargeValueRule)}
    freezes = collections.Counter(f.operator for f in view.freezes(start, end))
    answers = collections.Counter(w.operator for w in view.disclosures(start, end))
    reports = []
    for bank in view.banks():
        fen = dict.fromkeys(_VOLUMES, 0)
        count = dict.fromkeys(_VOLUMES, 0)
        for flow in view.bank_flows(bank.address, start, end):
            for name in _sides(view, flow, bank.address):
                fen[name] += flow.amount_fen
                count[name] += 1
        mine = [a for a in alerts if view.wallet(a.subject).operator == bank.address]
        by_rule = collections.Counter(a.rule for a in mine)
        opened = sum(
            1
            for w in view.wallets()
            if w.operator == bank.address and start <= w.opened_at_us < end
        )
        reports.append(
            BankDayReport(
                bank=bank.address,
                code=str(bank.code),
                day=day,
                wallets_opened=opened,
                freezes_ordered=freezes[bank.address],
                warrants_answered=answers[bank.address],
                volumes_fen=tuple(fen.items()),
                counts=tuple(count.items()),
                alerts_by_rule=tuple(sorted(by_rule.items())),
                large_value=tuple(a for a in mine if a.rule in large),
            )
        )
    return DailyReport(day, tuple(reports))


def _sides(view: RegulatorView, flow: FundsFlow, bank: Address) -> Iterator[str]:
    named = {
        InstructionKind.ISSUE: "issued",
        InstructionKind.REDEEM: "redeemed",
        InstructionKind.FUND: "funded",
    }
    if flow.kind in named:
        yield named[flow.kind]
    elif flow.kind is InstructionKind.DEFUND:
        yield "defunded"
    else:
        if view.role(flow.payer) is PartyRole.WALLET and view.wallet(flow.payer).operator == bank:
            yield "transfers out"
        if view.role(flow.payee) is PartyRole.WALLET and view.wallet(flow.payee).operator == bank:
            yield "transfers in"
