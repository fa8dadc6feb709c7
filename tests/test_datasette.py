"""usetest datasette: the real Datasette started on a study database with usetest's metadata
(label columns, column descriptions, canned queries), checked through Datasette's own --get;
and schema 4 (tasks table, task_attempts view, event_seq) that makes the file readable."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.studydata import build_checkout
from usetest import dictionary, explore, stats, store
from usetest.analysis import summarise
from usetest.cli import cli
from usetest.merge import merge

pytestmark = pytest.mark.skipif(not explore.available(), reason="datasette is not installed")

USETEST = [sys.executable, "-m", "usetest"]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_checkout(tmp_path_factory.mktemp("ds") / "checkout.db")


def get(db: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """``usetest datasette DB [extra] --get URL`` as a user runs it."""
    return subprocess.run([*USETEST, "datasette", str(db), *extra, "--get", url],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def get_json(db: Path, url: str) -> list[dict]:
    done = get(db, url)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_completion_by_task_agrees_with_the_summary(checkout: Path) -> None:
    rows = get_json(checkout, "/checkout/completion_by_task.json?_shape=array")
    s = summarise(checkout)
    tasks = s.tasks.set_index("task_id")
    assert [r["task_id"] for r in rows] == list(s.tasks["task_id"])  # the scenario's order
    for r in rows:
        assert r["attempts"] == tasks.loc[r["task_id"], "n"]
        assert r["successes"] + r["partial"] + r["failures"] + r["abandoned"] == r["attempts"]
    assert rows[0]["title"] == "Find a kettle"  # a title, not only the id


def test_sus_by_participant_is_the_sus_of_each_participant(checkout: Path) -> None:
    rows = get_json(checkout, "/checkout/sus_by_participant.json?_shape=array")
    conn = sqlite3.connect(checkout)
    answers: dict[str, list[int | None]] = {}
    for code, item, value in conn.execute(
        "SELECT s.participant, a.item, a.value_num FROM answers a JOIN sessions s ON"
        " s.id = a.session_id WHERE a.questionnaire = 'sus' AND s.status = 'completed'"
    ):  # fmt: skip
        answers.setdefault(code, [None] * 10)[int(item[3:]) - 1] = value
    conn.close()
    assert {r["participant"]: r["sus"] for r in rows} == pytest.approx(
        {code: stats.sus_score(a) for code, a in answers.items()})  # Brooke 1996, tested there
    mean = sum(r["sus"] for r in rows) / len(rows)
    assert mean == pytest.approx(summarise(checkout).sus_summary["mean"])


def test_links_show_participant_codes_and_columns_say_what_they_hold(checkout: Path) -> None:
    [row] = get_json(checkout, "/checkout/attempts.json?_size=1&_labels=on&_shape=array")
    assert row["session_id"] == {"value": 1, "label": "P01"}
    page = get(checkout, "/checkout/attempts?_size=1")
    assert page.returncode == 0, page.stderr
    assert "Time on task in milliseconds, pauses left out." in page.stdout
    view = get_json(checkout, "/checkout/task_attempts.json?_shape=array&participant=P01")
    assert {r["task_title"] for r in view} >= {"Find a kettle", "Pay by card"}
    assert all(r["time_s"] * 1000 == pytest.approx(r2["time_ms"]) for r, r2 in zip(
        sorted(view, key=lambda r: r["task_id"]),
        sorted(get_json(checkout, "/checkout/attempts.json?_shape=array&session_id=1"),
               key=lambda r: r["task_id"]), strict=True))  # fmt: skip


def test_a_participants_log_by_code(checkout: Path) -> None:
    rows = get_json(checkout, "/checkout/participant_log.json?_shape=array&participant=P02")
    assert [r["event_seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0]["kind"] == "session_started"


def test_the_dictionary_describes_every_column_of_every_table_and_view(checkout: Path) -> None:
    conn = sqlite3.connect(checkout)
    for table in (*store.TABLES, "task_attempts"):
        have = [c[1] for c in conn.execute(f'PRAGMA table_info("{table}")')]
        assert have, table
        assert set(dictionary.COLUMNS[table]) == set(have), table
        assert dictionary.TABLES[table]
    conn.close()
    meta = explore.metadata("checkout", "Study")
    assert set(meta["databases"]["checkout"]["queries"]) >= {"completion_by_task",
                                                             "sus_by_participant"}  # fmt: skip


def test_a_database_in_a_read_only_place_is_opened_immutable(checkout: Path, monkeypatch) -> None:
    # (the suite runs as root, which ignores permissions: what os.access says is simulated)
    real = os.access
    monkeypatch.setattr(explore.os, "access",
                        lambda p, mode: False if Path(p) == checkout.parent else real(p, mode))
    with explore.served(checkout) as target:
        assert target.immutable and target.path == checkout
        assert explore.datasette_args(target, Path("m.json"), ["--port", "9"]) == [
            "serve", "-i", str(checkout), "--metadata", "m.json", "--port", "9"]
    monkeypatch.setattr(explore.os, "access", real)
    with explore.served(checkout) as target:
        assert not target.immutable


def _schema3_file(path: Path) -> None:
    """A database as usetest wrote it before schema 4 (events.seq, no tasks table)."""
    conn = sqlite3.connect(path)
    db = store._import_sqlite_utils().Database(conn)
    for migration in store.MIGRATIONS[:3]:
        migration(db)
    text = (Path(__file__).parent.parent / "scenarios" / "demo.yaml").read_text(encoding="utf-8")
    conn.execute("INSERT INTO scenarios (id, sha256, study, text, loaded_at, study_key, version)"
                 " VALUES (1, ?, 'Demo', ?, '2026-11-02T09:00:00Z', 'Demo', 1)",
                 (hashlib.sha256(text.encode()).hexdigest(), text))  # fmt: skip
    conn.execute("INSERT INTO sessions (id, uid, scenario_id, participant, task_order, status,"
                 " started_at) VALUES (1, 'u1', 1, 'P01', '[]', 'completed',"
                 " '2026-11-02T09:00:00Z')")  # fmt: skip
    conn.execute("INSERT INTO events (session_id, seq, run, kind, payload, mono_ms, at) VALUES"
                 " (1, 1, 1, 'session_started', '{}', 0, '2026-11-02T09:00:00Z')")  # fmt: skip
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()


def test_schema_4_renames_seq_and_lists_every_versions_tasks(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _schema3_file(path)
    db = store.open_db(path)
    assert store.schema_version(db) == 4
    assert db.execute("SELECT event_seq, kind FROM events").fetchall() == [(1, "session_started")]
    titles = db.execute("SELECT task_id, title, position FROM tasks ORDER BY position").fetchall()
    assert titles[0][2] == 1 and all(t[1].strip() for t in titles)
    cols = [c[1] for c in db.execute("PRAGMA table_info(observer_notes)")]
    assert "taken_event_seq" in cols and "taken_seq" not in cols
    db.close()


def test_an_older_database_is_shown_as_an_up_to_date_copy(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _schema3_file(path)
    before = path.read_bytes()
    done = get(path, "/old/tasks.json?_shape=array&_sort=position")
    assert done.returncode == 0, done.stderr
    assert "from an older usetest" in done.stderr
    assert [r["position"] for r in json.loads(done.stdout)][:2] == [1, 2]
    assert path.read_bytes() == before  # the file itself is not migrated


def test_tasks_that_disagree_with_the_scenario_text_are_refused(tmp_path: Path) -> None:
    path = build_checkout(tmp_path / "c.db", per_condition=1)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE tasks SET title = 'Something else' WHERE position = 1")
    conn.commit()
    conn.close()
    done = subprocess.run([*USETEST, "datasette", str(path), "--get", "/c.json"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1
    assert "“tasks” does not list the tasks of the stored scenario 1" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_merge_writes_the_tasks_of_the_versions_it_brings(tmp_path: Path) -> None:
    a = build_checkout(tmp_path / "a.db", per_condition=1)
    merge([a], tmp_path / "m.db")
    conn = sqlite3.connect(tmp_path / "m.db")
    assert conn.execute("SELECT count(*) FROM tasks").fetchone()[0] == 5
    conn.close()
    store.open_read(tmp_path / "m.db").close()  # and it verifies


def test_datasettes_own_metadata_option_and_a_missing_datasette_are_messages(
    checkout: Path, monkeypatch
) -> None:  # fmt: skip
    runner = CliRunner()
    done = runner.invoke(cli, ["datasette", str(checkout), "--metadata", "mine.json"])
    assert done.exit_code == 1 and "--print-metadata" in done.output
    monkeypatch.setattr(explore, "available", lambda: False)
    done = runner.invoke(cli, ["datasette", str(checkout)])
    assert done.exit_code == 1 and "pip install 'usetest[datasette]'" in done.output
    done = runner.invoke(cli, ["datasette", str(checkout), "--print-metadata"])
    assert done.exit_code == 0
    assert json.loads(done.output)["databases"]["checkout"]["tables"]["sessions"][
        "label_column"] == "participant"
