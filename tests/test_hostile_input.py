"""Issue 15, the input side: hostile and unlucky listings never break a run, never break
the next one, never lose data. Real files, a real SQLite store, generated text that
includes any Unicode (noncharacters, controls, Unicode line breaks, surrogates
escaped in JSON)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest import commands, explain, ingest
from digest.config import load_config
from digest.ingest import store_listing
from digest.models import Listing
from digest.normalize import clean_text
from digest.sources import ReadContext, bounds, gather, read_bytes, shown_name
from digest.store import Store
from digest.store.database import Database

CTX = ReadContext(today=dt.date(2026, 11, 25))
LINE_BREAKS = "\u2028\u2029\x0b\x0c\x85\x1c\x1d\x1e"
"""What str.splitlines breaks at besides \\n and \\r."""

any_text = st.text(
    st.one_of(
        st.characters(),  # every code point but surrogates, noncharacters included
        st.characters(categories=["Cs"]),  # lone surrogates (escaped in JSON)
        st.characters(categories=["Cc", "Zl", "Zp", "Cn", "Co", "Cf"]),
        st.sampled_from([*LINE_BREAKS, "\ufffe", "\uffff", "\x00", "\x01", "\x1b", "\ud800"]),
    ),
    max_size=60,
)


def every_string_is_utf8(listing: Listing) -> bool:
    for e in listing.entries:
        for text in (e.title, e.abstract, e.url or "", e.source_id or "", *e.authors):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


# -- 1. forged content ------------------------------------------------------------------


def test_unicode_line_breaks_in_a_text_dump_abstract_forge_nothing() -> None:
    forged = "\u2029\u2029".join(["Mar 12", "Forged title", "Forged abstract. It says a lot."])
    abstract = f"A real abstract. It has sentences.{LINE_BREAKS}{forged}"
    text = f"new\n\nMar 11\n\nA real title\n\n{abstract}\n\nSecond title\n\nSecond abstract.\n"
    listing = read_bytes(text.encode(), "f.txt", CTX)
    assert [e.title for e in listing.entries] == ["A real title", "Second title"]
    assert {e.date for e in listing.entries} == {dt.date(2026, 3, 11)}
    assert "Forged title" in listing.entries[0].abstract
    assert [e.line for e in listing.entries] == [5, 9]  # lines are \n-separated only


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(any_text, any_text), min_size=1, max_size=6))
def test_no_text_inside_a_line_makes_a_text_dump_entry_or_date(
    pairs: list[tuple[str, str]],
) -> None:
    # Titles and abstracts of any text without \n or \r, each prefixed so that it is
    # neither blank nor a date line nor mistaken for an abstract: one entry per pair.
    def line(text: str) -> str:
        return re.sub("[\n\r\x00.!?]", " ", text)  # NUL: binary; .!?: not a title

    body = "\n\n".join(f"T {line(t)}\n\nAbstract. {line(a)}" for t, a in pairs)
    listing = read_bytes(
        f"new\n\nMar 11\n\n{body}\n".encode("utf-8", "surrogatepass"), "p.txt", CTX
    )
    titles = [e.title for e in listing.entries]
    assert len(titles) == len(pairs), listing.problems
    assert all(t.startswith("T") for t in titles)
    assert {e.date for e in listing.entries} == {dt.date(2026, 3, 11)}


def test_a_text_dump_title_of_only_controls_is_no_entry() -> None:
    text = "new\n\nMar 11\n\n\x01\x1b\x7f\n\nIts abstract.\n\nGood title\n\nAbstract two.\n"
    listing = read_bytes(text.encode(), "c.txt", CTX)
    assert [e.title for e in listing.entries] == ["Good title"]
    assert [(p.line, p.message.split(":")[0]) for p in listing.problems] == [
        (5, "title of characters that do not display")
    ]


def test_unicode_line_breaks_in_csv_and_jsonl_fields_stay_in_their_field() -> None:
    title = f"Title{LINE_BREAKS}still the title"
    record = {"title": title, "abstract": "A.", "date": "2024-03-11"}
    jsonl = (json.dumps(record, ensure_ascii=False) + "\n") * 2
    assert len(read_bytes(jsonl.encode(), "l.jsonl", CTX).entries) == 2
    csv = f"title,abstract,date\n{title},A.,2024-03-11\nSecond,B.,2024-03-11\n"
    listing = read_bytes(csv.encode(), "l.csv", CTX)
    assert [e.title for e in listing.entries] == [" ".join(title.split()), "Second"]


# -- 2. dates no output can express ------------------------------------------------------


def jsonl(*records: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def test_dates_out_of_range_are_rejected_with_file_and_line_in_every_format() -> None:
    good = {"title": "Good", "abstract": "A.", "date": "2024-03-11"}
    records = [
        {**good, "title": "Year one", "date": "0001-01-01"},
        {**good, "title": "Year 9999", "date": "9999-12-31T23:59:59+00:00"},
        good,
    ]
    listing = read_bytes(jsonl(*records), "d.jsonl", CTX)
    assert [e.title for e in listing.entries] == ["Good"]
    assert [e.position for e in listing.entries] == [0]
    assert listing.date == dt.date(2024, 3, 11)
    assert [(p.file, p.line) for p in listing.problems] == [("d.jsonl", 1), ("d.jsonl", 2)]
    assert all("outside 1900-9000" in p.message for p in listing.problems)
    csv = "title,abstract,date\nOld,A.,0001-01-01\nGood,A.,2024-03-11\nFar,A.,9999-12-31\n"
    listing = read_bytes(csv.encode(), "d.csv", CTX)
    assert [e.title for e in listing.entries] == ["Good"]
    assert [p.line for p in listing.problems] == [2, 4]
    hf = [
        {"publishedAt": "9999-12-31T00:00:00.000Z", "paper": {"id": "2403.01234", "title": "X"}},
        {"publishedAt": "2024-03-11T00:00:00.000Z", "paper": {"id": "2403.01235", "title": "Y"}},
    ]
    listing = read_bytes(json.dumps(hf, indent=1).encode(), "d.json", CTX)
    assert [e.title for e in listing.entries] == ["Y"]
    dump = b"new\n\nDec 31, 9999\n\nA title\n\nAn abstract.\n"
    listing = read_bytes(dump, "d.txt", CTX)
    assert listing.entries == [] and listing.date is None
    assert any("9999-12-31" in p.message for p in listing.problems)


def test_a_record_of_year_9999_breaks_no_run(make_feed: Callable[..., Any]) -> None:
    feed = make_feed().listing(
        "a.jsonl",
        [
            {"title": "Diffusion far away", "abstract": "diffusion", "date": "9999-12-31"},
            {"title": "Diffusion long ago", "abstract": "diffusion", "date": "0001-01-01"},
            {"title": "Diffusion now", "abstract": "diffusion", "date": "2026-11-20"},
        ],
    )
    for _ in range(2):  # this run, and the next one
        built = feed.run()
        assert built.report.ingest.listings_new + built.report.ingest.listings_unchanged == 1
    with Store(built.cfg.store) as store:
        assert [p.title for p in store.papers.iter_all()] == ["Diffusion now"]


# -- 3. text that cannot be UTF-8 (lone surrogates escaped in JSON) -----------------------


def test_a_lone_surrogate_costs_only_its_field_with_its_line(tmp_path: Path) -> None:
    lines = [
        '{"title": "Good one", "abstract": "A.", "date": "2024-03-11"}',
        '{"title": "Bad url", "abstract": "A.", "date": "2024-03-11", "url": "http://x.org/\\ud800"}',
        '{"title": "Bad id", "abstract": "A.", "date": "2024-03-11", "id": "10.1000/x\\udfff"}',
        '{"title": "Bad title \\ud800", "abstract": "\\udc00 A.", "date": "2024-03-11",'
        ' "authors": ["Ann \\ud83d", "Bob"]}',
        '{"title": "Good two", "abstract": "A.", "date": "2024-03-11"}',
    ]
    listing = read_bytes("\n".join(lines).encode(), "s.jsonl", CTX)
    assert [e.title for e in listing.entries] == [
        "Good one", "Bad url", "Bad id", "Bad title", "Good two",
    ]  # fmt: skip
    assert listing.entries[1].url is None and listing.entries[2].source_id is None
    assert listing.entries[3].authors == ("Ann", "Bob")
    assert {p.line for p in listing.problems} == {2, 3}
    assert every_string_is_utf8(listing)
    # And into a real store, twice.
    path = tmp_path / "s.sqlite"
    from digest.identity.resolve import Resolver

    for _ in range(2):
        with Store(path) as store:
            store_listing(
                store, Resolver(), "s.jsonl", "sha", "jsonl", listing.date, listing.entries, 2
            )
            assert store.papers.counts()["sightings"] == 5


records = st.fixed_dictionaries(
    {"title": any_text, "abstract": any_text, "date": st.just("2024-03-11")},
    optional={"url": any_text, "id": any_text, "authors": st.lists(any_text, max_size=3)},
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records, min_size=1, max_size=8), st.booleans())
def test_every_record_with_a_title_survives_whatever_its_text(
    items: list[dict[str, Any]], hf: bool
) -> None:
    if hf:
        data = json.dumps([{"publishedAt": r["date"], "paper": r} for r in items]).encode()
    else:
        data = jsonl(*items)  # json.dumps escapes lone surrogates as \\udXXX
    listing = read_bytes(data, "h.json" if hf else "h.jsonl", CTX)
    assert every_string_is_utf8(listing)
    expected = [clean_text(r["title"]) for r in items if clean_text(r["title"])]
    assert [e.title for e in listing.entries] == expected
    with tempfile.TemporaryDirectory() as folder:
        from digest.identity.resolve import Resolver

        with Store(Path(folder) / "s.sqlite") as store:
            store_listing(store, Resolver(), "h", "sha", "jsonl", listing.date, listing.entries, 0)
            assert store.papers.counts()["sightings"] == len(listing.entries)


# -- 4. file names that are not UTF-8 -----------------------------------------------------


def test_a_listing_whose_name_is_not_utf8_is_stored_shown_and_known_again(
    make_feed: Callable[..., Any],
) -> None:
    feed = make_feed().listing(
        "ok.jsonl", [{"title": "Diffusion", "abstract": "d", "date": "2026-11-20"}]
    )
    raw = os.fsdecode(b"bad\xff\x1b[31m.jsonl")
    record = {"title": "Quantization", "abstract": "quantized", "date": "2026-11-20"}
    (feed.root / "listings" / raw).write_text(json.dumps(record) + "\n", encoding="utf-8")
    first = feed.run()
    assert first.report.ingest.listings_new == 2
    second = feed.run()
    assert second.report.ingest.listings_unchanged == 2  # the same file, known again
    with Store(first.cfg.store) as store:
        names = {s.listing for p in store.papers.iter_all() for s in p.sightings}
        json.dumps([explain.export_record(p) for p in store.papers.iter_all()], ensure_ascii=False)
    assert names == {"ok.jsonl", "bad\\xff\\x1b[31m.jsonl"}
    assert shown_name("a\u2028b\x00\U000e0001") == "a\\u2028b\\x00\\U000e0001"


# -- 6. size caps -----------------------------------------------------------------------


def test_oversized_titles_abstracts_and_author_lists_are_cut_with_a_warning() -> None:
    record = {
        "title": "word " * 2_000,
        "abstract": "x" * 300_000,
        "date": "2024-03-11",
        "authors": [f"Author {i}" for i in range(5_000)],
    }
    listing = read_bytes(jsonl({"title": "Fine", "date": "2024-03-11"}, record), "b.jsonl", CTX)
    big = listing.entries[1]
    assert len(big.title) <= bounds.TITLE_MAX and big.title.endswith(bounds.ELLIPSIS)
    assert len(big.abstract) <= bounds.ABSTRACT_MAX
    assert len(big.authors) == bounds.AUTHORS_MAX
    cut = [p for p in listing.problems if "cut" in p.message]
    assert [(p.file, p.line) for p in cut] == [("b.jsonl", 2)] * 3
    assert bounds.cap_authors(("y" * 40_000,))[0].endswith(bounds.ELLIPSIS)


def test_a_listing_file_over_the_size_bound_is_skipped_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digest import sources

    monkeypatch.setattr(sources, "MAX_LISTING_BYTES", 100)
    path = tmp_path / "big.jsonl"
    path.write_bytes(jsonl(*[{"title": f"T{i}", "date": "2024-03-11"} for i in range(10)]))
    listing = sources.read_file(path, CTX)
    assert listing.entries == [] and "larger than" in listing.problems[0].message


# -- 7. a flood of warnings ---------------------------------------------------------------


def test_problems_are_summarised_after_twenty_per_file(make_feed: Callable[..., Any]) -> None:
    feed = make_feed()
    text = "\n\n".join(f"Paragraph {i} of a file without a date line" for i in range(500))
    (feed.root / "listings" / "nodate.txt").write_text(text + "\n")
    feed.listing("ok.jsonl", [{"title": "Fine", "abstract": "A.", "date": "2026-11-20"}])
    cfg = load_config(feed.root)
    files, _ = gather.source_files(cfg)
    with commands.open_store(cfg) as store:
        report = ingest.ingest(cfg, store, files, dt.date(2026, 11, 25))
    mine = [p for p in report.problems if p.file == "nodate.txt"]
    assert len(mine) == ingest.PROBLEMS_PER_FILE + 1
    assert mine[-1].message == "... and 481 more problems in this file"
    assert report.sightings == 1


# -- 8. a damaged store -------------------------------------------------------------------


def _built_store(make_feed: Callable[..., Any]) -> tuple[Path, Path]:
    feed = make_feed().listing(
        "a.jsonl",
        [{"title": f"Diffusion {i}", "abstract": "d", "date": "2026-11-20"} for i in range(300)],
    )
    built = feed.run()
    for extra in ("-wal", "-shm"):
        Path(f"{built.cfg.store}{extra}").unlink(missing_ok=True)
    return feed.root, built.cfg.store


def _run_cli(root: Path) -> Any:
    from click.testing import CliRunner

    from digest.cli import cli

    return CliRunner().invoke(cli, ["run", str(root), "--today", "2026-11-25"])


def _damage_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for offset in range(page, len(data), 7):  # every page but the first, bytes flipped
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _damage_later_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for offset in range(len(data) // page // 2 * page, len(data), 5):  # the second half
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _header_flipped(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(16):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _version_not_a_number(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='seven' WHERE key='schema_version'")
    db.commit()
    db.close()


@pytest.mark.parametrize(
    "damage", [_header_flipped, _damage_pages, _damage_later_pages, _version_not_a_number]
)
def test_a_damaged_store_is_one_clear_message_naming_it_never_a_traceback(
    make_feed: Callable[..., Any], damage: Callable[[Path], None]
) -> None:
    root, store = _built_store(make_feed)
    damage(store)
    result = _run_cli(root)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert str(store) in result.output and "damaged" in result.output
    assert "restore the store from a backup, or move it away" in result.output
    assert "Traceback" not in result.output


def test_a_full_disk_under_the_store_is_one_clear_message(
    make_feed: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, store = _built_store(make_feed)
    record = {"title": "Quantization", "abstract": "q " * 3000, "date": "2026-11-21"}
    (root / "listings" / "b.jsonl").write_text(
        "".join(json.dumps({**record, "title": f"Q {i}"}) + "\n" for i in range(200))
    )
    original = Database.configure

    def full_disk(self: Database) -> None:  # SQLite's own SQLITE_FULL: no page may be added
        original(self)
        pages = self.execute("PRAGMA page_count").fetchone()[0]
        self.execute(f"PRAGMA max_page_count={pages}")

    monkeypatch.setattr(Database, "configure", full_disk)
    result = _run_cli(root)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert str(store) in result.output and "disk is full" in result.output
    monkeypatch.undo()
    assert _run_cli(root).exit_code == 0  # space again: the next run works


# -- 3 (XML). characters XML forbids cost only their item -----------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def test_characters_xml_forbids_in_one_rss_item_cost_no_other_item() -> None:
    clean = read_bytes((FIXTURES / "arxiv_rss_cs_lg.xml").read_bytes(), "r.xml", CTX)
    text = (FIXTURES / "arxiv_rss_cs_lg.xml").read_text(encoding="utf-8")
    first = clean.entries[0].title
    hostile = text.replace(first, first + " &#1;&#xD800;&#xFFFE;\x01\x1b[31m", 1)
    listing = read_bytes(hostile.encode(), "r.xml", CTX)
    assert len(listing.entries) == len(clean.entries)
    assert listing.entries[0].title.startswith(first)
    assert every_string_is_utf8(listing)
    (problem,) = [p for p in listing.problems if "XML forbids" in p.message]
    assert problem.line == text[: text.index(first)].count("\n") + 1  # the title's line
    assert problem.message.startswith("5 characters")


def test_an_atom_entry_of_year_9999_costs_only_itself() -> None:
    text = (FIXTURES / "arxiv_api_query.xml").read_text(encoding="utf-8")
    ctx = dataclasses.replace(CTX, dating="published")  # query results: dated by import
    clean = read_bytes(text.encode(), "a.xml", ctx)
    published = re.search(r"<published>([^<]+)</published>", text)
    assert published is not None
    hostile = text.replace(published[0], "<published>9999-12-31T23:59:59Z</published>", 1)
    listing = read_bytes(hostile.encode(), "a.xml", ctx)
    assert len(listing.entries) == len(clean.entries) - 1
    assert any("outside 1900-9000" in p.message for p in listing.problems)


def test_a_store_holding_dates_of_year_one_from_before_works_again(
    make_feed: Callable[..., Any],
) -> None:
    # Stores written before the readers refused such dates held them, and every later
    # run failed (OverflowError in week arithmetic). Migrating to version 8 drops them.
    from digest.identity.resolve import Resolver
    from digest.models import Entry

    feed = make_feed().listing(
        "ok.jsonl", [{"title": "Diffusion now", "abstract": "d", "date": "2026-11-20"}]
    )
    built = feed.run()
    day = dt.date(2026, 11, 18)
    entries = [
        Entry("Year one only", "a", "old.jsonl", dt.date(1, 1, 1), 0),
        Entry("Diffusion seen twice", "d", "old.jsonl", dt.date(1, 1, 1), 1),
        Entry("Diffusion seen twice", "d", "old.jsonl", day, 2),
        Entry("Far future", "a", "old.jsonl", dt.date(9999, 12, 31), 3),
    ]
    with Store(built.cfg.store) as store:
        store_listing(store, Resolver(), "old.jsonl", "sha", "jsonl", None, entries, 0)
    db = sqlite3.connect(built.cfg.store)
    db.execute("UPDATE listing SET name='ok\x1b[1m.jsonl' WHERE name='ok.jsonl'")
    db.execute("UPDATE meta SET value='7' WHERE key='schema_version'")
    db.commit()
    db.close()
    with Store(built.cfg.store) as store:
        papers = {p.title: (p.first_seen, p.week) for p in store.papers.iter_all()}
        assert store.db.integrity_problems() == []
        assert store.listings.latest_hash("ok\\x1b[1m.jsonl") is not None  # escaped, as readers do
    assert papers == {
        "Diffusion now": (dt.date(2026, 11, 20), "2026-W47"),
        "Diffusion seen twice": (day, "2026-W47"),
    }
    ok = feed.root / "listings" / "ok.jsonl"
    ok.rename(ok.with_name("ok\x1b[1m.jsonl"))  # the name a store of version 7 kept raw
    again = feed.run()  # builds every output again
    assert (again.report.ingest.listings_new, again.report.ingest.sightings) == (0, 0)


# -- the whole ingest: any listing, a real store, append-only ----------------------------

hostile_records = st.lists(
    st.fixed_dictionaries(
        {
            "title": any_text,
            "abstract": any_text,
            "date": st.one_of(st.dates(), st.dates(dt.date(2024, 1, 1), dt.date(2026, 11, 25))),
        },
        optional={"url": any_text, "id": any_text, "authors": st.lists(any_text, max_size=3)},
    ),
    max_size=8,
)


def _listing_bytes(fmt: str, records: list[dict[str, Any]]) -> bytes:
    rows = [{**r, "date": r["date"].isoformat()} for r in records]
    if fmt == "jsonl":
        return jsonl(*rows)
    if fmt == "json":
        return json.dumps([{"publishedAt": r["date"], "paper": r} for r in rows]).encode()
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["title", "abstract", "date"])
    for r in rows:  # CSV is bytes on disk: no lone surrogate or NUL can be in its text
        writer.writerow(re.sub("[\ud800-\udfff\x00]", "", r[k]) for k in ("title", "abstract"))
        out.seek(out.tell() - 2)  # the date goes on the same row
        out.write(f",{r['date']}\r\n")
    return out.getvalue().encode()


def _valid(fmt: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def title(r: dict[str, Any]) -> str:
        text = r["title"] if fmt != "csv" else re.sub("[\ud800-\udfff\x00]", "", r["title"])
        return clean_text(text)

    return [r for r in records if title(r) and bounds.in_range(r["date"])]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_records, hostile_records, st.sampled_from(["jsonl", "json", "csv"]))
def test_any_listing_ingests_and_every_valid_record_survives_every_change(
    first: list[dict[str, Any]], added: list[dict[str, Any]], fmt: str
) -> None:
    added = [{**r, "title": f"New {i} {r['title']}"} for i, r in enumerate(added)]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "listings").mkdir()
        (root / "feed.yaml").write_text("title: T\nsources:\n  - path: listings/*\n")
        cfg = load_config(root)
        path = root / "listings" / f"l.{fmt}"
        today = dt.date(2026, 11, 25)
        path.write_bytes(_listing_bytes(fmt, first))
        with commands.open_store(cfg) as store:
            ingest.ingest(cfg, store, [path], today)
            before = store.papers.counts()["sightings"]
            assert before == len(_valid(fmt, first))
            again = ingest.ingest(cfg, store, [path], today)
            assert again.sightings == 0
        path.write_bytes(_listing_bytes(fmt, first + added))  # the listing changes
        with commands.open_store(cfg) as store:
            ingest.ingest(cfg, store, [path], today)
            assert store.papers.counts()["sightings"] == before + len(_valid(fmt, added))
            assert store.db.integrity_problems() == []
            exported = [explain.export_record(p) for p in store.papers.iter_all()]
        json.dumps(exported, ensure_ascii=False).encode("utf-8")


def test_changing_identity_overrides_keeps_every_link_and_author(
    make_feed: Callable[..., Any],
) -> None:
    # Re-resolving every sighting (identity.merge/split changed) rebuilt papers from
    # sightings, which keep no link or authors: every paper lost both, silently.
    records = [
        {"title": "Diffusion one", "abstract": "d", "date": "2026-11-20",
         "url": "https://example.org/1", "authors": ["Ann", "Bob"]},
        {"title": "Diffusion two", "abstract": "e", "date": "2026-11-20",
         "url": "https://example.org/2", "authors": ["Cy"]},
    ]  # fmt: skip
    feed = make_feed().listing("a.jsonl", records)
    built = feed.run()

    def links() -> dict[str, tuple[str | None, tuple[str, ...]]]:
        with Store(built.cfg.store) as store:
            return {p.title: (p.url, tuple(p.authors)) for p in store.papers.iter_all()}

    before = links()
    assert before["Diffusion one"] == ("https://example.org/1", ("Ann", "Bob"))
    feed.config(extra='identity:\n  split:\n    - ["Diffusion one", "Diffusion two"]\n')
    feed.run()
    assert links() == before


def test_a_changed_listing_takes_no_paper_from_a_published_week(
    make_feed: Callable[..., Any],
) -> None:
    # Issue 15: papers only in a listing's old content vanished from the week's feed
    # item ("(0 papers)") and from exports, exit 0, no message.
    one = {"title": "Diffusion kept", "abstract": "diffusion", "date": "2026-11-10"}
    two = {"title": "Diffusion dropped later", "abstract": "diffusion", "date": "2026-11-10"}
    feed = make_feed().listing("a.jsonl", [one, two])
    first = feed.run()
    rss = (first.site / "rss.xml").read_text(encoding="utf-8")
    assert "Diffusion dropped later" in rss
    feed.listing("a.jsonl", [one])  # the listing changes: the second paper is gone
    second = feed.run()
    assert second.report.ingest.listings_new == 1 and not second.report.problems
    assert (second.site / "rss.xml").read_text(encoding="utf-8") == rss
    with Store(second.cfg.store) as store:
        titles = {p.title for p in store.papers.iter_all()}
        assert store.listings.changed() == [("a.jsonl", 2)]
    assert titles == {"Diffusion kept", "Diffusion dropped later"}


def test_migrating_names_that_escape_alike_keeps_both_listings(
    make_feed: Callable[..., Any],
) -> None:
    # A store of version 7 kept a raw control byte in one file's name; another file of the
    # same content is named as that escape reads. Escaping the first must not collide with
    # the second (UNIQUE(name, sha256)) and lock the store out for good (review).
    record = {"title": "Diffusion twins", "abstract": "d", "date": "2026-11-20"}
    feed = make_feed().listing("a.jsonl", [record]).listing("b.jsonl", [record])
    built = feed.run()
    db = sqlite3.connect(built.cfg.store)
    db.execute("UPDATE listing SET name='a\x01.jsonl' WHERE name='a.jsonl'")
    db.execute("UPDATE listing SET name='a\\x01.jsonl' WHERE name='b.jsonl'")
    db.execute("UPDATE meta SET value='7' WHERE key='schema_version'")
    db.commit()
    sightings = db.execute("SELECT COUNT(*) FROM sighting").fetchone()[0]
    db.close()
    with Store(built.cfg.store) as store:
        assert store.db.integrity_problems() == []
    db = sqlite3.connect(built.cfg.store)
    names = sorted(r[0] for r in db.execute("SELECT name FROM listing"))
    assert names == ["a\\x01.jsonl", "a\\x01.jsonl (2)"]
    assert db.execute("SELECT COUNT(*) FROM sighting").fetchone()[0] == sightings
    db.close()
    listings = feed.root / "listings"
    (listings / "a.jsonl").rename(listings / "a\x01.jsonl")  # the files as the store knew them
    (listings / "b.jsonl").rename(listings / "a\\x01.jsonl")
    assert feed.run().report.ingest.sightings == 0  # both files known again


def test_a_migration_that_fails_says_the_store_is_unchanged(
    make_feed: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A migration meeting data it did not expect is a bug, not damage: the message must
    # not tell the user to move the store away (that loses the record of mailed weeks).
    from digest.errors import StoreError
    from digest.store import schema

    built = (
        make_feed()
        .listing("a.jsonl", [{"title": "T", "abstract": "d", "date": "2026-11-20"}])
        .run()
    )
    db = sqlite3.connect(built.cfg.store)
    db.execute("UPDATE meta SET value='7' WHERE key='schema_version'")
    db.commit()
    db.close()

    def broken(db: Any) -> None:
        raise sqlite3.IntegrityError("UNIQUE constraint failed: listing.name")

    monkeypatch.setitem(schema.REPAIRS, 8, broken)
    with pytest.raises(StoreError) as caught:
        Store(built.cfg.store)
    assert "upgrading the store to schema version 8 failed" in str(caught.value)
    assert "unchanged (still version 7)" in str(caught.value)
    assert "report" in (caught.value.hint or "") and "move" not in (caught.value.hint or "")


# -- URLs and ids are checked at ingest ---------------------------------------------------

BAD_URLS = [
    "https://e.org/" + "a" * 2_000_000,  # copied into every page, feed and email
    'https://e.org/"><script>alert(1)</script>',
    "https://e.org/a\nb",
    "https://e.org/\x1b[31m",
    "https://e.org/a\tb",
    "https://e.org/a b",
    "https://e.org/`x`",
    "https://e.org/\u202eevil",
    "javascript:alert(1)",
    "https:///no-host",
    "https://e.org:port/",
]


def test_unbounded_or_unsafe_urls_are_refused_with_file_and_line() -> None:
    fine = "https://e.org/" + "a" * (2048 - len("https://e.org/"))  # the longest kept
    records = [
        {"title": f"T{i}", "abstract": "A.", "date": "2026-11-20", "url": url}
        for i, url in enumerate([*BAD_URLS, fine])
    ]
    listing = read_bytes(jsonl(*records), "u.jsonl", CTX)
    assert [e.title for e in listing.entries] == [r["title"] for r in records]  # all kept
    assert [e.url for e in listing.entries] == [None] * len(BAD_URLS) + [fine]
    assert [(p.file, p.line) for p in listing.problems] == [
        ("u.jsonl", n) for n in range(1, len(BAD_URLS) + 1)
    ]
    assert "over 2,048" in listing.problems[0].message
    assert all(len(p.message) < 300 for p in listing.problems)
    urls = ["https://e.org/" + "a" * 10_000, *BAD_URLS[3::3]]  # csv caps a field at 128 KiB
    rows = "".join(f"T{i},A.,2026-11-20,{u}\n" for i, u in enumerate(urls))
    listing = read_bytes(f"title,abstract,date,url\n{rows}".encode(), "u.csv", CTX)
    assert [e.url for e in listing.entries] == [None] * 4
    assert [p.line for p in listing.problems] == [2, 3, 4, 5]


def test_a_long_url_reaches_no_output(make_feed: Callable[..., Any]) -> None:
    long = "https://e.org/" + "a" * 100_000
    feed = make_feed().listing(
        "a.jsonl",
        [{"title": "Diffusion", "abstract": "diffusion", "date": "2026-11-20", "url": long}],
    )
    built = feed.run()
    with Store(built.cfg.store) as store:
        assert [p.url for p in store.papers.iter_all()] == [None]
    for path in built.site.rglob("*"):
        if path.is_file():
            assert "a" * 3000 not in path.read_text(errors="replace"), path


def test_an_id_with_control_characters_is_refused_with_its_line() -> None:
    records = [
        {"title": "T", "abstract": "A.", "date": "2026-11-20", "id": "10.1000/\x1b[31mX"},
        {"title": "U", "abstract": "A.", "date": "2026-11-20", "id": "2403.01234\u202e"},
        {"title": "V", "abstract": "A.", "date": "2026-11-20", "id": "10.1000/ok"},
    ]
    listing = read_bytes(jsonl(*records), "i.jsonl", CTX)
    assert [e.source_id for e in listing.entries] == [None, None, "doi:10.1000/ok"]
    assert [p.line for p in listing.problems] == [1, 2]
    assert all("non-printable" in p.message for p in listing.problems)
    assert all("\x1b" not in p.message for p in listing.problems)


def test_migration_8_keeps_the_week_of_the_last_date_in_range(
    make_feed: Callable[..., Any],
) -> None:
    # 9000-12-31, the last day outputs show, is in ISO week 9001-W01: its week row stays.
    from digest.identity.resolve import Resolver
    from digest.models import Entry

    last = {"title": "Diffusion at the end", "abstract": "d", "date": "9000-12-31"}
    built = make_feed().listing("ok.jsonl", [last]).run()
    with Store(built.cfg.store) as store:
        far = Entry("Far future", "a", "old.jsonl", dt.date(9999, 12, 31), 0)
        store_listing(store, Resolver(), "old.jsonl", "sha", "jsonl", None, [far], 0)
    db = sqlite3.connect(built.cfg.store)
    assert sorted(r[0] for r in db.execute("SELECT week FROM week")) == ["9001-W01", "9999-W52"]
    db.execute("UPDATE meta SET value='7' WHERE key='schema_version'")
    db.commit()
    db.close()
    with Store(built.cfg.store) as store:
        assert [p.title for p in store.papers.iter_all()] == ["Diffusion at the end"]
        assert [r[0] for r in store.db.execute("SELECT week FROM week")] == ["9001-W01"]
