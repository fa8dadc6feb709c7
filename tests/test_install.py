"""Installing usetest anywhere, and the command line's manners (issue 14, items 1 and 7).

Dependencies are ranges in pyproject.toml and exact pins in constraints.txt, which the venv
matches; every third-party module the package imports is declared; the LICENSE ships; no hint
tells a wheel user to run ``pip install -e``. The built wheel itself is exercised by
tests/smoke_install.py (CI). CLI: ``-`` for an output that needs a file or folder is refused
with a message; the full-screen commands refuse to start without a terminal; click's shell
completion produces a script and completes commands.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import pty
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from usetest.cli import cli

ROOT = Path(__file__).resolve().parent.parent
USETEST = ROOT / ".venv" / "bin" / "usetest"
DEMO = ROOT / "scenarios" / "demo.yaml"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# Extras whose packages the suite installs (and constraints.txt pins); explore (Datasette) is
# installed by the tests that need it, when they need it.
PINNED_EXTRAS = ("test", "dev", "parquet", "charts")


def _requirements(*groups: str) -> list[Requirement]:
    found = [Requirement(r) for r in PROJECT["dependencies"]] if "base" in groups else []
    for group in groups:
        if group != "base":
            found += [Requirement(r) for r in PROJECT["optional-dependencies"][group]]
    return [r for r in found if canonicalize_name(r.name) != "usetest"]


def _constraints() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"constraints.txt: {line!r} is not NAME==VERSION"
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_every_dependency_is_a_range_below_the_next_major():
    pins = _constraints()
    for req in _requirements("base", *PROJECT["optional-dependencies"]):
        ops = {s.operator: Version(s.version) for s in req.specifier}
        assert set(ops) == {">=", "<"}, f"{req}: give >=LOWEST,<NEXT-MAJOR, not {req.specifier}"
        low, high = ops[">="], ops["<"]
        # below the next major of the version the suite runs (pandas: 2.3 and 3.x are tested);
        # for 0.x the next minor, which is where 0.x versions break
        top = pins.get(canonicalize_name(req.name), low)
        allowed = Version(f"{top.major + 1}") if top.major else Version(f"0.{top.minor + 1}")
        assert high <= allowed, f"{req}: the upper bound goes past {allowed}"


def test_rich_and_numpy_are_declared_with_every_other_import():
    base = {canonicalize_name(r.name) for r in _requirements("base")}
    declared = base | {canonicalize_name(r.name) for r in _requirements(*PROJECT["optional-dependencies"])}
    assert {"rich", "numpy", "matplotlib", "textual-plotext"} <= base
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for path in (ROOT / "usetest").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     and not node.level else [])  # fmt: skip
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "usetest":
                    continue
                dists = {canonicalize_name(d) for d in distributions.get(top, [top])}
                if not dists & declared:
                    undeclared[top] = str(path.relative_to(ROOT))
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_constraints_pin_every_dependency_and_the_venv_runs_them():
    pins = _constraints()
    for req in _requirements("base", *PINNED_EXTRAS):
        name = canonicalize_name(req.name)
        assert name in pins, f"constraints.txt has no pin for {req.name}"
        assert pins[name] in req.specifier, f"constraints.txt pins {name}=={pins[name]} outside {req}"
    for name, version in pins.items():  # the suite runs with the pinned versions (make, CI)
        try:
            installed = Version(importlib.metadata.version(name))
        except importlib.metadata.PackageNotFoundError:
            continue
        assert installed == version, f"{name} {installed} is installed, constraints.txt pins {version}"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [line for line in makefile.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert installs and all("-c constraints.txt" in line for line in installs), installs
    assert "make smoke-install" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_license_and_what_the_sdist_carries():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "the usetest authors" in text
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    manifest = (ROOT / "MANIFEST.in").read_text(encoding="utf-8")
    for line in ("graft tests", "graft scenarios", "graft docs", "include LICENSE"):
        assert line in manifest  # tests/smoke_install.py lists the built sdist


def test_no_hint_asks_a_wheel_user_for_an_editable_install():
    hints = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "usetest").rglob("*.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if re.search(r"pip install -e|\.\[(charts|parquet|explore)\]", line)]  # fmt: skip
    assert not hints, f"say pip install 'usetest[EXTRA]' instead: {hints}"


# --- - for standard output -----------------------------------------------------------------


def test_export_and_merge_refuse_standard_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "study.db"
    db.touch()
    result = CliRunner().invoke(cli, ["export", str(db), "--format", "csv", "--out", "-"])
    assert result.exit_code == 2
    assert "cannot take an export" in result.stderr and "--out exports/" in result.stderr
    result = CliRunner().invoke(cli, ["merge", str(db), "-o", "-"])
    assert result.exit_code == 2
    assert "cannot take a database" in result.stderr and "-o results/" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.db"]  # no file named -


def test_report_with_charts_to_standard_output(tmp_path, monkeypatch):
    from tests.studydata import build_checkout

    db = build_checkout(tmp_path / "checkout.db", per_condition=2)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["report", str(db), "-o", "-"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.lstrip().lower().startswith("<!doctype html") and "<svg" in result.stdout
    assert not (tmp_path / "-").exists()


# --- no terminal -----------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["results", "{db}"], ["observe", "{db}", "--observer", "KL"]])
def test_full_screen_commands_refuse_without_a_terminal(tmp_path, args):
    from tests.studydata import build_checkout

    db = build_checkout(tmp_path / "checkout.db", per_condition=1)
    result = CliRunner().invoke(cli, [a.format(db=db) for a in args])  # stdin is not a tty
    assert result.exit_code == 2
    assert f"usetest {args[0]} needs a terminal" in result.stderr
    assert "standard input and error are not one" in result.stderr


def _run_with(stdin: int | None, stderr: int | None, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(USETEST), "run", str(DEMO), "--db", str(db), "--participant", "P01",
                           "--consent"], stdin=stdin, stdout=subprocess.PIPE, stderr=stderr,
                          text=True, timeout=60)  # fmt: skip


def test_run_needs_a_terminal_on_input_and_on_error(tmp_path):
    """Textual reads keys from stdin and draws on stderr: either one redirected is refused,
    quickly and with nothing written (stdout may be redirected: the exit lines go there)."""
    leader, follower = pty.openpty()
    try:
        started = time.monotonic()
        done = _run_with(follower, subprocess.PIPE, tmp_path / "a.db")  # a terminal, stderr piped
        assert done.returncode == 2 and time.monotonic() - started < 30
        assert "its standard error is not one" in done.stderr and "--plan" in done.stderr
        log = os.open(tmp_path / "err.txt", os.O_WRONLY | os.O_CREAT, 0o600)
        done = subprocess.run([str(USETEST), "run", str(DEMO), "--db", str(tmp_path / "b.db")],
                              stdin=subprocess.DEVNULL, stderr=follower, stdout=log,
                              timeout=60)  # fmt: skip
        os.close(log)
        assert done.returncode == 2
        said = os.read(leader, 4096).decode()
        assert "its standard input is not one" in said and "\x1b[" not in said
    finally:
        os.close(leader)
        os.close(follower)
    assert not (tmp_path / "a.db").exists() and not (tmp_path / "b.db").exists()


# --- shell completion ------------------------------------------------------------------------


def test_shell_completion_scripts_and_completions():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    script = subprocess.run([str(USETEST)], env={**env, "_USETEST_COMPLETE": "bash_source"},
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert script.returncode == 0
    assert "complete -o nosort -F _usetest_completion usetest" in script.stdout
    for shell, marker in (("zsh", "#compdef usetest"), ("fish", "complete --no-files --command usetest")):
        out = subprocess.run([str(USETEST)], env={**env, "_USETEST_COMPLETE": f"{shell}_source"},
                             capture_output=True, text=True, timeout=60).stdout  # fmt: skip
        assert marker in out, out
    words = subprocess.run([str(USETEST)], capture_output=True, text=True, timeout=60,
                           env={**env, "_USETEST_COMPLETE": "bash_complete",
                                "COMP_WORDS": "usetest export db --for", "COMP_CWORD": "3"})  # fmt: skip
    assert words.stdout.split() == ["plain,--format"], words.stdout
