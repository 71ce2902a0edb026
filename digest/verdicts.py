"""Why a tag did or did not match: one paper and a rule set -> found terms and verdicts.

Input: a :class:`~digest.rules.TagRule` and the ids of the terms found in a paper.
Output: :class:`TermHit` (a term found, with an excerpt), :class:`TagVerdict` (a tag's
score and the reason in words) and :class:`Explanation`, which
:meth:`digest.rules.RuleSet.explain` assembles for ``digest explain``. Never on the
tagging path: tagging decides by set operations, this module words the same decision.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from typing import TYPE_CHECKING

from digest.terms import SCORE_SLACK, Term, fold

if TYPE_CHECKING:
    from digest.rules import Tagging, TagRule


@dataclass(frozen=True, slots=True)
class TermHit:
    """One term found in one field of one paper."""

    list: str
    """``any``, ``all`` or ``none``."""
    term: Term
    field: str
    excerpt: str
    """The matched text with a little context, from the folded field."""


@dataclass(frozen=True, slots=True)
class TagVerdict:
    """Why one tag did or did not match one paper."""

    name: str
    matched: bool
    score: float
    reason: str
    hits: tuple[TermHit, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything :meth:`RuleSet.explain` found out about one paper."""

    tagging: Tagging
    tags: tuple[TagVerdict, ...]
    """Tags with at least one term found, in configuration order."""


def judge(rule: TagRule, hits: Set[int]) -> tuple[float | None, str]:
    """A tag's score when it matches, else None, and why, in words (for explain)."""
    found = [t for t in rule.any if t.id in hits]
    if rule.any and not found:
        return None, "no 'any' term found"
    missing = [t.source for t in rule.all if t.id not in hits]
    if missing:
        return None, f"'all' term {missing[0]!r} not found"
    blocked = [t.source for t in rule.none if t.id in hits]
    if blocked:
        return None, f"excluded by 'none' term {blocked[0]!r}"
    weights = [t.weight for t in (*found, *rule.all)]
    score = rule.weight * sum(weights)
    if set(weights) == {1.0}:
        how = f"{len(weights)} term{'s' if len(weights) > 1 else ''}"
    else:
        how = "(" + " + ".join(f"{w:g}" for w in weights) + ")"
    how = f"score {score:g} = {how} × weight {rule.weight:g}"
    if score < rule.min_score - SCORE_SLACK:
        return None, f"{how}, below min_score {rule.min_score:g}"
    if rule.min_score:
        how += f", at least min_score {rule.min_score:g}"
    return score, how


def excerpt(term: Term, text: str, context: int = 24) -> str:
    """Where ``term`` matched in ``text``: the folded match in brackets, with up to
    ``context`` characters of whole words either side."""
    folded = fold(text, keep_case=term.case)
    m = term.pattern.search(folded)
    if m is None:  # cannot happen for a found term; keep explain robust anyway
        return ""
    start, end = max(m.start() - context, 0), min(m.end() + context, len(folded))
    head = "…" if start > 0 else ""
    tail = "…" if end < len(folded) else ""
    before, after = folded[start : m.start()], folded[m.end() : end]
    if head and " " in before:  # cut the context at whole words
        before = before.split(" ", 1)[1]
    if tail and " " in after:
        after = after.rsplit(" ", 1)[0]
    return f"{head}{before}[{m.group(0).strip()}]{after}{tail}".strip()
