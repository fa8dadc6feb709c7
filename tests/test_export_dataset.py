"""Many studies, one dataset (issue 14, item 4): ``export_studies`` writes several study
databases into one Hive-partitioned Parquet dataset, and DuckDB and pandas read each table as
one table with a ``study`` column; the query docs/analysis.md shows runs here as written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, STUDY_YAML
from usetest import recorder
from usetest.clock import FakeClock
from usetest.export import ExportError, export_studies, study_slug
from usetest.scenario import load_scenario, parse_scenario
from usetest.store import open_db

duckdb = pytest.importorskip("duckdb")


def _study(path: Path, loaded, codes: list[str], outcome: str) -> Path:
    db = open_db(path)
    clock = FakeClock()
    for code in codes:
        s = recorder.start(db, loaded, code, clock=clock).session
        for task in s.state.order:
            s.start(task)
            clock.advance(30)
            s.end(outcome)
            if loaded.scenario.task(task).seq:
                s.answer("seq", "seq", 6, task_id=task)
        s.complete()
    db.close()
    return path


@pytest.fixture
def studies(tmp_path) -> list[Path]:
    fixture = _study(tmp_path / "fixture.db", parse_scenario(STUDY_YAML, "fixture.yaml"),
                     ["P01", "P02"], "success")  # fmt: skip
    banking = _study(tmp_path / "banking.db", load_scenario(ROOT / "scenarios" / "banking.yaml"),
                     ["P01", "P02", "P03"], "fail")  # fmt: skip
    return [fixture, banking]


def documented_query() -> str:
    """The DuckDB query docs/analysis.md shows under *Many studies, one dataset*."""
    doc = (ROOT / "docs" / "analysis.md").read_text(encoding="utf-8")
    section = doc[doc.index("### Many studies, one dataset"):]
    return section[section.index("```sql") + len("```sql"):section.index("```", section.index(
        "```sql") + 6)]  # fmt: skip


def test_duckdb_runs_the_documented_query_across_studies(studies, tmp_path):
    out = tmp_path / "lab"
    written = export_studies(studies, out)
    assert (out / "dataset.json") in written
    query = documented_query().replace("'lab/", f"'{out}/")
    rows = duckdb.connect().execute(query).fetchall()
    by_study: dict[str, list[tuple]] = {}
    for study, task, attempts, completion, seq in rows:
        by_study.setdefault(study, []).append((task, attempts, completion, seq))
    assert by_study["fixture-study"] == [("one", 2, 1.0, 6.0), ("three", 2, 1.0, None),
                                         ("two", 2, 1.0, 6.0)]  # fmt: skip
    banking = by_study["mobile-banking-app-money-management"]
    assert len(banking) == 4 and all(r[1:] == (3, 0.0, 6.0) for r in banking)
    meta = json.loads((out / "dataset.json").read_text())
    assert [(s["partition"], s["study"], s["database"]) for s in meta["studies"]] == [
        ("study=fixture-study", "Fixture study", "fixture.db"),
        ("study=mobile-banking-app-money-management", "Mobile banking app — money management",
         "banking.db")]  # fmt: skip
    # the moments keep their type across the studies
    kind = duckdb.connect().execute(
        f"SELECT typeof(started_at) FROM read_parquet('{out}/sessions/*/*.parquet', "
        "hive_partitioning = true) LIMIT 1").fetchone()[0]  # fmt: skip
    assert kind == "TIMESTAMP WITH TIME ZONE"


def _keys(out: Path) -> list[str]:
    return [s["study_key"] for s in json.loads((out / "dataset.json").read_text())["studies"]]


def test_pandas_reads_a_table_folder_with_its_study_column(studies, tmp_path):
    out = tmp_path / "lab"
    export_studies(studies, out)
    attempts = pd.read_parquet(out / "attempts")
    assert attempts.groupby(attempts["study"].astype(str)).size().to_dict() == {
        "fixture-study": 6, study_slug("Mobile banking app — money management"): 12}
    assert str(attempts["started_at"].dtype).startswith("datetime64") and \
        str(attempts["started_at"].dt.tz) == "UTC"  # fmt: skip


def test_studies_are_added_one_at_a_time_and_replaced_not_doubled(studies, tmp_path):
    out = tmp_path / "lab"
    export_studies(studies[:1], out)
    export_studies(studies[1:], out)  # a second study joins the first
    export_studies(studies[:1], out)  # the first again: replaced
    assert len(_keys(out)) == 2
    count = duckdb.connect().execute(
        f"SELECT count(*) FROM read_parquet('{out}/attempts/*/*.parquet')").fetchone()[0]
    assert count == 6 + 12


def test_two_databases_of_one_study_are_refused_before_anything_is_written(studies, tmp_path):
    twin = tmp_path / "station2.db"
    _study(twin, parse_scenario(STUDY_YAML, "fixture.yaml"), ["P09"], "success")
    out = tmp_path / "lab"
    with pytest.raises(ExportError, match="usetest merge"):
        export_studies([studies[0], twin], out)
    assert not out.exists()
    with pytest.raises(ExportError, match="given twice"):
        export_studies([studies[0], studies[0]], out)


def test_a_failure_leaves_the_dataset_as_it_was(studies, tmp_path):
    out = tmp_path / "lab"
    export_studies(studies[:1], out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    planted = out / "attempts" / "study=mobile-banking-app-money-management" / "part-0.parquet"
    planted.parent.mkdir()
    planted.symlink_to(tmp_path / "loot.parquet")
    with pytest.raises(ExportError, match="symbolic link"):
        export_studies(studies, out)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and not p.is_symlink()}
    assert after == before  # no new study, the first one untouched, no temporary files
    assert not (tmp_path / "loot.parquet").exists()


def test_the_cli_writes_several_studies_into_one_dataset(studies, tmp_path):
    from click.testing import CliRunner

    from usetest.cli import cli

    out = tmp_path / "lab"
    done = CliRunner().invoke(cli, ["export", *map(str, studies), "--format", "parquet",
                                    "--out", str(out)])  # fmt: skip
    assert done.exit_code == 0, done.output
    slugs = sorted(p.name for p in (out / "attempts").iterdir())
    assert slugs == sorted(f"study={study_slug(s)}" for s in _loaded_studies(studies))
    bad = CliRunner().invoke(cli, ["export", *map(str, studies), "--format", "csv", "--out",
                                   str(tmp_path / "x")])  # fmt: skip
    assert bad.exit_code == 2 and "add --format parquet" in bad.output
    assert not (tmp_path / "x").exists()


def _loaded_studies(paths: list[Path]) -> list[str]:
    import sqlite3

    keys = []
    for path in paths:
        conn = sqlite3.connect(path)
        keys.append(conn.execute("SELECT study_key FROM scenarios LIMIT 1").fetchone()[0])
        conn.close()
    return keys
