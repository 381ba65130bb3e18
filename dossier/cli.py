"""The command line: parse options, run a command, report, exit. No logic of its own."""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
import traceback
from pathlib import Path

from .diagnostics import Diagnostic, has_errors
from .site import Config, build, check

COMMANDS = ("build", "serve", "check", "diff", "annotate", "coverage")
HTTP_URL = re.compile(r"https?://[^\s/.?#]\S*")
"""What --base-url must look like: the schema's pattern for every URL field."""


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"build.py {command}" if command != "build" else "build.py",
                                     description=f"Dossier: {command} an annotated dossier.")
    parser.add_argument("--source", type=Path, default=Path("."), metavar="DIR",
                        help="the dossier folder (content/, annotations.yaml, optional layouts/); default: .")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    if command in ("build", "serve"):
        parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="output folder; default: SOURCE/public")
        parser.add_argument("--base-url", default=None, metavar="URL", help="the URL the site is published at")
        parser.add_argument("--no-search", action="store_true", help="skip the Pagefind search index")
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


def main(argv: list[str]) -> int:
    command = argv[0] if argv and argv[0] in COMMANDS else "build"
    args = _parser(command).parse_args(argv[1:] if argv and argv[0] in COMMANDS else argv)
    try:
        if command == "check":
            return run_check(args)
        if command == "annotate":
            from .annotate import run_annotate
            return run_annotate(args)
        if command == "coverage":
            from .coverage import run_coverage
            return run_coverage(args)
        if command == "diff":
            from .changes import run_diff
            return run_diff(args)
        if args.base_url is not None and not HTTP_URL.fullmatch(args.base_url):
            print(f"error: --base-url '{args.base_url}' is not an http(s) URL "
                  "(write a full address starting with https:// or http://)", file=sys.stderr)
            return 1
        config = Config(source=args.source, out=args.out or args.source / "public", base_url=args.base_url,
                        strict=args.strict, search=not args.no_search)
        if command == "serve":
            from .serve import serve
            return serve(config, args.host, args.port)
        return run_build(config)
    except KeyboardInterrupt:
        print("interrupted; the previous output is unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in Dossier, not bad input: say so briefly
        if os.environ.get("DOSSIER_DEBUG"):
            traceback.print_exc()
        print(f"internal error (a bug in Dossier, please report it): {type(exc).__name__}: {exc}", file=sys.stderr)
        print("set DOSSIER_DEBUG=1 to see the traceback", file=sys.stderr)
        return 2


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


def run_check(args) -> int:
    config = Config(source=args.source, strict=args.strict)
    dossier, diagnostics = check(config)
    report(diagnostics, args.strict)
    if has_errors(diagnostics, args.strict):
        return 1
    anchors = len(dossier.anchors) if dossier else 0
    print(f"ok: {len(dossier.articles)} articles, {anchors} annotations, {len(dossier.entities)} entities", file=sys.stderr)
    return 0


def run_build(config: Config) -> int:
    started = time.perf_counter()
    result = build(config)
    report(result.diagnostics, config.strict)
    if not result.ok:
        print(f"build failed; {config.out} is unchanged", file=sys.stderr)
        return 1
    print(f"built {result.pages} pages into {config.out} in {time.perf_counter() - started:.2f}s", file=sys.stderr)
    return 0
