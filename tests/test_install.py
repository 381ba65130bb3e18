"""Dossier as a package: build the wheel, install it into a fresh virtual environment outside
the repository, and start, check and build a new dossier there with the `dossier` command.

Installing takes the dependencies from the package index pip is configured with (a venv
inherits the machine's pip configuration). It takes about a minute, so it is one test.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

SOURCES = ("pyproject.toml", "README.md", "dossier", "layouts")
"""What the wheel is built from (copied, so the build leaves nothing in the repository)."""


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def _run(args: list, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GITHUB_ACTIONS", "DOSSIER_DEBUG")}
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def test_the_wheel_installs_a_dossier_command_that_starts_checks_and_builds_a_dossier(tmp_path):
    if subprocess.run([sys.executable, "-c", "import ensurepip"], capture_output=True).returncode != 0:
        message = "this Python cannot create a virtual environment with pip (on Debian: apt-get install python3-venv)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", tmp_path / "wheels", source], cwd=tmp_path)
    (wheel,) = (tmp_path / "wheels").glob("dossier-0.2.0-*.whl")

    # The wheel carries the whole theme and starter as package data, and the schemas.
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"dossier/theme/{f}" for f in _files(ROOT / "layouts")} <= names
    assert {f"dossier/starter/{f}" for f in _files(ROOT / "dossier" / "starter")} <= names
    assert {f"dossier/schema/{f}" for f in _files(ROOT / "dossier" / "schema")} <= names
    assert "dossier/preview.js" in names  # serve's Annotate button

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    _run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel], cwd=tmp_path, timeout=600)
    where = _run([venv / "bin" / "python", "-c", "import dossier; print(dossier.__file__); print(dossier.BUILTIN_THEME)"],
                 cwd=tmp_path).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where  # not this repository's code or layouts

    dossier = venv / "bin" / "dossier"
    _run([dossier, "new", "story"], cwd=tmp_path)
    story = tmp_path / "story"
    assert _run([dossier, "check", "--strict"], cwd=story).stderr.startswith("ok: 1 articles, 3 annotations")
    _run([dossier, "build", "--strict"], cwd=story)  # with the search index: Pagefind came with the install
    site = story / "public"
    assert "footbridge-vote" in (site / "articles" / "example-article" / "index.html").read_text(encoding="utf-8")
    assert (site / "static" / "style.css").read_bytes() == (ROOT / "layouts" / "static" / "style.css").read_bytes()
    assert (site / "pagefind").is_dir()

    # Installed from a wheel file, Dossier cannot tell the new dossier where to install it
    # from; installed with `pip install git+https://…` it can: pip records the URL and commit
    # (PEP 610), as this record written in place of the wheel's says.
    assert not [line for line in (story / "requirements.txt").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    (record,) = venv.glob("lib/python*/site-packages/dossier-0.2.0.dist-info/direct_url.json")
    record.write_text('{"url": "https://github.com/newsroom/dossier.git", "vcs_info": {"vcs": "git", '
                      '"requested_revision": "v0.2.0", "commit_id": "0123abcd"}}', encoding="utf-8")
    _run([dossier, "new", "from-git"], cwd=tmp_path)
    requirements = (tmp_path / "from-git" / "requirements.txt").read_text(encoding="utf-8")
    assert requirements.endswith("\ndossier @ git+https://github.com/newsroom/dossier.git@0123abcd\n")

    # The dossier's own layouts/ overrides the built-in theme file by file.
    page = (Path(where[1]) / "page.html").read_text(encoding="utf-8")
    (story / "layouts" / "static").mkdir(parents=True)
    (story / "layouts" / "page.html").write_text(page.replace("{% block content %}", "{% block content %}<!-- ours -->", 1),
                                                 encoding="utf-8")
    (story / "layouts" / "static" / "style.css").write_text("/* ours */\n", encoding="utf-8")
    _run([venv / "bin" / "python", "-m", "dossier", "--no-search"], cwd=story)
    assert "<!-- ours -->" in (site / "about" / "index.html").read_text(encoding="utf-8")
    assert "<!-- ours -->" not in (site / "articles" / "example-article" / "index.html").read_text(encoding="utf-8")
    assert (site / "static" / "style.css").read_text(encoding="utf-8") == "/* ours */\n"
    assert (site / "static" / "dossier.js").read_bytes() == (ROOT / "layouts" / "static" / "dossier.js").read_bytes()

