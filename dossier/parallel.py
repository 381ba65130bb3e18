"""Spread work over the machine's cores with forked worker processes.

Workers are forked after the shared inputs are in memory, so they inherit them (copy on
write) instead of receiving them pickled; only each chunk's results travel back. Where
fork is unavailable, or the work is small, everything runs in this process.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from typing import Any, Callable, Sequence

MIN_PARALLEL = 48
"""Fewer items than this run in-process: forking costs more than it saves."""

_SHARED: Any = None
_FUNCTION: Callable | None = None


def workers() -> int:
    """How many processes to use: DOSSIER_PROCESSES if set, else the cores this process may use."""
    if os.environ.get("DOSSIER_PROCESSES", "").isdigit():
        return max(1, int(os.environ["DOSSIER_PROCESSES"]))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def map_chunks(function: Callable[[Any, list], list], items: Sequence, shared: Any = None,
               processes: int | None = None) -> list:
    """`function(shared, chunk)` over chunks of `items`, results concatenated in order."""
    processes = processes or workers()
    if processes < 2 or len(items) < MIN_PARALLEL or "fork" not in multiprocessing.get_all_start_methods():
        return function(shared, list(items))
    size = max(1, len(items) // (processes * 16))  # many chunks per worker: even load at the end
    chunks = [list(items[i:i + size]) for i in range(0, len(items), size)]
    global _SHARED, _FUNCTION
    _SHARED, _FUNCTION = shared, function
    gc.freeze()  # the children inherit the heap; keep the collector from copying every page of it
    # Ctrl-C is for this process alone: the workers ignore it (no traceback from each), and it
    # is held while they start, so it can't be lost between fork and the handler.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pool = multiprocessing.get_context("fork").Pool(processes, initializer=_ignore_ctrl_c)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        with pool:
            results = pool.map(_run_chunk, chunks, chunksize=1)
    finally:
        _SHARED, _FUNCTION = None, None
        gc.unfreeze()
    return [item for chunk in results for item in chunk]


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _run_chunk(chunk: list) -> list:
    return _FUNCTION(_SHARED, chunk)
