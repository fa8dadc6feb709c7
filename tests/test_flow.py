"""What comes next (usetest.flow.next_step), without Pilot: the order of tasks, SEQ, ``after:``
questionnaires and the end-of-session ones; skipped tasks, ``seq: false``, text items left
empty (passed groups), undo, resume, and a completed session."""

from __future__ import annotations

import pytest

from tests.test_session import ListSink
from usetest.clock import FakeClock
from usetest.events import SessionError, replay
from usetest.flow import Step, next_step
from usetest.scenario import parse_scenario
from usetest.session import Session

STUDY = """\
study: Flow
tasks:
  - id: one
    title: Task one
    prompt: Do one.
    after: [ces, feel]
  - id: two
    title: Task two
    prompt: Do two.
    seq: false
    after: [csat]
  - id: three
    title: Task three
    prompt: Do three.
questionnaires:
  - umux-lite
  - id: feel
    title: How it felt
    at_end: false
    items:
      - {id: calm, text: I felt calm., points: 7}
      - {id: why, type: text, text: "Why?"}
  - id: last
    title: Last words
    items:
      - {id: words, type: text, text: "Anything else?"}
"""


@pytest.fixture
def scenario():
    return parse_scenario(STUDY, "flow.yaml").scenario


def begin(scenario, order=("one", "two", "three"), sink=None) -> Session:
    return Session.begin(scenario, list(order), FakeClock(), sink or ListSink(), participant="P01")


def asked(step: Step) -> list[tuple[str, str, str | None]]:
    """The questions of a step as (questionnaire, item, task) from its index on."""
    return [(q.questionnaire.id, q.item.id, q.task_id) for q in step.questions[step.index :]]


def run(session: Session, task_id: str, outcome: str = "success") -> None:
    session.start(task_id)
    session.end(outcome, task_id)


def answer_after_one(session: Session) -> None:
    session.answer("seq", "seq", 5, task_id="one")
    session.answer("ces", "ces", 6, task_id="one")
    session.answer("feel", "calm", 4, task_id="one")
    session.answer("feel", "why", "it was quiet", task_id="one")


def test_a_new_session_starts_at_its_first_task_in_the_session_order(scenario):
    assert next_step(scenario, begin(scenario).state) == Step("task", "one")
    s = begin(scenario, ("three", "one", "two"))
    assert next_step(scenario, s.state) == Step("task", "three")
    s.start("three")  # running, then paused: still that task
    assert next_step(scenario, s.state) == Step("task", "three")
    s.pause("tea", "three")
    assert next_step(scenario, s.state) == Step("task", "three")
    assert next_step(scenario, s.state).question is None


def test_the_whole_fixed_order(scenario):
    s = begin(scenario)
    run(s, "one")
    step = next_step(scenario, s.state)
    assert (step.kind, step.task_id, step.group) == ("questions", "one", ("after", "one"))
    assert asked(step) == [("seq", "seq", "one")] and step.question.questionnaire.id == "seq"
    s.answer("seq", "seq", 6, task_id="one")
    step = next_step(scenario, s.state)
    assert step.group == ("after", "one") and step.index == 0
    assert asked(step) == [("ces", "ces", "one"), ("feel", "calm", "one"), ("feel", "why", "one")]
    s.answer("ces", "ces", 6, task_id="one")
    step = next_step(scenario, s.state)
    assert step.index == 1 and step.question.item.id == "calm"  # from the first not answered
    s.answer("feel", "calm", 4, task_id="one")
    s.answer("feel", "why", "calm enough", task_id="one")
    assert next_step(scenario, s.state) == Step("task", "two")
    run(s, "two")  # seq: false: straight to its after: list
    step = next_step(scenario, s.state)
    assert asked(step) == [("csat", "csat", "two")] and step.group == ("after", "two")
    s.answer("csat", "csat", 4, task_id="two")
    assert next_step(scenario, s.state) == Step("task", "three")
    run(s, "three")
    assert asked(next_step(scenario, s.state)) == [("seq", "seq", "three")]
    s.decline("seq", "seq", task_id="three")  # a declined rating is an answer
    step = next_step(scenario, s.state)
    assert (step.kind, step.task_id, step.group) == ("questions", None, ("end", ""))
    assert asked(step) == [("umux-lite", "umux1", None), ("umux-lite", "umux2", None),
                           ("last", "words", None)]  # fmt: skip
    s.answer("umux-lite", "umux1", 5)
    s.answer("umux-lite", "umux2", 6)
    s.answer("last", "words", "fine")
    assert next_step(scenario, s.state) == Step("summary")
    s.complete()
    assert next_step(scenario, s.state) == Step("summary")


def test_a_skipped_task_asks_nothing_after_it(scenario):
    s = begin(scenario)
    s.end("skipped", "one")  # skipped before it started
    assert next_step(scenario, s.state) == Step("task", "two")
    s.start("two")
    s.end("skipped", "two")  # skipped after it started: still nothing
    assert next_step(scenario, s.state) == Step("task", "three")


def test_a_text_item_left_empty_is_asked_until_the_moderator_passes_it(scenario):
    s = begin(scenario)
    run(s, "one")
    s.answer("seq", "seq", 5, task_id="one")
    s.answer("ces", "ces", 6, task_id="one")
    s.answer("feel", "calm", 4, task_id="one")  # "why" left empty: nothing recorded
    step = next_step(scenario, s.state)
    assert step.question.item.id == "why"
    assert next_step(scenario, s.state, {("after", "one")}) == Step("task", "two")
    assert next_step(scenario, s.state, {("end", "")}) == step  # another group passed: no effect


def test_the_end_questionnaires_passed_with_an_empty_text_lead_to_the_summary(scenario):
    s = begin(scenario)
    for task in ("one", "two", "three"):
        s.end("skipped", task)
    s.answer("umux-lite", "umux1", 5)
    s.answer("umux-lite", "umux2", 6)
    assert next_step(scenario, s.state).question.item.id == "words"
    assert next_step(scenario, s.state, {("end", "")}) == Step("summary")


def test_a_resumed_session_does_not_go_back_to_a_group_it_moved_on_from(scenario):
    """Passed groups live in the app only; the events show the session went on anyway."""
    s = begin(scenario)
    run(s, "one")
    s.answer("seq", "seq", 5, task_id="one")
    s.answer("ces", "ces", 6, task_id="one")
    s.answer("feel", "calm", 4, task_id="one")
    s.start("two")  # "why" passed in the crashed run, then task two begun
    assert next_step(scenario, s.state) == Step("task", "two")
    s.end("fail", "two")
    s.answer("csat", "csat", 3, task_id="two")
    s.end("skipped", "three")
    s.answer("umux-lite", "umux1", 5)  # the end questionnaires begun: csat of two … done anyway
    step = next_step(scenario, s.state)
    assert step.group == ("end", "") and step.question.item.id == "umux2"


def test_after_the_last_task_the_end_questionnaires_close_its_after_list(scenario):
    s = begin(scenario, ("two", "three", "one"))
    run(s, "two")
    run(s, "three")
    s.answer("seq", "seq", 5, task_id="three")
    run(s, "one")
    s.answer("seq", "seq", 5, task_id="one")
    s.answer("ces", "ces", 6, task_id="one")  # one's "feel" not answered yet
    # two's csat was never asked: task three began, so the session went on past it
    assert next_step(scenario, s.state).question.item.id == "calm"
    s.answer("umux-lite", "umux1", 5)  # an end answer recorded: the last task's list is left
    step = next_step(scenario, s.state)
    assert step.group == ("end", "") and step.question.item.id == "umux2"


def test_a_resumed_session_starts_where_the_log_stops(scenario):
    sink = ListSink()
    s = begin(scenario, sink=sink)
    run(s, "one")
    s.answer("seq", "seq", 5, task_id="one")
    s.answer("ces", "ces", 6, task_id="one")
    again = Session.restore(scenario, ["one", "two", "three"], sink.events, FakeClock(), ListSink())
    assert next_step(scenario, again.state) == next_step(scenario, s.state)
    assert next_step(scenario, again.state).question.item.id == "calm"


def test_undo_goes_back_to_what_it_undid(scenario):
    s = begin(scenario)
    run(s, "one")
    answer_after_one(s)
    assert next_step(scenario, s.state) == Step("task", "two")
    s.undo()  # the text answer: asked again, even if its group was passed before
    assert next_step(scenario, s.state).question.item.id == "why"
    s.undo()
    s.undo()
    s.undo()
    assert asked(next_step(scenario, s.state)) == [("seq", "seq", "one")]
    s.undo()  # the end of the task: the task again
    assert next_step(scenario, s.state) == Step("task", "one")


def test_a_completed_session_is_at_its_summary_whatever_else(scenario):
    s = begin(scenario)
    for task in ("one", "two", "three"):
        s.end("skipped", task)
    s.answer("umux-lite", "umux1", 5)
    s.answer("umux-lite", "umux2", 6)
    s.complete()  # "words" never answered
    assert next_step(scenario, s.state) == Step("summary")
    assert next_step(scenario, s.state).question is None


def test_a_study_without_questionnaires_goes_from_the_last_task_to_the_summary():
    sc = parse_scenario("study: S\ntasks:\n  - {id: a, title: A, prompt: Do a., seq: false}\n",
                        "s.yaml").scenario  # fmt: skip
    s = Session.begin(sc, ["a"], FakeClock(), ListSink(), participant="P01")
    run(s, "a")
    assert next_step(sc, s.state) == Step("summary")


def test_going_on_from_an_empty_text_item_is_recorded_and_followed_from_the_log(scenario):
    """``questions_passed``: every reader of the log (the participant's screen, a resumed app)
    knows the group was passed; nothing is recorded for the item itself."""
    sink = ListSink()
    s = begin(scenario, sink=sink)
    run(s, "one")
    s.answer("seq", "seq", 5, task_id="one")
    s.answer("ces", "ces", 6, task_id="one")
    s.answer("feel", "calm", 4, task_id="one")
    event = s.pass_questions([("feel", "why")], "one")
    assert (event.kind, event.task_id, event.payload) == (
        "questions_passed", "one", {"unanswered": [["feel", "why"]]})  # fmt: skip
    assert s.state.passed == {("after", "one")} and s.state.answer("feel", "why", "one") is None
    assert next_step(scenario, s.state) == Step("task", "two")
    assert replay(["one", "two", "three"], sink.events) == s.state
    s.undo()  # back to the empty item
    assert next_step(scenario, s.state).question.item.id == "why"
    for task in ("two", "three"):
        s.end("skipped", task)
    s.answer("umux-lite", "umux1", 5)
    s.answer("umux-lite", "umux2", 6)
    s.pass_questions([("last", "words")])
    assert next_step(scenario, s.state) == Step("summary")


@pytest.mark.parametrize(("unanswered", "task", "message"), [
    ([("feel", "why")], "two", "two has not ended"),
    ([], "one", "no question left unanswered"),
    ([("feel", "nope")], "one", "has no item 'nope'"),
    ([("feel", "calm")], "one", "feel calm has an answer already"),
    ([("sus", "sus1")], "one", "'sus' is not asked after one"),
    ([("last", "words")], "one", "'last' is not asked after one"),
])  # fmt: skip
def test_going_on_is_refused_for_questions_that_are_not_open(scenario, unanswered, task, message):
    s = begin(scenario)
    run(s, "one")
    s.answer("feel", "calm", 4, task_id="one")
    with pytest.raises(SessionError, match=message):
        s.pass_questions(unanswered, task)
