"""Participant profile answers: what each kind of question accepts, from the app, the command
line and the engine alike.

A scenario's ``profile:`` questions (:class:`usetest.scenario.ProfileQuestion`) are asked at
set-up, after consent. An answer is the chosen option's text (``choice``), a whole number
within the question's range (``number``), a short line of text (``text``), or None: the
participant declined (or the moderator skipped the question). They are stored in ``answers``
with questionnaire ``profile`` (:data:`PROFILE`), the question's id as the item and no task.

No Textual, no SQL: :func:`check_answer` guards the engine, :func:`parse_answer` reads what a
moderator typed (app or ``usetest run --profile-answer ID=VALUE``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from usetest.events import PROFILE
from usetest.scenario import ProfileQuestion

__all__ = ["PROFILE", "ProfileAnswerError", "ProfileValue", "check_answer", "check_answers",
           "number_range", "parse_answer", "parse_assignments", "takes"]  # fmt: skip
MAX_TEXT = 200
"""Longest text answer, in characters."""
NUMBER_LIMIT = 10**9
"""Numbers beyond ±this are refused (the store treats larger values as damage)."""

ProfileValue = str | int | None
"""An answer: the option's text, the number, the text; None when declined."""


class ProfileAnswerError(ValueError):
    """An answer the question does not take; the message says what it takes."""


def number_range(q: ProfileQuestion) -> tuple[int, int]:
    """The numbers ``q`` accepts (its min/max, else ±:data:`NUMBER_LIMIT`)."""
    low = q.min if q.min is not None else -NUMBER_LIMIT
    high = q.max if q.max is not None else NUMBER_LIMIT
    return low, high


def takes(q: ProfileQuestion) -> str:
    """What ``q`` accepts, for messages: ``one of: 18–29, 30–44`` / ``a whole number 0–60``."""
    if q.type == "choice":
        return "one of: " + ", ".join(q.options) + f" (or its number 1–{len(q.options)})"
    if q.type == "number":
        low, high = number_range(q)
        if q.min is None and q.max is None:
            return "a whole number"
        if q.min is None:
            return f"a whole number up to {high}"
        if q.max is None:
            return f"a whole number from {low}"
        return f"a whole number from {low} to {high}"
    return f"a line of text (at most {MAX_TEXT} characters)"


def check_answer(q: ProfileQuestion, value: ProfileValue) -> ProfileValue:
    """``value`` if ``q`` takes it (None: declined), else :class:`ProfileAnswerError`."""
    if value is None:
        return None
    if q.type == "choice":
        if not isinstance(value, str) or value not in q.options:
            raise ProfileAnswerError(f"{q.id} takes {takes(q)}, not {value!r}")
        return value
    if q.type == "number":
        low, high = number_range(q)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ProfileAnswerError(f"{q.id} takes {takes(q)}, not {value!r}")
        return value
    if not isinstance(value, str) or not value.strip():
        raise ProfileAnswerError(f"{q.id} takes {takes(q)}; leave it empty to decline")
    if len(value) > MAX_TEXT:
        raise ProfileAnswerError(f"{q.id} takes at most {MAX_TEXT} characters, not {len(value)}")
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ProfileAnswerError(f"{q.id} takes one line of plain text (no control characters "
                                 "or line breaks)")  # fmt: skip
    return value


def parse_answer(q: ProfileQuestion, text: str) -> ProfileValue:
    """What a moderator typed, as the answer to store: empty declines; a choice by its text
    (any case) or its number; a whole number; a line of text (trimmed)."""
    text = text.strip()
    if not text:
        return None
    if q.type == "choice":
        if text in q.options:
            return text
        folded = [o for o in q.options if o.casefold() == text.casefold()]
        if len(folded) == 1:
            return folded[0]
        if text.isdigit() and 1 <= int(text) <= len(q.options):
            return q.options[int(text) - 1]
        raise ProfileAnswerError(f"{q.id} takes {takes(q)}, not {text!r}")
    if q.type == "number":
        digits = text[1:] if text[:1] in "+-" else text
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
            raise ProfileAnswerError(f"{q.id} takes {takes(q)}, not {text!r}")
        return check_answer(q, int(text))
    return check_answer(q, text)


def check_answers(
    questions: Sequence[ProfileQuestion], answers: Mapping[str, ProfileValue]
) -> dict[str, ProfileValue]:
    """Every answer checked against its question, in the questions' order."""
    known = {q.id: q for q in questions}
    unknown = [k for k in answers if k not in known]
    if unknown:
        ids = ", ".join(known) or "none"
        raise ProfileAnswerError(f"no profile question {unknown[0]!r} in this scenario "
                                 f"(questions: {ids})")  # fmt: skip
    return {q.id: check_answer(q, answers[q.id]) for q in questions if q.id in answers}


def parse_assignments(
    questions: Sequence[ProfileQuestion], assignments: Iterable[str]
) -> dict[str, ProfileValue]:
    """``ID=VALUE`` strings (``usetest run --profile-answer``) as answers; ``ID=`` declines."""
    known = {q.id: q for q in questions}
    out: dict[str, ProfileValue] = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        key = key.strip()
        if not sep:
            raise ProfileAnswerError(f"{assignment!r} is not ID=VALUE (e.g. age=30-44; "
                                     "ID= declines the question)")  # fmt: skip
        if key not in known:
            ids = ", ".join(known) or "none: this scenario has no profile questions"
            raise ProfileAnswerError(f"no profile question {key!r} (questions: {ids})")
        if key in out:
            raise ProfileAnswerError(f"{key} is answered twice; give it once")
        out[key] = parse_answer(known[key], text)
    return out
