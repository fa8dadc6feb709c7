"""``usetest report`` as a user runs it: its time beside ``usetest summary``, the size of the
HTML and the peak memory, from a small study to a large one.

Run on demand (not part of the test suite):

    .venv/bin/python -m tests.bench.bench_report [--runs 7] [--large]

- The 40 participants x 10 tasks study (two conditions, errors, assists, notes, SEQ, SUS,
  UMUX-Lite, NPS), recorded event by event through the real recorder with a fake clock. As
  fresh subprocesses, interleaved (report, summary, report, summary ...), it times
  ``python -m usetest report DB -o FILE`` against ``python -m usetest summary DB`` (the floor:
  the same study summarised and drawn as a terminal table; the report also summarises each
  condition, for its comparison and charts, and draws four charts with matplotlib).
- The same study's four charts drawn in one process with the fixed margins the charts use,
  interleaved with matplotlib's constrained layout (what they used before): what it saves.
- A generated study of 100,000 attempts (``--large``: 1,000,000), written straight into the
  store's projection tables (10 tasks per session, two conditions, SUS, errors and notes), the
  sizes at which one dot per attempt made the page 14 and 141 MB. Once each, as subprocesses:
  the report's time, HTML size and peak RSS beside the summary's time and peak RSS.

Prints ``FIGURE | ours | floor | ratio`` (medians), then the spread of each side.
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
from pathlib import Path

from tests.bench import compile_as_installed
from tests.bench.bench_summary_cli import STUDY, TASKS
from tests.bench.bench_summary_cli import build as build_small
from usetest import recorder
from usetest.clock import FakeClock
from usetest.scenario import parse_scenario
from usetest.store import open_db

# the 40 x 10 study is bench_summary_cli's: report and summary are timed on the same data
SIZE_BOUND_MB = 2.0
"""The report's promised bound (docs/report.md), the floor its size is measured against."""


PROBLEMS = ["Missed the button", "Label unclear", "Search returned nothing", "Lost the cart"]
QUOTES = ["Where is it?", "Oh, that was easy.", "I would give up here."]


def build_large(path: Path, attempts: int, seed: int = 1) -> Path:
    """``attempts`` task attempts (10 per session, two conditions) with SUS answers, about 0.4
    errors and 0.1 notes per attempt, written straight into the projection tables (the
    recorder would take hours). The scenario is stored through the recorder, with one session
    left in progress (which the report leaves out)."""
    loaded = parse_scenario(STUDY, "bench.yaml")
    db = open_db(path)
    recorder.start(db, loaded, "P0", condition="current", clock=FakeClock())
    rng = random.Random(seed)
    conn = db.conn
    sessions = attempts // len(TASKS)
    at = "2026-11-02T09:00:00.000Z"
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO sessions (uid, scenario_id, participant, moderator, condition, task_order,"
        " status, started_at, ended_at) VALUES (?, 1, ?, 'AB', ?, '[]', 'completed', ?, ?)",
        ((f"u{i}", f"S{i:07d}", ("current", "redesign")[i % 2], at, at) for i in range(sessions)),
    )  # fmt: skip
    first = conn.execute("SELECT min(id) FROM sessions WHERE participant LIKE 'S%'").fetchone()[0]
    outcomes = ["success"] * 7 + ["fail", "partial", "abandoned"]
    conn.executemany(
        "INSERT INTO attempts (session_id, task_id, position, status, outcome, time_ms, errors,"
        " assists, pauses, pause_ms, interruptions, seq_rating) VALUES"
        " (?, ?, ?, 'ended', ?, ?, ?, ?, 0, 0, 0, ?)",
        ((first + i // 10, TASKS[i % 10], i % 10 + 1, rng.choice(outcomes),
          int(60_000 * rng.lognormvariate(0, 0.5)), rng.randrange(2), rng.randrange(2),
          rng.randint(1, 7)) for i in range(attempts)),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO answers (session_id, questionnaire, item, task_id, value_num, event_seq,"
        " answered_at) VALUES (?, 'sus', ?, '', ?, ?, ?)",
        ((first + s, f"sus{k}", rng.randint(1, 5), 100 + k, at)
         for s in range(sessions) for k in range(1, 11)),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO errors (session_id, event_seq, task_id, type_key, type_name, logged_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        ((first + i // 10, 200 + i % 10, TASKS[i % 10], k, {"n": "navigation", "m": "misread label"}[k], at)
         for i in range(attempts) if rng.random() < 0.4 for k in [rng.choice("nm")]),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO notes (session_id, event_seq, task_id, kind, text, severity, logged_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        ((first + i // 10, 300 + i % 10, TASKS[i % 10], kind,
          rng.choice(PROBLEMS if kind == "problem" else QUOTES), 2 if kind == "problem" else None, at)
         for i in range(attempts) if rng.random() < 0.1
         for kind in [rng.choice(["problem", "quote", "observation"])]),
    )  # fmt: skip
    conn.execute("COMMIT")
    db.close()
    return path


def _run(cmd: list[str]) -> tuple[float, float]:
    """Wall time (s) and the child's peak RSS (MB) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    # RUSAGE_CHILDREN is the largest child so far: a fresh process per figure keeps it honest
    return elapsed, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def _measured(cmd: list[str]) -> tuple[float, float]:
    """``cmd`` run in its own process, which reads its child's peak RSS alone."""
    out = subprocess.run([sys.executable, "-m", "tests.bench.bench_report", "--one", *cmd],
                         capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    return float(out[-2]), float(out[-1])


def _spread(xs: list[float]) -> str:
    return f"min {min(xs):.3f} max {max(xs):.3f}"


def usetest(*args: str) -> list[str]:
    return [sys.executable, "-m", "usetest", *args]


def small(runs: int, tmp: Path) -> None:
    path = build_small(tmp / "small.db")
    html = tmp / "small.html"
    ours_cmd, floor_cmd = usetest("report", str(path), "-o", str(html)), usetest("summary", str(path))
    _run(ours_cmd), _run(floor_cmd)  # warm the page cache and .pyc files
    ours, floor = [], []
    for _ in range(runs):
        ours.append(_run(ours_cmd)[0])
        floor.append(_run(floor_cmd)[0])
    o, f = statistics.median(ours), statistics.median(floor)
    print(f"report 40x10 CLI (s) vs summary | {o:.3f} | {f:.3f} | {o / f:.2f}")
    print(f"  report {_spread(ours)}; summary {_spread(floor)}; {runs} interleaved runs each;"
          f" HTML {html.stat().st_size / 1e6:.2f} MB")  # fmt: skip
    out = subprocess.run([sys.executable, "-m", "tests.bench.bench_report", "--margins", str(path),
                          str(runs)], capture_output=True, text=True, check=True).stdout  # fmt: skip
    print(out, end="")


def margins(path: Path, runs: int) -> None:
    """The four charts of ``path``'s report drawn with the fixed margins, and with
    matplotlib's constrained layout (what the charts used before), interleaved."""
    import warnings

    from usetest import charts
    from usetest.analysis import study_results

    summary, comparisons = study_results(path)
    groups = list(comparisons.summaries.items()) if comparisons else [("", summary)]
    fixed = charts._figure

    def constrained(*args: object, **kwargs: object) -> object:
        fig = fixed(*args, **kwargs)  # type: ignore[arg-type]
        fig.set_layout_engine("constrained")
        return fig

    def draw() -> float:
        t0 = time.perf_counter()
        for chart in (charts.completion_chart, charts.time_chart, charts.sus_chart,
                      charts.errors_chart):  # fmt: skip
            chart(groups)
        return time.perf_counter() - t0

    warnings.simplefilter("ignore")  # subplots_adjust under a layout engine: ignored, as meant
    draw()  # the fonts and caches, once
    ours, floor = [], []
    for _ in range(runs):
        charts._figure = fixed
        ours.append(draw())
        charts._figure = constrained  # type: ignore[assignment]
        floor.append(draw())
    o, f = statistics.median(ours), statistics.median(floor)
    print(f"4 charts 40x10, fixed margins vs constrained layout (s) | {o:.3f} | {f:.3f} | {o / f:.2f}")
    print(f"  fixed {_spread(ours)}; constrained {_spread(floor)}; {runs} interleaved runs each")


def large(attempts: int, tmp: Path) -> None:
    path = tmp / f"large-{attempts}.db"
    t0 = time.perf_counter()
    build_large(path, attempts)
    built = time.perf_counter() - t0
    html = tmp / "large.html"
    ours_s, ours_mb = _measured(usetest("report", str(path), "-o", str(html)))
    floor_s, floor_mb = _measured(usetest("summary", str(path)))
    size = html.stat().st_size / 1e6
    k = f"{attempts // 1000}k"
    print(f"report {k} attempts (s) vs summary | {ours_s:.2f} | {floor_s:.2f} | {ours_s / floor_s:.2f}")
    print(f"report {k} peak RSS (MB) vs summary | {ours_mb:.0f} | {floor_mb:.0f} | {ours_mb / floor_mb:.2f}")
    print(f"report {k} HTML (MB) vs bound | {size:.2f} | {SIZE_BOUND_MB:.2f} | {size / SIZE_BOUND_MB:.2f}")
    print(f"  built in {built:.1f} s; one run each")


def main() -> None:
    parser = argparse.ArgumentParser(description="usetest report: time, size and memory")
    parser.add_argument("--runs", type=int, default=7, help="interleaved runs of each side (default 7)")
    parser.add_argument("--large", action="store_true", help="1,000,000 attempts instead of 100,000")
    parser.add_argument("--one", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.add_argument("--margins", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(*_run(args.one))
        return
    if args.margins:
        margins(Path(args.margins[0]), int(args.margins[1]))
        return
    compile_as_installed()
    with tempfile.TemporaryDirectory() as tmp:
        small(args.runs, Path(tmp))
        large(1_000_000 if args.large else 100_000, Path(tmp))


if __name__ == "__main__":
    main()
