"""Corrections in the app (review screen), consent, key-time stamps and the event log."""

from __future__ import annotations

import json

from tests.conftest import demo_without_profile, rows
from usetest.clock import FakeClock
from usetest.tui.app import make_app
from usetest.tui.screens.modals import ConsentScreen
from usetest.tui.screens.review import CorrectionForm, ReviewScreen, parse_duration
from usetest.tui.screens.setup import SetupScreen
from usetest.tui.screens.summary import SummaryScreen
from usetest.tui.screens.task import TaskScreen

DEMO = demo_without_profile()



def test_parse_duration():
    assert parse_duration("83") == 83_000
    assert parse_duration("83.5") == 83_500
    assert parse_duration("1:23") == 83_000
    assert parse_duration("1:02:03") == 3_723_000
    for bad in ("", "1:75", "abc", "-3", "1:2"):
        try:
            parse_duration(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


async def _type_into(pilot, app, field, text):
    widget = app.screen.query_one(f"#correct-{field}")
    widget.value = ""
    widget.focus()
    await pilot.press(*text)


async def test_correct_an_earlier_task_from_the_task_screen(tmp_path):
    db_path = tmp_path / "d.db"
    clock = FakeClock()
    app = make_app(DEMO, db_path, clock=clock, participant="P01", moderator="AB", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space")
        clock.advance(30)
        await pilot.press("f", "5")  # wrong key: it was a success
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "private-window"
        await pilot.press("space")
        await pilot.press("c")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("enter")
        assert isinstance(app.screen, CorrectionForm)
        await _type_into(pilot, app, "outcome", "s")
        await _type_into(pilot, app, "reason", "pressed f for s")
        await pilot.press("enter")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "private-window"
        log = str(app.screen.query_one("#event-log").render())
        assert "corrected: outcome fail → success (pressed f for s)" in log
        assert app.recording.session.state.tasks["private-window"].status == "running"
    [attempt] = rows(db_path, "SELECT outcome, corrections FROM attempts WHERE task_id = 'bookmark'")
    assert attempt == {"outcome": "success", "corrections": 1}
    [event] = rows(db_path, "SELECT payload FROM events WHERE kind = 'correction'")
    payload = json.loads(event["payload"])
    assert payload["by"] == "AB" and payload["changes"]["outcome"] == {"old": "fail", "new": "success"}


async def test_the_form_refuses_without_a_reason_and_esc_changes_nothing(tmp_path):
    db_path = tmp_path / "d.db"
    clock = FakeClock()
    app = make_app(DEMO, db_path, clock=clock, participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space")
        clock.advance(10)
        await pilot.press("s", "5", "c", "enter")
        await _type_into(pilot, app, "time", "0:08")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, CorrectionForm)  # no reason: not saved
        assert any("needs a reason" in n.message for n in app._notifications)
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, TaskScreen)
    assert rows(db_path, "SELECT count(*) AS n FROM events WHERE kind = 'correction'") == [{"n": 0}]


async def test_correct_after_the_session_completed_from_the_summary(tmp_path):
    db_path = tmp_path / "d.db"
    clock = FakeClock()
    app = make_app(DEMO, db_path, clock=clock, participant="P01", consent=True)
    async with app.run_test() as pilot:
        for _ in range(3):
            await pilot.press("space")
            clock.advance(40)
            await pilot.press("s", "6")
        for answer in "4152514231":
            await pilot.press(answer)
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("c")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("down", "enter")  # the second task
        await _type_into(pilot, app, "time", "35")
        await _type_into(pilot, app, "seq", "d")
        await _type_into(pilot, app, "reason", "clock started late")
        await pilot.press("enter", "escape")
        assert isinstance(app.screen, SummaryScreen)
        table = app.screen.query_one("#summary-table")
        assert "00:35" in [str(c) for c in table.get_row_at(1)]
    [row] = rows(db_path, "SELECT time_ms, seq_rating FROM attempts WHERE position = 2")
    assert row == {"time_ms": 35_000, "seq_rating": None}
    assert rows(db_path, "SELECT status FROM sessions") == [{"status": "completed"}]


async def test_run_with_a_participant_asks_for_consent_and_records_it(tmp_path):
    db_path = tmp_path / "d.db"
    app = make_app(DEMO, db_path, clock=FakeClock(), participant="P04")
    async with app.run_test() as pilot:
        assert isinstance(app.screen, ConsentScreen)
        assert not db_path.exists() or rows(db_path, "SELECT * FROM sessions") == []
        await pilot.press("y")
        assert isinstance(app.screen, TaskScreen)
    [s] = rows(db_path, "SELECT consent_how, consent_at FROM sessions")
    assert s["consent_how"] == "in the app" and s["consent_at"]
    [e] = rows(db_path, "SELECT payload FROM events WHERE kind = 'consent_recorded'")
    assert DEMO.scenario.consent_wording in json.loads(e["payload"])["wording"]


async def test_declining_consent_starts_no_session(tmp_path):
    db_path = tmp_path / "d.db"
    app = make_app(DEMO, db_path, clock=FakeClock(), participant="P04")
    async with app.run_test() as pilot:
        await pilot.press("n")
        assert isinstance(app.screen, SetupScreen)
        assert any("No consent" in n.message for n in app._notifications)
    assert not db_path.exists() or rows(db_path, "SELECT * FROM sessions") == []


async def test_consent_before_the_app_is_recorded_as_such(tmp_path):
    db_path = tmp_path / "d.db"
    app = make_app(DEMO, db_path, clock=FakeClock(), participant="P04", consent=True)
    async with app.run_test():
        assert isinstance(app.screen, TaskScreen)
    assert rows(db_path, "SELECT consent_how FROM sessions") == [{"consent_how": "before the app"}]


async def test_setup_screen_consent_is_recorded_with_the_scenario_wording(tmp_path):
    db_path = tmp_path / "d.db"
    app = make_app(DEMO, db_path, clock=FakeClock())
    async with app.run_test() as pilot:
        assert DEMO.scenario.consent_wording[:30] in str(
            app.screen.query_one("#consent-wording").render())  # fmt: skip
        app.screen.query_one("#consent").value = True
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, TaskScreen)
    assert rows(db_path, "SELECT consent_how FROM sessions") == [{"consent_how": "in the app"}]


async def test_errors_and_notes_carry_the_time_of_their_key(tmp_path):
    db_path = tmp_path / "d.db"
    clock = FakeClock()
    app = make_app(DEMO, db_path, clock=clock, participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space")
        clock.advance(5)
        await pilot.press("e")
        pressed_error = clock.utc_now()
        clock.advance(8)  # the moderator types the note for 8 s
        await pilot.press("n", *"slow", "enter")
        clock.advance(3)
        await pilot.press("n")
        pressed_note = clock.utc_now()
        clock.advance(6)
        await pilot.press("q", *"hmm", "enter")
    [error] = rows(db_path, "SELECT logged_at FROM errors")
    [note] = rows(db_path, "SELECT logged_at FROM notes")
    assert error["logged_at"] == pressed_error.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert note["logged_at"] == pressed_note.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def test_the_event_log_shows_the_newest_event(tmp_path):
    app = make_app(DEMO, tmp_path / "d.db", clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        for _ in range(5):
            await pilot.press("a")
        await pilot.press("e", "n", "enter")
        log = app.screen.query_one("#event-log")
        shown = [line.text for line in log.render_lines(log.region.reset_offset)]
        text = "\n".join(shown)
        assert "error [navigation]" in text  # the newest line is on screen
        assert text.count("assist") == 4  # 5 assists, the oldest scrolled away
