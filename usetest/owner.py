"""Which app records a session: the identity of a running usetest process, and whether it
still runs.

An :class:`Owner` is what the store keeps in ``sessions.owner`` (see the store's section "One
app per session"): host name, process id, the kernel's boot id and the process's start time,
so that a crash, a kill or a power cut is recognised (the process is gone, or the computer
restarted, or its pid now belongs to another process) and the session can be resumed at once,
while a live or unreachable owner is only ever replaced on purpose. No SQL here.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def _boot_id() -> str | None:
    text = _read_text("/proc/sys/kernel/random/boot_id")
    return text.strip() if text else None


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process from /proc/PID/stat (fields 3 and 22), if readable."""
    text = _read_text(f"/proc/{pid}/stat")
    if not text or ")" not in text:
        return None
    fields = text[text.rindex(")") + 2:].split()  # the name in (…) may hold spaces
    return (fields[0], fields[19]) if len(fields) > 19 else None


def _host() -> str:
    import socket

    return socket.gethostname()


@dataclass(frozen=True)
class Owner:
    """The app recording a session, as stored in ``sessions.owner``.

    Only what tells whether that app still runs — host name, process id, the kernel's boot id
    and the process's start time (a reboot or a reused pid is recognised) — when it took the
    session, and a random token naming this one claim. No personal data beyond the host name.
    """

    host: str
    pid: int
    boot_id: str | None
    proc_start: str | None
    since: str
    token: str

    @classmethod
    def here(cls, since: str) -> Owner:
        """This process, claiming at ``since`` (UTC ISO), with a fresh token."""
        stat = _proc_stat(os.getpid())
        return cls(host=_host(), pid=os.getpid(), boot_id=_boot_id(),
                   proc_start=stat[1] if stat else None, since=since,
                   token=str(uuid.uuid4()))  # fmt: skip

    def to_json(self) -> str:
        return json.dumps({"host": self.host, "pid": self.pid, "boot_id": self.boot_id,
                           "proc_start": self.proc_start, "since": self.since,
                           "token": self.token})  # fmt: skip

    @classmethod
    def from_json(cls, text: str | None) -> Owner | None:
        """The stored owner; None for NULL. Unreadable JSON gives an owner that cannot be
        checked (so it is refused, never silently replaced)."""
        if text is None:
            return None
        try:
            d = json.loads(text)
            return cls(host=str(d["host"]), pid=int(d["pid"]), boot_id=d.get("boot_id"),
                       proc_start=d.get("proc_start"), since=str(d.get("since") or ""),
                       token=str(d["token"]))  # fmt: skip
        except (ValueError, TypeError, KeyError):
            return cls(host="?", pid=0, boot_id=None, proc_start=None, since="", token=text)

    def describe(self) -> str:
        """For a moderator: ``pid 4121 on lab-2, since 10:42`` (local time)."""
        return f"pid {self.pid} on {self.host}" + (f", since {_local(self.since)}"
                                                    if self.since else "")  # fmt: skip

    def is_gone(self) -> bool:
        """True only when this owner provably no longer runs (see the section's comment)."""
        if self.host != _host() or self.pid <= 0:
            return False  # another computer: cannot be checked from here
        boot = _boot_id()
        if self.boot_id and boot and self.boot_id != boot:
            return True  # the computer restarted since
        if os.name == "nt":  # pragma: no cover - os.kill(pid, 0) would end the process there
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False  # it exists (another user's process): assume alive
        stat = _proc_stat(self.pid)
        if stat is None:
            return False
        state, start = stat
        # a zombie has exited; another start time means the pid was reused
        return state == "Z" or (self.proc_start is not None and start != self.proc_start)


def _local(iso: str) -> str:
    """A stored UTC time as local HH:MM (with the date when it is not today)."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return iso
    if moment.date() == datetime.now().astimezone().date():
        return moment.strftime("%H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")
