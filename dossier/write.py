"""Atomic output: everything is written into a temporary folder next to `--out`, which is
swapped in only once the whole site is there. A failed or interrupted build leaves the
previous output exactly as it was, and no temporary folder behind."""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .confine import Refused, files_inside, is_folder_inside, read_inside
from .diagnostics import Location, error
from .templates import TemplateProblem


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
    """Refuse an --out that would replace the dossier itself or another project."""
    out, source = out.resolve(), source.resolve()
    if out == source or out in source.parents:
        raise OutputError(f"--out {out} would replace the dossier folder {source}; choose a folder such as public/")
    if out.is_dir() and ((out / "annotations.yaml").exists() or (out / ".git").exists()):
        raise OutputError(f"--out {out} holds a dossier or a git repository, not a built site; choose another folder")
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder")


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A fresh folder next to `out`; on leaving without error it replaces `out` whole.
    On any error or interruption it is removed and `out` stays exactly as it was."""
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    except OSError as exc:
        raise OutputError(f"cannot create a folder next to {out}: {exc.strerror or exc}") from None
    try:
        os.chmod(tmp, 0o755)
        yield tmp
        _swap(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"could not write the site to {out}: {exc.strerror or exc}; the previous output is unchanged") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


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


@contextmanager
def _holding_ctrl_c() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) while the output is swapped, so the swap is never left half done
    and the old copy never left behind; a Ctrl-C that came meanwhile is acted on right after."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (and only it receives KeyboardInterrupt)
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
    if held and callable(previous):
        previous(signal.SIGINT, None)  # the default handler raises KeyboardInterrupt


def _swap(new: Path, out: Path) -> None:
    with _holding_ctrl_c():
        _swap_now(new, out)


def _swap_now(new: Path, out: Path) -> None:
    if not out.exists():
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
