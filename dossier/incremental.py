"""Rebuilds for `serve`: keep the last build in memory and redo only what an edit touches.

What a `Session` guarantees, and the mechanism behind each promise:

- **The same bytes as a cold build.** After any series of edits, once `finish` has run, the
  output is what `build` writes for the same files (tests/test_incremental.py holds it to
  that). Pages are re-rendered when they can depend on what changed (touched.py: the edited
  articles, the entities they mention, their claims, the index pages; everything after an
  entity or site edit) and a file is written only when its bytes changed (`written` keeps
  each file's digest); a page the site no longer has is deleted.
- **Caches, so an edit costs what it touches.** The checking half (recheck.py) keeps
  annotations.yaml's items, each article's resolution and the lock file across rebuilds.
- **The edited pages first.** Before the whole dossier is checked, an edited article's page is
  resolved on its own and written (`on_early_write`), so the browser reloads at once; the full
  check that follows may still refuse the build, which then changes nothing else.
- **A newer edit need not wait.** serve sets `superseded` when newer edits wait; a build after
  the first then stops at its next safe point, once its edited pages are out, raising
  Superseded. Nothing is lost: the next build compares with the last build that finished,
  not with the one that stopped.
- **Heavy work is deferred, and only the newest build's is done.** `build(defer=True)` leaves
  the pages that list the whole dossier and the data files, and after a template edit every
  page no browser shows (`stale`), to `finish`, which serve runs in a forked child (serve.py's
  BackgroundFinisher). `busy` is set while a build runs, so a finish in a thread yields the
  processor; `generation` counts good builds, so a finish for an older one stops; `hand_off`
  forgets the digests of the files a child will write, so this process never skips one of them
  as unchanged, and `epoch` (bumped by every build) tells whether the child's work still
  counts when it ends. `lock` guards `written` and `stale` against the finisher's thread.
- **When every page changes, the open ones first.** After a template edit, an entity edit or
  any edit that every page may show, only the pages the browsers show (`open_pages`, which
  serve learns from livereload) and those the edit touches as an article or annotation edit
  would are written by the build; every other page is left `stale` for `finish` (a page the
  site no longer has is still deleted at once). A template does not change the dossier:
  after an edit of layouts/ alone, following a good build, nothing is checked again
  (`_rebuild_templates`); templates saved with content are checked in full, but the open
  pages and the edited articles' pages are written first, with the new templates. A build
  stopped by newer edits leaves the pages it wrote stale too: they show a dossier no build
  finished with.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Callable

from . import drift, listing, publish, urls
from .coverage import figures
from .diagnostics import Diagnostic, Location, error
from .load import ANNOTATIONS_FILE, ARTICLES_DIR
from .model import Dossier
from .parallel import MIN_PARALLEL, map_chunks
from .recheck import Rechecker, Superseded
from .render import Page, TemplateProblem, lists_the_dossier, plan_pages, render_page
from .site import ArticleInputs, BuildResult, Config, layout_dirs, other_files, plan_outputs, prepare_articles
from .templates import environment, forget_environments
from .touched import LIST_PAGES, affected_pages, structure_changed
from .write import OutputError, copy_static, guard_output, marked, staging

__all__ = ["Session", "Superseded"]


class Session(Rechecker):
    """One dossier being served: its caches (Rechecker) and its last good build."""

    def __init__(self, config: Config):
        super().__init__(config)
        self.written: dict[str, str] = {}
        """Output path → digest of the bytes last written there ("": unknown, write it again)."""
        self.good_annotations = None
        """The annotations of the last good build."""
        self.lock = threading.Lock()
        self.generation = 0
        """Counts good builds: a background `finish` for an older one stops early."""
        self.busy = threading.Event()
        """Set while a build runs: the background `finish` waits, leaving it the processor."""
        self.on_early_write: Callable[[set[str]], None] | None = None
        """Called with their URLs once the edited articles' pages (or, after a template edit,
        the open pages) are on disk, before the rest of a rebuild."""
        self.open_pages: Callable[[], set[str]] = set
        """The URLs of the pages the browsers show (set by serve): written first."""
        self.stale: set[str] = set()
        """URLs of pages on disk that may differ from what the last good build and the
        templates make (left so by a template or entity edit, or by a build stopped half-way):
        written by `finish`, or by the next build that renders them."""
        self.epoch = 0
        """Counts builds started: a finish handed off before the last one no longer counts."""
        self.current = False
        """Whether the last good build is what the dossier's files say now (the templates aside)."""
        self.diagnostics: list[Diagnostic] = []
        """The warnings of the last good build."""
        self.figured: tuple = (None, {})
        """(dossier, its coverage.figures), for the newest dossier they were needed for."""
        self.laid_out: tuple = (None, None)
        """(the last good build's dossier, its list layout), for the edited pages written first:
        listing's cache of a few layouts loses it to the builds that newer edits stop."""

    # ---- building -----------------------------------------------------------------------

    def build(self, changed: set[str] | None = None, defer: bool = False) -> BuildResult:
        """Rebuild after `changed` (paths relative to the source; None: anything may have).
        With `defer`, the pages that list the whole dossier and the data files (and, after an
        edit every page may show, the pages no browser shows and the edit does not touch) are
        left for `finish`, which serve runs in the background so the next edit need not wait."""
        templates_only = bool(changed) and all(p.startswith("layouts/") for p in changed)
        full = (changed is None or self.dossier is None
                or any(p.startswith("layouts/") or p.endswith("/") for p in changed))  # a template, or a folder
        if full:
            forget_environments()  # templates may have been added, removed or overridden
        yaml_changed = changed is None or ANNOTATIONS_FILE in changed
        self.busy.set()
        try:
            with self.lock:
                self.epoch += 1
            if templates_only and defer and self.current and marked(self.config.out):
                return self._rebuild_templates()
            self.current = False  # until this build is good
            return self._build(changed, defer, full, yaml_changed)
        finally:
            self.busy.clear()

    def _rebuild_templates(self) -> BuildResult:
        """After an edit of layouts/ alone: the dossier is as the last good build left it, only
        its pages change. The open pages are written now, every other one is left stale."""
        dossier = self.dossier
        pages = plan_pages(dossier)
        showing = self.open_pages()
        first = [page for page in pages if page.url in showing]
        try:
            copy_static([d / "static" for d in reversed(layout_dirs(self.config))], self.config.out)
            written = self._write(dossier, first, False, self.config.out)
        except TemplateProblem as problem:
            return BuildResult(None, self.diagnostics + [problem.diagnostic])
        except (OutputError, OSError) as exc:
            return BuildResult(None, self.diagnostics + [error(Location(str(self.config.out)), str(exc))])
        with self.lock:
            self.stale = {page.url for page in pages} - showing
            self.generation += 1
        if first and self.on_early_write is not None:
            self.on_early_write({page.url for page in first})
        return BuildResult(dossier, self.diagnostics, max(1, written))

    def _build(self, changed: set[str] | None, defer: bool, full: bool, yaml_changed: bool) -> BuildResult:
        previous, before = self.dossier, self.good_annotations  # what the pages on disk were made from
        # The output as the last build left it, to update; else (none yet, or deleted while
        # serving: no mark) it is written whole, as `build` writes it.
        fresh = previous is None or not marked(self.config.out)
        if yaml_changed or self.annotations is None:
            self.load_annotations()
        folders = changed is None or any(p.endswith("/") and not p.startswith("layouts/") for p in changed)
        if not fresh and not folders and before is not None:  # (full, then, means templates changed too)
            self._write_edited_first(previous, before, changed, self.open_pages() if full else set())
        if folders:
            self.unchecked = None  # look at every file
        elif self.unchecked is not None:
            self.unchecked |= {p for p in changed if not p.startswith("layouts/")}
        dossier, diagnostics = self.check(self.unchecked)
        if dossier is None:
            return BuildResult(None, diagnostics)
        if not full and previous is not None and self._stage(structure_changed, previous, dossier):
            full = True
        try:
            guard_output(self.config.out, self.config.source)
            pages = plan_pages(dossier)
            self._checkpoint()
            defer = defer and not fresh
            others = (plan_outputs(dossier, pages) if defer else other_files(dossier, pages)).files
            if fresh:
                with self.lock:
                    self.written.clear()
                    self.stale.clear()
                with staging(self.config.out) as folder:
                    written = self._write(dossier, pages, True, folder)
                    written += sum(self._put(path, content, folder) for path, content in others.items())
            else:
                touched_pages = affected_pages(previous, dossier, pages, self._figures(previous) != self._figures(dossier))
                wanted = pages if full else touched_pages
                if defer:
                    wanted = [page for page in wanted if not lists_the_dossier(page)]
                if defer and full:  # every page may change: those the edit touches and the open ones now
                    now = self.open_pages() | {page.url for page in touched_pages}
                    with self.lock:
                        self.stale |= {page.url for page in wanted if page.url not in now}
                    wanted = [page for page in wanted if page.url in now]
                written = self._write(dossier, wanted, full, self.config.out, stoppable=True)
                written += sum(self._put(path, content, self.config.out) for path, content in others.items())
                self._remove_stale({urls.output_path(page.url) for page in pages} | set(others) | set(publish.OUTPUTS))
        except TemplateProblem as problem:
            return BuildResult(None, diagnostics + [problem.diagnostic])
        except (OutputError, OSError) as exc:
            return BuildResult(None, diagnostics + [error(Location(str(self.config.out)), str(exc))])
        with self.lock:
            self.dossier, self.good_annotations = dossier, self.annotations
            self.generation += 1
        self.current, self.diagnostics = True, diagnostics
        if not defer:
            drift.write_lock(self.config.source, dossier)
        return BuildResult(dossier, diagnostics, max(1, written))

    def _figures(self, dossier: Dossier) -> dict[str, str]:
        """coverage.figures of the dossier, kept for the newest one: the next build's previous."""
        if self.figured[0] is not dossier:
            self.figured = (dossier, figures(dossier))
        return self.figured[1]

    def finish(self) -> int:
        """Bring the pages left stale, the list pages and the data files up to date with the last
        good build (the part `build(defer=True)` left); safe to run in another thread."""
        dossier, generation = self.dossier, self.generation
        if dossier is None:
            return 0
        pages = plan_pages(dossier)
        with self.lock:
            behind = [page for page in pages if page.url in self.stale and not lists_the_dossier(page)]
        written = self._write(dossier, behind, False, self.config.out) if behind else 0
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
        with self.lock:
            if self.generation == generation:
                self.stale.clear()
        drift.write_lock(self.config.source, dossier)
        return written

    def hand_off(self) -> tuple[set[str], int]:
        """Before another process runs `finish`: forget what was written to the files it
        writes, so this process never skips one of them as unchanged. Returns the URLs of
        the pages it will write, and the epoch to give `finished`."""
        lists = plan_pages(self.dossier) if self.dossier is not None else []
        with self.lock:
            handed = self.stale | set(LIST_PAGES) | {page.url for page in lists if lists_the_dossier(page)}
            for path in {urls.output_path(url) for url in handed} | set(publish.OUTPUTS):
                self.written[path] = ""  # still ours to delete if the page goes, but never "unchanged"
            return handed, self.epoch

    def finished(self, handed: set[str], epoch: int) -> None:
        """Another process's `finish` wrote the pages `handed`: they are no longer stale, unless
        a build started since (which may have made them stale again)."""
        with self.lock:
            if self.epoch == epoch:
                self.stale -= handed

    def release_locks(self) -> None:
        """In a forked child: fresh locks, as the thread that held the old ones is not there."""
        self.lock = threading.Lock()
        self.busy = threading.Event()

    def _write_edited_first(self, previous: Dossier, before, changed: set[str], showing: set[str]) -> None:
        """Put the edited articles' pages (and the pages `showing`, when templates changed too)
        on disk before the rest of the rebuild, when they resolve cleanly on their own (the
        full check that follows may still refuse the build)."""
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
        if not (slugs or showing) or len(slugs) > 8:
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
        if self.laid_out[0] is not previous:
            self.laid_out = (previous, listing.layout(previous))
        listing.lend_layout(provisional, self.laid_out[1])
        if showing:
            pages += [page for page in plan_pages(provisional) if page.url in showing and page not in pages]
        try:
            written = self._write(provisional, pages, False, self.config.out)
        except (TemplateProblem, KeyError):
            return
        if written and self.on_early_write is not None:
            self.on_early_write({page.url for page in pages})

    def _write(self, dossier: Dossier, pages: list[Page], full: bool, out: Path, stoppable: bool = False) -> int:
        """Render `pages` and write those whose bytes changed (on every core when there are
        many), the open ones first, then the articles; they are no longer stale. When
        `stoppable`, newer edits stop it between two pages (Superseded): the pages it wrote
        are then stale, as they show a dossier no build finished with."""
        if full:
            copy_static([d / "static" for d in reversed(layout_dirs(self.config))], out)
        showing = self.open_pages()
        ordered = sorted(pages, key=lambda p: (p.url not in showing, p.template != "article.html"))
        if len(ordered) < MIN_PARALLEL:
            written, done = 0, set()
            for page in ordered:
                if stoppable and self.superseded.is_set():
                    with self.lock:
                        self.stale |= done
                    raise Superseded
                written += sum(self._put(path, html, out) for path, html in _render((dossier, layout_dirs(self.config)), [page]))
                done.add(page.url)
        else:
            with self.lock:
                known = dict(self.written)
            try:  # the workers write the pages themselves: only the digests come back
                done = map_chunks(_render_and_write, ordered, (dossier, layout_dirs(self.config), out, known))
            except BaseException:
                with self.lock:  # some may be written: none of them can be taken as unchanged now
                    for page in ordered:
                        self.written[urls.output_path(page.url)] = ""
                raise
            with self.lock:
                self.written.update(done)
            written = len(done)
        with self.lock:
            self.stale -= {page.url for page in pages}
        return written

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
        digest = _digest(data)
        out = out or self.config.out
        with self.lock:  # serve's background finisher writes too
            if self.written.get(path) == digest and (out / path).exists():
                return 0
            _write_file(out, path, data)
            self.written[path] = digest
        return 1


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _write_file(out: Path, path: str, data: bytes) -> None:
    """Replace out/path with `data` atomically: a temporary file beside it, renamed over it."""
    target = out / path
    _make_folders(out, target.parent)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def _make_folders(out: Path, folder: Path) -> None:
    """Make `folder` and those between it and `out`, but never `out` itself: an output folder
    deleted while serving stays deleted until a build writes it whole again (FileNotFoundError)."""
    for made in reversed((folder, *folder.parents)[: len(folder.relative_to(out).parts)]):
        made.mkdir(exist_ok=True)


def _render(shared: tuple, pages: list[Page]) -> list[tuple[str, str]]:
    dossier, layouts = shared
    env = environment(tuple(layouts))
    return [(urls.output_path(page.url), render_page(env, dossier, page)) for page in pages]


def _render_and_write(shared: tuple, pages: list[Page]) -> list[tuple[str, str]]:
    """In a worker: render and write each page whose bytes differ from what `known` says is
    on disk; (path, digest) of each one written."""
    dossier, layouts, out, known = shared
    env = environment(tuple(layouts))
    done = []
    for page in pages:
        path = urls.output_path(page.url)
        data = render_page(env, dossier, page).encode("utf-8")
        digest = _digest(data)
        if known.get(path) != digest or not (out / path).exists():
            _write_file(out, path, data)
            done.append((path, digest))
    return done
