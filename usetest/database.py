"""The ``Database`` the store opens its files with: sqlite-utils' interface, started on sqlite3.

The store itself calls only a handful of ``sqlite_utils.Database`` members — ``conn``, ``memory``,
``execute``, ``atomic``, ``table_names``, ``close`` — and the moderator app calls nothing else on
its way to the first task screen. Importing sqlite-utils (click, dateutil, pluggy, tabulate and
a scan of every installed package for plugins: about 60 ms warm and up to half a second from a
cold disk) is therefore left out of the launch path: :class:`Database` runs those members on the
sqlite3 connection exactly as sqlite-utils 4 does, and hands every other member (``query``,
``db["sessions"].get``, ``insert_all`` …) to a real ``sqlite_utils.Database`` built on the same
connection the first time one is used. Analyses, exports and merges that use sqlite-utils get it
then; the store's own semantics are the same either way.

For the type checker a :class:`Database` *is* a ``sqlite_utils.Database``: it behaves as one.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

# Statements that manage transactions themselves: execute() never commits after them.
# As sqlite-utils 4.2 (sqlite_utils/db.py, _TRANSACTION_CONTROL_KEYWORDS).
_TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})


def _first_keyword(sql: str) -> str:
    """The first keyword of a statement, uppercased, after whitespace, ``--`` and ``/* */``
    comments, empty statements and a byte order mark (sqlite-utils 4.2's ``_first_keyword``)."""
    i, n = 0, len(sql)
    while i < n:
        if sql[i].isspace() or sql[i] in (";", "\ufeff"):
            i += 1
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            if newline == -1:
                return ""
            i = newline + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end == -1:
                return ""
            i = end + 2
        else:
            break
    j = i
    while j < n and (sql[j].isalpha() or sql[j] == "_"):
        j += 1
    return sql[i:j].upper()


def import_sqlite_utils() -> Any:
    """Import sqlite-utils without dragging pandas and numpy in (about 1–2 s).

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


class _Database:
    """A sqlite-utils ``Database`` on an open sqlite3 connection (or a new in-memory one)."""

    def __init__(
        self,
        filename_or_conn: sqlite3.Connection | None = None,
        memory: bool = False,
        recursive_triggers: bool = True,
    ) -> None:
        if memory and filename_or_conn is None:
            self.conn = sqlite3.connect(":memory:")
            self.memory = True
        elif isinstance(filename_or_conn, sqlite3.Connection) and not memory:
            self.conn = filename_or_conn
            self.memory = False
        else:  # the store opens files itself (URI, mode, checks): only connections come here
            raise ValueError("give an open sqlite3 connection, or memory=True")
        self.memory_name: str | None = None
        self._full: Any = None
        if recursive_triggers:  # sqlite-utils' default, so triggers behave the same either way
            self.execute("PRAGMA recursive_triggers=on;")

    def __repr__(self) -> str:
        return f"<Database {self.conn}>"

    def __enter__(self) -> _Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None,
                ) -> sqlite3.Cursor:  # fmt: skip
        """Run one statement; a write outside a transaction is committed at once (as
        sqlite-utils 4.2's ``Database.execute``), inside one it joins that transaction."""
        conn = self.conn
        was_in_transaction = conn.in_transaction
        try:
            cursor = conn.execute(sql) if parameters is None else conn.execute(sql, parameters)
        except Exception:
            if not was_in_transaction and conn.in_transaction:
                conn.execute("ROLLBACK")  # the failed statement's implicit transaction
            raise
        if (
            not was_in_transaction
            and conn.in_transaction
            and cursor.description is None
            and _first_keyword(sql) not in _TRANSACTION_CONTROL
        ):
            conn.execute("COMMIT")
        return cursor

    @contextmanager
    def atomic(self) -> Iterator[_Database]:
        """One transaction around the block; nested blocks are savepoints (sqlite-utils 4.2's
        ``Database.atomic``)."""
        conn = self.conn
        if conn.in_transaction:
            savepoint = f"sqlite_utils_{os.urandom(16).hex()}"
            conn.execute(f"SAVEPOINT {savepoint};")
            try:
                yield self
            except BaseException:
                if conn.in_transaction:  # a RAISE(ROLLBACK) may have ended it already
                    conn.execute(f"ROLLBACK TO SAVEPOINT {savepoint};")
                    conn.execute(f"RELEASE SAVEPOINT {savepoint};")
                raise
            else:
                conn.execute(f"RELEASE SAVEPOINT {savepoint};")
        else:
            conn.execute("BEGIN")
            try:
                yield self
            except BaseException:
                self.rollback()
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except BaseException:
                    self.rollback()
                    raise

    def commit(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def table_names(self, fts4: bool = False, fts5: bool = False) -> list[str]:
        """The tables' names (only FTS4 / FTS5 ones if asked), as sqlite-utils lists them."""
        if fts4 or fts5:
            return list(self.sqlite_utils.table_names(fts4=fts4, fts5=fts5))
        return [r[0] for r in self.execute("select name from sqlite_master where type = 'table'")]

    @property
    def sqlite_utils(self) -> Any:
        """The real ``sqlite_utils.Database`` on this connection, built on first need."""
        if self._full is None:
            conn = self.conn
            self._full = import_sqlite_utils().Database(conn, recursive_triggers=False)  # on
        return self._full

    def __getattr__(self, name: str) -> Any:
        # only for members not defined here: sqlite-utils' whole interface
        if name.startswith("__") or name in ("conn", "memory", "_full"):
            raise AttributeError(name)
        return getattr(self.sqlite_utils, name)

    def __getitem__(self, table_name: str) -> Any:
        return self.sqlite_utils[table_name]


if TYPE_CHECKING:
    from sqlite_utils import Database as Database
else:
    Database = _Database
