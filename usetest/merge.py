"""Merge study databases from several lab machines into one.

Sessions are identified by their ``uid`` (a UUID made when the session began), so merging the
same file twice adds nothing the second time. All sources must have run the same scenario
(the same content hash); otherwise the merge is refused before anything is written. A
participant code used for two different sessions in different files is refused too, naming
the clash, because codes identify participants in every summary.

Events are copied as they are (append-only), and the projections (attempts, answers, errors,
notes) are copied with them, re-keyed to the session ids of the target database.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from usetest import store
from usetest.store import StoreError

PROJECTIONS = ("attempts", "answers", "errors", "notes")


class MergeError(Exception):
    """The databases cannot be merged; the message says why and nothing was written."""


@dataclass(frozen=True)
class MergeResult:
    added: int
    already_there: int


def _read(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise MergeError(f"{path} does not exist")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("SELECT 1 FROM sessions LIMIT 1")
    except sqlite3.DatabaseError as exc:
        raise MergeError(f"{path} is not a usetest database ({exc})") from exc
    return conn


def merge(sources: list[Path], target: Path) -> MergeResult:
    """Copy every session of ``sources`` into ``target`` (created if missing)."""
    conns = {src: _read(src) for src in sources}
    hashes = {src: {r[0] for r in c.execute("SELECT sha256 FROM scenarios")}
              for src, c in conns.items()}  # fmt: skip
    try:
        db = store.open_db(target)
    except StoreError as exc:
        raise MergeError(str(exc)) from exc
    target_hashes = {r[0] for r in db.execute("SELECT sha256 FROM scenarios")}
    all_hashes = set().union(*hashes.values(), target_hashes)
    if len(all_hashes) > 1:
        detail = "; ".join(f"{p}: {', '.join(h[:12] for h in sorted(hs)) or 'none'}"
                           for p, hs in hashes.items())  # fmt: skip
        raise MergeError("the databases ran different scenario versions, so their numbers "
                         f"would not be comparable ({detail}) — merge only files of one version")  # fmt: skip
    existing = {r[0]: r[1] for r in db.execute("SELECT uid, participant FROM sessions")}
    codes = {p: u for u, p in existing.items()}
    plan = []
    for src, c in conns.items():
        for s in c.execute("SELECT * FROM sessions ORDER BY id"):
            if s["uid"] in existing:
                continue
            if s["participant"] in codes and codes[s["participant"]] != s["uid"]:
                raise MergeError(f"participant code {s['participant']} names two different "
                                 f"sessions (one in {src}) — rename one before merging")  # fmt: skip
            codes[s["participant"]] = s["uid"]
            existing[s["uid"]] = s["participant"]
            plan.append((src, s))
    skipped = sum(len(list(c.execute("SELECT 1 FROM sessions"))) for c in conns.values()) - len(plan)
    with db.atomic():
        for src, s in plan:
            c = conns[src]
            sc = c.execute("SELECT * FROM scenarios WHERE id = ?", [s["scenario_id"]]).fetchone()
            row = db.execute("SELECT id FROM scenarios WHERE sha256 = ?", [sc["sha256"]]).fetchone()
            if row:
                scenario_id = row[0]
            else:
                scenario_id = db.execute(
                    "INSERT INTO scenarios (sha256, study, source_path, text, loaded_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [sc["sha256"], sc["study"], sc["source_path"], sc["text"], sc["loaded_at"]],
                ).lastrowid
            cols = [k for k in s.keys() if k not in ("id", "scenario_id")]  # noqa: SIM118 (a Row iterates values)
            new_id = db.execute(
                f"INSERT INTO sessions (scenario_id, {', '.join(cols)}) VALUES "
                f"(?, {', '.join('?' for _ in cols)})", [scenario_id, *(s[k] for k in cols)],
            ).lastrowid  # fmt: skip
            for table in ("events", *PROJECTIONS):
                rows = c.execute(f"SELECT * FROM {table} WHERE session_id = ?", [s["id"]]).fetchall()
                for r in rows:
                    keys = [k for k in r.keys() if k not in ("id", "session_id")]  # noqa: SIM118
                    db.execute(
                        f"INSERT INTO {table} (session_id, {', '.join(keys)}) VALUES "
                        f"(?, {', '.join('?' for _ in keys)})", [new_id, *(r[k] for k in keys)],
                    )  # fmt: skip
    db.close()
    for c in conns.values():
        c.close()
    return MergeResult(added=len(plan), already_there=skipped)
