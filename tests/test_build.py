"""Fast builds give the bytes of slow ones: week pages rendered in worker processes, and
feed documents made from the entries kept from the documents written before, are the
same files as a serial build from scratch writes."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY, FeedMaker, copy_example, paper, run_feed
from hypothesis import given, settings
from hypothesis import strategies as st

from digest import commands, feeds, output, site, workers
from digest.config import load_config
from digest.ingest import ingest as ingest_listings
from digest.output import Writer
from digest.site import items as site_items
from digest.site.record import BuildRecord
from digest.store.database import Database
from digest.store.topics import Topics


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (the manifest too), by relative path."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


STATE_TABLES = (
    "SELECT * FROM week ORDER BY week",
    "SELECT * FROM meta ORDER BY key",
    "SELECT * FROM feed_item ORDER BY id",
)
"""What a build records in the store."""


def rows(store: Path, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(store)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


# --- week pages rendered in worker processes ----------------------------------------------


@pytest.mark.skipif(not workers.can_fork(), reason="worker processes need fork")
def test_parallel_build_writes_the_bytes_of_a_serial_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = run_feed(copy_example(tmp_path / "serial"))

    build = site.build
    pools: list[int] = []
    pool = workers.Pool

    def parallel_build(*args: Any, **kwargs: Any) -> site.BuildReport:
        return build(*args, **{**kwargs, "jobs": 2})

    def counted_pool(state: Any, n: int) -> workers.Pool[Any]:
        pools.append(n)
        return pool(state, n)

    # Which process wrote each file (a log file: the workers are forked with this spy).
    log = tmp_path / "writers.log"
    put = output.put

    def logged_put(root: Path, relpath: str, data: Any) -> bool:
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {relpath}\n")
        return put(root, relpath, data)

    monkeypatch.setattr(site.pages, "PARALLEL_PAPERS", 1)
    monkeypatch.setattr(site, "build", parallel_build)
    monkeypatch.setattr(workers, "Pool", counted_pool)
    monkeypatch.setattr(output, "put", logged_put)
    parallel = run_feed(copy_example(tmp_path / "parallel"))

    assert pools[-1] == 2, "the week pages were not rendered in worker processes"
    # Each week page is written where it is rendered: pages never cross the processes.
    writers = dict(line.split(" ")[::-1] for line in log.read_text("utf-8").splitlines())
    week_pages = [f for f in writers if re.fullmatch(r"\d{4}-W\d\d\.(html|md)", f)]
    assert len(week_pages) >= 4
    assert all(writers[f] != str(os.getpid()) for f in week_pages)
    assert writers["rss.xml"] == str(os.getpid())
    assert len(parallel.report.build.rebuilt) >= 2
    assert files(parallel.site) == files(serial.site)
    for sql in STATE_TABLES:
        assert rows(parallel.cfg.store, sql) == rows(serial.cfg.store, sql)
    assert parallel.report.build == serial.report.build

    # One week changes: its two pages are rendered side by side, in a worker each.
    later = TODAY + dt.timedelta(days=7)
    for feed in (serial, parallel):
        late = feed.root / "late.jsonl"
        late.write_text(json.dumps(paper("Late paper", "2026-05-01")) + "\n", encoding="utf-8")
        with commands.open_store(feed.cfg) as store:
            ingest_listings(feed.cfg, store, [late], later)
    with monkeypatch.context() as patched:
        patched.setattr(site, "build", build)
        serial_later = run_feed(serial.root, later)
    split_later = run_feed(parallel.root, later)
    assert split_later.report.build.rebuilt == ["2026-W18"]  # the last week: split
    assert pools[-1] == 2
    assert files(split_later.site) == files(serial_later.site)
    for sql in STATE_TABLES:
        assert rows(split_later.cfg.store, sql) == rows(serial_later.cfg.store, sql)


def test_a_published_week_seen_again_is_not_recounted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digest.store.feed_state import FeedState

    first = run_feed(copy_example(tmp_path / "feed"))
    page = first.site / "2026-W11.html"
    before = page.read_bytes()
    counted: list[str] = []
    real = FeedState.week_theme_counts

    def spy(self: FeedState, week: str) -> list[tuple[str, int]]:
        counted.append(week)
        return real(self, week)

    monkeypatch.setattr(FeedState, "week_theme_counts", spy)

    def dirty(week: str) -> int:
        return rows(first.cfg.store, f"SELECT dirty FROM week WHERE week='{week}'")[0][0]

    def ingest(name: str, text: str) -> None:
        (first.root / "listings" / name).write_text(text, encoding="utf-8")
        with commands.open_store(first.cfg) as store:
            ingest_listings(first.cfg, store, [first.root / "listings" / name], TODAY)

    # A later sighting of a paper of the published week 2026-W11: its counts cannot change.
    title = "Block Transformer: Global-to-Local Language Modeling for Fast Inference"
    source = next((first.root / "listings").glob("000_*.txt")).read_text().split("\n\n")
    ingest("late.txt", f"Mar 12\n\n{title}\n\n{source[source.index(title) + 1]}\n")
    assert dirty("2026-W11") == 2
    run_feed(first.root)
    pools: list[int] = []
    pool = workers.Pool

    def counted_pool(state: Any, n: int) -> workers.Pool[Any]:
        pools.append(n)
        return pool(state, n)

    with monkeypatch.context() as patched:  # many papers to render would mean workers
        patched.setattr(site.pages, "PARALLEL_PAPERS", 1)
        patched.setattr(workers, "Pool", counted_pool)
        with commands.open_store(first.cfg) as store:
            site.build(first.cfg, store, first.site, TODAY, jobs=2)
    assert pools == [0]  # W11 keeps its page: nothing to render, no worker started
    assert counted == [] and page.read_bytes() == before and dirty("2026-W11") == 0
    # A new paper first seen in that week: recounted (and its page redone).
    ingest("late2.txt", "Mar 13\n\nA Brand New Paper on Sparse Attention\n\nWe study it.\n")
    assert dirty("2026-W11") == 1
    run_feed(first.root)
    assert counted == ["2026-W11"]
    assert "A Brand New Paper on Sparse Attention" in page.read_text("utf-8")


# --- feed documents from kept entries -------------------------------------------------------

UTC = dt.UTC
# Any Unicode: controls, lone surrogates and the noncharacters U+FFFE/U+FFFF included
# (issue 15: leaving them out hid a crash); whatever the text, the document is valid XML.
TEXT = st.lists(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
    | st.sampled_from(
        ["<", "&amp;", '"', "\n", "\t", "\n    <item>\n", "\n  </entry>\n", "]]>", "\ufffe"]
    )
    | st.sampled_from(["\uffff", "\x00", "\x01", "\x1b", "\x85", "\ud800", "\u2028"]),
    max_size=5,
).map("".join)
DATES = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(UTC)
)
ITEM = st.builds(
    feeds.FeedItem,
    id=st.from_regex(r"urn:x:[a-z0-9]{1,8}", fullmatch=True),
    title=TEXT.map(lambda t: t or "untitled"),
    link=st.just("https://example.org/a"),
    published=DATES,
    updated=DATES,
    content_html=TEXT,
    summary=TEXT,
    categories=st.lists(TEXT.filter(bool), max_size=3).map(tuple),
)
META = feeds.FeedMeta(
    title="T & <t>",
    description="D",
    id="urn:x",
    site_url="https://example.org/",
    self_url="https://example.org/rss.xml",
    updated=dt.datetime(2025, 1, 1, tzinfo=UTC),
)


@settings(max_examples=60, deadline=None)
@given(items=st.lists(ITEM, max_size=4), atom=st.booleans())
def test_a_document_is_its_entries_in_its_channel(items: list[feeds.FeedItem], atom: bool) -> None:
    whole = feeds.atom(META, items) if atom else feeds.rss(META, items)
    ElementTree.fromstring(whole)  # well-formed, whatever the text
    entries = feeds.entries(items, atom=atom)
    assert feeds.read_entries(whole, atom=atom) == entries
    assert feeds.document(META, entries, [i.updated for i in items], atom=atom) == whole
    # Entries stand the same in any document: one item alone gives its entry too.
    assert [feeds.entries([i], atom=atom)[0] for i in items] == entries


def test_read_entries_refuses_what_it_did_not_write() -> None:
    doc = feeds.rss(META, [])
    assert feeds.read_entries(doc, atom=False) == []
    assert feeds.read_entries(doc, atom=True) is None
    assert feeds.read_entries(doc[:-3], atom=False) is None


def fresh_build(built: Path, tmp: Path, today: dt.date) -> dict[str, bytes]:
    """The site a build from scratch makes of a copy of the feed's store."""
    copy = tmp / "fresh"
    shutil.copytree(built, copy, ignore=shutil.ignore_patterns("site"))
    cfg = load_config(copy)
    with commands.open_store(cfg) as store:
        site.build(cfg, store, tmp / "fresh-site", today)
    out = files(tmp / "fresh-site")
    out.pop(site.MANIFEST)
    return out


def test_incremental_feeds_are_those_of_a_fresh_build(
    make_feed: Callable[..., FeedMaker], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = make_feed(theme_feed_items=3).listing(
        "a.jsonl",
        [paper(f"Diffusion {n}", f"2026-03-{n:02d}") for n in range(2, 9)]
        + [paper("Quantization one", "2026-03-10"), paper("Unthemed", "2026-03-11")],
    )
    feed.run(dt.date(2026, 3, 20))
    made: list[str] = []
    paper_item = site_items.paper_item

    def spy(*args: Any) -> Any:
        made.append(args[3].title)
        return paper_item(*args)

    monkeypatch.setattr(site_items, "paper_item", spy)
    # A new diffusion paper and a late one: only the new paper's item is made again.
    feed.listing(
        "b.jsonl", [paper("Diffusion new", "2026-03-24"), paper("Diffusion late", "2026-03-03")]
    )
    second = feed.run(dt.date(2026, 3, 25))
    assert made == ["Diffusion new"]
    want = fresh_build(feed.root, tmp_path, dt.date(2026, 3, 25))
    got = files(second.site)
    got.pop(site.MANIFEST)
    assert got == want


def test_an_edited_feed_file_is_not_trusted(
    make_feed: Callable[..., FeedMaker], tmp_path: Path
) -> None:
    feed = make_feed().listing(
        "a.jsonl", [paper("Diffusion one", "2026-03-09"), paper("Diffusion two", "2026-03-10")]
    )
    first = feed.run(dt.date(2026, 3, 20))
    for name in ("themes/diffusion.xml", "themes/diffusion.atom"):
        path = first.site / name
        path.write_bytes(path.read_bytes().replace(b"Diffusion one", b"Edited by hand"))
    feed.listing("b.jsonl", [paper("Diffusion three", "2026-03-24")])
    second = feed.run(dt.date(2026, 3, 25))
    want = fresh_build(feed.root, tmp_path, dt.date(2026, 3, 25))
    for name in ("themes/diffusion.xml", "themes/diffusion.atom"):
        assert b"Edited by hand" not in (second.site / name).read_bytes()
        assert (second.site / name).read_bytes() == want[name]


def test_a_build_without_change_takes_every_feed_whole(
    make_feed: Callable[..., FeedMaker], monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = make_feed().listing("a.jsonl", [paper("Diffusion one", "2026-03-09")])
    first = feed.run(TODAY)
    before = files(first.site)
    # A week page lost: the week is rendered again, the feeds are all kept as they are.
    (first.site / "2026-W11.html").unlink()
    monkeypatch.setattr(feeds, "entries", None)  # any entry made now would fail
    again = feed.run(TODAY)
    assert files(again.site) == before


# --- the store is written once, after the files -------------------------------------------


def test_a_build_writes_the_store_once_after_every_file(
    make_feed: Callable[..., FeedMaker], monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = make_feed().listing("a.jsonl", [paper("Diffusion one", "2026-03-09")])
    feed.run(dt.date(2026, 3, 12))
    events: list[str] = []
    build = site.build

    def spied_build(*args: Any, **kwargs: Any) -> site.BuildReport:
        write, commit = output.put, Database.transaction  # every file's write goes through it
        keep = Topics.keep_cards
        caching: list[bool] = []

        def spy_write(root: Path, relpath: str, data: Any) -> Any:
            events.append(relpath)
            return write(root, relpath, data)

        def spy_commit(self: Database, **kw: Any) -> Any:
            events.append("cards" if caching else "store")
            return commit(self, **kw)

        def spy_keep(self: Topics, rows: Any) -> None:
            caching.append(True)  # the cache of topic-page cards: kept as the build goes
            try:
                keep(self, rows)
            finally:
                caching.pop()

        with monkeypatch.context() as patched:
            patched.setattr(output, "put", spy_write)
            patched.setattr(Database, "transaction", spy_commit)
            patched.setattr(Topics, "keep_cards", spy_keep)
            return build(*args, **kwargs)

    monkeypatch.setattr(site, "build", spied_build)
    # A new paper in a week that has ended by the run's date: pages, feeds, a new state
    # and a week to publish, all in one store transaction after the manifest.
    feed.listing("b.jsonl", [paper("Diffusion two", "2026-03-10")])
    feed.run(dt.date(2026, 3, 20))
    # Files, then the store (one transaction, with the units nested in it), then the
    # manifest: the manifest only names files whose state the store holds.
    first = events.index("store")
    assert events[-1] == site.MANIFEST and set(events[first:-1]) == {"store"}
    assert "2026-W11.html" in events[:first] and "rss.xml" in events[:first]
    # Only the card cache is written before the files are: it records no file's state.
    assert "cards" in events[:first]


def test_a_failed_build_records_nothing(
    make_feed: Callable[..., FeedMaker], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = make_feed().listing("a.jsonl", [paper("Diffusion one", "2026-03-09")])
    first = feed.run(dt.date(2026, 3, 12))
    state = "SELECT week, hash, summary, published FROM week ORDER BY week"
    meta = "SELECT * FROM meta WHERE key LIKE 'feed%' ORDER BY key"
    items = "SELECT * FROM feed_item ORDER BY id"
    before = [rows(first.cfg.store, sql) for sql in (state, meta, items)]
    feed.listing("b.jsonl", [paper("Diffusion two", "2026-03-10")])

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("disk full")

    with monkeypatch.context() as patched:
        patched.setattr(feeds, "document", broken)
        with pytest.raises(RuntimeError):
            feed.run(dt.date(2026, 3, 20))
    assert [rows(first.cfg.store, sql) for sql in (state, meta, items)] == before
    # The next build does the work again, and ends as a build from scratch would.
    again = feed.run(dt.date(2026, 3, 20))
    assert rows(again.cfg.store, "SELECT published FROM week") == [("2026-03-20",)]
    got = files(again.site)
    got.pop(site.MANIFEST)
    assert got == fresh_build(feed.root, tmp_path, dt.date(2026, 3, 20))


@pytest.mark.parametrize("dies", ["in the store commit", "writing the manifest"])
def test_a_build_that_dies_before_its_manifest_leaves_nothing_to_trust(
    make_feed: Callable[..., FeedMaker],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    dies: str,
) -> None:
    # Files written, then the build dies: the next build must not reuse feed entries the
    # store knows nothing of (their dates would exist only in the XML), so its site is the
    # one a build from scratch makes of the store.
    feed = make_feed().listing("a.jsonl", [paper("Diffusion one", "2026-03-09")])
    feed.run(dt.date(2026, 3, 12))
    feed.listing("b.jsonl", [paper("Diffusion two", "2026-03-10")])

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("killed")

    write = Writer.write

    def no_manifest(self: Writer, relpath: str, data: Any) -> Any:
        return boom() if relpath == site.MANIFEST else write(self, relpath, data)

    with monkeypatch.context() as patched:
        if dies == "in the store commit":
            patched.setattr(BuildRecord, "commit", boom)
        else:
            patched.setattr(Writer, "write", no_manifest)
        with pytest.raises(RuntimeError):
            feed.run(dt.date(2026, 3, 13))
    again = feed.run(dt.date(2026, 3, 16))
    got = files(again.site)
    got.pop(site.MANIFEST)
    assert got == fresh_build(feed.root, tmp_path, dt.date(2026, 3, 16))
