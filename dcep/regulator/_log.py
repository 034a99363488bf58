"""The regulator view's record of supervision: appointments, freezes, warrants, disclosures.

A regulator appointed by the central bank signs freeze and unfreeze orders
and warrants; the operating bank answers a warrant with a disclosure sealed
to the regulator's key.  Each is a journal entry, so the view counts and
lists them from the journal alone: which wallets are frozen now, by whom,
since when and why; which warrants were issued, for which wallet and why,
and whether and by which entry the operator answered.  Every unmasking is
thereby on the record and countable.

Of a disclosure the view keeps only that it happened (its entry and time):
the sealed bytes are ciphertext for the regulator alone and are dropped on
ingest, so the view stays free of identity even for the wallets unmasked.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from typing import TypeVar, final

import attrs

from dcep.errors import JournalError, Reason, UnknownPartyError
from dcep.instructions._kinds import (
    AppointRegulator,
    Disclosure,
    Freeze,
    Instruction,
    Unfreeze,
    Warrant,
)
from dcep.regulator._index import END_US
from dcep.regulator._records import WalletProfile
from dcep.values._crypto import Address

__all__ = ["FreezeRecord", "RegulatorProfile", "SupervisionLog", "WarrantRecord"]

_Key = tuple[int, int]
_T = TypeVar("_T")


@final
@attrs.frozen
class RegulatorProfile:
    """A supervisor the central bank appointed: its address, and when."""

    address: Address
    appointed_entry: int
    appointed_at_us: int


@final
@attrs.frozen
class FreezeRecord:
    """One freeze of a wallet, from the order that imposed it to the one that lifted it.

    ``regulator`` signed the freeze order, entry ``entry_number`` at
    ``time_us``, giving ``reason``; ``operator`` is the wallet's bank.  The
    ``lifted_*`` fields say who lifted it, when and why, and are ``None``
    while the freeze is in force.
    """

    wallet: Address
    operator: Address
    regulator: Address
    entry_number: int
    time_us: int
    reason: str
    lifted_by: Address | None = None
    lifted_entry: int | None = None
    lifted_at_us: int | None = None
    lift_reason: str | None = None

    @property
    def in_force(self) -> bool:
        """Whether no unfreeze order has lifted this freeze yet."""
        return self.lifted_entry is None


@final
@attrs.frozen
class WarrantRecord:
    """One warrant: a regulator's journalled demand to learn who holds ``wallet``.

    ``warrant_id`` is the warrant instruction's id, unique per ``regulator``;
    ``operator`` is the bank that must answer.  ``answer_entry`` and
    ``answered_at_us`` are the entry of the operator's disclosure and its
    time, ``None`` until it answers.  The disclosed identity itself is sealed
    to the regulator's key and is not kept here.
    """

    regulator: Address
    warrant_id: int
    wallet: Address
    operator: Address
    reason: str
    entry_number: int
    time_us: int
    answer_entry: int | None = None
    answered_at_us: int | None = None

    @property
    def answered(self) -> bool:
        """Whether the operator has disclosed."""
        return self.answer_entry is not None


def _diverged(message: str, number: int) -> JournalError:
    return JournalError(Reason.JOURNAL_REPLAY_DIVERGED, message, entry=number)


def _freeze_key(record: FreezeRecord) -> _Key:
    return (record.time_us, record.entry_number)


def _warrant_key(record: WarrantRecord) -> _Key:
    return (record.time_us, record.entry_number)


def _bounds(start_us: int | None, end_us: int | None) -> tuple[_Key, _Key]:
    return (0 if start_us is None else start_us, 0), (END_US if end_us is None else end_us, 0)


def _window(
    records: list[_T], key: Callable[[_T], _Key], start_us: int | None, end_us: int | None
) -> tuple[_T, ...]:
    """The records (sorted by ``key``) whose time is in ``[start_us, end_us)``."""
    start, end = _bounds(start_us, end_us)
    first = bisect.bisect_left(records, start, key=key)
    return tuple(records[first : bisect.bisect_left(records, end, key=key)])


@final
class SupervisionLog:
    """Supervision entries read so far, in journal order; the view's holder, not public.

    Records are kept in lists in journal order, which is also time order
    (entry times never go backwards), so a window is two bisections.
    """

    __slots__ = ("_answers", "_freezes", "_frozen", "_warrant_at", "_warrants", "regulators")

    def __init__(self) -> None:
        self.regulators: dict[Address, RegulatorProfile] = {}
        self._freezes: list[FreezeRecord] = []
        #: Wallet to the position in ``_freezes`` of its freeze in force.
        self._frozen: dict[Address, int] = {}
        self._warrants: list[WarrantRecord] = []
        #: (regulator, warrant id) to the position in ``_warrants``.
        self._warrant_at: dict[tuple[Address, int], int] = {}
        #: (time_us, entry, position in ``_warrants``) of each answer, in journal order.
        self._answers: list[tuple[int, int, int]] = []

    def read(
        self,
        number: int,
        time_us: int,
        signer: Address,
        instruction: Instruction,
        wallets: Mapping[Address, WalletProfile],
    ) -> None:
        """Record entry ``number`` if it is an act of supervision; ignore it if not.

        Checks first, then changes: raises ``JOURNAL_REPLAY_DIVERGED``, and
        records nothing, for an entry the ledger could not have accepted (an
        unknown wallet, a freeze of a frozen wallet, an unfreeze of one not
        frozen, an answer to no warrant or a second answer).
        """
        if isinstance(instruction, AppointRegulator):
            address = instruction.regulator_key.address
            self.regulators[address] = RegulatorProfile(address, number, time_us)
            return
        if not isinstance(instruction, Freeze | Unfreeze | Warrant | Disclosure):
            return
        wallet = wallets.get(instruction.wallet)
        if wallet is None:
            raise _diverged("a supervision entry names a wallet never opened", number)
        if isinstance(instruction, Freeze):
            if wallet.address in self._frozen:
                raise _diverged("a freeze of a wallet already frozen", number)
            self._freeze(number, time_us, signer, wallet, instruction.reason)
        elif isinstance(instruction, Unfreeze):
            if wallet.address not in self._frozen:
                raise _diverged("an unfreeze of a wallet not frozen", number)
            self._unfreeze(number, time_us, signer, wallet.address, instruction.reason)
        elif isinstance(instruction, Warrant):
            self._warrant_at[signer, instruction.id] = len(self._warrants)
            self._warrants.append(
                WarrantRecord(
                    signer,
                    instruction.id,
                    wallet.address,
                    wallet.operator,
                    instruction.reason,
                    number,
                    time_us,
                )
            )
        else:
            # A disclosure: keep that it answered, never what it sealed.
            at = self._warrant_at.get((instruction.regulator, instruction.warrant_id))
            if at is None or self._warrants[at].wallet != wallet.address:
                raise _diverged("a disclosure answers no warrant", number)
            if self._warrants[at].answered:
                raise _diverged("a second answer to one warrant", number)
            self._warrants[at] = attrs.evolve(
                self._warrants[at], answer_entry=number, answered_at_us=time_us
            )
            self._answers.append((time_us, number, at))

    def _freeze(
        self, number: int, time_us: int, signer: Address, wallet: WalletProfile, reason: str
    ) -> None:
        self._frozen[wallet.address] = len(self._freezes)
        self._freezes.append(
            FreezeRecord(wallet.address, wallet.operator, signer, number, time_us, reason)
        )

    def _unfreeze(
        self, number: int, time_us: int, signer: Address, wallet: Address, reason: str
    ) -> None:
        position = self._frozen.pop(wallet)
        self._freezes[position] = attrs.evolve(
            self._freezes[position],
            lifted_by=signer,
            lifted_entry=number,
            lifted_at_us=time_us,
            lift_reason=reason,
        )

    # -- reading ---------------------------------------------------------------

    @property
    def freeze_count(self) -> int:
        """Freeze orders read."""
        return len(self._freezes)

    @property
    def unfreeze_count(self) -> int:
        """Unfreeze orders read."""
        return len(self._freezes) - len(self._frozen)

    @property
    def warrant_count(self) -> int:
        """Warrants read."""
        return len(self._warrants)

    @property
    def disclosure_count(self) -> int:
        """Disclosures read: warrants answered."""
        return len(self._answers)

    def freezes(self, start_us: int | None, end_us: int | None) -> tuple[FreezeRecord, ...]:
        """Freezes ordered in ``[start_us, end_us)``, lifted or not, in journal order."""
        return _window(self._freezes, _freeze_key, start_us, end_us)

    def frozen(self) -> tuple[FreezeRecord, ...]:
        """The freezes in force, one per frozen wallet, oldest first."""
        return tuple(self._freezes[position] for position in sorted(self._frozen.values()))

    def is_frozen(self, wallet: Address) -> bool:
        """Whether a freeze of ``wallet`` is in force."""
        return wallet in self._frozen

    def warrants(self, start_us: int | None, end_us: int | None) -> tuple[WarrantRecord, ...]:
        """Warrants issued in ``[start_us, end_us)``, in journal order."""
        return _window(self._warrants, _warrant_key, start_us, end_us)

    def warrant(self, regulator: Address, warrant_id: int) -> WarrantRecord:
        """Warrant ``warrant_id`` of ``regulator``; raises ``UNKNOWN_WARRANT`` if there is none."""
        at = self._warrant_at.get((regulator, warrant_id))
        if at is None:
            raise UnknownPartyError(
                Reason.UNKNOWN_WARRANT,
                f"no warrant {warrant_id} of regulator {regulator} in the journal",
                party=str(regulator),
                field="warrant_id",
            )
        return self._warrants[at]

    def disclosures(self, start_us: int | None, end_us: int | None) -> tuple[WarrantRecord, ...]:
        """Warrants answered in ``[start_us, end_us)``, in the order they were answered."""
        start, end = _bounds(start_us, end_us)
        first = bisect.bisect_left(self._answers, start)
        last = bisect.bisect_left(self._answers, end)
        return tuple(self._warrants[at] for _, _, at in self._answers[first:last])
