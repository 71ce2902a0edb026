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

import json
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


MARKER = "digest-bundles.json"
"""Written in a week's bundle folder after every file of its bundles: the JSON list of
those bundles (``pagefind/WEEK``, ``pagefind/WEEK/part2``, ...). A week whose marker is
missing, or one of whose bundles lacks its entry file, is indexed again."""


def bundle_entry(week: str) -> str:
    """The file of a week's bundles whose absence has the week indexed again (the
    marker; :func:`complete` also checks the bundles it lists)."""
    return f"{search.bundle_path(week)}/{MARKER}"


def marker(week: str, made: Collection[str]) -> tuple[str, bytes]:
    """The marker of ``week`` whose bundles' files are ``made`` (paths in the site)."""
    folders = {name.rsplit("/", 1)[0] for name in made if name.endswith("/" + search.ENTRY)}
    return bundle_entry(week), json.dumps(_in_order(week, folders)).encode("utf-8")


def complete(out: Path, week: str) -> bool:
    """True when every bundle ``week``'s marker lists has its entry file in ``out``."""
    listed = _listed(out, week)
    return listed is not None and all((out / b / search.ENTRY).is_file() for b in listed)


def _listed(out: Path, week: str) -> list[str] | None:
    """The bundles ``week``'s marker in ``out`` lists (None: no marker, or not one a
    build wrote: only the week's own bundle folders are taken)."""
    try:
        value = json.loads((out / bundle_entry(week)).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(value, list) or not value:
        return None
    folders = {str(b) for b in value}
    ordered = _in_order(week, folders)
    return ordered if len(ordered) == len(folders) else None


def _in_order(week: str, folders: Collection[str]) -> list[str]:
    """The bundle folders of ``week`` among ``folders``, by part number."""
    parts = {search.bundle_path(week, k): k for k in range(1, len(folders) + 1)}
    return sorted((f for f in folders if f in parts), key=parts.__getitem__)


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
    """Every bundle of ``weeks`` (folders relative to the site root), week by week, as
    their markers list them, each week's first bundle last: search.js loads the last
    bundle of the list as Pagefind's primary index, and Pagefind skips merging an index
    whose path begins the primary's (``pagefind/WEEK/`` begins ``pagefind/WEEK/part2/``)."""
    found = []
    for week in weeks:
        listed = _listed(out, week) or [search.bundle_path(week)]
        found.extend([*listed[1:], listed[0]])
    return found


def sweep(out: Path, files: Collection[str]) -> None:
    """Remove the files of the re-indexed weeks' bundles that their new bundles do not
    have (Pagefind names its files by their content: an old index's are left over; a
    week indexed in fewer parts leaves parts over), and the folders this empties."""
    weeks = {"/".join(p.split("/")[:2]) for p in files if p.startswith(search.BUNDLES + "/")}
    for week in sorted(weeks):
        root = out / week
        # Only a real folder inside the output folder (a link to elsewhere: left alone).
        if root.is_symlink() or root.parent.is_symlink() or not root.is_dir():
            continue
        if not root.resolve().is_relative_to(out.resolve()):
            continue
        paths = sorted(root.rglob("*"))
        for path in paths:
            if path.is_file() and path.relative_to(out).as_posix() not in files:
                path.unlink()
        for path in reversed(paths):
            if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
                path.rmdir()
