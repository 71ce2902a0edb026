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

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from digest.errors import Problem
from digest.models import Listing
from digest.sources import arxiv_api, arxiv_rss, csv_reader, hf_json, jsonl, textdump


@dataclass(frozen=True, slots=True)
class ReadContext:
    """What a reader needs besides the text."""

    today: dt.date
    """The run's date; a listing date without a year is the latest such date not after it."""
    year: int | None = None
    """An explicit year for dates without one (feed.yaml ``year``); wins over inference."""
    timezone: str = "UTC"
    """IANA zone in which timestamps are turned into listing dates."""


Reader = Callable[[str, str, ReadContext], Listing]

READERS: list[ModuleType] = [arxiv_rss, arxiv_api, hf_json, jsonl, csv_reader, textdump]
"""Reader modules in detection order."""


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
    return listing


def read_file(path: Path, ctx: ReadContext, fmt: str = "auto") -> Listing:
    """Parse one listing file; an unreadable file becomes a problem, not an exception."""
    try:
        data = path.read_bytes()
    except OSError as err:
        return Listing(
            name=path.name,
            format="unreadable",
            date=None,
            problems=[Problem(path.name, None, f"cannot read: {err.strerror or err}")],
        )
    return read_bytes(data, path.name, ctx, fmt)
