"""The seed text-dump reader on the real listings and on damaged copies of them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.normalize import clean_text
from digest.sources import ReadContext, read_bytes, read_file, textdump

SEEDS = sorted((Path(__file__).parent.parent / "feeds" / "example" / "listings").glob("*.txt"))
TODAY = dt.date(2026, 11, 25)
CTX = ReadContext(today=TODAY)
# Entries per seed file, counted independently: (non-blank paragraphs - 5 header ones) / 2.
EXPECTED = {
    "000_b7ea8f9abe6ed864.txt": (94, dt.date(2026, 3, 11)),
    "001_033b21ca461653a8.txt": (99, dt.date(2026, 4, 28)),
    "002_d580ad6230429633.txt": (100, dt.date(2026, 3, 12)),
    "003_c9ab5f35646100d9.txt": (183, dt.date(2026, 3, 14)),
    "004_60440e42e569cb8c.txt": (87, dt.date(2026, 3, 11)),
}


def independent_count(path: Path) -> int:
    lines = [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    return (len(lines) - 5) // 2


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_every_seed_entry_is_read(path: Path) -> None:
    listing = read_file(path, CTX)
    count, date = EXPECTED[path.name]
    assert listing.format == "textdump"
    assert listing.problems == []
    assert len(listing.entries) == count == independent_count(path)
    assert listing.date == date
    assert [e.position for e in listing.entries] == list(range(count))
    assert all(e.title and e.abstract and e.date == date for e in listing.entries)
    assert all(len(e.title) < len(e.abstract) for e in listing.entries)


def test_seed_totals() -> None:
    entries = [e for p in SEEDS for e in read_file(p, CTX).entries]
    assert len(entries) == 563
    assert len({e.title for e in entries}) == 453


def test_first_entry_and_its_line() -> None:
    listing = read_file(SEEDS[0], CTX)
    first = listing.entries[0]
    assert first.title == "Fast Inference in Denoising Diffusion Models via MMD Finetuning"
    assert first.abstract.startswith("Denoising Diffusion Models (DDMs) have become")
    assert first.line == 11  # the title's line in the file
    assert first.listing == SEEDS[0].name


def test_crlf_bom_blank_lines_and_trailing_spaces_change_nothing() -> None:
    clean = SEEDS[1].read_bytes()
    damaged = clean.decode().replace("\n\n", "\n  \n\n\t\n").replace("\n", "   \r\n")
    damaged_bytes = b"\xef\xbb\xbf" + damaged.encode()
    a = read_bytes(clean, "x.txt", CTX)
    b = read_bytes(damaged_bytes, "x.txt", CTX)
    assert b.problems == []
    assert [(e.title, e.abstract) for e in a.entries] == [(e.title, e.abstract) for e in b.entries]


def test_wrapped_paragraphs_are_joined() -> None:
    text = "new\n\nMar 11\n\nA title that\nwraps\n\nAn abstract\nover two lines.\n"
    (entry,) = read_bytes(text.encode(), "w.txt", CTX).entries
    assert entry.title == "A title that wraps"
    assert entry.abstract == "An abstract over two lines."


def test_year_inference_and_explicit_year() -> None:
    text = b"Dec 30\n\nT\n\nSome abstract that is long enough. It has sentences. Many of them.\n"
    assert read_bytes(text, "d.txt", ReadContext(today=dt.date(2026, 1, 5))).date == dt.date(
        2025, 12, 30
    )
    assert read_bytes(text, "d.txt", ReadContext(today=dt.date(2026, 12, 30))).date == dt.date(
        2026, 12, 30
    )
    explicit = ReadContext(today=dt.date(2026, 1, 5), year=2019)
    assert read_bytes(text, "d.txt", explicit).date == dt.date(2019, 12, 30)
    leap = b"Feb 29\n\nT\n\nAbstract.\n"
    assert read_bytes(leap, "l.txt", ReadContext(today=dt.date(2026, 3, 1))).date == dt.date(
        2024, 2, 29
    )


def test_malformed_parts_are_reported_with_line_and_the_rest_counts() -> None:
    long_abstract = "This is an abstract. " * 20
    text = "\n\n".join(
        [
            "new",
            "Mar 11",
            "Good title one",
            long_abstract,
            long_abstract,  # an abstract without a title (line 9)
            "Good title two",
            long_abstract,
            "Orphan title at the end",  # no abstract (line 15)
        ]
    )
    listing = read_bytes(text.encode(), "m.txt", CTX)
    assert [e.title for e in listing.entries] == [
        "Good title one",
        "Good title two",
        "Orphan title at the end",
    ]
    assert listing.entries[2].abstract == ""
    messages = [(p.line, p.message.split(":")[0]) for p in listing.problems]
    assert messages == [(9, "abstract without a title"), (15, "title without an abstract")]
    assert all(p.file == "m.txt" for p in listing.problems)


def test_no_date_line_is_one_clear_problem() -> None:
    listing = read_bytes(b"Just some text\n\nand more\n", "n.txt", CTX)
    assert listing.entries == []
    assert any("no date line" in p.message for p in listing.problems)


def test_binary_and_bad_encoding() -> None:
    binary = read_bytes(b"\x00\x01\x02PNG", "b.bin", CTX)
    assert binary.entries == [] and "binary" in binary.problems[0].message
    latin = "new\n\nMar 11\n\nCaf\xe9 title\n\nAbstract text here.\n".encode("latin-1")
    listing = read_bytes(latin, "l.txt", CTX)
    assert len(listing.entries) == 1
    assert listing.problems[0].line == 5 and "UTF-8" in listing.problems[0].message


def test_unreadable_file(tmp_path: Path) -> None:
    listing = read_file(tmp_path / "missing.txt", CTX)
    assert listing.entries == [] and "cannot read" in listing.problems[0].message


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_reader_never_raises_on_arbitrary_text(text: str) -> None:
    listing = textdump.read(text, "fuzz.txt", CTX)
    assert all(e.position == i for i, e in enumerate(listing.entries))


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_bytes_never_raise(data: bytes) -> None:
    read_bytes(data, "fuzz.bin", CTX)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            # Any character but NUL (a binary file) and "\n" and "\r", the format's only line
            # separators (CRLF and CR count as "\n"): controls, surrogates, U+2028/U+2029, VT,
            # FF and NEL are text.
            st.lists(
                st.text(
                    st.characters(exclude_categories=(), exclude_characters="\n\r\x00"), max_size=20
                )
                | st.sampled_from(["\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1e", "\x85"]),
                min_size=1,
                max_size=6,
            )
            .map("".join)
            .filter(lambda s: clean_text(s) and len(s.strip()) < 80),
            st.just("An abstract. It has several sentences. Really quite a few of them."),
        ),
        max_size=10,
    )
)
def test_well_formed_listings_round_trip(pairs: list[tuple[str, str]]) -> None:
    pairs = [(t, a) for t, a in pairs if not textdump.DATE_LINE.match(t.strip())]
    body = "\n\n".join(f"{t}\n\n{a}" for t, a in pairs)
    listing = textdump.read("new\n\nMar 11\n\n" + body, "r.txt", CTX)
    assert [(e.title, e.abstract) for e in listing.entries] == [
        (clean_text(t), a) for t, a in pairs
    ]


def test_an_impossible_date_line_is_reported_and_no_entry_takes_it() -> None:
    # Issue 15: this report survived mutation; "Feb 30" is a date line that no year has.
    text = b"new\n\nFeb 30\n\nMar 11\n\nA title\n\nAn abstract.\n"
    listing = read_bytes(text, "i.txt", CTX)
    assert [(p.line, p.message) for p in listing.problems] == [(3, "impossible date 'Feb 30'")]
    assert [(e.title, e.date) for e in listing.entries] == [("A title", dt.date(2026, 3, 11))]


def test_stray_text_before_the_date_line_is_reported_at_its_own_line() -> None:
    text = b"new\n\nsubscribe\n\n\nStray words here\n\nMar 11\n\nA title\n\nAn abstract.\n"
    listing = read_bytes(text, "s.txt", CTX)
    assert [p.line for p in listing.problems] == [6]
    assert "unexpected text before the date line" in listing.problems[0].message
    assert len(listing.entries) == 1
