"""An analyst summarising and exporting while a session is logged: nobody waits, nothing is lost.

A writer process records whole sessions (every event acknowledged on stdout after its commit)
while two reader processes run ``summarise`` and ``export`` in a loop. No ``database is locked``
(or any other error) may reach either side, and every acknowledged event must be in the
database afterwards, as must each session the summaries counted.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from tests.conftest import ROOT, STUDY_YAML
from usetest import store
from usetest.analysis import summarise
from usetest.store import open_db

SESSIONS = 5

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from usetest import recorder
    from usetest.questionnaires import questionnaires_for
    from usetest.scenario import load_scenario
    from usetest.store import open_db

    db = open_db(sys.argv[1])
    loaded = load_scenario(sys.argv[2])

    ready = Path(sys.argv[4])

    def ack(event):
        print("ACK", rec.record.id, event.seq, flush=True)
        time.sleep(0.005)  # a moderator's pace, sped up: the readers get many rounds in

    for n in range(1, int(sys.argv[3]) + 1):
        rec = recorder.start(db, loaded, f"P{n:02d}")
        s = rec.session
        ack(s.events[-1])
        for task in s.state.order:
            ack(s.start(task))
            for i in range(8):
                ack(s.log_error("n", note=f"note {i}") if i % 2 else s.log_assist())
                ack(s.log_note(f"quote {i} from P{n:02d}", kind="quote"))
            ack(s.end("success" if n % 3 else "fail"))
            if loaded.scenario.task(task).seq:
                ack(s.answer("seq", "seq", 1 + n % 7, task_id=task))
        for q in questionnaires_for(loaded.scenario):
            for item in q.items:
                ack(s.answer(q.id, item.id, item.min + n % (item.max - item.min + 1)))
        ack(s.complete())
        print("COMPLETED", n, flush=True)
        deadline = time.monotonic() + 30
        while n == 1 and len(list(ready.glob("ready-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # go on once both readers are reading
    """
)

READER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from usetest.analysis import summarise
    from usetest.export import export

    db, out, what, stop = sys.argv[1], Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    seen = []
    (stop.parent / f"ready-{what}").touch()
    while not stop.exists():
        try:
            if what == "summary":
                seen.append(len(summarise(db).sessions))
            else:
                files = export(db, out / f"round{len(seen) % 2}", "csv",
                               pseudonymise=len(seen) % 2 == 1)
                seen.append(len(files))
        except Exception as exc:
            print("ERROR", type(exc).__name__, exc, file=sys.stderr, flush=True)
    print(" ".join(map(str, seen)), flush=True)
    """
)


def test_summaries_and_exports_in_a_loop_do_not_block_or_lose_a_session(tmp_path):
    scenario = tmp_path / "study.yaml"
    scenario.write_text(STUDY_YAML, encoding="utf-8")
    db_path = tmp_path / "study.db"
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path), str(scenario), str(SESSIONS), str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert writer.stdout is not None
    acked: list[tuple[int, int]] = []
    readers: dict[str, subprocess.Popen[str]] = {}
    for line in writer.stdout:
        if line.startswith("ACK"):
            _, sid, seq = line.split()
            acked.append((int(sid), int(seq)))
        elif line.startswith("COMPLETED 1") and not readers:
            # One session is complete, so there is something to summarise: start the readers.
            readers = {
                what: subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        READER,
                        str(db_path),
                        str(tmp_path / what),
                        what,
                        str(stop),
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    cwd=ROOT,
                )
                for what in ("summary", "export")
            }
    writer_err = writer.stderr.read() if writer.stderr else ""
    assert writer.wait(60) == 0, writer_err
    assert writer_err == ""  # no "database is locked", no other error either
    time.sleep(1.0)  # a last round or two over the finished study
    stop.touch()
    seen: dict[str, list[int]] = {}
    for what, reader in readers.items():
        out, err = reader.communicate(timeout=120)
        assert reader.returncode == 0, err
        assert err == "", err  # no "database is locked" (nor anything else) on the reading side
        seen[what] = [int(n) for n in out.split()]
    assert len(seen["summary"]) >= 3 and len(seen["export"]) >= 2, seen
    # Sessions appear as they complete and never disappear: each summary read a consistent state.
    assert seen["summary"] == sorted(seen["summary"]) and seen["summary"][-1] == SESSIONS
    assert seen["summary"][0] >= 1

    db = open_db(db_path)
    stored = set(db.execute("SELECT session_id, event_seq FROM events").fetchall())
    assert set(acked) <= stored and len(stored) == len(acked)
    assert len(store.list_sessions(db, "completed")) == SESSIONS
    db.close()
    assert len(summarise(db_path).sessions) == SESSIONS
