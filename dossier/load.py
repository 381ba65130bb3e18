"""Files → raw documents with positions. The only module that reads the dossier's content
(annotations.yaml, content/), each file through confine.py: nothing from outside the folder."""
from __future__ import annotations

import os
import time
import re
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on POSIX
    fcntl = None

from .confine import Refused, is_folder_inside, open_inside, read_inside
from .diagnostics import Diagnostic, Location, error
from .parallel import map_chunks
from .yamlpieces import Parsed, assemble_pieces, parse_pieces, reparse_changed, split_pieces
from .yamltree import YamlDoc, parse_yaml

SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
ANNOTATIONS_FILE = "annotations.yaml"
ARTICLES_DIR = "content/articles"
PAGES_DIR = "content/pages"


@dataclass(frozen=True)
class MarkdownFile:
    """A content file split into its front matter and its Markdown body."""

    slug: str
    path: str
    """Relative to the dossier folder, with `/` separators."""
    front_matter: YamlDoc | None
    body: str
    body_line: int
    """File line of the body's first line."""


@dataclass(frozen=True)
class RawDossier:
    annotations: YamlDoc | None
    articles: tuple[MarkdownFile, ...]
    pages: tuple[MarkdownFile, ...]


def read_text(data: bytes, path: str) -> tuple[str | None, list[Diagnostic]]:
    """Decode UTF-8 (with or without a byte-order mark), normalising CRLF and CR to LF."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, [error(Location(path, line), "this is a binary file, not UTF-8 text",
                            "remove it from the dossier, or save it as UTF-8 text")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [error(Location(path, line), f"the file is not UTF-8 (byte 0x{data[exc.start]:02x} cannot be decoded)",
                            "save the file with UTF-8 encoding")]
    if "\r" in text:  # a scan costs far less than replace() copying a large file unchanged
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, []


def split_front_matter(text: str, path: str, slug: str) -> tuple[MarkdownFile | None, list[Diagnostic]]:
    """Split `---` front matter from the body and parse it (pure: tests pass strings)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, [error(Location(path, 1), "the file does not start with front matter",
                            "begin it with a '---' line, the fields (title: …), and another '---' line")]
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        return None, [error(Location(path, 1), "the front matter is not closed",
                            "add a '---' line after the last front-matter field")]
    doc, diagnostics = parse_yaml("\n".join(lines[1:end]), path, line_offset=1)
    if doc is not None and not isinstance(doc.value, dict):
        found = "empty" if doc.value is None else f"a {_yaml_type(doc.value)}"
        diagnostics.append(error(Location(path, 2), f"the front matter must be a mapping of fields, but it is {found}",
                                 "write one 'field: value' per line between the '---' lines"))
        doc = None
    body = "\n".join(lines[end + 1:])
    return MarkdownFile(slug, path, doc, body, end + 2), diagnostics


def read_annotations(source: Path, cache: dict | None = None) -> tuple[YamlDoc | None, list[Diagnostic]]:
    """annotations.yaml as a document with positions (None if missing or unreadable); `cache`
    (serve's) keeps parsed items between calls, and the file is then read once it is still."""
    data, diagnostics = read_annotations_file(source, SETTLE_NS if cache is not None else 0)
    if data is None:
        return None, diagnostics
    return parse_annotations(data, cache)


def read_annotations_file(source: Path, quiet_ns: int = 0) -> tuple[bytes | None, list[Diagnostic]]:
    """The bytes of annotations.yaml (see read_settled), or None and why."""
    try:
        return read_settled(source / ANNOTATIONS_FILE, quiet_ns), []
    except FileNotFoundError:
        return None, [error(Location(ANNOTATIONS_FILE), f"no {ANNOTATIONS_FILE} in {source}",
                            "create it, or point --source at the dossier folder")]
    except Refused as refused:
        return None, [error(Location(ANNOTATIONS_FILE), refused.message, refused.hint)]
    except OSError as exc:
        return None, [error(Location(ANNOTATIONS_FILE), f"cannot read the file: {exc.strerror or exc}",
                            "check that it is readable")]


def parse_annotations(data: bytes, cache: dict | None = None) -> tuple[YamlDoc | None, list[Diagnostic]]:
    """The bytes of annotations.yaml as a document with positions (see parse_large_yaml)."""
    text, diagnostics = read_text(data, ANNOTATIONS_FILE)
    if text is None:
        return None, diagnostics
    doc, problems = parse_large_yaml(text, ANNOTATIONS_FILE, cache)
    return doc, diagnostics + problems


def read_settled(path: Path, quiet_ns: int = 0, tries: int = 200) -> bytes:
    """The file's bytes once nobody is writing it: a large file saved in place by an editor
    while `serve` watches it is otherwise read cut short, and the items it is missing look
    deleted (or its last one broken). On Linux a read lease tells whether any process has the
    file open for writing; elsewhere the file is taken as written once its size is what was
    read and, with `quiet_ns`, it has not changed for that long. The file is read as
    confine.read_inside reads it, inside its own folder (Refused, FileNotFoundError)."""
    data = b""
    for _ in range(tries):
        writing = _open_for_writing(path) if quiet_ns else False
        if writing:
            time.sleep(0.01)
            continue
        data = read_inside(path.parent, path.name)
        try:
            st = os.stat(path)
        except OSError:
            break
        if st.st_size != len(data):
            time.sleep(0.01)
            continue
        if writing is False:
            break
        wait = min(quiet_ns, quiet_ns - (time.time_ns() - st.st_mtime_ns))  # a future mtime waits once
        if wait <= 0:
            break
        time.sleep(wait / 1e9)
        try:
            again = os.stat(path)
        except OSError:
            break
        if (again.st_size, again.st_mtime_ns) == (st.st_size, st.st_mtime_ns):
            break
    return data or read_inside(path.parent, path.name)


def _open_for_writing(path: Path) -> bool | None:
    """Whether some process has the file open for writing; None where that cannot be told
    (no leases on this system or file system, or the file is another user's)."""
    if not hasattr(fcntl, "F_SETLEASE"):
        return None
    try:
        fd = open_inside(path.parent, path.name)  # never a FIFO, which would block the open
    except (OSError, Refused):
        return None
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)  # refused while a writer has it open
    except BlockingIOError:
        return True
    except OSError:
        return None
    else:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)


SETTLE_NS = 30_000_000
"""Where leases do not tell, how long annotations.yaml must have been still before `serve`
reads it (see read_settled)."""


PREVIOUS = "<previous>"
"""The cache's entry for the last document parsed in pieces (yamlpieces.Parsed), from which an
edit within lines is re-parsed item by item (no piece text can be this: pieces are indented)."""


def parse_large_yaml(text: str, file: str, cache: dict | None = None) -> tuple[YamlDoc | None, list[Diagnostic]]:
    """Parse a long document item by item, on every core, reusing the items of `cache`
    (piece text → result) that did not change; falls back to one whole parse, which also
    gives the exact errors, whenever the pieces do not parse cleanly on their own. With a
    cache, an edit within the lines of a few items re-parses just those items."""
    previous = cache.get(PREVIOUS) if cache is not None else None
    if previous is not None:
        parsed = reparse_changed(previous, text, file, lambda pieces: _parse_cached(pieces, file, cache))
        if parsed is not None:
            cache[PREVIOUS] = parsed
            return parsed.doc, []
    split = split_pieces(text)
    if split is None:
        return parse_yaml(text, file)
    sections, pieces = split
    keep = cache is not None
    cache = {} if cache is None else cache
    cache.pop(PREVIOUS, None)
    doc = assemble_pieces(text, file, sections, pieces, _parse_cached(pieces, file, cache))
    if doc is None:
        return parse_yaml(text, file)
    if len(cache) > 2 * len(pieces) + 64:  # forget pieces that are gone
        alive = {p.text for p in pieces}
        for key in [k for k in cache if k not in alive]:
            del cache[key]
    if keep:
        cache[PREVIOUS] = Parsed.of(text, doc, pieces)
    return doc, []


def _parse_cached(pieces: list, file: str, cache: dict) -> list:
    """Each piece's parse, from `cache` (by text) or parsed now, on every core."""
    todo = [p for p in pieces if p.text not in cache]
    for piece, result in zip(todo, map_chunks(parse_pieces, todo, file)):
        cache[piece.text] = result
    return [cache[p.text] for p in pieces]


def load_dossier(source: Path) -> tuple[RawDossier, list[Diagnostic]]:
    """Read annotations.yaml, the articles and the pages of the dossier folder `source`."""
    annotations, diagnostics = read_annotations(source)
    articles, problems = _load_markdown_dir(source, ARTICLES_DIR)
    diagnostics += problems
    pages, problems = _load_markdown_dir(source, PAGES_DIR)
    diagnostics += problems
    return RawDossier(annotations, articles, pages), diagnostics


def load_markdown_file(source: Path, relpath: str, data: bytes | None = None) -> tuple[MarkdownFile | None, list[Diagnostic]]:
    """Read one content file (or take its bytes, `data`, read already); `relpath` is relative
    to `source`. A symbolic link out of the dossier folder, a link loop or anything but a
    regular file is an error (confine.py)."""
    if data is None:
        data, problems = read_markdown_bytes(source, relpath)
        if data is None:
            return None, problems
    text, diagnostics = read_text(data, relpath)
    if text is None:
        return None, diagnostics
    slug = relpath.rsplit("/", 1)[-1][: -len(".md")]
    parsed, problems = split_front_matter(text, relpath, slug)
    return parsed, diagnostics + problems


def read_markdown_bytes(source: Path, relpath: str) -> tuple[bytes | None, list[Diagnostic]]:
    """The bytes of one content file (see load_markdown_file), or None and why not."""
    try:
        return read_inside(source, relpath), []
    except Refused as refused:
        return None, [error(Location(relpath), refused.message, refused.hint)]
    except OSError as exc:  # e.g. deleted or renamed while the build ran
        return None, [error(Location(relpath), f"cannot read the file: {exc.strerror or exc}", "check that it exists and is readable")]


def list_markdown(source: Path, subdir: str) -> tuple[list[str], list[Diagnostic]]:
    """The .md files of a content folder (relative paths, sorted); anything else is an error.
    Nothing is followed here: what an entry is, is found when it is read."""
    try:
        if not is_folder_inside(source, subdir):
            return [], []
        entries = sorted((entry.name, entry.is_dir(follow_symlinks=False)) for entry in os.scandir(source / subdir))
    except Refused as refused:
        return [], [error(Location(subdir), refused.message, refused.hint)]
    except (FileNotFoundError, NotADirectoryError):
        return [], []
    paths, diagnostics = [], []
    for name, is_dir in entries:
        relpath = f"{subdir}/{name}"
        if name.startswith("."):
            continue
        if is_dir or not name.endswith(".md"):
            diagnostics.append(error(Location(relpath), f"'{name}' is not a Markdown (.md) file",
                                     f"only .md files belong in {subdir}/; put images and other files in layouts/static/"))
        elif not SLUG.fullmatch(name[:-3]):
            diagnostics.append(error(Location(relpath), f"the file name '{name}' is not a valid slug",
                                     "rename it to lowercase letters, digits and hyphens, e.g. meta-scale-deal.md: it becomes the URL"))
        else:
            paths.append(relpath)
    return paths, diagnostics


def _load_markdown_dir(source: Path, subdir: str) -> tuple[tuple[MarkdownFile, ...], list[Diagnostic]]:
    relpaths, diagnostics = list_markdown(source, subdir)
    files = []
    for relpath in relpaths:
        parsed, problems = load_markdown_file(source, relpath)
        diagnostics += problems
        if parsed is not None:
            files.append(parsed)
    return tuple(files), diagnostics


def _yaml_type(value: object) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "value")
