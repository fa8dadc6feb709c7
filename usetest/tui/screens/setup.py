"""Before a session: who, which condition, consent; and the list of sessions to resume."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from usetest import store
from usetest.session import assign_order
from usetest.tui.text import literal

if TYPE_CHECKING:
    from usetest.tui.app import UsetestApp


class SetupScreen(Screen[None]):
    """Participant code (next free one suggested), moderator, condition, consent."""

    BINDINGS = [
        Binding("ctrl+s", "start", "Start session", id="setup-start", priority=True),
    ]

    @property
    def ut(self) -> UsetestApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        sc = self.ut.loaded.scenario
        db = self.ut.db
        code = store.next_participant_code(db)
        with VerticalScroll(id="setup"):
            yield Static(literal(sc.study), id="setup-study")
            about = f"{sc.product or ''}  ·  {len(sc.tasks)} tasks  ·  order: {sc.task_order}"
            yield Static(literal(about.strip(" ·")), id="setup-about")
            yield Static("Participant code (a pseudonym, never a name)")
            yield Input(value=code, id="participant")
            yield Static("Moderator")
            yield Input(value=self.ut.moderator or "", placeholder="initials", id="moderator")
            if sc.conditions:
                counts = store.condition_counts(db, list(sc.conditions))
                least = min(sc.conditions, key=lambda c: counts[c])
                yield Static("Condition (the least-used one is suggested)")
                yield Select(
                    [(f"{c}  ({counts[c]} so far)", c) for c in sc.conditions],
                    value=least, allow_blank=False, id="condition",
                )  # fmt: skip
            yield Checkbox("The participant has given consent", id="consent")
            yield Static("", id="order-preview")
            yield Static("ctrl+s start   ·   tab next field   ·   ctrl+q quit", classes="keys")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.update_order()
        self.query_one("#participant", Input).focus()

    @on(Input.Changed, "#participant")
    def update_order(self) -> None:
        loaded = self.ut.loaded
        code = self.query_one("#participant", Input).value.strip() or "P01"
        ordinal = len(store.list_sessions(self.ut.db)) + 1
        order = assign_order(loaded.scenario, loaded.sha256, code, ordinal)
        titles = [f"{i}. {loaded.scenario.task(t).title}" for i, t in enumerate(order, 1)]
        self.query_one("#order-preview", Static).update(
            literal("Task order for this participant:\n" + "\n".join(titles))
        )

    def action_start(self) -> None:
        participant = self.query_one("#participant", Input).value.strip()
        moderator = self.query_one("#moderator", Input).value.strip() or None
        condition = None
        if self.ut.loaded.scenario.conditions:
            value = self.query_one("#condition", Select).value
            condition = value if isinstance(value, str) else None
        if not self.query_one("#consent", Checkbox).value:
            self.notify("Confirm consent first (tab to the box, space to tick it)",
                        severity="warning")  # fmt: skip
            return
        self.ut.start_session(participant, moderator, condition)

    def action_quit_app(self) -> None:
        self.app.exit()


class ResumeScreen(Screen[None]):
    """Unfinished sessions in the database; Enter continues the highlighted one."""

    BINDINGS = [Binding("escape", "quit_app", "Quit", id="resume-quit")]

    @property
    def ut(self) -> UsetestApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        sessions = store.list_sessions(self.ut.db, "in_progress")
        with Vertical(id="resume"):
            yield Static("Unfinished sessions — Enter to continue one", id="resume-title")
            options = [
                Option(literal(
                    f"{s.participant}  started {s.started_at[:16].replace('T', ' ')} UTC  ·  "
                    f"last event {(s.last_event_at or '')[11:19]}  ·  {s.condition or ''}"
                ), id=str(s.id))
                for s in sessions
            ]  # fmt: skip
            yield OptionList(*options, id="resume-list")
            if not sessions:
                yield Static("None: every session in this database is finished.")
        yield Footer(compact=True, show_command_palette=False)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.ut.resume_session(int(event.option.id))

    def action_quit_app(self) -> None:
        self.app.exit()
