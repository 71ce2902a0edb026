"""Listing readers on realistic fixtures in their real formats (tests/fixtures/sources/)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.models import Entry, Listing
from digest.sources import (
    READERS,
    ReadContext,
    arxiv_api,
    arxiv_rss,
    csv_reader,
    fields,
    hf_json,
    jsonl,
    pick_reader,
    read_bytes,
    read_file,
    textdump,
)

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
SEEDS = sorted((Path(__file__).parents[1] / "feeds" / "example" / "listings").glob("*.txt"))
CTX = ReadContext(today=dt.date(2024, 3, 16))
PUBLISHED = ReadContext(today=CTX.today, dating="published")
"""Entries dated by their own dates (query results are dated by import by default)."""


def read(name: str, ctx: ReadContext = CTX) -> Listing:
    listing = read_file(FIXTURES / name, ctx)
    assert listing.name == name
    assert [e.position for e in listing.entries] == list(range(len(listing.entries)))
    assert all(e.listing == name for e in listing.entries)
    return listing


def by_id(listing: Listing) -> dict[str | None, Entry]:
    return {e.source_id: e for e in listing.entries}


def problems(listing: Listing) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in listing.problems]


# --- detection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("arxiv_rss_cs_lg.xml", arxiv_rss),
        ("arxiv_rss_weekend.xml", arxiv_rss),
        ("arxiv_rss_truncated.xml", arxiv_rss),
        ("arxiv_rss_entities_attack.xml", arxiv_rss),
        ("arxiv_api_query.xml", arxiv_api),
        ("arxiv_api_error.xml", arxiv_api),
        ("hf_daily_papers.json", hf_json),
        ("listing.jsonl", jsonl),
        ("listing.csv", csv_reader),
    ],
)
def test_detection_picks_the_reader_of_each_format(name: str, reader: ModuleType) -> None:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    assert pick_reader(text) is reader
    assert read(name).format == reader.FORMAT


@pytest.mark.parametrize("seed", SEEDS, ids=[s.name for s in SEEDS])
def test_seed_text_dumps_are_still_detected_as_textdump(seed: Path) -> None:
    text = seed.read_text(encoding="utf-8")
    assert [r.FORMAT for r in READERS if r.detect(text)] == ["textdump"]
    assert read_file(seed, CTX).format == "textdump"


def test_textdump_is_tried_last_and_every_format_has_a_unique_name() -> None:
    assert READERS[-1] is textdump
    names = [r.FORMAT for r in READERS]
    assert len(set(names)) == len(names)
    assert set(names) >= {"arxiv-rss", "arxiv-api", "hf-json", "jsonl", "csv"}


def test_an_explicit_format_wins_over_detection() -> None:
    data = (FIXTURES / "listing.jsonl").read_bytes()
    listing = read_bytes(data, "x.jsonl", CTX, fmt="csv")
    assert listing.format == "csv"
    assert listing.entries == []
    assert listing.problems  # no 'title' column: said, not raised


# --- arXiv RSS --------------------------------------------------------------------------------


def test_arxiv_rss_new_cross_and_replace_items() -> None:
    listing = read("arxiv_rss_cs_lg.xml")
    assert listing.date == dt.date(2024, 3, 11)
    ids = [(e.source_id, e.version, e.announce) for e in listing.entries]
    assert ids == [
        ("arxiv:2403.01234", 1, "new"),
        ("arxiv:2403.05678", 1, "cross"),
        ("arxiv:2401.08671", 2, "replace"),
        ("arxiv:hep-th/9901001", 3, "replace-cross"),
        ("arxiv:2403.07777", 1, "new"),
    ]
    first = listing.entries[0]
    assert first.title == "Fast Inference in Denoising Diffusion Models via MMD Finetuning"
    assert first.abstract.startswith("Denoising Diffusion Models (DDMs) have become a popular")
    assert "Announce Type" not in first.abstract and "arXiv:" not in first.abstract
    assert first.authors == ("Emanuele Aiello", "Diego Valsesia", "Enrico Magli")
    assert first.url == "https://arxiv.org/abs/2403.01234"
    assert first.line == 17
    assert all(e.date == dt.date(2024, 3, 11) for e in listing.entries)


def test_arxiv_rss_entities_and_latex_in_titles() -> None:
    entry = by_id(read("arxiv_rss_cs_lg.xml"))["arxiv:2403.05678"]
    # XML decodes &amp;amp; to &amp;, clean_text decodes that; LaTeX is left to the renderer.
    assert entry.title == (
        "$\\mathcal{O}(n \\log n)$ Attention & the “Block” Transformer: Q&A on $\\alpha$-Sparsity"
    )
    assert entry.abstract == (
        "We show that attention with $\\alpha$-sparse masks costs $O(n \\log n)$ & keeps "
        "quality <within 1%>."
    )
    assert entry.authors == ("Ana Muñoz", "Björn Åström")


def test_arxiv_rss_malformed_items_are_problems_and_the_rest_counts() -> None:
    listing = read("arxiv_rss_cs_lg.xml")
    assert problems(listing) == [
        (45, "item oai:arXiv.org:2403.09999v1 without a title (skipped)"),
        (74, "bad pubDate 'Someday, 99 Foo 2024'; using the channel date"),
        (74, "url 'javascript:alert(1)' is not an http(s) URL with a host (ignored)"),
    ]
    garbled = by_id(listing)["arxiv:2403.07777"]
    assert garbled.date == dt.date(2024, 3, 11)
    assert garbled.url == "https://arxiv.org/abs/2403.07777"  # javascript: link dropped


def test_arxiv_rss_empty_weekend_channel_is_normal() -> None:
    listing = read("arxiv_rss_weekend.xml")
    assert listing.entries == []
    assert listing.problems == []
    assert listing.date == dt.date(2024, 3, 16)


def test_arxiv_rss_truncated_file_is_one_problem_and_no_entries() -> None:
    listing = read("arxiv_rss_truncated.xml")
    assert listing.entries == []
    [problem] = listing.problems
    assert problem.line == 28
    assert problem.message.startswith("not well-formed XML")


def test_arxiv_rss_refuses_entity_declarations() -> None:
    listing = read("arxiv_rss_entities_attack.xml")
    assert listing.entries == []
    assert problems(listing) == [
        (2, "XML with a document type declaration is refused (it could expand entities)")
    ]


def test_arxiv_rss_dates_follow_the_configured_time_zone() -> None:
    tokyo = ReadContext(today=CTX.today, timezone="Asia/Tokyo")
    # Mon 00:00 in New York is Mon 13:00 in Tokyo; Sun 23:00 in Honolulu would be Sunday.
    assert read("arxiv_rss_cs_lg.xml", tokyo).date == dt.date(2024, 3, 11)
    honolulu = ReadContext(today=CTX.today, timezone="Pacific/Honolulu")
    listing = read("arxiv_rss_cs_lg.xml", honolulu)
    assert {e.date for e in listing.entries} == {dt.date(2024, 3, 10)}


# --- arXiv API --------------------------------------------------------------------------------


def test_arxiv_api_entries() -> None:
    listing = read("arxiv_api_query.xml", PUBLISHED)
    assert listing.date == dt.date(2024, 3, 12)  # the feed's <updated>
    entries = by_id(listing)
    assert list(entries) == ["arxiv:2403.01234", "arxiv:cond-mat/0102536", "arxiv:2403.05678"]
    first = entries["arxiv:2403.01234"]
    assert first.version == 2
    assert first.title == "Fast Inference in Denoising Diffusion Models via MMD Finetuning"
    assert first.abstract.startswith("Denoising Diffusion Models (DDMs) have become")
    assert first.date == dt.date(2024, 3, 2)  # <published>, not <updated>
    assert first.authors == ("Emanuele Aiello", "Diego Valsesia")
    assert first.url == "http://arxiv.org/abs/2403.01234v2"
    assert first.line == 10
    assert first.announce is None
    old = entries["arxiv:cond-mat/0102536"]
    assert (old.version, old.date) == (1, dt.date(2001, 2, 28))
    assert entries["arxiv:2403.05678"].title == (
        "$\\mathcal{O}(n \\log n)$ Attention & the Block Transformer"
    )
    assert problems(listing) == [
        (51, "entry without an arXiv id: 'An Entry Without an arXiv Id' (skipped)")
    ]


def test_arxiv_api_timestamp_is_dated_in_the_configured_zone() -> None:
    # 2024-03-10T22:10-04:00 is March 11 in UTC but still March 10 in New York.
    published = by_id(read("arxiv_api_query.xml", PUBLISHED))
    assert published["arxiv:2403.05678"].date == dt.date(2024, 3, 11)
    ny = ReadContext(today=CTX.today, timezone="America/New_York", dating="published")
    assert by_id(read("arxiv_api_query.xml", ny))["arxiv:2403.05678"].date == dt.date(2024, 3, 10)


def test_arxiv_api_error_feed_is_a_problem() -> None:
    listing = read("arxiv_api_error.xml")
    assert listing.entries == []
    assert problems(listing) == [
        (10, "the arXiv API reported an error: incorrect id format for 1234.12345")
    ]


# --- Hugging Face daily papers ----------------------------------------------------------------


def test_hf_daily_papers() -> None:
    listing = read("hf_daily_papers.json")
    assert listing.date == dt.date(2024, 3, 11)
    entries = by_id(listing)
    assert list(entries) == ["arxiv:2403.01234", "arxiv:2403.05678", "arxiv:2401.08671"]
    first = entries["arxiv:2403.01234"]
    assert first.date == dt.date(2024, 3, 11)  # the day it was featured, not arXiv's date
    assert first.authors == ("Emanuele Aiello", "Diego Valsesia")
    assert first.url == "https://arxiv.org/abs/2403.01234"
    assert first.abstract == (
        "Denoising Diffusion Models (DDMs) have become a popular tool for generating "
        "high-quality samples."
    )
    assert first.version is None
    assert first.line == 2
    second = entries["arxiv:2403.05678"]
    assert second.title == "Q&A on $\\alpha$-Sparsity: Attention in $O(n \\log n)$"
    assert second.abstract == "We show that attention with <sparse> masks is fast."
    assert problems(listing) == [(35, "record without a title (skipped)")]


def test_hf_daily_papers_featured_day_in_the_configured_zone() -> None:
    tokyo = ReadContext(today=CTX.today, timezone="Asia/Tokyo")
    # 2024-03-11T23:30Z is already March 12 in Tokyo.
    assert by_id(read("hf_daily_papers.json", tokyo))["arxiv:2403.05678"].date == dt.date(
        2024, 3, 12
    )


def test_hf_syntax_error_keeps_the_items_before_it() -> None:
    text = (FIXTURES / "hf_daily_papers.json").read_text(encoding="utf-8")
    cut = text.index('"paper": {\n      "id": "2403.09999"')
    listing = hf_json.read(text[:cut] + '"paper": {"id": ', "cut.json", CTX)
    assert [e.source_id for e in listing.entries] == ["arxiv:2403.01234", "arxiv:2403.05678"]
    [problem] = listing.problems
    assert problem.line == 36  # where the JSON breaks, inside the third item
    assert problem.message == "not valid JSON: Expecting value; rest of file skipped"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"error": "Invalid date"}', 1, "expected a JSON array, found an object"),
        ("[1, {}]", 1, "expected an object, got int (skipped)"),
        ("[]\n\n]", 3, "text after the JSON array (ignored)"),
    ],
)
def test_hf_json_shapes(text: str, line: int, message: str) -> None:
    listing = hf_json.read(text, "x.json", CTX)
    assert (line, message) in problems(listing)


def test_hf_empty_day_is_detected_and_empty() -> None:
    assert pick_reader("[]\n") is hf_json
    listing = hf_json.read("[]\n", "empty.json", CTX)
    assert (listing.entries, listing.problems, listing.date) == ([], [], None)


# --- JSON Lines and CSV -----------------------------------------------------------------------


def test_jsonl_records_and_problems_with_line_numbers() -> None:
    listing = read("listing.jsonl")
    assert listing.date == dt.date(2024, 3, 12)
    entries = by_id(listing)
    assert [(e.line, e.source_id, e.version) for e in listing.entries] == [
        (1, "arxiv:2403.01234", 2),
        (2, "doi:10.1145/3583780.abc", None),
        (5, "arxiv:hep-th/9901001", 1),
        (8, "arxiv:2403.05678", 3),  # from the arXiv URL, as there is no id
    ]
    assert entries["arxiv:2403.01234"].authors == ("Emanuele Aiello", "Diego Valsesia")
    doi = entries["doi:10.1145/3583780.abc"]
    # 23:30 at UTC-5 is the next day in UTC; the ftp: URL is dropped.
    assert (doi.date, doi.url, doi.authors) == (
        dt.date(2024, 3, 12),
        None,
        ("J. Smith", "A. Doe"),  # "Smith, J.; Doe, A." (reference managers' order), turned
    )
    assert entries["arxiv:2403.05678"].abstract == ""
    assert problems(listing) == [
        (2, "url 'ftp://example.org/paper.pdf' is not an http(s) URL with a host (ignored)"),
        (4, "not valid JSON: Expecting ',' delimiter (skipped)"),
        (6, "record without a date: 'Missing Date' (skipped)"),
        (7, "expected a JSON object, got list (skipped)"),
        (8, "record without an abstract: 'No Abstract Here' (kept)"),
    ]


def test_csv_with_quoted_multiline_abstract() -> None:
    listing = read("listing.csv")
    assert listing.date == dt.date(2024, 3, 12)
    assert [(e.line, e.source_id, e.version, e.date) for e in listing.entries] == [
        (2, "arxiv:2403.01234", 2, dt.date(2024, 3, 11)),
        (6, "doi:10.1145/3583780.abc", None, dt.date(2024, 3, 12)),
        (8, "arxiv:hep-th/9901001", 1, dt.date(2024, 3, 10)),
    ]
    first = listing.entries[0]
    assert first.abstract == (
        "Denoising Diffusion Models (DDMs) have become a popular tool. They are slow; we make "
        'them "fast", too.'
    )
    assert first.authors == ("Emanuele Aiello", "Diego Valsesia")
    assert first.url == "https://arxiv.org/abs/2403.01234v2"
    assert problems(listing) == [
        (5, "record without a title (skipped)"),
        (7, "record with a bad date '11/03/2024': 'Bad Date' (skipped)"),
    ]


def test_csv_semicolon_delimiter_and_ragged_rows() -> None:
    text = "title;abstract;date\nA; An abstract ;2024-03-11\nB;Too;many;fields;2024-03-11\n"
    assert pick_reader(text) is csv_reader
    listing = csv_reader.read(text, "x.csv", CTX)
    assert [(e.title, e.abstract) for e in listing.entries] == [("A", "An abstract")]
    assert (3, "row has 5 fields, the header 3") in problems(listing)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("arXiv:2403.01234v2", ("arxiv:2403.01234", 2)),
        ("oai:arXiv.org:2403.01234v12", ("arxiv:2403.01234", 12)),
        ("https://arxiv.org/pdf/2403.01234v1.pdf", ("arxiv:2403.01234", 1)),
        ("2310.1234", ("arxiv:2310.1234", None)),
        ("hep-th/9901001", ("arxiv:hep-th/9901001", None)),
        ("math.GT/0309136v2", ("arxiv:math/0309136", 2)),
        ("10.48550/arXiv.2403.01234", ("arxiv:2403.01234", None)),
        ("https://doi.org/10.1000/XYZ.1", ("doi:10.1000/xyz.1", None)),
        ("DOI: 10.1063/1.1383585", ("doi:10.1063/1.1383585", None)),
        ("2403.123456", (None, None)),
        ("nonsense/1234567", (None, None)),
    ],
)
def test_source_ids(raw: str, expected: tuple[str | None, int | None]) -> None:
    assert fields.source_id(raw) == expected


def test_unknown_time_zone_is_a_problem_not_an_error() -> None:
    bad = ReadContext(today=CTX.today, timezone="Mars/Olympus_Mons")
    listing = read("listing.jsonl", bad)
    assert listing.entries
    assert (
        listing.problems[0].message == "unknown time zone 'Mars/Olympus_Mons'; dates taken in UTC"
    )


# --- properties -------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "title",
                    "abstract",
                    "summary",
                    "date",
                    "publishedAt",
                    "id",
                    "url",
                    "authors",
                    "paper",
                    "name",
                ]
            )
            | st.text(max_size=5),
            inner,
            max_size=6,
        )
    ),
    max_leaves=20,
)
_texts = st.one_of(
    st.text(),
    st.text().map(lambda s: "<?xml version='1.0'?><rss version='2.0'><channel>" + s),
    st.text(alphabet="<>/&;itemchanlr \n").map(lambda s: "<rss><channel><item>" + s),
    _json.map(json.dumps),
    st.lists(_json).map(lambda items: "\n".join(json.dumps(i) for i in items)),
    st.lists(st.text(alphabet='ab,;"\n\r 2024-03-1'), max_size=5).map(
        lambda rows: "title,abstract,date\n" + "\n".join(rows)
    ),
)


@pytest.mark.parametrize("reader", READERS, ids=[r.FORMAT for r in READERS])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts)
def test_read_never_raises_on_arbitrary_text(reader: ModuleType, text: str) -> None:
    listing = reader.read(text, "fuzz", CTX)
    assert listing.format == reader.FORMAT
    assert [e.position for e in listing.entries] == list(range(len(listing.entries)))
    reader.detect(text)
