"""The whole build on one screen: load → validate → resolve → render → write."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from . import drift, urls
from .diagnostics import Diagnostic, Location, error, has_errors, sort_diagnostics
from .load import load_dossier
from .model import Dossier
from .render import BUILTIN_LAYOUTS, TemplateProblem, make_environment, plan_pages, render_page
from .resolve import resolve
from .search import index_site
from .validate import validate
from .write import OutputError, OutputFiles, guard_output, write_site


@dataclass(frozen=True)
class Config:
    source: Path = Path(".")
    """The dossier folder: content/, annotations.yaml and, optionally, layouts/."""
    out: Path = Path("public")
    base_url: str | None = None
    """Overrides site.base_url (e.g. the Pages URL in CI)."""
    strict: bool = False
    """Treat warnings as errors."""
    search: bool = True
    """Build the Pagefind search index."""


@dataclass(frozen=True)
class BuildResult:
    dossier: Dossier | None
    diagnostics: list[Diagnostic]
    pages: int = 0
    """HTML pages written; 0 when the build failed."""

    @property
    def ok(self) -> bool:
        return self.dossier is not None and self.pages > 0


def check(config: Config) -> tuple[Dossier | None, list[Diagnostic]]:
    """Load, validate and resolve; the dossier is None when there are errors."""
    raw, diagnostics = load_dossier(config.source)                  # files → documents with positions
    inputs, problems = validate(raw)                                # schema, dates, cross-references
    diagnostics += problems
    if config.base_url:
        site = dataclasses.replace(inputs.annotations.site, base_url=config.base_url.rstrip("/") + "/")
        inputs = dataclasses.replace(inputs, annotations=dataclasses.replace(inputs.annotations, site=site))
    dossier, problems = resolve(inputs)                             # anchors, mentions, backlinks
    problems += drift.compare(drift.read_lock(config.source), dossier)  # what moved since the lock
    diagnostics = sort_diagnostics(diagnostics + problems)
    return (None if has_errors(diagnostics, config.strict) else dossier), diagnostics


def layout_dirs(config: Config) -> list[Path]:
    """The dossier's own layouts/ first, then the built-in ones."""
    own = (config.source / "layouts").resolve()
    return [own, BUILTIN_LAYOUTS] if own != BUILTIN_LAYOUTS else [BUILTIN_LAYOUTS]


def render_site(dossier: Dossier, config: Config) -> OutputFiles:
    """Every output file of the site, in memory."""
    env = make_environment(layout_dirs(config))
    files = OutputFiles()
    for page in plan_pages(dossier):
        files.add(urls.output_path(page.url), render_page(env, dossier, page))
    files.add(".nojekyll", "")
    files.add("robots.txt", f"User-agent: *\nAllow: /\nSitemap: {urls.absolute(dossier.site.base_url, 'sitemap.xml')}\n")
    return files


def build(config: Config) -> BuildResult:
    """Check, render and atomically write the site to config.out."""
    dossier, diagnostics = check(config)
    if dossier is None:
        return BuildResult(None, diagnostics)
    try:
        guard_output(config.out, config.source)
        files = render_site(dossier, config)                        # pages → HTML, feeds, data
        static = [d / "static" for d in reversed(layout_dirs(config))]
        write_site(files, static, config.out,                       # temp folder, index, then swap
                   finish=index_site if config.search else None)
    except TemplateProblem as problem:
        return BuildResult(None, diagnostics + [problem.diagnostic])
    except OutputError as exc:
        return BuildResult(None, diagnostics + [error(Location(str(config.out)), str(exc))])
    drift.write_lock(config.source, dossier)                        # fingerprints for the next check
    pages = sum(1 for path in files.files if path.endswith(".html"))
    return BuildResult(dossier, diagnostics, pages)
