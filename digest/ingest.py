"""The ingest stage: listings in, papers stored. Drives read -> key -> resolve -> store.

Input: listing files (or fetched bodies) and the feed's config. Output: the store holding
every new sighting, each tied to its paper by :mod:`digest.identity` and, when the text
was tagged as it was read, tagged (:mod:`digest.tag`); an :class:`IngestReport`.
Reading, parsing, keying and tagging a listing is pure and may run in a worker process
(:mod:`digest.workers`); resolving and storing run here, one listing at a time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from digest import workers
from digest.config import FeedConfig
from digest.errors import Problem
from digest.identity.keys import entry_keys, new_paper_id
from digest.identity.resolve import Resolver
from digest.models import Entry, EntryKeys, Listing
from digest.normalize import text_hash
from digest.progress import READ, STORE, Progress
from digest.progress import report as report_progress
from digest.rules import RuleSet
from digest.sources import ReadContext, listing_name, load, read_bytes, shown_name
from digest.sources.gather import ListingInput
from digest.store import CommitGroup, Store
from digest.tag import frozen_weeks, listing_tags
from digest.weeks import iso_week


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


COMMIT_ROWS = 100_000
"""Listings share a commit until their sightings reach this many (see
:meth:`~digest.store.database.Database.grouped_commits`): each listing stays atomic (a listing that
fails is left out, and the listings stored since the last commit are stored again), and
a cold import of years of listings does not pay one commit per listing."""

BULK_BYTES = 16_000_000
"""New listings (names not ingested before) from which an ingest is a bulk import (about
9,000 entries): the store is written with a rollback journal instead of its write-ahead
log (see :meth:`~digest.store.database.Database.grouped_commits`)."""

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
    :func:`store_listing`). Bad files are reported, never
    fatal, and change nothing already stored. With ``jobs`` > 1 and enough to read,
    worker processes read, parse and key the listings while this one stores them
    (same result, in the same order).
    """
    report = IngestReport()
    ctx = ReadContext(today=today, year=cfg.year, timezone=cfg.timezone)
    resolver = Resolver(cfg.identity)
    frozen = frozen_weeks(store)
    _apply_identity_overrides(cfg, store, resolver, frozen)
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
    writing = _Writing(resolver, cfg.rules.fingerprint, frozen)
    new = sum(job.size for job in todo if not job.known)  # not merely touched or changed
    with (
        workers.Pool(state, jobs if jobs > 1 else 0) as pool,
        store.db.grouped_commits(COMMIT_ROWS, bulk=new >= BULK_BYTES) as group,
    ):
        since_commit: list[_Job] = []  # stored again if a later listing of the group fails
        pending = IngestReport()  # what they did: counted once committed
        prepared_all = pool.map(_prepare, todo, parallel=size >= PARALLEL_BYTES)
        for i, prepared in enumerate(prepared_all):
            report_progress(progress, READ, i + 1, len(todo))
            try:
                rows = _store(store, prepared, writing, pending)
            except Exception as err:  # a bug met by this listing: it alone is left out
                if store.db.unusable(err) or group.nested:
                    raise  # the store itself failed, or the caller's transaction is the unit
                report.problems.append(_not_stored(prepared.job, err))
                stored = _store_again(store, group, since_commit, state, writing, report)
                _add(report, stored)  # committed
                since_commit, pending = [], IngestReport()
                report_progress(progress, STORE, i + 1, len(todo))
            else:
                since_commit.append(prepared.job)
                report_progress(progress, STORE, i + 1, len(todo))
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
    writing: _Writing,
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
                _store(store, _prepare(state, job), writing, again)
            except Exception as err:
                if store.db.unusable(err):
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


@dataclass(frozen=True, slots=True)
class _Writing:
    """How prepared listings are stored: resolved by ``resolver``, tagged under the rules
    of fingerprint ``rules``, the papers of ``frozen`` weeks keeping their tags."""

    resolver: Resolver
    rules: str
    frozen: Container[str]


@dataclass(slots=True)
class _Prepared:
    """A listing read, parsed and keyed (in a worker, or here)."""

    job: _Job
    sha: str = ""
    listing: Listing | None = None
    keys: list[EntryKeys] = field(default_factory=list)
    tags: list[tuple[str, str, float]] = field(default_factory=list)
    """(tags as a JSON list, theme, rule score) of each entry's text under the feed's rules."""
    problem: Problem | None = None


def _job(store: Store, item: ListingInput, report: IngestReport) -> _Job | None:
    """The listing as a job, or None when its file is as it was when last ingested: same
    size, mtime, ctime and inode (ctime moves on every write and cannot be set back), so
    the content cannot have changed and the file is not even read."""
    if item.data is not None:
        return _Job(item, "", len(item.data), store.listings.latest_hash(item.name) or "")
    if item.path is None:
        return None
    try:
        st = item.path.stat()
    except OSError as err:
        problem = Problem(shown_name(str(item.path)), None, f"cannot read: {err.strerror}")
        report.problems.append(problem)
        return None
    status = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
    if store.listings.stat(item.name) == status:
        report.listings_unchanged += 1
        return None
    return _Job(item, status, st.st_size, store.listings.latest_hash(item.name) or "")


def _prepare(state: tuple[ReadContext, bool, RuleSet], job: _Job) -> _Prepared:
    """Read, hash, parse, key and tag one listing (pure: runs in a worker process). Each
    text is tagged here, where it is at hand: papers are then tagged as they are stored,
    and texts keep their tags (:meth:`~digest.store.papers.Papers.tags_from_texts`)."""
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
    if item.dating != ctx.dating:
        ctx = dataclasses.replace(ctx, dating=item.dating)
    try:
        listing = read_bytes(data, item.name, ctx, item.format)
        keys = [entry_keys(entry, fuzzy) for entry in listing.entries]
        tags = listing_tags(rules, listing.entries)
    except Exception as err:  # a bug, never bad input: still one listing, not the run
        problem = Problem(item.name, None, f"could not be read ({type(err).__name__}: {err})")
        return _Prepared(job, sha, problem=problem)
    return _Prepared(job, sha, listing, keys, tags)


def _store(store: Store, prepared: _Prepared, writing: _Writing, report: IngestReport) -> int:
    """Store one prepared listing unless its content is known; returns the sightings stored."""
    job, listing = prepared.job, prepared.listing
    if prepared.problem is not None:
        report.problems.append(prepared.problem)
        return 0
    if prepared.sha and store.listings.has(job.item.name, prepared.sha):  # touched, or back
        report.listings_unchanged += 1
        if job.status:
            store.listings.set_stat(job.item.name, job.status)
        return 0
    if listing is None:
        return 0
    report.problems.extend(listing.problems)
    if not listing.entries:
        return 0
    result = store_listing(
        store, writing.resolver, job.item.name, prepared.sha, listing.format, listing.date,
        listing.entries, len(listing.problems), prepared.keys, prepared.tags, writing.rules,
        writing.frozen, by_import=listing.dating == "import",
    )  # fmt: skip
    if job.status:
        store.listings.set_stat(job.item.name, job.status)
    report.listings_new += 1
    report.sightings += result.sightings
    report.new_papers += result.new_papers
    report.merged += result.merged
    report.tagged += result.tagged
    return result.sightings


def _apply_identity_overrides(
    cfg: FeedConfig, store: Store, resolver: Resolver, frozen: Container[str]
) -> None:
    """When identity.merge/split changed since the last run, re-resolve every stored
    sighting under the new overrides, in one transaction (the only operation whose
    cost grows with the whole history; it runs only when the overrides change)."""
    if store.meta.get("identity_overrides") == cfg.identity.fingerprint:
        return
    with store.db.transaction():
        if store.papers.counts()["sightings"]:
            by_listing: dict[int, list[Entry]] = {}  # by version: a name may have several
            for listing_id, entry in store.listings.all_sightings():
                by_listing.setdefault(listing_id, []).append(entry)
            listing_meta = store.listings.meta()
            store.listings.clear_papers()
            for listing_id, (name, sha, fmt, date, problems) in listing_meta.items():
                entries = by_listing.get(listing_id, [])
                store_listing(
                    store, resolver, name, sha, fmt, date, entries, problems, frozen=frozen
                )
        store.meta.set("identity_overrides", cfg.identity.fingerprint)


@dataclass(slots=True)
class IngestResult:
    """What ingesting one listing changed."""

    sightings: int = 0
    new_papers: int = 0
    merged: int = 0
    tagged: int = 0
    """Papers tagged as they were stored (new papers, papers shown in a new version)."""
    skipped: bool = False
    """The same content was ingested before: nothing changed."""


def store_listing(
    store: Store,
    resolver: Resolver,
    name: str,
    sha256: str,
    fmt: str,
    date: dt.date | None,
    entries: Sequence[Entry],
    problems: int,
    keys: Sequence[EntryKeys] | None = None,
    tags: Sequence[tuple[str, str, float]] | None = None,
    rules: str = "",
    frozen: Container[str] = (),
    *,
    by_import: bool = False,
) -> IngestResult:
    """Store one listing's sightings in one transaction, each resolved to its paper.
    ``keys`` are the entries' identity keys when computed already (one per entry),
    ``tags`` their (tags as a JSON list, theme) under the rules of fingerprint
    ``rules``, likewise: a new paper, or a paper shown in a new version, is then
    tagged as it is stored (except in the ``frozen`` weeks, see
    :func:`digest.tag.frozen_weeks`).

    A listing stored before with the same content changes nothing. One stored before
    with other content is a new version of it: its entries whose text and date an
    earlier version had are seen already and add no sighting; the others are added.
    Nothing stored is ever removed. A listing dated ``by_import`` (a library export read
    again once it grew) is the exception to "text and date": its entries are seen already
    when an earlier version had their text, whatever the day, so each import adds only
    the papers new in it."""
    listings = store.listings
    if listings.has(name, sha256):
        return IngestResult(skipped=True)
    result = IngestResult()
    with store.db.transaction(join=True):
        listing_id, seen = listings.add(name, sha256, fmt, date, len(entries), problems)
        seen_texts = {text for text, _ in seen} if by_import else set()
        for i, entry in enumerate(entries):
            if seen:
                known = keys[i].text if keys is not None else ""
                known = known or text_hash(entry.title, entry.abstract)
                if (known, entry.date.isoformat()) in seen:
                    continue
                if by_import and known in seen_texts:
                    continue
            entry_key = keys[i] if keys is not None else entry_keys(entry, resolver.fuzzy)
            res = resolver(store, entry, entry_key)
            tagged = None
            if tags is not None and rules:
                tagged = (tags[i][0], tags[i][1], rules, tags[i][2])
            new = res.paper_id is None
            _, now_tagged = listings.add_sighting(
                listing_id, entry, res.paper_id, res.link(), res.text_hash, iso_week(entry.date),
                new_id=new_paper_id(entry, entry_key) if new else "", tagged=tagged, frozen=frozen,
            )  # fmt: skip
            result.new_papers += new
            result.merged += not new
            result.tagged += now_tagged
            result.sightings += 1
        store.weeks.flush_touched()
    return result
