"""Tidy files for analysts: every table and the summary tables as CSV, JSON, Excel or Parquet.

One file per table (one sheet per table in a workbook), plus ``metadata.json`` saying what was
exported, from which database, and whether it was pseudonymised. Files are created 0600: they
hold participant data. Tables are streamed in chunks, so memory stays flat on large studies.

``pseudonymise=True`` replaces participant codes (``p-…``) and moderator names (``m-…``) by
salted SHA-256 hashes (the same code gives the same hash within one export, so rows still join) and drops free text: notes' text, error
notes, free-text answers, and the events' JSON payloads (which can hold both).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from usetest import __version__
from usetest.analysis import connect, study_results

FORMATS = ("csv", "json", "xlsx", "parquet")
FREE_TEXT = {"notes": ["text"], "errors": ["note"], "answers": ["value_text"], "events": ["payload"],
             # the host name of the app recording a session; who withdrew a participant, and why
             "sessions": ["owner"], "withdrawals": ["withdrawn_by", "reason"]}


class ExportError(Exception):
    """The export cannot be written as asked."""


def _private(path: Path) -> None:
    os.chmod(path, 0o600)


def pseudonym(code: str, salt: str) -> str:
    return "p-" + hashlib.sha256(f"{salt}\0{code}".encode()).hexdigest()[:12]


CHUNK_ROWS = 100_000
"""Rows read and written at a time: memory stays flat however large the events log is."""
EXCEL_MAX_ROWS = 1_048_575  # a sheet holds 1,048,576 rows, one of them the header
DB_TABLES = ("sessions", "events", "attempts", "answers", "errors", "notes", "withdrawals")


def export(
    db_path: str | Path, out_dir: str | Path, fmt: str = "csv", *, pseudonymise: bool = False,
    salt: str | None = None, progress: Callable[[int, int], None] | None = None,
) -> list[Path]:  # fmt: skip
    """Write the study's tables and summary to ``out_dir``; returns the files written.

    Database tables are streamed in chunks of :data:`CHUNK_ROWS` rows (CSV, JSON, Parquet), so
    a study of millions of events exports in constant memory. ``progress(done, total)`` is
    called with row counts as the export goes.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise ExportError("Parquet needs pyarrow: pip install -e '.[parquet]'") from exc
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out}: {exc.strerror}") from exc
    summaries = _summary_tables(db_path)
    conn = connect(db_path)
    try:
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

        def chunks(table: str) -> Iterator[pd.DataFrame]:
            for chunk in pd.read_sql_query(f"SELECT * FROM {table}", conn, chunksize=CHUNK_ROWS):
                if pseudonymise:
                    chunk = chunk.drop(columns=FREE_TEXT.get(table, []))
                    if table == "sessions":  # a moderator's name is personal data too
                        chunk = chunk.assign(participant=chunk["participant"].map(codes),
                                             moderator=chunk["moderator"].map(moderators))  # fmt: skip
                yield chunk

        total = sum(counts.values()) + sum(len(df) for df in summaries.values())
        done = 0

        def tick(rows: int) -> None:
            nonlocal done
            done += rows
            if progress is not None:
                progress(done, total)

        old_umask = os.umask(0o077)  # created private, not chmod-ed after a world-readable moment
        try:
            written = _write(out, fmt, [(t, chunks(t), _sql_types(conn, t)) for t in DB_TABLES],
                             summaries, tick)  # fmt: skip
            meta_path = out / "metadata.json"
            rows = {**counts, **{name: len(df) for name, df in summaries.items()}}
            meta_path.write_text(json.dumps(_metadata(db_path, fmt, rows, pseudonymise, dropped),
                                            indent=2), encoding="utf-8")  # fmt: skip
            written.append(meta_path)
        except OSError as exc:
            raise ExportError(f"cannot write the export into {out}: {exc.strerror or exc} — free "
                              "some space or choose another --out; the database is unchanged") from exc  # fmt: skip
        finally:
            os.umask(old_umask)
    finally:
        conn.close()
    for path in written:
        _private(path)  # also when the file existed before (its mode is kept on rewrite)
    return written


def _summary_tables(db_path: str | Path) -> dict[str, pd.DataFrame]:
    summary, comparisons = study_results(db_path)
    tables = {
        "summary_tasks": summary.tasks,
        "summary_sus": summary.sus,
        "summary_problems": summary.problems,
        "summary_questionnaires": pd.DataFrame([
            {"questionnaire": "sus", **summary.sus_summary},
            {"questionnaire": "umux-lite", **summary.umux_lite},
            {"questionnaire": "nps", **summary.nps},
        ]),
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


def _write(out: Path, fmt: str, streamed: Streamed, summaries: dict[str, pd.DataFrame],
           tick: Callable[[int], None]) -> list[Path]:  # fmt: skip
    if fmt == "xlsx":  # at most a sheet's worth of rows per table (checked above)
        path = out / "usetest-export.xlsx"
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, parts, _ in streamed:
                df = pd.concat(list(parts), ignore_index=True)
                df.to_excel(writer, sheet_name=name, index=False)
                tick(len(df))
            for name, df in summaries.items():
                df.to_excel(writer, sheet_name=name[:31], index=False)
                tick(len(df))
        return [path]
    write = {"csv": _csv, "json": _json, "parquet": _parquet}[fmt]
    everything = [*streamed, *((name, iter([df]), {}) for name, df in summaries.items())]
    written = []
    for name, parts, types in everything:
        path = out / f"{name}.{fmt}"
        write(path, parts, types, tick)
        written.append(path)
    return written


def _csv(path: Path, parts: Iterator[pd.DataFrame], _: dict[str, str], tick: Callable[[int], None]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        for i, df in enumerate(parts):
            df.to_csv(f, index=False, header=i == 0)
            tick(len(df))


def _json(path: Path, parts: Iterator[pd.DataFrame], _: dict[str, str], tick: Callable[[int], None]) -> None:
    """One JSON array of records, written chunk by chunk."""
    with path.open("w", encoding="utf-8") as f:
        f.write("[")
        first = True
        for df in parts:
            body = df.to_json(orient="records", force_ascii=False)[1:-1]
            if body:
                f.write(("" if first else ",") + "\n" + body.replace("},{", "},\n{"))
                first = False
            tick(len(df))
        f.write("\n]\n")


def _parquet(path: Path, parts: Iterator[pd.DataFrame], types: dict[str, str],
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
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
            tick(len(df))
        if writer is None:  # an empty table: still a file, with the columns
            empty = pa.schema([(c, pa.string()) for c in types]) if types else pa.schema([])
            writer = pq.ParquetWriter(path, empty)
    finally:
        if writer is not None:
            writer.close()


def _nulls_as_none(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns with NaN (an all-NULL chunk) as None, which Arrow reads as null."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or out[c].isna().all():
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out


def _metadata(db_path: str | Path, fmt: str, rows: dict[str, int], pseudonymise: bool,
              dropped: dict[str, list[str]]) -> dict[str, object]:  # fmt: skip
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
        "units": {"time_ms": "milliseconds", "time_s": "seconds", "mono_ms": "milliseconds",
                  "at": "UTC ISO 8601"},
    }
