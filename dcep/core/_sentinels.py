"""Sentinels: signature checks in worker processes, ahead of the sequencer.

Verifying an Ed25519 signature is most of the cost of a transfer and needs no
ledger state, so, as OpenCBDC's sentinels do, a :class:`SentinelPool` runs
those checks for a whole batch in worker processes while the single
sequencer (the ledger) keeps applying in submission order.  Workers start
once and are reused.  A worker only answers "good" or "not good" for each
envelope; the ledger still decodes every instruction and, for one a worker
found bad, verifies it again itself to raise exactly the error it would
have raised alone: the journal is the same with 0, 1 or N workers.
:meth:`SentinelPool.verdicts` streams, so a replica re-executes earlier
entries while the workers check later ones; :meth:`SentinelPool.paired_chunks`
streams a chunk at a time and, for a replay, has the workers also check
the keys that instructions bind (the other costly stateless check), which
the sequencer then need not repeat.

A worker that dies (killed, out of memory) costs time, never an answer or a
hang: the chunks it and its siblings held are checked in-process, and a
fresh set of workers takes the rest of the stream.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Final, TypeVar, final

import nacl.bindings
import nacl.exceptions

from dcep.errors import InvalidFieldError, Reason
from dcep.instructions._encoding import NEW_KEY_OFFSETS, domain_tag
from dcep.instructions._kinds import InstructionKind
from dcep.values._crypto import (
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    domain_message,
    note_valid_points,
)

__all__ = ["SentinelPool", "read_until_failure"]

_HEADER: Final = PUBLIC_KEY_SIZE + SIGNATURE_SIZE
#: Below this many envelopes a batch is checked in-process: shipping it costs more.
_MIN_PARALLEL_BATCH: Final = 64
#: Envelopes shipped to a worker at a time, once a stream is under way: large
#: enough that shipping is cheap (the first, a batch's, are smaller; see ``_stream``).
_CHUNK: Final = 512
#: Chunks queued per worker, so none idles while the caller works, yet the
#: input is read only this far ahead (a whole database never sits in memory).
_IN_FLIGHT_PER_WORKER: Final = 3

_worker_network_id = b""

T = TypeVar("T")
R = TypeVar("R")


def _init_worker(network_id: bytes) -> None:
    global _worker_network_id
    _worker_network_id = network_id


def _signature_is_good(envelope: bytes, network_id: bytes) -> bool:
    # Only the signature: decoding and every other check stay with the sequencer.
    if len(envelope) < _HEADER + 2:
        return False
    prefix = _domain_prefixes(network_id).get(envelope[_HEADER + 1])
    if prefix is None:  # no such kind (or no such network): nothing it signs verifies
        return False
    try:
        nacl.bindings.crypto_sign_open(
            envelope[PUBLIC_KEY_SIZE:_HEADER] + prefix + envelope[_HEADER:],
            envelope[:PUBLIC_KEY_SIZE],
        )
    except (ValueError, TypeError, nacl.exceptions.CryptoError):
        return False
    return True


@functools.lru_cache(maxsize=16)
def _domain_prefixes(network_id: bytes) -> dict[int, bytes]:
    # What domain_message puts before an instruction of each kind, by the
    # kind's byte: looked up once per envelope, not built.
    prefixes = {}
    for kind in InstructionKind:
        try:
            prefixes[int(kind)] = domain_message(domain_tag(kind), network_id, b"")
        except ValueError:  # a network id too long to sign under
            continue
    return prefixes


def _check_chunk(envelopes: list[bytes]) -> list[bool]:
    network_id = _worker_network_id
    return [_signature_is_good(envelope, network_id) for envelope in envelopes]


def _new_keys(envelope: bytes) -> list[bytes]:
    # The keys the envelope's instruction binds that are valid points, read
    # where its kind keeps them (not decoded: whatever else is wrong with the
    # instruction, the sequencer finds); none for a kind that binds none.
    offsets = NEW_KEY_OFFSETS.get(envelope[_HEADER + 1]) if len(envelope) > _HEADER + 1 else None
    if not offsets:
        return []
    raws = [envelope[_HEADER + offset : _HEADER + offset + PUBLIC_KEY_SIZE] for offset in offsets]
    return [
        raw
        for raw in raws
        if len(raw) == PUBLIC_KEY_SIZE and nacl.bindings.crypto_core_ed25519_is_valid_point(raw)
    ]


def _check_chunk_and_keys(envelopes: list[bytes]) -> tuple[list[bool], list[bytes]]:
    # The verdicts, and the new keys of the envelopes that bind some (see
    # SentinelPool.paired_chunks): both are what the sequencer would check.
    network_id = _worker_network_id
    keys = [key for envelope in envelopes for key in _new_keys(envelope)]
    return [_signature_is_good(envelope, network_id) for envelope in envelopes], keys


def _worker_pid() -> int:
    return os.getpid()


def read_until_failure(items: Iterable[T], failure: list[Exception]) -> Iterator[T]:
    """``items`` until reading one raises; the error goes into ``failure``, not up.

    So that a reader ahead (sentinels, a tee) cannot move an input's error
    before the items read ahead of it: the consumer raises it when it gets
    there.  An interruption (``KeyboardInterrupt``) still stops at once, and
    closing this iterator leaves ``items`` open.
    """
    iterator = iter(items)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except Exception as error:
            failure.append(error)
            return
        yield item


@final
class SentinelPool:
    """Worker processes that check signatures for one network id.

    ``workers`` defaults to the machine's core count.  They start here, once,
    and are reused; a set with a dead worker is replaced (see
    :attr:`restarts`).  Close the pool (or use it as a context manager) to
    stop them.
    """

    __slots__ = ("_executor", "_network_id", "_restarts", "_workers")

    def __init__(self, network_id: bytes, workers: int | None = None) -> None:
        self._workers = workers if workers is not None else (os.cpu_count() or 1)
        if self._workers < 1:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, "a sentinel pool needs at least one worker", field="workers"
            )
        self._network_id = network_id
        self._restarts = 0
        self._executor: ProcessPoolExecutor | None = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # "spawn" is safe whatever threads the parent runs.  The executor
        # starts workers on demand; asking each for its pid starts them all
        # now, so the first batch does not pay for it (and a failure shows here).
        executor = ProcessPoolExecutor(
            self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self._network_id,),
        )
        try:
            for started in [executor.submit(_worker_pid) for _ in range(self._workers)]:
                started.result()
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        return executor

    @property
    def workers(self) -> int:
        """How many worker processes check signatures."""
        return self._workers

    @property
    def network_id(self) -> bytes:
        """The network the workers verify signatures for."""
        return self._network_id

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` stopped the workers."""
        return self._executor is None

    @property
    def restarts(self) -> int:
        """How many times a dead worker made the pool start a fresh set of workers."""
        return self._restarts

    def check(self, envelopes: Sequence[bytes]) -> list[bool]:
        """For each envelope, in order: whether its signature is good."""
        return list(self.verdicts(envelopes))

    def verdicts(self, envelopes: Iterable[bytes]) -> Generator[bool, None, None]:
        """Stream :meth:`check`'s verdicts, in order, reading the input lazily.

        At most a few chunks per worker are in flight, so a caller that
        works on each verdict as it comes (a replica re-executing entries)
        overlaps with the workers checking the ones after, and a stream of
        any length needs only that much memory.  Closing the generator early
        leaves the pool usable.  A closed pool is refused here, not later.
        """
        if self._executor is None:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, "the sentinel pool is closed", field="sentinels"
            )
        return self._stream(envelopes)

    def paired(
        self, items: Iterable[T], envelope_of: Callable[[T], bytes]
    ) -> Iterator[tuple[T, bool]]:
        """Each item with its envelope's verdict, in order, streamed as :meth:`verdicts`.

        Items the workers are checking are held here until the caller
        reaches them, so the look-ahead stays bounded.  If reading ``items``
        raises, the caller gets every item read before, then the error: the
        look-ahead never moves it earlier.
        """
        for chunk, _, verdicts in self.paired_chunks(
            items, lambda chunk: [envelope_of(item) for item in chunk]
        ):
            yield from zip(chunk, verdicts, strict=True)

    def paired_chunks(
        self,
        items: Iterable[T],
        envelopes_of: Callable[[list[T]], list[bytes]],
        *,
        new_keys: bool = False,
    ) -> Iterator[tuple[list[T], list[bytes], list[bool]]]:
        """:meth:`paired` a chunk at a time: items, their envelopes, and the verdicts.

        The same stream, look-ahead and failure rule as :meth:`paired`, for
        a caller that goes through millions of items (a replica): the
        per-item work of pairing is then a ``zip`` over lists, and the
        envelopes sent to the workers are at hand to decode.  Refused at
        once if the pool is closed.

        With ``new_keys``, the workers also check the keys that the
        instructions bind (a wallet's, a bank's, a device's: each a valid
        point, about 40 µs), and this process takes their word for those it
        decodes next (``dcep.values._crypto.note_valid_points``), so that
        this costly check, like the signatures', is off the sequencer.
        """
        if self._executor is None:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, "the sentinel pool is closed", field="sentinels"
            )
        return self._paired_chunks(items, envelopes_of, new_keys)

    def _paired_chunks(
        self,
        items: Iterable[T],
        envelopes_of: Callable[[list[T]], list[bytes]],
        new_keys: bool,
    ) -> Generator[tuple[list[T], list[bytes], list[bool]], None, None]:
        failure: list[Exception] = []
        source = read_until_failure(items, failure)
        head = list(itertools.islice(source, self._workers * _CHUNK))
        item_chunks, ship = self._chunks(head, source)
        now, ahead = itertools.tee((chunk, envelopes_of(chunk)) for chunk in item_chunks)
        for (chunk, envelopes), verdicts in zip(
            now,
            self._verdict_chunks((envelopes for _, envelopes in ahead), ship, new_keys),
            strict=True,
        ):
            yield chunk, envelopes, verdicts
        if failure:
            raise failure[0]

    def _chunks(self, head: list[T], rest: Iterator[T]) -> tuple[Iterator[list[T]], bool]:
        # The chunks to check, and whether to ship them.  The head (all of a
        # batch) is shared out in as many chunks as may be in flight, so the
        # first verdicts come back early and the caller works on them while
        # the workers check the rest; the rest of a long stream goes in full
        # chunks, which cost the sequencer least to ship.  A head too small
        # to be worth shipping is the whole input: one chunk, checked here.
        if len(head) < _MIN_PARALLEL_BATCH:
            return iter([head] if head else []), False
        size = -(-len(head) // (self._workers * _IN_FLIGHT_PER_WORKER))
        return itertools.chain(
            (head[start : start + size] for start in range(0, len(head), size)),
            iter(lambda: list(itertools.islice(rest, _CHUNK)), []),
        ), True

    def _in_process(self, envelopes: Iterable[bytes]) -> Iterator[bool]:
        network_id = self._network_id
        return (_signature_is_good(envelope, network_id) for envelope in envelopes)

    def _submit(
        self, task: Callable[..., R], *args: object
    ) -> tuple[Future[R] | None, ProcessPoolExecutor | None]:
        # The future and the executor it went to; no future once the pool is
        # closed, and the caller does the work in-process.
        executor = self._executor
        if executor is None:
            return None, None
        try:
            return executor.submit(task, *args), executor
        except BrokenProcessPool:  # broke while idle, since the last submission
            self._restart(executor)
            return self._submit(task, *args)

    def _restart(self, broken: ProcessPoolExecutor | None) -> None:
        # Once per broken executor, however many of its futures report it.
        # No cancelling: a broken executor fails every future it held, and
        # waiting for that keeps each failure a BrokenProcessPool.
        if broken is None or broken is not self._executor:
            return
        self._executor = None
        broken.shutdown(wait=True)
        self._executor = self._start()  # if this fails, the pool stays closed
        self._restarts += 1

    def _stream(self, envelopes: Iterable[bytes]) -> Generator[bool, None, None]:
        envelopes = iter(envelopes)
        head = list(itertools.islice(envelopes, self._workers * _CHUNK))
        for verdicts in self._verdict_chunks(*self._chunks(head, envelopes)):
            yield from verdicts

    def _verdict_chunks(
        self, chunks: Iterable[list[bytes]], ship: bool, new_keys: bool = False
    ) -> Generator[list[bool], None, None]:
        # Each chunk's verdicts, in order: from the workers, or checked here
        # (and then the keys too, by the decoding that follows).
        if not ship:
            for chunk in chunks:
                yield list(self._in_process(chunk))
            return
        chunks = iter(chunks)
        task: Callable[[list[bytes]], list[bool] | tuple[list[bool], list[bytes]]] = (
            _check_chunk_and_keys if new_keys else _check_chunk
        )
        pending: deque[
            tuple[
                Future[list[bool] | tuple[list[bool], list[bytes]]] | None,
                ProcessPoolExecutor | None,
                list[bytes],
            ]
        ] = deque()
        while True:
            for chunk in itertools.islice(
                chunks, self._workers * _IN_FLIGHT_PER_WORKER - len(pending)
            ):
                pending.append((*self._submit(task, chunk), chunk))
            if not pending:
                return
            future, executor, chunk = pending.popleft()
            try:
                if future is None:  # the pool was closed under the stream
                    raise CancelledError
                result = future.result()
            except (BrokenProcessPool, CancelledError):
                # A worker died, and with it every chunk in flight: check those
                # here (so a chunk that kills workers cannot loop), then carry
                # on with fresh workers.
                lost = [chunk, *(held for _, _, held in pending)]
                pending.clear()
                self._restart(executor)
                for held in lost:
                    yield list(self._in_process(held))
                continue
            if isinstance(result, tuple):
                verdicts, keys = result
                note_valid_points(keys)
                yield verdicts
            else:
                yield result

    def close(self) -> None:
        """Stop the workers (work still queued for them is dropped)."""
        if self._executor is not None:
            executor, self._executor = self._executor, None
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> SentinelPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
