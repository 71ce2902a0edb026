"""Reader for CSV listings (spreadsheet exports).

Input: a header row naming a ``title`` column and ``abstract``, ``date``,
``authors``, ``id``, ``doi`` and ``url`` columns under any of the spellings of
:data:`~digest.sources.fields.ALIASES` (any order, any case, other columns
ignored: a Zotero export's ``Abstract Note``, ``Author``, ``Publication Year``,
``DOI``, ``Url`` included), then one row per paper. Fields may be quoted and span
lines. The delimiter is ``,``, ``;`` or a tab, whichever the header uses most.
Output: a :class:`Listing` dated by its latest entry.

Each row is checked like a JSON Lines record (see :mod:`digest.sources.jsonl`);
a problem names the line where the row starts. A library export (a header with
Zotero's ``Item Type`` and ``Key`` columns) is dated by import unless its source
says otherwise: its dates are when papers were published, not when they were seen.
"""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING

from digest.errors import Problem
from digest.models import Listing
from digest.sources.fields import ALIASES, canonical_record, import_day, record_entry, zone

if TYPE_CHECKING:
    from digest.sources import ReadContext

FORMAT = "csv"

COLUMNS = tuple(ALIASES)
"""The record fields read (each from any of its spellings)."""
_SPELLINGS = frozenset(alias for names in ALIASES.values() for alias in names)
_LIBRARY = {"item type", "key"}
"""Columns that make a CSV a reference manager's library export (Zotero)."""
_DELIMITERS = ",;\t"


def _first_line(text: str) -> str:
    for line in re.split(r"\r\n|\r|\n", text[:8192]):  # not splitlines: see read
        if line.strip():
            return line
    return ""


def _delimiter(header: str) -> str:
    return max(_DELIMITERS, key=header.count)


def _columns(header: str, delimiter: str) -> list[str]:
    try:
        fields = next(csv.reader([header], delimiter=delimiter), [])
    except csv.Error:
        return []
    return [f.strip().lstrip("\ufeff").lower() for f in fields]


def detect(text: str) -> bool:
    """True when the first non-blank line is a header with ``title`` and ``abstract`` or
    ``date`` among its columns."""
    header = _first_line(text)
    if not any(d in header for d in _DELIMITERS):
        return False
    columns = set(_columns(header, _delimiter(header)))
    return "title" in columns and len(columns & _SPELLINGS) >= 2


def read(text: str, name: str, ctx: ReadContext) -> Listing:
    """Parse a CSV listing; each bad row is a problem at its first line, the rest still counts."""
    listing = Listing(name=name, format=FORMAT, date=None)
    tz = zone(ctx, listing)
    delimiter = _delimiter(_first_line(text))
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    undated = None
    start = 1  # line where the next row begins
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as err:
            listing.problems.append(Problem(name, start, f"unreadable CSV row: {err} (skipped)"))
            if rows.line_num + 1 == start:  # the reader made no progress: stop, do not spin
                break
            start = rows.line_num + 1
            continue
        line, start = start, rows.line_num + 1
        if not any(field.strip() for field in row):
            continue
        if header is None:
            header = [f.strip().lstrip("\ufeff").lower() for f in row]
            if "title" not in header:
                msg = f"header row has no 'title' column (columns: {', '.join(header)})"
                listing.problems.append(Problem(name, line, msg))
                return listing
            if set(header) >= _LIBRARY:
                listing.dating = "import"
            undated = import_day(ctx, listing)
            continue
        if len(row) != len(header):
            msg = f"row has {len(row)} fields, the header {len(header)}"
            listing.problems.append(Problem(name, line, msg))
        pairs = list(zip(header, row, strict=False))
        record = canonical_record(dict(reversed(pairs)))  # the first of a repeated column wins
        entry, problems = record_entry(record, name, line, len(listing.entries), tz, undated)
        listing.problems.extend(problems)
        if entry is not None:
            listing.entries.append(entry)
    if header is None:
        listing.problems.append(Problem(name, None, "no header row found"))
    listing.date = max((e.date for e in listing.entries), default=None)
    return listing
