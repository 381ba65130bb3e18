"""Rebuilds for `serve`: keep the last build in memory and redo only what an edit touches.

A `Session` caches, across rebuilds, annotations.yaml's items (by their text), each
article's resolution (by its file's size and time and the annotations on it) and the
hash of every page it wrote. After an edit it re-renders the pages that can depend on
what changed — the edited articles first, then the entities they mention, their claims,
and the index pages — and writes only the files whose bytes changed. A template or
entity edit re-renders everything. The result is the same, byte for byte, as a cold
build of the same files (tests/test_incremental.py holds it to that).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Callable

from . import drift, publish, urls
from .coverage import figures
from .diagnostics import Diagnostic, has_errors, sort_diagnostics
from .load import ANNOTATIONS_FILE, ARTICLES_DIR, list_markdown, read_annotations
from .model import Dossier, Inputs
from .parallel import map_chunks
from . import listing
from .render import Page, TemplateProblem, lists_the_dossier, plan_pages, render_page
from .resolve import alias_index, annotations_by_article, assemble
from .site import (ArticleInputs, BuildResult, Config, layout_dirs, load_pages, other_files,
                   plan_outputs, prepare_articles)
from .templates import ENVIRONMENTS as _ENVIRONMENTS, environment as _environment
from .validate import cross_check, validate_annotations
from .write import OutputError, copy_static, guard_output, marked, staging

LIST_PAGES = (urls.HOME, urls.ARTICLES, urls.ENTITIES, urls.TIMELINE, urls.CLAIMS, urls.COMPARE, urls.CORRECTIONS,
              urls.SOURCES, urls.REFERENCES)
"""Pages that list every article or annotation: re-rendered after any content edit (with the
later parts of a long list: render.lists_the_dossier)."""


class Superseded(Exception):
    """An incremental build stopped at a safe point because newer edits wait (see Session.superseded)."""


class Session:
    """One dossier being served: its caches and its last good build."""

    def __init__(self, config: Config):
        self.config = config
        self.yaml_cache: dict = {}
        self.item_cache: dict = {}
        self.article_cache: dict[str, tuple] = {}
        """relpath → ((key, resolution), and the one before it); see check()."""
        self.written: dict[str, str] = {}
        self.dossier: Dossier | None = None
        self.annotations = None
        self.good_annotations = None
        """The annotations of the last good build."""
        self.unchecked: set[str] | None = None
        """Files edited since the article cache was last brought up to date; None: any may be."""
        self.annotation_problems: list[Diagnostic] = []
        self.aliases_key = None
        self.grouped: tuple = (None, {})
        """(annotations, their annotations_by_article), for the annotations last loaded."""
        self.lock_file: tuple = (None, {})
        """(stat key, contents) of annotations.lock, read again only when the file changes."""
        self.lock = threading.Lock()
        self.generation = 0
        """Counts good builds: a background `finish` for an older one stops early."""
        self.busy = threading.Event()
        """Set while a build runs: the background `finish` waits, leaving it the processor."""
        self.superseded = threading.Event()
        """Set (by serve) when newer edits wait: a build after the first then stops at its next
        safe point, once the edited pages are written, raising Superseded. What it did not do
        the next build does, as it compares its result with the last build that finished."""
        self.on_early_write: Callable[[], None] | None = None
        """Called once the edited articles' pages are on disk, before the rest of a rebuild."""

    # ---- checking, with caches ----------------------------------------------------------

    def load_annotations(self) -> None:
        """Re-read annotations.yaml, re-checking only the items whose text changed."""
        config = self.config
        doc, problems = read_annotations(config.source, self.yaml_cache)
        annotations = validate_annotations(doc, problems, self.item_cache)
        if config.base_url:
            annotations = dataclasses.replace(
                annotations, site=dataclasses.replace(annotations.site, base_url=config.base_url.rstrip("/") + "/"))
        self.annotations, self.annotation_problems = annotations, problems
        self.yaml_ok = doc is not None and isinstance(doc.value, dict)

    def check(self, changed: set[str] | None = None) -> tuple[Dossier | None, list[Diagnostic]]:
        """The dossier checked and resolved, from the caches; `changed` (the paths edited since
        the last check, when known) spares a look at every other article file."""
        config = self.config
        if self.annotations is None:
            self.load_annotations()
        annotations = self.annotations
        diagnostics = list(self.annotation_problems)
        if has_errors(diagnostics, False):
            # The build fails whatever the articles say: report annotations.yaml's errors now,
            # rather than re-resolve every article whose annotations a half-saved file lost.
            return None, sort_diagnostics(diagnostics)
        names = {e.id: e.name for e in annotations.entities.values()}
        aliases_key = tuple(sorted((e.id, e.name, e.aliases) for e in annotations.entities.values()))
        if aliases_key != self.aliases_key:
            self.article_cache.clear()  # links and names in every body may change
            self.aliases_key, self.aliases, self.names = aliases_key, alias_index(annotations), names
        by_article = self._by_article(annotations)
        paths, problems = list_markdown(config.source, ARTICLES_DIR)
        diagnostics += problems
        todo, resolved = [], {}
        for relpath in paths:
            key, outcome = self._cached(relpath, by_article, changed is not None and relpath not in changed)
            if outcome is None:
                todo.append((relpath, key))
                continue
            diagnostics += outcome[1]
            if outcome[0] is not None:
                resolved[outcome[0].article.slug] = outcome[0]
        shared = ArticleInputs(config.source, by_article, self.aliases, self.names)
        outcomes = map_chunks(prepare_articles, [r for r, _ in todo], shared, refs=annotations.annotations)
        for (relpath, key), outcome in zip(todo, outcomes):
            self._remember(relpath, key, outcome)
            diagnostics += outcome[1]
            if outcome[0] is not None:
                resolved[outcome[0].article.slug] = outcome[0]
        for gone in set(self.article_cache) - set(paths):
            del self.article_cache[gone]
        self.unchecked = set()  # every article file is in the cache as it is now
        self._checkpoint()
        inputs = Inputs(annotations, {slug: r.article for slug, r in resolved.items()}, load_pages(config.source, diagnostics))
        if self.yaml_ok:
            diagnostics += cross_check(inputs)
        self._checkpoint()
        dossier, problems = assemble(inputs, resolved)
        self._checkpoint()
        problems += drift.compare(self._read_lock(), dossier)
        diagnostics = sort_diagnostics(diagnostics + problems)
        return (None if has_errors(diagnostics, config.strict) else dossier), diagnostics

    def _checkpoint(self) -> None:
        if self.superseded.is_set() and self.dossier is not None:  # never the first build
            raise Superseded

    def _by_article(self, annotations) -> dict:
        """annotations_by_article, kept while annotations.yaml is unchanged."""
        if self.grouped[0] is not annotations:
            self.grouped = (annotations, annotations_by_article(annotations))
        return self.grouped[1]

    def _read_lock(self) -> dict:
        try:
            st = os.stat(self.config.source / drift.LOCK_FILE)
            key = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            key = None
        if key != self.lock_file[0]:
            self.lock_file = (key, drift.read_lock(self.config.source) if key else {})
        return self.lock_file[1]

    def _cached(self, relpath: str, by_article: dict, unchanged: bool) -> tuple[tuple, tuple | None]:
        """(the article's cache key, its cached resolution or None); `unchanged`: the file is
        known to be as it was, so its last stat stands."""
        entries = self.article_cache.get(relpath, ())
        if unchanged and entries and entries[0][0][0] is not None:
            key = entries[0][0][:2] + (self._annotations_of(relpath, by_article),)
        else:
            key = self._article_key(relpath, by_article)
        hit = next((entry for entry in entries if entry[0] == key), None)
        if hit is None:
            return key, None
        if hit is not entries[0]:
            self.article_cache[relpath] = (hit, entries[0])
        return key, hit[1]

    def _remember(self, relpath: str, key: tuple, outcome: tuple) -> None:
        """Cache a resolution; the one before stays too, so an annotation edit undone, or an
        annotations.yaml read half-saved and then whole, finds it again instead of resolving
        the article once more."""
        self.article_cache[relpath] = ((key, outcome),) + self.article_cache.get(relpath, ())[:1]

    def _article_key(self, relpath: str, by_article: dict) -> tuple:
        """What an article's resolution depends on: its file's stat, and its annotations."""
        try:
            st = os.stat(self.config.source / relpath)
        except OSError:
            return (None,)
        return (st.st_mtime_ns, st.st_size, self._annotations_of(relpath, by_article))

    @staticmethod
    def _annotations_of(relpath: str, by_article: dict) -> tuple:
        """The article's annotations: compared by identity (an unchanged item is the same
        object), else by value; the key holds them, so no id() is ever reused for another."""
        return tuple(by_article.get(relpath.rsplit("/", 1)[-1][:-3], ()))

    # ---- building -----------------------------------------------------------------------

    def build(self, changed: set[str] | None = None, defer: bool = False) -> BuildResult:
        """Rebuild after `changed` (paths relative to the source; None: anything may have).
        With `defer`, the pages that list the whole dossier and the data files are left for
        `finish`, which serve runs in the background so the next edit need not wait."""
        full = (changed is None or self.dossier is None
                or any(p.startswith("layouts/") or p.endswith("/") for p in changed))  # a template, or a folder
        if full:
            _ENVIRONMENTS.clear()  # templates may have been added, removed or overridden
        yaml_changed = changed is None or ANNOTATIONS_FILE in changed
        self.busy.set()
        try:
            return self._build(changed, defer, full, yaml_changed)
        finally:
            self.busy.clear()

    def _build(self, changed: set[str] | None, defer: bool, full: bool, yaml_changed: bool) -> BuildResult:
        previous, before = self.dossier, self.good_annotations  # what the pages on disk were made from
        # The output as the last build left it, to update; else (none yet, or deleted while
        # serving: no mark) it is written whole, as `build` writes it.
        fresh = previous is None or not marked(self.config.out)
        if yaml_changed or self.annotations is None:
            self.load_annotations()
        if not full and not fresh and before is not None:
            self._write_edited_first(previous, before, changed)
        if changed is None or any(p.endswith("/") for p in changed):
            self.unchecked = None  # look at every file
        elif self.unchecked is not None:
            self.unchecked |= changed
        dossier, diagnostics = self.check(self.unchecked)
        if dossier is None:
            return BuildResult(None, diagnostics)
        if not full and previous is not None and _structure_changed(previous, dossier):
            full = True
        try:
            guard_output(self.config.out, self.config.source)
            pages = plan_pages(dossier)
            self._checkpoint()
            defer = defer and not fresh
            others = (plan_outputs(dossier, pages) if defer else other_files(dossier, pages)).files
            if fresh:
                self.written.clear()
                with staging(self.config.out) as folder:
                    written = self._write(dossier, pages, True, folder)
                    written += sum(self._put(path, content, folder) for path, content in others.items())
            else:
                wanted = pages if full else _affected(previous, dossier, pages)
                if defer:
                    wanted = [page for page in wanted if not lists_the_dossier(page)]
                written = self._write(dossier, wanted, full, self.config.out)
                written += sum(self._put(path, content, self.config.out) for path, content in others.items())
                self._remove_stale({urls.output_path(page.url) for page in pages} | set(others) | set(publish.OUTPUTS))
        except TemplateProblem as problem:
            return BuildResult(None, diagnostics + [problem.diagnostic])
        except (OutputError, OSError) as exc:
            from .diagnostics import Location, error
            return BuildResult(None, diagnostics + [error(Location(str(self.config.out)), str(exc))])
        self.dossier, self.good_annotations = dossier, self.annotations
        self.generation += 1
        if not defer:
            drift.write_lock(self.config.source, dossier)
        return BuildResult(dossier, diagnostics, max(1, written))

    def finish(self) -> int:
        """Bring the list pages and the data files up to date with the last good build
        (the part `build(defer=True)` left); safe to run in another thread."""
        dossier, generation = self.dossier, self.generation
        if dossier is None:
            return 0
        pages = plan_pages(dossier)
        written = 0
        steps = [(page, None) for page in pages if lists_the_dossier(page)] + [(None, output) for output in publish.OUTPUTS]
        outputs = None
        for page, output in steps:
            while self.busy.is_set():  # a rebuild is running: let it have the processor
                time.sleep(0.01)
            if self.generation != generation or not marked(self.config.out):
                return written  # a newer build came (its own finish follows), or the output is gone
            if page is not None:
                for path, html in _render((dossier, layout_dirs(self.config)), [page]):
                    written += self._put(path, html)
            else:
                outputs = outputs or dict(publish.outputs(dossier, [p.url for p in pages]))
                written += self._put(output, outputs[output])
        drift.write_lock(self.config.source, dossier)
        return written

    def hand_off(self) -> None:
        """Before another process runs `finish`: forget what was written to the files it
        writes, so this process never skips one of them as unchanged."""
        lists = plan_pages(self.dossier) if self.dossier is not None else []
        handed = {urls.output_path(url) for url in LIST_PAGES} | set(publish.OUTPUTS) \
            | {urls.output_path(page.url) for page in lists if lists_the_dossier(page)}
        with self.lock:
            for path in handed:
                self.written.pop(path, None)

    def release_locks(self) -> None:
        """In a forked child: fresh locks, as the thread that held the old ones is not there."""
        self.lock = threading.Lock()
        self.busy = threading.Event()

    def _write_edited_first(self, previous: Dossier, before, changed: set[str]) -> None:
        """Put the edited articles' pages on disk before the rest of the rebuild, when they
        resolve cleanly on their own (the full check that follows may still refuse the build)."""
        annotations = self.annotations
        if any(d.level == "error" for d in self.annotation_problems) or annotations.entities != before.entities:
            return  # let the full check report it, or re-render everything
        slugs = {p.rsplit("/", 1)[-1][:-3] for p in changed if p.startswith(ARTICLES_DIR + "/")}
        if annotations is not before:  # annotations.yaml changed: the articles of the changed items
            new, old = annotations.annotations, before.annotations
            if len(new) == len(old):  # unchanged items are the very same objects, in the same places
                for a, b in zip(new, old):
                    if a is not b:
                        slugs.update((a.article, b.article))
            else:
                now, then = {id(a) for a in new}, {id(a) for a in old}
                slugs |= {a.article for a in new if id(a) not in then}
                slugs |= {a.article for a in old if id(a) not in now}
        if not slugs or len(slugs) > 8:
            return
        by_article: dict[str, list] = {slug: [] for slug in slugs}  # just these articles: a full grouping costs more
        for annotation in annotations.annotations:
            mine = by_article.get(annotation.article)
            if mine is not None:
                mine.append(annotation)
        shared = ArticleInputs(self.config.source, by_article, self.aliases, self.names)
        articles = dict(previous.articles)
        pages = []
        for slug in sorted(slugs):
            relpath = f"{ARTICLES_DIR}/{slug}.md"
            key, outcome = self._cached(relpath, by_article, False)
            if outcome is None:
                (outcome,) = prepare_articles(shared, [relpath])
                self._remember(relpath, key, outcome)  # the full check that follows finds it
            resolved, problems = outcome
            if resolved is None or any(d.level == "error" for d in problems) \
                    or resolved.article.source not in previous.sources:
                return
            articles[slug] = resolved
            pages.append(Page(urls.article(slug), "article.html", {"slug": slug}))
        provisional = dataclasses.replace(previous, articles=articles)
        try:
            written = sum(self._put(path, html) for path, html in _render((provisional, layout_dirs(self.config)), pages))
        except (TemplateProblem, KeyError):
            return
        if written and self.on_early_write is not None:
            self.on_early_write()

    def _write(self, dossier: Dossier, pages: list[Page], full: bool, out: Path) -> int:
        if full:
            copy_static([d / "static" for d in reversed(layout_dirs(self.config))], out)
        ordered = sorted(pages, key=lambda p: p.template != "article.html")  # the edited article first
        if len(ordered) >= 48:
            rendered = map_chunks(_render, ordered, (dossier, layout_dirs(self.config)))
        else:
            rendered = _render((dossier, layout_dirs(self.config)), ordered)
        return sum(self._put(path, html, out) for path, html in rendered)

    def _remove_stale(self, current: set[str]) -> None:
        """Delete the pages this session wrote that the site no longer has (a removed article)."""
        for path in sorted(set(self.written) - current):
            target = self.config.out / path
            target.unlink(missing_ok=True)
            del self.written[path]
            for folder in target.parents:
                if folder == self.config.out or any(folder.iterdir()):
                    break
                folder.rmdir()

    def _put(self, path: str, content: str | bytes, out: Path | None = None) -> int:
        """Write one file if its bytes changed, atomically (the browser never reads half)."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        target = (out or self.config.out) / path
        with self.lock:  # serve's background finisher writes too
            if self.written.get(path) == digest and target.exists():
                return 0
            _make_folders(out or self.config.out, target.parent)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
            self.written[path] = digest
        return 1


def _make_folders(out: Path, folder: Path) -> None:
    """Make `folder` and those between it and `out`, but never `out` itself: an output folder
    deleted while serving stays deleted until a build writes it whole again (FileNotFoundError)."""
    for made in reversed((folder, *folder.parents)[: len(folder.relative_to(out).parts)]):
        made.mkdir(exist_ok=True)


def _render(shared: tuple, pages: list[Page]) -> list[tuple[str, str]]:
    dossier, layouts = shared
    env = _environment(tuple(layouts))
    return [(urls.output_path(page.url), render_page(env, dossier, page)) for page in pages]


def _structure_changed(old: Dossier, new: Dossier) -> bool:
    """Whether something every page may show changed: site, sources, entities, references,
    claims, events or content pages. Then every page is re-rendered."""
    return (old.site != new.site or old.sources != new.sources or old.entities != new.entities
            or old.references != new.references or old.claims != new.claims or old.events != new.events
            or old.pages != new.pages or list(old.articles) != list(new.articles) or _layout_changed(old, new))


def _layout_changed(old: Dossier, new: Dossier) -> bool:
    """Whether a long list was split differently (listing.py): pages came or went, or an event,
    a reference or a correction moved to another part, so links on any page may change."""
    before, after = listing.layout(old), listing.layout(new)
    return (before.placed != after.placed or before.claims_split != after.claims_split
            or [p.url for p in plan_pages(old)] != [p.url for p in plan_pages(new)])


def _affected(old: Dossier, new: Dossier, pages: list[Page]) -> list[Page]:
    """The pages an edit of articles or annotations can change."""
    changed = {slug for slug, r in new.articles.items() if old.articles.get(slug) != r}
    changed |= {slug for slug in new.articles if _bottom_line(old, slug) != _bottom_line(new, slug)}
    entities, claims = set(), set()
    for d in (old, new):
        for slug in changed:
            resolved = d.articles.get(slug)
            if resolved is None:
                continue
            entities.update(m.entity for m in resolved.mentions)
            for anc in resolved.anchors:
                entities.update(anc.annotation.entities)
                if anc.annotation.claim:
                    claims.add(anc.annotation.claim)
    for claim in claims:  # each telling's article says how many other articles tell the claim
        tellers = [{a.annotation.article for a in d.index.anchors_by_claim.get(claim, [])} for d in (old, new)]
        if tellers[0] != tellers[1]:
            changed |= (tellers[0] | tellers[1]) & set(new.articles)
    wanted = set(LIST_PAGES) | {urls.article(s) for s in changed} | {urls.entity(e) for e in entities} \
        | {urls.claim(c) for c in claims}
    if figures(old) != figures(new):  # content pages may state them
        wanted |= {urls.page(slug) for slug in new.pages}
    return [page for page in pages if page.url in wanted or lists_the_dossier(page)  # with every part of a page
            or page.context.get("entity_id") in entities or page.context.get("claim_id") in claims]


def _bottom_line(d: Dossier, slug: str) -> tuple | None:
    """What an article page shows of its assessment (its place in annotations.yaml aside)."""
    assessment = d.assessments.get(slug)
    return (assessment.summary, assessment.updated) if assessment else None
