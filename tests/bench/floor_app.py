"""The floor the moderator app is measured against: the least a Textual app can do.

    python tests/bench/floor_app.py [DB]

One screen with one label. Without DB it only draws its first frame ("floor ready"). With DB,
each ``a`` inserts one row into a SQLite file opened as usetest opens its database (WAL,
``synchronous=FULL``), commits, and then redraws the label ("count N"): a keypress that is
committed before it is drawn, with nothing else around it. Run as a script (not ``-m``) so that
it imports nothing but Textual and sqlite3.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time

from textual.app import App, ComposeResult
from textual.widgets import Static


class FloorApp(App[None]):
    ENABLE_COMMAND_PALETTE = False  # as the moderator app

    def __init__(self, db_path: str | None) -> None:
        super().__init__()
        self.count = 0
        self.conn: sqlite3.Connection | None = None
        if db_path is not None:
            self.conn = sqlite3.connect(db_path, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, session_id INTEGER,"
                " event_seq INTEGER, kind TEXT, payload TEXT, mono_ms INTEGER, at TEXT)"
            )

    def compose(self) -> ComposeResult:
        yield Static("floor ready   count 0", id="label")

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key != "a" or self.conn is None:
            return
        self.count += 1
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute(
            "INSERT INTO events (session_id, event_seq, kind, payload, mono_ms, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (1, self.count, "assist_logged", json.dumps({"note": None}),
             time.monotonic_ns() // 1_000_000, "2026-01-01T00:00:00.000Z"),
        )  # fmt: skip
        self.conn.execute("COMMIT")
        self.query_one("#label", Static).update(f"floor ready   count {self.count}")


if __name__ == "__main__":
    FloorApp(sys.argv[1] if len(sys.argv) > 1 else None).run()
