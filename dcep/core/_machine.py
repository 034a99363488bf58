"""The ledger's core: a deterministic state machine over signed instructions.

Submitting an instruction runs, in order: the stateless checks (it decodes,
its signature is good for this network and kind), idempotency (the same id
from the same signer returns the first receipt), the signer's sequence
number, then the kind's handler (roles, balances, caps), which either refuses
and changes nothing or applies the whole instruction.  Each accepted
instruction becomes a :class:`~dcep.core.LedgerEntry` handed to every
subscriber: the journal, the regulator view and replicas are all
subscribers, and this module knows none of them.  Batches and worker
processes are in :mod:`dcep.core._batches`; journals, stores and opening a
database are in the layers above (:mod:`dcep.journal`, :mod:`dcep.ledger`).

Over 400 lines, on purpose: the state machine's one class is its submit
path (with the expiries it runs first and the linked batches it tries on an
overlay) plus the queries every reader uses, and splitting either away would
put a second module's hands on the state it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from dcep.core._handlers import HANDLERS
from dcep.core._handlers_pending import expire_due, undo_expiry
from dcep.core._invariants import find_violations
from dcep.core._overlay import overlay_of
from dcep.core._posting_codec import encode_postings
from dcep.core._records import (
    AccountKind,
    BankInfo,
    CentralBankInfo,
    DailySweep,
    DeviceInfo,
    LedgerEntry,
    PendingPayment,
    Posting,
    Receipt,
    SupplyReport,
    Voucher,
    WalletInfo,
)
from dcep.core._snapshot import LedgerSnapshot, capture_state, restore_state
from dcep.core._state import (
    BankBooks,
    LedgerState,
    OfflineDevice,
    accepted_key,
    pack_record,
    receipt_from_record,
    record_matches,
    voucher_key,
)
from dcep.core._wallet_table import WalletAccount
from dcep.errors import (
    DcepError,
    DuplicateError,
    InvalidFieldError,
    InvariantError,
    Reason,
    SequenceError,
    UnknownPartyError,
)
from dcep.instructions._encoding import (
    LINKED_START,
    SignedInstruction,
    linked_digest,
    member_digest,
)
from dcep.instructions._kinds import InstructionKind, LinkBatch
from dcep.values._clock import Clock, ManualClock
from dcep.values._codes import InstitutionCode
from dcep.values._crypto import (
    ADDRESS_SIZE,
    DEFAULT_NETWORK_ID,
    MAX_NETWORK_ID_SIZE,
    Address,
    VerifyKey,
    digest,
)
from dcep.values._money import Amount
from dcep.values._policy import Policy

__all__ = ["LedgerCore"]

_DIGEST_PERSON: Final = b"dcep.instr"
#: The latest time a journal or snapshot can hold: 2^63 - 1 microseconds since 1970.
_LATEST_TIME_US: Final = 2**63 - 1
_LINK_BATCH: Final = InstructionKind.LINK_BATCH
Listener = Callable[[LedgerEntry], None]
CommitHook = Callable[[], None]


def _network_id_bytes(network_id: str) -> bytes:
    try:
        raw = network_id.encode("utf-8") if isinstance(network_id, str) else b""  # type: ignore[redundant-expr]
    except UnicodeEncodeError:
        raw = b""  # a lone surrogate: no UTF-8 for it
    if not raw or len(raw) > MAX_NETWORK_ID_SIZE:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"a network id is 1 to {MAX_NETWORK_ID_SIZE} bytes of UTF-8, not {network_id!r}",
            field="network_id",
        )
    return raw


class LedgerCore:
    """The ledger's state machine: the registration centre's ledger of e-CNY, in memory.

    :class:`dcep.Ledger` is this plus batches, worker processes and a
    journal; use it.  This class is what the journal and replicas drive.

    ``network_id`` names this ledger in every signature, so instructions
    signed for one ledger are refused by every other.  ``policy`` fixes the
    wallet caps and reserve mode; ``clock`` is the only source of time
    (a :class:`~dcep.ManualClock` by default, so runs repeat exactly).

    >>> import dcep
    >>> ledger = dcep.Ledger()
    >>> pboc = dcep.CentralBank(ledger, seed=b"doctest")
    >>> ledger.supply().outstanding
    Amount(fen=0)
    """

    __slots__ = ("_clock", "_listeners", "_network_id", "_policy", "_state")

    def __init__(
        self,
        *,
        network_id: str = DEFAULT_NETWORK_ID,
        policy: Policy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._network_id = _network_id_bytes(network_id)
        self._policy = policy if policy is not None else Policy()
        self._clock: Clock = clock if clock is not None else ManualClock()
        self._state = LedgerState(network_id=self._network_id)
        self._listeners: list[tuple[Listener, CommitHook | None]] = []

    # -- configuration ---------------------------------------------------------

    @property
    def network_id(self) -> bytes:
        """The bytes every signature on this ledger is bound to."""
        return self._network_id

    @property
    def policy(self) -> Policy:
        """The rules this ledger runs under."""
        return self._policy

    @property
    def clock(self) -> Clock:
        """The ledger's only source of time."""
        return self._clock

    # -- submitting ------------------------------------------------------------

    def submit(self, instruction: SignedInstruction | bytes) -> Receipt:
        """Check and apply one signed instruction, atomically; return its receipt.

        Raises a :class:`~dcep.DcepError` subclass (with its ``reason``) if the
        instruction is refused; the ledger is then exactly as it was.  A
        second submission of an accepted instruction (same signer, same id,
        same bytes) returns the first receipt and changes nothing; the same id
        with different content raises ``ID_REUSED``.  Refused instructions are
        not remembered, so they may be corrected and sent again.
        """
        try:
            return self._submit_one(instruction)
        finally:
            # Also after a subscriber raised: the entry is applied, so it is stored.
            self.commit()

    def reapply(self, signed: SignedInstruction, accepted_at_us: int) -> Receipt:
        """Apply an instruction a journal says was accepted at ``accepted_at_us``.

        For recovery and replicas: no signature check (the caller decides
        whether to verify first), no commit point; refusals raise as usual.
        """
        return self.apply_checked(signed, at_us=accepted_at_us)

    def checked(self, instruction: SignedInstruction | bytes) -> SignedInstruction | DcepError:
        """The stateless checks: the envelope decoded and its signature verified, or the refusal.

        A pure function of the envelope and the network id, so batches may run
        it ahead of applying, or in other processes (:mod:`dcep.core._batches`).
        """
        try:
            signed = (
                instruction
                if isinstance(instruction, SignedInstruction)
                else SignedInstruction.from_bytes(instruction)
            )
            signed.verify(self._network_id)
        except DcepError as error:
            return error
        return signed

    def _submit_one(self, instruction: SignedInstruction | bytes) -> Receipt:
        checked = self.checked(instruction)
        if isinstance(checked, DcepError):
            raise checked
        return self.apply_checked(checked)

    def commit(self) -> None:
        """Run every subscriber's commit point: where a durable store makes its writes durable."""
        for _, on_commit in tuple(self._listeners):
            if on_commit is not None:
                on_commit()

    def apply_checked(self, signed: SignedInstruction, at_us: int | None = None) -> Receipt:
        """Apply an instruction that passed :meth:`checked`, with no commit point.

        The stateful half of :meth:`submit`: idempotency, the sequence, the
        kind's handler, the receipt, the subscribers.  Refusals raise and
        change nothing.  ``at_us`` is for replay; otherwise the clock is read.
        """
        state = self._state
        instruction = signed.instruction
        signer = signed.signer
        signer_address = signer.address
        key = accepted_key(signer_address, instruction.id)
        body_digest = digest(signed.body, person=_DIGEST_PERSON)
        prior = state.accepted.get(key)
        if prior is not None:
            if state.linked_due:
                raise _linked_invalid("a member of a linked batch must be new", instruction.id)
            if record_matches(prior, body_digest):
                return receipt_from_record(key, prior)
            raise DuplicateError(
                Reason.ID_REUSED,
                "this signer already used the id for a different instruction",
                instruction_id=instruction.id,
                party=str(signer_address),
                field="id",
            )
        # A wallet's sequence is in its row; any other signer's in the dict (as
        # is a wallet's from before it was one, until its first instruction as one).
        wallet_last = state.wallets.last_sequence(signer_address)  # None: not a wallet
        last_sequence = wallet_last or state.sequences.get(signer_address, 0)
        if instruction.sequence <= last_sequence:
            raise SequenceError(
                Reason.SEQUENCE_REPLAYED,
                f"sequence {instruction.sequence} is not above the last accepted, "
                f"{last_sequence}: a replay or out of order",
                instruction_id=instruction.id,
                party=str(signer_address),
                field="sequence",
            )
        # Entry times never go backwards, whatever the clock does (or after recovery).
        read_us = self._clock.now_us() if at_us is None else at_us
        now_us = max(read_us, state.last_time_us)
        if type(read_us) is not int or not 0 <= now_us <= _LATEST_TIME_US:
            # Before anything changes: journals and snapshots keep times as
            # signed 64-bit microseconds since 1970.
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"the ledger's clock reads {read_us!r}: not whole microseconds "
                "from 1970 to year 294,000",
                instruction_id=instruction.id,
                field="accepted_at_us",
            )
        kind = instruction.KIND
        if kind is _LINK_BATCH and at_us is None:
            raise _linked_invalid("a linked batch is submitted with submit_linked", instruction.id)
        running = _member_fold(state, signed) if state.linked_due else None
        expiries = state.pending_expiries
        if expiries and expiries[0][0] <= now_us:
            postings = self._apply_with_expiries(signed, now_us)
        else:
            postings = HANDLERS[kind](state, self._policy, instruction, signer, now_us)
        if running is not None:
            state.linked_running = running
            state.linked_due -= 1
        entry_number = state.entry_count
        # Positional: this runs once per accepted instruction, and keywords cost more.
        receipt = Receipt(entry_number, instruction.id, kind, signer_address, now_us, postings)
        if wallet_last:  # the usual case: a wallet that has signed before
            state.wallets.set_sequence(signer_address, instruction.sequence)
        elif not state.wallets.set_sequence(signer_address, instruction.sequence):
            state.sequences[signer_address] = instruction.sequence
        elif signer_address in state.sequences:
            del state.sequences[signer_address]
        postings_encoded = encode_postings(postings)
        accepted = state.accepted
        accepted[key] = pack_record(body_digest, entry_number, now_us, kind, postings_encoded)
        state.accepted_order.append(key)
        if len(accepted) > self._policy.idempotency_window:
            del accepted[state.accepted_order.popleft()]
        state.entry_count = entry_number + 1
        state.last_time_us = now_us
        if self._listeners:
            entry = LedgerEntry(receipt, signed, postings_encoded)
            # A copy: a subscriber may unsubscribe itself (or others) as it runs.
            for on_entry, _ in tuple(self._listeners):
                on_entry(entry)
        return receipt

    def _apply_with_expiries(self, signed: SignedInstruction, now_us: int) -> tuple[Posting, ...]:
        # Pending payments due by now expire first, so the instruction sees
        # their money back; if it is refused, they are put back as they were.
        state = self._state
        done, expired = expire_due(state, now_us)
        instruction = signed.instruction
        try:
            postings = HANDLERS[instruction.KIND](
                state, self._policy, instruction, signed.signer, now_us
            )
        except BaseException:
            undo_expiry(state, done)
            raise
        return expired + postings

    def submit_linked(
        self, header: SignedInstruction | bytes, members: Sequence[SignedInstruction | bytes]
    ) -> list[Receipt]:
        """Apply ``members`` as one linked batch: all accepted, or none; their receipts.

        ``header`` is a signed :class:`~dcep.instructions.LinkBatch` naming the
        members (their number and :func:`~dcep.instructions.linked_digest`).
        The header and the members become consecutive entries, at one time.
        If any is refused, nothing changes and its error is raised, its
        message naming which member (from 1) failed; ``LINKED_BATCH_INVALID``
        if the header does not name exactly these members.  Submitting the
        same batch again returns the first receipts.
        """
        try:
            return self._apply_linked(header, members)
        finally:
            self.commit()

    def _apply_linked(
        self, header: SignedInstruction | bytes, members: Sequence[SignedInstruction | bytes]
    ) -> list[Receipt]:
        checked = [self.checked(item) for item in (header, *members)]
        for position, item in enumerate(checked):
            if isinstance(item, DcepError):
                raise _as_member(item, position, len(members))
        signed = [item for item in checked if isinstance(item, SignedInstruction)]
        head = signed[0].instruction
        if not isinstance(head, LinkBatch):
            raise _linked_invalid("the header of a linked batch is a LinkBatch", head.id)
        if head.members != len(members) or head.digest != linked_digest(signed[1:]):
            raise _linked_invalid(
                f"the header names {head.members} members, not these {len(members)}", head.id
            )
        state = self._state
        read_us = self._clock.now_us()
        now_us = max(read_us, state.last_time_us) if type(read_us) is int else read_us
        # First on a throwaway overlay (see dcep.core._overlay), with no
        # subscribers: does every member pass?  Then for real.
        listeners = self._listeners
        self._state, self._listeners = overlay_of(state), []
        try:
            for position, item in enumerate(signed):
                try:
                    self.apply_checked(item, at_us=now_us)
                except DcepError as error:
                    raise _as_member(error, position, len(members)) from None
        finally:
            self._state, self._listeners = state, listeners
        receipts = []
        for item in signed:
            try:
                receipts.append(self.apply_checked(item, at_us=now_us))
            except DcepError as error:  # pragma: no cover - the overlay said it passes
                raise InvariantError(
                    Reason.INVARIANT_VIOLATED,
                    f"a linked batch passed on the overlay but not for real: {error}",
                ) from error
        return receipts[1:]

    @property
    def linked_members_due(self) -> int:
        """Members of a linked batch still to come (0 between submissions).

        A journal seals no block while this is nonzero, so a block, a
        snapshot and a write never split a linked batch.
        """
        return self._state.linked_due

    # Readers see the ledger as of its clock: what has expired by now is gone
    # and its money back, though the ledger journals that with its next entry.

    def _now_us(self) -> int:
        return max(self._clock.now_us(), self._state.last_time_us)

    def pending_payments(self) -> list[PendingPayment]:
        """Every pending payment outstanding now, oldest first (by the entry that made it)."""
        now_us = self._now_us()
        return sorted(
            (p for p in self._state.pending.values() if p.expires_at_us > now_us),
            key=lambda pending: pending.created_entry,
        )

    def pending_payment(self, payer: Address, pending_id: int) -> PendingPayment | None:
        """Pending payment ``pending_id`` of ``payer`` if it is outstanding now, else ``None``."""
        found = self._state.pending.get(accepted_key(payer, pending_id))
        return found if found is not None and found.expires_at_us > self._now_us() else None

    def vouchers(self, holder: Address | None = None) -> list[Voucher]:
        """Vouchers outstanding now (of ``holder``, or all), oldest first."""
        now_us = self._now_us()
        return sorted(
            (
                v
                for v in self._state.vouchers.values()
                if v.expires_at_us > now_us and (holder is None or v.holder == holder)
            ),
            key=lambda voucher: voucher.created_entry,
        )

    def devices(self, wallet: Address | None = None) -> list[DeviceInfo]:
        """Hardware wallets (of ``wallet``, or all), in the order they were registered."""
        return [
            _device_info(address, device)
            for address, device in self._state.devices.items()
            if wallet is None or device.wallet == wallet
        ]

    def device(self, address: Address) -> DeviceInfo:
        """One hardware wallet; ``OFFLINE_DEVICE_UNKNOWN`` if none has ``address``."""
        device = self._state.devices.get(address)
        if device is None:
            raise UnknownPartyError(
                Reason.OFFLINE_DEVICE_UNKNOWN,
                f"no device {address} is registered on this ledger",
                party=str(address),
            )
        return _device_info(_as_address(address), device)

    def voucher(self, issuer: Address, voucher_id: int) -> Voucher | None:
        """Voucher ``voucher_id`` of ``issuer`` with what is left, if it is outstanding now."""
        found = self._state.vouchers.get(voucher_key(issuer, voucher_id))
        return found if found is not None and found.expires_at_us > self._now_us() else None

    def daily_sweep(self, wallet: Address) -> DailySweep | None:
        """The standing daily sweep of corporate ``wallet``, if it has one."""
        return self._state.daily_sweeps.get(_as_address(wallet))

    def daily_sweeps(
        self, *, operator: Address | None = None, due: bool = False
    ) -> list[DailySweep]:
        """Standing daily sweeps (of wallets ``operator`` runs, or all), oldest set first.

        ``due``: only those the ledger would accept a sweep of now, by its
        clock: the day's minute has come, the wallet was not swept today, it
        is open and not frozen, and holds more than the sweep keeps.
        """
        state = self._state
        now_us = self._now_us()
        day = self._policy.calendar_day(now_us)
        # Pending payments that expired by now return their money first.
        returning = self._expired_by_now() if due else {}
        found = []
        for address, sweep in state.daily_sweeps.items():
            wallet = state.wallets[address]
            if operator is not None and wallet.operator != operator:
                continue
            if due and (
                sweep.last_swept_day == day
                or now_us < sweep.due_from_us(day, self._policy.utc_offset_minutes)
                or wallet.closed
                or address in state.frozen
                or wallet.balance_fen + returning.get(address, 0) <= sweep.keep.fen
            ):
                continue
            found.append(sweep)
        return found

    def _expired_by_now(self) -> dict[Address, int]:
        # What each wallet holds aside that has expired by the clock and is
        # not yet journalled: a walk of the due end of the expiry heap only.
        state = self._state
        now_us = self._now_us()
        expired: dict[Address, int] = {}
        stack = [0] if state.pending_expiries else []
        heap = state.pending_expiries
        while stack:
            index = stack.pop()
            expires_at_us, _, key = heap[index]
            if expires_at_us > now_us:
                continue
            record = state.pending.get(key) or state.vouchers.get(key)
            if isinstance(record, PendingPayment):
                expired[record.payer] = expired.get(record.payer, 0) + record.amount.fen
            elif record is not None:
                expired[record.issuer] = expired.get(record.issuer, 0) + record.amount.fen
            stack.extend(child for child in (2 * index + 1, 2 * index + 2) if child < len(heap))
        return expired

    def subscribe(
        self, on_entry: Listener, on_commit: CommitHook | None = None
    ) -> Callable[[], None]:
        """Call ``on_entry`` with every entry accepted from now on; returns an unsubscribe.

        ``on_entry`` runs in acceptance order, right after the state changed
        (so the ledger reads as of that entry), and must not raise: the entry
        is already accepted.  ``on_commit``, if given, runs once before
        :meth:`submit` or :meth:`submit_many` returns: the point at which a
        durable store makes what it was handed durable.
        """
        subscription = (on_entry, on_commit)
        self._listeners.append(subscription)

        def unsubscribe() -> None:
            if subscription in self._listeners:
                self._listeners.remove(subscription)

        return unsubscribe

    # -- reading ---------------------------------------------------------------

    @property
    def central_bank(self) -> CentralBankInfo | None:
        """The issuer, once the genesis instruction has been accepted."""
        return self._state.central_bank

    @property
    def last_entry_time_us(self) -> int:
        """When the last entry was accepted (0 before any)."""
        return self._state.last_time_us

    def snapshot(self) -> LedgerSnapshot:
        """The whole state as plain rows, for storage; see :mod:`dcep.core._snapshot`."""
        return capture_state(self._state)

    @property
    def entry_count(self) -> int:
        """How many instructions have been accepted."""
        return self._state.entry_count

    def regulator_key(self, regulator: Address) -> VerifyKey:
        """The public key of an appointed regulator; ``UNKNOWN_REGULATOR`` if there is none."""
        found = self._state.regulators.get(regulator)
        if found is None:
            raise UnknownPartyError(
                Reason.UNKNOWN_REGULATOR,
                f"{regulator} is not an appointed regulator",
                party=str(regulator),
            )
        return found[0]

    def is_frozen(self, wallet: Address) -> bool:
        """Whether a regulator has frozen ``wallet``."""
        return wallet in self._state.frozen

    def last_sequence(self, signer: Address) -> int:
        """The last sequence number accepted from ``signer`` (0 if none)."""
        state = self._state
        return state.wallets.last_sequence(signer) or state.sequences.get(signer, 0)

    def balance(self, wallet: Address) -> Amount:
        """What ``wallet`` holds; raises ``UNKNOWN_WALLET`` for a stranger."""
        return Amount(self._wallet(wallet).holdings_fen())

    def account_balance_fen(self, kind: AccountKind, owner: Address, account_id: str = "") -> int:
        """The balance a posting of ``kind`` on ``owner`` changes; 0 for an unknown account.

        This is what readers of the journal (the state commitment, replicas)
        check postings against, one account at a time.
        """
        if kind is AccountKind.WALLET:
            return self._state.wallets.holdings_of(owner)
        if kind is AccountKind.RESERVED:
            held = self._state.pending.get(accepted_key(owner, int(account_id)))
            return held.amount.fen if held is not None else 0
        if kind is AccountKind.VOUCHER:
            voucher = self._state.vouchers.get(voucher_key(owner, int(account_id)))
            return voucher.amount.fen if voucher is not None else 0
        if kind is AccountKind.OFFLINE or kind is AccountKind.OFFLINE_LOSS:
            device = self._state.devices.get(Address(bytes.fromhex(account_id)))
            if device is None or device.wallet != owner:
                return 0
            return device.allowance_fen if kind is AccountKind.OFFLINE else device.loss_fen
        bank = self._state.banks.get(owner)
        if bank is None:
            return 0
        if kind is AccountKind.VAULT:
            return bank.vault_fen
        if kind is AccountKind.RESERVES:
            return bank.reserves_available_fen(self._policy)
        if kind is AccountKind.CASH:
            return bank.cash_fen
        return bank.deposits.get(account_id, 0)

    def wallet(self, address: Address) -> WalletInfo:
        """A snapshot of one wallet; spending counts only the current day and year."""
        account = self._wallet(address)
        # An address's 20 raw bytes find it too; the snapshot names it as an Address.
        shown = _as_address(address)
        expired = self._expired_by_now().get(shown, 0)
        return _wallet_info(shown, account, *self._today(), expired)

    def wallets(self) -> list[WalletInfo]:
        """Snapshots of every wallet, in the order they were opened."""
        day, year = self._today()
        expired = self._expired_by_now()
        return [
            _wallet_info(address, account, day, year, expired.get(address, 0))
            for address, account in self._state.wallets.items()
        ]

    def _today(self) -> tuple[int, int]:
        day = self._policy.calendar_day(max(self._clock.now_us(), self._state.last_time_us))
        return day, self._policy.calendar_year(day)

    def bank(self, which: Address | InstitutionCode | str) -> BankInfo:
        """A snapshot of one bank's books, by address, institution code or name."""
        banks = self._state.banks
        if isinstance(which, bytes):
            # An Address (or its raw bytes): never compared with a name, which
            # would be a bytes-with-str comparison (a BytesWarning under -b).
            books = banks.get(which)
            if books is not None:
                return _bank_info(_as_address(which), books, self._policy)
        else:
            for address, books in banks.items():
                if which in (books.code, books.name, str(books.code)):
                    return _bank_info(address, books, self._policy)
        shown = _party_text(which)
        raise UnknownPartyError(Reason.UNKNOWN_BANK, f"no authorised bank {shown}", party=shown)

    def banks(self) -> list[BankInfo]:
        """Snapshots of every bank, in the order they were authorised."""
        return [
            _bank_info(address, books, self._policy)
            for address, books in self._state.banks.items()
        ]

    def lifetime_totals_fen(self) -> tuple[int, int]:
        """(issued, redeemed) in fen, in constant time: what each block header records.

        :meth:`supply` also sums every vault and wallet, which is what a
        report wants and a block boundary cannot afford.
        """
        return self._state.issued_fen, self._state.redeemed_fen

    def supply(self) -> SupplyReport:
        """Where all e-CNY is, by tier."""
        state = self._state
        return SupplyReport(
            issued=Amount(state.issued_fen),
            redeemed=Amount(state.redeemed_fen),
            in_vaults=Amount(sum(bank.vault_fen for bank in state.banks.values())),
            in_wallets=Amount(sum(w.holdings_fen() for w in state.wallets.values())),
            backed_by_reserves=Amount(
                sum(bank.reserves_held_fen(self._policy) for bank in state.banks.values())
            ),
            lost_offline=Amount(sum(device.loss_fen for device in state.devices.values())),
        )

    def check_invariants(self) -> SupplyReport:
        """Prove the ledger's promises hold now; return the supply they were checked on.

        Checks that issued - redeemed equals e-CNY in vaults plus wallets; each
        bank's outstanding issuance is within its pledged reserves, its books
        balance and its deposits match their history; nothing is negative;
        every wallet is within its caps; sequence numbers only went up.
        Raises :class:`~dcep.errors.InvariantError` naming every violation.
        """
        problems = find_violations(self._state, self._policy)
        if problems:
            raise InvariantError(Reason.INVARIANT_VIOLATED, "; ".join(problems))
        return self.supply()

    def violations(self) -> list[str]:
        """Every broken invariant, described; empty when the ledger keeps its promises."""
        return find_violations(self._state, self._policy)

    def restore(self, rows: LedgerSnapshot) -> None:
        """Replace the whole state with one captured by :meth:`snapshot`, for recovery.

        Raises what decoding the rows raises (a ``DcepError``, ``ValueError``,
        ``KeyError`` or ``struct.error`` on damaged rows) and then leaves the
        state as it was.
        """
        restored = restore_state(rows)
        restored.network_id = self._network_id
        self._state = restored

    def _check(self) -> None:
        """Assert every invariant: the hook the stateful tests call after each step."""
        problems = find_violations(self._state, self._policy)
        assert not problems, problems

    def _wallet(self, address: Address) -> WalletAccount:
        account = self._state.wallets.get(address)
        if account is None:
            shown = _party_text(address)
            raise UnknownPartyError(Reason.UNKNOWN_WALLET, f"no wallet {shown}", party=shown)
        return account

    def __repr__(self) -> str:
        return (
            f"<Ledger {self._network_id.decode('utf-8', 'replace')!r}: "
            f"{len(self._state.banks)} banks, {len(self._state.wallets)} wallets, "
            f"{self._state.entry_count} entries>"
        )


def _linked_invalid(message: str, instruction_id: int) -> InvalidFieldError:
    return InvalidFieldError(Reason.LINKED_BATCH_INVALID, message, instruction_id=instruction_id)


def _member_fold(state: LedgerState, signed: SignedInstruction) -> bytes:
    # The digest of the members so far, with this one: the last must reach the header's.
    running = member_digest(state.linked_running or LINKED_START, signed)
    if state.linked_due == 1 and running != state.linked_digest:
        raise _linked_invalid(
            "these are not the members the linked batch's header names", signed.instruction.id
        )
    return running


def _as_member(error: DcepError, position: int, members: int) -> DcepError:
    # The same error, saying which member of the batch it is about.
    where = "the header" if position == 0 else f"member {position} of {members}"
    return type(error)(
        error.reason,
        f"linked batch refused at {where}: {error.message}",
        instruction_id=error.instruction_id,
        party=error.party,
        field=error.field,
    )


def _as_address(address: bytes) -> Address:
    return address if type(address) is Address else Address(address)


def _party_text(value: object) -> str:
    # Raw bytes in an error message: as an address if they could be one, and
    # never through str(bytes), which is a BytesWarning under -b.
    if isinstance(value, bytes):
        return str(_as_address(value)) if len(value) == ADDRESS_SIZE else value.hex()
    return str(value)


def _wallet_info(
    address: Address, account: WalletAccount, day: int, year: int, expired_fen: int = 0
) -> WalletInfo:
    # The counters reset lazily, on the next payment; a snapshot must not show
    # yesterday's spending as today's.
    return WalletInfo(
        address=address,
        category=account.category,
        operator=account.operator,
        linked_account=account.linked_account,
        balance=Amount(account.holdings_fen()),
        spent_today=Amount(account.spent_today_fen if account.day == day else 0),
        spent_this_year=Amount(account.spent_this_year_fen if account.year == year else 0),
        parent=account.parent,
        closed=account.closed,
        reserved=Amount(
            account.reserved_fen + account.vouchers_fen + account.offline_fen - expired_fen
        ),
        corporate=account.corporate,
    )


def _device_info(address: Address, device: OfflineDevice) -> DeviceInfo:
    return DeviceInfo(
        address=address,
        key=VerifyKey(device.public_key),
        wallet=device.wallet,
        allowance=Amount(device.allowance_fen),
        paid=Amount(device.paid_fen),
        lost=Amount(device.loss_fen),
        blocked=device.blocked,
        settled=len(device.settled),
        counter_limit=device.counter_limit,
    )


def _bank_info(address: Address, books: BankBooks, policy: Policy) -> BankInfo:
    return BankInfo(
        name=books.name,
        code=books.code,
        address=address,
        reserves_pledged=Amount(books.reserves_pledged_fen),
        reserves_available=Amount(books.reserves_available_fen(policy)),
        outstanding_issuance=Amount(books.outstanding_fen),
        vault=Amount(books.vault_fen),
        cash=Amount(books.cash_fen),
        customer_deposits=Amount(books.deposits_total_fen),
        wallet_count=books.wallet_count,
    )
