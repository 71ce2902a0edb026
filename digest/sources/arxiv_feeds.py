"""The Atom and RSS 1.0/RDF shapes of arXiv's category feeds (read for :mod:`.arxiv_rss`).

Input: the parsed root of an arXiv announcement feed that is not RSS 2.0, its text
(for line numbers), the listing to fill and the time zone. Output: the listing's
entries, problems and date.

- Atom (``https://rss.arxiv.org/atom/cs.CL``): each ``<entry>`` has
  ``<id>oai:arXiv.org:2609.28553v1</id>``, ``<title>``, ``<summary>arXiv:2609.28553v1
  Announce Type: new Abstract: ...</summary>``, ``<arxiv:announce_type>``,
  ``<dc:creator>A, B and C</dc:creator>``, ``<link rel="alternate">``, an optional
  ``<arxiv:DOI>`` and ``<published>``, the announcement's date (arXiv's RSS
  specification). An entry is dated by ``<published>``, else ``<updated>``, else the
  feed's ``<updated>``; the listing by its latest entry, else the feed's ``<updated>``.
  Entries of an API-shaped feed (``<author><name>``) are read too.
- RSS 1.0/RDF (until 2024): ``<item rdf:about="http://arxiv.org/abs/1805.06430">``
  whose title ends in ``(arXiv:1805.06430v2 [nucl-th] UPDATED)`` (``CROSS LISTED``
  for a cross-list, nothing for a new paper), whose description and
  ``<dc:creator>`` are escaped HTML (``<p>``, author ``<a>`` links; the ``et al.
  (N additional authors not shown)`` tail is dropped); the channel's ``<dc:date>``
  dates the listing and every item without a ``<dc:date>`` of its own.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser

from digest.errors import Problem
from digest.models import Entry, Listing
from digest.normalize import clean_text
from digest.sources.fields import (
    arxiv_id,
    arxiv_links,
    doi_link,
    http_url,
    merge_links,
    parse_timestamp,
    source_id,
    split_authors,
    url_problem,
)
from digest.sources.xmlsafe import add_items, child_text

ATOM_NS = "http://www.w3.org/2005/Atom"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS1_NS = "http://purl.org/rss/1.0/"
ARXIV_NS = "http://arxiv.org/schemas/atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
FEED = f"{{{ATOM_NS}}}feed"
RDF = f"{{{RDF_NS}}}RDF"

PREFIX = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce\s+Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?",
    re.IGNORECASE,
)
"""The boilerplate arXiv puts before an abstract in its RSS and Atom feeds."""
_RDF_TITLE = re.compile(
    r"\s*\(arXiv:(?P<id>[^\s\[\])]+)\s*(?:\[[^\]]*\])?\s*(?P<kind>CROSS LISTED|UPDATED)?\)\s*$"
)
_RDF_KIND = {None: "new", "CROSS LISTED": "cross", "UPDATED": "replace"}
_NOT_SHOWN = re.compile(r"^et al\.?(\s*\(.*\))?$|^\(\d+ additional authors? not shown\)$")


def detect(head: str) -> bool:
    """True for the head of an arXiv Atom *category* feed (not an API response)."""
    return (
        "<feed" in head
        and ATOM_NS in head
        and ("rss.arxiv.org" in head or "announce_type" in head or "Announce Type" in head)
    )


class _Text(HTMLParser):
    """The text of an HTML fragment (tags dropped, references decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(fragment: str) -> str:
    """The clean text of an escaped-HTML field (RDF descriptions and creators)."""
    if "<" not in fragment and "&" not in fragment:
        return clean_text(fragment)
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    return clean_text("".join(parser.parts))


def journal_doi(element: ET.Element) -> str | None:
    """The ``doi:...`` id of an entry's ``<arxiv:DOI>`` (Atom feed) or ``<arxiv:doi>``
    (API), or None."""
    raw = child_text(element, f"{{{ARXIV_NS}}}DOI") or child_text(element, f"{{{ARXIV_NS}}}doi")
    found = source_id(raw)[0] if raw else None
    return found if found and found.startswith("doi:") else None


def _authors(creators: list[str]) -> tuple[str, ...]:
    names = (a for c in creators for a in split_authors(c))
    return tuple(n for n in names if not _NOT_SHOWN.match(n))


def _entry(
    element: ET.Element, name: str, line: int | None, position: int, tz: dt.tzinfo,
    fallback: dt.date | None,
) -> tuple[Entry | None, list[Problem]]:  # fmt: skip
    """One Atom ``<entry>`` -> an entry (or None) and its problems."""
    title = child_text(element, f"{{{ATOM_NS}}}title")
    ident = child_text(element, f"{{{ATOM_NS}}}id")
    if not title:
        return None, [
            Problem(name, line, f"entry {ident} without a title (skipped)".replace("  ", " "))
        ]
    summary = child_text(element, f"{{{ATOM_NS}}}summary")
    prefix = PREFIX.match(summary)
    abstract = summary[prefix.end() :] if prefix else summary
    announce = child_text(element, f"{{{ARXIV_NS}}}announce_type") or (
        prefix["type"] if prefix else ""
    )
    link = next(
        (
            li.get("href")
            for li in element.findall(f"{{{ATOM_NS}}}link")
            if li.get("rel", "alternate") == "alternate"
        ),
        None,
    )
    candidates = [ident, prefix["id"] if prefix else "", link or ""]
    found = next(filter(None, (arxiv_id(c) for c in candidates if c)), None)
    stamps = (child_text(element, f"{{{ATOM_NS}}}{tag}") for tag in ("published", "updated"))
    date = next(filter(None, (parse_timestamp(s, tz) for s in stamps)), None) or fallback
    problems: list[Problem] = []
    if date is None:
        return None, [Problem(name, line, f"entry without a date: {title[:60]!r} (skipped)")]
    if found is None:
        problems.append(Problem(name, line, f"entry without an arXiv id: {title[:60]!r} (kept)"))
    if not abstract:
        problems.append(Problem(name, line, f"entry without an abstract: {title[:60]!r} (kept)"))
    url = http_url(link)
    if url is None and (bad := url_problem(link, name, line)) is not None:
        problems.append(bad)
    creators = [c.text or "" for c in element.findall(f"{{{DC_NS}}}creator")]
    creators += [
        a.findtext(f"{{{ATOM_NS}}}name") or "" for a in element.findall(f"{{{ATOM_NS}}}author")
    ]
    doi = journal_doi(element)
    source = f"arxiv:{found[0]}" if found else None
    links = merge_links(arxiv_links(source), doi_link(doi))
    entry = Entry(
        title=title,
        abstract=abstract,
        listing=name,
        date=date,
        position=position,
        line=line or 0,
        source_id=source or doi,
        version=found[1] if found else None,
        url=url or (links[0][1] if links else None),
        authors=_authors(creators),
        announce=announce.lower() or None,
        links=links,
        ids=(doi,) if doi and source else (),
    )
    return entry, problems


def _item(
    item: ET.Element, name: str, line: int | None, position: int, tz: dt.tzinfo,
    fallback: dt.date | None,
) -> tuple[Entry | None, list[Problem]]:  # fmt: skip
    """One RSS 1.0 ``<item>`` -> an entry (or None) and its problems."""
    about = item.get(f"{{{RDF_NS}}}about") or ""
    raw_title = child_text(item, f"{{{RSS1_NS}}}title")
    suffix = _RDF_TITLE.search(raw_title)
    title = raw_title[: suffix.start()].strip() if suffix else raw_title
    if not title:
        return None, [
            Problem(name, line, f"item {about} without a title (skipped)".replace("  ", " "))
        ]
    link = child_text(item, f"{{{RSS1_NS}}}link")
    candidates = [suffix["id"] if suffix else "", about, link]
    found = next(filter(None, (arxiv_id(c) for c in candidates if c)), None)
    date = parse_timestamp(child_text(item, f"{{{DC_NS}}}date"), tz) or fallback
    problems: list[Problem] = []
    if date is None:
        return None, [Problem(name, line, f"item without a date: {title[:60]!r} (skipped)")]
    if found is None:
        problems.append(Problem(name, line, f"item without an arXiv id: {title[:60]!r} (kept)"))
    description = item.find(f"{{{RSS1_NS}}}description")
    abstract = html_text(description.text or "") if description is not None else ""
    if not abstract:
        problems.append(Problem(name, line, f"item without an abstract: {title[:60]!r} (kept)"))
    url = http_url(link)
    if url is None and (bad := url_problem(link, name, line)) is not None:
        problems.append(bad)
    source = f"arxiv:{found[0]}" if found else None
    links = arxiv_links(source)
    creators = [html_text(c.text or "") for c in item.findall(f"{{{DC_NS}}}creator")]
    entry = Entry(
        title=title,
        abstract=abstract,
        listing=name,
        date=date,
        position=position,
        line=line or 0,
        source_id=source,
        version=found[1] if found else None,
        url=url or (links[0][1] if links else None),
        authors=_authors(creators),
        announce=_RDF_KIND[suffix["kind"]] if suffix else None,
        links=links,
    )
    return entry, problems


_Reader = Callable[
    [ET.Element, str, int | None, int, dt.tzinfo, dt.date | None],
    tuple[Entry | None, list[Problem]],
]


def read_root(root: ET.Element, text: str, listing: Listing, tz: dt.tzinfo) -> None:
    """Fill ``listing`` from the root of an Atom or RDF arXiv feed."""
    name = listing.name
    if root.tag == FEED:
        feed_date = parse_timestamp(child_text(root, f"{{{ATOM_NS}}}updated"), tz)
        read_one: _Reader = _entry
        elements, tag = root.findall(f"{{{ATOM_NS}}}entry"), "entry"
    else:
        channel = root.find(f"{{{RSS1_NS}}}channel")
        stamp = child_text(channel, f"{{{DC_NS}}}date") if channel is not None else ""
        feed_date = parse_timestamp(stamp, tz)
        read_one = _item
        elements, tag = root.findall(f"{{{RSS1_NS}}}item"), "item"
    add_items(
        listing,
        text,
        elements,
        tag,
        lambda element, line, position: read_one(element, name, line, position, tz, feed_date),
    )
    if root.tag == FEED:
        listing.date = max((e.date for e in listing.entries), default=feed_date)
    else:
        listing.date = feed_date or max((e.date for e in listing.entries), default=None)
