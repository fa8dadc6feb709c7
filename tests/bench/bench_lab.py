"""The lab around a session, measured through real terminals (tmux), not Pilot.

1. An observer's note → the moderator's screen: the note is posted as ``usetest observe`` posts
   it (one insert into the inbox); the clock stops when its text is on the moderator's pane.
2. The moderator's keypress → committed → drawn: ``a`` (assist) in the moderator's terminal;
   the clock stops when the assist counter on the pane has moved. Measured alone and with two
   observers and a participant screen (``usetest show``, when installed) following the same
   database, in interleaved blocks; the figure is the ratio of the medians.

The floor is one ``tmux capture-pane`` round trip (what every reading of the pane costs), taken
in the same run. Prints ``FIGURE | ours | floor | ratio`` lines. Run on demand (not in the test
suite):

    .venv/bin/python -m tests.bench.bench_lab [--notes 30 --keys 40 --blocks 4] [--large]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import DEMO_PROFILE_ARGS, ROOT
from usetest import observe, store

USETEST = Path(sys.executable).with_name("usetest")


class Pane:
    def __init__(self, command: str, width: int = 120, height: int = 40) -> None:
        self.socket = f"usetest-bench-{uuid.uuid4().hex[:8]}"
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), command)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              check=True).stdout  # fmt: skip

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def wait_for(self, text: str, timeout: float = 20.0) -> float:
        """Seconds until ``text`` is on the pane."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if text in self.screen():
                return time.perf_counter() - t0
        raise RuntimeError(f"{text!r} did not appear:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_moderator(db_path: Path, code: str) -> Pane:
    scenario = ROOT / "scenarios" / "demo.yaml"
    pane = Pane(f"{USETEST} run {scenario} --db {db_path} --participant {code} --consent "
                f"{DEMO_PROFILE_ARGS}")  # fmt: skip
    pane.wait_for("Task 1 of")
    pane.tmux("send-keys", "space")
    pane.wait_for("running")
    return pane


def note_latency(db_path: Path, n: int) -> list[float]:
    pane = start_moderator(db_path, "N01")
    db = store.open_db(db_path, create=False)
    db.execute("PRAGMA busy_timeout = 2000")
    out = []
    try:
        for i in range(n):
            live = observe.follow(db)
            assert live is not None
            text = f"bench note {i:03d}"
            t0 = time.perf_counter()
            observe.send_note(db, live, "KL", "observation", text, None, datetime.now(UTC))
            pane.wait_for(text, timeout=10)
            out.append(time.perf_counter() - t0)
            time.sleep(0.05)
    finally:
        pane.close()
        db.close()
    return out


def assists_shown(screen: str) -> int | None:
    for line in screen.splitlines():
        if "assists" in line:
            try:
                return int(line.split("assists")[1].split()[0])
            except (IndexError, ValueError):
                return None
    return None


def key_latency(pane: Pane, n: int) -> list[float]:
    out = []
    for _ in range(n):
        before = assists_shown(pane.screen())
        assert before is not None, pane.screen()
        t0 = time.perf_counter()
        pane.tmux("send-keys", "a")
        while assists_shown(pane.screen()) != before + 1:
            if time.perf_counter() - t0 > 10:
                raise RuntimeError("the assist was not drawn")
        out.append(time.perf_counter() - t0)
        time.sleep(0.03)
    return out


def attach_followers(db_path: Path) -> list[Pane]:
    followers = [Pane(f"{USETEST} observe {db_path} --observer O{i}") for i in (1, 2)]
    has_show = subprocess.run([str(USETEST), "show", "--help"], capture_output=True).returncode == 0
    if has_show:
        followers.append(Pane(f"{USETEST} show {db_path}"))
    for pane in followers[:2]:
        pane.wait_for("Task 1 of")
    time.sleep(0.5)
    return followers


def main() -> None:
    parser = argparse.ArgumentParser(description="observers and the participant screen")
    parser.add_argument("--notes", type=int, default=30)
    parser.add_argument("--keys", type=int, default=40, help="key presses per block")
    parser.add_argument("--blocks", type=int, default=4, help="interleaved blocks per condition")
    parser.add_argument("--large", action="store_true", help="twice the notes, keys and blocks")
    args = parser.parse_args()
    if args.large:
        args.notes, args.keys, args.blocks = args.notes * 2, args.keys * 2, args.blocks * 2
    with tempfile.TemporaryDirectory() as tmp:
        floor_pane = Pane("sleep 600")
        floor = []
        for _ in range(50):
            t0 = time.perf_counter()
            floor_pane.screen()
            floor.append(time.perf_counter() - t0)
        floor_pane.close()
        notes = note_latency(Path(tmp) / "notes.db", args.notes)
        db_path = Path(tmp) / "keys.db"
        moderator = start_moderator(db_path, "K01")
        alone: list[float] = []
        watched: list[float] = []
        try:
            for _ in range(args.blocks):
                alone += key_latency(moderator, args.keys)
                followers = attach_followers(db_path)
                try:
                    watched += key_latency(moderator, args.keys)
                finally:
                    for pane in followers:
                        pane.close()
        finally:
            moderator.close()
    ms = 1000
    read = statistics.median(floor)
    a, w = statistics.median(alone), statistics.median(watched)
    print(f"# bench_lab: {len(notes)} notes; {len(alone)} keys alone and {len(watched)} watched "
          f"(2 observers + show), in {args.blocks} interleaved blocks; through tmux")
    print("FIGURE | ours | floor | ratio")
    note95 = percentile(notes, 0.95) * ms
    print(f"lab: observer note -> moderator's screen, p95 ms (floor: one capture-pane read; "
          f"target p95 <= 1000 ms) | {note95:.1f} | {read * ms:.1f} | {note95 / (read * ms):.1f}x")
    print(f"lab: key -> drawn with 2 observers + show, median ms (floor: the app alone; "
          f"target <= 1.1x) | {w * ms:.1f} | {a * ms:.1f} | {w / a:.2f}x")
    print(f"# note median {statistics.median(notes) * ms:.0f} ms; key alone p95 "
          f"{percentile(alone, 0.95) * ms:.1f} ms, watched p95 {percentile(watched, 0.95) * ms:.1f}"
          f" ms; in capture-pane reads: alone {a / read:.1f}, watched {w / read:.1f}")

if __name__ == "__main__":
    main()
