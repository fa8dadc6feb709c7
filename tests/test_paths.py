"""Any file name works for every command, and read-only folders can be analysed.

A path pasted into a SQLite URI opens another file (``50%25.db`` is ``50%.db`` to SQLite,
``stu#dy.db`` is ``stu``): every command here is run on a study whose name SQLite's URI syntax
would misread, with a decoy study at the name it would be misread as, and must read the right
one and leave the folder as it was. Read-only folders are real (a tmpfs remounted read-only;
root ignores permissions, so chmod proves nothing here).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import STUDY_YAML
from usetest import recorder, store
from usetest.analysis import AnalysisError, study_results
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.scenario import parse_scenario
from usetest.store import StoreError, open_db, open_read
from usetest.tui.screens.results import ResultsApp, ResultsScreen

TARGET = STUDY_YAML.replace("Fixture study", "Target study")
DECOY = STUDY_YAML.replace("Fixture study", "Decoy study")

NAMES = [
    "50%25.db",  # %25 is '%' in a URI: 50%.db beside it must not be read
    "stu#dy.db",  # '#' starts a URI fragment: the file 'stu' must not be read or created
    "a?b.db",  # '?' starts the URI query
    "x%3F y#1?.db",
    "with spaces.db",
    "étude Ω.db",
    "file:odd.db",  # a relative name that looks like a URI
]


def _play(path: Path, yaml: str, codes: list[str], unfinished: str | None = None) -> Path:
    db = open_db(path)
    clock = FakeClock()
    loaded = parse_scenario(yaml)
    for code in codes:
        s = recorder.start(db, loaded, code, clock=clock).session
        s.start()
        clock.advance(20)
        s.end("success")
        s.end("skipped")
        s.end("skipped")
        for i in range(1, 11):
            s.answer("sus", f"sus{i}", 4)
        s.complete()
    if unfinished:
        rec = recorder.start(db, loaded, unfinished, clock=clock)
        rec.session.start()
        recorder.release(db, rec)  # closed, not crashed: abandon needs no take-over
    db.close()
    return path


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> dict[str, Path]:
    """The target study (P01, P02 completed, P03 unfinished) and a decoy (P01), built once."""
    where = tmp_path_factory.mktemp("templates")
    return {
        "target": _play(where / "target.db", TARGET, ["P01", "P02"], unfinished="P03"),
        "decoy": _play(where / "decoy.db", DECOY, ["P01"]),
    }


def misread_as(name: str) -> str:
    """The file a URI made by pasting ``name`` would open."""
    return urllib.parse.unquote(re.split(r"[?#]", name)[0])


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def study_of(path: Path) -> list[tuple[str, str]]:
    db = open_read(path)  # tidies the -wal/-shm a reader of a WAL file makes (sqlite3's doesn't)
    try:
        return db.execute("SELECT participant, status FROM sessions ORDER BY participant").fetchall()
    finally:
        db.close()


@pytest.fixture
def lab(tmp_path, templates):
    """An empty folder for the studies (see :func:`place`) and an output folder beside it."""
    folder = tmp_path / "lab"
    folder.mkdir()
    (tmp_path / "out").mkdir()
    return folder


def place(lab: Path, templates: dict[str, Path], name: str) -> Path:
    shutil.copy(templates["target"], lab / name)
    decoy = misread_as(name)
    if decoy and decoy != name and "/" not in decoy:
        shutil.copy(templates["decoy"], lab / decoy)
    return lab / name


# (command, arguments after the database, check(result, db, out)); {db} is the path given
def _summary(result, db, out):
    assert "Target study" in result.output and "Decoy" not in result.output


def _report(result, db, out):
    assert "Target study" in (out / "r.html").read_text(encoding="utf-8")


def _export(result, db, out):
    assert "P03" in (out / "exp" / "sessions.csv").read_text(encoding="utf-8")  # the decoy has P01 only


def _merge(result, db, out):
    assert [p for p, _ in study_of(out / "m.db")] == ["P01", "P02", "P03"]


def _plan(result, db, out):
    assert "participant P04 would get" in result.output  # P01-P03 are taken in the target


def _amend(result, db, out):
    conn = open_read(db)
    try:
        assert conn.execute("SELECT count(*) FROM events WHERE kind = 'correction'").fetchone()[0] == 1
    finally:
        conn.close()


def _abandon(result, db, out):
    assert ("P03", "abandoned") in study_of(db)


def _withdraw(result, db, out):
    assert [p for p, _ in study_of(db)] == ["P01", "P03"]


COMMANDS = {
    "summary": (["summary", "{db}"], _summary),
    "report": (["report", "{db}", "-o", "{out}/r.html", "--no-charts"], _report),
    "export": (["export", "{db}", "--out", "{out}/exp", "--format", "csv"], _export),
    "merge": (["merge", "{db}", "-o", "{out}/m.db"], _merge),
    "run --plan": (["run", "{out}/target.yaml", "--db", "{db}", "--plan"], _plan),
    "amend": (["amend", "{db}", "--participant", "P02", "--task", "one", "--outcome", "fail",
               "--reason", "pressed f"], _amend),
    "abandon": (["abandon", "{db}", "--participant", "P03", "--reason", "left", "-y"], _abandon),
    "withdraw": (["withdraw", "{db}", "--participant", "P02", "--reason", "asked", "-y"],
                 _withdraw),
}  # fmt: skip


@pytest.mark.parametrize("how", ["relative", "absolute"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_reads_the_file_it_is_given_and_leaves_nothing_beside_it(
    lab, templates, monkeypatch, command, name, how
):
    db = place(lab, templates, name)
    out = lab.parent / "out"
    (out / "target.yaml").write_text(TARGET, encoding="utf-8")
    if how == "relative":
        monkeypatch.chdir(lab)
    given = name if how == "relative" else str(db)
    before = listing(lab)
    args, check = COMMANDS[command]
    result = CliRunner().invoke(cli, [a.format(db=given, out=out) for a in args])
    assert result.exit_code == 0, result.output
    check(result, db, out)
    assert listing(lab) == before  # no stray 'stu', no -wal/-shm left behind
    if misread_as(name) in before and misread_as(name) != name:
        assert study_of(lab / misread_as(name)) == [("P01", "completed")]  # decoy untouched


@pytest.mark.parametrize("name", ["50%25.db", "stu#dy.db", "étude Ω.db"])
async def test_the_results_view_shows_the_study_it_was_given(lab, templates, name):
    db = place(lab, templates, name)
    before = listing(lab)
    app = ResultsApp(db)
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ResultsScreen)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        status = str(app.screen.query_one("#results-status").render())
        assert status.startswith("Target study · 2 participants"), status
        await pilot.press("q")
    assert listing(lab) == before


@pytest.mark.parametrize("name", ["stu#dy.yaml", "a?b.yaml", "50%25.yaml", "étude Ω.yaml"])
def test_validate_takes_any_file_name(tmp_path, monkeypatch, name):
    (tmp_path / name).write_text(TARGET, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    before = listing(tmp_path)
    result = CliRunner().invoke(cli, ["validate", name])
    assert result.exit_code == 0, result.output
    assert listing(tmp_path) == before


# ---------------------------------------------------------------------------------------------
# What a path names, said plainly.


def test_a_folder_a_pipe_or_a_device_is_named_for_what_it_is(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "afile").write_text("notes")
    for given, said in [("adir/", "adir is a folder"), ("pipe", "pipe is not a regular file"),
                        ("afile/x.db", "afile is a file, not a folder"),
                        ("/dev/null", "/dev/null is not a regular file"),
                        ("absent.db", "absent.db does not exist")]:  # fmt: skip
        for command in (["summary"], ["report", "-o", "r.html"], ["export", "--out", "x"],
                        ["merge", "-o", "m.db"]):  # fmt: skip
            result = CliRunner().invoke(cli, [command[0], given, *command[1:]])
            assert result.exit_code == 1 and said in result.output, (command, result.output)
            assert "Traceback" not in result.output
    assert not (tmp_path / "m.db").exists() and not (tmp_path / "x").exists()


def test_a_database_path_under_a_file_or_on_a_device_is_refused_for_recording(tmp_path):
    (tmp_path / "afile").write_text("notes")
    os.mkfifo(tmp_path / "pipe")
    for path, said in [(tmp_path / "afile" / "x.db", f"{tmp_path / 'afile'} is a file, not a folder"),
                       (Path("/dev/null"), "/dev/null is not a regular file"),
                       (tmp_path / "pipe", "pipe is not a regular file")]:  # fmt: skip
        for refuse in (store.check_recordable, open_db):
            with pytest.raises(StoreError) as caught:
                refuse(path)
            assert said in str(caught.value), (refuse, str(caught.value))
    assert (tmp_path / "afile").read_text() == "notes"


# ---------------------------------------------------------------------------------------------
# Read-only folders and media.


@contextlib.contextmanager
def read_only_folder(fill) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """A tmpfs filled by ``fill(folder)`` then remounted read-only: a real read-only medium
    (root ignores chmod). Skips where mounting is not allowed."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a read-only file system needs root and mount")
    where = Path(f"/tmp/usetest-ro-{uuid.uuid4().hex[:8]}")
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        fill(where)
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        where.rmdir()


@pytest.mark.parametrize("command", ["summary", "report", "export", "merge"])
def test_a_database_on_a_read_only_medium_can_be_analysed(templates, tmp_path, command):
    name = "50%25 é#.db"
    args = {"summary": [], "report": ["-o", str(tmp_path / "r.html"), "--no-charts"],
            "export": ["--out", str(tmp_path / "exp")], "merge": ["-o", str(tmp_path / "m.db")]}  # fmt: skip
    store._told.clear()
    with read_only_folder(lambda d: shutil.copy(templates["target"], d / name)) as folder:
        result = CliRunner().invoke(cli, [command, str(folder / name), *args[command]])
        assert result.exit_code == 0, result.output
        assert f"reading {folder / name} as immutable" in result.stderr
        assert "read-only" in result.stderr
        assert listing(folder) == [name]
    if command == "summary":
        assert "Target study" in result.stdout
    if command == "merge":
        assert [p for p, _ in study_of(tmp_path / "m.db")] == ["P01", "P02", "P03"]


def test_the_results_and_the_analyses_read_a_read_only_medium(templates):
    with read_only_folder(lambda d: shutil.copy(templates["target"], d / "study.db")) as folder:
        summary, _ = study_results(folder / "study.db")
        assert summary.study == "Target study" and len(summary.sessions) == 2
        db = open_read(folder / "study.db")
        try:
            assert db.conn.immutable  # type: ignore[attr-defined]
        finally:
            db.close()


def test_a_read_only_medium_with_unmerged_changes_is_refused_not_misread(templates, tmp_path):
    """Immutable reading ignores a -wal: a copy taken while a session was being recorded is
    refused with what to do, never summarised without its last events."""
    live = tmp_path / "live.db"
    shutil.copy(templates["target"], live)
    writer = open_db(live)
    writer.conn.execute("PRAGMA wal_autocheckpoint = 0")
    writer.conn.execute("UPDATE sessions SET moderator = 'MK'")
    writer.conn.commit()
    assert Path(f"{live}-wal").stat().st_size > 0

    def fill(folder: Path) -> None:
        for suffix in ("", "-wal"):
            shutil.copy(f"{live}{suffix}", folder / f"study.db{suffix}")

    try:
        with read_only_folder(fill) as folder:
            with pytest.raises(AnalysisError) as caught:
                study_results(folder / "study.db")
            message = str(caught.value)
            assert "study.db-wal holds changes not yet in the database" in message
            assert "copy study.db together with study.db-wal to a writable folder" in message
            result = CliRunner().invoke(cli, ["summary", str(folder / "study.db")])
            assert result.exit_code == 1 and "Traceback" not in result.output
    finally:
        writer.close()


def test_a_reader_leaves_a_writers_wal_alone_and_sees_its_changes(templates, tmp_path):
    live = tmp_path / "live.db"
    shutil.copy(templates["target"], live)
    writer = open_db(live)
    try:
        writer.conn.execute("UPDATE sessions SET moderator = 'MK'")
        writer.conn.commit()
        before = listing(tmp_path)
        db = open_read(live)
        try:
            moderators = {m for (m,) in db.execute("SELECT moderator FROM sessions")}
        finally:
            db.close()
        assert moderators == {"MK"} and listing(tmp_path) == before
    finally:
        writer.close()


def test_open_read_names_the_problem(tmp_path):
    (tmp_path / "empty.db").write_bytes(b"")
    (tmp_path / "notes.db").write_text("not a database" * 100)
    for name, said in [("empty.db", "is empty"), ("notes.db", "not a usetest database"),
                       ("absent.db", "does not exist")]:  # fmt: skip
        with pytest.raises(StoreError, match=said):
            open_read(tmp_path / name)
    assert listing(tmp_path) == ["empty.db", "notes.db"]  # nothing else appeared


@contextlib.contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """``path`` made unchangeable (chattr +i: root ignores chmod); skips where not possible."""
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot make a file immutable here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_database_in_a_writable_folder_leaves_nothing_beside_it(templates, tmp_path):
    """SQLite cannot remove the -wal/-shm a reader made when the database is read-only to it;
    usetest does, once no connection (in this process or another) uses them."""
    path = tmp_path / "study #1.db"
    shutil.copy(templates["target"], path)
    with unwritable(path):
        for command in (["summary"], ["export", "--out", str(tmp_path / "exp")]):
            result = CliRunner().invoke(cli, [command[0], str(path), *command[1:]])
            assert result.exit_code == 0, result.output
            assert sorted(set(listing(tmp_path)) - {"exp"}) == ["study #1.db"]
        first = open_read(path)
        try:
            store._remove_unused(path)  # still in use by this process: left alone
            assert Path(f"{path}-shm").exists()
            other = subprocess.Popen(
                [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], "
                 "uri=True); c.execute('SELECT 1 FROM sqlite_master').fetchall(); "
                 "print('open', flush=True); sys.stdin.read()", path.as_uri() + "?mode=ro"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
            assert other.stdout.readline().strip() == "open"
        finally:
            first.close()
        assert Path(f"{path}-shm").exists()  # in use by another process: left alone
        other.communicate("")
        store._remove_unused(path)  # nobody uses them now
        assert listing(tmp_path) == ["exp", "study #1.db"]


@pytest.mark.parametrize("name", ["50%25.db", "stu#dy.db", "x%3F y#1?.db"])
async def test_the_app_records_into_the_file_it_was_given(lab, templates, monkeypatch, name):
    from usetest.tui.app import make_app

    place(lab, templates, name)
    monkeypatch.chdir(lab)
    before = listing(lab)
    app = make_app(parse_scenario(TARGET), name, clock=FakeClock(), participant="P04", consent=True)
    async with app.run_test() as pilot:
        await pilot.press("space")  # the first task starts: the session is in the file
        assert app.recording.record.participant == "P04"
    assert ("P04", "in_progress") in study_of(lab / name)
    decoy = misread_as(name)
    if decoy in before:
        assert study_of(lab / decoy) == [("P01", "completed")]
    # the app's own connection keeps its journal until the process ends; nothing else appears
    assert sorted(set(listing(lab)) - {f"{name}-wal", f"{name}-shm"}) == before
