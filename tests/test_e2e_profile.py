"""End to end: `usetest run --participant … --profile-answer …` in a real terminal (tmux): the
app asks only the questions not given, and the answers reach the database with the consent."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import rows
from tests.test_e2e_tmux import USETEST, Terminal
from tests.test_profile import PROFILE

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def test_run_asks_only_the_profile_questions_not_given(tmp_path):
    scenario = tmp_path / "study.yaml"
    scenario.write_text(PROFILE, encoding="utf-8")
    db_path = tmp_path / "study.db"
    term = Terminal(f"cd {tmp_path} && {USETEST} run {scenario} --db {db_path} --participant P01 "
                    "--profile-answer age=60+ --profile-answer device=")  # fmt: skip
    try:
        term.wait_for("Has the participant given consent?")
        term.keys("y")
        screen = term.wait_for("question 1 of 1")
        assert "Years of experience?" in screen
        term.keys(*"99", "Enter")
        term.wait_for("Not accepted")
        term.keys("BSpace", "BSpace", *"17", "Enter")
        term.wait_for("profile device = declined")  # the task screen's event log
        term.keys("C-q")
        term.wait_for("Quit now?")
        term.keys("y")
        screen = term.wait_for("EXIT=")
        assert "EXIT=0" in screen
    finally:
        term.close()
    stored = rows(db_path, "SELECT item, value_num, value_text, declined FROM answers "
                           "WHERE questionnaire = 'profile' ORDER BY item")  # fmt: skip
    assert stored == [
        {"item": "age", "value_num": None, "value_text": "60+", "declined": 0},
        {"item": "device", "value_num": None, "value_text": None, "declined": 1},
        {"item": "experience", "value_num": 17, "value_text": None, "declined": 0},
    ]
    [session] = rows(db_path, "SELECT consent_how, status FROM sessions")
    assert session == {"consent_how": "in the app", "status": "in_progress"}
