"""Dossier → data for other programs: dossier.json, the W3C Web Annotation collection,
CSL-JSON references, and the schema.org ClaimReview blocks embedded in article pages.

Pure, like publish.py: every output is a function of the dossier alone.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from collections.abc import Iterable, Iterator
from typing import Any

from markupsafe import Markup

from . import urls
from .coverage import totals
from .model import (KIND_LABELS, VERDICT_LABELS, VERDICTS, Anchor, Dossier, PartialDate, original_of, outside_original,
                    pack, source_named, unpack)

MOTIVATIONS = {"fact-check": "assessing", "context": "commenting", "correction": "editing",
               "boilerplate": "classifying", "opinion": "classifying"}
"""Annotation kind → W3C Web Annotation motivation."""
NEWS_KINDS = ("news", "republication")
"""Article kinds whose appearance is a schema.org NewsArticle; the others are CreativeWorks."""
ANNOTATIONS = "annotations.jsonld"


def dumps(data: Any) -> str:
    """Stable JSON: UTF-8 kept, keys in the order they were built, compact (the indented
    encoder is pure Python and many times slower on a large dossier)."""
    return _compact(data) + "\n"


def _compact(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class ArticleData:
    """One article's share of the data files, as JSON text (the build cache keeps it: on a
    large dossier these files cost more to make than to put together)."""

    article: str
    """Its object in dossier.json's `articles`."""
    annotations: tuple[str, ...]
    """Its annotations' objects in dossier.json's `annotations`, in text order."""
    web_annotations: tuple[str, ...]
    """Its annotations' items in annotations.jsonld."""

    @property
    def web_count(self) -> int:
        return len(self.web_annotations)


class PackedShare:
    """An ArticleData kept compressed from the first data file that needs it to the last
    (at 10,000 articles the shares are 300 MB of JSON text; packed, about a quarter)."""

    __slots__ = ("_article", "_annotations", "_web", "web_count", "_count")

    def __init__(self, share: ArticleData):
        # Compact JSON has no raw line break (json.dumps escapes them): one joins the items.
        self._article = pack(share.article)
        self._annotations, self._count = pack("\n".join(share.annotations)), len(share.annotations)
        self._web, self.web_count = pack("\n".join(share.web_annotations)), len(share.web_annotations)

    @property
    def article(self) -> str:
        return unpack(self._article)

    @property
    def annotations(self) -> tuple[str, ...]:
        return tuple(unpack(self._annotations).split("\n")) if self._count else ()

    @property
    def web_annotations(self) -> tuple[str, ...]:
        return tuple(unpack(self._web).split("\n")) if self.web_count else ()


def article_data(d: Dossier, slug: str) -> ArticleData:
    anchors = d.articles[slug].anchors
    return ArticleData(_compact(_article_data(d, slug)), tuple(_compact(_annotation_data(d, a)) for a in anchors),
                       tuple(_compact(web_annotation(d, a)) for a in anchors))


def absolute(d: Dossier, url: str) -> str:
    """The full URL of a page or a place on one (on the part of a split list that shows it)."""
    from .listing import place  # listing imports publish, which imports this module
    return urls.absolute(d.site.base_url, place(d, url))


def _iso(date: PartialDate | None) -> str | None:
    return date.iso if date else None


# ---- CSL-JSON references -------------------------------------------------------------------

def _date_parts(date: PartialDate | None) -> dict | None:
    if date is None:
        return None
    return {"date-parts": [[p for p in (date.year, date.month, date.day) if p]]}


def _authors(names: str) -> list[dict]:
    """'David Silver and Richard S. Sutton' → two literal CSL names; also splits on ';' and '&'."""
    return [{"literal": n} for n in re.split(r"\s*;\s*|\s+and\s+|\s*&\s*", names.strip()) if n]


def reference_type(publisher: str | None, url: str | None) -> str:
    """CSL item type: a blog post, a news article (any other publisher), a web page, or a document."""
    if publisher and "blog" in publisher.lower():
        return "post-weblog"
    if publisher:
        return "article-newspaper"
    return "webpage" if url else "document"


def csl_references(d: Dossier) -> list[dict]:
    """The bibliography as CSL-JSON items, sorted by id."""
    items = []
    for ref_id in sorted(d.references):
        ref = d.references[ref_id]
        item: dict[str, Any] = {"id": ref.id, "type": reference_type(ref.publisher, ref.url), "title": ref.title}
        if ref.author:
            item["author"] = _authors(ref.author)
        if ref.publisher:
            item["container-title"] = ref.publisher
        if ref.date:
            item["issued"] = _date_parts(ref.date)
        if ref.accessed:
            item["accessed"] = _date_parts(ref.accessed)
        if ref.url:
            item["URL"] = ref.url
        note = " ".join(x for x in (ref.note, f"Archived copy: {ref.archive}" if ref.archive else None) if x)
        if note:
            item["note"] = note
        items.append(item)
    return items


# ---- W3C Web Annotations -------------------------------------------------------------------

def annotation_target(d: Dossier, anc: Anchor) -> str:
    """Where the quote was published: the article's own URL, else the dossier's copy of it."""
    article = d.articles[anc.annotation.article].article
    return article.url or absolute(d, urls.article(article.slug))


def web_annotation(d: Dossier, anc: Anchor) -> dict:
    ann = anc.annotation
    body: list[dict] = []
    if ann.kind == "fact-check" and ann.verdict:
        body.append({"type": "TextualBody", "purpose": "assessing", "value": VERDICT_LABELS[ann.verdict],
                     "format": "text/plain", "language": d.site.language})
    if ann.note:
        body.append({"type": "TextualBody", "purpose": "commenting" if ann.kind == "fact-check" else MOTIVATIONS[ann.kind],
                     "value": ann.note, "format": "text/markdown", "language": d.site.language})
    body += [{"type": "SpecificResource", "purpose": "linking", "source": absolute(d, urls.reference(ref))}
             for ref in ann.cite]
    return {"id": absolute(d, urls.annotation(ann.article, ann.id)),
            "type": "Annotation",
            "motivation": MOTIVATIONS.get(ann.kind, "commenting"),
            "creator": {"type": "Organization", "name": d.site.title, "homepage": d.site.base_url},
            "body": body,
            "target": {"source": annotation_target(d, anc),
                       "selector": {"type": "TextQuoteSelector", "exact": anc.exact,
                                    "prefix": anc.prefix, "suffix": anc.suffix}}}


def web_annotations(d: Dossier) -> dict:
    """Every anchored annotation as one AnnotationCollection with a single page, in text order."""
    items = [web_annotation(d, anc) for resolved in d.articles.values() for anc in resolved.anchors]
    head, first = _collection(d, len(items))
    return {**head, "first": {**first, "items": items}}


def _collection(d: Dossier, total: int) -> tuple[dict, dict]:
    """The AnnotationCollection and its page, but the page's items."""
    collection = absolute(d, ANNOTATIONS)
    return ({"@context": "http://www.w3.org/ns/anno.jsonld", "id": collection, "type": "AnnotationCollection",
             "label": f"{d.site.title}: annotations", "total": total},
            {"id": f"{collection}#page-1", "type": "AnnotationPage", "partOf": collection, "startIndex": 0})


def web_annotations_json(d: Dossier, parts: list[ArticleData]) -> str:
    """dumps(web_annotations(d)), from each article's share of it."""
    return "".join(web_annotations_pieces(d, parts))


def web_annotations_pieces(d: Dossier, parts: list[ArticleData] | list[PackedShare]) -> Iterator[str]:
    """web_annotations_json in pieces, to be written one after another (never one string)."""
    head, first = _collection(d, sum(part.web_count for part in parts))
    yield f'{_compact(head)[:-1]},"first":{_compact(first)[:-1]},"items":['
    yield from _joined(item for part in parts for item in part.web_annotations)
    yield "]}}\n"


def _joined(items: Iterable[str]) -> Iterator[str]:
    """The items with a comma between each two, as pieces."""
    for n, item in enumerate(items):
        yield "," + item if n else item


# ---- schema.org ClaimReview ----------------------------------------------------------------

def _appearance(d: Dossier, article, brief: bool = False) -> dict:
    """Where a claim appeared: the article's own URL, else the dossier's copy of it. `brief`
    (on the article's own page, where each fact check repeats it) leaves out the headline and
    the publisher, which the Claim names as its author."""
    appearance: dict[str, Any] = {"@type": "NewsArticle" if article.kind in NEWS_KINDS else "CreativeWork",
                                  "url": article.url or absolute(d, urls.article(article.slug))}
    if not brief:
        appearance["headline"] = article.title
    if article.published:
        appearance["datePublished"] = article.published.iso
    source = d.sources.get(article.source)
    if source and not brief:
        appearance["publisher"] = _organization(source.name, source.url)
    return appearance


def _reference_appearance(d: Dossier, reference, copy) -> dict:
    """The original of a republication, known from a reference: its own URL when the reference
    gives one other than the copy's, else the reference's entry in the dossier."""
    url = reference.url if reference.url and reference.url != copy.url else absolute(d, urls.reference(reference.id))
    appearance: dict[str, Any] = {"@type": "CreativeWork", "url": url, "headline": reference.title}
    if reference.date:
        appearance["datePublished"] = reference.date.iso
    if reference.publisher:
        source = d.sources.get(source_named(d, reference.publisher) or "")
        appearance["publisher"] = _organization(reference.publisher, source.url if source else None)
    return appearance


def _organization(name: str, url: str | None) -> dict:
    return {"@type": "Organization", "name": name, **({"url": url} if url else {})}


def _review(d: Dossier, url: str, reviewed: str, verdict: str, claim: dict, updates) -> dict:
    review: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "ClaimReview", "url": url,
        "claimReviewed": " ".join(reviewed.split()),
        "reviewRating": {"@type": "Rating", "ratingValue": VERDICTS[verdict], "bestRating": 5, "worstRating": 1,
                         "alternateName": VERDICT_LABELS[verdict]},
        "itemReviewed": claim,
        "author": {"@type": "Organization", "name": d.site.title, "url": d.site.base_url}}
    # When the review was first published: its first logged change, else the day the dossier's
    # fact checks were published (check warns without either, and the date is left out); the
    # latest change. Never the build's date.
    published = min((u.date for u in updates), default=None) or d.site.published
    if published:
        review["datePublished"] = published.iso
    if updates:
        review["dateModified"] = max(u.date for u in updates).iso
    return review


def claim_reviews(d: Dossier, slug: str) -> list[dict]:
    """One ClaimReview per fact check in the article, in text order."""
    resolved = d.articles[slug]
    claim = _claim_of(d, resolved.article)
    reviews = []
    for anc in resolved.anchors:
        ann = anc.annotation
        if ann.kind != "fact-check" or not ann.verdict:
            continue
        reviews.append(_review(d, absolute(d, urls.annotation(slug, ann.id)), anc.exact, ann.verdict, claim, ann.updates))
    return reviews


def _claim_of(d: Dossier, article) -> dict:
    """The Claim an article's fact checks review. Its author is whoever first published the
    words: for a republication, the original's publisher (the republisher is an appearance,
    the original the first), or nobody named when the dossier does not hold the original."""
    original = original_of(d, article)
    outside = outside_original(d, article)
    if outside is not None:  # the original is outside the dossier: the reference stands for it
        first = _reference_appearance(d, outside, article)
        claim = {"@type": "Claim", "appearance": [first, _appearance(d, article)], "firstAppearance": first}
        if "publisher" in first:
            claim["author"] = first["publisher"]
        return claim
    if original is article and article.kind != "republication":
        claim: dict[str, Any] = {"@type": "Claim", "appearance": _appearance(d, article, brief=True)}
        source = d.sources.get(article.source)
    elif original is article:  # a copy of something the dossier does not hold: its author is unknown here
        appearance = _appearance(d, article, brief=True)
        if article.source in d.sources:  # the republisher: where the words appeared, not who wrote them
            appearance["publisher"] = _organization(d.sources[article.source].name, d.sources[article.source].url)
        return {"@type": "Claim", "appearance": appearance}
    else:
        claim = {"@type": "Claim", "appearance": [_appearance(d, original), _appearance(d, article)],
                 "firstAppearance": _appearance(d, original)}
        source = d.sources.get(original.source)
    if source:
        claim["author"] = _organization(source.name, source.url)
    return claim


def claim_page_review(d: Dossier, claim_id: str) -> dict:
    """The ClaimReview of a claim under `claims:`: every article that tells it is an
    `appearance`, the earliest dated one the `firstAppearance`."""
    claim = d.claims[claim_id]
    articles = list(dict.fromkeys(d.articles[a.annotation.article].article
                                  for a in d.index.anchors_by_claim.get(claim_id, [])))
    item: dict[str, Any] = {"@type": "Claim", "appearance": [_appearance(d, a) for a in articles]}
    dated = [a for a in articles if a.published]  # tellings come earliest first
    if dated:
        item["firstAppearance"] = _appearance(d, dated[0])
    return _review(d, absolute(d, urls.claim(claim_id)), claim.statement, claim.verdict, item, claim.updates)


def json_for_script(data: Any) -> str:
    """JSON that is safe inside <script>: '<', '>' and '&' become \\u escapes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def claim_review_jsonld(d: Dossier, slug: str) -> Markup:
    """The article page's ClaimReview JSON-LD <script> element, or nothing without fact checks."""
    reviews = claim_reviews(d, slug)
    if not reviews:
        return Markup("")
    return Markup(f'<script type="application/ld+json">\n{json_for_script(reviews)}\n</script>\n')


def claim_page_jsonld(d: Dossier, claim_id: str) -> Markup:
    """The claim page's ClaimReview JSON-LD <script> element."""
    return Markup(f'<script type="application/ld+json">\n{json_for_script(claim_page_review(d, claim_id))}\n</script>\n')


# ---- dossier.json --------------------------------------------------------------------------

def _updates(updates) -> list[dict]:
    return [{"date": u.date.iso, "summary": u.summary} for u in updates]


def dossier_data(d: Dossier, spliced: bool = True) -> dict:
    """The whole resolved dossier as plain data (see dossier/schema/dossier.schema.json);
    without `spliced`, the articles and annotations are left out (dossier_json adds them)."""
    site = d.site
    cited_by: dict[str, list[dict]] = {ref: [] for ref in d.references}
    for ref, anchors in d.index.anchors_by_reference.items():
        cited_by.setdefault(ref, []).extend({"type": "annotation", "id": a.annotation.id} for a in anchors)
    for ref, citers in d.index.citers_of_reference.items():
        cited_by.setdefault(ref, []).extend({"type": kind, "id": cid} for kind, cid, _ in citers)
    return {
        "version": 1,
        "site": {"title": site.title, "base_url": site.base_url, "language": site.language,
                 "description": site.description, "summary": site.summary, "published": _iso(site.published)},
        "coverage": dict(zip(("sentences", "annotated"), totals(d))),
        "sources": [{"id": s.id, "permalink": absolute(d, urls.source(s.id)), "name": s.name, "url": s.url,
                     "rating": s.rating, "rationale": s.rationale, "disclosures": list(s.disclosures),
                     "articles": [a.slug for a in d.index.articles_by_source.get(s.id, [])]}
                    for s in sorted(d.sources.values(), key=lambda s: s.id)],
        "articles": [_article_data(d, slug) for slug in d.articles] if spliced else None,
        "annotations": [_annotation_data(d, anc) for r in d.articles.values() for anc in r.anchors] if spliced else None,
        "claims": [{"id": c.id, "permalink": absolute(d, urls.claim(c.id)), "statement": c.statement,
                    "verdict": c.verdict, "rating": VERDICTS[c.verdict], "label": VERDICT_LABELS[c.verdict],
                    "note": c.note, "cite": list(c.cite), "entities": list(c.entities), "updates": _updates(c.updates),
                    "key": c.key,
                    "tellings": [a.annotation.id for a in d.index.anchors_by_claim.get(c.id, [])]}
                   for c in sorted(d.claims.values(), key=lambda c: c.id)],
        "entities": [_entity_data(d, e) for e in sorted(d.entities.values(), key=lambda e: e.id)],
        "references": [{"id": r.id, "permalink": absolute(d, urls.reference(r.id)), "title": r.title,
                        "publisher": r.publisher, "author": r.author, "url": r.url, "date": _iso(r.date),
                        "accessed": _iso(r.accessed), "archive": r.archive, "quote": r.quote, "note": r.note,
                        "cited_by": cited_by.get(r.id, [])}
                       for r in sorted(d.references.values(), key=lambda r: r.id)],
        "events": [{"id": e.id, "permalink": absolute(d, urls.event(e.id)), "date": e.date.iso,
                    "precision": e.date.precision, "title": e.title, "summary": e.summary,
                    "entities": list(e.entities), "cite": list(e.cite)} for e in d.events],
        "timeline": [{"id": t.id, "date": t.date.iso, "title": t.title, "event": t.event.id if t.event else None,
                      "article": t.article.slug if t.article else None} for t in d.timeline],
        "pages": [{"slug": p.slug, "permalink": absolute(d, urls.page(p.slug)), "title": p.title,
                   "description": p.description} for p in sorted(d.pages.values(), key=lambda p: p.slug)],
    }


SPLICED = ("articles", "annotations")
"""The sections of dossier.json made of each article's share (ArticleData)."""


def dossier_json(d: Dossier, parts: list[ArticleData]) -> str:
    """dumps(dossier_data(d)), from each article's share of it (in the order of d.articles)."""
    return "".join(dossier_json_pieces(d, parts))


def dossier_json_pieces(d: Dossier, parts: list[ArticleData]) -> Iterator[str]:
    """dossier_json in pieces, to be written one after another: at 10,000 articles the file
    is over 100 MB, and as one string (and its encoding) it was the build's peak of memory."""
    for n, (name, value) in enumerate(dossier_data(d, spliced=False).items()):
        yield ("{" if n == 0 else ",") + _compact(name) + ":"
        if name == "articles":
            yield "["
            yield from _joined(part.article for part in parts)
            yield "]"
        elif name == "annotations":
            yield "["
            yield from _joined(item for part in parts for item in part.annotations)
            yield "]"
        else:
            yield _compact(value)
    yield "}\n"


def dossier_lines(parts: list[ArticleData]) -> str:
    """dossier.jsonl: one line per article (in the order of dossier.json), the article and its
    annotations, as dossier.json has them (see dossier/schema/dossier-line.schema.json)."""
    return "".join(dossier_line_pieces(parts))


def dossier_line_pieces(parts: list[ArticleData]) -> Iterator[str]:
    """dossier_lines, a line at a time."""
    for part in parts:
        yield f'{{"article":{part.article},"annotations":[{",".join(part.annotations)}]}}\n'


def _article_data(d: Dossier, slug: str) -> dict:
    r = d.articles[slug]
    a = r.article
    mentions: dict[str, int] = {}
    for m in r.mentions:
        mentions[m.entity] = mentions.get(m.entity, 0) + 1
    return {"slug": slug, "permalink": absolute(d, urls.article(slug)), "title": a.title, "source": a.source,
            "kind": a.kind, "url": a.url, "author": a.author, "published": _iso(a.published),
            "retrieved": _iso(a.retrieved), "republishes": a.republishes, "words": r.words,
            "annotations": [anc.annotation.id for anc in r.anchors],
            "mentions": dict(sorted(mentions.items())), "text": r.text, "coverage": _coverage_data(r.coverage),
            "assessment": _assessment_data(d.assessments.get(slug))}


def _coverage_data(c) -> dict:
    return {"sentences": c.sentences, "annotated": c.annotated, "title_annotated": c.title_annotated,
            "unannotated": [{"start": start, "end": end, "line": line} for start, end, line in c.unannotated]}


def _assessment_data(a) -> dict | None:
    return {"summary": a.summary, "updated": _iso(a.updated)} if a else None


def _annotation_data(d: Dossier, anc: Anchor) -> dict:
    ann = anc.annotation
    return {"id": ann.id, "permalink": absolute(d, urls.annotation(ann.article, ann.id)), "article": ann.article,
            "field": ann.field, "kind": ann.kind, "verdict": ann.verdict, "rating": VERDICTS[ann.verdict] if ann.verdict else None,
            "label": VERDICT_LABELS[ann.verdict] if ann.verdict else KIND_LABELS.get(ann.kind, ann.kind),
            "number": anc.number, "line": anc.line,
            "position": {"start": anc.span.start, "end": anc.span.end},
            "exact": anc.exact, "prefix": anc.prefix, "suffix": anc.suffix,
            "given": {"quote": ann.quote, "prefix": ann.prefix, "suffix": ann.suffix},
            "note": ann.note, "cite": list(ann.cite), "entities": list(ann.entities), "claim": ann.claim,
            "updates": _updates(ann.updates)}


def _entity_data(d: Dossier, e) -> dict:
    mentions = d.index.mentions_by_entity.get(e.id, [])
    return {"id": e.id, "permalink": absolute(d, urls.entity(e.id)), "name": e.name, "type": e.type,
            "aliases": list(e.aliases), "summary": e.summary, "wikidata": e.wikidata,
            "relations": [{"type": r.type, "target": r.target, "since": _iso(r.since), "until": _iso(r.until),
                           "share": r.share, "note": r.note, "cite": list(r.cite)} for r in e.relations],
            "mentions": len(mentions), "mentioned_in": list(dict.fromkeys(m.article for m in mentions))}
