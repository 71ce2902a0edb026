"""The site's search: a week's digest -> its search records; the weeks -> the search page.

Input: the config, a week's digest (when its pages are rendered), the weeks with papers.
Output: :class:`~digest.search.Record` items (one per paper: its card's anchor and the
words to find it by), the files of each week's bundle (made by :mod:`digest.search`),
the search page (``search.html``, which merges every week's bundle at query time) and
its script (``search.js``); and the bundle files a week no longer uses, removed.

Search is on when ``output.search`` is (the default), the site is HTML, and Pagefind
(the ``search`` extra) is installed; without it the build says so in one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from digest import render, search
from digest.cards import card
from digest.config import FeedConfig
from digest.latex import readable
from digest.models import WeekDigest
from digest.site.links import SiteLinks

PAGE = "search.html"
SCRIPT = "search.js"
MISSING = (
    "search: Pagefind is not installed (pip install 'reading-digest[search]'), so the site has no "
    "search index; output.search: false turns search off"
)
"""The one-line note of a build that would index papers but cannot."""


def bundle_entry(week: str) -> str:
    """The file of a week's bundle whose absence has the week indexed again."""
    return f"{search.bundle_path(week)}/{search.ENTRY}"


def records(cfg: FeedConfig, digest: WeekDigest) -> list[search.Record]:
    """One record per paper of the week: found by title, authors, theme, tags and
    abstract words; landing on its card."""
    out = []
    for section in digest.sections:
        for paper in section.papers:
            c = card(paper, cfg.reading)
            title = readable(paper.title)
            words = [title, c.all_authors, section.name, *(label for _, label in c.tags)]
            words.append(readable(paper.abstract))
            url = f"{digest.week}.html#{paper.id}"
            out.append(search.Record(url, title, "\n".join(w for w in words if w)))
    out.sort(key=lambda r: r.url)
    return out


def page_files(
    env: render.Environment, cfg: FeedConfig, links: SiteLinks, weeks: Sequence[str]
) -> dict[str, str]:
    """The search page and its script; ``weeks``: those with a bundle, oldest first."""
    bundles = [search.bundle_path(w) for w in weeks]
    return {
        PAGE: render.render(env, PAGE, feed=cfg, links=links, bundles=bundles),
        SCRIPT: render.render(env, SCRIPT),
    }


def sweep(out: Path, files: dict[str, bytes]) -> None:
    """Remove the files of the re-indexed weeks' bundles that their new bundles do not
    have (Pagefind names its files by their content: an old index's are left over)."""
    weeks = {"/".join(p.split("/")[:2]) for p in files if p.startswith(search.BUNDLES + "/")}
    for week in sorted(weeks):
        root = out / week
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.relative_to(out).as_posix() not in files:
                path.unlink()
