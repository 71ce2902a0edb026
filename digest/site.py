"""The site and feeds: stored papers -> week pages, archive, RSS/Atom and theme feeds.

Input: the config, the store (papers already tagged), the output folder and
the run's date. Output: files written through :class:`~digest.output.Writer`
(atomically, only when changed) and a :class:`BuildReport`.

The build gathers first and writes last (Pelican's order): every week's
digest, then each week's files (:func:`render_week`, which depends only on
that week and the few weeks before it, for the trend chart), the archive,
and the feeds. Feed ids come from :func:`feed_uid`, kept in the store, and
each item's dates from :func:`item_dates`, also kept there, so an item's
dates move only when its content does and a new week never touches an older
item.

Cost follows the change. Weeks are rendered from their papers' rows, in
worker processes when several large weeks need it (``jobs``), while this
process reads the store and writes the pages in week order. A feed document
is assembled from its items' entries: the manifest records each entry's key
(the item's id, what its content is made from, and its stored dates), so an
entry still in the document written before is taken from it as it is, and
only new or changed items are rendered and serialized again; the bytes are
those of a build from scratch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from digest import __version__, feeds, render, workers
from digest.config import FeedConfig
from digest.errors import OutputError
from digest.grouping import (
    Trends,
    group_week,
    summarize_counts,
    summary_from_json,
    summary_to_json,
    theme_slugs,
    trends,
)
from digest.models import Paper, Sighting, WeekDigest, WeekSummary
from digest.output import Writer
from digest.outtext import clean_paper
from digest.store import PaperRows, Store, WeekState
from digest.store.papers import Papers
from digest.weeks import iso_week, midnight, week_bounds

TREND_WEEKS = 8
"""Weeks shown in a week page's chart (the page's own and the ones before it)."""


@dataclass(slots=True)
class BuildReport:
    """What one build wrote."""

    weeks: list[str] = field(default_factory=list)
    """Every week in the archive."""
    written: list[str] = field(default_factory=list)
    """Files whose content changed."""
    unchanged: int = 0
    """Files left alone because they were already right."""
    rebuilt: list[str] = field(default_factory=list)
    """Weeks whose pages were rendered in this run."""


@dataclass(frozen=True, slots=True)
class FeedLink:
    """One feed document as pages link to it."""

    href: str
    """Path relative to the site root (``rss.xml``, ``themes/inference.atom``)."""
    type: str
    """Media type (``application/rss+xml`` or ``application/atom+xml``)."""
    label: str
    """``RSS`` or ``Atom``."""
    title: str
    """Feed title, for ``<link rel=alternate title=...>``."""


@dataclass(frozen=True, slots=True)
class SiteLinks:
    """Every feed of the site, for the pages' links."""

    site: tuple[FeedLink, ...]
    """The weekly-issue feeds."""
    themes: dict[str, tuple[FeedLink, ...]]
    """Section slug -> that theme's feeds (empty without ``theme_feeds``)."""
    theme_names: dict[str, str]
    """Section slug -> theme name, in configured order."""

    @property
    def all(self) -> list[FeedLink]:
        """Site feeds first, then every theme feed."""
        return [*self.site, *(link for links in self.themes.values() for link in links)]


STALE = "+stale"
"""Suffix of a published week's hash whose page was kept although its papers changed."""

MANIFEST = ".digest-manifest.json"
"""What was rendered into an output folder: the render fingerprint, each week's hash and
each feed document's entries (:meth:`FeedDocument.manifest`)."""


PARALLEL_PAPERS = 2000
"""Fewest papers to render for which ``build(jobs > 1)`` renders week pages in worker
processes: below, starting them costs more than it saves."""


def build(
    cfg: FeedConfig,
    store: Store,
    out: Path,
    today: dt.date,
    *,
    jobs: int = 1,
    rebuild: bool = False,
) -> BuildReport:
    """Bring every output in ``out`` up to date with the store, rendering only what changed.

    Cost grows with the weeks that changed, not with the history: a week's
    papers are loaded only when they changed (or when its page is missing from
    ``out``), and the archive, charts and feeds are drawn from per-week
    summaries and feed items kept in the store. What counts as up to date is
    judged against ``out`` itself (its manifest and files), so a new or emptied
    output folder gets every file. With ``jobs`` > 1 and several weeks to render,
    worker processes render the pages while this process reads the store and
    writes the files (same bytes, in the same order).

    With ``rebuild``, nothing of what ``out`` holds is trusted: every file is made
    again from the store and written where its bytes differ, so the folder ends byte
    for byte as a build into an empty folder would leave it (pages edited or damaged
    by hand are repaired).
    """
    check_output_dir(cfg, out, store.path)
    writer = Writer(out)
    env = render.environment(cfg.templates)
    links = site_links(cfg)
    names = cfg.rules.section_names
    fingerprint = render_fingerprint(cfg)
    manifest = _read_manifest(out)
    fresh = rebuild or manifest.get("render") != fingerprint
    done: dict[str, Any] = {} if fresh else dict(manifest.get("weeks", {}))

    # 1-2. Week by week, oldest first, holding few weeks' papers at a time: bring the
    # stored digest state of a changed week up to date (hash, counts, feed item), then
    # render its pages if they need it. A page needs rendering when it is missing or its
    # content changed; once published, only when its papers or their themes changed (a
    # later sighting or a new version of an old paper does not rewrite a published page;
    # --rebuild does). A change of counts also redraws the charts of the weeks after it.
    # _plan decides (reading the store) and yields what to render; the pool renders it,
    # here or in workers, and the results come back in week order to be stored and written.
    uid = feed_uid(cfg, store)
    published = set(store.weeks.published())
    states = {s.week: s for s in store.feed.week_states()}
    summaries = {w: summary_from_json(w, s.summary) for w, s in states.items() if s.summary != "[]"}
    plan = _Plan(cfg, store, out, today, fresh, done, published, states, summaries)
    plan.keep_published()  # before counting what changed: most of these keep their pages
    changed = [w for w in plan.candidates if w in states and (fresh or states[w].dirty)]
    parallel = jobs > 1 and bool(changed) and store.papers.count_in(changed) >= PARALLEL_PAPERS
    if parallel:
        store.db.wait_for_checkpoint()  # no thread of SQLite's running when workers fork
    with (
        workers.Pool(_RenderState(env, cfg, links, uid), jobs if parallel else 0) as pool,
        _Files(writer) as files,
    ):
        for result in pool.map(_render_job, plan.jobs(split=parallel), parallel=parallel):
            if result.state is not None:
                plan.hashed(result.week, result.state[0])
                with store.db.transaction():
                    store.feed.set_week_state(result.week, *result.state)
            files.write(result.files)
    weeks, now, affected = plan.weeks, plan.now, plan.affected
    rendered = {w: now[w] if w in affected else done.get(w, now[w]) for w in weeks}

    # 3. The archive and the feeds, from summaries and stored feed items.
    kinds = set(cfg.output.formats)
    stale = bool(affected) or set(done) != set(weeks)
    if "html" in kinds and (stale or not (out / "index.html").is_file()):
        archive = [summaries.get(w) or summary_from_json(w, "[]") for w in reversed(weeks)]
        writer.write(
            "index.html", render.render(env, "index.html", feed=cfg, weeks=archive, links=links)
        )
    documents = [link.href for link in links.all]
    recorded: dict[str, Any] = {} if fresh else _manifest_feeds(manifest)
    built = recorded
    if stale or any(not (out / href).is_file() for href in documents):
        issues: list[ItemSource] = []
        for week in reversed(weeks):
            summary = summaries.get(week)
            if summary is None and not cfg.output.empty_weeks:
                continue
            item_id = f"{uid}:week:{week}"
            if week in states and summary is not None:
                # A stored issue is made from the week's digest: its hash and counts say
                # when it changed.
                version = f"{states[week].hash}\x1f{states[week].summary}"
                make = partial(_stored_issue, store, week)
            else:
                version = "no papers"
                make = partial(_week_item, cfg, env, uid, group_week(week, [], names))
            issues.append(ItemSource(item_id, version, make))
            if len(issues) == cfg.output.feed_items:
                break
        # Entries of items the documents showed before are taken from them, as they are.
        before = _previous_entries(out, links, recorded)
        built = {}
        for doc in feed_documents(cfg, env, store, issues, links, today, before):
            writer.write(doc.href, doc.data)
            built[doc.href] = doc.manifest()

    # 4. The manifest, last of the files: until it is written, the next build trusts
    # nothing this one wrote (a failed write leaves the one before, or none).
    if writer.written or fresh or done != rendered or built != recorded:
        record = {"render": fingerprint, "weeks": rendered, "feeds": built}
        writer.write(MANIFEST, json.dumps(record, indent=1))
    # 5. A week is published once it has ended; its tags are frozen from then on. After
    # every file is written: a build that failed publishes nothing it did not write.
    store.weeks.mark_published(
        [w for w in weeks if week_bounds(w)[1] < today and w in summaries], today
    )
    return BuildReport(
        weeks=weeks,
        written=[w for w in writer.written if w != MANIFEST],
        unchanged=len(writer.unchanged),
        rebuilt=affected,
    )


@dataclass(frozen=True, slots=True)
class _RenderState:
    """What rendering a week needs besides the week itself (shared with the workers)."""

    env: render.Environment
    cfg: FeedConfig
    links: SiteLinks
    uid: str
    """The feed's id (:func:`feed_uid`)."""


_PAGES = ("markdown", "html")
"""The kinds of week page, in the order they are written."""


@dataclass(frozen=True, slots=True)
class _WeekJob:
    """One week's work for :func:`_render_job`."""

    week: str
    rows: PaperRows | None
    """The week's papers, when its pages, hash or feed item are to be made from them."""
    counts: str | None
    """The week's new summary, to store with its hash; None: its stored state stays."""
    hash: str | None
    """Its new hash when known already (else made from :attr:`rows`)."""
    trend: Trends | None
    """The chart of its page; None: the pages stay as they are."""
    item: bool
    """Render its feed item (kept in the store)."""
    kinds: tuple[str, ...] = _PAGES
    """Which of its pages to render (a large week's pages can be rendered side by side)."""


@dataclass(frozen=True, slots=True)
class _WeekResult:
    """What :func:`_render_job` made of a :class:`_WeekJob`."""

    week: str
    state: tuple[str, str, str | None] | None
    """(hash, summary, feed item JSON or None to keep the stored one), to store."""
    files: dict[str, bytes]
    """The week's pages (relative path -> UTF-8) to write."""


def _render_job(state: _RenderState, job: _WeekJob) -> _WeekResult:
    """Render one week's pages and feed item, and hash it (in a worker process, or here)."""
    files: dict[str, bytes] = {}
    item: str | None = None
    digest = None
    if job.rows is not None:
        digest = _digest(job.week, job.rows, state.cfg)
        if job.item:
            item = _draft_to_json(_week_item(state.cfg, state.env, state.uid, digest))
        if job.trend is not None:
            pages = render_week(state.env, state.cfg, digest, job.trend, state.links, job.kinds)
            files = {relpath: text.encode("utf-8") for relpath, text in pages.items()}
    if job.counts is None:
        return _WeekResult(job.week, None, files)
    content_hash = job.hash
    if content_hash is None:
        assert digest is not None, "a week's hash is made from its digest"
        content_hash = _digest_hash(digest)
    return _WeekResult(job.week, (content_hash, job.counts, item), files)


class _Files:
    """Writes pages in order, in a thread of its own (writing overlaps rendering), with
    at most :attr:`AHEAD` weeks' pages waiting. Started at the first write (after any
    worker process was forked)."""

    AHEAD = 2

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self._thread: ThreadPoolExecutor | None = None
        self._pending: deque[Future[None]] = deque()

    def __enter__(self) -> _Files:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            if self._thread is not None:
                self._thread.shutdown(wait=True, cancel_futures=True)

    def write(self, files: dict[str, bytes]) -> None:
        """Write ``files`` (relative path -> bytes) after those given before."""
        if not files:
            return
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="digest-write")
        while len(self._pending) >= self.AHEAD:
            self._pending.popleft().result()
        self._pending.append(self._thread.submit(self._write, files))

    def _write(self, files: dict[str, bytes]) -> None:
        for relpath, data in files.items():
            self.writer.write(relpath, data)


class _Plan:
    """Decides, week by week and oldest first, what a build renders (see :func:`build`).

    :meth:`jobs` reads the store and yields the work; what it decided is left in
    :attr:`weeks`, :attr:`now` and :attr:`affected` (and in the ``states`` and
    ``summaries`` it was given, which it brings up to date)."""

    def __init__(
        self,
        cfg: FeedConfig,
        store: Store,
        out: Path,
        today: dt.date,
        fresh: bool,
        done: dict[str, Any],
        published: set[str],
        states: dict[str, WeekState],
        summaries: dict[str, WeekSummary],
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.out = out
        self.fresh = fresh
        self.done = done
        self.published = published
        self.states = states
        self.summaries = summaries
        self.candidates = _weeks(cfg, sorted(states), today)
        """Weeks the archive may show, oldest first."""
        self.weeks: list[str] = []
        """Weeks in the archive."""
        self.now: dict[str, list[str]] = {}
        """Week -> [content hash, counts fingerprint], as the manifest keeps them."""
        self.affected: list[str] = []
        """Weeks whose pages are rendered."""
        self.recounted: list[str] = []
        """Weeks whose counts changed (their charts, and those after them, are redrawn)."""

    def jobs(self, split: bool = False) -> Iterator[_WeekJob]:
        """The work of each week that has some, oldest first; with ``split``, the last
        week's pages as one job per page (side by side in workers: the current week is
        often the only one a run renders, or the last one left)."""
        for week in self.candidates:
            job = self._week(week)
            if job is None:
                continue
            pages = [k for k in _PAGES if k in self.cfg.output.formats]
            if not split or week != self.candidates[-1] or job.trend is None or len(pages) < 2:
                yield job
                continue
            # The first page's job also makes the week's hash and feed item.
            yield replace(job, kinds=(pages[0],))
            for kind in pages[1:]:
                yield _WeekJob(job.week, job.rows, None, None, job.trend, False, (kind,))

    def keep_published(self) -> None:
        """Published weeks that changed (a later sighting of one of their papers, a new
        version) but whose counts did not keep their pages as they are: they are marked
        so (not dirty, their hash marked stale for --rebuild), and nothing more of them
        is loaded."""
        if self.fresh:
            return
        names = self.cfg.rules.section_names
        touched = [
            w for w in self.candidates
            if w in self.published and w in self.states and self.states[w].dirty
        ]  # fmt: skip
        if not touched:
            return
        with self.store.db.transaction():
            for week in touched:
                state = self.states[week]
                if state.counted:  # only sightings changed: the counts did not
                    summary = state.summary
                else:
                    counts = self.store.feed.week_theme_counts(week)
                    summary = summary_to_json(summarize_counts(week, counts, names))
                if summary == state.summary:
                    kept = state.hash if state.hash.endswith(STALE) else state.hash + STALE
                    self.store.feed.set_week_state(week, kept, summary, None)
                    self.states[week] = WeekState(week, False, kept, summary)

    def _week(self, week: str) -> _WeekJob | None:
        cfg, store, names = self.cfg, self.store, self.cfg.rules.section_names
        states, summaries, published = self.states, self.summaries, self.published
        rows: PaperRows | None = None
        new_counts: str | None = None
        want_item = False
        state = states.get(week)
        if state is not None and (
            state.dirty or self.fresh or (state.hash.endswith(STALE) and week not in published)
        ):
            # The papers are made of their rows where the pages are rendered (maybe in a
            # worker); their counts, as summarize(group_week(...)) would give them, here.
            rows = store.papers.week_rows(week)
            themes: dict[str, int] = {}
            for row in rows.papers:
                themes[row[6]] = themes.get(row[6], 0) + 1
            counts = summary_to_json(summarize_counts(week, list(themes.items()), names))
            want_item = not (week in published and counts == state.summary and not self.fresh)
            # The hash is made with the pages (maybe in a worker), unless needed before.
            new_counts = counts
            state = states[week] = WeekState(week, False, _LATER, counts)
            if counts == "[]":
                summaries.pop(week, None)
            else:
                summaries[week] = summary_from_json(week, counts)
        if week not in summaries and not cfg.output.empty_weeks:
            return self._changed_only(week, rows, new_counts, want_item)
        self.weeks.append(week)
        self.now[week] = (
            [state.hash, _fingerprint([state.summary])]
            if state is not None and week in summaries
            else ["empty", "empty"]
        )
        before = self.done.get(week)
        if not isinstance(before, list) or len(before) != 2:
            before = None
        missing = any(not (self.out / f).is_file() for f in week_files(cfg, week))
        if before is None or missing or before[1] != self.now[week][1]:
            self.recounted.append(week)
            render_it = True
        else:
            if state is not None and state.hash == _LATER and rows is not None:
                self.hashed(week, _digest_hash(_digest(week, rows, cfg)))
            render_it = (before[0] != self.now[week][0] and week not in published) or any(
                0 < _weeks_between(c, week) < TREND_WEEKS for c in self.recounted
            )
        if not render_it:
            return self._changed_only(week, rows, new_counts, want_item)
        if rows is None:
            rows = store.papers.week_rows(week)
        self.affected.append(week)
        trend = trends(summaries, week, names, TREND_WEEKS)
        return _WeekJob(week, rows, new_counts, self._hash(week), trend, want_item)

    def hashed(self, week: str, content_hash: str) -> None:
        """Record the hash of a week whose hash was made later (by its job)."""
        state = self.states[week]
        if state.hash != _LATER:
            return
        self.states[week] = WeekState(week, state.dirty, content_hash, state.summary)
        if self.now.get(week, [""])[0] == _LATER:
            self.now[week][0] = content_hash

    def _changed_only(
        self, week: str, rows: PaperRows | None, counts: str | None, item: bool
    ) -> _WeekJob | None:
        """The job of a week whose pages stay: its state and feed item, if they changed."""
        if counts is None:
            return None
        content_hash = self._hash(week)
        keep = item or content_hash is None  # what the job makes from the digest
        return _WeekJob(week, rows if keep else None, counts, content_hash, None, item)

    def _hash(self, week: str) -> str | None:
        state = self.states.get(week)
        return None if state is None or state.hash == _LATER else state.hash


def _digest(week: str, rows: PaperRows, cfg: FeedConfig) -> WeekDigest:
    """A week's digest, from its papers' rows."""
    papers = [clean_paper(p) for p in Papers.from_rows(rows)]
    return group_week(week, papers, cfg.rules.section_names)


_LATER = "?"
"""Stands for a week's hash until its job has made it."""


def check_output_dir(cfg: FeedConfig, out: Path, store: Path | None = None) -> None:
    """Refuse an output folder that holds the feed's own files: ``/``, the feed folder,
    or a folder equal to or holding the store (``store``, default the configured one),
    the feed folder or a source's folder. Pages are written there and temporary files
    swept, so a mistaken ``--out`` must stop the run before anything is touched."""
    where = out.resolve()
    if where == Path(where.anchor):
        raise OutputError(f"the output folder {out} is the root of the file system")
    held = {"the feed folder": cfg.root, "the store": store or cfg.store}
    for source in cfg.sources:
        if source.path is not None:
            held[f"the source {source.path}"] = _glob_base(cfg.root / source.path)
    for what, path in held.items():
        path = path.resolve()
        if where == path or where in path.parents:
            verb = "is" if where == path else "holds"
            raise OutputError(
                f"the output folder {out} {verb} {what} ({path})",
                hint="write the outputs to a folder of their own (output.dir or --out)",
            )


def _glob_base(pattern: Path) -> Path:
    """The folder a glob pattern starts from (its longest part without wildcards)."""
    base = Path(pattern.anchor)
    for part in pattern.parts[len(base.parts) :]:
        if any(char in part for char in "*?["):
            break
        base /= part
    return base


def week_files(cfg: FeedConfig, week: str) -> list[str]:
    """The files a week's page is written to."""
    kinds = set(cfg.output.formats)
    return [
        f for f, kind in ((f"{week}.md", "markdown"), (f"{week}.html", "html")) if kind in kinds
    ]


OUTPUT_FORMAT = 2
"""Version of how pages are made from the store beyond what the templates say (2: text
passes through :func:`~digest.outtext.clean_paper`): a new one renders every page again."""


def render_fingerprint(cfg: FeedConfig) -> str:
    """Changes whenever anything that shapes the rendered files does: the templates
    (defaults and overrides), the presentation settings and the theme list."""
    parts = [
        __version__,
        str(OUTPUT_FORMAT),
        cfg.title,
        cfg.description,
        cfg.base_url,
        cfg.language,
        cfg.author,
        cfg.timezone,
        repr(cfg.output.formats),
        str(cfg.output.feed_items),
        str(cfg.output.theme_feed_items),
        str(cfg.output.empty_weeks),
        repr(cfg.rules.section_names),
    ]
    for folder in (render.default_template_dir(), cfg.templates):
        if folder is None:
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                parts.append(str(path.relative_to(folder)))
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return _fingerprint(parts)


def _read_manifest(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _digest_hash(digest: WeekDigest) -> str:
    """Fingerprint of everything a week's pages show: the sections, and per paper its
    text, tags, links, authors, first date and sightings.

    What :func:`_fingerprint` gives of all these parts, hashed a paper at a time (the
    same bytes, without joining and encoding the whole week in one piece)."""
    sha = hashlib.sha256()
    for section in digest.sections:
        sha.update(f"{section.name}\x1f".encode())
        for p in section.papers:
            parts = (
                p.id,
                p.title,
                p.abstract,
                repr(p.tags),
                p.url or "",
                p.source_id or "",
                repr(p.authors),
                p.first_seen.isoformat(),
                _sightings_repr(p.sightings),
                "",  # each part is followed by U+001F
            )
            sha.update("\x1f".join(parts).encode("utf-8"))
    return sha.hexdigest()[:32]


def _sightings_repr(sightings: Sequence[Sighting]) -> str:
    """``repr([(s.listing, s.date.isoformat(), s.position) for s in sightings])``, with
    the part of each listing name and date made once (they repeat across papers)."""
    if len(sightings) == 1:  # the usual case
        only = sightings[0]
        return f"[{_listing_repr(only.listing, only.date)}{only.position!r})]"
    shown = ", ".join(f"{_listing_repr(s.listing, s.date)}{s.position!r})" for s in sightings)
    return f"[{shown}]"


@lru_cache(maxsize=4096)
def _listing_repr(listing: str, date: dt.date) -> str:
    """``(LISTING, DATE, `` as ``repr`` of a ``(listing, ISO date, position)`` tuple begins."""
    return f"({listing!r}, {date.isoformat()!r}, "


def _weeks(cfg: FeedConfig, weeks: list[str], today: dt.date) -> list[str]:
    """Weeks in the archive: those with papers, and with ``output.empty_weeks`` also the
    weeks without papers between the first one and the last ended one."""
    if cfg.output.empty_weeks and weeks:
        last_ended = iso_week(today - dt.timedelta(days=7))
        return _all_weeks(weeks[0], max(weeks[-1], last_ended))
    return weeks


def _weeks_between(a: str, b: str) -> int:
    return (week_bounds(b)[0] - week_bounds(a)[0]).days // 7


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """One feed document, as :func:`feed_documents` made it."""

    href: str
    """Path relative to the site root."""
    data: bytes
    """The document."""
    key: str
    """Fingerprint of everything in it (its channel and :attr:`entries`)."""
    entries: tuple[str, ...]
    """The key of each item's entry (see :class:`_Items`), in order."""
    sha256: str = ""
    """SHA-256 of :attr:`data`, when known already."""

    def manifest(self) -> dict[str, Any]:
        """What the manifest keeps of it, to take its entries back (:func:`_previous_entries`)."""
        sha = self.sha256 or _sha256(self.data)
        return {"sha256": sha, "key": self.key, "entries": list(self.entries)}


@dataclass(frozen=True, slots=True)
class PreviousEntries:
    """The entries of documents written before, to take instead of making them again."""

    documents: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    """Path -> (its key, its bytes, their SHA-256), for documents as they were written."""
    entries: dict[str, bytes] = field(default_factory=dict)
    """Entry key -> the entry's XML."""


@dataclass(frozen=True, slots=True)
class ItemSource:
    """A feed item before it is made: its id, what it is made from, and how to make it."""

    id: str
    """The item's id (GUID)."""
    version: str
    """Changes whenever anything its content is made from does (the render fingerprint
    aside: a new one discards every kept entry)."""
    make: Callable[[], _Draft]
    """Makes the item (reading the store, rendering its content)."""


def feed_documents(
    cfg: FeedConfig,
    env: render.Environment,
    store: Store,
    issues: Sequence[ItemSource],
    links: SiteLinks,
    today: dt.date,
    before: PreviousEntries | None = None,
) -> list[FeedDocument]:
    """Every feed document: the weekly issues given (newest first), and per theme its
    newest ``theme_feed_items`` papers.

    An item whose entry is in ``before`` (same item, same version, same dates) is taken
    from there without being made, and a document whose entries and channel are all
    as they were is taken whole: the cost follows what changed, the bytes do not."""
    before = before or PreviousEntries()
    uid = feed_uid(cfg, store)
    epoch = midnight(feed_epoch(store, today), cfg.timezone)
    now = midnight(today, cfg.timezone)
    out: list[FeedDocument] = []
    with store.db.transaction():
        items = _Items(store, now, issues)
        for link in links.site:
            meta = _meta(cfg, uid, cfg.title, cfg.description, link.href, epoch)
            out.append(_document(link, meta, items, before))
        for slug, theme_links in links.themes.items():
            name = links.theme_names[slug]
            versions = store.feed.newest_versions(name, cfg.output.theme_feed_items)
            papers = _PaperLoader(cfg, env, store, uid, name)
            sources = [
                ItemSource(f"{uid}:paper:{i}", name + "\x1f" + version, partial(papers.item, i))
                for i, version in versions.items()
            ]
            items = _Items(store, now, sources, papers.load)
            description = f"New papers on {name}, one item per paper."
            for link in theme_links:
                meta = _meta(
                    cfg,
                    f"{uid}:theme:{slug}",
                    f"{cfg.title}: {name}",
                    description,
                    link.href,
                    epoch,
                )
                out.append(_document(link, meta, items, before))
    return out


class _Items:
    """The items of a feed's documents (its RSS and its Atom), each made and dated only
    when a document needs an entry that ``before`` does not hold.

    An item's key is the fingerprint of its id, its :attr:`ItemSource.version` and its
    dates as the store keeps them (:func:`item_dates`): while these stay, making the
    item again would give the same content, hence the same fingerprint, hence the
    same dates, and so the same entry."""

    def __init__(
        self,
        store: Store,
        now: dt.datetime,
        sources: Sequence[ItemSource],
        prepare: Callable[[Sequence[str]], None] | None = None,
    ) -> None:
        self.store = store
        self.now = now
        self.sources = sources
        self._prepare = prepare
        records = store.meta.values([_DATES + s.id for s in sources])
        self.keys = [self._key(s, records.get(_DATES + s.id, "")) for s in sources]
        """Each item's key."""
        self.updated = [_updated(records.get(_DATES + s.id, "")) for s in sources]
        """Each item's updated date, from its stored dates (None while it has none)."""
        self._made: dict[int, feeds.FeedItem] = {}

    def make(self, indexes: Sequence[int]) -> list[feeds.FeedItem]:
        """The items at ``indexes``, made and dated (their keys and dates brought up to date)."""
        todo = [i for i in indexes if i not in self._made]
        if todo and self._prepare is not None:
            self._prepare([self.sources[i].id for i in todo])
        for i in todo:
            item = _dated(self.store, self.sources[i].make(), self.now)
            self._made[i] = item
            record = self.store.meta.get(_DATES + item.id)
            self.keys[i] = self._key(self.sources[i], record)
            self.updated[i] = item.updated
        return [self._made[i] for i in indexes]

    @staticmethod
    def _key(source: ItemSource, record: str) -> str:
        return _fingerprint([source.id, source.version, record])


_DATES = "feed_item:"
"""Prefix of the store's meta keys of items' dates (see :func:`item_dates`)."""


def _updated(record: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(json.loads(record)["updated"]) if record else None


class _PaperLoader:
    """Makes the items of one theme's papers, loading those asked for in one query."""

    def __init__(
        self, cfg: FeedConfig, env: render.Environment, store: Store, uid: str, theme: str
    ) -> None:
        self.cfg, self.env, self.store, self.uid, self.theme = cfg, env, store, uid, theme
        self._papers: dict[str, Paper] = {}

    def load(self, item_ids: Sequence[str]) -> None:
        """Load the papers of these items (ids ``UID:paper:ID``) before they are made."""
        ids = [i.rsplit(":", 1)[1] for i in item_ids]
        self._papers.update((p.id, clean_paper(p)) for p in self.store.papers.load(ids=ids))

    def item(self, paper_id: str) -> _Draft:
        """The item of one paper (loaded by :meth:`load`)."""
        if paper_id not in self._papers:
            found = self.store.papers.load(ids=[paper_id])
            self._papers.update((p.id, clean_paper(p)) for p in found)
        return _paper_item(self.cfg, self.env, self.uid, self._papers[paper_id], self.theme)


def site_links(cfg: FeedConfig) -> SiteLinks:
    """The feeds this configuration publishes, as pages link to them."""
    kinds = set(cfg.output.formats)
    site: list[FeedLink] = []
    if "rss" in kinds:
        site.append(FeedLink("rss.xml", feeds.RSS_TYPE, "RSS", cfg.title))
    if "atom" in kinds:
        site.append(FeedLink("atom.xml", feeds.ATOM_TYPE, "Atom", cfg.title))
    themes: dict[str, tuple[FeedLink, ...]] = {}
    slugs = theme_slugs(cfg.rules.section_names)
    if "theme_feeds" in kinds:
        # Theme feeds follow the site's choice of formats; asked for alone, both are written.
        rss, atom = "rss" in kinds or "atom" not in kinds, "atom" in kinds or "rss" not in kinds
        for name, slug in slugs.items():
            title = f"{cfg.title}: {name}"
            themes[slug] = tuple(
                link
                for link, wanted in (
                    (FeedLink(f"themes/{slug}.xml", feeds.RSS_TYPE, "RSS", title), rss),
                    (FeedLink(f"themes/{slug}.atom", feeds.ATOM_TYPE, "Atom", title), atom),
                )
                if wanted
            )
    return SiteLinks(
        site=tuple(site), themes=themes, theme_names={slug: n for n, slug in slugs.items()}
    )


def render_week(
    env: render.Environment,
    cfg: FeedConfig,
    digest: WeekDigest,
    trend: Trends,
    links: SiteLinks,
    kinds: Collection[str] = _PAGES,
) -> dict[str, str]:
    """One week's files (relative path -> text): its Markdown and HTML pages (those of
    ``kinds`` that the configuration publishes)."""
    kinds = set(cfg.output.formats) & set(kinds)
    ctx = {"feed": cfg, "digest": digest, "trend": trend, "links": links}
    out: dict[str, str] = {}
    if "markdown" in kinds:
        out[f"{digest.week}.md"] = render.render(env, "week.md", **ctx)
    if "html" in kinds:
        out[f"{digest.week}.html"] = render.render(env, "week.html", **ctx)
    return out


def feed_uid(cfg: FeedConfig, store: Store) -> str:
    """The feed's permanent id: chosen at the first build from the base URL, then kept
    in the store, so a later change of base_url or title never changes any GUID."""
    uid = store.meta.get("feed_uid")
    if not uid:
        uid = "urn:digest:" + hashlib.sha256(cfg.base_url.encode()).hexdigest()[:16]
        with store.db.transaction():
            store.meta.set("feed_uid", uid)
    return uid


def feed_epoch(store: Store, today: dt.date) -> dt.date:
    """The date of the first build, kept in the store: the date of a feed with no items
    (a fixed date, so an empty feed's bytes do not change from run to run)."""
    epoch = store.meta.get("feed_epoch")
    if not epoch:
        epoch = today.isoformat()
        with store.db.transaction():
            store.meta.set("feed_epoch", epoch)
    return dt.date.fromisoformat(epoch)


def item_dates(
    store: Store, item_id: str, fingerprint: str, first: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """``(published, updated)`` of a feed item, kept in the store (inside the caller's
    transaction). A new item is dated ``first`` (the date of its content); an item
    whose ``fingerprint`` changed gets ``now`` as its updated date; otherwise the
    stored dates are returned unchanged."""
    key = f"feed_item:{item_id}"
    raw = store.meta.get(key)
    if raw:
        old = json.loads(raw)
        published = dt.datetime.fromisoformat(old["published"])
        updated = dt.datetime.fromisoformat(old["updated"])
        if old["fingerprint"] == fingerprint:
            return published, updated
        updated = max(updated, now)
    else:
        published = updated = first
    record = {
        "fingerprint": fingerprint,
        "published": published.isoformat(),
        "updated": updated.isoformat(),
    }
    store.meta.set(key, json.dumps(record, sort_keys=True))
    return published, updated


@dataclass(frozen=True, slots=True)
class _Draft:
    """A feed item before its dates are known."""

    item: feeds.FeedItem
    first: dt.datetime
    """Date of the content, used when the item is new."""


def _draft_to_json(draft: _Draft) -> str:
    item = draft.item
    return json.dumps(
        {
            "id": item.id,
            "title": item.title,
            "link": item.link,
            "summary": item.summary,
            "content": item.content_html,
            "first": draft.first.isoformat(),
        },
        ensure_ascii=False,
    )


def _stored_issue(store: Store, week: str) -> _Draft:
    """A week's issue as the store keeps it."""
    return _draft_from_json(store.feed.week_item(week))


def _draft_from_json(text: str) -> _Draft:
    data = json.loads(text)
    first = dt.datetime.fromisoformat(data["first"])
    item = feeds.FeedItem(
        id=data["id"],
        title=data["title"],
        link=data["link"],
        published=first,
        updated=first,
        content_html=data["content"],
        summary=data["summary"],
    )
    return _Draft(item, first)


def _dated(store: Store, draft: _Draft, now: dt.datetime) -> feeds.FeedItem:
    item = draft.item
    fingerprint = _fingerprint(
        [item.title, item.link, item.summary, item.content_html, *item.categories]
    )
    published, updated = item_dates(store, item.id, fingerprint, draft.first, now)
    return feeds.FeedItem(
        id=item.id,
        title=item.title,
        link=item.link,
        published=published,
        updated=updated,
        content_html=item.content_html,
        summary=item.summary,
        categories=item.categories,
    )


def _fingerprint(parts: Iterable[str]) -> str:
    """SHA-256 (32 hex digits) of the parts, each one followed by U+001F (joined and
    hashed in one piece)."""
    return hashlib.sha256("\x1f".join([*parts, ""]).encode("utf-8")).hexdigest()[:32]


def _document(
    link: FeedLink, meta: feeds.FeedMeta, items: _Items, before: PreviousEntries
) -> FeedDocument:
    """One feed document of ``items``: taken whole from ``before`` when all in it is as
    it was; else made of the entries ``before`` holds and the entries of the items made
    now."""
    atom = link.type == feeds.ATOM_TYPE
    fmt = [feeds.WRITER, link.type]
    channel = [
        meta.title,
        meta.description,
        meta.id,
        meta.site_url,
        meta.self_url,
        meta.updated.isoformat(),
        meta.language,
        meta.author,
    ]
    keys = [_fingerprint([*fmt, key]) for key in items.keys]
    key = _fingerprint([*fmt, *channel, *keys])
    old = before.documents.get(link.href)
    if old is not None and old[0] == key:
        return FeedDocument(link.href, old[1], key, tuple(keys), old[2])
    entries: list[bytes | None] = [before.entries.get(k) for k in keys]
    todo = [i for i, entry in enumerate(entries) if entry is None]
    if todo:
        made = items.make(todo)
        for i, entry in zip(todo, feeds.entries(made, atom=atom), strict=True):
            entries[i] = entry
            keys[i] = _fingerprint([*fmt, items.keys[i]])
        key = _fingerprint([*fmt, *channel, *keys])
    updated = [u for u in items.updated if u is not None]
    data = feeds.document(meta, [e for e in entries if e is not None], updated, atom=atom)
    return FeedDocument(link.href, data, key, tuple(keys))


def _manifest_feeds(manifest: dict[str, Any]) -> dict[str, Any]:
    feeds_ = manifest.get("feeds")
    return dict(feeds_) if isinstance(feeds_, dict) else {}


def _previous_entries(out: Path, links: SiteLinks, recorded: dict[str, Any]) -> PreviousEntries:
    """The entries of the feed documents in ``out`` that are as the manifest recorded them
    (same bytes), each under its fingerprint; a document edited or lost since gives none."""
    found = PreviousEntries()
    for link in links.all:
        record = recorded.get(link.href)
        if not isinstance(record, dict):
            continue
        keys, key = record.get("entries"), record.get("key")
        if not isinstance(keys, list) or not isinstance(key, str):
            continue
        try:
            data = (out / link.href).read_bytes()
        except OSError:
            continue
        if _sha256(data) != record.get("sha256"):
            continue
        entries = feeds.read_entries(data, atom=link.type == feeds.ATOM_TYPE)
        if entries is None or len(entries) != len(keys):
            continue
        found.documents[link.href] = (key, data, record["sha256"])
        found.entries.update(zip((str(k) for k in keys), entries, strict=True))
    return found


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _meta(
    cfg: FeedConfig, uid: str, title: str, description: str, href: str, epoch: dt.datetime
) -> feeds.FeedMeta:
    return feeds.FeedMeta(
        title=title,
        description=description,
        id=uid,
        site_url=cfg.base_url,
        self_url=cfg.base_url + href,
        updated=epoch,
        language=cfg.language,
        author=cfg.author,
    )


def _week_url(cfg: FeedConfig, week: str) -> str:
    return render.week_url(cfg.base_url, cfg.output.formats, week)


def _week_item(cfg: FeedConfig, env: render.Environment, uid: str, digest: WeekDigest) -> _Draft:
    content = render.render(
        env, "feed_item.html", feed=cfg, digest=digest, page=_week_url(cfg, digest.week)
    )
    item = feeds.FeedItem(
        id=f"{uid}:week:{digest.week}",
        title=f"{cfg.title}: {digest.week} ({render.plural(digest.count, 'paper')})",
        link=_week_url(cfg, digest.week),
        published=midnight(digest.end, cfg.timezone),
        updated=midnight(digest.end, cfg.timezone),
        content_html=content,
        summary=", ".join(f"{s.name} ({len(s.papers)})" for s in digest.sections)
        or "No new papers this week.",
    )
    # An empty week's issue is dated from the end of the week it reports on.
    first = digest.updated if digest.count else digest.end
    return _Draft(item, midnight(first, cfg.timezone))


def _paper_item(
    cfg: FeedConfig, env: render.Environment, uid: str, paper: Paper, theme: str
) -> _Draft:
    page = _week_url(cfg, paper.week)
    if "html" in cfg.output.formats:
        page += f"#{paper.id}"
    content = render.render(env, "feed_paper.html", feed=cfg, paper=paper, theme=theme, page=page)
    item = feeds.FeedItem(
        id=f"{uid}:paper:{paper.id}",
        title=render.readable(paper.title),
        link=page,
        published=midnight(paper.first_seen, cfg.timezone),
        updated=midnight(paper.first_seen, cfg.timezone),
        content_html=content,
        summary=render.readable(render.split_abstract(paper.abstract)[0]),
        categories=paper.tags,
    )
    return _Draft(item, midnight(paper.first_seen, cfg.timezone))


def _newest(papers: Sequence[Paper]) -> list[Paper]:
    return sorted(papers, key=lambda p: (p.first_seen, p.id), reverse=True)


def _all_weeks(first: str, last: str) -> list[str]:
    monday, _ = week_bounds(first)
    end, _ = week_bounds(last)
    out = []
    while monday <= end:
        out.append(iso_week(monday))
        monday += dt.timedelta(days=7)
    return out
