#!/usr/bin/env python3
"""Rebuild tests/golden/expected/ from tests/golden/sample/, after a change to the output
that is meant:

    python tests/refresh_golden.py

Then read `git diff tests/golden/expected` before committing it. The golden test
(tests/test_build.py) builds the sample the same way and compares the files byte for byte.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dossier.site import BuildResult, Config, build  # noqa: E402

GOLDEN = Path(__file__).resolve().parent / "golden"
SAMPLE = GOLDEN / "sample"
EXPECTED = GOLDEN / "expected"
BASE_URL = "https://example.org/golden/"
"""Fixed, so the expected files do not depend on the sample's own site settings."""
SKIPPED_DIRS = ("pagefind", "static")
"""The search index and the stylesheets change for reasons of their own; they are not compared."""


def compared(path: str) -> bool:
    """Whether the golden test compares this output file: HTML pages, robots.txt and the feed."""
    if path.split("/", 1)[0] in SKIPPED_DIRS:
        return False
    return path.endswith(".html") or path in ("robots.txt", "feed.xml")


def build_sample(workdir: Path) -> tuple[BuildResult, Path]:
    """Build a copy of the sample (a build writes annotations.lock next to the sources)
    into workdir/public; return the result and the output folder."""
    source = workdir / "sample"
    shutil.copytree(SAMPLE, source)
    out = workdir / "public"
    return build(Config(source=source, out=out, base_url=BASE_URL, search=False)), out


def compared_files(folder: Path) -> dict[str, bytes]:
    """The compared files under `folder`, by relative path with '/' separators."""
    files = {}
    for path in sorted(folder.rglob("*")):
        relpath = path.relative_to(folder).as_posix()
        if path.is_file() and compared(relpath):
            files[relpath] = path.read_bytes()
    return files


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="dossier-golden-") as tmp:
        result, out = build_sample(Path(tmp))
        for diagnostic in result.diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        if not result.ok:
            print("the golden sample does not build; tests/golden/expected is unchanged", file=sys.stderr)
            return 1
        files = compared_files(out)
    shutil.rmtree(EXPECTED, ignore_errors=True)
    for relpath, content in files.items():
        target = EXPECTED / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    print(f"wrote {len(files)} files into {EXPECTED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
