"""Bad databases: each refusal or failed write says what, where and how to fix it, and loses nothing.

The causes are real where this machine allows it (an immutable file, a read-only mount, a full
tmpfs, a second writer holding the lock) and simulated otherwise (SQLite's max_page_count for a
full disk). After the cause is removed the same session carries on from where it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from usetest import recorder
from usetest.clock import FakeClock
from usetest.store import SCHEMA_VERSION, StoreError, open_db

ROOT_USER = os.geteuid() == 0


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def recorded(db_path: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT event_seq, kind FROM events ORDER BY event_seq").fetchall()
    finally:
        conn.close()


def session_with_events(db_path: Path, study, clock):  # type: ignore[no-untyped-def]
    db = open_db(db_path)
    rec = recorder.start(db, study, "P01", clock=clock)
    rec.session.start()
    clock.advance(4)
    rec.session.log_error("n", note="went to Help")
    return db, rec


# ---------------------------------------------------------------------------------------------
# Files that are not (our) databases.


@pytest.mark.parametrize(
    "content",
    [
        b"these are my notes, not a database\n" * 50,
        b"SQLite format 3\x00" + b"\xff" * 200,  # the right magic, nonsense after it
        b"\x00" * 4096,
    ],
)
def test_a_file_that_is_not_a_database_is_refused_with_where_and_what_to_do(tmp_path, content):
    path = tmp_path / "study.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as caught:
        open_db(path)
    message = str(caught.value)
    assert str(path) in message and "check the path" in message
    assert path.read_bytes() == content
    assert not (tmp_path / "study.db-wal").exists()


def test_a_truncated_database_is_called_damaged_and_left_for_recovery(tmp_path, study, clock):
    path = tmp_path / "study.db"
    db, rec = session_with_events(path, study, clock)
    for _ in range(300):
        rec.session.log_note("n" * 500)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a copy cut short
    with pytest.raises(StoreError) as caught:
        open_db(path)
    message = str(caught.value)
    assert f"{path} is damaged or incomplete" in message and "restore it from a backup" in message
    assert path.read_bytes() == data[: len(data) // 2]


def test_a_newer_schema_is_refused_and_the_file_is_byte_for_byte_untouched(tmp_path, study, clock):
    path = tmp_path / "study.db"
    db, _ = session_with_events(path, study, clock)
    db.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.conn.execute("PRAGMA journal_mode = DELETE")  # as a newer usetest might leave it
    db.close()
    before = digest(path)
    with pytest.raises(StoreError) as caught:
        open_db(path)
    message = str(caught.value)
    assert str(path) in message and "newer usetest" in message and "upgrade usetest" in message
    assert digest(path) == before
    assert not Path(f"{path}-wal").exists()


# ---------------------------------------------------------------------------------------------
# Read-only file and folder.


@contextlib.contextmanager
def read_only_file(path: Path) -> Iterator[None]:
    """chmod for an ordinary user; for root (who ignores modes) the immutable attribute."""
    if not ROOT_USER:
        path.chmod(0o400)
        try:
            yield
        finally:
            path.chmod(0o600)
        return
    if shutil.which("chattr") is None:
        pytest.skip("root ignores file modes and chattr is not available")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot make a file immutable here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_database_is_refused_at_open_not_at_the_first_event(tmp_path, study, clock):
    path = tmp_path / "study.db"
    db, rec = session_with_events(path, study, clock)
    db.close()
    events = recorded(path)
    with read_only_file(path):
        with pytest.raises(StoreError) as caught:
            open_db(path)
        message = str(caught.value)
        assert f"{path} is read-only" in message and "chmod u+w" in message and "--db" in message
        assert recorded(path) == events  # and it can still be read (summaries, exports)
    # Writable again: the session resumes with everything.
    db = open_db(path)
    again, _ = recorder.resume(db, rec.record.id, clock=clock)
    again.session.resume()
    assert [k for _, k in recorded(path)][: len(events)] == [k for _, k in events]


@contextlib.contextmanager
def tmpfs(size: str) -> Iterator[Path]:
    """A small RAM file system of its own (needs root and mount); skips the test otherwise."""
    if not ROOT_USER or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    where = Path(f"/tmp/usetest-tmpfs-{uuid.uuid4().hex[:8]}")
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        where.rmdir()


def test_a_database_in_a_read_only_folder_is_refused_with_the_reason(study, clock):
    with tmpfs("2m") as mount:
        path = mount / "study.db"
        db, _ = session_with_events(path, study, clock)
        db.close()
        events = recorded(path)
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        with pytest.raises(StoreError) as caught:
            open_db(path)
        assert "read-only" in str(caught.value) and str(path) in str(caught.value)
        with pytest.raises(StoreError, match="cannot create|read-only"):
            open_db(mount / "new.db")
        subprocess.run(["mount", "-o", "remount,rw", str(mount)], check=True)
        assert recorded(path) == events


# ---------------------------------------------------------------------------------------------
# Full disk.


def test_a_full_database_says_disk_full_and_carries_on_once_there_is_room(tmp_path, study, clock):
    path = tmp_path / "study.db"
    db, rec = session_with_events(path, study, clock)
    before = rec.session.state
    pages = db.conn.execute("PRAGMA page_count").fetchone()[0]
    db.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL on the next new page
    with pytest.raises(StoreError) as caught:
        for i in range(500):  # the last page has some room left: fill it
            rec.session.log_note("x" * 2000 + str(i))
    message = str(caught.value)
    assert "NOT saved" in message and "full" in message and "free some space" in message
    assert str(path) in message and "everything logged before it is safe" in message
    saved = recorded(path)
    assert [k for _, k in saved][:3] == ["session_started", "task_started", "error_logged"]
    assert len(rec.session.events) == len(saved)  # the engine adopted only what was committed
    assert rec.session.state.tasks == before.tasks
    db.conn.execute("PRAGMA max_page_count = 1073741823")  # room again
    rec.session.log_assist()
    assert recorded(path)[-1] == (len(saved) + 1, "assist_logged")


def test_a_really_full_disk_loses_nothing_and_the_session_continues(study, clock):
    with tmpfs("1m") as mount:
        path = mount / "study.db"
        db, rec = session_with_events(path, study, clock)
        filler = mount / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as handle:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        with pytest.raises(StoreError) as caught:
            for i in range(2000):
                rec.session.log_note("y" * 4000 + str(i))
        assert "full" in str(caught.value) and "free some space" in str(caught.value)
        saved = recorded(path)
        assert len(saved) == len(rec.session.events) >= 3
        filler.unlink()
        rec.session.log_assist()
        db.close()
        db = open_db(path)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert recorded(path)[-1] == (len(saved) + 1, "assist_logged")
        db.close()


# ---------------------------------------------------------------------------------------------
# Another writer.


def test_another_writer_holding_the_lock_is_named_and_the_session_continues(tmp_path, study, clock):
    path = tmp_path / "study.db"
    db, rec = session_with_events(path, study, clock)
    db.conn.execute("PRAGMA busy_timeout = 100")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. a database browser with unsaved changes
    before = list(rec.session.events)
    with pytest.raises(StoreError) as caught:
        rec.session.log_assist()
    message = str(caught.value)
    assert "NOT saved" in message and "another program is writing to" in message
    assert str(path) in message and "close it" in message
    assert list(rec.session.events) == before
    # Reading goes on meanwhile (WAL): an analyst sees every committed event.
    assert recorded(path) == [(e.seq, e.kind) for e in before]
    other.execute("ROLLBACK")
    other.close()
    rec.session.log_assist()
    assert recorded(path)[-1] == (len(before) + 1, "assist_logged")


# ---------------------------------------------------------------------------------------------
# The same in the moderator app.


async def test_the_app_says_not_saved_while_locked_and_the_same_key_works_after(tmp_path):
    from tests.tui.test_app_flow import DEMO
    from usetest.tui.app import make_app

    path = tmp_path / "demo.db"
    app = make_app(DEMO, path, clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test() as pilot:
        app.db.execute("PRAGMA busy_timeout = 100")
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        await pilot.press("space")
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and errors[-1].title == "NOT SAVED"
        assert "another program is writing to" in errors[-1].message
        assert app.recording.session.state.tasks["bookmark"].status == "pending"
        other.execute("ROLLBACK")
        other.close()
        await pilot.press("space")
        assert app.recording.session.state.tasks["bookmark"].status == "running"
    assert [k for _, k in recorded(path)] == ["session_started", "consent_recorded", "task_started"]
