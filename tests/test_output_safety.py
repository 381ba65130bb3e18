"""`--out` is safe to point anywhere (issue 17): Dossier replaces only a folder it wrote
itself, never the dossier's own input, a folder above it, the home folder or one it did not
write; and each build clears away what builds killed outright left next to `--out` — only
those, never a folder a running build is still using.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BASE_ARTICLE, BUILD_PY, ROOT, build_env, tree_bytes, write_files

from dossier.write import MARKER, MARKER_TEXT


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD_PY), *args], cwd=cwd, env={**build_env(), **(env or {})},
                          capture_output=True, text=True, timeout=120)


def build(source: Path, out: Path | str, *options: str, **kwargs) -> subprocess.CompletedProcess:
    return run("--source", str(source), "--out", str(out), "--no-search", *options, **kwargs)


def assert_refused(result: subprocess.CompletedProcess, out: Path | str, reason: str) -> None:
    """Exit 1, no traceback, one `OUT: error: --out OUT <reason> (<hint>)` line, nothing built."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{out}: error: --out {out} "), result.stderr
    assert reason in first and first.endswith(")"), result.stderr
    assert not result.stderr.startswith("built ") and " pages into " not in result.stderr


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


# ---- folders Dossier did not write ---------------------------------------------------------

def test_a_folder_dossier_did_not_write_is_refused_and_left_untouched(make_dossier, tmp_path):
    source = make_dossier()
    out = write_files(tmp_path / "documents", {"notes.txt": "my notes\n", "drafts/plan.md": "a plan\n",
                                               "index.html": "<p>my own page</p>\n"})
    before = tree_bytes(out)
    result = build(source, out)
    assert_refused(result, out, "already holds files that Dossier did not write (drafts, index.html, notes.txt)")
    assert tree_bytes(out) == before
    assert leftovers(out) == []


def test_serve_refuses_a_folder_dossier_did_not_write_before_serving_it(make_dossier, tmp_path):
    source = make_dossier()
    out = write_files(tmp_path / "documents", {"notes.txt": "my notes\n"})
    result = run("serve", "--source", str(source), "--out", str(out), "--port", "1", "--no-search")
    assert_refused(result, out, "already holds files that Dossier did not write (notes.txt)")
    assert "serving" not in result.stderr
    assert tree_bytes(out) == {"notes.txt": b"my notes\n"}


def test_a_folder_with_only_some_of_a_sites_files_is_not_taken_for_one(make_dossier, tmp_path):
    """A site built before the mark existed is known by all of its own files, not by a few."""
    source = make_dossier()
    out = write_files(tmp_path / "site", {".nojekyll": "", "index.html": "<p>mine</p>\n", "dossier.json": "{}\n"})
    assert_refused(build(source, out), out, "already holds files that Dossier did not write")
    assert (out / "index.html").read_text() == "<p>mine</p>\n"


def test_an_empty_or_new_folder_is_written(make_dossier, tmp_path):
    source = make_dossier()
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "new" / "site"):
        result = build(source, out)
        assert result.returncode == 0, result.stderr
        assert (out / "articles" / "deal" / "index.html").is_file()


# ---- folders Dossier wrote -------------------------------------------------------------------

def test_a_folder_dossier_wrote_is_marked_and_replaced_whole(make_dossier, tmp_path):
    source, out = make_dossier(), tmp_path / "public"
    assert build(source, out).returncode == 0
    assert (out / MARKER).read_bytes() == MARKER_TEXT
    write_files(source, {"content/articles/deal.md": None, "content/articles/other.md": BASE_ARTICLE})
    result = build(source, out)
    assert result.returncode == 0, result.stderr
    assert not (out / "articles" / "deal").exists() and (out / "articles" / "other" / "index.html").is_file()
    assert leftovers(out) == []


def test_a_site_built_before_the_mark_existed_is_recognised_and_replaced(make_dossier, tmp_path):
    """What the previous Dossier wrote: every file of today's output but the mark."""
    source, out = make_dossier(), tmp_path / "public"
    assert build(source, out).returncode == 0
    (out / MARKER).unlink()
    write_files(source, {"content/articles/deal.md": BASE_ARTICLE.replace("The deal", "The renamed deal")})
    result = build(source, out)
    assert result.returncode == 0, result.stderr
    assert "The renamed deal" in (out / "articles" / "deal" / "index.html").read_text(encoding="utf-8")
    assert (out / MARKER).is_file()


def test_the_mark_is_one_small_dotfile_that_no_page_or_data_file_mentions(make_dossier, tmp_path):
    source = make_dossier()
    first, second = tmp_path / "first", tmp_path / "second"
    assert build(source, first).returncode == 0 and build(source, second).returncode == 0
    files = tree_bytes(first)
    assert files == tree_bytes(second)  # byte-identical builds, the mark included
    assert MARKER.startswith(".") and "/" not in MARKER and len(files[MARKER]) < 100
    assert sorted(path for path in files if path.rsplit("/", 1)[-1].startswith(".")) == sorted([MARKER, ".nojekyll"])
    assert not [path for path, data in files.items() if MARKER.encode() in data]


# ---- folders that are the dossier's own, or hold it ------------------------------------------

@pytest.mark.parametrize("relative, reason", [
    ("content", "is inside the dossier's content/, which the build reads"),
    ("content/articles", "is inside the dossier's content/, which the build reads"),
    ("content/new-folder", "is inside the dossier's content/, which the build reads"),
    ("layouts", "is inside the dossier's layouts/, which the build reads"),
    (".", "would replace the dossier folder"),
    ("..", "would replace a folder that holds the dossier folder"),
])
def test_an_output_inside_the_dossiers_input_or_above_it_is_refused(make_dossier, relative, reason):
    source = make_dossier({"layouts/page.html": "<p>{{ page.title }}</p>\n"} if relative == "layouts" else None)
    before = tree_bytes(source.parent)
    out = source / relative
    assert_refused(build(source, out), out, reason)
    assert tree_bytes(source.parent) == before


def test_an_output_in_a_layouts_folder_the_dossier_does_not_have_yet_is_refused(make_dossier):
    """It would become the dossier's own layouts/, its pages read as templates by the next build."""
    source = make_dossier()
    assert_refused(build(source, source / "layouts"), source / "layouts", "is inside the dossier's layouts/")
    assert not (source / "layouts").exists()


def test_the_current_folder_and_its_parents_are_refused(make_dossier, tmp_path):
    source = make_dossier()
    here = write_files(tmp_path / "work" / "here", {"keep.txt": "keep\n"})
    before = tree_bytes(tmp_path / "work")
    for out in (".", ".."):
        assert_refused(build(source, out, cwd=here), out, "the current folder")
    assert tree_bytes(tmp_path / "work") == before


def test_the_home_folder_is_refused(make_dossier, tmp_path):
    source = make_dossier()
    home = write_files(tmp_path / "home", {".profile": "export EDITOR=vi\n", "letters/one.txt": "Dear …\n"})
    before = tree_bytes(home)
    assert_refused(build(source, home, env={"HOME": str(home)}), home, "would replace your home folder")
    assert tree_bytes(home) == before


def test_the_root_of_the_file_system_is_refused(make_dossier):
    assert_refused(build(make_dossier(), "/"), "/", "would replace the root of the file system")


def test_a_file_and_a_symbolic_link_are_refused(make_dossier, tmp_path):
    source = make_dossier()
    (tmp_path / "a-file").write_text("not a folder\n")
    assert_refused(build(source, tmp_path / "a-file"), tmp_path / "a-file", "is a file, not a folder")
    assert (tmp_path / "a-file").read_text() == "not a folder\n"
    target = write_files(tmp_path / "elsewhere", {"notes.txt": "mine\n"})
    (tmp_path / "link").symlink_to(target)
    assert_refused(build(source, tmp_path / "link"), tmp_path / "link", f"is a symbolic link (to {target})")
    assert (tmp_path / "link").is_symlink() and tree_bytes(target) == {"notes.txt": b"mine\n"}


def test_a_git_repository_and_its_git_folder_are_refused(make_dossier, tmp_path):
    source = make_dossier()
    repo = write_files(tmp_path / "repo", {".git/HEAD": "ref: refs/heads/main\n", "README.md": "# mine\n"})
    before = tree_bytes(repo)
    assert_refused(build(source, repo), repo, "holds a dossier or a git repository")
    assert_refused(build(source, repo / ".git" / "site"), repo / ".git" / "site", "is inside a git repository's .git")
    assert tree_bytes(repo) == before


# ---- leftovers of killed builds ----------------------------------------------------------------

HOLDER = """
import sys
from pathlib import Path
from dossier.write import staging
with staging(Path(sys.argv[1])) as folder:
    (folder / "index.html").write_text("<p>the other build</p>")
    print(folder, flush=True)
    sys.stdin.readline()
"""
"""A build still running: it holds its staging folder until told to finish."""


def test_a_build_removes_the_leftovers_of_killed_builds_but_not_a_running_builds_folder(make_dossier, tmp_path):
    source, out = make_dossier(), tmp_path / "public"
    assert build(source, out).returncode == 0
    running = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], cwd=ROOT, env=build_env(), text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        held = Path(running.stdout.readline().strip())
        assert held.parent == tmp_path and held.name.startswith(".public.tmp-"), running.stderr.read()
        killed = [write_files(tmp_path / ".public.tmp-k1lled00", {"articles/a/index.html": "half"}),
                  write_files(tmp_path / ".public.old-k1lled00", {"index.html": "the old site", MARKER: "x"})]
        not_ours = [write_files(tmp_path / ".public.tmp-notes", {"mine.txt": "mine"}),    # not a name we make
                    write_files(tmp_path / ".other.tmp-abcdefgh", {"mine.txt": "mine"})]  # another --out's
        (tmp_path / ".public.old-f1le0000").write_text("a file, not a folder of ours")
        result = build(source, out)
        assert result.returncode == 0, result.stderr
        assert not any(folder.exists() for folder in killed)
        assert all(folder.is_dir() for folder in not_ours) and (tmp_path / ".public.old-f1le0000").is_file()
        assert (held / "index.html").read_text() == "<p>the other build</p>"  # still there, still its own
        _, stderr = running.communicate("go on\n", timeout=30)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    assert running.returncode == 0, stderr
    assert (out / "index.html").read_text() == "<p>the other build</p>"  # the running build finished its swap
    assert leftovers(out) == [".public.old-f1le0000", ".public.tmp-notes"]

