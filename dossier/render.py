"""Dossier → pages: decide every page (URL, template, context), then render each with Jinja2."""
from __future__ import annotations

import bisect
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SecurityError
from markupsafe import Markup

from . import listing, urls
from .coverage import figures, fill_figures
from .diagnostics import Diagnostic, Location, error
from .link import sentence_parts, sentences_with
from .list_pages import LIST_CONTEXTS
from .listing import Part, part_urls
from .markdown import render_markdown
from .model import KINDS, VERDICTS, Anchor, Article, Dossier, ResolvedArticle, Source, original_publisher
from .templates import LayoutLoader, LayoutRefused, TemplateProblem, render_bounded
from .excerpts import first_sentence, list_quote

from . import BUILTIN_THEME as BUILTIN_LAYOUTS  # layouts/ in a checkout, dossier/theme/ when installed


@dataclass(frozen=True)
class Page:
    url: str
    """Site-relative URL; the output path follows from it (urls.output_path)."""
    template: str
    context: dict[str, Any]


def plan_pages(d: Dossier) -> list[Page]:
    """Every HTML page of the site, in a stable order; a long list's later parts follow its
    first (listing.py decides the splits)."""
    lay = listing.layout(d)
    # the pages that list the whole dossier get their context when rendered (LIST_CONTEXTS)
    pages = [Page(urls.HOME, "index.html", {})]
    pages += _parts(urls.ARTICLES, "articles.html", len(lay.articles))
    pages += _parts(urls.ENTITIES, "entities.html", len(lay.entities))
    pages.append(Page(urls.TIMELINE, "timeline.html", {}))
    for year, parts in (lay.timeline_years or {}).items():
        pages += _parts(lay.timeline_url(year), "timeline.html", len(parts), year=year, first={"year": year})
    pages.append(Page(urls.CLAIMS, "claims.html", {}))
    if lay.claims_split:
        for key in lay.claim_groups:
            part = lay.claim_parts(key)
            pages += _parts(part.urls[0], "claims.html", part.count, key=key, first={"key": key})
    pages += _parts(urls.COMPARE, "compare.html", len(lay.compare))
    pages += _parts(urls.CORRECTIONS, "corrections.html", len(lay.corrections))
    pages.append(Page(urls.SOURCES, "sources.html", {}))
    for sid in d.sources:
        if len(d.index.articles_by_source.get(sid, [])) > listing.SOURCE_ARTICLES_SHOWN:
            count = len(listing.source_articles(d, sid))
            pages += _parts(urls.source_page(sid), "source.html", count, source_id=sid, first={"source_id": sid})
    pages += _parts(urls.REFERENCES, "references.html", len(lay.references))
    pages += [Page(urls.SEARCH, "search.html", {}), Page(urls.NOT_FOUND, "404.html", {})]
    pages += [Page(urls.article(slug), "article.html", {"slug": slug}) for slug in d.articles]
    for eid in sorted(d.entities):
        pages += _parts(urls.entity(eid), "entity.html", listing.entity_part_count(d, eid), entity_id=eid,
                        first={"entity_id": eid})
    for cid in sorted(d.claims):
        pages += _parts(urls.claim(cid), "claim.html", listing.claim_part_count(d, cid), claim_id=cid,
                        first={"claim_id": cid})
    pages += [Page(urls.page(slug), "page.html", {"page": p}) for slug, p in sorted(d.pages.items())]
    return pages


def lists_the_dossier(page: Page) -> bool:
    """Whether a page lists the whole dossier (or a part of such a list): any content edit may
    change it."""
    return page.template in LIST_CONTEXTS


def _parts(base: str, template: str, count: int, first: dict | None = None, **context) -> list[Page]:
    """A page and its later parts: the first keeps `first` as its context, so an unsplit
    list's page is planned as it always was."""
    return [Page(url, template, dict(first or {}) if n == 1 else dict(context, part=n))
            for n, url in enumerate(part_urls(base, count), 1)]


OWN_CONTEXT_TEMPLATES = ("article.html", "entity.html", "claim.html", "page.html")
"""Pages that show one thing: what they show comes from their own context (page_context), and
of the dossier `d` their templates read only its structure — site, sources, entities,
references, claims, events, content pages, assessments, each article's front matter and
how long lists are split (listing.layout) —
never another article's text, notes, mentions or the backlinks. The build cache relies on it
(a page is reused while its context and that structure are unchanged, reuse.py), and
tests/test_cache.py checks every such template keeps to it."""

KEYED_BY_RESOLUTION = ("article.html", "entity.html")
"""Pages whose context for the cache key (page_context's `for_key`) holds resolved articles in
place of what the page shows of them: the key's stand-in of a resolved article is its
resolution's key, which fixes all of it."""


def page_context(d: Dossier, page: Page, for_key: bool = False) -> dict[str, Any]:
    """The context of one page beyond the names every page gets (d, site, page_url, link, tally).
    `for_key`: what the build cache's key of the page needs, which for an article or an entity
    page leaves out what follows from the resolved articles it holds (KEYED_BY_RESOLUTION)."""
    context = dict(page.context)
    if page.template == "article.html":
        context.update(_article_context(d, d.articles[page.context["slug"]], for_key))
    if page.template == "entity.html":
        context.update(_entity_context(d, page.context["entity_id"], page.context.get("part", 1), for_key))
    if page.template == "claim.html":
        context.update(_claim_context(d, page.context["claim_id"], page.context.get("part", 1)))
    if page.template == "page.html":
        context.update(_page_context(d, page.context["page"]))
    if page.template in LIST_CONTEXTS:
        context.update(LIST_CONTEXTS[page.template](d, page.context))
    return context


def render_page(env: jinja2.Environment, d: Dossier, page: Page, own: dict[str, Any] | None = None) -> str:
    """One page's HTML; template errors become a TemplateProblem naming template and line.
    `own`: its page_context, when the caller has it already."""
    prefix = urls.base_path(d.site.base_url) if page.url == urls.NOT_FOUND else None
    link = urls.Linker(page.url, prefix, listing.layout(d).placed)
    context = dict(page_context(d, page) if own is None else own, d=d, site=d.site, page_url=page.url, link=link, tally=tally,
                   list_quote=list_quote, gist=first_sentence,
                   claims_href=lambda key, article=None: claims_href(d, key, article))
    try:
        return render_bounded(env.get_template(page.template), context)
    except Exception as exc:  # everything a template can do wrong; Dossier's own steps ran above
        raise TemplateProblem(template_error(env, page, exc)) from None


def claims_href(d: Dossier, key: str, article: str | None = None) -> str:
    """Where the claims index shows a verdict's (or kind's) notes, of one article if given: the
    index filtered by the script, or, once the index is split, that verdict's pages (whose
    script finds the article's part)."""
    lay = listing.layout(d)
    if lay.claims_split:
        return lay.claims_url(key) + (f"?article={article}" if article else "")
    query = f"?{'verdict' if key in VERDICTS else 'kind'}={key}&article={article}" if article else ""
    return f"{urls.CLAIMS}{query}#{key}"


def template_error(env: jinja2.Environment, page: Page, exc: Exception) -> Diagnostic:
    """The diagnostic for a template that failed: the template file and line where it
    happened (the innermost template on the stack), what went wrong and what to do."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return error(Location(f"layouts/{exc.name or Path(exc.filename or page.template).name}", exc.lineno or 0),
                     f"template syntax error: {exc.message}", "fix the template tag on this line")
    frame = _template_frame(env, exc)
    where = frame or Location(f"layouts/{page.template}")
    failed = f"template error while rendering /{page.url}:"
    if isinstance(exc, LayoutRefused):
        return error(frame or Location(exc.path), f"{failed} {exc}", exc.refused.hint)
    if isinstance(exc, jinja2.TemplateNotFound):
        return error(where, f"{failed} there is no template {exc.message!r} in layouts/ (nor a built-in one)",
                     "check the name: templates are found inside layouts/ only ('..' and absolute paths find nothing)")
    if isinstance(exc, SecurityError):
        return error(where, f"{failed} the sandbox refused it: {exc}",
                     "templates may use the variables and helpers Dossier gives them, never Python internals "
                     "(names starting with '_'), modules or files")
    if isinstance(exc, RecursionError) and frame is None:  # while parsing: no template ran yet
        return error(where, f"{failed} the template nests too deeply to be read", "nest fewer brackets or tags")
    if isinstance(exc, RecursionError):
        return error(where, f"{failed} the templates recurse without end",
                     "a template extends, includes or imports itself (directly or through others), or a macro "
                     "calls itself without stopping: break the loop")
    if isinstance(exc, SyntaxError):  # Python's, compiling what Jinja made of the template
        path = env.loader.layout_path(exc.filename or "") if isinstance(env.loader, LayoutLoader) else None
        return error(Location(path) if path else where, f"{failed} the template cannot be compiled: {exc.msg}",
                     "nest fewer blocks ({% for %}, {% if %}, …) inside one another")
    if isinstance(exc, MemoryError):
        return error(where, f"{failed} the template needs more memory than there is", "make the template produce less")
    if isinstance(exc, jinja2.TemplateError):
        return error(where, f"{failed} {exc}", "check the variable names the template uses")
    return error(where, f"{failed} {type(exc).__name__}: {exc}", "check the expression on this line")


def _template_frame(env: jinja2.Environment, exc: BaseException) -> Location | None:
    """The innermost template line in the exception's traceback."""
    loader = env.loader
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = loader.layout_path(frame.filename) if isinstance(loader, LayoutLoader) else None
        if path is not None:
            return Location(path, frame.lineno or 0)
    return None


def tally(anchors) -> list[tuple[str, int]]:
    """Verdict (or kind) → count, in scale order."""
    counts = Counter(a.annotation.verdict if a.annotation.kind == "fact-check" else a.annotation.kind for a in anchors)
    order = list(VERDICTS) + [k for k in KINDS if k != "fact-check"]
    return [(key, counts[key]) for key in order if counts[key]]


# ---- contexts -----------------------------------------------------------------------------

def _article_context(d: Dossier, resolved: ResolvedArticle, for_key: bool = False) -> dict:
    """An article's page. `for_key`: without what the resolved article holds (its body, title,
    anchors, coverage), which its stand-in in the key covers: unpacking and hashing the body
    was most of the cost of an article page's key."""
    context = {"resolved": resolved, "source": d.sources.get(resolved.article.source),
               "assessment": d.assessments.get(resolved.article.slug),
               "republished_by": d.index.republished_by.get(resolved.article.slug, []),
               "claim_tellers": claim_tellers(d, resolved)}
    if not for_key:
        context.update(article=resolved.article, body=Markup(resolved.body_html), title_html=Markup(resolved.title_html),
                       anchors=resolved.anchors, coverage=resolved.coverage)
    return context


def _page_context(d: Dossier, page) -> dict:
    """A content page's body as HTML, its `{{ dossier.<figure> }}` placeholders filled in
    (the page is Markdown, never a template: see coverage.FIGURES)."""
    return {"page_body": Markup(render_markdown(fill_figures(page.body, figures(d))))}


@dataclass(frozen=True)
class MentionedIn:
    """An article's sentences that name an entity, as its page lists them."""
    slug: str
    sentences: list[tuple[tuple[str, str | None], ...]]
    """Each sentence once, as pieces (text, and for a name: the link to its place in the article)."""
    count: int
    """The entity's mentions in the article."""


def _entity_context(d: Dossier, entity_id: str, part: int = 1, for_key: bool = False) -> dict:
    """An entity's page (or one of its later parts): each sentence that names it once, whole,
    with the names linked to their place in the article, article by article. `for_key`: in
    place of each article's sentences, what they are made of — the resolved article and the
    places of the names in it — which costs nothing to gather (finding the sentences is most
    of the work), and the parts of the page that follow from the sentences left out."""
    parts = listing.entity_parts(d, entity_id)
    mentions, notes = parts[part - 1]
    mentioned = []
    for slug, run in _by_article(mentions):
        resolved = d.articles[slug]
        spans = [(m.span.start, m.span.end) for m in run]
        indexes = [_mention_index(resolved, m) for m in run]
        if for_key:
            mentioned.append((slug, resolved, spans, indexes))
            continue
        sentences = [tuple((text, None if at is None else urls.mention(slug, indexes[at])) for text, at in pieces)
                     for pieces in sentences_with(resolved.text, spans)]
        mentioned.append(MentionedIn(slug, sentences, len(run)))
    first = part == 1
    context = {"entity": d.entities[entity_id], "mentioned": mentioned, "notes": notes,
               "relations_in": d.index.relations_to.get(entity_id, []) if first else [],
               "claims": d.index.claims_by_entity.get(entity_id, []) if first else [],
               "events": d.index.events_by_entity.get(entity_id, []) if first else [],
               "pager": Part(part, part_urls(urls.entity(entity_id), len(parts)))}
    if not for_key:
        context["contents"] = _entity_contents(context, d.entities[entity_id], first)
    return context


CONTENTS_AFTER = 8
"""An entity page lists its sections first when it shows more entries than this (an article's
heading counts two): on a phone, about three screens of relations, notes, events and sentences."""


def _entity_contents(context: dict, entity, first: bool) -> list[tuple[str, str, int]]:
    """(fragment, label, count) of the page's sections, when the page is long enough to need them."""
    relations = (len(entity.relations) if first else 0) + len(context["relations_in"])
    sections = [("relations-heading", "Relations", relations),
                ("claims-heading", "Claims and notes", len(context["claims"]) + len(context["notes"])),
                ("events-heading", "Events", len(context["events"])),
                ("mentions-heading", "Mentions", sum(len(m.sentences) for m in context["mentioned"]))]
    sections = [s for s in sections if s[2]]
    if len(sections) < 2 or sum(n for _, _, n in sections) + 2 * len(context["mentioned"]) <= CONTENTS_AFTER:
        return []
    return sections


def _by_article(mentions) -> list[tuple[str, list]]:
    out: list[tuple[str, list]] = []
    for m in mentions:
        if out and out[-1][0] == m.article:
            out[-1][1].append(m)
        else:
            out.append((m.article, [m]))
    return out


def _mention_index(resolved: ResolvedArticle, mention) -> int:
    """The mention's position among the article's mentions (they are in text order)."""
    return bisect.bisect_left(resolved.mentions, mention.span.start, key=lambda m: m.span.start)


@dataclass(frozen=True)
class Telling:
    """One article's wording of a claim, as the claim page shows it."""
    anchor: Anchor
    article: Article
    source: Source | None
    before: str
    """The sentence up to the quote."""
    after: str
    """The sentence after the quote."""


def _claim_context(d: Dossier, claim_id: str, part: int = 1) -> dict:
    """The claim, its tellings (earliest published first), who first carried it, and how many
    publishers state it — a republication counts with the article it republishes. A claim told
    very often continues on later parts, each with its share of the tellings."""
    every = d.index.anchors_by_claim.get(claim_id, [])
    articles = [d.articles[anc.annotation.article].article for anc in every]
    publishers = sorted({original_publisher(d, article) for article in articles})
    reliable = [p for p in publishers if p in d.sources and d.sources[p].rating == "reliable"]
    dated = [(anc, article) for anc, article in zip(every, articles) if article.published]
    # The first appearance: every dated telling that may be the earliest (June 2025 may come
    # before or after 13 June 2025), one per article.
    earliest_end = min((article.published.last for _, article in dated), default=None)
    firsts = list({article.slug: (anc, article) for anc, article in reversed(dated)
                   if article.published.first <= earliest_end}.values())[::-1]
    parts = listing.chunked(every, listing.TELLINGS_PER_PART)
    return {"claim": d.claims[claim_id], "tellings": [_telling(d, anc) for anc in parts[part - 1]],
            "publishers": publishers, "reliable": reliable, "firsts": [_telling(d, anc) for anc, _ in firsts],
            "undated": len(every) - len(dated), "articles": len({article.slug for article in articles}),
            "all_tellings": len(every), "pager": Part(part, part_urls(urls.claim(claim_id), len(parts)))}


def _telling(d: Dossier, anc: Anchor) -> Telling:
    resolved = d.articles[anc.annotation.article]
    before, _, after = sentence_parts(resolved.text_of(anc), anc.span.start, anc.span.end)
    return Telling(anc, resolved.article, d.sources.get(resolved.article.source), before, after)


def claim_tellers(d: Dossier, resolved: ResolvedArticle) -> dict[str, int]:
    """Claim id → how many other articles tell that claim, for each claim the article tells."""
    counts = {}
    for anc in resolved.anchors:
        claim = anc.annotation.claim
        if claim and claim in d.claims and claim not in counts:
            others = {a.annotation.article for a in d.index.anchors_by_claim.get(claim, [])}
            counts[claim] = len(others - {resolved.article.slug})
    return counts
