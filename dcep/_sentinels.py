"""Sentinels: signature checks in worker processes, ahead of the sequencer.

Verifying an Ed25519 signature is most of the cost of a transfer and needs no
ledger state, so, as OpenCBDC's sentinels do, a :class:`SentinelPool` runs
those checks for a whole batch in worker processes while the single
sequencer (the ledger) keeps applying in submission order.  Workers start
once and are reused.  A worker only answers "good" or "not good" for each
envelope; the ledger still decodes every instruction and, for one a worker
found bad, verifies it again itself to raise exactly the error it would
have raised alone: the journal is the same with 0, 1 or N workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from multiprocessing.pool import Pool
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
        if self._pool is None:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, "the sentinel pool is closed", field="sentinels"
            )
        if len(envelopes) < _MIN_PARALLEL_BATCH:
            return [_signature_is_good(envelope, self._network_id) for envelope in envelopes]
        size = -(-len(envelopes) // (self._workers * 4))
        chunks = [list(envelopes[i : i + size]) for i in range(0, len(envelopes), size)]
        verdicts: list[bool] = []
        for chunk_verdicts in self._pool.map(_check_chunk, chunks):
            verdicts.extend(chunk_verdicts)
        return verdicts

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
