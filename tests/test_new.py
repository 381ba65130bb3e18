"""`new DIR`: a small working dossier to start from — it checks with --strict, builds, points
editors at a schema that resolves inside it, and installs Dossier from one line in its workflows."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from conftest import BUILD_PY, ROOT, build_env

from dossier.new import STARTER, requirement_from, starter_files
from dossier.load import load_dossier
from dossier.validate import validate

SCHEMA = ROOT / "dossier" / "schema" / "annotations.schema.json"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD_PY), *args], capture_output=True, text=True, cwd=cwd,
                          env=build_env(), timeout=300)


def test_new_writes_a_dossier_that_passes_check_strict_and_builds(tmp_path):
    folder = tmp_path / "story"
    result = run("new", str(folder))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert {"annotations.yaml", "content/articles/example-article.md", "content/pages/about.md", ".gitignore",
            "README.md", "CONTRIBUTING.md", "requirements.txt", ".github/workflows/pages.yml",
            ".github/workflows/check.yml"} <= files
    check = run("check", "--source", str(folder), "--strict")
    assert check.returncode == 0, check.stderr
    assert "warning" not in check.stderr and check.stderr.startswith("ok: 1 articles, 3 annotations")
    build = run("--source", str(folder), "--out", str(tmp_path / "site"), "--strict", "--no-search")
    assert build.returncode == 0, build.stderr
    page = (tmp_path / "site" / "articles" / "example-article" / "index.html").read_text(encoding="utf-8")
    assert 'data-annotation="footbridge-vote"' in page and "Inaccurate" in page


def test_the_schema_line_resolves_inside_the_new_folder(tmp_path):
    folder = tmp_path / "story"
    assert run("new", str(folder)).returncode == 0
    text = (folder / "annotations.yaml").read_text(encoding="utf-8")
    first = text.splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, first
    copy = folder / match.group(1)
    assert copy.is_file() and copy.read_bytes() == SCHEMA.read_bytes()
    data = json.loads(json.dumps(yaml.safe_load(text), default=str))  # dates as strings, as the editor sees them
    jsonschema.Draft7Validator(json.loads(copy.read_text(encoding="utf-8"))).validate(data)


def test_the_example_is_marked_as_one_and_uses_every_part_of_the_format():
    raw, problems = load_dossier(STARTER)
    inputs, more = validate(raw)
    assert not [p for p in problems + more if p.level == "error"]
    a = inputs.annotations
    assert a.sources and a.entities and a.references and a.events
    assert any(e.relations for e in a.entities.values())
    checks = [x for x in a.annotations if x.kind == "fact-check"]
    assert checks and all(x.verdict and x.cite for x in checks)
    (article,) = inputs.articles.values()
    assert article.title.startswith("Example article:")
    assert "This article is invented" in article.body
    assert "invented" in a.sources[article.source].rationale


def test_the_starter_says_nothing_about_this_repository_s_own_story():
    for path in STARTER.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"\b(Meta|Scale|Wang|TIME)\b", text), path


def test_new_refuses_a_folder_that_is_not_empty_and_leaves_it_alone(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes\n", encoding="utf-8")
    result = run("new", str(folder))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{folder}: error: the folder is not empty (") and "--force" in result.stderr
    assert "Traceback" not in result.stderr
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_force_overwrites_files_of_the_same_name_says_which_and_deletes_nothing(tmp_path):
    folder = tmp_path / "mine"
    (folder / "content" / "articles").mkdir(parents=True)
    (folder / "README.md").write_text("my readme\n", encoding="utf-8")
    (folder / "content" / "articles" / "mine.md").write_text("my article\n", encoding="utf-8")
    (folder / "CONTRIBUTING.md").write_bytes((STARTER / "CONTRIBUTING.md").read_bytes())  # the same: not "overwritten"
    result = run("new", str(folder), "--force")
    assert result.returncode == 0, result.stderr
    assert "overwrote 1 file: README.md" in result.stderr
    assert (folder / "README.md").read_bytes() == (STARTER / "README.md").read_bytes()
    assert (folder / "content" / "articles" / "mine.md").read_text(encoding="utf-8") == "my article\n"
    assert (folder / "annotations.yaml").is_file()


def test_new_never_writes_through_a_link(tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("not the dossier's\n", encoding="utf-8")
    folder = tmp_path / "mine"
    folder.mkdir()
    os.symlink(outside, folder / "README.md")
    result = run("new", str(folder), "--force")
    assert result.returncode == 1
    assert result.stderr.startswith(f"{folder / 'README.md'}: error: a folder or link is in the way")
    assert outside.read_text(encoding="utf-8") == "not the dossier's\n"
    assert [p.name for p in folder.iterdir()] == ["README.md"]


def test_new_refuses_a_path_that_is_a_file(tmp_path):
    path = tmp_path / "taken"
    path.write_text("x", encoding="utf-8")
    result = run("new", str(path))
    assert result.returncode == 1 and result.stderr.startswith(f"{path}: error: this is a file, not a folder (")


def test_gitignore_leaves_out_the_output_and_keeps_the_lock(tmp_path):
    folder = tmp_path / "story"
    assert run("new", str(folder)).returncode == 0
    ignored = [line for line in (folder / ".gitignore").read_text(encoding="utf-8").splitlines()
               if line and not line.startswith("#")]
    assert "public/" in ignored and not any("lock" in line for line in ignored)


# ---- where the new dossier's workflows install Dossier from ------------------------------

def _install_step(workflow: Path) -> str:
    jobs = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"]
    (script,) = [step["run"] for job in jobs.values() for step in job["steps"] if "requirements.txt" in step.get("run", "")]
    return script


def _run_install_step(tmp_path: Path, workflow: Path, requirements: str) -> tuple[subprocess.CompletedProcess, str]:
    """Run the workflow's install step with bash, `python` standing in for the real one."""
    work = tmp_path / "work"
    (work / "bin").mkdir(parents=True, exist_ok=True)
    (work / "requirements.txt").write_text(requirements, encoding="utf-8")
    log = work / "python-args"
    log.unlink(missing_ok=True)
    fake = work / "bin" / "python"
    fake.write_text(f'#!/bin/sh\necho "$@" > {log}\n', encoding="utf-8")
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{work / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(["bash", "-e", "-c", _install_step(workflow)], cwd=work, env=env, capture_output=True,
                            text=True, timeout=30)
    return result, log.read_text(encoding="utf-8") if log.exists() else ""


def test_the_workflows_install_dossier_from_requirements_txt_and_stop_until_it_is_set(tmp_path):
    unset = (STARTER / "requirements.txt").read_text(encoding="utf-8")
    for name in ("check.yml", "pages.yml"):
        workflow = STARTER / "github" / "workflows" / name
        steps = [s.get("run", "") for job in yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"].values()
                 for s in job["steps"]]
        assert "dossier check --strict" in steps, name
        assert any(s.startswith("dossier build") for s in steps), name
        result, args = _run_install_step(tmp_path, workflow, unset)
        assert result.returncode == 1 and args == ""
        assert result.stdout.startswith("::error file=requirements.txt,line=1::requirements.txt does not say where")
        result, args = _run_install_step(tmp_path, workflow, unset + "dossier @ git+https://example.org/d.git@v1\n")
        assert result.returncode == 0, result.stderr
        assert args.split()[-2:] == ["-r", "requirements.txt"]


def test_a_dossier_installed_from_git_is_named_in_the_new_requirements(tmp_path):
    # pip writes direct_url.json (PEP 610) for `pip install git+https://…`
    recorded = {"url": "https://github.com/newsroom/dossier.git",
                "vcs_info": {"vcs": "git", "requested_revision": "v0.2.0", "commit_id": "0123456789abcdef"}}
    assert requirement_from(json.dumps(recorded)) == "dossier @ git+https://github.com/newsroom/dossier.git@0123456789abcdef"
    for elsewhere in ({"url": "file:///home/me/dossier", "dir_info": {"editable": True}},
                      {"url": "file:///tmp/dossier-0.2.0-py3-none-any.whl", "archive_info": {}},
                      {"url": "ssh://git@github.com/newsroom/dossier.git", "vcs_info": {"vcs": "git", "commit_id": "1"}}):
        assert requirement_from(json.dumps(elsewhere)) is None
    assert requirement_from(None) is None and requirement_from("not json") is None
    written = starter_files(requirement_from(json.dumps(recorded)))["requirements.txt"].decode("utf-8")
    set_lines = [line for line in written.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert set_lines == ["dossier @ git+https://github.com/newsroom/dossier.git@0123456789abcdef"]
