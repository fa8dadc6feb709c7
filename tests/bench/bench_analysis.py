"""summarise() and the Parquet export on synthetic databases, beside the raw SQL GROUP BY floor.

Run on demand (not part of the test suite):

    .venv/bin/python -m tests.bench.bench_analysis [--sizes 10000,100000,1000000] [--repeat 3]

Each size runs in its own process (so peak RSS is per size): build a database of N task
attempts (5 tasks per session, ~5 events per attempt, SUS answers per session) with direct
inserts, then time, in the same process, the per-task GROUP BY in raw SQL (the floor),
``summarise`` and the Parquet export. Medians of --repeat runs.
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
        " answered_at) VALUES (?, 'sus', ?, '', ?, 0, '')",
        ((first + s, f"sus{k}", rng.randint(1, 5)) for s in range(n_sessions) for k in range(1, 11)),
    )
    conn.execute("COMMIT")
    db.close()


def measure(attempts: int, repeat: int) -> dict[str, float]:
    from usetest.analysis import summarise
    from usetest.export import export

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        build(path, attempts)
        built = time.perf_counter() - t0
        floor, summ, parquet = [], [], []
        for _ in range(repeat):
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            t0 = time.perf_counter()
            conn.execute(GROUP_BY).fetchall()
            floor.append(time.perf_counter() - t0)
            conn.close()
            t0 = time.perf_counter()
            summarise(path)
            summ.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        export(path, Path(tmp) / "out", "parquet")
        parquet.append(time.perf_counter() - t0)
    return {
        "attempts": attempts, "build_s": built, "group_by_s": statistics.median(floor),
        "summarise_s": statistics.median(summ), "parquet_export_s": statistics.median(parquet),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="summarise and Parquet export timings")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeat)))
        return
    print(f"{'attempts':>9} {'GROUP BY s':>11} {'summarise s':>12} {'ratio':>6}"
          f" {'parquet s':>10} {'peak RSS MB':>12}")  # fmt: skip
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, "-m", "tests.bench.bench_analysis", "--one", str(size),
             "--repeat", str(args.repeat)], capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        r = json.loads(out.strip().splitlines()[-1])
        print(f"{size:>9} {r['group_by_s']:>11.3f} {r['summarise_s']:>12.3f}"
              f" {r['summarise_s'] / r['group_by_s']:>5.1f}x {r['parquet_export_s']:>10.3f}"
              f" {r['peak_rss_mb']:>12.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
