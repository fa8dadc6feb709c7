"""A memo of study files already checked, so that a large study is checked once, not per command.

Every reader checks a study database before reading it (:func:`usetest.store.verify`): one scan
of every table and every stored scenario parsed. At 1M attempts that is 10-15 s, paid again by
each ``summary``, ``report`` and ``export`` of the same unchanged file. This module remembers
the files that passed, by a *fingerprint* of their state, so the next command on the same,
unchanged file skips the scan (the store still compares the schema every time: it is cheap).

The fingerprint of a file is its absolute path; its device, inode, size, modification and change
times (nanoseconds); the first 100 bytes (SQLite's header, with its change counter); the same
for its ``-wal`` if that holds anything (its first 32 bytes: the WAL header with its salts); the
usetest version and schema version (a newer usetest may check more). Any write to the file or
its log changes the size, the times or the header; a copy is another inode with a new change
time, which no program can set back (only the system clock could); so a file sent by someone
else is always checked when it arrives. A file changed within the last :data:`SETTLE_S` seconds
is never remembered nor trusted: file times are coarse (a few milliseconds on Linux, 2 s on
FAT), and a write in the same tick as the check would otherwise leave the same fingerprint
(git's "racily clean" problem, handled as git does).

The memo lives in ``$USETEST_CACHE_DIR`` or else ``$XDG_CACHE_HOME/usetest`` (by default
``~/.cache/usetest``), as ``checked-files.json``: the SHA-256 of each fingerprint and when it
was last used, the newest :data:`KEEP` of them; the folder is private (0700), the file 0600 and
replaced atomically. ``USETEST_CACHE_DIR=`` (empty) turns it off. It is only ever a shortcut: a
memo that cannot be read or written is ignored (the file is then simply checked every time).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from usetest import __version__

SETTLE_S = 3.0
"""A file or log changed less than this many seconds ago is checked every time (coarse times)."""
KEEP = 200
"""How many checked files the memo remembers (the most recently used)."""
NAME = "checked-files.json"
FORMAT = 1


def folder() -> Path | None:
    """Where the memo lives; None when it is turned off (``USETEST_CACHE_DIR=``)."""
    chosen = os.environ.get("USETEST_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "usetest"


def _part(path: Path, head: int, now_ns: int) -> list[object] | None:
    """One file's share of a fingerprint; [] for an absent or empty file; None if it changed
    too recently to be trusted (or cannot be read)."""
    try:
        st = os.stat(path)
        if st.st_size == 0:
            return []
        if now_ns - max(st.st_mtime_ns, st.st_ctime_ns) < SETTLE_S * 1e9:
            return None
        with open(path, "rb") as handle:
            header = handle.read(head)
    except FileNotFoundError:
        return []
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, header.hex()]


def fingerprint(path: str | Path, schema_version: int) -> str | None:
    """The file's state as a SHA-256 hex digest, or None when it must be checked regardless
    (changed within :data:`SETTLE_S`, unreadable, the memo turned off)."""
    if folder() is None:
        return None
    path = Path(path).absolute()
    now = time.time_ns()
    main = _part(path, 100, now)
    wal = _part(Path(f"{path}-wal"), 32, now)
    if not main or wal is None:
        return None
    state = [FORMAT, __version__, schema_version, str(path), main, wal]
    return hashlib.sha256(json.dumps(state).encode("utf-8", "surrogatepass")).hexdigest()


def _load(where: Path) -> dict[str, float]:
    try:
        data = json.loads((where / NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    seen = data.get("checked")
    if not isinstance(seen, dict):
        return {}
    return {k: float(v) for k, v in seen.items()
            if isinstance(k, str) and isinstance(v, int | float)}  # fmt: skip


def known(print_: str | None) -> bool:
    """Whether a file with this fingerprint passed the check before."""
    where = folder()
    return bool(print_ and where is not None and print_ in _load(where))


def remember(print_: str | None) -> None:
    """Note that the file with this fingerprint passed the check (best effort, atomic)."""
    where = folder()
    if not print_ or where is None:
        return
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        seen = _load(where)
        seen[print_] = time.time()
        newest = sorted(seen.items(), key=lambda kv: kv[1], reverse=True)[:KEEP]
        text = json.dumps({"format": FORMAT, "checked": dict(newest)}, indent=0)
        fd, tmp = tempfile.mkstemp(prefix=".checked-", dir=where)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, where / NAME)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a shortcut only: the file is checked again next time
