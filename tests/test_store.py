"""The event store: file set-up, migrations, append-only log, projections, bad databases."""

from __future__ import annotations

import json
import sqlite3
import stat

import pytest

from tests.conftest import STUDY_YAML
from usetest import recorder, store
from usetest.events import replay
from usetest.scenario import parse_scenario
from usetest.store import SCHEMA_VERSION, StoreError, open_db


def test_new_file_is_private_wal_full_sync_with_foreign_keys(db_path):
    db = open_db(db_path)
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    conn = db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.schema_version(db) == SCHEMA_VERSION
    assert {"scenarios", "sessions", "events", "attempts", "answers", "errors", "notes"} <= set(
        db.table_names()
    )
    db.close()


def test_wal_companions_are_private_too(db_path, study, clock):
    db = open_db(db_path)
    recorder.start(db, study, "P01", clock=clock)
    for suffix in ("-wal", "-shm"):
        companion = db_path.with_name(db_path.name + suffix)
        assert companion.exists()
        assert stat.S_IMODE(companion.stat().st_mode) & 0o077 == 0, suffix


def test_events_are_append_only(db, study, clock):
    rec = recorder.start(db, study, "P01", clock=clock)
    rec.session.start()
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE events SET kind = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM events")


def test_every_event_is_committed_before_the_call_returns(db_path, study, clock):
    db = open_db(db_path)
    rec = recorder.start(db, study, "P01", clock=clock)
    other = sqlite3.connect(db_path)  # a second process's view: sees only committed data
    rec.session.start()
    clock.advance(3)
    rec.session.log_error("n", note="went to Help")
    kinds = [k for (k,) in other.execute("SELECT kind FROM events ORDER BY event_seq")]
    assert kinds == ["session_started", "task_started", "error_logged"]
    assert other.execute("SELECT type_name, note FROM errors").fetchall() == [
        ("navigation", "went to Help")
    ]
    assert not db.conn.in_transaction


def test_projections_follow_the_log_including_undo(db, study, clock):
    rec = recorder.start(db, study, "P01", clock=clock)
    s = rec.session
    s.start()
    clock.advance(42)
    s.log_error("m")
    s.log_assist()
    s.log_note("Couldn't find cart", kind="problem", severity=3)
    s.end("partial")
    s.answer("seq", "seq", 5, task_id="one")
    s.end("skipped")
    s.undo()  # un-skip task two
    rows = list(db.query("SELECT * FROM attempts ORDER BY position"))
    assert [r["task_id"] for r in rows] == ["one", "two", "three"]
    one = rows[0]
    assert (one["status"], one["outcome"], one["time_ms"]) == ("ended", "partial", 42_000)
    assert (one["errors"], one["assists"], one["seq_rating"]) == (1, 1, 5)
    assert (one["time_limit_s"], one["over_time_limit"]) == (60, 0)
    assert rows[1]["status"] == "pending" and rows[1]["outcome"] is None
    assert [r["severity"] for r in db.query("SELECT * FROM notes")] == [3]
    answers = list(db.query("SELECT questionnaire, item, task_id, value_num FROM answers"))
    assert answers == [{"questionnaire": "seq", "item": "seq", "task_id": "one", "value_num": 5}]
    # the projections equal a rebuild from the stored events
    events = store.load_events(db, rec.record.id)
    assert replay(list(rec.record.order), events) == s.state
    session = db["sessions"].get(rec.record.id)
    assert session["status"] == "in_progress" and session["condition"] is None


def test_scenario_text_is_kept_once_per_version(db, study, clock):
    recorder.start(db, study, "P01", clock=clock)
    recorder.start(db, study, "P02", clock=clock)
    rows = list(db.query("SELECT sha256, text FROM scenarios"))
    assert len(rows) == 1 and rows[0]["sha256"] == study.sha256
    assert "[bold]literal[/]" in rows[0]["text"]  # markup stored unchanged


def test_participant_codes_and_conditions(db, clock):
    study = parse_scenario(STUDY_YAML.replace("task_order:", "conditions: [a, b]\ntask_order:"))
    assert store.next_participant_code(db) == "P01"
    recorder.start(db, study, "P01", clock=clock, condition="a")
    recorder.start(db, study, "P09", clock=clock, condition="a")
    assert store.next_participant_code(db) == "P10"
    with pytest.raises(StoreError, match="P01 already has a session.*P10"):
        recorder.start(db, study, "P01", clock=clock, condition="b")
    assert store.condition_counts(db, ["a", "b"]) == {"a": 2, "b": 0}
    with pytest.raises(StoreError, match="no conditions"):
        recorder.start(db, parse_scenario(STUDY_YAML), "P12", clock=clock, condition="a")
    with pytest.raises(StoreError, match="choose a condition: a, b"):
        recorder.start(db, study, "P11", clock=clock)
    with pytest.raises(StoreError, match="not one of"):
        recorder.start(db, study, "P11", clock=clock, condition="c")


def test_reopening_keeps_everything_and_resumes(db_path, study, clock):
    db = open_db(db_path)
    rec = recorder.start(db, study, "P01", clock=clock)
    rec.session.start()
    clock.advance(9)
    rec.session.log_assist()
    db.close()
    db = open_db(db_path)
    [unfinished] = store.list_sessions(db, "in_progress")
    again, info = recorder.resume(db, unfinished.id, clock=clock, current_sha256="other")
    assert info.interrupted_tasks == ("one",) and info.scenario_changed
    assert info.last_event_at == rec.session.events[-1].at
    assert again.session.state.tasks["one"].closed_ms == 9_000
    assert db["sessions"].get(unfinished.id)["runs"] == 2


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database" * 100)
    with pytest.raises(StoreError, match="not a usetest database"):
        open_db(path)
    assert path.read_bytes().startswith(b"these are my notes")


def test_another_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a usetest database"):
        open_db(path)


def test_a_newer_schema_is_refused_untouched(db_path):
    open_db(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer usetest"):
        open_db(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_migration_steps_run_from_an_empty_file(tmp_path):
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()  # a file at schema version 0
    db = open_db(path)
    assert store.schema_version(db) == SCHEMA_VERSION


def test_directory_and_missing_paths(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        open_db(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        open_db(tmp_path / "nope.db", create=False)


@pytest.mark.skipif(__import__("os").geteuid() == 0, reason="root ignores file permissions")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="cannot create"):
            open_db(folder / "study.db")
    finally:
        folder.chmod(0o700)


def test_a_failed_commit_raises_store_error_and_keeps_the_engine_unchanged(db_path, study, clock):
    db = open_db(db_path)
    rec = recorder.start(db, study, "P01", clock=clock)
    rec.session.start()
    before = rec.session.state
    # Another writer holds the write lock longer than we wait for it.
    blocker = sqlite3.connect(db_path, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")
    db.conn.execute("PRAGMA busy_timeout = 50")
    with pytest.raises(StoreError, match="NOT saved"):
        rec.session.log_assist()
    assert rec.session.state == before
    blocker.rollback()
    rec.session.log_assist()
    assert [e.seq for e in store.load_events(db, rec.record.id)] == [1, 2, 3]


def test_payloads_are_json(db, study, clock):
    rec = recorder.start(db, study, "P01", clock=clock)
    payload = db.execute("SELECT payload FROM events WHERE event_seq = 1").fetchone()[0]
    assert json.loads(payload)["order"] == ["one", "two", "three"]
    assert json.loads(payload)["participant"] == "P01"
    assert rec.record.order == ("one", "two", "three")
