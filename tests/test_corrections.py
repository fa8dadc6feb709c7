"""Corrections after the fact: the engine's rules, the store's projections, the analysis and
`usetest amend` (the app's review screen is tested in tests/tui/test_review.py)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from usetest import recorder, store
from usetest.analysis import summarise
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.events import CORRECTION, SessionError, replay
from usetest.session import Session


def _finished(db, study, clock, code="P01"):
    """P01: one success in 20 s with 1 error, SEQ 6; two skipped; three fail in 5 s."""
    rec = recorder.start(db, study, code, "AB", clock=clock)
    s = rec.session
    s.start()
    clock.advance(20)
    s.log_error("n")
    s.end("success")
    s.answer("seq", "seq", 6, task_id="one")
    s.end("skipped")
    s.start()
    clock.advance(5)
    s.end("fail")
    return rec


def test_a_correction_changes_the_values_and_keeps_old_new_who_and_why(db, study, clock):
    s = _finished(db, study, clock).session
    event = s.correct("one", {"outcome": "partial", "time_ms": 18_000, "errors": 0, "seq": 5},
                      "pressed s instead of p", by="AB")  # fmt: skip
    assert event.kind == CORRECTION and event.task_id == "one"
    assert event.payload == {
        "changes": {"outcome": {"old": "success", "new": "partial"},
                    "time_ms": {"old": 20_000, "new": 18_000},
                    "errors": {"old": 1, "new": 0}, "seq": {"old": 6, "new": 5}},
        "reason": "pressed s instead of p", "by": "AB",
    }  # fmt: skip
    one = s.state.tasks["one"]
    assert (one.outcome, one.recorded_ms, one.errors, one.corrections) == ("partial", 18_000, 0, 1)
    assert one.closed_ms == 20_000  # the measured time stays in the log's terms
    assert s.state.answer("seq", "seq", "one").value == 5
    assert replay(s.state.order, s.events) == s.state


def test_corrections_work_after_later_tasks_and_after_completion(db, study, clock):
    s = _finished(db, study, clock).session
    for item, value in zip([f"sus{i}" for i in range(1, 11)], [3] * 10, strict=True):
        s.answer("sus", item, value)
    s.complete()
    s.correct("three", {"outcome": "success"}, "criterion met after all")
    assert s.state.status == "completed"
    assert s.state.tasks["three"].outcome == "success"
    with pytest.raises(SessionError, match="completed"):
        s.log_note("too late")  # a completed session takes corrections, not new events


def test_undo_cancels_a_correction_like_any_last_event(db, study, clock):
    s = _finished(db, study, clock).session
    s.correct("one", {"assists": 2}, "missed two hints")
    s.undo()
    assert s.state.tasks["one"].assists == 0 and s.state.tasks["one"].corrections == 0


@pytest.mark.parametrize(("task", "changes", "reason", "message"), [
    ("two", {"outcome": "success"}, "x", "nothing to correct|skipped"),
    ("nope", {"outcome": "fail"}, "x", "no task 'nope'"),
    ("one", {"outcome": "won"}, "x", "unknown outcome"),
    ("one", {"time_ms": -5}, "x", "time on task takes a whole number"),
    ("one", {"seq": 9}, "x", "SEQ takes 1 to 7"),
    ("one", {"colour": 1}, "x", "'colour' cannot be corrected"),
    ("one", {"outcome": "success"}, "x", "nothing to correct"),
    ("one", {"outcome": "fail"}, "  ", "needs a reason"),
])  # fmt: skip
def test_bad_corrections_are_refused_and_nothing_is_recorded(db, study, clock, task, changes,
                                                             reason, message):  # fmt: skip
    s = _finished(db, study, clock).session
    if task == "two":
        changes = {"outcome": "skipped"}
    before = len(s.events)
    with pytest.raises(SessionError, match=message):
        s.correct(task, changes, reason)
    assert len(s.events) == before


def test_a_running_task_is_not_corrected_but_ended(db, study, clock):
    rec = recorder.start(db, study, "P01", clock=clock)
    rec.session.start()
    with pytest.raises(SessionError, match="has not ended"):
        rec.session.correct("one", {"errors": 3}, "x")


def test_projections_and_summary_use_the_corrected_values(db_path, study, clock):
    db = store.open_db(db_path)
    s = _finished(db, study, clock).session
    s.correct("one", {"time_ms": 30_000, "outcome": "fail"}, "timer left running")
    row = db.execute("SELECT outcome, time_ms, corrections FROM attempts WHERE task_id = 'one'"
                     ).fetchone()  # fmt: skip
    assert row == ("fail", 30_000, 1)
    for item in [f"sus{i}" for i in range(1, 11)]:
        s.answer("sus", item, 3)
    s.complete()
    db.close()
    tasks = summarise(db_path).tasks.set_index("task_id")
    assert tasks.loc["one", "successes"] == 0 and tasks.loc["one", "n"] == 1


def test_a_reopened_session_corrects_in_a_run_of_its_own_and_resumes_correctly(
    db_path, study, clock
):
    """`usetest amend` while the app is down after a crash must not shift the crashed task's
    time: its monotonic clock is another process's."""
    db = store.open_db(db_path)
    rec = recorder.start(db, study, "P01", clock=clock)
    s = rec.session
    s.start()
    clock.advance(12)
    s.end("success")
    s.start()  # task two running
    clock.advance(7)
    s.log_assist()  # the last event before the crash: 7 s on task two
    run = s.run
    amend_clock = FakeClock(start_ms=9_999_999)
    other = recorder.reopen(db, rec.record.id, clock=amend_clock)
    event = other.session.correct("one", {"time_ms": 10_000}, "stopwatch said 10 s")
    assert event.run == run + 1
    later = FakeClock(start_ms=5)
    resumed, info = recorder.resume(db, rec.record.id, clock=later)
    assert info.interrupted_tasks == ("two",)
    assert resumed.session.state.tasks["two"].closed_ms == 7_000
    assert resumed.session.state.tasks["one"].recorded_ms == 10_000
    db.close()


def _demo_db(db_path, study, clock):
    db = store.open_db(db_path)
    _finished(db, study, clock)
    db.close()


def test_amend_on_the_command_line(db_path, study, clock):
    _demo_db(db_path, study, clock)
    result = CliRunner().invoke(cli, [
        "amend", str(db_path), "--participant", "P01", "--task", "one", "--outcome", "fail",
        "--time-s", "21.5", "--seq", "declined", "--reason", "reviewed the video", "--by", "CD",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "one: outcome success → fail, time 00:20 → 00:21, seq 6 → declined" in result.output
    db = store.open_db(db_path)
    row = db.execute("SELECT outcome, time_ms, seq_rating, corrections FROM attempts"
                     " WHERE task_id = 'one'").fetchone()  # fmt: skip
    assert row == ("fail", 21_500, None, 1)
    [(payload,)] = db.execute("SELECT payload FROM events WHERE kind = 'correction'").fetchall()
    assert json.loads(payload)["by"] == "CD" and json.loads(payload)["reason"] == "reviewed the video"
    declined = db.execute("SELECT declined FROM answers WHERE questionnaire = 'seq'").fetchone()
    assert declined == (1,)
    db.close()


@pytest.mark.parametrize(("args", "message", "code"), [
    (["--participant", "P09", "--task", "one", "--outcome", "fail"], "no session for participant 'P09'", 1),
    (["--participant", "P01", "--task", "zzz", "--outcome", "fail"], "no task 'zzz'", 1),
    (["--participant", "P01", "--task", "one"], "nothing to correct", 2),
    (["--participant", "P01", "--task", "one", "--seq", "great"], "--seq takes 1 to 7", 2),
    (["--participant", "P01", "--task", "one", "--seq", "8"], "SEQ takes 1 to 7", 1),
])  # fmt: skip
def test_amend_refusals_say_why_and_change_nothing(db_path, study, clock, args, message, code):
    _demo_db(db_path, study, clock)
    result = CliRunner().invoke(cli, ["amend", str(db_path), *args, "--reason", "r"])
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output
    db = store.open_db(db_path)
    assert db.execute("SELECT count(*) FROM events WHERE kind = 'correction'").fetchone() == (0,)
    db.close()


def test_amend_refuses_a_missing_database(tmp_path):
    result = CliRunner().invoke(cli, ["amend", str(tmp_path / "no.db"), "--participant", "P01",
                                      "--task", "one", "--outcome", "fail", "--reason", "r"])  # fmt: skip
    assert result.exit_code == 1 and "does not exist" in result.output
    assert not (tmp_path / "no.db").exists()


def test_session_reopen_is_the_engine_path(study, clock):
    from tests.test_session import ListSink

    sink = ListSink()
    s = Session.begin(study.scenario, ["one", "two", "three"], clock, sink, participant="P01")
    s.end("skipped")
    other = Session.reopen(study.scenario, ["one", "two", "three"], sink.events, FakeClock(), sink)
    other.correct("one", {"outcome": "fail"}, "never skipped: they tried")
    assert other.state.tasks["one"].outcome == "fail"
    assert replay(other.state.order, sink.events) == other.state
