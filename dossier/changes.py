"""`diff BASE`: what a change does to the dossier, resolved — annotations, verdicts, quotes,
claims, entities, relations, events, references, sources, articles and pages added, removed
or changed — against a git ref or a folder.

compare() is pure: two versions of a dossier in, the changes and the problems out (an edited
article body, a verdict changed without a corrections-log entry); report.py turns them into
Markdown; snapshot.py reads the two versions. run_diff() is the edge: it reads, compares,
prints and exits.
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, Location, error, has_errors, sort_diagnostics, warning
from .load import ANNOTATIONS_FILE
from .model import Anchor, Article, PartialDate
from .render import TemplateProblem
from .report import Report, against, render_markdown, render_stop
from .snapshot import Stop, Version, load_version, locate_base, page_digests

SECTIONS: dict[str, tuple[str, ...]] = {
    "annotations": ("article", "field", "kind", "verdict", "quote", "prefix", "suffix", "anchor", "claim", "note", "cite",
                    "entities", "updates"),
    "claims": ("statement", "verdict", "key", "note", "cite", "entities", "updates"),
    "articles": ("title", "source", "kind", "url", "author", "published", "retrieved", "republishes", "body"),
    "assessments": ("summary", "updated"),
    "entities": ("name", "type", "aliases", "summary", "wikidata"),
    "relations": ("since", "until", "share", "note", "cite"),
    "events": ("date", "title", "summary", "entities", "cite"),
    "references": ("title", "publisher", "author", "url", "date", "accessed", "archive", "quote", "note"),
    "sources": ("name", "rating", "rationale", "url", "disclosures"),
    "site": ("title", "base_url", "language", "description", "summary", "published"),
    "pages": (),
}
"""Each section of the report and the fields compared in it, in report order."""
SIGNS = "+-~"
UNRESOLVED = "no quote positions, no pages"
"""What is not compared when a side does not resolve."""


@dataclass(frozen=True)
class Spot:
    """Where a quote anchored: the file line, the matched words and a few words around them."""

    line: int
    exact: str
    before: str
    after: str
    field: str = "body"
    """`title` when the quote anchored in the article's title."""


@dataclass(frozen=True)
class BodyEdit:
    """The first changed passage of an article body."""

    line: int
    """Line of the new file where the passage starts."""
    old: str
    """The passage as it was, with a few words around it, whitespace squashed."""
    new: str
    passages: int
    """How many separate passages changed."""


@dataclass(frozen=True)
class FieldChange:
    name: str
    """The field, or `anchor` (where the quote matched) or `body` (an article's text)."""
    old: Any
    """Plain values: text, ids, a tuple of them, ISO dates, (date, summary) updates, a Spot, a BodyEdit."""
    new: Any


@dataclass(frozen=True)
class Change:
    section: str
    """A key of SECTIONS."""
    id: str
    sign: str
    """`+` added, `-` removed, `~` changed."""
    item: Any = None
    """The item as it is (as it was, when removed); for relations (owner id, Relation)."""
    fields: tuple[FieldChange, ...] = ()
    """What changed, for `~`."""


# ---- comparing ----------------------------------------------------------------------------

def compare(old: Version, new: Version) -> tuple[list[Change], list[Diagnostic]]:
    """Every difference a reader would notice, in report order, and the problems of the change:
    an article body edited (a warning: evidence is immutable) and a verdict changed without a
    new `updates` entry (an error)."""
    changes: list[Change] = []
    problems: list[Diagnostic] = []
    before, after = _sections(old), _sections(new)
    for section in SECTIONS:
        if section == "pages":
            changes += _page_changes(old.pages, new.pages)
            continue
        for key in sorted(set(before[section]) | set(after[section])):
            was, now = before[section].get(key), after[section].get(key)
            if now is None or was is None:
                owner = (was or now)[0] if section == "relations" else None
                if owner is None or (owner in before["entities"] and owner in after["entities"]):
                    changes.append(Change(section, key, "-" if now is None else "+", was or now))
                continue
            fields = _field_changes(section, was, now, old, new)
            if fields:
                changes.append(Change(section, key, "~", now, fields))
            if section in ("annotations", "claims"):
                problems += _verdict_problem(section, key, was, now)
            if section == "articles" and was.body != now.body:
                problems.append(_evidence_problem(now, next(f.new for f in fields if f.name == "body")))
    order = {section: i for i, section in enumerate(SECTIONS)}
    changes.sort(key=lambda c: (order[c.section], SIGNS.index(c.sign), c.id))
    return changes, sort_diagnostics(problems)


def _sections(v: Version) -> dict[str, dict[str, Any]]:
    """Each section's items by id (relations by owner, type, target and, when repeated, number)."""
    a = v.annotations
    relations: dict[str, tuple] = {}
    for owner_id, entity in a.entities.items():
        for relation in entity.relations:
            key = f"{owner_id} {relation.type} {relation.target}"
            n = 1
            while (f"{key} {n}" if n > 1 else key) in relations:
                n += 1
            relations[f"{key} {n}" if n > 1 else key] = (owner_id, relation)
    return {"annotations": {ann.id: ann for ann in a.annotations}, "claims": a.claims, "articles": v.articles,
            "assessments": a.assessments,
            "entities": a.entities, "relations": relations, "events": {e.id: e for e in a.events},
            "references": a.references, "sources": a.sources, "site": {"site": a.site}}


def _field_changes(section: str, was: Any, now: Any, old: Version, new: Version) -> tuple[FieldChange, ...]:
    if section == "relations":
        was, now = was[1], now[1]
    fields = []
    for name in SECTIONS[section]:
        if name == "anchor":
            moved = _moved(was.id, old, new)
            if moved:
                fields.append(FieldChange(name, *moved))
        elif name == "body":
            if was.body != now.body:
                fields.append(FieldChange(name, None, body_edit(was, now)))
        elif _value(was, name) != _value(now, name):
            fields.append(FieldChange(name, _value(was, name), _value(now, name)))
    return tuple(fields)


def _value(item: Any, name: str) -> Any:
    value = getattr(item, name, None)
    if isinstance(value, PartialDate):
        return value.iso
    if name == "updates":
        return tuple((u.date.iso, u.summary) for u in value)
    return value


def _moved(annotation_id: str, old: Version, new: Version) -> tuple[Spot, Spot] | None:
    """Where the quote anchored before and now, if it now matches other words, another
    occurrence of them, or the same words in the title instead of the body or the other way
    round (lines shifted by an edit above do not count: the edit is reported)."""
    if old.anchors is None or new.anchors is None:
        return None
    was, now = old.anchors.get(annotation_id), new.anchors.get(annotation_id)
    if was is None or now is None:
        return None
    if (was.annotation.article, was.annotation.field, _squash(was.exact), _occurrence(was, old)) == \
            (now.annotation.article, now.annotation.field, _squash(now.exact), _occurrence(now, new)):
        return None
    return _spot(was), _spot(now)


def _occurrence(anchor: Anchor, version: Version) -> int:
    """Which occurrence of its words the quote matched: 0 for the first."""
    slug = anchor.annotation.article
    text = version.articles[slug].title if anchor.annotation.field == "title" else version.texts[slug]
    return text.count(anchor.exact, 0, anchor.span.start)


def _spot(anchor: Anchor) -> Spot:
    before, after = anchor.prefix.split(), anchor.suffix.split()
    cut_before = len(before) > 4 or len(anchor.prefix) >= 32  # the text goes on: say so
    cut_after = len(after) > 4 or len(anchor.suffix) >= 32
    space_before = " " if anchor.prefix[-1:].isspace() else ""  # "said **final**" but "**final**."
    space_after = " " if anchor.suffix[:1].isspace() else ""
    return Spot(anchor.line, _squash(anchor.exact), "…" * cut_before + " ".join(before[-4:]) + space_before,
                space_after + " ".join(after[:4]) + "…" * cut_after, anchor.annotation.field)


def _verdict_problem(section: str, key: str, was: Any, now: Any) -> list[Diagnostic]:
    """A verdict that changed needs a new entry in the item's corrections log."""
    if was.verdict is None or was.verdict == now.verdict:
        return []
    old_dates = {u.date for u in was.updates}
    if len(now.updates) > len(was.updates) or any(u.date not in old_dates for u in now.updates):
        return []
    what = "annotation" if section == "annotations" else "claim"
    change = f"changed from '{was.verdict}' to '{now.verdict}'" if now.verdict else f"'{was.verdict}' was removed"
    where = now.at("verdict") if now.verdict else now.at("kind")
    return [error(where, f"the verdict of {what} '{key}' {change} without a new entry under 'updates'",
                  "the corrections log must say why: add an entry under 'updates:', "
                  "e.g. {date: YYYY-MM-DD, summary: what changed and why}")]


def _evidence_problem(article: Article, edit: BodyEdit) -> Diagnostic:
    more = edit.passages - 1
    also = f" (and {more} more passage{'s' * (more != 1)})" if more else ""
    if edit.old == edit.new:
        what = "its spacing or line breaks"
    else:
        what = f"“{edit.old}” → “{edit.new}”"
    return warning(Location(article.location.path, edit.line),
                   f"evidence is immutable, but the body of article '{article.slug}' changed: {what}{also}",
                   "restore the article's text; say what is wrong in annotations.yaml instead")


def body_edit(old: Article, new: Article) -> BodyEdit:
    """The first passage where `new.body` differs from `old.body`, with a few words around it."""
    a, b = old.body.split("\n"), new.body.split("\n")
    hunks = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if op[0] != "equal"]
    _, i1, i2, j1, j2 = hunks[0]
    start, end_a, end_b = _offset(a, i1), _offset(a, i2), _offset(b, j2)  # the lines before are the same
    was, now = old.body[start:end_a], new.body[start:end_b]
    same = len(os.path.commonprefix([was, now]))
    tail = len(os.path.commonprefix([was[same:][::-1], now[same:][::-1]]))
    begin = start + same
    while begin > 0 and not old.body[begin - 1].isspace():  # whole words only
        begin -= 1
    lead = old.body[:begin].split()[-4:]
    excerpts = []
    for text, end in ((old.body, end_a - tail), (new.body, end_b - tail)):
        while end < len(text) and not text[end].isspace():
            end += 1
        words = lead + text[begin:end].split() + text[end:].split(maxsplit=4)[:4]
        excerpts.append(_short(" ".join(words), 120))
    line = new.body_line + new.body.count("\n", 0, begin)
    return BodyEdit(line, excerpts[0], excerpts[1], len(hunks))


def _offset(lines: list[str], index: int) -> int:
    """Character offset of line `index` in "\\n".join(lines) (the end, past the last line)."""
    return min(sum(len(line) + 1 for line in lines[:index]), len("\n".join(lines)))


def _page_changes(old: dict[str, str] | None, new: dict[str, str] | None) -> list[Change]:
    if old is None or new is None:
        return []
    return [Change("pages", url, "+" if url not in old else "-" if url not in new else "~")
            for url in sorted(set(old) | set(new)) if old.get(url) != new.get(url)]


def _squash(text: str) -> str:
    return " ".join(text.split())


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


# ---- the command ----------------------------------------------------------------------------

def run_diff(args) -> int:
    """Compare the dossier at --source with BASE: the report on stdout (and in the GitHub job
    summary), the problems on stderr as file:line lines; 1 on an error."""
    try:
        with tempfile.TemporaryDirectory(prefix="dossier-diff-") as tmp:
            report = _compare_with_base(args.base, args.source, Path(tmp))
    except Stop as stop:
        commit = stop.base.commit if stop.base else None
        if stop.base:
            print(f"diff against {against(args.base, commit, markdown=False)}", file=sys.stderr)
        for d in stop.details:
            print(d.format(), file=sys.stderr)
        print(f"error: {stop}", file=sys.stderr)
        _append_summary(render_stop(args.base, str(stop), stop.details, stop.base is not None, commit))
        return 1
    print(f"diff against {against(report.base, report.commit, markdown=False)}", file=sys.stderr)
    if args.strict:  # an edited article body fails too
        report = dataclasses.replace(report, problems=[_promoted(d) for d in report.problems])
    for who, errors, missing in report.broken:
        shown = errors if who == "the dossier" else errors[:5]  # the base's: only enough to see why
        for d in shown:
            print(d.format(), file=sys.stderr)
        first = f" (the first {len(shown)} above)" if len(shown) < len(errors) else ""
        print(f"error: {who} does not build: {_count(errors, 'error')}{first}; compared only what could be "
              f"loaded ({missing})", file=sys.stderr)
    for d in report.problems:
        print(d.format(), file=sys.stderr)
    if report.problems:
        print(f"{_count(_errors(report.problems), 'error')}, "
              f"{_count([d for d in report.problems if d.level == 'warning'], 'warning')}", file=sys.stderr)
    if os.environ.get("GITHUB_ACTIONS") == "true":  # the problems on the pull request's diff too
        for d in report.problems:
            print(d.github())
    markdown = render_markdown(report)
    print(markdown, end="")
    _append_summary(markdown)
    return 1 if report.broken or has_errors(report.problems) else 0


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'s' * (len(items) != 1)}"


def _compare_with_base(base_name: str, source: Path, tmp: Path):
    """Load both versions, render their pages when both build, and compare them."""
    located = locate_base(base_name, source, tmp)
    base = located.folder
    new, new_dossier, new_diagnostics = load_version(source)
    if new is None:
        raise Stop(f"the dossier at {source} cannot be read (fix its {ANNOTATIONS_FILE} first)",
                   _errors(new_diagnostics), located)
    old, old_dossier, old_diagnostics = load_version(base)
    if old is None:
        raise Stop(f"the base ({base_name}) does not build, and its {ANNOTATIONS_FILE} cannot be read, "
                   "so there is nothing to compare (compare against another ref)", _errors(old_diagnostics)[:5],
                   located)
    broken, notes = [], []
    if located.shadowed:
        notes.append(f"a folder named {base_name} exists too; it was not used: a git ref always comes first")
    if old_dossier is None:
        broken.append((f"the base ({base_name})", _errors(old_diagnostics), UNRESOLVED))
    if new_dossier is None:
        broken.append(("the dossier", _errors(new_diagnostics), UNRESOLVED))
    if old_dossier is not None and new_dossier is not None:
        try:
            new = dataclasses.replace(new, pages=page_digests(new_dossier, source))
        except TemplateProblem as problem:
            broken.append(("the dossier", [problem.diagnostic], "no pages"))
        else:
            try:
                old = dataclasses.replace(old, pages=page_digests(old_dossier, base))
            except TemplateProblem as problem:  # its templates predate this version of Dossier: use today's
                try:
                    old = dataclasses.replace(old, pages=page_digests(old_dossier, source))
                    notes.append("the base's templates do not render with this version of Dossier "
                                 f"({problem.diagnostic.format()}), so its pages were rendered with the current "
                                 "ones: template changes are not listed")
                except TemplateProblem:
                    notes.append(f"pages not compared: the base's templates do not render with this version of "
                                 f"Dossier ({problem.diagnostic.format()})")
    changes, problems = compare(old, new)
    return Report(base_name, changes, problems, broken, notes, located.commit)


def _errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.level == "error"]


def _promoted(d: Diagnostic) -> Diagnostic:
    return Diagnostic(d.location, "error", d.message, d.hint) if d.level == "warning" else d


def _append_summary(markdown: str) -> None:
    """In GitHub Actions, add the report to the job's summary page."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(markdown + "\n")
    except OSError as exc:
        print(f"warning: cannot append to GITHUB_STEP_SUMMARY ({path}): {exc.strerror or exc}", file=sys.stderr)
