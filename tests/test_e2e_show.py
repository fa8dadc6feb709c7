"""End to end: the moderator's `usetest run` and the participant's `usetest show` in two real
terminals (tmux) on one database; the moderator's app is driven with real keys."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO_PROFILE_ARGS, ROOT
from tests.test_e2e_tmux import Terminal
from usetest.scenario import load_scenario

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]
USETEST = Path(sys.executable).with_name("usetest")
SCENARIO = ROOT / "scenarios" / "demo.yaml"


def _hidden(screen: str) -> None:
    """Nothing of the moderator's on the participant's screen."""
    for task in load_scenario(SCENARIO).scenario.tasks:
        assert task.success not in screen
        if task.notes:
            assert task.notes[:30] not in screen
    for word in ("running", "PAUSED", "Task 1 of", "success", "error", "assist", "00:0"):
        assert word not in screen


def test_the_participants_screen_follows_three_tasks_and_the_questionnaire(tmp_path):
    """The whole lab on one database: the moderator, an observer and the participant's screen,
    then the recording markers of the session read back with a WebVTT parser."""
    db_path = tmp_path / "lab.db"
    tasks = load_scenario(SCENARIO).scenario.tasks
    moderator = Terminal(f"{USETEST} run {SCENARIO} --db {db_path} --participant P01 --consent "
                         f"{DEMO_PROFILE_ARGS}")  # fmt: skip
    participant: Terminal | None = None
    observer: Terminal | None = None
    try:
        moderator.wait_for("Task 1 of")
        moderator.keys("r")  # the screen recorder starts now
        moderator.wait_for("Recording start marked")
        participant = Terminal(f"{USETEST} show {db_path}")
        observer = Terminal(f"{USETEST} observe {db_path} --observer KL")
        observer.wait_for("Observer KL — P01")
        _hidden(participant.wait_for("Please wait"))
        for k, task in enumerate(tasks, start=1):
            moderator.wait_for(f"Task {k} of")
            assert task.title not in participant.screen()  # not before the clock starts
            moderator.keys("Space")  # the clock starts: the prompt appears
            screen = participant.wait_for(task.title, timeout=5)
            assert task.prompt.split("\n")[0][:40] in screen
            _hidden(screen)
            if k == 1:  # the observer notes a quote; the moderator sees it, the participant not
                observer.wait_for("Task 1 of")
                observer.keys("n", "q")
                observer.keys(*"I would search first", pause=0.02)
                observer.keys("Enter")
                moderator.wait_for("Note from observer KL", timeout=5)
                _hidden(participant.screen())
                assert "I would search first" not in participant.screen()
            moderator.keys("e", "n")  # an error, with a note: never on the participant's side
            moderator.wait_for("Error note")
            moderator.keys(*"clicked around", pause=0.02)
            moderator.keys("Enter")
            moderator.keys("s")
            moderator.wait_for("Overall, how difficult or easy")
            screen = participant.wait_for("Overall, how difficult or easy", timeout=5)
            assert "Very difficult" in screen and "Very easy" in screen
            _hidden(screen)
            assert "clicked around" not in screen
            moderator.keys("5")
            if k < len(tasks):
                _hidden(participant.wait_for("Please wait", timeout=5))
        screen = participant.wait_for("I think that I would like to use this system", timeout=5)
        assert "Strongly disagree" in screen and "1 of 10" in screen
        for i in range(10):
            moderator.keys("4")
            if i == 0:
                participant.wait_for("I found the system unnecessarily complex", timeout=5)
        _hidden(participant.wait_for("Thank you", timeout=5))
        moderator.wait_for("Session complete")
        moderator.keys("q")
        moderator.wait_for("EXIT=0")
        # the moderator's app closed: the participant's screen stays, still readable
        assert "Thank you" in participant.screen()
        participant.keys("C-q")
        participant.wait_for("EXIT=0", timeout=5)
    finally:
        for term in (moderator, participant, observer):
            if term is not None:
                term.close()
    _markers_match_the_events(db_path, tmp_path / "markers")


def _markers_match_the_events(db_path: Path, out: Path) -> None:
    """The session's WebVTT file, read back with webvtt-py: one cue per moment the events
    were recorded after the recording started, at their offset from the r key."""
    import sqlite3
    import subprocess
    from datetime import datetime

    import webvtt

    done = subprocess.run([str(USETEST), "export", str(db_path), "--format", "vtt", "--out",
                           str(out)], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (path,) = out.glob("*.vtt")
    cues = webvtt.read(str(path))
    conn = sqlite3.connect(db_path)
    rows = conn.execute("SELECT kind, at FROM events ORDER BY event_seq").fetchall()
    conn.close()
    zero = next(datetime.fromisoformat(at) for kind, at in rows if kind == "recording_started")
    later = sorted({datetime.fromisoformat(at) for _, at in rows
                    if datetime.fromisoformat(at) > zero})  # fmt: skip
    def seconds(stamp: str) -> float:  # webvtt-py's start_in_seconds drops the milliseconds
        h, m, sec = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(sec)

    starts = [seconds(c.start) for c in cues][1:]  # the first cue is time zero itself
    assert len(starts) == len(later), ([(c.start, c.text) for c in cues], later, zero)
    for cue_start, at in zip(starts, later, strict=True):
        assert abs(cue_start - (at - zero).total_seconds()) < 0.002, (
            [(c.start, c.text) for c in cues], later, zero)
    text = "\n".join(c.text for c in cues)
    assert "I would search first (KL)" in text and "task ended: success" in text


def test_a_missing_database_is_a_one_line_message(tmp_path):
    term = Terminal(f"{USETEST} show {tmp_path / 'none.db'}")
    try:
        screen = term.wait_for("EXIT=1", timeout=10)
        assert "usetest: " in screen and "does not exist" in screen
    finally:
        term.close()
