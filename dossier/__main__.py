"""`python -m dossier …` and the installed `dossier …` command: the same commands as build.py."""
from __future__ import annotations

import sys


def run() -> None:
    """The `dossier` command's entry point."""
    try:
        from .cli import main
    except KeyboardInterrupt:  # Ctrl-C while starting up: nothing was written yet
        sys.exit(130)
    sys.exit(main(sys.argv[1:], prog="dossier"))


if __name__ == "__main__":
    run()
