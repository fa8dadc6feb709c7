"""The participant profile, asked at set-up after consent: one question at a time, by keyboard.

A choice is answered with its number (1–9) or the arrows and Enter; a number or a text is typed
and confirmed with Enter (a number is checked against the question's range first, with the
range shown). ``d`` (a choice) or Enter on an empty field records the question as declined.
Esc goes back one question; on the first it cancels: nothing has been recorded yet, since the
answers are written with the consent when the dialog returns them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from usetest.profile import MAX_TEXT, ProfileAnswerError, ProfileValue, parse_answer, takes
from usetest.scenario import ProfileQuestion
from usetest.tui.screens.guard import DismissOnce, on_stack
from usetest.tui.text import literal

Answers = dict[str, ProfileValue]


class ProfileScreen(DismissOnce, ModalScreen[Answers | None]):
    """Asks ``questions`` (those not in ``preset``); returns every answer, ``preset`` included,
    in the scenario's order, or None when the moderator cancels (Esc on the first question)."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="profile-back"),
        Binding("d", "decline", "Declined", id="profile-decline"),
    ]

    def __init__(
        self, participant: str, questions: Sequence[ProfileQuestion],
        preset: Mapping[str, ProfileValue] | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.participant = participant
        self.all_questions = list(questions)
        self.preset = dict(preset or {})
        self.questions = [q for q in questions if q.id not in self.preset]
        self.answers: Answers = {}
        self.index = 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="profile"):
            yield Static("", id="profile-title", classes="dialog-title")
            yield Static("", id="profile-text")
            yield OptionList(id="profile-options")
            yield Input(id="profile-input", compact=True)
            yield Static("", id="profile-message")
            yield Static("", id="profile-keys", classes="keys")

    def on_mount(self) -> None:
        self.show()

    @property
    def question(self) -> ProfileQuestion:
        return self.questions[self.index]

    def show(self) -> None:
        if not on_stack(self) or not self.questions:
            return
        q = self.question
        self.query_one("#profile-title", Static).update(literal(
            f"Profile — {self.participant}  ·  question {self.index + 1} of {len(self.questions)}"
        ))  # fmt: skip
        self.query_one("#profile-text", Static).update(literal(q.text))
        self.query_one("#profile-message", Static).update("")
        options = self.query_one("#profile-options", OptionList)
        entry = self.query_one("#profile-input", Input)
        before = self.answers.get(q.id)
        if q.type == "choice":
            options.clear_options()
            options.add_options([Option(literal(f"{i}  {o}" if i <= 9 else f"   {o}"), id=str(i))
                                 for i, o in enumerate(q.options, 1)])  # fmt: skip
            options.highlighted = q.options.index(before) if before in q.options else 0
            options.display = True
            entry.display = False
            entry.disabled = True  # a hidden input must not take the keys
            options.focus()
            pick = f"1–{min(len(q.options), 9)} choose" + (
                "   ·   ↑↓ and Enter for the rest" if len(q.options) > 9 else "   ·   ↑↓ Enter")
            keys = f"{pick}   ·   d declined   ·   Esc back"
        else:
            options.display = False
            entry.display = True
            entry.disabled = False
            if q.type == "number":
                entry.type = "integer"
                entry.max_length = 11
                entry.placeholder = takes(q)
            else:
                entry.type = "text"
                entry.max_length = MAX_TEXT
                entry.placeholder = f"at most {MAX_TEXT} characters"
            entry.value = "" if before is None else str(before)
            entry.focus()
            keys = "Enter confirm   ·   empty Enter: declined   ·   Esc back"
            if q.type == "number":
                keys = f"{takes(q)}\n{keys}"
        self.query_one("#profile-keys", Static).update(keys)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "decline" and self.is_mounted and self.questions \
                and self.question.type != "choice":
            return False  # typed answers are declined by leaving them empty
        return super().check_action(action, parameters)

    def on_key(self, event: events.Key) -> None:
        if not (self.is_mounted and self.is_active and self.questions):
            return
        q = self.question
        if q.type == "choice" and event.character and event.character in "123456789":
            event.stop()
            number = int(event.character)
            if number <= len(q.options):
                self.record(q.options[number - 1])
            else:
                self.say(f"There are {len(q.options)} options: press 1–{min(len(q.options), 9)}")

    @on(OptionList.OptionSelected, "#profile-options")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.is_active and self.question.type == "choice" and event.option.id is not None:
            self.record(self.question.options[int(event.option.id) - 1])

    @on(Input.Submitted, "#profile-input")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.is_active or self.question.type == "choice":
            return
        try:
            value = parse_answer(self.question, event.value)
        except ProfileAnswerError as exc:
            self.say(f"Not accepted: {exc}. Correct it, or empty the field and press Enter "
                     "(declined).")  # fmt: skip
            return
        self.record(value)

    def say(self, message: str) -> None:
        self.query_one("#profile-message", Static).update(literal(message))

    def record(self, value: ProfileValue) -> None:
        self.answers[self.question.id] = value
        if self.index + 1 < len(self.questions):
            self.index += 1
            self.show()
        else:
            merged = {**self.preset, **self.answers}
            self.dismiss({q.id: merged[q.id] for q in self.all_questions if q.id in merged})

    def action_decline(self) -> None:
        """The participant would rather not say: recorded as declined, never as an answer."""
        if self.questions and self.question.type == "choice":
            self.record(None)

    def action_back(self) -> None:
        if self.index > 0:
            self.index -= 1
            self.show()
        else:
            self.dismiss(None)
