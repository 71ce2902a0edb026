"""The stages in order: ingest -> tag -> group -> render -> write. The library API.

Input: a validated :class:`~digest.config.FeedConfig`, listing files, the
run's date. Output: the store updated and the output folder written; reports
that say what changed. Nothing here parses argv or prints: the CLI does.

Order matters: everything is gathered (store updated, papers tagged) before
anything is written, and each output path is written at most once per run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from digest import site
from digest.config import FeedConfig
from digest.errors import Problem
from digest.models import Entry
from digest.resolve import Resolver
from digest.sources import ReadContext, read_bytes
from digest.store import Store


@dataclass(slots=True)
class IngestReport:
    """What one ingest did."""

    listings_new: int = 0
    """Listings read for the first time or changed since last time."""
    listings_unchanged: int = 0
    sightings: int = 0
    new_papers: int = 0
    merged: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class RunReport:
    """A whole run: ingest, tag, build."""

    ingest: IngestReport
    tagged: int
    build: site.BuildReport
    problems: list[Problem] = field(default_factory=list)
    """Ingest problems plus source warnings (a pattern matching no file, ...)."""


def open_store(cfg: FeedConfig, store_path: Path | None = None) -> Store:
    """Open (creating or migrating) the feed's store."""
    return Store(store_path or cfg.store)


def source_files(cfg: FeedConfig) -> tuple[list[Path], list[Problem]]:
    """Files matched by the ``sources`` globs (sorted), and a warning per glob that
    matches nothing."""
    files: dict[Path, None] = {}
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
        files.update(dict.fromkeys(matched))
    return list(files), problems


def ingest(
    cfg: FeedConfig, store: Store, paths: Iterable[Path], today: dt.date, fmt: str = "auto"
) -> IngestReport:
    """Add listing files to the store; each listing is one transaction.

    A file whose content was ingested before is skipped by its hash, so
    ingesting again changes nothing. Bad files are reported, never fatal.
    """
    report = IngestReport()
    ctx = ReadContext(today=today, year=cfg.year, timezone=cfg.timezone)
    resolver = Resolver(cfg.identity)
    _apply_identity_overrides(cfg, store, resolver)
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as err:
            report.problems.append(Problem(str(path), None, f"cannot read: {err.strerror}"))
            continue
        sha = hashlib.sha256(data).hexdigest()
        if store.listing_hash(path.name) == sha:
            report.listings_unchanged += 1
            continue
        listing = read_bytes(data, path.name, ctx, fmt)
        report.problems.extend(listing.problems)
        if not listing.entries:
            continue
        result = store.add_listing(
            path.name,
            sha,
            listing.format,
            listing.date,
            listing.entries,
            len(listing.problems),
            resolver,
        )
        report.listings_new += 1
        report.sightings += result.sightings
        report.new_papers += result.new_papers
        report.merged += result.merged
    return report


def _apply_identity_overrides(cfg: FeedConfig, store: Store, resolver: Resolver) -> None:
    """When identity.merge/split changed since the last run, re-resolve every stored
    sighting under the new overrides (the only operation that costs the whole history)."""
    if store.meta("identity_overrides") == cfg.identity.fingerprint:
        return
    if store.counts()["sightings"]:
        by_listing: dict[str, list[Entry]] = {}
        for entry in store.all_sightings():
            by_listing.setdefault(entry.listing, []).append(entry)
        listing_meta = store.listing_meta()
        with store.transaction():
            store.clear_papers()
        for name, entries in by_listing.items():
            sha, fmt, date, problems = listing_meta[name]
            store.add_listing(name, sha, fmt, date, entries, problems, resolver)
    with store.transaction():
        store.set_meta("identity_overrides", cfg.identity.fingerprint)


def tag(cfg: FeedConfig, store: Store, *, rebuild: bool = False) -> int:
    """Tag every paper not yet tagged with the current rules; papers of published weeks
    keep their tags unless ``rebuild``. Returns how many papers were (re)tagged."""
    rules = cfg.rules
    frozen = [] if rebuild else store.published_weeks()
    results = []
    for pid, title, abstract in store.untagged(rules.fingerprint, frozen):
        tagging = rules.tag(title, abstract)
        results.append((pid, tagging.tags, tagging.theme))
    return store.set_tags(results, rules.fingerprint) if results else 0


def run(
    cfg: FeedConfig,
    today: dt.date,
    out: Path | None = None,
    *,
    rebuild: bool = False,
    store_path: Path | None = None,
) -> RunReport:
    """What cron runs: ingest the configured sources, tag, build every output."""
    files, problems = source_files(cfg)
    with open_store(cfg, store_path) as store:
        if rebuild:
            store.unpublish()
        report = ingest(cfg, store, files, today)
        tagged = tag(cfg, store, rebuild=rebuild)
        built = site.build(cfg, store, out or cfg.output.dir, today)
    return RunReport(report, tagged, built, problems + report.problems)


def warnings_of(problems: Sequence[Problem]) -> list[str]:
    """Problems as display lines."""
    return [str(p) for p in problems]
