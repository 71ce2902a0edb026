"""RSS 2.0 and Atom documents: the only module that imports feedgen.

Input: :class:`FeedItem` values (already rendered HTML content, stable ids,
dates that change only with the content) and :class:`FeedMeta`. Output: the
XML bytes of one RSS or Atom document.

feedgen stamps "now" into every feed and entry it creates and prepends
entries by default; here every date is set explicitly from the data and
entries are appended in the order given, so the same items always give the
same bytes. A feed without items is still a complete, valid document (its
date is :attr:`FeedMeta.updated`).

A document is also made of its items' entries (:func:`entries`: each item's XML,
as it stands in any document of that format) and the channel around them
(:func:`document`), so a caller that kept the entries of the items it showed
before (:func:`read_entries` takes them back out of a document) serializes only
the new ones: the bytes are those of :func:`rss` and :func:`atom`.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib.metadata import version

from feedgen.feed import FeedGenerator

from digest.outtext import clean

RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"

ENTRY_FORMAT = 3
"""Version of how this module makes an entry of an item (2: RSS description HTML-escaped,
text cleaned; 3: authors as Atom ``author`` and RSS ``dc:creator``): entries kept from
documents written by an older one are not reused."""

WRITER = f"digest entries {ENTRY_FORMAT}, feedgen {version('feedgen')}, lxml {version('lxml')}"
"""What serializes the documents: entries kept from a document written by another
version are not reused."""


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """Channel-level facts."""

    title: str
    description: str
    id: str
    """Stable feed id (an URN that never changes once chosen)."""
    site_url: str
    """Absolute URL of the page the feed belongs to."""
    self_url: str
    """Absolute URL of this feed document (rel=self)."""
    updated: dt.datetime
    """The feed's date when it has no items (aware); with items, the newest item's."""
    language: str = "en"
    author: str = "digest"


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One item: a weekly issue or one paper."""

    id: str
    """Stable GUID / Atom id."""
    title: str
    """Plain text (escaped by the XML writer, never HTML)."""
    link: str
    """Absolute URL of the item's page."""
    published: dt.datetime
    """When the item first appeared (aware); never changes."""
    updated: dt.datetime
    """When the content last changed (aware)."""
    content_html: str
    """The item's body as an HTML fragment (escaped once more, by the XML writer)."""
    summary: str = ""
    """Plain-text summary (RSS description, Atom summary)."""
    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    """Author names (Atom ``author``, RSS ``dc:creator``), when known."""


def _generator(meta: FeedMeta, items: Sequence[FeedItem], *, atom: bool) -> FeedGenerator:
    # Every string passes through clean() here, whatever made it (papers, feed.yaml, items
    # kept in the store by earlier builds): lxml refuses text that XML cannot hold.
    meta = _clean_meta(meta)
    fg = FeedGenerator()
    # Dublin Core for RSS only (dc:creator, the RSS way to name an author without an
    # email address); Atom has author elements of its own.
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(meta.id)
    fg.title(meta.title)
    fg.author({"name": meta.author})
    # feedgen takes the RSS <link> from the last link set: self first, then the site.
    fg.link(href=meta.self_url, rel="self", type=ATOM_TYPE if atom else RSS_TYPE)
    fg.link(href=meta.site_url, rel="alternate")
    fg.description(meta.description)
    fg.subtitle(meta.description)
    fg.language(meta.language)
    fg.generator("digest")
    newest = max((i.updated for i in items), default=meta.updated)
    fg.updated(newest)
    fg.lastBuildDate(newest)
    for item in items:
        fe = fg.add_entry(order="append")
        fe.id(clean(item.id))
        fe.guid(clean(item.id), permalink=False)
        fe.title(clean(item.title) or "(no title)")  # feedgen, and RSS, require one
        fe.link(href=clean(item.link), rel="alternate")
        if item.authors:
            names = [clean(a) for a in item.authors]
            if atom:
                fe.author([{"name": name} for name in names])
            else:
                fe.dc.dc_creator(names)
        fe.published(item.published)
        fe.updated(item.updated)
        if item.summary:
            summary = clean(item.summary)
            fe.summary(summary)  # Atom: type text, escaped once by the XML writer
            # RSS readers take <description> as HTML: the plain text is HTML-escaped
            # first (then once more by the XML writer), so "<b>" reads as "<b>".
            # Set after summary(), which would otherwise copy itself into it.
            fe.description(html.escape(summary, quote=False))
        fe.content(clean(item.content_html), type="html")
        if item.categories:
            # One call for all: each call re-derives the RSS categories of all before it.
            fe.category([{"term": clean(category)} for category in item.categories])
    return fg


def _clean_meta(meta: FeedMeta) -> FeedMeta:
    return replace(
        meta,
        title=clean(meta.title),
        description=clean(meta.description),
        id=clean(meta.id),
        site_url=clean(meta.site_url),
        self_url=clean(meta.self_url),
        language=clean(meta.language),
        author=clean(meta.author),
    )


def rss(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    """An RSS 2.0 document of ``items`` (in the order given: newest first)."""
    data: bytes = _generator(meta, items, atom=False).rss_str(pretty=True)
    return data


def atom(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    """An Atom 1.0 document of ``items`` (in the order given: newest first)."""
    data: bytes = _generator(meta, items, atom=True).atom_str(pretty=True)
    return data


# An entry is the lines of one <item> (RSS) or <entry> (Atom) element: pretty-printed
# at a fixed depth, each stands the same in any document of its format, and the
# channel's own elements all come before the first one. Neither marker line can occur
# inside an entry's text, where every "<" is escaped.
_OPEN = {False: b"    <item>\n", True: b"  <entry>\n"}
_CLOSE = {False: b"    </item>\n", True: b"  </entry>\n"}
_END = {False: b"  </channel>\n</rss>\n", True: b"</feed>\n"}

_NO_META = FeedMeta(
    "x", "x", "urn:x", "https://x/", "https://x/", dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
)
"""Channel of the throw-away documents that :func:`entries` cuts entries from."""


def entries(items: Sequence[FeedItem], *, atom: bool) -> list[bytes]:
    """The XML of each item's entry in an RSS (or ``atom``) document, in order."""
    if not items:
        return []
    cut = read_entries(_serialize(_NO_META, items, atom=atom), atom=atom)
    if cut is None or len(cut) != len(items):  # pragma: no cover - feedgen changed
        raise ValueError("feedgen wrote an unexpected document")
    return cut


def document(
    meta: FeedMeta, entries: Sequence[bytes], updated: Sequence[dt.datetime], *, atom: bool
) -> bytes:
    """The document of the items whose :func:`entries` are given (newest first), with
    ``updated`` the items' own updated dates: the same bytes as :func:`rss` (or
    :func:`atom`) of those items."""
    channel = replace(meta, updated=max(updated, default=meta.updated))
    empty = _serialize(channel, [], atom=atom)
    end = len(empty) - len(_END[atom])
    if not empty.endswith(_END[atom]):  # pragma: no cover - feedgen changed
        raise ValueError("feedgen wrote an unexpected document")
    return b"".join([empty[:end], *entries, empty[end:]])


def read_entries(document: bytes, *, atom: bool) -> list[bytes] | None:
    """The entries of a document this module wrote (None when it is not one)."""
    open_, close, end = _OPEN[atom], _CLOSE[atom], _END[atom]
    if not document.endswith(end):
        return None
    at = document.find(b"\n" + open_)
    if at < 0:
        return []
    at += 1
    out: list[bytes] = []
    stop = len(document) - len(end)
    while at < stop:
        if not document.startswith(open_, at):
            return None
        last = document.find(b"\n" + close, at)
        if last < 0:
            return None
        last += 1 + len(close)
        out.append(document[at:last])
        at = last
    return out if at == stop else None


def _serialize(meta: FeedMeta, items: Sequence[FeedItem], *, atom: bool) -> bytes:
    fg = _generator(meta, items, atom=atom)
    data: bytes = fg.atom_str(pretty=True) if atom else fg.rss_str(pretty=True)
    return data
