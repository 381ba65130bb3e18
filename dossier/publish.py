"""Dossier → the files other programs read: the Atom feed, the sitemap and the iCalendar
timeline here; the data exports (dossier.json, W3C Web Annotations, CSL-JSON references,
ClaimReview) in exports.py. `outputs` lists them all.

Pure: every output is a function of the dossier alone. Nothing reads the clock, so two
builds of the same input are byte-identical; every date comes from the dossier's data.
"""
from __future__ import annotations

import datetime
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from . import urls
from .exports import (ANNOTATIONS, ArticleData, PackedShare, absolute, article_data, claim_review_jsonld, claim_reviews,
                      csl_references, dossier_data, dossier_json_pieces, dossier_line_pieces, dumps, web_annotations,
                      web_annotations_pieces)
from .markdown import render_inline, render_markdown
from .model import KIND_LABELS, VERDICT_LABELS, VERDICTS, Anchor, Dossier, PartialDate, Update

__all__ = ["OUTPUTS", "outputs", "atom_feed", "sitemap", "icalendar", "claim_review_jsonld", "claim_reviews",
           "csl_references", "dossier_data", "web_annotations", "dumps"]

@dataclass(frozen=True)
class Correction:
    """One `updates` entry, as /corrections/ and the feed list it."""
    update: Update
    kind: str
    """`annotation` or `claim`."""
    id: str
    fragment: str
    """The entry's element id on /corrections/."""
    url: str
    """Site-relative URL of what was corrected."""
    label: str
    """What was corrected, in words: 'Note on “…”' or 'Claim “…”'."""


def corrections(d: Dossier) -> list[Correction]:
    """Every `updates` entry of annotations and claims, newest first."""
    entries = []
    for anc in d.anchors.values():
        ann = anc.annotation
        if not ann.updates:
            continue
        quote = " ".join(anc.exact.split())
        quote = quote if len(quote) <= 90 else quote[:89].rstrip() + "…"
        label = f"Note on “{quote}” in “{d.articles[ann.article].article.title}”"
        entries += [Correction(u, "annotation", ann.id, f"annotation-{ann.id}-{n}", urls.annotation(ann.article, ann.id), label)
                    for n, u in enumerate(ann.updates, 1)]
    for claim in d.claims.values():
        entries += [Correction(u, "claim", claim.id, f"claim-{claim.id}-{n}", urls.claim(claim.id), f"Claim “{claim.statement}”")
                    for n, u in enumerate(claim.updates, 1)]
    return sorted(entries, key=lambda c: (c.update.date, c.kind, c.id, c.fragment), reverse=True)


FEED = "feed.xml"
SITEMAP = "sitemap.xml"
DATA = "dossier.json"
REFERENCES = "references.json"
CALENDAR = "timeline.ics"



LINES = "dossier.jsonl"
OUTPUTS = (FEED, SITEMAP, DATA, LINES, ANNOTATIONS, REFERENCES, CALENDAR)
"""The paths `outputs` writes."""


def outputs(d: Dossier, page_urls: list[str],
            shares: Callable[[Dossier, str], ArticleData] = article_data) -> Iterator[tuple[str, str]]:
    """(output path, content) of every published file; `page_urls` are the HTML pages' URLs,
    `shares` gives each article's share of the data files (the build cache's, in a build)."""
    for path, pieces in output_pieces(d, page_urls, shares):
        yield path, "".join(pieces)


def output_pieces(d: Dossier, page_urls: list[str],
                  shares: Callable[[Dossier, str], ArticleData] = article_data) -> Iterator[tuple[str, Iterable[str]]]:
    """outputs, each file's content in pieces to write one after another (the data files of
    a large dossier are never held whole)."""
    yield FEED, (atom_feed(d),)
    yield SITEMAP, (sitemap(d, page_urls),)
    parts = [PackedShare(shares(d, slug)) for slug in d.articles]
    yield DATA, dossier_json_pieces(d, parts)
    yield LINES, dossier_line_pieces(parts)
    yield ANNOTATIONS, web_annotations_pieces(d, parts)
    yield REFERENCES, (dumps(csl_references(d)),)
    yield CALENDAR, (icalendar(d),)


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
    """The latest date an article's entry knows: published, retrieved, the day the dossier's fact
    checks were published, a correction to one of its notes, or its bottom line's update; None
    for an article with none of these (the feed then uses its own date)."""
    resolved = d.articles[slug]
    assessment = d.assessments.get(slug)
    dates = [resolved.article.published, resolved.article.retrieved, d.site.published,
             assessment.updated if assessment else None]
    dates += [u.date for anc in resolved.anchors for u in anc.annotation.updates]
    return max((x for x in dates if x), default=None)


def feed_entries(d: Dossier) -> list[dict]:
    """Articles, events and corrections, newest first by the date each entry is `updated`; an
    undated entry is dated like the feed itself (its newest date)."""
    entries = []
    for slug, resolved in d.articles.items():
        a = resolved.article
        source = d.sources.get(a.source)
        counts = _tally(resolved.anchors)
        coverage = resolved.coverage
        assessment = d.assessments.get(slug)
        summary = (f"<p>Annotated copy of “{_x(a.title)}”" + (f", published by {_x(source.name)} (rated {source.rating})" if source else "")
                   + (f", {a.published.iso}" if a.published else ", date unknown") + ".</p>"
                   + (render_markdown(assessment.summary) if assessment else "")
                   + (f"<p>{len(resolved.anchors)} notes: {_x(counts)}.</p>" if resolved.anchors else "")
                   + f"<p>{coverage.annotated} of {coverage.sentences} sentences annotated ({coverage.percent}%).</p>")
        entries.append({"id": absolute(d, urls.article(slug)), "title": a.title, "date": article_feed_date(d, slug),
                        "published": a.published, "category": "article", "summary": summary})
    for event in d.events:
        entries.append({"id": absolute(d, urls.event(event.id)), "title": event.title, "date": event.date,
                        "published": event.date, "category": "event", "summary": render_markdown(event.summary)})
    for c in corrections(d):
        entries.append({"id": f"{absolute(d, urls.CORRECTIONS)}#{c.fragment}", "link": absolute(d, c.url),
                        "title": f"Correction: {c.label}", "date": c.update.date, "published": c.update.date,
                        "category": "correction", "summary": f"<p>{render_inline(c.update.summary)}</p>"})
    # Dates as plain tuples: much faster to compare. An undated entry sorts as the newest date,
    # which is what its <updated> says.
    days = {id(e): (e["date"].year, e["date"].month, e["date"].day) for e in entries if e["date"]}
    newest = max(days.values(), default=(0, 0, 0))
    return sorted(entries, key=lambda e: (days.get(id(e), newest), e["id"]), reverse=True)


def _tally(anchors: tuple[Anchor, ...]) -> str:
    """'2 accurate, 1 inaccurate, 3 context': verdicts in scale order, then the other kinds."""
    counts = Counter(a.annotation.verdict if a.annotation.kind == "fact-check" else a.annotation.kind for a in anchors)
    labels = {**{k: v.lower() for k, v in KIND_LABELS.items()}, **{k: v.lower() for k, v in VERDICT_LABELS.items()}}
    return ", ".join(f"{counts[key]} {labels.get(key, key)}" for key in [*VERDICTS, *KIND_LABELS] if counts[key])


def atom_feed(d: Dossier) -> str:
    """The articles, timeline events and corrections as an Atom feed; ids are absolute URLs."""
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
                  f'<link rel="alternate" type="text/html" href={_qa(e.get("link", e["id"]))}/>',
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
