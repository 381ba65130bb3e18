"""The `diff` report as Markdown: problems first, then a line of counts, then one section per
kind of item. Pure: the changes in, text out; how they were found is changes.py's business."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .diagnostics import Diagnostic

if TYPE_CHECKING:
    from .changes import Change, Cited, FieldChange

TITLES = {"annotations": "Annotations", "claims": "Claims", "articles": "Articles", "assessments": "Assessments",
          "entities": "Entities",
          "relations": "Relations", "events": "Events", "references": "References", "sources": "Sources",
          "site": "Site settings", "pages": "Pages"}
VERBS = {"+": "added", "-": "removed", "~": "changed"}
PAGE_LIST = 50
"""Pages listed per kind of change; the rest are counted."""

LABEL_FIELDS = {"verdict", "kind", "rating", "type", "field"}
"""Shown in bold, old → new."""
PROSE_FIELDS = {"note", "summary", "rationale", "description"}
"""Markdown paragraphs: shown as a word diff."""
SUMMARY_LIMIT = 80
"""Characters of text shown in the one-line summary of an added or removed item."""
CONTEXT_WORDS = 4
"""Unchanged words kept on each side of a change in a word diff; longer runs are cut with …."""
ID_FIELDS = {"article", "source", "claim", "republishes", "cite", "entities"}
CODE_FIELDS = {"url", "archive", "base_url", "wikidata", "language"}
DATE_FIELDS = {"date", "since", "until", "accessed", "published", "retrieved", "updated"}


@dataclass(frozen=True)
class Report:
    base: str
    """What the dossier was compared with, as given on the command line."""
    changes: list[Change]
    problems: list[Diagnostic]
    """Evidence edits and verdicts changed without an update."""
    broken: list[tuple[str, list[Diagnostic], str]]
    """(who, its errors, what could not be compared) for a side that does not build: `the base (REF)`
    or `the dossier`."""
    notes: list[str]
    """Plain-text remarks, e.g. why the pages were not compared."""
    commit: str | None = None
    """The commit the base names when it is a git ref (abbreviated); None when it is a folder."""


def against(base: str, commit: str | None, markdown: bool = True) -> str:
    """Which base was used, as the report says it: git ref `origin/main` (commit abc1234), or
    the folder `../other` (quoted with ' instead of ` for a terminal)."""
    name = _code(base) if markdown else f"'{base}'"
    return f"git ref {name} (commit {commit})" if commit else f"the folder {name}"


def render_markdown(report: Report) -> str:
    """The whole report, ending in a newline."""
    base = against(report.base, report.commit)
    lines = [f"## Dossier changes against {base}", ""]
    top = [_broken(*side) for side in report.broken]
    top += [_problem(d) for d in report.problems]
    top += [f"- **Note:** {_esc(note)}" for note in report.notes]
    if top:
        lines += top + [""]
    if not report.changes:
        return "\n".join(lines + [f"No changes against {base}.", ""])
    lines += [" · ".join(_counts(report.changes, section) for section in TITLES
                         if any(c.section == section for c in report.changes)), ""]
    for section, title in TITLES.items():
        group = [c for c in report.changes if c.section == section]
        if not group:
            continue
        if section == "pages":
            lines += ["### Pages whose output changes", ""] + _pages(group) + [""]
            continue
        lines += [f"### {title}", ""] + [_bullet(c) for c in group] + [""]
    return "\n".join(lines)


def render_stop(base: str, message: str, details: list[Diagnostic], located: bool = False,
                commit: str | None = None) -> str:
    """The report when there is nothing to compare: the reason, and the first problems; once
    the base was `located`, which it is (`commit` for a git ref, None for a folder)."""
    name = against(base, commit) if located else _code(base)
    lines = [f"## Dossier changes against {name}", "", f"- **Error:** {_esc(message)}"]
    lines += [f"  - {_code(str(d.location))}: {_esc(d.message)}" for d in details]
    return "\n".join(lines + [""])


def _broken(who: str, errors: list[Diagnostic], missing: str) -> str:
    count = f"{len(errors)} error{'s' * (len(errors) != 1)}"
    first = f", the first: {_code(str(errors[0].location))}: {_esc(errors[0].message)}" if errors else ""
    return (f"- **Error:** {_esc(who)} does not build ({count}{first}); "
            f"only what could be loaded is compared ({missing})")


def _problem(d: Diagnostic) -> str:
    hint = f" ({_esc(d.hint)})" if d.hint else ""
    return f"- **{d.level.capitalize()}:** {_code(str(d.location))}: {_esc(d.message)}{hint}"


def _counts(changes: list[Change], section: str) -> str:
    parts = []
    for sign, verb in VERBS.items():
        n = sum(c.section == section and c.sign == sign for c in changes)
        if n:
            parts.append(f"{n} {verb}")
    return f"{TITLES[section]}: {', '.join(parts)}"


def _pages(group: list[Change]) -> list[str]:
    lines = []
    for sign, verb in VERBS.items():
        urls = [_code("/" + c.id) for c in group if c.sign == sign]
        if urls:
            more = f", … and {len(urls) - PAGE_LIST} more" if len(urls) > PAGE_LIST else ""
            lines.append(f"- {verb}: {', '.join(urls[:PAGE_LIST])}{more}")
    return lines


# ---- one item --------------------------------------------------------------------------------

def _bullet(change: Change) -> str:
    what = _name(change)
    if change.sign == "~":
        return f"- changed {what}: " + "; ".join(_field(f) for f in change.fields)
    summary = _summary(change.section, change.item)
    return f"- {VERBS[change.sign]} {what}" + (f": {summary}" if summary else "")


def _name(change: Change) -> str:
    """The item's id, and where it is when that helps."""
    item = change.item
    if change.section == "annotations":
        return f"{_code(change.id)} in {_code(item.article)}"
    if change.section == "relations":
        owner, relation = item
        return f"{_code(owner)} → {_esc(relation.type)} → {_code(relation.target)}"
    return _code(change.id)


def _summary(section: str, item: Any) -> str:
    """What an added or removed item is, in a few words."""
    if section == "annotations":
        verdict = f" {_bold(item.verdict)}" if item.verdict else ""
        return f"{_esc(item.kind)}{verdict} on {_quoted(item.quote, SUMMARY_LIMIT)}"
    if section == "claims":
        return f"{_quoted(item.statement, SUMMARY_LIMIT)}, {_bold(item.verdict)}"
    if section == "articles":
        return f"{_quoted(item.title, SUMMARY_LIMIT)} ({_code(item.source)}, {_esc(item.kind)})"
    if section == "entities":
        return f"{_esc(item.name)} ({_esc(item.type)})"
    if section == "relations":
        relation = item[1]
        extra = [f"{name} {_value(name, getattr(relation, name))}" for name in ("since", "until", "share")
                 if getattr(relation, name)]
        return ", ".join(extra)
    if section == "events":
        return f"{item.date.iso} {_quoted(item.title, SUMMARY_LIMIT)}"
    if section == "references":
        return _quoted(item.title, SUMMARY_LIMIT)
    if section == "sources":
        return f"{_esc(item.name)} ({_bold(item.rating)})"
    if section == "assessments":
        return _quoted(item.summary)
    return ""


def _field(f: FieldChange) -> str:
    name, old, new = f.name, f.old, f.new
    if name == "anchor":
        where = f"within line {new.line}" if old.line == new.line else f"from line {old.line} to line {new.line}"
        if old.field != new.field:
            where = f"from the {old.field} (line {old.line}) to the {new.field} (line {new.line})"
        context = (_esc(new.before) + " " * new.before.endswith(" ") + _bold(_short(new.exact, 60))
                   + " " * new.after.startswith(" ") + _esc(new.after))
        return f"quote re-anchored {where} (now “{context}”)"
    if name == "body":
        return f"body text changed at line {new.line} (evidence is immutable: see above)"
    if name == "updates":
        added = [f"new update {date} {_quoted(summary)}" for date, summary in new if (date, summary) not in old]
        removed = [f"update {date} {_quoted(summary)} removed" for date, summary in old if (date, summary) not in new]
        return "; ".join(added + removed) or "updates reordered"
    if name in PROSE_FIELDS:
        if not old or not new:
            return f"{name} {'added' if not old else 'removed'}: {_quoted(new or old)}"
        if old.split() == new.split():
            return f"{name}: line breaks or spacing changed"
        return f"{name}: “{word_diff(old, new)}”"
    if name == "verdict" and new:
        evidence = ", ".join(_cited(c) for c in f.cited) or "no reference"
        return f"verdict {_value(name, old)} → {_value(name, new)}, citing {evidence}"
    if isinstance(new, tuple) or isinstance(old, tuple):
        old, new = old or (), new or ()
        parts = [f"+{_value(name, x)}" for x in new if x not in old]
        parts += [f"−{_value(name, x)}" for x in old if x not in new]
        return f"{name} {' '.join(parts)}" if parts else f"{name} reordered"
    return f"{name} {_value(name, old)} → {_value(name, new)}"


def word_diff(old: str, new: str, context: int = CONTEXT_WORDS) -> str:
    """`old` → `new` as one line of Markdown, word by word: ~~removed~~ **added**, with no more
    than `context` unchanged words on each side of a change (the rest become …)."""
    a, b = old.split(), new.split()
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    parts = []
    for n, (op, i1, i2, j1, j2) in enumerate(ops):
        if op == "equal":
            words = a[i1:i2]
            head = 0 if n == 0 else context  # the words right after the change before this run
            tail = 0 if n == len(ops) - 1 else context  # the words right before the next change
            if len(words) > head + tail:
                words = words[:head] + ["…"] + words[len(words) - tail:]
            parts.append(" ".join(w if w == "…" else _esc(w) for w in words))
            continue
        if i2 > i1:
            parts.append(f"~~{_esc(' '.join(a[i1:i2]))}~~")
        if j2 > j1:
            parts.append(f"**{_esc(' '.join(b[j1:j2]))}**")
    return " ".join(parts)


def _cited(cited: Cited) -> str:
    """A reference a verdict rests on: its id, its title and its URL, when it has one."""
    if cited.title is None:
        return f"{_code(cited.id)} (not under references)"
    url = f", <{quote(cited.url, safe=_URL_SAFE)}>" if cited.url else ""
    return f"{_code(cited.id)} ({_quoted(cited.title)}{url})"


_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"
"""What stays as it is in a URL written as a Markdown autolink (<, > and spaces are encoded)."""


def _value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "*none*"
    if name in LABEL_FIELDS:
        return _bold(value)
    if name in ID_FIELDS or name in CODE_FIELDS:
        return _code(value)
    if name in DATE_FIELDS:
        return str(value)
    return _quoted(value)


# ---- Markdown ------------------------------------------------------------------------------

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$])")


def _esc(text: Any) -> str:
    """Plain text on one line, with the characters Markdown (and GitHub's math) would read escaped."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _quoted(text: str, limit: int | None = None) -> str:
    """Text in quotation marks, on one line; cut at `limit` characters when one is given."""
    text = " ".join(text.split())
    return f"“{_esc(_short(text, limit) if limit else text)}”"


def _bold(text: str) -> str:
    return f"**{_esc(text)}**"


def _code(text: str) -> str:
    text = " ".join(str(text).split())
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
