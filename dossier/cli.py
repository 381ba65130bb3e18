"""The command line: parse options, run a command, report, exit. No logic of its own."""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from .baseurl import HINT as BASE_URL_HINT, base_url_problem
from .diagnostics import Diagnostic, Location, error, has_errors
from .interrupt import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, handle_sigterm
from .cache import cache_folder, refusal
from .site import Config, build, check
from .write import OutputError, guard_output

COMMANDS = ("build", "serve", "check", "diff", "annotate", "new", "coverage")
EXIT_BUG = 2
"""Exit code for a bug in Dossier, and for nothing else."""
EXIT_USAGE = 64
"""Exit code for a command line that cannot be understood (sysexits.h: EX_USAGE)."""


class _Parser(argparse.ArgumentParser):
    """argparse, exiting with EXIT_USAGE rather than 2 on a bad command line."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parser(command: str, prog: str = "build.py") -> argparse.ArgumentParser:
    parser = _Parser(prog=f"{prog} {command}" if command != "build" else prog,
                     description=f"Dossier: {command} an annotated dossier.",
                     epilog=f"commands: {prog} [build] | serve | check | diff BASE | annotate ARTICLE "
                            f"QUOTE | coverage [ARTICLE…] | new DIR; '{prog} COMMAND --help' for each"
                     if command == "build" else None)
    if command == "new":
        return _new_parser(parser, prog)
    parser.add_argument("--source", type=Path, default=Path("."), metavar="DIR",
                        help="the dossier folder (content/, annotations.yaml, optional layouts/); default: .")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    if command in ("build", "serve"):
        parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="output folder; default: SOURCE/public")
        parser.add_argument("--base-url", default=None, metavar="URL", help="the URL the site is published at")
        parser.add_argument("--no-search", action="store_true", help="skip the Pagefind search index")
    if command in ("build", "check"):
        parser.add_argument("--cache", type=Path, default=None, metavar="DIR",
                            help="the build cache folder; default: SOURCE/.dossier-cache")
        parser.add_argument("--no-cache", action="store_true", help="build without the build cache")
    if command == "serve":
        parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1; default: 8000")
        parser.add_argument("--host", default="127.0.0.1", help="address to bind; default: 127.0.0.1")
    if command == "diff":
        parser.add_argument("base", help="a git ref (branch, tag, commit, e.g. origin/main) or a dossier folder to "
                                         "compare against; --strict makes an edited article body an error")
    if command == "annotate":
        parser.add_argument("article", help="the article's slug (file name without .md)")
        parser.add_argument("quote", help="the words to annotate, copied from the article")
        parser.add_argument("--title", action="store_true", help="the words are in the article's title, not its body")
    if command == "coverage":
        parser.add_argument("articles", nargs="*", metavar="ARTICLE", help="articles to report (slugs); default: all")
        parser.add_argument("--min", default=None, metavar="P",
                            help="exit 1 when an article has less than P percent of its sentences annotated")
    return parser


def _new_parser(parser: argparse.ArgumentParser, prog: str) -> argparse.ArgumentParser:
    parser.description = "Dossier: write a small working dossier to start from (an example to replace with yours)."
    parser.add_argument("folder", type=Path, metavar="DIR", help="the folder to create (new or empty)")
    parser.add_argument("--force", action="store_true",
                        help="write into a folder that is not empty, overwriting files of the same name "
                             "(the starter's: annotations.yaml, README.md, …); nothing is deleted")
    parser.set_defaults(prog=prog)
    return parser


def main(argv: list[str], prog: str = "build.py") -> int:
    handle_sigterm()  # a cancelled CI job or `timeout` stops a build as Ctrl-C does
    try:
        command = argv[0] if argv and argv[0] in COMMANDS else "build"
        args = _parser(command, prog).parse_args(argv[1:] if argv and argv[0] in COMMANDS else argv)
        if command == "new":
            from .new import run_new
            return run_new(args)
        if command == "check":
            return run_check(args)
        if command == "annotate":
            from .annotate import run_annotate
            return run_annotate(args)
        if command == "coverage":
            from .coverage import run_coverage
            return run_coverage(args)
        if command == "diff":
            from .diff import run_diff
            return run_diff(args)
        problem = base_url_problem(args.base_url) if args.base_url is not None else None
        if problem:
            print(f"error: --base-url '{args.base_url}' {problem} ({BASE_URL_HINT})", file=sys.stderr)
            return 1
        config = Config(source=args.source, out=args.out or args.source / "public", base_url=args.base_url,
                        strict=args.strict, search=not args.no_search, cache=_cache_folder(args))
        if refused_output(config) or refused_cache(config):  # before any work, and before serve shows a folder not its own
            return 1
        if command == "serve":
            from .serve import serve
            return serve(config, args.host, args.port)
        return run_build(config)
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, Terminated)
        print(f"{'terminated' if terminated else 'interrupted'}; the previous output is unchanged", file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except Exception as exc:  # a bug in Dossier, not bad input: say so briefly
        if os.environ.get("DOSSIER_DEBUG"):
            traceback.print_exc()
        print(f"internal error (a bug in Dossier, please report it): {type(exc).__name__}: {exc}", file=sys.stderr)
        print("set DOSSIER_DEBUG=1 to see the traceback", file=sys.stderr)
        return EXIT_BUG


def report(diagnostics: list[Diagnostic], strict: bool = False, stream=None) -> None:
    """Print every diagnostic, sorted, then a one-line summary; in GitHub Actions also as annotations."""
    stream = stream or sys.stderr
    for d in diagnostics:
        print(d.format(), file=stream)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for d in diagnostics:
            if strict and d.level == "warning":
                d = Diagnostic(d.location, "error", d.message, d.hint)
            print(d.github(), file=sys.stdout)
    errors = sum(d.level == "error" for d in diagnostics)
    warnings = sum(d.level == "warning" for d in diagnostics)
    if diagnostics:
        print(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
              + (" (--strict: warnings count as errors)" if strict and warnings else ""), file=stream)


def _cache_folder(args) -> Path | None:
    """The build cache folder the options ask for; None with --no-cache (or for serve)."""
    if getattr(args, "no_cache", True):
        return None
    return cache_folder(args.source, args.cache, True)


def run_check(args) -> int:
    config = Config(source=args.source, strict=args.strict, cache=_cache_folder(args), out=None)
    if refused_cache(config):
        return 1
    dossier, diagnostics = check(config)
    report(diagnostics, args.strict)
    if has_errors(diagnostics, args.strict):
        return 1
    anchors = len(dossier.anchors) if dossier else 0
    print(f"ok: {len(dossier.articles)} articles, {anchors} annotations, {len(dossier.entities)} entities", file=sys.stderr)
    return 0


def refused_output(config: Config) -> bool:
    """Print why --out may not be written to, if it may not; True then."""
    try:
        guard_output(config.out, config.source)
    except OutputError as exc:
        report([error(Location(str(config.out)), str(exc))])
        print(f"build failed; {config.out} is unchanged", file=sys.stderr)
        return True
    return False


def refused_cache(config: Config) -> bool:
    """Print why the build cache folder may not be used, if it may not; True then."""
    problem = refusal(config.cache, config.source, config.out) if config.cache is not None else None
    if problem:
        report([error(Location(str(config.cache)), f"--cache {config.cache} {problem}")])
        print("build failed; nothing was written", file=sys.stderr)
        return True
    return False


def run_build(config: Config) -> int:
    started = time.perf_counter()
    result = build(config, keep=False)  # nothing below reads the dossier
    report(result.diagnostics, config.strict)
    if not result.ok:
        print(f"build failed; {config.out} is unchanged", file=sys.stderr)
        return 1
    reused = f" (from the build cache: {result.cache.summary()})" if result.cache is not None else ""
    print(f"built {result.pages} pages into {config.out} in {time.perf_counter() - started:.2f}s{reused}", file=sys.stderr)
    return 0
