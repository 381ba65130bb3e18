"""Dossier → pages: decide every page (URL, template, context), then render each with Jinja2."""
from __future__ import annotations

import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SecurityError
from markupsafe import Markup

from . import urls
from .coverage import figures, fill_figures
from .diagnostics import Diagnostic, Location, error
from .link import sentence_parts
from .markdown import render_markdown
from .model import ENTITY_TYPES, KINDS, VERDICTS, Anchor, Article, Dossier, ResolvedArticle, Source, original_of
from .publish import corrections
from .templates import LayoutLoader, LayoutRefused, TemplateProblem, render_bounded

from . import BUILTIN_THEME as BUILTIN_LAYOUTS  # layouts/ in a checkout, dossier/theme/ when installed


HOME_ARTICLES = 20
"""The home page lists this many articles, newest first; /articles/ lists them all."""


@dataclass(frozen=True)
class Page:
    url: str
    """Site-relative URL; the output path follows from it (urls.output_path)."""
    template: str
    context: dict[str, Any]


def plan_pages(d: Dossier) -> list[Page]:
    """Every HTML page of the site, in a stable order."""
    pages = [  # the pages that list the whole dossier get their context when rendered (LIST_CONTEXTS)
        Page(urls.HOME, "index.html", {}),
        Page(urls.ARTICLES, "articles.html", {}),
        Page(urls.ENTITIES, "entities.html", {}),
        Page(urls.TIMELINE, "timeline.html", {}),
        Page(urls.CLAIMS, "claims.html", {}),
        Page(urls.COMPARE, "compare.html", {}),
        Page(urls.CORRECTIONS, "corrections.html", {}),
        Page(urls.SOURCES, "sources.html", {}),
        Page(urls.REFERENCES, "references.html", {}),
        Page(urls.SEARCH, "search.html", {}),
        Page(urls.NOT_FOUND, "404.html", {}),
    ]
    pages += [Page(urls.article(slug), "article.html", {"slug": slug}) for slug in d.articles]
    pages += [Page(urls.entity(eid), "entity.html", {"entity_id": eid}) for eid in sorted(d.entities)]
    pages += [Page(urls.claim(cid), "claim.html", {"claim_id": cid}) for cid in sorted(d.claims)]
    pages += [Page(urls.page(slug), "page.html", {"page": p}) for slug, p in sorted(d.pages.items())]
    return pages


OWN_CONTEXT_TEMPLATES = ("article.html", "entity.html", "claim.html", "page.html")
"""Pages that show one thing: what they show comes from their own context (page_context), and
of the dossier `d` their templates read only its structure — site, sources, entities,
references, claims, events, content pages, assessments and each article's front matter —
never another article's text, notes, mentions or the backlinks. The build cache relies on it
(a page is reused while its context and that structure are unchanged, reuse.py), and
tests/test_cache.py checks every such template keeps to it."""


def page_context(d: Dossier, page: Page) -> dict[str, Any]:
    """The context of one page beyond the names every page gets (d, site, page_url, link, tally)."""
    context = dict(page.context)
    if page.template == "article.html":
        context.update(_article_context(d, d.articles[page.context["slug"]]))
    if page.template == "entity.html":
        context.update(_entity_context(d, page.context["entity_id"]))
    if page.template == "claim.html":
        context.update(_claim_context(d, page.context["claim_id"]))
    if page.template == "page.html":
        context.update(_page_context(d, page.context["page"]))
    if page.template in LIST_CONTEXTS:
        context.update(LIST_CONTEXTS[page.template](d))
    return context


def render_page(env: jinja2.Environment, d: Dossier, page: Page) -> str:
    """One page's HTML; template errors become a TemplateProblem naming template and line."""
    prefix = urls.base_path(d.site.base_url) if page.url == urls.NOT_FOUND else None
    link = urls.Linker(page.url, prefix)
    context = dict(page_context(d, page), d=d, site=d.site, page_url=page.url, link=link, tally=tally)
    try:
        return render_bounded(env.get_template(page.template), context)
    except Exception as exc:  # everything a template can do wrong; Dossier's own steps ran above
        raise TemplateProblem(template_error(env, page, exc)) from None


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

def _article_context(d: Dossier, resolved: ResolvedArticle) -> dict:
    return {"resolved": resolved, "article": resolved.article, "source": d.sources.get(resolved.article.source),
            "body": Markup(resolved.body_html), "title_html": Markup(resolved.title_html), "anchors": resolved.anchors,
            "coverage": resolved.coverage, "assessment": d.assessments.get(resolved.article.slug),
            "republished_by": d.index.republished_by.get(resolved.article.slug, []),
            "claim_tellers": claim_tellers(d, resolved)}


def _page_context(d: Dossier, page) -> dict:
    """A content page's body as HTML, its `{{ dossier.<figure> }}` placeholders filled in
    (the page is Markdown, never a template: see coverage.FIGURES)."""
    return {"page_body": Markup(render_markdown(fill_figures(page.body, figures(d))))}


def _home_context(d: Dossier) -> dict:
    return {"latest_events": d.events[-5:][::-1], "home_articles": list(d.articles.values())[:HOME_ARTICLES],
            "figures": figures(d), "key_claims": [c for c in d.claims.values() if c.key]}


MATRIX_COLUMNS = 40
"""Beyond this many articles, /compare/ lists each claim's tellings instead of a claims ×
articles grid, whose size would grow with claims times articles."""


def _compare_context(d: Dossier) -> dict:
    columns = [r for r in d.articles.values() if any(a.annotation.claim in d.claims for a in r.anchors)]
    if len(columns) > MATRIX_COLUMNS:
        return {"columns": columns, "rows": [], "by_claim": [(c, d.index.anchors_by_claim.get(c.id, []))
                                                             for c in d.claims.values()]}
    return {"columns": columns, "rows": _compare_rows(d, columns), "by_claim": []}


def _entity_context(d: Dossier, entity_id: str) -> dict:
    mentions = defaultdict(list)
    for m in d.index.mentions_by_entity.get(entity_id, []):
        mentions[m.article].append(m)
    return {"entity": d.entities[entity_id], "mentions": dict(mentions),
            "relations_in": d.index.relations_to.get(entity_id, []),
            "notes": d.index.anchors_by_entity.get(entity_id, []),
            "claims": d.index.claims_by_entity.get(entity_id, []),
            "events": d.index.events_by_entity.get(entity_id, [])}


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


def _claim_context(d: Dossier, claim_id: str) -> dict:
    """The claim, its tellings (earliest published first), who first carried it, and how many
    publishers state it — a republication counts with the article it republishes."""
    tellings = []
    for anc in d.index.anchors_by_claim.get(claim_id, []):
        resolved = d.articles[anc.annotation.article]
        before, _, after = sentence_parts(resolved.text_of(anc), anc.span.start, anc.span.end)
        tellings.append(Telling(anc, resolved.article, d.sources.get(resolved.article.source), before, after))
    publishers = sorted({original_of(d, t.article).source for t in tellings})
    reliable = [p for p in publishers if p in d.sources and d.sources[p].rating == "reliable"]
    dated = [t for t in tellings if t.article.published]
    # The first appearance: every dated telling that may be the earliest (June 2025 may come
    # before or after 13 June 2025), one per article.
    earliest_end = min((t.article.published.last for t in dated), default=None)
    firsts = list({t.article.slug: t for t in reversed(dated) if t.article.published.first <= earliest_end}.values())[::-1]
    return {"claim": d.claims[claim_id], "tellings": tellings, "publishers": publishers, "reliable": reliable,
            "firsts": firsts, "undated": len(tellings) - len(dated), "articles": len({t.article.slug for t in tellings})}


def claim_tellers(d: Dossier, resolved: ResolvedArticle) -> dict[str, int]:
    """Claim id → how many other articles tell that claim, for each claim the article tells."""
    counts = {}
    for anc in resolved.anchors:
        claim = anc.annotation.claim
        if claim and claim in d.claims and claim not in counts:
            others = {a.annotation.article for a in d.index.anchors_by_claim.get(claim, [])}
            counts[claim] = len(others - {resolved.article.slug})
    return counts


def _compare_rows(d: Dossier, columns: list[ResolvedArticle]) -> list[tuple]:
    """(claim, [the article's tellings of it, per column]) for the coverage matrix."""
    rows = []
    for claim in d.claims.values():
        cells = defaultdict(list)
        for anc in d.index.anchors_by_claim.get(claim.id, []):
            cells[anc.annotation.article].append(anc)
        rows.append((claim, [cells.get(r.article.slug, []) for r in columns]))
    return rows


LIST_CONTEXTS = {
    "index.html": _home_context,
    "entities.html": lambda d: {"by_type": _entities_by_type(d)},
    "timeline.html": lambda d: {"years": _timeline_groups(d)},
    "claims.html": lambda d: {"groups": _claims_groups(d)},
    "compare.html": lambda d: _compare_context(d),
    "corrections.html": lambda d: {"corrections": corrections(d)},
}
"""Built-in templates that list the whole dossier → their context, computed only when such a
page is rendered (an incremental rebuild that leaves them for later need not pay for it)."""


def _entities_by_type(d: Dossier) -> list[tuple[str, list]]:
    groups = defaultdict(list)
    for entity in d.entities.values():
        groups[entity.type].append(entity)
    return [(t, sorted(groups[t], key=lambda e: (e.name.lower(), e.id))) for t in ENTITY_TYPES if groups[t]]


def _timeline_groups(d: Dossier) -> list[tuple[int, list[tuple[int, list]]]]:
    """[(year, [(month or 0, entries)])], oldest first; month 0 holds year-precision entries."""
    years: dict[int, dict[int, list]] = {}
    for entry in d.timeline:
        years.setdefault(entry.date.year, {}).setdefault(entry.date.month, []).append(entry)
    return [(year, list(months.items())) for year, months in years.items()]


def _claims_groups(d: Dossier) -> list[tuple[str, list[Anchor]]]:
    """Annotations grouped by verdict (scale order), then by the other kinds."""
    groups = defaultdict(list)
    for anc in d.anchors.values():
        key = anc.annotation.verdict if anc.annotation.kind == "fact-check" else anc.annotation.kind
        groups[key].append(anc)
    order = list(VERDICTS) + [k for k in KINDS if k != "fact-check"]
    return [(key, groups[key]) for key in order if groups[key]]
