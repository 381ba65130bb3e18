"""Short forms of long texts, for the lists that show many of them (the claims index, entity
pages): a quote shortened once it runs past ~40 words, a note's first sentence, and a quote
too short to read on its own ("**") shown with the words around it. The full text is always
one click away, in the note."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from .link import SENTENCE_END
from .markdown import render_markdown

LONG_QUOTE = 40
"""Words: a quote longer than this is shortened in lists."""
SHORT_QUOTE = 30
"""Words a shortened quote keeps."""
GIST_WORDS = 40
"""Words at most of a note's first sentence in a list."""
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class ListQuote:
    """A quote as a list shows it."""

    before: str
    """Words before the quote, when the quote alone says nothing ("**"); else ""."""
    quote: str
    after: str
    shortened: bool


def shorten(text: str, words: int = LONG_QUOTE, keep: int = SHORT_QUOTE) -> tuple[str, bool]:
    """The text with whitespace runs collapsed, cut to `keep` words and "…" when it has more
    than `words`."""
    parts = text.split()
    if len(parts) <= words:
        return " ".join(parts), False
    return " ".join(parts[:keep]).rstrip(",;:—–-") + "…", True


def list_quote(anchor) -> ListQuote:
    """An anchored quote for a list: long ones shortened; one with fewer than two letters or
    digits shown between the article's words around it."""
    quote, shortened = shorten(anchor.exact)
    if len(_WORD.findall(quote)) >= 2:
        return ListQuote("", quote, "", shortened)
    before = " ".join(anchor.prefix.split()[-5:])
    after = " ".join(anchor.suffix.split()[:5])
    return ListQuote(("…" + before + " ") if before else "", quote, (" " + after + "…") if after else "", shortened)


def first_sentence(markdown: str | None) -> str:
    """The first sentence of a note (Markdown) as plain text, at most about GIST_WORDS words."""
    if not markdown:
        return ""
    text = html.unescape(_TAG.sub("", render_markdown(markdown))).strip()
    text = text.split("\n\n", 1)[0]
    end = SENTENCE_END.search(text)
    if end:
        gap = end.group()
        text = text[:end.start() + len(gap) - len(gap.lstrip("\"'”’)]"))]
    return shorten(text, GIST_WORDS, GIST_WORDS - 5)[0]
