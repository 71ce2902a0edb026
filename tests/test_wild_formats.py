"""Listings as they come from the wild (issue 18): arXiv Atom and RDF category feeds,
Hugging Face daily papers with their signals, Zotero CSV and BibTeX exports, query
results dated by import, versions and the same paper met in several formats.

The files are in tests/data/wild (their README says where each came from). Each reader
also gets a hypothesis test: any text in a field never crashes it and never costs a
valid record.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path
from types import ModuleType
from xml.sax.saxutils import escape

import pytest
from conftest import TEST_FEED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.commands.inspect import export
from digest.config import load_config
from digest.config.feed import parse_config
from digest.errors import ConfigError
from digest.ingest import ingest
from digest.models import Entry, Listing, Signals
from digest.normalize import clean_text
from digest.sources import (
    ReadContext,
    arxiv_api,
    arxiv_rss,
    bibtex,
    csv_reader,
    hf_json,
    jsonl,
    pick_reader,
    read_bytes,
    read_file,
)
from digest.sources.gather import gather_sources
from digest.store import SCHEMA_VERSION, Store

WILD = Path(__file__).parent / "data" / "wild"
TODAY = dt.date(2026, 12, 7)
CTX = ReadContext(today=TODAY)
PUBLISHED = ReadContext(today=TODAY, dating="published")


def read(name: str, ctx: ReadContext = CTX, fmt: str = "auto") -> Listing:
    return read_file(WILD / name, ctx, fmt)


def by_id(listing: Listing) -> dict[str | None, Entry]:
    return {e.source_id: e for e in listing.entries}


# --- detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("arxiv_atom_math.OC_2024-08-23.xml", arxiv_rss),
        ("arxiv_rdf_hep-ex_2018-05-23.xml", arxiv_rss),
        ("arxiv_rdf_hep-ex_2021-07-08.xml", arxiv_rss),
        ("arxiv_api_query_2026-03-07.xml", arxiv_api),
        ("hf_daily_papers_2026-03-06.json", hf_json),
        ("hf_daily_papers_trimmed_2026-03-23.json", hf_json),
        ("zotero_export.csv", csv_reader),
        ("library.bib", bibtex),
    ],
)
def test_every_wild_format_is_detected_by_content(name: str, reader: ModuleType) -> None:
    text = (WILD / name).read_text(encoding="utf-8-sig")
    assert pick_reader(text) is reader
    listing = read(name)
    assert listing.format == reader.FORMAT
    assert listing.entries


# --- arXiv Atom category feed ---------------------------------------------------------------


def test_arxiv_atom_category_feed_is_read_right() -> None:
    listing = read("arxiv_atom_math.OC_2024-08-23.xml")
    assert listing.problems == []
    assert listing.date == dt.date(2024, 8, 23)
    entries = by_id(listing)
    new = entries["arxiv:2408.12345"]
    assert new.title == "Douglas-Rachford Splitting for Nonconvex Feasibility Problems"
    assert new.abstract.startswith("We study the Douglas-Rachford method")  # no boilerplate
    assert (new.version, new.announce, new.date) == (1, "new", dt.date(2024, 8, 23))
    assert new.authors == ("Ana Muñoz", "Björn Larsson", "Chen Wei")  # "A, B and C"
    assert dict(new.links) == {
        "abs": "https://arxiv.org/abs/2408.12345",
        "pdf": "https://arxiv.org/pdf/2408.12345",
    }
    replaced = entries["arxiv:2203.01250"]
    assert (replaced.version, replaced.announce) == (3, "replace-cross")
    assert replaced.abstract.startswith("We consider first order local minimization")
    assert "Announce Type" not in replaced.abstract
    assert replaced.authors == ("Antonin Monteil", "Paul Pegon")
    assert dict(replaced.links)["doi"] == "https://doi.org/10.5802/jep.257"
    assert replaced.ids == ("doi:10.5802/jep.257",)
    assert entries["arxiv:2408.12001"].announce == "cross"


def test_format_arxiv_rss_accepts_the_atom_feed() -> None:
    forced = read("arxiv_atom_math.OC_2024-08-23.xml", fmt="arxiv-rss")
    assert [e.source_id for e in forced.entries] == [
        "arxiv:2408.12345",
        "arxiv:2203.01250",
        "arxiv:2408.12001",
    ]


# --- arXiv RSS 1.0 / RDF --------------------------------------------------------------------


def test_arxiv_rdf_feed_is_read_not_taken_for_a_text_dump() -> None:
    listing = read("arxiv_rdf_hep-ex_2018-05-23.xml")
    assert listing.problems == []
    # 2018-05-23T20:30-05:00 is May 24 in UTC, the feed's configured zone here.
    assert listing.date == dt.date(2018, 5, 24)
    assert [(e.source_id, e.version, e.announce) for e in listing.entries] == [
        ("arxiv:1805.08875", 1, "new"),
        ("arxiv:1805.09166", 1, "cross"),
        ("arxiv:1805.06430", 2, "replace"),
    ]
    first, _, updated = listing.entries
    assert first.title == "Measurement of Transverse Single Spin Asymmetries."
    assert first.abstract.startswith("In 2015 the first collisions between polarized")
    assert "<p>" not in first.abstract and "2.6<\\eta<4" in first.abstract
    assert first.authors == ("Christopher Dilks (STAR Collaboration)",)
    assert first.url == "http://arxiv.org/abs/1805.08875"
    assert updated.authors[-1] == "Hong-Shi Zong" and len(updated.authors) == 6
    assert {e.date for e in listing.entries} == {dt.date(2018, 5, 24)}
    chicago = read(
        "arxiv_rdf_hep-ex_2018-05-23.xml", ReadContext(TODAY, timezone="America/Chicago")
    )
    assert chicago.date == dt.date(2018, 5, 23)


def test_arxiv_rdf_creators_drop_the_authors_not_shown() -> None:
    lhcb = read("arxiv_rdf_hep-ex_2021-07-08.xml").entries[0]
    assert lhcb.title.startswith("Observation of excited $\\Omega_c^0$ baryons")
    assert lhcb.authors == ("LHCb collaboration: R. Aaij",)


# --- Hugging Face daily papers --------------------------------------------------------------


def test_hf_item_is_dated_by_the_featured_day_and_keeps_its_signals() -> None:
    listing = read("hf_daily_papers_2026-03-06.json")
    (entry,) = listing.entries
    assert entry.date == dt.date(2026, 3, 6)  # submittedOnDailyAt, not publishedAt (02-26)
    assert entry.signals == Signals(
        upvotes=10,
        comments=1,
        summary=(
            "Large Multimodal Models demonstrate superior performance in closed-world "
            "classification with in-context learning and excel in open-world scenarios when "
            "equipped with context refinement techniques."
        ),
        keywords=(
            "Vision-Language Models",
            "Large Multimodal Models",
            "zero-shot classification",
            "in-context learning",
            "open-world classification",
            "cache-based adapters",
            "CIRCLE",
            "pseudo-labeling",
            "context refinement",
        ),
    )
    assert dict(entry.links) == {
        "abs": "https://arxiv.org/abs/2602.23229",
        "pdf": "https://arxiv.org/pdf/2602.23229",
        "hf": "https://huggingface.co/papers/2602.23229",
        "code": "https://github.com/marco-garosi/CIRCLE",
        "project": "https://circle-lmm.github.io/",
    }
    assert entry.authors[0] == "Marco Garosi" and len(entry.authors) == 5


def test_hf_trimmed_items_without_a_featured_day_are_kept() -> None:
    listing = read("hf_daily_papers_trimmed_2026-03-23.json")
    assert listing.problems == []
    assert [e.date for e in listing.entries] == [dt.date(2026, 3, 23)] * 2
    assert all(e.signals is not None and e.signals.upvotes is None for e in listing.entries)


def test_hf_signals_of_the_wrong_type_are_left_out() -> None:
    item = {
        "paper": {"id": "2603.00001", "title": "T", "summary": "S", "upvotes": "1.2k",
                  "ai_keywords": "not a list", "githubRepo": "javascript:alert(1)",
                  "submittedOnDailyAt": "2026-03-02T00:00:00Z"},
        "numComments": True,
    }  # fmt: skip
    (entry,) = hf_json.read(json.dumps([item]), "odd.json", CTX).entries
    assert entry.signals is None
    assert "code" not in dict(entry.links)


# --- Zotero CSV, column mapping -------------------------------------------------------------


def test_zotero_csv_keeps_abstracts_authors_dois_and_partial_dates() -> None:
    listing = read("zotero_export.csv", PUBLISHED)
    entries = {e.title: e for e in listing.entries}
    adam = entries["Adam: A Method for Stochastic Optimization"]
    assert adam.abstract.startswith("We introduce Adam, an algorithm")
    assert adam.authors == ("Diederik P. Kingma", "Jimmy Ba")
    assert adam.source_id == "arxiv:1412.6980"  # arXiv's own DOI is an arXiv id
    assert adam.date == dt.date(2014, 12, 1)  # "2014-12": the first day of the month
    gan = entries["Generative Adversarial Nets"]
    assert gan.date == dt.date(2014, 11, 1)
    book = entries["The Elements of Statistical Learning"]
    assert (book.source_id, book.date) == ("doi:10.1007/978-0-387-84858-7", dt.date(2009, 1, 1))
    assert dict(book.links) == {"doi": "https://doi.org/10.1007/978-0-387-84858-7"}
    assert "Zotero Documentation: Exporting" not in entries  # no date at all: a problem
    assert any("Zotero Documentation" in p.message for p in listing.problems)


def test_a_library_export_is_dated_by_import_and_keeps_undated_rows() -> None:
    listing = read("zotero_export.csv")
    assert listing.dating == "import"
    assert len(listing.entries) == 5
    assert {e.date for e in listing.entries} == {TODAY}


@pytest.mark.parametrize(
    "header",
    [
        "title,summary,published,link,eprint,creators",
        "Title,Description,Year,URL,arxiv_id,Author",
        "TITLE;ABSTRACT NOTE;PUBLICATION YEAR;URL;ID;AUTHORS",
    ],
)
def test_csv_column_spellings(header: str) -> None:
    sep = ";" if ";" in header else ","
    row = sep.join(["A title", "An abstract", "2009", "https://example.org/p", "2401.01234v2",
                    '"Doe, Jane; Roe, Rick"'])  # fmt: skip
    listing = csv_reader.read(f"{header}\n{row}\n", "x.csv", CTX)
    (entry,) = listing.entries
    assert (entry.title, entry.abstract, entry.date) == (
        "A title",
        "An abstract",
        dt.date(2009, 1, 1),
    )
    assert (entry.source_id, entry.version) == ("arxiv:2401.01234", 2)
    assert entry.authors == ("Jane Doe", "Rick Roe")


def test_jsonl_key_spellings_and_doi_field() -> None:
    record = {
        "Title": "T",
        "summary": "S",
        "year": 2014,
        "doi": "10.1000/ABC",
        "arxiv_id": "1412.6980",
    }
    (entry,) = jsonl.read(json.dumps(record), "x.jsonl", CTX).entries
    assert (entry.date, entry.source_id, entry.ids) == (
        dt.date(2014, 1, 1),
        "arxiv:1412.6980",
        ("doi:10.1000/abc",),
    )


# --- BibTeX ---------------------------------------------------------------------------------


def test_bibtex_library_is_read_with_accents_and_ids() -> None:
    listing = read("library.bib", PUBLISHED)
    assert [p.message for p in listing.problems] == [
        "record without an abstract: 'Attention is all you need' (kept)",
        "record without an abstract: 'Über Größe und Schätzung' (kept)",
    ]
    mass, adam, attention, umlauts = listing.entries
    assert (mass.source_id, mass.date, mass.line) == ("doi:10.5802/jep.257", dt.date(2024, 2, 1), 2)
    assert mass.authors == ("Antonin Monteil", "Paul Pegon")
    assert mass.abstract.startswith("We consider first order local minimization problems")
    assert (adam.title, adam.source_id) == (
        "Adam: A Method for Stochastic Optimization",
        "arxiv:1412.6980",
    )
    assert attention.authors[6] == "Łukasz Kaiser" and len(attention.authors) == 8
    assert umlauts.title == "Über Größe und Schätzung"
    assert umlauts.authors == ("Jörg Müller", "André François")
    assert umlauts.date == dt.date(2019, 11, 1)
    assert {e.date for e in read("library.bib").entries} == {TODAY}  # by import by default


def test_bibtex_broken_entry_is_a_problem_and_the_rest_counts() -> None:
    text = (
        "@article{ok1, title={First}, year=2020}\n"
        '@misc{bad, title = "Broken\n'
        "@article{ok2, title={Second}, eprint={2401.00001v3}, archivePrefix={arXiv}, year=2021}\n"
        "@article{ok1, title={Again}, year=2022}\n"
    )
    listing = bibtex.read(text, "x.bib", PUBLISHED)
    assert [e.title for e in listing.entries] == ["First", "Second", "Again"]
    assert listing.entries[1].version == 3
    lines = {(p.line, p.message.split(":")[0]) for p in listing.problems}
    assert (2, "unreadable BibTeX entry") in lines
    assert (4, "entry key 'ok1' used before (read too)") in lines


def test_bibtexparser_writes_nothing_to_the_terminal(capfd: pytest.CaptureFixture[str]) -> None:
    bibtex.read('@misc{bad, title = "Broken\n@misc{b, title={T}}\n', "x.bib", CTX)
    assert capfd.readouterr() == ("", "")


# --- dating by import, configured per source ------------------------------------------------


def test_query_results_are_dated_by_import_unless_the_source_says_otherwise() -> None:
    data = (WILD / "arxiv_api_query_2026-03-07.xml").read_bytes()
    by_import = read_bytes(data, "q.xml", CTX)
    assert {e.date for e in by_import.entries} == {TODAY}
    published = read_bytes(data, "q.xml", PUBLISHED)
    assert [e.date for e in published.entries] == [dt.date(2026, 2, 26), dt.date(2022, 3, 2)]
    listing_dated = read_bytes(data, "q.xml", ReadContext(TODAY, dating="listing"))
    assert {e.date for e in listing_dated.entries} == {dt.date(2026, 3, 7)}
    rss = read_bytes((WILD / "arxiv_rdf_hep-ex_2018-05-23.xml").read_bytes(), "r.xml", CTX)
    assert rss.date == dt.date(2018, 5, 24)  # a dated listing keeps its date


def feed_yaml(sources: str) -> str:
    text = TEST_FEED.format(
        feed_items=12, theme_feed_items=200, empty_weeks="false",
        formats="markdown", extra="",
    )  # fmt: skip
    return text.replace("sources:\n  - path: listings/*\n", sources)


def test_the_date_option_is_checked_with_every_other_problem(tmp_path: Path) -> None:
    text = feed_yaml(
        "sources:\n  - {path: a/*, date: whenever}\n  - {path: b/*, format: rtf, date: import}\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, tmp_path)
    shown = "\n".join(str(p) for p in caught.value.problems)
    assert (
        "sources[0].date: unknown date 'whenever' (known: auto, published, listing, import)"
        in shown
    )
    assert "sources[1].format: unknown format 'rtf'" in shown


def test_a_date_that_does_not_read_gives_way_to_the_year() -> None:
    text = (
        '"Key","Item Type","Title","Date","Publication Year"\n"K","book","T","Spring 2014","2014"\n'
    )
    (entry,) = csv_reader.read(text, "z.csv", PUBLISHED).entries
    assert entry.date == dt.date(2014, 1, 1)


def test_a_library_export_read_again_adds_only_its_new_papers(tmp_path: Path) -> None:
    root = tmp_path / "feed"
    (root / "lib").mkdir(parents=True)
    (root / "feed.yaml").write_text(feed_yaml("sources:\n  - path: lib/*\n"), encoding="utf-8")
    bib = root / "lib" / "library.bib"
    first = "@article{a, title={First paper}, abstract={One.}, year=2001}\n"
    bib.write_text(first, encoding="utf-8")
    cfg = load_config(root)
    with Store(cfg.store) as store:
        ingest(cfg, store, gather_sources(cfg, TODAY)[0], TODAY)
        bib.write_text(first + "@article{b, title={Second paper}, abstract={Two.}}\n")
        later = TODAY + dt.timedelta(days=9)
        report = ingest(cfg, store, gather_sources(cfg, later)[0], later)
    assert (report.sightings, report.new_papers) == (1, 1)
    dates = {r["title"]: (r["first_seen"], len(r["sightings"])) for r in export(cfg)}
    assert dates == {
        "First paper": (TODAY.isoformat(), 1),
        "Second paper": (later.isoformat(), 1),
    }


def test_a_store_of_version_10_gets_the_extra_column_and_keeps_its_sightings(
    tmp_path: Path,
) -> None:
    root = tmp_path / "feed"
    (root / "feeds").mkdir(parents=True)
    shutil.copy(WILD / "hf_daily_papers_2026-03-06.json", root / "feeds" / "hf.json")
    (root / "feed.yaml").write_text(feed_yaml("sources:\n  - path: feeds/*\n"), encoding="utf-8")
    cfg = load_config(root)
    with Store(cfg.store) as store:
        ingest(cfg, store, gather_sources(cfg, TODAY)[0], TODAY)
        store.db.execute("DROP TRIGGER sighting_extra_theme")  # they name the column
        store.db.execute("DROP TRIGGER sighting_extra_tags")
        store.db.execute("DROP TRIGGER sighting_extra_seq")
        store.db.execute("ALTER TABLE sighting DROP COLUMN extra")
        store.db.execute("UPDATE meta SET value='10' WHERE key='schema_version'")
        store.db.conn.commit()
    with Store(cfg.store) as store:
        assert store.version == SCHEMA_VERSION
    (record,) = export(cfg)
    assert (record["signals"], record["links"], record["versions"]) == ({}, {}, [])
    assert record["source_id"] == "arxiv:2602.23229"


# --- in the store and the export: versions, signals, one paper across formats --------------


def test_wild_listings_end_to_end_in_the_store_and_the_export(tmp_path: Path) -> None:
    root = tmp_path / "feed"
    for folder in ("feeds", "lib", "query"):
        (root / folder).mkdir(parents=True)
    for name in ("arxiv_atom_math.OC_2024-08-23.xml", "arxiv_atom_math.OC_2024-08-26.xml",
                 "hf_daily_papers_2026-03-06.json"):  # fmt: skip
        shutil.copy(WILD / name, root / "feeds" / name)
    shutil.copy(WILD / "arxiv_api_query_2026-03-07.xml", root / "query" / "q.xml")
    shutil.copy(WILD / "zotero_export.csv", root / "lib" / "zotero.csv")
    shutil.copy(WILD / "library.bib", root / "lib" / "library.bib")
    (root / "feed.yaml").write_text(
        feed_yaml(
            "sources:\n  - path: feeds/*\n  - path: query/*\n"
            "  - {path: lib/*.csv, date: published}\n  - path: lib/*.bib\n"
        ),
        encoding="utf-8",
    )
    cfg = load_config(root)
    inputs, problems = gather_sources(cfg, TODAY)
    assert problems == []
    with Store(cfg.store) as store:
        report = ingest(cfg, store, inputs, TODAY)
    assert report.listings_new == 6
    exported = list(export(cfg))
    records = {r["source_id"]: r for r in exported if r["source_id"]}
    # A v2 joins its v1, and the export carries both versions.
    dr = records["arxiv:2408.12345"]
    assert dr["versions"] == [1, 2]
    assert [s["listing"] for s in dr["sightings"]] == [
        "arxiv_atom_math.OC_2024-08-23.xml",
        "arxiv_atom_math.OC_2024-08-26.xml",
    ]
    assert dr["first_seen"] == "2024-08-23"
    assert dr["authors"] == ["Ana Muñoz", "Björn Larsson", "Chen Wei"]
    # HF JSON + arXiv API: one paper, with the HF signals and links; the API result dated
    # by import does not move it from the day it was featured.
    circle = records["arxiv:2602.23229"]
    assert sorted(s["listing"] for s in circle["sightings"]) == [
        "hf_daily_papers_2026-03-06.json",
        "q.xml",
    ]
    assert circle["first_seen"] == "2026-03-06"
    assert circle["signals"]["upvotes"] == 10 and circle["signals"]["comments"] == 1
    assert circle["links"]["hf"] == "https://huggingface.co/papers/2602.23229"
    assert circle["links"]["code"] == "https://github.com/marco-garosi/CIRCLE"
    assert circle["versions"] == [1]
    # Atom (arXiv id + journal DOI), API, Zotero CSV and BibTeX (DOI only): one paper.
    mass = records["arxiv:2203.01250"]
    listings = sorted(s["listing"] for s in mass["sightings"])
    assert listings == [
        "arxiv_atom_math.OC_2024-08-23.xml",
        "library.bib",
        "q.xml",
        "zotero.csv",
    ]
    by_listing = {s["listing"]: s["rule"] for s in mass["sightings"]}
    assert by_listing["zotero.csv"] == "source-id"  # joined by the DOI, not the title
    assert mass["versions"] == [1, 3]
    assert mass["links"]["doi"] == "https://doi.org/10.5802/jep.257"
    # The Zotero CSV is dated by publication (date: published), the BibTeX by import.
    gan = next(r for r in exported if r["title"] == "Generative Adversarial Nets")
    assert gan["first_seen"] == "2014-11-01"
    attention = next(r for r in exported if r["title"] == "Attention is all you need")
    assert attention["first_seen"] == TODAY.isoformat()
    # Existing keys stay; the new ones are plain JSON.
    assert {"id", "title", "abstract", "sightings", "source_id", "url", "authors"} <= set(dr)
    assert len(exported) == 9  # 13 records in 6 listings (one undated CSV row skipped)
    json.dumps(exported)


def test_a_paper_stored_under_its_doi_is_found_by_an_arxiv_entry_carrying_that_doi(
    tmp_path: Path,
) -> None:
    # The DOI-only record comes first: the later arXiv entry (another title, another
    # text) names the DOI besides its own id, and that alone joins them.
    root = tmp_path / "feed"
    (root / "lib").mkdir(parents=True)
    journal = {"title": "Mass transport in networks", "abstract": "A journal abstract.",
               "doi": "10.5802/jep.257", "date": "2026-03-02"}  # fmt: skip
    preprint = {"title": "Optimal transport on graphs", "abstract": "The preprint's text.",
                "id": "arXiv:2203.01250v3", "doi": "https://doi.org/10.5802/jep.257",
                "date": "2026-03-04"}  # fmt: skip
    (root / "lib" / "a.jsonl").write_text(json.dumps(journal) + "\n", encoding="utf-8")
    (root / "lib" / "b.jsonl").write_text(json.dumps(preprint) + "\n", encoding="utf-8")
    (root / "feed.yaml").write_text(
        feed_yaml("sources:\n  - {path: lib/*.jsonl, date: published}\n"), encoding="utf-8"
    )
    cfg = load_config(root)
    with Store(cfg.store) as store:
        ingest(cfg, store, gather_sources(cfg, TODAY)[0], TODAY)
    (record,) = export(cfg)
    assert [(s["listing"], s["rule"]) for s in record["sightings"]] == [
        ("a.jsonl", "new"), ("b.jsonl", "source-id"),
    ]  # fmt: skip


# --- hypothesis: any text in a field never crashes a reader nor costs a valid record -------

TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=40,
).filter(lambda t: clean_text(t) != "")
RECORDS = st.lists(st.tuples(TEXT, TEXT, TEXT), min_size=1, max_size=5)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(listing: Listing, records: list[tuple[str, str, str]], *, titles: bool = True) -> None:
    assert len(listing.entries) == len(records), listing.problems
    if titles:
        assert [e.title for e in listing.entries] == [clean_text(t) for t, _, _ in records]


@FAST
@given(RECORDS)
def test_atom_reader_keeps_every_record(records: list[tuple[str, str, str]]) -> None:
    entries = "".join(
        f"<entry><id>oai:arXiv.org:2408.{10000 + i}v1</id><title>{escape(t)}</title>"
        f"<summary>arXiv:2408.{10000 + i}v1 Announce Type: new Abstract: {escape(a)}</summary>"
        f"<published>2024-08-23T00:00:00-04:00</published>"
        f"<dc:creator>{escape(c)}</dc:creator></entry>"
        for i, (t, a, c) in enumerate(records)
    )
    text = (
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom"><id>http://rss.arxiv.org/atom/cs.CL</id>'
        f"{entries}</feed>"
    )
    assert pick_reader(text) is arxiv_rss
    _check(arxiv_rss.read(text, "a.xml", CTX), records)


@FAST
@given(RECORDS)
def test_rdf_reader_keeps_every_record(records: list[tuple[str, str, str]]) -> None:
    items = "".join(
        f'<item rdf:about="http://arxiv.org/abs/1805.{10000 + i}"><title>{escape(t)}'
        f" (arXiv:1805.{10000 + i}v1 [hep-ex])</title>"
        f"<link>http://arxiv.org/abs/1805.{10000 + i}</link>"
        f"<description>{escape(escape(a))}</description>"
        f"<dc:creator>{escape(escape(c))}</dc:creator></item>"
        for i, (t, a, c) in enumerate(records)
    )
    text = (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<channel rdf:about="http://arxiv.org/"><title>arXiv</title>'
        f"<dc:date>2018-05-23T20:30:00-05:00</dc:date></channel>{items}</rdf:RDF>"
    )
    assert pick_reader(text) is arxiv_rss
    listing = arxiv_rss.read(text, "r.xml", CTX)
    _check(listing, records, titles=False)
    assert [e.source_id for e in listing.entries] == [
        f"arxiv:1805.{10000 + i}" for i in range(len(records))
    ]


@FAST
@given(RECORDS, st.integers(min_value=0, max_value=10**6))
def test_hf_reader_keeps_every_record(records: list[tuple[str, str, str]], votes: int) -> None:
    items = [
        {"paper": {"id": f"2603.{10000 + i}", "title": t, "summary": a, "upvotes": votes,
                   "authors": [{"name": c}], "ai_keywords": [c, t], "ai_summary": a,
                   "submittedOnDailyAt": "2026-03-06T03:55:12.777Z"}, "numComments": votes}
        for i, (t, a, c) in enumerate(records)
    ]  # fmt: skip
    listing = hf_json.read(json.dumps(items, ensure_ascii=False), "h.json", CTX)
    _check(listing, records)
    assert all(e.signals is not None and e.signals.upvotes == votes for e in listing.entries)


@FAST
@given(RECORDS)
def test_zotero_csv_reader_keeps_every_record(records: list[tuple[str, str, str]]) -> None:
    buf = io.StringIO()
    out = csv.writer(buf, quoting=csv.QUOTE_ALL)
    out.writerow(["Key", "Item Type", "Publication Year", "Author", "Title", "Abstract Note"])
    for i, (t, a, c) in enumerate(records):
        out.writerow([f"K{i}", "journalArticle", "2014", c, t, a])
    listing = csv_reader.read(buf.getvalue(), "z.csv", CTX)
    _check(listing, records)


@FAST
@given(RECORDS)
def test_bibtex_reader_keeps_every_record(records: list[tuple[str, str, str]]) -> None:
    def braced(text: str) -> str:  # a valid BibTeX value holds balanced braces only
        return text.replace("{", "(").replace("}", ")").replace("\\", "/")

    usable = [(braced(t), braced(a), braced(c)) for t, a, c in records]
    usable = [r for r in usable if clean_text(r[0].replace("$", ""))]
    text = "".join(
        f"@article{{key{i},\n  title = {{{t}}},\n  abstract = {{{a}}},\n"
        f"  author = {{{c}}},\n  year = 2020\n}}\n"
        for i, (t, a, c) in enumerate(usable)
    )
    listing = bibtex.read(text, "b.bib", CTX)
    assert len(listing.entries) == len(usable), listing.problems


@pytest.mark.parametrize(("dating", "imported"), [("auto", True), ("published", False)])
def test_ingest_on_the_command_line_dates_as_a_source_would(
    tmp_path: Path, dating: str, imported: bool
) -> None:
    from click.testing import CliRunner

    from digest.cli import cli

    root = tmp_path / "feed"
    root.mkdir()
    (root / "feed.yaml").write_text(feed_yaml("sources: []\n"), encoding="utf-8")
    query = tmp_path / "q.xml"
    shutil.copy(WILD / "arxiv_api_query_2026-03-07.xml", query)
    args = ["ingest", str(root), str(query), "--today", TODAY.isoformat(), "--date", dating]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 3), result.output
    days = {r["first_seen"] for r in export(load_config(root))}
    assert (days == {TODAY.isoformat()}) is imported, days
