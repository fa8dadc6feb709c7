"""Summaries and exports from a hand-built database whose expected numbers are published ones."""

from __future__ import annotations

import json
import math
import stat

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from usetest import recorder
from usetest.analysis import AnalysisError, summarise
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.export import export
from usetest.scenario import parse_scenario
from usetest.store import open_db

STUDY = parse_scenario("""\
study: Published examples
tasks:
  - {id: a, title: Task A, prompt: Do A., seq: false}
  - {id: b, title: Task B, prompt: Do B., seq: false}
questionnaires: [sus]
""")
# Task A: 4 of 5 attempts succeed, one participant skipped it -> Tullis's adjusted-Wald example
# (measuringux.com/adjustedwald.htm): 95 % CI 0.3596–0.9796.
A_OUTCOMES = ["success", "success", "success", "success", "fail", "skipped"]
# Task B: all succeed with MeasuringU's task-time calculator example times:
# 55, 65, 75, 62, 45, 135 s -> geometric mean 68 s, 95 % CI (46, 101).
B_TIMES = [55, 65, 75, 62, 45, 135]
# SUS: silleknarf/SUS README example 4152514231 -> 85 (grade A+, percentile 97 in Sauro's table).
SUS = [4, 1, 5, 2, 5, 1, 4, 2, 3, 1]


@pytest.fixture
def study_db(tmp_path):
    path = tmp_path / "study.db"
    db = open_db(path)
    clock = FakeClock()
    for i in range(6):
        s = recorder.start(db, STUDY, f"P{i + 1:02d}", clock=clock).session
        if A_OUTCOMES[i] == "skipped":
            s.end("skipped")
        else:
            s.start()
            clock.advance(30)
            if i == 4:
                s.log_error("n", note="lost in menu")
            s.end(A_OUTCOMES[i])
        s.start()
        clock.advance(B_TIMES[i])
        if i in (0, 2):
            s.log_note("Label 'Save' unclear", "problem", severity=2 + i // 2)
        s.log_note(f"said something private {i}", "quote")
        s.end("success")
        for item, value in enumerate(SUS, start=1):
            s.answer("sus", f"sus{item}", value)
        s.complete()
    # one unfinished session: excluded by default
    recorder.start(db, STUDY, "P99", clock=clock).session.start()
    db.close()
    return path


def test_completion_time_and_sus_match_the_published_examples(study_db):
    s = summarise(study_db)
    a, b = (row for _, row in s.tasks.iterrows())
    assert (a["n"], a["successes"]) == (5, 4)
    assert a["completion_low"] == pytest.approx(0.3596, abs=2e-4)
    assert a["completion_high"] == pytest.approx(0.9796, abs=2e-4)
    assert a["completion_estimate"] == 0.8  # Lewis & Sauro (2006): MLE for 0.5 < p < 0.9
    assert (round(b["time_s"]), round(b["time_low_s"]), round(b["time_high_s"])) == (68, 46, 101)
    assert b["time_method"] == "geometric mean"
    assert a["errors_per_attempt"] == pytest.approx(1 / 5)
    assert s.sus_summary["n"] == 6 and s.sus_summary["mean"] == 85.0
    assert s.sus_summary["grade"] == "A+" and round(s.sus_summary["percentile"]) == 97
    assert len(s.sessions) == 6  # P99 still in progress: left out


def test_problems_frequency_and_worst_severity(study_db):
    problems = summarise(study_db).problems
    [row] = problems.to_dict(orient="records")
    assert (row["participants"], row["tested"], row["worst_severity"]) == (2, 6, 3.0)


def test_summary_json_is_stable_and_null_for_undefined(study_db):
    result = CliRunner().invoke(cli, ["summary", str(study_db), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["format"] == "usetest-summary/2"
    assert [t["task_id"] for t in data["tasks"]] == ["a", "b"]
    assert data["sus"]["summary"]["sd"] == 0.0
    single = summarise(study_db, include_unfinished=True).to_dict()
    json.dumps(single)  # no NaN sneaks into the JSON
    table = CliRunner().invoke(cli, ["summary", str(study_db)])
    assert "80%" in table.output and "SUS: 85.0 (95% CI" in table.output
    assert "n = 6)" in table.output


def test_summary_of_a_bad_path_is_a_message(tmp_path):
    result = CliRunner().invoke(cli, ["summary", str(tmp_path / "nope.db")])
    assert result.exit_code == 1 and "does not exist" in result.stderr
    open_db(tmp_path / "empty.db").close()
    with pytest.raises(AnalysisError, match="no session has condition"):
        summarise(tmp_path / "empty.db", condition="x")


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_exports_read_back_equal_to_the_database(study_db, tmp_path, fmt):
    out = tmp_path / fmt
    files = export(study_db, out, fmt)
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    reader = {"csv": pd.read_csv, "json": pd.read_json, "parquet": pd.read_parquet}[fmt]
    attempts = reader(out / f"attempts.{fmt}")
    db = open_db(study_db)
    expected = pd.DataFrame(list(db.query("SELECT * FROM attempts")))
    assert len(attempts) == len(expected)
    assert sorted(attempts["time_ms"]) == sorted(expected["time_ms"])
    if fmt == "parquet":
        assert pq.read_table(out / "events.parquet").num_rows == db.execute(
            "SELECT count(*) FROM events").fetchone()[0]  # fmt: skip
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["pseudonymised"] is False and meta["tables"]["attempts"] == len(expected)


def test_xlsx_has_a_sheet_per_table(study_db, tmp_path):
    export(study_db, tmp_path / "x", "xlsx")
    book = openpyxl.load_workbook(tmp_path / "x" / "usetest-export.xlsx")
    assert {"sessions", "attempts", "events", "answers", "summary_tasks"} <= set(book.sheetnames)


def test_pseudonymised_export_has_no_codes_and_no_free_text(study_db, tmp_path):
    out = tmp_path / "p"
    export(study_db, out, "csv", pseudonymise=True)
    everything = "".join(p.read_text() for p in out.glob("*.csv"))
    assert "P01" not in everything and "P99" not in everything
    assert "private" not in everything and "lost in menu" not in everything
    assert "unclear" not in everything
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["pseudonymised"] and "notes" in meta["pseudonymisation"]["dropped_free_text_columns"]
    sessions = pd.read_csv(out / "sessions.csv")
    assert sessions["participant"].str.startswith("p-").all()
    assert not math.isnan(pd.read_csv(out / "summary_tasks.csv")["completion"][0])


# --- filters, questionnaires, conditions compared ------------------------------------------

TWO_GROUPS = parse_scenario("""\
study: Two designs
conditions: [a, b]
tasks:
  - {id: t, title: Task, prompt: Do it., seq: false}
questionnaires: [nps]
""")
# Completion 11/12 vs 5/10: the N−1 two-proportion example (Sauro & Lewis 2016, ch. 5).
OUTCOMES = {"a": ["success"] * 11 + ["fail"], "b": ["success"] * 5 + ["fail"] * 5}
TIMES = {"a": [55, 65, 75, 62, 45, 135, 60, 70, 58, 66, 80, 90],
         "b": [90, 120, 150, 80, 200, 110, 95, 130, 105, 140]}  # fmt: skip
# NPS: Reichheld's definition on 10 ratings (5 promoters, 2 detractors) -> 30 (test_stats.py)
NPS_RATINGS = [10, 9, 9, 10, 9, 8, 7, 7, 6, 0]


@pytest.fixture
def two_groups_db(tmp_path):
    path = tmp_path / "two.db"
    db = open_db(path)
    clock = FakeClock()
    n = 0
    for condition in ("a", "b"):
        for outcome, secs in zip(OUTCOMES[condition], TIMES[condition], strict=True):
            s = recorder.start(db, TWO_GROUPS, f"P{n + 1:02d}", None, condition, clock=clock).session
            s.start()
            clock.advance(secs)
            s.end(outcome)
            if n < len(NPS_RATINGS):
                s.answer("nps", "nps", NPS_RATINGS[n])
            s.complete()
            n += 1
            clock.advance(86400 if n == 11 else 60)  # P12 onwards start a day later
    db.close()
    return path


def test_conditions_compared_as_sauro_and_lewis_do(two_groups_db):
    import scipy.stats as st

    from usetest.analysis import compare

    result = compare(two_groups_db)
    [row] = result.tasks.to_dict(orient="records")
    assert (row["a"], row["b"], row["n_a"], row["n_b"]) == ("a", "b", 12, 10)
    # N−1 chi-square (Campbell 2007) from scipy's Pearson chi-square, independently
    chi2 = st.chi2_contingency([[11, 1], [5, 5]], correction=False)[0] * 21 / 22
    assert row["completion_p"] == pytest.approx(st.chi2.sf(chi2, 1))
    # time: successful attempts only, ratio of geometric means, Welch t on the logs
    ta = [t for t, o in zip(TIMES["a"], OUTCOMES["a"], strict=True) if o == "success"]
    tb = [t for t, o in zip(TIMES["b"], OUTCOMES["b"], strict=True) if o == "success"]
    assert row["time_ratio"] == pytest.approx(st.gmean(ta) / st.gmean(tb))
    logs = st.ttest_ind([math.log(t) for t in ta], [math.log(t) for t in tb], equal_var=False)
    assert row["time_p"] == pytest.approx(logs.pvalue)
    assert row["time_ratio_low"] < row["time_ratio"] < row["time_ratio_high"]
    assert set(result.summaries) == {"a", "b"}
    [sus] = result.sus.to_dict(orient="records")
    assert sus["note"] == "fewer than two SUS scores on one side"  # no SUS in this study


def test_comparison_json_and_refusals(two_groups_db, study_db):
    out = CliRunner().invoke(cli, ["summary", str(two_groups_db), "--by", "condition",
                                   "--format", "json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["format"] == "usetest-comparison/2"
    assert list(data["summaries"]) == ["a", "b"] and data["tasks"][0]["task_id"] == "t"
    one = CliRunner().invoke(cli, ["summary", str(study_db), "--by", "condition"])
    assert one.exit_code == 1 and "two or more groups; this database has no conditions" in one.stderr
    both = CliRunner().invoke(cli, ["summary", str(two_groups_db), "--by", "condition",
                                    "--condition", "a"])  # fmt: skip
    assert both.exit_code == 1 and "exclude each other" in both.stderr


def test_nps_and_filters_by_participant_and_day(two_groups_db):
    s = summarise(two_groups_db)
    assert s.nps == {"n": 10, "nps": pytest.approx(30.0), "promoters": 5, "passives": 3,
                     "detractors": 2, "left_out": 0, "left_out_declined": 0,
                     "left_out_unanswered": 0}  # fmt: skip
    assert len(summarise(two_groups_db, participants=["P01", "P13"]).sessions) == 2
    assert len(summarise(two_groups_db, until="2026-01-05").sessions) == 11
    assert len(summarise(two_groups_db, since="2026-01-06").sessions) == 11
    assert len(summarise(two_groups_db, since="2026-01-05", until="2026-01-06").sessions) == 22
    with pytest.raises(AnalysisError, match="no session for participant P77"):
        summarise(two_groups_db, participants=["P77"])
    with pytest.raises(AnalysisError, match="YYYY-MM-DD"):
        summarise(two_groups_db, since="last week")
    with pytest.raises(AnalysisError, match="swap them"):
        summarise(two_groups_db, since="2026-02-01", until="2026-01-01")
    cli_out = CliRunner().invoke(cli, ["summary", str(two_groups_db), "--participant", "P01",
                                       "--format", "json"])  # fmt: skip
    assert json.loads(cli_out.output)["participants"] == 1


def test_export_carries_questionnaires_and_the_comparison(two_groups_db, tmp_path):
    files = export(two_groups_db, tmp_path / "out", "csv")
    names = {p.name for p in files}
    assert {"summary_questionnaires.csv", "summary_conditions_tasks.csv",
            "summary_conditions_sus.csv"} <= names  # fmt: skip
    q = pd.read_csv(tmp_path / "out" / "summary_questionnaires.csv").set_index("questionnaire")
    assert q.loc["nps", "nps"] == pytest.approx(30.0)
    c = pd.read_csv(tmp_path / "out" / "summary_conditions_tasks.csv")
    assert (c["a"].iloc[0], c["b"].iloc[0], c["n_a"].iloc[0]) == ("a", "b", 12)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_export_into_an_unwritable_place_is_a_message(study_db, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = CliRunner().invoke(cli, ["export", str(study_db), "--format", "csv",
                                      "--out", str(blocker / "sub")])  # fmt: skip
    assert result.exit_code == 1 and "cannot" in result.stderr
    assert "Traceback" not in result.output + result.stderr


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_exports_stream_in_chunks_and_still_equal_the_database(study_db, tmp_path, fmt,
                                                               monkeypatch):  # fmt: skip
    import usetest.export

    monkeypatch.setattr(usetest.export, "CHUNK_ROWS", 4)  # many chunks, some with NULL-only columns
    export(study_db, tmp_path / fmt, fmt)
    reader = {"csv": pd.read_csv, "json": pd.read_json, "parquet": pd.read_parquet}[fmt]
    db = open_db(study_db)
    for table in ("events", "notes", "errors", "sessions"):
        got = reader(tmp_path / fmt / f"{table}.{fmt}")
        expected = pd.DataFrame(list(db.query(f"SELECT * FROM {table}")))
        assert len(got) == len(expected), table
        assert list(got.columns) == list(expected.columns), table
        key = "event_seq" if table == "events" else expected.columns[0]
        assert sorted(got[key].tolist()) == sorted(expected[key].tolist()), table
    db.close()


def test_export_progress_counts_every_row(study_db, tmp_path):
    seen = []
    export(study_db, tmp_path / "p", "csv", progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] and all(d <= t for d, t in seen)
