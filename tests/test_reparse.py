"""serve re-parses only the items of annotations.yaml that an edit touches: the result must be
the document a whole parse gives — the same values, the same line and column of every node,
the same problems — whatever the edit."""
from __future__ import annotations

import random

import pytest

from conftest import ROOT
from dossier.load import PREVIOUS, parse_large_yaml
from dossier import validate
from dossier.validate import validate_annotations
from dossier.yamltree import parse_yaml

TEXT = (ROOT / "annotations.yaml").read_text(encoding="utf-8")
WORDS = ["Meta", "x", "", " ", "#", ": ", "- ", "'", '"', "{", "}", "[", "verdict", "zq", "é", "\t", "|"]


def same_document(incremental, whole) -> None:
    assert incremental.value == whole.value
    for path in whole.positions:
        assert incremental.at(path) == whole.at(path), path


def edits(seed: int, count: int):
    """(description, new text): edits within one line, of words, punctuation and indentation."""
    rng = random.Random(seed)
    lines = TEXT.split("\n")
    for _ in range(count):
        n = rng.randrange(len(lines))
        line = lines[n]
        at = rng.randrange(len(line) + 1)
        cut = rng.randrange(0, min(8, len(line) - at) + 1)
        word = rng.choice(WORDS)
        changed = line[:at] + word + line[at + cut:]
        yield f"line {n + 1}: {line!r} → {changed!r}", "\n".join(lines[:n] + [changed] + lines[n + 1:])


def test_an_unchanged_file_is_the_same_document():
    cache: dict = {}
    first, _ = parse_large_yaml(TEXT, "annotations.yaml", cache)
    again, _ = parse_large_yaml(TEXT, "annotations.yaml", cache)
    assert again is first


@pytest.mark.parametrize("seed", range(4))
def test_an_edit_within_lines_reparses_to_the_whole_parse(seed):
    cache: dict = {}
    parse_large_yaml(TEXT, "annotations.yaml", cache)
    reparsed = 0
    for what, text in edits(seed, 15):
        before = cache[PREVIOUS] if PREVIOUS in cache else None
        doc, problems = parse_large_yaml(text, "annotations.yaml", cache)
        whole, whole_problems = parse_yaml(text, "annotations.yaml")
        assert (doc is None) == (whole is None), what
        assert [p.format() for p in problems] == [p.format() for p in whole_problems], what
        if doc is not None:
            same_document(doc, whole)
            reparsed += doc.changed is not None and before is not None
        # back to the original, which must come out as it was
        doc, problems = parse_large_yaml(TEXT, "annotations.yaml", cache)
        assert problems == [] and doc.value == parse_yaml(TEXT, "annotations.yaml")[0].value
    assert reparsed > 3, "most edits within a line take the fast path"


def test_an_edit_spanning_several_items_keeps_every_line():
    cache: dict = {}
    parse_large_yaml(TEXT, "annotations.yaml", cache)
    first = TEXT.replace("verdict: accurate\n    claim: scale-founding", "verdict: acurate\n    claim: scale-founding", 1)
    both = TEXT.replace("note: AP reports that Wang founded", "note: AP says that Wang founded", 1)  # undoes the first
    parse_large_yaml(first, "annotations.yaml", cache)
    doc, _ = parse_large_yaml(both, "annotations.yaml", cache)
    assert doc.changed is not None and len(doc.changed[1]) > 1
    same_document(doc, parse_yaml(both, "annotations.yaml")[0])


def test_a_new_line_or_item_takes_the_whole_path():
    cache: dict = {}
    parse_large_yaml(TEXT, "annotations.yaml", cache)
    added = TEXT.replace("  - id: gig-founded-2016\n", "  - id: gig-founded-2016\n    # a comment\n", 1)
    doc, _ = parse_large_yaml(added, "annotations.yaml", cache)
    assert doc.changed is None
    same_document(doc, parse_yaml(added, "annotations.yaml")[0])


def test_validation_after_a_reparse_equals_a_fresh_validation(monkeypatch):
    cache, items = {}, {}
    doc, _ = parse_large_yaml(TEXT, "annotations.yaml", cache)
    validate_annotations(doc, [], items)
    checked = []
    real = validate.check_skeleton
    monkeypatch.setattr(validate, "check_skeleton", lambda *a: checked.append(1) or real(*a))
    for edit in (("verdict: accurate\n    claim: scale-founding", "verdict: acurate\n    claim: scale-founding"),
                 ("note: AP reports that Wang founded", "note: AP says that Wang founded"),
                 ("cite: [ap-founding]\n    entities: [scale-ai, alexandr-wang, lucy-guo]",
                  "cite: [ap-fundng]\n    entities: [scale-ai, alexandr-wang, lucy-guo]")):
        text = TEXT.replace(*edit, 1)
        assert text != TEXT
        doc, _ = parse_large_yaml(text, "annotations.yaml", cache)
        assert doc.changed is not None, edit
        fast, fresh = [], []
        annotations = validate_annotations(doc, fast, items)
        assert checked == [], "only the changed item was checked"
        expected = validate_annotations(parse_large_yaml(text, "annotations.yaml")[0], fresh)
        assert annotations == expected
        assert sorted(p.format() for p in fast) == sorted(p.format() for p in fresh)
        checked.clear()


def test_edits_on_top_of_each_other_stay_in_step_with_a_whole_parse():
    rng = random.Random(7)
    cache: dict = {}
    text = TEXT
    parse_large_yaml(text, "annotations.yaml", cache)
    lines = text.split("\n")
    notes = [n for n, line in enumerate(lines) if line.startswith("    note: ") and len(line) > 20]
    for _ in range(25):  # valid edits that change lengths, so later items move within their lines
        n = rng.choice(notes)
        lines[n] = lines[n] + rng.choice([" more", "", " é"]) if rng.random() < .5 else lines[n][:-3]
        text = "\n".join(lines)
        doc, problems = parse_large_yaml(text, "annotations.yaml", cache)
        whole, whole_problems = parse_yaml(text, "annotations.yaml")
        assert [p.format() for p in problems] == [p.format() for p in whole_problems]
        if whole is not None:
            same_document(doc, whole)


def test_valid_edits_patch_the_annotations_in_place_and_equal_a_fresh_validation(monkeypatch):
    """After an edit that leaves every item valid, serve puts the changed items in place of
    the old ones instead of assembling all of Annotations again: the same result."""
    cache, items = {}, {}
    doc, _ = parse_large_yaml(TEXT, "annotations.yaml", cache)
    validate_annotations(doc, [], items)
    assembled = []
    real = validate._annotations
    monkeypatch.setattr(validate, "_annotations", lambda *a: assembled.append(1) or real(*a))
    text = TEXT
    for old, new in (("note: A row of hashtags from the scraped page", "note: A row of hashtags off the page"),  # annotations
                     ("    title: Facebook's $19 billion WhatsApp deal", "    title: Facebook's WhatsApp deal"),  # events
                     ('statement: "Meta paid about $14.3 billion', 'statement: "Meta paid some $14.3 billion'),  # claims
                     ("    name: TIME\n", "    name: Time magazine\n")):  # sources
        text = text.replace(old, new, 1)
        doc, _ = parse_large_yaml(text, "annotations.yaml", cache)
        assert doc.changed is not None, old
        patched = validate_annotations(doc, [], items)
        assert assembled == [], f"assembled again after: {old}"
        monkeypatch.setattr(validate, "_annotations", real)
        assert patched == validate_annotations(parse_large_yaml(text, "annotations.yaml")[0], [])
        monkeypatch.setattr(validate, "_annotations", lambda *a: assembled.append(1) or real(*a))
    assert [e.title for e in patched.events][0] == "Facebook's WhatsApp deal"


@pytest.mark.parametrize("old, new, message", [
    ("    relations:\n      - {type: founder, target: alexandr-wang",  # a field outdented to the entities' level
     "  relations:\n      - {type: founder, target: alexandr-wang",
     "annotations.yaml:{line}:3: error: 'relations' is not an entity (it has no name/type); check the indentation: "
     "it is probably a field of entity 'scale-ai' above"),
    ("  - id: gig-founded-2016\n    article: gig-workers-left-behind\n",  # a scalar where an annotation belongs
     "  - gig-founded-2016\n  - article: gig-workers-left-behind\n",
     "annotations.yaml:{line}:5: error: annotation "),
])
def test_items_that_are_not_mappings_are_the_same_errors_whichever_path_reads_them(old, new, message):
    """A whole parse, a parse in pieces, and serve's re-parse and re-check of an edited file
    all report a value where an item belongs, at its line, and drop nothing silently."""
    cache, items = {}, {}
    validate_annotations(parse_large_yaml(TEXT, "annotations.yaml", cache)[0], [], items)
    edited = TEXT.replace(old, new, 1)
    assert edited != TEXT
    message = message.format(line=TEXT[:TEXT.index(old)].count("\n") + 1)  # the line of the edited item
    for text in (edited, TEXT, edited):  # in, back out, and in again: the caches must not keep stale results
        served, pieces, whole = [], [], []
        validate_annotations(parse_large_yaml(text, "annotations.yaml", cache)[0], served, items)
        doc = parse_large_yaml(text, "annotations.yaml")[0]
        assert doc.parts, "parsed in pieces"
        validate_annotations(doc, pieces)
        validate_annotations(parse_yaml(text, "annotations.yaml")[0], whole)
        errors = sorted(p.format() for p in whole if p.level == "error")
        assert sorted(p.format() for p in served if p.level == "error") == errors
        assert sorted(p.format() for p in pieces if p.level == "error") == errors
        assert any(e.startswith(message) for e in errors) == (text is edited), errors


@pytest.mark.parametrize("stride", [1, 2, 7, 1 << 16])
def test_where_two_versions_part_is_found_exactly_at_any_stride(monkeypatch, stride):
    """The common prefix and suffix of two versions (compared a stride at a time, then halved)
    are what comparing character by character gives."""
    from dossier import yamlpieces
    monkeypatch.setattr(yamlpieces, "_STRIDE", stride)
    rng = random.Random(stride)
    for _ in range(2000):
        a = "".join(rng.choice("ab—\n") for _ in range(rng.randint(0, 30)))
        b = list(a)
        for _ in range(rng.randint(0, 2)):
            if b:
                b[rng.randrange(len(b))] = rng.choice("abc")
        if rng.random() < 0.4:
            b.insert(rng.randint(0, len(b)), rng.choice("xy"))
        b = "".join(b)
        limit = min(len(a), len(b))
        prefix = next((i for i in range(limit) if a[i] != b[i]), limit)
        assert yamlpieces._common_prefix(a, b, limit) == prefix, (a, b)
        rest = limit - prefix
        suffix = next((i for i in range(rest) if a[-1 - i] != b[-1 - i]), rest)
        assert yamlpieces._common_suffix(a, b, rest) == suffix, (a, b)
