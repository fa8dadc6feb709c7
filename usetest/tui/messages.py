"""What screens send up to the app: the messages more than one screen posts, and ``Perform``.

Screens get what they show through their constructor and never import the app ("attributes
down, messages up"). Messages only one screen sends are nested in that screen. Engine commands
are the one exception to "messages up": a screen must know at once whether its command was
committed (to show it, or to move to the next item), so it gets the app's ``perform`` — a
narrow callable — instead of posting a message and waiting for an answer.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message

from usetest.events import Event

Perform = Callable[[Callable[[], Event]], "Event | None"]
"""Runs an engine command (a ``Session`` method bound with its arguments); returns the event
once it is committed, or None after telling the moderator why it was not (refused, not saved)."""


class UndoRequested(Message):
    """The moderator pressed ``u``: undo the session's last event, then go where it leads."""


class SessionMoved(Message):
    """The session changed where it stands (a task ended, a correction saved): the app shows
    the step the session is at now (:func:`usetest.flow.next_step`)."""
