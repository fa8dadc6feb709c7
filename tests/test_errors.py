"""One error type for the user (issue 11, item 8): every layer's error is a UsetestError that the
CLI maps once to a message and an exit code; anything else is a bug with a crash report, exit 70,
and under pytest the exception is raised as it is, so the suite still fails on it."""

from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner

from tests.conftest import STUDY_YAML
from usetest import analysis, charts, events, export, merge, outfiles, report, scenario, store
from usetest.cli import EXIT_CRASH, cli
from usetest.errors import UsetestError


def test_every_layer_error_is_a_usetest_error():
    for error in (scenario.ScenarioError, store.StoreError, store.SessionBusy,
                  store.ParticipantTaken, events.SessionError, analysis.AnalysisError,
                  export.ExportError, report.ReportError, merge.MergeError,
                  outfiles.OutputError, charts.ChartsUnavailable):  # fmt: skip
        assert issubclass(error, UsetestError), error


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(STUDY_YAML)
    return path


def test_a_user_error_escaping_a_command_is_a_message(monkeypatch, scenario_file):
    def refuse(path):
        raise store.StoreError("the disk said no \x1b[2J — free some space")

    monkeypatch.setattr(scenario, "load_scenario", refuse)
    result = CliRunner().invoke(cli, ["run", str(scenario_file), "--plan"])
    assert result.exit_code == 1
    assert result.stderr == "usetest: the disk said no \\x1b[2J — free some space\n"


def test_a_bug_is_one_line_and_a_private_crash_report(monkeypatch, tmp_path, scenario_file):
    def crash(path):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(scenario, "load_scenario", crash)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    monkeypatch.delenv("USETEST_DEBUG", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    result = CliRunner().invoke(cli, ["run", str(scenario_file), "--plan"])
    assert result.exit_code == EXIT_CRASH
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert "unexpected error (RuntimeError: boom\\x0asecond line)" in result.stderr
    folder = tmp_path / "state" / "usetest" / "crashes"
    [crash_file] = folder.iterdir()
    assert str(crash_file) in result.stderr
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(crash_file.stat().st_mode) == 0o600
    text = crash_file.read_text()
    assert "Traceback" in text and "RuntimeError: boom" in text and "command: " in text


def test_under_pytest_a_bug_is_raised_as_it_is(monkeypatch, scenario_file):
    def crash(path):
        raise RuntimeError("boom")

    monkeypatch.setattr(scenario, "load_scenario", crash)
    result = CliRunner().invoke(cli, ["run", str(scenario_file), "--plan"])
    assert isinstance(result.exception, RuntimeError)
    assert result.exit_code != EXIT_CRASH
