"""The keymap is declared once, in the bindings: the help screen (`?`) and the task screen's
line of end keys are written from them, every binding says what it does, and the moderator's
guide lists the same keys as the task screen binds."""

from __future__ import annotations

import re

import pytest
from textual.binding import Binding
from textual.widgets import Static

from tests.conftest import ROOT, demo_without_profile
from usetest.clock import FakeClock
from usetest.tui.app import UsetestApp, make_app
from usetest.tui.keys import Section, help_lines, help_text, key_label
from usetest.tui.screens.modals import HelpScreen
from usetest.tui.screens.questionnaire import QuestionnaireScreen
from usetest.tui.screens.setup import ResumeScreen, SetupScreen
from usetest.tui.screens.summary import SummaryScreen
from usetest.tui.screens.task import TaskScreen

SCREENS = [TaskScreen, QuestionnaireScreen, SetupScreen, ResumeScreen, SummaryScreen, UsetestApp]


def _bindings(owner):
    return [b for b in owner.BINDINGS if isinstance(b, Binding)]


@pytest.mark.parametrize("owner", SCREENS, ids=lambda o: o.__name__)
def test_every_binding_has_a_description_and_a_unique_id(owner):
    for b in _bindings(owner):
        assert b.description and b.id, f"{b.key} of {owner.__name__}: description and id"
    ids = [b.id for b in _bindings(owner)]
    assert len(ids) == len(set(ids))


def _help_rows(text: str, section: str) -> dict[str, str]:
    """keys -> text of one section of the help."""
    block = text.split(section + "\n", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in block.splitlines():
        keys, said = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        rows[keys] = said
    return rows


async def test_the_help_screen_lists_every_key_with_what_it_does(tmp_path):
    app = make_app(demo_without_profile(), tmp_path / "h.db", clock=FakeClock(),
                   participant="P01", consent=True)  # fmt: skip
    async with app.run_test() as pilot:
        assert isinstance(app.screen, TaskScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = str(app.screen.query_one("#help-text", Static).render())
        assert shown == app.screen.text
        task = _help_rows(shown, "Task screen")
        listed = {k for keys in task for k in keys.split()}
        for b in [*_bindings(TaskScreen), *_bindings(UsetestApp)]:
            for key in b.key.split(","):
                assert key_label(key) in listed, f"{key} ({b.description}) is not in the help"
        assert task["space"].startswith("start / pause / resume the clock")
        assert task["s p f g x"] == "end the task: success, partial, fail, gave up, skip"
        assert task["ctrl+q ctrl+c"].startswith("quit (asks first;")  # one action, one line
        assert task["?"] == "this help"
        questions = _help_rows(shown, "Questionnaires")
        assert set(questions) == {"1–7", "backspace", "u", "d"}
        assert questions["d"].startswith("the participant declines this rating")
        assert shown.rstrip().endswith("saved to the database before it appears in the log.")
        await pilot.press("escape")
        assert isinstance(app.screen, TaskScreen)


def test_the_end_keys_line_is_the_end_bindings():
    line = TaskScreen.end_keys()
    assert line == "end the task:  s success   p partial   f fail   g gave up   x skip"
    ends = [b for b in _bindings(TaskScreen) if b.action.startswith("end(")]
    assert all(f"{b.key} {b.description}" in line for b in ends) and len(ends) == 5


def test_help_lines_group_merge_and_skip():
    group = Binding.Group("go")
    lines = help_lines([
        Binding("a", "one", "first", tooltip="the first one"),
        Binding("b", "one", "again"),  # same action: its key joins the line
        Binding("c", "x('1')", "left", group=group),
        Binding("d", "x('2')", "right", group=group),
        Binding("escape", "close", "close"),  # no tooltip: the description
        Binding("ctrl+z", "hidden", "hidden", system=True),
    ])  # fmt: skip
    assert lines == [("a b", "the first one"), ("c d", "go: left, right"), ("Esc", "close")]
    text = help_text([Section("S", [Binding("question_mark", "h", "help")], [("1–5", "rate")])],
                     closing="bye")  # fmt: skip
    assert text == "S\n  1–5  rate\n  ?    help\n\nbye\n"


def test_the_moderator_guide_lists_the_task_screen_keys():
    guide = (ROOT / "docs" / "moderator-guide.md").read_text()
    table = guide.split("## Task screen", 1)[1].split("\n\n", 2)[1]
    documented = {k for row in table.splitlines()[2:]
                  for k in re.findall(r"`([^`]+)`", row.split("|")[1])}  # fmt: skip
    bound = {key_label(k) for b in _bindings(TaskScreen) for k in b.key.split(",")}
    assert "ctrl+q" in documented
    assert documented - {"ctrl+q"} == bound, "docs/moderator-guide.md's key table and the bindings"
