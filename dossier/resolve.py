"""Inputs → Dossier: anchor every quote, find every entity mention, build the timeline and
the backlinks the pages need. Pure: no I/O; recently parsed bodies are cached by their text."""
from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from . import anchor as anchoring
from .coverage import article_coverage, figure_problems, unannotated_runs
from .diagnostics import Diagnostic, error, warning
from .link import AliasIndex, build_alias_index, find_mentions, sentence_around, usable
from . import urls
from .markdown import ParsedBody, annotated_body_html, annotated_title_html, parse_body
from .model import (Anchor, Annotation, Annotations, Article, Dossier, Index, Inputs, Mention, PartialDate, ResolvedArticle,
                    Span, TimelineEntry, pack)

@lru_cache(maxsize=64)
def parsed_body(source: str) -> ParsedBody:
    """The parsed body, kept for the few articles edited most recently (serve re-anchors
    an article whose annotations change without re-parsing it); a cold build parses once."""
    return parse_body(source)


def alias_index(annotations: Annotations) -> AliasIndex:
    return build_alias_index({e.id: (e.name, *e.aliases) for e in annotations.entities.values()})


def resolve(inputs: Inputs) -> tuple[Dossier, list[Diagnostic]]:
    """Anchor, link and cross-index the validated inputs."""
    a = inputs.annotations
    diagnostics: list[Diagnostic] = []
    by_article = annotations_by_article(a)
    aliases = alias_index(a)
    names = {e.id: e.name for e in a.entities.values()}
    articles = {}
    for slug, article in inputs.articles.items():
        resolved, problems = resolve_article(article, by_article.get(slug, []), aliases, names)
        articles[slug] = resolved
        diagnostics += problems
    dossier, problems = assemble(inputs, articles)
    return dossier, diagnostics + problems


def annotations_by_article(annotations: Annotations) -> dict[str, list[Annotation]]:
    by_article: dict[str, list[Annotation]] = defaultdict(list)
    for annotation in annotations.annotations:
        by_article[annotation.article].append(annotation)
    return dict(by_article)


def assemble(inputs: Inputs, articles: dict[str, ResolvedArticle]) -> tuple[Dossier, list[Diagnostic]]:
    """The dossier from its resolved articles: order, timeline and backlinks."""
    a = inputs.annotations
    diagnostics: list[Diagnostic] = []
    ordered = dict(sorted(articles.items(), key=lambda kv: _article_order(kv[1].article)))
    anchors = {anc.annotation.id: anc for r in ordered.values() for anc in r.anchors}
    # Dates compare as plain tuples: a PartialDate's generated comparison is Python code, and
    # called this often it costs more than the rest of the sort.
    events = tuple(sorted(a.events, key=lambda e: (e.date.year, e.date.month, e.date.day, e.title, e.id)))
    index = _index(inputs, ordered, anchors, events)
    diagnostics += _unused_entities(inputs, index)
    diagnostics += figure_problems(inputs.pages.values())
    assessments = {slug: a.assessments[slug] for slug in ordered if slug in a.assessments}
    dossier = Dossier(a.site, a.sources, a.entities, a.references, a.claims, ordered, inputs.pages, anchors,
                      events, _timeline(events, ordered), index, assessments)
    return dossier, diagnostics


def resolve_article(article: Article, annotations: list[Annotation], aliases: AliasIndex,
                    entity_names: dict[str, str]) -> tuple[ResolvedArticle, list[Diagnostic]]:
    """One article's anchors, mentions, coverage and annotated body and title; depends on
    nothing but its inputs."""
    parsed = parsed_body(article.body)
    searchable = anchoring.prepare(parsed.text)
    starts = [c.start for c in parsed.chunks]
    title = Place(anchoring.prepare(article.title), f"the title of {article.location.path}",
                  lambda offset: article.at("title").line)
    body = Place(searchable, article.location.path, lambda offset: _line(article, parsed, starts, offset))
    found: list[tuple[bool, Span, Annotation]] = []
    diagnostics = []
    for annotation in annotations:
        in_title = annotation.field == "title"
        place, other = (title, body) if in_title else (body, title)
        match = anchoring.anchor_quote(place.search, annotation.quote, annotation.prefix, annotation.suffix)
        if match.span is not None:
            found.append((not in_title, match.span, annotation))
        else:
            diagnostics.append(_anchor_problem(place, other, annotation, match))
    found.sort(key=lambda f: (f[0], f[1].start, -f[1].end, f[2].id))  # the title's notes first
    anchors = []
    for number, (in_body, span, annotation) in enumerate(found, 1):
        place = body if in_body else title
        text = place.search.text
        anchors.append(Anchor(annotation, span, number, text[span.start:span.end], text[max(0, span.start - 32):span.start],
                              text[span.end:span.end + 32], place.line_of(span.start)))
    anchors = tuple(anchors)
    title_anchors = anchors[:sum(not in_body for in_body, _, _ in found)]
    body_anchors = anchors[len(title_anchors):]
    coverage = article_coverage(parsed.text, (anc.span for anc in body_anchors), bool(title_anchors), body.line_of)
    mentions = []
    sentences: dict[str, str] = {}  # one string for the mentions of one sentence
    linked_in_block: set[tuple[str, int]] = set()
    for start, end, entity_id in find_mentions(parsed.text, aliases):
        counts, linkable, block = usable(parsed.chunks, starts, start, end)
        if not counts:
            continue
        link = linkable and (entity_id, block) not in linked_in_block
        if link:
            linked_in_block.add((entity_id, block))
        sentence = sentence_around(parsed.text, start, end)
        mentions.append(Mention(entity_id, article.slug, Span(start, end), sentences.setdefault(sentence, sentence), link))
    link = urls.Linker(urls.article(article.slug))
    body_html = annotated_body_html(parsed, body_anchors, mentions, entity_names, lambda e: link(urls.entity(e)),
                                    unannotated_runs(parsed.text, coverage))
    return ResolvedArticle(article, pack(parsed.text), anchors, tuple(mentions), len(parsed.text.split()), pack(body_html),
                           coverage, annotated_title_html(article.title, title_anchors)), diagnostics


@dataclass(frozen=True)
class Place:
    """Where quotes of one field are looked for: the article's title or its body."""

    search: anchoring.SearchText
    name: str
    """How messages name it: the file, or "the title of" the file."""
    line_of: Callable[[int], int]
    """The file line of an offset in the text."""


def _anchor_problem(place: Place, other: Place, annotation: Annotation, match: anchoring.Match) -> Diagnostic:
    where = annotation.quote_location
    searchable, text = place.search, place.search.text
    quote = f"the quote of annotation '{annotation.id}'"
    if len(match.candidates) > 1:
        lines = [place.line_of(s.start) for s in match.candidates]
        picks = []
        for span, line in zip(match.candidates, lines):
            pick = anchoring.disambiguate(searchable, match.candidates, span)
            if pick:
                picks.append(f"line {line}: {pick[0]}: \"{pick[1]}\"")
        has_context = bool(annotation.prefix or annotation.suffix)
        what = "with this prefix/suffix matches" if has_context else "occurs"
        if has_context and not any(anchoring.has_context(searchable, s, annotation.prefix, annotation.suffix)
                                   for s in match.candidates):
            what = "is found, but never with this prefix/suffix; it occurs"
        return error(where, f"{quote} {what} {len(match.candidates)} times in {place.name} "
                            f"(lines {', '.join(map(str, lines))})",
                     "add a prefix or suffix to pick one: " + "; ".join(picks) if picks else "quote more words to make it unique")
    if len(match.candidates) == 1:
        line = place.line_of(match.candidates[0].start)
        return error(where, f"{quote} is in {place.name} (line {line}) but not with this prefix/suffix",
                     "fix or remove 'prefix'/'suffix': they must be the words right before/after the quote")
    elsewhere = anchoring.find_quote(other.search, annotation.quote)
    if elsewhere:  # quoted from the title as if from the body, or the other way round
        fix = "add 'field: title'" if annotation.field != "title" else "remove 'field: title'"
        return error(where, f"{quote} is not in {place.name}, but it is in {other.name} (line "
                            f"{other.line_of(elsewhere[0].start)})", f"{fix} to anchor it there")
    if len(annotation.quote) > len(text):
        return error(where, f"{quote} is longer than the whole text of {place.name}",
                     "quote only the words the note is about")
    nearest = anchoring.nearest_passage(text, annotation.quote)
    if nearest is None:
        return error(where, f"{quote} is not in {place.name}", "copy the exact words from the article")
    line = place.line_of(nearest.span.start)
    passage = " ".join(text[nearest.span.start:nearest.span.end].split())
    return error(where, f"{quote} is not in {place.name}; the nearest passage (line {line}) is \"{passage}\"",
                 f"{nearest.difference}: copy the article's exact words")


def _line(article: Article, parsed: ParsedBody, starts: list[int], offset: int) -> int:
    if not parsed.chunks:
        return article.body_line
    chunk = parsed.chunks[max(0, bisect.bisect_right(starts, offset) - 1)]
    return article.body_line + chunk.line + parsed.text.count("\n", chunk.start, min(offset, chunk.end)) * (chunk.kind != "break")


def _article_order(article: Article) -> tuple:
    date = article.published or PartialDate(0)
    return (-date.year, -date.month, -date.day, article.title, article.slug)


def _telling_order(article: Article, anchor: Anchor) -> tuple:
    """A claim's tellings: earliest published first, undated ones last, then by article and place."""
    date = article.published
    return (date is None, (date.year, date.month, date.day) if date else (0, 0, 0), article.slug, anchor.number)


def _timeline(events, articles: dict[str, ResolvedArticle]) -> tuple[TimelineEntry, ...]:
    entries = [TimelineEntry(e.date, e.id, e.title, e, None) for e in events]
    entries += [TimelineEntry(r.article.published, f"published_{slug}", r.article.title, None, r.article)
                for slug, r in articles.items() if r.article.published]
    return tuple(sorted(entries, key=lambda t: (t.date.year, t.date.month, t.date.day, t.article is not None, t.title, t.id)))


def _index(inputs: Inputs, articles: dict[str, ResolvedArticle], anchors: dict[str, Anchor], events) -> Index:
    a = inputs.annotations
    by_entity, by_reference, by_claim = defaultdict(list), defaultdict(list), defaultdict(list)
    for anc in anchors.values():
        for entity_id in dict.fromkeys(anc.annotation.entities):
            by_entity[entity_id].append(anc)
        for ref in dict.fromkeys(anc.annotation.cite):
            by_reference[ref].append(anc)
        if anc.annotation.claim:
            by_claim[anc.annotation.claim].append(anc)
    mentions = defaultdict(list)
    for resolved in articles.values():
        for mention in resolved.mentions:
            mentions[mention.entity].append(mention)
    relations_to, citers = defaultdict(list), defaultdict(list)
    for entity in a.entities.values():
        for relation in entity.relations:
            relations_to[relation.target].append((entity, relation))
            for ref in dict.fromkeys(relation.cite):
                citers[ref].append(("entity", entity.id, f"{entity.name}: {relation.type}"))
    events_by_entity = defaultdict(list)
    for event in events:
        for entity_id in dict.fromkeys(event.entities):
            events_by_entity[entity_id].append(event)
        for ref in dict.fromkeys(event.cite):
            citers[ref].append(("event", event.id, event.title))
    claims_by_entity = defaultdict(list)
    for claim in a.claims.values():
        for entity_id in dict.fromkeys(claim.entities):
            claims_by_entity[entity_id].append(claim)
        for ref in dict.fromkeys(claim.cite):
            citers[ref].append(("claim", claim.id, claim.statement))
    by_source, republished_by = defaultdict(list), defaultdict(list)
    for resolved in articles.values():
        by_source[resolved.article.source].append(resolved.article)
        if resolved.article.republishes:
            republished_by[resolved.article.republishes].append(resolved.article)
    for tellings in by_claim.values():
        tellings.sort(key=lambda anc: _telling_order(articles[anc.annotation.article].article, anc))
    return Index(dict(by_entity), dict(by_reference), dict(by_claim), dict(mentions), dict(relations_to),
                 dict(events_by_entity), dict(claims_by_entity), dict(by_source), dict(republished_by), dict(citers))


def _unused_entities(inputs: Inputs, index: Index) -> list[Diagnostic]:
    out = []
    for entity in inputs.annotations.entities.values():
        if not (entity.relations or index.mentions_by_entity.get(entity.id) or index.relations_to.get(entity.id)
                or index.anchors_by_entity.get(entity.id) or index.events_by_entity.get(entity.id)
                or index.claims_by_entity.get(entity.id)):
            out.append(warning(entity.location, f"entity '{entity.id}' is never mentioned, related, or named by a note or event",
                               "add an alias that occurs in an article, a relation, or remove the entity"))
    return out

