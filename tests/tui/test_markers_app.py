"""The recording-started key on the moderator's task screen (Pilot, checked in the database)."""

from __future__ import annotations

from textual.widgets import Static

from tests.conftest import demo_without_profile, rows
from usetest.clock import FakeClock
from usetest.tui.app import make_app
from usetest.tui.screens.modals import HelpScreen
from usetest.tui.screens.task import TaskScreen


async def test_r_logs_the_recording_start_at_the_key_and_u_takes_it_back(tmp_path):
    db_path = tmp_path / "demo.db"
    clock = FakeClock()
    app = make_app(demo_without_profile(), db_path, clock=clock, participant="P01", consent=True)
    async with app.run_test() as pilot:
        assert isinstance(app.screen, TaskScreen)
        clock.advance(12)
        await pilot.press("r")
        assert any("Recording start marked at 09:00:12" in n.message for n in app._notifications)
        log = str(app.screen.query_one("#event-log", Static).render())
        assert "recording started" in log
        marks = rows(db_path, "SELECT task_id, at FROM events WHERE kind = 'recording_started'")
        assert marks == [{"task_id": None, "at": "2026-01-05T09:00:12.000Z"}]
        await pilot.press("space")
        clock.advance(3)
        await pilot.press("r")  # again, with the task running: kept, and it belongs to the task
        await pilot.press("u")
        assert any("Undone: recording started" in n.message for n in app._notifications)
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "bookmark"
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("#help-text", Static).render())
        binding = next(b for b in TaskScreen.BINDINGS if getattr(b, "id", None) == "task-recording")
        assert any(line.split()[:1] == ["r"] and (binding.tooltip or binding.description) in line
                   for line in help_text.splitlines())  # fmt: skip
        await pilot.press("escape")
    kinds = rows(db_path, "SELECT kind, task_id, payload FROM events WHERE event_seq > 3 ORDER BY event_seq")
    assert kinds == [
        {"kind": "task_started", "task_id": "bookmark", "payload": "{}"},
        {"kind": "recording_started", "task_id": "bookmark", "payload": "{}"},
        {"kind": "undo", "task_id": "bookmark",
         "payload": '{"target_seq": 5, "target_kind": "recording_started"}'},
    ]  # fmt: skip
