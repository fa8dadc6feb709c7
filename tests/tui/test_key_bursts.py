"""Bursts of keys faster than the screens change never crash the app or log behind its back.

Found by the crash campaign in tmux: keys queued for a screen that the previous key had already
replaced popped a second screen (ScreenStackError) or updated removed widgets (NoMatches).
"""

from __future__ import annotations

import random

import pytest
from textual import events

from tests.tui.test_app_flow import DEMO, rows
from usetest.clock import FakeClock
from usetest.events import replay
from usetest.tui.app import make_app

KEYS = ["space", "space", "a", "e", "enter", "s", "f", "x", "u", "4", "escape", "n", "enter",
        "o", "p", "2", "backspace", "v", "question_mark"]  # fmt: skip


def _key(name: str) -> events.Key:
    character = {"space": " ", "enter": "\r", "escape": "\x1b", "backspace": "\x7f",
                 "question_mark": "?"}.get(name, name)  # fmt: skip
    return events.Key(name, character)


@pytest.mark.parametrize("seed", range(8))
async def test_a_burst_of_random_keys_keeps_the_app_alive_and_the_log_whole(tmp_path, seed):
    rng = random.Random(seed)
    db_path = tmp_path / "demo.db"
    app = make_app(DEMO, db_path, clock=FakeClock(), participant="P01", consent=True)
    burst = [rng.choice(KEYS) for _ in range(80)]
    async with app.run_test() as pilot:
        for i, name in enumerate(burst):
            app.post_message(_key(name))  # queued without waiting: faster than any screen
            if i % (seed % 4 + 2) == 0:
                await pilot.pause(0.01)
        await pilot.pause(0.3)
        assert app._exception is None, burst
        assert app.screen.is_mounted
        rec = app.recording
        stored = rows(db_path, "SELECT event_seq, kind FROM events ORDER BY event_seq")
        # What the engine holds is exactly what is in the database, and replays to its state.
        assert [(e.seq, e.kind) for e in rec.session.events] == [
            (r["event_seq"], r["kind"]) for r in stored
        ]
        assert replay(rec.session.state.order, rec.session.events) == rec.session.state
    assert app.return_code in (None, 0)
