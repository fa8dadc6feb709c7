"""Wiring a session engine to its database: start a new session or resume an unfinished one.

This is the one code path the CLI, the moderator app and the tests use to get a recording
session, so each of them stores the scenario text, assigns the task order and writes events
the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from usetest import store
from usetest.clock import Clock, SystemClock, iso_utc
from usetest.events import SessionError
from usetest.order import assign_order, square_row
from usetest.owner import Owner
from usetest.profile import ProfileAnswerError, ProfileValue, check_answers
from usetest.scenario import LoadedScenario, ScenarioError, parse_scenario
from usetest.session import Session
from usetest.store import SessionRecord, StoreError

if TYPE_CHECKING:
    from sqlite_utils import Database


@dataclass
class Recording:
    """A live session: the engine, its row, and the scenario it runs."""

    session: Session
    record: SessionRecord
    loaded: LoadedScenario
    owner: Owner | None = None
    """This app's claim on the session (:func:`usetest.store.claim_session`), if it holds one."""


@dataclass(frozen=True)
class ResumeInfo:
    """What a moderator must be told when a session continues after an interruption."""

    interrupted_tasks: tuple[str, ...]
    """Tasks whose clock was running when the previous run stopped."""
    last_event_at: str | None
    """UTC time of the last recorded event: running time after it is not counted."""
    scenario_changed: bool
    """The scenario file differs from the version the session started with (the stored one is used)."""


def _time_limits(loaded: LoadedScenario) -> dict[str, int | None]:
    return {t.id: t.time_limit for t in loaded.scenario.tasks}


def plan_order(
    db: Database | None, loaded: LoadedScenario, participant: str, condition: str | None
) -> list[str]:
    """The task order ``participant`` would get now (``db=None``: an empty study)."""
    sessions = store.list_sessions(db) if db is not None else []
    sc = loaded.scenario
    row = None
    if sc.task_order == "latin-square" and sc.conditions:
        row = square_row(sc, (s.order for s in sessions
                              if s.condition == condition and s.status != "abandoned"))  # fmt: skip
    return assign_order(sc, loaded.sha256, participant.strip(), len(sessions) + 1, row)


def start(
    db: Database,
    loaded: LoadedScenario,
    participant: str,
    moderator: str | None = None,
    condition: str | None = None,
    clock: Clock | None = None,
    consent: str | None = None,
    claim: bool = False,
    profile: Mapping[str, ProfileValue] | None = None,
) -> Recording:
    """Record a new session: store the scenario, assign the order, log ``session_started``.

    ``consent`` is how consent was obtained (``in the app`` or ``before the app``); it is
    recorded right after the start, with the scenario's consent wording. None: not yet (the
    app asks for it before the first task). ``claim``: this process records the session (the
    app), so no other may resume it while it runs; give it back with :func:`release`.

    ``profile``: the participant's answers to the scenario's ``profile:`` questions (question
    id -> option text, number or text; None: declined), checked here before anything is
    written and recorded in the consent's transaction (without consent: right after the start).
    """
    clock = clock or SystemClock()
    sc = loaded.scenario
    if sc.conditions and condition not in sc.conditions:
        raise StoreError(
            f"condition {condition!r} is not one of this study's: {', '.join(sc.conditions)}"
            if condition else f"choose a condition: {', '.join(sc.conditions)}"
        )  # fmt: skip
    if not sc.conditions and condition:
        raise StoreError("this study has no conditions — leave the condition out")
    if profile:
        try:  # before anything is written: a wrong answer leaves no session behind
            check_answers(sc.profile, profile)
        except ProfileAnswerError as exc:
            raise SessionError(f"{exc}; nothing was recorded") from None
    now = iso_utc(clock.utc_now())
    owner = Owner.here(now) if claim else None
    # One transaction: a refused code leaves no new version behind, and two stations starting
    # at once cannot both take the same Latin-square row.
    with store.write_lock(db):
        scenario_id = store.save_scenario(db, loaded, now)
        order = plan_order(db, loaded, participant, condition)
        record = store.create_session(
            db, scenario_id=scenario_id, participant=participant, moderator=moderator,
            condition=condition, order=order, started_at=now, owner=owner,
        )  # fmt: skip
    sink = store.SessionStore(db, record.id, _time_limits(loaded), owner.token if owner else None)
    try:
        session = Session.begin(
            sc, order, clock, sink,
            participant=record.participant, moderator=record.moderator,
            condition=record.condition, scenario_sha256=loaded.sha256, session_uid=record.uid,
        )  # fmt: skip
        if consent is not None:
            session.record_consent(sc.consent_wording, consent, profile=profile)
        elif profile:
            session.record_profile(profile)
    except BaseException:
        if owner is not None:  # unfinished: resumable at once, by this app or another
            store.release_session(db, record.id, owner)
        raise
    return Recording(session, store.get_session(db, record.id), loaded, owner)


def resume(
    db: Database,
    session_id: int,
    clock: Clock | None = None,
    current_sha256: str | None = None,
    claim: bool = False,
    take_over: bool = False,
) -> tuple[Recording, ResumeInfo]:
    """Continue an unfinished session in a new run, from its stored events and scenario text.

    Refused (:class:`usetest.store.SessionBusy`) while another app that may still run has the
    session open, unless ``take_over`` (confirm that with the moderator first: the other app
    can no longer save). ``claim``: this process records it from now on (see :func:`start`).
    """
    clock = clock or SystemClock()
    record = store.get_session(db, session_id)
    if record.status != "in_progress":
        raise StoreError(f"session {record.participant} is {record.status}; only unfinished "
                         "sessions can be resumed")  # fmt: skip
    owner = Owner.here(iso_utc(clock.utc_now())) if claim else None
    store.claim_session(db, session_id, owner, take_over=take_over)
    try:
        return _resume(db, record, clock, current_sha256, owner)
    except BaseException:
        if owner is not None:
            store.release_session(db, session_id, owner)
        raise


def _resume(db: Database, record: SessionRecord, clock: Clock, current_sha256: str | None,
            owner: Owner | None) -> tuple[Recording, ResumeInfo]:  # fmt: skip
    session_id = record.id
    loaded = _stored_scenario(db, record)
    events = store.load_events(db, session_id)
    sink = store.SessionStore(db, session_id, _time_limits(loaded), owner.token if owner else None)
    if not events:
        # The process died between creating the session row and logging its start: nothing
        # was recorded, so begin the log now rather than open it with a resume.
        session = Session.begin(
            loaded.scenario, record.order, clock, sink,
            participant=record.participant, moderator=record.moderator,
            condition=record.condition, scenario_sha256=loaded.sha256, session_uid=record.uid,
        )  # fmt: skip
        info = ResumeInfo((), None, current_sha256 is not None and current_sha256 != loaded.sha256)
        return Recording(session, store.get_session(db, session_id), loaded, owner), info
    try:
        session = Session.restore(loaded.scenario, record.order, events, clock, sink)
    except SessionError as exc:
        raise StoreError(str(exc)) from exc
    resumed = session.events[-1].payload
    info = ResumeInfo(
        interrupted_tasks=tuple(resumed.get("interrupted_tasks", ())),
        last_event_at=resumed.get("last_event_at"),
        scenario_changed=current_sha256 is not None and current_sha256 != loaded.sha256,
    )
    return Recording(session, store.get_session(db, session_id), loaded, owner), info


def _stored_scenario(db: Database, record: SessionRecord) -> LoadedScenario:
    """The scenario version the session ran, as stored with it (not the file on disk)."""
    text = store.scenario_text(db, record.scenario_id)
    try:
        return parse_scenario(text, f"<scenario stored for {record.participant}>",
                              as_recorded=True)
    except ScenarioError as exc:  # pragma: no cover - a stored scenario validated when saved
        raise StoreError(f"the stored scenario no longer validates: {exc}") from exc


def reopen(db: Database, session_id: int, clock: Clock | None = None) -> Recording:
    """A stored session (finished or not) ready for corrections from outside the app.

    No resume is recorded; the corrections go into a run of their own (see
    :meth:`usetest.session.Session.reopen`).
    """
    record = store.get_session(db, session_id)
    loaded = _stored_scenario(db, record)
    events = store.load_events(db, session_id)
    sink = store.SessionStore(db, session_id, _time_limits(loaded))
    session = Session.reopen(loaded.scenario, record.order, events, clock or SystemClock(), sink)
    return Recording(session, record, loaded)


def release(db: Database, recording: Recording) -> None:
    """Give the session back (the app quits or moves on); harmless if it was taken over."""
    if recording.owner is not None:
        store.release_session(db, recording.record.id, recording.owner)
        recording.owner = None


def abandon(
    db: Database, session_id: int, reason: str | None = None, *, clock: Clock | None = None,
    take_over: bool = False,
) -> Recording:  # fmt: skip
    """Close an unfinished session from outside the app (``usetest abandon``).

    It is resumed first, so a task a crash left running is closed at that run's last event
    (as any resume does), then abandoned: it leaves the resume list, and analyses leave it out
    unless asked. Refused like :func:`resume` while another app has it open.
    """
    rec, _ = resume(db, session_id, clock=clock, claim=True, take_over=take_over)
    try:
        rec.session.abandon(reason)
    finally:
        release(db, rec)  # the abandon gave it back already; this covers a failed write
    return rec
