"""The report's charts as SVG text, drawn with matplotlib from a :class:`Summary`.

Each function takes one or more ``(label, Summary)`` groups (one per condition, or a single
group with an empty label) and returns a self-contained ``<svg>`` element: text stays text
(``svg.fonttype: none``), no external references, the same input gives the same bytes. Text is
never read as mathtext, so a ``$`` in a label is a dollar sign. matplotlib is imported here only
(about 0.8 s): the report command is the only caller.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from usetest.errors import UsetestError
from usetest.stats import SUS_GRADES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from usetest.analysis import Summary

Groups = Sequence[tuple[str, "Summary"]]

# Colour-blind-safe (Okabe & Ito 2008), one per condition.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "usetest",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
}


class ChartsUnavailable(UsetestError):
    """matplotlib is not installed; the message says how to add it."""


def _figure(width: float, height: float) -> Figure:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ChartsUnavailable(
            "charts need matplotlib: pip install -e '.[charts]' (or run the report with --no-charts)"
        ) from exc
    matplotlib.rcParams.update(STYLE)
    return Figure(figsize=(width, height), layout="constrained")


def _svg(fig: Figure, title: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "usetest", "Title": title})
    text = buf.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype: inline in HTML
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)  # RDF boilerplate


def _height(rows: int, groups: int) -> float:
    return max(1.8, 0.5 + rows * (0.28 + 0.2 * groups))


def _task_ids(groups: Groups) -> list[str]:
    ids: list[str] = []
    for _, s in groups:
        ids += [t for t in s.tasks["task_id"] if t not in ids] if len(s.tasks) else []
    return ids


def _row(task: int, group: int, groups: int, step: float) -> float:
    """The y of a group's bar or dots on a task's row: the groups centred on the row."""
    return task + (group - (groups - 1) / 2) * step


def _legend(ax: Axes, groups: Groups) -> None:
    if len(groups) > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)


def completion_chart(groups: Groups) -> str:
    """Completion rate per task with its adjusted-Wald 95 % interval as whiskers."""
    ids = _task_ids(groups)
    fig = _figure(7, _height(len(ids), len(groups)))
    ax = fig.add_subplot()
    step = 0.8 / len(groups)
    for g, (label, s) in enumerate(groups):
        rows = s.tasks.set_index("task_id") if len(s.tasks) else None
        ys, xs, lo, hi = [], [], [], []
        for i, task_id in enumerate(ids):
            if rows is None or task_id not in rows.index or not rows.loc[task_id, "n"]:
                continue
            r = rows.loc[task_id]
            ys.append(_row(i, g, len(groups), step))
            xs.append(100 * r["completion"])
            lo.append(100 * (r["completion"] - r["completion_low"]))
            hi.append(100 * (r["completion_high"] - r["completion"]))
        ax.barh(ys, xs, height=step * 0.85, color=PALETTE[g % len(PALETTE)], alpha=0.85,
                label=label or None, xerr=[lo, hi], error_kw={"ecolor": "#333333", "capsize": 3,
                                                               "elinewidth": 1})  # fmt: skip
    ax.set_yticks(range(len(ids)), ids)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("completion rate, % (whiskers: adjusted-Wald 95 % CI)")
    ax.grid(axis="y", visible=False)
    _legend(ax, groups)
    return _svg(fig, "Completion rate per task")


def time_chart(groups: Groups, times: str = "success") -> str:
    """Each attempt's time on a log axis, with the geometric mean (or median) and its CI."""
    ids = _task_ids(groups)
    fig = _figure(7, _height(len(ids), len(groups)))
    ax = fig.add_subplot()
    step = 0.8 / len(groups)
    for g, (label, s) in enumerate(groups):
        colour = PALETTE[g % len(PALETTE)]
        rows = s.tasks.set_index("task_id") if len(s.tasks) else None
        for i, task_id in enumerate(ids):
            y = _row(i, g, len(groups), step)
            a = s.attempts[s.attempts["task_id"] == task_id] if len(s.attempts) else s.attempts
            if len(a):
                shown = a[a["success"]] if times == "success" else a
                secs = [v for v in shown["time_s"] if v > 0]
                jitter = [y + step * 0.3 * math.sin(k * 2.4) for k in range(len(secs))]
                ax.scatter(secs, jitter, s=12, color=colour, alpha=0.55, linewidths=0,
                           label=(label or None) if i == 0 else None)  # fmt: skip
            if rows is not None and task_id in rows.index and rows.loc[task_id, "time_n"]:
                r = rows.loc[task_id]
                if not math.isnan(r["time_low_s"]):
                    ax.plot([r["time_low_s"], r["time_high_s"]], [y, y], color="#222222", lw=1.4)
                ax.plot([r["time_s"]], [y], marker="|", markersize=12, mew=2.2, color="#222222")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # plain 5, 10, 20 …
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(range(len(ids)), ids)
    ax.invert_yaxis()
    what = "successful attempts" if times == "success" else "all attempts"
    ax.set_xlabel(f"time on task, seconds, log scale ({what}; bar: geometric mean or median "
                  "with 95 % CI)")  # fmt: skip
    ax.grid(axis="y", visible=False)
    _legend(ax, groups)
    return _svg(fig, "Time on task")


def sus_chart(groups: Groups) -> str:
    """Each participant's SUS score against the Sauro–Lewis grade bands, and the mean's CI."""
    fig = _figure(7, 0.9 + 0.45 * len(groups))
    ax = fig.add_subplot()
    upper = 100.0
    for k, (bound, grade) in enumerate(SUS_GRADES):
        shade = "#f2f2f2" if k % 2 else "#e4e4e4"
        ax.axvspan(bound, upper, color=shade, lw=0)
        if upper - bound >= 2.5:  # the narrow bands (C+, B−, B+, A−) would overprint
            ax.text((bound + upper) / 2, len(groups) - 0.35, grade, ha="center", va="bottom",
                    fontsize=7, color="#555555")  # fmt: skip
        upper = bound
    for g, (_, s) in enumerate(groups):
        colour = PALETTE[g % len(PALETTE)]
        scores = list(s.sus["sus"]) if len(s.sus) else []
        jitter = [g + 0.18 * math.sin(k * 2.4) for k in range(len(scores))]
        ax.scatter(scores, jitter, s=16, color=colour, alpha=0.7, linewidths=0)
        summary = s.sus_summary
        if summary.get("n"):
            if not math.isnan(summary["low"]):
                ax.plot([summary["low"], summary["high"]], [g, g], color="#222222", lw=1.4)
            ax.plot([summary["mean"]], [g], marker="|", markersize=14, mew=2.2, color="#222222")
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(groups) - 0.1)
    ax.set_yticks(range(len(groups)), [label or "all" for label, _ in groups])
    ax.invert_yaxis()
    ax.set_xlabel("SUS score (dots: participants; bar: mean with 95 % CI; bands: grades)")
    ax.grid(False)
    return _svg(fig, "SUS scores")


def errors_chart(groups: Groups) -> str:
    """Errors per task, stacked by error type (all groups together)."""
    import pandas as pd

    frames = [s.errors_by_type for _, s in groups if len(s.errors_by_type)]
    ids = _task_ids(groups)
    fig = _figure(7, _height(len(ids), 1))
    ax = fig.add_subplot()
    if frames:
        counts = (pd.concat(frames).groupby(["task_id", "type_name"])["count"].sum()
                  .unstack(fill_value=0).reindex(ids, fill_value=0))  # fmt: skip
        left = [0] * len(ids)
        for k, name in enumerate(counts.columns):
            values = [int(v) for v in counts[name]]
            ax.barh(range(len(ids)), values, left=left, height=0.6, label=str(name),
                    color=PALETTE[k % len(PALETTE)])  # fmt: skip
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    ax.set_yticks(range(len(ids)), ids)
    ax.invert_yaxis()
    ax.set_xlabel("errors logged, by type")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", visible=False)
    return _svg(fig, "Errors by type")
