"""Versions of a study: what changed between two scenario texts, and one task list for many.

A database holds one study; every distinct scenario text a session ran is a version of it
(``scenarios.version``: 1, 2, 3 … in the order first used; see :mod:`usetest.store`). Tasks are
matched across versions by their ``id``: a task whose title or prompt changed is *reworded*
(still one task), one whose id is new is *added*, one whose id is gone is *removed*. This module
is pure (no SQL, no Textual): the store keeps the texts, the app and the CLI say what changed
at start-up, and the analysis takes each task from the versions of the sessions analysed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from usetest.scenario import Scenario, parse_scenario

if TYPE_CHECKING:
    from sqlite_utils import Database

    from usetest.scenario import LoadedScenario

# Settings compared besides the tasks' wording, with the words a notice uses for them.
_SETTINGS = {
    "study": "title", "study_id": "study_id", "product": "product", "description": "description",
    "conditions": "conditions", "task_order": "task order",
    "partial_counts_as_success": "partial counts as success", "error_types": "error types",
    "questionnaires": "questionnaires", "report": "report text", "consent": "consent wording",
    "targets": "targets",
}  # fmt: skip
_TASK_SETTINGS = {"success": "success criterion", "notes": "moderator notes",
                  "time_limit": "time limit", "seq": "SEQ", "after": "after-task questionnaires",
                  "target_time": "target time",
                  "target_completion": "target completion"}  # fmt: skip


@dataclass(frozen=True)
class Changes:
    """What changed from one version of a study to the next."""

    added: tuple[str, ...] = ()
    """Ids of tasks that are new."""
    removed: tuple[str, ...] = ()
    """Ids of tasks that are gone."""
    reworded: tuple[str, ...] = ()
    """Ids of tasks kept whose title or prompt changed."""
    other: tuple[str, ...] = ()
    """Other edits, in words: ``questionnaires``, ``time limit of find-kettle`` …"""

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.reworded or self.other)

    def describe(self, titles: dict[str, str] | None = None) -> str:
        """One line: ``task “Pay” (pay) added; task x removed; …`` (``titles`` by task id)."""
        titles = titles or {}

        def named(ids: tuple[str, ...]) -> str:
            return ", ".join(f"“{titles[i]}” ({i})" if i in titles else i for i in ids)

        parts = []
        for ids, what in ((self.added, "added"), (self.removed, "removed"),
                          (self.reworded, "reworded")):  # fmt: skip
            if ids:
                parts.append(f"task{'s' if len(ids) > 1 else ''} {named(ids)} {what}")
        if self.other:
            parts.append("changed: " + ", ".join(self.other))
        return "; ".join(parts) or "no change to the tasks or settings (layout or comments only)"

    def to_dict(self) -> dict[str, list[str]]:
        return {"added": list(self.added), "removed": list(self.removed),
                "reworded": list(self.reworded), "other": list(self.other)}  # fmt: skip


def changes(old: Scenario, new: Scenario) -> Changes:
    """What changed from ``old`` to ``new``; tasks matched by id (see the module docstring)."""
    before = {t.id: t for t in old.tasks}
    after = {t.id: t for t in new.tasks}
    kept = [i for i in after if i in before]
    reworded = tuple(i for i in kept if (before[i].title, before[i].prompt.strip())
                     != (after[i].title, after[i].prompt.strip()))  # fmt: skip
    other = [word for name, word in _SETTINGS.items() if _dump(old, name) != _dump(new, name)]
    for i in kept:
        other += [f"{word} of {i}" for name, word in _TASK_SETTINGS.items()
                  if _dump(before[i], name) != _dump(after[i], name)]  # fmt: skip
    if [t.id for t in old.tasks if t.id in after] != kept:
        other.append("order of the tasks")
    return Changes(
        added=tuple(i for i in after if i not in before),
        removed=tuple(i for i in before if i not in after),
        reworded=reworded, other=tuple(other),
    )  # fmt: skip


def _dump(model: Any, name: str) -> Any:
    value = getattr(model, name)
    return value.model_dump() if hasattr(value, "model_dump") else (
        [v.model_dump() if hasattr(v, "model_dump") else v for v in value]
        if isinstance(value, list) else value
    )  # fmt: skip


@lru_cache(maxsize=64)
def parsed(text: str) -> Scenario:
    """A stored scenario text as a model (texts were validated when stored; cached)."""
    return parse_scenario(text, "<stored scenario>", as_recorded=True).scenario


def task_order(versions: list[Scenario]) -> list[str]:
    """Every task id of ``versions`` (oldest first) in one order: the newest version's order,
    with each task only older versions have placed after the task it followed there."""
    if not versions:
        return []
    order = [t.id for t in versions[-1].tasks]
    for sc in reversed(versions[:-1]):
        previous: str | None = None
        for task in sc.tasks:
            if task.id not in order:
                order.insert(order.index(previous) + 1 if previous else 0, task.id)
            previous = task.id
    return order


def new_version_notice(db: Database | None, loaded: LoadedScenario) -> str | None:
    """What a moderator is told at start-up when ``loaded`` is not the study's latest version:
    a new version (and what changed since the last one), or an older one run again. None when
    it is the latest version, or the database holds no session yet."""
    from usetest import store

    versions = store.scenario_versions(db) if db is not None else []
    if not versions:
        return None
    latest = versions[-1]
    same = [v for v in versions if v.sha256 == loaded.sha256]
    if same:
        if same[0].version == latest.version:
            return None
        return (f"This scenario is version {same[0].version} of the study, an older one: the "
                f"newest is version {latest.version}. Sessions record the version they run.")  # fmt: skip
    sc = loaded.scenario
    titles = {t.id: t.title for t in parsed(latest.text).tasks} | {t.id: t.title for t in sc.tasks}
    what = changes(parsed(latest.text), sc).describe(titles)
    return (f"The scenario changed since version {latest.version} of the study: {what}. Sessions "
            f"from now on run version {latest.version + 1}; earlier sessions keep theirs, and "
            "analyses take each task from the sessions that ran it.")  # fmt: skip
