"""Hostile input (issue #8): a dossier whose every text field carries markup, scripts,
event handlers, `javascript:`/`data:`/`vbscript:` links and template syntax builds, but
nothing executable reaches a page. Every generated HTML page is parsed and checked:
scripts only from static/ or pagefind/ (plus inert JSON-LD), no `on…` attribute, no
dangerous URL scheme, a Content Security Policy without inline scripts, and
`rel="noopener noreferrer"` on every link to another site. URL fields that are not
http(s) are refused by `check`; pathological Markdown builds quickly and without a traceback.
"""
from __future__ import annotations

import json
import posixpath
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import BUILD_PY, annotations_with, build_env, write_files

BASE_URL = "https://example.org/test/"

# Inline text: what an editor (or a scraped headline) might smuggle into any one-line field.
TEXT = ("Evil <script>alert(1)</script><img src=x onerror=alert(2)> <a href=\"javascript:alert(3)\">x</a> "
        "{{ 7*7 }} {% raw %}raw{% endraw %} {# hidden #} </script><script>alert(4)</script> &lt;b&gt; "
        "<svg onload=alert(5)> \u2028 \"quotes' `ticks`")

# Markdown: every way a link or raw HTML could carry script, for bodies, notes, summaries.
MARKDOWN = """\
Raw <script>alert(11)</script> and <img src=x onerror=alert(12)> and <a href="javascript:alert(13)">a raw link</a>.

<div onclick="alert(14)">block html</div>

<iframe src="javascript:alert(15)"></iframe>

[js](javascript:alert(16)) [JS](JaVaScRiPt:alert(17)) [ent](jav&#x61;script:alert(18)) [ent2](&#106;avascript:alert(19))
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgyMCk8L3NjcmlwdD4=) [vb](vbscript:msgbox(21)) [tab](java&#9;script:alert(22))
[angle](<javascript:alert(23)>) [spaced](<  javascript:alert(24)>) <javascript:alert(25)> <vbscript:alert(26)>
[reference link][r1] ![image](javascript:alert(27)) ![svg](data:image/svg+xml,<svg onload=alert(28)>)
[nul](&#0;javascript:alert(29)) [newline](java&#10;script:alert(30)) [title](https://ok.example.org/ "x\\" onmouseover=\\"alert(31)")

[r1]: javascript:alert(32)

Template {{ 7*7 }} and {% raw %}raw{% endraw %} and {# a comment #} stay literal.

`<script>alert(33)</script>` in code, an [outside site](https://evil.example.org/x?a="><script>alert(34)</script>)
and <https://evil.example.org/auto> and [mail](mailto:someone@example.org).

</script><script>alert(35)</script>
"""

HOSTILE_URL = 'https://evil.example.org/x?a="><script>alert(40)</script>&b=\'onmouseover=alert(41)'


def q(text: str) -> str:
    """A YAML scalar holding exactly `text` (JSON strings are YAML double-quoted scalars)."""
    return json.dumps(text)


HOSTILE_ANNOTATIONS = f"""\
site:
  title: {q("Site " + TEXT)}
  base_url: {BASE_URL}
  language: en
  description: {q(TEXT)}
sources:
  daily:
    name: {q("The Daily " + TEXT)}
    rating: reliable
    rationale: {q(MARKDOWN)}
    url: {q(HOSTILE_URL)}
    disclosures: [{q(TEXT)}]
entities:
  meta:
    name: Meta
    type: company
    aliases: [{q("Meta <b>Platforms</b>")}]
    summary: {q(MARKDOWN)}
    wikidata: Q380
    relations:
      - {{type: {q("investor " + TEXT)}, target: evil, share: {q(TEXT)}, note: {q(TEXT)}, cite: [filing]}}
  evil:
    name: {q("<img src=x onerror=alert(50)>")}
    type: person
    aliases: [{q("<script>alert(11)</script>")}, {q("{{ 7*7 }}")}, Raw]
    summary: {q(MARKDOWN)}
references:
  filing:
    title: {q("The filing " + TEXT)}
    publisher: {q(TEXT)}
    author: {q(TEXT)}
    url: {q(HOSTILE_URL)}
    archive: {q(HOSTILE_URL)}
    date: 2025-06-12
    quote: {q(TEXT)}
    note: {q(MARKDOWN)}
events:
  - date: 2025-06-12
    title: {q("Signed " + TEXT)}
    summary: {q(MARKDOWN)}
    entities: [meta, evil]
    cite: [filing]
claims:
  stake:
    statement: {q("Statement " + TEXT)}
    verdict: accurate
    note: {q(MARKDOWN)}
    cite: [filing]
    entities: [evil]
    updates:
      - {{date: 2025-07-01, summary: {q(TEXT)}}}
annotations:
  - id: breakout
    article: deal
    quote: "</script><script>alert(35)</script>"
    kind: fact-check
    verdict: inaccurate
    note: {q(MARKDOWN + "</script><script>alert(36)</script> <!-- -->")}
    cite: [filing]
    entities: [evil]
    claim: stake
    updates:
      - {{date: 2025-07-01, summary: {q(TEXT)}}}
  - id: raw-html
    article: deal
    quote: "<img src=x onerror=alert(12)>"
    kind: context
    note: {q(MARKDOWN)}
  - id: template
    article: deal
    quote: "{{{{ 7*7 }}}}"
    prefix: "Template "
    kind: opinion
    note: {q("{{ 7*7 }} {% raw %}")}
"""

HOSTILE_ARTICLE = f"""\
---
title: {q("The deal " + TEXT)}
source: daily
kind: news
author: {q(TEXT)}
url: {q(HOSTILE_URL)}
published: 2025-06-12
---
Meta bought a stake. {MARKDOWN}
"""

HOSTILE_PAGE = f"""\
---
title: {q("About " + TEXT)}
description: {q(TEXT)}
---
{MARKDOWN}
"""

HOSTILE_FILES = {
    "annotations.yaml": HOSTILE_ANNOTATIONS.encode(),
    "content/articles/deal.md": HOSTILE_ARTICLE.encode(),
    "content/pages/about.md": HOSTILE_PAGE.encode(),
}

DANGEROUS_SCHEMES = ("javascript:", "data:", "vbscript:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "background", "data", "srcset", "ping"}
FORBIDDEN_ELEMENTS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal"}
"""Elements that load or run something of their own; the content never needs them."""


def build(source: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(BUILD_PY), "--source", str(source), "--out", str(out), *options],
                            env=build_env(), capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def check(source: Path) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(BUILD_PY), "check", "--source", str(source)],
                            env=build_env(), capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    source = write_files(root / "dossier", HOSTILE_FILES)
    out = root / "public"
    result = build(source, out)
    assert result.returncode == 0, result.stderr
    return out


# ---- reading a page -----------------------------------------------------------------------

class PageReader(HTMLParser):
    """Every element with its (entity-decoded) attributes, the scripts with their text, and
    the page's text outside scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[dict] = []
        self.text: list[str] = []
        self._script: dict | None = None

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "script":
            self._script = {"attrs": dict(attrs), "text": ""}
            self.scripts.append(self._script)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self._script["text"] += data
        else:
            self.text.append(data)


def read_page(path: Path) -> PageReader:
    reader = PageReader()
    reader.feed(path.read_text(encoding="utf-8"))
    reader.close()
    return reader


def scheme_of(url: str) -> str:
    """The scheme a browser would see: control characters and whitespace anywhere are
    dropped (browsers strip tabs and newlines inside URLs), lower case."""
    cleaned = re.sub(r"[\x00-\x20\x7f]+", "", url).lower()
    match = re.match(r"([a-z][a-z0-9+.-]*):", cleaned)
    return match.group(1) + ":" if match else ""


def site_path(page: str, url: str) -> str:
    """Where a link from `page` (a path in the output folder) lands, in the output folder."""
    base_path = urlsplit(BASE_URL).path
    path = urlsplit(url).path
    if path.startswith(base_path):
        return path[len(base_path):]
    return posixpath.normpath(posixpath.join(posixpath.dirname(page), path))


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_the_hostile_dossier_builds_every_page(hostile_site):
    pages = {p.relative_to(hostile_site).as_posix() for p in html_pages(hostile_site)}
    assert {"index.html", "articles/deal/index.html", "about/index.html", "entities/evil/index.html",
            "claims/stake/index.html", "sources/index.html", "references/index.html", "timeline/index.html",
            "404.html"} <= pages


def test_no_script_but_static_files_and_json_ld(hostile_site):
    for page in html_pages(hostile_site):
        name = page.relative_to(hostile_site).as_posix()
        for script in read_page(page).scripts:
            src = script["attrs"].get("src")
            if src is None:
                assert script["attrs"].get("type") == "application/ld+json", f"{name}: inline script {script}"
                continue
            assert scheme_of(src) == "" and not src.startswith("//"), f"{name}: script from elsewhere: {src}"
            assert site_path(name, src).startswith(("static/", "pagefind/")), f"{name}: script {src}"


def test_no_event_handler_attribute_and_no_active_element(hostile_site):
    for page in html_pages(hostile_site):
        name = page.relative_to(hostile_site).as_posix()
        for tag, attrs in read_page(page).elements:
            handlers = [a for a in attrs if a.lower().startswith("on")]
            assert not handlers, f"{name}: <{tag}> has {handlers}"
            assert tag not in FORBIDDEN_ELEMENTS, f"{name}: a <{tag}> element"
            if tag == "meta" and attrs.get("http-equiv"):
                assert attrs["http-equiv"].lower() == "content-security-policy", f"{name}: <meta http-equiv={attrs['http-equiv']}>"


def test_no_link_or_source_with_a_dangerous_scheme(hostile_site):
    for page in html_pages(hostile_site):
        name = page.relative_to(hostile_site).as_posix()
        for tag, attrs in read_page(page).elements:
            for attr, value in attrs.items():
                if attr in URL_ATTRIBUTES and value:
                    assert scheme_of(value) not in DANGEROUS_SCHEMES, f"{name}: <{tag} {attr}={value!r}>"


def test_every_page_has_a_content_security_policy_without_inline_scripts(hostile_site):
    for page in html_pages(hostile_site):
        name = page.relative_to(hostile_site).as_posix()
        policies = [attrs.get("content") or "" for tag, attrs in read_page(page).elements
                    if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "content-security-policy"]
        assert len(policies) == 1, f"{name}: {len(policies)} CSP meta elements"
        directives = {d.split()[0]: d.split()[1:] for d in policies[0].split(";") if d.strip()}
        assert directives.get("default-src") == ["'self'"], f"{name}: {policies[0]}"
        script_src = directives.get("script-src", directives["default-src"])
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, f"{name}: {policies[0]}"
        assert not any(s in ("*", "data:", "http:", "https:") for s in script_src), f"{name}: {policies[0]}"


def test_every_link_to_another_site_has_noopener_and_noreferrer(hostile_site):
    own_host = urlsplit(BASE_URL).hostname
    seen = 0
    for page in html_pages(hostile_site):
        name = page.relative_to(hostile_site).as_posix()
        for tag, attrs in read_page(page).elements:
            href = attrs.get("href") or ""
            if tag in ("a", "area") and scheme_of(href) in ("http:", "https:") and urlsplit(href.strip()).hostname != own_host:
                seen += 1
                rel = (attrs.get("rel") or "").split()
                assert "noopener" in rel and "noreferrer" in rel, f"{name}: <a href={href!r} rel={attrs.get('rel')!r}>"
    assert seen >= 5  # the source's, the reference's and the article's url, links in Markdown


def test_json_ld_cannot_be_broken_out_of_and_still_says_what_was_written(hostile_site):
    page = hostile_site / "articles/deal/index.html"
    raw = page.read_text(encoding="utf-8")
    blocks = [s for s in read_page(page).scripts if s["attrs"].get("type") == "application/ld+json"]
    assert blocks, "the article page has no ClaimReview JSON-LD"
    for block in blocks:
        assert "</script" not in block["text"].lower() and "<!--" not in block["text"]
        data = json.loads(block["text"])
        assert "</script><script>alert(35)</script>" in json.dumps(data, ensure_ascii=False)  # the quote, intact
    assert raw.lower().count("<script") == len(read_page(page).scripts)


def test_template_syntax_in_content_is_shown_literally_never_evaluated(hostile_site):
    for relpath in ("articles/deal/index.html", "about/index.html", "entities/evil/index.html", "sources/index.html",
                    "claims/stake/index.html", "references/index.html", "index.html"):
        text = "".join(read_page(hostile_site / relpath).text)
        assert "{{ 7*7 }}" in text, relpath
        assert "49" not in text, relpath
    article = "".join(read_page(hostile_site / "articles/deal/index.html").text)
    assert "{% raw %}raw{% endraw %}" in article and "{# a comment #}" in article


def test_the_hostile_text_is_shown_as_text(hostile_site):
    """What was escaped is still there for the reader, word for word."""
    article = "".join(read_page(hostile_site / "articles/deal/index.html").text)
    assert "Raw <script>alert(11)</script> and <img src=x onerror=alert(12)>" in article
    assert "</script><script>alert(35)</script>" in article
    entity = "".join(read_page(hostile_site / "entities/evil/index.html").text)
    assert "<img src=x onerror=alert(50)>" in entity


def test_data_files_keep_the_hostile_text_as_data(hostile_site):
    data = json.loads((hostile_site / "dossier.json").read_text(encoding="utf-8"))
    assert "</script><script>alert(4)</script>" in json.dumps(data, ensure_ascii=False)
    feed = (hostile_site / "feed.xml").read_text(encoding="utf-8")
    assert "<script>" not in feed  # escaped: &lt;script&gt;


# ---- URL fields: only http(s) ----------------------------------------------------------------

BAD_URLS = {
    "javascript": "javascript:alert(1)",
    "mixed-case": "JaVaScRiPt:alert(1)",
    "leading-space": "  javascript:alert(1)",
    "entity": "jav&#x61;script:alert(1)",
    "data": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript": "vbscript:msgbox(1)",
    "protocol-relative": "//evil.example.org/",
    "http-without-slashes": "http:javascript:alert(1)",
    "tab-inside": "java\tscript:alert(1)",
    "backslash-for-slash": "https:/\\evil.example.org/",
    "backslash-as-host": "https://\\evil.example.org/",
    "no-host": "https://",
    "control-character": "https://example.org/\x01",
}


@pytest.mark.parametrize("value", BAD_URLS.values(), ids=BAD_URLS.keys())
def test_check_refuses_a_url_field_that_is_not_http(value, make_dossier):
    """Every URL field at once: the site's base_url, a source's url, a reference's url and
    archive, an article's url; each is an error on its own line."""
    source = make_dossier({
        "annotations.yaml": f"""\
            site:
              title: T
              base_url: {q(value)}
            sources:
              daily:
                name: The Daily
                rating: reliable
                rationale: R.
                url: {q(value)}
            references:
              filing:
                title: The filing
                url: {q(value)}
                archive: {q(value)}
            annotations: []
            """,
        "content/articles/deal.md": f"---\ntitle: T\nsource: daily\nkind: news\nurl: {q(value)}\n---\nText.\n"})
    result = check(source)
    assert result.returncode == 1, result.stderr
    for where in ("annotations.yaml:3:", "annotations.yaml:9:", "annotations.yaml:13:", "annotations.yaml:14:",
                  "content/articles/deal.md:5:"):
        assert any(line.startswith(where) and "http(s) URL" in line for line in result.stderr.splitlines()), \
            f"no error at {where} in:\n{result.stderr}"


@pytest.mark.parametrize("value", ["javascript:alert(1)//", "data:text/html,x", "ftp://example.org/", "example.org"])
def test_build_refuses_a_base_url_option_that_is_not_http(value, make_dossier, tmp_path):
    out = tmp_path / "public"
    result = build(make_dossier(), out, "--base-url", value, "--no-search")
    assert result.returncode == 1, result.stderr
    assert "--base-url" in result.stderr and "http" in result.stderr
    assert not out.exists()


def test_a_tag_that_does_not_fit_its_value_is_an_error_never_a_crash(make_dossier):
    """PyYAML's constructors raise on '!!bool Meta' or '!!timestamp The filing' (exit 2 before)."""
    source = make_dossier({
        "annotations.yaml": annotations_with("annotations: []\n").replace("name: Meta", "name: !!bool Meta")
        .replace("title: The filing", "title: !!timestamp The filing"),
        "content/articles/deal.md": "---\ntitle: !!int The deal\nsource: daily\nkind: news\n---\nMeta bought a stake.\n"})
    result = check(source)
    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr
    for where, value, tag in (("annotations.yaml:13:11", "Meta", "!!bool"), ("annotations.yaml:17:12", "The filing", "!!timestamp"),
                              ("content/articles/deal.md:2:8", "The deal", "!!int")):
        assert (f"{where}: error: '{value}' is not a value of the YAML tag '{tag}' (remove the tag, or write a value "
                "of that kind)") in result.stderr.splitlines(), result.stderr


# ---- the base URL: 404.html links from its path ----------------------------------------------

BAD_BASE_URLS = {
    "empty-segment": "https://example.org//evil.example.org/",  # 404.html: <script src="//evil.example.org/static/…">
    "escaped-slashes": "https://example.org/%2F%2Fevil.example.org/",
    "user-name": "https://example.org@evil.example.org/",
    "query": "https://example.org/?next=//evil.example.org/",
    "fragment": "https://example.org/#//evil.example.org/",
    "dot-segments": "https://example.org/a/../../",
    "unclosed-ipv6": "https://[::1/",  # urlsplit raised ValueError: exit 2
}


@pytest.mark.parametrize("value", BAD_BASE_URLS.values(), ids=BAD_BASE_URLS.keys())
def test_a_base_url_that_could_send_404_links_elsewhere_is_refused(value, make_dossier, tmp_path):
    """In annotations.yaml (an error at its line) and as --base-url (exit 1): no site is built."""
    out = tmp_path / "public"
    source = make_dossier({"annotations.yaml": annotations_with("annotations: []\n").replace(BASE_URL, value)})
    result = build(source, out, "--no-search")
    assert result.returncode == 1, result.stderr
    assert re.search(rf"^annotations\.yaml:3:3: error: base_url: '{re.escape(value)}' .+ \(write the address the site "
                     r"is published at, e\.g\. https://owner\.github\.io/repo/\)$", result.stderr, re.M), result.stderr
    assert not out.exists()
    result = build(make_dossier(name="plain"), out, "--base-url", value, "--no-search")
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"error: --base-url '{value}' "), result.stderr
    assert not out.exists()


def test_a_raw_control_character_is_an_error_at_its_line(make_dossier):
    source = make_dossier({
        "annotations.yaml": annotations_with("annotations: []\n").replace("title: The filing", "title: The\x80filing"),
        "content/articles/deal.md": "---\ntitle: The\x85deal\x01\nsource: daily\nkind: news\n---\nMeta bought a stake.\n"})
    result = check(source)
    assert result.returncode == 1, result.stderr
    assert "annotations.yaml:17:15: error: YAML does not allow the control character U+0080 in a file" in result.stderr
    assert "content/articles/deal.md:2:16: error: YAML does not allow the control character U+0001 in a file" in result.stderr


# ---- pathological Markdown -----------------------------------------------------------------

def stress_article(body: str) -> bytes:
    return ("---\ntitle: Stress\nsource: daily\nkind: news\n---\n" + body).encode()


STRESS = {
    "content/articles/long-line.md": stress_article("Meta " + "lorem ipsum dolor sit amet " * 40_000 + "\n"),
    "content/articles/nested-quotes.md": stress_article("> " * 5_000 + "deep\n\n" + "".join(">" * i + " x\n" for i in range(1, 500))),
    "content/articles/nested-lists.md": stress_article("- " * 5_000 + "deep\n\n" + "".join("  " * i + "- x\n" for i in range(500))),
    "content/articles/emphasis.md": stress_article("*" * 10_000 + "a" + "*" * 10_000 + "\n\n" + "_*" * 5_000 + "b\n"),
    "content/articles/brackets.md": stress_article("[" * 10_000 + "a" + "]" * 10_000 + "(x)\n\n" + "<" * 10_000 + "\n"),
    "content/articles/backticks.md": stress_article("`" * 10_000 + "\n\n" + "&amp;" * 20_000 + "\n"),
}


def test_pathological_markdown_builds_quickly_without_a_traceback(make_dossier, tmp_path):
    source = make_dossier(STRESS)
    started = time.perf_counter()
    result = build(source, tmp_path / "public", "--no-search")
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert "RecursionError" not in result.stderr
    assert elapsed < 60, f"the build took {elapsed:.1f}s"
    long_page = (tmp_path / "public/articles/long-line/index.html").read_text(encoding="utf-8")
    assert long_page.count("lorem ipsum dolor sit amet") == 40_000
    for slug in ("nested-quotes", "nested-lists", "emphasis", "brackets", "backticks"):
        assert (tmp_path / "public/articles" / slug / "index.html").is_file()


def test_an_annotation_on_a_one_megabyte_line_anchors(make_dossier, tmp_path):
    words = "lorem ipsum dolor sit amet " * 40_000
    source = make_dossier({
        "content/articles/long-line.md": stress_article(words + "the needle here " + words + "\n"),
        "annotations.yaml": annotations_with("""
            annotations:
              - {id: needle, article: long-line, quote: the needle here, kind: context}
            """)})
    started = time.perf_counter()
    result = build(source, tmp_path / "public", "--no-search")
    assert result.returncode == 0, result.stderr
    assert time.perf_counter() - started < 60
    page = (tmp_path / "public/articles/long-line/index.html").read_text(encoding="utf-8")
    assert re.search(r'<mark[^>]*data-annotation="needle"[^>]*>the needle here</mark>', page)


# ---- nesting: exit 1 at the line, never a crash --------------------------------------------

def indented_mappings(levels: int, indent: int) -> str:
    """`levels` mappings, each indented one space under the one before (starting on a new line)."""
    return "\n" + "\n".join(" " * (indent + i) + f"k{i}:" for i in range(levels)) + " x"


DEEP_VALUES = {
    "flow-lists-1000": "[" * 1_000 + "]" * 1_000,
    "flow-lists-100000": "[" * 100_000 + "]" * 100_000,
    "flow-mappings-100000": "{a: " * 100_000 + "}" * 100_000,
    "unclosed-flow-lists-100000": "[" * 100_000,
    "block-lists-100000": "\n      " + "- " * 100_000 + "x",
    "indented-mappings-1000": indented_mappings(1_000, 6),
}


def deep_dossier(make_dossier, value: str, front_matter_value: str) -> Path:
    """The deep value as the quote of an annotation, and as an article's author."""
    return make_dossier({
        "annotations.yaml": annotations_with("annotations:\n  - {id: fine, article: deal, quote: Meta, kind: context}\n"
                                             "  - id: deep\n    article: deal\n    kind: context\n    quote: " + value + "\n"),
        "content/articles/deep.md": ("---\ntitle: Deep\nsource: daily\nkind: news\nauthor: " + front_matter_value
                                     + "\n---\nMeta bought a stake.\n").encode()})


@pytest.mark.parametrize("name", DEEP_VALUES)
def test_deep_nesting_is_an_error_at_its_line_in_annotations_and_front_matter(name, make_dossier):
    value = DEEP_VALUES[name]
    source = deep_dossier(make_dossier, value, value.replace("\n      ", "\n  "))
    result = check(source)
    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr and "RecursionError" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "nesting deeper than 50 levels" in line]
    assert len(errors) == 2, result.stderr
    text = (source / "annotations.yaml").read_text()
    first = text[:text.index("quote: " + value[:10])].count("\n") + 1
    match = re.match(r"annotations\.yaml:(\d+):\d+: error: nesting deeper than 50 levels \(.+\)$", errors[0])
    assert match and first <= int(match[1]) <= first + 51, errors[0]
    match = re.match(r"content/articles/deep\.md:(\d+):\d+: error: nesting deeper than 50 levels \(.+\)$", errors[1])
    assert match and 5 <= int(match[1]) <= 5 + 51, errors[1]


def test_nesting_of_fifty_levels_is_still_read(make_dossier):
    """The limit is on depth, not on the brackets: 47 lists in an annotation's quote are 50 levels."""
    source = deep_dossier(make_dossier, "[" * 47 + "x" + "]" * 47, "Someone")
    result = check(source)
    assert "nesting deeper" not in result.stderr
    assert "annotations.yaml:24:5: error: 'quote' must be a string, not a list" in result.stderr, result.stderr


ALIASES = {
    # an anchor 30 levels deep, repeated 30 levels down: each half is fine, the whole is 60+ levels
    "alias-of-a-deep-block": ("note: &deep " + "[" * 30 + "x" + "]" * 30,
                              "note: " + "[" * 30 + "*deep" + "]" * 30, "nesting deeper than 50 levels"),
    "alias-inside-itself": ("note: &self {again: *self}", "note: x", "the alias '*self' is inside the block it repeats"),
    "alias-inside-itself-list": ("note: &self [x, [*self]]", "note: x", "the alias '*self' is inside the block it repeats"),
}


@pytest.mark.parametrize("name", ALIASES)
def test_aliases_cannot_nest_deeply_or_contain_themselves(name, make_dossier):
    first, second, message = ALIASES[name]
    source = make_dossier({"annotations.yaml": annotations_with(f"""
        annotations:
          - id: one
            article: deal
            quote: Meta
            kind: context
            {first}
          - id: two
            article: deal
            quote: stake
            kind: context
            {second}
        """)})
    result = check(source)
    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr
    line = 29 if message.startswith("nesting") else 24
    assert re.search(rf"^annotations\.yaml:{line}:\d+: error: {re.escape(message)} \(.+\)$", result.stderr, re.M), result.stderr
