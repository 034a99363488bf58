"""A throwaway view of the ledger's state, for trying a linked batch before applying it.

A linked batch is applied whole or not at all, but its members' checks
depend on the members before them, and every handler checks and then
mutates.  So the ledger first applies the members, with the ordinary apply,
to an overlay of its state: a :class:`LedgerState` whose tables read through
to the real ones and copy each mutable record the first time it is read, so
that every write lands in the overlay.  If every member is accepted there,
the ledger applies them again for real, where they are accepted too (same
state, same time, same code); if one is refused, the overlay is dropped and
nothing of the ledger changed.  The cost is proportional to what the batch
touches (and the idempotency window's order, copied once), not to the
ledger's size.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar, overload

from dcep.core._state import BankBooks, LedgerState, OfflineDevice
from dcep.core._wallet_table import WalletOverlay
from dcep.values._codes import CodeRegistry

__all__ = ["overlay_of"]

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")


class _ReadThrough(dict[K, V], Generic[K, V]):
    """A dict of the entries written (or copied) here, over a base dict left untouched.

    ``clone`` copies a mutable value on its first read, so that changes to it
    stay here.  ``_gone`` holds keys of the base deleted here.
    """

    __slots__ = ("_base", "_clone", "_gone")

    def __init__(self, base: dict[K, V], clone: Callable[[V], V] | None = None) -> None:
        super().__init__()
        self._base = base
        self._clone = clone
        self._gone: set[K] = set()

    def _fetch(self, key: K) -> V:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        if key in self._gone:
            raise KeyError(key)
        value = self._base[key]
        if self._clone is not None:
            value = self._clone(value)
            dict.__setitem__(self, key, value)
        return value

    def __getitem__(self, key: K) -> V:
        return self._fetch(key)

    @overload
    def get(self, key: K, default: None = None, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V, /) -> V: ...
    @overload
    def get(self, key: K, default: D, /) -> V | D: ...

    def get(self, key: K, default: object = None, /) -> object:
        try:
            return self._fetch(key)
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        return key not in self._gone and key in self._base

    def __setitem__(self, key: K, value: V) -> None:
        self._gone.discard(key)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: K) -> None:
        if key not in self:
            raise KeyError(key)
        if dict.__contains__(self, key):
            dict.__delitem__(self, key)
        if key in self._base:
            self._gone.add(key)

    def pop(self, key: K, *default: Any) -> Any:
        if key in self:
            value = self._fetch(key)
            del self[key]
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def setdefault(self, key: K, default: V) -> V:
        if key not in self:
            self[key] = default
        return self._fetch(key)

    def __iter__(self) -> Iterator[K]:
        for key in self._base:
            if key not in self._gone:
                yield key
        for key in dict.__iter__(self):
            if key not in self._base:
                yield key

    def __len__(self) -> int:
        added = sum(1 for key in dict.__iter__(self) if key not in self._base)
        return len(self._base) - len(self._gone) + added

    def keys(self) -> Any:
        return list(self)

    def values(self) -> Any:
        return [self._fetch(key) for key in self]

    def items(self) -> Any:
        return [(key, self._fetch(key)) for key in self]


def _clone_device(device: OfflineDevice) -> OfflineDevice:
    clone = copy.copy(device)
    clone.settled = _ReadThrough(device.settled)
    return clone


def _clone_bank(bank: BankBooks) -> BankBooks:
    clone = copy.copy(bank)
    clone.deposits = _ReadThrough(bank.deposits)
    clone.account_names = _ReadThrough(bank.account_names)
    return clone


def _clone_codes(codes: CodeRegistry) -> CodeRegistry:
    clone = CodeRegistry()
    for code, owner in codes.items():
        clone.assign(code, owner)
    return clone


def overlay_of(state: LedgerState) -> LedgerState:
    """A state that reads as ``state`` does and takes every write without touching it."""
    return LedgerState(
        central_bank=state.central_bank,
        banks=_ReadThrough(state.banks, _clone_bank),
        wallets=WalletOverlay(state.wallets),
        sequences=_ReadThrough(state.sequences),
        accepted=_ReadThrough(state.accepted),
        accepted_order=deque(state.accepted_order),
        codes=_clone_codes(state.codes),
        regulators=_ReadThrough(state.regulators),
        frozen=_ReadThrough(state.frozen),
        warrants=_ReadThrough(state.warrants),
        issued_fen=state.issued_fen,
        redeemed_fen=state.redeemed_fen,
        entry_count=state.entry_count,
        last_time_us=state.last_time_us,
        pending=_ReadThrough(state.pending),
        pending_expiries=list(state.pending_expiries),
        pending_resolved=_ReadThrough(state.pending_resolved),
        linked_due=state.linked_due,
        linked_digest=state.linked_digest,
        linked_running=state.linked_running,
        network_id=state.network_id,
        vouchers=_ReadThrough(state.vouchers),
        devices=_ReadThrough(state.devices, _clone_device),
    )
