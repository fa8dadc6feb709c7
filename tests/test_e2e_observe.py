"""End to end: a moderator and an observer in two real terminals (tmux) on one database."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO_PROFILE_ARGS, ROOT
from tests.test_e2e_tmux import Terminal

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]
USETEST = Path(sys.executable).with_name("usetest")


def test_an_observers_note_reaches_the_moderators_screen(tmp_path):
    db_path = tmp_path / "lab.db"
    scenario = ROOT / "scenarios" / "demo.yaml"
    moderator = Terminal(f"{USETEST} run {scenario} --db {db_path} --participant P01 --consent "
                         f"{DEMO_PROFILE_ARGS}")  # fmt: skip
    observers: list[Terminal] = []
    try:
        moderator.wait_for("Task 1 of")
        moderator.keys("space")
        for initials in ("KL", "MN"):
            observers.append(Terminal(f"{USETEST} observe {db_path} --observer {initials}"))
        kl, mn = observers
        kl.wait_for("Observer KL — P01")
        mn.wait_for("Task 1 of")
        kl.keys("n", "p", "3")  # a problem of severity 3
        kl.keys(*"Missed the search box", pause=0.02)
        kl.keys("Enter")
        mn.keys("n", "q")
        mn.keys(*"Where is it", pause=0.02)
        mn.keys("Enter")
        # within a second or two on the moderator's screen, with the observers' initials
        moderator.wait_for("Note from observer KL", timeout=5)
        screen = moderator.wait_for("Where is it — MN", timeout=5)
        assert "the search box — KL" in screen  # the notice wraps the longer note
        # and in each observer's timeline, once the moderator's app has logged them
        mn.wait_for("problem severity 3: Missed the search box — KL", timeout=5)
        # the observer has no key that changes the session: s (success) does nothing there
        kl.keys("s", "f", "space")
        moderator.keys("s")  # the moderator ends the task
        kl.wait_for("ended (success)", timeout=5)
        moderator.keys("ctrl+q")
    finally:
        for term in (moderator, *observers):
            term.close()
    conn = sqlite3.connect(db_path)
    try:
        notes = conn.execute("SELECT author, kind, severity, text FROM notes ORDER BY event_seq")
        assert notes.fetchall() == [("KL", "problem", 3, "Missed the search box"),
                                    ("MN", "quote", None, "Where is it")]
        outcomes = conn.execute("SELECT outcome FROM attempts WHERE outcome IS NOT NULL").fetchall()
        assert outcomes == [("success",)]  # only the moderator's s ended the task
    finally:
        conn.close()
