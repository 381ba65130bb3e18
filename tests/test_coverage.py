"""Issue 18, coverage you can see: sentences and what annotates them, the `coverage` command,
the figures the site states about itself, title annotations and each article's bottom line."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from conftest import (BASE_ANNOTATIONS, BASE_ARTICLE, BUILD_PY, DEAL_ASSESSMENT, annotations_with, article, build_env,
                      dedent, formatted, read_html, resolve_strings)
from dossier.coverage import split_sentences
from dossier.site import Config, build

STORY = article("""\
    # Meta's bet

    Meta paid $14.3 billion. It bought 49% of Scale AI! Was it "a bet"? Nobody
    knows yet.

    - Scale AI labels data.
    - Wang joins Meta.

    | who | what |
    |---|---|
    | Meta | buyer — |
    """, title="Meta buys “half” of Scale")
"""Front matter on lines 1-5, so the body's first line is line 6 (the heading)."""


def text_of(spans, text):
    return [text[start:end] for start, end in spans]


def run(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD_PY), *args], env=build_env(), capture_output=True, text=True,
                          cwd=cwd, timeout=120)


# ---- sentences ------------------------------------------------------------------------------

def test_sentences_end_after_stops_and_closing_quotes_and_at_every_block():
    text = 'Meta paid. It bought "half!" Is it? Yes…\n\nA heading\n\nA cell\n\n—\n\n* * *'
    assert text_of(split_sentences(text), text) == [
        "Meta paid.", 'It bought "half!"', "Is it?", "Yes…", "A heading", "A cell"]  # no word: no sentence


def test_headings_list_items_and_table_cells_are_sentences_and_the_title_is_one_more():
    dossier, problems = resolve_strings(articles={"deal": STORY})
    assert formatted(problems, "error") == []
    resolved = dossier.articles["deal"]
    unannotated = [resolved.text[a:b] for a, b, _ in resolved.coverage.unannotated]
    assert unannotated == ["Meta's bet", "Meta paid $14.3 billion.", "It bought 49% of Scale AI!", 'Was it "a bet"?',
                           "Nobody\nknows yet.", "Scale AI labels data.", "Wang joins Meta.", "who", "what", "Meta",
                           "buyer —"]
    assert (resolved.coverage.sentences, resolved.coverage.annotated) == (12, 0)


def test_a_sentence_is_annotated_when_a_quote_overlaps_it():
    dossier, problems = resolve_strings(annotations_with("""\
        annotations:
          - {id: across, article: deal, quote: "billion. It bought", kind: context}
          - {id: cell, article: deal, quote: "buyer", kind: context}
          - {id: head, article: deal, field: title, quote: "half", kind: context}
        """), articles={"deal": STORY})
    assert formatted(problems, "error") == []
    coverage = dossier.articles["deal"].coverage
    text = dossier.articles["deal"].text
    assert [text[a:b] for a, b, _ in coverage.unannotated] == [
        "Meta's bet", 'Was it "a bet"?', "Nobody\nknows yet.", "Scale AI labels data.", "Wang joins Meta.", "who", "what",
        "Meta"]
    assert (coverage.sentences, coverage.annotated, coverage.title_annotated, coverage.percent) == (12, 4, True, 33)


def test_each_unannotated_sentence_has_its_file_line():
    dossier, _ = resolve_strings(articles={"deal": STORY})
    lines = {dossier.articles["deal"].text[a:b]: line for a, b, line in dossier.articles["deal"].coverage.unannotated}
    assert (lines["Meta's bet"], lines["Meta paid $14.3 billion."], lines["Nobody\nknows yet."]) == (6, 8, 8)
    assert (lines["Wang joins Meta."], lines["buyer —"]) == (12, 16)


def test_unannotated_sentences_are_wrapped_in_runs_outside_every_mark():
    dossier, _ = resolve_strings(annotations_with("""\
        annotations:
          - {id: paid, article: deal, quote: "It bought 49%", kind: context}
        """), articles={"deal": STORY})
    html = dossier.articles["deal"].body_html
    runs = re.findall(r'<span class="un">(.*?)</span>', html)
    # neighbours with only a space between them are one run; a run wraps the entity links in it,
    # but never crosses a mark or a line break
    assert runs[:5] == ["Meta's bet", '<a class="entity-link" href="../../entities/meta/" title="Meta">Meta</a> paid '
                        "$14.3 billion.", 'Was it "a bet"? Nobody', "knows yet.", "Scale AI labels data."]
    assert "It bought" not in "".join(runs) and all(not m["children"] for m in read_html(html).marks)


# ---- the command ----------------------------------------------------------------------------

@pytest.fixture
def covered(make_dossier):
    return make_dossier({"content/articles/deal.md": STORY, "annotations.yaml": annotations_with("""\
        annotations:
          - {id: paid, article: deal, quote: "Meta paid $14.3 billion", kind: context}
        """), "content/articles/other.md": article("Nothing here is annotated.\n", title="Other")})


def test_coverage_prints_each_unannotated_sentence_as_file_and_line(covered):
    result = run("coverage", "deal", "--source", str(covered))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "content/articles/deal.md: 1 of 12 sentences annotated (8%)",
        'content/articles/deal.md:2: "Meta buys “half” of Scale"',
        "content/articles/deal.md:6: \"Meta's bet\"",
        'content/articles/deal.md:8: "It bought 49% of Scale AI!"',
        'content/articles/deal.md:8: "Was it "a bet"?"',
        'content/articles/deal.md:8: "Nobody knows yet."',
        'content/articles/deal.md:11: "Scale AI labels data."',
        'content/articles/deal.md:12: "Wang joins Meta."',
        'content/articles/deal.md:14: "who"',
        'content/articles/deal.md:14: "what"',
        'content/articles/deal.md:16: "Meta"',
        'content/articles/deal.md:16: "buyer —"']


def test_coverage_of_every_article_ends_with_the_total(covered):
    result = run("coverage", "--source", str(covered))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "content/articles/deal.md: 1 of 12 sentences annotated (8%)"
    assert "content/articles/other.md: 0 of 2 sentences annotated (0%)" in lines
    assert lines[-1] == "total: 1 of 14 sentences annotated (7%)"


def test_coverage_min_fails_an_article_below_it_and_names_it(covered):
    below = run("coverage", "--min", "50", "--source", str(covered))
    assert below.returncode == 1
    assert below.stderr.splitlines()[-2:] == [
        "content/articles/deal.md: error: 1 of 12 sentences annotated (8%), under --min 50% "
        "(annotate the sentences listed above)",
        "content/articles/other.md: error: 0 of 2 sentences annotated (0%), under --min 50% "
        "(annotate the sentences listed above)"]
    assert run("coverage", "deal", "--min", "8", "--source", str(covered)).returncode == 0
    assert run("coverage", "deal", "--min", "8.4", "--source", str(covered)).returncode == 1  # 1/12 is 8.3%


@pytest.mark.parametrize("args, message", [
    (["dael"], "content/articles/dael.md: error: no such article (did you mean 'deal'?)"),
    (["--min", "half"], "error: --min 'half' is not a percentage (write a number from 0 to 100, e.g. --min 60)"),
    (["--min", "120"], "error: --min '120' is not a percentage (write a number from 0 to 100, e.g. --min 60)"),
])
def test_coverage_refuses_an_unknown_article_or_percentage(covered, args, message):
    result = run("coverage", *args, "--source", str(covered))
    assert result.returncode == 1 and result.stdout == ""
    assert message in result.stderr.splitlines() and "Traceback" not in result.stderr


def test_coverage_of_a_dossier_that_does_not_check_prints_its_errors(make_dossier):
    source = make_dossier({"annotations.yaml": annotations_with("""\
        annotations:
          - {id: gone, article: deal, quote: "not in the text", kind: context}
        """)})
    result = run("coverage", "--source", str(source))
    assert result.returncode == 1 and result.stdout == ""
    assert "annotations.yaml:20:31: error: the quote of annotation 'gone' is not in content/articles/deal.md" in result.stderr


# ---- what the site says about itself ---------------------------------------------------------

PAGE = """\
    ---
    title: About
    ---
    We annotated {{ dossier.sentences_annotated }} of {{dossier.sentences}} sentences ({{ dossier.coverage }}) with
    {{ dossier.fact_checks }} fact checks; `{{ not.a.figure }}` stays as it is.
    """


@pytest.fixture
def site(make_dossier, tmp_path):
    source = make_dossier({"content/articles/deal.md": STORY, "content/pages/about.md": PAGE,
                           "annotations.yaml": annotations_with("""\
        annotations:
          - {id: paid, article: deal, quote: "Meta paid $14.3 billion", kind: fact-check, verdict: accurate,
             note: The filing says so., cite: [filing]}
          - {id: half, article: deal, field: title, quote: "“half”", kind: fact-check, verdict: misleading,
             note: 49% is not half., cite: [filing]}
        """)})
    out = tmp_path / "site"
    result = build(Config(source=source, out=out, search=False))
    assert result.ok, [d.format() for d in result.diagnostics]
    return out


def page(out, path="") -> str:
    return (out / path / "index.html").read_text(encoding="utf-8")


def test_content_pages_show_computed_figures_through_placeholders_only(site):
    html = page(site, "about")
    assert "We annotated 2 of 12 sentences (16%) with\n2 fact checks; <code>{{ not.a.figure }}</code>" in html


def test_an_unknown_figure_is_an_error_at_its_line_and_column_with_a_suggestion():
    _, problems = resolve_strings(pages={"about": "---\ntitle: About\n---\nOne.\nWe have {{ dossier.sentence }}.\n"})
    assert formatted(problems, "error") == [
        "content/pages/about.md:5:9: error: '{{ dossier.sentence }}' is not a figure the dossier computes "
        "(did you mean 'sentences'?)"]


def test_home_page_states_the_computed_coverage(site):
    assert ('<p class="coverage-summary"><strong>2</strong> of 12 sentences annotated (16%) · <strong>2</strong> '
            "fact checks</p>") in page(site)


def test_article_page_states_its_coverage_and_links_to_its_unannotated_sentences(site):
    html = page(site, "articles/deal")
    assert '<article class="annotated" id="uncovered"' in html  # the link's :target
    assert "2 of 12 sentences annotated (16%)" in html
    assert '<a class="show-uncovered" href="#uncovered">Mark the 10 unannotated sentences</a>' in html
    assert len(re.findall(r'<span class="un">', html)) >= 10


def test_articles_list_and_home_page_show_each_articles_coverage(site):
    for html in (page(site), page(site, "articles")):
        assert '<p class="coverage-line meta">2 of 12 sentences annotated (16%)</p>' in html


def test_dossier_json_has_each_articles_coverage_and_the_total(site):
    data = json.loads((site / "dossier.json").read_text(encoding="utf-8"))
    assert data["coverage"] == {"sentences": 12, "annotated": 2}
    (deal,) = data["articles"]
    assert (deal["coverage"]["sentences"], deal["coverage"]["annotated"], deal["coverage"]["title_annotated"]) == (12, 2, True)
    first = deal["coverage"]["unannotated"][0]
    assert (deal["text"][first["start"]:first["end"]], first["line"]) == ("Meta's bet", 6)


# ---- headlines are claims -------------------------------------------------------------------

def test_a_title_quote_is_marked_inside_the_h1_as_the_first_note(site):
    html = page(site, "articles/deal")
    h1 = re.search(r'<h1 id="page-title"[^>]*>(.*?)</h1>', html).group(1)
    assert h1.startswith('Meta buys <span class="anchor" id="half"></span>'
                         '<mark class="k-fact-check v-misleading" data-annotation="half">“half”</mark>'
                         '<a class="note-ref k-fact-check v-misleading" href="#note_half" id="ref_half" data-note="half" '
                         'aria-label="Note 1: Misleading" data-pagefind-ignore>')
    assert h1.endswith(" of Scale")
    assert html.index('id="note_half"') < html.index('id="note_paid"')


def test_a_title_quote_is_matched_with_the_same_rules_as_a_body_quote():
    dossier, problems = resolve_strings(annotations_with("""\
        annotations:
          - {id: straight, article: deal, field: title, quote: '"half" of', kind: context}
          - {id: second, article: deal, field: title, quote: Scale, prefix: 'of', kind: context}
        """), articles={"deal": article("Scale and Scale.\n", title="Meta buys “half” of Scale")})
    assert formatted(problems, "error") == []
    assert [(a.annotation.id, a.exact, a.line) for a in dossier.articles["deal"].anchors] == [
        ("straight", "“half” of", 2), ("second", "Scale", 2)]


def test_a_title_quote_that_is_not_there_names_the_nearest_passage():
    _, problems = resolve_strings(annotations_with("""\
        annotations:
          - {id: gone, article: deal, field: title, quote: "Meta buys all", kind: context}
        """), articles={"deal": STORY})
    assert formatted(problems, "error") == [
        "annotations.yaml:20:45: error: the quote of annotation 'gone' is not in the title of content/articles/deal.md; "
        "the nearest passage "
        "(line 2) is \"Meta buys “half”\" (the article says '“half”', the quote says 'all': copy the article's exact "
        "words)"]


@pytest.mark.parametrize("field, quote, fix", [("", "buys “half”", "add 'field: title'"),
                                               ("field: title, ", "Nobody knows", "remove 'field: title'")])
def test_a_quote_in_the_other_field_says_where_it_is(field, quote, fix):
    _, problems = resolve_strings(annotations_with(f"""\
        annotations:
          - {{id: elsewhere, article: deal, {field}quote: "{quote}", kind: context}}
        """), articles={"deal": STORY})
    (problem,) = formatted(problems, "error")
    assert problem.endswith(f"to anchor it there)") and fix in problem
    assert "but it is in the title of content/articles/deal.md (line 2)" in problem if not field else \
        "but it is in content/articles/deal.md (line 8)" in problem


def test_annotate_title_writes_a_stub_with_the_field(make_dossier):
    source = make_dossier({"content/articles/deal.md": STORY})
    result = run("annotate", "deal", "“half”", "--title", "--source", str(source))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:4] == ["  - id: half", "    article: deal", "    field: title",
                                              '    quote: "“half”"']
    body = run("annotate", "deal", "buys “half”", "--source", str(source))
    assert body.returncode == 1
    assert body.stderr == ("content/articles/deal.md: error: the quote is not in the article's body, but it is in its "
                           "title (add --title)\n")


def test_a_title_fact_check_has_a_claim_review_of_the_headline(site):
    html = page(site, "articles/deal")
    reviews = json.loads(re.search(r'<script type="application/ld\+json">\n(.*)\n</script>', html).group(1))
    assert [r["claimReviewed"] for r in reviews] == ["“half”", "Meta paid $14.3 billion"]


def test_the_claim_page_shows_a_title_telling_in_its_headline(make_dossier, tmp_path):
    source = make_dossier({"content/articles/deal.md": STORY, "annotations.yaml": BASE_ANNOTATIONS.replace(
        "annotations: []\n", dedent("""\
        claims:
          half: {statement: Meta bought half of Scale AI, verdict: inaccurate, cite: [filing]}
        annotations:
          - {id: half, article: deal, field: title, quote: "“half”", kind: context, claim: half}
        """) + DEAL_ASSESSMENT)})
    assert build(Config(source=source, out=tmp_path / "out", search=False)).ok
    html = (tmp_path / "out" / "claims" / "half" / "index.html").read_text(encoding="utf-8")
    assert "Meta buys <mark" in html and "of Scale" in html


@pytest.mark.parametrize("reserved", ["summary", "uncovered"])
def test_the_new_element_ids_of_the_article_page_are_reserved(reserved):
    _, problems = resolve_strings(annotations_with(f"""\
        annotations:
          - {{id: {reserved}, article: deal, quote: Meta, kind: context}}
        """))
    assert formatted(problems, "error") == [
        f"annotations.yaml:20:6: error: annotation id '{reserved}' is reserved by the page layout (choose another id)"]


# ---- a bottom line per article ----------------------------------------------------------------

ASSESSED = BASE_ANNOTATIONS.replace("annotations: []\n", dedent("""\
    annotations:
      - {id: stake, article: deal, quote: bought a stake, kind: context}
    assessments:
      deal:
        summary: The one sentence **holds up**.
        updated: 2025-08-01
    """))


def test_an_assessment_is_first_on_the_article_page_and_in_the_list_and_the_feed(make_dossier, tmp_path):
    out = tmp_path / "out"
    assert build(Config(source=make_dossier({"annotations.yaml": ASSESSED}), out=out, search=False)).ok
    html = page(out, "articles/deal")
    section = re.search(r'<section class="assessment" id="summary".*?</section>', html, re.S).group(0)
    assert "<p>The one sentence <strong>holds up</strong>.</p>" in section
    assert '<time datetime="2025-08-01">1 August 2025</time>' in section
    assert html.index('id="summary"') < html.index('class="article-body"')
    assert "The one sentence <strong>holds up</strong>." in page(out, "articles")
    feed = (out / "feed.xml").read_text(encoding="utf-8")
    entry = re.search(r"<entry>\n<id>https://example.org/test/articles/deal/</id>.*?</entry>", feed, re.S).group(0)
    assert "The one sentence &lt;strong&gt;holds up&lt;/strong&gt;." in entry
    assert "<updated>2025-08-01T00:00:00Z</updated>" in entry  # the bottom line's update dates the entry


def test_an_annotated_article_without_an_assessment_is_a_warning_and_with_strict_an_error(make_dossier):
    source = make_dossier({"annotations.yaml": BASE_ANNOTATIONS.replace("annotations: []\n", dedent("""\
        annotations:
          - {id: stake, article: deal, quote: bought a stake, kind: context}
        """))})
    warning = ("content/articles/deal.md:1: warning: article 'deal' has no assessment (add its bottom line under "
               "'assessments:' in annotations.yaml: 'deal: {summary: …}', two or three sentences on what holds up and "
               "what does not)")
    lenient, strict = run("check", "--source", str(source)), run("check", "--strict", "--source", str(source))
    assert (lenient.returncode, strict.returncode) == (0, 1)
    assert warning in lenient.stderr.splitlines() and warning in strict.stderr.splitlines()
    # in a dossier without any bottom line, an article nobody annotated has nothing to sum up yet
    assert run("check", "--strict", "--source", str(make_dossier(name="bare"))).returncode == 0


def test_once_a_dossier_has_bottom_lines_a_new_article_without_one_is_a_warning():
    added = {"deal": BASE_ARTICLE, "new": BASE_ARTICLE.replace("title: The deal", "title: The new one")}
    _, problems = resolve_strings(BASE_ANNOTATIONS + DEAL_ASSESSMENT, articles=added)
    assert formatted(problems, "warning") == [
        "content/articles/new.md:1: warning: article 'new' has no assessment (add its bottom line under "
        "'assessments:' in annotations.yaml: 'new: {summary: …}', two or three sentences on what holds up and what "
        "does not)"]
    _, problems = resolve_strings(BASE_ANNOTATIONS, articles=added)  # no bottom lines at all, nothing annotated
    assert formatted(problems, "warning") == []


def test_an_assessment_of_an_unknown_article_is_an_error_with_a_suggestion():
    _, problems = resolve_strings(ASSESSED + "  dael: {summary: Nothing.}\n")
    assert formatted(problems, "error") == [
        "annotations.yaml:25:3: error: assessment for unknown article 'dael' (did you mean 'deal'?)"]


def test_what_we_know_leads_the_home_page(make_dossier, tmp_path):
    text = ASSESSED.replace("  description: A dossier for tests.\n",
                            "  description: A dossier for tests.\n  summary: Meta *did* buy a stake.\n")
    text = text.replace("annotations:\n", dedent("""\
        claims:
          stake: {statement: Meta bought a stake, verdict: accurate, cite: [filing], key: true}
          other: {statement: Meta sold it, verdict: inaccurate, cite: [filing]}
        annotations:
          - {id: told, article: deal, quote: Meta bought, kind: context, claim: stake}
          - {id: sold, article: deal, quote: a data company, kind: context, claim: other}
        """), 1)
    out = tmp_path / "out"
    result = build(Config(source=make_dossier({"annotations.yaml": text}), out=out, search=False))
    assert result.ok, [d.format() for d in result.diagnostics]
    html = page(out)
    know = re.search(r'<section class="what-we-know".*?</section>', html, re.S).group(0)
    assert "<p>Meta <em>did</em> buy a stake.</p>" in know
    assert '<a href="claims/stake/">Meta bought a stake</a>' in know and "Meta sold it" not in know
    assert html.index("what-we-know") < html.index("home-grid")


# ---- machine-readable reviews -----------------------------------------------------------------

def test_a_fact_check_without_a_publication_date_is_a_warning_and_its_review_has_no_date(make_dossier, tmp_path):
    text = annotations_with("""\
        annotations:
          - {id: one, article: deal, quote: Meta bought, kind: fact-check, verdict: accurate, note: N, cite: [filing]}
          - {id: two, article: deal, quote: a stake, kind: fact-check, verdict: accurate, note: N, cite: [filing]}
          - {id: dated, article: deal, quote: data company, kind: fact-check, verdict: accurate, note: N, cite: [filing],
             updates: [{date: 2025-07-01, summary: Published.}]}
        """).replace("  published: 2025-06-20\n", "  language: en\n")
    _, problems = resolve_strings(text)
    assert formatted(problems, "warning") == [
        "annotations.yaml:20:5: warning: 'one' has no publication date (nor has 1 other fact check or claim): a fact "
        "check's ClaimReview needs one (add 'published: YYYY-MM-DD' under 'site:', the day the dossier's fact checks "
        "were first published, or an entry under 'updates:' to each)"]
    assert formatted(problems, "error") == []
    # a dossier written before the field existed still builds (not with --strict), and its
    # reviews carry no date rather than an invented one
    from dossier import exports
    source = make_dossier({"annotations.yaml": text})
    assert build(Config(source=source, out=tmp_path / "strict", search=False, strict=True)).dossier is None
    result = build(Config(source=source, out=tmp_path / "out", search=False))
    assert result.ok
    reviews = {r["url"].rsplit("#", 1)[1]: r for r in exports.claim_reviews(result.dossier, "deal")}
    assert "datePublished" not in reviews["one"] and "datePublished" not in reviews["two"]
    assert reviews["dated"]["datePublished"] == "2025-07-01"


def test_a_republished_claim_is_authored_by_the_original_publisher(make_dossier, tmp_path):
    from dossier import exports
    source = make_dossier({
        "annotations.yaml": BASE_ANNOTATIONS.replace("annotations: []\n", dedent("""\
            annotations:
              - {id: copy-stake, article: copy, quote: bought a stake, kind: fact-check, verdict: accurate, note: N,
                 cite: [filing]}
            assessments:
              copy: {summary: A faithful copy.}
            """)).replace("sources:\n", "sources:\n  mirror: {name: Mirror, rating: mixed, rationale: Copies.}\n"),
        "content/articles/copy.md": article("Meta bought a stake in a data company.\n", source="mirror",
                                            kind="republication", extra="republishes: deal\n")})
    result = build(Config(source=source, out=tmp_path / "out", search=False))
    assert result.ok, [d.format() for d in result.diagnostics]
    (review,) = exports.claim_reviews(result.dossier, "copy")
    claim = review["itemReviewed"]
    assert claim["author"]["name"] == "The Daily"  # the words are the original's
    assert [a["url"] for a in claim["appearance"]] == ["https://example.org/test/articles/deal/",
                                                       "https://example.org/test/articles/copy/"]
    assert claim["firstAppearance"]["url"] == "https://example.org/test/articles/deal/"
    assert review["datePublished"] == "2025-06-20"  # site.published: the review has no update


def test_a_copy_of_an_original_outside_the_dossier_names_it_by_a_reference_and_counts_as_its_publisher(
        make_dossier, tmp_path):
    from dossier import exports
    # 'filing' stands for the original: published by The Daily, whose own page the dossier lacks
    source = make_dossier({
        "annotations.yaml": BASE_ANNOTATIONS.replace("    url: https://example.org/filing\n",
                                                     "    url: https://example.org/filing\n    publisher: The  daily\n")
        .replace("annotations: []\n", dedent("""\
            claims:
              stake: {statement: Meta bought a stake, verdict: accurate, cite: [filing]}
            annotations:
              - {id: copy-stake, article: copy, quote: bought a stake, kind: fact-check, verdict: accurate, note: N,
                 cite: [filing], claim: stake}
            assessments:
              copy: {summary: A faithful copy.}
              deal: {summary: Unchecked.}
            """)).replace("sources:\n", "sources:\n  mirror: {name: Mirror, rating: unreliable, rationale: Copies.}\n"),
        "content/articles/copy.md": article("Meta bought a stake in a data company.\n", source="mirror",
                                            kind="republication", extra="republishes: filing\n")})
    result = build(Config(source=source, out=tmp_path / "out", search=False))
    assert result.ok and result.diagnostics == [], [d.format() for d in result.diagnostics]
    (review,) = exports.claim_reviews(result.dossier, "copy")
    claim = review["itemReviewed"]
    # the reference's publisher is matched to the source of that name (spacing and case aside)
    assert claim["author"] == {"@type": "Organization", "name": "The  daily"}
    assert claim["firstAppearance"] == claim["appearance"][0] == {
        "@type": "CreativeWork", "url": "https://example.org/filing", "headline": "The filing",
        "publisher": {"@type": "Organization", "name": "The  daily"}}
    assert claim["appearance"][1]["url"] == "https://example.org/test/articles/copy/"
    claim_page = (tmp_path / "out" / "claims" / "stake" / "index.html").read_text(encoding="utf-8")
    assert "Stated by 1 publisher, 1 of them rated reliable" in " ".join(claim_page.split())
    assert 'republishes <a href="../../references/#filing">The filing</a> (The  daily)' in claim_page
    article_page = (tmp_path / "out" / "articles" / "copy" / "index.html").read_text(encoding="utf-8")
    assert '<dt>Republishes</dt><dd><a href="../../references/#filing">The filing</a> (The  daily)</dd>' in article_page
