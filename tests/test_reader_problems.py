"""The text-dump reader's problem reports, exactly: message and line (issue 15: these
reports survived mutation because no test read them)."""

from __future__ import annotations

import datetime as dt

from digest.errors import Problem
from digest.sources import ReadContext, textdump

CTX = ReadContext(today=dt.date(2026, 11, 25))
ABSTRACT = "An abstract. It has sentences. Several of them."


def test_an_impossible_date_before_the_date_line_is_dropped_with_a_warning() -> None:
    text = f"Daily Papers\n\nFeb 30\n\nMar 11\n\nA Title\n\n{ABSTRACT}\n"
    listing = textdump.read(text, "t.txt", CTX)
    assert listing.problems == [Problem("t.txt", 3, "impossible date 'Feb 30'")]
    assert listing.date == dt.date(2026, 3, 11)  # the next, possible, date line dates the file
    assert [(e.title, e.date, e.line) for e in listing.entries] == [
        ("A Title", dt.date(2026, 3, 11), 7)
    ]


def test_an_impossible_date_of_a_later_section_is_no_paper() -> None:
    # "Feb 30" is a date line that names no day: a warning, never a paper titled "Feb 30",
    # and the papers after it keep the last possible date.
    text = f"Mar 11\n\nA Title\n\n{ABSTRACT}\n\nFeb 30\n\nB Title\n\n{ABSTRACT}\n"
    listing = textdump.read(text, "t.txt", CTX)
    assert [(e.title, e.date) for e in listing.entries] == [
        ("A Title", dt.date(2026, 3, 11)),
        ("B Title", dt.date(2026, 3, 11)),
    ]
    assert listing.problems == [Problem("t.txt", 7, "impossible date 'Feb 30'")]


def test_stray_text_before_the_date_line_is_reported_at_its_first_line() -> None:
    # Boilerplate is silent; stray text is skipped with a warning at the line where its
    # paragraph starts (after blank lines, CRLF line ends and a wrapped line).
    text = "New\r\n\r\n\r\n\r\nStray words here\r\nwrapped\r\n\r\nMar 11\r\n\r\nA Title\r\n\r\n"
    listing = textdump.read(text + ABSTRACT, "t.txt", CTX)
    assert listing.problems == [
        Problem(
            "t.txt", 5, "unexpected text before the date line: 'Stray words here wrapped' (skipped)"
        )
    ]
    assert [(e.title, e.line) for e in listing.entries] == [("A Title", 10)]
    assert str(listing.problems[0]).startswith("t.txt:5: unexpected text before the date line")


def test_a_title_shaped_like_a_date_line_is_still_a_title() -> None:
    text = f"Mar 11\n\nGemma 3\n\n{ABSTRACT}\n\nFeb 30\n\nB Title\n\n{ABSTRACT}\n"
    listing = textdump.read(text, "t.txt", CTX)
    assert [e.title for e in listing.entries] == ["Gemma 3", "B Title"]
