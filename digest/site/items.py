"""Feed items: a week's digest or a theme's paper -> a feed item, and its dates.

Input: the config, the template environment, the feed's id, a digest or a paper.
Output: a :class:`Draft` (the item before its dates are known, also kept as JSON in
the store's ``feed_item`` row of a week's issue), then a dated
:class:`~digest.feeds.FeedItem` whose dates the store keeps in the same row: an
item's dates move only when its content does, and a new week never touches an
older item.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from digest import feeds, render
from digest.cards import card
from digest.config import FeedConfig
from digest.models import Paper, WeekDigest
from digest.site.manifest import fingerprint
from digest.site.record import BuildRecord
from digest.store import ItemDates
from digest.weeks import midnight


@dataclass(frozen=True, slots=True)
class Draft:
    """A feed item before its dates are known."""

    item: feeds.FeedItem
    first: dt.datetime
    """Date of the content, used when the item is new."""


def week_item(cfg: FeedConfig, env: render.Environment, uid: str, digest: WeekDigest) -> Draft:
    """A week's issue: one item linking to its page, its sections in the summary."""
    content = render.render(
        env, "feed_item.html", feed=cfg, digest=digest, page=_week_url(cfg, digest.week)
    )
    item = feeds.FeedItem(
        id=week_item_id(uid, digest.week),
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
    return Draft(item, midnight(first, cfg.timezone))


def paper_item(
    cfg: FeedConfig, env: render.Environment, uid: str, paper: Paper, theme: str
) -> Draft:
    """One paper of a theme's feed, linking to the paper (its week's page, where it is,
    is the second link of the body)."""
    page = _week_url(cfg, paper.week)
    if "html" in cfg.output.formats:
        page += f"#{paper.id}"
    content = render.render(env, "feed_paper.html", feed=cfg, paper=paper, theme=theme, page=page)
    item = feeds.FeedItem(
        id=f"{uid}:paper:{paper.id}",
        title=render.readable(paper.title),
        link=card(paper, cfg.reading).href,
        published=midnight(paper.first_seen, cfg.timezone),
        updated=midnight(paper.first_seen, cfg.timezone),
        content_html=content,
        summary=render.readable(render.split_abstract(paper.abstract)[0]),
        categories=paper.tags,
        authors=tuple(render.readable(a) for a in paper.authors),
    )
    return Draft(item, midnight(paper.first_seen, cfg.timezone))


def draft_to_json(draft: Draft) -> str:
    """A week's issue as the store keeps it (made in a worker, read by later builds)."""
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


def draft_from_json(text: str) -> Draft:
    """The inverse of :func:`draft_to_json`."""
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
    return Draft(item, first)


def dated(record: BuildRecord, draft: Draft, now: dt.datetime) -> feeds.FeedItem:
    """The item of ``draft`` with its dates (see :func:`item_dates`)."""
    item = draft.item
    parts = [item.title, item.link, item.summary, item.content_html, *item.categories]
    if item.authors:  # (items without authors keep the fingerprint they had before)
        parts.append(repr(item.authors))
    content = fingerprint(parts)
    published, updated = item_dates(record, item.id, content, draft.first, now)
    return feeds.FeedItem(
        id=item.id,
        title=item.title,
        link=item.link,
        published=published,
        updated=updated,
        content_html=item.content_html,
        summary=item.summary,
        categories=item.categories,
        authors=item.authors,
    )


def item_dates(
    record: BuildRecord, item_id: str, content: str, first: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """``(published, updated)`` of a feed item, kept in the store. A new item is dated
    ``first`` (the date of its content); an item whose ``content`` fingerprint changed
    gets ``now`` as its updated date; otherwise the stored dates are returned unchanged."""
    old = record.item_dates([item_id]).get(item_id)
    if old is not None:
        published = dt.datetime.fromisoformat(old.published)
        updated = dt.datetime.fromisoformat(old.updated)
        if old.fingerprint == content:
            return published, updated
        updated = max(updated, now)
    else:
        published = updated = first
    record.set_item_dates(item_id, ItemDates(content, published.isoformat(), updated.isoformat()))
    return published, updated


def dates_key(dates: ItemDates | None) -> str:
    """An item's stored dates as one string, for the key of its feed entry ('' while
    it has none). The JSON is that of the ``meta`` values that held them before schema
    9, so entry keys in manifests written before still match."""
    if dates is None:
        return ""
    values = {"fingerprint": dates.fingerprint, "published": dates.published}
    return json.dumps({**values, "updated": dates.updated}, sort_keys=True)


def stored_updated(dates: ItemDates | None) -> dt.datetime | None:
    """The updated date of an item's stored dates (None while it has none)."""
    return dt.datetime.fromisoformat(dates.updated) if dates is not None else None


def week_item_id(uid: str, week: str) -> str:
    """The id of a week's issue (as :func:`week_item` makes it)."""
    return f"{uid}:week:{week}"


def _week_url(cfg: FeedConfig, week: str) -> str:
    return render.week_url(cfg.base_url, cfg.output.formats, week)
