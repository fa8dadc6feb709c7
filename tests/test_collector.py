"""The cycle collector paused for bulk work (usetest.collector), and where usetest pauses it."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_analysis import study_db  # noqa: F401  (fixture)
from usetest import analysis, collector, export, report
from usetest.cli import cli


@pytest.fixture
def collecting():
    """The collector on, as a process starts; as it was after the test."""
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_turns_it_off_and_back_as_it_was(collecting: None) -> None:
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():  # nested: still off, and the outer block decides
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with collector.paused():
        assert not gc.isenabled()
    assert not gc.isenabled(), "a collector that was off stays off"


def test_paused_turns_it_back_on_after_an_error(collecting: None) -> None:
    with pytest.raises(KeyError), collector.paused():
        raise KeyError("x")
    assert gc.isenabled()


def test_an_export_streams_its_rows_with_the_collector_paused(study_db: Path,  # noqa: F811
                                                              tmp_path: Path,
                                                              collecting: None) -> None:  # fmt: skip
    seen: list[bool] = []
    written = export.export(study_db, tmp_path / "out", "csv",
                            progress=lambda done, total: seen.append(gc.isenabled()))  # fmt: skip
    assert written and seen and not any(seen), "rows were streamed with the collector on"
    assert gc.isenabled(), "the collector was left off"


@pytest.mark.parametrize("command", ["summary", "report", "export"])
def test_the_commands_that_run_to_their_end_pause_it(command: str, study_db: Path,  # noqa: F811
                                                     tmp_path: Path, collecting: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """summary, report and export: from their first import to their last line (a process
    that exits); the collector is as it was once the command returns."""
    seen: list[bool] = []

    def spy(module: object, name: str) -> None:
        real = getattr(module, name)

        def watched(*args: object, **kwargs: object) -> object:
            seen.append(gc.isenabled())
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, watched)

    spy(analysis, "summarise")
    spy(report, "write_report")
    spy(export, "export")
    args = {"summary": ["summary", str(study_db)],
            "report": ["report", str(study_db), "-o", str(tmp_path / "r.html"), "--no-charts"],
            "export": ["export", str(study_db), "--format", "csv", "--out",
                       str(tmp_path / "out")]}[command]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert seen and not any(seen)
    assert gc.isenabled()


def test_the_moderator_app_is_not_among_them() -> None:
    """run, observe, show, results and datasette run for hours: their collector stays on (run
    pauses it for its start only, and the app resumes it: usetest.tui.app)."""
    for name in ("run", "observe", "show", "results", "datasette", "merge"):
        assert not hasattr(cli.commands[name].callback, "__wrapped__"), name
