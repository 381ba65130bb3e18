"""The whole build on one screen: load → validate → resolve → render → write."""
from __future__ import annotations

import ctypes
import dataclasses
import gc
import os
import resource
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import drift, listing, publish, urls
from .cache import CacheError, Store, digest, open_store
from .confine import Refused, is_folder_inside
from .diagnostics import Diagnostic, Location, error, has_errors, sort_diagnostics
from .link import AliasIndex
from .load import ARTICLES_DIR, PAGES_DIR, list_markdown, load_markdown_file, read_markdown_bytes
from .model import Annotation, Annotations, Dossier, Inputs, ResolvedArticle
from .parallel import map_chunks
from .render import BUILTIN_LAYOUTS, Page, TemplateProblem, plan_pages, render_page
from .markdown import render_inline, render_markdown
from .resolve import alias_index, annotations_by_article, assemble, parsed_body, resolve_article
from .exports import article_data
from .reuse import (NO_ANNOTATIONS, DataShares, PageKeys, article_key, cached_resolution, entities_hash, keep_page,
                    keep_resolution, load_annotations, page_entry, read_article)
from .search import INDEXABLE, index_site
from .templates import ENVIRONMENTS, environment
from .validate import cross_check, validate_article, validate_page
from .write import OutputError, OutputFiles, copy_static, guard_output, staging, write_files


@contextmanager
def stage(name: str):
    """Times a stage; printed to stderr when DOSSIER_TIMINGS is set (for profiling builds):
    wall time, and the processor time of this process and of the workers and indexer it
    waited for (which, on a shared machine, is the figure to compare)."""
    started, cpu = time.perf_counter(), _cpu_time()
    yield
    if os.environ.get("DOSSIER_TIMINGS"):
        print(f"  {name}: {time.perf_counter() - started:.3f}s (cpu {_cpu_time() - cpu:.3f}s; "
              f"this process now {_rss_mb()} MB, at most {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB)",
              file=sys.stderr)


def _rss_mb() -> int:
    """The resident memory of this process now, in MiB (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (OSError, ValueError, IndexError):
        return 0


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
    cache: Path | None = None
    """The build cache folder (cache.py); None: build without one."""


@dataclass(frozen=True)
class BuildResult:
    dossier: Dossier | None
    """None when the build failed, or was asked not to keep it (build's `keep`)."""
    diagnostics: list[Diagnostic]
    pages: int = 0
    """HTML pages written; 0 when the build failed."""
    cache: Store | None = None
    """The build cache it used, if any (its hits and misses)."""

    @property
    def ok(self) -> bool:
        return self.pages > 0


def check(config: Config) -> tuple[Dossier | None, list[Diagnostic]]:
    """Load, validate and resolve; the dossier is None when there are errors."""
    store = open_cache(config)
    with collector_paused():
        dossier, diagnostics, _ = checked(config, store)
    return dossier, diagnostics


def open_cache(config: Config) -> Store | None:
    """The build cache of `config`, or None without one (CacheError: it may not be used)."""
    return open_store(config.cache, config.source, config.out) if config.cache is not None else None


def checked(config: Config, store: Store | None) -> tuple[Dossier | None, list[Diagnostic], dict[str, str]]:
    """check(), from and into the cache `store`; also returns each article's cache key."""
    ENVIRONMENTS.clear()  # a layouts/ folder may have appeared since the last build
    with stage("read annotations.yaml"):
        loaded = load_annotations(config.source, store)             # with positions, validated; or cached
    annotations, diagnostics = loaded.annotations, list(loaded.diagnostics)
    diagnostics += layouts_problems(config)                         # a layouts/ that leads elsewhere
    if config.base_url:
        site = dataclasses.replace(annotations.site, base_url=config.base_url.rstrip("/") + "/")
        annotations = dataclasses.replace(annotations, site=site)
    paths, problems = list_markdown(config.source, ARTICLES_DIR)
    diagnostics += problems
    with stage("articles"):
        prepared, keys = resolve_articles(config.source, paths, annotations, loaded.by_article, store)
    resolved = {}
    for article, problems in prepared:
        diagnostics += problems
        if article is not None:
            resolved[article.article.slug] = article
    inputs = Inputs(annotations, {slug: r.article for slug, r in resolved.items()}, load_pages(config.source, diagnostics))
    with stage("cross-check and assemble"):
        if loaded.readable:                                         # else every id would look dangling
            diagnostics += cross_check(inputs)                      # ids exist and are unique
        dossier, problems = assemble(inputs, resolved)              # order, timeline, backlinks
    problems += drift.compare(drift.read_lock(config.source), dossier)  # what moved since the lock
    diagnostics = sort_diagnostics(diagnostics + problems)
    return (None if has_errors(diagnostics, config.strict) else dossier), diagnostics, keys


@dataclass(frozen=True)
class ArticleInputs:
    """What every article needs from annotations.yaml; shared with the worker processes."""

    source: Path
    by_article: dict[str, list[Annotation]]
    aliases: AliasIndex
    entity_names: dict[str, str]
    store: Store | None = None
    """Where resolutions are kept (the workers write them)."""
    hashes: tuple[dict[str, str], str] = ({}, "")
    """For the cache keys: each article's annotations' hash, and the entities' hash."""


def resolve_articles(source: Path, paths: list[str], annotations: Annotations, hashes: dict[str, str],
                     store: Store | None) -> tuple[list[tuple[ResolvedArticle | None, list[Diagnostic]]], dict[str, str]]:
    """Each article resolved, in the order of `paths`: from the cache when it has the
    resolution, the others on every core (and kept). Also: slug → the resolution's cache key."""
    by_article = annotations_by_article(annotations)
    shared = ArticleInputs(source, by_article, alias_index(annotations), {e.id: e.name for e in annotations.entities.values()},
                           store, (hashes, entities_hash(annotations) if store is not None else ""))
    results: list = [None] * len(paths)
    keys: dict[str, str] = {}
    todo = []
    for n, relpath in enumerate(paths):
        slug = relpath.rsplit("/", 1)[-1][: -len(".md")]
        data = read_article(source, relpath) if store is not None else None
        if data is not None:
            entry = article_key(relpath, data, hashes.get(slug, NO_ANNOTATIONS), shared.hashes[1])
            results[n] = cached_resolution(store, entry, by_article.get(slug, []))
            if results[n] is not None:
                keys[slug] = entry
                continue
        todo.append(n)
    done = map_chunks(prepare_and_keep, [paths[n] for n in todo], shared, refs=annotations.annotations)  # on every core
    for n, (outcome, entry) in zip(todo, done):
        results[n] = outcome
        if entry is not None:
            keys[outcome[0].article.slug] = entry
            store.used.add(store.entry_path("articles", entry))
    return results, keys


def prepare_and_keep(shared: ArticleInputs, relpaths: list[str]) -> list[tuple[tuple, str | None]]:
    """prepare_articles, each resolution without problems kept in the cache; (outcome, its key
    or None)."""
    out = []
    for relpath in relpaths:
        data, problems = read_markdown_bytes(shared.source, relpath)
        if data is None:
            out.append(((None, problems), None))
            continue
        outcome = prepare_article(shared, relpath, data)
        resolved, diagnostics = outcome
        entry = None
        if shared.store is not None and resolved is not None and not any(d.location.path != relpath for d in diagnostics):
            slug = resolved.article.slug
            entry = article_key(relpath, data, shared.hashes[0].get(slug, NO_ANNOTATIONS), shared.hashes[1])
            keep_resolution(shared.store, entry, resolved, diagnostics, shared.by_article.get(slug, []))
        out.append((outcome, entry))
    return out


def prepare_articles(shared: ArticleInputs, relpaths: list[str]) -> list[tuple[ResolvedArticle | None, list[Diagnostic]]]:
    """Load, validate and resolve each article file: everything that needs only the article."""
    return [prepare_article(shared, relpath) for relpath in relpaths]


def prepare_article(shared: ArticleInputs, relpath: str, data: bytes | None = None) -> tuple[ResolvedArticle | None, list[Diagnostic]]:
    """One article file (or its bytes, `data`) loaded, validated and resolved."""
    file, diagnostics = load_markdown_file(shared.source, relpath, data)
    article = validate_article(file, diagnostics) if file is not None else None
    if article is None:
        return None, diagnostics
    resolved, problems = resolve_article(article, shared.by_article.get(article.slug, []), shared.aliases,
                                         shared.entity_names)
    return resolved, diagnostics + problems


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


@dataclass(frozen=True)
class Writing:
    """What the workers that write the pages share."""

    dossier: Dossier
    layouts: list[Path]
    folder: Path
    page_urls: list[str]
    store: Store | None = None
    keys: PageKeys | None = None


@dataclass(frozen=True)
class Written:
    """One page written."""

    path: str
    digest: str
    """cache.digest of its bytes."""
    indexable: bool
    """It has an element the search index would index on its own (search.INDEXABLE)."""
    used: tuple[str, ...] = ()
    """The cache files it came from or went to."""
    reused: bool = False
    """It came from the cache."""


def write_pages(shared: Writing, pages: list[Page]) -> list[Written]:
    """Render pages, or take them from the cache (and, for DATA_FILES, make the feeds and
    data) into the staging folder; runs in the worker processes."""
    d, store, keys = shared.dossier, shared.store, shared.keys
    env = environment(tuple(shared.layouts))
    written = []
    for page in pages:
        if page is DATA_FILES or page == DATA_FILES:
            shares = DataShares(store, keys) if keys is not None else article_data
            for path, pieces in publish.output_pieces(d, shared.page_urls, shares):
                with open(shared.folder / path, "w", encoding="utf-8") as file:
                    file.writelines(pieces)
            written.append(Written("", "", False, tuple(getattr(shares, "used", ()))))  # not a page: its cache files
            continue
        path = urls.output_path(page.url)
        target = shared.folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        page_key, own = keys.with_context(d, page) if keys is not None else (None, None)
        cached = page_entry(store, page_key) if page_key is not None else None
        if cached is not None:
            name, html = cached
            store.place_blob(name, html, target)
        else:
            html = render_page(env, d, page, own).encode("utf-8")
            target.write_bytes(html)
            name = keep_page(store, page_key, html, target) if page_key is not None else digest(html)
        used = (store.entry_path("pages", page_key), store.blob_path(name)) if page_key is not None else ()
        written.append(Written(path, name, INDEXABLE.search(html) is not None, used, cached is not None))
    return written


LIST_TEMPLATES = ("claims.html", "references.html", "articles.html", "index.html", "timeline.html", "compare.html",
                  "entities.html", "sources.html", "corrections.html")


def heaviest_first(pages: list[Page]) -> list[Page]:
    """The pages that list the whole dossier first, so no worker is left with one of them
    at the end while the other idles."""
    return sorted(pages, key=lambda p: LIST_TEMPLATES.index(p.template) if p.template in LIST_TEMPLATES
                  else len(LIST_TEMPLATES))


def build(config: Config, keep: bool = True) -> BuildResult:
    """Check, render and atomically write the site to config.out (with the build cache of
    config.cache, if any: see reuse.py). keep=False: the result holds no dossier, and the
    build lets it go before it makes the search index (the command line's build). At 10,000
    articles that frees 0.9 GB of objects, but the process gives only about 0.2 GB of it back
    to the system (Python keeps the rest, scattered among what lives on): measured, the
    process holds 0.74 GB beside the two Pagefind processes instead of 0.92 GB."""
    with collector_paused():
        return _build(config, keep)


@contextmanager
def collector_paused():
    """The cyclic garbage collector off while a build runs in this process. A build makes
    millions of objects that live to its end; each full collection walks all of them, and
    Python starts one whenever they have grown by a quarter: at 10,000 articles 79 full
    collections took 11.6 s of the build process (loading annotations.yaml alone: 13.2 s
    with the collector, 9.1 s without; at 1,000 articles 1.18 and 1.01 s). A build leaves
    almost no cyclic garbage (2,014 objects at 1,000 articles, measured with the collector
    off), and release_memory collects before the search index; the workers collect their own
    (parallel._start_worker)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(config: Config, keep: bool) -> BuildResult:
    try:
        store = open_cache(config)
    except CacheError as exc:
        return BuildResult(None, [error(Location(str(config.cache)), str(exc))])
    dossier, diagnostics, resolution_keys = checked(config, store)
    if dossier is None:
        return BuildResult(None, diagnostics)
    try:
        guard_output(config.out, config.source)
        with staging(config.out) as folder:                         # temp folder, swapped in at the end
            written, used = write_site(config, dossier, store, resolution_keys, folder)
            lock = drift.lock_text(drift.fingerprints(dossier))     # fingerprints for the next check
            if not keep:
                listing.forget(dossier)
                dossier = None
                release_memory()
            if config.search:
                with stage("search index"):
                    used += index_site(folder, written, store)      # Pagefind over the finished pages
    except TemplateProblem as problem:
        return BuildResult(None, diagnostics + [problem.diagnostic])
    except OutputError as exc:
        return BuildResult(None, diagnostics + [error(Location(str(config.out)), str(exc))])
    drift.write_lock_text(config.source, lock)
    if store is not None:
        with stage("cache"):
            store.used.update(used)
            reused = sum(page.reused for page in written)
            store.counts["pages"] = [reused, len(written) - reused]  # the workers' lookups, counted here
            store.sweep()                                           # what the last two builds did not use
    return BuildResult(dossier, diagnostics, len(written), store)


def write_site(config: Config, dossier: Dossier, store: Store | None, resolution_keys: dict[str, str],
               folder: Path) -> tuple[list[Written], list[str]]:
    """Every file of the site but the search index, into `folder`: the pages written and the
    cache files used."""
    pages = plan_pages(dossier)                                     # every page: URL, template, context
    files = plan_outputs(dossier, pages)                            # every output path, once
    keys = PageKeys(dossier, layout_dirs(config), resolution_keys) if store is not None else None
    copy_static([d / "static" for d in reversed(layout_dirs(config))], folder)
    write_files(files.files, folder)
    with stage("pages, feeds and data"):                            # HTML and data files, on every core
        shared = Writing(dossier, layout_dirs(config), folder, [page.url for page in pages], store, keys)
        written = map_chunks(write_pages, [DATA_FILES] + heaviest_first(pages), shared)
    used = [path for page in written for path in page.used]         # the cache files they came from
    return [page for page in written if page.path], used            # the pages alone


def release_memory() -> None:
    """Empty the caches of parsed Markdown, collect what nothing refers to any more and give
    the freed memory back to the system (glibc keeps it otherwise: malloc_trim)."""
    for cached in (parsed_body, render_markdown, render_inline):
        cached.cache_clear()
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
