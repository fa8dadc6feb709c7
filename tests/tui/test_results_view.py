"""The results view (usetest results, and r from the session summary), driven by Pilot."""

from __future__ import annotations

from textual.widgets import DataTable, Static, TabbedContent
from textual_plotext import PlotextPlot

from tests.conftest import demo_without_profile
from tests.studydata import build_checkout
from usetest.analysis import summarise
from usetest.clock import FakeClock
from usetest.tui.app import make_app
from usetest.tui.screens.results import ResultsApp, ResultsScreen
from usetest.tui.screens.summary import SummaryScreen


def cells(table: DataTable, row: int) -> list[str]:
    return [str(getattr(c, "plain", c)) for c in table.get_row_at(row)]


async def wait_for_numbers(pilot, screen: ResultsScreen) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    assert "computing" not in str(screen.query_one("#results-status", Static).render())


async def test_results_view_shows_the_summary_numbers_and_charts(tmp_path):
    db = build_checkout(tmp_path / "checkout.db")
    expected = summarise(db).tasks.set_index("task_id")
    app = ResultsApp(db)
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ResultsScreen)
        await wait_for_numbers(pilot, screen)
        table = screen.query_one("#results-tasks", DataTable)
        assert table.row_count == 5
        first = cells(table, 0)
        assert first[0] == "find-kettle"
        assert first[1] == str(expected.loc["find-kettle", "n"])
        assert first[3].startswith(f"{100 * expected.loc['find-kettle', 'completion']:.0f}%")
        await pilot.press("2")
        assert screen.query_one(TabbedContent).active == "charts"
        plot = screen.query_one("#chart-completion", PlotextPlot)
        assert "Completion rate" in plot.plt.build()
        await pilot.press("4")
        assert screen.query_one(TabbedContent).active == "targets"
        targets = screen.query_one("#results-targets", DataTable)
        row = cells(targets, 0)  # completion against the published 78%, with its confidence
        assert row[:2] == ["find-kettle", "completion"] and row[3] == "≥ 78% (average)"
        assert row[6].startswith("meets the target with ") and row[6].endswith("% confidence")
        await pilot.press("6")
        assert screen.query_one(TabbedContent).active == "conditions"
        conditions = screen.query_one("#results-conditions", DataTable)
        assert conditions.row_count == 6  # 5 tasks + SUS, current vs redesign
        assert cells(conditions, 0)[1] == "current vs redesign"
        await pilot.press("q")
    assert app.return_code in (0, None)


async def test_results_view_refreshes_and_reports_a_bad_database(tmp_path):
    bad = tmp_path / "not.db"
    bad.write_text("this is not SQLite")
    app = ResultsApp(bad)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        status = str(app.screen.query_one("#results-status", Static).render())
        assert "Cannot summarise" in status and "not a usetest database" in status


async def test_r_on_the_session_summary_opens_the_study_results(tmp_path):
    demo = demo_without_profile()
    clock = FakeClock()
    app = make_app(demo, tmp_path / "d.db", clock=clock, participant="P01", consent=True)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("space")
        clock.advance(40)
        await pilot.press("s", "6", "space")
        clock.advance(20)
        await pilot.press("f", "3", "x", *"4152514231")
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("r")
        screen = app.screen
        assert isinstance(screen, ResultsScreen)
        await wait_for_numbers(pilot, screen)
        assert "1 participant (completed sessions)" in str(screen.query_one("#results-status", Static).render())
        await pilot.press("escape")
        assert isinstance(app.screen, SummaryScreen)


async def test_from_sessions_run_in_the_app_to_every_analyst_output(tmp_path):
    """Two participants through the real app, then summary, workbook, Parquet and report; every
    time in them is the one the event log gives when replayed."""
    import json

    import openpyxl
    import pandas as pd
    from click.testing import CliRunner

    from usetest import store
    from usetest.cli import cli
    from usetest.events import replay

    demo = demo_without_profile()
    db_path = tmp_path / "lab.db"
    for code, (first, second), sus in (("P01", (40, 20), "4152514231"),
                                       ("P02", (65, 35), "3243424332")):  # fmt: skip
        clock = FakeClock()
        app = make_app(demo, db_path, clock=clock, participant=code, consent=True)
        async with app.run_test(size=(100, 34)) as pilot:
            await pilot.press("space")
            clock.advance(first)
            await pilot.press("s", "6", "space")
            clock.advance(second)
            await pilot.press("f", "3", "x", *sus)
            assert isinstance(app.screen, SummaryScreen)
            await pilot.press("q")

    runner = CliRunner()
    out = runner.invoke(cli, ["summary", str(db_path), "--format", "json"])
    summary = json.loads(out.output)
    assert summary["participants"] == 2 and summary["sus"]["summary"]["n"] == 2
    for args in (["export", str(db_path), "--format", "xlsx", "--out", str(tmp_path / "x")],
                 ["export", str(db_path), "--format", "parquet", "--out", str(tmp_path / "p")],
                 ["report", str(db_path), "-o", str(tmp_path / "r.html")]):  # fmt: skip
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    attempts = pd.read_parquet(tmp_path / "p" / "attempts.parquet")
    book = openpyxl.load_workbook(tmp_path / "x" / "usetest-export.xlsx")
    assert book["attempts"].max_row == len(attempts) + 1

    db = store.open_db(db_path)
    try:
        for s in store.list_sessions(db):
            state = replay(s.order, store.load_events(db, s.id))
            mine = attempts[attempts["session_id"] == s.id].set_index("task_id")
            for task_id, task in state.tasks.items():
                assert mine.loc[task_id, "time_ms"] == task.closed_ms, (s.participant, task_id)
    finally:
        db.close()
    bookmark = next(t for t in summary["tasks"] if t["task_id"] == "bookmark")
    assert bookmark["successes"] == 2 and round(bookmark["time_s"], 3) == round(
        (40 * 65) ** 0.5, 3)  # geometric mean of the two successful times
    page = (tmp_path / "r.html").read_text()
    assert "P01" in page and "P02" in page and "<svg" in page


async def test_results_view_shows_every_answer_and_the_targets(tmp_path):
    from tests.test_measures import build_measures

    app = ResultsApp(build_measures(tmp_path / "m.db"))
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        await wait_for_numbers(pilot, screen)
        await pilot.press("3")
        custom = screen.query_one("#results-custom", DataTable)
        assert custom.display and [cells(custom, i)[1] for i in range(2)] == ["clear", "again"]
        assert cells(custom, 0)[7] == "1:0 2:1 3:1 4:2 5:1"
        free = screen.query_one("#results-free-text", DataTable)
        assert free.row_count == 4 and cells(free, 2)[4] == "Lost."
        after = screen.query_one("#results-after", DataTable)
        assert cells(after, 0)[5].startswith("4.60")  # CES after find
        await pilot.press("4")
        targets = screen.query_one("#results-targets", DataTable)
        rows = [cells(targets, i) for i in range(targets.row_count)]
        assert rows[1][:2] == ["find", "time s"] and rows[1][3] == "≤ 60 (task)"
        assert rows[-1][:2] == ["(study)", "CSAT"]
        await pilot.press("q")
