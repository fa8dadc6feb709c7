"""The study summary laid out once: the tables and lines every view shows, as text.

:mod:`usetest.analysis` computes the numbers; this module turns a
:class:`~usetest.analysis.Summary` (and the :class:`~usetest.analysis.Comparisons` of its
groups) into :class:`Grid` tables of text cells and :data:`Facts` lines, with one set of
number formats. Three renderers draw them: the CLI in 80 columns (an interval under its value,
the columns marked ``narrow`` only), the results view (DataTables) and the report (HTML,
Markdown, CIF). A measure is added here once and appears in all three.

Text from scenarios, moderators and participants is passed through as it is: each renderer
escapes it for its medium.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from usetest.analysis import Comparisons, Summary

# ---------------------------------------------------------------------------------------------
# Number formats.

DASH = "–"


def missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def pct(v: Any) -> str:
    """A share as a whole percentage: 0.786 → "79%"."""
    return DASH if missing(v) else f"{100 * v:.0f}%"


def num(v: Any, digits: int = 1) -> str:
    return DASH if missing(v) else f"{v:.{digits}f}"


def secs(v: Any) -> str:
    """Seconds: 65.8 reads as 66 in a table; 4.3 keeps its decimal."""
    return DASH if missing(v) else f"{v:.0f}" if v >= 10 else f"{v:.1f}"


def interval(low: Any, high: Any, fmt: Any = num) -> str:
    """"12.5–40.1"; for shares one % at the end: "45–90%"."""
    if missing(low) or missing(high):
        return DASH
    if fmt is pct:
        return f"{100 * low:.0f}–{100 * high:.0f}%"
    return f"{fmt(low)}–{fmt(high)}"


def signed(v: Any, fmt: str = "{:+.1f}") -> str:
    """A difference, always with its sign (−0.5, +3.0)."""
    return DASH if missing(v) else fmt.format(v).replace("-", "−")


def signed_interval(low: Any, high: Any, fmt: str = "{:+.1f}") -> str:
    """An interval of a difference: "−19.9 to −2.6" (a dash between signed numbers misleads)."""
    return DASH if missing(low) or missing(high) else f"{signed(low, fmt)} to {signed(high, fmt)}"


def p_value(v: Any) -> str:
    return DASH if missing(v) else ("< 0.001" if v < 0.001 else f"{v:.3f}")


def ordinal(v: Any) -> str:
    """A rounded rank in words: 1st, 2nd, 3rd, 11th, 91st."""
    if missing(v):
        return DASH
    k = round(v)
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def confidence_met(confidence: Any) -> str:
    """The verdict of a one-sided test against a target, in words."""
    if missing(confidence):
        return "not testable (too few values)"
    return f"meets the target with {share(confidence)} confidence"


def share(v: Any) -> str:
    """A confidence or probability as a percentage that never rounds to a certainty:
    "> 99%", "< 1%"."""
    if missing(v):
        return DASH
    if v > 0.99:
        return "> 99%"
    if v < 0.01:
        return "< 1%"
    return f"{100 * v:.0f}%"


# ---------------------------------------------------------------------------------------------
# The model.


@dataclass(frozen=True)
class Cell:
    """A value and, for an estimate, its interval."""

    value: str
    interval: str = ""

    def inline(self) -> str:
        """One line: "80% (45–90%)"."""
        return f"{self.value} ({self.interval})" if self.interval else self.value

    def stacked(self) -> str:
        """Two lines, the interval under the value (narrow terminals)."""
        return f"{self.value}\n({self.interval})" if self.interval else self.value


@dataclass(frozen=True)
class Column:
    title: str
    numeric: bool = False
    narrow: bool = True
    """Shown in the 80-column terminal summary too (else only in the wider views)."""
    short: str = ""
    """The title in the 80-column layout (may break into two lines); default ``title``."""
    brief: bool = False
    """In the 80-column layout, the value without its interval."""


@dataclass
class Grid:
    """A table: titled columns and rows of cells, with notes that belong under it."""

    columns: list[Column]
    rows: list[list[Cell]]
    notes: list[str] = field(default_factory=list)

    @property
    def titles(self) -> list[str]:
        return [c.title for c in self.columns]

    @property
    def numeric(self) -> set[int]:
        return {i for i, c in enumerate(self.columns) if c.numeric}

    def inline_rows(self) -> list[list[str]]:
        return [[cell.inline() for cell in row] for row in self.rows]

    def narrow(self) -> Grid:
        """Only the columns for an 80-column terminal."""
        keep = [i for i, c in enumerate(self.columns) if c.narrow]
        return Grid([self.columns[i] for i in keep],
                    [[Cell(row[i].value) if self.columns[i].brief else row[i] for i in keep]
                     for row in self.rows], self.notes)  # fmt: skip


Facts = list[tuple[str, str]]
"""Label: text lines."""


def _c(value: Any) -> Cell:
    return Cell(str(value))


# ---------------------------------------------------------------------------------------------
# Tasks.

CONFIDENCE_LABEL = "95% CI"


def task_grid(s: Summary) -> Grid:
    """Per task: completion (with and without assistance), abandonment, time, errors,
    assists and SEQ, each estimate with its interval."""
    rows = []
    for t in s.tasks.to_dict(orient="records"):
        median = " median" if t.get("time_method") == "median" else ""
        rows.append([
            _c(t["task_id"]), _c(t["n"]), _c(f"{t['successes']}/{t['n']}"),
            Cell(pct(t["completion"]), interval(t["completion_low"], t["completion_high"], pct)),
            Cell(pct(t.get("completion_unassisted")),
                 interval(t.get("completion_unassisted_low"), t.get("completion_unassisted_high"),
                          pct)),
            _c(pct(t.get("abandonment_rate"))),
            Cell(secs(t["time_s"]) + median, interval(t["time_low_s"], t["time_high_s"], secs)),
            _c(num(t["errors_per_attempt"], 2)), _c(pct(t["share_with_errors"])),
            _c(num(t["assists_per_attempt"], 2)),
            Cell(num(t["seq_mean"]), interval(t["seq_low"], t["seq_high"])),
        ])  # fmt: skip
    columns = [
        Column("task"), Column("n", True), Column("successes", True, narrow=False),
        Column("completion", True, short="success"),
        Column("unassisted", True, short="un-\nassisted", brief=True), Column("gave up", True, short="gave\nup"),
        Column("time s", True), Column("errors / attempt", True, short="errors/\nattempt"),
        Column("with ≥1 error", True, narrow=False), Column("assists / attempt", True, narrow=False),
        Column("SEQ", True),
    ]  # fmt: skip
    return Grid(columns, rows, [
        "Intervals (in brackets) are 95% confidence intervals, clipped to their scale. "
        "Unassisted: completed with no assist; gave up: share of attempts abandoned."])


def task_after_grid(s: Summary) -> Grid | None:
    """CSAT and CES asked after tasks (None when no task asked them)."""
    t = s.tasks
    if not len(t) or not any(f"{k}_n" in t and t[f"{k}_n"].sum() for k in ("csat", "ces")):
        return None
    rows = [[_c(r["task_id"]), _c(r["csat_n"]),
             Cell(num(r["csat_mean"], 2), interval(r["csat_low"], r["csat_high"], lambda v: num(v, 2))),
             _c(pct(r["csat_satisfied_share"])), _c(r["ces_n"]),
             Cell(num(r["ces_mean"], 2), interval(r["ces_low"], r["ces_high"], lambda v: num(v, 2))),
             _c(pct(r["ces_agree_share"]))]
            for r in t.to_dict(orient="records") if r["csat_n"] or r["ces_n"]]  # fmt: skip
    return Grid([Column("task"), Column("CSAT n", True, short="CSAT\nn"),
                 Column("CSAT mean (1–5)", True, short="CSAT mean\n(1–5)"),
                 Column("satisfied (4–5)", True, short="satisfied\n(4–5)"),
                 Column("CES n", True, short="CES\nn"),
                 Column("CES mean (1–7)", True, short="CES mean\n(1–7)"),
                 Column("agree (5–7)", True, short="agree\n(5–7)")], rows)  # fmt: skip


def _goal(sign: str, value: str, source: str) -> str:
    """A target as shown: "≥ 78% (average)"; the note under the table names the sources."""
    where = {"task target": "task", "study target": "study"}.get(source, "average")
    return f"{sign} {value} ({where})"


def target_grid(s: Summary) -> Grid:
    """Each result against its target (the task's, the study's, or the published average),
    with the confidence that the target is met (one-sided tests, Sauro & Lewis 2016 ch. 4)."""
    from usetest.analysis import PUBLISHED_AVERAGES

    rows: list[list[Cell]] = []
    sources: set[str] = set()

    def add(task: str, measure: str, result: str, goal: str, source: str, conf: Any) -> None:
        sources.add(source)
        rows.append([_c(task), _c(measure), _c(result), _c(goal), _c(source),
                     _c(share(conf)),
                     _c(confidence_met(conf))])  # fmt: skip

    for t in s.tasks.to_dict(orient="records"):
        if not missing(t.get("target_completion")):
            src = t["target_completion_source"]
            add(t["task_id"], "completion", pct(t["completion"]),
                _goal("≥", pct(t["target_completion"]), src), src, t["target_completion_confidence"])
        if not missing(t.get("target_time_s")):
            src = t["target_time_source"]
            add(t["task_id"], "time s", secs(t["time_s"]),
                _goal("≤", secs(t["target_time_s"]), src), src, t["target_time_confidence"])
        if not missing(t.get("target_seq")) and t.get("seq_n"):
            src = t["target_seq_source"]
            add(t["task_id"], "SEQ", num(t["seq_mean"]), _goal("≥", num(t["target_seq"]), src),
                src, t["target_seq_confidence"])
    for label, figures in (("SUS", s.sus_summary), ("UMUX-Lite", s.umux_lite), ("CSAT", s.csat),
                           ("CES", s.ces)):  # fmt: skip
        target = figures.get("target")
        if target and figures.get("n"):
            add("(study)", label, num(figures["mean"]),
                _goal("≥", num(target["target"]), target["source"]), target["source"],
                target["confidence"])
    published = [text for _, text in PUBLISHED_AVERAGES.values() if text in sources]
    notes = ["One-sided tests: completion with the exact binomial mid-p test, time with a t test "
             "on log times, ratings with a t test (Sauro & Lewis 2016, ch. 4); the confidence "
             "is that the target is met. Below 95% the data do not show that it is."]
    if published:
        notes.append("“average”: no target set, so the " + "; the ".join(published) + ". Set "
                     "your own under targets: (or a task's target_completion) in the scenario.")
    return Grid([Column("task"), Column("measure"), Column("result", True), Column("target"),
                 Column("source", narrow=False),
                 Column("confidence", True, short="met with\nconfidence"),
                 Column("verdict", narrow=False)], rows, notes)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Satisfaction.


def _sus_text(f: dict[str, Any]) -> str:
    return (f"{num(f['mean'])} ({CONFIDENCE_LABEL} {interval(f['low'], f['high'])}, "
            f"n = {f['n']}): grade {f['grade']}, {f['adjective']}, {f['acceptability']}, "
            f"{ordinal(f['percentile'])} percentile")  # fmt: skip


def _umux_text(f: dict[str, Any]) -> str:
    return (f"{num(f['mean'])} ({CONFIDENCE_LABEL} {interval(f['low'], f['high'])}, "
            f"n = {f['n']}); on the SUS scale {num(f['sus_equivalent'])}")  # fmt: skip


def _nps_text(f: dict[str, Any]) -> str:
    return (f"{num(f['nps'], 0)} ({f['promoters']} promoters, {f['passives']} passives, "
            f"{f['detractors']} detractors; n = {f['n']})")  # fmt: skip


def _rating_text(share: str, what: str, scale: str) -> Any:
    def text(f: dict[str, Any]) -> str:
        return (f"{pct(f[share])} {what}; mean {num(f['mean'], 2)} on {scale} "
                f"({CONFIDENCE_LABEL} {interval(f['low'], f['high'], lambda v: num(v, 2))}, "
                f"n = {f['n']})")  # fmt: skip

    return text


def satisfaction_facts(s: Summary) -> Facts:
    """SUS, UMUX-Lite, NPS, CSAT and CES after the session, each with its interval and n, and
    who was left out and why ("no score: …" when nobody has one)."""
    from usetest.analysis import left_out_note

    facts: Facts = []
    for label, name, figures, text in (
        ("SUS", "sus", s.sus_summary, _sus_text),
        ("UMUX-Lite", "umux-lite", s.umux_lite, _umux_text),
        ("Net Promoter Score", "nps", s.nps, _nps_text),
        ("CSAT", "csat", s.csat, _rating_text("satisfied_share", "satisfied (4–5)", "1–5")),
        ("CES", "ces", s.ces, _rating_text("agree_share", "agree it was easy (5–7)", "1–7")),
    ):  # fmt: skip
        note = left_out_note(figures, name)
        if figures.get("n"):
            facts.append((label, text(figures) + (f"; {note}" if note else "")))
        elif note:
            facts.append((label, f"no score: {note}"))
    return facts


def custom_grid(s: Summary) -> Grid | None:
    """The study's own rating items: n, mean with its interval, the count per scale point."""
    if not s.custom:
        return None
    titles = {t.id: t.title for t in s.task_defs.values()}
    rows = [[_c(c["questionnaire"]), _c(c["item"]), _c(c["text"]),
             _c(titles.get(c["task_id"], c["task_id"]) if c["task_id"] else "the session"),
             _c(c["n"]), Cell(num(c["mean"], 2), interval(c["low"], c["high"], lambda v: num(v, 2))),
             _c(f"1–{c['points']}"), _c(" ".join(f"{p}:{k}" for p, k in enumerate(c["counts"], 1))),
             _c(c.get("declined", 0))]
            for c in s.custom]  # fmt: skip
    return Grid([Column("questionnaire"), Column("item"), Column("question", narrow=False),
                 Column("after"), Column("n", True), Column("mean", True),
                 Column("scale", True, narrow=False), Column("answers per point"),
                 Column("declined", True, narrow=False)], rows)  # fmt: skip


def free_text_grid(s: Summary) -> Grid | None:
    """Every free-text answer, question by question."""
    rows = []
    for q in s.free_text:
        where = q["task_id"] or "the session"
        for a in q["answers"]:
            rows.append([_c(f"{q['questionnaire']}/{q['item']}"), _c(q["text"]), _c(where),
                         _c(a["participant"]), _c(a["text"])])  # fmt: skip
    if not rows:
        return None
    return Grid([Column("question"), Column("asked"), Column("after"), Column("participant"),
                 Column("answer")], rows)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Problems, participants, comparisons.


def problem_grid(s: Summary) -> Grid:
    rows = [[_c(r["problem"]), _c(r["tasks"] or DASH), _c(f"{r['participants']} of {r['tested']}"),
             _c(pct(r["frequency"])),
             _c(DASH if missing(r["worst_severity"]) else f"{r['worst_severity']:.0f}")]
            for r in s.problems.to_dict(orient="records")]  # fmt: skip
    return Grid([Column("problem"), Column("tasks"), Column("participants", True),
                 Column("frequency", True), Column("worst severity (0–4)", True)], rows)  # fmt: skip


def profile_columns(s: Summary) -> list[str]:
    """The profile questions answered, as the sessions' ``profile.ID`` columns."""
    from usetest.analysis import PROFILE_PREFIX

    return [c for c in s.sessions.columns if str(c).startswith(PROFILE_PREFIX)]


def participant_grid(s: Summary) -> Grid:
    """Who took part: condition, moderator, start, status, consent, the profile answers and,
    when the scenario was edited between sessions, the version each ran."""
    from usetest.analysis import PROFILE_PREFIX

    several = len(s.versions) > 1
    profile = profile_columns(s)
    questions = {q.id: q for q in (s.scenario.profile if s.scenario else [])}
    rows = [[_c(r["participant"]), _c(r["condition"] or DASH), _c(r["moderator"] or DASH),
             _c(str(r["started_at"])[:16].replace("T", " ")), _c(r["status"]), _c(_consent(r)),
             *[_c(DASH if missing(r[c]) else r[c]) for c in profile],
             *([_c(num(r.get("version"), 0))] if several else [])]
            for r in s.sessions.to_dict(orient="records")]  # fmt: skip
    names = [c.removeprefix(PROFILE_PREFIX) for c in profile]
    return Grid([Column("participant"), Column("condition"), Column("moderator"),
                 Column("started (UTC)"), Column("status"), Column("consent"),
                 *[Column(questions[n].text if n in questions else n) for n in names],
                 *([Column("version", True)] if several else [])], rows)  # fmt: skip


def profile_facts(s: Summary) -> Facts:
    """Per profile question, how the participants answered: the count per option (in the
    question's order), or for numbers the range and median; declined counted."""
    import statistics

    from usetest.analysis import PROFILE_PREFIX

    questions = {q.id: q for q in (s.scenario.profile if s.scenario else [])}
    facts: Facts = []
    for column in profile_columns(s):
        qid = column.removeprefix(PROFILE_PREFIX)
        q = questions.get(qid)
        given = [v for v in s.sessions[column] if not missing(v)]
        none = len(s.sessions) - len(given)
        if q is not None and q.type == "number" and given:
            values = [float(v) for v in given]
            text = (f"{min(values):g}–{max(values):g}, median {statistics.median(values):g} "
                    f"(n = {len(values)})")  # fmt: skip
        else:
            order = list(q.options) if q is not None else []
            counts = {o: given.count(o) for o in order + sorted(set(given) - set(order))}
            text = ", ".join(f"{o}: {k}" for o, k in counts.items() if k or o in order)
        facts.append((q.text if q is not None else qid,
                      text + (f"; {none} not answered" if none else "")))  # fmt: skip
    return facts


def _consent(session: dict[str, Any]) -> str:
    """Consent as recorded: when (UTC) and how; sessions from before usetest recorded it say so."""
    at = session.get("consent_at")
    if missing(at) or not at:
        return "not recorded"
    return f"{str(at)[:16].replace('T', ' ')} ({session.get('consent_how') or 'given'})"


def group_label(c: Comparisons) -> str:
    """What the groups of a comparison are: "condition" or the profile question's id."""
    from usetest.analysis import PROFILE_PREFIX

    return c.by.removeprefix(PROFILE_PREFIX)


def comparison_grid(c: Comparisons) -> Grid:
    """Per task and pair of groups: completion (N−1 two-proportion test) and time (Welch's t
    on log times, as the ratio of geometric means)."""
    rows = []
    for r in c.tasks.to_dict(orient="records"):
        diff = r.get("completion_difference")
        rows.append([
            _c(r["task_id"]), _c(f"{r['a']} vs {r['b']}"),
            _c(f"{pct(r.get('completion_a'))} vs {pct(r.get('completion_b'))}"),
            Cell(f"{signed(None if missing(diff) else 100 * diff, '{:+.0f}')} pts",
                 signed_interval(*(None if missing(r.get(k)) else 100 * r[k]
                                   for k in ("completion_difference_low",
                                             "completion_difference_high")), "{:+.0f}")),
            _c(p_value(r.get("completion_p"))),
            Cell(num(r.get("time_ratio"), 2),
                 interval(r.get("time_ratio_low"), r.get("time_ratio_high"), lambda v: num(v, 2))),
            _c(p_value(r.get("time_p"))), _c(r.get("note") or ""),
        ])  # fmt: skip
    return Grid([Column("task"), Column("a vs b", narrow=False),
                 Column("completion", True, short="success\na vs b"),
                 Column("difference", True, short="difference\n(points)"),
                 Column("p (N−1 χ²)", True, short="p\n(N−1)"),
                 Column("time a/b", True, short="time\na/b"),
                 Column("p (Welch, log)", True, short="p\n(Welch)"),
                 Column("note", narrow=False)], rows, [
        "Completion rates are compared with the N−1 two-proportion test, times with Welch's t "
        "on log times (the ratio is of geometric means), SUS with Welch's t (Sauro & Lewis "
        "2016, ch. 5). With small groups a large p-value means the data cannot tell the groups "
        "apart, not that they are the same."])  # fmt: skip


def comparison_sus_lines(c: Comparisons) -> list[str]:
    out = []
    for r in c.sus.to_dict(orient="records"):
        if r.get("note"):
            out.append(f"SUS, {r['a']} vs {r['b']}: {r['note']}.")
        else:
            out.append(
                f"SUS, {r['a']} vs {r['b']}: {num(r['mean_a'])} vs {num(r['mean_b'])}, "
                f"difference {signed(r['difference'])} ({CONFIDENCE_LABEL} "
                f"{signed_interval(r['difference_low'], r['difference_high'])}), "
                f"Welch t({num(r['df'])}) = {num(r['t'], 2)}, p = {p_value(r['p'])}.")  # fmt: skip
    return out


def versions_line(s: Summary) -> str:
    """When the sessions ran several versions of the scenario, who ran which ("" otherwise)."""
    if len(s.versions) < 2:
        return ""
    ran = "; ".join(f"version {v['version']}: {', '.join(v['participants'])}" for v in s.versions)
    return (f"The study ran in {len(s.versions)} versions ({ran}); each task counts the "
            "sessions that had it (usetest report says what changed).")  # fmt: skip
