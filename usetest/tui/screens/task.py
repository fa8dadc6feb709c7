"""The task screen: the prompt for the participant, the criterion and clock for the moderator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from usetest.tui.keys import Section, help_text
from usetest.tui.live import TaskStatus, Timeline
from usetest.tui.messages import Perform, SessionMoved, UndoRequested
from usetest.tui.screens.guard import ActiveOnly, on_stack
from usetest.tui.screens.modals import (
    ErrorChoice,
    ErrorTypePicker,
    HelpScreen,
    NoteKindPicker,
    ParticipantView,
    SeverityPicker,
    TextPrompt,
)
from usetest.tui.screens.questionnaire import QuestionnaireScreen
from usetest.tui.text import literal, local_time

if TYPE_CHECKING:
    from usetest.events import Moment
    from usetest.recorder import Recording

EVENT_LOG_LINES = 5
"""Events shown under the clock, newest last; #event-log is one border line plus these."""


class TaskScreen(ActiveOnly, Screen[None]):
    """One task of ``recording`` at a time; engine commands go through ``perform``.

    Ending the task posts :class:`~usetest.tui.messages.SessionMoved` (the app shows what comes
    next), ``u`` :class:`~usetest.tui.messages.UndoRequested`. ``by``: who makes corrections.
    Each binding's ``tooltip`` is its line in the help (``?``), its description the footer's.
    """

    END = Binding.Group("end the task")
    BINDINGS = [
        Binding("space", "clock", "clock", id="task-clock", tooltip=(
            "start / pause / resume the clock (a pause asks for a reason; Enter skips it)")),
        Binding("s", "end('success')", "success", show=False, id="task-success", group=END),
        Binding("p", "end('partial')", "partial", show=False, id="task-partial", group=END),
        Binding("f", "end('fail')", "fail", show=False, id="task-fail", group=END),
        Binding("g", "end('abandoned')", "gave up", show=False, id="task-gave-up", group=END),
        Binding("x", "end('skipped')", "skip", show=False, id="task-skip", group=END),
        Binding("a", "assist", "assist", id="task-assist", tooltip="assist given"),
        Binding("e", "error", "error", id="task-error", tooltip=(
            "error: then the error type's key, or Enter for unclassified; then an optional note")),
        Binding("n", "note", "note", id="task-note",
                tooltip="note: o observation, q quote, p problem (then severity 0–4)"),
        Binding("u", "undo", "undo", id="task-undo",
                tooltip="undo the last event (it is logged; undoing an end reopens the task)"),
        Binding("v", "participant_view", "view", id="task-view",
                tooltip="participant view: only the prompt, full screen, until any key"),
        Binding("c", "review", "correct", id="task-review", tooltip=(
            "review the ended tasks and correct one (outcome, time, errors, assists, SEQ)")),
        Binding("r", "mark_recording", "recording started", show=False, id="task-recording",
                tooltip="the screen recorder started now: the origin of the recording markers"),
        Binding("question_mark", "help", "help", id="task-help", tooltip="this help"),
    ]  # fmt: skip

    def __init__(
        self, recording: Recording, task_id: str, perform: Perform, by: str | None = None
    ) -> None:
        super().__init__()
        self.recording = recording
        self.task_id = task_id
        self.perform = perform
        self.by = by
        self._pausing_at: Moment | None = None  # space pressed, pause reason being typed

    @classmethod
    def end_keys(cls) -> str:
        """The line of keys that end a task, from the bindings."""
        keys = [f"{b.key} {b.description}" for b in cls.BINDINGS
                if isinstance(b, Binding) and b.action.startswith("end(")]  # fmt: skip
        return "end the task:  " + "   ".join(keys)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.recording.session.state.tasks[self.task_id].status == "ended":
            return False  # keys typed before the app showed what comes next are dropped
        return super().check_action(action, parameters)

    def compose(self) -> ComposeResult:
        rec = self.recording
        task = rec.loaded.scenario.task(self.task_id)
        state = rec.session.state
        position = state.tasks[self.task_id].position
        meta = f"Task {position} of {len(state.order)}  ·  {rec.record.participant}"
        if rec.record.condition:
            meta += f"  ·  {rec.record.condition}"
        yield Static(literal(meta), id="task-meta")
        with VerticalScroll(id="task-body"):
            yield Static(literal(task.title), id="task-title")
            yield Static(literal(task.prompt.strip()), id="task-prompt")
            if task.success or task.notes:
                with Vertical(id="moderator-only") as moderator_only:
                    moderator_only.border_title = "moderator only"
                    if task.success:
                        yield Static(literal(f"Success: {task.success}"),
                                     id="task-success-criterion")  # fmt: skip
                    if task.notes:
                        yield Static(literal(f"Notes: {task.notes}"), id="task-notes")
        yield Static(self.end_keys(), id="end-keys")
        yield TaskStatus(id="task-status")
        yield Timeline(EVENT_LOG_LINES, id="event-log")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(0.2, self.refresh_clock)

    # -- display ---------------------------------------------------------------------------
    def refresh_clock(self) -> None:
        rec = self.recording
        if self.task_id not in rec.session.state.tasks or not on_stack(self):
            return
        t = rec.session.state.tasks[self.task_id]
        label = None
        if self._pausing_at is not None and t.status == "running":
            # the reason is being typed: the clock shows what the pause will record
            ms = t.time_ms(rec.session.run, self._pausing_at.mono_ms)
            label = "PAUSING — reason?"
        else:
            ms = rec.session.time_ms(self.task_id)
        limit = rec.loaded.scenario.task(self.task_id).time_limit
        self.query_one(TaskStatus).show(t, ms, limit, label)

    def refresh_status(self) -> None:
        rec = self.recording
        if not on_stack(self):  # a dialog's answer after the task was left
            return
        self.query_one("#event-log", Timeline).show(rec.session.events)
        self.refresh_clock()

    # -- actions ---------------------------------------------------------------------------
    def action_clock(self) -> None:
        rec = self.recording
        if rec.session.state.tasks[self.task_id].status == "running":
            pressed = rec.session.now()  # the clock stops at the key press, not after typing
            self._pausing_at = pressed

            def paused(reason: str | None) -> None:
                self._pausing_at = None
                if reason is None:  # Esc = do not pause after all: the clock ran on
                    self.refresh_clock()
                else:
                    self.perform(lambda: rec.session.pause(reason, self.task_id, at=pressed))
                    self.refresh_status()

            self.app.push_screen(
                TextPrompt("Pause — reason (optional)", "e.g. participant question",
                           "Enter pause (reason optional)   ·   Esc keep running"), paused,
            )  # fmt: skip
            return
        self.perform(lambda: rec.session.toggle(self.task_id))
        self.refresh_status()

    def action_end(self, outcome: str) -> None:
        rec = self.recording
        if self.perform(lambda: rec.session.end(outcome, self.task_id)):
            self.post_message(SessionMoved())

    def action_assist(self) -> None:
        rec = self.recording
        pressed = rec.session.now()
        self._warn_if_paused()
        self.perform(lambda: rec.session.log_assist(None, self.task_id, at=pressed))
        self.refresh_status()

    def action_error(self) -> None:
        rec = self.recording
        pressed = rec.session.now()  # the error is stamped with this key, not the dialog's Enter
        status = rec.session.state.tasks[self.task_id].status
        if status == "pending":
            self.notify("Start the task first (space): errors belong to a running task",
                        severity="warning")  # fmt: skip
            return

        def picked(choice: ErrorChoice | None) -> None:
            if choice is None:
                return

            def noted(note: str | None) -> None:
                if note is None:
                    return
                self._warn_if_paused()
                self.perform(lambda: rec.session.log_error(
                    choice.type_key, note, self.task_id, at=pressed))  # fmt: skip
                self.refresh_status()

            self.app.push_screen(TextPrompt("Error note (optional)", "what happened"), noted)

        self.app.push_screen(ErrorTypePicker(list(rec.loaded.scenario.error_types)), picked)

    def action_note(self) -> None:
        rec = self.recording
        pressed = rec.session.now()  # the note is stamped with this key, not the dialog's Enter

        def kind_picked(kind: str | None) -> None:
            if kind is None:
                return

            def texted(text: str | None) -> None:
                if text is None:
                    return
                if kind != "problem":
                    self.perform(lambda: rec.session.log_note(text, kind, at=pressed))
                    self.refresh_status()
                    return

                def rated(severity: int | None) -> None:
                    if severity is None:
                        return
                    value = None if severity < 0 else severity
                    self.perform(lambda: rec.session.log_note(text, kind, value, at=pressed))
                    self.refresh_status()

                self.app.push_screen(SeverityPicker(), rated)

            self.app.push_screen(TextPrompt(f"Note ({kind})", "type the note"), texted)

        self.app.push_screen(NoteKindPicker(), kind_picked)

    def action_undo(self) -> None:
        self.post_message(UndoRequested())

    def action_mark_recording(self) -> None:
        """The recorder started: log the key's instant, the origin of the recording markers."""
        rec = self.recording
        pressed = rec.session.now()
        if self.perform(lambda: rec.session.log_recording_start(at=pressed)):
            self.notify(f"Recording start marked at {local_time(pressed.utc.isoformat())} "
                        "(u undoes it)")  # fmt: skip
            self.refresh_status()

    def action_participant_view(self) -> None:
        rec = self.recording
        task = rec.loaded.scenario.task(self.task_id)
        self.app.push_screen(ParticipantView(task.title, task.prompt.strip()))

    def action_review(self) -> None:
        """Review the ended tasks and correct one (outcome, time, errors, assists, SEQ)."""
        from usetest.tui.screens.review import ReviewScreen

        rec = self.recording
        titles = {t.id: t.title for t in rec.loaded.scenario.tasks}
        self.app.push_screen(
            ReviewScreen(rec.session, rec.record.participant, titles, self.perform, by=self.by),
            lambda _changed: self.refresh_status(),
        )  # fmt: skip

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(help_text([
            Section("Task screen", [*self.BINDINGS, *self.app.BINDINGS]),
            Section("Questionnaires", QuestionnaireScreen.BINDINGS, [(
                "1–7", "(or the scale's numbers) answer at once; scales up to 10: type the "
                "number, Enter")]),
        ], closing="Every event is saved to the database before it appears in the log.")))

    def _warn_if_paused(self) -> None:
        rec = self.recording
        if rec and rec.session.state.tasks[self.task_id].status == "paused":
            self.notify("Logged while the clock is paused", severity="warning")

