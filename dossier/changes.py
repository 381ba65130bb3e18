"""`diff BASE`: what a change does to the dossier — annotations, verdicts, articles, entities,
events, references and claims added, removed or changed — against a git ref or a folder."""
from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .model import Dossier
from .site import Config, check


@dataclass(frozen=True)
class Change:
    kind: str
    """`annotation`, `article`, `entity`, `event`, `reference`, `claim`, `source`."""
    id: str
    sign: str
    """`+` added, `-` removed, `~` changed."""
    detail: str


def compare(old: Dossier, new: Dossier) -> list[Change]:
    """Every difference between two dossiers that a reader would notice, in a stable order."""
    changes: list[Change] = []
    old_anchors, new_anchors = old.anchors, new.anchors
    for ann_id in sorted(set(old_anchors) | set(new_anchors)):
        before, after = old_anchors.get(ann_id), new_anchors.get(ann_id)
        if before is None:
            a = after.annotation
            changes.append(Change("annotation", ann_id, "+", f"{a.article}: {_label(a)} on “{_short(after.exact)}”"))
        elif after is None:
            changes.append(Change("annotation", ann_id, "-", f"{before.annotation.article}: {_label(before.annotation)}"))
        else:
            details = []
            a, b = before.annotation, after.annotation
            if _label(a) != _label(b):
                details.append(f"{_label(a)} → {_label(b)}")
            if before.exact != after.exact:
                details.append(f"quote “{_short(before.exact)}” → “{_short(after.exact)}”")
            if a.note != b.note:
                details.append("note changed")
            if a.cite != b.cite:
                details.append(f"cites {', '.join(a.cite) or 'nothing'} → {', '.join(b.cite) or 'nothing'}")
            if details:
                changes.append(Change("annotation", ann_id, "~", "; ".join(details)))
    for kind, before, after, describe in (
            ("article", {k: r.article for k, r in old.articles.items()}, {k: r.article for k, r in new.articles.items()},
             lambda a: a.title),
            ("entity", old.entities, new.entities, lambda e: e.name),
            ("event", {e.id: e for e in old.events}, {e.id: e for e in new.events}, lambda e: f"{e.date} {e.title}"),
            ("reference", old.references, new.references, lambda r: r.title),
            ("claim", old.claims, new.claims, lambda c: f"{c.statement} ({c.verdict})"),
            ("source", old.sources, new.sources, lambda s: f"{s.name} ({s.rating})")):
        for key in sorted(set(before) | set(after)):
            if key not in before:
                changes.append(Change(kind, key, "+", describe(after[key])))
            elif key not in after:
                changes.append(Change(kind, key, "-", describe(before[key])))
            elif _content(before[key]) != _content(after[key]):
                was, now = describe(before[key]), describe(after[key])
                changes.append(Change(kind, key, "~", f"{was} → {now}" if was != now else "changed"))
    return changes


def _content(item) -> tuple:
    """An item's fields without where they are written (moving text is not a change)."""
    return tuple(getattr(item, name) for name in item.__slots__ if name not in ("location", "fields", "quote_location"))


def _label(annotation) -> str:
    return f"{annotation.kind} {annotation.verdict}" if annotation.verdict else annotation.kind


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def checkout(base: str, source: Path, into: Path) -> Path | None:
    """The dossier as it was at `base`: a folder as is, or a git ref exported into `into`."""
    if Path(base).is_dir():
        return Path(base)
    top = subprocess.run(["git", "-C", str(source), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if top.returncode != 0:
        return None
    prefix = source.resolve().relative_to(Path(top.stdout.strip()).resolve()).as_posix()
    archive = subprocess.run(["git", "-C", str(source), "archive", "--format=tar", base, "--", "."],
                             capture_output=True)
    if archive.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / prefix if prefix != "." else into


def run_diff(args) -> int:
    with tempfile.TemporaryDirectory(prefix="dossier-diff-") as tmp:
        base = checkout(args.base, args.source, Path(tmp))
        if base is None:
            print(f"error: '{args.base}' is neither a folder nor a git ref of {args.source} "
                  "(give a branch, tag or commit, e.g. origin/main, or a dossier folder)", file=sys.stderr)
            return 1
        old, old_problems = check(Config(source=base))
        new, new_problems = check(Config(source=args.source))
    if old is None or new is None:
        which = "the base" if old is None else "the current dossier"
        problems = old_problems if old is None else new_problems
        print(f"error: {which} has errors; run `python build.py check` on it first", file=sys.stderr)
        for d in problems[:10]:
            print("  " + d.format(), file=sys.stderr)
        return 1
    changes = compare(old, new)
    if not changes:
        print(f"no changes against {args.base}")
        return 0
    for kind in ("annotation", "article", "claim", "entity", "event", "reference", "source"):
        group = [c for c in changes if c.kind == kind]
        if not group:
            continue
        counts = {sign: sum(c.sign == sign for c in group) for sign in "+-~"}
        plural = "entities" if kind == "entity" else kind + "s"
        print(f"{plural}: {counts['+']} added, {counts['-']} removed, {counts['~']} changed")
        for change in group:
            print(f"  {change.sign} {change.id}: {change.detail}")
    return 0
