"""The stages in order: ingest -> tag -> group -> render -> write. The library API.

Input: a validated :class:`~digest.config.FeedConfig`, listing files, the
run's date. Output: the store updated and the output folder written; reports
that say what changed. Nothing here parses argv or prints: the CLI does.

Order matters: everything is gathered (store updated, papers tagged) before
anything is written, and each output path is written at most once per run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from digest import site
from digest.config import FeedConfig
from digest.errors import Problem
from digest.ingest import IngestReport, ListingInput, Progress, ingest
from digest.output import sweep_temp_files
from digest.sources import listing_name, shown_name
from digest.store import Store
from digest.tag import tag

if TYPE_CHECKING:
    from digest import delivery

__all__ = [
    "IngestReport",
    "ListingInput",
    "Progress",
    "RunReport",
    "gather_sources",
    "ingest",
    "open_store",
    "run",
    "source_files",
    "tag",
]

CACHE_DIR = "cache"
"""Where fetched URL sources are kept (dated), inside the feed folder."""


@dataclass(slots=True)
class RunReport:
    """A whole run: ingest, tag, build."""

    ingest: IngestReport
    tagged: int
    build: site.BuildReport
    problems: list[Problem] = field(default_factory=list)
    """Ingest problems plus source warnings (a pattern matching no file, ...)."""
    email: delivery.SendReport | None = None
    """What was emailed (None when email is not configured or not enabled)."""


def open_store(cfg: FeedConfig, store_path: Path | None = None) -> Store:
    """Open (creating or migrating) the feed's store."""
    return Store(store_path or cfg.store)


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
        if not matched:
            problems.append(
                Problem(str(cfg.file), None, f"sources[{i}]: {src.path!r} matches no file")
            )
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
            found.setdefault(path, ListingInput(name, src.format, path=path))
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

        result = fetch.fetch(src.url, cfg.root / CACHE_DIR, today, offline=offline)
        problems.extend(result.problems)
        if result.data is not None:
            inputs.append(ListingInput(result.name, src.format, data=result.data))
    return inputs, problems


def run(
    cfg: FeedConfig,
    today: dt.date,
    out: Path | None = None,
    *,
    rebuild: bool = False,
    store_path: Path | None = None,
    offline: bool = False,
    progress: Progress | None = None,
    jobs: int = 1,
) -> RunReport:
    """What cron runs: ingest the configured sources, tag, build every output. ``jobs``
    is how many processes a large run may keep busy (see :mod:`digest.workers`)."""
    out = out or cfg.output.dir
    site.check_output_dir(cfg, out, store_path)  # before anything is read or swept
    inputs, problems = gather_sources(cfg, today, offline=offline)
    with open_store(cfg, store_path) as store:
        if rebuild:
            store.weeks.unpublish()
        report = ingest(cfg, store, inputs, today, progress=progress, jobs=jobs)
        tagged = report.tagged + tag(cfg, store, rebuild=rebuild, jobs=jobs)
        sweep_temp_files(out)  # left by a run killed while writing
        built = site.build(cfg, store, out, today, jobs=jobs, rebuild=rebuild)
        # -- email: last, so a failed send never stops the site from being written --
        emailed = None
        if cfg.email is not None and cfg.email.enabled:
            from digest import delivery  # imported only by runs that send (css-inline, smtplib)

            emailed = delivery.send(cfg, store, today)
            problems += emailed.problems
    return RunReport(report, tagged, built, problems + report.problems, email=emailed)
