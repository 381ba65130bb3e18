"""Drift between evidence and annotations, through a committed lock file.

`annotations.lock` (JSON, next to annotations.yaml) records, for each article, a hash of
its body and, for each anchored annotation, the exact words it matched, the text around
them and their line. A successful build rewrites it. When an article file changes, `check`
compares the new anchors with the lock and reports each annotation whose own text changed
(its words, or only the spacing between them: a line break added inside the quote counts)
or whose surrounding words changed, so a reviewer knows which notes to re-read. A quote
that merely moved — lines added above it, the text around it re-wrapped — gets no notice.
These are notices: they never fail a build, even with --strict.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from .confine import Refused, read_inside
from .diagnostics import Diagnostic, notice
from .model import Dossier

LOCK_FILE = "annotations.lock"
VERSION = 1
CONTEXT = 32
"""Characters of article text kept before and after each quote (Anchor.prefix and .suffix)."""


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def fingerprints(dossier: Dossier) -> dict:
    """The lock's content for this dossier: plain JSON data in a stable order."""
    return {
        "version": VERSION,
        "articles": {slug: body_hash(r.article.body) for slug, r in sorted(dossier.articles.items())},
        "annotations": {anc.annotation.id: {"article": anc.annotation.article, "exact": anc.exact, "prefix": anc.prefix,
                                            "suffix": anc.suffix, "line": anc.line}
                        for anc in sorted(dossier.anchors.values(), key=lambda a: a.annotation.id)},
    }


def compare(lock: dict, dossier: Dossier) -> list[Diagnostic]:
    """A notice for each annotation of a changed article whose own text (spacing included)
    or surrounding words changed; one that only moved gets none."""
    if not isinstance(lock, dict) or lock.get("version") != VERSION:
        return []
    old_articles, old = lock.get("articles", {}), lock.get("annotations", {})
    if not isinstance(old_articles, dict) or not isinstance(old, dict):
        return []
    changed = {slug for slug, r in dossier.articles.items()
               if old_articles.get(slug) not in (None, body_hash(r.article.body))}
    out = []
    for anc in dossier.anchors.values():
        ann = anc.annotation
        if ann.article not in changed:
            continue
        article = dossier.articles[ann.article].article
        before = old.get(ann.id)
        if not isinstance(before, dict) or before.get("article") != ann.article:
            continue
        where = ann.quote_location
        moved = f" (line {before.get('line')} → {anc.line})" if before.get("line") != anc.line else ""
        exact = str(before.get("exact", ""))
        if exact != anc.exact:  # whitespace included: the quote's own text is what the note is about
            out.append(notice(where, f"{article.location.path} changed under annotation '{ann.id}': "
                                     f"{_change(exact, anc.exact)}{moved}",
                              "re-read the note against the article's new words"))
        elif not (_same_words_before(before.get("prefix"), anc.prefix)
                  and _same_words_after(before.get("suffix"), anc.suffix)):
            out.append(notice(where, f"{article.location.path} changed around annotation '{ann.id}'{moved}",
                              "re-read the note: the text around its quote is different"))
    return out


def lock_text(lock: dict) -> str:
    """The lock as JSON with one article or annotation per line: small, readable diffs
    (and fast: each line goes through the C encoder, unlike json.dumps with indent)."""
    def section(items: dict) -> str:
        lines = [f"  {json.dumps(key, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False, sort_keys=True)}"
                 for key, value in sorted(items.items())]
        return "{\n" + ",\n".join(lines) + "\n }" if lines else "{}"
    return (f'{{\n "version": {lock["version"]},\n "articles": {section(lock["articles"])},\n'
            f' "annotations": {section(lock["annotations"])}\n}}\n')


def read_lock(source: Path) -> dict:
    """The lock, or {} when there is none (or what is there is not a lock Dossier wrote)."""
    try:
        return json.loads(read_inside(source, LOCK_FILE).decode("utf-8"))
    except (OSError, ValueError, Refused):
        return {}


def write_lock(source: Path, dossier: Dossier) -> bool:
    """Rewrite the lock if it changed; False when the folder is not writable."""
    return write_lock_text(source, lock_text(fingerprints(dossier)))


def write_lock_text(source: Path, text: str) -> bool:
    """Rewrite the lock with `text` (lock_text) if it changed; False when the folder is not writable."""
    try:
        if read_inside(source, LOCK_FILE) == text.encode("utf-8"):
            return True
    except (OSError, Refused):
        pass
    tmp = None
    try:  # replaced, not written through: a link in its place must not lead the write elsewhere
        fd, tmp = tempfile.mkstemp(prefix=f".{LOCK_FILE}.", dir=source)
        with os.fdopen(fd, "wb") as file:
            file.write(text.encode("utf-8"))
        os.chmod(tmp, 0o644)
        os.replace(tmp, source / LOCK_FILE)
        return True
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return False


def _change(was: str, now: str) -> str:
    """The first difference between the text an annotation matched before and now."""
    old_words, new_words = was.split(), now.split()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_words, new_words, autojunk=False).get_opcodes():
        before, after = " ".join(old_words[i1:i2]), " ".join(new_words[j1:j2])
        if tag == "replace":
            return f"the article now says '{after}' where it said '{before}'"
        if tag == "delete":
            return f"the article no longer says '{before}'"
        if tag == "insert":
            return f"the article now also says '{after}'"
    # The same words: find the first place where the spacing between them differs.
    old_gaps, new_gaps = _gaps(was), _gaps(now)
    for i, (a, b) in enumerate(zip(old_gaps, new_gaps)):
        if a != b:
            place = f"before '{old_words[0]}'" if i == 0 else f"after '{old_words[i - 1]}'"
            return f"the words are the same, but the spacing {place} changed from {_spacing(a)} to {_spacing(b)}"
    return "the words are the same, but their spacing changed"


def _gaps(text: str) -> list[str]:
    """The whitespace before the first word, between each two words, and after the last."""
    return re.split(r"\S+", text)


def _spacing(gap: str) -> str:
    if not gap:
        return "no space"
    if "\n\n" in gap:
        return "a paragraph break"
    if "\n" in gap:
        return "a line break"
    return "a space" if gap == " " else f"{len(gap)} spaces" if gap.strip(" ") == "" else "other spacing"


def _same_words_before(was: object, now: str) -> bool:
    """Whether the words before the quote are the same, whatever the spacing between them."""
    was = str(was or "")
    a, b = " ".join(was.split()), " ".join(now.split())
    # Each side is the last CONTEXT characters before the quote, or fewer at the article's
    # start. A full window cut further back when spacing was added (or removed), so then one
    # side's words end the other's; a short one is all the text there was, and must match.
    if len(was) < CONTEXT and len(now) < CONTEXT:
        return a == b
    if len(was) < CONTEXT or len(now) < CONTEXT:
        return a.endswith(b) if len(was) < CONTEXT else b.endswith(a)
    return a.endswith(b) or b.endswith(a)


def _same_words_after(was: object, now: str) -> bool:
    """The same for the words after the quote (the first CONTEXT characters, or fewer at its end)."""
    was = str(was or "")
    a, b = " ".join(was.split()), " ".join(now.split())
    if len(was) < CONTEXT and len(now) < CONTEXT:
        return a == b
    if len(was) < CONTEXT or len(now) < CONTEXT:
        return a.startswith(b) if len(was) < CONTEXT else b.startswith(a)
    return a.startswith(b) or b.startswith(a)
