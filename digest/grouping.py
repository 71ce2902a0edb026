"""Grouping: papers -> weekly :class:`~digest.models.WeekDigest` values and theme trends.

Input: the papers first seen in one ISO week (already tagged) and the
configured section names (themes in order, catch-all last). Output: the
week's non-empty sections, in configured order, each paper exactly once.
A paper whose stored theme is no longer configured (a published week under
old rules) gets a section of its own after the configured ones.

Also here: the slug of every section (the same in every week, so
``2025-W11.html#inference`` and ``themes/inference.xml`` always agree) and
:func:`trends`, the papers per theme over the weeks up to one week, which
the week page draws as a chart.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from digest.models import Paper, SectionSummary, ThemeSection, WeekDigest, WeekSummary
from digest.normalize import slugify
from digest.weeks import iso_week, week_bounds


def theme_slugs(names: Sequence[str]) -> dict[str, str]:
    """A unique anchor/file slug per section name, decided by configuration order."""
    # Slugs are [a-z0-9-]; the templates' own ids all hold an underscore, so never clash.
    used: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        if name in out:
            continue
        slug = slugify(name)
        # Paper ids look like ``p<hex>``: keep theme slugs out of that shape.
        if slug[:1] == "p" and all(c in "0123456789abcdef-" for c in slug[1:]):
            slug = "theme-" + slug
        while slug in used:
            slug += "-x"
        used.add(slug)
        out[name] = slug
    return out


def group_week(week: str, papers: Sequence[Paper], section_names: Sequence[str]) -> WeekDigest:
    """Sections of one week; papers sorted by first sighting, then title."""
    by_theme: dict[str, list[Paper]] = {name: [] for name in section_names}
    for paper in papers:
        by_theme.setdefault(paper.theme or section_names[-1], []).append(paper)
    slugs = theme_slugs(list(by_theme))
    sections = []
    for name, members in by_theme.items():
        if not members:
            continue
        members.sort(key=lambda p: (p.first_seen, p.title.casefold(), p.id))
        sections.append(ThemeSection(name=name, slug=slugs[name], papers=members))
    start, end = week_bounds(week)
    return WeekDigest(week=week, start=start, end=end, sections=sections)


@dataclass(frozen=True, slots=True)
class ThemeTrend:
    """One theme's paper counts over the weeks of a :class:`Trends`."""

    name: str
    """Section name."""
    slug: str
    """Section slug (anchor on the week page)."""
    counts: tuple[int, ...]
    """Papers per week, oldest first, one per week of :attr:`Trends.weeks`."""

    @property
    def peak(self) -> int:
        """The largest count (at least 1, so it can divide)."""
        return max(max(self.counts, default=0), 1)


@dataclass(frozen=True, slots=True)
class Trends:
    """Papers per theme over the recent weeks, ending with one week."""

    weeks: tuple[str, ...]
    """Consecutive ISO weeks, oldest first; the last is the page's own week."""
    themes: tuple[ThemeTrend, ...]
    """Themes with at least one paper in those weeks, in section order."""


def summarize(digest: WeekDigest) -> WeekSummary:
    """A week's section counts."""
    return WeekSummary(
        week=digest.week,
        start=digest.start,
        end=digest.end,
        sections=tuple(SectionSummary(s.name, s.slug, s.count) for s in digest.sections),
    )


def summarize_counts(
    week: str, counts: Sequence[tuple[str, int]], section_names: Sequence[str]
) -> WeekSummary:
    """What ``summarize(group_week(...))`` gives, from (theme, papers) pairs in order of
    each theme's first paper: the same sections, order and slugs."""
    by_theme: dict[str, int] = dict.fromkeys(section_names, 0)
    for theme, n in counts:
        name = theme or section_names[-1]
        by_theme[name] = by_theme.get(name, 0) + n
    slugs = theme_slugs(list(by_theme))
    start, end = week_bounds(week)
    sections = tuple(SectionSummary(n, slugs[n], c) for n, c in by_theme.items() if c)
    return WeekSummary(week=week, start=start, end=end, sections=sections)


def summary_to_json(summary: WeekSummary) -> str:
    """Serialise a summary for the store."""
    return json.dumps([[s.name, s.slug, s.count] for s in summary.sections], ensure_ascii=False)


def summary_from_json(week: str, text: str) -> WeekSummary:
    """The summary of ``week`` from its stored form (empty when there is none)."""
    start, end = week_bounds(week)
    rows = json.loads(text) if text.startswith("[") else []
    return WeekSummary(week, start, end, tuple(SectionSummary(n, s, c) for n, s, c in rows))


def trends(
    digests: Mapping[str, WeekDigest | WeekSummary],
    week: str,
    section_names: Sequence[str],
    span: int = 8,
) -> Trends:
    """Counts for the ``span`` calendar weeks ending with ``week`` (weeks without a
    digest count 0). Depends on no week after ``week``, so adding a later week never
    changes an earlier page's chart."""
    monday, _ = week_bounds(week)
    weeks = tuple(iso_week(monday - dt.timedelta(weeks=k)) for k in range(span - 1, -1, -1))
    counts: dict[str, list[int]] = {}
    slugs: dict[str, str] = {}
    for i, w in enumerate(weeks):
        digest = digests.get(w)
        for section in digest.sections if digest else ():
            counts.setdefault(section.name, [0] * span)[i] = section.count
            slugs.setdefault(section.name, section.slug)
    order = {name: i for i, name in enumerate(section_names)}
    names = sorted(counts, key=lambda n: (order.get(n, len(order)), n))
    return Trends(
        weeks=weeks,
        themes=tuple(ThemeTrend(n, slugs[n], tuple(counts[n])) for n in names),
    )
