"""Merge study databases from several lab machines into one.

Sessions are identified by their ``uid`` (a UUID made when the session began), so merging the
same file twice adds nothing the second time. All databases must hold the same study (the same
``study_id``, else the same title: :func:`usetest.store.same_study`); a database of another
study is refused before anything is written, naming both. They may hold different versions of
it: scenario texts are kept once each (by SHA-256), and the target's versions are numbered
again 1, 2, 3 … in the order they were first used (each text's ``loaded_at``, the start of its
first session on any machine). A participant code used for two different sessions is refused
too, naming the clash, because codes identify participants in every summary.

Events are copied as they are (append-only), and the projections (attempts, answers, errors,
notes) are copied with them, re-keyed to the session ids of the target database. A session
withdrawn in any of the databases (a tombstone in ``withdrawals``) is not brought back, and its
tombstone is carried into the target so the counts explain themselves there too.

A source is trusted no more than any file: each one, and the target, passes
:func:`usetest.store.verify` (the schema exactly as usetest creates it, no foreign view or
trigger, values in range, every scenario text valid and matching its SHA-256) before anything is
written; rows are read from the real tables through the store's column lists only, and each
scenario's hash is computed again from its text.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usetest import store
from usetest.errors import UsetestError
from usetest.plain import check_code
from usetest.scenario import parse_scenario
from usetest.store import StoreError

if TYPE_CHECKING:
    from sqlite_utils import Database

PROJECTIONS = ("attempts", "answers", "errors", "notes")


class MergeError(UsetestError):
    """The databases cannot be merged; the message says why and nothing was written."""


@dataclass(frozen=True)
class MergeResult:
    added: int
    already_there: int
    versions: int = 1
    """How many versions of the study the merged database holds."""
    withdrawn: int = 0
    """Sessions left out because their participant withdrew (in some database)."""


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _table(conn: sqlite3.Connection, table: str, where: str = "",
           params: list[Any] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Rows of one of usetest's tables through the store's own column list: never ``*``, so a
    column added to a source (or a source the checks let through by mistake) is never copied."""
    names = ", ".join(f'"{c}"' for c in store.columns(table))
    try:
        return _rows(conn, f'SELECT {names} FROM "{table}" {where}', params)
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        # damage the checks cannot see (a byte flipped inside a text, a page lost): say which file
        row = conn.execute("PRAGMA database_list").fetchone()
        what = str(exc) if len(str(exc)) < 160 else str(exc)[:160] + " …"
        raise MergeError(f"{row[2] if row and row[2] else 'a source'} could not be read ({what}): "
                         "it is damaged — restore it from a backup and merge again; nothing "
                         "was merged") from exc  # fmt: skip


def _read(path: Path) -> Database:
    try:
        return store.open_read(path)
    except StoreError as exc:
        raise MergeError(f"{exc}; nothing was written") from exc


def _check_one_study(studies: dict[str, list[store.StoredVersion]]) -> None:
    """Refuse databases of different studies (MergeError naming them), before any write."""
    groups: list[tuple[store.StoredVersion, list[str]]] = []
    for where, versions in studies.items():
        for v in versions:
            for first, places in groups:
                if store.same_study(first.study_key, first.study, v.study_key, v.study):
                    if where not in places:
                        places.append(where)
                    break
            else:
                groups.append((v, [where]))
    if len(groups) < 2:
        return

    def named(v: store.StoredVersion) -> str:
        return f"“{v.study}”" + (f" (study_id {v.study_key})" if v.study_key != v.study else "")

    held = "; ".join(f"{', '.join(places)} hold{'s' if len(places) == 1 else ''} {named(v)}"
                     for v, places in groups)  # fmt: skip
    raise MergeError(f"these databases hold different studies ({held}) — a database holds one "
                     "study, so nothing was merged or written; merge each study's files into "
                     "a database of its own (-o)")  # fmt: skip


def merge(sources: list[Path], target: Path) -> MergeResult:
    """Copy every session of ``sources`` into ``target`` (created if missing).

    Everything that can refuse the merge (a missing or foreign file, another study, a code
    naming two sessions) is checked before the target is created or written.
    """
    dbs: dict[Path, Database] = {}
    try:
        for src in sources:
            if src not in dbs:
                dbs[src] = _read(src)
        try:
            before = store.peek(target)
        except StoreError as exc:
            raise MergeError(f"{exc}; nothing was written") from exc
        try:
            studies = {str(src): store.scenario_versions(db) for src, db in dbs.items()}
            there: list[dict[str, Any]] = []
            gone: set[str] = set()
            if before is not None:
                studies[str(target)] = store.scenario_versions(before)
                there = _rows(before.conn, "SELECT uid, participant FROM sessions")
                gone = {r["session_uid"] for r in
                        _rows(before.conn, "SELECT session_uid FROM withdrawals")}  # fmt: skip
        finally:
            if before is not None:
                before.close()
        _check_one_study(studies)
        plan = _plan(dbs, there, gone)
        return _write(dbs, target, plan)
    finally:
        for db in dbs.values():
            db.close()


@dataclass
class _Plan:
    copy: list[tuple[Path, dict[str, Any]]]
    """The sessions to copy, with the database they come from."""
    erase: dict[str, dict[str, Any]]
    """Sessions already in the target whose participant withdrew elsewhere: their tombstone."""
    already_there: int
    withdrawn: int


def _plan(dbs: dict[Path, Database], there: list[dict[str, Any]], gone: set[str]) -> _Plan:
    existing = {r["uid"]: r["participant"] for r in there}
    tombstones = {w["session_uid"]: w for db in dbs.values()
                  for w in _table(db.conn, "withdrawals")}  # fmt: skip
    withdrawn = gone | set(tombstones)
    codes = {p: u for u, p in existing.items()}
    plan = _Plan([], {u: tombstones[u] for u in existing if u in tombstones and u not in gone},
                 0, 0)  # fmt: skip
    for src, db in dbs.items():
        for s in _table(db.conn, "sessions", "ORDER BY id"):
            if s["uid"] in existing:
                plan.already_there += 1
                continue
            if s["uid"] in withdrawn:
                plan.withdrawn += 1
                continue
            for value, what in ((s["participant"], "participant code"),
                                (s["moderator"], "moderator initials")):  # fmt: skip
                try:  # typed before codes were checked, or written by another program
                    check_code(value, what) if value is not None else None
                except ValueError as exc:
                    raise MergeError(f"{src}: {exc} — correct it in that file before merging; "
                                     "nothing was written") from None  # fmt: skip
            if s["participant"] in codes and codes[s["participant"]] != s["uid"]:
                raise MergeError(f"participant code {s['participant']} names two different "
                                 f"sessions (one in {src}) — rename one before merging; "
                                 "nothing was written")  # fmt: skip
            codes[s["participant"]] = s["uid"]
            existing[s["uid"]] = s["participant"]
            plan.copy.append((src, s))
    return plan


def _write(dbs: dict[Path, Database], target: Path, plan: _Plan) -> MergeResult:
    try:
        out = store.open_db(target)
    except StoreError as exc:
        raise MergeError(f"{exc}; nothing was written") from exc
    try:
        scenario_ids: dict[tuple[Path, int], int] = {}

        def scenario_in_target(src: Path, source_id: int | None) -> int | None:
            if source_id is None:
                return None
            if (src, source_id) not in scenario_ids:
                scenario_ids[(src, source_id)] = _copy_scenario(out, dbs[src], source_id)
            return scenario_ids[(src, source_id)]

        with out.atomic():
            for src, s in plan.copy:
                _copy_session(out, dbs[src], s, scenario_in_target(src, s["scenario_id"]))
            for src, db in dbs.items():
                for w in _table(db.conn, "withdrawals"):
                    if w["session_uid"] in plan.erase or out.execute(
                        "SELECT 1 FROM withdrawals WHERE session_uid = ?", [w["session_uid"]]
                    ).fetchone():  # fmt: skip
                        continue
                    w["scenario_id"] = scenario_in_target(src, w["scenario_id"])
                    keys = [k for k in w if k != "id"]
                    out.execute(f"INSERT INTO withdrawals ({', '.join(keys)}) VALUES "
                                f"({', '.join('?' for _ in keys)})", [w[k] for k in keys])  # fmt: skip
            versions = _renumber(out)
        # A participant who withdrew on another machine is erased here too (store's one path).
        for uid, w in plan.erase.items():
            code = out.execute("SELECT participant FROM sessions WHERE uid = ?", [uid]).fetchone()
            if code:
                store.withdraw_session(out, code[0], withdrawn_at=w["withdrawn_at"],
                                       withdrawn_by=w["withdrawn_by"], reason=w["reason"])  # fmt: skip
    except sqlite3.DatabaseError as exc:
        raise MergeError(f"the merge into {target} failed and was rolled back ({exc}) — "
                         "nothing of it was kept; try again") from exc  # fmt: skip
    except StoreError as exc:
        raise MergeError(str(exc)) from exc
    finally:
        out.close()
    return MergeResult(added=len(plan.copy), already_there=plan.already_there,
                       versions=versions, withdrawn=plan.withdrawn + len(plan.erase))  # fmt: skip


def _copy_scenario(out: Database, db: Database, source_id: int) -> int:
    """The target's row for a source scenario text: the same text (by SHA-256) kept once, its
    first use the earliest of the two."""
    found = _table(db.conn, "scenarios", "WHERE id = ?", [source_id])
    if not found:  # store.verify refuses this first; kept so no path writes a dangling id
        raise MergeError(f"a session in {store._db_file(db)} names scenario {source_id}, which "
                         "is not there — nothing was written")  # fmt: skip
    sc = found[0]
    # The hash is recomputed from the text, never taken from the source (verify compared them).
    sc["sha256"] = hashlib.sha256(sc["text"].encode("utf-8")).hexdigest()
    row = out.execute("SELECT id FROM scenarios WHERE sha256 = ?", [sc["sha256"]]).fetchone()
    if row:
        out.execute("UPDATE scenarios SET loaded_at = min(loaded_at, ?) WHERE id = ?",
                    [sc["loaded_at"], row[0]])  # fmt: skip
        return int(row[0])
    cursor = out.execute(
        "INSERT INTO scenarios (sha256, study, source_path, text, loaded_at, study_key)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [sc["sha256"], sc["study"], sc["source_path"], sc["text"], sc["loaded_at"],
         sc["study_key"] or sc["study"]],
    )  # fmt: skip
    new_id = int(cursor.lastrowid or 0)
    store.record_tasks(out, new_id, parse_scenario(sc["text"], "<stored scenario>", as_recorded=True).scenario)
    return new_id


def _copy_session(out: Database, db: Database, s: dict[str, Any], scenario_id: int | None) -> None:
    # owner: which app records the session *in the source file*; in the target, none does
    cols = [k for k in s if k not in ("id", "scenario_id", "owner")]
    new_id = out.execute(
        f"INSERT INTO sessions (scenario_id, {', '.join(cols)}) VALUES "
        f"(?, {', '.join('?' for _ in cols)})", [scenario_id, *(s[k] for k in cols)],
    ).lastrowid  # fmt: skip
    for table in ("events", *PROJECTIONS):
        for r in _table(db.conn, table, "WHERE session_id = ?", [s["id"]]):
            keys = [k for k in r if k not in ("id", "session_id")]
            out.execute(
                f"INSERT INTO {table} (session_id, {', '.join(keys)}) VALUES "
                f"(?, {', '.join('?' for _ in keys)})", [new_id, *(r[k] for k in keys)],
            )  # fmt: skip


def _renumber(out: Database) -> int:
    """Number the target's versions 1, 2, 3 … in order of first use; returns how many."""
    used = out.execute(
        "SELECT id FROM scenarios WHERE id IN (SELECT scenario_id FROM sessions UNION"
        " SELECT scenario_id FROM withdrawals) OR version IS NOT NULL ORDER BY loaded_at, id"
    ).fetchall()  # fmt: skip
    for number, (scenario_id,) in enumerate(used, start=1):
        out.execute("UPDATE scenarios SET version = ? WHERE id = ?", [number, scenario_id])
    return len(used)
