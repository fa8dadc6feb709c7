"""Participant profile questions: validation with positions, what each type accepts, the engine
(stored with the consent in one transaction, replayed on resume, never undone) and the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.conftest import rows
from usetest import recorder, store
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.events import SessionError, replay
from usetest.profile import ProfileAnswerError, parse_answer, parse_assignments
from usetest.scenario import ScenarioError, parse_scenario, template

BASE = "study: S\ntasks: [{id: t, title: T, prompt: P}]\n"
PROFILE = BASE + """\
profile:
  - id: age
    text: Which age band are you in?
    options: [18-29, 30-44, 45-59, 60+]
  - id: experience
    text: Years of experience?
    type: number
    min: 0
    max: 60
  - id: device
    text: Which device?
    type: text
"""
LOADED = parse_scenario(PROFILE, "p.yaml")
QUESTIONS = {q.id: q for q in LOADED.scenario.profile}


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    return [str(p) for p in info.value.problems]


# -- validation -----------------------------------------------------------------------------


def test_a_valid_profile_loads_in_order():
    assert [(q.id, q.type) for q in LOADED.scenario.profile] == [
        ("age", "choice"), ("experience", "number"), ("device", "text")]  # fmt: skip


def test_no_profile_changes_nothing():
    assert parse_scenario(BASE).scenario.profile == []


@pytest.mark.parametrize(("yaml_profile", "expected"), [
    ("  - {id: a, text: A, options: [x, y]}\n  - {id: a, text: B, options: [x, y]}\n",
     "s.yaml:5:10: profile question id 'a' is used twice — give each profile question its own id"),
    ("  - {id: a, text: A}\n",
     "s.yaml:4:5: profile question 'a' is a choice without options — list the answers"),
    ("  - {id: a, text: A, options: [x, x]}\n",
     "s.yaml:4:31: profile question 'a' has 1 option; a choice needs two or more"),
    ("  - {id: a, text: A, options: [x, y], max: 3}\n",
     "s.yaml:4:44: profile question 'a' is a choice, which takes no max — remove max"),
    ("  - {id: a, text: A, type: number, min: 9, max: 1}\n",
     "s.yaml:4:41: profile question 'a' has min 9 above max 1 — swap them: `min: 1`, `max: 9`"),
    ("  - {id: a, text: A, type: number, options: [x, y]}\n",
     "s.yaml:4:45: profile question 'a' is a number, which takes no options"),
    ("  - {id: a, text: A, type: text, min: 1}\n",
     "s.yaml:4:39: profile question 'a' is a text question, which takes no min"),
    ("  - {id: a, text: A, type: numbr}\n",
     "s.yaml:4:28: profile question 'a' has the unknown type 'numbr' — did you mean 'number'?"),
    ("  - {id: a, text: A, type: number, max: 99999999999}\n",
     "s.yaml:4:41: max of profile question 'a' is 99999999999, beyond ±1,000,000,000"),
    ("  - {id: a, options: [x, y]}\n",
     "s.yaml:4:5: profile[0] is missing the required key 'text'"),
])  # fmt: skip
def test_each_mistake_is_reported_at_its_place_with_the_fix(yaml_profile, expected):
    found = problems(BASE + "profile:\n" + yaml_profile)
    assert any(p.startswith(expected) for p in found), found


def test_a_duplicate_option_is_named():
    found = problems(BASE + "profile:\n  - {id: a, text: A, options: [x, y, x]}\n")
    assert found == ["s.yaml:4:38: option 'x' is listed twice in profile question 'a' — "
                     "list each answer once"]  # fmt: skip


def test_profile_is_a_reserved_questionnaire_id():
    found = problems(BASE + "questionnaires:\n  - {id: profile, title: P, items: [{id: a, text: A}]}\n")
    assert found[0].startswith("s.yaml:4:10: 'profile' is reserved")


def test_the_template_shows_a_commented_profile_that_validates_when_uncommented():
    text = template()
    assert "# profile:" in text
    lines, inside = [], False
    for line in text.splitlines():
        inside = line.startswith("# profile:") or (inside and line.startswith("#   "))
        lines.append(line[2:] if inside else line)
    profile = parse_scenario("\n".join(lines)).scenario.profile
    assert [(q.id, q.type) for q in profile] == [
        ("age", "choice"), ("experience", "number"), ("device", "text")]  # fmt: skip


# -- what each type accepts -------------------------------------------------------------------


def test_parse_answer_by_type():
    age, years, device = QUESTIONS["age"], QUESTIONS["experience"], QUESTIONS["device"]
    assert parse_answer(age, "30-44") == "30-44"
    assert parse_answer(age, "2") == "30-44"  # by its number
    assert parse_answer(age, "  ") is None  # declined
    assert parse_answer(years, "12") == 12
    assert parse_answer(device, "  phone ") == "phone"
    with pytest.raises(ProfileAnswerError, match="one of: 18-29, 30-44, 45-59, 60\\+"):
        parse_answer(age, "5")
    with pytest.raises(ProfileAnswerError, match="a whole number from 0 to 60, not 61"):
        parse_answer(years, "61")
    with pytest.raises(ProfileAnswerError, match="a whole number"):
        parse_answer(years, "1.5")
    with pytest.raises(ProfileAnswerError, match="at most 200 characters"):
        parse_answer(device, "x" * 201)


def test_assignments_from_the_command_line():
    assert parse_assignments(LOADED.scenario.profile, ["age=60+", "device="]) == {
        "age": "60+", "device": None}  # fmt: skip
    with pytest.raises(ProfileAnswerError, match="no profile question 'agee'"):
        parse_assignments(LOADED.scenario.profile, ["agee=1"])
    with pytest.raises(ProfileAnswerError, match="is not ID=VALUE"):
        parse_assignments(LOADED.scenario.profile, ["age"])
    with pytest.raises(ProfileAnswerError, match="answered twice"):
        parse_assignments(LOADED.scenario.profile, ["age=1", "age=2"])


# -- the engine and the store -----------------------------------------------------------------


def test_answers_are_stored_with_the_consent_and_rebuilt_on_resume(tmp_path):
    db_path = tmp_path / "p.db"
    db = store.open_db(db_path)
    rec = recorder.start(db, LOADED, "P01", clock=FakeClock(), consent="in the app",
                         profile={"age": "45-59", "experience": 20, "device": None})  # fmt: skip
    kinds = [(e.kind, e.payload.get("questionnaire"), e.task_id) for e in rec.session.events]
    assert kinds == [("session_started", None, None), ("consent_recorded", None, None),
                     *[("answer_recorded", "profile", None)] * 3]  # fmt: skip
    stored = rows(db_path, "SELECT questionnaire, item, task_id, value_num, value_text, declined"
                           " FROM answers ORDER BY event_seq")  # fmt: skip
    assert stored == [
        {"questionnaire": "profile", "item": "age", "task_id": "", "value_num": None,
         "value_text": "45-59", "declined": 0},
        {"questionnaire": "profile", "item": "experience", "task_id": "", "value_num": 20,
         "value_text": None, "declined": 0},
        {"questionnaire": "profile", "item": "device", "task_id": "", "value_num": None,
         "value_text": None, "declined": 1},
    ]  # fmt: skip
    events = store.load_events(db, rec.record.id)
    assert replay(rec.session.state.order, events) == rec.session.state
    again, _ = recorder.resume(db, rec.record.id, clock=FakeClock())
    assert again.session.state.answer("profile", "experience").value == 20
    assert again.session.state.answer("profile", "device").declined
    # the resume rewrote the projections from the replayed log: the rows are unchanged
    assert len(rows(db_path, "SELECT * FROM answers WHERE questionnaire = 'profile'")) == 3
    with pytest.raises(SessionError, match="answered already"):
        again.session.record_profile({"age": "18-29"})
    with pytest.raises(SessionError, match="nothing to undo"):
        again.session.undo()
    db.close()


def test_a_wrong_answer_leaves_no_session_behind(tmp_path):
    db = store.open_db(tmp_path / "p.db")
    with pytest.raises(SessionError, match="experience takes a whole number from 0 to 60"):
        recorder.start(db, LOADED, "P01", clock=FakeClock(), consent="in the app",
                       profile={"experience": 99})  # fmt: skip
    with pytest.raises(SessionError, match="no profile question 'shoe'"):
        recorder.start(db, LOADED, "P01", clock=FakeClock(), consent="in the app",
                       profile={"shoe": "42"})  # fmt: skip
    assert store.list_sessions(db) == []
    db.close()


def test_consent_and_profile_are_one_transaction(tmp_path):
    db_path = tmp_path / "p.db"
    db = store.open_db(db_path)
    # the fourth event (the second profile answer) fails to write, as a full disk would
    db.execute("CREATE TEMP TRIGGER boom BEFORE INSERT ON main.events WHEN NEW.event_seq = 4 "
               "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")  # fmt: skip
    with pytest.raises(store.StoreError):
        recorder.start(db, LOADED, "P01", clock=FakeClock(), consent="in the app",
                       profile={"age": "18-29", "experience": 1, "device": "phone"})  # fmt: skip
    db.execute("DROP TRIGGER boom")
    assert [r["kind"] for r in rows(db_path, "SELECT kind FROM events")] == ["session_started"]
    assert rows(db_path, "SELECT * FROM answers") == []
    [session] = rows(db_path, "SELECT consent_at FROM sessions")
    assert session["consent_at"] is None
    db.close()


def test_profile_without_consent_is_recorded_after_the_start(tmp_path):
    db = store.open_db(tmp_path / "p.db")
    rec = recorder.start(db, LOADED, "P01", clock=FakeClock(), profile={"age": "60+"})
    assert rec.session.state.consent is None
    assert rec.session.state.answer("profile", "age").value == "60+"
    db.close()


# -- the command line -------------------------------------------------------------------------


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    return path


@pytest.mark.parametrize(("given", "message"), [
    (["--profile-answer", "age=17"], "--profile-answer: age takes one of: 18-29, 30-44"),
    (["--profile-answer", "height=2"], "no profile question 'height' (questions: age, "
                                       "experience, device)"),
    (["--profile-answer", "experience=61"], "experience takes a whole number from 0 to 60"),
    (["--resume", "--profile-answer", "age=1"], "a resumed session keeps the profile"),
])  # fmt: skip
def test_run_refuses_a_wrong_profile_answer_before_anything_starts(tmp_path, scenario_file,
                                                                   given, message):  # fmt: skip
    db = tmp_path / "p.db"
    result = CliRunner().invoke(cli, ["run", str(scenario_file), "--db", str(db),
                                      "--participant", "P01", *given])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "nothing was started" in result.output or "--resume" in given
    assert not db.exists()


def test_run_hands_the_answers_to_the_app(tmp_path, scenario_file, monkeypatch):
    import usetest.tui.app

    seen = {}

    def fake_make_app(loaded, db_path, **options):
        seen.update(options)
        raise SystemExit(0)

    monkeypatch.setattr(usetest.tui.app, "make_app", fake_make_app)
    result = CliRunner().invoke(cli, ["run", str(scenario_file), "--db", str(tmp_path / "p.db"),
                                      "--participant", "P01", "--consent",
                                      "--profile-answer", "age=2",
                                      "--profile-answer", "experience=7",
                                      "--profile-answer", "device="])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen["profile"] == {"age": "30-44", "experience": 7, "device": None}
