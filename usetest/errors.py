"""The one base of every error a user can cause; the CLI turns it into a message and a status.

Each layer keeps its own class (``ScenarioError``, ``StoreError``, ``ExportError`` …), derived
from :class:`UsetestError`, so a caller may catch one layer's errors or all of them. Anything
else that escapes a command is a bug: the CLI writes a crash report (see ``usetest.cli``).
Imports nothing, so every layer may import it.
"""

from __future__ import annotations


class UsetestError(Exception):
    """A problem the user can act on: its text says what, where and what to do."""

    exit_code = 1
    """The command's exit status when this error ends it (1: the input was read but is wrong)."""
