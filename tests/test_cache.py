"""The persistent build cache (cache.py, reuse.py): a build that takes what it can from the
cache writes exactly what a cold build of the same files writes — after an article, a
template, an entity or an annotation edit, and after a Dossier upgrade — and a cache that is
corrupt, truncated or hostile is ignored and rebuilt, never trusted."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BUILD_PY, ROOT, build_env, tree_bytes
from dossier import BUILTIN_THEME, cache
from dossier.cache import FORMAT, TAG, digest
from dossier.site import Config, build

SAMPLE = ROOT / "tests" / "golden" / "sample"
BASE_URL = "https://example.org/golden/"


@pytest.fixture
def sample(tmp_path) -> Path:
    source = tmp_path / "dossier"
    shutil.copytree(SAMPLE, source)
    return source


def cached_build(source: Path, out: Path, search: bool = False, folder: Path | None = None):
    result = build(Config(source=source, out=out, base_url=BASE_URL, search=search,
                          cache=folder or source / ".dossier-cache"))
    assert result.ok, [d.format() for d in result.diagnostics]
    return result


def cold_tree(source: Path, out: Path, search: bool = False) -> dict[str, bytes]:
    result = build(Config(source=source, out=out, base_url=BASE_URL, search=search))
    assert result.ok, [d.format() for d in result.diagnostics]
    assert not (out.parent / ".dossier-cache").exists()
    return tree_bytes(out)


def assert_same_as_cold(source: Path, tmp_path: Path, name: str, search: bool = False):
    """A cached build and a cold build of the same files: the same bytes. Returns the result."""
    result = cached_build(source, tmp_path / f"{name}-cached", search)
    assert tree_bytes(tmp_path / f"{name}-cached") == cold_tree(source, tmp_path / f"{name}-cold", search)
    return result


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def many_articles(folder: Path, count: int = 60) -> Path:
    """A dossier of `count` short articles, each with one note: enough pages for the build to
    render them in worker processes (parallel.MIN_PARALLEL)."""
    annotations = ["site: {title: Many, base_url: 'https://example.org/many/', language: en, description: Many.,"
                   " published: 2025-06-20}",
                   "sources: {daily: {name: The Daily, rating: reliable, rationale: Named authors.}}",
                   "entities: {acme: {name: Acme, type: company}}", "annotations:"]
    for n in range(count):
        article = folder / "content" / "articles" / f"story-{n:03d}.md"
        article.parent.mkdir(parents=True, exist_ok=True)
        article.write_text(f"---\ntitle: Story {n}\nsource: daily\nkind: news\npublished: 2025-06-{1 + n % 28:02d}\n---\n"
                           f"Acme reported {n} new contracts on Monday. The figure for story {n} is quoted twice.\n",
                           encoding="utf-8")
        annotations.append(f"  - {{id: note-{n}, article: story-{n:03d}, quote: 'Acme reported {n} new contracts',"
                           f" kind: context, note: 'Note {n}.'}}")
    annotations.append("assessments:")
    annotations += [f"  story-{n:03d}: {{summary: Holds up.}}" for n in range(count)]
    (folder / "annotations.yaml").write_text("\n".join(annotations) + "\n", encoding="utf-8")
    return folder


# ---- a cached build is a cold build ---------------------------------------------------------

def test_builds_on_every_core_keep_and_reuse_every_result(tmp_path, monkeypatch):
    """With the work spread over worker processes (their cache files are reported back to the
    build, which keeps them), a second build finds every page and the search index again."""
    monkeypatch.setenv("DOSSIER_PROCESSES", "2")
    source = many_articles(tmp_path / "many")
    first = cached_build(source, tmp_path / "first", search=True)
    assert first.pages > 60
    second = cached_build(source, tmp_path / "second", search=True)
    for kind, count in (("articles", 60), ("pages", first.pages), ("search", 1)):
        assert second.cache.reused(kind) == (count, count), f"{kind} made again although nothing changed"
    assert tree_bytes(tmp_path / "second") == tree_bytes(tmp_path / "first")
    edit(source / "content/articles/story-007.md", "on Monday.", "on Monday morning.")
    result = assert_same_as_cold(source, tmp_path, "edited", search=True)
    assert result.cache.reused("articles") == (59, 60)


def test_a_second_build_takes_everything_from_the_cache_and_writes_the_same_bytes(sample, tmp_path):
    first = cached_build(sample, tmp_path / "first", search=True)
    assert [first.cache.reused(kind)[0] for kind in ("annotations", "articles", "pages", "search")] == [0, 0, 0, 0]
    second = cached_build(sample, tmp_path / "second", search=True)
    for kind, count in (("annotations", 1), ("articles", 3), ("pages", first.pages), ("search", 1)):
        assert second.cache.reused(kind) == (count, count), f"{kind} made again although nothing changed"
    assert tree_bytes(tmp_path / "second") == tree_bytes(tmp_path / "first")
    assert (tmp_path / "second" / "pagefind" / "pagefind.js").is_file()
    entry = tmp_path / "second" / "pagefind" / "pagefind-entry.json"  # the index's files: linked, not copied
    assert os.path.samefile(entry, sample / ".dossier-cache" / cache.Store.blob_path(digest(entry.read_bytes())))


def test_a_warm_build_links_the_pages_it_takes_from_the_cache_instead_of_writing_them(sample, tmp_path):
    folder = sample / ".dossier-cache"
    cached_build(sample, tmp_path / "first")
    cached_build(sample, tmp_path / "second")
    page = tmp_path / "second" / "index.html"
    blob = folder / cache.Store.blob_path(digest(page.read_bytes()))
    assert os.path.samefile(page, blob) and page.stat().st_nlink >= 2   # one file, no second copy
    assert not page.is_symlink() and page.stat().st_mode == (tmp_path / "first" / "index.html").stat().st_mode
    (tmp_path / "second" / "index.html").unlink()                       # the site's file can go…
    assert blob.is_file()                                               # …the cache keeps its own
    assert_same_as_cold(sample, tmp_path, "third")


def test_a_blob_that_is_a_symbolic_link_is_not_taken_into_the_site(sample, tmp_path):
    folder = sample / ".dossier-cache"
    cached_build(sample, tmp_path / "first")
    blob = folder / cache.Store.blob_path(digest((tmp_path / "first" / "index.html").read_bytes()))
    copy = tmp_path / "outside.html"
    copy.write_bytes(blob.read_bytes())
    blob.unlink()
    blob.symlink_to(copy)                                               # the same bytes, but elsewhere
    assert_same_as_cold(sample, tmp_path, "second")
    page = tmp_path / "second-cached" / "index.html"
    assert not page.is_symlink() and not os.path.samefile(page, copy)


def test_after_an_article_edit_the_cached_build_matches_a_cold_build(sample, tmp_path):
    cached_build(sample, tmp_path / "before", search=True)
    edit(sample / "content/articles/big-deal.md", "the companies said.", "the companies said. A new sentence.")
    result = assert_same_as_cold(sample, tmp_path, "after", search=True)
    assert result.cache.reused("articles") == (2, 3), "only the edited article is resolved again"
    found, pages = result.cache.reused("pages")
    assert 0 < found < pages, "only the pages the edit touches are rendered again"
    page = (tmp_path / "after-cached" / "articles" / "big-deal" / "index.html").read_text(encoding="utf-8")
    assert "A new sentence." in page


def test_an_edit_within_a_sentence_that_names_an_entity_changes_the_entitys_page(sample, tmp_path):
    """An entity page's key is made from what its sentences are taken from (the resolved
    articles), not from the sentences: a word changed in one of them still renders it again."""
    cached_build(sample, tmp_path / "before")
    edit(sample / "content/articles/big-deal.md", "values Scale AI at about $29 billion", "values Scale AI at roughly $29 billion")
    assert_same_as_cold(sample, tmp_path, "after")
    entity = (tmp_path / "after-cached" / "entities" / "scale-ai" / "index.html").read_text(encoding="utf-8")
    assert "at roughly $29 billion" in entity


def test_an_article_edit_that_breaks_a_quote_fails_and_its_fix_builds_like_a_cold_build(sample, tmp_path):
    cached_build(sample, tmp_path / "before")
    article = sample / "content/articles/big-deal.md"
    edit(article, "invest **about $14.3 billion** in Scale AI", "invest **about $15 billion** in Scale AI")
    failed = build(Config(source=sample, out=tmp_path / "failed", base_url=BASE_URL, search=False,
                          cache=sample / ".dossier-cache"))
    assert not failed.ok and any("ledger-amount" in d.format() or "quote" in d.message for d in failed.diagnostics)
    edit(article, "invest **about $15 billion** in Scale AI", "invest **about $14.3 billion** in Scale AI")
    assert_same_as_cold(sample, tmp_path, "fixed")


def test_after_a_template_edit_the_cached_build_matches_a_cold_build(sample, tmp_path):
    cached_build(sample, tmp_path / "before")
    layouts = sample / "layouts"
    layouts.mkdir()
    template = (BUILTIN_THEME / "article.html").read_text(encoding="utf-8")
    (layouts / "article.html").write_text(template.replace("{% block content %}", "{% block content %}<!-- mine -->", 1),
                                          encoding="utf-8")
    assert_same_as_cold(sample, tmp_path, "template")
    assert "<!-- mine -->" in (tmp_path / "template-cached/articles/big-deal/index.html").read_text(encoding="utf-8")
    (layouts / "article.html").write_text(template.replace("{% block content %}", "{% block content %}<!-- again -->", 1),
                                          encoding="utf-8")
    assert_same_as_cold(sample, tmp_path, "template-again")


def test_after_entity_edits_the_cached_build_matches_a_cold_build(sample, tmp_path):
    cached_build(sample, tmp_path / "before")
    annotations = sample / "annotations.yaml"
    edit(annotations, "    aliases: [Wang]\n", "    aliases: [Wang, Alexandr]\n")  # new links in the articles
    assert_same_as_cold(sample, tmp_path, "alias")
    edit(annotations, "    summary: Founder of Scale AI.\n", "    summary: Founder and former chief of Scale AI.\n")
    assert_same_as_cold(sample, tmp_path, "summary")
    edit(annotations, "    name: Meta Superintelligence Labs\n", "    name: Meta Superintelligence Laboratory\n")
    assert_same_as_cold(sample, tmp_path, "name")


def test_after_annotation_edits_the_cached_build_matches_a_cold_build(sample, tmp_path):
    cached_build(sample, tmp_path / "before")
    annotations = sample / "annotations.yaml"
    edit(annotations, "    note: The amount matches the announcement.\n",
         "    note: The amount matches the announcement, to the dollar.\n")
    assert_same_as_cold(sample, tmp_path, "note")
    edit(annotations, "    quote: invest about $14.3 billion in Scale AI\n", "    quote: about $14.3 billion\n")
    assert_same_as_cold(sample, tmp_path, "quote")
    edit(annotations, "annotations:\n", "annotations:\n  - id: rivals\n    article: big-deal\n"
                                        "    quote: Rivals that buy training data\n    kind: context\n"
                                        "    note: Which rivals is not said.\n")
    assert_same_as_cold(sample, tmp_path, "added")
    edit(annotations, "# The golden sample", "# Lines above every item\n\n\n# The golden sample")  # every item moves down
    assert_same_as_cold(sample, tmp_path, "moved")
    edit(annotations, "    verdict: accurate\n    key: true\n", "    verdict: mixed\n    key: true\n")  # a claim
    assert_same_as_cold(sample, tmp_path, "claim")


def test_a_dossier_upgrade_uses_nothing_the_old_version_cached(sample, tmp_path, monkeypatch):
    cached_build(sample, tmp_path / "old")
    monkeypatch.setattr(cache, "_CODE_VERSION", ["another version of Dossier"])
    result = assert_same_as_cold(sample, tmp_path, "upgraded")
    for kind in ("annotations", "articles", "pages", "data"):
        assert result.cache.reused(kind)[0] == 0, f"{kind} made by the old version was used"


def test_a_dossier_upgrade_is_a_new_code_version(tmp_path, monkeypatch):
    """Any change to Dossier's code or built-in theme, or to a library it renders with, gives
    another code version (so every key changes)."""
    before = cache.code_version()
    monkeypatch.setattr(cache, "_CODE_VERSION", [])
    monkeypatch.setattr(cache, "__version__", "99.0")
    assert cache.code_version() != before


# ---- a cache is input: never trusted ----------------------------------------------------------

def entries(folder: Path, kind: str) -> list[Path]:
    return sorted((folder / "entries" / kind).rglob("*"))


def test_a_corrupt_or_truncated_cache_is_ignored_and_rebuilt(sample, tmp_path):
    folder = sample / ".dossier-cache"
    cached_build(sample, tmp_path / "first", search=True)
    blobs = sorted(p for p in (folder / "blobs").rglob("*") if p.is_file())
    for n, path in enumerate(p for p in folder.rglob("*") if p.is_file() and p.name != TAG):
        data = path.read_bytes()
        if n % 3 == 0:
            path.write_bytes(data[: len(data) // 2])                     # truncated
        elif n % 3 == 1:
            path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))          # one bit flipped
    for blob in blobs[:3]:
        blob.write_bytes(b"<script>alert(1)</script>")                   # a blob that is not what its name says
    result = assert_same_as_cold(sample, tmp_path, "corrupt", search=True)
    assert result.cache.reused("pages")[0] < result.pages
    again = cached_build(sample, tmp_path / "again", search=True)        # what was broken was written anew
    assert again.cache.reused("pages") == (again.pages, again.pages)
    assert again.cache.reused("articles") == (3, 3)
    assert tree_bytes(tmp_path / "again") == tree_bytes(tmp_path / "corrupt-cached")


def test_a_well_formed_entry_of_the_wrong_shape_is_not_trusted(sample, tmp_path):
    """An entry with a valid checksum but hostile content (as a poisoned CI cache could hold)
    decodes into nothing: it is a miss, and the output is a cold build's."""
    folder = sample / ".dossier-cache"
    cached_build(sample, tmp_path / "first")
    hostile = [["not", "an", "article"], {"__class__": "os.system", "args": ["touch pwned"]}, [None] * 9,
               "<script>alert(1)</script>", [[], [1, 2, 3]], 12]
    kinds = ("articles", "annotations", "pages", "data")
    n = 0
    for kind in kinds:
        for path in entries(folder, kind):
            if path.is_file():
                payload = json.dumps(hostile[n % len(hostile)]).encode()
                path.write_bytes(FORMAT + digest(payload).encode() + b"\n" + payload)
                n += 1
    assert n > 10
    assert_same_as_cold(sample, tmp_path, "hostile")
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_a_hostile_manifest_never_writes_outside_the_search_bundle(sample, tmp_path):
    folder = sample / ".dossier-cache"
    cached_build(sample, tmp_path / "first", search=True)
    name = cache.Store(folder).put_blob(b"owned")
    for path in entries(folder, "search"):
        if path.is_file():
            payload = json.dumps({"../../../escaped.txt": name, "pagefind-entry.json": name}).encode()
            path.write_bytes(FORMAT + digest(payload).encode() + b"\n" + payload)
    assert_same_as_cold(sample, tmp_path, "manifest", search=True)
    assert not list(tmp_path.rglob("escaped.txt"))


def test_links_in_the_cache_folder_are_never_followed(sample, tmp_path):
    folder = sample / ".dossier-cache"
    cached_build(sample, tmp_path / "first")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(folder / "entries")
    (folder / "entries").symlink_to(elsewhere)                          # writes would land in elsewhere/
    assert_same_as_cold(sample, tmp_path, "linked")
    assert list(elsewhere.iterdir()) == []
    assert (folder / "entries").is_dir() and not (folder / "entries").is_symlink()


# ---- where the cache may be ------------------------------------------------------------------

def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD_PY), *args], env=build_env(), capture_output=True, text=True,
                          timeout=300)


def test_the_cache_is_beside_the_dossier_by_default_and_tagged(sample, tmp_path):
    result = run("--source", str(sample), "--out", str(tmp_path / "out"), "--no-search")
    assert result.returncode == 0, result.stderr
    folder = sample / ".dossier-cache"
    assert (folder / TAG).read_bytes().startswith(b"Signature: 8a477f597d28d172789f06886806bc55")
    assert not any(".dossier-cache" in p.parts for p in (tmp_path / "out").rglob("*"))
    again = run("--source", str(sample), "--out", str(tmp_path / "out"), "--no-search")
    assert again.returncode == 0 and "(from the build cache: 3 of 3 articles, 21 of 21 pages)" in again.stderr, again.stderr


def test_no_cache_writes_no_cache_and_cache_moves_it(sample, tmp_path):
    result = run("--source", str(sample), "--out", str(tmp_path / "out"), "--no-search", "--no-cache")
    assert result.returncode == 0, result.stderr
    assert not (sample / ".dossier-cache").exists()
    moved = tmp_path / "ci-cache"
    result = run("--source", str(sample), "--out", str(tmp_path / "out"), "--no-search", "--cache", str(moved))
    assert result.returncode == 0, result.stderr
    assert (moved / TAG).is_file() and not (sample / ".dossier-cache").exists()
    result = run("check", "--source", str(sample), "--cache", str(moved))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("where", ["content", "layouts", "out", "inside-out", "source", "foreign", "link", "file"])
def test_a_cache_folder_that_may_not_be_used_is_refused_before_anything_is_written(sample, tmp_path, where):
    out = tmp_path / "out"
    (sample / "layouts").mkdir()
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "a-file").write_text("mine", encoding="utf-8")
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    folder = {"content": sample / "content" / "cache", "layouts": sample / "layouts" / "cache", "out": out,
              "inside-out": out / "cache", "source": sample, "foreign": foreign, "link": tmp_path / "link",
              "file": tmp_path / "a-file"}[where]
    before = tree_bytes(tmp_path)
    result = run("--source", str(sample), "--out", str(out), "--no-search", "--cache", str(folder))
    assert result.returncode == 1, result.stderr
    assert f"error: --cache {folder} " in result.stderr and "Traceback" not in result.stderr
    assert tree_bytes(tmp_path) == before
    assert not out.exists()


def test_the_sweep_keeps_what_the_last_two_builds_used(sample, tmp_path):
    folder = sample / ".dossier-cache"
    article = sample / "content/articles/big-deal.md"
    cached_build(sample, tmp_path / "one")
    first = {p for p in (folder / "entries" / "pages").rglob("*") if p.is_file()}
    edit(article, "the companies said.", "the companies said. Two.")
    cached_build(sample, tmp_path / "two")
    assert first <= {p for p in (folder / "entries" / "pages").rglob("*") if p.is_file()}
    edit(article, "the companies said. Two.", "the companies said. Three.")
    cached_build(sample, tmp_path / "three")
    now = {p for p in (folder / "entries" / "pages").rglob("*") if p.is_file()}
    assert not first <= now, "pages only the first build used are gone"
    assert len(now) < 2 * len(first)
    stray = folder / "entries" / "pages" / "zz" / ".x.123.tmp"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left by a killed build")
    cached_build(sample, tmp_path / "four")
    assert not stray.exists()


# ---- what a page of one thing may read ----------------------------------------------------------

def test_pages_of_one_thing_read_only_the_dossiers_structure(monkeypatch):
    """The rule the page keys rely on (render.OWN_CONTEXT_TEMPLATES): an article's, entity's,
    claim's or content page's template reads from `d` only the structure (PageKeys.structure)
    — another article's front matter, never its text, notes, mentions, nor the backlinks.
    Every attribute and item a template reads is watched while every such page renders."""
    from dossier.model import Article, Dossier, ResolvedArticle
    from dossier.render import OWN_CONTEXT_TEMPLATES, page_context, plan_pages, render_page
    from dossier.site import check, layout_dirs
    from dossier.templates import TrustedEnvironment, make_environment

    for source in (SAMPLE, ROOT):
        config = Config(source=source, out=Path("unused"))
        d, problems = check(config)
        assert d is not None, [p.format() for p in problems]
        seen, reads = {}, []

        class Watching(TrustedEnvironment):
            def getattr(self, obj, attribute):
                reads.append((obj, attribute))
                return super().getattr(obj, attribute)

            def getitem(self, obj, argument):
                reads.append((obj, argument))
                return super().getitem(obj, argument)

        env = make_environment(layout_dirs(config), sandboxed=False)
        env.__class__ = Watching
        pages = [p for p in plan_pages(d) if p.template in OWN_CONTEXT_TEMPLATES]
        assert {p.template for p in pages} == set(OWN_CONTEXT_TEMPLATES) - ({"page.html"} if not d.pages else set())
        for page in pages:
            reads.clear()
            render_page(env, d, page)
            own = page_context(d, page).get("resolved")
            for obj, name in reads:
                where = f"{page.template} ({page.url}) reads {type(obj).__name__}.{name}"
                if obj is d:
                    assert name not in ("anchors", "timeline", "index"), where
                elif obj is d.articles:
                    assert name in d.articles or name == "get", where
                elif isinstance(obj, ResolvedArticle) and obj is not own:
                    assert name == "article", where + " of another article"
                elif isinstance(obj, Article) and (own is None or obj is not own.article):
                    assert name != "body", where + " of another article"
            seen[page.template] = seen.get(page.template, 0) + 1
        assert seen


def test_entries_round_trip_through_json_and_only_dataclasses_are_encoded():
    """What the cache stores of a dataclass decodes to an equal value; a field left out by
    `skip` is absent; anything that is neither JSON nor a dataclass is refused, not stringified
    (a silent repr would make two different values share a key)."""
    from dossier.model import Annotation, Span
    from dossier.reuse import POSITIONS
    span = Span(3, 9)
    assert json.loads(cache.to_json([span, {"a": (1, "é")}])) == [[3, 9], {"a": [1, "é"]}]
    assert cache.decode(Span, cache.encode(span)) == span
    assert cache.decode(tuple[Span, ...], cache.encode((span, Span(0, 1)))) == (span, Span(0, 1))
    assert cache.to_json(span, frozenset({"end"})) == "[3]"
    assert POSITIONS <= set(cache.field_names(Annotation))
    with pytest.raises(TypeError):
        cache.to_json({span.start, span.end})
