"""`serve`: build, serve the output on 127.0.0.1, rebuild when the dossier changes, reload
the browser as soon as the edited pages are written, and keep serving the last good site
when a rebuild fails. Rebuilds run one at a time in their own thread, so the server answers
while they run; an edit saved during a rebuild stops it once its edited pages are out, and
the next rebuild takes both edits.

The HTTP side is Tornado with livereload's WebSocket handlers (the browser side is its
livereload.js, loaded as an external script so the pages' CSP needs no exception).
Changes are noticed with watchfiles (inotify and its kin); the edits of one save arrive as
one batch and make one rebuild, of only what they touch (incremental.Session).

Only this machine's browsers may read the preview: a request is answered only when its
`Host` names the address the server listens on, or localhost, 127.0.0.1 or [::1], with its
port (see PreviewApp). Otherwise a page on any web site could point a name of its own at
127.0.0.1 (DNS rebinding) and read the preview and its live-reload socket as its own.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Callable
from urllib.parse import urlsplit

from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from tornado import ioloop, web

from . import preview
from .incremental import Session, Superseded
from .interrupt import EXIT_TERMINATED, Terminated
from .search import index_site
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
    the whole dossier, the data files and the search index."""

    def __init__(self, config: Config, on_success: Callable[[], None], log=print):
        self.session = Session(config)
        self.config = config
        self.on_success = on_success
        self.log = log
        self.builds = 0
        self.indexer = BackgroundFinisher(self.session, config, on_success, log)
        self.reloaded = False
        self.session.on_early_write = self._early_write

    def _early_write(self) -> None:
        """The edited article is on disk: reload the browsers now, not after the whole check."""
        self.reloaded = True
        self.on_success()

    def rebuild(self, changed: set[str] | None = None) -> bool | None:
        """Rebuild after `changed`; True if it succeeded, False if it failed, None if newer
        edits superseded it (then rebuild again with them and these)."""
        started = time.perf_counter()
        self.reloaded = False
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
            self.log(f"rebuilt ({what}) in {(time.perf_counter() - started) * 1000:.0f} ms")
            if not self.reloaded:
                self.on_success()
            self.indexer.request()
        else:
            self.log("rebuild failed; still serving the last good site")
            if self.session.dossier is not None:
                self.indexer.request()  # finish the last good build, which the failed one interrupted
        return result.ok


class BackgroundFinisher:
    """Finishes each good rebuild in a forked child process: the list pages and data files
    (Session.finish), then the search index. A child has its own interpreter, so it never
    holds up the next rebuild in this one; and a rebuild that starts stops it (with Pagefind,
    its process group), so only the newest good build is ever finished, and no older one
    writes over it."""

    def __init__(self, session: Session, config: Config, on_done: Callable[[], None], log):
        self.session, self.config, self.on_done, self.log = session, config, on_done, log
        self.loop = ioloop.IOLoop.current()
        self.wanted = threading.Event()
        self.child: int | None = None
        self.guard = threading.Lock()
        threading.Thread(target=self._loop, daemon=True).start()

    def request(self) -> None:
        """Finish the last good build (after stopping any finish still running)."""
        self.cancel()
        self.wanted.set()

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
                elif not self.wanted.wait(QUIET):
                    break
            with self.guard:
                if self.session.busy.is_set():
                    continue  # a rebuild began meanwhile: it asks again when it is done
                self.session.hand_off()  # the child writes those files now
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
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == WROTE:
                self.loop.add_callback(self.on_done)  # reload pages that list the dossier
            elif os.WIFEXITED(status) and os.WEXITSTATUS(status) not in (WROTE, UNCHANGED):
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
        except BaseException as exc:  # keep the server serving whatever happens here
            os.write(2, f"background update failed: {type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(code)


QUIET = 1.0
"""Seconds without a rebuild before the background finish starts."""
WROTE, UNCHANGED, FAILED = 0, 3, 1
"""Exit codes of a finishing child."""


def watch(source: Path, notify: Callable[[set[str]], None], stop: threading.Event) -> None:
    """Call `notify(changed paths)` from a background thread after each burst of edits."""
    import watchfiles
    for changes in watchfiles.watch(source, step=STEP_MS, debounce=400, stop_event=stop,
                                    watch_filter=lambda _, path: watched(source, path) is not None):
        relevant = {r for r in (watched(source, path) for _, path in changes) if r}
        if relevant:
            notify(relevant)


class SiteHandler(web.StaticFileHandler):
    """Static files from the output folder, never outside it; 404.html for what is missing.
    Each file is read once, whole: a rebuild may replace it while it is being sent."""

    snapshot = b""

    def parse_url_path(self, url_path: str) -> str:
        if "\x00" in url_path:  # a NUL byte can name no file; refuse it before any lookup
            raise web.HTTPError(400)
        return super().parse_url_path(url_path)

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        path = super().validate_absolute_path(root, absolute_path)
        if path is not None:
            try:
                self.snapshot = Path(path).read_bytes()
            except OSError:  # replaced or removed just now
                raise web.HTTPError(404)
        return path

    def get_content_size(self) -> int:
        return len(self.snapshot)

    def get_content(self, abspath: str, start: int | None = None, end: int | None = None) -> bytes:
        return self.snapshot[start:end]

    def compute_etag(self) -> None:
        return None  # nothing is cached (no-store)

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-store")

    def write_error(self, status_code: int, **kwargs) -> None:
        page = Path(self.root) / "404.html"
        if status_code == 404 and page.is_file():
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(_inject(page.read_bytes(), self.request.host))
        else:
            self.finish(f"{status_code} {self._reason}")

    def should_return_304(self) -> bool:
        return False


class _LiveScript(web.OutputTransform):
    """Adds livereload.js to every HTML page, as an external script."""

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        if "html" in headers.get("Content-Type", "") and b"</head>" in chunk:
            injected = _inject(chunk, self.request.host if hasattr(self, "request") else "")
            if "Content-Length" in headers:  # the first chunk may be only part of the page
                headers["Content-Length"] = str(int(headers["Content-Length"]) + len(injected) - len(chunk))
            chunk = injected
        return status_code, headers, chunk

    def __init__(self, request):
        super().__init__(request)
        self.request = request


def _inject(page: bytes, host: str) -> bytes:
    port = host.rsplit(":", 1)[-1] if ":" in host else "80"
    script = f'<script src="/livereload.js?port={port}"></script>'.encode()
    return page.replace(b"</head>", script + preview.SCRIPT_TAG + b"</head>", 1)


LiveReloadHandler.watcher = SimpleNamespace(filepath="*")  # it logs the last changed path

LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


def host_allowed(header: str, host: str, port: int) -> bool:
    """Whether a request's `Host` names this server: the address it listens on, or a loopback
    name, with its port (which browsers leave out only for port 80); when it listens on every
    address, also any IP address with the port. Any other name is refused, as a web page can
    point a name of its own at this machine (DNS rebinding), never an IP address."""
    header = header.lower()
    name, given = header.rsplit(":", 1) if re.fullmatch(r"[^:]+:\d+|\[.*\]:\d+", header) else (header, "80")
    if given != str(port):
        return False
    if name in (*LOOPBACK, (f"[{host}]" if ":" in host else host).lower()):
        return True
    try:
        return host in ("", "0.0.0.0", "::") and bool(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        return False


class RefusedHost(web.RequestHandler):
    """The answer to a request for another host: 403, and nothing of the site."""

    def prepare(self) -> None:
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish("403: this preview answers only requests for localhost or the address it listens on\n")


class PreviewApp(web.Application):
    """The site, livereload.js and its WebSocket, for requests whose `Host` (and `Origin`, which
    browsers send with every WebSocket) name this server; anything else gets RefusedHost."""

    def __init__(self, handlers: list, host: str, port: int, **settings) -> None:
        super().__init__(handlers, **settings)
        self.host, self.port = host, port

    def find_handler(self, request, **kwargs):
        origin = request.headers.get("Origin")
        origin_host = urlsplit(origin).netloc if origin and origin.startswith(("http://", "https://")) else ""
        if not host_allowed(request.headers.get("Host", ""), self.host, self.port) \
                or (origin is not None and not host_allowed(origin_host, self.host, self.port)):
            return self.get_handler_delegate(request, RefusedHost)
        return super().find_handler(request, **kwargs)


def make_app(out: Path, host: str = "127.0.0.1", port: int = 8000,
             last_good: Callable[[], object] = lambda: None) -> web.Application:
    """The server: live reload, the preview's Annotate endpoint (on the build `last_good`
    returns), and the site, for requests that name this server."""
    return PreviewApp([
        (r"/livereload", LiveReloadHandler),
        (r"/livereload.js", LiveReloadJSHandler),
        *preview.handlers(last_good),
        (r"/(.*)", SiteHandler, {"path": str(out.resolve()), "default_filename": "index.html"}),
    ], host, port, transforms=[_LiveScript])


def serve(config: Config, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Serve until interrupted; returns the exit code."""
    config = dataclasses.replace(config, base_url=f"http://{host}:{port}/")
    log = _printer()
    loop = ioloop.IOLoop.current()
    stop = threading.Event()
    pending: set[str] = set()
    wake = threading.Condition()
    rebuilder = Rebuilder(config, lambda: loop.add_callback(LiveReloadHandler.reload_waiters, "*"), log)

    def changed(paths: set[str]) -> None:  # from the watcher's thread
        with wake:
            pending.update(paths)
            rebuilder.session.superseded.set()  # a rebuild under way stops once its edited pages are out
            wake.notify()

    def builder() -> None:
        """Rebuild after each burst of edits, one build at a time, off the IOLoop (which
        keeps serving pages and reloading browsers meanwhile)."""
        while True:
            with wake:
                while not pending:
                    wake.wait()
                batch = set(pending)
                pending.clear()
                rebuilder.session.superseded.clear()
            if rebuilder.rebuild(batch) is None:  # superseded: redo its edits with the newer ones
                with wake:
                    pending.update(batch)

    # Watch before the first build, so an edit saved while it runs is not lost.
    thread = threading.Thread(target=watch, args=(config.source, changed, stop), daemon=True)
    thread.start()
    rebuilder.rebuild()
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
