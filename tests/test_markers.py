"""Recording markers (`usetest export --format vtt|srt`): files read back with real parsers
(webvtt-py, srt; ffprobe when installed) and checked against the events in the database."""

from __future__ import annotations

import html
import os
import re
import shutil
import stat
import subprocess
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
import srt
import webvtt
from click.testing import CliRunner

from tests.conftest import STUDY_YAML
from usetest import markers, recorder, store
from usetest.cli import cli
from usetest.clock import FakeClock, parse_utc
from usetest.events import Event, SessionError
from usetest.export import export
from usetest.scenario import parse_scenario
from usetest.store import open_db

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # FakeClock's start
HOSTILE = "went --> <script>alert(1)</script> & <b>back</b>\nsecond line\r\n{\\an8}top"


@pytest.fixture(autouse=True)
def local_zone():
    """The files show local times: pin the zone (UTC unless a test asks for Berlin)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture
def berlin(local_zone):
    """Local time is Europe/Berlin (UTC+1 in January): --recording-start is local time."""
    os.environ["TZ"] = "Europe/Berlin"
    time.tzset()


def recorded(db_path: Path, code: str = "P01", *, mark: bool = True, clock: FakeClock | None = None):
    """A session: set-up, 20 s, [r], 5 s, task one (an error stamped at its key, 4 s before its
    dialog closed; a hostile quote), r again, end success, SEQ 5. Returns the session."""
    clock = clock or FakeClock()
    db = open_db(db_path)
    loaded = parse_scenario(STUDY_YAML, "fixture.yaml")
    rec = recorder.start(db, loaded, code, "AB", clock=clock, consent="in the app")
    s = rec.session
    clock.advance(20)
    if mark:
        s.log_recording_start()  # 20.0 s after the session started
    clock.advance(5)
    s.start()  # 25.0
    clock.advance(3.5)
    pressed = s.now()  # 28.5: the error key
    clock.advance(4)  # the dialog is filled in meanwhile
    s.log_error("n", HOSTILE, at=pressed)
    s.log_note(HOSTILE, "quote")  # 32.5
    clock.advance(2)
    if mark:
        s.log_recording_start()  # 34.5: pressed again, kept as a cue
    clock.advance(10)
    s.end("success")  # 44.5
    s.answer("seq", "seq", 5, "one")
    db.close()
    return s


def vtt_cues(path: Path) -> list[tuple[float, float, str]]:
    """(start s, end s, text with WebVTT's character references decoded)."""
    return [(c.start_in_seconds + int(c.start.rsplit(".", 1)[1]) / 1000,
             c.end_in_seconds + int(c.end.rsplit(".", 1)[1]) / 1000, html.unescape(c.text))
            for c in webvtt.read(str(path))]  # fmt: skip


def offsets(events: list[Event], zero: datetime) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for e in events:
        out.setdefault(e.kind, []).append((parse_utc(e.at) - zero).total_seconds())
    return out


def run_export(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["export", *args])
    return result.exit_code, result.stdout, result.stderr


# ---------------------------------------------------------------------------------------------
# The engine: the key is an event like the others.


def test_the_recording_start_is_an_event_with_the_key_time_and_undo_takes_it_back(db_path):
    clock = FakeClock()
    db = open_db(db_path)
    loaded = parse_scenario(STUDY_YAML, "fixture.yaml")
    s = recorder.start(db, loaded, "P01", clock=clock).session
    s.start()
    pressed = s.now()
    clock.advance(3)
    event = s.log_recording_start(at=pressed)
    assert (event.kind, event.task_id, event.at) == ("recording_started", "one", "2026-01-05T09:00:00.000Z")
    assert s.last_undoable() == event
    undo = s.undo()
    assert undo.payload["target_kind"] == "recording_started"
    assert markers.recording_marks(list(s.events)) == []
    s.end("success")
    s.end("skipped", "two")
    s.end("skipped", "three")
    s.complete()
    with pytest.raises(SessionError, match="completed"):
        s.log_recording_start()
    stored = store.load_events(db, 1)
    assert [e.kind for e in stored].count("recording_started") == 1
    db.close()


# ---------------------------------------------------------------------------------------------
# WebVTT and SRT, read back.


def test_vtt_cues_count_from_the_key_and_use_the_key_time_stamps(db_path, tmp_path):
    s = recorded(db_path)
    [path] = export(db_path, tmp_path / "out", "vtt")
    assert path.name == "P01.vtt"
    zero = T0 + timedelta(seconds=20)
    at = offsets(list(s.events), zero)
    cues = vtt_cues(path)
    starts = {text.split("\n")[0]: (start, end) for start, end, text in cues}
    assert starts["recording started (time zero of this file)"] == (0.0, 4.0)
    assert starts["one: task started — First task"] == (at["task_started"][0], 8.5) == (5.0, 8.5)
    # the error is at its key (8.5 s), not at its dialog's Enter (12.5 s)
    error = next(c for c in cues if c[2].startswith("one: error: navigation"))
    assert error[:2] == (at["error_logged"][0], 12.5) == (8.5, 12.5)
    quote = next(c for c in cues if c[2].startswith("one: quote: "))
    assert quote[:2] == (12.5, 14.5)  # until the next cue (2 s later)
    again = next(c for c in cues if "recording started again" in c[2])
    assert again[0] == at["recording_started"][1] == 14.5
    end = next(c for c in cues if c[2].startswith("one: task ended: success"))
    assert end[:2] == (24.5, 28.5)  # capped at 4 s; the SEQ (same instant) shares the cue
    assert end[2].split("\n") == ["one: task ended: success", "one: SEQ = 5"]
    assert [c[0] for c in cues] == sorted(c[0] for c in cues)
    header = webvtt.read(str(path)).header_comments[0]
    assert "participant P01" in header
    assert "from the moderator's recording-started key (r)" in header
    assert "2 events before 00:00:00.000 left out" in header  # session started, consent
    assert "09:00:20.000" in header and "09:00:34.500" in header


def test_srt_has_the_same_cues_after_a_header_cue(db_path, tmp_path):
    recorded(db_path)
    [vtt_path] = export(db_path, tmp_path / "vtt", "vtt")
    [path] = export(db_path, tmp_path / "srt", "srt")
    assert path.name == "P01.srt"
    subs = list(srt.parse(path.read_text(encoding="utf-8")))
    assert subs[0].start == timedelta(0) and "usetest recording markers: participant P01" in subs[0].content
    assert "from the moderator's recording-started key (r)" in subs[0].content
    vtt = vtt_cues(vtt_path)
    assert [(s.start.total_seconds(), s.end.total_seconds()) for s in subs[1:]] == [c[:2] for c in vtt]
    assert [s.index for s in subs] == list(range(1, len(vtt) + 2))


def test_hostile_text_stays_inside_its_cue(db_path, tmp_path):
    recorded(db_path)
    [vtt_path] = export(db_path, tmp_path / "vtt", "vtt")
    [srt_path] = export(db_path, tmp_path / "srt", "srt")
    raw = vtt_path.read_text(encoding="utf-8")
    assert "<script>" not in raw and "&lt;script&gt;" in raw
    assert raw.count("-->") == len(webvtt.read(str(vtt_path)).captions)  # timing lines only
    one_line = "went --> <script>alert(1)</script> & <b>back</b> ↵ second line ↵ {\\an8}top"
    cues = vtt_cues(vtt_path)
    assert ("one: error: navigation — " + one_line) in [c[2] for c in cues]
    assert ("one: quote: " + one_line) in [c[2] for c in cues]
    subs = list(srt.parse(srt_path.read_text(encoding="utf-8")))
    assert len(subs) == len(cues) + 1
    quote = next(s.content for s in subs if s.content.startswith("one: quote: "))
    # no tag, no "-->", no {\an8} position override reaches an SRT player
    assert quote == ("one: quote: went --› ‹script›alert(1)‹/script› & ‹b›back‹/b› ↵ second "
                     "line ↵ ⦃\\an8⦄top")  # fmt: skip


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is not installed")
def test_ffprobe_reads_the_same_cue_times(db_path, tmp_path):
    recorded(db_path)
    for fmt in ("vtt", "srt"):
        [path] = export(db_path, tmp_path / fmt, fmt)
        out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=pts_time",
                              "-of", "csv=p=0", str(path)], capture_output=True, text=True,
                             check=True).stdout  # fmt: skip
        starts = [float(line) for line in out.split()]
        expected = [0.0, 5.0, 8.5, 12.5, 14.5, 24.5]
        assert starts == ([0.0, *expected] if fmt == "srt" else expected)


def test_recording_start_given_on_the_command_line_is_local_time(db_path, tmp_path, berlin):
    recorded(db_path, mark=False)
    recorded(db_path, "P02", mark=False, clock=FakeClock(start_utc=T0 + timedelta(hours=2)))
    out = tmp_path / "out"
    code, _, err = run_export(str(db_path), "--format", "vtt", "--out", str(out),
                              "--recording-start", "10:00:10")  # fmt: skip
    assert code == 1 and "holds 2 sessions: add --participant CODE" in err
    code, stdout, err = run_export(str(db_path), "--format", "vtt", "--out", str(out),
                                   "--recording-start", "10:00:10", "--participant", "P01")
    assert code == 0, err
    assert stdout.strip().endswith("P01.vtt") and not (out / "P02.vtt").exists()
    cues = vtt_cues(out / "P01.vtt")
    # 10:00:10 in Berlin is 09:00:10 UTC: the task started at 09:00:25 UTC
    assert next(c for c in cues if "task started" in c[2])[0] == 15.0
    header = webvtt.read(str(out / "P01.vtt")).header_comments[0]
    assert "00:00:00.000 = 2026-01-05 10:00:10.000 +0100 local time (2026-01-05 09:00:10.000 UTC), from --recording-start" in header
    assert "2 events before 00:00:00.000 left out" in header
    code, _, err = run_export(str(db_path), "--format", "srt", "--out", str(out),
                              "--recording-start", "25:00", "--participant", "P01")  # fmt: skip
    assert code == 1 and "--recording-start: '25:00' is not a time of day" in err
    code, _, err = run_export(str(db_path), "--format", "csv", "--out", str(tmp_path / "csv"),
                              "--recording-start", "10:00")  # fmt: skip
    assert code == 1 and "--recording-start is for recording markers" in err
    code, _, err = run_export(str(db_path), "--format", "vtt", "--out", str(out),
                              "--participant", "P09")  # fmt: skip
    assert code == 1 and "no session of P09" in err and "participants: P01, P02" in err


def test_the_option_wins_over_the_key(db_path, tmp_path):
    recorded(db_path)
    [path] = export(db_path, tmp_path, "vtt", recording_start="09:00:00")
    header = webvtt.read(str(path)).header_comments[0]
    assert "from --recording-start" in header
    assert "recording-started keys at" in header  # says where the keys were, to choose another


def test_without_key_or_option_the_session_start_is_zero_and_the_header_says_so(db_path, tmp_path):
    recorded(db_path, mark=False)
    [path] = export(db_path, tmp_path, "vtt")
    header = webvtt.read(str(path)).header_comments[0]
    assert "from the session's start: no recording-started key was pressed" in header
    assert "left out" not in header
    cues = vtt_cues(path)
    assert cues[0][0] == 0.0 and cues[0][2].split("\n")[:2] == ["session started",
                                                                "consent recorded (in the app)"]
    assert next(c for c in cues if "task started" in c[2])[0] == 25.0


def test_undoing_the_first_key_makes_the_second_time_zero(db_path, tmp_path):
    clock = FakeClock()
    db = open_db(db_path)
    s = recorder.start(db, parse_scenario(STUDY_YAML, "f.yaml"), "P01", clock=clock).session
    s.log_recording_start()
    s.undo()  # pressed by mistake
    clock.advance(30)
    s.log_recording_start()
    clock.advance(2)
    s.start()
    db.close()
    cues = vtt_cues(export(db_path, tmp_path, "vtt")[0])
    assert [(c[0], c[2]) for c in cues] == [(0.0, "recording started (time zero of this file)"),
                                            (2.0, "one: task started — First task")]


def test_a_correction_is_shown_at_the_end_it_corrects(db_path, tmp_path):
    clock = FakeClock()
    db = open_db(db_path)
    s = recorder.start(db, parse_scenario(STUDY_YAML, "f.yaml"), "P01", clock=clock).session
    s.start()
    clock.advance(10)
    s.end("fail")
    clock.advance(3600)
    s.correct("one", {"outcome": "success"}, "misread the cart", by="AB")
    db.close()
    cues = vtt_cues(export(db_path, tmp_path, "vtt")[0])
    assert cues[-1][0] == 10.0
    assert cues[-1][2].split("\n") == [
        "one: task ended: fail",
        "one: corrected on 2026-01-05 10:00: outcome fail → success — misread the cart (AB)",
    ]


def test_pseudonymised_markers_carry_no_free_text_and_a_hashed_name(db_path, tmp_path):
    recorded(db_path)
    files = export(db_path, tmp_path / "v", "vtt", pseudonymise=True, salt="pepper")
    files += export(db_path, tmp_path / "s", "srt", pseudonymise=True, salt="pepper")
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert path.stem.startswith("p-") and path.stem == files[0].stem
        assert "P01" not in text and "script" not in text and "went" not in text
        assert "one: quote\n" in text and "one: error: navigation\n" in text
        assert f"participant {path.stem}" in text
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_file_names_from_codes_are_safe_and_distinct():
    assert markers.file_stem("P01") == "P01"
    odd = markers.file_stem("../P 01/-->")
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", odd) and odd.startswith("_P_01_")
    assert markers.file_stem("P/1") != markers.file_stem("P_1")
    assert markers.file_stem("..") and not markers.file_stem("..").startswith(".")


def test_codes_that_share_a_name_get_their_session_id(db_path, tmp_path):
    clock = FakeClock()
    db = open_db(db_path)
    loaded = parse_scenario(STUDY_YAML, "f.yaml")
    recorder.start(db, loaded, "p01", clock=clock)
    recorder.start(db, loaded, "P01", clock=clock)  # one file on a case-insensitive disk
    db.close()
    names = sorted(p.name for p in export(db_path, tmp_path, "srt"))
    assert names == ["P01-session2.srt", "p01.srt"]


def test_a_link_planted_where_a_marker_file_goes_is_refused(db_path, tmp_path):
    recorded(db_path)
    loot = tmp_path / "loot.txt"
    loot.write_text("mine\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "P01.vtt").symlink_to(loot)
    code, _, err = run_export(str(db_path), "--format", "vtt", "--out", str(out))
    assert code == 1 and "is a symbolic link" in err and "Traceback" not in err
    assert loot.read_text() == "mine\n"


# ---------------------------------------------------------------------------------------------
# The rules, without a database.


def event(seq: int, kind: str, seconds: float, task_id: str | None = None, **payload) -> Event:
    at = (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return Event(seq, 1, kind, task_id, payload, int(seconds * 1000), at)


def test_cues_last_between_one_and_four_seconds():
    events = [event(1, "session_started", 0), event(2, "task_started", 0.2, "one"),
              event(3, "assist_logged", 0.5, "one", note=None),
              event(4, "assist_logged", 2.5, "one", note="x"),
              event(5, "assist_logged", 30, "one", note=None)]  # fmt: skip
    built = markers.build(events, "P01")
    assert [(c.start_ms, c.end_ms) for c in built.cues] == [
        (0, 1000), (200, 1200), (500, 2500), (2500, 6500), (30000, 34000)]


def test_the_recording_start_is_taken_on_the_day_nearest_the_session(berlin):
    late = datetime(2026, 1, 5, 23, 1, tzinfo=UTC)  # 00:01 on the 6th in Berlin
    assert markers.on_session_day(clock_time(23, 58), late) == datetime(2026, 1, 5, 22, 58, tzinfo=UTC)
    assert markers.on_session_day(clock_time(0, 2), late) == datetime(2026, 1, 5, 23, 2, tzinfo=UTC)
    assert markers.parse_clock_time("9:05:03.25") == clock_time(9, 5, 3, 250000)
    with pytest.raises(markers.MarkerError, match="HH:MM:SS"):
        markers.parse_clock_time("five past nine")


def test_a_code_with_markup_and_arrows_breaks_neither_header_nor_name(db_path, tmp_path):
    code = "A&B<-->x"
    recorded(db_path, code)
    [vtt_path] = export(db_path, tmp_path / "v", "vtt")
    [srt_path] = export(db_path, tmp_path / "s", "srt")
    assert vtt_path.stem == srt_path.stem and vtt_path.stem.startswith("A_B_--_x-")
    parsed = webvtt.read(str(vtt_path))
    assert "participant A&B<->x" in parsed.header_comments[0]  # a NOTE may not hold -->
    assert len(parsed.captions) == 6  # as for P01: the code cut no cue short
    subs = list(srt.parse(srt_path.read_text(encoding="utf-8")))
    assert "participant A&B‹--›x" in subs[0].content
    assert len(subs) == len(parsed.captions) + 1


def test_the_installed_command_writes_markers_that_parse(db_path, tmp_path):
    s = recorded(db_path)
    usetest = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "usetest"
    if not usetest.exists():
        pytest.skip("no installed .venv/bin/usetest")
    out = tmp_path / "out"
    done = subprocess.run([str(usetest), "export", str(db_path), "--format", "vtt", "--out",
                           str(out)], capture_output=True, text=True, env={**os.environ, "TZ": "UTC"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out / "P01.vtt")
    cues = vtt_cues(out / "P01.vtt")
    kept = [e for e in s.events if e.kind not in ("session_started", "consent_recorded")]
    zero = T0 + timedelta(seconds=20)
    assert sorted({c[0] for c in cues}) == sorted({(parse_utc(e.at) - zero).total_seconds()
                                                   for e in kept})  # fmt: skip
