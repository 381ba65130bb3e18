"""YAML → plain Python values, keeping the line and column of every node.

PyYAML's own loaders forget positions and silently keep the last of two duplicate keys;
this composes the node graph, reports duplicates, and records where each value sits,
keyed by its path (`("annotations", 3, "quote")`).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import yaml

from .diagnostics import Diagnostic, Location, error

Path = tuple  # a path into the document: mapping keys (str) and list indexes (int)

MAX_NODES = 1_000_000
"""Limit on constructed nodes, so aliases cannot expand into a billion laughs."""


@dataclass
class YamlDoc:
    value: Any
    """The document as dicts, lists, str, int, float, bool, None."""
    file: str
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    """path → (line, column), 1-based: for a mapping entry its key, for a list item its start."""

    def at(self, path: Path) -> Location:
        """Location of the node at `path`, or of its nearest recorded ancestor."""
        path = tuple(path)
        while path not in self.positions and path:
            path = path[:-1]
        line, column = self.positions.get(path, (1, 1))
        return Location(self.file, line, column)


class _TooBig(Exception):
    pass


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it (about ten times faster), else the pure-Python one."""
STR_TAG = "tag:yaml.org,2002:str"


def parse_yaml(text: str, file: str, line_offset: int = 0) -> tuple[YamlDoc | None, list[Diagnostic]]:
    """Parse one YAML document; `line_offset` is added to every line (front matter)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 if mark else 1) + line_offset
        column = mark.column + 1 if mark else 0
        problem = exc.problem or exc.context or "invalid YAML"
        return None, [error(Location(file, line, column), f"YAML syntax error: {problem}",
                            "check the indentation, and quote values that contain ': ' or start with a special character")]
    except yaml.YAMLError as exc:
        return None, [error(Location(file, 1 + line_offset), f"YAML syntax error: {exc}")]
    finally:
        loader.dispose()
    doc = YamlDoc(None, file)
    if node is None:
        return doc, []
    diagnostics: list[Diagnostic] = []
    builder = _Builder(doc, diagnostics, line_offset)
    try:
        doc.value = builder.build(node, ())
    except _TooBig:
        return None, [error(Location(file, 1 + line_offset), "the YAML document is too large once its aliases are expanded",
                            "remove the '*alias' references that repeat large blocks")]
    return doc, diagnostics


class _Builder:
    def __init__(self, doc: YamlDoc, diagnostics: list[Diagnostic], line_offset: int):
        self.doc = doc
        self.diagnostics = diagnostics
        self.line_offset = line_offset
        self.count = 0
        self.constructor = yaml.SafeLoader("")

    def position(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1 + self.line_offset, node.start_mark.column + 1

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig
        if isinstance(node, yaml.MappingNode):
            return self.build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            result = []
            for index, item in enumerate(node.value):
                self.doc.positions.setdefault(path + (index,), self.position(item))
                result.append(self.build(item, path + (index,)))
            return result
        return self.scalar(node)

    def build_mapping(self, node: yaml.MappingNode, path: Path) -> dict:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            line, column = self.position(key_node)
            if key is None or isinstance(key, (list, dict)):
                self.diagnostics.append(error(Location(self.doc.file, line, column), "a mapping key must be a plain word",
                                              "write 'name: value'"))
                continue
            key = str(key)
            if key in first_line:
                self.diagnostics.append(error(
                    Location(self.doc.file, line, column), f"duplicate key '{key}' (first set on line {first_line[key]})",
                    "remove one of them: YAML keeps only one value per key"))
                continue
            first_line[key] = line
            self.doc.positions.setdefault(path + (key,), (line, column))
            result[key] = self.build(value_node, path + (key,))
        return result

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == STR_TAG:
            return node.value
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError):  # e.g. 2025-02-30: validation says what is wrong
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
