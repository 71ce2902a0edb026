"""The SQLite store: the only package that speaks SQL.

Input: parsed listings and the identity and tag decisions the stages made. Output:
distinct papers with their sightings, tags and weeks, the state of the rendered site,
and the email ledger. A :class:`Store` is a :class:`~digest.store.database.Database`
(connection, transactions, durability) and the tables it serves:

- ``store.listings``: listings, their sightings and texts (:mod:`.listings`);
- ``store.keys``: the keys papers are found by, for identity resolution (:mod:`.keys`);
- ``store.papers``: papers as the later stages read them, and their tags (:mod:`.papers`);
- ``store.weeks``: which weeks changed, and publishing (:mod:`.weeks`);
- ``store.feed``: week states kept between runs (:mod:`.feed_state`);
- ``store.topics``: theme and tag listings for their pages (:mod:`.topics`);
- ``store.feed_items``: each feed item's dates and a week's issue draft (:mod:`.feed_items`);
- ``store.ledger``: what was emailed to whom (:mod:`.ledger`);
- ``store.meta``: small named values (:mod:`.meta`).

The schema and its append-only migrations are in :mod:`.schema`. The store knows
nothing of identity, rules or rendering: the stages decide, the store records.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from digest.errors import StoreError
from digest.store.database import CommitGroup, Database, store_error
from digest.store.feed_items import FeedItemRow, FeedItems, ItemDates
from digest.store.feed_state import FeedState, WeekState
from digest.store.keys import PaperKeys
from digest.store.ledger import Ledger
from digest.store.listings import KEPT, Link, Listings, Tagged
from digest.store.meta import Meta
from digest.store.papers import PackedRows, PaperRows, Papers
from digest.store.schema import MIGRATIONS, SCHEMA_VERSION, migrate, version
from digest.store.topics import Topics
from digest.store.weeks import SIGHTINGS_ONLY, Weeks

__all__ = [
    "KEPT",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SIGHTINGS_ONLY",
    "CommitGroup",
    "Database",
    "FeedItemRow",
    "ItemDates",
    "Link",
    "PackedRows",
    "PaperRows",
    "Store",
    "Tagged",
    "WeekState",
    "store_error",
]


class Store:
    """A feed's SQLite store. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = Database(path)
        try:
            self.db.configure()
            migrate(self.db)
        except StoreError:
            self.db.conn.close()
            raise
        except sqlite3.DatabaseError as err:
            self.db.conn.close()
            raise self.db.open_error(err) from None
        self.meta = Meta(self.db)
        self.weeks = Weeks(self.db)
        self.keys = PaperKeys(self.db)
        self.listings = Listings(self.db, self.weeks, self.keys)
        self.papers = Papers(self.db, self.weeks)
        self.feed = FeedState(self.db)
        self.feed_items = FeedItems(self.db)
        self.topics = Topics(self.db)
        self.ledger = Ledger(self.db)

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

    def copy_to(self, path: Path) -> None:
        """Write a consistent copy of the store to ``path`` (SQLite's online backup: a
        writer meanwhile waits, or is copied whole), to work on without touching this one."""
        target = sqlite3.connect(path)
        try:
            self.db.conn.backup(target)
        finally:
            target.close()

    @property
    def version(self) -> int:
        """The store's schema version."""
        return version(self.db)

    def close(self) -> None:
        """Close the connection (once the checkpoint thread, if any, is done)."""
        self.db.close()
