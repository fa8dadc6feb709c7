"""The moderator app driven by Pilot: each step of the flow, checked in the database."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, STUDY_YAML, demo_without_profile, rows
from usetest.clock import FakeClock
from usetest.scenario import load_scenario, parse_scenario
from usetest.tui.app import make_app
from usetest.tui.screens.questionnaire import QuestionnaireScreen
from usetest.tui.screens.summary import SummaryScreen
from usetest.tui.screens.task import TaskScreen

DEMO = demo_without_profile()



async def test_a_whole_demo_session_from_the_keyboard(tmp_path):
    db_path = tmp_path / "demo.db"
    clock = FakeClock()
    app = make_app(DEMO, db_path, clock=clock, participant="P01", consent=True, moderator="AB")
    async with app.run_test() as pilot:
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "bookmark"
        await pilot.press("space")
        clock.advance(30)
        await pilot.press("a")
        await pilot.press("e", "n")
        await pilot.press(*"went to history", "enter")
        clock.advance(15)
        await pilot.press("s")
        assert isinstance(app.screen, QuestionnaireScreen)  # SEQ
        await pilot.press("6")
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "private-window"
        await pilot.press("space")
        clock.advance(10)
        await pilot.press("space")  # pause: asks for a reason
        await pilot.press(*"phone", "enter")
        clock.advance(60)  # paused: not counted
        await pilot.press("space")
        clock.advance(5)
        await pilot.press("f", "3")
        await pilot.press("x")  # skip the third task: no SEQ after a skip
        assert isinstance(app.screen, QuestionnaireScreen)  # SUS
        for answer in "4152514231":
            await pilot.press(answer)
        assert isinstance(app.screen, SummaryScreen)
        await app.workers.wait_for_complete()  # the SUS is scored in a thread (scipy)
        await pilot.pause()
        summary = app.screen.query_one("#summary-sus").render()
        assert "SUS 85" in str(summary)
        await pilot.press("q")
    attempts = rows(db_path, "SELECT task_id, outcome, time_ms, errors, assists, seq_rating,"
                    " pauses, pause_ms FROM attempts ORDER BY position")  # fmt: skip
    assert attempts == [
        {"task_id": "bookmark", "outcome": "success", "time_ms": 45_000, "errors": 1,
         "assists": 1, "seq_rating": 6, "pauses": 0, "pause_ms": 0},
        {"task_id": "private-window", "outcome": "fail", "time_ms": 15_000, "errors": 0,
         "assists": 0, "seq_rating": 3, "pauses": 1, "pause_ms": 60_000},
        {"task_id": "clear-history", "outcome": "skipped", "time_ms": 0, "errors": 0,
         "assists": 0, "seq_rating": None, "pauses": 0, "pause_ms": 0},
    ]  # fmt: skip
    errors = rows(db_path, "SELECT type_name, note FROM errors")
    assert errors == [{"type_name": "navigation", "note": "went to history"}]
    sus = rows(db_path, "SELECT item, value_num FROM answers WHERE questionnaire = 'sus'"
               " ORDER BY CAST(substr(item, 4) AS INTEGER)")  # fmt: skip
    assert [r["value_num"] for r in sus] == [4, 1, 5, 2, 5, 1, 4, 2, 3, 1]
    [session] = rows(db_path, "SELECT status, moderator FROM sessions")
    assert session == {"status": "completed", "moderator": "AB"}
    pause = rows(db_path, "SELECT payload FROM events WHERE kind = 'task_paused'")
    assert '"phone"' in pause[0]["payload"]


async def test_ending_before_start_is_refused_and_says_so(tmp_path):
    db_path = tmp_path / "demo.db"
    app = make_app(DEMO, db_path, clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("s")
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "bookmark"
        assert any("never started" in n.message for n in app._notifications)
    assert rows(db_path, "SELECT count(*) AS n FROM events WHERE kind = 'task_ended'") == [{"n": 0}]


async def test_undo_reopens_an_ended_task(tmp_path):
    db_path = tmp_path / "demo.db"
    clock = FakeClock()
    app = make_app(DEMO, db_path, clock=clock, participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space")
        clock.advance(20)
        await pilot.press("f")  # wrong key
        assert isinstance(app.screen, QuestionnaireScreen)
        await pilot.press("ctrl+q")  # quitting asks first; say no
        assert "ConfirmQuit" in str(app.screen_stack)
        await pilot.press("n")
        await pilot.press("u")  # undo from the SEQ screen reopens the task
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "bookmark"
        clock.advance(5)
        await pilot.press("s", "7")
    [first] = rows(db_path, "SELECT outcome, time_ms FROM attempts WHERE task_id = 'bookmark'")
    assert first == {"outcome": "success", "time_ms": 25_000}
    undo = rows(db_path, "SELECT payload FROM events WHERE kind = 'undo'")
    assert "task_ended" in undo[0]["payload"]


async def test_u_key_undoes_the_last_event(tmp_path):
    db_path = tmp_path / "demo.db"
    app = make_app(DEMO, db_path, clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space", "a", "a", "u")
        assert app.recording.session.state.tasks["bookmark"].assists == 1
    assert rows(db_path, "SELECT assists FROM attempts WHERE task_id = 'bookmark'") == [
        {"assists": 1}
    ]


async def test_notes_with_kind_and_severity(tmp_path):
    db_path = tmp_path / "demo.db"
    app = make_app(DEMO, db_path, clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space", "n", "p", *"star icon missed", "enter", "3")
        await pilot.press("n", "q", *"where is it", "enter")
    notes = rows(db_path, "SELECT kind, text, severity, task_id FROM notes ORDER BY event_seq")
    assert notes == [
        {"kind": "problem", "text": "star icon missed", "severity": 3, "task_id": "bookmark"},
        {"kind": "quote", "text": "where is it", "severity": None, "task_id": "bookmark"},
    ]  # fmt: skip


async def test_quit_mid_session_confirms_and_leaves_it_resumable(tmp_path):
    db_path = tmp_path / "demo.db"
    clock = FakeClock()
    app = make_app(DEMO, db_path, clock=clock, participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space")
        clock.advance(12)
        await pilot.press("a", "ctrl+q")
        await pilot.press("y")
    assert rows(db_path, "SELECT status FROM sessions") == [{"status": "in_progress"}]
    # resume: the list shows the session; Enter continues it, paused, time kept
    later = FakeClock(start_ms=50)
    app = make_app(DEMO, db_path, clock=later, resume=True)
    async with app.run_test() as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TaskScreen)
        task = app.recording.session.state.tasks["bookmark"]
        assert (task.status, task.closed_ms) == ("paused", 12_000)
        assert any("not counted" in n.message for n in app._notifications)
        await pilot.press("space")
        later.advance(3)
        await pilot.press("s", "5")
    [first] = rows(db_path, "SELECT outcome, time_ms, interruptions FROM attempts"
                   " WHERE task_id = 'bookmark'")  # fmt: skip
    assert first == {"outcome": "success", "time_ms": 15_000, "interruptions": 1}


async def test_setup_screen_suggests_code_and_condition_and_needs_consent(tmp_path):
    db_path = tmp_path / "checkout.db"
    loaded = load_scenario(ROOT / "scenarios" / "checkout.yaml")
    app = make_app(loaded, db_path, clock=FakeClock())
    async with app.run_test(size=(100, 40)) as pilot:
        assert app.screen.query_one("#participant").value == "P01"
        await pilot.press("ctrl+s")
        assert app.recording is None  # no consent yet
        await pilot.press("tab", *"MS", "tab", "tab", "space", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, TaskScreen)
    [session] = rows(db_path, "SELECT participant, moderator, condition, task_order FROM sessions")
    assert session["participant"] == "P01" and session["moderator"] == "MS"
    assert session["condition"] == "current"  # least used (tie -> first)


async def test_markup_in_scenario_text_is_shown_literally(tmp_path):
    loaded = load_scenario(ROOT / "tests" / "data" / "scenarios" / "markup.yaml")
    app = make_app(loaded, tmp_path / "m.db", clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        prompt = app.screen.query_one("#task-prompt").render()
        assert "[bold]this[/]" in str(prompt)
        assert "[link=https://example.com]that[/link]" in str(prompt)
        await pilot.press("v")
        await pilot.press("z")  # any key leaves the participant view
        assert isinstance(app.screen, TaskScreen)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_task_screen_fits(tmp_path, size):
    app = make_app(parse_scenario(STUDY_YAML), tmp_path / "s.db", clock=FakeClock(),
                   participant="P01", consent=True)  # fmt: skip
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")
        assert app.screen.query_one("#clock").region.height == 1
        assert app.screen.query_one("#event-log").region.bottom <= size[1]


async def test_custom_likert_free_text_and_nps_with_back_to_correct(tmp_path):
    db_path = tmp_path / "banking.db"
    loaded = load_scenario(ROOT / "scenarios" / "banking.yaml")
    app = make_app(loaded, db_path, clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("x", "x", "x", "x")  # skip every task: straight to the questionnaires
        await pilot.press(*"3333333333")  # SUS
        await pilot.press("5", "backspace", "6")  # trust/safe: 5, back, corrected to 6
        await pilot.press("7", "4")  # pots-clear 7, control (5-point) 4
        await pilot.press(*"a [bold] search", "enter")  # free text, literal
        await pilot.press("1", "0", "enter")  # NPS 10: two digits then Enter
        assert isinstance(app.screen, SummaryScreen)
    answers = {
        (r["questionnaire"], r["item"]): r["value_num"] if r["value_text"] is None else r["value_text"]
        for r in rows(db_path, "SELECT * FROM answers")
    }
    assert answers[("trust", "safe")] == 6
    assert answers[("trust", "pots-clear")] == 7 and answers[("trust", "control")] == 4
    assert answers[("trust", "missing")] == "a [bold] search"
    assert answers[("nps", "nps")] == 10
    assert [r["status"] for r in rows(db_path, "SELECT status FROM sessions")] == ["completed"]


async def test_clock_stands_still_while_the_pause_reason_is_typed(tmp_path):
    from textual.widgets import Static

    clock = FakeClock()
    app = make_app(DEMO, tmp_path / "d.db", clock=clock, participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space")
        clock.advance(10)
        await pilot.press("space")  # the reason prompt opens; the pause counts from here
        clock.advance(5)
        task = app.screen_stack[-2]
        task.refresh_clock()
        shown = str(task.query_one("#clock", Static).render())
        assert shown.startswith("00:10") and "PAUSING" in shown
        await pilot.press("escape")  # keep running after all: the 5 s count
        await pilot.pause()
        assert str(task.query_one("#clock", Static).render()).startswith("00:15  running")
        await pilot.press("space")
        clock.advance(7)
        await pilot.press(*"phone", "enter")
        assert rows(tmp_path / "d.db", "SELECT time_ms FROM attempts WHERE task_id = 'bookmark'") == [
            {"time_ms": 15_000}]  # fmt: skip
