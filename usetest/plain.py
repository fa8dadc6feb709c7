"""Text from scenarios, moderators and participants, made safe to show anywhere.

Scenario files and notes are typed by people (or pasted from elsewhere): they can hold ESC
sequences that would clear a terminal, set its title or write to the clipboard, BEL, and other
C0/C1 control characters. Nothing of that may reach a terminal or a report as it is. Two
spellings, by destination:

- :func:`escaped` for terminals: ``\\x1b`` as the four visible characters ``\\x1b``;
- :func:`pictures` for pages (HTML, Markdown): the Unicode control pictures (␛, ␇, …).

Tab and newline are kept unless ``one_line`` is asked for (messages of one line each).
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _hex(char: str) -> str:
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escaped(text: object, *, one_line: bool = False) -> str:
    """``text`` with each control character written as a visible ``\\xNN`` escape."""
    pattern = _CONTROL_ONE_LINE if one_line else _CONTROL
    return pattern.sub(lambda m: _hex(m.group()), str(text))


def pictures(text: object) -> str:
    """``text`` with each control character shown as its Unicode control picture."""

    def picture(m: re.Match[str]) -> str:
        code = ord(m.group())
        if code < 0x20:
            return chr(0x2400 + code)
        return "\u2421" if code == 0x7F else "\ufffd"  # DEL, then C1 (no pictures exist)

    return _CONTROL.sub(picture, str(text))
