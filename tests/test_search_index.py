"""What the search index holds: the article text and the notes, not what is said elsewhere
(a note's quote is in the article above it; its evidence and entities have pages of their
own). Read from the Pagefind bundle a real build writes."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from dossier.site import Config, build

from conftest import formatted
from refresh_golden import BASE_URL, SAMPLE


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> tuple[dict[str, dict], dict]:
    """(url path → the page's Pagefind fragment, dossier.json) of the golden sample built with search."""
    work = tmp_path_factory.mktemp("search-index")
    shutil.copytree(SAMPLE, work / "sample")
    result = build(Config(source=work / "sample", out=work / "public", base_url=BASE_URL))
    assert result.ok, "\n".join(formatted(result.diagnostics))
    fragments = {}
    for path in (work / "public" / "pagefind" / "fragment").glob("*.pf_fragment"):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd")
        fragment = json.loads(data[len(b"pagefind_dcd"):])
        fragments[fragment["url"]] = fragment
    return fragments, json.loads((work / "public" / "dossier.json").read_text(encoding="utf-8"))


def test_article_pages_index_the_text_and_each_note_once(indexed):
    fragments, data = indexed
    articles = {a["slug"]: a for a in data["articles"]}
    titles = {r["id"]: r["title"] for r in data["references"]}
    checked = 0
    for annotation in data["annotations"]:
        article = articles[annotation["article"]]
        content = fragments[f"/articles/{article['slug']}/"]["content"]
        assert annotation["note"].split("\n", 1)[0].rstrip(".") in content, annotation["id"]
        quote = annotation["exact"]
        # the quote is indexed where the article says it, not again in its note
        assert content.count(quote) <= max(1, article["text"].count(quote) + article["title"].count(quote)), quote
        for ref in annotation["cite"]:
            assert titles[ref] not in content or titles[ref] in article["text"], (annotation["id"], titles[ref])
        checked += 1
    assert checked >= 5


def test_entity_pages_index_the_entity_not_the_sentences_that_mention_it(indexed):
    fragments, data = indexed
    entity_pages = {url: f for url, f in fragments.items() if "/entities/" in url}
    assert entity_pages
    for fragment in entity_pages.values():
        assert fragment["word_count"] < 200, fragment["url"]
