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
    # every other answer: CSAT, CES, the study's own questions, the participant profile
    "answers": "SELECT session_id, questionnaire, item, task_id, value_num, value_text, declined"
               " FROM answers WHERE questionnaire NOT IN ('sus', 'umux-lite', 'nps')",
    "notes": "SELECT session_id, task_id, kind, text, severity, logged_at, author FROM notes",
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
    """Observations and quotes: participant, task_id, kind, text, logged_at, author (the
    observer's initials; None for the moderator's)."""
    scenario: Scenario | None = None
    """The newest version of the scenario among the sessions analysed (study, product …)."""
    task_defs: dict[str, Task] = field(default_factory=dict)
    """Each task of ``tasks`` as the newest version that has it defines it (title, prompt …)."""
    versions: list[dict[str, Any]] = field(default_factory=list)
    """The versions the sessions analysed ran, oldest first (:func:`_version_entries`)."""
    csat: dict[str, Any] = field(default_factory=dict)
    """CSAT asked after the session: n, mean, low, high, satisfied_share (+ target)."""
    ces: dict[str, Any] = field(default_factory=dict)
    """CES asked after the session: n, mean, low, high, agree_share (+ target)."""
    custom: list[dict[str, Any]] = field(default_factory=list)
    """The study's own rating items: questionnaire, item, task_id, n, mean, low, high, counts."""
    free_text: list[dict[str, Any]] = field(default_factory=list)
    """The study's own free-text questions, each with its answers (participant, text)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": SUMMARY_FORMAT,
            "study": self.study,
            "filters": self.filters,
            "participants": len(self.sessions),
            "tasks": [_nest_targets(r) for r in _records(self.tasks)],
            "errors_by_type": _records(self.errors_by_type),
            "sus": {
                "participants": _records(self.sus),
                "summary": {k: _nan_to_none(v) for k, v in self.sus_summary.items()},
            },
            "umux_lite": {k: _nan_to_none(v) for k, v in self.umux_lite.items()},
            "nps": {k: _nan_to_none(v) for k, v in self.nps.items()},
            "csat": _clean(self.csat),
            "ces": _clean(self.ces),
            "custom": [_clean(c) for c in self.custom],
            "free_text": self.free_text,
            "profile": _profile_records(self.sessions),
            "problems": _records(self.problems),
            "versions": self.versions,
        }


SUMMARY_FORMAT = "usetest-summary/2"


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _clean(v) if isinstance(v, dict) else _nan_to_none(v) for k, v in d.items()}


_TARGET_KEYS = {"completion": ("target_completion", "target_completion_source",
                               "target_completion_p", "target_completion_confidence"),
                "time": ("target_time_s", "target_time_source", "target_time_p",
                         "target_time_confidence"),
                "seq": ("target_seq", "target_seq_source", "target_seq_p",
                        "target_seq_confidence")}  # fmt: skip


def _nest_targets(row: dict[str, Any]) -> dict[str, Any]:
    """A task row for JSON: the flat target columns as ``targets: {completion: {target,
    source, p, confidence}, time: …, seq: …}`` (those with a target)."""
    out = {k: v for k, v in row.items() if not k.startswith("target_")}
    out["targets"] = {
        name: dict(zip(("target", "source", "p", "confidence"), (row.get(k) for k in keys),
                       strict=True))
        for name, keys in _TARGET_KEYS.items() if row.get(keys[0]) is not None
    }  # fmt: skip
    return out


def _profile_records(sessions: pd.DataFrame) -> list[dict[str, Any]]:
    """Each participant's profile answers (``[]`` when the scenario asks none)."""
    cols = [c for c in sessions.columns if c.startswith(PROFILE_PREFIX)]
    if not cols:
        return []
    return [{"participant": str(r["participant"]),
             **{c.removeprefix(PROFILE_PREFIX): r[c] for c in cols}}
            for r in sessions.to_dict(orient="records")]  # fmt: skip


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


PROFILE_PREFIX = "profile."
"""Profile answers are the sessions' columns ``profile.ID`` (and ``--by profile.ID``)."""


def _with_profile(sessions: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """The sessions with one column ``profile.ID`` per profile question answered in any of
    them: the chosen option, the text, or the number (as text, so groups compare alike);
    ``None`` where declined or not asked."""
    prof = answers[answers["questionnaire"] == "profile"]
    if not len(prof):
        return sessions
    value = prof["value_text"].where(prof["value_text"].notna(), prof["value_num"].map(
        lambda v: None if v is None or v != v else str(int(v)) if float(v).is_integer() else str(v)))
    value = value.where(~prof["declined"].fillna(0).astype(bool), None)
    wide = (prof.assign(value=value).pivot_table(index="session_id", columns="item",
                                                  values="value", aggfunc="first"))  # fmt: skip
    wide.columns = [PROFILE_PREFIX + str(c) for c in wide.columns]
    out = sessions.merge(wide, left_on="id", right_index=True, how="left")
    return out.astype({c: object for c in wide.columns}).where(out.notna(), None)


def _profile_column(sessions: pd.DataFrame, field_id: str) -> str:
    """The sessions' column of a profile question, or an error naming those answered."""
    column = PROFILE_PREFIX + field_id
    if column not in sessions:
        known = [c.removeprefix(PROFILE_PREFIX) for c in sessions if c.startswith(PROFILE_PREFIX)]
        raise AnalysisError(f"no session has a profile answer for {field_id!r} (answered: "
                            f"{', '.join(known) or 'none — the scenario asks no profile'})")  # fmt: skip
    return column


def _profile_filter(chosen: pd.DataFrame, everyone: pd.DataFrame,
                    profile: dict[str, list[str]]) -> pd.DataFrame:  # fmt: skip
    """Sessions whose profile answer is one of the values given, for every field given."""
    for field_id, values in profile.items():
        column = _profile_column(everyone, field_id)
        seen = set(everyone[column].dropna())
        unknown = [v for v in values if v not in seen]
        if unknown:
            raise AnalysisError(f"no session answered {field_id} = {unknown[0]!r} (answers "
                                f"given: {', '.join(sorted(seen)) or 'none'})")  # fmt: skip
        chosen = chosen[chosen[column].isin(values)]
    return chosen


def _select_sessions(
    sessions: pd.DataFrame, *, condition: str | None, participants: Iterable[str] | None,
    since: str | date | None, until: str | date | None, include_unfinished: bool,
    profile: dict[str, list[str]] | None = None, group: tuple[str, str] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """The sessions the filters keep. Dates are UTC days, both ends included. ``group`` is
    (column, value): the sessions of one group of a split (``--by``)."""
    chosen = sessions
    if not include_unfinished:
        chosen = chosen[chosen["status"] == "completed"]
    if profile:
        chosen = _profile_filter(chosen, sessions, profile)
    if group is not None:
        chosen = chosen[chosen[group[0]] == group[1]]
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
    profile: dict[str, list[str]] | None = None,
) -> Summary:
    """The study summary (see the module docstring for the rules).

    ``since`` and ``until`` are days (``YYYY-MM-DD``, UTC, inclusive) on the session's start;
    ``profile`` keeps the sessions whose profile answer to each field is one of its values.
    """
    # Only the projections' needed columns (never the events log): the fast path.
    return _summarise(
        _read_for_summary(db_path), condition=condition, participants=participants, since=since,
        until=until, include_unfinished=include_unfinished, times=times, confidence=confidence,
        profile=profile,
    )  # fmt: skip


def _summarise(
    t: dict[str, pd.DataFrame], *, condition: str | None = None,
    participants: Iterable[str] | None = None, since: str | date | None = None,
    until: str | date | None = None, include_unfinished: bool = False, times: str = "success",
    confidence: float = 0.95, profile: dict[str, list[str]] | None = None,
    group: tuple[str, str] | None = None,
) -> Summary:  # fmt: skip
    """:func:`summarise` on tables already read (:func:`compare` reads them once for all)."""
    if times not in ("success", "all"):
        raise AnalysisError("times is 'success' (successful attempts) or 'all'")
    sessions = _select_sessions(
        _with_profile(t["sessions"], t["answers"]), condition=condition,
        participants=participants, since=since, until=until,
        include_unfinished=include_unfinished, profile=profile, group=group,
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

    def mine(df: pd.DataFrame) -> pd.DataFrame:
        return df[df["session_id"].isin(ids)]

    answers = mine(t["answers"])
    answers = answers[answers["questionnaire"] != "profile"].assign(
        participant=lambda d: d["session_id"].map(who["participant"]))
    targets = scenario.targets if scenario and scenario.targets else None
    by_task = dict(tuple(attempts.groupby("task_id", sort=False)))
    by_task_answers = dict(tuple(answers.groupby("task_id", sort=False)))
    empty, no_answers = attempts.iloc[0:0], answers.iloc[0:0]
    rows = [_task_row(task_id, task_defs[task_id].title, by_task.get(task_id, empty), times,
                      confidence)
            | _task_scores(by_task_answers.get(task_id, no_answers), confidence)
            for task_id in task_order([v.scenario for v in ran])]  # fmt: skip
    for row in rows:
        row |= _task_targets(row, task_defs[row["task_id"]], targets,
                             _timed(by_task.get(row["task_id"], empty), times),
                             by_task.get(row["task_id"], empty)["seq"].dropna())  # fmt: skip
    tasks = pd.DataFrame(rows)
    session_answers = by_task_answers.get("", no_answers)
    custom, free_text = _custom(answers, _blocks(ran), task_defs, confidence)

    errors = mine(t["errors"])
    errors_by_type = (
        errors.groupby(["task_id", "type_name"]).size().reset_index(name="count")
        if len(errors) else pd.DataFrame(columns=["task_id", "type_name", "count"])
    )  # fmt: skip

    code = who["participant"]
    sus, sus_summary = _sus(_complete(mine(t["sus"])), code, confidence)
    sus_summary |= _target_test(sus["sus"].to_numpy(dtype=float), _target(targets, "sus"))
    notes = mine(t["notes"])
    problems = _problems(notes[notes["kind"] == "problem"], len(ids))
    remarks = notes[notes["kind"] != "problem"].assign(
        participant=lambda d: d["session_id"].map(code)
    )[["participant", "task_id", "kind", "text", "logged_at", "author"]].reset_index(drop=True)
    return Summary(
        study=study, sessions=sessions, tasks=tasks, sus=sus, sus_summary=sus_summary,
        problems=problems, errors_by_type=errors_by_type,
        filters={"condition": condition,
                 "participants": list(participants) if participants is not None else None,
                 "since": _day(since, "--since"), "until": _day(until, "--until"),
                 "include_unfinished": include_unfinished, "times": times,
                 "confidence": confidence, "profile": profile or None,
                 **({"group": {"by": group[0], "value": group[1]}} if group else {})},
        umux_lite=_umux_lite(_complete(mine(t["umux"])), confidence,
                             _target(targets, "umux_lite")),
        nps=_nps(mine(t["nps"])),
        attempts=attempts.reset_index(drop=True), notes=remarks, scenario=scenario,
        task_defs=task_defs, versions=_version_entries(every, ran, sessions),
        csat=_score(session_answers, "csat", confidence, _target(targets, "csat")),
        ces=_score(session_answers, "ces", confidence, _target(targets, "ces")),
        custom=custom, free_text=free_text,
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
    alone = int((a["success"] & (a["assists"] == 0)).sum())
    quit_ = int((a["outcome"] == "abandoned").sum())
    row: dict[str, Any] = {"task_id": task_id, "title": title, "n": n, "successes": k,
                           "successes_unassisted": alone, "abandoned": quit_}  # fmt: skip
    if n:
        low, high = stats.completion_ci(k, n, confidence)
        ulow, uhigh = stats.completion_ci(alone, n, confidence)
        row |= {"completion": k / n, "completion_estimate": stats.completion_estimate(k, n),
                "completion_low": low, "completion_high": high,
                "completion_unassisted": alone / n, "completion_unassisted_low": ulow,
                "completion_unassisted_high": uhigh, "abandonment_rate": quit_ / n}  # fmt: skip
    else:
        row |= dict.fromkeys(("completion", "completion_estimate", "completion_low",
                              "completion_high", "completion_unassisted",
                              "completion_unassisted_low", "completion_unassisted_high",
                              "abandonment_rate"), math.nan)  # fmt: skip
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
    lo, hi = stats.clipped(lo, hi, 1, 7)
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
                 "nps": "declined the question", "csat": "declined the question",
                 "ces": "declined the question"}  # fmt: skip


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
        low, high = stats.clipped(low, high, 0, 100)
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


def _umux_lite(wide: pd.DataFrame, confidence: float,
               target: tuple[float, str] | None = None) -> dict[str, Any]:  # fmt: skip
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
        low, high = stats.clipped(low, high, 0, 100)
        out |= {"mean": mean, "low": low, "high": high,
                "sus_equivalent": stats.umux_lite_sus(mean)}  # fmt: skip
    return out | _left_out(wide, declined_ok=0) | _target_test(np.array(scores), target)


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


# ---------------------------------------------------------------------------------------------
# CSAT, CES, the study's own questions, targets.

PUBLISHED_AVERAGES: dict[str, tuple[float, str]] = {
    "completion": (0.78, "published average (Sauro 2011: 78% over almost 1,200 tasks)"),
    "sus": (68.0, "published average (Sauro 2011: SUS 68 over 500 studies)"),
    "seq": (5.5, "published average (Sauro 2012: SEQ about 5.5)"),
}
"""The targets used where the scenario sets none (Sauro & Lewis 2016, ch. 4)."""


def _target(targets: Any, name: str) -> tuple[float, str] | None:
    """The target for a score and where it comes from: the scenario's ``targets:``, else the
    published average, else none."""
    mine = getattr(targets, name, None) if targets is not None else None
    if mine is not None:
        return float(mine), "study target"
    return PUBLISHED_AVERAGES.get(name)


def _target_test(values: np.ndarray, target: tuple[float, str] | None) -> dict[str, Any]:
    """``target``: {target, source, p, confidence} of a mean against its target (one-sided t,
    H1: the mean exceeds it; :func:`usetest.stats.mean_target_test`)."""
    if target is None:
        return {}
    goal, source = target
    test = (stats.mean_target_test(values, goal) if len(values)
            else stats.TargetTest(math.nan, math.nan))  # fmt: skip
    return {"target": {"target": goal, "source": source, "p": test.p_value,
                       "confidence": test.confidence}}  # fmt: skip


def _task_targets(row: dict[str, Any], task: Task, targets: Any, secs: np.ndarray,
                  seq: pd.Series) -> dict[str, Any]:  # fmt: skip
    """A task's targets (completion always: its own, the study's, or the published average;
    time when the task sets one; SEQ: the study's or the published average) and the one-sided
    tests against them (Sauro & Lewis 2016, ch. 4)."""
    if task.target_completion is not None:
        completion = (float(task.target_completion), "task target")
    else:
        completion = _target(targets, "completion")
    assert completion is not None  # there is a published average
    out: dict[str, Any] = {}
    n, k = row["n"], row["successes"]
    test = (stats.completion_target_test(k, n, completion[0]) if n
            else stats.TargetTest(math.nan, math.nan))  # fmt: skip
    out |= {"target_completion": completion[0], "target_completion_source": completion[1],
            "target_completion_p": test.p_value, "target_completion_confidence": test.confidence}
    if task.target_time is not None:
        test = (stats.time_target_test(secs, float(task.target_time)) if len(secs)
                else stats.TargetTest(math.nan, math.nan))  # fmt: skip
        out |= {"target_time_s": float(task.target_time), "target_time_source": "task target",
                "target_time_p": test.p_value, "target_time_confidence": test.confidence}
    else:
        out |= dict.fromkeys(_TARGET_KEYS["time"], None)
    if task.seq:
        goal, source = _target(targets, "seq") or (math.nan, "")
        values = seq.to_numpy(dtype=float)
        test = (stats.mean_target_test(values, goal) if len(values)
                else stats.TargetTest(math.nan, math.nan))  # fmt: skip
        out |= {"target_seq": goal, "target_seq_source": source, "target_seq_p": test.p_value,
                "target_seq_confidence": test.confidence}
    else:
        out |= dict.fromkeys(_TARGET_KEYS["seq"], None)
    return out


_SCORES = {"csat": ("satisfied_share", stats.csat_summary),
           "ces": ("agree_share", stats.ces_summary)}  # fmt: skip


def _ratings(answers: pd.DataFrame, questionnaire: str) -> tuple[np.ndarray, int]:
    """The ratings given to a one-item questionnaire, and how many declined it."""
    rows = answers[answers["questionnaire"] == questionnaire]
    declined = rows["declined"].fillna(0).astype(bool) | rows["value_num"].isna()
    return rows.loc[~declined, "value_num"].to_numpy(dtype=float), int(declined.sum())


def _score(answers: pd.DataFrame, name: str, confidence: float,
           target: tuple[float, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """CSAT (top-two-box share and mean) or CES 2.0 (mean and share agreeing) with the t
    interval of the mean, clipped to the scale (:func:`usetest.stats.csat_summary`,
    :func:`usetest.stats.ces_summary`); a declined answer is left out and counted."""
    share, summary = _SCORES[name]
    values, declined = _ratings(answers, name)
    out: dict[str, Any] = {"n": len(values)}
    if len(values):
        r = summary(values, confidence)
        out |= {"mean": r.mean, "low": r.low, "high": r.high, share: r.share}
    out |= {"left_out": declined, "left_out_declined": declined, "left_out_unanswered": 0}
    return out | _target_test(values, target)


def _task_scores(answers: pd.DataFrame, confidence: float) -> dict[str, Any]:
    """CSAT and CES asked after one task, as the task row's flat columns."""
    out: dict[str, Any] = {}
    for name, (share, _) in _SCORES.items():
        r = _score(answers, name, confidence)
        out |= {f"{name}_n": r["n"], f"{name}_mean": r.get("mean", math.nan),
                f"{name}_low": r.get("low", math.nan), f"{name}_high": r.get("high", math.nan),
                f"{name}_{share}": r.get(share, math.nan)}  # fmt: skip
    return out


def _blocks(ran: list[_Version]) -> dict[str, Any]:
    """The study's own questionnaires by id, as the newest version that has each defines it."""
    return {q.id: q for v in ran for q in v.scenario.questionnaires if not isinstance(q, str)}


def _custom(answers: pd.DataFrame, blocks: dict[str, Any], task_defs: dict[str, Task],
            confidence: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Every answer to the study's own questions: per rating item (and per task it was asked
    after) n, mean with its t interval clipped to 1–points, and the count per scale point;
    per free-text question the answers, each with its participant. Blocks in scenario order,
    asked after the session first, then after each task in task order."""
    likert, texts = [], []
    order = {task_id: i for i, task_id in enumerate(task_defs, start=1)}
    mine = answers[answers["questionnaire"].isin(list(blocks))]
    for (qid, task_id), group in sorted(mine.groupby(["questionnaire", "task_id"]),
                                        key=lambda kv: (list(blocks).index(kv[0][0]),
                                                        order.get(kv[0][1], 0))):  # fmt: skip
        for item in blocks[qid].items:
            rows = group[group["item"] == item.id]
            declined = rows["declined"].fillna(0).astype(bool)
            where = {"questionnaire": qid, "item": item.id, "text": item.text, "task_id": task_id}
            if item.type == "text":
                given = rows[~declined & rows["value_text"].notna()]
                texts.append(where | {"answers": [
                    {"participant": str(p), "text": str(x)}
                    for p, x in zip(given["participant"], given["value_text"], strict=True)],
                    "declined": int(declined.sum())})  # fmt: skip
                continue
            values = rows.loc[~declined & rows["value_num"].notna(), "value_num"].to_numpy(float)
            entry = where | {"n": len(values), "points": item.points, "declined": int(declined.sum()),
                             "mean": math.nan, "low": math.nan, "high": math.nan,
                             "counts": [int((values == p).sum()) for p in range(1, item.points + 1)]}
            if len(values):
                mean, low, high = stats.mean_ci(values, confidence)
                low, high = stats.clipped(low, high, 1, item.points)
                entry |= {"mean": mean, "low": low, "high": high}
            likert.append(entry)
    return likert, texts


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
            "format": "usetest-comparison/2",
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

    ``by`` is ``condition`` or ``profile.ID`` (the answers to a profile question: one group per
    answer given, in the question's option order; sessions that declined it are in no group).
    """
    t = _read_for_summary(db_path)  # once: every group's summary is computed from it
    return _compare(t, _groups(t, by, filters), confidence, filters, by=by)


def _groups(t: dict[str, pd.DataFrame], by: str, filters: dict[str, Any]) -> list[str]:
    """The groups of a split ``by`` (two or more, else an error saying what there is)."""
    if by == "condition":
        if filters.pop("condition", None) is not None:
            raise AnalysisError("--condition and --by condition exclude each other — give one")
        groups = _conditions(t)
        what = "condition"
    elif by.startswith(PROFILE_PREFIX):
        groups = _profile_groups(t, by.removeprefix(PROFILE_PREFIX))
        what = f"answer to the profile question {by.removeprefix(PROFILE_PREFIX)}"
    else:
        raise AnalysisError(f"cannot compare by {by!r}: use --by condition or --by profile.ID")
    if len(groups) < 2:
        raise AnalysisError(f"a comparison needs sessions in two or more groups; this database "
                            f"has {len(groups) or 'no'} {what}{'' if len(groups) == 1 else 's'}")  # fmt: skip
    return groups


def _profile_groups(t: dict[str, pd.DataFrame], field_id: str) -> list[str]:
    """The answers given to a profile question, in its option order (then any others)."""
    sessions = _with_profile(t["sessions"], t["answers"])
    column = _profile_column(sessions, field_id)
    asked = [q for v in reversed(_versions(t["scenarios"])) for q in v.scenario.profile
             if q.id == field_id]  # fmt: skip
    if asked and asked[0].type != "choice":
        raise AnalysisError(
            f"cannot split by {field_id!r}: it is a {asked[0].type} question, so nearly every "
            f"participant would be a group of their own — split by a choice question, or keep "
            f"some answers with --profile {field_id}=VALUE")  # fmt: skip
    seen = set(sessions[column].dropna())
    options = [o for q in asked for o in q.options]
    declared = list(dict.fromkeys(o for o in options if o in seen))
    return declared + sorted(seen - set(declared))


def study_results(
    db_path: str | Path, *, confidence: float = 0.95, by: str | None = None, **filters: Any
) -> tuple[Summary, Comparisons | None]:
    """The summary and, when the sessions kept span two or more conditions and no single
    condition was asked for, the comparison of those conditions (or, with ``by``, of the
    groups :func:`compare` makes); from one read of the database. What reports, exports and
    the results view show."""
    return results_from_tables(_read_for_summary(db_path), confidence=confidence, by=by,
                               **filters)  # fmt: skip


def results_from_tables(
    t: dict[str, pd.DataFrame], *, confidence: float = 0.95, by: str | None = None,
    **filters: Any,
) -> tuple[Summary, Comparisons | None]:
    """:func:`study_results` on tables already read (:func:`read_summary_tables`)."""
    summary = _summarise(t, confidence=confidence, **filters)
    rest = {k: v for k, v in filters.items() if k != "condition"}
    if by is not None:
        rest = dict(filters)
        return summary, _compare(t, _groups(t, by, rest), confidence, rest, by=by)
    conditions = _conditions(t) if filters.get("condition") is None else []
    comparisons = _compare(t, conditions, confidence, rest) if len(conditions) >= 2 else None
    return summary, comparisons


def _compare(
    t: dict[str, pd.DataFrame], conditions: list[str], confidence: float, filters: dict[str, Any],
    by: str = "condition",
) -> Comparisons:
    summaries = {
        c: _summarise(t, confidence=confidence, **filters,
                      **({"condition": c} if by == "condition" else {"group": (by, c)}))
        for c in conditions
    }  # fmt: skip
    task_rows, sus_rows = [], []
    for i, a in enumerate(conditions):
        for b in conditions[i + 1 :]:
            sa, sb = summaries[a], summaries[b]
            for task_id in sa.tasks["task_id"] if len(sa.tasks) else []:
                task_rows.append(_compare_task(task_id, a, b, sa, sb, confidence))
            sus_rows.append(_compare_sus(a, b, sa, sb, confidence))
    return Comparisons(by=by, summaries=summaries, tasks=pd.DataFrame(task_rows),
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
        low, high = stats.clipped(c.low, c.high, -1, 1)
        row |= {"completion_a": xa / len(ta), "completion_b": xb / len(tb),
                "completion_difference": c.difference, "completion_difference_low": low,
                "completion_difference_high": high, "completion_p": c.p_value}  # fmt: skip
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
        low, high = stats.clipped(c.low, c.high, -100, 100)
        row |= {"mean_a": sum(scores_a) / len(scores_a), "mean_b": sum(scores_b) / len(scores_b),
                "difference": c.difference, "difference_low": low,
                "difference_high": high, "t": c.statistic, "df": c.df, "p": c.p_value,
                "note": ""}  # fmt: skip
    else:
        row["note"] = "fewer than two SUS scores on one side"
    return row
