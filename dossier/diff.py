"""`diff BASE`, the command: locate and load the two versions (snapshot.py, which runs git and
reads the files), compare them (changes.py), print the problems on stderr and the report
(report.py) on stdout, and exit: the edge; changes.py and report.py stay pure."""
from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from pathlib import Path

from .changes import compare
from .diagnostics import Diagnostic, has_errors
from .load import ANNOTATIONS_FILE
from .render import TemplateProblem
from .report import Report, against, render_markdown, render_stop
from .snapshot import Stop, load_version, locate_base, page_digests

UNRESOLVED = "no quote positions, no pages"
"""What is not compared when a side does not resolve."""


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
    changes, problems = compare(old, new, located.date)
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
