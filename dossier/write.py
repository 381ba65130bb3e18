"""Safe, atomic output.

Safe: `--out` may point anywhere, so guard_output() refuses a folder that is not a site
Dossier built — the dossier itself or a folder above it, its content/ or layouts/, the root,
the home folder, the current folder or one above it, a file, a symbolic link, a git
repository, and any non-empty folder without Dossier's mark. Every build marks its output
with MARKER, a one-line dotfile at its top (the same bytes every time, so rebuilds stay
byte-identical). A site built before the mark existed is recognised by the files every
build wrote (see is_dossier_output()).

Atomic: the site is written into a folder next to `--out`, `.NAME.tmp-XXXXXXXX`, which
replaces it only once the whole site is there (the old one is moved aside to
`.NAME.old-XXXXXXXX`, then deleted). A failed or interrupted build leaves the previous output
exactly as it was and removes its own folder. A build killed outright (SIGKILL, a power cut)
cannot, so every build first removes what killed builds of the same `--out` left. To tell
those from the folders of a build still running, a build holds an exclusive lock (flock) on
each folder it works in for as long as it uses it; the kernel drops the lock when the
process dies, so a folder of ours that nobody holds is one that nobody will finish.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .confine import Refused, files_inside, is_folder_inside, read_inside
from .diagnostics import Location, error
from .templates import TemplateProblem
from .interrupt import holding_interrupts

try:
    import fcntl
except ImportError:  # not POSIX: no locks, so no leftover is ever taken for a dead build's
    fcntl = None

MARKER = ".dossier-output"
"""Written at the top of every output folder: this folder is a site Dossier built."""
MARKER_TEXT = b"This folder is a site built by Dossier; the next build replaces it whole.\n"
LEGACY_FILES = (".nojekyll", "index.html", "404.html", "sitemap.xml", "dossier.json", "static/style.css")
"""Files every build wrote before the marker existed (with .nojekyll empty, dossier.json ours)."""
LEFTOVER = re.compile(r"(tmp|old)-[a-z0-9_]{8}")
"""After `.NAME.`: the folders this module makes next to `--out` (tempfile.mkdtemp's names)."""


class OutputError(Exception):
    """The output cannot be written; the message says why and what to do."""


class OutputFiles:
    """The files of one build, by output path; the same path can't be written twice."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.reserved: set[str] = set()

    def reserve(self, path: str) -> None:
        """Claim a path that is written elsewhere (an HTML page rendered by a worker)."""
        if path in self.reserved or path in self.files:
            raise OutputError(f"two outputs want to be written to {path}")
        if path.startswith("/") or ".." in path.split("/"):
            raise OutputError(f"refusing to write outside the output folder: {path}")
        self.reserved.add(path)

    def add(self, path: str, content: str | bytes) -> None:
        self.reserve(path)
        self.files[path] = content.encode("utf-8") if isinstance(content, str) else content


def guard_output(out: Path, source: Path) -> None:
    """Refuse an --out that is not Dossier's to replace; the message says why and what to do."""
    problem = _refusal(out, source)
    if problem:
        raise OutputError(f"--out {out} {problem}")


def _refusal(out: Path, source: Path) -> str | None:
    if out.is_symlink():
        return f"is a symbolic link (to {os.readlink(out)}) (give the folder itself, or choose another folder)"
    real = out.resolve()
    if real.exists() and not real.is_dir():
        return "is a file, not a folder (choose a folder such as public/)"
    hint = " (choose a folder of its own, such as public/ inside the dossier)"
    for folder, name in ((Path("/"), "the root of the file system"), (_known(Path.home), "your home folder"),
                         (source, "the dossier folder"), (_known(Path.cwd), "the current folder")):
        if folder is not None and _inside(folder, real):
            if _inside(real, folder):
                return f"would replace {name}" + hint
            return f"would replace a folder that holds {name} {folder}" + hint
    for folder in ("content", "layouts"):
        if _inside(real, source / folder):
            return f"is inside the dossier's {folder}/, which the build reads" + hint
    if ".git" in real.parts:
        return "is inside a git repository's .git folder" + hint
    if not real.is_dir():
        return None  # a new folder
    if (real / "annotations.yaml").exists() or (real / ".git").exists():
        return "holds a dossier or a git repository, not a built site (choose another folder)"
    try:
        names = sorted(os.listdir(real))
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc} (choose another folder)"
    if names and not is_dossier_output(real):
        shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
        return (f"already holds files that Dossier did not write ({shown}) (choose an empty or new folder; "
                "to replace this one, delete it first)")
    return None


def _known(folder) -> Path | None:
    """Path.home() or Path.cwd(), or None where there is none (no HOME; a deleted folder)."""
    try:
        return folder()
    except (OSError, RuntimeError, KeyError):
        return None


def _inside(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or inside it: by name, and as files on disk (so neither a
    case-blind file system nor a second name of the same folder is a way round)."""
    if path.resolve().is_relative_to(folder.resolve()):
        return True
    try:
        target = os.stat(folder)
    except OSError:
        return False
    for candidate in (path, *path.parents):
        try:
            st = os.stat(candidate)
        except OSError:
            continue  # not made yet
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            return True
    return False


def is_dossier_output(folder: Path) -> bool:
    """Whether `folder` is a site Dossier built: it holds MARKER or, built by a Dossier from
    before the marker, every one of LEGACY_FILES, with an empty .nojekyll and Dossier's own
    dossier.json (it starts with its format version)."""
    if marked(folder):
        return True
    if not all(_regular_file(folder / name) for name in LEGACY_FILES):
        return False
    try:
        with open(folder / "dossier.json", "rb") as data:
            start = data.read(11)
        return os.lstat(folder / ".nojekyll").st_size == 0 and start == b'{"version":'
    except OSError:
        return False


def marked(folder: Path) -> bool:
    """Whether `folder` holds Dossier's mark (a build wrote it whole)."""
    return _regular_file(folder / MARKER)


def _regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A fresh, marked folder next to `out`; on leaving without error it replaces `out` whole.
    On any error or interruption it is removed and `out` stays exactly as it was."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(out)
        tmp, held = _claim_folder(out, "tmp")
    except OSError as exc:
        raise OutputError(f"cannot create a folder next to {out}: {exc.strerror or exc}") from None
    try:
        os.chmod(tmp, 0o755)
        (tmp / MARKER).write_bytes(MARKER_TEXT)
        yield tmp
        with holding_interrupts():  # never a swap left half done, nor the old copy left behind
            _swap(tmp, out)
    except OSError as exc:
        _discard(tmp)
        raise OutputError(f"could not write the site to {out}: {exc.strerror or exc}; the previous output is unchanged") from None
    except BaseException:
        _discard(tmp)
        raise
    finally:
        _release(held)


def remove_leftovers(out: Path) -> None:
    """Delete the `.NAME.tmp-*` and `.NAME.old-*` folders next to `out` that builds killed
    outright left; never one a running build holds."""
    if fcntl is None:
        return
    prefix = f".{out.name}."
    with os.scandir(out.parent) as entries:
        leftovers = [Path(e.path) for e in entries if e.name.startswith(prefix)
                     and LEFTOVER.fullmatch(e.name[len(prefix):]) and e.is_dir(follow_symlinks=False)]
    for folder in leftovers:
        try:
            held = _hold(folder, wait=False)
        except OSError:  # a file system without locks: no telling whether a build still uses it
            continue
        if held is not None:  # nobody else holds it: its build is gone
            try:
                shutil.rmtree(folder, ignore_errors=True)
            finally:
                _release(held)


def _claim_folder(out: Path, kind: str) -> tuple[Path, int | None]:
    """A new folder `.NAME.KIND-XXXXXXXX` next to `out`, and the lock this process holds on it
    (None without locks)."""
    for _ in range(100):
        folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.{kind}-", dir=out.parent))
        if fcntl is None:
            return folder, None
        try:
            held = _hold(folder, wait=False)
        except OSError:  # a file system without locks
            return folder, None
        if held is not None:
            return folder, held
        # Another build, removing leftovers, took it between its making and our lock: it
        # deletes it; make another.
    raise OSError(f"no folder of our own could be made next to {out}")


def _hold(folder: Path, wait: bool) -> int | None:
    """A descriptor of `folder` holding its exclusive lock; None when another process holds it
    (unless `wait`), or `folder` is gone or is not a folder. OSError: the file system has no locks."""
    while True:
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:  # another process holds it
            os.close(fd)
            return None
        except OSError:
            os.close(fd)
            raise
        try:
            locked, now = os.fstat(fd), os.lstat(folder)
        except OSError:  # renamed or removed meanwhile
            os.close(fd)
            return None
        if (locked.st_dev, locked.st_ino) == (now.st_dev, now.st_ino):
            return fd
        os.close(fd)  # another folder has this name now
        if not wait:
            return None


def _release(held: int | None) -> None:
    if held is not None:
        os.close(held)


def _discard(folder: Path) -> None:
    with holding_interrupts():  # a second Ctrl-C does not leave it half removed
        shutil.rmtree(folder, ignore_errors=True)


def copy_static(static_dirs: list[Path], folder: Path) -> None:
    """Copy each layouts/static/ into folder/static/, later folders overriding earlier ones.
    Only regular files that really are inside that layouts/ folder are copied (confine.py): a
    link out of it, a link loop, a FIFO or a device is a TemplateProblem naming it."""
    for static in static_dirs:
        layouts = static.parent
        root, area = layouts.parent, layouts.name
        where = path = f"{layouts.name}/{static.name}"  # path: what is being read, for the error
        try:
            if not is_folder_inside(root, where, area):
                continue
            for name, _ in files_inside(root, where, area):
                path = f"{where}/{name}"
                data = read_inside(root, path, area)
                target = folder / "static" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        except Refused as refused:
            raise TemplateProblem(error(Location(refused.path or path), f"{refused.message}; it is not copied into the site",
                                        refused.hint)) from None


def write_files(files: dict[str, bytes], folder: Path) -> None:
    made: set[Path] = set()
    for path, content in sorted(files.items()):
        target = folder / path
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_bytes(content)


def _swap(new: Path, out: Path) -> None:
    # Held while the old copy is aside, so no other build takes it for a leftover, even if
    # putting it back is needed.
    try:
        held = _hold(out, wait=True) if fcntl is not None else None
    except OSError:  # a file system without locks
        held = None
    try:
        if not os.path.lexists(out):
            os.rename(new, out)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rmdir(old)
        os.rename(out, old)
        try:
            os.rename(new, out)
        except BaseException:
            os.rename(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        _release(held)
