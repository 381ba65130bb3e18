"""How much of each article the annotations examine, sentence by sentence — so the site
says no more than was checked, and shows what nobody annotated.

An article's text is split into sentences where entity mentions find theirs
(link.SENTENCE_END: after . ! ? … and any closing quote, or at a block break, so headings,
list items and table cells are sentences of their own); the title counts as one more. A
sentence is *annotated* when an annotation's quote overlaps it. Everything here is one
pass over the text, run once per article in resolve (in the worker processes).

The figures the site states about itself come from here too: `figures` computes them and
content pages show them through a fixed set of placeholders, `{{ dossier.sentences }}`,
substituted from a whitelist (a content file is untrusted: it is never run as a template).
The `coverage` command at the end is the editors' to-do list.
"""
from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable

from .diagnostics import Diagnostic, Location, did_you_mean, error
from .link import SENTENCE_END
from .model import ContentPage, Coverage, Dossier, Span

_CLOSERS = "\"'”’)]"
"""What SENTENCE_END lets follow the full stop: it belongs to the sentence, not the gap."""
_WORD = re.compile(r"\w")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Every sentence of `text` as (start, end), in order, whitespace trimmed; a piece without a
    letter or digit (a lone dash, a row of asterisks) is not a sentence. Plain tuples: a large
    dossier has millions of sentences."""
    sentences = []
    start = 0
    has_word = _WORD.search
    for match in SENTENCE_END.finditer(text):
        gap = match.group()
        end = match.start() + len(gap) - len(gap.lstrip(_CLOSERS))
        if has_word(text, start, end):
            sentences.append(_trimmed(text, start, end))
        start = match.end()
    if has_word(text, start, len(text)):
        sentences.append(_trimmed(text, start, len(text)))
    return sentences


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while text[start].isspace():  # the piece has a word character, so this stops
        start += 1
    while text[end - 1].isspace():
        end -= 1
    return start, end


def article_coverage(text: str, quotes: Iterable[Span], title_annotated: bool,
                     line_of: Callable[[int], int]) -> Coverage:
    """The coverage of one article: `quotes` are the body's anchored spans in any order,
    `line_of(offset)` the file line of a place in the text."""
    covered = _union(sorted((q.start, q.end) for q in quotes))
    unannotated = []
    sentences = split_sentences(text)
    j = 0
    for start, end in sentences:  # both lists run left to right: one pass
        while j < len(covered) and covered[j][1] <= start:
            j += 1
        if not (j < len(covered) and covered[j][0] < end):
            unannotated.append((start, end, line_of(start)))
    total = len(sentences) + 1  # the title is a sentence too
    annotated = total - len(unannotated) - (not title_annotated)
    return Coverage(total, annotated, title_annotated, tuple(unannotated))


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def unannotated_runs(text: str, coverage: Coverage) -> tuple[tuple[int, int], ...]:
    """The unannotated sentences as runs: neighbours with only whitespace between them become
    one, so the body HTML needs one element per run, not one per sentence."""
    runs: list[list[int]] = []
    for start, end, _ in coverage.unannotated:
        if runs and (runs[-1][1] == start or text[runs[-1][1]:start].isspace()):
            runs[-1][1] = end
        else:
            runs.append([start, end])
    return tuple((a, b) for a, b in runs)


# ---- the site's figures about itself -------------------------------------------------------

FIGURES = {
    "articles": "how many articles the dossier has",
    "sentences": "sentences in all articles (each title counts as one)",
    "sentences_annotated": "sentences that an annotation's quote overlaps",
    "sentences_unannotated": "sentences that no annotation's quote overlaps",
    "coverage": "the share of sentences annotated, rounded down, e.g. 34%",
    "annotations": "anchored annotations of every kind",
    "fact_checks": "annotations of kind fact-check",
    "claims": "claims under claims:",
    "articles_assessed": "articles with an assessment",
    "entities": "entities",
    "events": "timeline events",
    "references": "references",
    "sources": "publishers",
}
"""The placeholders a content page may use, as `{{ dossier.<name> }}`, and what each counts."""
PLACEHOLDER = re.compile(r"\{\{\s*dossier\.([A-Za-z_][\w]*)\s*\}\}")


def totals(d: Dossier) -> tuple[int, int]:
    """(sentences, annotated sentences) over every article."""
    sentences = annotated = 0
    for resolved in d.articles.values():
        if resolved.coverage is not None:
            sentences += resolved.coverage.sentences
            annotated += resolved.coverage.annotated
    return sentences, annotated


def figures(d: Dossier) -> dict[str, str]:
    """Every figure of FIGURES for this dossier, formatted for reading."""
    sentences, annotated = totals(d)
    counts = {
        "articles": len(d.articles), "sentences": sentences, "sentences_annotated": annotated,
        "sentences_unannotated": sentences - annotated,
        "annotations": len(d.anchors),
        "fact_checks": sum(a.annotation.kind == "fact-check" for a in d.anchors.values()),
        "claims": len(d.claims), "articles_assessed": sum(slug in d.assessments for slug in d.articles),
        "entities": len(d.entities), "events": len(d.events), "references": len(d.references),
        "sources": len(d.sources)}
    shown = {name: f"{count:,}" for name, count in counts.items()}
    shown["coverage"] = f"{annotated * 100 // sentences if sentences else 100}%"
    return shown


def fill_figures(text: str, values: dict[str, str]) -> str:
    """`text` with each known `{{ dossier.<name> }}` replaced by its value."""
    if "{{" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def figure_problems(pages: Iterable[ContentPage]) -> list[Diagnostic]:
    """An error for each placeholder that names no figure."""
    out = []
    for page in pages:
        for match in PLACEHOLDER.finditer(page.body):
            if match.group(1) in FIGURES:
                continue
            before = page.body[:match.start()]
            line = page.body_line + before.count("\n")
            column = match.start() - before.rfind("\n")
            hint = did_you_mean(match.group(1), FIGURES) or "the figures are: " + ", ".join(sorted(FIGURES))
            out.append(error(Location(page.location.path, line, column),
                             f"'{match.group(0)}' is not a figure the dossier computes", hint))
    return out


# ---- `coverage [ARTICLE…] [--min P]` ---------------------------------------------------------

def run_coverage(args) -> int:
    """Print each article's coverage and its unannotated sentences as file:line lines (the
    editors' to-do list); 1 when the dossier does not check, or with --min, when an article
    is below it."""
    from .cli import report
    from .load import ARTICLES_DIR
    from .site import Config, check

    minimum = _percentage(args.min) if args.min is not None else None
    if args.min is not None and minimum is None:
        print(f"error: --min '{args.min}' is not a percentage (write a number from 0 to 100, e.g. --min 60)",
              file=sys.stderr)
        return 1
    dossier, diagnostics = check(Config(source=args.source))
    if dossier is None:
        report(diagnostics)
        return 1
    slugs = [name.removeprefix(ARTICLES_DIR + "/").removesuffix(".md") for name in args.articles] or sorted(dossier.articles)
    unknown = [slug for slug in slugs if slug not in dossier.articles]
    for slug in unknown:
        print(f"{ARTICLES_DIR}/{slug}.md: error: no such article "
              f"({did_you_mean(slug, dossier.articles) or 'known: ' + ', '.join(sorted(dossier.articles))})",
              file=sys.stderr)
    if unknown:
        return 1
    try:
        below = _print_coverage(dossier, list(dict.fromkeys(slugs)), minimum)
    except BrokenPipeError:  # `coverage | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    warnings = sum(d.level == "warning" for d in diagnostics)
    if warnings:
        print(f"({warnings} warning{'s' * (warnings != 1)}: run 'python build.py check' to see them)", file=sys.stderr)
    for path, coverage in below:
        print(f"{path}: error: {coverage.annotated} of {coverage.sentences} sentences annotated "
              f"({coverage.percent}%), under --min {args.min}% (annotate the sentences listed above)", file=sys.stderr)
    return 1 if below else 0


def _print_coverage(dossier: Dossier, slugs: list[str], minimum: float | None) -> list[tuple[str, Coverage]]:
    """Print each article's figures and unannotated sentences; return those below `minimum`."""
    below = []
    for slug in slugs:
        resolved = dossier.articles[slug]
        coverage, path = resolved.coverage, resolved.article.location.path
        print(f"{path}: {coverage.annotated} of {coverage.sentences} sentences annotated ({coverage.percent}%)")
        if not coverage.title_annotated:
            print(f"{path}:{resolved.article.at('title').line}: \"{' '.join(resolved.article.title.split())}\"")
        text = resolved.text
        for start, end, line in coverage.unannotated:
            print(f"{path}:{line}: \"{' '.join(text[start:end].split())}\"")
        if minimum is not None and coverage.annotated * 100 < minimum * coverage.sentences:
            below.append((path, coverage))
    if len(slugs) > 1:
        sentences = sum(dossier.articles[s].coverage.sentences for s in slugs)
        annotated = sum(dossier.articles[s].coverage.annotated for s in slugs)
        print(f"total: {annotated} of {sentences} sentences annotated ({annotated * 100 // sentences}%)")
    sys.stdout.flush()
    return below


def _percentage(value: str) -> float | None:
    """A number from 0 to 100 (a trailing % allowed), else None."""
    try:
        number = float(value.removesuffix("%"))
    except ValueError:
        return None
    return number if 0 <= number <= 100 else None
