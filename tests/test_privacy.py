"""Participant data stays where it belongs: private files, pseudonymised exports, no code run.

- the database, its -wal/-shm companions and every export file are created 0600, whatever the
  umask (mode bits are checked with stat, which holds for root too);
- a pseudonymised export, in every format, holds no participant code and none of the free text
  typed during a session (notes, error notes, pause reasons, free-text answers);
- a scenario file cannot run code (YAML tags are refused, not constructed).
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from usetest import recorder
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.export import export
from usetest.scenario import ScenarioError, load_scenario, parse_scenario
from usetest.store import open_db

BANKING = ROOT / "scenarios" / "banking.yaml"
CODES = ["P01", "JANE-DOE-1984", "P03"]  # a code that is really a name must not leak either
SECRETS = [
    "SECRET-NOTE-observed", "SECRET-QUOTE-said", "SECRET-PROBLEM-found", "SECRET-ERRNOTE-typed",
    "SECRET-PAUSE-reason", "SECRET-ANSWER-free-text", "SECRET-CORRECTION-why",
    "SECRET-WITHDRAWAL-why", "Withdrawer Wanda",
]  # fmt: skip


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


@pytest.fixture
def open_umask():
    old = os.umask(0)  # the least careful setting: files would be created world-readable
    yield
    os.umask(old)


@pytest.fixture
def study_db(tmp_path) -> Path:
    """Three completed banking sessions full of free text."""
    loaded = load_scenario(BANKING)
    db_path = tmp_path / "banking.db"
    db = open_db(db_path)
    clock = FakeClock()
    for n, code in enumerate(CODES):
        s = recorder.start(db, loaded, code, moderator="Moderator Maria", clock=clock).session
        for i, task in enumerate(s.state.order):
            s.start(task)
            clock.advance(20 + n)
            if i == 0:
                s.pause(f"{SECRETS[4]} {code}")
                clock.advance(5)
                s.resume(task)
                s.log_note(f"{SECRETS[0]} {code}")
                s.log_note(f"{SECRETS[1]} {code}", kind="quote")
                s.log_note(f"{SECRETS[2]} {code}", kind="problem", severity=3)
                s.log_error(None, note=f"{SECRETS[3]} {code}")
            s.end("success" if (n + i) % 2 else "fail")
            if loaded.scenario.task(task).seq:
                s.answer("seq", "seq", 5, task_id=task)
        for q in ("sus",):
            for k in range(1, 11):
                s.answer(q, f"sus{k}", 3 + (k + n) % 3)
        s.answer("trust", "missing", f"{SECRETS[5]} {code}")
        s.complete()
        s.correct(s.state.order[0], {"errors": 4}, f"{SECRETS[6]} {code}")
    # a fourth participant withdrew: the tombstone keeps who withdrew them and why
    recorder.start(db, loaded, "P04", clock=clock).session.end("skipped")
    from usetest.store import withdraw_session

    withdraw_session(db, "P04", withdrawn_at="2026-11-24T10:00:00.000Z",
                     withdrawn_by=SECRETS[8], reason=SECRETS[7])  # fmt: skip
    db.close()
    return db_path


def cells(path: Path) -> str:
    """Every value in an exported file as text (unpacked for xlsx and parquet)."""
    if path.suffix == ".csv":
        return path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.dumps(json.loads(path.read_text(encoding="utf-8")))
    if path.suffix == ".parquet":
        return pd.read_parquet(path).to_csv()
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:  # shared strings and sheets, all of it
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    raise AssertionError(f"unexpected export file {path}")


# ---------------------------------------------------------------------------------------------
# File modes.


def test_a_new_database_and_its_companions_are_private_even_with_umask_0(tmp_path, open_umask):
    db_path = tmp_path / "deep" / "study.db"
    db = open_db(db_path)
    recorder.start(db, parse_scenario((ROOT / "scenarios" / "demo.yaml").read_text()), "P01",
                   clock=FakeClock()).session.start()  # fmt: skip
    for path in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        assert path.exists() and private(path), (path, oct(path.stat().st_mode))
    db.close()


def test_the_plan_command_creates_no_database(tmp_path, open_umask):
    db_path = tmp_path / "plan.db"  # nothing is written until a session starts (issue 10)
    result = CliRunner().invoke(cli, ["run", str(BANKING), "--plan", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert not db_path.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx", "parquet"])
def test_every_export_file_is_private_even_with_umask_0(study_db, tmp_path, open_umask, fmt):
    out = tmp_path / f"export-{fmt}"
    written = export(study_db, out, fmt)
    assert written and all(p.exists() for p in written)
    loose = [(p.name, oct(stat.S_IMODE(p.stat().st_mode))) for p in written if not private(p)]
    assert loose == []


def test_an_export_over_older_world_readable_files_makes_them_private(study_db, tmp_path):
    out = tmp_path / "again"
    first = export(study_db, out, "csv")
    for path in first:
        path.chmod(0o644)
    second = export(study_db, out, "csv")
    assert all(private(p) for p in second)


# ---------------------------------------------------------------------------------------------
# Pseudonymised exports.


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx", "parquet"])
def test_a_pseudonymised_export_holds_no_code_and_no_free_text(study_db, tmp_path, fmt):
    plain = "".join(cells(p) for p in export(study_db, tmp_path / "plain", fmt)
                    if p.name != "metadata.json")  # fmt: skip
    # The plain export does hold them: so the search below can find them if they leak.
    assert all(code in plain for code in CODES)
    assert all(secret in plain for secret in SECRETS)

    written = export(study_db, tmp_path / "pseudo", fmt, pseudonymise=True)
    for path in written:
        text = cells(path)
        for needle in [*CODES, *SECRETS]:
            assert needle not in text, f"{needle!r} is in {path.name}"
    meta = json.loads((tmp_path / "pseudo" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["pseudonymised"] is True


def test_a_pseudonymised_export_holds_no_moderator_name(study_db, tmp_path):
    for path in export(study_db, tmp_path / "pseudo", "csv", pseudonymise=True):
        assert "Moderator Maria" not in cells(path), path.name


def test_pseudonyms_still_join_tables_and_differ_between_exports(study_db, tmp_path):
    a = export(study_db, tmp_path / "a", "csv", pseudonymise=True)
    b = export(study_db, tmp_path / "b", "csv", pseudonymise=True)
    sessions_a = pd.read_csv(next(p for p in a if p.name == "sessions.csv"))
    sessions_b = pd.read_csv(next(p for p in b if p.name == "sessions.csv"))
    assert sessions_a["participant"].is_unique and len(sessions_a) == len(CODES)
    assert set(sessions_a["participant"]).isdisjoint(sessions_b["participant"])  # fresh salt
    sus = pd.read_csv(next(p for p in a if p.name == "summary_sus.csv"))
    assert set(sus["participant"]) <= set(sessions_a["participant"])


# ---------------------------------------------------------------------------------------------
# No code from a scenario.


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:subprocess.check_output [['touch', '{marker}']]",
    "!!python/name:os.system",
    "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {marker}']",
])  # fmt: skip
def test_a_scenario_cannot_run_code(tmp_path, tag):
    marker = tmp_path / "pwned"
    text = f"study: !!str x\nproduct: {tag.format(marker=marker)}\ntasks: [{{id: a, title: a, prompt: a}}]\n"
    path = tmp_path / "evil.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert any("is not allowed" in p.message for p in caught.value.problems)
    for args in (
        ["validate", str(path)],
        ["run", str(path), "--plan", "--db", str(tmp_path / "x.db")],
    ):
        assert CliRunner().invoke(cli, args).exit_code == 1
    assert not marker.exists()
