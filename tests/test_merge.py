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


def test_different_studies_are_refused_before_anything_is_written(tmp_path):
    a = lab(tmp_path / "a.db", ["P01"])
    b = lab(tmp_path / "b.db", ["P02"], STUDY_YAML.replace("Fixture study", "Other study"))
    out = tmp_path / "all.db"
    with pytest.raises(MergeError, match="different studies") as caught:
        merge([a, b], out)
    assert "“Fixture study”" in str(caught.value) and "“Other study”" in str(caught.value)
    assert not out.exists() and not (tmp_path / "all.db-wal").exists()
    result = CliRunner().invoke(cli, ["merge", str(a), str(b), "-o", str(out)])
    assert result.exit_code == 1 and "nothing was merged or written" in result.stderr
    assert "Traceback" not in result.output and not out.exists()


def test_a_code_used_for_two_sessions_is_refused(tmp_path):
    a = lab(tmp_path / "a.db", ["P01"])
    b = lab(tmp_path / "b.db", ["P01"])
    result = CliRunner().invoke(cli, ["merge", str(a), str(b), "-o", str(tmp_path / "all.db")])
    assert result.exit_code == 1 and "P01 names two different sessions" in result.stderr


def test_a_withdrawn_participant_is_not_brought_back_and_is_erased_where_merged_before(tmp_path):
    from usetest import store

    a = lab(tmp_path / "a.db", ["P01", "P02"])
    out = tmp_path / "all.db"
    assert merge([a], out).added == 2
    db = open_db(a)
    store.withdraw_session(db, "P02", withdrawn_at="2026-11-05T10:00:00Z", reason="asked")
    db.close()
    b = lab(tmp_path / "b.db", ["P03"])
    fresh = tmp_path / "fresh.db"
    result = merge([a, b], fresh)  # P02 is gone from a: only its tombstone travels
    assert (result.added, result.withdrawn) == (2, 0)
    assert count(fresh, "SELECT count(*) FROM withdrawals") == 1
    again = merge([a, b], out)  # P02 was merged into `out` before: it is erased there too
    assert (again.added, again.already_there, again.withdrawn) == (1, 1, 1)
    assert count(out, "SELECT count(*) FROM sessions WHERE participant = 'P02'") == 0
    assert count(out, "SELECT count(*) FROM withdrawals") == 1
    assert b"P02" not in out.read_bytes()


def test_a_source_with_a_hostile_code_is_refused_and_nothing_is_written(tmp_path):
    """Codes typed before codes were checked (or written by another program) are checked here."""
    good, bad = tmp_path / "good.db", tmp_path / "bad.db"
    lab(good, ["P01"])
    lab(bad, ["P02"])
    db = open_db(bad)
    db.execute("UPDATE sessions SET participant = ?", ["P02\x1b]52;c;ZXZpbA==\x07"])
    db.conn.commit()
    db.close()
    target = tmp_path / "all.db"
    result = CliRunner().invoke(cli, ["merge", str(good), str(bad), "-o", str(target)])
    assert result.exit_code == 1
    assert "bad.db" in result.output and "participant code" in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert not target.exists()
