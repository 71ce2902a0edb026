"""Keyword rules: compiled tags and themes -> a paper's tags and primary theme.

Input: :class:`TagRule` and :class:`ThemeRule` values (read from feed.yaml by
:mod:`digest.config.rules`, which checks them first). Output: a :class:`RuleSet`
whose :meth:`RuleSet.tag` gives a paper's tags and its one primary theme, and
whose :meth:`RuleSet.explain` says why.

A tag matches when one of its ``any`` terms (if it has any), all of its ``all``
terms and none of its ``none`` terms are found. Its score is the tag's
``weight`` times the sum of the weights of the matched ``any`` and ``all``
terms; below ``min_score`` the tag does not match. A theme groups tags; the
primary theme is the matching theme with the highest ``priority``, then the
highest score (sum of its matched tags' scores), then the first in feed.yaml.
Papers with no matching theme go to ``catch_all``.

Term syntax (a string in an ``any``/``all``/``none`` list):

- ``diffusion``, ``language model``: a word or phrase, case-insensitive, on
  word boundaries; spaces and hyphens in a phrase match any run of spaces or
  hyphens (``text-to-image`` matches ``text to image``).
- ``quantiz*``: ``*`` at a word's end matches any word continuation.
- ``title:`` or ``abstract:`` in front scopes a term to one field.
- ``case:`` in front makes it case-sensitive (for acronyms: ``case:MoE``).
- ``re:`` in front (last) makes the rest a regular expression (case-insensitive
  unless ``case:``), searched in the folded text (see :func:`digest.terms.fold`).
- A mapping spells the same without prefixes and adds a weight:
  ``{term: MoE, case: true, field: title, weight: 2}`` or ``{regex: '...'}``.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from typing import NamedTuple

from digest.matcher import Matcher
from digest.normalize import stable_hash
from digest.terms import FIELDS, SCORE_SLACK, Term
from digest.verdicts import Explanation, TagVerdict, TermHit, excerpt, judge

LISTS = ("any", "all", "none")
DEFAULT_CATCH_ALL = "Other papers"
SEMANTICS = "rules-2"
"""Part of every fingerprint: bump when matching changes meaning, so stores re-tag."""


@dataclass(frozen=True, slots=True)
class TagRule:
    """A tag and the terms that decide it."""

    name: str
    any: tuple[Term, ...]
    """At least one must match (when not empty)."""
    all: tuple[Term, ...]
    """Every one must match."""
    none: tuple[Term, ...]
    """None may match."""
    weight: float = 1.0
    """Multiplies the sum of the matched terms' weights."""
    min_score: float = 0.0
    """The tag matches only with at least this score."""


@dataclass(frozen=True, slots=True)
class ThemeRule:
    """A theme: a named group of tags, with a priority for picking the primary theme."""

    name: str
    tags: tuple[str, ...]
    priority: float = 0.0


@dataclass(frozen=True, slots=True)
class ThemeScore:
    """How one matching theme ranks for one paper."""

    name: str
    priority: float
    score: float
    """Sum of the scores of its matched tags."""
    tags: tuple[str, ...]
    """Its matched tags."""


@dataclass(frozen=True, slots=True, eq=False)
class Tagging:
    """The outcome of tagging one paper.

    :attr:`matches` and :attr:`ranking` are worked out when first read: storing
    a tagging needs only :attr:`tags` and :attr:`theme`. Equality and repr cover
    all five.
    """

    tags: tuple[str, ...]
    """Matched tags in configuration order."""
    theme: str
    """Primary theme, or the catch-all name."""
    scores: dict[str, float]
    """Tag -> its score."""
    _rules: RuleSet = field(repr=False)
    """The rules that gave this tagging."""
    _hits: Set[int] = field(repr=False)
    """Ids of the terms found in the paper (never changed afterwards)."""
    _detail: tuple[dict[str, tuple[str, ...]], tuple[ThemeScore, ...]] | None = field(
        default=None, init=False, repr=False
    )

    @property
    def matches(self) -> dict[str, tuple[str, ...]]:
        """Tag -> the ``any``/``all`` terms that matched it (for explain)."""
        return self._worked_out()[0]

    @property
    def ranking(self) -> tuple[ThemeScore, ...]:
        """Every matching theme, best first (the first is :attr:`theme`)."""
        return self._worked_out()[1]

    def _worked_out(self) -> tuple[dict[str, tuple[str, ...]], tuple[ThemeScore, ...]]:
        if self._detail is None:
            detail = (self._rules._matches(self.scores, self._hits), self._rules._rank(self.scores))
            object.__setattr__(self, "_detail", detail)
            return detail
        return self._detail

    def _public(self) -> tuple[object, ...]:
        return (self.tags, self.theme, self.matches, self.scores, self.ranking)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tagging):
            return NotImplemented
        return self._public() == other._public()

    def __repr__(self) -> str:
        names = ("tags", "theme", "matches", "scores", "ranking")
        pairs = zip(names, self._public(), strict=True)
        return f"Tagging({', '.join(f'{n}={v!r}' for n, v in pairs)})"


class _Plan(NamedTuple):
    """One tag as :meth:`RuleSet.decide` checks it: plain ids, sets and numbers."""

    name: str
    any_ids: frozenset[int]
    weighted: tuple[tuple[int, float], ...] | None
    """(id, weight) of the ``any`` terms in order, or None when every weight is 1.0."""
    all_ids: frozenset[int]
    none_ids: frozenset[int]
    weight: float
    floor: float
    """``min_score`` less the rounding margin."""
    all_sum: float
    """The sum of the ``all`` terms' weights: the score is ``weight * (found + all_sum)``,
    ``found`` the sum of the found ``any`` terms' weights."""

    @classmethod
    def of(cls, rule: TagRule) -> _Plan:
        """The plan of one tag."""
        unit = all(t.weight == 1.0 for t in rule.any)
        return cls(
            rule.name,
            frozenset(t.id for t in rule.any),
            None if unit else tuple((t.id, t.weight) for t in rule.any),
            frozenset(t.id for t in rule.all),
            frozenset(t.id for t in rule.none),
            rule.weight,
            rule.min_score - SCORE_SLACK,
            sum(t.weight for t in rule.all),
        )


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Compiled rules of one feed."""

    tags: tuple[TagRule, ...]
    themes: tuple[ThemeRule, ...]
    catch_all: str = DEFAULT_CATCH_ALL
    fingerprint: str = ""
    """Changes whenever the rules change meaning (decides re-tagging)."""
    terms: tuple[Term, ...] = field(init=False, compare=False, repr=False)
    """Every term of every tag, indexed by :attr:`Term.id`."""
    _matcher: Matcher = field(init=False, compare=False, repr=False)
    _rule_of: tuple[int, ...] = field(init=False, compare=False, repr=False)
    """Term id -> index of the tag it can make match, or ``-2 - index`` of the tag a
    ``none`` term can stop."""
    _plans: tuple[_Plan, ...] = field(init=False, compare=False, repr=False)
    """Tag index -> what deciding it takes, as plain tuples and sets."""
    _counted: tuple[float | None, ...] = field(init=False, compare=False, repr=False)
    """Tag index -> its weight when, unless a ``none`` term is found, the number of its
    terms found decides it alone (every term an ``any`` or ``none`` term, those of
    weight 1.0, and one found term reaches ``min_score``), else None."""
    _uncounted: frozenset[int] = field(init=False, compare=False, repr=False)
    """The indexes of the tags :attr:`_counted` gives no weight."""
    _names: tuple[str, ...] = field(init=False, compare=False, repr=False)
    """Tag index -> name."""
    _entries: tuple[tuple[str, float], ...] = field(init=False, compare=False, repr=False)
    """Tag index -> (name, :attr:`_counted` weight): its entry in the scores when counted."""
    _levels: tuple[tuple[float, frozenset[int]], ...] | None = field(
        init=False, compare=False, repr=False
    )
    """Each negated theme priority, ascending, with the indexes of the tags whose best
    theme has that priority; None when a priority is NaN (then no order is known)."""
    _theme_slots: tuple[tuple[tuple[int, int], ...], ...] = field(
        init=False, compare=False, repr=False
    )
    """Tag index -> (theme index, position among the theme's tags), once per listing."""
    _negated_priority: tuple[float, ...] = field(init=False, compare=False, repr=False)
    """Theme index -> minus its priority (the first part of its ranking key)."""
    _index_of: dict[str, int] = field(init=False, compare=False, repr=False)
    _themes_of: dict[str, tuple[int, ...]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        by_id: dict[int, tuple[Term, int]] = {}
        for index, rule in enumerate(self.tags):
            for t in (*rule.any, *rule.all):
                by_id[t.id] = (t, index)
            for t in rule.none:
                by_id[t.id] = (t, -2 - index)
        if sorted(by_id) != list(range(len(by_id))):
            raise ValueError("term ids must number the terms 0..n-1")
        index_of = {rule.name: index for index, rule in enumerate(self.tags)}
        if len(index_of) != len(self.tags):
            raise ValueError("tag names must be unique")
        terms = tuple(by_id[i][0] for i in range(len(by_id)))
        slots: list[list[tuple[int, int]]] = [[] for _ in self.tags]
        themes_of: dict[str, list[int]] = {}
        for theme_index, theme in enumerate(self.themes):
            for position, tag in enumerate(theme.tags):
                themes_of.setdefault(tag, []).append(theme_index)
                if tag in index_of:
                    slots[index_of[tag]].append((theme_index, position))
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "_matcher", Matcher(terms))
        object.__setattr__(self, "_rule_of", tuple(by_id[i][1] for i in range(len(by_id))))
        plans = tuple(_Plan.of(rule) for rule in self.tags)
        object.__setattr__(self, "_plans", plans)
        counted = tuple(_counted(plan) for plan in plans)
        object.__setattr__(self, "_counted", counted)
        object.__setattr__(
            self, "_uncounted", frozenset(i for i, w in enumerate(counted) if w is None)
        )
        object.__setattr__(self, "_names", tuple(rule.name for rule in self.tags))
        # An uncounted tag's entry is a placeholder: _decide replaces or removes it.
        entries = tuple(
            (r.name, 0.0 if w is None else w) for r, w in zip(self.tags, counted, strict=True)
        )
        object.__setattr__(self, "_entries", entries)
        negated = tuple(-t.priority for t in self.themes)
        best_of: dict[float, set[int]] = {}
        for index, tag_slots in enumerate(slots):
            if tag_slots:
                best_of.setdefault(min(negated[t] for t, _ in tag_slots), set()).add(index)
        levels = tuple((level, frozenset(best_of[level])) for level in sorted(best_of))
        ordered = not any(math.isnan(p) for p in negated)
        object.__setattr__(self, "_levels", levels if ordered else None)
        object.__setattr__(self, "_theme_slots", tuple(tuple(s) for s in slots))
        object.__setattr__(self, "_negated_priority", negated)
        object.__setattr__(self, "_index_of", index_of)
        object.__setattr__(self, "_themes_of", {k: tuple(v) for k, v in themes_of.items()})

    @property
    def section_names(self) -> list[str]:
        """Theme names in display order, catch-all last."""
        return [t.name for t in self.themes] + [self.catch_all]

    def tag(self, title: str, abstract: str) -> Tagging:
        """Tags and primary theme of one paper."""
        return self._decide(self._matcher.find(title, abstract))

    def tag_many(self, papers: Iterable[tuple[str, str]]) -> list[Tagging]:
        """:meth:`tag` for many (title, abstract) pairs, in order."""
        return [self.tag(title, abstract) for title, abstract in papers]

    def scan(self, title: str, abstract: str) -> tuple[set[int], set[int]]:
        """Ids of the terms found in the title and in the abstract (in their own fields)."""
        return self._matcher.scan(title, abstract)

    def decide(self, hits: Set[int]) -> Tagging:
        """Tags and primary theme from the ids of the terms found in a paper."""
        return self._decide(frozenset(hits))

    def _decide(self, hits: Set[int]) -> Tagging:
        # The hot path of tagging: only a tag with a term found can match, and each is
        # decided by set operations on the found ids, as verdicts.judge words it. Most tags are
        # decided by the number of their terms found (see _counted): their scores are
        # put in place by C loops first, in tag order, and the others corrected after.
        counted, names, rule_of = self._counted, self._names, self._rule_of
        won = set(map(rule_of.__getitem__, hits))
        order = sorted(won)
        if order and order[0] < 0:  # a 'none' term found: stop its tag
            start = bisect_left(order, 0)
            stopped = {-2 - code for code in order[:start]}
            won.difference_update(order[:start])
            del order[:start]
            for index in stopped.intersection(won):
                if counted[index] is not None:  # the others are decided below
                    won.discard(index)
                    order.remove(index)
        scores = dict(map(self._entries.__getitem__, order))
        if len(won) < len(hits):  # some tag has more than one term found (or a 'none' term)
            for index, n in Counter(map(rule_of.__getitem__, hits)).items():
                unit = counted[index] if index >= 0 else None
                if n > 1 and unit is not None and index in won:
                    # What the general case below computes: weight * (float(n) + 0).
                    scores[names[index]] = unit * n
        plans = self._plans
        for index in self._uncounted.intersection(won):
            _, any_ids, weighted, all_ids, none_ids, weight, floor, all_sum = plans[index]
            if weighted is None:  # a sum of found weights of 1.0 is their count
                found = float(len(any_ids & hits))
            else:
                found = sum([w for i, w in weighted if i in hits])
            score = weight * (found + all_sum)
            if (
                (any_ids and not found)
                or (all_ids and not all_ids.issubset(hits))
                or (none_ids and not none_ids.isdisjoint(hits))
                or score < floor
            ):
                won.discard(index)
                del scores[names[index]]
            else:
                scores[names[index]] = score
        return Tagging(tuple(scores), self._primary(won, scores), scores, self, hits)

    def _primary(self, won: set[int], scores: dict[str, float]) -> str:
        """The primary theme given the indexes of the matched tags and their scores:
        ranking[0], found without building the ranking."""
        top: float | None = None
        candidates: Set[int] = won
        if self._levels is not None:
            # Only the themes of the highest priority among those with a matched tag can
            # win, so only their totals are worked out.
            for level, tags in self._levels:
                if not tags.isdisjoint(won):
                    top, candidates = level, tags.intersection(won)
                    break
            else:
                return self.catch_all
        slots_of, negated, names = self._theme_slots, self._negated_priority, self._names
        # Theme index -> (position among the theme's tags, score) of its matched tags,
        # themes in the order their first matched tag comes.
        members: dict[int, list[tuple[int, float]]] = {}
        for index in sorted(candidates):
            score = scores[names[index]]
            for theme, position in slots_of[index]:
                if top is not None and negated[theme] != top:
                    continue
                if theme in members:
                    members[theme].append((position, score))
                else:
                    members[theme] = [(position, score)]
        # The same keys as _rank, compared in the same order as over every theme.
        best: tuple[float, float, int] | None = None
        for theme, got in members.items():
            if best is not None and negated[theme] > best[0]:
                continue
            if len(got) == 1:
                total = got[0][1]  # a sum of one score >= 0 is that score
            else:
                got.sort()
                total = sum(s for _, s in got)
            key = (negated[theme], -total, theme)
            if best is None or key < best:
                best = key
        return self.catch_all if best is None else self.themes[best[2]].name

    def _matches(self, scores: dict[str, float], hits: Set[int]) -> dict[str, tuple[str, ...]]:
        """Tag -> the sources of its found ``any`` terms and of its ``all`` terms."""
        out: dict[str, tuple[str, ...]] = {}
        for name in scores:
            rule = self.tags[self._index_of[name]]
            found = [t for t in rule.any if t.id in hits]
            out[name] = tuple(t.source for t in (*found, *rule.all))
        return out

    def _rank(self, scores: dict[str, float]) -> tuple[ThemeScore, ...]:
        """Every theme with a matched tag, best first: highest priority, then highest
        total score, then first in feed.yaml."""
        candidates = sorted({i for tag in scores for i in self._themes_of.get(tag, ())})
        ranked: list[tuple[tuple[float, float, int], ThemeScore]] = []
        for index in candidates:
            theme = self.themes[index]
            got = tuple(t for t in theme.tags if t in scores)
            total = sum(scores[t] for t in got)
            ranked.append(
                (
                    (-theme.priority, -total, index),
                    ThemeScore(theme.name, theme.priority, total, got),
                )
            )
        ranked.sort(key=lambda pair: pair[0])
        return tuple(score for _, score in ranked)

    def explain(self, title: str, abstract: str) -> Explanation:
        """The tagging of one paper with the terms found per field and each tag's verdict."""
        found = self.scan(title, abstract)
        hits = found[0] | found[1]
        tagging = self.decide(hits)
        texts = (title, abstract)
        verdicts = []
        for rule in self.tags:
            term_hits = tuple(
                TermHit(name, t, FIELDS[fi], excerpt(t, texts[fi]))
                for name, terms in zip(LISTS, (rule.any, rule.all, rule.none), strict=True)
                for t in terms
                for fi in (0, 1)
                if t.id in found[fi]
            )
            if term_hits:
                score, reason = judge(rule, hits)
                verdicts.append(
                    TagVerdict(rule.name, score is not None, score or 0.0, reason, term_hits)
                )
        return Explanation(tagging, tuple(verdicts))


def _counted(plan: _Plan) -> float | None:
    """The weight of a tag that, unless a ``none`` term is found, the number of its terms
    found decides alone, else None.

    Then every other term is an ``any`` term of weight 1.0, so the score of ``n`` found
    terms is ``weight * float(n)``, which is ``weight * n``, and at least ``weight``
    (rounding is monotonic), which reaches ``min_score``."""
    simple = plan.weighted is None and not plan.all_ids
    return plan.weight if simple and plan.any_ids and plan.weight >= plan.floor else None


def fingerprint(tags: list[TagRule], themes: list[ThemeRule], catch_all: str) -> str:
    """A hash of what the rules mean, in order: any change that can change a tagging
    changes it (tag order decides tag order, theme order breaks ties)."""

    def canon(terms: tuple[Term, ...]) -> list[str]:
        return [t.canonical for t in terms]

    doc = [
        SEMANTICS,
        catch_all,
        [[r.name, r.weight, r.min_score, canon(r.any), canon(r.all), canon(r.none)] for r in tags],
        [[t.name, list(t.tags), t.priority] for t in themes],
    ]
    return stable_hash(json.dumps(doc, ensure_ascii=False))
