"""Files usetest writes for people (exports, reports, scenario templates): private, never
through a link someone planted, and either complete or absent.

- Folders usetest creates are 0700 and files 0600, whatever the umask: they hold participant
  data.
- A file is written under a temporary name in its own folder (created with ``O_EXCL`` and
  ``O_NOFOLLOW``: never an existing file, never through a link) and renamed over the target only
  when it is complete. A symbolic link (or anything but a regular file) already at the target is
  refused with :class:`OutputError`, so a link ``exports/sessions.csv -> ../loot.csv`` planted by
  someone else is never written through.
- :class:`Staged` renames a set of files together at the end (an export's tables and its
  ``metadata.json``, written last). Interrupted (ctrl-C) or failed (a full disk), it removes its
  temporary files and leaves the folder as it was; :attr:`Staged.left` says what could not be
  removed, if anything.

The database itself is not written here (``store.py`` owns it).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from usetest.errors import UsetestError


class OutputError(UsetestError):
    """An output file cannot be written where asked; the message names the path."""


def private_dir(path: str | Path) -> Path:
    """``path`` as a folder, creating it and its missing parents 0700 (whatever the umask).

    Folders that exist already are left as they are; a path that exists and is not a folder
    is an :class:`OutputError`.
    """
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and not p.is_symlink() and p != p.parent:
        missing.append(p)
        p = p.parent
    if not p.is_dir():  # a file where a folder should be: say which, not "Not a directory"
        raise OutputError(f"cannot write into {path}: {p} is not a folder — choose another place")
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue  # made meanwhile by someone else: not ours to change
        except OSError as exc:
            raise OutputError(f"cannot create the folder {folder}: {exc.strerror} — choose "
                              "another place") from exc  # fmt: skip
        os.chmod(folder, 0o700)  # a umask such as 0o277 would leave it unusable
    if not path.is_dir():
        raise OutputError(f"cannot write into {path}: it is not a folder — choose another place")
    return path


def check_target(path: str | Path) -> Path:
    """``path`` if usetest may write a file there: nothing there yet, or a regular file.

    A symbolic link is refused even when it points somewhere harmless: whoever planted it
    chose where the data would go.
    """
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from exc
    if stat.S_ISLNK(st.st_mode):
        try:
            where = f" (to {os.readlink(path)})"
        except OSError:
            where = ""
        raise OutputError(f"{path} is a symbolic link{where}; usetest does not write through "
                          "links — remove it or choose another folder")  # fmt: skip
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise OutputError(f"{path} is {kind} — choose another file name")
    return path


def _temp_file(target: Path) -> tuple[Path, int]:
    """A new, empty, private file beside ``target`` under a name no one else can predict."""
    for _ in range(100):
        temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
            | getattr(os, "O_CLOEXEC", 0)  # fmt: skip
        try:
            fd = os.open(temp, flags, 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot write into {target.parent}: {exc.strerror} — choose "
                              "another folder") from exc  # fmt: skip
        os.fchmod(fd, 0o600)
        return temp, fd
    raise OutputError(f"cannot create a temporary file in {target.parent}")  # pragma: no cover


class Staged:
    """Files written under temporary names in one folder and renamed into place together.

    Use it as a context manager: a normal exit renames every file (in the order they were
    opened; open the file that says "this set is complete" last), an exception (including
    ``KeyboardInterrupt``) removes them all and the folder stays as it was.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._files: list[tuple[Path, Path]] = []  # (temporary, target)
        self.left: list[Path] = []
        """Temporary files that could not be removed after a failure."""

    def target(self, name: str) -> Path:
        return check_target(self.folder / name)

    @contextlib.contextmanager
    def open(self, name: str, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
        """A file object for ``folder/name``, written under a temporary name until the set is
        committed. ``mode`` is ``"w"`` (text; ``encoding`` defaults to UTF-8) or ``"wb"``."""
        target = self.target(name)
        temp, fd = _temp_file(target)
        self._files.append((temp, target))
        if "b" not in mode:
            kwargs.setdefault("encoding", "utf-8")
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())

    def commit(self) -> list[Path]:
        """Rename every file over its target; returns the targets."""
        for _, target in self._files:
            check_target(target)  # planted while we were writing?
        if len(self._files) > 1:
            # the last file says "this set is complete" (metadata.json): an older one goes first,
            # so a set half renamed (a crash in between) never looks complete
            self._files[-1][1].unlink(missing_ok=True)
        for temp, target in self._files:
            os.replace(temp, target)  # replaces the name itself, never follows a link
        _sync_dir(self.folder)
        done = [target for _, target in self._files]
        self._files = []
        return done

    def discard(self) -> None:
        """Remove every temporary file; those that cannot be removed are listed in ``left``."""
        for temp, _ in self._files:
            try:
                temp.unlink(missing_ok=True)
            except OSError:
                self.left.append(temp)
        self._files = []

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.discard()
                raise
        else:
            self.discard()

    def what_is_left(self) -> str:
        """After a failure: what the folder holds of this set, in words for the user."""
        if not self.left:
            return f"nothing in {self.folder} was changed (the partial files were removed)"
        return ("these partial files could not be removed, delete them: "
                + ", ".join(str(p) for p in self.left))  # fmt: skip


@contextlib.contextmanager
def atomic_writer(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """A file object whose content replaces ``path`` only once the block ends without error.

    The folder is created 0700 if missing; the file is 0600; a link at ``path`` is refused
    (:class:`OutputError`).
    """
    path = Path(path)
    folder = private_dir(path.parent)
    with Staged(folder) as staged, staged.open(path.name, mode, **kwargs) as f:
        yield f


def _sync_dir(folder: Path) -> None:
    """Make the renames durable (a power cut after the export leaves the files, not the temps)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the renames are still done
    finally:
        os.close(fd)
