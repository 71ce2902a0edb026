"""The ``feed_item`` table: every feed item's dates, and the draft of a week's issue.

Input: feed item ids (``UID:week:WEEK``, ``UID:paper:ID``), and the dates and drafts
a build decided. Output: each item's stored dates (:class:`ItemDates`: the fingerprint
of the content they were given for, its first and its latest date) and, for a week's
issue, its draft (the item before its dates, as JSON; a paper's item has none: it is
made again from the paper).

Reads take many ids in one query per batch (a theme feed reads the dates of all its
items at once). The feed's id and epoch are channel-level and stay in ``meta``; what an
output folder holds (its manifest and the feed documents written before, whose entries
are reused when their SHA-256 matches) stays in that folder, since it describes that
folder and not the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from digest.store.database import Database, chunks


@dataclass(frozen=True, slots=True)
class ItemDates:
    """The dates a feed item was given, and for which content."""

    fingerprint: str
    """Fingerprint of the item's content when its dates were last set."""
    published: str
    """Its first date (ISO 8601, time-zone aware); never changes."""
    updated: str
    """Its latest date (ISO 8601): moves when its content does."""


@dataclass(frozen=True, slots=True)
class FeedItemRow:
    """What to write of one feed item; a part left None keeps what is stored."""

    id: str
    """The item's id."""
    dates: ItemDates | None = None
    """Its dates."""
    draft: str | None = None
    """A week's issue before its dates (JSON)."""


class FeedItems:
    """Feed items kept between builds."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def dates(self, ids: Sequence[str]) -> dict[str, ItemDates]:
        """The stored dates of those of ``ids`` that have any (one query per 500 ids)."""
        rows = self._rows("fingerprint, published, updated", "published", ids)
        return {str(r[0]): ItemDates(str(r[1]), str(r[2]), str(r[3])) for r in rows}

    def drafts(self, ids: Sequence[str]) -> dict[str, str]:
        """The stored drafts of those of ``ids`` that have one (one query per 500 ids)."""
        return {str(r[0]): str(r[1]) for r in self._rows("draft", "draft", ids)}

    def _rows(self, columns: str, present: str, ids: Sequence[str]) -> Iterator[Any]:
        """``id, columns`` of the items among ``ids`` whose ``present`` column is set."""
        for chunk in chunks(list(ids), 500):
            yield from self.db.execute(
                f"SELECT id, {columns} FROM feed_item "
                f"WHERE {present} IS NOT NULL AND id IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            )

    def put(self, rows: Iterable[FeedItemRow]) -> None:
        """Write items' dates and drafts (inside the caller's transaction, if any)."""
        self.db.conn.executemany(
            "INSERT INTO feed_item(id, fingerprint, published, updated, draft) "
            "VALUES(?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "fingerprint=COALESCE(excluded.fingerprint, feed_item.fingerprint), "
            "published=COALESCE(excluded.published, feed_item.published), "
            "updated=COALESCE(excluded.updated, feed_item.updated), "
            "draft=COALESCE(excluded.draft, feed_item.draft)",
            [
                (
                    r.id,
                    r.dates.fingerprint if r.dates else None,
                    r.dates.published if r.dates else None,
                    r.dates.updated if r.dates else None,
                    r.draft,
                )
                for r in rows
            ],
        )
