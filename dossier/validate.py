"""Raw documents → typed, cross-checked Inputs, with every problem found at once."""
from __future__ import annotations

import calendar
import dataclasses
import re
import sys
from dataclasses import dataclass
from typing import Any

from .baseurl import HINT as BASE_URL_HINT, base_url_problem
from .consistency import check_consistency
from .diagnostics import Diagnostic, Location, did_you_mean, error, warning
from .load import ARTICLES_DIR, RawDossier, MarkdownFile
from .model import (Annotation, Annotations, Article, Assessment, Claim, ContentPage, Entity, Event, Inputs, PartialDate,
                    Reference, Relation, Site, Source, Update)
from .schema import check_item, check_schema, check_skeleton, load_schema
from .yamltree import YamlDoc

ID_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
"""What an id must look like (the schema's `id` pattern): it becomes a URL or a fragment."""
DATE_RE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
RESERVED_PAGE_SLUGS = {"articles", "entities", "timeline", "claims", "compare", "corrections", "sources",
                       "references", "search", "pagefind", "static", "404", "feed", "sitemap"}
RESERVED_IDS = {"article": {"page"}, "entity": {"page"}, "claim": {"page", "verdict", "kind"}}
"""Ids that the pages of a long list take as a URL segment (listing.py: `articles/page/2/`,
`entities/page/2/`, `claims/page/2/`, `claims/verdict/<verdict>/`, `claims/kind/<kind>/`)."""
RESERVED_FRAGMENTS = {"main", "top", "notes", "content", "note-panel", "page-title", "summary", "uncovered"}
"""Element ids the article template uses, which an annotation id must not take."""
DEFAULT_SITE = Site(title="Dossier", base_url="https://example.org/", language="en", description="")
PLACEHOLDER_NOTE = "What is right, what is wrong, and what the evidence is."
"""The note `annotate` writes into a stub (annotate.py), for the editor to replace: `check`
refuses an annotation whose note still holds it."""


def parse_date(value: Any) -> PartialDate | None:
    """`2025`, `"2025-06"`, `"2025-06-12"` → PartialDate; None if malformed or not on the calendar."""
    match = DATE_RE.fullmatch(str(value)) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if not match:
        return None
    year, month, day = (int(g) if g else 0 for g in match.groups())
    if match.group(2) and not 1 <= month <= 12:
        return None
    if match.group(3) and not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return PartialDate(year, month, day)


def validate(raw: RawDossier) -> tuple[Inputs, list[Diagnostic]]:
    """Check the schema, dates and every cross-reference; build the typed inputs."""
    diagnostics: list[Diagnostic] = []
    annotations = validate_annotations(raw.annotations, diagnostics)
    articles = {}
    for file in raw.articles:
        article = validate_article(file, diagnostics)
        if article is not None:
            articles[article.slug] = article
    pages = {}
    for file in raw.pages:
        page = validate_page(file, diagnostics)
        if page is not None:
            pages[page.slug] = page
    inputs = Inputs(annotations, articles, pages)
    if raw.annotations is not None and isinstance(raw.annotations.value, dict):  # else every id would look dangling
        diagnostics += cross_check(inputs)
    return inputs, diagnostics


def cross_check(inputs: Inputs) -> list[Diagnostic]:
    """Every id an item refers to must exist; ids must be unique; facts must not contradict each
    other (consistency.py). Errors point at the field."""
    a = inputs.annotations
    out: list[Diagnostic] = []

    def refer(item, name: str, what: str, value: str | None, known: dict) -> None:
        # A missing value ("") is the schema's "missing required field", a malformed one its "not a valid id".
        if value and ID_RE.fullmatch(value) and value not in known:
            hint = did_you_mean(value, known) or f"define it under '{_plural(what)}:'"
            out.append(error(item.at(name), f"unknown {what} '{value}'", hint))

    for article in inputs.articles.values():
        refer(article, "source", "source", article.source, a.sources)
        if article.republishes == article.slug:
            out.append(error(article.at("republishes"), "an article cannot republish itself",
                             "remove 'republishes' or name another article"))
        elif (article.republishes and ID_RE.fullmatch(article.republishes)
              and article.republishes not in inputs.articles and article.republishes not in a.references):
            out.append(error(article.at("republishes"), f"unknown article or reference '{article.republishes}'",
                             did_you_mean(article.republishes, {**inputs.articles, **a.references})
                             or f"add {ARTICLES_DIR}/{article.republishes}.md, or a reference '{article.republishes}' "
                                "for an original outside the dossier, or fix the slug"))
    for entity in a.entities.values():
        for relation in entity.relations:
            if relation.target == entity.id:
                out.append(error(relation.at("target"), f"entity '{entity.id}' has a relation to itself",
                                 "point 'target' at another entity"))
            refer(relation, "target", "entity", relation.target, a.entities)
            for ref in relation.cite:
                refer(relation, "cite", "reference", ref, a.references)
    for event in a.events:
        for ref in event.entities:
            refer(event, "entities", "entity", ref, a.entities)
        for ref in event.cite:
            refer(event, "cite", "reference", ref, a.references)
    for claim in a.claims.values():
        for ref in claim.entities:
            refer(claim, "entities", "entity", ref, a.entities)
        for ref in claim.cite:
            refer(claim, "cite", "reference", ref, a.references)
    seen: dict[str, Location] = {}
    for annotation in a.annotations:
        if annotation.id in seen:
            out.append(error(annotation.at("id"), f"duplicate annotation id '{annotation.id}' (first used at line {seen[annotation.id].line})",
                             "give each annotation its own id: it is the link to it"))
        seen.setdefault(annotation.id, annotation.location)
        if annotation.id in RESERVED_FRAGMENTS:
            out.append(error(annotation.at("id"), f"annotation id '{annotation.id}' is reserved by the page layout", "choose another id"))
        if ID_RE.fullmatch(annotation.article) and annotation.article not in inputs.articles:
            out.append(error(annotation.at("article"), f"unknown article '{annotation.article}'",
                             did_you_mean(annotation.article, inputs.articles) or f"add {ARTICLES_DIR}/{annotation.article}.md"))
        refer(annotation, "claim", "claim", annotation.claim, a.claims)
        for ref in annotation.cite:
            refer(annotation, "cite", "reference", ref, a.references)
        for ref in annotation.entities:
            refer(annotation, "entities", "entity", ref, a.entities)
    seen_events: dict[str, Location] = {}
    for event in a.events:
        if event.id in seen_events:
            out.append(error(event.at("id"), f"duplicate event id '{event.id}' (first used at line {seen_events[event.id].line})",
                             "give the event an 'id:' of its own"))
        seen_events.setdefault(event.id, event.location)
    owners: dict[str, str] = {}
    for entity in a.entities.values():
        for alias in dict.fromkeys((entity.name, *entity.aliases)):
            if alias in owners and owners[alias] != entity.id:
                out.append(error(entity.location, f"'{alias}' names both entity '{owners[alias]}' and entity '{entity.id}'",
                                 "an alias must belong to one entity: remove it from one of them"))
            owners.setdefault(alias, entity.id)
    for page in inputs.pages.values():
        if page.slug in RESERVED_PAGE_SLUGS:
            out.append(error(page.location, f"the page name '{page.slug}' is taken by a built-in page",
                             "rename the file, e.g. about-" + page.slug + ".md"))
    for ref in a.references.values():
        if ref.url is None and ref.archive is None and not ref.note:
            out.append(warning(ref.location, f"reference '{ref.id}' has no url",
                               "add 'url:' or 'archive:' where readers can check it, or a 'note:' saying why none is known"))
    out += _reserved_ids(inputs) + _shared_reference_titles(inputs)
    return out + _assessment_problems(inputs) + _review_date_problems(inputs) + check_consistency(inputs)


def _reserved_ids(inputs: Inputs) -> list[Diagnostic]:
    """An article, entity or claim whose URL a list's own pages take (RESERVED_IDS)."""
    a = inputs.annotations
    out = []
    for article in inputs.articles.values():
        if article.slug in RESERVED_IDS["article"]:
            out.append(error(article.location, f"the article name '{article.slug}' is taken by the pages of the articles "
                                               f"list (articles/page/2/, …)", f"rename the file, e.g. {article.slug}-1.md"))
    for what, items, listed in (("entity", a.entities, "entities"), ("claim", a.claims, "claims")):
        for item in items.values():
            if item.id in RESERVED_IDS[what]:
                out.append(error(item.location, f"the {what} id '{item.id}' is taken by the pages of the {listed} list "
                                                f"({listed}/{item.id}/…)", f"choose another id, e.g. '{item.id}-1'"))
    return out


def _shared_reference_titles(inputs: Inputs) -> list[Diagnostic]:
    """A warning for two references with the same title: a note's evidence list shows only the
    title, so the reader could not tell them apart."""
    out = []
    first: dict[str, Reference] = {}
    for ref in inputs.annotations.references.values():
        key = " ".join(ref.title.split()).casefold()
        if key in first:
            other = first[key]
            out.append(warning(ref.at("title"), f"references '{other.id}' (line {other.location.line}) and '{ref.id}' "
                                                f"have the same title \"{ref.title}\"",
                               "give each a title that tells them apart: a note's evidence shows only the title"))
        first.setdefault(key, ref)
    return out


def _assessment_problems(inputs: Inputs) -> list[Diagnostic]:
    """An assessment must sum up a known article. An article without one is a warning (readers
    should not have to add up the notes themselves) when it is annotated, or when the dossier
    gives its other articles bottom lines (a new article must not slip in without one); only a
    dossier that has none at all may leave its unannotated articles without."""
    assessments = inputs.annotations.assessments
    annotated = {annotation.article for annotation in inputs.annotations.annotations}
    out = [error(assessment.location, f"assessment for unknown article '{slug}'",
                 did_you_mean(slug, inputs.articles) or f"add {ARTICLES_DIR}/{slug}.md or fix the slug")
           for slug, assessment in assessments.items() if slug not in inputs.articles]
    out += [warning(article.location, f"article '{slug}' has no assessment",
                    f"add its bottom line under 'assessments:' in annotations.yaml: '{slug}: {{summary: …}}', two or "
                    "three sentences on what holds up and what does not")
            for slug, article in inputs.articles.items()
            if slug not in assessments and (slug in annotated or assessments)]
    return out


def _review_date_problems(inputs: Inputs) -> list[Diagnostic]:
    """Every ClaimReview wants a datePublished: the fact check's first `updates:` entry, else
    `site.published`. One warning for all that lack both, at the first: the fix is usually one
    line. A warning (an error with --strict), not an error: a dossier written before the field
    existed still builds, its ClaimReviews without a date rather than with a made-up one."""
    a = inputs.annotations
    if a.site.published is not None:
        return []
    undated = [item for item in (*a.annotations, *a.claims.values())
               if not item.updates and (isinstance(item, Claim) or (item.kind == "fact-check" and item.verdict))]
    if not undated:
        return []
    n = len(undated) - 1
    others = {0: "", 1: " (nor has 1 other fact check or claim)"}.get(n, f" (nor have {n} other fact checks and claims)")
    return [warning(undated[0].location, f"'{undated[0].id}' has no publication date{others}: a fact check's "
                    "ClaimReview needs one", "add 'published: YYYY-MM-DD' under 'site:', the day the dossier's fact "
                  "checks were first published, or an entry under 'updates:' to each")]


# ---- annotations.yaml ---------------------------------------------------------------------

def validate_annotations(doc: YamlDoc | None, out: list[Diagnostic], cache: dict | None = None) -> Annotations:
    """annotations.yaml → Annotations; problems are appended to `out`.

    A document parsed in pieces is checked piece by piece, and `cache` keeps each piece's
    result while the piece is unchanged, so a rebuild after one edit re-checks one item.
    """
    if doc is None:
        return Annotations(DEFAULT_SITE, {}, {}, {}, (), {}, ())
    if doc.value is None:
        doc.value = {}
    if not isinstance(doc.value, dict):
        out.append(error(doc.at(()), "annotations.yaml must be a mapping with site, sources, entities, references, events, claims and annotations",
                         "start the file with 'site:' and the other sections, not with a list or a value"))
        return Annotations(DEFAULT_SITE, {}, {}, {}, (), {}, ())
    whole = not doc.parts
    last = cache.get(LAST) if cache is not None and not whole else None
    if last is not None and doc.changed is not None and doc.changed[0] is last.doc:
        annotations = _revalidate(doc, last, cache)
        if annotations is not None:
            now = cache[LAST]
            out += now.general + [p for problems in now.item_problems.values() for p in problems]
            return annotations
    started = len(out)
    if whole:
        out += check_schema(doc, "annotations")
    else:
        out += check_skeleton(doc, "annotations")
    v = doc.value
    field = _Fields(doc, out)
    site_raw = v.get("site") if isinstance(v.get("site"), dict) else {}
    site = Site(
        title=field.text(site_raw, ("site", "title")) or DEFAULT_SITE.title,
        base_url=_ensure_slash(_base_url(field, site_raw) or DEFAULT_SITE.base_url),
        language=field.text(site_raw, ("site", "language")) or DEFAULT_SITE.language,
        description=field.text(site_raw, ("site", "description")) or "",
        summary=field.text(site_raw, ("site", "summary")) or "",
        published=field.date(site_raw, ("site", "published")),
    )
    general = out[started:]
    built: dict[str, list] = {}
    item_problems: dict[tuple, list[Diagnostic]] = {}
    for section, builder in BUILDERS.items():
        items = _mapping(v, section) if section in MAPPING_SECTIONS else _sequence(v, section)
        results = built[section] = []
        for key, item in items:
            if whole:
                results.append((key, builder(key, item, field) if isinstance(item, dict) else None))
                continue
            if not isinstance(item, dict):  # an error, worded after its neighbours: not cached
                problems = check_item(doc, "annotations", section, key, item)
                out += problems
                item_problems[(section, key)] = problems
                results.append((key, None))
                continue
            cache_key = (section, key, doc.parts.get((section, key), (0,))[0], id(item))
            if cache is None or cache_key not in cache:
                problems: list[Diagnostic] = check_item(doc, "annotations", section, key, item)
                result = builder(key, item, _Fields(doc, problems))
                if cache is None:
                    out += problems
                    results.append((key, result))
                    continue
                cache[cache_key] = (result, problems, item)  # the item keeps id() unique while cached
            result, problems, _ = cache[cache_key]
            out += problems
            if problems:
                item_problems[(section, key)] = problems
            results.append((key, result))
    result = _annotations(site, built)
    if cache is not None and not whole:
        where = {section: {key: n for n, (key, _) in enumerate(items)} for section, items in built.items()}
        cache[LAST] = _Last(doc, site, built, where, general, item_problems, result)
    return result


LAST = "<last>"
"""The item cache's entry for the last document validated in pieces (a _Last)."""


@dataclass
class _Last:
    """What validating a document in pieces gave, to re-check only the items an edit changed."""
    doc: YamlDoc
    site: Site
    built: dict[str, list]
    """Section → [(key, the item built)], in document order."""
    where: dict[str, dict]
    """Section → key → index in `built`."""
    general: list[Diagnostic]
    """Problems of the document's skeleton and site settings."""
    item_problems: dict[tuple, list[Diagnostic]]
    """(section, key) → the problems of that item, for the items that have some."""
    result: Annotations
    """What the built items make (patched, not rebuilt, after an edit of a few of them)."""


def _revalidate(doc: YamlDoc, last: _Last, cache: dict) -> Annotations | None:
    """The annotations of a document re-parsed from `last.doc`, re-checking only its changed
    items; None when a change is not one item of a known section (then check everything)."""
    changed = doc.changed[1]
    if any(section not in BUILDERS or key not in last.where[section] for section, key in changed):
        return None
    items = {path: doc.value[path[0]][path[1]] for path in changed}
    if not all(isinstance(item, dict) for item in items.values()):
        return None
    built = dict(last.built)
    item_problems = dict(last.item_problems)
    for (section, key), item in items.items():
        problems: list[Diagnostic] = check_item(doc, "annotations", section, key, item)
        result = BUILDERS[section](key, item, _Fields(doc, problems))
        cache[(section, key, doc.parts[(section, key)][0], id(item))] = (result, problems, item)
        if built[section] is last.built[section]:
            built[section] = list(built[section])
        built[section][last.where[section][key]] = (key, result)
        item_problems.pop((section, key), None)
        if problems:
            item_problems[(section, key)] = problems
    result = _patched(last, built, list(items))
    cache[LAST] = _Last(doc, last.site, built, last.where, last.general, item_problems, result)
    return result


def _patched(last: _Last, built: dict[str, list], changed: list[tuple]) -> Annotations:
    """last.result with the changed items put in place of the old ones. Only when each of
    them was valid and still is (then every other item keeps its place); else the whole
    Annotations is assembled again, which at 100,000 annotations takes tens of ms."""
    fields: dict[str, dict | list] = {}
    for section, key in changed:
        n = last.where[section][key]
        new = built[section][n][1]
        if last.built[section][n][1] is None or new is None:
            return _annotations(last.site, built)
        if section in MAPPING_SECTIONS:
            fields.setdefault(section, dict(getattr(last.result, section)))[key] = new
        elif len(getattr(last.result, section)) == len(last.built[section]):  # none left out: n is its place
            fields.setdefault(section, list(getattr(last.result, section)))[n] = new
        else:
            return _annotations(last.site, built)
    return dataclasses.replace(last.result, **{section: tuple(v) if isinstance(v, list) else v
                                               for section, v in fields.items()})


def _annotations(site: Site, built: dict[str, list]) -> Annotations:
    def keyed(section: str) -> dict:
        return {key: obj for key, obj in built[section] if obj is not None}
    return Annotations(site, keyed("sources"), keyed("entities"), keyed("references"),
                       tuple(obj for _, obj in built["events"] if obj), keyed("claims"),
                       tuple(obj for _, obj in built["annotations"] if obj), keyed("assessments"))


def _source(key: str, item: dict, field: _Fields) -> Source:
    path = ("sources", key)
    return Source(key, field.text(item, path + ("name",)) or key, field.text(item, path + ("rating",)) or "unknown",
                  field.text(item, path + ("rationale",)) or "", field.text(item, path + ("url",)),
                  field.strings(item, path + ("disclosures",)), field.doc.at(path), field.spots(item, path))


def _reference(key: str, item: dict, field: _Fields) -> Reference:
    path = ("references", key)
    text = lambda name: field.text(item, path + (name,))  # noqa: E731
    return Reference(key, text("title") or key, text("publisher"), text("author"), text("url"),
                     field.date(item, path + ("date",)), field.date(item, path + ("accessed",)), text("archive"),
                     text("quote"), text("note"), field.doc.at(path), field.spots(item, path))


def _claim(key: str, item: dict, field: _Fields) -> Claim:
    path = ("claims", key)
    return Claim(key, field.text(item, path + ("statement",)) or "", field.text(item, path + ("verdict",)) or "unsupported",
                 field.text(item, path + ("note",)) or "", field.ids(item, path + ("cite",)),
                 field.ids(item, path + ("entities",)), field.updates(item, path + ("updates",)), field.doc.at(path),
                 field.spots(item, path), key=item.get("key") is True)


def _entity(key: str, item: dict, field: _Fields) -> Entity:
    path = ("entities", key)
    relations = []
    for i, rel in enumerate(item.get("relations") or [] if isinstance(item.get("relations"), list) else []):
        if isinstance(rel, dict) and isinstance(rel.get("target"), str) and isinstance(rel.get("type"), str):
            p = path + ("relations", i)
            relations.append(Relation(rel["type"], rel["target"], field.date(rel, p + ("since",)), field.date(rel, p + ("until",)),
                                      field.text(rel, p + ("share",)), field.text(rel, p + ("note",)), field.ids(rel, p + ("cite",)),
                                      field.doc.at(p), field.spots(rel, p)))
    aliases = tuple(a for a in field.strings(item, path + ("aliases",)) if a.strip())
    return Entity(key, field.text(item, path + ("name",)) or key, field.text(item, path + ("type",)) or "organization", aliases,
                  field.text(item, path + ("summary",)) or "", field.text(item, path + ("wikidata",)), tuple(relations), field.doc.at(path),
                  field.spots(item, path))


def _event(index: int, item: dict, field: _Fields) -> Event | None:
    path = ("events", index)
    date, title = field.date(item, path + ("date",)), field.text(item, path + ("title",))
    if date is None or not title:
        return None
    event_id = field.text(item, path + ("id",)) or f"{date.iso}-{_slugify(title)}"
    return Event(event_id, date, title, field.text(item, path + ("summary",)) or "", field.ids(item, path + ("entities",)),
                 field.ids(item, path + ("cite",)), field.doc.at(path), field.spots(item, path))


def _annotation(index: int, item: dict, field: _Fields) -> Annotation | None:
    path = ("annotations", index)
    ann_id, article, quote = (field.text(item, path + (k,)) for k in ("id", "article", "quote"))
    if not ann_id or not article or not quote or not quote.strip():
        if isinstance(quote, str) and not quote.strip() and quote:
            name = f"annotation '{ann_id}'" if ann_id else f"annotation {index + 1}"
            field.out.append(error(field.doc.at(path + ("quote",)), f"the quote of {name} is only whitespace",
                                   "copy the exact words from the article"))
        return None
    note = field.text(item, path + ("note",)) or ""
    if PLACEHOLDER_NOTE in " ".join(note.split()):
        field.out.append(error(field.doc.at(path + ("note",)), f"the note of annotation '{ann_id}' is still the "
                               "placeholder that `annotate` wrote", "write what is right, what is wrong, and what the "
                               "evidence is, in your own words, in place of the placeholder"))
    return Annotation(ann_id, article, quote, field.text(item, path + ("prefix",)), field.text(item, path + ("suffix",)),
                      field.text(item, path + ("kind",)) or "context", field.text(item, path + ("verdict",)),
                      note, field.ids(item, path + ("cite",)), field.ids(item, path + ("entities",)),
                      field.text(item, path + ("claim",)), field.updates(item, path + ("updates",)), field.doc.at(path),
                      field.doc.at(path + ("quote",)), field.spots(item, path),
                      field=field.text(item, path + ("field",)) or "body")


def _assessment(key: str, item: dict, field: _Fields) -> Assessment:
    path = ("assessments", key)
    return Assessment(key, field.text(item, path + ("summary",)) or "", field.date(item, path + ("updated",)),
                      field.doc.at(path), field.spots(item, path))


BUILDERS = {"sources": _source, "entities": _entity, "references": _reference, "events": _event, "claims": _claim,
            "annotations": _annotation, "assessments": _assessment}
MAPPING_SECTIONS = {"sources", "entities", "references", "claims", "assessments"}


class _Fields:
    """Typed reads of already schema-checked values; wrong types read as absent (the schema reported them)."""

    def __init__(self, doc: YamlDoc, out: list[Diagnostic]):
        self.doc, self.out = doc, out

    def spots(self, item: dict, path: tuple) -> tuple[tuple[str, int, int], ...]:
        """(field, line, column) of each field of the item at `path`."""
        part = self.doc.parts.get(path) if len(path) == 2 else None
        if part is not None:
            offset, positions = part
            return tuple((_name(k), positions[(k,)][0] + offset, positions[(k,)][1]) for k in item if (k,) in positions)
        spots = []
        for key in item:
            loc = self.doc.at(path + (key,))
            spots.append((_name(key), loc.line, loc.column))
        return tuple(spots)

    def text(self, item: dict, path: tuple) -> str | None:
        value = item.get(path[-1])
        return value if isinstance(value, str) else None

    def strings(self, item: dict, path: tuple) -> tuple[str, ...]:
        value = item.get(path[-1])
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    ids = strings

    def date(self, item: dict, path: tuple) -> PartialDate | None:
        value = item.get(path[-1])
        if value is None:
            return None
        parsed = parse_date(value)
        if parsed is None and (isinstance(value, int) or (isinstance(value, str) and DATE_RE.fullmatch(value))):
            self.out.append(error(self.doc.at(path), f"'{path[-1]}' {value} is not a real calendar date",
                                  "check the month (01–12) and the day of that month"))
        return parsed

    def updates(self, item: dict, path: tuple) -> tuple[Update, ...]:
        value = item.get(path[-1])
        result = []
        for i, entry in enumerate(value if isinstance(value, list) else []):
            if isinstance(entry, dict) and isinstance(entry.get("summary"), str):
                date = self.date(entry, path + (i, "date"))
                if date is not None:
                    result.append(Update(date, entry["summary"], self.doc.at(path + (i,))))
        return tuple(result)


def _name(key: object) -> object:
    """A field name, one string for every item that has the field (YAML gives each item its
    own copy: at 100,000 annotations, 40 MB of the same few names)."""
    return sys.intern(key) if type(key) is str else key


def _mapping(v: dict, key: str) -> list[tuple[str, Any]]:
    """The items of a section keyed by id; those that are not mappings too (they are errors)."""
    section = v.get(key)
    return list(section.items()) if isinstance(section, dict) else []


def _sequence(v: dict, key: str) -> list[tuple[int, Any]]:
    """The items of a list section; those that are not mappings too (they are errors)."""
    section = v.get(key)
    return list(enumerate(section)) if isinstance(section, list) else []


# ---- content files ------------------------------------------------------------------------

def validate_article(file: MarkdownFile, out: list[Diagnostic]) -> Article | None:
    """An article file → Article (None if its front matter is unusable); problems go to `out`."""
    fm = _front_matter(file, "article", out)
    if fm is None:
        return None
    field = _Fields(file.front_matter, out)
    v = file.front_matter.value
    if not file.body.strip():
        out.append(error(Location(file.path, file.body_line), "the article has no body", "paste the article's text after the front matter"))
    return Article(file.slug, field.text(v, ("title",)) or file.slug, field.text(v, ("source",)) or "",
                   field.text(v, ("kind",)) or "news", field.text(v, ("url",)), field.text(v, ("author",)),
                   field.date(v, ("published",)), field.date(v, ("retrieved",)), field.text(v, ("republishes",)),
                   file.body, file.body_line, Location(file.path, 1), field.spots(v, ()))


def validate_page(file: MarkdownFile, out: list[Diagnostic]) -> ContentPage | None:
    if _front_matter(file, "page", out) is None:
        return None
    v = file.front_matter.value
    field = _Fields(file.front_matter, out)
    return ContentPage(file.slug, field.text(v, ("title",)) or file.slug, field.text(v, ("description",)) or "",
                       file.body, Location(file.path, 1), file.body_line)


def _front_matter(file: MarkdownFile, schema: str, out: list[Diagnostic]) -> dict | None:
    if file.front_matter is None:
        return None
    out += check_schema(file.front_matter, schema)
    return file.front_matter.value


def _plural(what: str) -> str:
    return {"entity": "entities", "reference": "references", "source": "sources", "claim": "claims"}.get(what, what + "s")


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].strip("-") or "event"


def _base_url(field: _Fields, site: dict) -> str | None:
    """site.base_url, if it can be the site's address; else an error at its line (unless the
    schema already refused it as no http(s) URL at all) and None."""
    url = field.text(site, ("site", "base_url"))
    pattern = load_schema("annotations")["definitions"]["site"]["properties"]["base_url"]["pattern"]
    if url is None or not re.search(pattern, url):
        return None
    problem = base_url_problem(url)
    if problem:
        field.out.append(error(field.doc.at(("site", "base_url")), f"base_url: '{url}' {problem}", BASE_URL_HINT))
        return None
    return url


def _ensure_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"

