"""summarise() and the Parquet export on synthetic databases, beside the raw SQL GROUP BY floor.

Run on demand (not part of the test suite):

    .venv/bin/python -m tests.bench.bench_analysis [--sizes 10000,100000,1000000] [--repeat 3]

For each size: build a database of N task attempts (5 tasks per session, 5 events per attempt,
SUS answers per session) with direct inserts; then, in a fresh process, time the per-task
GROUP BY in raw SQL (the floor) and ``summarise`` (medians of --repeat runs) and read that
process's peak RSS; then, in another fresh process, the Parquet export and its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import STUDY_YAML
from usetest import recorder
from usetest.clock import FakeClock
from usetest.scenario import parse_scenario
from usetest.store import open_db

FIVE_TASKS = STUDY_YAML.replace(
    "questionnaires:", "  - {id: four, title: Four, prompt: P4.}\n"
    "  - {id: five, title: Five, prompt: P5.}\nquestionnaires:",
)  # fmt: skip
GROUP_BY = """SELECT a.task_id, count(*), sum(a.outcome = 'success'), avg(a.time_ms),
    avg(ln(a.time_ms)), sum(a.errors), sum(a.assists), avg(a.seq_rating)
    FROM attempts a JOIN sessions s ON s.id = a.session_id
    WHERE s.status = 'completed' AND a.outcome IN ('success', 'partial', 'fail', 'abandoned')
    GROUP BY a.task_id"""


def build(path: Path, attempts: int) -> None:
    db = open_db(path)
    recorder.start(db, parse_scenario(FIVE_TASKS), "P00", clock=FakeClock())  # stores scenario
    rng = random.Random(1)
    tasks = ["one", "two", "three", "four", "five"]
    conn = db.conn
    n_sessions = attempts // 5
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO sessions (uid, scenario_id, participant, task_order, status, started_at)"
        " VALUES (?, 1, ?, '[]', 'completed', '2026-01-01T00:00:00.000Z')",
        ((f"u{i}", f"S{i:07d}") for i in range(n_sessions)),
    )
    first = conn.execute("SELECT min(id) FROM sessions WHERE participant LIKE 'S%'").fetchone()[0]
    outcomes = ["success"] * 7 + ["fail", "partial", "abandoned"]
    conn.executemany(
        "INSERT INTO attempts (session_id, task_id, position, status, outcome, time_ms, errors,"
        " assists, pauses, pause_ms, interruptions, seq_rating) VALUES"
        " (?, ?, ?, 'ended', ?, ?, ?, ?, 0, 0, 0, ?)",
        ((first + i // 5, tasks[i % 5], i % 5 + 1, rng.choice(outcomes),
          int(rng.lognormvariate(11, 0.6)), rng.randrange(3), rng.randrange(2), rng.randint(1, 7))
         for i in range(attempts)),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO events (session_id, seq, run, kind, task_id, payload, mono_ms, at)"
        " VALUES (?, ?, 1, ?, ?, '{}', ?, '2026-01-01T00:00:00.000Z')",
        ((first + i // 25, i % 25 + 1, "assist_logged", tasks[(i // 5) % 5], i)
         for i in range(attempts * 5)),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO answers (session_id, questionnaire, item, task_id, value_num, event_seq,"
        " answered_at) VALUES (?, 'sus', ?, '', ?, 0, '2026-01-01T00:00:00.000Z')",
        ((first + s, f"sus{k}", rng.randint(1, 5)) for s in range(n_sessions) for k in range(1, 11)),
    )
    conn.execute("COMMIT")
    db.close()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "tests.bench.bench_analysis", *args],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def time_summary(path: Path, repeat: int) -> dict[str, float]:
    """In its own process, so the peak RSS is the summary's alone (plus the interpreter)."""
    from usetest.analysis import summarise

    floor, summ = [], []
    for _ in range(repeat):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        t0 = time.perf_counter()
        conn.execute(GROUP_BY).fetchall()
        floor.append(time.perf_counter() - t0)
        conn.close()
        t0 = time.perf_counter()
        summarise(path)
        summ.append(time.perf_counter() - t0)
    return {"group_by_s": statistics.median(floor), "summarise_s": statistics.median(summ),
            "summarise_rss_mb": _rss_mb()}  # fmt: skip


def time_export(path: Path) -> dict[str, float]:
    from usetest.export import export

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        export(path, Path(tmp) / "out", "parquet")
        return {"parquet_export_s": time.perf_counter() - t0, "export_rss_mb": _rss_mb()}


def measure(attempts: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        _child("--build", str(attempts), str(path))
        built = time.perf_counter() - t0
        baseline = _child("--baseline")["rss_mb"]
        return {"attempts": attempts, "build_s": built, "baseline_rss_mb": baseline,
                **_child("--summarise", str(path), "--repeat", str(repeat)),
                **_child("--export", str(path))}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="summarise and Parquet export timings")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--summarise", help=argparse.SUPPRESS)
    parser.add_argument("--export", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build(Path(args.build[1]), int(args.build[0]))
        print("{}")
        return
    if args.summarise:
        print(json.dumps(time_summary(Path(args.summarise), args.repeat)))
        return
    if args.export:
        print(json.dumps(time_export(Path(args.export))))
        return
    if args.baseline:  # the same imports, no work: what the interpreter and libraries take
        import usetest.analysis
        import usetest.export  # noqa: F401

        print(json.dumps({"rss_mb": _rss_mb()}))
        return
    print(f"{'attempts':>9} {'GROUP BY s':>11} {'summarise s':>12} {'ratio':>6} {'RSS MB':>7}"
          f" {'parquet s':>10} {'RSS MB':>7}   (RSS: peak of the process; imports alone "
          f"{_child('--baseline')['rss_mb']:.0f} MB)")  # fmt: skip
    for size in (int(s) for s in args.sizes.split(",")):
        r = measure(size, args.repeat)
        print(f"{size:>9} {r['group_by_s']:>11.3f} {r['summarise_s']:>12.3f}"
              f" {r['summarise_s'] / r['group_by_s']:>5.1f}x {r['summarise_rss_mb']:>7.0f}"
              f" {r['parquet_export_s']:>10.3f} {r['export_rss_mb']:>7.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
