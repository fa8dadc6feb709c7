"""The study summary at scale, beside its floor: the same figures in plain SQL.

Run on demand (not part of the test suite):

    .venv/bin/python -m tests.bench.bench_analysis            # 10k and 100k attempts
    .venv/bin/python -m tests.bench.bench_analysis --large    # and 1M attempts
    .venv/bin/python -m tests.bench.bench_analysis --sizes 50000 --repeat 7

Data: tests/studydata.build_rich (5 tasks a session, two conditions and versions, errors,
notes, assists, every outcome, after-task questionnaires, SUS/UMUX-Lite/NPS/CSAT/CES, a custom
block with free text, profile answers), written in a child process.

Floor: what a hand-written script needs at least for the core of a summary, in plain SQL on a
plain read-only connection (fetchall): the per-task counts and sums (GROUP BY task), the
successful attempts' times, and the SUS answers pivoted to one row per participant.

Ours, three figures: ``summarise(path)`` as the CLI calls it on a file it reads for the first
time, which opens the file through the store (``store.open_read``: it checks every row of the
file before anything reads it); the same on a file an earlier command checked and that has not
changed since (the memo of checked files, usetest.checked: only the schema is compared again);
and the summary alone on a connection already open (read + compute: the part issue 15 item 2
is about). The full check is printed as a figure of its own against the same floor.

Times are medians of interleaved runs (floor, ours, floor, ours …) in one child process per
size; peak RSS is the child's own ``ru_maxrss`` in a fresh process per measure (imports alone
are printed for reference). Each figure is one line ``FIGURE | ours | floor | ratio``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.bench import compile_as_installed

ATTEMPTED = "('success', 'partial', 'fail', 'abandoned')"
FLOOR = {
    "tasks": f"""SELECT a.task_id, count(*), sum(a.outcome = 'success'), sum(a.outcome = 'abandoned'),
        sum(a.errors), sum(a.errors > 0), sum(a.assists), count(a.seq_rating), sum(a.seq_rating)
        FROM attempts a JOIN sessions s ON s.id = a.session_id
        WHERE s.status = 'completed' AND a.outcome IN {ATTEMPTED} GROUP BY a.task_id""",
    "times": """SELECT a.task_id, a.time_ms FROM attempts a JOIN sessions s ON s.id = a.session_id
        WHERE s.status = 'completed' AND a.outcome = 'success' AND a.time_ms > 0""",
    "sus": "SELECT session_id, "
           + ", ".join(f"max(CASE item WHEN 'sus{i}' THEN value_num END)" for i in range(1, 11))
           + ", sum(declined) FROM answers WHERE questionnaire = 'sus' AND task_id = ''"
             " GROUP BY session_id",
}  # fmt: skip
"""The floor's queries (each fetched whole, as Python tuples)."""


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "tests.bench.bench_analysis", *args],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def _floor(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for sql in FLOOR.values():
            conn.execute(sql).fetchall()
    finally:
        conn.close()


def _ours(path: Path) -> None:
    """``summarise`` on a file read for the first time: the store checks every row of it."""
    from usetest.analysis import summarise

    with _memo(""):  # no memo of checked files: the full check, as on a file just received
        summarise(path)


def _ours_remembered(path: Path) -> None:
    """``summarise`` on a file this usetest checked before and that has not changed since (the
    memo of checked files, usetest.checked: only the schema is compared again)."""
    from usetest.analysis import summarise

    with _memo(MEMO):
        summarise(path)


MEMO = os.environ.setdefault("BENCH_ANALYSIS_MEMO", tempfile.mkdtemp(prefix="bench-memo-"))
"""The memo's folder, shared with the child processes (the timing child's warm-up fills it)."""


@contextlib.contextmanager
def _memo(folder: str) -> Iterator[None]:
    """Run with the memo of checked files in ``folder`` ("": turned off)."""
    from usetest import checked

    before = os.environ.get("USETEST_CACHE_DIR")
    os.environ["USETEST_CACHE_DIR"] = folder
    checked.SETTLE_S = 0.0  # the bench's file is fresh, and nothing writes it while timed
    try:
        yield
    finally:
        if before is None:
            del os.environ["USETEST_CACHE_DIR"]
        else:
            os.environ["USETEST_CACHE_DIR"] = before


def _ours_checked(path: Path) -> None:
    """The summary on a connection already open (the store's check of the file left out):
    what ``summarise`` does after ``store.open_read``."""
    from usetest.analysis import _summarise, read_summary_tables

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        _summarise(read_summary_tables(conn))
    finally:
        conn.close()


def _check(path: Path) -> None:
    from usetest.store import open_read

    with _memo(""):
        open_read(path).close()


RUNS = {"floor": _floor, "ours": _ours, "ours_remembered": _ours_remembered,
        "ours_checked": _ours_checked, "check": _check}


def time_runs(path: Path, repeat: int) -> dict[str, list[float]]:
    """Interleaved runs of every measure, ``repeat`` rounds (after one warm-up round)."""
    times: dict[str, list[float]] = {name: [] for name in RUNS}
    for round_ in range(repeat + 1):
        for name, run in RUNS.items():
            t0 = time.perf_counter()
            run(path)
            if round_:
                times[name].append(time.perf_counter() - t0)
    return times


def _line(figure: str, ours: float, floor: float, unit: str = "s") -> str:
    fmt = "{:.3f}" if unit == "s" else "{:.0f}"
    return (f"{figure} | {fmt.format(ours)} {unit} | {fmt.format(floor)} {unit}"
            f" | {ours / floor:.2f}x")  # fmt: skip


def measure(attempts: int, repeat: int) -> list[str]:
    label = f"{attempts // 1000}k" if attempts < 1_000_000 else f"{attempts // 1_000_000}M"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        _child("--build", str(attempts), str(path))
        built = time.perf_counter() - t0
        times = _child("--time", str(path), "--repeat", str(repeat))
        rss = {name: _child("--rss", name, str(path))["rss_mb"]
               for name in ("floor", "ours", "ours_remembered", "ours_checked")}
    med = {name: statistics.median(v) for name, v in times.items()}
    spread = {name: (max(v) - min(v)) / statistics.median(v) for name, v in times.items()}
    lines = [
        _line(f"summarise {label} attempts", med["ours"], med["floor"]),
        _line(f"summarise {label} attempts, file checked by an earlier command",
              med["ours_remembered"], med["floor"]),
        _line(f"summarise {label} attempts, file already checked", med["ours_checked"],
              med["floor"]),
        _line(f"store check of the file (open_read) {label} attempts", med["check"],
              med["floor"]),
        _line(f"summarise {label} attempts peak RSS", rss["ours"], rss["floor"], "MB"),
        _line(f"summarise {label} attempts, file checked by an earlier command, peak RSS",
              rss["ours_remembered"], rss["floor"], "MB"),
        _line(f"summarise {label} attempts, file already checked, peak RSS",
              rss["ours_checked"], rss["floor"], "MB"),
        f"  ({label}: built in {built:.1f} s; per 1,000 attempts: summarise "
        f"{med['ours'] / attempts * 1e6:.2f} ms, checked before "
        f"{med['ours_remembered'] / attempts * 1e6:.2f} ms, already checked "
        f"{med['ours_checked'] / attempts * 1e6:.2f} ms, floor {med['floor'] / attempts * 1e6:.2f}"
        f" ms; spread (max-min)/median over {repeat} runs: "
        + ", ".join(f"{k} {v:.0%}" for k, v in spread.items()) + ")",
    ]  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description="the study summary beside its SQL floor")
    parser.add_argument("--sizes", default="10000,100000", help="attempts, comma-separated")
    parser.add_argument("--large", action="store_true", help="add 1,000,000 attempts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--time", help=argparse.SUPPRESS)
    parser.add_argument("--rss", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # the children allocate as the usetest command does (usetest.cli.main sets this)
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if args.build:
        from tests.studydata import build_rich

        build_rich(Path(args.build[1]), int(args.build[0]))
        print("{}")
        return
    if args.time:
        print(json.dumps(time_runs(Path(args.time), args.repeat)))
        return
    if args.rss:
        import usetest.analysis  # the same imports on both sides

        RUNS[args.rss[0]](Path(args.rss[1]))
        print(json.dumps({"rss_mb": _rss_mb()}))
        return
    if args.baseline:
        import usetest.analysis  # noqa: F401

        print(json.dumps({"rss_mb": _rss_mb()}))
        return
    sizes = [int(s) for s in args.sizes.split(",")] + ([1_000_000] if args.large else [])
    compile_as_installed()
    print(f"# summary vs plain-SQL floor; medians of {args.repeat} interleaved runs; peak RSS "
          f"of a fresh process (imports alone: {_child('--baseline')['rss_mb']:.0f} MB)")  # fmt: skip
    for size in sizes:
        for line in measure(size, args.repeat):
            print(line, flush=True)


if __name__ == "__main__":
    main()
