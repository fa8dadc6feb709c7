"""The study database: all SQL and every table name live here.

One SQLite file per study, opened through sqlite-utils. It holds

- ``scenarios``: each scenario text exactly as loaded, with its SHA-256, so a session records
  precisely which version of the study it ran;
- ``sessions``: participant code, moderator, condition, task order, status and times;
- ``events``: the append-only log (triggers refuse UPDATE and DELETE): session, per-session
  sequence number, process run, kind, task, JSON payload, monotonic milliseconds and UTC time;
- projections kept in step with the log in the same transaction, for fast reading:
  ``attempts`` (one row per session and task: outcome, time on task, errors, assists, SEQ …),
  ``answers`` (questionnaire answers, the latest per item), ``errors`` and ``notes``.

Durability: WAL journal with ``synchronous=FULL``; every event and its projections are written
in one transaction that is committed before :meth:`SessionStore.commit` returns. WAL lets other
processes (Datasette, an export) read while a session writes. The file is created 0600.

Schema changes go through :data:`MIGRATIONS`; ``PRAGMA user_version`` says how far a file has
come, so a database written by an older usetest opens in a newer one, and one written by a newer
usetest is refused with a clear message instead of being damaged.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usetest.events import (
    ANSWER_RECORDED,
    CORRECTION,
    ERROR_LOGGED,
    NOTE_LOGGED,
    SESSION_RESUMED,
    SESSION_STARTED,
    UNDO,
    Event,
    SessionState,
)

if TYPE_CHECKING:
    from sqlite_utils import Database

    from usetest.scenario import LoadedScenario

SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 10_000


class StoreError(Exception):
    """The database cannot be used as asked; the message says what to do about it."""


def _import_sqlite_utils() -> Any:
    """Import sqlite-utils without dragging pandas and numpy in (about 1–2 s at start-up).

    sqlite-utils imports pandas and numpy when they are installed, only to map their column
    types on insert, which usetest never needs: the store writes plain Python values and
    analysis reads with pandas itself. When pandas is not loaded yet, hide it for the import.
    """
    if "sqlite_utils" in sys.modules or "pandas" in sys.modules:
        import sqlite_utils

        return sqlite_utils
    hidden = {name: sys.modules.get(name) for name in ("pandas", "numpy")}
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import pandas` fail
    try:
        import sqlite_utils
    finally:
        for name, module in hidden.items():
            if module is None:
                del sys.modules[name]
            else:
                sys.modules[name] = module
    return sqlite_utils


# ---------------------------------------------------------------------------------------------
# Opening and migrating.


def _create_private(path: Path) -> None:
    """Create an empty file readable by its owner only (participant data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def open_db(path: str | Path | None = None, *, create: bool = True) -> Database:
    """Open (or create) a study database, configured and migrated to :data:`SCHEMA_VERSION`.

    ``path=None`` gives an in-memory database (tests). Raises :class:`StoreError` for a file
    that is not a usetest database, is from a newer usetest, or cannot be opened or written.
    """
    sqlite_utils = _import_sqlite_utils()
    if path is None:
        db: Database = sqlite_utils.Database(memory=True)
        _configure(db)
        migrate(db)
        return db
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"{path} is a folder — give a database file name such as {path}/study.db")
    if not path.exists():
        if not create:
            raise StoreError(f"{path} does not exist — check the path, or run a session first")
        try:
            _create_private(path)
        except FileExistsError:
            pass  # another process created it meanwhile: open it like any existing file
        except OSError as exc:
            raise StoreError(
                f"cannot create {path}: {exc.strerror} — choose a folder you can write to (--db)"
            ) from exc
    _check_writable(path)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
        db = sqlite_utils.Database(conn)
        # Refuse a newer schema before anything (such as the switch to WAL) writes to the file.
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(_newer(path, version))
        _configure(db)
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(_explain(path, exc)) from exc
    return db


def _check_writable(path: Path) -> None:
    """Refuse at once what SQLite would only refuse at the first event (mid-session)."""
    folder = path.parent
    if not os.access(path, os.W_OK):
        raise StoreError(
            f"{path} is read-only, so no session can be recorded in it — make it writable "
            f"(chmod u+w {path}) or give another file with --db; nothing was changed"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(
            f"the folder {folder} is read-only: SQLite keeps its journal ({path.name}-wal) beside "
            "the database — make the folder writable, or copy the database to one that is"
        )


def _newer(path: Path | str, version: int) -> str:
    return (
        f"{path} was written by a newer usetest (schema {version}; this usetest knows up to "
        f"{SCHEMA_VERSION}) — upgrade usetest to open it (pip install -U usetest); "
        "the file is untouched"
    )


def _explain(path: Path, exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    if "malformed" in text:
        return (f"{path} is damaged or incomplete (SQLite says: {text}) — check the path; if it "
                "is the right file, restore it from a backup, with its -wal file if there is one")  # fmt: skip
    if "file is not a database" in text:
        return f"{path} is not a usetest database (SQLite says: {text}) — check the path"
    if "readonly" in text or "read-only" in text:
        return f"{path} is read-only: {text} — copy it somewhere writable or fix its permissions"
    if "locked" in text or "busy" in text:
        return f"{path} is locked by another program ({text}) — close it and try again"
    if "unable to open" in text:
        return f"cannot open {path}: {text} — check the folder exists and is writable"
    return f"{path}: {text}"


def _explain_write(db: Database, exc: sqlite3.DatabaseError) -> str:
    """Why an event could not be saved, and what to do; the session itself is unharmed."""
    text = str(exc)
    where = _db_file(db)
    kept = "everything logged before it is safe; press the key again once this is fixed"
    if "locked" in text or "busy" in text:
        cause = (f"another program is writing to {where} (a database browser with unsaved "
                 "changes?) — close it or let it finish")  # fmt: skip
    elif "full" in text:
        cause = f"the disk holding {where} is full — free some space"
    elif "readonly" in text or "read-only" in text:
        cause = f"{where} has become read-only — make it writable again (chmod u+w)"
    elif "disk I/O" in text:
        cause = f"the disk holding {where} failed to write (removed or failing?) — check it"
    else:
        cause = f"SQLite refused the write to {where}"
    return f"the event was NOT saved ({text}): {cause}; {kept}"


def _db_file(db: Database) -> str:
    try:
        row = db.conn.execute("PRAGMA database_list").fetchone()
    except sqlite3.Error:
        return "the database"
    return row[2] if row and row[2] else "the database"


def _configure(db: Database) -> None:
    conn = db.conn
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")  # per connection, so on every open
    if not db.memory:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"could not switch the database to WAL mode (got {mode})")
    conn.execute("PRAGMA synchronous = FULL")


def schema_version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _v1_initial(db: Database) -> None:
    db.execute(
        """CREATE TABLE scenarios (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            study TEXT NOT NULL,
            source_path TEXT,
            text TEXT NOT NULL,
            loaded_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            scenario_id INTEGER NOT NULL REFERENCES scenarios(id),
            participant TEXT NOT NULL UNIQUE,
            moderator TEXT,
            condition TEXT,
            task_order TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'in_progress'
                CHECK (status IN ('in_progress', 'completed', 'abandoned')),
            started_at TEXT NOT NULL,
            ended_at TEXT,
            last_event_at TEXT,
            runs INTEGER NOT NULL DEFAULT 1
        )"""
    )
    db.execute(
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            seq INTEGER NOT NULL,
            run INTEGER NOT NULL,
            kind TEXT NOT NULL,
            task_id TEXT,
            payload TEXT NOT NULL,
            mono_ms INTEGER NOT NULL,
            at TEXT NOT NULL,
            UNIQUE (session_id, seq)
        )"""
    )
    for verb in ("UPDATE", "DELETE"):
        db.execute(
            f"""CREATE TRIGGER events_no_{verb.lower()} BEFORE {verb} ON events
            BEGIN SELECT RAISE(ABORT, 'the events log is append-only'); END"""
        )
    db.execute(
        """CREATE TABLE attempts (
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            task_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            status TEXT NOT NULL,
            outcome TEXT,
            time_ms INTEGER NOT NULL,
            errors INTEGER NOT NULL,
            assists INTEGER NOT NULL,
            pauses INTEGER NOT NULL,
            pause_ms INTEGER NOT NULL,
            interruptions INTEGER NOT NULL,
            seq_rating INTEGER,
            time_limit_s INTEGER,
            over_time_limit INTEGER,
            started_at TEXT,
            ended_at TEXT,
            PRIMARY KEY (session_id, task_id)
        )"""
    )
    db.execute(
        """CREATE TABLE answers (
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            questionnaire TEXT NOT NULL,
            item TEXT NOT NULL,
            task_id TEXT NOT NULL DEFAULT '',
            value_num INTEGER,
            value_text TEXT,
            event_seq INTEGER NOT NULL,
            answered_at TEXT NOT NULL,
            PRIMARY KEY (session_id, questionnaire, item, task_id)
        )"""
    )
    db.execute(
        """CREATE TABLE errors (
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            event_seq INTEGER NOT NULL,
            task_id TEXT NOT NULL,
            type_key TEXT,
            type_name TEXT NOT NULL,
            note TEXT,
            logged_at TEXT NOT NULL,
            PRIMARY KEY (session_id, event_seq)
        )"""
    )
    db.execute(
        """CREATE TABLE notes (
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            event_seq INTEGER NOT NULL,
            task_id TEXT,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            severity INTEGER,
            logged_at TEXT NOT NULL,
            PRIMARY KEY (session_id, event_seq)
        )"""
    )
    db.execute("CREATE INDEX events_by_kind ON events (kind, session_id)")
    db.execute("CREATE INDEX attempts_by_task ON attempts (task_id, outcome)")


def _v2_study_day(db: Database) -> None:
    """Studies and their versions, the app recording a session, consent, declined answers,
    corrections, and the tombstones of withdrawn participants."""
    # A database holds one study (study_id, else the title); each distinct scenario text is
    # one version of it, numbered in the order first run.
    db.execute("ALTER TABLE scenarios ADD COLUMN study_key TEXT")
    db.execute("ALTER TABLE scenarios ADD COLUMN version INTEGER")
    db.execute("UPDATE scenarios SET study_key = study, version ="
               " (SELECT count(*) FROM scenarios s2 WHERE s2.id <= scenarios.id)")
    # Which app records the session now (JSON: host, pid, boot id, process start, since,
    # token); NULL when no app has it open.
    db.execute("ALTER TABLE sessions ADD COLUMN owner TEXT")
    db.execute("ALTER TABLE sessions ADD COLUMN consent_at TEXT")
    db.execute("ALTER TABLE sessions ADD COLUMN consent_how TEXT")
    db.execute("ALTER TABLE answers ADD COLUMN declined INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE attempts ADD COLUMN corrections INTEGER NOT NULL DEFAULT 0")
    # What is left of a withdrawn participant: no code, no text, no answers; the session's
    # random UUID keeps a merge from bringing the erased session back.
    db.execute(
        """CREATE TABLE withdrawals (
            id INTEGER PRIMARY KEY,
            session_uid TEXT NOT NULL UNIQUE,
            scenario_id INTEGER REFERENCES scenarios(id),
            condition TEXT,
            status TEXT NOT NULL,
            withdrawn_at TEXT NOT NULL,
            withdrawn_by TEXT,
            reason TEXT
        )"""
    )


MIGRATIONS: list[Callable[[Database], None]] = [_v1_initial, _v2_study_day]
"""Migration k (1-based) takes a database from user_version k-1 to k. Append, never edit."""
assert len(MIGRATIONS) == SCHEMA_VERSION


def migrate(db: Database) -> None:
    """Bring the schema to :data:`SCHEMA_VERSION`, one transaction per step."""
    version = schema_version(db)
    if version > SCHEMA_VERSION:
        raise StoreError(_newer("this database", version))
    if version == 0 and db.table_names():
        raise StoreError("this SQLite file holds other tables and is not a usetest database")
    for step in range(version, SCHEMA_VERSION):
        with db.atomic():
            MIGRATIONS[step](db)
            db.execute(f"PRAGMA user_version = {step + 1}")


# ---------------------------------------------------------------------------------------------
# Scenarios and sessions.


@dataclass(frozen=True)
class SessionRecord:
    """A row of ``sessions`` with its scenario's hash."""

    id: int
    uid: str
    scenario_id: int
    scenario_sha256: str
    participant: str
    moderator: str | None
    condition: str | None
    order: tuple[str, ...]
    status: str
    started_at: str
    ended_at: str | None
    last_event_at: str | None
    runs: int


def save_scenario(db: Database, loaded: LoadedScenario, loaded_at: str) -> int:
    """Keep the scenario text (once per distinct content) and return its id."""
    row = db.execute("SELECT id FROM scenarios WHERE sha256 = ?", [loaded.sha256]).fetchone()
    if row:
        return int(row[0])
    with db.atomic():
        cursor = db.execute(
            "INSERT INTO scenarios (sha256, study, source_path, text, loaded_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [loaded.sha256, loaded.scenario.study, str(loaded.path) if loaded.path else None,
             loaded.text, loaded_at],
        )  # fmt: skip
    return int(cursor.lastrowid or 0)


def scenario_text(db: Database, scenario_id: int) -> str:
    row = db.execute("SELECT text FROM scenarios WHERE id = ?", [scenario_id]).fetchone()
    if row is None:
        raise StoreError(f"scenario {scenario_id} is missing from the database")
    return str(row[0])


_SESSION_SELECT = """SELECT s.id, s.uid, s.scenario_id, sc.sha256, s.participant, s.moderator,
    s.condition, s.task_order, s.status, s.started_at, s.ended_at, s.last_event_at, s.runs
    FROM sessions s JOIN scenarios sc ON sc.id = s.scenario_id"""


def _record(row: tuple[Any, ...]) -> SessionRecord:
    return SessionRecord(
        id=row[0], uid=row[1], scenario_id=row[2], scenario_sha256=row[3], participant=row[4],
        moderator=row[5], condition=row[6], order=tuple(json.loads(row[7])), status=row[8],
        started_at=row[9], ended_at=row[10], last_event_at=row[11], runs=row[12],
    )  # fmt: skip


def create_session(
    db: Database, *, scenario_id: int, participant: str, moderator: str | None,
    condition: str | None, order: list[str], started_at: str,
) -> SessionRecord:  # fmt: skip
    """A new session row; a participant code is used once per database."""
    participant = participant.strip()
    if not participant:
        raise StoreError("a participant code is needed — for example " + next_participant_code(db))
    taken = db.execute(
        "SELECT status FROM sessions WHERE participant = ?", [participant]
    ).fetchone()
    if taken:
        hint = "resume it with --resume" if taken[0] == "in_progress" else "it is " + taken[0]
        raise StoreError(
            f"participant {participant} already has a session in this database ({hint}); "
            f"the next free code is {next_participant_code(db)}"
        )
    try:
        with db.atomic():
            cursor = db.execute(
                "INSERT INTO sessions (uid, scenario_id, participant, moderator, condition,"
                " task_order, started_at, last_event_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [str(uuid.uuid4()), scenario_id, participant, moderator or None,
                 condition or None, json.dumps(order), started_at, started_at],
            )  # fmt: skip
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"could not record the new session: {exc}") from exc
    return get_session(db, int(cursor.lastrowid or 0))


def get_session(db: Database, session_id: int) -> SessionRecord:
    row = db.execute(_SESSION_SELECT + " WHERE s.id = ?", [session_id]).fetchone()
    if row is None:
        raise StoreError(f"there is no session {session_id} in this database")
    return _record(row)


def find_session(db: Database, participant: str) -> SessionRecord:
    """The session of a participant code; StoreError naming the codes there are if none."""
    row = db.execute(_SESSION_SELECT + " WHERE s.participant = ?", [participant]).fetchone()
    if row is None:
        codes = [r[0] for r in db.execute("SELECT participant FROM sessions ORDER BY id")]
        shown = ", ".join(codes[:12]) + (" …" if len(codes) > 12 else "")
        raise StoreError(f"no session for participant {participant!r} in this database "
                         f"(participants: {shown or 'none yet'})")  # fmt: skip
    return _record(row)


def list_sessions(db: Database, status: str | None = None) -> list[SessionRecord]:
    where, params = ("", []) if status is None else (" WHERE s.status = ?", [status])
    rows = db.execute(_SESSION_SELECT + where + " ORDER BY s.id", params).fetchall()
    return [_record(r) for r in rows]


def next_participant_code(db: Database, prefix: str = "P") -> str:
    """The next free pseudonymous code: P01, P02 … after the highest number in use."""
    highest = 0
    for (code,) in db.execute("SELECT participant FROM sessions").fetchall():
        match = re.fullmatch(re.escape(prefix) + r"(\d+)", code)
        if match:
            highest = max(highest, int(match.group(1)))
    return f"{prefix}{highest + 1:02d}"


def condition_counts(db: Database, conditions: list[str]) -> dict[str, int]:
    """Sessions (not abandoned) per condition, zero for the unused ones, in scenario order."""
    counts = dict.fromkeys(conditions, 0)
    rows = db.execute(
        "SELECT condition, count(*) FROM sessions WHERE status != 'abandoned' GROUP BY condition"
    ).fetchall()
    for condition, n in rows:
        if condition in counts:
            counts[condition] = n
    return counts


def load_events(db: Database, session_id: int) -> list[Event]:
    rows = db.execute(
        "SELECT seq, run, kind, task_id, payload, mono_ms, at FROM events"
        " WHERE session_id = ? ORDER BY seq",
        [session_id],
    ).fetchall()
    return [
        Event(seq=r[0], run=r[1], kind=r[2], task_id=r[3], payload=json.loads(r[4]),
              mono_ms=r[5], at=r[6])
        for r in rows
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Writing events.


class SessionStore:
    """The sink a :class:`usetest.session.Session` writes through, for one session.

    ``commit(event, state)`` inserts the event and brings the projections in line with
    ``state`` in a single transaction, committed (and synced, WAL + synchronous=FULL) before
    it returns. ``time_limits`` maps task id to its limit in seconds (for ``over_time_limit``).
    """

    def __init__(self, db: Database, session_id: int, time_limits: dict[str, int | None]):
        self.db = db
        self.session_id = session_id
        self.time_limits = time_limits

    def __call__(self, event: Event, state: SessionState) -> None:
        self.commit(event, state)

    def commit(self, event: Event, state: SessionState) -> None:
        try:
            with self._transaction() as conn:
                self._write(conn, event, state)
        except sqlite3.DatabaseError as exc:
            raise StoreError(_explain_write(self.db, exc)) from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")  # take the write lock now, not halfway through
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _write(self, conn: sqlite3.Connection, event: Event, state: SessionState) -> None:
        sid = self.session_id
        conn.execute(
            "INSERT INTO events (session_id, seq, run, kind, task_id, payload, mono_ms, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (sid, event.seq, event.run, event.kind, event.task_id,
             json.dumps(event.payload, ensure_ascii=False), event.mono_ms, event.at),
        )  # fmt: skip
        if event.kind in (UNDO, SESSION_STARTED, SESSION_RESUMED):
            # A resume closes the intervals a crash left open (their time grows): rewrite
            # every attempt, not only the event's task, so the projection matches the log.
            self._rewrite_projections(conn, state)
        else:
            if event.task_id is not None and event.task_id in state.tasks:
                self._upsert_attempt(conn, state, event.task_id)
            if event.kind == ERROR_LOGGED:
                self._insert_error(conn, state, event.seq)
            elif event.kind == NOTE_LOGGED:
                self._insert_note(conn, state, event.seq)
            elif event.kind == ANSWER_RECORDED:
                p = event.payload
                self._upsert_answer(conn, state, (p["questionnaire"], p["item"], event.task_id or ""))
            elif event.kind == CORRECTION and "seq" in event.payload["changes"]:
                self._upsert_answer(conn, state, ("seq", "seq", event.task_id or ""))
        ended = event.at if state.status != "in_progress" else None
        consent = state.consent
        conn.execute(
            "UPDATE sessions SET status = ?, last_event_at = ?, runs = ?,"
            " ended_at = coalesce(?, ended_at), consent_at = ?, consent_how = ? WHERE id = ?",
            (state.status, event.at, state.run, ended, consent.at if consent else None,
             consent.how if consent else None, sid),
        )  # fmt: skip

    def _upsert_attempt(self, conn: sqlite3.Connection, state: SessionState, task_id: str) -> None:
        t = state.tasks[task_id]
        seq = state.answers.get(("seq", "seq", task_id))
        limit = self.time_limits.get(task_id)
        over = None if limit is None else int(t.recorded_ms > limit * 1000)
        conn.execute(
            "INSERT OR REPLACE INTO attempts (session_id, task_id, position, status, outcome,"
            " time_ms, errors, assists, pauses, pause_ms, interruptions, seq_rating,"
            " time_limit_s, over_time_limit, started_at, ended_at, corrections)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self.session_id, task_id, t.position, t.status, t.outcome, t.recorded_ms, t.errors,
             t.assists, t.pauses, t.pause_ms, t.interruptions,
             seq.value if seq else None, limit, over, t.started_at, t.ended_at, t.corrections),
        )  # fmt: skip

    def _insert_error(self, conn: sqlite3.Connection, state: SessionState, seq: int) -> None:
        e = state.errors[seq]
        conn.execute(
            "INSERT INTO errors (session_id, event_seq, task_id, type_key, type_name, note,"
            " logged_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.session_id, seq, e.task_id, e.type_key, e.type_name, e.note, e.at),
        )

    def _insert_note(self, conn: sqlite3.Connection, state: SessionState, seq: int) -> None:
        n = state.notes[seq]
        conn.execute(
            "INSERT INTO notes (session_id, event_seq, task_id, kind, text, severity, logged_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.session_id, seq, n.task_id, n.kind, n.text, n.severity, n.at),
        )

    def _upsert_answer(
        self, conn: sqlite3.Connection, state: SessionState, key: tuple[str, str, str]
    ) -> None:
        a = state.answers[key]
        is_num = isinstance(a.value, int)
        conn.execute(
            "INSERT OR REPLACE INTO answers (session_id, questionnaire, item, task_id, value_num,"
            " value_text, event_seq, answered_at, declined) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self.session_id, *key, a.value if is_num else None,
             None if is_num else a.value, a.seq, a.at, int(a.declined)),
        )  # fmt: skip
        if key[0] == "seq" and key[2] in state.tasks:
            self._upsert_attempt(conn, state, key[2])

    def _rewrite_projections(self, conn: sqlite3.Connection, state: SessionState) -> None:
        """After an undo: the projections of this session, rebuilt from the replayed state."""
        for table in ("attempts", "answers", "errors", "notes"):
            conn.execute(f"DELETE FROM {table} WHERE session_id = ?", (self.session_id,))
        for task_id in state.order:
            self._upsert_attempt(conn, state, task_id)
        for key in state.answers:
            self._upsert_answer(conn, state, key)
        for seq in state.errors:
            self._insert_error(conn, state, seq)
        for seq in state.notes:
            self._insert_note(conn, state, seq)


def write_projections(db: Database, session_id: int, state: SessionState,
                      time_limits: dict[str, int | None]) -> None:  # fmt: skip
    """Rebuild one session's projections from a state (used by checks and repairs)."""
    sink = SessionStore(db, session_id, time_limits)
    with sink._transaction() as conn:
        sink._rewrite_projections(conn, state)
