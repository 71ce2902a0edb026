"""Looking inside a feed: export records, ``check`` counts and ``explain`` lines.

Input: the config and the store. Output: plain data (export) and text lines
(check, explain); printing is the CLI's job.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from digest.config import FeedConfig
from digest.models import Paper
from digest.rules import RuleSet, Tagging
from digest.store import Store


def export_record(paper: Paper) -> dict[str, Any]:
    """The ``digest export`` JSON object of one paper (fields per DEVELOPERS.md)."""
    return {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        "first_seen": paper.first_seen.isoformat(),
        "week": paper.week,
        "tags": list(paper.tags),
        "theme": paper.theme,
        "sightings": [
            {
                "listing": s.listing,
                "date": s.date.isoformat(),
                "position": s.position,
                "rule": s.rule,
                "score": round(s.score, 4),
            }
            for s in paper.sightings
        ],
        "source_id": paper.source_id,
        "url": paper.url,
        "authors": list(paper.authors),
        "links": dict(paper.links),
        "signals": paper.signals.as_dict() if paper.signals is not None else {},
        "versions": list(paper.versions),
        "hidden": paper.hidden,
    }


BROAD = 0.25
"""A term found in more than this share of the papers is reported as broad."""
CROWDED = 3
"""Papers matched by this many themes or more are listed."""
LISTED = 10
"""How many crowded papers ``check`` lists."""


def check_lines(cfg: FeedConfig, store: Store) -> Iterator[str]:
    """Counts for ``digest check``: store totals, listings whose content changed since
    first read, papers per theme, the untagged share,
    then every tag and term run over the stored papers: hits, rules that never fire,
    broad terms, papers matched by many themes, stored tags older than the rules."""
    rules = cfg.rules
    counts = store.papers.counts()
    yield (
        f"store: {counts['listings']} listings, {counts['sightings']} sightings, "
        f"{counts['papers']} papers"
    )
    changed = store.listings.changed()
    if changed:
        yield f"listings changed since first read: {len(changed)} (every sighting kept)"
        for name, versions in changed:
            yield f"  {name}: {versions} versions"
    themes = store.papers.theme_counts()
    total = max(counts["papers"], 1)
    yield "papers per theme:"
    for name in [*rules.section_names, *sorted(set(themes) - set(rules.section_names))]:
        n = themes.get(name, 0)
        yield f"  {name}: {n} ({_pct(n, total)})"
    untagged = themes.get(rules.catch_all, 0)
    yield f"untagged: {untagged} of {counts['papers']} ({_pct(untagged, total)})"
    if not counts["papers"]:
        return

    stats = _RuleStats(len(rules.terms))
    for paper in store.papers.iter_all():
        in_title, in_abstract = rules.scan(paper.title, paper.abstract)
        stats.add(paper, in_title | in_abstract, rules.decide(in_title | in_abstract))
    papers = stats.papers
    yield f"rules over the {papers} stored papers (current rules):"
    never: list[str] = []
    broad: list[str] = []
    for rule in rules.tags:
        n = stats.tags[rule.name]
        yield f"  {rule.name}: {n} papers ({_pct(n, papers)})"
        if not n:
            never.append(f"tag {rule.name}")
        meaning: dict[str, str] = {}
        for key, terms in (("any", rule.any), ("all", rule.all), ("none", rule.none)):
            for i, term in enumerate(terms):
                hits = stats.terms[term.id]
                weight = f", weight {term.weight:g}" if term.weight != 1 else ""
                note = ""
                if term.canonical in meaning:
                    note = f"  (same meaning as {meaning[term.canonical]!r}: redundant)"
                meaning.setdefault(term.canonical, term.source)
                yield f"    {key} {term.source!r}: {hits}{weight}{note}"
                where = f"{rule.name}.{key}[{i}] {term.source!r}"
                if not hits:
                    never.append(f"term {where}")
                elif hits > BROAD * papers and key != "none":
                    broad.append(f"{where}: {hits} papers ({_pct(hits, papers)})")
    yield (
        f"never fire ({len(never)}):" if never else "never fire: nothing, every rule and term fires"
    )
    yield from (f"  {line}" for line in never)
    if broad:
        yield f"broad terms (found in more than {BROAD:.0%} of the papers):"
        yield from (f"  {line}" for line in broad)
    share = _pct(stats.untagged, papers)
    yield f"untagged under the current rules: {stats.untagged} of {papers} ({share})"
    spread = ", ".join(
        f"{k if k < CROWDED else f'{CROWDED}+'}: {n}" for k, n in sorted(stats.spread.items())
    )
    yield f"papers by number of matching themes: {spread}"
    if stats.crowded:
        yield f"papers matched by {CROWDED} or more themes ({len(stats.crowded)}, most first):"
        for _, pid, title, names in sorted(stats.crowded, key=lambda c: -c[0])[:LISTED]:
            yield f"  {pid} {title[:70]}"
            yield f"    themes: {', '.join(names)}"
    if stats.stale:
        yield (
            f"{stats.stale} papers keep tags from earlier rules or an earlier version "
            "(published weeks; 'digest run --rebuild' re-tags them)"
        )


class _RuleStats:
    """Tallies of one pass of the rules over the stored papers."""

    def __init__(self, n_terms: int) -> None:
        self.papers = 0
        self.terms = [0] * n_terms
        self.tags: Counter[str] = Counter()
        self.untagged = 0
        self.spread: Counter[int] = Counter()
        self.crowded: list[tuple[int, str, str, list[str]]] = []
        self.stale = 0

    def add(self, paper: Paper, hits: set[int], tagging: Tagging) -> None:
        self.papers += 1
        for term in hits:
            self.terms[term] += 1
        self.tags.update(tagging.tags)
        self.untagged += not tagging.ranking
        n = len(tagging.ranking)
        self.spread[min(n, CROWDED)] += 1
        if n >= CROWDED:
            names = [t.name for t in tagging.ranking]
            self.crowded.append((n, paper.id, paper.title, names))
        if tuple(paper.tags) != tagging.tags or paper.theme != tagging.theme:
            self.stale += 1


def _pct(n: int, total: int) -> str:
    return f"{100 * n / max(total, 1):.1f}%"


def explain_lines(cfg: FeedConfig, store: Store, paper_id: str) -> Iterator[str]:
    """Why one paper looks as it does: sightings and merge rules, then its tagging."""
    (paper,) = store.papers.load(ids=[paper_id])
    yield f"{paper.id}: {paper.title}"
    yield f"  first seen {paper.first_seen.isoformat()} (week {paper.week}); theme: {paper.theme}"
    yield f"  sightings ({len(paper.sightings)}):"
    for row in store.papers.merges(paper_id):
        how = row["rule"] if row["rule"] == "new" else f"{row['rule']} (score {row['score']:.3f})"
        yield f"    {row['name']}:{row['line']} entry {row['position']} on {row['date']}: {how}"
        if row["detail"]:
            yield f"      why: {row['detail']}"
        if row["title"] != paper.title:
            yield f"      title there: {row['title']}"
    yield from tagging_lines(cfg.rules, paper)


def tagging_lines(rules: RuleSet, paper: Paper) -> Iterator[str]:
    """The tagging part of ``digest explain``: terms found per field, each tag's verdict,
    and how the primary theme was chosen."""
    found = rules.explain(paper.title, paper.abstract)
    tagging = found.tagging
    yield "  tags under the current rules:"
    if not found.tags:
        yield "    no term of any tag was found"
    for verdict in found.tags:
        state = "tagged" if verdict.matched else "not tagged"
        yield f"    {verdict.name}: {state}, {verdict.reason}"
        for hit in verdict.hits:
            yield f"      {hit.list} {hit.term.source!r} in {hit.field}: {hit.excerpt}"
    if not tagging.ranking:
        yield f"  primary theme under the current rules: {rules.catch_all} (no theme matched)"
    else:
        yield f"  primary theme under the current rules: {tagging.theme}"
        if len(tagging.ranking) > 1:
            yield "    chosen by highest priority, then highest score, then order in feed.yaml:"
        for rank in tagging.ranking:
            parts = " + ".join(f"{t} {tagging.scores[t]:g}" for t in rank.tags)
            yield f"    {rank.name}: priority {rank.priority:g}, score {rank.score:g} ({parts})"
    if tuple(paper.tags) != tagging.tags or paper.theme != tagging.theme:
        yield (
            f"  stored: tags {list(paper.tags)}, theme {paper.theme!r}: as its published "
            "week was sent, under earlier rules or from an earlier version "
            "('digest run --rebuild' re-tags it)"
        )
