"""Issue 18 in a browser: the sentences no annotation examines are marked through a plain
link (:target, no JavaScript), and a quote in the title opens its note like any other."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

ARTICLE = "articles/big-deal/"   # the golden sample's article with a title annotation and unannotated sentences


def marked(page) -> list[str]:
    """The text of every unannotated piece that is drawn marked (its hatched band is showing)."""
    return page.evaluate("""() => [...document.querySelectorAll('.un')]
        .filter(el => getComputedStyle(el).backgroundImage !== 'none').map(el => el.textContent)""")


def test_a_plain_link_marks_the_unannotated_sentences_and_another_hides_them(golden_site, open_page):
    watched = open_page(java_script_enabled=False)
    page = watched.page
    watched.goto(golden_site.url(ARTICLE))
    assert page.locator(".un").count() >= 4 and marked(page) == []
    assert page.locator(".hide-uncovered").is_hidden()
    page.locator("a.show-uncovered").click()
    assert page.url.endswith("#uncovered")
    assert "What it means" in marked(page) and "Rivals that buy training data at scale may look elsewhere." in marked(page)
    assert page.locator("a.show-uncovered").is_hidden() and page.locator(".hide-uncovered").is_visible()
    # highlighted quotes are untouched: no marked piece is inside a mark, and the marks keep their look
    assert page.locator("mark .un").count() == 0
    page.locator(".hide-uncovered a").click()
    assert marked(page) == []
    assert watched.errors == [] and watched.failed == []


def test_a_quote_in_the_title_opens_its_note(golden_site, open_page):
    page = open_page().page
    page.goto(golden_site.url(ARTICLE))
    page.locator("h1 mark[data-annotation~='ledger-headline']").click()
    panel = page.locator("#note-panel")
    assert panel.is_visible() and "A 49% stake is buying into the company" in panel.inner_text()
    assert page.locator("#note-panel-title").text_content() == "Note 1 of 4"
