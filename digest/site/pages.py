"""Week pages: a week's papers -> its Markdown and HTML pages, hash and feed item.

Input: :class:`WeekJob` items (a week's rows, its chart, what to make of it) and the
shared :class:`RenderState`. Output: the week's pages, written to the output folder
(and its search records to the search's scratch folder) where they are rendered, here
or in a worker process (:mod:`digest.workers`), and :class:`WeekResult` items: what
was written, and the state to record. Pages never cross between processes: a week of
20,000 papers has pages of 100 MB.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from digest import output, render, search
from digest.cards import card
from digest.config import FeedConfig
from digest.editorial import EMPTY, Editorial, curated_week
from digest.grouping import Trends, tag_sections
from digest.latex import readable
from digest.models import WeekDigest
from digest.outtext import clean_paper
from digest.site import searchpage
from digest.site.items import draft_to_json, week_item
from digest.site.links import SiteLinks
from digest.site.manifest import digest_hash
from digest.site.record import papers_from_rows
from digest.store import PackedRows, PaperRows

PAGES = ("markdown", "html")
"""The kinds of week page, in the order they are written."""

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
    out: Path
    """The output folder, where the pages are written."""
    editorial: Editorial = EMPTY
    """The curator's notes and decisions."""
    search: Path | None = None
    """The search's scratch folder (:meth:`~digest.search.Indexer.scratch`), where the
    search records of the weeks whose HTML page is rendered go; None: search is off."""


@dataclass(frozen=True, slots=True)
class WeekJob:
    """One week's work for :func:`render_job`."""

    week: str
    rows: PaperRows | PackedRows | None
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
    files: list[tuple[str, bool]]
    """The week's pages written (relative path, whether the file changed)."""
    picks: list[list[str]] | None = None
    """When its pages were rendered: its top picks as the archive lists them, each
    [paper id, title (plain text, LaTeX as Unicode), the paper's link]."""
    records: int = 0
    """When its HTML page was rendered and search is on: how many search records of its
    papers wait in the scratch folder (:func:`digest.search.stage`)."""


def render_job(state: RenderState, job: WeekJob) -> WeekResult:
    """Render one week's pages and feed item, and hash it (in a worker process, or here);
    write its pages, and its search records."""
    files: list[tuple[str, bool]] = []
    item: tuple[str, str] | None = None
    picks: list[list[str]] | None = None
    records = 0
    digest = None
    if job.rows is not None:
        rows = job.rows.unpack() if isinstance(job.rows, PackedRows) else job.rows
        digest = week_digest(job.week, rows, state.cfg, state.editorial)
        del rows
        if job.item:
            draft = week_item(state.cfg, state.env, state.uid, digest)
            item = (draft.item.id, draft_to_json(draft))
        if job.trend is not None:
            pages = render_week(state.env, state.cfg, digest, job.trend, state.links, job.kinds)
            for relpath in list(pages):  # in order (Markdown first); each freed once written
                data = pages.pop(relpath).encode("utf-8")
                files.append((relpath, output.put(state.out, relpath, data)))
            picks = [
                [p.id, readable(p.title), card(p, state.cfg.reading).href] for p in digest.picks
            ]
            if state.search is not None and "html" in job.kinds:
                made = searchpage.records(state.cfg, digest)
                records = search.stage(state.search, job.week, made)
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
