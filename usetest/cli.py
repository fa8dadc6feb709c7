"""The ``usetest`` command: a thin click layer over the library.

Each command turns a layer's exception (``ScenarioError``, ``StoreError``) into a message on
stderr and an exit code; a user's mistake never shows a traceback. Heavy modules (textual,
pandas) are imported inside the commands that need them so that ``usetest validate`` stays quick.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from usetest import __version__
from usetest.plain import escaped

EXIT_OK = 0
EXIT_INVALID = 1  # the input was read but is wrong (bad scenario, bad database)
EXIT_USAGE = 2  # click's own code for a wrong command line


def _fail(message: str, code: int = EXIT_INVALID) -> None:
    # codes and texts from a database reach the terminal: escaped, always
    click.echo(f"usetest: {escaped(message)}", err=True)
    sys.exit(code)


def _say(message: str, err: bool = False) -> None:
    """A line that may quote participant codes or scenario text: escaped for the terminal."""
    click.echo(escaped(message), err=err)


EXIT_CRASH = 70  # EX_SOFTWARE (sysexits.h): a bug in usetest, not the user's mistake


class _Commands(click.Group):
    """Every command's errors, mapped once: a :class:`~usetest.errors.UsetestError` becomes
    ``usetest: message`` and its exit code; anything else is a bug, reported in one line with
    the path of a crash report (the traceback), exit 70. Under pytest, or with USETEST_DEBUG
    set, the exception is raised as it is, so a test still fails on it."""

    def invoke(self, ctx: click.Context) -> Any:
        from usetest.errors import UsetestError

        try:
            return super().invoke(ctx)
        except UsetestError as exc:
            from usetest.plain import escaped

            _fail(escaped(str(exc)), exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception:
            if os.environ.get("USETEST_DEBUG") or os.environ.get("PYTEST_CURRENT_TEST"):
                raise
            _fail(_crash_report(), EXIT_CRASH)


def _runs_to_its_end(command: Callable[..., None]) -> Callable[..., None]:
    """A command that starts, works and exits (no app, no server): run with Python's cycle
    collector paused (:mod:`usetest.collector`): its imports and rows make many objects and
    no cycles worth collecting before the process ends."""

    @functools.wraps(command)
    def run_paused(*args: Any, **kwargs: Any) -> None:
        from usetest import collector

        with collector.paused():
            command(*args, **kwargs)

    return run_paused


def _crash_report() -> str:
    """Write the current exception's traceback to a private file; the line to show for it."""
    import datetime
    import tempfile
    import traceback

    kind, exc, _ = sys.exc_info()
    from usetest.plain import escaped

    summary = escaped(f"{kind.__name__ if kind else 'error'}: {exc}", one_line=True)[:200]
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = (f"usetest {__version__} crashed at {stamp}\ncommand: {sys.argv!r}\n"
            f"python: {sys.version.split()[0]}\n\n{traceback.format_exc()}")  # fmt: skip
    for folder in (os.path.join(state, "usetest", "crashes"), tempfile.gettempdir()):
        path = os.path.join(folder, f"usetest-crash-{stamp}-{os.getpid()}.txt")
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            with os.fdopen(os.open(path, flags, 0o600), "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError:
            continue
        return (f"unexpected error ({summary}) — this is a bug in usetest, not your mistake; "
                f"everything logged before is safe. The details are in {path}: please send that "
                "file with a bug report")  # fmt: skip
    return f"unexpected error ({summary}) — this is a bug in usetest, not your mistake"


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="usetest")
def cli() -> None:
    """Run moderated usability-test sessions and analyse them.

    \b
    Typical day:
      usetest validate scenarios/checkout.yaml
      usetest run scenarios/checkout.yaml          # results/checkout.db
    """


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check scenario files; print one line per problem as FILE:LINE:COL: what — fix.

    Exit 0 when every file is valid, 1 otherwise.

    \b
    Example:
      usetest validate scenarios/*.yaml
    """
    from usetest.scenario import ScenarioError, load_scenario

    bad = 0
    problems = 0
    for path in files:
        try:
            loaded = load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            problems += len(exc.problems)
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            continue
        sc = loaded.scenario
        click.echo(f"{path}: ok — {sc.study!r}, {len(sc.tasks)} task(s), order {sc.task_order}")
    if bad:
        click.echo(f"{problems} problem(s) in {bad} of {len(files)} file(s)", err=True)
        sys.exit(EXIT_INVALID)


@cli.command()
@click.option("--path", "show_path", is_flag=True,
              help="Print where the schema file is installed instead of its text.")
def schema(show_path: bool) -> None:
    """Print the scenario format as JSON Schema (for editors and validators).

    The schema ships inside the package (its $id names the usetest version); `usetest new`
    writes a copy beside the scenario it creates, which the scenario's first line points at.

    \b
    Examples:
      usetest schema > usetest-scenario.schema.json
      # then, first line of a scenario file in that folder:
      # yaml-language-server: $schema=usetest-scenario.schema.json
      check-jsonschema --schemafile "$(usetest schema --path)" scenarios/*.yaml
    """
    from usetest.scenario import SCHEMA_FILE, packaged_schema

    if show_path:
        from importlib.resources import files

        click.echo(str(files("usetest").joinpath(SCHEMA_FILE)))
        return
    click.echo(packaged_schema(), nl=False)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.option("--schema", "schema_at", default=None, metavar="URL|PATH",
              help="Point the first line at this schema (a URL, or a path from FILE's folder) "
                   "instead of writing usetest-scenario.schema.json beside FILE.")
def new(file: Path, force: bool, schema_at: str | None) -> None:
    """Write a commented scenario template to FILE (it validates as it is).

    Beside it goes usetest-scenario.schema.json, the JSON Schema its first line points
    at, so editors (VS Code's YAML extension, any yaml-language-server) complete and check it
    wherever FILE is; an older usetest's copy there is updated. --schema URL points at a
    schema your lab hosts instead.

    \b
    Example:
      usetest new scenarios/my-study.yaml
    """
    import json

    from usetest.outfiles import OutputError, atomic_writer
    from usetest.scenario import SCHEMA_FILE, SCHEMA_ID_PREFIX, packaged_schema, template

    if file.exists() and not file.is_symlink() and not force:
        _fail(f"{file} exists already — choose another name or pass --force to overwrite it")
    beside = file.parent / SCHEMA_FILE
    write_schema = schema_at is None
    if write_schema and beside.exists():
        try:
            found = json.loads(beside.read_text(encoding="utf-8"))
            ours = str(found.get("$id", "")).startswith(SCHEMA_ID_PREFIX)
        except (OSError, ValueError, AttributeError):
            ours = False
        if not ours:
            _fail(f"{beside} exists and is not a usetest scenario schema, so it was left alone "
                  "and nothing was written — rename it, or pass --schema URL|PATH to point the "
                  "scenario at a schema elsewhere")  # fmt: skip
        write_schema = beside.read_text(encoding="utf-8") != packaged_schema()
    try:  # folders 0700, the file 0600, never through a planted link, complete or not at all
        if write_schema:
            with atomic_writer(beside) as f:
                f.write(packaged_schema())
        with atomic_writer(file) as f:
            f.write(template(schema_at or SCHEMA_FILE))
    except OutputError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {file}: {exc.strerror} — choose a folder you can write to")
    if write_schema:
        click.echo(f"wrote {beside} (the JSON Schema editors read)")
    click.echo(f"wrote {file}; edit it, then: usetest validate {file}")


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--db", "db_path", type=click.Path(path_type=Path), default=None,
              help="Study database (default: results/<scenario name>.db).")
@click.option("--participant", default=None,
              help="Participant code (a pseudonym, e.g. P07): skips the set-up screen.")
@click.option("--moderator", default=None, help="Moderator's name or initials.")
@click.option("--condition", default=None, help="The condition, when the study has several.")
@click.option("--resume", is_flag=True, help="Continue an unfinished session from the database.")
@click.option("--plan", is_flag=True, help="Print the study plan and task order; do not start.")
@click.option("--consent", is_flag=True,
              help="With --participant: consent was obtained before the app started (on paper); "
                   "recorded as such. Without it the app asks on screen.")
@click.option("--take-over", is_flag=True,
              help="With --resume --participant: the session is open in another usetest that is "
                   "frozen or unreachable; take it over (that app can no longer save to it).")
@click.option("--yes", "-y", "yes", is_flag=True, help="Do not ask before a --take-over.")
@click.option("--profile-answer", "profile_answers", multiple=True, metavar="ID=VALUE",
              help="A profile question answered beforehand (repeatable): the option's text or "
                   "number, the number, the text; ID= declines it. The app asks the others.")
def run(scenario: Path, db_path: Path | None, participant: str | None, moderator: str | None,
        condition: str | None, resume: bool, plan: bool, consent: bool, take_over: bool,
        yes: bool, profile_answers: tuple[str, ...]) -> None:  # fmt: skip
    """Run sessions of SCENARIO in the moderator app; every event goes to the database.

    \b
    Examples:
      usetest run scenarios/demo.yaml                     # set-up screen first
      usetest run scenarios/checkout.yaml --participant P07 --condition redesign
      usetest run scenarios/checkout.yaml --resume        # continue an interrupted session
      usetest run scenarios/checkout.yaml --resume --participant P07   # that one, no list
      usetest run scenarios/my-study.yaml --participant P08 --consent \\
          --profile-answer age=30-44 --profile-answer experience=12   # profile on paper
    """
    from usetest import collector

    # What the start-up builds (modules, models, the first screen) lives as long as the app:
    # collecting garbage during it only costs time (≈ 30 ms). The app freezes it out of later
    # collections and resumes the collector once its first screen is drawn (UsetestApp).
    with collector.paused():
        _run(scenario, db_path, participant, moderator, condition, resume, plan, consent,
             take_over, yes, profile_answers)  # fmt: skip


def _run(scenario: Path, db_path: Path | None, participant: str | None, moderator: str | None,
         condition: str | None, resume: bool, plan: bool, consent: bool, take_over: bool,
         yes: bool, profile_answers: tuple[str, ...]) -> None:  # fmt: skip
    from usetest import store
    from usetest.scenario import ScenarioError, load_scenario

    try:
        loaded = load_scenario(scenario)
    except ScenarioError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo("fix the scenario (usetest validate shows every problem), then run again",
                   err=True)  # fmt: skip
        sys.exit(EXIT_INVALID)
    db_path = db_path or Path("results") / f"{scenario.stem}.db"
    participant, moderator = _checked_codes(participant, moderator)
    profile = _profile_answers(loaded, profile_answers, resume)
    if plan:
        _print_plan(loaded, db_path, participant, condition)
        return
    _check_resume(db_path, participant if resume else None, take_over, yes)
    from usetest.tui.app import make_app

    try:
        app = make_app(loaded, db_path, participant=participant, moderator=moderator,
                       condition=condition, resume=resume, consent=consent,
                       profile=profile)  # fmt: skip
    except store.StoreError as exc:
        _fail(str(exc))
    app.take_over = take_over  # confirmed in _check_resume
    import signal

    # the read-only view make_app opened is closed: leave nothing beside the file
    _need_terminal("run", "run it in a terminal window, or use  usetest run SCENARIO --plan  to "
                   "print the plan only", app.db.close)  # fmt: skip
    with _closing_on_signals(app):
        app.run()
    try:
        if app.recording is not None:
            _exit_lines(app, scenario, db_path)
        if app.closed_by_signal:  # exit status as a shell reports a signal: 128 + its number
            _fail(f"closed by {app.closed_by_signal}; everything logged before is safe",
                  128 + signal.Signals[app.closed_by_signal].value)  # fmt: skip
    except OSError:  # the terminal is gone (SIGHUP): nobody to tell; the session is saved
        sys.exit(128 + signal.SIGHUP.value if app.closed_by_signal else EXIT_INVALID)


def _profile_answers(loaded: Any, given: tuple[str, ...], resume: bool) -> dict[str, Any]:
    """``--profile-answer ID=VALUE`` checked against the scenario's questions, or exit 2 now."""
    from usetest.profile import ProfileAnswerError, parse_assignments

    if not given:
        return {}
    if resume:
        _fail("--profile-answer goes with a new session: a resumed session keeps the profile "
              "recorded when it started", EXIT_USAGE)  # fmt: skip
    try:
        return parse_assignments(loaded.scenario.profile, given)
    except ProfileAnswerError as exc:
        _fail(f"--profile-answer: {exc}; nothing was started or recorded", EXIT_USAGE)
    return {}  # not reached


def _checked_codes(participant: str | None, moderator: str | None) -> tuple[str | None, str | None]:
    """``--participant`` and ``--moderator`` as the store will accept them, or exit 1 now:
    one printable line each, at most 64 characters (:func:`usetest.plain.check_code`)."""
    from usetest.plain import check_code

    try:
        if participant is not None:
            participant = check_code(participant, "participant code")
        if moderator is not None:
            moderator = check_code(moderator, "moderator initials") if moderator.strip() else None
    except ValueError as exc:
        _fail(f"{exc}; nothing was started or recorded")
    return participant, moderator


def _need_terminal(command: str, instead: str, close: Callable[[], None] | None = None) -> None:
    """The full-screen commands (run, results, observe, show): without a terminal on both
    sides the app would write escape codes into a file or pipe and wait for keys that never
    come. Refuse (exit 2) instead — after every other check, so that a wrong database or code
    is reported first; ``close`` lets go of what the command opened."""
    # Textual reads keys from stdin and draws on stderr (stdout stays free: run's exit lines
    # go there, so `usetest run … > log.txt` is fine).
    missing = [name for name, stream in (("input", sys.stdin), ("error", sys.stderr))
               if stream is None or not stream.isatty()]  # fmt: skip
    if missing:
        if close is not None:
            close()
        _fail(f"usetest {command} needs a terminal, and its standard {' and '.join(missing)} "
              f"{'is' if len(missing) == 1 else 'are'} not one (redirected or piped); {instead}",
              EXIT_USAGE)  # fmt: skip


def _closing_on_signals(app: Any) -> Any:
    """While the app runs, SIGTERM and SIGHUP (a closed window, a dropped SSH connection)
    close it as ctrl+q does: the session stays resumable, its claim is released and the
    terminal restored. Textual restores the terminal only when the app exits normally."""
    import contextlib
    import signal

    @contextlib.contextmanager
    def handlers() -> Any:
        def close(signum: int, frame: Any) -> None:
            app.close_on_signal(signal.Signals(signum).name)

        wanted = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
        before = {s: signal.signal(s, close) for s in wanted}
        try:
            yield
        finally:
            for s, handler in before.items():
                signal.signal(s, handler)

    return handlers()


def _exit_lines(app: Any, scenario: Path, db_path: Path) -> None:
    """What became of the session, after the app closed; the code is printed escaped."""
    from usetest.plain import escaped

    rec = app.recording
    state = rec.session.state.status
    code = rec.record.participant
    if app.lost_session:
        click.echo(escaped(f"{code}: taken over by another usetest, which records it now; what "
                           f"this app saved before is in {db_path}", one_line=True))  # fmt: skip
        return
    click.echo(escaped(f"{code}: {state.replace('_', ' ')} — saved in {db_path}", one_line=True))
    if state == "in_progress":
        click.echo(escaped(f"continue it with: usetest run {scenario} --db {db_path} --resume "
                           f"--participant {code}", one_line=True))  # fmt: skip


def _check_resume(db_path: Path, participant: str | None, take_over: bool, yes: bool) -> None:
    """``run --resume --participant CODE``: refuse before the app starts (exit 1) when that
    session cannot be resumed here; confirm a ``--take-over`` first."""
    from usetest import store

    if participant is None:
        if take_over:
            _fail("--take-over goes with --resume --participant CODE (in the resume list, "
                  "press t on the session instead)", EXIT_USAGE)  # fmt: skip
        return
    if not db_path.exists():
        _fail(f"{db_path} does not exist, so there is nothing to resume — check --db")
    try:
        db = store.open_db(db_path, create=False)
        try:
            record = store.find_session(db, participant)
            owner = store.session_owner(db, record.id)
        finally:
            db.close()
    except store.StoreError as exc:
        _fail(str(exc))
    if record.status != "in_progress":
        _fail(f"{participant}'s session is {record.status}; only an unfinished session can be "
              "resumed (corrections: usetest amend)")  # fmt: skip
    if owner is None:
        return
    if not take_over:
        _fail(str(store.SessionBusy(participant, owner)))
    _confirm_take_over(participant, owner, yes)


def _owner_check(handle: Any, record: Any, take_over: bool, yes: bool) -> Any:
    """The app that has the session open (None if none): refused (exit 1) unless
    ``--take-over``, which is confirmed first unless ``--yes``."""
    from usetest import store

    owner = store.session_owner(handle, record.id)
    if owner is not None and not take_over:
        _fail(str(store.SessionBusy(record.participant, owner)))
    if owner is not None:
        _confirm_take_over(record.participant, owner, yes)
    return owner


def _confirm_take_over(participant: str, owner: Any, yes: bool) -> None:
    _say(f"{participant} is open in another usetest ({owner.describe()}). From the moment "
               "you take it over, that app cannot save anything more to this session; "
               "everything it saved so far is kept.", err=True)  # fmt: skip
    if not yes and not click.confirm("Take it over?", default=False, err=True):
        _fail("not taken over; nothing was changed")


def _who(by: str | None) -> str | None:
    """Who does it: ``--by``, else the login name (None where the system has none)."""
    import getpass

    try:
        return by or getpass.getuser()
    except (KeyError, OSError):
        return by


def _open_existing(db: Path) -> Any:
    from usetest import store

    try:
        return store.open_db(db, create=False)
    except store.StoreError as exc:
        _fail(str(exc))


@cli.command()
@click.argument("db", type=click.Path(path_type=Path))
@click.option("--participant", required=True, metavar="CODE", help="Whose session to close.")
@click.option("--reason", default=None, help="Why it ends here (kept with the session).")
@click.option("--take-over", is_flag=True,
              help="The session is open in a usetest that is frozen or unreachable: close it "
                   "anyway (that app can no longer save to it).")
@click.option("--yes", "-y", "yes", is_flag=True, help="Do not ask for confirmation.")
def abandon(db: Path, participant: str, reason: str | None, take_over: bool, yes: bool) -> None:
    """Close an unfinished session that will never be finished (the participant left).

    It leaves the resume list, and summaries, reports and exports leave it out unless
    --include-unfinished. Nothing recorded is deleted: the log gains the abandon (after a
    resume that closes a task a crash left running). Refused while another usetest has the
    session open.

    \b
    Example:
      usetest abandon results/checkout.db --participant P03 --reason "had to leave"
    """
    from usetest import recorder, store
    from usetest.events import SessionError

    handle = _open_existing(db)
    try:
        record = store.find_session(handle, participant)
        if record.status == "abandoned":
            _say(f"{record.participant}'s session is abandoned already; nothing to do")
            return
        if record.status != "in_progress":
            _fail(f"{record.participant}'s session is {record.status}, so it cannot be "
                  "abandoned (to erase it: usetest withdraw)")  # fmt: skip
        if _owner_check(handle, record, take_over, yes) is None and not yes:
            last = (record.last_event_at or record.started_at)[:16].replace("T", " ")
            prompt = escaped(f"Abandon {record.participant}'s session (last event {last} UTC)? It will "
                      "not be offered for resume again; what it recorded is kept")  # fmt: skip
            if not click.confirm(prompt, default=False):
                _fail("not abandoned; nothing was changed")
        recorder.abandon(handle, record.id, reason, take_over=take_over)
    except (store.StoreError, SessionError) as exc:
        _fail(str(exc))
    finally:
        handle.close()
    _say(f"{record.participant}: abandoned — it is no longer offered for resume; analyses "
               "leave it out unless --include-unfinished")  # fmt: skip


@cli.command()
@click.argument("db", type=click.Path(path_type=Path))
@click.option("--participant", metavar="CODE", help="Whose data to erase.")
@click.option("--reason", default=None,
              help="Why (kept in the tombstone: no names, no participant code).")
@click.option("--by", "by", default=None, help="Who withdraws (default: your login name).")
@click.option("--take-over", is_flag=True,
              help="The session is open in a usetest that is frozen or unreachable: erase it "
                   "anyway (that app can no longer save to it).")
@click.option("--yes", "-y", "yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--finish", is_flag=True,
              help="Only finish clearing the file after a withdrawal another program held up.")
def withdraw(db: Path, participant: str | None, reason: str | None, by: str | None,
             take_over: bool, yes: bool, finish: bool) -> None:  # fmt: skip
    """Erase a participant who withdraws: their session, events, answers, notes, free text.

    For real: afterwards neither the participant code nor anything recorded for them can be
    found in DB or its -wal. What stays is a tombstone — a participant was withdrawn, when,
    by whom, why — so the study's counts explain themselves. Copies made before (exports,
    reports, backups, merged databases) are not touched: withdraw there too. Refused while
    another usetest has the session open. Asks first unless --yes.

    \b
    Examples:
      usetest withdraw results/checkout.db --participant P03 --reason "asked by email"
      usetest withdraw results/checkout.db --finish   # after closing Datasette, if told to
    """
    from usetest import store
    from usetest.clock import SystemClock, iso_utc

    if finish:
        handle = _open_existing(db)
        try:
            store.scrub(handle)
        except store.StoreError as exc:
            _fail(str(exc))
        finally:
            handle.close()
        click.echo(f"{db}: cleared — nothing deleted from it remains in the file or its -wal")
        return
    if not participant:
        _fail("say whose data to erase: --participant CODE", EXIT_USAGE)
    who = _who(by)
    handle = _open_existing(db)
    try:
        record = store.find_session(handle, participant)
        _owner_check(handle, record, take_over, yes)
        if not yes:
            rows = store.session_footprint(handle, record.id)
            _say(
                f"This erases {record.participant}'s {record.status.replace('_', ' ')} session "
                f"for good: {rows.get('events', 0)} events, {rows.get('answers', 0)} answer(s), "
                f"{rows.get('notes', 0) + rows.get('errors', 0)} note(s) and error(s), and every "
                f"free text, from {db} and its -wal. A tombstone stays (when, by whom, why; no "
                "code, no text). It cannot be undone."
            )  # fmt: skip
            if not click.confirm(escaped(f"Withdraw {record.participant}?"), default=False):
                _fail("not withdrawn; nothing was changed")
        tombstone = store.withdraw_session(
            handle, record.participant, withdrawn_at=iso_utc(SystemClock().utc_now()),
            withdrawn_by=who, reason=reason, take_over=take_over,
        )  # fmt: skip
    except store.StoreError as exc:
        _fail(str(exc))
    finally:
        handle.close()
    _say(f"{record.participant} withdrawn: everything recorded for them is erased from "
               f"{db}; the tombstone says a participant was withdrawn on "
               f"{tombstone.withdrawn_at[:10]}" + (f" by {who}" if who else "") + ".")  # fmt: skip
    click.echo("Copies made before (exports, reports, backups, merged databases) still hold "
               "the data: withdraw there too, or delete them.")  # fmt: skip


@cli.command()
@click.argument("db", type=click.Path(path_type=Path))
@click.option("--participant", required=True, metavar="CODE", help="Whose session to correct.")
@click.option("--task", "task_id", required=True, metavar="TASK_ID", help="The task's id.")
@click.option("--outcome", type=click.Choice(["success", "partial", "fail", "abandoned",
                                              "skipped"]), help="The corrected outcome.")
@click.option("--time-s", "time_s", type=click.FloatRange(min=0), metavar="SECONDS",
              help="The corrected time on task, in seconds.")
@click.option("--errors", type=click.IntRange(min=0), help="The corrected number of errors.")
@click.option("--assists", type=click.IntRange(min=0), help="The corrected number of assists.")
@click.option("--seq", "seq", metavar="1-7|declined", help="The corrected SEQ answer.")
@click.option("--reason", required=True, help="Why: kept with the correction (audit trail).")
@click.option("--by", "by", default=None, help="Who corrects (default: your login name).")
def amend(db: Path, participant: str, task_id: str, outcome: str | None, time_s: float | None,
          errors: int | None, assists: int | None, seq: str | None, reason: str,
          by: str | None) -> None:  # fmt: skip
    """Correct a task of a recorded session: outcome, time on task, errors, assists or SEQ.

    The correction is a new event (who, when, why, old and new value); the earlier events stay
    in the log, and every summary, report and export uses the corrected values. Works after
    later tasks and after the session completed.

    \b
    Examples:
      usetest amend results/checkout.db --participant P03 --task find-kettle \\
        --outcome success --reason "pressed f instead of s"
      usetest amend results/checkout.db --participant P03 --task pay --time-s 74.5 \\
        --reason "clock left running during a fire alarm"
    """
    from usetest import recorder, store
    from usetest.events import describe_change

    changes: dict[str, Any] = {}
    if outcome is not None:
        changes["outcome"] = outcome
    if time_s is not None:
        changes["time_ms"] = round(time_s * 1000)
    if errors is not None:
        changes["errors"] = errors
    if assists is not None:
        changes["assists"] = assists
    if seq is not None:
        if seq.strip().lower() == "declined":
            changes["seq"] = None
        elif seq.strip().isdigit():
            changes["seq"] = int(seq)
        else:
            _fail(f"--seq takes 1 to 7 or 'declined', not {seq!r}", EXIT_USAGE)
    if not changes:
        _fail("nothing to correct — give --outcome, --time-s, --errors, --assists or --seq",
              EXIT_USAGE)  # fmt: skip
    who = _who(by)
    handle = _open_existing(db)
    try:  # a refusal (StoreError, SessionError) is a message: the command group maps it
        record = store.find_session(handle, participant)
        event = recorder.reopen(handle, record.id).session.correct(task_id, changes, reason,
                                                                   by=who)  # fmt: skip
    finally:
        handle.close()
    _say(f"{participant} {task_id}: {describe_change(event.payload['changes'])}")
    click.echo(f"corrected in {db} (reason: {reason.strip()})")


def _filter_options(command: Callable[..., None]) -> Callable[..., None]:
    """The session filters every analysis command takes (docs/analysis.md)."""
    options = [
        click.option("--condition", default=None, help="Only sessions of this condition."),
        click.option("--participant", "participants", multiple=True, metavar="CODE",
                     help="Only this participant (repeat for several)."),
        click.option("--since", default=None, metavar="YYYY-MM-DD",
                     help="Only sessions started on or after this day (UTC)."),
        click.option("--until", default=None, metavar="YYYY-MM-DD",
                     help="Only sessions started on or before this day (UTC)."),
        click.option("--include-unfinished", is_flag=True,
                     help="Include sessions not completed (in progress or abandoned)."),
        click.option("--all-attempts", is_flag=True,
                     help="Time on task over all attempts, not only successes."),
        click.option("--profile", "profile", multiple=True, metavar="ID=VALUE",
                     help="Only participants who gave this profile answer (repeat: one of the "
                          "values per question, every question given)."),
        click.option("--by", "by", default=None, metavar="condition|profile.ID",
                     help="Split by condition or by the answer to a profile question, with the "
                          "tests between the groups."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def _filters(condition: str | None, participants: tuple[str, ...], since: str | None,
             until: str | None, include_unfinished: bool, all_attempts: bool,
             profile: tuple[str, ...], by: str | None) -> dict[str, Any]:  # fmt: skip
    """The analysis filters from the command line (``by`` only when given)."""
    answers: dict[str, list[str]] = {}
    for given in profile:
        field_id, sep, value = given.partition("=")
        if not sep or not field_id.strip():
            raise click.BadParameter(f"{given!r} is not ID=VALUE, e.g. --profile experience=novice",
                                     param_hint="--profile")  # fmt: skip
        answers.setdefault(field_id.strip().removeprefix("profile."), []).append(value.strip())
    if by is not None and by != "condition" and not by.startswith("profile."):
        raise click.BadParameter(f"{by!r}: use condition or profile.ID (a profile question's id)",
                                 param_hint="--by")  # fmt: skip
    return {"condition": condition, "participants": list(participants) or None, "since": since,
            "until": until, "include_unfinished": include_unfinished,
            "times": "all" if all_attempts else "success", "profile": answers or None,
            **({"by": by} if by else {})}  # fmt: skip


@cli.command()
@click.argument("db", type=click.Path(path_type=Path))
@_filter_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@_runs_to_its_end
def summary(db: Path, fmt: str, **options: Any) -> None:
    """Print the study summary: completion, time on task, errors, SEQ, SUS, problems.

    \b
    Examples:
      usetest summary results/checkout.db
      usetest summary results/checkout.db --since 2026-11-01 --participant P03
      usetest summary results/checkout.db --by condition --format json > summary.json
      usetest summary results/checkout.db --by profile.experience
      usetest summary results/checkout.db --profile age=18-29 --profile age=30-39
    """
    import json

    from usetest.analysis import compare, summarise

    filters = _filters(**options)  # an AnalysisError is a message (the group maps it)
    by = filters.pop("by", None)
    result: Any = compare(db, by=by, **filters) if by else summarise(db, **filters)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif fmt == "csv":
        import pandas as pd

        if by:
            frames = [s.tasks.assign(**{by: c}) for c, s in result.summaries.items()]
            click.echo(pd.concat(frames).to_csv(index=False), nl=False)
        else:
            click.echo(result.tasks.to_csv(index=False), nl=False)
    elif by:
        for c, s in result.summaries.items():
            _print_summary(s, c if by == "condition" else f"{by.removeprefix('profile.')}: {c}")
        _print_comparisons(result)
    else:
        _print_summary(result, None)


def _print_grid(grid: Any, title: str = "", notes: bool = True) -> None:
    """A table of :mod:`usetest.present` in the terminal: its 80-column layout (the columns
    marked narrow, each interval under its value), text shown as typed (no markup)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from usetest.plain import escaped

    narrow = grid.narrow()
    table = Table(title=Text(escaped(title)) if title else None, title_justify="left",
                  box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True,
                  show_edge=False)  # fmt: skip
    for i, column in enumerate(narrow.columns):
        table.add_column(Text(column.short or column.title),
                         justify="right" if column.numeric else "left",
                         no_wrap=column.numeric or i == 0)  # fmt: skip
    for row in narrow.rows:
        table.add_row(*(Text(escaped(cell.stacked())) for cell in row))
    console = Console()
    console.print(table)
    for note in narrow.notes if notes else []:
        console.print(escaped(note), markup=False, highlight=False)


def _say_plain(text: str) -> None:
    """A line of results, escaped and without markup."""
    from rich.console import Console

    from usetest.plain import escaped

    Console().print(escaped(text), markup=False, highlight=False)


def _print_comparisons(result: Any) -> None:
    from usetest import present

    pairs = result.tasks.to_dict(orient="records")
    grid = present.comparison_grid(result)
    for a, b in dict.fromkeys((r["a"], r["b"]) for r in pairs):
        keep = [i for i, r in enumerate(pairs) if (r["a"], r["b"]) == (a, b)]
        _print_grid(present.Grid(grid.columns, [grid.rows[i] for i in keep]),
                    f"Compared: {a} (a) vs {b} (b)")  # fmt: skip
    for line in present.comparison_sus_lines(result):
        _say_plain(line)


def _print_summary(s: object, group: str | None) -> None:
    from usetest import present
    from usetest.analysis import Summary

    assert isinstance(s, Summary)
    title = f"{s.study} — {len(s.sessions)} participants" + (f" — {group}" if group else "")
    _print_grid(present.task_grid(s), title)
    after = present.task_after_grid(s)
    if after is not None:
        _print_grid(after, "Asked after tasks")
    if line := present.versions_line(s):
        _say_plain(line)
    for label, text in present.satisfaction_facts(s):
        _say_plain(f"{label}: {text}")
    custom = present.custom_grid(s)
    if custom is not None:
        _print_grid(custom, "The study's own questions")
    if k := sum(len(q["answers"]) for q in s.free_text):
        _say_plain(f"Free text: {k} answer{'' if k == 1 else 's'} to {len(s.free_text)} "
                   "question(s) — usetest report lists them")  # fmt: skip
    targets = present.target_grid(s)
    if targets.rows:
        _print_grid(targets, "Targets")
    for p in s.problems.to_dict(orient="records"):
        _say_plain(f"problem: {p['problem']} — {p['participants']}/{p['tested']} participants, "
                   f"worst severity {present.num(p['worst_severity'], 0)}")  # fmt: skip


@cli.command()
@click.argument("dbs", nargs=-1, required=True, type=click.Path(path_type=Path),
                metavar="DB [DB …]")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "xlsx", "parquet", "vtt", "srt"]),
              default="csv", show_default=True,
              help="vtt, srt: recording markers, one subtitle file per session (docs/recording.md).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for the files (created if needed).")
@click.option("--pseudonymise", is_flag=True,
              help="Hash participant codes (salted) and drop free text.")
@click.option("--salt", default=None, help="Salt for the hashes (default: random, not stored).")
@click.option("--raw-formulas", is_flag=True,
              help="CSV/xlsx: write text beginning with = + - @ tab or CR as it is (by default "
                   "it is prefixed with ' so a spreadsheet does not run it as a formula).")
@click.option("--profile", "profile", multiple=True, metavar="ID=VALUE",
              help="The summary tables only over participants who gave this profile answer "
                   "(repeatable); the database tables are exported whole.")
@click.option("--recording-start", default=None, metavar="HH:MM:SS",
              help="vtt/srt: when the recording started (local time on the session's day), if "
                   "the recording-started key (r) was not pressed; one session at a time.")
@click.option("--participant", "participants", multiple=True, metavar="CODE",
              help="vtt/srt: only this participant's session (repeatable).")
@click.option("--dataset", is_flag=True,
              help="parquet: write the databases (one study each) into one dataset "
                   "partitioned by study (TABLE/study=SLUG/part-0.parquet); implied by several "
                   "DBs; studies already in --out stay.")
@_runs_to_its_end
def export(dbs: tuple[Path, ...], fmt: str, out_dir: Path, pseudonymise: bool,
           salt: str | None, raw_formulas: bool, profile: tuple[str, ...],
           recording_start: str | None, participants: tuple[str, ...], dataset: bool) -> None:  # fmt: skip
    """Export every table and the summary tables, one file per table (a sheet each in xlsx).

    The files appear together when all are written (metadata.json last); an export that fails
    or is interrupted leaves the folder as it was. A symbolic link in the folder is refused.

    --format vtt or srt writes recording markers instead: one subtitle file per session, each
    event a cue at its offset from the start of the screen recording (the moderator's r key,
    or --recording-start); see docs/recording.md.

    \b
    Examples:
      usetest export results/checkout.db --format xlsx --out exports/
      usetest export results/checkout.db --format parquet --out exports/ --pseudonymise
      usetest export results/checkout.db --format vtt --out markers/
      usetest export results/checkout.db --format srt --out markers/ --participant P03 \\
        --recording-start 14:02:10
      usetest export results/a.db results/b.db --format parquet --out lab/   # one dataset
    """
    if str(out_dir) == "-":  # several files (and metadata.json last) need a folder
        raise click.BadParameter(
            "'-' (standard output) cannot take an export: it writes one file per table (one per "
            "session for vtt/srt), so give a folder, e.g. --out exports/. For the task table on "
            "standard output: usetest summary DB --format csv", param_hint="--out")  # fmt: skip
    several = len(dbs) > 1 or dataset
    if several and fmt != "parquet":
        raise click.BadParameter("several databases make one Parquet dataset: add --format "
                                 "parquet (or export each database on its own)",
                                 param_hint="--format")  # fmt: skip
    if several and (raw_formulas or recording_start or participants):
        raise click.BadParameter("--raw-formulas, --recording-start and --participant are for a "
                                 "single database", param_hint="DB")  # fmt: skip
    interrupted = f"export interrupted before it began: nothing in {out_dir} was changed"
    answers = _filters(None, (), None, None, False, False, profile, None)["profile"]
    try:  # importing pandas takes a moment: ctrl-C then is a message too, not "Aborted!"
        from usetest.analysis import AnalysisError
        from usetest.export import ExportError, ExportInterrupted
        from usetest.export import export as do_export
    except KeyboardInterrupt:
        _fail(interrupted, 130)
    try:
        with click.progressbar(length=1, label="exporting", file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            if several:
                from usetest.export import export_studies

                files = export_studies(list(dbs), out_dir, pseudonymise=pseudonymise, salt=salt,
                                       profile=answers, progress=progress)  # fmt: skip
            else:
                files = do_export(dbs[0], out_dir, fmt, pseudonymise=pseudonymise, salt=salt,
                                  progress=progress, raw_formulas=raw_formulas,
                                  profile=answers, recording_start=recording_start,
                                  participants=participants)  # fmt: skip
    except ExportInterrupted as exc:
        _fail(str(exc), 130)  # the shell's code for ctrl-C
    except KeyboardInterrupt:
        _fail(interrupted, 130)
    except (AnalysisError, ExportError) as exc:
        _fail(str(exc))
    for path in files:
        click.echo(str(path))


@cli.command()
@click.argument("db", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out", type=click.Path(path_type=Path), default=None,
              help="The report file (default: DB-STEM-report.html or .md next to DB); "
                   "- for standard output.")
@click.option("--format", "fmt", type=click.Choice(["html", "md"]), default="html",
              show_default=True, help="html: one self-contained page; md: Markdown + SVG figures.")
@click.option("--cif", is_flag=True, help="Lay the report out after ISO/IEC 25062 (Common Industry Format).")
@click.option("--no-charts", is_flag=True, help="Tables only (no matplotlib needed).")
@_filter_options
@_runs_to_its_end
def report(db: Path, out: Path | None, fmt: str, cif: bool, no_charts: bool, **options: Any) -> None:
    """Write the usability report: study, per-task results, charts, SUS, problems, quotes.

    \b
    Examples:
      usetest report results/checkout.db -o checkout-report.html
      usetest report results/checkout.db --cif -o checkout-cif.html
      usetest report results/checkout.db --format md -o report/checkout.md
      usetest report results/checkout.db -o - | less     # to standard output
    """
    from usetest.report import write_report

    target = out or db.with_name(f"{db.stem}-report.{fmt}")
    if str(target) == "-" and fmt == "md" and not no_charts:
        click.echo("usetest: -o - writes the Markdown text only; its figures need files "
                   "(-o FILE.md)", err=True)  # fmt: skip
    written = write_report(db, target, fmt=fmt, cif=cif, charts=not no_charts,
                           **_filters(**options))  # fmt: skip
    for path in written:
        click.echo(f"wrote {path}")


@cli.command()
@click.argument("db", type=click.Path(path_type=Path))
@click.option("--observer", required=True, metavar="INITIALS",
              help="Your initials: every note you send carries them.")
@click.option("--participant", default=None, metavar="CODE",
              help="Follow this participant's session (default: the newest in progress).")
def observe(db: Path, observer: str, participant: str | None) -> None:
    """Follow the live session from a second terminal and send notes to the moderator.

    Shows the participant, the task, its clock and the timeline as they are recorded; `n`
    adds an observation, quote or problem (the moderator's keys), which the moderator's app
    logs into the session with your initials within a second. Nothing else can be changed
    from here. Several observers may follow one database; it can run over SSH on the
    moderator's machine. With no session in progress it waits for the next one.

    \b
    Example:
      usetest observe results/checkout.db --observer KL
    """
    from usetest.plain import check_code

    try:
        observer = check_code(observer, "observer initials")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--observer") from None
    from usetest.tui.observe import ObserverApp

    _open_existing(db).close()  # a wrong path or a damaged file is a message, not a screen
    _need_terminal("observe", "run it in a terminal window (over SSH: ssh -t HOST usetest "
                   "observe …)")  # fmt: skip
    ObserverApp(db, observer, participant).run()


@cli.command()
@click.argument("db", type=click.Path(path_type=Path))
@_filter_options
def results(db: Path, **options: Any) -> None:
    """Open the results view: summary tables and terminal charts (r reloads, q quits).

    \b
    Examples:
      usetest results results/checkout.db
      usetest results results/checkout.db --condition redesign
    """
    from usetest.analysis import connect

    connect(db).close()  # a wrong path is a message here (the group maps it), not a broken screen
    _need_terminal("results", "run it in a terminal window, or print the tables with  usetest "
                   "summary DB  (--format json|csv for scripts)")  # fmt: skip
    from usetest.tui.screens.results import ResultsApp

    ResultsApp(db, **_filters(**options)).run()


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("db", type=click.Path(path_type=Path))
@click.option("--print-metadata", is_flag=True,
              help="Write usetest's Datasette metadata (JSON) to standard output and stop.")
@click.argument("options", nargs=-1, type=click.UNPROCESSED)
def datasette(db: Path, print_metadata: bool, options: tuple[str, ...]) -> None:
    """Explore the database in Datasette, with usetest's descriptions and canned queries.

    Starts Datasette (pip install 'usetest[datasette]') on DB with metadata: what every table
    and column holds and its unit, participant codes and task titles instead of bare ids, and
    the queries completion_by_task, sus_by_participant, time_by_task, problems and
    participant_log. Everything after DB goes to Datasette as it is (its --port, --host,
    --get, --setting …). A database in a read-only folder is opened immutable; one from an
    older usetest is shown as an up-to-date copy (the file is not changed).

    \b
    Examples:
      usetest datasette results/checkout.db
      usetest datasette results/checkout.db --port 8002
      usetest datasette results/checkout.db --get /checkout/completion_by_task.json
    """
    import json

    from usetest import explore

    if "--print-metadata" in options:  # everything after DB is Datasette's, except this
        print_metadata, options = True, tuple(o for o in options if o != "--print-metadata")
    if print_metadata:
        with explore.served(db) as target:
            click.echo(json.dumps(explore.metadata(target.name, target.study), indent=2,
                                  ensure_ascii=False))  # fmt: skip
        return
    code = explore.run(db, options, say=lambda line: _say(line, err=True))
    sys.exit(code)


@cli.command()
@click.argument("db", type=click.Path(path_type=Path))
@click.option("--participant", default=None, metavar="CODE",
              help="Follow this participant's session (default: the newest in progress).")
@click.option("--prompt", "prompt_when", type=click.Choice(["started", "current"]),
              default="started", show_default=True,
              help="When a task's prompt appears: once you start its clock (started), or as "
                   "soon as it is the next task, to be read before the clock starts (current).")
def show(db: Path, participant: str | None, prompt_when: str) -> None:
    """The participant's screen: run it in a terminal on the participant's display.

    Shows only what the participant may see, following your session live: "Please wait"
    between tasks, the task's title and prompt once you start its clock, each questionnaire
    item with its scale while you record it, "Thank you" at the end. Never the success
    criterion, your notes, the clock or any notice. It reads the database only (your keys are
    no slower), survives your app restarting (--resume) and follows the next participant's
    session when it starts. ctrl+q closes it.

    \b
    Example:
      usetest show results/checkout.db
      usetest show results/checkout.db --participant P07 --prompt current
    """
    from usetest.plain import check_code

    if participant is not None:
        try:
            participant = check_code(participant, "participant code")
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--participant") from None
    from usetest.tui.show import Follower, ShowApp

    follower = Follower(db, participant)  # a wrong path or a damaged file: a message (the group)
    _need_terminal("show", "run it in a terminal window on the participant's display",
                   follower.close)  # fmt: skip
    problem = ShowApp(follower, "current" if prompt_when == "current" else "started").run()
    if problem:
        _fail(problem)


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", "target", type=click.Path(path_type=Path), required=True,
              help="The merged database (created if missing; merging into it again is safe).")
def merge(sources: tuple[Path, ...], target: Path) -> None:
    """Merge databases from several lab machines that ran the same study.

    The databases may hold different versions of the study (the scenario edited between
    sessions); databases of another study are refused, and nothing is written.

    \b
    Example:
      usetest merge lab1/checkout.db lab2/checkout.db -o results/checkout-all.db
    """
    from usetest.merge import merge as do_merge

    if str(target) == "-":  # SQLite writes a file it can reopen, never a stream
        raise click.BadParameter(
            "'-' (standard output) cannot take a database: give the merged database's file, "
            "e.g. -o results/checkout-all.db", param_hint="-o/--out")  # fmt: skip
    result = do_merge(list(sources), target)
    withdrawn = (f"; {result.withdrawn} left out or erased: the participant withdrew"
                 if result.withdrawn else "")  # fmt: skip
    versions = f"; the study has {result.versions} versions" if result.versions > 1 else ""
    click.echo(f"{result.added} session(s) added to {target}; "
               f"{result.already_there} already there{withdrawn}{versions}")  # fmt: skip


def _print_plan(loaded: object, db_path: Path, participant: str | None,
                condition: str | None) -> None:  # fmt: skip
    from usetest import store
    from usetest.plain import escaped
    from usetest.recorder import plan_order
    from usetest.scenario import LoadedScenario

    assert isinstance(loaded, LoadedScenario)
    sc = loaded.scenario
    if sc.conditions and condition is None:
        condition = sc.conditions[0]
    from usetest.versions import new_version_notice

    # read only: a plan writes nothing, and leaves a missing database missing
    db = None
    try:
        db = store.peek(db_path)
        if db is not None:
            store.check_study(db, loaded, db_path)
        code = participant or (store.next_participant_code(db) if db is not None else "P01")
        order = plan_order(db, loaded, code, condition)
        notice = new_version_notice(db, loaded)
    except store.StoreError as exc:
        _fail(str(exc))
    finally:
        if db is not None:
            db.close()
    # scenario text reaches the terminal escaped: an ESC in a title must not act on it
    click.echo(escaped(f"{sc.study} ({len(sc.tasks)} tasks, order {sc.task_order}); "
                       f"database {db_path}", one_line=True))  # fmt: skip
    if notice:
        click.echo(escaped(notice, one_line=True))
    where = f" in condition {condition}" if condition else ""
    click.echo(escaped(f"participant {code}{where} would get:", one_line=True))
    for i, task_id in enumerate(order, start=1):
        task = sc.task(task_id)
        limit = f" [{task.time_limit}s]" if task.time_limit else ""
        after = f", then {', '.join(task.after)}" if task.after else ""  # validated ids
        click.echo(f"  {i}. {escaped(task.title, one_line=True)}{limit}{after}")
    names = [q if isinstance(q, str) else q.id for q in sc.questionnaires
             if isinstance(q, str) or q.at_end]  # fmt: skip
    if names:
        click.echo(f"then: {', '.join(names)}")


# --- usetest plan (docs/planning.md) ---------------------------------------------------------

_PLAN_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]),
                            default="table", show_default=True)  # fmt: skip
_CONFIDENCE = click.option("--confidence", type=click.FloatRange(0, 1, min_open=True,
                           max_open=True), default=0.95, show_default=True,
                           help="Confidence level, 0–1.")  # fmt: skip
_METRIC = click.option("--metric", type=click.Choice(["completion", "rating", "time"]),
                       required=True, help="completion rate, mean rating, or mean time.")  # fmt: skip


def _show_plan(result: Any, fmt: str) -> None:
    if fmt == "json":
        import json

        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        for line in result.table():
            _say(line)


@cli.group()
def plan() -> None:
    """Plan a study: participants for a margin of error, to discover problems, to compare.

    Every answer names its formula and source (Sauro & Lewis 2016; docs/planning.md).

    \b
    Examples:
      usetest plan margin --metric completion --margin 0.1
      usetest plan discovery --p 0.31 --goal 0.85
      usetest plan discovery --from results/checkout.db --goal 0.9
      usetest plan compare --metric completion --p1 0.7 --p2 0.9
    """


@plan.command("margin")
@_METRIC
@click.option("--margin", "margin_", type=float, required=True, metavar="D",
              help="Half-width of the interval: a share for completion (0.1 = ±10 points), "
                   "the rating's or seconds' units otherwise.")
@click.option("--p", "p", type=float, default=None,
              help="Expected completion rate, 0–1 (default 0.5, the most participants).")
@click.option("--sd", type=float, default=None,
              help="Expected standard deviation (rating or time), in the margin's units.")
@_CONFIDENCE
@_PLAN_FORMAT
def plan_margin(metric: str, margin_: float, p: float | None, sd: float | None,
                confidence: float, fmt: str) -> None:  # fmt: skip
    """Participants for a confidence interval of ± D around a completion rate or a mean.

    Completion: adjusted-Wald, n = z²p(1−p)/d² − z². Rating or time: t, iterated.

    \b
    Examples:
      usetest plan margin --metric completion --margin 0.1
      usetest plan margin --metric completion --margin 0.15 --p 0.8 --confidence 0.9
      usetest plan margin --metric rating --sd 1.2 --margin 0.5 --format json
    """
    from usetest import plan as planning

    _show_plan(planning.margin(metric, margin_, p=p, sd=sd, confidence=confidence), fmt)


@plan.command("discovery")
@click.option("--p", "p", type=float, default=None,
              help="Share of users who meet the problem, 0–1 (e.g. 0.31).")
@click.option("--from", "db", type=click.Path(path_type=Path), default=None, metavar="DB",
              help="Estimate p from this study's problems (small-sample adjusted).")
@click.option("--goal", type=float, required=True, metavar="G",
              help="Probability of seeing each such problem at least once, 0–1 (e.g. 0.85).")
@_filter_options
@_PLAN_FORMAT
def plan_discovery(p: float | None, db: Path | None, goal: float, fmt: str,
                   **options: Any) -> None:  # fmt: skip
    """Participants to see each problem of probability p at least once with probability G.

    With --from DB, p is estimated from the study's own problems (notes of kind problem,
    grouped by wording) with the small-sample adjustment of Lewis (2001), and the answer says
    how much has been found so far and how many more participants reach G. The session
    filters (--condition, --since …) choose the sessions, as in usetest summary.

    \b
    Examples:
      usetest plan discovery --p 0.31 --goal 0.85
      usetest plan discovery --from results/checkout.db --goal 0.9
    """
    from usetest import plan as planning

    if p is not None and db is not None:
        _fail("give --p P or --from DB, not both: --p states the problem's probability, "
              "--from estimates it from the study", EXIT_USAGE)  # fmt: skip
    if p is None and db is None:
        _fail("give --p P (the share of users who meet the problem, e.g. --p 0.31) or --from DB "
              "(estimate it from a study's problems)", EXIT_USAGE)  # fmt: skip
    if p is not None:
        if any(options.values()):
            _fail("the session filters go with --from DB, not with --p", EXIT_USAGE)
        result = planning.discovery(p, goal)
    else:
        assert db is not None
        filters = _filters(**options)
        filters.pop("times", None)  # time on task plays no part in problem discovery
        result = planning.discovery_from_db(db, goal, **filters)
    _show_plan(result, fmt)


@plan.command("compare")
@_METRIC
@click.option("--p1", type=float, default=None, help="Expected completion rate, condition 1.")
@click.option("--p2", type=float, default=None, help="Expected completion rate, condition 2.")
@click.option("--sd", type=float, default=None,
              help="Expected standard deviation (rating or time).")
@click.option("--difference", type=float, default=None, metavar="D",
              help="Smallest difference of means worth detecting, in the SD's units.")
@click.option("--power", type=float, default=0.8, show_default=True,
              help="Chance to detect the difference if it is real, 0–1.")
@_CONFIDENCE
@_PLAN_FORMAT
def plan_compare(metric: str, p1: float | None, p2: float | None, sd: float | None,
                 difference: float | None, power: float, confidence: float, fmt: str) -> None:  # fmt: skip
    """Participants per condition to detect a difference between two conditions.

    Between subjects, two-sided test: completion rates (N−1 two-proportion test) or means
    (t, iterated).

    \b
    Examples:
      usetest plan compare --metric completion --p1 0.7 --p2 0.9
      usetest plan compare --metric rating --sd 1.2 --difference 0.5 --power 0.9
      usetest plan compare --metric time --sd 40 --difference 20 --format json
    """
    from usetest import plan as planning

    _show_plan(planning.compare(metric, p1=p1, p2=p2, sd=sd, difference=difference,
                                power=power, confidence=confidence), fmt)  # fmt: skip


ARROW_POOL = "system"
"""The memory pool Arrow (pyarrow, and pandas' text columns) allocates from in a usetest command,
unless ARROW_DEFAULT_MEMORY_POOL says otherwise: the C library's, which gives freed memory back.
Arrow's default (mimalloc) keeps it: a 1M-attempt summary then peaked at 519 MB and took
5.3-6.7 s, against 457 MB and 4.9 s with this one (docs/performance.md)."""


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", ARROW_POOL)  # before Arrow is loaded
    cli()
