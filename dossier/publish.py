"""Dossier → the files other programs read: the Atom feed, the sitemap, the data exports
(dossier.json, W3C Web Annotations, CSL-JSON references), the iCalendar timeline, and
the schema.org ClaimReview blocks embedded in article pages.

Pure: every output is a function of the dossier alone. Nothing reads the clock, so two
builds of the same input are byte-identical; every date comes from the dossier's data.
"""
from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from typing import Any, Iterator
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

from . import urls
from .markdown import render_markdown
from .model import KIND_LABELS, VERDICT_LABELS, VERDICTS, Anchor, Dossier, PartialDate

FEED = "feed.xml"
SITEMAP = "sitemap.xml"
DATA = "dossier.json"
ANNOTATIONS = "annotations.jsonld"
REFERENCES = "references.json"
CALENDAR = "timeline.ics"

MOTIVATIONS = {"fact-check": "assessing", "context": "commenting", "correction": "editing",
               "boilerplate": "classifying", "opinion": "classifying"}
"""Annotation kind → W3C Web Annotation motivation."""
NEWS_KINDS = ("news", "republication")
"""Article kinds whose appearance is a schema.org NewsArticle; the others are CreativeWorks."""


OUTPUTS = (FEED, SITEMAP, DATA, ANNOTATIONS, REFERENCES, CALENDAR)
"""The paths `outputs` writes."""


def outputs(d: Dossier, page_urls: list[str]) -> Iterator[tuple[str, str]]:
    """(output path, content) of every published file; `page_urls` are the HTML pages' URLs."""
    yield FEED, atom_feed(d)
    yield SITEMAP, sitemap(d, page_urls)
    yield DATA, dumps(dossier_data(d))
    yield ANNOTATIONS, dumps(web_annotations(d))
    yield REFERENCES, dumps(csl_references(d))
    yield CALENDAR, icalendar(d)


def dumps(data: Any) -> str:
    """Stable JSON: UTF-8 kept, keys in the order they were built, compact (the indented
    encoder is pure Python and many times slower on a large dossier)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def absolute(d: Dossier, url: str) -> str:
    return urls.absolute(d.site.base_url, url)


def _iso(date: PartialDate | None) -> str | None:
    return date.iso if date else None


# ---- Atom feed (RFC 4287) and sitemap ------------------------------------------------------

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: str) -> str:
    """Text for XML: escaped, without the control characters XML 1.0 forbids."""
    return escape(_XML_INVALID.sub("", text))


def _qa(text: str) -> str:
    return quoteattr(_XML_INVALID.sub("", text))


def _timestamp(date: PartialDate) -> str:
    """RFC 3339 instant of a partial date: its first day, at midnight UTC."""
    return f"{date.year:04d}-{date.month or 1:02d}-{date.day or 1:02d}T00:00:00Z"


def article_feed_date(d: Dossier, slug: str) -> PartialDate | None:
    """The latest date an article's entry knows: published, retrieved, or a correction to one of
    its notes; None for an article with none of these (the feed then uses its own date)."""
    resolved = d.articles[slug]
    dates = [resolved.article.published, resolved.article.retrieved]
    dates += [u.date for anc in resolved.anchors for u in anc.annotation.updates]
    return max((x for x in dates if x), default=None)


def feed_entries(d: Dossier) -> list[dict]:
    """Articles and events, newest first; undated articles last, dated like the feed itself."""
    entries = []
    for slug, resolved in d.articles.items():
        a = resolved.article
        source = d.sources.get(a.source)
        counts = _tally(resolved.anchors)
        summary = (f"<p>Annotated copy of “{_x(a.title)}”" + (f", published by {_x(source.name)} (rated {source.rating})" if source else "")
                   + (f", {a.published.iso}" if a.published else ", date unknown") + ".</p>"
                   + (f"<p>{len(resolved.anchors)} notes: {_x(counts)}.</p>" if resolved.anchors else ""))
        entries.append({"id": absolute(d, urls.article(slug)), "title": a.title, "date": article_feed_date(d, slug),
                        "published": a.published, "category": "article", "summary": summary})
    for event in d.events:
        entries.append({"id": absolute(d, urls.event(event.id)), "title": event.title, "date": event.date,
                        "published": event.date, "category": "event", "summary": render_markdown(event.summary)})
    dated = sorted((e for e in entries if e["date"]), key=lambda e: (e["date"], e["id"]), reverse=True)
    return dated + sorted((e for e in entries if not e["date"]), key=lambda e: e["id"])


def _tally(anchors: tuple[Anchor, ...]) -> str:
    """'2 accurate, 1 inaccurate, 3 context': verdicts in scale order, then the other kinds."""
    counts = Counter(a.annotation.verdict if a.annotation.kind == "fact-check" else a.annotation.kind for a in anchors)
    labels = {**{k: v.lower() for k, v in KIND_LABELS.items()}, **{k: v.lower() for k, v in VERDICT_LABELS.items()}}
    return ", ".join(f"{counts[key]} {labels.get(key, key)}" for key in [*VERDICTS, *KIND_LABELS] if counts[key])


def atom_feed(d: Dossier) -> str:
    """The articles and timeline events as an Atom feed; ids are the entries' absolute URLs."""
    entries = feed_entries(d)
    newest = next((e["date"] for e in entries if e["date"]), None)
    updated = _timestamp(newest) if newest else "1970-01-01T00:00:00Z"
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={_qa(d.site.language)} xml:base={_qa(d.site.base_url)}>',
             f"<id>{_x(d.site.base_url)}</id>",
             f"<title>{_x(d.site.title)}</title>",
             f"<subtitle>{_x(d.site.description)}</subtitle>",
             f"<updated>{updated}</updated>",
             f'<link rel="self" type="application/atom+xml" href={_qa(absolute(d, FEED))}/>',
             f'<link rel="alternate" type="text/html" href={_qa(d.site.base_url)}/>',
             f"<author><name>{_x(d.site.title)}</name><uri>{_x(d.site.base_url)}</uri></author>",
             "<generator>Dossier</generator>"]
    for e in entries:
        lines += ["<entry>",
                  f"<id>{_x(e['id'])}</id>",
                  f"<title>{_x(e['title'])}</title>",
                  f'<link rel="alternate" type="text/html" href={_qa(e["id"])}/>',
                  f"<updated>{_timestamp(e['date']) if e['date'] else updated}</updated>"]
        if e["published"]:
            lines.append(f"<published>{_timestamp(e['published'])}</published>")
        lines += [f'<category term="{e["category"]}"/>',
                  f'<summary type="html">{_x(e["summary"].strip())}</summary>',
                  "</entry>"]
    lines.append("</feed>")
    return "\n".join(lines) + "\n"


def sitemap(d: Dossier, page_urls: list[str]) -> str:
    """sitemaps.org 0.9: every HTML page but 404.html, by absolute URL, sorted."""
    locs = sorted(absolute(d, url) for url in set(page_urls) if url != urls.NOT_FOUND)
    body = "".join(f"<url><loc>{_x(loc)}</loc></url>\n" for loc in locs)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + body + "</urlset>\n")


# ---- iCalendar (RFC 5545) ------------------------------------------------------------------

def _ics_text(text: str) -> str:
    """A TEXT value: backslash, semicolon, comma and newline escaped."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """A content line folded at 75 octets, never inside a UTF-8 character (RFC 5545 §3.1)."""
    out, current, size = [], "", 0
    for char in line:
        n = len(char.encode("utf-8"))
        if size + n > 75:
            out.append(current)
            current, size = " ", 1
        current += char
        size += n
    out.append(current)
    return "\r\n".join(out)


def _day(year: int, month: int, day: int) -> str:
    return f"{year:04d}{month:02d}{day:02d}"


def event_span(date: PartialDate) -> tuple[str, str, str]:
    """(DTSTART, exclusive DTEND, what the span means) of an all-day event of this precision."""
    if date.day:
        end = datetime.date(date.year, date.month, date.day) + datetime.timedelta(days=1)
        return _day(date.year, date.month, date.day), _day(end.year, end.month, end.day), ""
    if date.month:
        end = (date.year + 1, 1) if date.month == 12 else (date.year, date.month + 1)
        return (_day(date.year, date.month, 1), _day(*end, 1),
                "Date known to the month only: the event spans the whole month.")
    return _day(date.year, 1, 1), _day(date.year + 1, 1, 1), "Date known to the year only: the event spans the whole year."


def icalendar(d: Dossier) -> str:
    """The timeline's events as all-day VEVENTs; UIDs and DTSTAMPs come from the data, not the clock."""
    parts = urlsplit(d.site.base_url)
    uid_domain = (parts.hostname or "localhost") + parts.path.rstrip("/")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//Dossier//{_ics_text(d.site.title)}//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{_ics_text(d.site.title)}"]
    for event in d.events:
        start, end, note = event_span(event.date)
        description = " ".join(event.summary.split())
        if note:
            description = f"{description}\n\n{note}" if description else note
        lines += ["BEGIN:VEVENT",
                  f"UID:{event.id}@{uid_domain}",
                  f"DTSTAMP:{start}T000000Z",
                  f"DTSTART;VALUE=DATE:{start}",
                  f"DTEND;VALUE=DATE:{end}",
                  f"SUMMARY:{_ics_text(event.title)}",
                  f"DESCRIPTION:{_ics_text(description)}",
                  f"URL:{absolute(d, urls.event(event.id))}",
                  "TRANSP:TRANSPARENT",
                  "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


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
    collection = absolute(d, ANNOTATIONS)
    items = [web_annotation(d, anc) for resolved in d.articles.values() for anc in resolved.anchors]
    return {"@context": "http://www.w3.org/ns/anno.jsonld", "id": collection, "type": "AnnotationCollection",
            "label": f"{d.site.title}: annotations", "total": len(items),
            "first": {"id": f"{collection}#page-1", "type": "AnnotationPage", "partOf": collection,
                      "startIndex": 0, "items": items}}


# ---- schema.org ClaimReview ----------------------------------------------------------------

def claim_reviews(d: Dossier, slug: str) -> list[dict]:
    """One ClaimReview per fact check in the article, in text order."""
    resolved = d.articles[slug]
    article = resolved.article
    source = d.sources.get(article.source)
    reviews = []
    for anc in resolved.anchors:
        ann = anc.annotation
        if ann.kind != "fact-check" or not ann.verdict:
            continue
        appearance: dict[str, Any] = {"@type": "NewsArticle" if article.kind in NEWS_KINDS else "CreativeWork",
                                      "url": article.url or absolute(d, urls.article(slug)), "headline": article.title}
        if article.published:
            appearance["datePublished"] = article.published.iso
        claim: dict[str, Any] = {"@type": "Claim", "appearance": appearance}
        if source:
            claim["author"] = {"@type": "Organization", "name": source.name, **({"url": source.url} if source.url else {})}
        review: dict[str, Any] = {
            "@context": "https://schema.org", "@type": "ClaimReview",
            "url": absolute(d, urls.annotation(slug, ann.id)),
            "claimReviewed": " ".join(anc.exact.split()),
            "reviewRating": {"@type": "Rating", "ratingValue": VERDICTS[ann.verdict], "bestRating": 5,
                             "worstRating": 1, "alternateName": VERDICT_LABELS[ann.verdict]},
            "itemReviewed": claim,
            "author": {"@type": "Organization", "name": d.site.title, "url": d.site.base_url}}
        # The review's date: its latest correction, else the article's date; never the build's.
        date = max((u.date for u in ann.updates), default=None) or article.published
        if date:
            review["datePublished"] = date.iso
        reviews.append(review)
    return reviews


def json_for_script(data: Any) -> str:
    """JSON that is safe inside <script>: '<', '>' and '&' become \\u escapes."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def claim_review_jsonld(d: Dossier, slug: str) -> Markup:
    """The article page's ClaimReview JSON-LD <script> element, or nothing without fact checks."""
    reviews = claim_reviews(d, slug)
    if not reviews:
        return Markup("")
    return Markup(f'<script type="application/ld+json">\n{json_for_script(reviews)}\n</script>\n')


# ---- dossier.json --------------------------------------------------------------------------

def _updates(updates) -> list[dict]:
    return [{"date": u.date.iso, "summary": u.summary} for u in updates]


def dossier_data(d: Dossier) -> dict:
    """The whole resolved dossier as plain data (see dossier/schema/dossier.schema.json)."""
    site = d.site
    cited_by: dict[str, list[dict]] = {ref: [] for ref in d.references}
    for ref, anchors in d.index.anchors_by_reference.items():
        cited_by.setdefault(ref, []).extend({"type": "annotation", "id": a.annotation.id} for a in anchors)
    for ref, citers in d.index.citers_of_reference.items():
        cited_by.setdefault(ref, []).extend({"type": kind, "id": cid} for kind, cid, _ in citers)
    return {
        "version": 1,
        "site": {"title": site.title, "base_url": site.base_url, "language": site.language,
                 "description": site.description},
        "sources": [{"id": s.id, "permalink": absolute(d, urls.source(s.id)), "name": s.name, "url": s.url,
                     "rating": s.rating, "rationale": s.rationale, "disclosures": list(s.disclosures),
                     "articles": [a.slug for a in d.index.articles_by_source.get(s.id, [])]}
                    for s in sorted(d.sources.values(), key=lambda s: s.id)],
        "articles": [_article_data(d, slug) for slug in d.articles],
        "annotations": [_annotation_data(d, anc) for r in d.articles.values() for anc in r.anchors],
        "claims": [{"id": c.id, "permalink": absolute(d, urls.claim(c.id)), "statement": c.statement,
                    "verdict": c.verdict, "rating": VERDICTS[c.verdict], "label": VERDICT_LABELS[c.verdict],
                    "note": c.note, "cite": list(c.cite), "entities": list(c.entities), "updates": _updates(c.updates),
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
            "mentions": dict(sorted(mentions.items())), "text": r.text}


def _annotation_data(d: Dossier, anc: Anchor) -> dict:
    ann = anc.annotation
    return {"id": ann.id, "permalink": absolute(d, urls.annotation(ann.article, ann.id)), "article": ann.article,
            "kind": ann.kind, "verdict": ann.verdict, "rating": VERDICTS[ann.verdict] if ann.verdict else None,
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
