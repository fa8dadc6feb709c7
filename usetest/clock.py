"""Clocks: the one place that reads time, so tests and snapshots can freeze it.

Time on task comes from a monotonic clock (never jumps when the wall clock is corrected);
events also carry the wall-clock time in UTC for people reading the log. Both are read through
a :class:`Clock` so the session engine can be driven by a :class:`FakeClock` in tests.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the session engine needs to know about time."""

    def monotonic_ms(self) -> int:
        """Milliseconds on a clock that never goes backwards (its origin is arbitrary)."""
        ...

    def utc_now(self) -> datetime:
        """The current wall-clock time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real clocks: ``time.monotonic_ns`` and ``datetime.now(UTC)``."""

    def monotonic_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000

    def utc_now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to; both readings advance together."""

    def __init__(
        self,
        start_ms: int = 1_000_000,
        start_utc: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    ) -> None:
        self._mono = start_ms
        self._utc = start_utc

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds`` (may be fractional)."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        ms = round(seconds * 1000)
        self._mono += ms
        self._utc += timedelta(milliseconds=ms)

    def monotonic_ms(self) -> int:
        return self._mono

    def utc_now(self) -> datetime:
        return self._utc


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``: sorts as text, reads in any tool."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_utc(text: str) -> datetime:
    """A time :func:`iso_utc` wrote (or any ISO 8601 with an offset or ``Z``), as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def duration(ms: int) -> str:
    """mm:ss (h:mm:ss past an hour) of a duration in milliseconds."""
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
