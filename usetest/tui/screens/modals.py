"""Small keyboard-only dialogs: each returns its answer through ``dismiss`` (None = cancelled)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from usetest.events import NOTE_KINDS
from usetest.scenario import ErrorType
from usetest.tui.screens.guard import DismissOnce
from usetest.tui.text import literal


class ConfirmQuit(DismissOnce, ModalScreen[str]):
    """Quit mid-session? Answers ``quit``, ``stay`` or (when offered) ``abandon``.

    Quitting leaves the session resumable; abandoning closes it for good (the participant will
    not finish it): it leaves the resume list and analyses leave it out unless asked.
    """

    BINDINGS = [
        Binding("y", "answer('quit')", "Yes, quit", id="quit-yes"),
        Binding("n,escape", "answer('stay')", "No, stay", id="quit-no"),
        Binding("a", "answer('abandon')", "Abandon the session", id="quit-abandon"),
    ]

    def __init__(self, message: str, *, abandon: bool = False) -> None:
        super().__init__()
        self.message = message
        self.offers_abandon = abandon

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(literal(self.message))
            if self.offers_abandon:
                yield Static("a  abandon the session instead: the participant will not finish "
                             "it (asks why; everything recorded is kept)")  # fmt: skip
            yield Static("y quit   ·   n / Esc stay" + ("   ·   a abandon"
                                                        if self.offers_abandon else ""),
                         classes="keys")  # fmt: skip

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer" and parameters == ("abandon",) and not self.offers_abandon:
            return False
        return super().check_action(action, parameters)

    def action_answer(self, value: str) -> None:
        self.dismiss(value)


class ConfirmTakeOver(DismissOnce, ModalScreen[bool]):
    """Take over a session another app has open: y does it, n / Esc does not."""

    BINDINGS = [
        Binding("y", "answer(True)", "Take it over", id="takeover-yes"),
        Binding("n,escape", "answer(False)", "Cancel", id="takeover-no"),
    ]

    def __init__(self, participant: str, owner: str) -> None:
        super().__init__()
        self.participant = participant
        self.owner = owner

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(literal(f"Take over {self.participant}?"), classes="dialog-title")
            yield Static(literal(
                f"{self.participant} is open in another usetest ({self.owner}). Take it over "
                "only if that app is frozen or its computer is unreachable: from now on that "
                "app cannot save anything more to this session. Everything it saved so far is "
                "kept; whatever it records after this moment is lost."))  # fmt: skip
            yield Static("y take it over   ·   n / Esc cancel", classes="keys")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class ConsentScreen(DismissOnce, ModalScreen[bool]):
    """Before the first task: the study's consent statement; y records consent, n does not."""

    BINDINGS = [
        Binding("y", "answer(True)", "Consent given", id="consent-yes"),
        Binding("n,escape", "answer(False)", "No consent", id="consent-no"),
    ]

    def __init__(self, participant: str, wording: str) -> None:
        super().__init__()
        self.participant = participant
        self.wording = wording

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(literal(f"Consent — {self.participant}"), classes="dialog-title")
            yield Static(literal(self.wording), id="consent-wording")
            yield Static("Has the participant given consent?", classes="dialog-title")
            yield Static("y yes, start the session   ·   n / Esc no (nothing is recorded)",
                         classes="keys")  # fmt: skip

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class TextPrompt(DismissOnce, ModalScreen[str | None]):
    """One line of text; Enter saves (empty allowed), Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt-cancel")]

    def __init__(self, title: str, placeholder: str = "", hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.hint = hint or "Enter save   ·   Esc cancel"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(literal(self.title_text), classes="dialog-title")
            yield Input(placeholder=self.placeholder, id="prompt-input")
            yield Static(self.hint, classes="keys")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class ErrorChoice:
    type_key: str | None
    """The error type's hotkey, or None for unclassified."""


class ErrorTypePicker(DismissOnce, ModalScreen[ErrorChoice | None]):
    """After `e`: the error type's key, or Enter for unclassified; Esc cancels."""

    def __init__(self, error_types: list[ErrorType]) -> None:
        super().__init__()
        self.error_types = error_types

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Log an error — which kind?", classes="dialog-title")
            for e in self.error_types:
                yield Static(literal(f"  {e.key}  {e.name}"))
            yield Static("  Enter  unclassified", classes="keys")
            yield Static("Esc cancel", classes="keys")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        if event.key == "escape":
            self.dismiss(None)
        elif event.key == "enter":
            self.dismiss(ErrorChoice(None))
        elif event.character and event.character in {e.key for e in self.error_types}:
            self.dismiss(ErrorChoice(event.character))
        else:
            self.notify(f"No error type has the key {event.key!r}", severity="warning")


class NoteKindPicker(DismissOnce, ModalScreen[str | None]):
    """After `n`: o observation (or Enter), q quote, p problem; Esc cancels."""

    KEYS = {"o": "observation", "enter": "observation", "q": "quote", "p": "problem"}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Add a note — what kind?", classes="dialog-title")
            yield Static("  o  observation (Enter)\n  q  quote\n  p  problem (with severity)")
            yield Static("Esc cancel", classes="keys")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        if event.key == "escape":
            self.dismiss(None)
        elif event.key in self.KEYS:
            kind = self.KEYS[event.key]
            assert kind in NOTE_KINDS
            self.dismiss(kind)


SEVERITY_LABELS = {
    0: "not a usability problem",
    1: "cosmetic",
    2: "minor",
    3: "major",
    4: "catastrophe",
}


class SeverityPicker(DismissOnce, ModalScreen[int | None]):
    """Nielsen's severity 0–4 with one key; Enter for none, Esc cancels the note."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Severity of the problem (Nielsen)", classes="dialog-title")
            for value, label in SEVERITY_LABELS.items():
                yield Static(f"  {value}  {label}")
            yield Static("Enter no rating   ·   Esc cancel", classes="keys")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        if event.key == "escape":
            self.dismiss(None)
        elif event.key == "enter":
            self.dismiss(-1)
        elif event.character in ("0", "1", "2", "3", "4"):
            self.dismiss(int(event.character))


class ParticipantView(DismissOnce, ModalScreen[None]):
    """Only the task prompt, full screen, for the participant to read; any key returns."""

    def __init__(self, title: str, prompt: str) -> None:
        super().__init__()
        self.title_text = title
        self.prompt_text = prompt

    def compose(self) -> ComposeResult:
        with Vertical(id="participant-view"):
            yield Static(literal(self.title_text), id="pv-title")
            yield Static(literal(self.prompt_text), id="pv-prompt")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        self.dismiss(None)


class HelpScreen(DismissOnce, ModalScreen[None]):
    """The keys, as :func:`usetest.tui.keys.help_text` writes them from the bindings."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help-close")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Static("Keys", classes="dialog-title")
            yield Static(self.text, markup=False, id="help-text")
            yield Static("Esc close", classes="keys")

    def action_close(self) -> None:
        self.dismiss(None)
