"""Grouping: papers -> weekly :class:`~digest.models.WeekDigest` values and theme trends.

Input: the papers first seen in one ISO week (already tagged) and the
configured section names (themes in order, catch-all last). Output: the
week's non-empty sections, in configured order, each paper exactly once.
A paper whose stored theme is no longer configured (a published week under
old rules) gets a section of its own after the configured ones.

Within a section papers are in relevance order (:func:`relevance_key`, the one place
that order is decided), and :func:`rank_week` picks the strongest of the week across
sections ("Top picks").

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
from digest.rules import RuleSet
from digest.weeks import iso_week, week_bounds


def theme_slugs(names: Sequence[str]) -> dict[str, str]:
    """A unique anchor/file slug per section name, decided by configuration order."""
    # Slugs are [a-z0-9-]; the templates' own ids all hold an underscore, so never clash,
    # but for "top-picks", the week page's one fixed id without one.
    used: set[str] = {"top-picks"}
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


RelevanceKey = tuple[float, int, float, int, str, str]


def source_signal(paper: Paper) -> float:
    """How strongly a paper's sources recommend it; higher is stronger: its Hugging
    Face upvotes (of the latest sighting that had any), 0 when no source says."""
    signals = paper.signals
    return float(signals.upvotes or 0) if signals is not None else 0.0


def listing_count(paper: Paper) -> int:
    """Number of distinct listings that carried the paper."""
    sightings = paper.sightings
    return 1 if len(sightings) == 1 else len({(s.date, s.listing) for s in sightings})


def relevance_key(paper: Paper, score: float) -> RelevanceKey:
    """The sort key of the relevance order (smallest first), the one place it is decided:

    1. ``score``, the rule score (:func:`rule_scores`), higher first;
    2. the number of listings that carried the paper, more first;
    3. :func:`source_signal`, higher first;
    4. the date first seen, earlier first;
    5. the title (case-folded), then the paper id, so the order is total."""
    return (
        -score,
        -listing_count(paper),
        -source_signal(paper),
        paper.first_seen.toordinal(),
        paper.title.casefold(),
        paper.id,
    )


def rule_scores(papers: Sequence[Paper], rules: RuleSet | None) -> dict[str, float]:
    """Paper id -> its rule score: the sum of the scores (matched term weights times the
    tag's weight, as :meth:`~digest.rules.RuleSet.tag` computes them) of the paper's tags,
    as stored when it was tagged (:attr:`~digest.models.Paper.score`); a paper tagged
    before scores were kept is tagged again under ``rules`` (a kept tag the rules no
    longer match adds nothing). A paper without tags scores 0."""
    if rules is None:
        return {}
    stored = {p.id: p.score for p in papers if p.score is not None}
    tagged = [p for p in papers if p.tags and p.score is None]
    taggings = rules.tag_many((p.title, p.abstract) for p in tagged)
    return stored | {
        p.id: round(sum(t.scores.get(tag, 0.0) for tag in p.tags), 6)
        for p, t in zip(tagged, taggings, strict=True)
    }


def group_week(
    week: str,
    papers: Sequence[Paper],
    section_names: Sequence[str],
    scores: Mapping[str, float] | None = None,
    picks: int = 0,
) -> WeekDigest:
    """Sections of one week, papers in relevance order (:func:`relevance_key`, with
    ``scores`` by paper id, 0 when absent), and the ``picks`` strongest across sections."""
    scores = scores or {}
    by_theme: dict[str, list[Paper]] = {name: [] for name in section_names}
    for paper in papers:
        by_theme.setdefault(paper.theme or section_names[-1], []).append(paper)
    slugs = theme_slugs(list(by_theme))
    sections = []
    keys = {p.id: relevance_key(p, scores.get(p.id, 0.0)) for p in papers}
    for name, members in by_theme.items():
        if not members:
            continue
        members.sort(key=lambda p: keys[p.id])
        sections.append(ThemeSection(name=name, slug=slugs[name], papers=members))
    start, end = week_bounds(week)
    ranked = sorted(papers, key=lambda p: keys[p.id])
    top = top_picks(ranked, picks, section_names[-1]) if picks else []
    return WeekDigest(week=week, start=start, end=end, sections=sections, picks=top)


PICKS_PER_THEME = 2
"""Top picks one theme gives at most while other themes have papers to give: the week's
strongest papers are often all of one busy theme, and a reader of another learns nothing."""


def top_picks(ranked: Sequence[Paper], count: int, catch_all: str = "") -> list[Paper]:
    """The week's top picks from its papers in relevance order: every paper the curator
    pinned, then the strongest of the rest, at most :data:`PICKS_PER_THEME` of a theme
    until the other themes run out; ``count`` in all (or the pinned ones, if more),
    strongest first. A paper without a theme counts as ``catch_all``'s, as its section."""
    pinned = [p for p in ranked if p.pinned]
    chosen = {p.id for p in pinned}
    per_theme: dict[str, int] = {}
    for p in pinned:
        per_theme[p.theme or catch_all] = per_theme.get(p.theme or catch_all, 0) + 1
    spill: list[Paper] = []
    picked: list[Paper] = []
    for p in ranked:
        if len(pinned) + len(picked) >= count:
            break
        if p.id in chosen:
            continue
        if per_theme.get(p.theme or catch_all, 0) >= PICKS_PER_THEME:
            spill.append(p)
            continue
        per_theme[p.theme or catch_all] = per_theme.get(p.theme or catch_all, 0) + 1
        picked.append(p)
    picked += spill[: max(count - len(pinned) - len(picked), 0)]
    order = {p.id: i for i, p in enumerate(ranked)}
    return pinned + sorted(picked, key=lambda p: order[p.id])


def picks_in_sections(digest: WeekDigest) -> list[tuple[Paper, ThemeSection]]:
    """Each top pick of ``digest`` with the section it is in."""
    where = {p.id: s for s in digest.sections for p in s.papers}
    return [(p, where[p.id]) for p in digest.picks if p.id in where]


def tag_sections(rules: RuleSet, digest: WeekDigest) -> dict[str, str]:
    """Tag -> the slug of the first section of ``digest`` whose theme lists the tag:
    where a tag links to on the week page (tags of no theme on the page: none)."""
    slugs = {s.name: s.slug for s in digest.sections}
    out: dict[str, str] = {}
    for theme in rules.themes:
        slug = slugs.get(theme.name)
        if slug is None:
            continue
        for tag in theme.tags:
            out.setdefault(tag, slug)
    return out


def rank_week(week: str, papers: Sequence[Paper], rules: RuleSet, picks: int = 0) -> WeekDigest:
    """:func:`group_week` with the rule scores of ``rules`` and ``picks`` top picks."""
    return group_week(week, papers, rules.section_names, rule_scores(papers, rules), picks)


@dataclass(frozen=True, slots=True)
class ThemeTrend:
    """One theme's paper counts over the weeks of a :class:`Trends`."""

    name: str
    """Section name."""
    slug: str
    """Section slug (anchor on the week page)."""
    counts: tuple[int, ...]
    """Papers per week, oldest first, one per week of :attr:`Trends.weeks`."""


@dataclass(frozen=True, slots=True)
class Trends:
    """Papers per theme over the recent weeks, ending with one week."""

    weeks: tuple[str, ...]
    """Consecutive ISO weeks, oldest first; the last is the page's own week. None is
    before the feed's first week with papers."""
    themes: tuple[ThemeTrend, ...]
    """Themes with at least one paper in those weeks, in section order."""
    quiet: tuple[bool, ...] = ()
    """Per week: True when it had no papers at all (no listing, or nothing new): the
    chart marks it instead of drawing zeros."""

    @property
    def peak(self) -> int:
        """The largest count of any theme in any week (at least 1): the one scale of
        every row."""
        return max((max(t.counts, default=0) for t in self.themes), default=0) or 1


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
    """Counts for the ``span`` calendar weeks ending with ``week``, but none before the
    first week with papers; weeks without a digest are :attr:`Trends.quiet`. Depends on
    no week after ``week``, so adding a later week never changes an earlier page's chart."""
    monday, _ = week_bounds(week)
    first = min((w for w, d in digests.items() if d.sections and w <= week), default=week)
    weeks = tuple(
        w
        for w in (iso_week(monday - dt.timedelta(weeks=k)) for k in range(span - 1, -1, -1))
        if w >= first
    )
    span = len(weeks)
    counts: dict[str, list[int]] = {}
    slugs: dict[str, str] = {}
    for i, w in enumerate(weeks):
        digest = digests.get(w)
        for section in digest.sections if digest else ():
            counts.setdefault(section.name, [0] * span)[i] = section.count
            slugs.setdefault(section.name, section.slug)
    order = {name: i for i, name in enumerate(section_names)}
    names = sorted(counts, key=lambda n: (order.get(n, len(order)), n))
    quiet = tuple(not (digests.get(w) and digests[w].sections) for w in weeks)
    return Trends(
        weeks=weeks,
        themes=tuple(ThemeTrend(n, slugs[n], tuple(counts[n])) for n in names),
        quiet=quiet,
    )
