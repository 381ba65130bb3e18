"""Which results a build takes from the build cache (cache.py), and the key of each.

- **annotations.yaml**, parsed and validated, with its problems: by the file's bytes.
- **each article's resolution** (anchors, mentions, coverage, the annotated body and title):
  by the article file's bytes, its annotations (everything about them but the lines they are
  written on) and every entity's id, name and aliases. A resolution with problems is not
  kept: a problem names a line of annotations.yaml, which the key leaves out.
- **each page's HTML**: by the templates, the page's URL and template, and what the page
  shows. A page of one thing (render.OWN_CONTEXT_TEMPLATES) shows its own context and the
  dossier's structure (`PageKeys.structure`); any other page may show anything, so its key
  covers the whole dossier (`PageKeys.everything`).
- **the search index**, shard by shard: see search.py.

Every key also covers Dossier's own version (cache.code_version), so results are found again
only by the same Dossier that made them.
"""
from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from .cache import HASH, Store, Unexpected, decode, decoder, digest, field_names, key, to_json
from . import listing
from .confine import Refused, files_inside
from .diagnostics import Diagnostic
from .exports import ArticleData, article_data
from .load import parse_annotations, read_annotations_file, read_markdown_bytes
from .model import (Anchor, Annotation, Annotations, Article, Assessment, Claim, Coverage, Dossier, Entity, Event, Mention,
                    Reference, Relation, ResolvedArticle, Source, Span, pack)
from .render import KEYED_BY_RESOLUTION, OWN_CONTEXT_TEMPLATES, Page, page_context
from .validate import validate_annotations

POSITIONS = frozenset({"location", "quote_location", "fields"})
"""Fields that say where an item is written, not what it says."""
NO_ANNOTATIONS = digest(b"[]")
BODY = frozenset({"body"})


# ---- annotations.yaml ----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class LoadedAnnotations:
    annotations: Annotations
    diagnostics: list[Diagnostic]
    readable: bool
    """The file is a mapping of sections: ids can be cross-checked."""
    by_article: dict[str, str]
    """Article slug → a hash of its annotations' content (for the articles' keys)."""


def load_annotations(source: Path, store: Store | None) -> LoadedAnnotations:
    """annotations.yaml read, parsed and validated, or taken from the cache by its bytes."""
    data, diagnostics = read_annotations_file(source)
    entry = key("annotations", data) if data is not None and store is not None else None
    if entry is not None:
        value = store.get("annotations", entry)
        if value is not None:
            try:
                return _decode_annotations(value)
            except Unexpected:
                pass
    doc, problems = parse_annotations(data) if data is not None else (None, [])
    diagnostics += problems
    annotations = validate_annotations(doc, diagnostics)
    loaded = LoadedAnnotations(annotations, diagnostics, doc is not None and isinstance(doc.value, dict),
                               annotation_hashes(annotations))
    if entry is not None:
        store.put("annotations", entry, [annotations, diagnostics, loaded.readable, loaded.by_article])
    return loaded


def _decode_annotations(value: Any) -> LoadedAnnotations:
    if type(value) is not list or len(value) != 4:
        raise Unexpected("annotations entry expected")
    return LoadedAnnotations(decode(Annotations, value[0]), decode(list[Diagnostic], value[1]),
                             decode(bool, value[2]), decode(dict[str, str], value[3]))


def annotation_hashes(annotations: Annotations) -> dict[str, str]:
    """Article slug → a hash of what its annotations say (not where they are written)."""
    grouped: dict[str, list] = defaultdict(list)
    for annotation in annotations.annotations:
        grouped[annotation.article].append(annotation)
    return {slug: digest(to_json(items, POSITIONS).encode("utf-8")) for slug, items in grouped.items()}


def _json(value: Any) -> bytes:
    return to_json(value).encode("utf-8")


# ---- articles --------------------------------------------------------------------------------

def entities_hash(annotations: Annotations) -> str:
    """What every article's entity links depend on: each entity's id, name and aliases."""
    return digest(_json(sorted([e.id, e.name, list(e.aliases)] for e in annotations.entities.values())))


def article_key(relpath: str, data: bytes, annotations_hash: str, entities: str) -> str:
    return key("article", relpath, data, annotations_hash, entities)


def cached_resolution(store: Store, entry: str, annotations: list[Annotation],
                      ) -> tuple[ResolvedArticle, list[Diagnostic]] | None:
    """The resolution filed under `entry`, its anchors bound to `annotations` (the article's,
    in order); None when there is none or it is not intact."""
    value = store.get("articles", entry)
    if value is None:
        return None
    try:
        return decode_resolution(value, annotations)
    except Unexpected:
        return None


def keep_resolution(store: Store, entry: str, resolved: ResolvedArticle, diagnostics: list[Diagnostic],
                    annotations: list[Annotation]) -> None:
    index = {id(a): n for n, a in enumerate(annotations)}
    anchors = [[index[id(a.annotation)], a.span.start, a.span.end, a.number, a.exact, a.prefix, a.suffix, a.line]
               for a in resolved.anchors]
    mentions = [[m.entity, m.span.start, m.span.end, m.context, m.linked] for m in resolved.mentions]
    store.put("articles", entry, [diagnostics, resolved.article, resolved.text, anchors, mentions,
                                  resolved.words, resolved.body_html, resolved.coverage, resolved.title_html])


_ANCHOR = (int, int, int, int, str, str, str, int)
_MENTION = (str, int, int, str, bool)


def decode_resolution(value: Any, annotations: list[Annotation]) -> tuple[ResolvedArticle, list[Diagnostic]]:
    if type(value) is not list or len(value) != 9:
        raise Unexpected("resolution expected")
    diagnostics = decode(list[Diagnostic], value[0])
    article = decode(Article, value[1])
    text, body_html, title_html = (decode(str, value[i]) for i in (2, 6, 8))
    anchors = []
    for item in _rows(value[3], _ANCHOR):
        if not 0 <= item[0] < len(annotations):
            raise Unexpected("anchor of an unknown annotation")
        anchors.append(Anchor(annotations[item[0]], Span(item[1], item[2]), *item[3:]))
    sentences: dict[str, str] = {}  # one string for the mentions of one sentence
    mentions = tuple(Mention(entity, article.slug, Span(start, end), sentences.setdefault(context, context), linked)
                     for entity, start, end, context, linked in _rows(value[4], _MENTION))
    resolved = ResolvedArticle(article, pack(text), tuple(anchors), mentions, decode(int, value[5]), pack(body_html),
                               decode(Coverage, value[7]), title_html)
    return resolved, diagnostics


def _rows(value: Any, kinds: tuple[type, ...]) -> Iterable[list]:
    if type(value) is not list:
        raise Unexpected("array expected")
    for row in value:
        if type(row) is not list or len(row) != len(kinds) or any(type(v) is not k for v, k in zip(row, kinds)):
            raise Unexpected("row expected")
        yield row


def read_article(source: Path, relpath: str) -> bytes | None:
    data, _ = read_markdown_bytes(source, relpath)
    return data


# ---- pages ---------------------------------------------------------------------------------

class PageKeys:
    """The cache key of every page of one dossier (see the module's docstring)."""

    def __init__(self, d: Dossier, layouts: list[Path], resolution_keys: dict[str, str]):
        self.templates = templates_hash(layouts)
        self.memo: dict[int, str] = {}
        """id() of a resolved article, or its Article, → a short stand-in for its content (its
        resolution's key, and where its annotations are written): far quicker to hash."""
        self._kept = []  # the objects whose ids the memo holds stay alive
        for slug, r in d.articles.items():
            stand_in = resolution_keys.get(slug) or digest(_json(r))
            positions = digest(_json([[a.annotation.location, a.annotation.quote_location, a.annotation.fields]
                                      for a in r.anchors]))
            resolved = self.memo[id(r)] = f"resolved {stand_in} {positions}"
            self.memo[id(r.article)] = f"article {stand_in}"
            # An anchor or a mention is part of its resolved article: its place in it stands for it.
            self.memo.update((id(a), f"{resolved} anchor {n}") for n, a in enumerate(r.anchors))
            self.memo.update((id(m), f"{resolved} mention {n}") for n, m in enumerate(r.mentions))
            self._kept += [r, r.article]
        fronts = [digest(to_json(r.article, BODY).encode("utf-8")) for r in d.articles.values()]  # what other pages show of them
        # How long lists are split: a page of one thing links an event, a reference or a
        # correction to the part that shows it, and its claims links to the split index or not.
        lay = listing.layout(d)
        split = [sorted(lay.placed.items()), lay.claims_split]
        structure = [d.site, d.sources, d.entities, d.references, d.claims, d.events, d.pages, d.assessments, fronts,
                     split]
        self.structure = digest(self.fingerprint(structure))
        self.everything = digest(_json([self.structure, [self.memo[id(r)] for r in d.articles.values()]]))

    def with_context(self, d: Dossier, page: Page) -> tuple[str | None, dict | None]:
        """The key of `page` (None when the templates could not be read: then nothing is
        cached), and its page_context when the key was made from it (a page of one thing but
        those KEYED_BY_RESOLUTION): rendering the page on a miss then does not make it twice."""
        if self.templates is None:
            return None, None
        if page.template in OWN_CONTEXT_TEMPLATES:
            own = page_context(d, page, for_key=True)
            return key("page", self.templates, page.url, page.template, self.structure,
                       digest(self.fingerprint(own))), None if page.template in KEYED_BY_RESOLUTION else own
        return key("page", self.templates, page.url, page.template, self.everything), None

    def fingerprint(self, value: Any) -> bytes:
        """`value` as JSON, with short stand-ins for the resolved articles (the memo) and for
        every item that many pages show (an annotation, an entity…: hashed once)."""
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=self._stand_in).encode("utf-8")

    def _stand_in(self, value: Any) -> Any:
        stand_in = self.memo.get(id(value))
        if stand_in is not None:
            return stand_in
        kind = type(value)
        names = field_names(kind)
        if names is None:
            return sorted(map(repr, value)) if isinstance(value, (set, frozenset)) else repr(value)
        fields = [kind.__name__] + [getattr(value, name) for name in names]
        if kind in _SHARED:
            stand_in = self.memo[id(value)] = f"{kind.__name__} {digest(self.fingerprint(fields))}"
            self._kept.append(value)
            return stand_in
        return fields


_SHARED = frozenset({Annotation, Anchor, Article, Entity, Source, Reference, Claim, Event, Relation, Assessment})
"""Items that many pages show: each one is hashed once per process."""


class DataShares:
    """Each article's share of the data files (exports.ArticleData), from the cache when it
    has it: by the dossier's structure and the article's resolution (all that share shows)."""

    def __init__(self, store: Store, keys: PageKeys):
        self.store, self.keys = store, keys
        self.used: list[str] = []

    def __call__(self, d: Dossier, slug: str) -> ArticleData:
        entry = key("data", self.keys.structure, self.keys.memo[id(d.articles[slug])])
        self.used.append(self.store.entry_path("data", entry))
        value = self.store.get("data", entry)
        if type(value) is list and len(value) == 3:
            try:
                return ArticleData(decode(str, value[0]), decode(tuple[str, ...], value[1]),
                                   decode(tuple[str, ...], value[2]))
            except Unexpected:
                pass
        share = article_data(d, slug)
        self.store.put("data", entry, [share.article, list(share.annotations), list(share.web_annotations)])
        return share


def templates_hash(layouts: list[Path]) -> str | None:
    """A hash of every template the build can read (the dossier's layouts/ and the built-in
    ones, not their static files); None when one of them cannot be read."""
    h = HASH(digest_size=20)
    for folder in layouts:
        folder = Path(folder)
        try:
            if not folder.is_dir():
                h.update(b"-\0")
                continue
            for name, _ in files_inside(folder.parent, folder.name, folder.name):
                if name.startswith("static/"):
                    continue
                h.update(name.encode("utf-8") + b"\0")
                h.update(HASH((folder / name).read_bytes()).digest())
        except (Refused, OSError):
            return None
        h.update(b"\1")
    return h.hexdigest()


def page_entry(store: Store, page_key: str) -> tuple[str, bytes] | None:
    """The HTML filed under `page_key`, checked, with its name; or None."""
    value = store.get("pages", page_key)
    if type(value) is not str:
        return None
    html = store.read_blob(value)
    return None if html is None else (value, html)


def keep_page(store: Store, page_key: str, html: bytes, written: Path) -> str:
    """File the page's HTML (a hard link to the file just written) under its key; its name."""
    name = store.put_blob(html, written)
    store.put("pages", page_key, name)
    return name


__all__ = ["LoadedAnnotations", "load_annotations", "annotation_hashes", "entities_hash", "article_key",
           "cached_resolution", "keep_resolution", "decode_resolution", "read_article", "PageKeys", "page_entry",
           "keep_page", "decoder"]
