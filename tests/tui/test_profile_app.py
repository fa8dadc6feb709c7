"""The participant profile in the moderator app (Pilot): set-up -> consent -> profile -> first
task, checked in the database; declined, out-of-range, back, cancel and resume."""

from __future__ import annotations

from tests.conftest import rows
from usetest import recorder, store
from usetest.clock import FakeClock
from usetest.scenario import parse_scenario
from usetest.tui.app import make_app
from usetest.tui.screens.modals import ConsentScreen
from usetest.tui.screens.profile import ProfileScreen
from usetest.tui.screens.setup import SetupScreen
from usetest.tui.screens.task import TaskScreen

PROFILED = parse_scenario("""\
study: Profiled study
tasks:
  - {id: first, title: First task, prompt: Do the first thing.}
  - {id: second, title: Second task, prompt: Do the second thing.}
profile:
  - id: age
    text: Which age band are you in?
    options: [18-29, 30-44, 45-59, 60+]
  - id: experience
    text: For how many years have you shopped online?
    type: number
    min: 0
    max: 60
  - id: device
    text: Which device do you use most?
    type: text
""", "profiled.yaml")


def profile_rows(db_path) -> list[dict]:
    return rows(db_path, "SELECT item, task_id, value_num, value_text, declined FROM answers "
                         "WHERE questionnaire = 'profile' ORDER BY event_seq")  # fmt: skip


def shown(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_setup_consent_profile_then_the_first_task(tmp_path):
    db_path = tmp_path / "p.db"
    app = make_app(PROFILED, db_path, clock=FakeClock())
    async with app.run_test() as pilot:
        assert isinstance(app.screen, SetupScreen)
        app.screen.query_one("#consent").value = True
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
        assert "question 1 of 3" in shown(app, "#profile-title")
        assert "Which age band" in shown(app, "#profile-text")
        assert not db_path.exists() or not store.list_sessions(store.open_read(db_path))
        await pilot.press("2")  # 30-44
        assert "For how many years" in shown(app, "#profile-text")
        await pilot.press(*"75", "enter")  # out of range: said so, not recorded
        assert isinstance(app.screen, ProfileScreen)
        assert "from 0 to 60" in shown(app, "#profile-message")
        app.screen.query_one("#profile-input").value = ""
        await pilot.press(*"12", "enter")
        await pilot.press(*"phone, mostly", "enter")
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "first"
        state = app.recording.session.state
        assert state.consent is not None and state.answer("profile", "experience").value == 12
    assert profile_rows(db_path) == [
        {"item": "age", "task_id": "", "value_num": None, "value_text": "30-44", "declined": 0},
        {"item": "experience", "task_id": "", "value_num": 12, "value_text": None, "declined": 0},
        {"item": "device", "task_id": "", "value_num": None, "value_text": "phone, mostly",
         "declined": 0},
    ]  # fmt: skip
    kinds = [r["kind"] for r in rows(db_path, "SELECT kind FROM events ORDER BY event_seq")]
    assert kinds[:5] == ["session_started", "consent_recorded", *["answer_recorded"] * 3]


async def test_declined_answers_are_stored_as_declined(tmp_path):
    db_path = tmp_path / "p.db"
    app = make_app(PROFILED, db_path, clock=FakeClock(), participant="P01")
    async with app.run_test() as pilot:
        assert isinstance(app.screen, ConsentScreen)
        await pilot.press("y")
        assert isinstance(app.screen, ProfileScreen)
        await pilot.press("d")  # the choice: declined
        await pilot.press("enter")  # the number, empty: declined
        await pilot.press("down", "enter")  # the text, empty (no arrow effect): declined
        assert isinstance(app.screen, TaskScreen)
    assert [(r["item"], r["declined"], r["value_num"], r["value_text"])
            for r in profile_rows(db_path)] == [
        ("age", 1, None, None), ("experience", 1, None, None), ("device", 1, None, None),
    ]  # fmt: skip


async def test_arrows_back_and_undo_leave_the_profile_alone(tmp_path):
    db_path = tmp_path / "p.db"
    app = make_app(PROFILED, db_path, clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        assert isinstance(app.screen, ProfileScreen)
        await pilot.press("down", "down", "enter")  # 45-59
        await pilot.press("escape")  # back to the age band: its answer highlighted
        assert "Which age band" in shown(app, "#profile-text")
        await pilot.press("4")  # 60+ instead
        await pilot.press(*"3", "enter")
        await pilot.press(*"laptop", "enter")
        assert isinstance(app.screen, TaskScreen)
        await pilot.press("u")  # nothing to undo: the profile is part of the set-up
        assert isinstance(app.screen, TaskScreen)
    assert [r["value_text"] or r["value_num"] for r in profile_rows(db_path)] == ["60+", 3, "laptop"]
    assert rows(db_path, "SELECT count(*) AS n FROM events WHERE kind = 'undo'") == [{"n": 0}]


async def test_escape_on_the_first_question_records_nothing(tmp_path):
    db_path = tmp_path / "p.db"
    app = make_app(PROFILED, db_path, clock=FakeClock())
    async with app.run_test() as pilot:
        app.screen.query_one("#participant").value = "P05"
        app.screen.query_one("#consent").value = True
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
        await pilot.press("1", "escape", "escape")
        assert isinstance(app.screen, SetupScreen)
        assert app.screen.query_one("#participant").value == "P05"  # as typed
        assert app.recording is None
    assert not db_path.exists()  # nothing is written until a session starts


async def test_answers_given_beforehand_are_not_asked_again(tmp_path):
    db_path = tmp_path / "p.db"
    app = make_app(PROFILED, db_path, clock=FakeClock(), participant="P01", consent=True,
                   profile={"age": "18-29", "device": None})  # fmt: skip
    async with app.run_test() as pilot:
        assert isinstance(app.screen, ProfileScreen)
        assert "question 1 of 1" in shown(app, "#profile-title")
        await pilot.press(*"7", "enter")
        assert isinstance(app.screen, TaskScreen)
    assert [(r["item"], r["value_text"] or r["value_num"], r["declined"])
            for r in profile_rows(db_path)] == [
        ("age", "18-29", 0), ("experience", 7, 0), ("device", None, 1),
    ]  # fmt: skip


async def test_all_answers_given_beforehand_go_straight_to_the_first_task(tmp_path):
    db_path = tmp_path / "p.db"
    app = make_app(PROFILED, db_path, clock=FakeClock(), participant="P01", consent=True,
                   profile={"age": "18-29", "experience": 2, "device": "tablet"})  # fmt: skip
    async with app.run_test():
        assert isinstance(app.screen, TaskScreen)
    assert len(profile_rows(db_path)) == 3


async def test_a_resumed_session_does_not_ask_the_profile_again(tmp_path):
    db_path = tmp_path / "p.db"
    db = store.open_db(db_path)
    recorder.start(db, PROFILED, "P01", clock=FakeClock(), consent="in the app",
                   profile={"age": "30-44", "experience": 4, "device": None})  # fmt: skip
    db.close()
    app = make_app(PROFILED, db_path, clock=FakeClock(), resume=True, participant="P01")
    async with app.run_test():
        assert isinstance(app.screen, TaskScreen)
    assert len(profile_rows(db_path)) == 3


async def test_a_taken_code_is_refused_before_the_profile_is_asked(tmp_path):
    db_path = tmp_path / "p.db"
    db = store.open_db(db_path)
    recorder.start(db, PROFILED, "P01", clock=FakeClock(), consent="in the app")
    db.close()
    app = make_app(PROFILED, db_path, clock=FakeClock())
    async with app.run_test() as pilot:
        app.screen.query_one("#participant").value = "P01"
        app.screen.query_one("#consent").value = True
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SetupScreen)  # offered the next free code instead
        assert app.screen.query_one("#participant").value == "P02"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
