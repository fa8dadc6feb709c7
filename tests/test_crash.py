"""A process killed between two events loses no committed event and its session resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from usetest import recorder, store
from usetest.store import open_db

WRITER = textwrap.dedent(
    """
    import sys
    from usetest import recorder
    from usetest.scenario import load_scenario
    from usetest.store import open_db

    db = open_db(sys.argv[1])
    rec = recorder.start(db, load_scenario(sys.argv[2]), "P01")
    s = rec.session
    s.start()
    print("ACK", s.events[-1].seq, flush=True)
    i = 0
    while True:  # log until killed; ACK only after the call returned (= committed)
        i += 1
        if i % 7 == 0:
            s.pause("break"); print("ACK", s.events[-1].seq, flush=True)
            s.resume()
        elif i % 3 == 0:
            s.log_error("n", note=f"error {i}")
        else:
            s.log_assist()
        print("ACK", s.events[-1].seq, flush=True)
    """
)


def test_sigkill_between_events_keeps_every_acknowledged_event(tmp_path):
    scenario = tmp_path / "study.yaml"
    from tests.conftest import STUDY_YAML

    scenario.write_text(STUDY_YAML)
    db_path = tmp_path / "study.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path), str(scenario)],
        stdout=subprocess.PIPE,
        text=True,
    )
    acked: list[int] = []
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while len(acked) < 150 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:  # the writer died on its own: fail below with its stderr
            break
        if line.startswith("ACK"):
            acked.append(int(line.split()[1]))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(acked) >= 150, "the writer did not get going"

    db = open_db(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    [session] = store.list_sessions(db, "in_progress")
    seqs = [e.seq for e in store.load_events(db, session.id)]
    assert set(acked) <= set(seqs)
    assert seqs == list(range(1, len(seqs) + 1))  # no gap, nothing half-written

    again, info = recorder.resume(db, session.id)
    assert info.interrupted_tasks in ((), ("one",))
    one = again.session.state.tasks["one"]
    assert one.status == "paused"
    assert one.errors == db.execute("SELECT count(*) FROM errors").fetchone()[0]
    again.session.resume()
    again.session.end("success")
    row = db["attempts"].get((session.id, "one"))
    assert row["outcome"] == "success" and row["assists"] == one.assists
