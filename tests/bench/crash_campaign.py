"""Crash campaign: scripted sessions killed with SIGKILL at random moments, then checked.

Each round starts a child process that records into one study database, continuing the
session the previous round left unfinished (``recorder.resume``) or starting the next
participant's. Most children drive the engine directly (``--child``): after every command
returns, i.e. after its event is committed, the child prints ``ACK session seq kind``. A share
of rounds runs the real app (``usetest run``) in tmux and presses keys; there the moderator's
acknowledgement is the screen, so the errors/assists counters shown just before the kill are
what must be in the database. The parent kills the child at a random moment (during start-up,
between events or in the middle of a commit), then checks:

1. ``PRAGMA integrity_check`` is ``ok``;
2. every acknowledged event is stored, with its kind, and each session's seqs run 1..n;
3. the unfinished session resumes (``recorder.resume``): no task is left running, tasks that
   were running are reported as interrupted;
4. time on task is consistent: never negative, never more than the wall time since the task
   started, equal to the sum of its closed running intervals recomputed from the events
   (independently of the engine), and the ``attempts`` projection agrees with the replay.

Run::

    .venv/bin/python -m tests.bench.crash_campaign --kills 200            # ~10 % through tmux
    .venv/bin/python -m tests.bench.crash_campaign --kills 50 --tmux-share 0 --seed 7

It prints the figures (kills, survived, failures) and exits 1 if any round failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scenarios" / "demo.yaml"
USETEST = Path(sys.executable).with_name("usetest")

SCENARIO = """\
study: Crash campaign — ünïcode ✓ [bold]markup[/]
product: Fixture app
task_order: latin-square
error_types:
  - {key: n, name: navigation}
  - {key: m, name: misread label}
tasks:
  - id: one
    title: First task 🚀
    prompt: Do the first thing. [red]literal[/]
    time_limit: 1
  - id: two
    title: Second task
    prompt: Do the second thing.
  - id: three
    title: Third task
    prompt: Do the third thing.
    seq: false
questionnaires: [sus, umux-lite, nps]
"""

# ---------------------------------------------------------------------------------------------
# The child: records until killed.


def _ack(sid: int, event: object) -> None:
    print(f"ACK {sid} {event.seq} {event.kind}", flush=True)  # type: ignore[attr-defined]


def child(db_path: str, scenario_path: str, seed: int) -> None:
    """Continue the unfinished session or start the next one; act at random forever."""
    from usetest import recorder, store
    from usetest.events import SessionError
    from usetest.questionnaires import questionnaires_for
    from usetest.scenario import load_scenario

    rng = random.Random(seed)
    db = store.open_db(db_path)
    loaded = load_scenario(scenario_path)
    while True:
        unfinished = store.list_sessions(db, "in_progress")
        if unfinished:
            rec, _ = recorder.resume(db, unfinished[-1].id)
        else:
            code = store.next_participant_code(db)
            rec = recorder.start(db, loaded, code, moderator="campaign")
        s, sid = rec.session, rec.record.id
        _ack(sid, s.events[-1])
        surveys = [(q.id, i) for q in questionnaires_for(loaded.scenario) for i in q.items]
        while s.state.status == "in_progress":
            time.sleep(rng.random() * 0.01)
            task = s.state.active_task or s.state.current_task
            roll = rng.random()
            try:
                if task is None:  # questionnaires, then complete
                    todo = [(q, i) for q, i in surveys if s.state.answer(q, i.id) is None]
                    if todo:
                        q, item = todo[0]
                        value = rng.randint(item.min, item.max) if item.kind == "scale" else "ok"
                        event = s.answer(q, item.id, value)
                    else:
                        event = s.complete()
                elif roll < 0.35:
                    event = s.toggle()
                elif roll < 0.5:
                    event = s.log_error(rng.choice(["n", "m", None]), note=f"note {rng.random()}")
                elif roll < 0.6:
                    event = s.log_assist()
                elif roll < 0.7:
                    event = s.log_note("says “where is it?” \x1b[2J", kind="quote")
                elif roll < 0.75:
                    event = s.undo()
                elif roll < 0.88:
                    done = [t for t in s.state.order if s.state.tasks[t].status == "ended"
                            and s.state.answer("seq", "seq", t) is None]  # fmt: skip
                    if done:
                        event = s.answer("seq", "seq", rng.randint(1, 7), task_id=done[-1])
                    else:
                        event = s.toggle()
                else:
                    event = s.end(
                        rng.choice(["success", "partial", "fail", "abandoned", "skipped"])
                    )
            except SessionError:
                continue  # refused: nothing was recorded, nothing to acknowledge
            _ack(sid, event)


# ---------------------------------------------------------------------------------------------
# The parent: kill, check, resume.


@dataclass
class Figures:
    kills: int = 0
    survived: int = 0
    acknowledged: int = 0
    resumed: int = 0
    before_first_ack: int = 0
    """Kills during start-up (imports, opening, migrating, the session's first event)."""
    in_commit_window: int = 0
    """Kills after an event was committed but before the child could acknowledge it."""
    failures: list[str] = field(default_factory=list)
    by_mode: dict[str, int] = field(default_factory=dict)


def closed_intervals(events: list, task_id: str) -> int:  # type: ignore[type-arg]
    """Running time of a task from the events alone: the oracle the engine is checked against.

    An interval opens at task_started / task_resumed and closes at task_paused / task_ended in
    the same run; one left open when its run stopped closes at that run's last event (any
    event, undone or not: it proves the process was alive then).
    """
    from usetest.events import effective_events

    last_in_run: dict[int, int] = {}
    for e in events:
        last_in_run[e.run] = e.mono_ms
    total, open_at = 0, None
    for e in effective_events(events):
        if open_at is not None and e.run != open_at[0]:  # the run that opened it has ended
            total += last_in_run[open_at[0]] - open_at[1]
            open_at = None
        if e.task_id != task_id:
            continue
        if e.kind in ("task_started", "task_resumed"):
            open_at = (e.run, e.mono_ms)
        elif e.kind in ("task_paused", "task_ended") and open_at is not None:
            total += e.mono_ms - open_at[1]
            open_at = None
    return total


def _ms_since(at: str, now: datetime) -> float:
    started = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return (now - started).total_seconds() * 1000


def check(db_path: Path, acked: list[tuple[int, int, str]], shown: tuple[int, int] | None,
          figures: Figures) -> list[str]:  # fmt: skip
    """Everything that must hold after a kill; returns the problems found."""
    from usetest import recorder, store
    from usetest.events import replay

    problems: list[str] = []
    if not db_path.exists():
        return problems if not acked else [f"{len(acked)} events acknowledged, no database"]
    db = store.open_db(db_path)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            problems.append(f"integrity_check: {integrity}")
        stored = {
            (sid, seq): kind
            for sid, seq, kind in db.execute("SELECT session_id, event_seq, kind FROM events")
        }
        for sid, seq, kind in acked:
            if stored.get((sid, seq)) != kind:
                problems.append(
                    f"acknowledged event {sid}/{seq} {kind} is {stored.get((sid, seq))}"
                )
        for rec in store.list_sessions(db):
            events = store.load_events(db, rec.id)
            seqs = [e.seq for e in events]
            if seqs != list(range(1, len(seqs) + 1)):
                problems.append(f"session {rec.id} seqs have gaps: {seqs[:5]}…")
            if events and events[0].kind != "session_started":
                problems.append(f"session {rec.id} begins with {events[0].kind}")
        unfinished = store.list_sessions(db, "in_progress")
        if len(unfinished) > 1:
            problems.append(f"{len(unfinished)} unfinished sessions")
        for rec in unfinished:
            before = replay(rec.order, store.load_events(db, rec.id))
            running = tuple(t for t in rec.order if before.tasks[t].status == "running")
            if shown is not None:  # the app's counters on screen just before the kill
                task = before.active_task or before.current_task
                counts = (before.tasks[task].errors, before.tasks[task].assists) if task else None
                if counts != shown:
                    problems.append(f"screen showed errors/assists {shown}, database has {counts}")
            again, info = recorder.resume(db, rec.id)
            figures.resumed += 1
            if info.interrupted_tasks != running:
                problems.append(f"interrupted {info.interrupted_tasks}, was running {running}")
            state = again.session.state
            events = list(again.session.events)
            now = datetime.now(UTC)
            for task_id in rec.order:
                t = state.tasks[task_id]
                if t.status == "running":
                    problems.append(f"{task_id} still running after resume")
                if t.closed_ms < 0 or t.pause_ms < 0:
                    problems.append(f"{task_id}: negative time {t.closed_ms} / {t.pause_ms}")
                if t.started_at and t.closed_ms > _ms_since(t.started_at, now) + 5:
                    problems.append(f"{task_id}: {t.closed_ms} ms on task is more than the "
                                    f"{_ms_since(t.started_at, now):.0f} ms since it started")  # fmt: skip
                oracle = closed_intervals(events, task_id)
                if t.closed_ms != oracle:
                    problems.append(f"{task_id}: engine says {t.closed_ms} ms, intervals sum "
                                    f"to {oracle} ms")  # fmt: skip
                row = db.execute(
                    "SELECT time_ms, errors, assists FROM attempts WHERE session_id = ? AND task_id = ?",
                    [rec.id, task_id],
                ).fetchone()
                if row is None or tuple(row) != (t.closed_ms, t.errors, t.assists):
                    problems.append(f"{task_id}: attempts row {row} differs from the replay "
                                    f"{(t.closed_ms, t.errors, t.assists)}")  # fmt: skip
            total = sum(t.closed_ms for t in state.tasks.values())
            if total > _ms_since(rec.started_at, now) + 5:
                problems.append(f"session time on task {total} ms exceeds its wall time")
    except Exception as exc:  # a crash of the checks is a finding, not an abort
        problems.append(f"check raised {type(exc).__name__}: {exc}")
    finally:
        db.close()
    return problems


def _read_acks(stream, into: list[tuple[int, int, str]]) -> None:  # type: ignore[no-untyped-def]
    for line in stream:
        parts = line.split()
        if len(parts) == 4 and parts[0] == "ACK":
            into.append((int(parts[1]), int(parts[2]), parts[3]))


def engine_round(db_path: Path, scenario: Path, rng: random.Random) -> tuple[list, None]:  # type: ignore[type-arg]
    """One child driving the engine, killed after a random delay; returns its acknowledgements."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.crash_campaign", "--child", str(db_path),
         str(scenario), str(rng.randrange(2**32))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    acked: list[tuple[int, int, str]] = []
    reader = threading.Thread(target=_read_acks, args=(proc.stdout, acked), daemon=True)
    reader.start()
    if rng.random() < 0.25:  # a quarter of the kills land in start-up: imports, open, migrate
        time.sleep(rng.uniform(0.02, 0.6))
    else:  # the rest while the session is being recorded
        deadline = time.monotonic() + 30
        while not acked and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.8))
    if proc.poll() is not None:
        raise RuntimeError(f"the child died on its own:\n{proc.stderr.read()}")  # type: ignore[union-attr]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join(5)
    proc.stderr.close()  # type: ignore[union-attr]
    return acked, None


_COUNTERS = re.compile(r"errors (\d+)\s+assists (\d+)")


def tmux_round(db_path: Path, rng: random.Random) -> tuple[list, tuple[int, int] | None]:  # type: ignore[type-arg]
    """The real app in tmux: random moderator keys, then SIGKILL; returns the shown counters."""
    from usetest import store

    resume = False
    if db_path.exists():
        db = store.open_db(db_path)
        resume = bool(store.list_sessions(db, "in_progress"))
        code = store.next_participant_code(db)
        db.close()
    else:
        code = "P01"
    from tests.conftest import DEMO_PROFILE_ARGS
    from tests.test_e2e_tmux import Terminal

    who = "--resume" if resume else f"--participant {code} --consent {DEMO_PROFILE_ARGS}"

    term = Terminal(f"{USETEST} run {DEMO} --db {db_path} {who}")
    shown = None
    try:
        pid = _app_pid(term)
        if resume:
            term.wait_for("Unfinished sessions", timeout=20)
            term.keys("Enter")
        else:
            term.wait_for("Bookmark", timeout=20)
        deadline = time.monotonic() + rng.uniform(0.3, 3.0)
        while time.monotonic() < deadline:
            key = rng.choice(["Space", "Space", "a", "e", "Enter", "s", "f", "x", "u", "4",
                              "Escape", "n", "Enter"])  # fmt: skip
            term.keys(key, pause=rng.uniform(0.02, 0.2))
        time.sleep(0.3)  # let the last key's write finish and the screen show it
        screen = term.screen()
        match = _COUNTERS.search(screen)
        shown = (int(match.group(1)), int(match.group(2))) if match else None
        if "EXIT=" in screen:
            history = term._tmux("capture-pane", "-p", "-S", "-20000").splitlines()
            frames = [line for line in history if re.search(r"\.py:\d+ in |Error|❱", line)]
            raise RuntimeError(
                "the app ended before the kill:\n" + "\n".join(frames + history[-4:])
            )
        os.kill(pid, signal.SIGKILL)
        _wait_until_dead(pid)  # the kernel tears it down a moment later; its claim ends then
    finally:
        term.close()
    return [], shown


def _wait_until_dead(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.02)


def _app_pid(term, timeout: float = 10) -> int:  # type: ignore[no-untyped-def]
    """The pid of the app the pane's shell started (the shell stays, to show how it ended)."""
    shell = int(term._tmux("list-panes", "-F", "#{pane_pid}").split()[0])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.02)
    raise RuntimeError("the app did not start")


def _classify(db_path: Path, acked: list[tuple[int, int, str]], figures: Figures) -> None:
    """Where the kill landed, as far as the database can tell."""
    if not acked:
        figures.before_first_ack += 1
        return
    sid, last_acked, _ = acked[-1]
    conn = sqlite3.connect(db_path)
    try:
        (last_stored,) = conn.execute(
            "SELECT max(event_seq) FROM events WHERE session_id = ?", [sid]
        ).fetchone()
    finally:
        conn.close()
    if last_stored is not None and last_stored > last_acked:
        figures.in_commit_window += 1


def campaign(kills: int, seed: int, tmux_share: float, workdir: Path,
             log=print) -> Figures:  # type: ignore[no-untyped-def]  # fmt: skip
    rng = random.Random(seed)
    figures = Figures()
    scenario = workdir / "campaign.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    use_tmux = tmux_share > 0 and shutil.which("tmux") is not None and USETEST.exists()
    engine_db, app_db = workdir / "engine.db", workdir / "app.db"
    for i in range(kills):
        mode = "tmux" if use_tmux and rng.random() < tmux_share else "engine"
        try:
            if mode == "tmux":
                acked, shown = tmux_round(app_db, rng)
                db_path = app_db
            else:
                acked, shown = engine_round(engine_db, scenario, rng)
                db_path = engine_db
        except Exception as exc:  # report it and go on with the next round
            figures.kills += 1
            figures.failures.append(f"round {i} ({mode}): {type(exc).__name__}: {exc}")
            continue
        figures.kills += 1
        figures.by_mode[mode] = figures.by_mode.get(mode, 0) + 1
        figures.acknowledged += len(acked)
        if mode == "engine":
            _classify(db_path, acked, figures)
        problems = check(db_path, acked, shown, figures)
        if problems:
            figures.failures.extend(f"round {i} ({mode}): {p}" for p in problems)
        else:
            figures.survived += 1
        if (i + 1) % 20 == 0:
            log(f"  {i + 1}/{kills} kills, {figures.survived} survived")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--tmux-share",
        type=float,
        default=0.1,
        help="share of rounds run through the real app in tmux (0 to skip)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--child", nargs=3, metavar=("DB", "SCENARIO", "SEED"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    workdir = Path(tempfile.mkdtemp(prefix="usetest-crash-"))
    started = time.monotonic()
    print(f"crash campaign: {args.kills} kills, seed {seed}, tmux share {args.tmux_share}, "
          f"in {workdir}")  # fmt: skip
    figures = campaign(args.kills, seed, args.tmux_share, workdir)
    print(json.dumps({
        "kills": figures.kills, "survived": figures.survived,
        "failures": len(figures.failures), "by_mode": figures.by_mode,
        "acknowledged_events": figures.acknowledged, "resumes_checked": figures.resumed,
        "killed_before_first_ack": figures.before_first_ack,
        "killed_between_commit_and_ack": figures.in_commit_window,
        "seconds": round(time.monotonic() - started, 1), "seed": seed,
    }, indent=2))  # fmt: skip
    for failure in figures.failures[:50]:
        print("FAIL", failure)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if figures.failures else 0


if __name__ == "__main__":
    sys.exit(main())
