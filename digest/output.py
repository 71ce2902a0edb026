"""Writing output files: atomically, only when changed, each path once per run.

Input: relative paths and their bytes. Output: files under the output
folder. Every file is written to a temporary file in the same folder,
flushed to disk and renamed over the old one, so a web server or feed reader
never sees a half-written file. A file whose bytes did not change is left
alone (its modification time too). Writing the same path twice in one run
is a bug and raises (Pelican's writer does the same). :meth:`Writer.write_all`
writes many files a few at a time, so that their waits for the disk overlap.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from digest.errors import OutputError, os_hint


@dataclass(slots=True)
class Writer:
    """Writes one run's outputs under ``root`` and counts what it did."""

    root: Path
    written: list[str] = field(default_factory=list)
    """Relative paths whose content changed (or that were new)."""
    unchanged: list[str] = field(default_factory=list)
    """Relative paths left alone because their content was already right."""
    removed: list[str] = field(default_factory=list)
    """Relative paths removed (files an earlier run wrote that this one no longer makes)."""
    _seen: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    """Held while a path is claimed or counted (the search threads write too)."""

    def keep(self, relpath: str) -> None:
        """Count ``root/relpath`` as already right without reading it (its content is
        known not to have changed)."""
        self._claim(relpath)
        self.unchanged.append(relpath)

    def write(self, relpath: str, data: str | bytes) -> bool:
        """Write ``data`` to ``root/relpath`` if it differs; True when the file changed."""
        self._claim(relpath)
        return self._count(relpath, put(self.root, relpath, data))

    def remove(self, relpath: str) -> bool:
        """Remove ``root/relpath`` (a file an earlier run wrote); True when it was there.
        A symbolic link is removed itself, never what it points to; a folder is left."""
        self._claim(relpath)
        target = self.root / relpath
        try:
            if not target.is_symlink() and not target.is_file():
                return False
            target.unlink()
        except FileNotFoundError:
            return False
        except OSError as err:
            raise _output_error("cannot remove", target, err) from None
        self.removed.append(relpath)
        return True

    def write_all(self, files: Iterable[tuple[str, bytes]]) -> Iterator[bool]:
        """:meth:`write` each (relative path, bytes) of ``files``, up to
        :data:`WRITE_THREADS` at a time (each file waits for the disk to hold it before
        its rename; those waits overlap), holding a bounded number of them; yields
        whether each changed, in order, as :attr:`written` and :attr:`unchanged` list
        them. ``files`` is consumed in this thread."""
        with ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="digest-write") as pool:
            pending: deque[tuple[str, Future[bool]]] = deque()
            for relpath, data in files:
                self._claim(relpath)
                pending.append((relpath, pool.submit(put, self.root, relpath, data)))
                while len(pending) > 2 * WRITE_THREADS:
                    relpath, done = pending.popleft()
                    yield self._count(relpath, done.result())
            while pending:
                relpath, done = pending.popleft()
                yield self._count(relpath, done.result())

    def _claim(self, relpath: str) -> None:
        with self._lock:
            if relpath in self._seen:
                raise RuntimeError(f"output {relpath} written twice in one run")
            self._seen.add(relpath)

    def _count(self, relpath: str, changed: bool) -> bool:
        with self._lock:
            (self.written if changed else self.unchanged).append(relpath)
        return changed

    def record(self, relpath: str, changed: bool) -> None:
        """Count ``root/relpath`` as written elsewhere (by :func:`put` in a worker
        process): changed, or already right."""
        self._claim(relpath)
        self._count(relpath, changed)


def put(root: Path, relpath: str, data: str | bytes) -> bool:
    """Write ``data`` to ``root/relpath`` atomically if it differs; True when the file
    changed. What :class:`Writer` does with each file, for a process that has no
    :class:`Writer` (a worker rendering pages: :meth:`Writer.record` counts them)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    target = root / relpath
    try:
        if target.read_bytes() == raw:
            return False
    except OSError:
        pass
    try:
        atomic_write(target, raw)
    except OSError as err:
        raise _output_error("cannot write", target, err) from None
    return True


WRITE_THREADS = 8
"""Files :meth:`Writer.write_all` writes at once (on ext4, 8 threads write 300 files of
300 kB with their fsyncs in a fifth of the time one does)."""

TEMP_PREFIX = ".digest-tmp-"
"""How the names of :func:`atomic_write`'s temporary files begin: no other program's
and no user's file is named so, hence the sweep deletes nothing but these."""

TEMP_GLOB = TEMP_PREFIX + "*.tmp"
"""Names of :func:`atomic_write`'s temporary files (left behind only by a killed run).

Temporary files of earlier versions (``.NAME.RANDOM.tmp``) are not swept: nothing in
such a name proves that this tool made it (``.partial-download.tmp`` has that shape),
and a hidden file left over costs nothing, while deleting a user's file loses data."""


def sweep_temp_files(root: Path) -> int:
    """Remove temporary files a killed run left under ``root``; returns how many."""
    if not root.is_dir():
        return 0
    count = 0
    for stale in root.rglob(TEMP_GLOB):
        if not stale.is_file() or stale.is_symlink():
            continue
        try:
            stale.unlink(missing_ok=True)
        except OSError as err:
            raise _output_error("cannot remove the temporary file", stale, err) from None
        count += 1
    return count


def _output_error(what: str, path: Path, err: OSError) -> OutputError:
    """A user-facing error for an OS error on ``path`` (read-only folder, full disk, ...)."""
    reason = err.strerror or str(err)
    hint = os_hint(err) or "check the output folder (output.dir or --out)"
    return OutputError(
        f"{what} {path}: {reason}", hint=f"{hint}; the next run writes what is missing"
    )


def atomic_write(target: Path, data: bytes) -> None:
    """Replace ``target`` with ``data`` in one rename (readers see old or new, never half)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f"{TEMP_PREFIX}{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(0o644)
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
