"""Problems found in a dossier, as values: every stage returns them, `check` prints them all."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True, slots=True)
class Location:
    path: str
    """Path of the file, relative to the dossier folder, with `/` separators."""
    line: int = 0
    """1-based line number; 0 when the problem concerns the whole file."""
    column: int = 0
    """1-based column; 0 when unknown."""

    def __str__(self) -> str:
        if not self.line:
            return self.path
        if self.column:
            return f"{self.path}:{self.line}:{self.column}"
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, order=True, slots=True)
class Diagnostic:
    location: Location
    level: str
    """`error`, `warning` (an error under --strict) or `notice` (never fails)."""
    message: str
    """What is wrong, in one sentence."""
    hint: str = ""
    """How to fix it; shown in parentheses."""

    def format(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.location}: {self.level}: {self.message}{hint}"

    def github(self) -> str:
        """The same problem as a GitHub Actions workflow command, so it lands on the PR diff."""
        loc = self.location
        props = [f"file={_escape_property(loc.path)}"]
        if loc.line:
            props.append(f"line={loc.line}")
        if loc.column:
            props.append(f"col={loc.column}")
        hint = f" ({self.hint})" if self.hint else ""
        return f"::{self.level} {','.join(props)}::{_escape_data(self.message + hint)}"


def error(location: Location, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(location, "error", message, hint)


def warning(location: Location, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(location, "warning", message, hint)


def notice(location: Location, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(location, "notice", message, hint)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by file, line, column, then message; duplicates dropped. (The order of the
    dataclasses' own comparison, by a key: their generated __lt__ is Python code, and a large
    dossier has tens of thousands of warnings to sort on every rebuild under `serve`.)"""
    return sorted(set(diagnostics), key=_order)


def _order(d: Diagnostic) -> tuple:
    loc = d.location
    return loc.path, loc.line, loc.column, d.level, d.message, d.hint


def has_errors(diagnostics: Iterable[Diagnostic], strict: bool = False) -> bool:
    return any(d.level == "error" or (strict and d.level == "warning") for d in diagnostics)


def did_you_mean(word: str, candidates: Iterable[str], n: int = 3) -> str:
    """A hint naming the closest candidates, or "" when none is close."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=n, cutoff=0.6)
    if not close:
        return ""
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
