"""The two sides of `diff`: the dossier as it is in a folder or was at a git ref, loaded
(resolved when it builds) and its pages rendered into digests, without writing anything."""
from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .diagnostics import Diagnostic, did_you_mean
from .load import ANNOTATIONS_FILE, ARTICLES_DIR, load_dossier
from .model import Anchor, Annotations, Article, Dossier, Inputs, PartialDate
from .parallel import map_chunks
from .render import plan_pages, render_page
from .site import Config, check, layout_dirs
from .templates import environment as _environment
from .validate import validate

DOSSIER_PATHS = (ANNOTATIONS_FILE, "content", "layouts")
"""What a dossier is made of: all that is read of the base at a git ref."""
REFS_NAMED = 8
"""Branches (and tags) an unknown ref's error names; the rest are counted."""


@dataclass(frozen=True)
class Version:
    """One side of the comparison: what could be loaded of one copy of the dossier."""

    annotations: Annotations
    articles: dict[str, Article]
    anchors: dict[str, Anchor] | None = None
    """Where each quote anchored, by annotation id; None when the dossier did not resolve."""
    texts: dict[str, str] | None = None
    """Each article's rendered plain text (what quotes anchor in); None when not resolved."""
    pages: dict[str, str] | None = None
    """Site-relative URL → digest of the page's HTML; None when the pages were not rendered."""


def version_of(dossier: Dossier) -> Version:
    """The comparable content of a resolved dossier."""
    annotations = Annotations(dossier.site, dossier.sources, dossier.entities, dossier.references, dossier.events,
                              dossier.claims, tuple(anchor.annotation for anchor in dossier.anchors.values()),
                              dossier.assessments)
    return Version(annotations, {slug: r.article for slug, r in dossier.articles.items()}, dossier.anchors,
                   {slug: r.text for slug, r in dossier.articles.items()})


def version_of_inputs(inputs: Inputs) -> Version:
    """What can be compared of a dossier that does not resolve: no quote positions, no pages."""
    return Version(inputs.annotations, inputs.articles)


class Stop(Exception):
    """diff cannot compare: the base is unknown or not a dossier, or a side cannot be loaded."""

    def __init__(self, message: str, details: list[Diagnostic] | None = None, base: Base | None = None):
        super().__init__(message)
        self.details = details or []
        self.base = base
        """The base, when it was found before diff had to stop."""


@dataclass(frozen=True)
class Base:
    """What `diff` compares with, once located."""

    name: str
    """As given on the command line."""
    folder: Path
    """Where its files are: the folder itself, or the files of the git ref exported."""
    commit: str | None = None
    """For a git ref, the commit it names (abbreviated); None for a folder."""
    shadowed: bool = False
    """For a git ref, whether a folder of the same name exists (and was not used)."""
    date: PartialDate | None = None
    """For a git ref, the day its commit was made (committer date); None for a folder."""


def locate_base(base: str, source: Path, into: Path) -> Base:
    """What `base` names. A git ref always wins: the dossier files of `source` at that commit
    are exported into `into` with git alone (the work tree and the index are not touched).
    Only a name that is no ref is taken as a folder, and never one inside the dossier being
    compared: a pull request could commit a folder named like the base branch (`origin/main/`)
    holding a copy of itself, and the review would compare it with itself."""
    top = _git(source, "rev-parse", "--show-toplevel")
    commit = None
    if top is not None:
        commit = _git(source, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{base}^{{commit}}")
    if commit is not None:
        _export(base, commit, source, Path(top), into)
        short = _git(source, "rev-parse", "--short", commit) or commit[:7]
        return Base(base, into, short, Path(base).is_dir(), _commit_date(source, commit))
    if Path(base).is_dir():
        folder = Path(base)
        if _within(folder, source):
            what = f"is the dossier being compared ({source})" if _within(source, folder) else \
                f"is inside the dossier being compared ({source}): a change could bring its own copy there"
            raise Stop(f"'{base}' is no git ref, and the folder {base} {what} (give a git ref, e.g. "
                       "origin/main, or a folder outside the dossier; in a shallow clone, fetch the base first, "
                       "e.g. git fetch origin main)")
        if not _is_dossier(folder):
            raise Stop(f"{base} is not a dossier (no {ANNOTATIONS_FILE} or {ARTICLES_DIR}/)")
        return Base(base, folder)
    if top is None:
        raise Stop(f"'{base}' is not a folder, and {source} is not in a git repository "
                   "(give a dossier folder to compare against, or run diff in a git clone)")
    local, remote, tags, default = _refs(source)
    branches = local + remote
    close = did_you_mean(base, branches + tags)
    known = f"known branches: {_listed(branches)}" if branches else "no branches"
    known += f"; tags: {_listed(tags)}" if tags else ""
    example = default or next((b for b in local if b in ("main", "master")), (local or ["origin/main"])[0])
    fetch = example.split("/", 1)[1] if example in remote or not branches else example
    if not branches and not tags:
        raise Stop(f"'{base}' is neither a folder nor a commit of the git repository at {source}; the repository has "
                   "no commits yet (commit the dossier first, then compare against that commit, or give a dossier "
                   "folder)")
    raise Stop(f"'{base}' is neither a folder nor a commit of the git repository at {source}; {known} "
               f"({close + ' ' if close else ''}give a branch, tag or commit, e.g. {example} or HEAD~1, or a "
               f"dossier folder; in a shallow clone, fetch the base first, e.g. git fetch origin {fetch})")


def _refs(source: Path) -> tuple[list[str], list[str], list[str], str | None]:
    """The local branches, remote branches and tags of the repository at `source`, by short
    name, and the remote branch a clone's `origin/HEAD` names (the branch the remote starts on)."""
    listing = _git(source, "for-each-ref", "--format=%(refname) %(symref)", "refs/heads", "refs/remotes",
                   "refs/tags") or ""
    local, remote, tags, default = [], [], [], None
    for line in listing.splitlines():
        ref, _, target = line.partition(" ")
        if ref.startswith("refs/heads/"):
            local.append(ref.removeprefix("refs/heads/"))
        elif ref.startswith("refs/tags/"):
            tags.append(ref.removeprefix("refs/tags/"))
        elif ref.endswith("/HEAD"):  # not a branch: it points at one
            default = default or target.removeprefix("refs/remotes/") or None
        else:
            remote.append(ref.removeprefix("refs/remotes/"))
    return local, remote, tags, default if default in remote else None


def _listed(names: list[str]) -> str:
    more = len(names) - REFS_NAMED
    return ", ".join(names[:REFS_NAMED]) + (f" and {more} more" if more > 0 else "")


def _commit_date(source: Path, commit: str) -> PartialDate | None:
    """The day `commit` was committed, as its committer's clock said."""
    day = _git(source, "show", "-s", "--format=%cs", commit) or ""
    year, _, rest = day.partition("-")
    month, _, date = rest.partition("-")
    return PartialDate(int(year), int(month), int(date)) if (year + month + date).isdigit() else None


def _export(base: str, commit: str, source: Path, root: Path, into: Path) -> None:
    """The dossier files of `source` at `commit`, written into `into`."""
    prefix = _git(source, "rev-parse", "--show-prefix") or ""
    listing = _git(root, "ls-tree", "-r", "-z", commit, "--", *(prefix + p for p in DOSSIER_PATHS), text=False) or b""
    blobs = []
    for entry in listing.split(b"\0"):
        meta, _, path = entry.partition(b"\t")
        if meta.split(b" ")[1:2] == [b"blob"] and not meta.startswith(b"120000"):  # no symlinks, no submodules
            relative = path.decode("utf-8", "surrogateescape")[len(prefix):]
            if ".." not in relative.split("/"):
                blobs.append((relative, meta.split(b" ")[2]))
    contents = subprocess.run(["git", "-C", str(root), "cat-file", "--batch"],
                              input=b"".join(oid + b"\n" for _, oid in blobs), capture_output=True, check=True).stdout
    at = 0
    for relative, _ in blobs:
        header_end = contents.index(b"\n", at)
        size = int(contents[at:header_end].split(b" ")[2])
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(contents[header_end + 1:header_end + 1 + size])
        at = header_end + 1 + size + 1
    if not _is_dossier(into):
        raise Stop(f"at {base}, {source} is not a dossier (no {ANNOTATIONS_FILE} or {ARTICLES_DIR}/)")


def _within(folder: Path, dossier: Path) -> bool:
    """Whether `folder` is `dossier` or inside it, by the paths as written or with every
    symlink resolved (a link inside the dossier may point anywhere)."""
    folders = {Path(os.path.abspath(folder)), folder.resolve()}
    dossiers = {Path(os.path.abspath(dossier)), dossier.resolve()}
    return any(f == d or d in f.parents for f in folders for d in dossiers)


def _is_dossier(folder: Path) -> bool:
    return (folder / ANNOTATIONS_FILE).is_file() or (folder / ARTICLES_DIR).is_dir()


def _git(where: Path, *args: str, text: bool = True):
    """git's output (stripped text, or bytes), or None when it fails."""
    run = subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=text)
    if run.returncode != 0:
        return None
    return run.stdout.strip() if text else run.stdout


def load_version(source: Path) -> tuple[Version | None, Dossier | None, list[Diagnostic]]:
    """One side: resolved if it builds, else what validates of it; no Version when even its
    annotations.yaml cannot be read, as then nothing would compare meaningfully."""
    dossier, diagnostics = check(Config(source=source))
    if dossier is not None:
        return version_of(dossier), dossier, diagnostics
    raw, _ = load_dossier(source)
    if raw.annotations is None or not isinstance(raw.annotations.value, (dict, type(None))):
        return None, None, diagnostics
    inputs, _ = validate(raw)
    return version_of_inputs(inputs), None, diagnostics


def page_digests(dossier: Dossier, source: Path) -> dict[str, str]:
    """Site-relative URL → SHA-256 of each HTML page as the build renders it (no search index,
    nothing written)."""
    layouts = tuple(layout_dirs(Config(source=source)))
    return dict(map_chunks(_digest_pages, plan_pages(dossier), (dossier, layouts)))


def _digest_pages(shared: tuple, pages: list) -> list[tuple[str, str]]:
    dossier, layouts = shared
    env = _environment(layouts)
    return [(page.url, hashlib.sha256(render_page(env, dossier, page).encode("utf-8")).hexdigest()) for page in pages]
