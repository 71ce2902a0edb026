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

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digest import render
from digest.cards import tag_label, tag_slug
from digest.config import FeedConfig
from digest.editorial import EMPTY, Editorial
from digest.outtext import clean_paper
from digest.site.links import SiteLinks
from digest.site.manifest import fingerprint
from digest.site.record import BuildRecord

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
    def folder(self) -> str:
        """``themes`` or ``tags``."""
        return self.kind + "s"

    def href(self, page: int, last: int) -> str:
        """The file of page ``page`` (1: the oldest) when ``last`` is the newest."""
        return f"{self.slug}.html" if page == last else f"{self.slug}.{page}.html"


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
) -> Iterator[tuple[str, bytes]]:
    """The theme and tag pages to write (relative path, UTF-8), those whose content
    changed since ``recorded`` (the manifest's ``topics``), or that ``out`` lacks.
    ``built`` is filled with what to record: topic key -> {version, pages: {file: fp}}.
    The curator's decisions apply: hidden papers are on no page, and a paper filed under
    another theme is on that theme's pages (any change to the decisions lists every
    topic again; only pages whose papers changed are rendered)."""
    decided = fingerprint(sorted(editorial.themes.values())) if editorial.decisions else ""
    for topic, number in topic_list(cfg, links, record):
        version: int | str = f"{number} {decided}" if decided else number
        key = f"{topic.kind}:{topic.key}"
        before = recorded.get(key)
        if not isinstance(before, dict):
            before = {}
        pages = before.get("pages")
        pages = pages if isinstance(pages, dict) else {}
        folder = out / topic.folder
        unchanged = before.get("version") == version and bool(pages)
        if unchanged and all((folder / name).is_file() for name in pages):
            built[key] = before
            continue
        listing = (
            record.theme_papers(topic.key)
            if topic.kind == "theme"
            else record.tag_papers(topic.key)
        )
        if editorial.decisions:
            listing = _curated(record, editorial, topic, listing)
        if not listing:
            continue
        now: dict[str, str] = {}
        last = (len(listing) + PAGE_SIZE - 1) // PAGE_SIZE
        for page in range(1, last + 1):
            chunk = listing[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
            name = topic.href(page, last)
            newer = topic.href(page + 1, last) if page < last else ""
            older = topic.href(page - 1, last) if page > 1 else ""
            total = len(listing) if page == last else 0
            parts = [topic.kind, topic.key, topic.name, name, newer, older, str(total)]
            now[name] = fingerprint([*parts, *(f"{i} {v}" for i, v in chunk)])
            if pages.get(name) == now[name] and (folder / name).is_file():
                continue
            papers = record.papers([i for i, _ in chunk])
            papers.sort(key=lambda p: (p.first_seen, p.id), reverse=True)
            text = render.render(
                env,
                TEMPLATE,
                feed=cfg,
                links=links,
                root="../",
                topic=topic,
                page=page,
                papers=[clean_paper(p) for p in papers],
                newer=newer,
                older=older,
                total=total,
                tag_sections={},
            )
            yield f"{topic.folder}/{name}", text.encode("utf-8")
        built[key] = {"version": version, "pages": now}


def _curated(
    record: BuildRecord, editorial: Editorial, topic: Topic, listing: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """``listing`` (id, version; oldest first) as the curator decided it: hidden papers
    out; on a theme's pages, papers filed elsewhere out and those filed here in."""
    decisions = editorial.decisions
    if topic.kind == "tag":
        return [(i, v) for i, v in listing if not (i in decisions and decisions[i].hide)]
    shown = [(i, v) for i, v in listing if not editorial.out_of(topic.key, i)]
    moved = record.papers(editorial.moved_in.get(topic.key, ()))
    if not moved:
        return shown
    # Versions are the repr of the _SHOWN columns: the first seen date is the second.
    dated = [(str(ast.literal_eval(v)[1]), i, v) for i, v in shown]
    for p in moved:
        version = repr(("filed here", p.first_seen, p.title, p.abstract, p.url, p.tags))
        dated.append((p.first_seen.isoformat(), p.id, version))
    return [(i, v) for _, i, v in sorted(dated)]
