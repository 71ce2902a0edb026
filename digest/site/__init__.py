"""The site build: stored papers -> week pages, archive, RSS/Atom and theme feeds.

Input: the config, the store (papers already tagged), the output folder and the
run's date. Output: files written through :class:`~digest.output.Writer`
(atomically, only when changed), the store brought up to date once at the end, and
a :class:`BuildReport`.

:func:`build` reads as the stages, each a module of this package:

- :mod:`~digest.site.plan`: what must be rendered, and why;
- :mod:`~digest.site.pages`: week pages (in worker processes when large);
- :mod:`~digest.site.archive`: ``index.html``;
- :mod:`~digest.site.topics`: theme and tag pages (only those whose papers changed);
- :mod:`~digest.site.searchpage`: the search index of the weeks rendered, the search page;
- :mod:`~digest.site.feedset`: feed documents, reusing the entries written before;
- :mod:`~digest.site.manifest`: fingerprints and the manifest;
- :mod:`~digest.site.record`: every read of the store, and what the build records
  in it, written once, last.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digest import render, search, workers
from digest.config import FeedConfig
from digest.editorial import WEEKS_META, load_editorial, weeks_json
from digest.errors import Problem
from digest.grouping import summary_from_json
from digest.output import Writer
from digest.progress import FEEDS, RENDER, Progress, report
from digest.site import pages, searchpage
from digest.site.archive import ARCHIVE, render_archive
from digest.site.feedset import PreviousDocuments, feed_documents, issue_sources
from digest.site.links import FeedLink, SiteLinks, site_links
from digest.site.manifest import (
    BUILT_META,
    MANIFEST,
    known,
    manifest_bytes,
    manifest_feeds,
    manifest_hash,
    parse_manifest,
    remember,
    render_fingerprint,
)
from digest.site.outdir import check_output_dir
from digest.site.pages import RenderState, render_job, render_week, week_files
from digest.site.plan import Plan
from digest.site.record import BuildRecord
from digest.site.topics import stale_pages, topic_list, topic_pages
from digest.store import Store
from digest.weeks import week_bounds

__all__ = [
    "MANIFEST",
    "BuildReport",
    "FeedLink",
    "SiteLinks",
    "build",
    "check_output_dir",
    "render_week",
    "site_links",
    "week_files",
]


@dataclass(slots=True)
class BuildReport:
    """What one build wrote."""

    weeks: list[str] = field(default_factory=list)
    """Every week in the archive."""
    written: list[str] = field(default_factory=list)
    """Files whose content changed (sorted: search threads write some of them)."""
    unchanged: int = 0
    """Files left alone because they were already right."""
    removed: list[str] = field(default_factory=list)
    """Files of earlier builds no longer made (pages a theme or tag no longer has)."""
    rebuilt: list[str] = field(default_factory=list)
    """Weeks whose pages were rendered in this run."""
    problems: list[Problem] = field(default_factory=list)
    """What is wrong in the feed folder's notes and curation.yaml (each wrong part skipped)."""
    notes: list[str] = field(default_factory=list)
    """One line each about what the build could not make (search without Pagefind)."""


def build(
    cfg: FeedConfig,
    store: Store,
    out: Path,
    today: dt.date,
    *,
    jobs: int = 1,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> BuildReport:
    """Bring every output in ``out`` up to date with the store, rendering only what changed.

    Cost grows with the weeks that changed, not with the history: a week's papers
    are loaded only when they changed (or when its page is missing from ``out``),
    and the archive, charts and feeds are drawn from per-week summaries and feed
    items kept in the store. What counts as up to date is judged against ``out``
    itself (its manifest and files), so a new or emptied output folder gets every
    file. With ``jobs`` > 1 and several weeks to render, worker processes render the
    pages while this process reads the store and writes the files (same bytes, in
    the same order).

    With ``rebuild``, nothing of what ``out`` holds is trusted: every file is made
    again from the store and written where its bytes differ, so the folder ends byte
    for byte as a build into an empty folder would leave it.

    ``progress`` is told of the weeks looked at for rendering (stage ``render``) and of
    the feed documents made (stage ``feeds``).
    """
    check_output_dir(cfg, out, store.path)
    writer = Writer(out)
    env = render.environment(cfg.templates)
    links = site_links(cfg)
    fingerprint = render_fingerprint(cfg)
    raw = manifest_bytes(out)
    manifest = parse_manifest(raw)
    was_hash = manifest_hash(raw)
    del raw  # tens of MB for a site of a million papers
    fresh = rebuild or manifest.get("render") != fingerprint
    done: dict[str, Any] = {} if fresh else dict(manifest.get("weeks", {}))
    picks: dict[str, Any] = {} if fresh else dict(manifest.get("picks", {}))
    record = BuildRecord(store)
    # The curator's notes and decisions, matched to the store's papers (before the plan:
    # a week they changed is rendered again, see digest.editorial).
    editorial = load_editorial(cfg, store)

    # 1. Plan: week by week, oldest first, what changed and what must be rendered.
    uid = record.feed_uid(cfg.base_url)
    published = record.published_weeks()
    states = record.stored_week_states()
    summaries = {w: summary_from_json(w, s.summary) for w, s in states.items() if s.summary != "[]"}
    plan = Plan(cfg, record, out, today, fresh, done, published, states, summaries, editorial)
    plan.keep_published()  # before counting what changed: most of these keep their pages
    changed = plan.changed()
    papers = record.count_papers(changed) if changed else 0
    parallel = jobs > 1 and papers >= pages.PARALLEL_PAPERS
    if parallel:
        record.before_fork()

    # 2. Week pages: rendered and written here or in workers, back in week order. Jobs
    # are planned lazily, holding few weeks' papers at a time. Each week rendered is
    # indexed for search meanwhile, its bundle written as it comes (a search thread
    # removes what the week's old bundle had that the new one has not).
    def bundle(week: str, made: dict[str, Path]) -> None:
        searchpage.sweep(out, made)  # the old marker too: until the new one, it is redone
        for _ in writer.write_all((name, made[name].read_bytes()) for name in sorted(made)):
            pass
        writer.write(*searchpage.marker(week, made))

    with search.Indexer(cfg.language, bundle) as indexer:
        scratch = indexer.scratch() if search.enabled(cfg) else None
        state = RenderState(env, cfg, links, uid, out, editorial, scratch)
        with workers.Pool(state, jobs if parallel else 0) as pool:
            position = {w: i + 1 for i, w in enumerate(plan.candidates)}
            seen = 0  # the last week rendered (by its position)
            todo = plan.jobs(split=parallel)
            for result in pool.map(render_job, todo, parallel=parallel):
                if result.state is not None:
                    plan.hashed(result.week, result.state[0])
                    record.set_week_state(result.week, *result.state)
                for relpath, differs in result.files:
                    writer.record(relpath, differs)
                if result.picks is not None:
                    picks[result.week] = result.picks
                indexer.submit(result.week, result.records)
                seen = position[result.week]
                report(progress, RENDER, seen, len(position))
            if seen:  # the weeks after the last one rendered had nothing to render
                report(progress, RENDER, len(position), len(position))
    weeks, now, affected = plan.weeks, plan.now, plan.affected
    rendered = {w: now[w] if w in affected else done.get(w, now[w]) for w in weeks}

    kinds = set(cfg.output.formats)
    stale = bool(affected) or set(done) != set(weeks)
    picks = {w: picks[w] for w in weeks if w in picks}

    # 3. Theme and tag pages: those of the topics whose version moved, and of these only
    # the pages whose papers changed (older pages are full and stay as they are).
    # Their record counts changes in the store (versions, change numbers): it holds only
    # for the store that wrote it (not one replaced or restored from a backup since).
    was = manifest.get("topics")
    was = was if isinstance(was, dict) else {}
    mine = known(record.meta_value(BUILT_META), was_hash)
    topics_before: dict[str, Any] = {} if fresh or not mine else dict(was)
    topics_now: dict[str, Any] = {}
    if "html" in kinds:
        made_pages = topic_pages(
            cfg,
            env,
            links,
            record,
            out,
            topics_before,
            topics_now,
            editorial,
            render_fp=fingerprint,
        )
        for _ in writer.write_all(made_pages):
            pass

    # 3b. The archive, from the summaries; it lists the themes and tags that have pages
    # (a tag no paper has any more keeps its version in the store, not its pages).
    if "html" in kinds and (stale or set(was) != set(topics_now) or not (out / ARCHIVE).is_file()):
        listed = [t for t, _ in topic_list(cfg, links, record) if t.record_key in topics_now]
        writer.write(ARCHIVE, render_archive(env, cfg, links, weeks, summaries, picks, listed))

    # 3c. Search: the page that merges the weeks' bundles (written in step 2, one a week
    # rendered; the weeks not rendered keep theirs) in the browser.
    notes: list[str] = []
    if search.enabled(cfg):
        if stale or not (out / searchpage.PAGE).is_file():
            with_papers = [w for w in weeks if w in summaries]
            for name, text in searchpage.page_files(env, cfg, links, out, with_papers).items():
                writer.write(name, text)
    elif search.wanted(cfg):
        notes.append(searchpage.MISSING)

    # 4. The feeds, from the week items recorded in step 2 (or stored before), taking
    # the entries of the documents written before where they are as they were.
    documents = [link.href for link in links.all]
    recorded: dict[str, Any] = {} if fresh else manifest_feeds(manifest)
    built = recorded
    if stale or any(not (out / href).is_file() for href in documents):
        issues = issue_sources(cfg, env, record, uid, weeks, states, summaries)
        before = PreviousDocuments(out, recorded)
        built = {}
        made = feed_documents(cfg, env, record, issues, links, today, before, editorial)

        def to_write() -> Iterator[tuple[str, bytes]]:
            for i, doc in enumerate(made):
                built[doc.href] = doc.manifest()
                if doc.kept:
                    writer.keep(doc.href)
                else:
                    yield doc.href, doc.data
                report(progress, FEEDS, i + 1, len(documents))

        for _ in writer.write_all(to_write()):
            pass

    # 5. Pages a theme or tag no longer has are removed: should the build stop before
    # its manifest, the manifest before names them, and the next build, not finding
    # them, reads those topics whole and removes what is still stale.
    if "html" in kinds:
        for name in stale_pages(was, topics_now):
            writer.remove(name)
    rewrite = bool(
        writer.written
        or writer.removed
        or fresh
        or done != rendered
        or built != recorded
        or topics_now != topics_before
        or picks != manifest.get("picks")
    )
    entry = {"render": fingerprint, "weeks": rendered, "feeds": built, "picks": picks}
    data = json.dumps({**entry, "topics": topics_now}, indent=1).encode("utf-8")

    # 6. Publish: the store learns what was built, once, after every file is written. A
    # week is published once it has ended (its tags are frozen from then on). A build
    # that failed before this point publishes nothing and records nothing. The store
    # also learns the manifest it is about to write (see digest.site.manifest.known).
    record.publish([w for w in weeks if week_bounds(w)[1] < today and w in summaries], today)
    if plan.editorial_stored != editorial.weeks:
        record.meta[WEEKS_META] = weeks_json(editorial.weeks)
    now_hash = manifest_hash(data) if rewrite else was_hash
    record.meta[BUILT_META] = remember(record.meta_value(BUILT_META), now_hash)
    record.commit()

    # 7. The manifest, last: the next build trusts the files it names as they are (their
    # feed entries are reused, not dated again), so it may only be written once the store
    # holds what those files were made from. A build that failed before this point leaves
    # the manifest before it (or none), and the next build makes its files again.
    if rewrite:
        writer.write(MANIFEST, data)

    return BuildReport(
        weeks=weeks,
        written=sorted(w for w in writer.written if w != MANIFEST),
        removed=writer.removed,
        unchanged=len(writer.unchanged),
        rebuilt=affected,
        problems=editorial.problems,
        notes=notes,
    )
