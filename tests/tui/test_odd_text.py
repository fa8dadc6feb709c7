"""Odd texts on screen: shown exactly as written, and nothing reaches the terminal as a command.

A valid scenario may hold any Unicode, emoji, Rich markup (even an unbalanced ``[/]``) and very
long prompts: the app shows them literally. Escape sequences (written in double quotes in the
scenario, ``"\\e[2J"``, or pasted into a moderator's note) are shown as visible escapes, never
sent to the terminal; the database keeps the text exactly as written.
"""

from __future__ import annotations

import re

from usetest.clock import FakeClock
from usetest.scenario import parse_scenario
from usetest.tui.app import make_app
from usetest.tui.screens.task import TaskScreen
from usetest.tui.text import literal

RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
LONG = ("Read this carefully — " + "ünïcödé 🚀👩‍👩‍👧 [i]not italic[/i] ‮RTL‬ " * 400).strip()
SHOWN_LONG = LONG.replace("\u202e", "\\u202e").replace("\u202c", "\\u202c")
ODD_YAML = f"""\
study: "[bold]Odd[/] study 🧪"
product: "[/]"
tasks:
  - id: odd
    title: "[/] [red]not red[/red] 日本語 タイトル"
    prompt: "{LONG}"
    success: "[link=https://evil.example]click[/link]"
"""
ESCAPES = ["\x1b]52;c;ZWNobyBwd25lZA==\x07", "\x1b[2J\x1b[H", "\x1b]0;owned\x07", "\x9b31m"]


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_a_valid_but_odd_scenario_is_shown_literally(tmp_path):
    loaded = parse_scenario(ODD_YAML, "odd.yaml")
    assert loaded.scenario.tasks[0].prompt == LONG
    app = make_app(loaded, tmp_path / "odd.db", clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, TaskScreen)
        assert text_of(app, "#task-title") == "[/] [red]not red[/red] 日本語 タイトル"
        # all of it, markup and all; the bidi override ‮…‬ shown as escapes (usetest.plain)
        assert text_of(app, "#task-prompt") == SHOWN_LONG
        assert "[link=https://evil.example]click[/link]" in text_of(app, "#task-success-criterion")
        await pilot.press("v")  # the participant view shows the same text
        assert str(app.screen.query_one("#pv-prompt").render()) == SHOWN_LONG
        await pilot.press("z")
        await pilot.press("space", "n", "q", *"[/] 🚀", "enter")  # a quote note, typed
        assert "quote: [/] 🚀" in text_of(app, "#event-log")
        assert app._exception is None


async def test_escape_sequences_are_neutralised_on_screen(tmp_path):
    text = ODD_YAML.replace("[/] [red]not red", "\\e]0;owned\\a [red]not red").replace(
        "study: ", 'description: "\\e[2J cleared?"\nstudy: '
    )
    loaded = parse_scenario(text, "escapes.yaml")  # valid: texts are kept as written
    assert "\x1b]0;owned\x07" in loaded.scenario.tasks[0].title
    app = make_app(loaded, tmp_path / "esc.db", clock=FakeClock(), participant="P01", consent=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space")
        for escape in ESCAPES:
            app.recording.session.log_note(f"pasted {escape} text", kind="quote")
        app.screen.refresh_status()
        await pilot.pause()
        title, log = text_of(app, "#task-title"), text_of(app, "#event-log")
        assert title.startswith("\\x1b]0;owned\\x07 [red]not red")
        assert "pasted \\x1b[2J\\x1b[H text" in log and "pasted \\x9b31m text" in log
        for shown in (title, log, text_of(app, "#task-prompt")):
            assert RAW_CONTROL.search(shown) is None
        # What the terminal would be sent: every cell's text, as exported.
        screen = app.export_screenshot()
        assert RAW_CONTROL.search(screen) is None
    # The notes are stored exactly as typed: neutralising is for display only.
    rows = app.db.execute("SELECT text FROM notes ORDER BY event_seq").fetchall()
    assert [r[0] for r in rows] == [f"pasted {e} text" for e in ESCAPES]


def test_literal_makes_every_control_character_visible_but_keeps_tabs_and_new_lines():
    shown = str(literal("a\x00b\x07c\x1bd\x7fe\x85f\x9bg\th\ni[bold]j[/]"))
    assert shown == "a\\x00b\\x07c\\x1bd\\x7fe\\x85f\\x9bg\th\ni[bold]j[/]"
