"""`serve` measured: the time from saving an edit (an article body, an annotation's note, a
template) until the edited article's page on disk shows it; and the edits themselves, which
the warm-build measurement uses too."""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from measure import _LIVE_GROUPS, MIB, ROOT, TreeSampler, kill_group

BUILD = ROOT / "build.py"
BUILTIN_ARTICLE_TEMPLATE = ROOT / "layouts" / "article.html"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerDied(RuntimeError):
    pass


class Server:
    """`build.py serve` in its own session, stopped (and its whole group killed) on exit."""

    def __init__(self, src: Path, out: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = log
        self.command = [sys.executable, str(BUILD), "serve", "--source", str(src), "--out", str(out),
                        "--port", str(self.port)]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        _LIVE_GROUPS.add(self.proc.pid)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ensure_alive(self) -> None:
        if not self.alive():
            raise ServerDied(f"serve exited with code {self.proc.returncode}; log {self.log_path}:\n"
                             + tail(self.log_text()))

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_ready(self, timeout: float) -> tuple[float, bytes]:
        """Seconds until the home page answers 200 over HTTP, and the page it served."""
        import urllib.error
        import urllib.request
        started = time.perf_counter()
        while True:
            self.ensure_alive()
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    if response.status == 200:
                        elapsed = time.perf_counter() - started
                        return elapsed, response.read()
            except (urllib.error.URLError, OSError):
                pass
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"serve did not answer {self.url} within {timeout:.0f}s; log {self.log_path}")
            time.sleep(0.05)

    def rss_mb(self) -> float:
        if not self.alive():
            return 0.0
        sampler = TreeSampler(self.proc.pid)
        sampler.sample()
        return sampler.peak_sum / MIB

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL it after 5 s, and reap."""
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                kill_group(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            kill_group(self.proc.pid, signal.SIGKILL)  # the leader if still up, and any orphans
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            _LIVE_GROUPS.discard(self.proc.pid)
            self._log.close()


class Browser(threading.Thread):
    """A stand-in for a browser with the edited page open: it speaks livereload's protocol
    over the server's WebSocket (hello, then `info` with the page's URL, as livereload.js
    does) and notes when each `reload` arrives and whether the page on disk then had the
    edit's token. A minimal RFC 6455 client: text frames only, masked as clients must."""

    def __init__(self, port: int, path: str, page: Path):
        super().__init__(daemon=True)
        self.page, self.token = page, ""
        self.reloads: list[tuple[float, bool]] = []
        """(perf_counter when a reload arrived, whether the page on disk had the token then)."""
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = secrets.token_bytes(16).hex()[:22] + "=="
        self.sock.sendall(f"GET /livereload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                          f"Origin: http://127.0.0.1:{port}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("serve closed the live-reload WebSocket during the handshake")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise OSError(f"serve refused the live-reload WebSocket: {head[:80]!r}")
        self.buffer = head.split(b"\r\n\r\n", 1)[1]
        self.sock.settimeout(None)
        self.send({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]})
        if self.receive().get("command") != "hello":
            raise OSError("serve did not answer livereload's hello")
        self.send({"command": "info", "plugins": {}, "url": f"http://127.0.0.1:{port}/{path}"})
        self.start()

    def send(self, message: dict) -> None:
        payload, mask = json.dumps(message).encode(), secrets.token_bytes(4)
        length = bytes([0x80 | len(payload)]) if len(payload) < 126 else bytes([0xFE]) + len(payload).to_bytes(2, "big")
        self.sock.sendall(bytes([0x81]) + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def receive(self) -> dict:
        """The next text message (server frames are unmasked; control frames are skipped)."""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(self._read(2), "big")
            elif length == 127:
                length = int.from_bytes(self._read(8), "big")
            payload = self._read(length)
            if first & 0x0F == 0x8:
                raise EOFError
            if first & 0x0F == 0x1:
                return json.loads(payload)

    def run(self) -> None:
        try:
            while True:
                if self.receive().get("command") == "reload":
                    at = time.perf_counter()
                    try:
                        shown = bool(self.token) and self.token.encode() in self.page.read_bytes()
                    except OSError:
                        shown = False
                    self.reloads.append((at, shown))
        except (EOFError, OSError, ValueError):
            pass

    def first_reload_after(self, started: float, wait: float) -> tuple[float, bool] | None:
        """(seconds from `started` to the first reload after it, whether the page had the token
        then), waiting up to `wait` seconds for it; None if none came."""
        deadline = time.perf_counter() + wait
        while True:
            later = [r for r in list(self.reloads) if r[0] >= started]
            if later:
                return later[0][0] - started, later[0][1]
            if time.perf_counter() > deadline:
                return None
            time.sleep(0.005)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def write_text(path: Path, text: str) -> None:
    """Save like an editor that writes in place: truncate, write, close."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class ArticleEdit:
    """Appends a sentence with the token to the first plain paragraph of an article body."""
    kind = "article"

    def __init__(self, src: Path, slug: str):
        self.path = src / "content" / "articles" / f"{slug}.md"
        self.lines = self.path.read_text(encoding="utf-8").split("\n")
        self.line = self._paragraph_end()

    def _paragraph_end(self) -> int:
        fences = [i for i, line in enumerate(self.lines) if line.strip() == "---"]
        start = fences[1] + 1 if self.lines and self.lines[0].strip() == "---" and len(fences) > 1 else 0
        for i in range(start, len(self.lines)):
            line = self.lines[i]
            following = self.lines[i + 1] if i + 1 < len(self.lines) else ""
            if (line.strip() and line.rstrip().endswith(".") and not following.strip()
                    and not re.match(r"(#|[-*+] |>|\||\s{4}|\d+[.)] |```|~~~)", line)):
                return i
        raise ValueError(f"{self.path}: no plain paragraph to append a sentence to")

    def apply(self, token: str) -> None:
        lines = list(self.lines)
        lines[self.line] = lines[self.line].rstrip() + f" Bench edit {token}."
        write_text(self.path, "\n".join(lines))

    def restore(self) -> None:
        write_text(self.path, "\n".join(self.lines))


class AnnotationEdit:
    """Replaces the `note:` of one of the article's annotations with the token."""
    kind = "annotation"

    def __init__(self, src: Path, slug: str):
        self.path = src / "annotations.yaml"
        self.lines = self.path.read_text(encoding="utf-8").split("\n")
        self.line = self._note_line(slug)

    def _note_line(self, slug: str) -> int:
        in_annotations, item_article, item_note = False, None, None
        candidates = []
        for i, line in enumerate(self.lines + ["end:"]):
            if re.match(r"\S", line):  # a top-level key
                if item_article == slug and item_note is not None:
                    candidates.append(item_note)
                in_annotations, item_article, item_note = line.startswith("annotations:"), None, None
                continue
            if not in_annotations:
                continue
            if re.match(r"\s*- ", line) and len(line) - len(line.lstrip()) <= 2:  # a new list item
                if item_article == slug and item_note is not None:
                    candidates.append(item_note)
                item_article, item_note = None, None
            key = re.match(r"\s*(?:- )?(article|note):\s*(.*)$", line)
            if key and key.group(1) == "article":
                item_article = key.group(2).strip().strip("'\"")
            elif key and key.group(2).strip() and key.group(2).strip()[0] not in "|>":
                item_note = i
        if not candidates:
            raise ValueError(f"{self.path}: no annotation of {slug} with a one-line note")
        return candidates[0]

    def apply(self, token: str) -> None:
        lines = list(self.lines)
        lines[self.line] = lines[self.line][:lines[self.line].index("note:")] + f"note: {token}"
        write_text(self.path, "\n".join(lines))


class TemplateEdit:
    """The built-in article.html copied into SRC/layouts/ with an HTML comment in its
    content block; later repetitions rewrite that copy with a new comment."""
    kind = "template"

    def __init__(self, src: Path, _slug: str):
        self.path = src / "layouts" / "article.html"
        self.base = BUILTIN_ARTICLE_TEMPLATE.read_text(encoding="utf-8")
        block = (re.search(r"\{%-?\s*block\s+(content|main|body)\s*-?%\}", self.base)
                 or (None if "extends" in self.base else re.match(r"", self.base)))
        if block is None:
            raise ValueError(f"{BUILTIN_ARTICLE_TEMPLATE}: no content block to put a marker in")
        self.at = block.end()

    def apply(self, token: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text(self.path, f"{self.base[:self.at]}\n<!-- bench {token} -->\n{self.base[self.at:]}")


def wait_for_token(page: Path, token: str, started: float, timeout: float, server: Server) -> float | None:
    """Seconds from `started` until `page` contains `token` (polled every 2 ms), or None."""
    needle = token.encode()
    checks = 0
    while True:
        try:
            with open(page, "rb") as f:
                if needle in f.read():
                    return time.perf_counter() - started
        except OSError:
            pass  # between the old page and the new one (atomic swap)
        now = time.perf_counter()
        if now - started > timeout:
            return None
        checks += 1
        if checks % 50 == 0:
            server.ensure_alive()
        time.sleep(0.002)


def bench_serve(src: Path, out: Path, logs: Path, slug: str, reps: int, spacing: float, settle: float,
                edit_timeout: float, start_timeout: float) -> dict:
    result: dict = {"slug": slug, "reps": reps}
    page = out / "articles" / slug / "index.html"
    result["load_avg_start"] = os.getloadavg()
    with Server(src, out, logs / "serve.log") as server:
        result["startup_s"], served = server.wait_ready(start_timeout)
        on_disk = (out / "index.html").read_bytes() if (out / "index.html").is_file() else b""
        result["home_served_bytes"], result["home_file_bytes"] = len(served), len(on_disk)
        # the page itself must be there before we edit
        deadline = time.perf_counter() + start_timeout
        while not page.is_file():
            server.ensure_alive()
            if time.perf_counter() > deadline:
                raise TimeoutError(f"serve answers but {page} does not exist")
            time.sleep(0.05)
        time.sleep(settle)
        browser = Browser(server.port, f"articles/{slug}/", page)  # the edited page is the one open
        last_edit = last_seen = 0.0
        for edit_class in (ArticleEdit, AnnotationEdit, TemplateEdit):
            edit = edit_class(src, slug)
            times: list[float | None] = []
            reloads: list[float | None] = []
            for rep in range(reps):
                if rep >= 2 and all(t is None for t in times):
                    print(f"    serve {edit.kind:<10} giving up after {rep} timeouts", file=sys.stderr, flush=True)
                    result[f"{edit.kind}_gave_up"] = True
                    break
                pause = max(last_edit + spacing, last_seen + settle) - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                token = "zq" + secrets.token_hex(5)
                browser.token = token
                edit.apply(token)
                last_edit = time.perf_counter()
                latency = wait_for_token(page, token, last_edit, edit_timeout, server)
                last_seen = time.perf_counter()
                times.append(latency)
                reload = browser.first_reload_after(last_edit, 2.0 if latency is not None else 0)
                reloads.append(reload[0] if reload else None)
                if reload and not reload[1]:
                    result.setdefault("reload_before_page", []).append(f"{edit.kind} {token}")
                shown = "timeout" if latency is None else f"{latency * 1000:.0f} ms"
                told = "no reload" if reload is None else f"reload at {reload[0] * 1000:.0f} ms" + (
                    "" if reload[1] else " (BEFORE the page was on disk)")
                print(f"    serve {edit.kind:<10} {token}: {shown}, {told}  (load {os.getloadavg()[0]:.2f})",
                      file=sys.stderr, flush=True)
            result[edit.kind] = times
            result[f"{edit.kind}_reload"] = reloads
        browser.close()
        time.sleep(settle)
        result["rss_end_mb"] = server.rss_mb()
        server.ensure_alive()
    result["load_avg_end"] = os.getloadavg()
    log = server.log_text()
    result["log"] = str(server.log_path)
    result["log_rebuilds"] = len(re.findall(r"(?im)^.*\brebuil\w*\b.*\d.*$", log))
    result["log_rebuild_ms"] = [float(x) for x in re.findall(r"(?i)rebuilt .*? in ([\d.]+) ?ms", log)]
    result["log_problems"] = [line for line in log.splitlines()
                              if re.search(r"(?i)error|traceback|exception|failed", line)][:20]
    return result
