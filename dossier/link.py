"""Entity names and aliases → mentions in article text, in one pass over the text.

Aliases are indexed by their first word; at each word of the text only the aliases that
start with that word are tried, longest first. So the cost is one walk over the words,
however many entities there are, and "Meta Superintelligence Labs" wins over "Meta".
Matching is case-sensitive and whole-word; "Meta's" counts as a mention of "Meta".
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .markdown import Chunk

WORD = re.compile(r"\w+")
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n")


@dataclass(frozen=True)
class AliasIndex:
    by_first_word: dict[str, tuple[tuple[str, str], ...]]
    """first word → ((alias, entity id), …), longest alias first."""


def build_alias_index(names: dict[str, tuple[str, ...]]) -> AliasIndex:
    """`names`: entity id → its name and aliases."""
    index: dict[str, list[tuple[str, str]]] = {}
    for entity_id, aliases in sorted(names.items()):
        for alias in set(aliases):
            first = WORD.match(alias)
            if first and first.start() == 0:
                index.setdefault(first.group(), []).append((alias, entity_id))
    return AliasIndex({w: tuple(sorted(c, key=lambda c: (-len(c[0]), c[0]))) for w, c in index.items()})


def find_mentions(text: str, index: AliasIndex) -> list[tuple[int, int, str]]:
    """Every (start, end, entity id) where an alias occurs as whole words, left to right."""
    found = []
    position = 0
    for word in WORD.finditer(text):
        start = word.start()
        if start < position or (start and _is_word_char(text[start - 1])):
            continue
        for alias, entity_id in index.by_first_word.get(word.group(), ()):
            end = start + len(alias)
            if text.startswith(alias, start) and (end == len(text) or not _is_word_char(text[end])):
                found.append((start, end, entity_id))
                position = end
                break
    return found


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def sentence_around(text: str, start: int, end: int, limit: int = 320) -> str:
    """The sentence that contains text[start:end], trimmed to about `limit` characters."""
    left = max((m.end() for m in SENTENCE_END.finditer(text, max(0, start - limit), start)), default=max(0, start - limit))
    right_match = SENTENCE_END.search(text, end, end + limit)
    right = right_match.start() if right_match else min(len(text), end + limit)
    sentence = " ".join(text[left:right].split())
    return ("…" if left > 0 and left == start - limit else "") + sentence


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
