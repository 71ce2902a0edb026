"""The email's content: a week's digest -> what its message shows, within a size budget.

Input: a :class:`~digest.models.WeekDigest` (its sections in relevance order) and how
many papers to show in full and at all. Output: :class:`EmailSection` values (every
theme, its top papers in full, the rest by title) and the note that says what was left
out; :func:`fit` finds the most that stays under the HTML budget (Gmail clips
messages past ~102 KB). :mod:`digest.mail` renders them and builds the message.
"""

from __future__ import annotations

import quopri
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from digest.filters import plural
from digest.models import Paper, WeekDigest
from digest.outtext import clean_paper


@dataclass(slots=True)
class EmailSection:
    """One theme section as the email shows it: some papers in full, some as titles."""

    name: str
    total: int
    """Papers in the section this week (shown or not)."""
    full: list[Paper]
    """Papers shown in full: title link, authors, preview sentence, links."""
    titles: list[Paper]
    """Papers past the size budget: title and link only."""


def fit(html_for: Callable[[int, int], str], count: int, budget: int) -> tuple[int, int]:
    """(papers in full, papers listed at all) so the HTML stays within ``budget`` bytes:
    first as many in full as fit (each theme's top papers, see :func:`_sections`), then
    as many more by title as fit; past that, the rest only counted."""

    def size(full: int, listed: int) -> int:
        # Measured as sent (quoted-printable), which is what a client sees and clips.
        return len(quopri.encodestring(html_for(full, listed).encode("utf-8")))

    if size(count, count) <= budget:
        return count, count
    full = _largest(lambda k: size(k, k) <= budget, count)
    rest = _largest(lambda t: size(full, full + t) <= budget, count - full)
    return full, full + rest


def _largest(ok: Callable[[int], bool], high: int) -> int:
    """The largest n in 0..high with ok(n), assuming ok is monotone and ok(0) may fail (-> 0)."""
    low = 0
    while low < high:
        mid = (low + high + 1) // 2
        if ok(mid):
            low = mid
        else:
            high = mid - 1
    return low


TITLE_CHARS = 300
"""Most characters of a title an email shows (the rest is on the week page): one huge
title must not leave no room for any paper."""
AUTHORS_CHARS = 300
"""Most characters of the author list an email shows (then ``et al.``)."""
ABSTRACT_CHARS = 3000
"""Most characters of an abstract an email shows (real abstracts are shorter)."""


FULL_PER_THEME = 3
"""Most papers of one theme the email shows in full (title link, authors, preview);
the rest of the theme is listed by title."""


def sections(digest: WeekDigest, full: int, listed: int) -> list[EmailSection]:
    """Every section with its papers in full and by title: the ``full`` papers shown in
    full and the ``listed`` shown at all are taken a rank at a time across the themes
    (each theme's first paper, then each theme's second, ...), so a tight budget cuts
    every theme short rather than leaving the last themes out; at most
    :data:`FULL_PER_THEME` of a theme are in full."""
    rank = _round_robin(digest)
    out = []
    for j, section in enumerate(digest.sections):
        shown = EmailSection(section.name, len(section.papers), [], [])
        for i, paper in enumerate(section.papers):
            at = rank[(i, j)]
            if at.full < full and i < FULL_PER_THEME:
                shown.full.append(shown_paper(paper))
            elif at.listed < listed:
                shown.titles.append(shown_paper(paper))
        out.append(shown)
    return out


@dataclass(frozen=True, slots=True)
class _Rank:
    full: int
    """Place among the papers that may be shown in full (those of rank < FULL_PER_THEME)."""
    listed: int
    """Place among all papers."""


def _round_robin(digest: WeekDigest) -> dict[tuple[int, int], _Rank]:
    """(rank in its section, section index) -> the paper's :class:`_Rank`."""
    sizes = [len(s.papers) for s in digest.sections]
    out: dict[tuple[int, int], _Rank] = {}
    full = listed = 0
    for i in range(max(sizes, default=0)):
        for j, size in enumerate(sizes):
            if i < size:
                out[(i, j)] = _Rank(full if i < FULL_PER_THEME else -1, listed)
                listed += 1
                full += i < FULL_PER_THEME
    return {key: _Rank(r.full if r.full >= 0 else full, r.listed) for key, r in out.items()}


def shown_paper(paper: Paper) -> Paper:
    """``paper`` as the email shows it: its text fit for output
    (:func:`~digest.outtext.clean_paper`: no link that is no URL), and its title,
    authors and abstract cut to :data:`TITLE_CHARS`, :data:`AUTHORS_CHARS` and
    :data:`ABSTRACT_CHARS`."""
    paper = clean_paper(paper)
    authors = paper.authors
    if sum(len(a) + 2 for a in authors) > AUTHORS_CHARS:
        kept: list[str] = []
        room = AUTHORS_CHARS
        for author in authors:
            room -= len(author) + 2
            if room < 0:
                break
            kept.append(author)
        authors = (*kept, "et al.") if kept else (_clip(authors[0], AUTHORS_CHARS), "et al.")
    title, abstract = _clip(paper.title, TITLE_CHARS), _clip(paper.abstract, ABSTRACT_CHARS)
    if title is paper.title and abstract is paper.abstract and authors is paper.authors:
        return paper
    return replace(paper, title=title, abstract=abstract, authors=authors)


def _clip(text: str, limit: int) -> str:
    """``text``, or its first ``limit`` characters (ending with an ellipsis)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def shown_note(count: int, full: int, listed: int) -> str:
    """The sentence that says how much of a week of ``count`` papers the email shows
    (``full`` in full, up to ``listed`` by title); empty when it shows all of it."""
    if full >= count:
        return ""
    titles, omitted = listed - full, count - listed
    parts = []
    if full:
        first = "the top paper" if full == 1 else f"the top {full} papers"
        parts.append(f"{first} in full")
    if titles:
        parts.append(f"{plural(titles, 'more paper' if full else 'paper')} by title")
    if not parts:
        verb = "is" if count == 1 else "are"
        shown = plural(count, "paper")
        return f"This email shows no paper in full or by title: {shown} {verb} only on the web."
    note = "This email shows " + " and ".join(parts)
    if omitted:
        verb = "is" if omitted == 1 else "are"
        note += f"; {plural(omitted, 'more paper')} {verb} only on the web"
    return note + "."


def counts(shown: list[EmailSection], count: int) -> dict[str, Any]:
    full = sum(len(s.full) for s in shown)
    listed = full + sum(len(s.titles) for s in shown)
    return {
        "shown_full": full,
        "listed": listed,
        "omitted": count - listed,
        "note": shown_note(count, full, listed),
    }
