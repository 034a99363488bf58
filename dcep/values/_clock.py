"""Time for the ledger, injected so that runs repeat.

The ledger never reads the system clock on its own: daily and annual caps,
journal timestamps and (later) expiries all follow the clock it was given.
Times are whole microseconds since the Unix epoch, in UTC; calendar days are
reckoned in the policy's time zone (Beijing, UTC+8, by default).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Final, Protocol, final

from dcep.errors import InvalidFieldError, Reason

__all__ = ["Clock", "ManualClock", "SystemClock", "microseconds"]

MICROSECONDS_PER_SECOND: Final = 1_000_000
MICROSECONDS_PER_DAY: Final = 86_400 * MICROSECONDS_PER_SECOND

#: Where a :class:`ManualClock` starts unless told otherwise: 2026-01-01 00:00
#: in Beijing, the day the e-CNY reform took effect.
DEFAULT_EPOCH_US: Final = 1_767_196_800 * MICROSECONDS_PER_SECOND


class Clock(Protocol):
    """Anything with ``now_us()``: microseconds since the epoch, never decreasing."""

    def now_us(self) -> int:
        """The current time in microseconds since 1970-01-01T00:00Z."""
        ...


def microseconds(moment: dt.datetime) -> int:
    """Convert an aware ``datetime`` to microseconds since the epoch, exactly."""
    if moment.tzinfo is None:
        raise InvalidFieldError(
            Reason.FIELD_INVALID, "a naive datetime is ambiguous; give it a tzinfo", field="time"
        )
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * MICROSECONDS_PER_SECOND + delta.microseconds


@final
class ManualClock:
    """A clock that moves only when told to: the default, for repeatable runs.

    >>> clock = ManualClock()
    >>> start = clock.now_us()
    >>> clock.advance(days=1)
    >>> clock.now_us() - start == 86_400_000_000
    True
    """

    __slots__ = ("_now_us",)

    def __init__(self, start_us: int = DEFAULT_EPOCH_US) -> None:
        if type(start_us) is not int or start_us < 0:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, "start_us must be a non-negative int", field="start_us"
            )
        self._now_us = start_us

    @classmethod
    def at(cls, moment: dt.datetime) -> ManualClock:
        """A clock set to an aware ``datetime``."""
        return cls(microseconds(moment))

    def now_us(self) -> int:
        """The time the clock was last set or advanced to."""
        return self._now_us

    def advance(
        self, *, days: int = 0, hours: int = 0, seconds: int = 0, microseconds: int = 0
    ) -> None:
        """Move forward; a clock that went backwards would reopen closed days."""
        for name, value in (
            ("days", days),
            ("hours", hours),
            ("seconds", seconds),
            ("microseconds", microseconds),
        ):
            if type(value) is not int:
                # Time is whole microseconds, as money is whole fen.
                raise InvalidFieldError(
                    Reason.FIELD_INVALID,
                    f"{name} must be a whole number (an int), not {value!r}",
                    field=name,
                )
        step = (((days * 24 + hours) * 3600 + seconds) * MICROSECONDS_PER_SECOND) + microseconds
        if step < 0:
            raise InvalidFieldError(
                Reason.FIELD_INVALID, "a clock cannot go backwards", field="advance"
            )
        self._now_us += step

    def move_to(self, moment: dt.datetime | int) -> None:
        """Set the clock to a time of day, not only forward by a step: spread a day's payments.

        ``moment`` is an aware ``datetime`` or microseconds since the epoch.
        Moving to the present time is allowed (a no-op); moving to an earlier
        time is refused and leaves the clock where it was, since a clock that
        went backwards would reopen closed days.

        >>> import datetime as dt
        >>> beijing = dt.timezone(dt.timedelta(hours=8))
        >>> opening = dt.datetime(2026, 3, 2, 9, 0, tzinfo=beijing)
        >>> clock = ManualClock.at(opening)
        >>> clock.move_to(opening + dt.timedelta(hours=3, minutes=30))
        >>> (clock.now_us() - microseconds(opening)) // 60_000_000  # minutes
        210
        """
        if isinstance(moment, dt.datetime):
            target_us = microseconds(moment)
        elif type(moment) is int:
            target_us = moment
        else:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"move a clock to an aware datetime or whole microseconds, not {moment!r}",
                field="moment",
            )
        if target_us < self._now_us:
            raise InvalidFieldError(
                Reason.FIELD_INVALID,
                f"a clock cannot go backwards: {target_us} is before {self._now_us}",
                field="moment",
            )
        self._now_us = target_us

    def __repr__(self) -> str:
        return f"ManualClock({self._now_us})"


@final
class SystemClock:
    """Wall-clock time, held monotonic so that a system clock step back is harmless."""

    __slots__ = ("_last_us",)

    def __init__(self) -> None:
        self._last_us = 0

    def now_us(self) -> int:
        """The system time, or the last reading if the system clock stepped back."""
        self._last_us = max(self._last_us, time.time_ns() // 1000)
        return self._last_us
