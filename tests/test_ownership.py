"""One app per session: claims, refusals, owners that are gone, take-overs, releases.

A live owner is a real second process (it claims a session and waits); dead, rebooted and
reused-pid owners are written into ``sessions.owner`` as the JSON a real app would have left.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from usetest import recorder, store
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.owner import Owner, _boot_id
from usetest.store import SessionBusy, SessionTakenOver, StoreError, open_db

DEMO = ROOT / "scenarios" / "demo.yaml"

HOLDER = textwrap.dedent(
    """
    import sys
    from usetest import recorder
    from usetest.scenario import load_scenario
    from usetest.store import open_db

    db = open_db(sys.argv[1])
    rec = recorder.start(db, load_scenario(sys.argv[2]), sys.argv[3], claim=True,
                         consent="before the app")
    rec.session.start()
    print("READY", flush=True)
    sys.stdin.read()  # hold the session until the test closes our stdin
    """
)


class Holder:
    """Another process recording a session (as a running app would), until closed or killed."""

    def __init__(self, db_path: Path, participant: str = "P01") -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(db_path), str(DEMO), participant],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == "READY", line

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def holder(db_path):
    h = Holder(db_path)
    yield h
    h.close()


def owner_of(db, session_id: int) -> dict | None:
    (text,) = db.execute("SELECT owner FROM sessions WHERE id = ?", [session_id]).fetchone()
    return json.loads(text) if text else None


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # exited and reaped: its pid names nothing now
    return proc.pid


def unfinished(db_path, study, clock, owner: Owner | None):
    """A session with a task running, left with ``owner`` in its row (as a vanished app)."""
    db = open_db(db_path)
    rec = recorder.start(db, study, "P01", clock=clock)
    rec.session.start()
    clock.advance(4)
    rec.session.log_assist()
    db.execute("UPDATE sessions SET owner = ? WHERE id = ?",
               [owner.to_json() if owner else None, rec.record.id])  # fmt: skip
    db.conn.commit()
    return db, rec


def here(**changes) -> Owner:
    return dataclasses.replace(Owner.here("2026-11-24T10:42:00.000Z"), **changes)


def test_the_owner_records_who_and_since_and_nothing_personal(db_path, study, clock):
    db = open_db(db_path)
    rec = recorder.start(db, study, "P01", clock=clock, claim=True)
    owner = owner_of(db, rec.record.id)
    assert set(owner) == {"host", "pid", "boot_id", "proc_start", "since", "token"}
    assert owner["pid"] == os.getpid() and owner["token"] == rec.owner.token
    assert "P01" not in json.dumps(owner)


def test_a_second_app_in_the_same_process_is_refused_and_the_first_goes_on(db_path, study, clock):
    db = open_db(db_path)
    first = recorder.start(db, study, "P01", clock=clock, claim=True)
    with pytest.raises(SessionBusy) as refused:
        recorder.resume(db, first.record.id, clock=clock, claim=True)
    message = str(refused.value)
    assert f"P01 is open in another usetest (pid {os.getpid()} on " in message
    assert "close it there" in message and "--take-over" in message
    assert "will no longer be able to save to it" in message
    first.session.start()  # nothing was written by the refusal: the first app records on
    assert [e.kind for e in store.load_events(db, first.record.id)][-1] == "task_started"


def test_a_live_app_in_another_process_is_refused_and_resumable_the_moment_it_is_killed(
    db_path, study, holder
):
    db = open_db(db_path)
    [session] = store.list_sessions(db, "in_progress")
    assert store.session_owner(db, session.id).pid == holder.proc.pid
    with pytest.raises(SessionBusy, match=f"pid {holder.proc.pid}"):
        recorder.resume(db, session.id, claim=True)
    before = store.load_events(db, session.id)
    holder.kill()  # kill -9: no release
    assert owner_of(db, session.id)["pid"] == holder.proc.pid
    again, info = recorder.resume(db, session.id, claim=True)
    assert info.interrupted_tasks == ("bookmark",)
    assert store.load_events(db, session.id)[: len(before)] == before
    assert owner_of(db, session.id)["token"] == again.owner.token


@pytest.mark.parametrize("gone", [
    pytest.param({"pid": "dead"}, id="process-ended"),
    pytest.param({"boot_id": "00000000-0000-0000-0000-000000000000"}, id="rebooted"),
    pytest.param({"proc_start": "1"}, id="pid-reused"),
])  # fmt: skip
def test_an_owner_that_is_provably_gone_is_replaced_at_once(db_path, study, clock, gone):
    if "pid" in gone:
        gone = {"pid": dead_pid()}
    if "boot_id" in gone and _boot_id() is None:
        pytest.skip("no /proc boot id here")
    db, rec = unfinished(db_path, study, clock, here(**gone))
    assert store.session_owner(db, rec.record.id) is None
    again, _ = recorder.resume(db, rec.record.id, clock=clock, claim=True)
    assert owner_of(db, rec.record.id)["token"] == again.owner.token
    again.session.resume()  # and it records


def test_an_owner_on_another_computer_cannot_be_checked_so_it_is_refused(db_path, study, clock):
    db, rec = unfinished(db_path, study, clock, here(host="lab-2", pid=4121))
    with pytest.raises(SessionBusy, match="P01 is open in another usetest .pid 4121 on lab-2"):
        recorder.resume(db, rec.record.id, clock=clock, claim=True)
    assert owner_of(db, rec.record.id)["host"] == "lab-2"  # untouched


def test_a_take_over_gives_the_first_app_a_clear_message_not_a_unique_error(db_path, study, clock):
    db = open_db(db_path)
    first = recorder.start(db, study, "P01", clock=clock, claim=True)
    first.session.start()
    clock.advance(5)
    first.session.log_assist()
    other = open_db(db_path)  # the second app's own connection
    second, _ = recorder.resume(other, first.record.id, clock=FakeClock(), claim=True,
                                take_over=True)  # fmt: skip
    kept = store.load_events(db, first.record.id)
    with pytest.raises(SessionTakenOver) as caught:
        first.session.log_error("n")
    message = str(caught.value)
    assert "UNIQUE" not in message
    assert "P01's session was taken over by another usetest (pid" in message
    assert "cannot record it any more" in message and "everything it saved before is kept" in message
    assert store.load_events(db, first.record.id) == kept  # the refused event left no trace
    assert first.session.state.tasks["one"].errors == 0
    second.session.resume()  # the new owner records
    recorder.release(db, first)  # the old app quitting does not free the new owner's session
    assert owner_of(db, first.record.id)["token"] == second.owner.token


def test_release_on_quit_completion_and_abandon(db_path, study, clock):
    db = open_db(db_path)
    rec = recorder.start(db, study, "P01", clock=clock, claim=True)
    recorder.release(db, rec)
    assert owner_of(db, rec.record.id) is None
    again, _ = recorder.resume(db, rec.record.id, clock=clock, claim=True)
    again.session.abandon("had to leave")
    assert owner_of(db, rec.record.id) is None  # given back in the abandon's own transaction
    done = recorder.start(db, study, "P02", clock=clock, claim=True)
    s = done.session
    for task in s.state.order:
        s.start(task)
        s.end("success")
    s.complete()
    assert owner_of(db, done.record.id) is None
    # after the end the app may still correct what it recorded (review screen)
    s.correct("one", {"outcome": "fail"}, "misheard")


def test_a_writer_without_a_claim_is_refused_while_an_app_records(db_path, study, holder):
    """usetest amend against a session open in an app: refused, not a UNIQUE collision."""
    db = open_db(db_path)
    [session] = store.list_sessions(db, "in_progress")
    outside = recorder.reopen(db, session.id)
    with pytest.raises(SessionBusy, match="correct it in that app"):
        outside.session.log_assist()


def test_a_taken_code_names_the_next_free_one_even_in_a_race(db_path, study, clock, monkeypatch):
    db = open_db(db_path)
    recorder.start(db, study, "P01", clock=clock)
    with pytest.raises(store.ParticipantTaken) as taken:
        recorder.start(db, study, "P01", clock=clock)
    assert taken.value.next_code == "P02" and "the next free code is P02" in str(taken.value)
    # two windows checked at the same moment: the second insert hits the UNIQUE index
    monkeypatch.setattr(db, "execute", _hide_taken(db.execute))
    with pytest.raises(store.ParticipantTaken) as raced:
        store.create_session(db, scenario_id=1, participant="P01", moderator=None,
                             condition=None, order=["one", "two", "three"],
                             started_at="2026-11-24T10:00:00.000Z")  # fmt: skip
    assert raced.value.next_code == "P02"


def _hide_taken(execute):
    def execute_(sql, params=None):
        if sql.startswith("SELECT status FROM sessions WHERE participant"):
            sql = sql.replace("participant = ?", "participant = ? AND 0")
        return execute(sql, params) if params is not None else execute(sql)

    return execute_


# -- the command line ----------------------------------------------------------------------


def test_run_resume_participant_is_refused_with_exit_1_while_another_app_records(
    db_path, holder
):
    result = CliRunner().invoke(cli, ["run", str(DEMO), "--db", str(db_path), "--resume",
                                      "--participant", "P01"])  # fmt: skip
    assert result.exit_code == 1
    assert f"P01 is open in another usetest (pid {holder.proc.pid} on" in result.output
    assert "--take-over" in result.output and "Traceback" not in result.output


def test_run_take_over_asks_first_and_no_changes_nothing(db_path, holder):
    before = owner_of(open_db(db_path), 1)
    result = CliRunner().invoke(cli, ["run", str(DEMO), "--db", str(db_path), "--resume",
                                      "--participant", "P01", "--take-over"], input="n\n")  # fmt: skip
    assert result.exit_code == 1
    assert "cannot save anything more to this session" in result.output
    assert "not taken over; nothing was changed" in result.output
    assert owner_of(open_db(db_path), 1) == before


def test_run_resume_participant_of_a_finished_or_unknown_session_says_why(db_path, study, clock):
    db = open_db(db_path)
    rec = recorder.start(db, study, "P01", clock=clock)
    rec.session.abandon()
    runner = CliRunner()
    result = runner.invoke(cli, ["run", str(DEMO), "--db", str(db_path), "--resume",
                                 "--participant", "P01"])  # fmt: skip
    assert result.exit_code == 1 and "P01's session is abandoned" in result.output
    result = runner.invoke(cli, ["run", str(DEMO), "--db", str(db_path), "--resume",
                                 "--participant", "P09"])  # fmt: skip
    assert result.exit_code == 1 and "no session for participant 'P09'" in result.output
    result = runner.invoke(cli, ["run", str(DEMO), "--db", str(db_path), "--take-over"])
    assert result.exit_code == 2 and "--resume --participant" in result.output


def test_owner_json_that_cannot_be_read_is_refused_never_replaced(db_path, study, clock):
    db, rec = unfinished(db_path, study, clock, None)
    db.execute("UPDATE sessions SET owner = 'garbage' WHERE id = ?", [rec.record.id])
    db.conn.commit()
    with pytest.raises(StoreError, match="open in another usetest"):
        recorder.resume(db, rec.record.id, clock=clock, claim=True)
    again, _ = recorder.resume(db, rec.record.id, clock=clock, claim=True, take_over=True)
    assert owner_of(db, rec.record.id)["token"] == again.owner.token
