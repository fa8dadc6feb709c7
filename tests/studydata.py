"""A realistic study database, run through the real recorder with a fake clock.

``build_checkout`` plays the checkout study (scenarios/checkout.yaml: two conditions, Latin
square, SUS, UMUX-Lite, NPS) for a number of participants per condition, with seeded random
outcomes, times, errors, assists, notes and answers. Reports, comparisons and screenshots use it;
the numbers it produces are not expected values (published examples are, in test_analysis.py).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from usetest import recorder
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
                   profile: bool = False) -> Path:  # fmt: skip
    """Write ``path`` with ``per_condition`` completed sessions in each condition, plus one
    session left in progress (which summaries leave out unless asked).

    ``profile``: the study asks :data:`CHECKOUT_PROFILE` too, and every participant answers
    it (seeded; some decline); the other numbers are the same as without it.
    """
    rng = random.Random(seed)
    loaded = load_scenario(CHECKOUT)
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
