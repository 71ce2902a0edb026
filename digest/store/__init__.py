"""The SQLite store: the only module that speaks SQL.

Input: parsed listings (with their content hash) and identity decisions.
Output: distinct papers with their sightings, tags and weeks.

Every sighting (listing version, position) is kept with the text it carried and the
rule that tied it to its paper (``new``, ``source-id``, ``title``, ``fuzzy``,
``abstract``, ``forced``) and that rule's score, so ``digest explain`` can tell
why two sightings are one paper. Each distinct title+abstract text is stored
once. Sightings are append-only: a listing whose content changed is stored as a
new version of it (``listing`` has one row per name and content), which adds the
sightings that no earlier version of it had and takes none away. The schema carries
a version; :data:`MIGRATIONS` upgrades older stores in place, inside a transaction.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digest.errors import StoreDamagedError, StoreError
from digest.models import Entry, EntryKeys, Paper, Sighting
from digest.normalize import stable_hash, text_hash, title_key
from digest.sources import shown_name
from digest.sources.bounds import DATE_MAX, DATE_MIN
from digest.weeks import iso_week

SCHEMA_VERSION = 8

_SCHEMA_V1 = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE listing(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    stat TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL,
    date TEXT,
    entries INTEGER NOT NULL,
    problems INTEGER NOT NULL
);
CREATE TABLE text(
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    abstract TEXT NOT NULL
);
CREATE TABLE paper(
    id TEXT PRIMARY KEY,
    text_id INTEGER NOT NULL REFERENCES text(id),
    first_seen TEXT NOT NULL,
    shown_date TEXT NOT NULL,
    week TEXT NOT NULL,
    source_id TEXT,
    url TEXT,
    authors TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    theme TEXT NOT NULL DEFAULT '',
    rules TEXT NOT NULL DEFAULT ''
);
CREATE INDEX paper_week ON paper(week);
CREATE INDEX paper_rules ON paper(rules);
CREATE INDEX paper_theme ON paper(theme, first_seen);
CREATE TABLE sighting(
    listing_id INTEGER NOT NULL REFERENCES listing(id),
    position INTEGER NOT NULL,
    paper_id TEXT NOT NULL REFERENCES paper(id),
    text_id INTEGER NOT NULL REFERENCES text(id),
    date TEXT NOT NULL,
    line INTEGER NOT NULL,
    source_id TEXT,
    version INTEGER,
    announce TEXT,
    rule TEXT NOT NULL,
    score REAL NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY(listing_id, position)
);
CREATE INDEX sighting_paper ON sighting(paper_id);
CREATE TABLE paper_key(
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    paper_id TEXT NOT NULL REFERENCES paper(id),
    PRIMARY KEY(kind, key, paper_id)
) WITHOUT ROWID;
CREATE INDEX paper_key_paper ON paper_key(paper_id);
CREATE TABLE week(
    week TEXT PRIMARY KEY,
    published TEXT,
    dirty INTEGER NOT NULL DEFAULT 1,
    hash TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '[]',
    item TEXT NOT NULL DEFAULT ''
);
"""

SIGHTINGS_ONLY = 2
"""``week.dirty`` of a week whose papers were only seen again since it was rendered (new
sightings; a new version that keeps its published tags; a link or authors filled in):
its papers and their themes, hence its counts, are as they were (1: anything may have
changed, 0: clean)."""

KEPT = "kept:"
"""Prefix of the rules fingerprint of a paper of a published week shown in a newer
version than it was tagged from: it keeps its published tags until ``--rebuild``."""

_Tagged = tuple[str, str, str]
"""Tags (JSON list), theme and rules fingerprint of a text, as the paper and text rows
keep them."""

BUSY_MS = 30_000
"""How long a statement waits for another connection's lock before it fails."""
COMMIT_PATIENCE = 600
"""How long a bulk import's commit waits for the store's readers (see :meth:`Store.commit`)."""
AUTOCHECKPOINT = 1000
"""SQLite's default: a commit that leaves the write-ahead log with at least this many
pages copies it into the database."""
CACHE_KIB = 64 * 1024
"""SQLite's page cache (it grows to this only as pages are read)."""
BULK_CACHE_KIB = (256 * 1024, 512 * 1024)
"""The least and the most page cache while listings are ingested
(:meth:`Store.grouped_commits`), a sixth of the store's size in between: identity
lookups and inserts land at random places of hash-keyed indexes (about an eighth of
the store), and every page of them that does not fit is read from the file again and
written by every commit. Given back after the ingest."""

MIGRATIONS: dict[int, str] = {
    1: _SCHEMA_V1,
    # -- email: one row per (week, recipient); 'sending' before SMTP, 'sent' after --
    2: """CREATE TABLE sent(
        week TEXT NOT NULL,
        recipient TEXT NOT NULL,
        status TEXT NOT NULL CHECK(status IN ('sending', 'sent')),
        message_id TEXT NOT NULL,
        day TEXT NOT NULL,
        PRIMARY KEY(week, recipient)
    )""",
    # -- near-duplicate blocking keys in a table of their own: one B-tree (no index by
    #    paper, no foreign key to check), since a new paper adds several and nothing
    #    looks them up by paper --
    3: """CREATE TABLE block_key(
        key TEXT NOT NULL,
        paper_id TEXT NOT NULL,
        PRIMARY KEY(key, paper_id)
    ) WITHOUT ROWID;
    INSERT INTO block_key(key, paper_id) SELECT key, paper_id FROM paper_key WHERE kind='block';
    DELETE FROM paper_key WHERE kind='block'""",
    # -- a week's theme counts from the index alone (no table row read per paper), for
    #    published weeks that later sightings touch --
    4: """DROP INDEX paper_week;
    CREATE INDEX paper_week ON paper(week, theme, first_seen, id)""",
    # -- tags computed with a text as it is ingested (by the process that parsed it), so
    #    the tag stage copies them instead of computing them afterwards --
    5: """ALTER TABLE text ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE text ADD COLUMN theme TEXT NOT NULL DEFAULT '';
    ALTER TABLE text ADD COLUMN rules TEXT NOT NULL DEFAULT ''""",
    # -- version 6 dropped paper_key_paper, and was withdrawn (a paper's keys from listings
    #    replaced earlier went stale without it): stores that took it get it back at 7;
    #    for the others, nothing to do --
    6: "CREATE INDEX IF NOT EXISTS paper_key_paper ON paper_key(paper_id)",
    # -- a theme's newest papers in index order, ties by id included (no sort, and no
    #    lookup by id: see newest_versions) --
    7: """CREATE INDEX IF NOT EXISTS paper_key_paper ON paper_key(paper_id);
    DROP INDEX paper_theme;
    CREATE INDEX paper_theme ON paper(theme, first_seen, id)""",
    # -- sightings are append-only: a listing whose content changed is a new row (a new
    #    version of it) instead of replacing the old one, whose sightings stay; one row
    #    per (name, content). SQLite changes a constraint by copying the table (foreign
    #    keys are off while migrations run, see Store._migrate) --
    8: """CREATE TABLE listing_v8(
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        stat TEXT NOT NULL DEFAULT '',
        format TEXT NOT NULL,
        date TEXT,
        entries INTEGER NOT NULL,
        problems INTEGER NOT NULL,
        UNIQUE(name, sha256)
    );
    INSERT INTO listing_v8(id, name, sha256, stat, format, date, entries, problems)
        SELECT id, name, sha256, stat, format, date, entries, problems FROM listing;
    DROP TABLE listing;
    ALTER TABLE listing_v8 RENAME TO listing""",
}
"""Version -> the SQL that brings a store from version-1 to it. Append, never edit."""

REPAIRS: dict[int, str] = {
    # -- sightings dated outside the years every output can express were stored before
    #    the readers refused them; every later run failed on them (ISO week arithmetic) --
    8: "_repair_for_version_8",
}
"""Version -> the :class:`Store` method that migrating to it runs after its SQL, in the
same transaction, for what SQL alone cannot do (ISO weeks). Append, never edit."""


@dataclass(slots=True)
class Resolution:
    """Which paper a sighting belongs to, and why."""

    paper_id: str | None
    """None: a new paper."""
    rule: str
    score: float = 1.0
    detail: str = ""
    keys: list[tuple[str, str]] = field(default_factory=list)
    """Extra (kind, key) pairs to index the paper under (near-duplicate blocking keys)."""
    title_key: str = ""
    """The sighting's title key, when the resolver computed it (else the store does)."""
    text_hash: str = ""
    """The sighting's :func:`~digest.normalize.text_hash`, likewise."""


@dataclass(frozen=True, slots=True)
class WeekState:
    """What the store knows of one week's rendering."""

    week: str
    dirty: bool
    """Its papers changed since the state below was computed."""
    hash: str
    """Content hash of the week's digest."""
    summary: str
    """Section counts (JSON, see :func:`digest.grouping.summary_to_json`)."""
    counted: bool = False
    """Dirty only because its papers were seen again: its counts are :attr:`summary`."""


@dataclass(slots=True)
class IngestResult:
    """What ingesting one listing changed."""

    sightings: int = 0
    new_papers: int = 0
    merged: int = 0
    tagged: int = 0
    """Papers tagged as they were stored (new papers, papers shown in a new version)."""
    skipped: bool = False
    """The same content was ingested before: nothing changed."""


@dataclass(frozen=True, slots=True)
class PaperRows:
    """Papers as rows of plain values (see :meth:`Store.week_rows`)."""

    papers: list[tuple[Any, ...]]
    """(id, title, abstract, first_seen, week, tags, theme, url, source_id, authors),
    oldest first."""
    sightings: list[tuple[Any, ...]]
    """(paper id, listing, date, position, rule, score), oldest first."""


Resolver = Callable[["Store", Entry, EntryKeys | None], Resolution]
"""Decides which paper a new sighting belongs to (see :mod:`digest.resolve`)."""


class CommitGroup:
    """Units of work sharing commits (see :meth:`Store.grouped_commits`)."""

    def __init__(self, store: Store, rows: int, *, nested: bool = False) -> None:
        self._store = store
        self._rows = rows
        self._pending = 0
        self.nested = nested
        """Inside a caller's transaction: nothing is committed here, nor rolled back."""

    def done(self, rows: int, *, last: bool = False) -> bool:
        """Count a unit's rows; True when that made the group commit (the units before
        are then safe: a later failure no longer undoes them). After the ``last`` unit
        nothing is committed here: the group's end commits it, and can leave the copy
        of the write-ahead log into the database to a thread (see
        :meth:`Store.grouped_commits`)."""
        self._pending += rows
        if self.nested or last or self._pending < self._rows:
            return False
        return self.commit()

    def commit(self) -> bool:
        """Commit the units since the last commit now; False when nested (nothing is
        committed here)."""
        if self.nested:
            return False
        self._store.commit()
        self._store.bulk_cache()  # the store grew
        self._store.db.execute("BEGIN IMMEDIATE")
        self._pending = 0
        return True

    def rollback(self) -> None:
        """Undo everything since the last commit and start again from there (the caller
        then does again the units it still wants). Raises when nested (the caller's
        transaction is the unit) or when SQLite already rolled back by itself (a failing
        disk, say: the store cannot be trusted to go on)."""
        db = self._store.db
        if self.nested or not db.in_transaction:
            raise StoreError(
                "the store's transaction was lost: nothing since its last commit was kept"
            )
        db.execute("ROLLBACK")
        db.execute("BEGIN IMMEDIATE")
        self._store.forget_touched()
        self._pending = 0


class Store:
    """A feed's SQLite store. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_MS / 1000)
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"cannot open the store {path}: {err}") from None
        self.db.row_factory = sqlite3.Row
        self._depth = 0
        self._touched: set[str] = set()
        self._sighted: set[str] = set()
        """Weeks whose papers were only seen again (see :meth:`_touch_sightings`)."""
        self._checkpointer: threading.Thread | None = None
        try:
            self._set_write_ahead_log()
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self.db.execute("PRAGMA temp_store=MEMORY")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except StoreError:
            self.db.close()
            raise
        except sqlite3.DatabaseError as err:
            self.db.close()
            if isinstance(err, sqlite3.OperationalError) and _busy(err):
                raise StoreError(
                    f"{path} stayed locked by another process for {BUSY_MS // 1000} s",
                    hint="try again when the other digest command is done",
                ) from None
            raise store_error(path, err) or StoreDamagedError(
                f"{path} is not a usable digest store: {err}"
            ) from None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: object, err: BaseException | None, tb: object) -> None:
        """Close; a store failing under the work of the ``with`` block (damaged pages,
        a full disk) is told as a :class:`StoreError` naming the file, not a traceback."""
        failure = store_error(self.path, err) if err is not None else None
        try:
            self.close()
        except sqlite3.Error as closing:
            if failure is None and err is None:
                failure, err = store_error(self.path, closing), closing
                if failure is None:
                    raise
        if failure is not None:
            raise failure from err

    def close(self) -> None:
        """Close the connection (once the write-ahead log is copied into the database, if
        a thread is doing it)."""
        if self._checkpointer is not None:
            self._checkpointer.join()
        self.db.close()

    # -- schema ---------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """The store's schema version (0 for an empty file)."""
        row = self.db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        if row is None:
            return 0
        got = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        try:
            return int(got[0]) if got else 0
        except (TypeError, ValueError):
            raise StoreDamagedError(
                f"{self.path} is damaged: its schema version is {got[0]!r}, not a number"
            ) from None

    def _migrate(self) -> None:
        current = self.version
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {current}, newer than this digest "
                f"understands ({SCHEMA_VERSION})",
                hint="upgrade digest",
            )
        if current == SCHEMA_VERSION:
            return
        # A migration may copy a table that others refer to (SQLite's way to change a
        # constraint): foreign keys are off meanwhile (a no-op inside a transaction), and
        # the sightings' references are checked before each commit.
        self.db.execute("PRAGMA foreign_keys=OFF")
        try:
            for version in range(current + 1, SCHEMA_VERSION + 1):
                with self.transaction():
                    if self.version >= version:  # another process migrated it meanwhile
                        continue
                    for statement in _statements(MIGRATIONS[version]):
                        self.db.execute(statement)
                    if version in REPAIRS:
                        getattr(self, REPAIRS[version])()
                    if self.db.execute("PRAGMA foreign_key_check(sighting)").fetchone():
                        raise sqlite3.DatabaseError(f"migration {version}: broken references")
                    self.set_meta("schema_version", str(version))
        finally:
            self.db.execute("PRAGMA foreign_keys=ON")

    @contextmanager
    def transaction(self, *, join: bool = False) -> Iterator[None]:
        """One atomic unit of work: all of it lands, or none of it. Nests (inner
        units are savepoints), so a caller can make several units one. With ``join``,
        a unit inside another one is part of it, not a savepoint of its own (if it
        fails, the caller's unit rolls back whole): a savepoint costs SQLite a copy of
        each page it changes, and time to release."""
        if join and self._depth:
            yield
            return
        depth = self._depth
        if depth == 0 and self._checkpointer is not None and not self._checkpointer.is_alive():
            self.wait_for_checkpoint()  # done: automatic checkpoints again
        self._depth += 1
        self.db.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT sp{depth}")
        try:
            yield
        except BaseException:
            if self.db.in_transaction:  # SQLite may have rolled back already (disk full)
                self.db.execute("ROLLBACK" if depth == 0 else f"ROLLBACK TO sp{depth}")
                if depth:
                    self.db.execute(f"RELEASE sp{depth}")
            if depth == 0:
                self.forget_touched()  # weeks touched by what was rolled back
            raise
        finally:
            self._depth -= 1
        self.db.execute("COMMIT" if depth == 0 else f"RELEASE sp{depth}")

    @contextmanager
    def grouped_commits(self, rows: int, *, bulk: bool = False) -> Iterator[CommitGroup]:
        """Share commits between units of work: inside, each unit joins one transaction,
        committed whenever the units since the last commit reach ``rows`` rows (report
        each unit's rows to :meth:`CommitGroup.done`) and at the end. A crash loses the
        units since the last commit, whole; a unit that fails is undone by
        :meth:`CommitGroup.rollback` and the caller doing again the units since the
        last commit (no savepoint per unit: one costs SQLite a copy of every page the
        unit changes, a sixth of a bulk import's SQL time).

        A commit writes every page the transaction dirtied, and rows with random keys
        (hashes) dirty a page each: grouping lets many units share those writes. The
        last commit's copy of the write-ahead log into the database (a checkpoint:
        as long as the commit itself, a second at 100,000 sightings) runs in a thread of
        its own, over what the caller does next (:meth:`_checkpoint_in_background`).

        ``bulk`` (a large import) writes with a rollback journal instead of the
        write-ahead log (:meth:`_rollback_journal`), and goes back to the log at the end.

        Foreign keys are not enforced inside: checking them costs a lookup per reference
        (a fifth of a bulk import's SQL time), and the store writes parents before their
        children and removes children first (the tests check :meth:`integrity_problems`
        after every kind of ingest)."""
        if self._depth:  # inside a transaction already: it is the group
            yield CommitGroup(self, rows, nested=True)
            return
        self.wait_for_checkpoint()  # one of an earlier group
        journal = False
        try:
            self.db.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
            self.bulk_cache()
            journal = bulk and self._rollback_journal()
            self.db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield CommitGroup(self, rows)
            except BaseException:
                if self.db.in_transaction:  # SQLite may have rolled back already (disk full)
                    self.db.execute("ROLLBACK")
                raise
            if not journal:
                self.db.execute("PRAGMA wal_autocheckpoint=0")
            self.commit()
            if not journal:
                self._checkpoint_in_background()
        finally:
            self._depth = 0
            self.forget_touched()
            if journal:
                self._write_ahead_log()
            elif self._checkpointer is None:  # the commit failed: no thread does it
                self.db.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT}")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self.db.execute("PRAGMA shrink_memory")
            _return_freed_memory()

    def _rollback_journal(self) -> bool:
        """Write with a rollback journal (until :meth:`_write_ahead_log`); False when
        another connection has the store open (the log stays then).

        With the write-ahead log, every page a large import writes is written twice (to
        the log at commit, into the database at the checkpoint after it), and every page
        read looks the log up first, which gets slower as the log grows. A rollback
        journal keeps a copy of the pages a transaction changes that existed before it,
        and no copy of those it adds: a first import, which mostly adds, writes each page
        once. A crash rolls the journal back at the next open, as the log would be. The
        cost: while the import commits, or spills a transaction larger than its page
        cache to the database file, other processes cannot read the store (they wait,
        up to :data:`BUSY_MS`); they open it without switching it to the log meanwhile
        (:meth:`_set_write_ahead_log`)."""
        self.wait_for_checkpoint()
        if self._journal_mode("delete", wait=False) != "delete":
            return False  # another connection has the store open
        self.db.execute("PRAGMA synchronous=FULL")  # what a rollback journal needs to be safe
        return True

    def _write_ahead_log(self) -> None:
        """Back to the write-ahead log (how every open starts, see :meth:`__init__`). If
        a reader keeps it from switching, the rollback journal stays, synced as it needs,
        until the next open."""
        try:
            if self._journal_mode("wal", wait=True) == "wal":
                self.db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.OperationalError:
            pass  # a store that just failed (disk full, ...): the next open sets it again

    def _set_write_ahead_log(self) -> None:
        """At open: switch to the write-ahead log without waiting. While another process
        imports with a rollback journal (:meth:`_rollback_journal`), the switch would
        wait for its lock: the store is read as it is instead (the importer, or the next
        open, puts the log back)."""
        self._journal_mode("wal", wait=False)

    def _journal_mode(self, mode: str, *, wait: bool) -> str:
        """Switch to journal ``mode``; returns the mode the store is in after (the old
        one when another connection's lock kept it from switching: at once, or after
        :data:`BUSY_MS` if ``wait``)."""
        if not wait:
            self.db.execute("PRAGMA busy_timeout=0")
        try:
            got = self.db.execute(f"PRAGMA journal_mode={mode}").fetchone()[0]
        except sqlite3.OperationalError as err:
            if not _busy(err):
                raise
            got = self.db.execute("PRAGMA journal_mode").fetchone()[0]
        finally:
            if not wait:
                self.db.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        return str(got).lower()

    def commit(self) -> None:
        """COMMIT the open transaction. With a rollback journal, a commit needs every
        reader of the store gone (a reader that started before the commit may keep it
        busy longer than :data:`BUSY_MS`, a slow ``digest export``, say): SQLite keeps
        new readers out meanwhile and leaves the transaction open, so it is tried again,
        for up to :data:`COMMIT_PATIENCE` seconds."""
        deadline = time.monotonic() + COMMIT_PATIENCE
        while True:
            try:
                self.db.execute("COMMIT")
                return
            except sqlite3.OperationalError as err:
                if not _busy(err) or not self.db.in_transaction or time.monotonic() > deadline:
                    raise

    def wait_for_checkpoint(self) -> None:
        """Wait for the checkpoint thread, if one is running."""
        if self._checkpointer is not None:
            self._checkpointer.join()
            self._checkpointer = None
            self.db.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT}")

    def _checkpoint_in_background(self) -> None:
        """Copy the write-ahead log into the database in a thread, with a connection of
        its own (SQLite lets one connection checkpoint while another reads and writes;
        the thread spends its time in SQLite and the kernel, without the GIL). Until it
        is done, commits leave the log to it (no automatic checkpoint, which would do
        the same work again, in the way); :meth:`close` waits for it, and so do callers
        about to fork worker processes (:meth:`wait_for_checkpoint`). If it fails, the
        checkpoint that closing the store does copies the log instead: nothing is lost
        either way (the log is part of the store until copied)."""
        thread = threading.Thread(target=_checkpoint, args=(self.path,), name="digest-checkpoint")
        thread.start()
        self._checkpointer = thread

    def bulk_cache(self) -> None:
        """Size the page cache for many writes (see :data:`BULK_CACHE_KIB`)."""
        pages, size = (
            self.db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size")
        )
        least, most = BULK_CACHE_KIB
        self.db.execute(f"PRAGMA cache_size=-{min(most, max(least, pages * size // 6144))}")

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
            for r in self.db.execute("PRAGMA foreign_key_check")
        ]
        found += [str(r[0]) for r in self.db.execute("PRAGMA quick_check") if r[0] != "ok"]
        return found

    def meta(self, key: str, default: str = "") -> str:
        """A value from the meta table."""
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_meta(self, key: str, value: str) -> None:
        """Set a meta value (inside the caller's transaction, if any)."""
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    # -- listings -------------------------------------------------------------------------

    def listing_hash(self, name: str) -> str | None:
        """Content hash of the latest stored version of the listing called ``name``, or
        None if never ingested."""
        row = self.db.execute(
            "SELECT sha256 FROM listing WHERE name=? ORDER BY id DESC LIMIT 1", (name,)
        ).fetchone()
        return str(row[0]) if row else None

    def has_listing(self, name: str, sha256: str) -> bool:
        """True when the listing ``name`` was stored with this content (in any version)."""
        row = self.db.execute(
            "SELECT 1 FROM listing WHERE name=? AND sha256=?", (name, sha256)
        ).fetchone()
        return row is not None

    def listing_stat(self, name: str) -> str | None:
        """The file status (size, mtime, ctime, inode) recorded when the listing's content was last
        hashed; an unchanged status lets a run skip reading the file at all."""
        row = self.db.execute(
            "SELECT stat FROM listing WHERE name=? ORDER BY id DESC LIMIT 1", (name,)
        ).fetchone()
        return str(row[0]) if row else None

    def set_listing_stat(self, name: str, stat: str) -> None:
        """Record the file status under which the listing's content hash was verified (on
        its latest version, which :meth:`listing_stat` reads)."""
        with self.transaction(join=True):
            self.db.execute(
                "UPDATE listing SET stat=? WHERE id=(SELECT MAX(id) FROM listing WHERE name=?)",
                (stat, name),
            )

    def changed_listings(self) -> list[tuple[str, int]]:
        """(name, versions) of every listing whose content changed since it was first
        read, by name."""
        rows = self.db.execute(
            "SELECT name, COUNT(*) FROM listing GROUP BY name HAVING COUNT(*) > 1 ORDER BY name"
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    def _seen_in(self, name: str) -> set[tuple[str, str]]:
        """(text hash, date) of every sighting stored from any version of listing ``name``."""
        rows = self.db.execute(
            "SELECT t.hash, s.date FROM listing l JOIN sighting s ON s.listing_id = l.id "
            "JOIN text t ON t.id = s.text_id WHERE l.name=?",
            (name,),
        )
        return {(str(r[0]), str(r[1])) for r in rows}

    def add_listing(
        self,
        name: str,
        sha256: str,
        fmt: str,
        date: dt.date | None,
        entries: Sequence[Entry],
        problems: int,
        resolve: Resolver,
        keys: Sequence[EntryKeys] | None = None,
        tags: Sequence[tuple[str, str]] | None = None,
        rules: str = "",
    ) -> IngestResult:
        """Store one listing's sightings in one transaction; ``keys`` are the entries'
        identity keys when computed already (one per entry), ``tags`` their (tags as a
        JSON list, theme) under the rules of fingerprint ``rules``, likewise: a new
        paper, or a paper shown in a new version, is then tagged as it is stored, and
        each text keeps its tags (see :meth:`tags_from_texts`).

        A listing stored before with the same content (in any version) changes
        nothing. One stored before with other content is a new version of it: its
        entries whose text and date an earlier version had are seen already and add no
        sighting; the others are added (positions stay those of this version). Nothing
        stored is ever removed.
        """
        if self.has_listing(name, sha256):
            return IngestResult(skipped=True)
        result = IngestResult()
        with self.transaction(join=True):
            seen = self._seen_in(name) if self.listing_hash(name) is not None else set()
            cur = self.db.execute(
                "INSERT INTO listing(name, sha256, format, date, entries, problems) "
                "VALUES(?, ?, ?, ?, ?, ?)",
                (name, sha256, fmt, date.isoformat() if date else None, len(entries), problems),
            )
            listing_id = int(cur.lastrowid or 0)
            for i, entry in enumerate(entries):
                if seen:
                    known = keys[i].text if keys is not None else ""
                    known = known or text_hash(entry.title, entry.abstract)
                    if (known, entry.date.isoformat()) in seen:
                        continue
                res = resolve(self, entry, keys[i] if keys is not None else None)
                tagged = None
                if tags is not None and rules:
                    tagged = (tags[i][0], tags[i][1], rules)
                digest = res.text_hash or text_hash(entry.title, entry.abstract)
                text_id = self._text_id(entry.title, entry.abstract, digest, tagged)
                if res.paper_id is None:
                    paper_id = self._new_paper(entry, res.title_key, text_id, tagged)
                    self._attach(listing_id, entry, paper_id, res, text_id, tagged, new=True)
                    result.new_papers += 1
                    result.tagged += tagged is not None
                else:
                    shown = self._attach(listing_id, entry, res.paper_id, res, text_id, tagged)
                    result.tagged += shown and tagged is not None
                    result.merged += 1
                result.sightings += 1
            self._flush_touched()
        return result

    def _repair_for_version_8(self) -> None:
        """What the readers of version 8 refuse or show otherwise, in stores written
        before: sightings dated outside the outputs' range, and listing names with
        characters that do not print (now escaped, so the file is known again)."""
        self._drop_unshowable_sightings()
        renamed = [
            (shown_name(str(r[0])), str(r[0]))
            for r in self.db.execute("SELECT DISTINCT name FROM listing")
            if shown_name(str(r[0])) != r[0]
        ]
        self.db.executemany("UPDATE listing SET name=? WHERE name=?", renamed)

    def _drop_unshowable_sightings(self) -> None:
        """Remove sightings dated outside :data:`~digest.sources.bounds.DATE_MIN` ..
        :data:`~digest.sources.bounds.DATE_MAX` (no week, page or feed could ever show
        them: every run failed), and the papers and weeks they alone made; a paper seen
        on other days too moves to its earliest remaining one. Readers now refuse such
        dates with a message naming file and line."""
        low, high = DATE_MIN.isoformat(), DATE_MAX.isoformat()
        where = "date < ? OR date > ? OR length(date) != 10"
        papers = [
            str(r[0])
            for r in self.db.execute(
                f"SELECT DISTINCT paper_id FROM sighting WHERE {where}", (low, high)
            )
        ]
        if not papers:
            return
        self.db.execute(f"DELETE FROM sighting WHERE {where}", (low, high))
        gone = []
        for paper_id in papers:
            rows = self.db.execute(
                "SELECT s.text_id, s.date FROM sighting s JOIN listing l ON l.id = s.listing_id"
                " WHERE s.paper_id=? ORDER BY s.date, l.id, s.position",
                (paper_id,),
            ).fetchall()
            if not rows:
                gone.append((paper_id,))
                continue
            first = dt.date.fromisoformat(rows[0]["date"])
            self.db.execute(
                "UPDATE paper SET first_seen=?, week=?, text_id=?, shown_date=? WHERE id=?",
                (rows[0]["date"], iso_week(first), rows[-1]["text_id"], rows[-1]["date"], paper_id),
            )
            self._touch(iso_week(first))
        # Blocking keys of a removed paper may stay: they point to no paper, which the
        # near-duplicate lookup skips.
        self.db.executemany("DELETE FROM paper_key WHERE paper_id=?", gone)
        self.db.executemany("DELETE FROM paper WHERE id=?", gone)
        self.db.execute("DELETE FROM week WHERE week < '1900' OR week >= '9001'")
        self.db.execute("DELETE FROM sent WHERE week < '1900' OR week >= '9001'")
        self._flush_touched()

    def forget_touched(self) -> None:
        """Drop the weeks touched by a unit of work that was rolled back."""
        self._touched.clear()
        self._sighted.clear()

    def _touch(self, *weeks: str) -> None:
        """Remember weeks whose content changed (flushed to the week table)."""
        self._touched.update(weeks)

    def _touch_sightings(self, week: str) -> None:
        """Remember a week one of whose papers was seen again: its pages change (how many
        listings showed the paper), its counts (papers per theme) cannot."""
        self._sighted.add(week)

    def _flush_touched(self) -> None:
        """Mark the touched weeks dirty in the week table: ``dirty`` 1 (anything may have
        changed), or 2 (:data:`SIGHTINGS_ONLY`) when only sightings did since the week
        was last rendered."""
        if self._touched:
            self.db.executemany(
                "INSERT INTO week(week, dirty) VALUES(?, 1) "
                "ON CONFLICT(week) DO UPDATE SET dirty=1",
                [(w,) for w in sorted(self._touched)],
            )
        sighted = self._sighted - self._touched
        if sighted:
            self.db.executemany(
                "INSERT INTO week(week, dirty) VALUES(?, 2) ON CONFLICT(week) "
                "DO UPDATE SET dirty=CASE dirty WHEN 1 THEN 1 ELSE 2 END",
                [(w,) for w in sorted(sighted)],
            )
        self.forget_touched()

    def _text_id(self, title: str, abstract: str, digest: str, tagged: _Tagged | None) -> int:
        cur = self.db.execute(
            "INSERT OR IGNORE INTO text(hash, title, abstract, tags, theme, rules) "
            "VALUES(?, ?, ?, ?, ?, ?)",
            (digest, title, abstract, *(tagged or ("[]", "", ""))),
        )
        if cur.rowcount:
            return int(cur.lastrowid or 0)
        row = self.db.execute("SELECT id FROM text WHERE hash=?", (digest,)).fetchone()
        return int(row[0])

    def _new_paper(self, entry: Entry, key: str, text_id: int, tagged: _Tagged | None) -> str:
        base = "p" + stable_hash(key or title_key(entry.title) or entry.title)
        day = entry.date.isoformat()
        week = iso_week(entry.date)
        self._touch(week)
        row = (
            text_id, day, day, week, entry.source_id, entry.url,
            _json_list(entry.authors), *(tagged or ("[]", "", "")),
        )  # fmt: skip
        paper_id, n = base, 1
        while True:  # ids are derived from the title; a forced split may need a suffix
            try:
                self.db.execute(
                    "INSERT INTO paper(id, text_id, first_seen, shown_date, week, source_id, url,"
                    " authors, tags, theme, rules) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (paper_id, *row),
                )
            except sqlite3.IntegrityError:
                n += 1
                paper_id = f"{base}-{n}"
                continue
            return paper_id

    def _attach(
        self,
        listing_id: int,
        entry: Entry,
        paper_id: str,
        res: Resolution,
        text_id: int,
        tagged: _Tagged | None,
        *,
        new: bool = False,
    ) -> bool:
        """Record a sighting of ``paper_id``; ``new`` when the paper was just created
        from this very sighting (nothing about it can change then). ``tagged``: the
        tags of the sighting's text under the current rules, when known. True when the
        paper is now shown in this sighting's text (a newer version) with its tags."""
        self.db.execute(
            "INSERT INTO sighting(listing_id, position, paper_id, text_id, date, line, source_id,"
            " version, announce, rule, score, detail) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                listing_id,
                entry.position,
                paper_id,
                text_id,
                entry.date.isoformat(),
                entry.line,
                entry.source_id,
                entry.version,
                entry.announce,
                res.rule,
                res.score,
                res.detail,
            ),
        )
        keys = [("title", res.title_key or title_key(entry.title)), *res.keys]
        if entry.source_id:
            keys.append(("id", entry.source_id))
        self.add_keys(paper_id, keys)
        if new:
            return True
        day = entry.date.isoformat()
        paper = self.db.execute(
            "SELECT first_seen, shown_date, text_id, week, rules FROM paper WHERE id=?",
            (paper_id,),
        ).fetchone()
        self._touch_sightings(paper["week"])  # its provenance ("seen in N listings") changed
        if day < paper["first_seen"]:
            self._touch(paper["week"], iso_week(entry.date))  # it moves to an earlier week
            self.db.execute(
                "UPDATE paper SET first_seen=?, week=? WHERE id=?",
                (day, iso_week(entry.date), paper_id),
            )
        shown = bool(day >= paper["shown_date"] and text_id != paper["text_id"])
        if shown and paper["rules"] and self._published(paper["week"]):
            # A tagged paper of a published week keeps the tags it was published with (as
            # it does when the rules change), so its week's page and feed item stay as
            # they were sent; its rules are marked for --rebuild, which tags it afresh.
            # (A paper never tagged is tagged as any other.)
            rules = paper["rules"]
            kept = rules if rules.startswith(KEPT) else KEPT + rules
            self.db.execute(
                "UPDATE paper SET text_id=?, shown_date=?, rules=? WHERE id=?",
                (text_id, day, kept, paper_id),
            )
            shown = False  # not tagged here
        elif shown:
            # The newest version is the one shown: its tags, or none until tagged (rules
            # is indexed: it is set only when it changes).
            self._touch(paper["week"])  # its theme may change
            if tagged is not None:
                self.db.execute(
                    "UPDATE paper SET text_id=?, shown_date=?, tags=?, theme=?, rules=? WHERE id=?",
                    (text_id, day, *tagged, paper_id),
                )
            else:
                self.db.execute(
                    "UPDATE paper SET text_id=?, shown_date=?"
                    + (", rules=''" if paper["rules"] else "")
                    + " WHERE id=?",
                    (text_id, day, paper_id),
                )
        if entry.source_id or entry.url or entry.authors:
            self.db.execute(
                "UPDATE paper SET source_id=COALESCE(source_id, ?), url=COALESCE(url, ?),"
                " authors=CASE WHEN authors='[]' THEN ? ELSE authors END WHERE id=?",
                (entry.source_id, entry.url, _json_list(entry.authors), paper_id),
            )
        return shown

    def add_keys(self, paper_id: str, keys: Iterable[tuple[str, str]]) -> None:
        """Index a paper under (kind, key) pairs: ``id``, ``title`` or ``block`` keys."""
        rows = [(kind, key, paper_id) for kind, key in keys if key and kind != "block"]
        blocks = [(key, paper_id) for kind, key in keys if key and kind == "block"]
        self.db.executemany(
            "INSERT OR IGNORE INTO paper_key(kind, key, paper_id) VALUES(?, ?, ?)", rows
        )
        if blocks:
            self.db.executemany(
                "INSERT OR IGNORE INTO block_key(key, paper_id) VALUES(?, ?)", blocks
            )

    def papers_by_key(self, kind: str, keys: Sequence[str]) -> list[str]:
        """Ids of papers indexed under any of ``keys`` of ``kind``, oldest paper first."""
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = self.db.execute(
            f"SELECT DISTINCT k.paper_id FROM paper_key k JOIN paper p ON p.id = k.paper_id "
            f"WHERE k.kind=? AND k.key IN ({marks}) ORDER BY p.first_seen, p.id",
            (kind, *keys),
        )
        return [str(r[0]) for r in rows]

    def block_candidates(self, keys: Sequence[str], cap: int) -> list[str]:
        """Papers sharing a near-duplicate blocking key, oldest first; a key held by more
        than ``cap`` papers is skipped (it says nothing, and would cost a lookup)."""
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = self.db.execute(
            "SELECT k.key, k.paper_id, p.first_seen FROM block_key k "
            f"JOIN paper p ON p.id = k.paper_id WHERE k.key IN ({marks}) LIMIT ?",
            (*keys, (cap + 1) * len(keys)),
        ).fetchall()
        per_key: dict[str, int] = {}
        for row in rows:
            per_key[row[0]] = per_key.get(row[0], 0) + 1
        found = {str(r[1]): str(r[2]) for r in rows if per_key[r[0]] <= cap}
        return sorted(found, key=lambda pid: (found[pid], pid))

    def has_text(self, digest: str) -> bool:
        """True when the text of this :func:`~digest.normalize.text_hash` was stored before."""
        return self.db.execute("SELECT 1 FROM text WHERE hash=?", (digest,)).fetchone() is not None

    def paper_texts(
        self, paper_ids: Sequence[str], versions: int | None = None
    ) -> list[tuple[str, str, str]]:
        """(id, title, abstract) of every distinct version of each paper (the shown one
        first), papers in the order given: a new sighting is compared with each. With
        ``versions``, at most that many per paper: the shown one, then the newest among
        the texts of its ``8 * versions`` newest sightings."""
        out: list[tuple[str, str, str]] = []
        for pid in paper_ids:
            if versions is not None:
                # Among the newest sightings only (the index walked backwards): a paper
                # seen thousands of times costs what one seen a few times does.
                rows = self.db.execute(
                    "SELECT t.title, t.abstract FROM text t WHERE t.id IN (SELECT text_id "
                    "FROM paper WHERE id=:id UNION SELECT text_id FROM (SELECT text_id "
                    "FROM sighting WHERE paper_id=:id ORDER BY rowid DESC LIMIT :scan)) "
                    "ORDER BY t.id = (SELECT text_id FROM paper WHERE id=:id) DESC, "
                    "t.id DESC LIMIT :n",
                    {"id": pid, "n": versions, "scan": 8 * versions},
                ).fetchall()
                out.extend((pid, str(r[0]), str(r[1])) for r in rows)
                continue
            rows = self.db.execute(
                "SELECT t.title, t.abstract FROM paper p JOIN text t ON t.id = p.text_id "
                "WHERE p.id=:id UNION SELECT t.title, t.abstract FROM sighting s "
                "JOIN text t ON t.id = s.text_id WHERE s.paper_id=:id",
                {"id": pid},
            ).fetchall()
            out.extend((pid, str(r[0]), str(r[1])) for r in rows)
        return out

    def paper_refs(self, paper_id: str) -> set[str]:
        """Everything a user may call a paper by: its id and its title keys."""
        rows = self.db.execute(
            "SELECT key FROM paper_key WHERE paper_id=? AND kind='title'", (paper_id,)
        )
        return {paper_id, *(str(r[0]) for r in rows)}

    # -- tags -----------------------------------------------------------------------------

    def untagged(
        self,
        fingerprint: str,
        frozen: Sequence[str] = (),
        *,
        only_new: bool = False,
        limit: int = 2000,
    ) -> Iterator[list[tuple[str, str, str]]]:
        """Batches of up to ``limit`` (id, title, abstract) of papers to tag: never tagged
        (new papers, new versions), and unless ``only_new`` also those tagged under other
        rules than ``fingerprint`` outside the ``frozen`` (published) weeks. Each batch
        is read when the next is asked for (a cursor on rowid: the caller may store
        results between batches, and may ask for the next before storing this one).
        ``only_new`` uses an index: its cost grows with the new papers only."""
        select = (
            "SELECT p.rowid, p.id, t.title, t.abstract FROM paper p "
            "JOIN text t ON t.id = p.text_id WHERE p.rowid > ? AND "
        )
        if only_new:
            where, args = "p.rules = ''", ()  # type: tuple[str, tuple[Any, ...]]
        else:
            marks = ",".join("?" * len(frozen))
            outside = f" AND p.week NOT IN ({marks})" if frozen else ""
            where, args = f"(p.rules = '' OR (p.rules != ?{outside}))", (fingerprint, *frozen)
        last = 0
        while True:
            rows = self.db.execute(
                select + where + " ORDER BY p.rowid LIMIT ?", (last, *args, limit)
            ).fetchall()
            if not rows:
                return
            last = int(rows[-1][0])
            yield [(str(r[1]), str(r[2]), str(r[3])) for r in rows]

    def tags_from_texts(self, fingerprint: str) -> int:
        """Give papers never tagged the tags their shown text was given as it was
        ingested, when that was under the rules of ``fingerprint``; returns how many
        papers got them (the others are left to :meth:`untagged`)."""
        if self.db.execute("SELECT 1 FROM paper WHERE rules='' LIMIT 1").fetchone() is None:
            return 0  # the usual case: papers are tagged as they are stored
        with self.transaction():
            self._touch(
                *(
                    str(r[0])
                    for r in self.db.execute("SELECT DISTINCT week FROM paper WHERE rules=''")
                )
            )
            cur = self.db.execute(
                "UPDATE paper SET (tags, theme, rules) = "
                "(SELECT t.tags, t.theme, t.rules FROM text t WHERE t.id = paper.text_id) "
                "WHERE rules = '' AND (SELECT t.rules FROM text t WHERE t.id = paper.text_id) = ?",
                (fingerprint,),
            )
            self._flush_touched()
        return max(cur.rowcount, 0)

    def set_tags(self, rows: Iterable[tuple[str, Sequence[str], str]], fingerprint: str) -> int:
        """Store (paper id, tags, theme) results computed with rules ``fingerprint``."""
        data = [(json.dumps(list(tags)), theme, fingerprint, pid) for pid, tags, theme in rows]
        with self.transaction():
            for chunk in _chunks([d[3] for d in data], 500):
                marks = ",".join("?" * len(chunk))
                self._touch(
                    *(
                        str(r[0])
                        for r in self.db.execute(
                            f"SELECT DISTINCT week FROM paper WHERE id IN ({marks})", chunk
                        )
                    )
                )
            self.db.executemany("UPDATE paper SET tags=?, theme=?, rules=? WHERE id=?", data)
            self._flush_touched()
        return len(data)

    # -- weeks ----------------------------------------------------------------------------

    def weeks(self) -> list[str]:
        """Every week that has papers, oldest first."""
        return [str(r[0]) for r in self.db.execute("SELECT DISTINCT week FROM paper ORDER BY week")]

    def week_states(self) -> list[WeekState]:
        """The state of every week that has had papers, oldest first. Cheap: one row
        per week, whatever the number of papers."""
        rows = self.db.execute("SELECT week, dirty, hash, summary FROM week ORDER BY week")
        return [
            WeekState(str(r[0]), bool(r[1]), str(r[2]), str(r[3]), r[1] == SIGHTINGS_ONLY)
            for r in rows
        ]

    def week_item(self, week: str) -> str:
        """A week's stored feed item (JSON; '' when none), read only for the weeks a feed
        shows."""
        row = self.db.execute("SELECT item FROM week WHERE week=?", (week,)).fetchone()
        return str(row[0]) if row else ""

    def set_week_state(self, week: str, content_hash: str, summary: str, item: str | None) -> None:
        """Record a week's content hash, summary and feed item (None keeps the stored
        item), and mark it clean."""
        self.db.execute(
            "INSERT INTO week(week, dirty, hash, summary, item) "
            "VALUES(?, 0, ?, ?, COALESCE(?, '')) "
            "ON CONFLICT(week) DO UPDATE SET dirty=0, hash=excluded.hash, "
            "summary=excluded.summary, item=COALESCE(?, week.item)",
            (week, content_hash, summary, item, item),
        )

    def newest_versions(self, theme: str, limit: int) -> dict[str, str]:
        """The ``limit`` most recently first-seen papers of a theme (newest first, ties by
        id), each id with its version: a string that changes whenever anything stored on
        the paper itself does (its text, dates, week, tags, theme, links or authors; not
        its sightings). Reads the theme's index and those papers' rows, no text and no
        sighting: a text is known by its id (a text row is never changed, nor removed,
        so its id stands for its content)."""
        rows = self.db.execute(
            "SELECT id, text_id, first_seen, shown_date, week, source_id, url, authors, tags, "
            "theme FROM paper WHERE theme=? ORDER BY first_seen DESC, id DESC LIMIT ?",
            (theme, limit),
        )
        return {str(r[0]): json.dumps(list(r[1:]), ensure_ascii=False) for r in rows}

    def count_papers(self, weeks: Sequence[str]) -> int:
        """Papers first seen in the given weeks (from the week index: no paper is read)."""
        total = 0
        for chunk in _chunks(list(weeks), 500):
            row = self.db.execute(
                f"SELECT COUNT(*) FROM paper WHERE week IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            ).fetchone()
            total += int(row[0])
        return total

    def meta_values(self, keys: Sequence[str]) -> dict[str, str]:
        """The values of those of ``keys`` that are set (see :meth:`meta`), in few queries."""
        out: dict[str, str] = {}
        for chunk in _chunks(list(keys), 500):
            rows = self.db.execute(
                f"SELECT key, value FROM meta WHERE key IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            )
            out.update((str(r[0]), str(r[1])) for r in rows)
        return out

    def _published(self, week: str) -> bool:
        row = self.db.execute("SELECT published FROM week WHERE week=?", (week,)).fetchone()
        return row is not None and row[0] is not None

    def published_weeks(self) -> list[str]:
        """Weeks marked as published (their pages and feed items are frozen)."""
        rows = self.db.execute("SELECT week FROM week WHERE published IS NOT NULL ORDER BY week")
        return [str(r[0]) for r in rows]

    def mark_published(self, weeks: Iterable[str], today: dt.date) -> None:
        """Record weeks as published on ``today`` (first publication date is kept)."""
        with self.transaction():
            self.db.executemany(
                "INSERT INTO week(week, published) VALUES(?, ?) ON CONFLICT(week) DO UPDATE "
                "SET published=COALESCE(week.published, excluded.published)",
                [(w, today.isoformat()) for w in weeks],
            )

    def unpublish(self) -> None:
        """Forget which weeks were published (``--rebuild``)."""
        with self.transaction():
            self.db.execute("UPDATE week SET published=NULL")

    # -- reading papers -------------------------------------------------------------------

    def papers(self, week: str | None = None, ids: Sequence[str] | None = None) -> list[Paper]:
        """Papers (all, of one week, or by id), each with all its sightings, oldest first."""
        where, args = "", ()  # type: tuple[str, tuple[Any, ...]]
        if week is not None:
            where, args = "WHERE p.week=?", (week,)
        elif ids is not None:
            where, args = f"WHERE p.id IN ({','.join('?' * len(ids))})", tuple(ids)
        rows = self.db.execute(
            "SELECT p.*, t.title, t.abstract FROM paper p JOIN text t ON t.id = p.text_id "
            f"{where} ORDER BY p.first_seen, p.id",
            args,
        ).fetchall()
        if not rows:
            return []
        sightings: dict[str, list[Sighting]] = {r["id"]: [] for r in rows}
        for chunk in _chunks([r["id"] for r in rows], 500):
            for s in self.db.execute(
                "SELECT s.paper_id, l.name, s.date, s.position, s.rule, s.score "
                "FROM sighting s JOIN listing l ON l.id = s.listing_id "
                f"WHERE s.paper_id IN ({','.join('?' * len(chunk))}) "
                "ORDER BY s.date, l.name, s.position",
                chunk,
            ):
                sightings[s[0]].append(
                    Sighting(s[1], dt.date.fromisoformat(s[2]), s[3], s[4], s[5])
                )
        return [
            Paper(
                id=r["id"],
                title=r["title"],
                abstract=r["abstract"],
                first_seen=dt.date.fromisoformat(r["first_seen"]),
                week=r["week"],
                tags=tuple(json.loads(r["tags"])),
                theme=r["theme"],
                sightings=tuple(sightings[r["id"]]),
                url=r["url"],
                source_id=r["source_id"],
                authors=tuple(json.loads(r["authors"])),
            )
            for r in rows
        ]

    def week_rows(self, week: str) -> PaperRows:
        """A week's papers as plain rows (cheap to read, and to send to another process):
        :meth:`papers_from_rows` makes them what :meth:`papers` gives for the week."""
        cur = self.db.cursor()
        cur.row_factory = None
        papers = cur.execute(
            "SELECT p.id, t.title, t.abstract, p.first_seen, p.week, p.tags, p.theme, p.url, "
            "p.source_id, p.authors FROM paper p JOIN text t ON t.id = p.text_id "
            "WHERE p.week=? ORDER BY p.first_seen, p.id",
            (week,),
        ).fetchall()
        sightings = cur.execute(
            "SELECT s.paper_id, l.name, s.date, s.position, s.rule, s.score "
            "FROM paper p JOIN sighting s ON s.paper_id = p.id "
            "JOIN listing l ON l.id = s.listing_id WHERE p.week=? "
            "ORDER BY s.date, l.name, s.position",
            (week,),
        ).fetchall()
        return PaperRows(papers, sightings)

    @staticmethod
    def papers_from_rows(rows: PaperRows) -> list[Paper]:
        """The papers of :meth:`week_rows` (reads no database: runs in any process)."""
        # Dates and tag lists repeat across a week's papers: each is parsed once (a week
        # holds thousands of papers).
        days: dict[str, dt.date] = {}
        lists: dict[str, tuple[str, ...]] = {"[]": ()}

        def day(text: str) -> dt.date:
            got = days.get(text)
            if got is None:
                got = days[text] = dt.date.fromisoformat(text)
            return got

        def strings(text: str) -> tuple[str, ...]:
            got = lists.get(text)
            if got is None:
                got = lists[text] = tuple(json.loads(text))
            return got

        sightings: dict[str, list[Sighting]] = {r[0]: [] for r in rows.papers}
        for s in rows.sightings:
            sightings[s[0]].append(Sighting(s[1], day(s[2]), s[3], s[4], s[5]))
        return [
            Paper(
                id=r[0],
                title=r[1],
                abstract=r[2],
                first_seen=day(r[3]),
                week=r[4],
                tags=strings(r[5]),
                theme=r[6],
                sightings=tuple(sightings[r[0]]),
                url=r[7],
                source_id=r[8],
                authors=() if r[9] == "[]" else tuple(json.loads(r[9])),  # seldom repeated
            )
            for r in rows.papers
        ]

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        """Every paper, oldest first, in batches (memory stays bounded)."""
        last: tuple[str, str] = ("", "")
        while True:
            rows = self.db.execute(
                "SELECT id, first_seen FROM paper WHERE (first_seen, id) > (?, ?) "
                "ORDER BY first_seen, id LIMIT ?",
                (*last, batch),
            ).fetchall()
            if not rows:
                return
            yield from self.papers(ids=[r[0] for r in rows])
            last = (rows[-1][1], rows[-1][0])

    def find(self, reference: str) -> list[str]:
        """Paper ids for an id, a source id (``arxiv:...``) or a title (exact key, then
        substring of any version's title)."""
        if self.db.execute("SELECT 1 FROM paper WHERE id=?", (reference,)).fetchone():
            return [reference]
        for kind, key in (("id", reference), ("title", title_key(reference))):
            found = self.papers_by_key(kind, [key])
            if found:
                return found
        rows = self.db.execute(
            "SELECT DISTINCT p.id, p.first_seen FROM sighting s JOIN text t ON t.id = s.text_id "
            "JOIN paper p ON p.id = s.paper_id WHERE t.title LIKE ? ESCAPE '\\' "
            "ORDER BY p.first_seen, p.id LIMIT 20",
            ("%" + reference.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",),
        )
        return [str(r[0]) for r in rows]

    def merges(self, paper_id: str) -> list[dict[str, Any]]:
        """Every sighting of a paper with the rule, score and detail that tied it in."""
        rows = self.db.execute(
            "SELECT l.name, s.date, s.position, s.line, s.rule, s.score, s.detail, t.title "
            "FROM sighting s JOIN listing l ON l.id = s.listing_id JOIN text t ON t.id = s.text_id"
            " WHERE s.paper_id=? ORDER BY s.date, l.name, s.position",
            (paper_id,),
        )
        return [dict(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Listings, sightings, papers and untagged papers in the store."""
        one = self.db.execute
        return {
            "listings": one("SELECT COUNT(DISTINCT name) FROM listing").fetchone()[0],
            "sightings": one("SELECT COUNT(*) FROM sighting").fetchone()[0],
            "papers": one("SELECT COUNT(*) FROM paper").fetchone()[0],
        }

    def week_theme_counts(self, week: str) -> list[tuple[str, int]]:
        """(theme, papers) of one week, themes in order of their first paper (first seen,
        then id), as :func:`digest.grouping.group_week` meets them; without loading a
        single paper."""
        rows = self.db.execute(
            "SELECT theme, COUNT(*), MIN(first_seen || ' ' || id) AS first FROM paper "
            "WHERE week=? GROUP BY theme ORDER BY first",
            (week,),
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    def theme_counts(self) -> dict[str, int]:
        """Papers per primary theme."""
        rows = self.db.execute("SELECT theme, COUNT(*) FROM paper GROUP BY theme ORDER BY theme")
        return {str(r[0]): int(r[1]) for r in rows}

    def listing_meta(self) -> dict[int, tuple[str, str, str, dt.date | None, int]]:
        """Listing version id -> (name, sha256, format, date, problem count), oldest first."""
        rows = self.db.execute(
            "SELECT id, name, sha256, format, date, problems FROM listing ORDER BY id"
        )
        return {
            int(r[0]): (
                str(r[1]),
                str(r[2]),
                str(r[3]),
                dt.date.fromisoformat(r[4]) if r[4] else None,
                int(r[5]),
            )
            for r in rows
        }

    def all_sightings(self) -> list[tuple[int, Entry]]:
        """Every stored sighting as (listing version id, Entry), in ingestion order — for
        re-resolving identities after the user's overrides change."""
        # Links and authors are kept by paper, not by sighting: the sighting that made the
        # paper carries them back, so re-resolving loses neither.
        rows = self.db.execute(
            "SELECT l.name, s.*, t.title, t.abstract,"
            " CASE WHEN s.rule = 'new' THEN p.url END AS paper_url,"
            " CASE WHEN s.rule = 'new' THEN p.authors ELSE '[]' END AS paper_authors"
            " FROM sighting s JOIN listing l ON l.id = s.listing_id"
            " JOIN text t ON t.id = s.text_id JOIN paper p ON p.id = s.paper_id"
            " ORDER BY l.id, s.position"
        ).fetchall()
        return [
            (
                r["listing_id"],
                Entry(
                    title=r["title"],
                    abstract=r["abstract"],
                    listing=r["name"],
                    date=dt.date.fromisoformat(r["date"]),
                    position=r["position"],
                    line=r["line"],
                    source_id=r["source_id"],
                    version=r["version"],
                    announce=r["announce"],
                    url=r["paper_url"],
                    authors=tuple(json.loads(r["paper_authors"])),
                ),
            )
            for r in rows
        ]

    def clear_papers(self) -> None:
        """Drop every paper and sighting but keep texts (inside the caller's transaction)."""
        self.db.execute("UPDATE week SET dirty=1")
        self.db.execute("DELETE FROM sighting")
        self.db.execute("DELETE FROM paper_key")
        self.db.execute("DELETE FROM block_key")
        self.db.execute("DELETE FROM paper")
        self.db.execute("DELETE FROM listing")

    # -- email ----------------------------------------------------------------------------

    def send_status(self, week: str, recipient: str) -> str | None:
        """``sending`` (a run started sending and may have been killed), ``sent``, or None."""
        row = self.db.execute(
            "SELECT status FROM sent WHERE week=? AND recipient=?", (week, recipient)
        ).fetchone()
        return str(row[0]) if row else None

    def mark_sending(self, week: str, recipient: str, message_id: str, day: dt.date) -> None:
        """Record that ``week`` is about to go to ``recipient`` (before talking to SMTP)."""
        self.db.execute(
            "INSERT INTO sent(week, recipient, status, message_id, day) "
            "VALUES(?, ?, 'sending', ?, ?) ON CONFLICT(week, recipient) DO UPDATE SET "
            "status='sending', message_id=excluded.message_id, day=excluded.day",
            (week, recipient, message_id, day.isoformat()),
        )

    def mark_sent(self, week: str, recipient: str, day: dt.date) -> None:
        """Record that the server accepted ``week`` for ``recipient``."""
        self.db.execute(
            "UPDATE sent SET status='sent', day=? WHERE week=? AND recipient=?",
            (day.isoformat(), week, recipient),
        )

    def clear_sending(self, week: str, recipient: str) -> None:
        """Forget a 'sending' record whose message the server certainly did not accept."""
        self.db.execute(
            "DELETE FROM sent WHERE week=? AND recipient=? AND status='sending'",
            (week, recipient),
        )


def _checkpoint(path: Path) -> None:
    """A passive checkpoint of the store at ``path`` (it never waits for a lock, and
    copies whatever the log holds that no reader still needs), then the pages it copied
    flushed to disk through the connection's own descriptor (:func:`_flush`)."""
    try:
        before = _descriptors(path)
        db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_MS / 1000)
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            _flush(_descriptors(path) - before)
        finally:
            db.close()
    except sqlite3.Error:
        pass  # the store's own checkpoint at close copies the log instead


def _descriptors(path: Path) -> set[int]:
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


def _flush(descriptors: set[int]) -> None:
    """fsync a file through one of the ``descriptors`` this process holds on it.

    SQLite syncs the database only after a checkpoint that copied the whole log, which
    a checkpoint running while the store is written never does: the flush of every page
    it copied would fall to the next checkpoint, the one at close, on the run's critical
    path (0.1 s for a 500-entry listing into a million-entry store). It is flushed
    through the checkpoint connection's own descriptor: opening the file anew would not
    do (closing that descriptor would drop the locks SQLite holds on the file: POSIX
    locks belong to the process), and a write error it reports is reported again to
    the store's own connection (the kernel tells each open file), whose checkpoint at
    close then fails as it should. Without a descriptor (not Linux), nothing to do:
    that checkpoint flushes the pages."""
    for fd in sorted(descriptors):
        try:
            os.fsync(fd)
            return
        except OSError:
            continue  # closed meanwhile; a write error, see above


def store_error(path: Path, err: BaseException) -> StoreError | None:
    """The :class:`StoreError` that tells a user what ``err``, raised by SQLite while
    working on the store at ``path``, means and what to do; None for anything else
    (a bug, or no SQLite error at all)."""
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
    """Give the memory SQLite just freed back to the system. The C allocator keeps
    freed memory for reuse: without this, a process keeps the page cache of a bulk
    ingest (hundreds of MB) resident for the rest of the run, and every worker
    process forked later shows it too. glibc only (elsewhere, nothing to do)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return
    trim(0)


def _json_list(items: Sequence[str]) -> str:
    """``json.dumps(list(items))``, without the encoder for the usual empty list."""
    return json.dumps(list(items)) if items else "[]"


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
