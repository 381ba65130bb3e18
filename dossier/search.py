"""The static search index: Pagefind (PyPI `pagefind[bin]`) run over the finished site."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .write import OutputError


def index_site(folder: Path) -> None:
    """Write the Pagefind bundle into folder/pagefind/ (deterministic for the same pages)."""
    command = [sys.executable, "-m", "pagefind", "--site", str(folder), "--output-subdir", "pagefind", "--quiet"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OutputError(f"the search indexer could not run: {exc}") from None
    if result.returncode != 0 or not (folder / "pagefind" / "pagefind.js").is_file():
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise OutputError("the search indexer (Pagefind) failed: " + " ".join(detail)
                          + " — install it with pip install 'pagefind[bin]', or build with --no-search")
