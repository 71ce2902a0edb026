"""The site and feeds: stored papers -> week pages, archive, RSS/Atom (and theme feeds).

Input: the config, the store (papers already tagged), the output folder and
the run's date. Output: files written through :class:`~digest.output.Writer`
(atomically, only when changed) and a :class:`BuildReport`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from digest import feeds, render
from digest.config import FeedConfig
from digest.grouping import group_week
from digest.models import WeekDigest
from digest.output import Writer
from digest.store import Store
from digest.weeks import iso_week, midnight, week_bounds


@dataclass(slots=True)
class BuildReport:
    """What one build wrote."""

    weeks: list[str] = field(default_factory=list)
    """Every week in the archive."""
    written: list[str] = field(default_factory=list)
    """Files whose content changed."""
    unchanged: int = 0
    """Files left alone because they were already right."""


def feed_uid(cfg: FeedConfig, store: Store) -> str:
    """The feed's permanent id: chosen at the first build from the base URL, then kept
    in the store, so a later change of base_url or title never changes any GUID."""
    uid = store.meta("feed_uid")
    if not uid:
        uid = "urn:digest:" + hashlib.sha256(cfg.base_url.encode()).hexdigest()[:16]
        with store.transaction():
            store.set_meta("feed_uid", uid)
    return uid


def build(cfg: FeedConfig, store: Store, out: Path, today: dt.date) -> BuildReport:
    """Render every output for the papers in the store into ``out``."""
    writer = Writer(out)
    env = render.environment(cfg.templates)
    kinds = set(cfg.output.formats)
    weeks = store.weeks()
    if cfg.output.empty_weeks and weeks:
        weeks = _all_weeks(weeks[0], max(weeks[-1], iso_week(today)))
    digests = [group_week(w, store.papers(w), cfg.rules.section_names) for w in weeks]
    digests.sort(key=lambda d: d.week)
    common = {"feed": cfg, "today": today, "weeks": list(reversed(digests))}
    for digest in digests:
        ctx = {**common, "digest": digest}
        if "markdown" in kinds:
            writer.write(f"{digest.week}.md", render.render(env, "week.md", **ctx))
        if "html" in kinds:
            writer.write(f"{digest.week}.html", render.render(env, "week.html", **ctx))
    if "html" in kinds:
        writer.write("index.html", render.render(env, "index.html", **common))
    uid = feed_uid(cfg, store)
    recent = list(reversed(digests))[: cfg.output.feed_items]
    items = [_week_item(cfg, env, uid, d) for d in recent if d.count or cfg.output.empty_weeks]
    if "rss" in kinds:
        writer.write("rss.xml", feeds.rss(_meta(cfg, uid, "rss.xml"), items))
    if "atom" in kinds:
        writer.write("atom.xml", feeds.atom(_meta(cfg, uid, "atom.xml"), items))
    # A week is published once it has ended; its tags are frozen from then on.
    store.mark_published([d.week for d in digests if d.end < today], today)
    return BuildReport(
        weeks=[d.week for d in digests], written=writer.written, unchanged=len(writer.unchanged)
    )


def _meta(cfg: FeedConfig, uid: str, name: str) -> feeds.FeedMeta:
    return feeds.FeedMeta(
        title=cfg.title,
        description=cfg.description,
        id=uid,
        site_url=cfg.base_url,
        self_url=cfg.base_url + name,
        language=cfg.language,
        author=cfg.author,
    )


def _week_item(
    cfg: FeedConfig, env: render.Environment, uid: str, digest: WeekDigest
) -> feeds.FeedItem:
    content = render.render(env, "feed_item.html", feed=cfg, digest=digest)
    return feeds.FeedItem(
        id=f"{uid}:week:{digest.week}",
        title=f"{cfg.title}: {digest.week} ({render.plural(digest.count, 'paper')})",
        link=f"{cfg.base_url}{digest.week}.html",
        updated=midnight(digest.updated, cfg.timezone),
        content_html=content,
        summary=", ".join(f"{s.name} ({len(s.papers)})" for s in digest.sections)
        or "No new papers this week.",
    )


def _all_weeks(first: str, last: str) -> list[str]:
    monday, _ = week_bounds(first)
    end, _ = week_bounds(last)
    out = []
    while monday <= end:
        out.append(iso_week(monday))
        monday += dt.timedelta(days=7)
    return out
