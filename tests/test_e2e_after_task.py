"""End to end: a task's `after:` questionnaires in the installed `usetest run`, real keys in a
real terminal (tmux); the answers land in `answers` with the task's id."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from tests.test_e2e_tmux import USETEST, Terminal

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

SCENARIO = """\
study: After tasks
product: the shop
tasks:
  - {id: one, title: Task one, prompt: Do one., after: [ces, mine]}
  - {id: two, title: Task two, prompt: Do two.}
questionnaires:
  - id: mine
    title: Mine
    at_end: false
    items:
      - {id: calm, text: I felt calm., points: 7}
"""


def test_after_task_questions_in_a_real_terminal(tmp_path):
    scenario = tmp_path / "after.yaml"
    scenario.write_text(SCENARIO)
    db_path = tmp_path / "after.db"
    term = Terminal(f"cd {tmp_path} && {USETEST} run {scenario} --db {db_path} "
                    "--participant P01 --consent")  # fmt: skip
    try:
        term.wait_for("Task one")
        term.keys("Space", "s")
        term.wait_for("difficult or easy")
        term.keys("6")
        term.wait_for("made it easy for me to complete this task")
        term.keys("d")
        term.wait_for("I felt calm")
        term.keys("5")
        term.wait_for("Task two")
        term.keys("C-q")
        term.wait_for("Quit now?")
        term.keys("y")
        term.wait_for("EXIT=0")
    finally:
        term.close()
    with sqlite3.connect(db_path) as conn:
        answers = conn.execute("SELECT questionnaire, item, task_id, value_num, declined"
                               " FROM answers ORDER BY event_seq").fetchall()  # fmt: skip
    assert answers == [("seq", "seq", "one", 6, 0), ("ces", "ces", "one", None, 1),
                       ("mine", "calm", "one", 5, 0)]  # fmt: skip
