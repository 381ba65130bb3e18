"""The one place URLs and output paths are decided.

Every page has a site-relative URL (`articles/meta-deal/`, `` for the home page); links
between pages are made relative to the page they sit on, so the site works at a domain
root and under a project path (`/repo/`) alike. Only 404.html, which GitHub Pages serves
at any depth, links from the base URL's path.
"""
from __future__ import annotations

from urllib.parse import urlsplit

HOME = ""
ARTICLES = "articles/"
ENTITIES = "entities/"
TIMELINE = "timeline/"
CLAIMS = "claims/"
COMPARE = "compare/"
CORRECTIONS = "corrections/"
SOURCES = "sources/"
REFERENCES = "references/"
SEARCH = "search/"
NOT_FOUND = "404.html"
STATIC = "static/"


def article(slug: str) -> str:
    return f"articles/{slug}/"


def entity(entity_id: str) -> str:
    return f"entities/{entity_id}/"


def claim(claim_id: str) -> str:
    return f"claims/{claim_id}/"


def page(slug: str) -> str:
    return f"{slug}/"


def annotation(article_slug: str, annotation_id: str) -> str:
    return f"{article(article_slug)}#{annotation_id}"


def mention(article_slug: str, index: int) -> str:
    """The place of an article's `index`-th entity mention (0-based, in text order)."""
    return f"{article(article_slug)}#{mention_fragment(index)}"


def mention_fragment(index: int) -> str:
    """The id of the empty element before a mention; '_' keeps it apart from annotation ids."""
    return f"m_{index}"


def event(event_id: str) -> str:
    return f"{TIMELINE}#{event_id}"


def source(source_id: str) -> str:
    return f"{SOURCES}#{source_id}"


def source_page(source_id: str) -> str:
    """A publisher's own page, for one with more articles than /sources/ lists."""
    return f"{SOURCES}{source_id}/"


def reference(reference_id: str) -> str:
    return f"{REFERENCES}#{reference_id}"


def output_path(url: str) -> str:
    """Where the page for `url` is written, relative to the output folder."""
    if url == HOME:
        return "index.html"
    if url.endswith("/"):
        return url + "index.html"
    return url


def root_prefix(url: str) -> str:
    """The relative path from the page at `url` back to the site root: '', '../', '../../'."""
    return "../" * url.count("/")


def base_path(base_url: str) -> str:
    """The path part of the base URL, always ending in '/': `/repo/` or `/`."""
    path = urlsplit(base_url).path or "/"
    return path if path.endswith("/") else path + "/"


def absolute(base_url: str, url: str) -> str:
    """The full URL of a site-relative `url` under the base URL."""
    return base_url.rstrip("/") + "/" + url


class Linker:
    """Makes links from one page: `link(urls.entity('meta'))` → `../../entities/meta/`."""

    def __init__(self, page_url: str, prefix: str | None = None, placed: dict[str, str] | None = None):
        self.page_url = page_url
        self.prefix = root_prefix(page_url) if prefix is None else prefix
        self.placed = placed or {}
        """`list/#id` → the part of a split list that shows it (listing.place)."""

    def __call__(self, target: str) -> str:
        if target.startswith("#"):
            return target
        target = self.placed.get(target, target)
        if target.split("#", 1)[0] == self.page_url and self.prefix is not None and "#" in target:
            return "#" + target.split("#", 1)[1]
        return (self.prefix + target) or "./"
