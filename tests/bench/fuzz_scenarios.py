"""Fuzz ``usetest validate`` and ``usetest run --plan`` with malformed and hostile scenario files.

Hypothesis writes scenario files of many kinds — broken YAML, wrong types, huge strings, deep
nesting, aliases that expand a lot, binary bytes, non-UTF-8, Rich markup, control and escape
characters — and a fixed set of hostile paths (a folder, a FIFO, a device, a path under a file,
a symlink loop, an unreadable file). For each, both commands must end with exit 0 and an "ok"
(the file happened to be valid) or exit 1 with a clear message: one ``FILE:LINE:COL: what — fix``
line per problem, never a traceback, never a hang, never a raw control character on the
terminal (a valid scenario may hold escapes written in quotes, "\\e[2J": they must come out
escaped); and the two commands must agree.

Run::

    .venv/bin/python -m tests.bench.fuzz_scenarios --cases 10000

It prints the counts (tried, valid, invalid, failures) and exits 1 if any case failed.
The suite runs a modest number of the same cases (tests/test_fuzz_scenario.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from usetest.cli import cli

VALID = {
    "study": "Fuzz study",
    "product": "Fuzz app",
    "task_order": "fixed",
    "error_types": [{"key": "n", "name": "navigation"}],
    "tasks": [
        {"id": "one", "title": "First task", "prompt": "Do the first thing.", "time_limit": 60},
        {"id": "two", "title": "Second task", "prompt": "Do the second thing.", "seq": False},
    ],
    "questionnaires": ["sus"],
}
VALID_TEXT = yaml.safe_dump(VALID, sort_keys=False, allow_unicode=True)

PROBLEM = re.compile(r"^.+:\d+:\d+: .+ — .+$")
TRAILERS = re.compile(
    r"^(\d+ problem\(s\) in \d+ of \d+ file\(s\)"
    r"|fix the scenario \(usetest validate shows every problem\), then run again)$"
)
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
TIMEOUT_S = 10.0

# ---------------------------------------------------------------------------------------------
# Strategies: each returns the bytes of one scenario file.

HOSTILE_TEXT = st.sampled_from([
    "[bold]x[/]", "[/]", "[link=https://evil.example]click[/link]", "[red", "\x1b[2J\x1b[H",
    "\x1b]52;c;ZWNobyBwd25lZA==\x07", "\x1b]0;title\x07", "\x9b31m", "\x07\x08\x7f", "\r\n\r",
    "\u202etxt.exe", "🚀👩‍👩‍👧", "ünïcödé", "\ufeff", "\u0000", "\ud7ff", "'", '"', "%", "{{x}}",
    "!!python/object/apply:os.system ['echo pwned']", "*alias", "&anchor", "- ", ": ", "#", "\t",
])  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=40),
    HOSTILE_TEXT,
    st.lists(HOSTILE_TEXT, max_size=5).map("".join),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", "🚀", "[b]", "\x1b"]),
              st.integers(1000, 100_000)),
)  # fmt: skip
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXTS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXTS, children, max_size=4),
    max_leaves=12,
)


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6).encode("utf-8")


@st.composite
def wrong_types(draw: st.DrawFn) -> bytes:
    """The valid scenario with one value anywhere replaced by anything (often a wrong type)."""
    data = json.loads(json.dumps(VALID))
    paths: list[tuple[Any, Any]] = []

    def collect(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            paths.append((node, key))
            if isinstance(value, dict | list):
                collect(value)

    collect(data)
    for _ in range(draw(st.integers(1, 3))):
        node, key = draw(st.sampled_from(paths))
        node[key] = draw(JSONISH)
    if draw(st.booleans()):
        data[draw(TEXTS)] = draw(JSONISH)  # an extra (often unknown) key
    return _dump(data)


@st.composite
def odd_texts(draw: st.DrawFn) -> bytes:
    """Right types, hostile contents: markup, escapes, emoji, huge texts, in every text field."""
    data = json.loads(json.dumps(VALID))
    for field_ in ("study", "product"):
        data[field_] = draw(TEXTS)
    for task in data["tasks"]:
        for field_ in ("title", "prompt"):
            task[field_] = draw(TEXTS)
    data["error_types"][0]["name"] = draw(TEXTS)
    return _dump(data)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """The valid text with bytes deleted, inserted, replaced or the file cut short."""
    data = bytearray(VALID_TEXT.encode("utf-8"))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "delete" and data:
            del data[at : at + draw(st.integers(1, 10))]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8) | HOSTILE_TEXT.map(str.encode))
        elif op == "replace" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[at:]
    return bytes(data)


def alias_bomb(levels: int, width: int) -> bytes:
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * width)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"study: *a{levels}")
    return ("\n".join(lines) + "\n").encode()


def nested(depth: int, style: str) -> bytes:
    if style == "flow-seq":
        return ("study: " + "[" * depth + "]" * depth + "\n").encode()
    if style == "flow-map":
        return ("study: " + "{a: " * depth + "1" + "}" * depth + "\n").encode()
    return ("".join("  " * i + "- \n" for i in range(depth))).encode()


STRUCTURED = st.one_of(
    st.builds(alias_bomb, st.integers(1, 12), st.integers(2, 12)),
    st.builds(nested, st.integers(1, 5000), st.sampled_from(["flow-seq", "flow-map", "block"])),
)
RAW = st.one_of(
    st.binary(max_size=400),
    st.text(alphabet=st.sampled_from(list("{}[]:-&*!|>'\"%@`#,? \n\tabc")), max_size=200).map(
        str.encode
    ),
    st.builds(
        lambda t, enc: t.encode(enc, errors="replace"),
        st.text(max_size=80),
        st.sampled_from(["latin-1", "utf-16", "utf-32", "cp1252"]),
    ),
    st.builds(
        lambda b, at: VALID_TEXT.encode()[:at] + b + VALID_TEXT.encode()[at:],
        st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xfe\xff"]),
        st.integers(0, len(VALID_TEXT)),
    ),
    st.just(b""),
    st.just(b"\xef\xbb\xbf"),
    st.just(b"x" * 1_000_001),  # just over MAX_BYTES
)
SCENARIO_BYTES = st.one_of(
    wrong_types(),
    odd_texts(),
    mutated(),
    STRUCTURED,
    RAW,
    JSONISH.map(_dump),
)

# ---------------------------------------------------------------------------------------------
# Checking one file.


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    validate: int
    plan: int
    problems: list[str] = field(default_factory=list)


def _check_output(name: str, result: Any, problems: list[str]) -> None:
    out, err = result.stdout, result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        problems.append(f"{name} raised {type(result.exception).__name__}: {result.exception}")
        return
    if result.exit_code not in (0, 1):
        problems.append(f"{name} exit {result.exit_code}: {err[-300:]!r}")
    if "Traceback" in out + err:
        problems.append(f"{name} printed a traceback")
    if RAW_CONTROL.search(out + err):
        found = sorted({repr(c) for c in RAW_CONTROL.findall(out + err)})
        problems.append(f"{name} printed raw control characters {', '.join(found)}")
    if result.exit_code == 1:
        lines = err.splitlines()
        if not lines:
            problems.append(f"{name} failed without a message")
        for line in lines:
            if not (PROBLEM.match(line) or TRAILERS.match(line)):
                problems.append(f"{name}: not a FILE:LINE:COL: what — fix line: {line[:200]!r}")
                break


def check_path(path: Path, db_path: Path, runner: CliRunner | None = None) -> Outcome:
    """Run both commands on one path; the problems list says what went wrong, if anything."""
    runner = runner or CliRunner()
    problems: list[str] = []
    codes = []
    for name, args in (
        ("validate", ["validate", str(path)]),
        ("run --plan", ["run", str(path), "--plan", "--db", str(db_path)]),
    ):
        started = time.monotonic()
        try:
            with time_limit(TIMEOUT_S):
                # color=True: as on a terminal, where click does not strip ANSI sequences.
                result = runner.invoke(cli, args, catch_exceptions=True, color=True)
        except Hang as exc:
            problems.append(f"{name} hung: {exc}")
            codes.append(-1)
            continue
        if time.monotonic() - started > 5:
            problems.append(f"{name} took {time.monotonic() - started:.1f} s")
        _check_output(name, result, problems)
        if name == "validate" and result.exit_code == 0 and ": ok — " not in result.stdout:
            problems.append("validate exited 0 without saying ok")
        codes.append(result.exit_code)
    if len(set(codes)) > 1:
        problems.append(f"validate and run --plan disagree: exits {codes}")
    return Outcome(codes[0], codes[1], problems)


def check_bytes(data: bytes, workdir: Path, runner: CliRunner | None = None) -> Outcome:
    path = workdir / "scenario.yaml"
    path.write_bytes(data)
    return check_path(path, workdir / "plan.db", runner)


@contextlib.contextmanager
def hostile_paths(workdir: Path) -> Iterator[list[tuple[str, Path]]]:
    """Paths that are not ordinary readable files."""
    root = workdir / "hostile"
    root.mkdir(exist_ok=True)
    (root / "folder.yaml").mkdir(exist_ok=True)
    fifo = root / "fifo.yaml"
    if not fifo.exists():
        os.mkfifo(fifo)
    plain = root / "plain.yaml"
    plain.write_text(VALID_TEXT, encoding="utf-8")
    loop = root / "loop.yaml"
    if not loop.is_symlink():
        loop.symlink_to(loop)
    unreadable = root / "unreadable.yaml"
    unreadable.write_text(VALID_TEXT, encoding="utf-8")
    unreadable.chmod(0)
    cases = [
        ("a folder", root / "folder.yaml"),
        ("a FIFO nobody writes to", fifo),
        ("an endless device", Path("/dev/zero")),
        ("a path under a file", plain / "scenario.yaml"),
        ("a symlink loop", loop),
        ("a missing file", root / "missing.yaml"),
        ("an empty name", Path("")),
        ("a name with an escape", root / "\x1b[2Jname.yaml"),
    ]
    if os.geteuid() != 0:  # root reads any file
        cases.append(("an unreadable file", unreadable))
    try:
        yield cases
    finally:
        unreadable.chmod(0o600)


# ---------------------------------------------------------------------------------------------
# The campaign.


@dataclass
class Tally:
    tried: int = 0
    valid: int = 0
    invalid: int = 0
    failures: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    examples: list[bytes] = field(default_factory=list)
    """The files that failed, to reproduce them (``--save DIR`` writes them out)."""


def campaign(cases: int, workdir: Path, seed: int) -> Tally:
    tally = Tally()
    runner = CliRunner()
    with hostile_paths(workdir) as paths:
        for what, path in paths:
            outcome = check_path(path, workdir / "plan.db", runner)
            tally.tried += 1
            tally.kinds["hostile path"] += 1
            tally.invalid += outcome.validate == 1
            if outcome.validate != 1:
                outcome.problems.append(f"{what} was accepted")
            tally.failures.extend(f"{what}: {p}" for p in outcome.problems)

    @hypothesis.seed(seed)
    @settings(max_examples=cases, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(data=SCENARIO_BYTES)
    def one(data: bytes) -> None:
        outcome = check_bytes(data, workdir, runner)
        tally.tried += 1
        tally.valid += outcome.validate == 0
        tally.invalid += outcome.validate == 1
        if outcome.problems:
            tally.failures.extend(f"{data[:120]!r}: {p}" for p in outcome.problems)
            tally.examples.append(data)

    one()
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--save", type=Path, default=None, help="write failing files here")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="usetest-fuzz-") as tmp:
        tally = campaign(args.cases, Path(tmp), seed)
    print(json.dumps({
        "seed": seed, "tried": tally.tried, "valid": tally.valid, "invalid": tally.invalid,
        "failures": len(tally.failures), "seconds": round(time.monotonic() - started, 1),
    }, indent=2))  # fmt: skip
    for failure in tally.failures[:40]:
        print("FAIL", failure[:400])
    if args.save and tally.examples:
        args.save.mkdir(parents=True, exist_ok=True)
        for i, data in enumerate(tally.examples):
            (args.save / f"failure-{i:04d}.yaml").write_bytes(data)
        print(f"{len(tally.examples)} failing files in {args.save}")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
