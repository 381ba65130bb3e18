"""`serve`'s Annotate button: select words in an article — with the mouse or the keyboard —
and get the stub `annotate` prints for them, with a Copy button; a selection that reaches
into a note, or words that cannot be anchored, are refused with a message saying why."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_PY = ROOT / "build.py"

pytestmark = pytest.mark.browser

EXTRA = """\
---
title: Two tellings
source: example-gazette
kind: news
---
The mayor said the deal was final. The council said nothing.

Later the mayor said the deal was final again, and the council agreed.

The plan is on ![a map of the bridge](map.png) the town's website.
"""


def _env() -> dict:
    import os
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "DOSSIER_DEBUG")}
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`build.py serve` on a new dossier (the starter's example plus an article that says the
    same words twice and has an image); yields (base URL, dossier folder)."""
    folder = tmp_path_factory.mktemp("preview") / "story"
    subprocess.run([sys.executable, str(BUILD_PY), "new", str(folder)], check=True, capture_output=True, env=_env())
    (folder / "content" / "articles" / "two-tellings.md").write_text(EXTRA, encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, str(BUILD_PY), "serve", "--source", str(folder), "--port", str(port),
                                "--no-search"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=_env())
    base = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "articles/two-tellings/", timeout=2).read()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("serve did not start")
            time.sleep(0.2)
    # After its first build, serve finishes the list pages again in the background and then
    # tells the browsers to reload; let that pass before any page is opened, or the reload
    # would wipe a selection under way.
    home = folder / "public" / "index.html"
    first = home.stat().st_mtime_ns
    deadline = time.monotonic() + 20
    while home.stat().st_mtime_ns == first and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    yield base, folder
    process.kill()
    process.wait(timeout=10)


def annotate_cli(folder: Path, article: str, quote: str) -> str:
    result = subprocess.run([sys.executable, str(BUILD_PY), "annotate", article, quote, "--source", str(folder)],
                            capture_output=True, text=True, env=_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


SELECT = """([selector, from, to]) => {
    // Select article text from the `from`-th to the `to`-th character of the element's text, as a
    // keyboard or script would: no mouse event at all.
    const root = document.querySelector(selector);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let seen = 0, start = null, end = null;
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (start === null && seen + n.data.length > from) start = [n, from - seen];
        if (end === null && seen + n.data.length >= to) end = [n, to - seen];
        seen += n.data.length;
    }
    document.getSelection().setBaseAndExtent(start[0], start[1], end[0], end[1]);
}"""


def offsets(page, selector: str, words: str) -> tuple[int, int]:
    text = page.evaluate("(sel) => document.querySelector(sel).textContent", selector)
    start = text.index(words)
    return start, start + len(words)


def box_text(page) -> tuple[str, str]:
    """The box's message and its stub (empty when it shows none)."""
    box = page.locator(".dossier-annotate-box")
    box.wait_for(state="visible")
    message = box.locator("#dossier-annotate-message")
    page.wait_for_function("() => !document.getElementById('dossier-annotate-message').textContent.startsWith('Looking')")
    stub = box.locator("textarea")
    return message.inner_text(), stub.input_value() if stub.is_visible() else ""


def test_selecting_words_with_the_mouse_gives_the_stub_annotate_prints_and_copies_it(served, open_page):
    base, folder = served
    watched = open_page(permissions=["clipboard-read", "clipboard-write"])
    page = watched.page
    page.goto(base + "articles/example-article/")
    words = "rebuild the footbridge over the"
    # Drag across the words with the mouse, from the middle of the first letter to the end.
    box = page.evaluate("""(words) => {
        const p = [...document.querySelectorAll('.article-body p')].find(p => p.textContent.includes(words));
        const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const i = n.data.indexOf(words);
            if (i < 0) continue;
            const r = document.createRange();
            r.setStart(n, i); r.setEnd(n, i + 1); const a = r.getBoundingClientRect();
            r.setStart(n, i + words.length - 1); r.setEnd(n, i + words.length); const b = r.getBoundingClientRect();
            return [a.left + 1, a.top + a.height / 2, b.right - 1, b.top + b.height / 2];
        }
    }""", words)
    page.mouse.move(box[0], box[1])
    page.mouse.down()
    page.mouse.move(box[2], box[3], steps=8)
    page.mouse.up()
    assert page.evaluate("document.getSelection().toString()") == words
    button = page.locator("button.dossier-annotate")
    button.wait_for(state="visible")
    button.click()
    message, stub = box_text(page)
    assert stub == annotate_cli(folder, "example-article", words)
    assert stub.startswith("  - id: rebuild-the-footbridge-over-the\n    article: example-article\n")
    assert "annotations.yaml" in message
    page.locator(".dossier-annotate-box button", has_text="Copy").click()
    page.locator(".dossier-annotate-box", has_text="Copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == stub
    assert watched.errors == []


def test_a_keyboard_selection_is_annotated_from_the_keyboard(served, open_page):
    base, folder = served
    page = open_page().page
    page.goto(base + "articles/example-article/")
    body = ".article-body"
    start, _ = offsets(page, body, "Councillors approved")
    page.evaluate(SELECT, [body, start, start + len("Councillors")])
    for _ in range(len(" approved the plan")):
        page.keyboard.press("Shift+ArrowRight")            # extend the selection from the keyboard
    assert page.evaluate("document.getSelection().toString()") == "Councillors approved the plan"
    page.locator("button.dossier-annotate").wait_for(state="visible")
    page.wait_for_timeout(200)                              # the button follows the selection
    page.keyboard.press("Alt+Shift+A")
    message, stub = box_text(page)
    assert stub == annotate_cli(folder, "example-article", "Councillors approved the plan")
    assert page.evaluate("document.activeElement.textContent") == "Copy"   # focus moved into the box
    page.keyboard.press("Escape")
    assert page.locator(".dossier-annotate-box").is_hidden()
    assert page.evaluate("document.activeElement.className") == "dossier-annotate"
    # Tab reaches the button too, and Enter opens the box.
    page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.className") == "dossier-annotate":
            break
    else:
        pytest.fail("Tab never reached the Annotate button")
    page.keyboard.press("Enter")
    assert box_text(page)[1] == stub


def test_a_selection_across_a_note_marker_leaves_the_marker_out(served, open_page):
    base, folder = served
    page = open_page().page
    page.goto(base + "articles/example-article/")
    body = ".article-body"
    start, end = offsets(page, body, "votes to one")                 # the marker follows "one"
    text = page.evaluate("(sel) => document.querySelector(sel).textContent", body)
    after = text.index(", and work", end)
    page.evaluate(SELECT, [body, start, after + len(", and work")])
    page.locator("button.dossier-annotate").click()
    message, stub = box_text(page)
    assert stub == annotate_cli(folder, "example-article", "votes to one, and work")
    assert "note markers inside your selection are left out" in message


def test_a_selection_that_reaches_into_a_note_is_refused(served, open_page):
    base, _ = served
    page = open_page().page
    page.goto(base + "articles/example-article/")
    page.evaluate("""() => {
        const words = [...document.querySelectorAll('.article-body p')].pop().firstChild;
        const note = document.querySelector('#notes .note-body p').firstChild;
        document.getSelection().setBaseAndExtent(words, 0, note, 5);
    }""")
    page.locator("button.dossier-annotate").click()
    message, stub = box_text(page)
    assert message.startswith("Your selection reaches into a note.") and stub == ""
    assert page.evaluate("document.activeElement.textContent") == "Close"


def test_words_that_cannot_be_anchored_are_refused_with_the_reason(served, open_page):
    base, _ = served
    page = open_page().page
    page.goto(base + "articles/two-tellings/")
    body = ".article-body"
    start, _ = offsets(page, body, "on [image")
    _, end = offsets(page, body, "] the town")
    page.evaluate(SELECT, [body, start, end])               # "[image: …]" is the page's, not the article's
    page.locator("button.dossier-annotate").click()
    message, stub = box_text(page)
    assert message.startswith("These words cannot be annotated: these words cannot be anchored: the quote is not in "
                              "the article; the nearest passage is") and stub == ""


def test_the_selected_one_of_two_occurrences_is_the_one_annotated(served, open_page):
    base, folder = served
    page = open_page().page
    page.goto(base + "articles/two-tellings/")
    body = ".article-body"
    text = page.evaluate("(sel) => document.querySelector(sel).textContent", body)
    second = text.index("the deal was final", text.index("the deal was final") + 1)
    page.evaluate(SELECT, [body, second, second + len("the deal was final")])
    page.locator("button.dossier-annotate").click()
    message, stub = box_text(page)
    both = annotate_cli(folder, "two-tellings", "the deal was final").split("\n\n")
    assert stub == both[1] and "occurrence 2 of 2" in stub and "suffix:" in stub
    assert "occur 2 times" in message


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_button_and_the_box_pass_axe(served, open_page, axe_script, scheme):
    base, _ = served
    page = open_page(bypass_csp=True, color_scheme=scheme).page
    page.goto(base + "articles/example-article/")
    start, end = offsets(page, ".article-body", "rebuild the footbridge")
    page.evaluate(SELECT, [".article-body", start, end])
    page.locator("button.dossier-annotate").wait_for(state="visible")
    assert _axe(page, axe_script) == []
    page.locator("button.dossier-annotate").click()
    assert box_text(page)[1]
    assert _axe(page, axe_script) == []


def _axe(page, script) -> list[dict]:
    page.add_script_tag(path=str(script))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results["violations"]]
