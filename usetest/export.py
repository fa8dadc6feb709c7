"""Tidy files for analysts: every table and the summary tables as CSV, JSON, Excel or Parquet.

One file per table (one sheet per table in a workbook), plus ``metadata.json`` saying what was
exported, from which database, and whether it was pseudonymised. Files are created 0600: they
hold participant data.

``pseudonymise=True`` replaces participant codes by salted SHA-256 hashes (the same code gives
the same hash within one export, so rows still join) and drops free text: notes' text, error
notes, free-text answers, and the events' JSON payloads (which can hold both).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from usetest import __version__
from usetest.analysis import AnalysisError, compare, load, summarise

FORMATS = ("csv", "json", "xlsx", "parquet")
FREE_TEXT = {"notes": ["text"], "errors": ["note"], "answers": ["value_text"], "events": ["payload"]}


class ExportError(Exception):
    """The export cannot be written as asked."""


def _private(path: Path) -> None:
    os.chmod(path, 0o600)


def pseudonym(code: str, salt: str) -> str:
    return "p-" + hashlib.sha256(f"{salt}\0{code}".encode()).hexdigest()[:12]


def export(
    db_path: str | Path, out_dir: str | Path, fmt: str = "csv", *, pseudonymise: bool = False,
    salt: str | None = None, progress: object | None = None,
) -> list[Path]:  # fmt: skip
    """Write the study's tables and summary to ``out_dir``; returns the files written."""
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
    tables = load(db_path)
    summary = summarise(db_path)
    tables.pop("scenarios")
    tables["summary_tasks"] = summary.tasks
    tables["summary_sus"] = summary.sus
    tables["summary_problems"] = summary.problems
    tables["summary_questionnaires"] = pd.DataFrame([
        {"questionnaire": "sus", **summary.sus_summary},
        {"questionnaire": "umux-lite", **summary.umux_lite},
        {"questionnaire": "nps", **summary.nps},
    ])  # fmt: skip
    try:
        comparisons = compare(db_path)
    except AnalysisError:
        comparisons = None  # fewer than two conditions: nothing to compare
    if comparisons is not None:
        tables["summary_conditions_tasks"] = comparisons.tasks
        tables["summary_conditions_sus"] = comparisons.sus
    dropped: dict[str, list[str]] = {}
    if pseudonymise:
        salt = salt or secrets.token_hex(16)
        codes = {c: pseudonym(c, salt) for c in tables["sessions"]["participant"]}
        tables["sessions"] = tables["sessions"].assign(
            participant=tables["sessions"]["participant"].map(codes)
        )
        tables["summary_sus"] = tables["summary_sus"].assign(
            participant=tables["summary_sus"]["participant"].map(codes)
        )
        for table, columns in FREE_TEXT.items():
            tables[table] = tables[table].drop(columns=columns)
            dropped[table] = columns
        tables["summary_problems"] = tables["summary_problems"].drop(columns=["problem"])
        dropped["summary_problems"] = ["problem"]
    old_umask = os.umask(0o077)  # created private, not chmod-ed after a world-readable moment
    try:
        written = _write_tables(tables, out, fmt, progress)
        meta_path = out / "metadata.json"
        meta_path.write_text(json.dumps(_metadata(db_path, fmt, tables, pseudonymise, dropped),
                                        indent=2), encoding="utf-8")  # fmt: skip
        written.append(meta_path)
    except OSError as exc:
        raise ExportError(f"cannot write the export into {out}: {exc.strerror or exc} — free "
                          "some space or choose another --out; the database is unchanged") from exc  # fmt: skip
    finally:
        os.umask(old_umask)
    for path in written:
        _private(path)  # also when the file existed before (its mode is kept on rewrite)
    return written


def _write_tables(
    tables: dict[str, pd.DataFrame], out: Path, fmt: str, progress: object | None
) -> list[Path]:
    written: list[Path] = []
    if fmt == "xlsx":
        path = out / "usetest-export.xlsx"
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, df in tables.items():
                df.to_excel(writer, sheet_name=name[:31], index=False)
                _tick(progress)
        written.append(path)
    else:
        for name, df in tables.items():
            path = out / f"{name}.{fmt}"
            if fmt == "csv":
                df.to_csv(path, index=False)
            elif fmt == "json":
                df.to_json(path, orient="records", indent=1, force_ascii=False)
            else:
                df.to_parquet(path, index=False)
            written.append(path)
            _tick(progress)
    return written


def _metadata(db_path: str | Path, fmt: str, tables: dict[str, pd.DataFrame], pseudonymise: bool,
              dropped: dict[str, list[str]]) -> dict[str, object]:  # fmt: skip
    return {
        "format": "usetest-export/1",
        "usetest_version": __version__,
        "database": str(Path(db_path).resolve()),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "file_format": fmt,
        "tables": {name: len(df) for name, df in tables.items()},
        "pseudonymised": pseudonymise,
        "pseudonymisation": (
            {"participant_codes": "salted SHA-256 (first 12 hex digits), salt not stored",
             "dropped_free_text_columns": dropped} if pseudonymise else None
        ),
        "units": {"time_ms": "milliseconds", "time_s": "seconds", "mono_ms": "milliseconds",
                  "at": "UTC ISO 8601"},
    }


def _tick(progress: object | None) -> None:
    if progress is not None and callable(getattr(progress, "update", None)):
        progress.update(1)  # type: ignore[attr-defined]
