"""Withdrawal: a participant's data erased for real (file and -wal bytes), a tombstone left.

The participant codes and texts are distinctive strings, so a search of the raw bytes cannot
hit them by chance.
"""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from tests.test_ownership import Holder
from usetest import recorder, store
from usetest.cli import cli
from usetest.scenario import load_scenario
from usetest.store import ScrubIncomplete, SessionBusy, StoreError, open_db

GONE, KEPT = "WD-7731", "KEEP-4410"


def texts(code: str) -> list[str]:
    """Every free text recorded for ``code`` (each names the code, to be told apart)."""
    return [f"moderator-of-{code}", f"quote-zebra-{code}", f"error-note-{code}",
            f"pause-phone-{code}", f"problem-text-{code}"]  # fmt: skip


def record(db, study, clock, code: str):
    moderator, quote, error_note, pause, problem = texts(code)
    rec = recorder.start(db, study, code, moderator=moderator, clock=clock, consent="in the app")
    s = rec.session
    s.start()
    clock.advance(3)
    s.log_note(quote, kind="quote")
    s.log_error("n", note=error_note)
    s.pause(pause)
    s.resume()
    s.log_note(problem, kind="problem", severity=3)
    s.end("success")
    s.answer("seq", "seq", 6, task_id="one")
    return rec


@pytest.fixture
def two(db_path, study, clock):
    """A database with two participants; ``GONE`` will be withdrawn, ``KEPT`` stays. The
    connection that recorded them stays open (an app running on), so the -wal holds them."""
    db = open_db(db_path)
    record(db, study, clock, GONE)
    record(db, study, clock, KEPT)
    assert GONE.encode() in db_path.with_name(db_path.name + "-wal").read_bytes()
    yield db_path
    db.close()


def raw(db_path) -> bytes:
    data = db_path.read_bytes()
    wal = db_path.with_name(db_path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def assert_erased(db_path):
    data = raw(db_path)
    for secret in [GONE, *texts(GONE)]:
        assert secret.encode() not in data, f"{secret} is still in the file or its -wal"
    for kept in [KEPT, *texts(KEPT)]:
        assert kept.encode() in data, f"{kept} of the other participant is gone"


def test_withdraw_erases_every_byte_of_the_participant_and_keeps_a_tombstone(two):
    assert GONE.encode() in raw(two)  # the search works
    result = CliRunner().invoke(cli, ["withdraw", str(two), "--participant", GONE,
                                      "--reason", "asked by email", "--by", "AB"],
                                input="y\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"{GONE} withdrawn" in result.output and "Copies made before" in result.output
    assert two.with_name(two.name + "-wal").exists()  # the recording app is still open
    assert_erased(two)
    db = open_db(two)
    [tombstone] = store.list_withdrawals(db)
    assert (tombstone.status, tombstone.withdrawn_by, tombstone.reason) == (
        "in_progress", "AB", "asked by email")
    assert [s.participant for s in store.list_sessions(db)] == [KEPT]
    kept = store.find_session(db, KEPT)
    assert tombstone.session_uid != kept.uid
    # the others' events and projections are whole, and the log is append-only again
    assert len(store.load_events(db, kept.id)) == 10
    assert db.execute("SELECT count(*) FROM notes").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM events WHERE session_id NOT IN"
                      " (SELECT id FROM sessions)").fetchone()[0] == 0  # fmt: skip
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM events WHERE session_id = ?", [kept.id])
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_tombstone_holds_no_code_and_no_text(two):
    CliRunner().invoke(cli, ["withdraw", str(two), "--participant", GONE, "--yes"])
    row = open_db(two).execute("SELECT * FROM withdrawals").fetchone()
    assert not any(GONE in str(v) or "zebra" in str(v) for v in row)


def test_withdraw_confirms_first_and_no_changes_nothing(two):
    before = raw(two)
    result = CliRunner().invoke(cli, ["withdraw", str(two), "--participant", GONE], input="n\n")
    assert result.exit_code == 1
    assert (f"This erases {GONE}'s in progress session for good: 10 events, 1 answer(s), "
            "3 note(s) and error(s)") in result.output  # fmt: skip
    assert "It cannot be undone" in result.output and "not withdrawn; nothing was changed" in result.output
    db = open_db(two)
    assert {s.participant for s in store.list_sessions(db)} == {GONE, KEPT}
    assert store.list_withdrawals(db) == [] and before


def test_withdrawing_the_session_an_app_records_is_refused(db_path):
    holder = Holder(db_path, GONE)
    try:
        result = CliRunner().invoke(cli, ["withdraw", str(db_path), "--participant", GONE,
                                          "--yes"])  # fmt: skip
        assert result.exit_code == 1
        assert f"{GONE} is open in another usetest (pid {holder.proc.pid}" in result.output
        db = open_db(db_path)
        assert [s.participant for s in store.list_sessions(db)] == [GONE]
        with pytest.raises(SessionBusy):
            store.withdraw_session(db, GONE, withdrawn_at="2026-11-24T10:00:00Z")
        assert store.list_withdrawals(db) == []
    finally:
        holder.close()
    # once that app is gone (killed), the withdrawal goes through
    result = CliRunner().invoke(cli, ["withdraw", str(db_path), "--participant", GONE, "--yes"])
    assert result.exit_code == 0, result.output
    assert GONE.encode() not in raw(db_path)


def test_a_reason_naming_the_participant_is_refused(two):
    result = CliRunner().invoke(cli, ["withdraw", str(two), "--participant", GONE, "--yes",
                                      "--reason", f"{GONE} changed their mind"])  # fmt: skip
    assert result.exit_code == 1 and "leave the code out" in result.output
    assert GONE.encode() in raw(two)


def test_a_reader_holding_the_file_stops_the_withdrawal_before_anything_changes(two):
    db = open_db(two)
    db.execute("PRAGMA busy_timeout = 200")
    reader = sqlite3.connect(two)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM events").fetchone()  # a read transaction, held open
    try:
        with pytest.raises(ScrubIncomplete, match="nothing was changed"):
            store.withdraw_session(db, GONE, withdrawn_at="2026-11-24T10:00:00Z")
    finally:
        reader.close()
    assert {s.participant for s in store.list_sessions(db)} == {GONE, KEPT}


def test_a_reader_arriving_mid_way_is_named_and_finish_clears_the_file(two, monkeypatch):
    """The rows are deleted, but a reader kept the file from being cleared: say so, exit 1,
    and ``withdraw --finish`` completes the job once it is closed."""
    db = open_db(two)
    db.execute("PRAGMA busy_timeout = 200")
    reader = sqlite3.connect(two)
    checks = iter([False, True])

    def first_check_passes(handle, then):  # the reader starts after the check before deleting
        if next(checks):
            return real_checkpoint(handle, then)

    real_checkpoint = store._checkpoint
    monkeypatch.setattr(store, "_checkpoint", first_check_passes)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM notes").fetchone()
    try:
        with pytest.raises(ScrubIncomplete) as caught:
            store.withdraw_session(db, GONE, withdrawn_at="2026-11-24T10:00:00Z")
    finally:
        reader.close()
        db.close()
    message = str(caught.value)
    assert "the withdrawn participant is deleted" in message and "--finish" in message
    assert "Datasette" in message
    monkeypatch.undo()
    result = CliRunner().invoke(cli, ["withdraw", str(two), "--finish"])
    assert result.exit_code == 0, result.output
    assert_erased(two)


def test_withdraw_of_an_unknown_code_or_without_one_says_what_to_do(two):
    runner = CliRunner()
    result = runner.invoke(cli, ["withdraw", str(two), "--participant", "P99", "--yes"])
    assert result.exit_code == 1 and "no session for participant 'P99'" in result.output
    result = runner.invoke(cli, ["withdraw", str(two)])
    assert result.exit_code == 2 and "--participant CODE" in result.output
    result = runner.invoke(cli, ["withdraw", str(two.with_name("nope.db")), "--participant", GONE])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_analyses_count_the_withdrawn_participant_out(two):
    from usetest.analysis import summarise

    CliRunner().invoke(cli, ["withdraw", str(two), "--participant", GONE, "--yes"])
    summary = summarise(two, include_unfinished=True)
    assert list(summary.sessions["participant"]) == [KEPT]


def test_withdraw_in_memory_needs_no_scrub(db, study, clock):
    record(db, study, clock, GONE)
    tombstone = store.withdraw_session(db, GONE, withdrawn_at="2026-11-24T10:00:00Z",
                                       withdrawn_by="AB")  # fmt: skip
    assert tombstone.withdrawn_by == "AB" and store.list_sessions(db) == []
    with pytest.raises(StoreError, match="no session"):
        store.find_session(db, GONE)


def test_the_demo_scenario_withdraws_too(tmp_path, clock):
    """The real scenario's free-text places: a session that ran the demo study."""
    path = tmp_path / "demo.db"
    db = open_db(path)
    demo = load_scenario(store.Path(__file__).parent.parent / "scenarios" / "demo.yaml")
    rec = recorder.start(db, demo, GONE, clock=clock)
    rec.session.start()
    rec.session.log_note(texts(GONE)[1], kind="quote")
    rec.session.abandon(texts(GONE)[3])
    store.withdraw_session(db, GONE, withdrawn_at="2026-11-24T10:00:00Z")
    assert GONE.encode() not in raw(path) and texts(GONE)[3].encode() not in raw(path)
