"""A rating scale drawn as numbered boxes, the recorded answer highlighted, labels at the ends."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from usetest.tui.text import literal

CELL = 5  # columns per scale point: "  7  "
SIDE_BY_SIDE_MAX = 74  # labels beside the points when that fits in 80 columns, else below


class LikertScale(Static):
    """Shows ``low … high`` over the points ``min..max``; ``selected`` is drawn in reverse."""

    DEFAULT_CSS = """
    LikertScale { height: auto; padding: 1 0; }
    """

    def show_scale(
        self,
        low_value: int,
        high_value: int,
        low: str,
        high: str,
        selected: int | None = None,
        declined: bool = False,
    ) -> None:
        """Draw the points; ``declined`` marks an item the participant declined (no point is
        selected then: a declined item has no number)."""
        points = range(low_value, high_value + 1)
        cells: list[str | tuple[str, str]] = []
        for value in points:
            text = f"{value:^{CELL - 2}}"
            if value == selected and not declined:
                cells += [" ", (text, "reverse bold"), " "]
            else:
                cells += [" ", (text, "bold"), " "]
        mark: list[str | tuple[str, str]] = (
            ["\n", (" declined ", "reverse bold")] if declined else []
        )
        width = CELL * len(points)
        if len(low) + len(high) + width + 6 <= SIDE_BY_SIDE_MAX:
            # Strongly disagree   1    2    3    4    5   Strongly agree
            self.update(Content.assemble(literal(low), "  ", *cells, "  ", literal(high), *mark))
            return
        labels = f"{low_value} = {low}   …   {high_value} = {high}" if low or high else ""
        self.update(Content.assemble(*cells, "\n", literal(labels), *mark))
