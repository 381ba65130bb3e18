"""Anchoring quotes in article text (W3C TextQuoteSelector): normalisation, context,
ambiguity, suggestions, and the marks the article page shows."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier.anchor import anchor_quote, disambiguate, find_quote, fold, nearest_passage, prepare
from dossier.model import Span

from conftest import annotations_with, article, body_html, formatted, marked_text, read_html, resolve_strings, squash


def anchored(quote_yaml: str, body: str):
    """Resolve one article (`body`) with the annotations given as YAML list items."""
    dossier, diagnostics = resolve_strings(annotations_with("annotations:\n" + quote_yaml), {"deal": article(body)})
    return dossier, formatted(diagnostics, "error")


def context(annotation_id: str, quote: str, extra: str = "") -> str:
    """One annotation as a YAML list item (quote single-quoted)."""
    quote = quote.replace("'", "''")
    return f"  - id: {annotation_id}\n    article: deal\n    quote: '{quote}'\n    kind: context\n{extra}"


# ---- the matcher, on strings --------------------------------------------------------------

def test_fold_maps_quotes_dashes_and_spaces_one_to_one():
    text = "“Curly” ‘single’ – en — em\u00a0nbsp\u2009thin"
    folded = fold(text)
    assert folded == "\"Curly\" 'single' - en - em nbsp thin"
    assert len(folded) == len(text)


def test_any_whitespace_run_matches_any_other():
    assert find_quote(prepare("one two\n\nthree"), "one  two three") == [Span(0, 14)]


def test_overlapping_occurrences_are_all_found():
    assert find_quote(prepare("a-a-a"), "a-a") == [Span(0, 3), Span(2, 5)]


def test_prefix_picks_one_of_two_occurrences():
    text = prepare("the deal was big. Later, the deal was done.")
    match = anchor_quote(text, "the deal", prefix="Later,")
    assert match.span == Span(25, 33)
    assert match.candidates == (Span(0, 8), Span(25, 33))


def test_suffix_picks_one_of_two_occurrences():
    text = prepare("the deal was big. Later, the deal was done.")
    assert anchor_quote(text, "the deal", suffix="was big").span == Span(0, 8)


def test_prefix_and_suffix_tolerate_whitespace_and_typography():
    text = prepare("He said “yes” —\nthe deal\u00a0was done.")
    assert anchor_quote(text, "the deal", prefix='"yes" -', suffix="was").span == Span(16, 24)


def test_two_occurrences_without_context_pick_none():
    match = anchor_quote(prepare("the deal, the deal"), "the deal")
    assert match.span is None
    assert len(match.candidates) == 2


def test_disambiguate_suggests_a_context_that_picks_exactly_that_occurrence():
    text = prepare("Alpha said the deal was done. Beta said the deal was off.")
    spans = find_quote(text, "the deal")
    for span in spans:
        side, words = disambiguate(text, spans, span)
        context = {"prefix": words} if side == "prefix" else {"suffix": words}
        assert anchor_quote(text, "the deal", **context).span == span


def test_disambiguate_prefers_the_shortest_context():
    text = prepare("Alpha said the deal. Beta said the deal.")
    spans = find_quote(text, "the deal")
    assert disambiguate(text, spans, spans[1]) == ("prefix", "Beta said")


def test_nearest_passage_names_the_differing_word():
    text = "Talks went on for weeks. The board has finalised the deal with the company."
    nearest = nearest_passage(text, "has finalized the deal")
    assert text[nearest.span.start:nearest.span.end] == "has finalised the deal"
    assert nearest.difference == "the article says 'finalised', the quote says 'finalized'"


def test_nearest_passage_names_a_word_the_quote_adds():
    text = "The board has finalised the deal today."
    nearest = nearest_passage(text, "has finalised the big deal")
    assert text[nearest.span.start:nearest.span.end] == "has finalised the deal"
    assert nearest.difference == "the quote adds 'big', which the article does not have there"


def test_nearest_passage_is_none_when_nothing_is_shared():
    assert nearest_passage("Completely different words.", "zebra quokka") is None


# ---- highlighted quotes on the article page -----------------------------------------------

BODY = """\
The board has **finalised the deal** with [Scale AI](https://example.org/scale) after
weeks of talks.

A “second” paragraph — with dashes\u00a0and spaces. The deal is the deal.
"""
"""Body lines 6–9 of content/articles/deal.md (the article() front matter has 5 lines)."""


def test_quote_found_once_is_highlighted_with_its_id():
    dossier, errors = anchored(context("talks", "weeks of talks"), BODY)
    assert errors == []
    html = body_html(dossier)
    assert marked_text(html, "talks") == "weeks of talks"
    assert 'id="talks"' in html


def test_anchor_records_exact_text_context_line_and_number():
    dossier, errors = anchored(context("talks", "weeks of talks") + context("second", "second"), BODY)
    assert errors == []
    talks, second = dossier.anchors["talks"], dossier.anchors["second"]
    assert talks.exact == "weeks of talks"
    assert talks.prefix.endswith("Scale AI after\n")
    assert talks.suffix.startswith(".\n\nA “second”")
    assert (talks.line, talks.number) == (7, 1)
    assert (second.line, second.number) == (9, 2)
    assert second.exact == "second"


def test_quote_across_emphasis_is_highlighted():
    dossier, errors = anchored(context("final", "has finalised the deal with"), BODY)
    assert errors == []
    html = body_html(dossier)
    assert marked_text(html, "final") == "has finalised the deal with"
    assert "<strong><mark" in html  # the emphasis is kept, the mark continues inside it


def test_quote_across_a_link_is_highlighted():
    dossier, errors = anchored(context("who", "with Scale AI after"), BODY)
    assert errors == []
    html = body_html(dossier)
    assert marked_text(html, "who") == "with Scale AI after"
    assert re.search(r'<a href="https://example.org/scale"[^>]*><mark [^>]*data-annotation="who"[^>]*>Scale AI</mark></a>', html)


def test_quote_across_a_soft_line_break_is_highlighted():
    dossier, errors = anchored(context("wrap", "after weeks"), BODY)
    assert errors == []
    html = body_html(dossier)
    assert squash(marked_text(html, "wrap")) == "afterweeks"
    assert dossier.anchors["wrap"].exact == "after\nweeks"
    assert dossier.anchors["wrap"].line == 6


def test_quote_across_paragraphs_is_highlighted_in_both():
    dossier, errors = anchored(context("both", 'of talks. A "second" paragraph'), BODY)
    assert errors == []
    html = body_html(dossier)
    paragraphs = html.split("</p>")
    assert 'data-annotation="both"' in paragraphs[0] and 'data-annotation="both"' in paragraphs[1]
    assert squash(marked_text(html, "both")) == squash("of talks. A “second” paragraph")


def test_overlapping_annotations_produce_marks_with_both_ids():
    dossier, errors = anchored(context("a", "finalised the deal with") + context("b", "the deal with Scale AI"), BODY)
    assert errors == []
    marks = read_html(body_html(dossier)).marks
    assert [(m["ids"], m["text"]) for m in marks] == [
        (("a",), "finalised "),
        (("a", "b"), "the deal"),
        (("a", "b"), " with"),
        (("b",), " "),
        (("b",), "Scale AI"),
    ]


def test_marks_hold_only_the_articles_text():
    dossier, errors = anchored(context("a", "finalised the deal with") + context("b", "the deal with Scale AI"), BODY)
    html = body_html(dossier)
    marks = read_html(html).marks
    assert marks and all(m["children"] == [] for m in marks)
    assert all(m["text"] in dossier.articles["deal"].text for m in marks)
    assert 'class="note-ref' in html  # the note numbers exist, next to the marks
    assert 'id="a"' in html and 'id="b"' in html


@pytest.mark.parametrize("quote", [
    'A "second" paragraph - with dashes and spaces',      # straight quotes, hyphen, plain space
    "A “second” paragraph – with dashes and spaces",      # en dash
    "A “second” paragraph — with dashes\u00a0and spaces",  # exactly as written
    "A  “second”\nparagraph —  with dashes and  spaces",   # other whitespace
])
def test_curly_quotes_dashes_and_spaces_match_their_plain_forms(quote):
    dossier, errors = anchored(context("typo", quote), BODY)
    assert errors == []
    assert dossier.anchors["typo"].exact == "A “second” paragraph — with dashes\u00a0and spaces"


def test_curly_quote_in_the_annotation_matches_straight_quotes_in_the_article():
    dossier, errors = anchored(context("q", "he said “no” — twice"), 'Then he said "no" - twice.\n')
    assert errors == []
    assert dossier.anchors["q"].exact == 'he said "no" - twice'


def test_ambiguous_quote_says_how_many_times_on_which_lines_and_suggests_context():
    dossier, errors = anchored(context("twice", "the deal"), BODY)
    assert errors == [
        "annotations.yaml:22:5: error: the quote of annotation 'twice' occurs 2 times in content/articles/deal.md "
        "(lines 6, 9) "
        "(add a prefix or suffix to pick one: line 6: suffix: \"with\"; line 9: suffix: \".\")"]
    assert "twice" not in dossier.anchors


def test_ambiguous_quote_on_three_lines_names_all_three():
    _, errors = anchored(context("many", "Meta"), "Meta one.\n\nMeta two.\n\nMeta three.\n")
    assert len(errors) == 1
    assert errors[0].startswith("annotations.yaml:22:5: error: the quote of annotation 'many' occurs 3 times in "
                                "content/articles/deal.md "
                                "(lines 6, 8, 10) (add a prefix or suffix to pick one: ")
    assert 'line 6: suffix: "one."' in errors[0]


def test_prefix_resolves_the_ambiguity():
    dossier, errors = anchored(context("second", "the deal", "    prefix: 'deal is '\n"), BODY)
    assert errors == []
    assert dossier.anchors["second"].line == 9


def test_suffix_resolves_the_ambiguity():
    dossier, errors = anchored(context("first", "the deal", "    suffix: ' with'\n"), BODY)
    assert errors == []
    assert dossier.anchors["first"].line == 6


def test_prefix_that_matches_no_occurrence_is_an_error():
    _, errors = anchored(context("nope", "the deal", "    prefix: 'nowhere '\n"), BODY)
    assert errors == [
        "annotations.yaml:22:5: error: the quote of annotation 'nope' is found, but never with this prefix/suffix; it "
        "occurs 2 times in "
        "content/articles/deal.md (lines 6, 9) (add a prefix or suffix to pick one: line 6: suffix: \"with\"; "
        "line 9: suffix: \".\")"]


def test_unique_quote_with_a_wrong_suffix_is_an_error():
    _, errors = anchored(context("nope", "weeks of talks", "    suffix: 'and more'\n"), BODY)
    assert errors == [
        "annotations.yaml:22:5: error: the quote of annotation 'nope' is in content/articles/deal.md (line 7) but not "
        "with this prefix/suffix "
        "(fix or remove 'prefix'/'suffix': they must be the words right before/after the quote)"]


def test_quote_not_found_shows_the_nearest_passage_and_the_difference():
    _, errors = anchored(context("spelling", "has finalized the deal"), BODY)
    assert errors == [
        "annotations.yaml:22:5: error: the quote of annotation 'spelling' is not in content/articles/deal.md; the nearest "
        "passage (line 6) is "
        "\"has finalised the deal\" (the article says 'finalised', the quote says 'finalized': "
        "copy the article's exact words)"]


def test_quote_with_no_word_in_common_says_so():
    _, errors = anchored(context("elsewhere", "zebra quokka"), BODY)
    assert errors == [
        "annotations.yaml:22:5: error: the quote of annotation 'elsewhere' is not in content/articles/deal.md (copy the "
        "exact words from the article)"]


def test_quote_longer_than_the_article_says_so():
    _, errors = anchored(context("long", "Short text and then a great deal more that is not there"), "Short text.\n")
    assert errors == [
        "annotations.yaml:22:5: error: the quote of annotation 'long' is longer than the whole text of "
        "content/articles/deal.md "
        "(quote only the words the note is about)"]


def test_markdown_syntax_is_not_part_of_the_text_a_quote_matches():
    _, errors = anchored(context("stars", "has **finalised"), BODY)
    assert len(errors) == 1
    assert "the quote of annotation 'stars' is not in content/articles/deal.md" in errors[0]


def test_anchors_are_numbered_in_text_order_not_file_order():
    dossier, errors = anchored(context("late", "second") + context("early", "board"), BODY)
    assert errors == []
    assert [a.annotation.id for a in dossier.articles["deal"].anchors] == ["early", "late"]
    assert dossier.anchors["early"].number == 1


# ---- a property: any run of the article's words, retyped plainly, finds itself ------------

WORDS = ["Meta", "invested", "“half”", "—", "$14.3", "billion", "in", "Scale", "AI’s", "data", "labelling", "deal"]


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.sampled_from(WORDS), min_size=3, max_size=30),
       st.lists(st.sampled_from([" ", "\n", "  ", "\u00a0"]), min_size=30, max_size=30), st.data())
def test_any_run_of_words_retyped_with_plain_characters_is_found(words, gaps, data):
    text = "".join(word + gap for word, gap in zip(words, gaps)).rstrip()
    start = data.draw(st.integers(0, len(words) - 1))
    end = data.draw(st.integers(start + 1, len(words)))
    quote = " ".join(fold(word) for word in words[start:end])
    prepared = prepare(text)
    spans = find_quote(prepared, quote)
    wanted_start = sum(len(w) + len(g) for w, g in zip(words[:start], gaps))
    assert any(span.start == wanted_start and squash(text[span.start:span.end]) == squash("".join(words[start:end]))
               for span in spans)
    for span in spans:
        assert fold(" ".join(text[span.start:span.end].split())) == quote
