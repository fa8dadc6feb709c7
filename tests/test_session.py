"""The session engine: commands, timing, undo, resume and task order, without a database."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import STUDY_YAML
from usetest.clock import FakeClock
from usetest.events import TASK_ENDED, UNDO, Event, SessionError, SessionState, replay
from usetest.order import assign_order, participant_number, williams_square
from usetest.scenario import LoadedScenario, parse_scenario
from usetest.session import Session


class ListSink:
    """Keeps what the engine commits; can be told to fail like a full disk."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.states: list[SessionState] = []
        self.fail = False

    def __call__(self, event: Event, state: SessionState) -> None:
        if self.fail:
            raise OSError("disk full")
        self.events.append(event)
        self.states.append(state)


def begin(study: LoadedScenario, clock: FakeClock, sink: ListSink | None = None) -> Session:
    order = [t.id for t in study.scenario.tasks]
    return Session.begin(study.scenario, order, clock, sink or ListSink(), participant="P01")


def test_time_on_task_sums_running_intervals_and_excludes_pauses(study, clock):
    s = begin(study, clock)
    s.start()
    clock.advance(10)
    s.pause("participant asked a question")
    clock.advance(30)  # not counted
    s.resume()
    clock.advance(5.5)
    assert s.time_ms() == 15_500
    s.end("success")
    clock.advance(100)
    one = s.state.tasks["one"]
    assert (one.status, one.outcome, one.closed_ms) == ("ended", "success", 15_500)
    assert (one.pauses, one.pause_ms) == (1, 30_000)
    assert s.state.current_task == "two"


def test_ending_before_start_is_refused_but_skipping_is_allowed(study, clock):
    s = begin(study, clock)
    with pytest.raises(SessionError, match="never started"):
        s.end("success")
    s.end("skipped")
    assert s.state.tasks["one"].outcome == "skipped"
    assert s.state.tasks["one"].closed_ms == 0


def test_logging_needs_a_started_task_and_works_while_paused(study, clock):
    s = begin(study, clock)
    with pytest.raises(SessionError, match="start one"):
        s.log_error("n")
    s.start()
    s.pause()
    s.log_error("n", note="used the footer")
    s.log_assist()
    s.log_error()  # unclassified
    one = s.state.tasks["one"]
    assert (one.errors, one.assists) == (2, 1)
    names = sorted(e.type_name for e in s.state.errors.values())
    assert names == ["navigation", "unclassified"]
    with pytest.raises(SessionError, match="no error type has key 'z'"):
        s.log_error("z")


def test_only_one_task_at_a_time_in_order(study, clock):
    s = begin(study, clock)
    with pytest.raises(SessionError, match="not next"):
        s.start("two")
    s.start()
    with pytest.raises(SessionError, match="already running"):
        s.start()
    with pytest.raises(SessionError, match="not paused"):
        s.resume()


def test_notes_and_severity_rules(study, clock):
    s = begin(study, clock)
    s.log_note("arrived early")  # no task active: a session-level note
    s.start()
    s.log_note("I'd never find that", kind="quote")
    s.log_note("Label 'Basket' missed", kind="problem", severity=3)
    with pytest.raises(SessionError, match="only a problem"):
        s.log_note("x", kind="quote", severity=2)
    with pytest.raises(SessionError, match="0 .none. to 4"):
        s.log_note("x", kind="problem", severity=5)
    with pytest.raises(SessionError, match="empty note"):
        s.log_note("   ")
    notes = list(s.state.notes.values())
    assert [(n.task_id, n.kind, n.severity) for n in notes] == [
        (None, "observation", None), ("one", "quote", None), ("one", "problem", 3),
    ]  # fmt: skip


def test_undo_is_an_event_and_reopens_an_ended_task(study, clock):
    s = begin(study, clock)
    s.start()
    clock.advance(20)
    s.end("fail")
    clock.advance(3)  # the moderator notices the wrong key
    undo = s.undo()
    assert undo.kind == UNDO and undo.payload["target_kind"] == TASK_ENDED
    one = s.state.tasks["one"]
    assert one.status == "running" and one.outcome is None
    clock.advance(7)
    s.end("success")
    # the clock kept running through the mistaken end: 20 + 3 + 7
    assert s.state.tasks["one"].closed_ms == 30_000
    assert [e.kind for e in s.events].count(UNDO) == 1


def test_undo_walks_back_and_removes_errors_and_answers(study, clock):
    s = begin(study, clock)
    s.start()
    s.log_error("m")
    s.log_assist()
    s.undo()
    s.undo()
    assert s.state.tasks["one"].errors == 0 and s.state.tasks["one"].assists == 0
    assert not s.state.errors
    s.end("success")
    s.answer("seq", "seq", 6, task_id="one")
    s.undo()
    assert s.state.answer("seq", "seq", "one") is None
    s.undo()  # the end
    s.undo()  # the start
    assert s.state.tasks["one"].status == "pending"
    with pytest.raises(SessionError, match="nothing to undo"):
        s.undo()


def test_answers_are_validated_and_the_latest_wins(study, clock):
    s = begin(study, clock)
    s.answer("sus", "sus1", 4)
    s.answer("sus", "sus1", 5)  # corrected
    assert s.state.answer("sus", "sus1").value == 5
    with pytest.raises(SessionError, match="1 to 5, not 6"):
        s.answer("sus", "sus2", 6)
    with pytest.raises(SessionError, match="no item"):
        s.answer("sus", "sus11", 3)
    with pytest.raises(SessionError, match="no questionnaire"):
        s.answer("attrakdiff", "x", 3)
    with pytest.raises(SessionError, match="after one has ended"):
        s.answer("seq", "seq", 5, task_id="one")
    with pytest.raises(SessionError, match="whole number"):
        s.answer("nps", "nps", "ten")
    s.answer("nps", "nps", 0)
    assert s.state.answer("nps", "nps").value == 0


def test_a_failed_write_changes_nothing(study, clock):
    sink = ListSink()
    s = begin(study, clock, sink)
    s.start()
    before = s.state
    sink.fail = True
    with pytest.raises(OSError):
        s.end("success")
    assert s.state == before and len(s.events) == 2
    sink.fail = False
    s.end("success")
    assert [e.seq for e in s.events] == [1, 2, 3]


def test_complete_needs_every_task_ended_and_then_is_final(study, clock):
    s = begin(study, clock)
    with pytest.raises(SessionError, match="still open"):
        s.complete()
    for _ in range(3):
        s.end("skipped")
    s.complete()
    assert s.state.status == "completed"
    with pytest.raises(SessionError, match="completed"):
        s.log_note("late")


def test_resume_after_a_crash_keeps_time_up_to_the_last_event(study, clock):
    sink = ListSink()
    s = begin(study, clock, sink)
    s.start()
    clock.advance(12)
    s.log_assist()  # last event the crashed run wrote, 12 s in
    # The process dies; a new one starts with a monotonic clock from another origin.
    later = FakeClock(start_ms=5_000)
    order = list(s.state.order)
    again = Session.restore(study.scenario, order, sink.events, later, sink)
    one = again.state.tasks["one"]
    assert (one.status, one.pause_reason, one.closed_ms, one.interruptions) == (
        "paused", "interrupted", 12_000, 1,
    )  # fmt: skip
    assert again.events[-1].payload["interrupted_tasks"] == ["one"]
    assert again.run == 2
    again.resume()
    later.advance(8)
    again.end("success")
    assert again.state.tasks["one"].closed_ms == 20_000
    assert replay(order, sink.events) == again.state


def test_live_state_equals_replay_after_undo_across_a_resume(study, clock):
    sink = ListSink()
    s = begin(study, clock, sink)
    s.start()
    clock.advance(4)
    s.pause("phone")
    clock.advance(1)
    again = Session.restore(study.scenario, list(s.state.order), sink.events, FakeClock(0), sink)
    again.undo()  # undoes the pause from the previous run
    assert replay(list(again.state.order), sink.events) == again.state


def test_williams_square_is_balanced_for_first_order_carry_over():
    for n in range(2, 9):
        rows = williams_square(n)
        assert len(rows) == (n if n % 2 == 0 else 2 * n)
        for row in rows:
            assert sorted(row) == list(range(n))
        for col in range(n):  # every task appears equally often in every position
            assert len(Counter(row[col] for row in rows)) == n
        followers = Counter(pair for row in rows for pair in pairwise(row))
        assert len(followers) == n * (n - 1)
        assert len(set(followers.values())) == 1, f"unbalanced for n={n}"


def test_williams_square_matches_the_published_four_task_design():
    # Williams (1949) design for 4 treatments, as tabulated in e.g. Bradley (1958):
    # A B D C / B C A D / C D B A / D A C B
    letters = "ABCD"
    assert ["".join(letters[i] for i in row) for row in williams_square(4)] == [
        "ABDC", "BCAD", "CDBA", "DACB",
    ]  # fmt: skip


def test_task_order_modes(study):
    sc = study.scenario
    assert assign_order(sc, study.sha256, "P01", 1) == ["one", "two", "three"]
    latin = parse_scenario(STUDY_YAML.replace("task_order: fixed", "task_order: latin-square"))
    orders = {tuple(assign_order(latin.scenario, latin.sha256, f"P{i:02d}", i)) for i in range(1, 7)}
    assert len(orders) == 6  # 3 tasks, odd: 2n = 6 distinct rows
    assert assign_order(latin.scenario, latin.sha256, "P07", 7) == assign_order(
        latin.scenario, latin.sha256, "P01", 1
    )
    rnd = parse_scenario(STUDY_YAML.replace("task_order: fixed", "task_order: random"))
    first = assign_order(rnd.scenario, rnd.sha256, "P03", 3)
    assert first == assign_order(rnd.scenario, rnd.sha256, "P03", 99)  # reproducible
    assert sorted(first) == ["one", "three", "two"]
    seen = {tuple(assign_order(rnd.scenario, rnd.sha256, f"P{i}", i)) for i in range(40)}
    assert len(seen) == 6


def test_participant_number():
    assert participant_number("P07") == 7
    assert participant_number("lab2-p15") == 15
    assert participant_number("anna") is None


# ---------------------------------------------------------------------------------------------
# Property: any sequence of commands gives time on task = the sum of running intervals as an
# independent model measures them, and replaying the stored events gives the live state.

COMMANDS = st.lists(
    st.tuples(
        st.sampled_from(
            ["toggle", "end", "skip", "error", "assist", "note", "undo", "wait", "crash", "seq",
             "correct", "amend"]
        ),
        st.integers(min_value=0, max_value=90_000),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(COMMANDS)
def test_time_on_task_and_replay_property(commands):
    study = parse_scenario(STUDY_YAML)
    clock = FakeClock()
    sink = ListSink()
    s = begin(study, clock, sink)
    for name, ms in commands:
        try:
            if name == "wait":
                clock.advance(ms / 1000)
            elif name == "toggle":
                s.toggle()
            elif name == "end":
                s.end("success")
            elif name == "skip":
                s.end("skipped")
            elif name == "error":
                s.log_error("n")
            elif name == "assist":
                s.log_assist()
            elif name == "note":
                s.log_note("seen", "problem", severity=ms % 5)
            elif name == "undo":
                s.undo()
            elif name == "seq":
                ended = [t for t in s.state.order if s.state.tasks[t].status == "ended"]
                if ended:
                    s.answer("seq", "seq", 1 + ms % 7, task_id=ended[-1])
            elif name == "crash":
                clock = FakeClock(start_ms=ms)  # a new process: a new monotonic origin
                s = Session.restore(study.scenario, list(s.state.order), sink.events, clock, sink)
            elif name in ("correct", "amend"):
                ended = [t for t in s.state.order if s.state.tasks[t].status == "ended"]
                if ended:
                    fix = {"time_ms": ms, "errors": ms % 3, "outcome": "fail", "seq": 1 + ms % 7}
                    if name == "correct":  # in the app, during the session
                        s.correct(ended[0], fix, "wrong key")
                    else:  # `usetest amend` from another process, then the app resumes
                        other = Session.reopen(study.scenario, list(s.state.order), sink.events,
                                               FakeClock(start_ms=ms * 7), sink)  # fmt: skip
                        s = other  # the app is closed meanwhile (one app per session)
                        try:
                            other.correct(ended[-1], fix, "seen on the video")
                        finally:  # refused or not, the app resumes (amend never runs a clock)
                            if s.state.status == "in_progress":
                                clock = FakeClock(start_ms=ms)
                                s = Session.restore(study.scenario, list(s.state.order),
                                                    sink.events, clock, sink)  # fmt: skip
        except SessionError:
            pass
        assert replay(list(s.state.order), sink.events) == s.state
    expected = _model_times(sink.events)
    for task_id, task in s.state.tasks.items():
        assert task.closed_ms == expected.get(task_id, 0)


def _model_times(events: list[Event]) -> dict[str, int]:
    """Independent model: intervals from start/resume to pause/end in the same run.

    Undo removes the latest event in effect; a crash closes a running interval at the last
    event of its run. Written without the engine's helpers so it checks them.
    """
    kept: list[Event] = []
    for e in events:
        if e.kind == "undo":
            idx = max(i for i, k in enumerate(kept) if k.kind not in (
                "session_started", "session_resumed"))  # fmt: skip
            kept.pop(idx)
        else:
            kept.append(e)
    last_of_run: dict[int, int] = {}
    open_at: dict[str, tuple[int, int]] = {}
    total: dict[str, int] = {}
    keep = {e.seq for e in kept}
    for e in events:
        if e.kind == "session_resumed" and e.seq in keep:
            for task_id, (run, mono) in list(open_at.items()):
                total[task_id] = total.get(task_id, 0) + last_of_run[run] - mono
                del open_at[task_id]
        last_of_run[e.run] = e.mono_ms
        if e.seq not in keep:
            continue
        if e.kind in ("task_started", "task_resumed"):
            open_at[e.task_id] = (e.run, e.mono_ms)
        elif e.kind in ("task_paused", "task_ended") and e.task_id in open_at:
            run, mono = open_at.pop(e.task_id)
            total[e.task_id] = total.get(e.task_id, 0) + e.mono_ms - mono
    return total


def test_a_pause_can_be_recorded_as_of_the_key_press(study, clock):
    s = begin(study, clock)
    s.start()
    clock.advance(10)
    pressed = s.now()  # the moderator presses space, then types the reason for 4 s
    clock.advance(4)
    s.pause("fire alarm", at=pressed)
    assert s.state.tasks["one"].closed_ms == 10_000
    assert s.events[-1].mono_ms == pressed.mono_ms


def test_abandon_stops_a_running_clock_at_the_key(study, clock):
    s = begin(study, clock)
    s.start()
    clock.advance(10)
    pressed = s.now()  # `a` in the quit dialog; the reason takes 20 s to type
    clock.advance(20)
    s.abandon("participant had to leave", at=pressed)
    assert s.state.status == "abandoned"
    assert s.state.tasks["one"].closed_ms == 10_000
    assert [e.kind for e in s.events[-2:]] == ["task_paused", "session_abandoned"]
