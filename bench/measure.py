"""Running a command and measuring it: wall time, processor time and peak memory of its
whole process tree (every process it starts, Pagefind included).

Each command runs in a session of its own. Memory is sampled from /proc every 20 ms: the
largest sum over the tree's processes of their RSS (pages shared copy-on-write between a
parent and its forked workers are counted in each, so it is an upper bound) and of their PSS
(each shared page divided among the processes that share it: what the tree really holds),
and the largest single RSS. Processor time is the user + system time of the command and of
every descendant it waited for (wait4).
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024

_LIVE_GROUPS: set[int] = set()
"""Process groups we started and have not yet seen end: killed at exit whatever happens."""


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@atexit.register
def kill_leftovers() -> None:
    for pgid in list(_LIVE_GROUPS):
        kill_group(pgid)
        _LIVE_GROUPS.discard(pgid)


def exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)  # unwinds through every finally, which stops our children


class TreeSampler(threading.Thread):
    """Polls /proc for every process of one session (the command and all it starts) and
    keeps the largest sums of their RSS and of their PSS seen at one instant, and the
    largest single RSS.

    RSS comes from /proc/PID/statm (a counter: free to read) every `interval`. PSS comes from
    /proc/PID/smaps_rollup, which walks the process's page tables under its memory lock: about
    10 ms of kernel time per GB, so read every 20 ms it took a third to a half of one of the
    machine's two cores from a 10,000-article build (and slowed the build's own page faults):
    it is read only as often as keeps its cost under PSS_SHARE of one core (every ~0.1 s
    at 1,000 articles, ~0.5 s at 10,000)."""

    PSS_SHARE = 0.05

    def __init__(self, session: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.session, self.interval = session, interval
        self.stop_event = threading.Event()
        self.peak_sum = self.peak_single = self.peak_pss = 0
        self.peak_processes = 0
        self.samples = self.pss_samples = 0
        self._pss_next = 0.0
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
        alive = []
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
            rss = _rss(pid, self._page)
            if rss is None:
                self._members.discard(pid)
                continue
            alive.append(pid)
            total += rss
            count += 1
            self.peak_single = max(self.peak_single, rss)
        if total > self.peak_sum:
            self.peak_sum, self.peak_processes = total, count
        now = time.monotonic()
        if alive and now >= self._pss_next:
            started = time.perf_counter()
            shared = sum(_pss(pid) for pid in alive)
            cost = time.perf_counter() - started
            self.pss_samples += 1
            self.peak_pss = max(self.peak_pss, shared)
            self._pss_next = now + cost / self.PSS_SHARE


def _rss(pid: int, page: int) -> int | None:
    """The RSS of a process in bytes (statm: no page-table walk); None once it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * page
    except (OSError, ValueError, IndexError):
        return None


def _pss(pid: int) -> int:
    """The PSS of a process in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class Run:
    """One timed command."""
    command: list[str]
    wall_s: float
    returncode: int
    max_rss_mb: float
    """Largest RSS of any one process of the tree (getrusage of the reaped tree)."""
    tree_rss_mb: float
    """Largest sum of the RSS of the tree's live processes at one sample (20 ms): an upper bound."""
    tree_pss_mb: float
    """Largest sum of their PSS at one sample: the memory the tree holds, every process counted."""
    cpu_s: float
    """User + system time of the command and every descendant it waited for."""
    tree_processes: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_measured(command: list[str], log_stem: Path, timeout: float | None = None) -> Run:
    """Run `command` in its own session; wall time, processor time, exit code and memory of its tree."""
    log_stem.parent.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_stem.with_suffix(".stdout"), log_stem.with_suffix(".stderr")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
        _LIVE_GROUPS.add(proc.pid)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        timer = threading.Timer(timeout, kill_group, (proc.pid,)) if timeout else None
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
            kill_group(proc.pid)  # anything it left behind (orphaned workers)
            _LIVE_GROUPS.discard(proc.pid)
            if proc.returncode is None:
                proc.wait()
    # ru_maxrss covers the process and every descendant it waited for (in KiB on Linux)
    max_rss = max(usage.ru_maxrss * 1024, sampler.peak_single)
    return Run(command=[str(c) for c in command], wall_s=wall, returncode=proc.returncode,
               max_rss_mb=max_rss / MIB, tree_rss_mb=sampler.peak_sum / MIB, tree_pss_mb=sampler.peak_pss / MIB,
               cpu_s=usage.ru_utime + usage.ru_stime, tree_processes=sampler.peak_processes,
               stdout=out_path.read_text(errors="replace"), stderr=err_path.read_text(errors="replace"))


def fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    return path


def tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])

