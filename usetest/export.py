"""Tidy files for analysts: every table and the summary tables as CSV, JSON, Excel or Parquet.

One file per table (one sheet per table in a workbook), plus ``metadata.json`` saying what was
exported, from which database, and whether it was pseudonymised. Files are created 0600: they
hold participant data. Tables are streamed in chunks, so memory stays flat on large studies.

Everything comes from one read transaction (the files and ``metadata.json`` agree, even while a
session is being logged) and goes through :mod:`usetest.outfiles` (no planted link followed;
written under temporary names, renamed when all are complete). Text cells that a spreadsheet
would run as formulas are neutralised in CSV and xlsx unless ``raw_formulas=True``.

``pseudonymise=True`` replaces participant codes (``p-…``) and moderator names (``m-…``) by
salted SHA-256 hashes (the same code gives the same hash within one export, so rows still join) and drops free text: notes' text, error
notes, free-text answers, and the events' JSON payloads (which can hold both).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

from usetest import __version__
from usetest.analysis import connect
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


def neutralised(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell that begins with :data:`FORMULA_START` prefixed with ``'``
    (OWASP's rule): a spreadsheet shows the text instead of running it. Numbers stay numbers."""
    out = df
    for column in df.columns:
        values = df[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        if values.map(_formula_like).any():
            if out is df:
                out = df.copy()
            out[column] = pd.Series(["'" + v if _formula_like(v) else v for v in values],
                                    index=values.index, dtype=object)  # fmt: skip
    return out


def pseudonym(code: str, salt: str) -> str:
    return "p-" + hashlib.sha256(f"{salt}\0{code}".encode()).hexdigest()[:12]


CHUNK_ROWS = 100_000
"""Rows read and written at a time: memory stays flat however large the events log is."""
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

    Database tables are streamed in chunks of :data:`CHUNK_ROWS` rows (CSV, JSON, Parquet), so
    a study of millions of events exports in constant memory. ``progress(done, total)`` is
    called with row counts as the export goes.

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
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise ExportError("Parquet needs pyarrow: pip install -e '.[parquet]'") from exc
    out = Path(out_dir)
    conn = connect(db_path)
    try:
        # one snapshot for every table, the summaries and the counts in metadata.json
        conn.execute("BEGIN")
        summaries = _summary_tables(conn, profile)
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in DB_TABLES}
        if fmt == "xlsx":
            too_big = {t: n for t, n in counts.items() if n > EXCEL_MAX_ROWS}
            if too_big:
                raise ExportError(
                    f"{', '.join(f'{t} has {n:,} rows' for t, n in too_big.items())}: more than "
                    "an Excel sheet holds (1,048,576) — export as parquet or csv instead"
                )  # fmt: skip
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

        def chunks(table: str) -> Iterator[pd.DataFrame]:
            for chunk in pd.read_sql_query(f"SELECT * FROM {table}", conn, chunksize=CHUNK_ROWS):
                if pseudonymise:
                    chunk = chunk.drop(columns=FREE_TEXT.get(table, []))
                    if table == "sessions":  # a moderator's name is personal data too
                        chunk = chunk.assign(participant=chunk["participant"].map(codes),
                                             moderator=chunk["moderator"].map(moderators))  # fmt: skip
                yield neutralised(chunk) if neutralise else chunk

        if neutralise:
            summaries = {name: neutralised(df) for name, df in summaries.items()}
        total = sum(counts.values()) + sum(len(df) for df in summaries.values())
        done = 0

        def tick(rows: int) -> None:
            nonlocal done
            done += rows
            if progress is not None:
                progress(done, total)

        staged = Staged(out)
        try:
            with _writing(staged, "the export"):
                written = _write(staged, fmt, [(t, chunks(t), _sql_types(conn, t)) for t in DB_TABLES],
                                 summaries, tick)  # fmt: skip
                rows = {**counts, **{name: len(df) for name, df in summaries.items()}}
                meta = _metadata(db_path, fmt, rows, pseudonymise, dropped, neutralise)
                with staged.open("metadata.json") as f:  # last: its presence says "complete"
                    f.write(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
                written.append(out / "metadata.json")
        except Exception as exc:  # a row SQLite cannot give back: damage no cheap check sees
            import sqlite3

            if not isinstance(exc, sqlite3.DatabaseError | pd.errors.DatabaseError):
                raise
            what = str(exc) if len(str(exc)) < 160 else str(exc)[:160] + " …"
            raise ExportError(f"{db_path} could not be read ({what}): it is damaged — restore "
                              f"it from a backup; {staged.what_is_left()}") from exc  # fmt: skip
    except KeyboardInterrupt:  # still reading: nothing written yet
        raise ExportInterrupted(f"export interrupted while reading {db_path}: nothing in {out} "
                                "was changed") from None  # fmt: skip
    finally:
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


def _summary_tables(conn: Any, profile: dict[str, list[str]] | None = None) -> dict[str, pd.DataFrame]:
    """The summary tables, computed from the export's own read of the database (``conn``, in
    its read transaction), as :func:`usetest.analysis.study_results` computes them."""
    from usetest.analysis import read_summary_tables, results_from_tables

    summary, comparisons = results_from_tables(read_summary_tables(conn), profile=profile)
    d = summary.to_dict()
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
        "summary_profile": pd.DataFrame(d["profile"] or [], columns=None if d["profile"]
                                        else ["participant"]),
    }  # fmt: skip
    # one row per version and participant who ran it: which sessions ran which version, what
    # changed since the version before (lists joined with ", ")
    tables["summary_versions"] = pd.DataFrame([
        {"version": v["version"], "sha256": v["sha256"], "first_used": v["first_used"],
         "participant": code, "tasks": ", ".join(v["tasks"]), "since_version": v["since_version"],
         **{f"tasks_{k}": ", ".join(v["changes"][k]) if v["changes"] else ""
            for k in ("added", "removed", "reworded")},
         "other_changes": ", ".join(v["changes"]["other"]) if v["changes"] else ""}
        for v in summary.versions for code in v["participants"]
    ], columns=["version", "sha256", "first_used", "participant", "tasks", "since_version",
                "tasks_added", "tasks_removed", "tasks_reworded", "other_changes"])  # fmt: skip
    if comparisons is not None:
        tables["summary_conditions_tasks"] = comparisons.tasks
        tables["summary_conditions_sus"] = comparisons.sus
    return tables


def _sql_types(conn: Any, table: str) -> dict[str, str]:
    return {row[1]: row[2].upper() for row in conn.execute(f"PRAGMA table_info({table})")}


Streamed = list[tuple[str, Iterator[pd.DataFrame], dict[str, str]]]


def _write(staged: Staged, fmt: str, streamed: Streamed, summaries: dict[str, pd.DataFrame],
           tick: Callable[[int], None]) -> list[Path]:  # fmt: skip
    """Every table into ``staged`` (one file each; one workbook for xlsx); the final paths."""
    everything = [*streamed, *((name, iter([df]), {}) for name, df in summaries.items())]
    if fmt == "xlsx":  # at most a sheet's worth of rows per table (checked above)
        with staged.open("usetest-export.xlsx", "wb") as f:
            _xlsx(f, everything, tick)
        return [staged.folder / "usetest-export.xlsx"]
    write = {"csv": _csv, "json": _json, "parquet": _parquet}[fmt]
    written = []
    for name, parts, types in everything:
        with staged.open(f"{name}.{fmt}", "wb" if fmt == "parquet" else "w",
                         **({} if fmt == "parquet" else {"newline": ""})) as f:  # fmt: skip
            write(f, parts, types, tick)
        written.append(staged.folder / f"{name}.{fmt}")
    return written


def _csv(f: IO[str], parts: Iterator[pd.DataFrame], types: dict[str, str],
         tick: Callable[[int], None]) -> None:  # fmt: skip
    # RFC 4180 line ends: a text holding a lone carriage return is then quoted too (with "\n"
    # line ends the csv module leaves it bare, and a reader starts a new row there)
    header = True
    for df in parts:
        df.to_csv(f, index=False, header=header, lineterminator="\r\n")
        header = False
        tick(len(df))
    if header and types:  # an empty table: still the header line
        pd.DataFrame(columns=list(types)).to_csv(f, index=False, lineterminator="\r\n")


def _json(f: IO[str], parts: Iterator[pd.DataFrame], _: dict[str, str],
          tick: Callable[[int], None]) -> None:  # fmt: skip
    """One JSON array of records, a record a line, each written by the json library (valid
    whatever the text holds); NaN and infinities as null."""
    f.write("[")
    first = True
    for df in parts:
        columns = [str(c) for c in df.columns]
        for row in df.itertuples(index=False, name=None):
            record = {c: _json_value(v) for c, v in zip(columns, row, strict=True)}
            f.write(("\n" if first else ",\n")
                    + json.dumps(record, ensure_ascii=False, allow_nan=False, default=_json_default))  # fmt: skip
            first = False
        tick(len(df))
    f.write("\n]\n")


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return _json_value(value.item())
    return str(value)


def _xlsx(f: IO[bytes], everything: Streamed, tick: Callable[[int], None]) -> None:
    """A write-only (streamed) workbook, a sheet per table. Text cells are typed as text, so
    nothing in them is run as a formula even with ``raw_formulas``; characters a workbook
    cannot hold (control characters) are shown as their visible symbols (U+2400…)."""
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook(write_only=True)

    def cell(sheet: Any, value: Any) -> Any:
        if value is None or value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, str):
            text = ILLEGAL_CHARACTERS_RE.sub(lambda m: chr(0x2400 + ord(m.group())), value)
            c = WriteOnlyCell(sheet, value=text)
            c.data_type = "s"  # openpyxl would make "=…" a formula
            return c
        if hasattr(value, "item"):
            return value.item()
        if isinstance(value, (int, float, bool)):
            return value
        return cell(sheet, str(value))

    archive = None
    try:
        for name, parts, types in everything:
            sheet = book.create_sheet(name[:31])
            header = True
            for df in parts:
                if header:
                    sheet.append([cell(sheet, str(c)) for c in df.columns])
                    header = False
                for row in df.itertuples(index=False, name=None):
                    sheet.append([cell(sheet, v) for v in row])
                tick(len(df))
            if header and types:
                sheet.append([cell(sheet, c) for c in types])
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


def _parquet(f: IO[bytes], parts: Iterator[pd.DataFrame], types: dict[str, str],
             tick: Callable[[int], None]) -> None:  # fmt: skip
    """A Parquet file written row group by row group, typed from the SQLite columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for df in parts:
            if types:
                arrow = {"INTEGER": pa.int64(), "REAL": pa.float64(), "TEXT": pa.string()}
                schema = pa.schema([(c, arrow.get(types.get(c, ""), pa.string())) for c in df.columns])
                table = pa.Table.from_pandas(_nulls_as_none(df), schema=schema, preserve_index=False)
            else:
                table = pa.Table.from_pandas(df, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(f, table.schema)
            writer.write_table(table)
            tick(len(df))
        if writer is None:  # an empty table: still a file, with the columns
            empty = pa.schema([(c, pa.string()) for c in types]) if types else pa.schema([])
            writer = pq.ParquetWriter(f, empty)
    except BaseException:
        # the temporary file is removed: closing only releases the writer
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
        raise
    writer.close()


def _nulls_as_none(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns with NaN (an all-NULL chunk) as None, which Arrow reads as null."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or out[c].isna().all():
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out


def _metadata(db_path: str | Path, fmt: str, rows: dict[str, int], pseudonymise: bool,
              dropped: dict[str, list[str]], neutralise: bool) -> dict[str, object]:  # fmt: skip
    return {
        "format": "usetest-export/1",
        "usetest_version": __version__,
        "database": str(Path(db_path).resolve()),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
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
        "units": {"time_ms": "milliseconds", "time_s": "seconds", "mono_ms": "milliseconds",
                  "at": "UTC ISO 8601"},
    }


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
