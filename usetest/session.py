"""The session engine: commands in, committed events out.

It owns what a moderator may do during a session and checks each command against the session's
state before anything is written: starting, pausing, resuming and ending tasks; errors, assists,
notes; consent; questionnaire answers (or a declined item); undo; corrections after the fact.
It knows nothing of SQL or Textual. Each command

1. checks the command against the current state (raising :class:`SessionError` with a message a
   moderator can act on, before anything is written),
2. builds the :class:`~usetest.events.Event` and the state that follows from it
   (:func:`usetest.events.apply`),
3. hands both to the *sink* (the store), which commits them before returning,
4. and only then adopts the new state.

So the screen can acknowledge an event only after it is on disk, and a failed write leaves the
engine exactly as it was. What the events mean lives in :mod:`usetest.events`; which order of
tasks a participant gets, in :mod:`usetest.order`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from usetest.clock import Clock, iso_utc
from usetest.events import (
    ANSWER_RECORDED,
    ASSIST_LOGGED,
    CONSENT_RECORDED,
    CORRECTION,
    ERROR_LOGGED,
    NOTE_KINDS,
    NOTE_LOGGED,
    OUTCOMES,
    QUESTIONS_PASSED,
    RECORDING_STARTED,
    SESSION_ABANDONED,
    SESSION_COMPLETED,
    SESSION_RESUMED,
    SESSION_STARTED,
    SEVERITIES,
    TASK_ENDED,
    TASK_PAUSED,
    TASK_RESUMED,
    TASK_STARTED,
    UNCLASSIFIED,
    UNDO,
    Event,
    Moment,
    SessionError,
    SessionState,
    TaskState,
    apply,
    effective_events,
    replay,
    undoable,
)
from usetest.profile import PROFILE, ProfileAnswerError, ProfileValue, check_answers
from usetest.questionnaires import (
    SEQ,
    Questionnaire,
    after_task_questionnaires,
    questionnaires_for,
)
from usetest.scenario import Scenario

Sink = Callable[[Event, SessionState], None]
"""Makes an event and the state after it durable before returning (the store's ``commit``)."""

# Kinds that may still be recorded once a session is completed or abandoned: the log stays an
# audit trail of what was changed afterwards.
AFTER_THE_END = frozenset({UNDO, CORRECTION})

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
        self._after: dict[str, dict[str, Questionnaire]] = {
            t.id: {q.id: q for q in after_task_questionnaires(scenario, t.id)}
            for t in scenario.tasks
        }  # fmt: skip
        self._error_types = {e.key: e.name for e in scenario.error_types}
        self._new_run = False  # set by reopen(): the next event opens a run of its own

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

    @classmethod
    def reopen(
        cls, scenario: Scenario, order: Sequence[str], events: Sequence[Event], clock: Clock,
        sink: Sink,
    ) -> Session:  # fmt: skip
        """A stored session, to correct it from outside the app that recorded it.

        Unlike :meth:`restore` it records no resume and may be finished already. Its events
        go into a run of their own: this process's monotonic clock never mixes with the
        readings of the run that recorded the tasks, so a task left running by a crash is
        still closed at that run's last event when the session is resumed later.
        """
        session = cls(scenario, order, clock, sink, events)
        session._new_run = True
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
        return next((e for e in reversed(kept) if undoable(e)), None)

    # -- recording ------------------------------------------------------------------------
    def now(self) -> Moment:
        """The current instant, to record an event later as of now (see :meth:`pause`)."""
        return Moment(self.clock.monotonic_ms(), self.clock.utc_now())

    def moment_at(self, utc: datetime) -> Moment:
        """An earlier wall-clock instant (an observer's key, on another process's clock) on
        this run's monotonic clock; a time in the future is taken as now."""
        now = self.now()
        back = max(0, round((now.utc - utc).total_seconds() * 1000))
        return Moment(max(0, now.mono_ms - back), min(utc, now.utc))

    def _record(
        self, kind: str, task_id: str | None, payload: Mapping[str, Any], run: int | None = None,
        at: Moment | None = None,
    ) -> Event:  # fmt: skip
        if self.state.status != "in_progress" and kind not in AFTER_THE_END:
            raise SessionError(f"the session is {self.state.status}; nothing more can be logged")
        moment = at or self.now()
        run = run or (self.run + 1 if self._new_run else self.run)
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
        self._new_run = False
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
        self, type_key: str | None = None, note: str | None = None, task_id: str | None = None,
        at: Moment | None = None,
    ) -> Event:  # fmt: skip
        """An error of a scenario error type (by its hotkey), or unclassified with no key.

        ``at`` (from :meth:`now`, taken when the error key was pressed) stamps the event with
        that instant, not with the moment its dialog was confirmed.
        """
        task = self._started_task(task_id, "an error")
        if type_key is not None and type_key not in self._error_types:
            keys = ", ".join(self._error_types) or "none"
            raise SessionError(f"no error type has key {type_key!r} (keys: {keys})")
        name = self._error_types[type_key] if type_key is not None else UNCLASSIFIED
        return self._record(ERROR_LOGGED, task.task_id, {
            "type_key": type_key, "type_name": name, "note": (note or "").strip() or None,
        }, at=at)  # fmt: skip

    def log_assist(
        self, note: str | None = None, task_id: str | None = None, at: Moment | None = None
    ) -> Event:
        task = self._started_task(task_id, "an assist")
        payload = {"note": (note or "").strip() or None}
        return self._record(ASSIST_LOGGED, task.task_id, payload, at=at)

    def log_note(
        self, text: str, kind: str = "observation", severity: int | None = None,
        task_id: str | None = None, at: Moment | None = None, author: str | None = None,
        inbox_id: int | None = None,
    ) -> Event:  # fmt: skip
        """A timestamped observation, quote or problem (problems may carry severity 0–4).

        Notes are allowed at any time; they belong to the active task if there is one. ``at``
        stamps the note with the instant the note key was pressed. An observer's note
        (``usetest observe``) carries the observer's initials as ``author`` and the row of the
        observers' inbox it came from as ``inbox_id`` (the store marks it taken in the same
        transaction, so it is logged exactly once).
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
        payload: dict[str, Any] = {"kind": kind, "text": text, "severity": severity}
        if author is not None:
            payload |= {"author": author, "inbox_id": inbox_id}
        return self._record(NOTE_LOGGED, task_id, payload, at=at)

    def log_recording_start(self, at: Moment | None = None) -> Event:
        """The screen or video recorder started (the moderator's key as they start it).

        ``at`` (from :meth:`now`, taken when the key was pressed) is the instant the recording
        markers count from (:mod:`usetest.markers`). Allowed any time in the session, and more
        than once (every one is kept; the markers count from the first not undone). It belongs
        to the active task if there is one, like a note.
        """
        return self._record(RECORDING_STARTED, self.state.active_task, {}, at=at)

    def answer(
        self, questionnaire: str, item: str, value: int | str | None, task_id: str | None = None
    ) -> Event:
        """Record an answer; answering the same item again replaces the earlier answer.

        ``value=None`` records that the participant declined a rating item (see
        :meth:`decline`).
        """
        q = self._questionnaire(questionnaire, task_id)
        spec = next((i for i in q.items if i.id == item), None)
        if spec is None:
            raise SessionError(f"questionnaire {questionnaire!r} has no item {item!r}")
        if value is None:
            if spec.kind != "scale":
                raise SessionError(f"{item} is a text question: leave it empty instead")
        elif spec.kind == "scale":
            if isinstance(value, bool) or not isinstance(value, int):
                raise SessionError(f"{item} takes a whole number from {spec.min} to {spec.max}")
            if not spec.min <= value <= spec.max:
                raise SessionError(f"{item} takes {spec.min} to {spec.max}, not {value}")
        elif not isinstance(value, str):
            raise SessionError(f"{item} takes text")
        if task_id is not None and self.state.tasks[task_id].status != "ended":
            what = "the SEQ" if questionnaire == SEQ.id else f"{questionnaire!r}"
            raise SessionError(f"ask {what} after {task_id} has ended")
        payload: dict[str, Any] = {"questionnaire": questionnaire, "item": item, "value": value}
        if value is None:
            payload["declined"] = True
        return self._record(ANSWER_RECORDED, task_id, payload)

    def _questionnaire(self, questionnaire: str, task_id: str | None) -> Questionnaire:
        """The questionnaire an answer belongs to: the SEQ and a task's ``after:`` list are
        answered per task (``task_id``), the end-of-session questionnaires without one."""
        if task_id is not None and task_id not in self.state.tasks:
            raise SessionError(f"no task {task_id!r} in this session")
        if questionnaire == SEQ.id:
            if task_id is None:
                raise SessionError("a SEQ answer belongs to a task: name the task")
            return SEQ
        if task_id is not None:
            q = self._after[task_id].get(questionnaire)
            if q is None:
                listed = ", ".join(self._after[task_id]) or "nothing"
                raise SessionError(f"{questionnaire!r} is not asked after {task_id} (its after: "
                                   f"lists {listed})")  # fmt: skip
            return q
        q = self._questionnaires.get(questionnaire)
        if q is None:
            if any(questionnaire in after for after in self._after.values()):
                raise SessionError(f"{questionnaire!r} is asked after tasks: name the task")
            raise SessionError(f"this scenario has no questionnaire {questionnaire!r}")
        return q

    def decline(self, questionnaire: str, item: str, task_id: str | None = None) -> Event:
        """The participant declined to rate this item; stored as declined, not as a number."""
        return self.answer(questionnaire, item, None, task_id)

    def pass_questions(
        self, unanswered: Sequence[tuple[str, str]], task_id: str | None = None
    ) -> Event:
        """Go on from the questions after ``task_id`` (None: those at the end of the session)
        leaving the ``(questionnaire, item)`` pairs in ``unanswered`` without an answer (a text
        item left empty). Nothing is recorded for the items; they are not asked again."""
        if task_id is not None and self._task(task_id).status != "ended":
            raise SessionError(f"{task_id} has not ended: its questions come after it")
        if not unanswered:
            raise SessionError("no question left unanswered: nothing to go on from")
        for questionnaire, item in unanswered:
            q = self._questionnaire(questionnaire, task_id)
            if not any(i.id == item for i in q.items):
                raise SessionError(f"questionnaire {questionnaire!r} has no item {item!r}")
            if self.state.answer(questionnaire, item, task_id) is not None:
                raise SessionError(f"{questionnaire} {item} has an answer already")
        pairs = [[questionnaire, item] for questionnaire, item in unanswered]
        return self._record(QUESTIONS_PASSED, task_id, {"unanswered": pairs})

    def record_consent(
        self, wording: str, how: str = "in the app",
        profile: Mapping[str, ProfileValue] | None = None,
    ) -> Event:  # fmt: skip
        """Consent as given: the wording shown and how (``in the app`` / ``before the app``).

        ``profile``: the participant's profile answers (see :meth:`record_profile`), committed
        with the consent in one transaction: both are recorded, or neither.
        """
        if how not in ("in the app", "before the app"):
            raise SessionError("consent is obtained 'in the app' or 'before the app'")
        if self.state.consent is not None:
            raise SessionError("consent is recorded already for this session")
        consent = (CONSENT_RECORDED, None, {"wording": wording.strip(), "how": how})
        return self._record_together([consent, *self._profile_events(profile or {})])[0]

    def record_profile(self, answers: Mapping[str, ProfileValue]) -> list[Event]:
        """The participant's answers to the scenario's ``profile:`` questions, in one commit.

        Each is an ``answer_recorded`` event of questionnaire ``profile`` without a task: the
        chosen option's text, the whole number, or the text; None records that the participant
        declined (or the moderator skipped) the question. Questions left out are not recorded.
        A question answered already is refused; undo does not cancel profile answers.
        """
        items = self._profile_events(answers)
        if not items:
            raise SessionError("no profile answers to record")
        return self._record_together(items)

    def _profile_events(
        self, answers: Mapping[str, ProfileValue]
    ) -> list[tuple[str, str | None, dict[str, Any]]]:
        try:
            checked = check_answers(self.scenario.profile, answers)
        except ProfileAnswerError as exc:
            raise SessionError(str(exc)) from None
        items: list[tuple[str, str | None, dict[str, Any]]] = []
        for qid, value in checked.items():
            if self.state.answer(PROFILE, qid) is not None:
                raise SessionError(f"the profile question {qid!r} is answered already for "
                                   "this session")  # fmt: skip
            payload: dict[str, Any] = {"questionnaire": PROFILE, "item": qid, "value": value}
            if value is None:
                payload["declined"] = True
            items.append((ANSWER_RECORDED, None, payload))
        return items

    def _record_together(
        self, items: Sequence[tuple[str, str | None, Mapping[str, Any]]]
    ) -> list[Event]:
        """Several events at one instant, committed in one transaction when the sink offers
        ``commit_all`` (the store does); else one by one, each adopted once it is durable."""
        commit_all = getattr(self._sink, "commit_all", None)
        if commit_all is None or len(items) == 1:
            return [self._record(kind, task_id, payload) for kind, task_id, payload in items]
        if self.state.status != "in_progress":
            raise SessionError(f"the session is {self.state.status}; nothing more can be logged")
        moment = self.now()
        run = self.run + 1 if self._new_run else self.run
        state, pairs = self.state, []
        for kind, task_id, payload in items:
            assert kind != UNDO  # an undo is replayed, never batched
            mono = max(moment.mono_ms, state.last_mono.get(run, moment.mono_ms))
            event = Event(seq=len(self._events) + len(pairs) + 1, run=run, kind=kind,
                          task_id=task_id, payload=dict(payload), mono_ms=mono,
                          at=iso_utc(moment.utc))  # fmt: skip
            state = apply(state, event)
            pairs.append((event, state))
        commit_all(pairs)  # durable, all of them, before we adopt any
        self._events.extend(event for event, _ in pairs)
        self.state = state
        self._new_run = False
        return [event for event, _ in pairs]

    def correct(
        self, task_id: str, changes: Mapping[str, Any], reason: str, by: str | None = None
    ) -> Event:
        """Correct an ended task after the fact: outcome, time on task, errors, assists, SEQ.

        ``changes`` maps a field of :data:`usetest.events.CORRECTABLE` to its new value
        (``time_ms`` in milliseconds). The event keeps, per field, the old and the new value,
        with who made the correction and why; allowed after later tasks and after the session
        completed. Fields whose value would not change are left out; nothing to change is an
        error.
        """
        if task_id not in self.state.tasks:
            known = ", ".join(self.state.order)
            raise SessionError(f"no task {task_id!r} in this session (tasks: {known})")
        task = self.state.tasks[task_id]
        if task.status != "ended":
            raise SessionError(f"{task_id} has not ended — end it (or undo) instead of correcting")
        reason = (reason or "").strip()
        if not reason:
            raise SessionError("a correction needs a reason (what was wrong), for the audit trail")
        old = self._correctable(task)
        out: dict[str, dict[str, Any]] = {}
        for name, value in changes.items():
            if name not in old:
                raise SessionError(f"{name!r} cannot be corrected; use one of {', '.join(old)}")
            self._check_correction(task, name, value)
            if value != old[name]:
                out[name] = {"old": old[name], "new": value}
        if not out:
            raise SessionError(f"nothing to correct: {task_id} already has these values")
        return self._record(CORRECTION, task_id, {
            "changes": out, "reason": reason, "by": (by or "").strip() or None,
        })  # fmt: skip

    def _correctable(self, task: TaskState) -> dict[str, Any]:
        seq = self.state.answer("seq", "seq", task.task_id)
        return {"outcome": task.outcome, "time_ms": task.recorded_ms, "errors": task.errors,
                "assists": task.assists, "seq": seq.value if seq else None}  # fmt: skip

    def _check_correction(self, task: TaskState, name: str, value: Any) -> None:
        if name == "outcome":
            if value not in OUTCOMES:
                raise SessionError(f"unknown outcome {value!r}; use one of {', '.join(OUTCOMES)}")
        elif name == "seq":
            spec = SEQ.items[0]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not spec.min <= value <= spec.max):  # fmt: skip
                raise SessionError(f"the SEQ takes {spec.min} to {spec.max} (or declined)")
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            what = "time on task" if name == "time_ms" else name
            raise SessionError(f"{what} takes a whole number, 0 or more, not {value!r}")

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

    def abandon(self, reason: str | None = None, at: Moment | None = None) -> Event:
        """End the session early (the participant left); it will not be offered for resume.

        A running task is paused first. ``at`` (from :meth:`now`, when the abandon key was
        pressed) stamps both, so the time spent typing the reason is not counted.
        """
        task = self.state.active_task
        if task is not None and self.state.tasks[task].status == "running":
            self.pause("session abandoned", task, at=at)
        payload = {"reason": (reason or "").strip() or None}
        return self._record(SESSION_ABANDONED, None, payload, at=at)
