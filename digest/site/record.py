"""The site build's one door to the store: every read it makes, and what it must
record, gathered while it renders and written once, at the end.

Input: the store. Output: the store's rows as the build reads them (overlaid with
what this build has recorded so far), and, at :meth:`BuildRecord.commit`, one
transaction holding every week state, every feed item's dates and week issue's draft
(the store's ``feed_item`` table), the feed's id and epoch (``meta``), and the weeks
it published. The one exception is the cache of theme and tag page cards, kept as the
build goes (:meth:`BuildRecord.keep_topic_cards`).

Every store call of the site build is in this module. The output folder's manifest
and the feed documents written before are not the store's: they say what that folder
holds (:mod:`~digest.site.manifest`, :class:`~digest.site.feedset.PreviousDocuments`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from digest.feedid import FEED_UID, new_feed_uid
from digest.models import Paper
from digest.store import FeedItemRow, ItemDates, PaperRows, Store, WeekState
from digest.store.papers import Papers
from digest.store.topics import Listed

__all__ = ["FEED_EPOCH", "BuildRecord", "Listed", "papers_from_rows"]

FEED_EPOCH = "feed_epoch"
"""The store's meta key of the date of the first build."""


class BuildRecord:
    """The store as one build sees it: reads pass through (those of what the build has
    recorded see the record first), writes wait in memory for :meth:`commit`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.week_states: dict[str, tuple[str, str]] = {}
        """Week -> (hash, summary)."""
        self.drafts: dict[str, str] = {}
        """Week issue's item id -> its draft (JSON)."""
        self.dates: dict[str, ItemDates] = {}
        """Feed item id -> its dates."""
        self._stored_dates: dict[str, ItemDates | None] = {}
        """Feed item id -> its dates as stored (None: none), as read so far."""
        self.meta: dict[str, str] = {}
        """Meta key -> value: the feed's id and epoch."""
        self.published: list[str] = []
        """Weeks to mark published."""
        self.today: dt.date | None = None
        """The date they are published on."""

    # -- reads ------------------------------------------------------------------------

    def published_weeks(self) -> set[str]:
        """Weeks published before this build."""
        return set(self.store.weeks.published())

    def stored_week_states(self) -> dict[str, WeekState]:
        """Week -> its stored state, for every week that has had papers."""
        return {s.week: s for s in self.store.feed.week_states()}

    def count_papers(self, weeks: Sequence[str]) -> int:
        """Papers first seen in ``weeks``."""
        return self.store.papers.count_in(weeks)

    def before_fork(self) -> None:
        """Let no thread of SQLite's run while worker processes are forked."""
        self.store.db.wait_for_checkpoint()

    def week_rows(self, week: str) -> PaperRows:
        """A week's papers as plain rows (see :func:`papers_from_rows`)."""
        return self.store.papers.week_rows(week)

    def week_theme_counts(self, week: str) -> list[tuple[str, int]]:
        """(theme, papers) of one week, without loading its papers."""
        return self.store.feed.week_theme_counts(week)

    def draft(self, item_id: str) -> str:
        """A week issue's draft (JSON), as recorded by this build or else as stored."""
        if item_id in self.drafts:
            return self.drafts[item_id]
        return self.store.feed_items.drafts([item_id]).get(item_id, "")

    def item_dates(self, ids: Sequence[str]) -> dict[str, ItemDates]:
        """The dates of those of ``ids`` that have any, as recorded by this build or
        else as stored: the stored ones read in one query per batch, once."""
        unread = [i for i in ids if i not in self.dates and i not in self._stored_dates]
        if unread:
            stored = self.store.feed_items.dates(unread)
            self._stored_dates.update((i, stored.get(i)) for i in unread)
        out: dict[str, ItemDates] = {}
        for i in ids:
            found = self.dates.get(i) or self._stored_dates.get(i)
            if found is not None:
                out[i] = found
        return out

    def newest_versions(self, theme: str, limit: int) -> dict[str, str]:
        """The ``limit`` newest papers of a theme, each id with its version."""
        return self.store.feed.newest_versions(theme, limit)

    def theme_versions(self) -> dict[str, int]:
        """Theme -> its version (see :meth:`~digest.store.FeedState.theme_versions`)."""
        return self.store.feed.theme_versions()

    def tag_versions(self) -> dict[str, int]:
        """Tag -> its version (see :meth:`~digest.store.topics.Topics.tag_versions`)."""
        return self.store.topics.tag_versions()

    def theme_papers(self, theme: str, *bounds: tuple[str, str]) -> list[Listed]:
        """(id, first seen, version) of a theme's papers, oldest first (``bounds``: from
        and before which (first seen, id))."""
        return self.store.topics.theme_papers(theme, *bounds)

    def tag_papers(self, tag: str, *bounds: tuple[str, str]) -> list[Listed]:
        """(id, first seen, version) of a tag's papers, oldest first (``bounds``: from
        and before which (first seen, id))."""
        return self.store.topics.tag_papers(tag, *bounds)

    def topic_seq(self) -> int:
        """The number of the newest change to a paper (see ``paper.seq``)."""
        return self.store.topics.seq()

    def changed_since(self, seq: int) -> list[tuple[str, str, str, int]]:
        """(topic, first seen, id, seq) of the papers changed after change ``seq``."""
        return self.store.topics.changed_since(seq)

    def count_before(self, kind: str, key: str, first: tuple[str, str]) -> int:
        """How many papers of a theme or tag come before ``first`` (first seen, id)."""
        return self.store.topics.count_before(kind, key, first)

    def shown(self, ids: Sequence[str]) -> list[Listed]:
        """(id, first seen, version) of the papers of ``ids``, oldest first."""
        return self.store.topics.shown(ids)

    def topic_cards(self, ids: Sequence[str]) -> dict[str, tuple[bytes, bytes]]:
        """Paper id -> (stamp, card) of the kept topic-page cards of ``ids``."""
        return self.store.topics.cards(ids)

    def keep_topic_cards(self, rows: Sequence[tuple[str, bytes, bytes]]) -> None:
        """Keep topic-page cards now, not at :meth:`commit`: a cache whose rows carry
        the stamp of what they were rendered from, so a build that fails after leaves
        nothing wrong (and a cold build need not hold every card until the end)."""
        self.store.topics.keep_cards(rows)

    def papers(self, ids: Sequence[str]) -> list[Paper]:
        """Papers by id."""
        return self.store.papers.load(ids=ids)

    def meta_value(self, key: str) -> str:
        """A meta value, as recorded by this build or else as stored ('' when unset)."""
        if key in self.meta:
            return self.meta[key]
        return self.store.meta.get(key)

    def feed_uid(self, base_url: str) -> str:
        """The feed's permanent id (see :func:`digest.feedid.feed_uid`), recorded at the
        first build."""
        uid = self.meta_value(FEED_UID)
        if not uid:
            uid = self.meta[FEED_UID] = new_feed_uid(base_url)
        return uid

    def feed_epoch(self, today: dt.date) -> dt.date:
        """The date of the first build: the date of a feed with no items (a fixed date,
        so an empty feed's bytes do not change from run to run)."""
        epoch = self.meta_value(FEED_EPOCH)
        if not epoch:
            epoch = self.meta[FEED_EPOCH] = today.isoformat()
        return dt.date.fromisoformat(epoch)

    # -- what to record ---------------------------------------------------------------

    def set_week_state(
        self, week: str, content_hash: str, summary: str, draft: tuple[str, str] | None
    ) -> None:
        """Record a week's hash and summary (the week is then clean) and, unless None,
        its issue's draft as (item id, JSON)."""
        self.week_states[week] = (content_hash, summary)
        if draft is not None:
            self.drafts[draft[0]] = draft[1]

    def set_item_dates(self, item_id: str, dates: ItemDates) -> None:
        """Record a feed item's dates."""
        self.dates[item_id] = dates

    def publish(self, weeks: Sequence[str], today: dt.date) -> None:
        """Mark ``weeks`` published on ``today`` (a week's first date is kept)."""
        self.published, self.today = list(weeks), today

    def commit(self) -> None:
        """Write everything recorded, in one transaction.

        Called once, after every output file is written and before the manifest is: a
        build that fails before leaves the store as it found it, so the next build does
        the same work again, and a week is never marked published (its tags frozen)
        unless its files were written; the manifest, which lets the next build reuse
        those files' feed entries, only ever names files whose state the store holds."""
        with self.store.db.transaction():
            for week, (content_hash, summary) in self.week_states.items():
                self.store.feed.set_week_state(week, content_hash, summary)
            ids = sorted(self.dates.keys() | self.drafts.keys())
            self.store.feed_items.put(
                FeedItemRow(i, self.dates.get(i), self.drafts.get(i)) for i in ids
            )
            for key, value in self.meta.items():
                self.store.meta.set(key, value)
            if self.published and self.today is not None:
                self.store.weeks.mark_published(self.published, self.today)


def papers_from_rows(rows: PaperRows) -> list[Paper]:
    """The papers of a week's rows (pure: runs in worker processes too)."""
    return Papers.from_rows(rows)
