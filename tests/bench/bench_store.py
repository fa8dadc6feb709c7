"""Per-event commit latency through the real store, beside a raw sqlite3 insert-and-commit.

Run on demand (not part of the test suite):

    .venv/bin/python -m tests.bench.bench_store [--events 2000] [--large]

Both sides use the same settings (a file on the same disk, WAL, synchronous=FULL) and run in
the same process, interleaved one event at a time (ours, raw, raw, ours, ours, raw …: the
order alternates so neither side always follows the other), so a burst of noise from the rest
of the machine lands on both sides alike. The store side is what a moderator's key press costs:
the engine checks the command, builds the event and the next state, and the store inserts the
event and updates the projections in one committed transaction. The raw side inserts one row of
the same shape into a table of its own and commits.

Prints ``FIGURE | ours | floor | ratio`` lines (p50 and p99 in milliseconds).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import STUDY_YAML
from usetest import recorder
from usetest.scenario import parse_scenario
from usetest.store import open_db


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def raw_writer(path: Path) -> tuple[Callable[[int], None], Callable[[], None]]:
    """One raw INSERT + COMMIT per call, on a file opened with usetest's pragmas."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, session_id INTEGER, event_seq INTEGER,"
        " kind TEXT, payload TEXT, mono_ms INTEGER, at TEXT)"
    )
    conn.commit()

    def write(i: int) -> None:
        conn.execute(
            "INSERT INTO events (session_id, event_seq, kind, payload, mono_ms, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (1, i, "assist_logged", json.dumps({"note": None}), i, "2026-01-01T00:00:00.000Z"),
        )
        conn.commit()

    return write, conn.close


def store_writer(path: Path) -> tuple[Callable[[int], None], Callable[[], None]]:
    """One moderator event per call through the engine and the store, as the app records it."""
    db = open_db(path)
    rec = recorder.start(db, parse_scenario(STUDY_YAML), "P01", claim=True)  # as the app does
    s = rec.session
    s.start()

    def write(i: int) -> None:
        if i % 3 == 0:
            s.log_error("n", note="bench")
        elif i % 3 == 1:
            s.log_assist()
        else:
            s.log_note("observed", "observation")

    return write, db.close


def raw_sqlite(path: Path, n: int) -> list[float]:
    """Milliseconds per raw insert-and-commit, ``n`` in a row (for other benchmarks)."""
    write, close = raw_writer(path)
    out = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        write(i)
        out.append((time.perf_counter_ns() - t0) / 1e6)
    close()
    return out


def interleaved(folder: Path, n: int) -> tuple[list[float], list[float]]:
    """Milliseconds per event, ours and raw, one event each in turn."""
    ours_write, ours_close = store_writer(folder / "store.db")
    raw_write, raw_close = raw_writer(folder / "raw.db")
    ours: list[float] = []
    raw: list[float] = []
    try:
        for i in range(n):
            pair = ((ours_write, ours), (raw_write, raw))
            for write, out in pair if i % 2 == 0 else pair[::-1]:
                t0 = time.perf_counter_ns()
                write(i)
                out.append((time.perf_counter_ns() - t0) / 1e6)
    finally:
        ours_close()
        raw_close()
    return ours, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events per side (default 2000)")
    parser.add_argument("--large", action="store_true", help="20,000 events per side")
    args = parser.parse_args()
    n = max(args.events, 20_000) if args.large else args.events
    results = Path.cwd() / "results"
    with tempfile.TemporaryDirectory(dir=results if results.is_dir() else None) as tmp:
        ours, raw = interleaved(Path(tmp), n)
    print(f"# bench_store: {n} events per side, interleaved one at a time; same disk, WAL, "
          "synchronous=FULL")  # fmt: skip
    print("FIGURE | ours | floor | ratio")
    for q in (50, 99):
        o, f = percentile(ours, q), percentile(raw, q)
        print(f"store: per-event commit, p{q} ms | {o:.3f} | {f:.3f} | {o / f:.2f}x")
    pairs = sorted(o / r for o, r in zip(ours, raw, strict=True))
    print(f"# spread: ours p25-p75 {percentile(ours, 25):.3f}-{percentile(ours, 75):.3f} ms, raw "
          f"{percentile(raw, 25):.3f}-{percentile(raw, 75):.3f} ms; max ours {max(ours):.2f} ms,"
          f" raw {max(raw):.2f} ms; per-pair ratio median {statistics.median(pairs):.2f}x, "
          f"p10-p90 {percentile(pairs, 10):.2f}-{percentile(pairs, 90):.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
