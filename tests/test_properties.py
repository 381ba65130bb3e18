"""Properties (issue #8), checked with Hypothesis on generated Markdown and YAML:

- any span of an article's text, quoted with context from around it, anchors to exactly
  that span or is reported ambiguous — never to another span; and the prefix or suffix
  `check` suggests for an ambiguous quote picks exactly that span;
- highlighting (marks, note references, entity links, the runs of unannotated sentences)
  never changes the article's text, keeps the HTML well nested, never puts a run inside a
  mark, and gives every annotation its link target;
- no mutation of a valid annotations.yaml makes `check` raise: it returns diagnostics.
"""
from __future__ import annotations

import html
import random
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import yaml
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from conftest import BUILD_PY, build_env, write_files
from test_bad_input import GOOD_ANNOTATIONS, GOOD_ARTICLE, GOOD_PAGE

from dossier.anchor import anchor_quote, disambiguate, normalise, prepare
from dossier.coverage import article_coverage, unannotated_runs
from dossier.diagnostics import Diagnostic, Location
from dossier.markdown import annotated_body_html, parse_body, render_body
from dossier.model import Anchor, Annotation, Mention, Span
from dossier.site import Config, check

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---- generated Markdown ---------------------------------------------------------------------

WORDS = ["Meta", "Scale", "AI", "deal", "stake", "data", "the", "a", "of", "billion", "$14.3", "49%", "it's",
         "“quoted”", "‘single’", '"straight"', "—", "–", "-", "x\u00a0y", "Meta's", "co-founder", "U.S.", "(aside)",
         "e.g.", "Scale AI", "no.", "…"]

word = st.sampled_from(WORDS)
words = st.lists(word, min_size=1, max_size=4).map(" ".join)
inline = st.one_of(
    word, word, word,
    words.map(lambda w: f"*{w}*"),
    words.map(lambda w: f"**{w}**"),
    words.map(lambda w: f"_{w}_"),
    word.map(lambda w: f"`{w}`"),
    words.map(lambda w: f"[{w}](https://example.org/x)"),
    st.tuples(words, words).map(lambda p: f"*{p[0]} [{p[1]}](https://example.org/y)*"),
)
separator = st.sampled_from([" ", " ", " ", "\n", "  \n", "  ", " \u00a0"])


@st.composite
def paragraph(draw, breaks: bool = True) -> str:
    pieces = draw(st.lists(inline, min_size=1, max_size=12))
    out = pieces[0]
    for piece in pieces[1:]:
        out += (draw(separator) if breaks else " ") + piece
    return out


@st.composite
def block(draw) -> str:
    kind = draw(st.sampled_from(["p", "p", "p", "h", "quote", "list", "olist"]))
    if kind == "h":
        return "## " + draw(paragraph(breaks=False))
    if kind == "quote":
        return "> " + draw(paragraph()).replace("\n", "\n> ")
    if kind in ("list", "olist"):
        items = draw(st.lists(paragraph(breaks=False), min_size=1, max_size=4))
        return "\n".join(("- " if kind == "list" else f"{n}. ") + item for n, item in enumerate(items, 1))
    return draw(paragraph())


markdown_bodies = st.lists(block(), min_size=1, max_size=6).map("\n\n".join)


# ---- anchoring ------------------------------------------------------------------------------

@SETTINGS
@given(body=markdown_bodies, data=st.data())
def test_a_quote_with_its_context_anchors_to_its_own_span_or_is_ambiguous(body, data):
    text = parse_body(body).text
    assume(text.strip())
    start = data.draw(st.integers(0, len(text) - 1), label="start")
    length = data.draw(st.one_of(st.integers(1, 8), st.integers(1, 80)), label="length")  # short ones repeat
    end = min(len(text), start + length)
    assume(not text[start].isspace() and not text[end - 1].isspace())
    context = st.one_of(st.just(0), st.integers(0, 6), st.integers(0, 30))
    before = data.draw(context, label="prefix length")
    after = data.draw(context, label="suffix length")
    quote = text[start:end]
    prefix = text[max(0, start - before):start] or None
    suffix = text[end:end + after] or None
    searchable = prepare(text)

    match = anchor_quote(searchable, quote, prefix, suffix)

    assert Span(start, end) in match.candidates, "the quote's own place is not among its candidates"
    if match.span is not None:
        assert match.span == Span(start, end), f"{quote!r} anchored to {text[match.span.start:match.span.end]!r} elsewhere"
    else:
        assert len(match.candidates) > 1, "not ambiguous, yet not anchored with its own context"
        pick = disambiguate(searchable, match.candidates, Span(start, end))
        if pick is not None:  # the suggestion `check` prints must pick exactly this place
            kind, context = pick
            chosen = anchor_quote(searchable, quote, context if kind == "prefix" else None,
                                  context if kind == "suffix" else None)
            assert chosen.span == Span(start, end), (pick, chosen)


@SETTINGS
@given(body=markdown_bodies, data=st.data())
def test_a_quote_is_found_whatever_its_whitespace_quotes_and_dashes(body, data):
    """Retyped by an editor — straight quotes, plain hyphens, single spaces — it still anchors there."""
    text = parse_body(body).text
    assume(text.strip())
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, min(len(text), start + 60)))
    assume(not text[start].isspace() and not text[end - 1].isspace())
    retyped = normalise(text[start:end])
    match = anchor_quote(prepare(text), retyped)
    assert Span(start, end) in match.candidates


# ---- highlighting ---------------------------------------------------------------------------

class TextReader(HTMLParser):
    """The text a reader sees, without the note references; checks that tags nest."""

    VOID = {"br", "hr", "img", "input", "meta", "link", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool]] = []
        """(tag, hides its text, is an unannotated run) of each open element."""
        self.text: list[str] = []
        self.ids: list[str] = []
        self.problems: list[str] = []
        self.run_text: list[str] = []
        """The text inside unannotated runs (<span class="un">)."""
        self.run_in_mark = False

    def hidden(self) -> bool:
        return any(skip for _, skip, _ in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        if tag in self.VOID:
            return
        run = tag == "span" and attrs.get("class") == "un"
        self.run_in_mark |= run and any(t == "mark" for t, _, _ in self.stack)
        self.stack.append((tag, "note-ref" in (attrs.get("class") or "").split(), run))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1][0] if self.stack else 'nothing'}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        if not self.hidden():
            self.text.append(data)
            if any(run for _, _, run in self.stack):
                self.run_text.append(data)


def read(fragment: str) -> TextReader:
    reader = TextReader()
    reader.feed(fragment)
    reader.close()
    assert not reader.problems, reader.problems
    assert not reader.stack, f"unclosed: {reader.stack}"
    return reader


def annotation(ann_id: str, kind: str) -> Annotation:
    here = Location("annotations.yaml", 1)
    return Annotation(ann_id, "deal", "q", None, None, kind, "accurate" if kind == "fact-check" else None, "", (), (),
                      None, (), here, here)


@SETTINGS
@given(body=markdown_bodies, data=st.data())
def test_highlighting_never_changes_the_text_and_keeps_the_html_well_formed(body, data):
    parsed = parse_body(body)
    text = parsed.text
    assume(text.strip())
    starts = [i for i, c in enumerate(text) if not c.isspace()]
    anchors = []
    for n in range(data.draw(st.integers(0, 6), label="annotations")):
        start = data.draw(st.sampled_from(starts))
        ends = [i + 1 for i in starts if start <= i < start + 120]
        end = data.draw(st.sampled_from(ends))
        kind = data.draw(st.sampled_from(["fact-check", "context", "boilerplate", "opinion", "correction"]))
        anchors.append((Span(start, end), annotation(f"a{n}", kind)))
    anchors.sort(key=lambda a: (a[0].start, -a[0].end, a[1].id))
    anchors = [Anchor(ann, span, number, text[span.start:span.end], "", "", 1)
               for number, (span, ann) in enumerate(anchors, 1)]
    mentions = []
    for chunk in parsed.chunks:  # an entity link inside some plain-text chunks, as the linker makes them
        if chunk.kind == "text" and not chunk.heading and chunk.end - chunk.start >= 2 and data.draw(st.booleans()):
            a = data.draw(st.integers(chunk.start, chunk.end - 1))
            b = data.draw(st.integers(a + 1, chunk.end))
            mentions.append(Mention("meta", "deal", Span(a, b), "", True))

    coverage = article_coverage(text, [a.span for a in anchors], False, lambda offset: 1)
    runs = unannotated_runs(text, coverage)
    highlighted = annotated_body_html(parsed, anchors, mentions, {"meta": "Meta"}, lambda e: f"../../entities/{e}/", runs)
    plain = render_body(parse_body(body))

    seen = read(highlighted)
    assert html.unescape("".join(seen.text)) == html.unescape("".join(read(plain).text))
    assert not seen.run_in_mark, "an unannotated run inside a mark"
    wrapped = html.unescape("".join(seen.run_text))
    assert "".join(wrapped.split()) == "".join("".join(text[a:b] for a, b in runs).split())  # the runs, nothing else
    for anc in anchors:
        assert seen.ids.count(anc.annotation.id) == 1, f"no single link target for {anc.annotation.id}"
        assert seen.ids.count(f"ref_{anc.annotation.id}") == 1


# ---- mutated annotations.yaml ---------------------------------------------------------------

ODD_VALUES = [None, 0, -1, 3.5, True, "", " ", "x", [], {}, [None], {"a": None}, "../x", "A/B", "2025-02-30", "2025",
              "javascript:alert(1)", "x" * 2000, ["filing", "filing"], {"date": "2025-13"}, "{{ 7*7 }}", "\u0000"]
GARBAGE_LINES = ["  - ", ":", "- [", "{", "key: [unclosed", "&anchor", "*alias", "!!python/object:os.system",
                 "  \t  mixed: indent", "? complex", "--- ", "...", "%YAML 1.1", "a: b: c", "'unterminated", "|",
                 "  quote: >", "x: &a [1, *a]", "- {date: 2025-02-30, title: T}", "annotations:", "site: []", "#"]


def nodes(value, path=()):
    """Every (path, value) in a document, parents first."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from nodes(child, path + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from nodes(child, path + (i,))


def parent_of(doc, path):
    for part in path[:-1]:
        doc = doc[part]
    return doc


def mutate_data(doc: dict, rng: random.Random) -> None:
    """One structural mutation: delete a key, change a type, rename or duplicate an item."""
    paths = [p for p, _ in nodes(doc) if p]
    path = rng.choice(paths)
    parent, key = parent_of(doc, path), path[-1]
    op = rng.choice(["delete", "retype", "retype", "rename", "duplicate", "swap"])
    if op == "delete":
        del parent[key]
    elif op == "retype":
        parent[key] = rng.choice(ODD_VALUES)
    elif op == "rename" and isinstance(parent, dict):
        parent[rng.choice(["meta", "filing", "x", "../x", "Upper", "stake-check", "id", "verdict"])] = parent.pop(key)
    elif op == "duplicate" and isinstance(parent, list):
        parent.insert(key, parent[key])
    elif op == "swap":
        other_path = rng.choice(paths)
        if other_path[: len(path)] != path and path[: len(other_path)] != other_path:  # neither inside the other
            other_parent = parent_of(doc, other_path)
            parent[key], other_parent[other_path[-1]] = other_parent[other_path[-1]], parent[key]


def mutate_text(text: str, rng: random.Random) -> str:
    """One textual mutation: a garbage line, a line deleted, duplicated, moved or re-indented."""
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    op = rng.choice(["garbage", "delete", "duplicate", "move", "indent", "dedent", "truncate"])
    if op == "garbage":
        lines.insert(i, rng.choice(GARBAGE_LINES))
    elif op == "delete":
        del lines[i]
    elif op == "duplicate":
        lines.insert(i, lines[i])
    elif op == "move":
        lines.insert(rng.randrange(len(lines)), lines.pop(i))
    elif op == "indent":
        lines[i] = "  " + lines[i]
    elif op == "dedent":
        lines[i] = lines[i][2:]
    else:
        return text[: rng.randrange(len(text) + 1)]  # a save cut short
    return "\n".join(lines)


def mutant(seed: int, data_steps: int, text_steps: int) -> str:
    rng = random.Random(seed)
    doc = yaml.safe_load(GOOD_ANNOTATIONS)
    for _ in range(data_steps):
        mutate_data(doc, rng)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True) if data_steps else GOOD_ANNOTATIONS
    for _ in range(text_steps):
        text = mutate_text(text, rng)
    return text


def assert_checks_cleanly(source: Path) -> list[Diagnostic]:
    dossier, diagnostics = check(Config(source=source))
    assert all(isinstance(d, Diagnostic) and d.level in ("error", "warning", "notice") and d.message
               for d in diagnostics)
    assert (dossier is None) == any(d.level == "error" for d in diagnostics)
    for d in diagnostics:
        assert d.location.path in ("annotations.yaml", "content/articles/deal.md", "content/pages/about.md"), d
    return diagnostics


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), data_steps=st.integers(0, 4), text_steps=st.integers(0, 3))
def test_a_mutated_annotations_file_gives_diagnostics_never_an_exception(seed, data_steps, text_steps):
    with tempfile.TemporaryDirectory() as folder:
        source = write_files(Path(folder), {"annotations.yaml": mutant(seed, data_steps, text_steps).encode("utf-8"),
                                            "content/articles/deal.md": GOOD_ARTICLE,
                                            "content/pages/about.md": GOOD_PAGE})
        assert_checks_cleanly(source)


def test_the_unmutated_dossier_checks_without_errors(tmp_path):
    source = write_files(tmp_path, {"annotations.yaml": mutant(0, 0, 0), "content/articles/deal.md": GOOD_ARTICLE,
                                    "content/pages/about.md": GOOD_PAGE})
    assert [d for d in assert_checks_cleanly(source) if d.level == "error"] == []


def test_a_handful_of_mutants_through_the_command_line(tmp_path):
    """The same, as users run it: exit 0 or 1, never a traceback or an internal error."""
    for seed in range(6):
        source = write_files(tmp_path / str(seed), {"annotations.yaml": mutant(seed, 1 + seed % 3, seed % 3).encode("utf-8"),
                                                    "content/articles/deal.md": GOOD_ARTICLE})
        result = subprocess.run([sys.executable, str(BUILD_PY), "check", "--source", str(source)],
                                env=build_env(), capture_output=True, text=True, timeout=60)
        assert result.returncode in (0, 1), result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
