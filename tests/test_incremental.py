"""serve's incremental rebuilds write exactly what a cold build of the same files writes."""
from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, tree_bytes
from dossier.incremental import Session
from dossier.site import Config, build

BASE_URL = "http://127.0.0.1:8000/"


def cold(source: Path, out: Path) -> dict[str, bytes]:
    result = build(Config(source=source, out=out, base_url=BASE_URL, search=False))
    assert result.ok, [d.format() for d in result.diagnostics]
    return tree_bytes(out)


@pytest.fixture
def dossier(tmp_path):
    source = tmp_path / "dossier"
    shutil.copytree(ROOT / "content", source / "content")
    shutil.copy(ROOT / "annotations.yaml", source / "annotations.yaml")
    session = Session(Config(source=source, out=tmp_path / "served", base_url=BASE_URL, search=False))
    assert session.build().ok
    return source, session, tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def assert_same_as_cold(source: Path, session: Session, tmp_path: Path) -> None:
    assert tree_bytes(session.config.out) == cold(source, tmp_path / "cold")


def test_article_edit_matches_a_cold_build(dossier):
    source, session, tmp_path = dossier
    edit(source / "content/articles/gig-workers-left-behind.md", "Most of these people", "Most of these many people")
    result = session.build({"content/articles/gig-workers-left-behind.md"})
    assert result.ok
    assert "many people" in (session.config.out / "articles/gig-workers-left-behind/index.html").read_text()
    assert_same_as_cold(source, session, tmp_path)


def test_annotation_edit_matches_a_cold_build(dossier):
    source, session, tmp_path = dossier
    edit(source / "annotations.yaml", "A row of hashtags from the scraped page", "A row of hashtags, scraped")
    assert session.build({"annotations.yaml"}).ok
    assert "A row of hashtags, scraped" in (session.config.out / "articles/cracks-forming-partnership/index.html").read_text()
    assert_same_as_cold(source, session, tmp_path)


def test_a_new_telling_of_a_claim_updates_every_article_that_tells_it(dossier):
    """The other articles' notes say how many articles tell the claim: they change too."""
    source, session, tmp_path = dossier
    edit(source / "annotations.yaml", "  - id: gig-founded-2016\n", """  - id: cracks-founded-telling
    article: cracks-forming-partnership
    quote: "Meta, formerly known as Facebook"
    kind: context
    claim: scale-founding
    note: Not about the founding; a test telling.
  - id: gig-founded-2016
""")
    assert session.build({"annotations.yaml"}).ok
    assert "also told by 2 other articles" in (session.config.out / "articles/gig-workers-left-behind/index.html").read_text()
    assert_same_as_cold(source, session, tmp_path)


def test_annotation_moved_to_another_quote_matches_a_cold_build(dossier):
    source, session, tmp_path = dossier
    edit(source / "annotations.yaml", 'quote: "Meta, formerly known as Facebook"', 'quote: "formerly known as Facebook"')
    assert session.build({"annotations.yaml"}).ok
    assert_same_as_cold(source, session, tmp_path)


def test_entity_and_template_edits_match_a_cold_build(dossier):
    source, session, tmp_path = dossier
    edit(source / "annotations.yaml", "    name: Lucy Guo\n", "    name: Lucy W. Guo\n")
    assert session.build({"annotations.yaml"}).ok
    (source / "layouts").mkdir()
    page = (ROOT / "layouts" / "page.html").read_text(encoding="utf-8")
    (source / "layouts" / "page.html").write_text(page.replace("{% block content %}", "{% block content %}<!-- mine -->", 1),
                                                  encoding="utf-8")
    assert session.build({"layouts/page.html"}).ok
    assert "<!-- mine -->" in (session.config.out / "about/index.html").read_text()
    assert_same_as_cold(source, session, tmp_path)


def test_a_failed_rebuild_changes_nothing_and_the_next_good_one_catches_up(dossier):
    source, session, tmp_path = dossier
    before = tree_bytes(session.config.out)
    edit(source / "annotations.yaml", 'quote: "Meta, formerly known as Facebook"', 'quote: "Meta, formerly Facebook"')
    assert not session.build({"annotations.yaml"}).ok
    assert tree_bytes(session.config.out) == before
    edit(source / "annotations.yaml", 'quote: "Meta, formerly Facebook"', 'quote: "formerly known as Facebook"')
    edit(source / "content/articles/gig-workers-left-behind.md", "Most of these people", "Most of these many people")
    assert session.build({"annotations.yaml", "content/articles/gig-workers-left-behind.md"}).ok
    assert_same_as_cold(source, session, tmp_path)


def test_adding_and_removing_an_article_matches_a_cold_build(dossier):
    source, session, tmp_path = dossier
    extra = source / "content/articles/extra.md"
    extra.write_text("---\ntitle: Extra\nsource: time\nkind: news\n---\nMeta and Scale AI, again.\n", encoding="utf-8")
    assert session.build({"content/articles/extra.md"}).ok
    assert (session.config.out / "articles/extra/index.html").is_file()
    assert_same_as_cold(source, session, tmp_path)
    extra.unlink()
    assert session.build({"content/articles/extra.md"}).ok
    shutil.rmtree(tmp_path / "cold")
    assert not (session.config.out / "articles/extra/index.html").exists()
    assert_same_as_cold(source, session, tmp_path)


def test_deferred_list_pages_and_data_catch_up_after_finish(dossier):
    source, session, tmp_path = dossier
    edit(source / "content/articles/gig-workers-left-behind.md", "Most of these people", "Most of these many people")
    edit(source / "annotations.yaml", "A row of hashtags from the scraped page", "A row of hashtags, scraped")
    assert session.build({"content/articles/gig-workers-left-behind.md", "annotations.yaml"}, defer=True).ok
    page = (session.config.out / "articles/gig-workers-left-behind/index.html").read_text()
    assert "many people" in page  # the edited article is on disk at once
    assert "many people" not in (session.config.out / "dossier.json").read_text()  # the data waits for finish
    session.finish()
    assert_same_as_cold(source, session, tmp_path)


@pytest.fixture
def resolved(monkeypatch):
    """The article files serve resolves (parses, anchors, links), in order."""
    import dossier.incremental as incremental
    import dossier.recheck as recheck
    seen: list[str] = []
    original = incremental.prepare_articles

    def counting(shared, relpaths):
        seen.extend(relpaths)
        return original(shared, relpaths)

    monkeypatch.setattr(incremental, "prepare_articles", counting)  # the edited articles, first
    monkeypatch.setattr(recheck, "prepare_articles", counting)  # the check
    return seen


def test_an_annotations_error_is_reported_without_resolving_any_article(dossier, resolved):
    source, session, tmp_path = dossier
    before = tree_bytes(session.config.out)
    edit(source / "annotations.yaml", "    kind: boilerplate\n", "    kind: boilerplatee\n")
    result = session.build({"annotations.yaml"})
    assert not result.ok
    assert [d.location.line for d in result.diagnostics if "boilerplatee" in d.message]
    assert resolved == [] and tree_bytes(session.config.out) == before
    edit(source / "annotations.yaml", "    kind: boilerplatee\n", "    kind: boilerplate\n")
    assert session.build({"annotations.yaml"}).ok
    assert resolved == []  # every article's annotations are as they were: nothing to redo
    assert_same_as_cold(source, session, tmp_path)


def test_a_half_saved_annotations_file_then_the_whole_one_resolves_each_article_once(dossier, resolved):
    """An editor's save seen half-way (valid YAML, the last items missing), then whole: the
    articles that lost their annotations for a moment find their resolution again."""
    source, session, tmp_path = dossier
    path = source / "annotations.yaml"
    whole = path.read_text(encoding="utf-8")
    cut = whole.rindex("\n  - id: ", 0, whole.index("\n  - id: ", len(whole) // 2))  # an item boundary
    path.write_text(whole[:cut + 1], encoding="utf-8")
    assert session.build({"annotations.yaml"}).ok
    lost = set(resolved)
    assert lost, "the half file should leave some article without some of its annotations"
    path.write_text(whole, encoding="utf-8")
    assert session.build({"annotations.yaml"}).ok
    assert set(resolved) == lost and len(resolved) == len(lost)  # nothing resolved a second time
    assert_same_as_cold(source, session, tmp_path)


def test_a_superseded_rebuild_writes_its_edited_page_and_the_next_one_catches_up(dossier):
    """serve stops a rebuild when newer edits wait, once the edited article is on disk; the
    rebuild after it, given both edits, ends where a cold build of both does."""
    from dossier.incremental import Superseded
    source, session, tmp_path = dossier
    early = []
    session.on_early_write = early.append
    edit(source / "content/articles/gig-workers-left-behind.md", "Most of these people", "Most of these many people")
    session.superseded.set()
    with pytest.raises(Superseded):
        session.build({"content/articles/gig-workers-left-behind.md"}, defer=True)
    assert early == [{"articles/gig-workers-left-behind/"}]
    assert "many people" in (session.config.out / "articles/gig-workers-left-behind/index.html").read_text()
    assert "many people" not in session.dossier.articles["gig-workers-left-behind"].text  # it stopped before the end
    session.superseded.clear()
    edit(source / "annotations.yaml", "A row of hashtags from the scraped page", "A row of hashtags, scraped")
    assert session.build({"content/articles/gig-workers-left-behind.md", "annotations.yaml"}, defer=True).ok
    session.finish()
    assert_same_as_cold(source, session, tmp_path)


# ---- issue 18: title quotes, bottom lines, and the figures content pages state ----------------

def test_a_title_annotation_added_and_moved_matches_a_cold_build(dossier):
    source, session, tmp_path = dossier
    edit(source / "annotations.yaml", "  - id: gig-founded-2016\n", """  - id: why-headline
    article: why-meta-invested
    field: title
    quote: "Future AI Models"
    kind: fact-check
    verdict: unsupported
    note: A test note on the headline.
    cite: [ap-founding]
  - id: gig-founded-2016
""")
    assert session.build({"annotations.yaml"}).ok
    page = (session.config.out / "articles/why-meta-invested/index.html").read_text()
    assert '<mark class="k-fact-check v-unsupported" data-annotation="why-headline">Future AI Models</mark>' in page
    assert_same_as_cold(source, session, tmp_path)
    edit(source / "annotations.yaml", '    quote: "Future AI Models"\n', '    quote: "Why Did Meta"\n')
    assert session.build({"annotations.yaml"}).ok
    assert_same_as_cold(source, session, tmp_path)


def test_an_assessment_added_and_edited_matches_a_cold_build(dossier):
    """The article's page shows its bottom line although none of its annotations changed."""
    source, session, tmp_path = dossier
    path = source / "annotations.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("\n  gig-workers-left-behind:\n    summary:")  # replace the shipped bottom line
    end = text.index("\n\n", start)  # the end of its folded summary
    path.write_text(text[:start] + "\n  gig-workers-left-behind: {summary: 'Original reporting, first version.'}"
                    + text[end:], encoding="utf-8")
    assert session.build({"annotations.yaml"}, defer=True).ok
    assert "first version" in (session.config.out / "articles/gig-workers-left-behind/index.html").read_text()
    session.finish()
    assert_same_as_cold(source, session, tmp_path)
    edit(path, "first version.'}", "second version.', updated: 2026-12-01}")
    assert session.build({"annotations.yaml"}, defer=True).ok
    assert "second version" in (session.config.out / "articles/gig-workers-left-behind/index.html").read_text()
    session.finish()
    shutil.rmtree(tmp_path / "cold")
    assert_same_as_cold(source, session, tmp_path)


def test_an_annotation_that_changes_the_coverage_updates_the_pages_that_state_it(dossier):
    """The methodology and about pages state the dossier's coverage: they are re-rendered too."""
    source, session, tmp_path = dossier
    before = (session.config.out / "methodology/index.html").read_text()
    edit(source / "annotations.yaml", "  - id: gig-founded-2016\n", """  - id: why-label-heading
    article: why-meta-invested
    quote: "A New Focus on Human-Centric AI"
    kind: context
    note: A test note on a sentence nobody annotated.
  - id: gig-founded-2016
""")
    assert session.build({"annotations.yaml"}).ok
    assert (session.config.out / "methodology/index.html").read_text() != before
    assert_same_as_cold(source, session, tmp_path)


# ---- issue 21: template edits show in the open page first; rebuilds leave no cycles -------------

def read(session: Session, url: str) -> str:
    return (session.config.out / url / "index.html").read_text(encoding="utf-8")


def own_article_template(source: Path, marker: str) -> None:
    (source / "layouts").mkdir(exist_ok=True)
    page = (ROOT / "layouts" / "article.html").read_text(encoding="utf-8")
    (source / "layouts" / "article.html").write_text(page.replace("{% block content %}", "{% block content %}" + marker, 1),
                                                     encoding="utf-8")


def test_a_template_edit_writes_the_open_page_first_and_leaves_the_rest_to_finish(dossier, resolved):
    source, session, tmp_path = dossier
    shown, other = "articles/gig-workers-left-behind/", "articles/cracks-forming-partnership/"
    session.open_pages = lambda: {shown}
    seen = []
    session.on_early_write = lambda pages: seen.append((pages, "<!-- v1 -->" in read(session, shown),
                                                        "<!-- v1 -->" in read(session, other)))
    own_article_template(source, "<!-- v1 -->")
    assert session.build({"layouts/", "layouts/article.html"}, defer=True).ok
    assert seen == [({shown}, True, False)]  # the open page was on disk, the other not yet, when browsers reloaded
    assert "<!-- v1 -->" not in read(session, other) and other in session.stale
    assert resolved == []  # a template changes no article: nothing was checked again
    session.finish()
    assert "<!-- v1 -->" in read(session, other) and not session.stale
    assert_same_as_cold(source, session, tmp_path)


def test_pages_a_template_edit_left_stale_catch_up_after_later_edits(dossier):
    """The background finish of a template edit may be stopped by the next edit: the pages it
    did not write stay stale until a finish writes them."""
    source, session, tmp_path = dossier
    own_article_template(source, "<!-- v1 -->")
    assert session.build({"layouts/", "layouts/article.html"}, defer=True).ok  # no browser: every page left stale
    assert "articles/gig-workers-left-behind/" in session.stale
    edit(source / "content/articles/gig-workers-left-behind.md", "Most of these people", "Most of these many people")
    assert session.build({"content/articles/gig-workers-left-behind.md"}, defer=True).ok
    assert "articles/gig-workers-left-behind/" not in session.stale  # rewritten, with the new template
    assert "<!-- v1 -->" in read(session, "articles/gig-workers-left-behind/")
    assert "articles/cracks-forming-partnership/" in session.stale
    session.finish()
    assert_same_as_cold(source, session, tmp_path)


def test_a_finish_handed_off_before_a_newer_build_does_not_count(dossier):
    """serve's forked finisher reports when it is done (finished): if a build started after it
    was handed the work, the pages it wrote may be stale again, and stay so."""
    source, session, tmp_path = dossier
    own_article_template(source, "<!-- v1 -->")
    assert session.build({"layouts/", "layouts/article.html"}, defer=True).ok
    handed, epoch = session.hand_off()
    assert session.stale <= handed
    own_article_template(source, "<!-- v2 -->")
    assert session.build({"layouts/article.html"}, defer=True).ok
    session.finished(handed, epoch)
    assert session.stale
    handed, epoch = session.hand_off()
    session.finished(handed, epoch)
    assert not session.stale


@pytest.mark.parametrize("kind", ["article", "annotation", "template", "entity"])
def test_a_rebuild_leaves_no_reference_cycles(dossier, kind):
    """serve freezes its heap after each rebuild, so the garbage collector never walks it
    again (serve.settle_heap): a cycle a rebuild left there would never be freed."""
    source, session, tmp_path = dossier
    if kind == "article":
        edit(source / "content/articles/gig-workers-left-behind.md", "Most of these people", "Most of these many people")
        changed = {"content/articles/gig-workers-left-behind.md"}
    elif kind == "annotation":
        edit(source / "annotations.yaml", "A row of hashtags from the scraped page", "A row of hashtags, scraped")
        changed = {"annotations.yaml"}
    elif kind == "template":
        own_article_template(source, "<!-- v1 -->")
        changed = {"layouts/", "layouts/article.html"}
    else:  # every article resolved and every page rendered again
        edit(source / "annotations.yaml", "    name: Lucy Guo\n", "    name: Lucy W. Guo\n")
        changed = {"annotations.yaml"}
    gc.collect()
    gc.disable()
    try:
        assert session.build(changed, defer=True).ok
        session.finish()
        found = gc.collect()
    finally:
        gc.enable()
    assert found < 10, f"the rebuild left {found} objects in reference cycles"


def test_an_entity_edit_writes_the_pages_it_touches_and_leaves_the_rest_to_finish(dossier):
    """Every page may show an entity's name: the build writes the open page and those the
    edit touches as an annotation edit would, and leaves the others stale for finish."""
    source, session, tmp_path = dossier
    session.open_pages = lambda: {"entities/lucy-guo/"}
    edit(source / "annotations.yaml", "    name: Lucy Guo\n", "    name: Lucy W. Guo\n")
    assert session.build({"annotations.yaml"}, defer=True).ok
    assert "Lucy W. Guo" in read(session, "entities/lucy-guo/")  # the open page
    other = "entities/scale-ai/"  # it names her among its founders
    assert "Lucy W. Guo" not in read(session, other) and other in session.stale
    session.finish()
    assert "Lucy W. Guo" in read(session, other)
    assert not session.stale
    assert_same_as_cold(source, session, tmp_path)


def test_a_rebuild_superseded_while_writing_leaves_what_it_wrote_stale(dossier, monkeypatch):
    """Newer edits stop a rebuild between two pages; the pages it wrote show a dossier no build
    finished with, so they stay stale until a finish writes them again."""
    import dossier.incremental as incremental
    from dossier.incremental import Superseded
    source, session, tmp_path = dossier
    original = incremental._render
    calls = []

    def render_then_edit(shared, pages):  # an edit is saved while the first page after the early one renders
        calls.append(pages)
        if len(calls) == 2:
            session.superseded.set()
        return original(shared, pages)

    monkeypatch.setattr(incremental, "_render", render_then_edit)
    edit(source / "annotations.yaml", "A row of hashtags from the scraped page", "A row of hashtags, scraped")
    with pytest.raises(Superseded):
        session.build({"annotations.yaml"}, defer=True)
    assert len(session.stale) == 1  # one page was written before it stopped
    monkeypatch.setattr(incremental, "_render", original)
    session.superseded.clear()
    edit(source / "annotations.yaml", "A row of hashtags, scraped", "A row of hashtags from the scraped page")
    assert session.build({"annotations.yaml"}, defer=True).ok  # the edit undone: no page differs from before
    session.finish()
    assert_same_as_cold(source, session, tmp_path)


def test_newer_edits_stop_a_long_step_of_the_check(dossier, monkeypatch):
    """The steps of the check that cannot stop half-way on their own (assemble, …) run on a
    thread of their own: a rebuild superseded during one stops at once, and the step is stopped
    too, rather than left to hold the processor while the next rebuild runs."""
    import threading
    import time
    import dossier.recheck as recheck
    from dossier.incremental import Superseded
    source, session, tmp_path = dossier
    entered, ended = threading.Event(), threading.Event()
    original = recheck.assemble

    def long_assemble(*args):
        entered.set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # a minute of work, unless it is stopped
            sum(range(1000))
        ended.set()
        return original(*args)

    monkeypatch.setattr(recheck, "assemble", long_assemble)
    edit(source / "content/articles/gig-workers-left-behind.md", "Most of these people", "Most of these many people")
    outcome = []

    def rebuild() -> None:
        try:
            session.build({"content/articles/gig-workers-left-behind.md"}, defer=True)
        except Superseded:
            outcome.append("superseded")

    thread = threading.Thread(target=rebuild)
    thread.start()
    assert entered.wait(30)
    session.superseded.set()
    thread.join(30)
    assert outcome == ["superseded"]
    step = [t for t in threading.enumerate() if t.name == "check: long_assemble"]
    for t in step:
        t.join(10)
    assert not any(t.is_alive() for t in step) and not ended.is_set()  # stopped, not run to its end
    monkeypatch.setattr(recheck, "assemble", original)
    session.superseded.clear()
    assert session.build({"content/articles/gig-workers-left-behind.md"}, defer=True).ok
    session.finish()
    assert_same_as_cold(source, session, tmp_path)


def test_annotations_yaml_is_read_again_only_when_it_changed(dossier, monkeypatch):
    """A rebuild whose edits include annotations.yaml reads it again — unless it is as the
    last read found it, and was not changed just before that read (when the same stat could
    hide a second change)."""
    import os
    import dossier.recheck as recheck
    source, session, tmp_path = dossier
    reads = []
    original = recheck.read_annotations
    monkeypatch.setattr(recheck, "read_annotations", lambda *a: reads.append(1) or original(*a))
    path = source / "annotations.yaml"
    old = os.stat(path).st_mtime_ns - 10**9  # settled: changed a second before the read
    os.utime(path, ns=(old, old))
    assert session.build({"annotations.yaml"}, defer=True).ok and len(reads) == 1
    assert session.build({"annotations.yaml"}, defer=True).ok and len(reads) == 1  # unchanged: not read
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("verdict: ", "verdict:  ", 1), encoding="utf-8")  # just written
    assert session.build({"annotations.yaml"}, defer=True).ok and len(reads) == 2
    assert session.build({"annotations.yaml"}, defer=True).ok and len(reads) == 3  # too recent to trust its stat
    session.finish()
    assert_same_as_cold(source, session, tmp_path)


def test_a_template_saved_with_an_article_writes_it_and_the_open_page_before_the_check(dossier, monkeypatch):
    """An edit of templates and content together is checked in full; the edited article's page
    and the open page are written first all the same, with the new templates."""
    import dossier.recheck as recheck
    source, session, tmp_path = dossier
    events = []
    original = recheck.cross_check
    monkeypatch.setattr(recheck, "cross_check", lambda inputs: events.append("check") or original(inputs))
    session.open_pages = lambda: {"entities/scale-ai/"}
    session.on_early_write = lambda pages: events.append(
        (pages, "<!-- v1 -->" in read(session, "articles/gig-workers-left-behind/")))
    own_article_template(source, "<!-- v1 -->")
    edit(source / "content/articles/gig-workers-left-behind.md", "Most of these people", "Most of these many people")
    assert session.build({"layouts/", "layouts/article.html", "content/articles/gig-workers-left-behind.md"},
                         defer=True).ok
    assert events[:2] == [({"articles/gig-workers-left-behind/", "entities/scale-ai/"}, True), "check"]
    session.finish()
    assert_same_as_cold(source, session, tmp_path)


def test_after_a_template_edit_only_that_template_is_compiled_again(tmp_path, monkeypatch):
    """serve drops its template environments after a template edit (forget_environments); the
    templates whose source did not change come back compiled, from memory, sandboxed as before."""
    import jinja2
    from dossier import BUILTIN_THEME, templates
    monkeypatch.setattr(templates, "_COMPILED", {True: templates._CompiledTemplates(), False: templates._CompiledTemplates()})
    compiled = []
    compile_ = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda env, source, name=None, *rest, **kw: compiled.append(name) or compile_(env, source, name, *rest, **kw))
    layouts = tmp_path / "layouts"
    layouts.mkdir()
    (layouts / "base.html").write_text((BUILTIN_THEME / "base.html").read_text(encoding="utf-8"), encoding="utf-8")
    names = ("article.html", "base.html", "_macros.html")
    env = templates.make_environment([layouts, BUILTIN_THEME])
    for name in names:
        env.get_template(name)
    assert set(compiled) >= set(names)
    templates.forget_environments()
    compiled.clear()
    (layouts / "base.html").write_text((layouts / "base.html").read_text(encoding="utf-8") + "{# edited #}\n",
                                       encoding="utf-8")
    env = templates.make_environment([layouts, BUILTIN_THEME])
    for name in names:
        env.get_template(name)
    assert compiled == ["base.html"]
    # the code kept for the sandbox still goes through it
    (layouts / "probe.html").write_text("{{ cycler.__init__ }}", encoding="utf-8")
    with pytest.raises(jinja2.exceptions.SecurityError):
        templates.make_environment([layouts, BUILTIN_THEME]).get_template("probe.html").render()
    with pytest.raises(jinja2.exceptions.SecurityError):
        templates.make_environment([layouts, BUILTIN_THEME]).get_template("probe.html").render()
