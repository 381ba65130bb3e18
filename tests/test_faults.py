"""Faults (issue #8): an output folder that cannot be written, a disk that fills up in the
middle of a build, a failing swap, Ctrl-C during a build, and an editor that saves half a
file, deletes or renames one under `serve`. Each time: a clear error (or exit 130), the
previous site byte for byte intact, no `.public.tmp-*` or `.public.old-*` folder left
behind, and a dev server that keeps serving, only on 127.0.0.1, only its output folder.
"""
from __future__ import annotations

import errno
import os
import pathlib
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import BASE_FILES, BUILD_PY, ROOT, annotations_with, build_env, tree_bytes, write_files

from dossier import write as write_module
from dossier.write import MARKER, MARKER_TEXT
from dossier.site import Config, build


def run_build(source: Path, out: Path, *options: str, **popen) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILD_PY), "--source", str(source), "--out", str(out), *options],
                          env=build_env(), capture_output=True, text=True, timeout=300, **popen)


def leftovers(out: Path) -> list[str]:
    """Temporary or old copies of the output next to it."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


@pytest.fixture
def previous(make_dossier, tmp_path):
    """A dossier and its good site in tmp_path/site/public; returns (source, out, bytes)."""
    source = make_dossier()
    out = tmp_path / "site" / "public"
    result = run_build(source, out, "--no-search")
    assert result.returncode == 0, result.stderr
    return source, out, tree_bytes(out)


def assert_untouched(out: Path, before: dict, stderr: str = "") -> None:
    assert tree_bytes(out) == before, f"the previous site changed; stderr:\n{stderr}"
    assert leftovers(out) == [], f"left behind next to the output: {leftovers(out)}"


# ---- an output folder whose parent cannot be written ---------------------------------------

@contextmanager
def unwritable(folder: Path):
    """Make `folder` refuse new entries, even for root; yields how, or None if no way works
    here (then the caller simulates the failure in-process)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield "chmod 555"
        finally:
            folder.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr and subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode == 0:
        try:
            yield "chattr +i"
        finally:
            subprocess.run([chattr, "-i", str(folder)], check=True)
        return
    yield None


def test_an_unwritable_output_parent_fails_cleanly_and_keeps_the_site(previous, monkeypatch):
    source, out, before = previous
    with unwritable(out.parent) as how:
        if how is not None:
            result = run_build(source, out, "--no-search")
            assert result.returncode == 1, f"{how}: {result.stderr}"
            assert "Traceback" not in result.stderr
            stderr = result.stderr
        else:  # neither chmod (we are root) nor chattr works here: refuse the folder in-process
            def refuse(*args, **kwargs):
                raise PermissionError(errno.EACCES, "Permission denied")
            monkeypatch.setattr(write_module.tempfile, "mkdtemp", refuse)
            outcome = build(Config(source=source, out=out, search=False))
            assert not outcome.ok
            stderr = "\n".join(d.format() for d in outcome.diagnostics)
    error_lines = [line for line in stderr.splitlines() if ": error: " in line or line.startswith("error:")]
    assert any(str(out) in line for line in error_lines), stderr  # the error names the output folder
    assert_untouched(out, before, stderr)


def test_an_output_path_through_a_file_fails_cleanly(make_dossier, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "a-file" / "public"
    result = run_build(make_dossier(), out, "--no-search")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert str(out) in result.stderr
    assert (tmp_path / "a-file").read_text() == "not a folder"


# ---- the disk fills up in the middle of a build ----------------------------------------------

@pytest.mark.parametrize("fail_after", [0, 3, 11])
def test_a_full_disk_mid_build_fails_cleanly_and_keeps_the_site(previous, monkeypatch, fail_after):
    """In-process: every file write after the first `fail_after` raises ENOSPC."""
    source, out, before = previous
    monkeypatch.setenv("DOSSIER_PROCESSES", "1")  # every write in this process, where it is patched
    writes = {"count": 0}

    def full(original):
        def write(self, *args, **kwargs):
            writes["count"] += 1
            if writes["count"] > fail_after:
                raise OSError(errno.ENOSPC, "No space left on device", str(self))
            return original(self, *args, **kwargs)
        return write

    monkeypatch.setattr(pathlib.Path, "write_text", full(pathlib.Path.write_text))
    monkeypatch.setattr(pathlib.Path, "write_bytes", full(pathlib.Path.write_bytes))
    outcome = build(Config(source=source, out=out, search=False))
    assert writes["count"] > fail_after, "the build never reached the failing write"
    assert not outcome.ok
    errors = [d for d in outcome.diagnostics if d.level == "error"]
    assert errors and any(str(out) in d.location.path or str(out) in d.message for d in errors), errors
    assert any("No space left" in d.message for d in errors), errors
    assert_untouched(out, before)


@contextmanager
def small_disk(folder: Path, size: int):
    """A `size`-byte tmpfs mounted on `folder` (root only); yields False where none can be."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        yield False
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def limit_file_size(limit: int):
    """For a child process: files may not grow past `limit` bytes (EFBIG, not a signal)."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_disk_fails_the_real_build_and_keeps_the_site(make_dossier, tmp_path):
    """A real filesystem that fills up (a small tmpfs, as root), or else a file-size limit:
    the write fails inside the OS, in a `python build.py` subprocess."""
    long_article = "---\ntitle: Long\nsource: daily\nkind: news\n---\n" + "Meta bought a stake in a data company. " * 3000
    source = make_dossier({"content/articles/long.md": long_article})
    probe = tmp_path / "probe" / "public"
    assert run_build(source, probe, "--no-search").returncode == 0
    files = [p for p in probe.rglob("*") if p.is_file()]
    used = sum(-(-p.stat().st_size // 4096) * 4096 for p in files) + 16 * 4096  # whole pages, and some slack
    disk = tmp_path / "disk"
    with small_disk(disk, used * 3 // 2) as real:  # room for the previous site and half of the next
        out = disk / "public"
        shutil.copytree(probe, out)
        before = tree_bytes(out)
        if real:
            result = run_build(source, out, "--no-search")
        else:
            result = run_build(source, out, "--no-search", preexec_fn=limit_file_size(64 * 1024))
        how = "a full tmpfs" if real else "a file-size limit"
        assert result.returncode == 1, f"{how}: {result.stderr}"
        assert "Traceback" not in result.stderr
        assert re.search(r"(No space left|File too large)", result.stderr), result.stderr
        assert str(out) in result.stderr
        assert_untouched(out, before, result.stderr)


def test_a_swap_that_fails_halfway_puts_the_previous_site_back(previous, monkeypatch):
    """The old output is moved aside, then moving the new one in fails: the old one returns."""
    source, out, before = previous
    real_rename = os.rename

    def rename(src, dst, *args, **kwargs):
        if Path(dst) == out and Path(src).name.startswith(f".{out.name}.tmp-"):
            raise OSError(errno.EIO, "Input/output error")
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(write_module.os, "rename", rename)
    outcome = build(Config(source=source, out=out, search=False))
    assert not outcome.ok
    assert any("Input/output error" in d.message for d in outcome.diagnostics), outcome.diagnostics
    assert_untouched(out, before)


# ---- Ctrl-C ---------------------------------------------------------------------------------

def test_ctrl_c_while_the_old_site_is_removed_leaves_nothing_behind(previous, monkeypatch):
    """Ctrl-C lands after the new site is in place, while the old copy is being deleted: it
    is held until the swap is done, so no `.public.old-*` folder is left behind."""
    source, out, before = previous
    real_rmtree = write_module.shutil.rmtree

    def rmtree(path, *args, **kwargs):
        if Path(path).name.startswith(f".{out.name}.old-"):
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, delivered now
            time.sleep(0.05)
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(write_module.shutil, "rmtree", rmtree)
    with pytest.raises(KeyboardInterrupt):
        build(Config(source=source, out=out, search=False))
    assert_untouched(out, before)  # the same input: the new site has the same bytes as the old

@pytest.fixture(scope="module")
def big_dossier(tmp_path_factory) -> Path:
    """300 generated articles: a build that takes a few seconds, on every core."""
    folder = tmp_path_factory.mktemp("big") / "dossier"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), str(folder), "--articles", "300"],
                   check=True, capture_output=True, timeout=120)
    return folder


def workers_of(pid: int) -> list[str]:
    """The child processes of `pid` (Linux: /proc; elsewhere, after a second, pretend)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if not children.parent.exists():
        time.sleep(1.0)
        return ["?"]
    try:
        return children.read_text().split()
    except OSError:
        return []


def pages_in(folder: Path) -> int:
    return sum(1 for _ in folder.glob("articles/*/index.html"))


def previous_site(out: Path) -> dict[str, bytes]:
    """A site that an earlier build left in `out` (with Dossier's mark); returns its files."""
    write_files(out, {"index.html": "<p>the previous site</p>\n", MARKER: MARKER_TEXT})
    return tree_bytes(out)


def indexer_of(pid: int) -> bool:
    """Whether the search indexer (Pagefind) runs as a child of `pid`."""
    for child in workers_of(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--site" in command and any(b"pagefind" in part for part in command):
            return True
    return False


def start_build_and_wait(source: Path, out: Path, moment: str) -> subprocess.Popen:
    """`build.py` in a session of its own, once it is at `moment`: checking (the articles are
    parsed and anchored by worker processes), writing (some pages written, most not: the
    workers are rendering) or indexing (Pagefind runs over the finished pages)."""
    process = subprocess.Popen([sys.executable, str(BUILD_PY), "--source", str(source), "--out", str(out)],
                               env=build_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    arrived = {"while-checking": lambda: workers_of(process.pid),
               "while-writing": lambda: any(pages_in(p) >= 20 for p in out.parent.glob(f".{out.name}.tmp-*")),
               "while-indexing": lambda: indexer_of(process.pid)}[moment]
    deadline = time.monotonic() + 120
    try:
        while not arrived():
            assert process.poll() is None, "the build ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        assert process.poll() is None, "the build ended before it could be interrupted"
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process


def stopped(process: subprocess.Popen, signum: int, group: bool) -> tuple[str, list[str]]:
    """Send `signum` to the build (or its whole process group); its stderr, once every process
    holding it has ended, and the worker processes it had that are still running."""
    workers = workers_of(process.pid)
    try:
        (os.killpg if group else os.kill)(process.pid, signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return stderr, [pid for pid in workers if running(pid)]


def running(pid: str) -> bool:
    """Whether process `pid` exists and has not ended (an unreaped zombie has ended)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


@pytest.mark.parametrize("moment", ["while-checking", "while-writing"])
def test_ctrl_c_during_a_build_exits_130_and_keeps_the_site(big_dossier, tmp_path, moment):
    """SIGINT to the whole process group, as a terminal's Ctrl-C sends it: the main process
    and its workers (and the search indexer) all receive it."""
    out = tmp_path / "site" / "public"
    before = previous_site(out)
    process = start_build_and_wait(big_dossier, out, moment)
    stderr, _ = stopped(process, signal.SIGINT, group=True)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert "KeyboardInterrupt" not in stderr and "ForkPoolWorker" not in stderr, stderr
    assert "interrupted" in stderr
    assert_untouched(out, before, stderr)


@pytest.mark.parametrize("group", [False, True], ids=["to-the-build", "to-its-process-group"])
@pytest.mark.parametrize("moment", ["while-checking", "while-writing", "while-indexing"])
def test_sigterm_during_a_build_exits_143_and_keeps_the_site(big_dossier, tmp_path, moment, group):
    """SIGTERM, as `timeout` sends it to the build alone and a cancelled CI job to every process
    of the step: handled as Ctrl-C is, with exit code 143, and no worker left running."""
    out = tmp_path / "site" / "public"
    before = previous_site(out)
    process = start_build_and_wait(big_dossier, out, moment)
    stderr, still_running = stopped(process, signal.SIGTERM, group)
    assert process.returncode == 143, stderr
    assert stderr == "terminated; the previous output is unchanged\n", stderr  # no traceback from any process
    assert still_running == []
    assert_untouched(out, before, stderr)


def test_a_build_killed_outright_leaves_what_the_next_build_clears(big_dossier, make_dossier, tmp_path):
    """SIGKILL cannot be handled: the temporary folder stays, but the workers end with the
    build (silently), and the next build of the same --out removes the folder."""
    out = tmp_path / "site" / "public"
    process = start_build_and_wait(big_dossier, out, "while-writing")
    stderr, _ = stopped(process, signal.SIGKILL, group=False)  # stderr closes once the workers are gone too
    assert process.returncode == -signal.SIGKILL
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert [name.split("-")[0] for name in leftovers(out)] == [".public.tmp"]
    result = run_build(make_dossier(), out, "--no-search")
    assert result.returncode == 0, result.stderr
    assert leftovers(out) == []
    assert (out / "articles" / "deal" / "index.html").is_file()


# ---- serve: faults while editing, where it listens, what it serves ---------------------------

ANNOTATED = annotations_with("""
    annotations:
      - id: stake
        article: deal
        quote: bought a stake
        kind: context
        note: A note.
    """)


def article_text(sentence: str) -> str:
    return f"---\ntitle: The deal\nsource: daily\nkind: news\npublished: 2025-06-12\n---\nMeta bought a stake. {sentence}\n"


class Log:
    """A process's stderr, line by line, read on a thread so the pipe never fills."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def mark(self) -> int:
        with self.changed:
            return len(self.lines)

    def wait_for(self, predicate, after: int = 0, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for line in self.lines[after:]:
                    if predicate(line):
                        return line
                if time.monotonic() > deadline:
                    raise AssertionError("the server did not print the expected line; it printed:\n" + "\n".join(self.lines))
                self.changed.wait(0.1)


@dataclass
class Server:
    process: subprocess.Popen
    source: Path
    out: Path
    port: int
    log: Log

    def request(self, raw_path: str, method: str = "GET") -> tuple[int, bytes]:
        """A raw HTTP/1.1 request, the path sent exactly as given: (status, whole response)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(f"{method} {raw_path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nConnection: close\r\n\r\n".encode())
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        response = b"".join(chunks)
        match = re.match(rb"HTTP/1\.[01] (\d{3})", response)
        return (int(match.group(1)) if match else 0), response

    def page(self, path: str) -> str:
        status, response = self.request("/" + path)
        assert status == 200, response[:300]
        return response.decode("utf-8", "replace")

    def alive(self) -> None:
        assert self.process.poll() is None, "the server stopped:\n" + "\n".join(self.log.lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`build.py serve` without --host, on a free port, over a dossier with one annotated
    article; a file named `secret` sits next to its output folder."""
    root = tmp_path_factory.mktemp("serve")
    source = write_files(root / "dossier", {**BASE_FILES, "annotations.yaml": ANNOTATED,
                                            "content/articles/deal.md": article_text("First version.")})
    out = root / "site" / "public"
    (root / "site").mkdir()
    (root / "site" / "secret").write_text("TOP-SECRET-next-to-the-output\n")
    (root / "secret").write_text("TOP-SECRET-further-up\n")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(BUILD_PY), "serve", "--source", str(source), "--out", str(out), "--port", str(port), "--no-search"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=build_env())
    log = Log(process.stderr)
    try:
        log.wait_for(lambda line: line.startswith("serving "))
        time.sleep(1.0)  # let the file watcher arm
        yield Server(process, source, out, port, log)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def listening_addresses(port: int) -> list[str]:
    """Local addresses with a socket listening on `port`, from /proc/net/tcp and tcp6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.append(address)
    return found


def other_local_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
            address = sock.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_serve_listens_on_127_0_0_1_only_by_default(server):
    server.alive()
    assert listening_addresses(server.port) == ["0100007F"]  # 127.0.0.1, and no IPv6 or wildcard socket
    address = other_local_address()
    if address is not None:
        with pytest.raises(OSError):
            socket.create_connection((address, server.port), timeout=2).close()


TRAVERSALS = ["/../secret", "/%2e%2e/secret", "/..%2fsecret", "/%2e%2e%2fsecret", "/%2E%2E/secret", "/.%2e/secret",
              "//etc/passwd", "/static/../../secret", "/static/%2e%2e/%2e%2e/secret", "/..\\secret", "/%2e%2e%5csecret",
              "/..%5csecret", "/../../secret", "/./../secret", "/%252e%252e/secret", "/..;/secret", "../secret",
              "/%2e%2e/%2e%2e/secret", "/public/../secret", "/../public/../secret", "http://127.0.0.1/../secret",
              "/%c0%ae%c0%ae/secret", "/..%00/secret", "/../../../../../../etc/passwd", "/static/..%2f..%2fsecret"]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_serve_never_serves_a_file_outside_the_output_folder(server, path):
    status, response = server.request(path)
    assert b"TOP-SECRET" not in response and b"root:x:0:0" not in response, response[:500]
    assert status in (301, 302, 400, 403, 404), response[:500]
    server.alive()


def test_serve_survives_half_saved_deleted_and_renamed_files_and_recovers(server):
    article = server.source / "content/articles/deal.md"
    assert "First version." in server.page("articles/deal/")

    def saved(change, *, fails: bool, expect_error: str = "") -> None:
        start = server.log.mark()
        change()
        outcome = "rebuild failed" if fails else "rebuilt "
        server.log.wait_for(lambda line: line.startswith(outcome), after=start)
        if expect_error:
            server.log.wait_for(lambda line: ": error: " in line and expect_error in line, after=start)
        assert not any("Traceback" in line or "internal error" in line for line in server.log.lines[start:]), \
            "\n".join(server.log.lines[start:])
        server.alive()

    # An editor's save cut off in the middle of the front matter.
    saved(lambda: article.write_text("---\ntitle: The de"), fails=True, expect_error="content/articles/deal.md")
    assert "First version." in server.page("articles/deal/")       # the last good build, still served
    saved(lambda: article.write_text(article_text("Second version.")), fails=False)
    assert "Second version." in server.page("articles/deal/")      # recovered

    # Half a body: the annotated words are gone for now.
    saved(lambda: article.write_text(article_text("")[: -len("ought a stake. \n")]), fails=True,
          expect_error="annotations.yaml")
    assert "Second version." in server.page("articles/deal/")

    # Deleted: an annotation still points at it.
    saved(lambda: article.unlink(), fails=True, expect_error="unknown article 'deal'")
    assert "Second version." in server.page("articles/deal/")
    saved(lambda: article.write_text(article_text("Third version.")), fails=False)
    assert "Third version." in server.page("articles/deal/")

    # Renamed: the annotation's article is gone and a new one appears.
    renamed = article.with_name("deal-renamed.md")
    saved(lambda: article.rename(renamed), fails=True, expect_error="unknown article 'deal'")
    assert "Third version." in server.page("articles/deal/")
    status, _ = server.request("/articles/deal-renamed/")
    assert status == 404
    saved(lambda: renamed.rename(article), fails=False)
    assert "Third version." in server.page("articles/deal/")

    # A half-saved annotations.yaml, then the whole one again.
    yaml_file = server.source / "annotations.yaml"
    saved(lambda: yaml_file.write_text(ANNOTATED[: ANNOTATED.index("quote:") + 9]), fails=True, expect_error="annotations.yaml")
    assert 'id="stake"' in server.page("articles/deal/")
    saved(lambda: yaml_file.write_text(ANNOTATED.replace("A note.", "A better note.")), fails=False)
    assert "A better note." in server.page("articles/deal/")
