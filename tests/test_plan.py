"""``usetest plan``: margin, discovery (from numbers and from a real study database) and compare,
through click's CliRunner and the installed command; bad input is one line and a status."""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from usetest import recorder
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.scenario import parse_scenario
from usetest.store import open_db

STUDY = parse_scenario("""\
study: Discovery
tasks:
  - {id: a, title: Task A, prompt: Do A., seq: false}
""")

# Sauro & Lewis (2016), Table 7.5: 7 problems (rows) met by 4 participants (columns).
TABLE_7_5 = [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 1, 0],
             [1, 1, 1, 0], [1, 0, 0, 1], [1, 1, 0, 0]]  # fmt: skip


def run(*args: str):
    return CliRunner().invoke(cli, ["plan", *args])


def as_json(*args: str) -> dict:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def table_7_5_db(tmp_path):
    """The book's Table 7.5 recorded as problem notes, plus a session still in progress (left
    out, as in every summary) that met a problem of its own."""
    path = tmp_path / "discovery.db"
    db = open_db(path)
    clock = FakeClock()
    for col in range(4):
        s = recorder.start(db, STUDY, f"P{col + 1:02d}", clock=clock).session
        s.start()
        clock.advance(20)
        for row, problem in enumerate(TABLE_7_5):
            if problem[col]:
                s.log_note(f"Problem {row + 1}", "problem", severity=2)
        s.end("success")
        s.complete()
    unfinished = recorder.start(db, STUDY, "P99", clock=clock).session
    unfinished.start()
    unfinished.log_note("Problem 8", "problem", severity=1)
    db.close()
    return path


def test_margin_completion_table_and_json():
    result = run("margin", "--metric", "completion", "--margin", "0.1")
    assert result.exit_code == 0, result.output
    assert "participants needed  93" in result.output
    assert "Sauro & Lewis (2016), ch. 6" in result.output
    assert all(len(line) <= 80 for line in result.output.splitlines())
    data = as_json("margin", "--metric", "completion", "--margin", "0.05")
    assert data["n"] == 381  # 1.96²·.25/.05² − 1.96² (tests/test_stats_targets.py)
    assert data["inputs"] == {"metric": "completion", "margin": 0.05, "p": 0.5, "confidence": 0.95}
    assert "Sauro & Lewis" in data["source"] and "z²" in data["formula"]


def test_margin_rating_iterates_t():
    # Penn State STAT 800's iterative example: s = 400, E = 120, 90 % -> 32
    data = as_json("margin", "--metric", "time", "--sd", "400", "--margin", "120",
                   "--confidence", "0.9")  # fmt: skip
    assert data["n"] == 32 and data["inputs"]["sd"] == 400


def test_discovery_from_p():
    data = as_json("discovery", "--p", "0.10", "--goal", "0.90")
    assert data["n"] == 22  # MeasuringU (Sauro 2008): 21.85 -> 22
    assert data["share_found"] == pytest.approx(1 - 0.9**22)
    out = run("discovery", "--p", "0.31", "--goal", "0.85").output
    assert "participants needed    6" in out  # 5 reach 84.4 %, just short of 85 %


def test_discovery_from_a_study_database(table_7_5_db):
    data = as_json("discovery", "--from", str(table_7_5_db), "--goal", "0.99")
    # Sauro & Lewis (2016, pp. 152, 155): p_adj ≈ .48; 4 participants found ≈ 92.7 %
    assert (data["participants"], data["problems"], data["problems_once"]) == (4, 7, 1)
    assert data["p_unadjusted"] == pytest.approx(5 / 7)
    assert data["p_adjusted"] == pytest.approx(0.48, abs=0.01)
    assert data["share_found"] == pytest.approx(0.927, abs=0.005)
    # 1 − (1 − .487)^n ≥ .99 first at n = 7: three more participants
    assert (data["n"], data["more"]) == (7, 3)
    table = run("discovery", "--from", str(table_7_5_db), "--goal", "0.9").output
    assert "problems found" in table and "7 (1 met by one participant only)" in table
    assert "4: reached" in table  # 92.7 % already: no one more for a 90 % goal


def test_discovery_from_db_takes_the_session_filters(table_7_5_db):
    data = as_json("discovery", "--from", str(table_7_5_db), "--goal", "0.9",
                   "--include-unfinished")  # fmt: skip
    assert (data["participants"], data["problems"]) == (5, 8)
    data = as_json("discovery", "--from", str(table_7_5_db), "--goal", "0.9",
                   "--participant", "P01", "--participant", "P02")  # fmt: skip
    assert data["participants"] == 2


def test_compare_completion_and_means():
    data = as_json("compare", "--metric", "completion", "--p1", "0.7", "--p2", "0.9")
    assert (data["n"], data["total"]) == (64, 128)  # per condition, and both together
    assert data["inputs"]["power"] == 0.8
    # Cohen (1988), Table 2.4.1: d = .5, power .8 -> 64 per group
    data = as_json("compare", "--metric", "rating", "--sd", "1.2", "--difference", "0.6")
    assert data["n"] == 64
    out = run("compare", "--metric", "time", "--sd", "40", "--difference", "20").output
    assert "participants per condition  64" in out and "participants in all         128" in out


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["margin", "--metric", "rating", "--margin", "0.5"], 2, "needs --sd"),
        (["margin", "--metric", "completion", "--margin", "0"], 2, "--margin 0.1"),
        (["margin", "--metric", "completion", "--margin", "10"], 2, "shares between 0 and 1"),
        (["margin", "--metric", "completion", "--margin", "0.1", "--sd", "2"], 2, "give --p"),
        (["margin", "--metric", "completion", "--margin", "0.1", "--p", "1.2"], 2, "share 0–1"),
        (["margin", "--metric", "rating", "--margin", "-1", "--sd", "1"], 2, "positive"),
        (["margin", "--metric", "score", "--margin", "0.1"], 2, "Invalid value for '--metric'"),
        (["discovery", "--goal", "0.9"], 2, "give --p P"),
        (["discovery", "--p", "0.3", "--from", "x.db", "--goal", "0.9"], 2, "not both"),
        (["discovery", "--p", "1.5", "--goal", "0.9"], 2, "at most 1"),
        (["discovery", "--p", "0.3", "--goal", "1"], 2, "--goal 0.85"),
        (["discovery", "--p", "0.3", "--goal", "0.9", "--condition", "x"], 2, "with --from"),
        (["discovery", "--from", "missing.db", "--goal", "0.9"], 1, "does not exist"),
        (["compare", "--metric", "completion", "--p1", "0.7"], 2, "needs --p1 and --p2"),
        (["compare", "--metric", "completion", "--p1", "0.7", "--p2", "0.7"], 2, "equal"),
        (["compare", "--metric", "rating", "--sd", "1"], 2, "--difference"),
        (["compare", "--metric", "rating", "--p1", "0.5", "--p2", "0.6"], 2, "--sd and"),
        (["compare", "--metric", "rating", "--sd", "1", "--difference", "0.5", "--power", "1"],
         2, "power is a probability"),
        (["compare", "--metric", "completion", "--p1", "0.7", "--p2", "0.9", "--confidence",
          "95"], 2, "--confidence"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_a_status(args, code, says, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == code, result.output
    assert says in result.output
    assert "Traceback" not in result.output
    if code == 1 or ("Invalid value" not in says and "--confidence" not in says):
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_discovery_without_problems_or_sessions(tmp_path):
    path = tmp_path / "empty.db"
    db = open_db(path)
    s = recorder.start(db, STUDY, "P01", clock=FakeClock()).session
    s.start()
    s.end("success")
    s.complete()
    db.close()
    result = run("discovery", "--from", str(path), "--goal", "0.9")
    assert result.exit_code == 1 and "no problems are recorded" in result.output
    result = run("discovery", "--from", str(path), "--goal", "0.9", "--condition", "nope")
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_every_plan_command_has_help_with_an_example():
    for name in ("margin", "discovery", "compare"):
        result = run(name, "--help")
        assert result.exit_code == 0 and "Example" in result.output


def test_the_installed_command(table_7_5_db):
    exe = ROOT / ".venv" / "bin" / "usetest"
    if not exe.exists():
        pytest.skip("no installed usetest in .venv")
    done = subprocess.run([str(exe), "plan", "discovery", "--from", str(table_7_5_db),
                           "--goal", "0.99", "--format", "json"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["more"] == 3
    done = subprocess.run([str(exe), "plan", "margin", "--metric", "rating", "--margin", "1"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("usetest: ") and not done.stdout
