"""The summary gives exactly what it gave before it was made fast (issue 15).

The golden files in tests/data/golden/summary/ were written by usetest at commit 71d29bd (the
summary through pandas DataFrames of every row), from the same databases the tests build here:
the published examples of test_analysis, test_declines and test_measures, the checkout study,
and a rich generated study (tests/studydata.build_rich: two versions, two conditions, errors,
notes by moderator and observer, assists, every outcome, after-task questionnaires, SUS with
declined and missing items, UMUX-Lite, NPS, CSAT, CES, a custom block with free text, profile
answers; the checkout study from the copy of its file taken with the golden files, whose
SHA-256 the summary shows). Each case compares, byte for byte, ``usetest summary --format json`` (and the tasks as
CSV, and the per-attempt, per-session and notes tables the report and the comparisons read).

To write the golden files again from another version of usetest (only when the numbers are
meant to change, and say why in the commit): run this module in that version's work tree with
``USETEST_WRITE_GOLDEN=<folder>``.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.studydata import build_checkout, build_rich
from tests.test_analysis import study_db, two_groups_db  # noqa: F401  (fixtures)
from tests.test_declines import declines_db  # noqa: F401  (fixture)
from tests.test_measures import build_measures
from usetest import analysis
from usetest.analysis import summarise
from usetest.cli import cli

GOLDEN = Path(__file__).parent / "data" / "golden" / "summary"
WRITE = os.environ.get("USETEST_WRITE_GOLDEN")
RICH_ATTEMPTS = 2000

CASES = {
    "published": ("study_db", []),
    "published-unfinished": ("study_db", ["--include-unfinished"]),
    "two-groups": ("two_groups_db", []),
    "two-groups-by-condition": ("two_groups_db", ["--by", "condition"]),
    "two-groups-until": ("two_groups_db", ["--until", "2026-01-05"]),
    "declines": ("declines_db", []),
    "declines-unfinished": ("declines_db", ["--include-unfinished"]),
    "measures": ("measures", []),
    "measures-all-attempts": ("measures", ["--all-attempts"]),
    "measures-by-profile": ("measures", ["--by", "profile.experience"]),
    "measures-profile": ("measures", ["--profile", "experience=rarely"]),
    "checkout": ("checkout", []),
    "checkout-by-condition": ("checkout", ["--by", "condition"]),
    "checkout-participants": ("checkout", ["--participant", "P03", "--participant", "P08"]),
    "rich": ("rich", []),
    "rich-by-condition": ("rich", ["--by", "condition"]),
    "rich-redesign-all": ("rich", ["--condition", "redesign", "--include-unfinished",
                                   "--all-attempts"]),
    "rich-by-age": ("rich", ["--by", "profile.age"]),
    "rich-filtered": ("rich", ["--profile", "age=18-29", "--profile", "age=60+", "--since",
                               "2026-11-03", "--until", "2026-11-08"]),
    "odd": ("odd", []),
    "odd-unfinished": ("odd", ["--include-unfinished", "--all-attempts"]),
    "odd-by-condition": ("odd", ["--by", "condition"]),
}  # fmt: skip


def build_odd(path: Path) -> Path:
    """A small rich study, then what the app never writes but a file may hold (a script, an
    older usetest, a merge): task ids, error types, profile questions and items no version
    names, an NPS asked after a task, a declined count of 2, answers re-recorded out of
    session order, sessions with no answers, and a profile question every session declined."""
    build_rich(path, 300, seed=3)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE attempts SET task_id = 'ghost' WHERE rowid % 17 = 0")
        conn.execute("UPDATE errors SET type_name = 'typo', task_id = 'ghost2' WHERE rowid % 5 = 0")
        sessions = [r[0] for r in conn.execute("SELECT id FROM sessions ORDER BY id")]
        for n, sid in enumerate(sessions[:40]):
            rows = [(sid, "wrap", "again", "ghost", 1 + n % 7, None, 0),
                    (sid, "profile", "shoe-size", "", 36 + n % 9, None, 0),
                    (sid, "profile", "pet", "", None, None, 1),
                    (sid, "nps", "nps", "find", n % 11, None, 0),
                    (sid, "sus", "sus11", "", 3, None, 0),
                    (sid, "csat", "other", "", 1 + n % 5, None, int(n % 9 == 0)),
                    (sid, "umux-lite", "umux1", "pay", 4, None, 0)]  # fmt: skip
            conn.executemany("INSERT OR REPLACE INTO answers (session_id, questionnaire, item,"
                             " task_id, value_num, value_text, declined, event_seq, answered_at)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, 999, '2026-11-30T10:00:00.000Z')",
                             rows)  # fmt: skip
        # re-recorded answers move to the end of the table (new rowids)
        conn.execute("UPDATE answers SET declined = 2 WHERE questionnaire = 'sus' AND item = 'sus3'"
                     " AND session_id IN (SELECT id FROM sessions ORDER BY id LIMIT 3)")
        moved = conn.execute("SELECT rowid, * FROM answers WHERE session_id % 4 = 1"
                             " AND questionnaire IN ('sus', 'csat', 'ces', 'wrap', 'post')"
                             " ORDER BY session_id DESC").fetchall()  # fmt: skip
        names = [d[0] for d in conn.execute("SELECT * FROM answers LIMIT 0").description]
        conn.executemany("DELETE FROM answers WHERE rowid = ?", [(r[0],) for r in moved])
        conn.executemany(f"INSERT INTO answers ({', '.join(names)}) VALUES"
                         f" ({', '.join('?' * len(names))})", [r[1:] for r in moved])  # fmt: skip
        conn.execute("DELETE FROM answers WHERE session_id IN (SELECT id FROM sessions"
                     " ORDER BY id DESC LIMIT 5)")  # fmt: skip
    conn.close()
    return path


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The databases no other module's fixture builds (built once for this module)."""
    folder = tmp_path_factory.mktemp("equivalence")
    return {"measures": build_measures(folder / "measures.db"),
            "checkout": build_checkout(folder / "checkout.db", profile=True,
                                       scenario=GOLDEN / "checkout.yaml"),
            "rich": build_rich(folder / "rich.db", RICH_ATTEMPTS),
            "odd": build_odd(folder / "odd.db")}  # fmt: skip


def _database(name: str, request: pytest.FixtureRequest, shared: dict[str, Path]) -> Path:
    return shared[name] if name in shared else request.getfixturevalue(name)


def _compare(name: str, text: str) -> None:
    if WRITE:
        folder = Path(WRITE)
        folder.mkdir(parents=True, exist_ok=True)
        with gzip.GzipFile(folder / name, "wb", mtime=0) as out:
            out.write(text.encode("utf-8"))
        return
    with gzip.open(GOLDEN / name, "rb") as golden:
        expected = golden.read().decode("utf-8")
    if text != expected:
        got, want = text.splitlines(), expected.splitlines()
        line = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
                    min(len(got), len(want)))  # fmt: skip
        pytest.fail(f"{name} differs from the golden file at line {line + 1}:\n"
                    f"  now:    {got[line] if line < len(got) else '<end>'}\n"
                    f"  before: {want[line] if line < len(want) else '<end>'}")  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_summary_json_is_what_it_was(case: str, request: pytest.FixtureRequest,
                                     shared: dict[str, Path]) -> None:  # fmt: skip
    name, args = CASES[case]
    path = _database(name, request, shared)
    result = CliRunner().invoke(cli, ["summary", str(path), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    _compare(f"{case}.json.gz", result.stdout)
    if "--by" not in args:
        tasks = CliRunner().invoke(cli, ["summary", str(path), "--format", "csv", *args])
        assert tasks.exit_code == 0, tasks.output
        _compare(f"{case}.tasks.csv.gz", tasks.stdout)


@pytest.mark.parametrize("name", ["study_db", "declines_db", "measures", "checkout", "rich",
                                  "odd"])
def test_summary_tables_are_what_they_were(name: str, request: pytest.FixtureRequest,
                                           shared: dict[str, Path]) -> None:  # fmt: skip
    """The attempts, sessions and notes the report's charts and the comparisons read."""
    for unfinished in (False, True):
        s = summarise(_database(name, request, shared), include_unfinished=unfinished)
        for table in ("attempts", "sessions", "notes", "sus", "problems", "errors_by_type"):
            frame = getattr(s, table)
            text = frame.to_csv(index=False) + "".join(
                f"{c}:{t}\n" for c, t in frame.dtypes.astype(str).items())  # fmt: skip
            _compare(f"{name}{'-unfinished' if unfinished else ''}.{table}.csv.gz", text)


@pytest.mark.parametrize("case", ["rich", "rich-by-condition", "odd", "odd-unfinished"])
def test_reading_in_small_chunks_changes_nothing(case: str, shared: dict[str, Path],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The long tables are read in rowid ranges; ranges of a few rows give the same bytes."""
    if WRITE:
        pytest.skip("the golden files are written by test_summary_json_is_what_it_was")
    monkeypatch.setattr(analysis, "_CHUNK_ROWS", 97)
    name, args = CASES[case]
    result = CliRunner().invoke(cli, ["summary", str(shared[name]), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    _compare(f"{case}.json.gz", result.stdout)


def test_the_tables_are_read_in_one_snapshot(shared: dict[str, Path]) -> None:
    """A summary reads its tables in one read transaction (a session recording meanwhile
    cannot move a row between two of its queries), and leaves an export's own transaction
    open as it found it."""
    if WRITE:
        pytest.skip("nothing to write")
    conn = sqlite3.connect(f"file:{shared['rich']}?mode=ro", uri=True)
    try:
        tables = analysis.read_summary_tables(conn)
        assert not conn.in_transaction
        assert len(tables.attempts.session_id) == conn.execute(
            "SELECT count(*) FROM attempts WHERE outcome IN"
            " ('success', 'partial', 'fail', 'abandoned')").fetchone()[0]  # fmt: skip
        conn.execute("BEGIN")
        analysis.read_summary_tables(conn)
        assert conn.in_transaction
        conn.execute("COMMIT")
    finally:
        conn.close()


@pytest.mark.parametrize("times", ["success", "all"])
@pytest.mark.parametrize("name", ["rich", "odd"])
def test_a_comparison_counts_what_the_attempts_table_holds(name: str, times: str,
                                                           shared: dict[str, Path]) -> None:  # fmt: skip
    """A comparison counts each task's attempts from its summary's arrays (the attempts table
    is not built for it: at 1M attempts, two such tables were most of an export's memory);
    the counts and times are those of the attempts table, in its order."""
    if WRITE:
        pytest.skip("nothing to write")
    _, comparisons = analysis.study_results(shared[name], times=times)
    assert comparisons is not None and len(comparisons.tasks)
    for s in comparisons.summaries.values():
        assert callable(s._attempts), "the comparison built the attempts table"
        for task_id in [*s.tasks["task_id"], "ghost", "no-such-task"]:
            n, successes, secs = s.task_counts(task_id)
            rows = s.attempts[s.attempts["task_id"] == task_id]
            assert (n, successes) == (len(rows), int(rows["success"].sum()))
            timed = rows["time_s"] if times == "all" else rows.loc[rows["success"], "time_s"]
            want = timed.to_numpy(float)
            assert secs.tolist() == want[want > 0].tolist()
