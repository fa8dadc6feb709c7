"""Per-event commit latency through the real store, beside a raw sqlite3 insert-and-commit.

Run on demand (not part of the test suite):

    .venv/bin/python -m tests.bench.bench_store [--events 2000]

Both sides use the same settings (a file on the same disk, WAL, synchronous=FULL) and run in
the same process, interleaved in rounds, so the ratio is meaningful on a noisy shared machine.
The store side is what a moderator's key press costs: the engine checks the command, builds the
event and the next state, and the store inserts the event and updates the projections in one
committed transaction.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from tests.conftest import STUDY_YAML
from usetest import recorder
from usetest.scenario import parse_scenario
from usetest.store import open_db


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def raw_sqlite(path: Path, n: int) -> list[float]:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, session_id INTEGER, seq INTEGER,"
        " kind TEXT, payload TEXT, mono_ms INTEGER, at TEXT)"
    )
    conn.commit()
    out = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        conn.execute(
            "INSERT INTO events (session_id, seq, kind, payload, mono_ms, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (1, i, "assist_logged", json.dumps({"note": None}), i, "2026-01-01T00:00:00.000Z"),
        )
        conn.commit()
        out.append((time.perf_counter_ns() - t0) / 1e6)
    conn.close()
    return out


def through_store(path: Path, n: int) -> list[float]:
    db = open_db(path)
    rec = recorder.start(db, parse_scenario(STUDY_YAML), "P01", claim=True)  # as the app does
    s = rec.session
    s.start()
    out = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        if i % 3 == 0:
            s.log_error("n", note="bench")
        elif i % 3 == 1:
            s.log_assist()
        else:
            s.log_note("observed", "observation")
        out.append((time.perf_counter_ns() - t0) / 1e6)
    db.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events per side (default 2000)")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds (default 4)")
    args = parser.parse_args()
    raw: list[float] = []
    ours: list[float] = []
    per_round = args.events // args.rounds
    with tempfile.TemporaryDirectory(dir=Path.cwd() / "results") as tmp:
        for r in range(args.rounds):
            raw += raw_sqlite(Path(tmp) / f"raw{r}.db", per_round)
            ours += through_store(Path(tmp) / f"store{r}.db", per_round)
    print(f"events per side: {len(raw)} (in {args.rounds} interleaved rounds)")
    print(f"{'':24}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, xs in (("raw sqlite3 commit", raw), ("usetest store commit", ours)):
        print(f"{name:24}{statistics.median(xs):10.3f}{percentile(xs, 99):10.3f}{max(xs):10.3f}")
    p50 = statistics.median(ours) / statistics.median(raw)
    p99 = percentile(ours, 99) / percentile(raw, 99)
    print(f"ratio store/raw: p50 {p50:.2f}x, p99 {p99:.2f}x (target p99 <= 4x)")


if __name__ == "__main__":
    main()
