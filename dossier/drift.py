"""Drift between evidence and annotations, through a committed lock file.

`annotations.lock` (JSON, next to annotations.yaml) records, for each article, a hash of
its body and, for each anchored annotation, the exact words it matched, the text around
them and their line. A successful build rewrites it. When an article file changes, `check`
compares the new anchors with the lock and reports each annotation whose words now match
differently (e.g. only after normalisation) or whose match moved, so a reviewer knows
which notes to re-read. These are notices: they never fail a build, even with --strict.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .anchor import describe_difference
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
    out = []
    for anc in dossier.anchors.values():
        ann = anc.annotation
        article = dossier.articles[ann.article].article
        before = old.get(ann.id)
        if not isinstance(before, dict) or old_articles.get(ann.article) in (None, body_hash(article.body)):
            continue
        if before.get("article") != ann.article:
            continue
        where = ann.quote_location
        was, now = str(before.get("exact", "")).split(), anc.exact.split()
        moved = f" (line {before.get('line')} → {anc.line})" if before.get("line") != anc.line else ""
        if was != now:
            change = describe_difference(now, was, now).replace("the quote", "it used to")
            out.append(notice(where, f"{article.location.path} changed under annotation '{ann.id}': {change}{moved}",
                              "re-read the note against the article's new words"))
        elif _words(before.get("prefix")) != _words(anc.prefix) or _words(before.get("suffix")) != _words(anc.suffix) or moved:
            out.append(notice(where, f"{article.location.path} changed around annotation '{ann.id}'{moved}",
                              "re-read the note: the text around its quote is different"))
    return out


def read_lock(source: Path) -> dict:
    try:
        return json.loads((source / LOCK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_lock(source: Path, dossier: Dossier) -> bool:
    """Rewrite the lock if it changed; False when the folder is not writable."""
    text = json.dumps(fingerprints(dossier), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    path = source / LOCK_FILE
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return True
        path.write_text(text, encoding="utf-8")
        return True
    except OSError:
        return False


def _words(text: object) -> list[str]:
    return str(text or "").split()
