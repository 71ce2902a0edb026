"""Reader for BibTeX (``.bib``) files, as Zotero, Google Scholar and every reference
manager export them (the only bibtexparser user).

Input: BibTeX text: ``@article{key, title = {...}, author = {Last, First and ...},
year = 2014, month = nov, doi = {...}, eprint = {2401.01234}, url = {...},
abstract = {...}}`` entries, with ``@string``, ``@comment`` and ``@preamble`` blocks
around them. Output: a :class:`Listing` of one entry per BibTeX entry.

Parsing is bibtexparser's (v2: a tolerant splitter that keeps going past a broken
entry and tells its line; ``@string`` macros are resolved and the outer braces or
quotes removed by its default middlewares). Field text is then read here: LaTeX
accents (``{\\"u}``, ``\\'{e}``) become the accented letters, other LaTeX
(``$\\alpha$``, ``\\textbf{...}``) goes through :func:`digest.latex.to_unicode`,
protective braces are dropped; authors are split on ``and`` and turned to ``First
Last``. The date is ``date`` (biblatex, ``2014-11`` and ``2009`` accepted), else
``year`` and ``month``; the id is the ``eprint`` (or an ``arXiv:...`` in
``journal``/``note``, as Google Scholar writes it), else the ``doi``.

A library export is dated by import unless its source says otherwise (the years in
it are when papers appeared, not when they were read). A broken entry or a
repeated key is a problem at its line; a repeated key's entry is still read.
bibtexparser logs what it skips: its logger is silenced, since those are reported
as problems.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bibtexparser.entrypoint import parse_string
from bibtexparser.model import DuplicateBlockKeyBlock
from bibtexparser.model import Entry as BibEntry

from digest.errors import Problem
from digest.latex import to_unicode
from digest.models import Listing
from digest.normalize import clean_text
from digest.sources.fields import import_day, record_entry, split_authors, zone

if TYPE_CHECKING:
    from digest.sources import ReadContext

FORMAT = "bibtex"

logging.getLogger("bibtexparser").addHandler(logging.NullHandler())
logging.getLogger("bibtexparser").propagate = False

_START = re.compile(r"\A\s*(?:%[^\n]*\n\s*)*@\s*[A-Za-z]+\s*[{(]")
# The accents of LaTeX's text mode spelled with a symbol: \'e, \'{e}, {\"u}, \^\i ...
_ACCENT = re.compile(r"\\(['\"^`~=.])\s*(?:\{\s*\\?([A-Za-z])\s*\}|\\?([A-Za-z]))")
_COMBINING = {
    "'": "\u0301",
    '"': "\u0308",
    "^": "\u0302",
    "`": "\u0300",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
}
_BRACE = re.compile(r"(?<!\\)[{}]")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul",
                                         "aug", "sep", "oct", "nov", "dec"), 1)}  # fmt: skip
_ARXIV_IN_TEXT = re.compile(r"arxiv[:\s]", re.IGNORECASE)


def detect(text: str) -> bool:
    """True when the text starts (after ``%`` comment lines) with ``@type{`` or ``@type(``."""
    return _START.match(text[:4096]) is not None


def latex_text(value: str) -> str:
    """A BibTeX field value -> display text: accents, other LaTeX, braces, whitespace."""
    if "\\" in value:
        value = _ACCENT.sub(
            lambda m: unicodedata.normalize("NFC", (m[2] or m[3]) + _COMBINING[m[1]]), value
        )
        value = to_unicode(value)
    return clean_text(_BRACE.sub("", value))


def _month(value: str) -> int | None:
    text = value.strip().lower()
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return _MONTHS.get(text[:3])


def _date(fields: Mapping[str, str]) -> str:
    """``date``, else ``year`` with ``month`` as ``YYYY-MM`` (a partial date), else ''."""
    if fields.get("date", "").strip():
        return fields["date"].strip()
    year = fields.get("year", "").strip()
    if not re.fullmatch(r"\d{4}", year):
        return year
    month = _month(fields.get("month", ""))
    return f"{year}-{month:02d}" if month else year


def _ident(fields: Mapping[str, str]) -> str:
    """The arXiv id (or other eprint) of an entry, as text for :func:`fields.source_id`."""
    for key in ("eprint", "arxivid", "arxiv"):
        if fields.get(key, "").strip():
            return fields[key].strip()
    for key in ("journal", "note", "howpublished"):
        value = fields.get(key, "")
        if _ARXIV_IN_TEXT.search(value):
            return value[_ARXIV_IN_TEXT.search(value).start() :]  # type: ignore[union-attr]
    return ""


def _unenclose(value: str) -> str:
    """A raw value without its outer ``{...}`` or ``"..."`` (for entries the middlewares
    skipped: those under a repeated key)."""
    text = value.strip()
    if len(text) >= 2 and (text[0], text[-1]) in (("{", "}"), ('"', '"')):
        inner = text[1:-1]
        depth = 0
        for char in inner:
            depth += char == "{"
            depth -= char == "}"
            if depth < 0:
                return text  # ``{A} and {B}``: not one enclosing pair
        return inner
    return text


def _record(entry: BibEntry, raw: bool) -> dict[str, object]:
    """A BibTeX entry -> the shared title/abstract/date/id/doi/url/authors record."""
    fields: dict[str, str] = {}
    for field in entry.fields:
        if isinstance(field.value, str):
            key = field.key.strip().lower()
            fields.setdefault(key, _unenclose(field.value) if raw else field.value)
    authors = [
        latex_text(a)
        for a in re.split(r"\s+and\s+", fields.get("author", "") or fields.get("editor", ""))
    ]
    names = [n for a in authors if a and a.lower() != "others" for n in split_authors(f"{a};")]
    return {
        "title": latex_text(fields.get("title", "")),
        "abstract": latex_text(fields.get("abstract", "")),
        "date": _date(fields),
        "id": _ident(fields),
        "doi": fields.get("doi", "").strip(),
        "url": fields.get("url", "").strip(),
        "authors": names,
    }


def read(text: str, name: str, ctx: ReadContext) -> Listing:
    """Parse a BibTeX file; a broken entry is a problem at its line, the rest still counts."""
    listing = Listing(name=name, format=FORMAT, date=None, dating="import")
    tz = zone(ctx, listing)
    undated: dt.date | None = import_day(ctx, listing)
    try:
        library = parse_string(text)
    except Exception as err:  # the splitter is tolerant; anything else is unreadable text
        listing.problems.append(Problem(name, None, f"not readable as BibTeX: {err}"))
        return listing
    found = [(e.start_line or 0, e, False) for e in library.entries]
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, DuplicateBlockKeyBlock) and isinstance(
            block.ignore_error_block, BibEntry
        ):
            message = f"entry key {block.key!r} used before (read too)"
            listing.problems.append(Problem(name, line, message))
            found.append((block.start_line or 0, block.ignore_error_block, True))
            continue
        lines = str(getattr(block, "error", "")).split("\n")
        reason = " ".join(" ".join(lines).split())[:160] or "syntax error"
        listing.problems.append(Problem(name, line, f"unreadable BibTeX entry: {reason} (skipped)"))
    for start, entry, raw in sorted(found, key=lambda f: f[0]):
        record = _record(entry, raw)
        result, problems = record_entry(record, name, start + 1, len(listing.entries), tz, undated)
        listing.problems.extend(problems)
        if result is not None:
            listing.entries.append(result)
    listing.date = max((e.date for e in listing.entries), default=None)
    return listing
