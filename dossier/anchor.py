"""Quotes → spans of an article's text (W3C Web Annotation TextQuoteSelector).

Matching ignores the differences an editor cannot see or type easily: runs of whitespace
and line breaks, curly vs straight quotes, the kinds of dash, non-breaking spaces. The text
is folded and collapsed once per article (`prepare`), remembering where runs of whitespace
were removed, so each quote is then a plain `str.find` and its span maps back exactly.
"""
from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter
from dataclasses import dataclass

from .model import Span

_FOLD = {
    **dict.fromkeys("‘’‚‛′`", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    **dict.fromkeys("\u00a0\u2007\u2009\u200a\u202f\u2002\u2003\u2004\u2005\u2006\u2008\u205f\u3000"
                    "\t\n\r\v\f", " "),
}
FOLD = str.maketrans(_FOLD)
WORD = re.compile(r"\S+")
RUN = re.compile(r" {2,}")


def fold(text: str) -> str:
    """The text with quotes, dashes and spaces folded to their plain forms (same length)."""
    return text.translate(FOLD)


def normalise(fragment: str) -> str:
    """A quote, prefix or suffix as it is matched: folded, whitespace runs as one space."""
    return " ".join(fold(fragment).split())


@dataclass(frozen=True)
class SearchText:
    """An article's text prepared for matching: folded, each whitespace run one space."""

    text: str
    """The article's own text; spans refer to it."""
    flat: str
    """The normalised text that quotes are looked up in."""
    flat_breaks: tuple[int, ...]
    """Positions in `flat` after which `shifts` more characters were removed."""
    raw_breaks: tuple[int, ...]
    """The same positions in `text`."""
    shifts: tuple[int, ...]

    def to_raw(self, flat: int) -> int:
        return flat + self.shifts[bisect.bisect_right(self.flat_breaks, flat) - 1]

    def to_flat(self, raw: int) -> int:
        i = bisect.bisect_right(self.raw_breaks, raw) - 1
        return max(self.flat_breaks[i], raw - self.shifts[i])

    def raw_span(self, start: int, end: int) -> Span:
        return Span(self.to_raw(start), self.to_raw(end - 1) + 1)


def prepare(text: str) -> SearchText:
    """Fold and collapse the text once; every quote of the article is then a plain find."""
    folded = fold(text)
    pieces, flat_breaks, raw_breaks, shifts = [], [0], [0], [0]
    position = removed = 0
    for run in RUN.finditer(folded):
        pieces.append(folded[position:run.start() + 1])
        removed += run.end() - run.start() - 1
        position = run.end()
        flat_breaks.append(run.end() - removed)
        raw_breaks.append(run.end())
        shifts.append(removed)
    pieces.append(folded[position:])
    return SearchText(text, "".join(pieces), tuple(flat_breaks), tuple(raw_breaks), tuple(shifts))


@dataclass(frozen=True)
class Match:
    """The outcome of anchoring one selector."""

    span: Span | None
    """The one place the selector picks, or None."""
    candidates: tuple[Span, ...]
    """Every place the quote alone occurs (more than one: ambiguous)."""


def _find_flat(st: SearchText, quote: str) -> list[tuple[int, int]]:
    needle = normalise(quote)
    if not needle:
        return []
    found, at = [], st.flat.find(needle)
    while at != -1:
        found.append((at, at + len(needle)))
        at = st.flat.find(needle, at + 1)
    return found


def find_quote(st: SearchText, quote: str) -> list[Span]:
    """Every (possibly overlapping) occurrence of `quote` in the article's text."""
    return [st.raw_span(a, b) for a, b in _find_flat(st, quote)]


def anchor_quote(st: SearchText, quote: str, prefix: str | None = None, suffix: str | None = None) -> Match:
    """Find `quote`, using `prefix`/`suffix` to choose among several occurrences."""
    found = _find_flat(st, quote)
    chosen = [f for f in found if _has_context_flat(st, f, prefix, suffix)]
    candidates = tuple(st.raw_span(a, b) for a, b in found)
    return Match(st.raw_span(*chosen[0]) if len(chosen) == 1 else None, candidates)


def has_context(st: SearchText, span: Span, prefix: str | None, suffix: str | None) -> bool:
    """Whether the text right before/after `span` is `prefix`/`suffix` (each optional)."""
    return _has_context_flat(st, (st.to_flat(span.start), st.to_flat(span.end - 1) + 1), prefix, suffix)


def _has_context_flat(st: SearchText, flat: tuple[int, int], prefix: str | None, suffix: str | None) -> bool:
    start, end = flat
    if prefix and prefix.strip():
        wanted = normalise(prefix)
        if not st.flat[max(0, start - len(wanted) - 1):start].rstrip().endswith(wanted):
            return False
    if suffix and suffix.strip():
        wanted = normalise(suffix)
        if not st.flat[end:end + len(wanted) + 1].lstrip().startswith(wanted):
            return False
    return True


def disambiguate(st: SearchText, spans: list[Span] | tuple[Span, ...], span: Span,
                 max_words: int = 12) -> tuple[str, str] | None:
    """The shortest `("prefix"|"suffix", words)` that picks `span` alone among `spans`."""
    text = st.text
    before = WORD.findall(text[:span.start])
    after = WORD.findall(text[span.end:])
    options = []
    for n in range(1, max_words + 1):
        if n <= len(before):
            words = " ".join(before[-n:])
            if sum(has_context(st, s, words, None) for s in spans) == 1:
                options.append(("prefix", words))
        if n <= len(after):
            words = " ".join(after[:n])
            if sum(has_context(st, s, None, words) for s in spans) == 1:
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
    # Drop words at the window's ends that the quote does not have at all (a word the quote
    # has in their place is kept: that is the difference to show).
    opcodes = difflib.SequenceMatcher(None, [_bare(w[2]) for w in passage], wanted, autojunk=False).get_opcodes()
    if len(opcodes) > 1 and opcodes[0][0] == "delete":
        passage = passage[opcodes[0][2]:]
        opcodes = opcodes[1:]
    if len(opcodes) > 1 and opcodes[-1][0] == "delete":
        passage = passage[:len(passage) - (opcodes[-1][2] - opcodes[-1][1])]
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
