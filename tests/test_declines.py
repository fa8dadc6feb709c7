"""Declined rating items: the engine and the store keep them as declined (never a number), the
SUS is scored from nine items when one is declined (Lewis & Sauro 2017), and the summary leaves
out, and counts, the participants a questionnaire cannot score. The app's `d` key is tested in
tests/tui/test_declines_app.py."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from usetest import recorder, stats, store
from usetest.analysis import left_out_note, summarise
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.events import SessionError, replay
from usetest.export import export
from usetest.scenario import parse_scenario
from usetest.store import open_db

# ---------------------------------------------------------------------------------------------
# The published example.
#
# No published worked example of a nine-item SUS score was found (searched: Lewis & Sauro 2017,
# JUS 13(1) 38–46, which reports means of the ten nine-item variants over whole data sets, not
# a participant's score; MeasuringU articles; R and Python SUS packages). So the method the
# paper states — "multiply the sum of the adjusted item scores by 100/36 instead of the standard
# 100/40, or 2.5" — is applied by hand to Brooke's (1996) own scored questionnaire, with the
# dropped item's contribution removed explicitly.
#
# Brooke (1996), "SUS: a quick and dirty usability scale", scoring figure (reproduced as
# Figure 6.8 in Tullis & Albert, Measuring the User Experience): item contributions
# 4, 1, 1, 4, 1, 2, 1, 1, 4, 3; "Total = 22, SUS Score = 22 × 2.5 = 55".
BROOKE_CONTRIBUTIONS = [4, 1, 1, 4, 1, 2, 1, 1, 4, 3]
# The answers behind them: odd items contribute r − 1 (r = c + 1), even items 5 − r (r = 5 − c).
BROOKE_ANSWERS = [5, 4, 2, 1, 2, 3, 2, 4, 5, 2]
# Item 10 (contribution 3) left out: 22 − 3 = 19 → 19 × 100/36 = 52.78 (worked by hand).
WITHOUT_ITEM_10 = 19 * 100 / 36
# Item 1 (contribution 4) left out: 22 − 4 = 18 → 18 × 100/36 = 50 exactly.
WITHOUT_ITEM_1 = 50.0


def test_the_reconstructed_answers_give_brookes_published_score():
    assert [(r - 1) if i % 2 == 0 else (5 - r) for i, r in enumerate(BROOKE_ANSWERS)] == (
        BROOKE_CONTRIBUTIONS)  # fmt: skip
    assert stats.sus_score(BROOKE_ANSWERS) == 55.0


def test_sus_from_nine_items_is_the_sum_times_100_over_36():
    assert math.isclose(stats.SUS_NINE_ITEM_MULTIPLIER, 100 / 36)
    assert stats.sus_score([*BROOKE_ANSWERS[:9], None]) == pytest.approx(WITHOUT_ITEM_10)
    assert stats.sus_score([None, *BROOKE_ANSWERS[1:]]) == pytest.approx(WITHOUT_ITEM_1)
    # the extremes stay 0 and 100 with any one item left out
    assert stats.sus_score([None, *[1, 5] * 4, 1]) == pytest.approx(100.0)
    assert stats.sus_score([1, 5, 1, None, *[1, 5] * 3]) == 0.0


def test_sus_with_two_items_left_out_has_no_score():
    with pytest.raises(ValueError, match=r"2 items left out \(items 3, 7\) has no score"):
        stats.sus_score([4, 1, None, 2, 5, 1, None, 2, 3, 1])
    with pytest.raises(ValueError, match="needs 10 answers, got 9"):
        stats.sus_score(BROOKE_ANSWERS[:9])  # nine answers are not nine of ten: say which


def test_sub_scales_are_left_blank_when_they_lack_the_item():
    # Lewis & Sauro (2009): learnability = items 4 and 10 × 12.5, usability = the other 8 × 3.125.
    # Without item 10: learnability has no score; usability = 4+1+1+1+2+1+1+4 = 15 → 46.875.
    learn, usab = stats.sus_subscales([*BROOKE_ANSWERS[:9], None])
    assert math.isnan(learn) and usab == 46.875
    # Without item 1: learnability = 4 + 3 = 7 → 87.5; usability has no score.
    learn, usab = stats.sus_subscales([None, *BROOKE_ANSWERS[1:]])
    assert learn == 87.5 and math.isnan(usab)


def test_sus_scores_for_many_rows_prorate_one_missing_item_per_row():
    rows = np.array([BROOKE_ANSWERS, [*BROOKE_ANSWERS[:9], np.nan], [np.nan, *BROOKE_ANSWERS[1:]]])
    scores, learn, usab = stats.sus_scores(rows)
    assert scores.tolist() == pytest.approx([55.0, WITHOUT_ITEM_10, WITHOUT_ITEM_1])
    assert learn[0] == 87.5 and math.isnan(learn[1]) and learn[2] == 87.5
    assert usab[1] == 46.875 and math.isnan(usab[2])
    # None in an object array is a missing item too, as in stats.sus_score
    assert stats.sus_scores(np.array([[None, *BROOKE_ANSWERS[1:]]], dtype=object))[0][0] == 50.0
    with pytest.raises(ValueError, match="row 2 leaves out 2 items"):
        stats.sus_scores(np.array([BROOKE_ANSWERS, [np.nan, np.nan, *BROOKE_ANSWERS[2:]]]))
    with pytest.raises(ValueError, match="1–5"):
        stats.sus_scores(np.array([[np.nan, 6, *BROOKE_ANSWERS[2:]]]))


# ---------------------------------------------------------------------------------------------
# Engine and store.

STUDY = parse_scenario("""\
study: Declines
product: the app
task_order: fixed
tasks:
  - {id: one, title: Task one, prompt: Do one.}
questionnaires:
  - sus
  - umux-lite
  - nps
  - id: trust
    title: Trust
    items:
      - {id: safe, text: I would trust it.}
      - {id: why, type: text, text: "Why?"}
""", "declines.yaml")  # fmt: skip

SUS_ITEMS = [f"sus{i}" for i in range(1, 11)]


def rows(db, sql, *args):
    return [dict(r) for r in db.query(sql, args)]


def test_a_declined_item_is_stored_as_declined_never_as_a_number(tmp_path):
    db = open_db(tmp_path / "d.db")
    clock = FakeClock()
    rec = recorder.start(db, STUDY, "P01", clock=clock, consent="in the app")
    s = rec.session
    s.start()
    clock.advance(30)
    s.end("success")
    s.decline("seq", "seq", task_id="one")
    for item, value in zip(SUS_ITEMS, BROOKE_ANSWERS, strict=True):
        if item == "sus3":
            s.decline("sus", item)
        else:
            s.answer("sus", item, value)
    s.decline("umux-lite", "umux1")
    s.answer("umux-lite", "umux2", 6)
    s.decline("nps", "nps")
    s.decline("trust", "safe")
    with pytest.raises(SessionError, match="text question: leave it empty"):
        s.decline("trust", "why")

    answers = {(r["questionnaire"], r["item"]): r for r in rows(
        db, "SELECT questionnaire, item, task_id, value_num, value_text, declined FROM answers"
        " WHERE session_id = ?", rec.record.id)}  # fmt: skip
    for key in [("seq", "seq"), ("sus", "sus3"), ("umux-lite", "umux1"), ("nps", "nps"),
                ("trust", "safe")]:  # fmt: skip
        assert (answers[key]["value_num"], answers[key]["value_text"], answers[key]["declined"]) == (
            None, None, 1), key  # fmt: skip
    assert (answers[("sus", "sus4")]["value_num"], answers[("sus", "sus4")]["declined"]) == (1, 0)
    assert rows(db, "SELECT seq_rating FROM attempts") == [{"seq_rating": None}]
    payloads = [json.loads(r["payload"]) for r in rows(
        db, "SELECT payload FROM events WHERE kind = 'answer_recorded'")]  # fmt: skip
    declined = [p for p in payloads if p.get("declined")]
    assert len(declined) == 5 and all(p["value"] is None for p in declined)

    # the log replays to the same state, and a resumed session reads the declines back
    assert replay(s.state.order, store.load_events(db, rec.record.id)) == s.state
    again, _ = recorder.resume(db, rec.record.id, clock=clock)
    assert again.session.state.answer("sus", "sus3").declined
    assert again.session.state.answer("seq", "seq", "one").declined
    assert again.session.state.answers == s.state.answers

    # a rating given after all replaces the declined one
    again.session.answer("sus", "sus3", 2)
    [sus3] = rows(db, "SELECT value_num, declined FROM answers WHERE item = 'sus3'")
    assert sus3 == {"value_num": 2, "declined": 0}
    db.close()


# ---------------------------------------------------------------------------------------------
# Analysis.

# participant: (SUS answers, None = declined; UMUX-Lite; NPS; SEQ), all completed sessions
PEOPLE = {
    "P01": (BROOKE_ANSWERS, (7, 7), 10, 6),  # SUS 55
    "P02": ([*BROOKE_ANSWERS[:9], None], (None, 5), None, None),  # SUS from nine: 52.78
    "P03": ([None, None, *BROOKE_ANSWERS[2:]], (4, 4), 6, 5),  # two declined: no SUS
    "P04": ([3] * 10, (1, 1), 9, 7),  # SUS 50
}


@pytest.fixture
def declines_db(tmp_path):
    path = tmp_path / "declines.db"
    db = open_db(path)
    clock = FakeClock()
    for code, (sus, umux, nps, seq) in PEOPLE.items():
        s = recorder.start(db, STUDY, code, clock=clock, consent="in the app").session
        s.start()
        clock.advance(20)
        s.end("success")
        s.answer("seq", "seq", seq, task_id="one")  # None: declined
        for item, value in zip(SUS_ITEMS, sus, strict=True):
            s.answer("sus", item, value)
        for item, value in zip(["umux1", "umux2"], umux, strict=True):
            s.answer("umux-lite", item, value)
        s.answer("nps", "nps", nps)
        s.complete()
    # P05 stopped half-way through the SUS (visible with --include-unfinished only)
    s = recorder.start(db, STUDY, "P05", clock=clock, consent="in the app").session
    s.end("skipped")
    for item, value in zip(SUS_ITEMS[:5], [3] * 5, strict=True):
        s.answer("sus", item, value)
    db.close()
    return path


def test_one_declined_sus_item_is_scored_from_nine_and_two_are_left_out(declines_db):
    s = summarise(declines_db)
    by = s.sus.set_index("participant")
    assert list(by.index) == ["P01", "P02", "P04"]  # P03 declined two items: no score
    assert by["sus"].tolist() == pytest.approx([55.0, WITHOUT_ITEM_10, 50.0])
    assert by["items_scored"].tolist() == [10, 9, 10]
    assert math.isnan(by.loc["P02", "learnability"])  # item 10 is a learnability item
    assert by.loc["P02", "usability"] == 46.875
    sus = s.sus_summary
    assert sus["n"] == 3 and sus["mean"] == pytest.approx((55 + WITHOUT_ITEM_10 + 50) / 3)
    assert sus["learnability"] == pytest.approx((87.5 + 50) / 2)  # P01 and P04 only
    assert (sus["prorated"], sus["left_out"], sus["left_out_declined"],
            sus["left_out_unanswered"]) == (1, 1, 1, 0)  # fmt: skip
    assert left_out_note(sus, "sus") == (
        "1 scored from nine items (one item declined; Lewis & "
        "Sauro 2017); 1 left out (1 declined two or more items)"
    )


def test_umux_nps_and_seq_leave_a_declined_answer_out(declines_db):
    s = summarise(declines_db)
    # UMUX-Lite: two items, no published proration: P02 (declined item 1) has no score
    assert s.umux_lite["n"] == 3
    assert s.umux_lite["mean"] == pytest.approx((100 + 50 + 0) / 3)  # (7,7), (4,4), (1,1)
    assert (s.umux_lite["left_out"], s.umux_lite["left_out_declined"]) == (1, 1)
    # NPS: P02 declined; 10, 6, 9 -> 2 promoters, 1 detractor of 3 -> 33.3
    assert (s.nps["n"], s.nps["promoters"], s.nps["detractors"]) == (3, 2, 1)
    assert s.nps["nps"] == pytest.approx(100 / 3)
    assert (s.nps["left_out"], s.nps["left_out_declined"]) == (1, 1)
    # SEQ: P02 declined; 6, 5, 7 are rated
    [task] = s.tasks.to_dict(orient="records")
    assert task["seq_n"] == 3 and task["seq_mean"] == pytest.approx(6.0)
    assert left_out_note(s.nps, "nps") == "1 left out (1 declined the question)"


def test_unfinished_questionnaires_are_counted_apart_from_declines(declines_db):
    s = summarise(declines_db, include_unfinished=True)
    assert (s.sus_summary["left_out"], s.sus_summary["left_out_declined"],
            s.sus_summary["left_out_unanswered"]) == (2, 1, 1)  # fmt: skip
    assert "1 did not answer every item" in left_out_note(s.sus_summary, "sus")


def test_nobody_scored_still_says_who_was_left_out(declines_db):
    s = summarise(declines_db, participants=["P03"])
    assert s.sus_summary["n"] == 0 and s.sus_summary["left_out_declined"] == 1
    out = CliRunner().invoke(cli, ["summary", str(declines_db), "--participant", "P03"])
    assert out.exit_code == 0, out.output
    assert "SUS: no score: 1 left out (1 declined two or more items)" in out.output


def test_summary_json_report_and_export_carry_the_left_out_figures(declines_db, tmp_path):
    result = CliRunner().invoke(cli, ["summary", str(declines_db)])
    assert result.exit_code == 0, result.output
    assert "1 scored from nine items" in result.output
    data = json.loads(CliRunner().invoke(cli, ["summary", str(declines_db), "--format",
                                               "json"]).output)  # fmt: skip
    assert data["format"] == "usetest-summary/2"
    assert {"prorated": 1, "left_out": 1, "left_out_declined": 1}.items() <= (
        data["sus"]["summary"].items())  # fmt: skip
    assert [p["items_scored"] for p in data["sus"]["participants"]] == [10, 9, 10]
    assert data["nps"]["left_out_declined"] == 1 and data["umux_lite"]["left_out"] == 1

    md = tmp_path / "r.md"
    result = CliRunner().invoke(cli, ["report", str(declines_db), "--format", "md", "-o",
                                      str(md), "--no-charts"])  # fmt: skip
    assert result.exit_code == 0, result.output
    text = md.read_text()
    assert "1 scored from nine items" in text and "1 declined two or more items" in text
    assert "100/36" in text and "1 declined an item" in text and "1 declined the question" in text

    for fmt in ("csv", "xlsx"):  # flat columns: every format writes them
        export(declines_db, tmp_path / fmt, fmt)
    import pandas as pd

    q = pd.read_csv(tmp_path / "csv" / "summary_questionnaires.csv").set_index("questionnaire")
    assert q.loc["sus", "left_out_declined"] == 1 and q.loc["nps", "left_out"] == 1
