"""Whole builds: the golden sample, byte-identical rebuilds, atomic output, relative links,
layouts, entity and timeline pages."""
from __future__ import annotations

import difflib
import html
import os
import posixpath
import re
from pathlib import Path

import pytest

from dossier.site import Config, build, check

from conftest import (BASE_ANNOTATIONS, BASE_ARTICLE, annotations_with, article, formatted, marked_text, read_html,
                      resolve_strings, squash, tree_bytes, write_files)
from refresh_golden import BASE_URL, EXPECTED, SAMPLE, build_sample, compared_files


def build_into(source: Path, out: Path, **options):
    return build(Config(source=source, out=out, search=False, **options))


def page_text(page: str) -> str:
    """The words of an HTML page: tags removed, entities decoded, whitespace squashed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture(scope="module")
def golden_build(tmp_path_factory):
    """The golden sample, built once for the tests that read its pages."""
    result, out = build_sample(tmp_path_factory.mktemp("golden"))
    assert result.ok, "\n".join(formatted(result.diagnostics))
    return result, out


# ---- the golden sample --------------------------------------------------------------------

def test_golden_sample_builds_to_the_expected_files(golden_build):
    _, out = golden_build
    built, expected = compared_files(out), compared_files(EXPECTED)
    hint = "if the change is intended, run: python tests/refresh_golden.py (then review git diff tests/golden)"
    missing, extra = sorted(set(expected) - set(built)), sorted(set(built) - set(expected))
    assert not missing and not extra, f"missing {missing}, unexpected {extra}; {hint}"
    for path in sorted(expected):
        if built[path] != expected[path]:
            diff = "".join(difflib.unified_diff(
                expected[path].decode("utf-8", "replace").splitlines(keepends=True),
                built[path].decode("utf-8", "replace").splitlines(keepends=True),
                fromfile=f"tests/golden/expected/{path}", tofile=f"build/{path}", n=2))
            pytest.fail(f"{path} differs from the golden copy:\n{diff}\n{hint}", pytrace=False)


def test_golden_sample_checks_without_any_diagnostic():
    dossier, diagnostics = check(Config(source=SAMPLE, base_url=BASE_URL))
    assert formatted(diagnostics) == []
    assert (len(dossier.articles), len(dossier.anchors), len(dossier.entities), len(dossier.events), len(dossier.claims)) == (
        3, 8, 4, 3, 2)


def test_golden_output_has_every_page_kind(golden_build):
    _, out = golden_build
    assert sorted(compared_files(out)) == [
        "404.html", "about/index.html", "articles/big-deal/index.html", "articles/copycat/index.html",
        "articles/index.html", "articles/mirror-copy/index.html", "claims/deal-amount/index.html",
        "claims/index.html", "claims/stake/index.html", "compare/index.html", "corrections/index.html",
        "entities/alexandr-wang/index.html", "entities/index.html", "entities/meta/index.html",
        "entities/msl/index.html", "entities/scale-ai/index.html", "feed.xml", "index.html",
        "references/index.html", "robots.txt", "search/index.html", "sources/index.html", "timeline/index.html"]
    assert (out / ".nojekyll").read_bytes() == b""


def test_robots_txt_points_at_the_sitemap_under_the_base_url(golden_build):
    _, out = golden_build
    assert (out / "robots.txt").read_text() == "User-agent: *\nAllow: /\nSitemap: https://example.org/golden/sitemap.xml\n"


# ---- byte-identical rebuilds and atomic output --------------------------------------------

def test_two_builds_of_the_same_input_are_byte_identical(tmp_path):
    first, out_a = build_sample(tmp_path / "a")
    second, out_b = build_sample(tmp_path / "b")
    assert first.ok and second.ok
    files_a, files_b = tree_bytes(out_a), tree_bytes(out_b)
    assert sorted(files_a) == sorted(files_b)
    assert [path for path in files_a if files_a[path] != files_b[path]] == []


def test_a_build_runs_with_the_cyclic_collector_paused_and_gives_it_back(tmp_path, monkeypatch):
    """The collector is off while a build (and a check) loads, resolves and renders — the
    full collections of a large dossier cost more than a tenth of its build — and on again
    after, also when the build fails."""
    import gc
    from dossier import site
    seen = []
    original = site.assemble
    monkeypatch.setattr(site, "assemble", lambda *a: seen.append(gc.isenabled()) or original(*a))
    assert gc.isenabled()
    result, _ = build_sample(tmp_path / "a")
    assert result.ok and seen == [False] and gc.isenabled()
    monkeypatch.setattr(site, "assemble", lambda *a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        build_sample(tmp_path / "b")
    assert gc.isenabled()


def test_the_command_lines_build_holds_no_dossier_while_pagefind_runs(tmp_path, monkeypatch):
    """build(keep=False), as `build.py` calls it: the Pagefind processes run beside a process
    that no longer holds the dossier, and the site is the same."""
    import gc
    import shutil
    from dossier import site
    from dossier.model import Dossier
    source = tmp_path / "sample"
    shutil.copytree(SAMPLE, source)  # a build writes annotations.lock into its source
    alive = []

    def dossiers() -> set[int]:
        gc.collect()
        return {id(o) for o in gc.get_objects() if isinstance(o, Dossier)}

    def index_site(folder, written, store):
        alive.append(dossiers())
        return []
    monkeypatch.setattr(site, "index_site", index_site)
    before = dossiers()  # other tests' dossiers, in this process
    kept = build(Config(source=source, out=tmp_path / "kept", base_url=BASE_URL))
    assert id(kept.dossier) in alive[0] - before
    before = dossiers()
    dropped = build(Config(source=source, out=tmp_path / "dropped", base_url=BASE_URL), keep=False)
    assert dropped.ok and dropped.dossier is None
    assert alive[1] <= before  # no dossier of its own
    assert tree_bytes(tmp_path / "dropped") == tree_bytes(tmp_path / "kept")


def test_rebuilding_into_the_same_folder_is_byte_identical(tmp_path):
    result, out = build_sample(tmp_path)
    before = tree_bytes(out)
    again = build_into(tmp_path / "sample", out, base_url=BASE_URL)
    assert again.ok
    after = tree_bytes(out)
    assert sorted(before) == sorted(after)
    assert [path for path in before if before[path] != after[path]] == []


def test_a_good_build_replaces_the_output_whole(make_dossier, tmp_path):
    source, out = make_dossier(), tmp_path / "public"
    assert build_into(source, out).ok
    (out / "stale.html").write_text("left over")
    write_files(source, {"content/articles/deal.md": None, "content/articles/other.md": BASE_ARTICLE})
    assert build_into(source, out).ok
    assert not (out / "stale.html").exists()
    assert not (out / "articles" / "deal").exists()
    assert (out / "articles" / "other" / "index.html").is_file()


def test_failing_build_leaves_the_previous_output_intact(make_dossier, tmp_path):
    source, out = make_dossier(), tmp_path / "public"
    assert build_into(source, out).ok
    before = tree_bytes(out)
    write_files(source, {"annotations.yaml": annotations_with("""
        annotations:
          - id: missing
            article: deal
            quote: words that are not there
            kind: context
        """)})
    result = build_into(source, out)
    assert not result.ok
    assert [d.message for d in result.diagnostics if d.level == "error"] == [
        "the quote of annotation 'missing' is not in content/articles/deal.md"]
    assert tree_bytes(out) == before
    assert sorted(os.listdir(tmp_path)) == ["dossier", "public"]


def test_failure_while_writing_leaves_the_previous_output_intact_and_no_temporary_folder(make_dossier, tmp_path):
    source, out = make_dossier(), tmp_path / "public"
    assert build_into(source, out).ok
    before = tree_bytes(out)
    (source / "layouts" / "static" / "style.css").mkdir(parents=True)  # a folder where the built-in file is:
    (source / "layouts" / "static" / "style.css" / "x.css").write_text("x")  # copying it fails
    result = build_into(source, out)
    assert not result.ok
    assert [d.location.path for d in result.diagnostics if d.level == "error"] == [str(out)]
    assert tree_bytes(out) == before
    assert sorted(os.listdir(tmp_path)) == ["dossier", "public"]


def test_template_error_fails_the_build_naming_the_template_and_keeps_the_output(make_dossier, tmp_path):
    source = make_dossier({"content/pages/about.md": "---\ntitle: About\n---\nHello.\n",
                           "layouts/page.html": "<p>{{ page.title }}</p>\n"})
    out = tmp_path / "public"
    assert build_into(source, out).ok
    before = tree_bytes(out)
    write_files(source, {"layouts/page.html": "<p>{{ page.title }</p>\n"})
    result = build_into(source, out)
    assert not result.ok
    errors = [d for d in result.diagnostics if d.level == "error"]
    assert [(d.location.path, d.location.line) for d in errors] == [("layouts/page.html", 1)]
    assert errors[0].message.startswith("template syntax error: ")
    assert tree_bytes(out) == before
    assert sorted(os.listdir(tmp_path)) == ["dossier", "public"]


def test_output_folder_that_is_the_dossier_is_refused(make_dossier):
    source = make_dossier()
    result = build_into(source, source)
    assert not result.ok
    assert (source / "annotations.yaml").is_file() and (source / "content" / "articles" / "deal.md").is_file()
    assert "would replace the dossier folder" in result.diagnostics[-1].message


# ---- layouts ------------------------------------------------------------------------------

def test_dossier_without_layouts_uses_the_built_in_ones(make_dossier, tmp_path):
    source = make_dossier()
    assert not (source / "layouts").exists()
    result = build_into(source, tmp_path / "public")
    assert result.ok
    index = (tmp_path / "public" / "index.html").read_text()
    assert index.startswith("<!doctype html>") and "Test dossier" in index
    assert (tmp_path / "public" / "articles" / "deal" / "index.html").is_file()


def test_dossier_layouts_override_one_template_and_keep_the_others(make_dossier, tmp_path):
    page = "---\ntitle: About us\n---\nHello.\n"
    plain = make_dossier({"content/pages/about.md": page}, name="plain")
    custom = make_dossier({"content/pages/about.md": page,
                           "layouts/page.html": "<!doctype html>\n<title>{{ page.title }}</title>\n<p>CUSTOM {{ page.title }}</p>\n"},
                          name="custom")
    assert build_into(plain, tmp_path / "out-plain").ok
    assert build_into(custom, tmp_path / "out-custom").ok
    assert (tmp_path / "out-custom" / "about" / "index.html").read_text() == (
        "<!doctype html>\n<title>About us</title>\n<p>CUSTOM About us</p>\n")
    assert "CUSTOM" not in (tmp_path / "out-plain" / "about" / "index.html").read_text()
    for other in ("index.html", "articles/deal/index.html", "entities/meta/index.html"):
        assert (tmp_path / "out-custom" / other).read_bytes() == (tmp_path / "out-plain" / other).read_bytes()


def test_layouts_folder_added_after_a_build_is_used_by_the_next_build(make_dossier, tmp_path):
    """What `serve` does: build, the editor adds layouts/page.html, build again in the same process."""
    source = make_dossier({"content/pages/about.md": "---\ntitle: About\n---\nHello.\n"})
    assert build_into(source, tmp_path / "public").ok
    write_files(source, {"layouts/page.html": "<p>CUSTOM {{ page.title }}</p>\n"})
    assert build_into(source, tmp_path / "public").ok
    assert (tmp_path / "public" / "about" / "index.html").read_text() == "<p>CUSTOM About</p>\n"


# ---- links --------------------------------------------------------------------------------

def internal(href: str) -> bool:
    return not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", href) and not href.startswith("//")


def test_all_internal_links_are_relative_except_in_404(golden_build):
    _, out = golden_build
    absolute = []
    for path in sorted(out.rglob("*.html")):
        relpath = path.relative_to(out).as_posix()
        if relpath == "404.html" or relpath.startswith("pagefind/"):
            continue
        absolute += [(relpath, href) for href in read_html(path.read_text()).hrefs if internal(href) and href.startswith("/")]
    assert absolute == []


def test_404_page_links_from_the_base_url_path(golden_build):
    _, out = golden_build
    hrefs = [h for h in read_html((out / "404.html").read_text()).hrefs if internal(h) and not h.startswith("#")]
    assert hrefs, "the 404 page links somewhere"
    assert [h for h in hrefs if not h.startswith("/golden/")] == []


def test_every_internal_link_leads_to_a_built_page_and_fragment(golden_build):
    _, out = golden_build
    ids = {p.relative_to(out).as_posix(): set(read_html(p.read_text()).ids) for p in out.rglob("*.html")}
    broken = []
    for page in sorted(ids):
        if page == "404.html" or page.startswith("pagefind/"):
            continue
        for href in read_html((out / page).read_text()).hrefs:
            if not internal(href):
                continue
            path, _, fragment = href.partition("#")
            path = path.split("?", 1)[0]
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page), path)) if path else page
            target = "" if target == "." else target
            if (out / target).is_dir():
                target = posixpath.join(target, "index.html") if target else "index.html"
            if not (out / target).is_file():
                broken.append(f"{page}: {href} (no file)")
            elif fragment and target.endswith(".html") and fragment not in ids[target]:
                broken.append(f"{page}: {href} (no id {fragment!r})")
    assert broken == []


# ---- article, entity and timeline pages ---------------------------------------------------

def test_article_page_highlights_each_quote_and_targets_its_id(golden_build):
    result, out = golden_build
    page = (out / "articles" / "big-deal" / "index.html").read_text()
    reader = read_html(page)
    for annotation_id in ("ledger-amount", "ledger-stake", "ledger-wang"):
        assert annotation_id in reader.ids
        assert squash(marked_text(page, annotation_id)) == squash(result.dossier.anchors[annotation_id].exact)
    # where the quotes overlap, ledger-stake's mark nests inside ledger-amount's
    assert (("ledger-amount",), ("ledger-stake",)) in [(m["around"], m["ids"]) for m in reader.marks]
    body_marks = [m for m in reader.marks if m["ids"]]
    assert body_marks and all(set(m["children"]) <= {"mark"} for m in body_marks)


def test_quote_across_emphasis_is_highlighted_on_the_page(golden_build):
    _, out = golden_build
    page = (out / "articles" / "big-deal" / "index.html").read_text()
    assert re.search(r'<strong><mark [^>]*data-annotation="ledger-amount"[^>]*>about \$14\.3 billion</mark></strong>', page)


def test_curly_quotes_in_the_article_match_straight_quotes_in_the_annotation(golden_build):
    result, out = golden_build
    page = (out / "articles" / "copycat" / "index.html").read_text()
    assert result.dossier.anchors["aggregator-half"].exact.startswith("for “half” of the company — a bet")
    assert "aggregator-half" in read_html(page).ids


def test_entity_page_shows_relations_in_both_directions(golden_build):
    _, out = golden_build
    scale = (out / "entities" / "scale-ai" / "index.html").read_text().lower()
    meta = (out / "entities" / "meta" / "index.html").read_text().lower()
    wang = (out / "entities" / "alexandr-wang" / "index.html").read_text().lower()
    assert "../../entities/meta/" in read_html(scale).hrefs and "investor" in scale   # declared on scale-ai
    assert "../../entities/scale-ai/" in read_html(meta).hrefs and "investor" in meta  # and shown on meta
    assert "../../entities/msl/" in read_html(meta).hrefs and "subsidiary" in meta
    assert "../../entities/scale-ai/" in read_html(wang).hrefs and "ceo" in wang


def test_entity_page_lists_every_mention_with_its_sentence(golden_build):
    result, out = golden_build
    mentions = result.dossier.index.mentions_by_entity["scale-ai"]
    assert len(mentions) == 6
    page = (out / "entities" / "scale-ai" / "index.html").read_text().split('id="mentions-heading"', 1)[1]
    by_article = {re.search(r'id="in-([a-z0-9-]+)"', part).group(1):
                  [" ".join(html.unescape(re.sub(r"<[^>]+>", "", li)).split())
                   for li in re.findall(r"<li>(.*?)</li>", part.split('<ul class="mentions">', 1)[1].split("</ul>", 1)[0])]
                  for part in page.split('<h3 class="mentions-article"')[1:]}
    for mention in mentions:  # each sentence once, whole, with the names linked
        assert " ".join(mention.context.split()) in by_article[mention.article]
    assert all(len(listed) == len(set(listed)) for listed in by_article.values())
    assert sum(map(len, by_article.values())) < len(mentions), "a sentence naming Scale AI twice is listed once"
    assert "Meta invested $15 billion in Scale AI for “half” of the company — a bet on human-labelled data." in sum(by_article.values(), [])


def test_timeline_keeps_precision_and_puts_a_year_before_its_months_and_a_month_before_its_days(golden_build):
    result, out = golden_build
    assert [(t.date.iso, t.title) for t in result.dossier.timeline] == [
        ("2016", "Scale AI is founded"),
        ("2025-06", "Meta forms Meta Superintelligence Labs"),
        ("2025-06", "Why Meta Bet Big on Scale"),
        ("2025-06-12", "Meta and Scale AI announce the deal"),
        ("2025-06-13", "Meta Buys Into Scale AI"),
        ("2025-06-14", "Meta Buys Into Scale AI (copy)"),
    ]
    text = page_text((out / "timeline" / "index.html").read_text())
    positions = [text.find(title) for title in ("Scale AI is founded", "Meta forms Meta Superintelligence Labs",
                                                "Why Meta Bet Big on Scale", "Meta and Scale AI announce the deal",
                                                "Meta Buys Into Scale AI")]
    assert -1 not in positions and positions == sorted(positions)


def test_timeline_order_from_strings():
    events = "".join(f"  - date: {date}\n    title: Event {date}\n" for date in
                     ("2025-06-01", "2025", "2024-12", "2025-06", "2025-05-31", "2025-01"))
    dossier, diagnostics = resolve_strings(BASE_ANNOTATIONS + "events:\n" + events)
    assert formatted(diagnostics, "error") == []
    assert [t.date.iso for t in dossier.timeline] == ["2024-12", "2025", "2025-01", "2025-05-31", "2025-06", "2025-06-01",
                                                      "2025-06-12"]
    assert dossier.timeline[-1].article is not None  # the article's publication, 2025-06-12


def test_articles_are_ordered_newest_first():
    dossier, _ = resolve_strings(articles={
        "old": article("Meta text.\n", title="Old", extra="published: 2024\n"),
        "new": article("Meta text.\n", title="New", extra="published: 2025-06-12\n"),
        "undated": article("Meta text.\n", title="Undated"),
        "mid": article("Meta text.\n", title="Mid", extra="published: 2025-06\n"),
    })
    assert list(dossier.articles) == ["new", "mid", "old", "undated"]


def test_base_url_option_overrides_the_site_setting(make_dossier, tmp_path):
    source = make_dossier({"content/pages/about.md": "---\ntitle: About\n---\nHello.\n"})
    assert build_into(source, tmp_path / "public", base_url="https://other.example/sub").ok
    assert (tmp_path / "public" / "robots.txt").read_text().endswith("Sitemap: https://other.example/sub/sitemap.xml\n")
    assert [h for h in read_html((tmp_path / "public" / "404.html").read_text()).hrefs
            if internal(h) and not h.startswith("#") and not h.startswith("/sub/")] == []
