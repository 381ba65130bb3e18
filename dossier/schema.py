"""The JSON Schemas in dossier/schema/ applied to YAML documents, errors turned into diagnostics.

`check` uses these same files that editors' tools load through the `$schema` line, so the
schema and the checker cannot disagree.
"""
from __future__ import annotations

import copy
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
    return fastjsonschema.compile(copy.deepcopy(load_schema(name)))  # it rewrites the $refs it is given


def check_schema(doc: YamlDoc, name: str) -> list[Diagnostic]:
    """Every way `doc` breaks the named schema, each pointing at the offending line."""
    try:
        _fast_check(name)(doc.value)
        return []
    except fastjsonschema.JsonSchemaException:
        pass  # invalid: let jsonschema find and explain every error
    diagnostics = []
    for err in validator(name).iter_errors(doc.value):
        diagnostics += _describe(err, doc, name)
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
        diagnostics += _describe(err, view, name)
    return diagnostics


class _Remapped:
    """A document seen through a path mapping (item-local paths → document paths)."""

    def __init__(self, doc: YamlDoc, remap, value):
        self.doc, self.remap, self.value = doc, remap, value

    def at(self, path):
        return self.doc.at(tuple(path))


def _describe(err: jsonschema.ValidationError, doc: YamlDoc, name: str) -> list[Diagnostic]:
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
        return [_unknown_field(doc, name, path, key, schema, known) for key in extra]
    if kind == "type" and schema.get("type") == "object" and "properties" in schema and len(path) >= 2:
        return [_not_an_item(doc, path, err.instance, schema)]  # a value where an item's fields belong
    if kind == "required":
        missing = err.message.split("'")[1]
        description = _description(err, missing)
        where = f" in {_item_label(doc, path)}" if path else ""
        return [error(doc.at(path), f"missing required field '{missing}'{where}",
                      f"add '{missing}:' — {description[0].lower() + description[1:]}" if description else f"add '{missing}:'")]
    if kind == "propertyNames":
        return []  # reported through the nested error below, with the key's own line
    if "x-message" in schema and kind in ("pattern", "not", "minimum", "maximum"):
        value = err.instance
        if kind == "not":
            return [error(doc.at(path + ("verdict",)), f"{_item_label(doc, path)} {schema['x-message']}", schema.get("x-hint", ""))]
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
    if kind == "minItems" and path[-1:] == ("cite",):
        return [_empty_cite(doc, path)]
    if kind == "minItems":
        return [error(doc.at(path), f"{field} must list at least {schema['minItems']} item", "add a reference id")]
    if kind == "minLength":
        return [error(doc.at(path), f"{field} is empty", "write a value or remove the field")]
    if kind == "pattern":
        return [error(doc.at(path), f"{field} '{err.instance}' has the wrong form", f"it must match {schema['pattern']}")]
    return [error(doc.at(path), f"{field}: {err.message}")]


# ---- values at the wrong indentation ----------------------------------------------------------
#
# A field indented less than its item's other fields becomes a sibling of the item (an
# "entity" named 'relations'), or of the section (a top-level 'relations:'); a field indented
# less than a relation's becomes a field of the entity. Each is then a value the schema
# refuses; these say where it most likely belongs.

def _unknown_field(doc, name: str, path: tuple, key: str, schema: dict, known: list[str]) -> Diagnostic:
    """An unknown field, or a field of the item above at the wrong indentation."""
    where = doc.at(path + (key,))
    owner = _owner_above(doc, name, path, key, schema)
    if owner is not None:
        return error(where, f"unknown field '{key}'; check the indentation: it is probably a field of {owner} above",
                     f"indent '{key}:' as far as the other fields of {owner}")
    if key == "<<":
        return error(where, "unknown field '<<': YAML merge keys are not supported",
                     "write the fields out in full: each item says everything about itself")
    return error(where, f"unknown field '{key}'", did_you_mean(key, known) or f"known fields: {', '.join(known)}")


def _owner_above(doc, name: str, path: tuple, key: str, schema: dict) -> str | None:
    """The item that `key`, found in the mapping at `path`, is a field of when it sits right
    after that item's block: the last item of the nearest field above that is a section or a
    list of items (skipping other stray keys), if `key` is one of its items' fields."""
    mapping = _value_at(doc, path)
    if not isinstance(mapping, dict) or key not in mapping:
        return None
    properties = schema.get("properties", {})
    above = list(mapping)[:list(mapping).index(key)]
    while above and above[-1] not in properties:
        above.pop()
    if not above:
        return None
    section = above[-1]
    container, items = mapping[section], _items_schema(properties[section], name)
    if items is None or key not in items[1].get("properties", {}):
        return None
    shape, fields = items[0], items[1].get("properties", {})
    if shape == "single":
        return f"'{section}'" if isinstance(container, dict) else None
    if shape == "keyed" and isinstance(container, dict):
        last = _last_item(container, list(container), fields)
    elif shape == "list" and isinstance(container, list):
        last = next((n for n in reversed(range(len(container))) if isinstance(container[n], dict)), None)
    else:
        return None
    return None if last is None else _item_label(doc, path + (section, last))


def _last_item(container: dict, keys: list, fields: dict) -> str | None:
    """The last of `keys` that is an item of `container`, not one of its items' fields
    outdented (a field name with a value that is not a mapping)."""
    return next((k for k in reversed(keys) if isinstance(container[k], dict) or k not in fields), None)


def _not_an_item(doc, path: tuple, value: Any, schema: dict) -> Diagnostic:
    """A scalar, list or nothing where an item (a mapping of fields) belongs."""
    item = path[-1]
    what = SINGULAR.get(str(path[-2]), str(path[-2]))
    required = schema.get("required", [])
    needed = "/".join(required) or ", ".join(sorted(schema.get("properties", {}))[:3])
    found = "empty" if value is None else _type_of(value)
    where = doc.at(path)
    if isinstance(item, int):
        return error(where, f"{_item_label(doc, path)} must be a mapping of fields ({needed}), not {found}",
                     f"write its fields after the '- ', one per line, e.g. '- {(required or ['…'])[0]}: …'")
    container = _value_at(doc, path[:-1])
    siblings, at = _key_order(container)
    n = at.get(item, 0)
    fields = schema.get("properties", {})
    owner = _last_item(container, siblings[max(0, n - len(fields) - 1):n], fields)
    if item in fields:  # a field of the item above, indented as an item
        article = "an" if what[:1] in "aeiou" else "a"
        if owner is None:
            return error(where, f"'{item}' is not {article} {what} (it has no {needed}); check the indentation: "
                                f"it looks like a field of {article} {what}",
                         f"indent '{item}:' under the {what} it belongs to")
        return error(where, f"'{item}' is not {article} {what} (it has no {needed}); check the indentation: "
                            f"it is probably a field of {what} '{owner}' above",
                     f"indent '{item}:' as far as the other fields of '{owner}'")
    below = []
    for key in siblings[n + 1:n + 1 + len(fields)]:  # the fields that follow it, until the next item
        if key not in fields or isinstance(container[key], dict):
            break
        below.append(key)
    if value is None and below:  # its fields follow it at its own indentation
        return error(where, f"{what} '{item}' is empty; check the indentation of the fields below it "
                            f"({', '.join(repr(k) for k in below[:3])})",
                     f"indent them under '{item}:', as far as each other")
    if value is None:
        return error(where, f"{what} '{item}' is empty", f"write its fields, {needed}, indented under '{item}:'")
    hint = f"write its fields, {needed}, one per line, indented under '{item}:'"
    if owner is not None and isinstance(container.get(owner), dict):
        close = did_you_mean(str(item), fields)
        hint += (f"; if it belongs to {what} '{owner}' above, check the indentation"
                 + (f": {close[:-1]}, a field of {what} '{owner}'?" if close else ""))
    return error(where, f"{what} '{item}' must be a mapping of fields, not {found}", hint)


_KEY_ORDER: list = [(None, [], {})]
"""The last mapping whose keys were listed, with its keys in order and each key's place: a
section of 100,000 broken items asks for the same one 100,000 times."""


def _key_order(mapping: Any) -> tuple[list, dict]:
    """The keys of `mapping` in document order, and each key's place among them."""
    if not isinstance(mapping, dict):
        return [], {}
    cached = _KEY_ORDER[0]  # read once: another thread may replace it
    if cached[0] is not mapping or len(cached[1]) != len(mapping):
        keys = list(mapping)
        cached = _KEY_ORDER[0] = (mapping, keys, {key: n for n, key in enumerate(keys)})
    return cached[1], cached[2]


def _value_at(doc, path: tuple) -> Any:
    """The value at `path` in the whole document (for an item checked alone, too)."""
    value = (doc.doc if isinstance(doc, _Remapped) else doc).value
    for part in path:
        if isinstance(value, dict) and part in value or \
                isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return None
    return value


def _items_schema(schema: dict, name: str) -> tuple[str, dict] | None:
    """What a field holds: ("keyed", item schema) for a section of items by id, ("list", item
    schema) for a list of items, ("single", its schema) for one mapping (site); else None."""
    schema = _resolved(schema, name)
    if isinstance(schema.get("additionalProperties"), dict):
        return "keyed", _resolved(schema["additionalProperties"], name)
    if isinstance(schema.get("items"), dict) and _resolved(schema["items"], name).get("type") == "object":
        return "list", _resolved(schema["items"], name)
    if schema.get("type") == "object" and "properties" in schema:
        return "single", schema
    return None


def _resolved(schema: dict, name: str) -> dict:
    _, found, definition = schema.get("$ref", "").partition("#/definitions/")
    return load_schema(name)["definitions"][definition] if found else schema


def _item_label(doc, path: tuple) -> str:
    """The item at `path` as a message names it, with the item it belongs to: `annotation
    'deal-price'`, `relation 'investor → meta' of entity 'scale-ai'`, `update 2 (2025-09-01) of
    claim 'stake'`, `event 3 ('The deal is announced')`. By position only when it has no id."""
    label = _item_name(path, _value_at(doc, path))
    return f"{label} of {_item_label(doc, path[:-2])}" if len(path) > 2 else label


def _empty_cite(doc, path: tuple) -> Diagnostic:
    """`cite: []`: a list of evidence that names none (as `annotate`'s stub leaves it)."""
    owner = path[:-1]
    item = _value_at(doc, owner)
    needed = owner[:1] == ("claims",) or (owner[:1] == ("annotations",) and isinstance(item, dict)
                                          and item.get("kind") == "fact-check")
    references = _value_at(doc, ("references",))
    example = next(iter(references), "ref-id") if isinstance(references, dict) else "ref-id"
    fix = f"write the ids of the references under 'references:' that support it, e.g. cite: [{example}]"
    what = "a claim" if owner[:1] == ("claims",) else "a fact check"
    return error(doc.at(path), f"'cite' of {_item_label(doc, owner)} lists no reference",
                 fix + (f"; {what} needs at least one" if needed else ", or remove 'cite:'"))


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


def _item_name(path: tuple, item: Any) -> str:
    """`annotation 'deal-price'`, `entity 'meta'`, `event 3 ('The deal')`, `annotation 3` (no id)…
    for messages about a whole item; `item` is its value, read for its id or what tells it apart."""
    if not path:
        return "the document"
    if len(path) == 1:
        return f"'{path[-1]}'"
    section = SINGULAR.get(str(path[-2]), str(path[-2]))
    if not isinstance(path[-1], int):
        return f"{section} '{path[-1]}'"
    fields = item if isinstance(item, dict) else {}

    def text(name: str) -> str:
        value = fields.get(name)
        return " ".join(str(value).split()) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""

    if text("id"):
        return f"{section} '{text('id')}'"
    if section == "relation" and text("type") and text("target"):
        return f"relation '{text('type')} → {text('target')}'"
    if section == "relation":
        detail = f"type '{text('type')}'" if text("type") else f"target '{text('target')}'" if text("target") else ""
    elif section == "event":
        detail = f"'{_short(text('title'), 60)}'" if text("title") else ""
    elif section == "update":
        detail = text("date")
    else:
        detail = ""
    return f"{section} {path[-1] + 1}" + (f" ({detail})" if detail else "")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _type_of(value: Any) -> str:
    if value is None:
        return "empty"
    return TYPE_NAMES.get({str: "string", bool: "boolean", int: "integer", float: "number",
                           list: "array", dict: "object"}.get(type(value), ""), type(value).__name__)
