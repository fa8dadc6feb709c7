"""Benchmarks, run on demand: ``make bench`` (tests/bench/run_all.py) or one module each."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "usetest"


def compile_as_installed() -> None:
    """Write usetest's bytecode (.pyc) as installing it does (pip compiles every module), so
    that the fresh processes a benchmark times load usetest as a user's installed copy does.

    Without it, where PYTHONDONTWRITEBYTECODE is set (as on these machines), every module
    edited since its last .pyc is compiled from source in every timed process: about 50 ms of
    a 0.8 s ``usetest summary``, counted against usetest and not against the floor."""
    import compileall

    compileall.compile_dir(PACKAGE, quiet=1)
