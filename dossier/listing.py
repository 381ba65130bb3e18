"""Lists that grow with the dossier, split into pages of bounded size.

A page that lists the whole dossier grows with it; at 10,000 articles the claims index alone
was 43 MB. So every such list is cut into parts once it is long: a list short enough for one
page keeps its one URL; a longer one gets parts at `<list>/page/<n>/` (the first part is the
list's own URL). The claims index then goes per verdict and kind (`claims/verdict/<v>/`,
`claims/kind/<k>/`, each in parts that never cut an article's notes in two, so the filter
script finds an article's part from the first article of each), the timeline per year
(`timeline/<year>/`), and an entity's or a claim's page continues at `<page>/page/<n>/`.

`layout(d)` decides every split once per dossier. Pages (render.plan_pages) and links (`place`)
both read it, so a link to an event, a reference or a correction lands on the part that shows
it; what a link elsewhere names as `timeline/#<id>` becomes `timeline/<year>/#<id>`.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import urls
from .model import ENTITY_TYPES, KINDS, VERDICTS, Anchor, Dossier

ARTICLES_PER_PART = 250
"""Articles on one page of /articles/ (each with its bottom line: about 2 kB)."""
CLAIMS_PER_PAGE = 500
"""Annotations the claims index shows on one page; beyond, it is split per verdict and kind."""
TIMELINE_PER_PART = 600
ENTITIES_PER_PART = 2500
CORRECTIONS_PER_PART = 1000
REFERENCES_WEIGHT = 1500
"""A page of /references/ holds references whose weight (2 + the notes listed as citing
each) adds up to about this much."""
CITERS_SHOWN = 50
"""A reference lists at most this many of the notes that cite it, then says how many more."""
SOURCE_ARTICLES_SHOWN = 20
"""/sources/ lists this many of a publisher's articles; a publisher with more gets a page of its own."""
SOURCE_ARTICLES_PER_PART = 500
MENTIONS_PER_PART = 1200
"""Mentions on one page of an entity (whole articles' worth: an article's mentions stay together)."""
NOTES_PER_PART = 400
TELLINGS_PER_PART = 200
MATRIX_COLUMNS = 40
"""Beyond this many articles, /compare/ lists each claim's tellings instead of a claims ×
articles grid, whose size would grow with claims times articles."""
MATRIX_ROWS_PER_PART = 60
COMPARE_WEIGHT = 1500

RESERVED_IDS = {"article": {"page"}, "entity": {"page"}, "claim": {"page", "verdict", "kind"}}
"""Ids whose pages' URLs the parts above take (`articles/page/2/`, `claims/verdict/…`)."""


@dataclass(frozen=True)
class Part:
    """One page of a list split into pages: which it is, and where the others are."""

    number: int
    """1-based."""
    urls: tuple[str, ...]
    """Every part's URL, in order; the first is the list's own."""
    firsts: tuple[str, ...] = ()
    """For the claims index's parts: the slug of the first article each part shows."""

    @property
    def count(self) -> int:
        return len(self.urls)

    @property
    def url(self) -> str:
        return self.urls[self.number - 1]

    def window(self, around: int = 2) -> list[int | None]:
        """The part numbers a pager shows: the first, the last and those around this one; None
        stands for a gap."""
        shown = sorted({1, self.count, *range(max(1, self.number - around), min(self.count, self.number + around) + 1)})
        out: list[int | None] = []
        for n in shown:
            if out and n - out[-1] > 1:
                out.append(None)
            out.append(n)
        return out


SINGLE = Part(1, ("",))
"""What a page that is not split is: one part of one."""


def part_urls(base: str, count: int) -> tuple[str, ...]:
    return (base,) + tuple(f"{base}page/{n}/" for n in range(2, count + 1))


def chunked(items: Sequence, size: int) -> list[Sequence]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [items[:0]]


def by_weight(items: Sequence, weight: Callable[[Any], int], budget: int) -> list[list]:
    """Consecutive runs of `items` whose weights add up to at most `budget` (an item heavier
    than that gets a part of its own)."""
    parts: list[list] = [[]]
    total = 0
    for item in items:
        w = weight(item)
        if parts[-1] and total + w > budget:
            parts.append([])
            total = 0
        parts[-1].append(item)
        total += w
    return parts


def group_key(anchor: Anchor) -> str:
    """The claims index's group of an annotation: its verdict, or its kind if not a fact check."""
    ann = anchor.annotation
    return ann.verdict if ann.kind == "fact-check" and ann.verdict else ann.kind


KEY_ORDER = list(VERDICTS) + [k for k in KINDS if k != "fact-check"]


@dataclass(frozen=True)
class Layout:
    """How one dossier's long lists are split."""

    articles: list[Sequence[str]]
    """/articles/: the slugs on each part."""
    claims_split: bool
    claim_groups: dict[str, list[list[Anchor]]]
    """Group key (verdict or kind) → its parts' annotations (every group in one part when not split)."""
    timeline_years: dict[int, list[list]] | None
    """Year → its parts' timeline entries, when the timeline is split by year; else None."""
    references: list[list]
    """/references/: the references on each part, by title."""
    corrections: list[Sequence]
    entities: list[Sequence]
    """/entities/: the entities on each part, by type then name."""
    compare_columns: list
    """/compare/'s articles: those that tell a shared claim."""
    compare: list[list]
    """/compare/: the claims on each part."""
    placed: dict[str, str] = field(default_factory=dict)
    """`list/#fragment` → the part's URL with the fragment, for every item on a later part."""

    def claims_url(self, key: str) -> str:
        """The URL of a verdict's or kind's part 1 (the index itself when it is not split)."""
        if not self.claims_split:
            return urls.CLAIMS
        return f"{urls.CLAIMS}{'verdict' if key in VERDICTS else 'kind'}/{key}/"

    def claim_parts(self, key: str) -> Part:
        """The parts of one group's pages (with the first article slug of each)."""
        parts = self.claim_groups.get(key, [[]])
        return Part(1, part_urls(self.claims_url(key), len(parts)), tuple(p[0].annotation.article if p else "" for p in parts))

    def timeline_url(self, year: int) -> str:
        return f"{urls.TIMELINE}{year}/"


_CACHE: list[tuple[Dossier, Layout]] = []
"""The last few dossiers and their layouts: a build renders thousands of pages of one
dossier, and a rebuild compares the new one with the one before (a layout of 10,000
articles takes about half a second: a rebuild under serve computes the new one once)."""
_CACHED = 4


def lend_layout(d: Dossier, computed: Layout) -> None:
    """Let `d`, a short-lived copy of a dossier with a few articles replaced (serve writes the
    edited pages with it before the full check), use that dossier's layout, `computed`,
    instead of computing its own on the way to the page. Should the edit move an item to
    another part, the full rebuild that follows sees the split change and writes every page
    again."""
    _CACHE[:] = [(d, computed)] + _CACHE[:_CACHED - 1]


def forget(d: Dossier) -> None:
    """Drop `d`'s layout from the cache, and with it the cache's hold on `d`."""
    _CACHE[:] = [(known, computed) for known, computed in _CACHE if known is not d]


def layout(d: Dossier) -> Layout:
    for known, computed in _CACHE:
        if known is d:
            return computed
    computed = _layout(d)
    _CACHE[:] = [(d, computed)] + _CACHE[:_CACHED - 1]
    return computed


def _layout(d: Dossier) -> Layout:
    from .publish import corrections  # publish → exports → listing: import when used
    placed: dict[str, str] = {}

    groups: dict[str, list[Anchor]] = defaultdict(list)
    for anc in d.anchors.values():
        groups[group_key(anc)].append(anc)
    split = len(d.anchors) > CLAIMS_PER_PAGE
    claim_groups = {}
    for key in KEY_ORDER:
        if not groups[key]:
            continue
        if not split:
            claim_groups[key] = [groups[key]]
            continue
        # by article slug, so a part's first slug tells the filter script where an article's notes are
        ordered = sorted(groups[key], key=lambda a: (a.annotation.article, a.number))
        by_article = [run for _, run in _runs(ordered, lambda a: a.annotation.article)]
        claim_groups[key] = [sum(run, []) for run in by_weight(by_article, len, CLAIMS_PER_PAGE)]

    years = None
    if len(d.timeline) > TIMELINE_PER_PART:
        years = {}
        for year, entries in _runs(d.timeline, lambda t: t.date.year):
            years[year] = chunked(list(entries), TIMELINE_PER_PART)
            part_list = part_urls(f"{urls.TIMELINE}{year}/", len(years[year]))
            for url, part in zip(part_list, years[year]):
                for entry in part:
                    placed[f"{urls.TIMELINE}#{entry.id}"] = f"{url}#{entry.id}"

    by_title = sorted(d.references.values(), key=lambda r: r.title.lower())
    cited = lambda r: 2 + min(CITERS_SHOWN, len(d.index.anchors_by_reference.get(r.id, []))
                              + len(d.index.citers_of_reference.get(r.id, [])))
    references = by_weight(by_title, cited, REFERENCES_WEIGHT)
    _place(placed, urls.REFERENCES, references, lambda r: r.id)

    fixes = chunked(corrections(d), CORRECTIONS_PER_PART)
    _place(placed, urls.CORRECTIONS, fixes, lambda c: c.fragment)

    by_type = sorted(d.entities.values(), key=lambda e: (ENTITY_TYPES.index(e.type) if e.type in ENTITY_TYPES else 99,
                                                         e.name.lower(), e.id))
    columns = [r for r in d.articles.values() if any(a.annotation.claim in d.claims for a in r.anchors)]
    claims = list(d.claims.values())
    if len(columns) <= MATRIX_COLUMNS:
        compare = chunked(claims, MATRIX_ROWS_PER_PART)
    else:
        compare = by_weight(claims, lambda c: 1 + len(d.index.anchors_by_claim.get(c.id, [])), COMPARE_WEIGHT)
    return Layout(chunked(list(d.articles), ARTICLES_PER_PART), split, claim_groups, years, references, fixes,
                  chunked(by_type, ENTITIES_PER_PART), columns, compare, placed)


def _place(placed: dict[str, str], base: str, parts: list, fragment: Callable[[Any], str]) -> None:
    for url, part in zip(part_urls(base, len(parts)), parts):
        if url != base:
            for item in part:
                placed[f"{base}#{fragment(item)}"] = f"{url}#{fragment(item)}"


def _runs(items, key):
    """Consecutive items with the same key, as (key, [items])."""
    out: list[tuple[Any, list]] = []
    for item in items:
        k = key(item)
        if out and out[-1][0] == k:
            out[-1][1].append(item)
        else:
            out.append((k, [item]))
    return out


def place(d: Dossier, target: str) -> str:
    """Where a site-relative link lands once long lists are split: `timeline/#e1` may be
    `timeline/2025/#e1`; anything else is returned as it is."""
    if "#" not in target:
        return target
    return layout(d).placed.get(target, target)


# ---- the parts of single pages that can grow long -----------------------------------------

def entity_parts(d: Dossier, entity_id: str) -> list[tuple[list, Sequence]]:
    """An entity page's parts: (its mentions, grouped by article and never split within one,
    the notes about it), for each part."""
    mentions = d.index.mentions_by_entity.get(entity_id, [])
    notes = d.index.anchors_by_entity.get(entity_id, [])
    by_article = [run for _, run in _runs(mentions, lambda m: m.article)]
    mention_parts = [sum(p, []) for p in by_weight(by_article, len, MENTIONS_PER_PART)]
    note_parts = chunked(notes, NOTES_PER_PART)
    count = max(len(mention_parts), len(note_parts))
    return [(mention_parts[i] if i < len(mention_parts) else [], note_parts[i] if i < len(note_parts) else [])
            for i in range(count)]


def entity_part_count(d: Dossier, entity_id: str) -> int:
    mentions = len(d.index.mentions_by_entity.get(entity_id, []))
    notes = len(d.index.anchors_by_entity.get(entity_id, []))
    if mentions <= MENTIONS_PER_PART and notes <= NOTES_PER_PART:
        return 1  # the common case, without grouping anything
    return len(entity_parts(d, entity_id))


def claim_part_count(d: Dossier, claim_id: str) -> int:
    return len(chunked(d.index.anchors_by_claim.get(claim_id, []), TELLINGS_PER_PART))


def source_articles(d: Dossier, source_id: str) -> list[Sequence]:
    """A publisher's own page's parts (when it has more articles than /sources/ lists)."""
    return chunked(d.index.articles_by_source.get(source_id, []), SOURCE_ARTICLES_PER_PART)
