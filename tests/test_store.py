"""The SQLite store on a real file: identity, provenance, idempotence, schema versions."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from digest import commands, explain, ingest
from digest.config import load_config
from digest.errors import StoreError
from digest.ingest import IngestResult, store_listing
from digest.models import Entry
from digest.sources import gather
from digest.store import SCHEMA_VERSION, Store
from digest.store.database import Database

EXAMPLE = Path(__file__).parent.parent / "feeds" / "example"
TODAY = dt.date(2026, 11, 25)


def copy_of(target: Path) -> Path:
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("site", "*.sqlite*"))
    return target


def ingest_all(feed: Path) -> ingest.IngestReport:
    cfg = load_config(feed)
    files, _ = gather.source_files(cfg)
    with commands.open_store(cfg) as store:
        return ingest.ingest(cfg, store, files, TODAY)


def test_seeds_give_453_papers_from_563_sightings(feed: Path) -> None:
    report = ingest_all(feed)
    assert (report.listings_new, report.sightings, report.new_papers) == (5, 563, 453)
    db = sqlite3.connect(feed / "digest.sqlite")
    assert db.execute("SELECT COUNT(*) FROM sighting").fetchone()[0] == 563
    assert db.execute("SELECT COUNT(*) FROM paper").fetchone()[0] == 453
    with Store(feed / "digest.sqlite") as store:
        assert store.db.integrity_problems() == []
    # Every sighting keeps its provenance and the rule that tied it to its paper.
    rules = dict(db.execute("SELECT rule, COUNT(*) FROM sighting GROUP BY rule").fetchall())
    assert rules == {"new": 453, "title": 110}


def test_ingesting_again_changes_nothing(feed: Path) -> None:
    ingest_all(feed)
    before = (feed / "digest.sqlite").read_bytes()
    db = sqlite3.connect(feed / "digest.sqlite")
    dump_before = list(db.iterdump())
    db.close()
    again = ingest_all(feed)
    assert (again.listings_new, again.listings_unchanged, again.sightings) == (0, 5, 0)
    db = sqlite3.connect(feed / "digest.sqlite")
    assert list(db.iterdump()) == dump_before
    assert before  # the file exists and was not emptied


def test_same_listing_under_another_name_adds_sightings_not_papers(feed: Path) -> None:
    ingest_all(feed)
    cfg = load_config(feed)
    copy = feed / "listings" / "zz_copy.txt"
    shutil.copy(feed / "listings" / "001_033b21ca461653a8.txt", copy)
    with commands.open_store(cfg) as store:
        report = ingest.ingest(cfg, store, [copy], TODAY)
        assert (report.sightings, report.new_papers) == (99, 0)
        assert store.papers.counts() == {"listings": 6, "sightings": 662, "papers": 453}


def test_a_changed_listing_adds_what_is_new_and_keeps_every_sighting(feed: Path) -> None:
    # Issue 15: a changed listing replaced its sightings; papers only in the old content
    # vanished from the store, the week feeds and exports. Sightings are append-only.
    ingest_all(feed)
    cfg = load_config(feed)
    path = feed / "listings" / "001_033b21ca461653a8.txt"
    original = path.read_text()
    paragraphs = original.split("\n\n")
    with commands.open_store(cfg) as store:
        before = {p.id: (p.title, len(p.sightings)) for p in store.papers.iter_all()}
    # The last entry goes, a new one comes.
    new = ["A brand new paper on something else", "Its abstract, which says enough."]
    path.write_text("\n\n".join(paragraphs[:-2] + new) + "\n")
    with commands.open_store(cfg) as store:
        report = ingest.ingest(cfg, store, [path], TODAY)
        assert (report.listings_new, report.sightings, report.new_papers) == (1, 1, 1)
        after = {p.id: (p.title, len(p.sightings)) for p in store.papers.iter_all()}
        assert store.papers.counts() == {"listings": 5, "sightings": 564, "papers": 454}
        assert store.listings.changed() == [(path.name, 2)]
        assert store.db.integrity_problems() == []
    assert {k: v for k, v in after.items() if k in before} == before  # nothing lost
    # Back to the first content: known already, nothing changes.
    path.write_text(original)
    with commands.open_store(cfg) as store:
        report = ingest.ingest(cfg, store, [path], TODAY)
        assert (report.listings_new, report.listings_unchanged, report.sightings) == (0, 1, 0)
        assert store.papers.counts()["sightings"] == 564
        lines = list(explain.check_lines(cfg, store))
    assert any(path.name in line and "2 versions" in line for line in lines)


def test_a_store_of_version_7_keeps_its_listings_as_first_versions(feed: Path) -> None:
    ingest_all(feed)
    db = sqlite3.connect(feed / "digest.sqlite")
    dump = sorted(db.execute("SELECT id, name, sha256, stat, entries FROM listing"))
    db.close()
    _make_older(  # the listing table of version 7: one row per name
        feed,
        7,
        "CREATE TABLE old(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, sha256 TEXT "
        "NOT NULL, stat TEXT NOT NULL DEFAULT '', format TEXT NOT NULL, date TEXT, entries "
        "INTEGER NOT NULL, problems INTEGER NOT NULL); INSERT INTO old SELECT * FROM listing;"
        "DROP TABLE listing; ALTER TABLE old RENAME TO listing;",
    )
    with Store(feed / "digest.sqlite") as store:
        assert store.version == SCHEMA_VERSION
        migrated = _schema(store.db)
        assert store.db.integrity_problems() == []
        rows = store.db.execute("SELECT id, name, sha256, stat, entries FROM listing")
        assert sorted(tuple(r) for r in rows) == dump
        assert store.papers.counts() == {"listings": 5, "sightings": 563, "papers": 453}
    with Store(feed / "fresh.sqlite") as fresh:
        assert migrated == _schema(fresh.db)
    # The migrated store takes a second version of a listing.
    path = feed / "listings" / "000_b7ea8f9abe6ed864.txt"
    paragraphs = path.read_text().split("\n\n")
    new = ["A brand new paper on something else", "Its abstract, which says enough."]
    path.write_text("\n\n".join(paragraphs + new) + "\n")
    cfg = load_config(feed)
    with commands.open_store(cfg) as store:
        report = ingest.ingest(cfg, store, [path], TODAY)
        assert report.sightings == 1
        assert store.papers.counts()["sightings"] == 564


def test_integrity_problems_are_found(feed: Path) -> None:
    ingest_all(feed)
    db = sqlite3.connect(feed / "digest.sqlite")
    db.execute("DELETE FROM paper WHERE rowid = (SELECT MIN(rowid) FROM paper)")
    db.commit()
    db.close()
    with Store(feed / "digest.sqlite") as store:
        problems = store.db.integrity_problems()
    assert problems and all("refers to a missing paper" in p for p in problems)


def test_first_seen_is_earliest_and_week_follows(feed: Path) -> None:
    ingest_all(feed)
    cfg = load_config(feed)
    with commands.open_store(cfg) as store:
        for paper in store.papers.load():
            assert paper.first_seen == min(s.date for s in paper.sightings)
            year, week, _ = paper.first_seen.isocalendar()
            assert paper.week == f"{year}-W{week:02d}"


def test_schema_version_recorded_and_newer_store_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        assert store.version == SCHEMA_VERSION
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='999' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer than this digest"):
        Store(path)


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable digest store"):
        Store(path)


def test_migrations_run_in_order_from_version_zero(tmp_path: Path) -> None:
    from digest.store import MIGRATIONS

    assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1))
    path = tmp_path / "fresh.sqlite"
    with Store(path) as store:
        tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master")}
    assert {"paper", "sighting", "listing", "paper_key", "meta"} <= tables


def test_an_emptied_listing_removes_no_paper_and_no_key(feed: Path) -> None:
    ingest_all(feed)
    cfg = load_config(feed)
    path = feed / "listings" / "001_033b21ca461653a8.txt"
    with commands.open_store(cfg) as store:
        before = sorted(map(tuple, store.db.execute("SELECT kind, key, paper_id FROM paper_key")))
        blocks = sorted(map(tuple, store.db.execute("SELECT key, paper_id FROM block_key")))
    # Keep only the boilerplate and date line: the papers only this listing had stay.
    path.write_text("\n\n".join(path.read_text().split("\n\n")[:7]) + "\n")
    with commands.open_store(cfg) as store:
        ingest.ingest(cfg, store, [path], TODAY)
        assert store.papers.counts() == {"listings": 5, "sightings": 563, "papers": 453}
        keys = sorted(map(tuple, store.db.execute("SELECT kind, key, paper_id FROM paper_key")))
        assert keys == before
        assert sorted(map(tuple, store.db.execute("SELECT key, paper_id FROM block_key"))) == blocks
        assert store.db.integrity_problems() == []


def test_migrations_from_version_2_move_blocking_keys_out_of_paper_key(feed: Path) -> None:
    ingest_all(feed)
    db = sqlite3.connect(feed / "digest.sqlite")
    expected = sorted(db.execute("SELECT key, paper_id FROM block_key"))
    assert expected
    db.close()
    # Turn the store back into a version 2 one: blocking keys in paper_key.
    _make_older(
        feed,
        2,
        "INSERT INTO paper_key(kind, key, paper_id) SELECT 'block', key, paper_id FROM block_key;"
        "DROP TABLE block_key; DROP INDEX paper_week; CREATE INDEX paper_week ON paper(week);"
        "ALTER TABLE text DROP COLUMN tags; ALTER TABLE text DROP COLUMN theme;"
        "ALTER TABLE text DROP COLUMN rules; ALTER TABLE text DROP COLUMN score;"
        "ALTER TABLE paper DROP COLUMN score; DROP TRIGGER sighting_extra_theme;"
        "DROP TRIGGER sighting_extra_tags; DROP TRIGGER sighting_extra_seq;"
        "DROP TRIGGER paper_seq_insert; DROP TRIGGER paper_seq_update; DROP INDEX paper_seq;"
        "DROP TABLE paper_seq_counter;"
        "ALTER TABLE paper DROP COLUMN seq; ALTER TABLE sighting DROP COLUMN extra;",
    )
    with Store(feed / "digest.sqlite") as store:
        assert store.version == SCHEMA_VERSION
        rows = store.db.execute("SELECT key, paper_id FROM block_key")
        assert sorted(tuple(r) for r in rows) == expected
        kinds = {r[0] for r in store.db.execute("SELECT DISTINCT kind FROM paper_key")}
        migrated = _schema(store.db)
    assert kinds == {"title"}
    with Store(feed / "fresh.sqlite") as fresh:  # the same schema as a new store's
        assert migrated == _schema(fresh.db)


def _make_older(feed: Path, version: int, script: str) -> None:
    """Run ``script`` on the feed's store, then record it as of schema ``version``."""
    db = sqlite3.connect(feed / "digest.sqlite")
    db.executescript(f"{script} UPDATE meta SET value='{version}' WHERE key='schema_version';")
    db.close()


def _schema(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """Name and SQL of every table and index, whitespace aside (ALTER TABLE keeps the
    columns it adds on one line)."""
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
    return [(str(r[0]), " ".join(str(r[1]).replace(",", ", ").split())) for r in rows]


def test_a_paper_dropped_by_every_later_version_of_its_listings_stays(tmp_path: Path) -> None:
    # P is seen in A under one title and in B under another (joined by its abstract).
    # B drops it, then A drops it: P and its sightings stay.
    from digest.identity.resolve import Resolver

    abstract = (
        "We study sparse attention patterns in long context transformers and show that "
        "a learned routing of queries to a few key blocks keeps accuracy while cutting "
        "memory traffic. Experiments on retrieval and summarisation confirm the gains. "
    ) * 2
    entry = {"title": "Sparse attention for all", "abstract": abstract}
    other = {"title": "Attention, sparsely, for everyone", "abstract": abstract}
    day = dt.date(2026, 3, 10)

    def listing(name: str, *entries: dict[str, str]) -> tuple[str, list[Entry]]:
        return name, [Entry(e["title"], e["abstract"], name, day, i) for i, e in enumerate(entries)]

    with Store(tmp_path / "s.sqlite") as store:
        resolve = Resolver()
        for i, (name, entries) in enumerate(
            [listing("a.txt", entry), listing("b.txt", other), listing("b.txt"),
             listing("a.txt")]
        ):  # fmt: skip
            store_listing(store, resolve, name, f"sha{i}", "textdump", day, entries, 0)
        assert store.papers.counts() == {"listings": 2, "sightings": 2, "papers": 1}
        assert store.listings.changed() == [("a.txt", 2), ("b.txt", 2)]
        assert store.db.integrity_problems() == []


def test_an_ingest_copies_its_log_into_the_store_in_a_thread(
    feed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = load_config(feed)
    files, _ = gather.source_files(cfg)
    path = feed / "digest.sqlite"
    from digest.store import database as store_module

    flushed: list[set[int]] = []
    real_flush = store_module.flush
    monkeypatch.setattr(store_module, "flush", lambda fds: flushed.append(fds) or real_flush(fds))
    with commands.open_store(cfg) as store:
        held = store_module.descriptors(path)
        ingest.ingest(cfg, store, files, TODAY)
        checkpointer = store.db.checkpointer
        assert checkpointer is not None and checkpointer.name == "digest-checkpoint"
        # Until it is done, commits leave the log to it.
        assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        checkpointer.join()
        if Path("/proc/self/fd").is_dir():  # flushed through the thread's own descriptor
            assert len(flushed) == 1 and len(flushed[0]) == 1 and not flushed[0] & held
        # The database file itself holds every page now (the log was copied into it).
        pages, size = (
            store.db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size")
        )
        assert path.stat().st_size == pages * size > 100_000
        other = sqlite3.connect(path)
        assert other.execute("SELECT COUNT(*) FROM sighting").fetchone()[0] == 563
        other.close()
        with store.db.transaction():  # the next transaction checkpoints as usual again
            store.meta.set("probe", "1")
        assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        assert store.db.checkpointer is None
    assert not path.with_name("digest.sqlite-wal").exists()  # closed: the log is gone
    with Store(path) as store:
        assert store.papers.counts()["sightings"] == 563 and store.db.integrity_problems() == []


def test_closing_the_store_waits_for_its_checkpoint(
    feed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from digest.store import database as store_module

    done: list[Path] = []
    release = threading.Event()
    real = store_module.checkpoint

    def held(path: Path) -> None:
        release.wait()
        real(path)
        done.append(path)

    monkeypatch.setattr(store_module, "checkpoint", held)
    cfg = load_config(feed)
    files, _ = gather.source_files(cfg)
    with commands.open_store(cfg) as store:
        ingest.ingest(cfg, store, files, TODAY)
        assert done == []  # held
        threading.Timer(0.3, release.set).start()
    assert done == [feed / "digest.sqlite"]  # close waited for it
    assert not (feed / "digest.sqlite-wal").exists()


def test_a_store_being_imported_with_a_rollback_journal_opens_at_once(feed: Path) -> None:
    import time

    ingest_all(feed)
    path = feed / "digest.sqlite"
    writer = sqlite3.connect(path, isolation_level=None)
    assert writer.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO meta(key, value) VALUES('probe', '1')")
    start = time.monotonic()
    with Store(path) as store:  # cannot switch to the log now: reads as it is
        assert store.papers.counts()["sightings"] == 563
        assert store.meta.get("probe") == ""  # not committed: not seen
    assert time.monotonic() - start < 10  # it did not wait out the busy timeout
    writer.execute("COMMIT")
    writer.close()
    with Store(path) as store:  # the next open puts the log back
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.meta.get("probe") == "1"


def _dump(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        db.execute("UPDATE listing SET stat=''")  # file status: inode and ctime differ (not kept)
        return list(db.iterdump())
    finally:
        db.close()


def test_a_bulk_ingest_writes_with_a_rollback_journal_and_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged = ingest_all(copy_of(tmp_path / "logged"))
    monkeypatch.setattr(ingest, "BULK_BYTES", 1)
    monkeypatch.setattr(ingest, "COMMIT_ROWS", 100)  # several commits, each journaled
    bulk_feed = copy_of(tmp_path / "bulk")
    modes: list[str] = []
    real = ingest.store_listing

    def spying(store: Store, *args: Any, **kwargs: Any) -> IngestResult:
        modes.append(store.db.execute("PRAGMA journal_mode").fetchone()[0])
        return real(store, *args, **kwargs)

    monkeypatch.setattr(ingest, "store_listing", spying)
    bulk = ingest_all(bulk_feed)
    assert modes == ["delete"] * 5
    assert (bulk.listings_new, bulk.sightings, bulk.new_papers) == (
        logged.listings_new, logged.sightings, logged.new_papers,
    )  # fmt: skip
    assert _dump(bulk_feed / "digest.sqlite") == _dump(tmp_path / "logged" / "digest.sqlite")
    assert not (bulk_feed / "digest.sqlite-journal").exists()
    with Store(bulk_feed / "digest.sqlite") as store:  # back to the write-ahead log
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.integrity_problems() == []


def test_a_bulk_ingest_keeps_the_log_while_another_connection_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = copy_of(tmp_path / "feed")
    ingest_all(feed)  # a store, to be open in a second connection
    listing = next((feed / "listings").glob("*.txt"))
    late = listing.read_text("utf-8").replace("Mar ", "Apr ")
    (feed / "listings" / "late.txt").write_text(late, "utf-8")  # a new listing
    monkeypatch.setattr(ingest, "BULK_BYTES", 1)
    tried: list[bool] = []
    real = Database.rollback_journal

    def spy(self: Database) -> bool:
        tried.append(real(self))
        return tried[-1]

    monkeypatch.setattr(Database, "rollback_journal", spy)
    reader = sqlite3.connect(feed / "digest.sqlite")
    assert reader.execute("SELECT COUNT(*) FROM listing").fetchone()[0] == 5
    report = ingest_all(feed)  # cannot switch journals: written through the log
    assert tried == [False]
    assert report.listings_new == 1 and not report.problems
    assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reader.close()
    with Store(feed / "digest.sqlite") as store:
        assert store.db.integrity_problems() == []
    # A listing already ingested that changed is no new listing: no bulk import.
    listing.write_text(listing.read_text("utf-8").replace("Mar ", "May "), "utf-8")
    assert ingest_all(feed).listings_new == 1
    assert tried == [False]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
def test_the_store_is_flushed_through_a_descriptor_held_already(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from digest.store import database as store_module

    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        store.meta.set("probe", "1")
    synced: list[Path] = []
    real = os.fsync
    monkeypatch.setattr(
        os, "fsync", lambda fd: synced.append(Path(f"/proc/self/fd/{fd}").readlink()) or real(fd)
    )
    assert store_module.descriptors(path) == set()
    store_module.flush(store_module.descriptors(path))
    assert synced == []  # no descriptor of it held: nothing opened to sync it
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=DELETE")  # its locks are on the file itself
    writer.execute("BEGIN IMMEDIATE")  # a lock on the file, held by this process
    store_module.flush(store_module.descriptors(path))
    assert synced == [path.resolve()]
    # Another process still finds the file locked (closing a descriptor of the file
    # would have dropped every lock this process holds on it).
    code = (
        "import sqlite3, sys; db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)\n"
        "try: db.execute('BEGIN IMMEDIATE')\nexcept sqlite3.OperationalError as e: print(e)"
    )
    other = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert other.stdout.strip() == "database is locked"
    writer.execute("COMMIT")
    writer.close()


def test_a_bulk_import_commits_once_a_slow_reader_is_done(
    feed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from digest.store import database as store_module

    monkeypatch.setattr(ingest, "BULK_BYTES", 1)
    monkeypatch.setattr(store_module, "BUSY_MS", 200)  # a reader outlasts the busy timeout
    path = feed / "digest.sqlite"
    readers: list[sqlite3.Connection] = []
    real = ingest.store_listing

    def add_listing(store: Store, *args: Any, **kwargs: Any) -> IngestResult:
        if not readers:  # the import writes with its journal: a reader starts, for 1 s
            assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            reader.execute("BEGIN")
            reader.execute("SELECT COUNT(*) FROM listing").fetchone()  # holds a shared lock
            readers.append(reader)
            threading.Timer(1.0, reader.execute, ("COMMIT",)).start()
        return real(store, *args, **kwargs)

    monkeypatch.setattr(ingest, "store_listing", add_listing)
    report = ingest_all(feed)
    assert report.listings_new == 5 and not report.problems
    readers[0].close()
    with Store(path) as store:
        assert store.papers.counts()["sightings"] == 563


def test_a_store_of_the_withdrawn_version_6_gets_its_index_by_paper_back(feed: Path) -> None:
    # Version 6 once dropped paper_key_paper (withdrawn); such a store must end up with
    # the schema of a new one.
    ingest_all(feed)
    _make_older(
        feed,
        6,
        "DROP INDEX paper_key_paper; DROP INDEX paper_theme;"
        "CREATE INDEX paper_theme ON paper(theme, first_seen);",
    )
    with Store(feed / "digest.sqlite") as store:
        assert store.version == SCHEMA_VERSION
        migrated = _schema(store.db)
        assert store.db.integrity_problems() == []
    with Store(feed / "fresh.sqlite") as fresh:
        assert migrated == _schema(fresh.db)
