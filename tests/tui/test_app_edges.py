"""The moderator app when things go sideways: failed writes, taken codes, pauses, help, resume."""

from __future__ import annotations

import sqlite3

from tests.conftest import ROOT
from tests.tui.test_app_flow import DEMO, rows
from usetest import recorder
from usetest.clock import FakeClock
from usetest.scenario import load_scenario
from usetest.store import SessionStore, open_db
from usetest.tui.app import make_app
from usetest.tui.screens.modals import HelpScreen
from usetest.tui.screens.setup import SetupScreen
from usetest.tui.screens.task import TaskScreen

CHECKOUT = load_scenario(ROOT / "scenarios" / "checkout.yaml")


def messages(app, severity=None):
    return [n.message for n in app._notifications if severity in (None, n.severity)]


async def test_a_failed_write_says_not_saved_and_is_not_shown_as_logged(tmp_path, monkeypatch):
    db_path = tmp_path / "demo.db"
    app = make_app(DEMO, db_path, clock=FakeClock(), participant="P01", consent=True)

    def disk_error(*args):
        raise sqlite3.OperationalError("disk I/O error")

    async with app.run_test() as pilot:
        with monkeypatch.context() as patched:
            patched.setattr(SessionStore, "_write", disk_error)
            await pilot.press("space")
            assert any("NOT saved" in m for m in messages(app, "error"))
            assert app.recording.session.state.tasks["bookmark"].status == "pending"
            assert "bookmark: started" not in str(app.screen.query_one("#event-log").render())
        await pilot.press("space")  # the disk is back: the same key works
        assert "bookmark: started" in str(app.screen.query_one("#event-log").render())
    assert rows(db_path, "SELECT kind FROM events ORDER BY event_seq") == [
        {"kind": "session_started"}, {"kind": "consent_recorded"}, {"kind": "task_started"},
    ]  # fmt: skip


async def test_skipping_setup_suggests_the_least_used_condition(tmp_path):
    db_path = tmp_path / "checkout.db"
    db = open_db(db_path)
    recorder.start(db, CHECKOUT, "P01", condition="current", clock=FakeClock())
    db.close()
    app = make_app(CHECKOUT, db_path, clock=FakeClock(), participant="P02", consent=True)
    async with app.run_test():
        assert isinstance(app.screen, TaskScreen)
    assert rows(db_path, "SELECT participant, condition FROM sessions ORDER BY id") == [
        {"participant": "P01", "condition": "current"},
        {"participant": "P02", "condition": "redesign"},
    ]  # fmt: skip


async def test_a_taken_code_opens_set_up_with_the_next_free_code(tmp_path):
    db_path = tmp_path / "demo.db"
    db = open_db(db_path)
    recorder.start(db, DEMO, "P01", clock=FakeClock())
    db.close()
    app = make_app(DEMO, db_path, clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test():
        assert isinstance(app.screen, SetupScreen)
        assert any("already has a session" in m for m in messages(app, "error"))
        assert app.screen.query_one("#participant").value == "P02"
    assert len(rows(db_path, "SELECT id FROM sessions")) == 1


async def test_pause_can_be_cancelled_and_logging_while_paused_says_so(tmp_path):
    db_path = tmp_path / "demo.db"
    clock = FakeClock()
    app = make_app(DEMO, db_path, clock=clock, participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space", "space", "escape")  # Esc at the reason: keep running
        assert app.recording.session.state.tasks["bookmark"].status == "running"
        await pilot.press("space", "enter")  # pause without a reason
        assert app.recording.session.state.tasks["bookmark"].status == "paused"
        await pilot.press("a")
        assert any("paused" in m for m in messages(app, "warning"))
        await pilot.press("x")  # a started task ends with any outcome, skip included
    assert rows(db_path, "SELECT assists, pauses, outcome FROM attempts WHERE position = 1") == [
        {"assists": 1, "pauses": 1, "outcome": "skipped"}
    ]


async def test_help_lists_the_keys_and_ctrl_t_switches_light_and_dark(tmp_path):
    app = make_app(DEMO, tmp_path / "demo.db", clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, TaskScreen)
        dark = app.current_theme.dark
        await pilot.press("ctrl+t")
        assert app.current_theme.dark is not dark


async def test_resume_with_nothing_unfinished_says_so(tmp_path):
    app = make_app(DEMO, tmp_path / "demo.db", clock=FakeClock(), resume=True)
    async with app.run_test() as pilot:
        assert "every session in this database is finished" in str(
            app.screen.query_one("#resume").query("Static").last().render()
        )
        await pilot.press("escape")
    assert app.return_code == 0
