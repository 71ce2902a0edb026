"""Near-duplicate paper identity: the guarded fuzzy match (pure functions).

Input: a new sighting's title and abstract (listing text, raw or cleaned: entities,
LaTeX, case, dashes, quotes and whitespace are normalised here) and, for
:func:`decide`, the stored papers that share one of its
:func:`~digest.identity.keys.block_keys`. Output: a :class:`Decision` naming the stored paper
that is the same paper (or ``None``).

Resolution (:mod:`digest.identity.resolve`) tries source ids and exact title keys
first; this module is the third rule. Two ways to be the same paper:

- ``abstract``: the abstracts (minus "code is available at ..." sentences) are
  near-identical text, whatever the titles say (a retitled version);
- ``fuzzy``: the titles differ only in form (hyphenation, British/American
  spelling, plurals, a one-letter typo, function words, word order) and the
  abstracts are related (a revised version).

:func:`guard` is what keeps sequels and siblings apart: titles that differ in
numbers, part or version markers (``2``, ``v2``, ``II``, ``++``), Greek letters,
names or any other content word are never merged on title similarity.

The text analyses come from :mod:`digest.identity.keys` (cached by text, so a stored
paper compared again is not parsed again). A candidate whose abstract length alone
rules out a relation is dropped before the comparison, and an identical abstract ends
the search.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Indel, Levenshtein

from digest.identity.keys import (
    _KIND_WORDS,
    _SIZE_WORDS,
    _plain,
    _Title,
    _title,
    abstract_ids,
    fresh_vocabulary,
    stored_ids,
)

ABSTRACT_SAME = 0.85
"""Word-level similarity at or above which two abstracts are the same text. Distinct seed
papers reach 0.76 at most (a journal extension sharing its project page); a v2 with a
sentence edited and one added stays above 0.9."""
ABSTRACT_RELATED = 0.4
"""Word-level similarity a guard-clean title pair needs from its abstracts (unrelated
abstracts average 0.12; apart from one journal extension at 0.76, distinct seed papers
stay under 0.34)."""
MIN_ABSTRACT_WORDS = 25
"""Shorter abstracts are too generic to identify a paper on their own."""
TYPO_MIN_LENGTH = 8
"""A one-letter difference counts as a typo only in words at least this long (``Mistral``
and ``Mixtral`` are names, not typos)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored paper that shares a blocking key with the new sighting."""

    paper_id: str
    """The stored paper's id."""
    title: str
    """Its (newest) title, as stored."""
    abstract: str
    """Its (newest) abstract, as stored."""
    text_hash: str = ""
    """The stored text's hash: its analysis is kept by it (none: not kept)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """Why a new sighting is an already stored paper."""

    paper_id: str
    """The stored paper it belongs to."""
    rule: str
    """``fuzzy`` (near-equal titles, related abstracts) or ``abstract`` (same abstract)."""
    score: float
    """The similarity behind the rule, 0..1."""
    reason: str
    """One sentence for ``digest explain``."""


def _join_away(words: Counter[str], other: list[str], spare: Counter[str]) -> None:
    """Drop from ``words`` those that are 2-3 consecutive ``other`` words written together
    (``pretrained`` / ``pre trained``), and those words from ``spare``.

    Both hold positive counts only, on entry and on return."""
    runs = {"".join(other[i : i + size]) for size in (2, 3) for i in range(len(other) - size + 1)}
    if words.keys().isdisjoint(runs):
        return  # the usual case: nothing written together
    for size in (2, 3):
        for i in range(len(other) - size + 1):
            run = other[i : i + size]
            joined = "".join(run)
            if words[joined] and all(spare[w] for w in run):
                words[joined] -= 1
                spare.subtract(run)
    words += Counter()  # drop zero counts
    spare += Counter()


def _show(words: Sequence[str]) -> str:
    return ", ".join(f"'{w}'" for w in words) if words else "none"


_Difference = tuple[str, str, str]
"""What differs, shown for the first title, shown for the second."""


def _content_difference(a: _Title, b: _Title) -> _Difference | None:
    if (
        a.content == b.content
        or "".join(a.content) == "".join(b.content)
        or sorted(a.content) == sorted(b.content)
    ):
        return None
    count_a, count_b = Counter(a.content), Counter(b.content)
    only_a, only_b = count_a - count_b, count_b - count_a
    _join_away(only_a, list(b.content), only_b)
    _join_away(only_b, list(a.content), only_a)
    plain_a, plain_b = _plain(a.title), _plain(b.title)
    for wa in sorted(only_a):
        for wb in sorted(only_b):
            if (
                only_b[wb]
                and min(len(wa), len(wb)) >= TYPO_MIN_LENGTH
                and wa in plain_a
                and wb in plain_b
                and Levenshtein.distance(wa, wb, score_cutoff=1) <= 1
            ):
                only_a[wa] -= 1
                only_b[wb] -= 1
                break
    left_a, left_b = sorted((+only_a).elements()), sorted((+only_b).elements())
    if not left_a and not left_b:
        return None
    words = set(left_a) | set(left_b)
    if words & _KIND_WORDS:
        what = "the kind of paper differs (survey, benchmark, extension, ...)"
    elif words & _SIZE_WORDS:
        what = "model size or version words differ"
    elif not words <= (plain_a | plain_b):
        what = "names differ"
    else:
        what = "content words differ"
    return what, _show(left_a), _show(left_b)


def _difference(a: _Title, b: _Title) -> _Difference | None:
    if a.numbers != b.numbers:
        only_a = list((Counter(a.numbers) - Counter(b.numbers)).elements())
        only_b = list((Counter(b.numbers) - Counter(a.numbers)).elements())
        if not only_a and not only_b:
            return "numbers appear in another order", _show(a.numbers), _show(b.numbers)
        return "numbers or part/version markers differ", _show(only_a), _show(only_b)
    if a.pluses != b.pluses:
        return "sequel markers differ", "+" * a.pluses or "none", "+" * b.pluses or "none"
    if a.greek != b.greek:
        return "Greek letters differ", _show(a.greek), _show(b.greek)
    return _content_difference(a, b)


def guard(title_a: str, title_b: str) -> str | None:
    """Why two titles must not be merged on title similarity, or ``None`` when they differ
    only in form (case, punctuation, hyphenation, spelling, plurals, function words,
    word order or a one-letter typo in a long word).

    Symmetric: the reason names the same difference whichever title comes first, shown
    in argument order (``sequel markers differ: ++ vs none``).
    """
    swapped = title_b < title_a
    first, second = (title_b, title_a) if swapped else (title_a, title_b)
    found = _difference(_title(first), _title(second))
    if found is None:
        return None
    what, shown_a, shown_b = found
    if swapped:
        shown_a, shown_b = shown_b, shown_a
    return f"{what}: {shown_a} vs {shown_b}"


def _similarity(a: Sequence[int], b: Sequence[int]) -> float:
    return float(Indel.normalized_similarity(a, b)) if a and b else 0.0


def _judge(title: str, new: array[int], cand: Candidate) -> Decision | None:
    old = (
        stored_ids(cand.text_hash, cand.abstract) if cand.text_hash else abstract_ids(cand.abstract)
    )
    shortest, total = min(len(new), len(old)), len(new) + len(old)
    if shortest < MIN_ABSTRACT_WORDS:
        # Without an abstract to compare, equal-in-form titles are all the evidence there is.
        if guard(title, cand.title) is not None:
            return None
        return Decision(cand.paper_id, "fuzzy", 0.5, "the titles differ only in form and "
                        "one abstract is missing or too short to compare")  # fmt: skip
    # Cheap rejection: the similarity is at most 2 * shortest / total (all of the shorter
    # text in common), so abstracts of too different lengths are never related. The margin
    # keeps a bound that equals the threshold (the float similarity may round up to it).
    if 2 * shortest / total < ABSTRACT_RELATED - 1e-9:
        return None
    sim = _similarity(new, old)
    if sim >= ABSTRACT_SAME:
        why = guard(title, cand.title)
        titles = f"though {why}" if why else "and the titles differ only in form"
        return Decision(cand.paper_id, "abstract", round(sim, 4),
                        f"the abstracts are {sim:.0%} the same text {titles}")  # fmt: skip
    if sim < ABSTRACT_RELATED or guard(title, cand.title) is not None:
        return None
    return Decision(cand.paper_id, "fuzzy", round(sim, 4), "the titles differ only in form "
                    f"and the abstracts share {sim:.0%} of their text")  # fmt: skip


def decide(title: str, abstract: str, candidates: Sequence[Candidate]) -> Decision | None:
    """The candidate that is the same paper as (``title``, ``abstract``), or ``None``.

    Several matches: the highest score wins, the earlier candidate on a tie.
    """
    if not candidates:
        return None
    fresh_vocabulary()
    new = abstract_ids(abstract)
    best: Decision | None = None
    for cand in candidates:
        decision = _judge(title, new, cand)
        if decision is not None and (best is None or decision.score > best.score):
            best = decision
            if best.score >= 1.0:  # nothing later can beat it (a tie loses)
                break
    return best
