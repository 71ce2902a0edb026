"""RSS 2.0 and Atom documents: the only module that imports feedgen.

Input: :class:`FeedItem` values (already rendered HTML content, stable ids,
dates that change only with the content) and :class:`FeedMeta`. Output: the
XML bytes of one RSS or Atom document.

feedgen stamps "now" into every feed and entry it creates and prepends
entries by default; here every date is set explicitly from the data and
entries are appended in the order given, so the same items always give the
same bytes. A feed without items is still a complete, valid document (its
date is :attr:`FeedMeta.updated`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from feedgen.feed import FeedGenerator

RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"


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


def _generator(meta: FeedMeta, items: Sequence[FeedItem], *, atom: bool) -> FeedGenerator:
    fg = FeedGenerator()
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
        fe.id(item.id)
        fe.guid(item.id, permalink=False)
        fe.title(item.title)
        fe.link(href=item.link, rel="alternate")
        fe.published(item.published)
        fe.updated(item.updated)
        if item.summary:
            fe.description(item.summary)
            fe.summary(item.summary)
        fe.content(item.content_html, type="html")
        for category in item.categories:
            fe.category(term=category)
    return fg


def rss(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    """An RSS 2.0 document of ``items`` (in the order given: newest first)."""
    data: bytes = _generator(meta, items, atom=False).rss_str(pretty=True)
    return data


def atom(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    """An Atom 1.0 document of ``items`` (in the order given: newest first)."""
    data: bytes = _generator(meta, items, atom=True).atom_str(pretty=True)
    return data
