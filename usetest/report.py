"""The usability report: the study summary laid out for a product team, as HTML or Markdown.

``build`` turns a :class:`~usetest.analysis.Summary` (and the comparison of conditions, when
there are two or more) into a small document model (sections of paragraphs, facts, tables and
figures); ``to_html`` and ``to_markdown`` render that model. The content is written once, so
the two formats say the same thing.

Two layouts: the default one (results first, for a product team) and ``cif=True``, which
follows the Common Industry Format for usability test reports, ISO/IEC 25062:2006 (title page,
executive summary, introduction, method, results, appendices). Text the scenario does not give
(test facility, computing environment, …) comes from the scenario's optional ``report:`` block
and is marked "not stated" when missing, so the gap is visible rather than invented.

Every piece of text from a scenario, a moderator or a participant is escaped for the output
format, and control characters (terminal escape sequences) are shown as visible symbols: the
HTML has no script, no external reference and no network access.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from usetest import __version__, present
from usetest.analysis import Comparisons, Summary
from usetest.errors import UsetestError
from usetest.plain import pictures
from usetest.present import Grid, interval, missing, num, pct
from usetest.versions import Changes

# --------------------------------------------------------------------------------------------
# The document model.


@dataclass
class Para:
    text: str


@dataclass
class Facts:
    """Label: value lines (a definition list)."""

    items: list[tuple[str, str]]


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)
    """Indexes of right-aligned (numeric) columns."""
    total: int | None = None
    """The rows of the whole table, when ``rows`` holds only its first :data:`ROWS_MAX`."""


@dataclass
class Figure:
    name: str
    svg: str
    caption: str


Block = Para | Facts | Table | Figure


@dataclass
class Section:
    title: str
    blocks: list[Block | Section] = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]


class ReportError(UsetestError):
    """The report cannot be written as asked; the message says why."""


# --------------------------------------------------------------------------------------------
# Formatting numbers and text.

NOT_STATED = "not stated (add it under `report:` in the scenario)"
visible = pictures  # report text: control characters as ␛-style symbols


TASK_COLUMNS = ("task", "after")
"""Columns that hold a task id in the presentation model; the report shows the task's title."""
TASKS_COLUMNS = ("tasks",)
"""Columns that hold task ids joined with ", "."""


def _titles(s: Summary) -> dict[str, str]:
    """Task id -> title, for every task of every version the sessions ran."""
    titles = {i: t.title for i, t in s.task_defs.items()}
    if len(s.tasks):
        titles.update({i: str(t) for i, t in zip(s.tasks["task_id"], s.tasks["title"], strict=True) if t})
    return titles


def _titled(table: Table, titles: dict[str, str]) -> Table:
    """``table`` with its task ids (columns in TASK_COLUMNS) shown as the tasks' titles: the
    reader of a report knows the tasks by what they ask, not by the scenario's ids."""
    one = {i for i, c in enumerate(table.columns) if c in TASK_COLUMNS}
    many = {i for i, c in enumerate(table.columns) if c in TASKS_COLUMNS}

    def shown(i: int, v: str) -> str:
        if i in one:
            return titles.get(v, v)
        return ", ".join(titles.get(x, x) for x in v.split(", ")) if i in many else v

    return Table(table.columns, [[shown(i, v) for i, v in enumerate(row)] for row in table.rows],
                 table.numeric, table.total)  # fmt: skip


def _table(grid: Grid, titles: dict[str, str] | None = None, total: int | None = None) -> Table:
    """A :mod:`usetest.present` grid as a report table (each interval beside its value), task
    ids shown as titles when ``titles`` is given; ``total``: the rows of the whole table when
    the grid holds only the first."""
    table = Table(grid.titles, grid.inline_rows(), numeric=grid.numeric, total=total)
    return _titled(table, titles) if titles else table


def _grid_blocks(grid: Grid | None, titles: dict[str, str] | None = None) -> list[Block | Section]:
    """A grid and the notes that go under it."""
    if grid is None:
        return []
    return [_table(grid, titles), *[Para(note) for note in grid.notes]]


# --------------------------------------------------------------------------------------------
# Content.


@dataclass
class Inputs:
    """What a report is made from."""

    summary: Summary
    comparisons: Comparisons | None
    db_name: str
    charts: bool = True


def build(inputs: Inputs, *, cif: bool = False) -> Document:
    """The report's content in the chosen layout."""
    s = inputs.summary
    sc = s.scenario
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = " · ".join(x for x in [
        sc.product if sc and sc.product else "", f"{len(s.sessions)} participants",
        f"report generated {generated} from {inputs.db_name} by usetest {__version__}",
    ] if x)  # fmt: skip
    title = s.study or "Usability test"
    if cif:
        title, sections = f"{title} — usability test report (ISO/IEC 25062)", _cif(inputs)
    else:
        sections = _standard(inputs)
    return Document(title, subtitle, [_bounded(section, inputs.db_name) for section in sections])


ROWS_MAX = 500
"""A table in the report shows at most this many rows (participants, SUS scores, notes,
problems, free-text answers grow with the study); a note under it says how many there are and
where all of them are. With the charts' :data:`usetest.charts.DOTS_MAX`, this keeps the page
within a few hundred kilobytes at any study size (docs/report.md)."""


def _bounded(section: Section, db_name: str) -> Section:
    """``section`` with each table of more than :data:`ROWS_MAX` rows cut to its first rows,
    followed by a note that says so."""
    blocks: list[Block | Section] = []
    for block in section.blocks:
        if isinstance(block, Section):
            blocks.append(_bounded(block, db_name))
        elif isinstance(block, Table) and max(len(block.rows), block.total or 0) > ROWS_MAX:
            total = max(len(block.rows), block.total or 0)
            blocks += [Table(block.columns, block.rows[:ROWS_MAX], block.numeric),
                       Para(f"The first {ROWS_MAX:,} of {total:,} rows are shown, so "
                            "that the report stays readable and small; every row is in the "
                            f"exports (usetest export {db_name} --out FOLDER).")]  # fmt: skip
        else:
            blocks.append(block)
    return Section(section.title, blocks)


def _standard(inputs: Inputs) -> list[Section]:
    s = inputs.summary
    sections = [
        Section("At a glance", [_key_figures(s)]),
        Section("The study", _study_blocks(s)),
        Section("Task results", [_results_table(s), *_task_figures(inputs)]),
        Section("Satisfaction", _satisfaction_blocks(inputs)),
        Section("Targets", _target_blocks(s)),
    ]
    if inputs.comparisons is not None:
        sections.append(Section(_compared(inputs.comparisons), _comparison_blocks(inputs.comparisons)))
    sections += [
        Section("Problems", _problem_blocks(s)),
        Section("Errors", _error_blocks(inputs)),
        Section("Observations and quotes", _note_blocks(s)),
        Section("Participants", _participant_blocks(s)),
        Section("How the numbers were computed", _method_blocks(s)),
    ]
    return sections


def _cif(inputs: Inputs) -> list[Section]:
    """ISO/IEC 25062:2006 clause 5's report layout."""
    s = inputs.summary
    sc = s.scenario
    info = sc.report if sc and sc.report else None

    def stated(value: str | None) -> Para:
        return Para(value.strip() if value else NOT_STATED)

    return [
        Section("Title page", [Facts([
            ("Product", sc.product if sc and sc.product else NOT_STATED),
            *_when_and_who(s),
            ("Report prepared", datetime.now(UTC).strftime("%Y-%m-%d")),
            ("Contact", info.contact.strip() if info and info.contact else NOT_STATED),
        ])]),
        Section("Executive summary", [
            Para(f"{len(s.sessions)} participants attempted {len(s.tasks)} tasks with "
                 f"{(sc.product if sc and sc.product else 'the product')}."),
            _key_figures(s),
        ]),
        Section("Introduction", [
            Section("Full product description", [stated(sc.product if sc else None),
                                                 *([Para(sc.description)] if sc and sc.description else [])]),
            Section("Test objectives", [stated(info.goals if info else (sc.description if sc else None))]),
        ]),
        Section("Method", [
            Section("Participants", [stated(info.participants if info else None),
                                     *_participant_blocks(s)]),
            Section("Context of product use in the test", [
                Section("Tasks", [_tasks_table(s, prompts=False)]),
                Section("Test facility", [stated(info.facility if info else None)]),
                Section("Participant's computing environment", [stated(info.environment if info else None)]),
                Section("Test administrator tools", [Para(
                    f"Sessions were moderated with usetest {__version__}, which timed each task "
                    "and logged outcomes, errors, assists, notes and questionnaire answers as they "
                    "happened into an append-only SQLite event log.")]),
            ]),
            Section("Experimental design", [
                Facts([("Conditions", ", ".join(sc.conditions) if sc and sc.conditions else "one (none named)"),
                       ("Task order", sc.task_order if sc else "–")]),
                Section("Procedure", [stated(info.procedure if info else None)]),
                Section("Participant task instructions", [_instructions_table(s)]),
                *([Section("Versions of the scenario", _version_blocks(s))]
                  if len(s.versions) > 1 else []),
            ]),
            Section("Usability metrics", _metric_definitions(s)),
        ]),
        Section("Results", [
            Section("Data analysis", _method_blocks(s)),
            Section("Performance results", [_results_table(s), *_task_figures(inputs),
                                            *_error_blocks(inputs)]),
            Section("Satisfaction results", _satisfaction_blocks(inputs)),
            Section("Results against targets", _target_blocks(s)),
            *([Section(_compared(inputs.comparisons), _comparison_blocks(inputs.comparisons))]
              if inputs.comparisons is not None else []),
        ]),
        Section("Appendices", [
            Section("Problems observed", _problem_blocks(s)),
            Section("Observations and quotes", _note_blocks(s)),
        ]),
    ]  # fmt: skip


def _when_and_who(s: Summary) -> list[tuple[str, str]]:
    """When the sessions reported ran (the first and last day, UTC) and who moderated them."""
    if not len(s.sessions):
        return [("Test dates", "–"), ("Test led by", "–")]
    days = sorted(str(v)[:10] for v in s.sessions["started_at"] if not missing(v))
    dates = "–" if not days else days[0] if days[0] == days[-1] else f"{days[0]} to {days[-1]}"
    leaders = sorted({str(m) for m in s.sessions["moderator"] if not missing(m) and m})
    return [("Test dates", dates),
            ("Test led by", (", ".join(leaders) + (" (moderators)" if len(leaders) > 1 else " (moderator)"))
             if leaders else "not recorded")]  # fmt: skip


def _key_figures(s: Summary) -> Facts:
    items = [("Participants", str(len(s.sessions)))]
    if len(s.tasks):
        n = int(s.tasks["n"].sum())
        k = int(s.tasks["successes"].sum())
        items.append(("Task attempts", f"{n} ({pct(k / n) if n else '–'} successful)"))
        hard = s.tasks.sort_values("completion", kind="stable").iloc[0]
        if not missing(hard["completion"]):
            items.append(("Hardest task", f"{hard['title']} ({hard['task_id']}): "
                                          f"{pct(hard['completion'])} completed"))  # fmt: skip
    sus = s.sus_summary
    if sus.get("n"):
        items.append(("SUS", f"{num(sus['mean'])} (95% CI {interval(sus['low'], sus['high'])}), "
                             f"grade {sus['grade']}, {sus['adjective']}, "
                             f"{present.ordinal(sus['percentile'])} percentile, n = {sus['n']}"))  # fmt: skip
    if len(s.problems):
        top = s.problems.iloc[0]
        items.append(("Most frequent problem", f"{top['problem']} "
                                               f"({top['participants']} of {top['tested']})"))  # fmt: skip
    return Facts(items)


def _study_blocks(s: Summary) -> list[Block | Section]:
    sc = s.scenario
    blocks: list[Block | Section] = []
    if sc and sc.description:
        blocks.append(Para(sc.description.strip()))
    facts = [("Product", sc.product or "–")] if sc else []
    if sc:
        facts += [("Conditions", ", ".join(sc.conditions) or "one"),
                  ("Task order", sc.task_order),
                  ("Partial success counts as success", "yes" if sc.partial_counts_as_success else "no")]  # fmt: skip
    blocks += [Facts(facts + _when_and_who(s) + _filter_facts(s)), _tasks_table(s),
               *_version_blocks(s)]  # fmt: skip
    return blocks


def _version_blocks(s: Summary) -> list[Block | Section]:
    """When the sessions ran several versions of the scenario: which ran which, what changed."""
    if len(s.versions) < 2:
        return []
    titles = {i: t.title for i, t in s.task_defs.items()}
    rows = []
    for v in s.versions:
        ch = v["changes"]
        changed = ("–" if ch is None else Changes(
            *(tuple(ch[k]) for k in ("added", "removed", "reworded", "other"))).describe(titles))
        since = f" (since version {v['since_version']})" if v["since_version"] else ""
        rows.append([str(v["version"]), str(v["first_used"])[:16].replace("T", " "),
                     ", ".join(v["participants"]), changed + (since if ch else "")])  # fmt: skip
    return [
        Para(f"The study ran in {len(s.versions)} versions: the scenario was edited between "
             "sessions. Each task's figures come from the sessions that ran a version with it, "
             "so n can differ between tasks; a reworded task (same id) is one row, under its "
             "newest title."),
        Table(["version", "first used (UTC)", "participants", "changes"], rows, numeric={0}),
    ]  # fmt: skip


def _filter_facts(s: Summary) -> list[tuple[str, str]]:
    f = s.filters
    items = [("Sessions", "completed and unfinished" if f.get("include_unfinished") else "completed only")]
    for key, label in (("condition", "Condition"), ("since", "Started on or after"),
                       ("until", "Started on or before")):  # fmt: skip
        if f.get(key):
            items.append((label, str(f[key])))
    if f.get("participants"):
        items.append(("Participants", ", ".join(f["participants"])))
    return items


def _task_defs(s: Summary) -> list[Any]:
    """The tasks analysed, in the summary's order, as their newest version defines them."""
    return [s.task_defs[i] for i in s.tasks.get("task_id", []) if i in s.task_defs]


def _task_versions(s: Summary) -> dict[str, str]:
    """Task id -> the versions that had it ("1, 2"), when the sessions ran several."""
    if len(s.versions) < 2:
        return {}
    return {i: ", ".join(str(v["version"]) for v in s.versions if i in v["tasks"])
            for i in s.task_defs}  # fmt: skip


def _tasks_table(s: Summary, prompts: bool = True) -> Table:
    versions = _task_versions(s)
    rows = [[t.id, t.title, *([t.prompt.strip()] if prompts else []), t.success or "–",
             f"{t.time_limit} s" if t.time_limit else "–", *([versions[t.id]] if versions else [])]
            for t in _task_defs(s)]  # fmt: skip
    columns = ["task id", "title", *(["what the participant was told"] if prompts else []),
               "success criterion", "time limit", *(["versions"] if versions else [])]  # fmt: skip
    return Table(columns, rows)


def _instructions_table(s: Summary) -> Table:
    return Table(["task", "what the participant was told"],
                 [[t.title, t.prompt.strip()] for t in _task_defs(s)])  # fmt: skip


def _results_table(s: Summary) -> Table:
    return _table(present.task_grid(s), _titles(s))


def _groups(inputs: Inputs) -> list[tuple[str, Summary]]:
    if inputs.comparisons is not None:
        return list(inputs.comparisons.summaries.items())
    return [("", inputs.summary)]


def _task_figures(inputs: Inputs) -> list[Block | Section]:
    if not inputs.charts or not len(inputs.summary.tasks):
        return []
    from usetest import charts

    groups = _groups(inputs)
    times = inputs.summary.filters.get("times", "success")
    marks = ("one dot per attempt" if charts.time_dots(groups) else
             f"a box per task (more than {charts.DOTS_MAX} attempts: the box spans the middle "
             "half of the attempts, with a line at the median; the whiskers reach the fastest "
             "and the slowest)")  # fmt: skip
    return [
        Figure("completion", charts.completion_chart(groups),
               "Completion rate per task; whiskers are adjusted-Wald 95% confidence intervals."),
        Figure("time-on-task", charts.time_chart(groups, times),
               f"Time on task, {marks}, on a log axis; the bar marks the geometric "
               "mean (median from 25 attempts) with its 95% confidence interval."),
    ]  # fmt: skip


def _satisfaction_blocks(inputs: Inputs) -> list[Block | Section]:
    s = inputs.summary
    blocks: list[Block | Section] = []
    facts = present.satisfaction_facts(s)
    if facts:
        blocks.append(Facts(facts))
    sus = s.sus_summary
    if sus.get("n"):
        blocks.append(Facts([
            ("SUS standard deviation", num(sus["sd"])),
            ("Grade", f"{sus['grade']} (Sauro–Lewis curved grading scale)"),
            ("Percentile", f"{num(sus['percentile'], 0)} (against Sauro's 2011 norms)"),
            ("Learnability / usability", f"{num(sus['learnability'])} / {num(sus['usability'])}"),
        ]))  # fmt: skip
        if inputs.charts:
            from usetest import charts

            groups = _groups(inputs)
            marks = ("one dot per participant" if charts.sus_dots(groups) else
                     f"a box per group (more than {charts.DOTS_MAX} participants: the box spans "
                     "the middle half of the scores, with a line at the median; the whiskers "
                     "reach the lowest and the highest)")  # fmt: skip
            blocks.append(Figure("sus", charts.sus_chart(groups),
                                 f"SUS scores, {marks}, against the grade bands; "
                                 "the bar marks the mean with its 95% confidence interval."))  # fmt: skip
        blocks.append(Table(
            ["participant", "SUS", "items", "grade", "learnability", "usability"],
            [[str(r["participant"]), num(r["sus"]), str(r.get("items_scored", 10)),
              str(r["grade"]), num(r["learnability"]), num(r["usability"])]
             for r in s.sus.head(ROWS_MAX).to_dict(orient="records")],
            numeric={1, 2, 4, 5}, total=len(s.sus),
        ))  # fmt: skip
        if sus.get("prorated"):
            blocks.append(Para("A SUS with one item declined is scored from the other nine: their "
                               "sum × 100/36 instead of × 2.5 (Lewis & Sauro 2017, “Can I leave "
                               "this one out?”, JUS 13(1), 38–46); its sub-score that lacks the "
                               "item is left blank."))  # fmt: skip
    if any(label in ("UMUX-Lite", "Net Promoter Score") and "left out" in text
           for label, text in facts):  # fmt: skip
        blocks.append(Para("The UMUX-Lite (two items) and the NPS (one question) have no published "
                           "way to score a declined item: those participants are left out, not "
                           "given a made-up rating."))  # fmt: skip
    after = present.task_after_grid(s)
    if after is not None:
        blocks.append(Section("Asked after tasks", _grid_blocks(after, _titles(s))))
    custom = present.custom_grid(s)
    if custom is not None:
        blocks.append(Section("The study's own questions", _grid_blocks(custom)))
    free = present.free_text_grid(s)
    if free is not None:
        blocks.append(Section("Free-text answers", _grid_blocks(free, _titles(s))))
    seq = s.tasks[s.tasks["seq_n"] > 0] if len(s.tasks) else s.tasks
    if len(seq):
        blocks.append(Para("SEQ (Single Ease Question, 1–7) per task is in the task results table; "
                           "a declined SEQ is left out of its task's n."))  # fmt: skip
    return blocks or [Para("No questionnaire answers in the sessions reported.")]


def _target_blocks(s: Summary) -> list[Block | Section]:
    grid = present.target_grid(s)
    if not grid.rows:
        return [Para("No task was attempted: nothing to test against a target.")]
    return _grid_blocks(grid, _titles(s))


def _compared(c: Comparisons) -> str:
    return "Conditions compared" if c.by == "condition" else f"Compared by {present.group_label(c)}"


def _comparison_blocks(c: Comparisons) -> list[Block | Section]:
    grid = present.comparison_grid(c)
    blocks: list[Block | Section] = []
    if c.by != "condition":
        blocks.append(Para(f"Participants grouped by their answer to the profile question "
                           f"“{present.group_label(c)}”."))  # fmt: skip
    titles: dict[str, str] = {}
    for group in c.summaries.values():
        titles.update(_titles(group))
    blocks.append(_table(grid, titles))
    blocks += [Para(line) for line in present.comparison_sus_lines(c)]
    blocks += [Para(note) for note in grid.notes]
    return blocks


def _problem_blocks(s: Summary) -> list[Block | Section]:
    if not len(s.problems):
        return [Para("No problems were logged in the sessions reported.")]
    # the most frequent first; a table of the first ROWS_MAX (:func:`_bounded`)
    shown = replace(s, problems=s.problems.head(ROWS_MAX))
    return [_table(present.problem_grid(shown), _titles(s), total=len(s.problems))]


def _error_blocks(inputs: Inputs) -> list[Block | Section]:
    s = inputs.summary
    if not len(s.errors_by_type):
        return [Para("No errors were logged in the sessions reported.")]
    blocks: list[Block | Section] = []
    if inputs.charts:
        from usetest import charts

        blocks.append(Figure("errors", charts.errors_chart(_groups(inputs)),
                             "Errors logged per task, by error type."))  # fmt: skip
    blocks.append(_titled(Table(["task", "error type", "count"],
                                [[str(r["task_id"]), str(r["type_name"]), str(r["count"])]
                                 for r in s.errors_by_type.to_dict(orient="records")], numeric={2}),
                          _titles(s)))  # fmt: skip
    return blocks


def _note_blocks(s: Summary) -> list[Block | Section]:
    if not len(s.notes):
        return [Para("No observations or quotes were noted.")]
    rows = [[str(r["participant"]), str(r["task_id"] or "–"), str(r["kind"]), str(r["text"]),
             str(r.get("author") or "moderator")]
            for r in s.notes.sort_values(["kind", "task_id"], kind="stable").head(ROWS_MAX)
            .to_dict(orient="records")]  # fmt: skip
    return [_titled(Table(["participant", "task", "kind", "text", "noted by"], rows,
                          total=len(s.notes)), _titles(s))]  # fmt: skip


def _participants_table(s: Summary) -> Table:
    # a table of the first ROWS_MAX (:func:`_bounded`): only those rows are formatted
    shown = replace(s, sessions=s.sessions.head(ROWS_MAX))
    return _table(present.participant_grid(shown), total=len(s.sessions))


def _participant_blocks(s: Summary) -> list[Block | Section]:
    """The participant table and, with a profile, how the answers are spread."""
    facts = present.profile_facts(s)
    return [*([Facts(facts)] if facts else []), _participants_table(s)]


def _metric_definitions(s: Summary) -> list[Block | Section]:
    partial = bool(s.scenario and s.scenario.partial_counts_as_success)
    return [Facts([
        ("Effectiveness", "completion rate: tasks ended as success"
                          f"{' or partial' if partial else ''} / tasks attempted (skipped tasks "
                          "are not attempts); errors and assists per attempt"),
        ("Efficiency", "time on task in seconds, from start to end with pauses taken out"),
        ("Satisfaction", "SEQ after each task; SUS, UMUX-Lite and NPS after the session, as the "
                         "scenario asks"),
    ])]  # fmt: skip


def _method_blocks(s: Summary) -> list[Block | Section]:
    times = "successful attempts" if s.filters.get("times", "success") == "success" else "all attempts"
    return [Para(
        "Completion rates carry adjusted-Wald 95% intervals (Sauro & Lewis 2005). Time on task "
        f"is over {times}: the geometric mean with a t interval on log times below 25 attempts, "
        "the median with its binomial interval from 25. SEQ and SUS means carry t intervals; "
        "SUS grades follow the Sauro–Lewis curved grading scale (2016, Table 8.5), percentiles "
        "Sauro (2011), adjectives Bangor, Kortum & Miller (2009). Every figure can be traced to "
        "the events in the study database (docs/analysis.md)."
    )]  # fmt: skip


# --------------------------------------------------------------------------------------------
# Rendering.

CSS = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
       max-width: 1100px; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
.subtitle { color: #555; margin-top: 0; }
h2 { border-bottom: 2px solid #0072B2; padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { margin-top: 1.4rem; } h4 { margin-top: 1rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .86rem; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f3f6f9; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.2rem; }
dt { font-weight: 600; } dd { margin: 0; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .85rem; }
p, td { white-space: pre-wrap; overflow-wrap: break-word; }
td.num { white-space: normal; }  /* a value and its interval wrap apart in a narrow window */
.ci { white-space: nowrap; }
nav ol { columns: 3 14rem; margin: .5rem 0; padding-left: 1.4rem; }
a { color: #0a58a8; }
@media print {
  body { margin: 0; padding: 0; max-width: none; font-size: 10pt; }
  nav { display: none; }
  h2 { break-before: auto; break-after: avoid; }
  figure, dl, tr { break-inside: avoid; }
  /* Every column on the page (A4 or Letter, portrait): small type; numbers wrap between
     value and interval, headers between words, text anywhere, so that no value can make a
     table wider than the paper. */
  table { font-size: 7.5pt; line-height: 1.3; }
  th, td { padding: .12rem .25rem; }
  td:not(.num) { overflow-wrap: anywhere; }
  figure svg { width: 100%; }
  @page { margin: 15mm 12mm; }
}
"""


def _e(text: object) -> str:
    return html.escape(visible(text), quote=True)


def to_html(doc: Document) -> str:
    """One self-contained HTML page: inline CSS and SVG, no script, no external reference.

    Laid out for assistive technology (WCAG 2.1 AA, checked with axe-core in the tests): the
    title in a ``<header>``, a ``<nav>`` of the sections, the sections in ``<main>``, each
    top-level one a region named by its heading.
    """
    ids = _section_ids(doc.sections)
    out = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No script may run and nothing may load from elsewhere, whatever the text holds.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{_e(doc.title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f"<header><h1>{_e(doc.title)}</h1>", f'<p class="subtitle">{_e(doc.subtitle)}</p></header>',
        '<nav aria-label="Contents"><ol>',
        *[f'<li><a href="#{ids[id(s)]}">{_e(s.title)}</a></li>' for s in doc.sections],
        "</ol></nav>", "<main>",
    ]  # fmt: skip
    for section in doc.sections:
        _html_section(section, 2, out, ids)
    out += ["</main>", "</body>", "</html>", ""]
    return "\n".join(out)


def _section_ids(sections: list[Section]) -> dict[int, str]:
    """A unique, readable HTML id per top-level section ("s-task-results"), by object id."""
    ids: dict[int, str] = {}
    for section in sections:
        slug = "s-" + ("-".join(re.findall(r"[a-z0-9]+", section.title.lower())) or "section")
        unique, k = slug, 2
        while unique in ids.values():
            unique, k = f"{slug}-{k}", k + 1
        ids[id(section)] = unique
    return ids


_INTERVAL = re.compile(r"(\S.*?) (\([^()]*\))")
"""A value and its interval, "75% (46–92%)": a narrow window or the paper breaks the line
between them, never inside the interval."""


def _html_section(section: Section, level: int, out: list[str], ids: dict[int, str]) -> None:
    anchor = ids.get(id(section))
    if anchor:  # a top-level section: a region landmark named by its heading
        out.append(f'<section id="{anchor}" aria-labelledby="{anchor}-h">'
                   f'<h{level} id="{anchor}-h">{_e(section.title)}</h{level}>')  # fmt: skip
    else:
        out.append(f"<section><h{level}>{_e(section.title)}</h{level}>")
    for block in section.blocks:
        if isinstance(block, Section):
            _html_section(block, min(level + 1, 6), out, ids)
        elif isinstance(block, Para):
            out.append(f"<p>{_e(block.text)}</p>")
        elif isinstance(block, Facts):
            out.append("<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in block.items)
                       + "</dl>")  # fmt: skip
        elif isinstance(block, Table):
            def cell(tag: str, i: int, text: str, numeric: set[int] = block.numeric) -> str:
                cls = (' scope="col"' if tag == "th" else "") + (' class="num"' if i in numeric else "")
                ci = _INTERVAL.fullmatch(text) if tag == "td" and i in numeric else None
                shown = f'{_e(ci[1])} <span class="ci">{_e(ci[2])}</span>' if ci else _e(text)
                return f"<{tag}{cls}>{shown}</{tag}>"

            head = "".join(cell("th", i, c) for i, c in enumerate(block.columns))
            body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>"
                           for row in block.rows)  # fmt: skip
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(block, Figure):
            # matplotlib wrote the SVG and escaped its text; it has no script and no link.
            out.append(f'<figure id="fig-{_e(block.name)}">{block.svg}'
                       f"<figcaption>{_e(block.caption)}</figcaption></figure>")  # fmt: skip
    out.append("</section>")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def _md(text: object) -> str:
    """Markdown-safe text: HTML entities for < > &, backslashes before Markdown syntax."""
    escaped = html.escape(visible(text), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", escaped)


def to_markdown(doc: Document, figure_dir: str | None = None) -> tuple[str, dict[str, str]]:
    """Markdown text, and the figures as ``{file name: svg}`` to write into ``figure_dir``.

    Figures are linked as ``figure_dir/NAME.svg``; without ``figure_dir`` they are left out.
    """
    out = [f"# {_md(doc.title)}", "", f"*{_md(doc.subtitle)}*", ""]
    files: dict[str, str] = {}
    for section in doc.sections:
        _md_section(section, 2, out, files, figure_dir)
    return "\n".join(out).rstrip() + "\n", files


def _md_section(section: Section, level: int, out: list[str], files: dict[str, str],
                figure_dir: str | None) -> None:  # fmt: skip
    out += [f"{'#' * level} {_md(section.title)}", ""]
    for block in section.blocks:
        if isinstance(block, Section):
            _md_section(block, min(level + 1, 6), out, files, figure_dir)
        elif isinstance(block, Para):
            out += [_md(block.text).replace("\n", "  \n"), ""]
        elif isinstance(block, Facts):
            out += [f"- **{_md(k)}**: {_md(v)}" for k, v in block.items] + [""]
        elif isinstance(block, Table):
            def row(cells: list[str]) -> str:
                return "| " + " | ".join(_md(c).replace("\n", "<br>") for c in cells) + " |"

            rule = ["---:" if i in block.numeric else "---" for i in range(len(block.columns))]
            out += [row(block.columns), "| " + " | ".join(rule) + " |"]
            out += [row(r) for r in block.rows] + [""]
        elif isinstance(block, Figure) and figure_dir is not None:
            name = f"{block.name}.svg"
            files[name] = block.svg
            out += [f"![{_md(block.caption)}]({figure_dir}/{name})", ""]


# --------------------------------------------------------------------------------------------
# The one entry point the CLI uses.


def write_report(db_path: str | Path, out: str | Path, *, fmt: str = "html", cif: bool = False,
                 charts: bool = True, **filters: Any) -> list[Path]:  # fmt: skip
    """Summarise ``db_path`` (with the analysis filters) and write the report; returns the files.

    With two or more conditions among the sessions (and no single condition chosen), the
    report compares them. Files are created 0600 and folders 0700: the report holds participant
    data. Each file is written under a temporary name and renamed when complete; a symbolic
    link at the target is refused (:mod:`usetest.outfiles`). ``out`` ``"-"`` writes the report
    to standard output (Markdown without its figures, which need files) and returns no path.
    """
    import sys

    from usetest.analysis import study_results

    if fmt not in ("html", "md"):
        raise ReportError(f"unknown report format {fmt!r}: use html or md")
    summary, comparisons = study_results(db_path, **filters)
    doc = build(Inputs(summary, comparisons, Path(db_path).name, charts), cif=cif)
    if str(out) == "-":
        sys.stdout.write(to_html(doc) if fmt == "html" else to_markdown(doc, None)[0])
        sys.stdout.flush()
        return []
    target = Path(out)
    written: list[Path] = []
    if fmt == "html":
        written.append(_write(target, to_html(doc)))
    else:
        folder = f"{target.stem}-figures"
        text, figures = to_markdown(doc, folder if charts else None)
        if figures:  # the figures first: the text that links them appears once they are there
            written += _write_all(target.parent / folder, figures)
        written.append(_write(target, text))
    return written


def _write(path: Path, text: str) -> Path:
    return _write_all(path.parent, {path.name: text})[0]


def _write_all(folder: Path, texts: dict[str, str]) -> list[Path]:
    """``texts`` as files in ``folder`` (0700 if created), each 0600, renamed into place
    together once all are written."""
    from usetest.outfiles import OutputError, Staged, private_dir

    staged = Staged(folder)
    try:
        private_dir(folder)
        with staged:
            for name, text in texts.items():
                with staged.open(name, "w") as f:
                    f.write(text)
    except OutputError as exc:
        raise ReportError(f"{exc}; nothing was written there") from exc
    except OSError as exc:
        raise ReportError(f"cannot write into {folder}: {exc.strerror or exc} — free some space or "
                          f"choose another path with -o; {staged.what_is_left()}") from exc  # fmt: skip
    return [folder / name for name in texts]
