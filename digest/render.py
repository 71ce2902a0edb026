"""Jinja2 rendering of week pages, the archive and plain text: WeekDigest -> text.

Input: :class:`~digest.models.WeekDigest` values and the feed config. Output:
strings (Markdown, HTML, feed item bodies). The environment searches the
user's template folder first, then the packaged defaults; ``!default/week.html``
always names the packaged one, so an override can
``{% extends "!default/week.html" %}``. HTML and XML templates are
autoescaped; Markdown and text templates are not, and listing text goes
through :func:`md_escape` there instead. Undefined variables are errors
(StrictUndefined), never silent blanks.

Filters: ``text`` (LaTeX shown as Unicode), ``linkify`` (escaped HTML with
http(s) URLs linked), ``md`` (:func:`md_text`: math kept, the rest
Markdown-escaped), ``md_url`` (a Markdown autolink or nothing), ``safe_url``
(an http(s) URL or empty), ``plural``, ``split_abstract`` (the visible lead
and the collapsed rest) and ``listings`` (a paper's sightings, one row per
listing). The week page templates take a paper's text from one call instead:
``html_fields`` (:class:`PaperHTML`) and ``md_fields`` (:class:`PaperMarkdown`),
the same text those filters give, since a page holds thousands of papers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from digest.latex import MATH, to_unicode
from digest.models import Paper, Sighting

Environment = jinja2.Environment

# The packaged templates: installed, they are digest/templates (the wheel maps the
# top-level templates/ folder there); in a source checkout or an editable install,
# the top-level templates/ folder itself.
_HERE = Path(__file__).resolve().parent
_TEMPLATE_DIRS = (_HERE / "templates", _HERE.parent / "templates")


def week_url(base_url: str, formats: Sequence[str], week: str) -> str:
    """Absolute URL of a week's page (the site root when no HTML is published), as feeds
    and email link to it."""
    return f"{base_url}{week}.html" if "html" in formats else base_url


def default_template_dir() -> Path:
    """Folder of the packaged default templates."""
    for folder in _TEMPLATE_DIRS:
        if (folder / "week.html").is_file():
            return folder
    return _TEMPLATE_DIRS[-1]


def environment(user_dir: Path | None = None) -> jinja2.Environment:
    """A Jinja2 environment: user folder first, then defaults, ``!default/`` prefix."""
    default = jinja2.FileSystemLoader(str(default_template_dir()))
    loaders: list[jinja2.BaseLoader] = []
    if user_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(user_dir)))
    loaders.append(jinja2.PrefixLoader({"!default": default}, delimiter="/"))
    loaders.append(default)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "xml", "svg"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        md=md_text,
        md_url=md_url,
        text=readable,
        linkify=linkify,
        safe_url=safe_url,
        plural=plural,
        split_abstract=split_abstract,
        listings=listings,
        html_fields=html_fields,
        md_fields=md_fields,
    )
    return env


def render(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Render template ``name`` with ``context``."""
    return env.get_template(name).render(**context)


# --- HTML, feeds, email -------------------------------------------------------------------


def readable(text: str) -> str:
    """Listing text for HTML, feeds and email: LaTeX shown as Unicode."""
    return to_unicode(text)


# RFC 3986 characters only: braces, backslashes, quotes and non-ASCII end a URL (listings
# hold LaTeX like ``\url{https://...}`` and ``\href{https://a}{b}``).
_URL = re.compile(r"\bhttps?://[A-Za-z0-9\-._~:/?#@!$&*+,;=%()\[\]]+")
_TRAILING = ".,;:!?*"


def _urls(text: str) -> Iterator[re.Match[str]]:
    """``_URL.finditer(text)``, several times faster: a match can only start where
    ``http`` does, and the pattern's leading ``\\b`` keeps the regex engine from
    skipping ahead to those places by itself."""
    at = text.find("http")
    while at >= 0:
        m = _URL.match(text, at)
        if m:
            yield m
            at = text.find("http", m.end())
        else:
            at = text.find("http", at + 1)


def _trim_url(url: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets (``(see https://x.org).``).

    Linear in ``len(url)``: the brackets are counted once and the counts kept as the end
    moves left (counting again per dropped character was quadratic on ``x.org))))...``)."""
    opens = {")": url.count("("), "]": url.count("[")}
    closes = {")": url.count(")"), "]": url.count("]")}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _TRAILING:
            end -= 1
        elif last in closes and opens[last] < closes[last]:
            closes[last] -= 1
            end -= 1
        else:
            break
    return url[:end]


def linkify(text: str) -> Markup:
    """Escaped HTML of ``text`` (LaTeX as Unicode) with http(s) URLs as links; no other
    scheme ever becomes a link."""
    text = readable(text)
    if "http" not in text:  # no URL can match: the common case
        return escape(text)
    parts: list[str] = []
    last = 0
    for m in _urls(text):
        url = _trim_url(m.group(0))
        if "://" not in url or url.endswith("://"):
            continue
        parts.append(str(escape(text[last : m.start()])))
        href = escape(url)
        parts.append(f'<a href="{href}" rel="nofollow noopener">{href}</a>')
        last = m.start() + len(url)
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))


_SAFE_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f-\x9f<>\"'`\\{}|^]+$", re.IGNORECASE)


def safe_url(url: str | None) -> str:
    """``url`` when it is an http(s) URL without characters that could break out of an
    attribute or a Markdown autolink, nor any control character (CR, LF, ESC, ...);
    otherwise the empty string."""
    return url if url and _SAFE_URL.match(url) else ""


def plural(count: int, word: str, many: str | None = None) -> str:
    """``3, "paper"`` -> ``3 papers``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


_SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s+(?=\S)")
# The last sentence end of a text: ``.*`` runs to the end and backs off to the last place
# where a sentence end matches (no sentence end overlaps another, so this is the last
# match of _SENTENCE_END).
_LAST_SENTENCE_END = re.compile(r"(?s:.*)[.!?][\"')\]]?\s+(?=\S)")


LEAD = 240
"""About how many characters of an abstract a page shows (:func:`split_abstract`)."""
SLACK = 120
"""How much longer than ``LEAD`` an abstract must be for a page to collapse part of it
(:func:`split_abstract`)."""


def split_abstract(text: str, lead: int = LEAD, slack: int = SLACK) -> tuple[str, str]:
    """``(shown, rest)``: the first sentences (about ``lead`` characters) and the rest,
    which pages collapse. Short abstracts, or ones whose rest would be under ``slack``
    characters, are not split. Never splits inside inline math or a URL."""
    if len(text) <= lead + slack:
        return text, ""
    # Math and URLs are found once per text (most texts have neither).
    return _split(text, _unsplittable(text), lead, slack)


def _split(
    text: str, spans: list[tuple[int, int]], lead: int = LEAD, slack: int = SLACK
) -> tuple[str, str]:
    """:func:`split_abstract` of a text longer than ``lead + slack`` whose unsplittable
    spans are ``spans``."""
    limit = lead + slack // 2
    if spans:
        cut = 0
        for m in _SENTENCE_END.finditer(text):
            if m.end() > limit:
                break
            if _splittable(spans, m.end()):
                cut = m.end()
    else:
        # The last sentence end at or before ``limit``: matching the text as if it
        # ended after ``limit``, no sentence end that ends beyond it can match (its
        # ``(?=\S)`` would look past the end), and the others match as they would.
        last = _LAST_SENTENCE_END.match(text, 0, limit + 1)
        cut = last.end() if last else 0
    if cut < lead // 3:
        # No sentence end near the lead: cut at the last space before it instead.
        cut = 0
        i = text.rfind(" ", 1, lead + 1)
        while i > 0:
            if _splittable(spans, i + 1):
                cut = i + 1
                break
            i = text.rfind(" ", 1, i)
    if cut == 0 or len(text) - cut < slack // 2:
        return text, ""
    return text[:cut].rstrip(), text[cut:].lstrip()


def _unsplittable(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that a split must not fall inside: inline math and URLs."""
    spans = [m.span() for m in MATH.finditer(text)] if "$" in text else []
    if "http" in text:  # rare: no URL can start elsewhere
        spans.extend(m.span() for m in _urls(text))
    return spans


def _splittable(spans: list[tuple[int, int]], at: int) -> bool:
    return not any(start < at < end for start, end in spans)


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

_ASCII_PUNCT = r"!-/:-@\[-`{-~"
# Outside math: every character that can open or close an inline construct anywhere in
# a line (emphasis, code, links, images, autolinks, raw HTML, entities, tables,
# strikethrough, an ATX closing sequence, math delimiters), and a backslash that would
# otherwise escape the character after it. Letters, digits, quotes, dots and
# parentheses are left alone so the Markdown stays readable.
_MD_INLINE = "`*_[]<>&|~#$"
# Inside math: the same, minus ``$`` (which cannot occur there): ``\alpha`` is no
# escape in CommonMark and stays as it is, so math-aware renderers see the LaTeX.
_MD_MATH = "`*_[]<>&|~#"
_MD_BACKSLASH = re.compile(rf"\\(?=[{_ASCII_PUNCT}]|$)")
# What starts a block when it opens a line: list markers, a setext/thematic dash, an
# ordered-list number (``1.``/``1)``) and a blockquote (``>`` is escaped anyway).
_MD_START = re.compile(r"^(?:([-+=])|(\d{1,9})([.)]))")
_BLANKS = re.compile(r"[ \t\r\n]+")


def _md_chars(text: str, chars: str) -> str:
    """Backslash-escape ``chars`` and the backslashes that would escape something.

    One ``str.replace`` per character present: each scan is a C loop, many times
    faster than a regex substitution over the whole text. Backslashes go first, so
    the ones added for ``chars`` are not escaped again."""
    if "\\" in text:
        text = _MD_BACKSLASH.sub(r"\\\\", text)
    for char in chars:
        if char in text:
            text = text.replace(char, "\\" + char)
    return text


def md_escape(text: str) -> str:
    """Listing text for Markdown: nothing in it can become markup.

    Inline math (``$\\alpha$``) stays math; the characters inside it that could still
    start markup are escaped. Elsewhere every Markdown-significant character is
    backslash-escaped, and a line-starting list marker or number is too. Runs of
    spaces, tabs and line breaks become one space (a title is one line of a heading).
    Rendered by a CommonMark renderer the result is exactly ``text`` (with its
    whitespace collapsed), math included.
    """
    if "\t" in text or "\r" in text or "\n" in text or "  " in text:
        text = _BLANKS.sub(" ", text)
    text = text.strip(" ")
    if "$" in text:
        out: list[str] = []
        last = 0
        for m in MATH.finditer(text):
            out.append(_md_chars(text[last : m.start()], _MD_INLINE))
            out.append("$" + _md_chars(m.group(1), _MD_MATH) + "$")
            last = m.end()
        out.append(_md_chars(text[last:], _MD_INLINE))
        text = "".join(out)
    else:
        text = _md_chars(text, _MD_INLINE)
    start = _MD_START.match(text)
    if start is None:
        return text
    mark = f"\\{start[1]}" if start[1] else f"{start[2]}\\{start[3]}"
    return mark + text[start.end() :]


def md_text(text: str) -> str:
    """The ``md`` filter: LaTeX text commands outside math (``\\textbf{X}``, ``\\%``) as
    Unicode, math kept as math, then :func:`md_escape`."""
    if "$" not in text and "\\" not in text:  # no math, no commands: nothing to convert
        return md_escape(text)
    parts: list[str] = []
    last = 0
    for m in MATH.finditer(text):
        parts.append(to_unicode(text[last : m.start()]))
        parts.append(m.group(0))
        last = m.end()
    parts.append(to_unicode(text[last:]))
    return md_escape("".join(parts))


def md_url(url: str | None) -> str:
    """A CommonMark autolink ``<url>`` for an http(s) URL, or the empty string."""
    safe = safe_url(url)
    return f"<{safe}>" if safe else ""


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
    """The visible part of the abstract (:func:`split_abstract`), :func:`linkify`-ed."""
    rest: Markup
    """The collapsed rest of the abstract, :func:`linkify`-ed (empty when not split)."""
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
    if "$" in abstract or "\\" in abstract or (":" in abstract and "http" in abstract):
        lead, rest = split_abstract(abstract)
        lead_html, rest_html = linkify(lead), linkify(rest)
    else:
        # The usual abstract: no math, command or URL, so nothing to keep whole when
        # splitting, nothing to convert, nothing to link: linkify() would only escape.
        lead, rest = _split(abstract, []) if len(abstract) > LEAD + SLACK else (abstract, "")
        lead_html, rest_html = escape(lead), escape(rest)
    authors = paper.authors
    return PaperHTML(
        url=safe_url(paper.url),
        title=to_unicode(paper.title),
        authors=to_unicode(", ".join(authors)) if authors else "",
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
    """``NAME (DATE``, the name Markdown-escaped (:func:`md_text`)."""
    return f"{md_text(name)} ({date}"


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
    return PaperMarkdown(
        url=md_url(paper.url) if paper.url else "",
        title=md_text(paper.title),
        authors=md_text(", ".join(authors)) if authors else "",
        abstract=md_text(paper.abstract),
        tags=md_text(", ".join(tags)) if tags else "",
        source_id=md_text(source_id) if source_id else "",
        first_seen=paper.first_seen.isoformat(),
        seen=_seen(paper.sightings, _listing_md),
    )
