"""Bad input, end to end (issue #8): every broken dossier makes `python build.py` exit 1
with `file:line: error: what (how to fix it)` on stderr, no traceback, and leaves the
previous output folder byte for byte as it was, with no temporary folder beside it.

One good site is built first. Each case copies it into its own `--out`, breaks a copy of
the good dossier (often in several independent places at once: `check` must report every
problem, not the first), rebuilds, and compares. The builds run as subprocesses, a few at
a time (the `outcomes` fixture); each expected error is then its own test.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import BUILD_PY, build_env, dedent, tree_bytes, write_files

GOOD_ANNOTATIONS = dedent("""
    site:
      title: Test dossier
      base_url: https://example.org/test/
      published: 2025-06-20
      description: A dossier for tests.
    sources:
      daily:
        name: The Daily
        rating: reliable
        rationale: Named authors and a corrections policy.
        url: https://daily.example.org/
    entities:
      meta:
        name: Meta
        type: company
        aliases: [Meta Platforms]
        relations:
          - {type: investor, target: scale, since: 2025-06, cite: [filing]}
      scale:
        name: Scale AI
        type: company
    references:
      filing:
        title: The filing
        url: https://example.org/filing
        date: 2025-06-12
    events:
      - id: deal-signed
        date: 2025-06-12
        title: The deal is signed
        entities: [meta, scale]
        cite: [filing]
    claims:
      stake:
        statement: Meta bought a stake in Scale AI
        verdict: accurate
        cite: [filing]
        entities: [meta]
    annotations:
      - id: stake-check
        article: deal
        quote: bought a stake
        kind: fact-check
        verdict: accurate
        note: The filing says so.
        cite: [filing]
        entities: [meta]
        claim: stake
        updates:
          - {date: 2025-07-01, summary: Checked against the filing.}
      - id: labs-context
        article: deal
        quote: sells labelled data
        kind: context
        note: Scale AI labels data for AI labs.
    """)

GOOD_ARTICLE = dedent("""
    ---
    title: The deal
    source: daily
    kind: news
    url: https://daily.example.org/deal
    published: 2025-06-12
    ---
    Meta bought a stake in a data company.

    Scale AI sells labelled data to labs. The deal valued the company at $29 billion.
    """)

GOOD_PAGE = "---\ntitle: About\n---\nWho made this dossier.\n"

GOOD_FILES: dict[str, str | bytes | None] = {
    "annotations.yaml": GOOD_ANNOTATIONS,
    "content/articles/deal.md": GOOD_ARTICLE,
    "content/pages/about.md": GOOD_PAGE,
}

YAML = "annotations.yaml"
ARTICLE = "content/articles/deal.md"


def edited(text: str, *edits: tuple[str, str]) -> str:
    """`text` with each (old, new) applied in turn; each `old` must occur exactly once."""
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} must occur once"
        text = text.replace(old, new)
    return text


def yaml_edits(*edits: tuple[str, str]) -> dict[str, str]:
    return {YAML: edited(GOOD_ANNOTATIONS, *edits)}


def add_annotations(items: str) -> tuple[str, str]:
    """An edit that appends annotation items (dedented YAML, at the list's indentation)."""
    last = "    note: Scale AI labels data for AI labs.\n"
    return last, last + textwrap.indent(dedent(items), "  ")


def front_matter(fields: str, body: str = "Meta bought a stake.\n") -> str:
    return f"---\n{fields}---\n{body}"


@dataclass(frozen=True)
class Expect:
    path: str
    """The file the error must name."""
    line: str | int | None
    """The line it must name: a number; the line of the broken file where this text starts
    (with `nth` to pick a later occurrence); or None for a problem of the whole file
    (a PNG has no lines), where the line is optional."""
    words: str
    """Words the message must contain (case-insensitive): it is the right error."""
    nth: int = 1
    slack: int = 0
    """The YAML parser notices some syntax errors a line after the mistake."""


@dataclass(frozen=True)
class Case:
    name: str
    files: dict
    """Files added to or replacing the good dossier's (None deletes one)."""
    expect: tuple[Expect, ...]


def case(name: str, files: dict, *expect: Expect) -> Case:
    return Case(name, files, expect)


def bad_id_case(label: str, bad: str) -> Case:
    """One bad id in every place an id is defined or named: each place gets its own error."""
    key = f"'{bad}'" if bad.startswith("-") else bad
    files = yaml_edits(
        ("  daily:\n", f"  {key}:\n    name: X\n    rating: mixed\n    rationale: R.\n  daily:\n"),
        ("  scale:\n", f"  {key}:\n    name: X\n    type: place\n  scale:\n"),
        ("  filing:\n", f"  {key}:\n    title: T\n  filing:\n"),
        ("  stake:\n", f"  {key}:\n    statement: S\n    verdict: mixed\n    cite: [filing]\n  stake:\n"),
        ("id: labs-context", f"id: {key}"),
        ("id: deal-signed", f"id: {key}"),
        add_annotations(f"""
              - id: other
                article: {key}
                quote: data
                kind: context
            """))
    files[ARTICLE] = edited(GOOD_ARTICLE, ("source: daily", f"source: {key}"))
    return case(f"invalid-id-{label}", files,
                Expect(YAML, f"  {key}:\n    name: X\n    rating", "not a valid id"),   # a source
                Expect(YAML, f"  {key}:\n    name: X\n    type", "not a valid id"),     # an entity
                Expect(YAML, f"  {key}:\n    title", "not a valid id"),                 # a reference
                Expect(YAML, f"  {key}:\n    statement", "not a valid id"),             # a claim
                Expect(YAML, f"id: {key}", "not a valid id"),                           # an event (events come first)
                Expect(YAML, f"id: {key}", "not a valid id", nth=2),                    # an annotation
                Expect(YAML, f"article: {key}", "not a valid id"),
                Expect(ARTICLE, f"source: {key}", "not a valid id"))


CASES: list[Case] = [
    # ---- YAML syntax and the shape of the document ----------------------------------------------
    case("yaml-unclosed-flow-list", yaml_edits(("aliases: [Meta Platforms]", "aliases: [Meta Platforms")),
         Expect(YAML, "aliases: [Meta Platforms", "YAML syntax error", slack=1)),
    case("yaml-unclosed-quote", yaml_edits(("title: The filing", 'title: "The filing')),
         Expect(YAML, None, "YAML syntax error")),
    case("yaml-bad-indentation", yaml_edits(("    rating: reliable", "  rating: reliable")),
         Expect(YAML, "  rating: reliable", "YAML syntax error", slack=1)),
    case("yaml-tab-indentation", yaml_edits(("    rating: reliable", "\trating: reliable")),
         Expect(YAML, "\trating", "YAML syntax error", slack=1)),
    case("yaml-error-in-front-matter", {ARTICLE: edited(GOOD_ARTICLE, ("title: The deal", "title: [The deal"))},
         Expect(ARTICLE, "title: [The deal", "YAML syntax error", slack=1)),
    case("top-level-list", {YAML: "- site\n- sources\n"}, Expect(YAML, 1, "must be a mapping")),
    case("top-level-string", {YAML: "just some words\n"}, Expect(YAML, 1, "must be a mapping")),
    case("sections-of-the-wrong-type", yaml_edits(("sources:\n", "sources: [daily]\nold-sources:\n"),
                                                  ("annotations:\n", "annotations: {}\nold-annotations:\n")),
         Expect(YAML, "sources: [daily]", "'sources' must be a mapping"),
         Expect(YAML, "annotations: {}", "'annotations' must be a list")),
    # A field indented as far as the items, and values where items belong, are errors at their
    # line, never dropped silently (annotations.yaml is parsed in pieces here).
    case("mis-indented-items", yaml_edits(
        ("    relations:\n      - {type: investor", "  relations:\n      - {type: investor"),
        ("    date: 2025-06-12\nevents:", "date: 2025-06-12\nevents:"),
        add_annotations("""
              - just a note
            """)),
         Expect(YAML, "  relations:", "'relations' is not an entity"),
         Expect(YAML, "date: 2025-06-12\nevents:", "probably a field of reference 'filing' above"),
         Expect(YAML, "  - just a note", "annotation 3 must be a mapping")),
    # ---- duplicates -----------------------------------------------------------------------------
    case("duplicate-keys", {
        YAML: edited(GOOD_ANNOTATIONS + "site:\n  title: Again\n",
                     ("  scale:\n", "  meta:\n    name: Meta again\n    type: company\n  scale:\n"),
                     ("quote: sells labelled data", "quote: sells labelled data\n    quote: sells")),
        ARTICLE: edited(GOOD_ARTICLE, ("kind: news", "kind: news\nkind: analysis"))},
         Expect(YAML, "site:\n  title: Again", "duplicate key 'site'"),
         Expect(YAML, "  meta:\n    name: Meta again", "duplicate key 'meta'"),
         Expect(YAML, "    quote: sells\n", "duplicate key 'quote'"),
         Expect(ARTICLE, "kind: analysis", "duplicate key 'kind'")),
    case("duplicate-ids", yaml_edits(
        ("id: labs-context", "id: stake-check"),
        ("events:\n", "events:\n  - {id: deal-signed, date: 2025, title: Another}\n"
                      "  - {date: 2025-01, title: Talks}\n  - {date: 2025-01, title: Talks}\n"),
        ("    name: Scale AI\n", "    name: Scale AI\n    aliases: [Meta Platforms]\n"),
        add_annotations("""
              - id: main
                article: deal
                quote: labs
                kind: context
            """)),
         Expect(YAML, "  - id: stake-check", "duplicate annotation id", nth=2),
         Expect(YAML, "  - id: deal-signed", "duplicate event id"),             # an event id repeated
         Expect(YAML, "  - {date: 2025-01, title: Talks}", "duplicate event id", nth=2),  # derived from date + title
         Expect(YAML, "id: main", "reserved"),                                   # an element id of the page layout
         Expect(YAML, "  scale:", "names both")),                                # one alias, two entities
    # ---- unknown fields -------------------------------------------------------------------------
    case("unknown-fields", {
        YAML: edited(GOOD_ANNOTATIONS, ("    verdict: accurate\n    note: The filing",
                                        "    verdict: accurate\n    verdit: accurate\n    note: The filing")) + "entitys:\n  x: {}\n",
        ARTICLE: edited(GOOD_ARTICLE, ("kind: news", "kind: news\nauther: Someone")),
        "content/pages/about.md": "---\ntitle: About\nsummary: x\n---\nText.\n"},
         Expect(YAML, "verdit:", "unknown field 'verdit'"),
         Expect(YAML, "entitys:", "unknown field 'entitys'"),
         Expect(ARTICLE, "auther:", "unknown field 'auther'"),
         Expect("content/pages/about.md", "summary:", "unknown field 'summary'")),
    # ---- missing required fields: at the line where the item starts -----------------------------
    case("missing-fields", yaml_edits(
        ("    rating: reliable\n", ""),
        ("    name: Scale AI\n    type: company\n", "    name: Scale AI\n"),
        ("    title: The filing\n", ""),
        ("    date: 2025-06-12\n    title: The deal", "    title: The deal"),
        ("    cite: [filing]\n    entities: [meta]\nannotations", "    entities: [meta]\nannotations"),
        ("    quote: sells labelled data\n", ""),
        ("{type: investor, target: scale, ", "{type: investor, ")),
         Expect(YAML, "  daily:", "missing required field 'rating'"),
         Expect(YAML, "  scale:", "missing required field 'type'"),
         Expect(YAML, "  filing:", "missing required field 'title'"),
         Expect(YAML, "  - id: deal-signed", "missing required field 'date' in event 'deal-signed'"),
         Expect(YAML, "  stake:", "missing required field 'cite'"),
         Expect(YAML, "  - id: labs-context", "missing required field 'quote' in annotation 'labs-context'"),
         Expect(YAML, "      - {type: investor", "missing required field 'target' in relation 1 (type 'investor') of "
                                                 "entity 'meta'")),
    case("missing-front-matter-fields", {
        ARTICLE: edited(GOOD_ARTICLE, ("source: daily\n", "")),
        "content/articles/untitled.md": front_matter("source: daily\nkind: news\n"),
        "content/pages/about.md": front_matter("description: x\n")},
         Expect(ARTICLE, 1, "missing required field 'source'"),
         Expect("content/articles/untitled.md", 1, "missing required field 'title'"),
         Expect("content/pages/about.md", 1, "missing required field 'title'")),
    # ---- wrong types ----------------------------------------------------------------------------
    case("wrong-types", {
        YAML: edited(GOOD_ANNOTATIONS,
                     ("    name: Scale AI", "    name: [Scale AI, Scale]"),
                     ("    note: The filing says so.\n    cite: [filing]", "    note: The filing says so.\n    cite: filing"),
                     ("rationale: Named authors and a corrections policy.", "rationale: {a: b}"),
                     ("    relations:\n      - {type: investor, target: scale, since: 2025-06, cite: [filing]}\n",
                      "    relations: scale\n"),
                     ("    rating: reliable", "    rating:"),
                     ("    type: company\n    aliases", "    type: compnay\n    aliases"),
                     ("    kind: fact-check\n    verdict: accurate", "    kind: fact-check\n    verdict: true")),
        ARTICLE: edited(GOOD_ARTICLE, ("title: The deal", "title: 2025"), ("kind: news", "kind: gossip"))},
         Expect(YAML, "name: [Scale AI", "must be a string"),               # a list where a string belongs
         Expect(YAML, "cite: filing", "must be a list"),
         Expect(YAML, "rationale: {a: b}", "must be a string"),
         Expect(YAML, "relations: scale", "must be a list"),
         Expect(YAML, "    rating:\n", "empty"),
         Expect(YAML, "type: compnay", "must be one of"),
         Expect(YAML, "verdict: true", "'true' is not"),                    # as written, not as Python prints it
         Expect(ARTICLE, "title: 2025", "must be a string"),
         Expect(ARTICLE, "kind: gossip", "must be one of")),
    # ---- invalid ids, some of which would escape the output folder ------------------------------
    *(bad_id_case(label, bad) for label, bad in {"dotdot": "../x", "slash": "a/b", "uppercase": "Meta",
                                                 "unicode": "ünï", "leading-hyphen": "-x"}.items()),
    case("invalid-file-names", {
        "content/articles/Deal2.md": GOOD_ARTICLE, "content/articles/déal.md": GOOD_ARTICLE,
        "content/articles/a_b.md": GOOD_ARTICLE, "content/articles/-x.md": GOOD_ARTICLE,
        "content/articles/a b.md": GOOD_ARTICLE, "content/articles/sub/x.md": GOOD_ARTICLE,
        "content/pages/About.md": GOOD_PAGE},
         Expect("content/articles/Deal2.md", None, "not a valid slug"),
         Expect("content/articles/déal.md", None, "not a valid slug"),
         Expect("content/articles/a_b.md", None, "not a valid slug"),
         Expect("content/articles/-x.md", None, "not a valid slug"),
         Expect("content/articles/a b.md", None, "not a valid slug"),
         Expect("content/articles/sub", None, "not a Markdown"),
         Expect("content/pages/About.md", None, "not a valid slug")),
    # ---- dangling references, every kind --------------------------------------------------------
    case("dangling-references", {
        YAML: edited(GOOD_ANNOTATIONS,
                     ("target: scale,", "target: scael,"),
                     ("since: 2025-06, cite: [filing]", "since: 2025-06, cite: [filling]"),
                     ("entities: [meta, scale]\n    cite: [filing]", "entities: [meta, openai]\n    cite: [memo]"),
                     ("    cite: [filing]\n    entities: [meta]\nannotations", "    cite: [memo]\n    entities: [google]\nannotations"),
                     ("article: deal\n    quote: sells", "article: dael\n    quote: sells"),
                     ("claim: stake", "claim: stakes"),
                     ("    note: The filing says so.\n    cite: [filing]", "    note: The filing says so.\n    cite: [filing, memo2]"),
                     ("    entities: [meta]\n    claim", "    entities: [metta]\n    claim")),
        ARTICLE: edited(GOOD_ARTICLE, ("source: daily", "source: weekly"), ("kind: news", "kind: news\nrepublishes: original"))},
         Expect(ARTICLE, "source: weekly", "unknown source 'weekly'"),
         Expect(ARTICLE, "republishes:", "unknown article 'original'"),
         Expect(YAML, "target: scael", "unknown entity 'scael'"),
         Expect(YAML, "cite: [filling]", "unknown reference 'filling'"),
         Expect(YAML, "entities: [meta, openai]", "unknown entity 'openai'"),
         Expect(YAML, "cite: [memo]", "unknown reference 'memo'"),
         Expect(YAML, "entities: [google]", "unknown entity 'google'"),
         Expect(YAML, "article: dael", "unknown article 'dael'"),
         Expect(YAML, "claim: stakes", "unknown claim 'stakes'"),
         Expect(YAML, "cite: [filing, memo2]", "unknown reference 'memo2'"),
         Expect(YAML, "entities: [metta]", "unknown entity 'metta'")),
    case("references-to-itself", {
        YAML: edited(GOOD_ANNOTATIONS, ("target: scale,", "target: meta,")),
        ARTICLE: edited(GOOD_ARTICLE, ("kind: news", "kind: republication\nrepublishes: deal"))},
         Expect(YAML, "target: meta,", "relation to itself"),
         Expect(ARTICLE, "republishes:", "cannot republish itself")),
    # ---- impossible dates -----------------------------------------------------------------------
    case("impossible-dates", {
        YAML: edited(GOOD_ANNOTATIONS,
                     ("    date: 2025-06-12\n    title: The deal", "    date: 2025-02-30\n    title: The deal"),
                     ("since: 2025-06,", "since: 2025-13,"),
                     ("{date: 2025-07-01,", "{date: 2025-06-31,"),
                     ("    url: https://example.org/filing\n    date: 2025-06-12", "    url: https://example.org/filing\n    date: 2025-06-00"),
                     ("  - id: deal-signed", "  - {date: June 2025, title: Sometime}\n  - id: deal-signed")),
        ARTICLE: edited(GOOD_ARTICLE, ("published: 2025-06-12", "published: 2025-02-29"))},
         Expect(YAML, "date: 2025-02-30", "not a real calendar date"),
         Expect(YAML, "since: 2025-13", "not a real calendar date"),
         Expect(YAML, "date: 2025-06-31", "not a real calendar date"),
         Expect(YAML, "date: 2025-06-00", "not a real calendar date"),
         Expect(YAML, "date: June 2025", "not a date"),
         Expect(ARTICLE, "published:", "not a real calendar date")),
    # ---- verdict misuse -------------------------------------------------------------------------
    case("verdict-misuse", yaml_edits(
        ("    kind: context\n", "    kind: context\n    verdict: accurate\n"),
        ("    kind: fact-check\n    verdict: accurate\n", "    kind: fact-check\n"),
        ("    verdict: accurate\n    cite: [filing]\n    entities: [meta]\nannotations",
         "    verdict: pants-on-fire\n    cite: [filing]\n    entities: [meta]\nannotations"),
        add_annotations("""
              - id: no-note
                article: deal
                quote: labs
                kind: fact-check
                verdict: mixed
                cite: [filing]
              - id: no-cite
                article: deal
                quote: 29 billion
                kind: fact-check
                verdict: mixed
                note: Unsourced.
              - id: off-scale
                article: deal
                quote: data company
                kind: fact-check
                verdict: mostly-true
                note: N.
                cite: [filing]
            """)),
         Expect(YAML, "verdict: accurate\n    note: Scale AI",                       # a verdict on context
                "annotation 'labs-context' has a verdict but is not a fact-check"),
         Expect(YAML, "  - id: stake-check", "missing required field 'verdict' in annotation 'stake-check'"),
         Expect(YAML, "  - id: no-note", "missing required field 'note' in annotation 'no-note'"),
         Expect(YAML, "  - id: no-cite", "missing required field 'cite' in annotation 'no-cite'"),
         Expect(YAML, "verdict: mostly-true", "must be one of"),
         Expect(YAML, "verdict: pants-on-fire", "must be one of")),
    # ---- quotes ---------------------------------------------------------------------------------
    case("bad-quotes", yaml_edits(add_annotations("""
              - id: not-found
                article: deal
                quote: sells labeled data
                kind: context
              - id: ambiguous
                article: deal
                quote: data
                kind: context
              - id: empty
                article: deal
                quote: ""
                kind: context
              - id: blank
                article: deal
                quote: "   \\t  "
                kind: context
              - id: too-long
                article: deal
                quote: "%s"
                kind: context
              - id: wrong-prefix
                article: deal
                quote: sells labelled data
                prefix: Google
                kind: context
            """ % ("a very long quote " * 20))),
         Expect(YAML, "quote: sells labeled data", "the quote of annotation 'not-found' is not in"),
         Expect(YAML, "quote: data\n", "the quote of annotation 'ambiguous' occurs 2 times"),
         Expect(YAML, 'quote: ""', "empty"),
         Expect(YAML, 'quote: "   ', "the quote of annotation 'blank' is only whitespace"),
         Expect(YAML, "quote: \"a very long", "the quote of annotation 'too-long' is longer than"),
         Expect(YAML, "quote: sells labelled data", "the quote of annotation 'wrong-prefix' is in", nth=2)),
    # ---- unfinished work: what `annotate` leaves to write, empty lists of evidence, a misspelt kind --
    case("unfinished-annotations", yaml_edits(
        ("    entities: [meta, scale]\n    cite: [filing]\n", "    entities: [meta, scale]\n    cite: []\n"),
        ("since: 2025-06, cite: [filing]}", "since: 2025-06, cite: []}"),
        add_annotations("""
              - id: stub-left
                article: deal
                quote: bought a stake
                kind: fact-check
                verdict: accurate
                note: >-
                  What is right, what is wrong, and what the evidence is.
                cite: []  # ids under references:
              - id: typo-kind
                article: deal
                quote: data company
                kind: factcheck
                verdict: accurate
                note: N.
                cite: [filing]
            """)),
         Expect(YAML, "    note: >-\n      What is right", "the note of annotation 'stub-left' is still the placeholder"),
         Expect(YAML, "    cite: []  #", "'cite' of annotation 'stub-left' lists no reference"),
         Expect(YAML, "    cite: []\n", "'cite' of event 'deal-signed' lists no reference"),
         Expect(YAML, "      - {type: investor", "'cite' of relation 'investor → scale' of entity 'meta' lists no reference"),
         Expect(YAML, "kind: factcheck", "'factcheck' is not")),
    # ---- front matter ---------------------------------------------------------------------------
    case("bad-front-matter", {
        "content/articles/no-front-matter.md": "Meta bought a stake in a data company.\n",
        "content/articles/unclosed.md": "---\ntitle: The deal\nsource: daily\nkind: news\nMeta bought a stake.\n",
        "content/articles/a-list.md": front_matter("- title\n- source\n"),
        "content/articles/a-string.md": front_matter("The deal\n"),
        "content/articles/empty-front-matter.md": front_matter(""),
        "content/pages/no-front-matter.md": "Who made this dossier.\n"},
         Expect("content/articles/no-front-matter.md", 1, "does not start with front matter"),
         Expect("content/articles/unclosed.md", 1, "not closed"),
         Expect("content/articles/a-list.md", 2, "must be a mapping"),
         Expect("content/articles/a-string.md", 2, "must be a mapping"),
         Expect("content/articles/empty-front-matter.md", 2, "must be a mapping"),
         Expect("content/pages/no-front-matter.md", 1, "does not start with front matter")),
    # ---- encodings, empty and binary files ------------------------------------------------------
    case("article-in-latin-1", {ARTICLE: GOOD_ARTICLE.replace("labelled", "labellé").encode("latin-1")},
         Expect(ARTICLE, "labell", "not UTF-8")),
    case("annotations-in-latin-1", {YAML: GOOD_ANNOTATIONS.replace("The Daily", "Le Quotidien é").encode("latin-1")},
         Expect(YAML, "Le Quotidien", "not UTF-8")),
    case("annotations-with-nul-bytes", {YAML: b"site:\n  title: x\x00\n"}, Expect(YAML, 2, "binary")),
    # An empty annotations.yaml is an empty annotation layer, not an error of its own; but the
    # articles name publishers it no longer defines, and those errors say where to put them.
    case("annotations-empty", {YAML: b""}, Expect(ARTICLE, "source: daily", "unknown source 'daily'")),
    case("annotations-only-comments", {YAML: "# nothing yet\n"}, Expect(ARTICLE, "source: daily", "unknown source 'daily'")),
    case("annotations-missing", {YAML: None}, Expect(YAML, None, "no annotations.yaml")),
    case("empty-and-binary-content-files", {
        "content/articles/empty.md": b"",
        "content/articles/no-body.md": front_matter("title: T\nsource: daily\nkind: news\n", ""),
        "content/articles/blank-body.md": front_matter("title: T\nsource: daily\nkind: news\n", "\n   \n\t\n"),
        "content/articles/chart.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01",
        "content/articles/nul.md": GOOD_ARTICLE.encode() + b"\x00\x01\x02binary\x00"},
         Expect("content/articles/empty.md", 1, "does not start with front matter"),
         Expect("content/articles/no-body.md", 6, "no body"),
         Expect("content/articles/blank-body.md", 6, "no body"),
         Expect("content/articles/chart.png", None, "not a Markdown"),
         Expect("content/articles/nul.md", GOOD_ARTICLE.count("\n") + 1, "binary")),
    # ---- names the site itself uses -------------------------------------------------------------
    case("pages-named-like-built-in-pages", {
        "content/pages/claims.md": "---\ntitle: Claims\n---\nMine.\n",
        "content/pages/pagefind.md": "---\ntitle: Search\n---\nMine.\n",
        "content/pages/static.md": "---\ntitle: Static\n---\nMine.\n"},
         Expect("content/pages/claims.md", 1, "taken by a built-in page"),
         Expect("content/pages/pagefind.md", 1, "taken by a built-in page"),
         Expect("content/pages/static.md", 1, "taken by a built-in page")),
]

ERROR_LINE = re.compile(r"^(?P<path>[^:]+?)(?::(?P<line>\d+))?(?::(?P<column>\d+))?: error: (?P<message>.+?)"
                        r"(?: \((?P<hint>[^()]*(?:\([^()]*\)[^()]*)*)\))?$")


@dataclass
class Outcome:
    returncode: int
    stderr: str
    output_before: dict
    output_after: dict
    leftovers: list[str]

    def errors(self) -> list[re.Match]:
        return [m for m in map(ERROR_LINE.match, self.stderr.splitlines()) if m]


def run_build(source: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD_PY), "--source", str(source), "--out", str(out)],
                          env=build_env(), capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def previous_site(tmp_path_factory) -> Path:
    """A good site, built once (with its search index); each case starts from a copy."""
    root = tmp_path_factory.mktemp("good")
    source = write_files(root / "dossier", GOOD_FILES)
    out = root / "site" / "public"
    result = run_build(source, out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def outcomes(previous_site, tmp_path_factory) -> dict[str, Outcome]:
    """Every case broken and rebuilt over a copy of the previous site, a few at a time."""
    before = tree_bytes(previous_site)
    root = tmp_path_factory.mktemp("cases")

    def run_case(c: Case) -> Outcome:
        folder = root / c.name
        source = write_files(folder / "dossier", {**GOOD_FILES, **c.files})
        out = folder / "site" / "public"
        shutil.copytree(previous_site, out)
        result = run_build(source, out)
        leftovers = sorted(p.name for p in out.parent.iterdir() if p.name != "public")
        return Outcome(result.returncode, result.stderr, before, tree_bytes(out), leftovers)

    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 2) + 1) as pool:
        return dict(zip((c.name for c in CASES), pool.map(run_case, CASES)))


def expected_line(c: Case, e: Expect) -> int | None:
    if e.line is None or isinstance(e.line, int):
        return e.line
    content = {**GOOD_FILES, **c.files}[e.path]
    text = content.decode("latin-1") if isinstance(content, bytes) else dedent(content)
    at = -1
    for _ in range(e.nth):
        at = text.find(e.line, at + 1)
        assert at >= 0, f"{e.line!r} does not occur {e.nth} times in {e.path}"
    return text.count("\n", 0, at) + 1


def test_case_names_are_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.name)
def test_bad_input_exits_1_without_traceback_and_keeps_the_previous_site(c: Case, outcomes):
    outcome = outcomes[c.name]
    assert "Traceback" not in outcome.stderr, outcome.stderr
    assert "internal error" not in outcome.stderr, outcome.stderr
    assert outcome.returncode == 1, outcome.stderr
    assert outcome.output_after == outcome.output_before, "the failed build changed the previous output"
    assert outcome.leftovers == [], f"temporary folders left next to the output: {outcome.leftovers}"


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.name)
def test_every_error_line_names_a_file_and_gives_a_fix(c: Case, outcomes):
    outcome = outcomes[c.name]
    lines = [line for line in outcome.stderr.splitlines() if ": error: " in line]
    assert lines, outcome.stderr
    for line in lines:
        m = ERROR_LINE.match(line)
        assert m and m["hint"], f"not 'file:line: error: what (how to fix it)': {line}"
        if m["path"] not in {e.path for e in c.expect if e.line is None}:  # a whole-file problem may omit the line
            assert m["line"], f"no line number: {line}"


EXPECTATIONS = [pytest.param(c, e, id=f"{c.name}:{e.path.rsplit('/', 1)[-1]}:{e.words}") for c in CASES for e in c.expect]


@pytest.mark.parametrize("c, e", EXPECTATIONS)
def test_each_problem_is_reported_at_its_file_and_line(c: Case, e: Expect, outcomes):
    outcome = outcomes[c.name]
    found = [m for m in outcome.errors() if m["path"] == e.path and e.words.lower() in m["message"].lower()]
    assert found, f"no error in {e.path} saying '{e.words}'; stderr:\n{outcome.stderr}"
    line = expected_line(c, e)
    if line is not None:
        lines = sorted(int(m["line"] or 0) for m in found)
        assert any(line <= n <= line + e.slack for n in lines), \
            f"'{e.words}' expected at {e.path}:{line}, reported at lines {lines}; stderr:\n{outcome.stderr}"
