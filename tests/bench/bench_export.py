"""The exports (CSV, Parquet, xlsx, JSON) beside their floors: the same database tables written
straight from SQLite by pyarrow (CSV, Parquet), openpyxl's write-only mode (xlsx) and the json
library (JSON), with nothing else (no types, no summary tables, no metadata).

Run on demand (not part of the test suite):

    .venv/bin/python -m tests.bench.bench_export            # 40 x 10 and 100k attempts
    .venv/bin/python -m tests.bench.bench_export --large    # and 1M attempts (minutes)
    .venv/bin/python -m tests.bench.bench_export --sizes 400,20000 --repeat 5 --formats csv

Each size is a synthetic study (:func:`build`): 10 tasks per participant, two conditions, 5
events per attempt, errors, notes (some with quotes, commas, line breaks and formula-like
text), SUS answers and a free-text answer per participant. Each figure is one fresh process per
run (wall time from start to exit, imports included, as a user waits for ``usetest export``),
ours and the floor interleaved (ours, floor, ours, floor …), the median of ``--repeat`` runs
(3; xlsx and JSON, which have no time target, once from 20k attempts on); peak memory is the
child's own ``ru_maxrss``. Lines read::

    FIGURE | ours | floor | ratio

(``export csv 100_000 s | 3.10 | 2.40 | 1.29x``), the spread of the runs (min–max, on a line
of its own), which says how noisy the machine was, and the peak RSS of both.

xlsx beyond 20,000 attempts runs once each side and only with ``--large`` (openpyxl takes
minutes there, floor or not); at 1M attempts the events do not fit a sheet, and the figure is
how soon the export refuses. ``store.verify`` is what the first read of a database pays before
it reads anything (the store's check of the file, which the floors do not do), printed beside
the Parquet floor so that its share of a first export's time is plain; the export figures are
of a file an earlier command checked (the memo of checked files: only the schema is compared).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import compile_as_installed

FORMATS = ("csv", "parquet", "xlsx", "json")
SETTLE_S = 3.0
"""usetest.checked.SETTLE_S (not imported: the parent process imports no usetest module)."""
CHUNK = 20_000
"""Rows per batch in the floors: the export's own batch size (usetest.export.CHUNK_ROWS)."""
TEN_TASKS = """\
study: Export bench
product: Bench app
task_order: fixed
conditions: [current, redesign]
error_types:
  - {key: n, name: navigation}
  - {key: m, name: misread label}
tasks:
""" + "".join(f"  - {{id: t{i:02d}, title: Task {i}, prompt: Do thing {i}., time_limit: 120}}\n"
              for i in range(1, 11)) + "questionnaires: [sus]\n"  # fmt: skip
NOTES = ['I expected "Pay" here, not there.', "=HYPERLINK(\"http://x\",\"click\")",
         "Looked for the menu, then\nthe search, then gave up", "fine, quick, easy",
         "-1 is what she typed", "Hmm."]  # fmt: skip


def _at(ms: int) -> str:
    """An ISO 8601 UTC moment, ``ms`` milliseconds after 2026-01-05 09:00."""
    s, ms = divmod(ms, 1000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    d, h = divmod(h + 9, 24)
    return f"2026-01-{5 + d % 20:02d}T{h:02d}:{m:02d}:{s:02d}.{ms:03d}Z"


def build(path: Path, attempts: int) -> None:
    """A study of ``attempts`` task attempts (10 per participant) with direct inserts."""
    from usetest import recorder
    from usetest.clock import FakeClock
    from usetest.scenario import parse_scenario
    from usetest.store import open_db

    db = open_db(path)
    recorder.start(db, parse_scenario(TEN_TASKS), "P00", condition="current", clock=FakeClock())
    conn = db.conn
    seq = "event_seq" if "event_seq" in {r[1] for r in conn.execute("PRAGMA table_info(events)")} else "seq"
    rng = random.Random(1)
    n_sessions = max(attempts // 10, 1)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO sessions (uid, scenario_id, participant, moderator, condition, task_order,"
        " status, started_at, ended_at, runs) VALUES (?, 1, ?, ?, ?, '[]', 'completed', ?, ?, 1)",
        ((f"u{i}", f"S{i:07d}", f"mod {i % 3}", ("current", "redesign")[i % 2], _at(i * 3_600_000),
          _at(i * 3_600_000 + 1_800_000)) for i in range(n_sessions)),
    )  # fmt: skip
    first = conn.execute("SELECT min(id) FROM sessions WHERE participant LIKE 'S%'").fetchone()[0]
    outcomes = ["success"] * 7 + ["fail", "partial", "abandoned"]
    conn.executemany(
        "INSERT INTO attempts (session_id, task_id, position, status, outcome, time_ms, errors,"
        " assists, pauses, pause_ms, interruptions, seq_rating, time_limit_s, over_time_limit,"
        " started_at, ended_at) VALUES (?, ?, ?, 'ended', ?, ?, ?, ?, 0, 0, 0, ?, 120, ?, ?, ?)",
        ((first + i // 10, f"t{i % 10 + 1:02d}", i % 10 + 1, rng.choice(outcomes), t,
          rng.randrange(3), rng.randrange(2), rng.choice([None, 1, 4, 5, 6, 7, 7]),
          int(t > 120_000), _at(i * 360_000), _at(i * 360_000 + t))
         for i in range(attempts) for t in [int(rng.lognormvariate(11, 0.6))]),
    )  # fmt: skip
    kinds = ["task_started", "assist_logged", "error_logged", "note_logged", "task_ended"]
    conn.executemany(
        f"INSERT INTO events (session_id, {seq}, run, kind, task_id, payload, mono_ms, at)"
        " VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
        ((first + i // 50, i % 50 + 1, kinds[i % 5], f"t{(i // 5) % 10 + 1:02d}",
          '{"key": "a", "note": "said \\"where?\\", then left"}' if i % 5 == 3 else "{}",
          i * 1000, _at(i * 72_000)) for i in range(attempts * 5)),
    )  # fmt: skip
    conn.executemany(
        f"INSERT INTO errors (session_id, {seq}, task_id, type_key, type_name, note, logged_at)"
        " VALUES (?, ?, ?, 'n', 'navigation', ?, ?)",
        ((first + i // 10, (i % 10) * 5 + 3, f"t{i % 10 + 1:02d}", NOTES[i % 6] if i % 4 else None,
          _at(i * 360_000 + 5000)) for i in range(0, attempts, 3)),
    )  # fmt: skip
    conn.executemany(
        f"INSERT INTO notes (session_id, {seq}, task_id, kind, text, severity, logged_at, author)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ((first + i // 10, (i % 10) * 5 + 4, f"t{i % 10 + 1:02d}", ("observation", "problem")[i % 2],
          NOTES[i % 6], (i // 2) % 5 if i % 2 else None, _at(i * 360_000 + 9000),
          "KL" if i % 3 == 0 else None) for i in range(0, attempts, 2)),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO answers (session_id, questionnaire, item, task_id, value_num, value_text,"
        " event_seq, answered_at, declined) VALUES (?, ?, ?, '', ?, ?, 0, ?, ?)",
        ((first + s, q, item, num, text, _at(s * 3_600_000 + 1_700_000), declined)
         for s in range(n_sessions)
         for q, item, num, text, declined in [
             *(("sus", f"sus{k}", rng.randint(1, 5), None, 0) for k in range(1, 11)),
             ("extra", "comment", None, NOTES[s % 6], 0),
             ("extra", "rating", None, None, 1)]),
    )  # fmt: skip
    conn.execute("COMMIT")
    db.close()


# ---------------------------------------------------------------------------------------------
# The floors: the database tables, straight from SQLite, and nothing else.


def _tables(conn: sqlite3.Connection) -> list[str]:
    from usetest.store import TABLES

    return [t for t in TABLES if t != "scenarios"]


def _columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return [(r[1], (r[2] or "").upper()) for r in conn.execute(f"PRAGMA table_info({table})")]


def _batches(conn: sqlite3.Connection, table: str):  # type: ignore[no-untyped-def]
    import pyarrow as pa

    columns = _columns(conn, table)
    types = [pa.int64() if t == "INTEGER" else pa.float64() if t == "REAL" else pa.string()
             for _, t in columns]  # fmt: skip
    schema = pa.schema(list(zip([c for c, _ in columns], types, strict=True)))
    cur = conn.execute(f"SELECT * FROM {table}")
    yield schema
    while rows := cur.fetchmany(CHUNK):
        yield pa.RecordBatch.from_arrays(
            [pa.array(c, type=t) for c, t in zip(zip(*rows, strict=True), types, strict=True)], schema=schema)


def floor(fmt: str, db: Path, out: Path) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    out.mkdir()
    if fmt in ("csv", "parquet"):
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        for table in _tables(conn):
            batches = _batches(conn, table)
            schema = next(batches)
            writer = (pq.ParquetWriter(out / f"{table}.parquet", schema) if fmt == "parquet"
                      else pcsv.CSVWriter(out / f"{table}.csv", schema))  # fmt: skip
            for batch in batches:
                writer.write_batch(batch)
            writer.close()
    elif fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        for table in _tables(conn):
            sheet = book.create_sheet(table)
            sheet.append([c for c, _ in _columns(conn, table)])
            cur = conn.execute(f"SELECT * FROM {table}")
            while rows := cur.fetchmany(CHUNK):
                for row in rows:
                    sheet.append(row)
        book.save(out / "floor.xlsx")
    else:
        for table in _tables(conn):
            names = [c for c, _ in _columns(conn, table)]
            with (out / f"{table}.json").open("w", encoding="utf-8") as f:
                f.write("[")
                cur = conn.execute(f"SELECT * FROM {table}")
                sep = "\n"
                while rows := cur.fetchmany(CHUNK):
                    for row in rows:
                        f.write(sep + json.dumps(dict(zip(names, row, strict=True)),
                                                 ensure_ascii=False))  # fmt: skip
                        sep = ",\n"
                f.write("\n]\n")
    conn.close()


def ours(fmt: str, db: Path, out: Path) -> None:
    from usetest.export import ExportError, export

    try:
        export(db, out, fmt)
    except ExportError as exc:  # xlsx at 1M: refused (the figure is how soon)
        print(exc, file=sys.stderr)


def verify(fmt: str, db: Path, out: Path) -> None:
    """What every read of a database costs before it reads anything: the store's check of the
    file (usetest.store.verify, through open_read), which the floors do not do."""
    from usetest import store

    store.open_read(db).close()


# ---------------------------------------------------------------------------------------------


def _child(*args: str, memo: bool = True) -> dict[str, float]:
    """One run in a fresh process; ``memo=False``: without the memo of checked files (a file
    read for the first time), else with the bench's own memo (see :func:`main`)."""
    env = {**os.environ, **({} if memo else {"USETEST_CACHE_DIR": ""})}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tests.bench.bench_export", *args],
                          capture_output=True, text=True, env=env)  # fmt: skip
    took = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return {"s": took, **json.loads(done.stdout.strip().splitlines()[-1])}


def _size_name(attempts: int) -> str:
    return "40x10" if attempts == 400 else f"{attempts:,}".replace(",", "_")


def main() -> None:
    parser = argparse.ArgumentParser(description="exports beside their floors")
    parser.add_argument("--sizes", default="400,20000",
                        help="attempts (10 per participant); 100,000 and 1M with --large")
    parser.add_argument("--large", action="store_true", help="add 1,000,000 attempts")
    parser.add_argument("--repeat", type=int, default=0,
                        help="runs per figure (default: 3 up to 100k, 1 above; xlsx and json "
                             "once from 20k on)")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--run", nargs=3, help=argparse.SUPPRESS)  # who fmt db
    args = parser.parse_args()
    # the children allocate as the usetest command does (usetest.cli.main sets this)
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if args.build:
        build(Path(args.build[1]), int(args.build[0]))
        print("{}")
        return
    if args.run:
        who, fmt, db = args.run
        with tempfile.TemporaryDirectory() as tmp:
            {"ours": ours, "floor": floor, "verify": verify}[who](fmt, Path(db), Path(tmp) / "out")
        print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
        return
    sizes = [int(s) for s in args.sizes.split(",")] + ([100_000, 1_000_000] if args.large else [])
    compile_as_installed()
    memo = tempfile.TemporaryDirectory(prefix="bench-export-memo-")
    os.environ["USETEST_CACHE_DIR"] = memo.name
    formats = [f for f in args.formats.split(",") if f]
    print("FIGURE | ours | floor | ratio   (wall s of a fresh process, median of interleaved "
          "runs; RSS MB: peak of each process)")  # fmt: skip
    for size in sizes:
        repeat = args.repeat or (3 if size <= 100_000 else 1)
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.db"
            _child("--build", str(size), str(db))
            # The exports read a file an earlier command checked (the memo of checked files,
            # usetest.checked), as an analyst's second and later exports do; the full check a
            # first read adds is the store.verify line. The memo trusts a file once it has not
            # changed for SETTLE_S seconds.
            time.sleep(SETTLE_S)
            _child("--run", "verify", "-", str(db))
            for fmt in formats:
                if fmt == "xlsx" and 20_000 < size < 1_000_000 and not args.large:
                    print(f"export xlsx {_size_name(size)}: left out (minutes a run; --large)")
                    continue
                if fmt == "xlsx" and size * 5 > 1_048_575:  # the events do not fit a sheet
                    refused = [_child("--run", "ours", fmt, str(db)) for _ in range(repeat)]
                    took = statistics.median(r["s"] for r in refused)
                    print(f"export xlsx {_size_name(size)} refused (too many rows) s | {took:.2f} "
                          f"| n/a | n/a\n  (peak RSS {max(r['rss_mb'] for r in refused):.0f} MB)")  # fmt: skip
                    continue
                runs: dict[str, list[dict[str, float]]] = {"ours": [], "floor": []}
                # xlsx and JSON (no time target) once from 20k on: a run takes long
                for _ in range(1 if fmt in ("xlsx", "json") and size >= 20_000 else repeat):
                    for who in ("ours", "floor"):
                        runs[who].append(_child("--run", who, fmt, str(db)))
                _report(f"export {fmt} {_size_name(size)}", runs)
            if size > 1000:  # what the store's check of the file costs, beside a floor
                runs = {"ours": [], "floor": []}
                for _ in range(1):
                    runs["ours"].append(_child("--run", "verify", "-", str(db), memo=False))
                    runs["floor"].append(_child("--run", "floor", "parquet", str(db)))
                _report(f"store.verify (a file's first read) vs parquet floor {_size_name(size)}",
                        runs)  # fmt: skip


def _report(name: str, runs: dict[str, list[dict[str, float]]]) -> None:
    s = {w: statistics.median(r["s"] for r in runs[w]) for w in runs}
    rss = {w: max(r["rss_mb"] for r in runs[w]) for w in runs}
    spread = {w: (min(r["s"] for r in runs[w]), max(r["s"] for r in runs[w])) for w in runs}
    print(f"{name} s | {s['ours']:.2f} | {s['floor']:.2f} | {s['ours'] / s['floor']:.2f}x\n"
          f"  (runs {len(runs['ours'])}; ours {spread['ours'][0]:.2f}–{spread['ours'][1]:.2f}, "
          f"floor {spread['floor'][0]:.2f}–{spread['floor'][1]:.2f})")  # fmt: skip
    print(f"{name} RSS MB | {rss['ours']:.0f} | {rss['floor']:.0f} | "
          f"{rss['ours'] / rss['floor']:.2f}x", flush=True)  # fmt: skip

if __name__ == "__main__":
    main()
