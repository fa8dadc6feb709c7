"""The live session as every screen shows it: one line per event (:func:`describe`) and the
:class:`Timeline` widget (the last events, newest last, with local times).

Used by the moderator's task screen and the observer's screen (``usetest observe``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.widgets import Static

from usetest.events import Event, describe_change
from usetest.tui.text import literal, local_time

EVENT_LABELS = {
    "session_started": "session started",
    "session_resumed": "session resumed",
    "session_completed": "session completed",
    "session_abandoned": "session abandoned",
    "consent_recorded": "consent recorded",
    "correction": "corrected",
    "task_started": "started",
    "task_paused": "paused",
    "task_resumed": "resumed",
    "task_ended": "ended",
    "error_logged": "error",
    "assist_logged": "assist",
    "note_logged": "note",
    "answer_recorded": "answer",
    "undo": "undo",
    "recording_started": "recording started",
    "questions_passed": "left unanswered",
}


def describe(event: Event) -> str:
    """One line for an event in a timeline: "find: ended (success)", "quote: … — KL"."""
    label = EVENT_LABELS.get(event.kind, event.kind)
    p: dict[str, Any] = dict(event.payload)
    if event.kind == "task_ended":
        label += f" ({p['outcome']})"
    elif event.kind == "task_paused" and p.get("reason"):
        label += f": {p['reason']}"
    elif event.kind == "error_logged":
        label += f" [{p['type_name']}]" + (f" {p['note']}" if p.get("note") else "")
    elif event.kind == "note_logged":
        sev = f" severity {p['severity']}" if p.get("severity") is not None else ""
        label = f"{p['kind']}{sev}: {p['text']}" + (f" — {p['author']}" if p.get("author") else "")
    elif event.kind == "answer_recorded":
        value = "declined" if p.get("declined") else p["value"]
        label = f"{p['questionnaire']} {p['item']} = {value}"
    elif event.kind == "consent_recorded":
        label += f" ({p['how']})"
    elif event.kind == "correction":
        label += f": {describe_change(p['changes'])} ({p['reason']})"
    elif event.kind == "questions_passed":
        label += ": " + ", ".join(f"{q} {item}" for q, item in p["unanswered"])
    elif event.kind == "undo":
        label += f" ({EVENT_LABELS.get(p['target_kind'], p['target_kind'])})"
    task = f"{event.task_id}: " if event.task_id else ""
    return task + label


class Timeline(Static):
    """The last ``lines`` events of a session, newest last: "12:52:47  find: started"."""

    def __init__(self, lines: int, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.lines = lines

    def show(self, events: Sequence[Event]) -> None:
        shown = events[-self.lines :] if self.lines else []
        self.update(literal("\n".join(f"{local_time(e.at)}  {describe(e)}" for e in shown)))
