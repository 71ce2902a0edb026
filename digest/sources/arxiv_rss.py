"""Reader for arXiv's category feeds, in the three shapes arXiv has served.

Input, one of:

- RSS 2.0 (``https://rss.arxiv.org/rss/cs.LG``, since 2024): items carry
  ``<guid>oai:arXiv.org:2403.01234v2</guid>``, ``<arxiv:announce_type>`` (``new``,
  ``cross``, ``replace``, ``replace-cross``), a description ``arXiv:2403.01234v2
  Announce Type: new \\nAbstract: ...``, ``<dc:creator>`` and an RFC 822 ``<pubDate>``;
- Atom (``https://rss.arxiv.org/atom/cs.CL``): the same fields as ``<id>``,
  ``<summary>``, ``<arxiv:announce_type>``, ``<dc:creator>``, ``<arxiv:DOI>`` and the
  announcement's ``<published>`` stamp (see :mod:`.arxiv_feeds`);
- RSS 1.0/RDF (``<rdf:RDF>``, ``<item rdf:about=...>``, until 2024 and in archives):
  the title ends in ``(arXiv:1805.06430v2 [nucl-th] UPDATED)``, the description and
  ``<dc:creator>`` hold escaped HTML, and the channel's ``<dc:date>`` dates them all.

Output: a :class:`Listing` dated by the channel's ``pubDate`` (else
``lastBuildDate``, else the latest entry); an Atom or RDF feed by its announcement
date. Entries keep the abstract without the ``arXiv:... Announce Type: ... Abstract:``
boilerplate, the announce type, the authors (``A, B and C``), the id with its
version, and the abstract, PDF and DOI links.

arXiv publishes an empty channel on weekends and holidays: that is a listing
without entries and without problems. An item without a title, or without any
date, is a problem at the line of its ``<item>``; the other items still count.
The XML is loaded by :mod:`digest.sources.xmlsafe`, which refuses any
document type declaration (and so any entity declaration).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from digest.errors import Problem
from digest.models import Entry, Listing
from digest.sources import arxiv_feeds
from digest.sources.fields import (
    arxiv_id,
    arxiv_links,
    http_url,
    split_authors,
    to_date,
    url_problem,
    zone,
)
from digest.sources.xmlsafe import add_items, child_text, load_xml

if TYPE_CHECKING:
    from digest.sources import ReadContext

FORMAT = "arxiv-rss"

ARXIV_NS = "http://arxiv.org/schemas/atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
_PREFIX = arxiv_feeds.PREFIX


def detect(text: str) -> bool:
    """True for an XML document with an ``<rss`` or ``<rdf:RDF`` root that mentions
    arXiv, or an arXiv Atom category feed (:func:`.arxiv_feeds.detect`)."""
    head = text[:4096]
    if not head.lstrip().startswith("<") or "arxiv" not in head.lower():
        return False
    return "<rss" in head or "<rdf:RDF" in head or arxiv_feeds.detect(head)


def _rfc822(value: str, tz: dt.tzinfo) -> dt.date | None:
    if not value:
        return None
    try:
        stamp = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if stamp.tzinfo is None:  # "-0000": UTC with unknown local zone
        stamp = stamp.replace(tzinfo=dt.UTC)
    return to_date(stamp, tz)


def _item(
    item: ET.Element,
    name: str,
    line: int | None,
    position: int,
    fallback: dt.date | None,
    tz: dt.tzinfo,
) -> tuple[Entry | None, list[Problem]]:
    """One ``<item>`` -> an entry (or None) and its problems; ``fallback`` is the channel date."""
    problems: list[Problem] = []
    title = child_text(item, "title")
    if not title:
        what = " ".join(filter(None, ["item", child_text(item, "guid")]))
        return None, [Problem(name, line, f"{what} without a title (skipped)")]
    description = child_text(item, "description")
    prefix = _PREFIX.match(description)
    abstract = description[prefix.end() :] if prefix else description
    announce = child_text(item, f"{{{ARXIV_NS}}}announce_type") or (
        prefix["type"] if prefix else ""
    )
    candidates = [
        child_text(item, "guid"),
        prefix["id"] if prefix else "",
        child_text(item, "link"),
    ]
    found = next(filter(None, (arxiv_id(c) for c in candidates if c)), None)
    if found is None:
        problems.append(Problem(name, line, f"item without an arXiv id: {title[:60]!r} (kept)"))
    raw_date = child_text(item, "pubDate")
    date = _rfc822(raw_date, tz)
    if date is None and raw_date:
        problems.append(Problem(name, line, f"bad pubDate {raw_date!r}; using the channel date"))
    date = date or fallback
    if date is None:
        missing = Problem(name, line, f"item without a date: {title[:60]!r} (skipped)")
        return None, [*problems, missing]
    if not abstract:
        problems.append(Problem(name, line, f"item without an abstract: {title[:60]!r} (kept)"))
    link = child_text(item, "link")
    url = http_url(link)
    if url is None and (bad_url := url_problem(link, name, line)):
        problems.append(bad_url)
    if url is None and found is not None:
        url = f"https://arxiv.org/abs/{found[0]}"
    creators = [c.text or "" for c in item.findall(f"{{{DC_NS}}}creator")]
    source = f"arxiv:{found[0]}" if found else None
    entry = Entry(
        title=title,
        abstract=abstract,
        listing=name,
        date=date,
        position=position,
        line=line or 0,
        source_id=f"arxiv:{found[0]}" if found else None,
        version=found[1] if found else None,
        url=url,
        authors=tuple(a for c in creators for a in split_authors(c)),
        announce=announce.lower() or None,
        links=arxiv_links(source),
    )
    return entry, problems


def read(text: str, name: str, ctx: ReadContext) -> Listing:
    """Parse an arXiv RSS, Atom or RDF feed; a bad item is a problem, the other items
    still count."""
    listing = Listing(name=name, format=FORMAT, date=None)
    tz = zone(ctx, listing)
    root = load_xml(text, name, listing.problems)
    if isinstance(root, Problem):
        listing.problems.append(root)
        return listing
    if root.tag in (arxiv_feeds.FEED, arxiv_feeds.RDF):
        arxiv_feeds.read_root(root, text, listing, tz)
        return listing
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        listing.problems.append(Problem(name, 1, f"not an RSS 2.0 feed (root <{root.tag}>)"))
        return listing
    channel_date = _rfc822(child_text(channel, "pubDate"), tz) or _rfc822(
        child_text(channel, "lastBuildDate"), tz
    )
    add_items(
        listing,
        text,
        channel.findall("item"),
        "item",
        lambda item, line, position: _item(item, name, line, position, channel_date, tz),
    )
    listing.date = channel_date or max((e.date for e in listing.entries), default=None)
    return listing
