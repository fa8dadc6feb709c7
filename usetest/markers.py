"""Recording markers: a session's events as timed cues that line up with a screen recording.

Pure: stored events in, cues and the text of a WebVTT or SRT file out (the files are written by
:mod:`usetest.export`). The rules, also in docs/recording.md:

- **Time zero** is, in this order: the first ``recording_started`` event still in effect (the
  moderator's ``r`` as the recorder starts; later ones become cues), the time given with
  ``--recording-start HH:MM:SS`` (local time on the session's day), or the session's start. The
  file's header says which.
- **Cue times** are the events' stored wall-clock times, which are the instants the keys were
  pressed (an error, note, assist or pause is stamped with its key, not with the dialog's Enter).
- **Events before time zero** (set-up, consent, profile answers, anything logged before the
  recorder started) are left out; the header says how many.
- **A cue lasts** until the next cue starts, at least :data:`MIN_CUE_MS` and at most
  :data:`MAX_CUE_MS`; events at the same millisecond share one cue, a line each.
- **Undone events** are left out (an undo takes its event back); a **correction** made later is
  shown at the end of the task it corrects, saying when it was made.
- **Pseudonymised** (``free_text=False``): no free text at all (notes' text, error and assist
  notes, pause and abandon reasons, text answers, corrections' reasons and authors, observers'
  initials); the kinds, types, severities and numbers stay.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from usetest.clock import parse_utc
from usetest.events import (
    ANSWER_RECORDED,
    ASSIST_LOGGED,
    CONSENT_RECORDED,
    CORRECTION,
    ERROR_LOGGED,
    NOTE_LOGGED,
    QUESTIONS_PASSED,
    RECORDING_STARTED,
    SESSION_ABANDONED,
    SESSION_COMPLETED,
    SESSION_RESUMED,
    SESSION_STARTED,
    TASK_ENDED,
    TASK_PAUSED,
    TASK_RESUMED,
    TASK_STARTED,
    Event,
    describe_change,
    effective_events,
)
from usetest.plain import pictures

MIN_CUE_MS = 1_000
"""A cue is shown at least this long (a later cue may then overlap it: players stack them)."""
MAX_CUE_MS = 4_000
"""… and at most this long, so a marker does not sit on the video through a quiet stretch."""

FROM_MARKER = "recording_started"
FROM_OPTION = "--recording-start"
FROM_SESSION = "session start"


class MarkerError(ValueError):
    """A recording start that cannot be used (the message says what to write instead)."""


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    """Plain text, one line each (line breaks inside a text are shown as ↵)."""


@dataclass(frozen=True)
class Markers:
    """One session's markers: time zero, where it came from, the cues, and what was left out."""

    participant: str
    zero: datetime
    """Time zero of the recording, UTC."""
    source: str
    """:data:`FROM_MARKER`, :data:`FROM_OPTION` or :data:`FROM_SESSION`."""
    cues: tuple[Cue, ...]
    before_zero: int
    """Events left out because they happened before time zero."""
    marks: tuple[datetime, ...]
    """Every ``recording_started`` in effect, UTC (the first is time zero unless overridden)."""

    def header(self) -> list[str]:
        """What the file says about itself (a WebVTT NOTE, the first SRT cue)."""
        zero = _local(self.zero)
        how = {
            FROM_MARKER: "the moderator's recording-started key (r)",
            FROM_OPTION: "--recording-start",
            FROM_SESSION: "the session's start: no recording-started key was pressed and no "
                          "--recording-start was given",
        }[self.source]  # fmt: skip
        lines = [f"usetest recording markers: participant {_text(self.participant)}",
                 f"00:00:00.000 = {zero} local time ({_utc(self.zero)} UTC), from {how}"]  # fmt: skip
        if len(self.marks) > 1 or (self.marks and self.source != FROM_MARKER):
            shown = ", ".join(_local(m, "%H:%M:%S.%f") for m in self.marks)
            lines.append(f"recording-started keys at {shown} local time; for another recording "
                         "export again with --recording-start HH:MM:SS")  # fmt: skip
        if self.before_zero:
            lines.append(f"{self.before_zero} event{'' if self.before_zero == 1 else 's'} before "
                         "00:00:00.000 left out")  # fmt: skip
        return lines


def _local(moment: datetime, fmt: str = "%Y-%m-%d %H:%M:%S.%f %z") -> str:
    text = moment.astimezone().strftime(fmt)
    return re.sub(r"(\.\d{3})\d{3}", r"\1", text)


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


# ---------------------------------------------------------------------------------------------
# Time zero.


def parse_clock_time(text: str) -> time:
    """``HH:MM``, ``HH:MM:SS`` or ``HH:MM:SS.mmm`` (24-hour) as a time of day."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?\s*", text)
    if m is None:
        raise MarkerError(f"{text!r} is not a time of day: write HH:MM:SS, e.g. 14:05:30")
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    micro = int((m[4] or "0").ljust(6, "0"))
    if h > 23 or mi > 59 or s > 59:
        raise MarkerError(f"{text!r} is not a time of day: hours 0–23, minutes and seconds 0–59")
    return time(h, mi, s, micro)


def on_session_day(clock_time: time, session_start: datetime) -> datetime:
    """``clock_time`` (local) on the session's day, as UTC: of that day, the day before and the
    day after, the one nearest the session's start (a recording started before midnight for a
    session that began after it)."""
    local_start = session_start.astimezone()
    candidates = []
    for shift in (-1, 0, 1):
        day = local_start.date() + timedelta(days=shift)
        naive = datetime.combine(day, clock_time)
        candidates.append(naive.astimezone())  # the machine's zone, daylight saving included
    best = min(candidates, key=lambda c: abs((c - local_start).total_seconds()))
    return best.astimezone(session_start.tzinfo)


def recording_marks(events: Sequence[Event]) -> list[Event]:
    """The ``recording_started`` events still in effect, in order."""
    return [e for e in effective_events(events) if e.kind == RECORDING_STARTED]


# ---------------------------------------------------------------------------------------------
# Cues.


def _text(value: object) -> str:
    """One line of plain text: line breaks as ↵, tabs as spaces, control characters shown."""
    text = re.sub(r"\r\n|[\r\n\x85\u2028\u2029]", " ↵ ", str(value)).replace("\t", " ")
    return pictures(text)


def _line(event: Event, titles: Mapping[str, str], free_text: bool, zero_seq: int | None) -> str:
    """The cue line for one event."""
    p = dict(event.payload)
    kind = event.kind
    task = f"{event.task_id}: " if event.task_id else ""

    def free(value: object, before: str = " — ") -> str:
        return f"{before}{_text(value)}" if free_text and value not in (None, "") else ""

    if kind == SESSION_STARTED:
        return "session started"
    if kind == SESSION_RESUMED:
        return "session resumed (the app was restarted)"
    if kind == SESSION_COMPLETED:
        return "session completed"
    if kind == SESSION_ABANDONED:
        return "session abandoned" + free(p.get("reason"))
    if kind == CONSENT_RECORDED:
        return f"consent recorded ({p.get('how', '')})"
    if kind == RECORDING_STARTED:
        if event.seq == zero_seq:
            return "recording started (time zero of this file)"
        return task + "recording started again (key r): this file counts from the first"
    if kind == TASK_STARTED:
        title = titles.get(event.task_id or "")
        return f"{task}task started" + (f" — {_text(title)}" if title else "")
    if kind == TASK_PAUSED:
        return f"{task}paused" + free(p.get("reason"), ": ")
    if kind == TASK_RESUMED:
        return f"{task}resumed"
    if kind == TASK_ENDED:
        return f"{task}task ended: {p['outcome']}"
    if kind == ERROR_LOGGED:
        return f"{task}error: {_text(p['type_name'])}" + free(p.get("note"))
    if kind == ASSIST_LOGGED:
        return f"{task}assist" + free(p.get("note"))
    if kind == NOTE_LOGGED:
        severity = f", severity {p['severity']}" if p.get("severity") is not None else ""
        line = f"{task}{p['kind']}{severity}"
        if free_text:
            line += f": {_text(p['text'])}" + (f" ({_text(p['author'])})" if p.get("author") else "")
        return line
    if kind == ANSWER_RECORDED:
        value = p.get("value")
        if p.get("declined") or value is None:
            shown = "declined"
        elif isinstance(value, str):
            shown = _text(value) if free_text else "(text answer)"
        else:
            shown = str(value)
        if p["questionnaire"] == p["item"]:  # the SEQ: one item named like its questionnaire
            return f"{task}{_text(p['questionnaire']).upper()} = {shown}"
        return f"{task}{_text(p['questionnaire'])} {_text(p['item'])} = {shown}"
    if kind == CORRECTION:
        made = _local(parse_utc(event.at), "%Y-%m-%d %H:%M")
        line = f"{task}corrected on {made}: {_text(describe_change(p['changes']))}"
        if free_text:
            line += free(p.get("reason")) + (f" ({_text(p['by'])})" if p.get("by") else "")
        return line
    if kind == QUESTIONS_PASSED:
        left = len(p.get("unanswered", []))
        return f"{task}moved on with {left} question{'' if left == 1 else 's'} unanswered"
    return task + _text(kind)  # a kind of a newer usetest: named, never dropped silently


def build(
    events: Sequence[Event], participant: str, *, session_start: str | None = None,
    recording_start: time | None = None, titles: Mapping[str, str] | None = None,
    free_text: bool = True,
) -> Markers:  # fmt: skip
    """The markers of one session from its stored events (in ``seq`` order).

    ``recording_start``: the ``--recording-start`` time of day (local), which wins over the
    recorded key. ``session_start``: the session's stored start (UTC ISO), used when the events
    hold no ``session_started`` (a log cut short). ``titles``: task id → title, shown with each
    task's start. ``free_text=False`` for pseudonymised files (nothing typed by people).
    """
    titles = titles or {}
    kept = effective_events(events)
    marks = [e for e in kept if e.kind == RECORDING_STARTED]
    first = next((e.at for e in events if e.kind == SESSION_STARTED), None) or session_start
    if first is None and events:
        first = events[0].at
    if first is None:
        raise MarkerError(f"the session of {participant} has no events: nothing to mark")
    zero_seq = None
    if recording_start is not None:
        zero, source = on_session_day(recording_start, parse_utc(first)), FROM_OPTION
    elif marks:
        zero, source, zero_seq = parse_utc(marks[0].at), FROM_MARKER, marks[0].seq
    else:
        zero, source = parse_utc(first), FROM_SESSION

    ends = {e.task_id: e for e in kept if e.kind == TASK_ENDED and e.task_id}
    timed: list[tuple[int, int, str]] = []  # (offset ms, seq, line)
    before = 0
    for event in kept:
        at = event.at
        if event.kind == CORRECTION and event.task_id in ends:
            at = ends[event.task_id].at  # shown where the corrected outcome is
        offset = round((parse_utc(at) - zero).total_seconds() * 1000)
        if offset < 0:
            before += 1
            continue
        timed.append((offset, event.seq, _line(event, titles, free_text, zero_seq)))
    timed.sort()  # by offset, then seq: a correction follows the end it is shown with

    grouped: list[tuple[int, list[str]]] = []
    for offset, _, line in timed:
        if grouped and grouped[-1][0] == offset:
            grouped[-1][1].append(line)
        else:
            grouped.append((offset, [line]))
    cues = []
    for i, (start, lines) in enumerate(grouped):
        following = grouped[i + 1][0] if i + 1 < len(grouped) else start + MAX_CUE_MS
        end = min(start + MAX_CUE_MS, max(start + MIN_CUE_MS, following))
        cues.append(Cue(start, end, tuple(lines)))
    return Markers(participant=participant, zero=zero, source=source, cues=tuple(cues),
                   before_zero=before, marks=tuple(parse_utc(e.at) for e in marks))  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Files.


def _stamp(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def vtt_text(text: str) -> str:
    """Cue text for WebVTT: ``&``, ``<`` and ``>`` as character references (so no tag is read
    and ``-->`` cannot occur), one line (a blank line would end the cue)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_note(text: str) -> str:
    """A NOTE line: no ``-->`` (it would end the comment) and no character references (a NOTE
    is not parsed, so ``&amp;`` would be shown as it is)."""
    return text.replace("-->", "->")


def to_vtt(markers: Markers) -> str:
    """The WebVTT file (W3C WebVTT: header, a NOTE block, then the cues in time order)."""
    parts = ["WEBVTT", "", "NOTE", *(_vtt_note(line) for line in markers.header()), ""]
    for cue in markers.cues:
        parts.append(f"{_stamp(cue.start_ms, '.')} --> {_stamp(cue.end_ms, '.')}")
        parts.extend(vtt_text(line) for line in cue.lines)
        parts.append("")
    return "\n".join(parts)


def srt_text(text: str) -> str:
    """Cue text for SRT: players read ``<b>``, ``<i>``, ``<font>`` and ``{\\an8}`` as styling, so
    ``<``, ``>``, ``{`` and ``}`` are shown as look-alikes (SRT has no escape); one line."""
    return (text.replace("<", "‹").replace(">", "›").replace("{", "⦃").replace("}", "⦄"))


def to_srt(markers: Markers) -> str:
    """The SRT file: cue 1 is the header (SRT has no comments), shown for the first seconds."""
    blocks = [(0, MAX_CUE_MS, markers.header()), *((c.start_ms, c.end_ms, list(c.lines))
                                                   for c in markers.cues)]  # fmt: skip
    parts = []
    for number, (start, end, lines) in enumerate(blocks, start=1):
        parts.append(str(number))
        parts.append(f"{_stamp(start, ',')} --> {_stamp(end, ',')}")
        parts.extend(srt_text(line) for line in lines)
        parts.append("")
    return "\n".join(parts)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def file_stem(code: str) -> str:
    """A file name for a participant code: letters, digits, ``.``, ``_`` and ``-`` kept, anything
    else as ``_``, with a short hash when something was replaced (so ``P/1`` and ``P_1`` do not
    share a file); never hidden (no leading dot), at most 64 characters."""
    stem = _UNSAFE.sub("_", code)[:48]
    if stem != code or stem.startswith(".") or not stem:
        stem = stem.lstrip(".") + "-" + hashlib.sha256(code.encode()).hexdigest()[:8]
    return stem.lstrip("-") if stem.strip("-") else "session"
