"""The moderator app through a real pseudo-terminal, beside a minimal Textual app driven the same way.

Run on demand (not part of the test suite):

    .venv/bin/python -m tests.bench.bench_app [--keys 400] [--launches 10] [--large]

Both programs run in a pseudo-terminal of the same size (tests/bench/ptyterm.py): the bench
writes key bytes into it as a terminal emulator does and reads back the bytes the program draws.
Nothing of Pilot is involved.

1. Start: from spawning ``usetest run scenarios/demo.yaml --participant … --consent`` until the
   first task screen ("Task 1 of") is read back, against spawning the floor app
   (tests/bench/floor_app.py) until its first frame is read back. Launches alternate.
2. Keypress → committed → drawn: ``a`` (assist) written to the moderator app's terminal; the
   clock stops when the redrawn counter ("assists N") is read back. The floor app commits one
   row per ``a`` (WAL, synchronous=FULL, as usetest) and then redraws its counter. One key to
   each app in turn (the order alternating), a random pause between keys. After each key, and
   outside the timed window, the bench checks that the row is committed (visible to another
   connection); a key drawn before its row was visible is counted and reported.

Each figure is printed as ``FIGURE | ours | floor | ratio`` (medians, or percentiles, of the
interleaved runs).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import compile_as_installed
from tests.bench.ptyterm import Term
from tests.conftest import DEMO_PROFILE_ARGS, ROOT

USETEST = str(Path(sys.executable).with_name("usetest"))
FLOOR_APP = str(Path(__file__).with_name("floor_app.py"))
DEMO = str(ROOT / "scenarios" / "demo.yaml")
COLS, ROWS = 100, 30


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def figure(name: str, ours: float, floor: float, unit: str = "") -> None:
    """One line of the table ``make bench`` collects: FIGURE | ours | floor | ratio."""
    print(f"{name} | {ours:.3f}{unit} | {floor:.3f}{unit} | {ours / floor:.2f}x")


def moderator(db: Path, code: str) -> Term:
    return Term([USETEST, "run", DEMO, "--db", str(db), "--participant", code, "--consent",
                 *DEMO_PROFILE_ARGS.split()], cols=COLS, rows=ROWS)  # fmt: skip


def launches(runs: int, tmp: Path) -> tuple[list[float], list[float]]:
    """Seconds from spawn to the first task screen (ours) and to the first frame (floor)."""
    ours: list[float] = []
    floor: list[float] = []
    db = tmp / "launch.db"
    # one session first, so every timed launch opens an existing study database (the usual case)
    warm = moderator(db, "W00")
    warm.wait_for(r"Task 1 of")
    warm.close()
    for i in range(runs):
        for side in (("ours", "floor") if i % 2 == 0 else ("floor", "ours")):
            if side == "ours":
                term, text, out = moderator(db, f"L{i:03d}"), r"Task 1 of", ours
            else:
                term, text, out = Term([sys.executable, FLOOR_APP], COLS, ROWS), r"floor ready", floor
            try:
                term.wait_for(text)
                out.append(time.perf_counter() - term.started)
            finally:
                term.close()
    return ours, floor


def _committed(conn: sqlite3.Connection, sql: str, want: int, timeout: float = 5.0) -> bool:
    """Whether ``want`` rows were visible at once; waits (up to ``timeout``) if not."""
    if conn.execute(sql).fetchone()[0] >= want:
        return True
    deadline = time.perf_counter() + timeout
    while conn.execute(sql).fetchone()[0] < want:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"key {want} was drawn but its row never committed")
        time.sleep(0.001)
    return False


def keys(n: int, tmp: Path) -> tuple[list[float], list[float], int]:
    """Milliseconds from the key bytes written to the redrawn counter read back, per side,
    and how many keys were drawn before their row was visible to another connection."""
    ours_db, floor_db = tmp / "keys.db", tmp / "floor.db"
    ours_term = moderator(ours_db, "K01")
    floor_term = Term([sys.executable, FLOOR_APP, str(floor_db)], COLS, ROWS)
    early = 0
    ours: list[float] = []
    floor: list[float] = []
    try:
        ours_term.wait_for(r"Task 1 of")
        floor_term.wait_for(r"floor ready")
        mark = ours_term.mark()
        ours_term.send(b" ")  # start the task's clock: assists belong to a running task
        ours_term.wait_for(r"running", since=mark)
        # A second of quiet first, as before a moderator's first key (the participant reads
        # the task): the keys then time the app at work, not the last of its start-up (the
        # footer fills in its bindings twice just after the first frame).
        settle = time.perf_counter() + 1.0
        while (left := settle - time.perf_counter()) > 0:
            ours_term.read_some(left / 2)
            floor_term.read_some(0)
        readers = {
            "ours": (sqlite3.connect(f"file:{ours_db}?mode=ro", uri=True),
                     "SELECT count(*) FROM events WHERE kind = 'assist_logged'"),
            "floor": (sqlite3.connect(f"file:{floor_db}?mode=ro", uri=True),
                      "SELECT count(*) FROM events"),
        }  # fmt: skip
        sides = {"ours": (ours_term, r"assists (\d+)", ours),
                 "floor": (floor_term, r"count (\d+)", floor)}  # fmt: skip
        rng = random.Random(15)
        for i in range(1, n + 1):
            for side in (("ours", "floor") if i % 2 else ("floor", "ours")):
                term, pattern, out = sides[side]
                for t in (ours_term, floor_term):
                    t.drain(0)
                mark = term.mark()
                t0 = term.send(b"a")
                while True:
                    found = term.wait_for(pattern, since=mark, timeout=10)
                    if int(found.group(1)) == i:
                        break
                    mark += found.end()  # an older frame's counter: look further on
                out.append((time.perf_counter() - t0) * 1000)
                conn, sql = readers[side]
                early += not _committed(conn, sql, i)
                # idle a little, as between a moderator's keys (and off the clock's 0.2 s beat)
                pause_until = time.perf_counter() + rng.uniform(0.02, 0.06)
                while (left := pause_until - time.perf_counter()) > 0:
                    ours_term.read_some(left / 2)
                    floor_term.read_some(0)
        for conn, _ in readers.values():
            conn.close()
    finally:
        ours_term.close()
        floor_term.close()
    return ours, floor, early


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=400, help="keys per app (default 400)")
    parser.add_argument("--launches", type=int, default=10, help="launches per app (default 10)")
    parser.add_argument("--large", action="store_true", help="1000 keys and 20 launches")
    args = parser.parse_args()
    if args.large:
        args.keys, args.launches = max(args.keys, 1000), max(args.launches, 20)
    compile_as_installed()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        start_ours, start_floor = launches(args.launches, tmp)
        key_ours, key_floor, early = keys(args.keys, tmp)
    print(f"# bench_app: {args.launches} launches and {args.keys} keys per app, interleaved,"
          f" through a {COLS}x{ROWS} pseudo-terminal; keys drawn before committed: {early}")  # fmt: skip
    print("FIGURE | ours | floor | ratio")
    figure("app: start to first task screen (floor: first frame), median s",
           statistics.median(start_ours), statistics.median(start_floor))  # fmt: skip
    for q in (50, 99):
        figure(f"app: keypress -> committed -> drawn, p{q} ms",
               percentile(key_ours, q), percentile(key_floor, q))  # fmt: skip
    print(f"# spread (p25-p75): start ours {percentile(start_ours, 25):.3f}-"
          f"{percentile(start_ours, 75):.3f} s, floor {percentile(start_floor, 25):.3f}-"
          f"{percentile(start_floor, 75):.3f} s; keys ours {percentile(key_ours, 25):.2f}-"
          f"{percentile(key_ours, 75):.2f} ms, floor {percentile(key_floor, 25):.2f}-"
          f"{percentile(key_floor, 75):.2f} ms; max ours {max(key_ours):.1f} ms, floor "
          f"{max(key_floor):.1f} ms")  # fmt: skip
    if early:
        print(f"# WARNING: {early} keys were drawn before their row was committed")
        sys.exit(1)


if __name__ == "__main__":
    main()
