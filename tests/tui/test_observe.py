"""Observers (``usetest observe``): notes from a second terminal reach the moderator's session.

The moderator's app is driven with Pilot; the observer's notes are posted through the same
store function the observer's screen uses (and the observer's screen itself is driven with
Pilot against a session recorded through the engine)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from textual.widgets import Static

from tests.conftest import demo_without_profile, rows
from usetest import observe, recorder, store
from usetest.clock import SystemClock
from usetest.tui.app import make_app
from usetest.tui.observe import ObserverApp, ObserverScreen

DEMO = demo_without_profile()


async def _until(pilot, check, seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError("not seen in time")


async def test_an_observer_note_is_logged_by_the_moderators_app(tmp_path):
    db_path = tmp_path / "s.db"
    app = make_app(DEMO, db_path, clock=SystemClock(), participant="P01", consent=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space")  # the first task's clock runs
        first = app.recording.session.state.active_task
        reader = store.open_db(db_path, create=False)
        live = observe.follow(reader)
        assert live is not None and live.record.participant == "P01"
        pressed = datetime.now(UTC) - timedelta(seconds=2)  # typed for two seconds
        observe.send_note(reader, live, "KL", "problem", "Missed the <b>search</b> box", 3, pressed)
        observe.send_note(reader, live, "MN", "quote", "Where is it?", None, pressed)
        await _until(pilot, lambda: len(app.recording.session.state.notes) == 2)
        notes = list(app.recording.session.state.notes.values())
        assert [(n.author, n.kind, n.severity, n.task_id) for n in notes] == [
            ("KL", "problem", 3, first), ("MN", "quote", None, first)]
        # stamped with the observer's key time, not the moment the app took it in
        assert notes[0].at < datetime.now(UTC).isoformat()
        # the timeline on the moderator's screen shows it with the observer's initials
        log = str(app.screen.query_one("#event-log", Static).render())
        assert "Where is it? — MN" in log
        # logged once, and the inbox says so
        assert store.waiting_observer_notes(reader.conn, live.record.id) == []
        reader.close()
        await pilot.press("ctrl+q")
    assert rows(db_path, "SELECT author, kind, text FROM notes ORDER BY event_seq") == [
        {"author": "KL", "kind": "problem", "text": "Missed the <b>search</b> box"},
        {"author": "MN", "kind": "quote", "text": "Where is it?"}]
    assert rows(db_path, "SELECT count(*) AS n FROM observer_notes WHERE taken_event_seq IS NULL") == [
        {"n": 0}]


async def test_the_observers_screen_follows_and_sends(tmp_path):
    db_path = tmp_path / "s.db"
    db = store.open_db(db_path)
    rec = recorder.start(db, DEMO, "P02", "AB", consent="in the app")
    session = rec.session
    first = session.state.order[0]
    session.start(first)
    app = ObserverApp(db_path, "KL")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.3)
        screen = app.screen
        assert isinstance(screen, ObserverScreen)
        head = str(screen.query_one("#obs-head", Static).render())
        task = str(screen.query_one("#obs-task", Static).render())
        assert "P02" in head and f"Task 1 of {len(session.state.order)}" in task
        # the moderator's status line, the same widget: clock and state, limit, counters
        assert "running" in str(screen.query_one("#clock", Static).render())
        assert "errors 0   assists 0" in str(screen.query_one("#counters", Static).render())
        assert DEMO.scenario.task(first).success not in str(screen.query_one("#obs-timeline",
                                                                              Static).render())
        await pilot.press("n", "q")  # a quote
        await pilot.press(*"Too many clicks", "enter")
        await pilot.pause(0.1)
        waiting = store.waiting_observer_notes(db.conn, rec.record.id)
        assert [(n.observer, n.kind, n.text, n.task_id) for n in waiting] == [
            ("KL", "quote", "Too many clicks", first)]
        status = str(screen.query_one("#obs-status", Static).render())
        assert "1 note(s) waiting" in status
        # the moderator's app (here the engine, as the app does it) logs it: the observer sees
        # it in the timeline with the initials
        note = waiting[0]
        session.log_note(note.text, note.kind, note.severity, task_id=note.task_id,
                         author=note.observer, inbox_id=note.id)  # fmt: skip
        await pilot.pause(0.4)
        timeline = str(screen.query_one("#obs-timeline", Static).render())
        assert "quote: Too many clicks — KL" in timeline
        session.abandon("the participant left")
        await pilot.pause(0.4)
        assert "waiting for a session to start" in str(screen.query_one("#obs-head",
                                                                         Static).render())
        await pilot.press("n")  # nothing to note on: a warning, nothing written
        await pilot.pause(0.1)
    db.close()
    assert rows(db_path, "SELECT count(*) AS n FROM observer_notes") == [{"n": 1}]


async def test_a_note_for_a_session_that_ended_is_refused(tmp_path):
    db = store.open_db(tmp_path / "s.db")
    rec = recorder.start(db, DEMO, "P03", consent="in the app")
    live = observe.follow(db)
    assert live is not None
    rec.session.abandon("left")
    try:
        observe.send_note(db, live, "KL", "observation", "late", None, datetime.now(UTC))
    except store.StoreError as exc:
        assert "abandoned" in str(exc) and "not sent" in str(exc)
    else:
        raise AssertionError("a note for an abandoned session was accepted")
    db.close()


async def test_a_note_posted_while_no_app_runs_is_logged_on_resume(tmp_path):
    db_path = tmp_path / "s.db"
    db = store.open_db(db_path)
    rec = recorder.start(db, DEMO, "P04", consent="in the app")
    rec.session.start(rec.session.state.order[0])
    live = observe.follow(db)
    observe.send_note(db, live, "KL", "observation", "while the app was closed", None,
                      datetime.now(UTC))  # fmt: skip
    db.close()
    app = make_app(DEMO, db_path, clock=SystemClock(), resume=True, participant="P04")
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.recording is not None
                     and len(app.recording.session.state.notes) == 1)  # fmt: skip
        await pilot.press("ctrl+q")
    await asyncio.sleep(0)
    assert rows(db_path, "SELECT author, text FROM notes") == [
        {"author": "KL", "text": "while the app was closed"}]
