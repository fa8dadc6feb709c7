"""Moderator-app figures: keypress-to-committed-event latency and launch time.

Run on demand (not part of the test suite):

    .venv/bin/python -m tests.bench.bench_app [--events 1000] [--launches 7]

1. Latency: the real app under Pilot; `a` (assist) pressed N times. For each press we time the
   store's commit (the sink the engine writes through) and the whole press as Pilot sees it
   (key event -> action -> engine -> commit -> screen refresh). Afterwards the database must
   hold exactly N assists (no dropped keypress). The raw sqlite3 insert-and-commit figure from
   tests/bench/bench_store.py is measured in the same run for reference.
2. Launch: wall time of a fresh process from start until the first task screen is ready
   (`usetest run ... --participant`, headless), beside `python -c "import textual.app"`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.bench_store import percentile, raw_sqlite
from tests.conftest import ROOT
from usetest import store
from usetest.clock import SystemClock
from usetest.scenario import load_scenario
from usetest.tui.app import make_app

LAUNCH = """
import sys
from usetest.scenario import load_scenario
from usetest.tui.app import make_app
app = make_app(load_scenario(sys.argv[1]), sys.argv[2], participant=sys.argv[3], consent=True,
               profile={"age": "30-44", "experience": 12})
async def ready(pilot):
    await pilot.pause()
    assert type(app.screen).__name__ == "TaskScreen"
    app.exit()
app.run(headless=True, auto_pilot=ready)
"""


async def latency(db_path: Path, n: int) -> tuple[list[float], list[float], int]:
    app = make_app(load_scenario(ROOT / "scenarios" / "demo.yaml"), db_path,
                   clock=SystemClock(), participant="P01", consent=True,
                   profile={"age": "30-44", "experience": 12})  # fmt: skip
    commits: list[float] = []
    presses: list[float] = []
    async with app.run_test() as pilot:
        await pilot.press("space")
        rec = app.recording
        assert rec is not None
        sink = rec.session._sink

        def timed(event, state):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter_ns()
            sink(event, state)
            commits.append((time.perf_counter_ns() - t0) / 1e6)

        rec.session._sink = timed
        for _ in range(n):
            t0 = time.perf_counter_ns()
            await pilot.press("a")
            presses.append((time.perf_counter_ns() - t0) / 1e6)
    db = store.open_db(db_path)
    logged = db.execute("SELECT count(*) FROM events WHERE kind = 'assist_logged'").fetchone()[0]
    db.close()
    return commits, presses, logged


def launch_times(runs: int, tmp: Path) -> tuple[list[float], list[float]]:
    floor, ours = [], []
    scenario = str(ROOT / "scenarios" / "demo.yaml")
    for i in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
        floor.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", LAUNCH, scenario, str(tmp / "launch.db"), f"L{i}"],
                       check=True, capture_output=True)  # fmt: skip
        ours.append(time.perf_counter() - t0)
    return floor, ours


def main() -> None:
    parser = argparse.ArgumentParser(description="moderator app latency and launch time")
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--launches", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        commits, presses, logged = asyncio.run(latency(Path(tmp) / "lat.db", args.events))
        raw = raw_sqlite(Path(tmp) / "raw.db", args.events)
        floor, ours = launch_times(args.launches, Path(tmp))
    print(f"keypresses: {args.events}, assists in the database: {logged}"
          f" ({'none dropped' if logged == args.events else 'DROPPED ' + str(args.events - logged)})")  # fmt: skip
    print(f"{'':34}{'p50 ms':>9}{'p99 ms':>9}")
    for name, xs in (("raw sqlite3 insert+commit", raw), ("store commit (inside the app)", commits),
                     ("whole keypress via Pilot", presses)):  # fmt: skip
        print(f"{name:34}{statistics.median(xs):9.3f}{percentile(xs, 99):9.3f}")
    f, o = statistics.median(floor), statistics.median(ours)
    print(f"launch to first task screen: median {o:.3f} s; `import textual.app` {f:.3f} s;"
          f" ratio {o / f:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
