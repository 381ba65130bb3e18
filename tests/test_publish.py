"""The published outputs, checked by outside validators: the Nu HTML Checker on every page,
feedparser on the Atom feed, the sitemaps.org XSD, the CSL-JSON schema, dossier.json's own
schema, the icalendar parser, schema.org ClaimReview fields, and GitHub's workflow schema.

The real dossier is built once per session into a temporary folder (from a copy of its
content, so the build's lock file is not rewritten in the repository).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ROOT, resolve_strings
from dossier import exports, publish
from dossier.model import VERDICT_LABELS, VERDICTS, PartialDate
from dossier.site import Config, build

BASE = "https://example.github.io/dossier/"
DATA = Path(__file__).parent / "data"
SCHEMA = ROOT / "dossier" / "schema" / "dossier.schema.json"
VNU = ROOT / "tests" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
WORKFLOWS = [ROOT / ".github" / "workflows" / "pages.yml", ROOT / ".github" / "workflows" / "check.yml"]
IN_CI = bool(os.environ.get("CI") or os.environ.get("GITHUB_ACTIONS"))


def missing(what: str) -> None:
    """Skip on a developer's machine; in CI a missing validator is a failure, not a pass."""
    (pytest.fail if IN_CI else pytest.skip)(f"{what} (run `bash scripts/test` to install everything)")


def build_real_dossier(folder: Path, base_url: str) -> Path:
    """Build the repository's dossier (copied into folder/src) into folder/public."""
    src = folder / "src"
    src.mkdir(parents=True)
    shutil.copy2(ROOT / "annotations.yaml", src / "annotations.yaml")
    shutil.copytree(ROOT / "content", src / "content")
    if (ROOT / "annotations.lock").exists():
        shutil.copy2(ROOT / "annotations.lock", src / "annotations.lock")
    result = build(Config(source=src, out=folder / "public", base_url=base_url, search=False))
    assert result.ok, "\n".join(d.format() for d in result.diagnostics)
    return folder / "public"


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    return build_real_dossier(tmp_path_factory.mktemp("publish"), BASE)


@pytest.fixture(scope="session")
def data(site) -> dict:
    return json.loads((site / "dossier.json").read_text(encoding="utf-8"))


def html_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "pagefind" not in p.parts)


def page_url(site: Path, path: Path) -> str:
    """The absolute URL a built file is served at."""
    rel = path.relative_to(site).as_posix()
    return BASE + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)


class Head(HTMLParser):
    """The bits of a page the validators care about: <html lang>, head metadata, JSON-LD, ids."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = None
        self.title = ""
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.jsonld: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "title":
            self._in = "title"
        elif tag == "meta" and ("name" in a or "property" in a):
            self.meta[a.get("name") or a["property"]] = a.get("content", "")
        elif tag == "link" and a.get("rel"):
            self.links.setdefault(a["rel"], a.get("href", ""))
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._in = "jsonld"
            self.jsonld.append("")

    def handle_endtag(self, tag):
        if tag in ("title", "script"):
            self._in = None

    def handle_data(self, text):
        if self._in == "title":
            self.title += text
        elif self._in == "jsonld":
            self.jsonld[-1] += text


def head_of(path: Path) -> Head:
    parser = Head()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


# ---- HTML: the Nu checker and the head of every page ----------------------------------------

def test_every_page_passes_the_nu_html_checker(site):
    if not shutil.which("java"):
        missing("Java is not installed, so the Nu HTML Checker cannot run")
    if not VNU.is_file():
        missing("the Nu HTML Checker (npm vnu-jar) is not installed in tests/node_modules")
    run = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", "--skip-non-html",
                          *map(str, html_pages(site))], capture_output=True, text=True, timeout=600)
    report = json.loads(run.stderr or run.stdout or '{"messages": []}')
    errors = [f"{m.get('url', '').split(str(site))[-1]}:{m.get('lastLine', '?')}: {m.get('message')}"
              for m in report["messages"] if m.get("type") in ("error", "non-document-error")]
    assert not errors, f"{len(errors)} Nu HTML Checker errors:\n" + "\n".join(errors)


def test_every_page_has_title_description_canonical_open_graph_and_lang(site, data):
    for path in html_pages(site):
        head = head_of(path)
        where = path.relative_to(site).as_posix()
        assert head.lang == data["site"]["language"], where
        assert head.title.strip(), where
        assert head.meta.get("description", "").strip(), where
        if path.name != "404.html":
            assert head.links.get("canonical") == page_url(site, path), where
            assert head.meta.get("og:url") == page_url(site, path), where
        for prop in ("og:title", "og:description", "og:type", "og:site_name"):
            assert head.meta.get(prop, "").strip(), f"{where}: {prop}"


def test_404_links_start_from_the_base_path(site):
    hrefs = re.findall(r'(?:href|src)="([^"]+)"', (site / "404.html").read_text(encoding="utf-8"))
    internal = [h for h in hrefs if not h.startswith(("http:", "https:", "mailto:", "#"))]
    assert internal and all(h.startswith("/dossier/") for h in internal), internal


def test_pages_robots_and_nojekyll(site):
    assert (site / ".nojekyll").is_file()
    assert f"Sitemap: {BASE}sitemap.xml" in (site / "robots.txt").read_text(encoding="utf-8")


# ---- Atom feed ---------------------------------------------------------------------------

def corrections(data: dict) -> dict[str, str]:
    """The corrections log in the feed: entry id (one per `updates` entry of a note or a claim) → the
    permalink of what was corrected."""
    return {f"{BASE}corrections/#{kind}-{item['id']}-{n}": item["permalink"]
            for kind, items in (("annotation", data["annotations"]), ("claim", data["claims"]))
            for item in items for n in range(1, len(item["updates"]) + 1)}


def test_feed_parses_without_errors_and_lists_articles_events_and_corrections(site, data):
    feedparser = pytest.importorskip("feedparser")
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    ids = [e.id for e in feed.entries]
    corrected = corrections(data)
    assert corrected, "the shipped dossier has corrections"
    expected = {a["permalink"] for a in data["articles"]} | {e["permalink"] for e in data["events"]} | set(corrected)
    assert set(ids) == expected and len(ids) == len(expected)
    for entry in feed.entries:
        assert entry.link == corrected.get(entry.id, entry.id) and entry.link.startswith(BASE)
    assert feed.feed.link == BASE
    assert any(link.rel == "self" and link.href == BASE + "feed.xml" for link in feed.feed.links)


def test_feed_lists_every_entry_newest_first_by_updated(site, data):
    """Issue 18: the order is the order of the <updated> dates the entries carry (undated articles
    used to come last, while carrying the feed's newest date)."""
    feedparser = pytest.importorskip("feedparser")
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    stamps = [e.updated for e in feed.entries]
    assert stamps == sorted(stamps, reverse=True)
    assert feed.feed.updated == stamps[0]
    # An article's annotated copy is no older than the day the dossier's fact checks were published.
    published = data["site"]["published"] + "T00:00:00Z"
    articles = {a["permalink"] for a in data["articles"]}
    assert all(e.updated >= published for e in feed.entries if e.id in articles)


def test_undated_article_entry_uses_its_retrieved_date():
    dossier, _ = resolve_strings(articles={"deal": "---\ntitle: T\nsource: daily\nkind: news\nretrieved: 2025-07-01\n---\nMeta.\n"})
    entries = publish.feed_entries(dossier)
    assert [(e["category"], e["date"]) for e in entries] == [("article", PartialDate(2025, 7, 1))]
    assert "<published>" not in publish.atom_feed(dossier)
    assert "<updated>2025-07-01T00:00:00Z</updated>" in publish.atom_feed(dossier)


# ---- sitemap -----------------------------------------------------------------------------

def test_sitemap_validates_against_the_sitemaps_org_schema(site):
    etree = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.parse(str(DATA / "sitemap.xsd")))
    doc = etree.parse(str(site / "sitemap.xml"))
    assert schema.validate(doc), schema.error_log
    assert len(doc.getroot()) <= 50000


def test_sitemap_lists_every_page_but_404(site):
    etree = pytest.importorskip("lxml.etree")
    locs = [el.text for el in etree.parse(str(site / "sitemap.xml")).iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    expected = sorted(page_url(site, p) for p in html_pages(site) if p.name != "404.html")
    assert locs == expected


# ---- data exports ------------------------------------------------------------------------

def test_references_json_is_valid_csl_json(site, data):
    jsonschema = pytest.importorskip("jsonschema")
    items = json.loads((site / "references.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(json.loads((DATA / "csl-data.json").read_text(encoding="utf-8"))).validate(items)
    assert [i["id"] for i in items] == [r["id"] for r in data["references"]]
    by_id = {r["id"]: r for r in data["references"]}
    for item in items:
        ref = by_id[item["id"]]
        assert item["title"] == ref["title"]
        assert item.get("URL") == ref["url"]
        assert item.get("container-title") == ref["publisher"]
        if ref["date"]:
            assert item["issued"]["date-parts"][0] == [int(x) for x in ref["date"].split("-")]


def test_csl_authors_are_literal_names():
    assert exports._authors("David Silver and Richard S. Sutton") == [{"literal": "David Silver"},
                                                                     {"literal": "Richard S. Sutton"}]
    assert exports.reference_type("Scale AI (company blog)", None) == "post-weblog"
    assert exports.reference_type(None, "https://example.org") == "webpage"


def test_dossier_json_validates_against_its_schema(data):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(data)


def test_dossier_schema_describes_every_property():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    undocumented = []

    def walk(node, where):
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if not (isinstance(sub, dict) and sub.get("description")):
                    undocumented.append(f"{where}/properties/{name}")
            for key, sub in node.items():
                walk(sub, f"{where}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{where}/{i}")
    walk(schema, "#")
    assert not undocumented


def test_dossier_json_positions_point_at_the_quotes(data):
    texts = {a["slug"]: a["text"] for a in data["articles"]}
    titles = {a["slug"]: a["title"] for a in data["articles"]}
    assert data["annotations"] and any(ann["field"] == "title" for ann in data["annotations"])
    for ann in data["annotations"]:  # a title quote's position is in the title
        text, pos = (titles if ann["field"] == "title" else texts)[ann["article"]], ann["position"]
        assert text[pos["start"]:pos["end"]] == ann["exact"], ann["id"]
        assert text[:pos["start"]].endswith(ann["prefix"]) and text[pos["end"]:].startswith(ann["suffix"])
    for article in data["articles"]:
        numbers = [a["number"] for a in data["annotations"] if a["article"] == article["slug"]]
        assert numbers == list(range(1, len(numbers) + 1))
    mentions = Counter()
    for article in data["articles"]:
        mentions.update(article["mentions"])
    assert {e["id"]: e["mentions"] for e in data["entities"]} == {e["id"]: mentions[e["id"]] for e in data["entities"]}


def test_annotations_jsonld_is_a_web_annotation_collection(site, data):
    collection = json.loads((site / "annotations.jsonld").read_text(encoding="utf-8"))
    assert collection["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert collection["type"] == "AnnotationCollection"
    items = collection["first"]["items"]
    assert collection["first"]["type"] == "AnnotationPage" and collection["total"] == len(items)
    articles = {a["slug"]: a for a in data["articles"]}
    motivations = {"assessing", "commenting", "describing", "editing", "classifying", "highlighting", "linking",
                   "moderating", "questioning", "tagging", "identifying", "bookmarking", "replying"}
    for item, ann in zip(items, data["annotations"], strict=True):
        article = articles[ann["article"]]
        assert item["id"] == ann["permalink"] and item["type"] == "Annotation"
        assert item["motivation"] in motivations
        assert (item["motivation"] == "assessing") == (ann["kind"] == "fact-check")
        assert item["target"]["source"] == (article["url"] or article["permalink"])
        selector = item["target"]["selector"]
        assert selector == {"type": "TextQuoteSelector", "exact": ann["exact"], "prefix": ann["prefix"],
                            "suffix": ann["suffix"]}
        bodies = [b for b in item["body"] if b["type"] == "TextualBody"]
        assert any(b["format"] == "text/markdown" and b["value"] == ann["note"] for b in bodies)
        if ann["verdict"]:
            assert {"purpose": "assessing", "value": VERDICT_LABELS[ann["verdict"]]}.items() <= bodies[0].items()


# ---- iCalendar ---------------------------------------------------------------------------

def test_timeline_ics_has_one_vevent_per_event(site, data):
    icalendar = pytest.importorskip("icalendar")
    raw = (site / "timeline.ics").read_bytes()
    calendar = icalendar.Calendar.from_ical(raw)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(data["events"])
    host = urlsplit(BASE).hostname
    for vevent, event in zip(events, data["events"], strict=True):
        assert str(vevent["UID"]).startswith(f"{event['id']}@{host}")
        assert str(vevent["SUMMARY"]) == event["title"]
        assert str(vevent["URL"]) == event["permalink"]
        start = vevent["DTSTART"].dt
        assert start.isoformat().startswith(event["date"]) and not isinstance(start, datetime)
        assert vevent["DTSTAMP"].dt == datetime(start.year, start.month, start.day, tzinfo=timezone.utc)
        assert vevent["DTEND"].dt > start
    assert len({str(v["UID"]) for v in events}) == len(events)
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and all(len(line) <= 75 for line in lines)
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_month_and_year_events_span_the_whole_period():
    assert publish.event_span(PartialDate(2025, 12))[:2] == ("20251201", "20260101")
    assert publish.event_span(PartialDate(2014))[:2] == ("20140101", "20150101")
    assert publish.event_span(PartialDate(2024, 2, 29))[:2] == ("20240229", "20240301")
    assert "month" in publish.event_span(PartialDate(2025, 6))[2]


def test_ics_text_is_escaped_and_folded_between_characters():
    assert publish._ics_text("a;b,c\\d\ne") == "a\\;b\\,c\\\\d\\ne"
    folded = publish._fold("DESCRIPTION:" + "é" * 100)
    parts = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in parts) and all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == "DESCRIPTION:" + "é" * 100


# ---- ClaimReview -------------------------------------------------------------------------

def test_article_pages_embed_a_claim_review_per_fact_check(site, data):
    articles = {a["slug"]: a for a in data["articles"]}
    for slug, article in articles.items():
        head = head_of(site / "articles" / slug / "index.html")
        reviews = [r for block in head.jsonld for r in json.loads(block)]
        checks = [a for a in data["annotations"] if a["article"] == slug and a["kind"] == "fact-check"]
        assert [r["url"] for r in reviews] == [a["permalink"] for a in checks], slug
        for review, ann in zip(reviews, checks):
            assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
            assert review["claimReviewed"] == " ".join(ann["exact"].split())
            assert review["reviewRating"] == {"@type": "Rating", "ratingValue": VERDICTS[ann["verdict"]],
                                              "bestRating": 5, "worstRating": 1,
                                              "alternateName": VERDICT_LABELS[ann["verdict"]]}
            claim = review["itemReviewed"]
            assert claim["@type"] == "Claim"
            assert claim["appearance"]["@type"] in ("NewsArticle", "CreativeWork")
            assert claim["appearance"]["url"] == (article["url"] or article["permalink"])
            publisher = next(s for s in data["sources"] if s["id"] == article["source"])
            if article["kind"] == "republication" and not article["republishes"]:
                # a copy of an article the dossier does not hold: whose words they are is not known here,
                # and the republisher is where they appeared, not their author
                assert "author" not in claim and claim["appearance"]["publisher"]["name"] == publisher["name"]
            else:
                assert claim["author"]["@type"] == "Organization" and claim["author"]["name"] == publisher["name"]
            assert review["author"] == {"@type": "Organization", "name": data["site"]["title"], "url": BASE}
            # when the fact check was first published, not when the article was
            assert review["datePublished"] == min((u["date"] for u in ann["updates"]), default=data["site"]["published"])
            assert review.get("dateModified") == max((u["date"] for u in ann["updates"]), default=None)


def test_claim_pages_embed_a_claim_review_with_every_appearance(site, data):
    articles = {a["slug"]: a for a in data["articles"]}
    annotations = {a["id"]: a for a in data["annotations"]}
    assert data["claims"], "the shipped dossier has claims"
    for claim in data["claims"]:
        (block,) = head_of(site / "claims" / claim["id"] / "index.html").jsonld
        review = json.loads(block)
        assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
        assert review["url"] == claim["permalink"] and review["claimReviewed"] == claim["statement"]
        assert review["reviewRating"] == {"@type": "Rating", "ratingValue": VERDICTS[claim["verdict"]], "bestRating": 5,
                                          "worstRating": 1, "alternateName": VERDICT_LABELS[claim["verdict"]]}
        assert review["author"] == {"@type": "Organization", "name": data["site"]["title"], "url": BASE}
        item = review["itemReviewed"]
        telling = [articles[annotations[t]["article"]] for t in claim["tellings"]]
        urls = list(dict.fromkeys(a["url"] or a["permalink"] for a in telling))
        assert item["@type"] == "Claim" and [x["url"] for x in item["appearance"]] == urls, claim["id"]
        for appearance in item["appearance"]:
            assert appearance["@type"] in ("NewsArticle", "CreativeWork") and appearance["headline"]
        dated = sorted((a for a in telling if a["published"]), key=lambda a: a["published"])
        if dated:
            assert item["firstAppearance"]["url"] == (dated[0]["url"] or dated[0]["permalink"])
            assert item["firstAppearance"]["datePublished"] == dated[0]["published"]
        else:
            assert "firstAppearance" not in item
        assert review.get("dateModified") == max((u["date"] for u in claim["updates"]), default=None)


def test_json_ld_can_never_close_its_script_element():
    text = exports.json_for_script({"q": "</script><!-- & -->"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"q": "</script><!-- & -->"}


def test_claim_review_is_modified_at_the_latest_correction():
    dossier, problems = resolve_strings(annotations="""\
        site: {title: T, base_url: https://example.org/t/, language: en, description: D}
        sources: {daily: {name: The Daily, rating: reliable, rationale: R}}
        references: {filing: {title: The filing}}
        annotations:
          - id: stake
            article: deal
            quote: bought a stake
            kind: fact-check
            verdict: mostly-accurate
            note: N
            cite: [filing]
            updates:
              - {date: 2025-08-30, summary: A}
              - {date: 2025-07-01, summary: B}
        """)
    assert not [p for p in problems if p.level == "error"], problems
    (review,) = publish.claim_reviews(dossier, "deal")
    # first published with its first logged change, not on the article's date (2025-06-12)
    assert (review["datePublished"], review["dateModified"]) == ("2025-07-01", "2025-08-30")
    assert review["url"] == "https://example.org/t/articles/deal/#stake"


# ---- workflows ---------------------------------------------------------------------------

def test_workflows_validate_against_githubs_schema():
    tool = shutil.which("check-jsonschema")
    if not tool:
        missing("check-jsonschema is not installed")
    run = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_workflows_pin_actions_and_keep_least_privilege():
    yaml = pytest.importorskip("yaml")
    pages, check = (yaml.safe_load(p.read_text(encoding="utf-8")) for p in WORKFLOWS)
    starter = sorted((ROOT / "dossier" / "starter" / "github" / "workflows").glob("*.yml"))
    assert len(starter) == 2  # a new dossier's Check and Publish workflows are held to the same rules
    for path, workflow in zip([*WORKFLOWS, *starter], [pages, check, *(yaml.safe_load(p.read_text()) for p in starter)]):
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                if "uses" in step:  # a full commit, which a moved tag cannot change
                    assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():  # and the release it is, for whoever updates it
            if "uses:" in line:
                assert re.search(r"@[0-9a-f]{40}  # v\d+\.\d+\.\d+", line), line
    # yaml reads the key `on` as True. Pull-request code runs without secrets or a write token.
    triggers = check.get("on", check.get(True))
    assert "pull_request" in triggers and "pull_request_target" not in triggers
    assert "pull_request_target" not in json.dumps(pages.get("on", pages.get(True)))
    assert pages["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    assert pages["permissions"] == {}
    assert pages["jobs"]["build"]["permissions"] == {"contents": "read", "pages": "read"}
    assert pages["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert pages["jobs"]["deploy"]["environment"]["name"] == "github-pages"
    assert pages["jobs"]["deploy"]["needs"] == "build"
    assert check["permissions"] == {"contents": "read"}
    steps = " ".join(s.get("run", "") for s in pages["jobs"]["build"]["steps"])
    assert "bash scripts/test" in steps and "steps.pages.outputs.base_url" in json.dumps(pages)
    assert "build.py check --strict" in " ".join(s.get("run", "") for s in check["jobs"]["check"]["steps"])
