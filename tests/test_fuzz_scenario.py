"""Malformed and hostile scenario files: a clear message and exit 1, never a traceback or a hang.

A short run of the fuzzer in tests/bench/fuzz_scenarios.py (which runs 10,000 cases with
``python -m tests.bench.fuzz_scenarios --cases 10000``), the hostile paths, the defects the
long run found, and the same checks through the installed command in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from tests.bench import fuzz_scenarios as fuzz
from usetest.scenario import ScenarioError, parse_scenario

USETEST = Path(sys.executable).with_name("usetest")


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])  # fmt: skip
@given(data=fuzz.SCENARIO_BYTES)
def test_any_file_gets_a_clear_answer_from_validate_and_run(tmp_path, data):
    outcome = fuzz.check_bytes(data, tmp_path)
    assert outcome.problems == []
    assert outcome.validate in (0, 1)


def test_hostile_paths_are_refused_with_a_message(tmp_path):
    with fuzz.hostile_paths(tmp_path) as paths:
        for what, path in paths:
            outcome = fuzz.check_path(path, tmp_path / "plan.db")
            assert outcome.problems == [], what
            assert (outcome.validate, outcome.plan) == (1, 1), what


def test_a_fifo_and_a_device_do_not_hang_or_fill_memory(tmp_path):
    """Found by the fuzzer: both were read to the end, which a FIFO and /dev/zero never reach."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        result = CliRunner().invoke(fuzz.cli, ["validate", str(path)])
        assert result.exit_code == 1
        assert "not a regular file" in result.stderr


@pytest.mark.parametrize("key", ["Study", "Z", "Tasks"])
def test_an_unknown_capitalised_key_is_named_not_a_crash(key):
    """Found by the fuzzer: a key like `Study:` was taken for a pydantic label (IndexError)."""
    text = fuzz.VALID_TEXT + f"{key}: x\n"
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "s.yaml")
    [problem] = caught.value.problems
    assert problem.message == f"unknown key '{key}' in the file"
    assert problem.line == text.count("\n")


def test_a_control_character_is_refused_at_its_place_on_one_line():
    """Found by the fuzzer: YAML's own message ran over two lines and pointed at 1:1."""
    text = fuzz.VALID_TEXT.replace("First task", "First\x1b[2J task")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "s.yaml")
    [problem] = caught.value.problems
    line = text[: text.index("\x1b")].count("\n") + 1
    assert (problem.line, problem.message) == (
        line,
        "the control character \\x1b is not allowed in YAML",
    )
    assert "\n" not in str(problem) and "\x1b" not in str(problem)


@pytest.mark.parametrize("escaped", ['"\\e]52;c;ZWNobw==\\a"', '"\\x1b[2J"', '"x\\u009b31m"'])
def test_an_escape_written_in_quotes_stays_in_the_text_and_validate_prints_it_safely(
    tmp_path, escaped
):
    text = fuzz.VALID_TEXT.replace("study: Fuzz study", f"study: {escaped}")
    loaded = parse_scenario(text, "s.yaml")
    assert fuzz.RAW_CONTROL.search(loaded.scenario.study)  # kept exactly as written
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(fuzz.cli, ["validate", str(path)], color=True)  # as on a tty
    assert result.exit_code == 0 and ": ok — " in result.stdout
    assert fuzz.RAW_CONTROL.search(result.stdout + result.stderr) is None


def test_run_plan_prints_no_raw_escape_from_a_valid_scenario(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(fuzz.VALID_TEXT.replace("title: First task", 'title: "\\e[2J"'), "utf-8")
    result = CliRunner().invoke(
        fuzz.cli, ["run", str(path), "--plan", "--db", str(tmp_path / "x.db")], color=True
    )
    assert result.exit_code == 0
    assert fuzz.RAW_CONTROL.search(result.stdout) is None


def test_tabs_new_lines_markup_and_emoji_stay_valid():
    text = fuzz.VALID_TEXT.replace(
        "prompt: Do the first thing.", 'prompt: "Tab\\there,\\nline two [bold]x[/] 🚀 ünï"'
    )
    loaded = parse_scenario(text, "s.yaml")
    assert loaded.scenario.tasks[0].prompt == "Tab\there,\nline two [bold]x[/] 🚀 ünï"


@pytest.mark.skipif(not USETEST.exists(), reason="usetest is not installed")
@pytest.mark.parametrize("data", [
    fuzz.alias_bomb(9, 9), fuzz.nested(3000, "flow-seq"), b"\xff\xfe binary \x00",
    fuzz.VALID_TEXT.replace("Fuzz study", '"\\e[2J').encode(), b"tasks: [\n",
], ids=["alias-bomb", "deep-nesting", "binary", "unclosed-quote-escape", "unclosed-list"])  # fmt: skip
def test_the_installed_command_answers_in_a_subprocess(tmp_path, data):
    path = tmp_path / "s.yaml"
    path.write_bytes(data)
    for args in (
        ["validate", str(path)],
        ["run", str(path), "--plan", "--db", str(tmp_path / "x.db")],
    ):
        done = subprocess.run([str(USETEST), *args], capture_output=True, timeout=30, text=True,
                              errors="replace", cwd=tmp_path)  # fmt: skip
        assert done.returncode == 1, done
        assert "Traceback" not in done.stderr
        assert done.stderr.strip() and fuzz.RAW_CONTROL.search(done.stdout + done.stderr) is None
        assert fuzz.PROBLEM.match(done.stderr.splitlines()[0]), done.stderr


@pytest.mark.skipif(not USETEST.exists(), reason="usetest is not installed")
def test_the_installed_command_prints_a_valid_scenarios_escapes_escaped(tmp_path):
    path = tmp_path / "s.yaml"
    text = fuzz.VALID_TEXT.replace("title: First task", 'title: "\\e]0;owned\\a \\e[2J"')
    path.write_text(text, encoding="utf-8")
    for args in (
        ["validate", str(path)],
        ["run", str(path), "--plan", "--db", str(tmp_path / "x.db")],
    ):
        done = subprocess.run([str(USETEST), *args], capture_output=True, timeout=30, text=True,
                              cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done
        assert fuzz.RAW_CONTROL.search(done.stdout + done.stderr) is None, done.stdout
    assert "\\x1b]0;owned\\x07" in done.stdout  # the plan shows the title, escaped
