"""The site and feeds: stored papers -> week pages, archive, RSS/Atom and theme feeds.

Input: the config, the store (papers already tagged), the output folder and
the run's date. Output: files written through :class:`~digest.output.Writer`
(atomically, only when changed) and a :class:`BuildReport`.

The build gathers first and writes last (Pelican's order): every week's
digest, then each week's files (:func:`render_week`, which depends only on
that week and the few weeks before it, for the trend chart), the archive,
and the feeds. Feed ids come from :func:`feed_uid`, kept in the store, and
each item's dates from :func:`item_dates`, also kept there, so an item's
dates move only when its content does and a new week never touches an older
item.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digest import __version__, feeds, render
from digest.config import FeedConfig
from digest.grouping import (
    Trends,
    group_week,
    summarize,
    summarize_counts,
    summary_from_json,
    summary_to_json,
    theme_slugs,
    trends,
)
from digest.models import Paper, WeekDigest
from digest.output import Writer
from digest.store import Store, WeekState
from digest.weeks import iso_week, midnight, week_bounds

TREND_WEEKS = 8
"""Weeks shown in a week page's chart (the page's own and the ones before it)."""


@dataclass(slots=True)
class BuildReport:
    """What one build wrote."""

    weeks: list[str] = field(default_factory=list)
    """Every week in the archive."""
    written: list[str] = field(default_factory=list)
    """Files whose content changed."""
    unchanged: int = 0
    """Files left alone because they were already right."""
    rebuilt: list[str] = field(default_factory=list)
    """Weeks whose pages were rendered in this run."""


@dataclass(frozen=True, slots=True)
class FeedLink:
    """One feed document as pages link to it."""

    href: str
    """Path relative to the site root (``rss.xml``, ``themes/inference.atom``)."""
    type: str
    """Media type (``application/rss+xml`` or ``application/atom+xml``)."""
    label: str
    """``RSS`` or ``Atom``."""
    title: str
    """Feed title, for ``<link rel=alternate title=...>``."""


@dataclass(frozen=True, slots=True)
class SiteLinks:
    """Every feed of the site, for the pages' links."""

    site: tuple[FeedLink, ...]
    """The weekly-issue feeds."""
    themes: dict[str, tuple[FeedLink, ...]]
    """Section slug -> that theme's feeds (empty without ``theme_feeds``)."""
    theme_names: dict[str, str]
    """Section slug -> theme name, in configured order."""

    @property
    def all(self) -> list[FeedLink]:
        """Site feeds first, then every theme feed."""
        return [*self.site, *(link for links in self.themes.values() for link in links)]


STALE = "+stale"
"""Suffix of a published week's hash whose page was kept although its papers changed."""

MANIFEST = ".digest-manifest.json"
"""What was rendered into an output folder: the render fingerprint and each week's hash."""


def build(cfg: FeedConfig, store: Store, out: Path, today: dt.date) -> BuildReport:
    """Bring every output in ``out`` up to date with the store, rendering only what changed.

    Cost grows with the weeks that changed, not with the history: a week's
    papers are loaded only when they changed (or when its page is missing from
    ``out``), and the archive, charts and feeds are drawn from per-week
    summaries and feed items kept in the store. What counts as up to date is
    judged against ``out`` itself (its manifest and files), so a new or emptied
    output folder gets every file.
    """
    writer = Writer(out)
    env = render.environment(cfg.templates)
    links = site_links(cfg)
    names = cfg.rules.section_names
    fingerprint = render_fingerprint(cfg)
    manifest = _read_manifest(out)
    fresh = manifest.get("render") != fingerprint
    done: dict[str, Any] = {} if fresh else dict(manifest.get("weeks", {}))

    # 1-2. Week by week, oldest first, holding one week's papers at a time: bring the
    # stored digest state of a changed week up to date (hash, counts, feed item), then
    # render its pages if they need it. A page needs rendering when it is missing or its
    # content changed; once published, only when its papers or their themes changed (a
    # later sighting or a new version of an old paper does not rewrite a published page;
    # --rebuild does). A change of counts also redraws the charts of the weeks after it.
    uid = feed_uid(cfg, store)
    published = set(store.published_weeks())
    states = {s.week: s for s in store.week_states()}
    summaries = {w: summary_from_json(w, s.summary) for w, s in states.items() if s.summary != "[]"}
    candidates = _weeks(cfg, sorted(states), today)
    weeks: list[str] = []
    now: dict[str, list[str]] = {}
    affected: list[str] = []
    recounted: list[str] = []
    for week in candidates:
        digest: WeekDigest | None = None
        state = states.get(week)
        if state is not None and state.dirty and not fresh and week in published:
            # A published week changed: if its counts did not, its page stays as it is,
            # and nothing more needs loading (the hash is marked stale for --rebuild).
            counts = summary_to_json(summarize_counts(week, store.week_theme_counts(week), names))
            if counts == state.summary:
                kept = state.hash if state.hash.endswith(STALE) else state.hash + STALE
                with store.transaction():
                    store.set_week_state(week, kept, counts, None)
                state = states[week] = WeekState(week, False, kept, counts)
        if state is not None and (
            state.dirty or fresh or (state.hash.endswith(STALE) and week not in published)
        ):
            digest = group_week(week, store.papers(week), names)
            counts = summary_to_json(summarize(digest))
            frozen = week in published and counts == state.summary and not fresh
            item = None if frozen else _draft_to_json(_week_item(cfg, env, uid, digest))
            with store.transaction():
                store.set_week_state(week, _digest_hash(digest), counts, item)
            state = states[week] = WeekState(week, False, _digest_hash(digest), counts)
            if counts == "[]":
                summaries.pop(week, None)
            else:
                summaries[week] = summary_from_json(week, counts)
        if week not in summaries and not cfg.output.empty_weeks:
            continue
        weeks.append(week)
        now[week] = (
            [state.hash, _fingerprint([state.summary])]
            if state is not None and week in summaries
            else ["empty", "empty"]
        )
        before = done.get(week)
        if not isinstance(before, list) or len(before) != 2:
            before = None
        missing = any(not (out / f).is_file() for f in week_files(cfg, week))
        if before is None or missing or before[1] != now[week][1]:
            recounted.append(week)
            render_it = True
        else:
            render_it = (before[0] != now[week][0] and week not in published) or any(
                0 < _weeks_between(c, week) < TREND_WEEKS for c in recounted
            )
        if render_it:
            if digest is None:
                digest = group_week(week, store.papers(week), names)
            trend = trends(summaries, week, names, TREND_WEEKS)
            for relpath, text in render_week(env, cfg, digest, trend, links).items():
                writer.write(relpath, text)
            affected.append(week)
    rendered = {w: now[w] if w in affected else done.get(w, now[w]) for w in weeks}

    # 3. The archive and the feeds, from summaries and stored feed items.
    kinds = set(cfg.output.formats)
    stale = bool(affected) or set(done) != set(weeks)
    if "html" in kinds and (stale or not (out / "index.html").is_file()):
        archive = [summaries.get(w) or summary_from_json(w, "[]") for w in reversed(weeks)]
        writer.write(
            "index.html", render.render(env, "index.html", feed=cfg, weeks=archive, links=links)
        )
    documents = [link.href for link in links.all]
    if stale or any(not (out / href).is_file() for href in documents):
        drafts = []
        for week in reversed(weeks):
            summary = summaries.get(week)
            if summary is None and not cfg.output.empty_weeks:
                continue
            if week in states and summary is not None:
                drafts.append(_draft_from_json(store.week_item(week)))
            else:
                empty = group_week(week, [], names)
                drafts.append(_week_item(cfg, env, uid, empty))
            if len(drafts) == cfg.output.feed_items:
                break
        for relpath, data in feed_documents(cfg, env, store, drafts, links, today):
            writer.write(relpath, data)

    # 4. A week is published once it has ended; its tags are frozen from then on.
    store.mark_published([w for w in weeks if week_bounds(w)[1] < today and w in summaries], today)
    if writer.written or fresh or done != rendered:
        writer.write(MANIFEST, json.dumps({"render": fingerprint, "weeks": rendered}, indent=1))
    return BuildReport(
        weeks=weeks,
        written=[w for w in writer.written if w != MANIFEST],
        unchanged=len(writer.unchanged),
        rebuilt=affected,
    )


def week_files(cfg: FeedConfig, week: str) -> list[str]:
    """The files a week's page is written to."""
    kinds = set(cfg.output.formats)
    return [
        f for f, kind in ((f"{week}.md", "markdown"), (f"{week}.html", "html")) if kind in kinds
    ]


def render_fingerprint(cfg: FeedConfig) -> str:
    """Changes whenever anything that shapes the rendered files does: the templates
    (defaults and overrides), the presentation settings and the theme list."""
    parts = [
        __version__,
        cfg.title,
        cfg.description,
        cfg.base_url,
        cfg.language,
        cfg.author,
        cfg.timezone,
        repr(cfg.output.formats),
        str(cfg.output.feed_items),
        str(cfg.output.theme_feed_items),
        str(cfg.output.empty_weeks),
        repr(cfg.rules.section_names),
    ]
    for folder in (render.default_template_dir(), cfg.templates):
        if folder is None:
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                parts.append(str(path.relative_to(folder)))
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return _fingerprint(parts)


def _read_manifest(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _digest_hash(digest: WeekDigest) -> str:
    parts = []
    for section in digest.sections:
        parts.append(section.name)
        for p in section.papers:
            parts.extend(
                [
                    p.id,
                    p.title,
                    p.abstract,
                    repr(p.tags),
                    p.url or "",
                    p.source_id or "",
                    repr(p.authors),
                    p.first_seen.isoformat(),
                    repr([(s.listing, s.date.isoformat(), s.position) for s in p.sightings]),
                ]
            )
    return _fingerprint(parts)


def _weeks(cfg: FeedConfig, weeks: list[str], today: dt.date) -> list[str]:
    """Weeks in the archive: those with papers, and with ``output.empty_weeks`` also the
    weeks without papers between the first one and the last ended one."""
    if cfg.output.empty_weeks and weeks:
        last_ended = iso_week(today - dt.timedelta(days=7))
        return _all_weeks(weeks[0], max(weeks[-1], last_ended))
    return weeks


def _weeks_between(a: str, b: str) -> int:
    return (week_bounds(b)[0] - week_bounds(a)[0]).days // 7


def feed_documents(
    cfg: FeedConfig,
    env: render.Environment,
    store: Store,
    drafts: Sequence[_Draft],
    links: SiteLinks,
    today: dt.date,
) -> list[tuple[str, bytes]]:
    """Every feed document (relative path, bytes): the weekly issues given (newest
    first), and per theme its newest ``theme_feed_items`` papers."""
    uid = feed_uid(cfg, store)
    epoch = midnight(feed_epoch(store, today), cfg.timezone)
    now = midnight(today, cfg.timezone)
    out: list[tuple[str, bytes]] = []
    with store.transaction():
        items = [_dated(store, d, now) for d in drafts]
        for link in links.site:
            meta = _meta(cfg, uid, cfg.title, cfg.description, link.href, epoch)
            out.append((link.href, _document(link, meta, items)))
        for slug, theme_links in links.themes.items():
            name = links.theme_names[slug]
            papers = _newest(store.papers(ids=store.newest_ids(name, cfg.output.theme_feed_items)))
            items = [_dated(store, _paper_item(cfg, env, uid, p, name), now) for p in papers]
            description = f"New papers on {name}, one item per paper."
            for link in theme_links:
                meta = _meta(
                    cfg,
                    f"{uid}:theme:{slug}",
                    f"{cfg.title}: {name}",
                    description,
                    link.href,
                    epoch,
                )
                out.append((link.href, _document(link, meta, items)))
    return out


def site_links(cfg: FeedConfig) -> SiteLinks:
    """The feeds this configuration publishes, as pages link to them."""
    kinds = set(cfg.output.formats)
    site: list[FeedLink] = []
    if "rss" in kinds:
        site.append(FeedLink("rss.xml", feeds.RSS_TYPE, "RSS", cfg.title))
    if "atom" in kinds:
        site.append(FeedLink("atom.xml", feeds.ATOM_TYPE, "Atom", cfg.title))
    themes: dict[str, tuple[FeedLink, ...]] = {}
    slugs = theme_slugs(cfg.rules.section_names)
    if "theme_feeds" in kinds:
        # Theme feeds follow the site's choice of formats; asked for alone, both are written.
        rss, atom = "rss" in kinds or "atom" not in kinds, "atom" in kinds or "rss" not in kinds
        for name, slug in slugs.items():
            title = f"{cfg.title}: {name}"
            themes[slug] = tuple(
                link
                for link, wanted in (
                    (FeedLink(f"themes/{slug}.xml", feeds.RSS_TYPE, "RSS", title), rss),
                    (FeedLink(f"themes/{slug}.atom", feeds.ATOM_TYPE, "Atom", title), atom),
                )
                if wanted
            )
    return SiteLinks(
        site=tuple(site), themes=themes, theme_names={slug: n for n, slug in slugs.items()}
    )


def render_week(
    env: render.Environment,
    cfg: FeedConfig,
    digest: WeekDigest,
    trend: Trends,
    links: SiteLinks,
) -> dict[str, str]:
    """One week's files (relative path -> text): its Markdown and HTML pages."""
    kinds = set(cfg.output.formats)
    ctx = {"feed": cfg, "digest": digest, "trend": trend, "links": links}
    out: dict[str, str] = {}
    if "markdown" in kinds:
        out[f"{digest.week}.md"] = render.render(env, "week.md", **ctx)
    if "html" in kinds:
        out[f"{digest.week}.html"] = render.render(env, "week.html", **ctx)
    return out


def feed_uid(cfg: FeedConfig, store: Store) -> str:
    """The feed's permanent id: chosen at the first build from the base URL, then kept
    in the store, so a later change of base_url or title never changes any GUID."""
    uid = store.meta("feed_uid")
    if not uid:
        uid = "urn:digest:" + hashlib.sha256(cfg.base_url.encode()).hexdigest()[:16]
        with store.transaction():
            store.set_meta("feed_uid", uid)
    return uid


def feed_epoch(store: Store, today: dt.date) -> dt.date:
    """The date of the first build, kept in the store: the date of a feed with no items
    (a fixed date, so an empty feed's bytes do not change from run to run)."""
    epoch = store.meta("feed_epoch")
    if not epoch:
        epoch = today.isoformat()
        with store.transaction():
            store.set_meta("feed_epoch", epoch)
    return dt.date.fromisoformat(epoch)


def item_dates(
    store: Store, item_id: str, fingerprint: str, first: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """``(published, updated)`` of a feed item, kept in the store (inside the caller's
    transaction). A new item is dated ``first`` (the date of its content); an item
    whose ``fingerprint`` changed gets ``now`` as its updated date; otherwise the
    stored dates are returned unchanged."""
    key = f"feed_item:{item_id}"
    raw = store.meta(key)
    if raw:
        old = json.loads(raw)
        published = dt.datetime.fromisoformat(old["published"])
        updated = dt.datetime.fromisoformat(old["updated"])
        if old["fingerprint"] == fingerprint:
            return published, updated
        updated = max(updated, now)
    else:
        published = updated = first
    record = {
        "fingerprint": fingerprint,
        "published": published.isoformat(),
        "updated": updated.isoformat(),
    }
    store.set_meta(key, json.dumps(record, sort_keys=True))
    return published, updated


@dataclass(frozen=True, slots=True)
class _Draft:
    """A feed item before its dates are known."""

    item: feeds.FeedItem
    first: dt.datetime
    """Date of the content, used when the item is new."""


def _draft_to_json(draft: _Draft) -> str:
    item = draft.item
    return json.dumps(
        {
            "id": item.id,
            "title": item.title,
            "link": item.link,
            "summary": item.summary,
            "content": item.content_html,
            "first": draft.first.isoformat(),
        },
        ensure_ascii=False,
    )


def _draft_from_json(text: str) -> _Draft:
    data = json.loads(text)
    first = dt.datetime.fromisoformat(data["first"])
    item = feeds.FeedItem(
        id=data["id"],
        title=data["title"],
        link=data["link"],
        published=first,
        updated=first,
        content_html=data["content"],
        summary=data["summary"],
    )
    return _Draft(item, first)


def _dated(store: Store, draft: _Draft, now: dt.datetime) -> feeds.FeedItem:
    item = draft.item
    fingerprint = _fingerprint(
        [item.title, item.link, item.summary, item.content_html, *item.categories]
    )
    published, updated = item_dates(store, item.id, fingerprint, draft.first, now)
    return feeds.FeedItem(
        id=item.id,
        title=item.title,
        link=item.link,
        published=published,
        updated=updated,
        content_html=item.content_html,
        summary=item.summary,
        categories=item.categories,
    )


def _fingerprint(parts: Iterable[str]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:32]


def _document(link: FeedLink, meta: feeds.FeedMeta, items: Sequence[feeds.FeedItem]) -> bytes:
    return feeds.atom(meta, items) if link.type == feeds.ATOM_TYPE else feeds.rss(meta, items)


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


def _week_url(cfg: FeedConfig, week: str) -> str:
    return render.week_url(cfg.base_url, cfg.output.formats, week)


def _week_item(cfg: FeedConfig, env: render.Environment, uid: str, digest: WeekDigest) -> _Draft:
    content = render.render(
        env, "feed_item.html", feed=cfg, digest=digest, page=_week_url(cfg, digest.week)
    )
    item = feeds.FeedItem(
        id=f"{uid}:week:{digest.week}",
        title=f"{cfg.title}: {digest.week} ({render.plural(digest.count, 'paper')})",
        link=_week_url(cfg, digest.week),
        published=midnight(digest.end, cfg.timezone),
        updated=midnight(digest.end, cfg.timezone),
        content_html=content,
        summary=", ".join(f"{s.name} ({len(s.papers)})" for s in digest.sections)
        or "No new papers this week.",
    )
    # An empty week's issue is dated from the end of the week it reports on.
    first = digest.updated if digest.count else digest.end
    return _Draft(item, midnight(first, cfg.timezone))


def _paper_item(
    cfg: FeedConfig, env: render.Environment, uid: str, paper: Paper, theme: str
) -> _Draft:
    page = _week_url(cfg, paper.week)
    if "html" in cfg.output.formats:
        page += f"#{paper.id}"
    content = render.render(env, "feed_paper.html", feed=cfg, paper=paper, theme=theme, page=page)
    item = feeds.FeedItem(
        id=f"{uid}:paper:{paper.id}",
        title=render.readable(paper.title),
        link=page,
        published=midnight(paper.first_seen, cfg.timezone),
        updated=midnight(paper.first_seen, cfg.timezone),
        content_html=content,
        summary=render.readable(render.split_abstract(paper.abstract)[0]),
        categories=paper.tags,
    )
    return _Draft(item, midnight(paper.first_seen, cfg.timezone))


def _newest(papers: Sequence[Paper]) -> list[Paper]:
    return sorted(papers, key=lambda p: (p.first_seen, p.id), reverse=True)


def _all_weeks(first: str, last: str) -> list[str]:
    monday, _ = week_bounds(first)
    end, _ = week_bounds(last)
    out = []
    while monday <= end:
        out.append(iso_week(monday))
        monday += dt.timedelta(days=7)
    return out
