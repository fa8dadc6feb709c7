"""The layering holds: lower layers never import the app, the CLI or heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# module -> modules it must not pull in
CORE = {
    "usetest": ["textual", "pandas", "scipy", "sqlite_utils", "yaml", "pydantic"],
    "usetest.stats": ["textual", "pandas", "usetest.store", "usetest.session", "sqlite_utils"],
    "usetest.scenario": ["textual", "pandas", "sqlite_utils", "usetest.session", "usetest.store"],
    "usetest.questionnaires": ["textual", "pandas", "usetest.store"],
    "usetest.events": ["textual", "pandas", "sqlite3", "sqlite_utils", "usetest.scenario",
                       "usetest.session", "usetest.store"],
    "usetest.order": ["textual", "pandas", "sqlite3", "sqlite_utils", "usetest.store"],
    "usetest.session": ["textual", "pandas", "sqlite3", "sqlite_utils", "usetest.store"],
    "usetest.owner": ["textual", "pandas", "sqlite3", "sqlite_utils", "usetest.store"],
    "usetest.versions": ["textual", "pandas", "sqlite3", "sqlite_utils", "usetest.store",
                         "usetest.tui", "usetest.cli"],
    "usetest.store": ["textual", "pandas", "numpy", "usetest.tui", "usetest.cli"],
    "usetest.recorder": ["textual", "pandas", "numpy", "usetest.tui", "usetest.cli"],
    "usetest.analysis": ["textual", "matplotlib", "usetest.tui", "usetest.cli", "usetest.report"],
    "usetest.export": ["textual", "matplotlib", "usetest.tui", "usetest.cli", "usetest.report"],
    "usetest.report": ["textual", "matplotlib", "usetest.tui", "usetest.cli"],  # charts lazily
    "usetest.charts": ["textual", "usetest.tui", "usetest.cli", "usetest.analysis"],
}


@pytest.mark.parametrize("module", sorted(CORE))
def test_core_modules_stay_below_the_app(module):
    code = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    loaded = set(json.loads(out))
    leaked = [m for m in CORE[module] if m in loaded]
    assert not leaked, f"{module} imports {leaked}"


def test_validate_does_not_load_the_app_or_pandas(tmp_path):
    code = (
        "import sys, json\n"
        "from click.testing import CliRunner\n"
        "from usetest.cli import cli\n"
        f"CliRunner().invoke(cli, ['validate', {str(ROOT / 'scenarios' / 'demo.yaml')!r}])\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    loaded = set(json.loads(out))
    assert "textual" not in loaded and "pandas" not in loaded and "scipy" not in loaded
