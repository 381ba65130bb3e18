"""Reading, second pass (issue 19): verdicts told apart without colour, markers big enough to
hit and saying their verdict, overlapping notes each visible, taps and keys that do what a
reader expects, entity and claims pages that lead to the exact place, no page that scrolls
sideways, and a claims index split for a large dossier whose filters still work."""
from __future__ import annotations

import functools
import http.server
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = "articles/data-neutrality-concerns/"
OVERLAP = "articles/gig-workers-left-behind/"   # "to acquire a 49% stake in Scale AI" (accurate) inside an outdated quote
FAMILIES = {"true": ["accurate", "mostly-accurate"], "partly true": ["mixed", "misleading"],
            "false or unsupported": ["inaccurate", "unsupported"], "outdated": ["outdated"],
            "not a verdict": ["context", "opinion", "correction", "boilerplate"]}
KINDS = {"context", "opinion", "correction", "boilerplate"}
GLYPHS = set("✓≈◐?!✗↻+✎⌫❝")
WIDTHS = [320, 360, 768, 1280]
PAGE_KINDS = ["", "articles/", ARTICLE, OVERLAP, "entities/", "entities/scale-ai/", "timeline/", "claims/",
              "claims/deal-amount/", "compare/", "corrections/", "sources/", "references/", "search/",
              "methodology/", "about/", "no-such-page/"]


# ---- helpers ------------------------------------------------------------------------------------

def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """(width, height, RGB pixels) of an 8-bit RGB or RGBA PNG, as Chromium writes them."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks, width = 8, [], 0
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            chunks.append(body)
        at += 12 + length
    raw, stride = zlib.decompress(b"".join(chunks)), width * channels
    rows, previous, i = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(line)
        previous = line
    pixels = [tuple(row[x:x + 3]) for row in rows for x in range(0, stride, channels)]
    return width, height, pixels


def grey(pixel) -> float:
    r, g, b = pixel
    return 0.299 * r + 0.587 * g + 0.114 * b


def samples(page, keys: list[str]) -> dict[str, list]:
    """Screenshots of the same words highlighted as each verdict or kind, as the article shows them."""
    page.evaluate("""(keys) => {
        const box = document.createElement('div');
        box.className = 'article-body';
        box.id = 'cue-samples';
        for (const key of keys) {
            const p = document.createElement('p');
            const mark = document.createElement('mark');
            mark.className = ['context', 'opinion', 'correction', 'boilerplate'].includes(key) ? 'k-' + key : 'k-fact-check v-' + key;
            mark.dataset.sample = key;
            mark.textContent = 'the same quoted words';
            p.appendChild(mark);
            box.appendChild(p);
        }
        document.querySelector('main').prepend(box);
    }""", keys)
    shots = {}
    for key in keys:
        box = page.locator(f"mark[data-sample='{key}']").bounding_box()
        clip = {"x": box["x"] - 2, "y": box["y"] - 2, "width": box["width"] + 4, "height": box["height"] + 16}
        shots[key] = png_pixels(page.screenshot(clip=clip))
    return shots


def strong_differences(a, b) -> int:
    """Pixels whose grey levels differ by more than 60 (of 255): lines, not pale tints."""
    assert a[0] == b[0] and a[1] == b[1]
    return sum(1 for p, q in zip(a[2], b[2]) if abs(grey(p) - grey(q)) > 60)


def scroll_width(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


def tab_to(page, selector: str, limit: int = 300) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"Tab never reached {selector}")


# ---- verdicts at a glance -----------------------------------------------------------------------

def test_each_verdict_family_has_a_cue_that_survives_grayscale(site, open_page, screenshots):
    page = open_page(bypass_csp=True, device_scale_factor=2).page
    page.goto(site.url(ARTICLE))
    page.add_style_tag(content="html { filter: grayscale(1) }")
    keys = [k for members in FAMILIES.values() for k in members]
    shots = samples(page, keys)
    page.locator("#cue-samples").screenshot(path=str(screenshots / "verdict-cues-grayscale.png"))
    family_of = {k: f for f, members in FAMILIES.items() for k in members}
    for a in keys:
        for b in keys:
            if a < b and family_of[a] != family_of[b]:
                assert strong_differences(shots[a], shots[b]) > 40, f"{a} and {b} look alike in grayscale"


def test_accurate_and_mostly_accurate_differ_clearly_in_colour(site, open_page):
    page = open_page().page
    page.goto(site.url(ARTICLE))
    colours = page.evaluate("""() => ['accurate', 'mostly-accurate'].map(v => {
        const m = document.querySelector('.article-body mark.v-' + v);
        return getComputedStyle(m).textDecorationColor.match(/\\d+/g).slice(0, 3).map(Number);
    })""")
    distance = sum((a - b) ** 2 for a, b in zip(*colours)) ** 0.5
    assert distance > 90, f"the two greens are too close: {colours}"


@pytest.mark.parametrize("path", [ARTICLE, OVERLAP, "claims/"])
def test_a_legend_beside_the_verdict_counts_gives_colour_cue_and_word(site, open_page, path):
    page = open_page(java_script_enabled=False).page
    page.goto(site.url(path))
    legend = page.locator(".legend")
    assert legend.count() == 1
    counts = page.locator(".article-tally .tally, .group-index .tally").first.bounding_box()
    box = legend.bounding_box()
    assert 0 <= box["y"] - (counts["y"] + counts["height"]) < 250, "the legend sits right after the counts"
    text = legend.inner_text()
    for cue in ("Solid", "Dashed", "Wavy", "Double", "Dotted"):
        assert cue in text
    styles = page.evaluate("""() => [...document.querySelectorAll('.legend .cue')].map(e =>
        [e.textContent.slice(0, -2), getComputedStyle(e).textDecorationStyle, getComputedStyle(e).textDecorationColor])""")
    assert {word for word, _, _ in styles} >= {"Accurate", "Mostly accurate", "Mixed", "Misleading", "Inaccurate",
                                                "Unsupported", "Outdated", "Context", "Opinion", "Boilerplate"}
    by_word = {word: style for word, style, _ in styles}
    assert by_word["Accurate"] == "solid" and by_word["Mixed"] == "dashed" and by_word["Inaccurate"] == "wavy"
    assert by_word["Outdated"] == "double" and by_word["Context"] == "dotted"


# ---- markers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [360, 1280])
def test_every_marker_is_at_least_24_px_square_and_apart_from_the_next(site, open_page, width):
    page = open_page(viewport={"width": width, "height": 800}).page
    page.goto(site.url(OVERLAP))
    boxes = page.evaluate("""() => [...document.querySelectorAll('.annotated a.note-ref')].map(r => {
        const b = r.getBoundingClientRect();
        return [b.left, b.top, b.width, b.height];
    })""")
    assert boxes and all(w >= 24 and h >= 24 for _, _, w, h in boxes), [b for b in boxes if b[2] < 24 or b[3] < 24]
    for (x1, y1, w1, h1), (x2, y2, w2, h2) in zip(boxes, boxes[1:]):
        if abs(y1 - y2) < 4:  # on the same line
            assert x2 >= x1 + w1 + 3, "two markers touch"


def test_a_marker_says_its_verdict_in_its_name_and_on_hover_and_focus(site, open_page):
    page = open_page(viewport={"width": 360, "height": 800}).page
    page.goto(site.url(OVERLAP))
    ref = page.locator(".article-body a.note-ref.v-outdated").first
    assert ref.get_attribute("aria-label").endswith(": Outdated")
    word = ref.locator(".ref-word")
    assert not word.is_visible()
    ref.hover()
    assert word.is_visible() and word.inner_text() == "Outdated"
    box = word.bounding_box()
    assert box["x"] + box["width"] <= 360, "the word never reaches past the screen"
    page.mouse.move(0, 0)
    assert not word.is_visible()
    tab_to(page, ".annotated a.note-ref.v-outdated")
    assert page.locator(".annotated a.note-ref.v-outdated:focus .ref-word").first.is_visible()
    assert scroll_width(page)[0] <= 360


# ---- overlapping notes --------------------------------------------------------------------------

def test_overlapping_notes_each_show_their_own_verdict_where_they_overlap(site, open_page, screenshots):
    page = open_page(device_scale_factor=2).page
    page.goto(site.url(OVERLAP))
    inner = page.locator(".article-body mark.v-outdated > mark.v-accurate").first
    colours = page.evaluate("""(m) => [m.parentElement, m].map(e => getComputedStyle(e).textDecorationColor
        .match(/\\d+/g).slice(0, 3).map(Number))""", inner.element_handle())
    outer_line, inner_line = colours
    assert outer_line != inner_line
    inner.screenshot(path=str(screenshots / "overlap.png"))
    box = inner.bounding_box()
    _, _, pixels = png_pixels(page.screenshot(clip={"x": box["x"], "y": box["y"], "width": box["width"],
                                                    "height": box["height"] + 12}))
    near = lambda colour: sum(1 for p in pixels if sum(abs(a - b) for a, b in zip(p, colour)) < 60)
    assert near(outer_line) > 50, "the outer (outdated) note's line runs under the overlap"
    assert near(inner_line) > 50, "the inner (accurate) note's line is there too"
    inner.click()
    panel = page.locator("#note-panel")
    assert panel.locator(".note").count() == 2, "a click where they overlap opens both notes"
    words = sorted(panel.locator(".note-title .badge").nth(i).inner_text().split()[-1] for i in range(2))
    assert words == ["Accurate", "Outdated"]


# ---- touch and keyboard -------------------------------------------------------------------------

def test_a_tap_on_a_linked_name_inside_a_highlight_opens_the_note(site, open_page):
    page = open_page(viewport={"width": 360, "height": 800}, has_touch=True, is_mobile=True).page
    page.goto(site.url(ARTICLE))
    name = page.locator(".article-body a.entity-link > mark").first
    note_id = name.get_attribute("data-annotation")
    entity = name.locator("xpath=..").get_attribute("href")
    name.tap()
    assert page.url.endswith(ARTICLE), "the tap did not leave the page"
    panel = page.locator("#note-panel")
    assert panel.is_visible()
    assert page.locator(f"#ref_{note_id}").get_attribute("aria-expanded") == "true"
    about = [panel.locator(".about-entities a").nth(i).get_attribute("href")
             for i in range(panel.locator(".about-entities a").count())]
    assert entity in about, "the name is one tap away in the note's About"


def test_enter_or_space_on_the_open_notes_marker_moves_into_the_panel_and_space_never_scrolls(site, open_page):
    page = open_page(viewport={"width": 1280, "height": 900}).page
    page.goto(site.url(ARTICLE))
    refs = page.locator(".article-body a.note-ref")
    refs.nth(2).click()
    second = refs.nth(3)
    second.focus()                       # Tab to the next marker: the panel shows its note
    assert second.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Enter")         # …and Enter goes to read it, not closing it
    assert page.locator("#note-panel").is_visible()
    assert page.evaluate("document.getElementById('note-panel').contains(document.activeElement)")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.dataset.note") == second.get_attribute("data-note")
    page.evaluate("window.scrollTo(0, 600)")
    fourth = refs.nth(4)
    fourth.focus()
    before = page.evaluate("window.scrollY")
    page.keyboard.press(" ")             # Space opens the note…
    assert fourth.get_attribute("aria-expanded") == "true"
    assert page.evaluate("window.scrollY") == before, "Space did not scroll the page"
    assert page.evaluate("document.getElementById('note-panel').contains(document.activeElement)")
    fourth.focus()
    page.keyboard.press(" ")             # …and on the open note's marker moves into it again
    assert page.locator("#note-panel").is_visible()
    assert page.evaluate("window.scrollY") == before


# ---- entity pages -------------------------------------------------------------------------------

def test_an_entity_page_lists_each_sentence_once_whole_and_linked_to_its_place(site, open_page):
    page = open_page().page
    page.goto(site.url("entities/scale-ai/"))
    sentences = page.locator(".mentions li").all_inner_texts()
    assert len(sentences) == len(set(sentences)), "a sentence is listed twice"
    assert "(TIME has a content partnership with Scale AI.)" in sentences, "closing punctuation is kept"
    assert page.locator(".contents a[href='#mentions-heading']").count() == 1
    name = page.locator(".mentions a.mention-name").nth(3)
    word = name.inner_text()
    name.click()
    page.wait_for_load_state()
    target = page.evaluate("""() => {
        const t = document.querySelector(':target');
        const r = t.getBoundingClientRect();
        const range = document.createRange();
        range.setStartAfter(t);
        range.setEnd(t.parentNode, t.parentNode.childNodes.length);
        return [t.id, r.top, window.innerHeight, range.toString()];
    }""")
    assert target[0].startswith("m_") and 0 <= target[1] < target[2]
    assert target[3].lstrip().startswith(word), "the link lands right before the name"


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 360, "height": 800}], ids=["wide", "narrow"])
def test_an_entity_page_longer_than_three_screens_has_a_contents_list(site, open_page, viewport):
    page = open_page(viewport=viewport, java_script_enabled=False).page
    entities = sorted(p.parent.name for p in (site.root / "entities").glob("*/index.html"))
    long = 0
    for entity in entities:
        page.goto(site.url(f"entities/{entity}/"))
        height, screen = page.evaluate("[document.documentElement.scrollHeight, window.innerHeight]")
        if height > 3.3 * screen:
            long += 1
            assert page.locator("nav.contents").count() == 1, f"{entity}: {height} px and no contents"
    assert long >= 3


# ---- claims index -------------------------------------------------------------------------------

def test_each_claims_row_shows_its_badge_and_the_first_sentence_of_its_note(site, open_page):
    page = open_page(java_script_enabled=False).page
    page.goto(site.url("claims/"))
    rows = page.locator(".claim-item")
    for i in range(rows.count()):
        row = rows.nth(i)
        assert row.locator(".badge").count() == 1
        assert row.locator(".claim-why").inner_text().strip()
        quote = row.locator(".claim-quote").inner_text()
        assert len(quote.split()) <= 42, f"a long quote is shortened: {quote[:80]}…"
        assert len([c for c in quote if c.isalnum()]) >= 2, f"a quote says nothing on its own: {quote}"


def test_a_filtered_link_from_an_article_lands_with_the_filter_summary_in_view(site, open_page):
    page = open_page(viewport={"width": 1280, "height": 800}).page
    page.goto(site.url(ARTICLE))
    page.locator(".article-tally a.badge.v-unsupported").click()
    page.wait_for_url("**/claims/?verdict=unsupported&article=data-neutrality-concerns#unsupported")
    page.wait_for_load_state("load")
    status = page.locator(".filter-status")
    box = status.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 800, "the filter summary is in view"
    assert status.inner_text().startswith("Showing 3 of")
    shown = page.locator(".claim-item:not([hidden])")
    assert shown.count() == 3 and shown.first.is_visible()


def test_several_articles_means_two_or_more(site, open_page):
    page = open_page(java_script_enabled=False).page
    page.goto(site.url("claims/"))
    counts = page.locator("#shared-heading + .claim-list .count").all_inner_texts()
    assert counts and all(int(c.split()[0]) >= 2 for c in counts)


# ---- article pages ------------------------------------------------------------------------------

def test_the_notes_list_uses_the_width_of_a_wide_screen(site, open_page):
    page = open_page(viewport={"width": 1280, "height": 900}).page
    page.goto(site.url(ARTICLE))
    width = page.locator("#notes").bounding_box()["width"]
    columns = page.evaluate("new Set([...document.querySelectorAll('.note-list > .note')].map(n => Math.round(n.getBoundingClientRect().left))).size")
    assert width > 1000 and columns >= 2


def test_linked_names_are_styled_unlike_boilerplate_and_linked_once_a_paragraph(site, open_page):
    page = open_page().page
    page.goto(site.url("articles/cracks-forming-partnership/"))
    styles = page.evaluate("""() => [document.querySelector('.article-body a.entity-link:not(:has(mark))'),
                                     document.querySelector('.article-body mark.k-boilerplate')]
        .map(e => getComputedStyle(e).textDecorationStyle + ' ' + getComputedStyle(e).textDecorationThickness)""")
    assert styles[0] != styles[1] and not styles[0].startswith("dotted")
    for slug in ("data-neutrality-concerns", "gig-workers-left-behind", "cracks-forming-partnership"):
        page.goto(site.url(f"articles/{slug}/"))
        twice = page.evaluate("""() => [...document.querySelectorAll('.article-body p, .article-body li, .article-body td')]
            .filter(p => { const hrefs = [...p.querySelectorAll('a.entity-link')].map(a => a.getAttribute('href'));
                           return hrefs.length !== new Set(hrefs).size; }).length""")
        assert twice == 0


def test_the_compare_page_names_the_articles_it_has_no_column_for(site, open_page):
    page = open_page(java_script_enabled=False).page
    page.goto(site.url("compare/"))
    columns = page.locator(".matrix thead th a").all_inner_texts()
    silent = page.locator(".silent-articles a").all_inner_texts()
    page.goto(site.url("articles/"))
    titles = page.locator(".article-item-title a").all_inner_texts()
    assert sorted(columns + silent) == sorted(titles), "every article has a column or is named as telling none"


def test_search_results_show_clean_text(site, open_page):
    page = open_page().page
    page.goto(site.url("search/"))
    page.wait_for_selector("#search-input")
    page.fill("#search-input", "labeling")
    page.wait_for_selector(".result")
    page.wait_for_timeout(500)
    excerpts = " ".join(page.locator(".result-excerpt, .sub-result p").all_inner_texts())
    assert excerpts.strip()
    assert not GLYPHS & set(excerpts), f"badge glyphs in the excerpts: {GLYPHS & set(excerpts)}"
    assert "Key Features Clients" not in " ".join(excerpts.split()), "a table flattened into the excerpt"
    assert "About this article" not in excerpts and "Publisher rating" not in excerpts


# ---- no sideways scrolling ----------------------------------------------------------------------

@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(site, open_page, width):
    page = open_page(viewport={"width": width, "height": 800}).page
    wide = []
    for path in PAGE_KINDS:
        page.goto(site.url(path))
        scrolled, client = scroll_width(page)
        if scrolled > client:
            wide.append(f"/{path}: {scrolled} px in {client}")
    page.goto(site.url(ARTICLE))
    page.locator(".article-body a.note-ref").last.click()       # with a note open too
    scrolled, client = scroll_width(page)
    if scrolled > client:
        wide.append(f"/{ARTICLE} with a note open: {scrolled} px in {client}")
    assert not wide, wide


# ---- a dossier past the claims index's limit ----------------------------------------------------

class _Handler(http.server.SimpleHTTPRequestHandler):
    def translate_path(self, path):
        path = path.split("?", 1)[0].split("#", 1)[0]
        return super().translate_path("/" + path[len("/repo/"):] if path.startswith("/repo/") else "/__outside__")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def large_site(tmp_path_factory):
    """60 articles of 9 notes each: 540 annotations, past the 500 the claims index shows on one page."""
    from dossier import listing
    folder = tmp_path_factory.mktemp("large")
    source, out = folder / "dossier", folder / "public"
    (source / "content" / "articles").mkdir(parents=True)
    verdicts = ["accurate", "mostly-accurate", "mixed", "inaccurate", "unsupported", "misleading", "outdated"]
    notes = []
    for i in range(60):
        words = [f"claim{n} of story{i} is here" for n in range(9)]
        (source / "content" / "articles" / f"s{i:02d}.md").write_text(
            f"---\ntitle: Story {i:02d}\nsource: daily\nkind: news\npublished: 2025-{i % 12 + 1:02d}-01\n---\n"
            + " ".join(f"The {w}." for w in words) + "\n", encoding="utf-8")
        for n, w in enumerate(words):
            v = verdicts[(i + n) % len(verdicts)]
            notes.append(f"  - {{id: s{i:02d}-{n}, article: s{i:02d}, quote: {w}, kind: fact-check, verdict: {v}, "
                         f"note: Checked., cite: [filing]}}\n")
    assert len(notes) > listing.CLAIMS_PER_PAGE
    (source / "annotations.yaml").write_text(
        "site: {title: Large, base_url: https://example.org/large/, language: en, published: 2025-06-20}\n"
        "sources:\n  daily: {name: The Daily, rating: reliable, rationale: Fine.}\n"
        "references:\n  filing: {title: The filing, url: https://example.org/filing}\n"
        "annotations:\n" + "".join(notes), encoding="utf-8")
    handler = functools.partial(_Handler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}/repo/"
    result = subprocess.run([sys.executable, "build.py", "--source", str(source), "--out", str(out), "--base-url", base,
                             "--no-search"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield base, out
    server.shutdown()
    server.server_close()


def test_a_split_claims_index_sends_an_articles_filtered_link_to_the_part_that_shows_it(large_site, open_page):
    base, out = large_site
    assert (out / "claims" / "verdict" / "accurate" / "index.html").is_file()
    page = open_page(viewport={"width": 1280, "height": 800}).page
    page.goto(base + "articles/s47/")
    page.locator(".article-tally a.badge.v-accurate").click()
    page.wait_for_url("**/claims/verdict/accurate/**?article=s47")
    page.wait_for_load_state("load")
    shown = page.locator(".claim-item:not([hidden])")
    expected = sum(1 for n in range(9) if (47 + n) % 7 == 0)
    assert shown.count() == expected > 0
    assert all(shown.nth(i).get_attribute("data-article") == "s47" for i in range(shown.count()))
    box = page.locator(".filter-status").bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 800
    page.goto(base + "claims/?verdict=inaccurate&article=s05")    # the old form of the link still works
    page.wait_for_url("**/claims/verdict/inaccurate/**?article=s05")
    page.wait_for_load_state("load")
    assert page.locator(".claim-item:not([hidden])").count() == sum(1 for n in range(9) if (5 + n) % 7 == 3)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_split_pages_read_without_javascript_and_never_scroll_sideways(large_site, open_page, width):
    base, out = large_site
    page = open_page(java_script_enabled=False, viewport={"width": width, "height": 800}).page
    page.goto(base + "claims/")
    assert page.locator(".key-parts a").count() == 7
    page.locator(".key-parts a").first.click()
    assert page.locator(".claim-item").count() > 0
    assert scroll_width(page)[0] <= width
    if page.locator(".pager a[rel=next]").count():
        page.locator(".pager a[rel=next]").first.click()
        assert page.locator(".claim-item").count() > 0 and scroll_width(page)[0] <= width


@pytest.fixture(scope="module")
def split_site(tmp_path_factory):
    """The dozen-article dossier of test_listing.py built with its lowered split sizes, so that
    every list splits into parts (articles, entities, timeline years, references, corrections,
    sources, an entity's and a claim's pages, compare, the claims index per verdict); served
    under /repo/."""
    folder = tmp_path_factory.mktemp("split")
    source, out = folder / "dossier", folder / "public"
    handler = functools.partial(_Handler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}/repo/"
    # in a process of its own: test_listing.py imports tests/conftest.py, which this folder's shadows
    script = ("import sys; from pathlib import Path; sys.path[:0] = [sys.argv[3], sys.argv[4]]\n"
              "from test_listing import SMALL, long_dossier\nfrom conftest import write_files\n"
              "from dossier import listing\nfrom dossier.site import Config, build\n"
              "[setattr(listing, name, value) for name, value in SMALL.items()]\n"
              "write_files(Path(sys.argv[1]), long_dossier())\n"
              "result = build(Config(source=Path(sys.argv[1]), out=Path(sys.argv[2]), base_url=sys.argv[5], search=False))\n"
              "sys.exit(0 if result.ok else 1)\n")
    result = subprocess.run([sys.executable, "-c", script, str(source), str(out), str(ROOT), str(ROOT / "tests"), base],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield base, out
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("width", WIDTHS)
def test_no_part_of_a_split_list_scrolls_sideways(split_site, open_page, width):
    base, out = split_site
    firsts = ["articles/", "entities/", "entities/meta/", "claims/", "claims/c0/", "timeline/", "references/",
              "corrections/", "sources/", "sources/daily/", "compare/"]
    parts = firsts + sorted(p.parent.relative_to(out).as_posix() + "/" for p in out.rglob("index.html")
                            if "/page/" in p.as_posix() or p.parent.parent.name in ("verdict", "kind", "timeline"))
    kinds = {part.split("/")[0] for part in parts}
    assert {"articles", "entities", "claims", "timeline", "references", "corrections", "sources", "compare"} <= kinds
    page = open_page(viewport={"width": width, "height": 800}).page
    wide = []
    for part in parts:
        page.goto(base + part)
        assert page.locator(".pager, .key-parts, .year-index, .year-overview, .group-index").count() > 0, f"/{part} links to no other part"
        scrolled, client = scroll_width(page)
        if scrolled > client:
            wide.append(f"/{part}: {scrolled} px in {client}")
    assert not wide, wide
