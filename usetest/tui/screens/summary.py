"""End of session: per-task results and the SUS score with its grade; next participant or quit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from usetest.tui.text import clock, literal

if TYPE_CHECKING:
    from usetest.tui.app import UsetestApp


class SummaryScreen(Screen[None]):
    BINDINGS = [
        Binding("n", "next_participant", "Next participant", id="summary-next"),
        Binding("q", "quit_app", "Quit", id="summary-quit"),
    ]

    @property
    def ut(self) -> UsetestApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        rec = self.ut.recording
        assert rec is not None
        state = rec.session.state
        yield Static(literal(f"Session complete — {rec.record.participant}"), id="summary-title")
        table: DataTable[str] = DataTable(id="summary-table", cursor_type="none")
        table.add_columns("#", "task", "outcome", "time", "errors", "assists", "SEQ")
        for task_id in state.order:
            t = state.tasks[task_id]
            seq = state.answer("seq", "seq", task_id)
            table.add_row(
                str(t.position), task_id, t.outcome or "-", clock(t.closed_ms), str(t.errors),
                str(t.assists), str(seq.value) if seq else "-",
            )  # fmt: skip
        yield table
        yield Static(literal(self.sus_line()), id="summary-sus")
        yield Static("n next participant   ·   q quit", classes="keys")
        yield Footer(compact=True, show_command_palette=False)

    def sus_line(self) -> str:
        rec = self.ut.recording
        assert rec is not None
        answers = [rec.session.state.answer("sus", f"sus{i}") for i in range(1, 11)]
        if not any(a is not None for a in answers):
            return ""
        if any(a is None for a in answers):
            return "SUS: incomplete (some items unanswered)"
        from usetest import stats  # scipy: only when a summary is shown

        score = stats.sus_score([int(a.value) for a in answers if a is not None])
        return (f"SUS {score:g}  ·  grade {stats.sus_grade(score)}  ·  "
                f"{stats.sus_adjective(score)}  ·  {stats.sus_percentile(score):.0f}th percentile")  # fmt: skip

    def action_next_participant(self) -> None:
        self.ut.next_participant()

    def action_quit_app(self) -> None:
        self.app.exit()
