"""Browser fixtures: build the real dossier once, serve it under a /repo/ sub-path (as GitHub
Pages serves a project site), and drive Debian's Chromium through Playwright.

Without Chromium the browser tests are skipped, except in CI (the CI variable is set),
where a missing browser is a failure.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DOSSIER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PREFIX = "/repo/"
AXE = ROOT / "tests" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"


class SubPathHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site under /repo/ only; a missing file gets 404.html, as on Pages."""

    def translate_path(self, path: str) -> str:
        path = unquote(urlsplit(path).path)
        if not path.startswith(PREFIX):
            return str(Path(self.directory) / "__outside_the_site__")
        return super().translate_path("/" + path[len(PREFIX):])

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format, *args):  # keep the test output quiet
        pass


@dataclass
class Site:
    root: Path
    """The built site on disk."""
    base: str
    """Its URL, ending in /repo/."""

    def url(self, path: str = "") -> str:
        return self.base + path


def _built_and_served(source: Path, out: Path, env: dict | None = None):
    """Build the dossier at `source` into `out` with a /repo/ base URL (and `env` added to the
    build's environment); serve it over HTTP."""
    handler = functools.partial(SubPathHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    build = subprocess.run([sys.executable, "build.py", "--source", str(source), "--out", str(out), "--base-url", base],
                           cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})
    if build.returncode != 0:
        server.server_close()
        pytest.fail(f"build failed:\n{build.stdout}\n{build.stderr}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(out, base)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    """The real dossier, built once with a /repo/ base URL and served over HTTP."""
    yield from _built_and_served(ROOT, tmp_path_factory.mktemp("site") / "public")


@pytest.fixture(scope="session")
def golden_site(tmp_path_factory) -> Site:
    """The golden sample (which has corrections, a republication and two claims), served the same way."""
    folder = tmp_path_factory.mktemp("golden")
    shutil.copytree(ROOT / "tests" / "golden" / "sample", folder / "sample")  # the build writes a lock file
    yield from _built_and_served(folder / "sample", folder / "public")


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's browser build, installed by `npm install --prefix tests`."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run npm install --prefix tests")
    return AXE


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where screenshots go (git-ignored; the run leaves them for people to look at)."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class Watched:
    """A page plus every console error and failed request seen while it was open."""
    page: object
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def goto(self, url: str):
        response = self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return response


@pytest.fixture
def open_page(browser):
    """open_page(**context_options) → Watched; contexts are closed after the test."""
    contexts = []

    def make(**options) -> Watched:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        watched = Watched(page)
        page.on("console", lambda msg: watched.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: watched.errors.append(f"uncaught: {exc}"))
        page.on("requestfailed", lambda req: watched.failed.append(f"{req.url} ({req.failure})"))
        page.on("response", lambda res: watched.failed.append(f"{res.url} (HTTP {res.status})")
                if res.status >= 400 else None)
        return watched

    yield make
    for context in contexts:
        context.close()
