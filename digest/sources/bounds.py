"""Limits every listing's entries are held to, whatever reader parsed them.

Input: a :class:`~digest.models.Listing` as a reader returned it. Output: the same
listing with each entry held to the limits below, and a :class:`Problem` at the
entry's line for each limit it broke:

- a date outside :data:`DATE_MIN` .. :data:`DATE_MAX` drops the entry (a listing
  date outside them is dropped too);
- a title, abstract or author list over its cap is truncated;
- a URL or source id that cannot be written as UTF-8 (a lone surrogate, as a JSON
  ``"\\ud800"`` escape gives) is dropped; any other text has such characters
  replaced.

Kept entries are numbered again (``position`` is the index among kept entries), so a
listing's positions stay 0..n-1. Readers report what is malformed in their format;
this module is the one place for what no entry may be in any format, so that one
record can never stop a later stage (a store insert, an ISO week, a feed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from digest.errors import Problem
from digest.models import Entry, Listing

DATE_MIN = dt.date(1900, 1, 1)
"""Earliest date kept. Every date becomes an ISO week (a date 3 days either side),
a time-zone shift and an RFC 822 date in RSS; year 1 overflows the first two, and
dates before 1900 are not written alike by every platform's ``strftime``. No listing
of papers predates it (arXiv began in 1991)."""
DATE_MAX = dt.date(9000, 12, 31)
"""Latest date kept: far enough from Python's year 9999 that no week, zone or window
arithmetic of any later stage can overflow."""

TITLE_MAX = 1_000
"""Characters of a title. arXiv titles are rarely over 300; journal and conference
titles with subtitles stay well under 1,000."""
ABSTRACT_MAX = 10_000
"""Characters of an abstract: arXiv allows 1,920, long structured journal abstracts
reach about 5,000. One 235 MB abstract once cost a 2.4 GB peak and an 891 MB site."""
AUTHORS_MAX = 1_000
"""Author names per entry. Large collaborations list up to ~3,000 (ATLAS, CMS); the
first thousand say who they are, and outputs stay readable."""
AUTHORS_CHARS = 30_000
"""Characters of all author names of one entry together."""
ELLIPSIS = "…"
_SURROGATE = re.compile("[\ud800-\udfff]")


def in_range(date: dt.date) -> bool:
    """True when ``date`` is one every output can express."""
    return DATE_MIN <= date <= DATE_MAX


def bound(listing: Listing) -> Listing:
    """Hold ``listing``'s entries to the limits (in place; returns it)."""
    name = listing.name
    if listing.date is not None and not in_range(listing.date):
        if all(e.date != listing.date for e in listing.entries):  # else an entry's, told below
            problem = Problem(name, None, _date_message(listing.date, "listing date"))
            listing.problems.append(problem)
        listing.date = None
    kept: list[Entry] = []
    for entry in listing.entries:
        if not DATE_MIN <= entry.date <= DATE_MAX:
            listing.problems.append(
                Problem(name, entry.line or None, date_problem(entry.date, entry.title))
            )
            continue
        title, abstract, url, sid = entry.title, entry.abstract, entry.url, entry.source_id
        if (  # the common case, cheaply: nothing to change
            len(title) <= TITLE_MAX
            and len(abstract) <= ABSTRACT_MAX
            and (title.isascii() or _encodable(title))
            and (abstract.isascii() or _encodable(abstract))
            and (url is None or url.isascii() or _encodable(url))
            and (sid is None or sid.isascii())
            and (entry.announce is None or entry.announce.isascii())
        ) and (not entry.authors or _plain_authors(entry.authors)):
            changes: dict[str, object] = {}
        else:
            changes, problems = _checked(entry)
            listing.problems.extend(problems)
        if entry.position != len(kept):
            changes["position"] = len(kept)
        kept.append(dataclasses.replace(entry, **changes) if changes else entry)  # type: ignore[arg-type]
    listing.entries = kept
    if listing.date is None and kept:
        listing.date = max(e.date for e in kept)
    return listing


def date_problem(date: dt.date, title: str) -> str:
    """The message for an entry titled ``title`` dated out of range (skipped)."""
    return _date_message(date, f"entry {_preview(title)}") + " (skipped)"


def _date_message(date: dt.date, what: str) -> str:
    return (
        f"{what} dated {date.isoformat()}, outside {DATE_MIN.year}-{DATE_MAX.year}"
        " (no output can show it)"
    )


def _checked(entry: Entry) -> tuple[dict[str, object], list[Problem]]:
    """The fields of ``entry`` to change, and what was wrong."""
    changes: dict[str, object] = {}
    problems: list[Problem] = []
    line = entry.line or None

    def problem(message: str) -> None:
        problems.append(Problem(entry.listing, line, message))

    for field, cap in (("title", TITLE_MAX), ("abstract", ABSTRACT_MAX)):
        text: str = getattr(entry, field)
        if not _encodable(text):
            text = _replace_unencodable(text)
            changes[field] = text
            problem(f"{field} holds characters that are not Unicode text (replaced by \ufffd)")
        if len(text) > cap:
            changes[field] = truncate(text, cap)
            problem(f"{field} of {len(text):,} characters cut to {cap:,}")
    for field in ("url", "source_id", "announce"):
        value: str | None = getattr(entry, field)
        if value is not None and not _encodable(value):
            changes[field] = None
            if field == "source_id":
                changes["version"] = None
            problem(f"{field} {_preview(value)} is not Unicode text (ignored)")
    authors = entry.authors
    if authors:
        if not all(_encodable(a) for a in authors):
            authors = tuple(_replace_unencodable(a) for a in authors)
            problem("author names hold characters that are not Unicode text (replaced by \ufffd)")
        capped = cap_authors(authors)
        if len(capped) < len(authors):
            problem(f"{len(authors):,} authors cut to the first {len(capped):,}")
        elif capped != authors:
            problem(f"an author name over {AUTHORS_CHARS:,} characters cut")
        if capped != entry.authors:
            changes["authors"] = capped
    return changes, problems


def _plain_authors(authors: tuple[str, ...]) -> bool:
    """True when ``authors`` are within the caps and all Unicode text."""
    return (
        len(authors) <= AUTHORS_MAX
        and sum(map(len, authors)) <= AUTHORS_CHARS
        and all(a.isascii() or _encodable(a) for a in authors)
    )


def truncate(text: str, cap: int) -> str:
    """``text`` cut to at most ``cap`` characters, at a space when one is near, ending
    with an ellipsis."""
    cut = text[: cap - len(ELLIPSIS)]
    space = cut.rfind(" ", max(0, len(cut) - 50))
    if space > 0:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def cap_authors(authors: tuple[str, ...]) -> tuple[str, ...]:
    """The first names of ``authors`` within :data:`AUTHORS_MAX` and
    :data:`AUTHORS_CHARS` (a single over-long name is truncated)."""
    if len(authors) <= AUTHORS_MAX and sum(map(len, authors)) <= AUTHORS_CHARS:
        return authors
    out: list[str] = []
    total = 0
    for name in authors[:AUTHORS_MAX]:
        if total + len(name) > AUTHORS_CHARS:
            if not out:
                out.append(truncate(name, AUTHORS_CHARS))
            break
        out.append(name)
        total += len(name)
    return tuple(out)


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _replace_unencodable(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


def _preview(text: str, width: int = 60) -> str:
    return repr(text if len(text) <= width else text[: width - 1] + "…")
