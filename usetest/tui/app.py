"""UsetestApp: runs moderated sessions; ``make_app`` builds it for the CLI and the tests alike.

The app holds the top-level state (database, scenario, the recording in progress) and the flow
between screens: set-up -> tasks (each followed by its SEQ) -> questionnaires -> summary.
Every engine command goes through :meth:`UsetestApp.perform`, which shows a refused command
(``SessionError``) as a warning and a failed write (``StoreError``) as an error, so the screen
only ever shows as logged what the store has committed.
"""

from __future__ import annotations

import gc
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.events import Unmount
from textual.notifications import SeverityLevel

from usetest import recorder, store
from usetest.clock import Clock, SystemClock, parse_utc
from usetest.events import TASK_ENDED, Event, SessionError
from usetest.flow import next_step
from usetest.store import StoreError
from usetest.tui.live import EVENT_LABELS, describe
from usetest.tui.messages import SessionMoved, UndoRequested
from usetest.tui.screens.modals import ConfirmQuit, ConfirmTakeOver, ConsentScreen, TextPrompt
from usetest.tui.screens.questionnaire import QuestionnaireScreen
from usetest.tui.screens.task import TaskScreen
from usetest.tui.text import local_time

if TYPE_CHECKING:
    from sqlite_utils import Database

    from usetest.profile import ProfileValue
    from usetest.recorder import Recording
    from usetest.scenario import LoadedScenario
    from usetest.tui.screens.setup import ResumeScreen, SetupScreen

# The set-up, resume, profile and summary screens are imported where they are first shown:
# a start with --participant goes straight to a task screen without them.


def _on_setup(screen: object) -> bool:
    """Whether ``screen`` is the set-up screen (never, before that screen was first shown)."""
    setup = sys.modules.get("usetest.tui.screens.setup")
    return setup is not None and isinstance(screen, setup.SetupScreen)


def _resume_screen(db: Database) -> ResumeScreen:
    from usetest.tui.screens.setup import ResumeScreen

    return ResumeScreen(db)


def _resume_collector() -> None:
    """The garbage collector again, after a start-up without it (``usetest run``): what the
    start-up made lives as long as the app, so it is moved out of every later collection
    (``gc.freeze``) rather than scanned at the first one, which would land on a keypress."""
    gc.freeze()
    gc.enable()


class UsetestApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "usetest"
    ENABLE_COMMAND_PALETTE = False  # every action has its own key; keep ctrl+p free
    # Replaces Textual's own ctrl+q: quitting mid-session must ask first.
    BINDINGS = [
        Binding("ctrl+q", "quit_guard", "quit", id="app-quit", priority=True, tooltip=(
            "quit (asks first; the session stays resumable: usetest run FILE --resume); in that "
            "dialog, a abandons the session instead (the participant will not finish it)")),
        Binding("ctrl+c", "quit_guard", "Quit", show=False, id="app-ctrl-c", priority=True),
        Binding("ctrl+t", "switch_theme", "light/dark", show=False, id="app-theme",
                tooltip="light or dark colours"),
    ]  # fmt: skip
    # A write that waits longer than this for another program's lock fails with NOT SAVED
    # instead of freezing the screen for the store's default 10 s (per connection).
    WRITE_WAIT_MS = 2000

    def __init__(
        self,
        loaded: LoadedScenario,
        db: Database,
        clock: Clock,
        participant: str | None = None,
        moderator: str | None = None,
        condition: str | None = None,
        resume: bool = False,
        consent: bool = False,
        writable: bool = True,
    ) -> None:
        super().__init__()
        self.consent_before = consent
        """Consent was obtained before the app started (``usetest run --consent``)."""
        self.loaded = loaded
        self.db = db
        """The study database. Until a session starts or resumes a read-only view of the file
        (or an empty one when there is no file yet: nothing is written before a session);
        then the read-write database, which :meth:`writable_db` opens."""
        self.db_writable = writable
        self.db_path: Path | None = None  # set by make_app; the results view reads it
        self.version_notice: str | None = None
        """What changed since the study's last version, told at start-up (set by make_app)."""
        if writable:
            db.execute(f"PRAGMA busy_timeout = {self.WRITE_WAIT_MS}")
        self.clock = clock
        self.participant = participant
        self.moderator = moderator
        self.condition = condition
        self.resume = resume
        self.recording: Recording | None = None
        self.lost_session = False
        """Another app took this app's session over: it can no longer record it."""
        self.sub_title = loaded.scenario.study

    take_over = False
    """``run --resume --participant CODE --take-over``: the moderator confirmed taking it over."""

    def writable_db(self) -> Database:
        """The database to record in, opened (created, migrated) on first need — when a
        session starts or resumes — after checking again that it holds this study."""
        if self.db_writable:
            return self.db
        assert self.db_path is not None  # in memory (no path) is writable from the start
        peeked = store.peek(self.db_path)  # another app may have written since start-up
        try:
            if peeked is not None:
                store.check_study(peeked, self.loaded, self.db_path)
        finally:
            if peeked is not None:
                peeked.close()
        db = store.open_db(self.db_path)
        db.execute(f"PRAGMA busy_timeout = {self.WRITE_WAIT_MS}")
        self.db.close()
        self.db, self.db_writable = db, True
        return db

    @on(Unmount)
    def _close_read_view(self) -> None:
        if not self.db_writable:
            self.db.close()  # and the -wal/-shm its reading made go with it

    OBSERVER_POLL_S = 0.25
    """How often the app takes in the notes observers posted (usetest observe)."""

    def on_mount(self) -> None:
        if not gc.isenabled():  # paused for the start-up by `usetest run`
            self.call_after_refresh(_resume_collector)
        self.set_interval(self.OBSERVER_POLL_S, self.take_observer_notes)
        if self.version_notice and not self.resume:
            self.notify(self.version_notice, title="New version of the study", timeout=30)
        if self.resume and self.participant:
            self.resume_participant(self.participant)
        elif self.resume:
            self.push_screen(_resume_screen(self.db))
        elif self.participant:
            condition = self.condition or self.suggested_condition()
            if condition and not self.condition:
                self.notify(f"Condition {condition} (the least used so far)", timeout=8)
            participant = self.participant
            if self.consent_before:
                self.start_session(participant, self.moderator, condition, "before the app")
                return

            def answered(given: bool | None) -> None:
                if given:
                    self.start_session(participant, self.moderator, condition, "in the app")
                else:
                    self.notify(f"No consent: no session was started for {participant}, "
                                "and nothing was recorded.", severity="warning", timeout=15)
                    self.push_screen(self.setup_screen())

            self.push_screen(ConsentScreen(participant, self.loaded.scenario.consent_wording),
                             answered)  # fmt: skip
        else:
            self.push_screen(self.setup_screen())

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications quote scenario and moderator text, so they are never read as markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def suggested_condition(self) -> str | None:
        """The study's least-used condition so far (first in the file on a tie), if any."""
        conditions = list(self.loaded.scenario.conditions or ())
        if not conditions:
            return None
        counts = store.condition_counts(self.db, conditions)
        return min(conditions, key=lambda c: counts[c])

    def setup_screen(self) -> SetupScreen:
        """The set-up of the next session, filled in with what the app was given."""
        from usetest.tui.screens.setup import SetupScreen

        return SetupScreen(self.loaded, self.db, participant=self.participant,
                           moderator=self.moderator,
                           condition=self.condition or self.suggested_condition())  # fmt: skip

    def action_switch_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    # -- the one door to the engine ---------------------------------------------------------
    def perform(self, command: Callable[[], Event]) -> Event | None:
        """Run an engine command; the event is returned only once it is committed."""
        try:
            return command()
        except SessionError as exc:
            self.notify(str(exc), severity="warning")
        except (StoreError, sqlite3.Error) as exc:
            self.lost_session = self.lost_session or isinstance(exc, store.SessionTakenOver)
            self.notify(str(exc), title="NOT SAVED", severity="error", timeout=30)
            self.bell()
        return None

    def take_observer_notes(self) -> None:
        """Log the notes observers posted (``usetest observe``) into the session: this app is
        the one writer of its event log. Each is stamped with the observer's key time, belongs
        to the task the observer saw, and shows as a notice naming the observer."""
        rec = self.recording
        if rec is None or not self.db_writable or rec.session.state.status != "in_progress":
            return
        waiting = store.waiting_observer_notes(self.db.conn, rec.record.id)
        session = rec.session
        for note in waiting:
            task_id = note.task_id if note.task_id in session.state.tasks else None
            event = self.perform(lambda n=note, t=task_id: session.log_note(
                n.text, n.kind, n.severity, task_id=t, at=session.moment_at(parse_utc(n.noted_at)),
                author=n.observer, inbox_id=n.id))  # fmt: skip
            if event is None:
                return
            self.notify(describe(event), title=f"Note from observer {note.observer}", timeout=8)
        if waiting and hasattr(self.screen, "refresh_status"):
            self.screen.refresh_status()  # the task screen's timeline shows them

    # -- flow ---------------------------------------------------------------------------------
    def start_session(
        self, participant: str, moderator: str | None, condition: str | None, consent: str,
        profile: dict[str, ProfileValue] | None = None,
    ) -> None:  # fmt: skip
        """Start recording; ``consent`` says how it was obtained (``in the app`` / ``before
        the app``) and is recorded, with the scenario's wording, right after the start.

        A scenario with ``profile:`` questions has them asked first (those not given with
        ``run --profile-answer``); the answers are recorded with the consent. Esc on the first
        question goes back: nothing is recorded until the last answer.
        """
        self.moderator = moderator  # the same moderator usually runs the next participant too
        questions = self.loaded.scenario.profile
        if questions and profile is None and not self._code_taken(participant):
            preset = dict(self.profile_preset)
            if all(q.id in preset for q in questions):
                profile = preset
            else:
                def answered(answers: dict[str, ProfileValue] | None) -> None:
                    if answers is not None:
                        self.start_session(participant, moderator, condition, consent, answers)
                        return
                    self.notify(f"Profile not finished: no session was started for "
                                f"{participant}, and nothing was recorded.", severity="warning",
                                timeout=15)  # fmt: skip
                    if not _on_setup(self.screen):
                        self._show(self.setup_screen())

                from usetest.tui.screens.profile import ProfileScreen

                self.push_screen(ProfileScreen(participant, questions, preset), answered)
                return
        try:
            self.recording = recorder.start(
                self.writable_db(), self.loaded, participant, moderator, condition, clock=self.clock,
                consent=consent, claim=True, profile=profile,
            )  # fmt: skip
            self.profile_preset = {}  # given for this participant, not the next one
        except (StoreError, SessionError) as exc:
            if isinstance(exc, store.ParticipantTaken) and _on_setup(self.screen):
                self.screen.offer_code(participant, exc.next_code, self.db)  # another window took it
                return
            self.notify(str(exc), severity="error", timeout=15)
            if not self.screen_stack or len(self.screen_stack) <= 1:
                self.push_screen(self.setup_screen())
            return
        self.show_next()

    profile_preset: dict[str, ProfileValue] = {}
    """Profile answers given on the command line (``run --profile-answer``): not asked."""

    def _code_taken(self, participant: str) -> bool:
        """The code has a session already: say so before the profile is asked for nothing
        (:func:`usetest.recorder.start` refuses it, with the next free code)."""
        try:
            store.find_session(self.db, participant.strip())
        except StoreError:
            return False
        return True

    def resume_participant(self, participant: str) -> None:
        """``run --resume --participant CODE``: that session at once, without the list."""
        try:
            record = store.find_session(self.db, participant)
        except StoreError as exc:
            self.notify(str(exc), severity="error", timeout=15)
            self.push_screen(_resume_screen(self.db))
            return
        if not self.resume_session(record.id, take_over=self.take_over):
            self.push_screen(_resume_screen(self.db))

    def resume_session(self, session_id: int, take_over: bool = False) -> bool:
        """Continue a session, claiming it for this app; False (and why, shown) if refused.

        ``take_over`` only after the moderator confirmed it (:meth:`take_over_session`).
        """
        try:
            self.recording, info = recorder.resume(
                self.writable_db(), session_id, clock=self.clock, current_sha256=self.loaded.sha256,
                claim=True, take_over=take_over,
            )  # fmt: skip
        except store.SessionBusy as exc:
            self.notify(
                f"{exc.participant} is open in another usetest ({exc.owner.describe()}). Close "
                "it there and try again. If that app is frozen or its computer is unreachable, "
                "press t on it in this list to take it over.",
                title="Open elsewhere", severity="error", timeout=20,
            )  # fmt: skip
            return False
        except (StoreError, SessionError) as exc:
            self.notify(str(exc), severity="error", timeout=15)
            return False
        if take_over:
            self.notify("Taken over: the other app can no longer save to this session.",
                        severity="warning", timeout=15)  # fmt: skip
        if info.interrupted_tasks:
            sc = self.recording.loaded.scenario
            titles = ", ".join(f"“{sc.task(t).title}”" for t in info.interrupted_tasks)
            self.notify(
                f"{titles} was running when the session stopped. Its time up to the last "
                f"recorded event ({local_time(info.last_event_at)}) is kept; the running time "
                "between that event and the interruption is not counted. The clock is paused: "
                "space resumes.",
                title="Session resumed", timeout=30,
            )  # fmt: skip
        else:
            self.notify("Session resumed: everything recorded so far is here.", timeout=10)
        if info.scenario_changed:
            self.notify("The scenario file changed since this session began; the session "
                        "continues with the version it started with.", severity="warning",
                        timeout=20)  # fmt: skip
        self.show_next()
        return True

    def take_over_session(self, session_id: int) -> None:
        """Resume a session another app has open, once the moderator confirmed it."""
        record = store.get_session(self.db, session_id)
        owner = store.session_owner(self.db, session_id)
        if owner is None:  # nobody (left) to take it from
            self.resume_session(session_id)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.resume_session(session_id, take_over=True)

        self.push_screen(ConfirmTakeOver(record.participant, owner.describe()), answered)

    def _show(self, screen: Any) -> None:
        # Keep the stack shallow: the default screen plus the current flow screen.
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(screen)

    def show_next(self) -> None:
        """Go to wherever the session stands (:func:`usetest.flow.next_step`): a task, its SEQ
        and ``after:`` questionnaires, the end-of-session questionnaires, the summary."""
        rec = self.recording
        assert rec is not None
        step = next_step(rec.loaded.scenario, rec.session.state)
        if step.kind == "task":
            assert step.task_id is not None
            self._show(TaskScreen(rec, step.task_id, self.perform, by=self.moderator))
        elif step.kind == "questions":
            titles = {t.id: t.title for t in rec.loaded.scenario.tasks}
            self._show(QuestionnaireScreen(step, rec.session, self.perform, titles))
        else:
            self.finish()

    @on(SessionMoved)
    @on(QuestionnaireScreen.Finished)
    def _session_moved(self) -> None:
        if self.recording is not None:
            self.show_next()

    @on(UndoRequested)
    def _undo_requested(self) -> None:
        self.undo()

    def finish(self) -> None:
        rec = self.recording
        assert rec is not None
        if rec.session.state.status == "in_progress" and self.perform(rec.session.complete) is None:
            return
        from usetest.tui.screens.summary import SummaryScreen

        self._show(SummaryScreen(rec, self.perform, self.db_path, by=self.moderator))

    def undo(self) -> None:
        rec = self.recording
        if rec is None:
            return
        event = self.perform(rec.session.undo)
        if event is None:
            return
        self.notify(f"Undone: {EVENT_LABELS.get(event.payload['target_kind'], '')}")
        screen = self.screen
        if (
            isinstance(screen, TaskScreen)
            and event.task_id == screen.task_id
            and event.payload["target_kind"] != TASK_ENDED
        ):
            screen.refresh_status()  # still the same task: no need to rebuild the screen
        else:
            self.show_next()  # back to where the undone event belonged (a reopened task …)

    def release_session(self) -> None:
        """Give the session back so another app may resume it (quit, next participant)."""
        if self.recording is not None:
            recorder.release(self.db, self.recording)

    def on_unmount(self) -> None:
        self.release_session()  # also after a crash inside the app; kill -9 is seen as gone

    closed_by_signal: str | None = None
    """``SIGTERM``/``SIGHUP`` when the app was closed by that signal (``usetest run``)."""

    def close_on_signal(self, name: str) -> None:
        """Close as ctrl+q's "quit" does (session kept, resumable; claim released; terminal
        restored). Called from a ``signal.signal`` handler, which may interrupt the event loop
        anywhere: the exit is only scheduled, the way asyncio's own SIGINT handler does it."""
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not running (yet or any more): nothing to close gracefully
            raise SystemExit(f"usetest: stopped by {name}") from None

        def close() -> None:
            self.closed_by_signal = name
            self.exit()

        loop.call_soon_threadsafe(close)

    def next_participant(self) -> None:
        self.release_session()
        self.recording = None
        self.participant = None
        self.condition = None  # suggest the least-used one again
        self._show(self.setup_screen())

    # Handlers by name (SummaryScreen.NextParticipant, SetupScreen.StartChosen,
    # ResumeScreen.Chosen) rather than @on(…), which would need those screens imported here.
    def on_summary_screen_next_participant(self) -> None:
        self.next_participant()

    def on_setup_screen_start_chosen(self, message: SetupScreen.StartChosen) -> None:
        self.start_session(message.participant, message.moderator, message.condition,
                           "in the app")  # fmt: skip

    def on_resume_screen_chosen(self, message: ResumeScreen.Chosen) -> None:
        from usetest.tui.screens.setup import ResumeScreen

        if message.take_over:
            self.take_over_session(message.session_id)
        elif not self.resume_session(message.session_id) and isinstance(self.screen, ResumeScreen):
            self.screen.fill(self.db)  # refused: list them again (who has which open changed)

    def confirm_quit(self) -> None:
        if self.recording is None or self.recording.session.state.status != "in_progress":
            self.exit()
            return

        def answered(choice: str | None) -> None:
            if choice == "quit":
                self.exit()
            elif choice == "abandon":
                self.ask_abandon()

        self.push_screen(ConfirmQuit(
            "Quit now? Everything logged so far is saved, and the session stays unfinished: "
            "continue it later with  usetest run SCENARIO --resume", abandon=True),
            answered)  # fmt: skip

    def ask_abandon(self) -> None:
        """Why the session ends here; Enter abandons it, Esc keeps it open."""
        rec = self.recording
        if rec is None:
            return
        participant = rec.record.participant
        pressed = rec.session.now()  # the clock stops here, not after the reason is typed

        def reason_given(reason: str | None) -> None:
            if reason is None:
                self.notify("Not abandoned: the session goes on.", timeout=5)
                return
            if self.perform(lambda: rec.session.abandon(reason, at=pressed)) is None:
                return
            self.notify(f"{participant}'s session is abandoned: it leaves the resume list, and "
                        "analyses leave it out unless --include-unfinished. Everything recorded "
                        "is kept.", timeout=15)  # fmt: skip
            self.next_participant()

        self.push_screen(TextPrompt(
            f"Abandon {participant}'s session — why? (optional)",
            placeholder="e.g. participant had to leave",
            hint="Enter abandon the session   ·   Esc keep it open"), reason_given)  # fmt: skip

    def action_quit_guard(self) -> None:
        self.confirm_quit()


def make_app(
    loaded: LoadedScenario,
    db_path: str | Path | None,
    *,
    clock: Clock | None = None,
    participant: str | None = None,
    moderator: str | None = None,
    condition: str | None = None,
    resume: bool = False,
    consent: bool = False,
    profile: dict[str, ProfileValue] | None = None,
) -> UsetestApp:
    """The app, wired to its database; the CLI and the tests both build it here.

    ``profile``: answers to the scenario's profile questions given beforehand (``run
    --profile-answer``, checked by the caller); the others are asked after consent.
    ``consent=True``: consent was obtained before the app started (``run --consent``); without
    it, a participant given here is first asked for consent on screen.

    Nothing is written to ``db_path`` here: the app reads it through a read-only view, and
    creates or opens it for writing when a session starts (or at once with ``resume``, which
    continues a recorded one). A database of another study is refused (StoreError) first.
    ``db_path=None``: an in-memory database (tests).
    """
    from usetest.versions import new_version_notice

    notice = None
    if db_path is None:
        db, writable = store.open_db(None), True
    else:
        store.check_recordable(db_path)  # a read-only file or folder: refused now, not at ctrl+s
        peeked = store.peek(db_path)
        try:
            if peeked is not None:
                store.check_study(peeked, loaded, db_path)
            notice = new_version_notice(peeked, loaded)
        except BaseException:
            if peeked is not None:
                peeked.close()
            raise
        if resume and peeked is not None:
            peeked.close()
            db, writable = store.open_db(db_path), True
        else:
            db, writable = peeked or store.open_db(None), False
    app = UsetestApp(
        loaded, db, clock or SystemClock(), participant=participant, moderator=moderator,
        condition=condition, resume=resume, consent=consent, writable=writable,
    )  # fmt: skip
    app.db_path = Path(db_path) if db_path is not None else None
    app.profile_preset = dict(profile or {})
    app.version_notice = notice
    return app
