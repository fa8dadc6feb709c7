"""Pictures of the main screens at 80×24 with a frozen clock (pytest-textual-snapshot).

Update the baselines on purpose only: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from tests.conftest import ROOT, demo_without_profile
from usetest.clock import FakeClock
from usetest.scenario import load_scenario
from usetest.tui.app import make_app

DEMO = demo_without_profile()
SIZE = (80, 24)


def test_setup_screen(snap_compare, tmp_path):
    app = make_app(load_scenario(ROOT / "scenarios" / "checkout.yaml"), tmp_path / "c.db",
                   clock=FakeClock())  # fmt: skip
    assert snap_compare(app, terminal_size=SIZE)


def test_task_screen_running_with_events(snap_compare, tmp_path):
    clock = FakeClock()
    app = make_app(DEMO, tmp_path / "d.db", clock=clock, participant="P01", consent=True)

    async def run_before(pilot):
        await pilot.press("space")
        clock.advance(83)
        await pilot.press("a")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_task_screen_over_time_limit(snap_compare, tmp_path):
    clock = FakeClock()
    app = make_app(DEMO, tmp_path / "d.db", clock=clock, participant="P01", consent=True)

    async def run_before(pilot):
        await pilot.press("space")
        clock.advance(125)  # limit is 120 s
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_seq_screen(snap_compare, tmp_path):
    clock = FakeClock()
    app = make_app(DEMO, tmp_path / "d.db", clock=clock, participant="P01", consent=True)

    async def run_before(pilot):
        await pilot.press("space")
        clock.advance(40)
        await pilot.press("s")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_sus_screen(snap_compare, tmp_path):
    clock = FakeClock()
    app = make_app(DEMO, tmp_path / "d.db", clock=clock, participant="P01", consent=True)

    async def run_before(pilot):
        await pilot.press("x", "x", "x", "4", "1")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_summary_screen(snap_compare, tmp_path):
    clock = FakeClock()
    app = make_app(DEMO, tmp_path / "d.db", clock=clock, participant="P01", consent=True)

    async def run_before(pilot):
        await pilot.press("space")
        clock.advance(47)
        await pilot.press("s", "6", "space")
        clock.advance(12)
        await pilot.press("f", "3", "x", *"4152514231")
        await pilot.app.workers.wait_for_complete()  # SUS scored in a thread
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_task_screen_light_theme(snap_compare, tmp_path):
    clock = FakeClock()
    app = make_app(DEMO, tmp_path / "d.db", clock=clock, participant="P01", consent=True)
    app.theme = "textual-light"

    async def run_before(pilot):
        await pilot.press("space")
        clock.advance(130)  # past the 120 s limit: the warning must read on white too
        await pilot.press("space", "enter")  # paused
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_task_screen_event_log_ends_with_the_newest_event(snap_compare, tmp_path):
    """Seven events: the log shows the last five, the error just logged at the bottom."""
    clock = FakeClock()
    app = make_app(DEMO, tmp_path / "d.db", clock=clock, participant="P01", consent=True)

    async def run_before(pilot):
        await pilot.press("space")
        for _ in range(4):
            clock.advance(2)
            await pilot.press("a")
        clock.advance(3)
        await pilot.press("e", "n", *"newest", "enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
