"""Corrections after the fact: the ended tasks of the session, and a form to correct one.

Reached with `c` from the task screen and from the session summary. A correction is an event
(:meth:`usetest.session.Session.correct`): who, when, why, the old and the new value; the
earlier events stay in the log. Undo (`u`) still cancels the last event, a correction included.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from usetest.events import OUTCOMES, Event
from usetest.session import Session
from usetest.tui.screens.guard import ActiveOnly, DismissOnce
from usetest.tui.text import clock, literal

OUTCOME_LETTERS = {"s": "success", "p": "partial", "f": "fail", "g": "abandoned", "x": "skipped"}
"""The task screen's end keys, accepted for the outcome here too."""


def parse_duration(text: str) -> int:
    """Milliseconds from ``83``, ``83.5``, ``1:23`` or ``1:02:03``; ValueError otherwise."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return round(float(text) * 1000)
    match = re.fullmatch(r"(?:(\d+):)?(\d+):(\d{2})(\.\d+)?", text)
    if not match:
        raise ValueError(f"{text!r} is not a time: write m:ss (1:23) or seconds (83)")
    hours, minutes, seconds, fraction = match.groups()
    if int(seconds) >= 60 or (hours and int(minutes) >= 60):
        raise ValueError(f"{text!r}: seconds and minutes go up to 59")
    total = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + float(fraction or 0)
    return round(total * 1000)


@dataclass(frozen=True)
class Correction:
    task_id: str
    changes: dict[str, Any]
    reason: str


class CorrectionForm(DismissOnce, ModalScreen[Correction | None]):
    """The task's values, editable; a reason is required. ctrl+s or Enter in the reason saves."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save the correction", id="correct-save", priority=True),
        Binding("escape", "cancel", "Cancel", id="correct-cancel"),
    ]

    def __init__(self, task_id: str, title: str, current: dict[str, Any]) -> None:
        super().__init__()
        self.task_id = task_id
        self.title_text = title
        self.current = current

    def compose(self) -> ComposeResult:
        c = self.current
        seq = "" if c["seq"] is None else str(c["seq"])
        with Vertical(classes="dialog", id="correct-form"):
            yield Static(literal(f"Correct “{self.title_text}”"), classes="dialog-title")
            for field_id, label, value, hint in (
                ("outcome", "Outcome", c["outcome"] or "", "s p f g x or the word"),
                ("time", "Time on task", clock(c["time_ms"]), "m:ss or seconds"),
                ("errors", "Errors", str(c["errors"]), ""),
                ("assists", "Assists", str(c["assists"]), ""),
                ("seq", "SEQ", "declined" if c["seq"] is None and c["seq_asked"] else seq,
                 "1–7, d declined"),
                ("reason", "Reason", "", "required: what was wrong"),
            ):
                with Horizontal(classes="field"):
                    yield Label(label, classes="field-label")
                    yield Input(value=value, id=f"correct-{field_id}", compact=True)
                    yield Label(hint, classes="field-hint")
            yield Static("tab next field   ·   ctrl+s or Enter in Reason save   ·   Esc cancel",
                         classes="keys")  # fmt: skip

    def on_mount(self) -> None:
        self.query_one("#correct-outcome", Input).focus()

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#correct-{field_id}", Input).value.strip()

    def read(self) -> Correction:
        """The form's values as changes against the current ones; ValueError says what is off."""
        outcome = self._value("outcome").lower()
        outcome = OUTCOME_LETTERS.get(outcome, outcome)
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome: one of {', '.join(OUTCOMES)} (or s p f g x)")
        values: dict[str, Any] = {"outcome": outcome, "time_ms": parse_duration(self._value("time"))}
        for name in ("errors", "assists"):
            if not self._value(name).isdigit():
                raise ValueError(f"{name}: a whole number, 0 or more")
            values[name] = int(self._value(name))
        seq = self._value("seq").lower()
        if seq == "":
            values["seq"] = self.current["seq"]  # left empty: as it was
        elif seq in ("d", "declined"):
            values["seq"] = None
        elif seq.isdigit() and 1 <= int(seq) <= 7:
            values["seq"] = int(seq)
        else:
            raise ValueError("SEQ: 1 to 7, or d for declined")
        changes = {k: v for k, v in values.items() if v != self.current[k]}
        if not changes:
            raise ValueError("nothing changed: edit a value first (Esc leaves it as it was)")
        reason = self._value("reason")
        if not reason:
            raise ValueError("a correction needs a reason (what was wrong)")
        return Correction(self.task_id, changes, reason)

    def action_save(self) -> None:
        try:
            correction = self.read()
        except ValueError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.dismiss(correction)

    @on(Input.Submitted, "#correct-reason")
    def _reason_entered(self) -> None:
        self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReviewScreen(ActiveOnly, Screen[bool]):
    """The ended tasks with their recorded values; Enter corrects the highlighted one.

    Gets what it shows: the session, the participant's code, the task titles, and ``perform``
    (the app's one door to the engine, which shows a refused or unsaved command). Dismisses
    with True when something was corrected.
    """

    BINDINGS = [
        Binding("enter", "correct", "correct this task", id="review-correct"),
        Binding("escape,c", "close", "back", id="review-close"),
    ]

    def __init__(self, session: Session, participant: str, titles: dict[str, str],
                 perform: Callable[[Callable[[], Event]], Event | None], by: str | None) -> None:  # fmt: skip
        super().__init__()
        self.session = session
        self.participant = participant
        self.titles = titles
        self.perform = perform
        self.by = by
        self.changed = False

    def compose(self) -> ComposeResult:
        yield Static(literal(f"Review and correct — {self.participant}"), id="review-title")
        yield Static("Only ended tasks can be corrected. Each correction is logged with its "
                     "reason; u on the task screen undoes the last one.", id="review-hint")
        table: DataTable[str] = DataTable(id="review-table", cursor_type="row")
        table.add_columns("#", "task", "outcome", "time", "errors", "assists", "SEQ", "corr.")
        yield table
        yield Static("↑↓ choose   ·   Enter correct   ·   Esc back", classes="keys")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.fill()
        self.query_one(DataTable).focus()

    def ended(self) -> list[str]:
        state = self.session.state
        return [t for t in state.order if state.tasks[t].status == "ended"]

    def fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        state = self.session.state
        for task_id in self.ended():
            t = state.tasks[task_id]
            seq = state.answer("seq", "seq", task_id)
            table.add_row(
                str(t.position), literal(task_id), t.outcome or "-", clock(t.recorded_ms),
                str(t.errors), str(t.assists),
                "-" if seq is None else ("declined" if seq.declined else str(seq.value)),
                str(t.corrections or ""), key=task_id,
            )  # fmt: skip
        if not self.ended():
            self.query_one("#review-hint", Static).update("No task has ended yet: nothing to "
                                                          "correct. Esc goes back.")  # fmt: skip
        elif row:
            table.move_cursor(row=min(row, table.row_count - 1))

    @on(DataTable.RowSelected)
    def _row_chosen(self) -> None:  # Enter on the table (it takes Enter before the screen)
        self.action_correct()

    def action_correct(self) -> None:
        ended = self.ended()
        if not ended:
            return
        task_id = ended[self.query_one(DataTable).cursor_row]
        t = self.session.state.tasks[task_id]
        seq = self.session.state.answer("seq", "seq", task_id)
        current = {"outcome": t.outcome, "time_ms": t.recorded_ms, "errors": t.errors,
                   "assists": t.assists, "seq": seq.value if seq else None,
                   "seq_asked": seq is not None}  # fmt: skip

        def saved(correction: Correction | None) -> None:
            if correction is None:
                return
            event = self.perform(lambda: self.session.correct(
                correction.task_id, correction.changes, correction.reason, by=self.by))  # fmt: skip
            if event is not None:
                self.changed = True
                self.notify(f"Corrected {task_id} (logged with the reason)")
                self.fill()

        self.app.push_screen(CorrectionForm(task_id, self.titles.get(task_id, task_id), current),
                             saved)  # fmt: skip

    def action_close(self) -> None:
        self.dismiss(self.changed)
