#!/usr/bin/env python3
"""Dossier: build, check and serve an annotated dossier.

    python build.py [--out DIR] [--source DIR] [--base-url URL] [--strict]
    python build.py serve [--port 8000] [--source DIR] [--out DIR]
    python build.py check [--source DIR] [--strict]
    python build.py diff BASE [--source DIR]      (BASE: a git ref or a folder)
    python build.py annotate ARTICLE "quote" [--source DIR]
    python build.py new DIR [--force]             (a small working dossier to start from)

Installed with pip, the same commands are `dossier …` (or `python -m dossier …`).
"""
from __future__ import annotations

import sys

if __name__ == "__main__":
    try:
        from dossier.cli import main
    except KeyboardInterrupt:  # Ctrl-C while starting up: nothing was written yet
        sys.exit(130)
    sys.exit(main(sys.argv[1:]))
