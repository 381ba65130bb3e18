"""Spread work over the machine's cores with forked worker processes.

Workers are forked after the shared inputs are in memory, so they inherit them (copy on
write) instead of receiving them pickled; only each chunk's results travel back. This
process takes chunks too (from the back, while the pool's thread feeds the workers from the
front): P processes are P - 1 workers and itself, so one process fewer holds its own copy of
the pages of the heap that the work touches (at 10,000 articles, a worker's copy is about
0.7 GB). Where fork is unavailable, or the work is small, everything runs in this process.
"""
from __future__ import annotations

import functools
import gc
import io
import multiprocessing
import multiprocessing.pool
import os
import pickle
import threading
from typing import Any, Callable, Sequence

from .interrupt import as_worker, blocked_interrupts

MIN_PARALLEL = 48
"""Fewer items than this run in-process: forking costs more than it saves."""

_SHARED: Any = None
_FUNCTION: Callable | None = None
_REFS: dict[int, int] | None = None
"""In the workers: id() → index of the objects that results refer to rather than copy."""


def workers() -> int:
    """How many processes to use: DOSSIER_PROCESSES if set, else the cores this process may use."""
    if os.environ.get("DOSSIER_PROCESSES", "").isdigit():
        return max(1, int(os.environ["DOSSIER_PROCESSES"]))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def map_chunks(function: Callable[[Any, list], list], items: Sequence, shared: Any = None,
               processes: int | None = None, refs: Sequence = ()) -> list:
    """`function(shared, chunk)` over chunks of `items`, results concatenated in order.
    Objects of `refs` in the results come back as references to this process's own objects
    (the workers have them too), not as copies."""
    processes = processes or workers()
    if processes < 2 or len(items) < MIN_PARALLEL or "fork" not in multiprocessing.get_all_start_methods():
        return function(shared, list(items))
    size = max(1, len(items) // (processes * 16))  # many chunks per worker: even load at the end
    chunks = [list(items[i:i + size]) for i in range(0, len(items), size)]
    global _SHARED, _FUNCTION, _REFS
    _SHARED, _FUNCTION = shared, function
    _REFS = {id(obj): n for n, obj in enumerate(refs)} if refs else None
    frozen = gc.get_freeze_count() > 0  # serve keeps its long-lived heap frozen: leave it so
    gc.freeze()  # the children inherit the heap; keep the collector from copying every page of it
    # Ctrl-C and SIGTERM are for this process alone: it stops the workers (no traceback from
    # each). They are held while the workers start, so none is lost between fork and handler.
    with blocked_interrupts():
        pool = multiprocessing.pool.Pool(processes - 1, _start_worker, (os.getpid(),), context=_FORK_CONTEXT)
    load = (lambda result: _Loader(io.BytesIO(result), refs).load()) if refs else (lambda result: result)
    try:
        with pool:
            work = _FromBothEnds(pool, chunks, 2 * (processes - 1), load)
            while (n := work.take()) is not None:  # this process works too: one copy of the heap fewer
                work.done[n] = function(shared, chunks[n])
            work.wait()
    finally:
        _SHARED, _FUNCTION, _REFS = None, None, None
        if not frozen:
            gc.unfreeze()
    return [result for chunk in work.done for result in chunk]


def _start_worker(parent: int) -> None:
    """A worker's start: signals as interrupt.as_worker says, and the cyclic collector on even
    where the build paused it in the parent (site.collector_paused): it sees only what the
    worker makes, the inherited heap being frozen."""
    as_worker(parent)
    gc.enable()


class _FromBothEnds:
    """The chunks, taken from both ends: the workers' from the front, each new one sent from
    the pool's result thread as a result arrives (so no worker waits for this process to finish
    a chunk of its own), this process's from the back (the lightest, when the heaviest come
    first), until they meet."""

    def __init__(self, pool: multiprocessing.pool.Pool, chunks: list[list], ahead: int, load: Callable[[Any], list]):
        self.pool, self.chunks, self.ahead, self.load = pool, chunks, ahead, load
        self.done: list = [None] * len(chunks)
        self.front, self.back, self.sent = 0, len(chunks), 0
        self.failure: BaseException | None = None
        self.changed = threading.Condition()
        with self.changed:
            self._send()

    def take(self) -> int | None:
        """The index of the next chunk for this process; None when none is left."""
        with self.changed:
            if self.failure is not None:
                raise self.failure
            if self.front >= self.back:
                return None
            self.back -= 1
            return self.back

    def wait(self) -> None:
        """Until the workers' chunks are all back; raises what one of them raised."""
        with self.changed:
            while self.sent and self.failure is None:
                self.changed.wait()
            if self.failure is not None:
                raise self.failure

    def _send(self) -> None:  # the condition held
        while self.front < self.back and self.sent < self.ahead and self.failure is None:
            try:
                self.pool.apply_async(_run_chunk, (self.chunks[self.front],),
                                      callback=functools.partial(self._arrived, self.front), error_callback=self._failed)
            except ValueError:  # "Pool not running": this process was interrupted and stopped it; a result came late
                self.failure = self.failure or RuntimeError("the worker pool was stopped")
                return
            self.front, self.sent = self.front + 1, self.sent + 1

    def _arrived(self, n: int, result: Any) -> None:
        try:
            value = self.load(result)
        except BaseException as exc:
            self._failed(exc)
            return
        with self.changed:
            self.done[n] = value
            self.sent -= 1
            self._send()
            self.changed.notify_all()

    def _failed(self, exc: BaseException) -> None:
        with self.changed:
            self.failure = self.failure or exc
            self.sent -= 1
            self.changed.notify_all()


class _Worker(multiprocessing.context.ForkProcess):
    """A forked worker that the pool stops with SIGKILL: it ignores SIGTERM, which is its
    parent's to act on. (A worker that a SIGTERM sent to the whole process group killed could
    die holding the pool's task-queue lock, and the pool would wait for that lock forever.)"""

    def terminate(self) -> None:
        self.kill()


class _ForkContext(multiprocessing.context.ForkContext):
    Process = _Worker


_FORK_CONTEXT = _ForkContext()
"""Made once: classes made on each call would be reference cycles left for the collector."""


def _run_chunk(chunk: list) -> list | bytes:
    result = _FUNCTION(_SHARED, chunk)
    if _REFS is None:
        return result
    out = io.BytesIO()
    _Dumper(out, pickle.HIGHEST_PROTOCOL).dump(result)
    return out.getvalue()


class _Dumper(pickle.Pickler):
    def persistent_id(self, obj: Any) -> int | None:
        return _REFS.get(id(obj))  # the same object in the parent: it was there before the fork


class _Loader(pickle.Unpickler):
    def __init__(self, file, refs: Sequence):
        super().__init__(file)
        self.refs = refs

    def persistent_load(self, pid: int) -> Any:
        return self.refs[pid]
