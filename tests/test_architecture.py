"""The layering holds: lower layers never import the app, the CLI or heavy libraries."""

from __future__ import annotations

import ast
import json
import re
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
    # recording markers: pure, events in and cues out (export writes the files)
    "usetest.markers": ["textual", "pandas", "sqlite3", "sqlite_utils", "usetest.store",
                        "usetest.tui", "usetest.cli"],
    "usetest.report": ["textual", "matplotlib", "usetest.tui", "usetest.cli"],  # charts lazily
    # the one presentation model: below every view (CLI, results view, report), above analysis
    "usetest.present": ["textual", "matplotlib", "rich", "usetest.tui", "usetest.cli",
                        "usetest.report", "usetest.export"],
    "usetest.plan": ["textual", "matplotlib", "usetest.tui", "usetest.cli", "usetest.report"],
    # following a live session from another process: no Textual, no pandas
    "usetest.observe": ["textual", "pandas", "usetest.tui", "usetest.cli"],
    "usetest.flow": ["textual", "pandas", "sqlite3", "usetest.store", "usetest.tui"],
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


def _opens_a_database(node: ast.AST) -> str | None:
    """What ``node`` opens, if it opens an SQLite database: sqlite3.connect(...), connect
    imported from sqlite3, or a sqlite-utils Database built on a file name."""
    if isinstance(node, ast.ImportFrom) and node.module == "sqlite3" and any(
        alias.name == "connect" for alias in node.names
    ):
        return "from sqlite3 import connect"
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
    if name == "connect" and owner == "sqlite3":
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and first.value == ":memory:":
            return None  # a new in-memory database names no file (usetest.database)
        return "sqlite3.connect(...)"
    opened = node.args[0] if node.args else next(
        (k.value for k in node.keywords if k.arg == "filename_or_conn"), None)
    if name == "Database" and opened is not None and not (
        isinstance(opened, ast.Name) and opened.id == "conn"  # a connection the store opened
    ):
        return "sqlite_utils.Database(...) on a file name"
    return None


def _enclosing_functions(tree: ast.AST) -> dict[ast.AST, str]:
    """Each node of ``tree`` -> the name of the innermost function around it ('' if none)."""
    names: dict[ast.AST, str] = {}

    def visit(node: ast.AST, inside: str) -> None:
        names[node] = inside
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside = node.name
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, "")
    return names


def test_only_the_store_opens_databases_and_only_through_one_function():
    """store.py is the one database boundary (DESIGN.md): no other module opens a connection,
    and inside the store every file is opened by ``_connect``, which names it by a quoted URI
    (a path pasted into a URI opens the wrong file: ``50%25.db`` is ``50%.db`` to SQLite)."""
    found = []
    for path in sorted((ROOT / "usetest").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(ROOT).as_posix()
        for node, inside in _enclosing_functions(tree).items():
            what = _opens_a_database(node)
            if what is None:
                continue
            if where == "usetest/store.py" and what == "sqlite3.connect(...)" and inside == "_connect":
                continue
            found.append(f"{where}:{getattr(node, 'lineno', '?')} {what} in {inside or 'module'}")
    assert found == []


def _imported_modules(tree: ast.AST, package: str) -> set[str]:
    """Every module an ``import`` or ``from … import`` names, relative imports resolved."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def test_screens_and_widgets_get_their_data_and_never_import_the_app():
    """Attributes down, messages up (STYLE.md): screens are given what they show and post
    messages to the app; none imports the app module (not even for type checking), and none
    reaches up through a property typed as the app (``return self.app  # type: ignore``)."""
    tui = ROOT / "usetest" / "tui"
    found = []
    for path in sorted([*(tui / "screens").glob("*.py"), *(tui / "widgets").glob("*.py"),
                        tui / "keys.py", tui / "messages.py", tui / "live.py"]):  # fmt: skip
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT).as_posix()
        package = where.removesuffix(".py").replace("/", ".").rsplit(".", 1)[0]
        if {"usetest.tui.app", "usetest.tui.app.UsetestApp"} & _imported_modules(
            ast.parse(text, where), package
        ):
            found.append(f"{where} imports usetest.tui.app")
        if re.search(r"return self\.app\s*#\s*type:\s*ignore", text):
            found.append(f"{where} reaches up into the app (return self.app  # type: ignore)")
    assert found == []
