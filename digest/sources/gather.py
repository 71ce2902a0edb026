"""The feed's sources -> the listings to ingest: matching files, then fetched URLs.

Input: a validated :class:`~digest.config.FeedConfig` and the run's date. Output:
:class:`ListingInput` values, in order, and the problems met on the way (a pattern that
matches no file is a notice; two files of one name, a URL that fails are warnings).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from digest.config import FeedConfig
from digest.errors import Problem
from digest.sources import listing_name, shown_name

CACHE_DIR = "cache"
"""Where fetched URL sources are kept (dated), inside the feed folder."""


@dataclass(frozen=True, slots=True)
class ListingInput:
    """One listing to ingest: a file, or a fetched URL's body."""

    name: str
    """Listing name (a file name), the provenance users see."""
    format: str
    """Reader name or ``auto``."""
    dating: str = "auto"
    """The source's ``date`` option (``auto``: the format's default)."""
    path: Path | None = None
    """The file, when the listing is one."""
    data: bytes | None = None
    """The content, when already in memory (a fetched URL)."""


def source_files(cfg: FeedConfig) -> tuple[list[Path], list[Problem]]:
    """Files matched by the ``sources`` globs (sorted), and a notice per glob that
    matches nothing."""
    inputs, problems = _glob_sources(cfg)
    return [i.path for i in inputs if i.path is not None], problems


def _glob_sources(cfg: FeedConfig) -> tuple[list[ListingInput], list[Problem]]:
    found: dict[Path, ListingInput] = {}
    names: dict[str, Path] = {}
    problems = []
    for i, src in enumerate(cfg.sources):
        if src.path is None:
            continue
        pattern = Path(src.path)
        base = Path(pattern.anchor) if pattern.is_absolute() else cfg.root
        rel = str(pattern.relative_to(pattern.anchor)) if pattern.is_absolute() else src.path
        matched = sorted(p for p in base.glob(rel) if p.is_file())
        if not matched:  # the folder may fill later: worth saying, not worth an exit code
            message = f"sources[{i}]: {src.path!r} matches no file"
            problems.append(Problem(str(cfg.file), None, message, severity="notice"))
        for path in matched:
            name = listing_name(path)
            first = names.setdefault(name, path)
            if first != path:  # a listing is known by its file name: one file per name
                message = (
                    f"sources[{i}]: {shown_name(str(path))} has the name of "
                    f"{shown_name(str(first))}, read instead (skipped)"
                )
                problems.append(Problem(str(cfg.file), None, message))
                continue
            found.setdefault(path, ListingInput(name, src.format, src.date, path=path))
    return list(found.values()), problems


def gather_sources(
    cfg: FeedConfig, today: dt.date, *, offline: bool = False
) -> tuple[list[ListingInput], list[Problem]]:
    """Every listing the feed's ``sources`` name: matching files, then each URL fetched
    (or replayed from the feed's ``cache/`` folder when ``offline``). A failing URL is
    a problem, never fatal: the run goes on with the other sources."""
    inputs, problems = _glob_sources(cfg)
    for src in cfg.sources:
        if src.url is None:
            continue
        from digest.sources import fetch  # only feeds with URL sources need HTTP (and ssl)

        result = fetch.fetch(
            src.url, cfg.root / CACHE_DIR, today, offline=offline, min_interval=src.min_interval
        )
        problems.extend(result.problems)
        if result.data is not None:
            inputs.append(ListingInput(result.name, src.format, src.date, data=result.data))
    return inputs, problems
