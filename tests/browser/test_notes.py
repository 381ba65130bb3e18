"""Reading an article: highlights open their notes beside the text (JS), and without
JavaScript the numbered notes are linked both ways."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

ARTICLE = "articles/data-neutrality-concerns/"
NOTE = "neutrality-deal-amount"            # a fact check whose quote holds no entity link
WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 360, "height": 800}


def in_view(page, selector: str) -> bool:
    return page.evaluate("""(sel) => {
        const r = document.querySelector(sel).getBoundingClientRect();
        return r.top >= 0 && r.top < window.innerHeight && r.bottom > 0;
    }""", selector)


def panel_shows(page, note_id: str) -> bool:
    return page.evaluate("""(id) => {
        const panel = document.getElementById('note-panel');
        const note = document.getElementById('note_' + id);
        const body = note.querySelector('.note-body').textContent.trim();
        return !panel.hidden && panel.getClientRects().length > 0 && panel.textContent.includes(body);
    }""", note_id)


def test_every_highlight_has_a_labelled_focusable_handle(site, open_page):
    page = open_page().page
    page.goto(site.url(ARTICLE))
    refs = page.locator("#page-title a.note-ref, .article-body a.note-ref")
    assert refs.count() == page.locator(".notes li.note").count() > 0
    for i in range(refs.count()):
        ref = refs.nth(i)
        label = ref.get_attribute("aria-label")
        assert label and label.startswith("Note ") and ": " in label       # "Note 3: Mostly accurate"
        assert ref.locator("[aria-hidden=true]").inner_text().strip()       # the visible icon
        assert ref.get_attribute("aria-controls") == "note-panel"
        assert ref.get_attribute("aria-expanded") == "false"
    # marks hold article text only: no labels, numbers or links made by the dossier inside them
    assert page.locator("mark .note-ref, mark .badge, mark a").count() == 0
    # each mark is coloured by its verdict or kind class, never by colour alone (the handle has the icon)
    assert page.locator("mark[data-annotation]:not([class*='k-'])").count() == 0


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["wide", "narrow"])
def test_clicking_a_highlight_opens_its_note(site, open_page, viewport):
    page = open_page(viewport=viewport).page
    page.goto(site.url(ARTICLE))
    page.locator(f"mark[data-annotation~='{NOTE}']").first.click()
    assert panel_shows(page, NOTE)
    assert page.locator(f"#ref_{NOTE}").get_attribute("aria-expanded") == "true"
    panel = page.locator("#note-panel")
    assert panel.get_attribute("role") == "dialog"
    assert panel.locator(".badge").first.inner_text().strip().endswith("Mostly accurate")
    assert panel.locator(".cites a").count() >= 1, "references in the panel"
    assert panel.locator(".about-entities a").count() >= 1, "entities in the panel"
    assert page.locator("#note-panel .panel-body [id]").count() == 0, "the clone carries no duplicate ids"
    assert panel.get_by_text("Back to the text").count() == 0
    box = panel.bounding_box()
    if viewport is WIDE:    # beside the text
        text = page.locator(".article-body").bounding_box()
        assert box["x"] >= text["x"] + text["width"]
    else:                   # a bottom sheet that leaves the quote visible above it
        assert abs(box["y"] + box["height"] - viewport["height"]) < 2
        ref = page.locator(f"#ref_{NOTE}").bounding_box()
        assert 0 <= ref["y"] and ref["y"] + ref["height"] <= box["y"]
    page.keyboard.press("Escape")
    assert panel.is_hidden()
    assert page.locator(f"#ref_{NOTE}").get_attribute("aria-expanded") == "false"


def test_keyboard_tab_enter_opens_and_escape_closes(site, open_page):
    page = open_page(viewport=WIDE).page
    page.goto(site.url(ARTICLE))
    first_ref = page.locator("#page-title a.note-ref, .article-body a.note-ref").first
    note_id = first_ref.get_attribute("data-note")
    for _ in range(200):                         # Tab from the top until the first handle has focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('note-ref')"):
            break
    assert page.evaluate("document.activeElement.dataset.note") == note_id
    # visible focus: the handle gets an outline
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert panel_shows(page, note_id)
    assert first_ref.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.getElementById('note-panel').contains(document.activeElement)")
    assert page.url.endswith(ARTICLE), "the link did not navigate"
    page.keyboard.press("Escape")
    assert page.locator("#note-panel").is_hidden()
    assert first_ref.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.dataset.note") == note_id, "focus returns to the handle"
    # Tab out of the open panel continues in the text after the handle
    page.keyboard.press("Enter")
    page.locator("#note-panel .panel-close").focus()
    links = page.locator("#note-panel a[href], #note-panel button")
    links.last.focus()
    page.keyboard.press("Tab")
    after = page.evaluate("""(id) => {
        const all = [...document.querySelectorAll('a[href], button, summary')].filter(e => e.getClientRects().length);
        return all.indexOf(document.activeElement) - all.indexOf(document.getElementById('ref_' + id));
    }""", note_id)
    assert after == 1


def test_while_a_note_is_open_focus_on_another_marker_shows_its_note(site, open_page):
    page = open_page(viewport=WIDE).page
    page.goto(site.url(ARTICLE))
    refs = page.locator("#page-title a.note-ref, .article-body a.note-ref")
    refs.nth(0).click()
    second = refs.nth(1)
    second.focus()
    assert panel_shows(page, second.get_attribute("data-note"))
    assert second.get_attribute("aria-expanded") == "true"
    assert refs.nth(0).get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.dataset.note") == second.get_attribute("data-note"), "focus stays put"


def test_close_button_and_second_click_close_the_note(site, open_page):
    page = open_page(viewport=WIDE).page
    page.goto(site.url(ARTICLE))
    ref = page.locator(f"#ref_{NOTE}")
    ref.click()
    page.locator("#note-panel .panel-close").click()
    assert page.locator("#note-panel").is_hidden()
    ref.click()
    assert panel_shows(page, NOTE)
    ref.click()
    assert page.locator("#note-panel").is_hidden()


def test_permalink_opens_the_note_on_arrival(site, open_page):
    page = open_page(viewport=WIDE).page
    page.goto(site.url(f"{ARTICLE}#{NOTE}"))
    assert panel_shows(page, NOTE)
    assert in_view(page, f"#ref_{NOTE}")


def test_without_javascript_notes_are_linked_both_ways(site, open_page):
    page = open_page(java_script_enabled=False, viewport=NARROW).page
    page.goto(site.url(ARTICLE))
    assert page.locator("#note-panel").count() == 0
    notes = page.locator("section#notes ol li.note")
    assert notes.count() == page.locator("#page-title a.note-ref, .article-body a.note-ref").count() > 0
    ref = page.locator(f"#ref_{NOTE}")
    ref.click()
    page.wait_for_url(f"**#note_{NOTE}")
    assert in_view(page, f"#note_{NOTE}")
    page.locator(f"#note_{NOTE}").get_by_role("link", name="Back to the text").click()
    page.wait_for_url(f"**#ref_{NOTE}")
    assert in_view(page, f"#ref_{NOTE}")
    # the permalink targets the quote itself
    assert page.locator(f"#note_{NOTE} a[href='#{NOTE}']").count() == 1
    assert page.locator(f".article-body #{NOTE}").count() == 1


def test_article_header_shows_publisher_rating_date_kind_and_tally(site, open_page):
    page = open_page(java_script_enabled=False).page
    page.goto(site.url(ARTICLE))
    header = page.locator(".annotated")
    assert header.locator(".kicker").inner_text().lower().startswith("aggregator")
    assert header.locator(".facts").get_by_role("link", name="GenAIHunt", exact=True).count() == 1
    assert header.locator(".facts .rating").inner_text().strip().lower().endswith("mixed")
    details = header.locator("details.rationale")
    assert not details.evaluate("d => d.open")
    details.locator("summary").click()
    assert details.evaluate("d => d.open") and "aggregator" in details.inner_text()
    tally = header.locator(".article-tally a.badge")
    assert tally.count() >= 3
    assert all("claims/" in (tally.nth(i).get_attribute("href") or "") for i in range(tally.count()))
