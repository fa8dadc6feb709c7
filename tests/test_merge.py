"""Merging lab databases: every event kept, no duplicates, different scenarios refused."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.conftest import STUDY_YAML
from usetest import recorder
from usetest.analysis import summarise
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.merge import MergeError, merge
from usetest.scenario import parse_scenario
from usetest.store import open_db


def lab(path, codes, yaml=STUDY_YAML):
    db = open_db(path)
    clock = FakeClock()
    study = parse_scenario(yaml)
    for code in codes:
        s = recorder.start(db, study, code, clock=clock).session
        s.start()
        clock.advance(20)
        s.log_error("n")
        s.end("success")
        s.end("skipped")
        s.end("skipped")
        for i in range(1, 11):
            s.answer("sus", f"sus{i}", 3)
        s.answer("umux-lite", "umux1", 5)
        s.answer("umux-lite", "umux2", 5)
        s.answer("nps", "nps", 9)
        s.complete()
    db.close()
    return path


def count(path, sql):
    db = open_db(path)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


def test_merge_keeps_every_event_and_is_idempotent(tmp_path):
    a = lab(tmp_path / "a.db", ["P01", "P02"])
    b = lab(tmp_path / "b.db", ["P03"])
    out = tmp_path / "all.db"
    result = merge([a, b], out)
    assert (result.added, result.already_there) == (3, 0)
    events = count(a, "SELECT count(*) FROM events") + count(b, "SELECT count(*) FROM events")
    assert count(out, "SELECT count(*) FROM events") == events
    again = merge([a, b], out)
    assert (again.added, again.already_there) == (0, 3)
    assert count(out, "SELECT count(*) FROM events") == events
    assert count(out, "SELECT count(*) FROM errors") == 3
    s = summarise(out)
    assert s.tasks.iloc[0]["n"] == 3 and s.sus_summary["n"] == 3


def test_different_scenarios_are_refused_before_writing(tmp_path):
    a = lab(tmp_path / "a.db", ["P01"])
    b = lab(tmp_path / "b.db", ["P02"], STUDY_YAML.replace("Fixture study", "Other study"))
    out = tmp_path / "all.db"
    with pytest.raises(MergeError, match="different scenario versions"):
        merge([a, b], out)
    assert count(out, "SELECT count(*) FROM sessions") == 0


def test_a_code_used_for_two_sessions_is_refused(tmp_path):
    a = lab(tmp_path / "a.db", ["P01"])
    b = lab(tmp_path / "b.db", ["P01"])
    result = CliRunner().invoke(cli, ["merge", str(a), str(b), "-o", str(tmp_path / "all.db")])
    assert result.exit_code == 1 and "P01 names two different sessions" in result.stderr
