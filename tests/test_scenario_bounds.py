"""Scenario bounds (issue 11, item 7): every number has a range, in the model and the schema;
a scenario holds at most 200 tasks; ``validate`` never shows a traceback, whatever the number;
the set-up screen builds a Latin square once, not at every keystroke."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from usetest.cli import cli
from usetest.order import williams_square
from usetest.scenario import (
    MAX_TASKS,
    MAX_TIME_LIMIT,
    ScenarioError,
    json_schema,
    parse_scenario,
)

ROOT = Path(__file__).resolve().parent.parent
USETEST = str(Path(sys.executable).parent / "usetest")
HUGE = "1" + "0" * 5000  # more digits than Python converts to int by default (4300)


def scenario(tasks: int = 1, order: str = "fixed", **task: object) -> str:
    extra = "".join(f", {k}: {v}" for k, v in task.items())
    lines = "".join(f"  - {{id: t{i}, title: Task {i}, prompt: Do {i}{extra}}}\n"
                    for i in range(tasks))  # fmt: skip
    return f"study: Bounds\ntask_order: {order}\ntasks:\n{lines}"


def validate(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return subprocess.run([USETEST, "validate", str(path)], capture_output=True, text=True,
                          timeout=60)  # fmt: skip


@pytest.mark.parametrize("value", [HUGE, "99999999999999999999999999999", "0", "-5",
                                   str(MAX_TIME_LIMIT + 1), "-" + HUGE, "1e400", ".inf"],
                         ids=["5001-digits", "29-digits", "0", "-5", "a-day-and-1", "-5001-digits",
                              "1e400", "inf"])  # fmt: skip
def test_an_out_of_range_time_limit_is_a_message_not_a_traceback(tmp_path, value):
    done = validate(tmp_path, scenario(time_limit=value))
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    assert "s.yaml:4:" in done.stderr
    assert "time_limit" in done.stderr or "characters)" in done.stderr
    assert len(done.stderr) < 1000  # the number is not printed back in full


@pytest.mark.parametrize("where", [
    "study: {n}\ntasks:\n  - {{id: a, title: t, prompt: p}}\n",
    "study: s\ntasks:\n  - {{id: a, title: t, prompt: p, seq: {n}}}\n",
    "study: s\ntasks:\n  - {{id: a, title: t, prompt: p}}\nquestionnaires:\n"
    "  - {{id: q, title: Q, items: [{{id: i, text: x, points: {n}}}]}}\n",
    "study: s\nconditions: [{n}]\ntasks:\n  - {{id: a, title: t, prompt: p}}\n",
])  # fmt: skip
def test_a_huge_number_anywhere_is_a_message(tmp_path, where):
    done = validate(tmp_path, where.format(n=HUGE))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "is too long (5,001 characters)" in done.stderr


def test_time_limits_from_one_second_to_a_day_are_accepted():
    for value in (1, 300, MAX_TIME_LIMIT):
        assert parse_scenario(scenario(time_limit=value)).scenario.tasks[0].time_limit == value
    with pytest.raises(ScenarioError, match="from 1 to 86400"):
        parse_scenario(scenario(time_limit=99999999999999999999999999999))


@pytest.mark.parametrize("count", [MAX_TASKS + 1, 10_000])
def test_the_task_limit_is_said_in_the_message(count):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(scenario(tasks=count))
    message = str(info.value)
    assert f"the scenario has {count:,} tasks; a scenario holds at most {MAX_TASKS}" in message
    assert "aliases" not in message and "split the study" in message


def test_two_hundred_tasks_are_fine():
    assert len(parse_scenario(scenario(tasks=MAX_TASKS, order="latin-square")).scenario.tasks) == 200


@pytest.mark.parametrize(("text", "says"), [
    ("study: s\nconditions: [{}]\ntasks: [{{id: a, title: t, prompt: p}}]\n"
     .format(", ".join(f"c{i}" for i in range(27))), "at most 26 conditions"),
    ("study: s\ntasks: [{{id: a, title: t, prompt: p}}]\nquestionnaires: [{}]\n"
     .format(", ".join(f"{{id: q{i}, title: Q, items: [{{id: i, text: x}}]}}" for i in range(21))),
     "at most 20 questionnaires"),
    ("study: s\ntasks: [{{id: a, title: t, prompt: p}}]\nquestionnaires:\n"
     "  - {{id: q, title: Q, items: [{}]}}\n"
     .format(", ".join(f"{{id: i{i}, text: x}}" for i in range(101))), "at most 100 questions"),
    ("study: s\ntasks: [{id: a, title: t, prompt: p}]\nquestionnaires:\n"
     "  - {id: q, title: Q, items: [{id: i, text: x, points: 12}]}\n", "from 2 to 11"),
])  # fmt: skip
def test_counts_are_bounded_with_a_message(text, says):
    with pytest.raises(ScenarioError, match=says):
        parse_scenario(text)


def test_the_schema_carries_the_bounds_and_is_current():
    schema = json_schema()
    assert schema["properties"]["tasks"]["maxItems"] == MAX_TASKS
    limit = schema["$defs"]["Task"]["properties"]["time_limit"]["anyOf"][0]
    assert (limit["minimum"], limit["maximum"]) == (1, MAX_TIME_LIMIT)
    assert schema["properties"]["conditions"]["maxItems"] == 26
    committed = json.loads((ROOT / "usetest" / "usetest-scenario.schema.json").read_text())
    assert committed == schema, "regenerate: usetest schema > usetest/usetest-scenario.schema.json"


def test_run_refuses_an_out_of_range_time_limit_before_anything_is_written(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(scenario(time_limit="99999999999999999999999999999"))
    result = CliRunner().invoke(cli, ["run", str(path), "--db", str(tmp_path / "s.db"),
                                      "--participant", "P01"])  # fmt: skip
    assert result.exit_code == 1 and "time_limit" in result.stderr
    assert not (tmp_path / "s.db").exists()


async def test_the_set_up_screen_builds_the_square_once_while_typing(tmp_path):
    """A 200-task Latin square has 40,000 cells: typing a code must not rebuild it per key."""
    from textual.widgets import Input, Static

    from usetest.clock import FakeClock
    from usetest.tui.app import make_app

    loaded = parse_scenario(scenario(tasks=MAX_TASKS, order="latin-square"), "big.yaml")
    app = make_app(loaded, tmp_path / "big.db", clock=FakeClock())
    williams_square.cache_clear()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        field = app.screen.query_one("#participant", Input)
        field.value = ""
        await pilot.press(*"P1234567")
        await pilot.pause()
        assert field.value == "P1234567"
        info = williams_square.cache_info()
        assert info.misses == 1 and info.hits >= 8, info  # built once, then reused per key
        preview = str(app.screen.query_one("#order-preview", Static).render())
        assert preview.startswith("Task order for P1234567:")
