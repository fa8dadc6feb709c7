"""Keys that reach a screen after it has gone are dropped, not acted on.

A moderator typing fast, or keys queued while a write syncs to disk, can deliver a key to a
screen that the previous key already replaced (a task ended, an undo went back) or dismissed (a
dialog answered). Textual delivers such keys all the same; acting on them popped a second screen
off the stack or updated widgets already removed, and the app crashed (found by the crash
campaign's random keys in tmux, pinned by ``tests/tui/test_key_bursts.py``).
"""

from __future__ import annotations

from typing import Any

from textual.await_complete import AwaitComplete
from textual.screen import Screen


def on_stack(screen: Screen[Any]) -> bool:
    """The screen is still on the app's stack, so its widgets exist and may be updated."""
    return screen.is_attached and screen in screen.app.screen_stack


class ActiveOnly:
    """Mixin for screens: bindings act only while the screen is built and on top."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        screen: Screen[Any] = self  # type: ignore[assignment]
        if not (screen.is_mounted and screen.is_active):
            return False
        return super().check_action(action, parameters)  # type: ignore[misc]


class DismissOnce:
    """Mixin for dialogs: a dialog answers once; keys that arrive after that are ignored."""

    def dismiss(self, result: Any = None) -> AwaitComplete:
        screen: Screen[Any] = self  # type: ignore[assignment]
        if not screen.is_active:
            return AwaitComplete.nothing()
        return super().dismiss(result)  # type: ignore[misc]
