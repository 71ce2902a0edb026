"""What the site build keeps between runs of each week: its rendered state.

Input: a week or a theme. Output: a week's stored content hash and section counts
(``week`` table), the newest papers of a theme with a version string each, and each
theme's version (``theme_state``). Feed
items (dates, and a week's issue draft) are in :mod:`.feed_items`.
"""

from __future__ import annotations

from dataclasses import dataclass

from digest.store.database import Database
from digest.store.weeks import SIGHTINGS_ONLY


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


class FeedState:
    """Rendered state of weeks and themes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def week_states(self) -> list[WeekState]:
        """The state of every week that has had papers, oldest first (one row a week)."""
        rows = self.db.execute("SELECT week, dirty, hash, summary FROM week ORDER BY week")
        return [
            WeekState(str(r[0]), bool(r[1]), str(r[2]), str(r[3]), r[1] == SIGHTINGS_ONLY)
            for r in rows
        ]

    def set_week_state(self, week: str, content_hash: str, summary: str) -> None:
        """Record a week's content hash and summary, and mark it clean."""
        self.db.execute(
            "INSERT INTO week(week, dirty, hash, summary) VALUES(?, 0, ?, ?) "
            "ON CONFLICT(week) DO UPDATE SET dirty=0, hash=excluded.hash, "
            "summary=excluded.summary",
            (week, content_hash, summary),
        )

    def week_theme_counts(self, week: str) -> list[tuple[str, int]]:
        """(theme, papers) of one week, themes in order of their first paper (first seen,
        then id), as :func:`digest.grouping.group_week` meets them; no paper loaded."""
        rows = self.db.execute(
            "SELECT theme, COUNT(*), MIN(first_seen || ' ' || id) AS first FROM paper "
            "WHERE week=? GROUP BY theme ORDER BY first",
            (week,),
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    def newest_versions(self, theme: str, limit: int) -> dict[str, str]:
        """The ``limit`` most recently first-seen papers of a theme (newest first, ties by
        id), each id with a version string that changes whenever anything stored on the
        paper itself does, or a sighting brings links or signals (not other sightings).
        Reads the theme's index and those rows only: a text row never changes, so its id
        stands for its content."""
        rows = self.db.execute(
            "SELECT id, text_id, first_seen, shown_date, week, source_id, url, authors, tags, "
            "theme, (SELECT MAX(s.rowid) FROM sighting s WHERE s.paper_id = paper.id "
            "AND s.extra != '') FROM paper WHERE theme=? ORDER BY first_seen DESC, id DESC "
            "LIMIT ?",
            (theme, limit),
        )
        return {str(r[0]): repr(r[1:]) for r in rows}

    def theme_versions(self) -> dict[str, int]:
        """Theme -> a number that grows with every change to one of its papers that a
        theme feed shows (kept by triggers on ``paper``; a theme never changed has none)."""
        rows = self.db.execute("SELECT theme, version FROM theme_state")
        return {str(r[0]): int(r[1]) for r in rows}
