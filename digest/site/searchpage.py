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

from collections.abc import Collection, Sequence
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
    env: render.Environment, cfg: FeedConfig, links: SiteLinks, out: Path, weeks: Sequence[str]
) -> dict[str, str]:
    """The search page and its script; ``weeks``: those with a bundle, oldest first (a
    week of more than :data:`~digest.search.PART` papers has several, found in ``out``)."""
    return {
        PAGE: render.render(env, PAGE, feed=cfg, links=links, bundles=bundles(out, weeks)),
        SCRIPT: render.render(env, SCRIPT),
    }


def bundles(out: Path, weeks: Sequence[str]) -> list[str]:
    """Every bundle of ``weeks`` (folders relative to the site root), week by week: the
    week's first, then its other parts that ``out`` holds, in order."""
    found = []
    for week in weeks:
        found.append(search.bundle_path(week))
        root = out / search.bundle_path(week)
        parts = sorted(
            int(entry.parent.name.removeprefix(search.PART_PREFIX))
            for entry in root.glob(f"{search.PART_PREFIX}*/{search.ENTRY}")
            if entry.parent.name.removeprefix(search.PART_PREFIX).isdigit()
        )
        found.extend(search.bundle_path(week, part) for part in parts if part > 1)
    return found


def sweep(out: Path, files: Collection[str]) -> None:
    """Remove the files of the re-indexed weeks' bundles that their new bundles do not
    have (Pagefind names its files by their content: an old index's are left over; a
    week indexed in fewer parts leaves parts over), and the folders this empties."""
    weeks = {"/".join(p.split("/")[:2]) for p in files if p.startswith(search.BUNDLES + "/")}
    for week in sorted(weeks):
        root = out / week
        if not root.is_dir():
            continue
        paths = sorted(root.rglob("*"))
        for path in paths:
            if path.is_file() and path.relative_to(out).as_posix() not in files:
                path.unlink()
        for path in reversed(paths):
            if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
                path.rmdir()
