"""Where Innova City's money went: a tally read from the journal's entries alone.

A :class:`CityTally` subscribes to the ledger before its first entry and
reads each accepted entry as any reader of the journal could: the signed
instruction (its kind and memo) and the postings.  So the report is not the
simulation's own bookkeeping: a voucher's return at expiry is a ``VOUCHER``
posting the ledger made with no caller, an escrow's end is the ``RESERVED``
posting that closed it, whichever entry carried it.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from typing import Final, final

import attrs

from dcep.core import AccountKind, LedgerEntry, SupplyReport
from dcep.errors import Reason
from dcep.instructions import (
    IssueVoucher,
    LinkBatch,
    PayPending,
    PostPending,
    SpendVoucher,
    Transfer,
    VoidPending,
)
from dcep.ledger import Ledger
from dcep.regulator import ProgrammableView
from dcep.values import Address

__all__ = [
    "FARE",
    "PURCHASE",
    "REWARD",
    "SALARY",
    "SUBSIDY",
    "CityReport",
    "CityTally",
    "EscrowOutcomes",
    "FlowTotal",
    "VoucherCampaign",
]

#: The memos of the city's ordinary payments: part of the signed instruction.
FARE: Final = "fare"
PURCHASE: Final = "purchase"
REWARD: Final = "green-waste reward"
SUBSIDY: Final = "fare subsidy"
SALARY: Final = "salary"


@final
@attrs.frozen
class FlowTotal:
    """How many payments of one kind the ledger accepted, and the fen they moved."""

    count: int = 0
    fen: int = 0


@final
@attrs.frozen
class VoucherCampaign:
    """The stimulus campaign, from the journal: issued, spent, and returned at expiry.

    ``returned_fen`` is what the ledger gave back to the city at the
    vouchers' expiry (``expired`` vouchers had something left);
    ``spent_by_region`` is the regulator's reading
    (:meth:`~dcep.regulator.ProgrammableView.voucher_spend_by_region`), by
    the merchant's bank's region; ``refused`` counts the spend attempts the
    ledger turned down, by reason (they are in no entry).
    """

    vouchers: int
    issued_fen: int
    spends: int
    spent_fen: int
    expired: int
    returned_fen: int
    outstanding_fen: int
    spent_by_region: Mapping[str, int]
    spent_by_category: Mapping[str, int]
    refused: Mapping[Reason, int]


@final
@attrs.frozen
class EscrowOutcomes:
    """How the escrowed deliveries (two-phase payments) ended, each exactly once.

    A posting releases ``posted_fen`` to merchants and returns
    ``returned_on_post_fen`` (the undelivered part) to buyers; a void or an
    expiry returns all of a payment's amount.  ``outstanding`` counts those
    no entry has closed.
    """

    payments: int
    reserved_fen: int
    posted: int
    posted_fen: int
    returned_on_post_fen: int
    voided: int
    voided_fen: int
    expired: int
    expired_fen: int
    outstanding: int


@final
@attrs.frozen
class CityReport:
    """Where the money ended up after a month in Innova City, and what moved it.

    ``holdings_fen`` is e-CNY by holder at the end (each :class:`CityRole`'s
    wallets, with money set aside, and ``"bank vaults"``): it adds up to the
    supply outstanding, which the ledger's own invariant check
    (``supply``) vouches for.  ``rejections`` counts every refusal by
    reason, on purpose (a voucher at the wrong merchant, after its expiry, a
    delivery posted without its confirmation) or not.
    """

    holdings_fen: Mapping[str, int]
    holdings_by_district_fen: Mapping[str, int]
    fares: FlowTotal
    purchases: FlowTotal
    rewards: FlowTotal
    subsidies: FlowTotal
    payroll: FlowTotal
    payroll_batches: int
    vouchers: VoucherCampaign
    escrow: EscrowOutcomes
    supply: SupplyReport
    rejections: Mapping[Reason, int]
    #: Attempts that did not fit a wallet's balance or caps, by flow (never submitted).
    skipped: Mapping[str, int]


class CityTally:
    """A subscriber that classifies each accepted entry of the city's ledger."""

    def __init__(self, merchant_categories: Mapping[Address, str]) -> None:
        self._categories = merchant_categories
        self.transfers: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
        self.batches = 0
        self.vouchers = 0
        self.issued_fen = 0
        self.spends = 0
        self.spent_fen = 0
        self.spent_by_category: dict[str, int] = collections.defaultdict(int)
        self.expired_vouchers = 0
        self.returned_fen = 0
        self.escrows = 0
        self.reserved_fen = 0
        self.posted = [0, 0, 0]  # count, fen released, fen returned
        self.voided = [0, 0]
        self.expired = [0, 0]
        #: payer ‖ id of each pending payment, and how many postings closed it.
        self.closed: dict[tuple[Address, str], int] = {}

    def add_entry(self, entry: LedgerEntry) -> None:
        """Read one accepted entry (the ledger's subscriber callback)."""
        instruction = entry.signed.instruction
        if isinstance(instruction, Transfer):
            total = self.transfers[instruction.memo]
            total[0] += 1
            total[1] += instruction.amount.fen
        elif isinstance(instruction, LinkBatch):
            self.batches += 1
        elif isinstance(instruction, IssueVoucher):
            self.vouchers += 1
            self.issued_fen += instruction.amount.fen
        elif isinstance(instruction, SpendVoucher):
            self.spends += 1
            self.spent_fen += instruction.amount.fen
            category = self._categories.get(instruction.payee, "other")
            self.spent_by_category[category] += instruction.amount.fen
        elif isinstance(instruction, PayPending):
            self.escrows += 1
            self.reserved_fen += instruction.amount.fen
            self.closed[(instruction.payer, str(instruction.id))] = 0
        for posting in entry.receipt.postings:
            if posting.delta_fen >= 0:
                continue
            returned = -posting.delta_fen
            if posting.kind is AccountKind.VOUCHER:
                own = (
                    isinstance(instruction, SpendVoucher)
                    and posting.owner == instruction.issuer
                    and posting.account_id == str(instruction.voucher_id)
                )
                if not own:  # what a voucher had left, back with its issuer at expiry
                    self.expired_vouchers += 1
                    self.returned_fen += returned
            elif posting.kind is AccountKind.RESERVED:
                key = (posting.owner, posting.account_id)
                self.closed[key] = self.closed.get(key, 0) + 1
                if (
                    isinstance(instruction, PostPending)
                    and (instruction.payer, str(instruction.pending_id)) == key
                ):
                    self.posted[0] += 1
                    self.posted[1] += instruction.amount.fen
                    self.posted[2] += returned - instruction.amount.fen
                elif (
                    isinstance(instruction, VoidPending)
                    and (instruction.payer, str(instruction.pending_id)) == key
                ):
                    self.voided[0] += 1
                    self.voided[1] += returned
                else:  # closed at the head of another entry: it expired
                    self.expired[0] += 1
                    self.expired[1] += returned

    def flow(self, memo: str) -> FlowTotal:
        """The accepted ordinary payments with ``memo``."""
        count, fen = self.transfers.get(memo, (0, 0))
        return FlowTotal(count, fen)

    def report(
        self,
        ledger: Ledger,
        view: ProgrammableView,
        *,
        city: Address,
        holders: Mapping[Address, str],
        groups: Sequence[str],
        districts: Mapping[Address, str],
        district_names: Sequence[str],
        supply: SupplyReport,
        rejections: Mapping[Reason, int],
        voucher_refusals: Mapping[Reason, int],
        skipped: Mapping[str, int],
    ) -> CityReport:
        """The report at the end of the run: this tally, the ledger's holdings, the view's reading.

        ``holders`` and ``districts`` name the group and district of each
        wallet; the refusals and skips are the run's (they are in no entry).
        """
        holdings = dict.fromkeys(groups, 0)
        by_district = dict.fromkeys(district_names, 0)
        for info in ledger.wallets():
            holdings[holders[info.address]] += info.balance.fen
            by_district[districts[info.address]] += info.balance.fen
        holdings["bank vaults"] = sum(bank.vault.fen for bank in ledger.banks())
        vouchers = VoucherCampaign(
            vouchers=self.vouchers,
            issued_fen=self.issued_fen,
            spends=self.spends,
            spent_fen=self.spent_fen,
            expired=self.expired_vouchers,
            returned_fen=self.returned_fen,
            outstanding_fen=sum(v.amount.fen for v in ledger.vouchers()),
            spent_by_region=view.voucher_spend_by_region(city),
            spent_by_category=dict(sorted(self.spent_by_category.items())),
            refused=dict(sorted(voucher_refusals.items())),
        )
        escrow = EscrowOutcomes(
            payments=self.escrows,
            reserved_fen=self.reserved_fen,
            posted=self.posted[0],
            posted_fen=self.posted[1],
            returned_on_post_fen=self.posted[2],
            voided=self.voided[0],
            voided_fen=self.voided[1],
            expired=self.expired[0],
            expired_fen=self.expired[1],
            outstanding=len(view.pending_outstanding()),
        )
        return CityReport(
            holdings_fen=holdings,
            holdings_by_district_fen=by_district,
            fares=self.flow(FARE),
            purchases=self.flow(PURCHASE),
            rewards=self.flow(REWARD),
            subsidies=self.flow(SUBSIDY),
            payroll=self.flow(SALARY),
            payroll_batches=self.batches,
            vouchers=vouchers,
            escrow=escrow,
            supply=supply,
            rejections=dict(sorted(rejections.items())),
            skipped=dict(sorted(skipped.items())),
        )
