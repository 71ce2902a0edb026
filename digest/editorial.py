"""The curator's voice: notes and curation decisions -> what each week shows.

Input: the config (its feed folder: ``notes/`` and ``curation.yaml``) and the store
(to find the papers decisions name). Output: an :class:`Editorial` (notes by week,
decisions by paper id, a fingerprint per week they touch, the problems found, what
matched nothing), and the functions that apply it where papers are grouped into a
week: a decision's ``theme`` overrides the rules' theme, ``hide`` drops the paper,
``comment`` and ``pin`` ride on the :class:`~digest.models.Paper`.

Re-rendering: each week's fingerprint (:attr:`Editorial.weeks`) covers its note and
the decisions on its papers. The build keeps the fingerprints it rendered in the store
(one meta value) and in the output folder's manifest; a week whose fingerprint moved
is rendered again, its feed item too, even when it is published (the curator's words
are meant to change what was sent, unlike the rules, whose changes a published week
does not follow). Weeks no note or decision touches have no fingerprint, so their
state, hashes and manifests are exactly those of a feed without curation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from digest import curation, notes
from digest.config import FeedConfig
from digest.curation import Decision
from digest.errors import Problem
from digest.grouping import rank_week
from digest.models import Note, Paper, WeekDigest
from digest.rules import RuleSet
from digest.store import PaperRows, Store

WEEKS_META = "editorial_weeks"
"""The store's meta key of the fingerprints the last build rendered (JSON week -> it)."""


@dataclass(frozen=True, slots=True)
class Editorial:
    """Notes and decisions, matched to weeks and papers."""

    notes: dict[str, Note] = field(default_factory=dict)
    """Week -> its note."""
    decisions: dict[str, Decision] = field(default_factory=dict)
    """Paper id -> the decision on it."""
    weeks: dict[str, str] = field(default_factory=dict)
    """Week -> fingerprint of its note and its papers' decisions (only weeks touched)."""
    themes: dict[str, str] = field(default_factory=dict)
    """Theme -> fingerprint of the decisions that move papers into or out of it."""
    moved_in: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Theme -> ids of the papers filed under it by a decision."""
    problems: list[Problem] = field(default_factory=list)
    """What is wrong in the notes and curation.yaml (each wrong part skipped)."""
    unmatched: list[str] = field(default_factory=list)
    """Messages for notes and decisions that match no week or paper (for ``check``)."""

    def out_of(self, theme: str, paper_id: str) -> bool:
        """The paper, stored under ``theme``, is not in that theme's feed."""
        decision = self.decisions.get(paper_id)
        return decision is not None and (decision.hide or decision.theme not in ("", theme))


EMPTY = Editorial()


def load_editorial(cfg: FeedConfig, store: Store) -> Editorial:
    """Read the feed folder's notes and curation.yaml, and match them to the store."""
    found, files, problems = notes.read_notes(cfg.root)
    decided, curation_problems = curation.read_curation(cfg.root, cfg.rules.section_names)
    problems += curation_problems
    if not found and not decided:
        return Editorial(problems=problems)
    by_paper: dict[str, Decision] = {}
    unmatched: list[str] = []
    for decision in decided:
        ids = curation.find_papers(store, decision)
        if not ids:
            unmatched.append(f"{decision.where}: {decision.kind} {decision.ref!r} matches no paper")
        for paper_id in ids:
            if paper_id in by_paper:
                first = by_paper[paper_id].where
                message = f"{decision.kind} {decision.ref!r}: decided already at {first}; ignored"
                problems.append(Problem(curation.CURATION_FILE, decision.line, message))
                continue
            by_paper[paper_id] = decision
    placed = store.papers.weeks_and_themes(sorted(by_paper))
    with_papers = set(store.weeks.with_papers())
    for week in sorted(found):
        if week not in with_papers:
            unmatched.append(f"{notes.NOTES_DIR}/{files[week]}: no papers in week {week}")
    weeks: dict[str, list[str]] = {w: ["note", n.html] for w, n in found.items()}
    themes: dict[str, list[str]] = {}
    moved: dict[str, list[str]] = {}
    for paper_id, (week, stored_theme) in sorted(placed.items()):
        decision = by_paper[paper_id]
        weeks.setdefault(week, []).extend((paper_id, decision.key()))
        if decision.hide or decision.theme:
            for theme in sorted({stored_theme, decision.theme} - {""}):
                themes.setdefault(theme, []).extend((paper_id, decision.key()))
        if decision.theme and not decision.hide:
            moved.setdefault(decision.theme, []).append(paper_id)
    return Editorial(
        notes=found,
        decisions=by_paper,
        weeks={w: _fingerprint(parts) for w, parts in sorted(weeks.items())},
        themes={t: _fingerprint(parts) for t, parts in sorted(themes.items())},
        moved_in={t: tuple(ids) for t, ids in moved.items()},
        problems=problems,
        unmatched=unmatched,
    )


def curate_rows(rows: PaperRows, editorial: Editorial) -> PaperRows:
    """A week's rows with hidden papers left out and themes as decided (what its counts
    and pages are made from)."""
    decisions = editorial.decisions
    if not decisions or not any(r[0] in decisions for r in rows.papers):
        return rows
    papers = []
    for row in rows.papers:
        decision = decisions.get(row[0])
        if decision is None:
            papers.append(row)
        elif not decision.hide:
            papers.append((*row[:6], decision.theme or row[6], *row[7:]))
    kept = {r[0] for r in papers}
    return PaperRows(papers, [s for s in rows.sightings if s[0] in kept])


def curated_week(
    week: str, papers: Iterable[Paper], rules: RuleSet, editorial: Editorial, picks: int = 0
) -> WeekDigest:
    """A week's digest as the curator decided it: hidden papers out, themes overridden,
    comments and pins on the papers (pinned ones open the ``picks`` top picks), the
    week's note on the digest; in relevance order (:func:`~digest.grouping.rank_week`)."""
    shown = [curate(p, editorial.decisions.get(p.id)) for p in papers]
    digest = rank_week(week, [p for p in shown if not p.hidden], rules, picks)
    digest.editor_note = editorial.notes.get(week)
    return digest


def curate(paper: Paper, decision: Decision | None) -> Paper:
    """``paper`` with a decision applied (itself when there is none)."""
    if decision is None:
        return paper
    return replace(
        paper,
        theme=decision.theme or paper.theme,
        comment=decision.comment,
        pinned=decision.pin,
        hidden=decision.hide,
    )


def weeks_from_json(text: str) -> dict[str, str]:
    """The fingerprints the last build rendered (week -> fingerprint), from the store's
    form of them ({} when unset or unreadable)."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def weeks_json(weeks: dict[str, str]) -> str:
    """The store's form of :attr:`Editorial.weeks`."""
    return json.dumps(weeks, sort_keys=True)


def _fingerprint(parts: Sequence[str]) -> str:
    return hashlib.sha256("\x1f".join([*parts, ""]).encode("utf-8")).hexdigest()[:32]
