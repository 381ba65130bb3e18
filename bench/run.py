#!/usr/bin/env python3
"""Benchmark Dossier against the floor of its own stack, in one command.

    python bench/run.py --articles 1000 [--seed 1] [--workdir DIR] [--skip-serve]
    python bench/run.py --scales 1000,10000 [--report bench/results.md]

For each N it generates a synthetic dossier (bench/generate.py), then times, each as a
fresh subprocess with wall time and peak memory of its whole process tree:

  floor        a bare markdown-it-py + Jinja2 loop over the same article bodies, with
               the same number of processes the build uses (--processes);
  build        `python build.py --source SRC --out OUT` into an empty OUT;
  no-search    the same with --no-search;
  check        `python build.py check --source SRC`;
  serve        (unless --skip-serve) `python build.py serve`, then the time from saving
               an edit (article body, annotation note, template) until the article's
               page on disk shows it, with a stand-in browser that has that page open;
               20 edits of each kind, median and p100 (the slowest).

The engine is a black box: only its command line and its output folder are used.
See bench/README.md for how to read the figures.
"""
from __future__ import annotations

import os
import sys

# --------------------------------------------------------------------------------------
# The floor. Kept at the top and free of the harness's imports: `run.py --_floor` is
# started as its own process and its start-up is part of what is timed.
# --------------------------------------------------------------------------------------
FLOOR_TEMPLATE = "<html><body>{{ body|safe }}</body></html>"
_MD = _TEMPLATE = None


def strip_front_matter(text: str) -> str:
    """The Markdown body: everything after the closing `---` of the front matter."""
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            newline = text.find("\n", end + 4)
            return "" if newline == -1 else text[newline + 1:]
    return text


def _floor_init() -> None:
    global _MD, _TEMPLATE
    import jinja2
    from markdown_it import MarkdownIt
    _MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    _TEMPLATE = jinja2.Environment(autoescape=True).from_string(FLOOR_TEMPLATE)


def _floor_page(job: tuple[str, str]) -> int:
    source, target = job
    with open(source, encoding="utf-8") as f:
        html = _TEMPLATE.render(body=_MD.render(strip_front_matter(f.read())))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w", encoding="utf-8") as f:
        f.write(html)
    return 1


def floor_main(source: str, out: str, processes: int) -> int:
    """Render every content/articles/*.md of `source` to out/articles/<slug>/index.html."""
    import jinja2  # noqa: F401  (imported before the pool forks, as a build would)
    import markdown_it  # noqa: F401
    folder = os.path.join(source, "content", "articles")
    jobs = [(os.path.join(folder, name), os.path.join(out, "articles", name[:-3], "index.html"))
            for name in sorted(os.listdir(folder)) if name.endswith(".md")]
    if processes <= 1:
        _floor_init()
        done = sum(map(_floor_page, jobs))
    else:
        from multiprocessing import Pool
        chunksize = max(1, -(-len(jobs) // (processes * 4)))
        pool = Pool(processes, initializer=_floor_init)
        try:
            done = sum(pool.imap_unordered(_floor_page, jobs, chunksize))
            pool.close()
        except BaseException:
            pool.terminate()
            raise
        finally:
            pool.join()
    print(done)
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["--_floor"]:
    sys.exit(floor_main(sys.argv[2], sys.argv[3], int(sys.argv[4])))

# --------------------------------------------------------------------------------------
# The harness.
# --------------------------------------------------------------------------------------
import argparse  # noqa: E402
import atexit  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build.py"
GENERATE = ROOT / "bench" / "generate.py"
BUILTIN_ARTICLE_TEMPLATE = ROOT / "layouts" / "article.html"
MIB = 1024 * 1024

_LIVE_GROUPS: set[int] = set()
"""Process groups we started and have not yet seen end: killed at exit whatever happens."""


def _kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@atexit.register
def _kill_leftovers() -> None:
    for pgid in list(_LIVE_GROUPS):
        _kill_group(pgid)
        _LIVE_GROUPS.discard(pgid)


def _exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)  # unwinds through every finally, which stops our children


# ----------------------------------------------------------------------------- measuring
class TreeSampler(threading.Thread):
    """Polls /proc for every process of one session (the command and all it starts) and
    keeps the largest sum of their RSS seen at one instant, and the largest single RSS."""

    def __init__(self, session: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.session, self.interval = session, interval
        self.stop_event = threading.Event()
        self.peak_sum = self.peak_single = 0
        self.peak_processes = 0
        self.samples = 0
        self._members: set[int] = set()
        self._others: set[int] = set()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)

    def stop(self) -> None:
        self.stop_event.set()
        self.join()

    def sample(self) -> None:
        self.samples += 1
        if self.samples % 50 == 0:
            self._others.clear()  # a pid we skipped may have been reused by one of ours
        total = count = 0
        try:
            pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        except OSError:
            return
        for pid in pids:
            if pid in self._others:
                continue
            if pid not in self._members:
                try:
                    with open(f"/proc/{pid}/stat", "rb") as f:
                        stat = f.read()
                    session = int(stat[stat.rfind(b")") + 2:].split()[3])
                except (OSError, ValueError, IndexError):
                    continue
                if session != self.session:
                    self._others.add(pid)
                    continue
                self._members.add(pid)
            try:
                with open(f"/proc/{pid}/statm", "rb") as f:
                    rss = int(f.read().split()[1]) * self._page
            except (OSError, ValueError, IndexError):
                self._members.discard(pid)
                continue
            total += rss
            count += 1
            self.peak_single = max(self.peak_single, rss)
        if total > self.peak_sum:
            self.peak_sum, self.peak_processes = total, count


@dataclass
class Run:
    """One timed command."""
    command: list[str]
    wall_s: float
    returncode: int
    max_rss_mb: float
    """Largest RSS of any one process of the tree (getrusage of the reaped tree)."""
    tree_rss_mb: float
    """Largest sum of the RSS of the tree's live processes at one sample (20 ms)."""
    tree_processes: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_measured(command: list[str], log_stem: Path, timeout: float | None = None) -> Run:
    """Run `command` in its own session; wall time, exit code and memory of its tree."""
    log_stem.parent.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_stem.with_suffix(".stdout"), log_stem.with_suffix(".stderr")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
        _LIVE_GROUPS.add(proc.pid)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        timer = threading.Timer(timeout, _kill_group, (proc.pid,)) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if timer:
                timer.cancel()
            sampler.stop()
            _kill_group(proc.pid)  # anything it left behind (orphaned workers)
            _LIVE_GROUPS.discard(proc.pid)
            if proc.returncode is None:
                proc.wait()
    # ru_maxrss covers the process and every descendant it waited for (in KiB on Linux)
    max_rss = max(usage.ru_maxrss * 1024, sampler.peak_single)
    return Run(command=[str(c) for c in command], wall_s=wall, returncode=proc.returncode,
               max_rss_mb=max_rss / MIB, tree_rss_mb=sampler.peak_sum / MIB, tree_processes=sampler.peak_processes,
               stdout=out_path.read_text(errors="replace"), stderr=err_path.read_text(errors="replace"))


def fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    return path


def tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# ------------------------------------------------------------------------------- serving
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
                _kill_group(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            _kill_group(self.proc.pid, signal.SIGKILL)  # the leader if still up, and any orphans
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


# ------------------------------------------------------------------------------ one size
def count_annotations(src: Path) -> int:
    text = (src / "annotations.yaml").read_text(encoding="utf-8")
    return len(re.findall(r"(?m)^\s*- id:", text))


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench_one(n: int, args) -> dict:
    base = Path(args.workdir).resolve() / f"n{n}"
    logs = base / "logs"
    src = base / "src"
    base.mkdir(parents=True, exist_ok=True)
    fresh(logs)
    r: dict = {"n": n, "seed": args.seed, "processes": args.processes, "failures": []}

    def say(message: str) -> None:
        print(f"[N={n}] {message}", file=sys.stderr, flush=True)

    if args.dossier:  # a dossier generated before: a copy, as serve's edits change it
        say(f"copying {args.dossier} into {src}")
        fresh(src)
        gen = run_measured(["cp", "-r", str(Path(args.dossier).resolve()), str(src)], logs / "generate")
        (src / "annotations.lock").unlink(missing_ok=True)
        (src / "layouts" / "article.html").unlink(missing_ok=True)  # a template edit of an earlier run
    else:
        say(f"generating {n} articles into {src}")
        gen = run_measured([sys.executable, str(GENERATE), str(src), "--articles", str(n), "--seed", str(args.seed)],
                           logs / "generate")
    if not gen.ok:
        raise RuntimeError(f"bench/generate.py failed (exit {gen.returncode}):\n{tail(gen.stderr)}")
    r["generate_s"] = gen.wall_s
    r["articles"] = len(list((src / "content" / "articles").glob("*.md")))
    r["annotations"] = count_annotations(src)
    r["entities"], r["events"], r["references"] = max(1, n // 5), max(1, n // 2), n
    say(f"generated in {gen.wall_s:.1f}s: {r['articles']} articles, {r['annotations']} annotations")

    lock = src / "annotations.lock"  # written by each build; removed so every run sees the same input

    def timed(name: str, command: list[str], out: Path | None) -> Run | None:
        runs = []
        for i in range(args.repeat):
            if out is not None:
                fresh(out)
            if lock.exists():
                lock.unlink()
            run = run_measured(command, logs / f"{name}-{i + 1}", timeout=args.timeout)
            say(f"{name:<10} {run.wall_s:7.2f}s  exit {run.returncode}  max RSS {run.max_rss_mb:.0f} MB"
                f"  tree {run.tree_rss_mb:.0f} MB")
            if not run.ok:
                r["failures"].append(f"{name}: exit {run.returncode}: {tail(run.stderr, 4)}")
                say(f"{name} FAILED:\n{tail(run.stderr)}")
                return None
            runs.append(run)
        best = sorted(runs, key=lambda x: x.wall_s)[len(runs) // 2]  # the median run
        r[name] = {"s": median([x.wall_s for x in runs]), "runs_s": [x.wall_s for x in runs],
                   "max_rss_mb": max(x.max_rss_mb for x in runs), "tree_rss_mb": max(x.tree_rss_mb for x in runs),
                   "tree_processes": max(x.tree_processes for x in runs), "stderr_tail": tail(best.stderr, 3)}
        return best

    if args.skip_builds:
        timed = lambda *_: None  # noqa: E731  (serve only: no floor, builds or check)
    floor_out = base / "out-floor"
    floor = timed("floor", [sys.executable, str(Path(__file__).resolve()), "--_floor", str(src), str(floor_out),
                            str(args.processes)], floor_out)
    if floor is not None:
        written = int(floor.stdout.strip() or 0)
        if written != r["articles"]:
            r["failures"].append(f"floor wrote {written} pages for {r['articles']} articles")
    build_out = base / "out-build"
    if timed("build", [sys.executable, str(BUILD), "--source", str(src), "--out", str(build_out)], build_out):
        r["pages"] = sum(1 for _ in build_out.rglob("*.html"))
        r["pages_per_s"] = r["pages"] / r["build"]["s"]
    nosearch_out = base / "out-nosearch"
    if timed("nosearch", [sys.executable, str(BUILD), "--source", str(src), "--out", str(nosearch_out), "--no-search"],
             nosearch_out):
        r["pages_nosearch"] = sum(1 for _ in nosearch_out.rglob("*.html"))
    timed("check", [sys.executable, str(BUILD), "check", "--source", str(src)], None)

    if not args.skip_serve:
        slug = "article-00042" if (src / "content" / "articles" / "article-00042.md").is_file() else \
            sorted(p.stem for p in (src / "content" / "articles").glob("*.md"))[r["articles"] // 2]
        build_s = r.get("build", {}).get("s", 60.0)
        edit_timeout = args.serve_timeout or max(30.0, 5 * build_s)
        say(f"serve: editing {slug}, {args.serve_reps} edits of each kind (timeout {edit_timeout:.0f}s each)")
        if lock.exists():
            lock.unlink()
        if args.layouts_before_serve:
            (src / "layouts").mkdir(exist_ok=True)
        try:
            r["serve"] = bench_serve(src, fresh(base / "out-serve"), logs, slug, args.serve_reps, args.serve_spacing,
                                     args.serve_settle, edit_timeout, start_timeout=max(120.0, 20 * build_s))
            for kind in ("article", "annotation", "template"):
                missed = sum(t is None for t in r["serve"][kind])
                if missed:
                    r["failures"].append(f"serve: {missed} of {len(r['serve'][kind])} {kind} edits never reached "
                                         f"the page within {edit_timeout:.0f}s"
                                         + (" (gave up on the rest)" if r["serve"].get(f"{kind}_gave_up") else ""))
            for edit in r["serve"].get("reload_before_page", []):
                r["failures"].append(f"serve: the browser was told to reload before the edited page was on disk ({edit})")
            served, on_disk = r["serve"]["home_served_bytes"], r["serve"]["home_file_bytes"]
            if served < on_disk:  # the live-reload script makes the served page a little longer, never shorter
                r["failures"].append(f"serve: GET / returned {served} bytes but index.html has {on_disk} (truncated)")
        except (ServerDied, TimeoutError, ValueError, OSError) as exc:
            r["failures"].append(f"serve: {exc}")
            say(f"serve FAILED: {exc}")

    if not args.keep:
        for folder in (src, floor_out, build_out, nosearch_out, base / "out-serve"):
            shutil.rmtree(folder, ignore_errors=True)
        for leftover in base.glob(".out-*"):  # temporary folders of an interrupted build
            shutil.rmtree(leftover, ignore_errors=True)
    return r


# ------------------------------------------------------------------------------ reporting
def machine() -> dict:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or "?"
    except OSError:
        commit = "?"
    versions = {}
    for package in ("markdown-it-py", "jinja2", "pyyaml"):
        try:
            from importlib.metadata import version
            versions[package] = version(package)
        except Exception:  # noqa: BLE001
            versions[package] = "?"
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory": memory, "python": platform.python_version(),
            "platform": platform.platform(), "load_avg": os.getloadavg(), "commit": commit, "versions": versions,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def _s(r: dict, key: str) -> str:
    return f"{r[key]['s']:.2f}" if key in r else "FAIL"


def _ratio(r: dict, key: str) -> str:
    return f"{r[key]['s'] / r['floor']['s']:.1f}×" if key in r and "floor" in r else "–"


def _rss(r: dict) -> str:
    if "build" not in r:
        return "–"
    return f"{r['build']['max_rss_mb']:.0f} / {r['build']['tree_rss_mb']:.0f}"


def _serve(r: dict, kind: str) -> str:
    """Median / p100 (the slowest edit) in ms."""
    if "serve" not in r:
        return "–" if r.get("skip_serve") else "FAIL"
    times = r["serve"].get(kind) or []
    got = [t * 1000 for t in times if t is not None]
    if not got:
        return "timeout"
    text = f"{median(got):.0f} / {max(got):.0f}"
    return text if len(got) == len(times) else f"{text} ({len(times) - len(got)} timeouts)"


COLUMNS = [
    ("N", lambda r: str(r["n"])),
    ("articles", lambda r: str(r["articles"])),
    ("annotations", lambda r: str(r["annotations"])),
    ("floor (s)", lambda r: _s(r, "floor")),
    ("cold build (s)", lambda r: _s(r, "build")),
    ("cold build, no search (s)", lambda r: _s(r, "nosearch")),
    ("build / floor", lambda r: _ratio(r, "build")),
    ("no-search / floor", lambda r: _ratio(r, "nosearch")),
    ("pages written", lambda r: str(r.get("pages", "–"))),
    ("pages/s", lambda r: f"{r['pages_per_s']:.0f}" if "pages_per_s" in r else "–"),
    ("check (s)", lambda r: _s(r, "check")),
    ("peak RSS MB (1 proc / tree)", _rss),
    ("serve article ms (med / p100)", lambda r: _serve(r, "article")),
    ("serve annotation ms (med / p100)", lambda r: _serve(r, "annotation")),
    ("serve template ms (med / p100)", lambda r: _serve(r, "template")),
]
EXTRA_ROWS = [
    ("generate (s, not counted)", lambda r: f"{r['generate_s']:.2f}"),
    ("floor peak RSS MB (1 proc / tree)",
     lambda r: f"{r['floor']['max_rss_mb']:.0f} / {r['floor']['tree_rss_mb']:.0f}" if "floor" in r else "–"),
    ("no-search peak RSS MB (1 proc / tree)",
     lambda r: f"{r['nosearch']['max_rss_mb']:.0f} / {r['nosearch']['tree_rss_mb']:.0f}" if "nosearch" in r else "–"),
    ("build: most processes at once", lambda r: str(r["build"]["tree_processes"]) if "build" in r else "–"),
    ("check peak RSS MB", lambda r: f"{r['check']['max_rss_mb']:.0f}" if "check" in r else "–"),
    ("serve start-up (s)", lambda r: f"{r['serve']['startup_s']:.2f}" if "serve" in r else "–"),
    ("serve RSS at end MB (tree)", lambda r: f"{r['serve']['rss_end_mb']:.0f}" if "serve" in r else "–"),
    ("serve rebuilds logged", lambda r: str(r["serve"]["log_rebuilds"]) if "serve" in r else "–"),
    *[(f"serve {kind} edit → reload ms (med / p100)", lambda r, k=f"{kind}_reload": _serve(r, k))
      for kind in ("article", "annotation", "template")],
    ("serve load avg (1 min) start / end",
     lambda r: "{:.2f} / {:.2f}".format(r["serve"]["load_avg_start"][0], r["serve"]["load_avg_end"][0])
     if "serve" in r else "–"),
]
LINEAR = [("floor", "floor"), ("cold build", "build"), ("cold build, no search", "nosearch"), ("check", "check")]


def linearity(results: list[dict]) -> list[tuple[str, str, str, str]]:
    """(pair, metric, time ratio, exponent) for each consecutive pair of sizes (and
    smallest → largest when there are more than two)."""
    ordered = sorted(results, key=lambda r: r["n"])
    pairs = list(zip(ordered, ordered[1:]))
    if len(ordered) > 2:
        pairs.append((ordered[0], ordered[-1]))
    rows = []
    for small, large in pairs:
        n_ratio = large["n"] / small["n"]
        for label, key in LINEAR:
            if key in small and key in large:
                t_ratio = large[key]["s"] / small[key]["s"]
                exponent = math.log(t_ratio) / math.log(n_ratio) if n_ratio > 1 and t_ratio > 0 else float("nan")
                rows.append((f"{small['n']} → {large['n']} (N ×{n_ratio:g})", label, f"×{t_ratio:.2f}",
                             f"{exponent:.2f}"))
    return rows


def machine_line(m: dict, args) -> str:
    load = f"load avg (1 min) at start {m['load_avg'][0]:.2f}"
    if "load_avg_end" in m:
        load += f", at end {m['load_avg_end'][0]:.2f}"
    return (f"{m['cpus']} CPUs ({m['cpu_model']}), {m['memory']} RAM, Python {m['python']}, {m['platform']}; "
            f"{load}; floor processes {args.processes}; seed {args.seed}; repeat {args.repeat}; "
            f"commit {m['commit']}; markdown-it-py {m['versions']['markdown-it-py']}, Jinja2 {m['versions']['jinja2']}")


def text_report(results: list[dict], m: dict, args) -> str:
    rows = COLUMNS[1:] + EXTRA_ROWS
    head = ["N"] + [str(r["n"]) for r in results]
    body = [[label] + [fn(r) for r in results] for label, fn in rows]
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
    lines = [f"Machine: {machine_line(m, args)}", ""]
    for row in [head] + body:
        lines.append("  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]))
    lin = linearity(results)
    if lin:
        lines += ["", "Linearity (time ratio vs N ratio; exponent = log(time ratio) / log(N ratio), 1.00 = linear):"]
        for pair, label, ratio, exponent in lin:
            lines.append(f"  {pair:<28} {label:<24} {ratio:>8}  exponent {exponent}")
    for r in results:
        for problem in r["failures"]:
            lines.append(f"PROBLEM at N={r['n']}: {problem}")
        for line in r.get("serve", {}).get("log_problems", []):
            lines.append(f"serve log at N={r['n']}: {line}")
    return "\n".join(lines)


def markdown_report(results: list[dict], m: dict, args) -> str:
    out = [f"#### Dossier benchmark, {m['date']}", "", f"Machine: {machine_line(m, args)}", "",
           "| " + " | ".join(label for label, _ in COLUMNS) + " |",
           "|" + "|".join("---:" for _ in COLUMNS) + "|"]
    out += ["| " + " | ".join(fn(r) for _, fn in COLUMNS) + " |" for r in results]
    lin = linearity(results)
    if lin:
        out += ["", "| sizes | measure | time ratio | exponent (1.00 = linear) |", "|---|---|---:|---:|"]
        out += [f"| {pair} | {label} | {ratio} | {exponent} |" for pair, label, ratio, exponent in lin]
    problems = [f"- N={r['n']}: {p}" for r in results for p in r["failures"]]
    if problems:
        out += ["", "Problems:"] + problems
    return "\n".join(out) + "\n\n"


# ----------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark Dossier (build, check, serve) against a "
                                                 "markdown-it-py + Jinja2 floor on a synthetic dossier.")
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--articles", type=int, metavar="N", help="number of articles to generate")
    size.add_argument("--scales", metavar="N,N,...", help="several sizes in one run, e.g. 1000,10000")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "out"),
                        help="where dossiers, outputs and logs go (default bench/out/, git-ignored)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="processes for the floor (default os.cpu_count(), as the build)")
    parser.add_argument("--repeat", type=int, default=1, help="run floor, builds and check R times; report the median")
    parser.add_argument("--skip-serve", action="store_true", help="skip the serve latency measurements")
    parser.add_argument("--skip-builds", action="store_true", help="skip the floor, the builds and check (serve only)")
    parser.add_argument("--dossier", metavar="DIR",
                        help="use a copy of this generated dossier instead of generating one (N must match its size)")
    parser.add_argument("--serve-reps", type=int, default=20, help="edits of each kind (default 20)")
    parser.add_argument("--serve-spacing", type=float, default=1.5, help="seconds between two edits (default 1.5)")
    parser.add_argument("--serve-settle", type=float, default=0.5,
                        help="at least this many seconds after a change showed before the next edit (default 0.5)")
    parser.add_argument("--serve-timeout", type=float, default=None,
                        help="give up on one edit after this many seconds (default max(30, 5 × cold build))")
    parser.add_argument("--layouts-before-serve", action="store_true",
                        help="create an empty SRC/layouts/ before serve starts (by default the template edit creates it)")
    parser.add_argument("--timeout", type=float, default=None, help="kill a timed command after this many seconds")
    parser.add_argument("--report", metavar="FILE", help="append the results as a Markdown table to FILE")
    parser.add_argument("--json", metavar="FILE", help="write every measurement as JSON to FILE")
    parser.add_argument("--keep", action="store_true", help="keep the generated dossiers and outputs")
    args = parser.parse_args(argv)
    if args.scales:
        try:
            sizes = [int(x) for x in args.scales.split(",") if x.strip()]
        except ValueError:
            parser.error("--scales takes numbers separated by commas, e.g. 1000,10000")
    else:
        sizes = [args.articles]
    if not sizes or min(sizes) < 1 or args.repeat < 1 or args.serve_reps < 1 or args.processes < 1:
        parser.error("sizes, --repeat, --serve-reps and --processes must be at least 1")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    m = machine()
    results = []
    try:
        for n in sizes:
            r = bench_one(n, args)
            r["skip_serve"] = args.skip_serve
            results.append(r)
    except KeyboardInterrupt:
        print("interrupted; every process the benchmark started has been stopped", file=sys.stderr)
        return 130
    finally:
        _kill_leftovers()
    m["load_avg_end"] = os.getloadavg()
    print(text_report(results, m, args))
    if args.report:
        with open(args.report, "a", encoding="utf-8") as f:
            f.write(markdown_report(results, m, args))
        print(f"\nappended the Markdown table to {args.report}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": m, "results": results}, indent=2, default=str) + "\n",
                                   encoding="utf-8")
    return 1 if any(r["failures"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
