"""Texts that reach a terminal or a page (issue 11, item 6).

Participant codes and moderator initials are checked where they are entered (the set-up screen,
``run --participant/--moderator``, the store): one printable line of at most 64 characters.
Bidi overrides and zero-width characters in scenario texts are shown neutralised, like control
characters, in the terminal summary, the plan, the reports and the app.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from tests.conftest import STUDY_YAML
from usetest import recorder
from usetest.cli import _exit_lines, cli
from usetest.clock import FakeClock
from usetest.plain import MAX_CODE, check_code, escaped, pictures
from usetest.scenario import parse_scenario
from usetest.store import StoreError, open_db

ROOT = Path(__file__).resolve().parent.parent
USETEST = str(Path(sys.executable).parent / "usetest")

HOSTILE_CODES = {
    "terminal escapes": "\x1b]0;pwn\x07\x1b[2J",
    "two lines": "P01\nP02",
    "10,000 characters": "P" * 10_000,
    "bidi override": "P\u202e10",
    "zero-width space": "P0\u200b1",
    "clipboard write": "\x1b]52;c;ZXZpbA==\x07",
    "BOM": "\ufeffP01",
    "line separator": "P01\u2028P02",
}
# Invisible characters that change how text reads, hidden in an otherwise plain study.
BIDI_YAML = """\
study: "Bidi \u202estudy\u202c test"
tasks:
  - id: one
    title: "Find \u2066the\u2069 kettle\u200b"
    prompt: "Pay \u202eexe.txt\u202c with zero\u200dwidth\ufeff"
    time_limit: 60
questionnaires: [sus]
"""
INVISIBLE = "\u202e\u202c\u2066\u2069\u200b\u200d\ufeff"


def no_invisible(text: str) -> bool:
    return not any(c in text for c in INVISIBLE)


# -- the rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", HOSTILE_CODES.values(), ids=HOSTILE_CODES.keys())
def test_check_code_refuses_what_could_act_on_a_terminal_or_hide(code):
    with pytest.raises(ValueError) as info:
        check_code(code, "participant code")
    message = str(info.value)
    assert "participant code" in message and "for example P07" in message
    assert "\x1b" not in message and "\n" not in message and no_invisible(message)
    assert len(message) < 300  # a 10,000-character code is not repeated back


def test_check_code_keeps_ordinary_codes_stripped():
    assert check_code("  P07 ") == "P07"
    assert check_code("Jürgen K.", "moderator initials") == "Jürgen K."
    assert check_code("P" * MAX_CODE) == "P" * MAX_CODE
    with pytest.raises(ValueError, match="for example AB"):
        check_code("A\tB", "moderator initials")


def test_bidi_and_zero_width_are_neutralised_for_terminals_and_pages():
    assert escaped("a\u202eb\u200bc\u2066d\ufeff") == "a\\u202eb\\u200bc\\u2066d\\ufeff"
    assert pictures("a\u202eb\u200bc") == "a⟨U+202E⟩b⟨U+200B⟩c"
    family = "👩\u200d👩\u200d👧"  # a joiner inside an emoji sequence draws one picture
    assert escaped(family) == family and pictures(family) == family
    assert escaped("x\u200dy") == "x\\u200dy"


# -- where codes are entered ----------------------------------------------------------------------


@pytest.mark.parametrize("code", HOSTILE_CODES.values(), ids=HOSTILE_CODES.keys())
def test_run_refuses_a_hostile_participant_code_and_writes_nothing(tmp_path, code):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(STUDY_YAML)
    db = tmp_path / "s.db"
    for extra in ([], ["--plan"]):
        result = CliRunner().invoke(cli, ["run", str(scenario), "--db", str(db),
                                          "--participant", code, *extra])  # fmt: skip
        assert result.exit_code == 1, result.output
        assert "participant code" in result.stderr and "nothing was started" in result.stderr
        assert "\x1b" not in result.output + result.stderr
        assert no_invisible(result.output + result.stderr)
    assert not db.exists()


def test_run_refuses_hostile_moderator_initials(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(STUDY_YAML)
    result = CliRunner().invoke(cli, ["run", str(scenario), "--db", str(tmp_path / "s.db"),
                                      "--participant", "P01", "--moderator", "A\x1b[2JB"])  # fmt: skip
    assert result.exit_code == 1
    assert "moderator initials" in result.stderr and "for example AB" in result.stderr
    assert not (tmp_path / "s.db").exists()


def test_the_installed_command_refuses_a_hostile_code(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(STUDY_YAML)
    done = subprocess.run([USETEST, "run", str(scenario), "--db", str(tmp_path / "s.db"),
                           "--participant", "\x1b]0;pwn\x07\x1b[2J"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert "\x1b" not in done.stdout + done.stderr
    assert "\\x1b]0;pwn\\x07" in done.stderr
    assert not (tmp_path / "s.db").exists()


@pytest.mark.parametrize("code", HOSTILE_CODES.values(), ids=HOSTILE_CODES.keys())
def test_the_store_refuses_a_hostile_code_whoever_asks(tmp_path, study, code):
    db = open_db(tmp_path / "s.db")
    with pytest.raises(StoreError, match="participant code"):
        recorder.start(db, study, code, clock=FakeClock())
    with pytest.raises(StoreError, match="moderator initials"):
        recorder.start(db, study, "P01", moderator="A\u202eB", clock=FakeClock())
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    db.close()


def test_exit_lines_print_codes_escaped(capsys, tmp_path):
    """An old database may hold a code from before the check: the exit line escapes it."""
    session = SimpleNamespace(state=SimpleNamespace(status="in_progress"))
    app = SimpleNamespace(lost_session=False, recording=SimpleNamespace(
        session=session, record=SimpleNamespace(participant="\x1b]0;pwn\x07P\u202e1")))  # fmt: skip
    _exit_lines(app, tmp_path / "s.yaml", tmp_path / "s.db")
    out = capsys.readouterr().out
    assert "\x1b" not in out and no_invisible(out)
    assert "\\x1b]0;pwn\\x07P\\u202e1: in progress" in out


async def test_the_set_up_screen_refuses_a_hostile_code(tmp_path, study):
    from textual.widgets import Checkbox, Input

    from usetest.tui.app import make_app
    from usetest.tui.screens.setup import SetupScreen

    db_path = tmp_path / "s.db"
    app = make_app(study, db_path, clock=FakeClock())
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        app.screen.query_one("#consent", Checkbox).value = True
        for field, value, what in (("#participant", "P\u202e01", "participant code"),
                                   ("#participant", "P01\x1b[2J", "participant code"),
                                   ("#participant", "P" * 65, "participant code"),
                                   ("#moderator", "A\u200bB", "moderator initials")):  # fmt: skip
            app.screen.query_one("#participant", Input).value = "P01"
            app.screen.query_one(field, Input).value = value
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, SetupScreen)
            assert app.recording is None
            shown = [n.message for n in app._notifications]
            assert any(what in m and "Not started" in m for m in shown), shown
        app.screen.query_one("#moderator", Input).value = "AB"
        await pilot.press("ctrl+s")  # a good code starts the session
        await pilot.pause()
        assert app.recording is not None and app.recording.record.participant == "P01"


# -- bidi and zero-width in scenario texts ------------------------------------------------------


@pytest.fixture
def bidi_study(tmp_path):
    scenario = tmp_path / "bidi.yaml"
    scenario.write_text(BIDI_YAML, encoding="utf-8")
    loaded = parse_scenario(BIDI_YAML, "bidi.yaml")
    db_path = tmp_path / "bidi.db"
    db = open_db(db_path)
    clock = FakeClock()
    for i in range(2):
        s = recorder.start(db, loaded, f"P0{i + 1}", clock=clock).session
        s.start()
        clock.advance(20)
        s.log_note("saw \u202egnp.exe\u202c here", "quote")
        s.end("success")
        for item, value in enumerate([4, 1, 5, 2, 5, 1, 4, 2, 3, 1], start=1):
            s.answer("sus", f"sus{item}", value)
        s.complete()
    db.close()
    return SimpleNamespace(scenario=scenario, loaded=loaded, db=db_path)


def test_summary_and_plan_show_invisible_characters_escaped(bidi_study):
    summary = CliRunner().invoke(cli, ["summary", str(bidi_study.db)])
    assert summary.exit_code == 0, summary.output
    assert no_invisible(summary.output)
    assert "Bidi \\u202estudy\\u202c test" in summary.output
    plan = CliRunner().invoke(cli, ["run", str(bidi_study.scenario), "--db",
                                    str(bidi_study.db), "--plan"])  # fmt: skip
    assert plan.exit_code == 0, plan.output
    assert no_invisible(plan.output)
    assert "Find \\u2066the\\u2069 kettle\\u200b" in plan.output


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_reports_show_invisible_characters_by_name(bidi_study, tmp_path, fmt):
    out = tmp_path / f"r.{fmt}"
    result = CliRunner().invoke(cli, ["report", str(bidi_study.db), "--format", fmt,
                                      "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output + (result.stderr or "")
    text = out.read_text(encoding="utf-8")
    assert no_invisible(text)
    for name in ("202E", "2066", "200B"):  # Markdown escapes the + (U\+202E)
        assert f"U+{name}" in text.replace("\\+", "+")


async def test_the_app_shows_invisible_characters_escaped(bidi_study):
    from usetest.tui.app import make_app

    app = make_app(bidi_study.loaded, None, clock=FakeClock(), participant="P09", consent=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        title = str(app.screen.query_one("#task-title").render())
        prompt = str(app.screen.query_one("#task-prompt").render())
        assert title == "Find \\u2066the\\u2069 kettle\\u200b"
        assert prompt == "Pay \\u202eexe.txt\\u202c with zero\\u200dwidth\\ufeff"
        assert no_invisible(app.export_screenshot())


@pytest.mark.parametrize("command", [
    ["abandon", "--yes"], ["withdraw", "--yes"],
    ["amend", "--task", "one", "--outcome", "fail", "--reason", "r"],
])  # fmt: skip
def test_codes_stored_by_an_older_usetest_reach_the_terminal_escaped(tmp_path, command):
    """A hostile code that got into a database before codes were checked is printed escaped."""
    from tests.conftest import STUDY_YAML
    from usetest import recorder
    from usetest.scenario import parse_scenario
    from usetest.store import open_db

    db_path = tmp_path / "old.db"
    db = open_db(db_path)
    rec = recorder.start(db, parse_scenario(STUDY_YAML), "P01")
    rec.session.end("skipped")
    hostile = "P\x1b]0;pwn\x07\x1b[2J"
    db.execute("UPDATE sessions SET participant = ?", [hostile])
    db.conn.commit()
    db.close()
    name, *rest = command
    result = CliRunner().invoke(cli, [name, str(db_path), "--participant", hostile, *rest])
    assert "\x1b" not in result.output and "\x07" not in result.output, result.output
    assert "\\x1b" in result.output
