"""Tidy files for analysts: every table and the summary tables as CSV, JSON, Excel or Parquet.

One file per table (one sheet per table in a workbook), plus ``metadata.json`` saying what was
exported, from which database, and whether it was pseudonymised. Files are created 0600: they
hold participant data.

The database tables are streamed without pandas: rows are read in batches (``fetchmany``) and
written as they come — Parquet as Arrow record batches (pyarrow's ``ParquetWriter``), CSV
formatted by Arrow compute or, without pyarrow, by the csv module (the same bytes), JSON a
record at a time, xlsx a row at a time in openpyxl's write-only mode — so memory stays flat on
large studies. The summary tables come once from :mod:`usetest.analysis` (small DataFrames).

Everything comes from one read transaction (the files and ``metadata.json`` agree, even while a
session is being logged) and goes through :mod:`usetest.outfiles` (no planted link followed;
written under temporary names, renamed when all are complete). Text cells that a spreadsheet
would run as formulas are neutralised in CSV and xlsx unless ``raw_formulas=True``.

Every column has one kind (:data:`KINDS`: UTC timestamp, boolean, nullable integer, float,
text), planned once per table (:func:`_db_plan`) and written alike in every format; the workbook
adds an About sheet and number formats (:func:`xlsx_format`). :func:`export_studies` writes
several studies into one Parquet dataset partitioned by study.

``pseudonymise=True`` replaces participant codes (``p-…``) and moderator names (``m-…``) by
salted SHA-256 hashes (the same code gives the same hash within one export, so rows still join) and drops free text: notes' text, error
notes, free-text answers, and the events' JSON payloads (which can hold both).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from usetest import __version__, collector, dictionary
from usetest.errors import UsetestError
from usetest.outfiles import OutputError, Staged, private_dir
from usetest.store import TABLES

FORMATS = ("csv", "json", "xlsx", "parquet", "vtt", "srt")
MARKER_FORMATS = ("vtt", "srt")
"""Recording markers: one subtitle file per session (:func:`export_markers`), not the tables."""
FREE_TEXT = {"notes": ["text", "author"], "errors": ["note"], "answers": ["value_text"],
             "events": ["payload"],
             # an observer's note and initials (personal data, like a moderator's name)
             "observer_notes": ["text", "observer"],
             # the host name of the app recording a session; who withdrew a participant, and why
             "sessions": ["owner"], "withdrawals": ["withdrawn_by", "reason"]}


class ExportError(UsetestError):
    """The export cannot be written as asked."""


class ExportInterrupted(ExportError):
    """ctrl-C during an export; the message says what was left."""

    exit_code = 130  # the shell's status for ctrl-C


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A text cell beginning with one of these is run as a formula by a spreadsheet (OWASP, "CSV
Injection"): ``=HYPERLINK(...)`` in a participant's note would arrive as a live link."""
FORMULA_FORMATS = ("csv", "xlsx")
"""The formats a spreadsheet opens; JSON and Parquet keep every text exactly."""


def _formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def _neutral(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def neutralised(df: Any) -> Any:
    """``df`` (a DataFrame) with every text cell that begins with :data:`FORMULA_START`
    prefixed with ``'`` (OWASP's rule): a spreadsheet shows the text instead of running it.
    Numbers stay numbers. (The export itself applies the same rule to its row stream.)"""
    import pandas as pd

    out = df
    for column in df.columns:
        values = df[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        if values.map(_formula_like).any():
            if out is df:
                out = df.copy()
            out[column] = pd.Series([_neutral(v) for v in values], index=values.index, dtype=object)
    return out


def pseudonym(code: str, salt: str) -> str:
    return "p-" + hashlib.sha256(f"{salt}\0{code}".encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# Column types: one plan per table, the same typed values in every format.

KINDS = ("timestamp", "bool", "int", "float", "text")
"""What a column holds. A timestamp is UTC (Parquet ``timestamp[ms, UTC]``; ISO 8601 with ``Z``
in CSV and JSON; an Excel date-time in xlsx); an int is a nullable integer (``7``, never
``7.0``); a bool is ``true``/``false``."""
FLAGS = frozenset({"over_time_limit", "declined"})
"""0/1 columns of the database, exported as booleans (``summary_custom.declined`` is a count)."""
SUMMARY_COUNTS = re.compile(
    r"(n|n_[ab]|\w+_n|successes\w*|abandoned|participants|tested|points|declined|items_scored"
    r"|prorated|left_out\w*|version|since_version|worst_severity|count_\d+)")
"""Summary columns that count (or rank) something: integers, also when a row has none."""
_NUMERIC_NAMES = re.compile(
    r"mean|low|high|sd|percentile|learnability|usability|sus|target|p|t|df|frequency|nps"
    r"|difference\w*|completion\w*|\w+_(p|s|low|high|mean|rate|share|confidence|ratio|per_attempt)"
    r"|target_\w+(?<!_source)|\w+_(score|equivalent)")
"""Summary columns that hold numbers: read so when no row has a value (else they are text)."""
_TIMESTAMP_TEXT = ("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][T ]"
                   "[0-9][0-9]:[0-9][0-9]*")  # fmt: skip
_CANONICAL_TEXT = "????-??-??T??:??:??.???Z"
"""How the store writes a moment (``2026-01-05T09:00:00.000Z``). The store's check of a file
(:func:`usetest.store.verify`, run by every read) has made sure that a moment is a text SQLite
reads as a time, so this pattern is enough to tell the store's own form: such a value is
written as it is; any other (a hand edit: ``2026-01-05 11:00+02:00``) is converted to it once."""


def is_timestamp_column(name: str) -> bool:
    """``at``, ``*_at`` and ``first_used`` hold moments (UTC)."""
    return name == "at" or name.endswith("_at") or name == "first_used"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class TablePlan:
    """How one database table is read and written: each column's kind, the columns kept as
    text because a value does not fit (``as_text``), the text columns holding other values
    (``to_text``: shown as text, as ``str`` gives them), and the moments not in the store's own
    form (``moments``: column -> {as stored: ISO 8601 UTC with milliseconds})."""

    def __init__(self, kinds: dict[str, str], as_text: list[str], to_text: set[str],
                 moments: dict[str, dict[str, str]]) -> None:  # fmt: skip
        self.kinds, self.as_text, self.to_text, self.moments = kinds, as_text, to_text, moments


def _db_plan(conn: Any, table: str) -> TablePlan:
    """Each column's kind from its SQLite type and name, and what a value that does not fit
    becomes (SQLite stores what it is given: a hand-edited database can hold ``"now"``, which
    SQLite reads as a time, in a time column: that column is exported as text, as stored).

    The store's check of every file it opens (:func:`usetest.store.verify`) has already made
    sure that INTEGER columns hold integers, TEXT columns texts and moments texts SQLite reads
    as times; what is left (a moment in another form than the store's, a flag other than 0 or
    1) is looked for in one scan of the table for all its columns at once, and only a table
    where it finds something is looked at column by column."""
    kinds: dict[str, str] = {}
    checks: dict[str, tuple[str, str]] = {}  # column -> (odd in the fast sense, misfit)
    to_text: set[str] = set()
    for _, name, sql_type, *_ in conn.execute(f"PRAGMA table_info({table})").fetchall():
        q = _quoted(name)
        sql_type = (sql_type or "").upper()
        if is_timestamp_column(name):
            kinds[name] = "timestamp"
            checks[name] = (
                f"NOT (typeof({q}) = 'text' AND {q} GLOB '{_CANONICAL_TEXT}')",
                f"NOT (typeof({q}) = 'text' AND {q} GLOB '{_TIMESTAMP_TEXT}' "
                f"AND julianday({q}) IS NOT NULL)")  # fmt: skip
        elif sql_type == "INTEGER" and name in FLAGS:
            kinds[name] = "bool"
            checks[name] = (f"NOT (typeof({q}) = 'integer' AND {q} IN (0, 1))",) * 2
        elif sql_type == "INTEGER":
            kinds[name] = "int"
        elif sql_type == "REAL":
            kinds[name] = "float"
            checks[name] = (f"typeof({q}) NOT IN ('integer', 'real')",) * 2
        else:
            kinds[name] = "text"
            if sql_type != "TEXT":  # no such column today: any value, shown as str shows it
                to_text.add(name)
    plan = TablePlan(kinds, [], to_text, {})
    if not checks:
        return plan
    anything = " OR ".join(f"({_quoted(c)} IS NOT NULL AND {odd})" for c, (odd, _) in checks.items())
    if conn.execute(f"SELECT 1 FROM {table} WHERE {anything} LIMIT 1").fetchone() is None:
        return plan
    for name, (odd, misfit) in checks.items():
        q = _quoted(name)
        if conn.execute(f"SELECT 1 FROM {table} WHERE {q} IS NOT NULL AND {odd} LIMIT 1"
                        ).fetchone() is None:  # fmt: skip
            continue
        bad = conn.execute(f"SELECT 1 FROM {table} WHERE {q} IS NOT NULL AND {misfit} LIMIT 1"
                           ).fetchone() is not None  # fmt: skip
        if not bad and kinds[name] == "timestamp":
            moments = {raw: _utc_ms(raw) for (raw,) in conn.execute(
                f"SELECT DISTINCT {q} FROM {table} WHERE {q} IS NOT NULL AND {odd}")}  # fmt: skip
            bad = None in moments.values()
            if not bad:
                plan.moments[name] = moments  # type: ignore[assignment]
        if bad:
            kinds[name] = "text"
            plan.as_text.append(name)
            plan.to_text.add(name)
    return plan


def _utc_ms(raw: str) -> str | None:
    """An ISO 8601 moment as the store writes it (UTC, milliseconds, ``Z``); a moment without
    an offset is UTC (as ``pandas.to_datetime(..., utc=True)`` reads it); None if it is none."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _frame_kinds(df: Any) -> dict[str, str]:
    """Each summary column's kind, from its name and values (the summary tables are small)."""
    import pandas as pd

    kinds = {}
    for column in df.columns:
        name, values = str(column), df[column]
        present = values.dropna()
        dtype_kind = getattr(values.dtype, "kind", "O")
        if dtype_kind in "iuf":  # a numpy column of numbers: no need to look at each value
            numbers = True
        else:
            numbers = all((isinstance(v, (int, float)) and not isinstance(v, bool))
                          or (hasattr(v, "dtype") and v.dtype.kind in "iuf") for v in present)  # fmt: skip
        counts = SUMMARY_COUNTS.fullmatch(name) and numbers
        if is_timestamp_column(name) and _all_timestamps(present):
            kinds[name] = "timestamp"
        elif pd.api.types.is_bool_dtype(values):
            kinds[name] = "bool"
        elif pd.api.types.is_integer_dtype(values) or (
                counts and (_whole(present.to_numpy()) if dtype_kind == "f"
                            else all(float(v).is_integer() for v in present))):  # fmt: skip
            kinds[name] = "int"
        elif len(present):
            kinds[name] = "float" if numbers else "text"
        else:  # no row has a value: the name says
            kinds[name] = "float" if _NUMERIC_NAMES.fullmatch(name) else "text"
    return kinds


def _whole(values: Any) -> bool:
    """Whether every float is a whole number (as ``float.is_integer``: inf is not)."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        return bool(np.all(np.mod(values, 1) == 0))


def _all_timestamps(values: Any) -> bool:
    import pandas as pd

    if not all(isinstance(v, str) for v in values):
        return False
    return not pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce").isna().any()


def typed(df: Any, kinds: dict[str, str]) -> Any:
    """``df`` (a summary DataFrame) with each column converted to its kind: timestamps
    ``datetime64[ms, UTC]``, ints ``Int64``, bools ``boolean`` (both nullable), floats
    ``float64``, texts ``object`` holding ``str`` or ``None``."""
    import pandas as pd

    out = {}
    for column in df.columns:
        values, kind = df[column], kinds.get(str(column), "text")
        if kind == "timestamp":
            values = pd.to_datetime(values, utc=True, format="ISO8601").astype("datetime64[ms, UTC]")
        elif kind == "int":
            values = pd.to_numeric(values.astype(object).where(values.notna(), None)).astype("Int64")
        elif kind == "bool":
            values = pd.to_numeric(values.astype(object).where(values.notna(), None)
                                   ).astype("Int64").astype("boolean")  # fmt: skip
        elif kind == "float":
            values = pd.to_numeric(values.astype(object).where(values.notna(), None)).astype("float64")
        else:
            values = pd.Series([v if v is None or isinstance(v, str) else _as_text(v)
                                for v in values.astype(object).where(values.notna(), None)],
                               index=values.index, dtype=object)  # fmt: skip
        out[column] = values
    return pd.DataFrame(out, index=df.index, columns=df.columns)


def _as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "item"):
        value = value.item()
    return str(value)


def iso_utc(values: Any) -> Any:
    """Timestamps (a pandas Series) as ISO 8601 text in UTC with milliseconds and ``Z``, as the
    database keeps them (``2026-01-05T09:00:00.000Z``); DuckDB and pandas read it back as a UTC
    timestamp."""
    text = values.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
    return text.astype(object).where(values.notna(), None)


# ---------------------------------------------------------------------------------------------
# The row stream: every table as batches of columns of plain Python values, one kind each.
#
#   timestamp  "2026-01-05T09:00:00.000Z" (UTC, milliseconds) or None
#   bool       True / False / None        int    int or None
#   float      float (inf kept) or None   text   str or None
#
# The database tables are read with fetchmany and never become DataFrames; the summary tables
# (small, computed by usetest.analysis as DataFrames) are converted once. Every writer takes
# the same stream, so the formats cannot drift apart.

Batch = Sequence[Sequence[Any]]
"""A batch of rows, column by column (one sequence of values per column)."""


class Columns:
    """What a writer needs to know about a table besides its rows: each column's kind (in
    order) and whether text cells that a spreadsheet would run are neutralised."""

    def __init__(self, kinds: dict[str, str], neutralise: bool = False) -> None:
        self.kinds, self.neutralise = kinds, neutralise

    def names(self) -> list[str]:
        return list(self.kinds)

    def get(self, name: str, default: str = "text") -> str:
        return self.kinds.get(name, default)


_BOOLS = {0: False, 1: True, None: None}


def _db_batches(conn: Any, table: str, plan: TablePlan, columns: list[str],
                maps: dict[str, dict[Any, Any]]) -> Iterator[Batch]:  # fmt: skip
    """``table``'s ``columns`` in batches of :data:`CHUNK_ROWS` rows, each value as its kind
    says; ``maps`` (column -> {value: replacement}) pseudonymises codes."""
    cur = conn.execute(f"SELECT {', '.join(_quoted(c) for c in columns)} FROM {table}")
    try:
        while rows := cur.fetchmany(CHUNK_ROWS):
            batch: list[Sequence[Any]] = list(zip(*rows, strict=True))
            for i, name in enumerate(columns):
                kind = plan.kinds[name]
                if name in maps:
                    replace = maps[name]
                    batch[i] = [None if v is None else replace.get(v) for v in batch[i]]
                elif kind == "bool":
                    batch[i] = [_BOOLS[v] for v in batch[i]]
                elif kind == "float":
                    batch[i] = [None if v is None else float(v) for v in batch[i]]
                elif name in plan.moments:
                    moments = plan.moments[name]
                    batch[i] = [moments.get(v, v) for v in batch[i]]
                elif name in plan.to_text:
                    batch[i] = [v if v is None or isinstance(v, str) else _as_text(v)
                                for v in batch[i]]  # fmt: skip
            del rows
            yield batch
    finally:
        # also when the export stops half-way (the generator is closed, maybe after the
        # connection): never an "Exception ignored" on the way out
        with contextlib.suppress(Exception):
            cur.close()


def _frame_batch(df: Any, kinds: dict[str, str]) -> Batch:
    """A summary table (typed by :func:`typed`) as one batch of plain values."""
    batch = []
    for column in df.columns:
        values, kind = df[column], kinds.get(str(column), "text")
        if kind == "timestamp":
            batch.append(list(iso_utc(values)))
            continue
        plain = values.astype(object).where(values.notna(), None).tolist()
        if kind == "int":
            plain = [None if v is None else int(v) for v in plain]
        elif kind == "bool":
            plain = [None if v is None else bool(v) for v in plain]
        elif kind == "float":
            plain = [None if v is None or math.isnan(v) else float(v) for v in plain]
        batch.append(plain)
    return batch


def _has_arrow() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


CHUNK_ROWS = 20_000
"""Rows read and written at a time: memory stays flat however large the events log is (and a
batch of 20,000 rows is as fast to write as a bigger one)."""
EXCEL_MAX_ROWS = 1_048_575  # a sheet holds 1,048,576 rows, one of them the header
# Every table but the scenario texts (summary_versions says which version each session ran).
DB_TABLES = tuple(t for t in TABLES if t != "scenarios")


def export(
    db_path: str | Path, out_dir: str | Path, fmt: str = "csv", *, pseudonymise: bool = False,
    salt: str | None = None, progress: Callable[[int, int], None] | None = None,
    raw_formulas: bool = False, profile: dict[str, list[str]] | None = None,
    recording_start: str | None = None, participants: Sequence[str] | None = None,
) -> list[Path]:  # fmt: skip
    """Write the study's tables and summary to ``out_dir``; returns the files written.

    ``vtt`` and ``srt`` write recording markers instead, one file per session (of
    ``participants`` if given), counted from ``recording_start`` if given: see
    :func:`export_markers`.

    Database tables are streamed: rows are read :data:`CHUNK_ROWS` at a time and written as
    they come (Parquet through Arrow record batches, CSV through Arrow or the csv module, JSON
    a record at a time, xlsx a row at a time), never as DataFrames, so a study of millions of
    events exports in constant memory. The summary tables are computed once. A workbook whose
    tables do not fit a sheet is refused before anything else is read. ``progress(done,
    total)`` is called with row counts as the export goes.

    Everything is read in one read transaction, so the files and ``metadata.json`` agree even
    while sessions are being logged. Files are written under temporary names and renamed
    together at the end, ``metadata.json`` last (:class:`usetest.outfiles.Staged`): an export
    that fails or is interrupted leaves the folder as it was. CSV and xlsx text cells that a
    spreadsheet would run as a formula are prefixed with ``'`` unless ``raw_formulas``.

    ``profile`` (question id → answers kept) filters the summary tables as ``usetest summary
    --profile`` does; the database tables are always exported whole.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt in MARKER_FORMATS:
        if profile:
            raise ExportError("--profile filters the summary tables; recording markers are per "
                              "session: choose sessions with --participant instead")  # fmt: skip
        return export_markers(db_path, out_dir, fmt, pseudonymise=pseudonymise, salt=salt,
                              recording_start=recording_start, participants=participants)
    if recording_start is not None or participants:
        what = "--recording-start" if recording_start is not None else "--participant"
        raise ExportError(f"{what} is for recording markers (--format vtt or srt); the tables are "
                          "exported whole")  # fmt: skip
    if fmt == "parquet" and not _has_arrow():
        raise ExportError("Parquet needs pyarrow: pip install 'usetest[parquet]' (or pip "
                          "install pyarrow)")  # fmt: skip
    from usetest.analysis import connect

    out = Path(out_dir)
    conn = connect(db_path)
    streamed: Streamed = []
    try:
        # one snapshot for every table, the summaries and the counts in metadata.json
        conn.execute("BEGIN")
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in DB_TABLES}
        if fmt == "xlsx":  # before any heavy work: the counts are cheap, the summary is not
            too_big = {t: n for t, n in counts.items() if n > EXCEL_MAX_ROWS}
            if too_big:
                raise ExportError(
                    f"{', '.join(f'{t} has {n:,} rows' for t, n in too_big.items())}: more than "
                    "an Excel sheet holds (1,048,576) — export as parquet or csv instead"
                )  # fmt: skip
        summaries = _summary_tables(conn, profile)
        salt = salt or secrets.token_hex(16)
        codes = ({c: pseudonym(c, salt) for (c,) in conn.execute("SELECT participant FROM sessions")}
                 if pseudonymise else {})  # fmt: skip
        moderators = ({m: "m-" + pseudonym(m, salt)[2:]
                       for (m,) in conn.execute("SELECT DISTINCT moderator FROM sessions")
                       if m is not None} if pseudonymise else {})  # fmt: skip
        dropped = dict(FREE_TEXT) if pseudonymise else {}
        if pseudonymise:
            summaries["summary_sus"] = summaries["summary_sus"].assign(
                participant=summaries["summary_sus"]["participant"].map(codes))
            summaries["summary_versions"] = summaries["summary_versions"].assign(
                participant=summaries["summary_versions"]["participant"].map(codes))
            summaries["summary_problems"] = summaries["summary_problems"].drop(columns=["problem"])
            dropped["summary_problems"] = ["problem"]
            prof = summaries["summary_profile"]
            free = [c for c in prof.columns if c in _text_questions(conn)]
            summaries["summary_profile"] = prof.drop(columns=free).assign(
                participant=prof["participant"].map(codes))
            if free:
                dropped["summary_profile"] = free
            summaries.pop("summary_free_text")  # the answers are free text
            dropped["summary_free_text"] = ["*"]
        neutralise = fmt in FORMULA_FORMATS and not raw_formulas
        # every column typed once for every format (a plan per table: batches agree)
        plans = {t: _db_plan(conn, t) for t in DB_TABLES}
        kinds = {t: {c: k for c, k in plan.kinds.items()
                     if not (pseudonymise and c in FREE_TEXT.get(t, []))}
                 for t, plan in plans.items()}  # fmt: skip
        as_text = {t: plan.as_text for t, plan in plans.items() if plan.as_text}
        summary_rows: dict[str, int] = {}
        summary_batches: dict[str, Batch] = {}
        for name, df in summaries.items():
            kinds[name] = _frame_kinds(df)
            summary_rows[name] = len(df)
            summary_batches[name] = _frame_batch(typed(df, kinds[name]), kinds[name])
        del summaries

        about = _about(conn, db_path, [*DB_TABLES, *summary_batches], profile, pseudonymise,
                       neutralise) if fmt == "xlsx" else []  # fmt: skip
        maps = ({"participant": codes, "moderator": moderators} if pseudonymise else {})
        total = sum(counts.values()) + sum(summary_rows.values())
        done = 0

        def tick(rows: int) -> None:
            nonlocal done
            done += rows
            if progress is not None:
                progress(done, total)

        streamed += [
            (t, _db_batches(conn, t, plans[t], list(kinds[t]), maps if t == "sessions" else {}),
             Columns(kinds[t], neutralise)) for t in DB_TABLES]  # fmt: skip
        streamed += [(name, iter([batch]), Columns(kinds[name], neutralise))
                     for name, batch in summary_batches.items()]  # fmt: skip
        staged = Staged(out)
        try:
            with _writing(staged, "the export"), collector.paused():  # rows: no cycles
                written = _write(staged, fmt, streamed, tick, about=about)
                rows = {**counts, **summary_rows}
                meta = _metadata(db_path, fmt, rows, pseudonymise, dropped, neutralise, as_text,
                                 study=_study_of(conn))  # fmt: skip
                with staged.open("metadata.json") as f:  # last: its presence says "complete"
                    f.write(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
                written.append(out / "metadata.json")
        except _BadMoment as exc:
            raise ExportError(f"{exc}; {staged.what_is_left()}") from None
        except Exception as exc:  # a row SQLite cannot give back: damage no cheap check sees
            import sqlite3

            if not isinstance(exc, sqlite3.DatabaseError):
                raise
            what = str(exc) if len(str(exc)) < 160 else str(exc)[:160] + " …"
            raise ExportError(f"{db_path} could not be read ({what}): it is damaged — restore "
                              f"it from a backup; {staged.what_is_left()}") from exc  # fmt: skip
    except KeyboardInterrupt:  # still reading: nothing written yet
        raise ExportInterrupted(f"export interrupted while reading {db_path}: nothing in {out} "
                                "was changed") from None  # fmt: skip
    finally:
        for _, parts, _ in streamed:  # readers left half-way by a failure: closed first
            close = getattr(parts, "close", None)
            if close is not None:
                close()
        conn.close()  # ends the read transaction
    return written


def _text_questions(conn: Any) -> set[str]:
    """The profile questions answered in free text (dropped when pseudonymising)."""
    from usetest.versions import parsed

    rows = conn.execute("SELECT text FROM scenarios WHERE version IS NOT NULL").fetchall()
    return {q.id for (text,) in rows for q in parsed(text).profile if q.type == "text"}


def _flat(figures: dict[str, Any]) -> dict[str, Any]:
    """A questionnaire's figures as one row: its target as target, target_source, target_p,
    target_confidence."""
    target = figures.get("target") or {}
    return {**{k: v for k, v in figures.items() if k != "target"},
            "target": target.get("target"), "target_source": target.get("source"),
            "target_p": target.get("p"), "target_confidence": target.get("confidence")}  # fmt: skip


def _summary_tables(conn: Any, profile: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The summary tables (DataFrames), computed once from the export's own read of the
    database (``conn``, in its read transaction), as :func:`usetest.analysis.study_results`
    computes them."""
    import pandas as pd

    from usetest.analysis import profile_table, read_summary_tables, results_from_tables

    summary, comparisons = results_from_tables(read_summary_tables(conn), profile=profile)
    tables = {
        "summary_tasks": summary.tasks,
        "summary_sus": summary.sus,
        "summary_problems": summary.problems,
        "summary_questionnaires": pd.DataFrame([
            {"questionnaire": name, **_flat(figures)} for name, figures in
            (("sus", summary.sus_summary), ("umux-lite", summary.umux_lite),
             ("nps", summary.nps), ("csat", summary.csat), ("ces", summary.ces))
        ]),
        # the study's own rating items: one row per item (and task asked after), with the
        # count per scale point as count_1 … count_N
        "summary_custom": pd.DataFrame([
            {**{k: v for k, v in c.items() if k != "counts"},
             **{f"count_{i}": k for i, k in enumerate(c["counts"], start=1)}}
            for c in summary.custom
        ], columns=["questionnaire", "item", "text", "task_id", "n", "points", "declined", "mean",
                    "low", "high"] if not summary.custom else None),
        "summary_free_text": pd.DataFrame([
            {"questionnaire": q["questionnaire"], "item": q["item"], "task_id": q["task_id"],
             "participant": a["participant"], "text": a["text"]}
            for q in summary.free_text for a in q["answers"]
        ], columns=["questionnaire", "item", "task_id", "participant", "text"]),
        "summary_profile": profile_table(summary.sessions),
        "summary_versions": _versions_table(summary.versions),
    }  # fmt: skip
    if comparisons is not None:
        tables["summary_conditions_tasks"] = comparisons.tasks
        tables["summary_conditions_sus"] = comparisons.sus
    return tables


def _versions_table(versions: list[dict[str, Any]]) -> Any:
    """One row per version and participant who ran it: which sessions ran which version, what
    changed since the version before (lists joined with ", "); each version's figures are
    repeated down its participants' rows."""
    import pandas as pd

    def joined(v: dict[str, Any], k: str) -> str:
        return ", ".join(v["changes"][k]) if v["changes"] else ""

    per_version = {
        "version": [v["version"] for v in versions], "sha256": [v["sha256"] for v in versions],
        "first_used": [v["first_used"] for v in versions], "participant": None,
        "tasks": [", ".join(v["tasks"]) for v in versions],
        "since_version": [v["since_version"] for v in versions],
        **{f"tasks_{k}": [joined(v, k) for v in versions] for k in ("added", "removed",
                                                                     "reworded")},
        "other_changes": [joined(v, "other") for v in versions],
    }  # fmt: skip
    counts = [len(v["participants"]) for v in versions]
    if not sum(counts):  # as pandas makes a table of no rows: columns of objects
        return pd.DataFrame(columns=list(per_version))
    # lists of Python values, so that pandas gives each column the type it gives the rows
    columns = {name: ([p for v in versions for p in v["participants"]] if values is None else
                      [x for x, n in zip(values, counts, strict=True) for _ in range(n)])
               for name, values in per_version.items()}  # fmt: skip
    return pd.DataFrame(columns, columns=list(per_version))


Streamed = list[tuple[str, Iterator[Batch], Columns]]


def _write(staged: Staged, fmt: str, streamed: Streamed, tick: Callable[[int], None], *,
           about: list[tuple[str, str]]) -> list[Path]:  # fmt: skip
    """Every table into ``staged`` (one file each; one workbook for xlsx); the final paths."""
    if fmt == "xlsx":  # at most a sheet's worth of rows per table (checked above)
        with staged.open("usetest-export.xlsx", "wb") as f:
            _xlsx(f, streamed, tick, about)
        return [staged.folder / "usetest-export.xlsx"]
    write = {"csv": _csv, "json": _json, "parquet": _parquet}[fmt]
    written = []
    for name, parts, columns in streamed:
        text = {"newline": ""} if fmt == "json" else {}  # JSON: "\n" on every system
        with staged.open(f"{name}.{fmt}", "w" if fmt == "json" else "wb", **text) as f:
            write(f, parts, columns, tick)
        written.append(staged.folder / f"{name}.{fmt}")
    return written


# ---------------------------------------------------------------------------------------------
# CSV: RFC 4180 line ends (a text holding a lone carriage return is then quoted too; with "\n"
# line ends the csv module leaves it bare, and a reader starts a new row there), quotes only
# where needed (the csv module's QUOTE_MINIMAL), timestamps as ISO 8601 UTC text, booleans as
# true/false, integers as 7 (never 7.0), floats as Python writes them (repr), missing as empty.
# With pyarrow, a batch is formatted column by column in Arrow; without, row by row by the csv
# module; the bytes are the same (tests/test_export_stream.py compares them).

_CSV_SPECIAL = '[,"\r\n]'
"""A field holding one of these is quoted (QUOTE_MINIMAL with ``\\r\\n`` line ends)."""
_FORMULA_REGEX = r"^[=+\-@\t\r]"
"""A text beginning with one of :data:`FORMULA_START` (RE2, for Arrow)."""


def _csv(f: IO[bytes], parts: Iterator[Batch], columns: Columns,
         tick: Callable[[int], None]) -> None:  # fmt: skip
    """One CSV file: the header, then every batch of ``parts``."""
    if _has_arrow():
        _csv_arrow(f, parts, columns, tick)
    else:
        _csv_python(f, parts, columns, tick)


def _csv_python(f: IO[bytes], parts: Iterator[Batch], columns: Columns,
                tick: Callable[[int], None]) -> None:  # fmt: skip
    import csv
    import io

    text = io.TextIOWrapper(f, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(columns.names())
        kinds = list(columns.kinds.values())
        for batch in parts:
            batch = list(batch)
            for i, kind in enumerate(kinds):
                if kind == "bool":
                    batch[i] = [None if v is None else ("true" if v else "false") for v in batch[i]]
                elif kind == "text" and columns.neutralise:
                    batch[i] = [_neutral(v) for v in batch[i]]
            rows = len(batch[0]) if batch else 0
            writer.writerows(zip(*batch, strict=True))
            tick(rows)
    finally:
        text.detach()  # the staged file is closed by its owner


def _csv_arrow(f: IO[bytes], parts: Iterator[Batch], columns: Columns,
               tick: Callable[[int], None]) -> None:  # fmt: skip
    import pyarrow as pa
    import pyarrow.compute as pc

    names, kinds = columns.names(), list(columns.kinds.values())
    f.write(_csv_lines([_csv_text(pa.array([n], pa.string()), False) for n in names], 1))
    for batch in parts:
        fields = []
        for values, kind in zip(batch, kinds, strict=True):
            if kind == "int":
                fields.append(pa.array(values, pa.int64()).cast(pa.string()))
            elif kind == "bool":
                fields.append(pc.if_else(pa.array(values, pa.bool_()), "true", "false"))
            elif kind == "float":
                fields.append(pa.array([None if v is None else repr(v) for v in values], pa.string()))
            elif kind == "timestamp":  # the store's own form: nothing to quote
                fields.append(pa.array(values, pa.string()))
            else:
                fields.append(_csv_text(pa.array(values, pa.string()), columns.neutralise))
        rows = len(batch[0]) if batch else 0
        if fields:
            f.write(_csv_lines(fields, rows))
        tick(rows)


def _csv_text(values: Any, neutralise: bool) -> Any:
    """A text column as CSV fields: neutralised if asked, quoted where the csv module quotes."""
    import pyarrow.compute as pc

    if neutralise:
        formula = pc.match_substring_regex(values, _FORMULA_REGEX)
        if pc.any(formula).as_py():
            values = pc.if_else(formula, pc.binary_join_element_wise("'", values, ""), values)
    special = pc.match_substring_regex(values, _CSV_SPECIAL)
    if pc.any(special).as_py():
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
        values = pc.if_else(special, quoted, values)
    return values


def _csv_lines(fields: list[Any], rows: int) -> bytes | memoryview:
    """The CSV lines of a batch (each field already formatted), as bytes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not rows:
        return b""
    if not fields:  # a table without columns: empty lines, as the csv module writes them
        return b"\r\n" * rows
    last = pc.fill_null(fields[-1], "")
    if len(fields) == 1:  # a row of one empty field is written "" (else it is an empty line)
        last = pc.if_else(pc.equal(last, ""), '""', last)
    # the line end joins the last field (one copy of one column, not of every line)
    fields = [*fields[:-1], pc.binary_join_element_wise(last, "\r\n", "")]
    lines = (pc.binary_join_element_wise(*fields, ",", null_handling="replace",
                                         null_replacement="")
             if len(fields) > 1 else fields[0])  # fmt: skip
    if not isinstance(lines, pa.Array):
        lines = pa.array([lines.as_py()] * rows, pa.string())
    _, offsets, data = lines.buffers()
    offsets = memoryview(offsets).cast("i")  # int32 offsets: a batch is far below 2 GB
    return memoryview(data)[offsets[lines.offset]:offsets[lines.offset + rows]]


# ---------------------------------------------------------------------------------------------
# JSON.


def _json(f: IO[str], parts: Iterator[Batch], columns: Columns,
          tick: Callable[[int], None]) -> None:  # fmt: skip
    """One JSON array of records, a record a line, each written by the json library (valid
    whatever the text holds); NaN and infinities as null, timestamps as ISO 8601 UTC text."""
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=str).encode
    names, kinds = columns.names(), list(columns.kinds.values())
    floats = [i for i, kind in enumerate(kinds) if kind == "float"]
    f.write("[")
    separator = "\n"
    for batch in parts:
        batch = list(batch)
        for i in floats:
            batch[i] = [v if v is None or math.isfinite(v) else None for v in batch[i]]
        records = [encode(dict(zip(names, row, strict=True))) for row in zip(*batch, strict=True)]
        if records:
            f.write(separator + ",\n".join(records))
            separator = ",\n"
        tick(len(records))
    f.write("\n]\n")


# ---------------------------------------------------------------------------------------------
# Excel.

XLSX_TIMESTAMP = "yyyy-mm-dd hh:mm:ss.000"
XLSX_DURATION = "[h]:mm:ss.000"
XLSX_PERCENT = "0.0%"
XLSX_LIMITS = (8, 60)
"""Column widths (characters): at least a short header, at most a readable paragraph."""
MS_PER_DAY = 86_400_000
_PERCENT = re.compile(r"(target_)?completion(?!_p$)(?!_source$)\w*|\w*_share|share_\w+"
                      r"|abandonment_rate|frequency|\w*_confidence")  # fmt: skip
_DURATION_MS = re.compile(r"(time|pause)_ms")
_DURATION_S = re.compile(r"(target_)?time(_\w+)?_s")


def xlsx_format(name: str, kind: str) -> str | None:
    """The Excel number format of a column: date-times, durations, percentages; None for the
    general format. Durations are Excel durations (days, shown ``[h]:mm:ss.000``), whatever
    their unit in CSV (``time_ms`` in milliseconds, ``time_s`` in seconds)."""
    if kind == "timestamp":
        return XLSX_TIMESTAMP
    if kind not in ("int", "float"):
        return None
    if _DURATION_MS.fullmatch(name) or _DURATION_S.fullmatch(name):
        return XLSX_DURATION
    if kind == "float" and _PERCENT.fullmatch(name):
        return XLSX_PERCENT
    return None


class _BadMoment(ExportError):
    pass


def _moment(value: str, column: str) -> datetime:
    """A stored moment (``…Z``, UTC) as the naive date-time Excel shows (UTC, said in About).
    SQLite reads a day that does not exist (``2026-02-30``) as a time; Excel and Parquet do
    not: such a value (a hand edit) is refused with a message."""
    try:
        return datetime.fromisoformat(value[:-1] if value.endswith("Z") else value)
    except ValueError:
        raise _BadMoment(f"{column} holds {value!r}, which is no moment (a hand-edited "
                         "database?): correct it, or export as csv or json, which keep it as "
                         "stored") from None  # fmt: skip


def _xlsx(f: IO[bytes], everything: Streamed, tick: Callable[[int], None],
          about: list[tuple[str, str]]) -> None:  # fmt: skip
    """A write-only (streamed) workbook: an "About" sheet, then a sheet per table with its
    header row frozen, an autofilter, widths from the header and the first rows, and number
    formats for date-times (UTC), durations and percentages. Rows go to the sheet's temporary
    file as they come (openpyxl's write-only mode, inline strings), so memory stays flat.

    Text cells are typed as text, so nothing in them is run as a formula even with
    ``raw_formulas``; characters a workbook cannot hold (control characters) are shown as their
    visible symbols (U+2400…)."""
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook(write_only=True)
    bold = Font(bold=True)

    def text_cell(sheet: Any, value: str, header: bool = False) -> Any:
        c = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub(
            lambda m: chr(0x2400 + ord(m.group())), value))  # fmt: skip
        c.data_type = "s"  # openpyxl would make "=…" a formula
        if header:
            c.font = bold
        return c

    def converter(sheet: Any, name: str, kind: str, neutralise: bool) -> Callable[[Any], Any]:
        number_format = xlsx_format(name, kind)
        scale = (MS_PER_DAY if _DURATION_MS.fullmatch(name) else 86_400
                 if number_format == XLSX_DURATION else None)  # fmt: skip

        def formatted(value: Any) -> Any:
            c = WriteOnlyCell(sheet, value=value)
            c.number_format = number_format
            return c

        if kind == "text":
            def text(value: Any) -> Any:
                if value is None:
                    return None
                return text_cell(sheet, _neutral(value) if neutralise else value)

            return text
        if kind == "timestamp":
            return lambda value: None if value is None else formatted(_moment(value, name))
        if kind == "bool":
            return lambda value: value

        def number(value: Any) -> Any:
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                return None
            if scale is not None:
                value = value / scale
            return value if number_format is None else formatted(value)

        return number

    def width(name: str, kind: str, sample: Sequence[Any] | None, neutralise: bool) -> float:
        fmt = xlsx_format(name, kind)
        shown = {XLSX_TIMESTAMP: 23, XLSX_DURATION: 12, XLSX_PERCENT: 7}.get(fmt or "", 0)
        if kind == "text" and sample is not None and len(sample):
            lengths = [max(map(len, (_neutral(v) if neutralise else v).splitlines() or [""]))
                       for v in sample if v is not None]  # fmt: skip
            shown = _quantile_90(lengths) if lengths else 0
        elif fmt is None and kind in ("int", "float"):
            shown = 10 if kind == "float" else 6
        return float(min(max(len(name) + 3, shown + 2, XLSX_LIMITS[0]), XLSX_LIMITS[1]))

    archive = None
    try:
        sheet = book.create_sheet("About")
        sheet.column_dimensions["A"].width = 22
        sheet.column_dimensions["B"].width = 100
        wrap = Alignment(wrap_text=True, vertical="top")
        for key, value in about:
            cells = [text_cell(sheet, key, header=True), text_cell(sheet, value)]
            cells[1].alignment = wrap
            sheet.append(cells)
        for name, parts, columns in everything:
            sheet = book.create_sheet(name[:31])
            first = next(parts, None)
            names = columns.names()
            for i, column in enumerate(names, start=1):
                sample = list(first[i - 1][:1000]) if first is not None else None
                sheet.column_dimensions[get_column_letter(i)].width = width(
                    column, columns.get(column), sample, columns.neutralise)  # fmt: skip
            sheet.freeze_panes = "A2"
            sheet.append([text_cell(sheet, c, header=True) for c in names])
            convert = [converter(sheet, c, columns.get(c), columns.neutralise) for c in names]
            rows = 0
            # hold one batch at a time: the first is let go once written, like the others
            batches = iter(()) if first is None else _chain([first], parts)
            first = sample = None
            for batch in batches:
                n = 0
                for row in zip(*batch, strict=True):
                    sheet.append([conv(v) for conv, v in zip(convert, row, strict=True)])
                    n += 1
                rows += n
                tick(n)
                del batch
            if names:
                sheet.auto_filter.ref = f"A1:{get_column_letter(len(names))}{rows + 1}"
        # openpyxl's save_workbook, with our own archive so that it can be closed on failure
        archive = ZipFile(f, "w", ZIP_DEFLATED, allowZip64=True)
        ExcelWriter(book, archive).save()
    except BaseException:
        # close what openpyxl left open (the archive, the sheets' row writers and their temporary
        # files): a full disk or ctrl-C is then one message, without "Exception ignored in
        # ZipFile.__del__" or in the sheets' generators when they are collected
        if archive is not None:
            with contextlib.suppress(Exception):
                archive.close()
        for sheet in book.worksheets:
            with contextlib.suppress(Exception):
                if not sheet.closed:
                    sheet.close()
            with contextlib.suppress(Exception):
                if sheet._writer is not None:
                    sheet._writer.cleanup()
        raise


def _quantile_90(values: list[int]) -> int:
    """The 90th percentile of ``values`` as numpy (and pandas) interpolate it, truncated."""
    import numpy as np

    return int(np.percentile(values, 90.0))


def _chain(box: list[Batch], rest: Iterator[Batch]) -> Iterator[Batch]:
    yield box.pop()  # not kept in this frame while the rest are read
    yield from rest


# ---------------------------------------------------------------------------------------------
# Parquet.

ARROW_KINDS = {"timestamp": ("timestamp", "ms", "UTC"), "bool": ("bool_",), "int": ("int64",),
               "float": ("float64",), "text": ("string",)}  # fmt: skip
_PANDAS_TYPES = {"timestamp": ("datetimetz", "datetime64[ms]"), "bool": ("bool", "boolean"),
                 "int": ("int64", "Int64"), "float": ("float64", "float64"),
                 "text": ("unicode", "object")}  # fmt: skip
"""How pandas reads each kind back (``pd.read_parquet``): nullable Int64 and boolean, UTC
times, strings as objects: the ``pandas`` schema metadata pandas itself writes for them."""


def arrow_schema(kinds: dict[str, str], columns: Sequence[str] | None = None) -> Any:
    """The Parquet schema of a table: ``timestamp[ms, tz=UTC]``, ``bool``, ``int64``,
    ``double``, ``string``, every column nullable; with the ``pandas`` metadata that makes
    ``pd.read_parquet`` give nullable integers and booleans."""
    import pyarrow as pa

    def arrow(kind: str) -> Any:
        name, *args = ARROW_KINDS[kind]
        return getattr(pa, name)(*args) if name != "timestamp" else pa.timestamp("ms", tz="UTC")

    names = list(columns or list(kinds))
    return pa.schema([(c, arrow(kinds.get(c, "text"))) for c in names],
                     metadata={b"pandas": json.dumps(_pandas_metadata(kinds, names)).encode()})


def _pandas_metadata(kinds: dict[str, str], names: list[str]) -> dict[str, Any]:
    import importlib.metadata

    import pyarrow as pa

    try:
        pandas_version = importlib.metadata.version("pandas")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - pandas is a dependency
        pandas_version = None
    columns = []
    for name in names:
        kind = kinds.get(name, "text")
        pandas_type, numpy_type = _PANDAS_TYPES[kind]
        columns.append({"name": name, "field_name": name, "pandas_type": pandas_type,
                        "numpy_type": numpy_type,
                        "metadata": {"timezone": "UTC"} if kind == "timestamp" else None})  # fmt: skip
    return {"index_columns": [], "column_indexes": [], "columns": columns, "attributes": {},
            "creator": {"library": "pyarrow", "version": pa.__version__},
            "pandas_version": pandas_version}  # fmt: skip


def _arrow_batch(batch: Batch, schema: Any, kinds: list[str]) -> Any:
    import pyarrow as pa

    arrays = []
    for values, field, kind in zip(batch, schema, kinds, strict=True):
        if kind == "timestamp":  # the store's ISO 8601 text, parsed by Arrow
            try:
                arrays.append(pa.array(values, pa.string()).cast(field.type))
            except pa.ArrowInvalid:
                for value in values:  # the first value Arrow refused: say which
                    if value is not None:
                        _moment(value, field.name)
                raise
        else:
            arrays.append(pa.array(values, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


PARQUET_ROW_GROUP = 100_000
"""Rows per Parquet row group (at least): readers skip and read in row groups, and a few big
ones read faster than many small ones; the batches of a group are held as Arrow arrays."""


def _parquet(f: IO[bytes], parts: Iterator[Batch], columns: Columns,
             tick: Callable[[int], None]) -> None:  # fmt: skip
    """A Parquet file written as Arrow record batches, :data:`PARQUET_ROW_GROUP` rows to a row
    group, every batch with the table's one schema (:func:`arrow_schema`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(columns.kinds)
    kinds = list(columns.kinds.values())
    writer = pq.ParquetWriter(f, schema)
    try:
        pending: list[Any] = []  # batches of one row group to come
        written = 0
        for batch in parts:
            pending.append(_arrow_batch(batch, schema, kinds))
            rows = pending[-1].num_rows
            if sum(b.num_rows for b in pending) >= PARQUET_ROW_GROUP:
                writer.write_table(pa.Table.from_batches(pending, schema))
                pending = []
            written += rows
            tick(rows)
        if pending or not written:  # an empty table: still a row group, with the columns
            writer.write_table(pa.Table.from_batches(pending, schema))
    except BaseException:
        # the temporary file is removed: closing only releases the writer
        with contextlib.suppress(Exception):
            writer.close()
        raise
    writer.close()


SHEETS = {
    # the database's own tables: the data dictionary's words (as in Datasette)
    **{table: dictionary.TABLES[table] for table in TABLES},
    "summary_tasks": "per task: completion with its adjusted-Wald interval, time on task, "
                     "errors, assists, SEQ, CSAT, CES and targets",
    "summary_sus": "per participant: SUS score, learnability, usability and grade",
    "summary_problems": "per problem: tasks, participants affected, frequency, worst severity",
    "summary_questionnaires": "per questionnaire (SUS, UMUX-Lite, NPS, CSAT, CES): the study's "
                              "figures",
    "summary_custom": "the study's own rating items: n, mean and interval, count per point",
    "summary_free_text": "the free-text answers",
    "summary_profile": "per participant: the profile answers",
    "summary_versions": "which participant ran which version of the scenario, and what changed",
    "summary_conditions_tasks": "conditions compared per task (completion, time)",
    "summary_conditions_sus": "conditions compared on SUS",
}
"""What each table holds: the workbook's About sheet lists them."""


def _study_of(conn: Any) -> tuple[str, str] | None:
    """The study's title and key (``study_id``, else the title) as its latest version says;
    None before any session."""
    row = conn.execute("SELECT study, coalesce(study_key, study) FROM scenarios WHERE version "
                       "IS NOT NULL ORDER BY version DESC LIMIT 1").fetchone()  # fmt: skip
    return (row[0], row[1]) if row else None


def _about(conn: Any, db_path: str | Path, tables: Sequence[str],
           profile: dict[str, list[str]] | None, pseudonymise: bool,
           neutralise: bool) -> list[tuple[str, str]]:  # fmt: skip
    """The workbook's first sheet: what it is, from what, with which filters and units."""
    studies = [s for (s,) in conn.execute(
        "SELECT DISTINCT study FROM scenarios WHERE version IS NOT NULL ORDER BY version")]  # fmt: skip
    rows = [
        ("usetest export", "The tables of a usetest study database, one sheet per table, as "
                           "CSV, JSON and Parquet exports write them."),
        ("Study", "; ".join(studies) or "(no session yet)"),
        ("Database", Path(db_path).name),
        ("Exported", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("usetest version", __version__),
        ("Filters", "summary sheets: " + "; ".join(f"{q} = {', '.join(v)}" for q, v in
                                                  profile.items()) if profile else
         "none: every session (the database sheets are always whole)"),
        ("Pseudonymised", "yes: participant codes and moderators are salted hashes; free text "
                          "is left out" if pseudonymise else "no"),
        ("Formulas", "text cells are text, never formulas" + (
            "; a text beginning with = + - @ is prefixed with '" if neutralise else "")),
        ("Times", "date-times are UTC (Excel has no time zones): add your offset for local "
                  "time"),
        ("Durations", "time_ms, pause_ms, time_s and the other time_…_s columns are Excel "
                      "durations ([h]:mm:ss.000); in CSV, JSON and Parquet they are "
                      "milliseconds (…_ms) or seconds (…_s). mono_ms is a clock reading in ms"),
        ("Percentages", "completion, shares, abandonment_rate, frequency and confidence are "
                        "proportions shown as percentages"),
        ("", ""),
        ("Sheet", "What it holds"),
    ]
    return rows + [(t[:31], SHEETS.get(t, "")) for t in tables]


UNITS = {"time_ms, pause_ms": "milliseconds (in xlsx: durations, shown [h]:mm:ss.000)",
         "time_s, *_time_s, time_*_s, time_limit_s": "seconds (in xlsx: durations)",
         "mono_ms": "milliseconds of the recording app's monotonic clock",
         "at, *_at, first_used": "UTC timestamps (Parquet timestamp[ms, UTC]; CSV and JSON ISO "
                                 "8601 text ending in Z; xlsx date-times in UTC)",
         "completion*, *_share, abandonment_rate, frequency, *_confidence":
             "proportions 0–1 (in xlsx: formatted as percentages)"}  # fmt: skip


def _metadata(db_path: str | Path, fmt: str, rows: dict[str, int], pseudonymise: bool,
              dropped: dict[str, list[str]], neutralise: bool,
              as_text: dict[str, list[str]] | None = None,
              study: tuple[str, str] | None = None) -> dict[str, object]:  # fmt: skip
    return {
        "format": "usetest-export/2",
        "usetest_version": __version__,
        "study": study[0] if study else None,
        "study_key": study[1] if study else None,
        # the file's name only: a path would tell who ran the export, and where (also when
        # pseudonymised); the export's own folder says where it came from
        "database": Path(db_path).name,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "file_format": fmt,
        "tables": rows,
        "pseudonymised": pseudonymise,
        "pseudonymisation": (
            {"participant_codes": "salted SHA-256 (first 12 hex digits), salt not stored",
             "moderators": "salted SHA-256 like the participant codes, prefixed m-",
             "dropped_free_text_columns": dropped} if pseudonymise else None
        ),
        "formula_cells": (
            {"neutralised": True,
             "rule": "text cells beginning with = + - @ tab or carriage return are prefixed with "
                     "' so that a spreadsheet shows them instead of running them (OWASP, CSV "
                     "injection); usetest export --raw-formulas writes them as they are"}
            if neutralise else
            {"neutralised": False,
             "rule": "text cells are written as they are" + (
                 " (--raw-formulas): a spreadsheet may run a cell beginning with = + - @ as a "
                 "formula" if fmt in FORMULA_FORMATS else "")}
        ),
        "units": UNITS,
        # columns whose values did not all fit their type (a damaged or hand-edited database):
        # exported as text, every value kept as it is
        "columns_as_text": as_text or {},
    }


# ---------------------------------------------------------------------------------------------
# Many studies, one dataset (Parquet, hive-partitioned by study).

DATASET_FILE = "dataset.json"
STUDIES_FOLDER = "_studies"
"""Each study's ``metadata.json``, as ``_studies/SLUG.json``: readers skip names beginning with
``_``, and the tables' folders hold Parquet only."""


def study_slug(key: str) -> str:
    """A study's partition value: its key in lower case, letters, digits and ``-`` only."""
    slug = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:60].strip("-")
    return slug or "study"


def export_studies(
    db_paths: Sequence[str | Path], out_dir: str | Path, *, pseudonymise: bool = False,
    salt: str | None = None, profile: dict[str, list[str]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:  # fmt: skip
    """Several studies (one database each) into one Parquet dataset, partitioned by study the
    Hive way: ``DIR/TABLE/study=SLUG/part-0.parquet`` for every table of :func:`export`, each
    study's ``metadata.json`` as ``DIR/_studies/SLUG.json``, and ``DIR/dataset.json`` listing
    every study the folder holds. Returns the files written.

    DuckDB (``read_parquet('DIR/attempts/*/*.parquet', hive_partitioning = true)``), polars,
    pandas (``pd.read_parquet('DIR/attempts')``) and Spark read each table as one table with a
    ``study`` column. Columns are typed as in :func:`export`, so the studies' files agree.

    Studies already in ``DIR`` and not among ``db_paths`` stay (a study is added or refreshed
    at a time); a study exported again replaces its files. Two databases of one study are
    refused (merge them first). Every database is read and written under temporary names
    first; the files are renamed into place together, ``dataset.json`` last, so a failure
    leaves ``DIR`` as it was. With ``pseudonymise``, one salt serves every study of this run.
    """
    import shutil
    import tempfile

    from usetest.analysis import connect

    if not db_paths:
        raise ExportError("no database given: name one or more study databases")
    out = Path(out_dir)
    paths = [Path(p) for p in db_paths]
    seen: dict[Path, Path] = {}
    for path in paths:
        real = path.resolve()
        if real in seen:
            raise ExportError(f"{path} is given twice (as {seen[real]} too): name each database once")
        seen[real] = path
    studies: list[tuple[Path, str, str]] = []  # (database, title, key)
    for path in paths:
        conn = connect(path)
        try:
            study = _study_of(conn)
        finally:
            conn.close()
        if study is None:
            raise ExportError(f"{path} holds no session yet: it has no study to add to the dataset")
        twin = next((p for p, _, key in studies if key == study[1]), None)
        if twin is not None:
            raise ExportError(f"{twin} and {path} both hold the study “{study[0]}”: join them first "
                              f"(usetest merge), then export the merged database")  # fmt: skip
        studies.append((path, *study))
    try:
        private_dir(out)
    except OutputError as exc:
        raise ExportError(str(exc)) from exc
    # a study keeps its partition from one run to the next; a new one gets a free name
    held = _dataset_studies(out)
    slugs: dict[str, str] = {}
    for _, _, key in studies:
        known = [slug for slug, meta in held.items() if meta.get("study_key") == key]
        if known:
            slugs[key] = known[0]
            continue
        base = study_slug(key)
        slug, n = base, 1
        while slug in held or slug in slugs.values():
            n += 1
            slug = f"{base}-{n}"
        slugs[key] = slug
    salt = salt or secrets.token_hex(16)
    temp = Path(tempfile.mkdtemp(prefix=".usetest-dataset-", dir=out))
    try:
        tables: dict[str, list[str]] = {}
        for i, (path, _, key) in enumerate(studies):
            slug = slugs[key]

            def tick(done: int, total: int, i: int = i) -> None:
                if progress is not None:  # every study weighs the same: good enough for a bar
                    progress(i * 1000 + done * 1000 // max(total, 1), len(studies) * 1000)

            written = export(path, temp / slug, "parquet", pseudonymise=pseudonymise, salt=salt,
                             profile=profile, progress=tick)  # fmt: skip
            tables[slug] = [p.stem for p in written if p.suffix == ".parquet"]
            held[slug] = json.loads((temp / slug / "metadata.json").read_text(encoding="utf-8"))
        staged = Staged(out)
        written_files: list[Path] = []
        with _writing(staged, "the dataset"):
            for slug, names in tables.items():
                for table in names:
                    private_dir(out / table / f"study={slug}")
                    written_files.append(out / table / f"study={slug}" / "part-0.parquet")
                    with (staged.open(f"{table}/study={slug}/part-0.parquet", "wb") as f,
                          (temp / slug / f"{table}.parquet").open("rb") as source):  # fmt: skip
                        shutil.copyfileobj(source, f)
                private_dir(out / STUDIES_FOLDER)
                with staged.open(f"{STUDIES_FOLDER}/{slug}.json") as f:
                    f.write(json.dumps(held[slug], indent=2, ensure_ascii=False) + "\n")
                written_files.append(out / STUDIES_FOLDER / f"{slug}.json")
            with staged.open(DATASET_FILE) as f:  # last: its presence says "complete"
                f.write(json.dumps(_dataset_meta(held), indent=2, ensure_ascii=False) + "\n")
            written_files.append(out / DATASET_FILE)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    # a table a study no longer has (its conditions were merged away, say): its old file goes
    for slug, names in tables.items():
        for old in out.glob(f"*/study={slug}/part-0.parquet"):
            if old.parent.parent.name not in names:
                old.unlink(missing_ok=True)
    return written_files


def _dataset_studies(out: Path) -> dict[str, dict[str, Any]]:
    """The studies a dataset folder holds already: partition name -> its metadata."""
    held = {}
    for path in sorted((out / STUDIES_FOLDER).glob("*.json")):
        with contextlib.suppress(OSError, ValueError):
            meta = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(meta, dict):
                held[path.stem] = meta
    return held


def _dataset_meta(held: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": "usetest-dataset/1",
        "usetest_version": __version__,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "layout": "TABLE/study=SLUG/part-0.parquet (Hive partitioning); each study's "
                  "metadata.json as _studies/SLUG.json",
        "studies": [{"partition": f"study={slug}", "study": meta.get("study"),
                     "study_key": meta.get("study_key"), "database": meta.get("database"),
                     "exported_at": meta.get("exported_at"),
                     "pseudonymised": meta.get("pseudonymised")}
                    for slug, meta in sorted(held.items())],
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Recording markers (WebVTT, SRT): one file per session, from usetest.markers.


def export_markers(
    db_path: str | Path, out_dir: str | Path, fmt: str = "vtt", *, pseudonymise: bool = False,
    salt: str | None = None, recording_start: str | None = None,
    participants: Sequence[str] | None = None,
) -> list[Path]:  # fmt: skip
    """One WebVTT or SRT file per session in ``out_dir`` (named after the participant code, or
    its hash when pseudonymised); returns the files written.

    Every session of the database (or of ``participants``) is read in one read transaction,
    and the files appear together (:class:`usetest.outfiles.Staged`, 0600) or not at all.
    ``recording_start`` (``HH:MM:SS``, local time on the session's day) replaces the recorded
    start; it needs a single session. The rules are in :mod:`usetest.markers`.
    """
    from usetest import markers, store
    from usetest.versions import parsed

    if fmt not in MARKER_FORMATS:
        raise ExportError(f"unknown marker format {fmt!r}: use one of {', '.join(MARKER_FORMATS)}")
    try:
        clock_time = (markers.parse_clock_time(recording_start)
                      if recording_start is not None else None)  # fmt: skip
    except markers.MarkerError as exc:
        raise ExportError(f"--recording-start: {exc}") from None
    out = Path(out_dir)
    try:
        db = store.open_read(db_path)
    except store.StoreError as exc:
        raise ExportError(str(exc)) from exc
    try:
        db.execute("BEGIN")  # one snapshot: a session being logged meanwhile stays consistent
        sessions = store.list_sessions(db)
        if participants:
            known = {s.participant for s in sessions}
            missing = [p for p in participants if p not in known]
            if missing:
                listed = ", ".join(sorted(known)) or "none"
                raise ExportError(f"no session of {', '.join(missing)} in {db_path} "
                                  f"(participants: {listed})")  # fmt: skip
            sessions = [s for s in sessions if s.participant in set(participants)]
        if not sessions:
            raise ExportError(f"{db_path} holds no session: no markers to write")
        if clock_time is not None and len(sessions) > 1:
            raise ExportError(f"--recording-start is the start of one recording, but {db_path} "
                              f"holds {len(sessions)} sessions: add --participant CODE")  # fmt: skip
        salt = salt or secrets.token_hex(16)
        titles_of: dict[int, dict[str, str]] = {}
        files: list[tuple[str, str]] = []
        taken: set[str] = set()
        for record in sessions:
            if record.scenario_id not in titles_of:
                scenario = parsed(store.scenario_text(db, record.scenario_id))
                titles_of[record.scenario_id] = {t.id: t.title for t in scenario.tasks}
            shown = pseudonym(record.participant, salt) if pseudonymise else record.participant
            try:
                built = markers.build(
                    store.load_events(db, record.id), shown, session_start=record.started_at,
                    recording_start=clock_time, titles=titles_of[record.scenario_id],
                    free_text=not pseudonymise,
                )  # fmt: skip
            except markers.MarkerError as exc:
                raise ExportError(str(exc)) from None
            stem = markers.file_stem(shown)
            if stem.lower() in taken:  # the same code twice, or two that differ only in case
                stem = f"{stem}-session{record.id}"
            taken.add(stem.lower())
            files.append((f"{stem}.{fmt}",
                          markers.to_vtt(built) if fmt == "vtt" else markers.to_srt(built)))
    except store.StoreError as exc:
        raise ExportError(str(exc)) from exc
    except Exception as exc:  # a row SQLite cannot give back: damage no cheap check sees
        import sqlite3

        if not isinstance(exc, sqlite3.DatabaseError):
            raise
        raise ExportError(f"{db_path} could not be read ({exc}): it is damaged — restore it "
                          f"from a backup; nothing in {out} was changed") from exc  # fmt: skip
    finally:
        db.close()
    staged = Staged(out)
    with _writing(staged, "the markers"):
        for name, text in files:
            with staged.open(name, newline="\n") as f:
                f.write(text)
    return [out / name for name, _ in files]


@contextlib.contextmanager
def _writing(staged: Staged, what: str) -> Iterator[None]:
    """Files written into ``staged``'s folder (made 0700 if missing) and renamed into place
    together; a failure or ctrl-C is an :class:`ExportError` saying what was left, and the
    database is never touched."""
    out = staged.folder
    try:
        private_dir(out)
    except OutputError as exc:
        raise ExportError(str(exc)) from exc
    try:
        with staged:
            yield
    except KeyboardInterrupt:
        raise ExportInterrupted(f"export interrupted: {staged.what_is_left()}") from None
    except OutputError as exc:
        raise ExportError(f"{exc}; {staged.what_is_left()}") from exc
    except OSError as exc:
        raise ExportError(f"cannot write {what} into {out}: {exc.strerror or exc} — free some "
                          f"space or choose another --out; {staged.what_is_left()}; the "
                          "database is unchanged") from exc  # fmt: skip
