"""End to end: the installed `usetest run` in a real terminal (tmux), real keys, real sleeps."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import DEMO_PROFILE_ARGS, ROOT
from usetest import stats

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]
USETEST = Path(sys.executable).with_name("usetest")


class Terminal:
    def __init__(self, command: str) -> None:
        self.socket = f"usetest-e2e-{uuid.uuid4().hex[:8]}"
        self._tmux("new-session", "-d", "-x", "120", "-y", "40",
                   f"{command}; echo EXIT=$?; sleep 30")  # fmt: skip

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        ).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p")

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear; screen:\n{self.screen()}")

    def keys(self, *keys: str, pause: float = 0.25) -> None:
        for key in keys:
            self._tmux("send-keys", key)
            time.sleep(pause)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def test_a_whole_demo_session_in_a_real_terminal(tmp_path):
    db_path = tmp_path / "demo.db"
    scenario = ROOT / "scenarios" / "demo.yaml"
    term = Terminal(f"cd {tmp_path} && {USETEST} run {scenario} --db {db_path} --participant P01 --consent "
                    f"{DEMO_PROFILE_ARGS}")  # fmt: skip
    try:
        term.wait_for("Bookmark a page")
        # Wall-clock marks around each key that starts or stops the clock: the stored time
        # must match the running intervals they bracket, the pause excluded.
        started = time.monotonic()
        term.keys("Space", pause=0)
        term.wait_for("running")
        time.sleep(2.0)
        paused = time.monotonic()
        term.keys("Space", pause=0)  # pause: asks for a reason, the clock stops at once
        term.wait_for("Pause")
        term.keys(*"phone", "Enter")
        term.wait_for("PAUSED")
        time.sleep(1.5)  # not counted
        resumed = time.monotonic()
        term.keys("Space")
        term.keys("a", "e", "n")
        term.wait_for("Error note")
        term.keys("Enter")
        time.sleep(0.5)
        ended = time.monotonic()
        term.keys("s", pause=0)
        term.wait_for("Overall, how difficult or easy")
        term.keys("6")
        term.wait_for("Open a private window")
        term.keys("Space")
        time.sleep(1.0)
        term.keys("f")
        term.wait_for("Overall, how difficult or easy")
        term.keys("3")
        term.wait_for("Clear the last hour")
        term.keys("x")
        term.wait_for("System Usability Scale")
        term.keys(*"4152514231")
        term.wait_for("Session complete")
        term.wait_for("SUS 85")  # scored in a worker thread, so it may show a moment later
        term.keys("q")
        term.wait_for("EXIT=0")
    finally:
        term.close()

    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "SELECT task_id, outcome, time_ms, pause_ms, errors, assists, seq_rating"
        " FROM attempts ORDER BY position"
    ).fetchall()
    assert [r[:2] for r in rows] == [
        ("bookmark", "success"), ("private-window", "fail"), ("clear-history", "skipped"),
    ]  # fmt: skip
    bookmark = rows[0]
    running_ms = ((paused - started) + (ended - resumed)) * 1000
    pause_ms = (resumed - paused) * 1000
    assert abs(bookmark[2] - running_ms) < 600, (bookmark, running_ms)
    assert abs(bookmark[3] - pause_ms) < 600, (bookmark, pause_ms)
    assert bookmark[4:] == (1, 1, 6)
    assert 900 <= rows[1][2] <= 2_000 and rows[1][6] == 3
    sus = [v for (v,) in conn.execute(
        "SELECT value_num FROM answers WHERE questionnaire = 'sus'"
        " ORDER BY CAST(substr(item, 4) AS INTEGER)")]  # fmt: skip
    assert stats.sus_score(sus) == 85.0
    assert conn.execute("SELECT status FROM sessions").fetchone() == ("completed",)


def test_error_keeps_the_time_of_its_key_and_the_log_shows_the_newest_event(tmp_path):
    """Press e, wait 3 s before confirming: the stored time is the key's, within a second;
    the event log (80×24) ends with that error the moment it is saved."""
    from datetime import UTC, datetime

    db_path = tmp_path / "demo.db"
    scenario = ROOT / "scenarios" / "demo.yaml"
    term = Terminal(f"cd {tmp_path} && stty cols 80 rows 24; {USETEST} run {scenario} "
                    f"--db {db_path} --participant P01 --consent {DEMO_PROFILE_ARGS}")  # fmt: skip
    try:
        term._tmux("resize-window", "-x", "80", "-y", "24")
        term.wait_for("Bookmark a page")
        term.keys("Space")
        term.wait_for("running")
        for _ in range(5):
            term.keys("a", pause=0.15)
        term.wait_for("assists 5")
        pressed = datetime.now(UTC)
        term.keys("e", pause=0)
        term.wait_for("Log an error")
        term.keys("n")
        term.wait_for("Error note")
        time.sleep(3.0)  # the moderator types slowly
        term.keys(*"late", "Enter")
        screen = term.wait_for("errors 1")
        log = screen[screen.index("errors 1"):]
        assert "bookmark: error [navigation] late" in log
        assert log.count("bookmark: assist") == 4  # five assists and the error: the oldest scrolled away
        term.keys("C-q")
        term.wait_for("Quit now?")
        term.keys("y")
        term.wait_for("EXIT=0")
    finally:
        term.close()
    conn = sqlite3.connect(db_path)
    (logged_at,) = conn.execute("SELECT logged_at FROM errors").fetchone()
    stored = datetime.fromisoformat(logged_at.replace("Z", "+00:00"))
    assert abs((stored - pressed).total_seconds()) < 1.0, (stored, pressed)
