"""`python build.py serve`: serve the site over HTTP, rebuild after edits, keep serving the
last good site when a build fails, and rebuild once for a burst of saves."""
from __future__ import annotations

import gzip
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import BASE_ANNOTATIONS, BUILD_PY, ROOT, annotations_with, build_env, dedent, tree_bytes

TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerLog:
    """The server's stderr, line by line, read on a thread so the pipe never fills."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def wait_for(self, predicate, after: int = 0, timeout: float = TIMEOUT) -> str:
        """The first line from index `after` on that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for line in self.lines[after:]:
                    if predicate(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("the server did not print the expected line; it printed:\n" + "\n".join(self.lines))
                self.changed.wait(remaining)

    def count(self, prefix: str, after: int = 0) -> int:
        with self.changed:
            return sum(line.startswith(prefix) for line in self.lines[after:])

    def mark(self) -> int:
        with self.changed:
            return len(self.lines)


@dataclass
class Server:
    source: Path
    out: Path
    port: int
    log: ServerLog
    process: subprocess.Popen

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url(path), timeout=2) as response:
            return response.read().decode("utf-8")

    def write(self, relpath: str, text: str) -> None:
        (self.source / relpath).write_text(dedent(text), encoding="utf-8")

    def wait_until_served(self, path: str, text: str, timeout: float = TIMEOUT) -> str:
        """Poll `path` until its page contains `text`; return the page."""
        deadline = time.monotonic() + timeout
        page = ""
        while time.monotonic() < deadline:
            try:
                page = self.get(path)
            except urllib.error.HTTPError as exc:  # not built yet
                page = f"HTTP {exc.code}"
            if text in page:
                return page
            time.sleep(0.05)
        raise AssertionError(f"{path} never showed {text!r} within {timeout} s; server log:\n" + "\n".join(self.log.lines))


def article_text(sentence: str) -> str:
    return f"---\ntitle: The deal\nsource: daily\nkind: news\npublished: 2025-06-12\n---\nMeta bought a stake. {sentence}\n"


SETTLE = 1.0
"""Seconds to leave the server after it says it is serving, so its file watcher is armed
(test_an_edit_saved_right_after_startup_is_not_lost covers the moment before)."""


@pytest.fixture
def start_server(make_dossier, tmp_path):
    """Start `build.py serve` on a free port; the process is killed when the test ends."""
    processes = []

    def start(settle: float = SETTLE, env: dict | None = None, search: bool = False) -> Server:
        source = make_dossier({"content/articles/deal.md": article_text("First version of the text.")})
        out, port = tmp_path / "site", free_port()
        process = subprocess.Popen(
            [sys.executable, str(BUILD_PY), "serve", "--source", str(source), "--out", str(out), "--port", str(port)]
            + ([] if search else ["--no-search"]),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**build_env(), **(env or {})})
        processes.append(process)
        log = ServerLog(process.stderr)
        log.wait_for(lambda line: line.startswith("serving "))
        time.sleep(settle)
        return Server(source, out, port, log, process)

    yield start
    for process in processes:
        process.kill()
        process.wait(timeout=10)
        process.stderr.close()


@pytest.fixture
def server(start_server):
    return start_server()


def test_serve_serves_the_built_site_over_http(server):
    page = server.get("articles/deal/")
    assert "First version of the text." in page
    assert server.log.count("rebuilt ") == 1
    assert "Test dossier" in server.get("")
    assert all("Traceback" not in line for line in server.log.lines)


def test_missing_page_gets_the_404_page(server):
    with pytest.raises(urllib.error.HTTPError) as caught:
        server.get("no/such/page/")
    assert caught.value.code == 404
    assert "Test dossier" in caught.value.read().decode("utf-8")


def test_an_edited_article_is_served_after_the_rebuild(server):
    server.write("content/articles/deal.md", article_text("Second version, freshly edited."))
    page = server.wait_until_served("articles/deal/", "Second version, freshly edited.")
    assert "First version of the text." not in page


def test_browsers_are_told_to_reload_once_the_edited_page_is_on_disk(server):
    """livereload's WebSocket says "reload" after an edit, and by then the new page is served."""
    import asyncio
    import json
    from tornado.websocket import websocket_connect

    async def reload_after_edit() -> dict:
        socket = await websocket_connect(f"ws://127.0.0.1:{server.port}/livereload")
        socket.write_message(json.dumps({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}))
        assert json.loads(await asyncio.wait_for(socket.read_message(), TIMEOUT))["command"] == "hello"
        socket.write_message(json.dumps({"command": "info", "url": server.url("articles/deal/")}))
        await asyncio.sleep(0.2)  # the server has it in its list of browsers to reload
        server.write("content/articles/deal.md", article_text("Reloaded version."))
        while True:
            message = json.loads(await asyncio.wait_for(socket.read_message(), TIMEOUT))
            if message.get("command") == "reload":
                socket.close()
                return message

    # The first build's list pages are finished by a forked child, which reloads the browsers
    # when it is done: let it finish first, so the reload read below is the edit's.
    import time
    deadline = time.monotonic() + TIMEOUT
    while _children(server.process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as thread:  # its own event loop, whatever runs in this thread
        assert thread.submit(asyncio.run, reload_after_edit()).result()["path"] == "*"
    assert "Reloaded version." in server.get("articles/deal/")


def _children(pid: int) -> list[str]:
    """The ids of a process's child processes (Linux's /proc)."""
    from pathlib import Path
    return [child for task in Path(f"/proc/{pid}/task").glob("*") for child in
            (task / "children").read_text().split()] if Path(f"/proc/{pid}/task").is_dir() else []


def wait_for_background_finish(server: Server) -> None:
    """Until the forked child that finishes the last rebuild has ended."""
    deadline = time.monotonic() + TIMEOUT
    while _children(server.process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_after_a_template_edit_the_open_page_is_written_and_reloaded_before_the_others(server):
    """The browser says which page it shows (livereload's `info`); after a template edit that
    page is written and the browser reloaded at once, and the other pages follow later."""
    import asyncio
    import json
    from tornado.websocket import websocket_connect

    start = server.log.mark()
    (server.source / "layouts").mkdir()  # a rebuild of its own (changing no page): let it end first
    server.log.wait_for(lambda line: line.startswith("rebuilt (layouts/)"), after=start)
    time.sleep(0.3)
    wait_for_background_finish(server)
    marker = "<!-- base v1 -->"
    base = (ROOT / "layouts" / "base.html").read_text(encoding="utf-8").replace("</footer>", "</footer>" + marker, 1)
    shown = server.out / "articles" / "deal" / "index.html"

    async def reload_after_edit() -> bool:
        socket = await websocket_connect(f"ws://127.0.0.1:{server.port}/livereload")
        socket.write_message(json.dumps({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}))
        assert json.loads(await asyncio.wait_for(socket.read_message(), TIMEOUT))["command"] == "hello"
        socket.write_message(json.dumps({"command": "info", "url": server.url("articles/deal/index.html")}))
        await asyncio.sleep(0.2)  # the server has it in its list of browsers to reload
        (server.source / "layouts" / "base.html").write_text(base, encoding="utf-8")
        while json.loads(await asyncio.wait_for(socket.read_message(), TIMEOUT)).get("command") != "reload":
            pass
        socket.close()
        return marker in shown.read_text(encoding="utf-8")

    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as thread:
        assert thread.submit(asyncio.run, reload_after_edit()).result(), "the browser reloaded before its page was written"
    assert server.log.wait_for(lambda line: line.startswith("rebuilt (layouts/base.html) in ")).endswith(
        " more pages follow in the background")
    server.wait_until_served("", marker)  # the home page, written in the background
    home = server.out / "index.html"
    assert shown.stat().st_mtime_ns < home.stat().st_mtime_ns  # the open page first
    assert all("Traceback" not in line and "failed" not in line for line in server.log.lines), server.log.lines


def test_serve_freezes_its_heap_and_a_rebuild_leaves_no_cycles_in_it(start_server):
    """After each rebuild serve collects what the rebuild left and freezes the rest (gc.freeze),
    so no collection walks the long-lived heap again; DOSSIER_TIMINGS logs both figures."""
    server = start_server(env={"DOSSIER_TIMINGS": "1"})
    for n in range(3):
        start = server.log.mark()
        server.write("content/articles/deal.md", article_text(f"Edit number {n}."))
        server.log.wait_for(lambda line: line.startswith("rebuilt "), after=start)
        heap = server.log.wait_for(lambda line: line.startswith("  heap: "), after=start)
        found, frozen = map(int, re.fullmatch(r"  heap: (\d+) unreachable objects collected in \d+ ms; (\d+) frozen",
                                              heap).groups())
        assert frozen > 10_000, heap
        assert found < 10, heap  # none, measured; a rendered page alone used to leave ~230
        time.sleep(0.2)


def test_page_of_reads_the_page_a_browser_shows():
    from dossier.preview_app import page_of
    assert page_of("http://127.0.0.1:8000/") == ""
    assert page_of("http://127.0.0.1:8000/index.html") == ""
    assert page_of("http://localhost:8000/articles/deal/index.html?x=1#note") == "articles/deal/"
    assert page_of("http://127.0.0.1:8000/articles/deal/") == "articles/deal/"
    assert page_of("http://127.0.0.1:8000/entities/caf%C3%A9/") == "entities/café/"
    assert page_of("http://127.0.0.1:8000/404.html") == "404.html"


def test_a_file_replaced_while_it_is_sent_is_sent_whole(server):
    """Rebuilds run beside the server, so a page can be replaced while it is being sent:
    every response is one whole version of the file, never a mix or a cut."""
    import os
    versions = [b"a" * 300_000, b"b" * 100_000]
    target = server.out / "flip.txt"
    target.write_bytes(versions[0])
    stop = threading.Event()

    def flip() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            tmp = server.out / ".flip.tmp"
            tmp.write_bytes(versions[n % 2])
            os.replace(tmp, target)

    thread = threading.Thread(target=flip)
    thread.start()
    try:
        bodies = []
        for _ in range(150):
            with urllib.request.urlopen(server.url("flip.txt"), timeout=5) as response:
                bodies.append(response.read())
    finally:
        stop.set()
        thread.join()
    assert all(body in versions for body in bodies)
    assert set(bodies) == set(versions)  # both versions were seen: the file did change under it


def test_an_edit_saved_right_after_startup_is_not_lost(start_server):
    server = start_server(settle=0)
    server.write("content/articles/deal.md", article_text("Saved at once."))
    server.wait_until_served("articles/deal/", "Saved at once.")


def test_a_failed_rebuild_keeps_the_old_site_and_prints_the_error_then_recovers(server):
    server.write("content/articles/deal.md", article_text("Second version, freshly edited."))
    server.wait_until_served("articles/deal/", "Second version, freshly edited.")

    start = server.log.mark()
    server.write("annotations.yaml", annotations_with("""
        annotations:
          - id: broken
            article: deal
            quote: words that are nowhere
            kind: context
        """))
    server.log.wait_for(lambda line: line == "rebuild failed; still serving the last good site", after=start)
    assert server.log.wait_for(lambda line: ": error: " in line, after=start).startswith(
        "annotations.yaml:22:5: error: the quote of annotation 'broken' is not in content/articles/deal.md")
    page = server.get("articles/deal/")
    assert "Second version, freshly edited." in page
    assert 'id="broken"' not in page

    start = server.log.mark()
    server.write("annotations.yaml", annotations_with("""
        annotations:
          - id: fixed
            article: deal
            quote: freshly edited
            kind: context
        """))
    server.log.wait_for(lambda line: line.startswith("rebuilt "), after=start)
    server.wait_until_served("articles/deal/", 'id="fixed"')


def test_saving_several_files_at_once_rebuilds_once(server):
    start = server.log.mark()
    server.write("content/articles/deal.md", article_text("Edited together, one."))
    server.write("content/articles/second.md", article_text("Edited together, two.").replace("The deal", "Second"))
    server.write("annotations.yaml", BASE_ANNOTATIONS.replace("title: Test dossier", "title: Renamed dossier"))
    server.wait_until_served("articles/second/", "Edited together, two.")
    # (the edited articles are written first, before the rest of the rebuild, from the last
    # build's site settings: the new title follows when the rebuild writes them again)
    server.wait_until_served("articles/deal/", "Renamed dossier")
    time.sleep(0.8)  # several polling periods: a second rebuild would have started by now
    assert server.log.count("rebuilt ", after=start) == 1
    assert server.log.count("rebuild failed", after=start) == 0


def test_a_page_larger_than_one_chunk_is_served_whole(server):
    long_text = " ".join(f"Sentence {n} says Meta bought a stake." for n in range(4000))  # > 64 KiB
    server.write("content/articles/deal.md", article_text(long_text))
    page = server.wait_until_served("articles/deal/", "Sentence 3999")
    on_disk = (server.out / "articles/deal/index.html").read_text(encoding="utf-8")
    assert len(on_disk.encode()) > 65536
    assert page.endswith("</html>\n") and page.replace('<script src="/livereload.js?port=', "", 1) != page
    injected = f'<script src="/livereload.js?port={server.port}"></script><script src="/__dossier/preview.js" defer></script>'
    assert len(page) == len(on_disk) + len(injected)


def test_a_layouts_folder_created_while_serving_is_used(server):
    (server.source / "layouts").mkdir()  # the folder and its file appear at once, as with cp -r
    server.write("layouts/article.html", (ROOT / "layouts" / "article.html").read_text(encoding="utf-8")
                 .replace("{% block content %}", "{% block content %}<!-- own layout -->", 1))
    server.wait_until_served("articles/deal/", "<!-- own layout -->")
    assert "<!-- own layout -->" not in server.get("")  # only the overridden template changed


def test_list_pages_and_data_files_catch_up_after_an_edit(server):
    """They are finished in a background process after each rebuild, for the newest one."""
    for n in range(3):  # edits in quick succession: each stops the finish of the one before
        server.write("content/articles/deal.md", article_text("A stake.").replace("title: The deal", f"title: Deal {n}"))
        time.sleep(0.15)
    server.wait_until_served("articles/", "Deal 2")
    server.wait_until_served("dossier.json", '"title":"Deal 2"')
    server.wait_until_served("feed.xml", "<title>Deal 2</title>")
    assert "Deal 1" not in server.get("articles/") and "Deal 1" not in server.get("dossier.json")
    assert all("failed" not in line and "Traceback" not in line for line in server.log.lines), server.log.lines
    assert not list(server.out.rglob(".*.tmp")), "an interrupted finish leaves no temporary file behind"


# ---- only this machine's browsers, only this server ---------------------------------------

def raw_response(port: int, request: str) -> tuple[int, bytes]:
    """Send `request` as it is; (status, the response: its headers and its Content-Length of
    body, or all until the server closes the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request.encode())
        response = b""
        while True:
            chunk = sock.recv(65536)
            response += chunk
            head, _, body = response.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length: *(\d+)", head)
            if not chunk or _ and (length is None and response.startswith(b"HTTP/1.1 101")
                                   or length is not None and len(body) >= int(length.group(1))):
                break
    match = re.match(rb"HTTP/1\.[01] (\d{3})", response)
    return (int(match.group(1)) if match else 0), response


def get_with(port: int, path: str, host: str | None, origin: str | None = None) -> tuple[int, bytes]:
    headers = (f"Host: {host}\r\n" if host is not None else "") + (f"Origin: {origin}\r\n" if origin else "")
    return raw_response(port, f"GET {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n")


def websocket_with(port: int, host: str, origin: str | None = None) -> tuple[int, bytes]:
    origin_line = f"Origin: {origin}\r\n" if origin else ""
    return raw_response(port, f"GET /livereload HTTP/1.1\r\nHost: {host}\r\n{origin_line}Upgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n")


def test_serve_answers_only_requests_for_localhost_or_its_own_address(server):
    """A page elsewhere can point a name of its own at 127.0.0.1 (DNS rebinding); its requests
    then carry that name as Host, and get nothing: no page, no script, no WebSocket."""
    port = server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}", f"[::1]:{port}"):
        status, response = get_with(port, "/articles/deal/", host)
        assert status == 200 and b"First version of the text." in response, (host, response[:300])
        assert get_with(port, "/livereload.js", host)[0] == 200
        assert websocket_with(port, host)[0] == 101
        assert websocket_with(port, host, origin=f"http://{host}")[0] == 101
    for host in ("rebound.example", f"rebound.example:{port}", f"localhost.rebound.example:{port}", "localhost",
                 f"localhost:{port + 1}", f"127.0.0.1:{port}.rebound.example", "", None):
        for path in ("/", "/articles/deal/", "/no/such/page/", "/livereload.js", "/static/style.css"):
            status, response = get_with(port, path, host)
            assert status in (400, 403), (host, path, response[:300])
            body = response.split(b"\r\n\r\n", 1)[-1]
            assert b"Test dossier" not in body and b"First version" not in body and b"LiveReload" not in body, body
        if host is not None:
            assert websocket_with(port, host)[0] in (400, 403), host
    # A page on another site may open a WebSocket to 127.0.0.1 itself: its browser says where it is from.
    assert websocket_with(port, f"127.0.0.1:{port}", origin="http://rebound.example")[0] == 403
    assert websocket_with(port, f"127.0.0.1:{port}", origin="null")[0] == 403
    assert all("Traceback" not in line for line in server.log.lines)


def test_a_deleted_output_folder_is_written_whole_by_the_next_rebuild(server, tmp_path):
    for _ in range(100):  # `rm -r public` while serving (the background finish may be writing: again until gone)
        shutil.rmtree(server.out, ignore_errors=True)
        if not server.out.exists():
            break
    assert not server.out.exists()
    server.write("content/articles/deal.md", article_text("Written after the folder was deleted."))
    server.wait_until_served("articles/deal/", "Written after the folder was deleted.")
    cold = tmp_path / "cold"
    built = subprocess.run([sys.executable, str(BUILD_PY), "--source", str(server.source), "--out", str(cold),
                            "--no-search", "--base-url", f"http://127.0.0.1:{server.port}/"],
                           env=build_env(), capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    served = {path: data for path, data in tree_bytes(server.out).items() if not re.search(r"(^|/)\.[^/]*\.tmp$", path)}
    assert served == tree_bytes(cold)  # every file of a full build, byte for byte
    assert server.get("static/style.css") and "Test dossier" in server.get("")


def test_sigterm_stops_serve_with_exit_code_143(server):
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=TIMEOUT) == 143
    server.log.thread.join(timeout=TIMEOUT)
    assert server.log.lines[-1] == "stopped", server.log.lines
    assert all("Traceback" not in line for line in server.log.lines), server.log.lines


def test_the_background_finish_waits_out_a_burst_of_edits():
    """A finish started between two edits of a burst is stopped by the second before it is
    done, having only slowed it down: while saves come every few seconds it waits longer than
    the time between them; after sporadic edits, a quiet second."""
    from collections import deque
    from dossier.serve import BURST, QUIET, BackgroundFinisher

    finisher = object.__new__(BackgroundFinisher)  # its rhythm alone: no session, no thread
    finisher.requested = deque(maxlen=6)
    assert finisher.quiet() == QUIET  # the first edit
    for at in (100.0, 101.5, 103.0, 104.5):
        finisher.requested.append(at)
    assert 1.5 < finisher.quiet() <= BURST  # the next save, 1.5 s on, comes before a finish starts
    finisher.requested.extend([104.6, 104.7, 104.8, 104.9, 105.0])
    assert finisher.quiet() == QUIET  # one save of several files: no need to wait longer
    finisher.requested.extend([200.0, 300.0, 400.0, 500.0, 600.0, 700.0])
    assert finisher.quiet() == QUIET


def indexed_text(out: Path) -> str:
    """The text of every page in the search index under `out` (Pagefind's fragments)."""
    texts = []
    for path in (out / "pagefind").rglob("*.pf_fragment"):
        data = gzip.decompress(path.read_bytes())
        texts.append(json.loads(data[len(b"pagefind_dcd"):])["content"])
    return "\n".join(texts)


def wait_for_index(out: Path, text: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while text not in indexed_text(out) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert text in indexed_text(out), f"{text!r} never reached the search index"


def test_the_search_index_follows_an_edit(start_server):
    """The background finish indexes the site again after an edit (it once failed, quietly,
    on every edit, and search kept the text of the first build)."""
    server = start_server(search=True)
    wait_for_index(server.out, "First version")
    server.write("content/articles/deal.md", article_text("A zqsearchable second version."))
    wait_for_index(server.out, "zqsearchable")
    assert "First version" not in indexed_text(server.out)
    assert all("failed" not in line and "Traceback" not in line for line in server.log.lines), server.log.lines
