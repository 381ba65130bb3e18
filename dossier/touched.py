"""Which pages an edit can change: what serve's incremental rebuilds re-render (incremental.py).

Pure functions of the dossier before and after the edit. Erring towards more pages only costs
time; a page left out would differ from a cold build, which tests/test_incremental.py catches.
"""
from __future__ import annotations

from . import listing, urls
from .model import Dossier
from .render import Page, lists_the_dossier, plan_pages

LIST_PAGES = (urls.HOME, urls.ARTICLES, urls.ENTITIES, urls.TIMELINE, urls.CLAIMS, urls.COMPARE, urls.CORRECTIONS,
              urls.SOURCES, urls.REFERENCES)
"""Pages that list every article or annotation: re-rendered after any content edit (with the
later parts of a long list: render.lists_the_dossier)."""


def structure_changed(old: Dossier, new: Dossier) -> bool:
    """Whether something every page may show changed: site, sources, entities, references,
    claims, events or content pages. Then every page is re-rendered."""
    return (old.site != new.site or old.sources != new.sources or old.entities != new.entities
            or old.references != new.references or old.claims != new.claims or old.events != new.events
            or old.pages != new.pages or list(old.articles) != list(new.articles) or _layout_changed(old, new))


def _layout_changed(old: Dossier, new: Dossier) -> bool:
    """Whether a long list was split differently (listing.py): pages came or went, or an event,
    a reference or a correction moved to another part, so links on any page may change."""
    before, after = listing.layout(old), listing.layout(new)
    return (before.placed != after.placed or before.claims_split != after.claims_split
            or [p.url for p in plan_pages(old)] != [p.url for p in plan_pages(new)])


def affected_pages(old: Dossier, new: Dossier, pages: list[Page], figures_changed: bool) -> list[Page]:
    """The pages an edit of articles or annotations can change; `figures_changed`: whether the
    figures content pages may state (coverage.figures) changed."""
    changed = {slug for slug, r in new.articles.items() if old.articles.get(slug) != r}
    changed |= {slug for slug in new.articles if bottom_line(old, slug) != bottom_line(new, slug)}
    entities, claims = set(), set()
    for d in (old, new):
        for slug in changed:
            resolved = d.articles.get(slug)
            if resolved is None:
                continue
            entities.update(m.entity for m in resolved.mentions)
            for anc in resolved.anchors:
                entities.update(anc.annotation.entities)
                if anc.annotation.claim:
                    claims.add(anc.annotation.claim)
    for claim in claims:  # each telling's article says how many other articles tell the claim
        tellers = [{a.annotation.article for a in d.index.anchors_by_claim.get(claim, [])} for d in (old, new)]
        if tellers[0] != tellers[1]:
            changed |= (tellers[0] | tellers[1]) & set(new.articles)
    wanted = set(LIST_PAGES) | {urls.article(s) for s in changed} | {urls.entity(e) for e in entities} \
        | {urls.claim(c) for c in claims}
    if figures_changed:  # content pages may state them
        wanted |= {urls.page(slug) for slug in new.pages}
    return [page for page in pages if page.url in wanted or lists_the_dossier(page)  # with every part of a page
            or page.context.get("entity_id") in entities or page.context.get("claim_id") in claims]


def bottom_line(d: Dossier, slug: str) -> tuple | None:
    """What an article page shows of its assessment (its place in annotations.yaml aside)."""
    assessment = d.assessments.get(slug)
    return (assessment.summary, assessment.updated) if assessment else None
