"""Facts in the annotation layer that contradict each other: a relation that ends before it
begins, stakes in one entity that add up to more than 100%, an article copied before it was
published, a republication older than its original, a claim nobody tells.

Partial dates (`2025`, `2025-06`) are ranges: a check fails only when every reading of the
dates conflicts, so "since 2025-06, until 2025-06" is fine and "since 2025-07, until
2025-06" is not.
"""
from __future__ import annotations

import re

from .diagnostics import Diagnostic, error, warning
from .model import Entity, Inputs, Relation

SHARE_RE = re.compile(r"\s*(\d{1,3}(?:\.\d+)?)\s*%\s*")
"""A share the checks can add up: `49%`, `12.5 %`. Other wordings ("majority") are not summed."""
BEFORE_ALL, AFTER_ALL = (0, 0, 0), (10000, 0, 0)


def check_consistency(inputs: Inputs) -> list[Diagnostic]:
    """Every contradiction between dates, stakes and claims, each pointing at the field to fix."""
    out: list[Diagnostic] = []
    for entity in inputs.annotations.entities.values():
        for relation in entity.relations:
            if relation.since and relation.until and relation.since.first > relation.until.last:
                out.append(error(relation.at("until"),
                                 f"the relation '{relation.type}' of '{entity.id}' to '{relation.target}' ends "
                                 f"({relation.until}) before it begins ({relation.since})",
                                 "swap 'since' and 'until', or correct the date that is wrong"))
        out += _overlapping_shares(entity)
    cycles = _republication_cycles(inputs)
    for article in inputs.articles.values():
        if article.published and article.retrieved and article.published.first > article.retrieved.last:
            out.append(error(article.at("retrieved"),
                             f"the article was retrieved ({article.retrieved}) before it was published ({article.published})",
                             "a copy cannot be taken before the article exists: correct 'published' or 'retrieved'"))
        if article.slug in cycles:
            out.append(error(article.at("republishes"),
                             f"'{article.slug}' republishes '{article.republishes}', which leads back to '{article.slug}'",
                             "only a copy names its original in 'republishes': remove it from the original"))
        original = inputs.articles.get(article.republishes or "")
        if (original is not None and original is not article and article.published and original.published
                and article.published.last < original.published.first):
            out.append(error(article.at("published"),
                             f"this republication is dated {article.published}, before the article it republishes, "
                             f"'{original.slug}' ({original.published})",
                             f"a copy cannot come before its original: correct this date or the one in {original.location.path}"))
    told = {a.claim for a in inputs.annotations.annotations if a.claim}
    for claim in inputs.annotations.claims.values():
        if claim.id not in told:
            out.append(warning(claim.location, f"claim '{claim.id}' is not told by any annotation",
                               f"add 'claim: {claim.id}' to each annotation whose quote states it, or remove the claim"))
    return out


def _republication_cycles(inputs: Inputs) -> set[str]:
    """Slugs of the articles on a loop of `republishes` (each article names at most one
    original, so one walk per article, never repeated, finds them all). An article that
    republishes itself is reported on its own by validate.cross_check."""
    on_cycle: set[str] = set()
    done: set[str] = set()
    for start in inputs.articles:
        path: dict[str, int] = {}
        current = start
        while current in inputs.articles and current not in done and current not in path:
            path[current] = len(path)
            current = inputs.articles[current].republishes
        if current in path:
            on_cycle.update(slug for slug, i in path.items() if i >= path[current])
        done.update(path)
    return {slug for slug in on_cycle if inputs.articles[slug].republishes != slug}


def share_percent(share: str | None) -> float | None:
    """'49%' → 49.0; None for a share written another way."""
    match = SHARE_RE.fullmatch(share or "")
    return float(match.group(1)) if match else None


def _overlapping_shares(entity: Entity) -> list[Diagnostic]:
    """Stakes in `entity` (its relations with a `share`) held at the same time, summed.

    A relation surely holds from the last day `since` can mean until the first day `until`
    can mean; a sweep over those moments finds the first one where the stakes pass 100%.
    """
    moments: list[tuple[tuple, int, int]] = []
    stakes = [(r, share_percent(r.share)) for r in entity.relations]
    for i, (relation, percent) in enumerate(stakes):
        if percent is None:
            continue
        start = relation.since.last if relation.since else BEFORE_ALL
        end = relation.until.first if relation.until else AFTER_ALL
        if start < end:
            moments += [(start, 1, i), (end, 0, i)]  # at one moment, a stake ends before another begins
    held: dict[int, float] = {}
    for _moment, begins, i in sorted(moments):
        if not begins:
            held.pop(i, None)
            continue
        held[i] = stakes[i][1]
        total = sum(held.values())
        if total > 100:
            relation = stakes[i][0]
            parts = ", ".join(f"{stakes[j][1]:g}% {stakes[j][0].target} (line {stakes[j][0].location.line})"
                              for j in sorted(held))
            return [error(relation.at("share"),
                          f"the shares in '{entity.id}' add up to {total:g}% {_when(relation)}: {parts}",
                          "correct a share, or end the earlier stake with 'until:'")]
    return []


def _when(relation: Relation) -> str:
    return f"from {relation.since}" if relation.since else "at the same time"
