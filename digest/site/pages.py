"""Week pages: a week's papers -> its Markdown and HTML pages, hash and feed item.

Input: :class:`WeekJob` items (a week's rows, its chart, what to make of it) and the
shared :class:`RenderState`. Output: :class:`WeekResult` items (the files to write,
the state to record), made here or in worker processes (:mod:`digest.workers`),
and written in week order by :class:`Files`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from digest import render, search
from digest.cards import card
from digest.config import FeedConfig
from digest.editorial import EMPTY, Editorial, curated_week
from digest.grouping import Trends, tag_sections
from digest.latex import readable
from digest.models import WeekDigest
from digest.output import Writer
from digest.outtext import clean_paper
from digest.site import searchpage
from digest.site.items import draft_to_json, week_item
from digest.site.links import SiteLinks
from digest.site.manifest import digest_hash
from digest.site.record import papers_from_rows
from digest.store import PaperRows

PAGES = ("markdown", "html")
"""The kinds of week page, in the order they are written."""

BIG_WEEK = 2000
"""Papers a week has on average from which the build gives each worker process one
job ahead, not two (:meth:`~digest.workers.Pool.map`'s ``ahead``)."""

PARALLEL_PAPERS = 2000
"""Fewest papers to render for which ``build(jobs > 1)`` renders week pages in worker
processes: below, starting them costs more than it saves."""


@dataclass(frozen=True, slots=True)
class RenderState:
    """What rendering a week needs besides the week itself (shared with the workers)."""

    env: render.Environment
    cfg: FeedConfig
    links: SiteLinks
    uid: str
    """The feed's id (:func:`digest.feedid.feed_uid`)."""
    editorial: Editorial = EMPTY
    """The curator's notes and decisions."""
    search: bool = False
    """Make the search records of the weeks whose HTML page is rendered."""


@dataclass(frozen=True, slots=True)
class WeekJob:
    """One week's work for :func:`render_job`."""

    week: str
    rows: PaperRows | None
    """The week's papers, when its pages, hash or feed item are to be made from them."""
    counts: str | None
    """The week's new summary, to record with its hash; None: its stored state stays."""
    hash: str | None
    """Its new hash when known already (else made from :attr:`rows`)."""
    trend: Trends | None
    """The chart of its page; None: the pages stay as they are."""
    item: bool
    """Render its feed item (kept in the store)."""
    kinds: tuple[str, ...] = PAGES
    """Which of its pages to render (a large week's pages can be rendered side by side)."""


@dataclass(frozen=True, slots=True)
class WeekResult:
    """What :func:`render_job` made of a :class:`WeekJob`."""

    week: str
    state: tuple[str, str, tuple[str, str] | None] | None
    """(hash, summary, its issue's (item id, draft JSON) or None to keep the stored
    one), to record."""
    files: dict[str, bytes]
    """The week's pages (relative path -> UTF-8) to write."""
    picks: list[list[str]] | None = None
    """When its pages were rendered: its top picks as the archive lists them, each
    [paper id, title (plain text, LaTeX as Unicode), the paper's link]."""
    records: list[search.Record] | None = None
    """When its HTML page was rendered and search is on: its papers' search records."""


def render_job(state: RenderState, job: WeekJob) -> WeekResult:
    """Render one week's pages and feed item, and hash it (in a worker process, or here)."""
    files: dict[str, bytes] = {}
    item: tuple[str, str] | None = None
    picks: list[list[str]] | None = None
    records: list[search.Record] | None = None
    digest = None
    if job.rows is not None:
        digest = week_digest(job.week, job.rows, state.cfg, state.editorial)
        if job.item:
            draft = week_item(state.cfg, state.env, state.uid, digest)
            item = (draft.item.id, draft_to_json(draft))
        if job.trend is not None:
            pages = render_week(state.env, state.cfg, digest, job.trend, state.links, job.kinds)
            files = {relpath: text.encode("utf-8") for relpath, text in pages.items()}
            picks = [
                [p.id, readable(p.title), card(p, state.cfg.reading).href] for p in digest.picks
            ]
            if state.search and "html" in job.kinds:
                records = searchpage.records(state.cfg, digest)
    if job.counts is None:
        return WeekResult(job.week, None, files, picks, records)
    content_hash = job.hash
    if content_hash is None:
        assert digest is not None, "a week's hash is made from its digest"
        content_hash = digest_hash(digest)
    return WeekResult(job.week, (content_hash, job.counts, item), files, picks, records)


def week_digest(
    week: str, rows: PaperRows, cfg: FeedConfig, editorial: Editorial = EMPTY
) -> WeekDigest:
    """A week's digest, from its papers' rows (curated already, see
    :func:`~digest.editorial.curate_rows`): in relevance order, with its top picks, the
    curator's note and comments."""
    papers = [clean_paper(p) for p in papers_from_rows(rows)]
    return curated_week(week, papers, cfg.rules, editorial, cfg.reading.top_picks)


def render_week(
    env: render.Environment,
    cfg: FeedConfig,
    digest: WeekDigest,
    trend: Trends,
    links: SiteLinks,
    kinds: Collection[str] = PAGES,
) -> dict[str, str]:
    """One week's files (relative path -> text): its Markdown and HTML pages (those of
    ``kinds`` that the configuration publishes)."""
    kinds = set(cfg.output.formats) & set(kinds)
    ctx = {
        "feed": cfg,
        "digest": digest,
        "trend": trend,
        "links": links,
        "tag_sections": tag_sections(cfg.rules, digest),
    }
    out: dict[str, str] = {}
    if "markdown" in kinds:
        out[f"{digest.week}.md"] = render.render(env, "week.md", **ctx)
    if "html" in kinds:
        out[f"{digest.week}.html"] = render.render(env, "week.html", **ctx)
    return out


def week_files(cfg: FeedConfig, week: str, indexed: bool = False) -> list[str]:
    """The files a week's page is written to (and, with search, the entry of its index
    when ``indexed``: a week with papers)."""
    kinds = set(cfg.output.formats)
    files = [
        f for f, kind in ((f"{week}.md", "markdown"), (f"{week}.html", "html")) if kind in kinds
    ]
    return [*files, searchpage.bundle_entry(week)] if indexed and search.enabled(cfg) else files


class Files:
    """Writes pages in order, in a thread of its own (writing overlaps rendering), with
    at most :attr:`AHEAD` weeks' pages waiting. Started at the first write (after any
    worker process was forked)."""

    AHEAD = 2
    AHEAD_BYTES = 64 << 20
    """Bytes of pages waiting at most (beyond one week's): a week of 20,000 papers has
    pages of 100 MB."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self._thread: ThreadPoolExecutor | None = None
        self._pending: deque[tuple[Future[None], int]] = deque()

    def __enter__(self) -> Files:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            while self._pending:
                self._pending.popleft()[0].result()
        finally:
            if self._thread is not None:
                self._thread.shutdown(wait=True, cancel_futures=True)

    def write(self, files: dict[str, bytes]) -> None:
        """Write ``files`` (relative path -> bytes) after those given before."""
        if not files:
            return
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="digest-write")
        size = sum(len(data) for data in files.values())
        while self._pending and (
            len(self._pending) >= self.AHEAD
            or sum(n for _, n in self._pending) + size > self.AHEAD_BYTES
        ):
            self._pending.popleft()[0].result()
        self._pending.append((self._thread.submit(self._write, files), size))

    def _write(self, files: dict[str, bytes]) -> None:
        for relpath, data in files.items():
            self.writer.write(relpath, data)
