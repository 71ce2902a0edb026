"""The data that flows between pipeline stages.

Input: nothing. Output: plain, typed dataclasses. No stage passes dicts of
unknown shape to another; every field says what it holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from digest.errors import Problem


@dataclass(slots=True, frozen=True)
class Entry:
    """One sighting of a paper: one entry in one listing."""

    title: str
    """The title as the listing gives it (whitespace collapsed, nothing else changed)."""
    abstract: str
    """The abstract as the listing gives it (whitespace collapsed)."""
    listing: str
    """File name of the listing (no folder), the provenance users see."""
    date: dt.date
    """The listing's date (the day the paper was announced in it)."""
    position: int
    """0-based index of the entry within its listing."""
    line: int = 0
    """1-based line of the title in the listing file (0 if not from a file)."""
    source_id: str | None = None
    """A source identifier when the listing carries one: ``arxiv:2403.01234`` (no version) or
    ``doi:10.1000/xyz``."""
    version: int | None = None
    """The source's version number (arXiv ``v2``), when known."""
    url: str | None = None
    """A link to the paper, when the listing has one (http or https only)."""
    authors: tuple[str, ...] = ()
    """Author names, when the listing has them."""
    announce: str | None = None
    """How the source announced it (arXiv ``new``, ``cross``, ``replace``), when known."""

    def __reduce__(self) -> tuple[type[Entry], tuple[Any, ...]]:
        # Pickled as constructor arguments: a worker process sends every entry it
        # parsed, and the default for frozen slotted classes (a setattr per field,
        # looked up per object) costs the receiving process 5x more.
        return Entry, (
            self.title, self.abstract, self.listing, self.date, self.position, self.line,
            self.source_id, self.version, self.url, self.authors, self.announce,
        )  # fmt: skip


@dataclass(slots=True, frozen=True)
class EntryKeys:
    """An entry's identity keys, computed ahead of resolution (in a worker process when
    the run is large; see :func:`digest.identity.keys.entry_keys`)."""

    title: str
    """:func:`digest.normalize.title_key` of the title."""
    blocks: tuple[str, ...]
    """:func:`digest.identity.keys.block_keys` of title and abstract (empty when near-duplicate
    matching is off)."""
    text: str
    """:func:`digest.normalize.text_hash` of title and abstract."""

    def __reduce__(self) -> tuple[type[EntryKeys], tuple[Any, ...]]:
        return EntryKeys, (self.title, self.blocks, self.text)  # see Entry.__reduce__


@dataclass(slots=True)
class Listing:
    """One listing file, parsed: its entries and what was wrong in it."""

    name: str
    """File name (no folder)."""
    format: str
    """The reader that parsed it (``textdump``, ``arxiv-rss``, ...)."""
    date: dt.date | None
    """The listing's own date when it has one."""
    entries: list[Entry] = field(default_factory=list)
    """Entries in file order; ``position`` is the index in this list."""
    problems: list[Problem] = field(default_factory=list)
    """Everything malformed; entries around a problem still count."""


@dataclass(slots=True, frozen=True)
class Sighting:
    """Where and when a stored paper was seen (provenance)."""

    listing: str
    """Listing file name."""
    date: dt.date
    """Listing date."""
    position: int
    """0-based entry index in that listing."""
    rule: str = "new"
    """Why this sighting belongs to its paper: ``new``, ``source-id``, ``title``, ``fuzzy``,
    ``forced``."""
    score: float = 1.0
    """The match score behind ``rule`` (1.0 for exact rules)."""


@dataclass(slots=True)
class Paper:
    """One distinct paper, as the outputs show it."""

    id: str
    """Stable identifier (never changes once assigned)."""
    title: str
    """Newest version's title."""
    abstract: str
    """Newest version's abstract."""
    first_seen: dt.date
    """Date of the earliest sighting; decides the paper's week."""
    week: str
    """ISO week of ``first_seen``, like ``2025-W11``."""
    tags: tuple[str, ...] = ()
    """Tags whose rules matched, in configuration order."""
    theme: str = ""
    """The one primary theme (or the catch-all section)."""
    sightings: tuple[Sighting, ...] = ()
    """Every sighting, oldest first."""
    url: str | None = None
    """Link to the paper, when a source gave one."""
    source_id: str | None = None
    """Source identifier (``arxiv:...``), when known."""
    authors: tuple[str, ...] = ()
    """Author names, when known."""
    comment: str = ""
    """The curator's comment on the paper (``curation.yaml``), shown on its card."""
    pinned: bool = False
    """The curator pinned it: it belongs in the week's top picks."""
    hidden: bool = False
    """The curator hid it: out of the pages, email and feeds (still stored and exported)."""


@dataclass(slots=True, frozen=True)
class Note:
    """An editor's note on a week (``notes/YYYY-Www.md``), rendered."""

    html: str
    """HTML (no raw HTML of the source; links and images http(s) only)."""
    text: str
    """Plain text, links written out (the email's text part)."""
    markdown: str
    """Markdown made again from the parsed note (every text escaped; for ``W.md``)."""


@dataclass(slots=True)
class ThemeSection:
    """The papers of one theme in one week."""

    name: str
    """Theme name as configured (or the catch-all name)."""
    slug: str
    """Anchor id for the section, unique within the page."""
    papers: list[Paper]
    """Papers in display order (first seen, then title)."""

    @property
    def count(self) -> int:
        """Number of papers in the section."""
        return len(self.papers)


@dataclass(slots=True)
class WeekDigest:
    """Everything one weekly issue shows."""

    week: str
    """ISO week, like ``2025-W11``."""
    start: dt.date
    """Monday of the week."""
    end: dt.date
    """Sunday of the week."""
    sections: list[ThemeSection]
    """Non-empty theme sections in configured theme order, catch-all last."""
    editor_note: Note | None = None
    """The curator's note that opens the issue, when there is one."""

    @property
    def count(self) -> int:
        """Number of papers in the issue."""
        return sum(len(s.papers) for s in self.sections)

    @property
    def updated(self) -> dt.date:
        """Latest first-seen date in the week: changes only when the content grows."""
        return max((p.first_seen for s in self.sections for p in s.papers), default=self.start)


@dataclass(slots=True, frozen=True)
class SectionSummary:
    """A theme section reduced to its count (for the archive and the trend chart)."""

    name: str
    slug: str
    count: int


@dataclass(slots=True, frozen=True)
class WeekSummary:
    """A week reduced to its section counts: what the archive and the trend charts need,
    kept in the store so that they never load a week's papers."""

    week: str
    start: dt.date
    end: dt.date
    sections: tuple[SectionSummary, ...]

    @property
    def count(self) -> int:
        """Number of papers in the week."""
        return sum(s.count for s in self.sections)
