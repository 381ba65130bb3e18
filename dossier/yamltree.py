"""YAML → plain Python values, keeping the line and column of every node.

PyYAML's own loaders forget positions and silently keep the last of two duplicate keys;
this builds the values from the parser's events, reports duplicates, and records where each
value sits, keyed by its path (`("annotations", 3, "quote")`). A document nested deeper
than MAX_DEPTH levels, or too large once its aliases are expanded, is refused at its line.
"""
from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass, field
from typing import Any

import yaml

from .diagnostics import Diagnostic, Location, error

Path = tuple  # a path into the document: mapping keys (str) and list indexes (int)

NODE_ALLOWANCE = 1000
"""Constructed nodes may not exceed the text's length plus this: without aliases every node
takes at least one character, so only an alias bomb ("billion laughs") can pass it."""


@dataclass
class YamlDoc:
    value: Any
    """The document as dicts, lists, str, int, float, bool, None."""
    file: str
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    """path → (line, column), 1-based: for a mapping entry its key, for a list item its start."""
    parts: dict[Path, tuple[int, dict]] = field(default_factory=dict)
    """For a document parsed in pieces: an item's path → (line offset, positions within it)."""
    changed: tuple[Any, frozenset] | None = None
    """For a document re-parsed from an earlier one (reparse_changed): (that document, the
    paths of the items that changed); every other item is the earlier one's own object."""

    def at(self, path: Path) -> Location:
        """Location of the node at `path`, or of its nearest recorded ancestor."""
        path = tuple(path)
        part = self.parts.get(path[:2])
        if part is not None:
            offset, positions = part
            inner = path[2:]
            while inner not in positions and inner:
                inner = inner[:-1]
            line, column = positions.get(inner, (1, 1))
            return Location(self.file, line + offset, column)
        while path not in self.positions and path:
            path = path[:-1]
        line, column = self.positions.get(path, (1, 1))
        return Location(self.file, line, column)


class _Refused(Exception):
    """The document is refused as a whole: where, what, and how to fix it."""

    def __init__(self, mark, message: str, hint: str):
        super().__init__(message)
        self.mark, self.message, self.hint = mark, message, hint


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it (about ten times faster), else the pure-Python one."""
STR_TAG = "tag:yaml.org,2002:str"
MAX_DEPTH = 50
"""How deeply collections may nest. A dossier needs six levels; everything that reads a
document afterwards (the schema checks, pickling between processes) recurses once per level."""
TOO_BIG = "the YAML document is too large once its aliases are expanded"
TOO_DEEP = f"nesting deeper than {MAX_DEPTH} levels"
DEEP_HINT = "a dossier needs only a few levels: check the brackets and the indentation"
ALIAS_HINT = "remove the '*alias' references that repeat large blocks"
_CORE = "tag:yaml.org,2002:"
PLAIN_TAGS = {"scalar": {"!"} | {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp")},
              "mapping": {"!", _CORE + "map"}, "sequence": {"!", _CORE + "seq"}}
"""The explicit tags a dossier may use: they only say what a plain value already is. Any
other (!!binary, !!set, !custom, !!python/…) would be dropped or change the value unseen."""


def parse_yaml(text: str, file: str, line_offset: int = 0, depth: int = 0,
               loader_class=_Loader) -> tuple[YamlDoc | None, list[Diagnostic]]:
    """Parse one YAML document; `line_offset` is added to every line (front matter), and
    `depth` is how deeply the text is nested in the document it was cut from (a piece)."""
    loader = loader_class(text)
    try:
        return _compose(loader, file, line_offset, len(text) + NODE_ALLOWANCE, depth)
    except yaml.MarkedYAMLError as exc:
        if loader_class is not yaml.SafeLoader and "maximum nesting depth" in str(exc.problem):
            # libyaml (0.2.5, in PyYAML 6.0.4's wheels) refuses ~1,000 levels while scanning
            # ahead, before the events reach MAX_DEPTH: the pure-Python parser finds the level
            # past MAX_DEPTH and reports it as every other too-deep document is reported
            return parse_yaml(text, file, line_offset, depth, yaml.SafeLoader)
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 if mark else 1) + line_offset
        column = mark.column + 1 if mark else 0
        problem = exc.problem or exc.context or "invalid YAML"
        return None, [error(Location(file, line, column), f"YAML syntax error: {problem}",
                            "check the indentation, and quote values that contain ': ' or start with a special character")]
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: no mark, only an offset
        at = text.find(chr(exc.character)) if isinstance(exc.character, int) else -1
        line, column = (text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)) if at >= 0 else (1, 0)
        code = f"U+{exc.character:04X}" if isinstance(exc.character, int) else "?"
        return None, [error(Location(file, line + line_offset, column),
                            f"YAML does not allow the control character {code} in a file",
                            f"remove it, or write it as an escape in a double-quoted string, e.g. \"\\u{code[2:]}\"")]
    except yaml.YAMLError as exc:
        return None, [error(Location(file, 1 + line_offset), f"YAML syntax error: {exc}")]
    except _Refused as refused:
        where = Location(file, line_offset + 1) if refused.mark is None else \
            Location(file, refused.mark.line + 1 + line_offset, refused.mark.column + 1)
        return None, [error(where, refused.message, refused.hint)]
    finally:
        loader.dispose()


# The document is built from the parser's events in one loop with an explicit stack: PyYAML's
# composers recurse once per level (libyaml's in C, which crashes the process on a deeply
# nested document), and building plain values straight from the events is faster than
# composing nodes first.
_VALUE, _PATH, _IS_MAP, _KEY, _RECORD, _ANCHOR, _HEIGHT, _COUNT = range(8)
"""The fields of a stack frame (a list, for speed): the dict or list being built; its path;
whether it is a mapping; for a mapping the key whose value comes next (_NO_KEY while a key is
expected, _SKIP to drop the value); whether positions and problems are recorded inside it (not
in a value that is dropped); its anchor; how many levels it holds; the node count at its start."""
_NO_KEY, _SKIP, _OPEN = object(), object(), object()
_EVENTS = yaml.events
_RESOLVERS = {first: tuple(resolvers) for first, resolvers in _Loader.yaml_implicit_resolvers.items()}
"""Implicit tags by the first character of a plain scalar (SafeLoader's table, without wildcards)."""


def _compose(loader, file: str, line_offset: int, limit: int, depth: int) -> tuple[YamlDoc, list[Diagnostic]]:
    doc = YamlDoc(None, file)
    diagnostics: list[Diagnostic] = []
    positions = doc.positions
    get = loader.get_event
    get()  # stream start
    event = get()
    if type(event) is _EVENTS.StreamEndEvent:
        return doc, diagnostics
    document_start = event.start_mark
    constructor = yaml.constructor.SafeConstructor()  # not a SafeLoader, a reference cycle (its parser's state)
    anchors: dict[str, Any] = {}
    """name → (value, positions relative to it, node count, levels), or _OPEN while it is built."""
    scopes: list[tuple[int, dict]] = []
    """For each anchored collection being built: its path's length and the positions inside it."""
    stack: list[list] = []
    count = 0
    root: Any = _NO_KEY

    def problem(mark, message: str, hint: str) -> None:
        diagnostics.append(error(Location(file, mark.line + 1 + line_offset, mark.column + 1), message, hint))

    def check_tag(event, kind: str, record: bool) -> None:
        """An explicit tag must be a plain one, and a scalar's text must be of the kind it names."""
        tag = event.tag
        shown = "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag
        if tag not in PLAIN_TAGS[kind] and record:
            problem(event.start_mark, f"the YAML tag '{shown}' is not supported",
                    "remove it: a dossier holds plain text, numbers, dates, lists and mappings")
        elif kind == "scalar" and record and not _fits(tag, event.value):
            problem(event.start_mark, f"'{event.value}' is not a value of the YAML tag '{shown}'",
                    "remove the tag, or write a value of that kind")

    def take_key(frame: list, key: str, mark) -> None:
        """A mapping's next key, as written (`yes:` is 'yes', not True): its value comes next."""
        record = frame[_RECORD]
        if key == "":
            if record:
                problem(mark, "a mapping key must be a plain word", "write 'name: value'")
            frame[_KEY] = _SKIP
        elif key in frame[_VALUE]:
            if record:
                first = positions[frame[_PATH] + (key,)][0]
                problem(mark, f"duplicate key '{key}' (first set on line {first})",
                        "remove one of them: YAML keeps only one value per key")
            frame[_KEY] = _SKIP
        else:
            frame[_KEY] = key
            if record:
                path, where = frame[_PATH] + (key,), (mark.line + 1 + line_offset, mark.column + 1)
                positions[path] = where
                for length, inner in scopes:
                    inner[path[length:]] = where

    while True:
        event = get()
        kind = type(event)
        frame = stack[-1] if stack else None
        if kind is _EVENTS.MappingEndEvent or kind is _EVENTS.SequenceEndEvent:
            done = stack.pop()
            value, height = done[_VALUE], done[_HEIGHT] + 1
            if done[_ANCHOR] is not None:
                inner = scopes.pop()[1] if done[_RECORD] else {}
                anchors[done[_ANCHOR]] = (value, inner, count - done[_COUNT] + 1, height)
            frame = stack[-1] if stack else None
            is_key = frame is not None and frame[_IS_MAP] and frame[_KEY] is _NO_KEY
        elif kind is _EVENTS.DocumentEndEvent:
            break
        else:
            # Where the new value goes: its path, and whether what is in it is recorded.
            is_key = False
            if frame is None:
                path, record = (), True
            elif frame[_IS_MAP]:
                key = frame[_KEY]
                if key is _NO_KEY:  # the value is a key: nothing in it is recorded
                    is_key, path, record = True, frame[_PATH] + ("?",), False
                else:
                    path, record = frame[_PATH] + (key,), frame[_RECORD] and key is not _SKIP
            else:
                path, record = frame[_PATH] + (len(frame[_VALUE]),), frame[_RECORD]
                if record:
                    mark = event.start_mark
                    where = (mark.line + 1 + line_offset, mark.column + 1)
                    positions.setdefault(path, where)
                    for length, inner in scopes:
                        inner.setdefault(path[length:], where)
            anchor = event.anchor
            if anchor is not None and kind is not _EVENTS.AliasEvent and anchor in anchors:
                raise yaml.composer.ComposerError(f"found duplicate anchor {anchor!r}; first occurrence", None,
                                                  "second occurrence", event.start_mark)
            height = 0
            if kind is _EVENTS.ScalarEvent:
                if event.tag is not None:
                    check_tag(event, "scalar", frame[_RECORD] if is_key else record)
                if is_key:
                    take_key(frame, event.value, event.start_mark)
                    if anchor is not None:
                        anchors[anchor] = (event.value, {}, 1, 0)
                    continue
                value = _scalar(event, constructor)
                count += 1
                if anchor is not None:
                    anchors[anchor] = (value, {}, 1, 0)
            elif kind is _EVENTS.MappingStartEvent or kind is _EVENTS.SequenceStartEvent:
                if len(stack) + depth >= MAX_DEPTH:
                    raise _Refused(event.start_mark, TOO_DEEP, DEEP_HINT)
                if is_key and frame[_RECORD]:
                    problem(event.start_mark, "a mapping key must be a plain word", "write 'name: value'")
                is_map = kind is _EVENTS.MappingStartEvent
                if event.tag is not None:
                    check_tag(event, "mapping" if is_map else "sequence", record)
                count += 1
                if count > limit:
                    raise _Refused(None, TOO_BIG, ALIAS_HINT)
                stack.append([{} if is_map else [], path, is_map, _NO_KEY, record, anchor, 0, count])
                if anchor is not None:
                    anchors[anchor] = _OPEN
                    if record:
                        scopes.append((len(path), {}))
                continue
            elif kind is _EVENTS.AliasEvent:
                found = anchors.get(anchor)
                if found is None:
                    raise yaml.composer.ComposerError(None, None, f"found undefined alias {anchor!r}", event.start_mark)
                if found is _OPEN:
                    raise _Refused(event.start_mark, f"the alias '*{anchor}' is inside the block it repeats",
                                   "an alias cannot contain itself: remove it, or write out the values it stands for")
                value, inner, nodes, height = found
                if len(stack) + depth + height > MAX_DEPTH:
                    raise _Refused(event.start_mark, TOO_DEEP, DEEP_HINT)
                if is_key:
                    if isinstance(value, (dict, list)):
                        if frame[_RECORD]:
                            problem(event.start_mark, "a mapping key must be a plain word", "write 'name: value'")
                        frame[_KEY] = _SKIP
                    else:
                        take_key(frame, str(value), event.start_mark)
                    continue
                count += nodes
                if count > limit:
                    raise _Refused(None, TOO_BIG, ALIAS_HINT)
                if isinstance(value, (dict, list)):
                    value = copy.deepcopy(value)
                    if record:
                        for inner_path, where in inner.items():
                            positions.setdefault(path + inner_path, where)
                            for length, scope in scopes:
                                scope.setdefault((path + inner_path)[length:], where)
            else:
                raise yaml.composer.ComposerError(None, None, f"unexpected {kind.__name__}", event.start_mark)
        # The value is complete: it goes to its parent.
        if frame is None:
            root = value
            continue
        if frame[_HEIGHT] < height:
            frame[_HEIGHT] = height
        if is_key:  # a collection used as a key: reported when it began
            frame[_KEY] = _SKIP
        elif not frame[_IS_MAP]:
            frame[_VALUE].append(value)
        else:
            if frame[_KEY] is not _SKIP:
                frame[_VALUE][frame[_KEY]] = value
            frame[_KEY] = _NO_KEY
    event = get()
    if type(event) is not _EVENTS.StreamEndEvent:
        raise yaml.composer.ComposerError("expected a single document in the stream", document_start,
                                          "but found another document", event.start_mark)
    doc.value = None if root is _NO_KEY else root
    return doc, diagnostics


def _resolved_tag(text: str) -> str:
    """The tag a plain scalar's text implies: int for 12, timestamp for 2025-06-12, else str."""
    for tag, pattern in _RESOLVERS.get(text[:1], ()):
        if pattern.match(text):
            return tag
    return STR_TAG


def _fits(tag: str, text: str) -> bool:
    """Whether a scalar's text is of the kind its explicit tag names (any text is a !!str)."""
    implicit = _resolved_tag(text)
    return tag in ("!", STR_TAG) or implicit == tag or (tag == _CORE + "float" and implicit == _CORE + "int")


def _scalar(event, constructor) -> Any:
    """A scalar's value as PyYAML's SafeLoader reads it, except that dates become ISO strings,
    and a value that does not construct (2025-02-30, an unknown tag) stays the text it is."""
    tag, value = event.tag, event.value
    if tag is None or tag == "!":
        if not event.implicit[0]:
            return value  # quoted
        tag = _resolved_tag(value)
    elif tag not in PLAIN_TAGS["scalar"] or not _fits(tag, value):
        return value  # reported (check_tag); the text stays
    if tag == STR_TAG:
        return value
    node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, style=event.style)
    try:
        value = constructor.construct_object(node, deep=True)
    except Exception:  # e.g. 2025-02-30, or !!float x: PyYAML raises all kinds; validation says what is wrong
        return str(node.value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float) and value != value:  # .nan is never meant
        return str(node.value)
    return value
