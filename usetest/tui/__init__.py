"""The moderator app (Textual). Nothing outside ``usetest.tui`` and ``usetest.cli`` imports it."""
