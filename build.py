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

import signal
import sys

if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))  # until the command line takes over
    try:
        from dossier.cli import main
        code = main(sys.argv[1:])
    except KeyboardInterrupt as stop:  # while starting up (nothing was written yet), or a second one
        code = 143 if type(stop).__name__ == "Terminated" else 130
    sys.exit(code)
