"""The verify ceiling: how fast libsodium alone checks the signatures a ledger must check.

Nothing that checks every signature can go faster than this, so the other
benchmarks report their rates as a share of it.  One process calls
``nacl.bindings.crypto_sign_open`` (what :class:`dcep.values.VerifyKey` calls) on
pre-built ``signature ‖ message`` strings; the pool does the same in
``os.cpu_count()`` worker processes that were started, and given the
messages, once, before any timing.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import os
from collections.abc import Sequence
from types import TracebackType

import nacl.bindings

from benchmarks._common import Timing, repeat, time_call
from benchmarks._fixtures import SignedMessage

#: The messages a pool worker holds, given once by the pool's initializer.
_worker_messages: Sequence[SignedMessage] = ()


def verify_messages(messages: Sequence[SignedMessage]) -> int:
    """Check every signature; return how many (a bad one raises)."""
    sign_open = nacl.bindings.crypto_sign_open
    for signed, public_key in messages:
        sign_open(signed, public_key)
    return len(messages)


def check_points(keys: Sequence[bytes]) -> int:
    """Check that every key is a point of the prime-order group; return how many."""
    is_valid_point = nacl.bindings.crypto_core_ed25519_is_valid_point
    for key in keys:
        if not is_valid_point(key):
            raise AssertionError(f"{key.hex()} is no valid point")
    return len(keys)


def one_core(messages: Sequence[SignedMessage], repeats: int) -> Timing:
    """Time verifying all of ``messages`` in this process, ``repeats`` times."""
    verify_messages(messages[:100])  # warm up
    return repeat(lambda: verify_messages(messages), repeats)


def _initialise(messages: Sequence[SignedMessage]) -> None:
    global _worker_messages
    _worker_messages = messages


def _verify_range(bounds: tuple[int, int]) -> int:
    start, stop = bounds
    return verify_messages(_worker_messages[start:stop])


def _ready(_: int) -> int:
    return os.getpid()


class VerifyPool:
    """``os.cpu_count()`` worker processes holding ``messages``, started once.

    Use as a context manager; :meth:`time` verifies all the messages across
    the workers, :meth:`time_shipped` sends them with each call instead.
    """

    def __init__(self, messages: Sequence[SignedMessage], processes: int | None = None) -> None:
        self.processes = processes or os.cpu_count() or 1
        self._messages = list(messages)
        context = multiprocessing.get_context("spawn")
        self._pool: multiprocessing.pool.Pool = context.Pool(
            self.processes, initializer=_initialise, initargs=(self._messages,)
        )
        # Wait until every worker is up and holds the messages.
        self._pool.map(_ready, range(self.processes * 2), chunksize=1)
        # Several pieces per worker, so that a slow worker does not hold the rest up.
        pieces = self.processes * 4
        size = -(-len(self._messages) // pieces)
        self._ranges = [
            (start, min(start + size, len(self._messages)))
            for start in range(0, len(self._messages), size)
        ]
        self.run()  # warm up: the workers' first calls load libsodium's code

    def run(self) -> None:
        """Verify every message once, across the workers."""
        done = sum(self._pool.map(_verify_range, self._ranges, chunksize=1))
        if done != len(self._messages):
            raise AssertionError(f"the pool verified {done} of {len(self._messages)}")

    def run_shipped(self) -> None:
        """Verify every message once, sending the messages along with the work."""
        chunks = [self._messages[start:stop] for start, stop in self._ranges]
        done = sum(self._pool.map(verify_messages, chunks, chunksize=1))
        if done != len(self._messages):
            raise AssertionError(f"the pool verified {done} of {len(self._messages)}")

    def time(self, repeats: int) -> Timing:
        """Time verifying all messages across the pool, ``repeats`` times."""
        return repeat(self.run, repeats)

    def time_shipped(self, repeats: int) -> Timing:
        """As :meth:`time`, but the messages travel to the workers with each call."""
        return Timing(tuple(time_call(self.run_shipped) for _ in range(repeats)))

    def close(self) -> None:
        """Stop the workers."""
        self._pool.close()
        self._pool.join()

    def __enter__(self) -> VerifyPool:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()
