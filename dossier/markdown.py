"""markdown-it-py set-up: parse article bodies into tokens plus their plain text, and render
them back with highlights (`<mark>`), note references and entity links woven in.

markdown-it only gives block tokens line numbers, so quotes are found in the *text* this
module extracts; each piece of text (a chunk) remembers the token it came from, which is
how a span of text is turned back into marks inside the right tokens.
"""
from __future__ import annotations

import bisect
import html
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .urls import mention_fragment

SAFE_SCHEMES = ("http:", "https:", "mailto:")
BLOCK_BREAK = "\n\n"
"""What separates two blocks (paragraphs, cells, list items) in the extracted text."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """A run of article text that comes from one inline token."""

    start: int
    """Offset of the chunk in the extracted text."""
    end: int
    kind: str
    """`text`, `link` (text of a link), `code` or `break` (a soft or hard line break)."""
    line: int
    """0-based line of the body the chunk starts on."""
    block: int
    """Index of the block (paragraph, heading, cell…) it belongs to."""
    heading: bool
    """Whether the chunk is part of a heading."""


@dataclass(frozen=True, slots=True)
class ParsedBody:
    tokens: list[Token]
    """markdown-it's block tokens; text-bearing inline children carry meta['chunk']."""
    text: str
    """The rendered plain text: what readers see and what quotes must match."""
    chunks: tuple[Chunk, ...]


@dataclass(frozen=True, slots=True)
class Highlight:
    start: int
    end: int
    ids: tuple[str, ...] = field(default=())
    """Every annotation covering the piece, in note order (the outermost quote first)."""
    classes: tuple[str, ...] = field(default=())
    """The classes of each annotation's mark (its kind and verdict), in the order of `ids`."""

    def html(self, piece: str) -> str:
        """The piece inside one <mark> per annotation, nested in note order: where quotes
        overlap, each mark shows its own verdict (a reader sees both, not the outer one only)."""
        classes = self.classes + ("",) * (len(self.ids) - len(self.classes))
        opened = "".join(f'<mark{f" class={chr(34)}{css}{chr(34)}" if css else ""} data-annotation="{ann_id}">'
                         for ann_id, css in zip(self.ids, classes))
        return opened + piece + "</mark>" * len(self.ids)


@dataclass(frozen=True, slots=True)
class Decorations:
    """What to weave into a body when it is rendered."""

    marks: tuple[Highlight, ...] = ()
    """Disjoint, sorted spans, each with the ids of every annotation covering it."""
    links: tuple[tuple[int, int, str, str], ...] = ()
    """(start, end, href, title) entity links; each lies inside one linkable text chunk."""
    before: dict[int, str] = field(default_factory=dict)
    """offset → HTML inserted before the text at that offset (annotation link targets)."""
    after: dict[int, str] = field(default_factory=dict)
    """offset → HTML inserted after the text ending at that offset (note references)."""
    places: dict[int, str] = field(default_factory=dict)
    """offset → an empty element inserted at that offset, inside whatever is open there (the
    places of entity mentions, which entity pages link to)."""
    unannotated: tuple[tuple[int, int], ...] = ()
    """Disjoint, sorted (start, end) runs of sentences no annotation examines, shown faintly
    marked on request; they never overlap a mark."""


UNANNOTATED = '<span class="un">'
"""Opens a piece of an unannotated run (a short class: a page has dozens of them)."""


def _validate_link(url: str) -> bool:
    lowered = "".join(url.split()).lower()
    if ":" not in lowered.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        return True  # relative URL or fragment
    return lowered.startswith(SAFE_SCHEMES)


def _new_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(["table", "strikethrough"])
    md.validateLink = _validate_link
    md.add_render_rule("link_open", _render_link_open)
    md.add_render_rule("link_close", _render_link_close)
    md.add_render_rule("image", _render_image)
    md.add_render_rule("text", _render_text)
    md.add_render_rule("code_inline", _render_code_inline)
    md.add_render_rule("table_open", _render_table_open)
    return md


def _render_table_open(self, tokens, idx, options, env):
    # A table's cells run together in a search excerpt ("Company Key Features Clients …"):
    # the index leaves tables out; the page shows them as they are. A table wider than the
    # screen scrolls in its own box, which the keyboard must reach too (tabindex).
    tokens[idx].attrSet("data-pagefind-ignore", "")
    tokens[idx].attrSet("tabindex", "0")
    return self.renderToken(tokens, idx, options, env)


def _render_link_open(self, tokens, idx, options, env):
    token = tokens[idx]
    if str(token.attrGet("href") or "").startswith(("http:", "https:")):
        token.attrSet("rel", "noopener noreferrer")
    env.setdefault("link_depth", [0])[0] += 1
    return self.renderToken(tokens, idx, options, env)


def _render_link_close(self, tokens, idx, options, env):
    env.setdefault("link_depth", [1])[0] -= 1
    pending = env.pop("after_link", []) if env["link_depth"][0] == 0 else []
    return self.renderToken(tokens, idx, options, env) + "".join(pending)


def _render_image(self, tokens, idx, options, env):
    # Images would be third-party requests: show them as a link to the picture instead.
    token = tokens[idx]
    alt = html.escape(self.renderInlineAsText(token.children or [], options, env))
    src = html.escape(token.attrGet("src") or "")
    return f'<a class="image-link" href="{src}" rel="noopener noreferrer">[image: {alt}]</a>'


def _render_text(self, tokens, idx, options, env):
    body, trailing = _render_chunk(tokens[idx], env)
    if trailing and env.get("link_depth", [0])[0] > 0:
        env.setdefault("after_link", []).extend(trailing)  # a note link may not sit inside a link
        return body
    return body + "".join(trailing)


def _render_code_inline(self, tokens, idx, options, env):
    body, trailing = _render_chunk(tokens[idx], env)
    return "<code>" + body + "</code>" + "".join(trailing)


def _render_chunk(token: Token, env: dict) -> tuple[str, list[str]]:
    """The token's text with marks, entity links and inserts woven in, plus the inserts
    that must follow the enclosing element (note references at the end of a quote)."""
    chunk_index = token.meta.get("chunk") if token.meta else None
    deco: Decorations | None = env.get("decorations")
    if chunk_index is None or deco is None:
        return html.escape(token.content, quote=False), []
    chunk: Chunk = env["chunks"][chunk_index]
    marks = env["marks_by_chunk"].get(chunk_index, ())
    links = env["links_by_chunk"].get(chunk_index, ())
    runs = env["runs_by_chunk"].get(chunk_index, ())
    befores, afters = env["before_at"], env["after_at"]  # the offsets, sorted
    befores = befores[bisect.bisect_left(befores, chunk.start):bisect.bisect_left(befores, chunk.end)]
    places = env["place_at"][bisect.bisect_left(env["place_at"], chunk.start):bisect.bisect_left(env["place_at"], chunk.end)]
    befores = sorted({*befores, *places}) if places else befores
    afters = afters[bisect.bisect_right(afters, chunk.start):bisect.bisect_right(afters, chunk.end)]
    if not (marks or links or befores or afters):  # most text: nothing, or only unannotated runs, to weave in
        return _with_runs(token.content, chunk, runs), []
    cuts = {chunk.start, chunk.end, *befores, *afters}
    for mark in marks:
        cuts.update((max(mark.start, chunk.start), min(mark.end, chunk.end)))
    for start, end, _, _ in links:
        cuts.update((start, end))
    for start, end in runs:
        cuts.update((max(start, chunk.start), min(end, chunk.end)))
    points = sorted(cuts)
    out: list[str] = []
    held: list[str] = []  # note references that wait for the entity link to close
    trailing: list[str] = []
    open_link = None
    open_run = None  # the unannotated run whose <span> is open: it wraps the entity links inside it,
    run_in_link = False  # unless it was opened inside one (then it closes first)

    def close_run() -> None:
        nonlocal open_run
        if open_run is not None:
            out.append("</span>")
            open_run = None

    for a, b in zip(points, points[1:]):
        if a in deco.before:
            close_run()
            out.append(deco.before[a])
        if a in deco.places:
            out.append(deco.places[a])
        link = next((l for l in links if l[0] <= a and b <= l[1]), None)
        mark = next((m for m in marks if m.start <= a and b <= m.end), None)
        run = next((r for r in runs if r[0] <= a and b <= r[1]), None)
        if link is not open_link:
            if open_link is not None:
                if run_in_link:
                    close_run()
                out.append("</a>")
                if held:
                    close_run()
                    out.append("".join(held))
                    held = []
            if link is not None:
                if open_run is not None and not (open_run[0] <= link[0] and link[1] <= open_run[1]):
                    close_run()
                if open_run is None and run is not None and run[0] <= link[0] and link[1] <= run[1]:
                    out.append(UNANNOTATED)  # the run around the link
                    open_run, run_in_link = run, False
                out.append(f'<a class="entity-link" href="{html.escape(link[2])}" title="{html.escape(link[3])}">')
            open_link = link
        piece = html.escape(token.content[a - chunk.start:b - chunk.start], quote=False)
        if mark is not None and mark.ids:
            close_run()
            out.append(mark.html(piece))
        elif run is not None:
            if run is not open_run:
                close_run()
                out.append(UNANNOTATED)
                open_run, run_in_link = run, open_link is not None
            out.append(piece)
        else:
            close_run()
            out.append(piece)
        if b in deco.after:
            close_run()
            if open_link is not None:
                held.append(deco.after[b])
            elif chunk.kind == "code" or b == chunk.end:
                trailing.append(deco.after[b])
            else:
                out.append(deco.after[b])
    if open_link is not None:
        if run_in_link:
            close_run()
        out.append("</a>")
    close_run()
    out.append("".join(held))
    return "".join(out), trailing


def _with_runs(content: str, chunk: Chunk, runs) -> str:
    """A chunk's text with its pieces of unannotated runs wrapped, and nothing else woven in."""
    if not runs:
        return html.escape(content, quote=False)
    out, at = [], chunk.start
    for start, end in runs:
        start, end = max(start, chunk.start), min(end, chunk.end)
        out += (html.escape(content[at - chunk.start:start - chunk.start], quote=False), UNANNOTATED,
                html.escape(content[start - chunk.start:end - chunk.start], quote=False), "</span>")
        at = end
    out.append(html.escape(content[at - chunk.start:], quote=False))
    return "".join(out)


MD = _new_parser()


def parse_body(source: str) -> ParsedBody:
    """Parse Markdown and extract its plain text, chunk by chunk."""
    tokens = MD.parse(source)
    parts: list[str] = []
    chunks: list[Chunk] = []
    offset = 0
    block = -1
    heading = False
    for token in tokens:
        if token.type == "heading_open":
            heading = True
        elif token.type == "heading_close":
            heading = False
        if token.type != "inline":
            continue
        block += 1
        if offset:
            parts.append(BLOCK_BREAK)
            offset += len(BLOCK_BREAK)
        line = token.map[0] if token.map else 0
        link_depth = 0
        for child in token.children or []:
            if child.type == "link_open":
                link_depth += 1
            elif child.type == "link_close":
                link_depth -= 1
            elif child.type in ("text", "code_inline") and child.content:
                kind = "code" if child.type == "code_inline" else "link" if link_depth else "text"
                child.meta = {"chunk": len(chunks)}
                chunks.append(Chunk(offset, offset + len(child.content), kind, line, block, heading))
                parts.append(child.content)
                offset += len(child.content)
                line += child.content.count("\n")
            elif child.type in ("softbreak", "hardbreak"):
                chunks.append(Chunk(offset, offset + 1, "break", line, block, heading))
                parts.append("\n")
                offset += 1
                line += 1
    return ParsedBody(tokens, "".join(parts), tuple(chunks))


def render_body(parsed: ParsedBody, decorations: Decorations = Decorations()) -> str:
    """The body as HTML with the decorations woven in; text content is never changed."""
    marks_by_chunk: dict[int, list[Highlight]] = {}
    links_by_chunk: dict[int, list] = {}
    starts = [c.start for c in parsed.chunks]
    for mark in decorations.marks:
        for i in range(_chunk_at(starts, mark.start), len(parsed.chunks)):
            chunk = parsed.chunks[i]
            if chunk.start >= mark.end:
                break
            if chunk.end > mark.start and chunk.kind != "break":
                marks_by_chunk.setdefault(i, []).append(mark)
    for link in decorations.links:
        links_by_chunk.setdefault(_chunk_at(starts, link[0]), []).append(link)
    env = {"decorations": decorations, "chunks": parsed.chunks, "marks_by_chunk": marks_by_chunk,
           "links_by_chunk": links_by_chunk, "runs_by_chunk": _by_chunk(parsed.chunks, starts, decorations.unannotated),
           "before_at": sorted(decorations.before), "after_at": sorted(decorations.after),
           "place_at": sorted(decorations.places)}
    return MD.renderer.render(parsed.tokens, MD.options, env)


def _chunk_at(starts: list[int], offset: int) -> int:
    return max(0, bisect.bisect_right(starts, offset) - 1)


def _by_chunk(chunks: tuple[Chunk, ...], starts: list[int], runs) -> dict[int, list[tuple[int, int]]]:
    """Chunk index → the runs that reach into it (not into line breaks); the runs are sorted
    and disjoint, so this walks each chunk at most once per run that ends in it."""
    out: dict[int, list[tuple[int, int]]] = {}
    i = 0
    for run in runs:
        i = max(i, _chunk_at(starts, run[0]))
        while i < len(chunks) and chunks[i].start < run[1]:
            if chunks[i].end > run[0] and chunks[i].kind != "break":
                out.setdefault(i, []).append(run)
            if chunks[i].end > run[1]:
                break
            i += 1
    return out


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> str:
    """Editor-written Markdown (notes, summaries) as block HTML; raw HTML is escaped."""
    return MD.render(text or "")


@lru_cache(maxsize=4096)
def render_inline(text: str) -> str:
    """One line of Markdown as inline HTML, without a wrapping paragraph."""
    return MD.renderInline(text or "")


def annotated_body_html(parsed: ParsedBody, anchors, mentions, entity_names: dict[str, str], entity_href,
                        unannotated: tuple[tuple[int, int], ...] = ()) -> str:
    """An article body with each anchored quote highlighted, note references after each
    quote, the linked entity mentions (`entity_href(id)` gives the link) and the runs of
    unannotated sentences wrapped."""
    before, after = _note_inserts(anchors)
    places = {m.span.start: f'<span id="{mention_fragment(index)}"></span>'  # where entity pages link
              for index, m in enumerate(mentions)}
    links = tuple((m.span.start, m.span.end, entity_href(m.entity), entity_names[m.entity]) for m in mentions if m.linked)
    return render_body(parsed, Decorations(disjoint_marks(anchors), links, before, after, places, unannotated))


def annotated_title_html(title: str, anchors) -> str:
    """The title (plain text, not Markdown) with its annotations' marks and note references;
    "" without anchors, so the page shows the title as it is."""
    if not anchors:
        return ""
    before, after = _note_inserts(anchors)
    marks = disjoint_marks(anchors)
    points = sorted({0, len(title), *before, *after, *(p for m in marks for p in (m.start, m.end))})
    out = []
    for a, b in zip(points, points[1:]):
        out.append(before.get(a, ""))
        piece = html.escape(title[a:b], quote=False)
        mark = next((m for m in marks if m.start <= a and b <= m.end), None)
        out.append(mark.html(piece) if mark else piece)
        out.append(after.get(b, ""))
    return "".join(out)


def _note_inserts(anchors) -> tuple[dict[int, str], dict[int, str]]:
    """(offset → link targets before a quote, offset → note references after one)."""
    from .model import icon_of, label_of  # the vocabulary of kinds and verdicts
    before: dict[int, str] = {}
    after: dict[int, str] = {}
    for anc in anchors:
        ann = anc.annotation
        before[anc.span.start] = before.get(anc.span.start, "") + f'<span class="anchor" id="{ann.id}"></span>'
        verdict = f" v-{ann.verdict}" if ann.verdict else ""
        label = html.escape(label_of(ann))
        # The verdict word is in the name and, shown on hover and focus, in the .ref-word tip;
        # the search index skips the marker (its glyph and number are noise in an excerpt).
        after[anc.span.end] = after.get(anc.span.end, "") + (
            f'<a class="note-ref k-{ann.kind}{verdict}" href="#note_{ann.id}" id="ref_{ann.id}" data-note="{ann.id}" '
            f'aria-label="Note {anc.number}: {label}" data-pagefind-ignore>'
            f'<span aria-hidden="true">{icon_of(ann)}</span>{anc.number}'
            f'<span class="ref-word"> {label}</span></a>')
    return before, after


def disjoint_marks(anchors) -> tuple[Highlight, ...]:
    """Overlapping quotes → disjoint pieces, each naming every annotation that covers it."""
    points = sorted({p for a in anchors for p in (a.span.start, a.span.end)})
    marks = []
    for start, end in zip(points, points[1:]):
        covering = [a.annotation for a in anchors if a.span.start <= start and end <= a.span.end]
        if covering:
            marks.append(Highlight(start, end, tuple(a.id for a in covering), tuple(map(mark_classes, covering))))
    return tuple(marks)


def mark_classes(annotation) -> str:
    """A mark's classes: its kind and, for a fact check, its verdict (style.css styles both)."""
    return f"k-{annotation.kind}" + (f" v-{annotation.verdict}" if annotation.verdict else "")
