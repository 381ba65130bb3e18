"""The contexts of the pages that list the whole dossier (the home page, /articles/, /claims/,
the timeline, …), each for one part of its list as listing.py split it. They are computed
only when such a page is rendered: an incremental rebuild that leaves them for later need
not pay for them."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from . import listing, urls
from .coverage import figures
from .listing import SINGLE, Part, part_urls
from .model import ENTITY_TYPES, Dossier, ResolvedArticle

HOME_ARTICLES = 20
"""The home page lists this many articles, newest first; /articles/ lists them all."""
SILENT_SHOWN = 50
"""/compare/ names at most this many of the articles that tell none of the shared claims."""


def _home(d: Dossier, page: dict) -> dict:
    return {"latest_events": d.events[-5:][::-1], "home_articles": list(d.articles.values())[:HOME_ARTICLES],
            "figures": figures(d), "key_claims": [c for c in d.claims.values() if c.key]}


def _articles(d: Dossier, page: dict) -> dict:
    lay, n = listing.layout(d), page.get("part", 1)
    return {"items": [d.articles[slug] for slug in lay.articles[n - 1]],
            "pager": Part(n, part_urls(urls.ARTICLES, len(lay.articles)))}


def _entities(d: Dossier, page: dict) -> dict:
    lay, n = listing.layout(d), page.get("part", 1)
    groups = defaultdict(list)
    for entity in lay.entities[n - 1]:
        groups[entity.type].append(entity)
    counts = defaultdict(int)
    for entity in d.entities.values():
        counts[entity.type] += 1
    return {"by_type": [(t, groups[t]) for t in ENTITY_TYPES if groups[t]],
            "type_counts": [(t, counts[t]) for t in ENTITY_TYPES if counts[t]],
            "pager": Part(n, part_urls(urls.ENTITIES, len(lay.entities)))}


def _timeline(d: Dossier, page: dict) -> dict:
    """The whole timeline on one page; or, once it is split by year, an overview of the years
    and months (at /timeline/) and one part of a year."""
    lay = listing.layout(d)
    if lay.timeline_years is None:
        return {"years": timeline_groups(d.timeline), "pager": SINGLE, "year_index": [], "year": None}
    year_index = []
    for year, parts in lay.timeline_years.items():
        months: dict[int, list] = {}
        for url, part in zip(part_urls(lay.timeline_url(year), len(parts)), parts):
            for entry in part:
                month = months.setdefault(entry.date.month, [f"{url}#y{year}-{entry.date.month:02d}", 0])
                month[1] += 1
        year_index.append((year, lay.timeline_url(year), sum(len(p) for p in parts),
                           [(month, url, count) for month, (url, count) in months.items() if month]))
    if "year" not in page:
        return {"years": [], "pager": SINGLE, "year_index": year_index, "year": None}
    year, n = page["year"], page.get("part", 1)
    parts = lay.timeline_years[year]
    return {"years": timeline_groups(parts[n - 1]), "pager": Part(n, part_urls(lay.timeline_url(year), len(parts))),
            "year_index": year_index, "year": year}


def timeline_groups(entries) -> list[tuple[int, list[tuple[int, list]]]]:
    """[(year, [(month or 0, entries)])], oldest first; month 0 holds year-precision entries."""
    years: dict[int, dict[int, list]] = {}
    for entry in entries:
        years.setdefault(entry.date.year, {}).setdefault(entry.date.month, []).append(entry)
    return [(year, list(months.items())) for year, months in years.items()]


def _claims(d: Dossier, page: dict) -> dict:
    """The claims index: every group on one page; once split, an overview (/claims/) and one
    part of one verdict's or kind's notes."""
    lay = listing.layout(d)
    keys = [(key, sum(len(p) for p in parts), lay.claims_url(key) if lay.claims_split else f"{urls.CLAIMS}#{key}",
             lay.claim_parts(key)) for key, parts in lay.claim_groups.items()]
    context: dict[str, Any] = {"keys": keys, "split": lay.claims_split, "key": page.get("key"), "pager": SINGLE,
                               "several": [], "single": []}
    if not lay.claims_split:
        context["groups"] = [(key, parts[0]) for key, parts in lay.claim_groups.items()]
    elif "key" in page:
        key, n = page["key"], page.get("part", 1)
        part = lay.claim_parts(key)
        context.update(groups=[(key, lay.claim_groups[key][n - 1])], pager=Part(n, part.urls, part.firsts))
    else:
        context["groups"] = []
    if "key" not in page:  # the shared claims: on the index's first page
        for claim in d.claims.values():
            tellings = d.index.anchors_by_claim.get(claim.id, [])
            told_by = len({a.annotation.article for a in tellings})
            context["several" if told_by >= 2 else "single"].append((claim, len(tellings), told_by))
    return context


def _compare(d: Dossier, page: dict) -> dict:
    lay, n = listing.layout(d), page.get("part", 1)
    columns, claims = lay.compare_columns, lay.compare[n - 1]
    told = {r.article.slug for r in columns}
    silent = [r for r in d.articles.values() if r.article.slug not in told] if d.claims and n == 1 else []
    context = {"columns": columns, "rows": [], "by_claim": [], "pager": Part(n, part_urls(urls.COMPARE, len(lay.compare))),
               "silent": silent[:SILENT_SHOWN], "silent_count": len(silent)}
    if len(columns) > listing.MATRIX_COLUMNS:
        context["by_claim"] = [(c, d.index.anchors_by_claim.get(c.id, [])) for c in claims]
    else:
        context["rows"] = _compare_rows(d, columns, claims)
    return context


def _compare_rows(d: Dossier, columns: list[ResolvedArticle], claims) -> list[tuple]:
    """(claim, [the article's tellings of it, per column]) for the coverage matrix."""
    rows = []
    for claim in claims:
        cells = defaultdict(list)
        for anc in d.index.anchors_by_claim.get(claim.id, []):
            cells[anc.annotation.article].append(anc)
        rows.append((claim, [cells.get(r.article.slug, []) for r in columns]))
    return rows


def _corrections(d: Dossier, page: dict) -> dict:
    lay, n = listing.layout(d), page.get("part", 1)
    return {"corrections": lay.corrections[n - 1], "pager": Part(n, part_urls(urls.CORRECTIONS, len(lay.corrections)))}


def _references(d: Dossier, page: dict) -> dict:
    lay, n = listing.layout(d), page.get("part", 1)
    return {"references": lay.references[n - 1], "pager": Part(n, part_urls(urls.REFERENCES, len(lay.references))),
            "citers_shown": listing.CITERS_SHOWN}


def _sources(d: Dossier, page: dict) -> dict:
    return {"articles_shown": listing.SOURCE_ARTICLES_SHOWN}


def _source(d: Dossier, page: dict) -> dict:
    """A publisher's own page: all its articles (when /sources/ cannot list them all)."""
    source_id, n = page["source_id"], page.get("part", 1)
    parts = listing.source_articles(d, source_id)
    return {"source": d.sources[source_id], "articles": parts[n - 1],
            "article_count": len(d.index.articles_by_source.get(source_id, [])),
            "pager": Part(n, part_urls(urls.source_page(source_id), len(parts)))}


LIST_CONTEXTS = {
    "index.html": _home,
    "articles.html": _articles,
    "entities.html": _entities,
    "timeline.html": _timeline,
    "claims.html": _claims,
    "compare.html": _compare,
    "corrections.html": _corrections,
    "references.html": _references,
    "sources.html": _sources,
    "source.html": _source,
}
"""Built-in templates that list the whole dossier → their context, from (dossier, the page's
planned context)."""
