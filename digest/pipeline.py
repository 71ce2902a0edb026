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
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING

from digest import site, workers
from digest.config import FeedConfig
from digest.errors import Problem
from digest.models import Entry, EntryKeys, Listing
from digest.output import sweep_temp_files
from digest.resolve import Resolver, entry_keys
from digest.rules import RuleSet
from digest.sources import ReadContext, listing_name, load, read_bytes, shown_name
from digest.store import CommitGroup, Store

if TYPE_CHECKING:
    from digest import delivery

CACHE_DIR = "cache"
"""Where fetched URL sources are kept (dated), inside the feed folder."""


@dataclass(slots=True)
class IngestReport:
    """What one ingest did."""

    listings_new: int = 0
    """Listings read for the first time or changed since last time."""
    listings_unchanged: int = 0
    sightings: int = 0
    new_papers: int = 0
    merged: int = 0
    tagged: int = 0
    """Papers tagged as they were stored."""
    problems: list[Problem] = field(default_factory=list)


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


@dataclass(frozen=True, slots=True)
class ListingInput:
    """One listing to ingest: a file, or a fetched URL's body."""

    name: str
    """Listing name (a file name), the provenance users see."""
    format: str
    """Reader name or ``auto``."""
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


Progress = Callable[[str], None]
"""Called with each listing's name as ingesting it starts."""


COMMIT_ROWS = 100_000
"""Listings share a commit until their sightings reach this many (see
:meth:`~digest.store.Store.grouped_commits`): each listing stays atomic (a listing that
fails is left out, and the listings stored since the last commit are stored again), and
a cold import of years of listings does not pay one commit per listing."""

BULK_BYTES = 16_000_000
"""New listings (names not ingested before) from which an ingest is a bulk import (about
9,000 entries): the store is written with a rollback journal instead of its write-ahead
log (see :meth:`~digest.store.Store.grouped_commits`)."""

PARALLEL_BYTES = 4_000_000
"""Listings to read in worker processes when a run has at least this many bytes of
them (about 2,000 entries): below, starting processes costs more than it saves."""


def ingest(
    cfg: FeedConfig,
    store: Store,
    listings: Iterable[Path | ListingInput],
    today: dt.date,
    fmt: str = "auto",
    progress: Progress | None = None,
    *,
    jobs: int = 1,
) -> IngestReport:
    """Add listings to the store; each listing is atomic (all its sightings or none).

    A listing whose content was ingested before (same name, same SHA-256) is
    skipped, so ingesting again changes nothing; one whose content changed adds what
    is new in it and keeps every sighting already stored (see
    :meth:`~digest.store.Store.add_listing`). Bad files are reported, never
    fatal, and change nothing already stored. With ``jobs`` > 1 and enough to read,
    worker processes read, parse and key the listings while this one stores them
    (same result, in the same order).
    """
    report = IngestReport()
    ctx = ReadContext(today=today, year=cfg.year, timezone=cfg.timezone)
    resolver = Resolver(cfg.identity)
    _apply_identity_overrides(cfg, store, resolver)
    todo: list[_Job] = []
    size = 0
    for item in listings:
        if isinstance(item, Path):
            item = ListingInput(listing_name(item), fmt, path=item)
        job = _job(store, item, report)
        if job is not None:
            todo.append(job)
            size += job.size
    if not todo:  # nothing to read: no write transaction either
        return report
    state = (ctx, resolver.fuzzy, cfg.rules)
    rules = cfg.rules.fingerprint
    new = sum(job.size for job in todo if not job.known)  # not merely touched or changed
    with (
        workers.Pool(state, jobs if jobs > 1 else 0) as pool,
        store.grouped_commits(COMMIT_ROWS, bulk=new >= BULK_BYTES) as group,
    ):
        since_commit: list[_Job] = []  # stored again if a later listing of the group fails
        pending = IngestReport()  # what they did: counted once committed
        prepared_all = pool.map(_prepare, todo, parallel=size >= PARALLEL_BYTES)
        for i, prepared in enumerate(prepared_all):
            if progress is not None:
                progress(prepared.job.item.name)
            try:
                rows = _store(store, prepared, resolver, rules, pending)
            except Exception as err:  # a bug met by this listing: it alone is left out
                if store.unusable(err) or group.nested:
                    raise  # the store itself failed, or the caller's transaction is the unit
                report.problems.append(_not_stored(prepared.job, err))
                stored = _store_again(store, group, since_commit, state, resolver, rules, report)
                _add(report, stored)  # committed
                since_commit, pending = [], IngestReport()
            else:
                since_commit.append(prepared.job)
                if not group.done(rows, last=i == len(todo) - 1):
                    continue
                _add(report, pending)  # committed
                since_commit, pending = [], IngestReport()
        _add(report, pending)
    report.problems = summarise(report.problems)
    return report


PROBLEMS_PER_FILE = 20
"""Problems reported one by one per file; the rest of a file's are counted in one line
(a broken file of 100,000 entries would otherwise print as many, all mailed by cron)."""


def summarise(problems: list[Problem], limit: int = PROBLEMS_PER_FILE) -> list[Problem]:
    """The first ``limit`` problems of each file, in order, and after them one line
    ``... and N more problems in this file`` (the problem names the file)."""
    out: list[Problem] = []
    seen: dict[str, int] = {}
    summary_at: dict[str, int] = {}
    for problem in problems:
        count = seen[problem.file] = seen.get(problem.file, 0) + 1
        if count <= limit:
            out.append(problem)
        elif count == limit + 1:
            summary_at[problem.file] = len(out)
            out.append(problem)  # replaced below, once the count is known
    for file, index in summary_at.items():
        more = seen[file] - limit
        message = f"... and {more} more problem{'s' if more != 1 else ''} in this file"
        out[index] = Problem(file, None, message)
    return out


def _not_stored(job: _Job, err: Exception) -> Problem:
    message = f"could not be stored ({type(err).__name__}: {err}); retried next run"
    return Problem(job.item.name, None, message)


def _store_again(
    store: Store,
    group: CommitGroup,
    jobs: list[_Job],
    state: tuple[ReadContext, bool, RuleSet],
    resolver: Resolver,
    rules: str,
    report: IngestReport,
) -> IngestReport:
    """After a listing failed: roll its commit group back, store again (read, parse,
    key, here) the group's listings before it, and commit them at once (so a later
    failure never does them a third time). One that fails now is left out too. Returns
    what they did."""
    jobs = list(jobs)
    while True:
        group.rollback()
        again = IngestReport()
        for job in jobs:
            try:
                _store(store, _prepare(state, job), resolver, rules, again)
            except Exception as err:
                if store.unusable(err):
                    raise
                report.problems.append(_not_stored(job, err))
                jobs.remove(job)
                break
        else:
            group.commit()
            return again


def _add(report: IngestReport, part: IngestReport) -> None:
    """Add the counts and problems of ``part`` to ``report``."""
    report.listings_new += part.listings_new
    report.listings_unchanged += part.listings_unchanged
    report.sightings += part.sightings
    report.new_papers += part.new_papers
    report.merged += part.merged
    report.tagged += part.tagged
    report.problems.extend(part.problems)


@dataclass(frozen=True, slots=True)
class _Job:
    """A listing to read: its status (empty for a URL's body) and size."""

    item: ListingInput
    status: str
    size: int
    known: str = ""
    """SHA-256 of the content stored under this listing's name, if any: the same content
    (a touched or copied-back file, a body fetched again) is hashed, not parsed."""


@dataclass(slots=True)
class _Prepared:
    """A listing read, parsed and keyed (in a worker, or here)."""

    job: _Job
    sha: str = ""
    listing: Listing | None = None
    keys: list[EntryKeys] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)
    """(tags as a JSON list, theme) of each entry's text under the feed's rules."""
    problem: Problem | None = None


def _job(store: Store, item: ListingInput, report: IngestReport) -> _Job | None:
    """The listing as a job, or None when its file is as it was when last ingested: same
    size, mtime, ctime and inode (ctime moves on every write and cannot be set back), so
    the content cannot have changed and the file is not even read."""
    if item.data is not None:
        return _Job(item, "", len(item.data), store.listing_hash(item.name) or "")
    if item.path is None:
        return None
    try:
        st = item.path.stat()
    except OSError as err:
        problem = Problem(shown_name(str(item.path)), None, f"cannot read: {err.strerror}")
        report.problems.append(problem)
        return None
    status = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
    if store.listing_stat(item.name) == status:
        report.listings_unchanged += 1
        return None
    return _Job(item, status, st.st_size, store.listing_hash(item.name) or "")


def _prepare(state: tuple[ReadContext, bool, RuleSet], job: _Job) -> _Prepared:
    """Read, hash, parse, key and tag one listing (pure: runs in a worker process). Each
    text is tagged here, where it is at hand: papers are then tagged as they are stored,
    and texts keep their tags (:meth:`~digest.store.Store.tags_from_texts`)."""
    ctx, fuzzy, rules = state
    item = job.item
    data = item.data
    if data is None and item.path is not None:
        data, problem = load(item.path, shown_name(str(item.path)))
        if problem is not None:
            return _Prepared(job, problem=problem)
    if data is None:
        return _Prepared(job)
    sha = hashlib.sha256(data).hexdigest()
    if sha == job.known:
        return _Prepared(job, sha)
    try:
        listing = read_bytes(data, item.name, ctx, item.format)
        keys = [entry_keys(entry, fuzzy) for entry in listing.entries]
        tags = []
        encoded: dict[tuple[str, ...], str] = {}  # few tag sets, many entries
        for entry in listing.entries:
            tagging = rules.tag(entry.title, entry.abstract)
            text = encoded.get(tagging.tags)
            if text is None:
                text = encoded[tagging.tags] = json.dumps(list(tagging.tags))
            tags.append((text, tagging.theme))
    except Exception as err:  # a bug, never bad input: still one listing, not the run
        problem = Problem(item.name, None, f"could not be read ({type(err).__name__}: {err})")
        return _Prepared(job, sha, problem=problem)
    return _Prepared(job, sha, listing, keys, tags)


def _store(
    store: Store, prepared: _Prepared, resolver: Resolver, rules: str, report: IngestReport
) -> int:
    """Store one prepared listing unless its content is known; returns the sightings stored."""
    job, listing = prepared.job, prepared.listing
    if prepared.problem is not None:
        report.problems.append(prepared.problem)
        return 0
    if prepared.sha and store.has_listing(job.item.name, prepared.sha):  # touched, or back
        report.listings_unchanged += 1
        if job.status:
            store.set_listing_stat(job.item.name, job.status)
        return 0
    if listing is None:
        return 0
    report.problems.extend(listing.problems)
    if not listing.entries:
        return 0
    result = store.add_listing(
        job.item.name, prepared.sha, listing.format, listing.date, listing.entries,
        len(listing.problems), resolver, prepared.keys, prepared.tags, rules,
    )  # fmt: skip
    if job.status:
        store.set_listing_stat(job.item.name, job.status)
    report.listings_new += 1
    report.sightings += result.sightings
    report.new_papers += result.new_papers
    report.merged += result.merged
    report.tagged += result.tagged
    return result.sightings


def _apply_identity_overrides(cfg: FeedConfig, store: Store, resolver: Resolver) -> None:
    """When identity.merge/split changed since the last run, re-resolve every stored
    sighting under the new overrides, in one transaction (the only operation whose
    cost grows with the whole history; it runs only when the overrides change)."""
    if store.meta("identity_overrides") == cfg.identity.fingerprint:
        return
    with store.transaction():
        if store.counts()["sightings"]:
            by_listing: dict[int, list[Entry]] = {}  # by version: a name may have several
            for listing_id, entry in store.all_sightings():
                by_listing.setdefault(listing_id, []).append(entry)
            listing_meta = store.listing_meta()
            store.clear_papers()
            for listing_id, (name, sha, fmt, date, problems) in listing_meta.items():
                entries = by_listing.get(listing_id, [])
                store.add_listing(name, sha, fmt, date, entries, problems, resolver)
        store.set_meta("identity_overrides", cfg.identity.fingerprint)


PARALLEL_TAGGING = 4000
"""Papers to tag in worker processes when there are at least this many."""


def tag(cfg: FeedConfig, store: Store, *, rebuild: bool = False, jobs: int = 1) -> int:
    """Tag papers never tagged (new papers, new versions) and, when the rules changed,
    re-tag the papers outside published weeks (all papers with ``rebuild``) without
    re-reading any listing. Returns how many papers were (re)tagged. With ``jobs`` > 1
    and enough papers, worker processes tag while this one stores the results."""
    rules = cfg.rules
    changed = rebuild or store.meta("rules_fingerprint") != rules.fingerprint
    frozen = [] if rebuild else store.published_weeks()
    count = store.tags_from_texts(rules.fingerprint)
    batches = store.untagged(rules.fingerprint, frozen, only_new=not changed, limit=1000)
    first = list(islice(batches, PARALLEL_TAGGING // 1000))
    parallel = len(first) * 1000 >= PARALLEL_TAGGING
    if parallel and jobs > 1:
        store.wait_for_checkpoint()  # no thread of SQLite's running when workers fork
    with workers.Pool(rules, jobs if jobs > 1 else 0) as pool:
        for results in pool.map(_tag_batch, chain(first, batches), parallel=parallel):
            count += store.set_tags(results, rules.fingerprint)
    if changed:
        with store.transaction():
            store.set_meta("rules_fingerprint", rules.fingerprint)
    return count


def _tag_batch(
    rules: RuleSet, batch: list[tuple[str, str, str]]
) -> list[tuple[str, tuple[str, ...], str]]:
    """(id, tags, theme) of each (id, title, abstract) (pure: runs in a worker process)."""
    out = []
    for pid, title, abstract in batch:
        tagging = rules.tag(title, abstract)
        out.append((pid, tagging.tags, tagging.theme))
    return out


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
            store.unpublish()
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
