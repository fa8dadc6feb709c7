"""The session log: what can happen in a moderated session, and what the events mean.

This module owns the event kinds (stored in the database: never rename one), the state a session
is in, and the pure reducer that turns events into that state (:func:`apply`, :func:`replay`).
It knows nothing of SQL, Textual or the clock: the engine (:mod:`usetest.session`) records
events, the store persists them, and analysis reads the projections written from the state.

Undo and corrections are events too: undo cancels the most recent event still in effect
(:func:`effective_events`); a correction replaces an ended task's outcome, time on task, error
or assist count or SEQ answer, and says who made it, when and why.

Time on task is the sum of running intervals on the monotonic clock. Monotonic readings only
compare within one process run, so every event carries the run number; when a session is
resumed in a new run, a task that was running is closed at the last event recorded in the old
run and waits, paused, for the moderator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from usetest.clock import duration
from usetest.errors import UsetestError

OUTCOMES = ("success", "partial", "fail", "abandoned", "skipped")
NOTE_KINDS = ("observation", "quote", "problem")
SEVERITIES = (0, 1, 2, 3, 4)  # Nielsen's severity ratings, 0 = not a problem .. 4 = catastrophe
UNCLASSIFIED = "unclassified"

Outcome = Literal["success", "partial", "fail", "abandoned", "skipped"]
TaskStatus = Literal["pending", "running", "paused", "ended"]
SessionStatus = Literal["in_progress", "completed", "abandoned"]

# Event kinds. The names are stored in the database: never rename one.
SESSION_STARTED = "session_started"
SESSION_RESUMED = "session_resumed"
SESSION_COMPLETED = "session_completed"
SESSION_ABANDONED = "session_abandoned"
TASK_STARTED = "task_started"
TASK_PAUSED = "task_paused"
TASK_RESUMED = "task_resumed"
TASK_ENDED = "task_ended"
ERROR_LOGGED = "error_logged"
ASSIST_LOGGED = "assist_logged"
NOTE_LOGGED = "note_logged"
ANSWER_RECORDED = "answer_recorded"
UNDO = "undo"
CONSENT_RECORDED = "consent_recorded"
CORRECTION = "correction"
RECORDING_STARTED = "recording_started"
"""The moderator's key (``r``) as the screen or video recorder starts: the origin of the
recording markers (:mod:`usetest.markers`). Its time is the key press; it changes no state."""
QUESTIONS_PASSED = "questions_passed"
"""The moderator went on from the questions after a task (``task_id``) or at the end of the
session (no task) leaving some unanswered — a text item left empty. Payload ``unanswered``:
``[[questionnaire, item], …]``. Not an answer (analyses see no answer for those items); it
only tells :func:`usetest.flow.next_step` not to ask them again, in every app reading the log."""

EVENT_KINDS = (
    SESSION_STARTED, SESSION_RESUMED, SESSION_COMPLETED, SESSION_ABANDONED,
    TASK_STARTED, TASK_PAUSED, TASK_RESUMED, TASK_ENDED,
    ERROR_LOGGED, ASSIST_LOGGED, NOTE_LOGGED, ANSWER_RECORDED, UNDO,
    CONSENT_RECORDED, CORRECTION, RECORDING_STARTED, QUESTIONS_PASSED,
)  # fmt: skip
# Session lifecycle events, consent and undo itself cannot be undone.
UNDOABLE = frozenset(EVENT_KINDS) - {
    SESSION_STARTED, SESSION_RESUMED, SESSION_COMPLETED, SESSION_ABANDONED, UNDO,
    CONSENT_RECORDED,
}  # fmt: skip


PROFILE = "profile"
"""Profile answers are ``answer_recorded`` events of this questionnaire (no task); they are
recorded with the consent at the start (see :mod:`usetest.profile`), and not undone by ``u``."""


def undoable(event: Event) -> bool:
    """Whether undo may cancel ``event`` (a profile answer is part of the set-up: no)."""
    if event.kind == ANSWER_RECORDED and event.payload.get("questionnaire") == PROFILE:
        return False
    return event.kind in UNDOABLE


# What a correction may change on an ended task, in the order the review screen shows them.
CORRECTABLE = ("outcome", "time_ms", "errors", "assists", "seq")


def describe_change(changes: Mapping[str, Mapping[str, Any]]) -> str:
    """A correction's changes as people read them: ``outcome fail → success, time 01:05 → 00:58``."""
    def shown(name: str, value: Any) -> str:
        if value is None:
            return "declined" if name == "seq" else "none"
        return duration(int(value)) if name == "time_ms" else str(value)

    return ", ".join(
        f"{'time' if name == 'time_ms' else name} {shown(name, c['old'])} → {shown(name, c['new'])}"
        for name, c in changes.items()
    )


class SessionError(UsetestError):
    """A command that does not fit the session's state; the message says what to do instead."""


@dataclass(frozen=True)
class Event:
    """One thing that happened, as stored: the log is append-only and in ``seq`` order."""

    seq: int
    """1, 2, 3 … within the session."""
    run: int
    """Which process run wrote it (1 for the first, +1 for each resume)."""
    kind: str
    task_id: str | None
    payload: Mapping[str, Any]
    mono_ms: int
    """Monotonic clock of the run that wrote it, in milliseconds."""
    at: str
    """Wall-clock time in UTC, ISO 8601 with milliseconds."""


@dataclass(frozen=True)
class TaskState:
    """Where one task of the session stands."""

    task_id: str
    position: int
    """1-based place in this participant's task order."""
    status: TaskStatus = "pending"
    outcome: Outcome | None = None
    closed_ms: int = 0
    """Running time of the intervals already closed (by a pause, an end or an interruption)."""
    running_since: tuple[int, int] | None = None
    """(run, mono_ms) of the start or resume that opened the current running interval."""
    paused_since: tuple[int, int] | None = None
    pause_reason: str | None = None
    pauses: int = 0
    pause_ms: int = 0
    interruptions: int = 0
    """How many times a crash or kill cut a running interval short."""
    errors: int = 0
    assists: int = 0
    started_at: str | None = None
    ended_at: str | None = None
    time_override_ms: int | None = None
    """Time on task as corrected after the fact; replaces the measured time when set."""
    corrections: int = 0
    """How many corrections changed this task (0: as recorded)."""

    @property
    def recorded_ms(self) -> int:
        """Time on task of a task not running: the corrected time if any, else the measured."""
        return self.closed_ms if self.time_override_ms is None else self.time_override_ms

    def time_ms(self, run: int | None = None, now_mono: int | None = None) -> int:
        """Time on task so far; the open interval counts when ``now`` is in the same run."""
        if self.time_override_ms is not None:
            return self.time_override_ms
        total = self.closed_ms
        if self.running_since and run == self.running_since[0] and now_mono is not None:
            total += max(0, now_mono - self.running_since[1])
        return total


@dataclass(frozen=True)
class ErrorEntry:
    seq: int
    task_id: str
    type_key: str | None
    type_name: str
    note: str | None
    at: str


@dataclass(frozen=True)
class NoteEntry:
    seq: int
    task_id: str | None
    kind: str
    text: str
    severity: int | None
    at: str
    author: str | None = None
    """The observer's initials for a note an observer logged (None: the moderator's)."""


@dataclass(frozen=True)
class Answer:
    seq: int
    questionnaire: str
    item: str
    task_id: str | None
    value: int | str | None
    """The rating or text; None when the participant declined the item."""
    at: str

    @property
    def declined(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Consent:
    """Consent as recorded: when, the wording shown, and how it was obtained."""

    at: str
    wording: str
    how: str
    """``in the app`` (ticked on the set-up or consent screen) or ``before the app``
    (``usetest run --consent``: obtained on paper before the session began)."""


AnswerKey = tuple[str, str, str]  # questionnaire, item, task id or ""


@dataclass(frozen=True)
class SessionState:
    """Everything the events say about a session; rebuilt identically by :func:`replay`."""

    order: tuple[str, ...]
    tasks: Mapping[str, TaskState]
    answers: Mapping[AnswerKey, Answer] = field(default_factory=dict)
    errors: Mapping[int, ErrorEntry] = field(default_factory=dict)
    notes: Mapping[int, NoteEntry] = field(default_factory=dict)
    status: SessionStatus = "in_progress"
    consent: Consent | None = None
    run: int = 1
    last_mono: Mapping[int, int] = field(default_factory=dict)
    """Per run, the monotonic reading of the last event that run wrote."""
    last_at: str | None = None
    passed: frozenset[tuple[str, str]] = frozenset()
    """Question groups gone on from with items unanswered (:data:`QUESTIONS_PASSED`):
    ``("after", task_id)`` or ``("end", "")``."""

    @property
    def current_task(self) -> str | None:
        """The task being worked on, or the next one to do; None when all have ended."""
        for task_id in self.order:
            if self.tasks[task_id].status != "ended":
                return task_id
        return None

    @property
    def active_task(self) -> str | None:
        """The task whose timer is running or paused, if any."""
        for task_id in self.order:
            if self.tasks[task_id].status in ("running", "paused"):
                return task_id
        return None

    def answer(self, questionnaire: str, item: str, task_id: str | None = None) -> Answer | None:
        return self.answers.get((questionnaire, item, task_id or ""))


@dataclass(frozen=True)
class Moment:
    """Both clock readings at one instant (e.g. when a key was pressed)."""

    mono_ms: int
    utc: datetime




def initial_state(order: Sequence[str]) -> SessionState:
    return SessionState(
        order=tuple(order),
        tasks={t: TaskState(task_id=t, position=i + 1) for i, t in enumerate(order)},
    )


# ---------------------------------------------------------------------------------------------
# Applying events (pure). Each function returns the state after the event. Events reaching here
# were checked when they were first recorded, so replay never raises for a stored log.


def _set_task(state: SessionState, task: TaskState, **extra: Any) -> SessionState:
    tasks = dict(state.tasks)
    tasks[task.task_id] = task
    return replace(state, tasks=tasks, **extra)


def _close_interval(task: TaskState, run: int, mono: int) -> TaskState:
    if task.running_since is None:
        return task
    since_run, since_mono = task.running_since
    gained = max(0, mono - since_mono) if since_run == run else 0
    return replace(task, closed_ms=task.closed_ms + gained, running_since=None)


def apply(state: SessionState, event: Event) -> SessionState:
    """The state after ``event`` (undo excepted: see :func:`replay`)."""
    last_mono = dict(state.last_mono)
    last_mono[event.run] = event.mono_ms
    state = replace(state, last_mono=last_mono, last_at=event.at, run=max(state.run, event.run))
    kind, p = event.kind, event.payload
    task = state.tasks.get(event.task_id) if event.task_id else None

    if kind == SESSION_STARTED:
        return state
    if kind == SESSION_RESUMED:
        return _interrupt_running(state, event)
    if kind == SESSION_COMPLETED:
        return replace(state, status="completed")
    if kind == SESSION_ABANDONED:
        return replace(state, status="abandoned")
    if kind == CONSENT_RECORDED:
        return replace(state, consent=Consent(event.at, p["wording"], p["how"]))
    if kind == CORRECTION and task:
        return _correct(state, task, event)
    if kind == TASK_STARTED and task:
        return _set_task(state, replace(
            task, status="running", running_since=(event.run, event.mono_ms), started_at=event.at
        ))  # fmt: skip
    if kind == TASK_PAUSED and task:
        task = _close_interval(task, event.run, event.mono_ms)
        return _set_task(state, replace(
            task, status="paused", paused_since=(event.run, event.mono_ms),
            pause_reason=p.get("reason"), pauses=task.pauses + 1,
        ))  # fmt: skip
    if kind == TASK_RESUMED and task:
        pause_ms = task.pause_ms
        if task.paused_since and task.paused_since[0] == event.run:
            pause_ms += max(0, event.mono_ms - task.paused_since[1])
        return _set_task(state, replace(
            task, status="running", running_since=(event.run, event.mono_ms),
            paused_since=None, pause_reason=None, pause_ms=pause_ms,
        ))  # fmt: skip
    if kind == TASK_ENDED and task:
        task = _close_interval(task, event.run, event.mono_ms)
        pause_ms = task.pause_ms
        if task.paused_since and task.paused_since[0] == event.run:
            pause_ms += max(0, event.mono_ms - task.paused_since[1])
        return _set_task(state, replace(
            task, status="ended", outcome=p["outcome"], ended_at=event.at,
            paused_since=None, pause_reason=None, pause_ms=pause_ms,
        ))  # fmt: skip
    if kind == ERROR_LOGGED and task:
        errors = dict(state.errors)
        errors[event.seq] = ErrorEntry(
            event.seq, task.task_id, p.get("type_key"), p["type_name"], p.get("note"), event.at
        )
        return _set_task(state, replace(task, errors=task.errors + 1), errors=errors)
    if kind == ASSIST_LOGGED and task:
        return _set_task(state, replace(task, assists=task.assists + 1))
    if kind == NOTE_LOGGED:
        notes = dict(state.notes)
        notes[event.seq] = NoteEntry(
            event.seq, event.task_id, p["kind"], p["text"], p.get("severity"), event.at,
            p.get("author"),
        )  # fmt: skip
        return replace(state, notes=notes)
    if kind == QUESTIONS_PASSED:
        group = ("after", event.task_id) if event.task_id else ("end", "")
        return replace(state, passed=state.passed | {group})
    if kind == ANSWER_RECORDED:
        answers = dict(state.answers)
        key = (p["questionnaire"], p["item"], event.task_id or "")
        answers[key] = Answer(
            event.seq, p["questionnaire"], p["item"], event.task_id, p["value"], event.at
        )
        return replace(state, answers=answers)
    return state


def _correct(state: SessionState, task: TaskState, event: Event) -> SessionState:
    """A correction: each changed field takes its new value (``changes[field]["new"]``)."""
    new = {name: change["new"] for name, change in event.payload["changes"].items()}
    fields: dict[str, Any] = {"corrections": task.corrections + 1}
    if "outcome" in new:
        fields["outcome"] = new["outcome"]
    if "time_ms" in new:
        fields["time_override_ms"] = new["time_ms"]
    if "errors" in new:
        fields["errors"] = new["errors"]
    if "assists" in new:
        fields["assists"] = new["assists"]
    extra: dict[str, Any] = {}
    if "seq" in new:
        answers = dict(state.answers)
        answers[("seq", "seq", task.task_id)] = Answer(
            event.seq, "seq", "seq", task.task_id, new["seq"], event.at
        )
        extra["answers"] = answers
    return _set_task(state, replace(task, **fields), **extra)


def _interrupt_running(state: SessionState, event: Event) -> SessionState:
    """A new run began: close every interval left open by the previous run at its last event."""
    tasks = dict(state.tasks)
    for task_id, task in state.tasks.items():
        if task.status != "running" or task.running_since is None:
            continue
        old_run = task.running_since[0]
        end = state.last_mono.get(old_run, task.running_since[1])
        closed = _close_interval(task, old_run, end)
        tasks[task_id] = replace(
            closed, status="paused", paused_since=(event.run, event.mono_ms),
            pause_reason="interrupted", interruptions=task.interruptions + 1,
        )  # fmt: skip
    return replace(state, tasks=tasks)


def effective_events(events: Iterable[Event]) -> list[Event]:
    """The events still in effect: each undo removes the latest undoable event left."""
    kept: list[Event] = []
    for event in events:
        if event.kind == UNDO:
            for i in range(len(kept) - 1, -1, -1):
                if undoable(kept[i]):
                    del kept[i]
                    break
        else:
            kept.append(event)
    return kept


def replay(order: Sequence[str], events: Sequence[Event]) -> SessionState:
    """Rebuild the state from the stored log (the inverse of recording it)."""
    state = initial_state(order)
    # Run boundaries must see every event a run wrote, undone or not: they prove the process
    # was alive then, so an interval cut short by a crash ends at the run's true last event.
    last_mono_all: dict[int, int] = {}
    kept = effective_events(events)
    kept_seqs = {e.seq for e in kept}
    for event in events:
        last_mono_all[event.run] = event.mono_ms
        if event.seq in kept_seqs:
            if event.kind == SESSION_RESUMED:
                state = replace(state, last_mono={**state.last_mono, **last_mono_all})
            state = apply(state, event)
    return replace(
        state,
        last_mono=last_mono_all,
        last_at=events[-1].at if events else None,
        run=max((e.run for e in events), default=1),
    )
