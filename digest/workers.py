"""Worker processes for the CPU-bound, pure parts of a large run (parsing, identity
keys, tagging, rendering), so a first import uses every core it is given.

Input: a shared state (compiled rules, a template environment, ...), a function of
``(state, item)`` defined at module level, and a stream of items. Output: the
function's results, in input order.

Workers are forked (POSIX), so the state reaches them without pickling; only items
and results cross the process boundary. At most ``2 * workers`` items are in flight,
so memory stays bounded however long the stream. A worker whose parent dies (a
killed run) exits within a second: it never outlives the run, nor holds its lock.
With one job, or where fork is unavailable, the same function runs in this process.
Nothing here touches the store: callers read and write it in the main process.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Generic, TypeVar

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
    """True where worker processes can be forked."""
    return "fork" in multiprocessing.get_all_start_methods()


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
        for item in items:
            pending.append(executor.submit(_call, fn, item))
            if len(pending) >= 2 * self.workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def _start(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_start,
                initargs=(self.state, os.getpid()),
            )
        return self._executor


def _start(state: Any, parent: int) -> None:
    global _STATE
    _STATE = state
    threading.Thread(target=_watch, args=(parent,), daemon=True).start()


def _watch(parent: int) -> None:
    """Exit as soon as the parent is gone (its lock file descriptor, inherited by the
    fork, must not outlive it)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _call(fn: Callable[[Any, T], R], item: T) -> R:
    return fn(_STATE, item)
