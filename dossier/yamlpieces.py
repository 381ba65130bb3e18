"""A large YAML document parsed in pieces: its top-level sections cut into items, each item
parsed on its own (cacheable by its text, spread over the cores), the document assembled from
them; and an edit within lines re-parsed item by item. Whenever the pieces do not parse
cleanly on their own, the caller parses the whole document (yamltree.parse_yaml), which also
gives the exact errors.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from .diagnostics import Diagnostic
from .yamltree import Path, YamlDoc, parse_yaml

TOP_KEY = re.compile(r"([A-Za-z_][\w-]*):(?:[ \t]+#.*)?$")
"""A top-level `key:` line whose value is a block on the following lines."""


@dataclass(frozen=True)
class Piece:
    """One item of a top-level block collection: parsed on its own, cacheable by its text."""

    path: Path
    """("annotations", 3) for a list item, ("entities", "meta") for a mapping entry."""
    text: str
    """The item's lines, as they are in the file."""
    line: int
    """0-based line of the file where the piece starts."""


def split_pieces(text: str) -> tuple[dict[str, int], list[Piece]] | None:
    """The document cut into top-level sections and their items, or None when its shape is
    not the plain block style this handles (the caller then parses it whole)."""
    lines = text.split("\n")
    sections: dict[str, int] = {}
    pieces: list[Piece] = []
    starts = [i for i, line in enumerate(lines) if line and not line[0].isspace() and not line.startswith("#")]
    for n, start in enumerate(starts):
        match = TOP_KEY.match(lines[start])
        if not match or match.group(1) in sections:
            return None  # a flow value, a document marker, a duplicate key: let the full parser say
        key = match.group(1)
        sections[key] = start
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        items = _split_items(lines, start + 1, end, key)
        if items is None:
            return None
        pieces += items
    return sections, pieces


def _split_items(lines: list[str], start: int, end: int, section: str) -> list[Piece] | None:
    body = [i for i in range(start, end) if lines[i].strip() and not lines[i].lstrip().startswith("#")]
    if not body:
        return []
    first = lines[body[0]]
    indent = len(first) - len(first.lstrip(" "))
    if indent == 0 or "\t" in first[:indent + 1]:
        return None
    is_list = first[indent:].startswith("- ") or first[indent:] == "-"
    heads = [i for i in body if len(lines[i]) - len(lines[i].lstrip(" ")) == indent]
    pieces = []
    for n, head in enumerate(heads):
        stop = heads[n + 1] if n + 1 < len(heads) else end
        item = lines[head][indent:]
        if is_list != (item.startswith("- ") or item == "-"):
            return None
        key: Any = n
        if not is_list:
            match = re.match(r"([A-Za-z0-9_][\w.-]*):(\s|$)", item)
            if not match:
                return None
            key = match.group(1)
        pieces.append(Piece((section, key), "\n".join(lines[head:stop]), head))
    return pieces


def parse_piece(piece: Piece, file: str) -> tuple[Any, dict, list[Diagnostic]] | None:
    """(value, positions relative to the piece, diagnostics) — None if it did not parse
    cleanly on its own (the caller then parses the whole document, which says why)."""
    doc, diagnostics = parse_yaml(piece.text, file, depth=1)  # the piece's top is its section's, one level in
    if doc is None or diagnostics:
        return None
    value = doc.value
    key = piece.path[1]
    if isinstance(key, int):
        if not isinstance(value, list) or len(value) != 1:
            return None
        prefix = (0,)
    else:
        if not isinstance(value, dict) or list(value) != [key]:
            return None
        prefix = (key,)
    positions = {path[1:]: pos for path, pos in doc.positions.items() if path[:1] == prefix}
    positions[()] = doc.positions.get(prefix, (1, 1))
    return value[0] if isinstance(key, int) else value[key], positions, []


def assemble_pieces(text: str, file: str, sections: dict[str, int], pieces: list[Piece],
                    parsed: list[tuple[Any, dict, list] | None]) -> YamlDoc | None:
    """The document from its parsed pieces; None if any piece failed."""
    if any(p is None for p in parsed):
        return None
    doc = YamlDoc({}, file)
    for key, line in sections.items():
        doc.positions[(key,)] = (line + 1, 1)
        doc.value[key] = None
    for piece, result in zip(pieces, parsed):
        section, key = piece.path
        value, positions, _ = result
        container = doc.value[section]
        if container is None:
            container = doc.value[section] = [] if isinstance(key, int) else {}
        if isinstance(key, str) and key in container:
            return None  # a duplicate key: the whole-document parse reports it with both lines
        if isinstance(container, list):
            container.append(value)
        else:
            container[key] = value
        line, column = positions[()]
        doc.positions[piece.path] = (line + piece.line, column)
        doc.parts[piece.path] = (piece.line, positions)
    return doc


def parse_pieces(file: str, pieces: list[Piece]) -> list:
    """parse_piece over a batch (the unit of work handed to a worker process). Runs of
    consecutive items of one section are parsed as one document, which is much faster than
    item by item; a run that does not parse cleanly is parsed item by item instead."""
    results: list = []
    start = 0
    while start < len(pieces):
        end = start + 1
        while (end < len(pieces) and end - start < 256 and pieces[end].path[0] == pieces[start].path[0]
               and pieces[end].line == pieces[end - 1].line + pieces[end - 1].text.count("\n") + 1):
            end += 1
        run = pieces[start:end]
        results += _parse_run(run, file) or [parse_piece(piece, file) for piece in run]
        start = end
    return results


def _parse_run(run: list[Piece], file: str) -> list | None:
    """A run of consecutive items parsed as one document, split back into the items' results."""
    if len(run) == 1:
        return None
    doc, diagnostics = parse_yaml("_:\n" + "\n".join(piece.text for piece in run), file)
    if doc is None or diagnostics or not isinstance(doc.value, dict):
        return None
    container = doc.value.get("_")
    keys = [piece.path[1] for piece in run]
    is_list = isinstance(keys[0], int)
    if is_list:
        if not isinstance(container, list) or len(container) != len(run):
            return None
        local = list(range(len(run)))
    else:
        if not isinstance(container, dict) or list(container) != keys:
            return None
        local = keys
    first_line, starts = 2, []
    for piece in run:
        starts.append(first_line)
        first_line += piece.text.count("\n") + 1
    index = {key: n for n, key in enumerate(local)}
    positions: list[dict] = [{} for _ in run]
    for path, (line, column) in doc.positions.items():
        if len(path) >= 2 and path[0] == "_" and path[1] in index:
            n = index[path[1]]
            positions[n][path[2:]] = (line - starts[n] + 1, column)
    return [(container[key], positions[n], []) for n, key in enumerate(local)]


@dataclass
class Parsed:
    """A document parsed in pieces, kept to re-parse only what the next version changes."""

    text: str
    doc: YamlDoc
    pieces: list[Piece]
    offsets: list[int]
    """Where each piece starts in `text`."""

    @classmethod
    def of(cls, text: str, doc: YamlDoc, pieces: list[Piece]) -> "Parsed":
        offsets, at = [], 0
        for piece in pieces:  # in order, each found right at or just after the previous one
            at = text.index(piece.text, at)
            offsets.append(at)
            at += len(piece.text)
        return cls(text, doc, pieces, offsets)


def reparse_changed(previous: Parsed, text: str, file: str, parse) -> Parsed | None:
    """`text` parsed by re-parsing only the items that differ from `previous.text`, or None
    when the edit is not one this handles: it must stay within the items of one section and
    keep every line where it was (an edit within lines; adding or removing lines, items or
    sections takes the whole path). `parse(pieces)` parses pieces as parse_pieces does."""
    old = previous.text
    if text == old:
        return previous
    shortest = min(len(old), len(text))
    start = _common_prefix(old, text, shortest)
    tail = _common_suffix(old, text, shortest - start)
    old_end, grown = len(old) - tail, len(text) - len(old)
    if old.count("\n", start, old_end) != text.count("\n", start, old_end + grown):
        return None  # lines added or removed: every later item moves
    pieces, offsets = previous.pieces, previous.offsets
    first = bisect.bisect_right(offsets, start) - 1
    last = max(first, bisect.bisect_left(offsets, old_end) - 1)
    if first < 0 or start > offsets[first] + len(pieces[first].text) \
            or old_end > offsets[last] + len(pieces[last].text):
        return None  # the edit touches a section's heading or the lines between items
    section = pieces[first].path[0]
    if any(p.path[0] != section for p in pieces[first:last + 1]):
        return None
    lines = text[offsets[first]:offsets[last] + len(pieces[last].text) + grown].split("\n")
    if any(line and not line[0].isspace() and line[0] != "#" for line in lines):
        return None  # a line at the top level: a new section
    items = _split_items(lines, 0, len(lines), section)
    if items is None or len(items) != last - first + 1 or items[0].line != 0 \
            or _indent(items[0].text) != _indent(pieces[first].text):
        return None
    fresh = []
    for old_piece, item in zip(pieces[first:last + 1], items):
        if not isinstance(old_piece.path[1], int) and item.path != old_piece.path:
            return None  # a key renamed
        fresh.append(Piece(old_piece.path, item.text, pieces[first].line + item.line))
    results = parse(fresh)
    if any(r is None for r in results):
        return None
    doc = previous.doc
    value = dict(doc.value)
    container = value[section]
    container = list(container) if isinstance(container, list) else dict(container)
    value[section] = container
    new = YamlDoc(value, file, dict(doc.positions), dict(doc.parts))
    for piece, (item, positions, _) in zip(fresh, results):
        container[piece.path[1]] = item  # a list piece's key is its index in the section
        line, column = positions[()]
        new.positions[piece.path] = (line + piece.line, column)
        new.parts[piece.path] = (piece.line, positions)
    new.changed = (doc, frozenset(p.path for p in fresh))
    doc.changed = None  # the earlier version need not keep its own predecessor alive
    moved, at = [], offsets[first]
    for piece in fresh:
        moved.append(at)
        at += len(piece.text) + 1  # the items of a section follow each other, line after line
    return Parsed(text, new, pieces[:first] + fresh + pieces[last + 1:],
                  offsets[:first] + moved + [offset + grown for offset in offsets[last + 1:]])


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


_STRIDE = 1 << 16
"""Characters compared at a time while looking for where two versions of a file part: a slice
of a few kilobytes is copied in cache, one of half a large file costs a fresh allocation."""


def _common_prefix(a: str, b: str, limit: int) -> int:
    """Length of the common prefix of a and b (at most `limit`): slices of _STRIDE characters
    compared from the start, then the first that differs halved (each step one C-level
    comparison of slices)."""
    low = 0
    while True:
        high = min(limit, low + _STRIDE)
        if low == high:
            return low
        if a[low:high] != b[low:high]:
            break
        low = high
    while high - low > 1:  # a[:low] == b[:low], a[:high] != b[:high]
        mid = (low + high) // 2
        if a[low:mid] == b[low:mid]:
            low = mid
        else:
            high = mid
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the common suffix of a and b (at most `limit`), the same way from the end."""
    low = 0
    while True:
        high = min(limit, low + _STRIDE)
        if low == high:
            return low
        if a[len(a) - high:len(a) - low] != b[len(b) - high:len(b) - low]:
            break
        low = high
    while high - low > 1:  # the last `low` characters agree, the last `high` do not
        mid = (low + high) // 2
        if a[len(a) - mid:len(a) - low] == b[len(b) - mid:len(b) - low]:
            low = mid
        else:
            high = mid
    return low
