"""Grouping: one week's papers -> a :class:`~digest.models.WeekDigest` of theme sections.

Input: the papers first seen in one ISO week (already tagged) and the
configured section names (themes in order, catch-all last). Output: the
week's non-empty sections, in configured order, each paper exactly once.
A paper whose stored theme is no longer configured (a published week under
old rules) gets a section of its own after the configured ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from digest.models import Paper, ThemeSection, WeekDigest
from digest.normalize import slugify
from digest.weeks import week_bounds


def group_week(week: str, papers: Sequence[Paper], section_names: Sequence[str]) -> WeekDigest:
    """Sections of one week; papers sorted by first sighting, then title."""
    by_theme: dict[str, list[Paper]] = {name: [] for name in section_names}
    for paper in papers:
        by_theme.setdefault(paper.theme or section_names[-1], []).append(paper)
    sections = []
    used: set[str] = set()
    for name, members in by_theme.items():
        if not members:
            continue
        slug = slugify(name)
        while slug in used:
            slug += "-x"
        used.add(slug)
        members.sort(key=lambda p: (p.first_seen, p.title.casefold(), p.id))
        sections.append(ThemeSection(name=name, slug=slug, papers=members))
    start, end = week_bounds(week)
    return WeekDigest(week=week, start=start, end=end, sections=sections)
