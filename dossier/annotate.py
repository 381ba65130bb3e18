"""`annotate ARTICLE "quote"`: a ready-to-paste annotation stub for a quote, or why not."""
from __future__ import annotations

import json
import re
import sys

from . import anchor as anchoring
from .link import build_alias_index, find_mentions
from .load import ARTICLES_DIR, load_dossier
from .resolve import parsed_body
from .validate import validate

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
              "    note: >-", "      What is right, what is wrong, and what the evidence is.",
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
    text = article.title if in_title else body_text
    searchable = anchoring.prepare(text)
    spans = anchoring.find_quote(searchable, args.quote)
    if not spans:
        where = "title" if in_title else "article"
        other = anchoring.find_quote(anchoring.prepare(body_text if in_title else article.title), args.quote)
        nearest = anchoring.nearest_passage(text, args.quote)
        if other:
            here, there, fix = ("title", "body", "leave out --title") if in_title else ("body", "title", "add --title")
            print(f"{path}: error: the quote is not in the article's {here}, but it is in its {there} ({fix})",
                  file=sys.stderr)
        elif nearest is None:
            print(f"{path}: error: the quote is not in the {where}", file=sys.stderr)
        else:
            passage = " ".join(text[nearest.span.start:nearest.span.end].split())
            print(f"{path}: error: the quote is not in the {where}; the nearest passage is \"{passage}\" "
                  f"({nearest.difference})", file=sys.stderr)
        return 1
    taken = {a.id for a in inputs.annotations.annotations}
    aliases = build_alias_index({e.id: (e.name, *e.aliases) for e in inputs.annotations.entities.values()})
    out = []
    for number, span in enumerate(spans, 1):
        exact = " ".join(text[span.start:span.end].split())
        entities = sorted({eid for s, e, eid in find_mentions(text, aliases) if s >= span.start and e <= span.end})
        context = anchoring.disambiguate(searchable, spans, span) if len(spans) > 1 else None
        ann_id = suggest_id(exact, taken)
        taken.add(ann_id)
        comment = f"occurrence {number} of {len(spans)}" if len(spans) > 1 else ""
        out.append(stub(args.article, exact, ann_id, entities, context, comment, in_title))
    if len(spans) > 1:
        print(f"the quote occurs {len(spans)} times; each stub below picks one with a prefix or suffix — keep the one you mean",
              file=sys.stderr)
    print("\n".join(out), end="")
    return 0


def _yaml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
