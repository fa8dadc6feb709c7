"""From a study database to the numbers of a usability report: the one code path for summaries.

``load`` reads the store's tables into tidy pandas DataFrames; ``summarise`` computes, per task
and for the study, the figures Sauro & Lewis recommend, calling :mod:`usetest.stats` for every
formula. The CLI, exports and notebooks all get their numbers here, so they agree.

Choices (documented in docs/analysis.md):

- An *attempt* is a task a participant ended with success, partial, fail or abandoned. Skipped
  tasks were not attempted and are left out of n. Tasks still open are left out.
- Partial success counts as success only when the scenario says ``partial_counts_as_success``.
- Time on task is in seconds; by default over successful attempts (``times="all"`` for all);
  geometric mean with its CI for n < 25, median with its CI otherwise.
- Sessions still in progress or abandoned are left out unless ``include_unfinished=True``.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from usetest import stats
from usetest.scenario import parse_scenario

ATTEMPTED = ("success", "partial", "fail", "abandoned")
TABLES = ("scenarios", "sessions", "events", "attempts", "answers", "errors", "notes")


class AnalysisError(Exception):
    """The database cannot be summarised as asked; the message says why."""


def connect(db_path: str | Path) -> sqlite3.Connection:
    """Read-only connection: a summary never blocks (or changes) a session being logged."""
    path = Path(db_path)
    if not path.is_file():
        raise AnalysisError(f"{path} does not exist — give the path of a study database")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise AnalysisError(f"{path} is not a usetest database ({exc})") from exc
    if version < 1 or not set(TABLES) <= names:
        conn.close()
        raise AnalysisError(f"{path} is not a usetest database (no usetest tables in it)")
    return conn


def load(db_path: str | Path) -> dict[str, pd.DataFrame]:
    """Every table of the study database as a DataFrame, keyed by table name."""
    conn = connect(db_path)
    try:
        return {t: pd.read_sql_query(f"SELECT * FROM {t}", conn) for t in TABLES}
    finally:
        conn.close()


_SUMMARY_QUERIES = {
    "scenarios": "SELECT id, study, text FROM scenarios ORDER BY id",
    "sessions": "SELECT id, participant, moderator, condition, status, started_at, ended_at"
                " FROM sessions",
    "attempts": "SELECT session_id, task_id, outcome, time_ms, errors, assists, seq_rating"
                " FROM attempts WHERE outcome IN ('success', 'partial', 'fail', 'abandoned')",
    "answers": "SELECT session_id, questionnaire, item, value_num FROM answers"
               " WHERE questionnaire = 'sus'",
    "errors": "SELECT session_id, task_id, type_name FROM errors",
    "notes": "SELECT session_id, task_id, kind, text, severity FROM notes WHERE kind = 'problem'",
}  # fmt: skip


def _read_for_summary(db_path: str | Path) -> dict[str, pd.DataFrame]:
    conn = connect(db_path)
    try:
        return {name: pd.read_sql_query(sql, conn) for name, sql in _SUMMARY_QUERIES.items()}
    finally:
        conn.close()


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


@dataclass
class Summary:
    """Everything the report needs, as data. ``to_dict`` gives the stable JSON layout."""

    study: str
    sessions: pd.DataFrame
    tasks: pd.DataFrame
    sus: pd.DataFrame
    sus_summary: dict[str, Any]
    problems: pd.DataFrame
    errors_by_type: pd.DataFrame
    filters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: _nan_to_none(v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                for row in df.to_dict(orient="records")
            ]

        return {
            "format": "usetest-summary/1",
            "study": self.study,
            "filters": self.filters,
            "participants": len(self.sessions),
            "tasks": records(self.tasks),
            "errors_by_type": records(self.errors_by_type),
            "sus": {
                "participants": records(self.sus),
                "summary": {k: _nan_to_none(v) for k, v in self.sus_summary.items()},
            },
            "problems": records(self.problems),
        }


def summarise(
    db_path: str | Path,
    *,
    condition: str | None = None,
    include_unfinished: bool = False,
    times: str = "success",
    confidence: float = 0.95,
) -> Summary:
    """The study summary (see the module docstring for the rules)."""
    if times not in ("success", "all"):
        raise AnalysisError("times is 'success' (successful attempts) or 'all'")
    # Only the projections' needed columns (never the events log): the fast path.
    t = _read_for_summary(db_path)
    sessions = t["sessions"]
    if not include_unfinished:
        sessions = sessions[sessions["status"] == "completed"]
    if condition is not None:
        known = set(t["sessions"]["condition"].dropna())
        if condition not in known:
            raise AnalysisError(f"no session has condition {condition!r} (known: "
                                f"{', '.join(sorted(known)) or 'none'})")  # fmt: skip
        sessions = sessions[sessions["condition"] == condition]
    ids = set(sessions["id"])
    scenarios = t["scenarios"]
    study = str(scenarios["study"].iloc[-1]) if len(scenarios) else ""
    partial_ok = False
    if len(scenarios):
        scenario = parse_scenario(str(scenarios["text"].iloc[-1])).scenario
        partial_ok = scenario.partial_counts_as_success
        titles = {task.id: task.title for task in scenario.tasks}
        task_ids = [task.id for task in scenario.tasks]
    else:
        titles, task_ids = {}, []

    attempts = t["attempts"][t["attempts"]["session_id"].isin(ids)]
    attempts = attempts[attempts["outcome"].isin(ATTEMPTED)]
    success_outcomes = {"success", "partial"} if partial_ok else {"success"}
    rows = []
    for task_id in task_ids:
        a = attempts[attempts["task_id"] == task_id]
        n = len(a)
        ok = a["outcome"].isin(success_outcomes)
        k = int(ok.sum())
        row: dict[str, Any] = {"task_id": task_id, "title": titles.get(task_id, task_id), "n": n,
                               "successes": k}  # fmt: skip
        if n:
            low, high = stats.completion_ci(k, n, confidence)
            row |= {"completion": k / n, "completion_estimate": stats.completion_estimate(k, n),
                    "completion_low": low, "completion_high": high}  # fmt: skip
        else:
            row |= dict.fromkeys(("completion", "completion_estimate", "completion_low",
                                  "completion_high"), math.nan)  # fmt: skip
        timed = a[ok] if times == "success" else a
        secs = [ms / 1000 for ms in timed["time_ms"] if ms > 0]
        row["time_n"] = len(secs)
        if secs:
            if len(secs) < 25:
                centre, tlow, thigh = stats.geometric_mean_ci(secs, confidence)
                method = "geometric mean"
            else:
                centre, tlow, thigh = stats.median_ci(secs, confidence)
                method = "median"
            row |= {"time_s": centre, "time_low_s": tlow, "time_high_s": thigh,
                    "time_method": method, "time_mean_s": sum(secs) / len(secs),
                    "time_min_s": min(secs), "time_max_s": max(secs)}  # fmt: skip
        else:
            row |= {"time_s": math.nan, "time_low_s": math.nan, "time_high_s": math.nan,
                    "time_method": None, "time_mean_s": math.nan, "time_min_s": math.nan,
                    "time_max_s": math.nan}  # fmt: skip
        row["errors_per_attempt"] = float(a["errors"].mean()) if n else math.nan
        row["share_with_errors"] = float((a["errors"] > 0).mean()) if n else math.nan
        row["assists_per_attempt"] = float(a["assists"].mean()) if n else math.nan
        seq = [int(v) for v in a["seq_rating"].dropna()]
        if seq:
            m, lo, hi = stats.seq_summary(seq, confidence)
        else:
            m = lo = hi = math.nan
        row |= {"seq_n": len(seq), "seq_mean": m, "seq_low": lo, "seq_high": hi}
        rows.append(row)
    tasks = pd.DataFrame(rows)

    errors = t["errors"][t["errors"]["session_id"].isin(ids)]
    errors_by_type = (
        errors.groupby(["task_id", "type_name"]).size().reset_index(name="count")
        if len(errors) else pd.DataFrame(columns=["task_id", "type_name", "count"])
    )  # fmt: skip

    answers = t["answers"][t["answers"]["session_id"].isin(ids)]
    sus_rows = []
    code = dict(zip(sessions["id"], sessions["participant"], strict=True))
    items = [f"sus{i}" for i in range(1, 11)]
    wide = (
        answers[answers["questionnaire"] == "sus"]
        .pivot_table(index="session_id", columns="item", values="value_num", aggfunc="last")
        .reindex(columns=items)
        .dropna()
        .astype(int)
    )
    # stats.sus_score per participant (the answers were range-checked when recorded)
    for sid, responses in zip(wide.index, wide.to_numpy().tolist(), strict=True):
        score = stats.sus_score(responses)
        learn, usab = stats.sus_subscales(responses)
        sus_rows.append({"participant": code[sid], "sus": score, "learnability": learn,
                         "usability": usab, "grade": stats.sus_grade(score)})  # fmt: skip
    sus = pd.DataFrame(sus_rows, columns=["participant", "sus", "learnability", "usability", "grade"])
    sus_summary: dict[str, Any] = {"n": len(sus)}
    if len(sus):
        mean, low, high = stats.mean_ci(list(sus["sus"]), confidence)
        sus_summary |= {
            "mean": mean, "low": low, "high": high,
            "sd": float(sus["sus"].std(ddof=1)) if len(sus) > 1 else math.nan,
            "percentile": stats.sus_percentile(mean), "grade": stats.sus_grade(mean),
            "adjective": stats.sus_adjective(mean),
            "acceptability": stats.sus_acceptability(mean),
            "learnability": float(sus["learnability"].mean()),
            "usability": float(sus["usability"].mean()),
        }  # fmt: skip

    notes = t["notes"][t["notes"]["session_id"].isin(ids)]
    probs = notes[notes["kind"] == "problem"]
    problem_rows = []
    for text, group in probs.groupby("text"):
        problem_rows.append({
            "problem": text, "tasks": ", ".join(sorted({str(x) for x in group["task_id"].dropna()})),
            "participants": group["session_id"].nunique(), "tested": len(ids),
            "frequency": group["session_id"].nunique() / len(ids) if ids else math.nan,
            "worst_severity": _nan_to_none(float(group["severity"].max())),
        })  # fmt: skip
    problems = pd.DataFrame(problem_rows, columns=["problem", "tasks", "participants", "tested",
                                                   "frequency", "worst_severity"])  # fmt: skip
    return Summary(
        study=study, sessions=sessions.reset_index(drop=True), tasks=tasks, sus=sus,
        sus_summary=sus_summary, problems=problems, errors_by_type=errors_by_type,
        filters={"condition": condition, "include_unfinished": include_unfinished,
                 "times": times, "confidence": confidence},
    )  # fmt: skip
