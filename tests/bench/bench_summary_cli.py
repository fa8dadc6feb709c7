"""``usetest summary DB`` as a user runs it, beside a hand-written pandas script (the floor).

Run on demand (not part of the test suite):

    .venv/bin/python -m tests.bench.bench_summary_cli [--runs 9] [--large]

Builds a study of 40 participants x 10 tasks (two conditions, errors, assists, notes, SEQ,
SUS, UMUX-Lite, NPS) through the real recorder with a fake clock; ``--large`` uses 400
participants instead (4,000 attempts: the recorder plays every event, so 1M-attempt studies
belong to ``bench_analysis``). Then, as fresh subprocesses, interleaved (ours, floor, ours,
floor ...), it times the whole command, imports included (wall and CPU time):

- ours: ``python -m usetest summary DB`` (the terminal table);
- floor: a script an analyst would write with pandas, imports included: completion rate per
  task, mean time of the successful attempts per task and the mean SUS score (ten items
  pivoted per participant, Brooke's scoring), from the completed sessions.

Prints ``FIGURE | ours | floor | ratio`` (medians) and the spread of each side.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.bench import compile_as_installed
from usetest import recorder
from usetest.clock import FakeClock
from usetest.scenario import parse_scenario
from usetest.store import open_db

TASKS = [f"task-{i:02d}" for i in range(1, 11)]
STUDY = (
    "study: Bench study\nproduct: Bench app\nconditions: [current, redesign]\n"
    "task_order: latin-square\nerror_types:\n  - {key: n, name: navigation}\n"
    "  - {key: m, name: misread label}\ntasks:\n"
    + "".join(f"  - {{id: {t}, title: Task {t[-2:]}, prompt: Do thing {t[-2:]}.}}\n" for t in TASKS)
    + "questionnaires: [sus, umux-lite, nps]\n"
)

FLOOR = """
import sqlite3, sys
import pandas as pd
con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
att = pd.read_sql_query(
    "SELECT a.task_id, a.outcome, a.time_ms FROM attempts a JOIN sessions s ON s.id = a.session_id"
    " WHERE s.status = 'completed' AND a.outcome IN ('success', 'partial', 'fail', 'abandoned')",
    con)
ok = att.outcome == "success"
per_task = pd.DataFrame({"completion": ok.groupby(att.task_id).mean(),
                         "mean_time_s": att[ok].groupby("task_id").time_ms.mean() / 1000})
sus = pd.read_sql_query(
    "SELECT n.session_id, n.item, n.value_num FROM answers n JOIN sessions s ON s.id = n.session_id"
    " WHERE s.status = 'completed' AND n.questionnaire = 'sus'", con)
wide = sus.pivot(index="session_id", columns="item", values="value_num")
odd = wide[[f"sus{i}" for i in (1, 3, 5, 7, 9)]].sum(axis=1) - 5
even = 25 - wide[[f"sus{i}" for i in (2, 4, 6, 8, 10)]].sum(axis=1)
print(per_task.to_string())
print("SUS", round(((odd + even) * 2.5).mean(), 1))
"""


def build(path: Path, participants: int = 40, seed: int = 15) -> Path:
    """A completed study of ``participants`` sessions x 10 tasks, recorded event by event."""
    rng = random.Random(seed)
    loaded = parse_scenario(STUDY, "bench.yaml")
    db = open_db(path)
    clock = FakeClock(start_utc=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    for number in range(1, participants + 1):
        condition = "redesign" if number % 2 else "current"
        rec = recorder.start(db, loaded, f"P{number:03d}", "AB", condition, clock=clock)
        s = rec.session
        for task_id in s.state.order:
            s.start(task_id)
            clock.advance(60 * rng.lognormvariate(0, 0.4))
            if rng.random() < 0.4:
                s.log_error(rng.choice("nm"))
            if rng.random() < 0.15:
                s.log_assist("pointed")
            if rng.random() < 0.2:
                s.log_note("Missed the button", "problem", severity=2)
            roll = rng.random()
            outcome = "success" if roll < 0.7 else "partial" if roll < 0.85 else "fail"
            s.end(outcome)
            s.answer("seq", "seq", rng.randint(1, 7), task_id=task_id)
        for i in range(1, 11):
            s.answer("sus", f"sus{i}", rng.randint(1, 5))
        s.answer("umux-lite", "umux1", rng.randint(1, 7))
        s.answer("umux-lite", "umux2", rng.randint(1, 7))
        s.answer("nps", "nps", rng.randint(0, 10))
        s.complete()
        clock.advance(3600)
    db.close()
    return path


def _time(cmd: list[str]) -> tuple[float, float]:
    """Wall-clock seconds and CPU seconds (user + system) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _spread(xs: list[float]) -> str:
    return f"min {min(xs):.3f} max {max(xs):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description="usetest summary vs a pandas script")
    parser.add_argument("--runs", type=int, default=9, help="runs of each side (default 9)")
    parser.add_argument("--large", action="store_true", help="400 participants instead of 40")
    args = parser.parse_args()
    participants = 400 if args.large else 40
    compile_as_installed()
    with tempfile.TemporaryDirectory() as tmp:
        path = build(Path(tmp) / "bench.db", participants)
        ours_cmd = [sys.executable, "-m", "usetest", "summary", str(path)]
        floor_cmd = [sys.executable, "-c", FLOOR, str(path)]
        _time(ours_cmd), _time(floor_cmd)  # warm the page cache and .pyc files
        ours, floor = [], []
        for _ in range(args.runs):
            ours.append(_time(ours_cmd))
            floor.append(_time(floor_cmd))
    for i, what in ((0, "wall"), (1, "CPU")):
        o_runs, f_runs = [r[i] for r in ours], [r[i] for r in floor]
        o, f = statistics.median(o_runs), statistics.median(f_runs)
        print(f"summary {participants}x10 CLI, {what} (s) | {o:.3f} | {f:.3f} | {o / f:.2f}")
        print(f"  ours {_spread(o_runs)}; floor {_spread(f_runs)}")
    print(f"  {args.runs} interleaved runs each (ours, floor, ours, ...); CPU = user + system"
          " time of the process, less sensitive than wall time to other work on the machine")


if __name__ == "__main__":
    main()
