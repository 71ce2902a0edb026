"""Offline search: each week's papers -> a Pagefind search bundle of that week.

Input: the papers of the weeks whose pages a build rendered, as :class:`Record` items
(the text to find a paper by, and the anchor of its card). Output: the files of each
week's bundle (``pagefind/WEEK/...``, relative path -> bytes), which the site's search
page merges at query time (Pagefind's ``mergeIndex``), so a run indexes only the weeks
it rendered, never the whole archive.

The only module that imports ``pagefind`` (the optional ``search`` extra, a binary of
about 10 MB): without it :func:`available` is False and the site has no search.
"""

from __future__ import annotations

import html
import importlib.util
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from digest.config import FeedConfig
from digest.errors import OutputError

BUNDLES = "pagefind"
"""The folder of the site that holds one bundle per week."""

ENTRY = "pagefind-entry.json"
"""The file every bundle has (a week whose bundle lacks it is indexed again)."""

_UI_FILES = ("pagefind-ui", "pagefind-component-ui", "pagefind-modular-ui", "pagefind-highlight")
"""Bundle files of Pagefind's own UI, not written (the site has its own search page)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One paper as the search finds it."""

    url: str
    """Its card, relative to the site root: ``2026-W11.html#p1234abcd``."""
    title: str
    """Plain text (shown as text, never as markup)."""
    content: str
    """Title, authors, theme, tags and abstract, plain text."""


def wanted(cfg: FeedConfig) -> bool:
    """Whether the configuration asks for search (``output.search`` on an HTML site)."""
    return cfg.output.search and "html" in cfg.output.formats


def enabled(cfg: FeedConfig) -> bool:
    """Whether builds make the search index (asked for, and Pagefind installed)."""
    return wanted(cfg) and available()


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether Pagefind (the ``search`` extra) is installed."""
    try:
        return importlib.util.find_spec("pagefind.index") is not None and _binary()
    except (ImportError, ValueError):
        return False


def _binary() -> bool:
    from pagefind.service import get_executable

    return get_executable() is not None


def bundle_path(week: str) -> str:
    """The folder of a week's bundle, relative to the site root."""
    return f"{BUNDLES}/{week}"


def index_weeks(weeks: Mapping[str, Sequence[Record]], language: str) -> dict[str, bytes]:
    """The bundle files of each week (relative path in the site -> bytes): a week's
    records are written as small pages into a scratch folder and indexed by the Pagefind
    binary, one run a week (its Python service answers one request per 0.1 s, too slow
    for a request a paper)."""
    if not weeks:
        return {}
    binary = _executable()
    lang = (language or "en").split("-")[0].lower()
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="digest-search-") as tmp:
        for week in sorted(weeks):
            if not weeks[week]:
                continue  # a week without papers has no bundle
            src, dest = Path(tmp) / "pages" / week, Path(tmp) / "bundles" / week
            src.mkdir(parents=True)
            for record in weeks[week]:
                (src / page_name(record.url)).write_text(_page(record), encoding="utf-8")
            command = [binary, "--site", str(src), "--output-path", str(dest)]
            done = subprocess.run(
                [*command, "--force-language", lang, "--silent"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                raise OutputError(f"search index of week {week}: Pagefind failed: {detail[0]}")
            for path in sorted(dest.rglob("*")):
                name = path.relative_to(dest).as_posix()
                if path.is_file() and not name.startswith(_UI_FILES):
                    out[f"{bundle_path(week)}/{name}"] = path.read_bytes()
    return out


def _executable() -> str:
    from pagefind.service import get_executable

    found = get_executable()
    if found is None:
        raise OutputError(
            "search: the Pagefind binary is missing (pip install 'reading-digest[search]')"
        )
    return str(found)


def _page(record: Record) -> str:
    """A record as the small HTML page Pagefind indexes (every text escaped)."""
    title, body = html.escape(record.title), html.escape(record.content)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><main data-pagefind-body><h1>{title}</h1><p>{body}</p></main></body></html>"
    )


def page_name(url: str) -> str:
    """The indexed page of a card's ``WEEK.html#ID``: ``WEEK--ID.html`` (search.js turns
    the one back into the other)."""
    return url.replace(".html#", "--") + ".html"
