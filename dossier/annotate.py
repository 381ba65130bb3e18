"""`annotate ARTICLE "quote"`: a ready-to-paste annotation stub for a quote, or why not."""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from typing import Iterable

from . import anchor as anchoring
from .link import AliasIndex, build_alias_index, find_mentions
from .load import ARTICLES_DIR, load_dossier
from .model import Span
from .resolve import parsed_body
from .validate import PLACEHOLDER_NOTE, validate

VERDICT_CHOICES = "accurate | mostly-accurate | mixed | unsupported | misleading | inaccurate | outdated"


def stub(article: str, quote: str, ann_id: str, entities: list[str], context: tuple[str, str] | None,
         comment: str = "", in_title: bool = False) -> str:
    """The YAML of one annotation stub, indented to sit under `annotations:`."""
    lines = [f"  # {comment}"] if comment else []
    lines += [f"  - id: {ann_id}", f"    article: {article}"] + ["    field: title"] * in_title
    lines += [f"    quote: {_yaml_string(quote)}"]
    if context:
        lines.append(f"    {context[0]}: {_yaml_string(context[1])}")
    lines += ["    kind: fact-check", f"    verdict:  # choose one: {VERDICT_CHOICES}",
              "    note: >-", f"      {PLACEHOLDER_NOTE}",
              "    cite: []  # ids under references:"]
    if entities:
        lines.append(f"    entities: [{', '.join(entities)}]")
    return "\n".join(lines) + "\n"


def suggest_id(quote: str, taken: set[str]) -> str:
    words = re.findall(r"[a-z0-9]+", anchoring.fold(quote).lower())[:5]
    base = "-".join(words) or "note"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


@dataclass(frozen=True)
class Stubs:
    """What `annotate` says about one quote in one article."""

    spans: tuple[Span, ...]
    """Where the quote occurs in the article's text; empty when it does not."""
    stubs: tuple[str, ...]
    """One ready-to-paste stub per occurrence, each with the shortest prefix or suffix that
    picks it when there are several."""
    problem: str = ""
    """Why there is no stub: the quote is not in the article (and the nearest passage)."""


def annotation_stubs(article: str, text: str, quote: str, taken: Iterable[str], aliases: AliasIndex,
                     in_title: bool = False, other: str = "") -> Stubs:
    """Stubs for `quote` in the article's rendered `text` (its body, or its title when
    `in_title`); `taken` holds the annotation ids in use (suggested ids avoid them), `aliases`
    the entities' names to list those in the quote, `other` the article's other field, named
    in the error when the quote is there instead."""
    searchable = anchoring.prepare(text)
    spans = anchoring.find_quote(searchable, quote)
    if not spans:
        where = "title" if in_title else "article"
        if other and anchoring.find_quote(anchoring.prepare(other), quote):
            here, there, fix = ("title", "body", "leave out --title") if in_title else ("body", "title", "add --title")
            return Stubs((), (), f"the quote is not in the article's {here}, but it is in its {there} ({fix})")
        nearest = anchoring.nearest_passage(text, quote)
        if nearest is None:
            return Stubs((), (), f"the quote is not in the {where}")
        passage = " ".join(text[nearest.span.start:nearest.span.end].split())
        return Stubs((), (), f"the quote is not in the {where}; the nearest passage is \"{passage}\" ({nearest.difference})")
    taken = set(taken)
    mentions = find_mentions(text, aliases)
    out = []
    for number, span in enumerate(spans, 1):
        exact = " ".join(text[span.start:span.end].split())
        entities = sorted({eid for s, e, eid in mentions if s >= span.start and e <= span.end})
        context = anchoring.disambiguate(searchable, spans, span) if len(spans) > 1 else None
        ann_id = suggest_id(exact, taken)
        taken.add(ann_id)
        comment = f"occurrence {number} of {len(spans)}" if len(spans) > 1 else ""
        out.append(stub(article, exact, ann_id, entities, context, comment, in_title))
    return Stubs(tuple(spans), tuple(out))


def run_annotate(args) -> int:
    raw, _ = load_dossier(args.source)
    inputs, _ = validate(raw)
    path = f"{ARTICLES_DIR}/{args.article}.md"
    article = inputs.articles.get(args.article)
    if article is None:
        known = ", ".join(sorted(inputs.articles)) or "none"
        print(f"{path}: error: no such article (known: {known})", file=sys.stderr)
        return 1
    in_title = getattr(args, "title", False)
    body_text = parsed_body(article.body).text
    aliases = build_alias_index({e.id: (e.name, *e.aliases) for e in inputs.annotations.entities.values()})
    result = annotation_stubs(args.article, article.title if in_title else body_text, args.quote,
                              {a.id for a in inputs.annotations.annotations}, aliases, in_title,
                              other=body_text if in_title else article.title)
    if result.problem:
        print(f"{path}: error: {result.problem}", file=sys.stderr)
        return 1
    if len(result.spans) > 1:
        print(f"the quote occurs {len(result.spans)} times; each stub below picks one with a prefix or suffix — keep the "
              "one you mean", file=sys.stderr)
    print("\n".join(result.stubs), end="")
    return 0


def _yaml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
