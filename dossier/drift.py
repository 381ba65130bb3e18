"""Drift between evidence and annotations, through a committed lock file.

`annotations.lock` (JSON, next to annotations.yaml) records, for each article, a hash of
its body and, for each anchored annotation, the exact words it matched, the text around
them and their line. A successful build rewrites it. When an article file changes, `check`
compares the new anchors with the lock and reports each annotation whose words now match
differently (e.g. only after normalisation) or whose match moved, so a reviewer knows
which notes to re-read. These are notices: they never fail a build, even with --strict.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from .confine import Refused, read_inside
from .diagnostics import Diagnostic, notice
from .model import Dossier

LOCK_FILE = "annotations.lock"
VERSION = 1


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
    """A notice for each annotation of a changed article whose match changed or moved."""
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
        if not isinstance(before, dict):
            continue
        if before.get("article") != ann.article:
            continue
        where = ann.quote_location
        was, now = str(before.get("exact", "")).split(), anc.exact.split()
        moved = f" (line {before.get('line')} → {anc.line})" if before.get("line") != anc.line else ""
        if was != now:
            change = _change(was, now)
            out.append(notice(where, f"{article.location.path} changed under annotation '{ann.id}': {change}{moved}",
                              "re-read the note against the article's new words"))
        elif _words(before.get("prefix")) != _words(anc.prefix) or _words(before.get("suffix")) != _words(anc.suffix) or moved:
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
    text = lock_text(fingerprints(dossier))
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


def _change(was: list[str], now: list[str]) -> str:
    """The first difference between the words an annotation matched before and now."""
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, was, now, autojunk=False).get_opcodes():
        before, after = " ".join(was[i1:i2]), " ".join(now[j1:j2])
        if tag == "replace":
            return f"the article now says '{after}' where it said '{before}'"
        if tag == "delete":
            return f"the article no longer says '{before}'"
        if tag == "insert":
            return f"the article now also says '{after}'"
    return "the words are the same but their spacing changed"


def _words(text: object) -> list[str]:
    return str(text or "").split()
