"""The memo of checked study files (usetest.checked): a file is checked in full once, then
only while it is unchanged is the scan skipped — any change, a copy, a forged time, another
usetest version or a file too fresh to trust is checked again, and a hostile change is still
refused."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.studydata import build_checkout
from usetest import checked, store
from usetest.cli import cli

SETTLE = 0.05


@pytest.fixture
def memo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("USETEST_CACHE_DIR", str(where))
    monkeypatch.setattr(checked, "SETTLE_S", SETTLE)
    return where


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full check of a file (store.verify), by path."""
    calls: list[str] = []
    real = store.verify

    def counting(db: object, path: Path | str, *more: object) -> None:
        calls.append(str(path))
        real(db, path, *more)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "verify", counting)
    return calls


def _settle() -> None:
    time.sleep(SETTLE * 3)


def _read(path: Path) -> None:
    store.open_read(path).close()


@pytest.fixture
def study(tmp_path: Path) -> Path:
    path = build_checkout(tmp_path / "study.db", per_condition=2)
    _settle()
    return path


def _negative_time(path: Path) -> None:
    """A hostile change of the same size: one stored time made negative."""
    conn = sqlite3.connect(path)
    conn.execute("UPDATE attempts SET time_ms = -5 WHERE rowid = (SELECT min(rowid) FROM attempts)")
    conn.commit()
    conn.close()


def test_an_unchanged_file_is_scanned_once(memo: Path, scans: list[str], study: Path) -> None:
    _read(study)
    _read(study)
    _read(study)
    assert scans == [str(study)]
    saved = json.loads((memo / checked.NAME).read_text(encoding="utf-8"))
    assert saved["format"] == checked.FORMAT and len(saved["checked"]) == 1
    assert str(study) not in (memo / checked.NAME).read_text(encoding="utf-8")  # hashes only
    assert oct((memo / checked.NAME).stat().st_mode & 0o777) == "0o600"
    assert oct(memo.stat().st_mode & 0o777) == "0o700"


def test_a_change_is_checked_again_and_refused(memo: Path, scans: list[str], study: Path) -> None:
    _read(study)
    size = study.stat().st_size
    _negative_time(study)
    assert study.stat().st_size == size
    with pytest.raises(store.DatabaseRefused, match="time out of range"):
        _read(study)  # at once: too fresh to trust
    _settle()
    with pytest.raises(store.DatabaseRefused, match="time out of range"):
        _read(study)  # settled: a fingerprint the memo does not have
    assert len(scans) == 3


def test_a_forged_time_does_not_pass(memo: Path, scans: list[str], study: Path) -> None:
    """Same size, same modification time (set back with utime): the change time, which no
    program can set back, still tells."""
    _read(study)
    before = study.stat()
    _negative_time(study)
    os.utime(study, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (study.stat().st_size, study.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    _settle()
    with pytest.raises(store.DatabaseRefused, match="time out of range"):
        _read(study)


def test_a_copy_is_checked(memo: Path, scans: list[str], study: Path, tmp_path: Path) -> None:
    _read(study)
    other = tmp_path / "sent" / "study.db"
    other.parent.mkdir()
    _negative_time(study)
    shutil.copy2(study, other)  # keeps the modification time
    _settle()
    with pytest.raises(store.DatabaseRefused):
        _read(other)
    assert scans == [str(study), str(other)]


def test_a_file_written_by_a_session_is_checked_again(memo: Path, scans: list[str],
                                                      study: Path) -> None:  # fmt: skip
    _read(study)
    db = store.open_db(study)  # a usetest writer: the switch to WAL, the migration check
    db.execute("UPDATE sessions SET moderator = 'Ann' WHERE id = 1")
    db.conn.commit()
    db.close()
    _settle()
    _read(study)
    _read(study)
    assert scans == [str(study)] * 2


def test_a_fresh_file_is_never_remembered(memo: Path, scans: list[str], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(checked, "SETTLE_S", 3600.0)
    path = build_checkout(tmp_path / "new.db", per_condition=1)
    _read(path)
    _read(path)
    assert len(scans) == 2
    assert not (memo / checked.NAME).exists()


def test_another_usetest_version_checks_again(memo: Path, scans: list[str], study: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    _read(study)
    monkeypatch.setattr(checked, "__version__", "99.0")
    _read(study)
    assert len(scans) == 2


def test_the_memo_can_be_turned_off(tmp_path: Path, scans: list[str], study: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("USETEST_CACHE_DIR", "")
    monkeypatch.setattr(checked, "SETTLE_S", SETTLE)
    _read(study)
    _read(study)
    assert len(scans) == 2
    assert checked.folder() is None


@pytest.mark.parametrize("damage", ["garbage", "list", "old format", "unwritable"])
def test_a_broken_memo_is_only_a_missed_shortcut(memo: Path, scans: list[str], study: Path,
                                                 tmp_path: Path, damage: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    memo.mkdir()
    text = {"garbage": "\x00{not json", "list": "[1, 2]",
            "old format": json.dumps({"format": 0, "checked": {}})}.get(damage)  # fmt: skip
    if text is None:  # a memo folder that cannot exist: under a regular file
        blocker = tmp_path / "blocker"
        blocker.write_text("x")
        monkeypatch.setenv("USETEST_CACHE_DIR", str(blocker / "cache"))
    else:
        (memo / checked.NAME).write_text(text, encoding="utf-8")
    _read(study)
    _read(study)
    result = CliRunner().invoke(cli, ["summary", str(study)])
    assert result.exit_code == 0, result.output
    if text is None:
        assert len(scans) == 3  # checked every time, and nothing went wrong
    else:
        assert len(scans) == 1  # rewritten after the first check
        assert json.loads((memo / checked.NAME).read_text(encoding="utf-8"))["format"] == 1


def test_the_memo_keeps_the_newest(memo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checked, "KEEP", 3)
    for n in range(5):
        checked.remember(f"{n:064x}")
    kept = json.loads((memo / checked.NAME).read_text(encoding="utf-8"))["checked"]
    assert sorted(kept) == [f"{n:064x}" for n in (2, 3, 4)]
    assert checked.known(f"{4:064x}") and not checked.known(f"{0:064x}")
