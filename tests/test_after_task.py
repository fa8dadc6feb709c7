"""Questionnaires after a task (`after:`): validated with file:line:col, asked per task, stored
per task in `answers` (task_id = the task), rebuilt identically from the log and kept across a
crash; CSAT and CES built in."""

from __future__ import annotations

import pytest

from tests.conftest import rows
from usetest import recorder, store
from usetest.events import SessionError, replay
from usetest.questionnaires import after_task_questionnaires, questionnaires_for
from usetest.scenario import ScenarioError, parse_scenario, template
from usetest.store import open_db
from usetest.versions import changes

STUDY = """\
study: After tasks
product: the shop
tasks:
  - id: one
    title: Task one
    prompt: Do one.
    after: [ces, feel]
    target_time: 60
    target_completion: 0.8
  - id: two
    title: Task two
    prompt: Do two.
    seq: false
    after: [csat]
questionnaires:
  - sus
  - ces
  - id: feel
    title: How it felt
    at_end: false
    items:
      - {id: calm, text: I felt calm., points: 7}
      - {id: why, type: text, text: "Why?"}
targets: {completion: 0.7, sus: 72}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    return [str(p) for p in info.value.problems]


def test_a_valid_after_list_and_what_each_moment_asks():
    sc = parse_scenario(STUDY, "s.yaml").scenario
    assert sc.tasks[0].after == ["ces", "feel"] and sc.tasks[0].target_time == 60
    assert [q.id for q in questionnaires_for(sc)] == ["sus", "ces"]  # feel: after tasks only
    one = after_task_questionnaires(sc, "one")
    assert [q.id for q in one] == ["ces", "feel"]
    assert one[0].items[0].text == "The shop made it easy for me to complete this task."
    assert questionnaires_for(sc)[1].items[0].text == (
        "The shop made it easy for me to do what I wanted to do.")  # fmt: skip
    assert [(i.id, i.kind, i.max) for i in one[1].items] == [("calm", "scale", 7), ("why", "text", 0)]
    [csat] = after_task_questionnaires(sc, "two")
    assert (csat.items[0].id, csat.items[0].min, csat.items[0].max) == ("csat", 1, 5)
    assert csat.items[0].text == "Overall, how satisfied are you with the shop?"


def test_an_unknown_id_in_after_says_where_what_was_meant_and_what_is_allowed():
    [p] = problems(STUDY.replace("after: [ces, feel]", "after: [ces, fel]"))
    assert p.startswith("s.yaml:7:18: unknown questionnaire 'fel' in the after: of task 'one' — ")
    assert "did you mean 'feel'?" in p and "allowed here: csat, ces, feel" in p
    [p] = problems(STUDY.replace("after: [csat]", "after: [zzz]"))
    assert p.startswith("s.yaml:14:13: unknown questionnaire 'zzz'")
    assert "did you mean" not in p and "allowed here: csat, ces, feel" in p


@pytest.mark.parametrize("name", ["sus", "umux-lite", "nps"])
def test_whole_system_questionnaires_belong_under_questionnaires(name):
    [p] = problems(STUDY.replace("after: [csat]", f"after: [{name}]"))
    assert p.startswith(f"s.yaml:14:13: '{name}' rates the whole system, so it is not asked "
                        "after a task — list")  # fmt: skip
    assert "under questionnaires:" in p


def test_listed_twice_and_seq_in_after():
    [p] = problems(STUDY.replace("after: [ces, feel]", "after: [ces, feel, ces]"))
    assert p.startswith("s.yaml:7:24: 'ces' is listed twice in the after: of task 'one' — list it once")
    [p] = problems(STUDY.replace("after: [csat]", "after: [seq]"))
    assert p.startswith("s.yaml:14:13: the SEQ is asked after every task already — ")


def test_a_block_asked_only_after_tasks_that_no_task_lists_is_refused():
    [p] = problems(STUDY.replace("after: [ces, feel]", "after: [ces]"))
    assert p.startswith("s.yaml:20:13: questionnaire 'feel' has at_end: false and no task lists "
                        "it in after:, so it would never be asked — add `after: [feel]`")  # fmt: skip


def test_csat_and_ces_are_built_in_names_and_ids():
    sc = parse_scenario(STUDY.replace("  - sus\n", "  - sus\n  - csat\n"), "s.yaml").scenario
    assert [q.id for q in questionnaires_for(sc)] == ["sus", "csat", "ces"]
    [p] = problems(STUDY.replace("  - sus\n", "  - cast\n"))
    assert p.startswith("s.yaml:16:5: unknown questionnaire 'cast' — did you mean 'csat'?")
    [p] = problems(STUDY.replace("id: feel", "id: csat").replace("feel]", "csat]"))
    assert "'csat' is a built-in questionnaire's id" in p


def test_the_template_shows_the_new_keys_commented_and_validates():
    text = template()
    for key in ("# after: [ces]", "# target_time:", "# target_completion:", "# targets:",
                "#   at_end:", "# - csat", "# - ces"):  # fmt: skip
        assert key in text, key
    parse_scenario(text, "template.yaml")
    # uncommented, they validate too
    lines = [line.replace("# ", "", 1) if any(k in line for k in (
        "after: [ces]", "target_time:", "target_completion:")) else line
        for line in text.splitlines()]  # fmt: skip
    sc = parse_scenario("\n".join(lines) + "\n", "template.yaml").scenario
    assert sc.tasks[0].after == ["ces"] and sc.tasks[0].target_time


def test_versions_name_edits_of_after_and_targets():
    old = parse_scenario(STUDY, "s.yaml").scenario
    new = parse_scenario(STUDY.replace("after: [csat]", "after: [csat, ces]")
                         .replace("target_time: 60", "target_time: 90")
                         .replace("sus: 72", "sus: 75"), "s.yaml").scenario  # fmt: skip
    ch = changes(old, new)
    assert not (ch.added or ch.removed or ch.reworded)
    assert set(ch.other) == {"targets", "target time of one", "after-task questionnaires of two"}


# -- the engine and the store ----------------------------------------------------------------


@pytest.fixture
def loaded():
    return parse_scenario(STUDY, "s.yaml")


def answers(db) -> list[dict]:
    return [dict(r) for r in db.query(
        "SELECT questionnaire, item, task_id, value_num, value_text, declined FROM answers"
        " ORDER BY event_seq")]  # fmt: skip


def test_after_task_answers_are_stored_per_task_and_replayed_identically(db, loaded, clock):
    rec = recorder.start(db, loaded, "P01", clock=clock)
    s = rec.session
    with pytest.raises(SessionError, match="ask 'ces' after one has ended"):
        s.answer("ces", "ces", 5, task_id="one")
    s.start()
    clock.advance(20)
    s.end("success")
    s.answer("seq", "seq", 6, task_id="one")
    s.answer("ces", "ces", 6, task_id="one")
    s.decline("feel", "calm", task_id="one")
    s.answer("feel", "why", "it was quick", task_id="one")
    with pytest.raises(SessionError, match=r"'csat' is not asked after one \(its after: lists ces, feel\)"):
        s.answer("csat", "csat", 4, task_id="one")
    with pytest.raises(SessionError, match="'feel' is asked after tasks: name the task"):
        s.answer("feel", "calm", 3)
    s.end("skipped", task_id="two")
    with pytest.raises(SessionError, match="takes 1 to 5, not 6"):
        s.answer("csat", "csat", 6, task_id="two")
    s.answer("csat", "csat", 4, task_id="two")
    s.answer("ces", "ces", 3)  # the CES at the end of the session: its own row
    assert answers(db) == [
        {"questionnaire": "seq", "item": "seq", "task_id": "one", "value_num": 6,
         "value_text": None, "declined": 0},
        {"questionnaire": "ces", "item": "ces", "task_id": "one", "value_num": 6,
         "value_text": None, "declined": 0},
        {"questionnaire": "feel", "item": "calm", "task_id": "one", "value_num": None,
         "value_text": None, "declined": 1},
        {"questionnaire": "feel", "item": "why", "task_id": "one", "value_num": None,
         "value_text": "it was quick", "declined": 0},
        {"questionnaire": "csat", "item": "csat", "task_id": "two", "value_num": 4,
         "value_text": None, "declined": 0},
        {"questionnaire": "ces", "item": "ces", "task_id": "", "value_num": 3,
         "value_text": None, "declined": 0},
    ]  # fmt: skip
    events = store.load_events(db, rec.record.id)
    assert replay(list(rec.record.order), events) == s.state
    before = answers(db)
    store.write_projections(db, rec.record.id, s.state, {})  # a rebuild from the log
    assert answers(db) == before
    # undo takes back the latest answer only; the projection follows
    s.undo()
    assert [a["task_id"] for a in answers(db)] == ["one", "one", "one", "one", "two"]
    assert replay(list(rec.record.order), store.load_events(db, rec.record.id)) == s.state


def test_after_task_answers_survive_a_crash_and_the_session_goes_on(tmp_path, loaded, clock):
    path = tmp_path / "s.db"
    db = open_db(path)
    rec = recorder.start(db, loaded, "P01", clock=clock)
    s = rec.session
    s.start()
    s.end("fail")
    s.answer("seq", "seq", 2, task_id="one")
    s.answer("ces", "ces", 2, task_id="one")
    db.close()  # the process dies here: nothing is released or closed cleanly
    db = open_db(path)
    again, _ = recorder.resume(db, rec.record.id, clock=clock)
    state = again.session.state
    assert state.answer("ces", "ces", "one").value == 2
    assert state.answer("feel", "calm", "one") is None  # where the moderator goes on
    again.session.answer("feel", "calm", 5, task_id="one")
    db.close()
    assert rows(path, "SELECT questionnaire, item, task_id, value_num FROM answers"
                      " WHERE task_id = 'one' ORDER BY event_seq") == [
        {"questionnaire": "seq", "item": "seq", "task_id": "one", "value_num": 2},
        {"questionnaire": "ces", "item": "ces", "task_id": "one", "value_num": 2},
        {"questionnaire": "feel", "item": "calm", "task_id": "one", "value_num": 5},
    ]  # fmt: skip
