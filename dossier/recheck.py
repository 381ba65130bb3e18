"""Checking a served dossier again after an edit, from caches: the checking half of
incremental.Session (the other half decides what to write).

It keeps, across rebuilds, annotations.yaml's items by their text (re-checked only when it
changes; load.read_annotations reads the file only once the editor has finished writing it:
on Linux, a read lease tells that no process has it open for writing), each article's
resolution by its file's stat and its annotations — the one before too, so an edit undone,
or a half-saved annotations.yaml then the whole one, finds it again — and annotations.lock
by its stat. Errors in annotations.yaml are reported before any article is looked at again.
A check after the first stops when `superseded` is set (serve sets it when newer edits wait),
raising Superseded: the next build redoes what it did not do. It stops between two steps,
and during the long whole-dossier steps too: they run on a thread of their own, which is
stopped then (`_stage`), so a newer edit never waits for one of them, nor shares the
processor with it.
"""
from __future__ import annotations

import dataclasses
import os
import threading
import time
from typing import Callable, TypeVar

from . import drift
from .diagnostics import Diagnostic, has_errors, sort_diagnostics
from .interrupt import stop_thread
from .load import ANNOTATIONS_FILE, ARTICLES_DIR, list_markdown, read_annotations
from .model import Dossier, Inputs
from .parallel import map_chunks
from .resolve import alias_index, annotations_by_article, assemble
from .site import ArticleInputs, Config, load_pages, prepare_articles
from .validate import cross_check, validate_annotations


T = TypeVar("T")


class Superseded(Exception):
    """An incremental build stopped at a safe point because newer edits wait (see Rechecker.superseded)."""


class Abandoned(Exception):
    """Raised in the thread of a step whose build was superseded (Rechecker._stage), to end it."""


class Rechecker:
    """A dossier's caches for checking it again, and the last good build (`dossier`)."""

    def __init__(self, config: Config):
        self.config = config
        self.yaml_cache: dict = {}
        self.item_cache: dict = {}
        self.article_cache: dict[str, tuple] = {}
        """relpath → ((key, resolution), and the one before it); see check()."""
        self.dossier: Dossier | None = None
        """The last good build."""
        self.annotations = None
        self.unchecked: set[str] | None = None
        """Files edited since the article cache was last brought up to date; None: any may be."""
        self.annotation_problems: list[Diagnostic] = []
        self.yaml_key: tuple | None = None
        """annotations.yaml's stat when it was last read, if it did not change while it was."""
        self.aliases_key = None
        self.grouped: tuple = (None, {})
        """(annotations, their annotations_by_article), for the annotations last loaded."""
        self.lock_file: tuple = (None, {})
        """(stat key, contents) of annotations.lock, read again only when the file changes."""
        self.superseded = threading.Event()
        """Set (by serve) when newer edits wait: a build after the first then stops at its next
        safe point, once the edited pages are written, raising Superseded. What it did not do
        the next build does, as it compares its result with the last build that finished."""

    def load_annotations(self) -> None:
        """Re-read annotations.yaml, re-checking only the items whose text changed; not at all
        when the file is as it was when last read (a build that newer edits stopped read it
        already: 40 MB at 10,000 articles, a tenth of a second to read and decode)."""
        config = self.config
        before = _stat_key(config.source / ANNOTATIONS_FILE)
        if before is not None and before == self.yaml_key and self.annotations is not None:
            return
        self.yaml_key = None
        settled = before is not None and time.time_ns() - before[0] > RACY_NS
        doc, problems = read_annotations(config.source, self.yaml_cache)
        after = _stat_key(config.source / ANNOTATIONS_FILE)
        annotations = validate_annotations(doc, problems, self.item_cache)
        if config.base_url:
            annotations = dataclasses.replace(
                annotations, site=dataclasses.replace(annotations.site, base_url=config.base_url.rstrip("/") + "/"))
        self.annotations, self.annotation_problems = annotations, problems
        self.yaml_ok = doc is not None and isinstance(doc.value, dict)
        self.yaml_key = before if settled and before == after else None

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
            diagnostics += self._stage(cross_check, inputs)
        dossier, problems = self._stage(assemble, inputs, resolved)
        problems += self._stage(drift.compare, self._read_lock(), dossier)
        diagnostics = sort_diagnostics(diagnostics + problems)
        return (None if has_errors(diagnostics, config.strict) else dossier), diagnostics

    def _checkpoint(self) -> None:
        if self.superseded.is_set() and self.dossier is not None:  # never the first build
            raise Superseded

    def _stage(self, function: Callable[..., T], *args) -> T:
        """`function(*args)`, a whole-dossier step of the build that cannot stop half-way on its
        own (cross_check, assemble, drift.compare, the list layout: up to a second each at
        10,000 articles). When newer edits may supersede this build, it runs on a thread of its
        own, which is stopped as soon as they wait: an exception raised in it between two of
        its bytecodes (the steps are pure, so nothing is left half-changed), so the next build
        never shares the processor with one nobody waits for."""
        self._checkpoint()
        if self.dossier is None:  # the first build: nothing supersedes it
            return function(*args)
        outcome: list = []
        done = threading.Event()

        def run() -> None:
            try:
                try:
                    outcome.append((True, function(*args)))
                except Abandoned:
                    pass  # nobody waits for it (and kept, it would hold this frame: a cycle)
                except BaseException as exc:  # handed to the build, which raises it
                    outcome.append((False, exc))
                finally:
                    done.set()
            except Abandoned:
                pass  # stopped just as it ended
        thread = threading.Thread(target=run, name=f"check: {function.__name__}", daemon=True)
        thread.start()
        try:
            while not done.wait(0.005):
                self._checkpoint()
        except Superseded:
            stop_thread(thread, Abandoned)
            raise
        ok, value = outcome[0]
        if not ok:
            raise value
        return value

    def _by_article(self, annotations) -> dict:
        """annotations_by_article, kept while annotations.yaml is unchanged."""
        if self.grouped[0] is not annotations:
            self.grouped = (annotations, annotations_by_article(annotations))
        return self.grouped[1]

    def _read_lock(self) -> dict:
        key = _stat_key(self.config.source / drift.LOCK_FILE)
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


RACY_NS = 100_000_000
"""A file changed less than this long before it was read may change again with the same
stat (file times advance by the kernel's clock tick): read it again next time (as git does)."""


def _stat_key(path) -> tuple | None:
    """What tells a file's versions apart without reading it (None: it cannot be stat'ed)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
