"""Worker processes for the CPU-bound, pure parts of a large run (parsing, identity
keys, tagging, rendering), so a first import uses every core it is given.

Input: a shared state (compiled rules, a template environment, ...), a function of
``(state, item)`` defined at module level, and a stream of items. Output: the
function's results, in input order.

Workers are forked (Linux), so the state reaches them without pickling; only items
and results cross the process boundary. At most ``2 * workers`` items are in flight,
so memory stays bounded however long the stream. A worker whose parent dies (a
killed run) is killed by the kernel at once (a watchdog thread is the fallback): it
never outlives the run, nor holds its lock. Workers run at a lower priority: the main
process, which alone writes, is the critical path. With one job, or off Linux, the
same function runs in this process.
Nothing here touches the store: callers read and write it in the main process.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Generic, TypeVar

from digest.errors import DigestError

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

_STATE: Any = None
"""The state of this worker process (set by :func:`_start`)."""


def available() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """True where worker processes can be forked safely: Linux (on macOS a fork after
    system frameworks are loaded may crash; there and elsewhere everything runs in one
    process)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


class Pool(Generic[S]):
    """Maps functions over items with ``workers`` processes sharing ``state``; with no
    workers, in this process. Processes start at the first :meth:`map` that uses them
    and stop when the pool is closed (use it as a context manager)."""

    def __init__(self, state: S, workers: int) -> None:
        self.state = state
        self.workers = workers if workers > 0 and can_fork() else 0
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> Pool[S]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes (pending work is cancelled)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def map(
        self, fn: Callable[[S, T], R], items: Iterable[T], *, parallel: bool = True
    ) -> Iterator[R]:
        """``fn(state, item)`` for each item, in order. ``parallel=False`` (work too small
        to be worth a process) runs them here."""
        if not (parallel and self.workers):
            for item in items:
                yield fn(self.state, item)
            return
        executor = self._start()
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                pending.append(executor.submit(_call, fn, item))
                if len(pending) >= 2 * self.workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        except BrokenProcessPool:
            raise DigestError(
                "a worker process died (killed for lack of memory?)",
                hint="run again with --jobs 1 to do everything in one process",
            ) from None

    def _start(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_start,
                initargs=(self.state, os.getpid()),
            )
        return self._executor


NICE = 5
"""How much lower the workers' scheduling priority is than the main process's. The
main process is the run's critical path (it alone writes the store and the files);
with more processes than cores, equal shares would slow it down to feed workers that
are ahead of it."""


def _start(state: Any, parent: int) -> None:
    global _STATE
    _STATE = state
    # Ctrl-C is the main process's to handle (it stops the pool): no traceback per worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):  # not allowed here: equal shares then
        os.nice(NICE)
    # The kernel kills a worker the moment its parent dies (Linux); the watchdog thread
    # is the fallback, for a worker whose parent died before the call took effect.
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), daemon=True).start()


_PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal this process gets when its parent dies."""


def _watch(parent: int) -> None:
    """Exit as soon as the parent is gone (its lock file descriptor, inherited by the
    fork, must not outlive it)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _call(fn: Callable[[Any, T], R], item: T) -> R:
    return fn(_STATE, item)
