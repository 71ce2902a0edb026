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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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
    """Drop trailing punctuation and unbalanced closing brackets (``(see https://x.org).``)."""
    pairs = {")": "(", "]": "["}
    while url and (
        url[-1] in _TRAILING
        or (url[-1] in pairs and url.count(pairs[url[-1]]) < url.count(url[-1]))
    ):
        url = url[:-1]
    return url


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


_SAFE_URL = re.compile(r"^https?://[^\s<>\"'`\\{}|^]+$", re.IGNORECASE)


def safe_url(url: str | None) -> str:
    """``url`` when it is an http(s) URL without characters that could break out of an
    attribute or a Markdown autolink; otherwise the empty string."""
    return url if url and _SAFE_URL.match(url) else ""


def plural(count: int, word: str, many: str | None = None) -> str:
    """``3, "paper"`` -> ``3 papers``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


_SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s+(?=\S)")


def split_abstract(text: str, lead: int = 240, slack: int = 120) -> tuple[str, str]:
    """``(shown, rest)``: the first sentences (about ``lead`` characters) and the rest,
    which pages collapse. Short abstracts, or ones whose rest would be under ``slack``
    characters, are not split. Never splits inside inline math or a URL."""
    if len(text) <= lead + slack:
        return text, ""
    # Math and URLs are found once per text (most texts have neither).
    spans = _unsplittable(text)
    cut = 0
    for m in _SENTENCE_END.finditer(text):
        if m.end() > lead + slack // 2:
            break
        if _splittable(spans, m.end()):
            cut = m.end()
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


@dataclass(frozen=True, slots=True)
class PaperHTML:
    """A paper's text for ``paper.html``: Markup where it is HTML, plain text otherwise
    (which the template escapes)."""

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
    lead, rest = split_abstract(paper.abstract)
    rows = listings(paper.sightings)
    shown = ", ".join(
        f'<span class="listing">{escape(row.name)}</span> ({escape(row.date)}'
        + (f", {row.entries} entries)" if row.entries > 1 else ")")
        for row in rows
    )
    return PaperHTML(
        url=safe_url(paper.url),
        title=to_unicode(paper.title),
        authors=to_unicode(", ".join(paper.authors)),
        lead=linkify(lead) if lead else Markup(),
        rest=linkify(rest) if rest else Markup(),
        rest_words=plural(_word_count(rest), "word"),
        tags=_items(paper.tags),
        first_seen=paper.first_seen.isoformat(),
        seen=Markup(f"{plural(len(rows), 'listing')}: {shown}"),
    )


def _items(texts: Sequence[str]) -> Markup:
    """One escaped ``<li>`` per text."""
    if not texts:
        return Markup()
    plain = "".join(texts)
    if any(char in plain for char in _HTML_SPECIAL):  # rare: escape text by text
        texts = [str(escape(text)) for text in texts]
    return Markup(f"<li>{'</li><li>'.join(texts)}</li>")


_HTML_SPECIAL = "&<>'\""
"""The characters :func:`markupsafe.escape` replaces."""


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


@dataclass(frozen=True, slots=True)
class PaperMarkdown:
    """A paper's text for ``week.md``, each field already Markdown (:func:`md_text`)."""

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
    rows = listings(paper.sightings)
    shown = ", ".join(
        f"{md_text(row.name)} ({row.date}"
        + (f", {row.entries} entries)" if row.entries > 1 else ")")
        for row in rows
    )
    return PaperMarkdown(
        url=md_url(paper.url),
        title=md_text(paper.title),
        authors=md_text(", ".join(paper.authors)),
        abstract=md_text(paper.abstract),
        tags=md_text(", ".join(paper.tags)),
        source_id=md_text(paper.source_id) if paper.source_id else "",
        first_seen=paper.first_seen.isoformat(),
        seen=f"{plural(len(rows), 'listing')}: {shown}",
    )
