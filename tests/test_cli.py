"""The command line, run as users run it: `python build.py [check] --source … --out …`.
Exit 0 on success, 1 on bad input (file:line messages, never a traceback), 64 on bad usage,
2 only for a bug in Dossier."""
from __future__ import annotations

import os
import subprocess
import sys

from conftest import BASE_ANNOTATIONS, BUILD_PY, annotations_with, article, build_env, tree_bytes


def run(*args: str, cwd=None, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(BUILD_PY), *args], cwd=cwd, env={**build_env(), **(env or {})},
                            capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    return result


BAD_QUOTE = annotations_with("""
    annotations:
      - id: spelling
        article: deal
        quote: Meta bougth a stake
        kind: context
    """)

NO_URL = BASE_ANNOTATIONS.replace("    url: https://example.org/filing\n", "")


def test_check_exits_0_on_good_input(make_dossier):
    result = run("check", "--source", str(make_dossier()))
    assert result.returncode == 0
    assert result.stderr == "ok: 1 articles, 0 annotations, 1 entities\n"


def test_check_exits_1_on_bad_input_with_file_line_and_hint(make_dossier):
    result = run("check", "--source", str(make_dossier({"annotations.yaml": BAD_QUOTE})))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "annotations.yaml:22:5: error: the quote of annotation 'spelling' is not in content/articles/deal.md; the "
        "nearest passage (line 7) is \"Meta bought a stake\" (the article says 'bought', the quote says 'bougth': copy "
        "the article's exact words)",
        "1 error, 0 warnings",
    ]


def test_check_reports_every_problem_sorted_by_file_and_line(make_dossier):
    source = make_dossier({
        "annotations.yaml": BASE_ANNOTATIONS.replace("rating: reliable", "rating: good").replace("type: company", "type: firm"),
        "content/articles/a.md": article("Meta text.\n", kind="newz"),
        "content/articles/z.md": b"---\ntitle: caf\xe9\n---\n",
    })
    result = run("check", "--source", str(source))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "annotations.yaml:9:5: error: 'rating' must be one of reliable, mixed, unreliable, unknown; 'good' is not (write one of these values exactly)",
        "annotations.yaml:14:5: error: 'type' must be one of person, company, organization, publication, product, place; "
        "'firm' is not (write one of these values exactly)",
        "content/articles/a.md:4:1: error: 'kind' must be one of news, analysis, opinion, republication, aggregator; "
        "'newz' is not (did you mean 'news'?)",
        "content/articles/z.md:2: error: the file is not UTF-8 (byte 0xe9 cannot be decoded) (save the file with UTF-8 encoding)",
        "4 errors, 0 warnings",
    ]


def test_non_utf8_file_fails_the_check_without_a_traceback(make_dossier):
    source = make_dossier({"annotations.yaml": BASE_ANNOTATIONS.replace("The Daily", "Le Quotidien d\xe9").encode("latin-1")})
    result = run("check", "--source", str(source))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "annotations.yaml:8: error: the file is not UTF-8 (byte 0xe9 cannot be decoded) (save the file with UTF-8 encoding)")


def test_yaml_syntax_error_fails_the_check_without_a_traceback(make_dossier):
    result = run("check", "--source", str(make_dossier({"annotations.yaml": "site:\n  title: [unclosed\n"})))
    assert result.returncode == 1
    assert result.stderr.startswith("annotations.yaml:3:1: error: YAML syntax error: ")


def test_missing_dossier_folder_fails_the_check_without_a_traceback(tmp_path):
    result = run("check", "--source", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert result.stderr.startswith(f"annotations.yaml: error: no annotations.yaml in {tmp_path / 'nowhere'} ")


def test_check_uses_the_current_folder_by_default(make_dossier):
    result = run("check", cwd=make_dossier())
    assert result.returncode == 0


def test_strict_turns_a_warning_into_exit_1(make_dossier):
    source = make_dossier({"annotations.yaml": NO_URL})
    warning = ("annotations.yaml:16:3: warning: reference 'filing' has no url (add 'url:' or 'archive:' where readers "
               "can check it, or a 'note:' saying why none is known)")
    relaxed = run("check", "--source", str(source))
    assert relaxed.returncode == 0
    assert relaxed.stderr.splitlines()[:2] == [warning, "0 errors, 1 warning"]
    strict = run("check", "--source", str(source), "--strict")
    assert strict.returncode == 1
    assert strict.stderr.splitlines() == [warning, "0 errors, 1 warning (--strict: warnings count as errors)"]


def test_strict_build_with_a_warning_fails_and_writes_nothing(make_dossier, tmp_path):
    source = make_dossier({"annotations.yaml": NO_URL})
    out = tmp_path / "site"
    result = run("--source", str(source), "--out", str(out), "--no-search", "--strict")
    assert result.returncode == 1
    assert not out.exists()
    assert result.stderr.splitlines()[-1] == f"build failed; {out} is unchanged"


def test_build_takes_out_and_source(make_dossier, tmp_path):
    out = tmp_path / "site"
    result = run("--out", str(out), "--source", str(make_dossier()), "--no-search")
    assert result.returncode == 0
    assert (out / "index.html").is_file() and (out / "articles" / "deal" / "index.html").is_file()
    assert result.stderr.startswith("built ") and f" pages into {out} in " in result.stderr


def test_build_writes_into_source_public_by_default(make_dossier):
    source = make_dossier()
    result = run("--source", str(source), "--no-search")
    assert result.returncode == 0
    assert (source / "public" / "index.html").is_file()


def test_failed_build_exits_1_and_keeps_the_output(make_dossier, tmp_path):
    source, out = make_dossier(), tmp_path / "site"
    assert run("--source", str(source), "--out", str(out), "--no-search").returncode == 0
    before = tree_bytes(out)
    (source / "annotations.yaml").write_text(BAD_QUOTE, encoding="utf-8")
    result = run("--source", str(source), "--out", str(out), "--no-search")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == f"build failed; {out} is unchanged"
    assert tree_bytes(out) == before
    assert sorted(os.listdir(tmp_path)) == ["dossier", "site"]


def test_github_actions_gets_workflow_commands_on_stdout(make_dossier):
    result = run("check", "--source", str(make_dossier({"annotations.yaml": BAD_QUOTE})), env={"GITHUB_ACTIONS": "true"})
    assert result.returncode == 1
    assert result.stdout == (
        "::error file=annotations.yaml,line=22,col=5::the quote of annotation 'spelling' is not in "
        "content/articles/deal.md; the nearest passage "
        "(line 7) is \"Meta bought a stake\" (the article says 'bought', the quote says 'bougth': copy the article's "
        "exact words)\n")


def test_unknown_option_is_a_usage_error(make_dossier):
    result = run("check", "--source", str(make_dossier()), "--colour")
    assert result.returncode == 64
    assert "usage: build.py check" in result.stderr
    assert "unrecognized arguments: --colour" in result.stderr


def test_a_missing_argument_is_a_usage_error(make_dossier):
    result = run("diff", "--source", str(make_dossier()))
    assert result.returncode == 64
    assert result.stderr.splitlines()[-1] == "build.py diff: error: the following arguments are required: base"


def test_an_option_without_its_value_or_with_a_bad_one_is_a_usage_error(make_dossier):
    source = str(make_dossier())
    assert run("--source", source, "--out").returncode == 64
    bad_port = run("serve", "--source", source, "--port", "eighty")
    assert bad_port.returncode == 64
    assert "argument --port: invalid int value: 'eighty'" in bad_port.stderr


def test_help_is_not_an_error(make_dossier):
    result = run("check", "--help")
    assert result.returncode == 0 and result.stdout.startswith("usage: build.py check")


def test_exit_code_2_is_only_for_a_bug_in_dossier(make_dossier, tmp_path, monkeypatch, capsys):
    """A bug (here, one planted in the build) is reported in one line, without a traceback."""
    from dossier import cli

    def planted_bug(config):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli, "run_build", planted_bug)
    monkeypatch.setattr(cli, "handle_sigterm", lambda: None)  # leave this process's SIGTERM alone
    monkeypatch.delenv("DOSSIER_DEBUG", raising=False)
    assert cli.main(["--source", str(make_dossier()), "--out", str(tmp_path / "site")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "internal error (a bug in Dossier, please report it): ZeroDivisionError: division by zero",
        "set DOSSIER_DEBUG=1 to see the traceback"]
