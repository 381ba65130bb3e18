"""`serve`'s preview endpoint for the Annotate button: the stub `annotate` prints, computed on
the server's last good build; the script is served by `serve` only, never built into the site."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import BUILD_PY, ROOT, annotations_with, article, build_env, resolve_strings

from dossier import preview

STORY = article("""
    Meta paid $14.3 billion for a stake. Scale said the deal was final.

    Later, Scale said the deal was final again, and Meta agreed.
    """)


def annotate_cli(folder, slug: str, quote: str) -> str:
    result = subprocess.run([sys.executable, str(BUILD_PY), "annotate", slug, quote, "--source", str(folder)],
                            capture_output=True, text=True, env=build_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def serving(make_dossier, tmp_path):
    """start(files) → (base URL, folder) of `build.py serve` on a scratch dossier; stopped after the test."""
    processes = []

    def start(files: dict) -> str:
        folder = make_dossier(files)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        process = subprocess.Popen([sys.executable, str(BUILD_PY), "serve", "--source", str(folder), "--out",
                                    str(tmp_path / "site"), "--port", str(port), "--no-search"],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True, env=build_env())
        processes.append(process)
        for line in process.stderr:  # the server says when it listens
            if line.startswith("serving "):
                break
        return f"http://127.0.0.1:{port}/", folder

    yield start
    for process in processes:
        process.kill()
        process.wait(timeout=10)
        process.stderr.close()


def post(base: str, payload, content_type: str = "application/json") -> tuple[int, dict]:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    request = urllib.request.Request(base + "__dossier/annotate", data=data, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_endpoint_answers_with_the_stub_annotate_prints(serving):
    base, folder = serving({"content/articles/deal.md": STORY})
    status, body = post(base, {"article": "deal", "text": "Meta paid $14.3\n billion"})
    assert status == 200 and body["occurrences"] == 1
    assert body["yaml"] == annotate_cli(folder, "deal", "Meta paid $14.3 billion")
    assert body["yaml"].startswith("  - id: meta-paid-14-3-billion\n    article: deal\n")


def test_the_endpoint_says_why_it_cannot(serving):
    base, _ = serving({"content/articles/deal.md": STORY})
    status, body = post(base, {"article": "deal", "text": "Meta paid $15 billion"})
    assert status == 422
    assert body["error"] == ("these words cannot be anchored: the quote is not in the article; the nearest passage is "
                             "\"Meta paid $14.3 billion\" (the article says '$14.3', the quote says '$15')")
    assert post(base, {"article": "nope", "text": "Meta"}) == (
        404, {"error": "there is no article 'nope' in the last good build (save it, or reload the page)"})
    assert post(base, {"article": "deal", "text": "  "})[0] == 400
    assert post(base, {"article": "deal", "text": "x" * 6000})[0] == 400
    assert post(base, [1, 2])[0] == 400
    assert post(base, b"not json")[0] == 400
    # A form post from another site cannot reach it: only JSON is read.
    assert post(base, b"article=deal&text=Meta", "application/x-www-form-urlencoded")[0] == 415


def test_the_endpoint_waits_for_a_good_build(serving):
    base, _ = serving({"annotations.yaml": "site: [\n"})  # the first build fails
    status, body = post(base, {"article": "deal", "text": "Meta"})
    assert status == 503 and body["error"].startswith("the preview has no good build yet")


def test_serve_adds_the_script_and_a_build_never_has_it(serving, tmp_path):
    base, folder = serving({"content/articles/deal.md": STORY})
    with urllib.request.urlopen(base + "articles/deal/", timeout=10) as response:
        assert '<script src="/__dossier/preview.js" defer></script></head>' in response.read().decode("utf-8")
    with urllib.request.urlopen(base + "__dossier/preview.js", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/javascript")
        assert response.read() == (ROOT / "dossier" / "preview.js").read_bytes()
    out = tmp_path / "built"
    result = subprocess.run([sys.executable, str(BUILD_PY), "--source", str(folder), "--out", str(out)],
                            capture_output=True, text=True, env=build_env(), timeout=300)
    assert result.returncode == 0, result.stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert b"__dossier" not in path.read_bytes(), path
    assert not list(out.rglob("preview.js"))


# ---- choosing the selected occurrence -----------------------------------------------------

def answer_for(request: dict) -> tuple[int, dict]:
    dossier, problems = resolve_strings(annotations_with("annotations: []\n"), {"deal": STORY})
    assert not [p for p in problems if p.level == "error"]
    return preview.answer(dossier, request)


def test_the_occurrence_the_page_shows_around_the_selection_is_the_one_annotated():
    second = {"article": "deal", "text": "the deal was final", "before": "final.\n\nLater, Scale said ",
              "after": " again, and Meta agreed."}
    status, body = answer_for(second)
    assert status == 200 and body["occurrences"] == 2 and body["chosen"] == 2
    assert body["yaml"].splitlines()[:5] == ["  # occurrence 2 of 2", "  - id: the-deal-was-final-2", "    article: deal",
                                             '    quote: "the deal was final"', '    suffix: "again,"']
    first = dict(second, before="for a stake. Scale said ", after=". Later, Scale")
    assert answer_for(first)[1]["chosen"] == 1


def test_without_telling_context_every_occurrence_gets_its_stub():
    status, body = answer_for({"article": "deal", "text": "the deal was final"})
    assert status == 200 and "chosen" not in body
    assert body["yaml"].count("  - id: ") == 2 and "occur 2 times" in body["message"]
