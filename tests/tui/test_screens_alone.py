"""Screens get their data and report back with messages: each runs in a bare Textual app (not
UsetestApp) given only what its constructor takes, and what it sends up is what the app acts
on. Keys typed after a screen reported its end are dropped, not acted on twice."""

from __future__ import annotations

from textual import on
from textual.app import App
from textual.message import Message

from tests.conftest import demo_without_profile
from usetest import recorder, store
from usetest.clock import FakeClock
from usetest.flow import next_step
from usetest.tui.messages import SessionMoved, UndoRequested
from usetest.tui.screens.questionnaire import QuestionnaireScreen
from usetest.tui.screens.summary import SummaryScreen
from usetest.tui.screens.task import TaskScreen


class Bare(App[None]):
    """Shows one screen; keeps the messages that reach it and the commands it is asked to run."""

    def __init__(self, screen_factory) -> None:
        super().__init__()
        self.factory = screen_factory
        self.received: list[Message] = []
        self.commands = 0

    def perform(self, command):
        self.commands += 1
        return command()

    def on_mount(self) -> None:
        self.push_screen(self.factory(self))

    @on(SessionMoved)
    @on(UndoRequested)
    @on(QuestionnaireScreen.Finished)
    @on(SummaryScreen.NextParticipant)
    def _received(self, message: Message) -> None:
        self.received.append(message)


def recording():
    loaded = demo_without_profile()
    return recorder.start(store.open_db(None), loaded, "P01", clock=FakeClock())


async def test_the_task_screen_runs_commands_through_perform_and_reports_the_end():
    rec = recording()
    first = rec.session.state.order[0]
    app = Bare(lambda a: TaskScreen(rec, first, a.perform, by="AB"))
    async with app.run_test() as pilot:
        await pilot.press("space", "a", "u")
        assert app.commands == 2 and rec.session.state.tasks[first].assists == 1
        await pilot.pause()
        assert [type(m) for m in app.received] == [UndoRequested]  # the app undoes, not the screen
        await pilot.press("s", "s", "f")  # the task ended: the keys after the first are dropped
        await pilot.pause()
        assert app.commands == 3 and rec.session.state.tasks[first].outcome == "success"
        assert [type(m) for m in app.received] == [UndoRequested, SessionMoved]


async def test_the_questionnaire_screen_asks_its_step_and_reports_when_finished():
    rec = recording()
    first = rec.session.state.order[0]
    rec.session.start(first)
    rec.session.end("success", first)
    step = next_step(rec.loaded.scenario, rec.session.state)
    titles = {t.id: t.title for t in rec.loaded.scenario.tasks}
    app = Bare(lambda a: QuestionnaireScreen(step, rec.session, a.perform, titles))
    async with app.run_test() as pilot:
        assert str(app.screen.query_one("#q-title").render()).endswith(f"“{titles[first]}”")
        await pilot.press("6", "5", "4")  # the SEQ is one item: the keys after it are dropped
        await pilot.pause()
        assert app.commands == 1 and rec.session.state.answer("seq", "seq", first).value == 6
        (finished,) = app.received
        assert isinstance(finished, QuestionnaireScreen.Finished)
        assert finished.group == ("after", first) and finished.questions == step.questions


async def test_the_summary_asks_the_app_for_the_next_participant():
    rec = recording()
    for task in rec.session.state.order:
        rec.session.end("skipped", task)
    app = Bare(lambda a: SummaryScreen(rec, a.perform, None, by=None))
    async with app.run_test() as pilot:
        await pilot.press("r")  # no database file: said so, nothing pushed
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("n")
        await pilot.pause()
        assert [type(m) for m in app.received] == [SummaryScreen.NextParticipant]


async def test_backspace_edits_a_text_answer_then_goes_back_once_it_is_empty(tmp_path):
    from tests.tui.test_after_task_app import STUDY

    rec = recorder.start(store.open_db(None), STUDY, "P01", clock=FakeClock())
    rec.session.start("one")
    rec.session.end("success", "one")
    rec.session.answer("seq", "seq", 5, task_id="one")
    rec.session.answer("ces", "ces", 5, task_id="one")
    rec.session.answer("mine", "calm", 3, task_id="one")
    step = next_step(STUDY.scenario, rec.session.state)
    app = Bare(lambda a: QuestionnaireScreen(step, rec.session, a.perform, {"one": "Task one"}))
    async with app.run_test() as pilot:
        screen = app.screen
        assert screen.question.item.id == "why"
        await pilot.press("a", "b", "backspace")
        assert screen.query_one("#q-input").value == "a" and screen.question.item.id == "why"
        await pilot.press("backspace", "backspace")
        assert screen.question.item.id == "calm" and "recorded: 3" in str(
            screen.query_one("#q-current").render())
        await pilot.press("4", *"because", "enter")
        await pilot.pause()
        assert rec.session.state.answer("mine", "calm", "one").value == 4
        assert rec.session.state.answer("mine", "why", "one").value == "because"
        assert [type(m) for m in app.received] == [QuestionnaireScreen.Finished]
        assert rec.session.state.passed == frozenset()  # all answered: nothing passed
