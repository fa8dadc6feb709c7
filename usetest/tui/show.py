"""``usetest show DB``: the participant's screen, on a terminal on a second display.

It shows only what the participant may see, and follows the moderator live:

- "Please wait" before the first task and between tasks;
- the current task's title and prompt, once the moderator has started its clock (it stays
  while the clock is paused); with ``prompt_when="current"``, as soon as the task is the next
  one to do (once the set-up is over: consent recorded), so the participant can read it
  before the clock starts;
- each questionnaire item with its scale (the numbers, the labels at the ends) while the
  moderator records it: the SEQ after a task, the task's ``after:`` questionnaires, the
  questionnaires at the end;
- "Thank you" once every question is answered and when the session ends.

Never the success criterion, the moderator's notes, the clock, counts of errors or assists,
nor any notice: the screen is drawn from :class:`ParticipantView` alone, which holds none of
them, and the app shows no notifications at all.

How it follows: the database is opened read-only (:func:`usetest.store.open_read`: WAL, so it
never blocks the moderator's app and never writes); every :data:`POLL_S` seconds
:class:`Follower` reads the events newer than the last it saw (one indexed read), replays the
log into the session's state (:func:`usetest.events.replay`: undo included) and asks
:func:`usetest.flow.next_step` where the session is, the same function the moderator's app
follows. A restarted or resumed moderator's app writes to the same log, so nothing changes
here; a new session (the next participant) is followed as soon as it starts, unless a
participant code was given.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from usetest import observe, store
from usetest.events import SessionState
from usetest.flow import next_step
from usetest.questionnaires import Item
from usetest.scenario import Scenario
from usetest.tui.text import literal
from usetest.tui.widgets.likert import LikertScale

POLL_S = 0.25
"""How often the database is read: a change shows within a quarter of a second."""

PromptWhen = Literal["started", "current"]
"""When a task's prompt appears: once its clock was started, or as soon as it is current."""


# ---------------------------------------------------------------------------------------------
# What the participant sees: a pure function of the scenario and the session's state.


@dataclass(frozen=True)
class ParticipantView:
    """Everything the participant's screen shows, and nothing else.

    ``kind``: ``waiting`` (no session to follow), ``wait`` (between tasks), ``task``,
    ``question`` or ``thanks``. ``heading`` is a quiet line above (the task a question is
    about, a questionnaire's introduction), ``title`` the large line, ``text`` the body (the
    prompt, the question), ``item`` the question's scale, ``progress`` "2 of 10".
    """

    kind: Literal["waiting", "wait", "task", "question", "thanks"]
    heading: str = ""
    title: str = ""
    text: str = ""
    item: Item | None = None
    progress: str = ""


def participant_view(scenario: Scenario, state: SessionState,
                     prompt_when: PromptWhen = "started") -> ParticipantView:  # fmt: skip
    """What the participant sees at ``state`` (see the module docstring)."""
    if state.status != "in_progress":
        return ParticipantView("thanks", title="Thank you")
    step = next_step(scenario, state)
    if step.kind == "summary":
        return ParticipantView("thanks", title="Thank you")
    if step.kind == "task":
        assert step.task_id is not None
        task = state.tasks[step.task_id]
        # "current" waits for the set-up to end (consent and profile taken, or a task begun)
        under_way = state.consent is not None or any(
            t.status != "pending" for t in state.tasks.values())  # fmt: skip
        if task.status == "pending" and (prompt_when == "started" or not under_way):
            return ParticipantView("wait", title="Please wait")
        spec = scenario.task(step.task_id)
        return ParticipantView("task", heading="Your task", title=spec.title, text=spec.prompt)
    q = step.question
    assert q is not None
    same = [x for x in step.questions if x.questionnaire.id == q.questionnaire.id]
    progress = f"Question {same.index(q) + 1} of {len(same)}" if len(same) > 1 else ""
    if q.task_id is not None:
        heading = f"About the task “{scenario.task(q.task_id).title}”"
    else:
        heading = q.questionnaire.intro
    return ParticipantView("question", heading=heading, text=q.item.text, item=q.item,
                           progress=progress)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Following the database (no Textual).


class Follower(observe.Follower):
    """The session to show, read from the database at ``path`` without ever writing to it
    (:class:`usetest.observe.Follower`; an ended session stays shown until the next starts).

    :meth:`poll` brings it up to date; :attr:`record` is None while there is no session to
    follow. Opening raises :class:`~usetest.store.StoreError` for a missing, damaged or
    foreign file (the message names the file and what to do); so does a poll that finds the
    file damaged.
    """

    def __init__(self, path: str | Path, participant: str | None = None) -> None:
        self.path = Path(path)
        super().__init__(store.open_read(self.path), participant, keep_ended=True)

    def close(self) -> None:
        self.db.close()

    def poll(self) -> None:
        if self.db.memory:
            # A file of an older schema is read through a migrated copy in memory, which does
            # not change: read the file again (the moderator's app migrates it when it opens).
            self.db.close()
            self.db = store.open_read(self.path)
        super().poll()

    def view(self, prompt_when: PromptWhen = "started") -> ParticipantView:
        if self.record is None or self.scenario is None or self.state is None:
            who = f"{self.participant}'s session" if self.participant else "a session"
            return ParticipantView("waiting", title="Please wait",
                                   text=f"Waiting for {who} to start")  # fmt: skip
        return participant_view(self.scenario, self.state, prompt_when)


# ---------------------------------------------------------------------------------------------
# The screen.


class ParticipantScreen(Screen[None]):
    """Draws the :class:`ParticipantView` of the followed session, read every :data:`POLL_S`."""

    def __init__(self, follower: Follower, prompt_when: PromptWhen = "started") -> None:
        super().__init__()
        self.follower = follower
        self.prompt_when = prompt_when
        self.shown: ParticipantView | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="show-card"):
            yield Static("", id="show-heading")
            yield Static("", id="show-title")
            yield Static("", id="show-text")
            yield LikertScale("", id="show-scale")
            yield Static("", id="show-progress")

    def on_mount(self) -> None:
        self.poll()
        self.set_interval(POLL_S, self.poll)

    def poll(self) -> None:
        try:
            self.follower.poll()
        except store.StoreError as exc:
            self.app.exit(str(exc))
            return
        except (OSError, sqlite3.Error) as exc:  # not worded by the store: still one line
            self.app.exit(f"cannot read {self.follower.path} any more: {exc} — check the file, "
                          "then start usetest show again")  # fmt: skip
            return
        self.draw(self.follower.view(self.prompt_when))

    def draw(self, view: ParticipantView) -> None:
        if view == self.shown:
            return  # nothing changed: no redraw, no flicker
        self.shown = view
        self.set_class(view.kind in ("wait", "waiting", "thanks"), "-quiet")
        self.query_one("#show-heading", Static).update(literal(view.heading))
        self.query_one("#show-title", Static).update(literal(view.title))
        self.query_one("#show-text", Static).update(literal(view.text))
        self.query_one("#show-progress", Static).update(literal(view.progress))
        scale = self.query_one("#show-scale", LikertScale)
        item = view.item
        if item is not None and item.kind == "scale":
            scale.display = True
            scale.show_scale(item.min, item.max, item.low, item.high)
        elif item is not None:
            scale.display = True
            scale.update("Please answer in your own words.")
        else:
            scale.display = False
        for name in ("#show-heading", "#show-title", "#show-text", "#show-progress"):
            widget = self.query_one(name, Static)
            widget.display = bool(getattr(view, name.removeprefix("#show-")))
        self.query_one("#show-card").scroll_home(animate=False)


class ShowApp(App[str | None]):
    """``usetest show``: the participant's screen on its own. Returns the message to end with
    when the database cannot be read any more (None on a normal quit)."""

    CSS_PATH = "show.tcss"
    TITLE = "usetest show"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+t", "switch_theme", "light/dark", show=False, id="show-theme"),
    ]

    def __init__(self, follower: Follower, prompt_when: PromptWhen = "started") -> None:
        super().__init__()
        self.follower = follower
        self.prompt_when = prompt_when

    def on_mount(self) -> None:
        self.push_screen(ParticipantScreen(self.follower, self.prompt_when))

    def on_unmount(self) -> None:
        self.follower.close()

    def notify(self, *args: Any, **kwargs: Any) -> None:
        """Nothing pops up on the participant's screen (not even Textual's own notices)."""

    def action_switch_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"
