"""Search (Pagefind, under the /repo/ sub-path) and the claims page's filters."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def search_page(site, open_page):
    if not (site.root / "pagefind" / "pagefind.js").is_file():
        pytest.fail("the build wrote no pagefind/ bundle (python build.py should run Pagefind)")
    watched = open_page()
    watched.goto(site.url("search/"))
    watched.page.wait_for_selector("#search-filter-verdict", state="attached")
    return watched


def test_a_word_from_one_note_finds_that_annotation(site, search_page):
    page = search_page.page
    page.fill("#search-input", "nonvoting")
    page.wait_for_selector(".sub-result a[href*='#neutrality-acquisition']")
    link = page.locator(".sub-result a[href*='#neutrality-acquisition']").first
    assert link.get_attribute("href").startswith("/repo/articles/data-neutrality-concerns/")
    assert "Misleading" in link.locator("xpath=..").inner_text()
    assert "?q=nonvoting" in page.url, "the search is shareable"
    link.click()
    page.wait_for_url("**/articles/data-neutrality-concerns/#neutrality-acquisition")
    page.wait_for_selector("#note-panel:not([hidden])")
    assert page.locator("#ref_neutrality-acquisition").get_attribute("aria-expanded") == "true"
    assert search_page.errors == [] and search_page.failed == []


def test_a_claim_statement_finds_its_claim_page(search_page):
    page = search_page.page
    page.fill("#search-input", "board")
    page.wait_for_selector(".result a[href$='/claims/wang-board-seat/']")
    page.select_option("#search-filter-type", "Claim")
    deadline = time.monotonic() + 10
    while page.locator(".result .result-title a[href*='/articles/']").count() and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    titles = page.locator(".result .result-title a")
    hrefs = [titles.nth(i).get_attribute("href") for i in range(titles.count())]
    assert hrefs and all("/claims/" in h for h in hrefs), hrefs
    assert search_page.errors == [] and search_page.failed == []


def test_a_filter_narrows_the_results(search_page):
    page = search_page.page
    page.fill("#search-input", "Scale")
    expect(page.locator(".search-status")).to_have_text(re.compile(r"match “Scale”"))
    before = page.locator(".result").count()
    page.select_option("#search-filter-verdict", "Misleading")
    expect(page.locator(".search-status")).to_have_text(re.compile(r"^\d+ pages? match “Scale”"))
    deadline = time.monotonic() + 10   # poll from Python: the page's CSP forbids eval'd predicates
    while not 0 < page.locator(".result").count() < before and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    after = page.locator(".result")
    assert 0 < after.count() < before
    # every annotation shown under the filter has that verdict
    badges = page.locator(".sub-result .badge")
    assert badges.count() > 0
    assert all(badges.nth(i).inner_text().strip().endswith("Misleading") for i in range(badges.count()))
    assert "verdict=Misleading" in page.url


def test_filters_alone_list_matching_annotations(search_page):
    page = search_page.page
    page.select_option("#search-filter-kind", "Opinion")
    page.wait_for_selector(".sub-result")
    badges = page.locator(".sub-result .badge")
    assert all(badges.nth(i).inner_text().strip().endswith("Opinion") for i in range(badges.count()))
    for name in ("type", "entity", "rating"):
        assert page.locator(f"#search-filter-{name} option").count() > 1, name


def test_search_page_without_javascript_points_elsewhere(site, open_page):
    page = open_page(java_script_enabled=False).page
    page.goto(site.url("search/"))
    text = page.locator("main").inner_text()
    assert "needs JavaScript" in text
    assert page.locator("main a[href='../claims/']").count() == 1
    assert page.locator("main a[href='../entities/']").count() == 1


def test_claims_filters_are_built_and_narrow_the_list(site, open_page):
    watched = open_page()
    page = watched.page
    watched.goto(site.url("claims/"))
    box = page.locator("#claim-filters")
    assert box.is_visible()
    total = page.locator(".claim-item").count()
    for name in ("verdict", "kind", "article", "entity"):
        assert page.locator(f"#filter-{name} option").count() > 2, name
    page.select_option("#filter-verdict", "unsupported")
    shown = page.locator(".claim-item:visible")
    assert 0 < shown.count() < total
    assert all(shown.nth(i).get_attribute("data-verdict") == "unsupported" for i in range(shown.count()))
    page.select_option("#filter-article", "cracks-forming-partnership")
    both = page.locator(".claim-item:visible")
    assert 0 < both.count() <= shown.count()
    assert page.locator(".claim-group:visible").count() == 1
    assert "verdict=unsupported" in page.url and "article=cracks-forming-partnership" in page.url
    assert "Showing" in page.locator("#claim-filters [role=status]").inner_text()
    page.get_by_role("button", name="Clear filters").click()
    assert page.locator(".claim-item:visible").count() == total
    assert watched.errors == []


def test_tally_links_open_the_claims_page_filtered(site, open_page):
    page = open_page().page
    page.goto(site.url("articles/data-neutrality-concerns/"))
    page.locator(".article-tally a.badge", has_text="Accurate").first.click()
    page.wait_for_selector("#filter-verdict")
    assert page.input_value("#filter-verdict") == "accurate"
    assert page.input_value("#filter-article") == "data-neutrality-concerns"
    shown = page.locator(".claim-item:visible")
    assert shown.count() > 0
    assert all(shown.nth(i).get_attribute("data-article") == "data-neutrality-concerns" for i in range(shown.count()))


def test_claims_page_without_javascript_is_complete(site, open_page):
    page = open_page(java_script_enabled=False).page
    page.goto(site.url("claims/"))
    assert page.locator("#claim-filters").is_hidden()
    assert page.locator(".claim-item").count() == page.locator(".claim-item:visible").count() > 0


def test_timeline_is_grouped_and_deep_linkable(site, open_page):
    page = open_page().page
    page.goto(site.url("timeline/"))
    assert page.locator("section.year > h2").count() >= 3
    assert page.locator("h3.month-heading", has_text="June 2025").count() == 1
    entry = page.locator("ol.timeline > li[id]").first
    entry_id = entry.get_attribute("id")
    page.goto(site.url(f"timeline/#{entry_id}"))
    assert page.evaluate(f"document.getElementById('{entry_id}').matches(':target')")
    # dates keep their precision
    assert page.locator("time[datetime='2014']", has_text="2014").count() >= 1
