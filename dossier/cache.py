"""The persistent build cache: what builds resolved and rendered, kept between builds.

A build keeps, in a folder (`.dossier-cache/` beside the dossier, `--cache DIR`, none with
`--no-cache`), the validated annotations.yaml, each article's resolution, each page's HTML
and each part of the search index. Every entry is filed under a key: a hash of everything
the entry was made from (the bytes of the files, the data of the items it depends on) and
of this Dossier itself (CODE_VERSION: its code, its built-in theme, the libraries whose
output ends up in the site). An entry is found again only when all of that is the same, so
a cached result is the result a cold build would compute; nothing is ever invalidated, and
what the last two builds did not use is deleted (`Store.sweep`).

The folder is input too (CI restores it from a cache that another run saved), so nothing
in it is trusted: entries are JSON, which cannot run code (never pickle); each one carries
a hash of its content and is decoded into exactly the types expected (the codec below), and
raw files (pages, index files) are named by the hash of their bytes, checked on every read.
A corrupt, truncated or unexpected entry is a miss: it is rebuilt and written again. Files
are opened without following links and only when they are regular files.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import sys
import types
import typing
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from . import BUILTIN_THEME, PACKAGE, __version__

DEFAULT_FOLDER = ".dossier-cache"
"""The cache folder, inside the dossier folder, unless --cache says otherwise."""
TAG = "CACHEDIR.TAG"
TAG_TEXT = (b"Signature: 8a477f597d28d172789f06886806bc55\n"
            b"# This folder is the build cache of Dossier (https://bford.info/cachedir/).\n"
            b"# Builds rebuild anything in it that is missing; deleting it is always safe.\n")
"""The Cache Directory Tagging marker: backup tools skip the folder, and Dossier writes only
into a folder that has it (or an empty or new one)."""
FORMAT = b"dossier-cache 1 "
"""How every entry starts, followed by the hash of the rest and a newline."""
HASH = hashlib.blake2b
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


# ---- keys ----------------------------------------------------------------------------------

def digest(data: bytes) -> str:
    return HASH(data, digest_size=20).hexdigest()


def key(*parts: str | bytes) -> str:
    """A key for the parts (each length-prefixed, so no two lists of parts share one), and
    for this Dossier's CODE_VERSION."""
    h = HASH(digest_size=20)
    for part in (code_version(), *parts):
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


_CODE_VERSION: list[str] = []
LIBRARIES = ("jinja2", "markupsafe", "markdown-it-py", "pyyaml", "fastjsonschema", "jsonschema", "pagefind", "pagefind-bin")
"""Whose versions a result may depend on (markdown, templates, YAML, schemas, the index)."""


def code_version() -> str:
    """A hash of Dossier's own code and built-in theme, the Python and library versions: any
    upgrade (or a local change to Dossier) gives every key anew."""
    if not _CODE_VERSION:
        h = HASH(digest_size=20)
        h.update(f"{__version__} {sys.version}".encode())
        for name in LIBRARIES:
            try:
                h.update(f"{name}={metadata.version(name)}".encode())
            except metadata.PackageNotFoundError:
                h.update(f"{name}=none".encode())
        for folder in (PACKAGE, BUILTIN_THEME):
            for path in sorted(folder.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                    h.update(path.relative_to(folder).as_posix().encode() + b"\0")
                    h.update(HASH(path.read_bytes()).digest())
        _CODE_VERSION.append(h.hexdigest())
    return _CODE_VERSION[0]


# ---- the codec: JSON ↔ the model's frozen dataclasses ----------------------------------------
# Dataclasses become arrays of their fields, tuples and lists arrays, dicts objects. Decoding
# is driven by the types the dataclasses declare, and checks every value on the way: what does
# not fit raises Unexpected (the entry is then ignored), never anything else.

class Unexpected(ValueError):
    """A cache entry that does not decode into what was expected."""


def to_json(value: Any, skip: frozenset[str] = frozenset()) -> str:
    """`value` as JSON, each dataclass as the array of its fields (but those named in `skip`).
    The C encoder does the walking; it calls back only for the dataclasses."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_fields_of(skip))


def encode(value: Any, skip: frozenset[str] = frozenset()) -> Any:
    """`value` as plain JSON values (see to_json)."""
    return json.loads(to_json(value, skip))


def _fields_of(skip: frozenset[str]) -> Callable[[Any], list]:
    if skip in _DEFAULTS:
        return _DEFAULTS[skip]

    def fields(value: Any) -> list:
        names = field_names(type(value))
        if names is None:
            raise TypeError(f"{type(value).__name__} cannot be stored")
        return [getattr(value, name) for name in names if name not in skip]
    _DEFAULTS[skip] = fields
    return fields


_DEFAULTS: dict[frozenset[str], Callable[[Any], list]] = {}
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def field_names(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type, in order (None for any other type); looked up once."""
    try:
        return _FIELD_NAMES[kind]
    except KeyError:
        names = tuple(f.name for f in dataclasses.fields(kind)) if dataclasses.is_dataclass(kind) else None
        _FIELD_NAMES[kind] = names
        return names


def decoder(kind: Any) -> Callable[[Any], Any]:
    """The function that turns the JSON value of `kind` (a type, as the dataclasses declare
    them) back into it; made once per type."""
    if kind in _DECODERS:
        return _DECODERS[kind]
    _DECODERS[kind] = lambda value: made(value)  # a recursive type finds itself while being made
    made = _make_decoder(kind)
    _DECODERS[kind] = made
    return made


_DECODERS: dict[Any, Callable[[Any], Any]] = {}


def _make_decoder(kind: Any) -> Callable[[Any], Any]:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind in (str, int, bool, float):
        def scalar(value: Any, kind: type = kind) -> Any:
            if type(value) is not kind and not (kind is float and type(value) is int):
                raise Unexpected(f"{kind.__name__} expected")
            return value
        return scalar
    if kind is type(None) or kind is None:
        def none(value: Any) -> None:
            if value is not None:
                raise Unexpected("null expected")
        return none
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        inner = decoder(options[0]) if len(options) == 1 else None
        if inner is None:
            raise TypeError(f"cannot decode {kind}")
        return lambda value: None if value is None else inner(value)
    if origin in (tuple, list):
        if len(args) == 2 and args[1] is Ellipsis or origin is list:
            if args[0] in (str, int) and origin is tuple:  # ids, or positions: checked in one go
                def scalars(value: Any, item: type = args[0]) -> tuple:
                    if type(value) is not list or not all(type(v) is item for v in value):
                        raise Unexpected(f"array of {item.__name__} expected")
                    return tuple(value)
                return scalars
            item = decoder(args[0])
            wrap = tuple if origin is tuple else list

            def sequence(value: Any) -> Any:
                if type(value) is not list:
                    raise Unexpected("array expected")
                return wrap([item(v) for v in value])
            return sequence
        if all(a in (str, int) for a in args):  # a field's (name, line, column), a sentence's place

            def fixed_scalars(value: Any, kinds: tuple = args) -> tuple:
                if type(value) is not list or len(value) != len(kinds) \
                        or not all(type(v) is k for v, k in zip(value, kinds)):
                    raise Unexpected(f"array of {len(kinds)} expected")
                if kinds[0] is str:  # a name many items share: one string for all (validate._name)
                    value[0] = sys.intern(value[0])
                return tuple(value)
            return fixed_scalars
        items = [decoder(a) for a in args]

        def fixed(value: Any) -> tuple:
            if type(value) is not list or len(value) != len(items):
                raise Unexpected(f"array of {len(items)} expected")
            return tuple(f(v) for f, v in zip(items, value))
        return fixed
    if origin is dict:
        keys, values = decoder(args[0]), decoder(args[1])

        def mapping(value: Any) -> dict:
            if type(value) is not dict:
                raise Unexpected("object expected")
            return {keys(k): values(v) for k, v in value.items()}
        return mapping
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        fields = [decoder(hints[f.name]) for f in dataclasses.fields(kind)]
        count = len(fields)

        def record(value: Any) -> Any:
            if type(value) is not list or len(value) != count:
                raise Unexpected(f"{kind.__name__} expected")
            return kind(*[f(v) for f, v in zip(fields, value)])
        return record
    raise TypeError(f"cannot decode {kind}")


def decode(kind: Any, value: Any) -> Any:
    """`value` (from JSON) as `kind`; Unexpected if it is not one."""
    try:
        return decoder(kind)(value)
    except Unexpected:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as exc:
        raise Unexpected(str(exc)) from None


# ---- the store ------------------------------------------------------------------------------

class CacheError(Exception):
    """The cache folder may not be used; the message says why and what to do."""


class Store:
    """The cache folder: JSON entries under `entries/`, raw files under `blobs/` (named by the
    hash of their bytes). Every read is checked; every write is atomic (a temporary file
    renamed into place), so a build killed while writing leaves at worst a stray temporary
    file, which the next sweep removes."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.checked: set[str] = set()
        """Folders of the cache known to be real folders (not links) in this process."""
        self.used: set[str] = set()
        """The entries and blobs this build read or wrote (relative paths): kept by `sweep`."""
        self.counts: dict[str, list[int]] = {}
        """Kind of entry → [found, not found] in this process (a build sets `pages` itself)."""

    # ---- entries ----
    def get(self, kind: str, entry_key: str) -> Any | None:
        """The JSON value filed under `kind`/`entry_key`, or None (missing, or not intact)."""
        path = self.entry_path(kind, entry_key)
        data = self._read(path)
        if data is not None and data.startswith(FORMAT):
            newline = data.find(b"\n")
            if newline > 0 and data[len(FORMAT):newline].decode("ascii", "replace") == digest(data[newline + 1:]):
                try:
                    value = json.loads(data[newline + 1:])
                except ValueError:
                    value = None
                if value is not None:
                    self.used.add(path)
                    self.counts.setdefault(kind, [0, 0])[0] += 1
                    return value
        self.counts.setdefault(kind, [0, 0])[1] += 1
        return None

    def reused(self, kind: str) -> tuple[int, int]:
        """(entries of `kind` found, looked for) in this build."""
        found, missed = self.counts.get(kind, (0, 0))
        return found, found + missed

    def summary(self) -> str:
        """What the build took from the cache, e.g. '999 of 1000 articles, 1190 of 1212 pages'."""
        return ", ".join(f"{found} of {total} {kind}" for kind, (found, total)
                         in ((k, self.reused(k)) for k in ("articles", "pages", "search")) if total)

    def put(self, kind: str, entry_key: str, value: Any) -> None:
        """File `value` (JSON data and dataclasses: see to_json) under `kind`/`entry_key`."""
        payload = to_json(value).encode("utf-8")
        path = self.entry_path(kind, entry_key)
        self._write(path, FORMAT + digest(payload).encode() + b"\n" + payload)
        self.used.add(path)

    # ---- blobs ----
    def read_blob(self, name: str) -> bytes | None:
        """The bytes stored under `name` (their hash), or None when missing or not intact."""
        if not is_name(name):
            return None
        path = self.blob_path(name)
        data = self._read(path)
        if data is None or digest(data) != name:
            return None
        self.used.add(path)
        return data

    def place_blob(self, name: str, data: bytes, target: Path) -> None:
        """Put the blob `name`, whose bytes `data` read_blob has just checked, at `target` (a
        path that does not exist yet): a hard link where it can be (no copy written: at 10,000
        articles, a warm build's pages are 1.4 GB), else the bytes written."""
        if not self._link_blob(name, target):
            target.write_bytes(data)

    def _link_blob(self, name: str, target: Path) -> bool:
        """False when the link cannot be made (another file system, no links, the blob is not
        a plain file)."""
        try:
            os.link(self.folder / self.blob_path(name), target, follow_symlinks=False)
        except (OSError, NotImplementedError):
            return False
        try:
            if stat.S_ISREG(os.lstat(target).st_mode):
                return True
            os.unlink(target)  # a link to a symbolic link, which read_blob would not have followed
        except OSError:
            pass
        return False

    def put_blob(self, data: bytes, source: Path | None = None) -> str:
        """Store bytes (a hard link to `source`, a file holding exactly them, where possible:
        no second copy is written); returns their name."""
        name = digest(data)
        path = self.blob_path(name)
        self.used.add(path)
        target = self.folder / path  # replaced even if there: the one there may be damaged
        if source is not None and self._folder_for(path):
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            try:
                os.link(source, tmp)
                os.replace(tmp, target)
                return name
            except OSError:
                pass  # another file system, or no links: a copy
        self._write(path, data)
        return name

    # ---- files ----
    @staticmethod
    def entry_path(kind: str, entry_key: str) -> str:
        return f"entries/{kind}/{entry_key[:2]}/{entry_key}"

    @staticmethod
    def blob_path(name: str) -> str:
        return f"blobs/{name[:2]}/{name}"

    def _read(self, path: str) -> bytes | None:
        try:
            fd = os.open(self.folder / path, OPEN_FLAGS)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            with os.fdopen(fd, "rb") as file:
                fd = -1
                return file.read()
        except OSError:
            return None
        finally:
            if fd >= 0:
                os.close(fd)

    def _folder_for(self, path: str) -> bool:
        """Make the folders that will hold `path` (relative to the cache), each a real folder:
        a link or a file in the way, which only a tampered cache has, is removed first, so no
        write ever follows a link out of the cache. False if that cannot be done."""
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            rel = "/".join(parts[:depth])
            if rel in self.checked:
                continue
            folder = self.folder / rel
            try:
                st = os.lstat(folder)
                if not stat.S_ISDIR(st.st_mode):
                    os.unlink(folder)
                    raise FileNotFoundError
            except FileNotFoundError:
                try:
                    os.mkdir(folder)
                except FileExistsError:
                    if not stat.S_ISDIR(os.lstat(folder).st_mode):
                        return False
                except OSError:
                    return False
            except OSError:
                return False
            self.checked.add(rel)
        return True

    def _write(self, path: str, data: bytes) -> None:
        target = self.folder / path
        if not self._folder_for(path):
            return
        try:
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as file:
                file.write(data)
            os.replace(tmp, target)
        except OSError:
            pass  # a cache that cannot be written only makes the next build slower

    # ---- keeping it small ----
    def sweep(self) -> int:
        """Delete what neither this build nor the one before it used (kept in `used.json`);
        returns how many files went. Only Dossier's own files are touched."""
        previous = self.get("builds", "used") or []
        self.counts.pop("builds", None)
        keep = self.used | {p for p in previous if isinstance(p, str)}
        self.put("builds", "used", sorted(self.used))
        keep.add(self.entry_path("builds", "used"))
        removed = 0
        for area in ("entries", "blobs"):
            for dirpath, _, names in os.walk(self.folder / area):
                rel = Path(dirpath).relative_to(self.folder).as_posix()
                for name in names:
                    if f"{rel}/{name}" not in keep:
                        try:
                            os.unlink(os.path.join(dirpath, name))
                            removed += 1
                        except OSError:
                            pass
        return removed


def is_name(name: Any) -> bool:
    """Whether `name` can be a blob's name (a hash: 40 hexadecimal digits), and so no path."""
    return type(name) is str and len(name) == 40 and all(c in "0123456789abcdef" for c in name)


# ---- where the cache may be --------------------------------------------------------------

def open_store(folder: Path, source: Path, out: Path | None) -> Store:
    """The store in `folder`, made (with its tag) if new; CacheError when the folder may not
    be one: see `refusal`."""
    problem = refusal(folder, source, out)
    if problem:
        raise CacheError(f"--cache {folder} {problem}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not _is_tagged(folder):
            (folder / TAG).write_bytes(TAG_TEXT)
    except OSError as exc:
        raise CacheError(f"--cache {folder} cannot be used: {exc.strerror or exc} (choose another folder, or "
                         "build with --no-cache)") from None
    return Store(folder)


def refusal(folder: Path, source: Path, out: Path | None) -> str | None:
    """Why `folder` may not hold the cache, or None. Like --out: not a link or a file, not the
    dossier folder, a folder holding it, its content/ or layouts/ (which the build reads),
    the output folder (which is published) or a folder inside or around it, the root, the
    home or the current folder, nor inside .git; and a folder with files in it only when it
    is already a Dossier cache (it has Dossier's CACHEDIR.TAG)."""
    from .write import _inside, _known
    if folder.is_symlink():
        return "is a symbolic link (give the folder itself, or choose another folder)"
    real = folder.resolve()
    if real.exists() and not real.is_dir():
        return "is a file, not a folder (choose a folder such as .dossier-cache/)"
    hint = " (choose a folder of its own, such as .dossier-cache/ inside the dossier, or build with --no-cache)"
    for place, name in ((Path("/"), "the root of the file system"), (_known(Path.home), "your home folder"),
                        (source, "the dossier folder"), (_known(Path.cwd), "the current folder")):
        if place is not None and _inside(place, real):
            return f"would be {name} or a folder that holds it" + hint
    for area in ("content", "layouts"):
        if _inside(real, source / area):
            return f"is inside the dossier's {area}/, which the build reads" + hint
    if out is not None and (_inside(real, out) or _inside(out.resolve(), real)):
        return "is the output folder, inside it or around it: the cache would be published or deleted with it" + hint
    if ".git" in real.parts:
        return "is inside a git repository's .git folder" + hint
    if real.is_dir() and not _is_tagged(real):
        try:
            names = sorted(os.listdir(real))
        except OSError as exc:
            return f"cannot be read: {exc.strerror or exc}" + hint
        if names:
            shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
            return f"already holds files that are not Dossier's cache ({shown})" + hint
    return None


def _is_tagged(folder: Path) -> bool:
    try:
        fd = os.open(folder / TAG, OPEN_FLAGS)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as file:
        return stat.S_ISREG(os.fstat(file.fileno()).st_mode) and file.read(len(TAG_TEXT) + 1) == TAG_TEXT


def cache_folder(source: Path, cache: Path | None, enabled: bool) -> Path | None:
    """Where a build's cache is: `cache`, else .dossier-cache/ in the dossier; None without one."""
    if not enabled:
        return None
    return cache if cache is not None else source / DEFAULT_FOLDER


