"""The data dictionary: what each table, view and column of a study database holds, with units.

One place for the words an analyst reads next to the data: Datasette's metadata
(``usetest datasette``, :mod:`usetest.explore`) and the exports' descriptions take them from
here. :data:`TABLES` and :data:`COLUMNS` cover every table of :data:`usetest.store.TABLES` and
every column :func:`usetest.store.columns` gives (a test keeps them in step with the schema).
"""

from __future__ import annotations

TABLES: dict[str, str] = {
    "scenarios": "Each version of the study: the scenario text exactly as a session ran it, with "
                 "its SHA-256 and version number (1, 2, 3 … in order of first use).",
    "tasks": "The tasks of each version, in the scenario's order: id, title and position.",
    "sessions": "One row per participant: code, moderator, condition, task order, status, "
                "consent and when the session started and ended.",
    "events": "The append-only log: every key the moderator pressed, in order (event_seq), with "
              "its time (at) and details (payload, JSON). Everything else is computed from it.",
    "attempts": "One row per participant and task: outcome, time on task, errors, assists, "
                "pauses, SEQ rating, time limit. Kept in step with the log.",
    "answers": "Every questionnaire answer, the latest per item (value_num or value_text; "
               "declined when the participant declined it).",
    "errors": "Every error the moderator logged, with its type and note.",
    "notes": "Every note, quote and problem (severity 0–4), with who wrote it.",
    "withdrawals": "What is left of withdrawn participants: no code, no answers, no texts.",
    "observer_notes": "Notes sent by observers (usetest observe), until the moderator's app "
                      "logs them as notes.",
    "task_attempts": "The attempts, readable as they stand: participant code, condition, "
                     "version, task title and time in seconds.",
}  # fmt: skip

_TIME = "UTC, ISO 8601, ending in Z"
_SESSION = "The session (sessions.id): Datasette shows the participant's code."
_TASK = "The task's id in the scenario (tasks.task_id; its title is in tasks.title)."
_EVENT = "The number of the event in the session's log that recorded this (events.event_seq)."

COLUMNS: dict[str, dict[str, str]] = {
    "scenarios": {
        "id": "The version's row id.",
        "sha256": "SHA-256 of the scenario text: two sessions with the same hash ran the same "
                  "text.",
        "study": "The study's title (scenario `study:`).",
        "source_path": "The file the text was loaded from, on the machine that ran it.",
        "text": "The scenario text (YAML), exactly as loaded.",
        "loaded_at": f"When the version was first used ({_TIME}).",
        "study_key": "The study's identity: its `study_id:`, else the title.",
        "version": "The version number: 1, 2, 3 … in order of first use (empty for a text no "
                   "session ran).",
    },
    "tasks": {
        "scenario_id": "The version (scenarios.id).",
        "task_id": "The task's id in the scenario.",
        "title": "The task's title as that version has it.",
        "position": "The task's place in that version's scenario, from 1 (a participant's own "
                    "order is in sessions.task_order and attempts.position).",
    },
    "sessions": {
        "id": "The session's row id.",
        "uid": "A random identifier of the session (merges recognise it).",
        "scenario_id": "The version the session ran (scenarios.id).",
        "participant": "The participant's code, e.g. P07.",
        "moderator": "Who moderated (initials).",
        "condition": "The study condition (scenario `conditions:`), if any.",
        "task_order": "The tasks in the order this participant got them (JSON list of ids).",
        "status": "in_progress, completed or abandoned.",
        "started_at": f"When the session started ({_TIME}).",
        "ended_at": f"When it ended ({_TIME}).",
        "last_event_at": f"The time of its last event ({_TIME}).",
        "runs": "How many times the app opened the session (1 + resumes).",
        "owner": "The app recording the session now (JSON: host, pid, since); empty when none.",
        "consent_at": f"When consent was recorded ({_TIME}).",
        "consent_how": "How consent was given: \"in the app\" or \"before the app\" (--consent).",
    },
    "events": {
        "id": "The event's row id.",
        "session_id": _SESSION,
        "event_seq": "The event's number in the session's log: 1, 2, 3 …",
        "run": "Which opening of the session recorded it (1 = the first, 2 = after a resume …).",
        "kind": "What happened: session_started, task_started, task_ended, error_logged, "
                "note_logged, answer_recorded, correction, undo …",
        "task_id": _TASK,
        "payload": "The event's details (JSON).",
        "mono_ms": "Milliseconds on the recording app's monotonic clock (for durations).",
        "at": f"When the key was pressed ({_TIME}).",
    },
    "attempts": {
        "session_id": _SESSION,
        "task_id": _TASK,
        "position": "The task's place in this participant's order, from 1.",
        "status": "pending, running, paused or ended.",
        "outcome": "success, partial, fail, abandoned or skipped (empty until the task ends).",
        "time_ms": "Time on task in milliseconds, pauses left out.",
        "errors": "Errors logged during the task (count).",
        "assists": "Assists the moderator gave (count).",
        "pauses": "Pauses during the task (count).",
        "pause_ms": "Time paused in milliseconds (not part of time_ms).",
        "interruptions": "Interruptions during the task (count).",
        "seq_rating": "Single Ease Question answer, 1 (very difficult) to 7 (very easy); empty "
                      "when not asked or declined.",
        "time_limit_s": "The task's time limit in seconds (scenario `time_limit:`).",
        "over_time_limit": "1 when time on task passed the time limit, 0 when not.",
        "started_at": f"When the task started ({_TIME}).",
        "ended_at": f"When the task ended ({_TIME}).",
        "corrections": "How many corrections changed this attempt after it ended.",
    },
    "answers": {
        "session_id": _SESSION,
        "questionnaire": "Which questionnaire: sus, umux-lite, nps, csat, ces, seq, profile or "
                         "the id of one of the study's own blocks.",
        "item": "The item's id: sus1 … sus10, umux1, umux2, nps, the study's own ids.",
        "task_id": "The task it was asked after; empty for the questionnaires at the end.",
        "value_num": "The answer on the item's scale (points, e.g. 1–5 for the SUS).",
        "value_text": "A free-text answer.",
        "event_seq": _EVENT,
        "answered_at": f"When it was answered ({_TIME}).",
        "declined": "1 when the participant declined to answer, 0 when not.",
    },
    "errors": {
        "session_id": _SESSION,
        "event_seq": _EVENT,
        "task_id": _TASK,
        "type_key": "The key of the error type (scenario `error_types:`).",
        "type_name": "The error type's name.",
        "note": "The moderator's note on the error.",
        "logged_at": f"When the error key was pressed ({_TIME}).",
    },
    "notes": {
        "session_id": _SESSION,
        "event_seq": _EVENT,
        "task_id": "The task running when it was written; empty between tasks.",
        "kind": "observation, quote or problem.",
        "text": "What was written.",
        "severity": "A problem's severity: 0 (not a problem) to 4 (usability catastrophe), "
                    "Nielsen's scale.",
        "logged_at": f"When it was written ({_TIME}).",
        "author": "Who wrote it: empty for the moderator, an observer's initials otherwise.",
    },
    "withdrawals": {
        "id": "The tombstone's row id.",
        "session_uid": "The withdrawn session's random identifier (no code).",
        "scenario_id": "The version it ran (scenarios.id).",
        "condition": "Its condition, if any.",
        "status": "Its status when withdrawn.",
        "withdrawn_at": f"When it was withdrawn ({_TIME}).",
        "withdrawn_by": "Who withdrew it.",
        "reason": "Why (never the participant's code).",
    },
    "observer_notes": {
        "id": "The note's row id.",
        "session_id": _SESSION,
        "observer": "The observer's initials.",
        "task_id": "The task running when it was sent.",
        "kind": "observation, quote or problem.",
        "text": "What was written.",
        "severity": "A problem's severity, 0–4.",
        "noted_at": f"When it was sent ({_TIME}).",
        "taken_event_seq": "The moderator's event that logged it (events.event_seq); empty "
                           "while it waits.",
    },
    "task_attempts": {
        "participant": "The participant's code.",
        "condition": "The study condition, if any.",
        "version": "The version of the scenario the participant ran.",
        "position": "The task's place in this participant's order, from 1.",
        "task_id": "The task's id.",
        "task_title": "The task's title in that version.",
        "status": "pending, running, paused or ended.",
        "outcome": "success, partial, fail, abandoned or skipped.",
        "time_s": "Time on task in seconds, pauses left out.",
        "errors": "Errors logged (count).",
        "assists": "Assists given (count).",
        "seq_rating": "Single Ease Question, 1 (very difficult) to 7 (very easy).",
        "over_time_limit": "1 when time on task passed the time limit.",
        "pauses": "Pauses (count).",
        "corrections": "Corrections made after the task ended (count).",
        "started_at": f"When the task started ({_TIME}).",
        "ended_at": f"When it ended ({_TIME}).",
        "session_id": _SESSION,
    },
}  # fmt: skip
"""Per table (and view), per column: what it holds, with its unit."""
