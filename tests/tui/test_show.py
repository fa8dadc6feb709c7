"""The participant's screen (``usetest show``): it follows a session recorded through the engine
on the same database file, and shows only what the participant may see.

Each test records with the engine (``recorder.start`` and the session's commands, as the
moderator's app does) while the real :class:`ShowApp` reads the file; what the screen shows is
read from the whole screen as drawn (a screenshot's text), so nothing hidden anywhere counts.
"""

from __future__ import annotations

import html
import re
import sqlite3
import time
from dataclasses import fields, replace

from click.testing import CliRunner

from tests.conftest import demo_without_profile
from usetest import recorder, store
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.events import Consent, SessionState, initial_state
from usetest.scenario import parse_scenario
from usetest.tui.show import Follower, ParticipantScreen, ShowApp, participant_view

DEMO = demo_without_profile()
SIZE = (80, 24)

MARKUP_YAML = """\
study: Markup study
product: the shop
task_order: fixed
tasks:
  - id: find
    title: Find a [b]kettle[/b]
    prompt: Find a kettle under $40 [red]now[/red] and add it to the cart.
    success: SECRET-CRITERION kettle in cart
    notes: SECRET-NOTES watch the search box
    after: [feel]
  - id: pay
    title: Pay
    prompt: Pay for it.
    success: SECRET-CRITERION paid
questionnaires:
  - id: feel
    title: Feelings
    at_end: false
    items:
      - {id: calm, type: likert, points: 5, text: "How calm did you feel?", low: Tense, high: Calm}
      - {id: why, type: text, text: "Anything else?"}
  - nps
"""


def screen_text(app: ShowApp) -> str:
    """Every character on the screen as drawn (an SVG screenshot, back to plain text)."""
    svg = app.export_screenshot()
    text = " ".join(re.findall(r">([^<]*)</text>", svg))
    return re.sub(r"\s+", " ", html.unescape(text).replace("\xa0", " "))


async def until(pilot, app: ShowApp, text: str, seconds: float = 10.0) -> str:
    """The screen once ``text`` is on it (a bound for a loaded machine, not a timing claim)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        shown = screen_text(app)
        if text in shown:
            return shown
        await pilot.pause(0.05)
    raise AssertionError(f"{text!r} not shown; the screen shows: {screen_text(app)}")


def never_moderators(shown: str, loaded) -> None:
    for task in loaded.scenario.tasks:
        assert task.success not in shown
        if task.notes:
            assert task.notes not in shown


async def test_the_screen_follows_tasks_and_questions_and_shows_nothing_of_the_moderators(tmp_path):
    db_path = tmp_path / "s.db"
    db = store.open_db(db_path)
    rec = recorder.start(db, DEMO, "P01", "AB", consent="in the app")
    session = rec.session
    first, second, third = session.state.order
    sc = DEMO.scenario
    app = ShowApp(Follower(db_path))
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, ParticipantScreen)
        shown = await until(pilot, app, "Please wait")
        assert sc.task(first).title not in shown  # not before the clock starts
        session.start(first)
        shown = await until(pilot, app, sc.task(first).title)
        assert "Open any news website" in shown and "Your task" in shown
        never_moderators(shown, DEMO)
        session.log_error("n", note="went to settings")
        session.log_note("they hesitate", "observation")
        session.log_assist()
        session.pause("phone")
        await pilot.pause(0.4)
        shown = screen_text(app)
        assert sc.task(first).title in shown  # the prompt stays while the clock is paused
        for hidden in ("went to settings", "they hesitate", "phone", "error", "assist", "00:0"):
            assert hidden not in shown
        never_moderators(shown, DEMO)
        session.resume()
        session.end("success")
        await until(pilot, app, "Overall, how difficult or easy was the task")
        shown = await until(pilot, app, "Very easy")  # the scale may come a frame later
        assert "Overall, how difficult or easy was the task" in shown
        assert "Very difficult" in shown and "Very easy" in shown
        assert all(f" {n} " in shown for n in range(1, 8))
        assert f"About the task “{sc.task(first).title}”" in shown
        assert "success" not in shown
        session.answer("seq", "seq", 6, task_id=first)
        shown = await until(pilot, app, "Please wait")  # between tasks
        assert "Overall, how difficult" not in shown and sc.task(second).title not in shown
        session.undo()  # the moderator takes the answer back: the question is shown again
        await until(pilot, app, "Overall, how difficult")
        session.answer("seq", "seq", 5, task_id=first)
        await until(pilot, app, "Please wait")
        session.start(second)
        shown = await until(pilot, app, sc.task(second).title)
        never_moderators(shown, DEMO)
        session.end("fail")
        session.answer("seq", "seq", 2, task_id=second)
        session.start(third)
        await until(pilot, app, sc.task(third).title)
        session.end("skipped")  # a skipped task has no SEQ: the SUS comes next
        shown = await until(pilot, app, "I think that I would like to use this system")
        assert "1 of 10" in shown and "Strongly disagree" in shown and "Strongly agree" in shown
        for i in range(1, 11):
            session.answer("sus", f"sus{i}", 3)
        await until(pilot, app, "Thank you")
        session.complete()
        await pilot.pause(0.4)
        assert "Thank you" in screen_text(app)  # stays until the next session starts
        rec2 = recorder.start(db, DEMO, "P02", "AB", consent="in the app")
        shown = await until(pilot, app, "Please wait")
        rec2.session.start(rec2.session.state.order[0])
        await until(pilot, app, sc.task(rec2.session.state.order[0]).title)
    db.close()


async def test_a_resumed_session_is_followed(tmp_path):
    db_path = tmp_path / "s.db"
    db = store.open_db(db_path)
    rec = recorder.start(db, DEMO, "P01", consent="in the app", claim=True)
    first = rec.session.state.order[0]
    rec.session.start(first)
    app = ShowApp(Follower(db_path))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app, DEMO.scenario.task(first).title)
        # the moderator's app is closed (here: its claim released, its connection closed) …
        recorder.release(db, rec)
        db.close()
        await pilot.pause(0.4)
        assert DEMO.scenario.task(first).title in screen_text(app)
        # … and started again with --resume: the task was interrupted and waits, paused
        db = store.open_db(db_path)
        again, _ = recorder.resume(db, rec.record.id, claim=True)
        assert again.session.state.tasks[first].status == "paused"
        await pilot.pause(0.4)
        assert DEMO.scenario.task(first).title in screen_text(app)
        again.session.resume()
        again.session.end("partial")
        await until(pilot, app, "Overall, how difficult")
        recorder.release(db, again)
    db.close()


async def test_scenario_texts_are_shown_literally_and_after_task_questions_with_their_scale(tmp_path):
    loaded = parse_scenario(MARKUP_YAML, "markup.yaml")
    db_path = tmp_path / "s.db"
    db = store.open_db(db_path)
    rec = recorder.start(db, loaded, "P01", consent="in the app")
    s = rec.session
    app = ShowApp(Follower(db_path), prompt_when="current")
    async with app.run_test(size=(160, 45)) as pilot:
        # --prompt current: the prompt is there before the clock starts
        shown = await until(pilot, app, "Find a [b]kettle[/b]")
        assert "[red]now[/red]" in shown
        never_moderators(shown, loaded)
        s.start("find")
        s.end("success")
        s.answer("seq", "seq", 7, task_id="find")
        shown = await until(pilot, app, "How calm did you feel?")
        assert "Tense" in shown and "Calm" in shown and "1 of 2" in shown
        s.answer("feel", "calm", 4, task_id="find")
        shown = await until(pilot, app, "Anything else?")
        assert "in your own words" in shown
        s.answer("feel", "why", "fine", task_id="find")
        shown = await until(pilot, app, "Pay for it.")  # current: shown before the start
        never_moderators(shown, loaded)
        s.start("pay")
        s.end("success")
        s.answer("seq", "seq", 7, task_id="pay")
        shown = await until(pilot, app, "How likely is it that you would recommend the shop")
        assert "Not at all likely" in shown and "Extremely likely" in shown
        assert " 0 " in shown and " 10 " in shown
    db.close()


async def test_it_waits_for_a_session_and_for_a_named_participant(tmp_path):
    db_path = tmp_path / "s.db"
    db = store.open_db(db_path)
    old = recorder.start(db, DEMO, "P01", consent="in the app")
    old.session.abandon("left")
    app = ShowApp(Follower(db_path))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app, "Waiting for a session to start")
    app = ShowApp(Follower(db_path, participant="P07"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app, "Waiting for P07's session to start")
        other = recorder.start(db, DEMO, "P06", consent="in the app")
        other.session.start(other.session.state.order[0])
        await pilot.pause(0.4)
        assert "Waiting for P07's session" in screen_text(app)  # not P06's
        mine = recorder.start(db, DEMO, "P07", consent="in the app")
        await until(pilot, app, "Please wait")
        mine.session.start(mine.session.state.order[0])
        await until(pilot, app, DEMO.scenario.task(mine.session.state.order[0]).title)
    db.close()


async def test_the_database_is_only_read(tmp_path):
    db_path = tmp_path / "s.db"
    db = store.open_db(db_path)
    rec = recorder.start(db, DEMO, "P01", consent="in the app")
    rec.session.start(rec.session.state.order[0])
    db.close()
    before = db_path.read_bytes()
    app = ShowApp(Follower(db_path))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app, "Your task")
        await pilot.pause(0.6)
    assert db_path.read_bytes() == before


async def test_a_file_damaged_while_shown_ends_the_screen_with_a_message(tmp_path):
    db_path = tmp_path / "s.db"
    db = store.open_db(db_path)
    recorder.start(db, DEMO, "P01", consent="in the app")
    db.close()
    follower = Follower(db_path)
    app = ShowApp(follower)

    def broken() -> None:
        raise store.StoreError(f"{db_path} is damaged — restore it from a backup")

    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app, "Please wait")
        follower.poll = broken  # type: ignore[method-assign]
        await pilot.pause(0.5)
    assert app.return_value == f"{db_path} is damaged — restore it from a backup"


def test_the_view_has_nothing_but_what_the_participant_may_see():
    sc = DEMO.scenario
    state: SessionState = initial_state([t.id for t in sc.tasks])
    view = participant_view(sc, state)
    assert view.kind == "wait"
    # "current": not while the moderator is still at the set-up (consent not yet recorded)
    assert participant_view(sc, state, "current").kind == "wait"
    consented = replace(state, consent=Consent("2026-11-24T10:00:00.000Z", "ok", "in the app"))
    view = participant_view(sc, consented, "current")
    assert (view.kind, view.title, view.text) == ("task", sc.tasks[0].title, sc.tasks[0].prompt)
    shown = " ".join(str(getattr(view, f.name)) for f in fields(view))
    assert sc.tasks[0].success not in shown and (sc.tasks[0].notes or "-") not in shown


def test_the_command_refuses_a_missing_damaged_or_foreign_file(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["show", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "does not exist" in result.output
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all, just some bytes" * 100)
    result = runner.invoke(cli, ["show", str(bad)])
    assert result.exit_code == 1 and "usetest:" in result.output
    assert "Traceback" not in result.output
    db = store.open_db(tmp_path / "ok.db")
    recorder.start(db, DEMO, "P01", clock=FakeClock(), consent="in the app")
    db.close()
    result = runner.invoke(cli, ["show", str(tmp_path / "ok.db")])  # stdin is not a terminal
    assert result.exit_code == 2 and "needs a terminal" in result.output
    result = runner.invoke(cli, ["show", str(tmp_path / "ok.db"), "--participant", "P\x1b[2J"])
    assert result.exit_code == 2 and "participant code" in result.output


def _recorded(tmp_path, steps) -> ShowApp:
    """A session recorded up to ``steps(session)``, and the participant's screen on it."""
    db = store.open_db(tmp_path / "s.db")
    rec = recorder.start(db, DEMO, "P01", clock=FakeClock(), consent="in the app")
    steps(rec.session)
    db.close()
    return ShowApp(Follower(tmp_path / "s.db"))


def _at_sus(session) -> None:
    for task_id in session.state.order:
        session.start(task_id)
        session.end("success")
        session.answer("seq", "seq", 6, task_id=task_id)


def test_snapshot_task_prompt(snap_compare, tmp_path):
    app = _recorded(tmp_path, lambda s: s.start(s.state.order[0]))
    assert snap_compare(app, terminal_size=SIZE)


def test_snapshot_task_prompt_on_a_big_screen(snap_compare, tmp_path):
    app = _recorded(tmp_path, lambda s: s.start(s.state.order[0]))
    assert snap_compare(app, terminal_size=(160, 45))


def test_snapshot_sus_item(snap_compare, tmp_path):
    assert snap_compare(_recorded(tmp_path, _at_sus), terminal_size=SIZE)


def test_snapshot_please_wait(snap_compare, tmp_path):
    assert snap_compare(_recorded(tmp_path, lambda s: None), terminal_size=SIZE)


async def test_a_database_of_an_older_schema_is_followed_once_the_moderators_app_migrates_it(
        tmp_path):  # fmt: skip
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    store._v1_initial(store._import_sqlite_utils().Database(conn))
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    app = ShowApp(Follower(path))  # read through a migrated copy: the file is not touched
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app, "Waiting for a session to start")
        db = store.open_db(path)  # the moderator's app migrates the file and starts a session
        rec = recorder.start(db, DEMO, "P01", consent="in the app")
        rec.session.start(rec.session.state.order[0])
        await until(pilot, app, DEMO.scenario.task(rec.session.state.order[0]).title)
        db.close()
