"""The built site served the way GitHub Pages serves a project site: under /<repo>/, with
404.html for any missing path at any depth. A crawler follows every internal link from the
home page and checks that each answers 200 and that each #fragment exists on its page."""
from __future__ import annotations

import http.server
import re
import threading
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import pytest

from test_publish import build_real_dossier

REPO = "/repo/"


class PagesHandler(http.server.SimpleHTTPRequestHandler):
    """Serves `site` under REPO; anything missing gets 404.html with status 404, as Pages does."""

    site: Path

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(self.site), **kwargs)

    def log_message(self, *args):  # keep the test output quiet
        pass

    def send_head(self):
        path = unquote(urlsplit(self.path).path)
        if path == REPO.rstrip("/"):
            self.send_response(301)
            self.send_header("Location", REPO)
            self.end_headers()
            return None
        target = self._file(path)
        if target is None:
            body = (self.site / "404.html").read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return _Body(body)
        if target.is_dir():
            if not path.endswith("/"):
                self.send_response(301)
                self.send_header("Location", path + "/")
                self.end_headers()
                return None
        return super().send_head()

    def _file(self, path: str) -> Path | None:
        if not path.startswith(REPO) or ".." in path.split("/"):
            return None
        target = self.site / path[len(REPO):]
        if target.is_dir():
            return target if (target / "index.html").is_file() else None
        return target if target.is_file() else None

    def translate_path(self, path):
        path = unquote(urlsplit(path).path)
        return str(self.site / path[len(REPO):]) if path.startswith(REPO) else str(self.site / "__missing__")


class _Body:
    """A file-like body for SimpleHTTPRequestHandler.do_GET's copyfile."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, n=-1):
        data, self.data = self.data, b""
        return data

    def close(self):
        pass


class Links(HTMLParser):
    """Every URL a page refers to (a/link href, script/img src) and every id it defines."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for attr in ("href", "src"):
            if a.get(attr) is not None and tag in ("a", "link", "script", "img", "source", "iframe"):
                self.urls.append(a[attr])


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read()


def parse(body: bytes) -> Links:
    links = Links()
    links.feed(body.decode("utf-8"))
    return links


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(root URL, built folder): the site built for http://127.0.0.1:PORT/repo/ and served there."""
    class Handler(PagesHandler):
        pass
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    root = f"http://127.0.0.1:{httpd.server_address[1]}{REPO}"
    Handler.site = build_real_dossier(tmp_path_factory.mktemp("crawl"), root)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, Handler.site
    httpd.shutdown()
    httpd.server_close()


def crawl(root: str, start: str) -> tuple[dict[str, int], list[str]]:
    """Follow every internal link from `start`; returns status by URL and every problem found."""
    status: dict[str, int] = {}
    pages: dict[str, Links] = {}
    fragments: list[tuple[str, str, str]] = []
    problems: list[str] = []
    queue = [(start, "(start)")]
    while queue:
        url, referrer = queue.pop()
        if url in status:
            continue
        code, kind, body = fetch(url)
        status[url] = code
        if code != 200 and url != start:
            problems.append(f"{referrer} links to {url}: HTTP {code}")
            continue
        if kind != "text/html":
            continue
        links = pages[url] = parse(body)
        for href in links.urls:
            target, fragment = urldefrag(urljoin(url, href))
            if not target.startswith(root):
                if target.startswith(root.split(REPO)[0]):  # same server, outside /repo/: a root-relative link
                    problems.append(f"{url} links outside the site's path: {href}")
                continue
            if fragment:
                fragments.append((target, fragment, url))
            queue.append((target, url))
    for target, fragment, referrer in fragments:
        if target in pages and unquote(fragment) not in pages[target].ids:
            problems.append(f"{referrer} links to {target}#{fragment}: no element has that id")
    return status, problems


def test_every_internal_link_and_fragment_resolves(server):
    root, site = server
    status, problems = crawl(root, root)
    assert status[root] == 200
    assert not problems, "\n".join(problems)
    pages = {p.relative_to(site).as_posix() for p in site.rglob("index.html") if "pagefind" not in p.parts}
    reached = {urlsplit(u).path[len(REPO):] + "index.html" for u in status if u.endswith("/")}
    assert pages <= reached, f"pages no link reaches: {sorted(pages - reached)}"


def test_a_missing_page_at_depth_serves_404_whose_links_resolve(server):
    root, _ = server
    for missing in ("a/b/c/", "articles/no-such-article/", "nothing.html"):
        code, kind, body = fetch(root + missing)
        assert code == 404 and kind == "text/html"
        assert b"Page not found" in body or b"not found" in body.lower()
        links = parse(body)
        assert links.urls
        for href in links.urls:
            if href.startswith("#"):  # the 404 page itself, e.g. the skip link
                assert href[1:] in links.ids, f"404.html links to {href}: no element has that id"
                continue
            target, fragment = urldefrag(urljoin(root + missing, href))
            if not target.startswith(root):
                continue
            got, kind, page = fetch(target)
            assert got == 200, f"404.html (served at /{missing}) links to {target}: HTTP {got}"
            if fragment and kind == "text/html":
                assert fragment in parse(page).ids, f"404.html links to {target}#{fragment}"


def test_feed_and_sitemap_urls_resolve_on_the_server(server):
    root, site = server
    for name in ("sitemap.xml", "feed.xml"):
        xml = (site / name).read_text(encoding="utf-8")
        for url in sorted(set(re.findall(r"(?:<loc>|href=\")(http[^<\"]+)", xml))):
            target, fragment = urldefrag(url.replace("&amp;", "&"))
            assert target.startswith(root), f"{name}: {url} is not under {root}"
            code, kind, body = fetch(target)
            assert code == 200, f"{name}: {url}: HTTP {code}"
            if fragment:
                assert fragment in parse(body).ids, f"{name}: {url}: no element has that id"


def test_the_repo_path_without_slash_redirects(server):
    root, _ = server
    code, _, body = fetch(root.rstrip("/"))
    assert code == 200 and b"<html" in body
