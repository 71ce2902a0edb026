"""Feed documents: the weekly issues and each theme's newest papers -> RSS and Atom.

Input: the config, the template environment, the issues to show (:class:`ItemSource`,
newest first), the store through the :class:`~digest.site.record.BuildRecord`, the
links, the run's date, the documents written before (:class:`PreviousDocuments`) and
the themes whose papers did not change. Output: one :class:`FeedDocument` per feed
link.

Entry reuse: the manifest records each entry's key (the item's id, what its content
is made from, and its stored dates), so an entry still in the document written
before is taken from it as it is, and only new or changed items are made and
serialized again; the bytes are those of a build from scratch. The documents written
before are that cache, kept in the output folder on purpose (not in the store): an
entry is taken from one only while its SHA-256 is the one the manifest recorded, so
a document edited or lost since is simply made again; the items' dates it depends on
are the store's (``feed_item``, read through the record). A theme none of whose papers
changed keeps its documents as the manifest recorded them, unread: with hundreds of
themes, a run reads and writes the feeds of the themes it touched, not all of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from digest import feeds, render
from digest.config import FeedConfig
from digest.editorial import EMPTY, Editorial
from digest.grouping import group_week
from digest.models import Paper, WeekSummary
from digest.outtext import clean_paper
from digest.site import items as item_makers
from digest.site.items import Draft, dated, dates_key, draft_from_json, stored_updated, week_item_id
from digest.site.links import FeedLink, SiteLinks
from digest.site.manifest import fingerprint, sha256
from digest.site.record import BuildRecord
from digest.store import ItemDates, WeekState
from digest.weeks import midnight


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """One feed document, as :func:`feed_documents` made it."""

    href: str
    """Path relative to the site root."""
    data: bytes
    """The document."""
    key: str
    """Fingerprint of everything in it (its channel and :attr:`entries`)."""
    entries: tuple[str, ...]
    """The key of each item's entry (see :class:`Items`), in order."""
    sha256: str = ""
    """SHA-256 of :attr:`data`, when known already."""
    source: str = ""
    """Fingerprint of the store's state it was made from, when that alone says it is
    unchanged (a theme feed: the theme's version)."""
    kept: bool = False
    """The document in the output folder is this one already: :attr:`data` is not read
    (empty), and nothing is to be written."""

    def manifest(self) -> dict[str, Any]:
        """What the manifest keeps of it, to take its entries back (:class:`PreviousDocuments`)."""
        sha = self.sha256 or sha256(self.data)
        found = {"sha256": sha, "key": self.key, "entries": list(self.entries)}
        return found | {"source": self.source} if self.source else found


class PreviousDocuments:
    """The feed documents written before, as the manifest recorded them: read from the
    output folder only when a document is made again, one at a time (a run that remakes
    a few of a thousand theme feeds reads those few)."""

    def __init__(self, out: Path | None = None, recorded: dict[str, Any] | None = None) -> None:
        self.out = out
        self.recorded = recorded or {}

    def record(self, href: str) -> tuple[str, tuple[str, ...], str] | None:
        """(key, entry keys, SHA-256) the manifest recorded for ``href``, when well formed."""
        record = self.recorded.get(href)
        if not isinstance(record, dict):
            return None
        keys, key, sha = record.get("entries"), record.get("key"), record.get("sha256")
        if not isinstance(keys, list) or not isinstance(key, str) or not isinstance(sha, str):
            return None
        return key, tuple(str(k) for k in keys), sha

    def kept(self, href: str, source: str) -> FeedDocument | None:
        """The document at ``href`` as recorded, without reading it, when the manifest
        says it was made from ``source`` (the same state of the store) and the file is
        there. Its bytes are not checked (that would read it): a kept document edited
        by hand stays as it is until its theme changes or ``--rebuild``."""
        found = self.record(href)
        if found is None or self.out is None or self.recorded[href].get("source") != source:
            return None
        if not (self.out / href).is_file():
            return None
        key, keys, sha = found
        return FeedDocument(href, b"", key, keys, sha, source, kept=True)

    def load(self, href: str, *, atom: bool) -> tuple[str, bytes, str, dict[str, bytes]] | None:
        """(key, bytes, SHA-256, entry key -> entry XML) of the document at ``href`` when
        it is as the manifest recorded it (same bytes); None for a document edited or
        lost since, which is then made again."""
        found = self.record(href)
        if found is None or self.out is None:
            return None
        key, keys, sha = found
        try:
            data = (self.out / href).read_bytes()
        except OSError:
            return None
        if sha256(data) != sha:
            return None
        entries = feeds.read_entries(data, atom=atom)
        if entries is None or len(entries) != len(keys):
            return None
        return key, data, sha, dict(zip(keys, entries, strict=True))


@dataclass(frozen=True, slots=True)
class ItemSource:
    """A feed item before it is made: its id, what it is made from, and how to make it."""

    id: str
    """The item's id (GUID)."""
    version: str
    """Changes whenever anything its content is made from does (the render fingerprint
    aside: a new one discards every kept entry)."""
    make: Callable[[], Draft]
    """Makes the item (reading the store, rendering its content)."""


def issue_sources(
    cfg: FeedConfig,
    env: render.Environment,
    record: BuildRecord,
    uid: str,
    weeks: Sequence[str],
    states: dict[str, WeekState],
    summaries: dict[str, WeekSummary],
) -> list[ItemSource]:
    """The weekly issues a site feed shows, newest first (at most ``feed_items``)."""
    names = cfg.rules.section_names
    issues: list[ItemSource] = []
    for week in reversed(weeks):
        summary = summaries.get(week)
        if summary is None and not cfg.output.empty_weeks:
            continue
        item_id = week_item_id(uid, week)
        if week in states and summary is not None:
            # A stored issue is made from the week's digest: its hash and counts say
            # when it changed.
            version = f"{states[week].hash}\x1f{states[week].summary}"
            make = partial(_stored_issue, record, item_id)
        else:
            version = "no papers"
            make = partial(item_makers.week_item, cfg, env, uid, group_week(week, [], names))
        issues.append(ItemSource(item_id, version, make))
        if len(issues) == cfg.output.feed_items:
            break
    return issues


def feed_documents(
    cfg: FeedConfig,
    env: render.Environment,
    record: BuildRecord,
    issues: Sequence[ItemSource],
    links: SiteLinks,
    today: dt.date,
    before: PreviousDocuments | None = None,
    editorial: Editorial = EMPTY,
) -> Iterator[FeedDocument]:
    """Every feed document, one at a time: the weekly issues given (newest first), and
    per theme its newest ``theme_feed_items`` papers.

    An item whose entry is in ``before`` (same item, same version, same dates) is taken
    from there without being made, and a document whose entries and channel are all
    as they were is taken whole: the cost follows what changed, the bytes do not. A
    theme's documents made from the theme's version the store holds now (none of its
    papers changed since) are taken as recorded, without reading them or its papers.
    The curator's decisions that hide a paper or file it under another theme apply
    (:func:`curated_versions`), and are part of what a theme's documents are made from."""
    before = before or PreviousDocuments()
    uid = record.feed_uid(cfg.base_url)
    epoch = midnight(record.feed_epoch(today), cfg.timezone)
    now = midnight(today, cfg.timezone)
    items = Items(record, now, issues)
    for link in links.site:
        meta = _meta(cfg, uid, cfg.title, cfg.description, link.href, epoch)
        yield _document(link, meta, items, before)
    theme_versions = record.theme_versions() if links.themes else {}
    for slug, theme_links in links.themes.items():
        name = links.theme_names[slug]
        curated = editorial.themes.get(name, "")  # absent: the source is as before
        parts = [uid, str(epoch), name, str(theme_versions.get(name, 0))]
        if editorial.moved_in.get(name):
            # Papers filed here by the curator are stored under their own themes: a
            # change to any of them moves its theme's version, not this one's.
            parts.append(repr(sorted(theme_versions.items())))
        source = fingerprint([*parts, curated] if curated else parts)
        kept = [before.kept(link.href, source) for link in theme_links]
        if all(doc is not None for doc in kept):
            yield from (doc for doc in kept if doc is not None)
            continue
        versions = record.newest_versions(name, cfg.output.theme_feed_items)
        if curated:
            versions = curated_versions(record, editorial, name, cfg.output.theme_feed_items)
        papers = PaperLoader(cfg, env, record, uid, name)
        sources = [
            ItemSource(f"{uid}:paper:{i}", name + "\x1f" + version, partial(papers.item, i))
            for i, version in versions.items()
        ]
        items = Items(record, now, sources, papers.load)
        description = f"New papers on {name}, one item per paper."
        for link in theme_links:
            meta = _meta(
                cfg, f"{uid}:theme:{slug}", f"{cfg.title}: {name}", description, link.href, epoch
            )
            yield replace(_document(link, meta, items, before), source=source)


def curated_versions(
    record: BuildRecord, editorial: Editorial, theme: str, limit: int
) -> dict[str, str]:
    """The ``limit`` newest papers of a theme as the curator decided it (hidden papers and
    those filed elsewhere out, those filed under it in), newest first, each with its
    version (see :meth:`~digest.site.record.BuildRecord.newest_versions`)."""
    stored = record.newest_versions(theme, limit + len(editorial.decisions))
    versions = {i: v for i, v in stored.items() if not editorial.out_of(theme, i)}
    for paper in record.papers(editorial.moved_in.get(theme, ())):
        parts = (paper.first_seen, paper.title, paper.abstract, paper.url, paper.authors)
        links = tuple(sorted(paper.links.items()))
        versions[paper.id] = repr(("filed here", *parts, paper.tags, links))
    papers = record.papers(list(versions))
    newest = sorted(papers, key=lambda p: (p.first_seen, p.id), reverse=True)[:limit]
    return {p.id: versions[p.id] for p in newest}


class Items:
    """The items of a feed's documents (its RSS and its Atom), each made and dated only
    when a document needs an entry that ``before`` does not hold.

    An item's key is the fingerprint of its id, its :attr:`ItemSource.version` and its
    dates as the store keeps them (:func:`~digest.site.items.item_dates`): while these
    stay, making the item again would give the same content, hence the same
    fingerprint, hence the same dates, and so the same entry."""

    def __init__(
        self,
        record: BuildRecord,
        now: dt.datetime,
        sources: Sequence[ItemSource],
        prepare: Callable[[Sequence[str]], None] | None = None,
    ) -> None:
        self.record = record
        self.now = now
        self.sources = sources
        self._prepare = prepare
        stored = record.item_dates([s.id for s in sources])
        self.keys = [self._key(s, stored.get(s.id)) for s in sources]
        """Each item's key."""
        self.updated = [stored_updated(stored.get(s.id)) for s in sources]
        """Each item's updated date, from its stored dates (None while it has none)."""
        self._made: dict[int, feeds.FeedItem] = {}

    def make(self, indexes: Sequence[int]) -> list[feeds.FeedItem]:
        """The items at ``indexes``, made and dated (their keys and dates brought up to date)."""
        todo = [i for i in indexes if i not in self._made]
        if todo and self._prepare is not None:
            self._prepare([self.sources[i].id for i in todo])
        for i in todo:
            item = dated(self.record, self.sources[i].make(), self.now)
            self._made[i] = item
            dates = self.record.item_dates([item.id]).get(item.id)
            self.keys[i] = self._key(self.sources[i], dates)
            self.updated[i] = item.updated
        return [self._made[i] for i in indexes]

    @staticmethod
    def _key(source: ItemSource, dates: ItemDates | None) -> str:
        return fingerprint([source.id, source.version, dates_key(dates)])


class PaperLoader:
    """Makes the items of one theme's papers, loading those asked for in one query."""

    def __init__(
        self, cfg: FeedConfig, env: render.Environment, record: BuildRecord, uid: str, theme: str
    ) -> None:
        self.cfg, self.env, self.record, self.uid, self.theme = cfg, env, record, uid, theme
        self._papers: dict[str, Paper] = {}

    def load(self, item_ids: Sequence[str]) -> None:
        """Load the papers of these items (ids ``UID:paper:ID``) before they are made."""
        ids = [i.rsplit(":", 1)[1] for i in item_ids]
        self._papers.update((p.id, clean_paper(p)) for p in self.record.papers(ids))

    def item(self, paper_id: str) -> Draft:
        """The item of one paper (loaded by :meth:`load`)."""
        if paper_id not in self._papers:
            found = self.record.papers([paper_id])
            self._papers.update((p.id, clean_paper(p)) for p in found)
        paper = self._papers[paper_id]
        return item_makers.paper_item(self.cfg, self.env, self.uid, paper, self.theme)


def _document(
    link: FeedLink, meta: feeds.FeedMeta, items: Items, before: PreviousDocuments
) -> FeedDocument:
    """One feed document of ``items``: taken whole from ``before`` when all in it is as
    it was; else made of the entries ``before`` holds and the entries of the items made
    now."""
    atom = link.type == feeds.ATOM_TYPE
    fmt = [feeds.WRITER, link.type]
    channel = [
        meta.title,
        meta.description,
        meta.id,
        meta.site_url,
        meta.self_url,
        meta.updated.isoformat(),
        meta.language,
        meta.author,
    ]
    keys = [fingerprint([*fmt, key]) for key in items.keys]
    key = fingerprint([*fmt, *channel, *keys])
    old = before.load(link.href, atom=atom)
    if old is not None and old[0] == key:
        return FeedDocument(link.href, old[1], key, tuple(keys), old[2])
    kept = old[3] if old is not None else {}
    entries: list[bytes | None] = [kept.get(k) for k in keys]
    todo = [i for i, entry in enumerate(entries) if entry is None]
    if todo:
        made = items.make(todo)
        for i, entry in zip(todo, feeds.entries(made, atom=atom), strict=True):
            entries[i] = entry
            keys[i] = fingerprint([*fmt, items.keys[i]])
        key = fingerprint([*fmt, *channel, *keys])
    updated = [u for u in items.updated if u is not None]
    data = feeds.document(meta, [e for e in entries if e is not None], updated, atom=atom)
    return FeedDocument(link.href, data, key, tuple(keys))


def _stored_issue(record: BuildRecord, item_id: str) -> Draft:
    """A week's issue as the store keeps it (or as this build recorded it)."""
    return draft_from_json(record.draft(item_id))


def _meta(
    cfg: FeedConfig, uid: str, title: str, description: str, href: str, epoch: dt.datetime
) -> feeds.FeedMeta:
    return feeds.FeedMeta(
        title=title,
        description=description,
        id=uid,
        site_url=cfg.base_url,
        self_url=cfg.base_url + href,
        updated=epoch,
        language=cfg.language,
        author=cfg.author,
    )
