"""A task's `after:` questionnaires in the app: asked after its SEQ (or at once without one), on
the questionnaire screen, answers stored per task; `d` declines; a resume continues where the
questions stopped; a text item left empty does not bring them back once the next task began."""

from __future__ import annotations

from tests.conftest import rows
from usetest.clock import FakeClock
from usetest.scenario import parse_scenario
from usetest.tui.app import make_app
from usetest.tui.screens.questionnaire import QuestionnaireScreen
from usetest.tui.screens.summary import SummaryScreen
from usetest.tui.screens.task import TaskScreen

STUDY = parse_scenario("""\
study: After tasks
product: the shop
tasks:
  - {id: one, title: Task one, prompt: Do one., after: [ces, mine]}
  - {id: two, title: Task two, prompt: Do two., seq: false, after: [csat]}
questionnaires:
  - id: mine
    title: Mine
    at_end: false
    items:
      - {id: calm, text: I felt calm., points: 7}
      - {id: why, type: text, text: "Why?"}
""", "after.yaml")  # fmt: skip

ANSWERS = ("SELECT questionnaire, item, task_id, value_num, value_text, declined FROM answers"
           " ORDER BY event_seq")  # fmt: skip


def shown(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def asking(app) -> tuple[str, str, str | None]:
    q = app.screen.question
    return q.questionnaire.id, q.item.id, q.task_id


async def test_after_questionnaires_follow_the_seq_and_are_stored_per_task(tmp_path):
    db_path = tmp_path / "after.db"
    clock = FakeClock()
    app = make_app(STUDY, db_path, clock=clock, participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space")
        clock.advance(30)
        await pilot.press("s")
        assert isinstance(app.screen, QuestionnaireScreen) and asking(app) == ("seq", "seq", "one")
        await pilot.press("6")
        assert asking(app) == ("ces", "ces", "one")
        assert shown(app, "#q-title") == "After the task “Task one”"
        assert shown(app, "#q-text") == "The shop made it easy for me to complete this task."
        assert "d if the participant declines" in shown(app, "#q-current")
        await pilot.press("d")  # declined
        assert asking(app) == ("mine", "calm", "one")
        await pilot.press("9")  # off the 1–7 scale: nothing recorded
        assert asking(app) == ("mine", "calm", "one")
        await pilot.press("5")
        assert asking(app) == ("mine", "why", "one")
        await pilot.press(*"ok", "enter")
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "two"
        await pilot.press("space")
        clock.advance(10)
        await pilot.press("f")  # no SEQ for two: its CSAT at once
        assert isinstance(app.screen, QuestionnaireScreen) and asking(app) == ("csat", "csat", "two")
        assert shown(app, "#q-text") == "Overall, how satisfied are you with the shop?"
        await pilot.press("4")
        assert isinstance(app.screen, SummaryScreen)
    assert rows(db_path, ANSWERS) == [
        {"questionnaire": "seq", "item": "seq", "task_id": "one", "value_num": 6,
         "value_text": None, "declined": 0},
        {"questionnaire": "ces", "item": "ces", "task_id": "one", "value_num": None,
         "value_text": None, "declined": 1},
        {"questionnaire": "mine", "item": "calm", "task_id": "one", "value_num": 5,
         "value_text": None, "declined": 0},
        {"questionnaire": "mine", "item": "why", "task_id": "one", "value_num": None,
         "value_text": "ok", "declined": 0},
        {"questionnaire": "csat", "item": "csat", "task_id": "two", "value_num": 4,
         "value_text": None, "declined": 0},
    ]  # fmt: skip
    assert rows(db_path, "SELECT status FROM sessions") == [{"status": "completed"}]


async def test_a_skipped_task_asks_nothing_after_it(tmp_path):
    db_path = tmp_path / "after.db"
    app = make_app(STUDY, db_path, clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("x")
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "two"
    assert rows(db_path, ANSWERS) == []


async def test_resume_continues_the_after_questionnaires_where_they_stopped(tmp_path):
    db_path = tmp_path / "after.db"
    clock = FakeClock()
    app = make_app(STUDY, db_path, clock=clock, participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space", "s", "6", "3")  # SEQ 6, CES 3; then the app is gone
        assert asking(app) == ("mine", "calm", "one")
    app = make_app(STUDY, db_path, clock=FakeClock(start_ms=50), participant="P01", resume=True)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert isinstance(app.screen, QuestionnaireScreen)
        assert asking(app) == ("mine", "calm", "one")
        await pilot.press("backspace")  # back to the CES: it shows what was recorded
        assert asking(app) == ("ces", "ces", "one")
        assert "recorded: 3" in shown(app, "#q-current")
        await pilot.press("4", "2", "enter")  # CES changed to 4, calm 2, why left empty
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "two"
        await pilot.press("space")  # task two begins
    # another resume: the empty text item of task one is not asked again
    app = make_app(STUDY, db_path, clock=FakeClock(start_ms=90), participant="P01", resume=True)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "two"
    assert rows(db_path, ANSWERS) == [
        {"questionnaire": "seq", "item": "seq", "task_id": "one", "value_num": 6,
         "value_text": None, "declined": 0},
        {"questionnaire": "ces", "item": "ces", "task_id": "one", "value_num": 4,
         "value_text": None, "declined": 0},
        {"questionnaire": "mine", "item": "calm", "task_id": "one", "value_num": 2,
         "value_text": None, "declined": 0},
    ]  # fmt: skip


async def test_undo_of_an_after_answer_goes_back_to_it(tmp_path):
    db_path = tmp_path / "after.db"
    app = make_app(STUDY, db_path, clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space", "s", "6", "3", "5", "enter")
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "two"
        await pilot.press("u")  # takes back "why" left empty: asked again
        assert isinstance(app.screen, QuestionnaireScreen)
        assert asking(app) == ("mine", "why", "one")
        await pilot.press("backspace")  # (u types into a text item) back to calm = 5
        assert asking(app) == ("mine", "calm", "one")
        await pilot.press("7", "enter")
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "two"
    assert rows(db_path, "SELECT item, value_num FROM answers WHERE questionnaire = 'mine'") == [
        {"item": "calm", "value_num": 7}]  # fmt: skip


LAST = parse_scenario("""\
study: After the last task
tasks:
  - {id: only, title: The only task, prompt: Do it., after: [csat, mine]}
questionnaires:
  - csat
  - id: mine
    title: Mine
    at_end: false
    items:
      - {id: why, type: text, text: "Why?"}
""", "last.yaml")  # fmt: skip


async def test_csat_after_the_last_task_and_again_at_the_end_are_two_answers(tmp_path):
    db_path = tmp_path / "last.db"
    app = make_app(LAST, db_path, clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space", "s", "5")
        assert asking(app) == ("csat", "csat", "only")
        await pilot.press("2", "enter")  # CSAT for the task; the text item left empty
        assert asking(app) == ("csat", "csat", None)  # the end of the session
        assert shown(app, "#q-text") == "Overall, how satisfied are you with this product?"
        await pilot.press("4")
        assert isinstance(app.screen, SummaryScreen)
    assert rows(db_path, "SELECT questionnaire, task_id, value_num FROM answers"
                         " WHERE questionnaire = 'csat' ORDER BY event_seq") == [
        {"questionnaire": "csat", "task_id": "only", "value_num": 2},
        {"questionnaire": "csat", "task_id": "", "value_num": 4},
    ]  # fmt: skip


async def test_a_text_item_left_empty_stays_passed_when_the_app_restarts(tmp_path):
    """Going on from an empty text item is an event (questions_passed), not an answer: a
    resumed app (and the participant's screen) does not go back to it, analyses see no answer."""
    db_path = tmp_path / "after.db"
    app = make_app(STUDY, db_path, clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space", "s", "6", "3", "5", "enter")  # "why" left empty
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "two"
    app = make_app(STUDY, db_path, clock=FakeClock(start_ms=50), participant="P01", resume=True)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "two"
    assert rows(db_path, "SELECT kind, task_id, payload FROM events"
                         " WHERE kind = 'questions_passed'") == [
        {"kind": "questions_passed", "task_id": "one", "payload": '{"unanswered": [["mine", "why"]]}'},
    ]  # fmt: skip
    assert rows(db_path, "SELECT item FROM answers WHERE questionnaire = 'mine'") == [
        {"item": "calm"}]  # fmt: skip
