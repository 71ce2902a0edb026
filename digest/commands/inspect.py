"""``check``, ``export`` and ``explain``: looking inside a feed without changing it.

Input: the config (and for ``explain`` a reference to a paper). Output: ``check``'s
lines and source problems, export records, or the lines that explain each paper found
(:class:`Explained`); printing is the CLI's job, the records and lines are
:mod:`digest.explain`'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from digest import explain as inspection
from digest.commands import open_store
from digest.config import FeedConfig
from digest.editorial import load_editorial
from digest.errors import DigestError, Problem
from digest.identity.resolve import find
from digest.sources.gather import source_files

MAX_REFERENCE = 2_000
"""Longest ``explain`` REFERENCE: past SQLite's LIKE pattern limit (50,000 bytes) the
store would fail, and no title is near this long."""

EXPLAINED = 5
"""Papers ``explain`` shows when a reference matches several."""


def check(cfg: FeedConfig) -> Iterator[str | Problem]:
    """What ``check`` shows, in order: the config is valid, the sources it names (each
    problem with them, never fatal: check changes nothing), what the store holds.
    Lines come as they are known, so a store that fails to open fails after them."""
    files, problems = source_files(cfg)
    yield f"configuration: {cfg.file} is valid"
    yield f"sources: {len(files)} files"
    yield from problems
    if not cfg.store.exists():
        yield "store: empty (no run yet)"
        return
    with open_store(cfg) as store:
        yield from inspection.check_lines(cfg, store)
        editorial = load_editorial(cfg, store)
    # The curator's files: what is wrong in them, and what matches no week or paper.
    yield from editorial.problems
    if editorial.notes or editorial.decisions or editorial.unmatched:
        yield f"curation: {len(editorial.notes)} notes, {len(editorial.decisions)} papers decided"
    yield from (f"  matches nothing: {line}" for line in editorial.unmatched)


def export(cfg: FeedConfig) -> Iterator[dict[str, Any]]:
    """One ``digest export`` record per distinct paper, with every sighting (a paper the
    curator hid is there too, marked ``hidden``)."""
    with open_store(cfg) as store:
        decisions = load_editorial(cfg, store).decisions
        for paper in store.papers.iter_all():
            decision = decisions.get(paper.id)
            if decision is not None and decision.hide:
                paper = replace(paper, hidden=True)
            yield inspection.export_record(paper)


@dataclass(slots=True)
class Explained:
    """What ``explain`` shows for one reference."""

    papers: list[list[str]]
    """The lines of each paper shown (at most :data:`EXPLAINED`)."""
    more: int
    """Papers that match too but are not shown."""


def explain(cfg: FeedConfig, reference: str) -> Explained:
    """Why the papers ``reference`` (a title, paper id or arXiv id) names look as they
    do: their sightings, the merges that formed them, how they were tagged."""
    with open_store(cfg) as store:
        found = find(store, reference)
        if not found:
            raise DigestError(f"no paper matches {reference!r}")
        shown = [list(inspection.explain_lines(cfg, store, p)) for p in found[:EXPLAINED]]
    return Explained(shown, max(0, len(found) - EXPLAINED))
