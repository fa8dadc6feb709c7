"""The keymap as the help screen (``?``) shows it, written from the bindings themselves.

A binding's ``description`` is its footer label; its ``tooltip`` (when given) is its line in
the help. Bindings of one ``Binding.Group`` share a line ("s p f g x  end the task: success,
partial, …"); bindings with the same action share their keys ("ctrl+q ctrl+c"). Keys that are
not bindings (a rating's digits) are given as extra lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from textual.binding import Binding, BindingType

KEY_NAMES = {"question_mark": "?", "escape": "Esc", "enter": "Enter"}


def key_label(key: str) -> str:
    """One key as the help shows it: ``?`` for question_mark, ``Esc`` for escape."""
    return KEY_NAMES.get(key, key)


@dataclass(frozen=True)
class Section:
    """A titled block of the help: ``bindings`` in order, after ``extra`` (keys, text) lines."""

    title: str
    bindings: Sequence[BindingType]
    extra: Sequence[tuple[str, str]] = ()


def help_lines(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys, text) for each line of help the bindings make; system bindings left out."""
    lines: list[tuple[list[str], str]] = []
    by_action: dict[str, int] = {}
    by_group: dict[Binding.Group, int] = {}
    for b in bindings:
        if not isinstance(b, Binding) or b.system:
            continue
        keys = [key_label(k.strip()) for k in b.key.split(",")]
        if b.group is not None and b.group in by_group:
            line_keys, text = lines[by_group[b.group]]
            lines[by_group[b.group]] = (line_keys + keys, f"{text}, {b.description}")
        elif b.group is not None:
            by_group[b.group] = len(lines)
            lines.append((keys, f"{b.group.description}: {b.description}"))
        elif b.action in by_action:
            line_keys, text = lines[by_action[b.action]]
            lines[by_action[b.action]] = (line_keys + keys, text)
        else:
            by_action[b.action] = len(lines)
            lines.append((keys, b.tooltip or b.description))
    return [(" ".join(keys), text) for keys, text in lines]


def help_text(sections: Sequence[Section], closing: str = "") -> str:
    """The whole help: each section's title, then its lines with the keys in a column."""
    blocks = []
    for section in sections:
        rows = [*section.extra, *help_lines(section.bindings)]
        width = max(len(keys) for keys, _ in rows) + 2
        blocks.append("\n".join([section.title, *(f"  {k:<{width}}{t}" for k, t in rows)]))
    return "\n\n".join(blocks) + (f"\n\n{closing}" if closing else "") + "\n"
