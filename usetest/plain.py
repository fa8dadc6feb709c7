"""Text from scenarios, moderators and participants, made safe to show anywhere.

Scenario files and notes are typed by people (or pasted from elsewhere): they can hold ESC
sequences that would clear a terminal, set its title or write to the clipboard, BEL, and other
C0/C1 control characters. Nothing of that may reach a terminal or a report as it is. Two
spellings, by destination:

- :func:`escaped` for terminals: ``\\x1b`` as the four visible characters ``\\x1b``;
- :func:`pictures` for pages (HTML, Markdown): the Unicode control pictures (␛, ␇, …).

Tab and newline are kept unless ``one_line`` is asked for (messages of one line each).

Invisible characters that change how the text around them reads are treated the same way:
the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069, and the marks U+200E,
U+200F, U+061C), which can make ``exe.txt`` read as ``txt.exe`` ("Trojan Source", CVE-2021-42574),
and the zero-width characters (U+200B–U+200D, U+2060, U+FEFF), which make two different codes
look alike. Terminals get ``\\u202e``; pages get ``⟨U+202E⟩``.

:func:`check_code` is the one rule for participant codes and moderator initials, applied where
they are entered (set-up screen, ``run --participant/--moderator``, the store, merge).
"""

from __future__ import annotations

import re
import unicodedata

# bidi embeddings/overrides/isolates and marks, zero-width space/joiners, word joiner, BOM
_INVISIBLE = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff"
_CONTROL = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_INVISIBLE}]")
_CONTROL_ONE_LINE = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029{_INVISIBLE}]")


def _hex(char: str) -> str:
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def _emoji_joiner(m: re.Match[str]) -> bool:
    """A zero-width joiner inside an emoji sequence (👩‍👩‍👧): it draws one picture, hides nothing."""
    before, after = m.string[m.start() - 1 : m.start()], m.string[m.end() : m.end() + 1]
    return (
        m.group() == "\u200d"
        and bool(before) and bool(after)
        and (unicodedata.category(before) == "So" or before == "\ufe0f" or "\U0001f3fb" <= before <= "\U0001f3ff")
        and unicodedata.category(after) == "So"
    )  # fmt: skip


def escaped(text: object, *, one_line: bool = False) -> str:
    """``text`` with each control character written as a visible ``\\xNN`` escape."""
    pattern = _CONTROL_ONE_LINE if one_line else _CONTROL
    return pattern.sub(lambda m: m.group() if _emoji_joiner(m) else _hex(m.group()), str(text))


def pictures(text: object) -> str:
    """``text`` with each control character shown as its Unicode control picture."""

    def picture(m: re.Match[str]) -> str:
        if _emoji_joiner(m):
            return m.group()
        code = ord(m.group())
        if code < 0x20:
            return chr(0x2400 + code)
        if code == 0x7F:
            return "\u2421"  # DEL
        if code <= 0x9F:
            return "\ufffd"  # C1: no pictures exist
        return f"\u27e8U+{code:04X}\u27e9"  # bidi and zero-width: named, e.g. ⟨U+202E⟩

    return _CONTROL.sub(picture, str(text))


MAX_CODE = 64
_EXAMPLES = {"participant code": "P07", "moderator initials": "AB", "observer initials": "KL"}
_REFUSED_CATEGORIES = {
    "Cc": "a control character", "Cf": "an invisible format character",
    "Cs": "a surrogate", "Co": "a private-use character", "Cn": "an unassigned character",
    "Zl": "a line separator", "Zp": "a paragraph separator",
}


def check_code(text: str, what: str = "participant code") -> str:
    """``text`` stripped, if it is fit to be a participant code or moderator initials.

    One line of printable characters, at most :data:`MAX_CODE` of them: codes are printed at
    the end of a session, in merges and in every report, so nothing in them may act on a
    terminal or hide. Raises ``ValueError`` with a message naming ``what`` is wrong and an
    example (``what``: ``participant code`` or ``moderator initials``).
    """
    example = _EXAMPLES.get(what, "P07")
    code = str(text).strip()
    if not code:
        raise ValueError(f"the {what} is empty; write one, for example {example}")
    if len(code) > MAX_CODE:
        raise ValueError(f"the {what} is {len(code):,} characters long; at most {MAX_CODE} are "
                         f"allowed (a short code, for example {example})")  # fmt: skip
    for char in code:
        kind = "a line break" if char in "\n\r" else _REFUSED_CATEGORIES.get(unicodedata.category(char))
        if kind is not None:
            raise ValueError(f"the {what} '{escaped(code, one_line=True)}' contains {kind} "
                             f"(U+{ord(char):04X}); use letters, digits and punctuation only, "
                             f"for example {example}")  # fmt: skip
    return code
