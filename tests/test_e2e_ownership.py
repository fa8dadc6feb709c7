"""End to end, in real terminals (tmux): a second window cannot resume a session the first is
recording; once the first app is killed (kill -9), resuming works at once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3

from tests.conftest import DEMO_PROFILE_ARGS, ROOT
from tests.test_e2e_tmux import USETEST, Terminal, pytestmark  # noqa: F401  (markers, skip)

DEMO = ROOT / "scenarios" / "demo.yaml"


def owner(db_path):
    conn = sqlite3.connect(db_path)
    try:
        (text,) = conn.execute("SELECT owner FROM sessions WHERE participant = 'P01'").fetchone()
    finally:
        conn.close()
    return json.loads(text) if text else None


def test_a_second_window_is_refused_while_the_first_records_and_resumes_once_it_is_killed(
    tmp_path,
):
    db_path = tmp_path / "demo.db"
    run = f"cd {tmp_path} && {USETEST} run {DEMO} --db {db_path}"
    first = Terminal(f"{run} --participant P01 --consent {DEMO_PROFILE_ARGS}")
    second = third = None
    try:
        first.wait_for("Bookmark a page")
        first.keys("Space")
        first.wait_for("running")
        second = Terminal(f"{run} --resume --participant P01")
        screen = second.wait_for("EXIT=1")
        pid = owner(db_path)["pid"]
        assert f"usetest: P01 is open in another usetest (pid {pid} on" in screen
        assert "Traceback" not in screen
        first.keys("a")  # the first app records on, undisturbed
        first.wait_for("assists 1")
        os.kill(pid, signal.SIGKILL)  # a crash: nothing is released
        first.wait_for("EXIT=137")
        assert owner(db_path)["pid"] == pid
        third = Terminal(f"{run} --resume --participant P01")
        third.wait_for("Session resumed")
        third.wait_for("PAUSED (interrupted)")
        third.wait_for("Bookmark a page")
        assert owner(db_path)["pid"] not in (None, pid)
        third.keys("C-q")
        third.wait_for("Quit now?")
        third.keys("y")
        third.wait_for("EXIT=0")
    finally:
        for term in (first, second, third):
            if term is not None:
                term.close()
    assert owner(db_path) is None  # a clean quit gives it back
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT assists, interruptions FROM attempts WHERE position = 1"
                        ).fetchone() == (1, 1)  # fmt: skip
