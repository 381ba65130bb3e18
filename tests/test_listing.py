"""Long lists split into pages (listing.py): every list page and the pages that grow with
the dossier stay bounded, every item is on exactly one part, every link lands on the part
that shows its target, builds stay byte-identical and rebuilds match cold builds.

The split sizes are lowered for these tests, so a dossier of a dozen articles splits the way
one of 10,000 does (tests/browser/test_reading.py builds one past the real claims limit)."""
from __future__ import annotations

import http.server
import re
import shutil
import threading
from pathlib import Path

import pytest

from conftest import BASE_ANNOTATIONS, formatted, tree_bytes, validate_strings, write_files
from dossier import listing
from dossier.excerpts import first_sentence, list_quote, shorten
from dossier.incremental import Session
from dossier.site import Config, build
from test_crawl import REPO, PagesHandler, crawl

BASE_URL = "http://127.0.0.1:8000/"
VERDICTS = ["accurate", "mostly-accurate", "inaccurate", "unsupported"]
SMALL = {"ARTICLES_PER_PART": 5, "CLAIMS_PER_PAGE": 10, "TIMELINE_PER_PART": 4, "REFERENCES_WEIGHT": 8,
         "ENTITIES_PER_PART": 2, "CORRECTIONS_PER_PART": 2, "SOURCE_ARTICLES_SHOWN": 3, "SOURCE_ARTICLES_PER_PART": 5,
         "MENTIONS_PER_PART": 6, "NOTES_PER_PART": 5, "TELLINGS_PER_PART": 4, "MATRIX_ROWS_PER_PART": 1, "CITERS_SHOWN": 2}


@pytest.fixture
def small_parts(monkeypatch):
    for name, value in SMALL.items():
        monkeypatch.setattr(listing, name, value)


def long_dossier(articles: int = 12) -> dict[str, str]:
    """`articles` articles over three years, three notes each (citing references, some
    corrected, the first telling one of two claims), events every year, entities named throughout."""
    files = {}
    notes = []
    for i in range(articles):
        year = 2023 + i % 3
        files[f"content/articles/a{i:02d}.md"] = (
            f"---\ntitle: Story {i:02d}\nsource: daily\nkind: news\npublished: {year}-{i % 12 + 1:02d}-10\n---\n"
            f"Meta bought stake number {i} from Scale. Meta and Scale said {i} things.\n\n"
            f"The third sentence {i} names Meta again.\n")
        for n, quote in enumerate((f"bought stake number {i}", f"said {i} things", f"third sentence {i}")):
            verdict = VERDICTS[(i + n) % len(VERDICTS)]
            note = (f"  - id: n{i:02d}-{n}\n    article: a{i:02d}\n    quote: {quote}\n    kind: fact-check\n"
                    f"    verdict: {verdict}\n    note: Checked {i}-{n}. A second sentence.\n    cite: [r{(i + n) % 6}]\n"
                    f"    entities: [meta]\n")
            if n == 0:
                note += f"    claim: c{i % 2}\n"
            if n == 1 and i % 2 == 0:
                note += f"    updates:\n      - {{date: 2025-07-{i % 28 + 1:02d}, summary: Corrected {i}.}}\n"
            notes.append(note)
    references = "".join(f"  r{k}:\n    title: Reference {k}\n    url: https://example.org/r{k}\n" for k in range(6))
    events = "".join(f"  - {{id: e{y}, date: {y}-03, title: Event of {y}, entities: [meta], cite: [r0]}}\n"
                     for y in (2023, 2024, 2025))
    claims = "".join(f"  c{k}:\n    statement: Claim {k} holds.\n    verdict: accurate\n    cite: [r1]\n    entities: [meta]\n"
                     for k in range(2))
    files["annotations.yaml"] = BASE_ANNOTATIONS.replace(
        "entities:\n  meta:\n    name: Meta\n    type: company\n",
        "entities:\n  meta:\n    name: Meta\n    type: company\n  scale:\n    name: Scale\n    type: company\n"
        "  wang:\n    name: Alexandr Wang\n    type: person\n    relations: [{type: ceo, target: scale}]\n"
    ).replace(
        "references:\n  filing:\n    title: The filing\n    url: https://example.org/filing\n",
        "references:\n" + references,
    ).replace("annotations: []\n", "events:\n" + events + "claims:\n" + claims + "annotations:\n" + "".join(notes))
    return files


def built(tmp_path: Path, files: dict[str, str], name: str = "out", base_url: str = BASE_URL) -> Path:
    source = tmp_path / "dossier"
    if not source.exists():
        write_files(source, files)
    result = build(Config(source=source, out=tmp_path / name, base_url=base_url, search=False))
    assert result.ok, formatted(result.diagnostics, "error")
    return tmp_path / name


def pages(out: Path) -> dict[str, str]:
    return {p.relative_to(out).parent.as_posix() + "/": p.read_text(encoding="utf-8") for p in out.rglob("index.html")}


def ids_in(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)


# ---- splitting ----------------------------------------------------------------------------------

def test_every_long_list_is_split_into_parts_with_their_own_urls(small_parts, tmp_path):
    site = pages(built(tmp_path, long_dossier()))
    for url in ("articles/", "articles/page/2/", "articles/page/3/", "entities/page/2/", "claims/",
                "claims/verdict/accurate/", "claims/verdict/inaccurate/", "timeline/", "timeline/2023/",
                "timeline/2024/page/2/", "references/page/2/", "corrections/page/2/", "sources/daily/",
                "sources/daily/page/2/", "entities/meta/page/2/", "claims/c0/page/2/", "compare/page/2/"):
        assert url in site, f"no page at /{url}"
    assert "articles/page/4/" not in site  # 12 articles, 5 a page
    overview = site["claims/"]
    assert 'class="claim-item' not in overview, "the split index's first page is an overview"
    assert 'href="../claims/verdict/accurate/"' in overview and 'id="accurate"' in overview


def test_each_item_is_listed_on_exactly_one_part_and_no_part_holds_more_than_its_share(small_parts, tmp_path):
    site = pages(built(tmp_path, long_dossier()))
    listed = lambda prefix, pattern: [i for url, html in site.items() if url.startswith(prefix)
                                      for i in ids_in(html.split('<main', 1)[1], pattern)]
    articles = listed("articles/", r'class="article-item-title"><a href="[./]*(?:articles/)?(a\d\d)/"')
    assert sorted(articles) == [f"a{i:02d}" for i in range(12)]
    notes = listed("claims/", r'data-article="a\d\d"[^>]*>\s*<p class="claim-line">.*?#(n\d\d-\d)"')
    assert sorted(notes) == sorted(f"n{i:02d}-{n}" for i in range(12) for n in range(3))
    for url, html in site.items():
        if url.startswith("claims/verdict/"):
            assert html.count('<li class="claim-item') <= 10 + 3  # a part never cuts an article's notes in two
    timeline = listed("timeline/", r'<li id="((?:e|published_)[^"]+)" class="tl-entry')
    assert len(timeline) == len(set(timeline)) == 12 + 3
    assert all(html.count('class="tl-entry') <= 4 for url, html in site.items() if url.startswith("timeline/"))
    references = listed("references/", r'<li id="(r\d)" class="reference">')
    assert sorted(references) == [f"r{k}" for k in range(6)]
    corrections = listed("corrections/", r'<li id="(annotation-n\d\d-1-1)">')
    assert len(corrections) == len(set(corrections)) == 6


def test_each_notes_and_mentions_of_an_entity_are_shared_out_over_its_parts(small_parts, tmp_path):
    site = pages(built(tmp_path, long_dossier()))
    parts = sorted(url for url in site if url.startswith("entities/meta/"))
    assert len(parts) > 2
    mentioned = [a for url in parts for a in ids_in(site[url], r'<h3 class="mentions-article" id="in-(a\d\d)"')]
    assert sorted(mentioned) == [f"a{i:02d}" for i in range(12)], "each article's mentions on one part, once"
    notes = [n for url in parts for n in ids_in(site[url], r'class="claim-row">.*?#(n\d\d-\d)"')]
    assert sorted(notes) == sorted(f"n{i:02d}-{n}" for i in range(12) for n in range(3))
    assert 'id="events-heading"' in site["entities/meta/"]
    assert 'id="events-heading"' not in site["entities/meta/page/2/"], "a later part continues the lists only"


def test_a_small_dossier_keeps_one_page_per_list(tmp_path):
    site = pages(built(tmp_path, long_dossier(3)))
    assert not [url for url in site if "/page/" in url or url.startswith(("claims/verdict/", "timeline/2"))]
    assert site["claims/"].count('<li class="claim-item') == 9


def test_the_compare_page_names_the_articles_that_tell_no_shared_claim(tmp_path):
    files = long_dossier(3)
    files["content/articles/quiet.md"] = "---\ntitle: A quiet story\nsource: daily\nkind: news\n---\nNothing here.\n"
    compare = pages(built(tmp_path, files))["compare/"]
    assert '<th scope="col"><a href="../articles/a00/">Story 00</a></th>' in compare
    assert ('One article tells none of the shared claims, so it has no column: '
            '<a href="../articles/quiet/">A quiet story</a>.') in compare


# ---- links land on the right part ---------------------------------------------------------------

@pytest.fixture
def served_long_dossier(small_parts, tmp_path):
    class Handler(PagesHandler):
        pass
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    root = f"http://127.0.0.1:{httpd.server_address[1]}{REPO}"
    Handler.site = built(tmp_path, long_dossier(), base_url=root)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, Handler.site
    httpd.shutdown()
    httpd.server_close()


def test_every_link_of_a_split_site_and_its_fragment_resolves(served_long_dossier):
    root, site = served_long_dossier
    status, problems = crawl(root, root)
    assert not problems, "\n".join(problems)
    every = {p.relative_to(site).as_posix() for p in site.rglob("index.html")}
    reached = {u[len(root):] + "index.html" for u in status if u.endswith("/")}
    assert every <= reached, f"pages no link reaches: {sorted(every - reached)}"


def test_links_to_events_references_and_corrections_name_their_part(small_parts, tmp_path):
    out = built(tmp_path, long_dossier())
    entity = (out / "entities/meta/index.html").read_text(encoding="utf-8")
    assert 'href="../../timeline/2024/#e2024"' in entity
    note = (out / "articles/a11/index.html").read_text(encoding="utf-8")
    page_of = {k: p.parent.relative_to(out).as_posix() for p in out.glob("references/**/index.html")
               for k in re.findall(r'<li id="(r\d)" class="reference">', p.read_text(encoding="utf-8"))}
    for ref in re.findall(r'href="../../(references/[^"]*#r\d)"', note):
        folder, fragment = ref.split("#")
        assert page_of[fragment] + "/" == folder, f"{ref} is not where {fragment} is listed"
    data = (out / "dossier.json").read_text(encoding="utf-8")
    assert f'"permalink": "{BASE_URL}timeline/2023/#e2023"' in data.replace('":"', '": "')


# ---- builds and rebuilds ------------------------------------------------------------------------

def test_two_builds_of_a_split_site_are_byte_identical(small_parts, tmp_path):
    first = tree_bytes(built(tmp_path, long_dossier(), "one"))
    assert first == tree_bytes(built(tmp_path, long_dossier(), "two"))


@pytest.mark.parametrize("old, new", [
    ("published: 2024-05-10", "published: 2025-05-10"),        # an article moves to another year's page
    ("bought stake number 4 from Scale", "bought stake number 4 from Scale and Scale"),  # more mentions
], ids=["date", "mentions"])
def test_an_article_edit_that_moves_items_between_parts_matches_a_cold_build(small_parts, tmp_path, old, new):
    files = long_dossier()
    source = write_files(tmp_path / "dossier", files)
    session = Session(Config(source=source, out=tmp_path / "served", base_url=BASE_URL, search=False))
    assert session.build().ok
    path = source / "content/articles/a04.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    files["content/articles/a04.md"] = text.replace(old, new)
    assert session.build({"content/articles/a04.md"}).ok
    assert tree_bytes(tmp_path / "served") == tree_bytes(built(tmp_path, files, "cold"))


def test_a_citation_that_moves_references_to_other_parts_matches_a_cold_build(small_parts, monkeypatch, tmp_path):
    """The notes of every article link to the references: when the references' parts change,
    so do pages the edit did not touch."""
    monkeypatch.setattr(listing, "CITERS_SHOWN", 50)      # a reference weighs 2 + its citers: 8 to 11 here
    monkeypatch.setattr(listing, "REFERENCES_WEIGHT", 18)
    source = write_files(tmp_path / "dossier", long_dossier())
    session = Session(Config(source=source, out=tmp_path / "served", base_url=BASE_URL, search=False))
    assert session.build().ok
    before = dict(listing.layout(session.dossier).placed)
    yaml = source / "annotations.yaml"
    text = yaml.read_text(encoding="utf-8")
    old = "note: Checked 0-1. A second sentence.\n    cite: [r1]"
    assert old in text
    yaml.write_text(text.replace(old, old.replace("[r1]", "[r0, r1, r2, r3, r4]")), encoding="utf-8")
    assert session.build({"annotations.yaml"}).ok
    assert listing.layout(session.dossier).placed != before, "the edit moved references to other parts"
    assert tree_bytes(tmp_path / "served") == tree_bytes(built(tmp_path, {}, "cold"))


def test_with_the_build_cache_pages_an_edit_did_not_touch_follow_references_to_their_new_parts(
        small_parts, monkeypatch, tmp_path):
    """A cached article page links a reference to the part that shows it: when a citation moves
    references to other parts, a page taken from the cache would link to the old part."""
    monkeypatch.setattr(listing, "CITERS_SHOWN", 50)
    monkeypatch.setattr(listing, "REFERENCES_WEIGHT", 18)
    source = write_files(tmp_path / "dossier", long_dossier())
    cache = tmp_path / "cache"
    first = build(Config(source=source, out=tmp_path / "first", base_url=BASE_URL, search=False, cache=cache))
    assert first.ok
    before = dict(listing.layout(first.dossier).placed)
    yaml = source / "annotations.yaml"
    text = yaml.read_text(encoding="utf-8")
    old = "note: Checked 0-1. A second sentence.\n    cite: [r1]"
    assert old in text
    yaml.write_text(text.replace(old, old.replace("[r1]", "[r0, r1, r2, r3, r4]")), encoding="utf-8")
    second = build(Config(source=source, out=tmp_path / "second", base_url=BASE_URL, search=False, cache=cache))
    assert second.ok
    assert listing.layout(second.dossier).placed != before, "the edit moved references to other parts"
    assert tree_bytes(tmp_path / "second") == tree_bytes(built(tmp_path, {}, "cold"))


def test_an_annotation_that_splits_the_claims_index_matches_a_cold_build(small_parts, monkeypatch, tmp_path):
    monkeypatch.setattr(listing, "CLAIMS_PER_PAGE", 36)  # exactly the notes there are: one page
    files = long_dossier()
    source = write_files(tmp_path / "dossier", files)
    session = Session(Config(source=source, out=tmp_path / "served", base_url=BASE_URL, search=False))
    assert session.build().ok
    assert not (tmp_path / "served/claims/verdict").exists()
    yaml = source / "annotations.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8") + "  - {id: extra, article: a00, quote: names Meta again, kind: context}\n",
                    encoding="utf-8")
    assert session.build({"annotations.yaml"}).ok
    assert (tmp_path / "served/claims/verdict/accurate/index.html").is_file()
    article = (tmp_path / "served/articles/a05/index.html").read_text(encoding="utf-8")
    assert 'href="../../claims/verdict/' in article, "tallies on articles not edited point at the split index too"
    assert tree_bytes(tmp_path / "served") == tree_bytes(built(tmp_path, files, "cold"))


# ---- ids the parts take, and titles that collide ------------------------------------------------

def test_ids_that_the_parts_take_are_errors_naming_the_item():
    annotations = BASE_ANNOTATIONS.replace("entities:\n", "entities:\n  page:\n    name: Page Corp\n    type: company\n") \
        .replace("annotations: []\n", "claims:\n  verdict:\n    statement: S.\n    verdict: accurate\n    cite: [filing]\n"
                                      "annotations: []\n")
    article = "---\ntitle: T\nsource: daily\nkind: news\n---\nMeta.\n"
    _, diagnostics = validate_strings(annotations, {"page": article})
    errors = formatted(diagnostics, "error")
    assert any(e.startswith("content/articles/page.md:1:") and "the article name 'page' is taken by the pages of the "
               "articles list" in e and "rename the file" in e for e in errors), errors
    assert any("the entity id 'page' is taken by the pages of the entities list" in e for e in errors), errors
    assert any("the claim id 'verdict' is taken by the pages of the claims list" in e for e in errors), errors


def test_references_that_share_a_title_are_a_warning_at_the_second():
    annotations = BASE_ANNOTATIONS.replace(
        "references:\n  filing:\n    title: The filing\n    url: https://example.org/filing\n",
        "references:\n  filing:\n    title: The filing\n    url: https://example.org/filing\n"
        "  copy:\n    title: '  the  Filing'\n    url: https://example.org/copy\n")
    _, diagnostics = validate_strings(annotations)
    warnings = formatted(diagnostics, "warning")
    assert [w for w in warnings if "same title" in w] == [
        "annotations.yaml:20:5: warning: references 'filing' (line 16) and 'copy' have the same title \"  the  Filing\" "
        "(give each a title that tells them apart: a note's evidence shows only the title)"]


# ---- excerpts --------------------------------------------------------------------------------

class FakeAnchor:
    def __init__(self, exact, prefix="", suffix=""):
        self.exact, self.prefix, self.suffix = exact, prefix, suffix


def test_a_long_quote_is_shortened_in_lists_and_a_short_one_is_not():
    words = " ".join(f"w{i}" for i in range(41))
    shortened = list_quote(FakeAnchor(words))
    assert shortened.shortened and shortened.quote == " ".join(f"w{i}" for i in range(30)) + "…"
    assert list_quote(FakeAnchor(" ".join(words.split()[:40]))).shortened is False
    assert shorten("a\n  b") == ("a b", False)


def test_a_quote_of_a_stray_sign_is_shown_between_its_neighbouring_words():
    q = list_quote(FakeAnchor("**", prefix="the next chapter in AI innovation. ", suffix="\n\nAnd more text here now ok"))
    assert (q.before, q.quote, q.after) == ("…next chapter in AI innovation. ", "**", " And more text here now…")


def test_a_notes_first_sentence_is_plain_text():
    assert first_sentence("The figure is **right**: [$14.3 billion](https://x.org). Then more.") == \
        "The figure is right: $14.3 billion."
    assert first_sentence("He said “no.” Then left.") == "He said “no.”"
    assert first_sentence(None) == ""
