"""Shared fixtures: scratch dossiers written from dedented strings (as Lektor's tests do),
and helpers that run the pure stages on strings.

`make_dossier({...})` writes a small valid dossier (BASE_FILES) into tmp_path, with the
given files added or replaced (a value of None removes a base file), and returns its folder.
"""
from __future__ import annotations

import os
import re
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dossier.diagnostics import Diagnostic, sort_diagnostics  # noqa: E402
from dossier.load import RawDossier, split_front_matter  # noqa: E402
from dossier.model import Dossier, Inputs  # noqa: E402
from dossier.resolve import resolve  # noqa: E402
from dossier.validate import validate  # noqa: E402
from dossier.yamltree import parse_yaml  # noqa: E402

BUILD_PY = ROOT / "build.py"
_THIS = sys.modules[__name__]


def pytest_collectstart(collector):
    """tests/browser/conftest.py is imported under the same top-level name `conftest`;
    make `from conftest import …` in the test modules next to this file mean this file."""
    if isinstance(collector, pytest.Module) and collector.path.parent == Path(__file__).parent:
        sys.modules["conftest"] = _THIS


BASE_ANNOTATIONS = """\
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
entities:
  meta:
    name: Meta
    type: company
references:
  filing:
    title: The filing
    url: https://example.org/filing
annotations: []
"""

BASE_ARTICLE = """\
---
title: The deal
source: daily
kind: news
published: 2025-06-12
---
Meta bought a stake in a data company.
"""

BASE_FILES = {
    "annotations.yaml": BASE_ANNOTATIONS,
    "content/articles/deal.md": BASE_ARTICLE,
}


def dedent(text: str) -> str:
    """Dedent a triple-quoted string and drop the newline right after the opening quotes."""
    return textwrap.dedent(text).removeprefix("\n")


def write_files(root: Path, files: dict[str, str | bytes | None]) -> Path:
    """Write (or, for None, delete) files under root; str values are dedented."""
    for relpath, content in files.items():
        path = root / relpath
        if content is None:
            if path.exists():
                path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(dedent(content).encode("utf-8"))
    return root


@pytest.fixture
def make_dossier(tmp_path):
    """Write a scratch dossier: BASE_FILES plus `files`, into tmp_path/<name>."""
    def make(files: dict[str, str | bytes | None] | None = None, *, base: bool = True, name: str = "dossier") -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        if base:
            write_files(root, BASE_FILES)
        return write_files(root, files or {})
    return make


# ---- the pure stages, from strings ---------------------------------------------------------

def raw_from_strings(annotations: str | None = BASE_ANNOTATIONS, articles: dict[str, str] | None = None,
                     pages: dict[str, str] | None = None) -> tuple[RawDossier, list[Diagnostic]]:
    """What load_dossier would return for these file contents (dedented), without touching disk."""
    diagnostics: list[Diagnostic] = []
    doc = None
    if annotations is not None:
        doc, problems = parse_yaml(dedent(annotations), "annotations.yaml")
        diagnostics += problems
    files = {}
    for kind, items in (("articles", articles if articles is not None else {"deal": BASE_ARTICLE}), ("pages", pages or {})):
        parsed = []
        for slug, text in items.items():
            md, problems = split_front_matter(dedent(text), f"content/{kind}/{slug}.md", slug)
            diagnostics += problems
            if md is not None:
                parsed.append(md)
        files[kind] = tuple(parsed)
    return RawDossier(doc, files["articles"], files["pages"]), diagnostics


def validate_strings(annotations: str | None = BASE_ANNOTATIONS, articles: dict[str, str] | None = None,
                     pages: dict[str, str] | None = None) -> tuple[Inputs, list[Diagnostic]]:
    raw, diagnostics = raw_from_strings(annotations, articles, pages)
    inputs, problems = validate(raw)
    return inputs, sort_diagnostics(diagnostics + problems)


def resolve_strings(annotations: str | None = BASE_ANNOTATIONS, articles: dict[str, str] | None = None,
                    pages: dict[str, str] | None = None) -> tuple[Dossier, list[Diagnostic]]:
    inputs, diagnostics = validate_strings(annotations, articles, pages)
    dossier, problems = resolve(inputs)
    return dossier, sort_diagnostics(diagnostics + problems)


def formatted(diagnostics: list[Diagnostic], level: str | None = None) -> list[str]:
    """The diagnostics as `check` prints them (optionally only errors or only warnings)."""
    return [d.format() for d in diagnostics if level is None or d.level == level]


def article(body: str, *, title: str = "The deal", source: str = "daily", kind: str = "news",
            extra: str = "") -> str:
    """An article file: 5 lines of front matter plus those of `extra`, so the body starts on line 6 (+ extra)."""
    return f"---\ntitle: {title}\nsource: {source}\nkind: {kind}\n{extra}---\n" + dedent(body)


def annotations_with(section: str) -> str:
    """BASE_ANNOTATIONS with `annotations: []` replaced by the given YAML (dedented), and after
    it the bottom line of the article `deal` (check warns about an annotated article without
    one; tests of assessments write their own)."""
    return BASE_ANNOTATIONS.replace("annotations: []\n", dedent(section) + DEAL_ASSESSMENT)


DEAL_ASSESSMENT = "assessments:\n  deal: {summary: Meta did buy a stake.}\n"


def build_env() -> dict[str, str]:
    """Environment for running build.py in a subprocess: the project importable, no CI mode."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("GITHUB_ACTIONS", None)
    env.pop("DOSSIER_DEBUG", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by relative path with '/' separators."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---- reading HTML -------------------------------------------------------------------------

class _MarkReader(HTMLParser):
    """Collects every <mark> (its ids, its text, any element inside it, the ids of the marks
    around it), every id and every link. Marks nest where quotes overlap; they are listed in
    the order they open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.marks: list[dict] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.open_marks: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name) is not None:
                self.hrefs.append(attrs[name])
        for mark in self.open_marks:
            mark["children"].append(tag)
        if tag == "mark":
            around = tuple(i for mark in self.open_marks for i in mark["ids"])
            mark = {"ids": tuple((attrs.get("data-annotation") or "").split()), "text": "", "children": [],
                    "around": around}
            self.marks.append(mark)
            self.open_marks.append(mark)

    def handle_endtag(self, tag):
        if tag == "mark" and self.open_marks:
            self.open_marks.pop()

    def handle_data(self, data):
        for mark in self.open_marks:
            mark["text"] += data


def read_html(html: str) -> _MarkReader:
    """The marks (ids, text, child tags), element ids and link targets of an HTML page."""
    reader = _MarkReader()
    reader.feed(html)
    reader.close()
    return reader


def marked_text(html: str, annotation_id: str) -> str:
    """The text of every mark that belongs to `annotation_id`, joined in page order."""
    return "".join(m["text"] for m in read_html(html).marks if annotation_id in m["ids"])


def squash(text: str) -> str:
    """The text without any whitespace, to compare highlighted text across line breaks."""
    return "".join(text.split())


def body_html(dossier: Dossier, slug: str = "deal") -> str:
    """The article body as its page shows it: marks, note references, entity links (without the
    spans around unannotated sentences, which tests/test_coverage.py reads)."""
    return without_unannotated_runs(dossier.articles[slug].body_html)


def without_unannotated_runs(html: str) -> str:
    """The HTML without the <span class="un"> elements (their content kept)."""
    out, spans, at = [], [], 0
    for tag in re.finditer(r"</?span\b[^>]*>", html):
        out.append(html[at:tag.start()])
        at = tag.end()
        if tag.group().startswith("</"):
            if spans.pop() != "un":
                out.append(tag.group())
        else:
            spans.append("un" if tag.group() == '<span class="un">' else "other")
            if spans[-1] != "un":
                out.append(tag.group())
    return "".join(out) + html[at:]
