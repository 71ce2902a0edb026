"""The data that flows between pipeline stages.

Input: nothing. Output: plain, typed dataclasses. No stage passes dicts of
unknown shape to another; every field says what it holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from digest.errors import Problem

LINK_KINDS = ("abs", "pdf", "doi", "hf", "code", "project")
"""Kinds of link a source may give besides the paper's main ``url``: the arXiv abstract
page, the PDF, the DOI resolver, the Hugging Face paper page, the code repository and the
project page (always http or https)."""


@dataclass(slots=True, frozen=True)
class Signals:
    """What a source says of a paper's reception (Hugging Face daily papers), kept for
    ranking and display; the latest sighting that carries them wins."""

    upvotes: int | None = None
    """Up-votes on the source's page (``paper.upvotes``)."""
    comments: int | None = None
    """Comments on the source's page (``numComments``)."""
    summary: str = ""
    """A one-sentence summary written by the source (``paper.ai_summary``), not the abstract."""
    keywords: tuple[str, ...] = ()
    """Keywords the source gives (``paper.ai_keywords``)."""

    def as_dict(self) -> dict[str, Any]:
        """The signals given, as JSON values (what the store keeps and the export shows)."""
        out: dict[str, Any] = {}
        if self.upvotes is not None:
            out["upvotes"] = self.upvotes
        if self.comments is not None:
            out["comments"] = self.comments
        if self.summary:
            out["summary"] = self.summary
        if self.keywords:
            out["keywords"] = list(self.keywords)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signals | None:
        """The inverse of :meth:`as_dict` (None when nothing is given); unknown or
        mistyped values are left out."""
        up, comments = data.get("upvotes"), data.get("comments")
        summary, keywords = data.get("summary"), data.get("keywords")
        signals = cls(
            upvotes=up if isinstance(up, int) and not isinstance(up, bool) else None,
            comments=(
                comments if isinstance(comments, int) and not isinstance(comments, bool) else None
            ),
            summary=summary if isinstance(summary, str) else "",
            keywords=tuple(k for k in keywords if isinstance(k, str))
            if isinstance(keywords, list)
            else (),
        )
        return signals if signals.as_dict() else None


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
    links: tuple[tuple[str, str], ...] = ()
    """Further links as (kind, http(s) URL), kinds from :data:`LINK_KINDS`, each at most once."""
    signals: Signals | None = None
    """The source's reception signals, when it has any."""
    ids: tuple[str, ...] = ()
    """Further source identifiers of the same paper (a journal ``doi:...`` of an arXiv
    paper): the store indexes them, so a sighting that has only one of them finds it."""

    def __reduce__(self) -> tuple[type[Entry], tuple[Any, ...]]:
        # Pickled as constructor arguments: a worker process sends every entry it
        # parsed, and the default for frozen slotted classes (a setattr per field,
        # looked up per object) costs the receiving process 5x more.
        return Entry, (
            self.title, self.abstract, self.listing, self.date, self.position, self.line,
            self.source_id, self.version, self.url, self.authors, self.announce, self.links,
            self.signals, self.ids,
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
    dating: str = "published"
    """How its entries are dated: as a reader leaves it, the default unless the source's
    ``date`` option says otherwise -- ``published`` (each entry's own date, as the reader
    reads it) or ``import`` (the day of the run: query results and library exports);
    once read (:func:`digest.sources.dated`), the dating used, ``listing`` included."""


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
    links: dict[str, str] = field(default_factory=dict)
    """Further links by kind (:data:`LINK_KINDS`), from every sighting (the latest wins)."""
    signals: Signals | None = None
    """Reception signals of the latest sighting that had any."""
    versions: tuple[int, ...] = ()
    """Source versions seen (arXiv ``v1``, ``v2``...), ascending."""
    score: float | None = None
    """Its rule score as tagged (see :func:`digest.tag.rule_score`); None when tagged
    by a version that did not keep it."""
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
    """Papers in display order: most relevant first (:func:`digest.grouping.relevance_key`)."""

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
    picks: list[Paper] = field(default_factory=list)
    """The strongest papers across the sections, strongest first ("Top picks"; each is
    also in its section). See :func:`digest.grouping.relevance_key`."""
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
