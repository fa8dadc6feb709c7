"""The scenario schema and ``usetest validate`` agree: the same good and bad files through the
editors' validator (check-jsonschema: YAML 1.2 via ruamel.yaml, JSON Schema via jsonschema) and
through ``usetest validate``; where they differ, the case says why (a rule JSON Schema cannot
state). docs/scenario-format.md lists the same rules."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from usetest.cli import cli
from usetest.scenario import SCHEMA_FILE, SCHEMA_ID_PREFIX, json_schema, packaged_schema, template

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "usetest" / SCHEMA_FILE
CHECK = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(CHECK is None, reason="check-jsonschema is not installed")

BASE = """\
study: Agreement
{extra}
tasks:
  - id: one
    title: {title}
    prompt: Do the first thing.
{task}
  - id: {second}
    title: Second
    prompt: Do the second thing.
"""

# name: (changes to BASE, validate accepts, schema accepts, why they differ)
CASES: dict[str, tuple[dict[str, str], bool, bool, str]] = {
    "good": ({}, True, True, ""),
    "good profile and blocks": ({"extra": "conditions: [current, redesign]\nprofile:\n  - id: age\n"
                                 "    text: Age band?\n    options: [young, old]\n  - id: years\n"
                                 "    text: Years online?\n    type: number\n    min: 0\n"
                                 "    max: 60\nquestionnaires:\n  - sus\n  - id: mine\n"
                                 "    title: Mine\n    items:\n      - {id: a, text: It was easy}",
                                 "task": "    after: [ces, mine]"}, True, True, ""),
    "blank title": ({"title": "'   '"}, False, False, ""),
    "yes/no word for a boolean": ({"task": "    seq: off"}, False, False, ""),
    "number for a boolean": ({"task": "    seq: 1"}, False, False, ""),
    "quoted number": ({"task": "    time_limit: '180'"}, False, False, ""),
    "unknown key": ({"task": "    titel: Typo"}, False, False, ""),
    "condition twice": ({"extra": "conditions: [a, a]"}, False, False, ""),
    "built-in id for a block": ({"extra": "questionnaires:\n  - id: sus\n    title: Mine\n"
                                 "    items:\n      - {id: a, text: It was easy}"}, False, False, ""),
    "whole-system questionnaire after a task": ({"task": "    after: [sus]"}, False, False, ""),
    "choice without options": ({"extra": "profile:\n  - id: age\n    text: Age?"}, False, False, ""),
    "one option": ({"extra": "profile:\n  - id: age\n    text: Age?\n    options: [old]"},
                   False, False, ""),
    "text question with options": ({"extra": "profile:\n  - id: age\n    text: Age?\n"
                                    "    type: text\n    options: [a, b]"}, False, False, ""),
    "duplicate key": ({"task": "    seq: true\n    seq: false"}, False, False, ""),
    # JSON Schema cannot state these: uniqueness of a property among list entries, references
    # between entries, an order between two values; and YAML 1.1 words in a list are text to
    # YAML 1.2 (the editor) but booleans to YAML 1.1, so validate refuses both readings.
    "task id twice": ({"second": "one"}, False, True, "uniqueness of an id among entries"),
    "hotkey twice": ({"extra": "error_types:\n  - {key: n, name: navigation}\n"
                      "  - {key: n, name: nothing}"}, False, True,
                     "uniqueness of a key among entries"),
    "after names no block": ({"task": "    after: [nothing]"}, False, True,
                             "a reference to another entry's id"),
    "at_end false never asked": ({"extra": "questionnaires:\n  - id: mine\n    title: Mine\n"
                                  "    at_end: false\n    items:\n      - {id: a, text: It was easy}"},
                                 False, True, "a reference from another entry"),
    "min above max": ({"extra": "profile:\n  - id: years\n    text: Years?\n    type: number\n"
                       "    min: 9\n    max: 1"}, False, True, "an order between two values"),
    "YAML 1.1 words as text": ({"extra": "conditions: [NO, SE]"}, False, True,
                               "YAML 1.1 reads NO as false, YAML 1.2 as text"),
}


def _text(changes: dict[str, str]) -> str:
    fields = {"extra": "", "title": "First", "task": "", "second": "two", **changes}
    return "\n".join(line for line in BASE.format(**fields).splitlines() if line.strip()) + "\n"


def _schema_accepts(path: Path) -> bool:
    done = subprocess.run([CHECK, "--schemafile", str(SCHEMA), str(path)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return done.returncode == 0


@pytest.mark.parametrize("name", list(CASES))
def test_schema_and_validate_agree_or_say_why(name: str, tmp_path: Path) -> None:
    changes, validate_ok, schema_ok, why = CASES[name]
    path = tmp_path / "case.yaml"
    path.write_text(_text(changes), encoding="utf-8")
    validated = CliRunner().invoke(cli, ["validate", str(path)])
    assert (validated.exit_code == 0) is validate_ok, validated.output
    assert _schema_accepts(path) is schema_ok
    assert bool(why) == (validate_ok != schema_ok)  # every difference has its reason


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_the_examples_pass_both(path: Path) -> None:
    assert _schema_accepts(path)
    assert CliRunner().invoke(cli, ["validate", str(path)]).exit_code == 0


def test_the_packaged_schema_is_current_and_versioned() -> None:
    assert json.loads(packaged_schema()) == json_schema()
    assert json_schema()["$id"].startswith(SCHEMA_ID_PREFIX)
    done = CliRunner().invoke(cli, ["schema", "--path"])
    assert Path(done.output.strip()).read_text(encoding="utf-8") == packaged_schema()


def test_new_writes_a_scenario_whose_schema_resolves_where_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere" / "study"
    done = CliRunner().invoke(cli, ["new", str(folder / "s.yaml")])
    assert done.exit_code == 0, done.output
    first = (folder / "s.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema={SCHEMA_FILE}"
    schema = folder / first.split("$schema=")[1]  # resolved from the file's folder, as editors do
    assert schema.read_text(encoding="utf-8") == packaged_schema()
    assert _schema_accepts(folder / "s.yaml")
    # an older usetest's copy is updated; someone else's file of that name is left alone
    schema.write_text(json.dumps({"$id": SCHEMA_ID_PREFIX + "0.0.1"}), encoding="utf-8")
    assert CliRunner().invoke(cli, ["new", str(folder / "t.yaml")]).exit_code == 0
    assert schema.read_text(encoding="utf-8") == packaged_schema()
    schema.write_text("{}", encoding="utf-8")
    refused = CliRunner().invoke(cli, ["new", str(folder / "u.yaml")])
    assert refused.exit_code == 1 and "is not a usetest scenario schema" in refused.output
    assert not (folder / "u.yaml").exists() and schema.read_text(encoding="utf-8") == "{}"
    url = "https://lab.example/usetest-scenario.schema.json"
    assert CliRunner().invoke(cli, ["new", str(folder / "v.yaml"), "--schema", url]).exit_code == 0
    assert (folder / "v.yaml").read_text(encoding="utf-8").startswith(
        f"# yaml-language-server: $schema={url}\n")
    assert template().startswith(f"# yaml-language-server: $schema={SCHEMA_FILE}\n")


def test_a_text_stored_by_an_older_usetest_is_read_as_it_was_recorded(tmp_path: Path) -> None:
    """A version recorded before the strict rules (``seq: no``, a quoted number) still opens,
    with the meaning PyYAML and the lax model gave it then; a new file with it is refused."""
    import hashlib
    import sqlite3

    from usetest import store
    from usetest.scenario import ScenarioError, parse_scenario

    text = _text({"task": "    seq: no\n    time_limit: '180'"})
    with pytest.raises(ScenarioError):
        parse_scenario(text)
    path = tmp_path / "old.db"
    db = store.open_db(path)
    db.execute("INSERT INTO scenarios (id, sha256, study, text, loaded_at, study_key, version)"
               " VALUES (1, ?, 'Agreement', ?, '2026-11-02T09:00:00Z', 'Agreement', 1)",
               [hashlib.sha256(text.encode()).hexdigest(), text])  # fmt: skip
    recorded = parse_scenario(text, as_recorded=True).scenario
    store.record_tasks(db, 1, recorded)
    db.conn.commit()
    db.close()
    store.open_read(path).close()  # verified: not "damaged"
    assert recorded.tasks[0].seq is False and recorded.tasks[0].time_limit == 180
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM tasks").fetchone()[0] == 2
    conn.close()
