"""The archive: every week's summary -> ``index.html``, newest week first.

Input: the config, the template environment, the links, the weeks in the archive
(oldest first), their summaries and top picks (as the manifest records them when a
week's page is rendered: the archive never loads a week's papers), and the themes and
tags that have pages. Output: the page's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from digest import render
from digest.config import FeedConfig
from digest.grouping import summary_from_json
from digest.models import WeekSummary
from digest.site.links import SiteLinks
from digest.site.topics import Topic

ARCHIVE = "index.html"
"""The archive page's path in the site."""


def render_archive(
    env: render.Environment,
    cfg: FeedConfig,
    links: SiteLinks,
    weeks: Sequence[str],
    summaries: dict[str, WeekSummary],
    picks: dict[str, Any] | None = None,
    topics: Sequence[Topic] = (),
) -> str:
    """The archive page: a week without papers is listed with an empty summary; each
    week with its top picks ([id, title, link] each); then the theme and tag pages."""
    archive = [summaries.get(w) or summary_from_json(w, "[]") for w in reversed(weeks)]
    return render.render(
        env,
        ARCHIVE,
        feed=cfg,
        weeks=archive,
        links=links,
        picks=picks or {},
        theme_pages=[t for t in topics if t.kind == "theme"],
        tag_pages=[t for t in topics if t.kind == "tag"],
    )
