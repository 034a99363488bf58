"""Replaying a table of transfers into a ledger, as signed payments between wallets.

The table is read and checked whole first (:func:`~dcep.datasets._table.parse_table`),
so a bad row refuses the replay before the ledger changes.  Then, in time
order: one wallet per external id, opened when the id first appears; a
top-up from the bank just before any payment its wallet could not make; the
payment, signed by the paying wallet.  Payments are submitted in batches
with :meth:`~dcep.Ledger.submit_many` between the bank's own instructions.

A little over 400 lines: the replay is one loop over the sorted rows whose
top-ups, wallet openings and batches share the loop's state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Final, final

import attrs

from dcep.core import Rejection
from dcep.datasets._results import POOL_ACCOUNT, Funding, ReplayResult
from dcep.datasets._table import (
    AmountUnit,
    ParsedTable,
    TimeUnit,
    TransferColumns,
    parse_table,
)
from dcep.errors import AmountError, DcepError, InvalidFieldError, Reason, UnknownPartyError
from dcep.instructions import SignedInstruction
from dcep.ledger import Ledger
from dcep.parties import Bank, CentralBank, Wallet
from dcep.parties._central_bank import DEFAULT_CENTRAL_BANK_CODE
from dcep.parties._signer import Seed
from dcep.values import (
    MAX_AMOUNT_FEN,
    Amount,
    CategoryLimits,
    InstitutionCode,
    ManualClock,
    Policy,
    WalletCategory,
)

__all__ = ["replay_transfers", "uncapped_policy"]

_DEFAULT_COLUMNS: Final = TransferColumns()
_MAX_BANKS: Final = 99
#: The latest time a journal keeps: signed 64-bit microseconds since 1970.
_LATEST_TIME_US: Final = 2**63 - 1
_DEFAULT_BATCH: Final = 1000


def uncapped_policy(base: Policy | None = None) -> Policy:
    """``base`` (the default :class:`~dcep.Policy` if ``None``) with every category's caps removed.

    What the KYC of each category asks for is kept.  :func:`replay_transfers`
    runs the ledger it creates under this policy, so that a data set's
    payments are refused by no cap; build your own ledger with it to do the
    same (``dcep.Ledger(policy=uncapped_policy())``).
    """
    policy = base if base is not None else Policy()
    for category, limits in policy.categories.items():
        policy = policy.with_limits(
            category, CategoryLimits(None, None, None, None, limits.required_kyc)
        )
    return policy


def replay_transfers(
    rows: object,
    *,
    ledger: Ledger | None = None,
    columns: TransferColumns = _DEFAULT_COLUMNS,
    amount_unit: AmountUnit = "yuan",
    time_unit: TimeUnit = "s",
    time_format: str | None = None,
    timezone: dt.tzinfo | None = None,
    seed: Seed = 0,
    category: int | Callable[[str], int] = 1,
    policy: Policy | None = None,
    banks: int = 1,
    batch_size: int = _DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayResult:
    """Replay a table of transfers into ``ledger`` as signed payments; see ``docs/replay.md``.

    ``rows`` is a pandas ``DataFrame``, the rows of :func:`read_csv`, or any
    iterable of mappings; ``columns`` names the sender, receiver, amount and
    time columns.  Amounts are decimal yuan (``amount_unit="yuan"``: text
    such as ``"12.50"``, ints, ``Decimal``, or floats that are whole fen
    exactly) or whole fen (``"fen"``).  Times are ISO 8601 text (or
    ``time_format`` for ``strptime``), aware datetimes, or whole numbers of
    ``time_unit`` since 1970; naive times are read in ``timezone``, or refused.

    Every row is checked before the ledger changes: the first bad one raises
    :class:`~dcep.AmountError` or :class:`~dcep.InvalidFieldError` naming
    the row.  Rows are replayed in time order (a stable sort: equal times keep
    their order), each at its own time on the ledger's
    :class:`~dcep.ManualClock`.

    Without ``ledger``, a new in-memory journalled ledger is made, under
    ``policy`` (default :func:`uncapped_policy`), its clock starting at the
    first row.  A given ledger must run on a ``ManualClock`` and hold no
    replay banks yet; if its clock is past the first row, every time is
    shifted by the same ``time_offset_us``.  Keys derive from ``seed``, so
    the same table and seed give the same journal, byte for byte.
    """
    table = parse_table(
        rows,
        columns,
        amount_unit=amount_unit,
        time_unit=time_unit,
        time_format=time_format,
        timezone=timezone,
    )
    if type(banks) is not int or not 1 <= banks <= _MAX_BANKS:
        raise InvalidFieldError(
            Reason.FIELD_INVALID, f"banks is 1 to {_MAX_BANKS}, not {banks!r}", field="banks"
        )
    if type(batch_size) is not int or batch_size < 1:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"batch_size is a whole number of at least 1, not {batch_size!r}",
            field="batch_size",
        )
    if ledger is not None and policy is not None:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            "a given ledger has its own policy: pass ledger or policy, not both",
            field="policy",
        )
    order = sorted(range(len(table)), key=table.times_us.__getitem__)
    plan = _Plan.make(table, order, category, banks)
    first_us = table.times_us[order[0]] if order else 0
    if ledger is None:
        ledger = Ledger.with_journal(
            policy=policy if policy is not None else uncapped_policy(),
            clock=ManualClock(max(first_us, 0)),
        )
    clock = ledger.clock
    if not isinstance(clock, ManualClock):
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            "replaying sets the ledger's clock to each row's time: give it a ManualClock",
            field="ledger",
        )
    start_us = max(clock.now_us(), ledger.last_entry_time_us)
    offset_us = max(start_us - first_us, 0)
    if order and table.times_us[order[-1]] + offset_us > _LATEST_TIME_US:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"row {order[-1]}: its time is beyond the year 294,000 the journal can keep",
            field=columns.time,
        )
    existing = ledger.central_bank
    central_code = (
        existing.code if existing is not None else InstitutionCode.parse(DEFAULT_CENTRAL_BANK_CODE)
    )
    codes = [_bank_code(central_code, number) for number in range(plan.bank_count)]
    for code in codes:
        if _has_bank(ledger, code):
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"the ledger already has bank {code}: replay into a ledger without replay banks",
                field="ledger",
            )
    # Reattaching to the ledger's central bank changes nothing, or refuses another seed's.
    central_bank = CentralBank(ledger, seed=seed) if existing is not None else None
    if order:
        clock.move_to(first_us + offset_us)  # the setup happens at the first row's time
    if central_bank is None:
        central_bank = CentralBank(ledger, seed=seed)
    replay = _Replay(ledger, clock, central_bank, table, plan, batch_size, progress)
    replay.set_up_banks(codes)
    replay.run(order, offset_us)
    addresses = {external_id: wallet.address for external_id, wallet in replay.wallets.items()}
    return ReplayResult(
        ledger=ledger,
        central_bank=central_bank,
        banks=tuple(replay.banks),
        wallets=dict(replay.wallets),
        addresses=addresses,
        external_ids={address: external_id for external_id, address in addresses.items()},
        entries=dict(sorted(replay.entries.items())),
        refused=dict(sorted(replay.refused.items())),
        fundings=tuple(replay.fundings),
        time_offset_us=offset_us,
        rows=len(table),
    )


def _bank_code(central: InstitutionCode, number: int) -> InstitutionCode:
    return InstitutionCode.parse(f"{central.agency}.{central.country}.9900.{number + 1:02d}")


def _has_bank(ledger: Ledger, code: InstitutionCode) -> bool:
    try:
        ledger.bank(code)
    except UnknownPartyError:
        return False
    return True


def _category_of(category: int | Callable[[str], int], external_id: str) -> WalletCategory:
    chosen = category(external_id) if callable(category) else category
    try:
        return WalletCategory.of(chosen)
    except InvalidFieldError:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"account {external_id!r}: a wallet category is 1, 2, 3 or 4, not {chosen!r}",
            field="category",
        ) from None


@final
@attrs.frozen
class _Plan:
    """Who gets a wallet, where, of which category, and what each bank needs: from the table."""

    #: External id to (bank number, category), in the order the wallets open.
    wallets: dict[str, tuple[int, WalletCategory]]
    #: Per bank: what its wallets send in all (its pledge and its deposit pool)...
    sent_fen: list[int]
    #: ... and what its wallets must be topped up with if every payment is accepted.
    need_fen: list[int]

    @property
    def bank_count(self) -> int:
        return len(self.sent_fen)

    @classmethod
    def make(
        cls,
        table: ParsedTable,
        order: list[int],
        category: int | Callable[[str], int],
        banks: int,
    ) -> _Plan:
        appearing: dict[str, int] = {}  # id -> what it sends in all, in order of appearance
        for row in order:
            sender = table.senders[row]
            appearing[sender] = appearing.get(sender, 0) + table.fens[row]
            appearing.setdefault(table.receivers[row], 0)
        # Senders are spread over the banks first, so that every bank has one
        # and so a deposit pool; then those that only receive.
        bank_count = min(banks, sum(1 for sent in appearing.values() if sent))
        sent_fen = [0] * bank_count
        bank_of: dict[str, int] = {}
        for sends in (True, False):
            spread = 0
            for external_id, sent in appearing.items():
                if bool(sent) is sends:
                    bank_of[external_id] = spread % bank_count
                    sent_fen[spread % bank_count] += sent
                    spread += 1
        for number, sent in enumerate(sent_fen):
            if sent > MAX_AMOUNT_FEN:
                raise AmountError(
                    Reason.AMOUNT_TOO_LARGE,
                    f"the wallets of replay bank {number + 1} send {sent} fen in all, above "
                    f"the maximum of {MAX_AMOUNT_FEN}: spread them over more banks",
                    field="banks",
                )
        wallets = {
            external_id: (bank_of[external_id], _category_of(category, external_id))
            for external_id in appearing
        }
        need_fen = [0] * bank_count
        balances: dict[str, int] = {}
        for row in order:
            sender, receiver, fen = table.senders[row], table.receivers[row], table.fens[row]
            if sender == receiver:
                continue
            balance = balances.get(sender, 0)
            if balance < fen:
                need_fen[bank_of[sender]] += fen - balance
                balance = fen
            balances[sender] = balance - fen
            balances[receiver] = balances.get(receiver, 0) + fen
        return cls(wallets, sent_fen, need_fen)


class _Replay:
    """The state of one replay: wallets opened, balances expected, payments not yet submitted."""

    def __init__(
        self,
        ledger: Ledger,
        clock: ManualClock,
        central_bank: CentralBank,
        table: ParsedTable,
        plan: _Plan,
        batch_size: int,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.central_bank = central_bank
        self.table = table
        self.plan = plan
        self.batch_size = batch_size
        self.progress = progress
        self.banks: list[Bank] = []
        self.vault_fen: list[int] = []
        self.pool_fen: list[int] = []
        self.wallets: dict[str, Wallet] = {}
        self.balances: dict[str, int] = {}
        self.entries: dict[int, int] = {}
        self.refused: dict[int, Reason] = {}
        self.fundings: list[Funding] = []
        # Row, signed payment, sender, receiver: submitted together by _flush.
        self.pending: list[tuple[int, SignedInstruction, str, str]] = []
        self.done = 0
        self.reported = -1
        policy = ledger.policy
        used = {category for _, category in plan.wallets.values()}
        # Where a cap may refuse a payment, the balances expected for the
        # payments after it would be wrong: submit one payment at a time.
        self.one_at_a_time = any(_has_caps(policy.limits(category)) for category in used)
        self.linked = {
            category: policy.limits(category).requires_linked_account for category in used
        }

    def set_up_banks(self, codes: list[InstitutionCode]) -> None:
        for number, code in enumerate(codes):
            sent = Amount(self.plan.sent_fen[number])
            bank = self.central_bank.authorise_bank(
                f"Replay bank {number + 1}", code=code, reserves=sent
            )
            need = self.plan.need_fen[number]
            if need:
                self.central_bank.issue(bank, Amount(need))
            # The data set's money outside e-CNY: what the bank's wallets send, at most.
            bank.pay_in(POOL_ACCOUNT, sent)
            self.banks.append(bank)
            self.vault_fen.append(need)
            self.pool_fen.append(sent.fen)

    def run(self, order: list[int], offset_us: int) -> None:
        table = self.table
        now_us = self.clock.now_us()
        for row in order:
            at_us = table.times_us[row] + offset_us
            if at_us != now_us:
                self._flush()
                self.clock.move_to(at_us)
                now_us = at_us
            self._replay_row(row, table.senders[row], table.receivers[row], table.fens[row])
            self.done += 1
            if self.one_at_a_time or len(self.pending) >= self.batch_size:
                self._flush()
        self._flush()
        self._report()

    def _replay_row(self, row: int, sender: str, receiver: str, fen: int) -> None:
        payer = self._wallet(sender)
        payee = self._wallet(receiver)
        if sender == receiver:
            # A wallet cannot pay itself: the transfer could not even be signed.
            self.refused[row] = Reason.SELF_PAYMENT
            return
        if self.balances[sender] < fen:
            self._flush()  # the bank acts next: its entry follows the payments before it
            short = fen - self.balances[sender]
            if short > 0 and not self._top_up(row, sender, payer, short):
                return
        signed = payer.sign_payment(payee.address, Amount(fen), memo=self.table.memos[row])
        self.pending.append((row, signed, sender, receiver))
        self.balances[sender] -= fen
        self.balances[receiver] += fen

    def _wallet(self, external_id: str) -> Wallet:
        wallet = self.wallets.get(external_id)
        if wallet is not None:
            return wallet
        self._flush()
        number = len(self.wallets)
        bank_number, category = self.plan.wallets[external_id]
        wallet = self.banks[bank_number].open_wallet(
            category=category,
            phone=f"199{number:08d}",
            id_number=f"{number:018d}",
            # The bank knows the holder by the data set's id: a warrant discloses it.
            name=external_id,
            linked_account=POOL_ACCOUNT if self.linked[category] else None,
            in_person=True,
        )
        self.wallets[external_id] = wallet
        self.balances[external_id] = 0
        return wallet

    def _top_up(self, row: int, external_id: str, wallet: Wallet, fen: int) -> bool:
        bank_number = self.plan.wallets[external_id][0]
        bank = self.banks[bank_number]
        # Only when a refusal changed who needs what does the bank run short.
        if fen > self.vault_fen[bank_number]:
            self.central_bank.issue(bank, Amount(fen - self.vault_fen[bank_number]))
            self.vault_fen[bank_number] = fen
        if fen > self.pool_fen[bank_number]:
            bank.pay_in(POOL_ACCOUNT, Amount(fen - self.pool_fen[bank_number]))
            self.pool_fen[bank_number] = fen
        try:
            receipt = bank.fund(wallet, Amount(fen), from_account=POOL_ACCOUNT)
        except DcepError as error:
            # A cap refused the top-up (the user asked for caps): the row is refused for it.
            self.refused[row] = error.reason
            return False
        self.vault_fen[bank_number] -= fen
        self.pool_fen[bank_number] -= fen
        self.balances[external_id] += fen
        self.fundings.append(
            Funding(row, external_id, wallet.address, Amount(fen), receipt.entry_number)
        )
        return True

    def _flush(self) -> None:
        pending = self.pending
        if not pending:
            return
        results = self.ledger.submit_many([signed for _, signed, _, _ in pending])
        stale: set[str] = set()
        for (row, _, sender, receiver), result in zip(pending, results, strict=True):
            if isinstance(result, Rejection):
                self.refused[row] = result.reason
                stale.update((sender, receiver))
            else:
                self.entries[row] = result.entry_number
        for external_id in stale:
            self.balances[external_id] = self.ledger.balance(self.wallets[external_id].address).fen
        pending.clear()
        self._report()

    def _report(self) -> None:
        if self.progress is not None and self.done != self.reported:
            self.reported = self.done
            self.progress(self.done, len(self.table))


def _has_caps(limits: CategoryLimits) -> bool:
    caps = (limits.balance_cap, limits.single_payment_cap, limits.daily_cap, limits.annual_cap)
    return any(cap is not None for cap in caps)
