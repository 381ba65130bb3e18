"""`diff BASE`: what a change does to the dossier, resolved — annotations, verdicts, quotes,
claims, entities, relations, events, references, sources, articles and pages added, removed
or changed — against a git ref or a folder.

compare() is pure: two versions of a dossier in, the changes and the problems out (an edited
article body, a verdict changed without a corrections-log entry, a new update dated before
the base). snapshot.py reads the two versions, report.py turns the changes into Markdown, and
diff.py is the command that reads, compares, prints and exits.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .diagnostics import Diagnostic, Location, error, sort_diagnostics, warning
from .model import Anchor, Article, PartialDate, Update

if TYPE_CHECKING:  # the two versions are plain data; how they are read is snapshot.py's business
    from .snapshot import Version

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
class Cited:
    """A reference an item cites, as the report names it."""

    id: str
    title: str | None
    """None when no reference has this id."""
    url: str | None = None
    """Where it can be read: its `url`, else its `archive` copy; None when it has neither."""


@dataclass(frozen=True)
class FieldChange:
    name: str
    """The field, or `anchor` (where the quote matched) or `body` (an article's text)."""
    old: Any
    """Plain values: text, ids, a tuple of them, ISO dates, (date, summary) updates, a Spot, a BodyEdit."""
    new: Any
    cited: tuple[Cited, ...] = ()
    """For a new verdict: the references the item now cites, the evidence the verdict rests on."""


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

def compare(old: Version, new: Version, base_date: PartialDate | None = None) -> tuple[list[Change], list[Diagnostic]]:
    """Every difference a reader would notice, in report order, and the problems of the change:
    an article body edited (a warning: evidence is immutable), a verdict changed without a new
    `updates` entry (an error) and, when the base is a commit made on `base_date`, a new update
    dated before it (a warning)."""
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
                if base_date:
                    problems += _stale_updates(section, key, was, now, base_date)
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
            cited = tuple(_cited(ref, new) for ref in now.cite) if name == "verdict" and now.verdict else ()
            fields.append(FieldChange(name, _value(was, name), _value(now, name), cited))
    return tuple(fields)


def _cited(ref: str, version: Version) -> Cited:
    reference = version.annotations.references.get(ref)
    if reference is None:
        return Cited(ref, None)
    return Cited(ref, reference.title, reference.url or reference.archive)


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


def _stale_updates(section: str, key: str, was: Any, now: Any, base_date: PartialDate) -> list[Diagnostic]:
    """New entries of the corrections log dated before the base commit: the change is newer
    than that, so such a date was copied, not written on the day."""
    what = "annotation" if section == "annotations" else "claim"
    return [warning(update.location, f"the new update of {what} '{key}' is dated {update.date}, before the base "
                                     f"commit ({base_date})", "date it the day of the change")
            for update in _new_updates(was.updates, now.updates) if update.date.last < base_date.first]


def _new_updates(old: tuple[Update, ...], new: tuple[Update, ...]) -> list[Update]:
    """The entries of `new` that `old` does not have. An old entry reworded (the same date, a
    new summary) is not new: as many of those are set aside as the log did not grow by."""
    left = [(u.date, u.summary) for u in old]
    unmatched = []
    for update in new:
        if (update.date, update.summary) in left:
            left.remove((update.date, update.summary))
        else:
            unmatched.append(update)
    old_dates = [u.date for u in old]
    surplus = len(unmatched) - max(0, len(new) - len(old))
    for update in list(unmatched):
        if surplus > 0 and update.date in old_dates:
            unmatched.remove(update)
            old_dates.remove(update.date)
            surplus -= 1
    return unmatched


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
