"""The plain data that flows between the stages: load → validate → resolve → render → write.

Every class is a frozen dataclass; stages never mutate what they receive.
"""
from __future__ import annotations

import calendar
import dataclasses
import operator
import zlib
from dataclasses import dataclass

from .diagnostics import Location


def pickled_by_fields(cls):
    """Pickle instances as cls(*fields): they load far quicker than through the state
    functions a frozen, slotted dataclass gets (resolved articles come back from the worker
    processes in their hundreds of thousands)."""
    fields = operator.attrgetter(*(f.name for f in dataclasses.fields(cls)))
    cls.__reduce__ = lambda self: (cls, fields(self))
    return cls


VERDICTS: dict[str, int] = {
    "accurate": 5,
    "mostly-accurate": 4,
    "mixed": 3,
    "unsupported": 2,
    "misleading": 2,
    "inaccurate": 1,
    "outdated": 3,
}
"""The verdict scale, each mapped to its schema.org ClaimReview ratingValue (1–5)."""

VERDICT_LABELS: dict[str, str] = {
    "accurate": "Accurate",
    "mostly-accurate": "Mostly accurate",
    "mixed": "Mixed",
    "unsupported": "Unsupported",
    "misleading": "Misleading",
    "inaccurate": "Inaccurate",
    "outdated": "Outdated",
}
KINDS = ("fact-check", "context", "correction", "boilerplate", "opinion")
KIND_LABELS = {
    "fact-check": "Fact check",
    "context": "Context",
    "correction": "Correction",
    "boilerplate": "Boilerplate",
    "opinion": "Opinion",
}
VERDICT_ICONS = {"accurate": "✓", "mostly-accurate": "≈", "mixed": "◐", "unsupported": "?", "misleading": "!",
                 "inaccurate": "✗", "outdated": "↻"}
KIND_ICONS = {"context": "+", "correction": "✎", "boilerplate": "⌫", "opinion": "❝", "fact-check": "?"}
RATINGS = ("reliable", "mixed", "unreliable", "unknown")
ARTICLE_KINDS = ("news", "analysis", "opinion", "republication", "aggregator")
ENTITY_TYPES = ("person", "company", "organization", "publication", "product", "place")


class Located:
    """An item that knows where each of its fields is written."""

    __slots__ = ()

    def at(self, name: str) -> Location:
        """The location of field `name`, or of the item when the field is not written."""
        for field_name, line, column in self.fields:
            if field_name == name:
                return Location(self.location.path, line, column)
        return self.location


@dataclass(frozen=True, order=True, slots=True)
class PartialDate:
    """A calendar date known to year, month or day precision."""

    year: int
    month: int = 0
    """0 when only the year is known."""
    day: int = 0
    """0 when only the year or month is known."""

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    @property
    def iso(self) -> str:
        """`YYYY`, `YYYY-MM` or `YYYY-MM-DD`, as written in the source."""
        if self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    @property
    def first(self) -> tuple[int, int, int]:
        """The earliest day the date can mean: 2025-06 → (2025, 6, 1)."""
        return (self.year, self.month or 1, self.day or 1)

    @property
    def last(self) -> tuple[int, int, int]:
        """The latest day the date can mean: 2025-06 → (2025, 6, 30)."""
        month = self.month or 12
        return (self.year, month, self.day or calendar.monthrange(self.year, month)[1])

    def __str__(self) -> str:
        return self.iso


@dataclass(frozen=True, slots=True)
class Site:
    title: str
    """The dossier's name, shown in every page header."""
    base_url: str
    """Absolute URL the site is published at, ending in `/`."""
    language: str
    """BCP 47 language tag of the content, e.g. `en`."""
    description: str
    """One or two sentences on what the dossier covers."""
    summary: str = ""
    """"What we know": the dossier's bottom line (Markdown), first on the home page."""
    published: PartialDate | None = None
    """When the dossier's fact checks were first published: the ClaimReview `datePublished`
    of every fact check without an `updates:` entry."""


@dataclass(frozen=True, slots=True)
class Update:
    date: PartialDate
    """When the correction was made."""
    summary: str
    """What changed and why (Markdown)."""
    location: Location


@dataclass(frozen=True, slots=True)
class Source(Located):
    id: str
    """Key under `sources:`; the publisher id articles refer to."""
    name: str
    rating: str
    """One of RATINGS."""
    rationale: str
    """Why the rating (Markdown)."""
    url: str | None
    disclosures: tuple[str, ...]
    """Conflicts of interest, one sentence each."""
    location: Location
    fields: tuple[tuple[str, int, int], ...] = ()
    """(field, line, column) of each field as written: errors point at the field."""


@dataclass(frozen=True, slots=True)
class Relation(Located):
    type: str
    """What `target` is to the owning entity, e.g. `investor`, `ceo`, `subsidiary`."""
    target: str
    """Id of the other entity."""
    since: PartialDate | None
    until: PartialDate | None
    share: str | None
    note: str | None
    cite: tuple[str, ...]
    location: Location
    fields: tuple[tuple[str, int, int], ...] = ()
    """(field, line, column) of each field as written: errors point at the field."""


@dataclass(frozen=True, slots=True)
class Entity(Located):
    id: str
    name: str
    type: str
    """One of ENTITY_TYPES."""
    aliases: tuple[str, ...]
    """Other spellings that link to the entity when found in article text."""
    summary: str
    wikidata: str | None
    relations: tuple[Relation, ...]
    location: Location
    fields: tuple[tuple[str, int, int], ...] = ()
    """(field, line, column) of each field as written: errors point at the field."""


@dataclass(frozen=True, slots=True)
class Reference(Located):
    id: str
    title: str
    publisher: str | None
    author: str | None
    url: str | None
    date: PartialDate | None
    accessed: PartialDate | None
    archive: str | None
    quote: str | None
    """The sentence of the reference that supports the claims citing it."""
    note: str | None
    """How the editors saw it; why no URL is given when none is known."""
    location: Location
    fields: tuple[tuple[str, int, int], ...] = ()
    """(field, line, column) of each field as written: errors point at the field."""


@dataclass(frozen=True, slots=True)
class Event(Located):
    id: str
    """Stable id: given, or derived from date and title; the fragment on /timeline/."""
    date: PartialDate
    title: str
    summary: str
    entities: tuple[str, ...]
    cite: tuple[str, ...]
    location: Location
    fields: tuple[tuple[str, int, int], ...] = ()
    """(field, line, column) of each field as written: errors point at the field."""


@dataclass(frozen=True, slots=True)
class Claim(Located):
    id: str
    statement: str
    verdict: str
    note: str
    cite: tuple[str, ...]
    entities: tuple[str, ...]
    updates: tuple[Update, ...]
    location: Location
    fields: tuple[tuple[str, int, int], ...] = ()
    """(field, line, column) of each field as written: errors point at the field."""
    key: bool = False
    """A key claim: listed under "What we know" on the home page."""


@dataclass(frozen=True, slots=True)
class Annotation(Located):
    id: str
    """Unique; the fragment `#id` on the article page."""
    article: str
    """Slug of the article the quote is in."""
    quote: str
    prefix: str | None
    suffix: str | None
    kind: str
    """One of KINDS."""
    verdict: str | None
    """One of VERDICTS, for fact checks only."""
    note: str
    cite: tuple[str, ...]
    entities: tuple[str, ...]
    claim: str | None
    updates: tuple[Update, ...]
    location: Location
    quote_location: Location
    """Where the `quote:` field is, for anchoring errors."""
    fields: tuple[tuple[str, int, int], ...] = ()
    """(field, line, column) of each field as written: errors point at the field."""
    field: str = "body"
    """What the quote is in: the article's `body`, or its `title` (a headline is a claim too)."""


@dataclass(frozen=True, slots=True)
class Article(Located):
    slug: str
    """File name without `.md`; the URL segment /articles/<slug>/."""
    title: str
    source: str
    """Id of the publisher under `sources:`."""
    kind: str
    url: str | None
    author: str | None
    published: PartialDate | None
    retrieved: PartialDate | None
    republishes: str | None
    body: str
    """The verbatim Markdown body, line endings normalised to \\n."""
    body_line: int
    """File line number of the body's first line."""
    location: Location
    fields: tuple[tuple[str, int, int], ...] = ()
    """(field, line, column) of each field as written: errors point at the field."""


@dataclass(frozen=True, slots=True)
class Assessment(Located):
    article: str
    """Slug of the article it sums up."""
    summary: str
    """Two or three sentences on what holds up and what does not (Markdown)."""
    updated: PartialDate | None
    """When the summary last changed, if it says."""
    location: Location
    fields: tuple[tuple[str, int, int], ...] = ()
    """(field, line, column) of each field as written: errors point at the field."""


@dataclass(frozen=True, slots=True)
class ContentPage:
    slug: str
    title: str
    description: str
    body: str
    location: Location
    body_line: int = 1
    """File line number of the body's first line."""


@dataclass(frozen=True, slots=True)
class Annotations:
    """Everything `annotations.yaml` declares, validated and typed."""

    site: Site
    sources: dict[str, Source]
    entities: dict[str, Entity]
    references: dict[str, Reference]
    events: tuple[Event, ...]
    claims: dict[str, Claim]
    annotations: tuple[Annotation, ...]
    assessments: dict[str, Assessment] = dataclasses.field(default_factory=dict)
    """Article slug → its bottom line."""


@dataclass(frozen=True, slots=True)
class Inputs:
    """The validated content of one dossier folder."""

    annotations: Annotations
    articles: dict[str, Article]
    pages: dict[str, ContentPage]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range [start, end) in an article's rendered text."""

    start: int
    end: int


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Anchor:
    annotation: Annotation
    span: Span
    number: int
    """1-based position of the note in its article, in text order."""
    exact: str
    """The article's own text at the span (before normalisation)."""
    prefix: str
    """Up to 32 characters of article text before the span (W3C TextQuoteSelector)."""
    suffix: str
    """Up to 32 characters after the span."""
    line: int
    """Line of the article file where the quote starts."""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Mention:
    entity: str
    article: str
    span: Span
    context: str
    """The sentence the alias occurs in."""
    linked: bool
    """Whether this mention became a link (the first of its entity in each paragraph)."""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of an article the annotations examine, sentence by sentence (see coverage.py)."""

    sentences: int
    """Sentences in the article: the title counts as one, then each of the body's."""
    annotated: int
    """Those that an annotation's quote overlaps."""
    title_annotated: bool
    unannotated: tuple[tuple[int, int, int], ...]
    """(start, end, file line) of each body sentence no quote overlaps, in text order; plain
    tuples, as there are hundreds of thousands of them in a large dossier."""

    @property
    def percent(self) -> int:
        """The share annotated, rounded down: the site never claims more than was examined."""
        return self.annotated * 100 // self.sentences if self.sentences else 100


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ResolvedArticle:
    article: Article
    packed_text: bytes
    """The rendered plain text the quotes anchor in, compressed (pack): see `text`."""
    anchors: tuple[Anchor, ...]
    """The article's anchored annotations, in text order."""
    mentions: tuple[Mention, ...]
    """Every entity mention, in text order."""
    words: int
    body: bytes = b""
    """The body as HTML with marks, note references and entity links, compressed (pack):
    read once, for the article's page, and otherwise the largest thing a build holds (a
    quarter of its memory at 10,000 articles, in every worker it forks)."""
    coverage: Coverage | None = None
    title_html: str = ""
    """The title as HTML with the marks and note references of its annotations; "" when it has none."""

    @property
    def body_html(self) -> str:
        return unpack(self.body)

    @property
    def text(self) -> str:
        """The rendered plain text the quotes anchor in. Kept compressed: a build reads it for
        a few pages only (the entity and claim pages that quote the article's sentences, its
        data), and whole it is an eighth of a build's memory at 10,000 articles."""
        return unpack(self.packed_text)

    def text_of(self, anchor: Anchor) -> str:
        """The text an anchor's span refers to: the title's or the body's."""
        return self.article.title if anchor.annotation.field == "title" else self.text


def pack(text: str) -> bytes:
    """Text as ResolvedArticle keeps its body and text (zlib's fastest level: about a sixth of
    the size of HTML, a third of plain text)."""
    return zlib.compress(text.encode("utf-8"), 1) if text else b""


def unpack(packed: bytes) -> str:
    return zlib.decompress(packed).decode("utf-8") if packed else ""


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    date: PartialDate
    id: str
    """The fragment on /timeline/."""
    title: str
    event: Event | None
    article: Article | None
    """Set for article-publication entries."""


@dataclass(frozen=True, slots=True)
class Index:
    """Backlinks: who points at each id, each list in a stable order."""

    anchors_by_entity: dict[str, list[Anchor]]
    anchors_by_reference: dict[str, list[Anchor]]
    anchors_by_claim: dict[str, list[Anchor]]
    mentions_by_entity: dict[str, list[Mention]]
    relations_to: dict[str, list[tuple[Entity, Relation]]]
    """entity id → (owner, relation) for every relation whose target it is."""
    events_by_entity: dict[str, list[Event]]
    claims_by_entity: dict[str, list[Claim]]
    articles_by_source: dict[str, list[Article]]
    republished_by: dict[str, list[Article]]
    """article slug → the articles whose `republishes` names it."""
    citers_of_reference: dict[str, list[tuple[str, str, str]]]
    """reference id → (kind, id, label) of claims, events and relations that cite it."""


@dataclass(frozen=True, slots=True)
class Dossier:
    """The fully resolved dossier the renderer turns into pages."""

    site: Site
    sources: dict[str, Source]
    entities: dict[str, Entity]
    references: dict[str, Reference]
    claims: dict[str, Claim]
    articles: dict[str, ResolvedArticle]
    """Keyed by slug, newest first, then by title."""
    pages: dict[str, ContentPage]
    anchors: dict[str, Anchor]
    """Every anchored annotation, by annotation id."""
    events: tuple[Event, ...]
    """Oldest first."""
    timeline: tuple[TimelineEntry, ...]
    """Events and article publications, oldest first."""
    index: Index
    assessments: dict[str, Assessment] = dataclasses.field(default_factory=dict)
    """Article slug → its bottom line, for the articles that have one."""


def original_of(d: Dossier, article: Article) -> Article:
    """The article a republication copies, followed back to the first one in the dossier."""
    seen = {article.slug}
    while article.republishes in d.articles and article.republishes not in seen:
        article = d.articles[article.republishes].article
        seen.add(article.slug)
    return article


def outside_original(d: Dossier, article: Article) -> Reference | None:
    """The reference standing for the original of a republication whose original is not an
    article of the dossier (`republishes:` names a reference), followed back through copies."""
    first = original_of(d, article)
    if first.republishes and first.republishes not in d.articles:
        return d.references.get(first.republishes)
    return None


def source_named(d: Dossier, name: str | None) -> str | None:
    """The id of the source called `name` (a reference's publisher), if the dossier has one."""
    wanted = " ".join((name or "").split()).casefold()
    return next((sid for sid, source in d.sources.items() if " ".join(source.name.split()).casefold() == wanted), None) \
        if wanted else None


def original_publisher(d: Dossier, article: Article) -> str:
    """Who first published an article's words, for counting publishers: the source id of the
    original in the dossier, or, for an original outside it, the source whose name is the
    reference's publisher — else that publisher's name as the reference gives it."""
    reference = outside_original(d, article)
    if reference is None:
        return original_of(d, article).source
    return source_named(d, reference.publisher) or reference.publisher or reference.id


def label_of(annotation: Annotation) -> str:
    """'Inaccurate' for a fact check, else the kind: 'Context', 'Opinion'…"""
    if annotation.kind == "fact-check" and annotation.verdict:
        return VERDICT_LABELS.get(annotation.verdict, annotation.verdict)
    return KIND_LABELS.get(annotation.kind, annotation.kind)


def icon_of(annotation: Annotation) -> str:
    """A one-character sign of the verdict or kind, shown beside the label, never alone."""
    if annotation.kind == "fact-check" and annotation.verdict:
        return VERDICT_ICONS.get(annotation.verdict, "•")
    return KIND_ICONS.get(annotation.kind, "•")
