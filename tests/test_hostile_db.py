"""Hostile and damaged study databases (issue 11, item 3): every read command refuses them.

Each mutation damages a copy of a real study database (tests/studydata.py: the checkout study
recorded through the recorder) the way a file changed outside usetest could be: a column
dropped or added, an injected column name, hostile YAML in the stored scenario, values out of
range or of the wrong type, a missing scenario row, a foreign trigger or view, a schema version
no usetest writes, a truncated file. Every read command (summary, report, export as CSV and
Parquet, merge as a source, run --plan, the results view's data path, the app's factory) must
end with a message that names the file and a non-zero exit: never a traceback, never exit 0,
and nothing written where a command would write.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.studydata import CHECKOUT, build_checkout
from usetest import store
from usetest.cli import cli
from usetest.merge import MergeError, merge
from usetest.scenario import parse_scenario

HOSTILE_YAML = "!!python/object/apply:os.system ['echo pwned']\nstudy: x\n"


FIRST = "(SELECT min(rowid) FROM attempts)"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _drop_severity(c: sqlite3.Connection) -> None:
    c.execute("ALTER TABLE notes DROP COLUMN severity")


def _hostile_yaml(c: sqlite3.Connection) -> None:
    # the hash is made to match, so only the parse can refuse it
    c.execute("UPDATE scenarios SET text = ?, sha256 = ?", (HOSTILE_YAML, _sha(HOSTILE_YAML)))


def _edited_text(c: sqlite3.Connection) -> None:
    c.execute("UPDATE scenarios SET text = text || '\n# edited after recording\n'")


def _negative_time(c: sqlite3.Connection) -> None:
    c.execute(f"UPDATE attempts SET time_ms = -99999999999 WHERE rowid = {FIRST}")


def _absurd_time(c: sqlite3.Connection) -> None:
    c.execute("UPDATE attempts SET time_ms = 99999999999999")


def _blob_moderator(c: sqlite3.Connection) -> None:
    c.execute("UPDATE sessions SET moderator = x'00ff' WHERE id = 1")


def _text_in_count(c: sqlite3.Connection) -> None:
    c.execute(f"UPDATE attempts SET errors = 'many' WHERE rowid = {FIRST}")


def _bad_severity(c: sqlite3.Connection) -> None:
    c.execute("UPDATE notes SET severity = 99 WHERE rowid = (SELECT min(rowid) FROM notes)")


def _bad_time_text(c: sqlite3.Connection) -> None:
    c.execute("UPDATE sessions SET started_at = 'the day before yesterday' WHERE id = 1")


def _bad_task_order(c: sqlite3.Connection) -> None:
    c.execute("UPDATE sessions SET task_order = '{not json' WHERE id = 1")


def _extra_column(c: sqlite3.Connection) -> None:
    c.execute("ALTER TABLE sessions ADD COLUMN extra TEXT DEFAULT 'x'")


def _injected_column(c: sqlite3.Connection) -> None:
    c.execute('ALTER TABLE notes ADD COLUMN "x"") VALUES (1); DROP TABLE notes; --" TEXT')


def _no_scenario_row(c: sqlite3.Connection) -> None:
    c.execute("DELETE FROM scenarios")


def _trigger_drops_notes(c: sqlite3.Connection) -> None:
    c.execute("CREATE TRIGGER quiet BEFORE INSERT ON notes BEGIN SELECT RAISE(IGNORE); END")


def _trigger_sets_time(c: sqlite3.Connection) -> None:
    c.execute("CREATE TRIGGER skew AFTER INSERT ON attempts BEGIN UPDATE attempts SET"
              " time_ms = -5000 WHERE rowid = NEW.rowid; END")  # fmt: skip


def _guard_dropped(c: sqlite3.Connection) -> None:
    c.execute("DROP TRIGGER events_no_update")


def _guard_replaced(c: sqlite3.Connection) -> None:
    c.execute("DROP TRIGGER events_no_delete")
    c.execute("CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT 1; END")


def _notes_view(c: sqlite3.Connection) -> None:
    c.execute("ALTER TABLE notes RENAME TO notes_real")
    c.execute("CREATE VIEW notes AS SELECT * FROM notes_real UNION ALL SELECT session_id,"
              " event_seq + 1000, task_id, 'problem', 'injected', 4, logged_at FROM notes_real")  # fmt: skip


def _extra_view(c: sqlite3.Connection) -> None:
    c.execute("CREATE VIEW leak AS SELECT participant FROM sessions")


def _extra_table(c: sqlite3.Connection) -> None:
    c.execute("CREATE TABLE loot (x)")


def _version_max(c: sqlite3.Connection) -> None:
    c.execute("PRAGMA user_version = 2147483647")


def _version_negative(c: sqlite3.Connection) -> None:
    c.execute("PRAGMA user_version = -1")


def _dangling_rows(c: sqlite3.Connection) -> None:
    c.execute("UPDATE notes SET session_id = 999 WHERE rowid = (SELECT min(rowid) FROM notes)")


def _invalid_utf8(c: sqlite3.Connection) -> None:
    c.execute("UPDATE sessions SET uid = CAST(x'ff41ff' AS TEXT) WHERE id = 1")


def _invalid_utf8_note(c: sqlite3.Connection) -> None:
    c.execute("UPDATE notes SET text = CAST(x'50ff41' AS TEXT)")


def _text_scenario_id_no_scenarios(c: sqlite3.Connection) -> None:
    """Found by the database fuzzer: the stored scenarios' check met a text id among the
    tasks' integers while the value checks (which refuse it) had not been reported yet."""
    c.execute("UPDATE tasks SET scenario_id = '\u202e\u200bP01' WHERE rowid = 1")
    c.execute("DELETE FROM scenarios")


TRUNCATE = "truncate"  # done on the file, after the connection is closed

MUTATIONS: dict[str, Callable[[sqlite3.Connection], None] | str] = {
    "dropped notes.severity": _drop_severity,
    "hostile YAML in scenarios.text": _hostile_yaml,
    "scenario text not matching its sha256": _edited_text,
    "time_ms -99999999999": _negative_time,
    "time_ms absurd": _absurd_time,
    "moderator blob x'00ff'": _blob_moderator,
    "text in a count": _text_in_count,
    "severity 99": _bad_severity,
    "a time that is no time": _bad_time_text,
    "task order not JSON": _bad_task_order,
    "extra sessions column": _extra_column,
    "injected quoted column": _injected_column,
    "no scenario row": _no_scenario_row,
    "trigger dropping notes": _trigger_drops_notes,
    "trigger setting time_ms": _trigger_sets_time,
    "append-only guard dropped": _guard_dropped,
    "append-only guard replaced": _guard_replaced,
    "notes view over a renamed table": _notes_view,
    "extra view": _extra_view,
    "extra table": _extra_table,
    "user_version 2147483647": _version_max,
    "user_version -1": _version_negative,
    "rows of a missing session": _dangling_rows,
    "invalid UTF-8 in sessions.uid": _invalid_utf8,
    "invalid UTF-8 in notes.text": _invalid_utf8_note,
    "text scenario id in tasks, no scenarios": _text_scenario_id_no_scenarios,
    "truncated file": TRUNCATE,
}


@pytest.fixture(scope="module")
def valid_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build_checkout(tmp_path_factory.mktemp("base") / "study.db", per_condition=2)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file to copy
    conn.close()
    return path


def damaged(valid: Path, folder: Path, mutation: str) -> Path:
    """A copy of ``valid`` in ``folder`` (a name with characters URIs care about) damaged."""
    path = folder / "lab 1 #50%.db"
    shutil.copyfile(valid, path)
    change = MUTATIONS[mutation]
    if change == TRUNCATE:
        size = path.stat().st_size
        with path.open("r+b") as f:
            f.truncate(size * 2 // 3)
        return path
    conn = sqlite3.connect(path)
    assert callable(change)
    change(conn)
    conn.commit()
    conn.close()
    return path


def test_the_valid_copy_reads(valid_db: Path, tmp_path: Path) -> None:
    """The baseline the mutations start from passes every check and every command."""
    path = tmp_path / "ok.db"
    shutil.copyfile(valid_db, path)
    store.verify(sqlite3.connect(path), path)
    result = CliRunner().invoke(cli, ["summary", str(path)])
    assert result.exit_code == 0, result.output


COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "summary": lambda db, out: ["summary", str(db)],
    "summary json": lambda db, out: ["summary", str(db), "--format", "json"],
    "report": lambda db, out: ["report", str(db), "--no-charts", "-o", str(out / "r.html")],
    "export csv": lambda db, out: ["export", str(db), "--format", "csv", "--out", str(out)],
    "export parquet": lambda db, out: ["export", str(db), "--format", "parquet", "--out", str(out)],
    "merge": lambda db, out: ["merge", str(db), "-o", str(out / "merged.db")],
    "run --plan": lambda db, out: ["run", str(CHECKOUT), "--db", str(db), "--plan"],
    "results": lambda db, out: ["results", str(db)],
}


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "results"])
def test_every_command_reads_the_undamaged_copy(valid_db: Path, tmp_path: Path,
                                                command: str) -> None:  # fmt: skip
    """The same file name, undamaged: each command succeeds, so a refusal below is the damage."""
    path = tmp_path / "lab 1 #50%.db"
    shutil.copyfile(valid_db, path)
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(cli, COMMANDS[command](path, out))
    assert result.exit_code == 0, result.output + repr(result.exception)


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_read_commands_refuse_a_damaged_database(valid_db: Path, tmp_path: Path, mutation: str,
                                                 command: str) -> None:  # fmt: skip
    path = damaged(valid_db, tmp_path, mutation)
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(cli, COMMANDS[command](path, out))
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code not in (0, None), text
    unexpected = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not unexpected, repr(result.exception)
    assert "Traceback" not in text
    assert str(path) in text, text
    assert not any(out.iterdir()), "a refused database must leave nothing written"


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_the_results_view_and_the_app_refuse_it(valid_db: Path, tmp_path: Path,
                                                mutation: str) -> None:  # fmt: skip
    from usetest.analysis import AnalysisError, study_results
    from usetest.scenario import load_scenario
    from usetest.tui.app import make_app

    path = damaged(valid_db, tmp_path, mutation)
    with pytest.raises(AnalysisError) as refused:
        study_results(path)
    assert str(path) in str(refused.value)
    with pytest.raises(store.StoreError) as refused_app:
        make_app(load_scenario(CHECKOUT), path)
    assert str(path) in str(refused_app.value)


@pytest.mark.parametrize("mutation", ["trigger dropping notes", "trigger setting time_ms",
                                      "notes view over a renamed table", "extra view",
                                      "append-only guard replaced"])  # fmt: skip
def test_the_app_refuses_foreign_objects_before_any_write(valid_db: Path, tmp_path: Path,
                                                          mutation: str) -> None:  # fmt: skip
    path = damaged(valid_db, tmp_path, mutation)
    before = path.read_bytes()
    with pytest.raises(store.DatabaseRefused, match="did not create|view") as refused:
        store.open_db(path)
    assert str(path) in str(refused.value)
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


# ---------------------------------------------------------------------------------------------
# merge: the real tables only, through explicit columns.


def test_merge_copies_the_real_tables_only(valid_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    shutil.copyfile(valid_db, path)
    out = tmp_path / "all.db"
    result = merge([path], out)
    assert result.added > 0
    conn = sqlite3.connect(out)
    for table in ("scenarios", "sessions", "events", "attempts", "answers", "errors", "notes"):
        src = sqlite3.connect(path).execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == src, table
    # the merged file passes the same checks as its sources
    store.verify(conn, out)
    conn.close()


def test_merge_never_copies_notes_injected_through_a_view(valid_db: Path, tmp_path: Path) -> None:
    path = damaged(valid_db, tmp_path, "notes view over a renamed table")
    out = tmp_path / "all.db"
    with pytest.raises(MergeError, match="view") as refused:
        merge([path], out)
    assert str(path) in str(refused.value) and "nothing was written" in str(refused.value)
    assert not out.exists()


def test_merge_refuses_a_damaged_source_among_good_ones(valid_db: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.db"
    shutil.copyfile(valid_db, good)
    (tmp_path / "bad").mkdir()
    bad = damaged(valid_db, tmp_path / "bad", "injected quoted column")
    out = tmp_path / "all.db"
    with pytest.raises(MergeError) as refused:
        merge([good, bad], out)
    assert str(bad) in str(refused.value) and not out.exists()


def test_merge_refuses_a_damaged_target(valid_db: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.db"
    shutil.copyfile(valid_db, good)
    (tmp_path / "t").mkdir()
    target = damaged(valid_db, tmp_path / "t", "trigger dropping notes")
    before = target.read_bytes()
    with pytest.raises(MergeError) as refused:
        merge([good], target)
    assert str(target) in str(refused.value)
    assert target.read_bytes() == before


def test_merge_reads_through_the_store_column_lists(valid_db: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Even a source the checks let through by mistake gives only the store's columns."""
    (tmp_path / "x").mkdir()
    path = damaged(valid_db, tmp_path / "x", "extra sessions column")
    monkeypatch.setattr(store, "verify", lambda db, where, *more: None)
    monkeypatch.setattr(store, "check_structure", lambda conn, where: 2)
    out = tmp_path / "all.db"
    merge([path], out)
    cols = [r[1] for r in sqlite3.connect(out).execute("PRAGMA table_info(sessions)")]
    assert "extra" not in cols and cols == store.columns("sessions")


def _study_of(path: Path, sessions: int) -> sqlite3.Connection:
    """A valid database of ``sessions`` sessions of five attempts each, written directly."""
    conn = sqlite3.connect(path)
    db = store._import_sqlite_utils().Database(conn)
    store.migrate(db)
    text = CHECKOUT.read_text(encoding="utf-8")
    conn.execute("INSERT INTO scenarios (id, sha256, study, text, loaded_at, study_key, version)"
                 " VALUES (1, ?, 'Checkout', ?, '2026-11-02T09:00:00Z', 'Checkout', 1)",
                 (_sha(text), text))  # fmt: skip
    store.record_tasks(db, 1, parse_scenario(text).scenario)
    conn.executemany("INSERT INTO sessions (id, uid, scenario_id, participant, task_order,"
                     " started_at) VALUES (?, ?, 1, ?, '[]', '2026-11-02T09:00:00Z')",
                     [(i, f"u{i}", f"P{i}") for i in range(1, sessions + 1)])  # fmt: skip
    conn.executemany("INSERT INTO attempts (session_id, task_id, position, status, time_ms,"
                     " errors, assists, pauses, pause_ms, interruptions, started_at)"
                     " VALUES (?, ?, 1, 'ended', 60000, 0, 0, 0, 0, 0, '2026-11-02T09:00:00Z')",
                     [(i, f"t{k}") for i in range(1, sessions + 1) for k in range(5)])  # fmt: skip
    conn.commit()
    return conn


def test_verify_reads_a_big_database_in_a_fixed_number_of_queries(tmp_path: Path) -> None:
    """One aggregate query per table, never one per row: the check of 20,000 sessions runs the
    very statements the check of 20 runs (its time is a benchmark's business:
    docs/hardening.md, tests/bench/bench_analysis.py)."""
    ran: dict[int, list[str]] = {}
    for sessions in (20, 20_000):
        conn = _study_of(tmp_path / f"{sessions}.db", sessions)
        ran[sessions] = []
        conn.set_trace_callback(ran[sessions].append)
        store.verify(conn, tmp_path / f"{sessions}.db")
        conn.close()
    assert ran[20] == ran[20_000]
    assert 10 < len(ran[20]) < 120


def test_a_short_fuzz_of_damaged_databases_finds_nothing() -> None:
    """The database fuzzer (tests/bench/fuzz_databases.py), a fixed seed and a few cases."""
    from tests.bench.fuzz_databases import fuzz

    outcome = fuzz(25, seed=11)
    assert outcome.cases == 25 and outcome.refused > 0
    assert not outcome.failures, outcome.examples


def test_merge_names_a_source_damaged_where_no_check_can_see(valid_db: Path, tmp_path: Path) -> None:
    """A byte flipped inside a text (invalid UTF-8) passes the cheap checks; reading it for the
    merge fails, and the message names that source."""
    path = tmp_path / "flipped.db"
    shutil.copyfile(valid_db, path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE notes SET text = CAST(x'ff41ff' AS TEXT)")
    conn.commit()
    conn.close()
    out = tmp_path / "all.db"
    result = CliRunner().invoke(cli, ["merge", str(path), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert str(path) in result.stderr and "damaged" in result.stderr


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_names_a_file_damaged_where_no_check_can_see(valid_db: Path, tmp_path: Path,
                                                            fmt: str) -> None:  # fmt: skip
    path = tmp_path / "flipped.db"
    shutil.copyfile(valid_db, path)
    conn = sqlite3.connect(path)  # as a flipped byte inside one event's payload would leave it
    guard = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'events_no_update'").fetchone()
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET payload = CAST(x'7b2274223a2261ff62227d' AS TEXT) WHERE id = 3")
    conn.execute(guard[0])
    conn.commit()
    conn.close()
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["export", str(path), "--format", fmt, "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert str(path) in result.stderr and "damaged" in result.stderr
    assert not out.exists() or not any(out.iterdir())


def _refusal(path: Path) -> str:
    try:
        store.open_read(path).close()
    except store.StoreError as exc:
        return str(exc)
    return "read"


@pytest.fixture
def in_parts(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The check of a large file (in parts, on workers) forced on a small one: 2 rows a part,
    4 workers, no memo of checked files. ``store._WORKERS = 1`` brings back the one piece."""
    monkeypatch.setenv("USETEST_CACHE_DIR", "")
    monkeypatch.setattr(store, "_WORKERS", 4)
    monkeypatch.setattr(store, "SCAN_ROWS", 2)
    return monkeypatch


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_the_check_in_parts_refuses_alike(valid_db: Path, tmp_path: Path, mutation: str,
                                          in_parts: pytest.MonkeyPatch) -> None:  # fmt: skip
    """A large file's check runs in parts on every core (store.SCAN_ROWS rows a part, one
    connection per worker): forced here on a small file, every mutation is refused with the
    very message the check in one piece gives."""
    path = damaged(valid_db, tmp_path, mutation)
    parted = _refusal(path)
    in_parts.setattr(store, "_WORKERS", 1)
    assert parted == _refusal(path) != "read"


def test_a_large_file_is_checked_in_parts(valid_db: Path, tmp_path: Path,
                                          in_parts: pytest.MonkeyPatch) -> None:  # fmt: skip
    path = tmp_path / "ok.db"
    shutil.copyfile(valid_db, path)
    parted: list[str] = []
    real = store._scan

    def spy(conn: sqlite3.Connection, scan: store._Scan) -> object:
        if scan.part:
            parted.append(scan.part)
        return real(conn, scan)

    in_parts.setattr(store, "_scan", spy)
    assert _refusal(path) == "read"
    assert len(parted) > 10 and any(p.startswith("rowid <= ") for p in parted)
    in_parts.setattr(store, "_WORKERS", 1)
    parted.clear()
    assert _refusal(path) == "read" and not parted


@pytest.mark.parametrize("rowid", [-(2**63), -5, 0, 2**63 - 1])
@pytest.mark.usefixtures("in_parts")
def test_the_check_in_parts_sees_every_rowid(valid_db: Path, tmp_path: Path, rowid: int) -> None:
    """Rows far from the others (negative rowids, the largest there is) are in a part too."""
    path = tmp_path / "far.db"
    shutil.copyfile(valid_db, path)
    conn = sqlite3.connect(path)
    conn.execute(f"UPDATE attempts SET rowid = {rowid}, time_ms = -7"
                 " WHERE rowid = (SELECT max(rowid) FROM attempts)")  # fmt: skip
    conn.commit()
    conn.close()
    assert "time out of range (1 row)" in _refusal(path)
