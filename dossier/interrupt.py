"""What Ctrl-C (SIGINT) and SIGTERM do to a running Dossier.

SIGTERM is what a cancelled CI job, `timeout` and `kill` send; it is handled like Ctrl-C:
`Terminated`, a KeyboardInterrupt, is raised in the main thread, so every path that already
undoes a half-done build on Ctrl-C (the staging folder removed, the previous output kept)
does the same for it, and the command line exits 143 instead of 130. Forked worker
processes leave both signals to their parent, which stops them: they ignore them (a terminal
sends Ctrl-C, and `timeout` SIGTERM, to every process of the group) and die with the parent
if it is killed, so none of them prints a traceback or outlives the build.
"""
from __future__ import annotations

import ctypes
import os
import signal
import threading
from contextlib import contextmanager
from typing import Iterator

INTERRUPTS = (signal.SIGINT, signal.SIGTERM)
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as a shell reports a process stopped by Ctrl-C."""
EXIT_TERMINATED = 143
"""128 + SIGTERM."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; raised like the KeyboardInterrupt of a Ctrl-C, and undone the same way."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def handle_sigterm() -> None:
    """From now on SIGTERM raises Terminated in the main thread (call it from there)."""
    signal.signal(signal.SIGTERM, _raise_terminated)


@contextmanager
def holding_interrupts() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM for the duration (a swap of folders that must not be left half
    done); one that arrived meanwhile is acted on right after, as it would have been."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (and only it receives the exceptions)
        return
    held: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: held.append(signum)) for signum in INTERRUPTS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
    for signum in dict.fromkeys(held):
        signal.raise_signal(signum)  # now handled as it would have been: an exception, or the default


@contextmanager
def blocked_interrupts() -> Iterator[None]:
    """Block Ctrl-C and SIGTERM in this thread (they stay pending): a process forked meanwhile
    starts with them blocked, so neither can reach it before it has set its own handling."""
    signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)


def as_worker(parent: int) -> None:
    """In a forked worker (started with the interrupts blocked): ignore them, die when `parent`
    dies (Linux), then let the signals in. The parent stops it with SIGKILL."""
    for signum in INTERRUPTS:
        signal.signal(signum, signal.SIG_IGN)
    die_with_parent()
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)


def die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent ends (prctl PR_SET_PDEATHSIG): a
    parent killed with SIGKILL cannot stop its workers, and they would run their chunk to
    the end only to fail writing it back."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the workers end when they find the parent gone


def stop_thread(thread: threading.Thread, exception: type[BaseException]) -> None:
    """Raise `exception` in `thread` at its next bytecode (CPython's PyThreadState_SetAsyncExc),
    so that a pure computation nobody waits for any more ends now rather than holding the
    processor; a thread blocked in C code gets it when that returns. Only for threads whose
    code leaves nothing half-done when stopped at any point."""
    if thread.ident is not None and thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(exception))
