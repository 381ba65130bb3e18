"""Every page type in a real browser: loads cleanly, passes axe-core in light and dark mode,
stays light, and leaves screenshots in tests/artifacts/screenshots/ for a human to look at."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

ARTICLE = "articles/data-neutrality-concerns/"
MISSING = "no-such-page/"

PAGE_TYPES = {
    "home": "",
    "articles": "articles/",
    "article": ARTICLE,
    "entities": "entities/",
    "entity": "entities/scale-ai/",
    "timeline": "timeline/",
    "claims": "claims/",
    "claim": "claims/meta-acquisition/",
    "compare": "compare/",
    "corrections": "corrections/",
    "sources": "sources/",
    "references": "references/",
    "search": "search/",
    "about": "about/",
    "methodology": "methodology/",
    "404": MISSING,
}


def test_every_page_type_exists_in_the_build(site):
    for name, path in PAGE_TYPES.items():
        if path != MISSING:
            assert (site.root / path / "index.html").is_file(), f"{name}: {path} was not built"


@pytest.mark.parametrize("name", PAGE_TYPES)
def test_page_loads_without_errors_or_failed_requests(site, open_page, name):
    watched = open_page()
    response = watched.goto(site.url(PAGE_TYPES[name]))
    if name == "404":
        assert response.status == 404
        watched.failed = [f for f in watched.failed if MISSING not in f]
        # the browser logs the 404 document itself as a console error
        watched.errors = [e for e in watched.errors if "404" not in e]
    else:
        assert response.status == 200
    page = watched.page
    assert page.locator("h1").count() == 1, "one h1 per page"
    assert page.locator("a.skip-link[href='#main']").count() == 1
    assert page.locator("header.site-header nav[aria-label=Main] a").count() == 6
    assert page.locator("footer a", has_text="Methodology").count() == 1
    if name not in ("home", "404"):
        assert page.locator("nav.breadcrumbs a", has_text="Home").count() == 1, "breadcrumb way back"
    if name == "search":
        page.wait_for_selector("#search-input")
    assert watched.errors == []
    assert watched.failed == []


def test_404_links_work_from_any_depth(site, open_page):
    watched = open_page()
    watched.goto(site.url("deep/er/missing/page/"))
    watched.page.get_by_role("link", name="Articles", exact=True).first.click()
    watched.page.wait_for_load_state()
    assert watched.page.url == site.url("articles/")


def _axe(page, script) -> list[dict]:
    page.add_script_tag(path=str(script))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in results["violations"]]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations(site, open_page, axe_script, scheme):
    problems = {}
    watched = open_page(bypass_csp=True, color_scheme=scheme)
    for name, path in PAGE_TYPES.items():
        watched.goto(site.url(path))
        if name == "search":   # check the built interface with results and filters on show
            watched.page.wait_for_selector("#search-filter-verdict", state="attached")
            watched.page.fill("#search-input", "acquisition")
            watched.page.wait_for_selector(".result")
        violations = _axe(watched.page, axe_script)
        if violations:
            problems[name] = violations
    assert not problems, json.dumps(problems, indent=1)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_with_the_note_panel_open(site, open_page, axe_script, scheme):
    for viewport in ({"width": 1280, "height": 900}, {"width": 360, "height": 800}):
        watched = open_page(bypass_csp=True, color_scheme=scheme, viewport=viewport)
        watched.goto(site.url(ARTICLE))
        watched.page.locator(".note-ref").nth(2).click()
        watched.page.wait_for_selector("#note-panel:not([hidden])")
        violations = _axe(watched.page, axe_script)
        assert violations == [], (viewport, json.dumps(violations, indent=1))


@pytest.mark.parametrize("slug", ["cracks-forming-partnership", "data-neutrality-concerns", "gig-workers-left-behind",
                                  "unconventional-acquisition", "why-meta-invested"])
def test_article_page_weighs_under_70_kb_plus_3_kb_per_note(site, open_page, slug):
    """HTML + CSS + JS of an article page, uncompressed, without the search index. The budget grows
    with the notes on the page, because the shipped dossier annotates nearly every sentence (a fixed
    100 kB held only while it annotated a third of them); a heavier page or note template still fails.
    The fixed part was 60 kB until issue 19 added the verdict legend, the underline of each verdict
    family, the markers' verdict words and the styles of split lists (about 10 kB of CSS, JS and HTML)."""
    watched = open_page()
    responses = []
    watched.page.on("response", lambda r: responses.append(r))
    watched.goto(site.url(f"articles/{slug}/"))
    sizes = {r.url: len(r.body()) for r in responses
             if "/pagefind/" not in r.url and r.url.endswith(("/", ".html", ".css", ".js"))}
    assert any(url.endswith(".css") for url in sizes) and any(url.endswith(".js") for url in sizes)
    notes = (site.root / "articles" / slug / "index.html").read_text(encoding="utf-8").count('<li id="note_')
    assert notes > 0
    total = sum(sizes.values())
    assert total < 70_000 + 3_000 * notes, f"{total} bytes for {notes} notes: {sizes}"


@pytest.mark.parametrize("width,height", [(360, 800), (1280, 900)])
def test_screenshots(site, open_page, screenshots, width, height):
    """Full-page screenshots of every page type, light mode; a few in dark mode."""
    for scheme, names in (("light", list(PAGE_TYPES)), ("dark", ["home", "article", "claims", "search"])):
        watched = open_page(viewport={"width": width, "height": height}, color_scheme=scheme)
        for name in names:
            watched.goto(site.url(PAGE_TYPES[name]))
            if name == "search":
                watched.page.wait_for_selector("#search-filter-verdict", state="attached")
                watched.page.fill("#search-input", "nonvoting")
                watched.page.wait_for_selector(".result")
            watched.page.screenshot(path=str(screenshots / f"{name}-{width}-{scheme}.png"), full_page=True)
        # the article with a note open, as a reader sees it (viewport only)
        watched.goto(site.url(ARTICLE))
        watched.page.locator(".note-ref").nth(6).click()
        watched.page.wait_for_selector("#note-panel:not([hidden])")
        watched.page.screenshot(path=str(screenshots / f"article-note-open-{width}-{scheme}.png"))
    assert len(list(screenshots.glob(f"*-{width}-*.png"))) >= len(PAGE_TYPES) + 5
