"""End of session: per-task results and the SUS score with its grade; next participant or quit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from usetest.tui.messages import Perform, SessionMoved
from usetest.tui.text import clock, literal

if TYPE_CHECKING:
    from usetest.recorder import Recording

SUS_ITEMS = tuple(f"sus{i}" for i in range(1, 11))


class SummaryScreen(Screen[None]):
    """The session's results; ``n`` posts :class:`NextParticipant`, a saved correction
    :class:`~usetest.tui.messages.SessionMoved` (the app shows the summary again).

    ``db_path``: the study database for the results view (None: in memory, no results).
    ``by``: who makes corrections (the moderator's initials).
    """

    class NextParticipant(Message):
        """The moderator asked for the next participant's set-up."""

    def __init__(
        self, recording: Recording, perform: Perform, db_path: Path | None, by: str | None
    ) -> None:
        super().__init__()
        self.recording = recording
        self.perform = perform
        self.db_path = db_path
        self.by = by

    BINDINGS = [
        Binding("n", "next_participant", "Next participant", id="summary-next"),
        Binding("r", "results", "Study results", id="summary-results"),
        Binding("c", "review", "Correct a task", id="summary-review"),
        Binding("q", "quit_app", "Quit", id="summary-quit"),
    ]

    def compose(self) -> ComposeResult:
        rec = self.recording
        state = rec.session.state
        yield Static(literal(f"Session complete — {rec.record.participant}"), id="summary-title")
        table: DataTable[str] = DataTable(id="summary-table", cursor_type="none")
        table.add_columns("#", "task", "outcome", "time", "errors", "assists", "SEQ")
        for task_id in state.order:
            t = state.tasks[task_id]
            seq = state.answer("seq", "seq", task_id)
            time = "-" if t.outcome == "skipped" and not t.recorded_ms else clock(t.recorded_ms)
            table.add_row(
                str(t.position), task_id, t.outcome or "-", time, str(t.errors),
                str(t.assists), ("declined" if seq.declined else str(seq.value)) if seq else "-",
            )  # fmt: skip
        yield table
        yield Static("", id="summary-sus")
        yield Static("n next participant   ·   c correct a task   ·   r study results   ·   q quit",
                     classes="keys")  # fmt: skip
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        answers = self.sus_answers()
        if answers is None:
            return
        line = self.query_one("#summary-sus", Static)
        if any(a is None for a in answers):
            line.update("SUS: incomplete (some items unanswered)")
            return
        declined = sum(a == "declined" for a in answers)
        if declined > 1:
            # Lewis & Sauro (2017) validated scoring nine items, not fewer: no score at all
            line.update(f"no SUS score: {declined} items declined (a score needs nine of ten)")
            return
        line.update("SUS: scoring …")
        self.score_sus([a if isinstance(a, int) else None for a in answers])

    def sus_answers(self) -> list[int | str | None] | None:
        """The ten SUS answers: the rating, "declined", or None where unanswered; None when the
        study has no SUS."""
        rec = self.recording
        answers = [rec.session.state.answer("sus", item) for item in SUS_ITEMS]
        if all(a is None for a in answers):
            return None
        return [None if a is None else "declined" if a.declined else a.value for a in answers]

    @work(thread=True, exclusive=True, group="sus")
    def score_sus(self, responses: list[int | None]) -> None:
        # usetest.stats loads numpy (a tenth of a second; scipy only for intervals, which a
        # SUS score does not need): off the event loop, so the table shows at once.
        from usetest import stats
        from usetest.present import ordinal

        score = stats.sus_score(responses)  # one None (declined): from nine items × 100/36
        line = (f"SUS {score:.1f}" if None in responses else f"SUS {score:g}") + (
                f"  ·  grade {stats.sus_grade(score)}  ·  "
                f"{stats.sus_adjective(score)}  ·  {ordinal(stats.sus_percentile(score))} percentile")  # fmt: skip
        if None in responses:
            line += "\nscored from nine items: one declined (Lewis & Sauro 2017, sum × 100/36)"
        self.post_message(self.SusScored(line))  # thread-safe; dropped if the screen is gone

    class SusScored(Message):
        """The SUS line is ready (scored in a thread)."""

        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    def on_summary_screen_sus_scored(self, message: SusScored) -> None:
        self.query_one("#summary-sus", Static).update(literal(message.line))

    def action_results(self) -> None:
        from usetest.tui.screens.results import ResultsScreen

        if self.db_path is None:
            self.notify("This session is not in a database file: no study results to show.")
            return
        self.app.push_screen(ResultsScreen(self.db_path))

    def action_review(self) -> None:
        from usetest.tui.screens.review import ReviewScreen

        rec = self.recording
        titles = {t.id: t.title for t in rec.loaded.scenario.tasks}

        def closed(changed: bool | None) -> None:
            if changed:
                self.post_message(SessionMoved())  # the summary again, with the corrected values

        self.app.push_screen(ReviewScreen(rec.session, rec.record.participant, titles,
                                          self.perform, by=self.by), closed)  # fmt: skip

    def action_next_participant(self) -> None:
        self.post_message(self.NextParticipant())

    def action_quit_app(self) -> None:
        self.app.exit()
