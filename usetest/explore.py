"""``usetest datasette``: a study database in Datasette, explained.

Datasette (an optional extra: ``pip install 'usetest[datasette]'``) is started on the database
with metadata built here: a title and description, label columns (links to a session show the
participant's code), a description with its unit for every column (:mod:`usetest.dictionary`)
and canned queries (:data:`QUERIES`) for the figures analysts ask for first. The file is
checked as every reader checks it (:func:`usetest.store.open_read`); one in a read-only
folder or medium is opened immutable (``-i``), one from an older usetest is served as a
migrated copy so that the ``tasks`` table and the ``task_attempts`` view are there.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from usetest import dictionary, store
from usetest.errors import UsetestError


class ExploreError(UsetestError):
    """Datasette cannot be started on this database; the message says what to do."""


INSTALL_HINT = ("Datasette is not installed: pip install 'usetest[datasette]' (or pip install "
                "datasette) in the environment usetest runs from")  # fmt: skip

_COMPLETED = "SELECT id FROM sessions WHERE status = 'completed'"

_TITLES = """titled AS (
    SELECT t.task_id, t.title, t.position,
           row_number() OVER (PARTITION BY t.task_id ORDER BY sc.version DESC) AS newest
    FROM tasks t JOIN scenarios sc ON sc.id = t.scenario_id WHERE sc.version IS NOT NULL)"""

QUERIES: dict[str, dict[str, str]] = {
    "completion_by_task": {
        "title": "Completion by task",
        "description": "Per task, the completed sessions' attempts (success, partial, fail, "
                       "abandoned; skipped tasks are no attempt) and the share of successes. "
                       "usetest summary gives the same counts with adjusted-Wald intervals, and "
                       "counts partial as success where the scenario says "
                       "partial_counts_as_success (completion_with_partial_pct here).",
        "sql": f"""WITH {_TITLES}
SELECT a.task_id, ti.title,
       count(*) AS attempts,
       sum(a.outcome = 'success') AS successes,
       sum(a.outcome = 'partial') AS partial,
       sum(a.outcome = 'fail') AS failures,
       sum(a.outcome = 'abandoned') AS abandoned,
       round(100.0 * sum(a.outcome = 'success') / count(*), 1) AS completion_pct,
       round(100.0 * sum(a.outcome IN ('success', 'partial')) / count(*), 1)
           AS completion_with_partial_pct
FROM attempts a LEFT JOIN titled ti ON ti.task_id = a.task_id AND ti.newest = 1
WHERE a.outcome IN ('success', 'partial', 'fail', 'abandoned')
  AND a.session_id IN ({_COMPLETED})
GROUP BY a.task_id
ORDER BY ti.position, a.task_id""",
    },
    "sus_by_participant": {
        "title": "SUS score by participant",
        "description": "Each completed session's System Usability Scale score, 0–100 (Brooke "
                       "1996: odd items r − 1, even items 5 − r, the sum × 2.5; with one item "
                       "declined, the nine × 100/36, Lewis & Sauro 2017). No score when two or "
                       "more items were declined or not answered.",
        "sql": f"""WITH items AS (
    SELECT session_id,
           count(value_num) AS answered,
           sum(CASE WHEN CAST(substr(item, 4) AS INTEGER) % 2 = 1 THEN value_num - 1
                    ELSE 5 - value_num END) AS points
    FROM answers
    WHERE questionnaire = 'sus' AND task_id = '' AND value_num IS NOT NULL
    GROUP BY session_id)
SELECT s.participant, s.condition, i.answered AS items_answered,
       CASE i.answered WHEN 10 THEN round(i.points * 2.5, 2)
                       WHEN 9 THEN round(i.points * 100.0 / 36, 2) END AS sus
FROM items i JOIN sessions s ON s.id = i.session_id
WHERE s.id IN ({_COMPLETED})
ORDER BY s.participant""",
    },
    "time_by_task": {
        "title": "Time on task by task (successful attempts)",
        "description": "Per task, the completed sessions' successful attempts: how many, the "
                       "shortest, longest and mean time in seconds. usetest summary reports the "
                       "geometric mean with its interval (Sauro & Lewis 2016, ch. 3), which suits "
                       "skewed task times better than this arithmetic mean.",
        "sql": f"""WITH {_TITLES}
SELECT a.task_id, ti.title, count(*) AS successes,
       round(min(a.time_ms) / 1000.0, 1) AS min_s,
       round(avg(a.time_ms) / 1000.0, 1) AS mean_s,
       round(max(a.time_ms) / 1000.0, 1) AS max_s
FROM attempts a LEFT JOIN titled ti ON ti.task_id = a.task_id AND ti.newest = 1
WHERE a.outcome = 'success' AND a.session_id IN ({_COMPLETED})
GROUP BY a.task_id
ORDER BY ti.position, a.task_id""",
    },
    "problems": {
        "title": "Problems by severity",
        "description": "Every problem noted (moderator or observer), worst first: severity 0–4 "
                       "on Nielsen's scale, the task and participant.",
        "sql": """SELECT n.severity, n.text, n.task_id, s.participant, n.author, n.logged_at
FROM notes n JOIN sessions s ON s.id = n.session_id
WHERE n.kind = 'problem'
ORDER BY n.severity DESC, n.logged_at""",
    },
    "participant_log": {
        "title": "One participant's log",
        "description": "The audit trail of one participant: every event in order.",
        "sql": """SELECT e.event_seq, e.at, e.kind, e.task_id, e.payload
FROM events e JOIN sessions s ON s.id = e.session_id
WHERE s.participant = :participant
ORDER BY e.event_seq""",
    },
}
"""Canned queries: name -> Datasette's ``title``, ``description`` and ``sql``."""

_LABELS = {"sessions": "participant", "scenarios": "study", "tasks": "title"}
"""Datasette's label columns: what a link to a row of the table shows."""


def metadata(name: str, study: str | None) -> dict[str, Any]:
    """Datasette's metadata for the database Datasette calls ``name`` (its file name's stem)."""
    tables: dict[str, Any] = {}
    for table, description in dictionary.TABLES.items():
        entry: dict[str, Any] = {"description": description,
                                 "columns": dict(dictionary.COLUMNS[table])}  # fmt: skip
        if table in _LABELS:
            entry["label_column"] = _LABELS[table]
        tables[table] = entry
    return {
        "title": f"usetest: {study}" if study else "usetest study",
        "description": "A usetest study database. Each table and column says what it holds "
                       "(hover a column heading); the canned queries below the tables give the "
                       "first figures. `usetest summary` and `usetest report` give the "
                       "statistics with their intervals.",
        "databases": {name: {"tables": tables, "queries": QUERIES}},
    }


@dataclass(frozen=True)
class Served:
    """What Datasette is started on: the file, its name there, and whether it is immutable."""

    path: Path
    name: str
    immutable: bool
    study: str | None
    note: str | None = None


@contextlib.contextmanager
def served(path: Path) -> Iterator[Served]:
    """Check ``path`` as every reader does and give what Datasette should open: the file
    itself (immutable when its folder or the file cannot be written), or a migrated copy of a
    file from an older usetest (removed afterwards)."""
    db = store.open_read(path)
    try:
        study = store.study_title(db)
        if not db.memory:  # the file itself; a file of an older schema is read migrated, in memory
            immutable = (getattr(db.conn, "immutable", False)
                         or not os.access(path, os.W_OK)
                         or not os.access(path.parent, os.W_OK | os.X_OK))  # fmt: skip
            db.close()
            yield Served(path, path.stem, immutable, study)
            return
        with tempfile.TemporaryDirectory(prefix="usetest-datasette-") as tmp:
            copy = Path(tmp) / path.name
            store.write_copy(db, copy)
            db.close()
            note = (f"{path} is from an older usetest: Datasette shows a copy brought up to "
                    "date (the tasks table, the task_attempts view), and the file stays as it "
                    "is")  # fmt: skip
            yield Served(copy, path.stem, True, study, note)
    finally:
        with contextlib.suppress(Exception):
            db.close()


def datasette_args(target: Served, metadata_file: Path, options: Sequence[str]) -> list[str]:
    """Datasette's command line: ``serve``, the database (``-i`` when immutable), the metadata,
    then the user's options as given."""
    where = ["-i", str(target.path)] if target.immutable else [str(target.path)]
    return ["serve", *where, "--metadata", str(metadata_file), *options]


def available() -> bool:
    return importlib.util.find_spec("datasette") is not None


def run(path: Path, options: Sequence[str], say: Any = None) -> int:
    """Start Datasette on ``path`` with usetest's metadata and ``options``; its exit code."""
    if any(o in ("-m", "--metadata") or o.startswith("--metadata=") for o in options):
        raise ExploreError("usetest datasette gives Datasette its own metadata (--metadata): "
                           "to add yours, run datasette yourself with usetest's metadata merged "
                           "into your file (usetest datasette DB --print-metadata writes it)")  # fmt: skip
    if not available():
        raise ExploreError(INSTALL_HINT)
    with served(path) as target, tempfile.TemporaryDirectory(prefix="usetest-meta-") as tmp:
        if target.note and say is not None:
            say(target.note)
        meta = Path(tmp) / "metadata.json"
        meta.write_text(json.dumps(metadata(target.name, target.study), ensure_ascii=False),
                        encoding="utf-8")  # fmt: skip
        command = [sys.executable, "-m", "datasette", *datasette_args(target, meta, options)]
        try:
            return subprocess.call(command)
        except KeyboardInterrupt:
            return 130
