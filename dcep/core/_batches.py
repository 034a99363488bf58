"""Batches and worker processes: submitting many instructions to one ledger.

The ledger's own module is one state machine that applies one instruction at
a time; this module feeds it many.  The stateless checks (decoding, the
signature) run a few instructions ahead of applying, in-process or in a
:class:`~dcep.core.SentinelPool` of worker processes, while the state machine
applies in submission order; subscribers reach their commit point once per
batch.  The outcomes are exactly those of submitting one by one.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator, Iterable, Iterator
from typing import Final

from dcep.core._machine import LedgerCore
from dcep.core._records import Receipt, Rejection
from dcep.core._sentinels import SentinelPool, read_until_failure
from dcep.errors import DcepError, InvalidFieldError, Reason
from dcep.instructions._encoding import SignedInstruction

__all__ = ["DEFAULT_COMMIT_EVERY", "submit_many", "submit_stream"]

#: Instructions per commit point in :func:`submit_stream`, by default.
DEFAULT_COMMIT_EVERY: Final = 1000
#: Instructions checked (decoded, verified) together before they are applied,
#: without workers: 1 interleaves libsodium with applying, which slows both;
#: a whole batch of 1,000 leaves its first envelopes out of cache by the time
#: they are applied.  Measured on 100,000 wallets: 8 to 32 took 0.4 to 0.8 µs
#: a transfer less than 1,000 in an A/B run, a gain the full benchmark's noise
#: hides (see docs/performance.md).
_CHECKED_TOGETHER: Final = 32


def submit_many(
    core: LedgerCore,
    instructions: Iterable[SignedInstruction | bytes],
    *,
    sentinels: SentinelPool | None = None,
) -> list[Receipt | Rejection]:
    """Submit each instruction in order; one result per instruction.

    A refused instruction yields a :class:`~dcep.core.Rejection` and does not
    stop the ones after it (sequence numbers may skip, so they still fit).
    The whole batch reaches the subscribers' commit point once, at the
    end: with durable storage, one transaction for the batch.  The
    stateless checks (decoding, the signature) run a few instructions
    ahead of applying, which changes no outcome.  With
    ``sentinels``, signatures are checked in their worker processes a few
    chunks ahead of applying, so both run at once; the results and the
    journal are exactly those without.
    """
    _require_usable(core, sentinels)
    try:
        return list(_outcomes(core, list(instructions), sentinels))
    finally:
        core.commit()


def submit_stream(
    core: LedgerCore,
    instructions: Iterable[SignedInstruction | bytes],
    *,
    sentinels: SentinelPool | None = None,
    commit_every: int = DEFAULT_COMMIT_EVERY,
) -> Generator[Receipt | Rejection, None, None]:
    """Submit a stream of instructions, committing every ``commit_every``; lazily.

    The results and the journal are those of :func:`submit_many` on
    consecutive groups of ``commit_every``, and each group's results are
    yielded only after its commit point (so, with durable storage, after
    it is durable).  The difference is the sentinels': they check ahead
    across group boundaries, so the workers never wait while the
    sequencer commits a group or the caller handles its results.  The
    input is read lazily, a few chunks ahead at most.  Stopping early
    (closing the generator) commits what was applied; the results not yet
    yielded are lost to the caller, and resubmitting those instructions
    is safe (ids are idempotent).
    """
    _require_usable(core, sentinels)
    if type(commit_every) is not int or commit_every < 1:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            f"commit_every must be a whole number of at least 1, not {commit_every!r}",
            field="commit_every",
        )
    return _stream(core, instructions, sentinels, commit_every)


def _stream(
    core: LedgerCore,
    instructions: Iterable[SignedInstruction | bytes],
    sentinels: SentinelPool | None,
    commit_every: int,
) -> Generator[Receipt | Rejection, None, None]:
    # If reading the input fails, every instruction read before is applied
    # and its result yielded, then the error is raised: the same with any
    # number of workers, whose look-ahead must not move the error earlier.
    failure: list[Exception] = []
    items = read_until_failure(instructions, failure)
    if sentinels is None:  # group by group: each group's checks run first
        while batch := list(itertools.islice(items, commit_every)):
            yield from submit_many(core, batch)
    else:
        yield from _stream_checked_ahead(core, items, sentinels, commit_every)
    if failure:
        raise failure[0]


def _stream_checked_ahead(
    core: LedgerCore,
    items: Iterator[SignedInstruction | bytes],
    sentinels: SentinelPool,
    commit_every: int,
) -> Generator[Receipt | Rejection, None, None]:
    outcomes = _outcomes(core, items, sentinels)
    group: list[Receipt | Rejection] = []
    committed_at = core.entry_count
    try:
        for outcome in outcomes:
            group.append(outcome)
            if len(group) == commit_every:
                # Marked before committing: a commit that fails is not retried.
                done, group = group, []
                committed_at = core.entry_count
                core.commit()
                yield from done
    finally:
        outcomes.close()
        if core.entry_count != committed_at or group:
            core.commit()
    yield from group


def _outcomes(
    core: LedgerCore, items: Iterable[SignedInstruction | bytes], sentinels: SentinelPool | None
) -> Generator[Receipt | Rejection, None, None]:
    # Apply each item in order, without a commit point.
    if sentinels is None:
        # The stateless checks a few at a time, then applying those few:
        # libsodium runs faster uninterrupted than interleaved with
        # applying, and applying runs faster on envelopes still in cache.
        pending = iter(items)
        while checks := [
            core.checked(item) for item in itertools.islice(pending, _CHECKED_TOGETHER)
        ]:
            for checked in checks:
                if isinstance(checked, DcepError):
                    yield Rejection(checked.instruction_id, checked)
                    continue
                try:
                    receipt = core.apply_checked(checked)
                except DcepError as error:
                    yield Rejection(error.instruction_id, error)
                    continue
                yield receipt
        return
    # Workers check later items while earlier ones apply.
    for item, good in sentinels.paired(items, _envelope):
        try:
            signed = (
                item if isinstance(item, SignedInstruction) else SignedInstruction.from_bytes(item)
            )
            if not good:
                # Raise exactly the error the in-process check raises.
                signed.verify(core.network_id)
            receipt = core.apply_checked(signed)
        except DcepError as error:
            yield Rejection(error.instruction_id, error)
            continue
        yield receipt


def _require_usable(core: LedgerCore, sentinels: SentinelPool | None) -> None:
    if sentinels is None:
        return
    if sentinels.closed:
        raise InvalidFieldError(
            Reason.FIELD_INVALID, "the sentinel pool is closed", field="sentinels"
        )
    if sentinels.network_id != core.network_id:
        raise InvalidFieldError(
            Reason.FIELD_INVALID,
            "the sentinel pool checks signatures for another network",
            field="sentinels",
        )


def _envelope(item: object) -> bytes:
    # What the sentinels check for one item of a batch; anything that is not an
    # envelope gets a "bad" verdict and is refused in order, as without them.
    if isinstance(item, SignedInstruction):
        return item.to_bytes()
    if isinstance(item, bytes | bytearray | memoryview):
        return bytes(item)
    return b""
