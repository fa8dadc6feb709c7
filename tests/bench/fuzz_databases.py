"""Fuzz every read command with damaged and hostile study databases.

Each case copies a valid study database (the checkout study, recorded through the recorder:
tests/studydata.py) and applies one to three random mutations: drop, add (with hostile names)
or rename columns; rename a table and put a view in its place; foreign triggers, views, indexes
and tables; hostile values in random cells (huge and negative numbers, blobs, floats, empty and
huge strings, escapes, spreadsheet formulas, broken JSON) — in the append-only ``events`` too;
hostile scenario texts (with or without a matching hash); deleted rows; out-of-range
``user_version``; truncation and flipped bytes. Then every read command runs on it in-process
(click's CliRunner): ``summary`` (table and JSON), ``report --no-charts``, ``export`` as CSV and
Parquet, ``merge`` (the file as a source) and ``run --plan``.

A case fails when a command
- ends with an exception other than its own exit (a traceback), or prints "Traceback";
- hangs (10 s alarm);
- exits 0 on a file a mutation is known to damage (``damaging``: a schema change, a foreign
  object, a value no usetest writes, a bad version, a truncation), or exits non-zero without
  naming the file;
- disagrees with the others (one refuses the file, another reads it).

Run::

    .venv/bin/python -m tests.bench.fuzz_databases --cases 300 --seed 1

It prints the counts (cases, refused, read, failures by kind, time) and exits 1 if any case
failed. The suite runs a short fixed-seed version (tests/test_hostile_db.py).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tests.studydata import CHECKOUT, build_checkout
from usetest.cli import cli

TABLES = ["scenarios", "sessions", "events", "attempts", "answers", "errors", "notes",
          "withdrawals"]  # fmt: skip
HOSTILE_NAMES = ['x") VALUES (1); --', "extra", "sévérité", "a b", "select", '""', "id2"]
HOSTILE_VALUES: list[Any] = [
    -99999999999, 2**63 - 1, -(2**63), -1, 10**15, 3.5, 1e308, -1e308, b"\x00\xff", b"",
    "", "x" * 100_000, "\x1b]0;pwn\x07\x1b[2J", "=1+1", "=HYPERLINK(\"http://x\")", "{not json",
    "[1, 2", "null", "2026-13-45T99:99:99Z", "\u202e\u200bP01", "many", None, 0,
]  # fmt: skip
HOSTILE_TEXTS = [
    "!!python/object/apply:os.system ['echo pwned']\nstudy: x\n",
    "a: &a [*a, *a, *a]\n",
    "study: [unclosed\n",
    "\x00binary",
    "tasks: 5\nstudy: 7\n",
    "",
    "study: x\n" + "#" * 200_000,
]


@dataclass
class Case:
    number: int
    applied: list[str] = field(default_factory=list)
    damaging: bool = False


Mutation = Callable[[sqlite3.Connection, random.Random, Case], None]


def _columns(c: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in c.execute(f'PRAGMA table_info("{table}")')]


def _tables(c: sqlite3.Connection) -> list[str]:
    return [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                    " AND name NOT LIKE 'sqlite_%'")]  # fmt: skip


def drop_column(c: sqlite3.Connection, rng: random.Random, case: Case) -> None:
    table = rng.choice(_tables(c))
    column = rng.choice(_columns(c, table))
    c.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')  # may fail: pk, indexed, unique
    case.applied.append(f"drop {table}.{column}")
    case.damaging = True


def add_column(c: sqlite3.Connection, rng: random.Random, case: Case) -> None:
    table = rng.choice(_tables(c))
    name = rng.choice(HOSTILE_NAMES).replace('"', '""')
    c.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" TEXT DEFAULT \'x\'')
    case.applied.append(f"add {table}.{name!r}")
    case.damaging = True


def rename_column(c: sqlite3.Connection, rng: random.Random, case: Case) -> None:
    table = rng.choice(_tables(c))
    column = rng.choice(_columns(c, table))
    c.execute(f'ALTER TABLE "{table}" RENAME COLUMN "{column}" TO "{column}_old"')
    case.applied.append(f"rename {table}.{column}")
    case.damaging = True


def view_in_place(c: sqlite3.Connection, rng: random.Random, case: Case) -> None:
    table = rng.choice(_tables(c))
    c.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_real"')
    c.execute(f'CREATE VIEW "{table}" AS SELECT * FROM "{table}_real"'
              f' UNION ALL SELECT * FROM "{table}_real"')  # fmt: skip
    case.applied.append(f"view in place of {table}")
    case.damaging = True


def foreign_object(c: sqlite3.Connection, rng: random.Random, case: Case) -> None:
    table = rng.choice(["notes", "attempts", "sessions", "answers"])
    sql = rng.choice([
        f"CREATE TRIGGER quiet BEFORE INSERT ON {table} BEGIN SELECT RAISE(IGNORE); END",
        f"CREATE TRIGGER skew AFTER INSERT ON {table} BEGIN DELETE FROM {table}; END",
        "CREATE VIEW leak AS SELECT * FROM sessions",
        f"CREATE INDEX extra_index ON {table} (session_id)",
        "CREATE TABLE loot (x)",
    ])  # fmt: skip
    c.execute(sql)
    case.applied.append(sql.split(" ON ")[0].split(" AS ")[0])
    case.damaging = True


def _unguarded(c: sqlite3.Connection) -> Iterator[None]:
    guards = c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in guards:
        c.execute(f'DROP TRIGGER "{name}"')
    yield
    for _, sql in guards:
        c.execute(sql)


def hostile_value(c: sqlite3.Connection, rng: random.Random, case: Case) -> None:
    table = rng.choice([t for t in _tables(c) if c.execute(f'SELECT 1 FROM "{t}"').fetchone()])
    info = {r[1]: r[2].upper() for r in c.execute(f'PRAGMA table_info("{table}")')}
    column = rng.choice(list(info))
    value = rng.choice(HOSTILE_VALUES)
    with contextlib.contextmanager(_unguarded)(c):
        c.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = (SELECT rowid FROM'
                  f' "{table}" ORDER BY random() LIMIT 1)', (value,))  # fmt: skip
    shown = repr(value)[:30]
    case.applied.append(f"{table}.{column} = {shown}")
    stored = c.execute(f'SELECT typeof("{column}") FROM "{table}" WHERE "{column}" IS ?',
                       (value,)).fetchone()  # fmt: skip
    kind = stored[0] if stored else None
    # no usetest writes a value of another type, or one no reader can take (out of range)
    if kind is not None and (kind, info[column]) not in (("text", "TEXT"), ("integer", "INTEGER"),
                                                          ("null", "TEXT"), ("null", "INTEGER")):
        case.damaging = True
    if column in ("time_ms", "pause_ms") and kind == "integer" and not 0 <= value <= 10**12:
        case.damaging = True
    if column == "text" and table == "scenarios":
        case.damaging = True  # the hash no longer matches


def hostile_text(c: sqlite3.Connection, rng: random.Random, case: Case) -> None:
    """A text of the right type but a content no usetest writes (not flagged as damage: the
    checks cannot know every meaning, but no reader may crash on it)."""
    table = rng.choice(["sessions", "attempts", "answers", "errors", "notes", "events"])
    texts = [r[1] for r in c.execute(f'PRAGMA table_info("{table}")') if r[2].upper() == "TEXT"]
    column = rng.choice(texts)
    value = rng.choice([v for v in HOSTILE_VALUES if isinstance(v, str)])
    with contextlib.contextmanager(_unguarded)(c):
        c.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = (SELECT rowid FROM'
                  f' "{table}" ORDER BY random() LIMIT 1)', (value,))  # fmt: skip
    case.applied.append(f"{table}.{column} = {value[:30]!r}")


def hostile_scenario(c: sqlite3.Connection, rng: random.Random, case: Case) -> None:
    text = rng.choice(HOSTILE_TEXTS)
    if rng.random() < 0.5:
        c.execute("UPDATE scenarios SET text = ?, sha256 = ?",
                  (text, hashlib.sha256(text.encode("utf-8")).hexdigest()))  # fmt: skip
        case.applied.append(f"scenario text {text[:20]!r} (hash matching)")
    else:
        c.execute("UPDATE scenarios SET text = ?", (text,))
        case.applied.append(f"scenario text {text[:20]!r}")
    case.damaging = True


def delete_rows(c: sqlite3.Connection, rng: random.Random, case: Case) -> None:
    table = rng.choice(["scenarios", "sessions"])
    with contextlib.contextmanager(_unguarded)(c):
        c.execute(f"DELETE FROM {table}")
    case.applied.append(f"delete all {table}")
    case.damaging = True


def bad_version(c: sqlite3.Connection, rng: random.Random, case: Case) -> None:
    version = rng.choice([-1, 3, 999, 2**31 - 1, -(2**31)])
    c.execute(f"PRAGMA user_version = {version}")
    case.applied.append(f"user_version {version}")
    case.damaging = True


MUTATIONS: list[Mutation] = [drop_column, add_column, rename_column, view_in_place,
                             foreign_object, hostile_value, hostile_value, hostile_scenario,
                             hostile_text, hostile_text, hostile_text, hostile_text,
                             delete_rows, bad_version]  # fmt: skip


def damage_bytes(path: Path, rng: random.Random, case: Case) -> None:
    size = path.stat().st_size
    if rng.random() < 0.5:
        cut = rng.randrange(0, size)
        with path.open("r+b") as f:
            f.truncate(cut)
        case.applied.append(f"truncated at {cut}/{size}")
        case.damaging = cut < size
    else:
        data = bytearray(path.read_bytes())
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(0, size)] = rng.randrange(256)
        path.write_bytes(bytes(data))
        case.applied.append("flipped bytes")  # may hit unused space: not necessarily damage


def make_case(base: Path, folder: Path, rng: random.Random, number: int) -> tuple[Path, Case]:
    path = folder / f"case {number} #%.db"
    shutil.copyfile(base, path)
    case = Case(number)
    conn = sqlite3.connect(path, isolation_level=None)
    for _ in range(rng.randint(1, 3)):
        with contextlib.suppress(sqlite3.Error):  # it could not apply (a key, an index)
            rng.choice(MUTATIONS)(conn, rng, case)
    conn.close()
    if rng.random() < 0.15:
        damage_bytes(path, rng, case)
    return path, case


def commands(db: Path, out: Path) -> dict[str, list[str]]:
    return {
        "summary": ["summary", str(db)],
        "summary json": ["summary", str(db), "--format", "json"],
        "report": ["report", str(db), "--no-charts", "-o", str(out / "report.html")],
        "export csv": ["export", str(db), "--format", "csv", "--out", str(out / "csv")],
        "export parquet": ["export", str(db), "--format", "parquet", "--out", str(out / "pq")],
        "merge": ["merge", str(db), "-o", str(out / "merged.db")],
        "run --plan": ["run", str(CHECKOUT), "--db", str(db), "--plan"],
    }


class Hang(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Hang


@dataclass
class Outcome:
    cases: int = 0
    refused: int = 0
    read: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)


def run_case(base: Path, folder: Path, rng: random.Random, number: int, outcome: Outcome) -> None:
    path, case = make_case(base, folder, rng, number)
    exits: dict[str, int] = {}
    for name, args in commands(path, folder / f"out{number}").items():
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(10)
        try:
            result = CliRunner().invoke(cli, args)
        except Hang:
            outcome.failures["hang"] += 1
            outcome.examples.append(f"case {number} {case.applied}: {name} hung")
            continue
        finally:
            signal.alarm(0)
        text = result.output + (result.stderr if result.stderr_bytes is not None else "")
        unexpected = result.exception is not None and not isinstance(result.exception, SystemExit)
        kind = None
        if unexpected or "Traceback" in text:
            kind = f"traceback ({type(result.exception).__name__})"
        elif result.exit_code == 70 or "unexpected error" in text:
            kind = "crash report (" + text.split("unexpected error (")[-1].split(":")[0] + ")"
        elif result.exit_code == 0 and case.damaging:
            kind = "exit 0 on a damaged file"
        elif result.exit_code != 0 and str(path) not in text:
            kind = "message without the file name"
        if kind:
            outcome.failures[kind] += 1
            outcome.examples.append(f"case {number} {case.applied}: {name}: {kind}: "
                                    f"{(repr(result.exception) if unexpected else text)[:300]}")  # fmt: skip
        exits[name] = result.exit_code
    if len({code == 0 for code in exits.values()}) > 1:
        outcome.failures["commands disagree"] += 1
        outcome.examples.append(f"case {number} {case.applied}: {exits}")
    outcome.cases += 1
    if all(code != 0 for code in exits.values()):
        outcome.refused += 1
    else:
        outcome.read += 1
    shutil.rmtree(folder / f"out{number}", ignore_errors=True)
    path.unlink(missing_ok=True)


def fuzz(cases: int, seed: int) -> Outcome:
    rng = random.Random(seed)
    outcome = Outcome()
    os.environ["USETEST_DEBUG"] = "1"  # a bug raises here (counted), no crash report files
    with tempfile.TemporaryDirectory(prefix="fuzzdb") as tmp:
        folder = Path(tmp)
        base = build_checkout(folder / "base.db", per_condition=1)
        conn = sqlite3.connect(base)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        for number in range(cases):
            run_case(base, folder, rng, number, outcome)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    start = time.monotonic()
    outcome = fuzz(args.cases, seed)
    took = time.monotonic() - start
    print(f"seed {seed}: {outcome.cases} cases ({outcome.cases * 7} command runs), "
          f"{outcome.refused} refused by every command, {outcome.read} read, "
          f"{sum(outcome.failures.values())} failures in {took:.0f} s")  # fmt: skip
    for kind, n in outcome.failures.most_common():
        print(f"  {n:5d}  {kind}")
    for example in outcome.examples[:20]:
        print("  -", example)
    sys.exit(1 if outcome.failures else 0)


if __name__ == "__main__":
    main()
