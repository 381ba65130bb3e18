"""Reading a dossier folder that a stranger wrote: nothing outside it, nothing but regular
files and folders, and never a read that blocks.

A dossier may come from a hostile pull request. A symbolic link in it can point at
/etc/passwd, or at .git/config where CI keeps its token; a FIFO blocks whoever opens it
for ever; a device can be endless. Every file Dossier reads from a dossier (annotations.yaml,
the lock, content/, templates and static files) is opened here, and what is refused raises
`Refused`, which says why and what to do, for the caller to report at the file's path.

The rule: a path is resolved (symbolic links followed), and the result must lie inside the
area it belongs to (the dossier folder, or its layouts/) and, if a link led there, not in a
hidden folder such as .git/. A symbolic link that stays inside keeps working; a link loop,
a dangling link and anything that is not a regular file (FIFO, socket, device) is refused.
The resolved path is opened with O_NOFOLLOW and O_NONBLOCK (a link put in its place at the
last moment fails, a FIFO swapped in does not block), checked again to be a regular file,
and on Linux the path of what was opened is read back from /proc and checked once more, so
a folder swapped for a link between the check and the open is caught too.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class Refused(Exception):
    """A path Dossier will not read: `message` says what it is, `hint` what to do."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint
        self.path: str | None = None
        """Set by files_inside: the refused entry, relative to the root."""


OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def resolve_inside(root: Path, relpath: str, within: str = "") -> tuple[str, os.stat_result]:
    """The real path of `root/relpath` and its stat, once it is known to lie inside
    `root/within`; FileNotFoundError when nothing is there, Refused for what may not be read."""
    base = os.path.realpath(root)
    area = os.path.join(base, within) if within else base
    if os.path.isabs(relpath) or ".." in relpath.split("/"):
        raise Refused(f"'{relpath}' leads out of the folder it is read from", "name a file inside the dossier folder")
    path = os.path.normpath(os.path.join(base, relpath))
    try:
        os.lstat(path)
        real = os.path.realpath(path, strict=True)
    except FileNotFoundError:
        if os.path.islink(path):
            raise Refused("this is a symbolic link to something that does not exist",
                          "remove the link, or put the file itself here") from None
        raise
    except NotADirectoryError:
        raise FileNotFoundError(errno.ENOENT, "not found", path) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused("this is a symbolic link that never reaches a file (a loop of links)",
                          "remove the link, or put the file itself here") from None
        raise
    if not _inside(real, area):
        what = "a file" if os.path.isfile(real) else "a folder" if os.path.isdir(real) else "something"
        if within:
            raise Refused(f"this is a symbolic link to {what} outside {within}/",
                          f"Dossier reads these files from inside {within}/ only: put the file itself here instead "
                          "of a link to it")
        raise Refused(f"this is a symbolic link to {what} outside the dossier folder",
                      "Dossier reads nothing outside the dossier folder: put the file itself here instead of a link to it")
    if real != path and any(part.startswith(".") for part in os.path.relpath(real, base).split(os.sep)):
        raise Refused("this is a symbolic link into a hidden file or folder (such as .git/)",
                      "put the file itself here: Dossier does not read hidden files through links")
    return real, os.lstat(real)


def open_inside(root: Path, relpath: str, within: str = "") -> int:
    """A file descriptor for reading the regular file `root/relpath` (see resolve_inside)."""
    real, st = resolve_inside(root, relpath, within)
    if not stat.S_ISREG(st.st_mode):
        raise not_a_file(st)
    try:
        fd = os.open(real, OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # it became a link since it was resolved
            raise Refused("this file was replaced by a symbolic link while it was read",
                          "run the command again once nothing changes the dossier") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise not_a_file(st)
        opened = _opened_path(fd)
        base = os.path.realpath(root)
        if opened is not None and not _inside(opened, os.path.join(base, within) if within else base):
            raise Refused("this file led outside the dossier folder while it was read (a folder was replaced by a link)",
                          "run the command again once nothing changes the dossier")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_inside(root: Path, relpath: str, within: str = "") -> bytes:
    """The bytes of the regular file `root/relpath` (see resolve_inside)."""
    with os.fdopen(open_inside(root, relpath, within), "rb") as file:
        return file.read()


def is_folder_inside(root: Path, relpath: str, within: str = "") -> bool:
    """Whether `root/relpath` is a folder that may be read; False when it is missing or not a
    folder, Refused when it is a link out of the area, a loop or a dangling link."""
    try:
        _, st = resolve_inside(root, relpath, within)
    except FileNotFoundError:
        return False
    return stat.S_ISDIR(st.st_mode)


def files_inside(root: Path, relpath: str, within: str = "") -> list[tuple[str, os.stat_result]]:
    """Every regular file below the folder `root/relpath`, as (path relative to it, stat),
    sorted; Refused (with `path` set) for the first entry that may not be read."""
    found: list[tuple[str, os.stat_result]] = []
    _walk(root, within, relpath, "", (os.path.realpath(os.path.join(os.path.realpath(root), relpath)),), found)
    return found


def _walk(root: Path, within: str, folder: str, prefix: str, parents: tuple[str, ...],
          found: list[tuple[str, os.stat_result]]) -> None:
    """files_inside's recursion (a function of its own, not a closure: a closure that calls
    itself is a reference cycle, left for the cyclic collector on every call)."""
    with os.scandir(os.path.join(os.path.realpath(root), folder)) as entries:
        names = sorted(entry.name for entry in entries)
    for name in names:
        path, shown = f"{folder}/{name}", prefix + name
        try:
            real, st = resolve_inside(root, path, within)
            if stat.S_ISDIR(st.st_mode):
                if real in parents:
                    raise Refused("this is a symbolic link to a folder that holds it (a loop of links)",
                                  "remove the link")
                _walk(root, within, path, shown + "/", parents + (real,), found)
            elif stat.S_ISREG(st.st_mode):
                found.append((shown, st))
            else:
                raise not_a_file(st)
        except Refused as refused:
            refused.path = refused.path or path  # the innermost entry, where it was refused
            raise
        except FileNotFoundError:
            continue  # removed meanwhile


def not_a_file(st: os.stat_result) -> Refused:
    mode = st.st_mode
    kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "not a regular file")
    return Refused(f"this is {kind}, not a regular file", "remove it: only regular files are read from a dossier")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _opened_path(fd: int) -> str | None:
    """The path of what `fd` is open on, where the system tells it (Linux's /proc)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
