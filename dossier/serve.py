"""`serve`: build, serve the output on 127.0.0.1, rebuild when the dossier changes, reload
the browser after a good rebuild, and keep serving the last good site when one fails.

The HTTP side is Tornado with livereload's WebSocket handlers (the browser side is its
livereload.js, loaded as an external script so the pages' CSP needs no exception).
Changes are noticed by polling file modification times every 100 ms; changes that arrive
within the quiet period are rebuilt together, once.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from tornado import ioloop, web

from .site import Config, build

POLL_MS = 100
QUIET_S = 0.15
"""Wait this long after the last change before rebuilding: one rebuild per burst of saves."""
WATCHED = ("content", "layouts", "annotations.yaml")


def snapshot(source: Path) -> dict[str, tuple[int, int]]:
    """path → (mtime_ns, size) of every watched file."""
    state: dict[str, tuple[int, int]] = {}
    for name in WATCHED:
        top = source / name
        if top.is_file():
            st = top.stat()
            state[str(top)] = (st.st_mtime_ns, st.st_size)
            continue
        for folder, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for file in files:
                path = os.path.join(folder, file)
                try:
                    st = os.stat(path)
                except OSError:
                    continue  # deleted while we looked
                state[path] = (st.st_mtime_ns, st.st_size)
    return state


class Rebuilder:
    """Watches the dossier and rebuilds after each burst of changes."""

    def __init__(self, config: Config, on_success: Callable[[], None], log=print):
        self.config = config
        self.on_success = on_success
        self.log = log
        self.state = snapshot(config.source)
        self.changed_at: float | None = None
        self.builds = 0

    def rebuild(self) -> bool:
        started = time.perf_counter()
        result = build(self.config)
        self.builds += 1
        for d in result.diagnostics:
            self.log(d.format())
        if result.ok:
            self.log(f"rebuilt {result.pages} pages in {(time.perf_counter() - started) * 1000:.0f} ms")
            self.on_success()
        else:
            self.log("rebuild failed; still serving the last good site")
        return result.ok

    def poll(self) -> None:
        current = snapshot(self.config.source)
        if current != self.state:
            self.state = current
            self.changed_at = time.monotonic()
        elif self.changed_at is not None and time.monotonic() - self.changed_at >= QUIET_S:
            self.changed_at = None
            self.rebuild()


class SiteHandler(web.StaticFileHandler):
    """Static files from the output folder, never outside it; 404.html for what is missing."""

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
            chunk = _inject(chunk, self.request.host if hasattr(self, "request") else "")
            if "Content-Length" in headers:
                headers["Content-Length"] = str(len(chunk))
        return status_code, headers, chunk

    def __init__(self, request):
        super().__init__(request)
        self.request = request


def _inject(page: bytes, host: str) -> bytes:
    port = host.rsplit(":", 1)[-1] if ":" in host else "80"
    script = f'<script src="/livereload.js?port={port}"></script>'.encode()
    return page.replace(b"</head>", script + b"</head>", 1)


LiveReloadHandler.watcher = SimpleNamespace(filepath="*")  # it logs the last changed path


def make_app(out: Path) -> web.Application:
    return web.Application([
        (r"/livereload", LiveReloadHandler),
        (r"/livereload.js", LiveReloadJSHandler),
        (r"/(.*)", SiteHandler, {"path": str(out.resolve()), "default_filename": "index.html"}),
    ], transforms=[_LiveScript])


def serve(config: Config, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Serve until interrupted; returns the exit code."""
    config = dataclasses.replace(config, base_url=f"http://{host}:{port}/")
    log = _printer()
    rebuilder = Rebuilder(config, lambda: LiveReloadHandler.reload_waiters("*"), log)
    rebuilder.rebuild()
    config.out.mkdir(parents=True, exist_ok=True)
    app = make_app(config.out)
    try:
        app.listen(port, address=host)
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc.strerror} (try --port with another number)", file=sys.stderr)
        return 1
    log(f"serving {config.out} on http://{host}:{port}/ — press Ctrl-C to stop")
    ioloop.PeriodicCallback(rebuilder.poll, POLL_MS).start()
    try:
        ioloop.IOLoop.current().start()
    except KeyboardInterrupt:
        log("stopped")
    return 0


def _printer():
    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)
    return log
