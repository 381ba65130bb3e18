"""The whole build on one screen: load → validate → resolve → render → write."""
from __future__ import annotations

import dataclasses
import os
import resource
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import drift, publish, urls
from .confine import Refused, is_folder_inside
from .diagnostics import Diagnostic, Location, error, has_errors, sort_diagnostics
from .link import AliasIndex
from .load import ARTICLES_DIR, PAGES_DIR, list_markdown, load_markdown_file, read_annotations
from .model import Annotation, Dossier, Inputs, ResolvedArticle
from .parallel import map_chunks
from .render import BUILTIN_LAYOUTS, Page, TemplateProblem, plan_pages, render_page
from .resolve import alias_index, annotations_by_article, assemble, resolve_article
from .search import index_site
from .templates import ENVIRONMENTS, environment
from .validate import cross_check, validate_annotations, validate_article, validate_page
from .write import OutputError, OutputFiles, copy_static, guard_output, staging, write_files


@contextmanager
def stage(name: str):
    """Times a stage; printed to stderr when DOSSIER_TIMINGS is set (for profiling builds):
    wall time, and the processor time of this process and of the workers and indexer it
    waited for (which, on a shared machine, is the figure to compare)."""
    started, cpu = time.perf_counter(), _cpu_time()
    yield
    if os.environ.get("DOSSIER_TIMINGS"):
        print(f"  {name}: {time.perf_counter() - started:.3f}s (cpu {_cpu_time() - cpu:.3f}s)", file=sys.stderr)


def _cpu_time() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class Config:
    source: Path = Path(".")
    """The dossier folder: content/, annotations.yaml and, optionally, layouts/."""
    out: Path = Path("public")
    base_url: str | None = None
    """Overrides site.base_url (e.g. the Pages URL in CI)."""
    strict: bool = False
    """Treat warnings as errors."""
    search: bool = True
    """Build the Pagefind search index."""


@dataclass(frozen=True)
class BuildResult:
    dossier: Dossier | None
    diagnostics: list[Diagnostic]
    pages: int = 0
    """HTML pages written; 0 when the build failed."""

    @property
    def ok(self) -> bool:
        return self.dossier is not None and self.pages > 0


def check(config: Config) -> tuple[Dossier | None, list[Diagnostic]]:
    """Load, validate and resolve; the dossier is None when there are errors."""
    ENVIRONMENTS.clear()  # a layouts/ folder may have appeared since the last build
    with stage("read annotations.yaml"):
        doc, diagnostics = read_annotations(config.source)          # annotations.yaml, with positions
    diagnostics += layouts_problems(config)                         # a layouts/ that leads elsewhere
    with stage("validate annotations"):
        annotations = validate_annotations(doc, diagnostics)        # schema and dates
    if config.base_url:
        site = dataclasses.replace(annotations.site, base_url=config.base_url.rstrip("/") + "/")
        annotations = dataclasses.replace(annotations, site=site)
    paths, problems = list_markdown(config.source, ARTICLES_DIR)
    diagnostics += problems
    shared = ArticleInputs(config.source, annotations_by_article(annotations), alias_index(annotations),
                           {e.id: e.name for e in annotations.entities.values()})
    with stage("articles"):
        prepared = map_chunks(prepare_articles, paths, shared, refs=annotations.annotations)  # on every core
    resolved = {}
    for article, problems in prepared:
        diagnostics += problems
        if article is not None:
            resolved[article.article.slug] = article
    inputs = Inputs(annotations, {slug: r.article for slug, r in resolved.items()}, load_pages(config.source, diagnostics))
    with stage("cross-check and assemble"):
        if doc is not None and isinstance(doc.value, dict):     # else every id would look dangling
            diagnostics += cross_check(inputs)                      # ids exist and are unique
        dossier, problems = assemble(inputs, resolved)              # order, timeline, backlinks
    problems += drift.compare(drift.read_lock(config.source), dossier)  # what moved since the lock
    diagnostics = sort_diagnostics(diagnostics + problems)
    return (None if has_errors(diagnostics, config.strict) else dossier), diagnostics


@dataclass(frozen=True)
class ArticleInputs:
    """What every article needs from annotations.yaml; shared with the worker processes."""

    source: Path
    by_article: dict[str, list[Annotation]]
    aliases: AliasIndex
    entity_names: dict[str, str]


def prepare_articles(shared: ArticleInputs, relpaths: list[str]) -> list[tuple[ResolvedArticle | None, list[Diagnostic]]]:
    """Load, validate and resolve each article file: everything that needs only the article."""
    results = []
    for relpath in relpaths:
        file, diagnostics = load_markdown_file(shared.source, relpath)
        article = validate_article(file, diagnostics) if file is not None else None
        if article is None:
            results.append((None, diagnostics))
            continue
        resolved, problems = resolve_article(article, shared.by_article.get(article.slug, []), shared.aliases,
                                             shared.entity_names)
        results.append((resolved, diagnostics + problems))
    return results


def load_pages(source: Path, diagnostics: list[Diagnostic]) -> dict:
    paths, problems = list_markdown(source, PAGES_DIR)
    diagnostics += problems
    pages = {}
    for relpath in paths:
        file, problems = load_markdown_file(source, relpath)
        diagnostics += problems
        page = validate_page(file, diagnostics) if file is not None else None
        if page is not None:
            pages[page.slug] = page
    return pages


def layout_dirs(config: Config) -> list[Path]:
    """The dossier's own layouts/ first, then the built-in ones. The dossier's is not
    resolved: a layouts/ that is a link out of the dossier folder finds nothing (confine.py)."""
    own = Path(os.path.realpath(config.source)) / "layouts"
    return [own, BUILTIN_LAYOUTS] if own != BUILTIN_LAYOUTS else [BUILTIN_LAYOUTS]


def layouts_problems(config: Config) -> list[Diagnostic]:
    """An error when the dossier's layouts/ is a link out of it, a link loop or a dangling link."""
    try:
        is_folder_inside(config.source, "layouts")
    except Refused as refused:
        return [error(Location("layouts"), refused.message, refused.hint)]
    return []


def plan_outputs(dossier: Dossier, pages: list[Page]) -> OutputFiles:
    """Claim every output path (no two outputs may share one) and hold the small extra files."""
    files = OutputFiles()
    for page in pages:
        files.reserve(urls.output_path(page.url))
    for path in publish.OUTPUTS:
        files.reserve(path)
    files.add(".nojekyll", "")
    files.add("robots.txt", f"User-agent: *\nAllow: /\nSitemap: {urls.absolute(dossier.site.base_url, 'sitemap.xml')}\n")
    return files


def other_files(dossier: Dossier, pages: list[Page]) -> OutputFiles:
    """Everything but the HTML pages: feeds, sitemap, data, robots.txt."""
    files = plan_outputs(dossier, pages)
    for path, content in publish.outputs(dossier, [page.url for page in pages]):  # feed, sitemap, data
        files.files[path] = content.encode("utf-8")
    return files


DATA_FILES = Page("", "", {"data files": True})
"""A work item standing for the feeds and data files, rendered beside the pages."""


def write_pages(shared: tuple, pages: list[Page]) -> list[str]:
    """Render pages (and, for DATA_FILES, the feeds and data) into the staging folder;
    runs in the worker processes."""
    dossier, layouts, folder, page_urls = shared
    env = environment(tuple(layouts))
    written = []
    for page in pages:
        if page is DATA_FILES or page == DATA_FILES:
            for path, content in publish.outputs(dossier, page_urls):
                (folder / path).write_text(content, encoding="utf-8")
            continue
        path = urls.output_path(page.url)
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_page(env, dossier, page), encoding="utf-8")
        written.append(path)
    return written


LIST_TEMPLATES = ("claims.html", "references.html", "articles.html", "index.html", "timeline.html", "compare.html",
                  "entities.html", "sources.html", "corrections.html")


def heaviest_first(pages: list[Page]) -> list[Page]:
    """The pages that list the whole dossier first, so no worker is left with one of them
    at the end while the other idles."""
    return sorted(pages, key=lambda p: LIST_TEMPLATES.index(p.template) if p.template in LIST_TEMPLATES
                  else len(LIST_TEMPLATES))


def build(config: Config) -> BuildResult:
    """Check, render and atomically write the site to config.out."""
    dossier, diagnostics = check(config)
    if dossier is None:
        return BuildResult(None, diagnostics)
    try:
        guard_output(config.out, config.source)
        pages = plan_pages(dossier)                                 # every page: URL, template, context
        files = plan_outputs(dossier, pages)                        # every output path, once
        with staging(config.out) as folder:                         # temp folder, swapped in at the end
            copy_static([d / "static" for d in reversed(layout_dirs(config))], folder)
            write_files(files.files, folder)
            with stage("pages, feeds and data"):                    # HTML and data files, on every core
                shared = (dossier, layout_dirs(config), folder, [page.url for page in pages])
                written = map_chunks(write_pages, [DATA_FILES] + heaviest_first(pages), shared)
            if config.search:
                with stage("search index"):
                    index_site(folder)                              # Pagefind over the finished pages
    except TemplateProblem as problem:
        return BuildResult(None, diagnostics + [problem.diagnostic])
    except OutputError as exc:
        return BuildResult(None, diagnostics + [error(Location(str(config.out)), str(exc))])
    drift.write_lock(config.source, dossier)                        # fingerprints for the next check
    return BuildResult(dossier, diagnostics, len(written))
