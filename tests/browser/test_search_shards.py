"""A large site's search index comes in several bundles (search.py: shards); the search page
merges them into one search, results and filters alike."""
from __future__ import annotations

import json

import pytest

from conftest import _built_and_served
from dossier.search import SHARDS_FILE, shard_count, shard_of

pytestmark = pytest.mark.browser

ARTICLES = 260
ENTITIES = ("Acme", "Borealis", "Cygnet", "Dunlin", "Egret")


def write_dossier(folder):
    """ARTICLES short articles, each naming one entity and carrying one unique word."""
    lines = ["site: {title: Shards, base_url: 'https://example.org/shards/', language: en, description: Many.,"
             " published: 2025-06-20}",
             "sources: {daily: {name: The Daily, rating: reliable, rationale: Named authors.}}",
             "entities:"]
    lines += [f"  {name.lower()}: {{name: {name}, type: company}}" for name in ENTITIES]
    lines.append("annotations:")
    for n in range(ARTICLES):
        entity = ENTITIES[n % len(ENTITIES)]
        path = folder / "content" / "articles" / f"story-{n:03d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\ntitle: Story {n}\nsource: daily\nkind: news\n---\n"
                        f"{entity} signed contract {n} on Monday. Its code word is {word(n)}.\n", encoding="utf-8")
        lines.append(f"  - {{id: note-{n}, article: story-{n:03d}, quote: '{entity} signed contract {n}', "
                     f"kind: fact-check, verdict: {'accurate' if n % 2 else 'misleading'}, note: 'Checked {n}.', "
                     f"cite: [filing], entities: [{entity.lower()}]}}")
    lines += ["references: {filing: {title: The filing}}", "assessments:"]
    lines += [f"  story-{n:03d}: {{summary: Holds up.}}" for n in range(ARTICLES)]
    (folder / "annotations.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def word(n: int) -> str:
    """A made-up word found in article n only."""
    return "zq" + "".join("bcdfghjklm"[int(d)] for d in f"{n:03d}") + "x"


@pytest.fixture(scope="module")
def sharded_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shards")
    write_dossier(folder / "dossier")
    yield from _built_and_served(folder / "dossier", folder / "public")


def test_results_and_filters_come_from_every_bundle(sharded_site, open_page):
    shards = json.loads((sharded_site.root / "pagefind" / SHARDS_FILE).read_text(encoding="utf-8"))["merge"]
    count = shard_count(ARTICLES + len(ENTITIES))  # the articles and the entities are indexed
    assert len(shards) == count - 1 >= 1
    far = next(n for n in range(ARTICLES) if shard_of(f"articles/story-{n:03d}/index.html", count) == count - 1)
    watched = open_page()
    watched.goto(sharded_site.url("search/"))
    page = watched.page
    page.wait_for_selector("#search-filter-verdict", state="attached")
    page.fill("#search-input", word(far))
    page.wait_for_selector(f".result a[href$='/articles/story-{far:03d}/']")
    assert page.locator(".result").count() == 1
    options = page.locator("#search-filter-entity option").all_inner_texts()
    assert all(any(name in option for option in options) for name in ENTITIES), options
    page.fill("#search-input", "contract")
    page.select_option("#search-filter-verdict", "Misleading")
    page.wait_for_selector(".result")
    assert watched.errors == [] and watched.failed == []
