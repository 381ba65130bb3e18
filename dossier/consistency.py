"""Facts in the annotation layer that contradict each other: a relation that ends before it
begins, stakes in one entity that add up to more than 100%, an article copied before it was
published, a republication older than its original or that does not name it, a claim nobody
tells.

Partial dates (`2025`, `2025-06`) are ranges: a check fails only when every reading of the
dates conflicts, so "since 2025-06, until 2025-06" is fine and "since 2025-07, until
2025-06" is not.
"""
from __future__ import annotations

import re

from .anchor import normalise
from .diagnostics import Diagnostic, error, warning
from .load import ARTICLES_DIR
from .model import Article, Entity, Inputs, Relation

SHARE_RE = re.compile(r"\s*(\d{1,3}(?:\.\d+)?)\s*%\s*")
"""A share the checks can add up: `49%`, `12.5 %`. Other wordings ("majority") are not summed."""
BEFORE_ALL, AFTER_ALL = (0, 0, 0), (10000, 0, 0)
SHARED_WORDS = 12
"""A paragraph this long found word for word in another article marks that article as the one
a republication copies (a shorter one may be a quotation both articles carry)."""


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
    originals = _likely_originals(inputs)
    for article in inputs.articles.values():
        if article.published and article.retrieved and article.published.first > article.retrieved.last:
            out.append(error(article.at("retrieved"),
                             f"the article was retrieved ({article.retrieved}) before it was published ({article.published})",
                             "a copy cannot be taken before the article exists: correct 'published' or 'retrieved'"))
        if article.slug in cycles:
            out.append(error(article.at("republishes"),
                             f"'{article.slug}' republishes '{article.republishes}', which leads back to '{article.slug}'",
                             "only a copy names its original in 'republishes': remove it from the original"))
        if article.kind == "republication" and not article.republishes:
            out.append(_unnamed_original(article, originals.get(article.slug)))
        original = inputs.articles.get(article.republishes or "")
        outside = inputs.annotations.references.get(article.republishes or "") if original is None else None
        original_date = original.published if original is not None else outside.date if outside is not None else None
        if article.published and original_date and article.published.last < original_date.first:
            where = original.location.path if original is not None else f"the reference '{outside.id}'"
            out.append(error(article.at("published"),
                             f"this republication is dated {article.published}, before the "
                             f"{'article' if original is not None else 'original'} it republishes, "
                             f"'{article.republishes}' ({original_date})",
                             f"a copy cannot come before its original: correct this date or the one in {where}"))
    told = {a.claim for a in inputs.annotations.annotations if a.claim}
    for claim in inputs.annotations.claims.values():
        if claim.id not in told:
            out.append(warning(claim.location, f"claim '{claim.id}' is not told by any annotation",
                               f"add 'claim: {claim.id}' to each annotation whose quote states it, or remove the claim"))
    return out


def _unnamed_original(article: Article, likely: tuple[Article, str] | None) -> Diagnostic:
    """A republication that does not name what it copies: claim pages would count its words as
    the copier's own, and twice when the original is in the dossier too."""
    if likely is not None:
        original, why = likely
        return warning(article.at("kind"),
                       f"article '{article.slug}' is a republication and seems to copy '{original.slug}' ({why}), "
                       "but does not name it in 'republishes:', so claim pages count the two as independent "
                       "publishers", f"add 'republishes: {original.slug}'")
    return warning(article.at("kind"),
                   f"article '{article.slug}' is a republication that names no original in 'republishes:', so claim "
                   f"pages count the publisher that copied it ('{article.source}') as the one that said it",
                   f"name the original in 'republishes:': its slug when it is in {ARTICLES_DIR}/; when it is not in "
                   "the dossier, add it under 'references:' (title, publisher, and its url or date if known) and "
                   "name that reference's id — claim pages then count the words as the original publisher's")


def _likely_originals(inputs: Inputs) -> dict[str, tuple[Article, str]]:
    """For each republication that names no original, an article of the dossier it seems to
    copy, and why: the same title, or a paragraph of SHARED_WORDS words or more found word for
    word in it. One pass over the articles, and only when there is such a republication."""
    copies = [a for a in inputs.articles.values() if a.kind == "republication" and not a.republishes]
    if not copies:
        return {}
    where: dict[int, list[Article]] = {}
    for article in inputs.articles.values():
        for mark in {mark for mark, _ in _fingerprints(article)}:
            where.setdefault(mark, []).append(article)
    found = {}
    for copy in copies:
        for mark, why in _fingerprints(copy):
            others = [a for a in where.get(mark, []) if a is not copy]
            if others:  # an article that is no copy itself first
                found[copy.slug] = (min(others, key=lambda a: (a.kind == "republication", a.slug)), why)
                break
    return found


def _fingerprints(article: Article) -> list[tuple[int, str]]:
    """Hashes of what a copy keeps of its original: the title, and each long paragraph."""
    marks = [(hash(("title", normalise(article.title).casefold())), "the same title")]
    offset = 0
    for paragraph in article.body.split("\n\n"):
        words = normalise(paragraph)
        if words.count(" ") + 1 >= SHARED_WORDS:
            line = article.body_line + article.body.count("\n", 0, offset)
            marks.append((hash(("paragraph", words)), f"its paragraph at line {line} is there word for word"))
        offset += len(paragraph) + 2
    return marks


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
