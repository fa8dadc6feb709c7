"""The `d` key: a participant declines a rating (SEQ, SUS item, custom Likert), driven by Pilot
and checked in the database; the session summary scores the SUS from nine items."""

from __future__ import annotations

from tests.conftest import demo_without_profile, rows
from usetest.clock import FakeClock
from usetest.scenario import parse_scenario
from usetest.tui.app import make_app
from usetest.tui.screens.questionnaire import QuestionnaireScreen
from usetest.tui.screens.summary import SummaryScreen
from usetest.tui.screens.task import TaskScreen
from usetest.tui.widgets.likert import LikertScale

DEMO = demo_without_profile()



def shown(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_d_declines_the_seq_and_a_sus_item_which_is_scored_from_nine(tmp_path):
    db_path = tmp_path / "demo.db"
    clock = FakeClock()
    app = make_app(DEMO, db_path, clock=clock, participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space")
        clock.advance(30)
        await pilot.press("s")
        assert isinstance(app.screen, QuestionnaireScreen)  # SEQ
        assert "d if the participant declines" in shown(app, "#q-current")
        await pilot.press("d")
        assert isinstance(app.screen, TaskScreen) and app.screen.task_id == "private-window"
        assert app.recording.session.state.answer("seq", "seq", "bookmark").declined
        await pilot.press("x", "x")  # skip the other two tasks: the SUS
        assert isinstance(app.screen, QuestionnaireScreen)
        await pilot.press("4", "d")  # item 2 declined
        assert "3 of 10" in shown(app, "#q-progress")
        await pilot.press("backspace")  # back to item 2: it says declined, no point selected
        assert "2 of 10" in shown(app, "#q-progress")
        assert "recorded: declined" in shown(app, "#q-current")
        scale = shown(app, "#q-scale")
        assert "declined" in scale
        await pilot.press("d")  # still declined: on to item 3
        for answer in "52514231":
            await pilot.press(answer)
        assert isinstance(app.screen, SummaryScreen)
        await app.workers.wait_for_complete()  # the SUS is scored in a thread
        await pilot.pause()
        # contributions without item 2: 3+4+3+4+4+3+3+2+4 = 30 -> 30 × 100/36 = 83.3
        line = shown(app, "#summary-sus")
        assert "SUS 83.3" in line and "scored from nine items" in line
        table = app.screen.query_one("#summary-table")
        assert table.get_row_at(0)[-1] == "declined"  # the SEQ column of the first task
        await pilot.press("q")
    sus = rows(db_path, "SELECT item, value_num, declined FROM answers WHERE questionnaire = 'sus'"
                        " ORDER BY CAST(substr(item, 4) AS INTEGER)")  # fmt: skip
    assert [r["value_num"] for r in sus] == [4, None, 5, 2, 5, 1, 4, 2, 3, 1]
    assert [r["declined"] for r in sus] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert rows(db_path, "SELECT value_num, declined FROM answers WHERE questionnaire = 'seq'") == [
        {"value_num": None, "declined": 1}]  # fmt: skip
    [bookmark] = rows(db_path, "SELECT seq_rating FROM attempts WHERE task_id = 'bookmark'")
    assert bookmark == {"seq_rating": None}


async def test_two_declined_sus_items_leave_no_score(tmp_path):
    app = make_app(DEMO, tmp_path / "demo.db", clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("x", "x", "x", "d", "d", *"52514231")
        assert isinstance(app.screen, SummaryScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "no SUS score: 2 items declined" in shown(app, "#summary-sus")


STUDY = parse_scenario("""\
study: Custom items
tasks:
  - {id: one, title: Task one, prompt: Do one., seq: false}
questionnaires:
  - nps
  - id: trust
    title: Trust
    items:
      - {id: safe, text: I would trust it.}
      - {id: why, type: text, text: "Why?"}
""", "custom.yaml")  # fmt: skip


def declining(app) -> bool:
    """The `d` binding is active (and so shown in the footer)."""
    return any(b.binding.id == "q-decline" and b.enabled
               for b in app.screen.active_bindings.values())  # fmt: skip


async def test_d_declines_nps_and_a_custom_likert_item_but_types_into_a_text_item(tmp_path):
    db_path = tmp_path / "custom.db"
    app = make_app(STUDY, db_path, clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("x")
        assert isinstance(app.screen, QuestionnaireScreen)  # NPS, 0–10: typed, then Enter
        assert declining(app)
        await pilot.press("1", "d")  # a half-typed number is dropped: declined, no number
        await pilot.press("d")  # the custom Likert item
        assert app.screen.query_one("#q-scale", LikertScale).display is False  # the text item
        assert not declining(app)  # nor shown in the footer
        await pilot.press("d", "enter")  # a letter of the answer, not a decline
        assert isinstance(app.screen, SummaryScreen)
    answers = rows(db_path, "SELECT item, value_num, value_text, declined FROM answers"
                            " ORDER BY item")  # fmt: skip
    assert answers == [
        {"item": "nps", "value_num": None, "value_text": None, "declined": 1},
        {"item": "safe", "value_num": None, "value_text": None, "declined": 1},
        {"item": "why", "value_num": None, "value_text": "d", "declined": 0},
    ]
