"""Analysis commands import only what they use (issue 15): each check runs the real command in
a fresh interpreter and reads its ``sys.modules`` at exit.

- ``usetest summary`` (table, JSON, CSV) loads neither scipy.stats (its distributions cost
  0.45 s; usetest.stats uses scipy.special) nor matplotlib, Textual or openpyxl, and pyarrow
  only when pandas itself loads it (pandas 3 does, when it is installed).
- ``usetest export --format csv`` loads neither scipy.stats, matplotlib nor Textual.
- ``import usetest.stats`` loads no scipy at all until a quantile is needed (the app's SUS
  line scores without it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.studydata import build_checkout

NEVER = ("scipy.stats", "matplotlib", "textual", "openpyxl")

# Runs ``python -m usetest ARGS`` as the console does, then writes the loaded modules' names.
RUN = """
import json, os, runpy, sys
sys.argv = ["usetest", *sys.argv[1:]]
try:
    runpy.run_module("usetest", run_name="__main__")
except SystemExit as exit:
    code = exit.code
else:
    code = 0
with open(os.environ["MODULES_OUT"], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def modules_after(tmp_path: Path, *args: str) -> set[str]:
    out = tmp_path / "modules.json"
    env = {**os.environ, "MODULES_OUT": str(out), "MPLCONFIGDIR": str(tmp_path / "mpl")}
    subprocess.run([sys.executable, "-c", RUN, *args], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)  # fmt: skip
    result = json.loads(out.read_text())
    assert result["code"] in (0, None), result["code"]
    return set(result["modules"])


def loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_checkout(tmp_path_factory.mktemp("imports") / "study.db")


@pytest.fixture(scope="module")
def pandas_loads_pyarrow(tmp_path_factory: pytest.TempPathFactory) -> bool:
    code = "import sys, pandas; print('pyarrow' in sys.modules)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "True"  # fmt: skip


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_summary_loads_nothing_it_does_not_use(study: Path, tmp_path: Path, fmt: str,
                                               pandas_loads_pyarrow: bool) -> None:  # fmt: skip
    modules = modules_after(tmp_path, "summary", str(study), "--format", fmt)
    assert "usetest.analysis" in modules and loaded(modules, "scipy.special")  # it did the work
    for package in NEVER:
        assert not loaded(modules, package), f"usetest summary loaded {package}"
    if loaded(modules, "pyarrow"):
        assert "pandas" in modules and pandas_loads_pyarrow, "pyarrow loaded, not by pandas"


def test_summary_by_condition_loads_no_scipy_stats(study: Path, tmp_path: Path) -> None:
    modules = modules_after(tmp_path, "summary", str(study), "--by", "condition")
    for package in NEVER:
        assert not loaded(modules, package), f"usetest summary --by loaded {package}"


def test_export_csv_loads_no_charts_app_or_scipy_stats(study: Path, tmp_path: Path) -> None:
    modules = modules_after(tmp_path, "export", str(study), "--format", "csv",
                            "--out", str(tmp_path / "out"))  # fmt: skip
    assert (tmp_path / "out").is_dir()
    for package in ("scipy.stats", "matplotlib", "textual"):
        assert not loaded(modules, package), f"usetest export --format csv loaded {package}"


def test_stats_loads_scipy_special_only_for_a_quantile() -> None:
    code = """
import json, sys
from usetest import stats
after_import = "scipy" in sys.modules
score = stats.sus_score([5, 1, 5, 1, 5, 1, 5, 1, 5, 1])
grade = stats.sus_grade(score)
after_sus = "scipy" in sys.modules
ci = stats.mean_ci([3, 4, 5, 6])
print(json.dumps([after_import, after_sus, "scipy.special" in sys.modules,
                  "scipy.stats" in sys.modules, score, grade, ci]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    after_import, after_sus, special, scipy_stats, score, grade, ci = json.loads(out.stdout)
    assert (after_import, after_sus, special, scipy_stats) == (False, False, True, False)
    assert (score, grade) == (100.0, "A+")
    assert ci[0] == 4.5 and ci[1] < 4.5 < ci[2]
