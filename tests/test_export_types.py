"""Typed, analyst-ready exports (issue 14, item 3), read back with the clients analysts use.

- Parquet: moments as ``timestamp[ms, tz=UTC]``, flags as booleans, counts as nullable
  integers, in the database tables and the summary tables (pyarrow reads the schema);
- CSV and JSON hold the same values: ``7``, not ``7.0``; DuckDB reads the CSV's and the
  Parquet's moments as the same ``TIMESTAMP WITH TIME ZONE`` values;
- ``metadata.json`` names the database's file, never its folder;
- the workbook: an About sheet first, frozen header, filter, widths, date-times, durations and
  percentages (openpyxl reads the formats back);
- a value that does not fit its column's type (a hand-edited database) is kept, as text.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT
from usetest import __version__, recorder
from usetest.clock import FakeClock
from usetest.export import export
from usetest.scenario import load_scenario
from usetest.store import open_db

duckdb = pytest.importorskip("duckdb")

BANKING = ROOT / "scenarios" / "banking.yaml"
UTC_MS = pa.timestamp("ms", tz="UTC")


@pytest.fixture(scope="module")
def study_db(tmp_path_factory) -> Path:
    """Three banking sessions: SEQ 7s, one SEQ declined, one task skipped (no SEQ: NULL), one
    task over its time limit, SUS and the study's own items answered."""
    loaded = load_scenario(BANKING)
    db_path = tmp_path_factory.mktemp("types") / "banking.db"
    db = open_db(db_path)
    clock = FakeClock()
    for n, code in enumerate(["P01", "P02", "P03"]):
        s = recorder.start(db, loaded, code, moderator="MM", clock=clock).session
        for i, task in enumerate(s.state.order):
            s.start(task)
            clock.advance(400 if (n, i) == (0, 0) else 20 + n + i)  # the first: over its limit
            if (n, i) == (1, 1):
                s.end("skipped")  # no SEQ asked: seq_rating NULL
                continue
            s.end("success" if (n + i) % 3 else "fail")
            if (n, i) == (2, 2):
                s.decline("seq", "seq", task_id=task)
            else:
                s.answer("seq", "seq", 7, task_id=task)
        for k in range(1, 11):
            s.answer("sus", f"sus{k}", 3 + (k + n) % 3)
        s.answer("trust", "safe", 6)
        s.answer("trust", "control", 4)
        s.complete()
    db.close()
    return db_path


@pytest.fixture(scope="module")
def exports(study_db, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("exports")
    for fmt in ("csv", "json", "parquet", "xlsx"):
        export(study_db, out / fmt, fmt)
    return {fmt: out / fmt for fmt in ("csv", "json", "parquet", "xlsx")}


# ---------------------------------------------------------------------------------------------
# Parquet.


@pytest.mark.parametrize(("table", "column", "arrow_type"), [
    ("sessions", "started_at", UTC_MS), ("sessions", "ended_at", UTC_MS),
    ("sessions", "consent_at", UTC_MS), ("sessions", "runs", pa.int64()),
    ("events", "at", UTC_MS), ("events", "mono_ms", pa.int64()),
    ("attempts", "started_at", UTC_MS), ("attempts", "over_time_limit", pa.bool_()),
    ("attempts", "seq_rating", pa.int64()), ("attempts", "time_ms", pa.int64()),
    ("answers", "answered_at", UTC_MS), ("answers", "declined", pa.bool_()),
    ("answers", "value_num", pa.int64()), ("notes", "logged_at", UTC_MS),
    ("withdrawals", "withdrawn_at", UTC_MS),  # no row: typed all the same
    ("observer_notes", "noted_at", UTC_MS),
    ("summary_tasks", "n", pa.int64()), ("summary_tasks", "successes", pa.int64()),
    ("summary_tasks", "seq_n", pa.int64()), ("summary_tasks", "completion", pa.float64()),
    ("summary_tasks", "target_time_s", pa.float64()),  # no target: all null, still a number
    ("summary_custom", "count_7", pa.int64()),  # null for the 5-point item, still an integer
    ("summary_custom", "declined", pa.int64()),  # a count here, not a flag
    ("summary_questionnaires", "prorated", pa.int64()),
    ("summary_versions", "first_used", UTC_MS), ("summary_versions", "since_version", pa.int64()),
])  # fmt: skip
def test_parquet_columns_are_typed(exports, table, column, arrow_type):
    schema = pq.read_schema(exports["parquet"] / f"{table}.parquet")
    assert schema.field(column).type == arrow_type, schema


def test_parquet_values_are_the_recorded_ones(exports, study_db):
    attempts = pq.read_table(exports["parquet"] / "attempts.parquet").to_pylist()
    conn = sqlite3.connect(study_db)
    recorded = conn.execute("SELECT seq_rating, over_time_limit, started_at FROM attempts"
                            " ORDER BY session_id, position").fetchall()  # fmt: skip
    got = sorted(attempts, key=lambda r: (r["session_id"], r["position"]))
    assert [r["seq_rating"] for r in got] == [r[0] for r in recorded]
    assert None in [r["seq_rating"] for r in got]  # skipped and declined: null, not NaN or 0
    assert [r["over_time_limit"] for r in got] == [None if r[1] is None else bool(r[1])
                                                   for r in recorded]  # fmt: skip
    assert True in [r["over_time_limit"] for r in got]
    first = got[0]["started_at"]
    assert first.tzinfo is not None and first.utcoffset() == dt.timedelta(0)
    assert first == dt.datetime.fromisoformat(recorded[0][2].replace("Z", "+00:00"))


# ---------------------------------------------------------------------------------------------
# CSV and JSON: the same values.


def test_csv_integers_are_integers_also_beside_nulls(exports):
    text = (exports["csv"] / "attempts.csv").read_text()
    header, *rows = [line.split(",") for line in text.splitlines()]
    seq = header.index("seq_rating")
    assert {r[seq] for r in rows} == {"7", ""}  # never 7.0
    flags = header.index("over_time_limit")
    assert {r[flags] for r in rows} == {"true", "false"}
    tasks = (exports["csv"] / "summary_tasks.csv").read_text().splitlines()
    head = tasks[0].split(",")
    for row in tasks[1:]:
        cells = row.split(",")
        assert all("." not in cells[head.index(c)] for c in ("n", "successes", "seq_n")), row


def test_json_holds_integers_booleans_and_utc_times(exports):
    attempts = json.loads((exports["json"] / "attempts.json").read_text())
    assert {type(a["seq_rating"]) for a in attempts} == {int, type(None)}
    assert {a["seq_rating"] for a in attempts} == {7, None}
    assert {a["over_time_limit"] for a in attempts} == {True, False}
    assert all(a["started_at"].endswith("Z") for a in attempts)
    answers = json.loads((exports["json"] / "answers.json").read_text())
    assert {a["declined"] for a in answers} == {True, False}
    custom = json.loads((exports["json"] / "summary_custom.json").read_text())
    assert all(isinstance(c["n"], int) for c in custom)
    assert '"seq_rating": 7,' in (exports["json"] / "attempts.json").read_text()


def test_duckdb_reads_csv_and_parquet_as_the_same_typed_table(exports):
    con = duckdb.connect()
    for table in ("attempts", "sessions", "events", "answers", "summary_tasks"):
        csv_path = exports["csv"] / f"{table}.csv"
        pq_path = exports["parquet"] / f"{table}.parquet"
        csv_types = dict(row[:2] for row in
                         con.execute(f"DESCRIBE SELECT * FROM read_csv('{csv_path}')").fetchall())  # fmt: skip
        pq_types = dict(row[:2] for row in
                        con.execute(f"DESCRIBE SELECT * FROM '{pq_path}'").fetchall())  # fmt: skip
        for column, kind in pq_types.items():
            empty = con.execute(f'SELECT count("{column}") = 0 FROM \'{pq_path}\'').fetchone()[0]
            if kind == "TIMESTAMP WITH TIME ZONE" and not empty:  # CSV: no value, no type
                assert csv_types[column] == kind, (table, column, csv_types[column])
        # the same rows, value for value, whatever the column's type (CSV cannot tell an empty
        # text from a missing one: both are an empty cell)
        columns = ", ".join(f'nullif("{c}", \'\')' if k == "VARCHAR" else f'"{c}"'
                            for c, k in pq_types.items())  # fmt: skip
        differ = con.execute(
            f"SELECT count(*) FROM (SELECT {columns} FROM read_csv('{csv_path}') EXCEPT "
            f"SELECT {columns} FROM '{pq_path}')").fetchone()[0]  # fmt: skip
        assert differ == 0, table
    assert dict(row[:2] for row in con.execute(
        f"DESCRIBE SELECT * FROM read_csv('{exports['csv'] / 'attempts.csv'}')").fetchall()
    )["seq_rating"] == "BIGINT"  # fmt: skip


# ---------------------------------------------------------------------------------------------
# metadata.json


@pytest.mark.parametrize("pseudonymise", [False, True])
def test_metadata_names_the_database_file_not_its_folder(study_db, tmp_path, pseudonymise):
    export(study_db, tmp_path / "out", "csv", pseudonymise=pseudonymise)
    text = (tmp_path / "out" / "metadata.json").read_text()
    meta = json.loads(text)
    assert meta["database"] == "banking.db"
    assert str(study_db.parent) not in text and "/" not in meta["database"]


# ---------------------------------------------------------------------------------------------
# The workbook.


def test_the_workbook_explains_itself_and_formats_its_columns(exports):
    book = openpyxl.load_workbook(exports["xlsx"] / "usetest-export.xlsx")
    assert book.sheetnames[0] == "About"
    about = {r[0]: r[1] for r in book["About"].iter_rows(values_only=True) if r[0]}
    assert "Banking" in about["Study"] or about["Study"]  # the study's title
    assert about["usetest version"] == __version__
    assert about["Database"] == "banking.db"
    assert "UTC" in about["Times"] and "[h]:mm:ss" in about["Durations"]
    assert {"attempts", "summary_tasks"} <= set(about)  # each sheet said what it holds

    sheet = book["attempts"]
    header = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}" \
        f"{sheet.max_row}"  # fmt: skip
    widths = {sheet.cell(1, i + 1).column_letter: sheet.column_dimensions[
        sheet.cell(1, i + 1).column_letter].width for i in range(len(header))}  # fmt: skip
    assert all(8 <= w <= 60 for w in widths.values()), widths
    row = next(sheet.iter_rows(min_row=2, max_row=2))
    cell = dict(zip(header, row, strict=True))
    assert isinstance(cell["started_at"].value, dt.datetime)
    assert cell["started_at"].number_format == "yyyy-mm-dd hh:mm:ss.000"
    assert isinstance(cell["time_ms"].value, dt.timedelta)  # a duration, stored in days
    assert cell["time_ms"].number_format == "[h]:mm:ss.000"
    assert isinstance(cell["over_time_limit"].value, bool)

    tasks = book["summary_tasks"]
    head = [c.value for c in tasks[1]]
    first = dict(zip(head, next(tasks.iter_rows(min_row=2, max_row=2)), strict=True))
    assert first["completion"].number_format == "0.0%"
    assert first["share_with_errors"].number_format == "0.0%"
    assert first["time_s"].number_format == "[h]:mm:ss.000"
    assert first["n"].number_format == "General" and isinstance(first["n"].value, int)


def test_workbook_durations_and_times_are_the_recorded_values(exports, study_db):
    book = openpyxl.load_workbook(exports["xlsx"] / "usetest-export.xlsx")
    sheet = book["attempts"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    conn = sqlite3.connect(study_db)
    recorded = dict(((s, t), (ms, at)) for s, t, ms, at in conn.execute(
        "SELECT session_id, task_id, time_ms, started_at FROM attempts"))  # fmt: skip
    for r in rows:
        ms, at = recorded[(r["session_id"], r["task_id"])]
        assert round(r["time_ms"].total_seconds() * 1000) == ms
        assert r["started_at"] == dt.datetime.fromisoformat(at.replace("Z", "")), r


# ---------------------------------------------------------------------------------------------
# A value that does not fit its type.


def test_a_value_that_does_not_fit_its_type_is_kept_as_text(study_db, tmp_path):
    # SQLite's julianday() reads "now" as a time, so the store's check lets it through; the
    # export, which cannot give it one UTC moment, keeps the column as text, every value in it
    damaged = tmp_path / "edited.db"
    damaged.write_bytes(study_db.read_bytes())
    conn = sqlite3.connect(damaged)
    conn.execute("UPDATE attempts SET started_at = 'now' WHERE rowid = (SELECT min(rowid) "
                 "FROM attempts)")  # fmt: skip
    conn.commit()
    conn.close()
    for fmt in ("csv", "parquet", "json", "xlsx"):
        export(damaged, tmp_path / fmt, fmt)
    schema = pq.read_schema(tmp_path / "parquet" / "attempts.parquet")
    assert schema.field("started_at").type == pa.string()
    assert schema.field("ended_at").type == UTC_MS  # the other columns keep their types
    values = pq.read_table(tmp_path / "parquet" / "attempts.parquet").to_pydict()
    assert "now" in values["started_at"]
    assert "2026-01-05T09:06:40.000Z" in values["started_at"]  # the others as recorded
    meta = json.loads((tmp_path / "csv" / "metadata.json").read_text())
    assert meta["columns_as_text"] == {"attempts": ["started_at"]}
    book = openpyxl.load_workbook(tmp_path / "xlsx" / "usetest-export.xlsx")
    assert "now" in {c.value for c in book["attempts"]["O"]}
