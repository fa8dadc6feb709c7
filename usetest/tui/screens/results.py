"""The results view: the study summary as tables and terminal charts, inside the app.

Opened by ``usetest results DB`` or with ``r`` from the session summary. The numbers come from
:func:`usetest.analysis.study_results` (the summary, and the comparison with two or more
conditions), computed in a worker thread so the screen appears at once; ``r`` recomputes them, e.g. while other sessions
are being logged into the same database (reads never block the writer).

Charts use textual-plotext (the ``charts`` extra); without it the view shows the tables and
says how to add the charts.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from usetest import present
from usetest.plain import escaped
from usetest.tui.text import literal

TABS = ("tasks", "charts", "satisfaction", "targets", "problems", "conditions")
SATISFACTION_TABLES = {"after": "Asked after tasks", "custom": "The study's own questions",
                       "free-text": "Free-text answers"}  # fmt: skip


def _cell(text: str) -> Text:
    """A DataTable cell shown as typed (a str cell would be read as markup)."""
    return Text(literal(text).plain)


class ResultsScreen(Screen[None]):
    """Summary tables and charts of one study database."""

    DEFAULT_CSS = """
    #results-title { text-style: bold; padding: 0 1; }
    #results-status { color: $text-muted; padding: 0 1; }
    .results-chart { height: 16; min-width: 60; }
    #results-satisfaction { padding: 1 2; }
    .results-subtitle { text-style: bold; padding: 0 1; }
    .results-subtable { height: auto; max-height: 20; margin-bottom: 1; }
    """

    BINDINGS = [
        Binding("r", "reload", "Reload", id="results-reload"),
        Binding("escape", "close", "Back", id="results-back"),
        Binding("q", "close", "Close", show=False, id="results-quit"),
        *[Binding(str(i), f"tab('{name}')", name, show=False) for i, name in enumerate(TABS, 1)],
    ]

    def __init__(self, db_path: str | Path, **filters: Any) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.filters = filters

    def compose(self) -> ComposeResult:
        yield Static(literal(f"Results — {self.db_path.name}"), id="results-title")
        yield Static("computing …", id="results-status")
        with TabbedContent(id="results-tabs", initial="tasks"):
            with TabPane("1 Tasks", id="tasks"):
                yield DataTable(id="results-tasks", cursor_type="row", zebra_stripes=True)
            with TabPane("2 Charts", id="charts"), VerticalScroll(id="results-charts"):
                yield from self._chart_widgets()
            with TabPane("3 Satisfaction", id="satisfaction"), VerticalScroll():
                yield Static("", id="results-satisfaction")
                for name in SATISFACTION_TABLES:
                    yield Static("", id=f"results-{name}-title", classes="results-subtitle")
                    yield DataTable(id=f"results-{name}", cursor_type="row", zebra_stripes=True,
                                    classes="results-subtable")
            with TabPane("4 Targets", id="targets"):
                yield DataTable(id="results-targets", cursor_type="row", zebra_stripes=True)
            with TabPane("5 Problems", id="problems"):
                yield DataTable(id="results-problems", cursor_type="row", zebra_stripes=True)
            with TabPane("6 Conditions", id="conditions"):
                yield DataTable(id="results-conditions", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True, show_command_palette=False)

    def _chart_widgets(self) -> ComposeResult:
        try:
            from textual_plotext import PlotextPlot
        except ImportError:
            yield Static("Charts need textual-plotext, which usetest installs with it; this "
                         "install lacks it: pip install 'usetest[charts]'", id="no-charts")
            return
        for name in ("completion", "time", "sus"):
            yield PlotextPlot(id=f"chart-{name}", classes="results-chart")

    def on_mount(self) -> None:
        self.action_reload()

    def action_tab(self, name: str) -> None:
        self.query_one(TabbedContent).active = name

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit()

    def action_reload(self) -> None:
        self.query_one("#results-status", Static).update("computing …")
        self.compute()

    @work(thread=True, exclusive=True, group="results")
    def compute(self) -> None:
        from usetest.analysis import AnalysisError, study_results

        try:
            summary, comparisons = study_results(self.db_path, **self.filters)
        except AnalysisError as exc:
            self.app.call_from_thread(self._show_error, str(exc))
            return
        self.app.call_from_thread(self._show, summary, comparisons)

    def _show_error(self, message: str) -> None:
        self.query_one("#results-status", Static).update(literal(f"Cannot summarise: {message}"))

    def _show(self, s: Any, comparisons: Any) -> None:
        sus = s.sus_summary
        n = len(s.sessions)
        status = f"{s.study} · {n} participant{'' if n == 1 else 's'} (completed sessions)"
        if sus.get("n"):
            status += f" · SUS {sus['mean']:.1f} ({sus['grade']}, {sus['adjective']})"
        self.query_one("#results-status", Static).update(literal(status))
        self._fill_tasks(s)
        self._fill_satisfaction(s)
        self._fill_targets(s)
        self._fill_problems(s)
        self._fill_conditions(comparisons)
        self._draw_charts(s, comparisons)

    def _fill(self, selector: str, grid: Any) -> None:
        """A DataTable from a :mod:`usetest.present` grid (one line per row)."""
        table: DataTable[str] = self.query_one(selector, DataTable)
        table.clear(columns=True)
        table.add_columns(*grid.titles)
        for row in grid.inline_rows():
            table.add_row(*(_cell(text) for text in row))

    def _fill_tasks(self, s: Any) -> None:
        self._fill("#results-tasks", present.task_grid(s))

    def _fill_satisfaction(self, s: Any) -> None:
        lines = [f"{label}: {text}" for label, text in present.satisfaction_facts(s)]
        if len(s.sus):
            lines += [f"  {r['participant']}: {r['sus']:.1f} ({r['grade']})"
                      for r in s.sus.to_dict(orient="records")]  # fmt: skip
        grids = {"after": present.task_after_grid(s), "custom": present.custom_grid(s),
                 "free-text": present.free_text_grid(s)}  # fmt: skip
        text = "\n".join(lines) or ("" if any(grids.values()) else "No questionnaire answers yet.")
        self.query_one("#results-satisfaction", Static).update(literal(text))
        for name, grid in grids.items():
            title = self.query_one(f"#results-{name}-title", Static)
            table = self.query_one(f"#results-{name}", DataTable)
            title.display = table.display = grid is not None
            if grid is not None:
                title.update(SATISFACTION_TABLES[name])
                self._fill(f"#results-{name}", grid)

    def _fill_targets(self, s: Any) -> None:
        self._fill("#results-targets", present.target_grid(s))

    def _fill_problems(self, s: Any) -> None:
        self._fill("#results-problems", present.problem_grid(s))

    def _fill_conditions(self, c: Any) -> None:
        if c is None:
            table: DataTable[str] = self.query_one("#results-conditions", DataTable)
            table.clear(columns=True)
            table.add_columns("Only one condition in these sessions: nothing to compare.")
            return
        grid = present.comparison_grid(c)
        grid.rows += [[present.Cell(line)] + [present.Cell("")] * (len(grid.columns) - 1)
                      for line in present.comparison_sus_lines(c)]  # fmt: skip
        self._fill("#results-conditions", grid)

    def _draw_charts(self, s: Any, comparisons: Any) -> None:
        try:
            from textual_plotext import PlotextPlot
        except ImportError:
            return
        # condition names are scenario text: escaped before plotext draws them
        groups = ([(escaped(c, one_line=True), g) for c, g in comparisons.summaries.items()]
                  if comparisons else [("all", s)])  # fmt: skip
        # plotext draws horizontal bars bottom-up: reversed, the first task is on top
        ids = list(reversed(list(s.tasks["task_id"]))) if len(s.tasks) else []

        completion = self.query_one("#chart-completion", PlotextPlot)
        _task_bars(completion, ids, groups, "completion", 100)
        completion.plt.xlim(0, 100)
        completion.plt.title("Completion rate per task, %")
        completion.refresh()

        times = self.query_one("#chart-time", PlotextPlot)
        _task_bars(times, ids, groups, "time_s", 1)
        times.plt.title("Time on task, s (geometric mean, or median from 25 attempts)")
        times.refresh()

        sus_plot = self.query_one("#chart-sus", PlotextPlot)
        plt = sus_plot.plt
        plt.clear_data()
        for name, g in groups:
            if len(g.sus):
                plt.hist(list(g.sus["sus"]), bins=10, label=name)
        plt.xlim(0, 100)
        plt.title("SUS scores (participants); 68 is the average of Sauro's norms")
        plt.vline(68)
        sus_plot.refresh()


def _task_bars(plot: Any, ids: list[str], groups: list[tuple[str, Any]], column: str,
               scale: float) -> None:  # fmt: skip
    """One horizontal bar per task (a group of bars with several conditions) of ``column``."""
    plt = plot.plt
    plt.clear_data()
    values = [[scale * _value(g, t, column) for t in ids] for _, g in groups]
    if len(groups) > 1:
        plt.multiple_bar(ids, values, labels=[name for name, _ in groups], orientation="h")
    else:
        plt.bar(ids, values[0], orientation="h")


def _value(s: Any, task_id: str, column: str) -> float:
    """A task's figure from the summary, 0 where the task or the figure is missing."""
    rows = s.tasks[s.tasks["task_id"] == task_id]
    v = rows[column].iloc[0] if len(rows) else None
    return 0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


class ResultsApp(App[None]):
    """``usetest results DB``: the results view on its own."""

    TITLE = "usetest results"

    def __init__(self, db_path: str | Path, **filters: Any) -> None:
        super().__init__()
        self.db_path = db_path
        self.filters = filters

    def on_mount(self) -> None:
        self.push_screen(ResultsScreen(self.db_path, **self.filters))
