"""The app and the one-app-per-session rule: the resume list, take-over, quit, abandon, codes."""

from __future__ import annotations

import json

from tests.tui.test_app_flow import DEMO, rows
from usetest import recorder, store
from usetest.clock import FakeClock
from usetest.owner import Owner
from usetest.store import open_db
from usetest.tui.app import make_app
from usetest.tui.screens.modals import ConfirmQuit, ConfirmTakeOver, TextPrompt
from usetest.tui.screens.setup import ResumeScreen, SetupScreen
from usetest.tui.screens.task import TaskScreen


def messages(app, severity=None):
    return [n.message for n in app._notifications if severity in (None, n.severity)]


def owner(db_path, code="P01"):
    [row] = rows(db_path, f"SELECT owner FROM sessions WHERE participant = '{code}'")
    return json.loads(row["owner"]) if row["owner"] else None


def open_elsewhere(db_path, code="P01") -> Owner:
    """A session held by another live app (this process, another claim: alive, checkable)."""
    db = open_db(db_path)
    rec = recorder.start(db, DEMO, code, clock=FakeClock(), claim=True)
    rec.session.start()
    db.close()
    assert rec.owner is not None
    return rec.owner


async def test_the_resume_list_marks_a_session_open_elsewhere_and_refuses_it(tmp_path):
    db_path = tmp_path / "demo.db"
    other = open_elsewhere(db_path)
    app = make_app(DEMO, db_path, clock=FakeClock(), resume=True)
    async with app.run_test(size=(120, 30)) as pilot:
        listing = str(app.screen.query_one("#resume-list").get_option_at_index(0).prompt)
        assert f"OPEN in another usetest (pid {other.pid} on {other.host}" in listing
        await pilot.press("enter")
        assert isinstance(app.screen, ResumeScreen) and app.recording is None
        [refusal] = messages(app, "error")
        assert "P01 is open in another usetest" in refusal and "press t" in refusal
        await pilot.press("t")  # take over: asks first, and n keeps things as they are
        assert isinstance(app.screen, ConfirmTakeOver)
        text = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "cannot save anything more to this session" in text
        await pilot.press("n")
        assert isinstance(app.screen, ResumeScreen)
        assert owner(db_path)["token"] == other.token
        await pilot.press("t", "y")
        assert isinstance(app.screen, TaskScreen)
        mine = app.recording.owner
        assert owner(db_path)["token"] == mine.token != other.token
        assert any("Taken over" in m for m in messages(app, "warning"))
    assert owner(db_path) is None  # released when the app closed


async def test_run_resume_participant_goes_straight_to_the_session(tmp_path):
    db_path = tmp_path / "demo.db"
    db = open_db(db_path)
    recorder.start(db, DEMO, "P01", clock=FakeClock()).session.start()
    recorder.start(db, DEMO, "P02", clock=FakeClock())
    db.close()
    app = make_app(DEMO, db_path, clock=FakeClock(), participant="P02", resume=True)
    async with app.run_test():
        assert isinstance(app.screen, TaskScreen)
        assert app.recording.record.participant == "P02"
        assert owner(db_path, "P02")["token"] == app.recording.owner.token


async def test_run_resume_participant_open_elsewhere_shows_the_list_and_why(tmp_path):
    db_path = tmp_path / "demo.db"
    other = open_elsewhere(db_path)
    app = make_app(DEMO, db_path, clock=FakeClock(), participant="P01", resume=True)
    async with app.run_test():
        assert isinstance(app.screen, ResumeScreen) and app.recording is None
        assert any("P01 is open in another usetest" in m for m in messages(app, "error"))
    assert owner(db_path)["token"] == other.token
    # confirmed on the command line (run --take-over): taken at once
    app = make_app(DEMO, db_path, clock=FakeClock(), participant="P01", resume=True)
    app.take_over = True
    async with app.run_test():
        assert isinstance(app.screen, TaskScreen)
        assert owner(db_path)["token"] == app.recording.owner.token


async def test_an_app_whose_session_was_taken_over_says_so_and_saves_nothing(tmp_path):
    db_path = tmp_path / "demo.db"
    clock = FakeClock()
    app = make_app(DEMO, db_path, clock=clock, participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space")
        other = open_db(db_path)
        [session] = store.list_sessions(other, "in_progress")
        second, _ = recorder.resume(other, session.id, claim=True, take_over=True)
        before = len(store.load_events(other, session.id))
        await pilot.press("a")
        [error] = [n for n in app._notifications if n.severity == "error"]
        assert error.title == "NOT SAVED"
        assert "was taken over by another usetest" in error.message
        assert "UNIQUE" not in error.message and "press the key again" not in error.message
        assert app.recording.session.state.tasks["bookmark"].assists == 0
        assert len(store.load_events(other, session.id)) == before
        assert app.lost_session  # `usetest run` then says so instead of "continue it with …"
        await pilot.press("ctrl+q", "y")
    assert owner(db_path)["token"] == second.owner.token  # quitting left the new owner be
    other.close()


async def test_quitting_gives_the_session_back(tmp_path):
    db_path = tmp_path / "demo.db"
    app = make_app(DEMO, db_path, clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        assert owner(db_path)["token"] == app.recording.owner.token
        await pilot.press("space", "ctrl+q")
        assert isinstance(app.screen, ConfirmQuit)
        await pilot.press("y")
    assert owner(db_path) is None
    assert rows(db_path, "SELECT status FROM sessions") == [{"status": "in_progress"}]


async def test_abandon_from_the_quit_dialog_asks_why_and_closes_the_session(tmp_path):
    db_path = tmp_path / "demo.db"
    clock = FakeClock()
    app = make_app(DEMO, db_path, clock=clock, participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space")
        clock.advance(9)
        await pilot.press("ctrl+q", "a")
        assert isinstance(app.screen, TextPrompt)
        await pilot.press("escape")  # changed their mind: the session goes on
        assert app.recording.session.state.status == "in_progress"
        assert isinstance(app.screen, TaskScreen)
        await pilot.press("ctrl+q", "a", *"had to leave", "enter")
        assert isinstance(app.screen, SetupScreen) and app.recording is None
        assert any("abandoned" in m and "resume list" in m for m in messages(app))
        assert app.screen.query_one("#participant").value == "P02"
    [session] = rows(db_path, "SELECT status, owner FROM sessions")
    assert session == {"status": "abandoned", "owner": None}
    [attempt] = rows(db_path, "SELECT time_ms, status FROM attempts WHERE position = 1")
    assert attempt == {"time_ms": 9_000, "status": "paused"}
    db = open_db(db_path)
    [event] = [e for e in store.load_events(db, 1) if e.kind == "session_abandoned"]
    assert event.payload["reason"] == "had to leave"
    app = make_app(DEMO, db_path, clock=FakeClock(), resume=True)
    async with app.run_test():
        assert app.screen.query_one("#resume-list").option_count == 0


async def test_the_quit_dialog_offers_abandon_only_mid_session(tmp_path):
    app = make_app(DEMO, tmp_path / "demo.db", clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+q")
        text = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "a abandon" in text
        await pilot.press("n")
        assert isinstance(app.screen, TaskScreen)


async def test_two_set_up_screens_with_the_same_code_the_second_gets_a_fresh_one(tmp_path):
    db_path = tmp_path / "demo.db"
    app = make_app(DEMO, db_path, clock=FakeClock())
    async with app.run_test(size=(100, 40)) as pilot:
        assert app.screen.query_one("#participant").value == "P01"
        db = open_db(db_path)  # the other window starts P01 first
        recorder.start(db, DEMO, "P01", clock=FakeClock(), claim=True)
        db.close()
        app.screen.query_one("#consent").value = True
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SetupScreen) and app.recording is None
        assert app.screen.query_one("#participant").value == "P02"
        [warning] = messages(app, "warning")
        assert "P01 was taken a moment ago" in warning and "P02" in warning
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, TaskScreen)
        assert app.recording.record.participant == "P02"
