"""Run every benchmark (tests/bench/bench_*.py) and collect their figures into one table.

    .venv/bin/python -m tests.bench.run_all [--large] [--only store,app] [--out FILE.md]
    make bench            # the same, default sizes (under 10 minutes)
    make bench LARGE=1    # with the 1M-row sizes (much longer)

Each benchmark runs as its own process (``python -m tests.bench.bench_NAME``, one after the
other, so they do not compete for the two cores) and prints one line per figure:
``FIGURE | ours | floor | ratio``. Those lines are collected, in the order the benchmarks ran,
into one Markdown table (stdout, and ``--out``); every other line a benchmark prints is kept in
the log beside the table (``--log``). A benchmark that fails or runs past ``--timeout`` is named
in the table with its exit status and the last lines it printed (and the figures it printed
before it was stopped); the others still run, and the exit status is 1.

Time: each benchmark's default run should take under 2 minutes; ``--timeout`` (150 s) stops one
that does not, and ``--budget`` (570 s) keeps the whole run under 10 minutes: a benchmark gets
at most the time left, and those that no time is left for are listed as not run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIGURE = re.compile(r"^\s*(?P<name>[^|]+?)\s*\|\s*(?P<ours>[^|]+?)\s*\|\s*(?P<floor>[^|]+?)\s*\|"
                    r"\s*(?P<ratio>[^|]+?)\s*$")  # fmt: skip


@dataclass
class Result:
    bench: str
    seconds: float
    status: int | None
    """Exit status; None if it ran past the time allowed and was stopped."""
    figures: list[tuple[str, str, str, str]] = field(default_factory=list)
    output: str = ""


def figures(output: str) -> list[tuple[str, str, str, str]]:
    """The ``FIGURE | ours | floor | ratio`` lines of a benchmark's output (not the header,
    not ``#`` comments)."""
    found = []
    for line in output.splitlines():
        m = FIGURE.match(line)
        if not m or line.lstrip().startswith("#") or m["name"].upper() == "FIGURE":
            continue
        found.append((m["name"], m["ours"], m["floor"], m["ratio"]))
    return found


def discover(only: list[str] | None = None) -> list[str]:
    """The benchmark modules present, by name (``bench_store`` …), in a stable order."""
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if only:
        wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in only}
        missing = wanted - set(names)
        if missing:
            sys.exit(f"run_all: no such benchmark: {', '.join(sorted(missing))} "
                     f"(present: {', '.join(names)})")  # fmt: skip
        names = [n for n in names if n in wanted]
    return names


def run(bench: str, large: bool, timeout: float) -> Result:
    cmd = [sys.executable, "-m", f"tests.bench.{bench}", *(["--large"] if large else [])]
    if timeout <= 0:
        return Result(bench, 0.0, None, output="not run: no time left in the budget")
    t0 = time.perf_counter()
    # its own process group: a benchmark stopped for time takes the apps it started with it
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, start_new_session=True)  # fmt: skip
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # SIGINT first: KeyboardInterrupt runs its clean-ups (tmux servers, temporary files)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            stdout, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            stdout, _ = proc.communicate()
        return Result(bench, time.perf_counter() - t0, None, figures(stdout), stdout)
    output = stdout + (f"\n[stderr]\n{stderr}" if stderr.strip() else "")
    return Result(bench, time.perf_counter() - t0, proc.returncode, figures(stdout), output)


def table(results: list[Result]) -> str:
    lines = ["| benchmark | figure | ours | floor | ratio |", "|---|---|---|---|---|"]
    for r in results:
        for name, ours, floor, ratio in r.figures:
            lines.append(f"| {r.bench} | {name} | {ours} | {floor} | {ratio} |")
        if r.status != 0:
            why = ("not run: no time left" if r.seconds == 0 else "stopped: ran past the time "
                   "allowed") if r.status is None else f"exit {r.status}"  # fmt: skip
            tail = " / ".join(r.output.strip().splitlines()[-3:]).replace("|", "/")
            lines.append(f"| {r.bench} | FAILED ({why}) | | | {tail[:200]} |")
        elif not r.figures:
            lines.append(f"| {r.bench} | (printed no FIGURE line) | | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="pass --large (1M-row sizes)")
    parser.add_argument("--only", help="comma-separated benchmarks, e.g. store,app")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per benchmark (default 150, 3600 with --large)")  # fmt: skip
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds for the whole run (default 570; none with --large)")  # fmt: skip
    parser.add_argument("--out", type=Path, help="also write the table (Markdown) here")
    parser.add_argument("--log", type=Path, help="write every benchmark's whole output here")
    args = parser.parse_args()
    timeout = args.timeout or (3600.0 if args.large else 150.0)
    budget = args.budget or (float("inf") if args.large else 570.0)
    names = discover(args.only.split(",") if args.only else None)
    results = []
    started = time.perf_counter()
    for name in names:
        print(f"[run_all] {name} …", file=sys.stderr, flush=True)
        left = budget - (time.perf_counter() - started)
        r = run(name, args.large, min(timeout, left))
        state = "ok" if r.status == 0 else "FAILED"
        print(f"[run_all] {name}: {state} in {r.seconds:.0f} s, {len(r.figures)} figures",
              file=sys.stderr, flush=True)  # fmt: skip
        results.append(r)
    total = time.perf_counter() - started
    out = (f"{table(results)}\n\n{len(names)} benchmarks in {total:.0f} s"
           f"{' (--large)' if args.large else ''}; ratio = ours / floor, medians (or the "
           "percentile named) of interleaved runs\n")  # fmt: skip
    print(out, end="")
    if args.out:
        args.out.write_text(out)
    if args.log:
        args.log.write_text("".join(f"== {r.bench} ({r.seconds:.0f} s, exit {r.status})\n"
                                    f"{r.output}\n" for r in results))  # fmt: skip
    sys.exit(0 if all(r.status == 0 for r in results) else 1)


if __name__ == "__main__":
    main()
