"""YAML 1.1 yes/no words: PyYAML reads `off` or `NO` as booleans, editors and the JSON Schema
(YAML 1.2) as text, so one file would mean two things. usetest refuses them with a hint."""

from __future__ import annotations

import pytest

from usetest.scenario import ScenarioError, parse_scenario

BASE = """\
study: Bools
tasks:
  - {id: a, title: A, prompt: Do it.%s}
%s"""


@pytest.mark.parametrize("word", ["off", "on", "yes", "no", "Yes", "NO", "OFF"])
def test_a_yes_no_word_as_a_setting_is_refused_with_the_boolean_to_write(word):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(BASE % (f", seq: {word}", ""), "s.yaml")
    (problem,) = err.value.problems
    text = str(problem)
    assert text.startswith("s.yaml:3:") and f"'{word}' is a yes/no word" in text
    expected = "true" if word.lower() in ("on", "yes") else "false"
    assert f"write {expected} for a yes/no setting" in text and f"quote it ('{word}')" in text


def test_a_yes_no_word_as_text_must_be_quoted():
    with pytest.raises(ScenarioError, match="s.yaml:4:14: 'NO' is a yes/no word"):
        parse_scenario(BASE % ("", "conditions: [NO, SE]\n"), "s.yaml")
    quoted = parse_scenario(BASE % ("", "conditions: ['NO', SE]\n"), "s.yaml").scenario
    assert quoted.conditions == ["NO", "SE"]


def test_true_and_false_are_booleans_in_both_yaml_versions():
    assert parse_scenario(BASE % (", seq: false", ""), "s.yaml").scenario.tasks[0].seq is False
    assert parse_scenario(BASE % (", seq: True", ""), "s.yaml").scenario.tasks[0].seq is True
