"""parallel.map_chunks: work spread over forked processes, results in order."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import build_env

from dossier.parallel import map_chunks


@dataclass(frozen=True)
class Thing:
    number: int


THINGS = [Thing(n) for n in range(50)]


def _pair_with_things(shared: list[Thing], chunk: list[int]) -> list[tuple[int, Thing]]:
    return [(item, shared[item % len(shared)]) for item in chunk]


def test_results_come_back_in_order_from_several_processes():
    items = list(range(500))
    assert [item for item, _ in map_chunks(_pair_with_things, items, THINGS, processes=2)] == items


def test_objects_named_in_refs_come_back_as_the_callers_own_objects():
    items = list(range(500))
    copied = map_chunks(_pair_with_things, items, THINGS, processes=2)
    shared = map_chunks(_pair_with_things, items, THINGS, processes=2, refs=THINGS)
    assert [thing for _, thing in copied] == [thing for _, thing in shared]  # the same values…
    assert any(thing is not THINGS[item % 50] for item, thing in copied)   # …copies from the workers without refs
    assert all(thing is THINGS[item % 50] for item, thing in shared)       # the very objects with them


def _pid_of_each(shared: None, chunk: list[int]) -> list[int]:
    time.sleep(0.002)  # long enough that the worker cannot take every chunk
    return [os.getpid() for _ in chunk]


def test_the_calling_process_works_on_chunks_beside_its_workers():
    """Two processes are one forked worker and the caller: one copy of the heap fewer."""
    pids = map_chunks(_pid_of_each, list(range(500)), None, processes=2)
    assert len(pids) == 500
    assert os.getpid() in pids
    assert len(set(pids)) == 2


def _fail_on(shared: int, chunk: list[int]) -> list[int]:
    if shared in chunk:
        raise ValueError(f"item {shared} failed in process {os.getpid()}")
    return chunk


@pytest.mark.parametrize("failing", [0, 499])  # the first chunk goes to a worker, the last to the caller
def test_an_exception_in_any_process_reaches_the_caller(failing):
    with pytest.raises(ValueError, match=f"item {failing} failed in process"):
        map_chunks(_fail_on, list(range(500)), failing, processes=2)
    assert map_chunks(_fail_on, list(range(500)), 1000, processes=2) == list(range(500))  # and the next call works


WAITING_WORKER = """
import sys, time
from pathlib import Path
from dossier.interrupt import Terminated, handle_sigterm
from dossier.parallel import map_chunks

def work(shared, chunk):
    if 99 in chunk:  # the last chunk: the other worker, done with the rest, waits for work
        Path(sys.argv[1]).write_text("started")
        time.sleep(120)
    return chunk

handle_sigterm()
try:
    map_chunks(work, list(range(100)), None, processes=2)
except Terminated:
    sys.exit(143)
"""


def children_of(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def waits_on_a_pipe(pid: str) -> bool:
    """Whether the process is blocked reading a pipe (a pool worker waiting for its next task)."""
    try:
        return "pipe_read" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux's /proc/PID/wchan")
def test_sigterm_to_the_whole_process_group_stops_the_workers_without_a_hang(tmp_path):
    """`timeout` and a cancelled CI job send SIGTERM to every process of the group. A worker
    killed by it while it waited for work would take the pool's queue lock with it, and the
    pool would wait for the lock forever: the workers leave SIGTERM to their parent."""
    started = tmp_path / "started"
    process = subprocess.Popen([sys.executable, "-c", WAITING_WORKER, str(started)], env=build_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (started.exists() and any(waits_on_a_pipe(pid) for pid in children_of(process.pid))):
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "no worker came to wait for work"
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 143, stderr
    assert stderr == ""


def _collector_state(shared, chunk: list[int]) -> list[tuple[int, bool]]:
    import gc
    return [(os.getpid(), gc.isenabled()) for _ in chunk]


def test_workers_collect_their_own_garbage_while_the_build_pauses_the_collector():
    """A build pauses the cyclic collector in its own process (site.collector_paused); the
    workers it forks collect what they make all the same."""
    import gc
    from dossier.site import collector_paused
    with collector_paused():
        assert not gc.isenabled()
        states = map_chunks(_collector_state, list(range(400)), None, processes=2)
    assert gc.isenabled()  # given back as it was
    workers = {enabled for pid, enabled in states if pid != os.getpid()}
    assert workers == {True}
    assert {enabled for pid, enabled in states if pid == os.getpid()} <= {False}
