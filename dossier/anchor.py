"""Quotes → spans of an article's text (W3C Web Annotation TextQuoteSelector).

Matching ignores the differences an editor cannot see or type easily: runs of whitespace
and line breaks, curly vs straight quotes, the kinds of dash, non-breaking spaces. Folding
maps one character to one character, so offsets in the folded text are offsets in the text.
"""
from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass

from .model import Span

_FOLD = {
    **dict.fromkeys("‘’‚‛′`", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    **dict.fromkeys("\u00a0\u2007\u2009\u200a\u202f\u2002\u2003\u2004\u2005\u2006\u2008\u205f\u3000\t", " "),
}
FOLD = str.maketrans(_FOLD)
WORD = re.compile(r"\S+")


def fold(text: str) -> str:
    """The text with quotes, dashes and spaces folded to their plain forms (same length)."""
    return text.translate(FOLD)


def _pattern(fragment: str) -> str:
    """A regex for `fragment` in folded text: any run of whitespace matches any other."""
    return r"\s+".join(re.escape(word) for word in fold(fragment).split())


@dataclass(frozen=True)
class Match:
    """The outcome of anchoring one selector."""

    span: Span | None
    """The one place the selector picks, or None."""
    candidates: tuple[Span, ...]
    """Every place the quote alone occurs (more than one: ambiguous)."""


def find_quote(folded: str, quote: str) -> list[Span]:
    """Every (possibly overlapping) occurrence of `quote` in the folded text."""
    pattern = _pattern(quote)
    if not pattern:
        return []
    return [Span(m.start(), m.start() + len(m.group(1))) for m in re.finditer(f"(?=({pattern}))", folded)]


def anchor_quote(folded: str, quote: str, prefix: str | None = None, suffix: str | None = None) -> Match:
    """Find `quote`, using `prefix`/`suffix` to choose among several occurrences."""
    candidates = find_quote(folded, quote)
    chosen = [span for span in candidates if _has_context(folded, span, prefix, suffix)]
    return Match(chosen[0] if len(chosen) == 1 else None, tuple(candidates))


def _has_context(folded: str, span: Span, prefix: str | None, suffix: str | None) -> bool:
    if prefix and prefix.strip():
        before = folded[max(0, span.start - 4 * len(prefix) - 64):span.start]
        if not re.search(_pattern(prefix) + r"\s*\Z", before):
            return False
    if suffix and suffix.strip():
        after = folded[span.end:span.end + 4 * len(suffix) + 64]
        if not re.match(r"\s*" + _pattern(suffix), after):
            return False
    return True


def disambiguate(text: str, spans: list[Span] | tuple[Span, ...], span: Span, max_words: int = 12) -> tuple[str, str] | None:
    """The shortest `("prefix"|"suffix", words)` that picks `span` alone among `spans`."""
    folded = fold(text)
    before = WORD.findall(text[:span.start])
    after = WORD.findall(text[span.end:])
    options = []
    for n in range(1, max_words + 1):
        if n <= len(before):
            words = " ".join(before[-n:])
            if sum(_has_context(folded, s, words, None) for s in spans) == 1:
                options.append(("prefix", words))
        if n <= len(after):
            words = " ".join(after[:n])
            if sum(_has_context(folded, s, None, words) for s in spans) == 1:
                options.append(("suffix", words))
        if options:
            return min(options, key=lambda o: len(o[1]))
    return None


@dataclass(frozen=True)
class Nearest:
    span: Span
    """The passage of the article most like the quote."""
    difference: str
    """How the two differ, in words: "the article says 'finalised', the quote says 'finalized'"."""


def nearest_passage(text: str, quote: str) -> Nearest | None:
    """The passage of `text` that shares most words with `quote`, and the first difference."""
    words = [(m.start(), m.end(), m.group()) for m in WORD.finditer(fold(text))]
    wanted = [_bare(w) for w in fold(quote).split()]
    if not words or not wanted:
        return None
    size = min(len(wanted), len(words))
    need = Counter(wanted)
    window = Counter(_bare(w[2]) for w in words[:size])
    score = sum((window & need).values())
    best, tied = score, [0]
    for i in range(1, len(words) - size + 1):
        gone, new = _bare(words[i - 1][2]), _bare(words[i + size - 1][2])
        score -= window[gone] <= need[gone]
        window[gone] -= 1
        score += window[new] < need[new]
        window[new] += 1
        if score > best:
            best, tied = score, [i]
        elif score == best and len(tied) < 64:
            tied.append(i)
    # Among windows sharing as many words, the one whose characters are most alike.
    wanted_text = " ".join(fold(quote).split())
    best_at = max(tied, key=lambda i: (difflib.SequenceMatcher(
        None, " ".join(w[2] for w in words[i:i + size]), wanted_text, autojunk=False).ratio(), -i))
    if best == 0:
        return None
    passage = words[best_at:best_at + size]
    found = [text[s:e] for s, e, _ in passage]
    given = fold(quote).split()
    return Nearest(Span(passage[0][0], passage[-1][1]), describe_difference([fold(w) for w in found], given, found))


def _bare(word: str) -> str:
    return word.strip(".,;:!?\"'()[]").lower()


def describe_difference(found: list[str], given: list[str], original: list[str]) -> str:
    """The first difference between two word lists, in words (`found` is the article's)."""
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, found, given, autojunk=False).get_opcodes():
        said, quoted = " ".join(original[i1:i2]), " ".join(given[j1:j2])
        if tag == "replace":
            return f"the article says '{said}', the quote says '{quoted}'"
        if tag == "delete":
            return f"the article has '{said}' where the quote has nothing"
        if tag == "insert":
            return f"the quote adds '{quoted}', which the article does not have there"
    return "the words match but not in this order or with this punctuation"
