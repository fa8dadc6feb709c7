"""Following a live session from another terminal: what an observer sees and sends.

No server: the study database is the meeting point. An observer reads the session's event log
(WAL: reading never blocks the app that records it) and replays it into the same state the
moderator's app holds; a note the observer sends waits in the store's ``observer_notes`` until
that app logs it as a note event (:meth:`usetest.tui.app.UsetestApp.take_observer_notes`), so
the session's log keeps its one writer. No Textual here: the observer's screen
(:mod:`usetest.tui.observe`) and the tests use it alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from usetest import store
from usetest.clock import iso_utc, parse_utc
from usetest.events import Event, SessionState, replay
from usetest.scenario import Scenario
from usetest.store import SessionRecord
from usetest.versions import parsed

if TYPE_CHECKING:
    from sqlite_utils import Database


@dataclass(frozen=True)
class Live:
    """A session as an observer sees it: its row, the scenario it runs, its replayed state."""

    record: SessionRecord
    scenario: Scenario
    state: SessionState
    events: tuple[Event, ...]

    @property
    def last_seq(self) -> int:
        return self.events[-1].seq if self.events else 0

    def task_ms(self, task_id: str, now: datetime) -> int:
        """Time on task as of ``now`` (wall clock): what the log holds, plus, while the task's
        clock runs, the time since the last event (the moderator's monotonic clock is not
        readable from another process; between events wall time stands in for it)."""
        task = self.state.tasks[task_id]
        last = self.events[-1] if self.events else None
        if task.running_since is None or last is None:
            return task.time_ms()
        since = max(0, round((now - parse_utc(last.at)).total_seconds() * 1000))
        return task.time_ms(last.run, last.mono_ms + since)


class Follower:
    """A session followed from another process, kept up to date by :meth:`poll`: the session
    to follow, and only the events newer than the last one read (one indexed read), replayed
    with the whole log (an undo may cancel an event read before).

    Which session: ``participant``'s if given, else the newest in progress. ``keep_ended``:
    a session that ends stays followed until another starts (the participant's screen says
    "Thank you"); without it, only a session in progress is followed (the observer's).
    """

    def __init__(self, db: Database, participant: str | None = None, *,
                 keep_ended: bool = False) -> None:  # fmt: skip
        self.db = db
        self.participant = participant
        self.keep_ended = keep_ended
        self.record: SessionRecord | None = None
        self.scenario: Scenario | None = None
        self.events: list[Event] = []
        self.state: SessionState | None = None

    @property
    def last_seq(self) -> int:
        return self.events[-1].seq if self.events else 0

    @property
    def live(self) -> Live | None:
        """The followed session as of the last poll; None when there is none."""
        if self.record is None or self.scenario is None or self.state is None:
            return None
        return Live(self.record, self.scenario, self.state, tuple(self.events))

    def poll(self) -> None:
        """Read what changed: the session to follow, and its new events."""
        target = self._target()
        if target is None:
            self.record, self.scenario, self.events, self.state = None, None, [], None
            return
        if self.record is None or target.id != self.record.id:
            self.record = target
            self.scenario = parsed(store.scenario_text(self.db, target.scenario_id))
            self.events = store.load_events(self.db, target.id)
            self.state = replay(target.order, self.events)
            return
        self.record = target
        new = store.load_events(self.db, target.id, after=self.last_seq)
        if new:
            self.events.extend(new)
            self.state = replay(target.order, self.events)

    def _target(self) -> SessionRecord | None:
        if self.participant is not None:
            record = self._session(self.participant)
            if record is not None and (self.keep_ended or record.status == "in_progress"):
                return record
            return None
        live = store.list_sessions(self.db, "in_progress")
        if live:
            return live[-1]
        if self.keep_ended and self.record is not None:
            return self._session(self.record.participant)
        return None

    def _session(self, participant: str) -> SessionRecord | None:
        try:
            return store.find_session(self.db, participant)
        except store.StoreError:
            return None  # not started yet, or withdrawn meanwhile


def follow(db: Database, participant: str | None = None) -> Live | None:
    """The live session once: ``participant``'s (while in progress), else the newest one in
    progress; None when there is none. A screen that follows it keeps a :class:`Follower`."""
    follower = Follower(db, participant)
    follower.poll()
    return follower.live


def send_note(
    db: Database, live: Live, observer: str, kind: str, text: str, severity: int | None,
    now: datetime,
) -> int:  # fmt: skip
    """Post an observer's note for the moderator's app to log: stamped ``now`` (the observer's
    key time), for the task the observer sees (the active one, else the current one)."""
    task_id = live.state.active_task or live.state.current_task
    return store.post_observer_note(db, live.record.id, observer, kind, text, severity, task_id,
                                    iso_utc(now))  # fmt: skip
