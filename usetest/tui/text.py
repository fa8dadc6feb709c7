"""Helpers for showing scenario and participant text literally and times readably."""

from __future__ import annotations

from datetime import datetime

from textual.content import Content

from usetest.clock import duration
from usetest.plain import escaped


def literal(text: str | None) -> Content:
    """Text exactly as typed: no markup interpretation, control characters made visible."""
    return Content(escaped(text or ""))


clock = duration  # the name the screens use

def local_time(at: str | None, fmt: str = "%H:%M:%S") -> str:
    """A stored UTC timestamp (``…Z``) on the moderator's own clock, e.g. to match a recording."""
    if not at:
        return ""
    try:
        return datetime.fromisoformat(at).astimezone().strftime(fmt)
    except ValueError:
        return at
