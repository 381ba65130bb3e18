"""The preview's web side, for `serve`: the built site's files, livereload.js and its
WebSocket (which also tells which page each browser shows, so a rebuild can write those
first and reload each browser when its page is on disk), the Annotate endpoint (preview.py),
and the Host checks that keep every other web site out.

Only this machine's browsers may read the preview: a request is answered only when its
`Host` names the address the server listens on, or localhost, 127.0.0.1 or [::1], with its
port (see PreviewApp). Otherwise a page on any web site could point a name of its own at
127.0.0.1 (DNS rebinding) and read the preview and its live-reload socket as its own.
"""
from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Callable
from urllib.parse import unquote, urlsplit

from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from tornado import web

from . import preview

Showing = Callable[[str | None], bool]
"""Which browsers to reload: given the page a browser shows (None: it has not said), whether
to reload it."""


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


class BrowserSocket(LiveReloadHandler):
    """livereload's WebSocket, keeping the page its browser shows: livereload.js sends the
    page's URL in its `info` command (after `hello`, and again on each connection)."""

    page: str | None = None
    """The site-relative URL of the page this browser shows (urls.py's form); None until it says."""

    def on_message(self, message) -> None:
        super().on_message(message)
        try:
            said = json.loads(message)
        except ValueError:
            return
        if isinstance(said, dict) and said.get("command") == "info" and isinstance(said.get("url"), str):
            self.page = page_of(said["url"])


def page_of(url: str) -> str:
    """The site-relative URL of the page a browser's address shows: `articles/deal/` for
    http://127.0.0.1:8000/articles/deal/index.html#note, `` for the home page."""
    path = unquote(urlsplit(url).path).lstrip("/")
    return path[: -len("index.html")] if path == "index.html" or path.endswith("/index.html") else path


def open_pages() -> set[str]:
    """The pages the connected browsers show (called from the builder's thread)."""
    return {page for page in (getattr(w, "page", None) for w in LiveReloadHandler.waiters.copy()) if page is not None}


def reload_browsers(showing: Showing) -> None:
    """Tell the browsers that `showing` picks to reload (on the IOLoop's thread)."""
    message = {"command": "reload", "path": "*", "liveCSS": LiveReloadHandler.live_css, "liveImg": True}
    for waiter in LiveReloadHandler.waiters.copy():
        if showing(getattr(waiter, "page", None)):
            try:
                waiter.write_message(message)
            except Exception:  # a browser gone meanwhile: forget it
                LiveReloadHandler.waiters.discard(waiter)

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
        (r"/livereload", BrowserSocket),
        (r"/livereload.js", LiveReloadJSHandler),
        *preview.handlers(last_good),
        (r"/(.*)", SiteHandler, {"path": str(out.resolve()), "default_filename": "index.html"}),
    ], host, port, transforms=[_LiveScript])
