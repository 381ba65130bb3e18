"""A site indexed in several bundles is searched exactly as one bundle would be: every word
finds its page and only pages that have it (a bundle without the word must not answer with
a shorter word it has: search.py's vocabulary pages), and filters narrow the results. The
build is told to split a site of 265 pages into bundles of about 100."""
from __future__ import annotations

import json

import pytest

from conftest import _built_and_served
from dossier.search import SHARDS_FILE

pytestmark = pytest.mark.browser

ARTICLES = 260
ENTITIES = ("Acme", "Borealis", "Cygnet", "Dunlin", "Egret")
SPLIT = {"DOSSIER_SEARCH_BUNDLE_PAGES": "100"}
"""About 100 pages per bundle: the 265 pages (articles and entities are indexed) in three."""


def verdict(n: int) -> str:
    """Misleading or accurate, alternating; one article, in the last bundle only, is inaccurate."""
    return "inaccurate" if n == RARE else "misleading" if n % 2 == 0 else "accurate"


RARE = 137
"""The one article whose verdict no other has, and the only one that says "nonvoting"."""


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
                        f"{entity} signed contract {n} on Monday. Its code word is {word(n)}. No one objected."
                        + (" The board held a nonvoting seat." if n == RARE else "") + "\n", encoding="utf-8")
        lines.append(f"  - {{id: note-{n}, article: story-{n:03d}, quote: '{entity} signed contract {n}', "
                     f"kind: fact-check, verdict: {verdict(n)}, note: 'Checked {n}.', "
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
    yield from _built_and_served(folder / "dossier", folder / "public", SPLIT)


def results(page, count: int, term: str) -> list[str]:
    """The links of all `count` results shown for `term`, once the status announces them."""
    expected = f"{count} page{'' if count == 1 else 's'} match {f'“{term}”' if term else 'the filters'}."
    page.wait_for_function("t => document.querySelector('.search-status').textContent === t", arg=expected)
    page.wait_for_function("""n => {
        const more = document.querySelector('.more-results');
        if (!more.hidden) more.click();  // the next 20
        return more.hidden && document.querySelectorAll('.result').length === n;
    }""", arg=count, polling=100)
    return page.locator(".result-title a").evaluate_all("links => links.map(a => a.getAttribute('href'))")


def test_every_word_and_filter_finds_exactly_its_pages(sharded_site, open_page):
    shards = json.loads((sharded_site.root / "pagefind" / SHARDS_FILE).read_text(encoding="utf-8"))
    assert shards["merge"] == ["shard-1/", "shard-2/"] and len(shards["hidden"]) == 3, shards
    watched = open_page()
    watched.goto(sharded_site.url("search/"))
    page = watched.page
    page.wait_for_selector("#search-filter-verdict", state="attached")
    # A word of one article finds that article only.
    for n in (0, 1, RARE, ARTICLES - 1):
        page.fill("#search-input", word(n))
        assert [link.rsplit("/", 2)[-2] for link in results(page, 1, word(n))] == [f"story-{n:03d}"]
    # Every filter value is offered, and a filter narrows the results to exactly its pages.
    options = page.locator("#search-filter-entity option").all_inner_texts()
    assert all(any(name in option for option in options) for name in ENTITIES), options
    assert "Inaccurate" in page.locator("#search-filter-verdict option").all_inner_texts()
    page.fill("#search-input", "contract")
    page.select_option("#search-filter-type", "Article")
    page.select_option("#search-filter-entity", "Acme")
    acme = [n for n in range(ARTICLES) if n % len(ENTITIES) == 0]
    found = results(page, len(acme), "contract")
    assert {link.rsplit("/", 2)[-2] for link in found} == {f"story-{n:03d}" for n in acme}
    # A value only one page has: that page, not everything.
    page.select_option("#search-filter-entity", "")
    page.select_option("#search-filter-verdict", "Inaccurate")
    assert [link.rsplit("/", 2)[-2] for link in results(page, 1, "contract")] == [f"story-{RARE:03d}"]
    page.fill("#search-input", "")
    assert [link.rsplit("/", 2)[-2] for link in results(page, 1, "")] == [f"story-{RARE:03d}"]
    page.select_option("#search-filter-verdict", "Misleading")
    misleading = [n for n in range(ARTICLES) if verdict(n) == "misleading"]
    assert {link.rsplit("/", 2)[-2] for link in results(page, len(misleading), "")} == {f"story-{n:03d}" for n in misleading}
    assert watched.errors == [] and watched.failed == []


def test_a_word_of_one_page_finds_no_page_with_only_a_prefix_of_it(sharded_site, open_page):
    watched = open_page()
    watched.goto(sharded_site.url("search/"))
    page = watched.page
    page.wait_for_selector("#search-filter-verdict", state="attached")
    page.fill("#search-input", "nonvoting")  # in one article; "no" is in every article
    page.wait_for_function("() => /match/.test(document.querySelector('.search-status').textContent)")
    assert page.locator(".search-status").text_content() == "1 page match “nonvoting”."
