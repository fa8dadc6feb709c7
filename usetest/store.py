"""The study database: all SQL and every table name live here.

One SQLite file per study, opened as a sqlite-utils ``Database`` (:mod:`usetest.database`:
sqlite3 for what the store calls, sqlite-utils itself from the first other use). It holds

- ``scenarios``: each scenario text exactly as loaded, with its SHA-256, so a session records
  precisely which version of the study it ran;
- ``tasks``: each version's tasks (id, title, position), and the view ``task_attempts``;
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

import itertools
import json
import os
import re
import sqlite3
import stat
import struct
import sys
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usetest.errors import UsetestError
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
from usetest.owner import Owner

if TYPE_CHECKING:
    from sqlite_utils import Database

    from usetest.scenario import LoadedScenario

SCHEMA_VERSION = 4
TABLES = ("scenarios", "tasks", "sessions", "events", "attempts", "answers", "errors", "notes",
          "withdrawals", "observer_notes")
"""Every table of a study database, each after the tables it refers to."""
BUSY_TIMEOUT_MS = 10_000


class StoreError(UsetestError):
    """The database cannot be used as asked; the message says what to do about it."""


def _import_sqlite_utils() -> Any:
    """The module whose ``Database`` the store opens files with: :mod:`usetest.database`,
    sqlite-utils' ``Database`` on sqlite3 for what the store calls, sqlite-utils itself (imported
    without pandas) from the first use of anything else — so the app starts without it."""
    from usetest import database

    return database


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
    _check_place(path)
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
        conn = _connect(path, mode="rw")
        db = sqlite_utils.Database(conn)
        # Refuse a newer schema, and a file carrying foreign triggers or views, before anything
        # (such as the switch to WAL) writes to the file.
        try:
            check_structure(conn, path)
        except StoreError:
            conn.close()
            raise
        _configure(db)
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(_explain(path, exc)) from exc
    return db


# ---------------------------------------------------------------------------------------------
# Reading.
#
# Every read-only open goes through :func:`_read_only`: summaries, reports, exports, the results
# view and merge's sources (:func:`open_read`), the set-up screen and ``run --plan``
# (:func:`peek`). The file is named to SQLite by a ``file:`` URI built by
# :meth:`pathlib.Path.as_uri` from the absolute path, so every character SQLite's URI syntax
# gives a meaning to ('?', '#', '%', spaces, non-ASCII bytes) is percent-encoded: any name opens
# the file it names, and nothing else is created. A reader of a WAL database needs the -shm
# beside it; where it cannot be created (a read-only folder or medium) the file cannot change
# either, so it is read with ``immutable=1`` and the command says so (:data:`notify`) — unless
# a -wal with content is there, which immutable reading would silently ignore.


def _say(text: str) -> None:
    print(text, file=sys.stderr)


notify: Callable[[str], None] = _say
"""Where the store tells the user something that is not an error (an immutable read); stderr."""

_told: set[str] = set()


def _uri(path: Path, **params: str) -> str:
    """The ``file:`` URI naming ``path`` to SQLite: absolute, every special character quoted."""
    return f"{path.absolute().as_uri()}?{urllib.parse.urlencode(params)}"


def _connect(path: Path, factory: type[sqlite3.Connection] = sqlite3.Connection,
             any_thread: bool = False, **params: str) -> sqlite3.Connection:  # fmt: skip
    """``path`` opened by its URI with ``params`` (``mode=ro`` …); ``any_thread``: usable from
    another thread than this one (one at a time)."""
    return sqlite3.connect(_uri(path, **params), uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                           factory=factory, check_same_thread=not any_thread)  # fmt: skip


def _check_file(path: Path) -> None:
    """Refuse (StoreError) a path that names no readable regular file, saying what it names."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise StoreError(f"{path} does not exist — check the path (a study database is created "
                         "when its first session starts)") from None  # fmt: skip
    except NotADirectoryError:
        folder = next(p for p in path.parents if p.exists())
        raise StoreError(f"{folder} is a file, not a folder, so {path} cannot exist — check "
                         "the path") from None  # fmt: skip
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror} — check the path") from None
    if stat.S_ISDIR(mode):
        raise StoreError(f"{path} is a folder — give a database file name such as {path}/study.db")
    if not stat.S_ISREG(mode):
        raise StoreError(f"{path} is not a regular file (a device, pipe or socket) — give the "
                         "path of a study database file")  # fmt: skip
    if not os.access(path, os.R_OK):
        raise StoreError(f"{path} cannot be read (permission denied) — ask its owner to share "
                         f"it, or to copy it for you (chmod u+r {path})")  # fmt: skip


class _ReadOnly(sqlite3.Connection):
    """A ``mode=ro`` connection that, on close, removes the ``-wal``/``-shm`` files its open
    created (SQLite makes them to read a WAL database and a reader cannot delete them).

    Only files that did not exist before are tidied, through SQLite itself where it can: a
    plain connection's close checkpoints an empty log and deletes both unless another
    connection still uses them. Where it cannot (the database file is read-only to us, so that
    connection is read-only too), :func:`_remove_unused` does what SQLite's close would. The
    database file itself is not written (same bytes, same mtime).
    """

    tidy: Path | None = None
    immutable: bool = False
    """Read with ``immutable=1`` (a read-only folder or medium): no -shm, no locks."""

    def close(self) -> None:
        super().close()
        path, self.tidy = self.tidy, None
        if path is None or not Path(f"{path}-wal").exists():
            return
        try:
            conn = _connect(path, mode="rw")
            try:
                conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
            finally:
                conn.close()
        except sqlite3.Error:
            return  # another program holds it: the files are theirs now, leave them
        if Path(f"{path}-wal").exists():
            _remove_unused(path)


_SHM_DMS = 128
"""The byte of a -shm that every SQLite connection using it keeps read-locked (SQLite's unix
VFS: UNIX_SHM_DMS); whoever can write-lock it is alone."""


def _remove_unused(path: Path) -> None:
    """Remove an empty -wal and its -shm when no connection, in any process, uses them.

    Holds a write lock on the -shm's DMS byte while removing them, as SQLite's own last close
    does, so a connection opening meanwhile waits and then makes fresh ones. The lock is an
    open-file-description lock (Linux), which also conflicts with the record locks of this
    process's own connections; where there is none, the files are left.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        return
    # struct flock as 64-bit Linux lays it out (the only place F_OFD_SETLK exists with it)
    setlk = getattr(fcntl, "F_OFD_SETLK", None) if sys.maxsize > 2**32 else None
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    try:
        if setlk is None or wal.stat().st_size:
            return  # a -wal with content belongs to a writer
        fd = os.open(shm, os.O_RDWR)
    except OSError:
        return
    try:
        fcntl.fcntl(fd, setlk, struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, _SHM_DMS, 1, 0))
        wal.unlink(missing_ok=True)
        shm.unlink(missing_ok=True)
    except OSError:
        pass  # in use: another connection will tidy them when it closes
    finally:
        os.close(fd)


def _read_only(path: Path) -> _ReadOnly:
    """Open ``path`` (a regular file, checked) read-only; StoreError if SQLite cannot."""
    companions = [Path(f"{path}-wal"), Path(f"{path}-shm")]
    fresh = not any(p.exists() for p in companions)
    try:
        conn = _connect(path, _ReadOnly, mode="ro")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file
        except sqlite3.OperationalError as exc:
            conn.close()
            if "unable to open" not in str(exc) or os.access(path.parent, os.W_OK | os.X_OK):
                raise
            return _immutable(path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(_explain(path, exc)) from exc
    except UnicodeDecodeError:  # SQLite's message quoted a damaged schema's bytes
        raise _undecodable(path) from None
    conn.tidy = path if fresh else None
    return conn


def _immutable(path: Path) -> _ReadOnly:
    """A WAL database in a folder where its -shm cannot be made: read it as unchangeable."""
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise StoreError(f"{path} cannot be read where it is: its {wal.name} holds changes not yet "
                         "in the database, and SQLite cannot read them from a read-only folder "
                         f"— copy {path.name} together with {wal.name} to a writable folder and "
                         "read the copy")  # fmt: skip
    conn = _connect(path, _ReadOnly, mode="ro", immutable="1")
    conn.immutable = True
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    where = str(path.absolute())
    if where not in _told:
        _told.add(where)
        notify(f"usetest: reading {path} as immutable (read-only folder {path.parent}): SQLite "
               "cannot keep its lock file beside it, so it is read as it is, unlocked")  # fmt: skip
    return conn


def peek(path: str | Path) -> Database | None:
    """The study database at ``path`` for reading, without writing anything to it; None if
    there is no file (or an empty one): nothing has been recorded there yet.

    The set-up screen and ``run --plan`` read through this, so that a database is created,
    switched to WAL and migrated only when a session starts (:func:`open_db`); the analyses
    read through :func:`open_read`. A file of an older schema is read through a migrated copy
    in memory (the file stays as it was); a path that is a folder or not a regular file, a
    file that is not a usetest database, or is from a newer usetest, is refused with
    :class:`StoreError` as :func:`open_db` would. Close the result with ``db.close()``.
    """
    path = Path(path)
    try:
        _check_file(path)
    except StoreError:
        if not path.exists() and not path.is_symlink():
            return None
        raise
    if path.stat().st_size == 0:
        return None
    return _open_read(path)


def open_read(path: str | Path) -> Database:
    """The study database at ``path``, for reading only: the one opener of every analysis.

    Nothing is written to the file or left beside it (:class:`_ReadOnly`); in a read-only
    folder or medium it is read as immutable, and :data:`notify` says so. A file of an older
    schema is read through a migrated copy in memory. Raises :class:`StoreError` naming the
    file and the problem: no such file, a folder, not a regular file, unreadable, empty, not a
    usetest database, from a newer usetest, damaged. Close the result with ``db.close()``.
    """
    path = Path(path)
    _check_file(path)
    if path.stat().st_size == 0:
        raise StoreError(f"{path} is empty: no session has been recorded in it — check the path")
    db = _open_read(path)
    if db is None:
        raise StoreError(f"{path} is not a usetest database (no usetest tables in it) — check "
                         "the path")  # fmt: skip
    return db


def _open_read(path: Path) -> Database | None:
    sqlite_utils = _import_sqlite_utils()
    conn = _read_only(path)
    try:
        _verify_once(conn, path)
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(_newer(path, version))
        if version == 0 and tables:
            raise StoreError(f"{path} holds other tables and is not a usetest database — check "
                             "the path")  # fmt: skip
        if version == 0:
            conn.close()
            return None
        if version == SCHEMA_VERSION:
            db: Database = sqlite_utils.Database(conn)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            return db
        copy: Database = sqlite_utils.Database(memory=True)
        conn.backup(copy.conn)
        conn.close()
        migrate(copy)
        return copy
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(_explain(path, exc)) from exc
    except StoreError:
        conn.close()
        raise


def _verify_once(conn: sqlite3.Connection, path: Path) -> None:
    """:func:`verify` the file, unless the memo of checked files (:mod:`usetest.checked`) has
    it unchanged since it passed: then only its schema is compared again (a few ms)."""
    from usetest import checked

    before = checked.fingerprint(path, SCHEMA_VERSION)
    if checked.known(before):
        check_structure(conn, path)
        checked.remember(before)  # most recently used
        return

    def more() -> sqlite3.Connection:  # for the check's workers: read-only like ``conn``
        params = {"mode": "ro", **({"immutable": "1"} if getattr(conn, "immutable", False)
                                   else {})}  # fmt: skip
        return _connect(path, any_thread=True, **params)

    verify(conn, path, more)  # the file is as usetest writes it (store: "Checking a file")
    if before is not None and checked.fingerprint(path, SCHEMA_VERSION) == before:
        checked.remember(before)  # unchanged while it was checked


def study_title(db: Database) -> str | None:
    """The study's title as its newest version names it; None before any session."""
    row = db.execute("SELECT study FROM scenarios WHERE version IS NOT NULL"
                     " ORDER BY version DESC LIMIT 1").fetchone()  # fmt: skip
    return str(row[0]) if row else None


def write_copy(db: Database, path: Path) -> None:
    """Write the database ``db`` (a file's migrated copy in memory, say) to a new file ``path``
    with SQLite's backup API: a reader that needs a file (Datasette) reads that."""
    target = _connect(path, mode="rwc")
    try:
        db.conn.backup(target)
    finally:
        target.close()


def check_recordable(path: str | Path) -> None:
    """Refuse (StoreError) a path where no session could be recorded — a read-only file or
    folder — at start-up, without creating or writing anything (the file is only created
    when a session starts)."""
    path = Path(path)
    folder = _check_place(path)
    if path.exists():
        _check_writable(path)
        return
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(f"cannot create {path}: the folder {folder} is read-only — choose a "
                         "folder you can write to (--db)")  # fmt: skip


def _check_place(path: Path) -> Path:
    """Refuse (StoreError) a path that can never hold a database — a folder, a device, pipe or
    socket, a name under a file — and return the nearest folder that exists."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder — give a database file name such as {path}/study.db")
    if path.exists() and not path.is_file():
        raise StoreError(f"{path} is not a regular file (a device, pipe or socket) — give a "
                         "database file name such as results/study.db")  # fmt: skip
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise StoreError(f"{folder} is a file, not a folder, so {path} cannot be created in it "
                         "— check the path (--db)")  # fmt: skip
    return folder


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
    if "events.session_id, events.event_seq" in text or "events.session_id, events.seq" in text:
        # only a writer outside the ownership rule gets here (an older usetest, a script)
        return (f"the event was NOT saved: another program recorded events for this session "
                f"in {where} meanwhile, so this app's copy is out of date; everything saved "
                "before is kept — quit this app (ctrl+q) and resume the session")  # fmt: skip
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
    # one version of it, numbered in the order first run. A text no session ran (older
    # usetests saved it on opening the set-up screen) is no version: NULL.
    db.execute("ALTER TABLE scenarios ADD COLUMN study_key TEXT")
    db.execute("ALTER TABLE scenarios ADD COLUMN version INTEGER")
    db.execute("UPDATE scenarios SET study_key = study")
    first_runs = db.execute("SELECT scenario_id FROM sessions GROUP BY scenario_id"
                            " ORDER BY min(id)").fetchall()  # fmt: skip
    for number, (scenario_id,) in enumerate(first_runs, start=1):
        db.execute("UPDATE scenarios SET version = ? WHERE id = ?", [number, scenario_id])
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


def _v3_observers(db: Database) -> None:
    """Observers (``usetest observe``): who wrote a note, and the observers' inbox.

    An observer never writes the session's event log (one writer per session: the app that
    has it). Their notes wait in ``observer_notes`` until that app logs each as a note event
    (``author`` = the observer's initials) and sets ``taken_seq`` in the same transaction; a
    note posted while no app has the session waits for the session to be resumed."""
    db.execute("ALTER TABLE notes ADD COLUMN author TEXT")
    db.execute(
        """CREATE TABLE observer_notes (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            observer TEXT NOT NULL,
            task_id TEXT,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            severity INTEGER,
            noted_at TEXT NOT NULL,
            taken_seq INTEGER
        )"""
    )
    db.execute("CREATE INDEX observer_notes_waiting ON observer_notes (session_id, taken_seq)")


def _v4_readable(db: Database) -> None:
    """A database that explains itself in Datasette or any SQL client (``usetest datasette``).

    ``tasks``: each version's tasks (id, title, position in the scenario), written with the
    version, so a query can show titles; ``task_attempts``: the attempts with the participant's
    code, condition, version, task title and time in seconds; and ``seq``, which read as the
    Single Ease Question next to ``seq_rating``, becomes ``event_seq`` in the events log (as in
    errors, notes and answers) and ``taken_event_seq`` in the observers' inbox."""
    db.execute("ALTER TABLE events RENAME COLUMN seq TO event_seq")
    db.execute("ALTER TABLE observer_notes RENAME COLUMN taken_seq TO taken_event_seq")
    db.execute(
        """CREATE TABLE tasks (
            scenario_id INTEGER NOT NULL REFERENCES scenarios(id),
            task_id TEXT NOT NULL,
            title TEXT NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (scenario_id, task_id)
        )"""
    )
    for scenario_id, text in db.execute("SELECT id, text FROM scenarios ORDER BY id").fetchall():
        scenario = _parsed_or_none(text)
        if scenario is not None:  # one that does not parse is refused by verify, not here
            _insert_tasks(db.conn, scenario_id, scenario)
    db.execute(f"CREATE VIEW task_attempts AS {TASK_ATTEMPTS}")


TASK_ATTEMPTS = """SELECT s.participant, s.condition, sc.version, a.position, a.task_id,
    t.title AS task_title, a.status, a.outcome, a.time_ms / 1000.0 AS time_s, a.errors,
    a.assists, a.seq_rating, a.over_time_limit, a.pauses, a.corrections, a.started_at,
    a.ended_at, a.session_id
    FROM attempts a JOIN sessions s ON s.id = a.session_id
    JOIN scenarios sc ON sc.id = s.scenario_id
    LEFT JOIN tasks t ON t.scenario_id = s.scenario_id AND t.task_id = a.task_id"""
"""The ``task_attempts`` view: one row per participant and task, readable as it stands."""


def _parsed_or_none(text: str) -> Any:
    from usetest.scenario import ScenarioError, parse_scenario

    try:
        return parse_scenario(text, "<stored scenario>", as_recorded=True).scenario
    except ScenarioError:
        return None


def _insert_tasks(conn: sqlite3.Connection, scenario_id: int, scenario: Any) -> None:
    conn.executemany(
        "INSERT INTO tasks (scenario_id, task_id, title, position) VALUES (?, ?, ?, ?)",
        [(scenario_id, t.id, t.title, n) for n, t in enumerate(scenario.tasks, start=1)],
    )  # fmt: skip


def record_tasks(db: Database, scenario_id: int, scenario: Any) -> None:
    """Write a newly stored scenario text's tasks into ``tasks`` (in the caller's transaction)."""
    _insert_tasks(db.conn, scenario_id, scenario)


MIGRATIONS: list[Callable[[Database], None]] = [_v1_initial, _v2_study_day, _v3_observers,
                                                _v4_readable]
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
# Checking a file.
#
# A study database can come from anywhere: another lab machine, an e-mail, a colleague's script.
# Before anything reads it (the read openers, :func:`open_db`, merge's sources) :func:`verify`
# checks that it is what usetest writes: the schema of its version exactly (tables, columns,
# triggers and indexes as the migrations create them, compared with a copy migrated in memory),
# nothing else beside it (a view or trigger usetest did not create could hide, add or alter
# rows: a ``notes`` view over another table, a trigger that drops notes or rewrites times), the
# values readers rely on (types, ranges, JSON, timestamps, references: cheap aggregate queries,
# one scan per table), and every stored scenario text (it parses, and its SHA-256 is its own).
# A file that fails is refused as a whole with :class:`DatabaseRefused`; nothing is repaired.

MAX_MS = 366 * 24 * 3600 * 1000
"""Longest duration a stored time may hold (a year): longer ones are damage, not data."""
MAX_COUNT = 10**9
"""Largest count (errors, assists, pauses …) a stored row may hold."""


class DatabaseRefused(StoreError):
    """The file is not as usetest writes it (changed outside usetest, or damaged): it is
    neither read nor written. The message names the file, what is wrong and what to do."""


@dataclass(frozen=True)
class _Schema:
    tables: dict[str, tuple[tuple[Any, ...], ...]]
    """Table -> its columns as ``PRAGMA table_info`` gives them, less the position."""
    objects: dict[tuple[str, str], str]
    """(type, name) -> SQL (whitespace folded) of every trigger, view and named index."""


_schemas: dict[int, _Schema] = {}


def _fold(sql: str | None) -> str:
    return " ".join((sql or "").split())


def _read_schema(conn: sqlite3.Connection) -> _Schema:
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    tables = {name: tuple(tuple(c[1:]) for c in conn.execute(f'PRAGMA table_info("{name}")'))
              for kind, name, _ in rows if kind == "table" and not name.startswith("sqlite_")}  # fmt: skip
    objects = {(kind, name): _fold(sql) for kind, name, sql in rows
               if kind in ("trigger", "index", "view") and sql}  # fmt: skip
    return _Schema(tables, objects)


def expected_schema(version: int = SCHEMA_VERSION) -> _Schema:
    """The schema :data:`MIGRATIONS` give a new database at ``version`` (built once, in memory)."""
    if not _schemas:
        built = {}
        db = _import_sqlite_utils().Database(memory=True)
        for step, migration in enumerate(MIGRATIONS, start=1):
            migration(db)
            built[step] = _read_schema(db.conn)
        db.close()
        _schemas.update(built)  # all at once: a reader in another thread never sees half
    return _schemas[version]


def columns(table: str) -> list[str]:
    """The columns of one of usetest's tables, in order (for explicit column lists)."""
    return [c[0] for c in expected_schema().tables[table]]


def _refuse(path: Path | str, problem: str, advice: str | None = None) -> DatabaseRefused:
    advice = advice or ("it was changed outside usetest or is damaged; usetest will neither read "
                        "nor write it — restore it from a backup (or ask whoever sent it for "
                        "the original)")  # fmt: skip
    return DatabaseRefused(f"{path}: {problem} — {advice}")


_FOREIGN = ("it could hide, add or change what is recorded or read, so usetest will neither "
            "read nor write this file — if you added it yourself, remove it (DROP {kind} "
            "\"{name}\"), otherwise restore the file from a backup")  # fmt: skip


def verify(db: Database | sqlite3.Connection, path: Path | str,
           more: Callable[[], sqlite3.Connection] | None = None) -> None:  # fmt: skip
    """Check the study database ``db`` (opened from ``path``) before anything reads it.

    Raises :class:`DatabaseRefused` naming the file, the problem and what to do: a schema
    version no usetest writes, a missing or foreign table, view, trigger or index, a column
    missing, added or changed, a value of the wrong type or out of range, a row pointing at
    nothing, a stored scenario text that does not parse or does not match its SHA-256. A file
    with no usetest tables (user_version 0) is left to the caller. One aggregate query per
    table, then each stored scenario parsed once: about 10 ms for a study of a dozen sessions,
    1 s for 100,000 attempts and 500,000 events (docs/hardening.md).

    ``more`` opens another read-only connection to the same file: a large file's scans (cut
    into parts of :data:`SCAN_ROWS` rows) then run on every core, one connection per worker,
    while this thread parses the stored scenarios. The problems found, and the order they are
    reported in, are the same either way.
    """
    conn = db if isinstance(db, sqlite3.Connection) else db.conn
    version = check_structure(conn, path)
    try:
        if version:
            schema = expected_schema(version)
            scans = _scans(conn, schema, parted=more is not None and _WORKERS > 1)
            found = _run_scans(conn, scans, more, lambda: _check_scenarios(conn, path))
            totals: dict[str, list[int]] = {}  # a table's sums, over its parts
            for scan, result in zip(scans, found[:-1], strict=True):
                if isinstance(result, BaseException):
                    raise result
                if scan.checks:
                    was = totals.setdefault(scan.sql, [0] * len(result))
                    totals[scan.sql] = [a + b for a, b in zip(was, result, strict=True)]
                if not scan.last:
                    continue  # more parts of this table to come
                for what, bad in zip(scan.checks, totals.get(scan.sql, ()), strict=True):
                    if bad:
                        raise _refuse(path, f"{what} ({bad} row{'s' if bad != 1 else ''})")
            if isinstance(found[-1], BaseException):
                raise found[-1]
    except UnicodeDecodeError:
        raise _undecodable(path) from None
    except sqlite3.OperationalError as exc:
        if "decode" not in str(exc):
            raise StoreError(_explain(Path(path), exc)) from exc
        raise _undecodable(path) from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(_explain(Path(path), exc)) from exc


SCAN_ROWS = 250_000
"""Rows of a table one worker of :func:`verify` scans at a time (when it has several)."""
SCAN_PARTS_MAX = 64
_WORKERS = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1, 8)  # fmt: skip
"""Threads that scan a large file at once: one per core this process may use, at most 8."""


@dataclass(frozen=True)
class _Scan:
    """One query of the check: a table's value checks (``checks``: what each sum counts) or
    its non-ASCII texts (read back, so that Python decodes them), over all its rows or a range
    of rowids (``part``: SQL on ``rowid``; ``last``: the table's last part)."""

    sql: str
    checks: tuple[str, ...] = ()
    part: str = ""
    last: bool = True


def _parts(conn: sqlite3.Connection, table: str) -> list[str]:
    """``table``'s rows cut into ranges of rowids of about :data:`SCAN_ROWS` (at most
    :data:`SCAN_PARTS_MAX`); the first and last ranges are open, so that every row is in one
    whatever its rowid (a hostile file's rowids may be negative, or far apart)."""
    low, high = conn.execute(f'SELECT min(rowid), max(rowid) FROM "{table}"').fetchone()
    if low is None or high - low < 2 * SCAN_ROWS:
        return [""]
    count = min(SCAN_PARTS_MAX, (high - low) // SCAN_ROWS)
    cuts = [low + (high - low) * i // count for i in range(1, count)]
    return ([f"rowid <= {cuts[0]}"]
            + [f"rowid > {a} AND rowid <= {b}" for a, b in itertools.pairwise(cuts)]
            + [f"rowid > {cuts[-1]}"])  # fmt: skip


def _scans(conn: sqlite3.Connection, schema: _Schema, parted: bool) -> list[_Scan]:
    """The check's queries, in the order their problems are reported: every table's values
    (:func:`_value_checks`), then, since a byte flipped inside a text is invisible to SQL and
    Python cannot decode it, every non-ASCII text read once (few are), except the events log's
    (only an export reads it, and says so): one GLOB per text value. ``parted``: a large
    table's queries cut into ranges (:func:`_parts`), for workers."""
    non_ascii = "'*[^' || char(1) || '-' || char(127) || ']*'"
    values, texts = [], []
    for table, cols in schema.tables.items():
        parts = _parts(conn, table) if parted else [""]
        checks = _value_checks(table, cols)
        sums = ", ".join(f"coalesce(sum(coalesce({sql}, 0)), 0)" for _, sql in checks)
        names = tuple(what for what, _ in checks)
        values += [_Scan(f'SELECT {sums} FROM "{table}"', names, part, n == len(parts) - 1)
                   for n, part in enumerate(parts)]  # fmt: skip
        text = [f'"{c[0]}"' for c in cols if c[1].upper() == "TEXT"]
        if table != "events" and text:
            where = " OR ".join(f"{c} GLOB {non_ascii}" for c in text)
            texts += [_Scan(f'SELECT {", ".join(text)} FROM "{table}" WHERE ({where})', (), part)
                      for part in parts]  # fmt: skip
    return values + texts


def _scan(conn: sqlite3.Connection, scan: _Scan) -> Any:
    sql = scan.sql
    if scan.part:
        sql += f" AND ({scan.part})" if " WHERE " in sql else f" WHERE {scan.part}"
    rows = conn.execute(sql).fetchall()
    return rows[0] if scan.checks else len(rows)


def _run_scans(conn: sqlite3.Connection, scans: list[_Scan],
               more: Callable[[], sqlite3.Connection] | None,
               beside: Callable[[], None]) -> list[Any]:  # fmt: skip
    """Each scan's result (a row of sums, or the count of texts read), or the exception it
    raised, in order; then what ``beside`` raised (or None) as the last item. With ``more`` and
    more than one part, the scans run in threads of their own while ``beside`` runs here."""

    def attempt(run: Callable[[], Any]) -> Any:
        # whatever a part raises waits its turn: a problem reported earlier in the order (a
        # value of the wrong type) may be what made a later part fail
        try:
            return run()
        except Exception as exc:  # raised again by verify, in its turn
            return exc

    if more is None or _WORKERS < 2 or sum(bool(s.part) for s in scans) < 2:
        return [attempt(lambda s=s: _scan(conn, s)) for s in scans] + [attempt(beside)]
    import threading
    from concurrent.futures import ThreadPoolExecutor

    local, opened = threading.local(), []
    lock = threading.Lock()

    def run(scan: _Scan) -> Any:
        own = getattr(local, "conn", None)
        if own is None:
            own = local.conn = more()
            with lock:
                opened.append(own)
        return attempt(lambda: _scan(own, scan))

    try:
        with ThreadPoolExecutor(_WORKERS, thread_name_prefix="usetest-check") as pool:
            futures = [pool.submit(run, s) for s in scans]
            last = attempt(beside)
            return [f.result() for f in futures] + [last]
    finally:
        for own in opened:
            own.close()


def _undecodable(path: Path | str) -> DatabaseRefused:
    return _refuse(path, "it holds text that is not valid UTF-8, so it is damaged",
                   "restore it from a backup, with its -wal file if there is one")  # fmt: skip


def check_structure(conn: sqlite3.Connection, path: Path | str) -> int:
    """The schema part of :func:`verify` (what :func:`open_db` checks before any write):
    returns the file's schema version, 0 for a file without usetest tables."""
    try:
        return _check_structure(conn, path)
    except UnicodeDecodeError:
        raise _undecodable(path) from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(_explain(Path(path), exc)) from exc


def _check_structure(conn: sqlite3.Connection, path: Path | str) -> int:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version == 0:
        return 0
    if version < 0 or version > SCHEMA_VERSION + 1000:
        raise _refuse(path, f"its schema version (PRAGMA user_version) is {version}, which no "
                      "usetest writes")  # fmt: skip
    if version > SCHEMA_VERSION:
        raise StoreError(_newer(path, version))
    expected = expected_schema(version)
    found = _read_schema(conn)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'"):
        if ("view", name) in expected.objects and name not in expected.tables:
            continue  # compared with the objects below
        what = (f"“{name}” is a view, not a table" if name in expected.tables
                else f"it holds a view “{name}”")  # fmt: skip
        raise _refuse(path, what, _FOREIGN.format(kind="VIEW", name=name))
    for name in expected.tables:
        if name not in found.tables:
            raise _refuse(path, f"the table “{name}” is missing")
    for name in found.tables:
        if name not in expected.tables:
            foreign = _FOREIGN.format(kind="TABLE", name=name)
            raise _refuse(path, f"it holds a table “{name}”", foreign)
    for name, cols in expected.tables.items():
        have = found.tables[name]
        if have == cols:
            continue
        names, want = [c[0] for c in have], [c[0] for c in cols]
        if missing := [c for c in want if c not in names]:
            problem = f"the column “{missing[0]}” of “{name}” is missing"
        elif extra := [c for c in names if c not in want]:
            problem = f"the table “{name}” has a column “{extra[0]}” usetest did not create"
        else:
            changed = next(w[0] for h, w in zip(have, cols, strict=False) if h != w)
            problem = f"the column “{changed}” of “{name}” is not as usetest creates it"
        raise _refuse(path, problem)
    for (kind, name), sql in found.objects.items():
        if kind == "index" and name.startswith("sqlite_autoindex_"):
            continue
        if expected.objects.get((kind, name)) != sql:
            raise _refuse(path, f"it holds a {kind} “{name}” usetest did not create",
                          _FOREIGN.format(kind=kind.upper(), name=name))  # fmt: skip
    for kind, name in expected.objects:
        if (kind, name) not in found.objects:
            raise _refuse(path, f"the {kind} “{name}” is missing")
    return version


def _column_checks(table: str, cols: tuple[tuple[Any, ...], ...]) -> list[tuple[str, str]]:
    """(what is wrong, SQL true for a bad row) for each column of ``table``."""
    checks: list[tuple[str, str]] = []
    rowid = [c[0] for c in cols if c[4]] == ["id"]  # ``id INTEGER PRIMARY KEY``: always integer
    for name, decl, notnull, _default, pk in cols:
        if rowid and name == "id":
            continue
        col = f'"{name}"'
        kinds = {"TEXT": "'text'", "INTEGER": "'integer'"}.get(decl.upper())
        if kinds is None:
            continue
        if not notnull and not (pk and decl.upper() == "INTEGER"):
            kinds += ", 'null'"
        checks.append((f"“{table}.{name}” holds a value that is not {decl.lower()}",
                       f"typeof({col}) NOT IN ({kinds})"))  # fmt: skip
        if name.endswith("_at") or name == "at":
            checks.append((f"“{table}.{name}” holds something that is not a time",
                           f"{col} IS NOT NULL AND julianday({col}) IS NULL"))  # fmt: skip
        if decl.upper() == "INTEGER" and name.endswith("_ms") and name != "mono_ms":
            checks.append((f"“{table}.{name}” holds a time out of range",
                           f"{col} NOT BETWEEN 0 AND {MAX_MS}"))  # fmt: skip
    return checks


_RANGES: dict[str, list[tuple[str, str]]] = {
    "attempts": [("counts out of range", "min(errors, assists, pauses, interruptions, position)"
                  f" < 0 OR max(errors, assists, pauses, interruptions) > {MAX_COUNT}"),
                 ("a SEQ rating out of 1–7", "seq_rating NOT BETWEEN 1 AND 7"),
                 ("a time limit out of range", f"time_limit_s NOT BETWEEN 0 AND {MAX_MS // 1000}"),
                 ("counts out of range", f"corrections NOT BETWEEN 0 AND {MAX_COUNT}")],
    "notes": [("a severity out of 0–4", "severity NOT BETWEEN 0 AND 4")],
    "observer_notes": [("a severity out of 0–4", "severity NOT BETWEEN 0 AND 4"),
                       ("a note kind usetest does not log",
                        "kind NOT IN ('observation', 'quote', 'problem')")],
    "answers": [("an answer out of range", f"abs(value_num) > {MAX_COUNT}")],
    "sessions": [("a task order that is not a JSON list", "CASE WHEN typeof(task_order) = 'text'"
                  " AND json_valid(task_order) THEN json_type(task_order) != 'array' ELSE 1 END"),
                 ("a session whose scenario is missing",
                  "scenario_id NOT IN (SELECT id FROM scenarios)"),
                 ("an owner that is not JSON", "owner IS NOT NULL AND NOT (typeof(owner) = 'text'"
                  " AND json_valid(owner))")],
    "events": [("an event payload that is not JSON",
                "NOT (typeof(payload) = 'text' AND json_valid(payload))")],
}  # fmt: skip
"""Per table: (what is wrong, SQL true for a bad row). A check naming a column that the file's
schema version does not have yet (``corrections``, ``owner``: schema 2) is left out."""
_LATER = {"corrections", "owner", "declined", "consent_at", "consent_how", "study_key", "version",
          "author"}


def _value_checks(table: str, cols: tuple[tuple[Any, ...], ...]) -> list[tuple[str, str]]:
    """(what is wrong, SQL true for a bad row) for every value check of ``table``: its columns'
    types and ranges (:func:`_column_checks`), :data:`_RANGES`, its rows' session."""
    checks = _column_checks(table, cols)
    names = {c[0] for c in cols}
    checks += [(f"“{table}” holds {what}", sql) for what, sql in _RANGES.get(table, [])
               if not (set(re.findall(r"\w+", sql)) & _LATER) - names]  # fmt: skip
    if "session_id" in names:
        checks.append((f"“{table}” holds rows of a session that is not there",
                       "session_id NOT IN (SELECT id FROM sessions)"))  # fmt: skip
    return checks


def _check_scenarios(conn: sqlite3.Connection, path: Path | str) -> None:
    import hashlib

    from usetest.scenario import ScenarioError, parse_scenario

    tasks = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                         " AND name = 'tasks'").fetchone() is not None  # fmt: skip
    if tasks:
        listed: dict[int, list[tuple[Any, ...]]] = {}
        for row in conn.execute("SELECT scenario_id, task_id, title, position FROM tasks"
                                " ORDER BY scenario_id, position"):  # fmt: skip
            listed.setdefault(row[0], []).append(tuple(row[1:]))
    for row_id, sha, text in conn.execute("SELECT id, sha256, text FROM scenarios ORDER BY id"):
        if hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() != sha:
            raise _refuse(path, f"the stored scenario {row_id} does not match its SHA-256 "
                          "(its text was changed after it was recorded)")  # fmt: skip
        try:
            scenario = parse_scenario(text, "<stored scenario>", as_recorded=True).scenario
        except ScenarioError as exc:
            lines = str(exc).strip().splitlines() or ["invalid"]
            first = lines[0] if len(lines[0]) <= 160 else lines[0][:160].rsplit(" ", 1)[0] + " …"
            if len(lines) > 1:
                first += f"; {len(lines) - 1} more problem(s)"
            raise _refuse(path, f"the stored scenario {row_id} is not a valid scenario "
                          f"({first})") from None  # fmt: skip
        if tasks and listed.pop(row_id, []) != [(t.id, t.title, n) for n, t
                                                in enumerate(scenario.tasks, start=1)]:
            raise _refuse(path, f"the table “tasks” does not list the tasks of the stored "
                          f"scenario {row_id} as its text has them")  # fmt: skip
    if tasks and listed:
        raise _refuse(path, f"the table “tasks” lists tasks of a scenario that is not there "
                      f"({min(listed)})")  # fmt: skip


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


@dataclass(frozen=True)
class StoredVersion:
    """One version of the study: a scenario text that sessions ran (``scenarios`` row)."""

    id: int
    version: int
    sha256: str
    study: str
    study_key: str
    text: str
    loaded_at: str
    """UTC time the version was first used (its first session began)."""
    source_path: str | None


def scenario_versions(db: Database) -> list[StoredVersion]:
    """The study's versions, oldest first (texts no session ran are left out)."""
    rows = db.execute(
        "SELECT id, version, sha256, study, coalesce(study_key, study), text, loaded_at,"
        " source_path FROM scenarios WHERE version IS NOT NULL ORDER BY version, id"
    ).fetchall()
    return [StoredVersion(*row) for row in rows]


def same_study(key_a: str, title_a: str, key_b: str, title_b: str) -> bool:
    """Whether two scenarios (study key, title) are one study: the same key (``study_id``,
    else the title), or the same title where one of them has no ``study_id`` (so a study_id
    can be added to a study known by its title)."""
    return key_a == key_b or (title_a == title_b and (key_a == title_a or key_b == title_b))


def _study_name(key: str, title: str) -> str:
    return f"“{title}”" + (f" (study_id {key})" if key != title else "")


def check_study(db: Database, loaded: LoadedScenario, where: str | Path | None = None) -> None:
    """Refuse a scenario of another study than the one the database holds (StoreError).

    ``where`` names the database in the message (default: its file name).
    """
    sc = loaded.scenario
    versions = scenario_versions(db)
    if not versions or any(same_study(v.study_key, v.study, sc.study_key, sc.study)
                           for v in versions):  # fmt: skip
        return
    held = versions[-1]
    where = str(where or _db_file(db))
    source = str(loaded.path) if loaded.path else "this scenario"
    stem = loaded.path.stem if loaded.path else "other-study"
    renamed = (f"; if it is that study renamed, give the scenario `study_id: {held.study_key}`"
               if held.study_key != held.study else "")  # fmt: skip
    raise StoreError(
        f"{where} holds the study {_study_name(held.study_key, held.study)}, and {source} is "
        f"another study, {_study_name(sc.study_key, sc.study)} — a database holds one study, so "
        f"nothing was written to it. Record this study in a database of its own: another --db, "
        f"e.g. --db results/{stem}.db{renamed}"
    )


@contextmanager
def write_lock(db: Database) -> Iterator[None]:
    """A transaction that holds the write lock from its first read (BEGIN IMMEDIATE), so a
    check and the write it allows cannot be split by another process's write."""
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.DatabaseError as exc:
        raise StoreError("nothing was written: " + _explain(Path(_db_file(db)), exc)) from exc
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise StoreError("nothing was written: " + _explain(Path(_db_file(db)), exc)) from exc


def save_scenario(db: Database, loaded: LoadedScenario, loaded_at: str) -> int:
    """Keep the scenario text as a version of the database's study and return its id.

    A scenario of another study is refused (:func:`check_study`) with nothing written. A text
    stored before is the version it was; a new text becomes the next version: 1, 2, 3 … in the
    order of first use (this is called when a session starts).
    """
    sc = loaded.scenario
    try:
        with write_lock(db):
            check_study(db, loaded)
            row = db.execute("SELECT id, version FROM scenarios WHERE sha256 = ?",
                             [loaded.sha256]).fetchone()  # fmt: skip
            if row and row[1] is not None:
                return int(row[0])
            number = int(db.execute("SELECT coalesce(max(version), 0) FROM scenarios")
                         .fetchone()[0]) + 1  # fmt: skip
            if row:  # saved by an older usetest but never run: its first use is now
                db.execute("UPDATE scenarios SET version = ?, study_key = ?, loaded_at = ?"
                           " WHERE id = ?", [number, sc.study_key, loaded_at, row[0]])  # fmt: skip
                return int(row[0])
            cursor = db.execute(
                "INSERT INTO scenarios (sha256, study, source_path, text, loaded_at, study_key,"
                " version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [loaded.sha256, sc.study, str(loaded.path) if loaded.path else None,
                 loaded.text, loaded_at, sc.study_key, number],
            )  # fmt: skip
            record_tasks(db, int(cursor.lastrowid or 0), sc)
            return int(cursor.lastrowid or 0)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"the session was not started: {_db_file(db)} refused to record the "
                         f"scenario ({exc}) — {_explain(Path(_db_file(db)), exc)}") from exc


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
    condition: str | None, order: list[str], started_at: str, owner: Owner | None = None,
) -> SessionRecord:  # fmt: skip
    """A new session row (claimed by ``owner``); a participant code is used once per database.

    Every way of starting a session passes here, so the code and the initials are checked here
    (:func:`usetest.plain.check_code`): one printable line, at most 64 characters.
    """
    from usetest.plain import check_code

    participant = participant.strip()
    if not participant:
        raise StoreError("a participant code is needed — for example " + next_participant_code(db))
    try:
        participant = check_code(participant, "participant code")
        moderator = check_code(moderator, "moderator initials") if moderator and moderator.strip() else None
    except ValueError as exc:
        raise StoreError(f"{exc}; no session was started") from None
    taken = db.execute(
        "SELECT status FROM sessions WHERE participant = ?", [participant]
    ).fetchone()
    if taken:
        raise _participant_taken(db, participant, taken[0])
    try:
        with db.atomic():
            cursor = db.execute(
                "INSERT INTO sessions (uid, scenario_id, participant, moderator, condition,"
                " task_order, started_at, last_event_at, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [str(uuid.uuid4()), scenario_id, participant, moderator or None,
                 condition or None, json.dumps(order), started_at, started_at,
                 owner.to_json() if owner else None],
            )  # fmt: skip
    except sqlite3.IntegrityError as exc:
        if "sessions.participant" not in str(exc):
            raise StoreError(f"could not record the new session: {exc}") from exc
        # another set-up screen took the same code a moment ago
        raise _participant_taken(db, participant, "in_progress") from exc
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"could not record the new session: {exc}") from exc
    return get_session(db, int(cursor.lastrowid or 0))


def _participant_taken(db: Database, participant: str, status: str) -> ParticipantTaken:
    hint = ("resume it with --resume --participant " + participant if status == "in_progress"
            else "it is " + status)  # fmt: skip
    code = next_participant_code(db)
    return ParticipantTaken(f"participant {participant} already has a session in this database "
                            f"({hint}); the next free code is {code}", code)  # fmt: skip


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


# ---------------------------------------------------------------------------------------------
# Observers: notes posted by ``usetest observe`` wait in observer_notes until the app that has
# the session logs them (one writer per session's event log).

OBSERVER_NOTE_MAX = 2000
"""Characters in one observer's note (a moderator's note has the same bound in the app)."""


@dataclass(frozen=True)
class ObserverNote:
    """A note an observer posted, waiting to be logged by the app recording the session."""

    id: int
    session_id: int
    observer: str
    task_id: str | None
    kind: str
    text: str
    severity: int | None
    noted_at: str


def post_observer_note(
    db: Database, session_id: int, observer: str, kind: str, text: str,
    severity: int | None, task_id: str | None, noted_at: str,
) -> int:  # fmt: skip
    """Put an observer's note in the session's inbox; its row id. Refused (StoreError) when the
    session is not in progress any more, or the note is not one a moderator could log."""
    if kind not in ("observation", "quote", "problem"):
        raise StoreError(f"unknown note kind {kind!r}: observation, quote or problem")
    if severity is not None and (kind != "problem" or severity not in range(5)):
        raise StoreError("only a problem carries a severity, 0 (none) to 4 (catastrophe)")
    if not text.strip():
        raise StoreError("an empty note was not sent — type some text first")
    if len(text) > OBSERVER_NOTE_MAX:
        raise StoreError(f"a note holds at most {OBSERVER_NOTE_MAX} characters; this one has "
                         f"{len(text)} — split it")  # fmt: skip
    with _immediate(db.conn) as conn:
        row = conn.execute("SELECT status, participant FROM sessions WHERE id = ?",
                           (session_id,)).fetchone()  # fmt: skip
        if row is None or row[0] != "in_progress":
            what = "is gone" if row is None else f"of {row[1]} is {row[0]}"
            raise StoreError(f"the session {what}: the note was not sent (nothing was recorded)")
        cursor = conn.execute(
            "INSERT INTO observer_notes (session_id, observer, task_id, kind, text, severity,"
            " noted_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session_id, observer, task_id, kind, text, severity, noted_at),
        )  # fmt: skip
        return int(cursor.lastrowid or 0)


def waiting_observer_notes(conn: sqlite3.Connection, session_id: int) -> list[ObserverNote]:
    """The session's observer notes not logged yet, oldest first (one indexed read)."""
    rows = conn.execute(
        "SELECT id, session_id, observer, task_id, kind, text, severity, noted_at"
        " FROM observer_notes WHERE session_id = ? AND taken_event_seq IS NULL ORDER BY id",
        (session_id,),
    ).fetchall()  # fmt: skip
    return [ObserverNote(*r) for r in rows]


def load_events(db: Database, session_id: int, after: int = 0) -> list[Event]:
    """The session's events in order; ``after``: only those with a greater ``event_seq`` (a
    screen that follows a live session reads just what is new: one indexed read)."""
    rows = db.execute(
        "SELECT event_seq, run, kind, task_id, payload, mono_ms, at FROM events"
        " WHERE session_id = ? AND event_seq > ? ORDER BY event_seq",
        [session_id, after],
    ).fetchall()
    return [
        Event(seq=r[0], run=r[1], kind=r[2], task_id=r[3], payload=json.loads(r[4]),
              mono_ms=r[5], at=r[6])
        for r in rows
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Writing events.


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction that takes the write lock at once (BEGIN IMMEDIATE), not halfway
    through; rolled back on any exception, committed otherwise."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class SessionStore:
    """The sink a :class:`usetest.session.Session` writes through, for one session.

    ``commit(event, state)`` inserts the event and brings the projections in line with
    ``state`` in a single transaction, committed (and synced, WAL + synchronous=FULL) before
    it returns. ``time_limits`` maps task id to its limit in seconds (for ``over_time_limit``).
    """

    def __init__(self, db: Database, session_id: int, time_limits: dict[str, int | None],
                 owner_token: str | None = None):  # fmt: skip
        self.db = db
        self.session_id = session_id
        self.time_limits = time_limits
        self.owner_token = owner_token
        """The claim this writer holds (:func:`claim_session`); None: a writer without one."""

    def __call__(self, event: Event, state: SessionState) -> None:
        self.commit(event, state)

    def commit(self, event: Event, state: SessionState) -> None:
        """Write ``event``; first check, in the same transaction, that this writer may: its
        claim still holds, or (without a claim) no app that may still run has the session.
        A session that ends (completed, abandoned) is given back in that transaction."""
        try:
            with self._transaction() as conn:
                _check_claim(conn, self.session_id, self.owner_token)
                self._write(conn, event, state)
                if state.status != "in_progress":
                    conn.execute("UPDATE sessions SET owner = NULL WHERE id = ?",
                                 (self.session_id,))  # fmt: skip
        except sqlite3.DatabaseError as exc:
            raise StoreError(_explain_write(self.db, exc)) from exc

    def commit_all(self, pairs: Sequence[tuple[Event, SessionState]]) -> None:
        """Several events (each with the state after it) in one transaction: all or none.
        The session start writes the consent and the profile answers this way."""
        try:
            with self._transaction() as conn:
                _check_claim(conn, self.session_id, self.owner_token)
                for event, state in pairs:
                    self._write(conn, event, state)
                if pairs and pairs[-1][1].status != "in_progress":
                    conn.execute("UPDATE sessions SET owner = NULL WHERE id = ?",
                                 (self.session_id,))  # fmt: skip
        except sqlite3.DatabaseError as exc:
            raise StoreError(_explain_write(self.db, exc)) from exc

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return _immediate(self.db.conn)

    def _write(self, conn: sqlite3.Connection, event: Event, state: SessionState) -> None:
        sid = self.session_id
        conn.execute(
            "INSERT INTO events (session_id, event_seq, run, kind, task_id, payload, mono_ms, at)"
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
                if event.payload.get("inbox_id") is not None:
                    self._take_observer_note(conn, event)
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

    def _take_observer_note(self, conn: sqlite3.Connection, event: Event) -> None:
        """Mark the observer's note ``event`` logs as taken, in the event's transaction; a
        note already taken (logged by an earlier event) is not logged twice."""
        taken = conn.execute(
            "UPDATE observer_notes SET taken_event_seq = ? WHERE id = ? AND session_id = ?"
            " AND taken_event_seq IS NULL", (event.seq, event.payload["inbox_id"], self.session_id),
        ).rowcount  # fmt: skip
        if taken != 1:
            raise StoreError(f"observer note {event.payload['inbox_id']} is not waiting "
                             "(already logged, or not of this session)")  # fmt: skip

    def _insert_note(self, conn: sqlite3.Connection, state: SessionState, seq: int) -> None:
        n = state.notes[seq]
        conn.execute(
            "INSERT INTO notes (session_id, event_seq, task_id, kind, text, severity, logged_at,"
            " author) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (self.session_id, seq, n.task_id, n.kind, n.text, n.severity, n.at, n.author),
        )  # fmt: skip

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


# ---------------------------------------------------------------------------------------------
# One app per session, and withdrawal.
#
# ``sessions.owner`` says which app records a session now (JSON, :class:`Owner`; NULL when no
# app has it open). An app claims the session when it starts or resumes it, in a BEGIN
# IMMEDIATE transaction, and gives it back when it quits, completes or abandons it. A claim is
# refused while the owner may still run; an owner that is provably gone (same host, and another
# boot, or its process no longer exists, or its pid now belongs to another process) is replaced
# at once, so a crash, kill -9 or power cut never stands in the way of resuming. An owner on
# another host cannot be checked, and a live owner may be frozen: both can only be taken over
# explicitly (``take_over=True``, which the app and the CLI confirm first). Every commit then
# checks, in its own transaction, that its claim still holds (:meth:`SessionStore.commit`), so
# an app whose session was taken over is told so instead of colliding on event numbers.
#
# Withdrawal (:func:`withdraw_session`) is the one path that deletes from the append-only
# ``events``. It drops the ``events_no_delete`` trigger, deletes the participant's rows and
# re-creates the trigger from its stored SQL, all inside one transaction: no other connection
# ever sees the log without its guard, and a failure rolls the trigger back with the rows.
# (A trigger cannot read a flag from the temp schema, so a WHEN clause cannot admit this path
# without also admitting any program that sets a flag in the main schema.) Then
# :func:`scrub` clears what SQLite keeps of deleted rows: secure_delete zeroes the freed cells,
# a TRUNCATE checkpoint empties the -wal, VACUUM rewrites the file, and a second checkpoint
# empties the -wal VACUUM wrote.


class SessionBusy(StoreError):
    """The session is open in another app that may still be running."""

    TAKE_OVER = ("close it there, or if that app is frozen or its computer is unreachable, "
                 "take the session over with --take-over (the other app will no longer be able "
                 "to save to it; everything it saved is kept)")  # fmt: skip

    def __init__(self, participant: str, owner: Owner, advice: str = TAKE_OVER) -> None:
        self.participant = participant
        self.owner = owner
        super().__init__(f"{participant} is open in another usetest ({owner.describe()}) — "
                         f"{advice}")  # fmt: skip


class SessionTakenOver(StoreError):
    """This app's claim on its session is gone: another app took it over, or it was erased."""


class ParticipantTaken(StoreError):
    """A new session's participant code is in use already; ``next_code`` is the next free one."""

    def __init__(self, message: str, next_code: str) -> None:
        super().__init__(message)
        self.next_code = next_code


class ScrubIncomplete(StoreError):
    """Deleted data may still be in the file or its -wal: another connection holds the file."""


def _owner_row(
    conn: sqlite3.Connection, session_id: int, missing: StoreError | None = None
) -> tuple[str, Owner | None, str]:
    """(participant, owner, status) of a session; ``missing`` is raised when it is gone."""
    row = conn.execute(
        "SELECT participant, owner, status FROM sessions WHERE id = ?", (session_id,)
    ).fetchone()
    if row is None:
        raise missing or StoreError(f"there is no session {session_id} in this database")
    return row[0], Owner.from_json(row[1]), row[2]


def session_owner(db: Database, session_id: int) -> Owner | None:
    """The app that has the session open and may still run; None if none (or it is gone)."""
    _, owner, _ = _owner_row(db.conn, session_id)
    return None if owner is None or owner.is_gone() else owner


def claim_session(
    db: Database, session_id: int, owner: Owner | None, *, take_over: bool = False
) -> Owner | None:
    """Make ``owner`` the app recording the session (``None``: only clear a gone owner).

    Refuses with :class:`SessionBusy` while another owner may still run, unless
    ``take_over``; returns the owner it displaced that way, else None.
    """
    try:
        with _immediate(db.conn) as conn:
            participant, current, _ = _owner_row(conn, session_id)
            mine = owner is not None and current is not None and current.token == owner.token
            displaced = None
            if current is not None and not mine and not current.is_gone():
                if not take_over:
                    raise SessionBusy(participant, current)
                displaced = current
            if current is not None or owner is not None:
                conn.execute("UPDATE sessions SET owner = ? WHERE id = ?",
                             (owner.to_json() if owner else None, session_id))  # fmt: skip
    except sqlite3.DatabaseError as exc:
        raise StoreError("could not open the session for recording, nothing was changed: "
                         + _explain(Path(_db_file(db)), exc)) from exc
    return displaced


def release_session(db: Database, session_id: int, owner: Owner) -> bool:
    """Give the session back (owner NULL) if ``owner`` still holds it; True if it did."""
    try:
        with _immediate(db.conn) as conn:
            row = conn.execute("SELECT owner FROM sessions WHERE id = ?", (session_id,)).fetchone()
            current = Owner.from_json(row[0]) if row else None
            if current is None or current.token != owner.token:
                return False
            conn.execute("UPDATE sessions SET owner = NULL WHERE id = ?", (session_id,))
    except sqlite3.Error:
        return False  # the app is closing; a stale owner is recognised as gone later
    return True


def _check_claim(conn: sqlite3.Connection, session_id: int, token: str | None) -> None:
    """Inside a commit's transaction: may this writer still write to the session?"""
    participant, current, status = _owner_row(conn, session_id, SessionTakenOver(
        "NOT SAVED: this session is no longer in the database (the participant was withdrawn "
        "with usetest withdraw); nothing more can be recorded for it — quit this app (ctrl+q)"
    ))  # fmt: skip
    if token is None:
        # A writer without a claim (usetest amend, a script): only while no live app records.
        if current is not None and not current.is_gone():
            raise SessionBusy(participant, current, "correct it in that app (c), or close it "
                              "there and try again; nothing was changed")  # fmt: skip
        return
    if current is not None and current.token == token:
        return
    if current is None and status != "in_progress":
        return  # released when it ended: corrections after the end stay possible
    by = f"by another usetest ({current.describe()})" if current else "by another usetest"
    raise SessionTakenOver(
        f"NOT SAVED: {participant}'s session was taken over {by}, so this app cannot record "
        "it any more; everything it saved before is kept — quit this app (ctrl+q) and go on "
        "in the other one"
    )


@dataclass(frozen=True)
class Withdrawal:
    """A tombstone: what is left of a withdrawn participant (no code, no text, no answers)."""

    session_uid: str
    scenario_id: int | None
    condition: str | None
    status: str
    withdrawn_at: str
    withdrawn_by: str | None
    reason: str | None


def _session_tables(conn: sqlite3.Connection) -> list[str]:
    """Every table with rows of a session (a ``session_id`` column), events included."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]  # fmt: skip
    return [n for n in names
            if any(c[1] == "session_id" for c in conn.execute(f'PRAGMA table_info("{n}")'))]  # fmt: skip


def withdraw_session(
    db: Database, participant: str, *, withdrawn_at: str, withdrawn_by: str | None = None,
    reason: str | None = None, take_over: bool = False,
) -> Withdrawal:  # fmt: skip
    """Erase a participant's session and everything recorded for it; keep a tombstone.

    Refused (:class:`SessionBusy`) while an app that may still run has the session open,
    unless ``take_over``. After the delete, :func:`scrub` clears the file and its -wal;
    :class:`ScrubIncomplete` if another program's open read keeps them from being cleared
    (the rows are deleted by then; :func:`scrub` again finishes the job).
    """
    record = find_session(db, participant)
    reason = (reason or "").strip() or None
    withdrawn_by = (withdrawn_by or "").strip() or None
    for label, text in (("reason", reason), ("name given with --by", withdrawn_by)):
        if text and record.participant.casefold() in text.casefold():
            raise StoreError(f"the {label} contains the participant code {record.participant}; "
                             "it stays in the database after the withdrawal — leave the code "
                             "out (nothing was changed)")  # fmt: skip
    conn = db.conn
    _checkpoint(db, "so nothing was changed — close that program and run the command again")
    tombstone = Withdrawal(record.uid, record.scenario_id, record.condition, record.status,
                           withdrawn_at, withdrawn_by, reason)  # fmt: skip
    secure = int(conn.execute("PRAGMA secure_delete").fetchone()[0])
    conn.execute("PRAGMA secure_delete = ON")  # freed cells are zeroed, not left readable
    try:
        with _immediate(conn):
            code, current, _ = _owner_row(conn, record.id)
            if current is not None and not current.is_gone() and not take_over:
                raise SessionBusy(code, current)
            conn.execute(
                "INSERT INTO withdrawals (session_uid, scenario_id, condition, status,"
                " withdrawn_at, withdrawn_by, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (tombstone.session_uid, tombstone.scenario_id, tombstone.condition,
                 tombstone.status, withdrawn_at, withdrawn_by, reason),
            )  # fmt: skip
            row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'"
                               " AND name = 'events_no_delete'").fetchone()  # fmt: skip
            guard = row[0] if row else _EVENTS_NO_DELETE
            conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
            for table in _session_tables(conn):
                conn.execute(f'DELETE FROM "{table}" WHERE session_id = ?', (record.id,))
            conn.execute("DELETE FROM sessions WHERE id = ?", (record.id,))
            conn.execute(guard)
    except sqlite3.DatabaseError as exc:
        conn.execute(f"PRAGMA secure_delete = {secure}")
        raise StoreError(f"the withdrawal failed and nothing was changed ({exc}) — try again; "
                         "if it fails again, copy the database and report it") from exc  # fmt: skip
    try:
        scrub(db)
    finally:
        conn.execute(f"PRAGMA secure_delete = {secure}")
    return tombstone


_EVENTS_NO_DELETE = """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'the events log is append-only'); END"""


def _checkpoint(db: Database, then: str) -> None:
    """Empty the -wal into the file; ScrubIncomplete (ending with ``then``) if a reader holds it."""
    if db.memory:
        return
    busy = db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    if busy:
        raise ScrubIncomplete(
            f"another program has {_db_file(db)} open and is reading it (Datasette, a database "
            f"browser, an export?), so its -wal cannot be cleared; {then}"
        )


def scrub(db: Database) -> None:
    """Leave no trace of deleted rows in the file or its -wal (checkpoint, VACUUM, checkpoint).

    :class:`ScrubIncomplete` when another connection keeps it from finishing; the deleted rows
    stay deleted, and running it again later finishes the job.
    """
    if db.memory:
        return
    then = ("the withdrawn participant is deleted, but old copies of their data may remain in "
            "the file until it is cleared — close that program, then run  usetest withdraw "
            f"{_db_file(db)} --finish")  # fmt: skip
    try:
        _checkpoint(db, then)
        db.conn.execute("VACUUM")
        _checkpoint(db, then)
    except sqlite3.DatabaseError as exc:
        raise ScrubIncomplete(f"the file could not be compacted ({exc}); {then}") from exc


def list_withdrawals(db: Database) -> list[Withdrawal]:
    rows = db.execute(
        "SELECT session_uid, scenario_id, condition, status, withdrawn_at, withdrawn_by, reason"
        " FROM withdrawals ORDER BY id"
    ).fetchall()
    return [Withdrawal(*r) for r in rows]


def session_footprint(db: Database, session_id: int) -> dict[str, int]:
    """Rows per table a session has (events, attempts, answers, errors, notes …): what a
    withdrawal erases."""
    conn = db.conn
    return {t: conn.execute(f'SELECT count(*) FROM "{t}" WHERE session_id = ?',
                            (session_id,)).fetchone()[0]
            for t in _session_tables(conn)}  # fmt: skip
