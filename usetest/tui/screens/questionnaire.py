"""Questionnaire items one at a time: one keypress per rating (or ``d``: the participant
declined the item, stored as declined, never as a number), back to correct, free text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from usetest.events import Answer
from usetest.flow import Group, Question, Step
from usetest.tui.messages import Perform, UndoRequested
from usetest.tui.screens.guard import ActiveOnly, on_stack
from usetest.tui.text import literal
from usetest.tui.widgets.likert import LikertScale

if TYPE_CHECKING:
    from usetest.session import Session

__all__ = ["Question", "QuestionnaireScreen"]


class QuestionnaireScreen(ActiveOnly, Screen[None]):
    """Asks the questions of a :class:`~usetest.flow.Step` in order from its index, records
    each answer at once (through ``perform``), then posts :class:`Finished`.

    ``titles``: task id -> title, for the line over the questions asked after a task.
    """

    BINDINGS = [
        # priority: before the text input's own backspace, which takes it while it has text
        Binding("backspace", "back", "Back", id="q-back", priority=True,
                tooltip="back to the previous item to correct it (in a text answer: once it "
                        "is empty)"),
        Binding("u", "undo", "Undo last event", id="q-undo", tooltip="undo the last event"),
        Binding("d", "decline", "Declined", id="q-decline",
                tooltip="the participant declines this rating (stored as declined, never as "
                        "a number)"),
    ]  # fmt: skip

    class Finished(Message):
        """The last question was answered or left empty (recorded as ``questions_passed``):
        the app goes to the next step."""

        def __init__(self, group: Group | None, questions: tuple[Question, ...]) -> None:
            super().__init__()
            self.group = group
            self.questions = questions

    def __init__(
        self, step: Step, session: Session, perform: Perform, titles: Mapping[str, str]
    ) -> None:
        super().__init__()
        self.questions = step.questions
        self.index = step.index
        self.group = step.group
        self.session = session
        self.perform = perform
        self.titles = titles
        self.buffer = ""
        self.finished = False
        """Finished was posted: keys that come before the app moves on are dropped."""

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
        if q.task_id:
            intro = f"After the task “{self.titles.get(q.task_id, q.task_id)}”"
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
        if self.finished:
            return False
        if action == "decline" and self.is_mounted and self.question.item.kind != "scale":
            return False  # a text item is left empty instead
        if action == "back" and self.is_mounted and self.question.item.kind == "text" \
                and self.query_one("#q-input", Input).value:
            return False  # the input's backspace edits the text
        return super().check_action(action, parameters)

    def recorded(self) -> Answer | None:
        q = self.question
        return self.session.state.answer(q.questionnaire.id, q.item.id, q.task_id)

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
        if q.item.kind != "scale" or self.finished or not (self.is_mounted and self.is_active):
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
        if not self.is_active or self.finished:
            return
        if event.value.strip():
            self.record(event.value)
        else:
            self.advance()

    def record(self, value: int | str) -> None:
        q = self.question
        if isinstance(value, int) and not q.item.min <= value <= q.item.max:
            self.notify(f"Answer {q.item.min}–{q.item.max}", severity="warning")
            self.buffer = ""
            self.show_current()
            return
        ok = self.perform(
            lambda: self.session.answer(q.questionnaire.id, q.item.id, value, task_id=q.task_id)
        )
        if ok:
            self.advance()

    def advance(self) -> None:
        if self.index + 1 < len(self.questions):
            self.index += 1
            self.show()
        elif self.pass_unanswered():
            self.finished = True
            self.post_message(self.Finished(self.group, self.questions))

    def pass_unanswered(self) -> bool:
        """At the end of the list: record that the items still unanswered (a text item left
        empty) are gone on from, so no app asks them again; False if that was not saved."""
        state = self.session.state
        left = [(q.questionnaire.id, q.item.id) for q in self.questions
                if state.answer(q.questionnaire.id, q.item.id, q.task_id) is None]  # fmt: skip
        if not left or self.group is None:
            return True
        task_id = self.group[1] or None
        return self.perform(lambda: self.session.pass_questions(left, task_id)) is not None

    def action_back(self) -> None:
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
        self.buffer = ""
        ok = self.perform(
            lambda: self.session.decline(q.questionnaire.id, q.item.id, task_id=q.task_id)
        )
        if ok:
            self.advance()
        else:
            self.show_current()

    def action_undo(self) -> None:
        self.post_message(UndoRequested())
