"""`new DIR`: write a small working dossier to start from.

The files are those in dossier/starter/ (an example article and its annotations, the pages,
the editors' guide, the GitHub workflows), plus a copy of the annotations schema so that
the schema line at the top of annotations.yaml resolves inside the new folder. Dotfiles are
stored without their dot (`gitignore`, `github/`), so that neither git nor a packaging tool
treats them as this repository's own.
"""
from __future__ import annotations

import json
import shlex
import sys
from importlib import metadata
from pathlib import Path

from . import PACKAGE

STARTER = PACKAGE / "starter"
DOTTED = ("gitignore", "github")
"""Top-level names in the starter that are written with a leading dot."""
SCHEMA = ("schema/annotations.schema.json", PACKAGE / "schema" / "annotations.schema.json")
"""Where the schema copy goes in the new dossier, and what it is a copy of."""
REQUIREMENTS = "requirements.txt"


def starter_files(requirement: str | None = None) -> dict[str, bytes]:
    """Every file of a new dossier, by its path in the new folder."""
    files = {}
    for path in sorted(STARTER.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(STARTER).as_posix()
            if relative.split("/", 1)[0] in DOTTED:
                relative = "." + relative
            files[relative] = path.read_bytes()
    files[SCHEMA[0]] = SCHEMA[1].read_bytes()
    if requirement:
        files[REQUIREMENTS] += (f"\n# Set by `dossier new`: the Dossier this folder was made with.\n"
                                f"{requirement}\n").encode("utf-8")
    return files


def installed_from() -> str | None:
    """A requirement naming the git repository and commit this Dossier was installed from,
    or None when it came from anywhere else (a checkout, a wheel, a package index)."""
    try:
        installed = metadata.distribution("dossier")
    except metadata.PackageNotFoundError:
        return None
    if Path(installed.locate_file("dossier/__init__.py")).resolve() != PACKAGE / "__init__.py":
        return None  # that record is of another copy than the one running (e.g. this is a checkout)
    return requirement_from(installed.read_text("direct_url.json"))


def requirement_from(direct_url: str | None) -> str | None:
    """`dossier @ git+URL@COMMIT` from pip's record of a `pip install git+URL` (PEP 610's
    direct_url.json), if the URL is one a workflow can install from."""
    try:
        origin = json.loads(direct_url or "null")
    except ValueError:
        return None
    if not isinstance(origin, dict) or not isinstance(origin.get("vcs_info"), dict):
        return None
    url, vcs = origin.get("url"), origin["vcs_info"]
    if vcs.get("vcs") != "git" or not isinstance(url, str) or not url.startswith("https://"):
        return None  # a local folder or an ssh URL would not install in the workflows
    commit = vcs.get("commit_id")
    return f"dossier @ git+{url}" + (f"@{commit}" if isinstance(commit, str) and commit else "")


def plan(folder: Path, files: dict[str, bytes], force: bool) -> tuple[list[str], str | None]:
    """The files that writing would overwrite, or the reason it must not write at all."""
    if folder.exists() and not folder.is_dir():
        return [], f"{folder}: error: this is a file, not a folder (name a new folder for the dossier)"
    if folder.is_dir() and any(folder.iterdir()) and not force:
        return [], (f"{folder}: error: the folder is not empty (name a new or empty folder, or add --force "
                    f"to write the starter's files into it, overwriting any file of the same name)")
    for relative in files:
        for parent in list(reversed(Path(relative).parents))[1:]:
            if (folder / parent).is_symlink() or (folder / parent).exists() and not (folder / parent).is_dir():
                return [], f"{folder / parent}: error: a file or link is in the way of the folder {parent}/ (move it, then try again)"
        if (folder / relative).is_symlink() or (folder / relative).is_dir():
            # writing through a link could overwrite a file outside the folder
            return [], f"{folder / relative}: error: a folder or link is in the way of the file {relative} (move it, then try again)"
    overwritten = [r for r in files if (folder / r).is_file() and (folder / r).read_bytes() != files[r]]
    return overwritten, None


def write_starter(folder: Path, files: dict[str, bytes]) -> None:
    for relative, content in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def run_new(args) -> int:
    folder: Path = args.folder
    requirement = installed_from()
    files = starter_files(requirement)
    overwritten, problem = plan(folder, files, args.force)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    try:
        write_starter(folder, files)
    except OSError as exc:
        print(f"{folder}: error: cannot write the new dossier: {exc.strerror or exc} "
              "(choose a folder you can write to)", file=sys.stderr)
        return 1
    if overwritten:
        print(f"overwrote {len(overwritten)} file{'s' * (len(overwritten) != 1)}: {', '.join(overwritten)}",
              file=sys.stderr)
    print(f"wrote a new dossier into {folder}: an example article and its annotations, to replace with yours",
          file=sys.stderr)
    where = shlex.quote(str(folder))
    steps = (f"cd {where} && dossier check && dossier serve" if args.prog == "dossier"
             else f"python3 build.py check --source {where} && python3 build.py serve --source {where}")
    print(f"next: {steps}    (its README.md says what to replace)", file=sys.stderr)
    if requirement is None:
        print("before you push it to GitHub: set where its workflows install Dossier from, in requirements.txt "
              "(its comments say how)", file=sys.stderr)
    return 0

