"""Helpers for showing scenario and participant text literally and times readably."""

from __future__ import annotations

from datetime import datetime

from textual.content import Content

from usetest.plain import escaped


def literal(text: str | None) -> Content:
    """Text exactly as typed: no markup interpretation, control characters made visible."""
    return Content(escaped(text or ""))


def clock(ms: int) -> str:
    """mm:ss (h:mm:ss past an hour) of a duration in milliseconds."""
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def local_time(at: str | None, fmt: str = "%H:%M:%S") -> str:
    """A stored UTC timestamp (``…Z``) on the moderator's own clock, e.g. to match a recording."""
    if not at:
        return ""
    try:
        return datetime.fromisoformat(at).astimezone().strftime(fmt)
    except ValueError:
        return at
