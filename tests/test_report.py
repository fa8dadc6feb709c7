"""`usetest report`: HTML, Markdown and the ISO/IEC 25062 layout, escaped, self-contained,
and rendered by a real browser."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess

import pytest
from click.testing import CliRunner

from tests.studydata import build_checkout
from usetest import recorder
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.report import visible
from usetest.scenario import parse_scenario
from usetest.store import open_db

HOSTILE = parse_scenario("""\
study: "<script>alert('study')</script> & co [/]"
product: "Shop \\e]52;c;ZXZpbA==\\a v2"
tasks:
  - id: t1
    title: "<img src=x onerror=alert(1)> [bold]markup[/]"
    prompt: "Clear the screen: \\e[2J then | pipes | and *stars*"
    success: "</td></tr></table><script>alert(2)</script>"
questionnaires: [sus]
""")


@pytest.fixture(scope="module")
def checkout_db(tmp_path_factory):
    return build_checkout(tmp_path_factory.mktemp("study") / "checkout.db")


@pytest.fixture
def hostile_db(tmp_path):
    path = tmp_path / "hostile.db"
    db = open_db(path)
    clock = FakeClock()
    for i in range(3):
        s = recorder.start(db, HOSTILE, f"P{i + 1}", clock=clock).session
        s.start()
        clock.advance(30 + i)
        s.log_note("<script>alert('note')</script>\x1b[31m red \x07", "quote")
        s.log_note("Button `Save` | hidden", "problem", severity=3)
        s.end("success")
        for item, value in enumerate([4, 1, 5, 2, 5, 1, 4, 2, 3, 1], start=1):
            s.answer("sus", f"sus{item}", value)
        s.complete()
    db.close()
    return path


def report(*args: str) -> str:
    result = CliRunner().invoke(cli, ["report", *args])
    assert result.exit_code == 0, result.output + (result.stderr or "")
    return result.output


def test_html_report_has_every_part_and_compares_conditions(checkout_db, tmp_path):
    out = tmp_path / "r.html"
    report(str(checkout_db), "-o", str(out))
    page = out.read_text()
    for heading in ("At a glance", "The study", "Task results", "Satisfaction",
                    "Conditions compared", "Problems", "Errors", "Observations and quotes",
                    "Participants", "How the numbers were computed"):  # fmt: skip
        assert f">{heading}</h2>" in page, heading
    for figure in ("completion", "time-on-task", "sus", "errors"):
        assert f'<figure id="fig-{figure}"><svg' in page, figure
    assert "Find a kettle" in page and "Quantity stepper not recognised" in page
    assert "UMUX-Lite" in page and "Net Promoter Score" in page
    assert "P13" not in page  # the unfinished session is left out, as in the summary
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_html_is_self_contained(checkout_db, tmp_path):
    out = tmp_path / "r.html"
    report(str(checkout_db), "-o", str(out))
    page = out.read_text()
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.I)
    assert "@import" not in page
    assert set(re.findall(r"url\((.)", page)) <= {"#"}  # only the SVGs' own clip paths
    # the only http text is the SVG namespace identifiers, which load nothing
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink",
    }
    assert "default-src 'none'" in page


def test_hostile_text_is_escaped_in_html_and_markdown(hostile_db, tmp_path):
    html_out, md_out = tmp_path / "h.html", tmp_path / "h.md"
    report(str(hostile_db), "-o", str(html_out))
    report(str(hostile_db), "--format", "md", "-o", str(md_out))
    page, md = html_out.read_text(), md_out.read_text()
    for text in (page, md):
        assert "<script" not in text and "<img" not in text
        assert "\x1b" not in text and "\x07" not in text
    assert "␛[2J" in page and "␛]52;c;ZXZpbA==␇" in page  # shown, not obeyed
    assert r"␛\[2J" in md and r"␛\]52;c;ZXZpbA==␇" in md
    assert "&lt;script&gt;alert(&#x27;note&#x27;)&lt;/script&gt;" in page
    assert "[bold]markup[/]" in page  # markup characters are literal text
    assert r"Button \`Save\` \| hidden" in md  # no code span, no table break


def test_visible_control_characters():
    assert visible("a\x1b[2Jb\x07\x7f\x9b\tc\nd") == "a␛[2Jb␇\u2421\ufffd\tc\nd"


def test_markdown_report_writes_figures_beside_it(checkout_db, tmp_path):
    out = tmp_path / "md" / "checkout.md"
    printed = report(str(checkout_db), "--format", "md", "-o", str(out))
    text = out.read_text()
    assert text.startswith("# Checkout redesign, round 2")
    assert "| task | n | successes |" in text
    figures = sorted(p.name for p in (out.parent / "checkout-figures").iterdir())
    assert figures == ["completion.svg", "errors.svg", "sus.svg", "time-on-task.svg"]
    assert "](checkout-figures/completion.svg)" in text
    assert printed.count("wrote ") == 5


def test_cif_layout_follows_iso_25062(checkout_db, tmp_path):
    out = tmp_path / "cif.html"
    report(str(checkout_db), "--cif", "-o", str(out))
    page = out.read_text()
    order = ["Executive summary", "Introduction", "Full product description", "Test objectives",
             "Method", "Participants", "Context of product use in the test", "Tasks",
             "Test facility", "Participant&#x27;s computing environment",
             "Test administrator tools", "Experimental design", "Procedure",
             "Participant task instructions", "Usability metrics", "Results", "Data analysis",
             "Performance results", "Satisfaction results", "Appendices"]  # fmt: skip
    positions = [page.index(f">{h}</h") for h in order]
    assert positions == sorted(positions)
    assert "one-page checkout lets first-time buyers" in page  # the scenario's report: goals
    assert "not stated" not in page  # checkout.yaml states everything


def test_cif_marks_what_the_scenario_does_not_state(hostile_db, tmp_path):
    out = tmp_path / "cif.html"
    report(str(hostile_db), "--cif", "--no-charts", "-o", str(out))
    page = out.read_text()
    assert page.count("not stated (add it under `report:` in the scenario)") >= 5
    assert "<dt>Contact</dt><dd>not stated (add it under `report:` in the scenario)</dd>" in page
    assert "<svg" not in page


def test_report_errors_are_messages(tmp_path, checkout_db):
    missing = CliRunner().invoke(cli, ["report", str(tmp_path / "none.db")])
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
    blocker = tmp_path / "file"
    blocker.write_text("")
    bad_out = CliRunner().invoke(cli, ["report", str(checkout_db), "-o", str(blocker / "r.html")])
    assert bad_out.exit_code == 1 and "cannot write" in bad_out.stderr
    assert "Traceback" not in bad_out.output + bad_out.stderr


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium(checkout_db, tmp_path):
    out = tmp_path / "r.html"
    report(str(checkout_db), "-o", str(out))
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]  # fmt: skip
    dom = subprocess.run([*flags, "--dump-dom", out.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout  # fmt: skip
    assert "Task results" in dom and dom.count("<svg") == 4 and "Conditions compared" in dom
    png = tmp_path / "shot.png"
    subprocess.run([*flags, "--hide-scrollbars", "--window-size=1200,3000",
                    f"--screenshot={png}", out.as_uri()], capture_output=True, timeout=120,
                   check=True)  # fmt: skip
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000
    pdf = tmp_path / "print.pdf"
    subprocess.run([*flags, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", out.as_uri()],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000


def test_terminal_summary_shows_hostile_text_as_typed(hostile_db):
    result = CliRunner().invoke(cli, ["summary", str(hostile_db)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "<script>alert('study')</script> & co [/]" in result.output  # a title, not markup
    assert "Button `Save` | hidden" in result.output


def test_the_report_lists_consent_per_participant(tmp_path):
    from tests.conftest import ROOT
    from usetest.scenario import load_scenario

    demo = load_scenario(ROOT / "scenarios" / "demo.yaml")
    db_path = tmp_path / "demo.db"
    db = open_db(db_path)
    clock = FakeClock()
    for code, consent in (("P01", "in the app"), ("P02", "before the app"), ("P03", None)):
        s = recorder.start(db, demo, code, clock=clock, consent=consent).session
        for _ in s.state.order:
            s.end("skipped")
        s.complete()
    db.close()
    out = tmp_path / "r.md"
    result = CliRunner().invoke(cli, ["report", str(db_path), "--format", "md", "-o", str(out),
                                      "--no-charts"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {line.split("|")[1].strip(): line for line in out.read_text().splitlines()
            if line.startswith("| P0")}  # fmt: skip
    assert r"\(in the app\)" in rows["P01"]  # Markdown escapes brackets
    assert r"\(before the app\)" in rows["P02"]
    assert "not recorded" in rows["P03"]
