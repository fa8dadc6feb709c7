"""Before a session: who, which condition, consent; and the list of sessions to resume."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from usetest import store
from usetest.plain import check_code
from usetest.recorder import plan_order
from usetest.tui.text import literal

if TYPE_CHECKING:
    from sqlite_utils import Database

    from usetest.scenario import LoadedScenario


class SetupScreen(Screen[None]):
    """Participant code (next free one suggested), moderator, condition, consent; ctrl+s posts
    :class:`StartChosen` once the codes are valid and consent is ticked.

    ``participant``, ``moderator``, ``condition``: what to fill in (a participant code already
    taken in ``db`` is replaced by the next free one); ``db`` is read for the codes taken, the
    conditions' counts and the task order each code would get.
    """

    BINDINGS = [
        Binding("ctrl+s", "start", "Start session", id="setup-start", priority=True),
    ]

    class StartChosen(Message):
        """Start a session with these (checked) details; consent was given in the app."""

        def __init__(self, participant: str, moderator: str | None, condition: str | None):
            super().__init__()
            self.participant = participant
            self.moderator = moderator
            self.condition = condition

    def __init__(
        self, loaded: LoadedScenario, db: Database, *, participant: str | None = None,
        moderator: str | None = None, condition: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.loaded = loaded
        self.db = db
        self.participant = participant
        self.moderator = moderator
        self.condition = condition

    def compose(self) -> ComposeResult:
        sc = self.loaded.scenario
        db = self.db
        with VerticalScroll(id="setup"):
            yield Static(literal(sc.study), id="setup-study")
            about = [sc.product or "", f"{len(sc.tasks)} tasks", f"order: {sc.task_order}"]
            yield Static(literal("  ·  ".join(a for a in about if a)), id="setup-about")
            if sc.description:
                yield Static(literal(sc.description.strip()), id="setup-description")
            with Horizontal(classes="field"):
                yield Label("Participant", classes="field-label")
                yield Input(value=self.suggested_code(), id="participant", compact=True)
                yield Label("a code, never a name", classes="field-hint")
            with Horizontal(classes="field"):
                yield Label("Moderator", classes="field-label")
                yield Input(value=self.moderator or "", placeholder="your initials",
                            id="moderator", compact=True)  # fmt: skip
            if sc.conditions:
                counts = store.condition_counts(db, list(sc.conditions))
                suggested = self.condition or sc.conditions[0]
                with Horizontal(classes="field"):
                    yield Label("Condition", classes="field-label")
                    yield Select(
                        [(literal(f"{c}  ({counts[c]} so far)"), c) for c in sc.conditions],
                        value=suggested, allow_blank=False, id="condition", compact=True,
                    )  # fmt: skip
                    yield Label("least used suggested", classes="field-hint")
            yield Static(literal(sc.consent_wording), id="consent-wording")
            yield Checkbox("The participant has given consent (as above)", id="consent",
                           compact=True)  # fmt: skip
            yield Static("", id="order-preview")
            yield Static("ctrl+s start   ·   tab next field   ·   space tick   ·   ctrl+q quit",
                         classes="keys")  # fmt: skip
        yield Footer(compact=True, show_command_palette=False)

    def suggested_code(self) -> str:
        """The code given on the command line if it is still free, else the next free one."""
        wanted = (self.participant or "").strip()
        taken = {s.participant for s in store.list_sessions(self.db)}
        return wanted if wanted and wanted not in taken else store.next_participant_code(self.db)

    def on_mount(self) -> None:
        self.update_order()
        self.query_one("#participant", Input).focus()

    @on(Input.Changed, "#participant")
    @on(Select.Changed, "#condition")
    def update_order(self) -> None:
        loaded = self.loaded
        code = self.query_one("#participant", Input).value.strip() or "P01"
        order = plan_order(self.db, loaded, code, self.chosen_condition())
        titles = [f"{i}. {loaded.scenario.task(t).title}" for i, t in enumerate(order, 1)]
        self.query_one("#order-preview", Static).update(
            literal(f"Task order for {code}:\n" + "\n".join(titles))
        )

    def action_start(self) -> None:
        participant = self.query_one("#participant", Input).value.strip()
        moderator = self.query_one("#moderator", Input).value.strip() or None
        try:  # the store checks again; here the moderator learns it before consent is asked
            participant = check_code(participant, "participant code")
            moderator = check_code(moderator, "moderator initials") if moderator else None
        except ValueError as exc:
            self.notify(f"Not started: {exc}.", severity="error", timeout=15)
            return
        condition = self.chosen_condition()
        if not self.query_one("#consent", Checkbox).value:
            self.notify("Confirm consent first (tab to the box, space to tick it)",
                        severity="warning")  # fmt: skip
            return
        self.post_message(self.StartChosen(participant, moderator, condition))

    def offer_code(self, taken: str, fresh: str, db: Database) -> None:
        """``taken`` went to another session meanwhile (another window): offer ``fresh``.
        ``db``: the app's database now (it was opened for writing to try the start)."""
        self.db = db
        field = self.query_one("#participant", Input)
        field.value = fresh
        field.focus()
        self.notify(f"{taken} was taken a moment ago (another window started a session with "
                    f"it). The participant field now holds the next free code, {fresh}: check "
                    "it and press ctrl+s again.", severity="warning", timeout=20)  # fmt: skip

    def chosen_condition(self) -> str | None:
        if not self.loaded.scenario.conditions:
            return None
        value = self.query_one("#condition", Select).value
        return value if isinstance(value, str) else None

    def action_quit_app(self) -> None:
        self.app.exit()


class ResumeScreen(Screen[None]):
    """Unfinished sessions in the database; Enter continues the highlighted one.

    A session another app has open (and may still be recording) is marked so and refused;
    ``t`` takes it over, after a confirmation that says what happens to the other app.

    Enter posts :class:`Chosen`, ``t`` :class:`Chosen` with ``take_over``; when the app could
    not resume it, it lists the sessions again (:meth:`fill`).
    """

    BINDINGS = [
        Binding("escape", "quit_app", "Quit", id="resume-quit"),
        Binding("t", "take_over", "Take over", id="resume-take-over"),
    ]
    NONE = "None: every session in this database is finished."

    class Chosen(Message):
        """Continue the session ``session_id``; ``take_over`` one open in another app (the app
        asks the moderator to confirm first)."""

        def __init__(self, session_id: int, take_over: bool = False) -> None:
            super().__init__()
            self.session_id = session_id
            self.take_over = take_over

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    def compose(self) -> ComposeResult:
        with Vertical(id="resume"):
            yield Static("Unfinished sessions — Enter to continue one", id="resume-title")
            options = self.options()
            yield OptionList(*options, id="resume-list")
            yield Static("Enter continue   ·   t take over one open elsewhere   ·   Esc quit",
                         classes="keys")  # fmt: skip
            yield Static("" if options else self.NONE, id="resume-none")
        yield Footer(compact=True, show_command_palette=False)

    def options(self) -> list[Option]:
        db = self.db
        options = []
        for s in store.list_sessions(db, "in_progress"):
            owner = store.session_owner(db, s.id)
            where = f"  ·  OPEN in another usetest ({owner.describe()})" if owner else ""
            options.append(Option(literal(
                f"{s.participant}  started {s.started_at[:16].replace('T', ' ')} UTC  ·  "
                f"last event {(s.last_event_at or '')[11:19]}  ·  {s.condition or ''}{where}"
            ), id=str(s.id)))  # fmt: skip
        return options

    def fill(self, db: Database | None = None) -> None:
        """List the sessions again (who has which open changes while the list is shown), from
        ``db`` if the app's database changed."""
        self.db = db or self.db
        listing = self.query_one("#resume-list", OptionList)
        highlighted = listing.highlighted
        listing.clear_options()
        listing.add_options(self.options())
        if highlighted is not None and listing.option_count:
            listing.highlighted = min(highlighted, listing.option_count - 1)
        self.query_one("#resume-none", Static).update("" if listing.option_count else self.NONE)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.post_message(self.Chosen(int(event.option.id)))

    def action_take_over(self) -> None:
        listing = self.query_one("#resume-list", OptionList)
        if listing.highlighted is None:
            return
        option = listing.get_option_at_index(listing.highlighted)
        if option.id is not None:
            self.post_message(self.Chosen(int(option.id), take_over=True))

    def action_quit_app(self) -> None:
        self.app.exit()
