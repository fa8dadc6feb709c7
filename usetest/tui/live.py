"""The live session as every screen shows it: one line per event (:func:`describe`), the
:class:`Timeline` widget (the last events, newest last, with local times) and the
:class:`TaskStatus` line (the task's clock and state, its time limit, errors and assists).

Used by the moderator's task screen and the observer's screen (``usetest observe``), each
feeding them from what it has of the session (its engine, or the events read from the store).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from usetest.events import Event, TaskState, describe_change
from usetest.tui.text import clock, literal, local_time

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
        self._text: str | None = None

    def show(self, events: Sequence[Event]) -> None:
        shown = events[-self.lines :] if self.lines else []
        text = "\n".join(f"{local_time(e.at)}  {describe(e)}" for e in shown)
        if text == self._text:
            return
        self._text = text
        # A height fixed in the stylesheet (the task screen's #event-log) cannot change with
        # the text: repaint this widget only, without laying the whole screen out again.
        height = self.styles.height
        self.update(literal(text), layout=height is None or not height.is_cells)


class TaskStatus(Horizontal):
    """"00:42  running        limit 02:00        errors 1   assists 0" for one task."""

    DEFAULT_CSS = """
    TaskStatus { height: 1; }
    TaskStatus #clock { width: 1fr; text-style: bold; }
    TaskStatus #clock.running { color: $text-success; }
    TaskStatus #clock.paused { color: $text-warning; }
    TaskStatus #limit { width: 1fr; }
    TaskStatus #limit.over { color: $error; text-style: bold reverse; }
    TaskStatus #counters { width: auto; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[str, str, bool] | None = None
        self._counters: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="clock")
        yield Static("", id="limit")
        yield Static("", id="counters")

    def show(self, task: TaskState, ms: int, limit_s: int | None, label: str | None = None) -> None:
        """The task's time ``ms`` and state (``label`` instead of the state's own words, e.g.
        while a pause reason is typed), against ``limit_s``; repainted only when it changed."""
        counters = f"errors {task.errors}   assists {task.assists}"
        if counters != self._counters:  # 5 times a second: repaint only when it changed, and lay
            # the line out again only when its width (auto) changed: a digit more
            layout = self._counters is None or len(counters) != len(self._counters)
            self._counters = counters
            self.query_one("#counters", Static).update(counters, layout=layout)
        label = label or {
            "pending": "not started — space to start", "running": "running",
            "paused": f"PAUSED{' (' + task.pause_reason + ')' if task.pause_reason else ''}",
            "ended": f"ended: {task.outcome}",
        }[task.status]  # fmt: skip
        over = bool(limit_s) and ms > (limit_s or 0) * 1000
        shown = (f"{clock(ms)}  {label}", task.status, over)
        if shown == self._shown:
            return  # 5 times a second: repaint only when the text changes
        # the clock's next second (same state, same length) needs no new layout of the screen
        ticked = self._shown is not None and self._shown[1:] == shown[1:] and len(
            self._shown[0]) == len(shown[0])  # fmt: skip
        self._shown = shown
        clock_widget = self.query_one("#clock", Static)
        clock_widget.update(literal(shown[0]), layout=not ticked)
        clock_widget.set_class(task.status == "paused", "paused")
        clock_widget.set_class(task.status == "running", "running")
        limit_widget = self.query_one("#limit", Static)
        if limit_s:
            limit_widget.update(f"limit {clock(limit_s * 1000)}" + ("  OVER TIME LIMIT" if over else ""))
            limit_widget.set_class(over, "over")
        else:
            limit_widget.update("no time limit")
