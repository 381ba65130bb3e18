"""Claim pages, the coverage matrix and the corrections log in a real browser: axe-clean in
light and dark, the matrix usable on a 360 px phone, and screenshots to look at. The golden
sample has what the shipped dossier lacks (corrections, a republication)."""
from __future__ import annotations

import json

import pytest

from test_pages import _axe

pytestmark = pytest.mark.browser

PAGES = {"claim": "claims/stake/", "claim-with-republication": "claims/deal-amount/", "compare": "compare/",
         "corrections": "corrections/"}
SHIPPED = {"claim": "claims/deal-amount/", "compare": "compare/"}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_claim_compare_and_corrections_pages_are_axe_clean(site, golden_site, open_page, axe_script, scheme):
    problems = {}
    for width in (360, 1280):
        watched = open_page(bypass_csp=True, color_scheme=scheme, viewport={"width": width, "height": 800})
        for where, pages in ((golden_site, PAGES), (site, SHIPPED)):
            for name, path in pages.items():
                watched.goto(where.url(path))
                violations = _axe(watched.page, axe_script)
                if violations:
                    problems[f"{name} {path} at {width}px"] = violations
        assert watched.errors == [] and watched.failed == []
    assert not problems, json.dumps(problems, indent=1)


def test_the_matrix_keeps_the_claim_in_view_on_a_phone(site, open_page):
    watched = open_page(viewport={"width": 360, "height": 800})
    watched.goto(site.url("compare/"))
    page = watched.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "the page itself must not scroll sideways"
    region = page.locator(".table-scroll")
    assert region.get_attribute("role") == "region" and region.get_attribute("tabindex") == "0"
    claim = page.locator(".matrix tbody th").first
    before = claim.bounding_box()
    region.evaluate("el => el.scrollBy(600, 0)")
    page.wait_for_timeout(100)
    assert region.evaluate("el => el.scrollLeft") > 0, "the table scrolls inside its region"
    after = claim.bounding_box()
    assert abs(after["x"] - before["x"]) < 1, "the claim column stays put while the articles scroll"
    assert before["width"] <= 180, "the claim column leaves room for the articles"


def test_a_cell_leads_to_the_highlighted_telling(golden_site, open_page):
    watched = open_page()
    watched.goto(golden_site.url("compare/"))
    page = watched.page
    page.locator(".matrix a.cell-link", has_text="Inaccurate").click()
    page.wait_for_load_state()
    assert page.url.endswith("articles/copycat/#aggregator-amount")
    assert page.locator("mark[data-annotation~='aggregator-amount']").count() >= 1


def test_the_compare_page_reads_the_same_without_javascript(golden_site, open_page):
    watched = open_page(java_script_enabled=False)
    watched.goto(golden_site.url("compare/"))
    cells = watched.page.locator(".matrix tbody td")
    assert cells.count() == 6
    assert watched.page.locator(".matrix caption").inner_text() == "Claims (rows) by article (columns)"


@pytest.mark.parametrize("width,height", [(360, 800), (1280, 900)])
def test_claim_screenshots(site, golden_site, open_page, screenshots, width, height):
    for scheme in ("light", "dark"):
        watched = open_page(viewport={"width": width, "height": height}, color_scheme=scheme)
        for where, pages, prefix in ((golden_site, PAGES, "golden-"), (site, SHIPPED, "")):
            for name, path in pages.items():
                watched.goto(where.url(path))
                watched.page.screenshot(path=str(screenshots / f"{prefix}{name}-{width}-{scheme}.png"), full_page=True)
    assert (screenshots / f"golden-corrections-{width}-dark.png").stat().st_size > 10_000
