"""The session engine: a plain state machine over an append-only list of events.

It owns what may happen during a moderated session and what it means: starting, pausing,
resuming and ending tasks; errors, assists, notes; questionnaire answers; undo. It knows nothing
of SQL or Textual. Each command

1. checks the command against the current state (raising :class:`SessionError` with a message a
   moderator can act on, before anything is written),
2. builds the :class:`Event` and the state that follows from it,
3. hands both to the *sink* (the store), which commits them before returning,
4. and only then adopts the new state.

So the screen can acknowledge an event only after it is on disk, and a failed write leaves the
engine exactly as it was.

State is a pure function of the events (:func:`replay`): the engine rebuilds an unfinished
session after a crash from what the store kept. Undo is an event too; it cancels the most recent
event that is still in effect, and the state is then replayed from the events left in effect.

Time on task is the sum of running intervals on the monotonic clock. Monotonic readings only
compare within one process run, so every event carries the run number; when a session is
resumed in a new run, a task that was running is closed at the last event recorded in the old
run and waits, paused, for the moderator. The time between that last event and the crash is not
counted (and the resume event says how long ago that was in wall-clock time).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from usetest.clock import Clock, iso_utc
from usetest.questionnaires import SEQ, Questionnaire, questionnaires_for
from usetest.scenario import Scenario

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

EVENT_KINDS = (
    SESSION_STARTED, SESSION_RESUMED, SESSION_COMPLETED, SESSION_ABANDONED,
    TASK_STARTED, TASK_PAUSED, TASK_RESUMED, TASK_ENDED,
    ERROR_LOGGED, ASSIST_LOGGED, NOTE_LOGGED, ANSWER_RECORDED, UNDO,
)  # fmt: skip
# Session lifecycle events and undo itself cannot be undone.
UNDOABLE = frozenset(EVENT_KINDS) - {
    SESSION_STARTED, SESSION_RESUMED, SESSION_COMPLETED, SESSION_ABANDONED, UNDO
}  # fmt: skip


class SessionError(Exception):
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

    def time_ms(self, run: int | None = None, now_mono: int | None = None) -> int:
        """Time on task so far; the open interval counts when ``now`` is in the same run."""
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


@dataclass(frozen=True)
class Answer:
    seq: int
    questionnaire: str
    item: str
    task_id: str | None
    value: int | str
    at: str


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
    run: int = 1
    last_mono: Mapping[int, int] = field(default_factory=dict)
    """Per run, the monotonic reading of the last event that run wrote."""
    last_at: str | None = None

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


Sink = Callable[[Event, SessionState], None]
"""Makes an event and the state after it durable before returning (the store's ``commit``)."""


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
            event.seq, event.task_id, p["kind"], p["text"], p.get("severity"), event.at
        )
        return replace(state, notes=notes)
    if kind == ANSWER_RECORDED:
        answers = dict(state.answers)
        key = (p["questionnaire"], p["item"], event.task_id or "")
        answers[key] = Answer(
            event.seq, p["questionnaire"], p["item"], event.task_id, p["value"], event.at
        )
        return replace(state, answers=answers)
    return state


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
                if kept[i].kind in UNDOABLE:
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


# ---------------------------------------------------------------------------------------------
# Task order.


def participant_number(code: str) -> int | None:
    """The number in a participant code (``P07`` -> 7), used to pick a Latin-square row."""
    digits = re.findall(r"\d+", code)
    return int(digits[-1]) if digits else None


def williams_square(n: int) -> list[list[int]]:
    """A balanced Latin square (Williams 1949): each task follows every other equally often.

    For an even number of tasks the square has n rows; for an odd number, n rows plus their
    mirror images (2n rows), as balance needs. Row r of the first column pattern is
    0, 1, n-1, 2, n-2, … shifted by r.
    """
    if n <= 0:
        return []
    first: list[int] = [0]
    low, high = 1, n - 1
    for i in range(1, n):
        if i % 2 == 1:
            first.append(low)
            low += 1
        else:
            first.append(high)
            high -= 1
    rows = [[(x + r) % n for x in first] for r in range(n)]
    if n % 2 == 1:
        rows += [list(reversed(row)) for row in rows]
    return rows


def assign_order(
    scenario: Scenario, scenario_sha256: str, participant: str, ordinal: int
) -> list[str]:
    """The task order one participant gets, reproducibly.

    - ``fixed``: the scenario's order.
    - ``random``: shuffled with a seed derived from the scenario's content hash and the
      participant code, so the same participant always gets the same order for the same file.
    - ``latin-square``: row k of a balanced Latin square (:func:`williams_square`), where k is
      the number in the participant code (P01 -> first row) or, for a code without digits, the
      session's ordinal in the database.
    """
    ids = [t.id for t in scenario.tasks]
    if scenario.task_order == "random":
        seed = hashlib.sha256(f"{scenario_sha256}\0{participant}".encode()).hexdigest()
        rng = random.Random(int(seed[:16], 16))
        rng.shuffle(ids)
        return ids
    if scenario.task_order == "latin-square":
        rows = williams_square(len(ids))
        number = participant_number(participant) or ordinal
        row = rows[(max(number, 1) - 1) % len(rows)]
        return [ids[i] for i in row]
    return ids


# ---------------------------------------------------------------------------------------------
# The engine.


class Session:
    """A session being recorded: commands in, committed events out.

    Build one with :meth:`begin` (a new session) or :meth:`restore` (continue one from its
    stored events). ``sink(event, state)`` must make both durable before it returns; if it
    raises, the command has no effect and the exception reaches the caller.
    """

    def __init__(
        self,
        scenario: Scenario,
        order: Sequence[str],
        clock: Clock,
        sink: Sink,
        events: Sequence[Event] = (),
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self._sink = sink
        self._events: list[Event] = list(events)
        self.state = replay(order, self._events)
        self._questionnaires: dict[str, Questionnaire] = {
            q.id: q for q in [*questionnaires_for(scenario), SEQ]
        }
        self._error_types = {e.key: e.name for e in scenario.error_types}

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def begin(
        cls, scenario: Scenario, order: Sequence[str], clock: Clock, sink: Sink,
        **details: Any,
    ) -> Session:  # fmt: skip
        """A new session; records ``session_started`` with ``details`` (participant …)."""
        unknown = set(order) ^ {t.id for t in scenario.tasks}
        if unknown or len(order) != len(scenario.tasks):
            raise SessionError(f"task order does not match the scenario's tasks: {sorted(unknown)}")
        session = cls(scenario, order, clock, sink)
        session._record(SESSION_STARTED, None, {"order": list(order), **details})
        return session

    @classmethod
    def restore(
        cls, scenario: Scenario, order: Sequence[str], events: Sequence[Event], clock: Clock,
        sink: Sink,
    ) -> Session:  # fmt: skip
        """Continue a stored session in a new run; records ``session_resumed``.

        A task that was running when the previous run stopped is paused (reason
        ``interrupted``); its time up to the previous run's last event is kept.
        """
        session = cls(scenario, order, clock, sink, events)
        if session.state.status != "in_progress":
            raise SessionError(f"this session is {session.state.status}; it cannot be resumed")
        running = [t for t in session.state.order if session.state.tasks[t].status == "running"]
        session._record(SESSION_RESUMED, None, {
            "previous_run": session.state.run,
            "last_event_at": session.state.last_at,
            "interrupted_tasks": running,
        }, run=session.state.run + 1)  # fmt: skip
        return session

    # -- reading --------------------------------------------------------------------------
    @property
    def events(self) -> tuple[Event, ...]:
        return tuple(self._events)

    @property
    def run(self) -> int:
        return self.state.run

    def time_ms(self, task_id: str | None = None) -> int:
        """Time on task so far, open interval included, from the same clock the events use."""
        task_id = task_id or self.state.active_task or self.state.current_task
        if task_id is None:
            return 0
        return self.state.tasks[task_id].time_ms(self.run, self.clock.monotonic_ms())

    def last_undoable(self) -> Event | None:
        kept = effective_events(self._events)
        return next((e for e in reversed(kept) if e.kind in UNDOABLE), None)

    # -- recording ------------------------------------------------------------------------
    def now(self) -> Moment:
        """The current instant, to record an event later as of now (see :meth:`pause`)."""
        return Moment(self.clock.monotonic_ms(), self.clock.utc_now())

    def _record(
        self, kind: str, task_id: str | None, payload: Mapping[str, Any], run: int | None = None,
        at: Moment | None = None,
    ) -> Event:  # fmt: skip
        if self.state.status != "in_progress" and kind != UNDO:
            raise SessionError(f"the session is {self.state.status}; nothing more can be logged")
        moment = at or self.now()
        run = run or self.run
        # Events stay in monotonic order: an instant taken before the last event is clamped.
        mono = max(moment.mono_ms, self.state.last_mono.get(run, moment.mono_ms))
        event = Event(
            seq=len(self._events) + 1,
            run=run,
            kind=kind,
            task_id=task_id,
            payload=dict(payload),
            mono_ms=mono,
            at=iso_utc(moment.utc),
        )
        if kind == UNDO:
            new_state = replay(self.state.order, [*self._events, event])
        else:
            new_state = apply(self.state, event)
        self._sink(event, new_state)  # durable before we adopt it
        self._events.append(event)
        self.state = new_state
        return event

    def _task(self, task_id: str | None) -> TaskState:
        task_id = task_id or self.state.active_task or self.state.current_task
        if task_id is None:
            raise SessionError("all tasks have ended — go on to the questionnaires")
        if task_id not in self.state.tasks:
            raise SessionError(f"no task {task_id!r} in this session")
        return self.state.tasks[task_id]

    def start(self, task_id: str | None = None) -> Event:
        """Start the clock on the current task (only one task is active at a time)."""
        task = self._task(task_id)
        if task.status == "running":
            raise SessionError(f"{task.task_id} is already running")
        if task.status == "paused":
            raise SessionError(f"{task.task_id} is paused — resume it instead")
        if task.status == "ended":
            raise SessionError(f"{task.task_id} has ended — undo its end to reopen it")
        if task.task_id != self.state.current_task:
            raise SessionError(
                f"{task.task_id} is not next: finish {self.state.current_task} first"
            )
        return self._record(TASK_STARTED, task.task_id, {})

    def pause(
        self, reason: str | None = None, task_id: str | None = None, at: Moment | None = None
    ) -> Event:
        """Stop the clock; the pause and its reason are logged, its time is not counted.

        ``at`` (from :meth:`now`) records the pause as of an earlier instant: the app takes it
        when the pause key is pressed, then asks for the reason.
        """
        task = self._task(task_id)
        if task.status != "running":
            raise SessionError(f"{task.task_id} is not running, so it cannot be paused")
        reason = (reason or "").strip() or None
        return self._record(TASK_PAUSED, task.task_id, {"reason": reason}, at=at)

    def resume(self, task_id: str | None = None) -> Event:
        task = self._task(task_id)
        if task.status != "paused":
            raise SessionError(f"{task.task_id} is not paused")
        return self._record(TASK_RESUMED, task.task_id, {})

    def toggle(self, task_id: str | None = None) -> Event:
        """Start, pause or resume, whichever fits: the moderator's one key for the clock."""
        task = self._task(task_id)
        if task.status == "pending":
            return self.start(task.task_id)
        if task.status == "running":
            return self.pause(None, task.task_id)
        return self.resume(task.task_id)

    def end(self, outcome: str, task_id: str | None = None) -> Event:
        """End the task with an outcome; a task not yet started can only be skipped."""
        if outcome not in OUTCOMES:
            raise SessionError(f"unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")
        task = self._task(task_id)
        if task.status == "ended":
            raise SessionError(f"{task.task_id} has ended already ({task.outcome})")
        if task.status == "pending" and outcome != "skipped":
            raise SessionError(
                f"{task.task_id} was never started — start the clock first, or skip the task"
            )
        return self._record(TASK_ENDED, task.task_id, {"outcome": outcome})

    def _started_task(self, task_id: str | None, what: str) -> TaskState:
        task = self._task(task_id)
        if task.status == "pending":
            raise SessionError(f"start {task.task_id} before logging {what}")
        if task.status == "ended":
            raise SessionError(f"{task.task_id} has ended — undo its end to log {what} on it")
        return task

    def log_error(
        self, type_key: str | None = None, note: str | None = None, task_id: str | None = None
    ) -> Event:
        """An error of a scenario error type (by its hotkey), or unclassified with no key."""
        task = self._started_task(task_id, "an error")
        if type_key is not None and type_key not in self._error_types:
            keys = ", ".join(self._error_types) or "none"
            raise SessionError(f"no error type has key {type_key!r} (keys: {keys})")
        name = self._error_types[type_key] if type_key is not None else UNCLASSIFIED
        return self._record(ERROR_LOGGED, task.task_id, {
            "type_key": type_key, "type_name": name, "note": (note or "").strip() or None,
        })  # fmt: skip

    def log_assist(self, note: str | None = None, task_id: str | None = None) -> Event:
        task = self._started_task(task_id, "an assist")
        return self._record(ASSIST_LOGGED, task.task_id, {"note": (note or "").strip() or None})

    def log_note(
        self, text: str, kind: str = "observation", severity: int | None = None,
        task_id: str | None = None,
    ) -> Event:  # fmt: skip
        """A timestamped observation, quote or problem (problems may carry severity 0–4).

        Notes are allowed at any time; they belong to the active task if there is one.
        """
        if kind not in NOTE_KINDS:
            raise SessionError(f"unknown note kind {kind!r}; use one of {', '.join(NOTE_KINDS)}")
        if not text.strip():
            raise SessionError("an empty note was not logged — type some text first")
        if severity is not None:
            if kind != "problem":
                raise SessionError("only a problem note carries a severity")
            if severity not in SEVERITIES:
                raise SessionError("severity is 0 (none) to 4 (catastrophe)")
        if task_id is None:
            task_id = self.state.active_task
        elif task_id not in self.state.tasks:
            raise SessionError(f"no task {task_id!r} in this session")
        return self._record(NOTE_LOGGED, task_id, {
            "kind": kind, "text": text, "severity": severity,
        })  # fmt: skip

    def answer(
        self, questionnaire: str, item: str, value: int | str, task_id: str | None = None
    ) -> Event:
        """Record an answer; answering the same item again replaces the earlier answer."""
        q = self._questionnaires.get(questionnaire)
        if q is None:
            raise SessionError(f"this scenario has no questionnaire {questionnaire!r}")
        spec = next((i for i in q.items if i.id == item), None)
        if spec is None:
            raise SessionError(f"questionnaire {questionnaire!r} has no item {item!r}")
        if spec.kind == "scale":
            if isinstance(value, bool) or not isinstance(value, int):
                raise SessionError(f"{item} takes a whole number from {spec.min} to {spec.max}")
            if not spec.min <= value <= spec.max:
                raise SessionError(f"{item} takes {spec.min} to {spec.max}, not {value}")
        elif not isinstance(value, str):
            raise SessionError(f"{item} takes text")
        if questionnaire == SEQ.id:
            if task_id is None or task_id not in self.state.tasks:
                raise SessionError("a SEQ answer belongs to a task: name the task")
            if self.state.tasks[task_id].status != "ended":
                raise SessionError(f"ask the SEQ after {task_id} has ended")
        elif task_id is not None:
            raise SessionError("only the SEQ is answered per task")
        return self._record(ANSWER_RECORDED, task_id, {
            "questionnaire": questionnaire, "item": item, "value": value,
        })  # fmt: skip

    def undo(self) -> Event:
        """Cancel the latest event still in effect; the undo itself is logged."""
        target = self.last_undoable()
        if target is None:
            raise SessionError("nothing to undo")
        return self._record(UNDO, target.task_id, {
            "target_seq": target.seq, "target_kind": target.kind,
        })  # fmt: skip

    def complete(self) -> Event:
        """Close the session after the last task and questionnaire; it is then final."""
        open_tasks = [t for t in self.state.order if self.state.tasks[t].status != "ended"]
        if open_tasks:
            raise SessionError(f"tasks still open: {', '.join(open_tasks)} — end or skip them")
        return self._record(SESSION_COMPLETED, None, {})

    def abandon(self, reason: str | None = None) -> Event:
        """End the session early (the participant left); it will not be offered for resume."""
        task = self.state.active_task
        if task is not None and self.state.tasks[task].status == "running":
            self.pause("session abandoned", task)
        return self._record(SESSION_ABANDONED, None, {"reason": (reason or "").strip() or None})
