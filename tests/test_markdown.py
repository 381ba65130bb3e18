"""Markdown bodies: the plain text quotes are matched in, and HTML with marks, note
references and entity links woven in without changing the article's words."""
from __future__ import annotations

import re

from dossier.markdown import Decorations, Highlight, parse_body, render_body, render_inline, render_markdown

from conftest import read_html

SOURCE = """\
# Title *here*

Para with **bold**, [a link](https://example.org/a) and `code`
second line.

- item one
- item two
"""


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_text_is_what_readers_see():
    parsed = parse_body(SOURCE)
    assert parsed.text == "Title here\n\nPara with bold, a link and code\nsecond line.\n\nitem one\n\nitem two"


def test_chunks_remember_kind_block_line_and_heading():
    parsed = parse_body(SOURCE)
    pieces = [(parsed.text[c.start:c.end], c.kind, c.block, c.line, c.heading) for c in parsed.chunks]
    assert pieces == [
        ("Title ", "text", 0, 0, True),
        ("here", "text", 0, 0, True),
        ("Para with ", "text", 1, 2, False),
        ("bold", "text", 1, 2, False),
        (", ", "text", 1, 2, False),
        ("a link", "link", 1, 2, False),
        (" and ", "text", 1, 2, False),
        ("code", "code", 1, 2, False),
        ("\n", "break", 1, 2, False),
        ("second line.", "text", 1, 3, False),
        ("item one", "text", 2, 5, False),
        ("item two", "text", 3, 6, False),
    ]


def test_rendering_without_decorations_is_plain_commonmark():
    assert render_body(parse_body(SOURCE)) == (
        "<h1>Title <em>here</em></h1>\n"
        "<p>Para with <strong>bold</strong>, <a href=\"https://example.org/a\" rel=\"noopener noreferrer\">a link</a> "
        "and <code>code</code>\nsecond line.</p>\n"
        "<ul>\n<li>item one</li>\n<li>item two</li>\n</ul>\n")


def test_raw_html_in_an_article_is_shown_as_text():
    html = render_body(parse_body("<script>alert(1)</script> <b>bold</b>\n"))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_javascript_links_are_not_links():
    html = render_body(parse_body("[click](javascript:alert(1)) [mail](mailto:a@example.org)\n"))
    assert not any(href.startswith("javascript:") for href in re.findall(r'href="([^"]*)"', html))
    assert '<a href="mailto:a@example.org">mail</a>' in html


def test_images_become_links_so_pages_make_no_third_party_requests():
    html = render_body(parse_body("![a chart](https://images.example.org/chart.png)\n"))
    assert "<img" not in html
    assert '<a class="image-link" href="https://images.example.org/chart.png" rel="noopener noreferrer">[image: a chart]</a>' in html


def test_tables_and_strikethrough_are_enabled():
    html = render_body(parse_body("| a | b |\n|---|---|\n| ~~c~~ | d |\n"))
    assert '<table data-pagefind-ignore="" tabindex="0">' in html and "<s>c</s>" in html  # left out of search excerpts


def test_a_mark_crossing_emphasis_link_and_code_is_split_but_keeps_the_text():
    parsed = parse_body(SOURCE)
    start, end = parsed.text.index("bold"), parsed.text.index("second line") + len("second")
    html = render_body(parsed, Decorations(marks=(Highlight(start, end, ("q",)),)))
    marks = read_html(html).marks
    assert [m["text"] for m in marks] == ["bold", ", ", "a link", " and ", "code", "second"]
    assert all(m["ids"] == ("q",) and m["children"] == [] for m in marks)
    assert visible_text(html) == visible_text(render_body(parsed))


def test_a_piece_of_overlapping_quotes_nests_a_mark_per_annotation():
    parsed = parse_body("one two three\n")
    marks = (Highlight(0, 3, ("a",), ("v-x",)), Highlight(3, 8, ("a", "b"), ("v-x", "v-y")), Highlight(8, 13, ("b",), ("v-y",)))
    html = render_body(parsed, Decorations(marks=marks))
    assert html == ('<p><mark class="v-x" data-annotation="a">one</mark>'
                    '<mark class="v-x" data-annotation="a"><mark class="v-y" data-annotation="b"> two </mark></mark>'
                    '<mark class="v-y" data-annotation="b">three</mark></p>\n')


def test_inserts_go_before_and_after_the_marked_text():
    parsed = parse_body("one two three\n")
    html = render_body(parsed, Decorations(marks=(Highlight(4, 7, ("a",)),), before={4: '<span id="a"></span>'},
                                           after={7: "<sup>1</sup>"}))
    assert html == '<p>one <span id="a"></span><mark data-annotation="a">two</mark><sup>1</sup> three</p>\n'


def test_a_note_reference_after_a_quote_ending_in_a_link_goes_after_the_link():
    parsed = parse_body("See [the filing](https://example.org/f) now.\n")
    end = parsed.text.index(" now")
    html = render_body(parsed, Decorations(marks=(Highlight(0, end, ("a",)),), after={end: "<sup>1</sup>"}))
    assert "</a><sup>1</sup>" in html
    assert not re.search(r"<a [^>]*>[^<]*(<mark[^>]*>[^<]*</mark>)*<sup>", html)


def test_entity_link_is_woven_into_the_text():
    parsed = parse_body("Meta bought in.\n")
    html = render_body(parsed, Decorations(links=((0, 4, "../../entities/meta/", "Meta"),)))
    assert html == '<p><a class="entity-link" href="../../entities/meta/" title="Meta">Meta</a> bought in.</p>\n'


def test_text_is_escaped_inside_marks():
    parsed = parse_body("Tom & Jerry <3\n")
    html = render_body(parsed, Decorations(marks=(Highlight(0, len(parsed.text), ("a",)),)))
    assert html == '<p><mark data-annotation="a">Tom &amp; Jerry &lt;3</mark></p>\n'


def test_notes_are_markdown_with_raw_html_escaped():
    assert render_markdown("A *note* with <b>html</b>.") == "<p>A <em>note</em> with &lt;b&gt;html&lt;/b&gt;.</p>\n"


def test_inline_markdown_has_no_paragraph():
    assert render_inline("*Reworded* the [note](https://example.org).") == (
        '<em>Reworded</em> the <a href="https://example.org" rel="noopener noreferrer">note</a>.')
