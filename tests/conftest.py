"""Shared fixtures: scenarios from text, a frozen clock, fresh databases."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# These change how Textual renders; snapshots must not depend on the developer's terminal.
for _name in ("TEXTUAL_THEME", "NO_COLOR", "FORCE_COLOR", "TEXTUAL"):
    os.environ.pop(_name, None)
os.environ.setdefault("MPLCONFIGDIR", str(Path(__file__).parent / ".mplconfig"))
# The memo of checked study files (usetest.checked) in a folder of this run, not the user's.
_CACHE = tempfile.TemporaryDirectory(prefix="usetest-cache-")
os.environ["USETEST_CACHE_DIR"] = _CACHE.name

from usetest.clock import FakeClock  # noqa: E402
from usetest.scenario import LoadedScenario, parse_scenario  # noqa: E402
from usetest.store import open_db  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEMO_FILE = ROOT / "scenarios" / "demo.yaml"
DEMO_PROFILE_ARGS = "--profile-answer age=30-44 --profile-answer experience=12"
"""The demo's profile answered on the command line: the app goes from consent to the first task."""


def demo_without_profile() -> LoadedScenario:
    """scenarios/demo.yaml without its ``profile:`` block (the last one in the file): the app
    tests go from consent straight to the first task (tests/tui/test_profile_app.py covers
    the profile step)."""
    text = DEMO_FILE.read_text(encoding="utf-8")
    head, sep, _ = text.partition("\nprofile:")
    assert sep, "demo.yaml has no profile: block"
    return parse_scenario(head + "\n", str(DEMO_FILE))

STUDY_YAML = """\
study: Fixture study
product: Fixture app
task_order: fixed
error_types:
  - {key: n, name: navigation}
  - {key: m, name: misread label}
tasks:
  - id: one
    title: First task
    prompt: Do the first thing. [bold]literal[/]
    success: The first thing is done
    time_limit: 60
  - id: two
    title: Second task
    prompt: Do the second thing.
  - id: three
    title: Third task
    prompt: Do the third thing.
    seq: false
questionnaires: [sus, umux-lite, nps]
"""


@pytest.fixture
def study() -> LoadedScenario:
    return parse_scenario(STUDY_YAML, "fixture.yaml")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db():
    database = open_db(None)
    yield database
    database.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "study.db"


def rows(db_path: Path, sql: str) -> list[dict]:
    """The rows of ``sql`` in a study database, as dicts (tests read what the app wrote)."""
    db = open_db(db_path)
    try:
        return [dict(r) for r in db.query(sql)]
    finally:
        db.close()
