"""The JSON Schemas in dossier/schema/ applied to YAML documents, errors turned into diagnostics.

`check` uses these same files that editors' tools load through the `$schema` line, so the
schema and the checker cannot disagree.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema

from .diagnostics import Diagnostic, did_you_mean, error
from .yamltree import YamlDoc

SCHEMA_DIR = Path(__file__).parent / "schema"
TYPE_NAMES = {"string": "a string", "integer": "a whole number", "number": "a number", "boolean": "true or false",
              "array": "a list", "object": "a mapping of fields", "null": "empty"}


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    """`dossier/schema/<name>.schema.json` (annotations, article, page)."""
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def validator(name: str) -> jsonschema.Draft7Validator:
    """The validator that explains every error, with its path."""
    return jsonschema.Draft7Validator(load_schema(name))


@lru_cache(maxsize=None)
def _fast_check(name: str):
    """The same schema compiled to Python code: a quick yes/no for the common, valid case."""
    return fastjsonschema.compile(load_schema(name))


def check_schema(doc: YamlDoc, name: str) -> list[Diagnostic]:
    """Every way `doc` breaks the named schema, each pointing at the offending line."""
    try:
        _fast_check(name)(doc.value)
        return []
    except fastjsonschema.JsonSchemaException:
        pass  # invalid: let jsonschema find and explain every error
    diagnostics = []
    for err in validator(name).iter_errors(doc.value):
        diagnostics += _describe(err, doc)
    return diagnostics


def check_skeleton(doc: YamlDoc, name: str) -> list[Diagnostic]:
    """The top level of a document parsed in pieces: its sections, each emptied of its items."""
    skeleton = {key: [] if isinstance(value, list) else {} if isinstance(value, dict) and key != "site" else value
                for key, value in doc.value.items()}
    return _explain(skeleton, doc, name, lambda path: path)


def check_item(doc: YamlDoc, name: str, section: str, key, item) -> list[Diagnostic]:
    """One item of a section, checked as the only item of its section."""
    if isinstance(key, int):
        mini, local = {section: [item]}, 0
    else:
        mini, local = {section: {key: item}}, key
    return _explain(mini, doc, name, lambda path: (section, key) + path[2:] if path[1:2] == (local,) else path)


def _explain(value, doc: YamlDoc, name: str, remap) -> list[Diagnostic]:
    try:
        _fast_check(name)(value)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    view = _Remapped(doc, remap, value)
    diagnostics = []
    for err in validator(name).iter_errors(value):
        diagnostics += _describe(err, view)
    return diagnostics


class _Remapped:
    """A document seen through a path mapping (item-local paths → document paths)."""

    def __init__(self, doc: YamlDoc, remap, value):
        self.doc, self.remap, self.value = doc, remap, value

    def at(self, path):
        return self.doc.at(tuple(path))


def _describe(err: jsonschema.ValidationError, doc: YamlDoc) -> list[Diagnostic]:
    path = tuple(err.absolute_path)
    if isinstance(doc, _Remapped):  # an item checked alone: its path in the whole document
        path = doc.remap(path)
    if "propertyNames" in err.absolute_schema_path:  # the error is about a key: point at it
        path = path + (err.instance,)
    field = _field_name(path)
    schema = err.schema if isinstance(err.schema, dict) else {}
    kind = err.validator
    if kind == "additionalProperties":
        known = sorted(schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(known))
        return [error(doc.at(path + (key,)), f"unknown field '{key}'",
                      did_you_mean(key, known) or f"known fields: {', '.join(known)}") for key in extra]
    if kind == "required":
        missing = err.message.split("'")[1]
        description = _description(err, missing)
        where = f" in {_item_name(path)}" if path else ""
        return [error(doc.at(path), f"missing required field '{missing}'{where}",
                      f"add '{missing}:' — {description[0].lower() + description[1:]}" if description else f"add '{missing}:'")]
    if kind == "propertyNames":
        return []  # reported through the nested error below, with the key's own line
    if "x-message" in schema and kind in ("pattern", "not", "minimum", "maximum"):
        value = err.instance
        if kind == "not":
            return [error(doc.at(path + ("verdict",)), f"{_item_name(path)} {schema['x-message']}", schema.get("x-hint", ""))]
        if "propertyNames" in err.absolute_schema_path and len(path) >= 2:  # a key: "source '../x' is not a valid id"
            what = SINGULAR.get(str(path[-2]), str(path[-2]))
            return [error(doc.at(path), f"{what} '{value}' {schema['x-message']}", schema.get("x-hint", ""))]
        return [error(doc.at(path), f"{field.strip(chr(39))}: '{value}' {schema['x-message']}", schema.get("x-hint", ""))]
    if kind == "type" and err.instance is None:
        return [error(doc.at(path), f"{field} is empty", "write a value after the colon, or remove the field")]
    if kind == "type":
        types = schema.get("type")
        types = types if isinstance(types, list) else [types]
        expected = " or ".join(TYPE_NAMES[t] for t in types)
        return [error(doc.at(path), f"{field} must be {expected}, not {_type_of(err.instance)}", TYPE_HINTS.get(types[0], ""))]
    if kind == "enum":
        options = schema["enum"]
        if err.instance is None:
            return [error(doc.at(path), f"{field} is empty", f"choose one of {', '.join(options)}")]
        return [error(doc.at(path), f"{field} must be one of {', '.join(options)}; '{_as_written(err.instance)}' is not",
                      did_you_mean(str(_as_written(err.instance)), options) or "write one of these values exactly")]
    if kind == "minItems":
        return [error(doc.at(path), f"{field} must list at least {schema['minItems']} item", "add a reference id")]
    if kind == "minLength":
        return [error(doc.at(path), f"{field} is empty", "write a value or remove the field")]
    if kind == "pattern":
        return [error(doc.at(path), f"{field} '{err.instance}' has the wrong form", f"it must match {schema['pattern']}")]
    return [error(doc.at(path), f"{field}: {err.message}")]


TYPE_HINTS = {"string": "write the text after the colon; put it in quotes if it starts with [ or { or contains ': '",
              "array": "write a list, e.g. [first-id, second-id]",
              "object": "write one 'field: value' per line, indented under this key",
              "integer": "write a whole number", "number": "write a number", "boolean": "write true or false"}
"""How to write a value of each JSON type in YAML: the fix for a value of the wrong type."""


def _as_written(value: Any) -> Any:
    """A scalar as the editor wrote it in YAML (true, not Python's True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


SECTION_DEFINITIONS = {"sources": "source", "entities": "entity", "references": "reference", "events": "event",
                       "claims": "claim", "annotations": "annotation", "relations": "relation", "site": "site"}


def _description(err: jsonschema.ValidationError, field: str) -> str:
    """The schema's description of `field`, from the definition of the item it belongs to."""
    found = err.schema.get("properties", {}).get(field, {}).get("description")
    if found:
        return found
    for part in reversed(err.absolute_path):
        if isinstance(part, str) and part in SECTION_DEFINITIONS:
            definition = load_schema("annotations")["definitions"][SECTION_DEFINITIONS[part]]
            return definition.get("properties", {}).get(field, {}).get("description", "")
    return ""


def _field_name(path: tuple) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return f"'{part}'"
    return "the document"


SINGULAR = {"sources": "source", "entities": "entity", "references": "reference", "events": "event",
            "claims": "claim", "annotations": "annotation", "relations": "relation", "updates": "update",
            "aliases": "alias", "disclosures": "disclosure"}


def _item_name(path: tuple) -> str:
    """`annotation 3`, `entity 'meta'`… for messages about a whole item."""
    if not path:
        return "the document"
    if len(path) >= 2:
        section = SINGULAR.get(str(path[-2]), str(path[-2]))
        return f"{section} {path[-1] + 1}" if isinstance(path[-1], int) else f"{section} '{path[-1]}'"
    return f"'{path[-1]}'"


def _type_of(value: Any) -> str:
    if value is None:
        return "empty"
    return TYPE_NAMES.get({str: "string", bool: "boolean", int: "integer", float: "number",
                           list: "array", dict: "object"}.get(type(value), ""), type(value).__name__)
