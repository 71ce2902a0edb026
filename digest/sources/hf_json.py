"""Reader for the Hugging Face ``/api/daily_papers`` JSON.

Input: a JSON array of objects, each with a ``paper`` object (``id`` — an
arXiv id —, ``title``, ``summary``, ``authors`` as ``[{"name": ...}]``,
``publishedAt`` — arXiv's date —, ``submittedOnDailyAt`` — the day it was
featured —, ``upvotes``, ``ai_summary``, ``ai_keywords``, ``githubRepo``,
``projectPage``) and, outside it, ``numComments`` and ``publishedAt``.
Output: a :class:`Listing` dated by the latest featured day.

An entry's date is the day it was featured on Hugging Face, in
``ctx.timezone``: ``paper.submittedOnDailyAt``, else the outer ``publishedAt``
(never arXiv's ``paper.publishedAt``, which would put papers featured today in
weeks already published); a trimmed item with neither falls back to it rather
than being lost. Its ``url`` is the arXiv abstract page, so the same
paper links alike from every source; its links add the PDF, the Hugging Face
page (``https://huggingface.co/papers/<id>``), the code repository and the
project page, and its :class:`~digest.models.Signals` keep the up-votes,
comments, AI summary and keywords. Items are decoded one by one, so a syntax
error costs only the items after it, and each problem carries the line where
its item starts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from digest.errors import Problem
from digest.models import Entry, Listing
from digest.sources.fields import (
    arxiv_links,
    http_url,
    import_day,
    merge_links,
    record_entry,
    signals,
    zone,
)

if TYPE_CHECKING:
    from digest.sources import ReadContext

FORMAT = "hf-json"

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\r\n]*")


def detect(text: str) -> bool:
    """True for a JSON array whose first object has a ``paper`` key (or an empty array)."""
    head = text[:4096].lstrip(" \t\r\n")
    if not head.startswith("["):
        return False
    return head[1:].lstrip(" \t\r\n").startswith("]") or '"paper"' in head


class _Lines:
    """Line numbers of increasing offsets, counted once (files can be large)."""

    def __init__(self, text: str) -> None:
        self.text, self.offset, self.line = text, 0, 1

    def at(self, offset: int) -> int:
        """The 1-based line of ``offset``."""
        if offset < self.offset:
            return self.text.count("\n", 0, offset) + 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def _paper(item: Mapping[str, object]) -> Mapping[str, object]:
    paper = item.get("paper")
    return paper if isinstance(paper, Mapping) else {}


def _record(item: Mapping[str, object]) -> dict[str, object]:
    """A daily-papers item -> the shared title/abstract/date/id/url/authors record."""
    paper = _paper(item)
    ident = paper.get("id")
    url = f"https://arxiv.org/abs/{ident}" if isinstance(ident, str) and ident else None
    return {
        "title": paper.get("title") or item.get("title"),
        "abstract": paper.get("summary") or item.get("summary"),
        "date": paper.get("submittedOnDailyAt")
        or item.get("publishedAt")
        or paper.get("publishedAt"),  # a trimmed item without either: kept, arXiv-dated
        "id": ident,
        "url": url,
        "authors": paper.get("authors"),
    }


def _enrich(entry: Entry, item: Mapping[str, object]) -> Entry:
    """The entry with the item's links and signals."""
    paper = _paper(item)
    ident = entry.source_id.removeprefix("arxiv:") if entry.source_id else ""
    hf_page = f"https://huggingface.co/papers/{ident}" if entry.source_id else None
    extra = (
        ("hf", hf_page),
        ("code", http_url(paper.get("githubRepo"))),
        ("project", http_url(paper.get("projectPage"))),
    )
    links = merge_links(
        arxiv_links(entry.source_id), tuple((k, u) for k, u in extra if u is not None)
    )
    upvotes = paper.get("upvotes", item.get("upvotes"))
    found = signals(
        upvotes,
        item.get("numComments", paper.get("numComments")),
        paper.get("ai_summary"),
        paper.get("ai_keywords"),
    )
    return dataclasses.replace(entry, links=links, signals=found)


def read(text: str, name: str, ctx: ReadContext) -> Listing:
    """Parse a daily-papers array; each bad item is a problem, the rest still counts."""
    listing = Listing(name=name, format=FORMAT, date=None)
    tz = zone(ctx, listing)
    undated: dt.date | None = import_day(ctx, listing)
    problems = listing.problems
    lines = _Lines(text)

    def skip(pos: int) -> int:
        m = _SPACE.match(text, pos)
        return m.end() if m else pos

    pos = skip(0)
    if not text.startswith("[", pos):
        what = "an object" if text.startswith("{", pos) else "no JSON array"
        problems.append(Problem(name, lines.at(pos), f"expected a JSON array, found {what}"))
        return listing
    pos = skip(pos + 1)
    while not text.startswith("]", pos):
        line = lines.at(pos)
        try:
            item, pos = _DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError) as err:
            if isinstance(err, json.JSONDecodeError):
                line, reason = lines.at(err.pos), err.msg
            else:
                reason = "nested too deeply"
            problems.append(Problem(name, line, f"not valid JSON: {reason}; rest of file skipped"))
            break
        if isinstance(item, Mapping):
            record = _record(item)
            entry, found = record_entry(record, name, line, len(listing.entries), tz, undated)
            problems.extend(found)
            if entry is not None:
                listing.entries.append(_enrich(entry, item))
        else:
            kind = type(item).__name__
            problems.append(Problem(name, line, f"expected an object, got {kind} (skipped)"))
        pos = skip(pos)
        if text.startswith(",", pos):
            pos = skip(pos + 1)
        elif not text.startswith("]", pos):
            msg = "expected ',' or ']' after an item; rest of file skipped"
            problems.append(Problem(name, lines.at(pos), msg))
            break
    else:
        end = skip(pos + 1)
        if end < len(text):
            problems.append(Problem(name, lines.at(end), "text after the JSON array (ignored)"))
    listing.date = max((e.date for e in listing.entries), default=None)
    return listing
