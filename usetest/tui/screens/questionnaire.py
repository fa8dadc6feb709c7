"""Questionnaire items one at a time: one keypress per rating (or ``d``: the participant
declined the item, stored as declined, never as a number), back to correct, free text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from usetest.events import Answer
from usetest.questionnaires import Item, Questionnaire
from usetest.tui.screens.guard import ActiveOnly, on_stack
from usetest.tui.text import literal
from usetest.tui.widgets.likert import LikertScale

if TYPE_CHECKING:
    from usetest.tui.app import UsetestApp


@dataclass(frozen=True)
class Question:
    questionnaire: Questionnaire
    item: Item
    task_id: str | None = None


class QuestionnaireScreen(ActiveOnly, Screen[None]):
    """Asks ``questions`` in order, records each answer at once, then calls ``done``."""

    BINDINGS = [
        Binding("backspace", "back", "Back", id="q-back"),
        Binding("u", "undo", "Undo last event", id="q-undo"),
        Binding("d", "decline", "Declined", id="q-decline"),
    ]

    def __init__(self, questions: list[Question], done: Callable[[], None]) -> None:
        super().__init__()
        self.questions = questions
        self.index = 0
        self.buffer = ""
        self.done = done

    @property
    def ut(self) -> UsetestApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static("", id="q-progress")
        with Vertical(id="q-body"):
            yield Static("", id="q-title")
            yield Static("", id="q-text")
            yield LikertScale("", id="q-scale")
            yield Input(id="q-input", placeholder="type the answer, Enter to save (empty = no answer)")
            yield Static("", id="q-current")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.show()

    @property
    def question(self) -> Question:
        return self.questions[self.index]

    def show(self) -> None:
        if not on_stack(self):  # replaced before it was mounted
            return
        q = self.question
        self.buffer = ""
        n_in_q = [x for x in self.questions if x.questionnaire.id == q.questionnaire.id]
        pos = n_in_q.index(q) + 1
        self.query_one("#q-progress", Static).update(literal(
            f"{q.questionnaire.title}  ·  {pos} of {len(n_in_q)}"
        ))  # fmt: skip
        intro = q.questionnaire.intro
        rec = self.ut.recording
        if q.task_id and rec is not None:
            intro = f"After the task “{rec.loaded.scenario.task(q.task_id).title}”"
        self.query_one("#q-title", Static).update(literal(intro))
        self.query_one("#q-text", Static).update(literal(q.item.text))
        entry = self.query_one("#q-input", Input)
        scale = self.query_one("#q-scale", LikertScale)
        if q.item.kind == "scale":
            scale.display = True
            entry.display = False
            entry.disabled = True  # a hidden input must not swallow the rating keys
            self.set_focus(None)
        else:
            scale.display = False
            entry.display = True
            entry.disabled = False
            answer = self.recorded()
            entry.value = str(answer.value) if answer else ""  # back here: the text to correct
            entry.focus()
        self.refresh_bindings()  # `d` (declined) is for rating items only
        self.show_current()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "decline" and self.is_mounted and self.question.item.kind != "scale":
            return False  # a text item is left empty instead
        return super().check_action(action, parameters)

    def recorded(self) -> Answer | None:
        q = self.question
        rec = self.ut.recording
        assert rec is not None
        return rec.session.state.answer(q.questionnaire.id, q.item.id, q.task_id)

    def show_current(self) -> None:
        if not on_stack(self):
            return
        q = self.question
        answer = self.recorded()
        rate = (f"press {q.item.min}–{q.item.max}" if q.item.max <= 9
                else f"type {q.item.min}–{q.item.max}, then Enter")  # fmt: skip
        if q.item.kind == "text":
            hint = "Enter saves (empty Enter: no answer)   ·   backspace on empty: back"
        elif self.buffer:
            hint = f"typed {self.buffer}: Enter saves it"
        elif answer is None:
            hint = f"{rate}   ·   d if the participant declines"
        elif answer.declined:
            hint = f"recorded: declined  ·  {rate} to give a rating instead"
        else:
            hint = f"recorded: {answer.value}  ·  {rate} to change it  ·  d declined"
        if q.item.kind == "scale":
            declined = answer is not None and answer.declined and not self.buffer
            selected = int(self.buffer) if self.buffer else (
                int(answer.value) if answer is not None and answer.value is not None else None)  # fmt: skip
            self.query_one("#q-scale", LikertScale).show_scale(
                q.item.min, q.item.max, q.item.low, q.item.high, selected, declined=declined
            )
        self.query_one("#q-current", Static).update(literal(hint))

    def on_key(self, event: events.Key) -> None:
        q = self.question
        if q.item.kind != "scale" or not (self.is_mounted and self.is_active):
            return
        if event.character and event.character.isdigit():
            event.stop()
            if q.item.max <= 9:
                self.record(int(event.character))
            else:
                self.buffer = (self.buffer + event.character)[-2:]
                self.show_current()
        elif event.key == "enter" and self.buffer:
            event.stop()
            self.record(int(self.buffer))

    @on(Input.Submitted, "#q-input")
    def _text_submitted(self, event: Input.Submitted) -> None:
        if not self.is_active:
            return
        if event.value.strip():
            self.record(event.value)
        else:
            self.advance()

    def record(self, value: int | str) -> None:
        q = self.question
        rec = self.ut.recording
        assert rec is not None
        if isinstance(value, int) and not q.item.min <= value <= q.item.max:
            self.notify(f"Answer {q.item.min}–{q.item.max}", severity="warning")
            self.buffer = ""
            self.show_current()
            return
        ok = self.ut.perform(
            lambda: rec.session.answer(q.questionnaire.id, q.item.id, value, task_id=q.task_id)
        )
        if ok:
            self.advance()

    def advance(self) -> None:
        if self.index + 1 < len(self.questions):
            self.index += 1
            self.show()
        else:
            self.done()

    def action_back(self) -> None:
        if self.question.item.kind == "text" and self.query_one("#q-input", Input).value:
            return  # backspace edits the text
        if self.buffer:
            self.buffer = self.buffer[:-1]
            self.show_current()
        elif self.index > 0:
            self.index -= 1
            self.show()

    def action_decline(self) -> None:
        """The participant declined to rate this item: stored as declined (no number)."""
        q = self.question
        if q.item.kind != "scale":
            return
        rec = self.ut.recording
        assert rec is not None
        self.buffer = ""
        ok = self.ut.perform(
            lambda: rec.session.decline(q.questionnaire.id, q.item.id, task_id=q.task_id)
        )
        if ok:
            self.advance()
        else:
            self.show_current()

    def action_undo(self) -> None:
        self.ut.undo()
