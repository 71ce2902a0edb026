"""Looking inside a feed: export records, ``check`` counts and ``explain`` lines.

Input: the config and the store. Output: plain data (export) and text lines
(check, explain); printing is the CLI's job.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from digest.config import FeedConfig
from digest.models import Paper
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
    }


def check_lines(cfg: FeedConfig, store: Store) -> Iterator[str]:
    """Counts for ``digest check``: store totals, papers per theme, the untagged share."""
    counts = store.counts()
    yield (
        f"store: {counts['listings']} listings, {counts['sightings']} sightings, "
        f"{counts['papers']} papers"
    )
    themes = store.theme_counts()
    total = max(counts["papers"], 1)
    yield "papers per theme:"
    for name in [*cfg.rules.section_names, *sorted(set(themes) - set(cfg.rules.section_names))]:
        n = themes.get(name, 0)
        yield f"  {name}: {n} ({100 * n / total:.1f}%)"
    untagged = themes.get(cfg.rules.catch_all, 0)
    yield f"untagged: {untagged} of {counts['papers']} ({100 * untagged / total:.1f}%)"


def explain_lines(cfg: FeedConfig, store: Store, paper_id: str) -> Iterator[str]:
    """Why one paper looks as it does: sightings and merge rules, then its tagging."""
    (paper,) = store.papers(ids=[paper_id])
    yield f"{paper.id}: {paper.title}"
    yield f"  first seen {paper.first_seen.isoformat()} (week {paper.week}); theme: {paper.theme}"
    yield f"  sightings ({len(paper.sightings)}):"
    for row in store.merges(paper_id):
        how = row["rule"] if row["rule"] == "new" else f"{row['rule']} (score {row['score']:.3f})"
        yield f"    {row['name']}:{row['line']} entry {row['position']} on {row['date']}: {how}"
        if row["detail"]:
            yield f"      why: {row['detail']}"
        if row["title"] != paper.title:
            yield f"      title there: {row['title']}"
    tagging = cfg.rules.tag(paper.title, paper.abstract)
    yield "  tags under the current rules:"
    if not tagging.matches:
        yield f"    none matched, so the paper goes to {cfg.rules.catch_all!r}"
    for tag, terms in tagging.matches.items():
        yield f"    {tag}: matched {', '.join(repr(t) for t in terms)}"
    yield f"  primary theme under the current rules: {tagging.theme}"
    if tuple(paper.tags) != tagging.tags:
        yield f"  (stored tags {list(paper.tags)} are from the rules of a published week)"
