"""The HTML report for everyone: landmarks, unique ids, charts as images with text
alternatives, chart colours with 3:1 contrast (WCAG 1.4.11), task titles, the CIF's title page,
every table column on a printed A4 page (Chromium's PDF read back with pypdf) and zero axe-core
violations in headless Chromium."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from tests.studydata import build_checkout
from usetest import charts
from usetest.analysis import study_results
from usetest.cli import cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AXE = Path(os.environ.get("USETEST_AXE_JS", ROOT / ".ci" / "node_modules" / "axe-core" / "axe.min.js"))
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="Chromium is not installed (.ci/run installs it)")  # fmt: skip


@pytest.fixture(scope="module")
def checkout_db(tmp_path_factory):
    return build_checkout(tmp_path_factory.mktemp("study") / "checkout.db")


@pytest.fixture(scope="module")
def pages(checkout_db, tmp_path_factory) -> dict[str, Path]:
    """The checkout study's report in both layouts."""
    folder = tmp_path_factory.mktemp("reports")
    out = {}
    for name, extra in (("standard", []), ("cif", ["--cif"])):
        out[name] = folder / f"{name}.html"
        result = CliRunner().invoke(cli, ["report", str(checkout_db), *extra, "-o", str(out[name])])
        assert result.exit_code == 0, result.output
    return out


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", page, re.S)


# --------------------------------------------------------------------------------------------
# Structure, ids and text alternatives (no browser needed).


def test_landmarks_header_nav_main_and_named_regions(pages):
    page = pages["standard"].read_text()
    assert page.count("<main>") == 1 and page.count("</main>") == 1
    assert page.index("<header>") < page.index("<nav") < page.index("<main>")
    assert '<nav aria-label="Contents">' in page
    assert '<a href="#s-task-results">Task results</a>' in page
    assert ('<section id="s-task-results" aria-labelledby="s-task-results-h">'
            '<h2 id="s-task-results-h">Task results</h2>') in page  # fmt: skip
    assert '<th scope="col">task</th>' in page


def test_ids_are_unique_and_every_reference_resolves(pages):
    for page in (p.read_text() for p in pages.values()):
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})[:10]
        refs = set(re.findall(r"url\(#([^)]+)\)", page)) | set(re.findall(r'href="#([^"]+)"', page))
        assert refs and refs <= set(ids), refs - set(ids)
        for svg in svgs(page):  # each chart's ids carry its name
            name = re.search(r'\sid="(chart-[a-z]+-)', svg)[1]
            assert all(i.startswith(name) for i in re.findall(r'\sid="([^"]+)"', svg))


def test_prefix_ids_rewrites_markup_only():
    svg = ('<svg><defs><path id="m1"/></defs><g id="patch_1" clip-path="url(#p9)">'
           '<use xlink:href="#m1"/><text>id="patch_1" url(#p9)</text></g><clipPath id="p9"/>'
           '<a href="#elsewhere"/></svg>')  # fmt: skip
    assert charts.prefix_ids(svg, "c-") == (
        '<svg><defs><path id="c-m1"/></defs><g id="c-patch_1" clip-path="url(#c-p9)">'
        '<use xlink:href="#c-m1"/><text>id="patch_1" url(#p9)</text></g><clipPath id="c-p9"/>'
        '<a href="#elsewhere"/></svg>')  # fmt: skip


def test_charts_are_images_named_from_their_data(pages, checkout_db):
    page = pages["standard"].read_text()
    labels = [html.unescape(re.search(r'<svg role="img" aria-label="([^"]+)"', svg)[1])
              for svg in svgs(page)]  # fmt: skip
    assert len(labels) == 4
    completion, time, sus, errors = labels
    _, comparisons = study_results(checkout_db)
    current = comparisons.summaries["current"].tasks.set_index("task_id")
    rate = round(100 * current.loc["find-kettle", "completion"])
    assert completion.startswith(f"Completion rate per task: current: Find a kettle {rate}% (95% CI ")
    assert "redesign: Find a kettle" in completion and "find-kettle" not in completion
    assert f"Find a kettle geometric mean {current.loc['find-kettle', 'time_s']:.0f} s" in time
    sus_current = comparisons.summaries["current"].sus_summary
    assert f"current: mean {sus_current['mean']:.1f} (95% CI" in sus
    assert "Change the quantity: misread label 5" in errors
    for svg, label in zip(svgs(page), labels, strict=True):  # the tooltip says the same
        assert f"<title>{html.escape(label, quote=True)}</title>" in svg


def test_task_titles_where_ids_were(pages):
    page = pages["standard"].read_text()
    results = page[page.index("Task results</h2>"):page.index("</table>", page.index("Task results</h2>"))]
    assert "<td>Find a kettle</td>" in results and "find-kettle" not in results
    for svg in svgs(page)[:2]:  # the task axes: titles, not ids
        assert ">Find a kettle<" in svg and "find-kettle" not in svg
    # the tasks table keeps the id beside the title: the key between the two
    assert "<th scope=\"col\">task id</th>" in page and "<td>find-kettle</td>" in page


def luminance(colour: str) -> float:
    r, g, b = (int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2.1's contrast ratio (definition "contrast ratio", relative luminance)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula_matches_wcag_examples():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the familiar grey
    assert contrast("#E69F00", "#ffffff") < 3  # Okabe-Ito orange: why the palette was changed


def test_every_chart_colour_has_3_to_1_contrast(pages):
    for colour in charts.PALETTE:
        for background in charts.BACKGROUNDS:
            assert contrast(colour, background) >= 3, (colour, background)
    # what the SVGs really draw: every colour but the backgrounds and the light grid lines
    # (decoration: the axis ticks carry the values) has 3:1 against white, at full opacity
    decoration = {"#ffffff", "#dddddd", *charts.BACKGROUNDS}
    for svg in svgs(pages["standard"].read_text()):
        colours = set(re.findall(r"(?:fill|stroke): (#[0-9a-f]{6})", svg)) - decoration
        assert colours, svg[:200]
        assert all(contrast(c, "#ffffff") >= 3 for c in colours), colours
        assert "opacity" not in svg


def test_cif_title_page_has_dates_leader_and_contact(pages, tmp_path):
    page = pages["cif"].read_text()
    title_page = page[page.index(">Title page</h2>"):page.index(">Executive summary</h2>")]
    assert "<dt>Test dates</dt><dd>2026-11-02</dd>" in title_page
    assert "<dt>Test led by</dt><dd>AB (moderator)</dd>" in title_page
    assert "<dt>Contact</dt><dd>Ana Berg, UX research, ana.berg@example.com</dd>" in title_page


# --------------------------------------------------------------------------------------------
# In a real browser.

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
CSP = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')


def chromium(tmp_path: Path, *args: str) -> str:
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


RUN_AXE = """<script>
// axe's violations, and the tables wider than the page's main column (they would scroll)
const edge = document.querySelector("main").getBoundingClientRect().right + 1;
const wide = Array.from(document.querySelectorAll("table"))
  .filter((t) => t.getBoundingClientRect().right > edge)
  .map((t) => t.querySelector("th").textContent);
axe.run(document).then(
  (r) => show({wide, violations: r.violations.map((v) => ({id: v.id, impact: v.impact,
                help: v.help, nodes: v.nodes.map((n) => n.target)}))}),
  (e) => show({error: String(e)}));
function show(x) {
  const pre = document.createElement("pre");
  pre.id = "axe-results";
  pre.textContent = JSON.stringify(x);
  document.body.appendChild(pre);
}
</script>"""


@needs_chromium
@pytest.mark.skipif(not AXE.is_file(), reason=f"axe-core is not installed at {AXE}: "
                    "run `npm install --prefix .ci` (.ci/run does; needs node and npm)")  # fmt: skip
@pytest.mark.parametrize("layout", ["standard", "cif"])
def test_axe_core_finds_no_violations_and_tables_fit(pages, layout, tmp_path):
    # A test copy: the report's policy forbids every script, so this copy drops it and runs
    # axe-core (all its rules: WCAG 2.0/2.1 A and AA and best practices) inline.
    page = CSP.sub("", pages[layout].read_text())
    assert "Content-Security-Policy" not in page
    page = page.replace("</body>", f"<script>{AXE.read_text()}</script>{RUN_AXE}</body>", 1)
    copy = tmp_path / "axe.html"
    copy.write_text(page)
    dom = chromium(tmp_path, "--window-size=1024,768", "--virtual-time-budget=60000",
                   "--dump-dom", copy.as_uri())  # fmt: skip
    found = re.search(r'<pre id="axe-results">(.*?)</pre>', dom, re.S)
    assert found, "axe-core did not finish: " + dom[-500:]
    results = json.loads(html.unescape(found[1]))
    assert "error" not in results, results
    assert results["violations"] == [], json.dumps(results["violations"], indent=1)[:4000]
    assert results["wide"] == []  # in a 1024-pixel window every table fits the page


class _Headers(HTMLParser):
    """Each table's column titles."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[str]] = []
        self._in_th = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "thead":
            self.tables.append([])
        self._in_th = self._in_th or tag == "th"
        if tag == "th":
            self.tables[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "th":
            self._in_th = False

    def handle_data(self, data: str) -> None:
        if self._in_th:
            self.tables[-1][-1] += data


def flat(text: str) -> str:
    """Text without its line breaks and spaces (a header may wrap after any word or dash)."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@needs_chromium
def test_printed_on_a4_every_table_keeps_every_column(pages, tmp_path):
    pypdf = pytest.importorskip("pypdf", reason="pypdf is in the test extra: pip install -e '.[test]'")
    headers = _Headers()
    headers.feed(pages["standard"].read_text())
    assert len(headers.tables) >= 8 and headers.tables[1][-1] == "SEQ"  # the tasks, the results
    # The paper a reader in Europe prints on; the report itself leaves the size to the printer.
    copy = tmp_path / "print.html"
    copy.write_text(pages["standard"].read_text().replace("</style>", "@page { size: A4; }</style>", 1))
    pdf = tmp_path / "print.pdf"
    chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", copy.as_uri())
    reader = pypdf.PdfReader(pdf)
    assert {(round(p.mediabox.width), round(p.mediabox.height)) for p in reader.pages} == {(595, 842)}
    texts = [flat(p.extract_text()) for p in reader.pages]
    for titles in headers.tables:
        # Chromium drops what falls off the paper: a table whose header row is complete, in
        # order, on one page has kept its last column
        wanted = [flat(t) for t in titles]

        def on(text: str, wanted: list[str] = wanted) -> bool:
            at = 0
            for title in wanted:
                at = text.find(title, at)
                if at < 0:
                    return False
                at += len(title)
            return True

        assert any(on(t) for t in texts), f"a column of {titles} is missing from the printed page"
