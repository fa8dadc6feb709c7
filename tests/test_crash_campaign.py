"""The crash campaign in short (20 kills), and the defects the long one found, pinned down.

The full campaign: ``python -m tests.bench.crash_campaign --kills 200``.
"""

from __future__ import annotations

import shutil

import pytest

from tests.bench import crash_campaign
from tests.bench.crash_campaign import Figures, campaign, check, closed_intervals
from usetest import recorder, store
from usetest.clock import FakeClock
from usetest.session import Session
from usetest.store import open_db


def test_twenty_random_kills_lose_nothing_and_resume_consistently(tmp_path):
    figures = campaign(20, seed=20261123, tmux_share=0, workdir=tmp_path, log=lambda _: None)
    assert figures.failures == []
    assert (figures.kills, figures.survived) == (20, 20)
    assert figures.acknowledged > 100  # the kills landed while events were being written
    assert figures.resumed >= 15  # most rounds left an unfinished session behind


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.skipif(not crash_campaign.USETEST.exists(), reason="usetest is not installed")
def test_the_real_app_killed_in_tmux_keeps_what_its_screen_showed(tmp_path):
    figures = campaign(2, seed=5, tmux_share=1.0, workdir=tmp_path, log=lambda _: None)
    assert figures.failures == []
    assert figures.by_mode == {"tmux": 2} and figures.survived == 2


def test_resume_brings_the_interrupted_attempt_up_to_date(db_path, study):
    """Found by the campaign: the attempts row kept the time from before the crash."""
    clock = FakeClock()
    db = open_db(db_path)
    rec = recorder.start(db, study, "P01", clock=clock)
    rec.session.start()
    clock.advance(5)
    rec.session.log_assist()
    clock.advance(3)
    rec.session.log_error("n")  # the process dies here, with task one running
    again, info = recorder.resume(db, rec.record.id, clock=FakeClock(start_ms=50))
    assert info.interrupted_tasks == ("one",)
    assert again.session.state.tasks["one"].closed_ms == 8_000
    row = db["attempts"].get((rec.record.id, "one"))
    assert (row["time_ms"], row["status"], row["interruptions"]) == (8_000, "paused", 1)


def test_a_session_killed_before_its_first_event_begins_its_log_on_resume(db_path, study,
                                                                         monkeypatch):  # fmt: skip
    """Found by reading the campaign's window: the session row commits before session_started."""
    db = open_db(db_path)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # stands in for SIGKILL between the two commits

    with monkeypatch.context() as patched:
        patched.setattr(Session, "begin", killed)
        with pytest.raises(KeyboardInterrupt):
            recorder.start(db, study, "P01", clock=FakeClock())
    [orphan] = store.list_sessions(db, "in_progress")
    assert store.load_events(db, orphan.id) == []
    again, info = recorder.resume(db, orphan.id, clock=FakeClock())
    events = store.load_events(db, orphan.id)
    assert [(e.seq, e.kind, e.run) for e in events] == [(1, "session_started", 1)]
    assert events[0].payload["participant"] == "P01"
    assert info.interrupted_tasks == ()
    again.session.start()
    assert check(db_path, [(orphan.id, 2, "task_started")], None, Figures()) == []


def test_the_interval_oracle_and_the_checks_can_fail(db_path, study):
    clock = FakeClock(start_ms=0)
    db = open_db(db_path)
    rec = recorder.start(db, study, "P01", clock=clock)
    s = rec.session
    s.start()
    clock.advance(2)
    s.pause("phone")
    clock.advance(10)  # paused: not counted
    s.resume()
    clock.advance(1)
    s.log_assist()  # last event of run 1: the open interval closes here after the crash
    clock.advance(30)  # after the last event: lost with the process
    assert closed_intervals(list(s.events), "one") == 2_000  # the open interval is not counted
    again, _ = recorder.resume(db, rec.record.id, clock=FakeClock(start_ms=0))
    events = list(again.session.events)
    assert closed_intervals(events, "one") == 3_000  # closed at run 1's last event
    assert closed_intervals(events, "two") == 0
    # An acknowledged event that is not in the database is reported, and so is a bad count.
    problems = check(db_path, [(rec.record.id, 99, "task_started")], (5, 5), Figures())
    assert any("99" in p for p in problems)
    assert any("screen showed" in p for p in problems)
