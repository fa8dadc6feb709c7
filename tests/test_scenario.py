"""Scenario files: every example validates; every kind of mistake gets file:line:col and a fix."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from usetest.questionnaires import NPS, SEQ, SUS, UMUX_LITE, questionnaires_for
from usetest.scenario import (
    DEFAULT_ERROR_TYPES,
    LoadedScenario,
    ScenarioError,
    json_schema,
    load_scenario,
    parse_scenario,
    template,
)

BAD = ROOT / "tests" / "data" / "scenarios" / "bad"
EXAMPLES = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_scenario_validates(path):
    loaded = load_scenario(path)
    assert loaded.scenario.tasks
    assert loaded.text.startswith("# yaml-language-server: $schema=../usetest/usetest-scenario.schema.json")


def test_the_examples_cover_the_format():
    names = {p.stem for p in EXAMPLES}
    assert {"demo", "checkout", "banking"} <= names
    demo = load_scenario(ROOT / "scenarios" / "demo.yaml").scenario
    assert len(demo.tasks) == 3
    checkout = load_scenario(ROOT / "scenarios" / "checkout.yaml").scenario
    assert checkout.conditions == ["current", "redesign"] and checkout.task_order == "latin-square"
    banking = load_scenario(ROOT / "scenarios" / "banking.yaml").scenario
    kinds = {i.type for q in banking.questionnaires if not isinstance(q, str) for i in q.items}
    assert kinds == {"likert", "text"}


# file name -> (line, col, words the message must contain)
CASES = {
    "yaml-syntax.yaml": (6, 1, "YAML syntax error"),
    "unknown-key.yaml": (5, 5, "unknown key 'promt' in tasks[0] — did you mean 'prompt'?"),
    "wrong-type.yaml": (6, 17, "tasks[0].time_limit"),
    "missing-field.yaml": (3, 5, "missing the required key 'title'"),
    "duplicate-task-id.yaml": (6, 9, "task id 'one' is used twice"),
    "clashing-hotkeys.yaml": (4, 11, "hotkey 'n' of error type 'naming' clashes"),
    "empty.yaml": (1, 1, "the file is empty"),
    "not-a-mapping.yaml": (1, 1, "the top level must be a mapping"),
    "python-tag.yaml": (1, 8, "tag !!python/object/apply:os.system is not allowed"),
    "duplicate-key.yaml": (2, 1, "the key 'study' is written twice (first on line 1)"),
    "alias-bomb.yaml": (2, 26, "too many values"),
    "unknown-questionnaire.yaml": (6, 23, "unknown questionnaire 'umux' — did you mean 'umux-lite'?"),
}


def test_there_is_a_fixture_per_case():
    assert {p.name for p in BAD.glob("*.yaml")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_mistake_is_reported_with_its_position_and_a_fix(name):
    line, col, words = CASES[name]
    with pytest.raises(ScenarioError) as info:
        load_scenario(BAD / name)
    problems = info.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    text = str(problems[0])
    assert text.startswith(f"{BAD / name}:{line}:{col}: "), text
    assert words in text
    assert " — " in text and problems[0].fix  # always says what to write instead


def test_several_problems_are_all_reported_in_file_order():
    text = """\
study: Many
tasks:
  - id: one
    title: First
    prompt: Do it.
    time_limit: -3
  - id: one
    title: Again
    prompt: Do it again.
task_order: sideways
"""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "many.yaml")
    lines = [(p.line, p.message) for p in info.value.problems]
    assert [n for n, _ in lines] == [6, 7, 10]
    assert "time_limit" in lines[0][1] and "used twice" in lines[1][1]
    assert "task_order" in lines[2][1]


def test_missing_directory_and_undecodable_files(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="folder, not a scenario"):
        load_scenario(tmp_path)
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"study: Caf\xe9\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(latin1)
    assert str(info.value).startswith(f"{latin1}:1:11: the file is not valid UTF-8")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"study: x\x00\x01\x02")
    with pytest.raises(ScenarioError, match="NUL byte"):
        load_scenario(binary)


def test_markup_is_kept_literally():
    loaded = load_scenario(ROOT / "tests" / "data" / "scenarios" / "markup.yaml")
    task = loaded.scenario.tasks[0]
    assert task.prompt.startswith("Type [bold]this[/] and [link=https://example.com]that[/link]")
    assert loaded.scenario.study == "[bold]Markup[/] study"


def test_defaults():
    sc = parse_scenario("study: S\ntasks: [{id: t, title: T, prompt: P}]\n").scenario
    assert sc.task_order == "fixed" and sc.conditions == [] and sc.questionnaires == []
    assert tuple(sc.error_types) == DEFAULT_ERROR_TYPES
    assert sc.tasks[0].seq is True and sc.tasks[0].time_limit is None
    assert len({e.key for e in DEFAULT_ERROR_TYPES}) == len(DEFAULT_ERROR_TYPES)


def test_the_model_is_frozen():
    sc = parse_scenario("study: S\ntasks: [{id: t, title: T, prompt: P}]\n").scenario
    with pytest.raises(ValueError):
        sc.tasks[0].title = "changed"


def test_same_text_same_hash_different_text_different_hash():
    a = parse_scenario("study: S\ntasks: [{id: t, title: T, prompt: P}]\n")
    b = parse_scenario("study: S\ntasks: [{id: t, title: T, prompt: P}]\n")
    c = parse_scenario("study: S2\ntasks: [{id: t, title: T, prompt: P}]\n")
    assert a.sha256 == b.sha256 != c.sha256


def test_template_validates_and_points_at_the_schema():
    text = template()
    assert text.startswith("# yaml-language-server: $schema=")
    loaded = parse_scenario(text, "template.yaml")
    assert loaded.scenario.questionnaires == ["sus"]


def test_schema_documents_every_field_and_the_committed_copy_is_current():
    schema = json_schema()
    props = schema["properties"]
    assert {"study", "tasks", "task_order", "error_types", "questionnaires"} <= set(props)
    assert all(p.get("description") for p in props.values())
    task = schema["$defs"]["Task"]["properties"]
    assert all(p.get("description") for p in task.values())
    committed = json.loads((ROOT / "usetest" / "usetest-scenario.schema.json").read_text())
    assert committed == schema, "regenerate: usetest schema > usetest/usetest-scenario.schema.json"


def test_questionnaire_definitions():
    assert [i.id for i in SUS.items] == [f"sus{i}" for i in range(1, 11)]
    assert SUS.items[0].text == "I think that I would like to use this system frequently."
    assert {(i.min, i.max) for i in SUS.items} == {(1, 5)}
    assert [(i.min, i.max) for i in UMUX_LITE.items] == [(1, 7), (1, 7)]
    assert (NPS.items[0].min, NPS.items[0].max) == (0, 10)
    assert SEQ.items[0].text == "Overall, how difficult or easy was the task to complete?"
    banking = load_scenario(ROOT / "scenarios" / "banking.yaml").scenario
    qs = questionnaires_for(banking)
    assert [q.id for q in qs] == ["sus", "trust", "nps"]
    assert "Northbank app" in qs[2].items[0].text
    trust = qs[1]
    assert [(i.kind, i.max) for i in trust.items] == [
        ("scale", 7), ("scale", 7), ("scale", 5), ("text", 0),
    ]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_either_loads_or_raises_scenario_error(text):
    try:
        result = parse_scenario(text, "fuzz.yaml")
    except ScenarioError as exc:
        assert exc.problems and all(p.line >= 1 and p.col >= 1 for p in exc.problems)
    else:
        assert isinstance(result, LoadedScenario)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_either_load_or_raise_scenario_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "f.yaml"
    path.write_bytes(data)
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems
