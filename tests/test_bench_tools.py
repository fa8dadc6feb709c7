"""The benchmark tools read what they should: run_all's figure lines, ptyterm's screen text."""

from __future__ import annotations

import sys

from tests.bench import run_all
from tests.bench.ptyterm import Term, plain


def test_figure_lines_are_collected_and_nothing_else():
    output = "\n".join([
        "# bench_x: 10 runs",
        "FIGURE | ours | floor | ratio   (wall s)",
        "app: start, median s | 0.395 | 0.175 | 2.25x",
        "export csv 40x10 s | 3.21 | 1.37 | 2.35x   (runs 5; ours 2.32–3.29)",
        "# spread | 1 | 2 | 3",
        "a line with | two bars | only",
    ])  # fmt: skip
    assert run_all.figures(output) == [
        ("app: start, median s", "0.395", "0.175", "2.25x"),
        ("export csv 40x10 s", "3.21", "1.37", "2.35x   (runs 5; ours 2.32–3.29)"),
    ]


def test_every_benchmark_present_is_found_and_a_failure_is_named(tmp_path):
    names = run_all.discover()
    assert {"bench_store", "bench_app", "bench_lab"} <= set(names)
    failed = run_all.Result("bench_x", 3.0, 2, [("f", "1", "2", "0.5x")], "a\nb\nTraceback | boom")
    table = run_all.table([failed, run_all.Result("bench_y", 0.0, None)])
    assert "| bench_x | f | 1 | 2 | 0.5x |" in table
    assert "| bench_x | FAILED (exit 2) |" in table and "Traceback / boom" in table
    assert "| bench_y | FAILED (not run: no time left) |" in table


def test_screen_text_is_read_back_through_a_pseudo_terminal():
    assert plain(b"\x1b[1;1H\x1b[38;5;253;48;5;233massists 3\x1b[0m\r\n\x1b]22;default\x07ok") == (
        "assists 3\nok")  # fmt: skip
    term = Term([sys.executable, "-c", "import os; print(os.get_terminal_size()); input()"],
                cols=90, rows=20)  # fmt: skip
    try:
        found = term.wait_for(r"columns=(\d+), lines=(\d+)", timeout=20)
        assert found.groups() == ("90", "20")
        term.send(b"\r")
        term.proc.wait(timeout=10)
        assert term.proc.returncode == 0
    finally:
        term.close()
