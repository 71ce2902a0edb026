"""The SQLite connection of a store: pragmas, transactions, commit groups, durability.

Input: the path of a store file. Output: a :class:`Database` whose transactions the
tables (:mod:`digest.store.listings`, ...) write in, and SQLite errors told as
:class:`~digest.errors.StoreError` naming the file. Knows no table but ``meta``.

The checkpoint thread's steps (:func:`checkpoint`, :func:`descriptors`, :func:`flush`)
and the journal switch (:meth:`Database.rollback_journal`) are public so that tests can
watch them or make them fail; nothing outside the store calls them.
"""

from __future__ import annotations

import ctypes
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from digest.errors import StoreDamagedError, StoreError

BUSY_MS = 30_000
"""How long a statement waits for another connection's lock before it fails."""
COMMIT_PATIENCE = 600
"""How long a bulk import's commit waits for the store's readers (see :meth:`Database.commit`)."""
AUTOCHECKPOINT = 1000
"""SQLite's default: a commit that leaves the write-ahead log with at least this many
pages copies it into the database."""
CACHE_KIB = 64 * 1024
"""SQLite's page cache (it grows to this only as pages are read)."""
BULK_CACHE_KIB = (256 * 1024, 512 * 1024)
"""The least and the most page cache while listings are ingested
(:meth:`Database.grouped_commits`), a sixth of the store's size in between: identity
lookups and inserts land at random places of hash-keyed indexes, and every page of them
that does not fit is read again and written by every commit. Given back after."""


class CommitGroup:
    """Units of work sharing commits (see :meth:`Database.grouped_commits`)."""

    def __init__(self, db: Database, rows: int, *, nested: bool = False) -> None:
        self._db = db
        self._rows = rows
        self._pending = 0
        self.nested = nested
        """Inside a caller's transaction: nothing is committed here, nor rolled back."""

    def done(self, rows: int, *, last: bool = False) -> bool:
        """Count a unit's rows; True when that made the group commit (the units before
        are then safe). After the ``last`` unit nothing is committed here: the group's
        end commits it, and leaves the checkpoint to a thread."""
        self._pending += rows
        if self.nested or last or self._pending < self._rows:
            return False
        return self.commit()

    def commit(self) -> bool:
        """Commit the units since the last commit now; False when nested."""
        if self.nested:
            return False
        self._db.commit()
        self._db.bulk_cache()  # the store grew
        self._db.conn.execute("BEGIN IMMEDIATE")
        self._pending = 0
        return True

    def rollback(self) -> None:
        """Undo everything since the last commit and start again from there (the caller
        then does again the units it still wants). Raises when nested or when SQLite
        already rolled back by itself (a failing disk: the store cannot go on)."""
        conn = self._db.conn
        if self.nested or not conn.in_transaction:
            raise StoreError(
                "the store's transaction was lost: nothing since its last commit was kept"
            )
        conn.execute("ROLLBACK")
        conn.execute("BEGIN IMMEDIATE")
        self._db.rolled_back()
        self._pending = 0


class Database:
    """One connection to a store file, in write-ahead-log mode."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_MS / 1000)
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"cannot open the store {path}: {err}") from None
        self.conn.row_factory = sqlite3.Row
        self.depth = 0
        """Open transactions and savepoints (0: none)."""
        self.on_rollback: list[Callable[[], None]] = []
        """Called when a unit of work is rolled back (tables forget what it did)."""
        self._checkpointer: threading.Thread | None = None

    def configure(self) -> None:
        """Set the connection's pragmas (called once, before the schema is read)."""
        self._set_write_ahead_log()
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.conn.execute("PRAGMA foreign_keys=ON")

    def execute(self, sql: str, args: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one statement on the connection."""
        return self.conn.execute(sql, args)

    def close(self) -> None:
        """Close the connection (once the checkpoint thread, if any, is done)."""
        if self._checkpointer is not None:
            self._checkpointer.join()
        self.conn.close()

    def rolled_back(self) -> None:
        """Tell the tables that the current unit of work was undone."""
        for forget in self.on_rollback:
            forget()

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self, *, join: bool = False) -> Iterator[None]:
        """One atomic unit of work: all of it lands, or none of it. Nests (inner units
        are savepoints). With ``join``, a unit inside another one is part of it, not a
        savepoint of its own: a savepoint costs SQLite a copy of each page it changes."""
        if join and self.depth:
            yield
            return
        depth = self.depth
        if depth == 0 and self._checkpointer is not None and not self._checkpointer.is_alive():
            self.wait_for_checkpoint()  # done: automatic checkpoints again
        self.depth += 1
        self.conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT sp{depth}")
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:  # SQLite may have rolled back already (disk full)
                self.conn.execute("ROLLBACK" if depth == 0 else f"ROLLBACK TO sp{depth}")
                if depth:
                    self.conn.execute(f"RELEASE sp{depth}")
            if depth == 0:
                self.rolled_back()
            raise
        finally:
            self.depth -= 1
        self.conn.execute("COMMIT" if depth == 0 else f"RELEASE sp{depth}")

    @contextmanager
    def grouped_commits(self, rows: int, *, bulk: bool = False) -> Iterator[CommitGroup]:
        """Share commits between units of work: inside, each unit joins one transaction,
        committed whenever the units since the last commit reach ``rows`` rows (report
        each unit's rows to :meth:`CommitGroup.done`) and at the end. A crash loses the
        units since the last commit, whole; a unit that fails is undone by
        :meth:`CommitGroup.rollback` (no savepoint per unit: too costly).

        Rows with random keys (hashes) dirty a page each: grouping lets many units share
        those writes. The last commit's checkpoint runs in a thread
        (:meth:`_checkpoint_in_background`). ``bulk`` (a large import) writes with a
        rollback journal (:meth:`rollback_journal`) and goes back to the log at the end.
        Foreign keys are not enforced inside (a lookup per reference): the tables write
        parents before children (the tests check :meth:`integrity_problems`)."""
        if self.depth:  # inside a transaction already: it is the group
            yield CommitGroup(self, rows, nested=True)
            return
        self.wait_for_checkpoint()  # one of an earlier group
        journal = False
        try:
            self.conn.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
            self.bulk_cache()
            journal = bulk and self.rollback_journal()
            self.conn.execute("BEGIN IMMEDIATE")
            self.depth = 1
            try:
                yield CommitGroup(self, rows)
            except BaseException:
                if self.conn.in_transaction:  # SQLite may have rolled back already
                    self.conn.execute("ROLLBACK")
                raise
            if not journal:
                self.conn.execute("PRAGMA wal_autocheckpoint=0")
            self.commit()
            if not journal:
                self._checkpoint_in_background()
        finally:
            self.depth = 0
            self.rolled_back()
            if journal:
                self.write_ahead_log()
            elif self._checkpointer is None:  # the commit failed: no thread does it
                self.conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT}")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self.conn.execute("PRAGMA shrink_memory")
            _return_freed_memory()

    def commit(self) -> None:
        """COMMIT the open transaction. With a rollback journal a commit needs every
        reader gone, and SQLite leaves the transaction open meanwhile: it is tried again
        for up to :data:`COMMIT_PATIENCE` seconds."""
        deadline = time.monotonic() + COMMIT_PATIENCE
        while True:
            try:
                self.conn.execute("COMMIT")
                return
            except sqlite3.OperationalError as err:
                if not _busy(err) or not self.conn.in_transaction or time.monotonic() > deadline:
                    raise

    # -- journal and checkpoints ----------------------------------------------------------

    def rollback_journal(self) -> bool:
        """Write with a rollback journal (until :meth:`write_ahead_log`); False when
        another connection has the store open. A first import mostly adds pages, which
        a rollback journal writes once (the log writes them twice, and slows reads as it
        grows); meanwhile other processes wait to read, up to :data:`BUSY_MS`."""
        self.wait_for_checkpoint()
        if self._journal_mode("delete", wait=False) != "delete":
            return False  # another connection has the store open
        self.conn.execute("PRAGMA synchronous=FULL")  # what a rollback journal needs
        return True

    def write_ahead_log(self) -> None:
        """Back to the write-ahead log; a reader in the way leaves the journal, synced as
        it needs, until the next open."""
        try:
            if self._journal_mode("wal", wait=True) == "wal":
                self.conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.OperationalError:
            pass  # a store that just failed (disk full, ...): the next open sets it again

    def _set_write_ahead_log(self) -> None:
        """At open: switch to the write-ahead log without waiting (while another process
        imports with a rollback journal, the store is read as it is)."""
        self._journal_mode("wal", wait=False)

    def _journal_mode(self, mode: str, *, wait: bool) -> str:
        """Switch to journal ``mode``; returns the mode the store is in after (the old one
        when another connection's lock kept it from switching)."""
        if not wait:
            self.conn.execute("PRAGMA busy_timeout=0")
        try:
            got = self.conn.execute(f"PRAGMA journal_mode={mode}").fetchone()[0]
        except sqlite3.OperationalError as err:
            if not _busy(err):
                raise
            got = self.conn.execute("PRAGMA journal_mode").fetchone()[0]
        finally:
            if not wait:
                self.conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        return str(got).lower()

    def wait_for_checkpoint(self) -> None:
        """Wait for the checkpoint thread, if one is running (before forking workers)."""
        if self._checkpointer is not None:
            self._checkpointer.join()
            self._checkpointer = None
            self.conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT}")

    @property
    def checkpointing(self) -> bool:
        """A checkpoint thread was started and not waited for."""
        return self._checkpointer is not None

    @property
    def checkpointer(self) -> threading.Thread | None:
        """The checkpoint thread started and not waited for, if any (to join or name it)."""
        return self._checkpointer

    def _checkpoint_in_background(self) -> None:
        """Copy the write-ahead log into the database in a thread with a connection of its
        own (it spends its time in SQLite, without the GIL). If it fails, the checkpoint
        at close copies the log instead: nothing is lost either way."""
        thread = threading.Thread(target=checkpoint, args=(self.path,), name="digest-checkpoint")
        thread.start()
        self._checkpointer = thread

    def bulk_cache(self) -> None:
        """Size the page cache for many writes (see :data:`BULK_CACHE_KIB`)."""
        pages, size = (
            self.conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size")
        )
        least, most = BULK_CACHE_KIB
        self.conn.execute(f"PRAGMA cache_size=-{min(most, max(least, pages * size // 6144))}")

    # -- health ---------------------------------------------------------------------------

    @staticmethod
    def unusable(err: BaseException) -> bool:
        """True for errors that say the store cannot work at all (disk full, I/O error,
        corruption, locked, out of memory), as opposed to one operation meeting a bug."""
        if isinstance(err, MemoryError):
            return True
        bug = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.ProgrammingError)
        return isinstance(err, sqlite3.DatabaseError) and not isinstance(err, bug)

    def integrity_problems(self) -> list[str]:
        """Rows that break a foreign key or the database's structure (none, always)."""
        found = [
            f"{r[0]} row {r[1]} refers to a missing {r[2]}"
            for r in self.conn.execute("PRAGMA foreign_key_check")
        ]
        found += [str(r[0]) for r in self.conn.execute("PRAGMA quick_check") if r[0] != "ok"]
        return found

    def open_error(self, err: sqlite3.DatabaseError) -> StoreError:
        """What a failure while opening the store tells the user."""
        if isinstance(err, sqlite3.OperationalError) and _busy(err):
            return StoreError(
                f"{self.path} stayed locked by another process for {BUSY_MS // 1000} s",
                hint="try again when the other digest command is done",
            )
        return store_error(self.path, err) or StoreDamagedError(
            f"{self.path} is not a usable digest store: {err}"
        )


def checkpoint(path: Path) -> None:
    """A passive checkpoint of the store at ``path`` (it never waits for a lock), then the
    pages it copied flushed to disk through the connection's own descriptor (the body of
    :meth:`Database._checkpoint_in_background`'s thread, looked up when it starts)."""
    try:
        before = descriptors(path)
        db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_MS / 1000)
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            flush(descriptors(path) - before)
        finally:
            db.close()
    except sqlite3.Error:
        pass  # the store's own checkpoint at close copies the log instead


def descriptors(path: Path) -> set[int]:
    """The file descriptors of this process open on ``path`` (Linux; elsewhere none)."""
    target = path.resolve()
    try:
        held = list(Path("/proc/self/fd").iterdir())
    except OSError:  # not Linux
        return set()
    found = set()
    for fd in held:
        try:
            if fd.readlink() == target:
                found.add(int(fd.name))
        except OSError:
            continue  # closed meanwhile, or not a file
    return found


def flush(descriptors: set[int]) -> None:
    """fsync a file through one of the ``descriptors`` this process holds on it.

    SQLite syncs the database only after a checkpoint that copied the whole log, which a
    checkpoint running while the store is written never does: without this the flush
    would fall to the checkpoint at close, on the run's critical path. It goes through
    the checkpoint connection's own descriptor: closing a descriptor opened anew would
    drop the POSIX locks SQLite holds, and a write error reported here is reported again
    to the store's connection, whose checkpoint at close then fails as it should."""
    for fd in sorted(descriptors):
        try:
            os.fsync(fd)
            return
        except OSError:
            continue  # closed meanwhile; a write error, see above


def store_error(path: Path, err: BaseException) -> StoreError | None:
    """The :class:`StoreError` that tells a user what ``err``, raised by SQLite while
    working on the store at ``path``, means and what to do; None for anything else."""
    if isinstance(err, StoreError):
        return err
    if not isinstance(err, sqlite3.DatabaseError):
        return None
    code = getattr(err, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StoreDamagedError(f"{path} is not a usable digest store: it is damaged ({err})")
    if primary == sqlite3.SQLITE_FULL:
        return StoreError(
            f"{path}: the disk is full ({err}); the listing being stored was rolled back",
            hint="free disk space where the store is and run again: nothing stored is lost",
        )
    if primary in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY):
        return StoreError(
            f"cannot read or write the store {path} ({err})",
            hint="check the disk and the file's permissions, then run again",
        )
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreError(
            f"{path} stayed locked by another process for {BUSY_MS // 1000} s",
            hint="try again when the other digest command is done",
        )
    return None


def _busy(err: sqlite3.OperationalError) -> bool:
    """True when ``err`` says another connection's lock is in the way."""
    return getattr(err, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _return_freed_memory() -> None:
    """Give the memory SQLite just freed back to the system (glibc's ``malloc_trim``):
    otherwise the page cache of a bulk ingest stays resident for the rest of the run,
    and in every worker forked later."""
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return
    trim(0)


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """``items`` in slices of at most ``size`` (SQLite's bound on parameters)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
