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


def live_sessions(db: Database) -> list[SessionRecord]:
    """The sessions being recorded now (in progress), newest first."""
    return list(reversed(store.list_sessions(db, "in_progress")))


def follow(db: Database, participant: str | None = None) -> Live | None:
    """The live session to show: ``participant``'s (while in progress), else the newest one
    in progress; None when there is none."""
    sessions = live_sessions(db)
    if participant is not None:
        sessions = [s for s in sessions if s.participant == participant]
    if not sessions:
        return None
    record = sessions[0]
    events = store.load_events(db, record.id)
    scenario = parsed(store.scenario_text(db, record.scenario_id))
    return Live(record, scenario, replay(record.order, events), tuple(events))


def send_note(
    db: Database, live: Live, observer: str, kind: str, text: str, severity: int | None,
    now: datetime,
) -> int:  # fmt: skip
    """Post an observer's note for the moderator's app to log: stamped ``now`` (the observer's
    key time), for the task the observer sees (the active one, else the current one)."""
    task_id = live.state.active_task or live.state.current_task
    return store.post_observer_note(db, live.record.id, observer, kind, text, severity, task_id,
                                    iso_utc(now))  # fmt: skip
