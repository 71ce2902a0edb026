"""Theme and tag pages: each theme's and each tag's papers across weeks, newest first.

Input: the config, the template environment, the links, the store (through the
:class:`~digest.site.record.BuildRecord`: each theme's and tag's version, and its
papers' ids with a version each, oldest first) and what the output folder's manifest
recorded of these pages. Output: the pages to write (``themes/SLUG.html``,
``tags/SLUG.html`` and their older pages) and what to record of them.

Pagination runs from the oldest paper: page k holds papers (k-1)*PAGE_SIZE+1 to
k*PAGE_SIZE in first-seen order, so a full page never changes while papers are only
added; the newest page (partly filled) is ``SLUG.html``, the older ones
``SLUG.K.html`` (a dot: slugs never hold one, so no theme's pages clash with
another's). Each page lists its papers newest first. A run that adds papers to a topic
renders its newest page, and, when that page fills up, the page that was newest
(renamed ``SLUG.K.html``) and the one before it (its "newer" link moves). A topic whose
version is as recorded is not read at all; one that changed is read as ids and
versions, and only the pages whose papers (or links) changed are rendered.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from digest import render
from digest.cards import tag_label, tag_slug
from digest.config import FeedConfig
from digest.editorial import EMPTY, Editorial
from digest.outtext import clean_paper
from digest.site.links import SiteLinks
from digest.site.manifest import fingerprint
from digest.site.record import BuildRecord, Listed

PAGE_SIZE = 50
"""Papers on each page of a theme or tag."""

TEMPLATE = "topic.html"


@dataclass(frozen=True, slots=True)
class Topic:
    """A theme or a tag, as its pages name it."""

    kind: str
    """``theme`` or ``tag``."""
    key: str
    """The theme's name or the tag, as stored."""
    name: str
    """What the page calls it (theme name, tag label)."""
    slug: str

    @property
    def record_key(self) -> str:
        """Its key in the manifest's record of theme and tag pages (``theme:NAME``)."""
        return f"{self.kind}:{self.key}"

    @property
    def folder(self) -> str:
        """``themes`` or ``tags``."""
        return self.kind + "s"

    def href(self, page: int, last: int) -> str:
        """The file of page ``page`` (1: the oldest) when ``last`` is the newest."""
        return f"{self.slug}.html" if page == last else f"{self.slug}.{page}.html"


_PAGE_FILE = re.compile(r"[a-z0-9][a-z0-9-]*(?:\.[0-9]+)?\.html")
"""The name of a theme or tag page (:meth:`Topic.href` of a slug)."""


def stale_pages(recorded: dict[str, Any], built: dict[str, Any]) -> list[str]:
    """The page files (relative to the output folder) that ``recorded`` (the manifest's
    topics, as the last build left them) names and ``built`` does not: the pages a topic
    no longer has (it lost papers) and every page of a topic gone (a tag no rule gives
    any more). Only names of this module's shape are returned, so a manifest edited by
    hand cannot name another file."""

    def files(topics: dict[str, Any]) -> set[str]:
        found: set[str] = set()
        for key, entry in topics.items():
            kind = str(key).partition(":")[0]
            pages = entry.get("pages") if isinstance(entry, dict) else None
            if kind not in ("theme", "tag") or not isinstance(pages, dict):
                continue
            found.update(
                f"{kind}s/{n}" for n in pages if isinstance(n, str) and _PAGE_FILE.fullmatch(n)
            )
        return found

    return sorted(files(recorded) - files(built))


def topic_list(cfg: FeedConfig, links: SiteLinks, record: BuildRecord) -> list[tuple[Topic, int]]:
    """Every configured theme and every tag in use, with its version (themes first)."""
    out: list[tuple[Topic, int]] = []
    themes = record.theme_versions()
    for slug, name in links.theme_names.items():
        if name in themes:
            out.append((Topic("theme", name, name, slug), themes[name]))
    labels = dict(cfg.reading.tag_labels)
    for tag, version in sorted(record.tag_versions().items()):
        out.append((Topic("tag", tag, labels.get(tag) or tag_label(tag), tag_slug(tag)), version))
    return out


def topic_pages(
    cfg: FeedConfig,
    env: render.Environment,
    links: SiteLinks,
    record: BuildRecord,
    out: Path,
    recorded: dict[str, Any],
    built: dict[str, Any],
    editorial: Editorial = EMPTY,
    *,
    render_fp: str = "",
) -> Iterator[tuple[str, bytes]]:
    """The theme and tag pages to write (relative path, UTF-8), those whose content
    changed since ``recorded`` (the manifest's ``topics``), or that ``out`` lacks.
    ``built`` is filled with what to record: topic key -> {version, pages: {file: fp}}.
    The curator's decisions apply: hidden papers are on no page, and a paper filed under
    another theme is on that theme's pages (any change to the decisions lists every
    topic again; only pages whose papers changed are rendered). Cards come from
    :class:`Cards` (``render_fp``: the build's render fingerprint)."""
    decided = fingerprint(sorted(editorial.themes.values())) if editorial.decisions else ""
    cards = Cards(cfg, env, links, record, render_fp)
    seq = record.topic_seq()
    changes = _changes(record, recorded)
    for topic, number in topic_list(cfg, links, record):
        version: int | str = f"{number} {decided}" if decided else number
        key = topic.record_key
        before = recorded.get(key)
        if not isinstance(before, dict):
            before = {}
        pages = before.get("pages")
        pages = pages if isinstance(pages, dict) else {}
        folder = out / topic.folder
        unchanged = before.get("version") == version and bool(pages)
        if unchanged and all((folder / name).is_file() for name in pages):
            built[key] = {**before, "seq": seq}  # nothing of it changed up to seq
            continue
        changed = changes.get(key, []) if isinstance(before.get("seq"), int) else None
        if changed is not None:
            changed = [k for k, n in changed if n > before["seq"]]
        layout = _listing(record, editorial, topic, before, changed, folder)
        if not layout.count:
            continue
        now: dict[str, str] = {}
        keys: list[list[str]] = []
        last = (layout.count + PAGE_SIZE - 1) // PAGE_SIZE
        for page in range(1, last + 1):
            name = topic.href(page, last)
            chunk = layout.pages.get(page)
            if chunk is None:  # as recorded (see _from_changes)
                now[name] = pages[name]
                keys.append(before["keys"][page - 1])
                continue
            keys.append([chunk[0][1], chunk[0][0]])
            newer = topic.href(page + 1, last) if page < last else ""
            older = topic.href(page - 1, last) if page > 1 else ""
            total = layout.count if page == last else 0
            parts = [topic.kind, topic.key, topic.name, name, newer, older, str(total)]
            now[name] = fingerprint([*parts, *(f"{i} {v}" for i, _, v in chunk)])
            if pages.get(name) == now[name] and (folder / name).is_file():
                continue
            text = render.render(
                env,
                TEMPLATE,
                feed=cfg,
                links=links,
                root="../",
                topic=topic,
                page=page,
                cards=cards.newest_first(chunk),
                newer=newer,
                older=older,
                total=total,
                tag_sections={},
            )
            yield f"{topic.folder}/{name}", text.encode("utf-8")
        built[key] = {
            "version": version,
            "pages": now,
            "count": layout.count,
            "keys": keys,
            "seq": seq,
            "page_size": PAGE_SIZE,
        }
    cards.flush()


class Cards:
    """Each paper's card on theme and tag pages (``paper.html``'s ``listed`` macro),
    rendered once and kept in the store, stamped with what it was rendered from (the
    paper as a topic page shows it, and the build's render fingerprint: templates and
    settings). A paper on twenty pages is rendered once, not twenty times, in this build
    and in every later one until it or the templates change; its row is read and used
    only when its stamp matches."""

    def __init__(
        self,
        cfg: FeedConfig,
        env: render.Environment,
        links: SiteLinks,
        record: BuildRecord,
        render_fp: str,
    ) -> None:
        context = {"feed": cfg, "links": links, "root": "../", "tag_sections": {}}
        self.listed = render.macro(env, "paper.html", "listed", **context)
        self.record = record
        self.salt = f"{render_fp}\n".encode()
        self.pending: dict[str, tuple[bytes, bytes]] = {}
        """Cards rendered and not yet kept: paper id -> (stamp, compressed card)."""
        self.rendered = 0
        """Cards rendered by this build (the others were kept)."""

    def stamp(self, version: str) -> bytes:
        """What a card of a paper of ``version`` was rendered from, in 16 bytes."""
        return hashlib.blake2b(self.salt + version.encode("utf-8"), digest_size=16).digest()

    def newest_first(self, chunk: Sequence[Listed]) -> list[Markup]:
        """The cards of ``chunk`` (oldest first), newest first."""
        stamps = {i: self.stamp(v) for i, _, v in chunk}
        ids = [i for i, _, _ in reversed(chunk)]
        kept = {i: self.pending[i] for i in ids if i in self.pending}
        kept.update(self.record.topic_cards([i for i in ids if i not in kept]))
        html = {
            i: zlib.decompress(card).decode("utf-8")
            for i, (stamp, card) in kept.items()
            if stamp == stamps[i]
        }
        missing = [i for i in ids if i not in html]
        for paper in self.record.papers(missing) if missing else ():
            html[paper.id] = text = str(self.listed(clean_paper(paper)))
            self.pending[paper.id] = (stamps[paper.id], zlib.compress(text.encode("utf-8")))
            self.rendered += 1
        if len(self.pending) >= KEEP_EVERY:
            self.flush()
        return [Markup(html[i]) for i in ids if i in html]

    def flush(self) -> None:
        """Keep the cards rendered since the last flush."""
        if self.pending:
            self.record.keep_topic_cards([(i, s, c) for i, (s, c) in self.pending.items()])
            self.pending = {}


KEEP_EVERY = 2000
"""Cards rendered between two writes of them to the store."""


def _changes(record: BuildRecord, recorded: dict[str, Any]) -> dict[str, list[Any]]:
    """Topic key -> ((first seen, id), seq) of its papers changed after the change the
    oldest recorded topic was built at (``paper.seq``); empty when none recorded one."""
    seqs = [t["seq"] for t in recorded.values() if isinstance(t, dict) and "seq" in t]
    if not seqs or not all(isinstance(n, int) for n in seqs):
        return {}
    out: dict[str, list[Any]] = {}
    for topic, first_seen, pid, seq in record.changed_since(min(seqs)):
        out.setdefault(topic, []).append(((first_seen, pid), seq))
    return out


@dataclass(frozen=True, slots=True)
class Layout:
    """A topic's papers as a run reads them."""

    count: int
    """How many papers the topic has."""
    pages: dict[int, list[Listed]]
    """Page number (1: the oldest) -> its papers, oldest first: the pages that may have
    changed; the others are as the last build recorded them."""


def _listing(
    record: BuildRecord,
    editorial: Editorial,
    topic: Topic,
    before: dict[str, Any],
    changed: list[tuple[str, str]] | None,
    folder: Path,
) -> Layout:
    """The pages of ``topic`` that changes since the build ``before`` records can have
    touched (:func:`_from_changes`), or, when that cannot be told, all of them, with
    the papers as the curator decided."""
    if changed and not editorial.decisions and isinstance(before.get("version"), int):
        got = _from_changes(record, topic, before, changed, folder)
        if got is not None:
            return got
    read = record.theme_papers if topic.kind == "theme" else record.tag_papers
    listing = read(topic.key)
    if editorial.decisions:
        listing = _curated(record, editorial, topic, listing)
    pages = range(1, (len(listing) + PAGE_SIZE - 1) // PAGE_SIZE + 1)
    return Layout(len(listing), {p: listing[(p - 1) * PAGE_SIZE : p * PAGE_SIZE] for p in pages})


def _from_changes(
    record: BuildRecord,
    topic: Topic,
    before: dict[str, Any],
    changed: list[tuple[str, str]],
    folder: Path,
) -> Layout | None:
    """The pages of ``topic`` that its papers added or changed since the build
    ``before`` records (``changed``: their first seen and id) can have touched: the
    pages holding one of them, read by their recorded key ranges, and the newest two
    pages and any after them (the page before the newest links to the newer one).

    The other pages are as recorded when nothing was removed from them: every paper
    added, changed or moved into the topic since has a newer ``seq``, so it is in
    ``changed`` and its page is read, and is checked to hold a full page of papers; a
    removal shows as fewer papers before the newest two pages than recorded. None (read
    the whole topic) when a change is before the first page or the record is not one
    of this page size (or of a curated build), an older page's file is missing, or
    the topic shrank to fewer than the two newest pages (the links of the page before
    them move)."""
    count, keys, pages = before.get("count"), before.get("keys"), before.get("pages")
    if not (
        isinstance(count, int)
        and isinstance(pages, dict)
        and before.get("page_size") == PAGE_SIZE
        and isinstance(keys, list)
        and len(keys) == (count + PAGE_SIZE - 1) // PAGE_SIZE
        and all(isinstance(k, list) and len(k) == 2 for k in keys)
    ):
        return None
    firsts = [(str(k[0]), str(k[1])) for k in keys]
    tail = max(1, len(firsts) - 1)
    if tail == 1 or min(changed) < firsts[0]:
        return None
    for older in range(1, tail):
        name = f"{topic.slug}.{older}.html"
        if name not in pages or not (folder / name).is_file():
            return None
    if record.count_before(topic.kind, topic.key, firsts[tail - 1]) != (tail - 1) * PAGE_SIZE:
        return None
    read = record.theme_papers if topic.kind == "theme" else record.tag_papers
    out: dict[int, list[Listed]] = {}
    for page in sorted({bisect.bisect_right(firsts, c) for c in changed}):
        if page >= tail:
            break
        rows = read(topic.key, firsts[page - 1], firsts[page])
        if len(rows) != PAGE_SIZE:
            return None
        out[page] = rows
    rows = read(topic.key, firsts[tail - 1])
    if len(rows) <= PAGE_SIZE:  # page `tail` would be the newest: page tail-1's links move
        return None
    for page in range(tail, tail + (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE):
        out[page] = rows[(page - tail) * PAGE_SIZE : (page - tail + 1) * PAGE_SIZE]
    return Layout((tail - 1) * PAGE_SIZE + len(rows), out)


def _curated(
    record: BuildRecord, editorial: Editorial, topic: Topic, listing: list[Listed]
) -> list[Listed]:
    """``listing`` (oldest first) as the curator decided it: hidden papers out; on a
    theme's pages, papers filed elsewhere out and those filed here in."""
    decisions = editorial.decisions
    if topic.kind == "tag":
        return [r for r in listing if not (r[0] in decisions and decisions[r[0]].hide)]
    shown = [r for r in listing if not editorial.out_of(topic.key, r[0])]
    moved = record.shown(editorial.moved_in.get(topic.key, ()))
    if not moved:
        return shown
    merged = {r[0]: r for r in [*shown, *moved]}
    return sorted(merged.values(), key=lambda r: (r[1], r[0]))
