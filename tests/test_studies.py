"""Studies and their versions: one study per database, nothing written before a session,
edits as numbered versions, analyses and merges over several versions."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import STUDY_YAML
from usetest import recorder, store
from usetest.analysis import summarise
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.merge import MergeError, merge
from usetest.report import write_report
from usetest.scenario import parse_scenario
from usetest.store import StoreError, open_db, peek
from usetest.tui.app import make_app
from usetest.tui.screens.setup import SetupScreen
from usetest.versions import changes, new_version_notice, task_order

# Version 2 of the fixture study: task "two" reworded, "three" removed, "four" added.
EDITED_YAML = (
    STUDY_YAML.replace("title: Second task", "title: The second task, reworded")
    .replace("  - id: three\n    title: Third task\n    prompt: Do the third thing.\n"
             "    seq: false\n",
             "  - id: four\n    title: Fourth task\n    prompt: Do the fourth thing.\n")
)  # fmt: skip
OTHER_YAML = STUDY_YAML.replace("study: Fixture study", "study: Another study")


def snapshot(path: Path) -> tuple[bytes, int]:
    """The file's bytes and modification time: what "left as it was" means."""
    return path.read_bytes(), path.stat().st_mtime_ns


def companions(path: Path) -> list[Path]:
    return [p for p in (Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal"))
            if p.exists()]  # fmt: skip


def run_sessions(db, yaml: str, codes: list[str], clock: FakeClock, outcome: str = "success"):
    loaded = parse_scenario(yaml, "study.yaml")
    for code in codes:
        s = recorder.start(db, loaded, code, clock=clock).session
        for task_id in s.state.order:
            s.start(task_id)
            clock.advance(10)
            s.end(outcome)
        for q in ("sus",):
            for i in range(1, 11):
                s.answer(q, f"sus{i}", 3)
        s.answer("umux-lite", "umux1", 5)
        s.answer("umux-lite", "umux2", 5)
        s.answer("nps", "nps", 9)
        s.complete()
        clock.advance(600)


def recorded_study(path: Path, yaml: str = STUDY_YAML, codes: tuple[str, ...] = ("P01",),
                   clock: FakeClock | None = None) -> Path:  # fmt: skip
    db = open_db(path)
    run_sessions(db, yaml, list(codes), clock or FakeClock())
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


def scenario_file(tmp_path: Path, name: str, yaml: str) -> Path:
    path = tmp_path / name
    path.write_text(yaml, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# The store: one study, numbered versions.


def test_a_scenario_of_another_study_is_refused_with_both_names_and_nothing_written(tmp_path):
    path = recorded_study(tmp_path / "checkout.db")
    before = snapshot(path)
    other = parse_scenario(OTHER_YAML, "other.yaml")
    db = open_db(path)
    with pytest.raises(StoreError) as caught:
        recorder.start(db, other, "P02", clock=FakeClock())
    db.close()
    message = str(caught.value)
    assert "“Fixture study”" in message and "“Another study”" in message
    assert "holds one study" in message and "--db" in message
    assert "nothing was written" in message
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM scenarios").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    conn.close()
    assert before[0] == path.read_bytes()


def test_edits_are_versions_numbered_in_order_of_first_use(db, clock):
    run_sessions(db, STUDY_YAML, ["P01"], clock)
    run_sessions(db, EDITED_YAML, ["P02"], clock)
    run_sessions(db, STUDY_YAML, ["P03"], clock)  # version 1 again: no new version
    third = EDITED_YAML.replace("Do the fourth thing.", "Do the fourth thing, please.")
    run_sessions(db, third, ["P04"], clock)
    versions = store.scenario_versions(db)
    assert [v.version for v in versions] == [1, 2, 3]
    assert [v.sha256 for v in versions] == [parse_scenario(y).sha256
                                            for y in (STUDY_YAML, EDITED_YAML, third)]  # fmt: skip
    ran = {s.participant: s.scenario_id for s in store.list_sessions(db)}
    number = {v.id: v.version for v in versions}
    assert {p: number[i] for p, i in ran.items()} == {"P01": 1, "P02": 2, "P03": 1, "P04": 3}


def test_a_study_id_keeps_a_renamed_study_one_study(db, clock):
    with_id = STUDY_YAML.replace("study: Fixture study", "study: Fixture study\nstudy_id: fixture")
    run_sessions(db, STUDY_YAML, ["P01"], clock)  # known by its title
    run_sessions(db, with_id, ["P02"], clock)  # the same title, a study_id added: continues it
    renamed = with_id.replace("study: Fixture study", "study: Fixture study, renamed")
    run_sessions(db, renamed, ["P03"], clock)  # renamed, same study_id: continues it
    assert len(store.scenario_versions(db)) == 3
    other_id = renamed.replace("study_id: fixture", "study_id: another")
    with pytest.raises(StoreError, match="study_id fixture"):
        run_sessions(db, other_id, ["P04"], clock)
    assert len(store.scenario_versions(db)) == 3


def test_what_changed_between_versions():
    old, new = parse_scenario(STUDY_YAML).scenario, parse_scenario(EDITED_YAML).scenario
    ch = changes(old, new)
    assert (ch.added, ch.removed, ch.reworded) == (("four",), ("three",), ("two",))
    assert task_order([old, new]) == ["one", "two", "three", "four"]
    limit = parse_scenario(STUDY_YAML.replace("time_limit: 60", "time_limit: 90")).scenario
    assert changes(old, limit).other == ("time limit of one",)
    assert not changes(old, old)


def test_an_older_database_is_migrated_with_versions_by_first_use(tmp_path):
    """A schema-1 file: the stray text an older usetest saved without a session is no version."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    db = store._import_sqlite_utils().Database(conn)
    store._v1_initial(db)
    conn.execute("PRAGMA user_version = 1")
    sha = {y: parse_scenario(y).sha256 for y in (STUDY_YAML, OTHER_YAML, EDITED_YAML)}
    rows = [(1, sha[STUDY_YAML], "Fixture study", STUDY_YAML, "2026-01-02T00:00:00Z"),
            (2, sha[OTHER_YAML], "Stray", OTHER_YAML, "2026-01-01T00:00:00Z"),
            (3, sha[EDITED_YAML], "Fixture study", EDITED_YAML, "2026-01-03T00:00:00Z")]
    conn.executemany("INSERT INTO scenarios (id, sha256, study, text, loaded_at)"
                     " VALUES (?, ?, ?, ?, ?)", rows)  # fmt: skip
    for sid, scenario_id, code in ((1, 3, "P01"), (2, 1, "P02")):  # v3 text used first
        conn.execute("INSERT INTO sessions (id, uid, scenario_id, participant, task_order,"
                     " started_at) VALUES (?, ?, ?, ?, '[]', '2026-01-04')",
                     (sid, f"u{sid}", scenario_id, code))  # fmt: skip
    conn.commit()
    conn.close()
    before = snapshot(path)
    view = peek(path)  # read through a migrated copy: the file stays schema 1
    assert [(v.id, v.version) for v in store.scenario_versions(view)] == [(3, 1), (1, 2)]
    view.close()
    assert snapshot(path) == before and not companions(path)
    db = open_db(path)
    assert [(v.id, v.version) for v in store.scenario_versions(db)] == [(3, 1), (1, 2)]
    assert db.execute("SELECT version FROM scenarios WHERE id = 2").fetchone()[0] is None
    # the stray is not the study: another study's scenario is still refused
    with pytest.raises(StoreError, match="“Fixture study”"):
        store.check_study(db, parse_scenario(OTHER_YAML))
    db.close()


# ---------------------------------------------------------------------------------------------
# Nothing is written before a session starts.


def test_peek_writes_nothing_and_leaves_no_companion_files(tmp_path):
    assert peek(tmp_path / "absent.db") is None and not (tmp_path / "absent.db").exists()
    path = recorded_study(tmp_path / "study.db")
    assert not companions(path)
    before = snapshot(path)
    view = peek(path)
    assert [s.participant for s in store.list_sessions(view)] == ["P01"]
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        view.execute("DELETE FROM answers")
    view.close()
    assert snapshot(path) == before and not companions(path)
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a usetest database"):
        peek(path)


def test_run_of_another_study_is_refused_by_the_cli_and_the_file_is_untouched(tmp_path):
    path = recorded_study(tmp_path / "checkout.db")
    before = snapshot(path)
    other = scenario_file(tmp_path, "other.yaml", OTHER_YAML)
    for extra in ([], ["--participant", "P02", "--consent"], ["--plan"]):
        result = CliRunner().invoke(cli, ["run", str(other), "--db", str(path), *extra])
        assert result.exit_code == 1, result.output
        assert "“Fixture study”" in result.stderr and "“Another study”" in result.stderr
        assert "another --db, e.g. --db results/other.db" in result.stderr
        assert "Traceback" not in result.output
        assert snapshot(path) == before and not companions(path)


def test_run_plan_and_validate_leave_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = scenario_file(tmp_path, "study.yaml", STUDY_YAML)
    result = CliRunner().invoke(cli, ["run", str(scenario), "--plan"])
    assert result.exit_code == 0, result.output
    assert "participant P01 would get:" in result.output
    assert CliRunner().invoke(cli, ["validate", str(scenario)]).exit_code == 0
    assert not (tmp_path / "results").exists()
    # an existing database: --plan reads it, leaves it as it was, and tells of a new version
    path = recorded_study(tmp_path / "study.db")
    before = snapshot(path)
    edited = scenario_file(tmp_path, "edited.yaml", EDITED_YAML)
    result = CliRunner().invoke(cli, ["run", str(edited), "--db", str(path), "--plan"])
    assert result.exit_code == 0, result.output
    assert "participant P02 would get:" in result.output
    assert "changed since version 1" in result.output and "“Third task” (three) removed" in (
        result.output)  # fmt: skip
    assert snapshot(path) == before and not companions(path)


async def test_quitting_the_set_up_screen_leaves_no_file(tmp_path):
    path = tmp_path / "new.db"
    app = make_app(parse_scenario(STUDY_YAML), path, clock=FakeClock())
    async with app.run_test() as pilot:
        assert isinstance(app.screen, SetupScreen)
        await pilot.press("ctrl+q")
    assert not path.exists() and not companions(path)
    assert not list(tmp_path.iterdir())


async def test_quitting_the_set_up_screen_leaves_an_existing_file_as_it_was(tmp_path):
    path = recorded_study(tmp_path / "study.db")
    before = snapshot(path)
    app = make_app(parse_scenario(EDITED_YAML), path, clock=FakeClock())
    async with app.run_test() as pilot:
        assert isinstance(app.screen, SetupScreen)
        assert app.screen.suggested_code() == "P02"  # read from the file, read-only
        await pilot.press("ctrl+q")
    assert snapshot(path) == before and not companions(path)


def test_the_app_refuses_another_study_before_writing(tmp_path):
    path = recorded_study(tmp_path / "study.db")
    before = snapshot(path)
    with pytest.raises(StoreError, match="“Another study”"):
        make_app(parse_scenario(OTHER_YAML, "other.yaml"), path, clock=FakeClock())
    assert snapshot(path) == before and not companions(path)


async def test_a_new_version_is_told_at_start_up_and_recorded_when_the_session_starts(tmp_path):
    path = recorded_study(tmp_path / "study.db")
    app = make_app(parse_scenario(EDITED_YAML), path, clock=FakeClock())
    async with app.run_test() as pilot:
        notes = [n for n in app._notifications if n.title == "New version of the study"]
        assert len(notes) == 1
        text = notes[0].message
        assert "“Fourth task” (four) added" in text and "“Third task” (three) removed" in text
        assert "“The second task, reworded” (two) reworded" in text and "version 2" in text
        await pilot.press("tab", "tab", "space")  # moderator, then tick consent
        await pilot.press("ctrl+s")
        assert app.recording is not None and app.recording.record.participant == "P02"
        await pilot.press("ctrl+q")
        await pilot.pause()
    db = open_db(path)
    versions = {v.id: v.version for v in store.scenario_versions(db)}
    assert {s.participant: versions[s.scenario_id] for s in store.list_sessions(db)} == {
        "P01": 1, "P02": 2}
    assert new_version_notice(db, parse_scenario(EDITED_YAML)) is None  # the latest now
    db.close()


# ---------------------------------------------------------------------------------------------
# Analyses over several versions.


@pytest.fixture
def two_versions(tmp_path) -> Path:
    """P01, P02 ran version 1 (tasks one, two, three); P03 ran version 2 (one, two reworded,
    four)."""
    path = tmp_path / "study.db"
    clock = FakeClock(start_utc=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    db = open_db(path)
    run_sessions(db, STUDY_YAML, ["P01", "P02"], clock)
    run_sessions(db, EDITED_YAML, ["P03"], clock)
    db.close()
    return path


def test_each_task_is_taken_from_the_versions_of_the_sessions_analysed(two_versions):
    s = summarise(two_versions)
    tasks = s.tasks.set_index("task_id")
    assert list(tasks.index) == ["one", "two", "three", "four"]
    assert tasks["n"].to_dict() == {"one": 3, "two": 3, "three": 2, "four": 1}
    assert tasks.loc["two", "title"] == "The second task, reworded"  # one row, newest title
    assert tasks.loc["three", "title"] == "Third task"  # removed in version 2: still here
    assert [(v["version"], v["participants"]) for v in s.versions] == [
        (1, ["P01", "P02"]), (2, ["P03"])]
    assert s.versions[1]["changes"] == {"added": ["four"], "removed": ["three"],
                                        "reworded": ["two"], "other": []}  # fmt: skip
    only_v1 = summarise(two_versions, participants=["P01"])
    assert list(only_v1.tasks["task_id"]) == ["one", "two", "three"]
    assert only_v1.tasks.set_index("task_id").loc["two", "title"] == "Second task"
    assert [v["version"] for v in only_v1.versions] == [1]


def test_json_summary_report_and_export_say_which_sessions_ran_which_version(two_versions,
                                                                               tmp_path):  # fmt: skip
    result = CliRunner().invoke(cli, ["summary", str(two_versions), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(v["version"], v["participants"], v["since_version"]) for v in data["versions"]] == [
        (1, ["P01", "P02"], None), (2, ["P03"], 1)]
    assert {t["task_id"]: t["n"] for t in data["tasks"]} == {"one": 3, "two": 3, "three": 2,
                                                             "four": 1}  # fmt: skip
    [report] = write_report(two_versions, tmp_path / "r.md", fmt="md", charts=False)
    text = report.read_text()
    assert "The study ran in 2 versions" in text
    assert "| 1 | 2026-11-02 09:00 | P01, P02 | – |" in text
    assert "P03 | task “Fourth task” \\(four\\) added; task “Third task” \\(three\\) removed" in text
    from usetest.export import export

    export(two_versions, tmp_path / "x", "csv")
    import pandas as pd

    versions = pd.read_csv(tmp_path / "x" / "summary_versions.csv")
    assert versions[["version", "participant"]].values.tolist() == [[1, "P01"], [1, "P02"],
                                                                     [2, "P03"]]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Merging stations that ran different versions.


def test_merge_accepts_versions_of_one_study_and_numbers_them_by_first_use(tmp_path):
    early = FakeClock(start_utc=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    late = FakeClock(start_utc=datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    # station a ran the edited version (later), station b the first one (earlier) and then
    # the edited one too
    a = recorded_study(tmp_path / "a.db", EDITED_YAML, ("P03",), late)
    b = tmp_path / "b.db"
    db = open_db(b)
    run_sessions(db, STUDY_YAML, ["P01"], early)
    run_sessions(db, EDITED_YAML, ["P02"], FakeClock(start_utc=datetime(2026, 11, 4, tzinfo=UTC)))
    db.close()
    out = tmp_path / "all.db"
    result = merge([a, b], out)
    assert (result.added, result.already_there, result.versions) == (3, 0, 2)
    db = open_db(out)
    rows = db.execute("SELECT sha256, version, loaded_at FROM scenarios ORDER BY version").fetchall()
    assert [r[0] for r in rows] == [parse_scenario(STUDY_YAML).sha256,
                                    parse_scenario(EDITED_YAML).sha256]  # one row each
    assert rows[1][2].startswith("2026-11-03")  # the earliest first use of that text
    db.close()
    s = summarise(out)
    assert s.tasks.set_index("task_id")["n"].to_dict() == {"one": 3, "two": 3, "three": 1,
                                                           "four": 2}  # fmt: skip
    assert [(v["version"], v["participants"]) for v in s.versions] == [
        (1, ["P01"]), (2, ["P03", "P02"])]
    again = merge([a, b], out)
    assert (again.added, again.already_there) == (0, 3)


def test_merge_refuses_another_study_in_the_target_without_writing(tmp_path):
    a = recorded_study(tmp_path / "a.db")
    out = recorded_study(tmp_path / "other.db", OTHER_YAML, ("P09",))
    before = snapshot(out)
    with pytest.raises(MergeError, match="different studies"):
        merge([a], out)
    assert snapshot(out) == before and not companions(out)


def test_the_app_refuses_a_read_only_folder_at_start_up_not_at_the_first_session():
    import subprocess

    from tests.test_bad_db import tmpfs

    with tmpfs("1m") as mount:
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        try:
            with pytest.raises(StoreError, match="read-only"):
                make_app(parse_scenario(STUDY_YAML), mount / "results" / "new.db")
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(mount)], check=True)
        assert not list(mount.iterdir())


def test_a_refused_participant_code_leaves_no_new_version_behind(tmp_path):
    """The scenario version and the session row are written in one transaction."""
    from usetest import recorder, store
    from usetest.clock import FakeClock
    from usetest.scenario import parse_scenario

    v1 = parse_scenario("study: Same\ntasks:\n  - {id: a, title: A, prompt: Do A.}\n")
    v2 = parse_scenario("study: Same\ntasks:\n  - {id: a, title: A, prompt: Do A now.}\n")
    db = store.open_db(tmp_path / "s.db")
    recorder.start(db, v1, "P01", clock=FakeClock())
    try:
        recorder.start(db, v2, "P01", clock=FakeClock())
    except store.ParticipantTaken as exc:
        assert "P02" in str(exc)
    else:
        raise AssertionError("a taken code was accepted")
    assert [v.version for v in store.scenario_versions(db)] == [1]
    assert db.execute("SELECT count(*) FROM scenarios").fetchone() == (1,)
    db.close()


def test_the_terminal_summary_says_the_study_ran_in_several_versions(two_versions):
    result = CliRunner().invoke(cli, ["summary", str(two_versions)])
    assert result.exit_code == 0, result.output
    assert "The study ran in 2 versions (version 1: P01, P02; version 2: P03)" in " ".join(
        result.output.split())
