"""Reproducibility (issue #8): the same input gives the same site, byte for byte — every
file, the pagefind/ index and the data files included — across two builds, across output
folders (and source folders), across PYTHONHASHSEED values and across process counts.
All builds run as users run them: `python build.py` in a subprocess.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BUILD_PY, ROOT, build_env, tree_bytes


def build(source: Path, out: Path, **env: str) -> dict[str, bytes]:
    result = subprocess.run([sys.executable, str(BUILD_PY), "--source", str(source), "--out", str(out)],
                            env={**build_env(), **env}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return tree_bytes(out)


def differences(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    """What differs between two builds, for the failure message."""
    only = sorted(set(a) ^ set(b))
    changed = sorted(path for path in set(a) & set(b) if a[path] != b[path])
    return [f"only in one build: {path}" for path in only] + [f"different bytes: {path}" for path in changed]


def assert_identical(a: dict[str, bytes], b: dict[str, bytes]) -> None:
    found = differences(a, b)
    assert not found, f"{len(found)} files differ:\n" + "\n".join(found)


def copy_dossier(source: Path, target: Path) -> Path:
    """The dossier's own files (content/, annotations.yaml, layouts/ if any), nothing built."""
    target.mkdir(parents=True)
    shutil.copytree(source / "content", target / "content")
    shutil.copy2(source / "annotations.yaml", target / "annotations.yaml")
    if (source / "layouts").is_dir() and (source / "layouts").resolve() != (ROOT / "layouts").resolve():
        shutil.copytree(source / "layouts", target / "layouts")
    return target


@pytest.fixture(scope="module", params=["sample", "generated"])
def dossier(request, tmp_path_factory) -> Path:
    """The repository's own dossier (copied, so building it leaves the checkout alone), and a
    generated one large enough to be built by several worker processes."""
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "sample":
        return copy_dossier(ROOT, root / "dossier")
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), str(root / "dossier"), "--articles", "60"],
                   check=True, capture_output=True, timeout=120)
    return root / "dossier"


@pytest.fixture(scope="module")
def first(dossier, tmp_path_factory) -> dict[str, bytes]:
    files = build(dossier, tmp_path_factory.mktemp("first") / "a" / "public", PYTHONHASHSEED="0")
    assert any(path.startswith("pagefind/") for path in files), "the search index was not built"
    assert {"dossier.json", "feed.xml", "sitemap.xml", "annotations.jsonld", "references.json", "timeline.ics"} <= set(files)
    return files


def test_two_builds_into_the_same_folder_are_byte_identical(dossier, first, tmp_path_factory):
    out = tmp_path_factory.mktemp("twice") / "public"
    build(dossier, out, PYTHONHASHSEED="0")
    again = build(dossier, out, PYTHONHASHSEED="0")
    assert_identical(first, again)


def test_builds_into_other_folders_from_a_copied_source_are_byte_identical(dossier, first, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    source = copy_dossier(dossier, elsewhere / "somewhere" / "else")
    other = build(source, elsewhere / "b" / "site", PYTHONHASHSEED="0")
    assert_identical(first, other)


def test_builds_under_other_hash_seeds_and_process_counts_are_byte_identical(dossier, first, tmp_path_factory):
    seeded = build(dossier, tmp_path_factory.mktemp("seed") / "public", PYTHONHASHSEED="12345")
    assert_identical(first, seeded)
    single = build(dossier, tmp_path_factory.mktemp("single") / "public", PYTHONHASHSEED="random", DOSSIER_PROCESSES="1")
    assert_identical(first, single)
