"""Task order in a study with conditions: the Latin square is balanced within each condition."""

from __future__ import annotations

from collections import Counter

from click.testing import CliRunner

from tests.conftest import ROOT
from usetest import recorder, store
from usetest.cli import cli
from usetest.clock import FakeClock
from usetest.order import square_row, williams_square
from usetest.scenario import load_scenario

CHECKOUT = load_scenario(ROOT / "scenarios" / "checkout.yaml")  # 5 tasks, 2 conditions


def _rows():
    ids = [t.id for t in CHECKOUT.scenario.tasks]
    return [[ids[i] for i in row] for row in williams_square(len(ids))]


def test_least_used_assignment_gives_each_condition_its_own_rows_in_order(tmp_path):
    """The issue's case: alternating conditions used to give A rows 1, 3, 5 and B 2, 4, 6."""
    db = store.open_db(tmp_path / "c.db")
    rows = _rows()
    got: dict[str, list[list[str]]] = {"current": [], "redesign": []}
    for i in range(1, 21):
        condition = "current" if i % 2 else "redesign"
        rec = recorder.start(db, CHECKOUT, f"P{i:02d}", condition=condition, clock=FakeClock(),
                             consent="before the app")  # fmt: skip
        got[condition].append(list(rec.record.order))
    for condition, orders in got.items():
        assert orders == rows, condition  # the k-th participant of a condition gets row k
        firsts = Counter(order[0] for order in orders)
        assert len(firsts) == 5 and set(firsts.values()) == {2}  # every task first equally often


def test_an_abandoned_participants_row_goes_to_the_next_one(tmp_path):
    db = store.open_db(tmp_path / "c.db")
    rows = _rows()
    clock = FakeClock()
    recs = [recorder.start(db, CHECKOUT, code, condition="current", clock=clock)
            for code in ("P01", "P02", "P03")]  # fmt: skip
    orders = [list(rec.record.order) for rec in recs]
    recs[1].session.abandon("participant left")
    nxt = recorder.start(db, CHECKOUT, "P04", condition="current", clock=clock)
    assert orders == rows[:3]
    assert list(nxt.record.order) == rows[1]  # P02's row, given again


def test_square_row_ignores_orders_of_another_version():
    assert square_row(CHECKOUT.scenario, [["x", "y"], _rows()[0]]) == 1


def test_existing_sessions_keep_their_stored_order(tmp_path):
    db = store.open_db(tmp_path / "c.db")
    rec = recorder.start(db, CHECKOUT, "P01", condition="current", clock=FakeClock())
    before = store.get_session(db, rec.record.id).order
    for code in ("P02", "P03"):
        recorder.start(db, CHECKOUT, code, condition="current", clock=FakeClock())
    assert store.get_session(db, rec.record.id).order == before


def test_run_plan_shows_the_row_for_the_condition(tmp_path):
    db_path = tmp_path / "c.db"
    db = store.open_db(db_path)
    recorder.start(db, CHECKOUT, "P01", condition="current", clock=FakeClock())
    db.close()
    rows = _rows()
    titles = {t.id: t.title for t in CHECKOUT.scenario.tasks}
    out = CliRunner().invoke(cli, ["run", str(ROOT / "scenarios" / "checkout.yaml"), "--plan",
                                   "--db", str(db_path), "--condition", "redesign"]).output  # fmt: skip
    assert "participant P02 in condition redesign would get:" in out
    assert f"1. {titles[rows[0][0]]}" in out  # the first of redesign: row 1
    out = CliRunner().invoke(cli, ["run", str(ROOT / "scenarios" / "checkout.yaml"), "--plan",
                                   "--db", str(db_path), "--condition", "current"]).output  # fmt: skip
    assert f"1. {titles[rows[1][0]]}" in out  # the second of current: row 2
