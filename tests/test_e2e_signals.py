"""End to end: a terminal that goes away (issue 11, item 9).

SIGTERM (a shutdown, ``kill``) and SIGHUP (a closed window, a dropped SSH connection) close the
app as ctrl+q's "quit" does: the session stays in progress and resumable, its claim is given
back, and the terminal is restored (no alternate screen, cursor shown, mouse reporting off).
Without a terminal, ``usetest run`` refuses at once instead of drawing into a file.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import pytest

from tests.bench.crash_campaign import _app_pid
from tests.conftest import DEMO_PROFILE_ARGS, ROOT
from tests.test_e2e_tmux import USETEST, Terminal

pytestmark = [pytest.mark.e2e]
DEMO = ROOT / "scenarios" / "demo.yaml"


def terminal_modes(term: Terminal) -> str:
    """tmux's view of the pane: alternate screen, cursor visible, any mouse reporting."""
    return term._tmux("display-message", "-p", "#{alternate_on} #{cursor_flag} #{mouse_any_flag}").strip()


@pytest.mark.skipif(subprocess.run(["which", "tmux"], capture_output=True).returncode != 0,
                    reason="tmux is not installed")  # fmt: skip
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_closes_the_app_like_quit_and_restores_the_terminal(tmp_path, sig):
    db_path = tmp_path / "demo.db"
    term = Terminal(f"cd {tmp_path} && {USETEST} run {DEMO} --db {db_path} --participant P01 "
                    f"--consent {DEMO_PROFILE_ARGS}")  # fmt: skip
    try:
        pid = _app_pid(term)
        term.wait_for("Bookmark a page")
        term.keys("Space")
        term.wait_for("running")
        assert terminal_modes(term).split()[0] == "1"  # the app is on the alternate screen
        os.kill(pid, sig)
        screen = term.wait_for("EXIT=")
        assert f"EXIT={128 + sig.value}" in screen, screen
        assert f"closed by {sig.name}; everything logged before is safe" in screen
        assert "P01: in progress — saved in" in screen
        assert "--resume --participant P01" in screen
        assert terminal_modes(term) == "0 1 0", screen  # normal screen, cursor on, no mouse
        assert "Traceback" not in term._tmux("capture-pane", "-p", "-S", "-2000")
    finally:
        term.close()
    conn = sqlite3.connect(db_path)
    status, owner = conn.execute("SELECT status, owner FROM sessions").fetchone()
    assert (status, owner) == ("in_progress", None)  # resumable, by any app
    kinds = [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY event_seq")]
    assert "task_started" in kinds
    conn.close()


def test_run_without_a_terminal_refuses_with_exit_2(tmp_path):
    db_path = tmp_path / "demo.db"
    started = time.monotonic()
    done = subprocess.run([str(USETEST), "run", str(DEMO), "--db", str(db_path),
                           "--participant", "P01", "--consent"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert time.monotonic() - started < 30  # refused, not hung
    assert "needs a terminal" in done.stderr and "--plan" in done.stderr
    assert "standard input and error are not one" in done.stderr
    assert "\x1b" not in done.stdout + done.stderr  # no escape codes drawn into the output
    assert not db_path.exists()
    plan = subprocess.run([str(USETEST), "run", str(DEMO), "--db", str(db_path), "--plan"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert plan.returncode == 0 and "would get" in plan.stdout


@pytest.mark.skipif(subprocess.run(["which", "tmux"], capture_output=True).returncode != 0,
                    reason="tmux is not installed")  # fmt: skip
def test_a_terminal_that_disappears_leaves_the_session_resumable(tmp_path):
    """The window is closed (the pty goes away, the kernel sends SIGHUP): the app cannot
    restore a terminal that is gone, but it still gives its claim back before it ends."""
    db_path = tmp_path / "demo.db"
    term = Terminal(f"cd {tmp_path} && {USETEST} run {DEMO} --db {db_path} --participant P01 "
                    f"--consent {DEMO_PROFILE_ARGS}")  # fmt: skip
    try:
        pid = _app_pid(term)
        term.wait_for("Bookmark a page")
        term.keys("Space")
        term.wait_for("running")
    finally:
        term.close()  # kill-server: the pane's pty is closed under the app
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
        stat = open(f"/proc/{pid}/stat").read().split()  # noqa: SIM115
        if stat[2] == "Z":
            break
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{pid}") or stat[2] == "Z", "the app did not end"
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT status, owner FROM sessions").fetchone() == ("in_progress", None)
    conn.close()
