"""The help screen (`?`) lists every key the task and questionnaire screens bind."""

from __future__ import annotations

import pytest

from usetest.tui.screens.modals import HELP_TEXT
from usetest.tui.screens.questionnaire import QuestionnaireScreen
from usetest.tui.screens.task import TaskScreen

NAMES = {"space": "space", "question_mark": "?", "backspace": "backspace"}


def _help_keys(section: str) -> set[str]:
    """The keys in the first column of a section of the help text."""
    text = HELP_TEXT.split(section + "\n", 1)[1].split("\n\n", 1)[0]
    keys: set[str] = set()
    for line in text.splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            keys |= set(line.strip().split("  ", 1)[0].split())
    return keys


@pytest.mark.parametrize(("screen", "section"), [
    (TaskScreen, "Task screen"), (QuestionnaireScreen, "Questionnaires"),
])  # fmt: skip
def test_every_binding_is_in_the_help(screen, section):
    listed = _help_keys(section)
    for binding in screen.BINDINGS:
        for key in binding.key.split(","):
            assert NAMES.get(key, key) in listed, f"{key} ({binding.description}) is not in the help"
