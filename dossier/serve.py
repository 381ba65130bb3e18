"""`serve`: build, serve the output on 127.0.0.1, rebuild when the dossier changes, reload
the browser as soon as the pages it shows are written, and keep serving the last good site
when a rebuild fails.

The HTTP side is Tornado with livereload's WebSocket handlers (the browser side is its
livereload.js, loaded as an external script so the pages' CSP needs no exception).
Changes are noticed with watchfiles (inotify and its kin); the edits of one save arrive as
one batch and make one rebuild, of only what they touch (incremental.Session). Each
mechanism below exists for one promise:

- **The server answers while a rebuild runs.** Rebuilds run one at a time in a thread of their
  own (`serve`'s builder); the IOLoop thread only serves files and talks to browsers.
- **A newer edit need not wait.** An edit saved during a rebuild sets the session's
  `superseded`: the rebuild stops once its edited pages are out, and the next one takes both
  edits (incremental.py says why nothing is lost).
- **The open page first.** Each browser says which page it shows (livereload.js's `info`
  command, kept by preview_app.BrowserSocket), so a rebuild writes those pages first and
  reloads each browser as soon as its own page is on disk: after a template edit, the open
  pages are on disk at once and the thousands of others follow in the background.
- **The heavy part never holds up the next edit.** The pages that list the whole dossier, the
  data files, the pages a template edit left stale and the search index are written by a
  forked child (BackgroundFinisher) after a quiet second (longer while edits come in a burst,
  which would stop it before it is done); the next rebuild stops it, so only
  the newest good build is ever finished, and no older one writes over it.
- **No pause for the garbage collector.** The server keeps millions of objects (the dossier,
  its caches); a full collection of them takes seconds, and Python starts one whenever the
  objects that survived collections since the last one reach a quarter of those that survived
  it — every few rebuilds. So the collector does not run while rebuilds follow one another;
  once no edit waits, what they left is collected (cheap: it is the only part of the heap the
  collector sees) and everything left is frozen (`gc.freeze`), so no collection walks the
  long-lived heap again. What a later rebuild drops is freed by reference counting, frozen or
  not; only a reference cycle would stay, and a rebuild leaves none (templates.py,
  parallel.py, confine.py, link.py and yamltree.py make none; tests/test_incremental.py and
  tests/test_serve.py hold a rebuild to that). The collection before each freeze is there for
  what a dossier's own templates may make. `DOSSIER_TIMINGS=1` logs every full collection
  and what the rebuilds left.
- **Only this machine's browsers may read the preview** (its `Host` checks, against DNS
  rebinding), and a file is read whole before it is sent: preview_app.py, the web side.
"""
from __future__ import annotations

import collections
import dataclasses
import gc
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from tornado import ioloop

from .incremental import Session, Superseded
from .interrupt import EXIT_TERMINATED, Terminated
from .render import TemplateProblem
from .search import index_site
from .preview_app import Showing, make_app, open_pages, reload_browsers
from .write import OutputError
from .site import Config

WATCHED = ("content/", "layouts/", "annotations.yaml")
FOLDERS = ("content", "layouts", "content/articles", "content/pages")
"""Folders whose own creation or removal counts as a change (a layouts/ added while serving)."""
STEP_MS = 30
"""After a change, wait this long for more before rebuilding: a save of several files is one
rebuild (watchfiles groups the events)."""


def watched(source: Path, path: str) -> str | None:
    """The path relative to the source if an edit there matters, else None."""
    try:
        relative = Path(path).resolve().relative_to(source.resolve()).as_posix()
    except ValueError:
        return None
    name = relative.rsplit("/", 1)[-1]
    if name.startswith(".") or name.endswith("~"):
        return None  # editors' swap and backup files
    if relative in FOLDERS:
        return relative + "/"
    if relative.startswith("content/"):
        return relative if name.endswith(".md") else None  # not the editors' temporary files
    return relative if relative.startswith(WATCHED) else None


class Rebuilder:
    """Rebuilds through an incremental Session after each burst of changes: the edited pages
    at once, then — in the background, so the next edit need not wait — the pages that list
    the whole dossier, the data files and the search index. `reload(showing)` reloads the
    browsers that `showing` picks; `open_pages()` is the pages they show."""

    def __init__(self, config: Config, reload: Callable[[Showing], None], log=print,
                 open_pages: Callable[[], set[str]] = set):
        self.session = Session(config)
        self.config = config
        self.reload = reload
        self.log = log
        self.builds = 0
        self.indexer = BackgroundFinisher(self.session, config, reload, log)
        self.reloaded: set[str] = set()
        """The pages whose browsers this rebuild has reloaded already."""
        self.session.on_early_write = self._early_write
        self.session.open_pages = open_pages

    def _early_write(self, pages: set[str]) -> None:
        """These pages are on disk: reload the browsers showing them now, not after the rest."""
        self.reloaded |= pages
        self.reload(lambda page: page in pages)

    def rebuild(self, changed: set[str] | None = None) -> bool | None:
        """Rebuild after `changed`; True if it succeeded, False if it failed, None if newer
        edits superseded it (then rebuild again with them and these)."""
        started = time.perf_counter()
        self.reloaded = set()
        self.session.busy.set()  # before the finish is stopped, so it cannot start again meanwhile
        self.indexer.cancel()  # the edited pages first; the lists and the index after
        try:
            result = self.session.build(changed, defer=True)
        except Superseded:
            return None
        except Exception as exc:  # a bug must not take the server down: say so, keep serving
            self.log(f"internal error while rebuilding: {type(exc).__name__}: {exc}; still serving the last good site")
            self.indexer.request()
            return False
        self.builds += 1
        for d in result.diagnostics:
            self.log(d.format())
        if result.ok:
            what = "everything" if changed is None else ", ".join(sorted(changed))
            behind = len(self.session.stale)
            self.log(f"rebuilt ({what}) in {(time.perf_counter() - started) * 1000:.0f} ms"
                     + (f"; {behind} more pages follow in the background" if behind else ""))
            later = set(self.session.stale)  # each browser once, when its page is on disk
            self.reload(lambda page: page not in self.reloaded and page not in later)
            self.indexer.request()
        else:
            self.log("rebuild failed; still serving the last good site")
            if self.session.dossier is not None:
                self.indexer.request()  # finish the last good build, which the failed one interrupted
        return result.ok


def settle_heap(log=print) -> None:
    """Once no edit waits: collect what the rebuilds since the last call left, freeze the rest,
    so no collection walks the long-lived heap again, and let the collector run until the next
    rebuild (see the module's docstring). The collection sees only what was made since the
    last freeze, so it costs what the rebuilds made, not the size of the dossier."""
    started = time.perf_counter()
    found = gc.collect()
    gc.freeze()
    gc.enable()
    if os.environ.get("DOSSIER_TIMINGS"):
        log(f"  heap: {found} unreachable objects collected in {(time.perf_counter() - started) * 1000:.0f} ms; "
            f"{gc.get_freeze_count()} frozen")


def log_collections(log) -> None:
    """Log every full collection and how long it paused the server (DOSSIER_TIMINGS)."""
    started = [0.0]

    def watch(phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            log(f"  gc: full collection, {info['collected']} unreachable objects, "
                f"{(time.perf_counter() - started[0]) * 1000:.0f} ms")
    gc.callbacks.append(watch)


class BackgroundFinisher:
    """Finishes each good rebuild in a forked child process: the list pages and data files
    (Session.finish), then the search index. A child has its own interpreter, so it never
    holds up the next rebuild in this one; and a rebuild that starts stops it (with Pagefind,
    its process group), so only the newest good build is ever finished, and no older one
    writes over it."""

    def __init__(self, session: Session, config: Config, reload: Callable[[Showing], None], log):
        self.session, self.config, self.reload, self.log = session, config, reload, log
        self.loop = ioloop.IOLoop.current()
        self.wanted = threading.Event()
        self.child: int | None = None
        self.guard = threading.Lock()
        self.requested: collections.deque[float] = collections.deque(maxlen=6)
        """When the last rebuilds asked for a finish (their rhythm sets `quiet`)."""
        threading.Thread(target=self._loop, daemon=True).start()

    def request(self) -> None:
        """Finish the last good build (after stopping any finish still running)."""
        self.cancel()
        self.requested.append(time.monotonic())
        self.wanted.set()

    def quiet(self) -> float:
        """How long to wait without a rebuild before finishing: QUIET, or, while edits come
        in a burst (a save every few seconds), a little longer than the time between them.
        A finish that the next edit stops did nothing but slow that edit down (the fork, then
        the copies of every page of memory either process writes, and the processor)."""
        times = list(self.requested)  # a copy: rebuilds append to it from their own thread
        gaps = sorted(b - a for a, b in zip(times, times[1:]))
        rhythm = gaps[len(gaps) // 2] if gaps else BURST
        return QUIET if rhythm >= BURST else min(BURST, max(QUIET, 1.5 * rhythm))

    def cancel(self) -> None:
        """Stop the running finish, if any: a rebuild is about to change the output."""
        with self.guard:
            self.wanted.clear()
            if self.child is not None:
                try:
                    os.killpg(self.child, signal.SIGKILL)
                except OSError:
                    pass  # it has just ended

    def _loop(self) -> None:
        while True:
            self.wanted.wait()
            # Wait for a quiet spell: forking a large process slows it down for a while (its
            # memory is copied as it writes to it), so not in the middle of a burst of edits.
            while True:
                self.wanted.clear()
                if self.session.busy.is_set():
                    self.wanted.wait()  # the rebuild under way asks again when it is done
                elif not self.wanted.wait(self.quiet()):
                    break
            with self.guard:
                if self.session.busy.is_set():
                    continue  # a rebuild began meanwhile: it asks again when it is done
                handed, epoch = self.session.hand_off()  # the child writes those files now
                pid = os.fork()
                if pid == 0:
                    self._child()
                try:
                    os.setpgid(pid, pid)  # also done by the child: whichever runs first
                except OSError:
                    pass
                self.child = pid
            _, status = os.waitpid(pid, 0)
            with self.guard:
                self.child = None
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
            if code in (WROTE, UNCHANGED):
                self.session.finished(handed, epoch)
            if code == WROTE:
                self.reload(lambda page: page is None or page in handed)  # the pages it wrote
            elif code not in (UNCHANGED, REPORTED, None):
                self.loop.add_callback(self.log, "background update failed; the list pages and data files may be behind")

    def _child(self) -> None:
        """In the forked child: finish, index, exit — never return into the server's code."""
        code = FAILED
        try:
            os.setpgid(0, 0)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server; it stops us
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the server's handler: end quietly
            self.session.release_locks()  # another thread may have held them at the fork
            written = self.session.finish()
            if self.config.search:
                index_site(self.config.out)
            code = WROTE if written else UNCHANGED
        except OutputError as exc:
            os.write(2, f"search index not updated: {exc}\n".encode())
            code = UNCHANGED
        except TemplateProblem as problem:  # in a page a template edit left for later
            os.write(2, f"{problem.diagnostic.format()}\nrebuild failed; the pages not rewritten yet still show "
                        f"the last good templates\n".encode())
            code = REPORTED
        except BaseException as exc:  # keep the server serving whatever happens here
            os.write(2, f"background update failed: {type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(code)


QUIET = 1.0
"""Seconds without a rebuild before the background finish starts (at least)."""
BURST = 4.0
"""Edits less than this many seconds apart (the median of the last few) are a burst: the
finish then waits 1.5 times their rhythm, at most this long."""
WROTE, UNCHANGED, FAILED, REPORTED = 0, 3, 1, 4
"""Exit codes of a finishing child (REPORTED: it failed, and said why)."""


def watch(source: Path, notify: Callable[[set[str]], None], stop: threading.Event) -> None:
    """Call `notify(changed paths)` from a background thread after each burst of edits."""
    import watchfiles
    for changes in watchfiles.watch(source, step=STEP_MS, debounce=400, stop_event=stop,
                                    watch_filter=lambda _, path: watched(source, path) is not None):
        relevant = {r for r in (watched(source, path) for _, path in changes) if r}
        if relevant:
            notify(relevant)


def serve(config: Config, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Serve until interrupted; returns the exit code."""
    config = dataclasses.replace(config, base_url=f"http://{host}:{port}/")
    log = _printer()
    loop = ioloop.IOLoop.current()
    stop = threading.Event()
    pending: set[str] = set()
    wake = threading.Condition()
    if os.environ.get("DOSSIER_TIMINGS"):
        log_collections(log)
    rebuilder = Rebuilder(config, lambda showing: loop.add_callback(reload_browsers, showing), log, open_pages)

    def changed(paths: set[str]) -> None:  # from the watcher's thread
        with wake:
            pending.update(paths)
            rebuilder.session.superseded.set()  # a rebuild under way stops once its edited pages are out
            wake.notify()

    def builder() -> None:
        """Rebuild after each burst of edits, one build at a time, off the IOLoop (which
        keeps serving pages and reloading browsers meanwhile). The collector is held off
        while rebuilds follow one another, and the heap settled (settle_heap) as soon as no
        edit waits: right after the browsers reloaded, while the next edit is being written."""
        while True:
            with wake:
                settle = not pending and not gc.isenabled()
            if settle:
                settle_heap(log)
            with wake:
                while not pending:
                    wake.wait()
                batch = set(pending)
                pending.clear()
                rebuilder.session.superseded.clear()
            gc.disable()
            if rebuilder.rebuild(batch) is None:  # superseded: redo its edits with the newer ones
                with wake:
                    pending.update(batch)

    # Watch before the first build, so an edit saved while it runs is not lost.
    thread = threading.Thread(target=watch, args=(config.source, changed, stop), daemon=True)
    thread.start()
    gc.disable()
    rebuilder.rebuild()
    settle_heap(log)
    threading.Thread(target=builder, daemon=True).start()
    config.out.mkdir(parents=True, exist_ok=True)
    app = make_app(config.out, host, port, lambda: rebuilder.session.dossier)
    try:
        app.listen(port, address=host)
    except OSError as exc:
        stop.set()
        print(f"error: cannot listen on {host}:{port}: {exc.strerror} (try --port with another number)", file=sys.stderr)
        return 1
    log(f"serving {config.out} on http://{host}:{port}/ — press Ctrl-C to stop")
    try:
        loop.start()
    except KeyboardInterrupt as interrupt:
        log("stopped")
        return EXIT_TERMINATED if isinstance(interrupt, Terminated) else 0
    finally:
        stop.set()
        rebuilder.indexer.cancel()  # a background finish still running ends with the server
    return 0


def _printer():
    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)
    return log
