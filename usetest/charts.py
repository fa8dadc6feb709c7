"""The report's charts as SVG text, drawn with matplotlib from a :class:`Summary`.

Each function takes one or more ``(label, Summary)`` groups (one per condition, or a single
group with an empty label) and returns a self-contained ``<svg>`` element: text stays text
(``svg.fonttype: none``), no external references, the same input gives the same bytes. Text is
never read as mathtext, so a ``$`` in a label is a dollar sign. matplotlib is imported here only
(about 0.8 s): the report command is the only caller.

Accessible on a page with other charts (WCAG 2.1 AA, checked by axe-core in the tests): each
SVG is ``role="img"`` with a text alternative written from the same numbers it draws, its ids
carry the chart's name (matplotlib numbers them ``patch_1``… in every figure, so two inline
SVGs would share ids), tasks are shown by their titles, and every mark's colour has at least
3:1 contrast against what it is drawn on (WCAG 1.4.11), with no transparency.
"""

from __future__ import annotations

import html
import io
import math
import re
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from usetest.errors import UsetestError
from usetest.plain import pictures
from usetest.stats import SUS_GRADES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from usetest.analysis import Summary

Groups = Sequence[tuple[str, "Summary"]]

# One per condition (or error type): the hues of Okabe & Ito's colour-blind-safe palette (2008),
# darkened where needed so that each has at least 4:1 contrast against white and 3:1 against
# the SUS chart's grey grade bands (their orange, sky blue and yellow have 1.3–2.3:1 on white).
PALETTE = ("#0072B2", "#A65A00", "#007A5A", "#AA3F84", "#555555", "#6A3D9A", "#C23B22")
BACKGROUNDS = ("#ffffff", "#f2f2f2", "#e4e4e4")
"""What the palette's marks are drawn on: the page and the SUS chart's grade bands."""
INK = "#222222"
"""Whiskers, means and text."""
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


def _figure(width: float, height: float, margins: dict[str, float], top: float = 0.12) -> Figure:
    """A ``width`` x ``height`` inch figure whose axes leave fixed ``margins`` (inches: left and
    right from :func:`_margins`; the bottom is set with the x label by :func:`_xlabel`).

    Fixed margins, estimated from the labels' lengths, instead of matplotlib's constrained
    layout: that engine measures every label's extent before drawing, which made the charts
    take up to twice as long (``tests/bench/bench_report.py`` measures both), and the reader's
    browser draws the text in its own font anyway (``svg.fonttype: none``), so a fit measured
    in matplotlib's font was never exact."""
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ChartsUnavailable(
            "charts need matplotlib, which usetest installs but this environment lacks: "
            "pip install 'usetest[charts]' (or run the report with --no-charts)"
        ) from exc
    matplotlib.rcParams.update(STYLE)
    # matplotlib's own colours (C0…) fill what is not given a colour, such as whisker caps
    matplotlib.rcParams["axes.prop_cycle"] = matplotlib.cycler(color=PALETTE)
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=margins["left"] / width, right=1 - margins["right"] / width,
                        top=1 - top / height, bottom=0.5 / height)  # fmt: skip
    return fig


CHAR_WIDTH = 0.072
"""Inches per character of 9-point sans-serif text: a little over DejaVu Sans's average
(0.07; Arial and Helvetica, which a browser may draw with instead, are narrower)."""
LINE_HEIGHT = 0.17
"""Inches per line of 9-point text."""


def _text_width(texts: Sequence[str], size: float = 9) -> float:
    """The width in inches of the longest line of ``texts`` at ``size`` points."""
    longest = max((len(line) for text in texts for line in text.split("\n")), default=0)
    return longest * CHAR_WIDTH * size / 9


def _margins(tick_labels: Sequence[str], legend: Sequence[str] = ()) -> dict[str, float]:
    """Left and right margins (inches) for a chart's y tick labels and its legend (outside
    the axes on the right; none when ``legend`` is empty)."""
    return {"left": 0.15 + _text_width(tick_labels),
            "right": 0.6 + _text_width(legend, 8) if legend else 0.25}  # fmt: skip


def _xlabel(fig: Figure, ax: Axes, text: str) -> None:
    """``text`` under the axes, wrapped to their width, and the bottom margin that the tick
    labels and the label's lines need."""
    width, height = fig.get_size_inches()
    p = fig.subplotpars
    centre = (p.left + p.right) / 2  # the label is centred under the axes, within the figure
    lines = textwrap.wrap(text, max(30, int(2 * min(centre, 1 - centre) * width / CHAR_WIDTH) - 2))
    ax.set_xlabel("\n".join(lines))
    fig.subplots_adjust(bottom=(0.32 + LINE_HEIGHT * len(lines)) / height)


def _svg(fig: Figure, name: str, alt: str) -> str:
    """The figure as an inline ``<svg>``: ids prefixed with ``name``, ``role="img"`` and ``alt``
    as its accessible name (and its ``<title>``, the tooltip)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "usetest"})
    text = buf.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype: inline in HTML
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)  # RDF boilerplate
    # matplotlib's comments repeat the labels' text; dropping them leaves markup only between
    # < and >, so the id rewriting below never touches a label.
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = prefix_ids(text, f"chart-{name}-")
    label = html.escape(pictures(alt), quote=True)
    return text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1).replace(
        ">", f"><title>{label}</title>", 1)


_TAG = re.compile(r"<[^!?][^>]*>")


def prefix_ids(svg: str, prefix: str) -> str:
    """Every ``id`` in ``svg`` and every reference to it (``url(#…)``, ``href="#…"``,
    ``xlink:href="#…"``) with ``prefix`` in front, so that several SVGs share one page.
    Only markup is rewritten, never text: ``svg`` must hold no comments."""
    ids = set(re.findall(r'\sid="([^"]+)"', "".join(_TAG.findall(svg))))

    def ref(m: re.Match[str]) -> str:
        return f"{m[1]}{prefix}{m[2]}{m[3]}" if m[2] in ids else m[0]

    def tag(m: re.Match[str]) -> str:
        t = re.sub(r'(\sid=")([^"]+)(")', lambda i: f"{i[1]}{prefix}{i[2]}{i[3]}", m[0])
        t = re.sub(r"(url\(#)([^)]+)(\))", ref, t)
        return re.sub(r'((?:xlink:)?href="#)([^"]+)(")', ref, t)

    return _TAG.sub(tag, svg)


def _height(rows: int, groups: int) -> float:
    return max(1.8, 0.5 + rows * (0.28 + 0.2 * groups))


DOTS_MAX = 500
"""A chart draws one dot per attempt (per participant on the SUS chart) while it has at most
this many to draw, as usability reports show small studies; past that, every row of the chart
is a box plot, so a chart's size does not grow with the study (docs/report.md)."""


def time_dots(groups: Groups) -> bool:
    """Whether the time chart draws one dot per timed attempt (else a box per row)."""
    return sum(int(s.tasks["time_n"].sum()) for _, s in groups if len(s.tasks)) <= DOTS_MAX


def sus_dots(groups: Groups) -> bool:
    """Whether the SUS chart draws one dot per participant (else a box per group)."""
    return sum(int(s.sus["sus"].notna().sum()) for _, s in groups if len(s.sus)) <= DOTS_MAX


Five = tuple[float, float, float, float, float]
"""Smallest, lower quartile, median, upper quartile, largest."""


def _five(values: Sequence[float]) -> Five:
    """The five-number summary a box plot draws (Tukey 1977, *Exploratory Data Analysis*,
    ch. 2), the quartiles by linear interpolation between order statistics (Hyndman & Fan
    1996, "Sample quantiles in statistical packages", definition 7: numpy's default)."""
    import numpy as np

    lo, q1, median, q3, hi = np.percentile(np.asarray(values, dtype=float), [0, 25, 50, 75, 100])
    return float(lo), float(q1), float(median), float(q3), float(hi)


def _boxes(ax: Axes, ys: list[float], fives: list[Five], colour: str, height: float,
           label: str | None) -> None:  # fmt: skip
    """Horizontal box plots, one at each of ``ys``: the box from quartile to quartile with a
    line at the median, whiskers to the smallest and largest value. Outlined, with a white
    face, so the interval drawn over a box keeps its contrast. One artist per part, not per
    box."""
    if not ys:
        return
    lo, q1, median, q3, hi = (list(v) for v in zip(*fives, strict=True))
    ax.barh(ys, [b - a for a, b in zip(q1, q3, strict=True)], left=q1, height=height,
            color="white", edgecolor=colour, linewidth=1.4, label=label)  # fmt: skip
    ax.vlines(median, [y - height / 2 for y in ys], [y + height / 2 for y in ys], color=colour,
              lw=1.4)  # fmt: skip
    ax.hlines(ys + ys, lo + q3, q1 + hi, color=colour, lw=1.1)
    ax.plot(lo + hi, ys + ys, linestyle="none", marker="|", markersize=7, mew=1.1, color=colour)


def _task_ids(groups: Groups) -> list[str]:
    ids: list[str] = []
    for _, s in groups:
        ids += [t for t in s.tasks["task_id"] if t not in ids] if len(s.tasks) else []
    return ids


def task_titles(groups: Groups) -> dict[str, str]:
    """Task id -> its title (the id when a summary has no title for it)."""
    titles: dict[str, str] = {}
    for _, s in groups:
        if len(s.tasks):
            for i, title in zip(s.tasks["task_id"], s.tasks["title"], strict=True):
                titles.setdefault(i, str(title) if title else i)
    return titles


def _tick_labels(ids: list[str], titles: dict[str, str]) -> list[str]:
    """The tasks' titles for an axis, wrapped to lines of 28 characters at most."""
    return ["\n".join(textwrap.wrap(pictures(titles.get(i, i)), 28)) or i for i in ids]


def _in(label: str, groups: Groups) -> str:
    """"current: " before a group's figures when there are several groups."""
    return f"{label or 'all'}: " if len(groups) > 1 else ""


def _n(v: float, digits: int = 0) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _row(task: int, group: int, groups: int, step: float) -> float:
    """The y of a group's bar or dots on a task's row: the groups centred on the row."""
    return task + (group - (groups - 1) / 2) * step


def _group_names(groups: Groups) -> list[str]:
    """The legend's entries: the groups' labels when there are several, else none."""
    return [pictures(label) for label, _ in groups] if len(groups) > 1 else []


def _legend(ax: Axes, groups: Groups) -> None:
    if len(groups) > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)


def completion_chart(groups: Groups) -> str:
    """Completion rate per task with its adjusted-Wald 95 % interval as whiskers."""
    ids = _task_ids(groups)
    titles = task_titles(groups)
    labels = _tick_labels(ids, titles)
    fig = _figure(7, _height(len(ids), len(groups)), _margins(labels, _group_names(groups)))
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
        ax.barh(ys, xs, height=step * 0.85, color=PALETTE[g % len(PALETTE)],
                label=pictures(label) or None, xerr=[lo, hi], error_kw={"ecolor": INK, "capsize": 3,
                                                               "elinewidth": 1})  # fmt: skip
    ax.set_yticks(range(len(ids)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    _xlabel(fig, ax, "completion rate, % (whiskers: adjusted-Wald 95 % CI)")
    ax.grid(axis="y", visible=False)
    _legend(ax, groups)
    return _svg(fig, "completion", completion_text(groups, titles))


def completion_text(groups: Groups, titles: dict[str, str] | None = None) -> str:
    """The completion chart in words: each task's rate and interval, per group."""
    titles = task_titles(groups) if titles is None else titles
    parts = []
    for label, s in groups:
        rates = [f"{titles.get(r['task_id'], r['task_id'])} {_n(100 * r['completion'])}% "
                 f"(95% CI {_n(100 * r['completion_low'])}–{_n(100 * r['completion_high'])}%)"
                 for r in (s.tasks.to_dict(orient="records") if len(s.tasks) else []) if r["n"]]  # fmt: skip
        parts.append(_in(label, groups) + ("; ".join(rates) or "no attempts"))
    return "Completion rate per task: " + ". ".join(parts) + "."


def _times(groups: Groups, times: str) -> list[dict[str, Any]]:
    """Per group: task id -> the times the summary uses (seconds above 0, of the successful
    attempts or, with ``times='all'``, of all) as an array, in the attempts' order; one
    grouping pass per group."""
    rows: list[dict[str, Any]] = []
    for _, s in groups:
        a = s.attempts
        if not len(a):
            rows.append({})
            continue
        shown = a[a["success"]] if times == "success" else a
        shown = shown[shown["time_s"] > 0]
        rows.append({str(k): v.to_numpy(float)
                     for k, v in shown.groupby("task_id", sort=False)["time_s"]})  # fmt: skip
    return rows


def time_chart(groups: Groups, times: str = "success") -> str:
    """Time on task per task on a log axis, with the geometric mean (or median) and its CI:
    one dot per attempt up to :data:`DOTS_MAX` dots, else a box plot per row."""
    ids = _task_ids(groups)
    titles = task_titles(groups)
    labels = _tick_labels(ids, titles)
    dots = time_dots(groups)
    values = _times(groups, times)
    boxes = None if dots else [{k: _five(v) for k, v in row.items()} for row in values]
    fig = _figure(7, _height(len(ids), len(groups)), _margins(labels, _group_names(groups)))
    ax = fig.add_subplot()
    step = 0.8 / len(groups)
    for g, (label, s) in enumerate(groups):
        colour = PALETTE[g % len(PALETTE)]
        rows = s.tasks.set_index("task_id") if len(s.tasks) else None
        # one artist per kind of mark and group, not per task: the same picture, drawn faster
        xs: list[float] = []
        ys: list[float] = []
        box_ys: list[float] = []
        fives: list[Five] = []
        centre: tuple[list[float], list[float]] = ([], [])
        ci: tuple[list[float], list[float], list[float]] = ([], [], [])
        for i, task_id in enumerate(ids):
            y = _row(i, g, len(groups), step)
            secs = values[g].get(task_id, ())
            if len(secs) and boxes is not None:
                box_ys.append(y)
                fives.append(boxes[g][task_id])
            elif len(secs):
                xs += list(secs)
                ys += [y + step * 0.3 * math.sin(k * 2.4) for k in range(len(secs))]
            if rows is not None and task_id in rows.index and rows.loc[task_id, "time_n"]:
                r = rows.loc[task_id]
                if not math.isnan(r["time_low_s"]):
                    ci[0].append(y)
                    ci[1].append(r["time_low_s"])
                    ci[2].append(r["time_high_s"])
                centre[0].append(r["time_s"])
                centre[1].append(y)
        _boxes(ax, box_ys, fives, colour, step * 0.6, pictures(label) or None)
        if xs:
            # opaque dots with a white rim: overlapping attempts stay countable without the
            # transparency that would lower their contrast
            ax.scatter(xs, ys, s=14, color=colour, edgecolors="white", linewidths=0.5,
                       label=pictures(label) or None)  # fmt: skip
        if ci[0]:
            ax.hlines(*ci, color=INK, lw=1.4)
        if centre[0]:
            ax.plot(*centre, linestyle="none", marker="|", markersize=12, mew=2.2, color=INK)
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # plain 5, 10, 20 …
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(range(len(ids)), labels)
    ax.invert_yaxis()
    what = "successful attempts" if times == "success" else "all attempts"
    marks = ("dots: attempts" if dots else
             "boxes: quartiles and median, whiskers: fastest and slowest")  # fmt: skip
    _xlabel(fig, ax, f"time on task, seconds, log scale ({what}; {marks}; bar: geometric mean "
                     "or median with 95 % CI)")  # fmt: skip
    ax.grid(axis="y", visible=False)
    _legend(ax, groups)
    return _svg(fig, "time", time_text(groups, times, boxes, titles))


def time_text(groups: Groups, times: str = "success", boxes: list[dict[str, Five]] | None = None,
              titles: dict[str, str] | None = None) -> str:  # fmt: skip
    """The time chart in words: each task's geometric mean (or median) and interval, and
    what the chart draws: one dot per attempt, or (``boxes``, per group: task id -> its five
    numbers) a box plot whose quartiles and range are given too."""
    titles = task_titles(groups) if titles is None else titles
    what = "successful attempts" if times == "success" else "all attempts"
    parts = []
    for g, (label, s) in enumerate(groups):
        rows = []
        for r in s.tasks.to_dict(orient="records") if len(s.tasks) else []:
            if not r["time_n"]:
                continue
            how = "median" if r.get("time_method") == "median" else "geometric mean"
            five = boxes[g].get(r["task_id"]) if boxes is not None else None
            spread = (f"; quartiles {_n(five[1])}–{_n(five[3])} s, fastest {_n(five[0])} s, "
                      f"slowest {_n(five[4])} s" if five else "")  # fmt: skip
            rows.append(f"{titles.get(r['task_id'], r['task_id'])} {how} {_n(r['time_s'])} s "
                        f"(95% CI {_n(r['time_low_s'])}–{_n(r['time_high_s'])} s, "
                        f"{r['time_n']} attempts{spread})")  # fmt: skip
        parts.append(_in(label, groups) + ("; ".join(rows) or "no timed attempts"))
    drawn = ("one dot per attempt" if boxes is None else
             f"a box plot per task (more than {DOTS_MAX} attempts to show)")  # fmt: skip
    return f"Time on task in seconds, {what}, {drawn}: " + ". ".join(parts) + "."


def sus_chart(groups: Groups) -> str:
    """Each participant's SUS score against the Sauro–Lewis grade bands, and the mean's CI:
    one dot per participant up to :data:`DOTS_MAX` dots, else a box plot per group."""
    labels = [pictures(label) or "all" for label, _ in groups]
    scores = [[v for v in s.sus["sus"] if not math.isnan(v)] if len(s.sus) else [] for _, s in groups]
    boxes = None if sus_dots(groups) else [_five(v) if v else None for v in scores]
    fig = _figure(7, 0.9 + 0.45 * len(groups) + 0.2, _margins(labels))
    ax = fig.add_subplot()
    upper = 100.0
    for k, (bound, grade) in enumerate(SUS_GRADES):
        shade = "#f2f2f2" if k % 2 else "#e4e4e4"
        ax.axvspan(bound, upper, color=shade, lw=0)
        if upper - bound >= 2.5:  # the narrow bands (C+, B−, B+, A−) would overprint
            ax.text((bound + upper) / 2, len(groups) - 0.35, grade, ha="center", va="bottom",
                    fontsize=7, color="#444444")  # fmt: skip
        upper = bound
    for g, (_, s) in enumerate(groups):
        colour = PALETTE[g % len(PALETTE)]
        if boxes is None:
            jitter = [g + 0.18 * math.sin(k * 2.4) for k in range(len(scores[g]))]
            ax.scatter(scores[g], jitter, s=18, color=colour, edgecolors="white", linewidths=0.5)
        elif boxes[g] is not None:
            _boxes(ax, [g], [boxes[g]], colour, 0.4, None)
        summary = s.sus_summary
        if summary.get("n"):
            if not math.isnan(summary["low"]):
                ax.plot([summary["low"], summary["high"]], [g, g], color=INK, lw=1.4)
            ax.plot([summary["mean"]], [g], marker="|", markersize=14, mew=2.2, color=INK)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(groups) - 0.1)
    ax.set_yticks(range(len(groups)), labels)
    ax.invert_yaxis()
    marks = ("dots: participants" if boxes is None else
             "boxes: quartiles and median, whiskers: lowest and highest")  # fmt: skip
    _xlabel(fig, ax, f"SUS score ({marks}; bar: mean with 95 % CI; bands: grades)")
    ax.grid(False)
    return _svg(fig, "sus", sus_text(groups, boxes))


def sus_text(groups: Groups, boxes: list[Five | None] | None = None) -> str:
    """The SUS chart in words: mean, interval, grade, range and n per group, and what the
    chart draws: one dot per participant, or (``boxes``, per group) a box plot whose
    quartiles are given too."""
    parts = []
    for g, (label, s) in enumerate(groups):
        f = s.sus_summary
        if not f.get("n"):
            parts.append(_in(label, groups) + "no SUS scores")
            continue
        scores = s.sus["sus"]
        five = boxes[g] if boxes is not None else None
        quartiles = f"quartiles {_n(five[1], 1)}–{_n(five[3], 1)}, " if five else ""
        parts.append(_in(label, groups) + f"mean {_n(f['mean'], 1)} (95% CI {_n(f['low'], 1)}–"
                     f"{_n(f['high'], 1)}), grade {f['grade']}, {quartiles}scores from "
                     f"{_n(float(scores.min()), 1)} to {_n(float(scores.max()), 1)}, "
                     f"{f['n']} participants")  # fmt: skip
    drawn = ("one dot per participant" if boxes is None else
             f"a box plot per group (more than {DOTS_MAX} participants to show)")  # fmt: skip
    return f"SUS scores against the grade bands, {drawn}: " + ". ".join(parts) + "."


def errors_chart(groups: Groups) -> str:
    """Errors per task, stacked by error type (all groups together)."""
    import pandas as pd

    frames = [s.errors_by_type for _, s in groups if len(s.errors_by_type)]
    ids = _task_ids(groups)
    titles = task_titles(groups)
    labels = _tick_labels(ids, titles)
    counts = (pd.concat(frames).groupby(["task_id", "type_name"])["count"].sum()
              .unstack(fill_value=0).reindex(ids, fill_value=0)) if frames else None  # fmt: skip
    types = [pictures(str(name)) for name in counts.columns] if counts is not None else []
    fig = _figure(7, _height(len(ids), 1), _margins(labels, types))
    ax = fig.add_subplot()
    if counts is not None:
        left = [0] * len(ids)
        for k, name in enumerate(counts.columns):
            values = [int(v) for v in counts[name]]
            # a white rule between stacked types: neighbours need not contrast with each other
            ax.barh(range(len(ids)), values, left=left, height=0.6, label=types[k],
                    color=PALETTE[k % len(PALETTE)], edgecolor="white", linewidth=0.8)  # fmt: skip
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    ax.set_yticks(range(len(ids)), labels)
    ax.invert_yaxis()
    _xlabel(fig, ax, "errors logged, by type")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", visible=False)
    return _svg(fig, "errors", errors_text(groups, titles))


def errors_text(groups: Groups, titles: dict[str, str] | None = None) -> str:
    """The errors chart in words: per task, the count of each error type."""
    titles = task_titles(groups) if titles is None else titles
    counts: dict[str, dict[str, int]] = {}
    for _, s in groups:
        for r in s.errors_by_type.to_dict(orient="records") if len(s.errors_by_type) else []:
            by_type = counts.setdefault(r["task_id"], {})
            by_type[str(r["type_name"])] = by_type.get(str(r["type_name"]), 0) + int(r["count"])
    rows = [f"{titles.get(i, i)}: " + (", ".join(f"{k} {v}" for k, v in counts[i].items())
                                        if i in counts else "none")
            for i in _task_ids(groups)]  # fmt: skip
    return "Errors logged per task, by type: " + "; ".join(rows or ["none"]) + "."
