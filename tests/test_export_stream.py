"""The streaming export (issue 15, item 3) writes what the pandas export wrote, in every format.

The reference is the export as it was (tests/export_reference.py, commit 71d29bd): both export
the same databases — a realistic study with conditions and a profile, and a hostile one (texts
that are formulas, control characters, quotes and line breaks; moments in other ISO 8601 forms
than the store's; a time column holding ``now``) — in small batches, plain, pseudonymised, with
``--raw-formulas`` and with a profile filter, and tests/export_compare.py compares the folders:
CSV byte for byte, JSON value for value and byte for byte, Parquet schema (with the pandas
metadata) and values, xlsx cells, number formats, widths, panes and filters.

Also: CSV gives the same bytes with and without pyarrow; the database tables never go through
pandas; a workbook too big for a sheet is refused before the summary is computed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import tests.export_reference as reference
import usetest.export
from tests.conftest import STUDY_YAML
from tests.export_compare import differences
from usetest import recorder
from usetest.clock import FakeClock
from usetest.export import ExportError, export
from usetest.scenario import parse_scenario
from usetest.store import open_db

FORMULAS = ["=1+1", '=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(1)", "\tx", "\rx"]
CONTROLS = "".join(chr(i) for i in [*range(0, 32), 0x7F, *range(0x80, 0xA0)])
ODD = ["a},{b", "},{", f"every control {CONTROLS} end", 'quote " and \\ backslash',
       "\u2028 \u202e", "line\nbreak", "comma, here"]  # fmt: skip


@pytest.fixture(scope="module")
def checkout_db(tmp_path_factory) -> Path:
    from tests.studydata import build_checkout

    return build_checkout(tmp_path_factory.mktemp("stream") / "checkout.db", per_condition=4,
                          profile=True)  # fmt: skip


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "hostile.db"
    db = open_db(path)
    loaded = parse_scenario(STUDY_YAML, "fixture.yaml")
    clock = FakeClock()
    for code in ("P01", "P02", "=P03"):
        s = recorder.start(db, loaded, code, moderator="=MM" if code == "P02" else "MM",
                           clock=clock).session  # fmt: skip
        for n, task in enumerate(s.state.order):
            s.start(task)
            clock.advance(30 + n)
            if code == "P01" and n == 0:
                for text in FORMULAS + ODD:
                    s.log_note(text)
                    s.log_error("n", note=text)
                s.log_assist("pointed")
            s.end("success" if n else "fail")
            s.answer("seq", "seq", 7 - n, task_id=task)
        for k in range(1, 11):
            s.answer("sus", f"sus{k}", 1 + k % 5)
        s.complete()
    db.close()
    conn = sqlite3.connect(path)  # hand edits SQLite (and the store's check) accept
    conn.execute("UPDATE sessions SET ended_at = '2026-01-05 09:00:00+02:00' WHERE participant = 'P01'")
    conn.execute("UPDATE sessions SET last_event_at = '2026-01-05T09:00:00Z' WHERE participant = 'P02'")
    conn.execute("UPDATE attempts SET started_at = '2026-01-05T09:00:00.123456Z'"
                 " WHERE task_id = 'one'")  # fmt: skip
    conn.execute("UPDATE attempts SET ended_at = '2026-01-05 09:00:07.1239' WHERE task_id = 'two'")
    conn.execute("UPDATE notes SET logged_at = 'now' WHERE rowid = (SELECT min(rowid) FROM notes)")
    conn.commit()
    conn.close()
    return path


VARIANTS = {"plain": {}, "pseudonymised": {"pseudonymise": True, "salt": "pepper"},
            "raw": {"raw_formulas": True}}  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "xlsx"])
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("which", ["checkout_db", "hostile_db"])
def test_the_streaming_export_writes_what_the_pandas_export_wrote(request, tmp_path, monkeypatch,
                                                                  fmt, variant, which):  # fmt: skip
    db = request.getfixturevalue(which)
    for module in (usetest.export, reference):  # many batches, some with NULL-only columns
        monkeypatch.setattr(module, "CHUNK_ROWS", 3)
    reference.export(db, tmp_path / "reference", fmt, **VARIANTS[variant])
    export(db, tmp_path / "stream", fmt, **VARIANTS[variant])
    assert differences(tmp_path / "reference", tmp_path / "stream", fmt) == []


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "xlsx"])
def test_profile_filtered_summaries_match_too(checkout_db, tmp_path, fmt):
    chosen = {"age": ["30-44", "18-29"]}
    reference.export(checkout_db, tmp_path / "reference", fmt, profile=chosen)
    export(checkout_db, tmp_path / "stream", fmt, profile=chosen)
    assert differences(tmp_path / "reference", tmp_path / "stream", fmt) == []


def test_the_hostile_database_exercises_what_it_should(hostile_db, tmp_path):
    """The fixture is not vacuous: a moment converted to UTC, a column kept as text, formulas
    neutralised."""
    import json

    export(hostile_db, tmp_path / "x", "csv")
    sessions = (tmp_path / "x" / "sessions.csv").read_text(encoding="utf-8")
    assert "2026-01-05T07:00:00.000Z" in sessions and "'=MM" in sessions
    meta = json.loads((tmp_path / "x" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["columns_as_text"] == {"notes": ["logged_at"]}
    notes = (tmp_path / "x" / "notes.csv").read_text(encoding="utf-8")
    assert ",now," in notes and "'=1+1" in notes and '"line\nbreak"' in notes


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_csv_is_the_same_bytes_with_and_without_pyarrow(hostile_db, tmp_path, monkeypatch,
                                                        variant):  # fmt: skip
    monkeypatch.setattr(usetest.export, "CHUNK_ROWS", 2)
    export(hostile_db, tmp_path / "arrow", "csv", **VARIANTS[variant])
    monkeypatch.setattr(usetest.export, "_has_arrow", lambda: False)
    export(hostile_db, tmp_path / "csv-module", "csv", **VARIANTS[variant])
    assert differences(tmp_path / "arrow", tmp_path / "csv-module", "csv") == []


def test_a_one_column_csv_writes_an_empty_field_as_the_csv_module_does(tmp_path, monkeypatch):
    from usetest.export import Columns, _csv

    batch = [["a", None, "", "x,y", 'q"', "=1"]]
    written = {}
    for arrow in (True, False):
        monkeypatch.setattr(usetest.export, "_has_arrow", lambda arrow=arrow: arrow)
        with (tmp_path / f"{arrow}.csv").open("wb") as f:
            _csv(f, iter([batch]), Columns({"only": "text"}, neutralise=True), lambda n: None)
        written[arrow] = (tmp_path / f"{arrow}.csv").read_bytes()
    assert written[True] == written[False] == b'only\r\na\r\n""\r\n""\r\n"x,y"\r\n"q"""\r\n\'=1\r\n'


def test_the_database_tables_never_become_dataframes(checkout_db, tmp_path, monkeypatch):
    """Once the summary tables are computed (usetest.analysis, small), nothing goes through
    pandas: reading a table, writing CSV or iterating rows with pandas fails the export."""
    import pandas as pd

    real = usetest.export._summary_tables

    def refused(*args, **kwargs):
        raise AssertionError("a database table went through pandas")

    def summary_then_no_pandas(*args, **kwargs):
        tables = real(*args, **kwargs)
        monkeypatch.setattr(pd, "read_sql_query", refused)
        monkeypatch.setattr(pd.DataFrame, "to_csv", refused)
        monkeypatch.setattr(pd.DataFrame, "itertuples", refused)
        return tables

    monkeypatch.setattr(usetest.export, "_summary_tables", summary_then_no_pandas)
    for fmt in ("csv", "json", "parquet", "xlsx"):
        export(checkout_db, tmp_path / fmt, fmt)
        monkeypatch.undo()
        monkeypatch.setattr(usetest.export, "_summary_tables", summary_then_no_pandas)


def test_pandas_reads_the_parquet_counts_and_flags_back_as_nullable_types(checkout_db, tmp_path):
    import pandas as pd

    export(checkout_db, tmp_path / "p", "parquet")
    attempts = pd.read_parquet(tmp_path / "p" / "attempts.parquet")
    assert str(attempts["seq_rating"].dtype) == "Int64"
    assert str(attempts["over_time_limit"].dtype) == "boolean"
    assert str(attempts["started_at"].dtype) == "datetime64[ms, UTC]"


def test_a_workbook_too_big_for_a_sheet_is_refused_before_the_summary(checkout_db, tmp_path,
                                                                     monkeypatch):  # fmt: skip
    def summary(*args, **kwargs):
        raise AssertionError("the summary was computed before the refusal")

    monkeypatch.setattr(usetest.export, "EXCEL_MAX_ROWS", 10)
    monkeypatch.setattr(usetest.export, "_summary_tables", summary)
    with pytest.raises(ExportError, match=r"events has [\d,]+ rows, .*: more than an Excel sheet holds"):
        export(checkout_db, tmp_path / "x", "xlsx")
    assert not (tmp_path / "x").exists()


def test_a_day_that_does_not_exist_is_kept_in_text_formats_and_refused_by_typed_ones(
        checkout_db, tmp_path):  # fmt: skip
    """SQLite (and the store's check) read 2026-02-30 as a time; pandas raised a traceback on
    it. CSV and JSON keep it as stored; Parquet and xlsx, which hold real date-times, refuse
    with a message naming the column and the value, and write nothing."""
    import shutil

    db = tmp_path / "edited.db"
    shutil.copy(checkout_db, db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE errors SET logged_at = '2026-02-30T09:00:00.000Z'"
                 " WHERE rowid = (SELECT min(rowid) FROM errors)")  # fmt: skip
    conn.commit()
    conn.close()
    export(db, tmp_path / "csv", "csv")
    assert "2026-02-30T09:00:00.000Z" in (tmp_path / "csv" / "errors.csv").read_text()
    export(db, tmp_path / "json", "json")
    for fmt in ("parquet", "xlsx"):
        with pytest.raises(ExportError, match=r"logged_at holds '2026-02-30T09:00:00.000Z', "
                                              r"which is no moment .* nothing in .* was changed"):
            export(db, tmp_path / fmt, fmt)
        assert not any((tmp_path / fmt).iterdir())


def test_importing_the_export_imports_neither_pandas_nor_pyarrow():
    import subprocess
    import sys

    code = ("import sys, usetest.export; "
            "print(sorted(m for m in ('pandas', 'pyarrow', 'openpyxl') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
