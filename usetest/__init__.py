"""usetest: run moderated usability-test sessions in a terminal.

The package is layered so that data flows one way::

    scenario (YAML -> validated model) -> session (pure state machine)
        -> store (SQLite, append-only events + projections)
        -> analysis / stats -> export / report
    tui/ and cli.py sit on top; nothing below them imports them.

This module imports nothing heavy: ``import usetest`` stays fast.
"""

__version__ = "0.1.0"
