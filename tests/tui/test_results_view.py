"""The results view (usetest results, and r from the session summary), driven by Pilot."""

from __future__ import annotations

from textual.widgets import DataTable, Static, TabbedContent
from textual_plotext import PlotextPlot

from tests.conftest import ROOT
from tests.studydata import build_checkout
from usetest.analysis import summarise
from usetest.clock import FakeClock
from usetest.scenario import load_scenario
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
        assert first[2].startswith(f"{100 * expected.loc['find-kettle', 'completion']:.0f}%")
        await pilot.press("2")
        assert screen.query_one(TabbedContent).active == "charts"
        plot = screen.query_one("#chart-completion", PlotextPlot)
        assert "Completion rate" in plot.plt.build()
        await pilot.press("5")
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
    demo = load_scenario(ROOT / "scenarios" / "demo.yaml")
    clock = FakeClock()
    app = make_app(demo, tmp_path / "d.db", clock=clock, participant="P01")
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
