"""What comes next in a session: a pure function of the scenario and the session's state.

The moderator app goes wherever :func:`next_step` says after every change (a task ended, an
answer recorded, an undo, a resume), and the participant's screen (``usetest show``) shows the
same step from the events it reads, so the two never disagree. No I/O, no Textual.

The order: each task in the session's order until it has ended; after a task, its SEQ (unless
the task has ``seq: false`` or was skipped), then its ``after:`` questionnaires from the first
item not answered; after the last task, the end-of-session questionnaires from the first item
not answered; then the summary. A group of questions — ``("after", task_id)`` or
``("end", "")`` — is passed when the moderator went on from it with items unanswered (a
free-text item left empty): the session records that as a ``questions_passed`` event
(``SessionState.passed``), so every reader of the log agrees; ``passed`` may add more. A group
is also passed once the session went on beyond it (the next task begun, or an end-of-session
answer recorded), so a session of an older usetest never goes back to it either.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from usetest.events import SessionState
from usetest.questionnaires import (
    SEQ,
    Item,
    Questionnaire,
    after_task_questionnaires,
    questionnaires_for,
)
from usetest.scenario import Scenario

Group = tuple[Literal["after", "end"], str]


@dataclass(frozen=True)
class Question:
    """One item to ask: of ``questionnaire``, after ``task_id`` (None: after the session)."""

    questionnaire: Questionnaire
    item: Item
    task_id: str | None = None


@dataclass(frozen=True)
class Step:
    """Where the session stands.

    ``kind``: ``"task"`` (``task_id`` not ended yet: pending, running or paused), ``"questions"``
    (``questions`` to ask, starting at ``index``; ``group`` says which), or ``"summary"`` (the
    session is complete, or every question has been asked and it can be completed).
    """

    kind: Literal["task", "questions", "summary"]
    task_id: str | None = None
    questions: tuple[Question, ...] = ()
    index: int = 0
    group: Group | None = None

    @property
    def question(self) -> Question | None:
        """The item being asked now (None unless ``kind`` is ``"questions"``)."""
        return self.questions[self.index] if self.kind == "questions" else None


def next_step(scenario: Scenario, state: SessionState, passed: Collection[Group] = ()) -> Step:
    """The step the session is at (see the module docstring)."""
    if state.status == "completed":
        return Step("summary")
    gone: set[tuple[str, str]] = {*passed, *state.passed}
    order = state.order
    at_end = [Question(q, item) for q in questionnaires_for(scenario) for item in q.items]
    end_begun = any(not task and (q, i, "") in _keys(at_end) for q, i, task in state.answers)
    for i, task_id in enumerate(order):
        task = state.tasks[task_id]
        if task.status != "ended":
            return Step("task", task_id)
        if task.outcome == "skipped":
            continue
        if scenario.task(task_id).seq and state.answer(SEQ.id, "seq", task_id) is None:
            return Step("questions", task_id, (Question(SEQ, SEQ.items[0], task_id),), 0,
                        ("after", task_id))  # fmt: skip
        group: Group = ("after", task_id)
        questions = tuple(Question(q, item, task_id)
                          for q in after_task_questionnaires(scenario, task_id)
                          for item in q.items)  # fmt: skip
        later = order[i + 1 :]
        moved_on = state.tasks[later[0]].status != "pending" if later else end_begun
        start = _first_unanswered(questions, state)
        if start is not None and group not in gone and not moved_on:
            return Step("questions", task_id, questions, start, group)
    start = _first_unanswered(tuple(at_end), state)
    if start is not None and ("end", "") not in gone:
        return Step("questions", None, tuple(at_end), start, ("end", ""))
    return Step("summary")


def _keys(questions: list[Question]) -> set[tuple[str, str, str]]:
    return {(q.questionnaire.id, q.item.id, "") for q in questions}


def _first_unanswered(questions: tuple[Question, ...], state: SessionState) -> int | None:
    for i, q in enumerate(questions):
        if state.answer(q.questionnaire.id, q.item.id, q.task_id) is None:
            return i
    return None
