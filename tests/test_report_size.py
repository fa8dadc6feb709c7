"""A report of bounded size: the charts summarise past DOTS_MAX marks, the tables stop at
ROWS_MAX rows with a note, a study of any size gives a page under 2 MB; and a small study's
report says what the report at commit 71d29bd said (goldens written by that code)."""

from __future__ import annotations

import html
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tests.bench.bench_report import build_large
from tests.conftest import ROOT
from tests.studydata import build_checkout
from tests.test_report_a11y import contrast, svgs
from usetest import __version__, charts
from usetest.analysis import study_results
from usetest.cli import cli
from usetest.report import ROWS_MAX, Para, Section, Table, _bounded

GOLDEN = ROOT / "tests" / "data" / "golden" / "report"
LARGE_ATTEMPTS = 20_000
"""Where one dot per attempt made the page 3.0 MB (14 MB at 100,000 attempts, 141 MB at 1M)."""


def report(*args: str) -> None:
    result = CliRunner().invoke(cli, ["report", *args])
    assert result.exit_code == 0, result.output + (result.stderr or "")


def dots(svg: str) -> int:
    """The scatter marks in a chart: the dots with a white rim (tick marks are ``<use>`` too)."""
    return len(re.findall(r'<use [^>]*style="fill: #[0-9a-f]{6}; stroke: #ffffff; stroke-width: 0.5"', svg))


def labels(page: str) -> list[str]:
    return [html.unescape(re.search(r'aria-label="([^"]+)"', svg)[1]) for svg in svgs(page)]


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> tuple[Path, str]:
    """A two-condition study of 2,000 participants x 10 tasks and its report."""
    folder = tmp_path_factory.mktemp("large")
    db = build_large(folder / "large.db", LARGE_ATTEMPTS)
    out = folder / "large.html"
    report(str(db), "-o", str(out))
    return db, out.read_text()


def test_a_large_study_gives_a_page_under_two_megabytes(large):
    _, page = large
    assert len(page.encode()) <= 2_000_000
    time, sus = labels(page)[1:3]
    assert time.startswith("Time on task in seconds, successful attempts, a box plot per task")
    assert sus.startswith("SUS scores against the grade bands, a box plot per group")
    assert "more than 500 attempts: the box spans the middle half" in page  # the caption
    # no chart draws a mark per attempt or participant: the dots are gone, not thinned
    assert [dots(svg) for svg in svgs(page)] == [0, 0, 0, 0]


def test_box_plots_state_the_quartiles_of_the_times_in_the_database(large):
    db, page = large
    time = labels(page)[1]
    conn = sqlite3.connect(db)
    secs = [r[0] / 1000 for r in conn.execute(
        "SELECT a.time_ms FROM attempts a JOIN sessions s ON s.id = a.session_id WHERE"
        " s.status = 'completed' AND s.condition = 'current' AND a.task_id = 'task-03' AND"
        " a.outcome = 'success' AND a.time_ms > 0")]  # fmt: skip
    conn.close()
    q1, q3 = np.percentile(secs, [25, 75])
    part = time[time.index("current: "):time.index("redesign: ")]
    assert (f"Task 03 median {np.median(secs):.0f} s (95% CI " in part and
            f"{len(secs)} attempts; quartiles {q1:.0f}–{q3:.0f} s, fastest {min(secs):.0f} s, "
            f"slowest {max(secs):.0f} s)" in part)  # fmt: skip


def test_long_tables_show_their_first_rows_and_say_where_the_rest_are(large):
    _, page = large
    participants = page[page.index(">Participants</h2>"):page.index(">How the numbers were computed</h2>")]
    assert participants.count("<tr>") == 1 + ROWS_MAX  # header and the first rows
    assert "<td>S0000000</td>" in participants and "<td>S0000500</td>" not in participants
    assert (f"The first {ROWS_MAX} of 2,000 rows are shown, so that the report stays readable "
            "and small; every row is in the exports (usetest export large.db --out FOLDER)."
            ) in participants  # fmt: skip
    sus = page[page.index(">Satisfaction</h2>"):page.index(">Targets</h2>")]
    assert f"The first {ROWS_MAX} of 2,000 rows are shown" in sus


def test_the_boxes_keep_the_charts_accessibility(large):
    _, page = large
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for svg in svgs(page):
        colours = set(re.findall(r"(?:fill|stroke): (#[0-9a-f]{6})", svg))
        colours -= {"#ffffff", "#dddddd", *charts.BACKGROUNDS}
        assert colours and all(contrast(c, "#ffffff") >= 3 for c in colours), colours
        assert "opacity" not in svg and svg.startswith('<svg role="img" aria-label="')


def test_a_small_study_keeps_one_dot_per_attempt(tmp_path):
    db = build_checkout(tmp_path / "checkout.db")
    _, comparisons = study_results(db)
    groups = list(comparisons.summaries.items())
    timed = sum(int(s.tasks["time_n"].sum()) for _, s in groups)
    assert charts.time_dots(groups) and timed <= charts.DOTS_MAX
    svg = charts.time_chart(groups)
    assert dots(svg) == timed + len(groups)  # one per timed attempt, as before, and the legend
    assert "one dot per attempt" in svg


@pytest.mark.parametrize("layout", ["standard", "cif", "md"])
def test_a_small_study_reports_what_it_reported_before(tmp_path, layout):
    """Goldens written by the report of commit 71d29bd: the same text, tables and figures'
    text alternatives (which now also say what the chart draws)."""
    db = build_checkout(tmp_path / "checkout.db")
    out = tmp_path / ("checkout.md" if layout == "md" else "checkout.html")
    report(str(db), *({"cif": ["--cif"], "md": ["--format", "md"]}.get(layout, [])), "-o", str(out))
    golden = (GOLDEN / ("checkout-md.md" if layout == "md" else f"checkout-{layout}.txt")).read_text()
    now = normalised(out.read_text())
    for said in (", one dot per attempt:", ", one dot per participant:"):
        now = now.replace(said, ":")
    assert _versionless(now) == _versionless(golden)


def normalised(page: str) -> str:
    """The page without its times, and each chart as its text alternative."""
    page = re.sub(r"report generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", "report generated (time)", page)
    page = re.sub(r"<dt>Report prepared</dt><dd>\d{4}-\d\d-\d\d</dd>",
                  "<dt>Report prepared</dt><dd>(date)</dd>", page)  # fmt: skip
    return re.sub(r'<svg role="img" aria-label="([^"]*)".*?</svg>',
                  lambda m: "\n[chart: " + html.unescape(m[1]) + "]\n", page, flags=re.S)  # fmt: skip


def _versionless(text: str) -> str:
    return re.sub(r"by usetest [0-9][^ *<]*", "by usetest (version)", text).replace(__version__, "(v)")


def test_bounded_cuts_only_tables_past_the_limit():
    short = Table(["a"], [[str(i)] for i in range(ROWS_MAX)])
    long = Table(["a"], [[str(i)] for i in range(ROWS_MAX + 1)], numeric={0})
    first = Table(["a"], [["0"]], total=ROWS_MAX + 7)  # already cut where it was built
    section = _bounded(Section("s", [short, Section("inner", [long]), first]), "x.db")
    assert section.blocks[0] is short
    inner = section.blocks[1].blocks
    assert inner[0].rows == long.rows[:ROWS_MAX] and inner[0].numeric == {0}
    assert isinstance(inner[1], Para) and inner[1].text.startswith(f"The first {ROWS_MAX} of 501 rows")
    assert section.blocks[2].rows == [["0"]]
    assert section.blocks[3].text.startswith(f"The first {ROWS_MAX} of 507 rows")
