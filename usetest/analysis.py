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

import json
import math
import sqlite3
from collections.abc import Callable, Iterable
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


_SUMMARY_QUERIES = {
    # the study's versions, oldest first (texts no session ran are no version: NULL, left out)
    "scenarios": "SELECT id, version, sha256, study, text, loaded_at FROM scenarios"
                 " WHERE version IS NOT NULL ORDER BY version, id",
    "sessions": "SELECT id, participant, moderator, condition, status, started_at, ended_at,"
                " consent_at, consent_how, scenario_id FROM sessions",
    "notes": "SELECT session_id, task_id, kind, text, severity, logged_at, author FROM notes",
}  # fmt: skip
"""The tables a summary reads whole (few rows, or text it shows as it stands)."""

_COLUMN_KINDS = {
    "sessions": (("id", "integer"), ("participant", "text"), ("moderator", "text"),
                 ("condition", "text"), ("status", "text"), ("started_at", "text"),
                 ("ended_at", "text"), ("consent_at", "text"), ("consent_how", "text"),
                 ("scenario_id", "integer")),
    "notes": (("session_id", "integer"), ("task_id", "text"), ("kind", "text"), ("text", "text"),
              ("severity", "integer"), ("logged_at", "text"), ("author", "text")),
}  # fmt: skip
"""The columns of :data:`_SUMMARY_QUERIES`' long tables and what store.verify lets them hold
(besides NULL): read as columns by :func:`_read_whole`."""


def _read_whole(conn: sqlite3.Connection, name: str) -> pd.DataFrame:
    """``pd.read_sql_query`` of ``_SUMMARY_QUERIES[name]``, the same frame, read without a
    Python object per value where it can: each column in one scan of the table (in rowid
    order, as the query reads it), integers as one text numpy parses, texts as one text and
    their lengths (Arrow's string buffers, which pandas' ``str`` columns are). Anything else
    (Python strings in pandas, a value of another type, a text not UTF-8): the query."""
    sql = _SUMMARY_QUERIES[name]
    kinds = _COLUMN_KINDS.get(name)
    arrow_str = _arrow_str()
    if kinds is None or arrow_str is None:
        return pd.read_sql_query(sql, conn)
    # the types held, checked by one aggregate a column: in a TEXT column anything but a text
    # is a blob (numbers become texts), which max() gives if there is one; sum() over an
    # INTEGER column is an integer only if every value is
    parts = [f"typeof({'max' if kind == 'text' else 'sum'}({col}))" for col, kind in kinds]
    for col, kind in kinds:
        if kind == "text":
            parts += [f"group_concat(coalesce(length(CAST({col} AS BLOB)), -1))",
                      f"group_concat({col}, '')"]  # fmt: skip
        else:
            parts += [f"group_concat(coalesce({col}, 0))", f"group_concat({col} IS NULL)"]
    try:
        row = conn.execute(f"SELECT count(*), {', '.join(parts)} FROM {name} NOT INDEXED"
                           ).fetchone()  # fmt: skip
    except sqlite3.Error:  # e.g. a text longer than SQLite's limit, a sum past 2^63
        return pd.read_sql_query(sql, conn)
    n, types, row = row[0], row[1 : len(kinds) + 1], row[len(kinds) + 1 :]
    if (not n or any(t not in (kind, "null") for t, (_, kind) in zip(types, kinds, strict=True))
            or conn.execute("PRAGMA encoding").fetchone()[0] != "UTF-8"):  # fmt: skip
        return pd.read_sql_query(sql, conn)
    import pyarrow as pa

    columns: dict[str, Any] = {}
    for i, (col, kind) in enumerate(kinds):
        first, second = row[2 * i], row[2 * i + 1]
        if kind == "integer":
            values, null = _ints(first), _ints(second).astype(bool)
            if len(values) != n or len(null) != n:
                return pd.read_sql_query(sql, conn)
            # as pandas infers from the values: whole numbers, floats if any is missing,
            # objects (None) if all are
            if null.all():
                columns[col] = np.full(n, None, dtype=object)
            elif null.any():
                columns[col] = np.where(null, np.nan, values.astype(float))
            else:
                columns[col] = values
            continue
        lengths = _ints(first)
        valid = lengths >= 0
        if not valid.any():
            columns[col] = np.full(n, None, dtype=object)
            continue
        data = (second or "").encode("utf-8")
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.where(valid, lengths, 0), out=offsets[1:])
        if offsets[-1] != len(data) or len(lengths) != n:
            return pd.read_sql_query(sql, conn)
        strings = pa.LargeStringArray.from_buffers(
            n, pa.py_buffer(offsets), pa.py_buffer(data),
            pa.py_buffer(np.packbits(valid, bitorder="little")), int(n - valid.sum()))  # fmt: skip
        columns[col] = pd.array(strings, dtype=arrow_str)
    return pd.DataFrame(columns)


def _arrow_str() -> Any:
    """The dtype pandas gives a column of texts when it is Arrow's strings (pandas 3 with
    pyarrow), else None."""
    try:
        dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    except (ImportError, TypeError, ValueError):
        return None
    return dtype if pd.Series(["x"]).dtype == dtype else None

# The long tables (attempts, answers, errors) are read in one pass each, in rowid order, as a few
# columns of integers that SQLite writes as one comma-separated text each (group_concat) and
# numpy parses in one call: no Python object per row. Texts are coded by what the study's
# versions name (task ids, questionnaire and item ids, error types); a text no version names is
# found by a second query only when one turns up. Several small numbers share one integer, in
# the ranges store.verify has checked (times, counts, values). With no index usable (every
# column in WHERE under a unary +, rowid ranges of about _CHUNK_ROWS rows), SQLite scans the
# table in rowid order and feeds the aggregate in that order: the order the per-row reading had,
# so every sum over floats adds in the same order as before and gives the same bits.
_OUTCOMES = ATTEMPTED
_FIXED_QUESTIONNAIRES = ("sus", "umux-lite", "nps", "csat", "ces", "profile")
_SUS_ITEMS = tuple(f"sus{i}" for i in range(1, 11))
_UMUX_ITEMS = ("umux1", "umux2")


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _case(column: str, names: list[str], otherwise: int = -1) -> str:
    """SQL: the position of ``column``'s value in ``names``, ``otherwise`` for any other."""
    if not names:
        return str(otherwise)
    whens = " ".join(f"WHEN {_quoted(n)} THEN {i}" for i, n in enumerate(names))
    return f"(CASE {column} {whens} ELSE {otherwise} END)"


_OWN_ITEMS = {"sus": _SUS_ITEMS, "umux-lite": _UMUX_ITEMS, "nps": ("nps",), "csat": (), "ces": ()}
"""The items a summary reads of each fixed questionnaire (CSAT and CES: their one answer,
whatever its item)."""


def _questionnaire_item(questionnaires: list[str], items: list[str]) -> str:
    """SQL: questionnaire × len(items) + item, as ``_case`` codes each; for the fixed
    questionnaires only their own items are looked for (any other item is 0: none the
    summary reads), so that a row is compared with a few names, not every one."""
    whens = []
    for i, name in enumerate(questionnaires):
        own = _OWN_ITEMS.get(name)
        item = (_case("item", items, 0) if own is None else
                "(CASE item " + " ".join(f"WHEN {_quoted(n)} THEN {items.index(n)}" for n in own)
                + " ELSE 0 END)" if own else "0")  # fmt: skip
        whens.append(f"WHEN {_quoted(name)} THEN {i * len(items)} + {item}")
    return (f"(CASE questionnaire {' '.join(whens)}"
            f" ELSE {-len(items)} + {_case('item', items, 0)} END)")  # fmt: skip


def _ints(text: str | None) -> np.ndarray:
    """A group_concat of integers as an int64 array (None: no rows)."""
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")  # one C loop; text mode is supported


def _distinct(conn: sqlite3.Connection, sql: str, known: list[str]) -> list[str]:
    """``known`` and, after it, the other values the query finds (sorted)."""
    found = {r[0] for r in conn.execute(sql) if r[0] is not None}
    return known + sorted(found - set(known))


@dataclass
class _Attempts:
    """The attempts with an outcome (success, partial, fail, abandoned), in rowid order."""

    session_id: np.ndarray
    task: np.ndarray
    """Index into ``task_ids``."""
    outcome: np.ndarray
    """Index into ATTEMPTED."""
    time_ms: np.ndarray
    errors: np.ndarray
    assists: np.ndarray
    seq: np.ndarray
    """The SEQ rating, 0 where there is none."""
    task_ids: list[str]


@dataclass
class _Wide:
    """A questionnaire asked after the session, one row per session that answered any item,
    by session id: the items' values (nan: declined or not answered), items declined."""

    session_id: np.ndarray
    values: np.ndarray
    declined: np.ndarray

    def complete(self, chosen_ids: np.ndarray) -> _Reached:
        """The rows of the sessions ``chosen_ids`` (sorted)."""
        rows = np.flatnonzero(_member(self.session_id, chosen_ids))
        declined = self.declined[rows].astype(np.int64)
        missing = np.isnan(self.values).sum(axis=1)[rows]
        return _Reached(self.session_id[rows], declined, missing - declined, rows, self.values)


class _Reached(NamedTuple):
    """The sessions that reached a questionnaire (in session order): ``declined`` (items the
    participant declined) and ``unanswered`` (items neither answered nor declined: the session
    stopped part-way); their answers (:meth:`answers`) are not copied until asked for."""

    session_id: np.ndarray
    declined: np.ndarray
    unanswered: np.ndarray
    rows: np.ndarray
    """Each session's row of ``grid``."""
    grid: np.ndarray

    def answers(self, which: np.ndarray) -> np.ndarray:
        """The answers as numbers (nan where declined or not answered) of the sessions
        ``which`` (a mask over them, or their positions)."""
        return self.grid[self.rows[which]]


@dataclass
class _Answers:
    """The answers a summary reads. SUS and UMUX-Lite (after the session) as one row per
    session; NPS, CSAT, CES and the study's own questions one per answer, in rowid order (the
    profile is read into :attr:`SummaryTables.profile`, the SEQ from the attempts)."""

    sus: _Wide
    umux: _Wide
    session_id: np.ndarray
    questionnaire: np.ndarray
    item: np.ndarray
    """Index into ``items``; 0: an item no version names."""
    task: np.ndarray
    """Index into ``task_ids`` (0 is ``''``: asked after the session); -1: a task no version
    has."""
    value: np.ndarray
    """value_num as float, nan where NULL."""
    declined: np.ndarray
    text_rows: np.ndarray
    """The rows that have a value_text (sorted) …"""
    text_values: np.ndarray
    """… and their texts (objects): :meth:`texts`."""
    questionnaires: list[str]
    items: list[str]
    task_ids: list[str]

    def texts(self, rows: np.ndarray) -> np.ndarray:
        """value_text of the answers ``rows`` (objects; None where NULL)."""
        out = np.full(len(rows), None, dtype=object)
        if len(self.text_rows):
            at = np.searchsorted(self.text_rows, rows).clip(max=len(self.text_rows) - 1)
            hit = self.text_rows[at] == rows
            out[hit] = self.text_values[at[hit]]
        return out

    def where(self, questionnaire: str) -> np.ndarray:
        code = self.questionnaires.index(questionnaire)
        return self.questionnaire == code


@dataclass
class SummaryTables:
    """What every summary of a database reads, read once (:func:`read_summary_tables`): the
    sessions, versions and notes as DataFrames, the attempts, answers and errors as numpy
    columns. Each summary (a filter, a group of a comparison) is computed from it."""

    scenarios: pd.DataFrame
    sessions: pd.DataFrame
    notes: pd.DataFrame
    attempts: _Attempts
    answers: _Answers
    errors_sid: np.ndarray
    errors_task: np.ndarray
    errors_type: np.ndarray
    error_tasks: list[str]
    error_types: list[str]
    profile: pd.DataFrame | None
    """The profile answers, one row per session and column per question (as a pivot gives)."""


def read_summary_tables(conn: sqlite3.Connection) -> SummaryTables:
    """The columns every summary needs, read on an open connection (an export reads them in
    its own read transaction, so its summary tables agree with its other files)."""
    own = not conn.in_transaction  # one snapshot of every table, even while a session records
    if own:
        conn.execute("BEGIN")
    try:
        small = {name: _read_whole(conn, name) for name in _SUMMARY_QUERIES}
        versions = [parsed(str(text)) for text in small["scenarios"]["text"]]
        attempts = _read_attempts(conn, versions)
        ids = np.sort(small["sessions"]["id"].to_numpy(dtype=np.int64))
        answers, profile = _read_answers(conn, versions, attempts.task_ids, ids)
        e_sid, e_task, e_type, e_tasks, e_types = _read_errors(conn, versions, attempts.task_ids)
    finally:
        if own:
            conn.execute("COMMIT")
    return SummaryTables(
        scenarios=small["scenarios"], sessions=small["sessions"], notes=small["notes"],
        attempts=attempts, answers=answers, errors_sid=e_sid, errors_task=e_task,
        errors_type=e_type, error_tasks=e_tasks, error_types=e_types,
        profile=profile,
    )  # fmt: skip


def _read_attempts(conn: sqlite3.Connection, versions: list[Scenario]) -> _Attempts:
    known = list(dict.fromkeys(t.id for v in versions for t in v.tasks))
    while True:
        # task, outcome and SEQ in the high bits, the time (< 2^35 ms, checked) in the low ones
        sql = (f"SELECT group_concat(session_id), group_concat(((({_case('task_id', known)} * 4"
               f" + {_case('outcome', list(_OUTCOMES))}) * 8 + coalesce(seq_rating, 0))"
               f" << 35) + time_ms), group_concat((errors << 31) + assists)"
               f" FROM attempts WHERE +outcome IN {ATTEMPTED} AND rowid > ? AND rowid <= ?")  # fmt: skip
        parts: list[tuple[np.ndarray, ...]] = []
        for low, high in _row_ranges(conn, "attempts"):
            row = conn.execute(sql, (low, high)).fetchone()
            packed, pair = _ints(row[1]), _ints(row[2])
            small = packed >> 35
            parts.append((_ints(row[0]), small // 32, (small // 8 % 4).astype(np.int8),
                          packed & (2**35 - 1), (pair >> 31).astype(np.int32),
                          (pair & (2**31 - 1)).astype(np.int32), (small % 8).astype(np.int8)))  # fmt: skip
            if (parts[-1][1] < 0).any():
                break
        else:
            break
        # a task no version has (a file written by something else): code it too, read again
        known = _distinct(conn, "SELECT DISTINCT task_id FROM attempts", known)
    columns = ([np.concatenate(c) for c in zip(*parts, strict=True)] if parts else
               [np.zeros(0, dtype=t) for t in (np.int64, np.int64, np.int8, np.int64, np.int32,
                                               np.int32, np.int8)])  # fmt: skip
    sid, task, outcome, time_ms, errors, assists, seq = columns
    return _Attempts(session_id=sid, task=task.astype(np.int32), outcome=outcome, time_ms=time_ms,
                     errors=errors, assists=assists, seq=seq, task_ids=known)  # fmt: skip


_CHUNK_ROWS = 100_000
"""Rows read per query of a long table: bounds the memory the texts of integers take."""


def _row_ranges(conn: sqlite3.Connection, table: str) -> list[tuple[int, int]]:
    """Rowid ranges (low, high] that cover ``table`` in about :data:`_CHUNK_ROWS` rows each
    (fewer, larger ones where rowids are sparse)."""
    # two subqueries: SQLite reads min() or max() alone from the b-tree's ends, but scans the
    # whole table for both in one SELECT
    low, high = conn.execute(f'SELECT (SELECT min(rowid) FROM "{table}"),'
                             f' (SELECT max(rowid) FROM "{table}")').fetchone()  # fmt: skip
    if low is None:
        return []
    chunks = min(64, -(-(high - low + 1) // _CHUNK_ROWS))
    step = -(-(high - low + 1) // chunks)
    return [(start, min(start + step, high)) for start in range(low - 1, high, step)]


def _read_answers(conn: sqlite3.Connection, versions: list[Scenario], task_ids: list[str],
                  session_ids: np.ndarray) -> tuple[_Answers, pd.DataFrame | None]:  # fmt: skip
    """The answers (:class:`_Answers`) and the profile (:func:`_profile_wide`), read in one
    pass over the table; ``session_ids``: every session's id, sorted."""
    blocks = list(dict.fromkeys(q.id for v in versions for q in v.questionnaires
                                if not isinstance(q, str)))  # fmt: skip
    questionnaires = [*_FIXED_QUESTIONNAIRES, *(b for b in blocks if b not in _FIXED_QUESTIONNAIRES)]
    items = ["", *dict.fromkeys([*_SUS_ITEMS, *_UMUX_ITEMS, "nps",
                                 *(p.id for v in versions for p in v.profile),
                                 *(i.id for v in versions for q in v.questionnaires
                                   if not isinstance(q, str) for i in q.items)])]  # fmt: skip
    tasks = ["", *(t for t in task_ids if t)]
    exact = False
    while True:
        found = _answer_pass(conn, questionnaires, items, tasks, blocks, session_ids, exact)
        if isinstance(found, tuple):
            return found
        # a task or profile question no version names: code those too, and read again; a
        # declined count other than 0 or 1 (never written by usetest): read it as a number
        if found == "declined":
            exact = True
        elif found == "task":
            tasks = _distinct(conn, "SELECT DISTINCT task_id FROM answers", tasks)
        else:
            items = _distinct(conn, "SELECT DISTINCT item FROM answers"
                              " WHERE questionnaire = 'profile'", items)  # fmt: skip


def _answer_pass(conn: sqlite3.Connection, questionnaires: list[str], items: list[str],
                 tasks: list[str], blocks: list[str], ids: np.ndarray, exact: bool,
                 ) -> tuple[_Answers, pd.DataFrame | None] | str:  # fmt: skip
    """One pass over the answers with the texts coded as given; "task" or "item" if it met a
    block's task or a profile question not among them, "declined" if it met a declined count
    other than 0 or 1 and ``exact`` (read it as a column of its own) is not set."""
    n_items, n_tasks = len(items), len(tasks) + 1
    if len(questionnaires) * n_items * n_tasks >= 2**27:
        raise AnalysisError("the answers name too many different questions and tasks to "
                            "summarise — check that the file is a usetest study database")  # fmt: skip
    # per answer one integer: where it belongs (questionnaire, item, task), whether it has a
    # text, whether it was declined (2: some other count) and its number (value_num is within
    # ±10^9, checked: 2 v + 1 + 2^31 fits in 32 bits; 2^31 alone is NULL)
    slot = (f"(({_questionnaire_item(questionnaires, items)} * {n_tasks}"
            f" + {_case('task_id', tasks)} + 1)"
            " * 2 + (value_text IS NOT NULL)) * 4"
            " + (CASE declined WHEN 0 THEN 0 WHEN 1 THEN 1 ELSE 2 END)")  # fmt: skip
    sql = (f"SELECT group_concat(session_id),"
           f" group_concat(({slot} << 32) + coalesce(value_num * 2 + 1, 0) + 2147483648),"
           f" json_group_array(value_text) FILTER (WHERE value_text IS NOT NULL)"
           f"{', group_concat(declined)' if exact else ''}"
           f" FROM answers WHERE +questionnaire IN ({', '.join(map(_quoted, questionnaires))})"
           " AND rowid > ? AND rowid <= ?")  # fmt: skip
    code = {name: i for i, name in enumerate(questionnaires)}
    kept_codes = [code["nps"], code["csat"], code["ces"], *(code[b] for b in blocks)]
    block_codes = [code[b] for b in blocks]
    wide = {"sus": (_SUS_ITEMS, np.full((len(ids), 10), np.nan)),
            "umux-lite": (_UMUX_ITEMS, np.full((len(ids), 2), np.nan))}
    present = {name: np.zeros(len(ids), dtype=bool) for name in wide}
    declined_sum = {name: np.zeros(len(ids), dtype=np.int64) for name in wide}
    column = {name: np.full(n_items, -1) for name in wide}
    for name, (names, _) in wide.items():
        column[name][[items.index(i) for i in names]] = np.arange(len(names))
    # the answers kept, written in place: room for every row of the table, of which only the
    # pages written take memory (no chunks to join, no second copy); texts by chunk
    total = conn.execute("SELECT count(*) FROM answers").fetchone()[0]
    kept = [np.empty(total, dtype=t) for t in (np.int64, np.int32, np.int32, np.int32, float,
                                               np.int64 if exact else np.int8)]  # fmt: skip
    kept_text: list[tuple[np.ndarray, np.ndarray]] = []
    filled = 0
    seen: dict[str, str] = {}
    # each session's row, looked up in a table of the ids when they are small (rowids)
    position = None
    if len(ids) and ids[0] >= 0 and ids[-1] < 4 * len(ids) + 4096:
        position = np.full(int(ids[-1]) + 2, -1, dtype=np.int64)
        position[ids] = np.arange(len(ids))
    profile: list[tuple[np.ndarray, ...]] = []
    for low, high in _row_ranges(conn, "answers"):
        row = conn.execute(sql, (low, high)).fetchone()
        packed = _ints(row[1])
        coded, rest = (packed & (2**32 - 1)) - 2**31, packed >> 32
        declined, rest = rest % 4, rest // 4
        if exact:
            declined = _ints(row[3])
        elif (declined == 2).any():
            return "declined"
        has_text, rest = rest % 2 == 1, rest // 2
        task, rest = rest % n_tasks - 1, rest // n_tasks
        item, questionnaire = rest % n_items, rest // n_items
        if ((task < 0) & np.isin(questionnaire, block_codes)).any():
            return "task"
        is_profile = questionnaire == code["profile"]
        if ((item == 0) & is_profile).any():
            return "item"
        sid = _ints(row[0])
        value = np.where(coded == 0, np.nan, (coded - 1) // 2)
        text = np.full(len(packed), None, dtype=object)
        if has_text.any():
            # one string per distinct text (the options chosen): shared, not one per answer
            text[has_text] = [seen.setdefault(x, x) for x in json.loads(row[2])]
        if position is not None and (not len(sid) or sid.min() >= 0):
            found = np.take(position, sid, mode="clip")  # past the top: the last, -1
            known = found >= 0
            at = np.maximum(found, 0)
        else:
            at = np.searchsorted(ids, sid).clip(max=max(len(ids) - 1, 0))
            known = ids[at] == sid if len(ids) else np.zeros(len(sid), dtype=bool)
        for name, (_, grid) in wide.items():
            mine = known & (questionnaire == code[name]) & (task == 0)
            present[name][at[mine]] = True
            declined_sum[name] += np.bincount(at[mine], weights=declined[mine],
                                              minlength=len(ids)).astype(np.int64)  # fmt: skip
            col = column[name][item]
            fill = mine & (col >= 0)
            grid[at[fill], col[fill]] = value[fill]
        if is_profile.any():
            profile.append((sid[is_profile], item[is_profile].astype(np.int32),
                            value[is_profile], (declined[is_profile] != 0).astype(np.int8),
                            text[is_profile]))  # fmt: skip
        keep = np.isin(questionnaire, kept_codes)
        k = int(keep.sum())
        if filled + k > total:  # more rows than counted: not a snapshot (cannot happen)
            raise AnalysisError("the answers changed while they were read — try again")
        for out, got in zip(kept, (sid, questionnaire, item, task, value, declined), strict=True):
            out[filled : filled + k] = got[keep]
        with_text = np.flatnonzero(has_text[keep])  # only the rows that have one
        kept_text.append((filled + with_text, text[keep][with_text]))
        filled += k
    parts = [*(out[:filled] for out in kept),
             *([np.concatenate(c) for c in zip(*kept_text, strict=True)] if kept_text else
               [np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)])]
    sus, umux = (_Wide(ids[present[n]], wide[n][1][present[n]], declined_sum[n][present[n]])
                 for n in ("sus", "umux-lite"))  # fmt: skip
    answers = _Answers(sus=sus, umux=umux, session_id=parts[0], questionnaire=parts[1],
                       item=parts[2], task=parts[3], value=parts[4], declined=parts[5],
                       text_rows=parts[6], text_values=parts[7].astype(object, copy=False),
                       questionnaires=questionnaires, items=items, task_ids=tasks)  # fmt: skip
    return answers, (_profile_wide(items, *(_concatenate(profile, i) for i in range(5)))
                     if profile else None)  # fmt: skip


def _concatenate(chunks: list[Any], i: int) -> np.ndarray:
    """Column ``i`` of the chunks read, joined; each chunk's column is let go as it is copied
    (so the columns are never all there twice)."""
    out = np.concatenate([c[i] for c in chunks])
    for n, c in enumerate(chunks):
        chunks[n] = (*c[:i], None, *c[i + 1 :])
    return out


def _read_errors(conn: sqlite3.Connection, versions: list[Scenario], task_ids: list[str]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]:  # fmt: skip
    """Each error's session, task and type (indices into the two lists returned)."""
    tasks = list(task_ids)
    types = list(dict.fromkeys(e.name for v in versions for e in v.error_types))
    while True:
        sql = (f"SELECT group_concat(session_id), group_concat({_case('task_id', tasks)}"
               f" * {len(types) + 1} + {_case('type_name', types)} + 1) FROM errors"
               " WHERE rowid > ? AND rowid <= ?")  # fmt: skip
        parts: list[tuple[np.ndarray, ...]] = []
        for low, high in _row_ranges(conn, "errors"):
            row = conn.execute(sql, (low, high)).fetchone()
            packed = _ints(row[1])
            task, kind = packed // (len(types) + 1), packed % (len(types) + 1) - 1
            parts.append((_ints(row[0]), task.astype(np.int32), kind.astype(np.int32)))
            if (task < 0).any() or (kind < 0).any():
                break
        else:
            break
        tasks = _distinct(conn, "SELECT DISTINCT task_id FROM errors", tasks)
        types = _distinct(conn, "SELECT DISTINCT type_name FROM errors", types)
    sid, task, kind = ([np.concatenate(c) for c in zip(*parts, strict=True)] if parts else
                       [np.zeros(0, dtype=np.int64)] * 3)  # fmt: skip
    return sid, task, kind, tasks, types


def _profile_wide(items: list[str], sid: np.ndarray, item: np.ndarray, number: np.ndarray,
                  declined: np.ndarray, text: np.ndarray) -> pd.DataFrame:  # fmt: skip
    """The profile answers (rows in rowid order) as ``pivot_table(index=session_id,
    columns=item, aggfunc='first')`` gives them: per session and question the first answer
    given (a choice or text as it stands, a number as text), sessions and questions with none
    left out."""
    value = text.copy()
    is_number = pd.isna(value) & ~np.isnan(number)
    # few distinct numbers (ages, years): each written as text once
    distinct, where = np.unique(number[is_number], return_inverse=True)
    value[is_number] = np.array([str(int(v)) for v in distinct.tolist()],
                                dtype=object)[where.reshape(-1)]  # fmt: skip
    keep = (declined == 0) & ~pd.isna(value)
    sid, item, value = sid[keep], item[keep], value[keep]
    # the first answer per (session, question), in row order
    _, first = np.unique(sid * len(items) + item, return_index=True)
    sessions, row_of = np.unique(sid[first], return_inverse=True)
    codes = np.unique(item)
    names = [items[i] for i in codes.tolist()]
    by_name = np.argsort(np.array(names, dtype=object), kind="stable")
    column_of = np.empty(len(codes), dtype=np.int64)
    column_of[by_name] = np.arange(len(codes))
    grid = np.full((len(sessions), len(codes)), None, dtype=object)
    grid[row_of, column_of[np.searchsorted(codes, item[first])]] = value[first]
    return pd.DataFrame(grid, index=pd.Index(sessions, name="session_id"),
                        columns=pd.Index([names[i] for i in by_name], name="item"))  # fmt: skip


def _read_for_summary(db_path: str | Path) -> SummaryTables:
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
    _attempts: pd.DataFrame | Callable[[], pd.DataFrame] = field(default_factory=pd.DataFrame,
                                                                repr=False)  # fmt: skip
    _counts: Callable[[str], _TaskCounts] | None = field(default=None, repr=False)
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

    @property
    def attempts(self) -> pd.DataFrame:
        """The attempts counted: participant, condition, task_id, outcome, success, time_s, …
        (built when first read: the summary's figures do not need it)."""
        if callable(self._attempts):
            self._attempts = self._attempts()
        return self._attempts

    def task_counts(self, task_id: str) -> _TaskCounts:
        """The attempts of one task as ``attempts`` counts them (n, successes, and the times
        the summary uses), from the summary's arrays without building ``attempts``."""
        if self._counts is None:
            raise AnalysisError("a Summary is made by summarise(), which counts its attempts")
        return self._counts(task_id)

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
            "profile": profile_records(self.sessions),
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


def _profile_columns(sessions: pd.DataFrame) -> list[str]:
    return [c for c in sessions.columns if c.startswith(PROFILE_PREFIX)]


def profile_records(sessions: pd.DataFrame) -> list[dict[str, Any]]:
    """Each participant's profile answers (``[]`` when the scenario asks none), as recorded
    (``None`` where declined or not asked)."""
    cols = _profile_columns(sessions)
    if not cols:
        return []
    return [{"participant": str(r["participant"]),
             **{c.removeprefix(PROFILE_PREFIX): r[c] for c in cols}}
            for r in sessions[["participant", *cols]].to_dict(orient="records")]  # fmt: skip


def profile_table(sessions: pd.DataFrame) -> pd.DataFrame:
    """:func:`profile_records` as a table, made column by column (an export's, at any size):
    participant, then one column per question; only ``participant``, and no row, when none is
    asked. pandas types the columns as it types the records (a missing text is then NaN)."""
    cols = _profile_columns(sessions)
    if not cols or not len(sessions):
        return pd.DataFrame(columns=["participant"])
    return pd.DataFrame({"participant": sessions["participant"].to_numpy(dtype=object),
                         **{c.removeprefix(PROFILE_PREFIX): sessions[c].to_numpy(dtype=object)
                            for c in cols}})  # fmt: skip


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


def _with_profile(sessions: pd.DataFrame, wide: pd.DataFrame | None) -> pd.DataFrame:
    """The sessions with one column ``profile.ID`` per profile question answered in any of
    them (``wide``: :func:`_profile_wide`): the chosen option, the text, or the number (as
    text, so groups compare alike); ``None`` where declined or not asked."""
    if wide is None:
        return sessions
    # as a left merge on the id, then None for every missing answer (the sessions' own columns
    # are left as they are, not copied)
    at = _positions(wide.index, sessions["id"].to_numpy())
    columns = {}
    for name in wide.columns:
        # one Python string per distinct answer, shared by the sessions that gave it
        codes, distinct = pd.factorize(wide[name])  # a missing answer: -1
        values = np.append(np.asarray(distinct, dtype=object), None)  # [-1] is None
        column = values[np.where(at >= 0, codes[at] if len(codes) else -1, -1)]
        columns[PROFILE_PREFIX + str(name)] = pd.Series(column, index=sessions.index, dtype=object)
    return sessions.assign(**columns)


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
        seen = set(everyone[column].dropna().unique())
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
        known = set(sessions["condition"].dropna().unique())
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
    t: SummaryTables, *, condition: str | None = None,
    participants: Iterable[str] | None = None, since: str | date | None = None,
    until: str | date | None = None, include_unfinished: bool = False, times: str = "success",
    confidence: float = 0.95, profile: dict[str, list[str]] | None = None,
    group: tuple[str, str] | None = None,
) -> Summary:  # fmt: skip
    """:func:`summarise` on tables already read (:func:`compare` reads them once for all)."""
    if times not in ("success", "all"):
        raise AnalysisError("times is 'success' (successful attempts) or 'all'")
    # the profile answers are joined to the sessions before the filters that read them, else
    # only to the sessions kept (the same rows and columns, fewer copied)
    late = not profile and group is None
    sessions = _select_sessions(
        t.sessions if late else _with_profile(t.sessions, t.profile), condition=condition,
        participants=participants, since=since, until=until,
        include_unfinished=include_unfinished, profile=profile, group=group,
    ).reset_index(drop=True)  # fmt: skip
    if late:
        sessions = _with_profile(sessions, t.profile)
    chosen_ids = np.sort(sessions["id"].to_numpy(dtype=np.int64))
    # Each task from the versions the sessions ran (a task removed later keeps its row, with
    # the sessions that had it); with no session, the newest version's tasks at n = 0.
    every = _versions(t.scenarios)
    ran = [v for v in every if v.id in set(sessions["scenario_id"])] or every[-1:]
    scenario = ran[-1].scenario if ran else None
    study = scenario.study if scenario else ""
    sessions["version"] = sessions["scenario_id"].map({v.id: v.number for v in every})
    task_defs = {task.id: task for v in ran for task in v.scenario.tasks}  # the newest wins
    partial_ok = {v.id for v in ran if v.scenario.partial_counts_as_success}
    partial_ids = np.sort(sessions.loc[sessions["scenario_id"].isin(partial_ok), "id"]
                          .to_numpy(dtype=np.int64))  # fmt: skip

    who = sessions.set_index("id")
    a = t.attempts
    mine_a = _member(a.session_id, chosen_ids)
    success = (a.outcome == 0) | ((a.outcome == 1) & _member(a.session_id, partial_ids))
    targets = scenario.targets if scenario and scenario.targets else None
    q = t.answers
    mine_q = _member(q.session_id, chosen_ids)
    rows = []
    for task_id in task_order([v.scenario for v in ran]):
        code = a.task_ids.index(task_id) if task_id in a.task_ids else -2
        at = np.flatnonzero(mine_a & (a.task == code))
        row = _task_row_arrays(task_id, task_defs[task_id].title, a, at, success[at], times,
                               confidence)  # fmt: skip
        task_code = q.task_ids.index(task_id) if task_id in q.task_ids else -2
        row |= _task_scores(q, mine_q & (q.task == task_code), confidence)
        seq = a.seq[at]
        row |= _task_targets(row, task_defs[task_id], targets,
                             _timed_arrays(a, at, success[at], times),
                             seq[seq > 0].astype(float))  # fmt: skip
        rows.append(row)
    tasks = pd.DataFrame(rows)
    session_rows = mine_q & (q.task == 0)
    # the participant codes as Python strings, made once for every table that lists them
    names = pd.Series(sessions["participant"].to_numpy(dtype=object), index=who.index)
    custom, free_text = _custom(q, mine_q, names, _blocks(ran), task_defs,
                                confidence)  # fmt: skip

    mine_e = _member(t.errors_sid, chosen_ids)
    if mine_e.any():  # the count per (task, type), ordered as a group-by orders them
        n_types = len(t.error_types)
        keys, counts = np.unique(t.errors_task[mine_e].astype(np.int64) * n_types
                                 + t.errors_type[mine_e], return_counts=True)  # fmt: skip
        errors_by_type = pd.DataFrame(sorted(
            (t.error_tasks[k // n_types], t.error_types[k % n_types], c)
            for k, c in zip(keys.tolist(), counts.tolist(), strict=True)),
            columns=["task_id", "type_name", "count"])  # fmt: skip
    else:
        errors_by_type = pd.DataFrame(columns=["task_id", "type_name", "count"])

    code = who["participant"]
    sus, sus_summary = _sus(q.sus.complete(chosen_ids), names, confidence)
    sus_summary |= _target_test(sus["sus"].to_numpy(dtype=float), _target(targets, "sus"))
    mine_n = _member(t.notes["session_id"].to_numpy(dtype=np.int64), chosen_ids)
    problem = t.notes["kind"] == "problem"
    # only the columns each table shows are copied
    problems = _problems(t.notes.loc[mine_n & problem, ["session_id", "task_id", "text",
                                                        "severity"]], len(chosen_ids))  # fmt: skip
    remarks = t.notes.loc[mine_n & ~problem, ["session_id", "task_id", "kind", "text",
                                              "logged_at", "author"]].assign(
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
        umux_lite=_umux_lite(q.umux.complete(chosen_ids), confidence,
                             _target(targets, "umux_lite")),
        nps=_nps(q, mine_q),
        _attempts=lambda: _attempts_frame(t, mine_a, success, who),
        _counts=lambda task_id: _task_counts(a, mine_a, success, times, task_id),
        notes=remarks, scenario=scenario,
        task_defs=task_defs, versions=_version_entries(every, ran, sessions, names),
        csat=_score(q, session_rows, "csat", confidence, _target(targets, "csat")),
        ces=_score(q, session_rows, "ces", confidence, _target(targets, "ces")),
        custom=custom, free_text=free_text,
    )  # fmt: skip


def _member(values: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in ``sorted_ids`` (a sorted array)."""
    if not len(sorted_ids):
        return np.zeros(len(values), dtype=bool)
    top = int(sorted_ids[-1])
    if int(sorted_ids[0]) >= 0 and top < 4 * len(sorted_ids) + 4096:
        # ids are small (rowids): one look-up in a table of them, no search
        table = np.zeros(top + 2, dtype=bool)
        table[sorted_ids] = True
        if not len(values) or values.min() >= 0:  # past the top: the last, False
            return np.take(table, values, mode="clip")
        return table[values.clip(-1, top + 1)]  # -1: the last, False
    at = np.searchsorted(sorted_ids, values).clip(max=len(sorted_ids) - 1)
    return sorted_ids[at] == values


def _positions(index: pd.Index, keys: np.ndarray) -> np.ndarray:
    """``index.get_indexer(keys)`` (-1: not there); on sorted ids by a binary search, without
    the hash table pandas would build and keep on the index."""
    if not (index.is_unique and index.is_monotonic_increasing and index.dtype == np.int64):
        return index.get_indexer(keys)
    labels = index.to_numpy()
    if not len(labels):
        return np.full(len(keys), -1, dtype=np.intp)
    at = np.searchsorted(labels, keys).clip(max=len(labels) - 1)
    return np.where(labels[at] == keys, at, -1)


def _lookup(series: pd.Series, keys: np.ndarray) -> np.ndarray:
    """``series[k]`` for each of ``keys`` (labels of its index), as objects: what mapping the
    keys through it gives (nan for a key it does not have), in vector operations."""
    values = series.to_numpy(dtype=object)
    at = _positions(series.index, keys)
    out = values[at] if len(values) else np.full(len(at), np.nan, dtype=object)
    out[at < 0] = np.nan
    return out


def _attempts_frame(t: SummaryTables, mine: np.ndarray, success: np.ndarray,
                    who: pd.DataFrame) -> pd.DataFrame:  # fmt: skip
    """The attempts counted, as the summary's ``attempts`` table (built when first read)."""
    a = t.attempts
    columns = ["session_id", "task_id", "outcome", "time_ms", "errors", "assists", "seq_rating"]
    if not len(a.session_id):  # as pandas reads no rows: every column of objects
        raw = pd.DataFrame(columns=columns)
    else:
        # the SEQ column as pandas reads it from SQL: whole numbers, floats if any is missing,
        # objects (None) if all are
        seq: Any = a.seq[mine].astype(np.int64)
        if (a.seq == 0).all():
            seq = np.full(len(seq), None, dtype=object)
        elif (a.seq == 0).any():
            seq = np.where(seq > 0, seq, np.nan)
        raw = pd.DataFrame({
            "session_id": a.session_id[mine], "task_id": np.array(a.task_ids)[a.task[mine]],
            "outcome": np.array(_OUTCOMES)[a.outcome[mine]], "time_ms": a.time_ms[mine],
            "errors": a.errors[mine].astype(np.int64), "assists": a.assists[mine].astype(np.int64),
            "seq_rating": seq,
        })  # fmt: skip
        raw = raw.astype({"task_id": "str", "outcome": "str"})
    out = raw.copy()
    out["participant"] = out["session_id"].map(who["participant"])
    out["condition"] = out["session_id"].map(who["condition"])
    out["success"] = success[mine] if len(a.session_id) else out["outcome"] == "success"
    out["time_s"] = out["time_ms"] / 1000
    return out.drop(columns=["time_ms"]).rename(columns={"seq_rating": "seq"}).reset_index(drop=True)


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


def _version_entries(every: list[_Version], ran: list[_Version], sessions: pd.DataFrame,
                     names: pd.Series) -> list[dict[str, Any]]:  # fmt: skip
    """Per version the sessions analysed ran: who ran it, its tasks, and what changed since the
    version before it in the database (docs/analysis.md, "Versions of a study")."""
    entries = []
    for v in ran:
        codes = names.to_numpy()[(sessions["scenario_id"] == v.id).to_numpy()].tolist()
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


def _task_row_arrays(
    task_id: str, title: str, a: _Attempts, at: np.ndarray, success: np.ndarray, times: str,
    confidence: float,
) -> dict[str, Any]:  # fmt: skip
    """One task's completion, time, errors, assists and SEQ (the module docstring's rules):
    ``at`` are the task's attempts (rows of ``a``, in rowid order), ``success`` theirs."""
    n = len(at)
    assists, errors = a.assists[at], a.errors[at]
    k = int(success.sum())
    alone = int((success & (assists == 0)).sum())
    quit_ = int((a.outcome[at] == _OUTCOMES.index("abandoned")).sum())
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
    secs = _timed_arrays(a, at, success, times)
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
    # means of whole numbers: the sum is exact, so these equal pandas' means bit for bit
    row["errors_per_attempt"] = float(errors.mean()) if n else math.nan
    row["share_with_errors"] = float((errors > 0).mean()) if n else math.nan
    row["assists_per_attempt"] = float(assists.mean()) if n else math.nan
    seq = a.seq[at]
    seq = seq[seq > 0].astype(np.int64)
    m, lo, hi = stats.seq_summary(seq, confidence) if len(seq) else (math.nan,) * 3
    lo, hi = stats.clipped(lo, hi, 1, 7)
    row |= {"seq_n": len(seq), "seq_mean": m, "seq_low": lo, "seq_high": hi}
    return row


def _timed_arrays(a: _Attempts, at: np.ndarray, success: np.ndarray, times: str) -> np.ndarray:
    """The task times (s) the summary uses, of the attempts ``at`` of ``a`` (in that order):
    the successful ones (``success``: theirs), or all with ``times='all'``."""
    secs = (a.time_ms[at][success] if times == "success" else a.time_ms[at]) / 1000
    return secs[secs > 0]


class _TaskCounts(NamedTuple):
    n: int
    """The task's attempts counted …"""
    successes: int
    secs: np.ndarray
    """… and the times (s) the summary uses (:func:`_timed_arrays`), in rowid order."""


def _task_counts(a: _Attempts, mine: np.ndarray, success: np.ndarray, times: str,
                 task_id: str) -> _TaskCounts:  # fmt: skip
    """The rows of the summary's attempts table whose task is ``task_id``, counted as
    :func:`_compare_task` counts them, from the arrays (``mine``: the summary's attempts,
    ``success``: every attempt's)."""
    code = a.task_ids.index(task_id) if task_id in a.task_ids else -2
    at = np.flatnonzero(mine & (a.task == code))
    return _TaskCounts(len(at), int(success[at].sum()), _timed_arrays(a, at, success[at], times))


def _left_out(wide: _Reached, declined_ok: int) -> dict[str, int]:
    """Who reached the questionnaire but has no score, and why (see :func:`left_out_note`)."""
    unanswered = int((wide.unanswered > 0).sum())
    declined = int(((wide.unanswered == 0) & (wide.declined > declined_ok)).sum())
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
    wide: _Reached, code: pd.Series, confidence: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """SUS per participant, and for the study.

    All ten items answered: the standard score. One item declined: the other nine × 100/36
    (Lewis & Sauro 2017, "Can I leave this one out?", JUS 13(1), 38–46; ``items_scored`` 9,
    and the sub-scale lacking the item is nan). Two or more declined, or an item not answered:
    no score; ``left_out`` counts them by reason.
    """
    scored = (wide.unanswered == 0) & (wide.declined <= 1)
    declined = wide.declined[scored]
    # the answers were range-checked when recorded; stats.sus_scores checks them again (a row
    # at a time: in blocks, so that its arrays and the answers copied stay small)
    rows = np.flatnonzero(scored)
    blocks = [stats.sus_scores(wide.answers(rows[i : i + 32768]).reshape(-1, 10))
              for i in range(0, len(rows), 32768)]  # fmt: skip
    scores, learn, usab = ([np.concatenate(c) for c in zip(*blocks, strict=True)] if blocks
                           else stats.sus_scores(wide.answers(rows).reshape(-1, 10)))  # fmt: skip
    sus = pd.DataFrame({
        "participant": _lookup(code, wide.session_id[scored]), "sus": scores,
        "learnability": learn, "usability": usab,
        # few distinct scores (multiples of 2.5, or of 100/36): grade each once
        "grade": pd.Series(scores).map({x: stats.sus_grade(x) for x in set(scores.tolist())}),
        "items_scored": (10 - declined).astype(int),
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
    summary["prorated"] = int((declined == 1).sum())
    summary |= _left_out(wide, declined_ok=1)
    return sus, summary


def _umux_lite(wide: _Reached, confidence: float,
               target: tuple[float, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """UMUX-Lite mean with its t interval, and the mean mapped onto the SUS scale.

    Only participants who rated both items: the UMUX-Lite has two items and no published
    proration (Lewis, Utesch & Maher 2013 score the pair), so a declined item leaves that
    participant without a score; ``left_out`` counts them.
    """
    pairs = wide.answers((wide.declined == 0) & (wide.unanswered == 0)).astype(np.int64)
    # 49 possible pairs at most: score each once (stats.umux_lite checks them)
    scores = np.zeros(0)
    if len(pairs) and pairs.min() >= 0 and pairs.max() < 16:  # the usual 1–7: no sort
        code = pairs[:, 0] * 16 + pairs[:, 1]
        table = np.zeros(256)
        for k in np.flatnonzero(np.bincount(code, minlength=256)).tolist():
            table[k] = stats.umux_lite(k // 16, k % 16)
        scores = table[code]
    elif len(pairs):
        distinct, where = np.unique(pairs, axis=0, return_inverse=True)
        scores = np.array([stats.umux_lite(a, b) for a, b in distinct.tolist()],
                          dtype=float)[where.reshape(-1)]  # fmt: skip
    out: dict[str, Any] = {"n": len(scores)}
    if len(scores):
        mean, low, high = stats.mean_ci(scores, confidence)
        low, high = stats.clipped(low, high, 0, 100)
        out |= {"mean": mean, "low": low, "high": high,
                "sus_equivalent": stats.umux_lite_sus(mean)}  # fmt: skip
    return out | _left_out(wide, declined_ok=0) | _target_test(scores, target)


def _nps(q: _Answers, mine: np.ndarray) -> dict[str, Any]:
    """Net Promoter Score with its promoter / passive / detractor counts.

    One question: a participant who declined it has no rating and is left out (counted in
    ``left_out``), not given a made-up one.
    """
    rows = mine & q.where("nps") & (q.item == q.items.index("nps"))
    declined = (q.declined[rows] != 0) | np.isnan(q.value[rows])
    ratings = q.value[rows][~declined].astype(np.int64)
    out: dict[str, Any] = {"n": len(ratings)}
    if len(ratings):
        promoters = int((ratings >= 9).sum())
        detractors = int((ratings <= 6).sum())
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
                  seq: np.ndarray) -> dict[str, Any]:  # fmt: skip
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
        values = np.asarray(seq, dtype=float)
        test = (stats.mean_target_test(values, goal) if len(values)
                else stats.TargetTest(math.nan, math.nan))  # fmt: skip
        out |= {"target_seq": goal, "target_seq_source": source, "target_seq_p": test.p_value,
                "target_seq_confidence": test.confidence}
    else:
        out |= dict.fromkeys(_TARGET_KEYS["seq"], None)
    return out


_SCORES = {"csat": ("satisfied_share", stats.csat_summary),
           "ces": ("agree_share", stats.ces_summary)}  # fmt: skip


def _ratings(q: _Answers, rows: np.ndarray, questionnaire: str) -> tuple[np.ndarray, int]:
    """The ratings given to a one-item questionnaire among the answers ``rows`` (a mask), in
    row order, and how many declined it."""
    chosen = rows & q.where(questionnaire)
    declined = (q.declined[chosen] != 0) | np.isnan(q.value[chosen])
    return q.value[chosen][~declined], int(declined.sum())


def _score(q: _Answers, rows: np.ndarray, name: str, confidence: float,
           target: tuple[float, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """CSAT (top-two-box share and mean) or CES 2.0 (mean and share agreeing) with the t
    interval of the mean, clipped to the scale (:func:`usetest.stats.csat_summary`,
    :func:`usetest.stats.ces_summary`); a declined answer is left out and counted."""
    share, summary = _SCORES[name]
    values, declined = _ratings(q, rows, name)
    out: dict[str, Any] = {"n": len(values)}
    if len(values):
        r = summary(values, confidence)
        out |= {"mean": r.mean, "low": r.low, "high": r.high, share: r.share}
    out |= {"left_out": declined, "left_out_declined": declined, "left_out_unanswered": 0}
    return out | _target_test(values, target)


def _task_scores(q: _Answers, rows: np.ndarray, confidence: float) -> dict[str, Any]:
    """CSAT and CES asked after one task (its answers: ``rows``), as the task row's columns."""
    out: dict[str, Any] = {}
    for name, (share, _) in _SCORES.items():
        r = _score(q, rows, name, confidence)
        out |= {f"{name}_n": r["n"], f"{name}_mean": r.get("mean", math.nan),
                f"{name}_low": r.get("low", math.nan), f"{name}_high": r.get("high", math.nan),
                f"{name}_{share}": r.get(share, math.nan)}  # fmt: skip
    return out


def _blocks(ran: list[_Version]) -> dict[str, Any]:
    """The study's own questionnaires by id, as the newest version that has each defines it."""
    return {q.id: q for v in ran for q in v.scenario.questionnaires if not isinstance(q, str)}


def _custom(q: _Answers, mine: np.ndarray, participant: pd.Series, blocks: dict[str, Any],
            task_defs: dict[str, Task], confidence: float,
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Every answer to the study's own questions (``mine``: the sessions' answers): per rating
    item (and per task it was asked after) n, mean with its t interval clipped to 1–points,
    and the count per scale point; per free-text question the answers, each with its
    participant. Blocks in scenario order, asked after the session first, then after each task
    in task order."""
    likert, texts = [], []
    order = {task_id: i for i, task_id in enumerate(task_defs, start=1)}
    names = list(blocks)
    code = {q.questionnaires.index(b): b for b in names if b in q.questionnaires}
    rows = np.flatnonzero(mine & np.isin(q.questionnaire, list(code)))
    n_tasks = len(q.task_ids)
    keys = q.questionnaire[rows] * n_tasks + q.task[rows]
    groups = [(code[k // n_tasks], q.task_ids[k % n_tasks], k) for k in np.unique(keys).tolist()]
    for qid, task_id, k in sorted(sorted(groups), key=lambda g: (names.index(g[0]),
                                                                 order.get(g[1], 0))):  # fmt: skip
        group = rows[keys == k]
        for item in blocks[qid].items:
            at = group[q.item[group] == q.items.index(item.id)] if item.id in q.items else group[:0]
            declined = q.declined[at] != 0
            where = {"questionnaire": qid, "item": item.id, "text": item.text, "task_id": task_id}
            if item.type == "text":
                given = at[~declined & np.array([x is not None for x in q.texts(at)], dtype=bool)]
                texts.append(where | {"answers": [
                    {"participant": str(p), "text": str(x)}
                    for p, x in zip(_lookup(participant, q.session_id[given]), q.texts(given),
                                    strict=True)],
                    "declined": int(declined.sum())})  # fmt: skip
                continue
            values = q.value[at][~declined & ~np.isnan(q.value[at])]
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
            "problem": text,
            "tasks": ", ".join(sorted({str(x) for x in group["task_id"].dropna().unique()})),
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


def _groups(t: SummaryTables, by: str, filters: dict[str, Any]) -> list[str]:
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


def _profile_groups(t: SummaryTables, field_id: str) -> list[str]:
    """The answers given to a profile question, in its option order (then any others)."""
    sessions = _with_profile(t.sessions, t.profile)
    column = _profile_column(sessions, field_id)
    asked = [q for v in reversed(_versions(t.scenarios)) for q in v.scenario.profile
             if q.id == field_id]  # fmt: skip
    if asked and asked[0].type != "choice":
        raise AnalysisError(
            f"cannot split by {field_id!r}: it is a {asked[0].type} question, so nearly every "
            f"participant would be a group of their own — split by a choice question, or keep "
            f"some answers with --profile {field_id}=VALUE")  # fmt: skip
    seen = set(sessions[column].dropna().unique())
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
    t: SummaryTables, *, confidence: float = 0.95, by: str | None = None,
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
    t: SummaryTables, conditions: list[str], confidence: float, filters: dict[str, Any],
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


def _conditions(t: SummaryTables) -> list[str]:
    """The conditions with sessions, in the scenario file's order (the newest version's first,
    then those only older versions declare; any others after, sorted)."""
    seen = set(t.sessions["condition"].dropna().unique())
    declared = list(dict.fromkeys(c for v in reversed(_versions(t.scenarios))
                                  for c in v.scenario.conditions))  # fmt: skip
    return [c for c in declared if c in seen] + sorted(seen - set(declared))


def _compare_task(
    task_id: str, a: str, b: str, sa: Summary, sb: Summary, confidence: float
) -> dict[str, Any]:
    # each side's attempts of the task (both summaries were made with the same filters)
    (na, xa, secs_a), (nb, xb, secs_b) = sa.task_counts(task_id), sb.task_counts(task_id)
    row: dict[str, Any] = {"task_id": task_id, "a": a, "b": b, "n_a": na, "n_b": nb}
    notes = []
    if na and nb:
        c = stats.two_proportion_test(xa, na, xb, nb, confidence)
        low, high = stats.clipped(c.low, c.high, -1, 1)
        row |= {"completion_a": xa / na, "completion_b": xb / nb,
                "completion_difference": c.difference, "completion_difference_low": low,
                "completion_difference_high": high, "completion_p": c.p_value}  # fmt: skip
    else:
        notes.append("completion: no attempts on one side")
    if len(secs_a) >= 2 and len(secs_b) >= 2:
        c = stats.log_time_test(secs_a, secs_b, confidence)
        row |= {"time_ratio": math.exp(c.difference), "time_ratio_low": math.exp(c.low),
                "time_ratio_high": math.exp(c.high), "time_p": c.p_value}  # fmt: skip
    else:
        notes.append("time: fewer than two timed attempts on one side")
    row["note"] = "; ".join(notes)
    return row


def _compare_sus(a: str, b: str, sa: Summary, sb: Summary, confidence: float) -> dict[str, Any]:
    scores_a, scores_b = sa.sus["sus"].to_numpy(dtype=float), sb.sus["sus"].to_numpy(dtype=float)
    row: dict[str, Any] = {"a": a, "b": b, "n_a": len(scores_a), "n_b": len(scores_b)}
    if len(scores_a) >= 2 and len(scores_b) >= 2:
        c = stats.welch_t(scores_a, scores_b, confidence)
        low, high = stats.clipped(c.low, c.high, -100, 100)
        row |= {"mean_a": sum(scores_a.tolist()) / len(scores_a),
                "mean_b": sum(scores_b.tolist()) / len(scores_b),
                "difference": c.difference, "difference_low": low,
                "difference_high": high, "t": c.statistic, "df": c.df, "p": c.p_value,
                "note": ""}  # fmt: skip
    else:
        row["note"] = "fewer than two SUS scores on one side"
    return row
