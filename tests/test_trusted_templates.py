"""Dossier's own templates render without the sandbox, and only they do (templates.py).

The sandbox's checks cost about 1.4× on rendering, so a dossier without a layouts/ folder of
its own renders the built-in templates in a plain Jinja2 environment. The pages must be the
same bytes as in the sandbox, and a dossier's own layouts/ (even an empty one) must always get
the sandbox."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jinja2

from conftest import BUILD_PY, ROOT, build_env, tree_bytes
from dossier import BUILTIN_THEME
from dossier.templates import ENVIRONMENTS, LayoutSandbox, TrustedEnvironment, environment

SAMPLE = ROOT / "tests" / "golden" / "sample"


def build(source: Path, out: Path) -> None:
    result = subprocess.run([sys.executable, str(BUILD_PY), "--source", str(source), "--out", str(out), "--no-search"], env=build_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_built_in_templates_give_the_same_pages_with_and_without_the_sandbox(tmp_path):
    plain, sandboxed = tmp_path / "plain", tmp_path / "sandboxed"
    shutil.copytree(SAMPLE, plain)
    shutil.copytree(SAMPLE, sandboxed)
    (sandboxed / "layouts").mkdir()  # a layouts/ of its own, empty: the built-in templates, sandboxed
    build(plain, tmp_path / "out-plain")
    build(sandboxed, tmp_path / "out-sandboxed")
    first, second = tree_bytes(tmp_path / "out-plain"), tree_bytes(tmp_path / "out-sandboxed")
    assert sum(name.endswith(".html") for name in first) > 10
    assert first == second


def test_only_a_dossier_without_layouts_of_its_own_renders_unsandboxed(tmp_path):
    own = tmp_path / "layouts"
    assert isinstance(environment((own, BUILTIN_THEME)), TrustedEnvironment)
    own.mkdir()
    ENVIRONMENTS.clear()  # as every build does first
    assert isinstance(environment((own, BUILTIN_THEME)), LayoutSandbox)
    link = tmp_path / "elsewhere" / "layouts"
    link.parent.mkdir()
    link.symlink_to(tmp_path / "missing")  # a dangling link is a layouts/ too: sandboxed
    ENVIRONMENTS.clear()
    assert isinstance(environment((link, BUILTIN_THEME)), LayoutSandbox)


def test_the_unsandboxed_environment_never_reads_a_layouts_folder_made_after_it(tmp_path):
    own = tmp_path / "layouts"
    ENVIRONMENTS.clear()
    env = environment((own, BUILTIN_THEME))
    assert isinstance(env, TrustedEnvironment)
    own.mkdir()
    (own / "page.html").write_text("{{ ''.__class__.__mro__ }}", encoding="utf-8")
    (own / "mine.html").write_text("mine", encoding="utf-8")
    _, filename, _ = env.loader.get_source(env, "page.html")
    assert Path(filename).parent == BUILTIN_THEME, "the dossier's page.html was read"
    try:
        env.get_template("mine.html")
    except jinja2.TemplateNotFound:
        pass
    else:
        raise AssertionError("the unsandboxed environment read a template from the dossier's layouts/")
