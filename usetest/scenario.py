"""Scenario files: YAML in, a frozen and validated :class:`Scenario` out, or precise problems.

A researcher's mistake must be found before a session, with the file, line and column and what
to write instead. So the text is composed with PyYAML's safe loader into a node tree (which
keeps the position of every key and value), turned into plain Python data by our own walker
(safe tags only; duplicate keys, alias blow-ups and deep nesting refused), validated by the
pydantic models below, and every validation error is mapped back to the node it came from.

Texts are plain text: nothing here interprets Rich markup; ``[bold]`` is stored as typed.
"""

from __future__ import annotations

import difflib
import hashlib
import stat
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from usetest.errors import UsetestError
from usetest.plain import escaped


def _without_pydantic_plugins() -> None:
    """Spare the start-up pydantic's search for plugins: the first model it builds (here: when
    the scenario first validates) imports importlib.metadata and reads every installed
    package's metadata for entry points of the group ``pydantic`` (≈ 30 ms of ``usetest run``'s
    start, more from a cold disk), as sqlite-utils' plugin scan did. usetest uses no pydantic
    plugin, so pydantic is given a loader that finds none — unless its real loader is already
    loaded in this process, which is then left as it is."""
    name = "pydantic.plugin._loader"
    if name not in sys.modules:
        loader = types.ModuleType(name, "usetest: no pydantic plugins (see usetest.scenario)")
        loader.get_plugins = lambda: ()  # type: ignore[attr-defined]

        def real(attribute: str) -> Any:  # a pydantic that wants more of it: the real loader
            import importlib

            if sys.modules.get(name) is loader:
                del sys.modules[name]
            return getattr(importlib.import_module(name), attribute)

        loader.__getattr__ = real  # type: ignore[attr-defined]
        sys.modules[name] = loader


_without_pydantic_plugins()

MAX_BYTES = 1_000_000
MAX_NODES = 50_000  # values after alias expansion; a real study has a few hundred
MAX_DEPTH = 40
# Limits of a study, documented in docs/texts-and-limits.md and carried into the JSON Schema. Far above
# any real study; they keep every screen, order and report quick (a Williams square has n² cells).
MAX_TASKS = 200
MAX_TIME_LIMIT = 24 * 60 * 60  # seconds
MAX_CONDITIONS = 26
MAX_QUESTIONNAIRES = 20
MAX_ITEMS = 100  # questions in one custom questionnaire
MAX_ERROR_TYPES = 36  # one per key a-z, 0-9
SCHEMA_COMMENT = "# yaml-language-server: $schema=usetest-scenario.schema.json"
"""The template's first line: editors (yaml-language-server) resolve the path from the
scenario file's folder, where ``usetest new`` writes the schema."""

# defer_build: a model's validator is built the first time it validates (Scenario's, with
# its nested models', once per process) rather than every model's when this module is
# imported. The attribute docstrings below are the fields' descriptions; they are read into the
# models only for the JSON Schema (:func:`json_schema`), since reading them means parsing this
# file's source (use_attribute_docstrings=True would do that at every import).
_STRICT = ConfigDict(extra="forbid", frozen=True, defer_build=True)
Text = Annotated[str, Field(min_length=1)]


class ErrorType(BaseModel):
    """A kind of error the moderator logs with one key (after pressing ``e``)."""

    model_config = _STRICT

    key: Annotated[str, Field(pattern=r"^[a-z0-9]$")]
    """The hotkey: one lowercase letter or digit, unique within the scenario."""
    name: Text
    """Short name shown to the moderator and in reports, e.g. `navigation`."""
    description: str | None = None
    """What counts as this kind of error (for the moderator's help screen)."""


# Built without validation (model_construct), as validating would build ErrorType's validator
# at import: these constants are valid as written (the same fields, values and fields set as
# ErrorType(key=…, name=…, description=…) gives).
_default = ErrorType.model_construct
DEFAULT_ERROR_TYPES: tuple[ErrorType, ...] = (
    _default(key="n", name="navigation", description="went to the wrong place or got lost"),
    _default(key="m", name="misread", description="misread or misunderstood a label or message"),
    _default(key="i", name="wrong input", description="entered wrong or badly formatted data"),
    _default(key="c", name="wrong control", description="used the wrong button, link or control"),
    _default(key="o", name="other", description="any other error (add a note)"),
)
del _default


class Task(BaseModel):
    """One task the participant attempts."""

    model_config = _STRICT

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
    """Stable identifier (lowercase letters, digits, - and _), used in the database and exports."""
    title: Text
    """Short title the moderator sees."""
    prompt: Text
    """What the participant is told or shown; plain text, shown literally."""
    success: str | None = None
    """The success criterion, for the moderator only."""
    notes: str | None = None
    """Notes for the moderator (what to watch for)."""
    time_limit: Annotated[int, Field(ge=1, le=MAX_TIME_LIMIT)] | None = None
    """Seconds (1 to 86400, i.e. 24 hours); the app warns when it is passed but never stops
    the clock."""
    seq: bool = True
    """Ask the Single Ease Question after this task."""
    after: Annotated[list[str], Field(max_length=MAX_QUESTIONNAIRES)] = []
    """Questionnaires asked after this task (after the SEQ), in order: `csat`, `ces`, or the
    id of a block under `questionnaires:`. Their answers are kept per task, like the SEQ."""
    target_time: Annotated[float, Field(gt=0, le=MAX_TIME_LIMIT)] | None = None
    """The time (seconds) the task should take: the summary tests the time against it."""
    target_completion: Annotated[float, Field(ge=0, le=1)] | None = None
    """The completion rate (0–1) the task should reach, e.g. 0.8; default: the study's
    `targets.completion`, else the published average 0.78."""


class LikertItem(BaseModel):
    """A rating-scale question with answers 1 … points."""

    model_config = _STRICT

    type: Literal["likert"] = "likert"
    """`likert` (the default) for a rating scale."""
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    """Identifier of the item, unique within its questionnaire."""
    text: Text
    """The statement or question."""
    points: Annotated[int, Field(ge=2, le=11)] = 7
    """Number of scale points (answers 1 … points)."""
    low: str = "Strongly disagree"
    """Label of the lowest answer."""
    high: str = "Strongly agree"
    """Label of the highest answer."""


class TextItem(BaseModel):
    """A free-text question."""

    model_config = _STRICT

    type: Literal["text"]
    """`text` for a free-text answer."""
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    """Identifier of the item, unique within its questionnaire."""
    text: Text
    """The question."""


class CustomQuestionnaire(BaseModel):
    """A block of the study's own questions, asked after the tasks (and after each task that
    lists its id in `after:`)."""

    model_config = _STRICT

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    """Identifier, unique and not one of the built-ins (sus, umux-lite, nps, csat, ces, seq)."""
    title: Text
    """Title shown above the questions."""
    intro: str | None = None
    """Instructions read to the participant."""
    items: Annotated[
        list[Annotated[LikertItem | TextItem, Field(discriminator="type")]],
        Field(min_length=1, max_length=MAX_ITEMS),
    ]
    """The questions, in order; `type: likert` (the default) or `type: text`."""
    at_end: bool = True
    """Ask the block after the tasks. `false`: only after the tasks that list it in `after:`."""

    @field_validator("items", mode="before")
    @classmethod
    def _likert_by_default(cls, items: Any) -> Any:
        if isinstance(items, list):
            return [
                {"type": "likert", **item} if isinstance(item, dict) and "type" not in item else item
                for item in items
            ]
        return items


BuiltIn = Literal["sus", "umux-lite", "nps", "csat", "ces"]


class Targets(BaseModel):
    """The study's targets; a result is tested against each one given (one-sided), and against
    the published average where none is given (completion 0.78, SUS 68, SEQ 5.5)."""

    model_config = _STRICT

    completion: Annotated[float, Field(ge=0, le=1)] | None = None
    """Completion rate every task should reach (0–1); a task's `target_completion` wins."""
    sus: Annotated[float, Field(ge=0, le=100)] | None = None
    """Mean SUS score to reach (0–100)."""
    umux_lite: Annotated[float, Field(ge=0, le=100)] | None = None
    """Mean UMUX-Lite score to reach (0–100)."""
    seq: Annotated[float, Field(ge=1, le=7)] | None = None
    """Mean SEQ rating every task should reach (1–7)."""
    csat: Annotated[float, Field(ge=1, le=5)] | None = None
    """Mean CSAT rating to reach (1–5)."""
    ces: Annotated[float, Field(ge=1, le=7)] | None = None
    """Mean CES rating to reach (1–7)."""


class ProfileQuestion(BaseModel):
    """A question about the participant asked at set-up, after consent (age band, experience,
    device …): the report's participant characteristics, and a way to split the analysis."""

    model_config = _STRICT

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
    """Identifier (the column name: `usetest summary DB --by profile.ID`)."""
    text: Text
    """The question the moderator asks or reads out."""
    type: Literal["choice", "number", "text"] = "choice"
    """`choice` (one of `options`, the default), `number` (a whole number) or `text` (short)."""
    options: Annotated[list[Text], Field(max_length=50)] = []
    """The answers to choose from (for `choice`)."""
    min: int | None = None
    """Smallest number accepted (for `number`)."""
    max: int | None = None
    """Largest number accepted (for `number`)."""


class ReportInfo(BaseModel):
    """What a formal report (ISO/IEC 25062, the Common Industry Format) says about the test
    beyond the tasks; every field is optional and shows as "not stated" when missing."""

    model_config = _STRICT

    goals: str | None = None
    """Test objectives: what the study is to find out."""
    participants: str | None = None
    """Who took part and how they were recruited (the user profile)."""
    facility: str | None = None
    """Where the sessions ran: lab, remote, the room and recording set-up."""
    environment: str | None = None
    """The participant's computing environment: device, browser, screen, network."""
    procedure: str | None = None
    """How a session ran: welcome, consent, instructions, think-aloud, debrief."""
    contact: str | None = None
    """Who answers questions about the test and its report, e.g. `Ana Berg, UX research,
    ana.berg@example.com` (shown on the report's title page)."""


DEFAULT_CONSENT = (
    "The participant has read the information sheet, had their questions answered, and agrees "
    "to take part and to have the session recorded; they may stop at any time."
)


class Scenario(BaseModel):
    """A usability study: what the participant does and what is asked afterwards."""

    model_config = _STRICT

    study: Text
    """Name of the study, e.g. `Checkout redesign, round 2`."""
    study_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)] | None = None
    """A stable identifier for the study (e.g. `checkout-2026`): give it when the title may
    be renamed. A database holds one study: the `study_id` if given, else the `study` title."""
    product: str | None = None
    """The product or prototype tested (also fills in the NPS question)."""
    description: str | None = None
    """The study's goal, in a sentence or two (goes into reports)."""
    conditions: Annotated[list[Text], Field(max_length=MAX_CONDITIONS)] = []
    """Between-subjects variants, e.g. `[current, redesign]`; each session runs one."""
    task_order: Literal["fixed", "random", "latin-square"] = "fixed"
    """`fixed` as written, `random` (reproducible per participant) or `latin-square` (balanced)."""
    partial_counts_as_success: bool = False
    """Whether a partial success counts as a success in completion rates."""
    error_types: Annotated[list[ErrorType], Field(max_length=MAX_ERROR_TYPES)] = list(
        DEFAULT_ERROR_TYPES
    )
    """Error kinds with their hotkeys; a default set is used when omitted."""
    tasks: Annotated[list[Task], Field(min_length=1, max_length=MAX_TASKS)]
    """The tasks, in the order written (at most 200 in one scenario)."""
    questionnaires: Annotated[
        list[BuiltIn | CustomQuestionnaire], Field(max_length=MAX_QUESTIONNAIRES)
    ] = []
    """After the tasks: `sus`, `umux-lite`, `nps`, `csat`, `ces` and/or custom blocks, in
    this order (a block with `at_end: false` only after the tasks that list it in `after:`)."""
    targets: Targets | None = None
    """Targets for completion and the scores; the published averages are used where omitted."""
    profile: Annotated[list[ProfileQuestion], Field(max_length=MAX_QUESTIONNAIRES)] = []
    """Questions about the participant asked at set-up, after consent."""
    report: ReportInfo | None = None
    """Extra text for `usetest report --cif`: goals, participants, facility, environment."""
    consent: Text | None = None
    """The consent statement the moderator confirms before the first task (a default wording
    is used when omitted); it is recorded with each session's consent."""

    @property
    def study_key(self) -> str:
        """What identifies the study in a database: ``study_id`` if given, else the title."""
        return self.study_id or self.study

    @property
    def consent_wording(self) -> str:
        return (self.consent or DEFAULT_CONSENT).strip()

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)


# ---------------------------------------------------------------------------------------------
# Problems.


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a scenario file, at a 1-based line and column."""

    file: str
    line: int
    col: int
    message: str
    fix: str

    def __str__(self) -> str:
        # One line, and nothing a terminal would act on: messages quote the file's own text.
        text = f"{self.file}:{self.line}:{self.col}: {self.message} — {self.fix}"
        return escaped(text, one_line=True)


class ScenarioError(UsetestError):
    """The scenario cannot be used; ``problems`` says every reason found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line, p.col))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with the exact text it came from and that text's SHA-256."""

    path: Path | None
    text: str
    sha256: str
    scenario: Scenario


# ---------------------------------------------------------------------------------------------
# Loading.


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read and validate a scenario file; raises :class:`ScenarioError` only."""
    path = Path(path)
    name = str(path)

    def fail(message: str, fix: str) -> ScenarioError:
        return ScenarioError([Problem(name, 1, 1, message, fix)])

    try:
        if path.is_dir():
            raise fail("this is a folder, not a scenario file", "give the path of a .yaml file")
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            # A FIFO would block the read for ever and a device (/dev/zero) never ends.
            raise fail("this is not a regular file (a pipe, socket or device)",
                       "give the path of a .yaml file")  # fmt: skip
        size = info.st_size
        if size > MAX_BYTES:
            raise fail(f"the file is {size:,} bytes; scenarios are limited to {MAX_BYTES:,}",
                       "keep long material outside the scenario and refer to it")  # fmt: skip
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # the file may grow after the stat
        if len(data) > MAX_BYTES:
            raise fail(f"the file is over {MAX_BYTES:,} bytes; scenarios are limited to that",
                       "keep long material outside the scenario and refer to it")  # fmt: skip
    except FileNotFoundError:
        raise fail("file not found", "check the path, or create it with `usetest new FILE`") from None
    except PermissionError:
        raise fail("permission denied", "make the file readable (chmod u+r)") from None
    except OSError as exc:
        raise fail(f"cannot read the file ({exc.strerror})", "check the path") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError([Problem(
            name, line, col, "the file is not valid UTF-8 text",
            "save it as UTF-8 (most editors: File > Save with encoding > UTF-8)",
        )]) from None  # fmt: skip
    loaded = parse_scenario(text, name)
    return LoadedScenario(path, loaded.text, loaded.sha256, loaded.scenario)


def parse_scenario(text: str, filename: str = "<scenario>", *,
                   as_recorded: bool = False) -> LoadedScenario:  # fmt: skip
    """Validate scenario text; raises :class:`ScenarioError` with every problem found.

    A new text is read strictly: types as the JSON Schema states them (`seq: 1` or
    `time_limit: "180"` are refused, not converted) and YAML 1.1 yes/no words refused
    (:class:`_Reader`), so a file means one thing to ``usetest validate`` and to an editor.
    ``as_recorded``: a text a database stored (a version sessions ran) is read as it was when
    it was recorded — yes/no words as PyYAML reads them, numbers and booleans converted as
    before — so a study recorded by an older usetest still opens and means what it meant."""
    if len(text) > MAX_BYTES:
        raise ScenarioError([Problem(filename, 1, 1, "the scenario text is too long",
                                     f"keep it under {MAX_BYTES:,} characters")])  # fmt: skip
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ScenarioError([Problem(filename, line, 1, "the file contains a NUL byte (binary data)",
                                     "save the scenario as plain UTF-8 text")])  # fmt: skip
    reader = _Reader(filename, as_recorded=as_recorded)
    data = reader.read(text)
    scenario = _validate(data, reader, strict=not as_recorded)
    return LoadedScenario(None, text, hashlib.sha256(text.encode("utf-8")).hexdigest(), scenario)


Path_ = tuple[str | int, ...]
_SAFE_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map", "tag:yaml.org,2002:timestamp",
}  # fmt: skip


class _Reader:
    """YAML text -> plain data, remembering where each key and value stood."""

    def __init__(self, filename: str, as_recorded: bool = False) -> None:
        self.filename = filename
        self.as_recorded = as_recorded
        self.key_marks: dict[Path_, yaml.Mark] = {}
        self.value_marks: dict[Path_, yaml.Mark] = {}
        self.problems: list[Problem] = []
        self.nodes = 0
        self._constructor = yaml.SafeLoader("")

    def problem(self, mark: yaml.Mark | None, message: str, fix: str) -> None:
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        self.problems.append(Problem(self.filename, line, col, message, fix))

    def read(self, text: str) -> Any:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. ESC
            before = text[: exc.position]
            line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
            self.problems.append(Problem(
                self.filename, line, col,
                f"the control character {escaped(chr(exc.character), one_line=True)} is not allowed in YAML",
                "remove it; scenario texts hold plain text (tabs and new lines are fine)",
            ))  # fmt: skip
            raise ScenarioError(self.problems) from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            what = exc.problem or "invalid YAML"
            if exc.context:
                what = f"{exc.context}, {what}"
            self.problem(mark, f"YAML syntax error: {what}",
                         "check the indentation and quote texts that contain ': ', '#' or "
                         "start with a special character ([ { * & ! | > ' \" % @ `)")  # fmt: skip
            raise ScenarioError(self.problems) from None
        except yaml.YAMLError as exc:
            self.problem(None, f"YAML error: {exc}", "save the scenario as plain UTF-8 YAML text")
            raise ScenarioError(self.problems) from None
        except RecursionError:
            self.problem(None, "the YAML is nested too deeply",
                         f"a scenario needs only a few levels (at most {MAX_DEPTH})")  # fmt: skip
            raise ScenarioError(self.problems) from None
        if root is None:
            self.problem(None, "the file is empty",
                         "start from a template: usetest new FILE")  # fmt: skip
            raise ScenarioError(self.problems)
        if not isinstance(root, yaml.MappingNode):
            self.problem(root.start_mark, "the top level must be a mapping of keys such as "
                         "`study:` and `tasks:`", "start from a template: usetest new FILE")  # fmt: skip
            raise ScenarioError(self.problems)
        try:
            data = self._walk(root, (), 0)
        except _TooBig as exc:
            self.problems.append(Problem(self.filename, *exc.at, str(exc),
                                         "write the values out; anchors and aliases (&, *) "
                                         "should not multiply a scenario"))  # fmt: skip
        if self.problems:
            raise ScenarioError(self.problems)
        return data

    def _walk(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            what = "too many values" if self.nodes > MAX_NODES else "nesting too deep"
            raise _TooBig(f"{what} (aliases expanding?)",
                          (node.start_mark.line + 1, node.start_mark.column + 1))  # fmt: skip
        self.value_marks.setdefault(path, node.start_mark)
        if node.tag not in _SAFE_TAGS:
            self.problem(node.start_mark, f"the tag {node.tag.replace('tag:yaml.org,2002:', '!!')} "
                         "is not allowed (scenarios hold plain data only)",
                         "remove the tag and write a plain value")  # fmt: skip
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                reported = len(self.problems)
                key = self._walk(key_node, (*path, "<key>"), depth + 1)
                if key is None and len(self.problems) > reported:
                    continue  # the key itself was refused, with its own message
                if not isinstance(key, str):
                    self.problem(key_node.start_mark, f"the key {key!r} is not a name",
                                 "use a plain word as the key")  # fmt: skip
                    continue
                if key == "<<":
                    self.problem(key_node.start_mark, "merge keys (<<) are not supported",
                                 "write the keys out")  # fmt: skip
                    continue
                if key in out:
                    first = self.key_marks[(*path, key)]
                    self.problem(key_node.start_mark,
                                 f"the key '{key}' is written twice (first on line {first.line + 1})",
                                 "keep one of them")  # fmt: skip
                    continue
                self.key_marks[(*path, key)] = key_node.start_mark
                out[key] = self._walk(value_node, (*path, key), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            if path == ("tasks",) and len(node.value) > MAX_TASKS:
                self.problem(node.start_mark, f"the scenario has {len(node.value):,} tasks; "
                             f"a scenario holds at most {MAX_TASKS}", _TOO_MANY["tasks"])  # fmt: skip
                return None
            return [self._walk(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        try:
            value = self._constructor.construct_object(node, deep=True)
        except ValueError:  # an integer of thousands of digits (Python refuses to convert it)
            self.problem(node.start_mark, f"the number {str(node.value)[:20]}… is too long "
                         f"({len(str(node.value)):,} characters)", "write a number of a few "
                         "digits; see `usetest schema` for each key's range")  # fmt: skip
            return None
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # a date is just text to us
        if (node.tag == "tag:yaml.org,2002:bool" and node.style is None and not self.as_recorded
                and node.value.lower() not in ("true", "false")):  # fmt: skip
            # YAML 1.1 (PyYAML) reads yes/no/on/off as booleans, YAML 1.2 (editors, the JSON
            # Schema) as text: the same file would mean two things. Neither reading is taken.
            self.problem(node.start_mark, f"'{node.value}' is a yes/no word: YAML 1.1 reads it "
                         "as a boolean, editors (YAML 1.2) as text",
                         f"write {'true' if value else 'false'} for a yes/no setting, or quote it "
                         f"('{node.value}') if you mean the text")  # fmt: skip
            return None
        return value


class _TooBig(Exception):
    def __init__(self, message: str, at: tuple[int, int]) -> None:
        super().__init__(message)
        self.at = at


# ---------------------------------------------------------------------------------------------
# Validation with positions.

_FIX_HINTS = {
    "study": "write the study's name, e.g. `study: Checkout redesign, round 2`",
    "tasks": "list the tasks under `tasks:`, each with id, title and prompt",
    "id": "use lowercase letters, digits, - and _, starting with a letter or digit, e.g. `find-kettle`",
    "title": "write a short title",
    "prompt": "write what the participant is told, e.g. `prompt: Find a kettle under $40.`",
    "time_limit": "write a whole number of seconds, e.g. `time_limit: 300`, or leave it out",
    "seq": "write `seq: true` or `seq: false`",
    "task_order": "write one of: fixed, random, latin-square",
    "key": "use one lowercase letter or digit, e.g. `key: n`",
    "conditions": "write a list such as `conditions: [current, redesign]`",
    "questionnaires": "list built-ins (sus, umux-lite, nps) and/or blocks with id, title, items",
    "points": "write a number of scale points from 2 to 11, e.g. `points: 7`",
    "type": "write `type: likert` or `type: text`",
    "partial_counts_as_success": "write true or false",
}


_TOO_MANY = {
    "tasks": "split the study into several scenarios (one database each)",
    "conditions": f"a study has at most {MAX_CONDITIONS} conditions",
    "questionnaires": f"list at most {MAX_QUESTIONNAIRES} questionnaires",
    "items": f"a questionnaire holds at most {MAX_ITEMS} questions; split it into blocks",
    "error_types": f"at most {MAX_ERROR_TYPES} error types (one per key a-z, 0-9)",
    "time_limit": f"write whole seconds from 1 to {MAX_TIME_LIMIT} (24 hours), e.g. "
                  "`time_limit: 300`, or leave it out",
}  # fmt: skip


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed in the mapping at ``loc`` (for did-you-mean on unknown keys)."""
    models: list[type[BaseModel]] = [Scenario]
    for part in loc:
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for model in models:
            field = model.model_fields.get(part)
            if field is not None:
                nxt += _models_in(field.annotation)
        if not nxt:
            break
        models = nxt
    return sorted({name for m in models for name in m.model_fields})


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (list, Union, types.UnionType, Annotated) or origin is not None:
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def _clean_loc(loc: tuple[Any, ...], keep_last: bool = False) -> tuple[str | int, ...]:
    """Drop pydantic's union-branch labels (e.g. 'CustomQuestionnaire', 'likert') from a loc.

    ``keep_last``: the last part is the researcher's own key (an unknown key), which may look
    like a label (`Study:`) but must stay.
    """
    out: list[str | int] = []
    for i, part in enumerate(loc):
        if keep_last and i == len(loc) - 1:
            out.append(part)
            continue
        if isinstance(part, str) and (part[:1].isupper() or part.startswith(("literal[", "function"))):
            continue
        # the tag of an item's type (questionnaires[i].items[j].likert); `text` elsewhere
        # (a profile question's text) is a field
        if part in ("likert", "text") and len(out) >= 2 and isinstance(out[-1], int) \
                and out[-2] == "items":
            continue
        out.append(part)
    return tuple(out)


def _show(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the file"


def _validate(data: Any, reader: _Reader, strict: bool = True) -> Scenario:
    problems: list[Problem] = []

    def at(loc: tuple[str | int, ...], key: bool = False) -> yaml.Mark | None:
        marks = reader.key_marks if key else reader.value_marks
        for n in range(len(loc), -1, -1):
            if loc[:n] in marks:
                return marks[loc[:n]]
            if loc[:n] in reader.value_marks:
                return reader.value_marks[loc[:n]]
        return None

    def add(loc: tuple[str | int, ...], message: str, fix: str, key: bool = False) -> None:
        mark = at(loc, key)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(Problem(reader.filename, line, col, message, fix))

    _builtin_questionnaire_names(data, add)
    _cross_checks(data, add)
    _profile_checks(data, add)
    try:
        scenario = Scenario.model_validate(data, strict=strict)
    except ValidationError as exc:
        seen: set[tuple[str | int, ...]] = set()
        errors = exc.errors()
        # A misspelt key also makes the real one "missing": report it once, as the typo.
        suggested = set()
        for err in errors:
            loc = _clean_loc(tuple(err["loc"]), keep_last=err["type"] == "extra_forbidden")
            if err["type"] == "extra_forbidden":
                close = difflib.get_close_matches(str(loc[-1]), _fields_at(loc[:-1]), n=1, cutoff=0.6)
                suggested |= {(loc[:-1], c) for c in close}
        for err in errors:
            loc = _clean_loc(tuple(err["loc"]), keep_last=err["type"] == "extra_forbidden")
            if loc in seen or _covered(loc, data):
                continue
            seen.add(loc)
            field = next((p for p in reversed(loc) if isinstance(p, str)), "")
            if err["type"] == "extra_forbidden":
                allowed = _fields_at(loc[:-1])
                close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else "allowed here: " + ", ".join(allowed)
                add(loc, f"unknown key '{loc[-1]}' in {_show(loc[:-1])}", hint, key=True)
            elif err["type"] == "missing":
                if (loc[:-1], field) in suggested:
                    continue
                add(loc[:-1], f"{_show(loc[:-1])} is missing the required key '{field}'",
                    _FIX_HINTS.get(field, f"add `{field}: …`"))  # fmt: skip
            else:
                got = err.get("input")
                shown = (f"{len(got)} entries" if isinstance(got, list) and err["type"] == "too_long"
                         else repr(got) if not isinstance(got, (dict, list)) else type(got).__name__)  # fmt: skip
                if len(shown) > 60:
                    shown = shown[:57] + "…"
                limit = err["type"] in ("too_long", "less_than_equal", "greater_than_equal")
                fix = (_TOO_MANY.get(field) if limit else None) or _FIX_HINTS.get(
                    field, "see `usetest schema` for what this key takes")
                add(loc, f"{_show(loc)}: {err['msg'].lower()} (got {shown})", fix)
        raise ScenarioError(problems or [Problem(reader.filename, 1, 1, str(exc), "")]) from None
    if problems:
        raise ScenarioError(problems)
    return scenario


def _covered(loc: tuple[str | int, ...], data: Any) -> bool:
    """A builtin-name typo in questionnaires is already reported with a did-you-mean."""
    if len(loc) == 3 and loc[0] == "profile" and loc[2] == "type":
        return True  # _profile_checks says which types there are
    if len(loc) >= 2 and loc[0] == "questionnaires" and isinstance(loc[1], int):
        entries = data.get("questionnaires") if isinstance(data, dict) else None
        if isinstance(entries, list) and loc[1] < len(entries):
            entry = entries[loc[1]]
            # a typo in a built-in name has its own message; a block is not a built-in name
            return isinstance(entry, str) or (isinstance(entry, dict) and len(loc) == 2)
    return False


def _builtin_questionnaire_names(data: Any, add: Any) -> None:
    entries = data.get("questionnaires") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return
    names = list(typing.get_args(BuiltIn))
    for i, entry in enumerate(entries):
        if isinstance(entry, str) and entry not in names:
            close = difflib.get_close_matches(entry.lower(), names, n=1, cutoff=0.5)
            hint = (f"did you mean '{close[0]}'?" if close else
                    f"use {', '.join(names)}, or a block with id, title and items")  # fmt: skip
            add(("questionnaires", i), f"unknown questionnaire '{entry}'", hint)


def _duplicates(values: list[Any]) -> list[int]:
    seen: set[Any] = set()
    dup = []
    for i, value in enumerate(values):
        if isinstance(value, str) and value in seen:
            dup.append(i)
        if isinstance(value, str):
            seen.add(value)
    return dup


def _entries(data: Any, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def _get(entry: Any, key: str) -> Any:
    return entry.get(key) if isinstance(entry, dict) else None


def _cross_checks(data: Any, add: Any) -> None:
    """Rules across entries, checked on the raw data so they are reported with type errors."""
    tasks = _entries(data, "tasks")
    for i in _duplicates([_get(t, "id") for t in tasks]):
        add(("tasks", i, "id"), f"task id '{tasks[i]['id']}' is used twice",
            "give every task its own id")  # fmt: skip
    errors = _entries(data, "error_types")
    for i in _duplicates([_get(e, "key") for e in errors]):
        add(("error_types", i, "key"), f"hotkey '{errors[i]['key']}' of error type "
            f"'{_get(errors[i], 'name')}' clashes with another error type",
            "give each error type its own key")  # fmt: skip
    for i in _duplicates([_get(e, "name") for e in errors]):
        add(("error_types", i, "name"), f"error type name '{errors[i]['name']}' is used twice",
            "give each error type its own name")  # fmt: skip
    conditions = _entries(data, "conditions")
    for i in _duplicates(conditions):
        add(("conditions", i), f"condition '{conditions[i]}' is listed twice", "list it once")
    blocks = _entries(data, "questionnaires")
    names = [q if isinstance(q, str) else _get(q, "id") for q in blocks]
    for i in _duplicates(names):
        add(("questionnaires", i), f"questionnaire '{names[i]}' is listed twice", "list it once")
    for i, q in enumerate(blocks):
        if not isinstance(q, dict):
            continue
        if q.get("id") in (*typing.get_args(BuiltIn), "seq"):
            add(("questionnaires", i, "id"), f"'{q['id']}' is a built-in questionnaire's id",
                "choose another id for your own block")  # fmt: skip
        items = _entries(q, "items")
        for j in _duplicates([_get(item, "id") for item in items]):
            add(("questionnaires", i, "items", j, "id"),
                f"item id '{items[j]['id']}' is used twice in '{q.get('id')}'",
                "give each item its own id")  # fmt: skip
    _after_checks(data, add)
    for i, t in enumerate(tasks):
        for name in ("title", "prompt"):
            value = _get(t, name)
            if isinstance(value, str) and value and not value.strip():
                add(("tasks", i, name), f"task '{_get(t, 'id')}' has a blank {name}",
                    _FIX_HINTS[name])  # fmt: skip


def _after_checks(data: Any, add: Any) -> None:
    """A task's ``after:`` names ``csat``, ``ces`` or a block under ``questionnaires:``, each
    once; a block asked only after tasks (``at_end: false``) must be listed by some task."""
    from usetest.questionnaires import AFTER_TASK_BUILT_IN

    entries = _entries(data, "questionnaires")
    blocks = {q["id"]: i for i, q in enumerate(entries)
              if isinstance(q, dict) and isinstance(q.get("id"), str)}  # fmt: skip
    allowed = [*AFTER_TASK_BUILT_IN, *blocks]
    whole_system = [b for b in typing.get_args(BuiltIn) if b not in AFTER_TASK_BUILT_IN]
    listed: set[str] = set()
    for i, task in enumerate(_entries(data, "tasks")):
        after = _get(task, "after")
        if not isinstance(after, list):
            continue  # a wrong type is reported by the model
        task_id = _get(task, "id")
        seen: set[str] = set()
        for j, name in enumerate(after):
            if not isinstance(name, str):
                continue
            loc = ("tasks", i, "after", j)
            if name in seen:
                add(loc, f"'{name}' is listed twice in the after: of task '{task_id}'",
                    "list it once: its answers are kept once per task")  # fmt: skip
                continue
            seen.add(name)
            if name in allowed:
                listed.add(name)
            elif name in whole_system:
                add(loc, f"'{name}' rates the whole system, so it is not asked after a task",
                    f"list {name} under questionnaires: (asked once, after all the tasks); after "
                    "a task use csat, ces or a block of your own")  # fmt: skip
            elif name == "seq":
                add(loc, "the SEQ is asked after every task already",
                    "remove seq from after: (`seq: false` turns the SEQ off for a task)")
            else:
                close = difflib.get_close_matches(name.lower(), allowed, n=1, cutoff=0.6)
                listed.update(close)  # its block is then not also "never asked"
                choices = f"allowed here: {', '.join(allowed)}" + (
                    "" if blocks else " (or the id of a block under questionnaires:)")
                add(loc, f"unknown questionnaire '{name}' in the after: of task '{task_id}'",
                    (f"did you mean '{close[0]}'? " if close else "") + choices)
    for qid, i in blocks.items():
        if entries[i].get("at_end") is False and qid not in listed:
            add(("questionnaires", i, "at_end"),
                f"questionnaire '{qid}' has at_end: false and no task lists it in after:, so it "
                "would never be asked",
                f"add `after: [{qid}]` to the tasks it follows, or remove `at_end: false`")


_PROFILE_TYPES = ("choice", "number", "text")
_PROFILE_LIMIT = 10**9  # usetest.profile.NUMBER_LIMIT: the store refuses larger answers


def _profile_checks(data: Any, add: Any) -> None:
    """``profile:`` questions: ids unique, and each type with the keys it takes (a choice
    needs two options or more; a number a range with min <= max; a text neither)."""
    for i, q in enumerate(_entries(data, "questionnaires")):
        if _get(q, "id") == "profile":
            add(("questionnaires", i, "id"), "'profile' is reserved: the participant profile's "
                "answers are stored under it", "choose another id for your own block, or ask "
                "these questions at set-up under `profile:`")  # fmt: skip
    questions = _entries(data, "profile")
    for i in _duplicates([_get(q, "id") for q in questions]):
        add(("profile", i, "id"), f"profile question id '{questions[i]['id']}' is used twice",
            "give each profile question its own id (it names the column in the analysis)")
    for i, q in enumerate(questions):
        if not isinstance(q, dict):
            continue
        qid = q.get("id")
        kind = q.get("type", "choice")
        text = q.get("text")
        if isinstance(text, str) and text and not text.strip():
            add(("profile", i, "text"), f"profile question '{qid}' has a blank text",
                "write the question the moderator asks, e.g. `text: How old are you?`")
        if kind not in _PROFILE_TYPES:
            close = difflib.get_close_matches(str(kind), _PROFILE_TYPES, n=1, cutoff=0.5)
            add(("profile", i, "type"), f"profile question '{qid}' has the unknown type {kind!r}",
                (f"did you mean '{close[0]}'? " if close else "") + "write `type: choice` (one "
                "of `options`), `type: number` (a whole number, `min`/`max`) or `type: text`")
            continue
        has = [key for key in ("options", "min", "max") if key in q]
        if kind == "choice":
            for key in ("min", "max"):
                if key in q:
                    add(("profile", i, key), f"profile question '{qid}' is a choice, which "
                        f"takes no {key}", f"remove {key}, or write `type: number` for a "
                        "number question")  # fmt: skip
            options = q.get("options")
            if not isinstance(options, list):
                if options is None:
                    add(("profile", i), f"profile question '{qid}' is a choice without options",
                        "list the answers, e.g. `options: [18-29, 30-44, 45-59, 60+]`, or write "
                        "`type: number` or `type: text`")  # fmt: skip
                continue  # another type is reported by the model
            for j, option in enumerate(options):
                if isinstance(option, str) and option and not option.strip():
                    add(("profile", i, "options", j), f"option {j + 1} of profile question "
                        f"'{qid}' is blank", "write the answer's text, or remove it")
            for j in _duplicates(options):
                add(("profile", i, "options", j), f"option '{options[j]}' is listed twice in "
                    f"profile question '{qid}'", "list each answer once")  # fmt: skip
            distinct = {o for o in options if isinstance(o, str) and o.strip()}
            if len(distinct) < 2 and all(isinstance(o, str) for o in options):
                add(("profile", i, "options"), f"profile question '{qid}' has "
                    f"{len(distinct)} option{'' if len(distinct) == 1 else 's'}; a choice needs "
                    "two or more", "list every answer a participant can give, e.g. "
                    "`options: [under 1 year, 1-5 years, over 5 years]`")  # fmt: skip
        elif kind == "number":
            if "options" in q:
                add(("profile", i, "options"), f"profile question '{qid}' is a number, which "
                    "takes no options", "remove options and set a range with `min`/`max`, or "
                    "write `type: choice`")  # fmt: skip
            low, high = q.get("min"), q.get("max")
            for key, value in (("min", low), ("max", high)):
                if isinstance(value, int) and not isinstance(value, bool) \
                        and abs(value) > _PROFILE_LIMIT:
                    add(("profile", i, key), f"{key} of profile question '{qid}' is {value}, "
                        f"beyond ±{_PROFILE_LIMIT:,}", f"write a {key} of a few digits, e.g. "
                        f"`{key}: {0 if key == 'min' else 80}`")  # fmt: skip
            if (isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool)
                    and not isinstance(high, bool) and low > high):
                add(("profile", i, "min"), f"profile question '{qid}' has min {low} above max "
                    f"{high}", f"swap them: `min: {high}`, `max: {low}`")  # fmt: skip
        else:
            for key in has:
                add(("profile", i, key), f"profile question '{qid}' is a text question, which "
                    f"takes no {key}", f"remove {key}, or write `type: "
                    f"{'choice' if key == 'options' else 'number'}`")  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Schema and template.


SCHEMA_FILE = "usetest-scenario.schema.json"
"""The schema's file name: inside the package, and beside a scenario ``usetest new`` writes."""
SCHEMA_ID_PREFIX = "urn:usetest:scenario-schema:"


def schema_id() -> str:
    """The schema's ``$id``: versioned with usetest, so an editor or a check can tell which
    usetest's rules a copy of the schema states."""
    from usetest import __version__

    return f"{SCHEMA_ID_PREFIX}{__version__}"


_MODELS = (ErrorType, Task, LikertItem, TextItem, CustomQuestionnaire, Targets, ProfileQuestion,
           ReportInfo, Scenario)  # fmt: skip
"""Every model of the format, each after the models it contains."""


def _describe_fields() -> None:
    """Give every field its attribute docstring as description (once), as pydantic's
    ``use_attribute_docstrings`` would at import, and rebuild the models with them."""
    if Scenario.model_fields["study"].description is not None:
        return
    from pydantic._internal._docs_extraction import extract_docstrings_from_cls

    for model in _MODELS:
        docs = extract_docstrings_from_cls(model, use_inspect=True)
        for name, field in model.model_fields.items():
            if field.description is None and name in docs:
                field.description = docs[name]
    for model in _MODELS:
        model.model_rebuild(force=True)


def json_schema() -> dict[str, Any]:
    """The scenario format as JSON Schema (draft 2020-12), for editors and validators.

    It states every rule of ``usetest validate`` that JSON Schema can: types, ranges and
    patterns from the models, and (added here) non-blank task titles, prompts and profile
    texts, lists without repeats (conditions, questionnaires, a task's ``after:``, profile
    options), the built-in ids a block may not take, the questionnaires a task's ``after:``
    may not name, and which keys each profile question type takes. What it cannot state —
    uniqueness of an id among list entries (task ids, hotkeys, item ids), references between
    entries (``after:`` naming a block, ``at_end: false`` blocks someone lists), ``min`` ≤
    ``max`` — only ``usetest validate`` checks (tests/test_schema_agrees.py lists them)."""
    _describe_fields()
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = schema_id()
    schema["title"] = "usetest scenario"
    defs, props = schema["$defs"], schema["properties"]
    non_blank = {"pattern": r"\S"}
    for name in ("title", "prompt"):
        defs["Task"]["properties"][name].update(non_blank)
    profile = defs["ProfileQuestion"]
    profile["properties"]["text"].update(non_blank)
    profile["properties"]["options"]["items"].update(non_blank)
    profile["properties"]["options"]["uniqueItems"] = True
    for listed in (props["conditions"], props["questionnaires"], defs["Task"]["properties"]["after"]):
        listed["uniqueItems"] = True
    defs["Task"]["properties"]["after"]["items"]["not"] = {
        "enum": [b for b in typing.get_args(BuiltIn) if b not in ("csat", "ces")] + ["seq"]}
    defs["CustomQuestionnaire"]["properties"]["id"]["not"] = {
        "enum": [*typing.get_args(BuiltIn), "seq", "profile"]}
    number, text = ({"properties": {"type": {"const": kind}}, "required": ["type"]}
                    for kind in ("number", "text"))  # fmt: skip
    profile["allOf"] = [
        {"if": number, "then": {"not": {"required": ["options"]}}},
        {"if": text, "then": {"allOf": [{"not": {"required": [k]}} for k in ("options", "min", "max")]}},
        {"if": {"anyOf": [{"not": {"required": ["type"]}},
                          {"properties": {"type": {"const": "choice"}}}]},
         "then": {"required": ["options"], "properties": {"options": {"minItems": 2}},
                  "allOf": [{"not": {"required": [k]}} for k in ("min", "max")]}},
    ]  # fmt: skip
    return schema


def template(schema: str = SCHEMA_FILE) -> str:
    """A commented scenario that validates as it is; the researcher edits it. Its first line
    points editors at ``schema`` (a path from the scenario's folder, or a URL)."""
    return _TEMPLATE.replace(SCHEMA_COMMENT, f"# yaml-language-server: $schema={schema}", 1)


def packaged_schema() -> str:
    """The JSON Schema file shipped inside the package (what ``usetest schema`` prints)."""
    from importlib.resources import files

    return files("usetest").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


_TEMPLATE = f"""\
{SCHEMA_COMMENT}
# A usetest scenario. Check it with:  usetest validate THIS_FILE
# Every key is explained in the JSON Schema:  usetest schema

study: My study, round 1            # the study's name (required)
product: Prototype v1               # what is being tested (also used in the NPS question)
description: >-
  Can first-time users complete the core tasks without help?

# conditions: [current, redesign]  # optional between-subjects variants
task_order: fixed                   # fixed | random | latin-square
partial_counts_as_success: false    # count a partial success as a success?

# Error types: each gets a one-key shortcut (after pressing e). Omit for the default set:
# n navigation, m misread, i wrong input, c wrong control, o other.
error_types:
  - {{key: n, name: navigation}}
  - {{key: m, name: misread}}

# Participant profile: asked at set-up, after consent (d or an empty answer: declined).
# The analysis can split by it:  usetest summary DB --by profile.age
# profile:
#   - id: age
#     text: Which age band are you in?
#     options: [18-29, 30-44, 45-59, 60+]   # type: choice (the default): one of these
#   - id: experience
#     text: For how many years have you shopped online?
#     type: number                  # a whole number
#     min: 0
#     max: 60
#   - id: device
#     text: Which device do you use most for this?
#     type: text                    # a short line (at most 200 characters)

tasks:
  - id: first-task                  # lowercase letters, digits, - and _
    title: Find the settings
    prompt: |                       # what the participant is told (plain text)
      You want to change your password. Show me how you would do that.
    success: The password form is open     # moderator only
    notes: Watch whether they use search or the menu.
    time_limit: 180                 # seconds: a warning, never a hard stop
    seq: true                       # ask the Single Ease Question afterwards
    # after: [ces]                  # then these, per task: csat, ces or a block's id
    # target_time: 120              # seconds the task should take (tested in the summary)
    # target_completion: 0.8        # completion rate to reach (default: targets, else 0.78)

  - id: second-task
    title: Change the language
    prompt: Switch the app's language to Spanish.
    success: Language setting shows Español

questionnaires:                     # asked after the tasks, in this order
  - sus                             # System Usability Scale (10 items)
  # - umux-lite
  # - nps
  # - csat                          # Customer satisfaction (1 item, 1–5)
  # - ces                           # Customer Effort Score (1 item, 1–7)
  # - id: trust
  #   title: Trust
  #   at_end: true                  # false: only after the tasks that list it in after:
  #   items:
  #     - {{id: secure, text: I felt my data was safe., points: 7}}
  #     - {{id: comments, type: text, text: Anything else you want to tell us?}}

# targets:                          # optional; where omitted: completion 0.78, SUS 68, SEQ 5.5
#   completion: 0.8                 # every task (a task's target_completion wins)
#   sus: 72
#   seq: 5.5
#   csat: 4                         # also umux_lite (0–100) and ces (1–7)

# report:                           # optional, for `usetest report --cif` (ISO/IEC 25062)
#   goals: Find where first-time users get stuck before the release.
#   participants: 8 customers who bought online in the last 3 months, recruited by panel.
#   facility: Usability lab, room 2; screen and audio recorded.
#   environment: Laptop, 15-inch screen, Chrome, office Wi-Fi.
#   procedure: Consent, think-aloud practice, tasks, questionnaires, debrief.
"""
