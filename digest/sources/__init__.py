"""Listing readers, chosen by format: files (and later URLs) -> :class:`Listing`.

Input: a listing file's bytes and a :class:`ReadContext`. Output: a
:class:`~digest.models.Listing` with its entries and problems. A reader never
raises on bad content: what it cannot read becomes a :class:`Problem` with
the file and line, and the rest of the file still counts.

Each reader is one module exposing ``FORMAT`` (its name), ``detect(text) ->
bool`` and ``read(text, name, ctx) -> Listing``. :data:`READERS` lists them
in detection order; the text dump, the most permissive, is tried last.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from digest.errors import Problem
from digest.models import Listing
from digest.sources import (
    arxiv_api,
    arxiv_rss,
    bibtex,
    bounds,
    csv_reader,
    fields,
    hf_json,
    jsonl,
    textdump,
)

MAX_LISTING_BYTES = 256 * 1024 * 1024
"""Larger listing files are skipped with a problem, unread: 100,000 full arXiv records
(the largest listing seen in use) take about 200 MB, and a file is held in memory
several times while it is parsed."""


@dataclass(frozen=True, slots=True)
class ReadContext:
    """What a reader needs besides the text."""

    today: dt.date
    """The run's date; a listing date without a year is the latest such date not after it."""
    year: int | None = None
    """An explicit year for dates without one (feed.yaml ``year``); wins over inference."""
    timezone: str = "UTC"
    """IANA zone in which timestamps are turned into listing dates."""
    dating: str = "auto"
    """The source's ``date`` option (:data:`~digest.sources.fields.DATINGS`), or ``auto``
    for the reader's default: ``import`` for query results and library exports (arXiv
    API, BibTeX, a Zotero CSV), ``published`` for the rest."""


Reader = Callable[[str, str, ReadContext], Listing]

READERS: list[ModuleType] = [arxiv_rss, arxiv_api, hf_json, bibtex, jsonl, csv_reader, textdump]
"""Reader modules in detection order."""


def shown_name(text: str) -> str:
    """A file name (or path) as users see it and the store keeps it: the bytes of a
    name that is not UTF-8 (which Python holds as lone surrogates) as ``\\xNN``, and
    characters that do not print (controls, terminal escapes, line breaks) escaped
    likewise. The same name always gives the same text, so a file is known again."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's surrogateescape of byte code - 0xDC00
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable():
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def listing_name(path: Path) -> str:
    """The name a listing file is known by: its file name, as :func:`shown_name` shows it."""
    return shown_name(path.name)


def formats() -> list[str]:
    """Names of every known format (for config validation and ``--help``)."""
    return [r.FORMAT for r in READERS]


def decode(data: bytes, name: str) -> tuple[str | None, list[Problem]]:
    """Bytes -> text. UTF-8 (a BOM is dropped); binary data gives ``None``.

    Undecodable bytes are replaced and reported with their line, so one bad
    byte does not cost the whole listing.
    """
    if b"\x00" in data[:8192]:
        return None, [Problem(name, None, "looks like a binary file, not a listing (skipped)")]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        text = data.decode("utf-8-sig", errors="replace")
        msg = f"not valid UTF-8 (byte 0x{data[err.start]:02x}); undecodable bytes shown as \ufffd"
        return text, [Problem(name, line, msg)]


def pick_reader(text: str, fmt: str = "auto") -> ModuleType:
    """The reader for ``fmt``, or the first whose ``detect`` accepts ``text``."""
    for reader in READERS:
        if fmt == reader.FORMAT or (fmt == "auto" and reader.detect(text)):
            return reader
    return textdump


def read_bytes(data: bytes, name: str, ctx: ReadContext, fmt: str = "auto") -> Listing:
    """Parse one listing's bytes; never raises on bad content."""
    text, problems = decode(data, name)
    if text is None:
        return Listing(name=name, format="binary", date=None, problems=problems)
    reader = pick_reader(text, fmt)
    listing: Listing = reader.read(text, name, ctx)
    listing.problems[:0] = problems
    return bounds.bound(dated(listing, ctx))


def dated(listing: Listing, ctx: ReadContext) -> Listing:
    """``listing`` with its entries dated as its source says (:func:`fields.dating`): by
    import, every entry and the listing take the run's day; by listing, every entry takes
    the listing's date (when it has one); by publication, nothing changes. The dating
    used is left in ``listing.dating``."""
    how = listing.dating = fields.dating(ctx, listing)
    day = ctx.today if how == "import" else listing.date if how == "listing" else None
    if day is None:
        return listing
    listing.entries = [
        e if e.date == day else dataclasses.replace(e, date=day) for e in listing.entries
    ]
    listing.date = day
    return listing


def load(path: Path, name: str) -> tuple[bytes | None, Problem | None]:
    """A listing file's bytes, or the problem that kept them from being read (a file
    over :data:`MAX_LISTING_BYTES` is not read at all)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_LISTING_BYTES + 1)
    except OSError as err:
        return None, Problem(name, None, f"cannot read: {err.strerror or err}")
    if len(data) > MAX_LISTING_BYTES:
        limit = MAX_LISTING_BYTES // (1024 * 1024)
        return None, Problem(name, None, f"larger than {limit} MiB: not a listing (skipped)")
    return data, None


def read_file(path: Path, ctx: ReadContext, fmt: str = "auto") -> Listing:
    """Parse one listing file; an unreadable file becomes a problem, not an exception."""
    name = listing_name(path)
    data, problem = load(path, name)
    if data is None:
        problems = [problem] if problem is not None else []
        return Listing(name=name, format="unreadable", date=None, problems=problems)
    return read_bytes(data, name, ctx, fmt)
