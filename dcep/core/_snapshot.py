"""A ledger's whole state as plain rows, for storage and recovery.

A snapshot is taken at a block boundary; recovery loads the latest one and
replays the journal after it.  Rows hold only ints, strings and bytes, so
any store can keep them in tables of its own (SQLite does), and restoring
rebuilds exactly the state that was captured.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar, final, overload

import attrs

from dcep.core._records import CentralBankInfo, DailySweep, PendingPayment, Voucher
from dcep.core._state import (
    EXPIRED,
    POSTED,
    SPENT,
    VOIDED,
    BankBooks,
    LedgerState,
    OfflineDevice,
    accepted_key,
    pack_record,
    unpack_record,
    voucher_key,
)
from dcep.instructions._conditions import CONDITIONS
from dcep.instructions._kinds import InstructionKind
from dcep.values._codes import InstitutionCode
from dcep.values._crypto import Address, VerifyKey
from dcep.values._money import Amount

__all__ = [
    "NEVER_SWEPT",
    "LazyRows",
    "LedgerSnapshot",
    "Snapshot",
    "capture_state",
    "restore_state",
    "state_rows",
]

BankRow = tuple[bytes, str, str, int, int, int, int, int, int, int, int]
DepositRow = tuple[bytes, str, int]
WalletRow = tuple[bytes, int, bytes, str, int, int, int, int, int, int]
SequenceRow = tuple[bytes, int]
ReceiptRow = tuple[bytes, int, bytes, int, int, int, bytes]
CodeRow = tuple[str, str]
RegulatorRow = tuple[bytes, str]
FrozenRow = tuple[bytes, bytes]
WarrantRow = tuple[bytes, bytes, int]
#: A sub-wallet: its address, its parent's, and its own caps in fen (-1: the category's).
SubWalletRow = tuple[bytes, bytes, int, int, int, int]
#: A pending payment outstanding: payer ‖ id (36 bytes), payee, amount, expiry,
#: conditions (their wire form), memo, the entry that made it and its time.
PendingRow = tuple[bytes, bytes, int, int, bytes, str, int, int]
#: A resolved pending payment: payer ‖ id and how it ended (1 posted, 2 voided, 3 expired).
ResolvedRow = tuple[bytes, int]
#: A voucher outstanding: its key ("V" ‖ issuer ‖ id), holder, what is left,
#: expiry, regions (codes joined by spaces), merchants (their addresses one
#: after another), memo, the entry that issued it and its time.
VoucherRow = tuple[bytes, bytes, int, int, str, bytes, str, int, int]
#: A wallet bearing interest (2026 mode): its address, the start of its interest
#: period and the fraction of a fen it carries.
InterestWalletRow = tuple[bytes, int, int]
#: A bank that paid interest: its address and the fen it paid.
InterestBankRow = tuple[bytes, int]
#: A hardware wallet: its key, its wallet's address, allowance, loaded, unloaded,
#: paid and lost (fen), blocked (0 or 1) and its counter limit.
DeviceRow = tuple[bytes, bytes, int, int, int, int, int, int, int]
#: A settled counter of a device: the device's address, the counter, and the
#: digests of the tokens settled on it (32 bytes each; more than one: a clone).
SettledRow = tuple[bytes, int, bytes]
#: A corporate wallet's daily sweep: its address, the local minute, what it
#: keeps, and the local day of its last sweep (:data:`NEVER_SWEPT`: none yet).
DailySweepRow = tuple[bytes, int, int, int]
#: The last-sweep day of a sweep that has not run yet (SQLite's smallest integer).
NEVER_SWEPT = -(2**63)

T = TypeVar("T")


@final
class LazyRows(Sequence[T]):
    """A table's rows, made on demand from a copy of the state taken in one step.

    Capturing a million wallets as tuples stops the ledger for about a
    second; copying their columns takes milliseconds.  So a snapshot keeps
    the copy, and its rows are made each time they are read, in the same
    order every time (the copy never changes).  Compares equal to a tuple
    of the same rows, which is what a store reads back.
    """

    __slots__ = ("_length", "_make")

    def __init__(self, make: Callable[[], Iterator[T]], length: int | None = None) -> None:
        self._make = make
        self._length = length

    def __iter__(self) -> Iterator[T]:
        return self._make()

    def __len__(self) -> int:
        if self._length is None:
            self._length = sum(1 for _ in self._make())
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, int) and index >= 0:
            # The first rows without making the rest (a store looks at the first one's width).
            for row in itertools.islice(self._make(), index, None):
                return row
            raise IndexError(index)
        return tuple(self._make())[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyRows | tuple):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"LazyRows({len(self)} rows)"

    def __reduce__(self) -> tuple[type[tuple[T, ...]], tuple[tuple[T, ...]]]:
        # Pickled as the rows themselves (a copy and a closure are no wire format).
        return tuple, (tuple(self),)


@final
@attrs.frozen
class LedgerSnapshot:
    """Every field of a ledger's state, as rows."""

    central_bank: tuple[str, str, bytes] | None
    banks: tuple[BankRow, ...]
    deposits: Sequence[DepositRow]
    wallets: Sequence[WalletRow]
    #: Signers other than wallets (a wallet's last sequence is in its row).
    sequences: Sequence[SequenceRow]
    receipts: Sequence[ReceiptRow]
    codes: tuple[CodeRow, ...]
    regulators: tuple[RegulatorRow, ...]
    frozen: tuple[FrozenRow, ...]
    warrants: tuple[WarrantRow, ...]
    issued_fen: int
    redeemed_fen: int
    entry_count: int
    last_time_us: int
    #: Sub-wallets (issue #24); empty in a ledger without any, and in older snapshots.
    sub_wallets: Sequence[SubWalletRow] = ()
    #: The addresses of closed wallets, in the order they were opened.
    closed: Sequence[bytes] = ()
    #: Pending payments outstanding (issue #25), oldest first.
    pending: tuple[PendingRow, ...] = ()
    #: Pending payments resolved (and vouchers spent or expired), in the order they were.
    pending_resolved: Sequence[ResolvedRow] = ()
    #: Vouchers outstanding, oldest first.
    vouchers: tuple[VoucherRow, ...] = ()
    #: Interest (issue #24, 2026 reserve mode): only wallets that have accrued
    #: and banks that have paid, so older snapshots and ledgers without it are as they were.
    interest_wallets: Sequence[InterestWalletRow] = ()
    interest_banks: tuple[InterestBankRow, ...] = ()
    #: Hardware wallets and their settled counters (issue #24, part 5), in order.
    devices: tuple[DeviceRow, ...] = ()
    settled: tuple[SettledRow, ...] = ()
    #: Corporate wallets (issue #24), in the order they were opened, and their
    #: daily sweeps: empty in a ledger without any, and in older snapshots.
    corporate: Sequence[bytes] = ()
    daily_sweeps: tuple[DailySweepRow, ...] = ()


@final
@attrs.frozen
class Snapshot:
    """A ledger snapshot with the journal's position and chain heads at that point."""

    ledger: LedgerSnapshot
    block_height: int
    head_hash: bytes
    last_block_hash: bytes
    #: The central bank's signed state root for this state, in its encoding
    #: (see :mod:`dcep.journal`): what recovery checks the rows against.
    certificate: bytes

    @property
    def entry_count(self) -> int:
        """How many entries the snapshot includes."""
        return self.ledger.entry_count


def state_rows(snapshot: LedgerSnapshot) -> Iterator[tuple[str, tuple[object, ...]]]:
    """Every row of ``snapshot`` as (table, values), in a fixed order: what a state root covers.

    Generic over the snapshot's fields, in their declared order, so that a
    table added to :class:`LedgerSnapshot` is covered without a change here:
    a field holding a tuple of rows (or of single values) gives a row per
    element; any other field (a count, the central bank's record, ``None``)
    gives one row of its own.
    """
    for field in attrs.fields(LedgerSnapshot):
        value = getattr(snapshot, field.name)
        if isinstance(value, LazyRows) or (
            isinstance(value, tuple) and all(isinstance(row, tuple | bytes) for row in value)
        ):
            for row in value:
                yield field.name, row if isinstance(row, tuple) else (row,)
        else:
            yield field.name, value if isinstance(value, tuple) else (value,)


def capture_state(state: LedgerState) -> LedgerSnapshot:
    """The rows of ``state``, in a deterministic order (insertion order).

    The wallets' tables are :class:`LazyRows` over a copy of the wallet
    columns: the capture costs a copy, not a walk over every wallet.
    """
    central = state.central_bank
    wallets = state.wallets.copy(with_index=False)
    others = tuple((bytes(signer), last) for signer, last in state.sequences.items())
    # The tables that grow with use, copied whole (a dict's copy is one step).
    deposits = [(bytes(address), bank.deposits.copy()) for address, bank in state.banks.items()]
    accepted = state.accepted.copy()
    resolved = state.pending_resolved.copy()
    return LedgerSnapshot(
        central_bank=(central.name, str(central.code), bytes(central.key)) if central else None,
        banks=tuple(
            (
                bytes(bank.key),
                bank.name,
                str(bank.code),
                bank.reserves_pledged_fen,
                bank.outstanding_fen,
                bank.vault_fen,
                bank.cash_fen,
                bank.paid_in_fen,
                bank.funded_from_deposits_fen,
                bank.defunded_to_deposits_fen,
                bank.wallet_count,
            )
            for bank in state.banks.values()
        ),
        deposits=LazyRows(
            lambda: (
                (address, account, balance_fen)
                for address, accounts in deposits
                for account, balance_fen in accounts.items()
            ),
            sum(len(accounts) for _, accounts in deposits),
        ),
        wallets=LazyRows(wallets.wallet_rows, wallets.row_count()),
        sequences=others,
        receipts=LazyRows(
            lambda: (
                (key[:20], int.from_bytes(key[20:], "big"), digest, number, kind, at_us, postings)
                for key, (digest, number, at_us, kind, postings) in (
                    (key, unpack_record(record)) for key, record in accepted.items()
                )
            ),
            len(accepted),
        ),
        codes=tuple((str(code), owner) for code, owner in state.codes.items()),
        regulators=tuple((bytes(key), name) for key, name in state.regulators.values()),
        frozen=tuple((bytes(w), bytes(r)) for w, r in state.frozen.items()),
        warrants=tuple(
            (key, bytes(wallet), int(answered))
            for key, (wallet, answered) in state.warrants.items()
        ),
        issued_fen=state.issued_fen,
        redeemed_fen=state.redeemed_fen,
        entry_count=state.entry_count,
        last_time_us=state.last_time_us,
        sub_wallets=LazyRows(
            lambda: (
                _sub_wallet_row(address, wallet.parent, wallet.own_caps)
                for address, wallet in wallets.with_extras()
                if wallet.parent is not None
            )
        ),
        closed=LazyRows(lambda: (bytes(address) for address in wallets.with_flag("closed"))),
        pending=tuple(
            (
                accepted_key(p.payer, p.id),
                bytes(p.payee),
                p.amount.fen,
                p.expires_at_us,
                CONDITIONS.write(p.conditions),
                p.memo,
                p.created_entry,
                p.created_at_us,
            )
            for p in sorted(state.pending.values(), key=lambda p: p.created_entry)
        ),
        pending_resolved=LazyRows(lambda: iter(resolved.items()), len(resolved)),
        vouchers=tuple(
            (
                voucher_key(v.issuer, v.id),
                bytes(v.holder),
                v.amount.fen,
                v.expires_at_us,
                " ".join(str(code) for code in v.regions),
                b"".join(bytes(address) for address in v.merchants),
                v.memo,
                v.created_entry,
                v.created_at_us,
            )
            for v in sorted(state.vouchers.values(), key=lambda v: v.created_entry)
        ),
        interest_wallets=LazyRows(
            lambda: (
                (
                    bytes(address),
                    wallet.interest_from_us,
                    wallet.interest_carry,
                )
                for address, wallet in wallets.with_extras()
                if wallet.interest_from_us >= 0
            )
        ),
        interest_banks=tuple(
            (bytes(address), bank.interest_paid_fen)
            for address, bank in state.banks.items()
            if bank.interest_paid_fen
        ),
        devices=tuple(
            (
                d.public_key,
                bytes(d.wallet),
                d.allowance_fen,
                d.loaded_fen,
                d.unloaded_fen,
                d.paid_fen,
                d.loss_fen,
                int(d.blocked),
                d.counter_limit,
            )
            for d in state.devices.values()
        ),
        settled=tuple(
            (bytes(address), counter, seen)
            for address, d in state.devices.items()
            for counter, seen in d.settled.items()
        ),
        corporate=LazyRows(lambda: (bytes(address) for address in wallets.with_flag("corporate"))),
        daily_sweeps=tuple(
            (
                bytes(address),
                sweep.at_minute,
                sweep.keep.fen,
                NEVER_SWEPT if sweep.last_swept_day is None else sweep.last_swept_day,
            )
            for address, sweep in state.daily_sweeps.items()
        ),
    )


def _sub_wallet_row(
    address: Address,
    parent: Address,
    caps: tuple[int | None, int | None, int | None, int | None] | None,
) -> SubWalletRow:
    balance_cap, single, daily, annual = (
        -1 if cap is None else cap for cap in caps or (None, None, None, None)
    )
    return (bytes(address), bytes(parent), balance_cap, single, daily, annual)


def restore_state(snapshot: LedgerSnapshot) -> LedgerState:
    """Rebuild the state that :func:`capture_state` captured."""
    state = LedgerState()
    if snapshot.central_bank is not None:
        name, code, central_key = snapshot.central_bank
        verify_key = VerifyKey(central_key)
        state.central_bank = CentralBankInfo(
            name, InstitutionCode.parse(code), verify_key, verify_key.address
        )
    for row in snapshot.banks:
        bank_key = VerifyKey(row[0])
        state.banks[bank_key.address] = BankBooks(
            key=bank_key,
            name=row[1],
            code=InstitutionCode.parse(row[2]),
            reserves_pledged_fen=row[3],
            outstanding_fen=row[4],
            vault_fen=row[5],
            cash_fen=row[6],
            paid_in_fen=row[7],
            funded_from_deposits_fen=row[8],
            defunded_to_deposits_fen=row[9],
            wallet_count=row[10],
        )
    for bank_address, account, balance_fen in snapshot.deposits:
        bank = state.banks[Address(bank_address)]
        bank.deposits[account] = balance_fen
        bank.account_names[account] = account
        bank.deposits_total_fen += balance_fen
    for wallet_row in snapshot.wallets:
        # Wallets share their bank's address object and account names, as they
        # do when opened.
        operator, linked = wallet_row[2], wallet_row[3]
        books = state.banks.get(Address(operator))
        state.wallets.restore(
            Address(wallet_row[0]),
            wallet_row,
            books.key.address if books is not None else Address(operator),
            books.account_names.get(linked, linked) if books is not None else linked,
        )
    for address_raw, parent_raw, *caps in snapshot.sub_wallets:
        # Sub-wallet rows follow the wallets' and only add to them: a parent's
        # count and sum are rebuilt from them, not stored.
        child = state.wallets[Address(address_raw)]
        parent_address = Address(parent_raw)
        parent = state.wallets[parent_address]
        child.parent = parent_address
        balance_cap, single, daily, annual = (None if cap < 0 else cap for cap in caps)
        child.own_caps = (balance_cap, single, daily, annual)
        parent.sub_wallets_fen += child.holdings_fen()
    for address_raw in snapshot.closed:
        state.wallets[Address(address_raw)].closed = True
    for address_raw, _, *_caps in snapshot.sub_wallets:
        child = state.wallets[Address(address_raw)]
        if not child.closed and child.parent is not None:
            state.wallets[child.parent].open_sub_wallets += 1
    for address_raw, from_us, carry in snapshot.interest_wallets:
        wallet = state.wallets[Address(address_raw)]
        wallet.interest_from_us, wallet.interest_carry = from_us, carry
    for address_raw, paid_fen in snapshot.interest_banks:
        state.banks[Address(address_raw)].interest_paid_fen = paid_fen
    for address_raw in snapshot.corporate:
        state.wallets[Address(address_raw)].corporate = True
    for address_raw, at_minute, keep_fen, last_day in snapshot.daily_sweeps:
        address = Address(address_raw)
        state.daily_sweeps[address] = DailySweep(
            wallet=address,
            at_minute=at_minute,
            keep=Amount(keep_fen),
            last_swept_day=None if last_day == NEVER_SWEPT else last_day,
        )
    for signer, last in snapshot.sequences:
        # A wallet's is in its own row.
        if signer in state.wallets:
            raise ValueError(f"a sequence row for wallet {Address(signer)}, which has its own")
        state.sequences[Address(signer)] = last
    # Oldest first, whatever order the store returned them in: the window
    # forgets from the left.
    for (
        signer_raw,
        instruction_id,
        body_digest,
        number,
        kind,
        at_us,
        postings,
    ) in sorted(snapshot.receipts, key=lambda row: row[3]):
        # Straight into the compact record: the postings stay in their encoding.
        key = accepted_key(Address(signer_raw), instruction_id)
        state.accepted[key] = pack_record(
            body_digest, number, at_us, int(InstructionKind(kind)), postings
        )
        state.accepted_order.append(key)
    for code, owner in snapshot.codes:
        state.codes.assign(InstitutionCode.parse(code), owner)
    for key_raw, name in snapshot.regulators:
        regulator_key = VerifyKey(key_raw)
        state.regulators[regulator_key.address] = (regulator_key, name)
    for wallet_raw, regulator_raw in snapshot.frozen:
        state.frozen[Address(wallet_raw)] = Address(regulator_raw)
    for warrant_key, wallet_raw, answered in snapshot.warrants:
        state.warrants[warrant_key] = (Address(wallet_raw), bool(answered))
    _restore_pending(state, snapshot)
    _restore_devices(state, snapshot)
    for table, rows, restored in (
        ("banks", snapshot.banks, state.banks),
        ("wallets", snapshot.wallets, state.wallets),
        ("sequences", snapshot.sequences, {row[0] for row in snapshot.sequences}),
        ("receipts", snapshot.receipts, state.accepted),
        ("regulators", snapshot.regulators, state.regulators),
        ("frozen", snapshot.frozen, state.frozen),
        ("warrants", snapshot.warrants, state.warrants),
        ("sub_wallets", snapshot.sub_wallets, {row[0] for row in snapshot.sub_wallets}),
        ("closed", snapshot.closed, set(snapshot.closed)),
        ("pending", snapshot.pending, state.pending),
        ("pending_resolved", snapshot.pending_resolved, state.pending_resolved),
        ("vouchers", snapshot.vouchers, state.vouchers),
        ("interest_wallets", snapshot.interest_wallets, {r[0] for r in snapshot.interest_wallets}),
        ("interest_banks", snapshot.interest_banks, {r[0] for r in snapshot.interest_banks}),
        ("devices", snapshot.devices, state.devices),
        ("settled", snapshot.settled, {(r[0], r[1]) for r in snapshot.settled}),
        ("corporate", snapshot.corporate, set(snapshot.corporate)),
        ("daily_sweeps", snapshot.daily_sweeps, state.daily_sweeps),
    ):
        if len(rows) != len(restored):
            raise ValueError(f"the snapshot's {table} name the same key twice")
    if len(snapshot.deposits) != sum(len(bank.deposits) for bank in state.banks.values()):
        raise ValueError("the snapshot's deposits name the same account twice")
    state.issued_fen = snapshot.issued_fen
    state.redeemed_fen = snapshot.redeemed_fen
    state.entry_count = snapshot.entry_count
    state.last_time_us = snapshot.last_time_us
    return state


def _hold_aside(state: LedgerState, address: Address, amount_fen: int, field: str) -> None:
    # Money a sub-wallet holds aside is in its holdings, so in its parent's sum
    # of what its sub-wallets hold, which was summed before these rows were read.
    wallet = state.wallets[address]
    setattr(wallet, field, getattr(wallet, field) + amount_fen)
    if wallet.parent is not None:
        state.wallets[wallet.parent].sub_wallets_fen += amount_fen


def _restore_pending(state: LedgerState, snapshot: LedgerSnapshot) -> None:
    # The wallets' reserved money is rebuilt from the payments, not stored twice.
    for key, payee, amount_fen, expires_at_us, conditions, memo, entry, at_us in snapshot.pending:
        if len(key) != 36:
            raise ValueError("a pending payment's key is payer and id, 36 bytes")
        payer = Address(key[:20])
        conditions_read, end = CONDITIONS.read(conditions, 0)
        if end != len(conditions):
            raise ValueError("a pending payment's conditions have bytes left over")
        pending = PendingPayment(
            payer=payer,
            id=int.from_bytes(key[20:], "big"),
            payee=Address(payee),
            amount=Amount(amount_fen),
            expires_at_us=expires_at_us,
            conditions=conditions_read,
            memo=memo,
            created_entry=entry,
            created_at_us=at_us,
        )
        state.pending[key] = pending
        _hold_aside(state, payer, amount_fen, "reserved_fen")
        heapq.heappush(state.pending_expiries, (expires_at_us, entry, key))
    for row in snapshot.vouchers:
        key, holder, left_fen, expires_at_us, regions, merchants, memo, entry, at_us = row
        if len(key) != 37 or len(merchants) % 20:
            raise ValueError("a voucher row is malformed")
        issuer = Address(key[1:21])
        state.vouchers[key] = Voucher(
            issuer=issuer,
            id=int.from_bytes(key[21:], "big"),
            holder=Address(holder),
            amount=Amount(left_fen),
            expires_at_us=expires_at_us,
            regions=tuple(InstitutionCode.parse(code) for code in regions.split()),
            merchants=tuple(Address(merchants[i : i + 20]) for i in range(0, len(merchants), 20)),
            memo=memo,
            created_entry=entry,
            created_at_us=at_us,
        )
        _hold_aside(state, issuer, left_fen, "vouchers_fen")
        heapq.heappush(state.pending_expiries, (expires_at_us, entry, key))
    for key, outcome in snapshot.pending_resolved:
        if outcome not in (POSTED, VOIDED, EXPIRED, SPENT):
            raise ValueError(f"no pending outcome {outcome}")
        state.pending_resolved[key] = outcome


def _restore_devices(state: LedgerState, snapshot: LedgerSnapshot) -> None:
    # A wallet's offline money is rebuilt from its devices' allowances, not stored twice.
    for (
        key_raw,
        wallet_raw,
        allowance,
        loaded,
        unloaded,
        paid,
        loss,
        blocked,
        limit,
    ) in snapshot.devices:
        if blocked not in (0, 1):
            raise ValueError(f"a device is blocked or not, not {blocked}")
        wallet_address = Address(wallet_raw)
        if wallet_address not in state.wallets:
            raise ValueError(f"a device of unknown wallet {wallet_address}")
        state.devices[VerifyKey(key_raw).address] = OfflineDevice(
            wallet=wallet_address,
            public_key=key_raw,
            allowance_fen=allowance,
            loaded_fen=loaded,
            unloaded_fen=unloaded,
            paid_fen=paid,
            loss_fen=loss,
            blocked=bool(blocked),
            counter_limit=limit,
        )
        wallet = state.wallets[wallet_address]
        wallet.offline_fen += allowance
        if wallet.parent is not None:
            state.wallets[wallet.parent].sub_wallets_fen += allowance
    for address_raw, counter, seen in snapshot.settled:
        device = state.devices.get(Address(address_raw))
        if device is None or not seen or len(seen) % 32:
            raise ValueError("a settled counter is of a known device, with 32-byte digests")
        device.settled[counter] = seen
