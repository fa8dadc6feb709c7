"""Issue 12's measures, end to end from sessions recorded through the real recorder: abandonment
and unassisted completion, CSAT and CES, the study's own questions, targets, the participant
profile (filter and split), intervals clipped to their scale, and the one presentation model
rendered by the CLI, the report and the export.

Expected values are worked by hand in the comments (the formulas' published worked examples are
in tests/test_stats_targets.py)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from usetest import recorder
from usetest.analysis import AnalysisError, compare, summarise
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.scenario import parse_scenario
from usetest.store import open_db

SCENARIO = """\
study: Measures
product: the shop
targets: {completion: 0.5, csat: 3}
profile:
  - {id: experience, text: "How often do you shop online?", options: [rarely, often]}
  - {id: age, text: Age, type: number, min: 18, max: 99}
tasks:
  - {id: find, title: Find, prompt: Find it., target_time: 60, after: [ces, post]}
  - {id: pay, title: Pay, prompt: Pay., target_completion: 0.9}
questionnaires:
  - csat
  - id: post
    title: After the task
    at_end: false
    items:
      - {id: clear, text: The steps were clear., points: 5}
  - id: wrap
    title: Wrap-up
    items:
      - {id: again, text: I would use it again., points: 5}
      - {id: why, type: text, text: "Why?"}
"""

# participant: find outcome, assists, seconds, SEQ, CES, post/clear, pay outcome, CSAT, again,
# why, experience, age
PEOPLE = [
    ("P01", "success", 0, 30, 7, 7, 5, "success", 5, 5, "Quick.", "often", 25),
    ("P02", "success", 1, 50, 6, 5, 4, "success", 4, 4, "Fine.", "often", 31),
    ("P03", "abandoned", 0, 90, 2, 2, 2, "success", 3, 3, "Lost.", "rarely", 45),
    ("P04", "success", 0, 40, 7, 6, 4, "fail", 5, 5, "=cmd|' /C calc'!A0", "rarely", 52),
    ("P05", "fail", 0, 80, 3, 3, 3, "success", 2, None, "", "often", 38),
]


@pytest.fixture()
def measures_db(tmp_path: Path) -> Path:
    return build_measures(tmp_path / "measures.db")


def build_measures(path: Path) -> Path:
    """The five participants of PEOPLE recorded into ``path``."""
    loaded = parse_scenario(SCENARIO, "measures.yaml")
    db = open_db(path)
    clock = FakeClock(start_utc=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    for (code, find, assists, secs, seq, ces, clear, pay, csat, again, why, exp,
         age) in PEOPLE:  # fmt: skip
        rec = recorder.start(db, loaded, code, "AB", clock=clock, consent="in the app",
                             profile={"experience": exp, "age": age})  # fmt: skip
        s = rec.session
        s.start("find")
        for _ in range(assists):
            s.log_assist("pointed")
        clock.advance(secs)
        s.end(find)
        s.answer("seq", "seq", seq, task_id="find")
        s.answer("ces", "ces", ces, task_id="find")
        s.answer("post", "clear", clear, task_id="find")
        s.start("pay")
        clock.advance(20)
        s.end(pay)
        s.answer("seq", "seq", 6, task_id="pay")
        s.answer("csat", "csat", csat)
        s.answer("wrap", "again", again)  # None: declined
        if why:
            s.answer("wrap", "why", why)
        s.complete()
    db.close()
    return path


def test_abandonment_and_unassisted_completion(measures_db):
    t = summarise(measures_db).tasks.set_index("task_id")
    # find: 3 successes of 5, one of them assisted; one gave up
    assert t.loc["find", "successes"] == 3 and t.loc["find", "successes_unassisted"] == 2
    assert t.loc["find", "completion_unassisted"] == pytest.approx(0.4)
    assert t.loc["find", "abandonment_rate"] == pytest.approx(0.2)
    assert t.loc["pay", "abandonment_rate"] == 0
    assert t.loc["find", "completion_unassisted_low"] < 0.4 < t.loc["find", "completion_unassisted_high"]


def test_csat_after_the_session_and_ces_after_a_task(measures_db):
    s = summarise(measures_db)
    # CSAT 5, 4, 3, 5, 2: 3 of 5 satisfied (4–5); mean 3.8, sd √1.7 = 1.3038, t(.975, 4) =
    # 2.7764: 3.8 ± 1.6189 = 2.18 – 5.42, clipped to the 1–5 scale
    assert s.csat["n"] == 5 and s.csat["satisfied_share"] == pytest.approx(0.6)
    assert s.csat["mean"] == pytest.approx(3.8)
    assert s.csat["low"] == pytest.approx(3.8 - 2.7764 * math.sqrt(1.7 / 5), abs=1e-3)
    assert s.csat["high"] == 5.0
    # the study's CSAT target is 3: mean 3.8 > 3, a one-sided t test gives about 0.85
    assert s.csat["target"]["target"] == 3 and s.csat["target"]["source"] == "study target"
    assert 0.8 < s.csat["target"]["confidence"] < 0.9
    find = s.tasks.set_index("task_id").loc["find"]
    # CES after find: 7, 5, 2, 6, 3 → mean 4.6, 3 of 5 agree (5–7)
    assert find["ces_n"] == 5 and find["ces_mean"] == pytest.approx(4.6)
    assert find["ces_agree_share"] == pytest.approx(0.6)
    assert s.ces["n"] == 0  # not asked after the session


def test_every_custom_answer_is_reported(measures_db):
    s = summarise(measures_db)
    items = {(c["questionnaire"], c["item"], c["task_id"]): c for c in s.custom}
    clear = items[("post", "clear", "find")]  # asked after the task find
    assert clear["n"] == 5 and clear["counts"] == [0, 1, 1, 2, 1]  # 5, 4, 2, 4, 3
    assert clear["mean"] == pytest.approx(3.6) and clear["high"] <= 5
    again = items[("wrap", "again", "")]  # after the session; P05 declined it
    assert again["n"] == 4 and again["declined"] == 1 and again["counts"] == [0, 0, 1, 1, 2]
    (why,) = s.free_text
    assert [a["participant"] for a in why["answers"]] == ["P01", "P02", "P03", "P04"]
    assert why["answers"][2]["text"] == "Lost."


def test_targets_task_study_and_published(measures_db):
    data = json.loads(CliRunner().invoke(cli, ["summary", str(measures_db), "--format",
                                               "json"]).output)  # fmt: skip
    assert data["format"] == "usetest-summary/2"
    find, pay = data["tasks"]
    # find: the study's completion target 0.5; 3 of 5 succeeded: mid-p = P(X > 3) + ½ P(X = 3)
    # with X ~ Binomial(5, 0.5) = 6/32 + ½ · 10/32 = 11/32
    completion = find["targets"]["completion"]
    assert completion["target"] == 0.5 and completion["source"] == "study target"
    assert completion["p"] == pytest.approx(11 / 32)
    assert completion["confidence"] == pytest.approx(21 / 32)
    assert find["targets"]["time"]["target"] == 60  # only find sets a target time
    assert "time" not in pay["targets"]
    # pay: its own target 0.9; 4 of 5: mid-p = 0.9^5 + ½ · 5 · 0.9^4 · 0.1
    p = 0.9**5 + 0.5 * 5 * 0.9**4 * 0.1
    assert pay["targets"]["completion"]["source"] == "task target"
    assert pay["targets"]["completion"]["p"] == pytest.approx(p)
    # the SEQ against the published average 5.5 (the scenario sets no SEQ target)
    assert pay["targets"]["seq"]["target"] == 5.5
    assert pay["targets"]["seq"]["source"].startswith("published average")
    assert data["csat"]["satisfied_share"] == pytest.approx(0.6)
    assert [c["item"] for c in data["custom"]] == ["clear", "again"]
    assert data["profile"][0] == {"participant": "P01", "experience": "often", "age": "25"}


def test_profile_filters_and_splits(measures_db):
    rarely = summarise(measures_db, profile={"experience": ["rarely"]})
    assert list(rarely.sessions["participant"]) == ["P03", "P04"]
    c = compare(measures_db, by="profile.experience")
    assert list(c.summaries) == ["rarely", "often"]  # the question's option order
    assert c.by == "profile.experience"
    assert len(c.summaries["often"].sessions) == 3
    with pytest.raises(AnalysisError, match="no session answered experience = 'sometimes'"):
        summarise(measures_db, profile={"experience": ["sometimes"]})
    with pytest.raises(AnalysisError, match="no session has a profile answer for 'device'"):
        compare(measures_db, by="profile.device")
    with pytest.raises(AnalysisError, match="cannot split by 'age': it is a number question"):
        compare(measures_db, by="profile.age")  # a group per age would be no comparison
    out = CliRunner().invoke(cli, ["summary", str(measures_db), "--by", "profile.experience",
                                   "--format", "json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["by"] == "profile.experience"
    bad = CliRunner().invoke(cli, ["summary", str(measures_db), "--profile", "experience"])
    assert bad.exit_code == 2 and "ID=VALUE" in bad.output


def test_intervals_are_clipped_to_their_scale(measures_db):
    s = summarise(measures_db, participants=["P01", "P02"])
    seq = s.tasks.set_index("task_id").loc["find"]
    # SEQ 7 and 6: mean 6.5, the t interval 6.5 ± 12.706 · 0.5 reaches −−; clipped to 1–7
    assert (seq["seq_low"], seq["seq_high"]) == (1.0, 7.0)


def test_the_terminal_summary_fits_80_columns_and_shows_the_new_measures(measures_db):
    out = CliRunner().invoke(cli, ["summary", str(measures_db)], terminal_width=80)
    assert out.exit_code == 0, out.output
    assert max(len(line) for line in out.output.splitlines()) <= 80
    for text in ("un-", "gave", "CSAT: 60% satisfied (4–5)", "Targets", "met with",
                 "The study's own questions", "Free text: 4 answers"):
        assert text in out.output, text


def test_the_report_has_targets_profile_and_every_answer(measures_db, tmp_path):
    out = tmp_path / "r.md"
    result = CliRunner().invoke(cli, ["report", str(measures_db), "--format", "md", "-o", str(out),
                                      "--no-charts", "--cif"])  # fmt: skip
    assert result.exit_code == 0, result.output
    text = out.read_text()
    for heading in ("Results against targets", "Asked after tasks", "The study's own questions",
                    "Free-text answers"):
        assert heading in text, heading
    assert "How often do you shop online?" in text and "rarely: 2, often: 3" in text
    assert "meets the target with" in text


def test_export_has_the_new_summary_tables_and_drops_free_text(measures_db, tmp_path):
    out = CliRunner().invoke(cli, ["export", str(measures_db), "--out", str(tmp_path / "x")])
    assert out.exit_code == 0, out.output
    custom = pd.read_csv(tmp_path / "x" / "summary_custom.csv")
    assert list(custom["item"]) == ["clear", "again"] and "count_5" in custom
    assert len(pd.read_csv(tmp_path / "x" / "summary_free_text.csv")) == 4
    profile = pd.read_csv(tmp_path / "x" / "summary_profile.csv")
    assert list(profile["experience"]) == ["often", "often", "rarely", "rarely", "often"]
    q = pd.read_csv(tmp_path / "x" / "summary_questionnaires.csv").set_index("questionnaire")
    assert q.loc["csat", "satisfied_share"] == pytest.approx(0.6)
    assert q.loc["sus", "target"] == 68  # SUS against the published average (not asked: n 0)
    filtered = CliRunner().invoke(cli, ["export", str(measures_db), "--out", str(tmp_path / "y"),
                                        "--profile", "experience=rarely"])  # fmt: skip
    assert filtered.exit_code == 0, filtered.output
    assert list(pd.read_csv(tmp_path / "y" / "summary_profile.csv")["participant"]) == ["P03", "P04"]
    pseud = CliRunner().invoke(cli, ["export", str(measures_db), "--out", str(tmp_path / "z"),
                                     "--pseudonymise"])  # fmt: skip
    assert pseud.exit_code == 0, pseud.output
    assert not (tmp_path / "z" / "summary_free_text.csv").exists()
    meta = json.loads((tmp_path / "z" / "metadata.json").read_text())
    assert "summary_free_text" in meta["pseudonymisation"]["dropped_free_text_columns"]
