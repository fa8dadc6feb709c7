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
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from usetest import stats
from usetest.errors import UsetestError
from usetest.scenario import Scenario, Task
from usetest.versions import changes, parsed, task_order

ATTEMPTED = ("success", "partial", "fail", "abandoned")


class AnalysisError(UsetestError):
    """The database cannot be summarised as asked; the message says why."""


def connect(db_path: str | Path) -> sqlite3.Connection:
    """Read-only connection: a summary never blocks (or changes) a session being logged.

    Through :func:`usetest.store.open_read`, the one read-only opener: any file name works, a
    database of an older schema is read as migrated (in memory), one in a read-only folder as
    immutable, and the file is left exactly as it was, with nothing new beside it.
    """
    from usetest import store

    try:
        return store.open_read(db_path).conn
    except store.StoreError as exc:
        raise AnalysisError(str(exc)) from exc


def load(db_path: str | Path) -> dict[str, pd.DataFrame]:
    """Every table of the study database as a DataFrame, keyed by table name."""
    conn = connect(db_path)
    try:
        from usetest.store import TABLES

        return {t: pd.read_sql_query(f"SELECT * FROM {t}", conn) for t in TABLES}
    finally:
        conn.close()


def _wide_sql(questionnaire: str, items: list[str]) -> str:
    columns = ", ".join(f"max(CASE item WHEN '{i}' THEN value_num END) AS \"{i}\"" for i in items)
    return (f"SELECT session_id, {columns}, sum(declined) AS declined FROM answers"
            f" WHERE questionnaire = '{questionnaire}'"
            " AND task_id = '' GROUP BY session_id")  # fmt: skip


_SUMMARY_QUERIES = {
    # the study's versions, oldest first (texts no session ran are no version: NULL, left out)
    "scenarios": "SELECT id, version, sha256, study, text, loaded_at FROM scenarios"
                 " WHERE version IS NOT NULL ORDER BY version, id",
    "sessions": "SELECT id, participant, moderator, condition, status, started_at, ended_at,"
                " consent_at, consent_how, scenario_id FROM sessions",
    "attempts": "SELECT session_id, task_id, outcome, time_ms, errors, assists, seq_rating"
                f" FROM attempts WHERE outcome IN {ATTEMPTED}",
    # questionnaires one row per session, one column per item (declined or missing answers
    # are NULL) and the number of items declined
    "sus": _wide_sql("sus", [f"sus{i}" for i in range(1, 11)]),
    "umux": _wide_sql("umux-lite", ["umux1", "umux2"]),
    "nps": "SELECT session_id, value_num AS nps, declined FROM answers"
           " WHERE questionnaire = 'nps' AND item = 'nps'",
    "errors": "SELECT session_id, task_id, type_name FROM errors",
    "notes": "SELECT session_id, task_id, kind, text, severity, logged_at FROM notes",
}  # fmt: skip


def read_summary_tables(conn: sqlite3.Connection) -> dict[str, pd.DataFrame]:
    """The columns every summary needs, read on an open connection (an export reads them in
    its own read transaction, so its summary tables agree with its other files)."""
    return {name: pd.read_sql_query(sql, conn) for name, sql in _SUMMARY_QUERIES.items()}


def _read_for_summary(db_path: str | Path) -> dict[str, pd.DataFrame]:
    conn = connect(db_path)
    try:
        return read_summary_tables(conn)
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
    """The newest version of the scenario among the sessions analysed (study, product …)."""
    task_defs: dict[str, Task] = field(default_factory=dict)
    """Each task of ``tasks`` as the newest version that has it defines it (title, prompt …)."""
    versions: list[dict[str, Any]] = field(default_factory=list)
    """The versions the sessions analysed ran, oldest first (:func:`_version_entries`)."""

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
            "versions": self.versions,
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
    # Each task from the versions the sessions ran (a task removed later keeps its row, with
    # the sessions that had it); with no session, the newest version's tasks at n = 0.
    every = _versions(t["scenarios"])
    ran = [v for v in every if v.id in set(sessions["scenario_id"])] or every[-1:]
    scenario = ran[-1].scenario if ran else None
    study = scenario.study if scenario else ""
    sessions["version"] = sessions["scenario_id"].map({v.id: v.number for v in every})
    task_defs = {task.id: task for v in ran for task in v.scenario.tasks}  # the newest wins
    partial_ok = {v.id for v in ran if v.scenario.partial_counts_as_success}

    who = sessions.set_index("id")
    attempts = t["attempts"][t["attempts"]["session_id"].isin(ids)].copy()  # a copy: columns follow
    attempts["participant"] = attempts["session_id"].map(who["participant"])
    attempts["condition"] = attempts["session_id"].map(who["condition"])
    # partial counts as success where the version the session ran says so
    partial_counts = attempts["session_id"].map(who["scenario_id"]).isin(partial_ok)
    attempts["success"] = (attempts["outcome"] == "success") | (
        (attempts["outcome"] == "partial") & partial_counts)
    attempts["time_s"] = attempts["time_ms"] / 1000
    attempts = attempts.drop(columns=["time_ms"]).rename(columns={"seq_rating": "seq"})

    by_task = dict(tuple(attempts.groupby("task_id", sort=False)))
    empty = attempts.iloc[0:0]
    rows = [_task_row(task_id, task_defs[task_id].title, by_task.get(task_id, empty), times,
                      confidence) for task_id in task_order([v.scenario for v in ran])]  # fmt: skip
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
        task_defs=task_defs, versions=_version_entries(every, ran, sessions),
    )  # fmt: skip


class _Version(NamedTuple):
    id: int
    number: int
    sha256: str
    first_used: str
    scenario: Scenario


def _versions(scenarios: pd.DataFrame) -> list[_Version]:
    """The study's versions, oldest first."""
    return [_Version(int(r["id"]), int(r["version"]), str(r["sha256"]), str(r["loaded_at"]),
                     parsed(str(r["text"]))) for r in scenarios.to_dict(orient="records")]  # fmt: skip


def _version_entries(every: list[_Version], ran: list[_Version],
                     sessions: pd.DataFrame) -> list[dict[str, Any]]:  # fmt: skip
    """Per version the sessions analysed ran: who ran it, its tasks, and what changed since the
    version before it in the database (docs/analysis.md, "Versions of a study")."""
    entries = []
    for v in ran:
        codes = sessions.loc[sessions["scenario_id"] == v.id, "participant"].tolist()
        if not codes:
            continue
        before = [old for old in every if old.number < v.number]
        entries.append({
            "version": v.number, "sha256": v.sha256, "first_used": v.first_used,
            "participants": [str(c) for c in codes],
            "tasks": [task.id for task in v.scenario.tasks],
            "since_version": before[-1].number if before else None,
            "changes": changes(before[-1].scenario, v.scenario).to_dict() if before else None,
        })  # fmt: skip
    return entries


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
    """The sessions that reached a questionnaire, indexed by session: the answers as numbers
    (nan where declined or not answered), ``declined`` (items the participant declined) and
    ``unanswered`` (items neither answered nor declined: the session stopped part-way)."""
    out = wide.set_index("session_id")
    declined = out.pop("declined").fillna(0).astype(int)
    items = out.astype(float)
    return items.assign(declined=declined, unanswered=items.isna().sum(axis=1) - declined)


def _left_out(wide: pd.DataFrame, declined_ok: int) -> dict[str, int]:
    """Who reached the questionnaire but has no score, and why (see :func:`left_out_note`)."""
    unanswered = int((wide["unanswered"] > 0).sum())
    declined = int(((wide["unanswered"] == 0) & (wide["declined"] > declined_ok)).sum())
    return {"left_out": unanswered + declined, "left_out_declined": declined,
            "left_out_unanswered": unanswered}  # fmt: skip


_DECLINED_WHY = {"sus": "declined two or more items", "umux-lite": "declined an item",
                 "nps": "declined the question"}  # fmt: skip


def left_out_note(figures: dict[str, Any], questionnaire: str) -> str:
    """The participants a questionnaire's summary leaves out, and why, in words ("" when none);
    for the SUS also those scored from nine items. The CLI, the report and the app say this."""
    parts = []
    if figures.get("prorated"):
        parts.append(f"{figures['prorated']} scored from nine items (one item declined; "
                     "Lewis & Sauro 2017)")  # fmt: skip
    if figures.get("left_out"):
        why = [f"{k} {reason}" for k, reason in (
            (figures.get("left_out_declined", 0), _DECLINED_WHY[questionnaire]),
            (figures.get("left_out_unanswered", 0), "did not answer every item")) if k]  # fmt: skip
        parts.append(f"{figures['left_out']} left out ({', '.join(why)})")
    return "; ".join(parts)


def _sus(
    wide: pd.DataFrame, code: pd.Series, confidence: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """SUS per participant, and for the study.

    All ten items answered: the standard score. One item declined: the other nine × 100/36
    (Lewis & Sauro 2017, "Can I leave this one out?", JUS 13(1), 38–46; ``items_scored`` 9,
    and the sub-scale lacking the item is nan). Two or more declined, or an item not answered:
    no score; ``left_out`` counts them by reason.
    """
    scored = wide[(wide["unanswered"] == 0) & (wide["declined"] <= 1)]
    answers = scored.drop(columns=["declined", "unanswered"]).to_numpy(dtype=float)
    # the answers were range-checked when recorded; stats.sus_scores checks them again
    scores, learn, usab = stats.sus_scores(answers.reshape(-1, 10))
    sus = pd.DataFrame({
        "participant": scored.index.map(code).to_numpy(dtype=object), "sus": scores,
        "learnability": learn, "usability": usab,
        # few distinct scores (multiples of 2.5, or of 100/36): grade each once
        "grade": pd.Series(scores).map({x: stats.sus_grade(x) for x in set(scores.tolist())}),
        "items_scored": (10 - scored["declined"]).to_numpy(dtype=int),
    }, columns=["participant", "sus", "learnability", "usability", "grade", "items_scored"])  # fmt: skip
    summary: dict[str, Any] = {"n": len(sus)}
    if len(sus):
        mean, low, high = stats.mean_ci(sus["sus"].to_numpy(dtype=float), confidence)
        summary |= {
            "mean": mean, "low": low, "high": high,
            "sd": float(sus["sus"].std(ddof=1)) if len(sus) > 1 else math.nan,
            "percentile": stats.sus_percentile(mean), "grade": stats.sus_grade(mean),
            "adjective": stats.sus_adjective(mean),
            "acceptability": stats.sus_acceptability(mean),
            # over the participants whose sub-scale has all its items
            "learnability": float(sus["learnability"].mean()),
            "usability": float(sus["usability"].mean()),
        }  # fmt: skip
    summary["prorated"] = int((scored["declined"] == 1).sum())
    summary |= _left_out(wide, declined_ok=1)
    return sus, summary


def _umux_lite(wide: pd.DataFrame, confidence: float) -> dict[str, Any]:
    """UMUX-Lite mean with its t interval, and the mean mapped onto the SUS scale.

    Only participants who rated both items: the UMUX-Lite has two items and no published
    proration (Lewis, Utesch & Maher 2013 score the pair), so a declined item leaves that
    participant without a score; ``left_out`` counts them.
    """
    both = wide[(wide["declined"] == 0) & (wide["unanswered"] == 0)]
    scores = [stats.umux_lite(int(a), int(b)) for a, b in
              both.drop(columns=["declined", "unanswered"]).to_numpy().tolist()]  # fmt: skip
    out: dict[str, Any] = {"n": len(scores)}
    if scores:
        mean, low, high = stats.mean_ci(scores, confidence)
        out |= {"mean": mean, "low": low, "high": high,
                "sus_equivalent": stats.umux_lite_sus(mean)}  # fmt: skip
    return out | _left_out(wide, declined_ok=0)


def _nps(answers: pd.DataFrame) -> dict[str, Any]:
    """Net Promoter Score with its promoter / passive / detractor counts.

    One question: a participant who declined it has no rating and is left out (counted in
    ``left_out``), not given a made-up one.
    """
    declined = answers["declined"].fillna(0).astype(bool) | answers["nps"].isna()
    ratings = [int(v) for v in answers.loc[~declined, "nps"]]
    out: dict[str, Any] = {"n": len(ratings)}
    if ratings:
        promoters = sum(r >= 9 for r in ratings)
        detractors = sum(r <= 6 for r in ratings)
        out |= {"nps": stats.nps(ratings), "promoters": promoters,
                "passives": len(ratings) - promoters - detractors, "detractors": detractors}  # fmt: skip
    k = int(declined.sum())
    return out | {"left_out": k, "left_out_declined": k, "left_out_unanswered": 0}


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
    return results_from_tables(_read_for_summary(db_path), confidence=confidence, **filters)


def results_from_tables(
    t: dict[str, pd.DataFrame], *, confidence: float = 0.95, **filters: Any
) -> tuple[Summary, Comparisons | None]:
    """:func:`study_results` on tables already read (:func:`read_summary_tables`)."""
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
    """The conditions with sessions, in the scenario file's order (the newest version's first,
    then those only older versions declare; any others after, sorted)."""
    seen = set(t["sessions"]["condition"].dropna())
    declared = list(dict.fromkeys(c for v in reversed(_versions(t["scenarios"]))
                                  for c in v.scenario.conditions))  # fmt: skip
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
