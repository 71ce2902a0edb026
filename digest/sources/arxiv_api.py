"""Reader for arXiv API query results (Atom, ``http://export.arxiv.org/api/query``).

Input: an Atom feed whose entries carry ``<id>http://arxiv.org/abs/2403.01234v1</id>``,
``<published>``, ``<updated>``, ``<title>``, ``<summary>``, ``<author><name>``
and ``<link rel="alternate">``. Output: a :class:`Listing` dated by the
feed's ``<updated>`` (else the latest entry).

A query result is dated by import by default (the listing's ``dating`` is
``import``: a search of 100 papers must not make 94 weekly issues back to 2001);
with the source's ``date: published`` an entry's date is its ``published`` stamp
(first version) in ``ctx.timezone``, else its ``updated`` stamp. Entries keep the
abstract, PDF and journal DOI (``<arxiv:doi>``) links. The API reports a bad query as
an entry whose id is ``.../api/errors#...``: that becomes a problem, not a
paper. An entry without title, id or date is a problem at its line.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from digest.errors import Problem
from digest.models import Entry, Listing
from digest.normalize import clean_text
from digest.sources.arxiv_feeds import journal_doi
from digest.sources.fields import (
    arxiv_id,
    arxiv_links,
    doi_link,
    http_url,
    merge_links,
    parse_timestamp,
    url_problem,
    zone,
)
from digest.sources.xmlsafe import add_items, child_text, load_xml

if TYPE_CHECKING:
    from digest.sources import ReadContext

FORMAT = "arxiv-api"

ATOM = "{http://www.w3.org/2005/Atom}"


def detect(text: str) -> bool:
    """True for an Atom ``<feed`` that mentions arXiv in its first few KB."""
    head = text[:4096]
    return (
        head.lstrip().startswith("<")
        and "<feed" in head
        and "http://www.w3.org/2005/Atom" in head
        and "arxiv" in head.lower()
    )


def _entry(
    element: ET.Element, name: str, line: int | None, position: int, tz: dt.tzinfo
) -> tuple[Entry | None, list[Problem]]:
    """One Atom ``<entry>`` -> an entry (or None) and its problems."""
    ident = child_text(element, f"{ATOM}id")
    title = child_text(element, f"{ATOM}title")
    summary = child_text(element, f"{ATOM}summary")
    if "/api/errors" in ident:
        return None, [Problem(name, line, f"the arXiv API reported an error: {summary or title}")]
    if not title:
        return None, [Problem(name, line, "entry without a title (skipped)")]
    found = arxiv_id(ident)
    if found is None:
        return None, [Problem(name, line, f"entry without an arXiv id: {title[:60]!r} (skipped)")]
    date = parse_timestamp(child_text(element, f"{ATOM}published"), tz) or parse_timestamp(
        child_text(element, f"{ATOM}updated"), tz
    )
    if date is None:
        return None, [Problem(name, line, f"entry without a date: {title[:60]!r} (skipped)")]
    problems: list[Problem] = []
    if not summary:
        problems.append(Problem(name, line, f"entry without a summary: {title[:60]!r} (kept)"))
    url = None
    for link in element.findall(f"{ATOM}link"):
        if link.get("rel", "alternate") == "alternate":
            url = http_url(link.get("href"))
            if url is None and (bad_url := url_problem(link.get("href"), name, line)):
                problems.append(bad_url)
            break
    authors = (
        clean_text(a.findtext(f"{ATOM}name") or "") for a in element.findall(f"{ATOM}author")
    )
    doi = journal_doi(element)
    entry = Entry(
        title=title,
        abstract=summary,
        listing=name,
        date=date,
        position=position,
        line=line or 0,
        source_id=f"arxiv:{found[0]}",
        version=found[1],
        url=url or http_url(ident),
        authors=tuple(a for a in authors if a),
        links=merge_links(arxiv_links(f"arxiv:{found[0]}"), doi_link(doi)),
        ids=(doi,) if doi else (),
    )
    return entry, problems


def read(text: str, name: str, ctx: ReadContext) -> Listing:
    """Parse an arXiv API Atom feed; a bad entry is a problem, the others still count."""
    listing = Listing(name=name, format=FORMAT, date=None, dating="import")
    tz = zone(ctx, listing)
    root = load_xml(text, name, listing.problems)
    if isinstance(root, Problem):
        listing.problems.append(root)
        return listing
    if root.tag != f"{ATOM}feed":
        listing.problems.append(Problem(name, 1, f"not an Atom feed (root <{root.tag}>)"))
        return listing
    add_items(
        listing,
        text,
        root.findall(f"{ATOM}entry"),
        "entry",
        lambda element, line, position: _entry(element, name, line, position, tz),
    )
    feed_date = parse_timestamp(child_text(root, f"{ATOM}updated"), tz)
    listing.date = feed_date or max((e.date for e in listing.entries), default=None)
    return listing
