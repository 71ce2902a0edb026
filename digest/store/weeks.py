"""The ``week`` table: which weeks changed since they were rendered, and publishing.

Input: the weeks that writes to papers and sightings touched. Output: each week's
``dirty`` mark, and the weeks marked as published (their pages and items frozen).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from digest.store.database import Database

SIGHTINGS_ONLY = 2
"""``week.dirty`` of a week whose papers were only seen again since it was rendered (new
sightings; a new version that keeps its published tags; a link or authors filled in):
its papers and their themes, hence its counts, are as they were (1: anything may have
changed, 0: clean)."""


class Weeks:
    """The weeks of a store, and the changes to them not yet written."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._touched: set[str] = set()
        self._sighted: set[str] = set()
        """Weeks whose papers were only seen again (see :meth:`touch_sightings`)."""
        db.on_rollback.append(self.forget_touched)

    def forget_touched(self) -> None:
        """Drop the weeks touched by a unit of work that was rolled back."""
        self._touched.clear()
        self._sighted.clear()

    def touch(self, *weeks: str) -> None:
        """Remember weeks whose content changed (written by :meth:`flush_touched`)."""
        self._touched.update(weeks)

    def touch_sightings(self, week: str) -> None:
        """Remember a week one of whose papers was seen again: its pages change (how many
        listings showed the paper), its counts (papers per theme) cannot."""
        self._sighted.add(week)

    def flush_touched(self) -> None:
        """Mark the touched weeks dirty: ``dirty`` 1 (anything may have changed), or 2
        (:data:`SIGHTINGS_ONLY`) when only sightings did since the week was rendered."""
        conn = self.db.conn
        if self._touched:
            conn.executemany(
                "INSERT INTO week(week, dirty) VALUES(?, 1) "
                "ON CONFLICT(week) DO UPDATE SET dirty=1",
                [(w,) for w in sorted(self._touched)],
            )
        sighted = self._sighted - self._touched
        if sighted:
            conn.executemany(
                "INSERT INTO week(week, dirty) VALUES(?, 2) ON CONFLICT(week) "
                "DO UPDATE SET dirty=CASE dirty WHEN 1 THEN 1 ELSE 2 END",
                [(w,) for w in sorted(sighted)],
            )
        self.forget_touched()

    def with_papers(self) -> list[str]:
        """Every week that has papers, oldest first."""
        rows = self.db.execute("SELECT DISTINCT week FROM paper ORDER BY week")
        return [str(r[0]) for r in rows]

    def published(self) -> list[str]:
        """Weeks marked as published (their pages and feed items are frozen)."""
        rows = self.db.execute("SELECT week FROM week WHERE published IS NOT NULL ORDER BY week")
        return [str(r[0]) for r in rows]

    def mark_published(self, weeks: Iterable[str], today: dt.date) -> None:
        """Record weeks as published on ``today`` (first publication date is kept)."""
        with self.db.transaction():
            self.db.conn.executemany(
                "INSERT INTO week(week, published) VALUES(?, ?) ON CONFLICT(week) DO UPDATE "
                "SET published=COALESCE(week.published, excluded.published)",
                [(w, today.isoformat()) for w in weeks],
            )

    def unpublish(self) -> None:
        """Forget which weeks were published (``--rebuild``)."""
        with self.db.transaction():
            self.db.execute("UPDATE week SET published=NULL")
