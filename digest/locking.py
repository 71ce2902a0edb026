"""One run at a time per feed: the only module that imports filelock.

Input: the feed folder and a timeout. Output: a context manager holding an
exclusive lock on ``FEED_DIR/.digest.lock``. The lock is an OS-level file
lock (flock), released by the kernel when the holder dies, so a run killed
with SIGKILL never leaves a lock that blocks the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from digest.errors import LockedError

LOCK_NAME = ".digest.lock"


@contextmanager
def feed_lock(root: Path, timeout: float) -> Iterator[None]:
    """Hold the feed's lock, waiting up to ``timeout`` seconds for another run."""
    lock = FileLock(root / LOCK_NAME, timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise LockedError(
            f"another digest run holds {root / LOCK_NAME}; gave up after {timeout:g} s"
        ) from None
    try:
        yield
    finally:
        lock.release()
