"""The build plan: what a build must render, and why.

Input: the config, the store's week states and summaries (through the
:class:`~digest.site.record.BuildRecord`), what the output folder's manifest says
was rendered, and the run's date. Output: :class:`~digest.site.pages.WeekJob` items,
oldest week first, and what the plan decided (:attr:`Plan.weeks`, :attr:`Plan.now`,
:attr:`Plan.affected`).

A page is rendered when it is missing or its content changed; once published, only
when its papers' counts or themes changed (a later sighting or a new version of an
old paper does not rewrite a published page; ``--rebuild`` does) or when the curator's
note or decisions on it did (:mod:`digest.editorial`). A change of counts also redraws
the charts of the weeks after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from digest.config import FeedConfig
from digest.editorial import WEEKS_META, Editorial, curate_rows, weeks_from_json
from digest.grouping import summarize_counts, summary_from_json, summary_to_json, trends
from digest.models import WeekSummary
from digest.site import searchpage
from digest.site.manifest import digest_hash, fingerprint
from digest.site.pages import PAGES, WeekJob, week_digest, week_files
from digest.site.record import BuildRecord
from digest.store import PaperRows, WeekState
from digest.weeks import iso_week, week_bounds

TREND_WEEKS = 8
"""Weeks shown in a week page's chart (the page's own and the ones before it)."""

STALE = "+stale"
"""Suffix of a published week's hash whose page was kept although its papers changed."""

LATER = "?"
"""Stands for a week's hash until its job has made it."""


class Plan:
    """Decides, week by week and oldest first, what a build renders.

    :meth:`jobs` reads the store and yields the work; what it decided is left in
    :attr:`weeks`, :attr:`now` and :attr:`affected` (and in the ``states`` and
    ``summaries`` it was given, which it brings up to date)."""

    def __init__(
        self,
        cfg: FeedConfig,
        record: BuildRecord,
        out: Path,
        today: dt.date,
        fresh: bool,
        done: dict[str, Any],
        published: set[str],
        states: dict[str, WeekState],
        summaries: dict[str, WeekSummary],
        editorial: Editorial,
    ) -> None:
        self.cfg = cfg
        self.record = record
        self.out = out
        self.fresh = fresh
        self.done = done
        self.published = published
        self.states = states
        self.summaries = summaries
        self.editorial = editorial
        self.editorial_stored = weeks_from_json(record.meta_value(WEEKS_META))
        """The editorial fingerprints the store's week states and items were made with."""
        self.curated = {
            w
            for w in editorial.weeks.keys() | self.editorial_stored.keys()
            if editorial.weeks.get(w) != self.editorial_stored.get(w)
        }
        """Weeks whose note or decisions changed since the store's state of them was made."""
        self.candidates = archive_weeks(cfg, sorted(states), today)
        """Weeks the archive may show, oldest first."""
        self.weeks: list[str] = []
        """Weeks in the archive."""
        self.now: dict[str, list[str]] = {}
        """Week -> [content hash, counts fingerprint], as the manifest keeps them."""
        self.affected: list[str] = []
        """Weeks whose pages are rendered."""
        self.recounted: list[str] = []
        """Weeks whose counts changed (their charts, and those after them, are redrawn)."""

    def changed(self) -> list[str]:
        """The candidate weeks whose papers are to be loaded (changed, or all when fresh)."""
        states, fresh = self.states, self.fresh
        return [
            w for w in self.candidates
            if w in states and (fresh or states[w].dirty or w in self.curated)
        ]  # fmt: skip

    def jobs(self, split: bool = False) -> Iterator[WeekJob]:
        """The work of each week that has some, oldest first. With ``split`` (the jobs
        go to worker processes), each job's rows are packed (:class:`PackedRows`: jobs
        wait for a worker holding a tenth of the memory), and the last week's pages are
        one job per page (side by side in workers: the current week is often the only
        one a run renders, or the last one left)."""
        for week in self.candidates:
            job = self._week(week)
            if job is None:
                continue
            if split and isinstance(job.rows, PaperRows):
                job = replace(job, rows=job.rows.pack())
            pages = [k for k in PAGES if k in self.cfg.output.formats]
            if not split or week != self.candidates[-1] or job.trend is None or len(pages) < 2:
                yield job
                continue
            # The first page's job also makes the week's hash and feed item.
            yield replace(job, kinds=(pages[0],))
            for kind in pages[1:]:
                yield WeekJob(job.week, job.rows, None, None, job.trend, False, (kind,))

    def keep_published(self) -> None:
        """Published weeks that changed (a later sighting of one of their papers, a new
        version) but whose counts did not keep their pages as they are: they are marked
        so (not dirty, their hash marked stale for --rebuild), and nothing more of them
        is loaded."""
        if self.fresh:
            return
        names = self.cfg.rules.section_names
        # A week the curator touches is left to _week: the store's counts are not curated.
        touched = [
            w for w in self.candidates
            if w in self.published and w in self.states and self.states[w].dirty
            and w not in self.editorial.weeks and w not in self.curated
        ]  # fmt: skip
        for week in touched:
            state = self.states[week]
            if state.counted:  # only sightings changed: the counts did not
                summary = state.summary
            else:
                counts = self.record.week_theme_counts(week)
                summary = summary_to_json(summarize_counts(week, counts, names))
            if summary == state.summary:
                kept = state.hash if state.hash.endswith(STALE) else state.hash + STALE
                self.record.set_week_state(week, kept, summary, None)
                self.states[week] = WeekState(week, False, kept, summary)

    def hashed(self, week: str, content_hash: str) -> None:
        """Record the hash of a week whose hash was made later (by its job)."""
        state = self.states[week]
        if state.hash != LATER:
            return
        self.states[week] = WeekState(week, state.dirty, content_hash, state.summary)
        if self.now.get(week, [""])[0] == LATER:
            self.now[week][0] = content_hash

    def _week(self, week: str) -> WeekJob | None:
        cfg, names = self.cfg, self.cfg.rules.section_names
        states, summaries, published = self.states, self.summaries, self.published
        rows: PaperRows | None = None
        new_counts: str | None = None
        want_item = False
        state = states.get(week)
        curated = week in self.curated
        if state is not None and (
            state.dirty
            or self.fresh
            or curated
            or (state.hash.endswith(STALE) and week not in published)
        ):
            # The papers are made of their rows where the pages are rendered (maybe in a
            # worker); their counts, as summarize(group_week(...)) would give them, here.
            rows = self._rows(week)
            themes: dict[str, int] = {}
            for row in rows.papers:
                themes[row[6]] = themes.get(row[6], 0) + 1
            counts = summary_to_json(summarize_counts(week, list(themes.items()), names))
            want_item = curated or not (
                week in published and counts == state.summary and not self.fresh
            )
            # The hash is made with the pages (maybe in a worker), unless needed before.
            new_counts = counts
            state = states[week] = WeekState(week, False, LATER, counts)
            if counts == "[]":
                summaries.pop(week, None)
            else:
                summaries[week] = summary_from_json(week, counts)
        if week not in summaries and not cfg.output.empty_weeks:
            return self._changed_only(week, rows, new_counts, want_item)
        self.weeks.append(week)
        self.now[week] = (
            [state.hash, fingerprint([state.summary])]
            if state is not None and week in summaries
            else ["empty", "empty"]
        )
        if week in self.editorial.weeks:  # the manifest of a feed without curation is as before
            self.now[week].append(self.editorial.weeks[week])
        before = self.done.get(week)
        if not isinstance(before, list) or len(before) not in (2, 3):
            before = None
        files = week_files(cfg, week, indexed=week in summaries)
        missing = any(not (self.out / f).is_file() for f in files) or (
            searchpage.bundle_entry(week) in files and not searchpage.complete(self.out, week)
        )
        if before is None or missing or before[1] != self.now[week][1]:
            self.recounted.append(week)
            render_it = True
        else:
            if state is not None and state.hash == LATER and rows is not None:
                self.hashed(week, digest_hash(week_digest(week, rows, cfg, self.editorial)))
            render_it = (
                (before[0] != self.now[week][0] and week not in published)
                or before[2:] != self.now[week][2:]  # the curator's note or decisions
                or any(0 < _weeks_between(c, week) < TREND_WEEKS for c in self.recounted)
            )
        if not render_it:
            return self._changed_only(week, rows, new_counts, want_item)
        if rows is None:
            rows = self._rows(week)
        self.affected.append(week)
        trend = trends(summaries, week, names, TREND_WEEKS)
        return WeekJob(week, rows, new_counts, self._hash(week), trend, want_item)

    def _changed_only(
        self, week: str, rows: PaperRows | None, counts: str | None, item: bool
    ) -> WeekJob | None:
        """The job of a week whose pages stay: its state and feed item, if they changed."""
        if counts is None:
            return None
        content_hash = self._hash(week)
        keep = item or content_hash is None  # what the job makes from the digest
        return WeekJob(week, rows if keep else None, counts, content_hash, None, item)

    def _rows(self, week: str) -> PaperRows:
        """A week's rows as the curator decided them (hidden papers out, themes moved)."""
        return curate_rows(self.record.week_rows(week), self.editorial)

    def _hash(self, week: str) -> str | None:
        state = self.states.get(week)
        return None if state is None or state.hash == LATER else state.hash


def archive_weeks(cfg: FeedConfig, weeks: list[str], today: dt.date) -> list[str]:
    """Weeks in the archive: those with papers, and with ``output.empty_weeks`` also the
    weeks without papers between the first one and the last ended one."""
    if cfg.output.empty_weeks and weeks:
        last_ended = iso_week(today - dt.timedelta(days=7))
        return _all_weeks(weeks[0], max(weeks[-1], last_ended))
    return weeks


def _all_weeks(first: str, last: str) -> list[str]:
    monday, _ = week_bounds(first)
    end, _ = week_bounds(last)
    out = []
    while monday <= end:
        out.append(iso_week(monday))
        monday += dt.timedelta(days=7)
    return out


def _weeks_between(a: str, b: str) -> int:
    return (week_bounds(b)[0] - week_bounds(a)[0]).days // 7
