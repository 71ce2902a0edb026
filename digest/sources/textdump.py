"""Reader for text dumps of Hugging Face papers pages (the seed format).

Input: text made of paragraphs separated by blank lines: a few boilerplate
paragraphs, a date line such as ``Mar 11`` (no year), then title and
abstract paragraphs alternating. Output: a :class:`Listing`.

Tolerates CRLF/CR line ends, a BOM, extra blank lines, trailing spaces and
titles or abstracts wrapped over several lines. Only ``\n`` (after CRLF and CR
become ``\n``) ends a line, and only a line of spaces and tabs is blank: U+2028,
U+2029, NEL, VT, FF and FS/GS/RS are characters of a line (``str.splitlines``
would break there, and let one abstract forge entries and date lines). A title without abstract, an
abstract without title, or text before the date line is reported with its
line and skipped or kept (a title without abstract is kept with an empty
abstract: a sighting is never silently lost).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from digest.errors import Problem
from digest.models import Entry, Listing
from digest.normalize import clean_text

if TYPE_CHECKING:
    from digest.sources import ReadContext

FORMAT = "textdump"

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_name) if m})
DATE_LINE = re.compile(r"^(?P<mon>[A-Za-z]{3,9})\.? +(?P<day>\d{1,2})(?:,? +(?P<year>\d{4}))?$")
BOILERPLATE = {
    "new",
    "get trending papers in your email inbox!",
    "subscribe",
    "byak and the research community",
    "daily papers",
}
TITLE_MAX = 300
"""Longer paragraphs are never taken for a title."""
_SENTENCE_BREAK = re.compile(r"[.!?] +[A-Z]")
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(slots=True)
class Paragraph:
    """A run of non-blank lines."""

    line: int
    text: str


def paragraphs(text: str) -> list[Paragraph]:
    """Split into paragraphs, each with the 1-based line where it starts."""
    out: list[Paragraph] = []
    start, lines = 0, list[str]()
    for number, raw in enumerate(_LINE_END.split(text), 1):
        line = raw.strip()
        if raw.strip(" \t"):
            if not lines:
                start = number
            lines.append(line)
        elif lines:
            out.append(Paragraph(start, " ".join(lines)))
            lines = []
    if lines:
        out.append(Paragraph(start, " ".join(lines)))
    return out


def parse_date_line(text: str, ctx: ReadContext) -> dt.date | None:
    """``Mar 11`` -> a date, or None if ``text`` is not a date line (or an impossible date).

    The year is the line's own, else ``ctx.year``, else the latest year in
    which that month and day fall on or before ``ctx.today``.
    """
    m = DATE_LINE.match(text.strip())
    if not m:
        return None
    month = _MONTHS.get(m["mon"].lower().rstrip("."))
    day = int(m["day"])
    if month is None:
        return None
    if m["year"]:
        years = [int(m["year"])]
    elif ctx.year is not None:
        years = [ctx.year]
    else:
        # Latest such date not after today; Feb 29 may need up to 8 years back.
        years = list(range(ctx.today.year, ctx.today.year - 9, -1))
    for year in years:
        try:
            date = dt.date(year, month, day)
        except ValueError:
            continue
        if m["year"] or ctx.year is not None or date <= ctx.today:
            return date
    return None


def _date_line(p: Paragraph) -> bool:
    """True when ``p`` is a month and a day (possible or not: ``Feb 30``), not a title
    of the same shape (``Gemma 3``)."""
    m = DATE_LINE.match(p.text.strip()) if len(p.text) < 20 else None
    return m is not None and m["mon"].lower().rstrip(".") in _MONTHS


def _title_like(p: Paragraph) -> bool:
    return len(p.text) <= TITLE_MAX and len(_SENTENCE_BREAK.findall(p.text)) < 2


def detect(text: str) -> bool:
    """True when the start of ``text`` has a bare date line among short paragraphs."""
    head = text[:4000].replace("\r", "\n")
    return any(DATE_LINE.match(line.strip()) for line in head.split("\n")[:40])


def read(text: str, name: str, ctx: ReadContext) -> Listing:
    """Parse a text dump; malformed parts become problems, the rest still counts."""
    paras = paragraphs(text)
    listing = Listing(name=name, format=FORMAT, date=None)
    problems = listing.problems
    i = 0
    # Boilerplate, up to the first date line.
    while i < len(paras) and listing.date is None:
        p = paras[i]
        date = parse_date_line(p.text, ctx)
        if date is not None:
            listing.date = date
        elif DATE_LINE.match(p.text):
            problems.append(Problem(name, p.line, f"impossible date {p.text!r}"))
        elif p.text.lower() not in BOILERPLATE:
            problems.append(
                Problem(
                    name,
                    p.line,
                    f"unexpected text before the date line: {_preview(p.text)} (skipped)",
                )
            )
        i += 1
    if listing.date is None:
        problems.append(
            Problem(
                name,
                None,
                "no date line such as 'Mar 11' found; no entry can be dated (file skipped)",
            )
        )
        return listing

    date = listing.date
    while i < len(paras):
        p = paras[i]
        if _date_line(p):  # a later section of the same page
            new_date = parse_date_line(p.text, ctx)
            if new_date is None:  # Feb 30: no day, never a title; the last date holds
                problems.append(Problem(name, p.line, f"impossible date {p.text!r}"))
            else:
                date = new_date
            i += 1
            continue
        if not _title_like(p):
            problems.append(
                Problem(name, p.line, f"abstract without a title: {_preview(p.text)} (skipped)")
            )
            i += 1
            continue
        nxt = paras[i + 1] if i + 1 < len(paras) else None
        after = paras[i + 2] if i + 2 < len(paras) else None
        if (
            nxt is None
            or _date_line(nxt)
            or (_title_like(nxt) and after is not None and not _title_like(after))
        ):
            problems.append(
                Problem(
                    name,
                    p.line,
                    f"title without an abstract: {_preview(p.text)} (kept with an empty abstract)",
                )
            )
            abstract = ""
            i += 1
        else:
            abstract = nxt.text
            i += 2
        title = clean_text(p.text)
        if not title:  # only characters that never display (controls, lone surrogates)
            msg = f"title of characters that do not display: {_preview(p.text)} (skipped)"
            problems.append(Problem(name, p.line, msg))
            continue
        listing.entries.append(
            Entry(
                title=title,
                abstract=clean_text(abstract),
                listing=name,
                date=date,
                position=len(listing.entries),
                line=p.line,
            )
        )
    return listing


def _preview(text: str, width: int = 60) -> str:
    return repr(text if len(text) <= width else text[: width - 1] + "…")
