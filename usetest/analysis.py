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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from usetest import stats
from usetest.scenario import Scenario, parse_scenario

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


def _wide_sql(questionnaire: str, items: list[str]) -> str:
    columns = ", ".join(f"max(CASE item WHEN '{i}' THEN value_num END) AS \"{i}\"" for i in items)
    return (f"SELECT session_id, {columns} FROM answers WHERE questionnaire = '{questionnaire}'"
            " AND task_id = '' GROUP BY session_id")  # fmt: skip


_SUMMARY_QUERIES = {
    "scenarios": "SELECT id, study, text FROM scenarios ORDER BY id",
    "sessions": "SELECT id, participant, moderator, condition, status, started_at, ended_at,"
                " consent_at, consent_how FROM sessions",
    "attempts": "SELECT session_id, task_id, outcome, time_ms, errors, assists, seq_rating"
                f" FROM attempts WHERE outcome IN {ATTEMPTED}",
    # questionnaires one row per session, one column per item (missing answers are NULL)
    "sus": _wide_sql("sus", [f"sus{i}" for i in range(1, 11)]),
    "umux": _wide_sql("umux-lite", ["umux1", "umux2"]),
    "nps": "SELECT session_id, value_num AS nps FROM answers"
           " WHERE questionnaire = 'nps' AND item = 'nps' AND value_num IS NOT NULL",
    "errors": "SELECT session_id, task_id, type_name FROM errors",
    "notes": "SELECT session_id, task_id, kind, text, severity, logged_at FROM notes",
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
    umux_lite: dict[str, Any] = field(default_factory=dict)
    nps: dict[str, Any] = field(default_factory=dict)
    attempts: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The attempts counted: participant, condition, task_id, outcome, success, time_s, …"""
    notes: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Observations and quotes: participant, task_id, kind, text, logged_at."""
    scenario: Scenario | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "usetest-summary/1",
            "study": self.study,
            "filters": self.filters,
            "participants": len(self.sessions),
            "tasks": _records(self.tasks),
            "errors_by_type": _records(self.errors_by_type),
            "sus": {
                "participants": _records(self.sus),
                "summary": {k: _nan_to_none(v) for k, v in self.sus_summary.items()},
            },
            "umux_lite": {k: _nan_to_none(v) for k, v in self.umux_lite.items()},
            "nps": {k: _nan_to_none(v) for k, v in self.nps.items()},
            "problems": _records(self.problems),
        }


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: _nan_to_none(v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in df.to_dict(orient="records")
    ]


def _day(value: str | date | None, what: str) -> str | None:
    """A filter date as the ISO prefix stored timestamps compare against."""
    if value is None or isinstance(value, date):
        return value.isoformat() if value else None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise AnalysisError(f"{what} {value!r} is not a date — write it as YYYY-MM-DD, "
                            "e.g. 2026-11-23") from None  # fmt: skip


def _select_sessions(
    sessions: pd.DataFrame, *, condition: str | None, participants: Iterable[str] | None,
    since: str | date | None, until: str | date | None, include_unfinished: bool,
) -> pd.DataFrame:  # fmt: skip
    """The sessions the filters keep. Dates are UTC days, both ends included."""
    chosen = sessions
    if not include_unfinished:
        chosen = chosen[chosen["status"] == "completed"]
    if condition is not None:
        known = set(sessions["condition"].dropna())
        if condition not in known:
            raise AnalysisError(f"no session has condition {condition!r} (known: "
                                f"{', '.join(sorted(known)) or 'none'})")  # fmt: skip
        chosen = chosen[chosen["condition"] == condition]
    if participants is not None:
        wanted = list(dict.fromkeys(participants))
        unknown = [p for p in wanted if p not in set(sessions["participant"])]
        if unknown:
            raise AnalysisError(f"no session for participant {', '.join(unknown)} — "
                                "`usetest summary DB --format json` lists the codes")  # fmt: skip
        chosen = chosen[chosen["participant"].isin(wanted)]
    first, last = _day(since, "--since"), _day(until, "--until")
    if first and last and first > last:
        raise AnalysisError(f"--since {first} is after --until {last} — swap them")
    if first:
        chosen = chosen[chosen["started_at"] >= first]
    if last:
        chosen = chosen[chosen["started_at"].str.slice(0, 10) <= last]
    return chosen


def summarise(
    db_path: str | Path,
    *,
    condition: str | None = None,
    participants: Iterable[str] | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    include_unfinished: bool = False,
    times: str = "success",
    confidence: float = 0.95,
) -> Summary:
    """The study summary (see the module docstring for the rules).

    ``since`` and ``until`` are days (``YYYY-MM-DD``, UTC, inclusive) on the session's start.
    """
    # Only the projections' needed columns (never the events log): the fast path.
    return _summarise(
        _read_for_summary(db_path), condition=condition, participants=participants, since=since,
        until=until, include_unfinished=include_unfinished, times=times, confidence=confidence,
    )  # fmt: skip


def _summarise(
    t: dict[str, pd.DataFrame], *, condition: str | None = None,
    participants: Iterable[str] | None = None, since: str | date | None = None,
    until: str | date | None = None, include_unfinished: bool = False, times: str = "success",
    confidence: float = 0.95,
) -> Summary:  # fmt: skip
    """:func:`summarise` on tables already read (:func:`compare` reads them once for all)."""
    if times not in ("success", "all"):
        raise AnalysisError("times is 'success' (successful attempts) or 'all'")
    sessions = _select_sessions(
        t["sessions"], condition=condition, participants=participants, since=since,
        until=until, include_unfinished=include_unfinished,
    ).reset_index(drop=True)  # fmt: skip
    ids = set(sessions["id"])
    scenarios = t["scenarios"]
    study = str(scenarios["study"].iloc[-1]) if len(scenarios) else ""
    scenario = parse_scenario(str(scenarios["text"].iloc[-1])).scenario if len(scenarios) else None
    partial_ok = bool(scenario and scenario.partial_counts_as_success)
    success_outcomes = ["success", "partial"] if partial_ok else ["success"]

    who = sessions.set_index("id")
    attempts = t["attempts"][t["attempts"]["session_id"].isin(ids)].copy()  # a copy: columns follow
    attempts["participant"] = attempts["session_id"].map(who["participant"])
    attempts["condition"] = attempts["session_id"].map(who["condition"])
    attempts["success"] = attempts["outcome"].isin(success_outcomes)
    attempts["time_s"] = attempts["time_ms"] / 1000
    attempts = attempts.drop(columns=["time_ms"]).rename(columns={"seq_rating": "seq"})

    task_ids = [task.id for task in scenario.tasks] if scenario else []
    titles = {task.id: task.title for task in scenario.tasks} if scenario else {}
    by_task = dict(tuple(attempts.groupby("task_id", sort=False)))
    empty = attempts.iloc[0:0]
    rows = [_task_row(task_id, titles[task_id], by_task.get(task_id, empty), times, confidence)
            for task_id in task_ids]  # fmt: skip
    tasks = pd.DataFrame(rows)

    def mine(df: pd.DataFrame) -> pd.DataFrame:
        return df[df["session_id"].isin(ids)]

    errors = mine(t["errors"])
    errors_by_type = (
        errors.groupby(["task_id", "type_name"]).size().reset_index(name="count")
        if len(errors) else pd.DataFrame(columns=["task_id", "type_name", "count"])
    )  # fmt: skip

    code = who["participant"]
    sus, sus_summary = _sus(_complete(mine(t["sus"])), code, confidence)
    notes = mine(t["notes"])
    problems = _problems(notes[notes["kind"] == "problem"], len(ids))
    remarks = notes[notes["kind"] != "problem"].assign(
        participant=lambda d: d["session_id"].map(code)
    )[["participant", "task_id", "kind", "text", "logged_at"]].reset_index(drop=True)
    return Summary(
        study=study, sessions=sessions, tasks=tasks, sus=sus, sus_summary=sus_summary,
        problems=problems, errors_by_type=errors_by_type,
        filters={"condition": condition,
                 "participants": list(participants) if participants is not None else None,
                 "since": _day(since, "--since"), "until": _day(until, "--until"),
                 "include_unfinished": include_unfinished, "times": times,
                 "confidence": confidence},
        umux_lite=_umux_lite(_complete(mine(t["umux"])), confidence), nps=_nps(mine(t["nps"])),
        attempts=attempts.reset_index(drop=True), notes=remarks, scenario=scenario,
    )  # fmt: skip


def _task_row(
    task_id: str, title: str, a: pd.DataFrame, times: str, confidence: float
) -> dict[str, Any]:
    """One task's completion, time, errors, assists and SEQ (the module docstring's rules)."""
    n = len(a)
    k = int(a["success"].sum())
    row: dict[str, Any] = {"task_id": task_id, "title": title, "n": n, "successes": k}
    if n:
        low, high = stats.completion_ci(k, n, confidence)
        row |= {"completion": k / n, "completion_estimate": stats.completion_estimate(k, n),
                "completion_low": low, "completion_high": high}  # fmt: skip
    else:
        row |= dict.fromkeys(("completion", "completion_estimate", "completion_low",
                              "completion_high"), math.nan)  # fmt: skip
    secs = _timed(a, times)
    row["time_n"] = len(secs)
    if len(secs):
        if len(secs) < 25:
            centre, tlow, thigh = stats.geometric_mean_ci(secs, confidence)
            method = "geometric mean"
        else:
            centre, tlow, thigh = stats.median_ci(secs, confidence)
            method = "median"
        row |= {"time_s": centre, "time_low_s": tlow, "time_high_s": thigh,
                "time_method": method, "time_mean_s": float(secs.mean()),
                "time_min_s": float(secs.min()), "time_max_s": float(secs.max())}  # fmt: skip
    else:
        row |= {"time_s": math.nan, "time_low_s": math.nan, "time_high_s": math.nan,
                "time_method": None, "time_mean_s": math.nan, "time_min_s": math.nan,
                "time_max_s": math.nan}  # fmt: skip
    row["errors_per_attempt"] = float(a["errors"].mean()) if n else math.nan
    row["share_with_errors"] = float((a["errors"] > 0).mean()) if n else math.nan
    row["assists_per_attempt"] = float(a["assists"].mean()) if n else math.nan
    seq = a["seq"].dropna().to_numpy(dtype=int)
    m, lo, hi = stats.seq_summary(seq, confidence) if len(seq) else (math.nan,) * 3
    row |= {"seq_n": len(seq), "seq_mean": m, "seq_low": lo, "seq_high": hi}
    return row


def _timed(a: pd.DataFrame, times: str) -> np.ndarray:
    """The task times (s) the summary uses: successful attempts, or all with ``times='all'``."""
    secs = (a.loc[a["success"], "time_s"] if times == "success" else a["time_s"]).to_numpy(float)
    return secs[secs > 0]


def _complete(wide: pd.DataFrame) -> pd.DataFrame:
    """The sessions that answered every item, indexed by session, answers as integers."""
    return wide.set_index("session_id").dropna().astype(int)


def _sus(
    wide: pd.DataFrame, code: pd.Series, confidence: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """SUS per participant who answered all ten items, and for the study."""
    # the answers were range-checked when recorded; stats.sus_scores checks them again
    scores, learn, usab = stats.sus_scores(wide.to_numpy(dtype=int).reshape(-1, 10))
    sus = pd.DataFrame({
        "participant": wide.index.map(code).to_numpy(dtype=object), "sus": scores,
        "learnability": learn, "usability": usab,
        # SUS scores are multiples of 2.5: grade each distinct score once
        "grade": pd.Series(scores).map({x: stats.sus_grade(x) for x in set(scores.tolist())}),
    }, columns=["participant", "sus", "learnability", "usability", "grade"])  # fmt: skip
    summary: dict[str, Any] = {"n": len(sus)}
    if len(sus):
        mean, low, high = stats.mean_ci(sus["sus"].to_numpy(dtype=float), confidence)
        summary |= {
            "mean": mean, "low": low, "high": high,
            "sd": float(sus["sus"].std(ddof=1)) if len(sus) > 1 else math.nan,
            "percentile": stats.sus_percentile(mean), "grade": stats.sus_grade(mean),
            "adjective": stats.sus_adjective(mean),
            "acceptability": stats.sus_acceptability(mean),
            "learnability": float(sus["learnability"].mean()),
            "usability": float(sus["usability"].mean()),
        }  # fmt: skip
    return sus, summary


def _umux_lite(wide: pd.DataFrame, confidence: float) -> dict[str, Any]:
    """UMUX-Lite mean with its t interval, and the mean mapped onto the SUS scale."""
    scores = [stats.umux_lite(a, b) for a, b in wide.to_numpy().tolist()]
    if not scores:
        return {"n": 0}
    mean, low, high = stats.mean_ci(scores, confidence)
    return {"n": len(scores), "mean": mean, "low": low, "high": high,
            "sus_equivalent": stats.umux_lite_sus(mean)}  # fmt: skip


def _nps(answers: pd.DataFrame) -> dict[str, Any]:
    """Net Promoter Score with its promoter / passive / detractor counts."""
    ratings = [int(v) for v in answers["nps"]]
    if not ratings:
        return {"n": 0}
    promoters = sum(r >= 9 for r in ratings)
    detractors = sum(r <= 6 for r in ratings)
    return {"n": len(ratings), "nps": stats.nps(ratings), "promoters": promoters,
            "passives": len(ratings) - promoters - detractors, "detractors": detractors}  # fmt: skip


def _problems(probs: pd.DataFrame, tested: int) -> pd.DataFrame:
    """Problems grouped by identical wording: participants affected / tested, worst severity."""
    rows = []
    for text, group in probs.groupby("text"):
        affected = group["session_id"].nunique()
        rows.append({
            "problem": text, "tasks": ", ".join(sorted({str(x) for x in group["task_id"].dropna()})),
            "participants": affected, "tested": tested,
            "frequency": affected / tested if tested else math.nan,
            "worst_severity": _nan_to_none(float(group["severity"].max())),
        })  # fmt: skip
    columns = ["problem", "tasks", "participants", "tested", "frequency", "worst_severity"]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(["participants", "worst_severity"], ascending=False,
                           kind="stable").reset_index(drop=True)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Comparing conditions (Sauro & Lewis 2016, ch. 5; the tests live in usetest.stats).


@dataclass
class Comparisons:
    """The summary per condition, and every pair of conditions compared."""

    by: str
    summaries: dict[str, Summary]
    tasks: pd.DataFrame
    """Per task and pair: completion (N−1 two-proportion test), time (Welch t on log times)."""
    sus: pd.DataFrame
    """Per pair: SUS means compared with Welch's t."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "usetest-comparison/1",
            "by": self.by,
            "summaries": {c: s.to_dict() for c, s in self.summaries.items()},
            "tasks": _records(self.tasks),
            "sus": _records(self.sus),
        }


def compare(
    db_path: str | Path, *, by: str = "condition", confidence: float = 0.95, **filters: Any
) -> Comparisons:
    """Summaries per condition and the tests between each pair (a and b, in file order).

    Completion: N−1 two-proportion test with the adjusted-Wald CI of the difference. Time:
    Welch's t on log times (the summary's attempts: successful ones unless ``times='all'``);
    the difference is given as the ratio of geometric means a/b with its CI. SUS: Welch's
    t on the participants' scores. A test needs at least two values on each side; where that
    is missing the p-value is null and ``note`` says why.
    """
    if by != "condition":
        raise AnalysisError(f"cannot compare by {by!r}: only by condition")
    if filters.pop("condition", None) is not None:
        raise AnalysisError("--condition and --by condition exclude each other — give one")
    t = _read_for_summary(db_path)  # once: every condition's summary is computed from it
    conditions = _conditions(t)
    if len(conditions) < 2:
        raise AnalysisError("a comparison needs sessions in two or more conditions; this "
                            f"database has {len(conditions) or 'no'} condition"
                            f"{'' if len(conditions) == 1 else 's'}")  # fmt: skip
    return _compare(t, conditions, confidence, filters)


def study_results(
    db_path: str | Path, *, confidence: float = 0.95, **filters: Any
) -> tuple[Summary, Comparisons | None]:
    """The summary and, when the sessions kept span two or more conditions and no single
    condition was asked for, the comparison of those conditions; from one read of the database.
    What reports, exports and the results view show."""
    t = _read_for_summary(db_path)
    summary = _summarise(t, confidence=confidence, **filters)
    conditions = _conditions(t) if filters.get("condition") is None else []
    rest = {k: v for k, v in filters.items() if k != "condition"}
    comparisons = _compare(t, conditions, confidence, rest) if len(conditions) >= 2 else None
    return summary, comparisons


def _compare(
    t: dict[str, pd.DataFrame], conditions: list[str], confidence: float, filters: dict[str, Any]
) -> Comparisons:
    summaries = {
        c: _summarise(t, condition=c, confidence=confidence, **filters) for c in conditions
    }
    task_rows, sus_rows = [], []
    for i, a in enumerate(conditions):
        for b in conditions[i + 1 :]:
            sa, sb = summaries[a], summaries[b]
            for task_id in sa.tasks["task_id"] if len(sa.tasks) else []:
                task_rows.append(_compare_task(task_id, a, b, sa, sb, confidence))
            sus_rows.append(_compare_sus(a, b, sa, sb, confidence))
    return Comparisons(by="condition", summaries=summaries, tasks=pd.DataFrame(task_rows),
                       sus=pd.DataFrame(sus_rows))  # fmt: skip


def _conditions(t: dict[str, pd.DataFrame]) -> list[str]:
    """The conditions with sessions, in the scenario file's order (others after, sorted)."""
    seen = set(t["sessions"]["condition"].dropna())
    declared: list[str] = []
    if len(t["scenarios"]):
        declared = list(parse_scenario(str(t["scenarios"]["text"].iloc[-1])).scenario.conditions)
    return [c for c in declared if c in seen] + sorted(seen - set(declared))


def _compare_task(
    task_id: str, a: str, b: str, sa: Summary, sb: Summary, confidence: float
) -> dict[str, Any]:
    times = sa.filters["times"]  # both summaries were made with the same filters
    ta = sa.attempts[sa.attempts["task_id"] == task_id]
    tb = sb.attempts[sb.attempts["task_id"] == task_id]
    row: dict[str, Any] = {"task_id": task_id, "a": a, "b": b, "n_a": len(ta), "n_b": len(tb)}
    notes = []
    if len(ta) and len(tb):
        xa, xb = int(ta["success"].sum()), int(tb["success"].sum())
        c = stats.two_proportion_test(xa, len(ta), xb, len(tb), confidence)
        row |= {"completion_a": xa / len(ta), "completion_b": xb / len(tb),
                "completion_difference": c.difference, "completion_difference_low": c.low,
                "completion_difference_high": c.high, "completion_p": c.p_value}  # fmt: skip
    else:
        notes.append("completion: no attempts on one side")
    secs_a, secs_b = _timed(ta, times), _timed(tb, times)
    if len(secs_a) >= 2 and len(secs_b) >= 2:
        c = stats.log_time_test(secs_a, secs_b, confidence)
        row |= {"time_ratio": math.exp(c.difference), "time_ratio_low": math.exp(c.low),
                "time_ratio_high": math.exp(c.high), "time_p": c.p_value}  # fmt: skip
    else:
        notes.append("time: fewer than two timed attempts on one side")
    row["note"] = "; ".join(notes)
    return row


def _compare_sus(a: str, b: str, sa: Summary, sb: Summary, confidence: float) -> dict[str, Any]:
    scores_a, scores_b = list(sa.sus["sus"]), list(sb.sus["sus"])
    row: dict[str, Any] = {"a": a, "b": b, "n_a": len(scores_a), "n_b": len(scores_b)}
    if len(scores_a) >= 2 and len(scores_b) >= 2:
        c = stats.welch_t(scores_a, scores_b, confidence)
        row |= {"mean_a": sum(scores_a) / len(scores_a), "mean_b": sum(scores_b) / len(scores_b),
                "difference": c.difference, "difference_low": c.low,
                "difference_high": c.high, "t": c.statistic, "df": c.df, "p": c.p_value,
                "note": ""}  # fmt: skip
    else:
        row["note"] = "fewer than two SUS scores on one side"
    return row
