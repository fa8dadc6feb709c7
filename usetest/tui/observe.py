"""``usetest observe DB --observer KL``: a second terminal that follows the live session.

The observer sees the participant, the task, its clock and the timeline, as the moderator does,
and logs notes with the moderator's keys (``n``, then o/q/p, a severity for a problem, the
text, Enter). Notes go to the store's inbox (:mod:`usetest.observe`); the moderator's app logs
each into the session within a fraction of a second, and the timeline here shows it with the
observer's initials. An observer cannot change outcomes, the clock or answers: this screen has
no key that would. Several observers can follow one database at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from usetest import observe, store
from usetest.store import StoreError
from usetest.tui.live import TaskStatus, Timeline
from usetest.tui.screens.modals import NoteKindPicker, SeverityPicker, TextPrompt
from usetest.tui.text import literal

TIMELINE_LINES = 12
POLL_S = 0.25


class ObserverScreen(Screen[None]):
    """The live session, read from the database every :data:`POLL_S` seconds."""

    DEFAULT_CSS = """
    #obs-head { text-style: bold; padding: 0 1; }
    #obs-task { padding: 1 1 0 1; }
    #obs-status-line { padding: 0 1; }
    #obs-timeline { border-top: solid $primary; padding: 0 1; height: 1fr; }
    #obs-status { color: $text-muted; padding: 0 1; }
    """

    BINDINGS = [
        Binding("n", "note", "note", id="obs-note"),
        # ctrl+q as in the moderator's app: a fast "n q" (a quote) must never close the screen
        Binding("ctrl+q", "quit", "quit", id="obs-quit"),
    ]

    def __init__(self, db: Any, observer: str, participant: str | None = None) -> None:
        super().__init__()
        self.db = db
        self.observer = observer
        self.participant = participant
        self.follower = observe.Follower(db, participant)
        self.live: observe.Live | None = None
        self.sent = 0

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="obs-head")
            yield Static("", id="obs-task")
            yield TaskStatus(id="obs-status-line")
            yield Timeline(TIMELINE_LINES, id="obs-timeline")
            yield Static("", id="obs-status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.poll()
        self.set_interval(POLL_S, self.poll)

    def poll(self) -> None:
        """Read the session again and redraw (a read: the moderator's app is never blocked)."""
        self.follower.poll()
        live = self.live = self.follower.live
        head = self.query_one("#obs-head", Static)
        if live is None:
            who = f"{self.participant}'s session" if self.participant else "a session"
            head.update(literal(f"Observer {self.observer} — waiting for {who} to start"))
            self.query_one("#obs-task", Static).update(
                "No session is in progress in this database. This screen follows the next one "
                "the moderator starts (usetest run).")  # fmt: skip
            self.query_one("#obs-status", Static).update("")
            self.query_one(TaskStatus).display = False
            self.query_one(Timeline).show([])
            return
        r = live.record
        head.update(literal(f"Observer {self.observer} — {r.participant}"
                            + (f" · {r.condition}" if r.condition else "")
                            + f" · {live.scenario.study}"))  # fmt: skip
        task_id = live.state.current_task
        status_line = self.query_one(TaskStatus)
        status_line.display = task_id is not None
        if task_id is None:
            task_text = "All tasks done: questionnaires and wrap-up."
        else:
            task = live.scenario.task(task_id)
            k = live.state.order.index(task_id) + 1
            task_text = f"Task {k} of {len(live.state.order)} — {task.title}"
            status_line.show(live.state.tasks[task_id], live.task_ms(task_id, datetime.now(UTC)),
                             task.time_limit)  # fmt: skip
        self.query_one("#obs-task", Static).update(literal(task_text))
        self.query_one(Timeline).show(live.events)
        waiting = sum(1 for n in store.waiting_observer_notes(self.db.conn, r.id)
                      if n.observer == self.observer)  # fmt: skip
        status = (f"{waiting} note(s) waiting for the moderator's app to log them"
                  if waiting else f"{self.sent} note(s) sent")  # fmt: skip
        self.query_one("#obs-status", Static).update(status)

    def action_note(self) -> None:
        """n: kind, severity for a problem, text — stamped when n was pressed."""
        pressed = datetime.now(UTC)
        live = self.live
        if live is None:
            self.notify("No session in progress: nothing to note on yet", severity="warning")
            return

        def kind_picked(kind: str | None) -> None:
            if kind is None:
                return
            if kind == "problem":
                def rated(severity: int | None) -> None:
                    if severity is not None:
                        self._ask_text(live, kind, None if severity < 0 else severity, pressed)

                self.app.push_screen(SeverityPicker(), rated)
                return
            self._ask_text(live, kind, None, pressed)

        self.app.push_screen(NoteKindPicker(), kind_picked)

    def _ask_text(self, live: observe.Live, kind: str, severity: int | None,
                  pressed: datetime) -> None:  # fmt: skip
        def texted(text: str | None) -> None:
            if not text or not text.strip():
                self.notify("Empty note: nothing sent", severity="warning")
                return
            try:
                observe.send_note(self.db, live, self.observer, kind, text, severity, pressed)
            except StoreError as exc:
                self.notify(str(exc), title="NOT SENT", severity="error", timeout=15)
                return
            self.sent += 1
            self.notify("Sent: the moderator's screen shows it in a moment", timeout=4)
            self.poll()

        self.app.push_screen(TextPrompt(f"Note ({kind})", "type the note"), texted)

    def action_quit(self) -> None:
        self.app.exit()


class ObserverApp(App[None]):
    """``usetest observe``: the observer's screen on its own."""

    TITLE = "usetest observe"
    CSS_PATH = "app.tcss"  # the moderator's dialogs look the same here

    def __init__(self, db_path: str | Path, observer: str, participant: str | None = None) -> None:
        super().__init__()
        self.db = store.open_db(db_path, create=False)
        self.db.execute("PRAGMA busy_timeout = 2000")  # a note waits out a commit in progress
        self.observer = observer
        self.participant = participant

    def on_mount(self) -> None:
        self.push_screen(ObserverScreen(self.db, self.observer, self.participant))

    def on_unmount(self) -> None:
        self.db.close()
