"""A realistic study database, run through the real recorder with a fake clock.

``build_checkout`` plays the checkout study (scenarios/checkout.yaml: two conditions, Latin
square, SUS, UMUX-Lite, NPS) for a number of participants per condition, with seeded random
outcomes, times, errors, assists, notes and answers. Reports, comparisons and screenshots use it;
the numbers it produces are not expected values (published examples are, in test_analysis.py).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from usetest import recorder, store
from usetest.clock import FakeClock
from usetest.scenario import load_scenario, parse_scenario
from usetest.store import open_db

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = ROOT / "scenarios" / "checkout.yaml"

PROBLEMS = [
    ("Gift options hidden until payment", 3),
    ("Quantity stepper not recognised as a control", 2),
    ("Postcode field rejects a space", 3),
    ("Card expiry format unclear", 1),
]
QUOTES = [
    "I expected the gift option in the cart, not here.",
    "Oh, that plus is a button? I did not see it.",
    "Why does it not like my postcode?",
    "That was quicker than I thought.",
]


# A participant profile for the checkout study (``build_checkout(profile=True)``); kept out
# of scenarios/checkout.yaml, whose app tests go straight from consent to the first task.
CHECKOUT_PROFILE = """
profile:
  - id: age
    text: Which age band are you in?
    options: [18-29, 30-44, 45-59, 60+]
  - id: experience
    text: For how many years have you shopped online?
    type: number
    min: 0
    max: 40
  - id: device
    text: Which device do you shop on most?
    type: text
"""


def build_checkout(path: Path, per_condition: int = 6, seed: int = 7,
                   profile: bool = False, scenario: Path = CHECKOUT) -> Path:  # fmt: skip
    """Write ``path`` with ``per_condition`` completed sessions in each condition, plus one
    session left in progress (which summaries leave out unless asked).

    ``profile``: the study asks :data:`CHECKOUT_PROFILE` too, and every participant answers
    it (seeded; some decline); the other numbers are the same as without it. ``scenario``: a
    copy of the checkout study's file (a golden file's frozen text, whose SHA-256 is in it).
    """
    rng = random.Random(seed)
    loaded = load_scenario(scenario)
    answers = _profile_answers(random.Random(seed + 1)) if profile else None
    if profile:
        loaded = parse_scenario(loaded.text + CHECKOUT_PROFILE, str(CHECKOUT))
    db = open_db(path)
    clock = FakeClock(start_utc=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    number = 0
    for condition in loaded.scenario.conditions:
        redesign = condition == "redesign"
        for _ in range(per_condition):
            number += 1
            rec = recorder.start(db, loaded, f"P{number:02d}", "AB", condition, clock=clock,
                                 consent="in the app" if answers else None,
                                 profile=next(answers) if answers else None)  # fmt: skip
            s = rec.session
            for task_id in s.state.order:
                s.start(task_id)
                base = {"find-kettle": 70, "change-quantity": 25, "gift-wrap": 60,
                        "delivery-address": 80, "pay-card": 75}[task_id]  # fmt: skip
                if redesign:
                    base *= 0.75
                clock.advance(base * rng.lognormvariate(0, 0.35))
                if rng.random() < (0.25 if redesign else 0.5):
                    s.log_error(rng.choice("nmivo"))
                if rng.random() < 0.15:
                    s.log_assist("pointed at the cart icon")
                if rng.random() < 0.3:
                    text, severity = rng.choice(PROBLEMS)
                    s.log_note(text, "problem", severity=severity)
                if rng.random() < 0.2:
                    s.log_note(rng.choice(QUOTES), "quote")
                roll = rng.random()
                outcome = ("success" if roll < (0.85 if redesign else 0.6) else
                           "partial" if roll < 0.9 else "fail")  # fmt: skip
                s.end(outcome)
                s.answer("seq", "seq", rng.randint(5, 7) if outcome == "success" else
                         rng.randint(2, 5), task_id=task_id)  # fmt: skip
            shift = 1 if redesign else 0
            for i in range(1, 11):
                positive = i % 2 == 1
                value = rng.randint(3 + shift, 5) if positive else rng.randint(1, 3 - shift)
                s.answer("sus", f"sus{i}", value)
            s.answer("umux-lite", "umux1", rng.randint(4 + shift, 7))
            s.answer("umux-lite", "umux2", rng.randint(4 + shift, 7))
            s.answer("nps", "nps", rng.randint(5 + 2 * shift, 10))
            s.complete()
            clock.advance(3600)
    left = recorder.start(db, loaded, f"P{number + 1:02d}", "AB", "current", clock=clock)
    left.session.start()
    db.close()
    return path


def _profile_answers(rng: random.Random) -> Iterator[dict[str, str | int | None]]:
    """Endless seeded profiles: age band, years shopping online, device; about one in twenty
    answers declined."""
    while True:
        age = rng.choice(["18-29", "30-44", "30-44", "45-59", "60+"])
        years = min(40, max(0, round(rng.gauss(8, 5))))
        device = rng.choice(["phone", "laptop", "tablet", "phone", "desktop"])
        yield {name: (None if rng.random() < 0.05 else value)
               for name, value in (("age", age), ("experience", years), ("device", device))}


# ---------------------------------------------------------------------------------------------
# A rich study at any size, written straight into a database the store created.

RICH_YAML = """\
study: Rich study
study_id: rich-study
product: the shop
conditions: [current, redesign]
partial_counts_as_success: {partial}
targets: {{completion: 0.7, sus: 70, umux_lite: 65, csat: 3.5, ces: 5}}
error_types:
  - {{key: n, name: navigation}}
  - {{key: m, name: misread label}}
  - {{key: i, name: form input}}
  - {{key: v, name: validation}}
  - {{key: o, name: other}}
profile:
  - {{id: age, text: Age band, options: [18-29, 30-44, 45-59, 60+]}}
  - {{id: experience, text: Years shopping online, type: number, min: 0, max: 40}}
  - {{id: device, text: Device used most, type: text}}
tasks:
  - {{id: find, title: {find_title}, prompt: Find a kettle., target_time: 90, after: [ces, post]}}
  - {{id: quantity, title: Change the quantity, prompt: Make it two., target_completion: 0.9}}
  - {{id: gift, title: Gift wrap, prompt: Wrap one., seq: false}}
  - {{id: address, title: Delivery address, prompt: Enter the office address.}}
  - {{id: pay, title: Pay by card, prompt: Pay., after: [csat]}}
questionnaires:
  - sus
  - umux-lite
  - nps
  - csat
  - ces
  - id: post
    title: After the task
    at_end: false
    items:
      - {{id: clear, text: The steps were clear., points: 5}}
  - id: wrap
    title: Wrap-up
    items:
      - {{id: again, text: I would use it again., points: 7}}
      - {{id: why, type: text, text: "Why?"}}
"""
"""The rich study's scenario; version 1 counts partial successes and calls the first task
"Find a kettle", version 2 does not and renames it."""

RICH_TASKS = ("find", "quantity", "gift", "address", "pay")
RICH_ERRORS = (("n", "navigation"), ("m", "misread label"), ("i", "form input"),
               ("v", "validation"), ("o", "other"))  # fmt: skip
RICH_DEVICES = ("phone", "laptop", "tablet", "desktop")
RICH_AGES = ("18-29", "30-44", "45-59", "60+")
RICH_REASONS = ("Quick and clear.", "The gift option was hard to find.", "Too many steps.",
                "I liked the one-page form.", "The postcode field was annoying.")  # fmt: skip


def rich_scenarios() -> list[Any]:
    """The rich study's two versions (LoadedScenario), oldest first."""
    return [parse_scenario(RICH_YAML.format(partial="true", find_title="Find a kettle"),
                           "rich.yaml"),
            parse_scenario(RICH_YAML.format(partial="false", find_title="Find a cheap kettle"),
                           "rich.yaml")]  # fmt: skip


def _stamp(seconds: np.ndarray) -> list[str]:
    """UTC timestamps as the store writes them, ``seconds`` after 2026-11-02 09:00."""
    base = np.datetime64("2026-11-02T09:00:00.000")
    stamps = np.datetime_as_string(base + (seconds * 1000).astype("timedelta64[ms]"), unit="ms")
    return [s + "Z" for s in stamps.tolist()]


def build_rich(path: Path, attempts: int, seed: int = 15) -> Path:
    """Write ``path``: about ``attempts`` task attempts (5 tasks a session) of :data:`RICH_YAML`
    in two versions and two conditions, with errors by type, notes of every kind (some by an
    observer), assists, every outcome (abandoned and skipped tasks too), SEQ, after-task CSAT,
    CES and a custom item, SUS (some items declined, some sessions stopped part-way), UMUX-Lite,
    NPS, a custom wrap-up block with free text, and profile answers (some declined).

    About 95 % of the sessions are completed, 3 % abandoned part-way, 2 % still in progress.
    Rows go straight into the store's tables (no events log, which no summary reads), so a
    million attempts take seconds; the same ``attempts`` and ``seed`` give the same database.
    """
    rng = np.random.default_rng(seed)
    db = open_db(path)
    versions = rich_scenarios()
    ids = [store.save_scenario(db, v, "2026-11-01T08:00:00.000Z") for v in versions]
    n = max(1, attempts // len(RICH_TASKS))
    k = len(RICH_TASKS)
    # sessions --------------------------------------------------------------------------------
    roll = rng.random(n)
    status = np.where(roll < 0.95, "completed", np.where(roll < 0.98, "abandoned", "in_progress"))
    version = np.where(np.arange(n) < n * 0.3, ids[0], ids[1])
    condition = np.where(np.arange(n) % 2 == 0, "current", "redesign")
    start = np.arange(n) * 2400.0 + rng.integers(0, 600, n)  # one every 40 minutes or so
    started, ended = _stamp(start), _stamp(start + 1800)
    order = [[RICH_TASKS[(i + j) % k] for j in range(k)] for i in range(min(n, k))]
    done = status == "completed"
    first = db.execute("SELECT coalesce(max(id), 0) FROM sessions").fetchone()[0] + 1
    sid = first + np.arange(n)
    conn = db.conn
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO sessions (id, uid, scenario_id, participant, moderator, condition,"
        " task_order, status, started_at, ended_at, consent_at, consent_how)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        zip(sid.tolist(), (f"rich-{seed}-{i}" for i in range(n)), version.tolist(),
            (f"R{i + 1:07d}" for i in range(n)), ("AB" if i % 3 else "CD" for i in range(n)),
            condition.tolist(), (json.dumps(order[i % k]) for i in range(n)), status.tolist(),
            started, [e if d else None for e, d in zip(ended, done.tolist(), strict=True)],
            started, ["in the app"] * n, strict=True),
    )  # fmt: skip
    # attempts: sessions not completed stop part-way (the next task left running) -------------
    reached = np.where(done, k, rng.integers(0, k, n))
    a_sess = np.repeat(np.arange(n), k)
    pos = np.tile(np.arange(k), n)
    present = pos <= np.repeat(np.where(done, k - 1, reached), k)
    a_sess, pos = a_sess[present], pos[present]
    m = len(a_sess)
    running = pos == reached[a_sess]  # the task a stopped session was in
    task = np.array(RICH_TASKS)[(a_sess % k + pos) % k]
    redesign = condition[a_sess] == "redesign"
    r = rng.random(m)
    good = np.where(redesign, 0.72, 0.55)
    outcome = np.select([r < good, r < good + 0.12, r < good + 0.25, r < good + 0.33],
                        ["success", "partial", "fail", "abandoned"], "skipped")  # fmt: skip
    base = np.select([task == t for t in RICH_TASKS], [70.0, 25.0, 60.0, 80.0, 75.0])
    secs = base * np.where(redesign, 0.8, 1.0) * rng.lognormal(0, 0.45, m)
    time_ms = np.where(outcome == "skipped", 0, np.round(secs * 1000)).astype(np.int64)
    time_ms[rng.random(m) < 0.004] = 0  # a few attempts timed 0 (ended at once)
    errors = rng.choice(4, m, p=[0.6, 0.25, 0.1, 0.05])
    assists = rng.choice(3, m, p=[0.8, 0.15, 0.05])
    asks_seq = task != "gift"
    seq_declined = rng.random(m) < 0.04
    rated = asks_seq & (outcome != "skipped") & ~running & ~seq_declined
    seq = np.clip(np.round(np.where(outcome == "success", 5.8, 3.5)
                           + rng.normal(0, 1.1, m)), 1, 7).astype(int)  # fmt: skip
    status_a = np.where(running, "in_progress", "ended")
    outcome_a: list[Any] = np.where(running, "", outcome).tolist()
    outcome_a = [o or None for o in outcome_a]
    t_start = start[a_sess] + pos * 300.0
    a_started, a_ended = _stamp(t_start), _stamp(t_start + secs)
    limit = np.where(task == "find", 300, None)
    conn.executemany(
        "INSERT INTO attempts (session_id, task_id, position, status, outcome, time_ms, errors,"
        " assists, pauses, pause_ms, interruptions, seq_rating, time_limit_s, over_time_limit,"
        " started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?, ?, ?, ?)",
        zip(sid[a_sess].tolist(), task.tolist(), (pos + 1).tolist(), status_a.tolist(),
            outcome_a, np.where(running, 0, time_ms).tolist(), np.where(running, 0, errors).tolist(),
            np.where(running, 0, assists).tolist(),
            [int(v) if ok else None for v, ok in zip(seq.tolist(), rated.tolist(), strict=True)],
            limit.tolist(), [None if lim is None else int(t > lim * 1000) for lim, t in
                             zip(limit.tolist(), time_ms.tolist(), strict=True)],
            a_started, [None if x else e for x, e in zip(running.tolist(), a_ended, strict=True)],
            strict=True),
    )  # fmt: skip
    # errors and notes, each with its own event number within the session ---------------------
    ended_ok = ~running
    e_att = np.repeat(np.flatnonzero(ended_ok), errors[ended_ok])
    e_type = rng.integers(0, len(RICH_ERRORS), len(e_att))
    e_note = rng.random(len(e_att)) < 0.1
    seqs = np.zeros(n, dtype=np.int64)

    def numbered(att: np.ndarray) -> list[int]:
        out = []
        for s in a_sess[att].tolist():
            seqs[s] += 1
            out.append(1000 + int(seqs[s]))
        return out

    conn.executemany(
        "INSERT INTO errors (session_id, event_seq, task_id, type_key, type_name, note,"
        " logged_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        zip(sid[a_sess[e_att]].tolist(), numbered(e_att), task[e_att].tolist(),
            [RICH_ERRORS[t][0] for t in e_type.tolist()],
            [RICH_ERRORS[t][1] for t in e_type.tolist()],
            ["went to the menu" if x else None for x in e_note.tolist()],
            [a_started[i] for i in e_att.tolist()], strict=True),
    )  # fmt: skip
    roll = rng.random(m)
    kinds = np.select([roll < 0.15, roll < 0.25, roll < 0.3], ["problem", "quote", "observation"], "")
    n_att = np.flatnonzero((kinds != "") & ended_ok)
    which = rng.integers(0, len(PROBLEMS), len(n_att))
    by_observer = rng.random(len(n_att)) < 0.1
    texts = [PROBLEMS[w][0] if kd == "problem" else QUOTES[w] if kd == "quote"
             else f"Hesitated {w + 2} seconds" for kd, w in
             zip(kinds[n_att].tolist(), which.tolist(), strict=True)]  # fmt: skip
    conn.executemany(
        "INSERT INTO notes (session_id, event_seq, task_id, kind, text, severity, logged_at,"
        " author) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        zip(sid[a_sess[n_att]].tolist(), numbered(n_att), task[n_att].tolist(),
            kinds[n_att].tolist(), texts,
            [PROBLEMS[w][1] if kd == "problem" else None for kd, w in
             zip(kinds[n_att].tolist(), which.tolist(), strict=True)],
            [a_ended[i] for i in n_att.tolist()],
            ["OB" if o else None for o in by_observer.tolist()], strict=True),
    )  # fmt: skip
    # answers ------------------------------------------------------------------------------------
    rows: list[tuple[Any, ...]] = []
    add = rows.append
    # profile: at set-up, everyone; about one answer in twenty declined
    age, years, device = (rng.integers(0, 4, n), rng.integers(0, 30, n),
                          rng.integers(0, 4, n))  # fmt: skip
    p_declined = rng.random((n, 3)) < 0.05
    for i in range(n):
        s, at = int(sid[i]), started[i]
        for j, (item, num, txt) in enumerate((("age", None, RICH_AGES[age[i]]),
                                               ("experience", int(years[i]), None),
                                               ("device", None, RICH_DEVICES[device[i]]))):
            if p_declined[i, j]:
                add((s, "profile", item, "", None, None, j + 1, at, 1))
            else:
                add((s, "profile", item, "", num, txt, j + 1, at, 0))
    # after each task ended: the SEQ, then the task's after: questionnaires
    after_v = rng.integers(1, 8, (m, 3))
    after_declined = rng.random((m, 3)) < 0.03
    for idx in np.flatnonzero(ended_ok & (outcome != "skipped")).tolist():
        s, t, at = int(sid[a_sess[idx]]), str(task[idx]), a_ended[idx]
        if t != "gift":
            add((s, "seq", "seq", t, int(seq[idx]) if rated[idx] else None, None, 500 + idx % 400,
                 at, int(bool(seq_declined[idx]))))
        if t == "find":
            d1, d2 = after_declined[idx, 0], after_declined[idx, 1]
            add((s, "ces", "ces", t, None if d1 else int(after_v[idx, 0]), None, 900, at, int(d1)))
            add((s, "post", "clear", t, None if d2 else int(min(after_v[idx, 1], 5)), None, 901,
                 at, int(d2)))
        elif t == "pay":
            d3 = after_declined[idx, 2]
            add((s, "csat", "csat", t, None if d3 else int(min(after_v[idx, 2], 5)), None, 902,
                 at, int(d3)))
    # after the tasks: SUS (some decline an item or two; a stopped session part of it), UMUX-Lite,
    # NPS, CSAT, CES, the wrap-up block (a reason from about one in ten)
    positive = np.where(condition == "redesign", 1, 0)
    sus = rng.integers(1, 6, (n, 10))
    sus[:, 0::2] = np.clip(sus[:, 0::2] + positive[:, None], 1, 5)
    sus[:, 1::2] = np.clip(sus[:, 1::2] - positive[:, None], 1, 5)
    sus_roll = rng.random(n)
    declined_items = np.where(sus_roll < 0.03, 1, np.where(sus_roll < 0.04, 2, 0))
    umux = rng.integers(3, 8, (n, 2))
    umux_declined = rng.random(n) < 0.02
    nps = rng.integers(0, 11, n)
    end_declined = rng.random((n, 4)) < 0.03
    end_v = rng.integers(1, 8, (n, 3))
    reason = rng.integers(0, len(RICH_REASONS), n)
    gives_reason = rng.random(n) < 0.1
    stopped_in_sus = (status == "abandoned") & (rng.random(n) < 0.5)
    for i in np.flatnonzero(done | stopped_in_sus).tolist():
        s, at = int(sid[i]), ended[i]
        items = 6 if not done[i] else 10
        for j in range(items):
            declined = j < declined_items[i]
            add((s, "sus", f"sus{j + 1}", "", None if declined else int(sus[i, j]), None, 600 + j,
                 at, int(declined)))
        if not done[i]:
            continue
        for j in range(2):
            declined = bool(umux_declined[i]) and j == 0
            add((s, "umux-lite", f"umux{j + 1}", "", None if declined else int(umux[i, j]), None,
                 700 + j, at, int(declined)))
        d = end_declined[i]
        add((s, "nps", "nps", "", None if d[0] else int(nps[i]), None, 710, at, int(d[0])))
        add((s, "csat", "csat", "", None if d[1] else int(min(end_v[i, 0], 5)), None, 711, at,
             int(d[1])))
        add((s, "ces", "ces", "", None if d[2] else int(end_v[i, 1]), None, 712, at, int(d[2])))
        add((s, "wrap", "again", "", None if d[3] else int(end_v[i, 2]), None, 713, at, int(d[3])))
        if gives_reason[i]:
            add((s, "wrap", "why", "", None, RICH_REASONS[reason[i]], 714, at, 0))
    conn.executemany(
        "INSERT INTO answers (session_id, questionnaire, item, task_id, value_num, value_text,"
        " event_seq, answered_at, declined) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)  # fmt: skip
    conn.execute("COMMIT")
    db.close()
    return path
