"""Entity names and aliases → mentions in article text, in one pass over the text.

All aliases are compiled into one trie-shaped regular expression, so the text is scanned
once however many entities there are, and at each position the longest alias wins
("Meta Superintelligence Labs" over "Meta").
Matching is case-sensitive and whole-word; "Meta's" counts as a mention of "Meta".
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .markdown import Chunk

SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n\n")
"""Where a sentence ends: after . ! ? … (and closing quotes), or at a paragraph break."""


@dataclass(frozen=True)
class AliasIndex:
    pattern: re.Pattern | None
    """One compiled pattern of every alias (a trie, so longer aliases are tried first)."""
    entity_of: dict[str, str]
    """alias → entity id."""


def build_alias_index(names: dict[str, tuple[str, ...]]) -> AliasIndex:
    """`names`: entity id → its name and aliases (an alias claimed twice keeps its first owner)."""
    entity_of: dict[str, str] = {}
    for entity_id, aliases in sorted(names.items()):
        for alias in aliases:
            if alias and alias.strip() == alias:
                entity_of.setdefault(alias, entity_id)
    if not entity_of:
        return AliasIndex(None, {})
    return AliasIndex(re.compile(r"(?<!\w)(?:" + _trie_pattern(sorted(entity_of)) + r")(?!\w)"), entity_of)


def _trie_pattern(words: list[str]) -> str:
    """A regex matching any of `words`, preferring the longest at each position."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _emit(trie)


def _emit(node: dict) -> str:
    """The pattern for one trie node (a function of its own: a closure that calls itself is a
    reference cycle, left for the cyclic collector on every call)."""
    ends = "" in node
    branches = [re.escape(char) + _emit(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if ends:  # a shorter alias ends here: try the longer ones first, then stop
        return "(?:" + body + ")?" if len(branches) > 1 or len(body) > 1 else body + "?"
    return body


def find_mentions(text: str, index: AliasIndex) -> list[tuple[int, int, str]]:
    """Every (start, end, entity id) where an alias occurs as whole words, left to right."""
    if index.pattern is None:
        return []
    entity_of = index.entity_of
    return [(m.start(), m.end(), entity_of[m.group()]) for m in index.pattern.finditer(text)]


def sentence_around(text: str, start: int, end: int, limit: int = 320) -> str:
    """The sentence that contains text[start:end], trimmed to about `limit` characters."""
    left, right = _sentence_bounds(text, start, end, limit)
    return _cut_before(text, left, start, limit) + " ".join(text[left:right].split()) + _cut_after(text, right, end, limit)


def sentence_parts(text: str, start: int, end: int, limit: int = 320) -> tuple[str, str, str]:
    """The sentence(s) around text[start:end] as (before, the span, after), whitespace runs
    collapsed; `before` starts (and `after` ends) with "…" when the sentence was cut."""
    left, right = _sentence_bounds(text, start, end, limit)
    return (_cut_before(text, left, start, limit) + _collapse(text[left:start]).lstrip(), _collapse(text[start:end]),
            _collapse(text[end:right]).rstrip() + _cut_after(text, right, end, limit))


def sentences_with(text: str, spans: list[tuple[int, int]], limit: int = 320) -> list[tuple[tuple[str, int | None], ...]]:
    """Each sentence holding one of `spans` (sorted, disjoint), once, as pieces (text, index
    of the span or None), whitespace runs collapsed: a sentence that names an entity twice is
    listed once, with both names marked."""
    sentences: list[tuple[tuple[str, int | None], ...]] = []
    i = 0
    while i < len(spans):
        left, right = _sentence_bounds(text, spans[i][0], spans[i][1], limit)
        pieces: list[tuple[str, int | None]] = []
        at = left
        lead = _cut_before(text, left, spans[i][0], limit)
        while i < len(spans) and spans[i][0] < right:
            start, end = spans[i]
            pieces += [(_collapse(text[at:start]), None), (_collapse(text[start:end]), i)]
            at, i = end, i + 1
            right = max(right, end)
        pieces.append((_collapse(text[at:right]), None))
        pieces[0] = (lead + pieces[0][0].lstrip(), None)
        pieces[-1] = (pieces[-1][0].rstrip() + _cut_after(text, right, spans[i - 1][1], limit), None)
        sentences.append(tuple(piece for piece in pieces if piece[0] or piece[1] is not None))
    return sentences


_CLOSERS = "\"'”’)]"
"""Closing quotes and brackets after a full stop: they end the sentence with it."""


def _sentence_bounds(text: str, start: int, end: int, limit: int) -> tuple[int, int]:
    left = max((m.end() for m in SENTENCE_END.finditer(text, max(0, start - limit), start)), default=max(0, start - limit))
    right_match = SENTENCE_END.search(text, end, end + limit)
    if right_match is None:
        return left, min(len(text), end + limit)
    gap = right_match.group()
    return left, right_match.start() + len(gap) - len(gap.lstrip(_CLOSERS))


def _cut_before(text: str, left: int, start: int, limit: int) -> str:
    return "…" if left > 0 and left == start - limit else ""


def _cut_after(text: str, right: int, end: int, limit: int) -> str:
    return "…" if right < len(text) and right == end + limit else ""


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def usable(chunks: tuple[Chunk, ...], starts: list[int], start: int, end: int) -> tuple[bool, bool, int]:
    """(is a mention, may become a link, block index) for a match at [start, end).

    Mentions in code or inside an existing link don't count; a link must also stay within
    one text chunk (so it never crosses emphasis) and never lands in a heading.
    """
    chunk = chunks[max(0, bisect.bisect_right(starts, start) - 1)]
    inside = chunk.start <= start and end <= chunk.end
    if chunk.kind in ("code", "link"):
        return False, False, chunk.block
    return True, inside and chunk.kind == "text" and not chunk.heading, chunk.block
