"""The archive: every week's summary -> ``index.html``, newest week first.

Input: the config, the template environment, the links, the weeks in the archive
(oldest first) and their summaries. Output: the page's text.
"""

from __future__ import annotations

from collections.abc import Sequence

from digest import render
from digest.config import FeedConfig
from digest.grouping import summary_from_json
from digest.models import WeekSummary
from digest.site.links import SiteLinks

ARCHIVE = "index.html"
"""The archive page's path in the site."""


def render_archive(
    env: render.Environment,
    cfg: FeedConfig,
    links: SiteLinks,
    weeks: Sequence[str],
    summaries: dict[str, WeekSummary],
) -> str:
    """The archive page: a week without papers is listed with an empty summary."""
    archive = [summaries.get(w) or summary_from_json(w, "[]") for w in reversed(weeks)]
    return render.render(env, ARCHIVE, feed=cfg, weeks=archive, links=links)
