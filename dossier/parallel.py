"""Spread work over the machine's cores with forked worker processes.

Workers are forked after the shared inputs are in memory, so they inherit them (copy on
write) instead of receiving them pickled; only each chunk's results travel back. This
process takes chunks too, between collecting the workers' results: P processes are P - 1
workers and itself, so one process fewer holds its own copy of the pages of the heap that
the work touches (at 10,000 articles, a worker's copy is about 0.7 GB). Where fork is
unavailable, or the work is small, everything runs in this process.
"""
from __future__ import annotations

import collections
import gc
import io
import multiprocessing
import multiprocessing.pool
import os
import pickle
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
        pool = multiprocessing.pool.Pool(processes - 1, as_worker, (os.getpid(),), context=_FORK_CONTEXT)
    done: list = [None] * len(chunks)
    load = (lambda result: _Loader(io.BytesIO(result), refs).load()) if refs else (lambda result: result)
    try:
        with pool:
            sent: collections.deque = collections.deque()  # (index, result to come) of the workers' chunks
            ahead = 2 * (processes - 1)  # so no worker waits while this process works on a chunk
            n = 0
            while n < len(chunks) or sent:
                while n < len(chunks) and len(sent) < ahead:
                    sent.append((n, pool.apply_async(_run_chunk, (chunks[n],))))
                    n += 1
                while sent and sent[0][1].ready():
                    index, result = sent.popleft()
                    done[index] = load(result.get())
                if n < len(chunks):  # this process works too: one process fewer holds a copy of the heap
                    done[n] = function(shared, chunks[n])
                    n += 1
                    give_back_memory()
                elif sent:
                    index, result = sent.popleft()
                    done[index] = load(result.get())
    finally:
        _SHARED, _FUNCTION, _REFS = None, None, None
        if not frozen:
            gc.unfreeze()
    return [result for chunk in done for result in chunk]


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
    try:
        result = _FUNCTION(_SHARED, chunk)
        if _REFS is None:
            return result
        out = io.BytesIO()
        _Dumper(out, pickle.HIGHEST_PROTOCOL).dump(result)
        return out.getvalue()
    finally:
        give_back_memory()


def give_back_memory() -> None:
    """Return the memory that the C library keeps after it was freed to the system
    (glibc's malloc_trim). A chunk of pages makes and frees strings of up to a few megabytes,
    and glibc keeps most of what they took: without this, a process rendering pages at
    10,000 articles grows by 300–400 MB that nothing uses (measured with and without it)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        import ctypes
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


_MALLOC_TRIM = _malloc_trim()


class _Dumper(pickle.Pickler):
    def persistent_id(self, obj: Any) -> int | None:
        return _REFS.get(id(obj))  # the same object in the parent: it was there before the fork


class _Loader(pickle.Unpickler):
    def __init__(self, file, refs: Sequence):
        super().__init__(file)
        self.refs = refs

    def persistent_load(self, pid: int) -> Any:
        return self.refs[pid]
