"""usetest.database.Database behaves as sqlite-utils' Database, without importing it until needed.

Every behaviour the store relies on is run on both classes side by side and must agree: the
same rows, the same transaction state, the same errors.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
import sqlite_utils

from tests.conftest import ROOT
from usetest.database import Database


def both(tmp_path):
    """A usetest Database and a sqlite-utils Database, each on its own file."""
    ours = Database(sqlite3.connect(tmp_path / "ours.db"))
    theirs = sqlite_utils.Database(sqlite3.connect(tmp_path / "theirs.db"))
    return ours, theirs


def rows(db, sql="SELECT * FROM t ORDER BY id"):
    other = sqlite3.connect(db.conn.execute("PRAGMA database_list").fetchone()[2])
    try:  # another connection sees only what is committed
        return other.execute(sql).fetchall()
    finally:
        other.close()


def test_a_write_outside_a_transaction_is_committed_at_once(tmp_path):
    for db in both(tmp_path):
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        db.execute("INSERT INTO t (v) VALUES (?)", ["a"])
        db.execute("INSERT INTO t (v) VALUES (:v)", {"v": "b"})
        assert not db.conn.in_transaction
        assert rows(db) == [(1, "a"), (2, "b")]
        assert db.execute("SELECT v FROM t WHERE id = 2").fetchone() == ("b",)


def test_a_failed_write_leaves_no_transaction_open(tmp_path):
    for db in both(tmp_path):
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO t (v) VALUES (NULL)")
        assert not db.conn.in_transaction
        db.execute("INSERT INTO t (v) VALUES ('x')")
        assert rows(db) == [(1, "x")]


def test_explicit_transaction_statements_are_left_to_the_caller(tmp_path):
    for db in both(tmp_path):
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        db.execute("BEGIN")
        db.execute("INSERT INTO t (v) VALUES ('in')")
        assert db.conn.in_transaction and rows(db) == []
        db.execute("/* c */ -- c\n COMMIT")
        assert rows(db) == [(1, "in")]


def test_atomic_commits_rolls_back_and_nests_as_savepoints(tmp_path):
    results = []
    for db in both(tmp_path):
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        with db.atomic():
            db.execute("INSERT INTO t (v) VALUES ('kept')")
            with pytest.raises(ValueError), db.atomic():
                db.execute("INSERT INTO t (v) VALUES ('inner, undone')")
                raise ValueError
            with db.atomic():
                db.execute("INSERT INTO t (v) VALUES ('inner, kept')")
            assert db.conn.in_transaction
        with pytest.raises(KeyError), db.atomic():
            db.execute("INSERT INTO t (v) VALUES ('outer, undone')")
            raise KeyError
        assert not db.conn.in_transaction
        results.append(rows(db, "SELECT v FROM t ORDER BY id"))
    assert results[0] == results[1] == [("kept",), ("inner, kept",)]


def test_a_trigger_that_rolls_back_ends_atomic_with_its_own_error(tmp_path):
    messages = []
    for db in both(tmp_path):
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        db.execute("CREATE TRIGGER no_x BEFORE INSERT ON t WHEN NEW.v = 'x' "
                   "BEGIN SELECT RAISE(ROLLBACK, 'no x'); END")  # fmt: skip
        with pytest.raises(sqlite3.IntegrityError) as caught, db.atomic(), db.atomic():
            db.execute("INSERT INTO t (v) VALUES ('x')")
        messages.append(str(caught.value))
        assert not db.conn.in_transaction
    assert messages == ["no x", "no x"]


def test_recursive_triggers_are_on_and_the_table_list_agrees(tmp_path):
    ours, theirs = both(tmp_path)
    for db in (ours, theirs):
        db.execute("CREATE TABLE a (id INTEGER PRIMARY KEY)")
        db.execute("CREATE VIEW v AS SELECT * FROM a")
        db.execute("CREATE TABLE b (id INTEGER PRIMARY KEY)")
    assert ours.conn.execute("PRAGMA recursive_triggers").fetchone() == (1,)
    assert ours.table_names() == theirs.table_names() == ["a", "b"]
    assert Database(memory=True).memory and not ours.memory


def test_everything_else_is_sqlite_utils_own_on_the_same_connection(tmp_path):
    ours, _ = both(tmp_path)
    ours["t"].insert_all([{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], pk="id")
    assert ours["t"].get(2) == {"id": 2, "v": "b"}
    assert list(ours.query("SELECT v FROM t ORDER BY id")) == [{"v": "a"}, {"v": "b"}]
    assert ours.sqlite_utils.conn is ours.conn
    assert rows(ours) == [(1, "a"), (2, "b")]
    with pytest.raises(AttributeError):
        ours.no_such_member  # noqa: B018


def test_the_app_reaches_its_first_task_screen_without_sqlite_utils(tmp_path):
    """The launch path (make_app, the read view, opening for writing, starting a session,
    the first task screen) uses the store's own Database only: sqlite-utils stays unloaded."""
    code = f"""
import json, sys
from usetest.scenario import load_scenario
from usetest.tui.app import make_app
app = make_app(load_scenario({str(ROOT / "scenarios" / "demo.yaml")!r}), {str(tmp_path / "s.db")!r},
               participant="P01", consent=True, profile={{"age": "30-44", "experience": 12}})
async def ready(pilot):
    await pilot.pause()
    print(json.dumps([type(app.screen).__name__, "sqlite_utils" in sys.modules]))
    app.exit()
app.run(headless=True, auto_pilot=ready)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True, timeout=120).stdout  # fmt: skip
    assert json.loads(out.strip().splitlines()[-1]) == ["TaskScreen", False]
