"""Output files are safe to write and safe to open (issue 11, items 4 and 5).

- a symbolic link planted where an export, a report or a new scenario would go is refused, and
  what it points to is left untouched;
- folders usetest creates are 0700 and files 0600, even under umask 0;
- an export that is interrupted (ctrl-C) or fails (a full disk) leaves the folder as it was and
  says so, with no "Exception ignored" noise;
- an export taken while a session is being logged agrees with itself (one read transaction);
- JSON exports are valid whatever the text; CSV and xlsx text that a spreadsheet would run as a
  formula is neutralised (OWASP, "CSV injection") unless --raw-formulas; numbers stay numbers;
- ``report -o -`` writes to standard output.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

import usetest.export
from tests.conftest import STUDY_YAML
from usetest import recorder
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.export import export, neutralised
from usetest.outfiles import OutputError, Staged, atomic_writer, private_dir
from usetest.scenario import parse_scenario
from usetest.store import open_db

FORMULAS = ["=1+1", '=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(1)", "\tx", "\rx"]
CONTROLS = "".join(chr(i) for i in [*range(0, 32), 0x7F, *range(0x80, 0xA0)])
ODD = ["a},{b", "},{", f"every control {CONTROLS} end", "quote \" and \\ backslash", "\u2028 \u202e"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0)
    yield
    os.umask(old)


@pytest.fixture
def hostile_db(tmp_path) -> Path:
    """Two completed sessions; the first one's notes are formulas and odd texts."""
    db_path = tmp_path / "study.db"
    db = open_db(db_path)
    loaded = parse_scenario(STUDY_YAML, "fixture.yaml")
    clock = FakeClock()
    for code in ("P01", "P02"):
        s = recorder.start(db, loaded, code, moderator="MM", clock=clock).session
        for n, task in enumerate(s.state.order):
            s.start(task)
            clock.advance(30 + n)
            if code == "P01" and n == 0:
                for text in FORMULAS + ODD:
                    s.log_note(text)
                s.log_assist("pointed")
            s.end("success")
        s.complete()
    db.close()
    return db_path


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: (p.read_bytes() if not p.is_symlink() else b"->" + os.readlink(p).encode())
            for p in sorted(folder.iterdir())}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Links, modes.


def test_a_link_planted_in_the_export_folder_is_refused_and_its_target_untouched(hostile_db,
                                                                                 tmp_path):  # fmt: skip
    loot = tmp_path / "loot.csv"
    loot.write_text("nothing yet\n")
    out = tmp_path / "exports"
    out.mkdir()
    (out / "sessions.csv").symlink_to("../loot.csv")
    result = CliRunner().invoke(cli, ["export", str(hostile_db), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert f"{out / 'sessions.csv'} is a symbolic link" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert loot.read_text() == "nothing yet\n"
    assert files_in(out) == {"sessions.csv": b"->../loot.csv"}  # nothing else left behind


def test_a_link_where_the_report_or_a_new_scenario_goes_is_refused(hostile_db, tmp_path):
    loot = tmp_path / "loot.txt"
    loot.write_text("mine\n")
    for name in ("report.html", "new.yaml"):
        (tmp_path / name).symlink_to(loot)
    report = CliRunner().invoke(cli, ["report", str(hostile_db), "--no-charts",
                                      "-o", str(tmp_path / "report.html")])  # fmt: skip
    new = CliRunner().invoke(cli, ["new", str(tmp_path / "new.yaml"), "--force"])
    for result, name in ((report, "report.html"), (new, "new.yaml")):
        assert result.exit_code == 1, result.output
        assert f"{tmp_path / name} is a symbolic link" in result.stderr
    assert loot.read_text() == "mine\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_folders_are_0700_and_files_0600_under_umask_0(hostile_db, tmp_path, open_umask):
    out = tmp_path / "deep" / "er" / "exports"
    written = export(hostile_db, out, "csv")
    for folder in (tmp_path / "deep", tmp_path / "deep" / "er", out):
        assert mode(folder) == 0o700, folder
    assert written and all(mode(p) == 0o600 for p in written)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    report = CliRunner().invoke(cli, ["report", str(hostile_db), "--format", "md",
                                      "-o", str(tmp_path / "rep" / "r.md")])  # fmt: skip
    assert report.exit_code == 0, report.output
    assert mode(tmp_path / "rep") == 0o700 and mode(tmp_path / "rep" / "r-figures") == 0o700
    assert mode(tmp_path / "rep" / "r.md") == 0o600
    assert all(mode(p) == 0o600 for p in (tmp_path / "rep" / "r-figures").iterdir())
    new = CliRunner().invoke(cli, ["new", str(tmp_path / "scen" / "x.yaml")])
    assert new.exit_code == 0, new.output
    assert mode(tmp_path / "scen") == 0o700 and mode(tmp_path / "scen" / "x.yaml") == 0o600


def test_a_file_that_exists_is_replaced_private_and_a_folder_in_the_way_is_a_message(tmp_path):
    old = tmp_path / "r.html"
    old.write_text("old")
    old.chmod(0o644)
    with atomic_writer(old) as f:
        f.write("new")
    assert old.read_text() == "new" and mode(old) == 0o600
    (tmp_path / "dir.html").mkdir()
    with pytest.raises(OutputError, match="is a folder"), atomic_writer(tmp_path / "dir.html") as f:
        f.write("x")
    (tmp_path / "afile").write_text("")
    with pytest.raises(OutputError, match="afile is not a folder"):
        private_dir(tmp_path / "afile" / "x")


def test_a_failed_block_leaves_neither_the_file_nor_a_temporary_one(tmp_path):
    (tmp_path / "keep.txt").write_text("before")
    with pytest.raises(RuntimeError), atomic_writer(tmp_path / "keep.txt") as f:
        f.write("half")
        raise RuntimeError("boom")
    assert files_in(tmp_path) == {"keep.txt": b"before"}


# ---------------------------------------------------------------------------------------------
# Interrupted and failed exports.


def _breaking(monkeypatch, writer: str, exc: BaseException, at_call: int = 3) -> None:
    """The ``at_call``-th table written by ``writer`` writes part of its rows, then raises."""
    real = getattr(usetest.export, writer)
    calls = {"n": 0}

    def broken(f, parts, types, tick):
        calls["n"] += 1
        if calls["n"] < at_call:
            return real(f, parts, types, tick)

        def some():
            yield next(iter(parts))
            raise exc

        return real(f, some(), types, tick)

    monkeypatch.setattr(usetest.export, writer, broken)


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
@pytest.mark.parametrize("exc", [KeyboardInterrupt(), OSError(errno.ENOSPC, "No space left on device")],
                         ids=["ctrl-c", "disk-full"])  # fmt: skip
def test_an_interrupted_or_failed_export_leaves_the_folder_as_it_was(hostile_db, tmp_path,
                                                                    monkeypatch, fmt, exc):  # fmt: skip
    out = tmp_path / "exports"
    export(hostile_db, out, fmt)  # an earlier, complete export
    before = files_in(out)
    monkeypatch.setattr(usetest.export, "CHUNK_ROWS", 2)
    _breaking(monkeypatch, f"_{fmt}", exc)
    result = CliRunner().invoke(cli, ["export", str(hostile_db), "--format", fmt, "--out", str(out)])
    interrupted = isinstance(exc, KeyboardInterrupt)
    assert result.exit_code == (130 if interrupted else 1), result.output
    assert ("export interrupted" if interrupted else "No space left on device") in result.stderr
    assert f"nothing in {out} was changed" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert files_in(out) == before  # the earlier export, whole; no partial or temporary file


def test_a_fresh_export_interrupted_leaves_no_file(hostile_db, tmp_path, monkeypatch):
    _breaking(monkeypatch, "_parquet", KeyboardInterrupt(), at_call=2)
    with pytest.raises(usetest.export.ExportInterrupted, match="nothing in .* was changed"):
        export(hostile_db, tmp_path / "out", "parquet")
    assert list((tmp_path / "out").iterdir()) == []


class _FillingFile:
    """A file object whose disk fills up after ``room`` bytes."""

    def __init__(self, f, room: int) -> None:
        self._f, self._room = f, room

    def write(self, data) -> int:
        self._room -= len(data)
        if self._room < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)


def test_an_xlsx_export_onto_a_full_disk_is_one_message_and_no_noise(hostile_db, tmp_path,
                                                                     monkeypatch):  # fmt: skip
    import contextlib

    real_open = Staged.open

    @contextlib.contextmanager
    def filling(self, name, mode="w", **kw):
        with real_open(self, name, mode, **kw) as f:
            yield _FillingFile(f, 3000)

    monkeypatch.setattr(Staged, "open", filling)
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    out = tmp_path / "x"
    result = CliRunner().invoke(cli, ["export", str(hostile_db), "--format", "xlsx", "--out", str(out)])
    gc.collect()
    assert result.exit_code == 1, result.output
    assert "No space left on device" in result.stderr and "was changed" in result.stderr
    assert unraisable == []  # no "Exception ignored in ZipFile.__del__"
    assert list(out.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# One snapshot.


def test_an_export_during_logging_agrees_with_itself(hostile_db, tmp_path, monkeypatch):
    """A session logs assists and notes (in a thread, on its own connection) while the export
    reads in small chunks; every file matches metadata.json, and the attempts' assists and the
    notes match the events in the same export."""
    loaded = parse_scenario(STUDY_YAML, "fixture.yaml")
    started, stop = threading.Event(), threading.Event()
    logged = {"n": 0}

    def logger() -> None:
        db = open_db(hostile_db)
        s = recorder.start(db, loaded, "P03", clock=FakeClock()).session
        s.start(s.state.order[0])
        try:
            while not stop.is_set():
                s.log_assist("again")
                s.log_note(f"note {logged['n']}")
                logged["n"] += 1
                if logged["n"] == 5:
                    started.set()
        finally:
            started.set()
            db.close()

    monkeypatch.setattr(usetest.export, "CHUNK_ROWS", 3)
    thread = threading.Thread(target=logger)
    thread.start()
    try:
        started.wait(30)
        at_start = logged["n"]
        export(hostile_db, tmp_path / "snap", "csv", progress=lambda done, total: time.sleep(0.002))
        during = logged["n"] - at_start
    finally:
        stop.set()
        thread.join()
    assert during > 3  # the session went on logging during the export
    meta = json.loads((tmp_path / "snap" / "metadata.json").read_text())
    for table, n in meta["tables"].items():
        assert len(pd.read_csv(tmp_path / "snap" / f"{table}.csv")) == n, table
    events = pd.read_csv(tmp_path / "snap" / "events.csv")
    attempts = pd.read_csv(tmp_path / "snap" / "attempts.csv")
    assert attempts["assists"].sum() == (events["kind"] == "assist_logged").sum()
    notes = pd.read_csv(tmp_path / "snap" / "notes.csv")
    assert len(notes) == (events["kind"] == "note_logged").sum()


# ---------------------------------------------------------------------------------------------
# Safe to open.


def test_notes_json_is_valid_whatever_the_notes_hold(hostile_db, tmp_path):
    export(hostile_db, tmp_path / "j", "json")
    for path in (tmp_path / "j").glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))  # every file parses
    notes = json.loads((tmp_path / "j" / "notes.json").read_text(encoding="utf-8"))
    assert {n["text"] for n in notes} >= set(FORMULAS + ODD)  # exactly, not neutralised
    assert pd.read_json(tmp_path / "j" / "attempts.json")["time_ms"].dtype.kind == "i"


def _csv_texts(path: Path) -> set[str]:
    return set(pd.read_csv(path, keep_default_na=False)["text"])


def test_csv_and_xlsx_neutralise_formulas_by_default_and_not_with_raw_formulas(hostile_db,
                                                                              tmp_path):  # fmt: skip
    safe = {"'" + t for t in FORMULAS}
    for fmt in ("csv", "xlsx", "parquet"):
        for raw in (False, True):
            out = tmp_path / f"{fmt}-{raw}"
            result = CliRunner().invoke(cli, ["export", str(hostile_db), "--format", fmt,
                                              "--out", str(out)] + (["--raw-formulas"] if raw else []))  # fmt: skip
            assert result.exit_code == 0, result.output
            meta = json.loads((out / "metadata.json").read_text())
            neutral = fmt != "parquet" and not raw
            assert meta["formula_cells"]["neutralised"] is neutral
            if fmt == "csv":
                texts = _csv_texts(out / "notes.csv")
                attempts = pd.read_csv(out / "attempts.csv")
            elif fmt == "parquet":
                texts = set(pd.read_parquet(out / "notes.parquet")["text"])
                attempts = pd.read_parquet(out / "attempts.parquet")
            else:
                book = openpyxl.load_workbook(out / "usetest-export.xlsx")
                sheet = book["notes"]
                header = [c.value for c in sheet[1]]
                column = header.index("text")
                cells = [row[column] for row in sheet.iter_rows(min_row=2)]
                assert all(c.data_type == "s" for c in cells)  # text, never a formula
                # XML reads a carriage return as a line feed (end-of-line normalisation)
                texts = {c.value.replace("\n", "\r") if c.value.endswith("\nx") else c.value
                         for c in cells}  # fmt: skip
                numbers = book["attempts"]
                time_ms = [c.value for c in numbers[1]].index("time_ms")
                # a number formatted as a duration (openpyxl reads it back as a timedelta)
                assert all(row[time_ms].data_type in ("n", "d") for row in numbers.iter_rows(min_row=2))
                attempts = pd.read_excel(out / "usetest-export.xlsx", sheet_name="attempts")
                attempts["time_ms"] = attempts["time_ms"].dt.total_seconds().mul(1000).round().astype(int)
            if neutral:
                assert texts >= safe and not texts & set(FORMULAS), (fmt, raw, texts)
            else:
                assert texts >= set(FORMULAS), (fmt, raw, texts)
            assert attempts["time_ms"].dtype.kind == "i" and attempts["assists"].dtype.kind == "i"


def test_only_text_cells_are_neutralised_numbers_stay_numbers():
    df = pd.DataFrame({"n": [-1, 2], "x": [-1.5, None], "t": ["-1", "ok"], "m": [None, "=A1"]})
    out = neutralised(df)
    assert out["n"].tolist() == [-1, 2] and out["n"].dtype.kind == "i"
    assert out["x"].iloc[0] == -1.5
    assert out["t"].tolist() == ["'-1", "ok"]
    assert pd.isna(out["m"].iloc[0]) and out["m"].iloc[1] == "'=A1"
    assert df["t"].tolist() == ["-1", "ok"]  # the input is not changed


# ---------------------------------------------------------------------------------------------
# Standard output.


def test_report_to_standard_output(hostile_db, tmp_path):
    before = set(tmp_path.iterdir())
    result = CliRunner().invoke(cli, ["report", str(hostile_db), "--no-charts", "-o", "-"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.lstrip().lower().startswith("<!doctype html") and "</html>" in result.stdout
    assert "wrote" not in result.stdout
    assert set(tmp_path.iterdir()) == before and not Path("-").exists()
    md = CliRunner().invoke(cli, ["report", str(hostile_db), "--format", "md", "-o", "-"])
    assert md.exit_code == 0 and md.stdout.startswith("# ")
    assert "figures need files" in md.stderr


@pytest.fixture
def full_disk(tmp_path):
    """A 24 kB file system (tmpfs), which every export of a small study overflows; needs root."""
    mount = shutil.which("mount")
    point = tmp_path / "full"
    point.mkdir()
    if os.geteuid() != 0 or mount is None or subprocess.run(
            [mount, "-t", "tmpfs", "-o", "size=24k,mode=0755", "tmpfs", str(point)],
            capture_output=True).returncode != 0:  # fmt: skip
        pytest.skip("mounting a small tmpfs needs root")
    yield point
    subprocess.run(["umount", str(point)], check=True)


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx", "parquet"])
def test_a_real_full_disk_is_one_message_and_leaves_no_file(full_disk, tmp_path, fmt):
    from tests.studydata import build_checkout

    db = build_checkout(tmp_path / "checkout.db", per_condition=3)
    out = full_disk / "exports"
    result = subprocess.run([sys.executable, "-m", "usetest", "export", str(db), "--format", fmt,
                             "--out", str(out)], capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "No space left on device" in result.stderr
    assert f"nothing in {out} was changed" in result.stderr
    assert "Exception ignored" not in result.stderr and "Traceback" not in result.stderr
    assert list(out.iterdir()) == []
