"""One read of a window's flows, grouped the ways the AML rules need, shared by all of them.

:func:`~dcep.regulator.screen` builds one :class:`FlowWindow` and hands it to
every rule that takes one (:class:`WindowRule`): the flows are read from the
view once, sorted into per-wallet groups once, and whatever a rule derives
from the whole window (the busy hubs, the population's medians) is computed
once and kept in :meth:`FlowWindow.shared`, so eleven rules cost one pass
over the flows and eleven walks over the groups they need, not eleven reads
and regroupings of everything.  A rule of one's own can take the same
window, or keep to the view (:class:`~dcep.regulator.AmlRule`).

Everything here is public view data: flows, roles, sub-wallet families.
Moves within one family (a parent wallet and its sub-wallets) are internal:
they are in :attr:`FlowWindow.flows` but in no group, since a wallet paying
its own sub-wallet is not a counterparty.
"""

from __future__ import annotations

import bisect
import collections
from collections.abc import Callable, Iterable, Sequence
from typing import Final, Protocol, TypeVar, cast, final, runtime_checkable

from dcep.instructions._kinds import InstructionKind
from dcep.regulator._alerts import Alert
from dcep.regulator._index import END_US, rows_between
from dcep.regulator._records import FundsFlow
from dcep.regulator._view import RegulatorView
from dcep.values._crypto import Address

__all__ = ["FlowWindow", "WindowRule"]

_T = TypeVar("_T")
#: The kinds by which one wallet pays another: a payment, a pending payment
#: posted, an offline token settled.  A voucher's spend is left out: its
#: payer is the issuer (a city, a bank), not a counterparty of the merchant.
PAYMENT_KINDS: Final = frozenset(
    {InstructionKind.TRANSFER, InstructionKind.POST_PENDING, InstructionKind.SETTLE_OFFLINE}
)


@final
class FlowWindow:
    """The flows of ``[start_us, end_us)`` of a view, read once and grouped per wallet.

    ``flows`` are all of them in journal order; ``transfers`` the ones that
    are one wallet paying another outside its own family (the counterparty
    relation every typology is built on).  :meth:`by_wallet` and
    :meth:`transfers_by_wallet` group them per wallet on either side,
    oldest first; :meth:`transfers_out` reads a wallet's transfers out over
    any span by bisection; :meth:`shared` keeps what one rule computed from
    the whole window for the next.  Built by :func:`~dcep.regulator.screen`,
    or directly: ``FlowWindow(view, start_us, end_us)``.
    """

    __slots__ = (
        "_by_wallet",
        "_families",
        "_out",
        "_out_times",
        "_shared",
        "_transfers_by_wallet",
        "_wallets",
        "end_us",
        "flows",
        "start_us",
        "transfers",
        "view",
    )

    def __init__(self, view: RegulatorView, start_us: int = 0, end_us: int = END_US) -> None:
        self.view = view
        self.start_us = start_us
        self.end_us = end_us
        self._wallets = view._wallets
        self._families = view._parents
        everything = view._flows
        self.flows: tuple[FundsFlow, ...] = tuple(
            everything[row[1]] for row in rows_between(view._by_time, (start_us, 0), (end_us, 0))
        )
        self.transfers: tuple[FundsFlow, ...] = tuple(
            flow for flow in self.flows if self.is_transfer(flow)
        )
        self._by_wallet: dict[Address, list[FundsFlow]] | None = None
        self._transfers_by_wallet: dict[Address, list[FundsFlow]] | None = None
        self._out: dict[Address, list[FundsFlow]] | None = None
        self._out_times: dict[Address, list[int]] = {}
        self._shared: dict[object, object] = {}

    def is_wallet(self, address: Address) -> bool:
        """Whether ``address`` is a wallet (or a sub-wallet) of the view."""
        return address in self._wallets

    def internal(self, flow: FundsFlow) -> bool:
        """Whether ``flow`` moves money within one family: a wallet and its sub-wallets."""
        families = self._families
        if not families:
            return False
        return families.get(flow.payer, flow.payer) == families.get(flow.payee, flow.payee)

    def is_transfer(self, flow: FundsFlow) -> bool:
        """Whether ``flow`` is one wallet paying another outside its family: a counterparty.

        Any of :data:`PAYMENT_KINDS`: money laundered through pending
        payments or offline tokens makes the same shapes as through payments.
        """
        wallets = self._wallets
        return (
            flow.kind in PAYMENT_KINDS
            and flow.payer in wallets
            and flow.payee in wallets
            and not self.internal(flow)
        )

    def by_wallet(self) -> dict[Address, list[FundsFlow]]:
        """Every flow of the window per wallet on either side, oldest first (no internal moves)."""
        if self._by_wallet is None:
            groups: dict[Address, list[FundsFlow]] = collections.defaultdict(list)
            wallets = self._wallets
            families = bool(self._families)
            for flow in self.flows:
                if families and self.internal(flow):
                    continue
                if flow.payer in wallets:
                    groups[flow.payer].append(flow)
                if flow.payee in wallets and flow.payee != flow.payer:
                    groups[flow.payee].append(flow)
            self._by_wallet = dict(groups)
        return self._by_wallet

    def transfers_by_wallet(self) -> dict[Address, list[FundsFlow]]:
        """The window's transfers per wallet on either side, oldest first."""
        if self._transfers_by_wallet is None:
            groups: dict[Address, list[FundsFlow]] = collections.defaultdict(list)
            for flow in self.transfers:
                groups[flow.payer].append(flow)
                groups[flow.payee].append(flow)
            self._transfers_by_wallet = dict(groups)
        return self._transfers_by_wallet

    def transfers_out(self, wallet: Address, start_us: int, end_us: int) -> Sequence[FundsFlow]:
        """``wallet``'s transfers out in ``[start_us, end_us)``, oldest first.

        Within the window, two bisections of the window's own groups; beyond
        it, read from the view (a rule may look past the window's end).
        """
        if start_us < self.start_us or end_us > self.end_us:
            return [
                flow
                for flow in self.view.flows_out(wallet, start_us, end_us)
                if self.is_transfer(flow)
            ]
        if self._out is None:
            out: dict[Address, list[FundsFlow]] = collections.defaultdict(list)
            for flow in self.transfers:
                out[flow.payer].append(flow)
            self._out = dict(out)
        flows = self._out.get(wallet)
        if not flows:
            return ()
        times = self._out_times.get(wallet)
        if times is None:
            times = self._out_times[wallet] = [flow.time_us for flow in flows]
        return flows[bisect.bisect_left(times, start_us) : bisect.bisect_left(times, end_us)]

    def active_wallets(self) -> frozenset[Address]:
        """Wallets with a flow in the window (internal moves included)."""
        return self.shared(
            ("active",),
            lambda: frozenset(
                address
                for flow in self.flows
                for address in (flow.payer, flow.payee)
                if address in self._wallets
            ),
        )

    def hubs(self, multiple: int) -> frozenset[Address]:
        """Busy hubs: wallets paid by more than ``multiple`` times the median wallet's payers.

        Shops and salary accounts, whose many counterparties are their trade.
        """

        def compute() -> frozenset[Address]:
            payers: dict[Address, set[Address]] = collections.defaultdict(set)
            for flow in self.transfers:
                payers[flow.payee].add(flow.payer)
            degrees = sorted(len(found) for found in payers.values())
            if not degrees:
                return frozenset()
            limit = multiple * degrees[len(degrees) // 2]
            return frozenset(wallet for wallet, found in payers.items() if len(found) > limit)

        return self.shared(("hubs", multiple), compute)

    def shared(self, key: object, compute: Callable[[], _T]) -> _T:
        """What ``compute()`` returns, computed once per window for ``key``.

        For what a rule derives from the whole window (a population median,
        a set of hubs), so that the next rule asking the same gets it free.
        ``key`` should name the rule's settings that the value depends on.
        """
        if key not in self._shared:
            self._shared[key] = compute()
        return cast("_T", self._shared[key])

    def __repr__(self) -> str:
        return (
            f"<FlowWindow [{self.start_us}, {self.end_us}): {len(self.flows)} flows, "
            f"{len(self.transfers)} transfers>"
        )


@runtime_checkable
class WindowRule(Protocol):
    """A rule that reads a shared :class:`FlowWindow` (every built-in rule does).

    :func:`~dcep.regulator.screen` hands such a rule the window it built once
    for all rules, instead of calling ``evaluate(view, start_us, end_us)``.
    """

    @property
    def rule_id(self) -> str:
        """A short stable name, used in alerts and reports."""
        ...

    def evaluate(self, view: RegulatorView, start_us: int, end_us: int) -> Iterable[Alert]:
        """Alerts in ``[start_us, end_us)``, reading the view itself."""
        ...

    def evaluate_window(self, window: FlowWindow) -> Iterable[Alert]:
        """Alerts in ``window``, reading the flows it already holds."""
        ...
