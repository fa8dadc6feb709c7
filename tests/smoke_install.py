"""Install smoke test (CI, after the suite): what a user gets from ``pip install usetest``.

Builds the sdist and the wheel (``python -m build``, in a scratch venv), checks that the sdist
carries the tests, scenarios, docs and LICENSE, installs the wheel into a fresh venv beside
pandas 2 (``pip install usetest-*.whl 'pandas>=2,<3'``: the ranges, not constraints.txt), and
drives the installed ``usetest`` there as a user would: --version, validate, new + validate,
a study database written through the recorder, summary, report (with charts), ``-o -``,
export, Parquet without pyarrow (a message, not a traceback), run without a terminal, shell
completion. Finally a few test modules run from the unpacked sdist.

Run: ``python3 tests/smoke_install.py`` (``make smoke-install``). Exit 0 when all is well; else
the first failed check and its output. Nothing is written outside a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BUILD_PIN = "build==1.6.1"
# In the sdist: what it takes to run the suite and read the guides (MANIFEST.in).
SDIST_MUST_HAVE = ["LICENSE", "README.md", "constraints.txt", "pyproject.toml",
                   "tests/conftest.py", "tests/studydata.py", "tests/tui/conftest.py",
                   "scenarios/demo.yaml", "scenarios/checkout.yaml", "docs/analysis.md",
                   "usetest/cli.py"]  # fmt: skip
SDIST_TESTS = ["tests/test_stats.py", "tests/test_scenario.py"]

# A small completed study written through the installed recorder (no app, no terminal).
MAKE_DB = """
import sys
from datetime import UTC, datetime
from usetest import recorder
from usetest.clock import FakeClock
from usetest.scenario import load_scenario
from usetest.store import open_db

loaded = load_scenario(sys.argv[1])
db = open_db(sys.argv[2])
clock = FakeClock(start_utc=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
for number, outcome in enumerate(["success", "fail", "success"], start=1):
    rec = recorder.start(db, loaded, f"P{number:02d}", "AB", None, clock=clock,
                         consent="before the app", profile={"age": None, "experience": None})
    s = rec.session
    for task_id in s.state.order:
        s.start(task_id)
        clock.advance(30 + 10 * number)
        s.end(outcome)
        s.answer("seq", "seq", 6 if outcome == "success" else 3, task_id=task_id)
    for i in range(1, 11):
        s.answer("sus", f"sus{i}", 4 if i % 2 else 2)
    s.complete()
    clock.advance(3600)
db.close()
"""


class SmokeFailed(Exception):
    pass


_STARTED = time.monotonic()


def step(title: str) -> None:
    print(f"smoke: [at {time.monotonic() - _STARTED:.0f} s] {title}", flush=True)


def run(cmd: list[str], *, cwd: Path, expect: int | None = 0, env: dict[str, str] | None = None,
        stdin: int | None = subprocess.DEVNULL, timeout: float = 600) -> subprocess.CompletedProcess[str]:  # fmt: skip
    done = subprocess.run(cmd, cwd=cwd, env=env, stdin=stdin, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip
    if expect is not None and done.returncode != expect:
        raise SmokeFailed(f"{' '.join(cmd)} exited {done.returncode}, expected {expect}\n"
                          f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")  # fmt: skip
    if "Traceback" in done.stdout + done.stderr:
        raise SmokeFailed(f"{' '.join(cmd)} printed a traceback\n{done.stderr[-3000:]}")
    return done


def check(condition: bool, what: str, detail: str = "") -> None:
    if not condition:
        raise SmokeFailed(f"{what}\n{detail[-3000:]}")


def make_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin"


def build(work: Path) -> tuple[Path, Path]:
    step("build the sdist and the wheel")
    tools = make_venv(work / "build-venv")
    run([str(tools / "python"), "-m", "pip", "install", "--quiet", BUILD_PIN], cwd=work)
    # Build from a copy of the tracked tree: the work tree may hold databases and caches.
    source = work / "source"
    try:
        files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.split("\0")  # fmt: skip
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked sdist)
        shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
            ".venv", ".git", "__pycache__", "*.egg-info", ".*_cache", ".hypothesis", "build",
            "dist", "*.db", "*.db-*", "node_modules"))  # fmt: skip
        files = []
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, source / name)
    run([str(tools / "python"), "-m", "build", "--outdir", str(work / "dist"), str(source)],
        cwd=work)  # fmt: skip
    sdist = next((work / "dist").glob("usetest-*.tar.gz"))
    wheel = next((work / "dist").glob("usetest-*.whl"))
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
        tar.extractall(work / "sdist", filter="data")
    missing = [n for n in SDIST_MUST_HAVE if n not in names]
    check(not missing, f"the sdist lacks {missing}")
    check(not any(n.endswith((".pyc", ".db")) for n in names), "the sdist holds caches or databases")
    print(f"smoke: sdist {sdist.name}: {len(names)} entries, tests/scenarios/docs/LICENSE in it")
    return sdist, wheel


def install(work: Path, wheel: Path) -> Path:
    step("install the wheel into a fresh venv beside pandas 2")
    bin_ = make_venv(work / "user-venv")
    run([str(bin_ / "python"), "-m", "pip", "install", "--quiet", str(wheel), "pandas>=2,<3"],
        cwd=work)  # fmt: skip
    versions = run([str(bin_ / "python"), "-c", "import pandas, numpy, usetest; "
                    "print(pandas.__version__, numpy.__version__, usetest.__file__)"],
                   cwd=work).stdout.split()  # fmt: skip
    check(versions[0].startswith("2."), f"pandas {versions[0]} is not 2.x")
    check(str(work / "user-venv") in versions[2], f"usetest imported from {versions[2]}")
    print(f"smoke: pandas {versions[0]}, numpy {versions[1]}")
    return bin_


def cli(work: Path, bin_: Path) -> None:
    usetest = str(bin_ / "usetest")
    here = work / "user"
    here.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "USETEST"))}
    env["MPLCONFIGDIR"] = str(work / "mpl")

    step("usetest --version, validate, new + validate")
    out = run([usetest, "--version"], cwd=here, env=env).stdout
    check(out.startswith("usetest, version "), "usetest --version", out)
    run([usetest, "validate", *map(str, sorted(SCENARIOS.glob("*.yaml")))], cwd=here, env=env)
    run([usetest, "new", "my-study.yaml"], cwd=here, env=env)
    run([usetest, "validate", "my-study.yaml"], cwd=here, env=env)
    schema = json.loads((here / "usetest-scenario.schema.json").read_text(encoding="utf-8"))
    check(schema.get("$id", "").startswith("urn:usetest:scenario-schema:"),
          "usetest new writes the schema shipped in the wheel beside the scenario")  # fmt: skip
    where = Path(run([usetest, "schema", "--path"], cwd=here, env=env).stdout.strip())
    check(where.is_file() and "site-packages" in str(where), "usetest schema --path", str(where))

    step("a study database through the recorder; summary, report, export")
    db = here / "demo.db"
    run([str(bin_ / "python"), "-c", MAKE_DB, str(SCENARIOS / "demo.yaml"), str(db)],
        cwd=here, env=env)  # fmt: skip
    table = run([usetest, "summary", str(db)], cwd=here, env=env).stdout
    check("3 participants" in table, "summary names the participants", table)
    data = json.loads(run([usetest, "summary", str(db), "--format", "json"], cwd=here,
                          env=env).stdout)  # fmt: skip
    check(data["participants"] == 3 and len(data["tasks"]) == 3, "summary json", str(data)[:500])
    run([usetest, "report", str(db), "-o", "report.html"], cwd=here, env=env)
    page = (here / "report.html").read_text(encoding="utf-8")
    check("<svg" in page, "the report has its charts (matplotlib is part of the install)")
    piped = run([usetest, "report", str(db), "-o", "-", "--no-charts"], cwd=here, env=env).stdout
    check("<html" in piped.lower() and not (here / "-").exists(), "report -o - to stdout")
    for fmt in ("csv", "xlsx", "json"):
        run([usetest, "export", str(db), "--format", fmt, "--out", f"export-{fmt}"], cwd=here,
            env=env)  # fmt: skip
    done = run([usetest, "export", str(db), "--format", "parquet", "--out", "export-pq"],
               cwd=here, env=env, expect=1)  # fmt: skip
    check("pip install 'usetest[parquet]'" in done.stderr and not list((here / "export-pq").glob("*")),
          "Parquet without pyarrow says what to install, and writes nothing", done.stderr)  # fmt: skip

    done = run([usetest, "datasette", str(db)], cwd=here, env=env, expect=1)
    check("pip install 'usetest[datasette]'" in done.stderr,
          "usetest datasette without Datasette says what to install", done.stderr)  # fmt: skip

    step("run without a terminal; run --plan; shell completion")
    done = run([usetest, "run", str(SCENARIOS / "demo.yaml"), "--db", "run.db"], cwd=here,
               env=env, expect=2, timeout=60)  # fmt: skip
    check("needs a terminal" in done.stderr and not (here / "run.db").exists(),
          "run without a terminal", done.stderr)  # fmt: skip
    out = run([usetest, "run", str(SCENARIOS / "demo.yaml"), "--db", "run.db", "--plan"],
              cwd=here, env=env).stdout  # fmt: skip
    check("would get" in out, "run --plan without a terminal", out)
    out = run([usetest], cwd=here, env={**env, "_USETEST_COMPLETE": "bash_source"}).stdout
    check("complete -o nosort -F _usetest_completion usetest" in out, "bash completion", out)
    out = run([usetest], cwd=here, env={**env, "_USETEST_COMPLETE": "bash_complete",
                                        "COMP_WORDS": "usetest ex", "COMP_CWORD": "1"}).stdout
    check(out.split() == ["plain,export"], "completing 'usetest ex'", out)


def sdist_tests(work: Path) -> None:
    """A few test modules from the unpacked sdist, with the repository's test tools; the
    sdist's own usetest is the one imported (checked)."""
    python = ROOT / ".venv" / "bin" / "python"
    if not python.exists():
        print("smoke: no .venv here; the sdist's tests were not run")
        return
    step(f"tests from the sdist: {', '.join(SDIST_TESTS)}")
    unpacked = next((work / "sdist").iterdir())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "USETEST"))}
    where = run([str(python), "-c", "import usetest; print(usetest.__file__)"], cwd=unpacked,
                env=env).stdout.strip()  # fmt: skip
    check(where.startswith(str(unpacked)), f"the sdist's tests would import {where}")
    run([str(python), "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         *SDIST_TESTS], cwd=unpacked, env=env)  # fmt: skip


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="usetest-smoke-"))
    try:
        _, wheel = build(work)
        bin_ = install(work, wheel)
        cli(work, bin_)
        sdist_tests(work)
    except (SmokeFailed, subprocess.TimeoutExpired, StopIteration) as exc:
        print(f"smoke: FAILED — {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"smoke: ok in {time.monotonic() - _STARTED:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
