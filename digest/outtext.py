"""Stored text -> text every output can hold, whatever the listings carried.

Input: strings and :class:`~digest.models.Paper` values as the store keeps them (the
text exactly as it came). Output: the same values with every character that XML 1.0
forbids or that could act on a terminal replaced by U+FFFD, and links that are no
http(s) URL dropped.

This is the one place where stored text is made fit for output: papers pass through
:func:`clean_paper` when they leave the store for the pages, the feeds and the email,
and :mod:`digest.feeds` passes every string through :func:`clean` before the XML
writer sees it (text kept in the store from earlier builds, feed.yaml text). The
store itself keeps the text as it came.

Replaced (not dropped) so that a reader sees something was there and words on both
sides are not joined: C0 controls but tab, LF and CR; DEL and the C1 controls (ESC
sequences of a file name lose their ESC, so they can no longer act on a terminal);
lone surrogates; and the Unicode noncharacters (U+FDD0-U+FDEF and the last two code
points of every plane, U+FFFE and U+FFFF among them).
"""

from __future__ import annotations

import re
from dataclasses import replace

from digest.filters import safe_url
from digest.models import Paper, Sighting

REPLACEMENT = "\ufffd"

_FORBIDDEN_BMP = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
_FORBIDDEN_ASTRAL = re.compile(
    "["
    + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(1, 17))
    + "]"
)


def clean(text: str) -> str:
    """``text`` with every forbidden character (see the module docstring) replaced by
    U+FFFD; the same object when there is none."""
    # str.isprintable() is false for every forbidden character (controls are Cc,
    # surrogates Cs, noncharacters Cn) and runs in C, many times faster than a regex
    # with these ranges: the usual text is done in one such scan.
    if text.isprintable():
        return text
    out = _FORBIDDEN_BMP.sub(REPLACEMENT, text)
    if out and max(out) > "\uffff":  # only then can an astral noncharacter be there
        out = _FORBIDDEN_ASTRAL.sub(REPLACEMENT, out)
    return text if out == text else out


def is_clean(text: str) -> bool:
    """True when ``text`` holds no forbidden character."""
    return clean(text) is text


def clean_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL an output may print (:func:`~digest.render.safe_url`:
    no control character, CR, LF or space in it, nothing :func:`clean` would replace),
    else None: such a text is not a link."""
    return url if url and safe_url(url) and is_clean(url) else None


def clean_paper(paper: Paper) -> Paper:
    """``paper`` as outputs show it: its text :func:`clean`, its link :func:`clean_url`.
    The same object when nothing needed it (most papers)."""
    sightings = paper.sightings
    texts = [paper.title, paper.abstract, paper.source_id or "", *paper.authors, *paper.tags]
    texts.extend(s.listing for s in sightings)
    url = clean_url(paper.url)
    if url == paper.url and all(map(is_clean, texts)):
        return paper
    return replace(
        paper,
        title=clean(paper.title),
        abstract=clean(paper.abstract),
        source_id=clean(paper.source_id) if paper.source_id else paper.source_id,
        authors=tuple(clean(a) for a in paper.authors),
        tags=tuple(clean(t) for t in paper.tags),
        sightings=tuple(_clean_sighting(s) for s in sightings),
        url=url,
    )


def _clean_sighting(sighting: Sighting) -> Sighting:
    listing = clean(sighting.listing)
    return sighting if listing is sighting.listing else replace(sighting, listing=listing)
