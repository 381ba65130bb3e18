"""Dossier: a static site generator for annotated dossiers (verbatim articles, anchored fact
checks, entities and a timeline). The command line is `dossier` (or `python build.py`)."""
from __future__ import annotations

from pathlib import Path

__version__ = "0.2.0"

PACKAGE = Path(__file__).resolve().parent


def _builtin_theme() -> Path:
    # pyproject.toml installs the repository's top-level layouts/ as the package dossier.theme,
    # so a wheel has it at dossier/theme/; a checkout or an editable install runs from the
    # repository, where it is layouts/ beside this package.
    installed = PACKAGE / "theme"
    return installed if installed.is_dir() else PACKAGE.parent / "layouts"


BUILTIN_THEME = _builtin_theme()
"""The built-in templates and static files; a dossier's own layouts/ overrides them file by file."""
