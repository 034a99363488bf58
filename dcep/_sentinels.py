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
entries while the workers check later ones.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Generator, Iterable, Sequence
from multiprocessing.pool import AsyncResult, Pool
from typing import Final, final

import nacl.bindings
import nacl.exceptions

from dcep._crypto import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, domain_message
from dcep._encoding import domain_tag
from dcep._errors import InvalidFieldError, Reason
from dcep._instructions import Kind

__all__ = ["SentinelPool"]

_HEADER: Final = PUBLIC_KEY_SIZE + SIGNATURE_SIZE
#: Below this many envelopes a batch is checked in-process: shipping it costs more.
_MIN_PARALLEL_BATCH: Final = 64
#: Envelopes shipped to a worker at a time: large enough that shipping is cheap.
_CHUNK: Final = 512
#: Chunks queued per worker, so none idles while the caller works, yet the
#: input is read only this far ahead (a whole database never sits in memory).
_IN_FLIGHT_PER_WORKER: Final = 3

_worker_network_id = b""


def _init_worker(network_id: bytes) -> None:
    global _worker_network_id
    _worker_network_id = network_id


def _signature_is_good(envelope: bytes, network_id: bytes) -> bool:
    # Only the signature: decoding and every other check stay with the sequencer.
    if len(envelope) < _HEADER + 2:
        return False
    try:
        tag = domain_tag(Kind(envelope[_HEADER + 1]))
        nacl.bindings.crypto_sign_open(
            envelope[PUBLIC_KEY_SIZE:_HEADER]
            + domain_message(tag, network_id, envelope[_HEADER:]),
            envelope[:PUBLIC_KEY_SIZE],
        )
    except (ValueError, TypeError, nacl.exceptions.CryptoError):
        return False
    return True


def _check_chunk(envelopes: list[bytes]) -> list[bool]:
    network_id = _worker_network_id
    return [_signature_is_good(envelope, network_id) for envelope in envelopes]


@final
class SentinelPool:
    """Worker processes that check signatures for one network id.

    ``workers`` defaults to the machine's core count.  Close it (or use it
    as a context manager) to stop the workers.
    """

    __slots__ = ("_network_id", "_pool", "_workers")

    def __init__(self, network_id: bytes, workers: int | None = None) -> None:
        self._workers = workers if workers is not None else (os.cpu_count() or 1)
        if self._workers < 1:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, "a sentinel pool needs at least one worker", field="workers"
            )
        self._network_id = network_id
        # "spawn" is safe whatever threads the parent runs; workers start only once.
        context = multiprocessing.get_context("spawn")
        self._pool: Pool | None = context.Pool(
            self._workers, initializer=_init_worker, initargs=(network_id,)
        )

    @property
    def workers(self) -> int:
        """How many worker processes check signatures."""
        return self._workers

    @property
    def network_id(self) -> bytes:
        """The network the workers verify signatures for."""
        return self._network_id

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
        if self._pool is None:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, "the sentinel pool is closed", field="sentinels"
            )
        return self._stream(self._pool, envelopes)

    def _stream(self, pool: Pool, envelopes: Iterable[bytes]) -> Generator[bool, None, None]:
        envelopes = iter(envelopes)
        head = list(itertools.islice(envelopes, self._workers * _CHUNK))
        if len(head) < _MIN_PARALLEL_BATCH:  # the whole input, and too small to ship
            for envelope in head:
                yield _signature_is_good(envelope, self._network_id)
            return
        # A short head is the whole input (a batch): share it out in as many
        # chunks as may be in flight, so the first verdicts come back early and
        # the caller applies them while the workers check the rest.
        size = -(-len(head) // (self._workers * _IN_FLIGHT_PER_WORKER))
        rest = itertools.chain(head, envelopes)
        chunks = iter(lambda: list(itertools.islice(rest, size)), [])
        pending: deque[AsyncResult[list[bool]]] = deque()
        while True:
            for chunk in itertools.islice(
                chunks, self._workers * _IN_FLIGHT_PER_WORKER - len(pending)
            ):
                pending.append(pool.apply_async(_check_chunk, (chunk,)))
            if not pending:
                return
            yield from pending.popleft().get()

    def close(self) -> None:
        """Stop the workers."""
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> SentinelPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
