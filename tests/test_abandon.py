"""`usetest abandon`: an unfinished session closed for good from the command line."""

from __future__ import annotations

from click.testing import CliRunner

from tests.test_ownership import Holder
from usetest import recorder, store
from usetest.analysis import summarise
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.store import open_db


def crashed(db_path, study, clock, code="P01"):
    """A session whose app died with task one running, 7 s in (its last event at 7 s)."""
    db = open_db(db_path)
    rec = recorder.start(db, study, code, clock=clock)
    rec.session.start()
    clock.advance(7)
    rec.session.log_assist()
    clock.advance(100)  # the process died here: not counted
    db.close()
    return rec


def test_abandon_closes_a_crashed_session_keeping_its_time(db_path, study, clock):
    rec = crashed(db_path, study, clock)
    result = CliRunner().invoke(cli, ["abandon", str(db_path), "--participant", "P01",
                                      "--reason", "had to leave"], input="y\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Abandon P01's session (last event" in result.output
    assert "P01: abandoned — it is no longer offered for resume" in result.output
    db = open_db(db_path)
    assert store.list_sessions(db, "in_progress") == []
    row = db["sessions"].get(rec.record.id)
    assert row["status"] == "abandoned" and row["owner"] is None and row["ended_at"]
    events = store.load_events(db, rec.record.id)
    assert [e.kind for e in events][-2:] == ["session_resumed", "session_abandoned"]
    assert events[-1].payload["reason"] == "had to leave"
    attempt = db["attempts"].get((rec.record.id, "one"))
    assert attempt["time_ms"] == 7_000  # closed at the crashed run's last event
    db.close()
    assert summarise(db_path).sessions.empty  # left out of analyses …
    assert list(summarise(db_path, include_unfinished=True).sessions["participant"]) == ["P01"]


def test_abandon_asks_first_and_no_changes_nothing(db_path, study, clock):
    crashed(db_path, study, clock)
    result = CliRunner().invoke(cli, ["abandon", str(db_path), "--participant", "P01"],
                                input="n\n")  # fmt: skip
    assert result.exit_code == 1 and "not abandoned; nothing was changed" in result.output
    db = open_db(db_path)
    assert [s.participant for s in store.list_sessions(db, "in_progress")] == ["P01"]


def test_abandon_is_refused_while_an_app_records_the_session(db_path):
    holder = Holder(db_path, "P01")
    try:
        result = CliRunner().invoke(cli, ["abandon", str(db_path), "--participant", "P01",
                                          "--yes"])  # fmt: skip
        assert result.exit_code == 1
        assert f"P01 is open in another usetest (pid {holder.proc.pid}" in result.output
        assert "--take-over" in result.output
        db = open_db(db_path)
        assert [s.status for s in store.list_sessions(db)] == ["in_progress"]
        # a frozen app: taken over on purpose, after a confirmation
        result = CliRunner().invoke(cli, ["abandon", str(db_path), "--participant", "P01",
                                          "--take-over"], input="y\n")  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "that app cannot save anything more to this session" in result.output
        assert [s.status for s in store.list_sessions(db)] == ["abandoned"]
    finally:
        holder.close()


def test_abandon_of_a_finished_session_says_why(db_path, study, clock):
    db = open_db(db_path)
    rec = recorder.start(db, study, "P01", clock=clock)
    for task in rec.session.state.order:
        rec.session.start(task)
        rec.session.end("success")
    rec.session.complete()
    recorder.start(db, study, "P02", clock=clock).session.abandon()
    db.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["abandon", str(db_path), "--participant", "P01", "--yes"])
    assert result.exit_code == 1 and "P01's session is completed" in result.output
    assert "usetest withdraw" in result.output
    result = runner.invoke(cli, ["abandon", str(db_path), "--participant", "P02", "--yes"])
    assert result.exit_code == 0 and "abandoned already; nothing to do" in result.output
    result = runner.invoke(cli, ["abandon", str(db_path), "--participant", "P07", "--yes"])
    assert result.exit_code == 1 and "no session for participant 'P07'" in result.output


def test_recorder_abandon_of_a_session_killed_before_its_first_event(db_path, study):
    db = open_db(db_path)
    record = store.create_session(db, scenario_id=store.save_scenario(db, study, "x"),
                                  participant="P01", moderator=None, condition=None,
                                  order=["one", "two", "three"], started_at="x")  # fmt: skip
    rec = recorder.abandon(db, record.id, "never began", clock=FakeClock())
    assert [e.kind for e in rec.session.events] == ["session_started", "session_abandoned"]
