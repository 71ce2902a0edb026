"""One paper on a week page: Paper -> the text its templates show, built in one call.

Input: a :class:`~digest.models.Paper` (with its sightings). Output: :class:`PaperHTML`
(``html_fields``), :class:`PaperMarkdown` (``md_fields``) and :class:`ListingRow` rows
(``listings``), the same text the filters of :mod:`digest.filters` give.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

from digest.filters import (
    linkify,
    md_escape,
    md_text,
    md_url,
    plural,
    safe_url,
    split_abstract,
)
from digest.latex import readable
from digest.models import Paper, Sighting
from digest.preview import LEAD, SLACK, split


@dataclass(frozen=True, slots=True)
class ListingRow:
    """One listing a paper was seen in (several entries of one listing count once)."""

    name: str
    """Listing file name."""
    date: str
    """The listing's date, ISO format."""
    entries: int
    """How many entries of this listing were this paper (usually 1)."""


def listings(sightings: Sequence[Sighting]) -> list[ListingRow]:
    """A paper's provenance, one row per listing, oldest first."""
    if len(sightings) == 1:  # the usual case
        only = sightings[0]
        return [ListingRow(only.listing, only.date.isoformat(), 1)]
    rows: dict[tuple[str, str], int] = {}
    for s in sightings:
        key = (s.date.isoformat(), s.listing)
        rows[key] = rows.get(key, 0) + 1
    return [ListingRow(name, date, n) for (date, name), n in sorted(rows.items())]


# --- Markdown -----------------------------------------------------------------------------


# --- One paper on a week page -------------------------------------------------------------
# A week page shows thousands of papers, so the per-paper templates take their text from
# one call each (``html_fields``, ``md_fields``) instead of a dozen filters and loops: the
# same text as those filters give, built in Python at a fraction of Jinja's cost.


@dataclass(slots=True)
class PaperHTML:
    """A paper's text for ``paper.html``: Markup where it is HTML, plain text otherwise
    (which the template escapes). Made once per paper and never changed (not frozen:
    a frozen dataclass costs several times more to make, thousands of times a page)."""

    url: str
    """The paper's link (:func:`safe_url`), or empty."""
    title: str
    """The title, LaTeX as Unicode."""
    authors: str
    """Author names joined by commas, LaTeX as Unicode."""
    lead: Markup
    """The preview: the sentence of the abstract that says what the paper does, or its
    first sentence (:func:`split_abstract`), :func:`linkify`-ed."""
    rest: Markup
    """The collapsed rest of the abstract (all of it but the preview, in order),
    :func:`linkify`-ed (empty when not split)."""
    rest_words: str
    """``N words`` of the rest."""
    tags: Markup
    """One ``<li>`` per tag."""
    first_seen: str
    """Date of the first sighting, ISO format."""
    seen: Markup
    """``N listings: <span class="listing">name</span> (date), ...``."""


def html_fields(paper: Paper) -> PaperHTML:
    """The ``html_fields`` filter: everything ``paper.html`` shows of ``paper``."""
    abstract = paper.abstract
    # A URL holds "://": a text without ":" has none (one scan, several times faster
    # than looking for "http").
    if (
        "$" in abstract
        or "\\" in abstract
        or "{" in abstract
        or "^" in abstract
        or "_" in abstract
        or (":" in abstract and "http" in abstract)
    ):
        lead, rest = split_abstract(abstract)
        lead_html, rest_html = linkify(lead), linkify(rest)
    else:
        # The usual abstract: no math, command, brace, script or URL, so nothing to keep
        # whole when splitting, nothing to convert, nothing to link: linkify() would only
        # escape.
        lead, rest = split(abstract) if len(abstract) > LEAD + SLACK else (abstract, "")
        lead_html, rest_html = escape(lead), escape(rest)
    authors = paper.authors
    return PaperHTML(
        url=safe_url(paper.url),
        title=readable(paper.title),
        authors=readable(", ".join(authors)) if authors else "",
        lead=lead_html,
        rest=rest_html,
        rest_words=plural(_word_count(rest), "word"),
        tags=_items(paper.tags),
        first_seen=paper.first_seen.isoformat(),
        seen=Markup(_seen(paper.sightings, _listing_html)),
    )


def _seen(sightings: Sequence[Sighting], listing: Callable[[str, str], str]) -> str:
    """``N listings: A (date), B (date, 2 entries)``: :func:`listings`, each listing as
    ``listing(name, ISO date)`` shows it, up to its closing parenthesis."""
    if len(sightings) == 1:  # the usual case
        only = sightings[0]
        return f"1 listing: {listing(only.listing, only.date.isoformat())})"
    rows = listings(sightings)
    shown = ", ".join(
        listing(row.name, row.date) + (f", {row.entries} entries)" if row.entries > 1 else ")")
        for row in rows
    )
    return f"{plural(len(rows), 'listing')}: {shown}"


# Listing names and dates repeat across papers (a listing holds hundreds): each one's
# text is made once.


@lru_cache(maxsize=4096)
def _listing_html(name: str, date: str) -> str:
    """``<span class="listing">NAME</span> (DATE`` (the ISO date needs no escaping)."""
    return f'<span class="listing">{escape(name)}</span> ({date}'


@lru_cache(maxsize=4096)
def _listing_md(name: str, date: str) -> str:
    """``NAME (DATE``, the name Markdown-escaped (:func:`md_escape`): a file name, not
    listing text, so never read as LaTeX (``shown_name`` writes ``\\u202e``, not a breve)."""
    return f"{md_escape(name)} ({date}"


def _items(texts: Sequence[str]) -> Markup:
    """One escaped ``<li>`` per text."""
    if not texts:
        return Markup()
    plain = "".join(texts)
    # The characters markupsafe.escape replaces (one scan each; rare: escape text by text).
    if "&" in plain or "<" in plain or ">" in plain or "'" in plain or '"' in plain:
        texts = [str(escape(text)) for text in texts]
    return Markup(f"<li>{'</li><li>'.join(texts)}</li>")


def _word_count(text: str) -> int:
    """``len(text.split())``, without building the list for ordinary text."""
    # In ASCII text without the other whitespace characters or double spaces, the words
    # are what single spaces separate.
    if (
        text.isascii()
        and "  " not in text
        and not any(char in text for char in _ASCII_SPACE_OTHER)
        and not text.startswith(" ")
    ):
        return text.count(" ") + 1 - text.endswith(" ") if text else 0
    return len(text.split())


_ASCII_SPACE_OTHER = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
"""ASCII characters other than the space that :meth:`str.split` splits at."""


@dataclass(slots=True)
class PaperMarkdown:
    """A paper's text for ``week.md``, each field already Markdown (:func:`md_text`).
    Made once per paper and never changed (not frozen, as :class:`PaperHTML`)."""

    url: str
    """An autolink to the paper (:func:`md_url`), or empty."""
    title: str
    """The title."""
    authors: str
    """Author names joined by commas."""
    abstract: str
    """The whole abstract."""
    lead: str
    """The preview (the sentence that says what the paper does, see
    :mod:`digest.preview`), or the whole abstract when it is short."""
    rest: str
    """The rest of the abstract (empty when the preview is all of it)."""
    tags: str
    """Tags joined by commas."""
    source_id: str
    """The source identifier, or empty."""
    first_seen: str
    """Date of the first sighting, ISO format."""
    seen: str
    """``N listings: name (date), ...``."""


def md_fields(paper: Paper) -> PaperMarkdown:
    """The ``md_fields`` filter: everything ``week.md`` shows of ``paper``."""
    authors, tags, source_id = paper.authors, paper.tags, paper.source_id
    lead, rest = split_abstract(paper.abstract)
    return PaperMarkdown(
        url=md_url(paper.url) if paper.url else "",
        title=md_text(paper.title),
        authors=md_text(", ".join(authors)) if authors else "",
        abstract=md_text(paper.abstract),
        lead=md_text(lead),
        rest=md_text(rest) if rest else "",
        tags=md_text(", ".join(tags)) if tags else "",
        source_id=md_text(source_id) if source_id else "",
        first_seen=paper.first_seen.isoformat(),
        seen=_seen(paper.sightings, _listing_md),
    )
