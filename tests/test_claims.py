"""One claim, every telling: claim pages, the note's link to its claim, the coverage matrix,
and the corrections log — read from the golden sample's build and from small dossiers."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from conftest import BASE_ANNOTATIONS, article, resolve_strings
from dossier import listing, render
from refresh_golden import build_sample

from test_build import page_text as words


def page_text(page: str) -> str:
    """The page's words, without the spaces tag boundaries leave before punctuation."""
    return re.sub(r" ([,.:;)])", r"\1", words(page))


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    result, out = build_sample(tmp_path_factory.mktemp("claims"))
    assert result.ok
    return out


def read(out, path: str) -> str:
    return (out / path).read_text(encoding="utf-8")


# ---- claim pages --------------------------------------------------------------------------

def test_claim_page_shows_every_telling_earliest_first_in_its_sentence_with_its_verdict(golden):
    text = page_text(read(golden, "claims/deal-amount/index.html"))
    assert "Meta invested about $14.3 billion for 49% of Scale AI" in text and "Our verdict on the claim ✓ Accurate" in text
    tellings = [("Why Meta Bet Big on Scale", "Meta invested $15 billion in Scale AI for “half” of the company — a bet "
                 "on human-labelled data.", "✗ Inaccurate", "The amount was about $14.3 billion."),
                ("Meta Buys Into Scale AI The Ledger", "Meta has agreed to invest about $14.3 billion in Scale AI, the "
                 "data-labelling company, for a 49% stake.", "✓ Accurate", "The amount matches the announcement."),
                ("Meta Buys Into Scale AI (copy)", "republishes Meta Buys Into Scale AI", "✓ Accurate",
                 "The Ledger's figure, copied with credit.")]
    positions = []
    for parts in tellings:
        spots = [text.find(p, positions[-1] if positions else 0) for p in parts]
        assert -1 not in spots, (parts, spots)
        positions.append(spots[-1])
    assert "The Ledger Publisher rating: Reliable · 13 June 2025" in text
    assert "Daily Aggregator Publisher rating: Unreliable · June 2025" in text


def test_a_republication_counts_with_its_original_publisher(golden):
    text = page_text(read(golden, "claims/deal-amount/index.html"))
    # Three articles by three sources, but the Mirror Wire copy counts with The Ledger's original.
    assert "told in 3 articles" in text
    assert "Stated by 2 publishers, 1 of them rated reliable (a republication counts with its original)." in text


def test_first_appearance_is_named_and_imprecise_dates_are_said_to_be(golden):
    text = page_text(read(golden, "claims/deal-amount/index.html"))
    assert ("First carried by Why Meta Bet Big on Scale (Daily Aggregator, June 2025) or Meta Buys Into Scale AI "
            "(The Ledger, 13 June 2025): their dates are too imprecise to tell which came first.") in text
    assert "First appearance" not in text


def claim_dossier(dates: dict[str, str | None]):
    """A dossier whose articles (slug → published date or None) each tell the claim 'deal'."""
    articles = {slug: article("Meta bought a stake in Scale.\n", extra=f"published: {date}\n" if date else "")
                for slug, date in dates.items()}
    annotations = BASE_ANNOTATIONS.replace("annotations: []\n", "claims:\n  deal:\n    statement: Meta bought a stake.\n"
                                           "    verdict: accurate\n    cite: [filing]\nannotations:\n" + "".join(
        f"  - {{id: t-{slug}, article: {slug}, quote: Meta bought a stake, kind: context, claim: deal}}\n"
        for slug in dates))
    dossier, diagnostics = resolve_strings(annotations, articles)
    assert not [d for d in diagnostics if d.level == "error"], diagnostics
    return dossier


def test_the_earliest_dated_telling_is_the_first_appearance_and_undated_ones_are_counted():
    context = render._claim_context(claim_dossier({"late": "2025-07-02", "early": "2025-06-12", "nodate": None}), "deal")
    assert [t.article.slug for t in context["tellings"]] == ["early", "late", "nodate"]
    assert [t.article.slug for t in context["firsts"]] == ["early"]
    assert context["undated"] == 1 and context["publishers"] == ["daily"] and context["reliable"] == ["daily"]
    none_dated = render._claim_context(claim_dossier({"a": None, "b": None}), "deal")
    assert none_dated["firsts"] == [] and none_dated["undated"] == 2


def test_the_claim_review_lists_every_appearance_and_the_first(golden):
    page = read(golden, "claims/deal-amount/index.html")
    block = page.split('<script type="application/ld+json">\n', 1)[1].split("\n</script>", 1)[0]
    review = json.loads(block)
    item = review["itemReviewed"]
    assert [a["headline"] for a in item["appearance"]] == [
        "Why Meta Bet Big on Scale", "Meta Buys Into Scale AI", "Meta Buys Into Scale AI (copy)"]
    assert item["firstAppearance"]["headline"] == "Why Meta Bet Big on Scale"
    assert review["dateModified"] == "2025-07-01" and review["url"] == "https://example.org/golden/claims/deal-amount/"


# ---- the notes list ----------------------------------------------------------------------

def test_a_note_links_to_its_claim_and_says_how_many_other_articles_tell_it(golden):
    text = page_text(read(golden, "articles/big-deal/index.html"))
    assert ("One telling of the claim “Meta invested about $14.3 billion for 49% of Scale AI”, "
            "also told by 2 other articles.") in text
    assert "One telling of the claim “Meta holds 49% of Scale AI, in nonvoting shares”, also told by 1 other article." in text
    assert 'href="../../claims/deal-amount/"' in read(golden, "articles/big-deal/index.html")


# ---- the coverage matrix -----------------------------------------------------------------

class Table(HTMLParser):
    """The compare page's table: caption, header cells with their scope, and each row's cells' text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.caption, self.headers, self.rows = "", [], []
        self.cell: list | None = None
        self.in_caption = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "caption":
            self.in_caption = True
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td"):
            self.cell = [tag, a.get("scope"), ""]

    def handle_endtag(self, tag):
        if tag == "caption":
            self.in_caption = False
        elif tag in ("th", "td") and self.cell is not None:
            self.cell[2] = " ".join(self.cell[2].split())
            self.rows[-1].append(tuple(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.in_caption:
            self.caption += data
        if self.cell is not None:
            self.cell[2] += data


def test_compare_page_is_a_real_table_of_verdict_labels(golden):
    table = Table()
    table.feed(read(golden, "compare/index.html"))
    assert table.caption == "Claims (rows) by article (columns)"
    header, *rows = table.rows
    assert header == [("th", "col", "Claim"), ("th", "col", "Meta Buys Into Scale AI (copy)"),
                      ("th", "col", "Meta Buys Into Scale AI"), ("th", "col", "Why Meta Bet Big on Scale")]
    assert rows == [
        [("th", "row", "Meta invested about $14.3 billion for 49% of Scale AI ✓ Accurate"),
         ("td", None, "✓ Accurate in “Meta Buys Into Scale AI (copy)”"),
         ("td", None, "✓ Accurate in “Meta Buys Into Scale AI”"),
         ("td", None, "✗ Inaccurate in “Why Meta Bet Big on Scale”")],
        [("th", "row", "Meta holds 49% of Scale AI, in nonvoting shares ✓ Accurate"),
         ("td", None, "—Not stated"),
         ("td", None, "+ Context in “Meta Buys Into Scale AI”"),
         ("td", None, "! Misleading in “Why Meta Bet Big on Scale”")]]


# ---- corrections ---------------------------------------------------------------------------

def test_corrections_page_lists_every_update_newest_first_linked_to_what_changed(golden):
    page = read(golden, "corrections/index.html")
    text = page_text(page)
    first = text.find("2 July 2025 Note on “Alexandr Wang, will join Meta's new Meta Superintelligence Labs” in "
                      "“Meta Buys Into Scale AI”: Verdict from accurate to mostly-accurate.")
    second = text.find("1 July 2025 Claim “Meta invested about $14.3 billion for 49% of Scale AI”: Added the "
                       "company's own announcement.")
    assert -1 < first < second
    assert '<li id="annotation-ledger-wang-1">' in page and 'href="../articles/big-deal/#ledger-wang"' in page
    assert '<li id="claim-deal-amount-1">' in page and 'href="../claims/deal-amount/"' in page


def test_a_corrected_note_says_when_and_why(golden):
    text = page_text(read(golden, "articles/big-deal/index.html"))
    assert "Updated 2 July 2025: Verdict from accurate to mostly-accurate." in text


def test_the_feed_carries_each_correction_as_an_entry(golden):
    feedparser = pytest.importorskip("feedparser")
    feed = feedparser.parse((golden / "feed.xml").read_bytes())
    assert not feed.bozo
    corrections = [e for e in feed.entries if e.tags[0].term == "correction"]
    assert [(e.id, e.link, e.title, e.updated) for e in corrections] == [
        ("https://example.org/golden/corrections/#annotation-ledger-wang-1",
         "https://example.org/golden/articles/big-deal/#ledger-wang",
         "Correction: Note on “Alexandr Wang, will join Meta's new Meta Superintelligence Labs” in “Meta Buys Into Scale AI”",
         "2025-07-02T00:00:00Z"),
        ("https://example.org/golden/corrections/#claim-deal-amount-1", "https://example.org/golden/claims/deal-amount/",
         "Correction: Claim “Meta invested about $14.3 billion for 49% of Scale AI”", "2025-07-01T00:00:00Z")]
    assert corrections[0].summary == "<p>Verdict from accurate to mostly-accurate.</p>"


def test_with_many_articles_the_compare_page_lists_tellings_instead_of_a_grid(make_dossier, tmp_path):
    from dossier.site import Config, build
    count = listing.MATRIX_COLUMNS + 1
    files = {f"content/articles/a{i:02d}.md": article("Meta bought a stake in Scale.\n", extra=f"published: 2025-06-{i % 28 + 1:02d}\n")
             for i in range(count)}
    entries = "".join(f"  - {{id: t{i:02d}, article: a{i:02d}, quote: Meta bought a stake, kind: context, claim: deal}}\n"
                      for i in range(count))
    files["annotations.yaml"] = BASE_ANNOTATIONS.replace("annotations: []\n", "claims:\n  deal:\n    statement: Meta bought "
                                                         "a stake.\n    verdict: accurate\n    cite: [filing]\nannotations:\n" + entries)
    files["content/articles/deal.md"] = None
    result = build(Config(source=make_dossier(files), out=tmp_path / "out", search=False))
    assert result.ok, [d.format() for d in result.diagnostics]
    table = Table()
    table.feed((tmp_path / "out" / "compare" / "index.html").read_text())
    header, row = table.rows
    assert table.caption == "Claims and every article that tells them"
    assert header == [("th", "col", "Claim"), ("th", "col", "Tellings")]
    assert row[1][2].count("+ Context") == count
