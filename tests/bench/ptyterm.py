"""A program in a real pseudo-terminal, read and typed into as a terminal would: for the benchmarks.

Not Pilot: the key bytes go into the pty master exactly as a terminal emulator writes them, the
program reads them through its own input driver, and what it draws is read back as the bytes it
wrote. A clock started when the key bytes are written and stopped when the redrawn text is read
back therefore covers everything the moderator waits for (input parsing, the action, the commit,
layout, rendering, the write to the terminal), and nothing a test harness adds.

The screen is not emulated: the bytes read are stripped of escape sequences and searched for the
text expected. Textual writes each changed line of a widget as one run of text, so a short label
such as ``assists 3`` or ``Task 1 of`` arrives whole.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Sequence

# CSI (ESC [ … final), OSC (ESC ] … BEL/ST), DCS/APC/PM (ESC P|_|^ … ST), other two-byte escapes.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[P_^][^\x1b]*\x1b\\"
    r"|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]"
)


def plain(data: bytes) -> str:
    """The text in terminal output, without its escape sequences and control characters."""
    return _ESCAPES.sub("", data.decode("utf-8", errors="replace"))


def _controlling_tty() -> None:  # runs in the child between fork and exec
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Term:
    """One program running in its own pseudo-terminal of ``cols`` × ``rows``."""

    def __init__(self, argv: Sequence[str], cols: int = 100, rows: int = 30,
                 env: dict[str, str] | None = None, cwd: str | None = None) -> None:  # fmt: skip
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = dict(os.environ if env is None else env)
        full_env.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        full_env.pop("TEXTUAL", None)  # no devtools, no debug features
        # As on a moderator's machine: Python caches compiled modules (this sandbox turns that
        # off, which would compile all of usetest on every launch while Textual's are cached).
        full_env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv), stdin=slave, stdout=slave, stderr=slave, env=full_env, cwd=cwd,
            preexec_fn=_controlling_tty, close_fds=True,
        )  # fmt: skip
        os.close(slave)
        self.output = bytearray()
        """Everything the program wrote so far."""

    def read_some(self, timeout: float) -> bool:
        """Read what the program wrote within ``timeout`` seconds; False if it has closed."""
        ready, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the program has exited and closed the terminal
            return False
        if not data:
            return False
        self.output += data
        return True

    def drain(self, quiet: float = 0.0) -> None:
        """Read until the program has written nothing for ``quiet`` seconds."""
        while True:
            before = len(self.output)
            if not self.read_some(quiet) or len(self.output) == before:
                return

    def mark(self) -> int:
        return len(self.output)

    def wait_for(self, pattern: str | re.Pattern[str], since: int = 0,
                 timeout: float = 20.0) -> re.Match[str]:  # fmt: skip
        """Read until ``pattern`` (a regex) is in the text written since ``since``; the match.

        Reads are searched incrementally from a little before the previous end, so the cost
        per read stays small however long the program runs.
        """
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.perf_counter() + timeout
        scanned = since
        while True:
            # keep 256 bytes of overlap: a label split across two reads is still found
            start = max(since, scanned - 256)
            found = rx.search(plain(bytes(self.output[start:])))
            if found:
                return found
            scanned = len(self.output)
            left = deadline - time.perf_counter()
            if left <= 0 or (self.proc.poll() is not None and not self.read_some(0)):
                tail = plain(bytes(self.output[-2000:]))
                raise RuntimeError(f"{rx.pattern!r} not shown within {timeout} s; last text:\n{tail}")
            if not self.read_some(min(left, 0.5)):
                self.proc.poll()

    def send(self, keys: bytes) -> float:
        """Write key bytes as a terminal does; the perf_counter time just before the write."""
        t0 = time.perf_counter()
        os.write(self.master, keys)
        return t0

    def close(self, timeout: float = 5.0) -> None:
        """Stop the program (SIGTERM, then SIGKILL) and free the terminal."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            deadline = time.perf_counter() + timeout
            while self.proc.poll() is None and time.perf_counter() < deadline:
                if not self.read_some(0.05):
                    break
            if self.proc.poll() is None:
                self.proc.kill()
        self.proc.wait()
        os.close(self.master)
