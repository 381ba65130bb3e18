"""Drift notices tell "changed" from "moved": after an article is edited, only an annotation
whose own text changed (whitespace included) or whose surrounding words changed is named."""
from __future__ import annotations

from conftest import annotations_with, article, dedent, resolve_strings

from dossier import drift

ANNOTATIONS = annotations_with("""
    annotations:
      - {id: price, article: deal, quote: "Meta paid $14.3 billion for a stake", kind: context, note: n}
      - {id: final, article: deal, quote: "Scale said the deal was final", kind: context, note: n}
      - {id: agreed, article: deal, quote: "and Meta agreed", kind: context, note: n}
    """)

STORY = dedent("""
    The filing was published on Monday, in full.

    Meta paid $14.3 billion for a stake in the company, the filing shows.

    Scale said the deal was final on Friday, after weeks of talks.

    Later, the board met again and Meta agreed to the terms.
    """)


def notices_after(edited: str, story: str = STORY) -> list[str]:
    """The drift notices `check` gives after the article changes from `story` to `edited`."""
    before, problems = resolve_strings(ANNOTATIONS, {"deal": article(story)})
    assert not problems
    lock = drift.fingerprints(before)
    after, problems = resolve_strings(ANNOTATIONS, {"deal": article(edited)})
    assert not [p for p in problems if p.level == "error"]
    return [d.format() for d in drift.compare(lock, after)]


def test_a_line_break_inside_one_quote_names_that_quote_and_not_the_ones_it_moved():
    # The case: the edit moves 'final' and 'agreed' down a line; only 'price' changed.
    edited = STORY.replace("Meta paid $14.3 billion for", "Meta paid $14.3\nbillion for")
    assert notices_after(edited) == [
        "annotations.yaml:20:32: notice: content/articles/deal.md changed under annotation 'price': the words are "
        "the same, but the spacing after '$14.3' changed from a space to a line break (re-read the note against "
        "the article's new words)"]


def test_lines_added_above_move_every_quote_and_name_none():
    edited = "An editor's note, added at the top.\n\nIt runs to two paragraphs.\n\n" + STORY
    assert notices_after(edited) == []


def test_a_paragraph_re_wrapped_around_a_quote_names_none():
    edited = STORY.replace("on Friday, after weeks", "on\nFriday,   after\nweeks").replace("Later, the board",
                                                                                          "Later,\nthe board")
    assert notices_after(edited) == []


def test_words_changed_next_to_a_quote_name_it_with_its_new_line():
    edited = "A new first paragraph.\n\n" + STORY.replace("the board met again", "the board refused again")
    assert notices_after(edited) == [
        "annotations.yaml:22:33: notice: content/articles/deal.md changed around annotation 'agreed' (line 12 → 14) "
        "(re-read the note: the text around its quote is different)"]


def test_words_put_right_before_a_quote_are_a_change_around_it():
    edited = STORY.replace("in full.", "in full. BREAKING:")
    assert notices_after(edited) == [
        "annotations.yaml:20:32: notice: content/articles/deal.md changed around annotation 'price' "
        "(re-read the note: the text around its quote is different)"]


def test_an_unchanged_article_gives_no_notice_even_when_the_lock_disagrees():
    dossier, _ = resolve_strings(ANNOTATIONS, {"deal": article(STORY)})
    lock = drift.fingerprints(dossier)
    lock["annotations"]["price"]["exact"] = "something else"  # the body hash still matches: nothing to report
    assert drift.compare(lock, dossier) == []
