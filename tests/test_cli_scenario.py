"""`usetest validate`, `schema` and `new` through the real click commands."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tests.conftest import ROOT
from usetest.cli import cli

BAD = ROOT / "tests" / "data" / "scenarios" / "bad"


def test_validate_ok_exits_0():
    result = CliRunner().invoke(cli, ["validate", *map(str, (ROOT / "scenarios").glob("*.yaml"))])
    assert result.exit_code == 0, result.output
    assert "demo.yaml: ok" in result.output


def test_validate_bad_exits_1_with_one_line_per_problem():
    files = [str(BAD / "unknown-key.yaml"), str(BAD / "clashing-hotkeys.yaml"),
             str(ROOT / "scenarios" / "demo.yaml")]  # fmt: skip
    result = CliRunner().invoke(cli, ["validate", *files])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{files[0]}:5:5: unknown key 'promt'")
    assert lines[1].startswith(f"{files[1]}:4:11: hotkey 'n'")
    assert lines[-1] == "2 problem(s) in 2 of 3 file(s)"
    assert "Traceback" not in result.output


def test_validate_missing_file_is_a_message_not_a_traceback(tmp_path):
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "nope.yaml:1:1: file not found" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_schema_prints_json_schema():
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "usetest scenario"


def test_new_writes_a_template_that_validates_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "studies" / "mine.yaml"
    runner = CliRunner()
    assert runner.invoke(cli, ["new", str(target)]).exit_code == 0
    assert runner.invoke(cli, ["validate", str(target)]).exit_code == 0
    again = runner.invoke(cli, ["new", str(target)])
    assert again.exit_code == 1 and "exists already" in again.stderr
    assert runner.invoke(cli, ["new", str(target), "--force"]).exit_code == 0
